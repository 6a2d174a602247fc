/*
 * The event model (src/model): the public accessors of tnt/event.h,
 * tnt_event_get paths, clones, errors and prefixes, times and number text,
 * JSON trees. The events come from GS1's examples, read without
 * normalisation so that values are as GS1 wrote them.
 */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codec/json_stream.h"
#include "model/model.h"
#include "tnt/document.h"

static char *slurp(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", TNT_CONFORMANCE, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    return p;
}

/* The first event of a document (or text), cloned so it outlives its reader. */
static tnt_event *first_event(const char *text, unsigned flags)
{
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    o.flags = flags;
    o.future_skew_ms = -1;
    tnt_reader *r;
    assert_int_equal(tnt_reader_new(&r, &o), TNT_OK);
    tnt_reader_feed(r, text, strlen(text));
    tnt_reader_finish(r);
    tnt_event *ev, *c;
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_event_clone(&c, ev), TNT_OK);
    tnt_reader_free(r);
    return c;
}

static tnt_event *g_obj, *g_tf; /* object_event_ and transformation_event_all_possible_fields */

static int setup(void **state)
{
    (void)state;
    char *a = slurp("gs1-epcis/JSON/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld");
    char *b = slurp("gs1-epcis/JSON/WithFullCombinationOfFields/transformation_event_all_possible_fields.jsonld");
    g_obj = first_event(a, TNT_READ_VALIDATE | TNT_READ_HASH);
    g_tf = first_event(b, TNT_READ_VALIDATE | TNT_READ_HASH);
    free(a);
    free(b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tnt_event_free(g_obj);
    tnt_event_free(g_tf);
    return 0;
}

static void test_accessors(void **state)
{
    (void)state;
    const tnt_event *ev = g_obj;
    assert_true(tnt_event_is_valid(ev));
    assert_int_equal(tnt_event_error_count(ev), 0);
    assert_int_equal(tnt_event_error_at(NULL, NULL, NULL, ev, 0), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_get_type(ev), TNT_EVENT_OBJECT);
    assert_int_equal(tnt_event_get_action(ev), TNT_ACTION_ADD);
    assert_int_equal(tnt_event_index(ev), 0);

    int64_t ms;
    int off = 99;
    assert_int_equal(tnt_event_get_time(&ms, &off, ev, TNT_TIME_EVENT), TNT_OK);
    assert_int_equal(ms, INT64_C(1112668411116)); /* 2005-04-05T02:33:31.116Z */
    assert_int_equal(off, 0);
    assert_int_equal(tnt_event_get_time(&ms, NULL, ev, TNT_TIME_RECORD), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_get_time(&ms, &off, ev, TNT_TIME_ERROR_DECLARATION), TNT_OK);
    assert_int_equal(ms, INT64_C(1162904400000)); /* 2006-11-07T14:00:00.000+01:00 */
    assert_int_equal(off, 60);
    assert_int_equal(tnt_event_get_time(&ms, &off, ev, (tnt_time_field)9), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_get_time(NULL, &off, ev, TNT_TIME_EVENT), TNT_E_MISUSE);
    assert_int_equal(tnt_event_get_time(&ms, &off, NULL, TNT_TIME_EVENT), TNT_E_MISUSE);

    static const struct {
        tnt_field f;
        const char *want;
    } strings[] = {
        {TNT_FIELD_EVENT_ID, "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"},
        {TNT_FIELD_EVENT_TIME_ZONE_OFFSET, "-06:00"},
        {TNT_FIELD_PARENT_ID, NULL},
        {TNT_FIELD_TRANSFORMATION_ID, NULL},
        {TNT_FIELD_BIZ_STEP, "receiving"},
        {TNT_FIELD_DISPOSITION, "in_progress"},
        {TNT_FIELD_READ_POINT, "urn:epc:id:sgln:0012345.11111.400"},
        {TNT_FIELD_BIZ_LOCATION, "urn:epc:id:sgln:0012345.11111.0"},
        {TNT_FIELD_ERROR_REASON, "incorrect_data"},
        {(tnt_field)0, NULL},
        {(tnt_field)77, NULL},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const char *got = tnt_event_get_string(ev, strings[i].f);
        if (strings[i].want)
            assert_string_equal(got, strings[i].want);
        else
            assert_null(got);
    }
    const char *hash = tnt_event_get_string(ev, TNT_FIELD_HASH_ID);
    assert_non_null(hash);
    assert_true(strncmp(hash, "ni:///sha-256;", 14) == 0 && strlen(hash) == 14 + 64 + 11);
    assert_string_equal(tnt_event_get_string(g_tf, TNT_FIELD_TRANSFORMATION_ID), "urn:epc:id:gdti:0614141.12345.400");

    /* string lists */
    assert_int_equal(tnt_event_list_count(ev, TNT_LIST_EPC), 1);
    assert_string_equal(tnt_event_list_at(ev, TNT_LIST_EPC, 0), "urn:epc:id:sgtin:0614141.107346.2018");
    assert_null(tnt_event_list_at(ev, TNT_LIST_EPC, 1));
    assert_int_equal(tnt_event_list_count(ev, TNT_LIST_CERTIFICATION_INFO), 1);
    assert_int_equal(tnt_event_list_count(ev, TNT_LIST_PD_SET), 1);
    assert_string_equal(tnt_event_list_at(ev, TNT_LIST_PD_UNSET, 0), "completeness_inferred");
    assert_int_equal(tnt_event_list_count(ev, TNT_LIST_CORRECTIVE_EVENT_ID), 1);
    assert_int_equal(tnt_event_list_count(ev, TNT_LIST_CHILD_EPC), 0);
    assert_int_equal(tnt_event_list_count(ev, (tnt_list)42), 0);
    assert_null(tnt_event_list_at(ev, (tnt_list)42, 0));
    assert_int_equal(tnt_event_list_count(g_tf, TNT_LIST_INPUT_EPC), 2);
    assert_int_equal(tnt_event_list_count(g_tf, TNT_LIST_OUTPUT_EPC), 4);
    assert_string_equal(tnt_event_list_at(g_tf, TNT_LIST_OUTPUT_EPC, 3), "urn:epc:id:sgtin:4012345.077889.28");
    assert_int_equal(tnt_event_list_count(g_tf, TNT_LIST_CORRECTIVE_EVENT_ID), 1);

    /* quantity lists */
    const char *cls, *uom;
    double q;
    int has;
    assert_int_equal(tnt_event_qlist_count(ev, TNT_QLIST_QUANTITY), 1);
    assert_int_equal(tnt_event_qlist_at(&cls, &q, &has, &uom, ev, TNT_QLIST_QUANTITY, 0), TNT_OK);
    assert_string_equal(cls, "urn:epc:class:lgtin:4012345.012345.998877");
    assert_true(has && q == 200);
    assert_string_equal(uom, "KGM");
    assert_int_equal(tnt_event_qlist_at(&cls, NULL, NULL, NULL, ev, TNT_QLIST_QUANTITY, 1), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_qlist_at(&cls, NULL, NULL, NULL, ev, (tnt_qlist)9, 0), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_qlist_count(g_tf, TNT_QLIST_INPUT), 3);
    assert_int_equal(tnt_event_qlist_at(&cls, &q, &has, &uom, g_tf, TNT_QLIST_OUTPUT, 1), TNT_OK);
    assert_string_equal(cls, "urn:epc:class:lgtin:0614141.077777.987");
    assert_true(has && q == 30);
    assert_null(uom);
    assert_int_equal(tnt_event_qlist_count(g_tf, TNT_QLIST_CHILD), 0);

    /* bizTransactions, sources, destinations */
    const char *type, *value;
    assert_int_equal(tnt_event_ref_count(ev, TNT_REF_BIZ_TRANSACTION), 2);
    assert_int_equal(tnt_event_ref_at(&type, &value, ev, TNT_REF_BIZ_TRANSACTION, 1), TNT_OK);
    assert_string_equal(type, "pedigree");
    assert_string_equal(value, "urn:epc:id:gsrn:0614141.0000010253");
    assert_int_equal(tnt_event_ref_count(ev, TNT_REF_SOURCE), 3);
    assert_int_equal(tnt_event_ref_at(&type, &value, ev, TNT_REF_DESTINATION, 2), TNT_OK);
    assert_string_equal(type, "owning_party");
    assert_int_equal(tnt_event_ref_at(&type, &value, ev, TNT_REF_DESTINATION, 3), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_ref_at(NULL, NULL, ev, (tnt_ref_list)0, 0), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_ref_count(ev, (tnt_ref_list)4), 0);

    /* sensors */
    assert_int_equal(tnt_event_sensor_count(ev), 1);
    assert_int_equal(tnt_event_sensor_report_count(ev, 0), 1);
    assert_int_equal(tnt_event_sensor_report_count(ev, 1), 0);
    assert_int_equal(tnt_event_sensor_report_at(&type, &q, &has, &uom, ev, 0, 0), TNT_OK);
    assert_string_equal(type, "Temperature");
    assert_true(has && q == 26);
    assert_string_equal(uom, "CEL");
    assert_int_equal(tnt_event_sensor_report_at(&type, NULL, NULL, NULL, ev, 0, 1), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_sensor_report_at(&type, NULL, NULL, NULL, ev, 1, 0), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_sensor_count(g_tf), 1);

    /* prefixes of the document */
    assert_int_equal(tnt_event_prefix_count(ev), 3);
    const char *pfx, *iri;
    assert_int_equal(tnt_event_prefix_at(&pfx, &iri, ev, 2), TNT_OK);
    assert_string_equal(pfx, "ext1");
    assert_string_equal(iri, "http://example.com/ext1/");
    assert_int_equal(tnt_event_prefix_at(&pfx, &iri, ev, 3), TNT_E_NOTFOUND);

    /* every accessor takes NULL */
    assert_int_equal(tnt_event_get_type(NULL), TNT_EVENT_UNKNOWN);
    assert_int_equal(tnt_event_get_action(NULL), TNT_ACTION_NONE);
    assert_null(tnt_event_get_string(NULL, TNT_FIELD_EVENT_ID));
    assert_int_equal(tnt_event_list_count(NULL, TNT_LIST_EPC), 0);
    assert_null(tnt_event_list_at(NULL, TNT_LIST_EPC, 0));
    assert_int_equal(tnt_event_qlist_count(NULL, TNT_QLIST_QUANTITY), 0);
    assert_int_equal(tnt_event_qlist_at(NULL, NULL, NULL, NULL, NULL, TNT_QLIST_QUANTITY, 0), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_ref_count(NULL, TNT_REF_SOURCE), 0);
    assert_int_equal(tnt_event_ref_at(NULL, NULL, NULL, TNT_REF_SOURCE, 0), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_sensor_count(NULL), 0);
    assert_int_equal(tnt_event_sensor_report_count(NULL, 0), 0);
    assert_int_equal(tnt_event_sensor_report_at(NULL, NULL, NULL, NULL, NULL, 0, 0), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_prefix_count(NULL), 0);
    assert_int_equal(tnt_event_prefix_at(NULL, NULL, NULL, 0), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_index(NULL), 0);
    assert_int_equal(tnt_event_is_valid(NULL), 0);
    assert_int_equal(tnt_event_error_count(NULL), 0);
    assert_int_equal(tnt_event_error_at(NULL, NULL, NULL, NULL, 0), TNT_E_NOTFOUND);
    assert_string_equal(tnt_event_type_name(TNT_EVENT_ASSOCIATION), "AssociationEvent");
    assert_string_equal(tnt_event_type_name(TNT_EVENT_UNKNOWN), "");
    assert_string_equal(tnt_event_type_name((tnt_event_type)6), "");
    assert_string_equal(tnt_event_type_name((tnt_event_type)-1), "");
}

static void get_ok(tnt_event *ev, const char *path, int kind, const char *text)
{
    tnt_value v;
    tnt_status st = tnt_event_get(&v, ev, path);
    if (st != TNT_OK)
        fail_msg("%s: %s (%s)", path, tnt_status_name(st), tnt_error_last());
    if (v.kind != kind)
        fail_msg("%s: kind %d, expected %d", path, v.kind, kind);
    if (text)
        assert_string_equal(v.string, text);
}

static void test_get(void **state)
{
    (void)state;
    tnt_event *ev = g_obj;
    tnt_value v;
    get_ok(ev, "type", TNT_VALUE_STRING, "ObjectEvent");
    get_ok(ev, "bizStep", TNT_VALUE_STRING, "receiving");
    get_ok(ev, "readPoint.id", TNT_VALUE_STRING, "urn:epc:id:sgln:0012345.11111.400");
    get_ok(ev, "epcList[0]", TNT_VALUE_STRING, "urn:epc:id:sgtin:0614141.107346.2018");
    get_ok(ev, "errorDeclaration.correctiveEventIDs[0]", TNT_VALUE_STRING, NULL);
    get_ok(ev, "sourceList[2].type", TNT_VALUE_STRING, "owning_party");
    get_ok(ev, "sensorElementList[0].sensorMetadata.ext1:someFurtherMetadata", TNT_VALUE_STRING, "someText");
    get_ok(ev, "sensorElementList[0].sensorReport[0].value", TNT_VALUE_NUMBER, "26");
    assert_int_equal(tnt_event_get(&v, ev, "sensorElementList[0].sensorReport[0].maxValue"), TNT_OK);
    assert_true(v.number == 26.2);
    assert_string_equal(v.string, "26.2");
    assert_int_equal(tnt_event_get(&v, ev, "sensorElementList[0].sensorReport[0].booleanValue"), TNT_OK);
    assert_int_equal(v.kind, TNT_VALUE_BOOL);
    assert_int_equal(v.boolean, 1);
    get_ok(ev, "sensorElementList[0].ext1:array[5].ext1:object.ext1:object.ext2:array[1]", TNT_VALUE_STRING, "23.0");
    get_ok(ev, "ilmd.cbvmda:lotNumber", TNT_VALUE_STRING, "ABC123");
    get_ok(ev, "ilmd.ext1:object.ext2:object.ext2:object.ext3:string", TNT_VALUE_STRING, "stringInObjectInObject");
    get_ok(ev, "ext1:array[2]", TNT_VALUE_STRING, "2013-06-08T14:58:56.591Z");
    get_ok(ev, "quantityList[0].quantity", TNT_VALUE_NUMBER, "200");
    get_ok(ev, "persistentDisposition.unset[0]", TNT_VALUE_STRING, "completeness_inferred");
    assert_int_equal(tnt_event_get(&v, ev, "epcList"), TNT_OK);
    assert_int_equal(v.kind, TNT_VALUE_ARRAY);
    assert_int_equal(v.count, 1);
    assert_int_equal(tnt_event_get(&v, ev, "ext1:object"), TNT_OK);
    assert_int_equal(v.kind, TNT_VALUE_OBJECT);
    assert_int_equal(v.count, 3);
    assert_int_equal(tnt_event_get(&v, ev, "sensorElementList[0].ext1:array"), TNT_OK);
    assert_int_equal(v.count, 6);

    static const struct {
        const char *path;
        tnt_status st;
    } bad[] = {
        {"", TNT_E_INVALID},
        {"nope", TNT_E_NOTFOUND},
        {"bizstep", TNT_E_NOTFOUND},
        {"bizStep.x", TNT_E_NOTFOUND},
        {"bizStep[0]", TNT_E_NOTFOUND},
        {"epcList[1]", TNT_E_NOTFOUND},
        {"epcList[99999999999999999999999999]", TNT_E_NOTFOUND},
        {"epcList[x]", TNT_E_INVALID},
        {"epcList[-1]", TNT_E_INVALID},
        {"epcList[+0]", TNT_E_INVALID},
        {"epcList[ 0]", TNT_E_INVALID},
        {"epcList[0", TNT_E_INVALID},
        {"epcList[]", TNT_E_INVALID},
        {"epcList[0]x", TNT_E_INVALID},
        {"epcList[0].", TNT_E_INVALID},
        {"bizStep.", TNT_E_INVALID},
        {".bizStep", TNT_E_INVALID},
        {"readPoint..id", TNT_E_INVALID},
        {"[0]", TNT_E_INVALID},
        {"readPoint.id.x", TNT_E_NOTFOUND},
        {"sensorElementList[0].sensorReport[0].value[0]", TNT_E_NOTFOUND},
        {"quantityList.quantity", TNT_E_NOTFOUND},
        {"bizStep[x]", TNT_E_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tnt_status st = tnt_event_get(&v, ev, bad[i].path);
        if (st != bad[i].st)
            fail_msg("'%s': %s, expected %s", bad[i].path, tnt_status_name(st), tnt_status_name(bad[i].st));
        assert_int_equal(tnt_error_last_code(), bad[i].st);
        assert_non_null(strstr(tnt_error_last(), bad[i].path));
    }
    assert_int_equal(tnt_event_get(NULL, ev, "type"), TNT_E_MISUSE);
    assert_int_equal(tnt_event_get(&v, NULL, "type"), TNT_E_MISUSE);
    assert_int_equal(tnt_event_get(&v, ev, NULL), TNT_E_MISUSE);

    /* null, false, numbers past a double, members of the event's own */
    tnt_event *e = first_event("{\"type\":\"ObjectEvent\",\"ex:n\":null,\"ex:f\":false,\"ex:big\":1e400,"
                               "\"ex:tiny\":-1e-400,\"ex:x\":[[1,[2]]]}",
                               0);
    get_ok(e, "ex:n", TNT_VALUE_NULL, NULL);
    assert_int_equal(tnt_event_get(&v, e, "ex:f"), TNT_OK);
    assert_int_equal(v.kind, TNT_VALUE_BOOL);
    assert_int_equal(v.boolean, 0);
    get_ok(e, "ex:big", TNT_VALUE_NUMBER, "1e400");
    assert_true(isinf(v.number) || (tnt_event_get(&v, e, "ex:big") == TNT_OK && isinf(v.number)));
    get_ok(e, "ex:tiny", TNT_VALUE_NUMBER, "-1e-400");
    assert_int_equal(tnt_event_get(&v, e, "ex:x[0][1][0]"), TNT_OK);
    assert_true(v.number == 2);
    assert_int_equal(tnt_event_get(&v, e, "ex:x[0][2]"), TNT_E_NOTFOUND);
    assert_int_equal(tnt_event_get(&v, e, "ex:x[0][0][0]"), TNT_E_NOTFOUND);
    tnt_event_free(e);
}

static void test_clone_and_errors(void **state)
{
    (void)state;
    /* an invalid event carries its errors into its clone */
    const char *doc = "[{\"type\":\"ObjectEvent\"},{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\","
                      "\"eventTime\":\"2020-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"bizStep\":\"nonsense\","
                      "\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.2017\"]}]";
    tnt_reader *r;
    tnt_reader_new(&r, NULL);
    tnt_reader_feed(r, doc, strlen(doc));
    tnt_reader_finish(r);
    tnt_event *ev, *c, *cc;
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_false(tnt_event_is_valid(ev));
    assert_int_equal(tnt_event_error_count(ev), 1);
    const char *code, *path, *msg;
    assert_int_equal(tnt_event_error_at(&code, &path, &msg, ev, 0), TNT_OK);
    assert_string_equal(code, "VOCABULARY");
    assert_string_equal(path, "$[1].bizStep");
    assert_non_null(strstr(msg, "nonsense"));
    assert_int_equal(tnt_event_error_at(NULL, NULL, NULL, ev, 0), TNT_OK);
    assert_int_equal(tnt_event_clone(&c, ev), TNT_OK);
    tnt_reader_free(r);
    assert_int_equal(tnt_event_index(c), 1);
    assert_false(tnt_event_is_valid(c));
    const char *code2, *path2, *msg2;
    assert_int_equal(tnt_event_error_at(&code2, &path2, &msg2, c, 0), TNT_OK);
    assert_string_equal(code2, "VOCABULARY");
    assert_string_equal(path2, "$[1].bizStep");
    assert_non_null(strstr(msg2, "nonsense"));
    assert_int_equal(tnt_event_clone(&cc, c), TNT_OK);
    char *j1, *j2;
    tnt_event_to_json(&j1, NULL, c, TNT_JSON_PRETTY);
    tnt_event_to_json(&j2, NULL, cc, TNT_JSON_PRETTY);
    assert_string_equal(j1, j2);
    if (!strstr(j1, "\n  \"bizStep\": \"nonsense\"\n"))
        fail_msg("%s", j1);
    tnt_free(j1);
    tnt_free(j2);
    assert_int_equal(tnt_event_clone(NULL, c), TNT_E_MISUSE);
    assert_int_equal(tnt_event_clone(&cc, NULL), TNT_E_MISUSE);
    assert_int_equal(tnt_event_to_json(NULL, NULL, c, 0), TNT_E_MISUSE);
    assert_int_equal(tnt_event_to_json(&j1, NULL, NULL, 0), TNT_E_MISUSE);
    tnt_event_free(c);
    tnt_event_free(cc);

    /* many errors; long messages are cut, not overrun */
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt_event *e = tnt__event_new(&a);
    char big[2000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 100; i++)
        assert_true(tnt__event_diag(e, "X", "$", "%d %s", i, big));
    assert_int_equal(tnt_event_error_count(e), 100);
    assert_int_equal(tnt_event_error_at(NULL, NULL, &msg, e, 99), TNT_OK);
    assert_true(strncmp(msg, "99 mmm", 6) == 0);
    assert_int_equal(strlen(msg), 511);
    /* prefixes: one per name, the later IRI wins */
    assert_true(tnt__event_add_prefix(e, "a", "urn:a:"));
    assert_true(tnt__event_add_prefix(e, "b", "urn:b:"));
    assert_true(tnt__event_add_prefix(e, "a", "urn:a2:"));
    assert_int_equal(tnt_event_prefix_count(e), 2);
    const char *p, *iri;
    tnt_event_prefix_at(&p, &iri, e, 0);
    assert_string_equal(p, "a");
    assert_string_equal(iri, "urn:a2:");
    tnt__arena_destroy(&a);
}

/* ---- times ---- */

static void test_time(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ms;
        int off;
        const char *out;  /* tnt__time_format with the offset */
        const char *utc;  /* and in UTC */
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0, 0, "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z"},
        {"2020-03-04T10:00:30.123-05:30", INT64_C(1583335830123), -330, "2020-03-04T10:00:30.123-05:30",
         "2020-03-04T15:30:30.123Z"},
        {"2020-02-29T23:59:59.999+14:00", INT64_C(1582970399999), 840, "2020-02-29T23:59:59.999+14:00",
         "2020-02-29T09:59:59.999Z"},
        {"2023-02-02T11:04:03.1415Z", INT64_C(1675335843142), 0, "2023-02-02T11:04:03.142Z", NULL},
        {"2023-02-02T11:04:03.1414Z", INT64_C(1675335843141), 0, NULL, NULL},
        {"2023-02-02T11:04:03.1425Z", INT64_C(1675335843142), 0, NULL, NULL}, /* half to even */
        {"2023-02-02T11:04:03.1435Z", INT64_C(1675335843144), 0, NULL, NULL},
        {"2023-02-02T11:04:03.14251Z", INT64_C(1675335843143), 0, NULL, NULL},
        {"2023-02-02T11:04:03.1234567Z", INT64_C(1675335843123), 0, NULL, NULL},
        {"2023-02-02T11:04:59.9995Z", INT64_C(1675335900000), 0, "2023-02-02T11:05:00.000Z", NULL},
        {"2023-02-02T11:04:03.0Z", INT64_C(1675335843000), 0, NULL, NULL},
        {"2022-02-16T20:33:31.116000-06:00", INT64_C(1645065211116), -360, NULL, "2022-02-17T02:33:31.116Z"},
        {"1969-12-31T23:59:59.999Z", -1, 0, "1969-12-31T23:59:59.999Z", NULL},
        {"1900-02-28T00:00:00-00:30", INT64_C(-2203975800000), -30, "1900-02-28T00:00:00.000-00:30", NULL},
        {"0001-01-01T00:00:00Z", TNT__TIME_MIN_MS, 0, "0001-01-01T00:00:00.000Z", NULL},
        {"9999-12-31T23:59:59.999Z", TNT__TIME_MAX_MS, 0, "9999-12-31T23:59:59.999Z", NULL},
        {"0001-01-01T10:00:00+10:00", TNT__TIME_MIN_MS, 600, "0001-01-01T10:00:00.000+10:00", NULL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        tnt__time t = {0};
        if (!tnt__time_parse(&t, ok[i].in))
            fail_msg("%s: not parsed", ok[i].in);
        assert_true(t.set);
        if (t.ms != ok[i].ms || t.off != ok[i].off)
            fail_msg("%s: %lld %d", ok[i].in, (long long)t.ms, t.off);
        char buf[32];
        if (ok[i].out) {
            tnt__time_format(buf, &t, false);
            assert_string_equal(buf, ok[i].out);
        }
        if (ok[i].utc) {
            tnt__time_format(buf, &t, true);
            assert_string_equal(buf, ok[i].utc);
        }
        /* what it writes reads back the same */
        tnt__time u = {0};
        tnt__time_format(buf, &t, false);
        assert_true(tnt__time_parse(&u, buf));
        assert_int_equal(u.ms, t.ms);
        assert_int_equal(u.off, t.off);
    }
    static const char *const bad[] = {
        "", "2020", "2020-01-01", "2020-01-01T00:00Z", "2020-01-01T00:00:00", "2020-01-01 00:00:00Z",
        "2020-01-01T00:00:00z", "2020-13-01T00:00:00Z", "2020-00-01T00:00:00Z", "2019-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z", "2020-04-31T00:00:00Z", "2020-01-01T24:00:00Z", "2020-01-01T00:60:00Z",
        "2020-01-01T00:00:60Z", "2020-01-01T00:00:00.Z", "2020-01-01T00:00:00+1:00", "2020-01-01T00:00:00+14:01",
        "2020-01-01T00:00:00+15:00", "2020-01-01T00:00:00+01:60", "2020-01-01T00:00:00+0100",
        "2020-01-01T00:00:00Z ", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01",
        "+2020-01-01T00:00:00Z", "２０２０-01-01T00:00:00Z", "2020-01-01T00:00:00.1x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tnt__time t = {0};
        if (tnt__time_parse(&t, bad[i]))
            fail_msg("'%s' was parsed", bad[i]);
        assert_false(t.set);
    }
    int16_t m;
    assert_true(tnt__offset_parse(&m, "Z") && m == 0);
    assert_true(tnt__offset_parse(&m, "-05:30") && m == -330);
    assert_true(tnt__offset_parse(&m, "+14:00") && m == 840);
    assert_false(tnt__offset_parse(&m, "+14:30"));
    assert_false(tnt__offset_parse(&m, "05:30"));
    assert_false(tnt__offset_parse(&m, "+05:30:00"));
    assert_false(tnt__offset_parse(&m, ""));
    /* a time no parser makes is not formatted past its buffer */
    char buf[32];
    tnt__time wild = {INT64_MAX, 0, true};
    tnt__time_format(buf, &wild, false);
    assert_true(strlen(buf) < 32);
    wild = (tnt__time){0, 30000, true};
    tnt__time_format(buf, &wild, false);
    assert_true(strlen(buf) < 32);
}

/* ---- numbers ---- */

static void test_numbers(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text;
    } fmt[] = {
        {26, "26"},        {26.2, "26.2"},       {0.1, "0.1"},          {-0.5, "-0.5"},
        {1e21, "1e+21"},   {1e-7, "1e-07"},      {-0.0, "0"},           {1.0 / 3, "0.3333333333333333"},
        {1024, "1024"}, {9007199254740993.0, "9007199254740992"}, {123456789.125, "123456789.125"},
        {NAN, "0"},        {INFINITY, "0"},
    };
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        char buf[40];
        tnt__num_format(buf, sizeof buf, fmt[i].v);
        assert_string_equal(buf, fmt[i].text);
        double back;
        assert_true(tnt__num_parse(&back, buf));
        if (isfinite(fmt[i].v))
            assert_true(back == fmt[i].v);
    }
    double v;
    assert_true(tnt__num_parse(&v, "26.0") && v == 26);
    assert_true(tnt__num_parse(&v, "-1E3") && v == -1000);
    assert_true(tnt__num_parse(&v, "1e-400") == false); /* underflow is out of range too */
    assert_false(tnt__num_parse(&v, "1e400"));
    assert_false(tnt__num_parse(&v, ""));
    assert_false(tnt__num_parse(&v, NULL));
    assert_false(tnt__num_parse(&v, "1x"));
    assert_false(tnt__num_parse(&v, "nan"));
    assert_false(tnt__num_parse(&v, "inf"));
}

