/* The "file" backend beyond the conformance suite: URIs and settings, the
 * registry, torn and corrupt log tails, the time index, a full disk, a
 * read-only directory, the state store's databases per sort-key class (and
 * a store of the older one-database layout moved into them), and a crash
 * test that SIGKILLs a writer many times. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "backends/local/local.h"
#include "core/core.h"
#include "tnt/sys/backend.h"

static char g_tmp[256];  /* this test's directory */
static char g_err[1024];

/* ---- helpers ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* A fresh directory for one test: returns its file: URI. */
static const char *fresh(const char *name)
{
    static char uri[512];
    char path[400];
    snprintf(path, sizeof path, "%s/%s", g_tmp, name);
    rm_rf(path);
    snprintf(uri, sizeof uri, "file://%s", path);
    return uri;
}

static tnt_log *log_open(const char *uri, const char *const *settings)
{
    tnt_log *log = NULL;
    tnt_status rc = tnt__local_backend.open_log(&log, uri, settings, NULL, g_err, sizeof g_err);
    if (rc != TNT_OK)
        fail_msg("open_log(%s): %s: %s", uri, tnt_status_name(rc), g_err);
    return log;
}

#define OK(expr)                                                                                   \
    do {                                                                                           \
        tnt_status rc_ = (expr);                                                                   \
        if (rc_ != TNT_OK)                                                                         \
            fail_msg("%s: %s: %s", #expr, tnt_status_name(rc_), tnt_error_last());                 \
    } while (0)

typedef struct ackrec {
    int calls;
    tnt_status status;
    int partition;
    int64_t offset;
} ackrec;

static void on_ack(void *userdata, size_t index, tnt_status status, int partition, int64_t offset)
{
    ackrec *a = &((ackrec *)userdata)[index];
    a->calls++;
    a->status = status;
    a->partition = partition;
    a->offset = offset;
}

/* Append n records of one key (values "<prefix><i>" padded to size) and flush. */
static tnt_status put_records(tnt_log *log, const char *key, int n, size_t size, int64_t time0, ackrec *acks)
{
    char *value = malloc(size + 1);
    tnt_status rc = TNT_OK;
    for (int i = 0; i < n && rc == TNT_OK; i++) {
        memset(value, 'a' + i % 26, size);
        int len = snprintf(value, size, "v%d;", i);
        value[len] = ';';
        tnt_log_record r = {key, strlen(key), value, size, time0 + i};
        rc = log->methods->append(log, &r, 1, on_ack, &acks[i]);
    }
    if (rc == TNT_OK)
        rc = log->methods->flush(log, -1);
    free(value);
    return rc;
}

typedef struct counted {
    int64_t n, first, last;
} counted;

static int count_cb(void *userdata, int partition, int64_t offset, int64_t time_ms, const void *key, size_t key_len,
                    const void *value, size_t value_len)
{
    counted *c = userdata;
    if (c->n == 0)
        c->first = offset;
    c->last = offset;
    c->n++;
    return 0;
}

/* The segment files of a partition, sorted; returns how many. */
static int segments(const char *dir, int partition, char names[][512], int max)
{
    char pdir[400];
    snprintf(pdir, sizeof pdir, "%s/p%04d", dir, partition);
    struct dirent **list;
    int n = scandir(pdir, &list, NULL, alphasort), k = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(list[i]->d_name);
        if (len > 4 && strcmp(list[i]->d_name + len - 4, ".log") == 0 && k < max)
            snprintf(names[k++], 512, "%.200s/%.100s", pdir, list[i]->d_name);
        free(list[i]);
    }
    free(list);
    return k;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void flip_byte(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
}

/* ---- URIs and settings ---- */

static void test_uris(void **state)
{
    (void)state;
    char *p = tnt__local_uri_path("file:///var/lib/tnt");
    assert_string_equal(p, "/var/lib/tnt");
    tnt__free(p);
    p = tnt__local_uri_path("file://localhost/var/lib/tnt");
    assert_string_equal(p, "/var/lib/tnt");
    tnt__free(p);
    p = tnt__local_uri_path("FILE:data/log");
    assert_string_equal(p, "data/log");
    tnt__free(p);
    p = tnt__local_uri_path("file:///a%20b/c");
    assert_string_equal(p, "/a b/c");
    tnt__free(p);
    const char *bad[] = {"file://host/x", "file:", "file://", "file:///x?partitions=3", "file:///x%2", "file:///x%00",
                         "s3://bucket/x", "file://localhost"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(tnt__local_uri_path(bad[i]));
        assert_int_equal(tnt_error_last_code(), TNT_E_INVALID);
    }

    /* relative: against the working directory */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(g_tmp), 0);
    tnt_archive *a;
    OK(tnt__local_backend.open_archive(&a, "file:rel/archive", NULL, NULL, g_err, sizeof g_err));
    a->methods->close(a);
    struct stat st;
    assert_int_equal(stat("rel/archive", &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(chdir(cwd), 0);
}

static void test_settings(void **state)
{
    (void)state;
    const char *uri = fresh("settings");
    tnt_log *log;
    const char *unknown[] = {"partitions=2", "colour=blue", NULL};
    assert_int_equal(tnt__local_backend.open_log(&log, uri, unknown, NULL, g_err, sizeof g_err), TNT_E_INVALID);
    assert_non_null(strstr(g_err, "colour"));
    const char *bad[] = {"partitions=many", NULL};
    assert_int_equal(tnt__local_backend.open_log(&log, uri, bad, NULL, g_err, sizeof g_err), TNT_E_INVALID);
    assert_non_null(strstr(g_err, "partitions"));
    const char *zero[] = {"partitions=0", NULL};
    assert_int_equal(tnt__local_backend.open_log(&log, uri, zero, NULL, g_err, sizeof g_err), TNT_E_INVALID);

    const char *two[] = {"file.partitions=2", "segment_bytes=1M", NULL};
    log = log_open(uri, two);
    assert_int_equal(log->methods->partitions(log), 2);
    log->methods->close(log);
    /* the count is fixed at creation */
    log = log_open(uri, NULL);
    assert_int_equal(log->methods->partitions(log), 2);
    log->methods->close(log);
    const char *three[] = {"partitions=3", NULL};
    assert_int_equal(tnt__local_backend.open_log(&log, uri, three, NULL, g_err, sizeof g_err), TNT_E_INVALID);
    assert_non_null(strstr(g_err, "2 partitions"));

    /* partitions without the metadata file: refused, not guessed */
    char meta[600];
    snprintf(meta, sizeof meta, "%s/tnt-log", uri + 7);
    assert_int_equal(unlink(meta), 0);
    assert_int_equal(tnt__local_backend.open_log(&log, uri, NULL, NULL, g_err, sizeof g_err), TNT_E_CORRUPT);
    assert_non_null(strstr(g_err, "tnt-log"));

    tnt_store *s;
    const char *store_bad[] = {"partitions=2", NULL};
    assert_int_equal(tnt__local_backend.open_store(&s, fresh("settings-store"), store_bad, NULL, g_err, sizeof g_err),
                     TNT_E_INVALID);
    assert_non_null(strstr(g_err, "partitions"));
    tnt_archive *a;
    const char *arch_bad[] = {"map_size=1G", NULL};
    assert_int_equal(tnt__local_backend.open_archive(&a, fresh("settings-arch"), arch_bad, NULL, g_err, sizeof g_err),
                     TNT_E_INVALID);
}

static void test_not_a_directory(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/plain-file", g_tmp);
    FILE *f = fopen(path, "w");
    fputs("x", f);
    fclose(f);
    char uri[512];
    snprintf(uri, sizeof uri, "file://%s", path);
    tnt_log *log;
    tnt_store *s;
    tnt_archive *a;
    assert_int_equal(tnt__local_backend.open_log(&log, uri, NULL, NULL, g_err, sizeof g_err), TNT_E_INVALID);
    assert_non_null(strstr(g_err, path));
    assert_int_equal(tnt__local_backend.open_store(&s, uri, NULL, NULL, g_err, sizeof g_err), TNT_E_INVALID);
    assert_non_null(strstr(g_err, path));
    snprintf(uri, sizeof uri, "file://%s/below", path);
    assert_int_not_equal(tnt__local_backend.open_archive(&a, uri, NULL, NULL, g_err, sizeof g_err), TNT_OK);
    assert_non_null(strstr(g_err, path));
}

/* Opening in a directory this process may not write: a clean TNT_E_IO naming
 * it. As root (who may write anywhere) the check runs in a child that drops
 * to an unprivileged user. */
static int open_all_readonly(const char *dir)
{
    char uri[512], sub[512];
    tnt_log *log;
    tnt_store *s;
    tnt_archive *a;
    int bad = 0;
    snprintf(uri, sizeof uri, "file://%s", dir);
    tnt_status rc = tnt__local_backend.open_log(&log, uri, NULL, NULL, g_err, sizeof g_err);
    bad |= (rc != TNT_E_IO || !strstr(g_err, dir)) << 0;
    rc = tnt__local_backend.open_store(&s, uri, NULL, NULL, g_err, sizeof g_err);
    bad |= (rc != TNT_E_IO || !strstr(g_err, dir)) << 1;
    rc = tnt__local_backend.open_archive(&a, uri, NULL, NULL, g_err, sizeof g_err);
    bad |= (rc != TNT_E_IO || !strstr(g_err, dir)) << 2;
    snprintf(sub, sizeof sub, "file://%s/sub/dir", dir); /* cannot be created */
    rc = tnt__local_backend.open_archive(&a, sub, NULL, NULL, g_err, sizeof g_err);
    bad |= (rc != TNT_E_IO || !strstr(g_err, dir)) << 3;
    return bad;
}

static void test_read_only_dir(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/readonly", g_tmp);
    mkdir(dir, 0755);
    if (geteuid() != 0) {
        chmod(dir, 0555);
        assert_int_equal(open_all_readonly(dir), 0);
        chmod(dir, 0755);
        return;
    }
    chmod(g_tmp, 0755);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(100);
        _exit(open_all_readonly(dir));
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("read-only checks failed: mask %d", WEXITSTATUS(status));
}

/* ---- the registry ---- */

static tnt_status no_log(tnt_log **out, const char *uri, const char *const *settings, void *user_data, char *errbuf,
                         size_t errbuf_size)
{
    return TNT_E_UNSUPPORTED;
}

static void test_registry(void **state)
{
    (void)state;
    const tnt_backend *b = tnt_backend_find("file");
    assert_ptr_equal(b, &tnt__local_backend);
    assert_ptr_equal(tnt_backend_find("FILE"), b);
    assert_null(tnt_backend_find("nope"));
    assert_null(tnt_backend_find(NULL));
    static const tnt_backend mem = {TNT_BACKEND_VERSION, "mem", NULL, no_log, NULL, NULL};
    static const tnt_backend mem2 = {TNT_BACKEND_VERSION, "mem", NULL, NULL, NULL, NULL};
    OK(tnt_backend_register(&mem));
    assert_ptr_equal(tnt_backend_find("mem"), &mem);
    OK(tnt_backend_register(&mem2)); /* a later registration replaces */
    assert_ptr_equal(tnt_backend_find("mem"), &mem2);
    static const tnt_backend future = {TNT_BACKEND_VERSION + 1, "future", NULL, NULL, NULL, NULL};
    static const tnt_backend zero = {0, "zero", NULL, NULL, NULL, NULL};
    static const tnt_backend nameless = {TNT_BACKEND_VERSION, "", NULL, NULL, NULL, NULL};
    assert_int_equal(tnt_backend_register(&future), TNT_E_INVALID);
    assert_int_equal(tnt_backend_register(&zero), TNT_E_INVALID);
    assert_int_equal(tnt_backend_register(&nameless), TNT_E_INVALID);
    assert_int_equal(tnt_backend_register(NULL), TNT_E_INVALID);
    /* a host may replace the built-in, and put it back */
    static const tnt_backend myfile = {TNT_BACKEND_VERSION, "file", NULL, no_log, NULL, NULL};
    OK(tnt_backend_register(&myfile));
    assert_ptr_equal(tnt_backend_find("file"), &myfile);
    OK(tnt_backend_register(&tnt__local_backend));
    assert_ptr_equal(tnt_backend_find("file"), &tnt__local_backend);
    void *p = tnt_backend_alloc(100);
    assert_non_null(p);
    tnt_free(p);
}

/* ---- the log: tails, corruption, the index, limits ---- */

static void test_torn_tail(void **state)
{
    (void)state;
    const char *uri = fresh("torn");
    const char *one[] = {"partitions=1", NULL};
    tnt_log *log = log_open(uri, one);
    static ackrec acks[10];
    memset(acks, 0, sizeof acks);
    OK(put_records(log, "product", 10, 100, 1000, acks));
    log->methods->close(log);

    char names[4][512];
    assert_int_equal(segments(uri + 7, 0, names, 4), 1);
    off_t good = file_size(names[0]);
    /* half a record, with a plain write(), as a crash mid-append leaves it */
    unsigned char frame[18 + 7 + 100];
    memset(frame, 'z', sizeof frame);
    tnt__put_u32(frame, (uint32_t)(10 + 7 + 100));
    tnt__put_u64(frame + 8, 2000);
    tnt__put_u16(frame + 16, 7);
    memcpy(frame + 18, "product", 7);
    tnt__put_u32(frame + 4, tnt__local_crc(tnt__local_crc(0, frame, 4), frame + 8, sizeof frame - 8));
    int fd = open(names[0], O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, frame, sizeof frame / 2), (ssize_t)(sizeof frame / 2));
    close(fd);

    log = log_open(uri, one);
    assert_non_null(strstr(g_err, "torn"));      /* the message, though the open succeeded */
    assert_non_null(strstr(g_err, names[0]));
    assert_int_equal(file_size(names[0]), good);
    int64_t end;
    OK(log->methods->end_offset(log, 0, &end));
    assert_int_equal(end, 10);
    counted c = {0};
    OK(log->methods->read(log, 0, 0, count_cb, &c));
    assert_int_equal(c.n, 10);
    /* appending goes on from there */
    static ackrec more[3];
    memset(more, 0, sizeof more);
    OK(put_records(log, "product", 3, 100, 3000, more));
    assert_int_equal(more[0].offset, 10);
    assert_int_equal(more[2].offset, 12);
    log->methods->close(log);
    log = log_open(uri, one);
    assert_string_equal(g_err, ""); /* a clean open says nothing */
    log->methods->close(log);

    /* a bad CRC in the last record: a corrupt tail, cut off the same way */
    flip_byte(names[0], file_size(names[0]) - 5);
    log = log_open(uri, one);
    assert_non_null(strstr(g_err, "corrupt tail"));
    OK(log->methods->end_offset(log, 0, &end));
    assert_int_equal(end, 12);
    log->methods->close(log);
    /* a few stray bytes (shorter than a header) */
    fd = open(names[0], O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "\x01\x02\x03", 3), 3);
    close(fd);
    log = log_open(uri, one);
    assert_non_null(strstr(g_err, "torn"));
    OK(log->methods->end_offset(log, 0, &end));
    assert_int_equal(end, 12);
    log->methods->close(log);
}

