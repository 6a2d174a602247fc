/* Authenticity through the public API: verdicts for the cases that decide
 * by rule, bad input (never red, never a crash), signed codes and signed
 * answers, recorded scans, custody by retailers, and the sealed history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <pthread.h>

#include "tnt/sys/backend.h"
#include "tnt/tnt.h"

static char g_dir[256];
static tnt_engine *g_e;
static char *g_pub, *g_sec;

#define GTIN "09506000134352"
#define FACTORY "9506000000008"
#define SHOP "9506000000022"

static void ingest(const char *json)
{
    tnt_ingest_report *r = NULL;
    if (tnt_engine_ingest(&r, g_e, json, strlen(json), 0) != TNT_OK)
        fail_msg("ingest: %s", tnt_error_last());
    size_t n, acc, dup, rej;
    tnt_ingest_report_counts(r, &n, &acc, &dup, &rej);
    if (rej) {
        char *j = NULL;
        tnt_ingest_report_json(&j, NULL, r);
        fail_msg("rejected: %s", j);
    }
    tnt_ingest_report_free(r);
}

static void open_engine(void)
{
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = g_dir;
    if (tnt_engine_open(&g_e, &o) != TNT_OK)
        fail_msg("open: %s", tnt_error_last());
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s/tnt-auth-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_dir))
        return -1;
    open_engine();
    if (tnt_keygen(&g_pub, &g_sec) != TNT_OK)
        return -1;
    char master[2048];
    snprintf(master, sizeof master,
             "{\"products\":[{\"gtin\":\"" GTIN "\",\"name\":\"Yoghurt\",\"min_temp\":2,\"max_temp\":8}],"
             "\"locations\":[{\"gln\":\"" FACTORY "\",\"city\":\"Lyon\",\"country\":\"FR\",\"latitude\":45.76,"
             "\"longitude\":4.84,\"role\":\"factory\"},{\"gln\":\"" SHOP "\",\"city\":\"Paris\",\"country\":\"FR\","
             "\"latitude\":48.85,\"longitude\":2.35,\"role\":\"retailer\"}],"
             "\"parties\":[{\"company_prefix\":\"9506000\",\"name\":\"Dairy Co\",\"public_key\":\"%s\"}]}",
             g_pub);
    char path[300];
    snprintf(path, sizeof path, "%s/master.json", g_dir);
    FILE *f = fopen(path, "w");
    fputs(master, f);
    fclose(f);
    if (tnt_engine_master_load(g_e, path, NULL) != TNT_OK)
        return -1;
    /* U1: made, shipped, on a shop's shelf. U2: sold. U3: destroyed. U4: its lot recalled. */
    ingest("["
           "{\"product_id\":\"(01)" GTIN "(21)U1\",\"event_type\":\"commission\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T08:00:00Z\",\"batch\":\"L1\",\"expiry\":\"2030-01-31\"},"
           "{\"product_id\":\"(01)" GTIN "(21)U1\",\"event_type\":\"ship\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-02T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)U1\",\"event_type\":\"receive\",\"location\":\"" SHOP
           "\",\"timestamp\":\"2026-01-03T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)U2\",\"event_type\":\"commission\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T08:00:00Z\",\"batch\":\"L1\"},"
           "{\"product_id\":\"(01)" GTIN "(21)U2\",\"event_type\":\"receive\",\"location\":\"" SHOP
           "\",\"timestamp\":\"2026-01-03T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)U2\",\"event_type\":\"sell\",\"location\":\"" SHOP
           "\",\"timestamp\":\"2026-01-04T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)U3\",\"event_type\":\"commission\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)U3\",\"event_type\":\"destroy\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-05T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)U4\",\"event_type\":\"commission\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T08:00:00Z\",\"batch\":\"L9\"},"
           "{\"product_id\":\"(01)" GTIN "(10)L9\",\"event_type\":\"recall\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-02-01T08:00:00Z\"}"
           "]");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tnt_engine_close(g_e);
    tnt_free(g_pub);
    tnt_free(g_sec);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd);
}

/* Paris, now, a consumer; not recorded unless asked. */
static tnt_scan consumer(int record)
{
    tnt_scan s;
    tnt_scan_init(&s, TNT_SCAN_VERSION);
    s.has_location = 1;
    s.latitude = 48.86;
    s.longitude = 2.34;
    s.accuracy_m = 50;
    s.device = "phone-1";
    s.record = record;
    return s;
}

static tnt_verdict_kind verdict_of(const char *code, const tnt_scan *s, const char *want_reason)
{
    tnt_verdict *v = NULL;
    if (tnt_engine_authenticate(&v, g_e, code, s) != TNT_OK)
        fail_msg("authenticate %s: %s", code, tnt_error_last());
    tnt_verdict_kind k = tnt_verdict_get(v);
    if (want_reason) {
        bool found = false;
        for (size_t i = 0; i < tnt_verdict_reason_count(v) && !found; i++) {
            const char *c, *sev, *text;
            assert_int_equal(tnt_verdict_reason_at(&c, &sev, &text, v, i), TNT_OK);
            assert_true(strcmp(sev, "info") == 0 || strcmp(sev, "warn") == 0 || strcmp(sev, "hard") == 0);
            assert_true(strlen(text) > 0);
            found = strcmp(c, want_reason) == 0;
        }
        if (!found) {
            char *j = NULL;
            tnt_verdict_json(&j, NULL, v, TNT_VERDICT_JSON_PARTNER);
            fail_msg("%s: no reason %s in %s", code, want_reason, j);
        }
    }
    tnt_verdict_free(v);
    return k;
}

