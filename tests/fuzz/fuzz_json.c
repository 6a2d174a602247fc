/*
 * libFuzzer target: arbitrary bytes through tnt_reader as a JSON document,
 * in chunks, with options and limits derived from the input; every event is
 * read through every accessor and written every way, and must come back
 * the same from its protobuf form and from a clone.
 *
 * Seeds: tests/fuzz/corpus/json (GS1's examples, the event-hash
 * examples, reports).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json_stream.h"
#include "tnt/document.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);                                                    \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* A small generator so that the chunking follows from the input. */
static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void valid_json(const char *text, size_t len)
{
    tnt__arena a;
    tnt__arena_init(&a, 0);
    char err[256];
    tnt__node *n = tnt__json_parse_tree(&a, text, len, err, sizeof err);
    if (!n) {
        fprintf(stderr, "invalid JSON out (%s): %.2000s\n", err, text);
        abort();
    }
    tnt__arena_destroy(&a);
}

static void touch(tnt_event *ev)
{
    volatile size_t sink = 0;
    sink += (size_t)tnt_event_get_type(ev) + (size_t)tnt_event_get_action(ev) + tnt_event_index(ev);
    for (int t = 0; t <= 4; t++) {
        int64_t ms;
        int off;
        if (tnt_event_get_time(&ms, &off, ev, (tnt_time_field)t) == TNT_OK)
            sink += (size_t)ms + (size_t)off;
    }
    for (int f = 0; f <= 11; f++) {
        const char *s = tnt_event_get_string(ev, (tnt_field)f);
        sink += s ? strlen(s) : 0;
    }
    for (int l = 0; l <= 9; l++)
        for (size_t i = 0; i <= tnt_event_list_count(ev, (tnt_list)l); i++) {
            const char *s = tnt_event_list_at(ev, (tnt_list)l, i);
            sink += s ? strlen(s) : 0;
        }
    for (int l = 0; l <= 5; l++)
        for (size_t i = 0; i <= tnt_event_qlist_count(ev, (tnt_qlist)l); i++) {
            const char *c = NULL, *u = NULL;
            double q;
            int has;
            if (tnt_event_qlist_at(&c, &q, &has, &u, ev, (tnt_qlist)l, i) == TNT_OK)
                sink += (c ? strlen(c) : 0) + (u ? strlen(u) : 0) + (size_t)has;
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
            double v;
            int has;
            if (tnt_event_sensor_report_at(&t, &v, &has, &u, ev, s, r) == TNT_OK)
                sink += (t ? strlen(t) : 0) + (u ? strlen(u) : 0);
        }
    for (size_t i = 0; i <= tnt_event_prefix_count(ev); i++) {
        const char *p = NULL, *iri = NULL;
        if (tnt_event_prefix_at(&p, &iri, ev, i) == TNT_OK)
            sink += strlen(p) + strlen(iri);
    }
    sink += (size_t)tnt_event_is_valid(ev);
    for (size_t i = 0; i <= tnt_event_error_count(ev); i++) {
        const char *c = NULL, *p = NULL, *m = NULL;
        if (tnt_event_error_at(&c, &p, &m, ev, i) == TNT_OK)
            sink += strlen(c) + strlen(p) + strlen(m);
    }
    static const char *const paths[] = {"type", "epcList[0]", "readPoint.id", "sensorElementList[0].sensorReport[0].value",
                                        "ilmd", "bizTransactionList[1].type", "a..b", "x[", "quantityList[0].quantity",
                                        "errorDeclaration.correctiveEventIDs[0]", ""};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        tnt_value v;
        if (tnt_event_get(&v, ev, paths[i]) == TNT_OK)
            sink += v.count + (v.string ? strlen(v.string) : 0);
    }
    (void)sink;
}

/* Written every way; the protobuf form and a clone write the same. */
static void round_trips(tnt_event *ev)
{
    char *j = NULL;
    size_t jlen;
    CHECK(tnt_event_to_json(&j, &jlen, ev, 0) == TNT_OK);
    valid_json(j, jlen);
    for (unsigned flags = 1; flags <= 7; flags++) {
        char *o;
        size_t olen;
        CHECK(tnt_event_to_json(&o, &olen, ev, flags) == TNT_OK);
        valid_json(o, olen);
        tnt_free(o);
    }
    void *pb;
    size_t len;
    CHECK(tnt_event_to_proto(&pb, &len, ev) == TNT_OK);
    tnt_event *back = NULL;
    tnt_status st = tnt_event_from_proto(&back, pb, len);
    if (st != TNT_OK) {
        fprintf(stderr, "own protobuf refused: %s\n%s\n", tnt_error_last(), j);
        abort();
    }
    char *j2;
    CHECK(tnt_event_to_json(&j2, NULL, back, 0) == TNT_OK);
    if (strcmp(j, j2) != 0) {
        fprintf(stderr, "protobuf round trip:\n%s\n%s\n", j, j2);
        abort();
    }
    tnt_free(j2);
    tnt_event_free(back);
    tnt_free(pb);
    tnt_event *c;
    CHECK(tnt_event_clone(&c, ev) == TNT_OK);
    CHECK(tnt_event_to_json(&j2, NULL, c, 0) == TNT_OK);
    CHECK(strcmp(j, j2) == 0);
    CHECK(tnt_event_error_count(c) == tnt_event_error_count(ev));
    touch(c);
    tnt_free(j2);
    tnt_event_free(c);
    tnt_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    seed |= 1;
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    o.format = TNT_FORMAT_JSON;
    o.now_ms = INT64_C(4102444800000);
    o.flags = next(&seed) % 8;
    if (next(&seed) % 4 == 0) { /* small limits, to reach the skipping paths */
        o.max_event_bytes = 64 + next(&seed) % 4096;
        o.max_depth = 1 + next(&seed) % 12;
        o.max_string_bytes = 1 + next(&seed) % 256;
        o.max_list_items = 1 + next(&seed) % 64;
    }
    tnt_reader *r;
    CHECK(tnt_reader_new(&r, &o) == TNT_OK);
    size_t at = 0, events = 0;
    tnt_status st = TNT_AGAIN;
    while (st == TNT_AGAIN || st == TNT_OK) {
        if (st == TNT_AGAIN) {
            if (at == size) {
                CHECK(tnt_reader_finish(r) == TNT_OK);
            } else {
                size_t n = 1 + next(&seed) % (next(&seed) % 2 ? 16 : 4096);
                n = n < size - at ? n : size - at;
                CHECK(tnt_reader_feed(r, data + at, n) == TNT_OK);
                at += n;
            }
        }
        tnt_event *ev;
        st = tnt_reader_next(&ev, r);
        if (st == TNT_OK) {
            CHECK(ev != NULL);
            CHECK(tnt_event_index(ev) == events);
            events++;
            touch(ev);
            round_trips(ev);
        }
    }
    CHECK(st == TNT_DONE || st < 0);
    if (st < 0)
        CHECK(strlen(tnt_reader_errmsg(r)) > 0);
    size_t n, valid, rejected;
    tnt_reader_counts(r, &n, &valid, &rejected);
    CHECK(n == events && valid + rejected == n);
    const char *h = tnt_reader_header(r);
    valid_json(h, strlen(h));
    tnt_reader_free(r);
    return 0;
}
