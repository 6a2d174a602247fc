#include <string.h>
#include "shim.h"
#include "_cgo_export.h"

static tntgo_res done(int st, void *ptr, size_t len)
{
    tntgo_res r = {st, ptr, len, 0, NULL};
    if (st < 0) {
        const char *m = tnt_error_last();
        r.err = strdup(m ? m : "");
    }
    return r;
}

tntgo_res tntgo_engine_open(tntgo_engine_opts o)
{
    tnt_engine_options eo;
    tnt_reader_options ro;
    tnt_engine *e = NULL;
    tnt_engine_options_init(&eo, TNT_ENGINE_OPTIONS_VERSION);
    tnt_reader_options_init(&ro, TNT_READER_OPTIONS_VERSION);
    eo.data_dir = o.data_dir;
    eo.config_path = o.config_path;
    eo.log_uri = o.log_uri;
    eo.store_uri = o.store_uri;
    eo.archive_uri = o.archive_uri;
    eo.partitions = o.partitions;
    eo.archive_after_ms = o.archive_after_ms;
    eo.retention_ms = o.retention_ms;
    if (o.future_skew_ms != 0)
        ro.future_skew_ms = o.future_skew_ms;
    if (o.max_event_bytes != 0)
        ro.max_event_bytes = o.max_event_bytes;
    eo.reader = &ro; /* copied by the engine when it opens */
    int st = tnt_engine_open(&e, &eo);
    return done(st, e, 0);
}

tntgo_res tntgo_engine_ingest(tnt_engine *e, const void *data, size_t len, unsigned flags)
{
    tnt_ingest_report *rep = NULL;
    int st = tnt_engine_ingest(&rep, e, data, len, flags);
    tntgo_res r = done(st, rep, 0);
    return r;
}

static int64_t read_go(void *userdata, void *buffer, size_t capacity)
{
    return tntgoRead((uintptr_t)userdata, buffer, capacity);
}

tntgo_res tntgo_engine_ingest_stream(tnt_engine *e, uintptr_t handle, unsigned flags)
{
    tnt_ingest_report *rep = NULL;
    int st = tnt_engine_ingest_stream(&rep, e, read_go, (void *)handle, flags);
    return done(st, rep, 0);
}

tntgo_res tntgo_engine_track(tnt_engine *e, const char *id)
{
    tnt_track *t = NULL;
    int st = tnt_engine_track(&t, e, id);
    return done(st, t, 0);
}

tntgo_res tntgo_track_json(const tnt_track *t)
{
    char *out = NULL;
    size_t len = 0;
    int st = tnt_track_json(&out, &len, t);
    return done(st, out, len);
}

tntgo_res tntgo_engine_history(tnt_engine *e, const char *id, const char *token, size_t limit)
{
    tnt_history *h = NULL;
    int st = tnt_engine_history(&h, e, id, token, limit);
    return done(st, h, 0);
}

tntgo_res tntgo_history_json(const tnt_history *h)
{
    char *out = NULL;
    size_t len = 0;
    int st = tnt_history_json(&out, &len, h);
    return done(st, out, len);
}

tntgo_res tntgo_engine_event(tnt_engine *e, const char *hash)
{
    tnt_event *ev = NULL;
    int st = tnt_engine_event(&ev, e, hash);
    return done(st, ev, 0);
}

tntgo_res tntgo_event_to_json(const tnt_event *ev, unsigned flags)
{
    char *out = NULL;
    size_t len = 0;
    int st = tnt_event_to_json(&out, &len, ev, flags);
    return done(st, out, len);
}

tntgo_res tntgo_engine_replay(tnt_engine *e, int64_t from_ms)
{
    size_t n = 0;
    int st = tnt_engine_replay(e, from_ms, &n);
    return done(st, NULL, n);
}

tntgo_res tntgo_engine_archive(tnt_engine *e, int64_t now_ms)
{
    size_t archived = 0, expired = 0;
    int st = tnt_engine_archive(e, now_ms, &archived, &expired);
    tntgo_res r = done(st, NULL, archived);
    r.len2 = expired;
    return r;
}

tntgo_res tntgo_engine_master_load(tnt_engine *e, const char *path)
{
    size_t n = 0;
    int st = tnt_engine_master_load(e, path, &n);
    return done(st, NULL, n);
}

tntgo_res tntgo_engine_master_records(tnt_engine *e, const char *path)
{
    char *out = NULL;
    int st = tnt_engine_master_records(&out, e, path);
    return done(st, out, out ? strlen(out) : 0);
}

tntgo_res tntgo_engine_master_put(tnt_engine *e, int kind, const char *json, size_t len)
{
    return done(tnt_engine_master_put(e, (tnt_master_kind)kind, json, len), NULL, 0);
}

tntgo_res tntgo_engine_master_get(tnt_engine *e, int kind, const char *key)
{
    char *out = NULL;
    int st = tnt_engine_master_get(&out, e, (tnt_master_kind)kind, key);
    return done(st, out, out ? strlen(out) : 0);
}

