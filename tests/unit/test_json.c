/*
 * EPCIS JSON: the streaming cutter (json_stream.c), the decoder
 * (epcis_decode.c) and the writer (epcis_write.c).
 *
 * GS1's published examples are the ground truth: each one goes JSON ->
 * model -> JSON and JSON -> model -> protobuf -> model -> JSON, and the
 * output must hold every member of the input with an equal value.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "codec/epcis.h"
#include "codec/flat.h"
#include "codec/json_stream.h"
#include "tnt/document.h"

/* ---- files ---- */

static char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = '\0';
        if (len_out)
            *len_out = (size_t)n;
    }
    return p;
}

typedef struct files {
    char **v;
    size_t n;
} files;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void find_files(files *out, const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        size_t n = strlen(e->d_name), k = strlen(suffix);
        if (S_ISDIR(st.st_mode)) {
            find_files(out, path, suffix);
        } else if (n > k && strcmp(e->d_name + n - k, suffix) == 0) {
            out->v = realloc(out->v, (out->n + 1) * sizeof *out->v);
            out->v[out->n++] = strdup(path);
        }
    }
    closedir(d);
    qsort(out->v, out->n, sizeof *out->v, cmp_str);
}

static void free_files(files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i]);
    free(f->v);
}

static files gs1_examples(void)
{
    files f = {NULL, 0};
    find_files(&f, TNT_CONFORMANCE "/gs1-epcis/JSON", ".jsonld");
    assert_true(f.n >= 40);
    return f;
}

/* ---- trees ---- */

static tnt__node *tree(tnt__arena *a, const char *text)
{
    char err[256] = "";
    tnt__node *n = tnt__json_parse_tree(a, text, strlen(text), err, sizeof err);
    if (!n)
        fail_msg("not JSON (%s): %.300s", err, text);
    return n;
}

static const tnt__node *get(const tnt__node *n, const char *key) { return tnt__node_get(n, key); }

/* The event objects of a document, in order. */
static const tnt__node *event_list(const tnt__node *doc)
{
    const tnt__node *body = get(doc, "epcisBody");
    const tnt__node *l = get(body, "eventList");
    if (!l)
        l = get(get(get(body, "queryResults"), "resultsBody"), "eventList");
    return l;
}

