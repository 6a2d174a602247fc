/*
 * The public document reader (tnt/document.h): any chunking, every input
 * format, limits and hostile input, events held for a late @context,
 * document-level errors, counts and reset, bounded memory, and the GS1
 * event hash against the reference implementation's published vectors.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "codec/epcis.h"
#include "codec/json_stream.h"
#include "codec/proto.h"
#include "ingest/pipeline.h"
#include "tnt/document.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifdef UNDER_ASAN
/* Freed memory waits in ASan's quarantine (256 MB by default), which the
 * memory bound below would count. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=8"; }
#endif

#define NOW_2100 INT64_C(4102444800000)

/* ---- helpers ---- */

static char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    fclose(f);
    p[n] = '\0';
    if (len_out)
        *len_out = (size_t)n;
    return p;
}

static char *example(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", TNT_CONFORMANCE, rel);
    char *p = slurp(path, len);
    if (!p)
        fail_msg("cannot read %s", path);
    return p;
}

static tnt_reader_options opts_with(unsigned flags)
{
    tnt_reader_options o;
    assert_int_equal(tnt_reader_options_init(&o, TNT_READER_OPTIONS_VERSION), TNT_OK);
    o.flags = flags;
    o.now_ms = NOW_2100;
    return o;
}

/* What a document gave: one line per event, and how it ended. */
typedef struct result {
    char **ev;       /* "<index> <valid> <codes> <path-of-first-error> <hash> <json>" */
    size_t n;
    tnt_status end;
    char errmsg[320];
    size_t counts[3];
} result;

static void result_free(result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->ev[i]);
    free(r->ev);
    memset(r, 0, sizeof *r);
}

static void record(result *res, tnt_event *ev)
{
    char *json;
    assert_int_equal(tnt_event_to_json(&json, NULL, ev, 0), TNT_OK);
    size_t cap = strlen(json) + 1024;
    char *line = malloc(cap);
    int k = snprintf(line, cap, "%zu %d ", tnt_event_index(ev), tnt_event_is_valid(ev));
    for (size_t i = 0; i < tnt_event_error_count(ev); i++) {
        const char *code, *path;
        tnt_event_error_at(&code, &path, NULL, ev, i);
        k += snprintf(line + k, cap - (size_t)k, "%s%s", i ? "," : "", code);
        if (i == 0)
            k += snprintf(line + k, cap - (size_t)k, "@%s", path);
    }
    const char *h = tnt_event_get_string(ev, TNT_FIELD_HASH_ID);
    snprintf(line + k, cap - (size_t)k, " %s %s", h ? h : "-", json);
    tnt_free(json);
    res->ev = realloc(res->ev, (res->n + 1) * sizeof *res->ev);
    res->ev[res->n++] = line;
}

/* Drain events until AGAIN; false once the document has ended. */
static bool drain(tnt_reader *r, result *res)
{
    tnt_event *ev;
    tnt_status st;
    while ((st = tnt_reader_next(&ev, r)) == TNT_OK)
        record(res, ev);
    if (st == TNT_AGAIN)
        return true;
    res->end = st;
    snprintf(res->errmsg, sizeof res->errmsg, "%s", tnt_reader_errmsg(r));
    return false;
}

/* Read a document fed chunk bytes at a time (0: in one piece). */
static result read_doc(const void *doc, size_t len, const tnt_reader_options *o, size_t chunk)
{
    tnt_reader *r;
    assert_int_equal(tnt_reader_new(&r, o), TNT_OK);
    result res;
    memset(&res, 0, sizeof res);
    bool going = true;
    for (size_t at = 0; at < len && going;) {
        size_t n = chunk && len - at > chunk ? chunk : len - at;
        tnt_status st = tnt_reader_feed(r, (const char *)doc + at, n);
        if (st != TNT_OK) {
            assert_true(st < 0);
            going = drain(r, &res);
            assert_false(going);
            break;
        }
        at += n;
        going = drain(r, &res);
    }
    if (going) {
        tnt_reader_finish(r);
        going = drain(r, &res);
        assert_false(going);
    }
    tnt_reader_counts(r, &res.counts[0], &res.counts[1], &res.counts[2]);
    assert_int_equal(res.counts[0], res.n);
    assert_int_equal(res.counts[1] + res.counts[2], res.n);
    tnt_reader_free(r);
    return res;
}

static result read_str(const char *doc, unsigned flags)
{
    tnt_reader_options o = opts_with(flags);
    return read_doc(doc, strlen(doc), &o, 0);
}

static void same_results(const result *a, const result *b, const char *what)
{
    if (a->end != b->end || a->n != b->n)
        fail_msg("%s: %zu events, %s became %zu events, %s (%s)", what, a->n, tnt_status_name(a->end), b->n,
                 tnt_status_name(b->end), b->errmsg);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->ev[i], b->ev[i]) != 0)
            fail_msg("%s: event %zu\n%s\nbecame\n%s", what, i, a->ev[i], b->ev[i]);
}

/* The first error code of event i ("" when valid). */
static const char *first_code(const result *r, size_t i, char *buf, size_t cap)
{
    const char *sp = strchr(strchr(r->ev[i], ' ') + 1, ' ') + 1;
    size_t n = strcspn(sp, "@ ,");
    snprintf(buf, cap, "%.*s", (int)n, sp);
    return buf;
}

static bool has_code(const result *r, size_t i, const char *code)
{
    const char *sp = strchr(strchr(r->ev[i], ' ') + 1, ' ') + 1;
    size_t n = strcspn(sp, " ");
    char codes[512];
    snprintf(codes, sizeof codes, ",%.*s,", (int)n, sp);
    for (char *p = codes; *p; p++)
        if (*p == '@')
            *p = ',';
    char want[64];
    snprintf(want, sizeof want, ",%s,", code);
    return strstr(codes, want) != NULL;
}

static const char *hash_of(const result *r, size_t i, char *buf)
{
    const char *h = strstr(r->ev[i], " ni:///");
    assert_non_null(h);
    snprintf(buf, 100, "%.*s", (int)strcspn(h + 1, " "), h + 1);
    return buf;
}

/* Start a new peak: VmHWM becomes the current resident size (Linux 4.0+). */
static void reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

/* ---- options and misuse ---- */

