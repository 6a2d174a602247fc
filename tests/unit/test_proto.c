#define _GNU_SOURCE /* memmem */
/*
 * The protobuf wire form (proto.c, proto/tnt.proto): everything the model
 * holds survives encode -> decode, and malformed messages -- truncated,
 * bit-flipped, wrong wire types, bad varints, nesting bombs, values the
 * model cannot hold -- are refused with TNT_E_SYNTAX, never a crash.
 */
#include <math.h>
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
#include "codec/flat.h"
#include "codec/json_stream.h"
#include "codec/proto.h"
#include "tnt/document.h"

/* An event using every part of the model. */
static const char k_full[] =
    "{\"@context\":[{\"ex\":\"https://ex.com/\"}],\"type\":\"ObjectEvent\","
    "\"eventTime\":\"2020-03-04T10:00:30.123-05:30\",\"eventTimeZoneOffset\":\"-05:30\","
    "\"recordTime\":\"2020-03-05T00:00:00Z\",\"eventID\":\"urn:uuid:1\","
    "\"certificationInfo\":[\"https://cert/1\",\"https://cert/2\"],"
    "\"errorDeclaration\":{\"declarationTime\":\"2020-03-06T00:00:00+14:00\",\"reason\":\"incorrect_data\","
    "\"correctiveEventIDs\":[\"urn:uuid:2\"],\"ex:why\":{\"ex:a\":[1,2]}},"
    "\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.2017\",\"\"],\"parentID\":\"urn:epc:id:sscc:0614141.1234567890\","
    "\"childEPCs\":[],\"inputEPCList\":[\"x\"],\"outputEPCList\":[\"y\"],"
    "\"quantityList\":[{\"epcClass\":\"c1\",\"quantity\":-2.5e-7,\"uom\":\"KGM\",\"ex:q\":null},{\"epcClass\":\"c2\"}],"
    "\"childQuantityList\":[],\"inputQuantityList\":[{\"epcClass\":\"c3\",\"quantity\":1e300}],"
    "\"outputQuantityList\":[{\"epcClass\":\"c4\",\"quantity\":0}],"
    "\"action\":\"ADD\",\"transformationID\":\"urn:t\",\"bizStep\":\"shipping\",\"disposition\":\"in_transit\","
    "\"persistentDisposition\":{\"set\":[\"a\"],\"unset\":[]},"
    "\"readPoint\":{\"id\":\"urn:rp\",\"ex:r\":true},\"bizLocation\":{\"ex:only\":false},"
    "\"bizTransactionList\":[{\"type\":\"po\",\"bizTransaction\":\"urn:bt\",\"ex:b\":\"x\"},{\"bizTransaction\":\"u\"}],"
    "\"sourceList\":[{\"type\":\"location\",\"source\":\"urn:s\"}],\"destinationList\":[],"
    "\"sensorElementList\":[{\"sensorMetadata\":{\"time\":\"2020-01-01T00:00:00Z\",\"startTime\":"
    "\"2019-12-31T00:00:00-01:00\",\"endTime\":\"2020-01-02T00:00:00Z\",\"deviceID\":\"urn:d\",\"deviceMetadata\":\"urn:dm\","
    "\"rawData\":\"urn:raw\",\"dataProcessingMethod\":\"urn:dpm\",\"bizRules\":\"urn:br\",\"ex:m\":[]},"
    "\"sensorReport\":[{\"type\":\"Temperature\",\"exception\":\"ALARM_CONDITION\",\"deviceID\":\"urn:d\","
    "\"deviceMetadata\":\"urn:dm\",\"rawData\":\"urn:raw\",\"dataProcessingMethod\":\"urn:dpm\",\"bizRules\":\"urn:br\","
    "\"time\":\"2020-01-01T00:00:00.001Z\",\"microorganism\":\"urn:mo\",\"chemicalSubstance\":\"urn:cs\","
    "\"coordinateReferenceSystem\":\"urn:crs\",\"component\":\"x\",\"stringValue\":\"s\",\"booleanValue\":false,"
    "\"hexBinaryValue\":\"ff\",\"uriValue\":\"urn:u\",\"value\":26,\"minValue\":-1,\"maxValue\":1e-300,"
    "\"meanValue\":0.1,\"sDev\":0,\"percRank\":50,\"percValue\":12.7,\"uom\":\"CEL\",\"ex:sr\":{}},{}],"
    "\"ex:se\":\"v\"},{\"sensorReport\":[]}],"
    "\"ilmd\":{\"ex:lot\":\"L1\",\"cbvmda:lotNumber\":\"7\",\"ex:deep\":{\"ex:x\":[[],{},[null,true,false,1.50,\"s\"]]}},"
    "\"ex:num\":-0.0,\"ex:big\":123456789012345678901234567890,\"ex:str\":\"\\u00e9\\ud83d\\ude00\\n\\\"\","
    "\"ex:empty\":\"\",\"ex:arr\":[],\"ex:obj\":{},\"urn:x:y\":1}";