static void test_corrupt_middle(void **state)
{
    (void)state;
    const char *uri = fresh("corrupt");
    const char *settings[] = {"partitions=1", "segment_bytes=8K", NULL};
    tnt_log *log = log_open(uri, settings);
    static ackrec acks[100];
    memset(acks, 0, sizeof acks);
    for (int i = 0; i < 100; i += 10) /* one flush per 10 records: segments of ~8 KB */
        OK(put_records(log, "k", 10, 500, 1000 + i, acks + i));
    log->methods->close(log);
    char names[64][512];
    int n = segments(uri + 7, 0, names, 64);
    assert_true(n >= 3);

    /* damage in the middle of the active segment, valid records after it: fatal */
    off_t mid = file_size(names[n - 1]) / 2;
    flip_byte(names[n - 1], mid);
    assert_int_equal(tnt__local_backend.open_log(&log, uri, settings, NULL, g_err, sizeof g_err), TNT_E_CORRUPT);
    assert_non_null(strstr(g_err, names[n - 1]));
    assert_non_null(strstr(g_err, "byte"));
    flip_byte(names[n - 1], mid); /* repair */

    /* a record's length flipped to reach past the end of the file: "short", yet valid records follow: fatal
     * too, not a torn tail to cut (that would delete acknowledged records) */
    flip_byte(names[n - 1], 2); /* the first record's length, third byte */
    assert_int_equal(tnt__local_backend.open_log(&log, uri, settings, NULL, g_err, sizeof g_err), TNT_E_CORRUPT);
    assert_non_null(strstr(g_err, "valid records after it"));
    flip_byte(names[n - 1], 2);

    /* damage in a sealed segment: found when read */
    flip_byte(names[0], 600);
    log = log_open(uri, settings);
    counted c = {0};
    assert_int_equal(log->methods->read(log, 0, 0, count_cb, &c), TNT_E_CORRUPT);
    assert_non_null(strstr(tnt_error_last(), names[0]));
    assert_int_equal(c.n, 1); /* the record before the damage was delivered */
    /* the rest of the log is readable */
    c = (counted){0};
    OK(log->methods->read(log, 0, acks[30].offset, count_cb, &c));
    assert_int_equal(c.n, 70);
    log->methods->close(log);
}