/* Number text does not follow the host's locale. */
static void test_locale(void **state)
{
    (void)state;
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "nl_NL.UTF-8"};
    const char *set = NULL;
    char dir[256] = "", cmd[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++)
        set = setlocale(LC_ALL, names[i]) ? names[i] : NULL; /* setlocale's own string does not last */
    if (!set) {
        /* none installed: compile one (localedef, with Debian's locales sources) where LOCPATH finds it */
        snprintf(dir, sizeof dir, "%s/tnt-locale-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        assert_non_null(mkdtemp(dir));
        snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' 2>/dev/null", dir);
        if (system(cmd) != 0)
            fail_msg("no locale with a decimal comma, and localedef could not make de_DE.UTF-8 (Debian package "
                     "locales)");
        setenv("LOCPATH", dir, 1);
        set = setlocale(LC_ALL, "de_DE.UTF-8") ? "de_DE.UTF-8" : NULL;
    }
    assert_non_null(set);
    assert_int_equal(localeconv()->decimal_point[0], ',');
    char buf[40];
    tnt__num_format(buf, sizeof buf, 26.5);
    assert_string_equal(buf, "26.5");
    double v;
    assert_true(tnt__num_parse(&v, "26.5") && v == 26.5);
    char *doc = slurp("gs1-epcis/JSON/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld");
    tnt_event *ev = first_event(doc, TNT_READ_DEFAULT);
    setlocale(LC_ALL, "C");
    tnt_event *c_ev = first_event(doc, TNT_READ_DEFAULT);
    assert_non_null(setlocale(LC_ALL, set));
    char *j1, *j2;
    tnt_event_to_json(&j1, NULL, ev, 0);
    tnt_event_to_json(&j2, NULL, c_ev, 0);
    setlocale(LC_ALL, "C");
    assert_string_equal(j1, j2);
    assert_non_null(strstr(j1, "\"maxValue\":26.2"));
    assert_true(tnt_event_is_valid(ev));
    assert_string_equal(tnt_event_get_string(ev, TNT_FIELD_HASH_ID), tnt_event_get_string(c_ev, TNT_FIELD_HASH_ID));
    tnt_free(j1);
    tnt_free(j2);
    tnt_event_free(ev);
    tnt_event_free(c_ev);
    free(doc);
    if (dir[0]) {
        unsetenv("LOCPATH");
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        (void)!system(cmd);
    }
}

