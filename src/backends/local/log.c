/* The event log as files: partitions of segment files of CRC-framed records,
 * appended with group commit.
 *
 * Layout under the directory (docs/storage.md has the details):
 *   tnt-log            "tnt-log 1\npartitions N\n", fixed at creation
 *   lock               flock()ed while a handle has the log open
 *   p0000/ ... pNNNN/  one directory per partition
 *     00000000000000000000.log   segment, named by its first offset
 *     00000000000000000000.tix   time index of a sealed segment (derived data)
 *
 * A record: [u32 length][u32 crc][i64 time_ms][u16 key_len][key][value],
 * little-endian; length counts the bytes after the crc; the CRC-32 covers
 * the length field and those bytes.
 *
 * Concurrency: one mutex guards the queue and the segment lists. append()
 * encodes outside it and queues; flush() makes one caller the leader, which
 * takes the whole queue, writes and fdatasyncs every partition it touches,
 * commits, acknowledges, and wakes the followers, whose records it carried.
 * Only the leader writes files; readers map the committed prefix of a
 * segment and never wait for a write. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "local.h"

#define FRAME_HEAD 8              /* length + crc */
#define RECORD_FIXED 10           /* time + key length */
#define MAX_KEY 65535u
#define MAX_VALUE (16u << 20)     /* a record's value; events are a few KB */
#define BLOCK_BYTES (256u << 10)  /* granularity of the in-memory index */
#define DEFAULT_PARTITIONS 4
#define DEFAULT_SEGMENT_BYTES (64ull << 20)
#define META_NAME "tnt-log"
#define TIX_MAGIC "TNTTIX1\n"

/* A stretch of records: the first one's offset and byte position, and the
 * least and greatest record time in it (times are not monotonic). */
typedef struct block {
    int64_t first;
    uint64_t pos;
    int64_t tmin, tmax;
} block;

typedef struct segment {
    int64_t base;       /* offset of the first record; the file's name */
    int64_t count;      /* committed records */
    uint64_t size;      /* committed bytes */
    block *blocks;      /* the index; NULL until needed for a sealed segment */
    size_t nblocks, cap;
    bool indexed;
} segment;

typedef struct partition {
    char *dir;
    segment *segs;      /* by base; the last one is active; under mu */
    size_t nsegs, cap;
    int fd;             /* the active segment, written by the leader only */
} partition;

typedef struct prec {
    int part;
    int64_t offset;
    int64_t time;
    size_t pos, len;    /* the frame within the call's frames */
} prec;

/* One append() call waiting for a leader. */
typedef struct pending {
    struct pending *next;
    uint64_t seq;
    tnt_log_ack_fn ack;
    void *userdata;
    size_t n;
    prec *recs;
    unsigned char *frames;
} pending;

typedef struct local_log {
    tnt_log base;
    char *dir;
    int nparts;
    uint64_t segment_bytes;
    int lock_fd;
    partition *parts;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pending *head, *tail;        /* queued, not yet taken */
    uint64_t queued_seq;         /* seq of the last append() queued */
    uint64_t done_seq;           /* every append() up to here is acknowledged */
    bool leading;                /* a leader is writing or acknowledging */
    uint64_t fail_seq;           /* last batch that failed ended here */
    tnt_status fail_status;
    char fail_msg[256];
    tnt_status broken;           /* sticky: an fsync failed; reopen */
    uint64_t fsyncs, batches;
    /* The leader's fsyncs, shared out: waiting followers run some of them,
     * since the device completes concurrent flushes together. */
    const struct sync_job *jobs;
    size_t njobs, job_next, jobs_left;
    int job_err;
} local_log;

typedef struct sync_job {
    int fd;
    const char *dir;     /* also fsync this directory (a new segment in it) */
} sync_job;

static const tnt_log_methods log_methods;
static _Thread_local local_log *t_acking; /* the log whose acks this thread runs */

/* ---- records ---- */

static uint64_t fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static size_t frame_size(size_t key_len, size_t value_len) { return FRAME_HEAD + RECORD_FIXED + key_len + value_len; }

static void encode(unsigned char *f, const tnt_log_record *r)
{
    uint32_t len = (uint32_t)(RECORD_FIXED + r->key_len + r->value_len);
    tnt__put_u32(f, len);
    tnt__put_u64(f + 8, (uint64_t)r->time_ms);
    tnt__put_u16(f + 16, (uint16_t)r->key_len);
    if (r->key_len)
        memcpy(f + 18, r->key, r->key_len);
    if (r->value_len)
        memcpy(f + 18 + r->key_len, r->value, r->value_len);
    uint32_t crc = tnt__local_crc(0, f, 4);
    tnt__put_u32(f + 4, tnt__local_crc(crc, f + 8, len));
}

typedef struct frame {
    uint64_t size;      /* bytes of the whole frame */
    int64_t time;
    const unsigned char *key, *value;
    size_t key_len, value_len;
} frame;

enum { FRAME_OK, FRAME_SHORT, FRAME_BAD };

/* Decode the frame at p, with `avail` bytes readable there. */
static int decode(const unsigned char *p, uint64_t avail, frame *f)
{
    if (avail < FRAME_HEAD + RECORD_FIXED)
        return avail < FRAME_HEAD ? FRAME_SHORT : (tnt__get_u32(p) < RECORD_FIXED ? FRAME_BAD : FRAME_SHORT);
    uint32_t len = tnt__get_u32(p);
    if (len < RECORD_FIXED || len > RECORD_FIXED + MAX_KEY + MAX_VALUE)
        return FRAME_BAD;
    if (avail < FRAME_HEAD + (uint64_t)len)
        return FRAME_SHORT;
    uint32_t crc = tnt__local_crc(tnt__local_crc(0, p, 4), p + 8, len);
    if (crc != tnt__get_u32(p + 4))
        return FRAME_BAD;
    size_t key_len = tnt__get_u16(p + 16);
    if (RECORD_FIXED + key_len > len)
        return FRAME_BAD;
    f->size = FRAME_HEAD + (uint64_t)len;
    f->time = (int64_t)tnt__get_u64(p + 8);
    f->key = p + 18;
    f->key_len = key_len;
    f->value = p + 18 + key_len;
    f->value_len = len - RECORD_FIXED - key_len;
    return FRAME_OK;
}

/* ---- files ---- */

static char *seg_path(const partition *p, int64_t base, const char *ext)
{
    size_t n = strlen(p->dir) + 32;
    char *s = tnt__malloc(n);
    if (s)
        snprintf(s, n, "%s/%020lld.%s", p->dir, (long long)base, ext);
    return s;
}