static bool is_time_key(const char *k)
{
    static const char *const keys[] = {"eventTime", "recordTime", "declarationTime", "time", "startTime", "endTime"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (k && strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

/* Is a later member of the same object named like m? (JSON's last one stands.) */
static bool shadowed(const tnt__node *m)
{
    for (const tnt__node *k = m->next; k; k = k->next)
        if (strcmp(k->key, m->key) == 0)
            return true;
    return false;
}

/* in and out hold the same value: every member of one is in the other.
 * Numbers compare as numbers, times as instants with their offset: the
 * forms the writer gives them without normalisation. */
static void same(const tnt__node *in, const tnt__node *out, const char *path, bool time)
{
    if (in->kind == TNT__N_NUMBER && out->kind == TNT__N_NUMBER) {
        double a, b;
        assert_true(tnt__num_parse(&a, in->str) && tnt__num_parse(&b, out->str));
        if (a != b)
            fail_msg("%s: number %s became %s", path, in->str, out->str);
        return;
    }
    if (in->kind != out->kind)
        fail_msg("%s: kind %d became %d", path, in->kind, out->kind);
    if (in->kind == TNT__N_STRING) {
        if (time) {
            tnt__time a = {0}, b = {0};
            if (!tnt__time_parse(&a, in->str) || !tnt__time_parse(&b, out->str) || a.ms != b.ms || a.off != b.off)
                fail_msg("%s: time %s became %s", path, in->str, out->str);
        } else if (strcmp(in->str, out->str) != 0) {
            fail_msg("%s: \"%s\" became \"%s\"", path, in->str, out->str);
        }
        return;
    }
    char sub[512];
    if (in->kind == TNT__N_ARRAY) {
        if (in->count != out->count)
            fail_msg("%s: %u items became %u", path, in->count, out->count);
        size_t i = 0;
        for (const tnt__node *a = in->child, *b = out->child; a; a = a->next, b = b->next, i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            same(a, b, sub, time);
        }
        return;
    }
    if (in->kind == TNT__N_OBJECT) {
        uint32_t members = 0;
        for (const tnt__node *m = in->child; m; m = m->next) {
            if (shadowed(m))
                continue;
            members++;
            snprintf(sub, sizeof sub, "%s.%s", path, m->key);
            const tnt__node *o = get(out, m->key);
            if (!o)
                fail_msg("%s: missing from the output", sub);
            same(m, o, sub, is_time_key(m->key));
        }
        if (members != out->count) {
            for (const tnt__node *m = out->child; m; m = m->next)
                if (!get(in, m->key))
                    fail_msg("%s.%s: added by the output", path, m->key);
            fail_msg("%s: %u members became %u", path, members, out->count);
        }
    }
}

/* ---- events through the public reader ---- */

typedef struct evs {
    char **json;   /* tnt_event_to_json(ev, 0) */
    char **hash;
    size_t n;
    tnt_status end;
} evs;

static void evs_free(evs *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->json[i]);
        free(e->hash[i]);
    }
    free(e->json);
    free(e->hash);
    memset(e, 0, sizeof *e);
}

typedef void (*per_event)(tnt_event *ev, size_t i, void *ud);

static evs read_all(const void *doc, size_t len, unsigned flags, per_event fn, void *ud)
{
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    o.flags = flags;
    o.future_skew_ms = -1;
    tnt_reader *r;
    assert_int_equal(tnt_reader_new(&r, &o), TNT_OK);
    evs out = {NULL, NULL, 0, TNT_OK};
    assert_int_equal(tnt_reader_feed(r, doc, len), TNT_OK);
    assert_int_equal(tnt_reader_finish(r), TNT_OK);
    tnt_event *ev;
    tnt_status st;
    while ((st = tnt_reader_next(&ev, r)) == TNT_OK) {
        char *j;
        assert_int_equal(tnt_event_to_json(&j, NULL, ev, 0), TNT_OK);
        out.json = realloc(out.json, (out.n + 1) * sizeof *out.json);
        out.hash = realloc(out.hash, (out.n + 1) * sizeof *out.hash);
        out.json[out.n] = strdup(j);
        const char *h = tnt_event_get_string(ev, TNT_FIELD_HASH_ID);
        out.hash[out.n] = h ? strdup(h) : NULL;
        tnt_free(j);
        if (fn)
            fn(ev, out.n, ud);
        out.n++;
    }
    out.end = st;
    tnt_reader_free(r);
    return out;
}

/* ---- round trip of GS1's examples ---- */

typedef struct rt {
    const char *file;
    const tnt__node *inputs; /* the document's eventList */
    tnt__arena *a;
} rt;

static void round_trip_one(tnt_event *ev, size_t i, void *ud)
{
    rt *t = ud;
    char where[600];
    snprintf(where, sizeof where, "%s event %zu", t->file, i);
    if (!tnt_event_is_valid(ev)) {
        const char *code, *path, *msg;
        tnt_event_error_at(&code, &path, &msg, ev, 0);
        fail_msg("%s: invalid: %s %s %s", where, code, path, msg);
    }
    char *j1, *j2, *j3;
    assert_int_equal(tnt_event_to_json(&j1, NULL, ev, 0), TNT_OK);

    /* JSON -> model -> protobuf -> model -> JSON */
    void *pb, *pb2;
    size_t len, len2;
    tnt_event *back;
    assert_int_equal(tnt_event_to_proto(&pb, &len, ev), TNT_OK);
    assert_int_equal(tnt_event_from_proto(&back, pb, len), TNT_OK);
    assert_int_equal(tnt_event_to_json(&j2, NULL, back, 0), TNT_OK);
    if (strcmp(j1, j2) != 0)
        fail_msg("%s: the protobuf round trip changed the event:\n%s\n%s", where, j1, j2);
    assert_int_equal(tnt_event_to_proto(&pb2, &len2, back), TNT_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(pb, pb2, len);
    assert_string_equal(tnt_event_get_string(back, TNT_FIELD_HASH_ID), tnt_event_get_string(ev, TNT_FIELD_HASH_ID));

    /* a clone is the same event */
    tnt_event *c;
    assert_int_equal(tnt_event_clone(&c, ev), TNT_OK);
    assert_int_equal(tnt_event_to_json(&j3, NULL, c, 0), TNT_OK);
    assert_string_equal(j1, j3);
    assert_int_equal(tnt_event_index(c), tnt_event_index(ev));
    assert_int_equal(tnt_event_prefix_count(c), tnt_event_prefix_count(ev));

    /* the flat record (what the store keeps, and what its digest is of) is
     * the same whether the event came from the JSON or back from the log's
     * protobuf: a replay rebuilds the same history chain */
    tnt__buf f1, f2, f3;
    tnt__buf_init(&f1);
    tnt__buf_init(&f2);
    tnt__buf_init(&f3);
    tnt__flat_encode_event(&f1, ev);
    tnt__flat_encode_event(&f2, back);
    tnt__flat_encode_event(&f3, c);
    assert_false(f1.oom || f2.oom || f3.oom);
    if (f1.len != f2.len || memcmp(f1.data, f2.data, f1.len) != 0)
        fail_msg("%s: the flat record of the event differs after the protobuf round trip", where);
    assert_int_equal(f1.len, f3.len);
    assert_memory_equal(f1.data, f3.data, f1.len);
    tnt__buf_free(&f1);
    tnt__buf_free(&f2);
    tnt__buf_free(&f3);

    /* every member of the input, with its value, and nothing else */
    const tnt__node *in = t->inputs->child;
    for (size_t k = 0; k < i; k++)
        in = in->next;
    assert_non_null(in);
    char path[640];
    snprintf(path, sizeof path, "%s $[%zu]", t->file, i);
    same(in, tree(t->a, j1), path, false);

    tnt_free(j1);
    tnt_free(j2);
    tnt_free(j3);
    tnt_free(pb);
    tnt_free(pb2);
    tnt_event_free(back);
    tnt_event_free(c);
}

static void test_round_trip_gs1(void **state)
{
    (void)state;
    files f = gs1_examples();
    size_t events = 0;
    for (size_t i = 0; i < f.n; i++) {
        size_t len;
        char *doc = slurp(f.v[i], &len);
        assert_non_null(doc);
        tnt__arena a;
        tnt__arena_init(&a, 0);
        rt t = {f.v[i] + strlen(TNT_CONFORMANCE) + 1, event_list(tree(&a, doc)), &a};
        assert_non_null(t.inputs);
        evs e = read_all(doc, len, TNT_READ_VALIDATE | TNT_READ_HASH, round_trip_one, &t);
        assert_int_equal(e.end, TNT_DONE);
        assert_int_equal(e.n, t.inputs->count);
        events += e.n;
        evs_free(&e);
        tnt__arena_destroy(&a);
        free(doc);
    }
    assert_int_equal(events, 56); /* every event of the 47 examples */
    free_files(&f);
}

/* An event written with its @context is a document of its own: reading it
 * back gives the same event. */
static void context_one(tnt_event *ev, size_t i, void *ud)
{
    (void)i;
    (void)ud;
    char *jc, *again;
    assert_int_equal(tnt_event_to_json(&jc, NULL, ev, TNT_JSON_CONTEXT), TNT_OK);
    evs e = read_all(jc, strlen(jc), TNT_READ_VALIDATE, NULL, NULL);
    assert_int_equal(e.end, TNT_DONE);
    assert_int_equal(e.n, 1);
    /* read through a reader again, written with the context again */
    tnt_reader *r;
    assert_int_equal(tnt_reader_new(&r, NULL), TNT_OK);
    tnt_reader_feed(r, jc, strlen(jc));
    tnt_reader_finish(r);
    tnt_event *ev2;
    assert_int_equal(tnt_reader_next(&ev2, r), TNT_OK);
    assert_int_equal(tnt_event_prefix_count(ev2), tnt_event_prefix_count(ev));
    for (size_t k = 0; k < tnt_event_prefix_count(ev); k++) {
        const char *p1, *i1, *p2, *i2;
        tnt_event_prefix_at(&p1, &i1, ev, k);
        tnt_event_prefix_at(&p2, &i2, ev2, k);
        assert_string_equal(p1, p2);
        assert_string_equal(i1, i2);
    }
    tnt_reader_free(r);
    /* the model read back writes the same text */
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    o.flags = 0;
    assert_int_equal(tnt_reader_new(&r, &o), TNT_OK);
    tnt_reader_feed(r, jc, strlen(jc));
    tnt_reader_finish(r);
    assert_int_equal(tnt_reader_next(&ev2, r), TNT_OK);
    assert_int_equal(tnt_event_to_json(&again, NULL, ev2, TNT_JSON_CONTEXT), TNT_OK);
    assert_string_equal(jc, again);
    tnt_free(again);
    tnt_reader_free(r);
    evs_free(&e);
    tnt_free(jc);
}

static void test_context_round_trip(void **state)
{
    (void)state;
    files f = gs1_examples();
    for (size_t i = 0; i < f.n; i++) {
        size_t len;
        char *doc = slurp(f.v[i], &len);
        evs e = read_all(doc, len, 0, context_one, NULL);
        assert_int_equal(e.end, TNT_DONE);
        evs_free(&e);
        free(doc);
    }
    free_files(&f);
}

/* ---- json_stream ---- */

typedef struct cut {
    char *items[64]; /* each item written back, or "SKIP:<why>" */
    char *paths[64];
    size_t n;
    tnt_status st;
    char header[4096];
    bool context;
} cut;

static void cut_free(cut *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i]);
        free(c->paths[i]);
    }
    c->n = 0;
}

