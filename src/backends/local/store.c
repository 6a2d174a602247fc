/* The state store in LMDB: one environment, one database per class of
 * sort key.
 *
 * Key   = [u16 pk_len, big-endian][pk][sk]: the items of one partition key
 *         are one contiguous run, in sort-key order, so a query is a cursor
 *         range.
 * Value = [u64 version, little-endian][bytes].
 *
 * An item's class is the first byte of its sort key (or "empty"), and each
 * class has its own named database ("tnt.sk.73" for sort keys starting with
 * 's', "tnt.sk" for the empty one). Sort-key order is class order, then key
 * order within the class, so a query that spans classes visits their
 * databases one after the other. Items of one kind live in a tree of their
 * own: a lookup among 2,000 current states does not descend through the
 * pages of a million history entries. A database is created by the first
 * write of its class and is seen by read transactions from the one that
 * committed it on (born[]). A store written in the older layout (every item
 * in the main database) is moved into this one, in one transaction, when it
 * is opened.
 *
 * LMDB serializes write transactions itself (so a conditional put is a read
 * and a write in one transaction, and racing writers cannot both win); the
 * environment is opened with MDB_NOTLS so that read transactions are not
 * tied to threads. Every commit is synced (LMDB's default), unless the
 * engine's log carries durability (tnt.durable_log).
 *
 * The map is writable (MDB_WRITEMAP): a commit changes pages in place
 * instead of writing each dirty page with pwrite(), which costs several
 * microseconds a page on kernels that cache files in large folios. LMDB then
 * sizes the file to the map, so the map is only as large as the data needs
 * (plus room to grow) and every byte of it is allocated on disk beforehand
 * (posix_fallocate): a page of the map is never a hole, and a full disk is a
 * clean error when the map grows instead of a SIGBUS when a page is first
 * written. A transaction that finds the map full is aborted; the map grows
 * by a quarter (at least MAP_STEP) up to the map_size setting, and the
 * transaction runs again. The map moves when it grows, so every transaction
 * holds `remap` for reading, and growing takes it for writing (before the
 * readers that come after it).
 *
 * Read transactions are kept for reuse: a finished one is reset (it keeps
 * its handle and its slot in LMDB's reader table, and pins no pages) and
 * renewed by the next read, which then neither allocates a handle nor takes
 * the reader table's lock, as a fresh mdb_txn_begin would. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/core.h"
#include "local.h"

/* LMDB's readers and its writer meet in the reader table of lock.mdb, out
 * of ThreadSanitizer's sight. Under it, the start of a transaction acquires
 * and its end releases the map's pages, as one object, which is the order
 * LMDB keeps: a reader sees what was committed before it began, and the
 * writer reuses only pages that no reader holds any more. */
#if defined(__SANITIZE_THREAD__)
#define TNT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TNT_TSAN 1
#endif
#endif
#ifdef TNT_TSAN
#include <sanitizer/tsan_interface.h>
#define PAGES_ACQUIRE(s) __tsan_acquire(&(s)->pages)
#define PAGES_RELEASE(s) __tsan_release(&(s)->pages)
#else
#define PAGES_ACQUIRE(s) ((void)0)
#define PAGES_RELEASE(s) ((void)0)
#endif

/* Class 0: the empty sort key; 1 + b: sort keys starting with byte b. */
#define NCLASS 257
#define NEVER UINT64_MAX
#define MAP_FIRST ((size_t)4 << 20) /* a new store's map */
#define MAP_STEP ((size_t)32 << 20) /* the least the map grows by */
#define MAP_ALIGN ((size_t)1 << 20)
#define MAP_WAIT_S 30 /* how long growing the map waits for the reads under way */
#define BROKEN (-1)   /* not an LMDB code: the map could not be mapped again */

typedef struct local_store {
    tnt_store base;
    MDB_env *env;
    _Atomic MDB_dbi dbi[NCLASS];   /* valid once born[c] is not NEVER */
    _Atomic uint64_t born[NCLASS]; /* id of the first transaction that sees dbi[c]; NEVER: no database yet */
    /* the write transaction under way (LMDB runs one at a time): the databases it opened */
    MDB_dbi wdbi[NCLASS];
    bool mine[NCLASS];
    char *dir;
    uint64_t map_size; /* the most the map may grow to (the map_size setting) */
    pthread_rwlock_t remap; /* held for reading by every transaction, for writing to move the map */
    size_t map_now;         /* the map's size (under remap) */
    bool broken;            /* the map could not be mapped again: nothing more can be read (under remap) */
    size_t max_key;
    _Atomic(MDB_txn *) readers[16]; /* reset read transactions, ready for mdb_txn_renew */
    char pages;                     /* the map's pages, for ThreadSanitizer (above) */
} local_store;

#define NREADERS (sizeof ((local_store *)0)->readers / sizeof ((local_store *)0)->readers[0])

/* The stores whose `remap` this thread holds, and how many of its
 * transactions hold each: a read inside a query's callback does not take
 * the lock again (a writer waiting for it would wait for this thread, and
 * this thread for the writer). Initial-exec: no call to find the variables
 * on every read. Beyond HELD stores at once, a store's lock is taken each
 * time. */