tntgo_res tntgo_engine_stats(tnt_engine *e)
{
    char *out = NULL;
    int st = tnt_engine_stats(&out, e);
    return done(st, out, out ? strlen(out) : 0);
}

tntgo_res tntgo_id_normalize(const char *text, size_t len)
{
    char *out = NULL;
    int st = tnt_id_normalize(&out, text, len, NULL);
    return done(st, out, out ? strlen(out) : 0);
}

tntgo_res tntgo_id_digital_link(const tnt_id *id, const char *stem)
{
    char *out = NULL;
    int st = tnt_id_digital_link(&out, id, stem);
    return done(st, out, out ? strlen(out) : 0);
}

tntgo_res tntgo_id_epc_urn(const tnt_id *id)
{
    char *out = NULL;
    int st = tnt_id_epc_urn(&out, id);
    return done(st, out, out ? strlen(out) : 0);
}

tntgo_res tntgo_reader_new(unsigned flags, int64_t future_skew_ms, size_t max_event_bytes, int urn)
{
    tnt_reader_options ro;
    tnt_reader *r = NULL;
    tnt_reader_options_init(&ro, TNT_READER_OPTIONS_VERSION);
    if (flags != 0)
        ro.flags = flags;
    if (future_skew_ms != 0)
        ro.future_skew_ms = future_skew_ms;
    if (max_event_bytes != 0)
        ro.max_event_bytes = max_event_bytes;
    if (urn)
        ro.epc_format = TNT_EPC_FORMAT_URN;
    int st = tnt_reader_new(&r, &ro);
    return done(st, r, 0);
}

tntgo_event_info tntgo_event_info_of(const tnt_event *ev)
{
    tntgo_event_info i;
    memset(&i, 0, sizeof i);
    i.type = tnt_event_get_type(ev);
    i.action = tnt_event_get_action(ev);
    i.valid = tnt_event_is_valid(ev);
    i.index = tnt_event_index(ev);
    i.error_count = tnt_event_error_count(ev);
    i.has_event_time = tnt_event_get_time(&i.event_time_ms, &i.tz_offset_min, ev, TNT_TIME_EVENT) == TNT_OK;
    i.has_record_time = tnt_event_get_time(&i.record_time_ms, NULL, ev, TNT_TIME_RECORD) == TNT_OK;
    i.event_id = tnt_event_get_string(ev, TNT_FIELD_EVENT_ID);
    i.hash_id = tnt_event_get_string(ev, TNT_FIELD_HASH_ID);
    i.biz_step = tnt_event_get_string(ev, TNT_FIELD_BIZ_STEP);
    i.disposition = tnt_event_get_string(ev, TNT_FIELD_DISPOSITION);
    i.read_point = tnt_event_get_string(ev, TNT_FIELD_READ_POINT);
    i.biz_location = tnt_event_get_string(ev, TNT_FIELD_BIZ_LOCATION);
    i.parent_id = tnt_event_get_string(ev, TNT_FIELD_PARENT_ID);
    i.tz_offset = tnt_event_get_string(ev, TNT_FIELD_EVENT_TIME_ZONE_OFFSET);
    i.transformation_id = tnt_event_get_string(ev, TNT_FIELD_TRANSFORMATION_ID);
    return i;
}

tntgo_counts tntgo_report_counts(const tnt_ingest_report *rep)
{
    tntgo_counts n = {0, 0, 0, 0};
    tnt_ingest_report_counts(rep, &n.events, &n.accepted, &n.duplicates, &n.rejected);
    return n;
}

tntgo_item tntgo_report_event(const tnt_ingest_report *rep, size_t i)
{
    tntgo_item it = {0};
    it.status = tnt_ingest_report_event(&it.flag, &it.a, &it.count, rep, i);
    return it;
}

tntgo_item tntgo_report_error(const tnt_ingest_report *rep, size_t i, size_t j)
{
    tntgo_item it = {0};
    it.status = tnt_ingest_report_error(&it.a, &it.b, &it.c, rep, i, j);
    return it;
}

tntgo_item tntgo_track_times(const tnt_track *t)
{
    tntgo_item it = {0};
    tnt_track_times(t, &it.time_ms, &it.count);
    return it;
}

tntgo_track_fields tntgo_track_all(const tnt_track *t)
{
    tntgo_track_fields f = {
        .id = tnt_track_get(t, TNT_TRACK_ID),
        .read_point = tnt_track_get(t, TNT_TRACK_READ_POINT),
        .biz_location = tnt_track_get(t, TNT_TRACK_BIZ_LOCATION),
        .biz_step = tnt_track_get(t, TNT_TRACK_BIZ_STEP),
        .disposition = tnt_track_get(t, TNT_TRACK_DISPOSITION),
        .parent = tnt_track_get(t, TNT_TRACK_PARENT),
        .owner = tnt_track_get(t, TNT_TRACK_OWNER),
        .possessor = tnt_track_get(t, TNT_TRACK_POSSESSOR),
        .last_event = tnt_track_get(t, TNT_TRACK_LAST_EVENT),
        .readings = tnt_track_reading_count(t),
    };
    tnt_track_times(t, &f.time_ms, &f.count);
    return f;
}

