/* Authenticity: the speed of a verification, and the measured accuracy.
 *
 *   1. in-process tnt_engine_authenticate() of a product with 50 events:
 *      the first verification after a change (the history is verified and
 *      the journey built), repeated verifications (cached), each as a dry
 *      run (nothing recorded) and without the signed answer; then with the
 *      scan recorded durably, and the signed JSON answer alone;
 *   2. the simulator over TNT_BENCH_AUTH_SEEDS seeds (default 5) of
 *      TNT_BENCH_AUTH_ITEMS genuine items (default 4000) and
 *      TNT_BENCH_AUTH_ATTACKS items per attack (default 100).
 * Prints figures beside the targets; never fails on a slow machine. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/sim/authsim.h"
#include "tnt/tnt.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void pct(const char *what, double *v, size_t n, const char *target)
{
    qsort(v, n, sizeof *v, cmp_d);
    printf("  %-46s p50 %8.1f us   p99 %8.1f us   (%zu calls)   %s\n", what, v[n / 2], v[n * 99 / 100], n, target);
}

static int has_reason(const tnt_verdict *v, const char *want)
{
    for (size_t i = 0; i < tnt_verdict_reason_count(v); i++) {
        const char *code = NULL;
        if (tnt_verdict_reason_at(&code, NULL, NULL, v, i) == TNT_OK && code && strcmp(code, want) == 0)
            return 1;
    }
    return 0;
}

static long env(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s && *s ? atol(s) : dflt;
}

typedef struct worker {
    tnt_engine *e;
    int id, n, mode;
    double *lat;
} worker;

static void *recorder(void *arg)
{
    worker *w = arg;
    tnt_scan s;
    tnt_scan_init(&s, TNT_SCAN_VERSION);
    s.has_location = 1;
    s.latitude = 45.75;
    s.longitude = 4.85;
    s.record = w->mode;
    char dev[32], code[64];
    for (int i = 0; i < w->n; i++) {
        snprintf(dev, sizeof dev, "w%d-%d", w->id, i);
        snprintf(code, sizeof code, "(01)09506000134352(21)P%d", (w->id * 7 + i) % 200);
        s.device = dev;
        double t0 = now_us();
        tnt_verdict *v = NULL;
        tnt_engine_authenticate(&v, w->e, code, &s);
        w->lat[i] = now_us() - t0;
        tnt_verdict_free(v);
    }
    return NULL;
}

static void concurrent(tnt_engine *e, int mode)
{
    const int threads = (int)env("TNT_BENCH_AUTH_THREADS", 16), per = (int)env("TNT_BENCH_AUTH_PER_THREAD", 500);
    pthread_t t[64];
    worker w[64];
    double *lat = malloc(sizeof(double) * (size_t)(threads * per));
    double t0 = now_us();
    for (int i = 0; i < threads && i < 64; i++) {
        w[i] = (worker){e, i, per, mode, lat + i * per};
        pthread_create(&t[i], NULL, recorder, &w[i]);
    }
    for (int i = 0; i < threads && i < 64; i++)
        pthread_join(t[i], NULL);
    double secs = (now_us() - t0) / 1e6;
    char what[96];
    snprintf(what, sizeof what, "%s, %d threads: %.0f/s", mode == TNT_SCAN_RECORD ? "recorded" : "background",
             threads, threads * per / secs);
    pct(what, lat, (size_t)(threads * per),
        mode == TNT_SCAN_RECORD ? "durable before the answer; scans share writes" : "written by the engine's thread");
    free(lat);
}

static void speed(const char *dir)
{
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = dir;
    tnt_engine *e;
    if (tnt_engine_open(&e, &o) != TNT_OK) {
        fprintf(stderr, "bench_auth: %s\n", tnt_error_last());
        exit(2);
    }
    const char *master = "{\"products\":[{\"gtin\":\"09506000134352\",\"name\":\"Yoghurt\",\"min_temp\":2,\"max_temp\":8}],"
                         "\"locations\":[{\"gln\":\"9506000000015\",\"city\":\"Lyon\",\"country\":\"FR\",\"latitude\":45.76,"
                         "\"longitude\":4.84},{\"gln\":\"9506000000022\",\"city\":\"Lyon\",\"country\":\"FR\","
                         "\"latitude\":45.75,\"longitude\":4.85}],"
                         "\"parties\":[{\"company_prefix\":\"9506000\",\"name\":\"Dairy Co\",\"public_key\":\"";
    /* the brand's key: its codes may carry a signature (AI 8030) */
    char *pk = NULL, *sk = NULL;
    if (tnt_keygen(&pk, &sk) != TNT_OK) {
        fprintf(stderr, "bench_auth: %s\n", tnt_error_last());
        exit(2);
    }
    FILE *f = fopen("/tmp/tnt-bench-auth-master.json", "w");
    fprintf(f, "%s%s\"}]}", master, pk);
    fclose(f);
    tnt_engine_master_load(e, "/tmp/tnt-bench-auth-master.json", NULL);
    /* products with 50 events each */
    const int products = 200;
    char *buf = malloc(1 << 20);
    for (int p = 0; p < products; p++) {
        size_t n = 0;
        n += (size_t)sprintf(buf + n, "[");
        for (int k = 0; k < 50; k++) {
            const char *type = k == 0 ? "commission" : k % 2 ? "ship" : "receive";
            n += (size_t)sprintf(buf + n,
                                 "%s{\"product_id\":\"(01)09506000134352(21)P%d\",\"event_type\":\"%s\",\"location\":"
                                 "\"%s\",\"timestamp\":\"2026-01-%02dT%02d:%02d:00Z\"%s}",
                                 k ? "," : "", p, type, k % 2 ? "9506000000015" : "9506000000022", 1 + k / 24, k % 24,
                                 p % 60, k == 0 ? ",\"batch\":\"L1\"" : "");
        }
        n += (size_t)sprintf(buf + n, "]");
        tnt_ingest_report *r = NULL;
        if (tnt_engine_ingest(&r, e, buf, n, TNT_INGEST_COUNTS_ONLY) != TNT_OK) {
            fprintf(stderr, "bench_auth: %s\n", tnt_error_last());
            exit(2);
        }
        tnt_ingest_report_free(r);
    }
    free(buf);
    tnt_scan s;
    tnt_scan_init(&s, TNT_SCAN_VERSION);
    s.has_location = 1;
    s.latitude = 45.75;
    s.longitude = 4.85;
    s.device = "bench-device";
    s.record = 0;
    const int reps = (int)env("TNT_BENCH_AUTH_REPS", 20000);
    double *cold = malloc(sizeof(double) * products), *warm = malloc(sizeof(double) * (size_t)reps);
    char code[64];
    int red = 0;
    for (int p = 0; p < products; p++) {
        snprintf(code, sizeof code, "(01)09506000134352(21)P%d", p);
        double t0 = now_us();
        tnt_verdict *v = NULL;
        tnt_engine_authenticate(&v, e, code, &s);
        cold[p] = now_us() - t0;
        red += tnt_verdict_get(v) != TNT_VERDICT_GENUINE;
        tnt_verdict_free(v);
    }
    for (int i = 0; i < reps; i++) {
        snprintf(code, sizeof code, "(01)09506000134352(21)P%d", i % products);
        double t0 = now_us();
        tnt_verdict *v = NULL;
        tnt_engine_authenticate(&v, e, code, &s);
        warm[i] = now_us() - t0;
        tnt_verdict_free(v);
    }
    /* the same products by their signed codes (the brand's Ed25519 signature checked) */
    char **signed_codes = malloc(sizeof(char *) * products);
    for (int p = 0; p < products; p++) {
        snprintf(code, sizeof code, "(01)09506000134352(21)P%d", p);
        if (tnt_sign_code(&signed_codes[p], code, sk, NULL) != TNT_OK) {
            fprintf(stderr, "bench_auth: %s\n", tnt_error_last());
            exit(2);
        }
    }
    double *sgn = malloc(sizeof(double) * (size_t)reps);
    int not_signed = 0;
    for (int p = 0; p < products; p++) { /* the first verification of each signed code: not timed */
        tnt_verdict *v = NULL;
        tnt_engine_authenticate(&v, e, signed_codes[p], &s);
        tnt_verdict_free(v);
    }
    for (int i = 0; i < reps; i++) {
        double t0 = now_us();
        tnt_verdict *v = NULL;
        tnt_engine_authenticate(&v, e, signed_codes[i % products], &s);
        sgn[i] = now_us() - t0;
        not_signed += !v || tnt_verdict_get(v) != TNT_VERDICT_GENUINE || !has_reason(v, "SIG_VALID");
        tnt_verdict_free(v);
    }
    printf("speed: a product with 50 events, in process (%d products; %d not GENUINE, %d signed codes not "
           "GENUINE with SIG_VALID)\n",
           products, red, not_signed);
    pct("first verification (history verified, journey)", cold, (size_t)products, "");
    pct("verification, dry run, no signed answer", warm, (size_t)reps, "target p50 <= 10 us, p99 <= 100 us");
    pct("the same, signed code (AI 8030 checked)", sgn, (size_t)reps, "target p50 <= 10 us, p99 <= 100 us");
    for (int p = 0; p < products; p++)
        tnt_free(signed_codes[p]);
    free(signed_codes);
    free(sgn);
    tnt_free(pk);
    tnt_free(sk);
    /* the signed answer alone */
    const int njson = reps / 4 ? reps / 4 : 1;
    double *js = malloc(sizeof(double) * (size_t)njson);
    tnt_verdict *v = NULL;
    tnt_engine_authenticate(&v, e, "(01)09506000134352(21)P1", &s);
    for (int i = 0; i < njson; i++) {
        double t0 = now_us();
        char *json = NULL;
        tnt_verdict_json(&json, NULL, v, TNT_VERDICT_JSON_CONSUMER);
        js[i] = now_us() - t0;
        tnt_free(json);
    }
    tnt_verdict_free(v);
    pct("the signed JSON answer (Ed25519)", js, (size_t)njson, "");
    /* recorded: the scan durable in the log */
    const int nrec = (int)env("TNT_BENCH_AUTH_RECORDED", 2000);
    double *rec = malloc(sizeof(double) * (size_t)nrec);
    s.record = 1;
    for (int i = 0; i < nrec; i++) {
        snprintf(code, sizeof code, "(01)09506000134352(21)P%d", i % products);
        char dev[32];
        snprintf(dev, sizeof dev, "device-%d", i);
        s.device = dev;
        double t0 = now_us();
        tnt_engine_authenticate(&v, e, code, &s);
        rec[i] = now_us() - t0;
        tnt_verdict_free(v);
    }
    pct("verification with the scan recorded (durable)", rec, (size_t)nrec, "");
    concurrent(e, TNT_SCAN_RECORD);
    concurrent(e, TNT_SCAN_RECORD_BACKGROUND);
    free(cold);
    free(warm);
    free(js);
    free(rec);
    tnt_engine_close(e);
}