static void test_options(void **state)
{
    (void)state;
    tnt_reader_options o;
    assert_int_equal(tnt_reader_options_init(&o, 0), TNT_E_INVALID);
    assert_int_equal(tnt_reader_options_init(&o, TNT_READER_OPTIONS_VERSION + 1), TNT_E_INVALID);
    assert_int_equal(tnt_reader_options_init(NULL, 1), TNT_E_INVALID);
    assert_int_equal(tnt_reader_options_init(&o, 1), TNT_OK);
    assert_int_equal(o.flags, TNT_READ_DEFAULT);
    assert_int_equal(o.max_depth, 32);
    assert_int_equal(o.max_event_bytes, 1048576);

    tnt_reader *r = (tnt_reader *)&o;
    assert_int_equal(tnt_reader_new(NULL, NULL), TNT_E_MISUSE);
    tnt_reader_options b = o;
    b.version = 0;
    assert_int_equal(tnt_reader_new(&r, &b), TNT_E_INVALID);
    assert_null(r);
    b = o, b.version = 2;
    assert_int_equal(tnt_reader_new(&r, &b), TNT_E_INVALID);
    b = o, b.format = 3;
    assert_int_equal(tnt_reader_new(&r, &b), TNT_E_INVALID);
    b = o, b.epc_format = 2;
    assert_int_equal(tnt_reader_new(&r, &b), TNT_E_INVALID);
    b = o, b.max_depth = 0;
    assert_int_equal(tnt_reader_new(&r, &b), TNT_E_INVALID);
    b = o, b.max_depth = 65; /* deeper than the protobuf form can nest */
    assert_int_equal(tnt_reader_new(&r, &b), TNT_E_INVALID);
    b = o, b.max_depth = 64;
    assert_int_equal(tnt_reader_new(&r, &b), TNT_OK);
    tnt_reader_free(r);
    b = o, b.max_event_bytes = 63;
    assert_int_equal(tnt_reader_new(&r, &b), TNT_E_INVALID);
    b = o, b.max_string_bytes = 0;
    assert_int_equal(tnt_reader_new(&r, &b), TNT_E_INVALID);
    b = o, b.max_list_items = 0;
    assert_int_equal(tnt_reader_new(&r, &b), TNT_E_INVALID);

    /* NULL handles and misuse */
    tnt_reader_free(NULL);
    tnt_reader_reset(NULL);
    tnt_event *ev = (tnt_event *)&o;
    assert_int_equal(tnt_reader_next(&ev, NULL), TNT_E_MISUSE);
    assert_int_equal(tnt_reader_feed(NULL, "x", 1), TNT_E_MISUSE);
    assert_int_equal(tnt_reader_finish(NULL), TNT_E_MISUSE);
    assert_string_equal(tnt_reader_errmsg(NULL), "");
    assert_string_equal(tnt_reader_header(NULL), "{}");
    size_t n = 9;
    tnt_reader_counts(NULL, &n, NULL, NULL);
    assert_int_equal(n, 0);

    assert_int_equal(tnt_reader_new(&r, NULL), TNT_OK);
    assert_int_equal(tnt_reader_next(NULL, r), TNT_E_MISUSE);
    assert_int_equal(tnt_reader_feed(r, NULL, 1), TNT_E_MISUSE);
    assert_int_equal(tnt_reader_feed(r, NULL, 0), TNT_OK);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_AGAIN);
    assert_null(ev);
    assert_int_equal(tnt_reader_feed(r, "[{}", 3), TNT_OK);
    assert_int_equal(tnt_reader_feed(r, ",{}]", 4), TNT_E_MISUSE); /* next() first */
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_AGAIN);
    assert_int_equal(tnt_reader_feed(r, ",{}]", 4), TNT_OK);
    assert_int_equal(tnt_reader_finish(r), TNT_OK);
    assert_int_equal(tnt_reader_feed(r, " ", 1), TNT_E_MISUSE); /* after finish */
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_DONE);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_DONE);
    assert_null(ev);
    tnt_reader_free(r);
}

/* ---- chunking ---- */

static const char *const k_docs[] = {
    "gs1-epcis/JSON/Example_9.6.1-ObjectEvent.jsonld",
    "gs1-epcis/JSON/EPCISQueryDocument.jsonld",
    "gs1-epcis/JSON/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld",
    "gs1-epcis/JSON/WithSensorData/SensorDataExample1.jsonld",
    "gs1-epcis/JSON/Example-TransactionEvents-2020_07_03y.jsonld",
    "gs1-epcis/JSON/AssociationEvent/AssociationEvent-h.jsonld",
    "event-hash/tests/examples/ralfsChaosExample.jsonld",
    "event-hash/tests/examples/epcisDocWithVariousEventTypes.jsonld",
};

/* Every chunk size from 1 byte to the whole document gives the same events. */
static void test_every_chunk_size(void **state)
{
    (void)state;
    tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
    for (size_t d = 0; d < sizeof k_docs / sizeof k_docs[0]; d++) {
        size_t len;
        char *doc = example(k_docs[d], &len);
        result whole = read_doc(doc, len, &o, 0);
        assert_int_equal(whole.end, TNT_DONE);
        assert_true(whole.n > 0);
        /* every size on the small documents; on the big ones every size up
         * to 600 bytes, then a spread (valgrind: fewer) */
        size_t step = RUNNING_ON_VALGRIND ? 97 : 1;
        for (size_t chunk = 1; chunk <= len; chunk += chunk < 600 || len < 6000 ? step : 37 * step) {
            result r = read_doc(doc, len, &o, chunk);
            char what[600];
            snprintf(what, sizeof what, "%s in chunks of %zu", k_docs[d], chunk);
            same_results(&whole, &r, what);
            result_free(&r);
        }
        result_free(&whole);
        free(doc);
    }
}

/* ---- formats ---- */

static void test_formats(void **state)
{
    (void)state;
    char h[100], h2[100], code[64];
    size_t len;
    char *query = example("gs1-epcis/JSON/EPCISQueryDocument.jsonld", &len);
    result q = read_str(query, TNT_READ_DEFAULT);
    assert_int_equal(q.end, TNT_DONE);
    assert_int_equal(q.n, 2);
    assert_int_equal(q.counts[1], 2);
    assert_non_null(strstr(q.ev[1], "\"type\":\"ObjectEvent\""));
    free(query);

    /* one event, bare; an array of events; each gives the same event as in a document */
    const char *ev = "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
                     "\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.2017\"],\"action\":\"OBSERVE\"}";
    char buf[2048];
    result bare = read_str(ev, TNT_READ_DEFAULT);
    assert_int_equal(bare.end, TNT_DONE);
    assert_int_equal(bare.n, 1);
    assert_int_equal(bare.counts[1], 1);
    snprintf(buf, sizeof buf, "[%s, %s]", ev, ev);
    result arr = read_str(buf, TNT_READ_DEFAULT);
    assert_int_equal(arr.n, 2);
    snprintf(buf, sizeof buf,
             "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\","
             "\"schemaVersion\":\"2.0\",\"creationDate\":\"2020-01-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[%s]}}",
             ev);
    result doc = read_str(buf, TNT_READ_DEFAULT);
    assert_int_equal(doc.n, 1);
    assert_string_equal(hash_of(&bare, 0, h), hash_of(&doc, 0, h2));
    assert_string_equal(hash_of(&arr, 1, h), hash_of(&doc, 0, h2));
    assert_string_equal(strstr(arr.ev[1], " {"), strstr(doc.ev[0], " {"));
    assert_string_equal(strstr(bare.ev[0], " {"), strstr(doc.ev[0], " {"));
    result_free(&q);
    result_free(&bare);
    result_free(&arr);
    result_free(&doc);

    /* simple reports: one, and an array */
    const char *rep = "{\"product_id\":\"(01)09506000134352(21)ABC123\",\"event_type\":\"ship\","
                      "\"location\":\"urn:epc:id:sgln:9506000.13435.0\",\"timestamp\":\"2024-03-01T10:00:00Z\","
                      "\"condition\":{\"temperature\":4.2},\"device_id\":\"urn:epc:id:giai:9506000.17\"}";
    result one = read_str(rep, TNT_READ_DEFAULT);
    assert_int_equal(one.end, TNT_DONE);
    assert_int_equal(one.n, 1);
    assert_int_equal(one.counts[1], 1);
    assert_non_null(strstr(one.ev[0], "\"bizStep\":\"shipping\""));
    snprintf(buf, sizeof buf, "[%s,%s,{\"product_id\":\"x\"}]", rep, rep);
    result many = read_str(buf, TNT_READ_DEFAULT);
    assert_int_equal(many.n, 3);
    assert_int_equal(many.counts[1], 2);
    assert_string_equal(first_code(&many, 2, code, sizeof code), "REQUIRED");
    assert_string_equal(strstr(one.ev[0], " {"), strstr(many.ev[1], " {"));
    result_free(&one);
    result_free(&many);
}

