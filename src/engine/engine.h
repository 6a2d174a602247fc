/* The engine's internals: the open backends, the keys it stores under, and
 * how an event changes the state of the identifiers it names. */
#ifndef TNT_ENGINE_INTERNAL_H
#define TNT_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/core.h"
#include "model/model.h"
#include "tnt/engine.h"
#include "tnt/sys/backend.h"
#include "tnt_store.pb.h"

/* Counters of tnt_engine_stats(). */
typedef struct tnt__counters {
    atomic_ullong ingest_calls, events, accepted, duplicates, rejected;
    atomic_ullong track_calls, track_hits, history_calls, event_calls;
    atomic_ullong replays, replayed, archive_runs, archived, expired;
    atomic_ullong log_flushes, store_batches, master_records;
} tnt__counters;

/* Per log partition: the offset below which every record is applied (the
 * watermark, stored as _meta/applied:<p>), and the offsets applied above it. */
typedef struct tnt__water {
    int64_t mark;
    int64_t *done;
    size_t n, cap;
} tnt__water;

struct tnt_engine {
    tnt_log *log;
    tnt_store *store;
    tnt_archive *archive;
    int partitions;
    int64_t archive_after_ms, retention_ms;
    uint64_t segment_bytes;         /* an archive segment closes past this (compressed) */
    tnt_reader_options reader;      /* validation options of ingests */
    char *uris[3];                  /* log, store, archive (for stats and messages) */
    pthread_mutex_t apply_mu;       /* one writer of the state at a time; guards water */
    tnt__water *water;              /* one per partition */
    pthread_rwlock_t replay_lock;   /* replay and archive exclude everything else */
    /* Set when applying to the state store failed (under apply_mu): the
     * engine then applies nothing more until tnt__heal() or a full replay
     * has applied what the log holds past the watermarks. */
    _Atomic tnt_status failed;
    char failed_why[256];
    tnt__counters n;
    /* the service key (authenticity): signs answers; keys derived from it
     * seal product states and hash device ids */
    uint8_t sign_pk[32], sign_sk[64];
    uint8_t seal_key[32], device_key[32];
    char key_id[16];                /* base64url of the first 8 bytes of SHA-256(sign_pk) */
    char *key_path;
    atomic_uint master_gen;         /* bumped by every master-data change (caches) */
    struct tnt__auth_cache *auth_cache;
    struct tnt__scanq *scanq;       /* scans waiting to be written together */
};

/* ---- keys: partition key + sort key ----
 *   p:<id> / s                      the state of an identifier (ProductState)
 *   p:<id> / h:<time><hash>         its history, in time order (IndexEntry; for an event of one
 *                                   identifier, its body too: see tnt__index_split)
 *   p:<id> / c:<child>              what a container holds (child's id)
 *   e:<hash> / e                    an event: 'E' + tnt.v1.Event, or 'A' + IndexEntry once archived
 *   x:<eventID> / x                 the hash of the first event stored with that eventID (32 bytes)
 *   m:<kind>:<key> / m              master data (MasterRecord)
 *   _meta / applied:<partition>     log offset the state holds up to */
#define TNT__KEY_MAX 640
/* The longest identifier or eventID that keys the store: the longest key,
 * a container's child (two identifiers and 8 bytes), then fits LMDB's
 * 511-byte keys. Longer ones are rejected at ingest (ID_TOO_LONG). */
#define TNT__ID_MAX 250

typedef struct tnt__key {
    char pk[TNT__KEY_MAX];
    size_t pk_len;
    char sk[TNT__KEY_MAX];
    size_t sk_len;
} tnt__key;

void tnt__key_state(tnt__key *k, const char *id);
void tnt__key_index(tnt__key *k, const char *id, int64_t time_ms, const uint8_t hash[32]);
void tnt__key_child(tnt__key *k, const char *parent, const char *child);
void tnt__key_event(tnt__key *k, const uint8_t hash[32]);
/* false when the eventID is too long to be a key (it is then not indexed) */
bool tnt__key_event_id(tnt__key *k, const char *event_id);
void tnt__key_master(tnt__key *k, int kind, const char *key);
void tnt__key_applied(tnt__key *k, int partition);
/*   p:<id> / v:<time><device><role,intent>   a verification scan (tnt.v1.Scan)
 *   d:<device> / u:<time><id digest>          a scan of an unknown code by a device */
