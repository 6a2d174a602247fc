/* json_candidates — which C JSON parser from Debian's packages should libtnt
 * read EPCIS with? Each one parses the same ~1 KB events (gen.h):
 *
 *   1. per event: parse one event text into the library's own form, free it;
 *   2. whole document: one ~20 MB EPCISDocument in one call, in a fresh
 *      process, with the peak memory it took beyond the text;
 *   3. streaming: a ~1 GB document fed in 64 KB chunks where the API takes
 *      chunks, with the resident memory as it goes;
 *   4. jsmn without and with JSMN_PARENT_LINKS on growing documents: its
 *      closing-bracket search walks back over every earlier event.
 *
 *   json_candidates [--events N] [--stream-mb MB] [--reps N]
 *
 * The file is compiled once per candidate with JC_ADAPTER_<NAME> defined
 * (their headers clash: json-c's json_object type, jansson's json_object()
 * and json-parser's json_object enumerator), and once without for main(). */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pulls the next chunk of input into buf; returns its length, 0 at the end. */
typedef size_t (*jc_pull)(char *buf, size_t cap, void *ud);

typedef struct jc_candidate {
    const char *name;
    const char *package;
    /* Parse one complete text (NUL-terminated at len) and free the result. 0: ok. */
    int (*parse)(const char *text, size_t len);
    /* Parse a document pulled in chunks; NULL when the API needs the whole text. */
    int (*stream)(jc_pull pull, void *ud);
    const char *stream_note; /* what the chunked API keeps in memory */
} jc_candidate;

#define CHUNK ((size_t)64 * 1024)

/* ======================================================================== */
#if defined(JC_ADAPTER_YAJL_EVENT) || defined(JC_ADAPTER_YAJL_TREE)
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#ifdef JC_ADAPTER_YAJL_EVENT
/* The callbacks do what any consumer must at least do: look at each token. */
typedef struct ycount {
    size_t tokens, bytes;
} ycount;
static int y_tok(void *c)
{
    ((ycount *)c)->tokens++;
    return 1;
}
static int y_null(void *c) { return y_tok(c); }
static int y_bool(void *c, int b) { return (void)b, y_tok(c); }
static int y_str(void *c, const unsigned char *s, size_t l)
{
    (void)s;
    ((ycount *)c)->bytes += l;
    return y_tok(c);
}
static int y_num(void *c, const char *s, size_t l) { return y_str(c, (const unsigned char *)s, l); }
static const yajl_callbacks ycb = {y_null, y_bool, NULL, NULL, y_num, y_str, y_tok, y_str, y_tok, y_tok, y_tok};

static int yajl_event_parse(const char *text, size_t len)
{
    ycount c = {0, 0};
    yajl_handle h = yajl_alloc(&ycb, NULL, &c);
    int bad = yajl_parse(h, (const unsigned char *)text, len) != yajl_status_ok ||
              yajl_complete_parse(h) != yajl_status_ok;
    yajl_free(h);
    return bad;
}

static int yajl_event_stream(jc_pull pull, void *ud)
{
    ycount c = {0, 0};
    yajl_handle h = yajl_alloc(&ycb, NULL, &c);
    char *buf = malloc(CHUNK);
    size_t n;
    int bad = 0;
    while (!bad && (n = pull(buf, CHUNK, ud)) > 0)
        bad = yajl_parse(h, (const unsigned char *)buf, n) != yajl_status_ok;
    bad = bad || yajl_complete_parse(h) != yajl_status_ok;
    yajl_free(h);
    free(buf);
    return bad;
}

const jc_candidate jc_yajl_event = {"yajl 2.1.0 event parser", "libyajl-dev", yajl_event_parse,
                                    yajl_event_stream, "callbacks per token; keeps only the open-bracket stack"};
#else
static int yajl_tree_parse_one(const char *text, size_t len)
{
    (void)len;
    char err[128];
    yajl_val v = yajl_tree_parse(text, err, sizeof err);
    yajl_tree_free(v);
    return v == NULL;
}
const jc_candidate jc_yajl_tree = {"yajl 2.1.0 tree (yajl_tree_parse)", "libyajl-dev", yajl_tree_parse_one, NULL,
                                   "NUL-terminated whole text only"};
#endif

/* ======================================================================== */
#elif defined(JC_ADAPTER_JANSSON)
#include <jansson.h>

