/* The engine on the embedded backends: ingest, duplicates, track through
 * containers, history pages, master data and excursions, replay equality,
 * archive and retention, concurrency, configuration errors. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "tnt/tnt.h"
#include "tnt/engine.h"
#include "tnt/sys/backend.h"
#include <pb_decode.h>
#include <pb_encode.h>
#include "tnt_store.pb.h"
#include <zstd.h>
#include "engine/engine.h" /* tnt__archive_fetch: a segment made by hand */

#define UNIT "(01)09506000134352(21)U1"
#define UNIT_DL "https://id.gs1.org/01/09506000134352/21/U1"
#define CASE "(00)095060001343520000" /* check digit added below */

static char g_dir[256];
static char sscc[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s/tnt-engine-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(g_dir));
    /* an SSCC with its check digit */
    char d[18] = "09506000134352000";
    snprintf(sscc, sizeof sscc, "(00)%s%d", d, tnt_gs1_check_digit(d, 17));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd);
}

static tnt_engine *open_in(const char *sub, int64_t archive_after_ms, int64_t retention_ms)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", g_dir, sub);
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = dir;
    o.archive_after_ms = archive_after_ms;
    o.retention_ms = retention_ms;
    tnt_engine *e = NULL;
    tnt_status st = tnt_engine_open(&e, &o);
    if (st != TNT_OK)
        fail_msg("open: %s", tnt_error_last());
    return e;
}

static void ingest_str(tnt_engine *e, const char *json, size_t want_acc, size_t want_dup, size_t want_rej)
{
    tnt_ingest_report *r = NULL;
    tnt_status st = tnt_engine_ingest(&r, e, json, strlen(json), 0);
    if (st != TNT_OK)
        fail_msg("ingest: %s", tnt_error_last());
    size_t n, acc, dup, rej;
    tnt_ingest_report_counts(r, &n, &acc, &dup, &rej);
    if (acc != want_acc || dup != want_dup || rej != want_rej) {
        char *j = NULL;
        tnt_ingest_report_json(&j, NULL, r);
        fail_msg("ingest counts %zu/%zu/%zu, want %zu/%zu/%zu: %s", acc, dup, rej, want_acc, want_dup, want_rej, j);
    }
    tnt_ingest_report_free(r);
}

static char *report(const char *id, const char *type, const char *loc, const char *time, const char *extra)
{
    char *s = malloc(2048);
    snprintf(s, 2048,
             "{\"product_id\":\"%s\",\"event_type\":\"%s\",\"location\":\"%s\",\"timestamp\":\"%s\"%s%s}", id, type,
             loc, time, extra ? "," : "", extra ? extra : "");
    return s;
}

static void ingest_report(tnt_engine *e, const char *id, const char *type, const char *loc, const char *time,
                          const char *extra)
{
    char *s = report(id, type, loc, time, extra);
    ingest_str(e, s, 1, 0, 0);
    free(s);
}

static char *track_json(tnt_engine *e, const char *id)
{
    tnt_track *t;
    tnt_status st = tnt_engine_track(&t, e, id);
    if (st != TNT_OK)
        fail_msg("track %s: %s", id, tnt_error_last());
    char *j = NULL;
    assert_int_equal(tnt_track_json(&j, NULL, t), TNT_OK);
    tnt_track_free(t);
    return j;
}

/* The event count of unit <prefix><n> (it must be tracked). */
static size_t events_of(tnt_engine *e, const char *prefix, int n)
{
    char id[64];
    snprintf(id, sizeof id, "%s%d", prefix, n);
    tnt_track *t;
    assert_int_equal(tnt_engine_track(&t, e, id), TNT_OK);
    size_t count = 0;
    tnt_track_times(t, NULL, &count);
    tnt_track_free(t);
    return count;
}

#define FACTORY "9506000000008"
#define DC "9506000000015"
#define SHOP "9506000000022"


/* ---- queries ---- */

static size_t query_all(tnt_engine *e, tnt_query *q, size_t *pages)
{
    size_t total = 0;
    char tok[256] = "";
    *pages = 0;
    for (;;) {
        q->page_token = tok[0] ? tok : NULL;
        tnt_history *h = NULL;
        if (tnt_engine_query(&h, e, q) != TNT_OK)
            fail_msg("query: %s", tnt_error_last());
        total += tnt_history_count(h);
        (*pages)++;
        for (size_t i = 0; i < tnt_history_count(h); i++)
            assert_non_null(tnt_history_event(h, i));
        const char *next = tnt_history_next_token(h);
        if (next)
            snprintf(tok, sizeof tok, "%s", next);
        tnt_history_free(h);
        if (!next)
            return total;
        assert_true(*pages < 100);
    }
}

static void test_query(void **state)
{
    (void)state;
    tnt_engine *e = open_in("query", 0, 0);
    char id[64];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "(01)09506000134352(21)Q%d", i);
        ingest_report(e, id, "commission", FACTORY, "2024-03-01T08:00:00Z", NULL);
        ingest_report(e, id, "ship", FACTORY, "2024-03-02T08:00:00Z", NULL);
        if (i < 2)
            ingest_report(e, id, "receive", SHOP, "2024-03-03T08:00:00Z", NULL);
    }
    tnt_query q;
    assert_int_equal(tnt_query_init(&q, TNT_QUERY_VERSION), TNT_OK);
    size_t pages;
    assert_int_equal(query_all(e, &q, &pages), 12);
    q.limit = 5;
    assert_int_equal(query_all(e, &q, &pages), 12); /* the same events over pages */
    assert_true(pages >= 3);
    const char *steps[] = {"urn:epcglobal:cbv:bizstep:shipping"};
    q.biz_steps = steps;
    q.biz_step_count = 1;
    assert_int_equal(query_all(e, &q, &pages), 5);
    q.biz_step_count = 0;
    const char *bl[] = {"urn:epc:id:sgln:9506000.00002.0"};
    q.biz_locations = bl;
    q.biz_location_count = 1;
    q.limit = 0;
    size_t at_shop = query_all(e, &q, &pages);
    q.biz_location_count = 0;
    const char *rp[] = {"(414)" SHOP, NULL};
    q.read_points = rp;
    q.read_point_count = 1;
    assert_int_equal(query_all(e, &q, &pages), 2); /* the receipts at the shop */
    rp[0] = SHOP;                                  /* a bare GLN names the same place */
    assert_int_equal(query_all(e, &q, &pages), 2);
    assert_true(at_shop <= 2);
    q.read_point_count = 0;
    q.ge_event_time_ms = 1709366400000LL; /* 2024-03-02T08:00:00Z */
    q.lt_event_time_ms = 1709452800000LL; /* 2024-03-03T08:00:00Z */
    assert_int_equal(query_all(e, &q, &pages), 5);
    q.ge_event_time_ms = q.lt_event_time_ms = 0;
    const char *me[] = {"https://id.gs1.org/01/09506000134352/21/Q0", "(01)09506000134352(21)Q4"};
    q.match_epcs = me;
    q.match_epc_count = 2;
    q.limit = 2;
    assert_int_equal(query_all(e, &q, &pages), 5);
    assert_int_equal(pages, 3);
    const char *types[] = {"AggregationEvent"};
    q.event_types = types;
    q.event_type_count = 1;
    assert_int_equal(query_all(e, &q, &pages), 0);
    /* bad input: named in the message */
    const char *bad_types[] = {"NoSuchEvent"};
    q.event_types = bad_types;
    tnt_history *h = NULL;
    assert_int_equal(tnt_engine_query(&h, e, &q), TNT_E_INVALID);
    assert_non_null(strstr(tnt_error_last(), "NoSuchEvent"));
    q.event_type_count = 0;
    const char *bad_step[] = {"dancing"};
    q.biz_steps = bad_step;
    q.biz_step_count = 1;
    assert_int_equal(tnt_engine_query(&h, e, &q), TNT_E_INVALID);
    q.biz_step_count = 0;
    q.page_token = "l99.0";
    q.match_epc_count = 0;
    assert_int_equal(tnt_engine_query(&h, e, &q), TNT_E_INVALID);
    q.page_token = "zz";
    q.match_epc_count = 1;
    assert_int_equal(tnt_engine_query(&h, e, &q), TNT_E_INVALID);
    assert_null(h);
    tnt_query old = TNT_QUERY_INIT;
    old.version = 99;
    assert_int_equal(tnt_engine_query(&h, e, &old), TNT_E_INVALID);
    tnt_engine_close(e);
}

/* ---- ingest and duplicates ---- */

static void test_ingest_and_duplicates(void **state)
{
    (void)state;
    tnt_engine *e = open_in("dups", 0, 0);
    const char *doc = "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],"
                      "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-01-01T00:00:00Z\","
                      "\"epcisBody\":{\"eventList\":["
                      "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
                      "\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435.U7\"]},"
                      "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
                      "\"action\":\"SHOUT\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435.U7\"]},"
                      "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00.000+00:00\",\"eventTimeZoneOffset\":\"+00:00\","
                      "\"action\":\"ADD\",\"bizStep\":\"https://ref.gs1.org/cbv/BizStep-commissioning\","
                      "\"epcList\":[\"https://example.com/01/09506000134352/21/U7\"]}]}}";
    /* the third event is the first in other forms: a duplicate in the same document */
    ingest_str(e, doc, 1, 1, 1);
    char *stats = NULL;
    tnt_engine_stats(&stats, e);
    assert_non_null(strstr(stats, "\"end_offsets\":["));
    /* one record in the log in all: the rejected and the duplicate never reach it */
    int64_t total = 0;
    const char *p = strstr(stats, "\"end_offsets\":[") + 15;
    while (*p && *p != ']') {
        total += strtoll(p, (char **)&p, 10);
        if (*p == ',')
            p++;
    }
    assert_int_equal(total, 1);
    tnt_free(stats);
    ingest_str(e, doc, 0, 2, 1); /* again: everything stored before */
    tnt_engine_close(e);
    /* and after reopening */
    e = open_in("dups", 0, 0);
    ingest_str(e, doc, 0, 2, 1);
    tnt_engine_close(e);
}

/* ---- track through containers ---- */

static void test_track_through_containers(void **state)
{
    (void)state;
    tnt_engine *e = open_in("track", 0, 0);
    ingest_report(e, UNIT, "commission", FACTORY, "2024-03-01T08:00:00Z", "\"batch\":\"L1\",\"expiry\":\"2025-03-01\"");
    char extra[128];
    snprintf(extra, sizeof extra, "\"container\":\"%s\"", sscc);
    ingest_report(e, UNIT, "pack", FACTORY, "2024-03-01T09:00:00Z", extra);
    ingest_report(e, sscc, "ship", FACTORY, "2024-03-01T10:00:00Z", "\"condition\":{\"temperature\":{\"value\":41,\"uom\":\"FAH\"}}");
    ingest_report(e, sscc, "receive", DC, "2024-03-02T10:00:00Z", NULL);

    char *j = track_json(e, "urn:epc:id:sgtin:9506000.013435.U1"); /* another form of UNIT */
    assert_non_null(strstr(j, "\"id\":\"" UNIT_DL "\""));
    assert_non_null(strstr(j, "\"biz_location\":\"https://id.gs1.org/414/" DC "\""));
    assert_non_null(strstr(j, "\"via\":\"https://id.gs1.org/00/"));
    assert_non_null(strstr(j, "\"event_count\":2"));
    assert_non_null(strstr(j, "\"biz_step\":\"packing\""));
    free(j);
    j = track_json(e, sscc);
    assert_non_null(strstr(j, "\"biz_step\":\"receiving\""));
    assert_non_null(strstr(j, "\"readings\":[{\"type\":\"Temperature\",\"value\":5,\"uom\":\"CEL\""));
    free(j);

    /* unpacked at the shop: its own location again */
    snprintf(extra, sizeof extra, "\"container\":\"%s\"", sscc);
    ingest_report(e, UNIT, "unpack", SHOP, "2024-03-03T09:00:00Z", extra);
    j = track_json(e, UNIT);
    assert_non_null(strstr(j, "\"biz_location\":\"https://id.gs1.org/414/" SHOP "\""));
    assert_non_null(strstr(j, "\"via\":null"));
    assert_non_null(strstr(j, "\"parent\":null"));
    free(j);

    /* typed accessors */
    tnt_track *t;
    assert_int_equal(tnt_engine_track(&t, e, UNIT), TNT_OK);
    assert_string_equal(tnt_track_get(t, TNT_TRACK_ID), UNIT_DL);
    int64_t last;
    size_t count;
    tnt_track_times(t, &last, &count);
    assert_int_equal(count, 3);
    tnt_track_free(t);

    assert_int_equal(tnt_engine_track(&t, e, "(01)09506000134352(21)NEVER"), TNT_E_NOTFOUND);
    assert_int_equal(tnt_engine_track(&t, e, "not an id"), TNT_E_INVALID);
    assert_int_equal(tnt_engine_track(&t, e, "(01)09506000134353(21)BADCD"), TNT_E_INVALID);
    tnt_engine_close(e);
}

/* ---- history pages ---- */

