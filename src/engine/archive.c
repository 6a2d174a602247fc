/* The cold archive and replay.
 *
 * Archiving moves the oldest records of each log partition — those before
 * the first record newer than the policy — into one archive segment:
 *     log/<partition>/<first offset>-<end offset>-<newest time>.zst
 * a run of independent zstd frames, each holding records framed as
 * [u32 length][i64 offset][record]. A segment closes past
 * engine.archive_segment compressed bytes (64 MiB) and the next one goes on
 * from there, so a run holds one segment in memory at a time, and replay
 * and expiry read one at a time. The state store keeps every history
 * entry, pointing at its frame; the event bodies leave the store; the log
 * drops the archived records. History and replay read the segments
 * transparently. Past the retention, segments and their entries are
 * deleted. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "codec/flat.h"
#include "codec/proto.h"
#include "engine/engine.h"
#include "engine/record.h"

#define FRAME_BYTES ((size_t)256 << 10) /* uncompressed records per zstd frame */
#define ZSTD_LEVEL 3

static int64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_i64(uint8_t *p, int64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int64_t get_i64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* ---- reading segments ---- */

/* Calls fn for each record of one decompressed frame. */
typedef tnt_status (*record_fn)(void *ud, int64_t offset, const void *rec, size_t len, uint32_t item);

static tnt_status each_record(const uint8_t *p, size_t n, record_fn fn, void *ud)
{
    uint32_t item = 0;
    while (n >= 12) {
        uint32_t len = get_u32(p);
        int64_t off = get_i64(p + 4);
        if (len > n - 12)
            return tnt__error(TNT_E_CORRUPT, "an archive frame is truncated");
        tnt_status st = fn(ud, off, p + 12, len, item++);
        if (st != TNT_OK)
            return st;
        p += 12 + len;
        n -= 12 + len;
    }
    return n ? tnt__error(TNT_E_CORRUPT, "an archive frame ends inside a record") : TNT_OK;
}

/* Decompress one frame into a buffer the caller frees. */
static tnt_status unzip(const void *src, size_t n, void **out, size_t *len)
{
    unsigned long long size = ZSTD_getFrameContentSize(src, n);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > ((size_t)64 << 20))
        return tnt__error(TNT_E_CORRUPT, "an archive frame is not a zstd frame of known size");
    void *buf = tnt__malloc(size ? (size_t)size : 1);
    if (!buf)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    size_t got = ZSTD_decompress(buf, (size_t)size, src, n);
    if (ZSTD_isError(got) || got != size) {
        tnt__free(buf);
        return tnt__error(TNT_E_CORRUPT, "an archive frame does not decompress: %s",
                          ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short");
    }
    *out = buf;
    *len = (size_t)size;
    return TNT_OK;
}

/* Walk a whole segment object: frame by frame. */
static tnt_status each_frame(const uint8_t *seg, size_t n, tnt_status (*fn)(void *, uint64_t, const uint8_t *, size_t,
                                                                            uint32_t, const void *, size_t),
                             void *ud)
{
    uint64_t off = 0;
    while (off < n) {
        size_t flen = ZSTD_findFrameCompressedSize(seg + off, (size_t)(n - off));
        if (ZSTD_isError(flen))
            return tnt__error(TNT_E_CORRUPT, "archive segment: %s", ZSTD_getErrorName(flen));
        void *plain = NULL; /* unzip() leaves it alone when it fails */
        size_t plen = 0;
        tnt_status st = unzip(seg + off, flen, &plain, &plen);
        if (st == TNT_OK)
            st = fn(ud, off, seg + off, flen, (uint32_t)0, plain, plen);
        tnt__free(plain);
        if (st != TNT_OK)
            return st;
        off += flen;
    }
    return TNT_OK;
}

/* Is an archived event the one its history entry recorded? The entry holds
 * the digest the history chain folded: of the event's flat store record
 * (codec/flat.h), or, for events stored before that record existed, of the
 * protobuf form the log and the archive keep. */
static bool same_body(const tnt_event *ev, const tnt__record *rec, const uint8_t digest[32], tnt_status *st)
{
    uint8_t d[32];
    tnt__body_digest(d, rec->event_pb, rec->event_len);
    if (memcmp(d, digest, 32) == 0)
        return true;
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__flat_encode_event(&b, ev);
    if (b.oom)
        *st = tnt__error(TNT_E_NOMEM, "out of memory");
    else
        tnt__body_digest(d, b.data, b.len);
    tnt__buf_free(&b);
    return *st == TNT_OK && memcmp(d, digest, 32) == 0;
}

tnt_status tnt__archive_check(tnt_engine *e, const tnt_event *ev, const tnt__record *rec, tnt__arena *a)
{
    tnt__effect fx;
    if (!tnt__effect_from(&fx, ev, rec->event_pb, rec->event_len, a) || fx.nids == 0)
        return tnt__error(TNT_E_CORRUPT, "archive: an archived event without a hash or an identifier");
    tnt__key k;
    tnt__key_index(&k, fx.ids[0], fx.time_ms, fx.hash);
    void *v = NULL;
    size_t len = 0;
    tnt_status st = tnt__store_get(e, &k, &v, &len);
    if (st == TNT_E_NOTFOUND)
        return tnt__error(TNT_E_CORRUPT, "archive: event %s is in a segment but not in the history of %s: the "
                                         "segment was changed", ev->hash_id, fx.ids[0]);
    if (st != TNT_OK)
        return st;
    tnt_v1_IndexEntry w;
    bool ok = tnt__index_entry_read(v, len, &w) && w.digest.size == 32;
    tnt_free(v);
    if (!ok)
        return tnt__error(TNT_E_CORRUPT, "a history entry of %s is corrupt", fx.ids[0]);
    if (!same_body(ev, rec, w.digest.bytes, &st) && st == TNT_OK)
        st = tnt__error(TNT_E_CORRUPT, "archive: event %s is not the event that was archived (its SHA-256 differs): "
                                       "a segment was changed", ev->hash_id);
    return st;
}

tnt_status tnt__archive_fetch(tnt_engine *e, const tnt_v1_IndexEntry *w, tnt__arena *a, tnt_event **ev)
{
    void *frame = NULL, *plain = NULL;
    size_t flen = 0, plen = 0;
    tnt_status st = e->archive->methods->get(e->archive, w->segment, w->frame_offset, w->frame_len, &frame, &flen);
    if (st != TNT_OK)
        return tnt__error(st, "archive segment %s: %s", w->segment, tnt_error_last());
    st = unzip(frame, flen, &plain, &plen);
    tnt_free(frame);
    if (st != TNT_OK)
        return st;
    const uint8_t *p = plain;
    size_t n = plen;
    st = tnt__error(TNT_E_CORRUPT, "archive segment %s: no record %u in its frame", w->segment, w->item);
    for (uint32_t item = 0; n >= 12; item++) {
        uint32_t len = get_u32(p);
        if (len > n - 12)
            break;
        if (item == w->item) {
            tnt__record rec = {0};
            st = tnt__record_read(p + 12, len, &rec);
            if (st == TNT_OK && rec.kind != TNT__REC_EVENT)
                st = tnt__error(TNT_E_CORRUPT, "archive segment %s: record %u is no event", w->segment, item);
            if (st == TNT_OK) {
                *ev = tnt__event_new(a);
                st = *ev ? tnt__proto_decode_event(*ev, rec.event_pb, rec.event_len) : TNT_E_NOMEM;
            }
            if (st == TNT_E_SYNTAX) /* the engine wrote it: a record that does not read is damage */
                st = tnt__error(TNT_E_CORRUPT, "archive segment %s: record %u does not read: %s", w->segment, item,
                                tnt_error_last());
            if (st == TNT_OK && w->digest.size == 32 && !same_body(*ev, &rec, w->digest.bytes, &st) && st == TNT_OK)
                st = tnt__error(TNT_E_CORRUPT, "archive segment %s: record %u is not the event that was archived "
                                               "(its SHA-256 differs): the segment was changed",
                                w->segment, item);
            if (st != TNT_OK)
                *ev = NULL;
            break;
        }
        p += 12 + len;
        n -= 12 + len;
    }
    tnt__free(plain);
    return st;
}

bool tnt__index_split(const void *value, size_t len, const uint8_t **entry, size_t *entry_len, const uint8_t **body,
                      size_t *body_len)
{
    const uint8_t *v = value;
    *body = NULL;
    *body_len = 0;
    if (len == 0 || v[0] != 0x00) { /* a plain IndexEntry */
        *entry = v;
        *entry_len = len;
        return true;
    }
    if (len < 4 || v[1] != 'I' || v[2] != 0x01)
        return false;
    size_t n = 0, at = 3;
    for (int shift = 0; at < len && shift < 35; shift += 7) {
        uint8_t c = v[at++];
        n |= (size_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            if (n > len - at || len - at - n < 2) /* the body: at least a kind byte and one more */
                return false;
            *entry = v + at;
            *entry_len = n;
            *body = v + at + n;
            *body_len = len - at - n;
            return true;
        }
    }
    return false;
}

bool tnt__index_entry_read(const void *value, size_t len, tnt_v1_IndexEntry *w)
{
    const uint8_t *pb, *body;
    size_t pb_len, body_len;
    *w = (tnt_v1_IndexEntry)tnt_v1_IndexEntry_init_zero;
    if (!tnt__index_split(value, len, &pb, &pb_len, &body, &body_len))
        return false;
    pb_istream_t is = pb_istream_from_buffer(pb, pb_len);
    return pb_decode_ex(&is, tnt_v1_IndexEntry_fields, w, PB_DECODE_NOINIT);
}

int tnt__index_archived(const void *entry, size_t len)
{
    /* the wire walked for field 2 alone: a history reads one entry per event */
    pb_istream_t is = pb_istream_from_buffer(entry, len);
    pb_wire_type_t wt;
    uint32_t tag;
    bool eof = false;
    int archived = 0;
    while (pb_decode_tag(&is, &wt, &tag, &eof)) {
        if (tag == tnt_v1_IndexEntry_segment_tag && wt == PB_WT_STRING) {
            uint32_t n;
            if (!pb_decode_varint32(&is, &n) || !pb_read(&is, NULL, n))
                return -1;
            archived = n != 0; /* the last one counts, as in a full decode */
        } else if (!pb_skip_field(&is, wt)) {
            return -1;
        }
    }
    return eof ? archived : -1;
}

tnt_status tnt__event_body_decode(tnt__arena *a, const void *body, size_t len, tnt_event **ev)
{
    const uint8_t *b = body;
    if (len < 2 || b[0] != 'E')
        return tnt__error(TNT_E_CORRUPT, "a stored event is corrupt");
    *ev = tnt__event_new(a);
    return *ev ? tnt__event_record_decode(*ev, b + 1, len - 1) : tnt__error(TNT_E_NOMEM, "out of memory");
}

tnt_status tnt__event_load(tnt_engine *e, const uint8_t hash[32], tnt__arena *a, tnt_event **ev)
{
    tnt__key k;
    tnt__key_event(&k, hash);
    void *v = NULL;
    size_t len = 0;
    tnt_status st = tnt__store_get(e, &k, &v, &len);
    if (st != TNT_OK)
        return st;
    if (len > 1 && ((uint8_t *)v)[0] == 'E') {
        st = tnt__event_body_decode(a, v, len, ev);
    } else if (len > 1 && ((uint8_t *)v)[0] == 'A') {
        tnt_v1_IndexEntry w = tnt_v1_IndexEntry_init_zero;
        pb_istream_t is = pb_istream_from_buffer((uint8_t *)v + 1, len - 1);
        st = pb_decode_ex(&is, tnt_v1_IndexEntry_fields, &w, PB_DECODE_NOINIT) ? tnt__archive_fetch(e, &w, a, ev)
                                                            : tnt__error(TNT_E_CORRUPT, "an archived event's entry is corrupt");
    } else {
        st = tnt__error(TNT_E_CORRUPT, "a stored event is corrupt");
    }
    tnt_free(v);
    return st;
}

/* ---- listing segments ---- */
typedef struct seglist {
    char **keys;
    size_t n, cap;
    tnt_status st;
} seglist;

static int list_one(void *ud, const char *key, uint64_t size, int64_t modified_ms);
static void seglist_free(seglist *l);
static tnt_status archived_end(tnt_engine *e, int p, int64_t *end);

tnt_status tnt__archived_end(tnt_engine *e, int p, int64_t *end) { return archived_end(e, p, end); }

/* ---- archiving one partition ---- */

typedef struct seg {
    tnt_engine *e;
    int partition;
    int64_t cutoff;
    int64_t first, end, newest;
    tnt__buf frame;           /* records of the frame being filled */
    tnt__buf out;             /* the compressed segment */
    ZSTD_CCtx *z;
    /* where each record went: offset, frame offset, frame length, item */
    struct place {
        int64_t offset;
        uint64_t frame_off;
        uint32_t frame_len, item;
    } *places;
    size_t nplaces, capplaces, frame_first, frame_items;
    bool full;                /* closed at its size: more records to archive */
    tnt_status st;
} seg;

static void close_frame(seg *s)
{
    if (!s->frame.len || s->st != TNT_OK)
        return;
    size_t bound = ZSTD_compressBound(s->frame.len);
    if (!tnt__buf_reserve(&s->out, bound)) {
        s->st = tnt__error(TNT_E_NOMEM, "out of memory");
        return;
    }
    size_t n = ZSTD_compress2(s->z, s->out.data + s->out.len, bound, s->frame.data, s->frame.len);
    if (ZSTD_isError(n)) {
        s->st = tnt__error(TNT_E_BACKEND, "zstd: %s", ZSTD_getErrorName(n));
        return;
    }
    for (size_t i = s->frame_first; i < s->nplaces; i++) {
        s->places[i].frame_off = s->out.len;
        s->places[i].frame_len = (uint32_t)n;
    }
    s->out.len += n;
    s->frame_first = s->nplaces;
    s->frame_items = 0;
    tnt__buf_reset(&s->frame);
}

static int collect(void *ud, int partition, int64_t offset, int64_t time_ms, const void *key, size_t key_len,
                   const void *value, size_t value_len)
{
    (void)partition, (void)key, (void)key_len;
    seg *s = ud;
    if (time_ms >= s->cutoff)
        return 1; /* the first record to keep: the archived prefix ends here */
    if (s->first < 0)
        s->first = offset;
    s->end = offset + 1;
    if (time_ms > s->newest)
        s->newest = time_ms;
    if (s->nplaces == s->capplaces) {
        size_t cap = s->capplaces ? s->capplaces * 2 : 1024;
        struct place *v = tnt__realloc(s->places, cap * sizeof *v);
        if (!v) {
            s->st = tnt__error(TNT_E_NOMEM, "out of memory");
            return 1;
        }
        s->places = v;
        s->capplaces = cap;
    }
    s->places[s->nplaces++] = (struct place){offset, 0, 0, (uint32_t)s->frame_items++};
    uint8_t head[12];
    put_u32(head, (uint32_t)value_len);
    put_i64(head + 4, offset);
    tnt__buf_append(&s->frame, head, 12);
    tnt__buf_append(&s->frame, value, value_len);
    if (s->frame.oom)
        s->st = tnt__error(TNT_E_NOMEM, "out of memory");
    if (s->frame.len >= FRAME_BYTES || s->frame.len >= s->e->segment_bytes)
        close_frame(s);
    if (s->st == TNT_OK && s->out.len >= s->e->segment_bytes) {
        s->full = true; /* this record is the segment's last */
        return 1;
    }
    return s->st != TNT_OK;
}

/* Point the history entries of the archived events at the segment. */
typedef struct repoint {
    tnt_engine *e;
    seg *s;
    const char *key;
    size_t next;      /* index into s->places */
    tnt__arena a;
    size_t events;    /* events among the records (not master data or scans) */
} repoint;

/* A store item under key k with its key bytes copied into a (value NULL with
 * len 0: a delete in a batch); false when out of memory. */
static bool key_item(tnt_store_item *out, tnt__arena *a, const tnt__key *k, const void *value, size_t len)
{
    char *kb = tnt__arena_alloc(a, k->pk_len + k->sk_len);
    if (!kb)
        return false;
    memcpy(kb, k->pk, k->pk_len);
    memcpy(kb + k->pk_len, k->sk, k->sk_len);
    *out = (tnt_store_item){kb, k->pk_len, kb + k->pk_len, k->sk_len, value, len, TNT_STORE_ANY};
    return true;
}

static tnt_status repoint_record(void *ud, int64_t offset, const void *rec, size_t len, uint32_t item)
{
    repoint *r = ud;
    (void)item;
    const struct place *pl = &r->s->places[r->next++];
    if (pl->offset != offset)
        return tnt__error(TNT_E_CORRUPT, "archive segment %s: records out of order", r->key);
    tnt_v1_IndexEntry w = tnt_v1_IndexEntry_init_zero;
    snprintf(w.segment, sizeof w.segment, "%s", r->key);
    w.frame_offset = pl->frame_off;
    w.frame_len = pl->frame_len;
    w.item = pl->item;
    /* The event was applied when it was ingested: rewrite its history
     * entries and its own item to point at the segment. */
    tnt__record rc = {0};
    tnt_status st = tnt__record_read(rec, len, &rc);
    if (st != TNT_OK || rc.kind != TNT__REC_EVENT)
        return st; /* master data and scans stay where they are until they expire */
    r->events++;
    tnt_event *ev = tnt__event_new(&r->a);
    if (!ev)
        return TNT_E_NOMEM;
    if ((st = tnt__proto_decode_event(ev, rc.event_pb, rc.event_len)) != TNT_OK)
        return st;
    tnt__effect fx;
    if (!tnt__effect_from(&fx, ev, rc.event_pb, rc.event_len, &r->a))
        return tnt__error(TNT_E_CORRUPT, "archive: an event without a hash");
    /* The digest its history entries and the chain hold: of the body the
     * store keeps, which for events stored before the flat record is their
     * protobuf; an event archived already (a repeated run, the same event
     * logged twice) keeps the digest its entry has. */
    memcpy(w.digest.bytes, fx.digest, 32);
    w.digest.size = 32;
    tnt__key ek;
    tnt__key_event(&ek, fx.hash);
    void *held = NULL;
    size_t held_len = 0;
    st = tnt__store_get(r->e, &ek, &held, &held_len);
    if (st == TNT_E_NOTFOUND)
        st = TNT_OK;
    else if (st == TNT_OK && held_len > 1 && ((uint8_t *)held)[0] == 'E')
        tnt__body_digest(w.digest.bytes, (uint8_t *)held + 1, held_len - 1);
    else if (st == TNT_OK && held_len > 1 && ((uint8_t *)held)[0] == 'A') {
        tnt_v1_IndexEntry was = tnt_v1_IndexEntry_init_zero;
        pb_istream_t is = pb_istream_from_buffer((uint8_t *)held + 1, held_len - 1);
        if (pb_decode_ex(&is, tnt_v1_IndexEntry_fields, &was, PB_DECODE_NOINIT) && was.digest.size == 32)
            memcpy(w.digest.bytes, was.digest.bytes, 32);
        else
            st = tnt__error(TNT_E_CORRUPT, "archive: the stored entry of an archived event is corrupt");
    } else if (st == TNT_OK)
        st = tnt__error(TNT_E_CORRUPT, "archive: a stored event is corrupt");
    tnt_free(held);
    if (st != TNT_OK)
        return st;
    /* every history entry of the event, and the event's own item */
    size_t n = fx.nids + 1, k = 0;
    tnt_store_item *items = tnt__arena_alloc(&r->a, n * sizeof *items);
    uint8_t enc[512];
    pb_ostream_t os = pb_ostream_from_buffer(enc + 1, sizeof enc - 1);
    if (!items || !pb_encode(&os, tnt_v1_IndexEntry_fields, &w))
        return tnt__error(TNT_E_NOMEM, "encoding an archive entry");
    enc[0] = 'A';
    for (uint32_t i = 0; i < fx.nids; i++) {
        tnt__key key;
        tnt__key_index(&key, fx.ids[i], fx.time_ms, fx.hash);
        if (!key_item(&items[k++], &r->a, &key, enc + 1, os.bytes_written))
            return TNT_E_NOMEM;
    }
    if (!key_item(&items[k++], &r->a, &ek, enc, os.bytes_written + 1))
        return TNT_E_NOMEM;
    st = tnt__store_write(r->e, items, k);
    tnt__arena_reset(&r->a);
    return st;
}

static tnt_status repoint_frame(void *ud, uint64_t off, const uint8_t *z, size_t zlen, uint32_t unused,
                                const void *plain, size_t plen)
{
    (void)off, (void)z, (void)zlen, (void)unused;
    return each_record(plain, plen, repoint_record, ud);
}

static tnt_status archive_partition(tnt_engine *e, int p, int64_t cutoff, size_t *archived, bool *more)
{
    seg s = {e, p, cutoff, -1, -1, INT64_MIN, {0}, {0}, NULL, NULL, 0, 0, 0, 0, false, TNT_OK};
    *more = false;
    /* zstd's allocator hooks are in its static-only API; with the shared
     * libzstd it allocates with the C library's malloc. */
    s.z = ZSTD_createCCtx();
    if (!s.z)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    /* each frame carries a checksum of its content: a damaged segment is an
     * error when read, never events silently changed */
    if (ZSTD_isError(ZSTD_CCtx_setParameter(s.z, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(s.z, ZSTD_c_checksumFlag, 1))) {
        ZSTD_freeCCtx(s.z);
        return tnt__error(TNT_E_BACKEND, "zstd: cannot set the compression level and checksums");
    }
    int64_t from = 0;
    tnt_status st = archived_end(e, p, &from);
    if (st == TNT_OK)
        st = e->log->methods->read(e->log, p, from, collect, &s);
    if (st == TNT_OK)
        st = s.st;
    close_frame(&s);
    if (st == TNT_OK)
        st = s.st;
    char key[160];
    size_t r_events = 0;
    if (st == TNT_OK && s.nplaces) {
        snprintf(key, sizeof key, "log/%04d/%020" PRId64 "-%020" PRId64 "-%020" PRId64 ".zst", p, s.first, s.end,
                 s.newest);
        st = e->archive->methods->put(e->archive, key, s.out.data, s.out.len);
        if (st == TNT_E_EXISTS) /* written by a run that stopped before the log was truncated */
            st = TNT_OK;
        if (st == TNT_OK) {
            repoint r = {e, &s, key, 0, {0}, 0};
            tnt__arena_init(&r.a, 0);
            st = each_frame((const uint8_t *)s.out.data, s.out.len, repoint_frame, &r);
            tnt__arena_destroy(&r.a);
            r_events = r.events;
        }
        /* where the archived prefix ends, kept after its segments expire:
         * a log that keeps records longer (its active file, Kafka's retention)
         * must not bring expired events back */
        if (st == TNT_OK) {
            char mark[64], end[24];
            snprintf(mark, sizeof mark, "mark/%04d/%020" PRId64, p, s.end);
            int n = snprintf(end, sizeof end, "%" PRId64, s.end);
            st = e->archive->methods->put(e->archive, mark, end, (size_t)n);
            if (st == TNT_E_EXISTS)
                st = TNT_OK;
        }
        if (st == TNT_OK)
            st = e->log->methods->truncate_before(e->log, p, s.end);
        if (st == TNT_OK) {
            *archived += r_events;
            *more = s.full;
        }
    }
    ZSTD_freeCCtx(s.z);
    tnt__buf_free(&s.frame);
    tnt__buf_free(&s.out);
    tnt__free(s.places);
    return st;
}

/* ---- expiry ---- */

typedef struct expire {
    tnt_engine *e;
    tnt__arena a;
    size_t n;
    tnt_v1_MasterRecord *masters; /* master data the expiring segment holds: logged again if current */
    size_t nmasters, capmasters;
    char **ids;       /* products whose history lost entries: chained again */
    size_t nids, capids;
    tnt_status err;
} expire;

static void touched(expire *x, const char *id)
{
    for (size_t i = x->nids; i-- > 0 && i + 64 >= x->nids;) /* a segment's records cluster by product */
        if (strcmp(x->ids[i], id) == 0)
            return;
    if (x->nids == x->capids) {
        size_t cap = x->capids ? x->capids * 2 : 64;
        char **v = tnt__realloc(x->ids, cap * sizeof *v);
        if (!v) {
            x->err = TNT_E_NOMEM;
            return;
        }
        x->ids = v;
        x->capids = cap;
    }
    if (!(x->ids[x->nids] = tnt__strdup(id)))
        x->err = TNT_E_NOMEM;
    else
        x->nids++;
}

/* The chains of the products that lost history entries, folded again and
 * sealed: what stays is verified as whole. */
static tnt_status rechain_expired(expire *x)
{
    tnt_status st = x->err;
    for (size_t i = 0; i < x->nids && st == TNT_OK; i++) {
        tnt_v1_ProductState *ps = tnt__malloc(sizeof *ps);
        if (!ps)
            return TNT_E_NOMEM;
        st = tnt__state_get(x->e, x->ids[i], ps);
        if (st == TNT_E_NOMEM || st == TNT_E_NOTFOUND) {
            tnt__free(ps);
            st = st == TNT_E_NOTFOUND ? TNT_OK : st;
            continue;
        }
        bool any = false;
        if (st == TNT_OK && (st = tnt__chain_fold(x->e, x->ids[i], ps->chain.bytes, &any)) == TNT_OK) {
            ps->chain.size = any ? 32 : 0;
            tnt__seal(x->e, ps);
            size_t size = 0;
            uint8_t *buf = tnt__state_encode(NULL, ps, &size);
            if (!buf)
                st = TNT_E_NOMEM;
            else {
                tnt__key k;
                tnt__key_state(&k, x->ids[i]);
                tnt_store_item it = {k.pk, k.pk_len, k.sk, k.sk_len, buf, size, TNT_STORE_ANY};
                st = tnt__store_write(x->e, &it, 1);
            }
            tnt__free(buf);
        }
        tnt__free(ps);
    }
    for (size_t i = 0; i < x->nids; i++)
        tnt__free(x->ids[i]);
    tnt__free(x->ids);
    x->ids = NULL;
    x->nids = x->capids = 0;
    return st;
}

/* Master data is not history: what is still current goes back into the log
 * before its segment is deleted, so that a replay still restores it. */
static tnt_status relog_masters(expire *x)
{
    tnt_status st = TNT_OK;
    for (size_t i = 0; i < x->nmasters && st == TNT_OK; i++) {
        const tnt_v1_MasterRecord *m = &x->masters[i];
        char *now = NULL;
        tnt_status g = tnt__master_lookup(x->e, (int)m->kind, m->key, &now);
        bool current = g == TNT_OK && strcmp(now, m->json) == 0;
        tnt_free(now);
        if (g != TNT_OK && g != TNT_E_NOTFOUND)
            return g;
        if (!current)
            continue;
        tnt__arena a;
        tnt__arena_init(&a, 0);
        tnt__effect fx;
        memset(&fx, 0, sizeof fx);
        fx.master = m;
        fx.record = tnt__record_master(&a, m, &fx.record_len);
        const char *key = m->key;
        st = fx.record ? tnt__log_write(x->e, &fx, 1, &key) : TNT_E_NOMEM;
        if (st == TNT_OK) { /* and applied, or the partition's watermark could never pass it */
            bool dup;
            pthread_mutex_lock(&x->e->apply_mu);
            st = tnt__apply(x->e, &fx, 1, &dup);
            pthread_mutex_unlock(&x->e->apply_mu);
        }
        tnt__arena_destroy(&a);
    }
    tnt__free(x->masters);
    x->masters = NULL;
    x->nmasters = x->capmasters = 0;
    return st;
}

/* A scan past the retention: its items go (with the device's record of it). */
static tnt_status forget_scan(expire *x, const tnt_v1_Scan *sc)
{
    tnt__key k[2];
    tnt_store_item items[2];
    size_t n = 0;
    tnt__key_scan(&k[n], sc);
    items[n] = (tnt_store_item){k[n].pk, k[n].pk_len, k[n].sk, k[n].sk_len, NULL, 0, TNT_STORE_ANY};
    n++;
    if (sc->unknown && sc->device.size) {
        tnt__key_device(&k[n], sc);
        items[n] = (tnt_store_item){k[n].pk, k[n].pk_len, k[n].sk, k[n].sk_len, NULL, 0, TNT_STORE_ANY};
        n++;
    }
    x->n++;
    return tnt__store_write(x->e, items, n);
}

static tnt_status forget_record(void *ud, int64_t offset, const void *rec, size_t len, uint32_t item)
{
    (void)offset, (void)item;
    expire *x = ud;
    tnt_v1_Scan *sc = tnt__arena_alloc(&x->a, sizeof *sc);
    if (!sc)
        return TNT_E_NOMEM;
    tnt_v1_MasterRecord *m = tnt__arena_alloc(&x->a, sizeof *m);
    if (!m)
        return TNT_E_NOMEM;
    tnt__record rc = {.scan = sc, .master = m};
    tnt_status st = tnt__record_read(rec, len, &rc);
    if (st == TNT_OK && rc.kind == TNT__REC_SCAN) {
        st = forget_scan(x, sc);
        tnt__arena_reset(&x->a);
        return st;
    }
    if (st == TNT_OK && rc.kind == TNT__REC_MASTER) {
        if (x->nmasters == x->capmasters) {
            size_t cap = x->capmasters ? x->capmasters * 2 : 16;
            tnt_v1_MasterRecord *v = tnt__realloc(x->masters, cap * sizeof *v);
            if (!v)
                return TNT_E_NOMEM;
            x->masters = v;
            x->capmasters = cap;
        }
        x->masters[x->nmasters++] = *m;
        tnt__arena_reset(&x->a);
        return TNT_OK;
    }
    if (st != TNT_OK || rc.kind != TNT__REC_EVENT)
        return st;
    tnt_event *ev = tnt__event_new(&x->a);
    tnt__effect fx;
    if (!ev || (st = tnt__proto_decode_event(ev, rc.event_pb, rc.event_len)) != TNT_OK || !tnt__effect_of(&fx, ev, &x->a))
        return st != TNT_OK ? st : tnt__error(TNT_E_CORRUPT, "archive: an event without a hash");
    for (uint32_t i = 0; i < fx.nids; i++)
        touched(x, fx.ids[i]);
    tnt_store_item *items = tnt__arena_alloc(&x->a, (fx.nids + 2) * sizeof *items);
    if (!items)
        return TNT_E_NOMEM;
    size_t k = 0;
    /* its sender's eventID goes with it, if it named this event */
    tnt__key xk;
    if (fx.event_id && tnt__key_event_id(&xk, fx.event_id)) {
        void *v = NULL;
        size_t vlen = 0;
        st = tnt__store_get(x->e, &xk, &v, &vlen);
        bool ours = st == TNT_OK && vlen == 32 && memcmp(v, fx.hash, 32) == 0;
        tnt_free(v);
        if (st != TNT_OK && st != TNT_E_NOTFOUND)
            return st;
        if (ours && !key_item(&items[k++], &x->a, &xk, NULL, 0))
            return TNT_E_NOMEM;
    }
    for (uint32_t i = 0; i <= fx.nids; i++) {
        tnt__key key;
        if (i < fx.nids)
            tnt__key_index(&key, fx.ids[i], fx.time_ms, fx.hash);
        else
            tnt__key_event(&key, fx.hash);
        if (!key_item(&items[k++], &x->a, &key, NULL, 0))
            return TNT_E_NOMEM;
    }
    st = tnt__store_write(x->e, items, k);
    x->n++;
    tnt__arena_reset(&x->a);
    return st;
}

static tnt_status forget_frame(void *ud, uint64_t off, const uint8_t *z, size_t zlen, uint32_t unused,
                               const void *plain, size_t plen)
{
    (void)off, (void)z, (void)zlen, (void)unused;
    return each_record(plain, plen, forget_record, ud);
}

static int list_one(void *ud, const char *key, uint64_t size, int64_t modified_ms)
{
    (void)size, (void)modified_ms;
    seglist *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = tnt__realloc(l->keys, cap * sizeof *v);
        if (!v) {
            l->st = TNT_E_NOMEM;
            return 1;
        }
        l->keys = v;
        l->cap = cap;
    }
    if (!(l->keys[l->n] = tnt__strdup(key))) {
        l->st = TNT_E_NOMEM;
        return 1;
    }
    l->n++;
    return 0;
}

static void seglist_free(seglist *l)
{
    for (size_t i = 0; i < l->n; i++)
        tnt__free(l->keys[i]);
    tnt__free(l->keys);
}

/* The newest event time a segment key records, or INT64_MAX if the key is not ours. */
static int64_t segment_newest(const char *key)
{
    const char *dash = strrchr(key, '-');
    return dash ? strtoll(dash + 1, NULL, 10) : INT64_MAX;
}

/* The archived segments of partition p (log/pppp/<first>-<end>-<newest>.zst), in offset order. */
static tnt_status list_segments(tnt_engine *e, int p, seglist *l)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "log/%04d/", p);
    tnt_status st = e->archive->methods->list(e->archive, prefix, list_one, l);
    return st == TNT_OK ? l->st : st;
}

