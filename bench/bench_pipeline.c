/* bench_pipeline — the ingest pipeline (decode -> validate -> hash ->
 * normalise) on one core, each figure printed beside its target.
 *
 *   bench_pipeline [--events N] [--reps N] [--stream-mb MB] [--cpu K]
 *   bench_pipeline --write-doc FILE N     write the test document and stop
 *   bench_pipeline --profile json|protobuf [--events N] [--reps N]
 *                                         only the full pipeline, for a profiler
 *
 * Sections: the JSON pipeline and its stages over an in-memory document of
 * N ~1 KB ObjectEvents (gen.h); the same events as a protobuf tnt.v1.Batch;
 * per-event latency; SHA-256 on this CPU; and a ~1 GB document streamed from
 * a temporary file in 64 KB reads by a fresh process, so its peak resident
 * memory is the reader's alone. Environment: TNT_BENCH_EVENTS,
 * TNT_BENCH_REPS, TNT_BENCH_STREAM_MB (0 skips the stream).
 *
 * Lines starting with "@ " are the summary bench/run.sh collects. The
 * benchmark never fails on a slow machine; it exits non-zero only when the
 * library misbehaves (an event rejected, hashes that differ by format). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tnt/document.h>
#include <tnt/tnt.h>

#include "codec/json_stream.h" /* the tokenizer alone */
#include "gen.h"
#include "ingest/pipeline.h"    /* tnt__hash_prehash: the pre-hash strings' size */

#ifndef TNT_BENCH_BUILD
#define TNT_BENCH_BUILD "unknown build"
#endif

#define CHUNK ((size_t)64 * 1024)
#define TARGET_JSON_EPS 200000.0
#define FLOOR_JSON_EPS 50000.0
#define TARGET_PB_EPS 1000000.0
#define FLOOR_PB_EPS 300000.0
#define TARGET_STREAM_MB 64.0

static volatile unsigned sink; /* keeps the compiler from dropping the work */

/* Throughput is timed in CPU time of this thread, so that other work on a
 * shared machine does not count against the library; latency in wall time. */
static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
static double cpu_now(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }

static void loadavg(const char *when)
{
    double l1 = 0, l5 = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f && fscanf(f, "%lf %lf", &l1, &l5) == 2)
        printf("load average %s: %.2f (1 min), %.2f (5 min)\n", when, l1, l5);
    if (f)
        fclose(f);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_pipeline: %s\n", what);
    exit(1);
}

/* A line of /proc/self/status in MiB ("VmHWM", "VmRSS"). */
static double proc_mib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtod(line + n + 1, NULL) / 1024.0;
    if (f)
        fclose(f);
    return v;
}