void tnt__key_scan(tnt__key *k, const tnt_v1_Scan *s);
void tnt__key_scans(tnt__key *k, const char *id, int64_t from_ms); /* start of a range */
void tnt__key_device(tnt__key *k, const tnt_v1_Scan *s);
void tnt__key_device_from(tnt__key *k, const uint8_t *device, size_t n, int64_t from_ms);
/* The GS1 key after "/<ai>/" in a Digital Link URI (the GTIN of /01/, the GLN of /414/). */
bool tnt__dl_key(char *out, size_t cap, const char *uri, const char *ai);
/* The 32 bytes of an "ni:///sha-256;<hex>?ver=CBV2.0" ID. */
bool tnt__hash_bytes(uint8_t out[32], const char *hash_id);
void tnt__hash_id(char out[TNT__HASH_ID_MAX], const uint8_t hash[32]);

/* ---- what an event does to the state ----
 * Extracted once when the event is read, applied later under the apply
 * lock. Every rule is "the newest event wins" by (eventTime, hash), so the
 * state is a function of the set of events, whatever order they come in:
 * a replay rebuilds exactly the same state. */
typedef struct tnt__effect {
    uint8_t hash[32];
    int64_t time_ms;
    uint8_t type, action;
    const char **ids;           /* canonical identifiers the event names (what) */
    uint32_t nids;
    const char *parent;         /* aggregation parent (Aggregation/Association) */
    const char **children;      /* aggregation children */
    uint32_t nchildren;
    const char *read_point, *biz_location, *biz_step, *disposition;
    const char *owner, *possessor;
    const char **pd_set, **pd_unset;
    uint32_t npd_set, npd_unset;
    tnt_v1_Reading *readings;
    uint32_t nreadings;
    const void *record;         /* the encoded log record (LogRecord with the event) */
    size_t record_len;
    const void *body;           /* the event as the state store keeps it (a flat record, codec/flat.h; protobuf if that is too large) */
    size_t body_len;
    int partition;              /* where the log stored it */
    int64_t offset;
    tnt_status log_status;
    uint8_t digest[32];         /* SHA-256 of body (tnt__body_digest): what the chain folds */
    const char *lot, *expiry;   /* ILMD lotNumber / itemExpirationDate */
    const char *event_id;       /* the eventID its sender gave it, if any */
    int64_t record_ms;          /* its recordTime (when the engine took it), INT64_MAX if it has none */
    const tnt_v1_IndexEntry *where;     /* replaying an archived record: where it is */
    const tnt_v1_MasterRecord *master;  /* a master-data record instead of an event */
    const tnt_v1_Scan *scan;            /* a verification scan instead of an event */
} tnt__effect;

/* Build an effect from a valid, normalised event, in arena a: its store
 * body, digest and log record. */
bool tnt__effect_of(tnt__effect *fx, const tnt_event *ev, tnt__arena *a);
/* The first identifier or eventID of an effect longer than TNT__ID_MAX, or NULL. */
const char *tnt__effect_long_id(const tnt__effect *fx);
/* The same for an event read back from the log (pb: its protobuf bytes
 * there), without a new log record. */
bool tnt__effect_from(tnt__effect *fx, const tnt_event *ev, const void *pb, size_t pb_len, tnt__arena *a);
/* ---- the history chain and the seal of a state ---- */
/* One step: chain = SHA-256(chain | hash | digest); first: chain is zeros. */
void tnt__chain_step(uint8_t chain[32], bool first, const uint8_t hash[32], const uint8_t digest[32]);
/* Fold a product's stored history entries in (time, hash) order. */
tnt_status tnt__chain_fold(tnt_engine *e, const char *id, uint8_t chain[32], bool *any);
/* Keyed MAC over (event_count, chain, id), with the engine's seal key. */
void tnt__seal_compute(const tnt_engine *e, const tnt_v1_ProductState *st, uint8_t out[32]);
void tnt__seal(const tnt_engine *e, tnt_v1_ProductState *st);
void tnt__mac(const tnt_engine *e, const void *msg, size_t len, uint8_t out[32]);
/* Record scans: many callers' scans share one log write, one flush and
 * one store transaction (group commit); returns when the caller's scan is
 * durable and applied. */
tnt_status tnt__scan_commit(tnt_engine *e, tnt__effect *fx, const char *key);

/* Load (or create) the service key; engine.c calls it at open. */
/* may_create: make the key file when there is none (a store that holds no
 * events yet); otherwise a missing key is an error, never replaced quietly
 * (every stored seal would then fail). */
tnt_status tnt__auth_open(tnt_engine *e, const char *key_path, bool may_create);
void tnt__auth_close(tnt_engine *e);