/* The end offset a segment's key names, or -1 if the key is not a segment's. */
static int64_t segment_end(const char *key)
{
    const char *name = strchr(key + 4, '/'), *dash = name ? strchr(name, '-') : NULL;
    return dash ? strtoll(dash + 1, NULL, 10) : -1;
}

/* The end offset of what a partition has archived, given its segments: the
 * largest of their ends and of the marks that outlive them. The log goes on
 * from there. */
static tnt_status archived_end_of(tnt_engine *e, int p, const seglist *segs, int64_t *end)
{
    *end = 0;
    for (size_t i = 0; i < segs->n; i++)
        if (segment_end(segs->keys[i]) > *end)
            *end = segment_end(segs->keys[i]);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "mark/%04d/", p);
    seglist marks = {NULL, 0, 0, TNT_OK};
    tnt_status st = e->archive->methods->list(e->archive, prefix, list_one, &marks);
    if (st == TNT_OK)
        st = marks.st;
    for (size_t i = 0; st == TNT_OK && i < marks.n; i++) {
        int64_t v = strtoll(marks.keys[i] + strlen(prefix), NULL, 10);
        if (v > *end)
            *end = v;
    }
    seglist_free(&marks);
    return st;
}

static tnt_status archived_end(tnt_engine *e, int p, int64_t *end)
{
    seglist l = {NULL, 0, 0, TNT_OK};
    tnt_status st = list_segments(e, p, &l);
    if (st == TNT_OK)
        st = archived_end_of(e, p, &l, end);
    seglist_free(&l);
    return st;
}