static const char *verdict(double v, double target, bool higher_is_better)
{
    return (higher_is_better ? v >= target : v <= target) ? "meets" : "below";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- running a reader over bytes in memory ---- */

typedef struct run {
    size_t events, valid;
    double secs; /* CPU */
    double wall;
    double median; /* CPU, of several runs */
} run;

static void take(run *out, tnt_event *ev)
{
    out->events++;
    out->valid += (size_t)tnt_event_is_valid(ev);
    const char *h = tnt_event_get_string(ev, TNT_FIELD_HASH_ID);
    sink += h ? (unsigned char)h[20] : (unsigned)tnt_event_get_type(ev);
}

static run read_all(tnt_reader *r, const uint8_t *data, size_t len, size_t chunk)
{
    tnt_reader_reset(r);
    run out = {0, 0, 0, 0, 0};
    size_t at = 0;
    bool finished = false;
    tnt_event *ev;
    tnt_status st;
    double t0 = cpu_now(), w0 = now();
    for (;;) {
        while ((st = tnt_reader_next(&ev, r)) == TNT_OK)
            take(&out, ev);
        if (st != TNT_AGAIN || finished)
            break;
        size_t n = len - at < chunk ? len - at : chunk;
        tnt_reader_feed(r, data + at, n);
        at += n;
        if (at == len)
            finished = true, tnt_reader_finish(r);
    }
    out.secs = cpu_now() - t0;
    out.wall = now() - w0;
    if (st != TNT_DONE) {
        fprintf(stderr, "bench_pipeline: %s: %s\n", tnt_status_str(st), tnt_reader_errmsg(r));
        exit(1);
    }
    return out;
}

static tnt_reader *reader(unsigned format, unsigned flags)
{
    tnt_reader_options o;
    tnt_reader_options_init(&o, TNT_READER_OPTIONS_VERSION);
    o.format = format;
    o.flags = flags;
    tnt_reader *r;
    if (tnt_reader_new(&r, &o) != TNT_OK)
        die(tnt_error_last());
    return r;
}

/* The best of reps timed runs after one warm-up: the least disturbed by
 * other work on the machine (the medians are printed with it). */
static run measure(unsigned format, unsigned flags, const uint8_t *data, size_t len, int reps)
{
    tnt_reader *r = reader(format, flags);
    run first = read_all(r, data, len, CHUNK), out = first;
    double *secs = malloc(2 * (size_t)reps * sizeof *secs), *wall = secs + reps;
    for (int i = 0; i < reps; i++) {
        run k = read_all(r, data, len, CHUNK);
        secs[i] = k.secs;
        wall[i] = k.wall;
    }
    out.median = median(secs, (size_t)reps);
    out.secs = secs[0]; /* sorted by median() */
    out.wall = median(wall, (size_t)reps);
    free(secs);
    tnt_reader_free(r);
    return out;
}

/* Per-event latency: the document is fed one event at a time (starts[i] to
 * starts[i+1]), and each feed plus the tnt_reader_next calls that hand the
 * event out is timed, in wall-clock and in CPU time (the latter leaves out
 * preemption by other work). lat and cpu receive n nanosecond figures. */
static void latency(unsigned format, const uint8_t *data, size_t len, const size_t *starts, size_t n, double *lat,
                    double *cpu)
{
    tnt_reader *r = reader(format, TNT_READ_DEFAULT);
    for (int pass = 0; pass < 2; pass++) { /* the first pass warms up */
        tnt_reader_reset(r);
        tnt_event *ev;
        run sofar = {0, 0, 0, 0, 0};
        tnt_reader_feed(r, data, starts[0]);
        while (tnt_reader_next(&ev, r) == TNT_OK)
            take(&sofar, ev);
        for (size_t i = 0; i < n; i++) {
            double t0 = now(), c0 = cpu_now();
            tnt_reader_feed(r, data + starts[i], starts[i + 1] - starts[i]);
            while (tnt_reader_next(&ev, r) == TNT_OK)
                take(&sofar, ev);
            cpu[i] = (cpu_now() - c0) * 1e9;
            lat[i] = (now() - t0) * 1e9;
        }
        tnt_reader_feed(r, data + starts[n], len - starts[n]);
        tnt_reader_finish(r);
        while (tnt_reader_next(&ev, r) == TNT_OK)
            take(&sofar, ev);
        if (sofar.events != n)
            die("latency: an event was not handed out right after its bytes");
    }
    tnt_reader_free(r);
}

static void print_latency(const char *label, double *lat, double *cpu, size_t n, const char *key)
{
    qsort(lat, n, sizeof *lat, cmp_double);
    qsort(cpu, n, sizeof *cpu, cmp_double);
#define PCT(v, p) ((v)[(size_t)((double)n * (p))] / 1e3)
    printf("  %-9s wall p50 %6.2f us  p90 %6.2f  p99 %7.2f  p99.9 %8.2f  max %8.1f\n", label, PCT(lat, 0.5),
           PCT(lat, 0.9), PCT(lat, 0.99), PCT(lat, 0.999), lat[n - 1] / 1e3);
    printf("  %-9s CPU  p50 %6.2f us  p90 %6.2f  p99 %7.2f  p99.9 %8.2f  max %8.1f\n", "", PCT(cpu, 0.5),
           PCT(cpu, 0.9), PCT(cpu, 0.99), PCT(cpu, 0.999), cpu[n - 1] / 1e3);
    printf("@ %s latency p50 / p99, wall | %.2f / %.2f us | budget ~3-5 us per event (research 2.1)\n", key,
           PCT(lat, 0.5), PCT(lat, 0.99));
    printf("@ %s latency p50 / p99, CPU | %.2f / %.2f us | -\n", key, PCT(cpu, 0.5), PCT(cpu, 0.99));
#undef PCT
}

/* ---- the protobuf batch ---- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* The events of a JSON document, as sent (no normalisation), in a
 * tnt.v1.Batch: field 1, length-delimited, once per event. */
static uint8_t *make_batch(const uint8_t *doc, size_t len, size_t n, size_t *blen, size_t **starts_out)
{
    size_t cap = len, at = 0, i = 0;
    uint8_t *b = malloc(cap);
    size_t *starts = malloc((n + 1) * sizeof *starts);
    tnt_reader *r = reader(TNT_FORMAT_JSON, 0);
    tnt_reader_feed(r, doc, len);
    tnt_reader_finish(r);
    tnt_event *ev;
    while (b && starts && tnt_reader_next(&ev, r) == TNT_OK) {
        void *msg;
        size_t mlen;
        if (tnt_event_to_proto(&msg, &mlen, ev) != TNT_OK)
            die("tnt_event_to_proto failed");
        if (at + mlen + 16 > cap) {
            cap = cap * 2 + mlen;
            b = realloc(b, cap);
            if (!b)
                die("out of memory");
        }
        starts[i++] = at;
        b[at++] = 0x0a; /* field 1 (events), wire type 2 */
        at += put_varint(b + at, mlen);
        memcpy(b + at, msg, mlen);
        at += mlen;
        tnt_free(msg);
    }
    tnt_reader_free(r);
    if (!b || !starts || i != n)
        die("could not build the protobuf batch");
    starts[n] = at;
    *blen = at;
    *starts_out = starts;
    return b;
}

/* Hash IDs of every event, in order (n * TNT__HASH_ID_MAX bytes). */
static char *hashes(unsigned format, const uint8_t *data, size_t len, size_t n, size_t *rejected)
{
    char *out = calloc(n, TNT__HASH_ID_MAX);
    tnt_reader *r = reader(format, TNT_READ_DEFAULT);
    tnt_reader_feed(r, data, len);
    tnt_reader_finish(r);
    tnt_event *ev;
    size_t i = 0;
    *rejected = 0;
    while (out && tnt_reader_next(&ev, r) == TNT_OK && i < n) {
        const char *h = tnt_event_get_string(ev, TNT_FIELD_HASH_ID);
        snprintf(out + i * TNT__HASH_ID_MAX, TNT__HASH_ID_MAX, "%s", h ? h : "-");
        if (!tnt_event_is_valid(ev)) {
            const char *code = "", *path = "", *msg = "";
            tnt_event_error_at(&code, &path, &msg, ev, 0);
            if ((*rejected)++ < 3)
                fprintf(stderr, "bench_pipeline: event %zu rejected: %s %s %s\n", i, code, path, msg);
        }
        i++;
    }
    tnt_reader_free(r);
    if (!out || i != n)
        die("could not hash every event");
    return out;
}

/* yajl and the per-event trees libtnt builds from its events (json_stream.c),
 * without decoding them into events: the JSON part of "parse". CPU seconds. */
static double jstream_once(const uint8_t *doc, size_t len, size_t n)
{
    tnt__jlimits lim = {1048576, 32, 65536, 100000, false};
    tnt__jstream *js = tnt__jstream_new(&lim);
    size_t got = 0;
    double t0 = cpu_now();
    for (size_t at = 0; js && at < len; at += CHUNK) {
        if (tnt__jstream_feed(js, doc + at, len - at < CHUNK ? len - at : CHUNK) != TNT_OK)
            die(tnt__jstream_errmsg(js));
        tnt__jitem *it;
        while ((it = tnt__jstream_pop(js)) != NULL) {
            sink += it->root ? it->root->count : 0;
            tnt__jstream_release(js, it);
            got++;
        }
    }
    if (!js || tnt__jstream_finish(js) != TNT_OK || got != n)
        die("json_stream lost an event");
    double secs = cpu_now() - t0;
    tnt__jstream_free(js);
    return secs;
}

/* ---- the stages ---- */

static const struct stage {
    const char *name;
    unsigned flags;
    const char *budget; /* research/performance.md 2.1, per ~1 KB event */
} stages[] = {
    {"parse (flags 0)", 0, "parse ~0.5 us"},
    {"+ validate", TNT_READ_VALIDATE, "ids+times <= 1 us"},
    {"+ hash", TNT_READ_VALIDATE | TNT_READ_HASH, "pre-hash <= 1.5 us + SHA ~0.4 us"},
    {"+ normalize (full)", TNT_READ_DEFAULT, "(in the 1 us above)"},
};

#define NSTAGES (sizeof stages / sizeof stages[0])

/* Every stage reps times, the stages taking turns so that a busy spell on a
 * shared machine hits them alike; each stage's best run is reported. */
static double stage_table(const char *label, unsigned format, const uint8_t *data, size_t len, size_t n, int reps,
                          const char *key)
{
    printf("\n%s: %zu events, %.1f MB, %.0f B/event, one reader, 64 KB feeds;\n"
           "best of %d runs in CPU time of the thread (median: the median run; wall: its wall-clock time over "
           "its CPU time)\n",
           label, n, (double)len / 1e6, (double)len / (double)n, reps);
    printf("  %-20s %10s %8s %9s %10s %10s %6s   %s\n", "stage", "events/s", "MB/s", "us/event", "+us/event",
           "median", "wall", "budget");
    tnt_reader *r[NSTAGES];
    double *cpu = malloc((NSTAGES + 1) * (size_t)reps * 2 * sizeof *cpu), *wall = cpu + (NSTAGES + 1) * (size_t)reps;
    if (!cpu)
        die("out of memory");
    for (size_t s = 0; s < NSTAGES; s++) {
        r[s] = reader(format, stages[s].flags);
        if (read_all(r[s], data, len, CHUNK).events != n) /* warm-up */
            die("an event went missing");
    }
    for (int i = 0; i < reps; i++) {
        for (size_t s = 0; s < NSTAGES; s++) {
            run k = read_all(r[s], data, len, CHUNK);
            cpu[s * (size_t)reps + (size_t)i] = k.secs;
            wall[s * (size_t)reps + (size_t)i] = k.wall;
        }
        if (format == TNT_FORMAT_JSON)
            cpu[NSTAGES * (size_t)reps + (size_t)i] = jstream_once(data, len, n);
    }
    if (format == TNT_FORMAT_JSON) {
        double *v = cpu + NSTAGES * (size_t)reps;
        double med = median(v, (size_t)reps), us = v[0] / (double)n * 1e6;
        printf("  %-20s %10.0f %8.1f %9.2f %10s %7.2f us %6s   %s\n", "(yajl + event trees)", (double)n / v[0],
               (double)len / v[0] / 1e6, us, "", med / (double)n * 1e6, "", "part of parse");
        printf("@ %s yajl + event trees (no decode) | %.0f ev/s, %.1f MB/s, %.2f us/ev | -\n", key, (double)n / v[0],
               (double)len / v[0] / 1e6, us);
    }
    double prev = 0, full = 0;
    for (size_t s = 0; s < NSTAGES; s++) {
        double *c = cpu + s * (size_t)reps, *w = wall + s * (size_t)reps;
        double med = median(c, (size_t)reps), best = c[0], wmed = median(w, (size_t)reps);
        double eps = (double)n / best, us = best / (double)n * 1e6;
        printf("  %-20s %10.0f %8.1f %9.2f %10.2f %7.2f us %5.0f%%   %s\n", stages[s].name, eps,
               (double)len / best / 1e6, us, s ? us - prev : us, med / (double)n * 1e6, 100.0 * wmed / med,
               stages[s].budget);
        printf("@ %s %s | %.0f ev/s, %.2f us/ev |", key, stages[s].name, eps, us);
        if (stages[s].flags == TNT_READ_DEFAULT)
            printf(" %s\n", format == TNT_FORMAT_JSON ? ">= 200,000 ev/s" : ">= 1,000,000 ev/s");
        else
            printf(" -\n");
        prev = us;
        if (stages[s].flags == TNT_READ_DEFAULT)
            full = eps;
        tnt_reader_free(r[s]);
    }
    free(cpu);
    return full;
}

/* ---- SHA-256 on this CPU ---- */

static void sha_figures(const uint8_t *doc, size_t len)
{
    /* The pre-hash strings of the first events, as the hash step builds them. */
    enum { N = 256 };
    char *pre[N];
    size_t total = 0, k = 0;
    tnt_reader *r = reader(TNT_FORMAT_JSON, 0);
    tnt_reader_feed(r, doc, len);
    tnt_reader_finish(r);
    tnt_event *ev;
    while (k < N && tnt_reader_next(&ev, r) == TNT_OK) {
        pre[k] = tnt__hash_prehash(ev);
        if (!pre[k])
            die("no pre-hash string");
        total += strlen(pre[k++]);
    }
    tnt_reader_free(r);
    unsigned char md[SHA256_DIGEST_LENGTH];
    size_t rounds = 2000;
    double t0 = cpu_now();
    for (size_t i = 0; i < rounds; i++)
        for (size_t j = 0; j < k; j++) {
            SHA256((const unsigned char *)pre[j], strlen(pre[j]), md);
            sink += md[0];
        }
    double per = (cpu_now() - t0) / (double)(rounds * k);
    double avg = (double)total / (double)k;
    printf("\nSHA-256 (OpenSSL %s) of the pre-hash strings: %.0f B on average, %.3f us each, %.0f MB/s\n",
           OPENSSL_VERSION_TEXT + 8, avg, per * 1e6, avg / per / 1e6);
    printf("@ SHA-256 of a %.0f B pre-hash string | %.3f us | ~0.4 us with SHA-NI (research 2.1)\n", avg, per * 1e6);
    for (size_t j = 0; j < k; j++)
        tnt_free(pre[j]);
}

/* ---- the streamed document ---- */

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Write a document of at least mb MiB (or n events if n > 0); returns the
 * number of events, 0 on failure. */
static size_t write_doc(const char *path, double mb, size_t n, size_t *bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 0;
    size_t cap = (size_t)1 << 20, used = 0, total = 0, i = 0, want = (size_t)(mb * 1048576.0);
    char *buf = malloc(cap);
    bool ok = buf && write_all(fd, GEN_DOC_HEAD, sizeof GEN_DOC_HEAD - 1);
    total = sizeof GEN_DOC_HEAD - 1;
    for (; ok && (n ? i < n : total + used < want); i++) {
        if (used + GEN_EVENT_MAX + 1 > cap) {
            ok = write_all(fd, buf, used);
            total += used;
            used = 0;
        }
        if (i)
            buf[used++] = ',';
        used += gen_event(buf + used, i);
    }
    ok = ok && write_all(fd, buf, used) && write_all(fd, GEN_DOC_TAIL, sizeof GEN_DOC_TAIL - 1);
    total += used + sizeof GEN_DOC_TAIL - 1;
    free(buf);
    if (close(fd) != 0)
        ok = false;
    *bytes = total;
    return ok ? i : 0;
}

/* The child: stream the file through a reader in 64 KB reads. */
static int stream_child(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die("cannot open the streamed document");
    struct stat sb;
    fstat(fd, &sb);
    static uint8_t buf[CHUNK];
    double rss0 = proc_mib("VmRSS"), marks[3] = {0, 0, 0};
    size_t at = 0;
    int mark = 0;
    tnt_reader *r = reader(TNT_FORMAT_AUTO, TNT_READ_DEFAULT);
    run out = {0, 0, 0, 0, 0};
    tnt_event *ev;
    tnt_status st;
    bool eof = false;
    double t0 = cpu_now(), w0 = now();
    for (;;) {
        while ((st = tnt_reader_next(&ev, r)) == TNT_OK)
            take(&out, ev);
        if (st != TNT_AGAIN || eof)
            break;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0)
            die("read error");
        at += (size_t)n;
        if (n == 0) {
            eof = true;
            tnt_reader_finish(r);
        } else {
            tnt_reader_feed(r, buf, (size_t)n);
        }
        static const double at_frac[3] = {0.1, 0.5, 1.0};
        while (mark < 3 && (double)at >= at_frac[mark] * (double)sb.st_size)
            marks[mark++] = proc_mib("VmRSS");
    }
    out.secs = cpu_now() - t0;
    out.wall = now() - w0;
    close(fd);
    if (st != TNT_DONE) {
        fprintf(stderr, "bench_pipeline: stream: %s: %s\n", tnt_status_str(st), tnt_reader_errmsg(r));
        return 1;
    }
    tnt_reader_free(r);
    double hwm = proc_mib("VmHWM");
    double eps = (double)out.events / out.secs;
    printf("  streamed  %zu events (%zu valid) in %.2f s of CPU (%.2f s wall): %.0f events/s, %.1f MB/s\n",
           out.events, out.valid, out.secs, out.wall, eps, (double)sb.st_size / out.secs / 1e6);
    printf("  resident  %.1f MiB before reading; %.1f / %.1f / %.1f MiB after 10%% / 50%% / 100%% of the file\n", rss0,
           marks[0], marks[1], marks[2]);
    printf("  peak      VmHWM %.1f MiB   target <= %.0f MiB, constant: %s\n", hwm, TARGET_STREAM_MB,
           verdict(hwm, TARGET_STREAM_MB, false));
    printf("@ stream %.0f MB document | %.0f ev/s, %.1f MB/s | -\n", (double)sb.st_size / 1e6, eps,
           (double)sb.st_size / out.secs / 1e6);
    printf("@ stream peak resident (VmHWM) | %.1f MiB | <= 64 MiB, constant (%s)\n", hwm,
           verdict(hwm, TARGET_STREAM_MB, false));
    return out.valid == out.events ? 0 : 1;
}