static void test_history_pages(void **state)
{
    (void)state;
    tnt_engine *e = open_in("history", 0, 0);
    const char *steps[] = {"commission", "store", "ship", "receive", "stock", "sell"};
    for (int i = 0; i < 6; i++) {
        char t[40];
        /* ingested newest first: history still comes oldest first */
        snprintf(t, sizeof t, "2024-04-0%dT10:00:00Z", 6 - i);
        ingest_report(e, UNIT, steps[5 - i], SHOP, t, NULL);
    }
    const char *token = NULL;
    char tok[200] = "";
    int seen = 0;
    int64_t prev = 0;
    for (int page = 0; page < 4; page++) {
        tnt_history *h;
        assert_int_equal(tnt_engine_history(&h, e, UNIT, token, 4), TNT_OK);
        for (size_t i = 0; i < tnt_history_count(h); i++) {
            int64_t ms;
            assert_int_equal(tnt_event_get_time(&ms, NULL, tnt_history_event(h, i), TNT_TIME_EVENT), TNT_OK);
            assert_true(ms > prev);
            prev = ms;
            seen++;
        }
        const char *next = tnt_history_next_token(h);
        if (next)
            snprintf(tok, sizeof tok, "%s", next);
        token = next ? tok : NULL;
        tnt_history_free(h);
        if (!token)
            break;
    }
    assert_int_equal(seen, 6);
    tnt_history *h;
    assert_int_equal(tnt_engine_history(&h, e, UNIT, "zz", 4), TNT_E_INVALID);
    assert_int_equal(tnt_engine_history(&h, e, "(01)09506000134352(21)NEVER", NULL, 4), TNT_E_NOTFOUND);
    tnt_engine_close(e);
}

/* ---- master data and excursions ---- */