static tnt_event *decode_json(tnt__arena *a, const char *json)
{
    tnt_event *ev = tnt__event_new(a);
    char err[128];
    tnt__node *root = tnt__json_parse_tree(a, json, strlen(json), err, sizeof err);
    if (!root)
        fail_msg("%s", err);
    tnt__ctx ctx = {NULL, 0};
    bool unresolved;
    assert_true(tnt__epcis_decode(ev, root, "$", &ctx, &unresolved));
    if (ev->n_diags)
        fail_msg("%s: %s %s", ev->diags[0].code, ev->diags[0].path, ev->diags[0].message);
    return ev;
}

static char *json_of(const tnt_event *ev)
{
    char *j;
    assert_int_equal(tnt_event_to_json(&j, NULL, ev, 0), TNT_OK);
    return j;
}

/* k_full with the parts its JSON does not show: a prefix and a hash. */
static tnt_event *full_event(tnt__arena *a)
{
    tnt_event *ev = decode_json(a, k_full);
    tnt__event_add_prefix(ev, "ex", "https://ex.com/");
    strcpy(ev->hash_id, "ni:///sha-256;abc?ver=CBV2.0");
    return ev;
}

static void test_round_trip(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt_event *ev = full_event(&a);
    char *j1 = json_of(ev);
    void *pb;
    size_t len;
    assert_int_equal(tnt_event_to_proto(&pb, &len, ev), TNT_OK);
    tnt_event *back;
    assert_int_equal(tnt_event_from_proto(&back, pb, len), TNT_OK);
    char *j2 = json_of(back);
    assert_string_equal(j1, j2);
    /* the parts the JSON does not show */
    assert_string_equal(tnt_event_get_string(back, TNT_FIELD_HASH_ID), "ni:///sha-256;abc?ver=CBV2.0");
    assert_int_equal(tnt_event_prefix_count(back), 1);
    assert_int_equal(back->present, ev->present);
    assert_string_equal(tnt__node_get(back->ext, "ex:deep") ? "?" : tnt__node_get(back->ilmd, "ex:deep")->ns,
                        "https://ex.com/");
    assert_int_equal(back->sensors[0].reports[0].boolean_value, 0);
    assert_int_equal(back->sensors[0].reports[1].boolean_value, -1);
    assert_int_equal(back->sensors[0].has_meta, true);
    assert_int_equal(back->sensors[1].has_meta, false);
    assert_int_equal(back->event_time.off, -330);
    assert_int_equal(back->error_decl->declaration_time.off, 840);
    assert_true(back->has_pd);
    /* encoding is deterministic */
    void *pb2;
    size_t len2;
    assert_int_equal(tnt_event_to_proto(&pb2, &len2, back), TNT_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(pb, pb2, len);
    /* a clone is the same */
    tnt_event *c;
    assert_int_equal(tnt_event_clone(&c, ev), TNT_OK);
    char *j3 = json_of(c);
    assert_string_equal(j1, j3);
    tnt_free(j1);
    tnt_free(j2);
    tnt_free(j3);
    tnt_free(pb);
    tnt_free(pb2);
    tnt_event_free(back);
    tnt_event_free(c);

    /* an empty event; an empty persistentDisposition; empty strings */
    tnt_event *e = tnt__event_new(&a);
    assert_int_equal(tnt_event_to_proto(&pb, &len, e), TNT_OK);
    assert_int_equal(len, 0);
    assert_int_equal(tnt_event_from_proto(&back, pb, len), TNT_OK);
    j1 = json_of(back);
    assert_string_equal(j1, "{}");
    tnt_free(j1);
    tnt_free(pb);
    tnt_event_free(back);
    e->has_pd = true;
    e->event_id = "";
    assert_int_equal(tnt_event_to_proto(&pb, &len, e), TNT_OK);
    assert_int_equal(tnt_event_from_proto(&back, pb, len), TNT_OK);
    j1 = json_of(back);
    assert_string_equal(j1, "{\"eventID\":\"\",\"persistentDisposition\":{}}");
    tnt_free(j1);
    tnt_free(pb);
    tnt_event_free(back);
    tnt__arena_destroy(&a);
}

/* The deepest event a reader accepts survives the protobuf form. */
static void test_depth(void **state)
{
    (void)state;
    for (int depth = 62; depth <= 64; depth++) {
        char doc[1024];
        int k = snprintf(doc, sizeof doc, "[{\"type\":\"ObjectEvent\",\"ex:a\":");
        for (int i = 1; i < depth; i++)
            doc[k++] = i % 2 ? '[' : '{', k += i % 2 ? 0 : sprintf(doc + k, "\"k\":");
        doc[k++] = '1';
        for (int i = depth - 1; i >= 1; i--)
            doc[k++] = i % 2 ? ']' : '}';
        snprintf(doc + k, sizeof doc - (size_t)k, "}]");
        tnt_reader_options o = TNT_READER_OPTIONS_INIT;
        o.max_depth = 64;
        o.flags = 0;
        tnt_reader *r;
        assert_int_equal(tnt_reader_new(&r, &o), TNT_OK);
        tnt_reader_feed(r, doc, strlen(doc));
        tnt_reader_finish(r);
        tnt_event *ev, *c;
        assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
        assert_int_equal(tnt_event_error_count(ev), 0);
        assert_int_equal(tnt_event_clone(&c, ev), TNT_OK);
        char *j1 = json_of(ev), *j2 = json_of(c);
        assert_string_equal(j1, j2);
        tnt_free(j1);
        tnt_free(j2);
        tnt_event_free(c);
        tnt_reader_free(r);
    }
}

/* ---- building messages by hand ---- */

typedef struct msg {
    uint8_t b[4096];
    size_t n;
} msg;

static void varint(msg *m, uint64_t v)
{
    do {
        m->b[m->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void key(msg *m, uint32_t field, int wt) { varint(m, (uint64_t)field << 3 | (uint64_t)wt); }

static void bytes(msg *m, uint32_t field, const void *p, size_t len)
{
    key(m, field, 2);
    varint(m, len);
    memcpy(m->b + m->n, p, len);
    m->n += len;
}

static void str(msg *m, uint32_t field, const char *s) { bytes(m, field, s, strlen(s)); }
static void sub(msg *m, uint32_t field, const msg *s) { bytes(m, field, s->b, s->n); }

static void dbl(msg *m, uint32_t field, double v)
{
    key(m, field, 1);
    memcpy(m->b + m->n, &v, 8);
    m->n += 8;
}

static void zigzag(msg *m, uint32_t field, int64_t v)
{
    key(m, field, 0);
    varint(m, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Node{kind, key, value} */
static msg node(int kind, const char *k, const char *value)
{
    msg n = {{0}, 0};
    if (kind) {
        key(&n, 1, 0);
        varint(&n, (uint64_t)kind);
    }
    if (k)
        str(&n, 2, k);
    if (value)
        str(&n, 4, value);
    return n;
}

static tnt_status decode(const msg *m, char **json)
{
    tnt_event *ev = NULL;
    tnt_status st = tnt_event_from_proto(&ev, m->b, m->n);
    if (st == TNT_OK) {
        if (json)
            *json = json_of(ev);
        tnt_event_free(ev);
    } else {
        assert_null(ev);
        assert_int_equal(tnt_error_last_code(), st);
    }
    return st;
}

static void expect_syntax(const msg *m, const char *why)
{
    tnt_status st = decode(m, NULL);
    if (st != TNT_E_SYNTAX)
        fail_msg("%s: %s, expected TNT_E_SYNTAX", why, tnt_status_name(st));
    if (!strstr(tnt_error_last(), "malformed protobuf"))
        fail_msg("%s: '%s'", why, tnt_error_last());
}

static void test_malformed(void **state)
{
    (void)state;
    msg m = {{0}, 0};
    /* wire types */
    m.n = 0, str(&m, 1, "x");
    expect_syntax(&m, "an enum sent as a string");
    m.n = 0, key(&m, 9, 0), varint(&m, 65);
    expect_syntax(&m, "a string sent as a varint");
    m.n = 0, key(&m, 9, 5), memcpy(m.b + m.n, "abcd", 4), m.n += 4;
    expect_syntax(&m, "a string sent as fixed32");
    m.n = 0, key(&m, 31, 1), memcpy(m.b + m.n, "abcdefgh", 8), m.n += 8;
    expect_syntax(&m, "a submessage sent as fixed64");
    m.n = 0, key(&m, 3, 0), varint(&m, 5);
    expect_syntax(&m, "a timestamp sent as a varint");
    m.n = 0, key(&m, 9, 3);
    expect_syntax(&m, "a group");
    m.n = 0, key(&m, 9, 6);
    expect_syntax(&m, "wire type 6");
    /* varints and lengths */
    m.n = 0, key(&m, 1, 0);
    memcpy(m.b + m.n, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11), m.n += 11;
    expect_syntax(&m, "an 11-byte varint");
    m.n = 0, key(&m, 1, 0), m.b[m.n++] = 0x80;
    expect_syntax(&m, "a truncated varint");
    m.n = 0, key(&m, 9, 2), varint(&m, 100), memcpy(m.b + m.n, "ab", 2), m.n += 2;
    expect_syntax(&m, "a length past the end");
    m.n = 0, key(&m, 9, 2), varint(&m, UINT64_MAX);
    expect_syntax(&m, "a length of 2^64-1");
    m.n = 0, key(&m, 0, 2), varint(&m, 0);
    expect_syntax(&m, "field number 0");
    /* values the model cannot hold */
    m.n = 0, key(&m, 1, 0), varint(&m, 6);
    expect_syntax(&m, "event type 6");
    m.n = 0, key(&m, 2, 0), varint(&m, 4);
    expect_syntax(&m, "action 4");
    m.n = 0, str(&m, 9, "a\xff");
    expect_syntax(&m, "invalid UTF-8");
    m.n = 0, str(&m, 9, "\xed\xa0\x80");
    expect_syntax(&m, "a surrogate in UTF-8");
    m.n = 0, bytes(&m, 9, "a\0b", 3);
    expect_syntax(&m, "U+0000");
    char longhash[200];
    memset(longhash, 'h', sizeof longhash - 1);
    longhash[sizeof longhash - 1] = '\0';
    m.n = 0, str(&m, 33, longhash);
    expect_syntax(&m, "a hash ID too long");
    msg ts = {{0}, 0};
    zigzag(&ts, 1, INT64_C(253402300800000)); /* 10000-01-01 */
    m.n = 0, sub(&m, 3, &ts);
    expect_syntax(&m, "a time past year 9999");
    ts.n = 0, zigzag(&ts, 1, INT64_MIN);
    m.n = 0, sub(&m, 5, &ts);
    expect_syntax(&m, "a time of INT64_MIN");
    ts.n = 0, zigzag(&ts, 1, 0), zigzag(&ts, 2, 841);
    m.n = 0, sub(&m, 3, &ts);
    expect_syntax(&m, "an offset over 14 hours");
    ts.n = 0, zigzag(&ts, 1, INT64_C(253402300799999)), zigzag(&ts, 2, 60);
    m.n = 0, sub(&m, 3, &ts);
    expect_syntax(&m, "a time written in year 10000 with its offset");
    msg ed = {{0}, 0};
    sub(&ed, 1, &ts);
    m.n = 0, sub(&m, 8, &ed);
    expect_syntax(&m, "an errorDeclaration time out of range");
    msg q = {{0}, 0};
    str(&q, 1, "c");
    dbl(&q, 2, NAN);
    m.n = 0, sub(&m, 12, &q);
    expect_syntax(&m, "a NaN quantity");
    msg sr = {{0}, 0}, se = {{0}, 0};
    dbl(&sr, 12, INFINITY);
    sub(&se, 2, &sr);
    m.n = 0, sub(&m, 29, &se);
    expect_syntax(&m, "an infinite sensor value");
    msg meta = {{0}, 0};
    ts.n = 0, zigzag(&ts, 1, INT64_C(-62135596800001));
    sub(&meta, 1, &ts);
    se.n = 0, sub(&se, 1, &meta);
    m.n = 0, sub(&m, 29, &se);
    expect_syntax(&m, "a sensor metadata time before year 1");

    /* nodes of the wrong shape */
    msg n = node(0, NULL, NULL);
    m.n = 0, sub(&m, 31, &n);
    expect_syntax(&m, "an extension member without a key");
    msg obj = node(6, "ex:o", NULL), kid = node(4, NULL, "v");
    sub(&obj, 5, &kid);
    m.n = 0, sub(&m, 31, &obj);
    expect_syntax(&m, "an object member without a key");
    msg arr = node(5, "ex:a", NULL);
    kid = node(4, "k", "v");
    sub(&arr, 5, &kid);
    m.n = 0, sub(&m, 31, &arr);
    expect_syntax(&m, "an array item with a key");
    msg sc = node(4, "ex:s", "v");
    kid = node(4, NULL, "w");
    sub(&sc, 5, &kid);
    m.n = 0, sub(&m, 31, &sc);
    expect_syntax(&m, "a string with items");
    static const char *const bad_numbers[] = {"", "1,\"x\":2", "01", "1.", ".5", "+1", "1e", "NaN", "0x10", "1 "};
    for (size_t i = 0; i < sizeof bad_numbers / sizeof bad_numbers[0]; i++) {
        n = node(3, "ex:n", bad_numbers[i]);
        m.n = 0, sub(&m, 31, &n);
        expect_syntax(&m, bad_numbers[i]);
    }
    n = node(1, "ex:f", "x");
    m.n = 0, sub(&m, 31, &n);
    expect_syntax(&m, "a false with a value");
    n = node(6, "ex:o", "x");
    m.n = 0, sub(&m, 31, &n);
    expect_syntax(&m, "an object with a value");
    n = node(7, "ex:o", NULL);
    m.n = 0, sub(&m, 31, &n);
    expect_syntax(&m, "node kind 7");
    msg cond = {{0}, 0}, rep = {{0}, 0};
    dbl(&cond, 2, 1.0);
    sub(&rep, 5, &cond);
    tnt__report r;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    assert_int_equal(tnt__proto_decode_report(&r, &a, rep.b, rep.n), TNT_E_SYNTAX);
    rep.n = 0, dbl(&rep, 7, NAN), dbl(&rep, 8, 1);
    assert_int_equal(tnt__proto_decode_report(&r, &a, rep.b, rep.n), TNT_E_SYNTAX);
    tnt__arena_destroy(&a);

    /* well-formed edge cases */
    static const char *const good_numbers[] = {"0", "-0", "1.5e-7", "-12E+3", "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof good_numbers / sizeof good_numbers[0]; i++) {
        n = node(3, "ex:n", good_numbers[i]);
        m.n = 0, sub(&m, 31, &n);
        char *j;
        assert_int_equal(decode(&m, &j), TNT_OK);
        char want[128];
        snprintf(want, sizeof want, "{\"ex:n\":%s}", good_numbers[i]);
        assert_string_equal(j, want);
        tnt_free(j);
    }
    /* unknown fields of every wire type are skipped */
    m.n = 0;
    key(&m, 99, 0), varint(&m, 5);
    key(&m, 100, 1), memcpy(m.b + m.n, "12345678", 8), m.n += 8;
    str(&m, 101, "x");
    key(&m, 102, 5), memcpy(m.b + m.n, "1234", 4), m.n += 4;
    key(&m, 1, 0), varint(&m, 2);
    char *j;
    assert_int_equal(decode(&m, &j), TNT_OK);
    assert_string_equal(j, "{\"type\":\"AggregationEvent\"}");
    tnt_free(j);
    /* a field given twice: the strings add up, the last scalar stands */
    m.n = 0;
    str(&m, 9, "a"), key(&m, 1, 0), varint(&m, 1), str(&m, 9, "b"), key(&m, 1, 0), varint(&m, 3);
    str(&m, 19, "s1"), str(&m, 19, "s2");
    assert_int_equal(decode(&m, &j), TNT_OK);
    assert_string_equal(j, "{\"type\":\"TransactionEvent\",\"epcList\":[\"a\",\"b\"],\"bizStep\":\"s2\"}");
    tnt_free(j);

    /* misuse and size */
    tnt_event *ev = (tnt_event *)&m;
    assert_int_equal(tnt_event_from_proto(NULL, "", 0), TNT_E_MISUSE);
    assert_int_equal(tnt_event_from_proto(&ev, NULL, 1), TNT_E_MISUSE);
    assert_int_equal(tnt_event_from_proto(&ev, "x", ((size_t)64 << 20) + 1), TNT_E_TOOBIG);
    assert_null(ev);
    assert_int_equal(tnt_event_from_proto(&ev, NULL, 0), TNT_OK);
    tnt_event_free(ev);
    void *pb;
    size_t len;
    assert_int_equal(tnt_event_to_proto(NULL, &len, ev), TNT_E_MISUSE);
    assert_int_equal(tnt_event_to_proto(&pb, NULL, ev), TNT_E_MISUSE);
    assert_int_equal(tnt_event_to_proto(&pb, &len, NULL), TNT_E_MISUSE);
}

/* Nodes nested past the limit, and a bomb of nested submessages. */
static void test_nesting(void **state)
{
    (void)state;
    for (int depth = 60; depth <= 70; depth++) {
        msg inner = node(4, NULL, "x"), outer;
        for (int i = 0; i < depth - 1; i++) {
            outer = node(5, i == depth - 2 ? "ex:n" : NULL, NULL);
            sub(&outer, 5, &inner);
            inner = outer;
        }
        msg m = {{0}, 0};
        sub(&m, 31, &inner);
        tnt_status st = decode(&m, NULL);
        assert_int_equal(st, depth <= 64 ? TNT_OK : TNT_E_SYNTAX);
        if (st != TNT_OK)
            assert_non_null(strstr(tnt_error_last(), "nesting too deep"));
    }
    /* 100,000 levels of nodes, built from the inside out */
    size_t levels = 100000, cap = levels * 8 + 64;
    uint8_t *buf = malloc(cap), *p = buf + cap;
    static const uint8_t array_kind[2] = {0x08, 5};
    for (size_t i = 0; i < levels; i++) {
        size_t inner = (size_t)(buf + cap - p);
        uint8_t hdr[16];
        size_t h = 0;
        bool event_field = i + 1 == levels;
        if (!event_field)
            hdr[h++] = 0x2A; /* Node.items */
        else
            hdr[h++] = 0xFA, hdr[h++] = 0x01; /* Event.ext */
        for (uint64_t v = inner + (event_field ? 0 : 0);; v >>= 7) {
            hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            if (v <= 0x7f)
                break;
        }
        if (!event_field) { /* this level: kind ARRAY, then its item */
            p -= h;
            memcpy(p, hdr, h);
            p -= 2;
            memcpy(p, array_kind, 2);
        } else {
            p -= h;
            memcpy(p, hdr, h);
        }
    }
    tnt_event *ev;
    assert_int_equal(tnt_event_from_proto(&ev, p, (size_t)(buf + cap - p)), TNT_E_SYNTAX);
    assert_non_null(strstr(tnt_error_last(), "nesting too deep"));
    free(buf);
}

/* Every prefix of a valid message, and every single-bit change of it:
 * decoded or refused, never a crash, and what decodes writes valid JSON
 * and encodes again. */
static void test_mutations(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt_event *ev = decode_json(&a, k_full);
    void *pb;
    size_t len;
    assert_int_equal(tnt_event_to_proto(&pb, &len, ev), TNT_OK);
    uint8_t *copy = malloc(len);
    size_t ok = 0, refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        tnt_event *e;
        tnt_status st = tnt_event_from_proto(&e, pb, cut);
        assert_true(st == TNT_OK || st == TNT_E_SYNTAX);
        if (st == TNT_OK)
            tnt_event_free(e);
    }
    size_t step = RUNNING_ON_VALGRIND ? 7 : 1;
    for (size_t i = 0; i < len; i += step) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, pb, len);
            copy[i] ^= (uint8_t)(1u << bit);
            tnt_event *e;
            tnt_status st = tnt_event_from_proto(&e, copy, len);
            assert_true(st == TNT_OK || st == TNT_E_SYNTAX);
            if (st != TNT_OK) {
                refused++;
                continue;
            }
            ok++;
            char *j = json_of(e);
            tnt__arena ja;
            tnt__arena_init(&ja, 0);
            char err[128];
            if (!tnt__json_parse_tree(&ja, j, strlen(j), err, sizeof err))
                fail_msg("byte %zu bit %d: invalid JSON (%s): %s", i, bit, err, j);
            tnt__arena_destroy(&ja);
            void *again;
            size_t alen;
            assert_int_equal(tnt_event_to_proto(&again, &alen, e), TNT_OK);
            tnt_event *e2;
            assert_int_equal(tnt_event_from_proto(&e2, again, alen), TNT_OK);
            char *j2 = json_of(e2);
            assert_string_equal(j, j2);
            tnt_free(j);
            tnt_free(j2);
            tnt_free(again);
            tnt_event_free(e2);
            tnt_event_free(e);
        }
    }
    assert_true(ok > 0 && refused > 0);
    free(copy);
    tnt_free(pb);
    tnt__arena_destroy(&a);
}

static void test_report(void **state)
{
    (void)state;
    tnt__report r;
    memset(&r, 0, sizeof r);
    r.product_id = "(01)09506000134352(21)ABC123";
    r.event_type = "ship";
    r.location = "urn:epc:id:sgln:9506000.13435.0";
    r.device_id = "dev-7";
    r.timestamp = (tnt__time){1709287200123, -300, true};
    tnt__cond c[2] = {{"temperature", 4.25, NULL}, {"humidity", 55, "P1"}};
    r.conds = c;
    r.n_conds = 2;
    r.has_latlon = true;
    r.lat = 52.5;
    r.lon = -13.25;
    void *pb;
    size_t len;
    assert_int_equal(tnt__proto_encode_report(&pb, &len, &r), TNT_OK);
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt__report b;
    assert_int_equal(tnt__proto_decode_report(&b, &a, pb, len), TNT_OK);
    assert_string_equal(b.product_id, r.product_id);
    assert_string_equal(b.event_type, "ship");
    assert_string_equal(b.location, r.location);
    assert_string_equal(b.device_id, "dev-7");
    assert_int_equal(b.timestamp.ms, r.timestamp.ms);
    assert_int_equal(b.timestamp.off, -300);
    assert_int_equal(b.n_conds, 2);
    assert_string_equal(b.conds[0].type, "temperature");
    assert_true(b.conds[0].value == 4.25);
    assert_null(b.conds[0].uom);
    assert_string_equal(b.conds[1].uom, "P1");
    assert_true(b.has_latlon && b.lat == 52.5 && b.lon == -13.25);
    /* truncations never crash */
    for (size_t cut = 0; cut < len; cut++) {
        tnt_status st = tnt__proto_decode_report(&b, &a, pb, cut);
        assert_true(st == TNT_OK || st == TNT_E_SYNTAX);
    }
    tnt_free(pb);
    tnt__arena_destroy(&a);
}


/* ---- the flat event record (codec/flat.h), the state store's form ---- */

static tnt__buf flat_of(const tnt_event *ev)
{
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__flat_encode_event(&b, ev);
    assert_false(b.oom);
    return b;
}

static tnt_event *from_flat(tnt__arena *a, const void *data, size_t len, tnt_status want)
{
    tnt_event *ev = tnt__event_new(a);
    assert_non_null(ev);
    tnt_status st = tnt__flat_decode_event(ev, data, len);
    if (st != want)
        fail_msg("status %d (%s), want %d", st, tnt_error_last(), want);
    return st == TNT_OK ? ev : NULL;
}

static void test_flat(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt_event *ev = full_event(&a);
    tnt__buf b = flat_of(ev);
    assert_true(tnt__flat_is_event(b.data, b.len));
    tnt_event *back = from_flat(&a, b.data, b.len, TNT_OK);
    char *j1 = json_of(ev), *j2 = json_of(back);
    assert_string_equal(j1, j2);
    assert_string_equal(back->hash_id, ev->hash_id);
    assert_int_equal(back->present, ev->present);
    assert_int_equal(back->n_prefixes, 1);
    assert_int_equal(back->sensors[0].reports[0].boolean_value, 0);
    assert_int_equal(back->sensors[0].reports[1].boolean_value, -1);
    assert_false(back->sensors[1].has_meta);
    assert_int_equal(back->error_decl->declaration_time.off, 840);
    assert_true(back->has_pd);
    /* deterministic, and the same as after the protobuf form */
    tnt__buf b2 = flat_of(back);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    void *pb;
    size_t len;
    assert_int_equal(tnt_event_to_proto(&pb, &len, ev), TNT_OK);
    tnt_event *viapb = tnt__event_new(&a);
    assert_int_equal(tnt__event_record_decode(viapb, pb, len), TNT_OK); /* a protobuf record is read too */
    tnt__buf b3 = flat_of(viapb);
    assert_int_equal(b.len, b3.len);
    assert_memory_equal(b.data, b3.data, b.len);
    tnt_event *viaflat = tnt__event_new(&a);
    assert_int_equal(tnt__event_record_decode(tnt__event_new(&a), b.data, b.len - 1), TNT_E_CORRUPT); /* stored damage */
    assert_int_equal(tnt__event_record_decode(viaflat, b.data, b.len), TNT_OK);
    char *j3 = json_of(viaflat);
    assert_string_equal(j1, j3);
    /* smaller than the protobuf form would be no surprise, but not required: both hold the same */
    tnt_free(pb);
    tnt_free(j1);
    tnt_free(j2);
    tnt_free(j3);
    tnt__buf_free(&b);
    tnt__buf_free(&b2);
    tnt__buf_free(&b3);

    /* an empty event; empty strings stay empty strings, absent ones absent */
    tnt_event *e = tnt__event_new(&a);
    e->has_pd = true;
    e->event_id = "";
    b = flat_of(e);
    back = from_flat(&a, b.data, b.len, TNT_OK);
    j1 = json_of(back);
    assert_string_equal(j1, "{\"eventID\":\"\",\"persistentDisposition\":{}}");
    assert_null(back->biz_step);
    tnt_free(j1);
    tnt__buf_free(&b);
    tnt__arena_destroy(&a);
}

/* Appends for hand-made records. */
static void raw(tnt__buf *b, const char *bytes, size_t n) { tnt__buf_append(b, bytes, n); }

/* Strings of every length up to 40 with one byte that is not ASCII at every
 * position: a byte that is no UTF-8 or U+0000 is refused wherever it is (the
 * reader checks words of eight bytes and then the tail), a character of
 * UTF-8 is read as it is. */
static void test_flat_strings(void **state)
{
    (void)state;
    for (size_t len = 1; len <= 40; len++)
        for (size_t at = 0; at < len; at++)
            for (int k = 0; k < 4; k++) {
                tnt__arena a;
                tnt__arena_init(&a, 0);
                tnt_event *ev = full_event(&a);
                char *id = tnt__arena_alloc(&a, len + 1);
                memset(id, 'q', len);
                id[len] = '\0';
                ev->event_id = id;
                tnt__buf b = flat_of(ev);
                uint8_t *rec = malloc(b.len);
                memcpy(rec, b.data, b.len);
                uint8_t *p = memmem(rec, b.len, id, len + 1); /* the string with its NUL */
                assert_non_null(p);
                static const uint8_t bad[] = {0x80, 0x00, 0xFF};
                if (k < 3) {
                    p[at] = bad[k];
                    from_flat(&a, rec, b.len, TNT_E_SYNTAX);
                } else if (at + 1 < len) { /* U+00E9, two bytes */
                    p[at] = 0xC3;
                    p[at + 1] = 0xA9;
                    tnt_event *back = from_flat(&a, rec, b.len, TNT_OK);
                    assert_memory_equal(back->event_id, p, len + 1);
                }
                free(rec);
                tnt__buf_free(&b);
                tnt__arena_destroy(&a);
            }
}

static void test_flat_malformed(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt_event *ev = full_event(&a);
    tnt__buf b = flat_of(ev);
    /* every truncation is refused */
    for (size_t cut = 0; cut < b.len; cut++) {
        tnt__arena x;
        tnt__arena_init(&x, 0);
        from_flat(&x, b.data, cut, TNT_E_SYNTAX);
        tnt__arena_destroy(&x);
    }
    /* trailing bytes */
    tnt__buf t;
    tnt__buf_init(&t);
    raw(&t, b.data, b.len);
    raw(&t, "\0", 1);
    from_flat(&a, t.data, t.len, TNT_E_SYNTAX);
    tnt__buf_free(&t);
    /* every flipped bit: refused, or an event that is valid JSON and reads back the same */
    uint8_t *copy = malloc(b.len);
    size_t ok = 0, refused = 0, step = RUNNING_ON_VALGRIND ? 7 : 1;
    for (size_t i = 0; i < b.len; i += step)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, b.data, b.len);
            copy[i] ^= (uint8_t)(1u << bit);
            tnt__arena x;
            tnt__arena_init(&x, 0);
            tnt_event *e = tnt__event_new(&x);
            tnt_status st = tnt__flat_decode_event(e, copy, b.len);
            assert_true(st == TNT_OK || st == TNT_E_SYNTAX);
            if (st == TNT_OK) {
                ok++;
                char *j = json_of(e);
                char err[128];
                if (!tnt__json_parse_tree(&x, j, strlen(j), err, sizeof err))
                    fail_msg("byte %zu bit %d: invalid JSON (%s): %s", i, bit, err, j);
                tnt__buf again = flat_of(e);
                tnt_event *e2 = from_flat(&x, again.data, again.len, TNT_OK);
                char *j2 = json_of(e2);
                assert_string_equal(j, j2);
                tnt_free(j);
                tnt_free(j2);
                tnt__buf_free(&again);
            } else
                refused++;
            tnt__arena_destroy(&x);
        }
    assert_true(ok > 0 && refused > 0);
    free(copy);
    tnt__buf_free(&b);

    /* hand-made records: H is the header, type, action, present and flags, then come two times, ... */
#define H "\0E\1\0\0\0\0\0\0\0"
    static const char head[] = H;
    static const struct {
        const char *bytes;
        size_t len;
        const char *why;
    } bad[] = {
        {"\0E\2", 3, "no flat event header"},
        {"\0E\1\7\0\0\0\0\0\0", 10, "unknown event type"},
        {"\0E\1\0\0\0\0\0\0\x80", 10, "unknown flags"},
        {H "\2", 11, "flag is not 0 or 1"},
        {H "\1\0\0\0\0\0\0\0\x7f\0\0", 21, "out of range"},                    /* eventTime past the year 9999 */
        {H "\0\0\xff\xff\xff\xff\xff\xff\xff\xff\x3f", 21, "longer than the record"}, /* a string of 2^62 bytes */
        {H "\0\0\3\xc3\x28\0", 16, "not UTF-8"},
        {H "\0\0\3abc", 16, "does not end with U+0000"},
        {H "\0\0\4a\0b\0", 17, "not UTF-8"}, /* U+0000 inside */
        {H "\0\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\1", 23, "not a varint"},
        {H "\0\0\0\0\xc0\x84\x3d", 17, "count is larger"}, /* certificationInfo: a million items in 3 bytes */
        {H "\1\xff\xff\xff\xff\xff\xff\xff\x7f\1\0", 21, "out of range"}, /* the largest time: no overflow with its offset */
    };
#undef H
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tnt__arena x;
        tnt__arena_init(&x, 0);
        from_flat(&x, bad[i].bytes, bad[i].len, TNT_E_SYNTAX);
        if (!strstr(tnt_error_last(), bad[i].why))
            fail_msg("record %zu: '%s' does not say '%s'", i, tnt_error_last(), bad[i].why);
        tnt__arena_destroy(&x);
    }
    /* nesting: an ILMD member nested 100 arrays deep, then NaN in a quantity */
    tnt__buf n;
    tnt__buf_init(&n);
    raw(&n, head, sizeof head - 1);
    raw(&n, "\0\0\0\0\0", 5); /* two absent times, no offset, no eventID, no certificationInfo */
    for (int i = 0; i < 9; i++)      /* epcList .. outputQuantityList, each empty or absent */
        raw(&n, "\0", 1);
    raw(&n, "\0\0\0", 3);             /* transformationID, bizStep, disposition */
    raw(&n, "\0\0\0\0", 4);          /* readPoint and its extension, bizLocation and its extension */
    raw(&n, "\0\0\0\0", 4);          /* three reference lists, no sensors */
    size_t ilmd = n.len;
    raw(&n, "\1\5\2k\0\0\0\1", 8); /* one member "k": an array of one item */
    for (int i = 0; i < 100; i++)
        raw(&n, "\5\0\0\0\1", 5);
    from_flat(&a, n.data, n.len, TNT_E_SYNTAX);
    assert_non_null(strstr(tnt_error_last(), "nesting too deep"));
    n.len = ilmd;
    raw(&n, "\1\3\2k\0\0\4nan\0\0", 12); /* a number member whose text is not a JSON number */
    raw(&n, "\0\0", 2);
    from_flat(&a, n.data, n.len, TNT_E_SYNTAX);
    assert_non_null(strstr(tnt_error_last(), "not a JSON number"));
    n.len = ilmd;
    raw(&n, "\1\3\2k\0\0\3-1\0\0\0\0", 13); /* the same with -1: a well-formed record */
    tnt_event *ok_ev = from_flat(&a, n.data, n.len, TNT_OK);
    char *j = json_of(ok_ev);
    assert_non_null(strstr(j, "\"ilmd\":{\"k\":-1}"));
    tnt_free(j);
    tnt__buf_free(&n);
    tnt__arena_destroy(&a);
}