/* ---- reading the archived log, for queries ---- */

typedef struct aread {
    int p;
    int64_t from;
    tnt_log_read_fn fn;
    void *ud;
    bool stopped;
} aread;

static tnt_status aread_record(void *ud, int64_t offset, const void *rec, size_t len, uint32_t item)
{
    (void)item;
    aread *r = ud;
    if (offset < r->from)
        return TNT_OK;
    if (r->fn(r->ud, r->p, offset, 0, NULL, 0, rec, len) != 0) {
        r->stopped = true;
        return TNT_AGAIN; /* stop the walk; not an error */
    }
    return TNT_OK;
}

static tnt_status aread_frame(void *ud, uint64_t off, const uint8_t *z, size_t zlen, uint32_t unused,
                              const void *plain, size_t plen)
{
    (void)off, (void)z, (void)zlen, (void)unused;
    return each_record(plain, plen, aread_record, ud);
}

tnt_status tnt__archive_read(tnt_engine *e, int p, int64_t from, tnt_log_read_fn fn, void *ud, int64_t *end_out,
                             bool *stopped)
{
    seglist l = {NULL, 0, 0, TNT_OK};
    tnt_status st = list_segments(e, p, &l);
    aread r = {p, from, fn, ud, false};
    if (st == TNT_OK)
        st = archived_end_of(e, p, &l, end_out);
    for (size_t i = 0; st == TNT_OK && i < l.n && !r.stopped; i++) {
        if (segment_end(l.keys[i]) >= 0 && segment_end(l.keys[i]) <= from)
            continue; /* ends before `from` */
        void *data = NULL;
        size_t len = 0;
        if ((st = e->archive->methods->get(e->archive, l.keys[i], 0, 0, &data, &len)) != TNT_OK)
            break;
        st = each_frame(data, len, aread_frame, &r);
        tnt_free(data);
        if (st == TNT_AGAIN && r.stopped)
            st = TNT_OK;
    }
    seglist_free(&l);
    *stopped = r.stopped;
    return st;
}

