/* The backend conformance suite: the same tests against whatever backend
 * serves the URIs it is given, through the public vtables only.
 *
 *   backend_conformance [--log URI] [--store URI] [--archive URI]
 *                       [--log-setting k=v]... [--store-setting k=v]... [--archive-setting k=v]...
 *
 * (or TNT_TEST_LOG_URI, TNT_TEST_STORE_URI, TNT_TEST_ARCHIVE_URI). Roles
 * without a URI are skipped. The tests tolerate data left by earlier runs
 * (a Kafka topic or a DynamoDB table is not wiped between runs): each run
 * writes under keys of its own, except store_clear, which empties the store. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "tnt/sys/backend.h"

static const char *g_uri[3];                 /* log, store, archive */
static const char *g_settings[3][32];
static char g_run[48];                       /* unique to this run */

/* ---- opening ---- */

static const tnt_backend *backend_of(const char *uri)
{
    char scheme[32];
    size_t n = strcspn(uri, ":");
    assert_true(n > 0 && n < sizeof scheme && uri[n] == ':');
    memcpy(scheme, uri, n);
    scheme[n] = '\0';
    const tnt_backend *b = tnt_backend_find(scheme);
    if (!b)
        fail_msg("no backend registered for scheme '%s'", scheme);
    return b;
}

static tnt_log *open_log(void)
{
    const tnt_backend *b = backend_of(g_uri[0]);
    assert_non_null(b->open_log);
    tnt_log *log = NULL;
    char err[512];
    tnt_status rc = b->open_log(&log, g_uri[0], g_settings[0], b->user_data, err, sizeof err);
    if (rc != TNT_OK)
        fail_msg("open_log(%s): %s: %s", g_uri[0], tnt_status_name(rc), err);
    assert_non_null(log);
    return log;
}

static tnt_store *open_store(void)
{
    const tnt_backend *b = backend_of(g_uri[1]);
    assert_non_null(b->open_store);
    tnt_store *s = NULL;
    char err[512];
    tnt_status rc = b->open_store(&s, g_uri[1], g_settings[1], b->user_data, err, sizeof err);
    if (rc != TNT_OK)
        fail_msg("open_store(%s): %s: %s", g_uri[1], tnt_status_name(rc), err);
    return s;
}

static tnt_archive *open_archive(void)
{
    const tnt_backend *b = backend_of(g_uri[2]);
    assert_non_null(b->open_archive);
    tnt_archive *a = NULL;
    char err[512];
    tnt_status rc = b->open_archive(&a, g_uri[2], g_settings[2], b->user_data, err, sizeof err);
    if (rc != TNT_OK)
        fail_msg("open_archive(%s): %s: %s", g_uri[2], tnt_status_name(rc), err);
    return a;
}

#define OK(expr)                                                                                   \
    do {                                                                                           \
        tnt_status rc_ = (expr);                                                                   \
        if (rc_ != TNT_OK)                                                                         \
            fail_msg("%s: %s: %s", #expr, tnt_status_name(rc_), tnt_error_last());                 \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ======================================================================
 * The event log
 * ====================================================================== */

/* Acknowledgements of one append() call. */
typedef struct acks {
    pthread_mutex_t mu;
    size_t n;
    int calls[4096];
    tnt_status status[4096];
    int partition[4096];
    int64_t offset[4096];
    size_t order[4096];   /* indexes in the order acked */
    size_t norder;
} acks;

static void acks_init(acks *a)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
}

static void on_ack(void *userdata, size_t index, tnt_status status, int partition, int64_t offset)
{
    acks *a = userdata;
    pthread_mutex_lock(&a->mu);
    if (index < 4096) {
        a->calls[index]++;
        a->status[index] = status;
        a->partition[index] = partition;
        a->offset[index] = offset;
        a->order[a->norder++ % 4096] = index;
    }
    pthread_mutex_unlock(&a->mu);
}

/* Append n records and flush; every one acked once, durable. */
static void append_flush(tnt_log *log, const tnt_log_record *recs, size_t n, acks *a)
{
    OK(log->methods->append(log, recs, n, on_ack, a));
    OK(log->methods->flush(log, 30000));
    for (size_t i = 0; i < n; i++) {
        if (a->calls[i] != 1)
            fail_msg("record %zu acked %d times", i, a->calls[i]);
        assert_int_equal(a->status[i], TNT_OK);
        assert_true(a->partition[i] >= 0 && a->partition[i] < log->methods->partitions(log));
        assert_true(a->offset[i] >= 0);
    }
}

/* Records read back, collected. */
typedef struct got {
    size_t n, cap;
    struct rec {
        int partition;
        int64_t offset, time;
        char *key, *value;
        size_t value_len;
    } *v;
    size_t stop_after; /* 0: never stop */
} got;

static int on_read(void *userdata, int partition, int64_t offset, int64_t time_ms, const void *key, size_t key_len,
                   const void *value, size_t value_len)
{
    got *g = userdata;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->v = realloc(g->v, g->cap * sizeof *g->v);
    }
    struct rec *r = &g->v[g->n++];
    r->partition = partition;
    r->offset = offset;
    r->time = time_ms;
    r->key = strndup(key, key_len);
    r->value = malloc(value_len + 1);
    memcpy(r->value, value, value_len);
    r->value[value_len] = '\0';
    r->value_len = value_len;
    return g->stop_after && g->n >= g->stop_after;
}

static void got_free(got *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].key);
        free(g->v[i].value);
    }
    free(g->v);
    memset(g, 0, sizeof *g);
}

