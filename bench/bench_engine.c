/* The engine on the embedded store: durable ingest with concurrent
 * producers, track lookups, history of a product with 100 events, replay,
 * the state store's floor (LMDB alone writing replay's records), archive
 * (throughput and zstd ratio). Prints figures beside targets; never fails
 * on a slow machine.
 *
 *   bench_engine [EVENTS]      (default 200000 events ingested) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "tnt/tnt.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static char g_dir[256];
static tnt_engine *g_e;
static long g_events, g_batch = 100;

#define GLN_DC "9506000000015"

/* One EPCIS document of `batch` receiving events with sensor data (~1 KB each). */
static char *document(long first, long batch, size_t *len)
{
    size_t cap = (size_t)batch * 1400 + 1024;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap,
                                "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],"
                                "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":"
                                "\"2024-01-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[");
    for (long i = first; i < first + batch; i++) {
        long p = i % 20000; /* 20,000 products, ~10 events each at 200k */
        n += (size_t)snprintf(
            s + n, cap - n,
            "%s{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-%02ldT%02ld:%02ld:%02ld.%03ldZ\",\"eventTimeZoneOffset\":"
            "\"+01:00\",\"epcList\":[\"urn:epc:id:sgtin:9506000.013435.P%ld\"],\"action\":\"OBSERVE\","
            "\"bizStep\":\"receiving\",\"disposition\":\"in_progress\",\"readPoint\":{\"id\":\"urn:epc:id:sgln:9506000."
            "00001.0\"},\"bizLocation\":{\"id\":\"urn:epc:id:sgln:9506000.00001.0\"},\"bizTransactionList\":[{\"type\":"
            "\"po\",\"bizTransaction\":\"urn:epcglobal:cbv:bt:9506000000008:PO%ld\"}],\"sensorElementList\":[{"
            "\"sensorMetadata\":{\"time\":\"2024-01-01T00:00:00Z\",\"deviceID\":\"urn:epc:id:giai:9506000.L%ld\"},"
            "\"sensorReport\":[{\"type\":\"Temperature\",\"value\":%ld.%ld,\"uom\":\"CEL\"},{\"type\":"
            "\"RelativeHumidity\",\"value\":%ld,\"uom\":\"P1\"}]}]}",
            i == first ? "" : ",", 1 + i / 2000000 % 28, i / 100000 % 24, i / 1000 % 60, i / 10 % 60, i % 1000, p, i,
            p % 97, 2 + i % 6, i % 10, 40 + i % 30);
    }
    n += (size_t)snprintf(s + n, cap - n, "]}}");
    *len = n;
    return s;
}

typedef struct job {
    long first, count;
    double lat_total;
} job;

static void *producer(void *arg)
{
    job *j = arg;
    for (long i = j->first; i < j->first + j->count; i += g_batch) {
        size_t len;
        char *doc = document(i, g_batch, &len);
        tnt_ingest_report *r;
        double t0 = now_s();
        if (tnt_engine_ingest(&r, g_e, doc, len, 0) != TNT_OK)
            fprintf(stderr, "ingest: %s\n", tnt_error_last());
        j->lat_total += now_s() - t0;
        tnt_ingest_report_free(r);
        free(doc);
    }
    return NULL;
}

static void open_engine(void)
{
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = g_dir;
    o.archive_after_ms = 1; /* archive everything when asked */
    tnt_reader_options ro;
    tnt_reader_options_init(&ro, TNT_READER_OPTIONS_VERSION);
    ro.future_skew_ms = -1;
    o.reader = &ro;
    if (tnt_engine_open(&g_e, &o) != TNT_OK) {
        fprintf(stderr, "open: %s\n", tnt_error_last());
        exit(1);
    }
}

static void bench_ingest(int threads)
{
    pthread_t th[16];
    job jobs[16];
    long per = g_events / threads;
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){i * per, per, 0};
        pthread_create(&th[i], NULL, producer, &jobs[i]);
    }
    double lat = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        lat += jobs[i].lat_total;
    }
    double dt = now_s() - t0;
    printf("ingest, durable, %2d producers, batches of %ld: %9.0f events/s  (%.2f ms per batch)   target >= 100,000\n",
           threads, g_batch, (double)(per * threads) / dt, lat / (double)(per * threads / g_batch) * 1e3);
}

static void bench_track(void)
{
    /* the identifiers are formatted before the clock starts: the lookups are what is timed */
    enum { NIDS = 20000 };
    static char ids[NIDS][64];
    for (long i = 0; i < NIDS; i++)
        snprintf(ids[i], sizeof ids[i], "https://id.gs1.org/01/09506000134352/21/P%ld", i);
    long n = 300000;
    double t0 = cpu_s();
    long found = 0;
    for (long i = 0; i < n; i++) {
        tnt_track *t;
        if (tnt_engine_track(&t, g_e, ids[i % NIDS]) == TNT_OK) {
            found += tnt_track_get(t, TNT_TRACK_BIZ_STEP) != NULL;
            tnt_track_free(t);
        }
    }
    double dt = cpu_s() - t0;
    printf("track (one core, CPU time):                       %9.0f lookups/s (%ld found)   target >= 1,000,000\n",
           (double)n / dt, found);
}

