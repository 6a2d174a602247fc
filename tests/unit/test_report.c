/*
 * The simple movement report (report.c): each JSON or protobuf report
 * becomes the EPCIS event it stands for, with canonical identifiers, and
 * each mistake in it is a structured error on that event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codec/json_stream.h"
#include "codec/proto.h"
#include "codec/report.h"
#include "tnt/document.h"

#define PRODUCT "\"product_id\":\"(01)09506000134352(21)ABC123\""
#define WHEN "\"timestamp\":\"2024-03-01T10:00:00Z\""
#define SGTIN_DL "https://id.gs1.org/01/09506000134352/21/ABC123"
#define SGLN "urn:epc:id:sgln:9506000.13435.0"
#define SGLN_DL "https://id.gs1.org/414/9506000134352"

typedef struct out {
    char json[4096];
    char errors[1024]; /* "CODE path; ..." */
    int valid;
    tnt_event *ev;     /* a clone; free with tnt_event_free */
} out;

static out read_one(const char *report, unsigned flags)
{
    out o;
    memset(&o, 0, sizeof o);
    tnt_reader_options opts = TNT_READER_OPTIONS_INIT;
    opts.flags = flags;
    opts.now_ms = INT64_C(4102444800000);
    tnt_reader *r;
    assert_int_equal(tnt_reader_new(&r, &opts), TNT_OK);
    tnt_reader_feed(r, report, strlen(report));
    tnt_reader_finish(r);
    tnt_event *ev;
    tnt_status st = tnt_reader_next(&ev, r);
    if (st != TNT_OK)
        fail_msg("%s: %s (%s)", report, tnt_status_name(st), tnt_reader_errmsg(r));
    char *j;
    tnt_event_to_json(&j, NULL, ev, 0);
    snprintf(o.json, sizeof o.json, "%s", j);
    tnt_free(j);
    o.valid = tnt_event_is_valid(ev);
    size_t k = 0;
    for (size_t i = 0; i < tnt_event_error_count(ev); i++) {
        const char *code, *path;
        tnt_event_error_at(&code, &path, NULL, ev, i);
        k += (size_t)snprintf(o.errors + k, sizeof o.errors - k, "%s%s %s", i ? "; " : "", code, path);
    }
    assert_int_equal(tnt_event_clone(&o.ev, ev), TNT_OK);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_DONE);
    tnt_reader_free(r);
    return o;
}

static void has(const out *o, const char *text)
{
    if (!strstr(o->json, text))
        fail_msg("'%s' not in %s", text, o->json);
}

static void lacks(const out *o, const char *text)
{
    if (strstr(o->json, text))
        fail_msg("'%s' in %s", text, o->json);
}

static void valid(const out *o)
{
    if (!o->valid)
        fail_msg("invalid: %s\n%s", o->errors, o->json);
}

static void error(const out *o, const char *code_path)
{
    if (!strstr(o->errors, code_path))
        fail_msg("no '%s' in '%s'", code_path, o->errors);
}

/* The example of docs/simple-report.md. */
static void test_example(void **state)
{
    (void)state;
    out o = read_one("{" PRODUCT ",\"event_type\":\"ship\",\"location\":\"" SGLN "\"," WHEN ","
                     "\"condition\":{\"temperature\":4.2,\"humidity\":55},\"device_id\":\"urn:epc:id:giai:9506000.17\"}",
                     TNT_READ_DEFAULT);
    valid(&o);
    assert_int_equal(tnt_event_get_type(o.ev), TNT_EVENT_OBJECT);
    assert_int_equal(tnt_event_get_action(o.ev), TNT_ACTION_OBSERVE);
    has(&o, "\"eventTime\":\"2024-03-01T10:00:00.000Z\",\"eventTimeZoneOffset\":\"+00:00\"");
    has(&o, "\"epcList\":[\"" SGTIN_DL "\"]");
    has(&o, "\"bizStep\":\"shipping\",\"disposition\":\"in_transit\"");
    has(&o, "\"readPoint\":{\"id\":\"" SGLN_DL "\"}");
    lacks(&o, "bizLocation"); /* shipped: the goods have left */
    has(&o, "{\"type\":\"Temperature\",\"value\":4.2,\"uom\":\"CEL\"}");
    has(&o, "{\"type\":\"RelativeHumidity\",\"value\":55,\"uom\":\"P1\"}");
    has(&o, "\"sensorMetadata\":{\"time\":\"2024-03-01T10:00:00.000Z\",\"deviceID\":\"urn:epc:id:giai:9506000.17\"}");
    assert_non_null(tnt_event_get_string(o.ev, TNT_FIELD_HASH_ID));
    tnt_event_free(o.ev);
    /* without normalisation the identifiers are canonical all the same */
    o = read_one("{" PRODUCT ",\"event_type\":\"receive\",\"location\":\"" SGLN "\"," WHEN "}", 0);
    has(&o, "\"epcList\":[\"" SGTIN_DL "\"]");
    has(&o, "\"bizLocation\":{\"id\":\"" SGLN_DL "\"}");
    tnt_event_free(o.ev);
}