/* A byte order mark, whitespace, and the format told apart by its first bytes. */
static void test_detection(void **state)
{
    (void)state;
    const char *ev = "{\"type\":\"ObjectEvent\"}";
    result plain = read_str(ev, 0);
    assert_int_equal(plain.n, 1);
    char buf[256];
    snprintf(buf, sizeof buf, "\xEF\xBB\xBF%s", ev);
    tnt_reader_options o = opts_with(0);
    for (size_t chunk = 0; chunk < 5; chunk++) {
        result r = read_doc(buf, strlen(buf), &o, chunk);
        same_results(&plain, &r, "a byte order mark");
        result_free(&r);
    }
    o.format = TNT_FORMAT_JSON;
    result r = read_doc(buf, strlen(buf), &o, 1);
    same_results(&plain, &r, "a byte order mark, JSON told");
    result_free(&r);
    o.format = TNT_FORMAT_AUTO;
    static const char *const bad_boms[] = {"\xEF\xBB{}", "\xEF{}", "\xEF\xBB\xBF\xEF\xBB\xBF{}", "\xEF", "\xEF\xBB"};
    for (size_t i = 0; i < sizeof bad_boms / sizeof bad_boms[0]; i++) {
        r = read_doc(bad_boms[i], strlen(bad_boms[i]), &o, 1);
        assert_int_equal(r.end, TNT_E_SYNTAX);
        result_free(&r);
    }
    static const char *const spaced[] = {"\n{\"type\":\"ObjectEvent\"}", "\n\n {\"type\":\"ObjectEvent\"}",
                                         " \r\n\t{\"type\":\"ObjectEvent\"}", "\n[{\"type\":\"ObjectEvent\"}]",
                                         "\n[ {\"type\":\"ObjectEvent\"}]", "\n\n[{\"type\":\"ObjectEvent\"}]\n"};
    for (size_t i = 0; i < sizeof spaced / sizeof spaced[0]; i++)
        for (size_t chunk = 0; chunk < 4; chunk++) {
            r = read_doc(spaced[i], strlen(spaced[i]), &o, chunk);
            same_results(&plain, &r, spaced[i]);
            result_free(&r);
        }
    static const char *const empties[] = {"", " ", "\n", "\n\n", " \t\r\n "};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        r = read_doc(empties[i], strlen(empties[i]), &o, 1);
        assert_int_equal(r.end, TNT_E_SYNTAX);
        assert_int_equal(r.n, 0);
        result_free(&r);
    }
    static const struct {
        const char *doc;
        tnt_status end;
        const char *msg;
    } scalars[] = {{"42", TNT_E_INVALID, "JSON number"},    {"-1", TNT_E_INVALID, "JSON number"},
                   {"true", TNT_E_INVALID, "literal"},      {"null", TNT_E_INVALID, "literal"},
                   {" 7 ", TNT_E_INVALID, "JSON number"},   {"\"s\"", TNT_E_SYNTAX, "protobuf"},
                   {"xyz", TNT_E_SYNTAX, "protobuf"}};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        r = read_doc(scalars[i].doc, strlen(scalars[i].doc), &o, 0);
        assert_int_equal(r.end, scalars[i].end);
        assert_non_null(strstr(r.errmsg, scalars[i].msg));
        result_free(&r);
    }
    result_free(&plain);
}

/* ---- protobuf batches ---- */

static void put_varint(tnt__buf *b, uint64_t v)
{
    do {
        tnt__buf_putc(b, (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}

static void put_field(tnt__buf *b, uint32_t field, const void *data, size_t len)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, len);
    tnt__buf_append(b, data, len);
}

/* The events of GS1's examples and two reports, as one tnt.v1.Batch. */
static void build_batch(tnt__buf *b, size_t *nevents)
{
    static const char *const docs[] = {"gs1-epcis/JSON/Example_9.6.1-ObjectEvent.jsonld",
                                       "gs1-epcis/JSON/WithSensorData/SensorDataExample1.jsonld",
                                       "gs1-epcis/JSON/WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld"};
    *nevents = 0;
    tnt__buf_init(b);
    tnt_reader_options o = opts_with(0);
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        size_t len;
        char *doc = example(docs[d], &len);
        tnt_reader *r;
        tnt_reader_new(&r, &o);
        tnt_reader_feed(r, doc, len);
        tnt_reader_finish(r);
        tnt_event *ev;
        while (tnt_reader_next(&ev, r) == TNT_OK) {
            void *pb;
            size_t n;
            assert_int_equal(tnt_event_to_proto(&pb, &n, ev), TNT_OK);
            put_field(b, TNT__PB_BATCH_EVENTS, pb, n);
            tnt_free(pb);
            (*nevents)++;
            if (*nevents == 2) { /* a report between the events, and an unknown field */
                tnt__report rep;
                memset(&rep, 0, sizeof rep);
                rep.product_id = "(01)09506000134352(21)ABC123";
                rep.event_type = "receive";
                rep.location = "urn:epc:id:sgln:9506000.13435.0";
                rep.timestamp = (tnt__time){1709287200000, 60, true};
                tnt__cond c = {"temperature", 4.5, NULL};
                rep.conds = &c;
                rep.n_conds = 1;
                void *rp;
                size_t rn;
                assert_int_equal(tnt__proto_encode_report(&rp, &rn, &rep), TNT_OK);
                put_field(b, TNT__PB_BATCH_REPORTS, rp, rn);
                put_field(b, 9, "ignored", 7);
                tnt_free(rp);
                (*nevents)++;
            }
        }
        tnt_reader_free(r);
        free(doc);
    }
    assert_false(b->oom);
}

static void test_protobuf_batch(void **state)
{
    (void)state;
    tnt__buf b;
    size_t n;
    build_batch(&b, &n);
    assert_true(n >= 5);
    tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
    result whole = read_doc(b.data, b.len, &o, 0);
    assert_int_equal(whole.end, TNT_DONE);
    assert_int_equal(whole.n, n);
    assert_int_equal(whole.counts[1], n); /* all valid */
    assert_non_null(strstr(whole.ev[2], "\"bizStep\":\"receiving\""));
    assert_non_null(strstr(whole.ev[2], "\"type\":\"Temperature\""));
    /* split at every byte, with the format given and guessed */
    for (int told = 0; told < 2; told++) {
        o.format = told ? TNT_FORMAT_PROTOBUF : TNT_FORMAT_AUTO;
        for (size_t chunk = 1; chunk <= b.len; chunk += RUNNING_ON_VALGRIND ? 53 : 1) {
            result r = read_doc(b.data, b.len, &o, chunk);
            char what[64];
            snprintf(what, sizeof what, "batch in chunks of %zu", chunk);
            same_results(&whole, &r, what);
            result_free(&r);
        }
    }
    /* the events are those of the JSON documents */
    o = opts_with(TNT_READ_DEFAULT);
    size_t len;
    char *doc = example("gs1-epcis/JSON/Example_9.6.1-ObjectEvent.jsonld", &len);
    result json = read_doc(doc, len, &o, 0);
    for (size_t i = 0; i < json.n; i++) {
        const char *a = strchr(strchr(json.ev[i], ' ') + 1, ' ');
        const char *c = strchr(strchr(whole.ev[i < 2 ? i : i + 1], ' ') + 1, ' ');
        if (i < 2)
            assert_string_equal(a, c);
    }
    free(doc);
    result_free(&json);
    result_free(&whole);
    tnt__buf_free(&b);
}

/* A Batch whose first event is 91, 123, 9, 10, 13 or 32 bytes long starts
 * with bytes that are also JSON whitespace or brackets. */
static void test_protobuf_lookalikes(void **state)
{
    (void)state;
    static const size_t lens[] = {9, 10, 13, 32, 91, 123};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        /* an Event: type 1, action 2, then eventID padded to the length */
        tnt__buf ev, b;
        tnt__buf_init(&ev);
        tnt__buf_init(&b);
        tnt__buf_append(&ev, "\x08\x01\x10\x02", 4);
        size_t id = lens[k] - 4 - 2;
        char s[200];
        memset(s, 'a', id);
        s[id] = '\0';
        memcpy(s, "urn:", id < 4 ? id : 4);
        put_field(&ev, 6, s, id);
        assert_int_equal(ev.len, lens[k]);
        put_field(&b, 1, ev.data, ev.len);
        put_field(&b, 1, ev.data, ev.len);
        tnt_reader_options o = opts_with(0);
        for (size_t chunk = 0; chunk < 4; chunk++) {
            result r = read_doc(b.data, b.len, &o, chunk);
            if (r.end != TNT_DONE || r.n != 2)
                fail_msg("event of %zu bytes, chunks of %zu: %s %s", lens[k], chunk, tnt_status_name(r.end), r.errmsg);
            assert_non_null(strstr(r.ev[0], "\"eventID\":\"urn"));
            result_free(&r);
        }
        tnt__buf_free(&ev);
        tnt__buf_free(&b);
    }
}

