/*
 * libFuzzer target: tnt_engine_authenticate on arbitrary codes and scan
 * contexts, against an engine holding a few products; and
 * tnt_verdict_verify on arbitrary documents.
 *
 * Input: byte 0 picks the role and intent, bytes 1-8 the coordinates, the
 * rest (up to a NUL) is the code, what follows the device id. Besides "no
 * crash, no leak, no hang": an unreadable code is never red, every answer's
 * signature verifies, and an altered answer never does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tnt/tnt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tnt_engine *g_e;
static char *g_key;
static char g_dir[] = "/tmp/tnt-fuzz-auth-XXXXXX";

static void cleanup(void)
{
    tnt_engine_close(g_e);
    tnt_free(g_key);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_auth: could not remove %s\n", g_dir);
}

static void init(void)
{
    char *dir = g_dir;
    if (!mkdtemp(dir))
        abort();
    atexit(cleanup);
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = dir;
    if (tnt_engine_open(&g_e, &o) != TNT_OK || tnt_engine_service_key(&g_key, g_e) != TNT_OK)
        abort();
    const char *master = "{\"gtin\":\"09506000134352\",\"name\":\"Yoghurt\",\"min_temp\":2,\"max_temp\":8}";
    tnt_engine_master_put(g_e, TNT_MASTER_PRODUCT, master, strlen(master));
    const char *events =
        "[{\"product_id\":\"(01)09506000134352(21)A\",\"event_type\":\"commission\",\"location\":\"9506000000008\","
        "\"timestamp\":\"2026-01-01T00:00:00Z\",\"batch\":\"L1\"},"
        "{\"product_id\":\"(01)09506000134352(21)A\",\"event_type\":\"sell\",\"location\":\"geo:48.85,2.35\","
        "\"timestamp\":\"2026-01-02T00:00:00Z\"},"
        "{\"product_id\":\"(01)09506000134352(21)B\",\"event_type\":\"commission\",\"location\":\"9506000000008\","
        "\"timestamp\":\"2026-01-01T00:00:00Z\"}]";
    tnt_ingest_report *r = NULL;
    if (tnt_engine_ingest(&r, g_e, events, strlen(events), 0) != TNT_OK)
        abort();
    tnt_ingest_report_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_e)
        init();
    if (size < 9)
        return 0;
    tnt_scan s;
    tnt_scan_init(&s, TNT_SCAN_VERSION);
    s.record = 0;
    s.role = data[0] % 3;
    s.intent = (data[0] >> 2) % 4;
    int16_t la, lo;
    memcpy(&la, data + 1, 2);
    memcpy(&lo, data + 3, 2);
    s.has_location = data[5] & 1;
    s.latitude = la / 300.0;
    s.longitude = lo / 150.0;
    s.accuracy_m = data[6] * 40.0;
    if (data[7] & 1)
        s.time_ms = 1767225600000LL + (int64_t)data[8] * 86400000LL * 3;
    char *text = malloc(size - 9 + 1);
    memcpy(text, data + 9, size - 9);
    text[size - 9] = '\0';
    size_t code_len = strlen(text);
    s.device = code_len + 1 < size - 9 ? text + code_len + 1 : NULL;
    tnt_verdict *v = NULL;
    tnt_status st = tnt_engine_authenticate(&v, g_e, text, &s);
    if (st == TNT_OK) {
        tnt_verdict_kind k = tnt_verdict_get(v);
        for (size_t i = 0; i < tnt_verdict_reason_count(v); i++) {
            const char *code;
            tnt_verdict_reason_at(&code, NULL, NULL, v, i);
            if (strcmp(code, "CODE_INVALID") == 0 && k != TNT_VERDICT_UNVERIFIABLE)
                abort(); /* an unreadable code is never red */
        }
        char *json = NULL;
        size_t len = 0;
        if (tnt_verdict_json(&json, &len, v, data[0] & 0x80 ? TNT_VERDICT_JSON_PARTNER : 0) != TNT_OK)
            abort();
        if (tnt_verdict_verify(json, len, g_key) != TNT_OK)
            abort();
        json[len / 3] ^= 0x20;
        if (tnt_verdict_verify(json, len, g_key) == TNT_OK)
            abort();
        tnt_free(json);
        tnt_verdict_free(v);
    } else if (v) {
        abort();
    }
    /* arbitrary documents never verify */
    if (tnt_verdict_verify((const char *)data, size, g_key) == TNT_OK)
        abort();
    free(text);
    return 0;
}