/* A read-only view of the first `size` bytes of a file. */
typedef struct view {
    const unsigned char *data;
    uint64_t size;
} view;

static tnt_status view_open(view *v, const char *path, uint64_t size)
{
    v->data = NULL;
    v->size = size;
    if (size == 0)
        return TNT_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tnt__error(errno == ENOENT ? TNT_E_NOTFOUND : TNT_E_IO, "log: cannot open '%s': %s", path,
                          strerror(errno));
    void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    int err = errno;
    close(fd);
    if (m == MAP_FAILED)
        return tnt__error(TNT_E_IO, "log: cannot map '%s': %s", path, strerror(err));
    v->data = m;
    return TNT_OK;
}

static void view_close(view *v)
{
    if (v->data)
        munmap((void *)v->data, (size_t)v->size);
    v->data = NULL;
}

static bool blocks_push(block **b, size_t *n, size_t *cap, block x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        block *nb = tnt__realloc(*b, c * sizeof *nb);
        if (!nb)
            return false;
        *b = nb;
        *cap = c;
    }
    (*b)[(*n)++] = x;
    return true;
}

/* Extend an index by the record at pos. */
static bool index_add(block **b, size_t *n, size_t *cap, int64_t offset, uint64_t pos, int64_t time)
{
    block *last = *n ? &(*b)[*n - 1] : NULL;
    if (last && pos - last->pos < BLOCK_BYTES) {
        if (time < last->tmin)
            last->tmin = time;
        if (time > last->tmax)
            last->tmax = time;
        return true;
    }
    return blocks_push(b, n, cap, (block){offset, pos, time, time});
}

/* Scan a segment's bytes from the start, indexing them. Returns the byte
 * position where good records end and the record count. */
typedef struct scan_result {
    uint64_t good_end;
    int64_t count;
    int stop;           /* FRAME_OK (clean end), FRAME_SHORT or FRAME_BAD */
    block *blocks;
    size_t nblocks, cap;
} scan_result;

static tnt_status scan_segment(const view *v, int64_t base, scan_result *r)
{
    memset(r, 0, sizeof *r);
    uint64_t pos = 0;
    while (pos < v->size) {
        frame f;
        int rc = decode(v->data + pos, v->size - pos, &f);
        if (rc != FRAME_OK) {
            r->stop = rc;
            break;
        }
        if (!index_add(&r->blocks, &r->nblocks, &r->cap, base + r->count, pos, f.time))
            return tnt__error(TNT_E_NOMEM, "out of memory");
        r->count++;
        pos += f.size;
    }
    r->good_end = pos;
    return TNT_OK;
}

/* Is there a valid record after a bad or short one at pos? Damage with good
 * data after it is corruption, not a torn tail, and cutting it would delete
 * acknowledged records: a flipped length says "short" as readily as "bad".
 * The next record can start no further than one whole record after pos,
 * and a place is checked (its CRC computed) only when its length, time and
 * key length are plausible, with a budget of CRC bytes: a tail that spends
 * it is not known to be only torn, and is reported as corrupt too. */
static bool valid_record_after(const view *v, uint64_t pos, uint64_t *found)
{
    uint64_t last = pos + FRAME_HEAD + RECORD_FIXED + MAX_KEY + MAX_VALUE, budget = (uint64_t)256 << 20;
    for (uint64_t q = pos + 1; q + FRAME_HEAD + RECORD_FIXED <= v->size && q <= last; q++) {
        const unsigned char *h = v->data + q;
        uint32_t len = tnt__get_u32(h);
        int64_t t = (int64_t)tnt__get_u64(h + 8);
        if (len < RECORD_FIXED || len > RECORD_FIXED + MAX_KEY + MAX_VALUE || q + FRAME_HEAD + len > v->size ||
            t < -62135596800000LL || t > 253402300800000LL || RECORD_FIXED + (uint32_t)tnt__get_u16(h + 16) > len)
            continue; /* no record starts here: years 1 to 9999, and it fits */
        if (len > budget) {
            *found = q;
            return true;
        }
        budget -= len;
        frame f;
        if (decode(h, v->size - q, &f) == FRAME_OK) {
            *found = q;
            return true;
        }
    }
    return false;
}

/* ---- the time index file of a sealed segment ---- */

static void tix_write(const partition *p, const segment *s)
{
    char *path = seg_path(p, s->base, "tix"), *tmp = seg_path(p, s->base, "tix.tmp");
    size_t n = 32 + s->nblocks * 32 + 4;
    unsigned char *b = tnt__malloc(n);
    if (path && tmp && b) {
        memcpy(b, TIX_MAGIC, 8);
        tnt__put_u64(b + 8, s->size);
        tnt__put_u64(b + 16, (uint64_t)s->count);
        tnt__put_u64(b + 24, s->nblocks);
        for (size_t i = 0; i < s->nblocks; i++) {
            unsigned char *e = b + 32 + i * 32;
            tnt__put_u64(e, (uint64_t)s->blocks[i].first);
            tnt__put_u64(e + 8, s->blocks[i].pos);
            tnt__put_u64(e + 16, (uint64_t)s->blocks[i].tmin);
            tnt__put_u64(e + 24, (uint64_t)s->blocks[i].tmax);
        }
        tnt__put_u32(b + n - 4, tnt__local_crc(0, b, n - 4));
        /* Derived data: no fsync; a damaged index is rebuilt from the segment. */
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            bool ok = write(fd, b, n) == (ssize_t)n;
            close(fd);
            if (!ok || rename(tmp, path) != 0)
                unlink(tmp);
        }
    }
    tnt__free(b);
    tnt__free(tmp);
    tnt__free(path);
}

static bool tix_read(const partition *p, segment *s)
{
    char *path = seg_path(p, s->base, "tix");
    view v = {0};
    struct stat st;
    bool ok = false;
    if (path && stat(path, &st) == 0 && st.st_size >= 36 && view_open(&v, path, (uint64_t)st.st_size) == TNT_OK) {
        const unsigned char *b = v.data;
        uint64_t nb = tnt__get_u64(b + 24);
        ok = memcmp(b, TIX_MAGIC, 8) == 0 && tnt__get_u64(b + 8) == s->size &&
             tnt__get_u64(b + 16) == (uint64_t)s->count && nb == (v.size - 36) / 32 && v.size == 36 + nb * 32 &&
             tnt__get_u32(b + v.size - 4) == tnt__local_crc(0, b, v.size - 4);
        if (ok && nb)
            ok = (s->blocks = tnt__malloc(nb * sizeof *s->blocks)) != NULL;
        for (uint64_t i = 0; ok && i < nb; i++) {
            const unsigned char *e = b + 32 + i * 32;
            s->blocks[i] = (block){(int64_t)tnt__get_u64(e), tnt__get_u64(e + 8), (int64_t)tnt__get_u64(e + 16),
                                   (int64_t)tnt__get_u64(e + 24)};
        }
        if (ok)
            s->nblocks = s->cap = nb;
        view_close(&v);
    }
    tnt__free(path);
    return ok;
}

