/* No data loss, proven: a child process ingests and reports every event the
 * engine acknowledged; the parent kills it with SIGKILL at random moments,
 * reopens the store and checks that every acknowledged event is there, and
 * finally that the state equals a full replay of the log. Also: a read-only
 * data directory and a full disk give clean errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tnt/tnt.h"
#include "tnt/engine.h"

#define ROUNDS 12

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir - 32, "%s/tnt-durability-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", g_dir, g_dir);
    return system(cmd);
}

static tnt_engine *open_dir(const char *dir)
{
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = dir;
    tnt_engine *e = NULL;
    if (tnt_engine_open(&e, &o) != TNT_OK)
        return NULL;
    return e;
}

static int ingest_one(tnt_engine *e, long serial)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"product_id\":\"(01)09506000134352(21)K%ld\",\"event_type\":\"receive\",\"location\":\"9506000000015\","
             "\"timestamp\":\"2024-07-01T10:00:00Z\",\"condition\":{\"temperature\":%ld}}",
             serial, serial % 30);
    tnt_ingest_report *r = NULL;
    tnt_status st = tnt_engine_ingest(&r, e, buf, strlen(buf), 0);
    size_t acc = 0;
    tnt_ingest_report_counts(r, NULL, &acc, NULL, NULL);
    tnt_ingest_report_free(r);
    return st == TNT_OK && acc == 1 ? 0 : -1;
}

/* The child: ingest forever, writing each acknowledged serial to fd. */
static void child(const char *dir, int fd, long start)
{
    tnt_engine *e = open_dir(dir);
    if (!e)
        _exit(3);
    for (long s = start;; s++) {
        if (ingest_one(e, s) != 0)
            _exit(4);
        if (write(fd, &s, sizeof s) != sizeof s)
            _exit(5);
    }
}

static void test_kill_nine(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/kill", g_dir);
    srand(42);
    long next = 0;
    long *acked = NULL;
    size_t nacked = 0, cap = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(dir, fds[1], next);
        }
        close(fds[1]);
        struct timespec d = {0, (long)(20 + rand() % 300) * 1000000L};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status)); /* it was still working, not failed */
        long s;
        while (read(fds[0], &s, sizeof s) == sizeof s) {
            if (nacked == cap) {
                cap = cap ? cap * 2 : 1024;
                acked = realloc(acked, cap * sizeof *acked);
            }
            acked[nacked++] = s;
            next = s + 1;
        }
        close(fds[0]);
        next += 1000; /* serials the killed child may have written unacknowledged */

        /* Reopen: recovery applies the log's tail; every acknowledged event is there. */
        tnt_engine *e = open_dir(dir);
        if (!e)
            fail_msg("reopen after kill %d: %s", round, tnt_error_last());
        for (size_t i = 0; i < nacked; i++) {
            char id[64];
            snprintf(id, sizeof id, "(01)09506000134352(21)K%ld", acked[i]);
            tnt_track *t;
            if (tnt_engine_track(&t, e, id) != TNT_OK)
                fail_msg("round %d: acknowledged event K%ld is lost: %s", round, acked[i], tnt_error_last());
            tnt_track_free(t);
        }
        tnt_engine_close(e);
    }
    assert_true(nacked > 50);

    /* The recovered state equals a full replay of the log. */
    tnt_engine *e = open_dir(dir);
    assert_non_null(e);
    char *before = NULL, *after = NULL, id[64];
    snprintf(id, sizeof id, "(01)09506000134352(21)K%ld", acked[nacked / 2]);
    tnt_track *t;
    if (tnt_engine_track(&t, e, id) != TNT_OK)
        fail_msg("track %s: %s", id, tnt_error_last());
    tnt_track_json(&before, NULL, t);
    tnt_track_free(t);
    size_t n = 0;
    assert_int_equal(tnt_engine_replay(e, 0, &n), TNT_OK);
    assert_true(n >= nacked);
    if (tnt_engine_track(&t, e, id) != TNT_OK)
        fail_msg("track %s after replay: %s", id, tnt_error_last());
    tnt_track_json(&after, NULL, t);
    tnt_track_free(t);
    assert_string_equal(before, after);
    tnt_free(before);
    tnt_free(after);
    tnt_engine_close(e);
    free(acked);
}