static void test_rules(void **state)
{
    (void)state;
    tnt_scan s = consumer(0);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U1", &s, NULL), TNT_VERDICT_GENUINE);
    assert_int_equal(verdict_of("https://example.com/01/" GTIN "/21/U1", &s, NULL), TNT_VERDICT_GENUINE);
    assert_int_equal(verdict_of("(01)" GTIN "(21)NOPE", &s, "SERIAL_UNKNOWN"), TNT_VERDICT_COUNTERFEIT);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U3", &s, "STATUS_DESTROYED"), TNT_VERDICT_COUNTERFEIT);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U4", &s, "STATUS_RECALLED"), TNT_VERDICT_DO_NOT_USE);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U1(10)L2", &s, "LOT_MISMATCH"), TNT_VERDICT_COUNTERFEIT);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U1(17)300131", &s, NULL), TNT_VERDICT_GENUINE);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U1(17)291231", &s, "EXPIRY_MISMATCH"), TNT_VERDICT_COUNTERFEIT);
    assert_int_equal(verdict_of("(01)09506000134369(21)X", &s, "PRODUCT_UNKNOWN"), TNT_VERDICT_UNVERIFIABLE);
    assert_int_equal(verdict_of("(01)" GTIN, &s, "CODE_NOT_SERIALISED"), TNT_VERDICT_UNVERIFIABLE);
    /* sold in Paris, scanned in Tokyo: a replayed code */
    tnt_scan far = consumer(0);
    far.latitude = 35.68;
    far.longitude = 139.69;
    far.time_ms = 1768392000000LL; /* ten days after the sale */
    assert_int_equal(verdict_of("(01)" GTIN "(21)U2", &far, "POST_SALE_FAR_SCAN"), TNT_VERDICT_SUSPECT);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U2", &s, "SOLD"), TNT_VERDICT_GENUINE);
    /* a recall stays through later events, of the unit and of its lot, until it is lifted */
    ingest("[{\"product_id\":\"(01)" GTIN "(21)U4\",\"event_type\":\"receive\",\"location\":\"" SHOP
           "\",\"timestamp\":\"2026-02-02T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(10)L9\",\"event_type\":\"stock\",\"location\":\"" SHOP
           "\",\"timestamp\":\"2026-02-03T08:00:00Z\"}]");
    assert_int_equal(verdict_of("(01)" GTIN "(21)U4", &s, "STATUS_RECALLED"), TNT_VERDICT_DO_NOT_USE);
    ingest("{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":"
           "\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-02-04T00:00:00Z\",\"epcisBody\":{"
           "\"eventList\":[{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-02-04T08:00:00Z\",\"eventTimeZoneOffset\":"
           "\"+00:00\",\"action\":\"OBSERVE\",\"quantityList\":[{\"epcClass\":\"https://id.gs1.org/01/" GTIN
           "/10/L9\"}],\"readPoint\":{\"id\":\"https://id.gs1.org/414/" FACTORY "\"},\"persistentDisposition\":"
           "{\"unset\":[\"recalled\"]}}]}}");
    assert_int_equal(verdict_of("(01)" GTIN "(21)U4", &s, NULL), TNT_VERDICT_GENUINE);
}

/* One container at a time: a repack with its unpacking missed is no fault
 * (and the old case's later moves are not the unit's); two packings at two
 * places in one moment are. */
static void test_containers(void **state)
{
    (void)state;
    ingest("["
           "{\"product_id\":\"(01)" GTIN "(21)C1\",\"event_type\":\"commission\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)C1\",\"event_type\":\"pack\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T09:00:00Z\",\"container\":\"(00)095060001000000012\"},"
           "{\"product_id\":\"(01)" GTIN "(21)C1\",\"event_type\":\"pack\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T12:00:00Z\",\"container\":\"(00)095060001000000029\"},"
           "{\"product_id\":\"(00)095060001000000012\",\"event_type\":\"ship\",\"location\":\"" SHOP
           "\",\"timestamp\":\"2026-01-01T12:30:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)C2\",\"event_type\":\"commission\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)C2\",\"event_type\":\"pack\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T09:00:00Z\",\"container\":\"(00)095060001000000036\"},"
           "{\"product_id\":\"(01)" GTIN "(21)C2\",\"event_type\":\"pack\",\"location\":\"" SHOP
           "\",\"timestamp\":\"2026-01-01T09:00:30Z\",\"container\":\"(00)095060001000000043\"}"
           "]");
    tnt_scan s = consumer(0);
    s.latitude = 45.76; /* at the factory */
    s.longitude = 4.84;
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)C1", &s), TNT_OK);
    assert_int_equal(tnt_verdict_get(v), TNT_VERDICT_GENUINE);
    char *j = NULL;
    assert_int_equal(tnt_verdict_json(&j, NULL, v, TNT_VERDICT_JSON_PARTNER), TNT_OK);
    assert_null(strstr(j, "TWO_CONTAINERS_AT_ONCE"));
    assert_null(strstr(j, "TRANSIT_TOO_FAST"));
    assert_null(strstr(j, "Paris")); /* the first case went to Paris without it */
    tnt_free(j);
    tnt_verdict_free(v);
    /* (its journey also moves 390 km in 30 s: amber or red, never green) */
    tnt_verdict_kind k = verdict_of("(01)" GTIN "(21)C2", &s, "TWO_CONTAINERS_AT_ONCE");
    assert_true(k == TNT_VERDICT_GENUINE_CAUTION || k == TNT_VERDICT_SUSPECT);
    /* the consumer's answer says so without the containers' codes */
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)C2", &s), TNT_OK);
    assert_int_equal(tnt_verdict_json(&j, NULL, v, TNT_VERDICT_JSON_CONSUMER), TNT_OK);
    assert_non_null(strstr(j, "two containers"));
    assert_null(strstr(j, "urn:epc:id:sscc"));
    assert_null(strstr(j, "/00/"));
    tnt_free(j);
    tnt_verdict_free(v);
}