static void drain(tnt__jstream *js, cut *c)
{
    tnt__jitem *it;
    while ((it = tnt__jstream_pop(js)) != NULL) {
        assert_true(c->n < 64);
        assert_int_equal(it->index, c->n);
        tnt__buf b;
        tnt__buf_init(&b);
        if (it->skip) {
            tnt__buf_printf(&b, "SKIP:%d", it->skip);
        } else {
            tnt__json_write_node(&b, it->root, false);
            if (it->has_nul)
                tnt__buf_puts(&b, " NUL");
        }
        c->items[c->n] = strdup(b.data);
        c->paths[c->n++] = strdup(it->path);
        tnt__buf_free(&b);
        tnt__jstream_release(js, it);
    }
}

static const tnt__jlimits k_limits = {1 << 20, 32, 65536, 100000, false};

/* Cut text with the given limits, chunk bytes at a time (0: all at once). */
static cut cut_text(const char *text, size_t len, const tnt__jlimits *lim, size_t chunk)
{
    cut c;
    memset(&c, 0, sizeof c);
    tnt__jstream *js = tnt__jstream_new(lim ? lim : &k_limits);
    assert_non_null(js);
    c.st = TNT_OK;
    for (size_t at = 0; at < len && c.st == TNT_OK;) {
        size_t n = chunk && len - at > chunk ? chunk : len - at;
        c.st = tnt__jstream_feed(js, text + at, n);
        at += n;
        drain(js, &c);
    }
    if (c.st == TNT_OK)
        c.st = tnt__jstream_finish(js);
    drain(js, &c);
    c.context = tnt__jstream_context_seen(js);
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__node *h = tnt__jstream_header(js);
    if (h)
        tnt__json_write_node(&b, h, false);
    snprintf(c.header, sizeof c.header, "%s", b.data ? b.data : "");
    if (c.st != TNT_OK)
        snprintf(c.header, sizeof c.header, "%s", tnt__jstream_errmsg(js));
    tnt__buf_free(&b);
    tnt__jstream_free(js);
    return c;
}

static cut cut_str(const char *text) { return cut_text(text, strlen(text), NULL, 0); }

static void test_stream_shapes(void **state)
{
    (void)state;
    cut c = cut_str("{\"@context\":\"x\",\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[{\"a\":1},{\"b\":[2]}]},"
                    "\"z\":true}");
    assert_int_equal(c.st, TNT_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0], "{\"a\":1}");
    assert_string_equal(c.items[1], "{\"b\":[2]}");
    assert_string_equal(c.paths[0], "$.epcisBody.eventList[0]");
    assert_string_equal(c.paths[1], "$.epcisBody.eventList[1]");
    assert_string_equal(c.header, "{\"@context\":\"x\",\"type\":\"EPCISDocument\",\"epcisBody\":{},\"z\":true}");
    assert_true(c.context);
    cut_free(&c);

    /* a query document */
    c = cut_str("{\"epcisBody\":{\"queryResults\":{\"queryName\":\"q\",\"resultsBody\":{\"eventList\":[{},{}]}}}}");
    assert_int_equal(c.n, 2);
    assert_string_equal(c.paths[1], "$.epcisBody.queryResults.resultsBody.eventList[1]");
    assert_string_equal(c.header, "{\"epcisBody\":{\"queryResults\":{\"queryName\":\"q\",\"resultsBody\":{}}}}");
    assert_false(c.context);
    cut_free(&c);

    /* a root array; a bare event; an empty event list */
    c = cut_str("[{\"x\":1}, 2, \"s\", null]");
    assert_int_equal(c.n, 4);
    assert_string_equal(c.paths[3], "$[3]");
    assert_string_equal(c.items[1], "2");
    assert_string_equal(c.items[3], "null");
    assert_true(c.context); /* a root array has no @context to wait for */
    cut_free(&c);
    c = cut_str("{\"type\":\"ObjectEvent\",\"x\":{\"y\":[1,2]}}");
    assert_int_equal(c.n, 1);
    assert_string_equal(c.paths[0], "$");
    assert_string_equal(c.items[0], "{\"type\":\"ObjectEvent\",\"x\":{\"y\":[1,2]}}");
    assert_string_equal(c.header, "{}");
    cut_free(&c);
    c = cut_str("{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[]}}");
    assert_int_equal(c.st, TNT_OK);
    assert_int_equal(c.n, 0);
    cut_free(&c);
    /* eventList elsewhere is not an event list */
    c = cut_str("{\"epcisHeader\":{\"eventList\":[{\"a\":1}]},\"epcisBody\":{\"eventList\":[{\"b\":1}]}}");
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0], "{\"b\":1}");
    assert_string_equal(c.header, "{\"epcisHeader\":{\"eventList\":[{\"a\":1}]},\"epcisBody\":{}}");
    cut_free(&c);
}

/* Every GS1 example cuts into the same items whatever the chunking. */
static void test_stream_chunking(void **state)
{
    (void)state;
    files f = gs1_examples();
    for (size_t i = 0; i < f.n; i++) {
        size_t len;
        char *doc = slurp(f.v[i], &len);
        cut whole = cut_text(doc, len, NULL, 0);
        assert_int_equal(whole.st, TNT_OK);
        assert_true(whole.n > 0);
        static const size_t chunks[] = {1, 2, 3, 5, 7, 16, 64, 511};
        for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
            cut c = cut_text(doc, len, NULL, chunks[k]);
            assert_int_equal(c.st, TNT_OK);
            assert_int_equal(c.n, whole.n);
            for (size_t j = 0; j < c.n; j++) {
                assert_string_equal(c.items[j], whole.items[j]);
                assert_string_equal(c.paths[j], whole.paths[j]);
            }
            assert_string_equal(c.header, whole.header);
            cut_free(&c);
        }
        cut_free(&whole);
        free(doc);
    }
    free_files(&f);
}