static void test_protobuf_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        tnt_status end;
        size_t events;
        const char *msg; /* errmsg, or the first event's error code */
    } cases[] = {
        {"\x0a\x05\x08\x01", 4, TNT_E_SYNTAX, 0, "ends inside a message"},
        {"\x0a", 1, TNT_E_SYNTAX, 0, "ends inside a field"},
        {"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12, TNT_E_SYNTAX, 0, "bad varint"},
        {"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11, TNT_E_SYNTAX, 0, "bad varint"},
        {"\x08\x01", 2, TNT_E_SYNTAX, 0, "only length-delimited"},
        {"\x02\x00", 2, TNT_E_SYNTAX, 0, "bad field number"},
        {"\x82\x80\x80\x80\x80\x01\x00", 7, TNT_E_SYNTAX, 0, "bad field number"},
        {"\x0a\x02\x08\x09\x0a\x00", 6, TNT_DONE, 2, "SYNTAX"},    /* type 9 */
        {"\x0a\x02\x0a\x00", 4, TNT_DONE, 1, "SYNTAX"},            /* wire type 2 for an enum */
        {"\x0a\x02\x4d\x00", 4, TNT_DONE, 1, "SYNTAX"},            /* epc_list as fixed32, truncated */
        {"\x0a\x02\x48\x41", 4, TNT_DONE, 1, "SYNTAX"},            /* epc_list as a varint */
        {"\x0a\x03\x4a\x01\xff", 5, TNT_DONE, 1, "SYNTAX"},        /* not UTF-8 */
        {"\x0a\x04\x4a\x02\xc0\xaf", 6, TNT_DONE, 1, "SYNTAX"},    /* overlong UTF-8 */
        {"\x0a\x03\x4a\x01\x00", 5, TNT_DONE, 1, "SYNTAX"},        /* U+0000 */
        {"\x0a\x03\x4a\x05\x41", 5, TNT_DONE, 1, "SYNTAX"},        /* string past its message */
        {"\x12\x02\x2a\x00", 4, TNT_DONE, 1, "SYNTAX"},            /* a condition without a type */
        {"\x0a\x00", 2, TNT_DONE, 1, "REQUIRED"},                  /* an empty event */
        {"\x12\x00", 2, TNT_DONE, 1, "REQUIRED"},                  /* an empty report */
        {"", 0, TNT_DONE, 0, ""}, /* an empty Batch is a Batch */
    };
    tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
    o.format = TNT_FORMAT_PROTOBUF;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t chunk = 0; chunk < 3; chunk++) {
            result r = read_doc(cases[i].bytes, cases[i].len, &o, chunk);
            if (r.end != cases[i].end || r.n != cases[i].events)
                fail_msg("case %zu: %s with %zu events (%s)", i, tnt_status_name(r.end), r.n, r.errmsg);
            if (r.n) {
                if (!has_code(&r, 0, cases[i].msg))
                    fail_msg("case %zu: %s", i, r.ev[0]);
            } else if (!strstr(r.errmsg, cases[i].msg) && cases[i].len) {
                fail_msg("case %zu: '%s'", i, r.errmsg);
            }
            result_free(&r);
        }
    }

    /* a message over max_event_bytes is skipped, the next one read */
    tnt__buf b;
    tnt__buf_init(&b);
    char big[300];
    memset(big, 'a', sizeof big);
    tnt__buf ev;
    tnt__buf_init(&ev);
    put_field(&ev, 6, big, sizeof big);
    put_field(&b, 1, ev.data, ev.len);
    put_field(&b, 1, "\x08\x01", 2);
    put_field(&b, 2, ev.data, ev.len);
    o.max_event_bytes = 256;
    result r = read_doc(b.data, b.len, &o, 7);
    assert_int_equal(r.end, TNT_DONE);
    assert_int_equal(r.n, 3);
    assert_true(has_code(&r, 0, "TOO_BIG"));
    assert_false(has_code(&r, 1, "TOO_BIG"));
    assert_true(has_code(&r, 2, "TOO_BIG"));
    assert_non_null(strstr(r.ev[2], "$.reports[0]"));
    assert_non_null(strstr(r.ev[1], "$.events[1]"));
    result_free(&r);
    tnt__buf_free(&ev);
    tnt__buf_free(&b);
}

/* ---- held events ---- */

/* The document with its @context moved to the front. */
static char *context_first(const char *doc)
{
    tnt__arena a;
    tnt__arena_init(&a, 0);
    char err[128];
    tnt__node *t = tnt__json_parse_tree(&a, doc, strlen(doc), err, sizeof err);
    assert_non_null(t);
    tnt__node *c = NULL, *prev = NULL;
    for (tnt__node *m = t->child; m; prev = m, m = m->next)
        if (strcmp(m->key, "@context") == 0) {
            c = m;
            break;
        }
    assert_non_null(c);
    if (prev) {
        prev->next = c->next;
        if (t->last == c)
            t->last = prev;
        c->next = t->child;
        t->child = c;
    }
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__json_write_node(&b, t, true);
    tnt__arena_destroy(&a);
    return tnt__buf_detach(&b, NULL);
}

static void test_late_context(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "gs1-epcis/JSON/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld",
        "gs1-epcis/JSON/Example-TransactionEvents-2020_07_03y.jsonld",
    };
    for (size_t d = 0; d < 2; d++) {
        size_t len;
        char *late = example(docs[d], &len);
        char *first = context_first(late);
        assert_true(strncmp(first, "{\n  \"@context\"", 14) == 0);
        tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
        result a = read_doc(first, strlen(first), &o, 0);
        assert_int_equal(a.end, TNT_DONE);
        for (size_t chunk = 0; chunk < 40; chunk += 13) {
            result b = read_doc(late, len, &o, chunk);
            same_results(&a, &b, docs[d]); /* same hashes, same prefixes */
            result_free(&b);
        }
        /* the event knows the document's prefixes, and the header its @context, when it is handed out */
        tnt_reader *r;
        tnt_reader_new(&r, &o);
        tnt_reader_feed(r, late, len);
        tnt_event *ev;
        assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
        assert_true(tnt_event_prefix_count(ev) >= 1);
        assert_non_null(strstr(tnt_reader_header(r), "@context"));
        tnt_reader_free(r);
        result_free(&a);
        free(late);
        tnt_free(first);
    }
    /* a CURIE in a value, with its prefix declared late */
    const char *doc = "{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[{\"type\":\"ObjectEvent\","
                      "\"eventTime\":\"2020-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\","
                      "\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.2017\"],\"bizStep\":\"ex:step\"}]},"
                      "\"@context\":[{\"ex\":\"https://ex.com/\"}]}";
    char *first = context_first(doc);
    result a = read_str(first, TNT_READ_HASH);
    result b = read_str(doc, TNT_READ_HASH);
    same_results(&a, &b, "a value CURIE");
    result_free(&a);
    result_free(&b);
    tnt_free(first);
    /* no @context at all: the events come at the end */
    doc = "{\"epcisBody\":{\"eventList\":[{\"type\":\"ObjectEvent\",\"x:y\":1},{\"type\":\"ObjectEvent\"}]}}";
    tnt_reader *r;
    tnt_reader_new(&r, NULL);
    tnt_reader_feed(r, doc, strlen(doc));
    tnt_event *ev;
    assert_int_equal(tnt_reader_next(&ev, r), TNT_AGAIN);
    tnt_reader_finish(r);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_event_index(ev), 0);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_event_index(ev), 1);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_DONE);
    tnt_reader_free(r);
    /* no @context, and more events than may wait (64 MiB): they come out in
     * order before the document ends */
    tnt_reader_new(&r, NULL);
    const char *head = "{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[{}";
    tnt_reader_feed(r, head, strlen(head));
    assert_int_equal(tnt_reader_next(&ev, r), TNT_AGAIN);
    size_t out = 0;
    for (int i = 0; i < 20000 && out == 0; i++) {
        tnt_reader_feed(r, ",{}", 3);
        while (tnt_reader_next(&ev, r) == TNT_OK)
            assert_int_equal(tnt_event_index(ev), out++);
    }
    assert_true(out > 0);
    tnt_reader_feed(r, "],\"@context\":[]}}", 17);
    tnt_reader_finish(r);
    while (tnt_reader_next(&ev, r) == TNT_OK)
        assert_int_equal(tnt_event_index(ev), out++);
    assert_true(out > 1000);
    tnt_reader_free(r);
}

