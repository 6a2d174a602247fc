/*
 * The C side of the Go binding: thin wrappers over the public ABI.
 *
 * tnt_error_last() is thread-local, and a goroutine may change threads
 * between two cgo calls, so every fallible call is wrapped here with the
 * read of its message: one cgo call, one thread. Results come back by value;
 * no Go memory is ever handed to C.
 */
#ifndef TNTGO_SHIM_H
#define TNTGO_SHIM_H

#include <stdlib.h>
#include <string.h>
#include <tnt/tnt.h>

#if !defined(TNT_VERSION_NUMBER) || TNT_VERSION_NUMBER < 10000 || TNT_VERSION_MAJOR != 1
#error "the Go binding needs libtnt 1.x"
#endif

/* The outcome of a wrapped call. */
typedef struct tntgo_res {
    int status;   /* tnt_status */
    void *ptr;    /* the handle or buffer made; caller owns */
    size_t len;   /* its length, or a count */
    size_t len2;  /* a second count */
    char *err;    /* malloc'd copy of tnt_error_last() on failure; free() it */
} tntgo_res;

/* The single-valued fields of an event, borrowed from it. */
typedef struct tntgo_event_info {
    int type, action, valid;
    int has_event_time, has_record_time, tz_offset_min;
    int64_t event_time_ms, record_time_ms;
    size_t index, error_count;
    const char *event_id, *hash_id, *biz_step, *disposition, *read_point, *biz_location, *parent_id,
        *tz_offset, *transformation_id;
} tntgo_event_info;

typedef struct tntgo_engine_opts {
    const char *data_dir, *config_path, *log_uri, *store_uri, *archive_uri;
    int partitions;
    int64_t archive_after_ms, retention_ms;
    int64_t future_skew_ms; /* -1: no check; 0: the default */
    size_t max_event_bytes; /* 0: the default */
} tntgo_engine_opts;

tntgo_res tntgo_engine_open(tntgo_engine_opts o);
tntgo_res tntgo_engine_ingest(tnt_engine *e, const void *data, size_t len, unsigned flags);
/* Ingest what the Go reader behind handle (a cgo.Handle) gives, through tntgoRead. */
tntgo_res tntgo_engine_ingest_stream(tnt_engine *e, uintptr_t handle, unsigned flags);
tntgo_res tntgo_engine_track(tnt_engine *e, const char *id);
tntgo_res tntgo_track_json(const tnt_track *t);
tntgo_res tntgo_engine_history(tnt_engine *e, const char *id, const char *token, size_t limit);
tntgo_res tntgo_history_json(const tnt_history *h);
tntgo_res tntgo_engine_event(tnt_engine *e, const char *hash);
tntgo_res tntgo_event_to_json(const tnt_event *ev, unsigned flags);
tntgo_res tntgo_engine_replay(tnt_engine *e, int64_t from_ms);
tntgo_res tntgo_engine_archive(tnt_engine *e, int64_t now_ms);
tntgo_res tntgo_engine_master_load(tnt_engine *e, const char *path);
tntgo_res tntgo_engine_master_records(tnt_engine *e, const char *path);
tntgo_res tntgo_engine_master_put(tnt_engine *e, int kind, const char *json, size_t len);
tntgo_res tntgo_engine_master_get(tnt_engine *e, int kind, const char *key);
tntgo_res tntgo_engine_stats(tnt_engine *e);
tntgo_res tntgo_id_normalize(const char *text, size_t len);
tntgo_res tntgo_id_digital_link(const tnt_id *id, const char *stem);
tntgo_res tntgo_id_epc_urn(const tnt_id *id);
tntgo_res tntgo_reader_new(unsigned flags, int64_t future_skew_ms, size_t max_event_bytes, int urn);

tntgo_event_info tntgo_event_info_of(const tnt_event *ev);

/* Accessors with several outputs, returned by value. Strings are borrowed
 * from the object read. */
typedef struct tntgo_item {
    int status;       /* TNT_OK, or TNT_E_NOTFOUND past the end */
    const char *a, *b, *c;
    double number;
    int64_t time_ms;
    int flag;         /* has a number / excursion / ingest status */
    size_t count;
} tntgo_item;

tntgo_item tntgo_report_event(const tnt_ingest_report *rep, size_t i);
tntgo_item tntgo_report_error(const tnt_ingest_report *rep, size_t i, size_t j);
typedef struct tntgo_counts { size_t events, accepted, duplicates, rejected; } tntgo_counts;
tntgo_counts tntgo_report_counts(const tnt_ingest_report *rep);
tntgo_item tntgo_track_times(const tnt_track *t);
/* every string of a track and its times, in one call (borrowed from t) */
typedef struct tntgo_track_fields {
    const char *id, *read_point, *biz_location, *biz_step, *disposition, *parent, *owner, *possessor, *last_event;
    int64_t time_ms;
    size_t count, readings;
} tntgo_track_fields;
tntgo_track_fields tntgo_track_all(const tnt_track *t);
tntgo_item tntgo_track_reading(const tnt_track *t, size_t i);
tntgo_item tntgo_event_qlist_at(const tnt_event *ev, int list, size_t i);
tntgo_item tntgo_event_ref_at(const tnt_event *ev, int list, size_t i);
tntgo_item tntgo_event_error_at(const tnt_event *ev, size_t i);
tntgo_item tntgo_reader_next(tnt_reader *r); /* a: the event (borrowed) */
tntgo_item tntgo_id_ai_at(const tnt_id *id, size_t i);
tntgo_item tntgo_id_error_at(const tnt_id *id, size_t i);
tntgo_res tntgo_id_new(void);
tntgo_res tntgo_id_parse(tnt_id *id, const char *text, size_t len, int gcp_length);

/* authenticity */
typedef struct tntgo_scan {
    int64_t time_ms;
    int has_location;
    double latitude, longitude, accuracy_m;
    const char *device, *location_id;
    int role, intent, record;
} tntgo_scan;

tntgo_res tntgo_engine_authenticate(tnt_engine *e, const char *code, tntgo_scan s);
tntgo_res tntgo_verdict_json(const tnt_verdict *v, unsigned flags);
tntgo_item tntgo_verdict_reason_at(const tnt_verdict *v, size_t i);
tntgo_item tntgo_verdict_confidence(const tnt_verdict *v); /* number: confidence; flag: evidence level */
tntgo_res tntgo_engine_service_key(tnt_engine *e);
tntgo_res tntgo_verdict_verify(const char *json, size_t len, const char *key);
typedef struct tntgo_keypair { int status; char *public_key, *secret_key, *err; } tntgo_keypair;
tntgo_keypair tntgo_keygen_pair(void);
tntgo_res tntgo_sign_code(const char *code, const char *secret, const char *stem);

/* queries: q's arrays and strings are C memory the caller frees */
tntgo_res tntgo_engine_query(tnt_engine *e, tnt_query q);

#endif