static void test_movements(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        int action;
        const char *biz_step, *disposition;
        bool located; /* has a bizLocation */
    } t[] = {
        {"commission", TNT_ACTION_ADD, "commissioning", "active", true},
        {"pack", TNT_ACTION_OBSERVE, "packing", "in_progress", true},
        {"unpack", TNT_ACTION_OBSERVE, "unpacking", "in_progress", true},
        {"load", TNT_ACTION_OBSERVE, "loading", "in_transit", false},
        {"ship", TNT_ACTION_OBSERVE, "shipping", "in_transit", false},
        {"depart", TNT_ACTION_OBSERVE, "departing", "in_transit", false},
        {"transport", TNT_ACTION_OBSERVE, "transporting", "in_transit", false},
        {"arrive", TNT_ACTION_OBSERVE, "arriving", "in_progress", true},
        {"unload", TNT_ACTION_OBSERVE, "unloading", "in_progress", true},
        {"receive", TNT_ACTION_OBSERVE, "receiving", "in_progress", true},
        {"store", TNT_ACTION_OBSERVE, "storing", "sellable_not_accessible", true},
        {"stock", TNT_ACTION_OBSERVE, "stocking", "sellable_accessible", true},
        {"sell", TNT_ACTION_OBSERVE, "retail_selling", "retail_sold", false},
        {"dispense", TNT_ACTION_OBSERVE, "dispensing", "dispensed", false},
        {"return", TNT_ACTION_OBSERVE, "receiving", "returned", true},
        {"inspect", TNT_ACTION_OBSERVE, "inspecting", NULL, true},
        {"observe", TNT_ACTION_OBSERVE, NULL, NULL, true},
        {"sense", TNT_ACTION_OBSERVE, "sensor_reporting", NULL, true},
        {"hold", TNT_ACTION_OBSERVE, "holding", "non_sellable_other", true},
        {"recall", TNT_ACTION_OBSERVE, "holding", "recalled", true},
        {"damage", TNT_ACTION_OBSERVE, "inspecting", "damaged", true},
        {"expire", TNT_ACTION_OBSERVE, "inspecting", "expired", true},
        {"steal", TNT_ACTION_OBSERVE, NULL, "stolen", false},
        {"destroy", TNT_ACTION_OBSERVE, "destroying", "destroyed", false},
        {"decommission", TNT_ACTION_DELETE, "decommissioning", "inactive", false},
        {"picking", TNT_ACTION_OBSERVE, "picking", NULL, true},                         /* a CBV bizStep */
        {"urn:epcglobal:cbv:bizstep:staging_outbound", TNT_ACTION_OBSERVE, "staging_outbound", NULL, true},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char rep[512];
        snprintf(rep, sizeof rep, "{" PRODUCT ",\"event_type\":\"%s\",\"location\":\"9506000134352\"," WHEN "}",
                 t[i].type);
        out o = read_one(rep, TNT_READ_DEFAULT);
        valid(&o);
        assert_int_equal(tnt_event_get_type(o.ev), TNT_EVENT_OBJECT);
        assert_int_equal(tnt_event_get_action(o.ev), t[i].action);
        const char *bs = tnt_event_get_string(o.ev, TNT_FIELD_BIZ_STEP);
        const char *disp = tnt_event_get_string(o.ev, TNT_FIELD_DISPOSITION);
        if (t[i].biz_step)
            assert_string_equal(bs, t[i].biz_step);
        else
            assert_null(bs);
        if (t[i].disposition)
            assert_string_equal(disp, t[i].disposition);
        else
            assert_null(disp);
        assert_string_equal(tnt_event_get_string(o.ev, TNT_FIELD_READ_POINT), SGLN_DL);
        assert_int_equal(tnt_event_get_string(o.ev, TNT_FIELD_BIZ_LOCATION) != NULL, t[i].located);
        tnt_event_free(o.ev);
    }
    /* pack and unpack into a container: an AggregationEvent */
    out o = read_one("{" PRODUCT ",\"event_type\":\"pack\",\"container\":\"(00)106141411234567897\"," WHEN "}",
                     TNT_READ_DEFAULT);
    valid(&o);
    assert_int_equal(tnt_event_get_type(o.ev), TNT_EVENT_AGGREGATION);
    assert_int_equal(tnt_event_get_action(o.ev), TNT_ACTION_ADD);
    assert_string_equal(tnt_event_get_string(o.ev, TNT_FIELD_PARENT_ID), "https://id.gs1.org/00/106141411234567897");
    assert_string_equal(tnt_event_list_at(o.ev, TNT_LIST_CHILD_EPC, 0), SGTIN_DL);
    tnt_event_free(o.ev);
    o = read_one("{" PRODUCT ",\"event_type\":\"unpack\",\"container\":\"urn:epc:id:sscc:0614141.1123456789\"," WHEN "}",
                 TNT_READ_DEFAULT);
    valid(&o);
    assert_int_equal(tnt_event_get_action(o.ev), TNT_ACTION_DELETE);
    tnt_event_free(o.ev);
}