static tnt_log_record record(const char *key, const char *value, int64_t time_ms)
{
    return (tnt_log_record){key, strlen(key), value, strlen(value), time_ms};
}

static void test_log_append_ack_flush(void **state)
{
    (void)state;
    tnt_log *log = open_log();
    int np = log->methods->partitions(log);
    assert_true(np >= 1);
    enum { N = 90 };
    char keys[3][64], values[N][64];
    tnt_log_record recs[N];
    for (int k = 0; k < 3; k++)
        snprintf(keys[k], sizeof keys[k], "%s/ack/key%d", g_run, k);
    int64_t t = now_ms();
    for (int i = 0; i < N; i++) {
        snprintf(values[i], sizeof values[i], "value %d of %s", i, g_run);
        recs[i] = record(keys[i % 3], values[i], t + i);
    }
    static acks a;
    acks_init(&a);
    /* one call of 60, then two of 15 */
    OK(log->methods->append(log, recs, 60, on_ack, &a));
    OK(log->methods->flush(log, 30000));
    static acks b, c;
    acks_init(&b);
    acks_init(&c);
    OK(log->methods->append(log, recs + 60, 15, on_ack, &b));
    OK(log->methods->append(log, recs + 75, 15, on_ack, &c));
    OK(log->methods->flush(log, 30000));
    int partition[N];
    int64_t offset[N];
    for (int i = 0; i < N; i++) {
        acks *x = i < 60 ? &a : i < 75 ? &b : &c;
        size_t j = (size_t)(i < 60 ? i : i < 75 ? i - 60 : i - 75);
        if (x->calls[j] != 1) fail_msg("record %d: %d acks", i, x->calls[j]);
        assert_int_equal(x->status[j], TNT_OK);
        partition[i] = x->partition[j];
        offset[i] = x->offset[j];
    }
    /* acks of one call come in append order */
    for (size_t i = 0; i < a.norder; i++)
        assert_int_equal(a.order[i], i);
    for (int i = 0; i < N; i++) {
        /* a key keeps its partition; offsets grow in append order within one */
        assert_int_equal(partition[i], partition[i % 3]);
        if (i >= 3)
            assert_true(offset[i] > offset[i - 3]);
        int64_t end;
        OK(log->methods->end_offset(log, partition[i], &end));
        assert_true(end > offset[i]);
    }
    /* read each key's partition back from its first offset */
    for (int k = 0; k < 3; k++) {
        got g = {0};
        OK(log->methods->read(log, partition[k], offset[k], on_read, &g));
        int next = k;
        for (size_t r = 0; r < g.n; r++) {
            if (strcmp(g.v[r].key, keys[k]) != 0)
                continue;
            assert_true(next < N);
            assert_int_equal(g.v[r].offset, offset[next]);
            assert_string_equal(g.v[r].value, values[next]);
            assert_int_equal(g.v[r].time, t + next);
            assert_int_equal(g.v[r].partition, partition[k]);
            next += 3;
        }
        assert_int_equal(next, N + k);
        got_free(&g);
    }
    /* nothing to do is fine */
    OK(log->methods->append(log, recs, 0, on_ack, &a));
    OK(log->methods->flush(log, 1000));
    log->methods->close(log);
}

static void test_log_read_offsets(void **state)
{
    (void)state;
    tnt_log *log = open_log();
    char key[64], values[20][32];
    snprintf(key, sizeof key, "%s/read", g_run);
    tnt_log_record recs[20];
    for (int i = 0; i < 20; i++) {
        snprintf(values[i], sizeof values[i], "r%d", i);
        recs[i] = record(key, values[i], now_ms());
    }
    static acks a;
    acks_init(&a);
    append_flush(log, recs, 20, &a);
    int p = a.partition[0];
    /* from the middle */
    got g = {0};
    OK(log->methods->read(log, p, a.offset[10], on_read, &g));
    assert_true(g.n >= 10);
    assert_int_equal(g.v[0].offset, a.offset[10]);
    assert_string_equal(g.v[0].value, "r10");
    for (size_t i = 1; i < g.n; i++)
        assert_true(g.v[i].offset > g.v[i - 1].offset);
    got_free(&g);
    /* the callback stops the read */
    g.stop_after = 3;
    OK(log->methods->read(log, p, a.offset[5], on_read, &g));
    assert_int_equal(g.n, 3);
    assert_string_equal(g.v[2].value, "r7");
    got_free(&g);
    /* from the end or past it: nothing */
    int64_t end;
    OK(log->methods->end_offset(log, p, &end));
    OK(log->methods->read(log, p, end, on_read, &g));
    OK(log->methods->read(log, p, end + 100, on_read, &g));
    assert_int_equal(g.n, 0);
    /* a partition that does not exist */
    assert_int_not_equal(log->methods->read(log, log->methods->partitions(log), 0, on_read, &g), TNT_OK);
    assert_int_not_equal(log->methods->end_offset(log, -1, &end), TNT_OK);
    log->methods->close(log);
}

static void test_log_partitions_stable(void **state)
{
    (void)state;
    char keys[16][64];
    tnt_log_record recs[16];
    for (int i = 0; i < 16; i++) {
        snprintf(keys[i], sizeof keys[i], "%s/stable/%d", g_run, i);
        recs[i] = record(keys[i], "x", now_ms());
    }
    static acks a, b;
    acks_init(&a);
    acks_init(&b);
    tnt_log *log = open_log();
    int np = log->methods->partitions(log);
    append_flush(log, recs, 16, &a);
    log->methods->close(log);
    log = open_log();
    assert_int_equal(log->methods->partitions(log), np);
    append_flush(log, recs, 16, &b);
    bool spread = false;
    for (int i = 0; i < 16; i++) {
        assert_int_equal(a.partition[i], b.partition[i]);
        assert_true(b.offset[i] > a.offset[i]);
        spread |= a.partition[i] != a.partition[0];
    }
    if (np > 1)
        assert_true(spread); /* 16 keys do not all hash to one partition */
    log->methods->close(log);
}