static void test_master_data(void **state)
{
    (void)state;
    tnt_engine *e = open_in("master", 0, 0);
    char path[400];
    snprintf(path, sizeof path, "%s/master.json", g_dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"products\":[{\"gtin\":\"9506000134352\",\"name\":\"Yoghurt\",\"brand\":\"Dairy\",\"min_temp\":2,"
               "\"max_temp\":8,\"shelf_life_days\":21}],"
               "\"locations\":[{\"gln\":\"" SHOP "\",\"name\":\"Shop Mitte\",\"city\":\"Berlin\",\"country\":\"DE\","
               "\"latitude\":52.52,\"longitude\":13.405}]}");
    fclose(f);
    size_t n = 0;
    assert_int_equal(tnt_engine_master_load(e, path, &n), TNT_OK);
    assert_int_equal(n, 2);
    snprintf(path, sizeof path, "%s/parties.csv", g_dir);
    f = fopen(path, "w");
    fprintf(f, "company_prefix,name,role\n9506000,\"Dairy, Inc.\",brand_owner\n");
    fclose(f);
    assert_int_equal(tnt_engine_master_load(e, path, &n), TNT_OK);
    assert_int_equal(n, 1);
    char *json = NULL;
    assert_int_equal(tnt_engine_master_get(&json, e, TNT_MASTER_PARTY, "9506000"), TNT_OK);
    assert_non_null(strstr(json, "\"Dairy, Inc.\""));
    tnt_free(json);
    assert_int_equal(tnt_engine_master_get(&json, e, TNT_MASTER_PRODUCT, "09506000134352"), TNT_OK);
    tnt_free(json);

    ingest_report(e, UNIT, "stock", SHOP, "2024-05-01T10:00:00Z", "\"condition\":{\"temperature\":9.5}");
    char *j = track_json(e, UNIT);
    assert_non_null(strstr(j, "\"name\":\"Shop Mitte\""));
    assert_non_null(strstr(j, "\"excursion\":true"));
    char *again = track_json(e, UNIT); /* the location's members kept from the first answer */
    assert_string_equal(again, j);
    free(again);
    free(j);
    /* the location's master data changes: the next answer says so */
    snprintf(path, sizeof path, "%s/renamed.json", g_dir);
    f = fopen(path, "w");
    fprintf(f, "{\"locations\":[{\"gln\":\"" SHOP "\",\"name\":\"Shop Mitte \\\"Neu\\\"\",\"city\":\"Berlin\","
               "\"latitude\":52.5}]}");
    fclose(f);
    assert_int_equal(tnt_engine_master_load(e, path, &n), TNT_OK);
    j = track_json(e, UNIT);
    assert_non_null(strstr(j, "\"name\":\"Shop Mitte \\\"Neu\\\"\",\"city\":\"Berlin\",\"latitude\":52.5}"));
    assert_null(strstr(j, "\"country\""));
    free(j);

    /* bad master data: clear errors, nothing stored */
    snprintf(path, sizeof path, "%s/bad.json", g_dir);
    f = fopen(path, "w");
    fprintf(f, "{\"products\":[{\"gtin\":\"9506000134353\"}]}");
    fclose(f);
    assert_int_equal(tnt_engine_master_load(e, path, &n), TNT_E_INVALID);
    assert_non_null(strstr(tnt_error_last(), "check digit"));
    assert_int_equal(tnt_engine_master_get(&json, e, TNT_MASTER_PRODUCT, "9506000134353"), TNT_E_INVALID);
    json = (char *)path;
    assert_int_equal(tnt_engine_master_records(&json, e, path), TNT_E_INVALID);
    assert_null(json);
    /* members the checks read must be what they say; nothing of such a file is stored */
    static const char *const wrong[][2] = {
        {"{\"parties\":[{\"company_prefix\":\"9506001\",\"public_key\":\"N6BfIuXyAJt_Y8jJokzgkpYFEUFIT7V3IEQQW0I\"}]}",
         "brand key"},
        {"{\"parties\":[{\"company_prefix\":\"9506001\",\"keys\":[{\"public_key\":\"N6BfIuXyAJt_Y8jJokzgkpYFEUFIT7V3IEQQW0IndeU\","
         "\"revoked_at\":\"soon\"}]}]}",
         "revoked_at"},
        {"{\"locations\":[{\"gln\":\"" SHOP "\",\"latitude\":\"north\",\"longitude\":13}]}", "latitude"},
        {"{\"locations\":[{\"gln\":\"" SHOP "\",\"latitude\":52,\"longitude\":500}]}", "longitude"},
        {"{\"products\":[{\"gtin\":\"9506000134369\",\"min_temp\":\"cold\"}]}", "min_temp"},
        {"{\"products\":[{\"gtin\":\"9506000134369\",\"name\":\"a\",\"name\":\"b\"}]}", "twice"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        f = fopen(path, "w");
        fputs(wrong[i][0], f);
        fclose(f);
        assert_int_equal(tnt_engine_master_load(e, path, &n), TNT_E_INVALID);
        if (!strstr(tnt_error_last(), wrong[i][1]) || !strstr(tnt_error_last(), "[0]"))
            fail_msg("%s: %s", wrong[i][0], tnt_error_last());
    }
    assert_int_equal(tnt_engine_master_get(&json, e, TNT_MASTER_PARTY, "9506001"), TNT_E_NOTFOUND);
    assert_int_equal(tnt_engine_master_get(&json, e, TNT_MASTER_PRODUCT, "09506000134369"), TNT_E_NOTFOUND);

    /* a file's records as the load reads them, nothing stored: canonical keys, the file's own line numbers */
    snprintf(path, sizeof path, "%s/listed.csv", g_dir);
    f = fopen(path, "w");
    fprintf(f, "\r\ngtin,name\r\n# a note\n\n9506000134369,\"Cream\"\n");
    fclose(f);
    assert_int_equal(tnt_engine_master_records(&json, e, path), TNT_OK);
    char want[600];
    snprintf(want, sizeof want, "[{\"kind\":\"product\",\"key\":\"09506000134369\",\"where\":\"%s:5\"}]", path);
    assert_string_equal(json, want);
    tnt_free(json);
    assert_int_equal(tnt_engine_master_get(&json, e, TNT_MASTER_PRODUCT, "09506000134369"), TNT_E_NOTFOUND);
    assert_int_equal(tnt_engine_master_records(NULL, e, path), TNT_E_MISUSE);
    tnt_engine_close(e);
}

/* ---- master data changed while it is read ---- */

/* A state store that runs a hook before each transaction, then writes
 * through the local store: what a reader sees between the engine's staging
 * of a batch and its write. */
typedef struct hook_store {
    tnt_store base;
    tnt_store *inner;
} hook_store;

static void (*g_hook)(void *);
static void *g_hook_arg;

#define INNER(s) (((hook_store *)(s))->inner)
static void h_close(tnt_store *s)
{
    INNER(s)->methods->close(INNER(s));
    free(s);
}
static tnt_status h_get(tnt_store *s, const void *pk, size_t pkl, const void *sk, size_t skl, void **v, size_t *vl,
                        uint64_t *ver)
{
    return INNER(s)->methods->get(INNER(s), pk, pkl, sk, skl, v, vl, ver);
}
static tnt_status h_put(tnt_store *s, const tnt_store_item *it, uint64_t *ver)
{
    return INNER(s)->methods->put(INNER(s), it, ver);
}
static tnt_status h_batch(tnt_store *s, const tnt_store_item *items, size_t n, size_t *left)
{
    return INNER(s)->methods->batch_write(INNER(s), items, n, left);
}
static tnt_status h_query(tnt_store *s, const void *pk, size_t pkl, const void *from, size_t froml, const void *to,
                          size_t tol, size_t limit, int reverse, tnt_store_item_fn fn, void *ud)
{
    return INNER(s)->methods->query(INNER(s), pk, pkl, from, froml, to, tol, limit, reverse, fn, ud);
}
static tnt_status h_remove(tnt_store *s, const void *pk, size_t pkl, const void *sk, size_t skl)
{
    return INNER(s)->methods->remove(INNER(s), pk, pkl, sk, skl);
}
static tnt_status h_scan(tnt_store *s, tnt_store_item_fn fn, void *ud) { return INNER(s)->methods->scan(INNER(s), fn, ud); }
static tnt_status h_clear(tnt_store *s) { return INNER(s)->methods->clear(INNER(s)); }
static tnt_status h_transact(tnt_store *s, const tnt_store_item *items, size_t n)
{
    void (*hook)(void *) = g_hook;
    g_hook = NULL; /* once */
    if (hook)
        hook(g_hook_arg);
    return INNER(s)->methods->transact(INNER(s), items, n);
}
static const tnt_store_methods hook_methods = {TNT_BACKEND_VERSION, h_close, h_get, h_put, h_batch, h_query,
                                               h_remove, h_scan, h_clear, h_transact};

static tnt_status hook_open_store(tnt_store **out, const char *uri, const char *const *settings, void *ud, char *err,
                                  size_t errn)
{
    (void)ud;
    char file_uri[512];
    snprintf(file_uri, sizeof file_uri, "file://%s", uri + strlen("hook://"));
    hook_store *h = calloc(1, sizeof *h);
    tnt_status st = tnt_backend_find("file")->open_store(&h->inner, file_uri, settings, NULL, err, errn);
    if (st != TNT_OK) {
        free(h);
        return st;
    }
    h->base.methods = &hook_methods;
    *out = &h->base;
    return TNT_OK;
}

static void track_now(void *e) { free(track_json(e, UNIT)); }

static void test_master_changed_while_read(void **state)
{
    (void)state;
    static const tnt_backend hook = {TNT_BACKEND_VERSION, "hook", NULL, NULL, hook_open_store, NULL};
    assert_int_equal(tnt_backend_register(&hook), TNT_OK);
    char dir[400], store[460], path[460];
    snprintf(dir, sizeof dir, "%s/hooked", g_dir);
    snprintf(store, sizeof store, "hook://%s/state", dir);
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = dir;
    o.store_uri = store;
    tnt_engine *e = NULL;
    if (tnt_engine_open(&e, &o) != TNT_OK)
        fail_msg("open: %s", tnt_error_last());
    snprintf(path, sizeof path, "%s/loc.json", g_dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"locations\":[{\"gln\":\"" SHOP "\",\"name\":\"Before\"}]}");
    fclose(f);
    size_t n = 0;
    assert_int_equal(tnt_engine_master_load(e, path, &n), TNT_OK);
    ingest_report(e, UNIT, "stock", SHOP, "2024-05-01T10:00:00Z", "\"condition\":{\"temperature\":4}");
    char *j = track_json(e, UNIT);
    assert_non_null(strstr(j, "\"name\":\"Before\""));
    free(j);
    /* renamed; a track runs between the staging of the new record and its write */
    f = fopen(path, "w");
    fprintf(f, "{\"locations\":[{\"gln\":\"" SHOP "\",\"name\":\"After\"}]}");
    fclose(f);
    g_hook = track_now;
    g_hook_arg = e;
    assert_int_equal(tnt_engine_master_load(e, path, &n), TNT_OK);
    assert_null(g_hook); /* it ran */
    j = track_json(e, UNIT);
    assert_non_null(strstr(j, "\"name\":\"After\""));
    free(j);
    tnt_engine_close(e);
}

/* ---- replay rebuilds the same state ---- */

typedef struct snap {
    char **items;
    size_t n, cap;
} snap;

static int snap_one(void *ud, const tnt_store_item *it)
{
    snap *s = ud;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->items = realloc(s->items, s->cap * sizeof *s->items);
    }
    size_t len = it->pk_len + it->sk_len + it->value_len;
    char *b = malloc(3 * len + 4), *p = b;
    for (size_t i = 0; i < it->pk_len; i++)
        p += sprintf(p, "%02x", ((const uint8_t *)it->pk)[i]);
    *p++ = '|';
    for (size_t i = 0; i < it->sk_len; i++)
        p += sprintf(p, "%02x", ((const uint8_t *)it->sk)[i]);
    *p++ = '|';
    for (size_t i = 0; i < it->value_len; i++)
        p += sprintf(p, "%02x", ((const uint8_t *)it->value)[i]);
    *p = '\0';
    s->items[s->n++] = b;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every item of the state store, sorted, as text. */
static snap snapshot(const char *sub)
{
    char uri[500];
    snprintf(uri, sizeof uri, "file://%s/%s/state", g_dir, sub);
    const tnt_backend *b = tnt_backend_find("file");
    assert_non_null(b);
    tnt_store *st;
    char err[256];
    assert_int_equal(b->open_store(&st, uri, NULL, b->user_data, err, sizeof err), TNT_OK);
    snap s = {NULL, 0, 0};
    assert_int_equal(st->methods->scan(st, snap_one, &s), TNT_OK);
    st->methods->close(st);
    qsort(s.items, s.n, sizeof *s.items, cmp_str);
    return s;
}

static void snap_equal(snap a, snap b)
{
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        assert_string_equal(a.items[i], b.items[i]);
    for (size_t i = 0; i < a.n; i++)
        free(a.items[i]), free(b.items[i]);
    free(a.items);
    free(b.items);
}

/* The store of `sub` holds exactly what `want` does (which is kept). */
static void snap_matches(snap want, const char *sub)
{
    snap got = snapshot(sub);
    assert_int_equal(want.n, got.n);
    for (size_t i = 0; i < got.n; i++) {
        assert_string_equal(want.items[i], got.items[i]);
        free(got.items[i]);
    }
    free(got.items);
}

static void ingest_world(tnt_engine *e)
{
    char extra[128];
    snprintf(extra, sizeof extra, "\"container\":\"%s\"", sscc);
    /* events arrive out of order, with duplicates: the state must not care */
    ingest_report(e, sscc, "receive", DC, "2024-03-02T10:00:00Z", "\"condition\":{\"temperature\":6}");
    ingest_report(e, UNIT, "commission", FACTORY, "2024-03-01T08:00:00Z", "\"batch\":\"L1\"");
    ingest_report(e, UNIT, "pack", FACTORY, "2024-03-01T09:00:00Z", extra);
    ingest_report(e, sscc, "ship", FACTORY, "2024-03-01T10:00:00Z", "\"condition\":{\"temperature\":4}");
    for (int i = 0; i < 50; i++) {
        char id[64], t[40];
        snprintf(id, sizeof id, "(01)09506000134352(21)X%d", i);
        snprintf(t, sizeof t, "2024-03-0%dT1%d:00:00Z", 1 + i % 9, i % 10);
        ingest_report(e, id, i % 2 ? "ship" : "receive", i % 3 ? DC : SHOP, t, NULL);
    }
}

static void test_replay_equal(void **state)
{
    (void)state;
    tnt_engine *e = open_in("replay", 0, 0);
    ingest_world(e);
    tnt_engine_close(e);
    snap before = snapshot("replay");
    assert_true(before.n > 100);
    /* the partitions are replayed side by side, each time in another
     * interleaving: every one rebuilds the same bytes */
    for (int round = 0; round < 4; round++) {
        e = open_in("replay", 0, 0);
        size_t n = 0;
        assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
        assert_int_equal(n, 54);
        tnt_engine_close(e);
        snap_matches(before, "replay");
    }
    snap_equal(before, snapshot("replay"));
}

/* ---- ingest through a read callback ---- */

typedef struct chunks {
    const char *data;
    size_t len, off, calls;
    size_t fail_at; /* fail the read that would pass this offset (0: never) */
} chunks;

static int64_t read_chunks(void *ud, void *buf, size_t cap)
{
    chunks *c = ud;
    c->calls++;
    size_t n = 1 + (c->calls * 37) % 101; /* short reads of 1 to 101 bytes */
    if (n > cap)
        n = cap;
    if (n > c->len - c->off)
        n = c->len - c->off;
    if (c->fail_at && c->off + n > c->fail_at)
        return -1;
    memcpy(buf, c->data + c->off, n);
    c->off += n;
    return (int64_t)n;
}

static void test_ingest_stream(void **state)
{
    (void)state;
    tnt_engine *e = open_in("stream", 0, 0);
    char *doc = malloc(64 << 10);
    size_t len = 0;
    len += (size_t)sprintf(doc + len, "[");
    for (int i = 0; i < 40; i++)
        len += (size_t)sprintf(doc + len,
                               "%s{\"product_id\":\"(01)09506000134352(21)S%d\",\"event_type\":\"commission\","
                               "\"location\":\"" FACTORY "\",\"timestamp\":\"2024-03-01T08:00:00Z\"}",
                               i ? "," : "", i);
    len += (size_t)sprintf(doc + len, "]");
    chunks c = {doc, len, 0, 0, 0};
    tnt_ingest_report *r = NULL;
    assert_int_equal(tnt_engine_ingest_stream(&r, e, read_chunks, &c, 0), TNT_OK);
    size_t n, acc, dup, rej;
    tnt_ingest_report_counts(r, &n, &acc, &dup, &rej);
    assert_int_equal(acc, 40);
    assert_true(c.calls > 40); /* many short reads */
    tnt_ingest_report_free(r);
    /* the same again: every event a duplicate */
    c = (chunks){doc, len, 0, 0, 0};
    assert_int_equal(tnt_engine_ingest_stream(&r, e, read_chunks, &c, 0), TNT_OK);
    tnt_ingest_report_counts(r, &n, &acc, &dup, &rej);
    assert_int_equal(dup, 40);
    tnt_ingest_report_free(r);

    /* a read that fails half-way: TNT_E_IO, and the events read before it stand */
    for (size_t i = 0; i < len; i++)
        if (doc[i] == 'S')
            doc[i] = 'T';
    c = (chunks){doc, len, 0, 0, len / 2};
    assert_int_equal(tnt_engine_ingest_stream(&r, e, read_chunks, &c, 0), TNT_E_IO);
    assert_non_null(strstr(tnt_error_last(), "read callback"));
    tnt_ingest_report_counts(r, &n, &acc, &dup, &rej);
    assert_true(acc > 0 && acc < 40);
    assert_int_equal(rej, 0);
    for (size_t i = 0; i < n; i++) { /* each event the report accepted is stored */
        int st = -1;
        const char *hash = NULL;
        size_t nerr = 0;
        assert_int_equal(tnt_ingest_report_event(&st, &hash, &nerr, r, i), TNT_OK);
        assert_int_equal(st, TNT_INGEST_ACCEPTED);
        tnt_event *ev = NULL;
        assert_int_equal(tnt_engine_event(&ev, e, hash), TNT_OK);
        tnt_event_free(ev);
    }
    tnt_ingest_report_free(r);
    /* misuse */
    assert_int_equal(tnt_engine_ingest_stream(&r, e, NULL, &c, 0), TNT_E_MISUSE);
    free(doc);
    tnt_engine_close(e);
}

/* ---- events found by the eventID their sender gave them ---- */

#define EV_DOC_HEAD                                                                                                    \
    "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],"                              \
    "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-01-01T00:00:00Z\","                  \
    "\"epcisBody\":{\"eventList\":["
#define EV(id, time, step)                                                                                             \
    "{\"type\":\"ObjectEvent\",\"eventID\":\"" id "\",\"eventTime\":\"" time "\",\"eventTimeZoneOffset\":\"+00:00\","   \
    "\"action\":\"OBSERVE\",\"bizStep\":\"" step "\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435.E1\"]}"

static const char *event_step(tnt_engine *e, const char *name, char *buf, size_t cap)
{
    tnt_event *ev = NULL;
    tnt_status st = tnt_engine_event(&ev, e, name);
    if (st != TNT_OK)
        return tnt_status_name(st);
    const char *step = tnt_event_get_string(ev, TNT_FIELD_BIZ_STEP);
    snprintf(buf, cap, "%s", step ? step : "");
    tnt_event_free(ev);
    return buf;
}

#define EVP(id, time, step, serial)                                                                                   \
    "{\"type\":\"ObjectEvent\",\"eventID\":\"" id "\",\"eventTime\":\"" time "\",\"eventTimeZoneOffset\":\"+00:00\","   \
    "\"action\":\"OBSERVE\",\"bizStep\":\"" step "\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435." serial "\"]}"
#define DUP_ID "urn:uuid:6f1c9e2a-0000-4000-8000-0000000000dd"

/* One eventID on events of eight products (so in several partitions),
 * recorded in one document and in a later one: the eventID names the same
 * event after every replay, whatever order the partitions are applied in. */
static void test_event_ids_replayed(void **state)
{
    (void)state;
    tnt_engine *e = open_in("eventids-replayed", 0, 0);
    ingest_str(e,
               EV_DOC_HEAD EVP(DUP_ID, "2024-01-01T10:00:00Z", "shipping", "D1") ","
               EVP(DUP_ID, "2024-01-01T10:01:00Z", "receiving", "D2") ","
               EVP(DUP_ID, "2024-01-01T10:02:00Z", "storing", "D3") ","
               EVP(DUP_ID, "2024-01-01T10:03:00Z", "picking", "D4") ","
               EVP(DUP_ID, "2024-01-01T10:04:00Z", "packing", "D5") ","
               EVP(DUP_ID, "2024-01-01T10:05:00Z", "loading", "D6") ","
               EVP(DUP_ID, "2024-01-01T10:06:00Z", "departing", "D7") ","
               EVP(DUP_ID, "2024-01-01T10:07:00Z", "arriving", "D8") "]}}",
               8, 0, 0);
    char first[128], buf[128];
    snprintf(first, sizeof first, "%s", event_step(e, DUP_ID, buf, sizeof buf));
    assert_string_not_equal(first, "TNT_E_NOTFOUND");
    struct timespec ms = {0, 5000000};
    nanosleep(&ms, NULL);
    /* recorded later: it does not take the eventID */
    ingest_str(e, EV_DOC_HEAD EVP(DUP_ID, "2023-01-01T10:00:00Z", "inspecting", "D9") "]}}", 1, 0, 0);
    assert_string_equal(event_step(e, DUP_ID, buf, sizeof buf), first);
    tnt_engine_close(e);
    snap before = snapshot("eventids-replayed");
    for (int round = 0; round < 4; round++) {
        e = open_in("eventids-replayed", 0, 0);
        size_t n = 0;
        assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
        assert_int_equal(n, 9);
        assert_string_equal(event_step(e, DUP_ID, buf, sizeof buf), first);
        tnt_engine_close(e);
        snap_matches(before, "eventids-replayed");
    }
    snap_equal(before, snapshot("eventids-replayed"));
}

static void test_event_ids(void **state)
{
    (void)state;
    tnt_engine *e = open_in("eventids", 0, 0);
    /* the second event reuses the first's eventID: the first keeps it */
    ingest_str(e,
               EV_DOC_HEAD EV("urn:uuid:6f1c9e2a-0000-4000-8000-000000000001", "2024-01-01T10:00:00Z", "shipping") ","
               EV("urn:uuid:6f1c9e2a-0000-4000-8000-000000000001", "2024-01-01T11:00:00Z", "receiving") ","
               EV("ni:///sha-256;0000000000000000000000000000000000000000000000000000000000000000?ver=CBV2.0",
                  "2024-01-01T12:00:00Z", "storing") "]}}",
               3, 0, 0);
    char buf[128];
    assert_string_equal(event_step(e, "urn:uuid:6f1c9e2a-0000-4000-8000-000000000001", buf, sizeof buf),
                        "shipping");
    /* a sender's own hash ID that is not ours */
    assert_string_equal(event_step(e, "ni:///sha-256;0000000000000000000000000000000000000000000000000000000000000000"
                                      "?ver=CBV2.0", buf, sizeof buf),
                        "storing");
    /* and in a later document too */
    ingest_str(e, EV_DOC_HEAD EV("urn:uuid:6f1c9e2a-0000-4000-8000-000000000001", "2024-01-02T10:00:00Z",
                                 "arriving") "]}}",
               1, 0, 0);
    assert_string_equal(event_step(e, "urn:uuid:6f1c9e2a-0000-4000-8000-000000000001", buf, sizeof buf),
                        "shipping");
    /* by our hash ID, as before */
    tnt_history *h = NULL;
    assert_int_equal(tnt_engine_history(&h, e, "urn:epc:id:sgtin:9506000.013435.E1", NULL, 0), TNT_OK);
    assert_int_equal(tnt_history_count(h), 4);
    const char *hash = tnt_event_get_string(tnt_history_event(h, 1), TNT_FIELD_HASH_ID);
    assert_string_equal(event_step(e, hash, buf, sizeof buf), "receiving");
    tnt_history_free(h);
    /* unknown, empty, too long */
    assert_string_equal(event_step(e, "urn:uuid:nobody", buf, sizeof buf), "TNT_E_NOTFOUND");
    assert_string_equal(event_step(e, "", buf, sizeof buf), "TNT_E_INVALID");
    char *huge = malloc(5000);
    memset(huge, 'x', 4999);
    huge[4999] = '\0';
    assert_string_equal(event_step(e, huge, buf, sizeof buf), "TNT_E_INVALID");
    free(huge);
    tnt_engine_close(e);
    /* a replay rebuilds the index as it was: two eventIDs indexed ("x:" is 783a) */
    snap before = snapshot("eventids");
    size_t xkeys = 0;
    for (size_t i = 0; i < before.n; i++)
        xkeys += strncmp(before.items[i], "783a", 4) == 0;
    assert_int_equal(xkeys, 2);
    e = open_in("eventids", 0, 0);
    size_t n = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
    assert_int_equal(n, 4);
    assert_string_equal(event_step(e, "urn:uuid:6f1c9e2a-0000-4000-8000-000000000001", buf, sizeof buf),
                        "shipping");
    tnt_engine_close(e);
    snap_equal(before, snapshot("eventids"));
    /* archived, it is still found by its eventID; expired, the eventID goes with it */
    const int64_t day = 86400000, later = 1714521600000; /* 2024-05-01 */
    e = open_in("eventids", 30 * day, 400 * day);
    size_t archived = 0, expired = 0;
    assert_int_equal(tnt_engine_archive(e, later, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 4);
    assert_string_equal(event_step(e, "urn:uuid:6f1c9e2a-0000-4000-8000-000000000001", buf, sizeof buf), "shipping");
    assert_int_equal(tnt_engine_archive(e, later + 500 * day, &archived, &expired), TNT_OK);
    assert_int_equal(expired, 4);
    assert_string_equal(event_step(e, "urn:uuid:6f1c9e2a-0000-4000-8000-000000000001", buf, sizeof buf),
                        "TNT_E_NOTFOUND");
    tnt_engine_close(e);
    snap gone = snapshot("eventids");
    for (size_t i = 0; i < gone.n; i++) {
        assert_int_not_equal(strncmp(gone.items[i], "783a", 4), 0);
        free(gone.items[i]);
    }
    free(gone.items);
}

/* ---- archive: history and replay still read archived events ---- */

static void test_archive(void **state)
{
    (void)state;
    const int64_t day = 86400000;
    tnt_engine *e = open_in("archive", 30 * day, 400 * day);
    ingest_world(e);
    const char *loc = "{\"gln\":\"" SHOP "\",\"name\":\"Shop Mitte\"}";
    assert_int_equal(tnt_engine_master_put(e, TNT_MASTER_LOCATION, loc, strlen(loc)), TNT_OK);
    tnt_history *h;
    /* a query without identifiers, before and after archiving */
    tnt_query q;
    assert_int_equal(tnt_query_init(&q, TNT_QUERY_VERSION), TNT_OK);
    const char *ship[] = {"urn:epcglobal:cbv:bizstep:shipping"};
    size_t pages = 0, all_live = query_all(e, &q, &pages);
    assert_int_equal(all_live, 54);
    q.biz_steps = ship;
    q.biz_step_count = 1;
    size_t shipped_live = query_all(e, &q, &pages);
    assert_true(shipped_live > 0 && shipped_live < all_live);
    q.biz_step_count = 0;
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_OK);
    char *before = NULL;
    tnt_history_json(&before, NULL, h);
    tnt_history_free(h);
    tnt_engine_close(e);
    snap s0 = snapshot("archive");

    e = open_in("archive", 30 * day, 400 * day);
    size_t archived = 0, expired = 0;
    int64_t later = 1714521600000; /* 2024-05-01: everything is older than 30 days */
    assert_int_equal(tnt_engine_archive(e, later, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 54); /* events: the master record is archived too, not counted */
    assert_int_equal(expired, 0);
    /* the query reads the archive too, page by page (a page may end inside a segment) */
    q.limit = 7;
    assert_int_equal(query_all(e, &q, &pages), all_live);
    assert_true(pages >= 8);
    q.biz_step_count = 1;
    assert_int_equal(query_all(e, &q, &pages), shipped_live);
    q.biz_step_count = 0;
    q.limit = 0;
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_OK);
    char *after = NULL;
    tnt_history_json(&after, NULL, h);
    assert_string_equal(before, after); /* read from the archive now */
    const char *hash = tnt_event_get_string(tnt_history_event(h, 0), TNT_FIELD_HASH_ID);
    tnt_event *ev;
    assert_int_equal(tnt_engine_event(&ev, e, hash), TNT_OK);
    tnt_event_free(ev);
    tnt_history_free(h);
    tnt_free(before);
    tnt_free(after);
    /* the state did not change; the store only lost event bodies */
    char *j = track_json(e, UNIT);
    assert_non_null(strstr(j, "\"event_count\":2"));
    free(j);
    tnt_engine_close(e);
    snap s1 = snapshot("archive");
    assert_true(s1.n == s0.n);

    /* replay rebuilds the archived state exactly */
    e = open_in("archive", 30 * day, 400 * day);
    size_t n = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
    assert_int_equal(n, 55);
    tnt_engine_close(e);
    snap_equal(s1, snapshot("archive"));
    for (size_t i = 0; i < s0.n; i++)
        free(s0.items[i]);
    free(s0.items);

    /* past the retention the events are gone from history */
    e = open_in("archive", 30 * day, 400 * day);
    assert_int_equal(tnt_engine_archive(e, later + 500 * day, &archived, &expired), TNT_OK);
    assert_int_equal(expired, 54);
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_OK);
    assert_int_equal(tnt_history_count(h), 0);
    tnt_history_free(h);
    assert_int_equal(query_all(e, &q, &pages), 0);
    /* master data is no history: it outlives the retention, and a replay restores it */
    assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
    char *m = NULL;
    assert_int_equal(tnt_engine_master_get(&m, e, TNT_MASTER_LOCATION, SHOP), TNT_OK);
    assert_non_null(strstr(m, "Shop Mitte"));
    tnt_free(m);
    /* ... and brings no expired event back, though the log's active file still holds them;
     * nor does the next archive run */
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_E_NOTFOUND); /* no event of it is left */
    assert_int_equal(query_all(e, &q, &pages), 0);
    assert_int_equal(tnt_engine_archive(e, later + 500 * day, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 0);
    assert_int_equal(query_all(e, &q, &pages), 0);
    tnt_engine_close(e);
}