static void test_time_index(void **state)
{
    (void)state;
    const char *uri = fresh("timeindex");
    const char *settings[] = {"partitions=1", "segment_bytes=4K", NULL};
    tnt_log *log = log_open(uri, settings);
    /* times rise and fall: 100 records, time = 10000 + (i * 37) % 100 */
    static ackrec acks[100];
    memset(acks, 0, sizeof acks);
    for (int i = 0; i < 100; i++) {
        char value[300];
        memset(value, 'x', sizeof value);
        tnt_log_record r = {"k", 1, value, sizeof value, 10000 + (i * 37) % 100};
        OK(log->methods->append(log, &r, 1, on_ack, &acks[i]));
        if (i % 7 == 6)
            OK(log->methods->flush(log, -1));
    }
    OK(log->methods->flush(log, -1));
    /* the expected answers, computed by brute force */
    int64_t expect[102];
    for (int t = 0; t <= 100; t++) {
        expect[t] = 100;
        for (int i = 0; i < 100; i++)
            if (10000 + (i * 37) % 100 >= 10000 + t) {
                expect[t] = i;
                break;
            }
    }
    for (int round = 0; round < 3; round++) {
        for (int t = 0; t <= 100; t++) {
            int64_t off;
            OK(log->methods->offset_for_time(log, 0, 10000 + t, &off));
            if (off != expect[t])
                fail_msg("round %d: time %d: offset %lld, expected %lld", round, t, (long long)off,
                         (long long)expect[t]);
        }
        log->methods->close(log);
        if (round == 0) { /* the index files are derived data: without them, they are rebuilt */
            char cmd[600];
            snprintf(cmd, sizeof cmd, "rm -f %s/p0000/*.tix", uri + 7);
            assert_int_equal(system(cmd), 0);
        } else if (round == 1) { /* and a damaged one is rebuilt too */
            char names[64][512], tix[520];
            assert_true(segments(uri + 7, 0, names, 64) > 2);
            snprintf(tix, sizeof tix, "%.*s.tix", (int)strlen(names[0]) - 4, names[0]);
            assert_true(file_size(tix) > 0);
            flip_byte(tix, 40);
        }
        log = log_open(uri, settings);
    }
    /* reading from any offset, across segments */
    for (int from = 0; from < 100; from += 13) {
        counted c = {0};
        OK(log->methods->read(log, 0, from, count_cb, &c));
        assert_int_equal(c.first, from);
        assert_int_equal(c.n, 100 - from);
    }
    log->methods->close(log);
}

static void test_truncate_files(void **state)
{
    (void)state;
    const char *uri = fresh("truncate");
    const char *settings[] = {"partitions=1", "segment_bytes=4K", NULL};
    tnt_log *log = log_open(uri, settings);
    static ackrec acks[60];
    memset(acks, 0, sizeof acks);
    for (int i = 0; i < 60; i += 5)
        OK(put_records(log, "k", 5, 500, 0, acks + i));
    char names[64][512];
    int before = segments(uri + 7, 0, names, 64);
    assert_true(before >= 5);
    OK(log->methods->truncate_before(log, 0, 30));
    int after = segments(uri + 7, 0, names, 64);
    assert_true(after < before);
    counted c = {0};
    OK(log->methods->read(log, 0, 0, count_cb, &c));
    assert_true(c.first <= 30 && c.first > 0);
    assert_int_equal(c.last, 59);
    OK(log->methods->truncate_before(log, 0, 1000)); /* never the active segment */
    OK(log->methods->end_offset(log, 0, &c.last));
    assert_int_equal(c.last, 60);
    log->methods->close(log);
    log = log_open(uri, settings);
    c = (counted){0};
    OK(log->methods->read(log, 0, 0, count_cb, &c));
    assert_int_equal(c.last, 59);
    int64_t off;
    OK(log->methods->offset_for_time(log, 0, INT64_MIN, &off));
    assert_int_equal(off, c.first);
    log->methods->close(log);
}

static void flush_in_ack(void *userdata, size_t index, tnt_status status, int partition, int64_t offset)
{
    tnt_log *log = userdata;
    tnt_status rc = log->methods->flush(log, 0);
    if (rc != TNT_E_MISUSE)
        fail_msg("flush from an ack callback returned %s", tnt_status_name(rc));
}

static void test_log_limits(void **state)
{
    (void)state;
    const char *uri = fresh("limits");
    tnt_log *log = log_open(uri, NULL);
    /* a second handle on the same directory is refused */
    tnt_log *other;
    assert_int_equal(tnt__local_backend.open_log(&other, uri, NULL, NULL, g_err, sizeof g_err), TNT_E_BACKEND);
    assert_non_null(strstr(g_err, "already open"));
    size_t big = (16u << 20) + 1;
    char *value = calloc(1, big);
    tnt_log_record r = {"k", 1, value, big, 0};
    assert_int_equal(log->methods->append(log, &r, 1, NULL, NULL), TNT_E_TOOBIG);
    r.value_len = 1u << 20; /* a megabyte is fine */
    OK(log->methods->append(log, &r, 1, NULL, NULL));
    OK(log->methods->flush(log, -1));
    free(value);
    tnt_log_record k = {"k", 1, "v", 1, 0};
    OK(log->methods->append(log, &k, 1, flush_in_ack, log));
    OK(log->methods->flush(log, -1));
    int64_t end;
    assert_int_equal(log->methods->end_offset(log, 4, &end), TNT_E_INVALID);
    assert_int_equal(log->methods->read(log, 0, -1, count_cb, NULL), TNT_E_INVALID);
    uint64_t batches, fsyncs;
    tnt__local_log_stats(log, &batches, &fsyncs);
    assert_true(batches >= 2 && fsyncs >= batches);
    log->methods->close(log);
}

/* ---- full disks, in a child with a file size limit ---- */

#define CHILD_CHECK(cond)                                                                                    \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "child check failed at line %d: %s (%s)\n", __LINE__, #cond, tnt_error_last()); \
            _exit(1);                                                                                        \
        }                                                                                                    \
    } while (0)

static void disk_full_child(const char *uri_log, const char *uri_arch)
{
    signal(SIGXFSZ, SIG_IGN); /* writes past the limit fail with EFBIG instead */
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = 256 << 10;
    setrlimit(RLIMIT_FSIZE, &rl);
    const char *settings[] = {"partitions=1", NULL};
    tnt_log *log;
    CHILD_CHECK(tnt__local_backend.open_log(&log, uri_log, settings, NULL, g_err, sizeof g_err) == TNT_OK);
    static ackrec acks[1000];
    int acked = 0;
    tnt_status rc = TNT_OK;
    char value[3000];
    memset(value, 'd', sizeof value);
    for (int i = 0; i < 1000 && rc == TNT_OK; i += 3) { /* 3 records a batch */
        for (int j = 0; j < 3; j++) {
            tnt_log_record r = {"k", 1, value, sizeof value, i + j};
            CHILD_CHECK(log->methods->append(log, &r, 1, on_ack, &acks[i + j]) == TNT_OK);
        }
        rc = log->methods->flush(log, -1);
        if (rc == TNT_OK)
            acked = i + 3;
    }
    CHILD_CHECK(rc == TNT_E_IO);
    CHILD_CHECK(strstr(tnt_error_last(), "File too large") != NULL);
    CHILD_CHECK(acks[acked].calls == 1 && acks[acked].status == TNT_E_IO && acks[acked].offset == -1);
    /* the log is still usable for what fits (a small record) */
    tnt_log_record small = {"k", 1, "s", 1, 0};
    ackrec sa = {0};
    CHILD_CHECK(log->methods->append(log, &small, 1, on_ack, &sa) == TNT_OK);
    CHILD_CHECK(log->methods->flush(log, -1) == TNT_OK && sa.offset == acked);
    log->methods->close(log);
    /* nothing half-written: it opens without a torn tail, every acked record there */
    CHILD_CHECK(tnt__local_backend.open_log(&log, uri_log, settings, NULL, g_err, sizeof g_err) == TNT_OK);
    CHILD_CHECK(g_err[0] == '\0');
    counted c = {0};
    CHILD_CHECK(log->methods->read(log, 0, 0, count_cb, &c) == TNT_OK && c.n == acked + 1);
    log->methods->close(log);

    tnt_archive *a;
    CHILD_CHECK(tnt__local_backend.open_archive(&a, uri_arch, NULL, NULL, g_err, sizeof g_err) == TNT_OK);
    char *big = calloc(1, 512 << 10);
    CHILD_CHECK(a->methods->put(a, "seg/big", big, 512 << 10) == TNT_E_IO);
    free(big);
    void *data;
    size_t len;
    CHILD_CHECK(a->methods->get(a, "seg/big", 0, 0, &data, &len) == TNT_E_NOTFOUND);
    CHILD_CHECK(a->methods->put(a, "seg/small", "s", 1) == TNT_OK);
    /* no temporary file is left behind */
    DIR *d = opendir(uri_arch + 7);
    struct dirent *e;
    int stray = 0;
    char sub[512];
    snprintf(sub, sizeof sub, "%s/seg", uri_arch + 7);
    closedir(d);
    d = opendir(sub);
    while ((e = readdir(d)))
        stray += strncmp(e->d_name, ".tnt-", 5) == 0;
    closedir(d);
    CHILD_CHECK(stray == 0);
    a->methods->close(a);
    _exit(0);
}