/* Thousands of namespace prefixes: linear time and memory, a later
 * declaration of a name replaces its IRI, and both forms keep them all. */
static void test_many_prefixes(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt_event *ev = tnt__event_new(&a);
    enum { N = 20000 };
    for (int i = 0; i < N; i++)
        assert_true(tnt__event_add_prefix(ev, tnt__arena_printf(&a, "p%d", i), tnt__arena_printf(&a, "https://p%d/", i)));
    for (int i = 0; i < N; i += 100) /* declared again */
        assert_true(tnt__event_add_prefix(ev, tnt__arena_printf(&a, "p%d", i), "https://again/"));
    assert_int_equal(ev->n_prefixes, N);
    assert_string_equal(ev->prefixes[0].iri, "https://again/");
    assert_string_equal(ev->prefixes[1].iri, "https://p1/");
    assert_string_equal(ev->prefixes[N - 1].prefix, "p19999");
    assert_true(a.total < 8u << 20); /* linear: a few MB, not gigabytes */
    tnt__buf b = flat_of(ev);
    tnt_event *back = from_flat(&a, b.data, b.len, TNT_OK);
    assert_int_equal(back->n_prefixes, N);
    assert_string_equal(back->prefixes[100].iri, "https://again/");
    assert_string_equal(back->prefixes[N - 1].iri, "https://p19999/");
    void *pb;
    size_t len;
    assert_int_equal(tnt_event_to_proto(&pb, &len, ev), TNT_OK);
    tnt_event *viapb;
    assert_int_equal(tnt_event_from_proto(&viapb, pb, len), TNT_OK);
    assert_int_equal(tnt_event_prefix_count(viapb), N);
    tnt__buf b2 = flat_of(viapb);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    tnt_free(pb);
    tnt_event_free(viapb);
    tnt__buf_free(&b);
    tnt__buf_free(&b2);
    tnt__arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_flat),
        cmocka_unit_test(test_flat_strings),
        cmocka_unit_test(test_flat_malformed),
        cmocka_unit_test(test_many_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
