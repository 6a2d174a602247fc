/*
 * The validator (src/ingest/validate.c, cbv.c, units.c): one test per rule.
 *
 * Events are read from JSON strings through the public reader, with only
 * validation switched on; each test states the errors (code and JSON path)
 * an event must get, or that it must get none. The rules and their codes
 * are described in docs/validation.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ingest/cbv.h"
#include "ingest/units.h"
#include "tnt/document.h"
#include "tnt/tnt.h"

/* The errors of the only event of json, as "CODE $.path" lines. */
static const char *errors_of(const char *json)
{
    static char out[4096];
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    o.flags = TNT_READ_VALIDATE;
    o.now_ms = 4102444800000; /* 2100-01-01 */
    tnt_reader *r = NULL;
    tnt_event *ev = NULL;
    assert_int_equal(tnt_reader_new(&r, &o), TNT_OK);
    assert_int_equal(tnt_reader_feed(r, json, strlen(json)), TNT_OK);
    assert_int_equal(tnt_reader_finish(r), TNT_OK);
    tnt_status st = tnt_reader_next(&ev, r);
    if (st != TNT_OK)
        fail_msg("no event (%d): %s\n%s", st, tnt_reader_errmsg(r), json);
    out[0] = '\0';
    for (size_t i = 0; i < tnt_event_error_count(ev); i++) {
        const char *code, *path, *msg;
        tnt_event_error_at(&code, &path, &msg, ev, i);
        size_t n = strlen(out);
        snprintf(out + n, sizeof out - n, "%s %s\n", code, path);
    }
    tnt_reader_free(r);
    return out;
}

static void expect_valid(const char *json)
{
    const char *e = errors_of(json);
    if (*e)
        fail_msg("expected no errors, got:\n%s\nfor %s", e, json);
}

/* The event has exactly these errors ("CODE $.path\n" each). */
static void expect_errors(const char *json, const char *want)
{
    const char *e = errors_of(json);
    if (strcmp(e, want) != 0)
        fail_msg("expected:\n%sgot:\n%sfor %s", want, e, json);
}

#define HEAD "\"eventTime\":\"2020-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\""
#define EPC "\"urn:epc:id:sgtin:0614141.107346.2017\""
#define OBJ(more) "{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\"," HEAD ",\"epcList\":[" EPC "]" more "}"
#define SENSOR(report) OBJ(",\"sensorElementList\":[{\"sensorReport\":[" report "]}]")
#define CLASS "\"urn:epc:class:lgtin:4012345.012345.998877\""

/* ---- URIs and vocabularies ---- */

static void test_uri_rfc3986(void **state)
{
    (void)state;
    const char *good[] = {"urn:epc:id:sgtin:0614141.107346.2017", "x:", "a+b-c.d:e", "http://a:80/", "http://[::1]/",
                          "http://[v7.x]/", "http://u:p@a/", "ni:///sha-256;abc?ver=CBV2.0", "http://a/%41",
                          "http://[1:2:3:4:5:6:1.2.3.4]/", "http://a/?q?r/#f?/", "mailto:a@b.c", "file:///etc"};
    const char *bad[] = {"", "x", "1x:y", "-x:y", "x y:z", "http://a:b/", "http://[::1/", "http://a@b@c/",
                         "http://a/#f#g", "urn:x:[y]", "http://a/[b]", "http://a/\xc3\xa9", "http://a/%4",
                         "http://[fe80::1%25eth0]/", "http://[1::2::3]/", "http://[1:2:3:4:5:6:7:8:9]/",
                         "http://a/b c", "http://a/b|c", "http://[::256.1.1.1]/"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!tnt__is_uri(good[i]))
            fail_msg("'%s' is a URI", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tnt__is_uri(bad[i]))
            fail_msg("'%s' is not a URI", bad[i]);
    expect_errors(OBJ(",\"eventID\":\"http://a:b/\""), "FORMAT $.eventID\n");
    expect_valid(OBJ(",\"eventID\":\"x:\""));
}