static void test_disk_full(void **state)
{
    (void)state;
    char log_uri[512], arch_uri[512];
    snprintf(log_uri, sizeof log_uri, "%s", fresh("full-log"));
    snprintf(arch_uri, sizeof arch_uri, "%s", fresh("full-archive"));
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        disk_full_child(log_uri, arch_uri);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_store_limits(void **state)
{
    (void)state;
    tnt_store *s;
    const char *settings[] = {"map_size=1M", NULL};
    OK(tnt__local_backend.open_store(&s, fresh("store-full"), settings, NULL, g_err, sizeof g_err));
    static char value[64 << 10];
    memset(value, 'v', sizeof value);
    tnt_status rc = TNT_OK;
    int n = 0;
    for (; n < 100 && rc == TNT_OK; n++) {
        char sk[16];
        snprintf(sk, sizeof sk, "%03d", n);
        tnt_store_item it = {"pk", 2, sk, strlen(sk), value, sizeof value, TNT_STORE_ANY};
        rc = s->methods->put(s, &it, NULL);
    }
    assert_int_equal(rc, TNT_E_IO);
    assert_non_null(strstr(tnt_error_last(), "map_size"));
    assert_true(n > 3);
    /* a put that expects a version of an item that is not there is a
     * conflict, full map or not: it writes nothing */
    tnt_store_item cond = {"pk", 2, "absent", 6, value, sizeof value, 5};
    assert_int_equal(s->methods->put(s, &cond, NULL), TNT_E_CONFLICT);
    void *v;
    size_t len;
    uint64_t version;
    OK(s->methods->get(s, "pk", 2, "000", 3, &v, &len, &version)); /* still usable */
    tnt_free(v);
    OK(s->methods->remove(s, "pk", 2, "000", 3));

    /* value, key and batch limits */
    char *big = calloc(1, TNT_STORE_MAX_VALUE + 1);
    tnt_store_item it = {"pk", 2, "big", 3, big, TNT_STORE_MAX_VALUE + 1, TNT_STORE_ANY};
    assert_int_equal(s->methods->put(s, &it, NULL), TNT_E_TOOBIG);
    free(big);
    char longkey[600];
    memset(longkey, 'k', sizeof longkey);
    it = (tnt_store_item){longkey, sizeof longkey, "s", 1, "v", 1, TNT_STORE_ANY};
    assert_int_equal(s->methods->put(s, &it, NULL), TNT_E_TOOBIG);
    tnt_store_item batch[TNT_STORE_MAX_BATCH + 1];
    for (int i = 0; i <= TNT_STORE_MAX_BATCH; i++)
        batch[i] = (tnt_store_item){"pk", 2, "b", 1, "v", 1, TNT_STORE_ANY};
    size_t left;
    assert_int_equal(s->methods->batch_write(s, batch, TNT_STORE_MAX_BATCH + 1, &left), TNT_E_INVALID);
    /* a failing item leaves the whole batch unwritten */
    batch[1] = (tnt_store_item){longkey, sizeof longkey, "s", 1, "v", 1, TNT_STORE_ANY};
    batch[0].sk = "atomic";
    batch[0].sk_len = 6;
    assert_int_equal(s->methods->batch_write(s, batch, 2, &left), TNT_E_TOOBIG);
    assert_int_equal(s->methods->get(s, "pk", 2, "atomic", 6, &v, &len, &version), TNT_E_NOTFOUND);
    s->methods->close(s);
}

/* ---- the state store's classes ---- */

typedef struct collected {
    char s[512];
    size_t n;
} collected;

/* Each item as "sk=value", the sort key's bytes outside 0x21..0x7e as %xx. */
static int collect(void *userdata, const tnt_store_item *it)
{
    collected *c = userdata;
    size_t at = strlen(c->s);
    if (at)
        at += (size_t)snprintf(c->s + at, sizeof c->s - at, ",");
    for (size_t i = 0; i < it->sk_len; i++) {
        unsigned char b = ((const unsigned char *)it->sk)[i];
        at += (size_t)snprintf(c->s + at, sizeof c->s - at, b > 0x20 && b < 0x7f ? "%c" : "%%%02x", b);
    }
    snprintf(c->s + at, sizeof c->s - at, "=%.*s", (int)it->value_len, (const char *)it->value);
    c->n++;
    return 0;
}

static void expect_query(tnt_store *s, const char *pk, const char *from, size_t from_len, const char *to,
                         size_t to_len, size_t limit, int reverse, const char *want)
{
    collected c = {"", 0};
    OK(s->methods->query(s, pk, strlen(pk), from, from_len, to, to_len, limit, reverse, collect, &c));
    assert_string_equal(c.s, want);
}

/* Items of many classes (the empty sort key, 0x00, 0xff, letters) in one
 * partition: queries across classes keep sort-key order both ways, with
 * limits and bounds inside and between classes. */
static void check_classes(tnt_store *s)
{
    expect_query(s, "p:x", NULL, 0, NULL, 0, 0, 0, "=E,%00z=N,a=1,h:1=2,h:2=3,s=4,%ff%01=F");
    expect_query(s, "p:x", NULL, 0, NULL, 0, 0, 1, "%ff%01=F,s=4,h:2=3,h:1=2,a=1,%00z=N,=E");
    expect_query(s, "p:x", NULL, 0, NULL, 0, 3, 0, "=E,%00z=N,a=1");
    expect_query(s, "p:x", NULL, 0, NULL, 0, 3, 1, "%ff%01=F,s=4,h:2=3");
    expect_query(s, "p:x", "a", 1, "h:2", 3, 0, 0, "a=1,h:1=2");
    expect_query(s, "p:x", "a", 1, "h:2", 3, 0, 1, "h:1=2,a=1");
    expect_query(s, "p:x", "b", 1, "t", 1, 0, 0, "h:1=2,h:2=3,s=4");
    expect_query(s, "p:x", "h:2", 3, NULL, 0, 2, 0, "h:2=3,s=4");
    expect_query(s, "p:x", "", 0, "", 0, 0, 0, ""); /* nothing sorts before the empty key */
    expect_query(s, "p:y", NULL, 0, NULL, 0, 0, 0, "s=5");
    expect_query(s, "p:", NULL, 0, NULL, 0, 0, 0, "");
    void *v;
    size_t len;
    uint64_t version;
    OK(s->methods->get(s, "p:x", 3, "", 0, &v, &len, &version));
    assert_memory_equal(v, "E", 1);
    tnt_free(v);
    OK(s->methods->get(s, "p:x", 3, "\xff\x01", 2, &v, &len, &version));
    assert_memory_equal(v, "F", 1);
    tnt_free(v);
    assert_int_equal(s->methods->get(s, "p:x", 3, "q", 1, &v, &len, &version), TNT_E_NOTFOUND);
    collected c = {"", 0};
    OK(s->methods->scan(s, collect, &c));
    assert_int_equal(c.n, 8);
}

static const struct {
    const char *pk, *sk;
    size_t sk_len;
    const char *value;
} g_items[] = {
    {"p:x", "s", 1, "4"},    {"p:x", "h:2", 3, "3"},      {"p:x", "a", 1, "1"},   {"p:x", "h:1", 3, "2"},
    {"p:x", "", 0, "E"},     {"p:x", "\xff\x01", 2, "F"}, {"p:x", "\0z", 2, "N"}, {"p:y", "s", 1, "5"},
};
#define NITEMS (sizeof g_items / sizeof g_items[0])

static void test_store_classes(void **state)
{
    (void)state;
    tnt_store *s;
    const char *uri = fresh("store-classes");
    OK(tnt__local_backend.open_store(&s, uri, NULL, NULL, g_err, sizeof g_err));
    expect_query(s, "p:x", NULL, 0, NULL, 0, 0, 0, ""); /* no database yet */
    for (size_t i = 0; i < NITEMS; i++) {
        tnt_store_item it = {g_items[i].pk, 3, g_items[i].sk, g_items[i].sk_len, g_items[i].value, 1, TNT_STORE_NEW};
        OK(s->methods->put(s, &it, NULL));
        void *v; /* each new class's database is seen by the next read */
        OK(s->methods->get(s, g_items[i].pk, 3, g_items[i].sk, g_items[i].sk_len, &v, NULL, NULL));
        tnt_free(v);
    }
    check_classes(s);
    s->methods->close(s);
    OK(tnt__local_backend.open_store(&s, uri, NULL, NULL, g_err, sizeof g_err));
    check_classes(s);
    /* a class whose only item is deleted, and a delete in a class never written */
    OK(s->methods->remove(s, "p:x", 3, "\xff\x01", 2));
    OK(s->methods->remove(s, "p:x", 3, "zz", 2));
    expect_query(s, "p:x", "s", 1, NULL, 0, 0, 0, "s=4");
    OK(s->methods->clear(s));
    expect_query(s, "p:x", NULL, 0, NULL, 0, 0, 0, "");
    tnt_store_item it = {"p:x", 3, "s", 1, "6", 1, TNT_STORE_NEW}; /* the emptied database takes items again */
    OK(s->methods->put(s, &it, NULL));
    expect_query(s, "p:x", NULL, 0, NULL, 0, 0, 0, "s=6");
    s->methods->close(s);
}

/* A store written by an earlier libtnt keeps every item in LMDB's main
 * database; opening it moves them into the databases of their classes,
 * versions included, and a second open finds nothing more to move. */
/* A store in the older layout, written with LMDB directly: a write
 * transaction on its main database, in a fresh directory. */
static void old_store_begin(const char *name, size_t map, char uri[512], char dir[512], MDB_env **env, MDB_txn **txn,
                            MDB_dbi *dbi)
{
    snprintf(uri, 512, "%s", fresh(name));
    snprintf(dir, 512, "%s", uri + strlen("file://"));
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(mdb_env_create(env), 0);
    assert_int_equal(mdb_env_set_mapsize(*env, map), 0);
    assert_int_equal(mdb_env_open(*env, dir, 0, 0644), 0);
    assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
    assert_int_equal(mdb_dbi_open(*txn, NULL, 0, dbi), 0);
}

static void test_store_old_layout(void **state)
{
    (void)state;
    char uri[512], dir[512];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    old_store_begin("store-old", 10 << 20, uri, dir, &env, &txn, &dbi);
    for (size_t i = 0; i < NITEMS; i++) { /* [u16 pk_len][pk][sk] -> [u64 version][value] */
        unsigned char k[16], v[9];
        k[0] = 0;
        k[1] = 3;
        memcpy(k + 2, g_items[i].pk, 3);
        memcpy(k + 5, g_items[i].sk, g_items[i].sk_len);
        tnt__put_u64(v, 7);
        v[8] = (unsigned char)g_items[i].value[0];
        MDB_val key = {5 + g_items[i].sk_len, k}, val = {9, v};
        assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    tnt_store *s;
    for (int round = 0; round < 2; round++) {
        OK(tnt__local_backend.open_store(&s, uri, NULL, NULL, g_err, sizeof g_err));
        check_classes(s);
        uint64_t version = 0;
        OK(s->methods->get(s, "p:x", 3, "h:1", 3, NULL, NULL, &version));
        assert_int_equal(version, 7);
        s->methods->close(s);
    }
    /* the main database now holds only the names of the class databases */
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_cursor *cur;
    MDB_val key, val;
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    size_t names = 0;
    for (int rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        assert_true(key.mv_size >= 6 && memcmp(key.mv_data, "tnt.sk", 6) == 0);
        names++;
    }
    assert_int_equal(names, 6); /* "", 0x00, a, h, s, 0xff */
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

static int count_item(void *userdata, const tnt_store_item *it);
static void store_file(const char *uri, struct stat *sb);

/* An older store larger than the room its map starts with: moving its items
 * needs new pages before the old ones are freed, so the open grows the map
 * on the way. */
enum { OLD_ITEMS = 4000, OLD_VALUE = 2000 };

static void test_store_old_layout_grows(void **state)
{
    (void)state;
    char u[512], dir[512];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    old_store_begin("store-old-big", 64 << 20, u, dir, &env, &txn, &dbi);
    static unsigned char v[8 + OLD_VALUE];
    for (int i = 0; i < OLD_ITEMS; i++) {
        unsigned char k[16] = {0, 3, 'b', 'i', 'g'};
        int n = snprintf((char *)k + 5, sizeof k - 5, "h:%05d", i);
        tnt__put_u64(v, 3);
        memset(v + 8, 'a' + i % 26, OLD_VALUE);
        MDB_val key = {5 + (size_t)n, k}, val = {sizeof v, v};
        assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    struct stat before, after;
    store_file(u, &before);

    tnt_store *s;
    OK(tnt__local_backend.open_store(&s, u, NULL, NULL, g_err, sizeof g_err));
    store_file(u, &after);
    assert_true(after.st_size > before.st_size + (off_t)OLD_ITEMS * OLD_VALUE / 2); /* it grew to move them */
    size_t n = 0;
    OK(s->methods->query(s, "big", 3, NULL, 0, NULL, 0, 0, 0, count_item, &n));
    assert_int_equal(n, OLD_ITEMS);
    for (int i = 0; i < OLD_ITEMS; i += 397) {
        char sk[16];
        snprintf(sk, sizeof sk, "h:%05d", i);
        void *val;
        size_t len;
        uint64_t version;
        OK(s->methods->get(s, "big", 3, sk, strlen(sk), &val, &len, &version));
        assert_int_equal(len, OLD_VALUE);
        assert_int_equal(version, 3);
        assert_int_equal(((unsigned char *)val)[OLD_VALUE - 1], 'a' + i % 26);
        tnt_free(val);
    }
    s->methods->close(s);
}

/* The map grows with the data, and every byte of the file is allocated
 * (a page of the map is never a hole that a full disk would turn into a
 * SIGBUS). Readers go on while it grows. */
static void store_file(const char *uri, struct stat *sb)
{
    char path[600];
    snprintf(path, sizeof path, "%s/data.mdb", uri + strlen("file://"));
    assert_int_equal(stat(path, sb), 0);
}

typedef struct grow_reader {
    tnt_store *s;
    tnt_store *outer; /* if set, every round of reads runs inside a query of this other store */
    _Atomic bool stop;
    _Atomic int reads, bad;
} grow_reader;

/* A read inside a query's callback, as the engine's history does: it must
 * not wait for a writer that waits for the query. */
static int nested_get(void *userdata, const tnt_store_item *it)
{
    grow_reader *r = userdata;
    uint64_t version;
    if (it->value_len != 4 || r->s->methods->get(r->s, "pk", 2, "seed", 4, NULL, NULL, &version) != TNT_OK)
        atomic_fetch_add(&r->bad, 1);
    return 0;
}

static void read_once(grow_reader *r)
{
    void *v = NULL;
    size_t len = 0;
    uint64_t version;
    tnt_status rc = r->s->methods->get(r->s, "pk", 2, "seed", 4, &v, &len, &version);
    if (rc != TNT_OK || len != 4 || memcmp(v, "seed", 4) != 0)
        atomic_fetch_add(&r->bad, 1);
    tnt_free(v);
    size_t n = 0;
    if (r->s->methods->query(r->s, "pk", 2, "seed", 4, "seee", 4, 0, 0, count_item, &n) != TNT_OK || n != 1)
        atomic_fetch_add(&r->bad, 1);
    if (r->s->methods->query(r->s, "pk", 2, "seed", 4, "seee", 4, 0, 0, nested_get, r) != TNT_OK)
        atomic_fetch_add(&r->bad, 1);
    atomic_fetch_add(&r->reads, 1);
}

static int in_outer(void *userdata, const tnt_store_item *it)
{
    (void)it;
    read_once(userdata);
    return 0;
}

static void *grow_read(void *arg)
{
    grow_reader *r = arg;
    while (!atomic_load(&r->stop)) {
        if (!r->outer)
            read_once(r);
        else if (r->outer->methods->query(r->outer, "pk", 2, "seed", 4, "seee", 4, 0, 0, in_outer, r) != TNT_OK)
            atomic_fetch_add(&r->bad, 1);
    }
    return NULL;
}

enum { GROW_ITEMS = 400, GROW_VALUE = 60 << 10 };

typedef struct wc_ctx {
    tnt_store *s;
    int n;
    tnt_status rc;
    char why[256];
} wc_ctx;

/* Writes inside a query's callback until the map is full. */
static int write_in_callback(void *userdata, const tnt_store_item *it)
{
    (void)it;
    wc_ctx *w = userdata;
    static unsigned char big[GROW_VALUE];
    for (; w->n < 10000 && w->rc == TNT_OK; w->n++) {
        char sk[16];
        snprintf(sk, sizeof sk, "w%05d", w->n);
        tnt_store_item x = {"pk", 2, sk, strlen(sk), big, sizeof big, TNT_STORE_ANY};
        w->rc = w->s->methods->put(w->s, &x, NULL);
    }
    snprintf(w->why, sizeof w->why, "%s", tnt_error_last());
    return 0;
}

static void test_store_grows(void **state)
{
    (void)state;
    const char *uri = fresh("store-grows");
    char u[512];
    snprintf(u, sizeof u, "%s", uri);
    tnt_store *s;
    OK(tnt__local_backend.open_store(&s, u, NULL, NULL, g_err, sizeof g_err));
    struct stat sb;
    store_file(u, &sb);
    off_t first = sb.st_size;
    assert_true(first >= 1 << 20 && first <= 64 << 20); /* not the 64 GiB limit */
    assert_true((off_t)sb.st_blocks * 512 >= sb.st_size);
    tnt_store_item seed = {"pk", 2, "seed", 4, "seed", 4, TNT_STORE_ANY};
    OK(s->methods->put(s, &seed, NULL));

    /* one reader reads this store inside queries of another store */
    char ou[512];
    snprintf(ou, sizeof ou, "%s", fresh("store-grows-outer"));
    tnt_store *outer;
    OK(tnt__local_backend.open_store(&outer, ou, NULL, NULL, g_err, sizeof g_err));
    OK(outer->methods->put(outer, &seed, NULL));
    grow_reader r = {.s = s}, r2 = {.s = s, .outer = outer};
    pthread_t t[2];
    assert_int_equal(pthread_create(&t[0], NULL, grow_read, &r), 0);
    assert_int_equal(pthread_create(&t[1], NULL, grow_read, &r2), 0);
    static unsigned char value[GROW_VALUE];
    for (int i = 0; i < GROW_ITEMS; i += 10) {
        tnt_store_item batch[10];
        char sk[10][16];
        for (int j = 0; j < 10; j++) {
            snprintf(sk[j], sizeof sk[j], "v%04d", i + j);
            batch[j] = (tnt_store_item){"pk", 2, sk[j], strlen(sk[j]), value, sizeof value, TNT_STORE_ANY};
        }
        memset(value, 'a' + i / 10 % 26, sizeof value);
        size_t left = 99;
        OK(s->methods->batch_write(s, batch, 10, &left));
        assert_int_equal(left, 0);
    }
    atomic_store(&r.stop, true);
    atomic_store(&r2.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&r.bad), 0);
    assert_int_equal(atomic_load(&r2.bad), 0);
    assert_true(atomic_load(&r.reads) > 0 && atomic_load(&r2.reads) > 0);
    outer->methods->close(outer);


    store_file(u, &sb);
    assert_true(sb.st_size > (off_t)GROW_ITEMS * GROW_VALUE); /* it grew */
    assert_true(sb.st_size < (off_t)GROW_ITEMS * GROW_VALUE * 2);
    assert_true((off_t)sb.st_blocks * 512 >= sb.st_size); /* and has no holes */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < GROW_ITEMS; i++) {
            char sk[16];
            snprintf(sk, sizeof sk, "v%04d", i);
            void *v;
            size_t len;
            OK(s->methods->get(s, "pk", 2, sk, strlen(sk), &v, &len, NULL));
            assert_int_equal(len, GROW_VALUE);
            assert_int_equal(((unsigned char *)v)[0], 'a' + i / 10 % 26);
            assert_int_equal(((unsigned char *)v)[GROW_VALUE - 1], 'a' + i / 10 % 26);
            tnt_free(v);
        }
        s->methods->close(s);
        off_t before = sb.st_size;
        OK(tnt__local_backend.open_store(&s, u, NULL, NULL, g_err, sizeof g_err)); /* the map is the file again */
        store_file(u, &sb);
        assert_true(sb.st_size >= before && sb.st_size < before + (2 << 20));
    }
    /* a write inside a query's callback cannot grow the map: a clear error,
     * and the same write outside it grows the map */
    wc_ctx w = {s, 0, TNT_OK, ""};
    OK(s->methods->query(s, "pk", 2, "seed", 4, "seee", 4, 0, 0, write_in_callback, &w));
    assert_int_equal(w.rc, TNT_E_UNSUPPORTED);
    assert_non_null(strstr(w.why, "inside a query's callback"));
    assert_true(w.n > 0);
    tnt_store_item more = {"pk", 2, "w-last", 6, value, sizeof value, TNT_STORE_ANY};
    OK(s->methods->put(s, &more, NULL));
    s->methods->close(s);
}

/* The map cannot grow because the file cannot: a clean error, the failed
 * write leaves nothing, what was written stays, and once there is room
 * the same write succeeds. */
static void grow_full_child(const char *uri)
{
    signal(SIGXFSZ, SIG_IGN);
    tnt_store *s;
    CHILD_CHECK(tnt__local_backend.open_store(&s, uri, NULL, NULL, g_err, sizeof g_err) == TNT_OK);
    struct stat sb;
    char path[600];
    snprintf(path, sizeof path, "%s/data.mdb", uri + strlen("file://"));
    CHILD_CHECK(stat(path, &sb) == 0);
    struct rlimit old, rl;
    getrlimit(RLIMIT_FSIZE, &old);
    rl = old;
    rl.rlim_cur = (rlim_t)sb.st_size; /* the file may not grow */
    setrlimit(RLIMIT_FSIZE, &rl);
    static unsigned char value[GROW_VALUE];
    memset(value, 'w', sizeof value);
    tnt_status rc = TNT_OK;
    int n = 0;
    char sk[16];
    for (; n < 1000 && rc == TNT_OK; n++) {
        snprintf(sk, sizeof sk, "w%04d", n);
        tnt_store_item it = {"pk", 2, sk, strlen(sk), value, sizeof value, TNT_STORE_ANY};
        rc = s->methods->put(s, &it, NULL);
    }
    n--; /* the one that failed: sk */
    CHILD_CHECK(rc == TNT_E_IO);
    CHILD_CHECK(strstr(tnt_error_last(), "cannot grow its file") != NULL);
    CHILD_CHECK(strstr(tnt_error_last(), "File too large") != NULL);
    CHILD_CHECK(n > 10);
    CHILD_CHECK(s->methods->get(s, "pk", 2, sk, strlen(sk), NULL, NULL, NULL) == TNT_E_NOTFOUND);
    for (int i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "w%04d", i);
        void *v = NULL;
        size_t len = 0;
        CHILD_CHECK(s->methods->get(s, "pk", 2, k, strlen(k), &v, &len, NULL) == TNT_OK && len == GROW_VALUE);
        tnt_free(v);
    }
    CHILD_CHECK(stat(path, &sb) == 0 && (off_t)sb.st_blocks * 512 >= sb.st_size);
    setrlimit(RLIMIT_FSIZE, &old); /* room again */
    tnt_store_item it = {"pk", 2, sk, strlen(sk), value, sizeof value, TNT_STORE_NEW};
    CHILD_CHECK(s->methods->put(s, &it, NULL) == TNT_OK);
    s->methods->close(s);
    /* opening with no room to allocate the map works too; writes then fail cleanly */
    setrlimit(RLIMIT_FSIZE, &rl);
    CHILD_CHECK(tnt__local_backend.open_store(&s, uri, NULL, NULL, g_err, sizeof g_err) == TNT_OK);
    CHILD_CHECK(s->methods->get(s, "pk", 2, sk, strlen(sk), NULL, NULL, NULL) == TNT_OK);
    for (rc = TNT_OK, n = 0; n < 1000 && rc == TNT_OK; n++) {
        snprintf(sk, sizeof sk, "x%04d", n);
        tnt_store_item x = {"pk", 2, sk, strlen(sk), value, sizeof value, TNT_STORE_ANY};
        rc = s->methods->put(s, &x, NULL);
    }
    CHILD_CHECK(rc == TNT_E_IO && strstr(tnt_error_last(), "cannot grow its file") != NULL);
    s->methods->close(s);
    _exit(0);
}

