/* How tests/data/store-1.0 was made: a data directory written by libtnt
 * 1.0 at commit 32d0ea9, whose state store kept events and digests in
 * their protobuf form (test_engine's test_store_1_0 reads it with today's
 * library). Built against that checkout's libtnt.a and run as
 * `gen DIR`: the same 54 simple reports as test_engine's world. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tnt/tnt.h"
#define FACTORY "9506000000008"
#define DC "9506000000015"
#define SHOP "9506000000022"
#define UNIT "(01)09506000134352(21)U1"
static char sscc[64];
static void one(tnt_engine *e, const char *id, const char *type, const char *loc, const char *t, const char *extra)
{
    char s[1024];
    snprintf(s, sizeof s, "{\"product_id\":\"%s\",\"event_type\":\"%s\",\"location\":\"%s\",\"timestamp\":\"%s\"%s%s}", id,
             type, loc, t, extra ? "," : "", extra ? extra : "");
    tnt_ingest_report *r;
    if (tnt_engine_ingest(&r, e, s, strlen(s), 0) != TNT_OK) { fprintf(stderr, "%s\n", tnt_error_last()); exit(1); }
    size_t n, acc, dup, rej;
    tnt_ingest_report_counts(r, &n, &acc, &dup, &rej);
    if (acc != 1) { fprintf(stderr, "not accepted: %s\n", s); exit(1); }
    tnt_ingest_report_free(r);
}
int main(int argc, char **argv)
{
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = argv[1];
    tnt_engine *e;
    if (tnt_engine_open(&e, &o) != TNT_OK) { fprintf(stderr, "%s\n", tnt_error_last()); return 1; }
    char d[18] = "09506000134352000";
    snprintf(sscc, sizeof sscc, "(00)%s%d", d, tnt_gs1_check_digit(d, 17));
    char extra[128];
    snprintf(extra, sizeof extra, "\"container\":\"%s\"", sscc);
    one(e, sscc, "receive", DC, "2024-03-02T10:00:00Z", "\"condition\":{\"temperature\":6}");
    one(e, UNIT, "commission", FACTORY, "2024-03-01T08:00:00Z", "\"batch\":\"L1\"");
    one(e, UNIT, "pack", FACTORY, "2024-03-01T09:00:00Z", extra);
    one(e, sscc, "ship", FACTORY, "2024-03-01T10:00:00Z", "\"condition\":{\"temperature\":4}");
    for (int i = 0; i < 50; i++) {
        char id[64], t[40];
        snprintf(id, sizeof id, "(01)09506000134352(21)X%d", i);
        snprintf(t, sizeof t, "2024-03-0%dT1%d:00:00Z", 1 + i % 9, i % 10);
        one(e, id, i % 2 ? "ship" : "receive", i % 3 ? DC : SHOP, t, NULL);
    }
    tnt_engine_close(e);
    return 0;
}