/* Apply effects to the store (caller holds apply_mu). dup[i] is set for
 * events stored before. Returns TNT_OK or the store's error; after an
 * error the engine applies nothing more (tnt__writable() says why) until
 * tnt__heal() has applied what the log holds past the watermarks, as
 * opening does: each ingest and each round of scans tries it first. */
tnt_status tnt__apply(tnt_engine *e, tnt__effect *fx, size_t n, bool *dup);
/* Raise a partition's watermark to at least mark (every record below it
 * applied or gone) and store it; the caller holds apply_mu. */
tnt_status tnt__water_raise(tnt_engine *e, int p, int64_t mark);
/* The offset below which a partition's records are in the archive (or expired). */
tnt_status tnt__archived_end(tnt_engine *e, int p, int64_t *end);
/* TNT_OK, or the error that says why the engine writes nothing now. */
tnt_status tnt__writable(tnt_engine *e);
/* After a failed apply: recover in place (holds replay_lock for writing;
 * the caller holds neither it nor apply_mu). TNT_OK when writable again. */
tnt_status tnt__heal(tnt_engine *e);
/* Apply one master-data record. */
tnt_status tnt__apply_master(tnt_engine *e, const tnt_v1_MasterRecord *m);

/* Re-applies log records read back from the log, or from an archive
 * segment (where: their place there; the bodies then stay archived), in
 * batches. The caller holds apply_mu. */
typedef struct tnt__replayer tnt__replayer;
tnt__replayer *tnt__replayer_new(tnt_engine *e);
tnt_status tnt__replayer_add(tnt__replayer *r, const void *record, size_t len, int partition, int64_t offset,
                             const tnt_v1_IndexEntry *where);
tnt_status tnt__replayer_flush(tnt__replayer *r);
/* Replayers that run side by side (one per partition) apply in turn, under apply_mu. */
void tnt__replayer_share(tnt__replayer *r, pthread_mutex_t *apply_mu);
/* Frees it; returns the number of records applied. */
size_t tnt__replayer_free(tnt__replayer *r);

/* ---- the archive ---- */
/* An event read from an archived log record (not through its index entry):
 * TNT_OK if its bytes are those its history entry's digest was taken of,
 * TNT_E_CORRUPT if not (scratch memory from a). */
struct tnt__record;
tnt_status tnt__archive_check(tnt_engine *e, const tnt_event *ev, const struct tnt__record *rec, tnt__arena *a);
/* Read the event an archived index entry points at (decoded into a). */
tnt_status tnt__archive_fetch(tnt_engine *e, const tnt_v1_IndexEntry *where, tnt__arena *a, tnt_event **ev);
/* A history entry's value is a tnt.v1.IndexEntry protobuf, or, for an
 * event that touches one identifier only and whose body (the record under
 * e:<hash>) is at most TNT__INLINE_MAX bytes, 0x00 'I' 0x01, the IndexEntry's
 * length (varint), the IndexEntry, then a copy of that body: a history or a
 * journey then reads each event with its entry, with no lookup by hash (one
 * query instead of one read per event on a remote store). Archiving rewrites
 * entries without the copy. A protobuf message never starts with 0x00. */
#define TNT__INLINE_MAX 1536
/* The IndexEntry of a value, and the body it carries (NULL, 0 if none);
 * false if the value is malformed. */
bool tnt__index_split(const void *value, size_t len, const uint8_t **entry, size_t *entry_len, const uint8_t **body,
                      size_t *body_len);
/* The IndexEntry of a history entry's value (whatever body it carries) into
 * *w; false if the value is malformed. */
bool tnt__index_entry_read(const void *value, size_t len, tnt_v1_IndexEntry *w);
/* Whether a history entry (an IndexEntry) points into the archive: 1 if it
 * names a segment, 0 if the event is in the store, -1 if it does not read. */
int tnt__index_archived(const void *entry, size_t len);
/* Decode an event's body as the store keeps it ('E' + its record) into a. */
tnt_status tnt__event_body_decode(tnt__arena *a, const void *body, size_t len, tnt_event **ev);
/* Read the event stored under a hash: in the store, or in the archive. */
tnt_status tnt__event_load(tnt_engine *e, const uint8_t hash[32], tnt__arena *a, tnt_event **ev);
/* Read partition p's archived log records with offsets from `from` on, in
 * offset order, through the log's read callback (time_ms 0, no key); a
 * non-zero return of fn stops the walk. *end_out: the offset the live log
 * goes on from. */
tnt_status tnt__archive_read(tnt_engine *e, int p, int64_t from, tnt_log_read_fn fn, void *ud, int64_t *end_out,
                             bool *stopped);