#define HELD 4
static _Thread_local struct {
    const local_store *store;
    unsigned n;
} tl_held[HELD] __attribute__((tls_model("initial-exec")));

static unsigned *held(const local_store *s)
{
    for (int i = 0; i < HELD; i++)
        if (tl_held[i].n && tl_held[i].store == s)
            return &tl_held[i].n;
    return NULL;
}

static void hold(local_store *s)
{
    unsigned *n = held(s);
    if (n) {
        ++*n;
        return;
    }
    pthread_rwlock_rdlock(&s->remap);
    for (int i = 0; i < HELD; i++)
        if (!tl_held[i].n) {
            tl_held[i].store = s;
            tl_held[i].n = 1;
            return;
        }
}

static void release(local_store *s)
{
    unsigned *n = held(s);
    if (n && --*n)
        return;
    pthread_rwlock_unlock(&s->remap);
}

/* A read transaction: a kept one renewed, else a new one. The map stays
 * where it is until read_end(). */
static int read_begin(local_store *s, MDB_txn **out)
{
    hold(s);
    if (s->broken) {
        release(s);
        return BROKEN;
    }
    for (size_t i = 0; i < NREADERS; i++) {
        MDB_txn *t = atomic_load_explicit(&s->readers[i], memory_order_relaxed);
        if (t && atomic_compare_exchange_strong(&s->readers[i], &t, NULL)) {
            if (mdb_txn_renew(t) == 0) {
                PAGES_ACQUIRE(s);
                *out = t;
                return 0;
            }
            mdb_txn_abort(t);
            break;
        }
    }
    int mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, out);
    if (mrc != 0)
        release(s);
    else
        PAGES_ACQUIRE(s);
    return mrc;
}

/* End a read transaction, keeping it for the next read if there is room. */
static void read_end(local_store *s, MDB_txn *t)
{
    PAGES_RELEASE(s);
    mdb_txn_reset(t);
    for (size_t i = 0; i < NREADERS; i++) {
        MDB_txn *none = NULL;
        if (atomic_load_explicit(&s->readers[i], memory_order_relaxed) == NULL &&
            atomic_compare_exchange_strong(&s->readers[i], &none, t)) {
            release(s);
            return;
        }
    }
    mdb_txn_abort(t);
    release(s);
}

static const tnt_store_methods store_methods;
static void store_close(tnt_store *store);

/* Set when LMDB said MDB_MAP_FULL in this thread's write transaction. */
static _Thread_local bool tl_full;

static tnt_status full(local_store *s)
{
    return tnt__error(TNT_E_IO, "state store '%s' is full (map_size=%llu bytes): raise the map_size setting", s->dir,
                      (unsigned long long)s->map_size);
}

static tnt_status fail(local_store *s, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL) {
        tl_full = true;
        return full(s);
    }
    if (rc == BROKEN)
        return tnt__error(TNT_E_IO, "state store '%s': its map could not be mapped again: close and open it again",
                          s->dir);
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID)
        return tnt__error(TNT_E_CORRUPT, "state store '%s': %s: %s", s->dir, what, mdb_strerror(rc));
    return tnt__error(rc > 0 ? TNT_E_IO : TNT_E_BACKEND, "state store '%s': %s: %s", s->dir, what, mdb_strerror(rc));
}

/* ---- keys ---- */

typedef struct key_buf {
    unsigned char b[512];
    size_t len;
    int cls; /* the class of its sort key */
} key_buf;

static tnt_status make_key(local_store *s, key_buf *k, const void *pk, size_t pk_len, const void *sk, size_t sk_len)
{
    if ((pk_len && !pk) || (sk_len && !sk))
        return tnt__error(TNT_E_MISUSE, "state store: a NULL key with a length");
    if (2 + pk_len + sk_len > s->max_key || 2 + pk_len + sk_len > sizeof k->b)
        return tnt__error(TNT_E_TOOBIG, "state store: keys of %zu + %zu bytes exceed LMDB's %zu-byte key limit", pk_len,
                          sk_len, s->max_key - 2);
    k->b[0] = (unsigned char)(pk_len >> 8);
    k->b[1] = (unsigned char)pk_len;
    if (pk_len)
        memcpy(k->b + 2, pk, pk_len);
    if (sk_len)
        memcpy(k->b + 2 + pk_len, sk, sk_len);
    k->len = 2 + pk_len + sk_len;
    k->cls = sk_len ? 1 + *(const unsigned char *)sk : 0;
    return TNT_OK;
}

/* ---- the databases of the classes ---- */

static void class_name(char out[16], int c)
{
    if (c == 0)
        strcpy(out, "tnt.sk");
    else
        snprintf(out, 16, "tnt.sk.%02x", (unsigned)(c - 1));
}

/* The handle of class c's database, once seen() said it exists. */
static inline MDB_dbi reader_dbi(local_store *s, int c)
{
    return atomic_load_explicit(&s->dbi[c], memory_order_relaxed);
}

/* Does txn (a read transaction) see the database of class c? */
static bool seen(local_store *s, MDB_txn *txn, int c)
{
    uint64_t b = atomic_load_explicit(&s->born[c], memory_order_acquire);
    return b != NEVER && b <= (uint64_t)mdb_txn_id(txn);
}