/* ---- segment lists (call with mu held) ---- */

static segment *seg_last(partition *p) { return &p->segs[p->nsegs - 1]; }
static int64_t part_end(partition *p) { return seg_last(p)->base + seg_last(p)->count; }

/* The segment holding offset (or the first one after it), by base. */
static size_t seg_find(const partition *p, int64_t offset)
{
    size_t lo = 0, hi = p->nsegs;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (p->segs[mid].base <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static segment *seg_by_base(partition *p, int64_t base)
{
    size_t i = seg_find(p, base);
    return p->segs[i].base == base ? &p->segs[i] : NULL;
}

static bool segs_push(partition *p, segment s)
{
    if (p->nsegs == p->cap) {
        size_t c = p->cap ? p->cap * 2 : 8;
        segment *ns = tnt__realloc(p->segs, c * sizeof *ns);
        if (!ns)
            return false;
        p->segs = ns;
        p->cap = c;
    }
    p->segs[p->nsegs++] = s;
    return true;
}

/* Make sure a sealed segment's index is loaded: from its .tix file, or by
 * scanning it (and writing the .tix). The I/O happens outside mu. */
static tnt_status ensure_index(local_log *l, partition *p, int64_t base)
{
    pthread_mutex_lock(&l->mu);
    segment *s = seg_by_base(p, base);
    if (!s || s->indexed) {
        pthread_mutex_unlock(&l->mu);
        return TNT_OK;
    }
    segment copy = {s->base, s->count, s->size, NULL, 0, 0, false};
    pthread_mutex_unlock(&l->mu);

    tnt_status rc = TNT_OK;
    if (!tix_read(p, &copy)) {
        char *path = seg_path(p, base, "log");
        view v;
        if (!path)
            return tnt__error(TNT_E_NOMEM, "out of memory");
        rc = view_open(&v, path, copy.size);
        if (rc == TNT_E_NOTFOUND) { /* truncated meanwhile */
            tnt__free(path);
            return TNT_OK;
        }
        scan_result r = {0};
        if (rc == TNT_OK) {
            rc = scan_segment(&v, base, &r);
            if (rc == TNT_OK && (r.stop != FRAME_OK || r.count != copy.count))
                rc = tnt__error(TNT_E_CORRUPT, "log: '%s' is corrupt at byte %llu (%s record)", path,
                                (unsigned long long)r.good_end, r.stop == FRAME_SHORT ? "truncated" : "bad");
            view_close(&v);
        }
        tnt__free(path);
        if (rc != TNT_OK) {
            tnt__free(r.blocks);
            return rc;
        }
        copy.blocks = r.blocks;
        copy.nblocks = r.nblocks;
        copy.cap = r.cap;
        tix_write(p, &copy);
    }
    pthread_mutex_lock(&l->mu);
    s = seg_by_base(p, base);
    if (s && !s->indexed) {
        s->blocks = copy.blocks;
        s->nblocks = copy.nblocks;
        s->cap = copy.cap;
        s->indexed = true;
        copy.blocks = NULL;
    }
    pthread_mutex_unlock(&l->mu);
    tnt__free(copy.blocks);
    return TNT_OK;
}

/* ---- open ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The bases of a partition's segment files, sorted. */
static tnt_status list_segments(const char *dir, int64_t **out, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (!d)
        return tnt__error(TNT_E_IO, "log: cannot read directory '%s': %s", dir, strerror(errno));
    int64_t *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    tnt_status rc = TNT_OK;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        if (strlen(name) != 24 || strcmp(name + 20, ".log") != 0 || strspn(name, "0123456789") != 20)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *nv = tnt__realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = tnt__error(TNT_E_NOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        v[n++] = strtoll(name, NULL, 10);
    }
    closedir(d);
    if (rc != TNT_OK) {
        tnt__free(v);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_i64);
    *out = v;
    *n_out = n;
    return TNT_OK;
}

static tnt_status create_segment(partition *p, int64_t base, int *fd_out)
{
    char *path = seg_path(p, base, "log");
    if (!path)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    tnt_status rc = TNT_OK;
    if (fd < 0)
        rc = tnt__error(TNT_E_IO, "log: cannot create '%s': %s", path, strerror(errno));
    tnt__free(path);
    *fd_out = fd;
    return rc;
}

/* Load a partition: every segment, and recover the last one's tail. */
static tnt_status open_partition(partition *p, tnt__buf *warnings)
{
    int err = tnt__local_mkdirs(p->dir);
    if (err)
        return tnt__error(TNT_E_IO, "log: cannot create '%s': %s", p->dir, strerror(err));
    int64_t *bases = NULL;
    size_t n = 0;
    tnt_status rc = list_segments(p->dir, &bases, &n);
    if (rc != TNT_OK)
        return rc;
    for (size_t i = 0; i < n && rc == TNT_OK; i++) {
        char *path = seg_path(p, bases[i], "log");
        struct stat st;
        if (!path)
            rc = tnt__error(TNT_E_NOMEM, "out of memory");
        else if (stat(path, &st) != 0)
            rc = tnt__error(TNT_E_IO, "log: cannot stat '%s': %s", path, strerror(errno));
        else if (!segs_push(p, (segment){bases[i], i + 1 < n ? bases[i + 1] - bases[i] : 0, (uint64_t)st.st_size,
                                         NULL, 0, 0, false}))
            rc = tnt__error(TNT_E_NOMEM, "out of memory");
        tnt__free(path);
    }
    tnt__free(bases);
    if (rc != TNT_OK)
        return rc;
    if (p->nsegs == 0) {
        if ((rc = create_segment(p, 0, &p->fd)) != TNT_OK)
            return rc;
        close(p->fd);
        p->fd = -1;
        if ((err = tnt__local_fsync_dir(p->dir)) != 0)
            return tnt__error(TNT_E_IO, "log: cannot sync '%s': %s", p->dir, strerror(err));
        if (!segs_push(p, (segment){0, 0, 0, NULL, 0, 0, false}))
            return tnt__error(TNT_E_NOMEM, "out of memory");
    }

    /* The active segment: scan it whole; a bad tail is cut off. */
    segment *s = seg_last(p);
    char *path = seg_path(p, s->base, "log");
    if (!path)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    view v;
    scan_result r = {0};
    rc = view_open(&v, path, s->size);
    if (rc == TNT_OK) {
        rc = scan_segment(&v, s->base, &r);
        uint64_t found;
        if (rc == TNT_OK && r.stop != FRAME_OK && valid_record_after(&v, r.good_end, &found))
            rc = tnt__error(TNT_E_CORRUPT,
                            "log: '%s' is corrupt at byte %llu (record %lld), with valid records after it at byte %llu",
                            path, (unsigned long long)r.good_end, (long long)(s->base + r.count),
                            (unsigned long long)found);
        view_close(&v);
    }
    if (rc == TNT_OK) {
        p->fd = open(path, O_WRONLY | O_CLOEXEC);
        if (p->fd < 0)
            rc = tnt__error(TNT_E_IO, "log: cannot open '%s' for writing: %s", path, strerror(errno));
    }
    if (rc == TNT_OK && r.good_end < s->size) {
        if (ftruncate(p->fd, (off_t)r.good_end) != 0 || fdatasync(p->fd) != 0) {
            rc = tnt__error(TNT_E_IO, "log: cannot truncate the torn tail of '%s': %s", path, strerror(errno));
        } else {
            if (warnings->len)
                tnt__buf_puts(warnings, "; ");
            tnt__buf_printf(warnings, "log: '%s': %s tail of %llu bytes at byte %llu truncated (after record %lld)",
                            path, r.stop == FRAME_SHORT ? "torn" : "corrupt",
                            (unsigned long long)(s->size - r.good_end), (unsigned long long)r.good_end,
                            (long long)(s->base + r.count - 1));
            s->size = r.good_end;
        }
    }
    tnt__free(path);
    if (rc != TNT_OK) {
        tnt__free(r.blocks);
        return rc;
    }
    s->count = r.count;
    s->blocks = r.blocks;
    s->nblocks = r.nblocks;
    s->cap = r.cap;
    s->indexed = true;
    return TNT_OK;
}

/* Read or create the metadata file; *nparts is the setting (0: not given). */
static tnt_status load_meta(const char *dir, int *nparts)
{
    size_t n = strlen(dir) + sizeof META_NAME + 8;
    char *path = tnt__malloc(n), *tmp = tnt__malloc(n);
    tnt_status rc = TNT_OK;
    if (!path || !tmp) {
        rc = tnt__error(TNT_E_NOMEM, "out of memory");
        goto out;
    }
    snprintf(path, n, "%s/%s", dir, META_NAME);
    snprintf(tmp, n, "%s/%s.tmp", dir, META_NAME);
    FILE *f = fopen(path, "r");
    if (f) {
        int version = 0, parts = 0;
        if (fscanf(f, "tnt-log %d partitions %d", &version, &parts) != 2 || version != 1 || parts < 1)
            rc = tnt__error(TNT_E_CORRUPT, "log: '%s' is not a tnt-log 1 metadata file", path);
        else if (*nparts && *nparts != parts)
            rc = tnt__error(TNT_E_INVALID, "log: '%s' has %d partitions; partitions=%d cannot change it", dir, parts,
                            *nparts);
        fclose(f);
        *nparts = parts;
        goto out;
    }
    if (errno != ENOENT) {
        rc = tnt__error(TNT_E_IO, "log: cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    /* The metadata is made durable before any partition exists: partitions
     * without it mean a damaged log, whose partition count is unknown. */
    snprintf(tmp, n, "%s/p0000", dir);
    struct stat st;
    if (stat(tmp, &st) == 0) {
        rc = tnt__error(TNT_E_CORRUPT, "log: '%s' has partitions but no %s file", dir, META_NAME);
        goto out;
    }
    snprintf(tmp, n, "%s/%s.tmp", dir, META_NAME);
    if (!*nparts)
        *nparts = DEFAULT_PARTITIONS;
    char text[64];
    int len = snprintf(text, sizeof text, "tnt-log 1\npartitions %d\n", *nparts);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = 0;
    if (fd < 0 || write(fd, text, (size_t)len) != len || fsync(fd) != 0)
        err = errno ? errno : EIO;
    if (fd >= 0)
        close(fd);
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (!err)
        err = tnt__local_fsync_dir(dir);
    if (err) {
        unlink(tmp);
        rc = tnt__error(TNT_E_IO, "log: cannot write '%s': %s", path, strerror(err));
    }
out:
    tnt__free(path);
    tnt__free(tmp);
    return rc;
}

static void log_free(local_log *l)
{
    for (int i = 0; l->parts && i < l->nparts; i++) {
        partition *p = &l->parts[i];
        if (p->fd >= 0)
            close(p->fd);
        for (size_t j = 0; j < p->nsegs; j++)
            tnt__free(p->segs[j].blocks);
        tnt__free(p->segs);
        tnt__free(p->dir);
    }
    tnt__free(l->parts);
    if (l->lock_fd >= 0)
        close(l->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    tnt__free(l->dir);
    tnt__free(l);
    tnt__handle_release();
}

tnt_status tnt__local_open_log(tnt_log **out, const char *uri, const char *const *settings, void *user_data,
                               char *errbuf, size_t errbuf_size)
{
    (void)user_data;
    if (!out)
        return tnt__local_report(tnt__error(TNT_E_MISUSE, "open_log: out is NULL"), errbuf, errbuf_size);
    *out = NULL;
    uint64_t nparts = 0, segment_bytes = DEFAULT_SEGMENT_BYTES;
    tnt__local_setting table[] = {
        {"partitions", &nparts, 1, 1024, false},
        {"segment_bytes", &segment_bytes, 4096, 1ull << 40, false},
    };
    tnt_status rc = tnt__local_settings(settings, table, 2);
    if (rc != TNT_OK)
        return tnt__local_report(rc, errbuf, errbuf_size);
    char *dir = tnt__local_uri_path(uri);
    if (!dir)
        return tnt__local_report(tnt_error_last_code(), errbuf, errbuf_size);
    if ((rc = tnt__local_prepare_dir(dir)) != TNT_OK) {
        tnt__free(dir);
        return tnt__local_report(rc, errbuf, errbuf_size);
    }

    local_log *l = tnt__calloc(1, sizeof *l);
    if (!l) {
        tnt__free(dir);
        return tnt__local_report(tnt__error(TNT_E_NOMEM, "out of memory"), errbuf, errbuf_size);
    }
    tnt__handle_acquire();
    l->base.methods = &log_methods;
    l->dir = dir;
    l->segment_bytes = segment_bytes;
    l->lock_fd = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);

    tnt__buf warnings;
    tnt__buf_init(&warnings);
    size_t n = strlen(dir) + 16;
    char *lock_path = tnt__malloc(n);
    if (!lock_path) {
        rc = tnt__error(TNT_E_NOMEM, "out of memory");
        goto fail;
    }
    snprintf(lock_path, n, "%s/lock", dir);
    l->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l->lock_fd < 0)
        rc = tnt__error(TNT_E_IO, "log: cannot open '%s': %s", lock_path, strerror(errno));
    else if (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0)
        rc = tnt__error(errno == EWOULDBLOCK ? TNT_E_BACKEND : TNT_E_IO,
                        "log: '%s' is already open (by another handle or process)", dir);
    tnt__free(lock_path);
    if (rc != TNT_OK)
        goto fail;

    int np = (int)nparts;
    if ((rc = load_meta(dir, &np)) != TNT_OK)
        goto fail;
    l->nparts = np;
    if (!(l->parts = tnt__calloc((size_t)np, sizeof *l->parts))) {
        rc = tnt__error(TNT_E_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < np; i++)
        l->parts[i].fd = -1;
    for (int i = 0; i < np && rc == TNT_OK; i++) {
        partition *p = &l->parts[i];
        size_t dn = strlen(dir) + 16;
        if (!(p->dir = tnt__malloc(dn)))
            rc = tnt__error(TNT_E_NOMEM, "out of memory");
        else {
            snprintf(p->dir, dn, "%s/p%04d", dir, i);
            rc = open_partition(p, &warnings);
        }
    }
    if (rc != TNT_OK)
        goto fail;
    if (warnings.oom)
        tnt__buf_reset(&warnings);
    *out = &l->base;
    if (errbuf && errbuf_size)
        snprintf(errbuf, errbuf_size, "%s", warnings.len ? warnings.data : "");
    tnt__buf_free(&warnings);
    return TNT_OK;
fail:
    tnt__buf_free(&warnings);
    log_free(l);
    return tnt__local_report(rc, errbuf, errbuf_size);
}

/* ---- append and group commit ---- */

static tnt_status log_append(tnt_log *log, const tnt_log_record *records, size_t n, tnt_log_ack_fn ack,
                             void *userdata)
{
    local_log *l = (local_log *)log;
    if (n && !records)
        return tnt__error(TNT_E_MISUSE, "log append: records is NULL");
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const tnt_log_record *r = &records[i];
        if (r->key_len > MAX_KEY || r->value_len > MAX_VALUE)
            return tnt__error(TNT_E_TOOBIG, "log append: record %zu has a %zu-byte key and a %zu-byte value (limits %u, %u)",
                              i, r->key_len, r->value_len, MAX_KEY, MAX_VALUE);
        if ((r->key_len && !r->key) || (r->value_len && !r->value))
            return tnt__error(TNT_E_MISUSE, "log append: record %zu has a NULL pointer with a length", i);
        bytes += frame_size(r->key_len, r->value_len);
    }
    pthread_mutex_lock(&l->mu);
    tnt_status broken = l->broken;
    pthread_mutex_unlock(&l->mu);
    if (broken)
        return tnt__error(broken, "log '%s' is unusable after a failed fsync; reopen it", l->dir);
    if (n == 0)
        return TNT_OK;

    pending *q = tnt__malloc(sizeof *q + n * sizeof(prec) + bytes);
    if (!q)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    q->next = NULL;
    q->ack = ack;
    q->userdata = userdata;
    q->n = n;
    q->recs = (prec *)(q + 1);
    q->frames = (unsigned char *)(q->recs + n);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const tnt_log_record *r = &records[i];
        size_t len = frame_size(r->key_len, r->value_len);
        encode(q->frames + pos, r);
        q->recs[i] = (prec){(int)(fnv1a(r->key, r->key_len) % (uint64_t)l->nparts), -1, r->time_ms, pos, len};
        pos += len;
    }
    pthread_mutex_lock(&l->mu);
    q->seq = ++l->queued_seq;
    if (l->tail)
        l->tail->next = q;
    else
        l->head = q;
    l->tail = q;
    pthread_mutex_unlock(&l->mu);
    return TNT_OK;
}

/* What the leader does to one partition in one batch. */
typedef struct plan {
    bool touched;
    bool roll;            /* start a new segment for this batch */
    bool swapped;         /* the new segment was made and is the active file (roll) */
    int old_fd;           /* the segment being sealed (roll) */
    int64_t seg_base;     /* the segment written */
    int64_t next;         /* next offset to assign */
    uint64_t start;       /* byte position the batch starts at */
    tnt__buf data;        /* the frames, in order */
    block *blocks;        /* index: blocks[0] replaces the last block unless fresh */
    size_t nblocks, cap;
    bool fresh;           /* the segment's index starts empty */
    segment last;         /* the active segment as it was (sealed if roll) */
} plan;

static int write_all(int fd, const char *data, size_t len, uint64_t pos)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, data, len, (off_t)pos);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : ENOSPC;
        data += w;
        len -= (size_t)w;
        pos += (uint64_t)w;
    }
    return 0;
}