int main(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tnt-bench-auth-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 2;
    printf("bench_auth (%s)\n", TNT_BENCH_BUILD);
    if (env("TNT_BENCH_AUTH_SPEED", 1))
        speed(dir);
    long seeds = env("TNT_BENCH_AUTH_SEEDS", 5), items = env("TNT_BENCH_AUTH_ITEMS", 4000),
         attacks = env("TNT_BENCH_AUTH_ATTACKS", 100);
    double pmiss[] = {0.0, 0.10, 0.20};
    size_t levels = (size_t)env("TNT_BENCH_AUTH_LEVELS", 3);
    for (size_t k = 0; seeds > 0 && k < sizeof pmiss / sizeof pmiss[0] && k < levels; k++) {
        sim_result total;
        memset(&total, 0, sizeof total);
        double t0 = now_us();
        for (long s = 1; s <= seeds; s++) {
            char sd[300];
            snprintf(sd, sizeof sd, "%s/sim-%zu-%ld", dir, k, s);
            sim_config cfg = {(uint64_t)s, (size_t)items, pmiss[k], 0.2, (size_t)attacks, sd,
                              (int)env("TNT_BENCH_AUTH_VERBOSE", 0)};
            sim_result r;
            if (sim_run(&cfg, &r) != 0)
                return 2;
            sim_add(&total, &r);
        }
        char title[200];
        snprintf(title, sizeof title,
                 "\naccuracy: %ld seeds x %ld genuine items, %ld items per attack, missed reads %.0f %%, consumer "
                 "scan share 20 %% (%.0f s)",
                 seeds, items, attacks, pmiss[k] * 100, (now_us() - t0) / 1e6);
        sim_print(stdout, &total, title);
        printf("  ingest %.0f events/s, verification %.0f us per scan (recorded)\n",
               total.ingest_s > 0 ? (double)total.events / total.ingest_s : 0,
               total.verifications ? total.verify_s * 1e6 / (double)total.verifications : 0);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