/* Strict UTF-8 (RFC 3629): what a JSON parser accepts. */
static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!n)
            return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
            (c == 0xF4 && p[1] > 0x8F))
            return false;
        p += n;
    }
    return true;
}

/* The answer is valid UTF-8 JSON whatever the code's bytes. */
static void answer_is_utf8(const char *code, const char *want)
{
    tnt_scan s = consumer(0);
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, code, &s), TNT_OK);
    for (unsigned flags = 0; flags < 2; flags++) {
        char *j = NULL;
        assert_int_equal(tnt_verdict_json(&j, NULL, v, flags), TNT_OK);
        if (!utf8_ok(j))
            fail_msg("not UTF-8: %s", j);
        if (want && !strstr(j, want))
            fail_msg("no %s in %s", want, j);
        tnt_free(j);
    }
    tnt_verdict_free(v);
}

static void test_bad_input(void **state)
{
    (void)state;
    tnt_scan s = consumer(1);
    static const char *const garbage[] = {"", "garbage", "(01)12345678901234(21)X", "urn:epc:id:sgtin:",
                                          "https://id.gs1.org/01/" GTIN "/21/U1?8030=short",
                                          "https://id.gs1.org/01/" GTIN "/21/U1?8030=%%%%",
                                          "\xff\xfe\x00", "(01)" GTIN "(21)U1(8030)AAAA"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        tnt_verdict_kind k = verdict_of(garbage[i], &s, NULL);
        if (k != TNT_VERDICT_UNVERIFIABLE)
            fail_msg("'%s' gave %s", garbage[i], tnt_verdict_name(k));
    }
    /* a code of 100 KB */
    char *big = malloc(100001);
    memset(big, '9', 100000);
    big[100000] = '\0';
    assert_int_equal(verdict_of(big, &s, "CODE_INVALID"), TNT_VERDICT_UNVERIFIABLE);
    /* 300 two-byte characters: the echoed code is cut between characters */
    char *wide = malloc(601);
    for (int i = 0; i < 300; i++)
        memcpy(wide + 2 * i, "\xc3\x91", 2);
    wide[600] = '\0';
    answer_is_utf8(wide, "\xc3\x91\"");
    free(wide);
    /* bytes that are no UTF-8 at all */
    answer_is_utf8("\xff\xfe(01)" GTIN "(21)U1", "\"code\":\"?\?(01)");
    answer_is_utf8("https://id.gs1.org/01/" GTIN "/21/U\xc3\x28", NULL);
    answer_is_utf8("(01)" GTIN "(21)\xed\xa0\x80", NULL);
    /* a time far in the future: unverifiable, not recorded */
    tnt_scan future = consumer(1);
    future.time_ms = 4102444800000LL; /* 2100 */
    assert_int_equal(verdict_of("(01)" GTIN "(21)U1", &future, "SCAN_TIME_INVALID"), TNT_VERDICT_UNVERIFIABLE);
    /* malformed context: clear errors */
    tnt_verdict *v = NULL;
    tnt_scan bad = consumer(0);
    bad.latitude = 91;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &bad), TNT_E_INVALID);
    assert_null(v);
    bad = consumer(0);
    bad.longitude = 0.0 / 0.0;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &bad), TNT_E_INVALID);
    bad = consumer(0);
    char *mega = malloc(1 << 20);
    memset(mega, 'd', (1 << 20) - 1);
    mega[(1 << 20) - 1] = '\0';
    bad.device = mega;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &bad), TNT_E_TOOBIG);
    assert_non_null(strstr(tnt_error_last(), "device"));
    bad = consumer(0);
    bad.version = 7;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &bad), TNT_E_INVALID);
    bad = consumer(0);
    bad.role = 9;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &bad), TNT_E_INVALID);
    assert_int_equal(tnt_engine_authenticate(&v, g_e, NULL, NULL), TNT_E_MISUSE);
    free(big);
    free(mega);
    /* defaults: a consumer's status check now */
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", NULL), TNT_OK);
    assert_int_equal(tnt_verdict_get(v), TNT_VERDICT_GENUINE);
    tnt_verdict_free(v);
    assert_string_equal(tnt_verdict_name(TNT_VERDICT_DO_NOT_USE), "DO_NOT_USE");
    assert_string_equal(tnt_verdict_name((tnt_verdict_kind)42), "UNKNOWN");
}