static tnt_status expire_segments(tnt_engine *e, int64_t cutoff, size_t *expired)
{
    seglist l = {NULL, 0, 0, TNT_OK};
    tnt_status st = e->archive->methods->list(e->archive, "log/", list_one, &l);
    if (st == TNT_OK)
        st = l.st;
    for (size_t i = 0; st == TNT_OK && i < l.n; i++) {
        if (segment_newest(l.keys[i]) >= cutoff)
            continue;
        void *data = NULL;
        size_t len = 0;
        if ((st = e->archive->methods->get(e->archive, l.keys[i], 0, 0, &data, &len)) != TNT_OK)
            break;
        expire x = {e, {0}, 0, NULL, 0, 0, NULL, 0, 0, TNT_OK};
        tnt__arena_init(&x.a, 0);
        st = each_frame(data, len, forget_frame, &x);
        tnt_status st2 = rechain_expired(&x);
        if (st == TNT_OK)
            st = st2;
        st2 = relog_masters(&x);
        if (st == TNT_OK)
            st = st2;
        tnt__arena_destroy(&x.a);
        tnt_free(data);
        if (st == TNT_OK)
            st = e->archive->methods->remove(e->archive, l.keys[i]);
        *expired += x.n;
    }
    seglist_free(&l);
    return st;
}