static void test_stream_limits(void **state)
{
    (void)state;
    char skip[16];
    /* an event over max_event_bytes: skipped, the next one read */
    tnt__jlimits lim = {64, 4, 16, 3, false};
    cut c;
    const char *doc = "[{\"a\":\"0123456789\",\"b\":[\"0123456789\",\"0123456789\",\"0123456789\"]}, {\"e\":1}]";
    c = cut_text(doc, strlen(doc), &lim, 0); /* 64 bytes: the limit */
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[1], "{\"e\":1}");
    assert_non_null(strstr(c.items[0], "0123456789"));
    cut_free(&c);
    doc = "[{\"a\":\"0123456789\",\"b\":[\"0123456789\",\"0123456789\",\"0123456789\"]   }, {\"e\":1}]"; /* 66 bytes: over, by its whitespace */
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.st, TNT_OK);
    assert_int_equal(c.n, 2);
    snprintf(skip, sizeof skip, "SKIP:%d", TNT__SKIP_TOO_BIG);
    assert_string_equal(c.items[0], skip);
    assert_string_equal(c.items[1], "{\"e\":1}");
    cut_free(&c);
    /* too deep (the event object is level 1) */
    doc = "[{\"a\":[[[1]]]},{\"a\":[[[[1]]]]},{\"e\":2}]";
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0], "{\"a\":[[[1]]]}");
    snprintf(skip, sizeof skip, "SKIP:%d", TNT__SKIP_TOO_DEEP);
    assert_string_equal(c.items[1], skip);
    assert_string_equal(c.items[2], "{\"e\":2}");
    cut_free(&c);
    /* a list over max_list_items, an object with too many members */
    doc = "[{\"l\":[1,2,3]},{\"l\":[1,2,3,4]},{\"a\":1,\"b\":2,\"c\":3,\"d\":4},{\"e\":3}]";
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.items[0], "{\"l\":[1,2,3]}");
    snprintf(skip, sizeof skip, "SKIP:%d", TNT__SKIP_LIST);
    assert_string_equal(c.items[1], skip);
    assert_string_equal(c.items[2], skip);
    assert_string_equal(c.items[3], "{\"e\":3}");
    cut_free(&c);
    /* a string or a key over max_string_bytes */
    doc = "[{\"s\":\"0123456789abcdef\"},{\"s\":\"0123456789abcdefg\"},{\"0123456789abcdefg\":1},{\"e\":4}]";
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.items[0], "{\"s\":\"0123456789abcdef\"}");
    snprintf(skip, sizeof skip, "SKIP:%d", TNT__SKIP_STRING);
    assert_string_equal(c.items[1], skip);
    assert_string_equal(c.items[2], skip);
    assert_string_equal(c.items[3], "{\"e\":4}");
    cut_free(&c);
    /* a scalar event over the string limit */
    doc = "[\"0123456789abcdefg\", 1]";
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0], skip);
    assert_string_equal(c.items[1], "1");
    cut_free(&c);

    /* the header breaks a limit: the document stops */
    lim.max_event_bytes = 4096;
    doc = "{\"h\":[[[[[[[[[[1]]]]]]]]]],\"epcisBody\":{\"eventList\":[]}}";
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.st, TNT_E_TOOBIG);
    if (!strstr(c.header, "nested deeper"))
        fail_msg("%s", c.header);
    cut_free(&c);
    doc = "{\"h\":\"0123456789abcdefg\"}";
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.st, TNT_E_TOOBIG);
    cut_free(&c);
    doc = "{\"0123456789abcdefg\":1}";
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.st, TNT_E_TOOBIG);
    cut_free(&c);
    doc = "{\"h\":[1,2,3,4]}";
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.st, TNT_E_TOOBIG);
    cut_free(&c);

    lim.max_event_bytes = 1024; /* the header holds 4 times that */
    char big[2048] = "{\"epcisHeader\":[";
    for (int i = 0; i < 80; i++) /* 80 nodes of 10 bytes */
        strcat(big, i ? ",\"0123456789\"" : "\"0123456789\"");
    strcat(big, "]}");
    lim.max_list_items = 100;
    c = cut_text(big, strlen(big), &lim, 0);
    assert_int_equal(c.st, TNT_E_TOOBIG);
    assert_non_null(strstr(c.header, "header larger than 4096 bytes"));
    cut_free(&c);
    lim = (tnt__jlimits){64, 4, 16, 3, false};

    /* a bare event held to the event limits (its tree is the header's, 4 times as big) */
    lim = (tnt__jlimits){1024, 4, 600, 100, false};
    doc = "{\"a\":[[[[1]]]]}";
    c = cut_text(doc, strlen(doc), &lim, 0);
    assert_int_equal(c.st, TNT_OK);
    assert_int_equal(c.n, 1);
    snprintf(skip, sizeof skip, "SKIP:%d", TNT__SKIP_TOO_DEEP);
    assert_string_equal(c.items[0], skip);
    cut_free(&c);
    char bare[2048];
    snprintf(bare, sizeof bare, "{\"a\":\"%0500d\",\"b\":\"%0500d\",\"c\":\"%0500d\"}", 1, 2, 3);
    c = cut_text(bare, strlen(bare), &lim, 0);
    assert_int_equal(c.st, TNT_OK);
    assert_int_equal(c.n, 1);
    snprintf(skip, sizeof skip, "SKIP:%d", TNT__SKIP_TOO_BIG);
    assert_string_equal(c.items[0], skip);
    cut_free(&c);
    snprintf(bare, sizeof bare, "{\"a\":\"%0500d\",\"b\":\"%0500d\"}", 1, 2); /* within the limit */
    c = cut_text(bare, strlen(bare), &lim, 0);
    assert_int_equal(c.n, 1);
    assert_non_null(strstr(c.items[0], "\"b\":\"000"));
    cut_free(&c);
    lim = (tnt__jlimits){64, 4, 16, 3, false};

    /* a token longer than the limits, fed in pieces: yajl would buffer it all */
    tnt__jstream *js = tnt__jstream_new(&lim);
    tnt_status st = tnt__jstream_feed(js, "[\"", 2);
    char chunk[1024];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 200 && st == TNT_OK; i++)
        st = tnt__jstream_feed(js, chunk, sizeof chunk);
    assert_int_equal(st, TNT_E_TOOBIG);
    assert_non_null(strstr(tnt__jstream_errmsg(js), "token longer"));
    tnt__jstream_free(js);
}

static void test_stream_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        tnt_status st;
        const char *msg;
    } cases[] = {
        {"", TNT_E_SYNTAX, NULL},
        {"   ", TNT_E_SYNTAX, NULL},
        {"{", TNT_E_SYNTAX, "premature EOF"},
        {"{\"a\":", TNT_E_SYNTAX, NULL},
        {"[{\"a\":1},", TNT_E_SYNTAX, NULL},
        {"{\"a\":1}}", TNT_E_SYNTAX, "trailing garbage"},
        {"{\"a\":1} {}", TNT_E_SYNTAX, "trailing garbage"},
        {"{\"a\":\"\xff\"}", TNT_E_SYNTAX, "UTF8"},
        {"{\"a\":\"\xc0\xaf\"}", TNT_E_SYNTAX, NULL},
        {"{\"a\":\"\xed\xa0\x80\"}", TNT_E_SYNTAX, NULL},
        {"{\"a\":01}", TNT_E_SYNTAX, NULL},
        {"{\"a\":1.}", TNT_E_SYNTAX, NULL},
        {"{\"a\":NaN}", TNT_E_SYNTAX, NULL},
        {"{\"a\":'x'}", TNT_E_SYNTAX, NULL},
        {"{\"a\":1,}", TNT_E_SYNTAX, NULL},
        {"{a:1}", TNT_E_SYNTAX, NULL},
        {"{\"a\":\"\\x\"}", TNT_E_SYNTAX, NULL},
        {"{\"a\":\"\\ud800\"}", TNT_OK, NULL}, /* yajl lets a lone surrogate escape through as U+FFFD */
        {"{\"a\":\"tab\tin string\"}", TNT_E_SYNTAX, NULL},
        {"{\"a\":1}/*c*/", TNT_E_SYNTAX, NULL},
        {"42", TNT_E_INVALID, "JSON number"},
        {"\"s\"", TNT_E_INVALID, "JSON string"},
        {"true", TNT_E_INVALID, "literal"},
        {"null", TNT_E_INVALID, "literal"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cut c = cut_str(cases[i].text);
        if (c.st != cases[i].st)
            fail_msg("'%s': %s, expected %s (%s)", cases[i].text, tnt_status_name(c.st),
                     tnt_status_name(cases[i].st), c.header);
        if (cases[i].msg && !strstr(c.header, cases[i].msg))
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].text, c.header, cases[i].msg);
        if (c.st == TNT_E_SYNTAX && i > 1)
            assert_non_null(strstr(c.header, "at byte"));
        cut_free(&c);
    }
}