static void test_forms(void **state)
{
    (void)state;
    /* a class of product: a quantity */
    out o = read_one("{\"product_id\":\"09506000134352\",\"event_type\":\"receive\",\"quantity\":12," WHEN "}",
                     TNT_READ_DEFAULT);
    valid(&o);
    has(&o, "\"quantityList\":[{\"epcClass\":\"https://id.gs1.org/01/09506000134352\",\"quantity\":12}]");
    lacks(&o, "epcList");
    tnt_event_free(o.ev);
    /* places */
    static const struct {
        const char *loc;
        const char *rp;
    } places[] = {
        {"\"location\":\"52.52,13.405\"", "\"readPoint\":{\"id\":\"geo:52.52,13.405\"}"},
        {"\"location\":\"-33.9, 151.2\"", "\"readPoint\":{\"id\":\"geo:-33.9,151.2\"}"},
        {"\"location\":{\"lat\":1.5,\"lon\":-2}", "\"readPoint\":{\"id\":\"geo:1.5,-2\"}"},
        {"\"location\":{\"latitude\":0,\"longitude\":180}", "\"readPoint\":{\"id\":\"geo:0,180\"}"},
        {"\"location\":\"(414)9506000134352\"", "\"readPoint\":{\"id\":\"" SGLN_DL "\"}"},
        {"\"location\":\"https://partner.example/docks/7\"", "\"readPoint\":{\"id\":\"https://partner.example/docks/7\"}"},
        {"\"location\":\"Dock 7, Rotterdam\"", "\"tnt:locationName\":\"Dock 7, Rotterdam\""},
        {"\"location\":null", "\"type\":\"ObjectEvent\""},
    };
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        char rep[512];
        snprintf(rep, sizeof rep, "{" PRODUCT ",\"event_type\":\"receive\",%s," WHEN "}", places[i].loc);
        o = read_one(rep, TNT_READ_DEFAULT);
        valid(&o);
        has(&o, places[i].rp);
        tnt_event_free(o.ev);
    }
    o = read_one("{" PRODUCT ",\"event_type\":\"receive\",\"location\":\"Dock 7\",\"device_id\":\"logger-9\"," WHEN "}",
                 TNT_READ_DEFAULT);
    assert_int_equal(tnt_event_prefix_count(o.ev), 1);
    tnt_value v;
    assert_int_equal(tnt_event_get(&v, o.ev, "tnt:deviceID"), TNT_OK);
    assert_string_equal(v.string, "logger-9");
    tnt_event_free(o.ev);
    /* times */
    static const struct {
        const char *ts;
        const char *event_time;
        const char *offset;
    } times[] = {
        {"\"2024-03-01T10:00:00Z\"", "2024-03-01T10:00:00.000Z", "+00:00"},
        {"\"2024-03-01T11:00:00+01:00\"", "2024-03-01T10:00:00.000Z", "+01:00"},
        {"\"2024-03-01T05:30:00.250-04:30\"", "2024-03-01T10:00:00.250Z", "-04:30"},
        {"\"2024-03-01 10:00:00\"", "2024-03-01T10:00:00.000Z", "+00:00"},
        {"\"2024-03-01T10:00:00.5\"", "2024-03-01T10:00:00.500Z", "+00:00"},
        {"1709287200", "2024-03-01T10:00:00.000Z", "+00:00"},
        {"1709287200.75", "2024-03-01T10:00:00.750Z", "+00:00"},
        {"1709287200123", "2024-03-01T10:00:00.123Z", "+00:00"},
    };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        char rep[512], want[128];
        snprintf(rep, sizeof rep, "{" PRODUCT ",\"event_type\":\"receive\",\"timestamp\":%s}", times[i].ts);
        o = read_one(rep, TNT_READ_DEFAULT);
        valid(&o);
        snprintf(want, sizeof want, "\"eventTime\":\"%s\",\"eventTimeZoneOffset\":\"%s\"", times[i].event_time,
                 times[i].offset);
        has(&o, want);
        tnt_event_free(o.ev);
    }
    /* conditions: units, objects, gs1 measurement types; a Fahrenheit reading normalised */
    o = read_one("{" PRODUCT ",\"event_type\":\"sense\"," WHEN ",\"condition\":{\"temperature\":{\"value\":41,"
                 "\"uom\":\"FAH\"},\"shock\":2.5,\"Illuminance\":300,\"light\":12}}",
                 TNT_READ_DEFAULT);
    valid(&o);
    has(&o, "{\"type\":\"Temperature\",\"value\":5,\"uom\":\"CEL\"}");
    has(&o, "{\"type\":\"Acceleration\",\"value\":24.51662"); /* 2.5 g in m/s2 */
    has(&o, "{\"type\":\"Illuminance\",\"value\":300,\"uom\":\"LUX\"}"); /* a gs1 type: its unit */
    has(&o, "{\"type\":\"Illuminance\",\"value\":12,\"uom\":\"LUX\"}");
    tnt_event_free(o.ev);
    /* commissioning with a batch and an expiry; a shipment to, a receipt from */
    o = read_one("{" PRODUCT ",\"event_type\":\"commission\",\"batch\":\"L42\",\"expiry\":\"2026-01-31\"," WHEN
                 ",\"event_id\":\"urn:uuid:6f1a\"}",
                 TNT_READ_DEFAULT);
    valid(&o);
    has(&o, "\"ilmd\":{\"cbvmda:lotNumber\":\"L42\",\"cbvmda:itemExpirationDate\":\"2026-01-31\"}");
    has(&o, "\"eventID\":\"urn:uuid:6f1a\"");
    tnt_event_free(o.ev);
    o = read_one("{" PRODUCT ",\"event_type\":\"ship\",\"destination\":\"9506000134352\",\"source\":\"" SGLN "\"," WHEN
                 "}",
                 TNT_READ_DEFAULT);
    valid(&o);
    has(&o, "\"sourceList\":[{\"type\":\"location\",\"source\":\"" SGLN_DL "\"}]");
    has(&o, "\"destinationList\":[{\"type\":\"location\",\"destination\":\"" SGLN_DL "\"}]");
    tnt_event_free(o.ev);
}