static int run_job(const sync_job *j)
{
    int err = fdatasync(j->fd) == 0 ? 0 : errno;
    if (!err && j->dir)
        err = tnt__local_fsync_dir(j->dir);
    return err;
}

/* Run posted sync jobs until none is left to take (mu held). */
static void help_sync(local_log *l)
{
    while (l->job_next < l->njobs) {
        const sync_job *j = &l->jobs[l->job_next++];
        pthread_mutex_unlock(&l->mu);
        int err = run_job(j);
        pthread_mutex_lock(&l->mu);
        l->fsyncs++;
        if (err && !l->job_err)
            l->job_err = err;
        if (--l->jobs_left == 0)
            pthread_cond_broadcast(&l->cv);
    }
}

/* fdatasync every partition the batch wrote, with the followers' help. */
static tnt_status sync_batch(local_log *l, plan *plans)
{
    sync_job jobs[64], *v = l->nparts <= 64 ? jobs : tnt__malloc((size_t)l->nparts * sizeof *v);
    if (!v)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    size_t n = 0;
    for (int p = 0; p < l->nparts; p++)
        if (plans[p].touched)
            v[n++] = (sync_job){l->parts[p].fd, plans[p].roll ? l->parts[p].dir : NULL};
    pthread_mutex_lock(&l->mu);
    l->jobs = v;
    l->njobs = n;
    l->job_next = 0;
    l->jobs_left = n;
    l->job_err = 0;
    pthread_cond_broadcast(&l->cv);
    help_sync(l);
    while (l->jobs_left > 0)
        pthread_cond_wait(&l->cv, &l->mu);
    int err = l->job_err;
    l->jobs = NULL;
    l->njobs = l->job_next = 0;
    if (err) /* the page cache can no longer be trusted (a failed fsync may have dropped pages) */
        l->broken = TNT_E_IO;
    pthread_mutex_unlock(&l->mu);
    if (v != jobs)
        tnt__free(v);
    if (err)
        return tnt__error(TNT_E_IO, "log: fdatasync in '%s' failed: %s; the log must be reopened", l->dir,
                          strerror(err));
    return TNT_OK;
}

