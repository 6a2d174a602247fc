/*
 * Identifier throughput: tnt_id_parse (parse + validate + canonical form)
 * per input form and for a mix, on one core, beside the target of
 * 5,000,000 identifiers per second. It only prints: a slow machine does
 * not fail it.
 *
 *   bench_ids                 the figures
 *   bench_ids --profile N     parse the mix N times, untimed, for a profiler
 *                             (bench/callgrind.sh counts its instructions)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ids/ids.h"
#include "tnt/tnt.h"

#define TARGET 5000000.0

static const char *const g_urn[] = {
    "urn:epc:id:sgtin:0614141.107346.2017",
    "urn:epc:id:sscc:4012345.0000000333",
    "urn:epc:id:sgln:0614141.07346.1234",
    "urn:epc:class:lgtin:4012345.012345.998877",
    "urn:epc:idpat:sgtin:4012345.012345.*",
    "urn:epc:id:grai:4012345.66666.87",
    "urn:epc:id:giai:4012345.AAbb",
    "urn:epc:id:gdti:4012345.55555.98",
};
static const char *const g_dl[] = {
    "https://id.gs1.org/01/09506000134352/21/ABC123",
    "https://example.com/shop/01/09506000134352/10/LOT7/21/ABC?17=261231",
    "https://id.gs1.org/00/106141411234567897",
    "https://brand.example/414/0614141073467/254/1234",
};
static const char *const g_es[] = {
    "(01)09506000134352(21)ABC123",
    "(01)09506000134352(17)261231(10)LOT7",
    "(00)106141411234567897",
    "(414)0614141073467(254)1234",
};
static const char *const g_barcode[] = {
    "]d2010950600013435217261231\x1d" "10LOT7\x1d" "21ABC",
    "0109506000134352" "21ABC123",
    "]C100106141411234567897",
};
static const char *const g_plain[] = {
    "09506000134352",
    "9506000134352 ABC123",
};

typedef struct set {
    const char *name;
    const char *const *ids;
    size_t n;
} set;

#define SET(name, a) {name, a, sizeof a / sizeof a[0]}

/* CPU time of this thread: on a shared machine, time other work takes the
 * CPU from us would otherwise count against the parser. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Identifiers per second: the best of three runs of about 0.3 s of CPU
 * time, as other work on the machine only ever slows a run down. */
static double rate(tnt_id *id, const char *const *ids, const size_t *lens, size_t n)
{
    double best = 0;
    size_t bad = 0;
    for (int run = 0; run < 3; run++) {
        size_t done = 0;
        double t0 = now(), t;
        do {
            for (int rep = 0; rep < 1000; rep++)
                for (size_t i = 0; i < n; i++)
                    bad += tnt_id_parse(id, ids[i], lens[i], NULL) != TNT_OK;
            done += 1000 * n;
            t = now() - t0;
        } while (t < 0.3);
        if ((double)done / t > best)
            best = (double)done / t;
    }
    if (bad)
        printf("  (%zu inputs failed to parse)\n", bad);
    return best;
}

static double rate_canonical(const char *const *ids, const size_t *lens, size_t n)
{
    char out[TNT__ID_CANONICAL_CAP];
    double best = 0;
    size_t sum = 0;
    for (int run = 0; run < 3; run++) {
        size_t done = 0;
        double t0 = now(), t;
        do {
            for (int rep = 0; rep < 1000; rep++)
                for (size_t i = 0; i < n; i++)
                    sum += tnt__id_canonical(out, sizeof out, ids[i], lens[i]);
            done += 1000 * n;
            t = now() - t0;
        } while (t < 0.3);
        if ((double)done / t > best)
            best = (double)done / t;
    }
    return sum ? best : 0;
}

/* The mix N times over, untimed. */
static int profile(tnt_id *id, const char *const *ids, const size_t *lens, size_t n, long times)
{
    size_t bad = 0;
    for (long r = 0; r < times; r++)
        for (size_t i = 0; i < n; i++)
            bad += tnt_id_parse(id, ids[i], lens[i], NULL) != TNT_OK;
    printf("%zu identifiers parsed, %zu failed\n", (size_t)times * n, bad);
    return bad != 0;
}

int main(int argc, char **argv)
{
    const set sets[] = {
        SET("EPC URN", g_urn),      SET("Digital Link", g_dl), SET("element string", g_es),
        SET("barcode data", g_barcode), SET("plain GTIN", g_plain),
    };
    const char *mix[64];
    size_t lens[64], nmix = 0;
    tnt_id *id;
    if (tnt_id_new(&id) != TNT_OK)
        return 1;
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++)
        for (size_t i = 0; i < sets[s].n; i++) {
            mix[nmix] = sets[s].ids[i];
            lens[nmix++] = strlen(sets[s].ids[i]);
        }
    if (argc == 3 && strcmp(argv[1], "--profile") == 0) {
        int rc = profile(id, mix, lens, nmix, atol(argv[2]));
        tnt_id_free(id);
        return rc;
    }
    printf("tnt_id_parse, one core (target %.0f ids/s)\n", TARGET);
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        size_t l[16];
        for (size_t i = 0; i < sets[s].n; i++)
            l[i] = strlen(sets[s].ids[i]);
        double r = rate(id, sets[s].ids, l, sets[s].n);
        printf("  %-16s %12.0f ids/s  %5.0f ns/id  %s\n", sets[s].name, r, 1e9 / r, r >= TARGET ? "ok" : "below target");
    }
    double r = rate(id, mix, lens, nmix);
    printf("  %-16s %12.0f ids/s  %5.0f ns/id  %s\n", "mix", r, 1e9 / r, r >= TARGET ? "ok" : "below target");
    r = rate_canonical(mix, lens, nmix);
    printf("tnt__id_canonical (event hash path), mix: %.0f ids/s, %.0f ns/id\n", r, r ? 1e9 / r : 0);
    tnt_id_free(id);
    return 0;
}