/* ---- the store, with retries of throttling ---- */
tnt_status tnt__store_get(tnt_engine *e, const tnt__key *k, void **value, size_t *len);
tnt_status tnt__store_write(tnt_engine *e, const tnt_store_item *items, size_t n);
tnt_status tnt__state_get(tnt_engine *e, const char *id, tnt_v1_ProductState *st);

/* ---- the state record (state.c) ---- */
size_t tnt__state_size(const tnt_v1_ProductState *st);
size_t tnt__state_write(uint8_t *out, const tnt_v1_ProductState *st); /* tnt__state_size() bytes */
/* The record of a state, in the arena (a) or tnt__malloc'd (a NULL); NULL on OOM. */
void *tnt__state_encode(tnt__arena *a, const tnt_v1_ProductState *st, size_t *len);
/* Read a state record (any layout); what names it in the error. */
tnt_status tnt__state_decode(const void *buf, size_t len, tnt_v1_ProductState *st, const char *what);
/* A state read for looking at, not for changing: strings point into one
 * buffer (the record itself, rewritten in place, for the flat layout), ""
 * when empty. Track reads these: no 8 KB tnt_v1_ProductState to fill. */
enum {
    TNT__SV_ID, TNT__SV_READ_POINT, TNT__SV_BIZ_LOCATION, TNT__SV_BIZ_STEP, TNT__SV_DISPOSITION, TNT__SV_LAST_EVENT,
    TNT__SV_PARENT, TNT__SV_OWNER, TNT__SV_POSSESSOR, TNT__SV_FIRST_EVENT, TNT__SV_LOT, TNT__SV_EXPIRY, TNT__SV_NSTR
};
typedef struct tnt__state_view {
    int64_t last_time_ms, parent_since_ms, location_time_ms, first_time_ms, disposition_time_ms;
    uint64_t event_count;
    const char *s[TNT__SV_NSTR];
    unsigned n_readings, n_persistent;
    struct tnt__sv_reading {
        const char *type, *uom;
        double value;
        int64_t time_ms;
    } readings[16];
    const char *persistent[8];
} tnt__state_view;
/* The state of id as a view; *owner (tnt_free) holds its strings, NULL on error. */
tnt_status tnt__state_view_get(tnt_engine *e, const char *id, tnt__state_view *v, void **owner);
/* The same of a record read (any layout): *buf is tnt__malloc'd and may be
 * rewritten or replaced (the new one in *buf); what names it in the error. */
tnt_status tnt__state_view_decode(void **buf, size_t len, tnt__state_view *v, const char *what);
/* The store's record of a recorded scan, and reading it back (any layout). */
void *tnt__scan_encode(tnt__arena *a, const tnt_v1_Scan *s, size_t *len);
bool tnt__scan_decode(const void *buf, size_t len, tnt_v1_Scan *s);
/* What a verification reads of a recorded scan: every field but the two
 * strings, which are checked and skipped (a scan of 256 read per
 * verification need not copy 1.1 KB each). The same verdict as
 * tnt__scan_decode() on the same bytes. */
typedef struct tnt__scan_head {
    int64_t time_ms;
    uint64_t event_count;
    int32_t lat_e2, lon_e2;
    uint32_t accuracy_km, role, intent, verdict;
    bool has_location, unknown;
    size_t device_len;
    uint8_t device[16];
} tnt__scan_head;
bool tnt__scan_head_read(const void *buf, size_t len, tnt__scan_head *h);

/* ---- the log ---- */
/* Append records and wait until they are durable; fills partition/offset/log_status. */
tnt_status tnt__log_write(tnt_engine *e, tnt__effect *fx, size_t n, const char *const *keys);
/* Bring the state up to the end of the log (after a crash). */
tnt_status tnt__recover(tnt_engine *e);

/* ---- master data ---- */
tnt_status tnt__master_lookup(tnt_engine *e, int kind, const char *key, char **json_out);

/* ---- configuration ---- */
typedef struct tnt__config {
    char *log_uri, *store_uri, *archive_uri;
    char *service_key;    /* path of the service key file */
    int partitions;
    int64_t archive_after_ms, retention_ms;
    uint64_t segment_bytes;  /* engine.archive_segment; 0: 64 MiB */
    char **settings;      /* "key=value", NULL-terminated */
    size_t nsettings;
} tnt__config;

tnt_status tnt__config_load(tnt__config *c, const char *path);
void tnt__config_free(tnt__config *c);

#endif /* TNT_ENGINE_INTERNAL_H */