static void bench_history(void)
{
    /* a product with 100 events */
    char doc[200000];
    size_t n = (size_t)snprintf(doc, sizeof doc, "[");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(doc + n, sizeof doc - n,
                              "%s{\"product_id\":\"(01)09506000134352(21)HIST\",\"event_type\":\"%s\",\"location\":\"" GLN_DC
                              "\",\"timestamp\":%d,\"condition\":{\"temperature\":4}}",
                              i ? "," : "", i % 2 ? "store" : "receive", 1700000000 + i * 60);
    snprintf(doc + n, sizeof doc - n, "]");
    tnt_ingest_report *r;
    tnt_engine_ingest(&r, g_e, doc, strlen(doc), 0);
    tnt_ingest_report_free(r);
    double lat[2000];
    for (int i = 0; i < 2000; i++) {
        double t0 = now_s();
        tnt_history *h;
        if (tnt_engine_history(&h, g_e, "(01)09506000134352(21)HIST", NULL, 100) == TNT_OK)
            tnt_history_free(h);
        lat[i] = now_s() - t0;
    }
    qsort(lat, 2000, sizeof lat[0], cmp_d);
    printf("history of 100 events:                   p50 %6.0f us  p99 %6.0f us                  target p99 <= 100 us\n",
           lat[1000] * 1e6, lat[1980] * 1e6);
}

static size_t bench_replay(void)
{
    size_t n = 0;
    double t0 = now_s();
    if (tnt_engine_replay(g_e, 0, &n) != TNT_OK)
        fprintf(stderr, "replay: %s\n", tnt_error_last());
    double dt = now_s() - t0;
    printf("replay:                                           %9.0f events/s (%zu)   target >= 500,000\n",
           (double)n / dt, n);
    return n;
}

/* The state store's floor: LMDB alone (no libtnt) writing the records that
 * replay wrote, read back from the store, into a new store. In random order
 * (ingest and replay meet products and event hashes in no key order), 256
 * events' worth a transaction as replay commits, and then in key order
 * appended (MDB_APPEND, a bulk load's best case). It is a bound, not a
 * model: replay also rewrites each product's state once per event, where
 * this writes only the last one, and nothing here parses, hashes or logs.
 * No sync, as the engine's store does not sync while the log is durable. */
typedef struct rec {
    unsigned db;
    MDB_val k, v;
} rec;

static int floor_env(MDB_env **env, const char *path, size_t map, unsigned flags)
{
    mkdir(path, 0700);
    return mdb_env_create(env) || mdb_env_set_maxdbs(*env, 64) || mdb_env_set_mapsize(*env, map) ||
           mdb_env_open(*env, path, flags, 0600);
}

static double floor_write(const char *path, size_t map, char names[][64], unsigned ndb, rec *r, size_t n,
                          size_t per_txn, unsigned put_flags)
{
    MDB_env *env;
    MDB_txn *t;
    MDB_dbi dbi[64];
    int fd = -1;
    if (floor_env(&env, path, map, MDB_WRITEMAP | MDB_NOSYNC | MDB_NOMETASYNC) || mdb_env_get_fd(env, &fd) ||
        posix_fallocate(fd, 0, (off_t)map)) /* allocated beforehand, as the engine's store grows */
        return -1;
    double t0 = now_s();
    int rc = mdb_txn_begin(env, NULL, 0, &t);
    for (unsigned d = 0; d < ndb && !rc; d++)
        rc = mdb_dbi_open(t, names[d], MDB_CREATE, &dbi[d]);
    for (size_t i = 0; i < n && !rc; i++) {
        rc = mdb_put(t, dbi[r[i].db], &r[i].k, &r[i].v, put_flags);
        if (!rc && (i + 1) % per_txn == 0 && !(rc = mdb_txn_commit(t)))
            rc = mdb_txn_begin(env, NULL, 0, &t);
    }
    if (!rc)
        rc = mdb_txn_commit(t);
    double dt = now_s() - t0;
    mdb_env_close(env);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0 || rc) {
        fprintf(stderr, "floor: %s\n", rc ? mdb_strerror(rc) : "cannot remove its store");
        return -1;
    }
    return dt;
}