/* The database of class c for the write transaction txn, created if
 * `create`; MDB_NOTFOUND if there is none and none was to be created. */
static int class_dbi(local_store *s, MDB_txn *txn, int c, bool create, MDB_dbi *out)
{
    if (atomic_load_explicit(&s->born[c], memory_order_acquire) != NEVER) {
        *out = atomic_load_explicit(&s->dbi[c], memory_order_relaxed);
        return 0;
    }
    if (!s->mine[c]) {
        if (!create)
            return MDB_NOTFOUND;
        char name[16];
        class_name(name, c);
        int mrc = mdb_dbi_open(txn, name, MDB_CREATE, &s->wdbi[c]);
        if (mrc != 0)
            return mrc;
        s->mine[c] = true;
    }
    *out = s->wdbi[c];
    return 0;
}

/* Commit (rc TNT_OK) or abort a write transaction. The databases it opened
 * are seen from its commit on, or are gone with it. They are taken from
 * mine[] while LMDB's write lock is still held: the next writer may start
 * the moment this one commits. */
static tnt_status finish(local_store *s, MDB_txn *txn, tnt_status rc, int *mrc_out)
{
    uint64_t id = (uint64_t)mdb_txn_id(txn);
    int made[NCLASS];
    MDB_dbi handle[NCLASS];
    int n = 0;
    for (int c = 0; c < NCLASS; c++)
        if (s->mine[c]) {
            s->mine[c] = false;
            handle[n] = s->wdbi[c];
            made[n++] = c;
        }
    int mrc = 0;
    PAGES_RELEASE(s); /* before the commit: a reader may begin on it before mdb_txn_commit() returns */
    if (rc == TNT_OK)
        mrc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    for (int i = 0; i < n && rc == TNT_OK && mrc == 0; i++) {
        /* A writer that started between this commit and now may have opened
         * the same database (LMDB gives it the same handle) and publish its
         * own, later id: the earliest id wins. */
        atomic_store_explicit(&s->dbi[made[i]], handle[i], memory_order_relaxed);
        uint64_t cur = atomic_load_explicit(&s->born[made[i]], memory_order_relaxed);
        while ((cur == NEVER || cur > id) &&
               !atomic_compare_exchange_weak_explicit(&s->born[made[i]], &cur, id, memory_order_release,
                                                      memory_order_relaxed))
            ;
    }
    *mrc_out = mrc;
    return rc;
}

/* An item as stored, decoded; false if the record is malformed. */
static bool decode_item(const MDB_val *k, const MDB_val *v, tnt_store_item *it)
{
    const unsigned char *kb = k->mv_data;
    if (k->mv_size < 2 || v->mv_size < 8)
        return false;
    size_t pk_len = (size_t)kb[0] << 8 | kb[1];
    if (2 + pk_len > k->mv_size)
        return false;
    it->pk = kb + 2;
    it->pk_len = pk_len;
    it->sk = kb + 2 + pk_len;
    it->sk_len = k->mv_size - 2 - pk_len;
    it->version = tnt__get_u64(v->mv_data);
    it->value = (const unsigned char *)v->mv_data + 8;
    it->value_len = v->mv_size - 8;
    return true;
}

/* LMDB's default order: bytewise, then the shorter first. */
static int keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static bool has_prefix(const MDB_val *k, const key_buf *prefix)
{
    return k->mv_size >= prefix->len && memcmp(k->mv_data, prefix->b, prefix->len) == 0;
}

/* ---- open and close ---- */

/* Allocate bytes [from, want) of the data file on disk. */
static tnt_status reserve(local_store *s, size_t from, size_t want)
{
    mdb_filehandle_t fd;
    int mrc = mdb_env_get_fd(s->env, &fd);
    if (mrc != 0)
        return fail(s, mrc, "the data file");
    int err = posix_fallocate(fd, (off_t)from, (off_t)(want - from));
    if (err != 0)
        return tnt__error(TNT_E_IO, "state store '%s': cannot grow its file to %zu bytes: %s", s->dir, want,
                          strerror(err));
    return TNT_OK;
}

/* Map the first `want` bytes of the file, allocated on disk first (the
 * bytes from `from` on are new). Under remap for writing. LMDB unmaps the
 * old map before it maps the new one: if that fails, nothing can be read
 * any more, and the handle only waits to be closed (and is not closed with
 * LMDB, which could unmap an address that is no longer its map). */
static tnt_status map_to(local_store *s, size_t from, size_t want)
{
    tnt_status rc = reserve(s, from, want);
    if (rc != TNT_OK)
        return rc;
    int mrc = mdb_env_set_mapsize(s->env, want);
    if (mrc != 0) {
        s->broken = true;
        return fail(s, mrc, "grow the map");
    }
    s->map_now = want;
    return TNT_OK;
}

/* Grow the map that a write transaction found full (`seen`: its size
 * then), unless another writer has grown it since. */