/* Archive segments close at engine.archive_segment: a run writes several,
 * history and replay read across them, and expiry removes them all. */
static int g_zst;

static int count_zst(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)ftw;
    size_t n = strlen(path);
    g_zst += flag == FTW_F && n > 4 && strcmp(path + n - 4, ".zst") == 0;
    return 0;
}

static int segments_in(const char *sub)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", g_dir, sub);
    g_zst = 0;
    assert_int_equal(nftw(dir, count_zst, 16, FTW_PHYS), 0);
    return g_zst;
}

static tnt_engine *open_segments(void)
{
    char dir[400], path[420];
    snprintf(dir, sizeof dir, "%s/segments", g_dir);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/config.yml", dir);
    FILE *f = fopen(path, "w");
    fputs("engine:\n  archive_after: 30d\n  retention: 400d\n  archive_segment: 1KiB\n", f);
    fclose(f);
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = dir;
    o.config_path = path;
    tnt_engine *e = NULL;
    if (tnt_engine_open(&e, &o) != TNT_OK)
        fail_msg("open: %s", tnt_error_last());
    return e;
}

static void test_archive_segments(void **state)
{
    (void)state;
    const int64_t day = 86400000;
    tnt_engine *e = open_segments();
    ingest_world(e);
    tnt_history *h;
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_OK);
    char *before = NULL;
    tnt_history_json(&before, NULL, h);
    tnt_history_free(h);
    size_t archived = 0, expired = 0;
    int64_t later = 1714521600000; /* 2024-05-01: everything is older than 30 days */
    assert_int_equal(tnt_engine_archive(e, later, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 54);
    int segments = segments_in("segments");
    assert_true(segments > 4); /* one would hold them all */
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_OK);
    char *after = NULL;
    tnt_history_json(&after, NULL, h);
    assert_string_equal(before, after);
    tnt_history_free(h);
    tnt_free(before);
    tnt_free(after);
    tnt_engine_close(e);
    snap s1 = snapshot("segments");
    /* a replay reads them all and rebuilds the same state */
    e = open_segments();
    size_t n = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
    assert_int_equal(n, 54);
    tnt_engine_close(e);
    snap_equal(s1, snapshot("segments"));
    /* the next run finds nothing more; past the retention every segment goes */
    e = open_segments();
    assert_int_equal(tnt_engine_archive(e, later, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 0);
    assert_int_equal(segments_in("segments"), segments);
    assert_int_equal(tnt_engine_archive(e, later + 500 * day, &archived, &expired), TNT_OK);
    assert_int_equal(expired, 54);
    assert_int_equal(segments_in("segments"), 0);
    tnt_engine_close(e);
}

/* ---- one batch naming many identifiers ---- */

/* 300 events of 150 units in one document (one batch): each unit's state is
 * found again in the batch for its second event, whatever the number. */
static void test_many_units_in_one_batch(void **state)
{
    (void)state;
    tnt_engine *e = open_in("many", 0, 0);
    size_t cap = 300 * 200 + 16, n = 0;
    char *doc = malloc(cap);
    n += (size_t)snprintf(doc + n, cap - n, "[");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(doc + n, cap - n,
                              "%s{\"product_id\":\"(01)09506000134352(21)MANY%d\",\"event_type\":\"%s\",\"location\":\"" DC
                              "\",\"timestamp\":%d}",
                              i ? "," : "", i % 150, i < 150 ? "commission" : "receive", 1700000000 + i);
    n += (size_t)snprintf(doc + n, cap - n, "]");
    tnt_ingest_report *r;
    assert_int_equal(tnt_engine_ingest(&r, e, doc, n, 0), TNT_OK);
    size_t evs, acc, dup, rej;
    tnt_ingest_report_counts(r, &evs, &acc, &dup, &rej);
    assert_int_equal(acc, 300);
    tnt_ingest_report_free(r);
    free(doc);
    for (int i = 0; i < 150; i++)
        assert_int_equal(events_of(e, "(01)09506000134352(21)MANY", i), 2);
    char *j = track_json(e, "(01)09506000134352(21)MANY149");
    assert_non_null(strstr(j, "\"biz_step\":\"receiving\"")); /* the later event of the batch */
    free(j);
    tnt_engine_close(e);
}

/* ---- an event whose flat record would not fit in a store item ---- */

/* 12,000 readings of a type, a value and a unit: 340 KB as protobuf and
 * 1.5 times larger as a flat record (an absent field costs a byte there),
 * over a store item's 390 KB; it is stored as protobuf, and a replay stores
 * the same. */
static void test_sparse_event(void **state)
{
    (void)state;
    tnt_engine *e = open_in("sparse", 0, 0);
    size_t cap = 12000 * 60 + 1024, n = 0;
    char *doc = malloc(cap);
    n += (size_t)snprintf(doc + n, cap - n,
                          "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-03-01T10:00:00Z\",\"eventTimeZoneOffset\":"
                          "\"+00:00\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435.SPARSE\"],\"action\":\"OBSERVE\","
                          "\"sensorElementList\":[{\"sensorReport\":[");
    for (int i = 0; i < 12000; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s{\"type\":\"Temperature\",\"value\":%d,\"uom\":\"CEL\"}", i ? "," : "",
                              i % 40);
    n += (size_t)snprintf(doc + n, cap - n, "]}]}");
    ingest_str(e, doc, 1, 0, 0);
    free(doc);
    for (int round = 0; round < 2; round++) {
        tnt_history *h;
        assert_int_equal(tnt_engine_history(&h, e, "(01)09506000134352(21)SPARSE", NULL, 0), TNT_OK);
        assert_int_equal(tnt_history_count(h), 1);
        assert_int_equal(tnt_event_sensor_report_count(tnt_history_event(h, 0), 0), 12000);
        tnt_history_free(h);
        size_t replayed = 0;
        if (round == 0) {
            assert_int_equal(tnt_engine_replay(e, 0, &replayed), TNT_OK);
            assert_int_equal(replayed, 1);
        }
    }
    tnt_engine_close(e);
}

/* ---- a data directory of an earlier release ---- */

/* Does a dry-run verification of id find its stored history intact (and
 * its answer hold want, when given)? */
static void no_mismatch(tnt_engine *e, const char *id, const char *want)
{
    tnt_scan s;
    tnt_scan_init(&s, TNT_SCAN_VERSION);
    s.record = TNT_SCAN_DRY_RUN;
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, e, id, &s), TNT_OK);
    char *j = NULL;
    assert_int_equal(tnt_verdict_json(&j, NULL, v, TNT_VERDICT_JSON_CONSUMER), TNT_OK);
    if (strstr(j, "HISTORY_HASH_MISMATCH") || (want && !strstr(j, want)))
        fail_msg("%s: %s", id, j);
    tnt_free(j);
    tnt_verdict_free(v);
}