static void test_signed_codes(void **state)
{
    (void)state;
    char *dl = NULL;
    assert_int_equal(tnt_sign_code(&dl, "(01)" GTIN "(21)U1(10)L1(17)300131", g_sec, "https://brand.example"),
                     TNT_OK);
    assert_non_null(strstr(dl, "https://brand.example/01/" GTIN));
    assert_non_null(strstr(dl, "8030="));
    tnt_scan s = consumer(0);
    assert_int_equal(verdict_of(dl, &s, "SIG_VALID"), TNT_VERDICT_GENUINE);
    /* the batch altered: the signature no longer matches */
    char *alt = strdup(dl);
    char *lot = strstr(alt, "/10/L1");
    lot[5] = '7';
    assert_int_equal(verdict_of(alt, &s, "SIG_INVALID"), TNT_VERDICT_COUNTERFEIT);
    /* verified again (the valid signature is remembered): still valid; one
     * character of the signature changed: not */
    assert_int_equal(verdict_of(dl, &s, "SIG_VALID"), TNT_VERDICT_GENUINE);
    char *flip = strdup(dl);
    char *sc = strstr(flip, "8030=") + 5 + 10;
    *sc = *sc == 'A' ? 'B' : 'A';
    assert_int_equal(verdict_of(flip, &s, "SIG_INVALID"), TNT_VERDICT_COUNTERFEIT);
    assert_int_equal(verdict_of(dl, &s, "SIG_VALID"), TNT_VERDICT_GENUINE);
    free(flip);
    /* signed by someone else */
    char *pub2, *sec2, *dl2 = NULL;
    tnt_keygen(&pub2, &sec2);
    assert_int_equal(tnt_sign_code(&dl2, "(01)" GTIN "(21)U1", sec2, NULL), TNT_OK);
    assert_int_equal(verdict_of(dl2, &s, "SIG_INVALID"), TNT_VERDICT_COUNTERFEIT);
    /* the signature of the wrong length: a misread, not a fake */
    char *cut = strdup(dl);
    cut[strlen(cut) - 3] = '\0';
    assert_int_equal(verdict_of(cut, &s, "SIG_MALFORMED"), TNT_VERDICT_UNVERIFIABLE);
    /* ... but a broken signature does not turn red into grey: a serial never issued stays counterfeit */
    assert_int_equal(verdict_of("https://id.gs1.org/01/" GTIN "/21/NEVER-ISSUED?8030=AAAA", &s, "SERIAL_UNKNOWN"),
                     TNT_VERDICT_COUNTERFEIT);
    /* signing bad input */
    char *out = NULL;
    assert_int_equal(tnt_sign_code(&out, "(01)" GTIN, g_sec, NULL), TNT_E_INVALID); /* not one unit */
    assert_int_equal(tnt_sign_code(&out, "(01)" GTIN "(21)U1", "not-a-key", NULL), TNT_E_INVALID);
    assert_int_equal(tnt_sign_code(&out, dl, g_sec, NULL), TNT_E_INVALID); /* signed already */
    assert_int_equal(tnt_sign_code(&out, "(01)" GTIN "(21)U1", g_sec, "ftp://x"), TNT_E_INVALID);
    assert_null(out);
    tnt_free(dl);
    tnt_free(dl2);
    tnt_free(pub2);
    tnt_free(sec2);
    free(alt);
    free(cut);
}

/* A brand with two keys: a code is checked against each; what a key says of
 * a signature (valid or not) is remembered, and never changes the verdict. */
static void test_two_brand_keys(void **state)
{
    (void)state;
    char *pub2, *sec2, party[1024];
    assert_int_equal(tnt_keygen(&pub2, &sec2), TNT_OK);
    /* the other key first: a code signed with the first key of setup() fails it, then matches */
    snprintf(party, sizeof party,
             "{\"company_prefix\":\"9506000\",\"name\":\"Dairy Co\",\"public_key\":\"%s\",\"keys\":[\"%s\"]}", pub2,
             g_pub);
    assert_int_equal(tnt_engine_master_put(g_e, TNT_MASTER_PARTY, party, strlen(party)), TNT_OK);
    char *one = NULL, *two = NULL;
    assert_int_equal(tnt_sign_code(&one, "(01)" GTIN "(21)U1", g_sec, NULL), TNT_OK);
    assert_int_equal(tnt_sign_code(&two, "(01)" GTIN "(21)U1", sec2, NULL), TNT_OK);
    char *forged = strdup(one);
    char *sc = strstr(forged, "8030=") + 5 + 20;
    *sc = *sc == 'A' ? 'B' : 'A';
    tnt_scan s = consumer(0);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(verdict_of(one, &s, "SIG_VALID"), TNT_VERDICT_GENUINE);
        assert_int_equal(verdict_of(two, &s, "SIG_VALID"), TNT_VERDICT_GENUINE);
        assert_int_equal(verdict_of(forged, &s, "SIG_INVALID"), TNT_VERDICT_COUNTERFEIT);
    }
    /* the second key withdrawn: its codes are invalid now, though found valid before */
    snprintf(party, sizeof party, "{\"company_prefix\":\"9506000\",\"name\":\"Dairy Co\",\"public_key\":\"%s\"}",
             g_pub);
    assert_int_equal(tnt_engine_master_put(g_e, TNT_MASTER_PARTY, party, strlen(party)), TNT_OK);
    assert_int_equal(verdict_of(two, &s, "SIG_INVALID"), TNT_VERDICT_COUNTERFEIT);
    assert_int_equal(verdict_of(one, &s, "SIG_VALID"), TNT_VERDICT_GENUINE);
    tnt_free(one);
    tnt_free(two);
    free(forged);
    tnt_free(pub2);
    tnt_free(sec2);
}