static tnt_status grow(local_store *s, size_t seen)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += MAP_WAIT_S;
    if (pthread_rwlock_clockwrlock(&s->remap, CLOCK_MONOTONIC, &until) != 0)
        return tnt__error(TNT_E_TIMEOUT, "state store '%s': reads under way kept its map from growing for %d s", s->dir,
                          MAP_WAIT_S);
    tnt_status rc = TNT_OK;
    if (s->broken)
        rc = fail(s, BROKEN, "grow");
    else if (s->map_now == seen) {
        if (seen >= s->map_size)
            rc = full(s);
        else {
            size_t step = seen / 4 > MAP_STEP ? seen / 4 : MAP_STEP;
            size_t want = (seen + step + MAP_ALIGN - 1) / MAP_ALIGN * MAP_ALIGN;
            if (want > s->map_size || want < seen)
                want = (size_t)s->map_size;
            rc = map_to(s, seen, want);
        }
    }
    pthread_rwlock_unlock(&s->remap);
    return rc;
}


/* Move the items of the older layout, all in the main database, into the
 * databases of their classes. Their keys start with pk_len's high byte (0
 * or 1: keys are shorter than 512 bytes); the names of the class databases,
 * kept in the main database too, start with 't'. */
static int move_old_items(local_store *s, MDB_txn *txn, MDB_dbi main_dbi)
{
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn, main_dbi, &cur);
    MDB_val key, val;
    while (mrc == 0 && (mrc = mdb_cursor_get(cur, &key, &val, MDB_FIRST)) == 0) {
        const unsigned char *kb = key.mv_data;
        if (key.mv_size < 2 || kb[0] > 1)
            break; /* past the old items */
        size_t pk_len = (size_t)kb[0] << 8 | kb[1];
        if (2 + pk_len > key.mv_size) {
            mrc = MDB_CORRUPTED;
            break;
        }
        int c = key.mv_size > 2 + pk_len ? 1 + kb[2 + pk_len] : 0;
        MDB_dbi d;
        unsigned char kcopy[512];
        if (key.mv_size > sizeof kcopy) {
            mrc = MDB_CORRUPTED;
            break;
        }
        if (!s->mine[c]) { /* creating it writes its name into the main database: read the item again */
            mrc = class_dbi(s, txn, c, true, &d);
            continue;
        }
        d = s->wdbi[c];
        memcpy(kcopy, key.mv_data, key.mv_size);
        MDB_val k2 = {key.mv_size, kcopy};
        if ((mrc = mdb_put(txn, d, &k2, &val, 0)) == 0)
            mrc = mdb_del(txn, main_dbi, &k2, NULL);
    }
    mdb_cursor_close(cur);
    return mrc == MDB_NOTFOUND ? 0 : mrc;
}

/* Open the databases of the classes the store has, after moving the items
 * of an older layout into them. */
static int open_classes(local_store *s)
{
    for (int c = 0; c < NCLASS; c++)
        atomic_init(&s->born[c], NEVER);
    MDB_txn *txn;
    MDB_dbi main_dbi;
    int mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (mrc != 0)
        return mrc;
    if ((mrc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) == 0)
        mrc = move_old_items(s, txn, main_dbi);
    for (int c = 0; c < NCLASS && mrc == 0; c++) { /* the databases the store has */
        if (s->mine[c])
            continue; /* opened by the move */
        char name[16];
        class_name(name, c);
        if ((mrc = mdb_dbi_open(txn, name, 0, &s->wdbi[c])) == 0)
            s->mine[c] = true;
        else if (mrc == MDB_NOTFOUND)
            mrc = 0;
    }
    /* readers come later: whatever this transaction opens, every one sees */
    int err = mrc;
    finish(s, txn, err == 0 ? TNT_OK : TNT_E_BACKEND, &mrc);
    if (err != 0)
        return err;
    if (mrc == 0)
        for (int c = 0; c < NCLASS; c++)
            if (atomic_load_explicit(&s->born[c], memory_order_relaxed) != NEVER)
                atomic_store_explicit(&s->born[c], 0, memory_order_relaxed);
    return mrc;
}