static void test_stream_nul_and_reset(void **state)
{
    (void)state;
    cut c = cut_str("[{\"a\":\"x\\u0000y\"},{\"k\\u0000\":1},{\"b\":\"ok\"}]");
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0], "{\"a\":\"x\"} NUL");
    assert_string_equal(c.items[1], "{\"k\":1} NUL");
    assert_string_equal(c.items[2], "{\"b\":\"ok\"}");
    cut_free(&c);
    c = cut_str("{\"type\":\"ObjectEvent\",\"a\":\"x\\u0000\"}");
    assert_int_equal(c.n, 1);
    assert_non_null(strstr(c.items[0], " NUL"));
    cut_free(&c);

    /* reset starts a new document with the same limits */
    tnt__jstream *js = tnt__jstream_new(&k_limits);
    assert_int_equal(tnt__jstream_feed(js, "[{\"a\":1},{\"b\":", 14), TNT_OK);
    assert_int_equal(tnt__jstream_queued(js), 1);
    tnt__jstream_reset(js);
    assert_int_equal(tnt__jstream_queued(js), 0);
    assert_int_equal(tnt__jstream_feed(js, "{\"epcisBody\":{\"eventList\":[{\"c\":3}]}}", 37), TNT_OK);
    assert_int_equal(tnt__jstream_finish(js), TNT_OK);
    tnt__jitem *it = tnt__jstream_pop(js);
    assert_non_null(it);
    assert_int_equal(it->index, 0);
    assert_string_equal(it->path, "$.epcisBody.eventList[0]");
    tnt__jstream_release(js, it);
    assert_null(tnt__jstream_pop(js));
    /* an error is sticky */
    tnt__jstream_reset(js);
    assert_int_equal(tnt__jstream_feed(js, "[}", 2), TNT_E_SYNTAX);
    assert_int_equal(tnt__jstream_feed(js, "[]", 2), TNT_E_SYNTAX);
    assert_int_equal(tnt__jstream_finish(js), TNT_E_SYNTAX);
    tnt__jstream_free(js);
    tnt__jstream_free(NULL);
}