static void test_store_grow_full(void **state)
{
    (void)state;
    char uri[512];
    snprintf(uri, sizeof uri, "%s", fresh("store-grow-full"));
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        grow_full_child(uri);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status)); /* not killed by SIGBUS */
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Writers create classes while readers read: an item whose put returned is
 * seen by every read that starts afterwards, in whichever class, even when
 * the next writer starts between a commit and the publication of the
 * database it created. */
typedef struct class_race {
    tnt_store *s;
    _Atomic int acked[4]; /* items each writer has had acknowledged */
    _Atomic bool failed;
    char why[256];
} class_race;

enum { RACE_WRITERS = 4, RACE_ITEMS = 60 };

static int count_item(void *userdata, const tnt_store_item *it)
{
    (void)it;
    ++*(size_t *)userdata;
    return 0;
}

static void race_key(int writer, int i, char pk[16], unsigned char sk[2])
{
    snprintf(pk, 16, "race:%d", writer);
    sk[0] = (unsigned char)(writer * RACE_ITEMS + i); /* a new class for almost every item */
    sk[1] = (unsigned char)i;
}

static void race_fail(class_race *r, const char *what, int writer, int i, tnt_status rc)
{
    if (!atomic_exchange(&r->failed, true))
        snprintf(r->why, sizeof r->why, "%s: writer %d item %d: %s", what, writer, i, tnt_status_name(rc));
}