tnt_status tnt__local_open_store(tnt_store **out, const char *uri, const char *const *settings, void *user_data,
                                 char *errbuf, size_t errbuf_size)
{
    (void)user_data;
    if (!out)
        return tnt__local_report(tnt__error(TNT_E_MISUSE, "open_store: out is NULL"), errbuf, errbuf_size);
    *out = NULL;
    /* The most the map, and so the file, may grow to. */
    uint64_t map_size = sizeof(void *) >= 8 ? 64ull << 30 : 1ull << 30;
    /* tnt.durable_log: the engine's event log makes every change durable and
     * replays it after a crash, so commits need not be synced (LMDB's
     * MDB_NOSYNC: a process crash loses nothing; after a power failure the
     * store is rebuilt from the log). */
    uint64_t durable_log = 0;
    tnt__local_setting table[] = {
        {"map_size", &map_size, 1ull << 20, sizeof(void *) >= 8 ? 1ull << 50 : 3ull << 30, false},
        {"tnt.durable_log", &durable_log, 0, 1, false},
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
    local_store *s = tnt__calloc(1, sizeof *s);
    if (!s) {
        tnt__free(dir);
        return tnt__local_report(tnt__error(TNT_E_NOMEM, "out of memory"), errbuf, errbuf_size);
    }
    tnt__handle_acquire();
    s->base.methods = &store_methods;
    s->dir = dir;
    s->map_size = map_size;
    /* A writer waiting to grow the map goes before new readers, which would
     * otherwise keep it waiting for as long as reads overlap. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->remap, &attr);
    pthread_rwlockattr_destroy(&attr);
    /* The map starts at the file's size (a store's file is its map), or
     * MAP_FIRST for a new one, within the setting. */
    size_t have = 0, whole = 0; /* whole: the file has no holes up to it */
    char *file = tnt__malloc(strlen(dir) + sizeof "/data.mdb");
    int mrc = file ? 0 : ENOMEM;
    if (file) {
        struct stat sb;
        sprintf(file, "%s/data.mdb", dir);
        if (stat(file, &sb) == 0 && sb.st_size > 0) {
            have = (size_t)sb.st_size;
            whole = (uint64_t)sb.st_blocks * 512 >= (uint64_t)sb.st_size ? have : 0;
        }
        tnt__free(file);
    }
    size_t first = have > MAP_FIRST ? (have + MAP_ALIGN - 1) / MAP_ALIGN * MAP_ALIGN : MAP_FIRST;
    if (first > map_size)
        first = have > map_size ? have : (size_t)map_size;
    if (mrc == 0)
        mrc = mdb_env_create(&s->env);
    if (mrc == 0)
        mrc = mdb_env_set_mapsize(s->env, first);
    if (mrc == 0)
        mrc = mdb_env_set_maxreaders(s->env, 512);
    if (mrc == 0)
        mrc = mdb_env_set_maxdbs(s->env, NCLASS);
    if (mrc == 0)
        mrc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_WRITEMAP | (durable_log ? MDB_NOSYNC : 0), 0644);
    if (mrc == 0) {
        MDB_envinfo info;
        mdb_env_info(s->env, &info);
        s->map_now = info.me_mapsize;
        /* Allocate what the map covers and the disk does not hold yet: an
         * older store's file may be sparse. Not what is already there, which
         * a file system without fallocate would read block by block. */
        rc = s->map_now > whole ? reserve(s, whole, s->map_now) : TNT_OK;
        if (rc != TNT_OK) { /* no room on the disk: map only what the file has, and grow later (or fail then) */
            if ((mrc = mdb_env_set_mapsize(s->env, have ? have : 1)) == 0) {
                mdb_env_info(s->env, &info);
                s->map_now = info.me_mapsize;
                rc = TNT_OK;
            } else
                s->broken = true;
        }
    }
    /* Opening moves an older layout's items, which may need a larger map. */
    for (size_t seen = s->map_now; mrc == 0 && rc == TNT_OK; seen = s->map_now) {
        if ((mrc = open_classes(s)) != MDB_MAP_FULL)
            break;
        mrc = 0;
        rc = grow(s, seen);
    }
    if (mrc != 0 || rc != TNT_OK) {
        if (rc == TNT_OK)
            rc = mrc == EACCES || mrc == EROFS
                     ? tnt__error(TNT_E_IO, "state store: cannot open '%s': %s", dir, mdb_strerror(mrc))
                     : fail(s, mrc, "cannot open the LMDB environment");
        store_close(&s->base);
        return tnt__local_report(rc, errbuf, errbuf_size);
    }
    s->max_key = (size_t)mdb_env_get_maxkeysize(s->env);
    *out = &s->base;
    return tnt__local_report(TNT_OK, errbuf, errbuf_size);
}

static void store_close(tnt_store *store)
{
    local_store *s = (local_store *)store;
    if (!s)
        return;
    for (size_t i = 0; i < NREADERS; i++) {
        MDB_txn *t = atomic_exchange(&s->readers[i], NULL);
        if (t)
            mdb_txn_abort(t);
    }
    if (s->env && !s->broken)
        mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->remap);
    tnt__free(s->dir);
    tnt__free(s);
    tnt__handle_release();
}

/* ---- reads ---- */

static tnt_status store_get(tnt_store *store, const void *pk, size_t pk_len, const void *sk, size_t sk_len,
                            void **value_out, size_t *value_len_out, uint64_t *version_out)
{
    local_store *s = (local_store *)store;
    key_buf k;
    tnt_status rc = make_key(s, &k, pk, pk_len, sk, sk_len);
    if (rc != TNT_OK)
        return rc;
    MDB_txn *txn;
    int mrc = read_begin(s, &txn);
    if (mrc != 0)
        return fail(s, mrc, "read transaction");
    MDB_val key = {k.len, k.b}, val;
    mrc = seen(s, txn, k.cls) ? mdb_get(txn, reader_dbi(s, k.cls), &key, &val) : MDB_NOTFOUND;
    tnt_store_item it;
    if (mrc == MDB_NOTFOUND)
        rc = tnt__error(TNT_E_NOTFOUND, "state store: no such item");
    else if (mrc != 0)
        rc = fail(s, mrc, "get");
    else if (!decode_item(&key, &val, &it))
        rc = tnt__error(TNT_E_CORRUPT, "state store '%s': a malformed value", s->dir);
    if (rc == TNT_OK && value_out) {
        void *copy = tnt_backend_alloc(it.value_len ? it.value_len : 1);
        if (!copy)
            rc = tnt__error(TNT_E_NOMEM, "out of memory");
        else {
            if (it.value_len)
                memcpy(copy, it.value, it.value_len);
            *value_out = copy;
        }
    }
    if (rc == TNT_OK) {
        if (value_len_out)
            *value_len_out = it.value_len;
        if (version_out)
            *version_out = it.version;
    }
    read_end(s, txn);
    return rc;
}