/* ---- limits and hostile input ---- */

/* Feed a generated document: head, then body_len bytes of fill, then tail. */
typedef struct gen {
    const char *head;
    char fill;
    size_t body_len;
    const char *pattern; /* repeated instead of fill when set */
    const char *tail;
} gen;

static result read_gen(const gen *g, const tnt_reader_options *o)
{
    tnt_reader *r;
    assert_int_equal(tnt_reader_new(&r, o), TNT_OK);
    result res;
    memset(&res, 0, sizeof res);
    static char chunk[65536];
    bool going = true;
    tnt_reader_feed(r, g->head, strlen(g->head));
    going = drain(r, &res);
    size_t plen = g->pattern ? strlen(g->pattern) : 0;
    if (g->pattern)
        for (size_t i = 0; i + plen <= sizeof chunk; i += plen)
            memcpy(chunk + i, g->pattern, plen);
    else
        memset(chunk, g->fill, sizeof chunk);
    size_t per = g->pattern ? sizeof chunk / plen * plen : sizeof chunk;
    assert_true(!plen || g->body_len % plen == 0);
    for (size_t done = 0; done < g->body_len && going;) {
        size_t n = g->body_len - done < per ? g->body_len - done : per;
        if (tnt_reader_feed(r, chunk, n) != TNT_OK)
            break;
        done += n;
        going = drain(r, &res);
    }
    if (going && tnt_reader_feed(r, g->tail, strlen(g->tail)) == TNT_OK && (going = drain(r, &res))) {
        tnt_reader_finish(r);
        going = drain(r, &res);
    }
    if (going)
        going = drain(r, &res);
    snprintf(res.errmsg, sizeof res.errmsg, "%s", tnt_reader_errmsg(r));
    tnt_reader_counts(r, &res.counts[0], &res.counts[1], &res.counts[2]);
    tnt_reader_free(r);
    return res;
}

#define NEXT_EVENT "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\"," \
                   "\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.2017\"],\"action\":\"OBSERVE\"}"