/* The unit of ingest_world: its four steps, intact. */
static void history_intact(tnt_engine *e, const char *id) { no_mismatch(e, id, "\"journey_steps\":4"); }

static size_t history_count(tnt_engine *e, const char *id)
{
    tnt_history *h;
    if (tnt_engine_history(&h, e, id, NULL, 0) != TNT_OK)
        fail_msg("history of %s: %s", id, tnt_error_last());
    size_t n = tnt_history_count(h);
    tnt_history_free(h);
    return n;
}

/* tests/data/store-1.0 was written by a release whose store kept events and
 * their digests in protobuf form (tests/data/store-1.0/gen.c): it reads,
 * verifies, archives, takes new events and replays with today's records. */
static void test_store_1_0(void **state)
{
    (void)state;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp -r '%s/store-1.0' '%s/old'", TNT_TEST_DATA, g_dir);
    assert_int_equal(system(cmd), 0);
    const int64_t day = 86400000;
    tnt_engine *e = open_in("old", 30 * day, 0);
    assert_int_equal(history_count(e, UNIT), 2);
    assert_int_equal(events_of(e, "(01)09506000134352(21)X", 7), 1);
    history_intact(e, UNIT);
    /* archived: the history entries keep the digests of the protobuf bodies */
    size_t archived = 0, expired = 0;
    assert_int_equal(tnt_engine_archive(e, 1714521600000, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 54);
    tnt_engine_close(e); /* a new engine verifies afresh (no view cached) */
    e = open_in("old", 30 * day, 0);
    assert_int_equal(history_count(e, UNIT), 2);
    history_intact(e, UNIT);
    /* a new event joins the old chain */
    ingest_report(e, "(01)09506000134352(21)X7", "sell", SHOP, "2024-06-01T10:00:00Z", NULL);
    assert_int_equal(history_count(e, "(01)09506000134352(21)X7"), 2);
    tnt_engine_close(e);
    /* a replay rewrites every record in today's layout */
    e = open_in("old", 30 * day, 0);
    size_t n = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
    assert_int_equal(n, 55);
    assert_int_equal(history_count(e, UNIT), 2);
    assert_int_equal(history_count(e, "(01)09506000134352(21)X7"), 2);
    history_intact(e, UNIT);
    tnt_engine_close(e);
}

/* ---- an archive changed behind the engine's back ---- */

typedef struct tamper {
    tnt_store_item items[64];
    uint8_t keys[64][600], values[64][1200];
    size_t n;
} tamper;

/* History entries that point into a segment, with one bit of their digest flipped. */
static int flip_digest(void *ud, const tnt_store_item *it)
{
    tamper *t = ud;
    if (t->n == 64 || it->sk_len < 2 || memcmp(it->sk, "h:", 2) != 0 || it->pk_len + it->sk_len > 600)
        return 0;
    tnt_v1_IndexEntry w = tnt_v1_IndexEntry_init_zero;
    pb_istream_t is = pb_istream_from_buffer(it->value, it->value_len);
    if (!pb_decode(&is, tnt_v1_IndexEntry_fields, &w) || !w.segment[0] || w.digest.size != 32)
        return 0;
    w.digest.bytes[0] ^= 1;
    pb_ostream_t os = pb_ostream_from_buffer(t->values[t->n], sizeof t->values[t->n]);
    assert_true(pb_encode(&os, tnt_v1_IndexEntry_fields, &w));
    memcpy(t->keys[t->n], it->pk, it->pk_len);
    memcpy(t->keys[t->n] + it->pk_len, it->sk, it->sk_len);
    t->items[t->n] = (tnt_store_item){t->keys[t->n], it->pk_len, t->keys[t->n] + it->pk_len, it->sk_len,
                                      t->values[t->n], os.bytes_written, TNT_STORE_ANY};
    t->n++;
    return 0;
}

/* Rewrite the items of a closed engine's store that fn collects (at least two). */
static void tamper_store(const char *sub, tnt_store_item_fn fn)
{
    char uri[500], err[256];
    snprintf(uri, sizeof uri, "file://%s/%s/state", g_dir, sub);
    const tnt_backend *b = tnt_backend_find("file");
    tnt_store *st;
    assert_int_equal(b->open_store(&st, uri, NULL, b->user_data, err, sizeof err), TNT_OK);
    static tamper t;
    t.n = 0;
    assert_int_equal(st->methods->scan(st, fn, &t), TNT_OK);
    assert_true(t.n >= 2);
    for (size_t i = 0; i < t.n; i += TNT_STORE_MAX_BATCH) {
        size_t left = 0, chunk = t.n - i < TNT_STORE_MAX_BATCH ? t.n - i : TNT_STORE_MAX_BATCH;
        assert_int_equal(st->methods->batch_write(st, t.items + i, chunk, &left), TNT_OK);
        assert_int_equal(left, 0);
    }
    st->methods->close(st);
}

static void test_archive_tampered(void **state)
{
    (void)state;
    const int64_t day = 86400000;
    tnt_engine *e = open_in("tampered", 30 * day, 0);
    ingest_world(e);
    size_t archived = 0, expired = 0;
    assert_int_equal(tnt_engine_archive(e, 1714521600000, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 54);
    tnt_history *h;
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_OK); /* read from the archive, verified */
    assert_int_equal(tnt_history_count(h), 2);
    tnt_history_free(h);
    tnt_engine_close(e);

    /* the archived bytes no longer match what the index recorded of them */
    tamper_store("tampered", flip_digest);

    e = open_in("tampered", 30 * day, 0);
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_E_CORRUPT);
    assert_non_null(strstr(tnt_error_last(), "its SHA-256 differs"));
    /* a query without identifiers reads the archived log records themselves: checked the same */
    tnt_query q;
    assert_int_equal(tnt_query_init(&q, TNT_QUERY_VERSION), TNT_OK);
    assert_int_equal(tnt_engine_query(&h, e, &q), TNT_E_CORRUPT);
    assert_non_null(strstr(tnt_error_last(), "its SHA-256 differs"));
    /* a replay indexes the archive again from its bytes */
    size_t n = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_OK);
    assert_int_equal(tnt_history_count(h), 2);
    tnt_history_free(h);
    assert_int_equal(tnt_engine_query(&h, e, &q), TNT_OK);
    assert_true(tnt_history_count(h) > 0);
    tnt_history_free(h);
    tnt_engine_close(e);
}

/* A history entry's value: an IndexEntry protobuf, or 0x00 'I' 0x01, a
 * varint length, that many bytes of IndexEntry, then the event's body. */
static bool entry_split(const void *value, size_t len, const uint8_t **pb, size_t *pb_len, const uint8_t **body,
                        size_t *body_len)
{
    const uint8_t *v = value;
    *body = NULL;
    *body_len = 0;
    if (len == 0 || v[0] != 0) {
        *pb = v, *pb_len = len;
        return true;
    }
    if (len < 4 || v[1] != 'I' || v[2] != 1)
        return false;
    size_t n = 0, at = 3;
    for (int shift = 0; at < len; shift += 7) {
        n |= (size_t)(v[at] & 0x7f) << shift;
        if (!(v[at++] & 0x80))
            break;
    }
    if (n >= len - at)
        return false;
    *pb = v + at, *pb_len = n;
    *body = v + at + n, *body_len = len - at - n;
    return true;
}

/* A history entry's IndexEntry (false if it does not decode) and the body it carries. */
static bool entry_read(const tnt_store_item *it, tnt_v1_IndexEntry *w, const uint8_t **pb, size_t *pb_len,
                       const uint8_t **body, size_t *body_len)
{
    assert_true(entry_split(it->value, it->value_len, pb, pb_len, body, body_len));
    *w = (tnt_v1_IndexEntry)tnt_v1_IndexEntry_init_zero;
    pb_istream_t is = pb_istream_from_buffer(*pb, *pb_len);
    return pb_decode(&is, tnt_v1_IndexEntry_fields, w);
}

/* History entries of events still in the store, rewritten: a segment named
 * and then emptied again (the last field wins, so the event is still read
 * from the store), or bytes that are no IndexEntry at all. */
static int g_entry_mode;

static int rewrite_entry(void *ud, const tnt_store_item *it)
{
    tamper *t = ud;
    if (t->n == 64 || it->sk_len < 2 || memcmp(it->sk, "h:", 2) != 0 || it->pk_len + it->sk_len > 600 ||
        it->value_len + 8 > sizeof t->values[0])
        return 0;
    const uint8_t *pb, *body;
    size_t pb_len, body_len;
    tnt_v1_IndexEntry w;
    if (!entry_read(it, &w, &pb, &pb_len, &body, &body_len) || w.segment[0])
        return 0;
    size_t n;
    if (g_entry_mode == 0) { /* segment "ab", then segment "" (a plain entry: the event read by its hash) */
        static const uint8_t tail[] = {0x12, 2, 'a', 'b', 0x12, 0};
        memcpy(t->values[t->n], pb, pb_len);
        memcpy(t->values[t->n] + pb_len, tail, sizeof tail);
        n = pb_len + sizeof tail;
    } else if (g_entry_mode == 2) { /* an entry with a body whose length field overruns the value */
        static const uint8_t bad[] = {0x00, 'I', 0x01, 0x40, 0x0a, 0x02, 'E', 'x'};
        memcpy(t->values[t->n], bad, sizeof bad);
        n = sizeof bad;
    } else if (g_entry_mode == 3) { /* an entry whose body is not an event record */
        if (!body)
            return 0;
        size_t head = (size_t)(body - (const uint8_t *)it->value);
        memcpy(t->values[t->n], it->value, it->value_len);
        t->values[t->n][head + 1] ^= 0x55; /* the flat record's header */
        n = it->value_len;
    } else { /* a string field whose length runs past the end */
        static const uint8_t bad[] = {0x0a, 0x7f, 'x'};
        memcpy(t->values[t->n], bad, sizeof bad);
        n = sizeof bad;
    }
    memcpy(t->keys[t->n], it->pk, it->pk_len);
    memcpy(t->keys[t->n] + it->pk_len, it->sk, it->sk_len);
    t->items[t->n] = (tnt_store_item){t->keys[t->n], it->pk_len, t->keys[t->n] + it->pk_len, it->sk_len,
                                      t->values[t->n], n, TNT_STORE_ANY};
    t->n++;
    return 0;
}

static void rewrite_entries(const char *sub, int mode)
{
    g_entry_mode = mode;
    tamper_store(sub, rewrite_entry);
}

static void test_history_entries(void **state)
{
    (void)state;
    tnt_engine *e = open_in("entries", 0, 0);
    ingest_world(e);
    tnt_history *h;
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_OK);
    size_t n = tnt_history_count(h);
    assert_true(n >= 2);
    tnt_history_free(h);
    tnt_engine_close(e);

    rewrite_entries("entries", 0);
    e = open_in("entries", 0, 0);
    assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_OK);
    assert_int_equal(tnt_history_count(h), n);
    tnt_history_free(h);
    tnt_engine_close(e);

    for (int mode = 1; mode <= 3; mode++) {
        char sub[32];
        snprintf(sub, sizeof sub, "entries%d", mode);
        e = open_in(sub, 0, 0);
        ingest_world(e);
        tnt_engine_close(e);
        rewrite_entries(sub, mode);
        e = open_in(sub, 0, 0);
        assert_int_equal(tnt_engine_history(&h, e, UNIT, NULL, 0), TNT_E_CORRUPT);
        assert_non_null(strstr(tnt_error_last(), "corrupt"));
        tnt_engine_close(e);
    }
}

/* History entries of events of one identifier carry the event's body: the
 * very bytes under e:<hash>, read back as the same events; archiving
 * rewrites them without it; a replay writes them again. */
typedef struct inline_scan {
    size_t with_body, plain, archived;
    tnt_store *st;
} inline_scan;

static int scan_inline(void *ud, const tnt_store_item *it)
{
    inline_scan *c = ud;
    if (it->sk_len != 42 || memcmp(it->sk, "h:", 2) != 0)
        return 0;
    const uint8_t *pb, *body;
    size_t pb_len, body_len;
    tnt_v1_IndexEntry w;
    assert_true(entry_read(it, &w, &pb, &pb_len, &body, &body_len));
    if (w.segment[0]) {
        assert_null(body); /* an archived entry carries no copy */
        c->archived++;
        return 0;
    }
    if (!body) {
        c->plain++;
        return 0;
    }
    c->with_body++;
    char ek[80] = "e:";
    for (int i = 0; i < 32; i++)
        sprintf(ek + 2 + 2 * i, "%02x", ((const uint8_t *)it->sk)[10 + i]);
    void *v = NULL;
    size_t len = 0;
    uint64_t version;
    assert_int_equal(c->st->methods->get(c->st, ek, 66, "e", 1, &v, &len, &version), TNT_OK);
    assert_int_equal(len, body_len);
    assert_memory_equal(v, body, len);
    assert_true(body_len <= 1536);
    tnt_free(v);
    return 0;
}

