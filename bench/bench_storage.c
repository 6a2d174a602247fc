/* Storage benchmarks of the "file" backend: log appends with group commit
 * from 1, 4 and 16 threads, LMDB get/put/batch/query, archive put/get.
 * Prints figures; never fails.
 *   bench_storage [dir]     (default: a directory under $TMPDIR or /tmp)
 * TNT_BENCH_SECONDS (default 2) bounds each timed phase. */
#define _GNU_SOURCE
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/local/local.h"
#include "tnt/sys/backend.h"

static double g_seconds = 2;
static char g_dir[512];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void uri_of(char *out, size_t size, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    snprintf(out, size, "file://%s", path);
}

/* ---- log ---- */

typedef struct writer {
    tnt_log *log;
    int id;
    double until;
    long records;
    int failed;
} writer;

static void on_ack(void *userdata, size_t index, tnt_status status, int partition, int64_t offset)
{
    (void)index, (void)partition, (void)offset;
    if (status != TNT_OK)
        ((writer *)userdata)->failed = 1;
}

static void *write_loop(void *arg)
{
    writer *w = arg;
    char value[1024], key[32];
    memset(value, 'e', sizeof value);
    for (long i = 0; now() < w->until && !w->failed; i++) {
        snprintf(key, sizeof key, "product-%d-%ld", w->id, i % 1000);
        tnt_log_record r = {key, strlen(key), value, sizeof value, (int64_t)i};
        if (w->log->methods->append(w->log, &r, 1, on_ack, w) != TNT_OK ||
            w->log->methods->flush(w->log, -1) != TNT_OK) {
            w->failed = 1;
            break;
        }
        w->records++;
    }
    return NULL;
}

static void bench_log(int threads)
{
    char uri[700];
    char name[32];
    snprintf(name, sizeof name, "log-%d", threads);
    uri_of(uri, sizeof uri, name);
    tnt_log *log;
    char err[256];
    if (tnt__local_backend.open_log(&log, uri, NULL, NULL, err, sizeof err) != TNT_OK) {
        printf("log: cannot open: %s\n", err);
        return;
    }
    writer w[16];
    pthread_t t[16];
    double start = now();
    for (int i = 0; i < threads; i++) {
        w[i] = (writer){log, i, start + g_seconds, 0, 0};
        pthread_create(&t[i], NULL, write_loop, &w[i]);
    }
    long records = 0;
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        records += w[i].records;
        failed |= w[i].failed;
    }
    double secs = now() - start;
    uint64_t batches, fsyncs;
    tnt__local_log_stats(log, &batches, &fsyncs);
    log->methods->close(log);
    printf("log append+flush, 1 KB records, %2d thread%s: %7.0f records/s  %6.0f commits/s  %6.0f fsyncs/s  "
           "%4.1f records/commit%s\n",
           threads, threads == 1 ? " " : "s", records / secs, batches / secs, fsyncs / secs,
           batches ? (double)records / batches : 0.0, failed ? "  (errors)" : "");
}

static int count_read(void *userdata, int partition, int64_t offset, int64_t time_ms, const void *key, size_t key_len,
                      const void *value, size_t value_len)
{
    *(long *)userdata += (long)value_len;
    return 0;
}

static void bench_log_read(void)
{
    char uri[700];
    uri_of(uri, sizeof uri, "log-read");
    tnt_log *log;
    char err[256];
    if (tnt__local_backend.open_log(&log, uri, NULL, NULL, err, sizeof err) != TNT_OK)
        return;
    static char value[1024];
    memset(value, 'r', sizeof value);
    tnt_log_record recs[1000];
    for (int i = 0; i < 1000; i++)
        recs[i] = (tnt_log_record){&recs[i], 8, value, sizeof value, i};
    double start = now();
    for (int b = 0; b < 100; b++) {
        log->methods->append(log, recs, 1000, NULL, NULL);
        log->methods->flush(log, -1);
    }
    double wsecs = now() - start;
    start = now();
    long bytes = 0;
    for (int p = 0; p < log->methods->partitions(log); p++)
        log->methods->read(log, p, 0, count_read, &bytes);
    double rsecs = now() - start;
    printf("log batches of 1000 x 1 KB: %9.0f records/s written; replay %9.0f records/s (%.0f MB/s)\n",
           100000 / wsecs, 100000 / rsecs, bytes / rsecs / 1e6);
    log->methods->close(log);
}

/* ---- state store ---- */

static int count_item(void *userdata, const tnt_store_item *it)
{
    (void)it;
    ++*(long *)userdata;
    return 0;
}