tntgo_item tntgo_track_reading(const tnt_track *t, size_t i)
{
    tntgo_item it = {0};
    it.status = tnt_track_reading(&it.a, &it.number, &it.b, &it.time_ms, &it.flag, t, i);
    return it;
}

tntgo_item tntgo_event_qlist_at(const tnt_event *ev, int list, size_t i)
{
    tntgo_item it = {0};
    it.status = tnt_event_qlist_at(&it.a, &it.number, &it.flag, &it.b, ev, (tnt_qlist)list, i);
    return it;
}

tntgo_item tntgo_event_ref_at(const tnt_event *ev, int list, size_t i)
{
    tntgo_item it = {0};
    it.status = tnt_event_ref_at(&it.a, &it.b, ev, (tnt_ref_list)list, i);
    return it;
}

tntgo_item tntgo_event_error_at(const tnt_event *ev, size_t i)
{
    tntgo_item it = {0};
    it.status = tnt_event_error_at(&it.a, &it.b, &it.c, ev, i);
    return it;
}

tntgo_item tntgo_reader_next(tnt_reader *r)
{
    tntgo_item it = {0};
    tnt_event *ev = NULL;
    it.status = tnt_reader_next(&ev, r);
    it.a = (const char *)ev;
    return it;
}

tntgo_item tntgo_id_ai_at(const tnt_id *id, size_t i)
{
    tntgo_item it = {0};
    it.status = tnt_id_ai_at(&it.a, &it.b, id, i);
    return it;
}

tntgo_item tntgo_id_error_at(const tnt_id *id, size_t i)
{
    tntgo_item it = {0};
    it.status = tnt_id_error_at(&it.a, &it.b, id, i);
    return it;
}

tntgo_res tntgo_id_new(void)
{
    tnt_id *id = NULL;
    int st = tnt_id_new(&id);
    return done(st, id, 0);
}

tntgo_res tntgo_id_parse(tnt_id *id, const char *text, size_t len, int gcp_length)
{
    tnt_id_options o;
    tnt_id_options_init(&o, TNT_ID_OPTIONS_VERSION);
    o.gcp_length = gcp_length;
    return done(tnt_id_parse(id, text, len, &o), NULL, 0);
}

tntgo_res tntgo_engine_authenticate(tnt_engine *e, const char *code, tntgo_scan s)
{
    tnt_scan scan;
    tnt_verdict *v = NULL;
    tnt_scan_init(&scan, TNT_SCAN_VERSION);
    scan.time_ms = s.time_ms;
    scan.has_location = s.has_location;
    scan.latitude = s.latitude;
    scan.longitude = s.longitude;
    scan.accuracy_m = s.accuracy_m;
    scan.device = s.device;
    scan.location_id = s.location_id;
    scan.role = s.role;
    scan.intent = s.intent;
    scan.record = s.record;
    int st = tnt_engine_authenticate(&v, e, code, &scan);
    return done(st, v, 0);
}

tntgo_res tntgo_verdict_json(const tnt_verdict *v, unsigned flags)
{
    char *out = NULL;
    size_t len = 0;
    int st = tnt_verdict_json(&out, &len, v, flags);
    return done(st, out, len);
}

tntgo_item tntgo_verdict_reason_at(const tnt_verdict *v, size_t i)
{
    tntgo_item it = {0};
    it.status = tnt_verdict_reason_at(&it.a, &it.b, &it.c, v, i);
    return it;
}

tntgo_item tntgo_verdict_confidence(const tnt_verdict *v)
{
    tntgo_item it = {0};
    it.number = tnt_verdict_confidence(v, &it.flag);
    return it;
}

tntgo_res tntgo_engine_service_key(tnt_engine *e)
{
    char *out = NULL;
    int st = tnt_engine_service_key(&out, e);
    return done(st, out, out ? strlen(out) : 0);
}

tntgo_res tntgo_verdict_verify(const char *json, size_t len, const char *key)
{
    return done(tnt_verdict_verify(json, len, key), NULL, 0);
}

tntgo_keypair tntgo_keygen_pair(void)
{
    tntgo_keypair k = {0, NULL, NULL, NULL};
    k.status = tnt_keygen(&k.public_key, &k.secret_key);
    if (k.status < 0)
        k.err = strdup(tnt_error_last());
    return k;
}

tntgo_res tntgo_sign_code(const char *code, const char *secret, const char *stem)
{
    char *out = NULL;
    int st = tnt_sign_code(&out, code, secret, stem);
    return done(st, out, out ? strlen(out) : 0);
}

tntgo_res tntgo_engine_query(tnt_engine *e, tnt_query q)
{
    tnt_history *h = NULL;
    q.version = TNT_QUERY_VERSION;
    int st = tnt_engine_query(&h, e, &q);
    return done(st, h, 0);
}