static inline_scan count_inline(const char *sub)
{
    char uri[500], err[256];
    snprintf(uri, sizeof uri, "file://%s/%s/state", g_dir, sub);
    const tnt_backend *b = tnt_backend_find("file");
    inline_scan c = {0, 0, 0, NULL};
    assert_int_equal(b->open_store(&c.st, uri, NULL, b->user_data, err, sizeof err), TNT_OK);
    assert_int_equal(c.st->methods->scan(c.st, scan_inline, &c), TNT_OK);
    c.st->methods->close(c.st);
    return c;
}

/* The history of id, every event as JSON, joined. */
static char *history_text(tnt_engine *e, const char *id, bool against_hash)
{
    tnt_history *h;
    assert_int_equal(tnt_engine_history(&h, e, id, NULL, 0), TNT_OK);
    size_t cap = 1 << 16, len = 0;
    char *all = malloc(cap);
    all[0] = '\0';
    for (size_t i = 0; i < tnt_history_count(h); i++) {
        char *js;
        size_t n;
        assert_int_equal(tnt_event_to_json(&js, &n, tnt_history_event(h, i), 0), TNT_OK);
        if (against_hash) { /* the same event read by its hash */
            const char *hid = tnt_event_get_string(tnt_history_event(h, i), TNT_FIELD_HASH_ID);
            tnt_event *byhash;
            assert_int_equal(tnt_engine_event(&byhash, e, hid), TNT_OK);
            char *js2;
            size_t n2;
            assert_int_equal(tnt_event_to_json(&js2, &n2, byhash, 0), TNT_OK);
            assert_string_equal(js, js2);
            tnt_free(js2);
            tnt_event_free(byhash);
        }
        assert_true(len + n + 2 < cap);
        memcpy(all + len, js, n);
        len += n;
        all[len++] = '\n';
        all[len] = '\0';
        tnt_free(js);
    }
    tnt_history_free(h);
    return all;
}