static int stream_section(double mb, const char *self)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/tnt-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        printf("  (skipped: cannot make a temporary directory: %s)\n", strerror(errno));
        return 0;
    }
    snprintf(path, sizeof path, "%s/stream.jsonld", dir);
    size_t bytes = 0;
    double t0 = now();
    size_t n = write_doc(path, mb, 0, &bytes);
    double gen = now() - t0;
    int rc = 0;
    if (!n) {
        printf("  (skipped: cannot write %s: %s)\n", path, strerror(errno));
    } else {
        printf("  generated %zu events, %.1f MB in %.1f s at %s (read back from the page cache)\n", n,
               (double)bytes / 1e6, gen, path);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            execl(self, self, "--stream-child", path, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("  stream child failed (status %d)\n", status);
            rc = 1;
        }
    }
    unlink(path);
    rmdir(dir);
    return rc;
}

/* ---- main ---- */

static long env_or(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        printf("(could not pin to CPU %d: %s)\n", cpu, strerror(errno));
}

static void machine(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256], model[256] = "unknown CPU";
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            snprintf(model, sizeof model, "%s", c ? c + 2 : line);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    printf("libtnt %s, %s; %s, %ld CPUs online, pinned to one\n", tnt_version_string(), TNT_BENCH_BUILD, model,
           sysconf(_SC_NPROCESSORS_ONLN));
}

