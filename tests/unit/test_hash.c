/*
 * The event hash (src/ingest/hash.c) on hostile and unusual values: what it
 * costs, and which spellings of one event it must give one ID. The GS1
 * examples and their expected IDs are checked by test_reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ingest/pipeline.h"
#include "tnt/document.h"
#include "tnt/sys/alloc.h"
#include "tnt/tnt.h"

/* Bytes asked of the allocator: what a hash costs in memory. */
static size_t g_asked;

static void *count_malloc(size_t n, void *u)
{
    (void)u;
    g_asked += n;
    return malloc(n);
}
static void *count_realloc(void *p, size_t n, void *u)
{
    (void)u;
    g_asked += n;
    return realloc(p, n);
}
static void *count_calloc(size_t k, size_t n, void *u)
{
    (void)u;
    g_asked += k * n;
    return calloc(k, n);
}
static void count_free(void *p, void *u)
{
    (void)u;
    free(p);
}

#define DOC_HEAD "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"," \
                 "{\"example\":\"https://ns.example.com/epcis/\"}],\"type\":\"EPCISDocument\","           \
                 "\"epcisBody\":{\"eventList\":["
#define DOC_TAIL "]}}"
#define EVENT(more) "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\"," \
                    "\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.2017\"],\"action\":\"OBSERVE\"" more "}"

/* The hash ID (into id) and the pre-hash string (caller frees with tnt_free)
 * of the only event of doc. */
static char *hash_of(const char *doc, char id[128])
{
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    o.flags = TNT_READ_HASH;
    tnt_reader *r;
    tnt_event *ev;
    assert_int_equal(tnt_reader_new(&r, &o), TNT_OK);
    assert_int_equal(tnt_reader_feed(r, doc, strlen(doc)), TNT_OK);
    assert_int_equal(tnt_reader_finish(r), TNT_OK);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    snprintf(id, 128, "%s", tnt_event_get_string(ev, TNT_FIELD_HASH_ID));
    char *pre = tnt__hash_prehash(ev);
    assert_non_null(pre);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_DONE);
    tnt_reader_free(r);
    return pre;
}

/* A value full of CBV URNs: each becomes its Web URI in one pass, as the
 * reference's str.replace does, at a cost that grows with the value. */
static void test_cbv_urns_in_values(void **state)
{
    (void)state;
    char id[128];
    char *pre = hash_of(DOC_HEAD EVENT(",\"example:x\":\"urn:epcglobal:cbv:bizstep:shipping urn:epcglobal:cbv:er:x"
                                       "urn:epcglobal:cbv:disp:urn:epcglobal:cbv:btt:urn:epcglobal:cbv:sdt:q "
                                       "urn:epcglobal:cbv:\"") DOC_TAIL,
                        id);
    /* the reference's pre-hash string (epcis-event-hash-generator) */
    assert_non_null(strstr(pre, "{https://ns.example.com/epcis/}x=https://ref.gs1.org/cbv/BizStep-shipping "
                                "https://ref.gs1.org/cbv/ER-xhttps://ref.gs1.org/cbv/Disp-https://ref.gs1.org/cbv/BTT-"
                                "https://ref.gs1.org/cbv/SDT-q urn:epcglobal:cbv:"));
    tnt_free(pre);

    /* eight strings of 60 KB, each 2,900 URNs: about 500 KB of input */
    const char *urn = "urn:epcglobal:cbv:er:";
    size_t per = 2900, un = strlen(urn);
    size_t cap = 8 * (per * un + 32) + 1024;
    char *doc = malloc(cap), *p = doc;
    p += sprintf(p, "%s{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\","
                    "\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.2017\"],\"action\":\"OBSERVE\"",
                 DOC_HEAD);
    for (int k = 0; k < 8; k++) {
        p += sprintf(p, ",\"example:x%d\":\"", k);
        for (size_t i = 0; i < per; i++)
            p = (char *)memcpy(p, urn, un) + un;
        *p++ = '"';
    }
    strcpy(p, "}" DOC_TAIL);
    g_asked = 0;
    pre = hash_of(doc, id);
    size_t asked = g_asked;
    assert_non_null(strstr(pre, "x7=https://ref.gs1.org/cbv/ER-https://ref.gs1.org/cbv/ER-"));
    assert_null(strstr(pre, "urn:epcglobal"));
    tnt_free(pre);
    free(doc);
    if (asked > ((size_t)48 << 20))
        fail_msg("hashing a 500 KB event asked for %zu MB", asked >> 20);
}

/* An empty array is no member at all in the reference's tree: it neither
 * counts as a child of a readPoint or sensor report nor, named like
 * eventTime or action, keeps the other extensions out of it. IDs from the
 * reference (epcis-event-hash-generator). */
static void test_empty_extension_arrays(void **state)
{
    (void)state;
    static const struct {
        const char *event, *id;
    } cases[] = {
        {EVENT(",\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.07346.1234\",\"example:x\":\"1\"}"),
         "ni:///sha-256;2aa66fa00c1b0a18af7ddc860496036b502c3c05490e6d70ff4616d82dd666e2?ver=CBV2.0"},
        {EVENT(",\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.07346.1234\",\"example:x\":\"1\",\"example:actionY\":[]}"),
         "ni:///sha-256;2aa66fa00c1b0a18af7ddc860496036b502c3c05490e6d70ff4616d82dd666e2?ver=CBV2.0"},
        {EVENT(",\"sensorElementList\":[{\"sensorReport\":[{\"type\":\"Temperature\",\"value\":1,\"uom\":\"CEL\","
               "\"example:x\":\"1\",\"example:eventTimeY\":[]}]}]"),
         "ni:///sha-256;a613041bf314bd262439155e3c713cbf8f9e448503df8144edab0f847b81a7a5?ver=CBV2.0"},
    };
    char doc[1024], id[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(doc, sizeof doc, DOC_HEAD "%s" DOC_TAIL, cases[i].event);
        char *pre = hash_of(doc, id);
        if (strcmp(id, cases[i].id) != 0)
            fail_msg("%s\n%s\n%s", cases[i].event, id, pre);
        tnt_free(pre);
    }
}

int main(void)
{
    tnt_allocator counting = {count_malloc, count_realloc, count_calloc, count_free, NULL};
    if (tnt_set_allocator(&counting) != TNT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cbv_urns_in_values),
        cmocka_unit_test(test_empty_extension_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