#define DOC_HEAD "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"]," \
                 "\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":["

static void test_huge_string(void **state)
{
    (void)state;
    reset_hwm();
    long before = vm_hwm_kb();
    tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
    /* a 100 MB string: the reader stops at a little over the limit */
    gen g = {DOC_HEAD "{\"type\":\"ObjectEvent\",\"ex:s\":\"", 'x', (size_t)100 << 20, NULL, "\"}]}}"};
    result r = read_gen(&g, &o);
    assert_int_equal(r.end, TNT_E_TOOBIG);
    assert_non_null(strstr(r.errmsg, "token longer than"));
    assert_int_equal(r.n, 0);
    result_free(&r);
    /* and as a key; and as the document's only token */
    gen k = {DOC_HEAD "{\"", 'k', (size_t)100 << 20, NULL, "\":1}]}}"};
    r = read_gen(&k, &o);
    assert_int_equal(r.end, TNT_E_TOOBIG);
    result_free(&r);
    gen s = {"[\"", 's', (size_t)100 << 20, NULL, "\"]"};
    r = read_gen(&s, &o);
    assert_int_equal(r.end, TNT_E_TOOBIG);
    result_free(&r);
    long after = vm_hwm_kb();
    if (before > 0 && !RUNNING_ON_VALGRIND)
        assert_true(after - before < 48 * 1024);

    /* a string over max_string_bytes but within the event: that event is rejected */
    static char doc[70000 + 512];
    char *p = doc + sprintf(doc, DOC_HEAD "{\"type\":\"ObjectEvent\",\"ex:s\":\"");
    memset(p, '7', 70000);
    strcpy(p + 70000, "\"}," NEXT_EVENT "]}}");
    result e = read_str(doc, TNT_READ_DEFAULT);
    assert_int_equal(e.end, TNT_DONE);
    assert_int_equal(e.n, 2);
    assert_true(has_code(&e, 0, "TOO_BIG"));
    assert_int_equal(e.counts[1], 1);
    result_free(&e);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
    /* 10^6 levels in an event: that event is rejected, the next one read */
    gen g = {DOC_HEAD "{\"type\":\"ObjectEvent\",\"ex:a\":", '[', 1000000, NULL, NULL};
    static char tail[1000200];
    memset(tail, ']', 1000000);
    strcpy(tail + 1000000, "}," NEXT_EVENT "]}}");
    g.tail = tail;
    result r = read_gen(&g, &o);
    assert_int_equal(r.end, TNT_DONE);
    assert_int_equal(r.n, 2);
    assert_true(has_code(&r, 0, "TOO_BIG"));
    assert_int_equal(r.counts[1], 1);
    result_free(&r);
    /* in a root array */
    gen a = {"[", '[', 1000000, NULL, NULL};
    strcpy(tail + 1000000, "," NEXT_EVENT "]");
    a.tail = tail;
    r = read_gen(&a, &o);
    assert_int_equal(r.end, TNT_DONE);
    assert_int_equal(r.n, 2);
    assert_true(has_code(&r, 0, "TOO_BIG"));
    result_free(&r);
    /* in the header, or a bare event: the document stops */
    gen h = {"{\"x\":", '[', 1000000, NULL, NULL};
    strcpy(tail + 1000000, "}");
    h.tail = tail;
    r = read_gen(&h, &o);
    assert_int_equal(r.end, TNT_E_TOOBIG);
    assert_non_null(strstr(r.errmsg, "nested deeper"));
    result_free(&r);
    /* objects, not arrays */
    gen obj = {DOC_HEAD "{\"type\":\"ObjectEvent\",\"ex:a\":", 0, 6000000, "{\"a\":", NULL};
    char *otail = malloc(1200200);
    otail[0] = '1';
    memset(otail + 1, '}', 1200000);
    strcpy(otail + 1200001, "}," NEXT_EVENT "]}}");
    obj.tail = otail;
    r = read_gen(&obj, &o);
    if (r.end != TNT_DONE)
        fail_msg("%s", r.errmsg);
    assert_int_equal(r.n, 2);
    result_free(&r);
    free(otail);
    /* at the limit: accepted; one more: rejected */
    for (int extra = 0; extra < 2; extra++) {
        char doc[512];
        int depth = 32 - 1 + extra; /* the event object is level 1 */
        int k = snprintf(doc, sizeof doc, DOC_HEAD "{\"type\":\"ObjectEvent\",\"ex:a\":");
        for (int i = 0; i < depth; i++)
            doc[k++] = '[';
        for (int i = 0; i < depth; i++)
            doc[k++] = ']';
        snprintf(doc + k, sizeof doc - (size_t)k, "}]}}");
        result e = read_str(doc, 0);
        assert_int_equal(e.n, 1);
        assert_int_equal(has_code(&e, 0, "TOO_BIG"), extra == 1);
        result_free(&e);
    }
}

static void test_long_list(void **state)
{
    (void)state;
    tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
    o.max_event_bytes = (size_t)64 << 20; /* the list limit, not the size, rejects it */
    gen g = {DOC_HEAD "{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\",\"epcList\":[", 0, 1000000 * 2, "1,",
             "1]}," NEXT_EVENT "]}}"};
    result r = read_gen(&g, &o);
    assert_int_equal(r.end, TNT_DONE);
    assert_int_equal(r.n, 2);
    assert_true(has_code(&r, 0, "TOO_BIG"));
    assert_int_equal(r.counts[1], 1);
    assert_int_equal(r.counts[2], 1);
    result_free(&r);
    /* and the message */
    tnt_reader *rd;
    tnt_reader_new(&rd, &o);
    static char doc[300100];
    char *p = doc + sprintf(doc, "[{\"l\":[1");
    for (int i = 1; i < 100001; i++)
        p += sprintf(p, ",1");
    strcpy(p, "]}]");
    tnt_reader_feed(rd, doc, strlen(doc));
    tnt_reader_finish(rd);
    tnt_event *ev;
    assert_int_equal(tnt_reader_next(&ev, rd), TNT_OK);
    const char *code, *msg;
    tnt_event_error_at(&code, NULL, &msg, ev, 0);
    assert_string_equal(code, "TOO_BIG");
    assert_string_equal(msg, "a list longer than 100000 items");
    tnt_reader_free(rd);
}

static void test_event_too_big(void **state)
{
    (void)state;
    tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
    /* 3 MB of small strings in one event */
    gen g = {DOC_HEAD NEXT_EVENT ",{\"type\":\"ObjectEvent\",\"ex:l\":[", 0, 11 * 300000, "\"abcdefgh\",",
             "\"x\"]}," NEXT_EVENT "]}}"};
    result r = read_gen(&g, &o);
    assert_int_equal(r.end, TNT_DONE);
    assert_int_equal(r.n, 3);
    assert_false(has_code(&r, 0, "TOO_BIG"));
    assert_true(has_code(&r, 1, "TOO_BIG"));
    assert_non_null(strstr(r.ev[1], "$.epcisBody.eventList[1]"));
    assert_int_equal(r.counts[1], 2);
    result_free(&r);
    /* a small limit */
    o.max_event_bytes = 200;
    char doc[2048];
    snprintf(doc, sizeof doc, DOC_HEAD "%s,{\"type\":\"ObjectEvent\",\"ex:p\":\"%0200d\"},%s]}}", NEXT_EVENT, 0,
             NEXT_EVENT);
    r = read_doc(doc, strlen(doc), &o, 0);
    assert_int_equal(r.n, 3);
    assert_true(has_code(&r, 1, "TOO_BIG"));
    assert_int_equal(r.counts[1], 2);
    result_free(&r);
}

static void test_hostile_json(void **state)
{
    (void)state;
    char code[64];
    static const struct {
        const char *doc;
        tnt_status end;
        size_t events; /* handed out before the end */
        const char *msg;
    } cases[] = {
        {DOC_HEAD NEXT_EVENT ",{\"type\":", TNT_E_SYNTAX, 1, "premature EOF"},
        {DOC_HEAD NEXT_EVENT ",", TNT_E_SYNTAX, 1, NULL},
        {DOC_HEAD NEXT_EVENT "]}} x", TNT_E_SYNTAX, 1, "trailing garbage"},
        {DOC_HEAD NEXT_EVENT "]}}{}", TNT_E_SYNTAX, 1, "trailing garbage"},
        {DOC_HEAD NEXT_EVENT ",{\"type\":\"Object\xff\"}]}}", TNT_E_SYNTAX, 1, "UTF8"},
        {DOC_HEAD NEXT_EVENT ",{\"type\":\"\xed\xa0\x80\"}]}}", TNT_E_SYNTAX, 1, "UTF-8"},
        {DOC_HEAD NEXT_EVENT ",{\"\xf4\x90\x80\x80\":1}]}}", TNT_E_SYNTAX, 1, "UTF-8"},
        {DOC_HEAD NEXT_EVENT "}", TNT_E_SYNTAX, 1, NULL},
        {"{\"epcisBody\":{\"eventList\":{}}}", TNT_DONE, 0, NULL},
        {"{\"epcisBody\":[]}", TNT_DONE, 0, NULL},
        {"[]", TNT_DONE, 0, NULL},
        {"{}", TNT_DONE, 1, NULL},
        {"42", TNT_E_INVALID, 0, "number"},
        {"", TNT_E_SYNTAX, 0, "empty document"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t chunk = 0; chunk < 3; chunk++) {
            tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
            result r = read_doc(cases[i].doc, strlen(cases[i].doc), &o, chunk);
            if (r.end != cases[i].end || r.n != cases[i].events)
                fail_msg("%s: %s, %zu events (%s)", cases[i].doc, tnt_status_name(r.end), r.n, r.errmsg);
            if (cases[i].msg && !strstr(r.errmsg, cases[i].msg))
                fail_msg("%s: '%s'", cases[i].doc, r.errmsg);
            if (r.end < 0)
                assert_string_equal(tnt_error_last(), r.errmsg);
            result_free(&r);
        }
    }
    /* per-event answers */
    static const struct {
        const char *event;
        const char *code;
    } events[] = {
        {"{\"type\":\"FooEvent\"}", "EVENT_TYPE"},
        {"{\"type\":5}", "TYPE"},
        {"[1]", "TYPE"},
        {"\"x\"", "TYPE"},
        {"null", "TYPE"},
        {"{\"type\":\"ObjectEvent\",\"epcList\":\"x\"}", "TYPE"},
        {"{\"type\":\"ObjectEvent\",\"ex:s\":\"a\\u0000b\"}", "NUL"},
        {"{\"type\":\"ObjectEvent\",\"ex:\\u0000\":1}", "NUL"},
    };
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, DOC_HEAD "%s,%s]}}", events[i].event, NEXT_EVENT);
        result r = read_str(doc, TNT_READ_DEFAULT);
        assert_int_equal(r.end, TNT_DONE);
        assert_int_equal(r.n, 2);
        if (!has_code(&r, 0, events[i].code))
            fail_msg("%s: %s", events[i].event, r.ev[0]);
        assert_int_equal(r.counts[1], 1);
        result_free(&r);
    }
    /* duplicate keys: the last one stands */
    const char *dup = DOC_HEAD "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T00:00:00Z\",\"eventTimeZoneOffset\":"
                               "\"+00:00\",\"epcList\":[\"a\",\"b\",\"c\"],\"epcList\":"
                               "[\"urn:epc:id:sgtin:0614141.107346.2017\"],\"action\":\"OBSERVE\"}]}}";
    result r = read_str(dup, TNT_READ_DEFAULT);
    assert_int_equal(r.n, 1);
    assert_string_equal(first_code(&r, 0, code, sizeof code), "");
    assert_non_null(strstr(r.ev[0], "\"epcList\":[\"https://id.gs1.org/01/10614141073464/21/2017\"]"));
    result_free(&r);
    /* a reading whose canonical unit cannot hold it stays in its own */
    const char *huge = DOC_HEAD "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T00:00:00Z\",\"eventTimeZoneOffset\":"
                                "\"+00:00\",\"action\":\"OBSERVE\",\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.07346.0\"},"
                                "\"sensorElementList\":[{\"sensorReport\":[{\"type\":\"Mass\",\"value\":1e307,\"uom\":\"TNE\"},"
                                "{\"type\":\"Mass\",\"value\":2,\"uom\":\"TNE\"}]}]}]}}";
    tnt_reader *rd;
    tnt_reader_new(&rd, NULL);
    tnt_reader_feed(rd, huge, strlen(huge));
    tnt_reader_finish(rd);
    tnt_event *ev, *c;
    assert_int_equal(tnt_reader_next(&ev, rd), TNT_OK);
    assert_true(tnt_event_is_valid(ev));
    assert_int_equal(tnt_event_clone(&c, ev), TNT_OK);
    char *j;
    tnt_event_to_json(&j, NULL, c, 0);
    assert_non_null(strstr(j, "{\"type\":\"Mass\",\"value\":1e+307,\"uom\":\"TNE\"}"));
    assert_non_null(strstr(j, "{\"type\":\"Mass\",\"value\":2000,\"uom\":\"KGM\"}"));
    tnt_free(j);
    tnt_event_free(c);
    tnt_reader_free(rd);
}

/* ---- document-level errors, counts, header, reset ---- */