static void test_read_only_directory(void **state)
{
    (void)state;
    if (geteuid() == 0) {
        /* root writes anywhere: prove the message path with a file in the way instead */
        char dir[400], path[450];
        snprintf(dir, sizeof dir, "%s/blocked", g_dir);
        mkdir(dir, 0755);
        snprintf(path, sizeof path, "%s/log", dir);
        FILE *f = fopen(path, "w");
        fputs("not a directory", f);
        fclose(f);
        tnt_engine *e = open_dir(dir);
        assert_null(e);
        assert_non_null(strstr(tnt_error_last(), path));
        return;
    }
    char dir[400];
    snprintf(dir, sizeof dir, "%s/ro", g_dir);
    mkdir(dir, 0555);
    tnt_engine *e = open_dir(dir);
    assert_null(e);
    assert_non_null(strstr(tnt_error_last(), dir));
}

static void test_disk_full(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/full", g_dir);
    tnt_engine *e = open_dir(dir);
    assert_non_null(e);
    assert_int_equal(ingest_one(e, 1), 0);
    /* Every further write beyond the current file sizes fails as on a full disk. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 1;
    setrlimit(RLIMIT_FSIZE, &lim);
    int failures = 0;
    for (long s = 2; s < 200; s++)
        failures += ingest_one(e, s) != 0;
    /* a failed write says so per event: not confirmed stored, send it again */
    char doc[512];
    snprintf(doc, sizeof doc,
             "{\"product_id\":\"(01)09506000134352(21)K999\",\"event_type\":\"receive\",\"location\":"
             "\"9506000000015\",\"timestamp\":\"2024-07-01T10:00:00Z\"}");
    tnt_ingest_report *r = NULL;
    tnt_status st = tnt_engine_ingest(&r, e, doc, strlen(doc), 0);
    size_t acc = 9, rej = 9;
    tnt_ingest_report_counts(r, NULL, &acc, NULL, &rej);
    int status = -1;
    const char *hash = NULL, *code = NULL, *path = NULL, *msg = NULL;
    size_t nerr = 0;
    assert_int_equal(tnt_ingest_report_event(&status, &hash, &nerr, r, 0), TNT_OK);
    assert_int_not_equal(st, TNT_OK); /* every write fails, as the ones above */
    assert_int_equal(acc, 0);
    assert_int_equal(rej, 1);
    assert_int_equal(status, TNT_INGEST_REJECTED);
    assert_int_equal(nerr, 1);
    assert_int_equal(tnt_ingest_report_error(&code, &path, &msg, r, 0, 0), TNT_OK);
    assert_string_equal(code, "NOT_STORED");
    assert_non_null(strstr(msg, "send it again"));
    tnt_ingest_report_free(r);
    setrlimit(RLIMIT_FSIZE, &old);
    assert_true(failures > 0);
    /* sent again, once the disk has room: stored (or a duplicate, if the log had it) */
    r = NULL;
    assert_int_equal(tnt_engine_ingest(&r, e, doc, strlen(doc), 0), TNT_OK);
    size_t dup = 0;
    tnt_ingest_report_counts(r, NULL, &acc, &dup, &rej);
    assert_int_equal(acc + dup, 1);
    tnt_ingest_report_free(r);
    tnt_engine_close(e);
    /* Reopened: what was acknowledged is there, and the store works again. */
    e = open_dir(dir);
    assert_non_null(e);
    tnt_track *t;
    assert_int_equal(tnt_engine_track(&t, e, "(01)09506000134352(21)K1"), TNT_OK);
    tnt_track_free(t);
    assert_int_equal(ingest_one(e, 1000), 0);
    tnt_engine_close(e);
}

/* n events in one document: units <letter><serial> from first on, each
 * received (or commissioned) at its own second. */
static tnt_status ingest_units(tnt_engine *e, char letter, const char *step, long first, long n)
{
    size_t cap = (size_t)n * 260 + 16, k = 0;
    char *doc = malloc(cap);
    k += (size_t)snprintf(doc, cap, "[");
    for (long s = first; s < first + n; s++)
        k += (size_t)snprintf(doc + k, cap - k,
                              "%s{\"product_id\":\"(01)09506000134352(21)%c%ld\",\"event_type\":\"%s\",\"location\":"
                              "\"9506000000015\",\"timestamp\":%ld,\"condition\":{\"temperature\":%ld}}",
                              s == first ? "" : ",", letter, s, step, 1650000000 + s, s % 30);
    snprintf(doc + k, cap - k, "]");
    tnt_ingest_report *r = NULL;
    tnt_status st = tnt_engine_ingest(&r, e, doc, strlen(doc), 0);
    tnt_ingest_report_free(r);
    free(doc);
    return st;
}