tnt_status tnt_engine_archive(tnt_engine *e, int64_t now_ms, size_t *archived_out, size_t *expired_out)
{
    if (!e)
        return TNT_E_MISUSE;
    int64_t now = now_ms ? now_ms : clock_ms();
    size_t archived = 0, expired = 0;
    /* What the log holds past the watermarks is applied first: archiving a
     * record the state never took would lose it from the state for good. */
    tnt_status st = tnt__heal(e);
    if (st != TNT_OK)
        return st;
    pthread_rwlock_wrlock(&e->replay_lock);
    st = e->log->methods->flush(e->log, -1);
    for (int p = 0; st == TNT_OK && p < e->partitions; p++) {
        bool more = true;
        while (st == TNT_OK && more) /* a segment at a time */
            st = archive_partition(e, p, now - e->archive_after_ms, &archived, &more);
    }
    if (st == TNT_OK && e->retention_ms > 0)
        st = expire_segments(e, now - e->retention_ms, &expired);
    pthread_rwlock_unlock(&e->replay_lock);
    atomic_fetch_add(&e->n.archive_runs, 1);
    atomic_fetch_add(&e->n.archived, archived);
    atomic_fetch_add(&e->n.expired, expired);
    if (archived_out)
        *archived_out = archived;
    if (expired_out)
        *expired_out = expired;
    return st;
}