/* Write and sync a batch (no lock held). On failure every partition is put
 * back as it was: the batch is all or nothing. */
static tnt_status write_batch(local_log *l, plan *plans)
{
    tnt_status rc = TNT_OK;
    for (int p = 0; p < l->nparts && rc == TNT_OK; p++) {
        plan *pl = &plans[p];
        partition *part = &l->parts[p];
        if (!pl->touched)
            continue;
        if (pl->roll) {
            int fd = -1;
            if ((rc = create_segment(part, pl->seg_base, &fd)) != TNT_OK) {
                pl->roll = false; /* nothing to undo */
                pl->touched = false;
                break;
            }
            pl->old_fd = part->fd;
            part->fd = fd;
            pl->swapped = true;
        }
        int err = write_all(part->fd, pl->data.data, pl->data.len, pl->start);
        if (err) {
            char *path = seg_path(part, pl->seg_base, "log");
            rc = tnt__error(TNT_E_IO, "log: writing '%s': %s", path ? path : part->dir, strerror(err));
            tnt__free(path);
        }
    }
    if (rc == TNT_OK)
        rc = sync_batch(l, plans);
    if (rc == TNT_OK)
        return TNT_OK;
    for (int p = 0; p < l->nparts; p++) {
        plan *pl = &plans[p];
        partition *part = &l->parts[p];
        if (!pl->touched)
            continue;
        if (pl->roll && !pl->swapped) {
            pl->roll = false; /* not reached before the failure: nothing made, nothing written */
        } else if (pl->roll) {
            char *path = seg_path(part, pl->seg_base, "log");
            close(part->fd);
            part->fd = pl->old_fd;
            pl->old_fd = -1;
            pl->roll = pl->swapped = false;
            if (path)
                unlink(path);
            tnt__free(path);
        } else if (ftruncate(part->fd, (off_t)pl->start) != 0) {
            pthread_mutex_lock(&l->mu);
            l->broken = TNT_E_IO;
            pthread_mutex_unlock(&l->mu);
        }
    }
    return rc;
}