static void test_cbv_forms(void **state)
{
    (void)state;
    expect_valid(OBJ(",\"bizStep\":\"shipping\""));
    expect_valid(OBJ(",\"bizStep\":\"https://ref.gs1.org/cbv/BizStep-shipping\""));
    expect_valid(OBJ(",\"bizStep\":\"cbv:BizStep-shipping\""));
    expect_valid(OBJ(",\"bizStep\":\"https://example.com/steps/x\""));
    expect_errors(OBJ(",\"bizStep\":\"shipped\""), "VOCABULARY $.bizStep\n");
    expect_errors(OBJ(",\"bizStep\":\"https://ref.gs1.org/cbv/BizStep-bogus\""), "VOCABULARY $.bizStep\n");
}

/* The JSON schema excludes the URN and ns.gs1.org forms of CBV values. */
static void test_cbv_urn_form(void **state)
{
    (void)state;
    expect_errors(OBJ(",\"bizStep\":\"urn:epcglobal:cbv:bizstep:shipping\""), "VOCABULARY $.bizStep\n");
    expect_errors(OBJ(",\"disposition\":\"urn:epcglobal:cbv:disp:in_transit\""), "VOCABULARY $.disposition\n");
    expect_errors(OBJ(",\"disposition\":\"https://ns.gs1.org/cbv/Disp-in_transit\""), "VOCABULARY $.disposition\n");
    expect_errors(OBJ(",\"bizTransactionList\":[{\"type\":\"urn:epcglobal:cbv:btt:po\",\"bizTransaction\":\"urn:x:1\"}]"),
                  "VOCABULARY $.bizTransactionList[0].type\n");
    expect_errors(OBJ(",\"sourceList\":[{\"type\":\"urn:epcglobal:cbv:sdt:location\",\"source\":\"urn:x:1\"}]"),
                  "VOCABULARY $.sourceList[0].type\n");
    expect_errors(OBJ(",\"errorDeclaration\":{\"declarationTime\":\"2020-01-02T00:00:00Z\","
                      "\"reason\":\"urn:epcglobal:cbv:er:incorrect_data\"}"),
                  "VOCABULARY $.errorDeclaration.reason\n");
    expect_errors(SENSOR("{\"type\":\"Temperature\",\"value\":1,\"uom\":\"CEL\",\"component\":\"urn:epcglobal:cbv:comp:x\"}"),
                  "VOCABULARY $.sensorElementList[0].sensorReport[0].component\n");
}

/* Measurement and sensor alert types: bare names or gs1: CURIEs, not gs1.org/voc URIs. */
static void test_measurement_type_forms(void **state)
{
    (void)state;
    expect_valid(SENSOR("{\"type\":\"gs1:Temperature\",\"value\":1,\"uom\":\"CEL\"}"));
    expect_valid(SENSOR("{\"type\":\"example:Custom\",\"value\":1,\"uom\":\"XYZ\"}"));
    expect_errors(SENSOR("{\"type\":\"https://gs1.org/voc/Temperature\",\"value\":1,\"uom\":\"CEL\"}"),
                  "VOCABULARY $.sensorElementList[0].sensorReport[0].type\n");
    expect_errors(SENSOR("{\"type\":\"Temperature\",\"value\":1,\"uom\":\"CEL\",\"exception\":\"https://gs1.org/voc/ALARM_CONDITION\"}"),
                  "VOCABULARY $.sensorElementList[0].sensorReport[0].exception\n");
    expect_errors(SENSOR("{\"type\":\"gs1:Bogus\"}"), "VOCABULARY $.sensorElementList[0].sensorReport[0].type\n");
}

static void test_unit_of_measure(void **state)
{
    (void)state;
    assert_true(tnt__unit_syntax("KGM") && tnt__unit_syntax("P1") && !tnt__unit_syntax("kg") && !tnt__unit_syntax("KGMX"));
    expect_errors(SENSOR("{\"type\":\"Temperature\",\"value\":1,\"uom\":\"KGM\"}"),
                  "UNIT $.sensorElementList[0].sensorReport[0].uom\n");
    expect_errors(SENSOR("{\"type\":\"Temperature\",\"value\":1}"), "UNIT $.sensorElementList[0].sensorReport[0].uom\n");
    expect_errors(SENSOR("{\"type\":\"Temperature\",\"value\":1,\"uom\":\"cel\"}"),
                  "FORMAT $.sensorElementList[0].sensorReport[0].uom\n");
    expect_valid(SENSOR("{\"type\":\"Dimensionless\",\"value\":1}"));
    expect_errors(OBJ(",\"quantityList\":[{\"epcClass\":" CLASS ",\"quantity\":1,\"uom\":\"kg\"}]"),
                  "FORMAT $.quantityList[0].uom\n");
}