/* ---- replay ---- */

/* What the partitions replayed side by side share. */
typedef struct replay_all {
    tnt_engine *e;
    int64_t from_time;
    pthread_mutex_t mu;   /* applying, and the watermarks */
    _Atomic int next;     /* the next partition to take */
    _Atomic bool stop;    /* a partition failed: the others stop */
    _Atomic size_t n;     /* records replayed */
    tnt_status st;        /* the first failure, by partition (under mu) */
    int failed_p;
    char why[512];
} replay_all;

typedef struct replay {
    tnt_engine *e;
    int partition;
    const char *segment;
    tnt__replayer *rp;
    uint64_t frame_off;
    uint32_t frame_len;
    int64_t from_time;
    size_t n;
    tnt_status st;
    replay_all *all;
} replay;

/* A full replay starts each partition's watermark at its first record:
 * what retention deleted before it is gone for good. */
static void first_record(replay *r, int64_t offset)
{
    if (r->n == 0 && r->from_time == 0) {
        pthread_mutex_lock(&r->all->mu);
        r->e->water[r->partition].mark = offset;
        r->e->water[r->partition].n = 0;
        pthread_mutex_unlock(&r->all->mu);
    }
}

static tnt_status replay_archived(void *ud, int64_t offset, const void *rec, size_t len, uint32_t item)
{
    replay *r = ud;
    first_record(r, offset);
    tnt_v1_IndexEntry w = tnt_v1_IndexEntry_init_zero;
    snprintf(w.segment, sizeof w.segment, "%s", r->segment);
    w.frame_offset = r->frame_off;
    w.frame_len = r->frame_len;
    w.item = item;
    r->n++;
    return tnt__replayer_add(r->rp, rec, len, r->partition, offset, &w);
}