typedef struct range {
    key_buf prefix, from, to;
    bool to_bounded; /* sk_to given */
    size_t limit, n;
    int reverse;
    tnt_store_item_fn fn;
    void *userdata;
    bool stop; /* the callback said so, or the limit is reached */
} range;

/* The items of the range in one class's database. */
static tnt_status query_class(local_store *s, MDB_txn *txn, MDB_dbi dbi, range *r)
{
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn, dbi, &cur);
    if (mrc != 0)
        return fail(s, mrc, "cursor");
    tnt_status rc = TNT_OK;
    MDB_val key, val;
    if (!r->reverse) {
        key = (MDB_val){r->from.len, r->from.b};
        mrc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    } else {
        /* Position on the first key past the range, then step back. */
        key_buf past = r->to;
        bool bounded = r->to_bounded;
        if (!bounded) { /* the successor of the prefix, if it has one */
            past = r->prefix;
            while (past.len > 0 && past.b[past.len - 1] == 0xff)
                past.len--;
            bounded = past.len > 0;
            if (bounded)
                past.b[past.len - 1]++;
        }
        key = (MDB_val){past.len, past.b};
        mrc = bounded ? mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE) : MDB_NOTFOUND;
        mrc = mrc == 0 ? mdb_cursor_get(cur, &key, &val, MDB_PREV)
              : mrc == MDB_NOTFOUND ? mdb_cursor_get(cur, &key, &val, MDB_LAST)
                                    : mrc;
    }
    while (mrc == 0) {
        if (r->limit && r->n >= r->limit) {
            r->stop = true;
            break;
        }
        if (!has_prefix(&key, &r->prefix))
            break;
        if (!r->reverse && r->to_bounded && keycmp(key.mv_data, key.mv_size, r->to.b, r->to.len) >= 0)
            break;
        if (r->reverse && keycmp(key.mv_data, key.mv_size, r->from.b, r->from.len) < 0)
            break;
        tnt_store_item it;
        if (!decode_item(&key, &val, &it)) {
            rc = tnt__error(TNT_E_CORRUPT, "state store '%s': a malformed value", s->dir);
            break;
        }
        r->n++;
        if (r->fn(r->userdata, &it) != 0) {
            r->stop = true;
            break;
        }
        mrc = mdb_cursor_get(cur, &key, &val, r->reverse ? MDB_PREV : MDB_NEXT);
    }
    if (rc == TNT_OK && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = fail(s, mrc, "query");
    mdb_cursor_close(cur);
    return rc;
}

/* Visit the items of one partition key with sk in [from, to), forward or
 * backward: the classes the range spans, in order. */
static tnt_status store_query(tnt_store *store, const void *pk, size_t pk_len, const void *sk_from, size_t sk_from_len,
                              const void *sk_to, size_t sk_to_len, size_t limit, int reverse, tnt_store_item_fn fn,
                              void *userdata)
{
    local_store *s = (local_store *)store;
    range r = {.to_bounded = sk_to != NULL, .limit = limit, .reverse = reverse, .fn = fn, .userdata = userdata};
    tnt_status rc = make_key(s, &r.prefix, pk, pk_len, NULL, 0);
    if (rc == TNT_OK)
        rc = make_key(s, &r.from, pk, pk_len, sk_from, sk_from ? sk_from_len : 0);
    if (rc == TNT_OK)
        rc = make_key(s, &r.to, pk, pk_len, sk_to, sk_to ? sk_to_len : 0);
    if (rc != TNT_OK)
        return rc;
    if (!fn)
        return tnt__error(TNT_E_MISUSE, "state store query: no callback");
    int lo = r.from.cls;
    int hi = !sk_to ? NCLASS - 1 : sk_to_len ? r.to.cls : -1; /* nothing sorts before "" */
    MDB_txn *txn;
    int mrc = read_begin(s, &txn);
    if (mrc != 0)
        return fail(s, mrc, "read transaction");
    for (int i = 0; i <= hi - lo && rc == TNT_OK && !r.stop; i++) {
        int c = reverse ? hi - i : lo + i;
        if (seen(s, txn, c))
            rc = query_class(s, txn, reader_dbi(s, c), &r);
    }
    read_end(s, txn);
    return rc;
}