static void test_history_inline(void **state)
{
    (void)state;
    const int64_t day = 86400000;
    tnt_engine *e = open_in("inline", 30 * day, 0);
    ingest_world(e);
    char *unit = history_text(e, UNIT, true), *x7 = history_text(e, "(01)09506000134352(21)X7", true);
    tnt_engine_close(e);
    inline_scan c = count_inline("inline");
    assert_true(c.with_body >= 50); /* the X units' events, the unit's commissioning */
    assert_true(c.plain >= 2);      /* the packing: two identifiers, one entry each, no copy */
    assert_int_equal(c.archived, 0);

    /* archived: the same histories, from the archive, and no copy left in the store */
    e = open_in("inline", 30 * day, 0);
    size_t archived = 0, expired = 0;
    assert_int_equal(tnt_engine_archive(e, 1714521600000, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 54);
    char *unit2 = history_text(e, UNIT, false), *x72 = history_text(e, "(01)09506000134352(21)X7", false);
    assert_string_equal(unit, unit2);
    assert_string_equal(x7, x72);
    tnt_engine_close(e);
    c = count_inline("inline");
    assert_int_equal(c.with_body, 0);
    assert_int_equal(c.plain, 0);
    assert_true(c.archived >= 52);
    free(unit), free(unit2), free(x7), free(x72);
}

/* Archiving again: an event delivered again after its archiving (logged, a
 * duplicate) and a late event of the archived period go to new segments;
 * the events archived before keep their entries and digests, the chains
 * stay whole, and a replay rebuilds the same store. */
static void test_archive_again(void **state)
{
    (void)state;
    const int64_t day = 86400000, later = 1714521600000;
    const char *x7 = "(01)09506000134352(21)X7";
    tnt_engine *e = open_in("again", 30 * day, 0);
    ingest_world(e);
    size_t archived = 0, expired = 0;
    assert_int_equal(tnt_engine_archive(e, later, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 54);
    char *first = history_text(e, x7, false);
    /* X7's event again (ingest_world's 8th unit: shipped from the DC), and a late one */
    char *again = report(x7, "ship", DC, "2024-03-08T17:00:00Z", NULL);
    ingest_str(e, again, 0, 1, 0);
    free(again);
    ingest_report(e, x7, "receive", SHOP, "2024-03-09T10:00:00Z", NULL);
    assert_int_equal(tnt_engine_archive(e, later, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 1); /* the late event; the logged duplicate is no new event */
    char *both = history_text(e, x7, true);
    assert_int_equal(strncmp(both, first, strlen(first)), 0); /* the archived event first, as it was */
    assert_int_equal(history_count(e, x7), 2);
    no_mismatch(e, x7, NULL);
    history_intact(e, UNIT);
    /* nothing left to archive */
    assert_int_equal(tnt_engine_archive(e, later, &archived, &expired), TNT_OK);
    assert_int_equal(archived, 0);
    /* a query without identifiers reads the archived records, the duplicate's too, and checks each */
    tnt_query q;
    assert_int_equal(tnt_query_init(&q, TNT_QUERY_VERSION), TNT_OK);
    q.limit = 1000;
    tnt_history *all;
    assert_int_equal(tnt_engine_query(&all, e, &q), TNT_OK);
    assert_true(tnt_history_count(all) >= 55);
    tnt_history_free(all);
    tnt_engine_close(e);
    snap before = snapshot("again");
    e = open_in("again", 30 * day, 0);
    size_t n = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
    char *replayed = history_text(e, x7, true);
    assert_string_equal(both, replayed);
    no_mismatch(e, x7, NULL);
    history_intact(e, UNIT);
    tnt_engine_close(e);
    snap_equal(before, snapshot("again"));
    free(first), free(both), free(replayed);
}

/* Archived records that do not read, in a frame that decompresses: the
 * store's damage (TNT_E_CORRUPT), not a caller's bad input. */
static void test_archive_damaged_record(void **state)
{
    (void)state;
    tnt_engine *e = open_in("badseg", 0, 0);
    /* record 0: six bytes that are no log record; record 1: a log record
     * whose event is six bytes that are no event */
    uint8_t plain[2 * 12 + 6 + 8] = {6, 0, 0, 0};
    memset(plain + 12, 0xFF, 6);
    uint8_t *r1 = plain + 18;
    r1[0] = 8;
    r1[12] = (uint8_t)(tnt_v1_LogRecord_event_tag << 3 | 2);
    r1[13] = 6;
    memset(r1 + 14, 0xFF, 6);
    uint8_t frame[256];
    size_t flen = ZSTD_compress(frame, sizeof frame, plain, sizeof plain, 3);
    assert_false(ZSTD_isError(flen));
    assert_int_equal(e->archive->methods->put(e->archive, "test/damaged.seg", frame, flen), TNT_OK);
    tnt_v1_IndexEntry w = tnt_v1_IndexEntry_init_zero;
    strcpy(w.segment, "test/damaged.seg");
    w.frame_offset = 0;
    w.frame_len = (uint32_t)flen;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    static const char *const why[] = {"malformed log record", "does not read", "no record 2"};
    for (uint32_t item = 0; item < 3; item++) { /* record 2: one the frame does not have */
        w.item = item;
        tnt_event *ev = (tnt_event *)&a; /* set to NULL on failure */
        assert_int_equal(tnt__archive_fetch(e, &w, &a, &ev), TNT_E_CORRUPT);
        if (!strstr(tnt_error_last(), why[item]))
            fail_msg("record %u: %s", item, tnt_error_last());
        if (item < 2)
            assert_null(ev);
    }
    tnt__arena_destroy(&a);
    tnt_engine_close(e);
}

/* An archive segment damaged on disk: every read of it is an error (the
 * frames carry checksums), never a crash or events silently changed. */
static void test_archive_segment_damaged(void **state)
{
    (void)state;
    tnt_engine *e = open_in("segdamage", 1, 0);
    size_t cap = 1200 * 300, n = 0;
    char *doc = malloc(cap);
    n += (size_t)snprintf(doc, cap, "[");
    for (int i = 0; i < 1200; i++) /* over 256 KB of records: several frames */
        n += (size_t)snprintf(doc + n, cap - n,
                              "%s{\"product_id\":\"(01)09506000134352(21)SD%d\",\"event_type\":\"receive\",\"location\":\"" DC
                              "\",\"timestamp\":%d,\"condition\":{\"temperature\":%d}}",
                              i ? "," : "", i, 1600000000 + i, i % 30);
    snprintf(doc + n, cap - n, "]");
    ingest_str(e, doc, 1200, 0, 0);
    free(doc);
    size_t archived = 0;
    assert_int_equal(tnt_engine_archive(e, 0, &archived, NULL), TNT_OK);
    assert_int_equal(archived, 1200);
    tnt_engine_close(e);
    char cmd[700], seg[600] = "";
    snprintf(cmd, sizeof cmd, "find '%s/segdamage/archive/log' -name '*.zst' | head -1", g_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(fgets(seg, sizeof seg, p));
    pclose(p);
    seg[strcspn(seg, "\n")] = '\0';
    FILE *f = fopen(seg, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    for (long at = size / 3; at < size; at += size / 3) { /* a byte inside the frames */
        fseek(f, at, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(c ^ 0x10, f);
    }
    fclose(f);
    e = open_in("segdamage", 1, 0);
    size_t replayed = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &replayed), TNT_E_CORRUPT);
    tnt_engine_close(e);
}

/* A full replay that did not end (a kill) leaves the store holding part of
 * the state; it says so, and the next open replays again. Made here by hand:
 * the mark, and a unit's state gone. */
static void test_replay_interrupted(void **state)
{
    (void)state;
    tnt_engine *e = open_in("replaykill", 0, 0);
    ingest_report(e, "(01)09506000134352(21)RK1", "receive", DC, "2024-03-02T10:00:00Z", NULL);
    ingest_report(e, "(01)09506000134352(21)RK2", "receive", DC, "2024-03-02T11:00:00Z", NULL);
    tnt_engine_close(e);
    char uri[600];
    snprintf(uri, sizeof uri, "file://%s/replaykill/state", g_dir);
    const tnt_backend *b = tnt_backend_find("file");
    tnt_store *s;
    char err[256];
    assert_int_equal(b->open_store(&s, uri, NULL, b->user_data, err, sizeof err), TNT_OK);
    const char *pk = "p:https://id.gs1.org/01/09506000134352/21/RK2";
    tnt_store_item items[2] = {{"_meta", 5, "replaying", 9, "1", 1, TNT_STORE_ANY},
                               {pk, strlen(pk), "s", 1, NULL, 0, TNT_STORE_ANY}};
    assert_int_equal(s->methods->transact(s, items, 2), TNT_OK);
    s->methods->close(s);
    e = open_in("replaykill", 0, 0);
    assert_int_equal(events_of(e, "(01)09506000134352(21)RK", 2), 1);
    assert_int_equal(events_of(e, "(01)09506000134352(21)RK", 1), 1);
    tnt_engine_close(e);
    assert_int_equal(b->open_store(&s, uri, NULL, b->user_data, err, sizeof err), TNT_OK);
    assert_int_equal(s->methods->get(s, "_meta", 5, "replaying", 9, NULL, NULL, NULL), TNT_E_NOTFOUND);
    s->methods->close(s);
}

/* Events past the retention are gone for good: not back after a replay
 * (from the start or from a time), nor after the open that follows. */
static size_t history_left(tnt_engine *e, const char *id) /* 0 when none is left, or it is unknown */
{
    tnt_history *h = NULL;
    tnt_status st = tnt_engine_history(&h, e, id, NULL, 0);
    size_t n = st == TNT_OK ? tnt_history_count(h) : 0;
    tnt_history_free(h);
    return n;
}

static void test_expired_stay_gone(void **state)
{
    (void)state;
    tnt_engine *e = open_in("expiredgone", 1, 1);
    ingest_report(e, "(01)09506000134352(21)EXP1", "receive", DC, "2020-01-01T10:00:00Z", NULL);
    ingest_report(e, "(01)09506000134352(21)EXP1", "store", DC, "2020-01-02T10:00:00Z", NULL);
    size_t archived = 0, expired = 0;
    assert_int_equal(tnt_engine_archive(e, 0, &archived, &expired), TNT_OK);
    assert_int_equal(expired, 2);
    assert_int_equal(history_left(e, "(01)09506000134352(21)EXP1"), 0);
    assert_int_equal(tnt_engine_replay(e, 1500000000000LL, NULL), TNT_OK); /* from a time before them */
    assert_int_equal(history_left(e, "(01)09506000134352(21)EXP1"), 0);
    assert_int_equal(tnt_engine_replay(e, 0, NULL), TNT_OK);
    assert_int_equal(history_left(e, "(01)09506000134352(21)EXP1"), 0);
    tnt_engine_close(e);
    e = open_in("expiredgone", 1, 1);
    assert_int_equal(history_left(e, "(01)09506000134352(21)EXP1"), 0);
    tnt_engine_close(e);
}

/* ---- many threads at once ---- */

static tnt_engine *g_engine;

static void *ingester(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 100; i++) {
        char buf[512], t[40];
        /* its own events, and the same events of its neighbour: duplicates */
        int who = i % 2 ? id : (id + 1) % 8;
        snprintf(t, sizeof t, "2024-06-01T%02d:%02d:00Z", who, i / 2);
        snprintf(buf, sizeof buf,
                 "{\"product_id\":\"(01)09506000134352(21)T%d\",\"event_type\":\"receive\",\"location\":\"" DC
                 "\",\"timestamp\":\"%s\"}",
                 who, t);
        tnt_ingest_report *r;
        if (tnt_engine_ingest(&r, g_engine, buf, strlen(buf), 0) != TNT_OK)
            return (void *)1;
        tnt_ingest_report_free(r);
        tnt_track *tr;
        if (tnt_engine_track(&tr, g_engine, "(01)09506000134352(21)T0") == TNT_OK)
            tnt_track_free(tr);
    }
    return NULL;
}

static void test_concurrency(void **state)
{
    (void)state;
    g_engine = open_in("threads", 0, 0);
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, ingester, (void *)(intptr_t)i);
    for (int i = 0; i < 8; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        assert_null(rc);
    }
    /* each product T<k> got exactly the distinct events of thread k: 25 odd + 25 even minutes */
    for (int k = 0; k < 8; k++)
        assert_int_equal(events_of(g_engine, "(01)09506000134352(21)T", k), 50);
    char *stats = NULL;
    tnt_engine_stats(&stats, g_engine);
    /* 800 sends of 400 distinct events: each stored once, whoever came first */
    assert_non_null(strstr(stats, "\"events\":800,\"accepted\":400,\"duplicates\":400"));
    tnt_free(stats);
    tnt_engine_close(g_engine);
}

/* ---- configuration errors ---- */

static void test_config_errors(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/config.yml", g_dir);
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.config_path = path;
    tnt_engine *e;

    FILE *f = fopen(path, "w");
    fprintf(f, "database:\n  event_store: nosuch://host/x\n");
    fclose(f);
    assert_int_equal(tnt_engine_open(&e, &o), TNT_E_UNSUPPORTED);
    assert_non_null(strstr(tnt_error_last(), "nosuch"));
    assert_non_null(strstr(tnt_error_last(), "database.event_store"));

    f = fopen(path, "w");
    fprintf(f, "database:\n  event_stor: file:///tmp/x\n");
    fclose(f);
    assert_int_equal(tnt_engine_open(&e, &o), TNT_E_INVALID);
    assert_non_null(strstr(tnt_error_last(), "event_stor"));
    assert_non_null(strstr(tnt_error_last(), ":2:"));

    f = fopen(path, "w");
    fprintf(f, "database: [unclosed\n");
    fclose(f);
    assert_int_equal(tnt_engine_open(&e, &o), TNT_E_INVALID);

    /* durations and settings are what they say, or an error naming them */
    static const char *const wrong[][2] = {{"engine:\n  archive_after: nan\n", "archive_after"},
                                          {"engine:\n  retention: 1e30y\n", "retention"},
                                          {"engine:\n  archive_after: 0\n", "archive_after"},
                                          {"settings:\n  segment_bytes: 64M\n", "segment_bytes"},
                                          {"engine:\n  archive_segment: 64M\n", "archive_segment"},
                                          {"engine:\n  archive_segment: 5GiB\n", "archive_segment"},
                                          {"engine:\n  archive_segment: 512\n", "archive_segment"}};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        f = fopen(path, "w");
        fputs(wrong[i][0], f);
        fclose(f);
        assert_int_equal(tnt_engine_open(&e, &o), TNT_E_INVALID);
        if (!strstr(tnt_error_last(), wrong[i][1]) || !strstr(tnt_error_last(), ":2:"))
            fail_msg("%s: %s", wrong[i][0], tnt_error_last());
    }

    o.config_path = "/nonexistent/config.yml";
    assert_int_equal(tnt_engine_open(&e, &o), TNT_E_IO);

    /* a config with the other sections of the API server is fine */
    f = fopen(path, "w");
    fprintf(f, "server:\n  listen: :8080\ndatabase:\n  event_store: file://%s/cfg/log\n  real_time_store: file://%s/cfg/state\n"
               "  cold_storage: file://%s/cfg/archive\nengine:\n  partitions: 2\n  archive_after: 30d\n",
            g_dir, g_dir, g_dir);
    fclose(f);
    o.config_path = path;
    assert_int_equal(tnt_engine_open(&e, &o), TNT_OK);
    char *stats = NULL;
    tnt_engine_stats(&stats, e);
    assert_non_null(strstr(stats, "\"partitions\":2"));
    tnt_free(stats);
    tnt_engine_close(e);
}

/* ---- events the store's keys and the reader's memory must not trip over ---- */

/* Many aggregations in one document: each child is in its own parent. The
 * reader reuses an event's memory for the next one, and the events of a
 * document are applied together after being read. */
static void test_aggregations_in_one_document(void **state)
{
    (void)state;
    tnt_engine *e = open_in("aggs", 0, 0);
    size_t cap = 400 * 400, n = 0;
    char *doc = malloc(cap);
    n += (size_t)snprintf(doc, cap, EV_DOC_HEAD);
    for (int i = 0; i < 400; i++)
        n += (size_t)snprintf(doc + n, cap - n,
                              "%s{\"type\":\"AggregationEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\","
                              "\"eventTimeZoneOffset\":\"+00:00\",\"parentID\":\"urn:epc:id:sscc:9506000.000000%04d\","
                              "\"childEPCs\":[\"urn:epc:id:sgtin:9506000.013435.AG%d\"],\"action\":\"ADD\","
                              "\"bizStep\":\"packing\"}",
                              i ? "," : "", i, i);
    snprintf(doc + n, cap - n, "]}}");
    ingest_str(e, doc, 400, 0, 0);
    free(doc);
    for (int i = 0; i < 400; i += 57) {
        char id[64], want[64];
        snprintf(id, sizeof id, "urn:epc:id:sgtin:9506000.013435.AG%d", i);
        tnt_track *t;
        assert_int_equal(tnt_engine_track(&t, e, id), TNT_OK);
        /* urn:epc:id:sscc:9506000.000000NNNN is (00)0 9506000 00000NNNN and its check digit */
        snprintf(want, sizeof want, "https://id.gs1.org/00/0950600000000%04d", i);
        const char *parent = tnt_track_get(t, TNT_TRACK_PARENT);
        assert_non_null(parent);
        if (strncmp(parent, want, strlen(want)) != 0 || strlen(parent) != strlen(want) + 1)
            fail_msg("AG%d is in %s, not in %s?", i, parent, want);
        tnt_track_free(t);
    }
    tnt_engine_close(e);
}

/* One transformation of 4,000 inputs into 4,000 outputs, half of them the
 * same identifiers: each identifier is counted once (one event), and the
 * event costs linear time and memory in its size. */
static void test_many_epcs(void **state)
{
    (void)state;
    tnt_engine *e = open_in("epcs", 0, 0);
    size_t cap = 8000 * 64 + 1024, n = 0;
    char *doc = malloc(cap);
    n += (size_t)snprintf(doc, cap,
                          EV_DOC_HEAD "{\"type\":\"TransformationEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\","
                                      "\"eventTimeZoneOffset\":\"+00:00\",\"bizStep\":\"repackaging\",\"inputEPCList\":[");
    for (int i = 0; i < 4000; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s\"urn:epc:id:sgtin:9506000.013435.M%d\"", i ? "," : "", i);
    n += (size_t)snprintf(doc + n, cap - n, "],\"outputEPCList\":[");
    for (int i = 2000; i < 6000; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s\"urn:epc:id:sgtin:9506000.013435.M%d\"", i > 2000 ? "," : "", i);
    snprintf(doc + n, cap - n, "]}]}}");
    ingest_str(e, doc, 1, 0, 0);
    free(doc);
    for (int i = 0; i < 6000; i += 499)
        assert_int_equal(events_of(e, "urn:epc:id:sgtin:9506000.013435.M", i), 1);
    assert_int_equal(events_of(e, "urn:epc:id:sgtin:9506000.013435.M", 5999), 1);
    tnt_engine_close(e);
}

/* Identifiers and eventIDs longer than the store keys: rejected at ingest
 * with a reason, never logged, and the engine opens again. */
static void test_long_ids(void **state)
{
    (void)state;
    tnt_engine *e = open_in("longids", 0, 0);
    char long_id[400], long_epc[520];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    memcpy(long_id, "urn:uuid:", 9);
    snprintf(long_epc, sizeof long_epc, "urn:example:%0470d", 7);
    size_t cap = 4096, n = 0;
    char *doc = malloc(cap);
    n += (size_t)snprintf(doc, cap, EV_DOC_HEAD);
    n += (size_t)snprintf(doc + n, cap - n,
                          "{\"type\":\"ObjectEvent\",\"eventID\":\"%s\",\"eventTime\":\"2024-01-01T10:00:00Z\","
                          "\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\",\"epcList\":["
                          "\"urn:epc:id:sgtin:9506000.013435.LONG1\"]},",
                          long_id);
    n += (size_t)snprintf(doc + n, cap - n,
                          "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":"
                          "\"+00:00\",\"action\":\"OBSERVE\",\"epcList\":[\"%s\"]},",
                          long_epc);
    snprintf(doc + n, cap - n,
             "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
             "\"action\":\"OBSERVE\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435.LONG2\"]}]}}");
    tnt_ingest_report *r = NULL;
    assert_int_equal(tnt_engine_ingest(&r, e, doc, strlen(doc), 0), TNT_OK);
    free(doc);
    size_t evs, acc, dup, rej;
    tnt_ingest_report_counts(r, &evs, &acc, &dup, &rej);
    assert_int_equal(acc, 1);
    assert_int_equal(rej, 2);
    for (size_t i = 0; i < 2; i++) {
        int status;
        const char *hash = NULL, *code, *path, *msg;
        assert_int_equal(tnt_ingest_report_event(&status, &hash, NULL, r, i), TNT_OK);
        assert_int_equal(status, TNT_INGEST_REJECTED);
        assert_non_null(hash);
        assert_int_equal(tnt_ingest_report_error(&code, &path, &msg, r, i, 0), TNT_OK);
        assert_string_equal(code, "ID_TOO_LONG");
    }
    tnt_ingest_report_free(r);
    tnt_engine_close(e);
    e = open_in("longids", 0, 0); /* nothing in the log that the store cannot hold */
    assert_int_equal(events_of(e, "urn:epc:id:sgtin:9506000.013435.LONG", 2), 1);
    tnt_track *t;
    assert_int_equal(tnt_engine_track(&t, e, "urn:epc:id:sgtin:9506000.013435.LONG1"), TNT_E_NOTFOUND);
    size_t replayed = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &replayed), TNT_OK);
    assert_int_equal(replayed, 1);
    tnt_engine_close(e);
    /* a misused call leaves no report behind */
    r = (tnt_ingest_report *)&r;
    assert_int_equal(tnt_engine_ingest(&r, NULL, "[]", 2, 0), TNT_E_MISUSE);
    assert_null(r);
}

/* A state record that cannot be read: the error, not a crash; and the
 * engine applies nothing more until it can apply what the log holds. */
static void test_unreadable_state(void **state)
{
    (void)state;
    tnt_engine *e = open_in("unreadable", 0, 0);
    ingest_str(e,
               EV_DOC_HEAD "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T09:00:00Z\",\"eventTimeZoneOffset\":"
                           "\"+00:00\",\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"epcList\":["
                           "\"https://id.gs1.org/01/09506000134352/21/C9\"]}]}}",
               1, 0, 0);
    tnt_engine_close(e);
    char uri[600];
    snprintf(uri, sizeof uri, "file://%s/unreadable/state", g_dir);
    const tnt_backend *b = tnt_backend_find("file");
    assert_non_null(b);
    tnt_store *s;
    char err[256];
    assert_int_equal(b->open_store(&s, uri, NULL, b->user_data, err, sizeof err), TNT_OK);
    const char *pk = "p:https://id.gs1.org/01/09506000134352/21/C9";
    tnt_store_item it;
    memset(&it, 0, sizeof it);
    it.pk = pk;
    it.pk_len = strlen(pk);
    it.sk = "s";
    it.sk_len = 1;
    it.value = "\x00S\x02\x01\x02\x03";
    it.value_len = 6;
    it.version = TNT_STORE_ANY;
    uint64_t ver;
    assert_int_equal(s->methods->put(s, &it, &ver), TNT_OK);
    s->methods->close(s);
    e = open_in("unreadable", 0, 0);
    const char *add = EV_DOC_HEAD "{\"type\":\"AggregationEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\","
                                  "\"eventTimeZoneOffset\":\"+00:00\",\"parentID\":\"urn:epc:id:sscc:9506000.0000000001\","
                                  "\"childEPCs\":[\"https://id.gs1.org/01/09506000134352/21/C9\"],\"action\":\"ADD\","
                                  "\"bizStep\":\"packing\"}]}}";
    tnt_ingest_report *r = NULL;
    assert_int_not_equal(tnt_engine_ingest(&r, e, add, strlen(add), 0), TNT_OK);
    tnt_ingest_report_free(r);
    /* the next write tries to apply what the log holds first, fails the same way, and says why */
    char *other = report("(01)09506000134352(21)OTHER", "receive", DC, "2024-03-02T10:00:00Z", NULL);
    r = NULL;
    assert_int_not_equal(tnt_engine_ingest(&r, e, other, strlen(other), 0), TNT_OK);
    assert_non_null(strstr(tnt_error_last(), "state store failed"));
    tnt_ingest_report_free(r);
    free(other);
    tnt_track *t;
    assert_int_equal(tnt_engine_track(&t, e, "(01)09506000134352(21)OTHER"), TNT_E_NOTFOUND);
    /* a full replay rebuilds the state without the damaged record, and writes work again */
    size_t replayed = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &replayed), TNT_OK);
    assert_int_equal(replayed, 2);
    ingest_report(e, "(01)09506000134352(21)OTHER", "receive", DC, "2024-03-02T10:00:00Z", NULL);
    assert_int_equal(tnt_engine_track(&t, e, "https://id.gs1.org/01/09506000134352/21/C9"), TNT_OK);
    assert_non_null(tnt_track_get(t, TNT_TRACK_PARENT));
    tnt_track_free(t);
    tnt_engine_close(e);
}