static void test_errors_counts_reset(void **state)
{
    (void)state;
    tnt_reader *r;
    tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
    assert_int_equal(tnt_reader_new(&r, &o), TNT_OK);
    const char *doc = "{\"@context\":\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",\"type\":"
                      "\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"epcisBody\":{\"eventList\":[" NEXT_EVENT
                      ",{\"type\":\"ObjectEvent\"}," NEXT_EVENT ",{]}}";
    assert_string_equal(tnt_reader_header(r), "{}");
    assert_int_equal(tnt_reader_feed(r, doc, strlen(doc)), TNT_OK);
    tnt_event *ev;
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_true(tnt_event_is_valid(ev));
    assert_int_equal(tnt_event_index(ev), 0);
    assert_non_null(strstr(tnt_reader_header(r), "\"schemaVersion\":\"2.0\""));
    assert_non_null(strstr(tnt_reader_header(r), "\"epcisBody\":{}"));
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_false(tnt_event_is_valid(ev));
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_event_index(ev), 2);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_E_SYNTAX);
    assert_null(ev);
    assert_non_null(strstr(tnt_reader_errmsg(r), "at byte"));
    assert_int_equal(tnt_reader_next(&ev, r), TNT_E_SYNTAX); /* sticky */
    assert_int_equal(tnt_reader_feed(r, "x", 1), TNT_E_SYNTAX);
    assert_int_equal(tnt_reader_finish(r), TNT_E_SYNTAX);
    size_t n, valid, rejected;
    tnt_reader_counts(r, &n, &valid, &rejected);
    assert_int_equal(n, 3);
    assert_int_equal(valid, 2);
    assert_int_equal(rejected, 1);
    tnt_reader_counts(r, NULL, NULL, NULL);

    /* reset: a new document, another format */
    tnt_reader_reset(r);
    assert_string_equal(tnt_reader_errmsg(r), "");
    assert_string_equal(tnt_reader_header(r), "{}");
    tnt_reader_counts(r, &n, &valid, &rejected);
    assert_int_equal(n + valid + rejected, 0);
    tnt__buf b;
    size_t events;
    build_batch(&b, &events);
    assert_int_equal(tnt_reader_feed(r, b.data, b.len), TNT_OK);
    tnt_reader_finish(r);
    size_t k = 0;
    while (tnt_reader_next(&ev, r) == TNT_OK)
        assert_int_equal(tnt_event_index(ev), k++);
    assert_int_equal(k, events);
    /* reset in the middle of a document, with events held */
    tnt_reader_reset(r);
    const char *late = "{\"epcisBody\":{\"eventList\":[" NEXT_EVENT "," NEXT_EVENT ",";
    tnt_reader_feed(r, late, strlen(late));
    assert_int_equal(tnt_reader_next(&ev, r), TNT_AGAIN);
    tnt_reader_reset(r);
    tnt_reader_feed(r, "[" NEXT_EVENT "]", strlen("[" NEXT_EVENT "]"));
    tnt_reader_finish(r);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_event_index(ev), 0);
    assert_true(tnt_event_is_valid(ev));
    assert_int_equal(tnt_reader_next(&ev, r), TNT_DONE);
    tnt_reader_free(r);
    tnt__buf_free(&b);
}

/* An event handed out stays valid until the next call; a clone for longer. */
static void test_event_lifetime(void **state)
{
    (void)state;
    tnt_reader *r;
    tnt_reader_new(&r, NULL);
    const char *doc = "[" NEXT_EVENT "," NEXT_EVENT "]";
    tnt_reader_feed(r, doc, strlen(doc));
    tnt_reader_finish(r);
    tnt_event *ev, *c;
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_event_clone(&c, ev), TNT_OK);
    char *j1;
    tnt_event_to_json(&j1, NULL, ev, 0);
    tnt_reader_free(r);
    char *j2;
    tnt_event_to_json(&j2, NULL, c, 0);
    assert_string_equal(j1, j2);
    assert_non_null(tnt_event_get_string(c, TNT_FIELD_HASH_ID));
    tnt_event_free(c);
    tnt_event_free(NULL);
    tnt_free(j1);
    tnt_free(j2);
}

/* ---- memory: a long document in constant memory ---- */

static void test_memory_200k(void **state)
{
    (void)state;
    size_t total = RUNNING_ON_VALGRIND ? 2000 : 200000;
    tnt_reader *r;
    tnt_reader_options o = opts_with(TNT_READ_DEFAULT);
    assert_int_equal(tnt_reader_new(&r, &o), TNT_OK);
    /* warm up: the first events grow the pools */
    const char *head = "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\","
                       "{\"ex\":\"https://ex.com/\"}],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\","
                       "\"creationDate\":\"2024-01-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[";
    tnt_reader_feed(r, head, strlen(head));
    tnt_event *ev;
    assert_int_equal(tnt_reader_next(&ev, r), TNT_AGAIN);
    long start = -1;
    size_t seen = 0, valid = 0;
    char buf[64 * 1024];
    size_t fed = 0;
    while (fed < total) {
        size_t len = 0;
        while (fed < total && len < sizeof buf - 1024) {
            len += (size_t)snprintf(buf + len, sizeof buf - len,
                                    "%s{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T%02zu:%02zu:%02zu.%03zuZ\","
                                    "\"eventTimeZoneOffset\":\"+01:00\",\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.%zu\"],"
                                    "\"action\":\"OBSERVE\",\"bizStep\":\"shipping\",\"disposition\":\"in_transit\","
                                    "\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.07346.1234\"},\"ex:seq\":%zu,"
                                    "\"sensorElementList\":[{\"sensorReport\":[{\"type\":\"Temperature\",\"value\":%zu.5,"
                                    "\"uom\":\"FAH\"}]}]}",
                                    fed ? "," : "", fed / 3600 % 24, fed / 60 % 60, fed % 60, fed % 1000, fed, fed,
                                    fed % 100);
            fed++;
        }
        assert_int_equal(tnt_reader_feed(r, buf, len), TNT_OK);
        tnt_status st;
        while ((st = tnt_reader_next(&ev, r)) == TNT_OK) {
            assert_int_equal(tnt_event_index(ev), seen);
            seen++;
            valid += (size_t)tnt_event_is_valid(ev);
        }
        assert_int_equal(st, TNT_AGAIN);
        if (start < 0 && seen >= 1000) {
            reset_hwm();
            start = vm_hwm_kb();
        }
    }
    tnt_reader_feed(r, "]}}", 3);
    tnt_reader_finish(r);
    while (tnt_reader_next(&ev, r) == TNT_OK)
        seen++, valid += (size_t)tnt_event_is_valid(ev);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_DONE);
    assert_int_equal(seen, total);
    assert_int_equal(valid, total);
    long end = vm_hwm_kb();
    print_message("      %zu events, VmHWM %ld kB -> %ld kB\n", seen, start, end);
    if (start > 0 && !RUNNING_ON_VALGRIND)
        assert_true(end - start < 64 * 1024);
    tnt_reader_free(r);
}

/* A document of many tiny events fed at once does not queue them all. */
static void test_memory_tiny_events(void **state)
{
    (void)state;
    size_t n = RUNNING_ON_VALGRIND ? 50000 : 1000000; /* 3 MB of "{}," */
    char *doc = malloc(3 * n + 2);
    doc[0] = '[';
    for (size_t i = 0; i < n; i++)
        memcpy(doc + 1 + 3 * i, "{},", 3);
    doc[3 * n] = ']';
    doc[3 * n + 1] = '\0';
    reset_hwm();
    long before = vm_hwm_kb();
    tnt_reader_options o = opts_with(0);
    tnt_reader *r;
    tnt_reader_new(&r, &o);
    tnt_reader_feed(r, doc, 3 * n + 1);
    tnt_reader_finish(r);
    tnt_event *ev;
    size_t k = 0;
    while (tnt_reader_next(&ev, r) == TNT_OK)
        k++;
    assert_int_equal(k, n);
    long after = vm_hwm_kb();
    print_message("      VmHWM %ld kB -> %ld kB\n", before, after);
    if (before > 0 && !RUNNING_ON_VALGRIND)
        assert_true(after - before < 64 * 1024);
    tnt_reader_free(r);
    free(doc);
}

/* ---- the GS1 event hash ---- */

static char **lines(const char *path, size_t *n)
{
    char *text = slurp(path, NULL);
    *n = 0;
    if (!text)
        return NULL;
    char **v = NULL;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        size_t k = strlen(l);
        while (k && (l[k - 1] == '\r' || l[k - 1] == ' '))
            l[--k] = '\0';
        if (!k)
            continue;
        v = realloc(v, (*n + 1) * sizeof *v);
        v[(*n)++] = strdup(l);
    }
    free(text);
    return v;
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* .prehashes lines known to be defective upstream (tests/conformance/README.md). */
static bool defective(const char *name, size_t line)
{
    return (strcmp(name, "epcisDocWithAllGS1Keys") == 0 && line == 1) ||
           (strcmp(name, "epcisDocWithCustomSchemaInContext") == 0 && line == 2) ||
           (strcmp(name, "epcisDocWithDefaultSchemaInContext") == 0 && line == 2);
}