static void test_log_offset_for_time(void **state)
{
    (void)state;
    tnt_log *log = open_log();
    /* Times far in the future, later than any record of an earlier run. */
    int64_t base = now_ms() + 10LL * 365 * 24 * 3600 * 1000;
    int64_t times[5] = {base + 50, base + 10, base + 90, base + 30, base + 70};
    char key[64];
    snprintf(key, sizeof key, "%s/time", g_run);
    tnt_log_record recs[5];
    for (int i = 0; i < 5; i++)
        recs[i] = record(key, "t", times[i]);
    static acks a;
    acks_init(&a);
    append_flush(log, recs, 5, &a);
    int p = a.partition[0];
    int64_t off, end;
    OK(log->methods->end_offset(log, p, &end));
    OK(log->methods->offset_for_time(log, p, base + 40, &off));
    assert_int_equal(off, a.offset[0]); /* the first record at or after the time, not the least time */
    OK(log->methods->offset_for_time(log, p, base + 50, &off));
    assert_int_equal(off, a.offset[0]);
    OK(log->methods->offset_for_time(log, p, base + 60, &off));
    assert_int_equal(off, a.offset[2]);
    OK(log->methods->offset_for_time(log, p, base + 90, &off));
    assert_int_equal(off, a.offset[2]);
    OK(log->methods->offset_for_time(log, p, base + 91, &off));
    assert_int_equal(off, end);
    OK(log->methods->offset_for_time(log, p, INT64_MIN, &off));
    assert_true(off <= a.offset[0]);
    log->methods->close(log);
}

static void test_log_truncate_before(void **state)
{
    (void)state;
    tnt_log *log = open_log();
    char key[64];
    snprintf(key, sizeof key, "%s/trunc", g_run);
    static char big[2048];
    memset(big, 'b', sizeof big - 1);
    tnt_log_record recs[200];
    for (int i = 0; i < 200; i++) {
        recs[i] = (tnt_log_record){key, strlen(key), big, sizeof big - 1, now_ms()};
    }
    static acks a;
    acks_init(&a);
    for (int i = 0; i < 200; i += 20) { /* several flushes */
        acks b;
        acks_init(&b);
        append_flush(log, recs + i, 20, &b);
        for (int j = 0; j < 20; j++) {
            a.partition[i + j] = b.partition[j];
            a.offset[i + j] = b.offset[j];
        }
    }
    int p = a.partition[0];
    int64_t end_before, end_after;
    OK(log->methods->end_offset(log, p, &end_before));
    OK(log->methods->truncate_before(log, p, a.offset[150]));
    OK(log->methods->end_offset(log, p, &end_after));
    assert_int_equal(end_before, end_after);
    got g = {0};
    OK(log->methods->read(log, p, a.offset[150], on_read, &g));
    assert_int_equal(g.v[0].offset, a.offset[150]);
    size_t mine = 0;
    for (size_t i = 0; i < g.n; i++)
        mine += strcmp(g.v[i].key, key) == 0;
    assert_int_equal(mine, 50);
    got_free(&g);
    /* From before the cut: whatever is kept, in order, and everything from the cut on. */
    OK(log->methods->read(log, p, 0, on_read, &g));
    assert_true(g.n >= 50);
    for (size_t i = 1; i < g.n; i++)
        assert_true(g.v[i].offset > g.v[i - 1].offset);
    assert_true(g.v[0].offset <= a.offset[150]);
    got_free(&g);
    /* appending goes on after a truncation */
    static acks c;
    acks_init(&c);
    append_flush(log, recs, 1, &c);
    assert_int_equal(c.offset[0], end_before);
    log->methods->close(log);
}

typedef struct appender {
    tnt_log *log;
    int id;
    acks a;
} appender;

enum { THREADS = 8, PER_THREAD = 300 };

static void *append_thread(void *arg)
{
    appender *w = arg;
    char keys[PER_THREAD][64], values[PER_THREAD][64];
    tnt_log_record recs[PER_THREAD];
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(keys[i], sizeof keys[i], "%s/conc/%d", g_run, (w->id * 7 + i) % 23);
        snprintf(values[i], sizeof values[i], "%s %d %d", g_run, w->id, i);
        recs[i] = record(keys[i], values[i], now_ms());
    }
    /* calls of 1 to 4 records, each followed by a flush: the group commit case */
    for (int i = 0; i < PER_THREAD;) {
        int n = 1 + (i * 7 + w->id) % 4;
        if (i + n > PER_THREAD)
            n = PER_THREAD - i;
        acks one;
        acks_init(&one);
        if (w->log->methods->append(w->log, recs + i, (size_t)n, on_ack, &one) != TNT_OK ||
            w->log->methods->flush(w->log, 60000) != TNT_OK)
            return (void *)1;
        for (int j = 0; j < n; j++) {
            w->a.calls[i + j] += one.calls[j];
            w->a.status[i + j] = one.status[j];
            w->a.partition[i + j] = one.partition[j];
            w->a.offset[i + j] = one.offset[j];
        }
        i += n;
    }
    return NULL;
}