static void test_signed_answers(void **state)
{
    (void)state;
    tnt_scan s = consumer(0);
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U2", &s), TNT_OK);
    char *json = NULL, *key = NULL;
    size_t len = 0;
    assert_int_equal(tnt_verdict_json(&json, &len, v, TNT_VERDICT_JSON_CONSUMER), TNT_OK);
    assert_int_equal(strlen(json), len);
    assert_int_equal(tnt_engine_service_key(&key, g_e), TNT_OK);
    assert_int_equal(strlen(key), 43);
    assert_int_equal(tnt_verdict_verify(json, len, key), TNT_OK);
    /* consumers see the city, not the site */
    assert_null(strstr(json, "\"event\":"));
    assert_non_null(strstr(json, "\"verdict\":\"GENUINE\""));
    /* any change breaks it */
    char *changed = strdup(json);
    char *p = strstr(changed, "GENUINE");
    p[0] = 'X';
    assert_int_equal(tnt_verdict_verify(changed, len, key), TNT_E_INVALID);
    assert_int_equal(tnt_verdict_verify(json, len - 5, key), TNT_E_INVALID);
    assert_int_equal(tnt_verdict_verify("{}", 2, key), TNT_E_INVALID);
    assert_int_equal(tnt_verdict_verify(json, len, g_pub), TNT_E_INVALID); /* another key */
    assert_int_equal(tnt_verdict_verify(json, len, "short"), TNT_E_INVALID);
    char *pj = NULL;
    assert_int_equal(tnt_verdict_json(&pj, NULL, v, TNT_VERDICT_JSON_PARTNER), TNT_OK);
    assert_non_null(strstr(pj, "\"event\":\"ni:///sha-256;"));
    assert_int_equal(tnt_verdict_verify(pj, strlen(pj), key), TNT_OK);
    int evidence = -1;
    double conf = tnt_verdict_confidence(v, &evidence);
    assert_true(conf > 0.9 && conf < 1);
    assert_int_equal(evidence, 2);
    tnt_free(json);
    tnt_free(pj);
    tnt_free(key);
    free(changed);
    tnt_verdict_free(v);
}

static char *track(const char *id)
{
    tnt_track *t = NULL;
    assert_int_equal(tnt_engine_track(&t, g_e, id), TNT_OK);
    char *j = NULL;
    tnt_track_json(&j, NULL, t);
    tnt_track_free(t);
    return j;
}

static void test_scans_and_custody(void **state)
{
    (void)state;
    /* a status check records the scan, never the product's state */
    char *before = track("(01)" GTIN "(21)U1");
    tnt_scan s = consumer(1);
    s.device = "phone-9";
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &s), TNT_OK);
    tnt_verdict_free(v);
    char *after = track("(01)" GTIN "(21)U1");
    assert_string_equal(before, after);
    /* the next verification sees it */
    s.record = 0;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &s), TNT_OK);
    char *json = NULL;
    tnt_verdict_json(&json, NULL, v, TNT_VERDICT_JSON_CONSUMER);
    assert_null(strstr(json, "\"before\":0"));
    assert_null(strstr(json, "phone-9")); /* devices are not stored nor shown */
    tnt_free(json);
    tnt_verdict_free(v);
    /* a shop sells it: recorded as an event */
    tnt_scan sale;
    tnt_scan_init(&sale, TNT_SCAN_VERSION);
    sale.role = TNT_ROLE_RETAILER;
    sale.intent = TNT_INTENT_SELL;
    sale.location_id = SHOP;
    assert_int_equal(verdict_of("(01)" GTIN "(21)U1", &sale, "CUSTODY_RECORDED"), TNT_VERDICT_GENUINE);
    char *sold = track("(01)" GTIN "(21)U1");
    assert_non_null(strstr(sold, "retail_sold"));
    /* sold again an hour later at the same shop: a copy */
    sale.time_ms = 0;
    tnt_history *h = NULL;
    assert_int_equal(tnt_engine_history(&h, g_e, "(01)" GTIN "(21)U1", NULL, 0), TNT_OK);
    int64_t last = 0;
    tnt_event_get_time(&last, NULL, tnt_history_event(h, tnt_history_count(h) - 1), TNT_TIME_EVENT);
    tnt_history_free(h);
    sale.time_ms = last + 3600 * 1000;
    assert_int_equal(verdict_of("(01)" GTIN "(21)U1", &sale, "ALREADY_SOLD"), TNT_VERDICT_SUSPECT);
    /* a consumer cannot claim a site */
    tnt_scan c = consumer(0);
    c.location_id = SHOP;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &c), TNT_E_INVALID);
    tnt_free(before);
    tnt_free(after);
    tnt_free(sold);
}

/* Devices: many shoppers at a shelf are no sign of a copy; after the sale
 * many devices are, wherever they are, unless they are far (a copy there);
 * a position that does not say which city is no position. */