/* ---- JSON trees ---- */

static void test_nodes(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    char err[64];
    const char *text = "{\"ex:a\":[1,{\"b\":\"x\"}],\"c\":null}";
    tnt__node *t = tnt__json_parse_tree(&a, text, strlen(text), err, sizeof err);
    assert_non_null(t);
    assert_null(tnt__node_get(NULL, "c"));
    assert_null(tnt__node_get(t->child, "x")); /* not an object */
    assert_int_equal(tnt__node_get(t, "c")->kind, TNT__N_NULL);
    tnt__node *m = tnt__node_get(t, "ex:a");
    assert_string_equal(tnt__node_local(m), "ex:a"); /* no namespace known */
    m->ns = "https://ex/";
    assert_string_equal(tnt__node_local(m), "a");
    assert_string_equal(tnt__node_local(tnt__node_get(t, "c")), "c");
    tnt__arena b;
    tnt__arena_init(&b, 0);
    tnt__node *c = tnt__node_copy(&b, t);
    tnt__arena_destroy(&a); /* the copy stands alone */
    assert_int_equal(c->count, 2);
    assert_string_equal(tnt__node_get(c, "ex:a")->ns, "https://ex/");
    assert_string_equal(tnt__node_get(tnt__node_get(c, "ex:a")->last, "b")->str, "x");
    assert_null(tnt__node_copy(&b, NULL));
    tnt__node *n = tnt__node_new(&b, TNT__N_ARRAY, NULL, NULL);
    for (int i = 0; i < 3; i++)
        tnt__node_append(n, tnt__node_new(&b, TNT__N_TRUE, NULL, NULL));
    assert_int_equal(n->count, 3);
    assert_ptr_equal(n->child->next->next, n->last);
    assert_null(n->last->next);
    tnt__arena_destroy(&b);
    /* UTF-8 */
    assert_true(tnt__utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, false));
    assert_true(tnt__utf8_valid("a\0b", 3, true));
    assert_false(tnt__utf8_valid("a\0b", 3, false));
    static const char *const bad[] = {"\x80", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                      "\xf8\x88\x80\x80\x80", "\xff", "\xc3\x28"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(tnt__utf8_valid(bad[i], strlen(bad[i]), true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_clone_and_errors),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_locale),
        cmocka_unit_test(test_nodes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