static tnt_status store_scan(tnt_store *store, tnt_store_item_fn fn, void *userdata)
{
    local_store *s = (local_store *)store;
    if (!fn)
        return tnt__error(TNT_E_MISUSE, "state store scan: no callback");
    MDB_txn *txn;
    int mrc = read_begin(s, &txn);
    if (mrc != 0)
        return fail(s, mrc, "read transaction");
    tnt_status rc = TNT_OK;
    bool stop = false;
    for (int c = 0; c < NCLASS && rc == TNT_OK && !stop; c++) {
        MDB_cursor *cur;
        if (!seen(s, txn, c))
            continue;
        if ((mrc = mdb_cursor_open(txn, reader_dbi(s, c), &cur)) != 0) {
            rc = fail(s, mrc, "cursor");
            break;
        }
        MDB_val key, val;
        for (mrc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); mrc == 0;
             mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
            tnt_store_item it;
            if (!decode_item(&key, &val, &it)) {
                rc = tnt__error(TNT_E_CORRUPT, "state store '%s': a malformed value", s->dir);
                break;
            }
            if (fn(userdata, &it) != 0) {
                stop = true;
                break;
            }
        }
        if (rc == TNT_OK && mrc != 0 && mrc != MDB_NOTFOUND)
            rc = fail(s, mrc, "scan");
        mdb_cursor_close(cur);
    }
    read_end(s, txn);
    return rc;
}

/* ---- writes ---- */

static tnt_status check_value(const tnt_store_item *it, size_t i)
{
    if (it->value_len > TNT_STORE_MAX_VALUE)
        return tnt__error(TNT_E_TOOBIG, "state store: item %zu has a %zu-byte value (limit %d)", i, it->value_len,
                          TNT_STORE_MAX_VALUE);
    if (it->value_len && !it->value)
        return tnt__error(TNT_E_MISUSE, "state store: item %zu has a NULL value with a length", i);
    return TNT_OK;
}

/* Write one item in txn, unconditionally or if its version is `expect`.
 * Most items are new: unless the put expects a version, the first put only
 * inserts (one descent of the tree) and reports an existing item with its
 * value, which is then replaced. A put that fails its condition fails the
 * transaction, which is aborted with whatever it inserted. */
static tnt_status put_in(local_store *s, MDB_txn *txn, const key_buf *k, const tnt_store_item *it, bool check,
                         uint64_t *version_out)
{
    MDB_val key = {k->len, (void *)k->b};
    MDB_dbi dbi;
    int mrc = class_dbi(s, txn, k->cls, true, &dbi);
    if (mrc != 0)
        return fail(s, mrc, "create a database");
    bool expects = check && it->version != TNT_STORE_ANY && it->version != TNT_STORE_NEW;
    MDB_val val = {8 + it->value_len, NULL};
    if (expects) /* read first: a put bound to fail writes nothing */
        mrc = mdb_get(txn, dbi, &key, &val);
    else
        mrc = mdb_put(txn, dbi, &key, &val, MDB_RESERVE | MDB_NOOVERWRITE);
    bool found = expects ? mrc == 0 : mrc == MDB_KEYEXIST;
    if (mrc != 0 && !found && !(expects && mrc == MDB_NOTFOUND))
        return fail(s, mrc, expects ? "get" : "put");
    bool exists = found && val.mv_size >= 8;
    uint64_t current = exists ? tnt__get_u64(val.mv_data) : 0;
    if (check && it->version != TNT_STORE_ANY &&
        (it->version == TNT_STORE_NEW ? exists : (!exists || current != it->version)))
        return tnt__error(TNT_E_CONFLICT, "state store: the item %s (version %llu expected, %s)",
                          it->version == TNT_STORE_NEW ? "exists" : "changed", (unsigned long long)it->version,
                          exists ? "found another" : "found none");
    if (expects || found) {
        val = (MDB_val){8 + it->value_len, NULL};
        if ((mrc = mdb_put(txn, dbi, &key, &val, MDB_RESERVE)) != 0)
            return fail(s, mrc, "put");
    }
    uint64_t version = current + 1;
    tnt__put_u64(val.mv_data, version);
    if (it->value_len)
        memcpy((unsigned char *)val.mv_data + 8, it->value, it->value_len);
    if (version_out)
        *version_out = version;
    return TNT_OK;
}

typedef tnt_status (*write_fn)(local_store *s, MDB_txn *txn, const void *arg);

/* fn in a write transaction, committed if it succeeds. A transaction that
 * finds the map full leaves nothing behind: the map grows and fn runs
 * again. */
static tnt_status write_in_txn(local_store *s, write_fn fn, const void *arg)
{
    for (;;) {
        hold(s);
        size_t seen = s->map_now;
        tl_full = false;
        tnt_status rc;
        MDB_txn *txn;
        int mrc = s->broken ? BROKEN : mdb_txn_begin(s->env, NULL, 0, &txn);
        if (mrc != 0)
            rc = fail(s, mrc, "write transaction");
        else {
            PAGES_ACQUIRE(s);
            rc = finish(s, txn, fn(s, txn, arg), &mrc);
            if (rc == TNT_OK && mrc)
                rc = fail(s, mrc, "commit");
        }
        release(s);
        if (!tl_full)
            return rc;
        if (held(s)) /* inside a read of this thread's, the map cannot move */
            return tnt__error(TNT_E_UNSUPPORTED,
                              "state store '%s': its map is full, and cannot grow while this thread reads the store "
                              "(a write inside a query's callback)",
                              s->dir);
        if ((rc = grow(s, seen)) != TNT_OK)
            return rc;
    }
}

typedef struct put_args {
    const key_buf *k;
    const tnt_store_item *item;
    uint64_t version;
} put_args;