static void test_parse_tree(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    char err[128];
    tnt__node *n = tnt__json_parse_tree(&a, "[1,{\"a\":null,\"b\":[true,false]},\"s\"]", 35, err, sizeof err);
    assert_non_null(n);
    assert_int_equal(n->kind, TNT__N_ARRAY);
    assert_int_equal(n->count, 3);
    assert_int_equal(n->child->next->kind, TNT__N_OBJECT);
    assert_int_equal(get(n->child->next, "a")->kind, TNT__N_NULL);
    assert_int_equal(get(n->child->next, "b")->child->kind, TNT__N_TRUE);
    assert_string_equal(n->last->str, "s");
    assert_null(tnt__json_parse_tree(&a, "[1,", 3, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(tnt__json_parse_tree(&a, "7", 1, err, sizeof err));
    /* deep but within its limit, and past it */
    char deep[4200];
    memset(deep, '[', 2100);
    memset(deep + 2100, ']', 2100);
    assert_null(tnt__json_parse_tree(&a, deep, 4200, err, sizeof err));
    assert_non_null(strstr(err, "nested deeper"));
    assert_non_null(tnt__json_parse_tree(&a, deep + 1200, 1800, err, sizeof err));
    tnt__arena_destroy(&a);
}

/* ---- decoding ---- */

typedef struct decoded {
    tnt__arena a;
    tnt_event *ev;
    bool unresolved;
} decoded;

static void decode(decoded *d, const char *json)
{
    tnt__arena_init(&d->a, 0);
    d->ev = tnt__event_new(&d->a);
    assert_non_null(d->ev);
    d->unresolved = false;
    assert_true(tnt__epcis_decode(d->ev, tree(&d->a, json), "$", NULL, &d->unresolved));
}

static bool has_diag(const tnt_event *ev, const char *code, const char *path)
{
    for (uint32_t i = 0; i < ev->n_diags; i++)
        if (strcmp(ev->diags[i].code, code) == 0 && strcmp(ev->diags[i].path, path) == 0)
            return true;
    return false;
}

static void print_diags(const tnt_event *ev)
{
    for (uint32_t i = 0; i < ev->n_diags; i++)
        print_message("  %s %s %s\n", ev->diags[i].code, ev->diags[i].path, ev->diags[i].message);
}

static char *write_ev(const tnt_event *ev, unsigned flags)
{
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__epcis_write(&b, ev, flags);
    assert_false(b.oom);
    return tnt__buf_detach(&b, NULL);
}

/* Every member of the standard, given a value of the wrong JSON type. */
static void test_decode_wrong_types(void **state)
{
    (void)state;
    static const struct {
        const char *member; /* JSON text of one member */
        const char *path;   /* where the TYPE error is */
    } cases[] = {
        {"\"eventTime\":1", "$.eventTime"},
        {"\"recordTime\":{}", "$.recordTime"},
        {"\"eventTimeZoneOffset\":1", "$.eventTimeZoneOffset"},
        {"\"eventID\":[]", "$.eventID"},
        {"\"parentID\":true", "$.parentID"},
        {"\"transformationID\":null", "$.transformationID"},
        {"\"bizStep\":2", "$.bizStep"},
        {"\"disposition\":{}", "$.disposition"},
        {"\"action\":1", "$.action"},
        {"\"certificationInfo\":1", "$.certificationInfo"},
        {"\"certificationInfo\":[1]", "$.certificationInfo[0]"},
        {"\"epcList\":\"urn:x\"", "$.epcList"},
        {"\"epcList\":[\"a\",2]", "$.epcList[1]"},
        {"\"childEPCs\":{}", "$.childEPCs"},
        {"\"inputEPCList\":[null]", "$.inputEPCList[0]"},
        {"\"outputEPCList\":1", "$.outputEPCList"},
        {"\"quantityList\":{}", "$.quantityList"},
        {"\"quantityList\":[1]", "$.quantityList[0]"},
        {"\"quantityList\":[{\"epcClass\":1}]", "$.quantityList[0].epcClass"},
        {"\"childQuantityList\":[{\"quantity\":\"5\"}]", "$.childQuantityList[0].quantity"},
        {"\"inputQuantityList\":[{\"uom\":5}]", "$.inputQuantityList[0].uom"},
        {"\"outputQuantityList\":\"x\"", "$.outputQuantityList"},
        {"\"readPoint\":\"urn:x\"", "$.readPoint"},
        {"\"readPoint\":{\"id\":1}", "$.readPoint.id"},
        {"\"bizLocation\":[]", "$.bizLocation"},
        {"\"bizTransactionList\":{}", "$.bizTransactionList"},
        {"\"bizTransactionList\":[\"x\"]", "$.bizTransactionList[0]"},
        {"\"bizTransactionList\":[{\"type\":1,\"bizTransaction\":\"x\"}]", "$.bizTransactionList[0].type"},
        {"\"sourceList\":[{\"source\":[]}]", "$.sourceList[0].source"},
        {"\"destinationList\":[{\"destination\":{}}]", "$.destinationList[0].destination"},
        {"\"persistentDisposition\":[]", "$.persistentDisposition"},
        {"\"persistentDisposition\":{\"set\":\"x\"}", "$.persistentDisposition.set"},
        {"\"persistentDisposition\":{\"unset\":[1]}", "$.persistentDisposition.unset[0]"},
        {"\"errorDeclaration\":\"x\"", "$.errorDeclaration"},
        {"\"errorDeclaration\":{\"declarationTime\":1}", "$.errorDeclaration.declarationTime"},
        {"\"errorDeclaration\":{\"reason\":[]}", "$.errorDeclaration.reason"},
        {"\"errorDeclaration\":{\"correctiveEventIDs\":\"x\"}", "$.errorDeclaration.correctiveEventIDs"},
        {"\"ilmd\":[]", "$.ilmd"},
        {"\"sensorElementList\":{}", "$.sensorElementList"},
        {"\"sensorElementList\":[1]", "$.sensorElementList[0]"},
        {"\"sensorElementList\":[{\"sensorMetadata\":1}]", "$.sensorElementList[0].sensorMetadata"},
        {"\"sensorElementList\":[{\"sensorReport\":{}}]", "$.sensorElementList[0].sensorReport"},
        {"\"sensorElementList\":[{\"sensorReport\":[1]}]", "$.sensorElementList[0].sensorReport[0]"},
        {"\"sensorElementList\":[{\"sensorMetadata\":{\"time\":5}}]", "$.sensorElementList[0].sensorMetadata.time"},
        {"\"sensorElementList\":[{\"sensorMetadata\":{\"deviceID\":5}}]",
         "$.sensorElementList[0].sensorMetadata.deviceID"},
        {"\"sensorElementList\":[{\"sensorMetadata\":{\"startTime\":[]}}]",
         "$.sensorElementList[0].sensorMetadata.startTime"},
        {"\"sensorElementList\":[{\"sensorReport\":[{\"type\":1}]}]", "$.sensorElementList[0].sensorReport[0].type"},
        {"\"sensorElementList\":[{\"sensorReport\":[{\"value\":\"26\"}]}]",
         "$.sensorElementList[0].sensorReport[0].value"},
        {"\"sensorElementList\":[{\"sensorReport\":[{\"sDev\":true}]}]",
         "$.sensorElementList[0].sensorReport[0].sDev"},
        {"\"sensorElementList\":[{\"sensorReport\":[{\"booleanValue\":\"true\"}]}]",
         "$.sensorElementList[0].sensorReport[0].booleanValue"},
        {"\"sensorElementList\":[{\"sensorReport\":[{\"time\":0}]}]", "$.sensorElementList[0].sensorReport[0].time"},
        {"\"sensorElementList\":[{\"sensorReport\":[{\"uom\":0}]}]", "$.sensorElementList[0].sensorReport[0].uom"},
        {"\"sensorElementList\":[{\"sensorReport\":[{\"stringValue\":0}]}]",
         "$.sensorElementList[0].sensorReport[0].stringValue"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[512];
        snprintf(json, sizeof json, "{\"type\":\"ObjectEvent\",%s}", cases[i].member);
        decoded d;
        decode(&d, json);
        if (!has_diag(d.ev, "TYPE", cases[i].path)) {
            print_diags(d.ev);
            fail_msg("%s: no TYPE error at %s", json, cases[i].path);
        }
        /* and the writer still writes JSON */
        char *out = write_ev(d.ev, 0);
        tnt__arena a;
        tnt__arena_init(&a, 0);
        tree(&a, out);
        tnt__arena_destroy(&a);
        tnt_free(out);
        tnt__arena_destroy(&d.a);
    }
}

static void test_decode_values(void **state)
{
    (void)state;
    static const struct {
        const char *member;
        const char *code;
        const char *path;
    } cases[] = {
        {"\"eventTime\":\"2020-13-01T00:00:00Z\"", "FORMAT", "$.eventTime"},
        {"\"eventTime\":\"2020-02-30T00:00:00Z\"", "FORMAT", "$.eventTime"},
        {"\"eventTime\":\"2020-01-01T00:00:00\"", "FORMAT", "$.eventTime"},
        {"\"eventTime\":\"2020-01-01T24:00:00Z\"", "FORMAT", "$.eventTime"},
        {"\"eventTime\":\"2020-01-01T00:00:00+15:00\"", "FORMAT", "$.eventTime"},
        {"\"eventTime\":\"0001-01-01T00:30:00+01:00\"", "FORMAT", "$.eventTime"},
        {"\"recordTime\":\"\"", "FORMAT", "$.recordTime"},
        {"\"action\":\"add\"", "VOCABULARY", "$.action"},
        {"\"quantityList\":[{\"epcClass\":\"x\",\"quantity\":1e400}]", "RANGE", "$.quantityList[0].quantity"},
        {"\"persistentDisposition\":{\"sets\":[]}", "NOT_ALLOWED", "$.persistentDisposition.sets"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[512];
        snprintf(json, sizeof json, "{\"type\":\"ObjectEvent\",%s}", cases[i].member);
        decoded d;
        decode(&d, json);
        if (!has_diag(d.ev, cases[i].code, cases[i].path)) {
            print_diags(d.ev);
            fail_msg("%s: no %s error at %s", json, cases[i].code, cases[i].path);
        }
        tnt__arena_destroy(&d.a);
    }
}

static void test_decode_event_types(void **state)
{
    (void)state;
    static const char *const names[] = {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
                                        "AssociationEvent"};
    for (int i = 0; i < 5; i++) {
        char json[128];
        snprintf(json, sizeof json, "{\"type\":\"%s\"}", names[i]);
        decoded d;
        decode(&d, json);
        assert_int_equal(d.ev->type, i + 1);
        assert_int_equal(d.ev->n_diags, 0);
        assert_string_equal(tnt_event_type_name((tnt_event_type)(i + 1)), names[i]);
        tnt__arena_destroy(&d.a);
    }
    decoded d;
    decode(&d, "{\"type\":\"objectEvent\"}");
    assert_true(has_diag(d.ev, "EVENT_TYPE", "$.type"));
    assert_int_equal(d.ev->type, TNT_EVENT_UNKNOWN);
    tnt__arena_destroy(&d.a);
    decode(&d, "{\"type\":\"EPCISDocument\",\"epcisBody\":{}}");
    assert_true(has_diag(d.ev, "EVENT_TYPE", "$.type"));
    tnt__arena_destroy(&d.a);
    decode(&d, "{\"eventTime\":\"2020-01-01T00:00:00Z\"}");
    assert_true(has_diag(d.ev, "REQUIRED", "$.type"));
    tnt__arena_destroy(&d.a);
    decode(&d, "{\"type\":[\"ObjectEvent\"]}");
    assert_true(has_diag(d.ev, "TYPE", "$.type"));
    tnt__arena_destroy(&d.a);
    decode(&d, "[\"ObjectEvent\"]");
    assert_true(has_diag(d.ev, "TYPE", "$"));
    tnt__arena_destroy(&d.a);
    tnt__arena_init(&d.a, 0);
    d.ev = tnt__event_new(&d.a);
    assert_true(tnt__epcis_decode(d.ev, tree(&d.a, "[\"ObjectEvent\"]")->child, "$[0]", NULL, &d.unresolved));
    assert_true(has_diag(d.ev, "TYPE", "$[0]"));
    tnt__arena_destroy(&d.a);
}

/* Members named twice: the last stands, once, in the model and the output. */
static void test_decode_duplicates(void **state)
{
    (void)state;
    decoded d;
    decode(&d, "{\"type\":\"ObjectEvent\",\"epcList\":[\"a\",\"b\",\"c\",\"d\",\"e\"],\"epcList\":[\"f\"],"
               "\"bizStep\":\"x\",\"bizStep\":\"y\",\"ex:e\":1,\"ex:e\":{\"k\":1,\"k\":2},"
               "\"quantityList\":[{\"epcClass\":\"q1\"},{\"epcClass\":\"q2\"}],\"quantityList\":[{\"epcClass\":\"q3\"}],"
               "\"sensorElementList\":[{\"sensorReport\":[{},{}],\"sensorReport\":[{\"type\":\"T\"}]},{}],"
               "\"sensorElementList\":[{\"sensorReport\":[{\"type\":\"U\"}]}],"
               "\"bizTransactionList\":[{\"bizTransaction\":\"1\"},{\"bizTransaction\":\"2\"}],"
               "\"bizTransactionList\":[{\"bizTransaction\":\"3\",\"bizTransaction\":\"4\"}],"
               "\"certificationInfo\":[\"c1\",\"c2\"],\"certificationInfo\":\"c3\"}");
    assert_int_equal(d.ev->n_diags, 0);
    assert_int_equal(d.ev->epc_list.n, 1);
    assert_string_equal(d.ev->epc_list.v[0], "f");
    assert_string_equal(d.ev->biz_step, "y");
    assert_int_equal(d.ev->quantity_list.n, 1);
    assert_int_equal(d.ev->n_sensors, 1);
    assert_int_equal(d.ev->sensors[0].n_reports, 1);
    assert_string_equal(d.ev->sensors[0].reports[0].type, "U");
    assert_int_equal(d.ev->biz_transactions.n, 1);
    assert_string_equal(d.ev->biz_transactions.v[0].value, "4");
    assert_int_equal(d.ev->certification_info.n, 1);
    char *out = write_ev(d.ev, 0);
    assert_string_equal(out, "{\"type\":\"ObjectEvent\",\"certificationInfo\":\"c3\",\"epcList\":[\"f\"],"
                             "\"quantityList\":[{\"epcClass\":\"q3\"}],\"bizStep\":\"y\","
                             "\"bizTransactionList\":[{\"bizTransaction\":\"4\"}],"
                             "\"sensorElementList\":[{\"sensorReport\":[{\"type\":\"U\"}]}],\"ex:e\":{\"k\":2}}");
    tnt_free(out);
    tnt__arena_destroy(&d.a);
}

static void test_decode_namespaces(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt__prefix *v = NULL;
    size_t n = 0;
    assert_true(tnt__context_parse(&a, tree(&a, "[\"https://x\",{\"ex\":\"https://ex.com/\",\"@vocab\":\"v\"},"
                                                "[{\"ex2\":\"urn:ex2:\"}],{\"ex\":\"https://ex.org/\"}]"),
                                   &v, &n));
    assert_int_equal(n, 3);
    tnt__ctx ctx = {v, n};
    assert_string_equal(tnt__ctx_resolve(&ctx, NULL, 0, "ex", 2), "https://ex.org/"); /* a later one wins */
    assert_string_equal(tnt__ctx_resolve(&ctx, NULL, 0, "ex2:f", 3), "urn:ex2:");
    assert_string_equal(tnt__ctx_resolve(&ctx, NULL, 0, "cbvmda", 6), "urn:epcglobal:cbv:mda:");
    assert_string_equal(tnt__ctx_resolve(NULL, NULL, 0, "gs1", 3), "https://gs1.org/voc/");
    assert_null(tnt__ctx_resolve(&ctx, NULL, 0, "zz", 2));
    assert_null(tnt__ctx_resolve(&ctx, NULL, 0, "e", 1));
    /* term definitions are not prefixes */
    v = NULL;
    n = 0;
    assert_false(tnt__context_parse(&a, tree(&a, "{\"t\":{\"@id\":\"x\"}}"), &v, &n));
    assert_false(tnt__context_parse(&a, tree(&a, "[5]"), &v, &n));
    assert_true(tnt__context_parse(&a, NULL, &v, &n));

    /* the decoder resolves keys through the document and the event's @context */
    tnt_event *ev = tnt__event_new(&a);
    bool unresolved = false;
    v = NULL;
    n = 0;
    tnt__context_parse(&a, tree(&a, "{\"doc\":\"https://doc/\"}"), &v, &n);
    tnt__ctx doc = {v, n};
    assert_true(tnt__epcis_decode(ev,
                                  tree(&a, "{\"@context\":{\"loc\":\"https://loc/\"},\"type\":\"ObjectEvent\","
                                           "\"doc:a\":{\"loc:b\":1,\"c\":2},\"ilmd\":{\"cbvmda:lotNumber\":\"L\"},"
                                           "\"readPoint\":{\"id\":\"x\",\"doc:r\":1},\"urn:x:y\":1,"
                                           "\"https://full/iri\":2}"),
                                  "$.x", &doc, &unresolved));
    assert_false(unresolved);
    assert_int_equal(ev->n_diags, 0);
    assert_int_equal(ev->n_prefixes, 2);
    const tnt__node *m = get(ev->ext, "doc:a");
    assert_string_equal(m->ns, "https://doc/");
    assert_string_equal(tnt__node_local(m), "a");
    assert_string_equal(get(m, "loc:b")->ns, "https://loc/");
    assert_null(get(m, "c")->ns);
    assert_string_equal(tnt__node_local(get(m, "c")), "c");
    assert_null(get(ev->ext, "urn:x:y")->ns);
    assert_null(get(ev->ext, "https://full/iri")->ns);
    assert_string_equal(get(ev->ilmd, "cbvmda:lotNumber")->ns, "urn:epcglobal:cbv:mda:");
    assert_string_equal(get(ev->read_point_ext, "doc:r")->ns, "https://doc/");
    assert_non_null(get(ev->ext, "@context")); /* kept as written */
    ev = tnt__event_new(&a);
    assert_true(tnt__epcis_decode(ev, tree(&a, "{\"type\":\"ObjectEvent\",\"nope:a\":1}"), "$", NULL, &unresolved));
    assert_true(unresolved);
    ev = tnt__event_new(&a);
    assert_true(tnt__epcis_decode(ev, tree(&a, "{\"@context\":[{\"t\":{\"@id\":\"x\"}}],\"type\":\"ObjectEvent\"}"),
                                  "$", NULL, &unresolved));
    assert_true(has_diag(ev, "CONTEXT", "$.@context"));
    tnt__arena_destroy(&a);
}

/* ---- writing ---- */

static void test_write_forms(void **state)
{
    (void)state;
    decoded d;
    decode(&d, "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-03-04T10:00:30.1234-05:30\",\"eventTimeZoneOffset\":"
               "\"-05:30\",\"recordTime\":\"2020-03-04T15:30:30Z\",\"epcList\":[],\"action\":\"OBSERVE\","
               "\"quantityList\":[{\"epcClass\":\"c\",\"quantity\":26.0},{\"epcClass\":\"d\",\"quantity\":-0.0},"
               "{\"epcClass\":\"e\",\"quantity\":1e21},{\"epcClass\":\"f\",\"quantity\":0.1}],"
               "\"readPoint\":{},\"bizTransactionList\":[],\"ilmd\":{},\"sensorElementList\":[],"
               "\"certificationInfo\":[\"x\"],\"ex:n\":1.50,\"ex:s\":\"q\\\"\\\\\\n\\u0001\\u00e9\\ud83d\\ude00\"}");
    assert_int_equal(d.ev->n_diags, 0);
    char *out = write_ev(d.ev, 0);
    assert_string_equal(out, "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-03-04T10:00:30.123-05:30\","
                             "\"eventTimeZoneOffset\":\"-05:30\",\"recordTime\":\"2020-03-04T15:30:30.000Z\","
                             "\"certificationInfo\":[\"x\"],\"epcList\":[],"
                             "\"quantityList\":[{\"epcClass\":\"c\",\"quantity\":26},{\"epcClass\":\"d\",\"quantity\":0},"
                             "{\"epcClass\":\"e\",\"quantity\":1e+21},{\"epcClass\":\"f\",\"quantity\":0.1}],"
                             "\"action\":\"OBSERVE\",\"readPoint\":{},\"bizTransactionList\":[],"
                             "\"sensorElementList\":[],\"ilmd\":{},\"ex:n\":1.50,"
                             "\"ex:s\":\"q\\\"\\\\\\n\\u0001\xc3\xa9\xf0\x9f\x98\x80\"}");
    /* pretty output is the same JSON */
    char *pretty = write_ev(d.ev, TNT_JSON_PRETTY);
    assert_non_null(strstr(pretty, "\n  \"eventTime\": \""));
    tnt__arena a;
    tnt__arena_init(&a, 0);
    same(tree(&a, out), tree(&a, pretty), "$", false);
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__json_write_node(&b, tree(&a, pretty), false);
    assert_string_equal(b.data, out);
    tnt__buf_free(&b);
    tnt__arena_destroy(&a);
    tnt_free(pretty);
    tnt_free(out);

    /* the hash ID as eventID, the context */
    strcpy(d.ev->hash_id, "ni:///sha-256;00?ver=CBV2.0");
    out = write_ev(d.ev, TNT_JSON_HASH_ID | TNT_JSON_CONTEXT);
    assert_non_null(strstr(out, "\"eventID\":\"ni:///sha-256;00?ver=CBV2.0\""));
    assert_true(strncmp(out, "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],", 79) ==
                0);
    tnt_free(out);
    d.ev->event_id = "urn:uuid:1";
    out = write_ev(d.ev, TNT_JSON_HASH_ID);
    assert_non_null(strstr(out, "\"eventID\":\"urn:uuid:1\""));
    assert_null(strstr(out, "sha-256"));
    tnt_free(out);
    tnt__arena_destroy(&d.a);

    /* empty lists the input had stay */
    decode(&d, "{\"type\":\"ObjectEvent\",\"certificationInfo\":[],\"childEPCs\":[],\"sourceList\":[],"
               "\"destinationList\":[],\"childQuantityList\":[],\"inputEPCList\":[],\"outputEPCList\":[],"
               "\"inputQuantityList\":[],\"outputQuantityList\":[],\"bizLocation\":{}}");
    out = write_ev(d.ev, 0);
    assert_string_equal(out, "{\"type\":\"ObjectEvent\",\"certificationInfo\":[],\"childEPCs\":[],"
                             "\"inputEPCList\":[],\"childQuantityList\":[],\"inputQuantityList\":[],"
                             "\"outputEPCList\":[],\"outputQuantityList\":[],\"bizLocation\":{},\"sourceList\":[],"
                             "\"destinationList\":[]}");
    tnt_free(out);
    tnt__arena_destroy(&d.a);

    /* an event's own @context gives way to the generated one */
    decode(&d, "{\"@context\":[{\"ex\":\"https://ex/\"}],\"type\":\"ObjectEvent\",\"ex:a\":1}");
    tnt__event_add_prefix(d.ev, "ex", "https://ex/");
    out = write_ev(d.ev, TNT_JSON_CONTEXT);
    assert_string_equal(out, "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\","
                             "{\"ex\":\"https://ex/\"}],\"type\":\"ObjectEvent\",\"ex:a\":1}");
    tnt_free(out);
    out = write_ev(d.ev, 0);
    assert_string_equal(out, "{\"type\":\"ObjectEvent\",\"@context\":[{\"ex\":\"https://ex/\"}],\"ex:a\":1}");
    tnt_free(out);
    tnt__arena_destroy(&d.a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_gs1),
        cmocka_unit_test(test_context_round_trip),
        cmocka_unit_test(test_stream_shapes),
        cmocka_unit_test(test_stream_chunking),
        cmocka_unit_test(test_stream_limits),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_stream_nul_and_reset),
        cmocka_unit_test(test_parse_tree),
        cmocka_unit_test(test_decode_wrong_types),
        cmocka_unit_test(test_decode_values),
        cmocka_unit_test(test_decode_event_types),
        cmocka_unit_test(test_decode_duplicates),
        cmocka_unit_test(test_decode_namespaces),
        cmocka_unit_test(test_write_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