typedef struct race_arg {
    class_race *r;
    int writer;
} race_arg;

static void *race_writer(void *arg)
{
    race_arg *a = arg;
    for (int i = 0; i < RACE_ITEMS && !atomic_load(&a->r->failed); i++) {
        char pk[16];
        unsigned char sk[2];
        race_key(a->writer, i, pk, sk);
        tnt_store_item it = {pk, strlen(pk), sk, 2, "v", 1, TNT_STORE_ANY};
        tnt_status rc = a->r->s->methods->put(a->r->s, &it, NULL);
        if (rc != TNT_OK)
            race_fail(a->r, "put", a->writer, i, rc);
        uint64_t version;
        if ((rc = a->r->s->methods->get(a->r->s, pk, strlen(pk), sk, 2, NULL, NULL, &version)) != TNT_OK)
            race_fail(a->r, "get after put", a->writer, i, rc);
        atomic_store(&a->r->acked[a->writer], i + 1);
    }
    return NULL;
}

static void *race_reader(void *arg)
{
    class_race *r = arg;
    unsigned seed = 7;
    bool done = false;
    while (!done && !atomic_load(&r->failed)) {
        done = true;
        for (int w = 0; w < RACE_WRITERS; w++) {
            int n = atomic_load(&r->acked[w]); /* read before the get starts */
            done &= n == RACE_ITEMS;
            if (!n)
                continue;
            int i = (int)(rand_r(&seed) % (unsigned)n);
            char pk[16];
            unsigned char sk[2];
            race_key(w, i, pk, sk);
            uint64_t version;
            tnt_status rc = r->s->methods->get(r->s, pk, strlen(pk), sk, 2, NULL, NULL, &version);
            if (rc != TNT_OK)
                race_fail(r, "reader get", w, i, rc);
        }
    }
    return NULL;
}