static void test_log_concurrent_appenders(void **state)
{
    (void)state;
    tnt_log *log = open_log();
    int np = log->methods->partitions(log);
    int64_t start[1024];
    for (int p = 0; p < np && p < 1024; p++)
        OK(log->methods->end_offset(log, p, &start[p]));
    static appender w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].log = log;
        w[i].id = i;
        acks_init(&w[i].a);
        assert_int_equal(pthread_create(&t[i], NULL, append_thread, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
        for (int j = 0; j < PER_THREAD; j++) {
            assert_int_equal(w[i].a.calls[j], 1);
            assert_int_equal(w[i].a.status[j], TNT_OK);
        }
    }
    /* durable and readable: reopen, then every record exactly once where its ack said */
    log->methods->close(log);
    log = open_log();
    static int seen[THREADS][PER_THREAD];
    memset(seen, 0, sizeof seen);
    for (int p = 0; p < np; p++) {
        got g = {0};
        OK(log->methods->read(log, p, start[p], on_read, &g));
        for (size_t r = 0; r < g.n; r++) {
            char run[48];
            int id, i;
            if (sscanf(g.v[r].value, "%47s %d %d", run, &id, &i) != 3 || strcmp(run, g_run) != 0 ||
                strncmp(g.v[r].key, g_run, strlen(g_run)) != 0 || !strstr(g.v[r].key, "/conc/"))
                continue;
            assert_true(id >= 0 && id < THREADS && i >= 0 && i < PER_THREAD);
            seen[id][i]++;
            assert_int_equal(w[id].a.partition[i], p);
            assert_int_equal(w[id].a.offset[i], g.v[r].offset);
        }
        got_free(&g);
    }
    for (int id = 0; id < THREADS; id++)
        for (int i = 0; i < PER_THREAD; i++)
            if (seen[id][i] != 1)
                fail_msg("record %d of thread %d read %d times", i, id, seen[id][i]);
    log->methods->close(log);
}

static void test_log_reopen_durable(void **state)
{
    (void)state;
    tnt_log *log = open_log();
    char key[64];
    snprintf(key, sizeof key, "%s/reopen", g_run);
    static char value[1500];
    for (size_t i = 0; i < sizeof value - 1; i++)
        value[i] = (char)('a' + i % 26);
    tnt_log_record recs[10];
    for (int i = 0; i < 10; i++)
        recs[i] = (tnt_log_record){key, strlen(key), value, sizeof value - 1, 1000 + i};
    static acks a;
    acks_init(&a);
    append_flush(log, recs, 10, &a);
    log->methods->close(log);
    log = open_log();
    got g = {0};
    g.stop_after = 10;
    OK(log->methods->read(log, a.partition[0], a.offset[0], on_read, &g));
    assert_int_equal(g.n, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(g.v[i].offset, a.offset[i]);
        assert_int_equal(g.v[i].value_len, sizeof value - 1);
        assert_memory_equal(g.v[i].value, value, sizeof value - 1);
        assert_int_equal(g.v[i].time, 1000 + i);
    }
    got_free(&g);
    /* close with records still queued: they are flushed first */
    static acks b;
    acks_init(&b);
    OK(log->methods->append(log, recs, 3, on_ack, &b));
    log->methods->close(log);
    for (int i = 0; i < 3; i++)
        assert_int_equal(b.calls[i], 1);
    log = open_log();
    int64_t end;
    OK(log->methods->end_offset(log, b.partition[2], &end));
    assert_true(end > b.offset[2]);
    log->methods->close(log);
}

/* ======================================================================
 * The state store
 * ====================================================================== */

static char g_pk[64];

static tnt_store_item item(const char *pk, const char *sk, const void *value, size_t len, uint64_t version)
{
    return (tnt_store_item){pk, strlen(pk), sk, strlen(sk), value, len, version};
}

static void test_store_put_get_versions(void **state)
{
    (void)state;
    tnt_store *s = open_store();
    uint64_t v1, v2, v;
    tnt_store_item it = item(g_pk, "state", "one", 3, TNT_STORE_NEW);
    OK(s->methods->put(s, &it, &v1));
    assert_true(v1 >= 1);
    assert_int_equal(s->methods->put(s, &it, NULL), TNT_E_CONFLICT); /* exists */
    void *val;
    size_t len;
    OK(s->methods->get(s, g_pk, strlen(g_pk), "state", 5, &val, &len, &v));
    assert_int_equal(len, 3);
    assert_memory_equal(val, "one", 3);
    assert_int_equal(v, v1);
    tnt_free(val);
    it = item(g_pk, "state", "two", 3, v1);
    OK(s->methods->put(s, &it, &v2));
    assert_true(v2 != v1);
    assert_int_equal(s->methods->put(s, &it, NULL), TNT_E_CONFLICT); /* stale version */
    it = item(g_pk, "nothing-here", "x", 1, 12345);
    assert_int_equal(s->methods->put(s, &it, NULL), TNT_E_CONFLICT); /* a version of nothing */
    it = item(g_pk, "state", "three", 5, TNT_STORE_ANY);
    OK(s->methods->put(s, &it, &v));
    assert_true(v != v2);
    OK(s->methods->get(s, g_pk, strlen(g_pk), "state", 5, &val, &len, &v2));
    assert_int_equal(v2, v);
    assert_int_equal(len, 5);
    assert_memory_equal(val, "three", 5);
    tnt_free(val);
    /* an empty value is a value */
    it = item(g_pk, "empty", "", 0, TNT_STORE_NEW);
    OK(s->methods->put(s, &it, NULL));
    OK(s->methods->get(s, g_pk, strlen(g_pk), "empty", 5, &val, &len, &v));
    assert_int_equal(len, 0);
    tnt_free(val);
    /* missing */
    assert_int_equal(s->methods->get(s, g_pk, strlen(g_pk), "missing", 7, &val, &len, &v), TNT_E_NOTFOUND);
    assert_int_equal(s->methods->get(s, "no-such-pk", 10, "state", 5, &val, &len, &v), TNT_E_NOTFOUND);
    s->methods->close(s);
}