static int jansson_parse(const char *text, size_t len)
{
    json_error_t e;
    json_t *v = json_loadb(text, len, 0, &e);
    json_decref(v);
    return v == NULL;
}

typedef struct jpull {
    jc_pull pull;
    void *ud;
} jpull;
static size_t jansson_cb(void *buf, size_t cap, void *data)
{
    jpull *p = data;
    return p->pull(buf, cap, p->ud);
}
static int jansson_stream(jc_pull pull, void *ud)
{
    jpull p = {pull, ud};
    json_error_t e;
    json_t *v = json_load_callback(jansson_cb, &p, 0, &e);
    json_decref(v);
    return v == NULL;
}
const jc_candidate jc_jansson = {"jansson 2.14", "libjansson-dev", jansson_parse, jansson_stream,
                                 "json_load_callback takes chunks but builds the whole tree"};

/* ======================================================================== */
#elif defined(JC_ADAPTER_CJSON)
#include <cjson/cJSON.h>

static int cjson_parse(const char *text, size_t len)
{
    cJSON *v = cJSON_ParseWithLength(text, len);
    cJSON_Delete(v);
    return v == NULL;
}
const jc_candidate jc_cjson = {"cJSON 1.7.15", "libcjson-dev", cjson_parse, NULL, "whole text only"};

/* ======================================================================== */
#elif defined(JC_ADAPTER_JSONC)
#include <json-c/json.h>

static json_tokener *tok;
static int jsonc_parse(const char *text, size_t len)
{
    if (!tok)
        tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
    json_tokener_reset(tok);
    json_object *v = json_tokener_parse_ex(tok, text, (int)len);
    json_object_put(v);
    return v == NULL;
}
static int jsonc_stream(jc_pull pull, void *ud)
{
    json_tokener *t = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
    char *buf = malloc(CHUNK);
    json_object *v = NULL;
    size_t n;
    while ((n = pull(buf, CHUNK, ud)) > 0) {
        v = json_tokener_parse_ex(t, buf, (int)n);
        if (!v && json_tokener_get_error(t) != json_tokener_continue)
            break;
    }
    int bad = v == NULL;
    json_object_put(v);
    json_tokener_free(t);
    free(buf);
    return bad;
}
const jc_candidate jc_jsonc = {"json-c 0.16", "libjson-c-dev", jsonc_parse, jsonc_stream,
                               "json_tokener takes chunks but builds the whole tree"};

/* ======================================================================== */
#elif defined(JC_ADAPTER_JSONPARSER)
#include <json-parser/json.h>

static int jsonparser_parse(const char *text, size_t len)
{
    json_value *v = json_parse(text, len);
    json_value_free(v);
    return v == NULL;
}
const jc_candidate jc_jsonparser = {"json-parser 1.1", "libjsonparser-dev", jsonparser_parse, NULL,
                                    "whole text only"};

/* ======================================================================== */
#elif defined(JC_ADAPTER_JSMN) || defined(JC_ADAPTER_JSMN_PL)
#ifdef JC_ADAPTER_JSMN_PL
#define JSMN_PARENT_LINKS
#endif
#define JSMN_STATIC
#include <jsmn.h>

/* Tokens only: offsets into the text; no strings decoded, no numbers read. */
static int jsmn_one(const char *text, size_t len)
{
    jsmn_parser p;
    jsmntok_t *toks;
    static jsmntok_t small[512];
    int n = 512;
    toks = small;
    if (len > 4096) { /* a document: count first, then tokenise */
        jsmn_init(&p);
        n = jsmn_parse(&p, text, len, NULL, 0);
        if (n <= 0 || !(toks = malloc((size_t)n * sizeof *toks)))
            return 1;
    }
    jsmn_init(&p);
    int r = jsmn_parse(&p, text, len, toks, (unsigned)n);
    if (toks != small)
        free(toks);
    return r < 0;
}
#ifdef JC_ADAPTER_JSMN_PL
const jc_candidate jc_jsmn_pl = {"jsmn 1.1.0 + JSMN_PARENT_LINKS", "libjsmn-dev", jsmn_one, NULL,
                                 "whole text and a token array"};
#else
const jc_candidate jc_jsmn = {"jsmn 1.1.0 (default, no parent links)", "libjsmn-dev", jsmn_one, NULL,
                              "whole text and a token array"};
#endif