static tnt_status ingest_hundred(tnt_engine *e, long first) { return ingest_units(e, 'F', "receive", first, 100); }

static bool tracked(tnt_engine *e, long serial)
{
    char id[64];
    snprintf(id, sizeof id, "(01)09506000134352(21)F%ld", serial);
    tnt_track *t;
    if (tnt_engine_track(&t, e, id) != TNT_OK)
        return false;
    tnt_track_free(t);
    return true;
}

/* The state store cannot grow while the log still can (its files are
 * smaller): a batch reaches the log but not the store. The engine writes
 * nothing more until it has applied what the log holds past that batch, and
 * does so by itself at the next ingest once there is room. In a child: the
 * file size limit is the process's. */
static void store_full_child(const char *dir)
{
    tnt_engine *e = open_dir(dir);
    if (!e)
        _exit(10);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 6 << 20; /* the store's first map is 4 MiB and grows by 32 */
    setrlimit(RLIMIT_FSIZE, &lim);
    long failed = -1;
    for (long first = 0; first < 20000 && failed < 0; first += 100)
        if (ingest_hundred(e, first) != TNT_OK)
            failed = first;
    if (failed < 0)
        _exit(11); /* the store never filled */
    if (tracked(e, failed))
        _exit(12); /* the failed batch is in the log, not yet in the state */
    /* still no room: refused with the reason, nothing applied out of order */
    if (ingest_hundred(e, failed + 100) == TNT_OK || !strstr(tnt_error_last(), "state store"))
        _exit(13);
    setrlimit(RLIMIT_FSIZE, &old);
    if (ingest_hundred(e, failed + 200) != TNT_OK) {
        fprintf(stderr, "after room was made: %s\n", tnt_error_last());
        _exit(14);
    }
    for (long s = 0; s < failed + 300; s++) { /* the batch that failed came from the log; the refused one was not stored */
        bool want = s < failed + 100 || s >= failed + 200;
        if (tracked(e, s) != want) {
            fprintf(stderr, "F%ld: %s\n", s, want ? "missing" : "stored, though refused");
            _exit(15);
        }
    }
    tnt_engine_close(e);
    _exit(0);
}

static void test_store_full_heals(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/storefull", g_dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        store_full_child(dir);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* reopened: the same */
    tnt_engine *e = open_dir(dir);
    assert_non_null(e);
    assert_true(tracked(e, 0));
    tnt_engine_close(e);
}

/* Two partitions start new segments in one commit, and the first cannot
 * (no file descriptor left): the commit fails as a whole, and the other
 * partition keeps its active file, so the next ingest works. */
static tnt_status ingest_rolls(tnt_engine *e, int from, int n) { return ingest_units(e, 'R', "commission", from, n); }

static void test_roll_fails(void **state)
{
    (void)state;
    char dir[400], cfg[500];
    snprintf(dir, sizeof dir, "%s/rollfail", g_dir);
    snprintf(cfg, sizeof cfg, "%s/rollfail.yml", g_dir);
    FILE *f = fopen(cfg, "w");
    fputs("settings:\n  log.segment_bytes: 4096\n", f);
    fclose(f);
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = dir;
    o.config_path = cfg;
    o.partitions = 2;
    tnt_engine *e = NULL;
    assert_int_equal(tnt_engine_open(&e, &o), TNT_OK);
    assert_int_equal(ingest_rolls(e, 0, 20), TNT_OK); /* a few KB in each partition */
    struct rlimit old, lim;
    getrlimit(RLIMIT_NOFILE, &old);
    int lowest = dup(0); /* the next descriptor: none beyond it may be opened */
    close(lowest);
    lim = old;
    lim.rlim_cur = (rlim_t)lowest;
    setrlimit(RLIMIT_NOFILE, &lim);
    tnt_status st = ingest_rolls(e, 100, 40);
    setrlimit(RLIMIT_NOFILE, &old);
    assert_int_not_equal(st, TNT_OK);
    for (int round = 0; round < 3; round++)
        assert_int_equal(ingest_rolls(e, 1000 + round * 100, 2), TNT_OK);
    tnt_engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_nine),
        cmocka_unit_test(test_read_only_directory),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_store_full_heals),
        cmocka_unit_test(test_roll_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