static tnt_status replay_frame(void *ud, uint64_t off, const uint8_t *z, size_t zlen, uint32_t unused,
                               const void *plain, size_t plen)
{
    (void)z, (void)unused;
    replay *r = ud;
    r->frame_off = off;
    r->frame_len = (uint32_t)zlen;
    return each_record(plain, plen, replay_archived, ud);
}

static int replay_logged(void *ud, int partition, int64_t offset, int64_t time_ms, const void *key, size_t key_len,
                         const void *value, size_t value_len)
{
    (void)key, (void)key_len;
    replay *r = ud;
    if (atomic_load_explicit(&r->all->stop, memory_order_relaxed))
        return 1;
    if (time_ms < r->from_time)
        return 0;
    first_record(r, offset);
    r->st = tnt__replayer_add(r->rp, value, value_len, partition, offset, NULL);
    r->n++;
    return r->st != TNT_OK;
}

static tnt_status replay_partition(replay_all *all, int p)
{
    tnt_engine *e = all->e;
    int64_t from_time = all->from_time;
    replay r = {e, p, NULL, tnt__replayer_new(e), 0, 0, from_time, 0, TNT_OK, all};
    if (!r.rp)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt__replayer_share(r.rp, &all->mu);
    tnt_status st = TNT_OK;
    int64_t from = 0;
    if (from_time == 0) { /* the archived prefix first, in offset order */
        seglist l = {NULL, 0, 0, TNT_OK};
        st = list_segments(e, p, &l);
        for (size_t i = 0; st == TNT_OK && i < l.n && !atomic_load(&all->stop); i++) {
            void *data = NULL;
            size_t len = 0;
            if ((st = e->archive->methods->get(e->archive, l.keys[i], 0, 0, &data, &len)) != TNT_OK)
                break;
            r.segment = l.keys[i];
            st = each_frame(data, len, replay_frame, &r);
            tnt_free(data);
        }
        if (st == TNT_OK)
            st = archived_end_of(e, p, &l, &from);
        seglist_free(&l);
    } else {
        int64_t aend = 0; /* not below what is archived (or expired): the log may still hold those */
        st = e->log->methods->offset_for_time(e->log, p, from_time, &from);
        if (st == TNT_OK && (st = archived_end(e, p, &aend)) == TNT_OK && from < aend)
            from = aend;
    }
    if (st == TNT_OK) {
        st = e->log->methods->read(e->log, p, from, replay_logged, &r);
        if (st == TNT_OK)
            st = r.st;
    }
    if (st == TNT_OK)
        st = tnt__replayer_flush(r.rp);
    if (st == TNT_OK && from_time == 0 && from > 0) {
        /* every record below the archive's end was applied from it or
         * expired: the watermark is there at least, also when an expired
         * segment left a gap or no record follows in the log */
        pthread_mutex_lock(&all->mu);
        st = tnt__water_raise(e, p, from);
        pthread_mutex_unlock(&all->mu);
    }
    tnt__replayer_free(r.rp);
    atomic_fetch_add(&all->n, r.n);
    return st;
}