/* Each vocabulary is sorted for bisection, and every bare name, its CURIE
 * and its Web URI are found as the name itself. */
static void test_vocabulary_tables(void **state)
{
    (void)state;
    for (int voc = 0; voc < TNT__V_COUNT; voc++) {
        size_t n;
        const char *const *names = tnt__cbv_values(voc, &n);
        for (size_t i = 0; i < n; i++) {
            const char *bare = NULL;
            char uri[160];
            if (i)
                assert_true(strcmp(names[i - 1], names[i]) < 0);
            assert_int_equal(tnt__cbv_lookup(voc, names[i], &bare), TNT__CBV_STANDARD);
            assert_ptr_equal(bare, names[i]);
            assert_true(tnt__cbv_web_uri(uri, sizeof uri, voc, names[i]) > 0);
            assert_int_equal(tnt__cbv_lookup(voc, uri, &bare), TNT__CBV_STANDARD);
            assert_ptr_equal(bare, names[i]);
        }
        const char *bare = NULL;
        assert_int_not_equal(tnt__cbv_lookup(voc, "zzz_not_a_value", &bare), TNT__CBV_STANDARD);
        assert_int_not_equal(tnt__cbv_lookup(voc, "AAA", &bare), TNT__CBV_STANDARD);
    }
}

/* The unit table is sorted for bisection, and each row names a canonical
 * unit of its own measurement type with factor 1 and offset 0. */
static void test_unit_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < tnt__unit_count(); i++) {
        const tnt__unit *u = tnt__unit_row(i), *c = tnt__unit_find(u->canon);
        if (i)
            assert_true(strcmp(tnt__unit_row(i - 1)->code, u->code) < 0);
        assert_ptr_equal(tnt__unit_find(u->code), u);
        assert_non_null(c);
        assert_string_equal(c->measure, u->measure);
        assert_string_equal(c->canon, c->code);
        assert_true(c->factor == 1 && c->offset == 0);
        assert_string_equal(tnt__unit_canonical(u->measure), u->canon);
    }
    assert_null(tnt__unit_find("XYZ"));
    assert_null(tnt__unit_find("0"));
    assert_null(tnt__unit_canonical("Bogus"));
}

/* ---- the event's members ---- */

/* Extension members are named by a URI; @context only on the event itself. */
static void test_extension_names(void **state)
{
    (void)state;
    expect_valid(OBJ(",\"example:foo\":1,\"https://example.com/ns#bar\":2"));
    expect_errors(OBJ(",\"foo\":1"), "UNKNOWN_FIELD $.foo\n");
    expect_errors(OBJ(",\"foo bar:x\":1"), "UNKNOWN_FIELD $.foo bar:x\n");
    expect_errors(OBJ(",\"1x:y\":1"), "UNKNOWN_FIELD $.1x:y\n");
    expect_errors(OBJ(",\"@id\":\"urn:x:y\""), "UNKNOWN_FIELD $.@id\n");
    expect_errors(SENSOR("{\"type\":\"Dimensionless\",\"@id\":\"urn:x:y\"}"),
                  "UNKNOWN_FIELD $.sensorElementList[0].sensorReport[0].@id\n");
    expect_errors(OBJ(",\"errorDeclaration\":{\"declarationTime\":\"2020-01-02T00:00:00Z\",\"foo\":1}"),
                  "UNKNOWN_FIELD $.errorDeclaration.foo\n");
    expect_errors(OBJ(",\"readPoint\":{\"id\":\"urn:x:y\",\"foo\":1}"), "UNKNOWN_FIELD $.readPoint.foo\n");
}

static void test_ilmd(void **state)
{
    (void)state;
#define ADD(ilmd) "{\"type\":\"ObjectEvent\",\"action\":\"ADD\"," HEAD ",\"epcList\":[" EPC "],\"ilmd\":" ilmd "}"
    expect_valid(ADD("{\"example:lot\":\"L1\"}"));
    expect_errors(ADD("{\"lot\":\"L1\"}"), "UNKNOWN_FIELD $.ilmd.lot\n");
    expect_errors(ADD("{\"@context\":{}}"), "UNKNOWN_FIELD $.ilmd.@context\n");
    expect_errors(OBJ(",\"ilmd\":{\"example:lot\":\"L1\"}"), "NOT_ALLOWED $.ilmd\n");
}