static void test_store_remove(void **state)
{
    (void)state;
    tnt_store *s = open_store();
    tnt_store_item it = item(g_pk, "doomed", "x", 1, TNT_STORE_NEW);
    OK(s->methods->put(s, &it, NULL));
    OK(s->methods->remove(s, g_pk, strlen(g_pk), "doomed", 6));
    void *val;
    size_t len;
    uint64_t v;
    assert_int_equal(s->methods->get(s, g_pk, strlen(g_pk), "doomed", 6, &val, &len, &v), TNT_E_NOTFOUND);
    OK(s->methods->remove(s, g_pk, strlen(g_pk), "doomed", 6)); /* absent: no error */
    OK(s->methods->put(s, &it, NULL));                          /* and it can be new again */
    s->methods->close(s);
}

/* Write a batch, retrying what comes back unprocessed (the items at the end). */
static void batch_all(tnt_store *s, const tnt_store_item *items, size_t n)
{
    for (int tries = 0; n > 0; tries++) {
        assert_true(tries < 100);
        size_t left = n;
        tnt_status rc = s->methods->batch_write(s, items, n, &left);
        if (rc == TNT_E_TIMEOUT) { /* throttled */
            usleep(10000);
            continue;
        }
        OK(rc);
        assert_true(left <= n);
        items += n - left;
        n = left;
    }
}

typedef struct seen_items {
    size_t n;
    char sk[64][32];
    uint64_t version[64];
    size_t len[64];
    size_t stop_after;
} seen_items;

static int on_item(void *userdata, const tnt_store_item *it)
{
    seen_items *s = userdata;
    if (s->n < 64) {
        snprintf(s->sk[s->n], sizeof s->sk[0], "%.*s", (int)it->sk_len, (const char *)it->sk);
        s->version[s->n] = it->version;
        s->len[s->n] = it->value_len;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static void query(tnt_store *s, const char *pk, const char *from, const char *to, size_t limit, int reverse,
                  seen_items *out, const char *expect)
{
    memset(out, 0, sizeof *out);
    OK(s->methods->query(s, pk, strlen(pk), from, from ? strlen(from) : 0, to, to ? strlen(to) : 0, limit, reverse,
                         on_item, out));
    char joined[512] = "";
    for (size_t i = 0; i < out->n && i < 64; i++) {
        strcat(joined, i ? "," : "");
        strcat(joined, out->sk[i]);
    }
    assert_string_equal(joined, expect);
}

static void test_store_batch_and_query(void **state)
{
    (void)state;
    tnt_store *s = open_store();
    char pk[80], pk2[80];
    snprintf(pk, sizeof pk, "%s/q", g_pk);
    snprintf(pk2, sizeof pk2, "%s/q2", g_pk); /* a longer key with the same start */
    const char *sks[] = {"a", "b", "b1", "c", "d", "e"};
    tnt_store_item items[8];
    for (int i = 0; i < 6; i++)
        items[i] = item(pk, sks[i], sks[i], strlen(sks[i]), TNT_STORE_ANY);
    items[6] = item(pk2, "a", "other", 5, TNT_STORE_ANY);
    items[7] = item(pk2, "b", "other", 5, TNT_STORE_ANY);
    batch_all(s, items, 8);
    seen_items seen;
    query(s, pk, NULL, NULL, 0, 0, &seen, "a,b,b1,c,d,e");
    query(s, pk, "b", "d", 0, 0, &seen, "b,b1,c");
    query(s, pk, "b", NULL, 0, 0, &seen, "b,b1,c,d,e");
    query(s, pk, NULL, "b1", 0, 0, &seen, "a,b");
    query(s, pk, "b", "d", 2, 0, &seen, "b,b1");
    query(s, pk, NULL, NULL, 0, 1, &seen, "e,d,c,b1,b,a");
    query(s, pk, "b", "d", 0, 1, &seen, "c,b1,b");
    query(s, pk, "b", "d", 2, 1, &seen, "c,b1");
    query(s, pk, "x", NULL, 0, 0, &seen, "");
    query(s, pk, "c", "c", 0, 0, &seen, "");
    query(s, pk2, NULL, NULL, 0, 0, &seen, "a,b");
    query(s, pk2, NULL, NULL, 0, 1, &seen, "b,a");
    assert_int_equal(seen.len[0], 5);
    assert_true(seen.version[0] >= 1);
    /* the callback stops a query */
    memset(&seen, 0, sizeof seen);
    seen.stop_after = 2;
    OK(s->methods->query(s, pk, strlen(pk), NULL, 0, NULL, 0, 0, 0, on_item, &seen));
    assert_int_equal(seen.n, 2);
    /* deletes and puts in one batch */
    tnt_store_item mixed[3] = {
        item(pk, "b", NULL, 0, TNT_STORE_ANY),
        item(pk, "c", NULL, 0, TNT_STORE_ANY),
        item(pk, "f", "f", 1, TNT_STORE_ANY),
    };
    batch_all(s, mixed, 3);
    query(s, pk, NULL, NULL, 0, 0, &seen, "a,b1,d,e,f");
    /* a full batch */
    tnt_store_item full[TNT_STORE_MAX_BATCH];
    char sk[TNT_STORE_MAX_BATCH][16];
    char pk3[80];
    snprintf(pk3, sizeof pk3, "%s/full", g_pk);
    for (int i = 0; i < TNT_STORE_MAX_BATCH; i++) {
        snprintf(sk[i], sizeof sk[i], "%02d", i);
        full[i] = item(pk3, sk[i], sk[i], 2, TNT_STORE_ANY);
    }
    batch_all(s, full, TNT_STORE_MAX_BATCH);
    memset(&seen, 0, sizeof seen);
    OK(s->methods->query(s, pk3, strlen(pk3), NULL, 0, NULL, 0, 0, 0, on_item, &seen));
    assert_int_equal(seen.n, TNT_STORE_MAX_BATCH);
    s->methods->close(s);
}

static void test_store_large_values(void **state)
{
    (void)state;
    tnt_store *s = open_store();
    size_t n = TNT_STORE_MAX_VALUE;
    unsigned char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 131 + 7);
    tnt_store_item it = item(g_pk, "big", big, n, TNT_STORE_NEW);
    OK(s->methods->put(s, &it, NULL));
    void *val;
    size_t len;
    uint64_t v;
    OK(s->methods->get(s, g_pk, strlen(g_pk), "big", 3, &val, &len, &v));
    assert_int_equal(len, n);
    assert_memory_equal(val, big, n);
    tnt_free(val);
    /* in a batch too */
    tnt_store_item two[2] = {item(g_pk, "big2", big, n, TNT_STORE_ANY), item(g_pk, "big3", big, n, TNT_STORE_ANY)};
    batch_all(s, two, 2);
    OK(s->methods->get(s, g_pk, strlen(g_pk), "big3", 4, &val, &len, &v));
    assert_int_equal(len, n);
    assert_memory_equal(val, big, n);
    tnt_free(val);
    free(big);
    s->methods->close(s);
}

typedef struct racer {
    tnt_store *s;
    const char *pk;
    int id;
    tnt_status result;
    int increments, conflicts;
    pthread_barrier_t *start;
} racer;

static void *race_new(void *arg)
{
    racer *r = arg;
    char value[16];
    snprintf(value, sizeof value, "winner %d", r->id);
    tnt_store_item it = item(r->pk, "race", value, strlen(value), TNT_STORE_NEW);
    pthread_barrier_wait(r->start);
    r->result = r->s->methods->put(r->s, &it, NULL);
    return NULL;
}

static void *race_increment(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->start);
    while (r->increments < 50) {
        void *val;
        size_t len;
        uint64_t v;
        if (r->s->methods->get(r->s, r->pk, strlen(r->pk), "counter", 7, &val, &len, &v) != TNT_OK)
            return (void *)1;
        char buf[32];
        snprintf(buf, sizeof buf, "%.*s", (int)len, (char *)val);
        tnt_free(val);
        snprintf(buf, sizeof buf, "%ld", strtol(buf, NULL, 10) + 1);
        tnt_store_item it = item(r->pk, "counter", buf, strlen(buf), v);
        tnt_status rc = r->s->methods->put(r->s, &it, NULL);
        if (rc == TNT_OK)
            r->increments++;
        else if (rc == TNT_E_CONFLICT || rc == TNT_E_TIMEOUT)
            r->conflicts++;
        else
            return (void *)2;
    }
    return NULL;
}