static void test_devices(void **state)
{
    (void)state;
    ingest("[{\"product_id\":\"(01)" GTIN "(21)D1\",\"event_type\":\"commission\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T08:00:00Z\"},"
           "{\"product_id\":\"(01)" GTIN "(21)D1\",\"event_type\":\"receive\",\"location\":\"" SHOP
           "\",\"timestamp\":\"2026-01-03T08:00:00Z\"}]");
    char dev[32];
    int64_t now = (int64_t)time(NULL) * 1000;
    for (int i = 0; i < 5; i++) { /* five shoppers at the shelf, the hour before the sale */
        tnt_scan s = consumer(1);
        snprintf(dev, sizeof dev, "shopper-%d", i);
        s.device = dev;
        s.time_ms = now - 3600 * 1000 + i * 60 * 1000;
        assert_int_equal(verdict_of("(01)" GTIN "(21)D1", &s, NULL), TNT_VERDICT_GENUINE);
    }
    tnt_scan sale;
    tnt_scan_init(&sale, TNT_SCAN_VERSION);
    sale.role = TNT_ROLE_RETAILER;
    sale.intent = TNT_INTENT_SELL;
    sale.location_id = SHOP;
    sale.time_ms = now - 1800 * 1000;
    assert_int_equal(verdict_of("(01)" GTIN "(21)D1", &sale, "CUSTODY_RECORDED"), TNT_VERDICT_GENUINE);
    /* the buyer, then a position of 10,000 km accuracy from Tokyo: no position, not a far scan */
    tnt_scan buyer = consumer(1);
    buyer.device = "buyer";
    assert_int_equal(verdict_of("(01)" GTIN "(21)D1", &buyer, "SOLD"), TNT_VERDICT_GENUINE);
    tnt_scan vague = consumer(1);
    vague.device = "vague";
    vague.latitude = 35.68;
    vague.longitude = 139.69;
    vague.accuracy_m = 1e7;
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)D1", &vague), TNT_OK);
    for (size_t i = 0; i < tnt_verdict_reason_count(v); i++) {
        const char *code;
        tnt_verdict_reason_at(&code, NULL, NULL, v, i);
        assert_true(strcmp(code, "POST_SALE_FAR_SCAN") != 0 && strcmp(code, "IMPOSSIBLE_TRAVEL") != 0);
    }
    tnt_verdict_free(v);
    /* a third device since the sale, from nowhere known: many devices */
    tnt_scan nowhere;
    tnt_scan_init(&nowhere, TNT_SCAN_VERSION);
    nowhere.device = "third";
    nowhere.record = 1;
    tnt_verdict_kind k = verdict_of("(01)" GTIN "(21)D1", &nowhere, "MANY_DEVICES");
    assert_true(k != TNT_VERDICT_GENUINE);

    /* shipped from Lyon to the shop in Paris, not yet received: a copy scanned in Tokyo first does not make
     * the real one, scanned in Paris, the suspect */
    char doc[600];
    snprintf(doc, sizeof doc,
             "[{\"product_id\":\"(01)" GTIN "(21)D2\",\"event_type\":\"commission\",\"location\":\"" FACTORY
             "\",\"timestamp\":\"2026-01-01T08:00:00Z\"},"
             "{\"product_id\":\"(01)" GTIN "(21)D2\",\"event_type\":\"ship\",\"location\":\"" FACTORY
             "\",\"destination\":\"" SHOP "\",\"timestamp\":%lld}]",
             (long long)(now - 7200 * 1000) / 1000);
    ingest(doc);
    tnt_scan tokyo = consumer(1);
    tokyo.device = "copy";
    tokyo.latitude = 35.68;
    tokyo.longitude = 139.69;
    tokyo.time_ms = now - 1800 * 1000;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)D2", &tokyo), TNT_OK);
    tnt_verdict_free(v);
    tnt_scan paris = consumer(0);
    paris.device = "real";
    assert_int_equal(verdict_of("(01)" GTIN "(21)D2", &paris, "CONFLICT_ELSEWHERE"), TNT_VERDICT_GENUINE);
}

/* Scans survive a replay: they ride the log. */
static void test_replay_keeps_scans(void **state)
{
    (void)state;
    tnt_scan s = consumer(1);
    s.device = "replay-phone";
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U2", &s), TNT_OK);
    tnt_verdict_free(v);
    s.record = 0;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U2", &s), TNT_OK);
    char *a = NULL;
    tnt_verdict_json(&a, NULL, v, TNT_VERDICT_JSON_CONSUMER);
    tnt_verdict_free(v);
    size_t n = 0;
    assert_int_equal(tnt_engine_replay(g_e, 0, &n), TNT_OK);
    assert_true(n > 0);
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U2", &s), TNT_OK);
    char *b = NULL;
    tnt_verdict_json(&b, NULL, v, TNT_VERDICT_JSON_CONSUMER);
    tnt_verdict_free(v);
    const char *sa = strstr(a, "\"scans\":"), *sb = strstr(b, "\"scans\":");
    assert_non_null(sa);
    assert_non_null(sb);
    assert_memory_equal(sa, sb, (size_t)(strchr(sa, '}') - sa));
    tnt_free(a);
    tnt_free(b);
}

/* An intruder deletes a history entry: the sealed chain says so. */
static int collect_first_index(void *ud, const tnt_store_item *it)
{
    tnt_store_item *out = ud;
    if (it->sk_len == 42 && out->sk_len == 0) {
        char *copy = malloc(it->pk_len + it->sk_len);
        memcpy(copy, it->pk, it->pk_len);
        memcpy(copy + it->pk_len, it->sk, it->sk_len);
        *out = (tnt_store_item){copy, it->pk_len, copy + it->pk_len, it->sk_len, NULL, 0, 0};
    }
    return 0;
}