/* Plan a batch under mu: offsets, rolls, index entries, and room reserved
 * so that the commit cannot fail. */
static tnt_status plan_batch(local_log *l, pending *batch, plan *plans)
{
    for (pending *q = batch; q; q = q->next) {
        for (size_t i = 0; i < q->n; i++) {
            prec *r = &q->recs[i];
            plan *pl = &plans[r->part];
            partition *part = &l->parts[r->part];
            if (!pl->touched) {
                segment *s = seg_last(part);
                uint64_t bytes = 0; /* the partition's share of the batch decides the roll */
                for (pending *x = q; x; x = x->next)
                    for (size_t j = 0; j < x->n; j++)
                        bytes += x->recs[j].part == r->part ? x->recs[j].len : 0;
                pl->touched = true;
                pl->last = *s;
                pl->roll = s->size > 0 && s->size + bytes > l->segment_bytes;
                pl->next = s->base + s->count;
                pl->seg_base = pl->roll ? pl->next : s->base;
                pl->start = pl->roll ? 0 : s->size;
                pl->fresh = pl->roll || s->nblocks == 0;
                if (!pl->fresh && !blocks_push(&pl->blocks, &pl->nblocks, &pl->cap, s->blocks[s->nblocks - 1]))
                    return tnt__error(TNT_E_NOMEM, "out of memory");
            }
            r->offset = pl->next++;
            uint64_t at = pl->start + pl->data.len;
            tnt__buf_append(&pl->data, q->frames + r->pos, r->len);
            if (pl->data.oom || !index_add(&pl->blocks, &pl->nblocks, &pl->cap, r->offset, at, r->time))
                return tnt__error(TNT_E_NOMEM, "out of memory");
        }
    }
    for (int p = 0; p < l->nparts; p++) {
        plan *pl = &plans[p];
        partition *part = &l->parts[p];
        if (!pl->touched)
            continue;
        if (pl->roll && part->nsegs == part->cap) {
            segment *ns = tnt__realloc(part->segs, (part->cap * 2) * sizeof *ns);
            if (!ns)
                return tnt__error(TNT_E_NOMEM, "out of memory");
            part->segs = ns;
            part->cap *= 2;
        }
        segment *s = seg_last(part);
        size_t need = s->nblocks + pl->nblocks;
        if (!pl->roll && need > s->cap) {
            block *nb = tnt__realloc(s->blocks, need * sizeof *nb);
            if (!nb)
                return tnt__error(TNT_E_NOMEM, "out of memory");
            s->blocks = nb;
            s->cap = need;
        }
    }
    return TNT_OK;
}

/* Publish a written batch (mu held): counts, sizes, index, new segments. */
static void commit_batch(local_log *l, plan *plans)
{
    for (int p = 0; p < l->nparts; p++) {
        plan *pl = &plans[p];
        partition *part = &l->parts[p];
        if (!pl->touched)
            continue;
        if (pl->roll) { /* room was reserved; the new segment takes the plan's index */
            part->segs[part->nsegs++] = (segment){pl->seg_base, 0, 0, pl->blocks, pl->nblocks, pl->cap, true};
            pl->blocks = NULL;
        } else {
            segment *s = seg_last(part);
            size_t at = pl->fresh ? s->nblocks : s->nblocks - 1;
            memcpy(s->blocks + at, pl->blocks, pl->nblocks * sizeof *pl->blocks);
            s->nblocks = at + pl->nblocks;
        }
        segment *s = seg_last(part);
        s->count = pl->next - s->base;
        s->size = pl->start + pl->data.len;
    }
}

/* Become the leader: called with mu held and work queued; returns with mu
 * held, the batch written (or failed) and acknowledged. */