/* A DELETE without childEPCs takes every child out of the parent; a child
 * packed elsewhere since stays there. Once in one document with its ADD,
 * once against what an earlier document stored. */
#define AGG(time, parent, action, kids)                                                                                \
    "{\"type\":\"AggregationEvent\",\"eventTime\":\"" time "\",\"eventTimeZoneOffset\":\"+00:00\",\"parentID\":"       \
    "\"urn:epc:id:sscc:9506000." parent "\",\"childEPCs\":[" kids "],\"action\":\"" action "\"}"
#define KID(n) "\"urn:epc:id:sgtin:9506000.013435.DA" n "\""

static const char *parent_of(tnt_engine *e, const char *id, char *buf, size_t cap)
{
    tnt_track *t;
    assert_int_equal(tnt_engine_track(&t, e, id), TNT_OK);
    const char *p = tnt_track_get(t, TNT_TRACK_PARENT);
    snprintf(buf, cap, "%s", p ? p : "");
    tnt_track_free(t);
    return buf;
}

static void test_disaggregate_all(void **state)
{
    (void)state;
    tnt_engine *e = open_in("disagg", 0, 0);
    char buf[128];
    ingest_str(e, EV_DOC_HEAD AGG("2024-01-01T10:00:00Z", "0000000001", "ADD", KID("1") "," KID("2") "," KID("3")) "]}}",
               1, 0, 0);
    ingest_str(e, EV_DOC_HEAD AGG("2024-01-01T11:00:00Z", "0000000002", "ADD", KID("3")) "]}}", 1, 0, 0);
    assert_true(*parent_of(e, "urn:epc:id:sgtin:9506000.013435.DA1", buf, sizeof buf));
    ingest_str(e, EV_DOC_HEAD AGG("2024-01-01T12:00:00Z", "0000000001", "DELETE", ) "]}}", 1, 0, 0);
    assert_string_equal(parent_of(e, "urn:epc:id:sgtin:9506000.013435.DA1", buf, sizeof buf), "");
    assert_string_equal(parent_of(e, "urn:epc:id:sgtin:9506000.013435.DA2", buf, sizeof buf), "");
    assert_non_null(strstr(parent_of(e, "urn:epc:id:sgtin:9506000.013435.DA3", buf, sizeof buf), "/00/09506000000000002"));
    /* in one document: packed, then the whole parent emptied */
    ingest_str(e,
               EV_DOC_HEAD AGG("2024-01-02T10:00:00Z", "0000000004", "ADD", KID("4") "," KID("5")) "," AGG(
                   "2024-01-02T11:00:00Z", "0000000004", "DELETE", ) "]}}",
               2, 0, 0);
    assert_string_equal(parent_of(e, "urn:epc:id:sgtin:9506000.013435.DA4", buf, sizeof buf), "");
    assert_string_equal(parent_of(e, "urn:epc:id:sgtin:9506000.013435.DA5", buf, sizeof buf), "");
    /* unpacked at noon, the packing at ten reported after it: not in the case */
    ingest_str(e, EV_DOC_HEAD AGG("2024-01-03T12:00:00Z", "0000000005", "DELETE", KID("6")) "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD AGG("2024-01-03T10:00:00Z", "0000000005", "ADD", KID("6")) "]}}", 1, 0, 0);
    assert_string_equal(parent_of(e, "urn:epc:id:sgtin:9506000.013435.DA6", buf, sizeof buf), "");
    tnt_engine_close(e);
}

/* Events at the same millisecond that disagree: the state is the same in
 * whichever order they arrive (replay applies partitions in any order). */
#define AT_NOON(unit, loc)                                                                                             \
    "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-02-01T12:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","            \
    "\"action\":\"OBSERVE\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435." unit "\"],\"readPoint\":{\"id\":"        \
    "\"urn:epc:id:sgln:9506000.00001.0\"},\"bizLocation\":{\"id\":\"urn:epc:id:sgln:9506000." loc ".0\"}}"
#define PACK_NOON(unit, parent, action)                                                                                \
    "{\"type\":\"AggregationEvent\",\"eventTime\":\"2024-02-01T12:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","       \
    "\"parentID\":\"urn:epc:id:sscc:9506000." parent "\",\"childEPCs\":[\"urn:epc:id:sgtin:9506000.013435." unit     \
    "\"],\"action\":\"" action "\"}"

#define LOT_AT(unit, hour, lot)                                                                                        \
    "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-02-01T" hour ":00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","      \
    "\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435." unit "\"],"      \
    "\"ilmd\":{\"cbvmda:lotNumber\":\"" lot "\"}}"

/* The lot the state of a unit holds. */
static const char *lot_of(tnt_engine *e, const char *unit, char *buf, size_t cap)
{
    char epc[96];
    snprintf(epc, sizeof epc, "urn:epc:id:sgtin:9506000.013435.%s", unit);
    tnt_track *t;
    assert_int_equal(tnt_engine_track(&t, e, epc), TNT_OK);
    static tnt_v1_ProductState st;
    assert_int_equal(tnt__state_get(e, tnt_track_get(t, TNT_TRACK_ID), &st), TNT_OK);
    tnt_track_free(t);
    snprintf(buf, cap, "%s", st.lot);
    return buf;
}

#define OBSERVE_AT(unit, hour)                                                                                         \
    "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-02-01T" hour ":00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","      \
    "\"action\":\"OBSERVE\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435." unit "\"]}"

/* Rewrite a unit's state record in layout 2, as an earlier version wrote
 * it: the same without the two times after the first 8 numbers. */
static void as_layout2(tnt_engine *e, const char *unit)
{
    char epc[96];
    snprintf(epc, sizeof epc, "urn:epc:id:sgtin:9506000.013435.%s", unit);
    tnt_track *t;
    assert_int_equal(tnt_engine_track(&t, e, epc), TNT_OK);
    tnt__key k;
    tnt__key_state(&k, tnt_track_get(t, TNT_TRACK_ID));
    tnt_track_free(t);
    void *v = NULL;
    size_t len = 0;
    assert_int_equal(tnt__store_get(e, &k, &v, &len), TNT_OK);
    uint8_t *r = v;
    assert_true(len > 3 + 80 && r[2] == 0x03);
    r[2] = 0x02;
    memmove(r + 3 + 64, r + 3 + 80, len - 3 - 80);
    tnt_store_item it = {k.pk, k.pk_len, k.sk, k.sk_len, r, len - 16, TNT_STORE_ANY};
    assert_int_equal(tnt__store_write(e, &it, 1), TNT_OK);
    tnt_free(v);
}

static void test_same_time_any_order(void **state)
{
    (void)state;
    tnt_engine *e = open_in("sametime", 0, 0);
    char a[256], b[256];
    ingest_str(e, EV_DOC_HEAD AT_NOON("ST1", "00002") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD AT_NOON("ST1", "00003") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD AT_NOON("ST2", "00003") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD AT_NOON("ST2", "00002") "]}}", 1, 0, 0);
    tnt_track *t;
    assert_int_equal(tnt_engine_track(&t, e, "urn:epc:id:sgtin:9506000.013435.ST1"), TNT_OK);
    snprintf(a, sizeof a, "%s", tnt_track_get(t, TNT_TRACK_BIZ_LOCATION));
    tnt_track_free(t);
    assert_int_equal(tnt_engine_track(&t, e, "urn:epc:id:sgtin:9506000.013435.ST2"), TNT_OK);
    snprintf(b, sizeof b, "%s", tnt_track_get(t, TNT_TRACK_BIZ_LOCATION));
    tnt_track_free(t);
    assert_string_equal(a, b);
    /* packed into two cases at once, in either order: the same case */
    ingest_str(e, EV_DOC_HEAD PACK_NOON("ST3", "0000000011", "ADD") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD PACK_NOON("ST3", "0000000012", "ADD") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD PACK_NOON("ST4", "0000000012", "ADD") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD PACK_NOON("ST4", "0000000011", "ADD") "]}}", 1, 0, 0);
    assert_string_equal(parent_of(e, "urn:epc:id:sgtin:9506000.013435.ST3", a, sizeof a),
                        parent_of(e, "urn:epc:id:sgtin:9506000.013435.ST4", b, sizeof b));
    /* packed and unpacked at once, in either order: not in the case */
    ingest_str(e, EV_DOC_HEAD PACK_NOON("ST5", "0000000013", "ADD") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD PACK_NOON("ST5", "0000000013", "DELETE") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD PACK_NOON("ST6", "0000000013", "DELETE") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD PACK_NOON("ST6", "0000000013", "ADD") "]}}", 1, 0, 0);
    assert_string_equal(parent_of(e, "urn:epc:id:sgtin:9506000.013435.ST5", a, sizeof a), "");
    assert_string_equal(parent_of(e, "urn:epc:id:sgtin:9506000.013435.ST6", b, sizeof b), "");
    /* two lots at once, in either order: the same lot */
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST7", "12", "LA") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST7", "12", "LB") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST8", "12", "LB") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST8", "12", "LA") "]}}", 1, 0, 0);
    assert_string_equal(lot_of(e, "ST7", a, sizeof a), "LA");
    assert_string_equal(lot_of(e, "ST8", b, sizeof b), "LA");
    /* first seen without a lot: the earliest event that names one, whenever it arrives */
    ingest_str(e, EV_DOC_HEAD AT_NOON("ST9", "00002") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST9", "14", "LC") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST9", "13", "LD") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD AT_NOON("ST10", "00002") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST10", "13", "LD") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST10", "14", "LC") "]}}", 1, 0, 0);
    assert_string_equal(lot_of(e, "ST9", a, sizeof a), "LD");
    assert_string_equal(lot_of(e, "ST10", b, sizeof b), "LD");
    /* a state written in layout 2 (no time for its lot: its first event's),
     * then an earlier event without a lot, then one between with a lot */
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST11", "12", "LA") "]}}", 1, 0, 0);
    as_layout2(e, "ST11");
    ingest_str(e, EV_DOC_HEAD OBSERVE_AT("ST11", "10") "]}}", 1, 0, 0);
    ingest_str(e, EV_DOC_HEAD LOT_AT("ST11", "11", "LB") "]}}", 1, 0, 0);
    assert_string_equal(lot_of(e, "ST11", a, sizeof a), "LB");
    tnt_engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_and_duplicates),
        cmocka_unit_test(test_track_through_containers),
        cmocka_unit_test(test_history_pages),
        cmocka_unit_test(test_master_data),
        cmocka_unit_test(test_master_changed_while_read),
        cmocka_unit_test(test_replay_equal),
        cmocka_unit_test(test_event_ids),
        cmocka_unit_test(test_event_ids_replayed),
        cmocka_unit_test(test_ingest_stream),
        cmocka_unit_test(test_archive),
        cmocka_unit_test(test_archive_segments),
        cmocka_unit_test(test_archive_tampered),
        cmocka_unit_test(test_history_entries),
        cmocka_unit_test(test_history_inline),
        cmocka_unit_test(test_archive_again),
        cmocka_unit_test(test_archive_damaged_record),
        cmocka_unit_test(test_many_units_in_one_batch),
        cmocka_unit_test(test_sparse_event),
        cmocka_unit_test(test_store_1_0),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_aggregations_in_one_document),
        cmocka_unit_test(test_many_epcs),
        cmocka_unit_test(test_long_ids),
        cmocka_unit_test(test_unreadable_state),
        cmocka_unit_test(test_disaggregate_all),
        cmocka_unit_test(test_same_time_any_order),
        cmocka_unit_test(test_archive_segment_damaged),
        cmocka_unit_test(test_replay_interrupted),
        cmocka_unit_test(test_expired_stay_gone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