typedef struct hashcheck {
    char **hashes, **pre;
    size_t nh, np, i;
    const char *name;
    const char **ignore;
    size_t nignore;
    size_t prehash_checked;
} hashcheck;

/* Drop the members a document's ignoreFields name (the reader does this for the hash). */
static void drop_ignored(tnt_event *ev, const hashcheck *h)
{
    for (size_t k = 0; k < h->nignore && ev->ext; k++) {
        tnt__node **at = &ev->ext->child;
        while (*at) {
            if (strcmp((*at)->key, h->ignore[k]) == 0) {
                *at = (*at)->next;
                ev->ext->count--;
            } else {
                at = &(*at)->next;
            }
        }
    }
}

static void test_hash_vectors(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/event-hash/tests/examples", TNT_CONFORMANCE);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    size_t docs = 0, events = 0, prehashes = 0;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < 7 || strcmp(e->d_name + nl - 7, ".jsonld") != 0)
            continue;
        char name[256], path[1024];
        snprintf(name, sizeof name, "%.*s", (int)(nl - 7), e->d_name);
        hashcheck h = {0};
        h.name = name;
        snprintf(path, sizeof path, "%s/%s.hashes", dir, name);
        h.hashes = lines(path, &h.nh);
        snprintf(path, sizeof path, "%s/%s.prehashes", dir, name);
        h.pre = lines(path, &h.np);
        if (!h.hashes)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *doc = slurp(path, &len);
        const char *ign[2] = {"repository-x:hash", "example:captureID"};
        if (strstr(doc, "ignoreFields")) {
            h.ignore = ign;
            h.nignore = 2;
        }
        /* the hash, through the reader (with the document's ignoreFields), in chunks */
        for (size_t chunk = 0; chunk < 120; chunk += 59) {
            tnt_reader_options o = opts_with(TNT_READ_HASH);
            tnt_reader *r;
            tnt_reader_new(&r, &o);
            size_t at = 0, i = 0;
            tnt_event *ev;
            tnt_status st = TNT_AGAIN;
            while (st == TNT_AGAIN || st == TNT_OK) {
                if (st == TNT_AGAIN) {
                    if (at == len)
                        tnt_reader_finish(r);
                    size_t n = chunk && len - at > chunk ? chunk : len - at;
                    tnt_reader_feed(r, doc + at, n);
                    at += n;
                }
                st = tnt_reader_next(&ev, r);
                if (st != TNT_OK)
                    continue;
                assert_true(i < h.nh);
                const char *got = tnt_event_get_string(ev, TNT_FIELD_HASH_ID);
                if (!got || strcmp(got, h.hashes[i]) != 0)
                    fail_msg("%s event %zu: hash %s, expected %s", name, i, got ? got : "(none)", h.hashes[i]);
                /* the pre-hash string, byte for byte */
                if (chunk == 0 && i < h.np && !defective(name, i + 1)) {
                    tnt_event *c;
                    assert_int_equal(tnt_event_clone(&c, ev), TNT_OK);
                    drop_ignored(c, &h);
                    char *pre = tnt__hash_prehash(c);
                    assert_non_null(pre);
                    if (strcmp(pre, h.pre[i]) != 0)
                        fail_msg("%s event %zu pre-hash:\n%s\nexpected\n%s", name, i, pre, h.pre[i]);
                    tnt__free(pre);
                    tnt_event_free(c);
                    prehashes++;
                }
                i++;
            }
            assert_int_equal(st, TNT_DONE);
            assert_int_equal(i, h.nh);
            if (chunk == 0)
                events += i;
            tnt_reader_free(r);
        }
        docs++;
        free(doc);
        free_lines(h.hashes, h.nh);
        free_lines(h.pre, h.np);
    }
    closedir(d);
    assert_int_equal(docs, 22);
    assert_int_equal(events, 43);
    assert_true(prehashes >= 38);
}

static void test_hash_expected_equal(void **state)
{
    (void)state;
    size_t len;
    char *doc = example("event-hash/tests/expected_equal/ReferenceEventHashAlgorithm.json", &len);
    char h0[100], h1[100];
    for (unsigned flags = TNT_READ_HASH; flags <= TNT_READ_DEFAULT; flags |= TNT_READ_VALIDATE | TNT_READ_NORMALIZE) {
        result r = read_str(doc, flags);
        assert_int_equal(r.end, TNT_DONE);
        assert_true(r.n >= 2);
        for (size_t i = 1; i < r.n; i++)
            assert_string_equal(hash_of(&r, 0, h0), hash_of(&r, i, h1));
        assert_true(strstr(r.ev[0], "6ae96341") != NULL);
        result_free(&r);
        if (flags == TNT_READ_DEFAULT)
            break;
    }
    free(doc);
    /* the hash is the event's as its sender wrote it: normalising does not change it */
    char *all = example("event-hash/tests/examples/epcisDocWithVariousEventTypes.jsonld", &len);
    result a = read_str(all, TNT_READ_HASH);
    result b = read_str(all, TNT_READ_DEFAULT);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        assert_string_equal(hash_of(&a, i, h0), hash_of(&b, i, h1));
    result_free(&a);
    result_free(&b);
    free(all);
}

/* ignoreFields: up to 64 distinct fields (repeats count once), each
 * honoured; a document that lists more is refused rather than hashed with
 * some of them in. */
#define IGN_EVENT(step)                                                                                                \
    "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","           \
    "\"action\":\"OBSERVE\"," step "\"epcList\":[\"urn:epc:id:sgtin:9506000.013435.X\"]}"
#define IGN_HEAD                                                                                                       \
    "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",{\"ex\":\"https://ex.example/\"}]," \
    "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-01-01T00:00:00Z\","

static void test_ignore_fields_bound(void **state)
{
    (void)state;
    char h0[128], h1[128];
    result base = read_str(IGN_HEAD "\"epcisBody\":{\"eventList\":[" IGN_EVENT("") "]}}", TNT_READ_DEFAULT);
    assert_int_equal(base.n, 1);
    for (int extra = 0; extra < 2; extra++) {
        char doc[8192];
        int k = snprintf(doc, sizeof doc, IGN_HEAD "\"ignoreFields\":[");
        for (int i = 0; i < 63 + extra; i++) /* and ex:tag: 64, then 65 */
            k += snprintf(doc + k, sizeof doc - (size_t)k, "\"ex:f%d\",\"ex:f%d\",", i, i);
        snprintf(doc + k, sizeof doc - (size_t)k,
                 "\"ex:tag\"],\"epcisBody\":{\"eventList\":[" IGN_EVENT("\"ex:tag\":\"v\",") "]}}");
        result r = read_str(doc, TNT_READ_DEFAULT);
        if (extra) {
            assert_int_equal(r.end, TNT_E_TOOBIG);
            assert_non_null(strstr(r.errmsg, "ignoreFields"));
            assert_int_equal(r.n, 0);
        } else {
            assert_int_equal(r.n, 1);
            assert_string_equal(hash_of(&r, 0, h1), hash_of(&base, 0, h0)); /* the 64th is honoured */
        }
        result_free(&r);
    }
    result_free(&base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_ignore_fields_bound),
        cmocka_unit_test(test_every_chunk_size),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_detection),
        cmocka_unit_test(test_protobuf_batch),
        cmocka_unit_test(test_protobuf_lookalikes),
        cmocka_unit_test(test_protobuf_malformed),
        cmocka_unit_test(test_late_context),
        cmocka_unit_test(test_huge_string),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_long_list),
        cmocka_unit_test(test_event_too_big),
        cmocka_unit_test(test_hostile_json),
        cmocka_unit_test(test_errors_counts_reset),
        cmocka_unit_test(test_event_lifetime),
        cmocka_unit_test(test_memory_200k),
        cmocka_unit_test(test_memory_tiny_events),
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_hash_expected_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
