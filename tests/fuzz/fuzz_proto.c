/*
 * libFuzzer target: arbitrary bytes as one tnt.v1.Event message
 * (tnt_event_from_proto), as one tnt.v1.Report, and as a tnt.v1.Batch fed
 * to tnt_reader in chunks, and as a stored state, scan or flat event record. Every event that comes out is read through
 * every accessor, writes valid JSON, and encodes to a message that decodes
 * to the same event.
 *
 * Seeds: tests/fuzz/corpus/proto (the events of GS1's examples, reports,
 * batches).
 *
 * A state, scan or flat event record that reads writes bytes that read back to the same bytes; a
 * state reads the same as a view; history entries and log records are split within their bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/flat.h"
#include "codec/json_stream.h"
#include "codec/proto.h"
#include "engine/engine.h"
#include "engine/record.h"
#include "tnt/document.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);                                                    \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static void valid_json(const char *text, size_t len)
{
    tnt__arena a;
    tnt__arena_init(&a, 0);
    char err[256];
    if (!tnt__json_parse_tree(&a, text, len, err, sizeof err)) {
        fprintf(stderr, "invalid JSON out (%s): %.2000s\n", err, text);
        abort();
    }
    tnt__arena_destroy(&a);
}

static void touch(tnt_event *ev)
{
    volatile size_t sink = 0;
    for (int f = 0; f <= 11; f++) {
        const char *s = tnt_event_get_string(ev, (tnt_field)f);
        sink += s ? strlen(s) : 0;
    }
    for (int t = 0; t <= 4; t++) {
        int64_t ms;
        if (tnt_event_get_time(&ms, NULL, ev, (tnt_time_field)t) == TNT_OK)
            sink += (size_t)ms;
    }
    for (int l = 0; l <= 9; l++)
        for (size_t i = 0; i <= tnt_event_list_count(ev, (tnt_list)l); i++) {
            const char *s = tnt_event_list_at(ev, (tnt_list)l, i);
            sink += s ? strlen(s) : 0;
        }
    for (int l = 0; l <= 5; l++)
        for (size_t i = 0; i <= tnt_event_qlist_count(ev, (tnt_qlist)l); i++) {
            const char *c = NULL, *u = NULL;
            if (tnt_event_qlist_at(&c, NULL, NULL, &u, ev, (tnt_qlist)l, i) == TNT_OK)
                sink += (c ? strlen(c) : 0) + (u ? strlen(u) : 0);
        }
    for (int l = 0; l <= 4; l++)
        for (size_t i = 0; i <= tnt_event_ref_count(ev, (tnt_ref_list)l); i++) {
            const char *t = NULL, *v = NULL;
            if (tnt_event_ref_at(&t, &v, ev, (tnt_ref_list)l, i) == TNT_OK)
                sink += (t ? strlen(t) : 0) + (v ? strlen(v) : 0);
        }
    for (size_t s = 0; s <= tnt_event_sensor_count(ev); s++)
        for (size_t r = 0; r <= tnt_event_sensor_report_count(ev, s); r++) {
            const char *t = NULL, *u = NULL;
            if (tnt_event_sensor_report_at(&t, NULL, NULL, &u, ev, s, r) == TNT_OK)
                sink += (t ? strlen(t) : 0) + (u ? strlen(u) : 0);
        }
    for (size_t i = 0; i <= tnt_event_prefix_count(ev); i++) {
        const char *p = NULL, *iri = NULL;
        if (tnt_event_prefix_at(&p, &iri, ev, i) == TNT_OK)
            sink += strlen(p) + strlen(iri);
    }
    for (size_t i = 0; i <= tnt_event_error_count(ev); i++) {
        const char *c = NULL, *p = NULL, *m = NULL;
        if (tnt_event_error_at(&c, &p, &m, ev, i) == TNT_OK)
            sink += strlen(c) + strlen(p) + strlen(m);
    }
    static const char *const paths[] = {"type", "epcList[0]", "readPoint.id", "ilmd", "sensorElementList[0]"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        tnt_value v;
        if (tnt_event_get(&v, ev, paths[i]) == TNT_OK)
            sink += v.count;
    }
    (void)sink;
}

static void round_trips(tnt_event *ev)
{
    touch(ev);
    char *j;
    size_t jlen;
    CHECK(tnt_event_to_json(&j, &jlen, ev, 0) == TNT_OK);
    valid_json(j, jlen);
    char *jc;
    CHECK(tnt_event_to_json(&jc, &jlen, ev, TNT_JSON_CONTEXT | TNT_JSON_PRETTY | TNT_JSON_HASH_ID) == TNT_OK);
    valid_json(jc, jlen);
    tnt_free(jc);
    void *pb;
    size_t len;
    CHECK(tnt_event_to_proto(&pb, &len, ev) == TNT_OK);
    tnt_event *back;
    if (tnt_event_from_proto(&back, pb, len) != TNT_OK) {
        fprintf(stderr, "own protobuf refused: %s\n%s\n", tnt_error_last(), j);
        abort();
    }
    char *j2;
    CHECK(tnt_event_to_json(&j2, NULL, back, 0) == TNT_OK);
    if (strcmp(j, j2) != 0) {
        fprintf(stderr, "protobuf round trip:\n%s\n%s\n", j, j2);
        abort();
    }
    tnt_event *c;
    CHECK(tnt_event_clone(&c, back) == TNT_OK);
    tnt_free(j2);
    CHECK(tnt_event_to_json(&j2, NULL, c, 0) == TNT_OK);
    CHECK(strcmp(j, j2) == 0);
    tnt_free(j2);
    tnt_event_free(c);
    tnt_event_free(back);
    tnt_free(pb);
    tnt_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one Event */
    tnt_event *ev;
    tnt_status st = tnt_event_from_proto(&ev, data, size);
    CHECK(st == TNT_OK || st == TNT_E_SYNTAX);
    if (st == TNT_OK) {
        round_trips(ev);
        tnt_event_free(ev);
    }
    /* one Report */
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt__report rep;
    st = tnt__proto_decode_report(&rep, &a, data, size);
    CHECK(st == TNT_OK || st == TNT_E_SYNTAX);
    tnt__arena_destroy(&a);

    /* a state record (either layout) */
    static tnt_v1_ProductState ps, again;
    st = tnt__state_decode(data, size, &ps, "fuzz");
    CHECK(st == TNT_OK || st == TNT_E_CORRUPT);
    if (st == TNT_OK) {
        size_t len = 0, len2 = 0;
        uint8_t *rec = tnt__state_encode(NULL, &ps, &len);
        CHECK(rec && len == tnt__state_size(&ps));
        CHECK(tnt__state_decode(rec, len, &again, "again") == TNT_OK);
        uint8_t *rec2 = tnt__state_encode(NULL, &again, &len2);
        CHECK(rec2 && len2 == len && memcmp(rec, rec2, len) == 0);
        tnt__free(rec);
        tnt__free(rec2);
    }
    /* ... and as track reads it: the same verdict, the same strings */
    void *buf = tnt__malloc(size ? size : 1);
    CHECK(buf);
    memcpy(buf, data, size);
    tnt__state_view view;
    tnt_status vs = tnt__state_view_decode(&buf, size, &view, "fuzz");
    CHECK(vs == st);
    if (vs == TNT_OK) {
        CHECK(strcmp(view.s[TNT__SV_ID], ps.id) == 0 && strcmp(view.s[TNT__SV_PARENT], ps.parent) == 0);
        CHECK(strcmp(view.s[TNT__SV_EXPIRY], ps.expiry) == 0 && view.event_count == ps.event_count);
        CHECK(view.n_readings == ps.readings_count && view.n_persistent == ps.persistent_count);
        for (unsigned i = 0; i < view.n_readings; i++)
            CHECK(strcmp(view.readings[i].type, ps.readings[i].type) == 0 &&
                  strcmp(view.readings[i].uom, ps.readings[i].uom) == 0);
        for (unsigned i = 0; i < view.n_persistent; i++)
            CHECK(strcmp(view.persistent[i], ps.persistent[i]) == 0);
    }
    tnt_free(buf);

    /* a history entry: its IndexEntry and the body it may carry lie inside it */
    const uint8_t *pb = NULL, *body = NULL;
    size_t pb_len = 0, body_len = 0;
    if (tnt__index_split(data, size, &pb, &pb_len, &body, &body_len)) {
        CHECK(pb >= data && pb + pb_len <= data + size);
        CHECK(!body || (body >= pb + pb_len && body + body_len == data + size && body_len >= 2));
        int archived = tnt__index_archived(pb, pb_len);
        CHECK(archived >= -1 && archived <= 1);
    }

    /* a log record, with its scan or master data read */
    static tnt_v1_Scan lscan;
    static tnt_v1_MasterRecord lmaster;
    tnt__record lr = {0};
    lr.scan = &lscan;
    lr.master = &lmaster;
    st = tnt__record_read(data, size, &lr);
    CHECK(st == TNT_OK || st == TNT_E_CORRUPT);
    if (st == TNT_OK)
        CHECK(lr.kind == TNT__REC_EVENT ? lr.event_pb != NULL || lr.event_len == 0
                                        : lr.kind == TNT__REC_SCAN || lr.kind == TNT__REC_MASTER);

    /* a flat event record (the state store's form of an event) */
    tnt__arena_init(&a, 0);
    tnt_event *fe = tnt__event_new(&a);
    CHECK(fe);
    st = tnt__flat_decode_event(fe, data, size);
    CHECK(st == TNT_OK || st == TNT_E_SYNTAX);
    if (st == TNT_OK) {
        round_trips(fe);
        tnt__buf b1, b2;
        tnt__buf_init(&b1);
        tnt__buf_init(&b2);
        tnt__flat_encode_event(&b1, fe);
        tnt_event *fe2 = tnt__event_new(&a);
        CHECK(!b1.oom && fe2 && tnt__flat_decode_event(fe2, b1.data, b1.len) == TNT_OK);
        tnt__flat_encode_event(&b2, fe2);
        CHECK(!b2.oom && b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
        tnt__buf_free(&b1);
        tnt__buf_free(&b2);
    }
    tnt__arena_destroy(&a);

    /* a scan record (either layout) */
    static tnt_v1_Scan sc, sc2;
    bool scan_ok = tnt__scan_decode(data, size, &sc);
    /* ... and as a verification reads it: the same verdict, the same fields */
    tnt__scan_head head;
    CHECK(tnt__scan_head_read(data, size, &head) == scan_ok);
    if (scan_ok)
        CHECK(head.time_ms == sc.time_ms && head.event_count == sc.event_count && head.lat_e2 == sc.lat_e2 &&
              head.lon_e2 == sc.lon_e2 && head.accuracy_km == sc.accuracy_km && head.role == sc.role &&
              head.has_location == sc.has_location && head.device_len == sc.device.size &&
              memcmp(head.device, sc.device.bytes, sc.device.size) == 0);
    if (scan_ok) {
        size_t len = 0, len2 = 0;
        uint8_t *rec = tnt__scan_encode(NULL, &sc, &len);
        CHECK(rec && tnt__scan_decode(rec, len, &sc2));
        uint8_t *rec2 = tnt__scan_encode(NULL, &sc2, &len2);
        CHECK(rec2 && len2 == len && memcmp(rec, rec2, len) == 0);
        tnt__free(rec);
        tnt__free(rec2);
    }

    /* a Batch, in chunks that follow from the input */
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    o.format = seed & 1 ? TNT_FORMAT_PROTOBUF : TNT_FORMAT_AUTO;
    o.now_ms = INT64_C(4102444800000);
    o.flags = (seed >> 1) % 8;
    o.max_event_bytes = seed & 16 ? 64 + (seed >> 5) % 2048 : o.max_event_bytes;
    tnt_reader *r;
    CHECK(tnt_reader_new(&r, &o) == TNT_OK);
    size_t at = 0, events = 0, chunk = 1 + (seed >> 8) % 97;
    st = TNT_AGAIN;
    while (st == TNT_AGAIN || st == TNT_OK) {
        if (st == TNT_AGAIN) {
            if (at == size) {
                CHECK(tnt_reader_finish(r) == TNT_OK);
            } else {
                size_t n = chunk < size - at ? chunk : size - at;
                CHECK(tnt_reader_feed(r, data + at, n) == TNT_OK);
                at += n;
            }
        }
        st = tnt_reader_next(&ev, r);
        if (st == TNT_OK) {
            CHECK(tnt_event_index(ev) == events);
            events++;
            round_trips(ev);
        }
    }
    CHECK(st == TNT_DONE || st < 0);
    size_t n, valid, rejected;
    tnt_reader_counts(r, &n, &valid, &rejected);
    CHECK(n == events && valid + rejected == n);
    tnt_reader_free(r);
    return 0;
}