static void test_store_classes_concurrent(void **state)
{
    (void)state;
    class_race r = {.s = NULL};
    OK(tnt__local_backend.open_store(&r.s, fresh("store-class-race"), NULL, NULL, g_err, sizeof g_err));
    pthread_t w[RACE_WRITERS], rd[2];
    race_arg args[RACE_WRITERS];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&rd[i], NULL, race_reader, &r), 0);
    for (int i = 0; i < RACE_WRITERS; i++) {
        args[i] = (race_arg){&r, i};
        assert_int_equal(pthread_create(&w[i], NULL, race_writer, &args[i]), 0);
    }
    for (int i = 0; i < RACE_WRITERS; i++)
        pthread_join(w[i], NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(rd[i], NULL);
    if (atomic_load(&r.failed))
        fail_msg("%s", r.why);
    /* every item, each in its class, in one query per writer */
    for (int wr = 0; wr < RACE_WRITERS; wr++) {
        char pk[16];
        unsigned char sk[2];
        race_key(wr, 0, pk, sk);
        size_t n = 0;
        OK(r.s->methods->query(r.s, pk, strlen(pk), NULL, 0, NULL, 0, 0, 0, count_item, &n));
        assert_int_equal(n, RACE_ITEMS);
    }
    r.s->methods->close(r.s);
}

static void test_archive_paths(void **state)
{
    (void)state;
    tnt_archive *a;
    const char *uri = fresh("archive-paths");
    OK(tnt__local_backend.open_archive(&a, uri, NULL, NULL, g_err, sizeof g_err));
    OK(a->methods->put(a, "a/b", "x", 1));
    assert_int_equal(a->methods->put(a, "a/b/c", "y", 1), TNT_E_INVALID); /* a/b is a file */
    assert_int_equal(a->methods->put(a, "a", "y", 1), TNT_E_INVALID);     /* a is a directory */
    assert_int_equal(a->methods->put(a, "a/.tnt-1-2", "y", 1), TNT_E_INVALID);
    char path[600];
    snprintf(path, sizeof path, "%s/a/b", uri + 7);
    assert_int_equal(file_size(path), 1); /* where the object is */
    /* remove drops the directories it emptied */
    OK(a->methods->put(a, "deep/er/still/x", "z", 1));
    OK(a->methods->remove(a, "deep/er/still/x"));
    snprintf(path, sizeof path, "%s/deep", uri + 7);
    assert_int_equal(file_size(path), -1);
    OK(a->methods->remove(a, "a")); /* a prefix, not an object: nothing happens */
    void *data;
    size_t len;
    OK(a->methods->get(a, "a/b", 0, 0, &data, &len));
    tnt_free(data);
    assert_int_equal(a->methods->get(a, "a/b", 2, 0, &data, &len), TNT_E_INVALID); /* offset past the end */
    a->methods->close(a);
}

/* ---- crash safety: SIGKILL a writer, reopen, check every acknowledged record ---- */

enum { CRASH_THREADS = 4 };

typedef struct crash_ctx {
    tnt_log *log;
    int fd;       /* the pipe to the parent */
    int round, thread;
} crash_ctx;

static void crash_value(char *buf, size_t size, int round, int thread, int seq)
{
    int n = snprintf(buf, size, "%d-%d-%d:", round, thread, seq);
    for (size_t i = (size_t)n; i < size; i++)
        buf[i] = (char)('A' + (round * 7 + thread * 13 + seq + (int)i) % 26);
}

static size_t crash_size(int seq) { return 200 + (size_t)(seq * 97) % 1800; }

typedef struct crash_ack {
    int fd, round, thread, seq;
} crash_ack;

static void crash_on_ack(void *userdata, size_t index, tnt_status status, int partition, int64_t offset)
{
    crash_ack *a = &((crash_ack *)userdata)[index];
    if (status != TNT_OK)
        _exit(3);
    char line[96];
    int n = snprintf(line, sizeof line, "%d %lld %d %d %d\n", partition, (long long)offset, a->round, a->thread, a->seq);
    if (write(a->fd, line, (size_t)n) != n) /* atomic: shorter than PIPE_BUF */
        _exit(4);
}

static void *crash_writer(void *arg)
{
    crash_ctx *c = arg;
    for (int seq = 0;; seq += 3) {
        char keys[3][32], values[3][2048];
        tnt_log_record r[3];
        crash_ack acks[3];
        int n = 1 + seq % 3;
        for (int i = 0; i < n; i++) {
            snprintf(keys[i], sizeof keys[i], "product-%d", (c->thread * 31 + seq + i) % 11);
            crash_value(values[i], crash_size(seq + i), c->round, c->thread, seq + i);
            r[i] = (tnt_log_record){keys[i], strlen(keys[i]), values[i], crash_size(seq + i), seq + i};
            acks[i] = (crash_ack){c->fd, c->round, c->thread, seq + i};
        }
        if (c->log->methods->append(c->log, r, (size_t)n, crash_on_ack, acks) != TNT_OK ||
            c->log->methods->flush(c->log, -1) != TNT_OK)
            _exit(5);
    }
    return NULL;
}