static tnt_status put_fn(local_store *s, MDB_txn *txn, const void *arg)
{
    put_args *a = (put_args *)arg;
    return put_in(s, txn, a->k, a->item, true, &a->version);
}

static tnt_status store_put(tnt_store *store, const tnt_store_item *item, uint64_t *version_out)
{
    local_store *s = (local_store *)store;
    if (!item)
        return tnt__error(TNT_E_MISUSE, "state store put: item is NULL");
    key_buf k;
    tnt_status rc = check_value(item, 0);
    if (rc == TNT_OK)
        rc = make_key(s, &k, item->pk, item->pk_len, item->sk, item->sk_len);
    if (rc != TNT_OK)
        return rc;
    put_args a = {&k, item, 0};
    rc = write_in_txn(s, put_fn, &a);
    if (rc == TNT_OK && version_out)
        *version_out = a.version;
    return rc;
}

static tnt_status del_in(local_store *s, MDB_txn *txn, const key_buf *k)
{
    MDB_val key = {k->len, (void *)k->b};
    MDB_dbi dbi;
    int mrc = class_dbi(s, txn, k->cls, false, &dbi);
    if (mrc == 0)
        mrc = mdb_del(txn, dbi, &key, NULL);
    return mrc == 0 || mrc == MDB_NOTFOUND ? TNT_OK : fail(s, mrc, "delete");
}

typedef struct batch_args {
    const tnt_store_item *items;
    const key_buf *keys;
    size_t n;
} batch_args;

static tnt_status batch_fn(local_store *s, MDB_txn *txn, const void *arg)
{
    const batch_args *a = arg;
    tnt_status rc = TNT_OK;
    for (size_t i = 0; i < a->n && rc == TNT_OK; i++)
        rc = a->items[i].value ? put_in(s, txn, &a->keys[i], &a->items[i], false, NULL) : del_in(s, txn, &a->keys[i]);
    return rc;
}

/* Items written in one write transaction: all or nothing. */
static tnt_status write_txn(local_store *s, const tnt_store_item *items, size_t n)
{
    if (n && !items)
        return tnt__error(TNT_E_MISUSE, "state store batch: items is NULL");
    key_buf *keys = n ? tnt__malloc(n * sizeof *keys) : NULL;
    if (n && !keys)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt_status rc = TNT_OK;
    for (size_t i = 0; i < n && rc == TNT_OK; i++) {
        rc = check_value(&items[i], i);
        if (rc == TNT_OK)
            rc = make_key(s, &keys[i], items[i].pk, items[i].pk_len, items[i].sk, items[i].sk_len);
    }
    if (rc == TNT_OK) {
        batch_args a = {items, keys, n};
        rc = write_in_txn(s, batch_fn, &a);
    }
    tnt__free(keys);
    return rc;
}

/* One write transaction: all or nothing, never unprocessed items. */
static tnt_status store_batch_write(tnt_store *store, const tnt_store_item *items, size_t n, size_t *unprocessed_out)
{
    if (unprocessed_out)
        *unprocessed_out = n;
    if (n > TNT_STORE_MAX_BATCH)
        return tnt__error(TNT_E_INVALID, "state store: a batch of %zu items (at most %d)", n, TNT_STORE_MAX_BATCH);
    tnt_status rc = write_txn((local_store *)store, items, n);
    if (rc == TNT_OK && unprocessed_out)
        *unprocessed_out = 0;
    return rc;
}

static tnt_status store_transact(tnt_store *store, const tnt_store_item *items, size_t n)
{
    return write_txn((local_store *)store, items, n);
}

static tnt_status remove_fn(local_store *s, MDB_txn *txn, const void *arg)
{
    return del_in(s, txn, arg);
}

static tnt_status store_remove(tnt_store *store, const void *pk, size_t pk_len, const void *sk, size_t sk_len)
{
    local_store *s = (local_store *)store;
    key_buf k;
    tnt_status rc = make_key(s, &k, pk, pk_len, sk, sk_len);
    return rc != TNT_OK ? rc : write_in_txn(s, remove_fn, &k);
}

static tnt_status clear_fn(local_store *s, MDB_txn *txn, const void *arg)
{
    (void)arg;
    int mrc = 0;
    for (int c = 0; c < NCLASS && mrc == 0; c++)
        if (atomic_load_explicit(&s->born[c], memory_order_acquire) != NEVER)
            mrc = mdb_drop(txn, reader_dbi(s, c), 0); /* emptied; the database stays */
    return mrc ? fail(s, mrc, "clear") : TNT_OK;
}

static tnt_status store_clear(tnt_store *store)
{
    return write_in_txn((local_store *)store, clear_fn, NULL);
}

static const tnt_store_methods store_methods = {
    TNT_BACKEND_VERSION, /* version */
    store_close,         /* close: mdb_env_close */
    store_get,           /* get: one read transaction */
    store_put,           /* put: version check and write in one write transaction */
    store_batch_write,   /* batch_write: one write transaction, all or nothing */
    store_query,         /* query: a cursor over [pk+from, pk+to) */
    store_remove,        /* remove */
    store_scan,          /* scan: the databases of the classes in turn, each in key order */
    store_clear,         /* clear: mdb_drop of every class's database */
    store_transact,      /* transact: one write transaction of any size */
};