static void bench_store(void)
{
    char uri[700];
    uri_of(uri, sizeof uri, "state");
    tnt_store *s;
    char err[256];
    if (tnt__local_backend.open_store(&s, uri, NULL, NULL, err, sizeof err) != TNT_OK) {
        printf("store: cannot open: %s\n", err);
        return;
    }
    char value[1024], pk[32], sk[32];
    memset(value, 's', sizeof value);
    /* single puts: one synced transaction each */
    long puts = 0;
    double start = now();
    while (now() - start < g_seconds) {
        snprintf(pk, sizeof pk, "product-%ld", puts % 1000);
        snprintf(sk, sizeof sk, "event-%08ld", puts);
        tnt_store_item it = {pk, strlen(pk), sk, strlen(sk), value, sizeof value, TNT_STORE_ANY};
        if (s->methods->put(s, &it, NULL) != TNT_OK)
            break;
        puts++;
    }
    double put_secs = now() - start;
    /* batches of 25 */
    long batched = 0;
    start = now();
    while (now() - start < g_seconds) {
        tnt_store_item items[TNT_STORE_MAX_BATCH];
        char sks[TNT_STORE_MAX_BATCH][32], pks[TNT_STORE_MAX_BATCH][32];
        for (int i = 0; i < TNT_STORE_MAX_BATCH; i++) {
            long n = puts + batched + i;
            snprintf(pks[i], sizeof pks[i], "product-%ld", n % 1000);
            snprintf(sks[i], sizeof sks[i], "event-%08ld", n);
            items[i] = (tnt_store_item){pks[i], strlen(pks[i]), sks[i], strlen(sks[i]), value, sizeof value,
                                        TNT_STORE_ANY};
        }
        size_t left;
        if (s->methods->batch_write(s, items, TNT_STORE_MAX_BATCH, &left) != TNT_OK)
            break;
        batched += TNT_STORE_MAX_BATCH;
    }
    double batch_secs = now() - start;
    long total = puts + batched;
    /* random gets */
    long gets = 0;
    unsigned seed = 1;
    start = now();
    while (now() - start < g_seconds) {
        for (int i = 0; i < 1000; i++) {
            long n = rand_r(&seed) % total;
            snprintf(pk, sizeof pk, "product-%ld", n % 1000);
            snprintf(sk, sizeof sk, "event-%08ld", n);
            void *v;
            size_t len;
            uint64_t ver;
            if (s->methods->get(s, pk, strlen(pk), sk, strlen(sk), &v, &len, &ver) == TNT_OK)
                tnt_free(v);
            gets++;
        }
    }
    double get_secs = now() - start;
    /* queries: the latest 20 events of a product */
    long queries = 0, items = 0;
    start = now();
    while (now() - start < g_seconds) {
        for (int i = 0; i < 100; i++) {
            snprintf(pk, sizeof pk, "product-%ld", (long)(rand_r(&seed) % 1000));
            s->methods->query(s, pk, strlen(pk), NULL, 0, NULL, 0, 20, 1, count_item, &items);
            queries++;
        }
    }
    double query_secs = now() - start;
    printf("state store (LMDB), 1 KB values, %ld items: put %7.0f/s (synced each)  batch of 25 %7.0f items/s\n"
           "                                  get %9.0f/s  query (latest 20 of a product) %7.0f/s\n",
           total, puts / put_secs, batched / batch_secs, gets / get_secs, queries / query_secs);
    s->methods->close(s);
}

/* ---- archive ---- */

static void bench_archive(void)
{
    char uri[700];
    uri_of(uri, sizeof uri, "archive");
    tnt_archive *a;
    char err[256];
    if (tnt__local_backend.open_archive(&a, uri, NULL, NULL, err, sizeof err) != TNT_OK) {
        printf("archive: cannot open: %s\n", err);
        return;
    }
    size_t size = 8u << 20;
    char *data = malloc(size);
    for (size_t i = 0; i < size; i++)
        data[i] = (char)(i * 2654435761u >> 24);
    int n = 0;
    double start = now();
    while (now() - start < g_seconds && n < 200) {
        char key[64];
        snprintf(key, sizeof key, "p%04d/%020d.seg.zst", n % 4, n);
        if (a->methods->put(a, key, data, size) != TNT_OK)
            break;
        n++;
    }
    double put_secs = now() - start;
    start = now();
    for (int i = 0; i < n; i++) {
        char key[64];
        snprintf(key, sizeof key, "p%04d/%020d.seg.zst", i % 4, i);
        void *out;
        size_t len;
        if (a->methods->get(a, key, 0, 0, &out, &len) == TNT_OK)
            tnt_free(out);
    }
    double get_secs = now() - start;
    printf("archive, 8 MB objects: put %6.0f MB/s (fsynced)  get %6.0f MB/s (page cache)\n",
           n * (size / 1e6) / put_secs, n * (size / 1e6) / get_secs);
    free(data);
    a->methods->close(a);
}

int main(int argc, char **argv)
{
    const char *secs = getenv("TNT_BENCH_SECONDS");
    if (secs && atof(secs) > 0)
        g_seconds = atof(secs);
    if (argc > 1) {
        snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
    } else {
        snprintf(g_dir, sizeof g_dir, "%s/tnt-bench-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(g_dir)) {
            perror("mkdtemp");
            return 0;
        }
    }
    printf("libtnt storage benchmarks in %s (%.0f s a phase)\n", g_dir, g_seconds);
    bench_log(1);
    bench_log(4);
    bench_log(16);
    bench_log_read();
    bench_store();
    bench_archive();
    if (argc <= 1)
        nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