int main(int argc, char **argv)
{
    size_t n = (size_t)env_or("TNT_BENCH_EVENTS", 20000);
    int reps = (int)env_or("TNT_BENCH_REPS", 5), cpu = 0;
    const char *profile = NULL;
    double stream_mb = (double)env_or("TNT_BENCH_STREAM_MB", 1024);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--stream-child") == 0 && next)
            return stream_child(next);
        if (strcmp(a, "--write-doc") == 0 && next && i + 2 < argc) {
            size_t bytes;
            size_t k = write_doc(next, 0, (size_t)strtoull(argv[i + 2], NULL, 10), &bytes);
            if (!k)
                die("cannot write the document");
            fprintf(stderr, "wrote %zu events, %zu bytes to %s\n", k, bytes, next);
            return 0;
        }
        if (strcmp(a, "--profile") == 0 && next)
            profile = argv[++i];
        else if (strcmp(a, "--events") == 0 && next)
            n = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--reps") == 0 && next)
            reps = atoi(argv[++i]);
        else if (strcmp(a, "--stream-mb") == 0 && next)
            stream_mb = strtod(argv[++i], NULL);
        else if (strcmp(a, "--cpu") == 0 && next)
            cpu = atoi(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--events N] [--reps N] [--stream-mb MB] [--cpu K] [--profile json|protobuf]\n"
                    "       %s --write-doc FILE N\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    if (n < 100 || reps < 1)
        die("need --events >= 100 and --reps >= 1");
    pin(cpu);
    setvbuf(stdout, NULL, _IOLBF, 0);
    machine();
    loadavg("at the start");

    size_t len, *starts;
    const uint8_t *doc = (const uint8_t *)gen_doc(n, &len, &starts);
    if (!doc)
        die("out of memory");

    if (profile) { /* the full pipeline only, reps times */
        size_t blen, *bstarts;
        bool pb = strcmp(profile, "protobuf") == 0;
        uint8_t *batch = pb ? make_batch(doc, len, n, &blen, &bstarts) : NULL;
        run rr = measure(pb ? TNT_FORMAT_PROTOBUF : TNT_FORMAT_JSON, TNT_READ_DEFAULT, pb ? batch : doc,
                         pb ? blen : len, reps);
        printf("profile %s: %zu events, %.2f us/event\n", profile, rr.events, rr.secs / (double)n * 1e6);
        if (pb)
            free(batch), free(bstarts);
        return 0;
    }

    /* Correctness first: every event valid, the same hash by either format. */
    size_t rejected, pb_rejected, blen, *bstarts;
    char *jh = hashes(TNT_FORMAT_JSON, doc, len, n, &rejected);
    uint8_t *batch = make_batch(doc, len, n, &blen, &bstarts);
    char *ph = hashes(TNT_FORMAT_PROTOBUF, batch, blen, n, &pb_rejected);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(jh + i * TNT__HASH_ID_MAX, ph + i * TNT__HASH_ID_MAX) != 0 && differ++ < 3)
            fprintf(stderr, "bench_pipeline: event %zu: JSON hash %s, protobuf hash %s\n", i,
                    jh + i * TNT__HASH_ID_MAX, ph + i * TNT__HASH_ID_MAX);
    printf("checks: %zu events, %zu rejected from JSON, %zu from protobuf, %zu hashes differ between the formats\n", n,
           rejected, pb_rejected, differ);
    free(jh);
    free(ph);

    double json_eps = stage_table("EPCIS JSON document", TNT_FORMAT_JSON, doc, len, n, reps, "JSON");
    printf("  full pipeline: %.0f events/s  target >= %.0f (floor %.0f): %s\n", json_eps, TARGET_JSON_EPS,
           FLOOR_JSON_EPS, verdict(json_eps, TARGET_JSON_EPS, true));
    double pb_eps = stage_table("protobuf tnt.v1.Batch (same events, as sent)", TNT_FORMAT_PROTOBUF, batch, blen, n,
                                reps, "protobuf");
    printf("  full pipeline: %.0f events/s  target >= %.0f (floor %.0f): %s\n", pb_eps, TARGET_PB_EPS, FLOOR_PB_EPS,
           verdict(pb_eps, TARGET_PB_EPS, true));

    printf("\nlatency per event, full pipeline (each event fed on its own into a streaming reader):\n");
    double *lat = malloc(2 * n * sizeof *lat), *lcpu = lat + n;
    if (!lat)
        die("out of memory");
    latency(TNT_FORMAT_JSON, doc, len, starts, n, lat, lcpu);
    print_latency("JSON", lat, lcpu, n, "JSON");
    latency(TNT_FORMAT_PROTOBUF, batch, blen, bstarts, n, lat, lcpu);
    print_latency("protobuf", lat, lcpu, n, "protobuf");
    free(lat);

    sha_figures(doc, len);

    double hwm = proc_mib("VmHWM");
    printf("\npeak resident so far (VmHWM): %.1f MiB, of which the in-memory inputs are %.1f MiB (JSON %.1f + "
           "protobuf %.1f)\n",
           hwm, (double)(len + blen) / 1048576.0, (double)len / 1048576.0, (double)blen / 1048576.0);
    printf("@ in-memory run peak resident (VmHWM) | %.1f MiB incl. %.1f MiB of input | -\n", hwm,
           (double)(len + blen) / 1048576.0);
    printf("@ event size | JSON %.0f B, protobuf %.0f B | ~1 KB JSON, 100-200 B protobuf (research 2)\n",
           (double)(starts[n] - starts[0]) / (double)n, (double)blen / (double)n);

    loadavg("after the in-memory runs");
    int rc = rejected || pb_rejected || differ ? 1 : 0;
    if (stream_mb > 0) {
        printf("\nstreaming a ~%.0f MiB EPCISDocument from disk, 64 KB reads, full pipeline, fresh process:\n",
               stream_mb);
        char self[4096];
        ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
        if (k <= 0)
            die("cannot find my own executable");
        self[k] = '\0';
        rc |= stream_section(stream_mb, self);
    }
    free((void *)doc);
    free(starts);
    free(batch);
    free(bstarts);
    return rc;
}