/* An event's own @context: URLs and prefix objects, each once. */
static void test_event_context(void **state)
{
    (void)state;
    expect_valid(OBJ(",\"@context\":[\"https://example.com/ctx\",{\"example\":\"https://example.com/ns/\"}]"));
    expect_errors(OBJ(",\"@context\":\"not a uri\""), "CONTEXT $.@context\n");
    expect_errors(OBJ(",\"@context\":[\"https://example.com/c\",\"https://example.com/c\"]"), "CONTEXT $.@context[1]\n");
    expect_errors(OBJ(",\"@context\":[[],\"https://example.com/c\"]"), "CONTEXT $.@context[0]\n");
}

static void test_quantity_element(void **state)
{
    (void)state;
    expect_errors(OBJ(",\"quantityList\":[{\"epcClass\":" CLASS ",\"quantity\":1,\"example:x\":1}]"),
                  "NOT_ALLOWED $.quantityList[0].example:x\n");
    expect_errors(OBJ(",\"quantityList\":[{\"epcClass\":" CLASS ",\"uom\":\"KGM\"}]"), "REQUIRED $.quantityList[0].quantity\n");
    expect_errors(OBJ(",\"quantityList\":[{\"epcClass\":" CLASS ",\"quantity\":-1}]"), "RANGE $.quantityList[0].quantity\n");
}

static void test_duplicate_epcs(void **state)
{
    (void)state;
    expect_errors("{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\"," HEAD ",\"epcList\":[" EPC "," EPC "]}",
                  "DUPLICATE $.epcList[1]\n");
    expect_errors("{\"type\":\"AggregationEvent\",\"action\":\"ADD\"," HEAD ",\"parentID\":\"urn:epc:id:sscc:0614141.1234567890\","
                  "\"childEPCs\":[" EPC "," EPC "]}",
                  "DUPLICATE $.childEPCs[1]\n");
}

/* One object or disposition twice in other spellings is a duplicate too:
 * normalisation would store it twice in one list. */
static void test_duplicates_in_other_spellings(void **state)
{
    (void)state;
    expect_errors("{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\"," HEAD ",\"epcList\":[" EPC
                  ",\"https://example.com/01/10614141073464/21/2017\"]}",
                  "DUPLICATE $.epcList[1]\n");
    expect_errors("{\"type\":\"AggregationEvent\",\"action\":\"ADD\"," HEAD ",\"parentID\":\"urn:epc:id:sscc:0614141.1234567890\","
                  "\"childEPCs\":[\"https://id.gs1.org/01/10614141073464/21/2017?17=201231\"," EPC "]}",
                  "DUPLICATE $.childEPCs[1]\n");
    expect_valid("{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\"," HEAD ",\"epcList\":[" EPC
                 ",\"https://id.gs1.org/01/10614141073464/21/2018\"]}");
    expect_errors(OBJ(",\"persistentDisposition\":{\"set\":[\"active\",\"cbv:Disp-active\"]}"),
                  "DUPLICATE $.persistentDisposition.set[1]\n");
    expect_errors(OBJ(",\"persistentDisposition\":{\"set\":[\"recalled\"],\"unset\":[\"https://ref.gs1.org/cbv/Disp-recalled\"]}"),
                  "DUPLICATE $.persistentDisposition.unset[0]\n");
}

/* ---- rules of the event types ---- */

static void test_action_and_ilmd_by_type(void **state)
{
    (void)state;
    expect_errors("{\"type\":\"TransformationEvent\",\"action\":\"ADD\"," HEAD ",\"inputEPCList\":[" EPC "],"
                  "\"outputEPCList\":[\"urn:epc:id:sgtin:0614141.107346.2018\"]}",
                  "NOT_ALLOWED $.action\n");
    expect_errors("{\"type\":\"ObjectEvent\"," HEAD ",\"epcList\":[" EPC "]}", "REQUIRED $.action\n");
    expect_errors("{\"type\":\"AggregationEvent\",\"action\":\"OBSERVE\"," HEAD ",\"childEPCs\":[" EPC "],"
                  "\"ilmd\":{\"example:lot\":\"L1\"}}",
                  "NOT_ALLOWED $.ilmd\n");
}