static void crash_child(const char *uri, int round, int fd)
{
    const char *settings[] = {"segment_bytes=64K", NULL};
    tnt_log *log;
    if (tnt__local_backend.open_log(&log, uri, settings, NULL, g_err, sizeof g_err) != TNT_OK)
        _exit(2);
    pthread_t t[CRASH_THREADS];
    static crash_ctx ctx[CRASH_THREADS];
    for (int i = 0; i < CRASH_THREADS; i++) {
        ctx[i] = (crash_ctx){log, fd, round, i};
        pthread_create(&t[i], NULL, crash_writer, &ctx[i]);
    }
    for (;;)
        pause(); /* until SIGKILL */
}

typedef struct acked {
    int partition;
    int64_t offset;
    int round, thread, seq;
} acked;

typedef struct verify {
    acked *acks;
    size_t n;
    int found_dup;
    char *seen;         /* [round][thread][seq] presence */
    int rounds, max_seq;
    char detail[256];
} verify;

static int crash_check_record(void *userdata, int partition, int64_t offset, int64_t time_ms, const void *key,
                              size_t key_len, const void *value, size_t value_len)
{
    verify *v = userdata;
    int round, thread, seq;
    if (sscanf(value, "%d-%d-%d:", &round, &thread, &seq) != 3 || round < 0 || round >= v->rounds || thread < 0 ||
        thread >= CRASH_THREADS || seq < 0 || seq >= v->max_seq) {
        snprintf(v->detail, sizeof v->detail, "p%d@%lld: a record of no writer", partition, (long long)offset);
        return 1;
    }
    char expect[2048];
    crash_value(expect, crash_size(seq), round, thread, seq);
    if (value_len != crash_size(seq) || memcmp(value, expect, value_len) != 0 || time_ms != seq) {
        snprintf(v->detail, sizeof v->detail, "p%d@%lld: damaged record", partition, (long long)offset);
        return 1;
    }
    char *s = &v->seen[((size_t)round * CRASH_THREADS + (size_t)thread) * (size_t)v->max_seq + (size_t)seq];
    if (*s) {
        snprintf(v->detail, sizeof v->detail, "p%d@%lld: record %d-%d-%d is there twice", partition, (long long)offset,
                 round, thread, seq);
        return 1;
    }
    *s = 1;
    return 0;
}

typedef struct at_offset {
    int64_t offset;
    char value[64];
    bool found;
} at_offset;

static int read_one(void *userdata, int partition, int64_t offset, int64_t time_ms, const void *key, size_t key_len,
                    const void *value, size_t value_len)
{
    at_offset *a = userdata;
    a->found = offset == a->offset;
    snprintf(a->value, sizeof a->value, "%.*s", (int)(value_len < 40 ? value_len : 40), (const char *)value);
    return 1;
}

static void test_crash_safety(void **state)
{
    (void)state;
    const char *uri_tmp = fresh("crash");
    char uri[512];
    snprintf(uri, sizeof uri, "%s", uri_tmp);
    const char *seed_env = getenv("TNT_CRASH_SEED");
    unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 10) : (unsigned)time(NULL);
    const char *rounds_env = getenv("TNT_CRASH_ROUNDS");
    int rounds = rounds_env ? atoi(rounds_env) : 25;
    printf("crash test: %d rounds, seed %u (TNT_CRASH_SEED to repeat)\n", rounds, seed);
    srand(seed);
    verify v = {0};
    v.rounds = rounds;
    v.max_seq = 1 << 16;
    v.seen = calloc((size_t)rounds * CRASH_THREADS * (size_t)v.max_seq, 1);
    size_t cap = 0;
    int torn_rounds = 0;
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(uri, round, fds[1]);
        }
        close(fds[1]);
        /* let it run a random while, reading acknowledgements */
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        long run_ms = 20 + rand() % 200;
        char buf[1 << 16];
        size_t have = 0;
        bool killed = false;
        for (;;) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long elapsed = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
            if (!killed && elapsed >= run_ms) {
                kill(pid, SIGKILL);
                killed = true;
            }
            struct pollfd p = {fds[0], POLLIN, 0};
            poll(&p, 1, killed ? 1000 : 5);
            ssize_t r = (p.revents & (POLLIN | POLLHUP)) ? read(fds[0], buf + have, sizeof buf - have) : -1;
            if (r == 0)
                break; /* the child is gone and the pipe drained */
            if (r < 0)
                continue;
            have += (size_t)r;
            char *line = buf, *nl;
            while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
                *nl = '\0';
                acked a;
                long long off;
                assert_int_equal(sscanf(line, "%d %lld %d %d %d", &a.partition, &off, &a.round, &a.thread, &a.seq), 5);
                a.offset = off;
                if (v.n == cap) {
                    cap = cap ? cap * 2 : 4096;
                    v.acks = realloc(v.acks, cap * sizeof *v.acks);
                }
                v.acks[v.n++] = a;
                line = nl + 1;
            }
            have -= (size_t)(line - buf);
            memmove(buf, line, have);
        }
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status))
            fail_msg("round %d: the writer exited with %d before the kill", round, WEXITSTATUS(status));

        /* Now and then, a torn record too, as a crash mid-write() leaves it. */
        if (round % 5 == 4) {
            char names[256][512];
            int n = segments(uri + 7, round % 4, names, 256);
            int fd = open(names[n - 1], O_WRONLY | O_APPEND);
            unsigned char junk[300];
            memset(junk, 0, sizeof junk);
            tnt__put_u32(junk, 1000);
            assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
            close(fd);
        }
        /* reopen: every acknowledged record is where its ack said, intact */
        tnt_log *log = log_open(uri, NULL);
        if (round % 5 == 4) {
            /* cut off as a torn tail; or as a corrupt one when the kill had
             * already left a partial record, which the junk then completes
             * to its length with a wrong checksum */
            assert_true(strstr(g_err, "torn tail of") || strstr(g_err, "corrupt tail of"));
            torn_rounds++;
        }
        for (size_t i = 0; i < v.n; i++) {
            at_offset a = {v.acks[i].offset, "", false};
            OK(log->methods->read(log, v.acks[i].partition, v.acks[i].offset, read_one, &a));
            char expect[64];
            snprintf(expect, sizeof expect, "%d-%d-%d:", v.acks[i].round, v.acks[i].thread, v.acks[i].seq);
            if (!a.found || strncmp(a.value, expect, strlen(expect)) != 0)
                fail_msg("round %d: acknowledged record %s at p%d@%lld is missing (found '%s')", round, expect,
                         v.acks[i].partition, (long long)v.acks[i].offset, a.value);
        }
        log->methods->close(log);
    }
    /* finally every record in the log: intact, none twice */
    tnt_log *log = log_open(uri, NULL);
    memset(v.seen, 0, (size_t)rounds * CRASH_THREADS * (size_t)v.max_seq);
    int64_t total = 0;
    for (int p = 0; p < log->methods->partitions(log); p++) {
        OK(log->methods->read(log, p, 0, crash_check_record, &v));
        if (v.detail[0])
            fail_msg("%s", v.detail);
        int64_t end;
        OK(log->methods->end_offset(log, p, &end));
        total += end;
    }
    log->methods->close(log);
    printf("crash test: %zu acknowledged records, %lld in the log, %d torn tails cut\n", v.n, (long long)total,
           torn_rounds);
    assert_true(v.n > 0);
    assert_true((size_t)total >= v.n);
    free(v.acks);
    free(v.seen);
}

static int setup_all(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(g_tmp, sizeof g_tmp, "%s/tnt-local-XXXXXX", base);
    return mkdtemp(g_tmp) ? 0 : -1;
}

static int teardown_all(void **state)
{
    (void)state;
    rm_rf(g_tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uris),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_not_a_directory),
        cmocka_unit_test(test_read_only_dir),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_corrupt_middle),
        cmocka_unit_test(test_time_index),
        cmocka_unit_test(test_truncate_files),
        cmocka_unit_test(test_log_limits),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_store_limits),
        cmocka_unit_test(test_store_classes),
        cmocka_unit_test(test_store_old_layout),
        cmocka_unit_test(test_store_classes_concurrent),
        cmocka_unit_test(test_store_old_layout_grows),
        cmocka_unit_test(test_store_grows),
        cmocka_unit_test(test_store_grow_full),
        cmocka_unit_test(test_archive_paths),
        cmocka_unit_test(test_crash_safety),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