/* Partitions are independent streams (a product's events are in one), and
 * applying does not depend on the order of events: one thread per core
 * takes partitions in turn, reading and decoding side by side and applying
 * in turn. */
static void *replay_worker(void *arg)
{
    replay_all *all = arg;
    int p;
    while (!atomic_load(&all->stop) && (p = atomic_fetch_add(&all->next, 1)) < all->e->partitions) {
        tnt__error_clear(); /* a failure without a message of its own does not borrow an older one */
        tnt_status st = replay_partition(all, p);
        if (st != TNT_OK) {
            pthread_mutex_lock(&all->mu);
            if (all->st == TNT_OK || p < all->failed_p) {
                const char *why = tnt_error_last();
                all->st = st;
                all->failed_p = p;
                snprintf(all->why, sizeof all->why, "%s", why && *why ? why : tnt_status_str(st));
            }
            pthread_mutex_unlock(&all->mu);
            atomic_store(&all->stop, true);
        }
    }
    return NULL;
}

tnt_status tnt_engine_replay(tnt_engine *e, int64_t from_time_ms, size_t *events_out)
{
    if (!e)
        return TNT_E_MISUSE;
    size_t n = 0;
    pthread_rwlock_wrlock(&e->replay_lock);
    pthread_mutex_lock(&e->apply_mu);
    tnt_status st = e->log->methods->flush(e->log, -1);
    /* A full replay empties the store first: until it ends, the store says
     * so (_meta/replaying), and an open that finds it replays again. */
    static const char mpk[] = "_meta", msk[] = "replaying";
    if (st == TNT_OK && from_time_ms == 0) {
        st = e->store->methods->clear(e->store);
        for (int p = 0; p < e->partitions; p++) {
            e->water[p].mark = 0;
            e->water[p].n = 0;
        }
        tnt_store_item mark = {mpk, 5, msk, 9, "1", 1, TNT_STORE_ANY};
        if (st == TNT_OK)
            st = tnt__store_write(e, &mark, 1);
        if (st == TNT_OK) /* rebuilt from the start: an earlier failure leaves no hole (set again if this fails) */
            atomic_store(&e->failed, TNT_OK);
    }
    if (st == TNT_OK) {
        replay_all all = {.e = e, .from_time = from_time_ms, .st = TNT_OK};
        pthread_mutex_init(&all.mu, NULL);
        cpu_set_t cpus; /* the cores this process may run on */
        long cores = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : sysconf(_SC_NPROCESSORS_ONLN);
        int nthreads = cores < 1 ? 1 : cores < e->partitions ? (int)cores : e->partitions;
        pthread_t t[16];
        int started = 0;
        for (int i = 1; i < nthreads && i < 16; i++) /* and this thread */
            if (pthread_create(&t[started], NULL, replay_worker, &all) == 0)
                started++;
        replay_worker(&all);
        for (int i = 0; i < started; i++)
            pthread_join(t[i], NULL);
        pthread_mutex_destroy(&all.mu);
        n = atomic_load(&all.n);
        if ((st = all.st) != TNT_OK)
            tnt__error(st, "%s", all.why);
        tnt_store_item done = {mpk, 5, msk, 9, NULL, 0, TNT_STORE_ANY};
        if (st == TNT_OK && from_time_ms == 0)
            st = tnt__store_write(e, &done, 1);
    }
    pthread_mutex_unlock(&e->apply_mu);
    pthread_rwlock_unlock(&e->replay_lock);
    atomic_fetch_add(&e->n.replays, 1);
    atomic_fetch_add(&e->n.replayed, n);
    if (events_out)
        *events_out = n;
    return st;
}