/* parentID: required by AssociationEvent; by AggregationEvent unless OBSERVE. */
static void test_parent_id(void **state)
{
    (void)state;
#define AGG(action) "{\"type\":\"AggregationEvent\",\"action\":\"" action "\"," HEAD ",\"childEPCs\":[" EPC "]}"
    expect_valid(AGG("OBSERVE"));
    expect_errors(AGG("ADD"), "REQUIRED $.parentID\n");
    expect_errors(AGG("DELETE"), "REQUIRED $.parentID\n");
    expect_errors("{\"type\":\"AssociationEvent\",\"action\":\"OBSERVE\"," HEAD ",\"childEPCs\":[" EPC "]}",
                  "REQUIRED $.parentID\n");
}

static void test_transaction_list(void **state)
{
    (void)state;
#define TX(more) "{\"type\":\"TransactionEvent\",\"action\":\"ADD\"," HEAD ",\"epcList\":[" EPC "]" more "}"
    expect_errors(TX(""), "REQUIRED $.bizTransactionList\n");
    expect_errors(TX(",\"bizTransactionList\":[]"), "EMPTY $.bizTransactionList\n");
    expect_valid(TX(",\"bizTransactionList\":[{\"type\":\"po\",\"bizTransaction\":\"urn:x:1\"}]"));
}

/* ---- persistentDisposition ---- */

static void test_persistent_disposition_lists(void **state)
{
    (void)state;
    expect_valid(OBJ(",\"persistentDisposition\":{\"unset\":[\"completeness_inferred\"]}"));
    expect_errors(OBJ(",\"persistentDisposition\":{}"), "REQUIRED $.persistentDisposition\n");
    expect_errors(OBJ(",\"persistentDisposition\":{\"set\":[],\"unset\":[\"active\"]}"), "EMPTY $.persistentDisposition.set\n");
    expect_errors(OBJ(",\"persistentDisposition\":{\"unset\":[]}"), "EMPTY $.persistentDisposition.unset\n");
    expect_errors(OBJ(",\"persistentDisposition\":{\"set\":[\"active\",\"active\"]}"), "DUPLICATE $.persistentDisposition.set[1]\n");
    expect_errors(OBJ(",\"persistentDisposition\":{\"set\":[\"bogus\"]}"), "VOCABULARY $.persistentDisposition.set[0]\n");
}

/* A disposition cannot be set and unset by the same event. */
static void test_persistent_disposition_disjoint(void **state)
{
    (void)state;
    expect_valid(OBJ(",\"persistentDisposition\":{\"set\":[\"active\"],\"unset\":[\"recalled\"]}"));
    expect_errors(OBJ(",\"persistentDisposition\":{\"set\":[\"active\",\"recalled\"],\"unset\":[\"expired\",\"active\"]}"),
                  "DUPLICATE $.persistentDisposition.unset[1]\n");
}

/* ---- times ---- */

static void test_time_zone_offset(void **state)
{
    (void)state;
    const char *good[] = {"+00:00", "-00:00", "+14:00", "-14:00", "+13:59", "+05:30"};
    const char *bad[] = {"+14:01", "+15:00", "+05:60", "Z", "+0100", "01:00", "+1:00", "+01:00:00", " +01:00", ""};
    char buf[512];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(buf, sizeof buf, "{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\",\"eventTime\":\"2020-01-01T00:00:00Z\","
                                  "\"eventTimeZoneOffset\":\"%s\",\"epcList\":[" EPC "]}", good[i]);
        expect_valid(buf);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\",\"eventTime\":\"2020-01-01T00:00:00Z\","
                                  "\"eventTimeZoneOffset\":\"%s\",\"epcList\":[" EPC "]}", bad[i]);
        expect_errors(buf, "FORMAT $.eventTimeZoneOffset\n");
    }
}

/* A present but malformed time is reported once, as FORMAT, not also as missing. */
static void test_malformed_time_once(void **state)
{
    (void)state;
    expect_errors("{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\",\"eventTime\":\"2020-13-01T00:00:00Z\","
                  "\"eventTimeZoneOffset\":\"+01:00\",\"epcList\":[" EPC "]}",
                  "FORMAT $.eventTime\n");
    expect_errors("{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\",\"eventTimeZoneOffset\":\"+01:00\",\"epcList\":[" EPC "]}",
                  "REQUIRED $.eventTime\n");
    expect_errors(OBJ(",\"errorDeclaration\":{\"declarationTime\":\"yesterday\"}"), "FORMAT $.errorDeclaration.declarationTime\n");
    expect_errors(OBJ(",\"errorDeclaration\":{\"reason\":\"did_not_occur\"}"), "REQUIRED $.errorDeclaration.declarationTime\n");
}