static void lead(local_log *l)
{
    pending *batch = l->head;
    uint64_t last_seq = l->tail->seq;
    l->head = l->tail = NULL;
    l->leading = true;

    plan *plans = tnt__calloc((size_t)l->nparts, sizeof *plans);
    tnt_status rc = plans ? TNT_OK : tnt__error(TNT_E_NOMEM, "out of memory");
    for (int p = 0; plans && p < l->nparts; p++) {
        tnt__buf_init(&plans[p].data);
        plans[p].old_fd = -1;
    }
    if (rc == TNT_OK)
        rc = plan_batch(l, batch, plans);
    pthread_mutex_unlock(&l->mu);

    if (rc == TNT_OK)
        rc = write_batch(l, plans);
    for (int p = 0; rc == TNT_OK && p < l->nparts; p++)
        if (plans[p].roll) /* still the leader's alone: it is the last segment until the commit */
            tix_write(&l->parts[p], &plans[p].last);

    pthread_mutex_lock(&l->mu);
    if (rc == TNT_OK)
        commit_batch(l, plans);
    pthread_mutex_unlock(&l->mu);

    for (int p = 0; plans && p < l->nparts; p++) {
        if (plans[p].old_fd >= 0)
            close(plans[p].old_fd);
        tnt__buf_free(&plans[p].data);
        tnt__free(plans[p].blocks);
    }
    tnt__free(plans);

    /* Acknowledge in append order, then wake the followers. */
    t_acking = l;
    for (pending *q = batch; q; q = q->next)
        for (size_t i = 0; q->ack && i < q->n; i++)
            q->ack(q->userdata, i, rc, q->recs[i].part, rc == TNT_OK ? q->recs[i].offset : -1);
    t_acking = NULL;
    while (batch) {
        pending *next = batch->next;
        tnt__free(batch);
        batch = next;
    }

    pthread_mutex_lock(&l->mu);
    if (rc != TNT_OK) {
        l->fail_seq = last_seq;
        l->fail_status = rc;
        snprintf(l->fail_msg, sizeof l->fail_msg, "%s", tnt_error_last());
    }
    l->done_seq = last_seq;
    l->batches++;
    l->leading = false;
    pthread_cond_broadcast(&l->cv);
}