static void test_store_conditional_races(void **state)
{
    (void)state;
    tnt_store *s = open_store();
    enum { N = 8 };
    for (int round = 0; round < 5; round++) {
        char pk[80];
        snprintf(pk, sizeof pk, "%s/race%d", g_pk, round);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, N);
        racer r[N];
        pthread_t t[N];
        for (int i = 0; i < N; i++) {
            r[i] = (racer){s, pk, i, TNT_OK, 0, 0, &start};
            pthread_create(&t[i], NULL, race_new, &r[i]);
        }
        int wins = 0, winner = -1;
        for (int i = 0; i < N; i++) {
            pthread_join(t[i], NULL);
            if (r[i].result == TNT_OK) {
                wins++;
                winner = i;
            } else {
                assert_int_equal(r[i].result, TNT_E_CONFLICT);
            }
        }
        assert_int_equal(wins, 1);
        void *val;
        size_t len;
        uint64_t v;
        OK(s->methods->get(s, pk, strlen(pk), "race", 4, &val, &len, &v));
        char expect[32];
        snprintf(expect, sizeof expect, "winner %d", winner);
        assert_int_equal(len, strlen(expect));
        assert_memory_equal(val, expect, len);
        tnt_free(val);
        pthread_barrier_destroy(&start);
    }
    /* read-modify-write with versions: no increment is lost */
    char pk[80];
    snprintf(pk, sizeof pk, "%s/counter", g_pk);
    tnt_store_item it = item(pk, "counter", "0", 1, TNT_STORE_NEW);
    OK(s->methods->put(s, &it, NULL));
    enum { M = 4 };
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, M);
    racer r[M];
    pthread_t t[M];
    for (int i = 0; i < M; i++) {
        r[i] = (racer){s, pk, i, TNT_OK, 0, 0, &start};
        pthread_create(&t[i], NULL, race_increment, &r[i]);
    }
    for (int i = 0; i < M; i++) {
        void *res;
        pthread_join(t[i], &res);
        assert_null(res);
    }
    pthread_barrier_destroy(&start);
    void *val;
    size_t len;
    uint64_t v;
    OK(s->methods->get(s, pk, strlen(pk), "counter", 7, &val, &len, &v));
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)len, (char *)val);
    tnt_free(val);
    assert_int_equal(strtol(buf, NULL, 10), M * 50);
    s->methods->close(s);
}