static void test_future_event_time(void **state)
{
    (void)state;
    expect_errors("{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\",\"eventTime\":\"2100-01-02T00:00:00Z\","
                  "\"eventTimeZoneOffset\":\"+01:00\",\"epcList\":[" EPC "]}",
                  "FUTURE $.eventTime\n");
}

/* ---- sensor data ---- */

static void test_hex_binary(void **state)
{
    (void)state;
    expect_valid(SENSOR("{\"type\":\"Dimensionless\",\"hexBinaryValue\":\"0aFF\"}"));
    expect_errors(SENSOR("{\"type\":\"Dimensionless\",\"hexBinaryValue\":\"ABC\"}"),
                  "FORMAT $.sensorElementList[0].sensorReport[0].hexBinaryValue\n");
    expect_errors(SENSOR("{\"type\":\"Dimensionless\",\"hexBinaryValue\":\"0x0A\"}"),
                  "FORMAT $.sensorElementList[0].sensorReport[0].hexBinaryValue\n");
}

static void test_sensor_ranges(void **state)
{
    (void)state;
    expect_errors(SENSOR("{\"type\":\"Dimensionless\",\"percRank\":150,\"percValue\":1}"),
                  "RANGE $.sensorElementList[0].sensorReport[0].percRank\n");
    expect_errors(SENSOR("{\"type\":\"Dimensionless\",\"meanValue\":1,\"sDev\":-1}"),
                  "RANGE $.sensorElementList[0].sensorReport[0].sDev\n");
    expect_errors(SENSOR("{\"type\":\"Dimensionless\",\"minValue\":2,\"maxValue\":1}"),
                  "RANGE $.sensorElementList[0].sensorReport[0].minValue\n");
    expect_errors(OBJ(",\"sensorElementList\":[{\"sensorMetadata\":{\"startTime\":\"2020-01-02T00:00:00Z\","
                      "\"endTime\":\"2020-01-01T00:00:00Z\"},\"sensorReport\":[{\"type\":\"Dimensionless\"}]}]"),
                  "RANGE $.sensorElementList[0].sensorMetadata.startTime\n");
}

static void test_sensor_report_required(void **state)
{
    (void)state;
    expect_errors(OBJ(",\"sensorElementList\":[{\"sensorReport\":[]}]"), "EMPTY $.sensorElementList[0].sensorReport\n");
    expect_errors(SENSOR("{\"value\":1}"), "REQUIRED $.sensorElementList[0].sensorReport[0].type\n");
}

/* ---- cost ---- */

static double cpu_seconds(void) { return (double)clock() / CLOCKS_PER_SEC; }

/* Lists that must hold distinct values are checked in O(n log n): a 1 MB
 * event of 90,000 items is no minute of work. */
static void test_long_lists_checked_quickly(void **state)
{
    (void)state;
    /* x:0 .. x:89999, then x:7 again (in a document: a lone event is a document header,
     * which has a smaller limit) */
    char *json = malloc(90000 * 16 + 1024), *p = json;
    p += sprintf(p, "{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[{\"type\":\"ObjectEvent\","
                    "\"action\":\"OBSERVE\"," HEAD ",\"epcList\":[" EPC "],\"@context\":[");
    for (size_t i = 0; i < 90000; i++)
        p += sprintf(p, "\"x:%zu\",", i);
    strcpy(p, "\"x:7\"]}]}}");
    double t0 = cpu_seconds();
    expect_errors(json, "CONTEXT $.epcisBody.eventList[0].@context[90000]\n");
    double t = cpu_seconds() - t0;
    free(json);
    if (t > 5)
        fail_msg("an @context of 90,000 URLs took %.1f s", t);

    /* set x:0 .. x:44999; unset y:0 .. y:44999, then x:44999 */
    char *big = malloc(45000 * 2 * 16 + 1024), *q = big;
    q += sprintf(q, "{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[{\"type\":\"ObjectEvent\","
                    "\"action\":\"OBSERVE\"," HEAD ",\"epcList\":[" EPC "],\"persistentDisposition\":{\"set\":[");
    for (size_t i = 0; i < 45000; i++)
        q += sprintf(q, "%s\"x:%zu\"", i ? "," : "", i);
    q += sprintf(q, "],\"unset\":[");
    for (size_t i = 0; i < 45000; i++)
        q += sprintf(q, "\"y:%zu\",", i);
    strcpy(q, "\"x:44999\"]}}]}}");
    t0 = cpu_seconds();
    expect_errors(big, "DUPLICATE $.epcisBody.eventList[0].persistentDisposition.unset[45000]\n");
    t = cpu_seconds() - t0;
    free(big);
    if (t > 5)
        fail_msg("persistentDisposition lists of 45,000 took %.1f s", t);
}