static tnt_status log_flush(tnt_log *log, int timeout_ms)
{
    local_log *l = (local_log *)log;
    if (t_acking == l)
        return tnt__error(TNT_E_MISUSE, "log flush: called from an ack callback");
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    if (timeout_ms > 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    tnt_status rc = TNT_OK;
    pthread_mutex_lock(&l->mu);
    uint64_t target = l->queued_seq, start = l->done_seq;
    while (l->done_seq < target) {
        if (!l->leading && l->head) {
            lead(l);
            continue;
        }
        if (l->job_next < l->njobs) {
            help_sync(l);
            continue;
        }
        int w = timeout_ms < 0 ? pthread_cond_wait(&l->cv, &l->mu)
                : timeout_ms == 0 ? ETIMEDOUT
                                  : pthread_cond_timedwait(&l->cv, &l->mu, &deadline);
        if (w == ETIMEDOUT && l->done_seq < target) {
            rc = tnt__error(TNT_E_TIMEOUT, "log flush: timed out after %d ms", timeout_ms);
            break;
        }
    }
    if (rc == TNT_OK && l->fail_seq > start)
        rc = tnt__error(l->fail_status, "%s", l->fail_msg);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* ---- reading ---- */

static tnt_status check_partition(local_log *l, int pno)
{
    if (pno < 0 || pno >= l->nparts)
        return tnt__error(TNT_E_INVALID, "log: no partition %d (the log has %d)", pno, l->nparts);
    return TNT_OK;
}

static tnt_status log_end_offset(tnt_log *log, int pno, int64_t *offset_out)
{
    local_log *l = (local_log *)log;
    tnt_status rc = check_partition(l, pno);
    if (rc != TNT_OK)
        return rc;
    pthread_mutex_lock(&l->mu);
    *offset_out = part_end(&l->parts[pno]);
    pthread_mutex_unlock(&l->mu);
    return TNT_OK;
}

/* What a reader needs of one segment, copied under mu. */
typedef struct seg_ref {
    int64_t base, count;
    uint64_t size;
    int64_t block_first;  /* the block to start from */
    uint64_t block_pos;
} seg_ref;

/* The segment at index i, with the block holding `from`. */
static seg_ref seg_ref_at(partition *p, size_t i, int64_t from)
{
    segment *s = &p->segs[i];
    seg_ref r = {s->base, s->count, s->size, s->base, 0};
    for (size_t b = 0; s->indexed && b < s->nblocks && s->blocks[b].first <= from; b++) {
        r.block_first = s->blocks[b].first;
        r.block_pos = s->blocks[b].pos;
    }
    return r;
}

/* Call fn for the records of one segment in [from, end). */
static tnt_status read_segment(partition *p, int part, const seg_ref *s, int64_t from, int64_t end,
                               tnt_log_read_fn fn, void *userdata, bool *stop)
{
    char *path = seg_path(p, s->base, "log");
    if (!path)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    view v;
    tnt_status rc = view_open(&v, path, s->size);
    if (rc == TNT_E_NOTFOUND) { /* truncated away meanwhile */
        tnt__free(path);
        return TNT_OK;
    }
    uint64_t pos = s->block_pos;
    for (int64_t off = s->block_first; rc == TNT_OK && off < end && off < s->base + s->count; off++) {
        frame f;
        int d = pos < v.size ? decode(v.data + pos, v.size - pos, &f) : FRAME_SHORT;
        if (d != FRAME_OK) {
            rc = tnt__error(TNT_E_CORRUPT, "log: '%s' is corrupt at byte %llu (record %lld)", path,
                            (unsigned long long)pos, (long long)off);
            break;
        }
        if (off >= from && fn(userdata, part, off, f.time, f.key, f.key_len, f.value, f.value_len) != 0) {
            *stop = true;
            break;
        }
        pos += f.size;
    }
    view_close(&v);
    tnt__free(path);
    return rc;
}

static tnt_status log_read(tnt_log *log, int pno, int64_t from_offset, tnt_log_read_fn fn, void *userdata)
{
    local_log *l = (local_log *)log;
    tnt_status rc = check_partition(l, pno);
    if (rc != TNT_OK)
        return rc;
    if (from_offset < 0 || !fn)
        return tnt__error(TNT_E_INVALID, "log read: bad offset %lld or no callback", (long long)from_offset);
    partition *p = &l->parts[pno];
    pthread_mutex_lock(&l->mu);
    int64_t end = part_end(p), next = from_offset;
    pthread_mutex_unlock(&l->mu);
    bool stop = false;
    while (rc == TNT_OK && !stop && next < end) {
        pthread_mutex_lock(&l->mu);
        size_t i = seg_find(p, next);
        if (p->segs[i].base + p->segs[i].count <= next && i + 1 < p->nsegs)
            i++;
        seg_ref s = seg_ref_at(p, i, next);
        bool indexed = p->segs[i].indexed;
        pthread_mutex_unlock(&l->mu);
        if (next < s.base) /* truncated before: start at the first record kept */
            next = s.base;
        if (next >= s.base + s.count) /* nothing there (the log is contiguous, so this is the end) */
            break;
        if (!indexed && next > s.base) {
            if ((rc = ensure_index(l, p, s.base)) != TNT_OK)
                break;
            pthread_mutex_lock(&l->mu);
            segment *seg = seg_by_base(p, s.base);
            if (seg)
                s = seg_ref_at(p, (size_t)(seg - p->segs), next);
            pthread_mutex_unlock(&l->mu);
        }
        rc = read_segment(p, pno, &s, next, end, fn, userdata, &stop);
        next = s.base + s.count;
    }
    return rc;
}

typedef struct time_search {
    int64_t t, found;
} time_search;

static int time_found(void *userdata, int part, int64_t offset, int64_t time_ms, const void *key, size_t key_len,
                      const void *value, size_t value_len)
{
    time_search *ts = userdata;
    if (time_ms < ts->t)
        return 0;
    ts->found = offset;
    return 1;
}

/* The first offset of a segment whose time >= t, or -1: only the blocks
 * whose greatest time reaches t are scanned. */
static tnt_status search_segment(local_log *l, partition *p, int64_t base, int64_t t, int64_t *found)
{
    *found = -1;
    tnt_status rc = ensure_index(l, p, base);
    if (rc != TNT_OK)
        return rc;
    pthread_mutex_lock(&l->mu);
    segment *s = seg_by_base(p, base);
    size_t nb = s ? s->nblocks : 0;
    block *blocks = nb ? tnt__malloc(nb * sizeof *blocks) : NULL;
    seg_ref ref = {0};
    if (blocks) {
        memcpy(blocks, s->blocks, nb * sizeof *blocks);
        ref = (seg_ref){s->base, s->count, s->size, 0, 0};
    }
    pthread_mutex_unlock(&l->mu);
    if (nb && !blocks)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    for (size_t b = 0; b < nb && *found < 0 && rc == TNT_OK; b++) {
        if (blocks[b].tmax < t)
            continue;
        time_search ts = {t, -1};
        seg_ref one = ref;
        one.block_first = blocks[b].first;
        one.block_pos = blocks[b].pos;
        bool stop = false;
        rc = read_segment(p, 0, &one, blocks[b].first, b + 1 < nb ? blocks[b + 1].first : ref.base + ref.count,
                          time_found, &ts, &stop);
        *found = ts.found;
    }
    tnt__free(blocks);
    return rc;
}

static tnt_status log_offset_for_time(tnt_log *log, int pno, int64_t time_ms, int64_t *offset_out)
{
    local_log *l = (local_log *)log;
    tnt_status rc = check_partition(l, pno);
    if (rc != TNT_OK)
        return rc;
    partition *p = &l->parts[pno];
    pthread_mutex_lock(&l->mu);
    int64_t end = part_end(p), base = p->segs[0].base;
    pthread_mutex_unlock(&l->mu);
    for (;;) {
        pthread_mutex_lock(&l->mu);
        size_t i = seg_find(p, base);
        if (p->segs[i].base < base) /* base is past the segment found: take the next */
            i++;
        bool more = i < p->nsegs && p->segs[i].base < end;
        int64_t seg_base = more ? p->segs[i].base : 0, count = more ? p->segs[i].count : 0;
        pthread_mutex_unlock(&l->mu);
        if (!more)
            break;
        int64_t found;
        if ((rc = search_segment(l, p, seg_base, time_ms, &found)) != TNT_OK)
            return rc;
        if (found >= 0) {
            *offset_out = found;
            return TNT_OK;
        }
        base = seg_base + count;
        if (count == 0)
            break;
    }
    *offset_out = end;
    return TNT_OK;
}

static tnt_status log_truncate_before(tnt_log *log, int pno, int64_t offset)
{
    local_log *l = (local_log *)log;
    tnt_status rc = check_partition(l, pno);
    if (rc != TNT_OK)
        return rc;
    partition *p = &l->parts[pno];
    pthread_mutex_lock(&l->mu);
    size_t k = 0; /* whole segments below offset; never the active one */
    while (k + 1 < p->nsegs && p->segs[k + 1].base <= offset)
        k++;
    int64_t *bases = k ? tnt__malloc(k * sizeof *bases) : NULL;
    if (k && !bases) {
        pthread_mutex_unlock(&l->mu);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < k; i++) {
        bases[i] = p->segs[i].base;
        tnt__free(p->segs[i].blocks);
    }
    memmove(p->segs, p->segs + k, (p->nsegs - k) * sizeof *p->segs);
    p->nsegs -= k;
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < k && rc == TNT_OK; i++) {
        char *log_path = seg_path(p, bases[i], "log"), *tix_path = seg_path(p, bases[i], "tix");
        if (!log_path || !tix_path)
            rc = tnt__error(TNT_E_NOMEM, "out of memory");
        else if (unlink(log_path) != 0 && errno != ENOENT)
            rc = tnt__error(TNT_E_IO, "log: cannot delete '%s': %s", log_path, strerror(errno));
        else
            unlink(tix_path);
        tnt__free(log_path);
        tnt__free(tix_path);
    }
    tnt__free(bases);
    int err = k ? tnt__local_fsync_dir(p->dir) : 0;
    if (rc == TNT_OK && err)
        rc = tnt__error(TNT_E_IO, "log: cannot sync '%s': %s", p->dir, strerror(err));
    return rc;
}

static int log_partitions(tnt_log *log) { return ((local_log *)log)->nparts; }

static void log_close(tnt_log *log)
{
    if (!log)
        return;
    local_log *l = (local_log *)log;
    log_flush(log, -1);
    log_free(l);
}

void tnt__local_log_stats(tnt_log *log, uint64_t *batches, uint64_t *fsyncs)
{
    local_log *l = (local_log *)log;
    pthread_mutex_lock(&l->mu);
    *batches = l->batches;
    *fsyncs = l->fsyncs;
    pthread_mutex_unlock(&l->mu);
}

static const tnt_log_methods log_methods = {
    TNT_BACKEND_VERSION,     /* version */
    log_close,               /* close: flush, then release the files and the lock */
    log_partitions,          /* partitions: fixed in the tnt-log file */
    log_append,              /* append: encode and queue */
    log_flush,               /* flush: group commit */
    log_end_offset,          /* end_offset: committed records only */
    log_offset_for_time,     /* offset_for_time: block min/max times, then a scan */
    log_read,                /* read: mmap of the committed prefix */
    log_truncate_before,     /* truncate_before: whole segments */
};