static void bench_floor(size_t events)
{
    char src[300], dst[300];
    snprintf(src, sizeof src, "%s/state", g_dir);
    snprintf(dst, sizeof dst, "%s/floor", g_dir);
    MDB_env *env;
    MDB_txn *t;
    MDB_cursor *c;
    MDB_val k, v;
    static char names[64][64];
    unsigned ndb = 0;
    size_t n = 0, cap = 1 << 16, bytes = 0;
    rec *r = malloc(cap * sizeof *r);
    if (!r || !events || floor_env(&env, src, (size_t)64 << 30, MDB_RDONLY) || mdb_txn_begin(env, NULL, MDB_RDONLY, &t)) {
        fprintf(stderr, "floor: cannot read the state store\n");
        free(r);
        return;
    }
    MDB_dbi root, dbi;
    mdb_dbi_open(t, NULL, 0, &root);
    mdb_cursor_open(t, root, &c);
    for (int op = MDB_FIRST; ndb < 64 && mdb_cursor_get(c, &k, &v, op) == 0; op = MDB_NEXT)
        if (k.mv_size < sizeof names[0]) {
            snprintf(names[ndb], sizeof names[0], "%.*s", (int)k.mv_size, (const char *)k.mv_data);
            ndb++;
        }
    mdb_cursor_close(c);
    for (unsigned d = 0; d < ndb; d++) {
        if (mdb_dbi_open(t, names[d], 0, &dbi) || mdb_cursor_open(t, dbi, &c))
            continue;
        for (int op = MDB_FIRST; mdb_cursor_get(c, &k, &v, op) == 0; op = MDB_NEXT) {
            if (n == cap && !(r = realloc(r, (cap *= 2) * sizeof *r)))
                exit(1);
            r[n] = (rec){d, {k.mv_size, malloc(k.mv_size)}, {v.mv_size, malloc(v.mv_size ? v.mv_size : 1)}};
            memcpy(r[n].k.mv_data, k.mv_data, k.mv_size);
            memcpy(r[n].v.mv_data, v.mv_data, v.mv_size);
            bytes += k.mv_size + v.mv_size;
            n++;
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(t);
    mdb_env_close(env);
    size_t per_txn = n * 256 / events + 1, map = bytes * 8 + ((size_t)64 << 20);
    double sorted = floor_write(dst, map, names, ndb, r, n, per_txn, MDB_APPEND);
    uint64_t x = 88172645463325252u; /* a fixed shuffle */
    for (size_t i = n; i > 1; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t j = (size_t)(x % i);
        rec tmp = r[i - 1];
        r[i - 1] = r[j];
        r[j] = tmp;
    }
    double shuffled = floor_write(dst, map, names, ndb, r, n, per_txn, 0);
    printf("state store floor, LMDB alone (%zu records, %.1f per event, %.1f MB):\n", n, (double)n / (double)events,
           (double)bytes / 1e6);
    printf("  random order, 256 events a transaction:            %9.0f events/s\n", (double)events / shuffled);
    printf("  key order, appended (a bulk load):                 %9.0f events/s\n", (double)events / sorted);
    for (size_t i = 0; i < n; i++)
        free(r[i].k.mv_data), free(r[i].v.mv_data);
    free(r);
}

static long dir_bytes(const char *path)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "du -sb '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    long v = 0;
    if (p) {
        if (fscanf(p, "%ld", &v) != 1)
            v = 0;
        pclose(p);
    }
    return v;
}

static void bench_archive(void)
{
    char log[300], arch[300];
    snprintf(log, sizeof log, "%s/log", g_dir);
    snprintf(arch, sizeof arch, "%s/archive", g_dir);
    long before = dir_bytes(log);
    size_t archived = 0, expired = 0;
    double t0 = now_s();
    if (tnt_engine_archive(g_e, 0, &archived, &expired) != TNT_OK)
        fprintf(stderr, "archive: %s\n", tnt_error_last());
    double dt = now_s() - t0;
    long after = dir_bytes(arch);
    printf("archive:                                          %9.0f events/s, %.1f MB of log records -> %.1f MB zstd "
           "(ratio %.1f)\n",
           (double)archived / dt, before / 1e6, after / 1e6, after ? (double)before / (double)after : 0);
}

int main(int argc, char **argv)
{
    g_events = argc > 1 ? atol(argv[1]) : 200000;
    snprintf(g_dir, sizeof g_dir, "%s/tnt-bench-engine-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_dir))
        return 1;
    printf("libtnt %s engine benchmark: %ld events, data in %s (%ld cores)\n", tnt_version_string(), g_events, g_dir,
           sysconf(_SC_NPROCESSORS_ONLN));
    open_engine();
    bench_ingest(1);
    tnt_engine_close(g_e);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/*", g_dir);
    if (system(cmd) != 0)
        return 1;
    open_engine();
    bench_ingest(8);
    bench_track();
    bench_history();
    size_t replayed = bench_replay();
    tnt_engine_close(g_e);
    fflush(stdout);
    pid_t floor = fork(); /* LMDB opens a store once per process; and its memory is not the engine's */
    if (floor == 0) {
        bench_floor(replayed);
        fflush(stdout);
        _exit(0);
    }
    if (floor > 0)
        waitpid(floor, NULL, 0);
    open_engine();
    bench_archive();
    printf("peak resident memory: %.1f MB\n", rss_kb() / 1024.0);
    tnt_engine_close(g_e);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) != 0;
}