/* ======================================================================== */
#else /* the benchmark */
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"

#ifndef TNT_BENCH_BUILD
#define TNT_BENCH_BUILD "unknown build"
#endif

extern const jc_candidate jc_yajl_event, jc_yajl_tree, jc_jansson, jc_cjson, jc_jsonc, jc_jsonparser, jc_jsmn,
    jc_jsmn_pl;
static const jc_candidate *const cands[] = {&jc_yajl_event, &jc_yajl_tree, &jc_jansson,   &jc_cjson,
                                            &jc_jsonc,      &jc_jsonparser, &jc_jsmn,     &jc_jsmn_pl};
#define NCANDS (sizeof cands / sizeof cands[0])

/* CPU time of the process: other work on a shared machine does not count. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- 1. per event ---- */

typedef struct events {
    char *text;      /* the events, each NUL-terminated */
    size_t *at, *len;
    size_t n, bytes;
} events;

static events make_events(size_t n)
{
    events e = {malloc(n * GEN_EVENT_MAX), malloc(n * sizeof(size_t)), malloc(n * sizeof(size_t)), n, 0};
    if (!e.text || !e.at || !e.len)
        exit(1);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        e.at[i] = off;
        e.len[i] = gen_event(e.text + off, i);
        e.text[off + e.len[i]] = '\0';
        off += e.len[i] + 1;
        e.bytes += e.len[i];
    }
    return e;
}

static double per_event(const jc_candidate *c, const events *e, int reps)
{
    double best[16];
    if (reps > 16)
        reps = 16;
    for (int r = -1; r < reps; r++) { /* r = -1 warms up */
        double t0 = now();
        for (size_t i = 0; i < e->n; i++)
            if (c->parse(e->text + e->at[i], e->len[i]) != 0) {
                fprintf(stderr, "json_candidates: %s rejected event %zu\n", c->name, i);
                exit(1);
            }
        if (r >= 0)
            best[r] = now() - t0;
    }
    qsort(best, (size_t)reps, sizeof best[0], cmp_double);
    return best[0]; /* the least disturbed pass */
}

/* ---- 2. whole document, in a fresh process ---- */

static int whole_child(const jc_candidate *c, size_t n)
{
    size_t len;
    char *doc = gen_doc(n, &len, NULL);
    if (!doc)
        return 1;
    double before = proc_mib("VmRSS");
    double t0 = now();
    int bad = c->parse(doc, len);
    double secs = now() - t0;
    printf("%.6f %.1f %zu\n", secs, proc_mib("VmHWM") - before, len);
    free(doc);
    return bad;
}

typedef struct whole {
    double secs, extra_mib;
    size_t bytes;
    bool ok;
} whole;

static whole run_whole(const char *self, size_t idx, size_t n)
{
    whole w = {0, 0, 0, false};
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' --whole %zu %zu", self, idx, n);
    FILE *p = popen(cmd, "r");
    if (p) {
        w.ok = fscanf(p, "%lf %lf %zu", &w.secs, &w.extra_mib, &w.bytes) == 3;
        w.ok = pclose(p) == 0 && w.ok;
    }
    return w;
}

/* ---- 3. streaming ---- */

typedef struct gen_stream {
    size_t target, emitted, next;
    int phase; /* 0 head, 1 events, 2 tail, 3 done */
    char *buf; /* generated, not yet pulled: buf[off, len) */
    size_t off, len;
    double gen_secs;
    double rss[3];
    int mark;
} gen_stream;

/* Generate about 64 KB more of the document into g->buf. */
static void generate(gen_stream *g)
{
    size_t n = 0;
    if (g->phase == 0) {
        memcpy(g->buf, GEN_DOC_HEAD, sizeof GEN_DOC_HEAD - 1);
        n = sizeof GEN_DOC_HEAD - 1;
        g->phase = 1;
    }
    while (g->phase == 1 && n + GEN_EVENT_MAX + 1 <= CHUNK) {
        if (g->next)
            g->buf[n++] = ',';
        n += gen_event(g->buf + n, g->next++);
        if (g->emitted + n >= g->target)
            g->phase = 2;
    }
    if (g->phase == 2 && n + sizeof GEN_DOC_TAIL <= CHUNK) {
        memcpy(g->buf + n, GEN_DOC_TAIL, sizeof GEN_DOC_TAIL - 1);
        n += sizeof GEN_DOC_TAIL - 1;
        g->phase = 3;
    }
    g->emitted += n;
    g->off = 0;
    g->len = n;
}