typedef struct scan_count {
    const char *prefix;
    size_t mine, total;
} scan_count;

static int on_scan(void *userdata, const tnt_store_item *it)
{
    scan_count *c = userdata;
    c->total++;
    size_t n = strlen(c->prefix);
    c->mine += it->pk_len >= n && memcmp(it->pk, c->prefix, n) == 0;
    return 0;
}

static void test_store_scan_and_clear(void **state)
{
    (void)state;
    tnt_store *s = open_store();
    char pk[80];
    snprintf(pk, sizeof pk, "%s/scan", g_pk);
    tnt_store_item items[5];
    const char *sks[] = {"1", "2", "3", "4", "5"};
    for (int i = 0; i < 5; i++)
        items[i] = item(pk, sks[i], "v", 1, TNT_STORE_ANY);
    batch_all(s, items, 5);
    scan_count c = {pk, 0, 0};
    OK(s->methods->scan(s, on_scan, &c));
    assert_int_equal(c.mine, 5);
    /* clear: nothing is left */
    OK(s->methods->clear(s));
    c = (scan_count){"", 0, 0};
    OK(s->methods->scan(s, on_scan, &c));
    assert_int_equal(c.total, 0);
    void *val;
    size_t len;
    uint64_t v;
    assert_int_equal(s->methods->get(s, pk, strlen(pk), "1", 1, &val, &len, &v), TNT_E_NOTFOUND);
    s->methods->close(s);
}

/* ======================================================================
 * The cold archive
 * ====================================================================== */

static char g_prefix[64];

static char *akey(const char *suffix)
{
    static _Thread_local char k[8][256];
    static _Thread_local int next;
    char *p = k[next++ % 8];
    snprintf(p, 256, "%s/%s", g_prefix, suffix);
    return p;
}

static void test_archive_put_get(void **state)
{
    (void)state;
    tnt_archive *a = open_archive();
    const char *text = "hello, archive";
    OK(a->methods->put(a, akey("seg/0001.zst"), text, strlen(text)));
    void *data;
    size_t len;
    OK(a->methods->get(a, akey("seg/0001.zst"), 0, 0, &data, &len));
    assert_int_equal(len, strlen(text));
    assert_memory_equal(data, text, len);
    tnt_free(data);
    /* immutable */
    assert_int_equal(a->methods->put(a, akey("seg/0001.zst"), "other", 5), TNT_E_EXISTS);
    OK(a->methods->get(a, akey("seg/0001.zst"), 0, 0, &data, &len));
    assert_memory_equal(data, text, len);
    tnt_free(data);
    /* ranges */
    OK(a->methods->get(a, akey("seg/0001.zst"), 7, 7, &data, &len));
    assert_int_equal(len, 7);
    assert_memory_equal(data, "archive", 7);
    tnt_free(data);
    OK(a->methods->get(a, akey("seg/0001.zst"), 7, 0, &data, &len));
    assert_int_equal(len, 7);
    tnt_free(data);
    OK(a->methods->get(a, akey("seg/0001.zst"), 10, 100, &data, &len)); /* clipped to the end */
    assert_int_equal(len, 4);
    assert_memory_equal(data, "hive", 4);
    tnt_free(data);
    /* empty objects exist */
    OK(a->methods->put(a, akey("empty"), "", 0));
    OK(a->methods->get(a, akey("empty"), 0, 0, &data, &len));
    assert_int_equal(len, 0);
    tnt_free(data);
    /* missing */
    assert_int_equal(a->methods->get(a, akey("missing"), 0, 0, &data, &len), TNT_E_NOTFOUND);
    /* large */
    size_t n = 8u << 20;
    unsigned char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i ^ (i >> 9));
    OK(a->methods->put(a, akey("big"), big, n));
    OK(a->methods->get(a, akey("big"), 0, 0, &data, &len));
    assert_int_equal(len, n);
    assert_memory_equal(data, big, n);
    tnt_free(data);
    OK(a->methods->get(a, akey("big"), 5000000, 1000, &data, &len));
    assert_int_equal(len, 1000);
    assert_memory_equal(data, big + 5000000, 1000);
    tnt_free(data);
    free(big);
    a->methods->close(a);
}

typedef struct listed {
    char keys[32][256];
    uint64_t sizes[32];
    int64_t mtimes[32];
    size_t n, stop_after;
} listed;