static void test_mistakes(void **state)
{
    (void)state;
    static const struct {
        const char *report;
        const char *error;
    } t[] = {
        {"{\"event_type\":\"ship\"," WHEN "}", "REQUIRED $.product_id"},
        {"{" PRODUCT "," WHEN "}", "REQUIRED $.event_type"},
        {"{" PRODUCT ",\"event_type\":\"ship\"}", "REQUIRED $.timestamp"},
        {"{" PRODUCT ",\"event_type\":\"teleport\"," WHEN "}", "VOCABULARY $.event_type"},
        {"{" PRODUCT ",\"event_type\":5," WHEN "}", "TYPE $.event_type"},
        {"{\"product_id\":\"\",\"event_type\":\"ship\"," WHEN "}", "TYPE $.product_id"},
        {"{\"product_id\":\"(01)09506000134353(21)X\",\"event_type\":\"ship\"," WHEN "}", "IDENTIFIER $.product_id"},
        {"{\"product_id\":\"urn:epc:id:sgtin:bad\",\"event_type\":\"ship\"," WHEN "}", "IDENTIFIER $.product_id"},
        {"{" PRODUCT ",\"event_type\":\"pack\",\"container\":\"nope\"," WHEN "}", "IDENTIFIER $.container"},
        {"{" PRODUCT ",\"event_type\":\"ship\",\"timestamp\":\"yesterday\"}", "FORMAT $.timestamp"},
        {"{" PRODUCT ",\"event_type\":\"ship\",\"timestamp\":-5}", "FORMAT $.timestamp"},
        {"{" PRODUCT ",\"event_type\":\"ship\",\"timestamp\":1e20}", "FORMAT $.timestamp"},
        {"{" PRODUCT ",\"event_type\":\"ship\",\"timestamp\":\"2024-02-30T00:00:00Z\"}", "FORMAT $.timestamp"},
        {"{" PRODUCT ",\"event_type\":\"ship\",\"timestamp\":[]}", "FORMAT $.timestamp"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"location\":\"95,10\"}", "RANGE $.location"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"location\":{\"lat\":1}}", "TYPE $.location"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"location\":7}", "TYPE $.location"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"location\":\"(414)9506000134353\"}", "IDENTIFIER $.location"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"condition\":[1]}", "TYPE $.condition"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"condition\":{\"temperature\":\"4\"}}", "TYPE $.condition"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"condition\":{\"temperature\":{\"uom\":\"CEL\"}}}",
         "TYPE $.condition"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"condition\":{\"temperature\":{\"value\":1,\"uom\":2}}}",
         "TYPE $.condition"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"condition\":{\"mood\":3}}", "VOCABULARY $.condition"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"quantity\":-1}", "TYPE $.quantity"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"colour\":\"red\"}", "UNKNOWN_FIELD $.colour"},
        {"{" PRODUCT ",\"event_type\":\"ship\"," WHEN ",\"batch\":1}", "TYPE $.batch"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        out o = read_one(t[i].report, TNT_READ_DEFAULT);
        if (o.valid)
            fail_msg("%s: valid", t[i].report);
        error(&o, t[i].error);
        tnt_event_free(o.ev);
    }
    /* the path of a report in an array */
    out o = read_one("[{" PRODUCT ",\"event_type\":\"ship\"," WHEN "}]", 0);
    valid(&o);
    tnt_event_free(o.ev);
    tnt_reader *r;
    tnt_reader_new(&r, NULL);
    const char *two = "[{" PRODUCT ",\"event_type\":\"ship\"," WHEN "},{\"product_id\":\"x\"}]";
    tnt_reader_feed(r, two, strlen(two));
    tnt_reader_finish(r);
    tnt_event *ev;
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    const char *code, *path;
    tnt_event_error_at(&code, &path, NULL, ev, 0);
    assert_string_equal(path, "$[1].event_type");
    tnt_reader_free(r);
}

static void test_looks_like(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    static const struct {
        const char *json;
        bool report;
    } t[] = {
        {"{\"product_id\":\"x\"}", true},
        {"{\"event_type\":\"ship\"}", true},
        {"{\"type\":\"ObjectEvent\",\"product_id\":\"x\"}", false},
        {"{\"type\":\"ObjectEvent\"}", false},
        {"{}", false},
        {"{\"epcList\":[]}", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char err[64];
        tnt__node *n = tnt__json_parse_tree(&a, t[i].json, strlen(t[i].json), err, sizeof err);
        assert_int_equal(tnt__report_looks_like(n), t[i].report);
    }
    tnt__arena_destroy(&a);
}

/* A report in its protobuf form gives the event of its JSON form. */
static void test_protobuf(void **state)
{
    (void)state;
    out j = read_one("{" PRODUCT ",\"event_type\":\"ship\",\"location\":\"" SGLN "\",\"timestamp\":"
                     "\"2024-03-01T11:00:00+01:00\",\"condition\":{\"temperature\":4.5},\"device_id\":\"urn:epc:id:giai:9506000.17\"}",
                     TNT_READ_DEFAULT);
    valid(&j);
    tnt__report rep;
    memset(&rep, 0, sizeof rep);
    rep.product_id = "(01)09506000134352(21)ABC123";
    rep.event_type = "ship";
    rep.location = SGLN;
    rep.device_id = "urn:epc:id:giai:9506000.17";
    rep.timestamp = (tnt__time){INT64_C(1709287200000), 60, true};
    tnt__cond c = {"temperature", 4.5, NULL};
    rep.conds = &c;
    rep.n_conds = 1;
    void *pb;
    size_t len;
    assert_int_equal(tnt__proto_encode_report(&pb, &len, &rep), TNT_OK);
    uint8_t batch[512];
    size_t n = 0;
    batch[n++] = 0x12;
    for (size_t v = len;; v >>= 7) {
        batch[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f)
            break;
    }
    memcpy(batch + n, pb, len);
    tnt_free(pb);
    tnt_reader *r;
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    o.now_ms = INT64_C(4102444800000);
    tnt_reader_new(&r, &o);
    tnt_reader_feed(r, batch, n + len);
    tnt_reader_finish(r);
    tnt_event *ev;
    assert_int_equal(tnt_reader_next(&ev, r), TNT_OK);
    char *json;
    tnt_event_to_json(&json, NULL, ev, 0);
    assert_string_equal(json, j.json);
    assert_string_equal(tnt_event_get_string(ev, TNT_FIELD_HASH_ID), tnt_event_get_string(j.ev, TNT_FIELD_HASH_ID));
    tnt_free(json);
    tnt_reader_free(r);
    tnt_event_free(j.ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_movements),
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_mistakes),
        cmocka_unit_test(test_looks_like),
        cmocka_unit_test(test_protobuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