static void test_tampered_history(void **state)
{
    (void)state;
    tnt_engine_close(g_e);
    char uri[400];
    snprintf(uri, sizeof uri, "file://%s/state", g_dir);
    const tnt_backend *b = tnt_backend_find("file");
    tnt_store *st = NULL;
    char err[200];
    assert_int_equal(b->open_store(&st, uri, NULL, b->user_data, err, sizeof err), TNT_OK);
    tnt_store_item first = {0};
    const char *pk = "p:https://id.gs1.org/01/" GTIN "/21/U4";
    assert_int_equal(st->methods->query(st, pk, strlen(pk), "h:", 2, "h;", 2, 0, 0, collect_first_index, &first),
                     TNT_OK);
    assert_int_equal(first.sk_len, 42);
    assert_int_equal(st->methods->remove(st, first.pk, first.pk_len, first.sk, first.sk_len), TNT_OK);
    free((void *)first.pk);
    st->methods->close(st);
    open_engine();
    tnt_scan s = consumer(0);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U4", &s, "HISTORY_HASH_MISMATCH"), TNT_VERDICT_UNVERIFIABLE);
    /* the others are untouched */
    assert_int_equal(verdict_of("(01)" GTIN "(21)U2", &s, NULL), TNT_VERDICT_GENUINE);
}

/* Many verifications at once: their scans are written together, none lost. */
static void *verifier(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 25; i++) {
        tnt_scan s = consumer(1);
        char dev[32];
        snprintf(dev, sizeof dev, "t%d-%d", id, i);
        s.device = dev;
        s.time_ms = 1767225600000LL + (int64_t)(id * 100 + i) * 1000; /* distinct times: distinct scans */
        tnt_verdict *v = NULL;
        if (tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &s) != TNT_OK)
            return (void *)1;
        tnt_verdict_free(v);
    }
    return NULL;
}

static void test_concurrent_scans(void **state)
{
    (void)state;
    tnt_scan s = consumer(0);
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &s), TNT_OK);
    char *a = NULL;
    tnt_verdict_json(&a, NULL, v, TNT_VERDICT_JSON_CONSUMER);
    tnt_verdict_free(v);
    unsigned long before = strtoul(strstr(a, "\"before\":") + 9, NULL, 10);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, verifier, (void *)(intptr_t)i);
    for (int i = 0; i < 8; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U1", &s), TNT_OK);
    char *b = NULL;
    tnt_verdict_json(&b, NULL, v, TNT_VERDICT_JSON_CONSUMER);
    tnt_verdict_free(v);
    unsigned long after = strtoul(strstr(b, "\"before\":") + 9, NULL, 10);
    assert_int_equal(after, before + 200 > 256 ? 256 : before + 200); /* the latest 256 are read */
    tnt_free(a);
    tnt_free(b);
}

/* Verifications while a product's events are written, each one earlier
 * than the last (late): the state and the history are read apart, and a
 * write between the two reads is not a tampering. */
static atomic_int g_writing;

static void *late_writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 150; i++) {
        char doc[512];
        snprintf(doc, sizeof doc,
                 "{\"product_id\":\"(01)" GTIN "(21)LATE\",\"event_type\":\"receive\",\"location\":\"" SHOP
                 "\",\"timestamp\":%d}",
                 1700100000 - i * 60);
        tnt_ingest_report *r = NULL;
        tnt_engine_ingest(&r, g_e, doc, strlen(doc), 0);
        tnt_ingest_report_free(r);
    }
    g_writing = 0;
    return NULL;
}

static void test_verified_while_written(void **state)
{
    (void)state;
    ingest("{\"product_id\":\"(01)" GTIN "(21)LATE\",\"event_type\":\"commission\",\"location\":\"" FACTORY
           "\",\"timestamp\":1700200000}");
    tnt_scan s = consumer(TNT_SCAN_DRY_RUN);
    g_writing = 1;
    pthread_t t;
    pthread_create(&t, NULL, late_writer, NULL);
    int verified = 0;
    while (g_writing) {
        tnt_verdict *v = NULL;
        tnt_status st = tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)LATE", &s);
        if (st == TNT_E_CONFLICT)
            continue; /* written to all the while: said so, not a verdict */
        assert_int_equal(st, TNT_OK);
        for (size_t i = 0; i < tnt_verdict_reason_count(v); i++) {
            const char *code;
            tnt_verdict_reason_at(&code, NULL, NULL, v, i);
            if (strcmp(code, "HISTORY_HASH_MISMATCH") == 0)
                fail_msg("verification %d, while events were written: HISTORY_HASH_MISMATCH", verified);
        }
        tnt_verdict_free(v);
        verified++;
    }
    pthread_join(t, NULL);
    assert_true(verified > 0);
}

/* Background scans: the call returns at once; the scan is there shortly, and after a close. */
static void test_background_scans(void **state)
{
    (void)state;
    tnt_scan s = consumer(TNT_SCAN_RECORD_BACKGROUND);
    s.device = "bg-phone";
    for (int i = 0; i < 50; i++) {
        s.time_ms = 1767225600000LL + i * 1000;
        tnt_verdict *v = NULL;
        assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U4", &s), TNT_OK);
        tnt_verdict_free(v);
    }
    tnt_engine_close(g_e); /* writes what is still queued */
    open_engine();
    s.record = TNT_SCAN_DRY_RUN;
    s.time_ms = 0;
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U4", &s), TNT_OK);
    char *j = NULL;
    tnt_verdict_json(&j, NULL, v, TNT_VERDICT_JSON_CONSUMER);
    assert_non_null(strstr(j, "\"before\":5")); /* 50 and more: the earlier tests scanned it too */
    tnt_free(j);
    tnt_verdict_free(v);
    s.record = 7;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)U4", &s), TNT_E_INVALID);
}