/* The number of errors of the only event of json, and how many have code. */
static size_t count_errors(const char *json, const char *code, size_t *with_code)
{
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    o.flags = TNT_READ_VALIDATE;
    o.now_ms = 4102444800000;
    tnt_reader *r = NULL;
    tnt_event *ev = NULL;
    assert_int_equal(tnt_reader_new(&r, &o), TNT_OK);
    assert_int_equal(tnt_reader_feed(r, json, strlen(json)), TNT_OK);
    assert_int_equal(tnt_reader_finish(r), TNT_OK);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    size_t n = tnt_event_error_count(ev);
    *with_code = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c, *path, *msg;
        tnt_event_error_at(&c, &path, &msg, ev, i);
        *with_code += strcmp(c, code) == 0;
    }
    tnt_reader_free(r);
    return n;
}

/* An error per sensor report, 90,000 of them, in a fraction of a second (a
 * search of all earlier errors per report took minutes): a report without
 * a type is REQUIRED, one whose type is not a string is TYPE only. */
static void test_many_errors_checked_quickly(void **state)
{
    (void)state;
    static const char *const reports[] = {"{}", "{\"type\":5}"};
    static const char *const codes[] = {"REQUIRED", "TYPE"};
    for (size_t k = 0; k < 2; k++) {
        size_t n = k ? 60000 : 90000, per = strlen(reports[k]) + 1;
        char *json = malloc(n * per + 1024), *p = json;
        p += sprintf(p, "{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[{\"type\":\"ObjectEvent\","
                        "\"action\":\"OBSERVE\"," HEAD ",\"epcList\":[" EPC "],\"sensorElementList\":[{\"sensorReport\":[");
        for (size_t i = 0; i < n; i++)
            p += sprintf(p, "%s%s", i ? "," : "", reports[k]);
        strcpy(p, "]}]}]}}");
        size_t with_code;
        double t0 = cpu_seconds();
        size_t total = count_errors(json, codes[k], &with_code);
        double t = cpu_seconds() - t0;
        free(json);
        assert_int_equal(total, n);
        assert_int_equal(with_code, n);
        if (t > 5)
            fail_msg("%zu sensor reports like %s took %.1f s", n, reports[k], t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_rfc3986),
        cmocka_unit_test(test_cbv_forms),
        cmocka_unit_test(test_cbv_urn_form),
        cmocka_unit_test(test_measurement_type_forms),
        cmocka_unit_test(test_unit_of_measure),
        cmocka_unit_test(test_extension_names),
        cmocka_unit_test(test_ilmd),
        cmocka_unit_test(test_event_context),
        cmocka_unit_test(test_quantity_element),
        cmocka_unit_test(test_duplicate_epcs),
        cmocka_unit_test(test_duplicates_in_other_spellings),
        cmocka_unit_test(test_action_and_ilmd_by_type),
        cmocka_unit_test(test_parent_id),
        cmocka_unit_test(test_transaction_list),
        cmocka_unit_test(test_persistent_disposition_lists),
        cmocka_unit_test(test_persistent_disposition_disjoint),
        cmocka_unit_test(test_time_zone_offset),
        cmocka_unit_test(test_malformed_time_once),
        cmocka_unit_test(test_future_event_time),
        cmocka_unit_test(test_hex_binary),
        cmocka_unit_test(test_unit_table),
        cmocka_unit_test(test_vocabulary_tables),
        cmocka_unit_test(test_sensor_ranges),
        cmocka_unit_test(test_sensor_report_required),
        cmocka_unit_test(test_long_lists_checked_quickly),
        cmocka_unit_test(test_many_errors_checked_quickly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