static int on_list(void *userdata, const char *key, uint64_t size, int64_t modified_ms)
{
    listed *l = userdata;
    if (l->n < 32) {
        snprintf(l->keys[l->n], sizeof l->keys[0], "%s", key + strlen(g_prefix) + 1);
        l->sizes[l->n] = size;
        l->mtimes[l->n] = modified_ms;
    }
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static void list(tnt_archive *a, const char *suffix, const char *expect, size_t stop_after)
{
    listed l;
    memset(&l, 0, sizeof l);
    l.stop_after = stop_after;
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s/%s", g_prefix, suffix);
    OK(a->methods->list(a, prefix, on_list, &l));
    char joined[2048] = "";
    for (size_t i = 0; i < l.n && i < 32; i++) {
        strcat(joined, i ? "," : "");
        strcat(joined, l.keys[i]);
    }
    assert_string_equal(joined, expect);
}

static void test_archive_list_remove(void **state)
{
    (void)state;
    tnt_archive *a = open_archive();
    /* put out of order, with names whose order differs from a directory walk's */
    const char *names[] = {"l/b/2", "l/a", "l/b-x", "l/b/1", "l/c/d/e", "l/ab"};
    for (int i = 0; i < 6; i++)
        OK(a->methods->put(a, akey(names[i]), names[i], strlen(names[i])));
    list(a, "l/", "l/a,l/ab,l/b-x,l/b/1,l/b/2,l/c/d/e", 0);
    list(a, "l/a", "l/a,l/ab", 0);
    list(a, "l/b", "l/b-x,l/b/1,l/b/2", 0);
    list(a, "l/b/", "l/b/1,l/b/2", 0);
    list(a, "l/c/d/e", "l/c/d/e", 0);
    list(a, "l/z", "", 0);
    list(a, "nothing/here/", "", 0);
    list(a, "l/", "l/a,l/ab", 2);
    listed l;
    memset(&l, 0, sizeof l);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s/l/b/", g_prefix);
    OK(a->methods->list(a, prefix, on_list, &l));
    assert_int_equal(l.sizes[0], 5);
    int64_t now = now_ms();
    assert_true(l.mtimes[0] > now - 3600 * 1000 && l.mtimes[0] < now + 3600 * 1000);
    /* remove */
    OK(a->methods->remove(a, akey("l/b/1")));
    OK(a->methods->remove(a, akey("l/b/1"))); /* absent: no error */
    OK(a->methods->remove(a, akey("l/c/d/e")));
    list(a, "l/", "l/a,l/ab,l/b-x,l/b/2", 0);
    void *data;
    size_t len;
    assert_int_equal(a->methods->get(a, akey("l/b/1"), 0, 0, &data, &len), TNT_E_NOTFOUND);
    /* a removed key can be written again */
    OK(a->methods->put(a, akey("l/c/d/e"), "again", 5));
    list(a, "l/c", "l/c/d/e", 0);
    a->methods->close(a);
}

static void test_archive_bad_keys(void **state)
{
    (void)state;
    tnt_archive *a = open_archive();
    const char *bad[] = {"", "/etc/passwd", "../escape", "a/../../escape", "a/..", "..", "a//b", "a/./b", ".",
                         "a/", "x/.."};
    void *data;
    size_t len;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (a->methods->put(a, bad[i], "x", 1) != TNT_E_INVALID)
            fail_msg("put accepted the key '%s'", bad[i]);
        assert_int_equal(a->methods->get(a, bad[i], 0, 0, &data, &len), TNT_E_INVALID);
        assert_int_equal(a->methods->remove(a, bad[i]), TNT_E_INVALID);
    }
    assert_int_equal(a->methods->put(a, NULL, "x", 1), TNT_E_INVALID);
    a->methods->close(a);
}

/* ====================================================================== */

static void usage(void)
{
    fprintf(stderr, "usage: backend_conformance [--log URI] [--store URI] [--archive URI]\n"
                    "       [--log-setting k=v]... [--store-setting k=v]... [--archive-setting k=v]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *env[3] = {"TNT_TEST_LOG_URI", "TNT_TEST_STORE_URI", "TNT_TEST_ARCHIVE_URI"};
    const char *opt[3] = {"--log", "--store", "--archive"};
    const char *set[3] = {"--log-setting", "--store-setting", "--archive-setting"};
    size_t nset[3] = {0};
    for (int r = 0; r < 3; r++)
        g_uri[r] = getenv(env[r]);
    for (int i = 1; i < argc; i++) {
        int r = 0;
        while (r < 3 && strcmp(argv[i], opt[r]) != 0 && strcmp(argv[i], set[r]) != 0)
            r++;
        if (r == 3 || i + 1 >= argc)
            usage();
        if (strcmp(argv[i], opt[r]) == 0)
            g_uri[r] = argv[++i];
        else if (nset[r] < 31)
            g_settings[r][nset[r]++] = argv[++i];
    }
    if (!g_uri[0] && !g_uri[1] && !g_uri[2])
        usage();
    snprintf(g_run, sizeof g_run, "run-%lld-%d", (long long)now_ms(), (int)getpid());
    snprintf(g_pk, sizeof g_pk, "%s/pk", g_run);
    snprintf(g_prefix, sizeof g_prefix, "conformance/%s", g_run);

    const struct CMUnitTest log_tests[] = {
        cmocka_unit_test(test_log_append_ack_flush),
        cmocka_unit_test(test_log_read_offsets),
        cmocka_unit_test(test_log_partitions_stable),
        cmocka_unit_test(test_log_offset_for_time),
        cmocka_unit_test(test_log_truncate_before),
        cmocka_unit_test(test_log_concurrent_appenders),
        cmocka_unit_test(test_log_reopen_durable),
    };
    const struct CMUnitTest store_tests[] = {
        cmocka_unit_test(test_store_put_get_versions),
        cmocka_unit_test(test_store_remove),
        cmocka_unit_test(test_store_batch_and_query),
        cmocka_unit_test(test_store_large_values),
        cmocka_unit_test(test_store_conditional_races),
        cmocka_unit_test(test_store_scan_and_clear),
    };
    const struct CMUnitTest archive_tests[] = {
        cmocka_unit_test(test_archive_put_get),
        cmocka_unit_test(test_archive_list_remove),
        cmocka_unit_test(test_archive_bad_keys),
    };
    int failed = 0;
    if (g_uri[0])
        failed += cmocka_run_group_tests_name("event log", log_tests, NULL, NULL);
    if (g_uri[1])
        failed += cmocka_run_group_tests_name("state store", store_tests, NULL, NULL);
    if (g_uri[2])
        failed += cmocka_run_group_tests_name("cold archive", archive_tests, NULL, NULL);
    return failed ? 1 : 0;
}