static size_t pull_gen(char *buf, size_t cap, void *ud)
{
    gen_stream *g = ud;
    if (g->off == g->len) {
        if (g->phase == 3)
            return 0;
        double t0 = now();
        generate(g);
        static const double marks[3] = {0.25, 0.5, 1.0};
        while (g->mark < 3 && (double)g->emitted >= marks[g->mark] * (double)g->target)
            g->rss[g->mark++] = proc_mib("VmRSS");
        g->gen_secs += now() - t0;
    }
    size_t n = g->len - g->off < cap ? g->len - g->off : cap;
    memcpy(buf, g->buf + g->off, n);
    g->off += n;
    return n;
}

static int stream_child(const jc_candidate *c, double mb)
{
    gen_stream g = {(size_t)(mb * 1048576.0), 0, 0, 0, malloc(CHUNK), 0, 0, 0, {0, 0, 0}, 0};
    if (!g.buf)
        return 1;
    double rss0 = proc_mib("VmRSS");
    double t0 = now();
    int bad = c->stream(pull_gen, &g);
    double secs = now() - t0 - g.gen_secs;
    printf("%.6f %zu %zu %.1f %.1f %.1f %.1f %.1f\n", secs, g.emitted, g.next, rss0, g.rss[0], g.rss[1], g.rss[2],
           proc_mib("VmHWM"));
    free(g.buf);
    return bad;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    size_t n = 10000, doc_events = 20000;
    double stream_mb = 1024, tree_stream_mb = 128;
    int reps = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--whole") == 0 && i + 2 < argc)
            return whole_child(cands[atoi(argv[i + 1]) % NCANDS], (size_t)atol(argv[i + 2]));
        if (strcmp(a, "--stream") == 0 && i + 2 < argc)
            return stream_child(cands[atoi(argv[i + 1]) % NCANDS], atof(argv[i + 2]));
        if (strcmp(a, "--events") == 0 && more)
            n = (size_t)atol(argv[++i]);
        else if (strcmp(a, "--doc-events") == 0 && more)
            doc_events = (size_t)atol(argv[++i]);
        else if (strcmp(a, "--stream-mb") == 0 && more)
            stream_mb = atof(argv[++i]);
        else if (strcmp(a, "--reps") == 0 && more)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--events N] [--doc-events N] [--stream-mb MB] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    const char *env = getenv("TNT_BENCH_STREAM_MB");
    if (env && *env)
        stream_mb = atof(env);
    if (stream_mb < tree_stream_mb)
        tree_stream_mb = stream_mb;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char self[4096];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k <= 0)
        return 1;
    self[k] = '\0';

    events ev = make_events(n);
    printf("JSON parsers from Debian's packages on the same %zu events (%.0f B each), one core; this program is a %s\n",
           n, (double)ev.bytes / (double)n, TNT_BENCH_BUILD);
    printf("the libraries are Debian's own builds; each parse includes freeing what it built\n\n");

    printf("1. per event: parse one ~1 KB event text, free it (best of %d passes over all %zu, CPU time)\n", reps, n);
    printf("  %-40s %10s %10s %9s\n", "parser", "MB/s", "events/s", "us/event");
    double eps[NCANDS];
    for (size_t c = 0; c < NCANDS; c++) {
        double secs = per_event(cands[c], &ev, reps);
        eps[c] = (double)n / secs;
        printf("  %-40s %10.1f %10.0f %9.2f\n", cands[c]->name, (double)ev.bytes / secs / 1e6, eps[c],
               secs / (double)n * 1e6);
        printf("@ json per-event %s | %.1f MB/s, %.0f ev/s | -\n", cands[c]->name, (double)ev.bytes / secs / 1e6,
               eps[c]);
    }

    printf("\n2. whole document: one EPCISDocument of %zu events in one call, fresh process per parser\n", doc_events);
    printf("  %-40s %10s %9s %14s %10s\n", "parser", "MB/s", "seconds", "peak beyond", "x text");
    printf("  %-40s %10s %9s %14s %10s\n", "", "", "", "the text, MiB", "");
    double ratio[NCANDS];
    for (size_t c = 0; c < NCANDS; c++) {
        if (cands[c] == &jc_jsmn) { /* quadratic: measured in section 4 */
            ratio[c] = -1;
            printf("  %-40s %10s (section 4)\n", cands[c]->name, "");
            continue;
        }
        whole w = run_whole(self, c, doc_events);
        ratio[c] = w.ok ? w.extra_mib * 1048576.0 / (double)w.bytes : -1;
        if (!w.ok) {
            printf("  %-40s failed\n", cands[c]->name);
            continue;
        }
        printf("  %-40s %10.1f %9.3f %14.1f %10.2f\n", cands[c]->name, (double)w.bytes / w.secs / 1e6, w.secs,
               w.extra_mib, ratio[c]);
        printf("@ json whole-document %s | %.1f MB/s, %.1f MiB beyond the text | -\n", cands[c]->name,
               (double)w.bytes / w.secs / 1e6, w.extra_mib);
    }

    printf("\n3. a ~%.0f MiB document in 64 KB chunks (generated on the fly; generation time excluded)\n", stream_mb);
    for (size_t c = 0; c < NCANDS; c++) {
        const jc_candidate *cd = cands[c];
        if (!cd->stream) {
            if (ratio[c] < 0 && cd == &jc_jsmn) /* the same tokens as with parent links, 4 B less each */
                ratio[c] = ratio[c + 1] * 16.0 / 20.0;
            printf("  %-40s no: %s; a 1 GiB document needs ~%.1f GiB (text + %.2fx)\n", cd->name, cd->stream_note,
                   1 + (ratio[c] > 0 ? ratio[c] : 0), ratio[c]);
            printf("@ json stream %s | no (whole text + %.2fx) | constant memory\n", cd->name, ratio[c]);
            continue;
        }
        double mb = cd == &jc_yajl_event ? stream_mb : tree_stream_mb;
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "'%s' --stream %zu %.0f", self, c, mb);
        FILE *p = popen(cmd, "r");
        double secs = 0, rss0 = 0, r25 = 0, r50 = 0, r100 = 0, hwm = 0;
        size_t bytes = 0, nev = 0;
        int got = p ? fscanf(p, "%lf %zu %zu %lf %lf %lf %lf %lf", &secs, &bytes, &nev, &rss0, &r25, &r50, &r100,
                             &hwm)
                    : 0;
        int rc = p ? pclose(p) : -1;
        if (got != 8 || rc != 0) {
            printf("  %-40s failed\n", cd->name);
            continue;
        }
        bool constant = hwm - rss0 < 16;
        printf("  %-40s %s: %.0f MiB, %zu events, %.1f MB/s; resident %.1f -> %.1f / %.1f / %.1f MiB at 25/50/100%%, "
               "peak %.1f MiB (%s)\n",
               cd->name, constant ? "yes" : "no", (double)bytes / 1048576.0, nev, (double)bytes / secs / 1e6, rss0,
               r25, r50, r100, hwm, cd->stream_note);
        printf("@ json stream %s | %s: %.0f MiB at %.1f MB/s, peak %.1f MiB | constant memory\n", cd->name,
               constant ? "yes" : "no", (double)bytes / 1048576.0, (double)bytes / secs / 1e6, hwm);
    }

    printf("\n4. jsmn: whole documents of growing size, without and with JSMN_PARENT_LINKS\n");
    printf("  %10s %10s %22s %22s\n", "events", "MB", "default: s (MB/s)", "parent links: s (MB/s)");
    size_t jsmn_idx = 0, jsmn_pl_idx = 0;
    for (size_t c = 0; c < NCANDS; c++) {
        if (cands[c] == &jc_jsmn)
            jsmn_idx = c;
        if (cands[c] == &jc_jsmn_pl)
            jsmn_pl_idx = c;
    }
    for (size_t e = 2500; e <= 20000; e *= 2) {
        whole a = run_whole(self, jsmn_idx, e), b = run_whole(self, jsmn_pl_idx, e);
        printf("  %10zu %10.1f %12.3f (%7.1f) %12.3f (%7.1f)\n", e, (double)a.bytes / 1e6, a.secs,
               (double)a.bytes / a.secs / 1e6, b.secs, (double)b.bytes / b.secs / 1e6);
        printf("@ jsmn %zu-event document | default %.3f s, parent links %.3f s | -\n", e, a.secs, b.secs);
    }
    free(ev.text);
    free(ev.at);
    free(ev.len);
    return 0;
}
#endif