/* Past the 256 scans a verification reads, the answer says "more than"
 * and still shows the first verification, not the oldest of those read. */
static void test_many_scans(void **state)
{
    (void)state;
    ingest("[{\"product_id\":\"(01)" GTIN "(21)M1\",\"event_type\":\"commission\",\"location\":\"" FACTORY
           "\",\"timestamp\":\"2026-01-01T08:00:00Z\"}]");
    tnt_scan s = consumer(TNT_SCAN_RECORD_BACKGROUND);
    for (int i = 0; i < 300; i++) {
        s.time_ms = 1767258000000LL + i * 60000LL; /* 2026-01-01T09:00Z, a minute apart */
        s.latitude = i == 0 ? 45.76 : 48.86;       /* the first in Lyon, the others in Paris */
        s.longitude = i == 0 ? 4.84 : 2.34;
        tnt_verdict *v = NULL;
        assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)M1", &s), TNT_OK);
        tnt_verdict_free(v);
    }
    tnt_engine_close(g_e); /* writes what is still queued */
    open_engine();
    s.record = TNT_SCAN_DRY_RUN;
    s.time_ms = 0;
    tnt_verdict *v = NULL;
    assert_int_equal(tnt_engine_authenticate(&v, g_e, "(01)" GTIN "(21)M1", &s), TNT_OK);
    char *j = NULL;
    assert_int_equal(tnt_verdict_json(&j, NULL, v, TNT_VERDICT_JSON_CONSUMER), TNT_OK);
    assert_non_null(strstr(j, "\"before\":256"));
    assert_non_null(strstr(j, "more than 256 times"));
    assert_non_null(strstr(j, "\"first\":\"2026-01-01T09:00:00.000Z\""));
    assert_non_null(strstr(j, "\"latitude\":45.8"));
    tnt_free(j);
    tnt_verdict_free(v);
}

/* A new service key: the seals fail until a replay seals the states again. */
static void test_new_service_key(void **state)
{
    (void)state;
    char *old = NULL, *now = NULL;
    assert_int_equal(tnt_engine_service_key(&old, g_e), TNT_OK);
    tnt_engine_close(g_e);
    char path[300];
    snprintf(path, sizeof path, "%s/service.key", g_dir);
    assert_int_equal(remove(path), 0);
    /* a missing key of a store with events is not replaced quietly */
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = g_dir;
    assert_int_equal(tnt_engine_open(&g_e, &o), TNT_E_IO);
    assert_non_null(strstr(tnt_error_last(), "service key"));
    assert_non_null(strstr(tnt_error_last(), "is missing"));
    assert_non_null(strstr(tnt_error_last(), "tnt keygen --out"));
    assert_int_not_equal(access(path, F_OK), 0); /* and nothing was made */
    /* a new key, made deliberately (what `tnt keygen --out` writes) */
    char *pub = NULL, *sec = NULL;
    assert_int_equal(tnt_keygen(&pub, &sec), TNT_OK);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", sec);
    fclose(f);
    tnt_free(pub);
    tnt_free(sec);
    open_engine();
    assert_int_equal(tnt_engine_service_key(&now, g_e), TNT_OK);
    assert_string_not_equal(old, now);
    tnt_scan s = consumer(0);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U2", &s, "HISTORY_HASH_MISMATCH"), TNT_VERDICT_UNVERIFIABLE);
    size_t n = 0;
    assert_int_equal(tnt_engine_replay(g_e, 0, &n), TNT_OK);
    assert_int_equal(verdict_of("(01)" GTIN "(21)U2", &s, NULL), TNT_VERDICT_GENUINE);
    tnt_free(old);
    tnt_free(now);
}

static void test_keys(void **state)
{
    (void)state;
    char *p = NULL, *s = NULL;
    assert_int_equal(tnt_keygen(&p, &s), TNT_OK);
    assert_int_equal(strlen(p), 43);
    assert_int_equal(strlen(s), 86);
    assert_int_equal(tnt_keygen(NULL, NULL), TNT_E_MISUSE);
    tnt_free(p);
    tnt_free(s);
    tnt_scan sc;
    assert_int_equal(tnt_scan_init(&sc, TNT_SCAN_VERSION), TNT_OK);
    assert_int_equal(sc.record, 1);
    assert_int_equal(tnt_scan_init(&sc, 0), TNT_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),          cmocka_unit_test(test_containers),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_signed_codes),
        cmocka_unit_test(test_two_brand_keys),   cmocka_unit_test(test_signed_answers),
        cmocka_unit_test(test_scans_and_custody), cmocka_unit_test(test_replay_keeps_scans),
        cmocka_unit_test(test_tampered_history), cmocka_unit_test(test_concurrent_scans),
        cmocka_unit_test(test_background_scans), cmocka_unit_test(test_many_scans),
        cmocka_unit_test(test_new_service_key),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_verified_while_written),
        cmocka_unit_test(test_devices),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
