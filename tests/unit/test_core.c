/* Core services: status table, thread-local errors, arenas, buffers, the
 * allocator hooks — and every out-of-memory path of the reader, driven by
 * an allocator that fails at the N-th call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>

#include "core/core.h"
#include "tnt/tnt.h"
#include "tnt/sys/alloc.h"

/* ---- status and errors ---- */

static void test_status_strings(void **state)
{
    (void)state;
    assert_string_equal(tnt_status_str(TNT_OK), "success");
    assert_string_equal(tnt_status_name(TNT_E_NOMEM), "TNT_E_NOMEM");
    assert_string_equal(tnt_status_str(12345), "unknown status code");
    const tnt_status_desc *d;
    size_t n;
    assert_int_equal(tnt_status_descs(&d, &n), TNT_OK);
    int lowest = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i].code < lowest)
            lowest = d[i].code;
    /* The enum's marker follows the table. */
    assert_int_equal(lowest, TNT__STATUS_MIN);
}

static void *set_error_in_thread(void *arg)
{
    (void)arg;
    tnt__error(TNT_E_IO, "thread %s", "two");
    return (void *)(intptr_t)(strcmp(tnt_error_last(), "thread two") == 0 && tnt_error_last_code() == TNT_E_IO);
}

static void test_error_is_thread_local(void **state)
{
    (void)state;
    assert_int_equal(tnt__error(TNT_E_INVALID, "field %s at %d", "eventTime", 3), TNT_E_INVALID);
    assert_string_equal(tnt_error_last(), "field eventTime at 3");
    pthread_t t;
    void *ok;
    assert_int_equal(pthread_create(&t, NULL, set_error_in_thread, NULL), 0);
    pthread_join(t, &ok);
    assert_true((intptr_t)ok);
    /* The other thread's error did not touch this one. */
    assert_string_equal(tnt_error_last(), "field eventTime at 3");
    assert_int_equal(tnt_error_last_code(), TNT_E_INVALID);
    /* a message made of the last one, as callers add where it happened */
    tnt__error(TNT_E_BACKEND, "%s: %s", "recovering", tnt_error_last());
    assert_string_equal(tnt_error_last(), "recovering: field eventTime at 3");
    tnt__error(TNT_E_BACKEND, "%s (again)", tnt_error_last());
    assert_string_equal(tnt_error_last(), "recovering: field eventTime at 3 (again)");
    tnt__error_clear();
    assert_string_equal(tnt_error_last(), "");
    assert_int_equal(tnt_error_last_code(), TNT_OK);
}

/* ---- arena and buffer ---- */

static void test_arena(void **state)
{
    (void)state;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    char *s = tnt__arena_strdup(&a, "hello");
    assert_string_equal(s, "hello");
    void *p = tnt__arena_alloc(&a, 3);
    assert_int_equal((uintptr_t)p % 8, 0);
    /* Many allocations across chunks stay valid. */
    char *keep[1000];
    for (int i = 0; i < 1000; i++)
        keep[i] = tnt__arena_printf(&a, "item-%d-%0200d", i, i);
    for (int i = 0; i < 1000; i++) {
        char want[256];
        snprintf(want, sizeof want, "item-%d-%0200d", i, i);
        assert_string_equal(keep[i], want);
    }
    char *big = tnt__arena_alloc(&a, 10 << 20); /* larger than any chunk */
    assert_non_null(big);
    memset(big, 1, 10 << 20);
    tnt__arena_reset(&a);
    assert_true(a.total <= (size_t)4 << 20);
    assert_non_null(tnt__arena_zalloc(&a, 64));
    tnt__arena_destroy(&a);

    /* going back to a mark: what came after is given back, what came before stays */
    tnt__arena_init(&a, 0);
    char *before = tnt__arena_strdup(&a, "before");
    tnt__arena_mark m = tnt__arena_save(&a);
    for (int i = 0; i < 2000; i++) /* several new chunks */
        assert_non_null(tnt__arena_printf(&a, "after-%0300d", i));
    assert_true(a.total > m.total);
    tnt__arena_rollback(&a, m);
    assert_true(a.head == m.head && a.used == m.used && a.total == m.total);
    assert_string_equal(before, "before");
    char *again = tnt__arena_strdup(&a, "again"); /* in the room given back */
    assert_ptr_equal(again, before + 8);
    m = tnt__arena_save(&a);
    tnt__arena_rollback(&a, m); /* nothing after it: nothing changes */
    assert_string_equal(again, "again");
    tnt__arena_destroy(&a);
    tnt__arena empty;
    tnt__arena_init(&empty, 0);
    m = tnt__arena_save(&empty); /* a mark of an arena with no chunk yet */
    assert_non_null(tnt__arena_alloc(&empty, 100000));
    tnt__arena_rollback(&empty, m);
    assert_null(empty.head);
    assert_int_equal(empty.total, 0);
    tnt__arena_destroy(&empty);

    tnt__arena lim;
    tnt__arena_init(&lim, 100000);
    assert_non_null(tnt__arena_alloc(&lim, 1000));
    assert_null(tnt__arena_alloc(&lim, 200000)); /* over the limit */
    tnt__arena_destroy(&lim);
}

/* The JSON string writer's rule, one byte at a time (the reference). */
static void json_str_bytewise(tnt__buf *b, const char *s)
{
    tnt__buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p >= 0x80) {
            unsigned c = p[0];
            size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
            for (size_t i = 1; i < n; i++)
                if ((p[i] & 0xC0) != 0x80)
                    n = 0;
            if (n && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
                      (c == 0xF4 && p[1] > 0x8F)))
                n = 0;
            if (n)
                tnt__buf_append(b, p, n);
            else
                tnt__buf_puts(b, "\\ufffd");
            p += n ? n : 1;
        } else if (*p == '"' || *p == '\\') {
            tnt__buf_putc(b, '\\');
            tnt__buf_putc(b, (char)*p++);
        } else if (*p < 0x20) {
            const char *named = *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : *p == '\t' ? "\\t"
                              : *p == '\b' ? "\\b" : *p == '\f' ? "\\f" : NULL;
            if (named)
                tnt__buf_puts(b, named);
            else
                tnt__buf_printf(b, "\\u%04x", *p);
            p++;
        } else {
            tnt__buf_putc(b, (char)*p++);
        }
    }
    tnt__buf_putc(b, '"');
}

static void test_buf(void **state)
{
    (void)state;
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__buf_puts(&b, "a");
    tnt__buf_printf(&b, "%d", 42);
    tnt__buf_json_str(&b, "q\"\\\n\x01é");
    assert_string_equal(b.data, "a42\"q\\\"\\\\\\n\\u0001é\"");
    /* every byte value at every position of strings up to 40 bytes long: the
     * same as escaping byte by byte (the writer reads eight bytes at a time) */
    for (size_t len = 1; len <= 40; len++)
        for (size_t at = 0; at < len; at++)
            for (int c = 1; c < 256; c++) {
                char in[48];
                memset(in, 'a', len);
                in[len] = '\0';
                in[at] = (char)c;
                tnt__buf got, want;
                tnt__buf_init(&got);
                tnt__buf_init(&want);
                tnt__buf_json_str(&got, in);
                json_str_bytewise(&want, in);
                assert_string_equal(got.data, want.data);
                tnt__buf_free(&got);
                tnt__buf_free(&want);
            }
    size_t len;
    char *s = tnt__buf_detach(&b, &len);
    assert_int_equal(len, strlen(s));
    assert_null(b.data);
    tnt_free(s);
    /* Detaching an empty buffer gives an empty string. */
    s = tnt__buf_detach(&b, &len);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    tnt_free(s);
}

/* ---- allocator hooks ---- */

static long g_calls, g_fail_at, g_live;

static void *f_malloc(size_t n, void *ud)
{
    (void)ud;
    if (++g_calls == g_fail_at)
        return NULL;
    void *p = malloc(n);
    g_live += p != NULL;
    return p;
}
static void *f_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (++g_calls == g_fail_at)
        return NULL;
    void *q = realloc(p, n);
    g_live += (p == NULL && q != NULL);
    return q;
}
static void *f_calloc(size_t c, size_t n, void *ud)
{
    (void)ud;
    if (++g_calls == g_fail_at)
        return NULL;
    void *p = calloc(c, n);
    g_live += p != NULL;
    return p;
}
static void f_free(void *p, void *ud)
{
    (void)ud;
    g_live -= p != NULL;
    free(p);
}

static const tnt_allocator failing = {f_malloc, f_realloc, f_calloc, f_free, NULL};

static void test_allocator_rules(void **state)
{
    (void)state;
    tnt_allocator bad = failing;
    bad.free_fn = NULL;
    assert_int_equal(tnt_set_allocator(&bad), TNT_E_INVALID);
    assert_int_equal(tnt_init(), TNT_OK);
    assert_int_equal(tnt_set_allocator(&failing), TNT_E_MISUSE); /* not while initialised */
    tnt_shutdown();
    tnt_reader *r;
    assert_int_equal(tnt_reader_new(&r, NULL), TNT_OK);
    assert_int_equal(tnt_set_allocator(&failing), TNT_E_MISUSE); /* not while a handle lives */
    tnt_reader_free(r);
    assert_int_equal(tnt_set_allocator(&failing), TNT_OK);
    assert_int_equal(tnt_set_allocator(NULL), TNT_OK);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    s[n] = '\0';
    *len = (size_t)n;
    return s;
}

/* Runs a whole document through a reader; returns the last status and the
 * hashes joined, so a run without failures can be compared. */
static tnt_status run_reader(const char *doc, size_t len, size_t chunk, char *hashes, size_t cap)
{
    tnt_reader *r;
    tnt_status st = tnt_reader_new(&r, NULL);
    if (st != TNT_OK)
        return st;
    hashes[0] = '\0';
    size_t off = 0;
    tnt_event *ev;
    for (;;) {
        while ((st = tnt_reader_next(&ev, r)) == TNT_OK) {
            const char *h = tnt_event_get_string(ev, TNT_FIELD_HASH_ID);
            char *json = NULL;
            if (tnt_event_to_json(&json, NULL, ev, TNT_JSON_CONTEXT) == TNT_OK)
                tnt_free(json);
            tnt_event *copy = NULL;
            if (tnt_event_clone(&copy, ev) == TNT_OK)
                tnt_event_free(copy);
            if (h && strlen(hashes) + strlen(h) + 2 < cap) {
                strcat(hashes, h);
                strcat(hashes, "\n");
            }
        }
        if (st != TNT_AGAIN)
            break;
        size_t n = len - off < chunk ? len - off : chunk;
        tnt_reader_feed(r, doc + off, n);
        off += n;
        if (off == len)
            tnt_reader_finish(r);
    }
    tnt_reader_free(r);
    return st;
}

static void test_out_of_memory_everywhere(void **state)
{
    (void)state;
    size_t len;
    char *doc = read_file(TNT_CONFORMANCE "/gs1-epcis/JSON/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld",
                          &len);
    static char want[8192], got[8192];
    assert_int_equal(run_reader(doc, len, 97, want, sizeof want), TNT_DONE);
    assert_true(strlen(want) > 0);

    /* Fail the 1st, 2nd, ... allocation until a run needs no more; every run
     * must end cleanly, leak nothing, and either succeed alike or say NOMEM. */
    assert_int_equal(tnt_set_allocator(&failing), TNT_OK);
    int nomem_runs = 0;
    for (g_fail_at = 1;; g_fail_at++) {
        g_calls = 0;
        g_live = 0;
        tnt_status st = run_reader(doc, len, 97, got, sizeof got);
        assert_int_equal(g_live, 0);
        if (st == TNT_DONE && g_calls < g_fail_at) {
            assert_string_equal(got, want);
            break;
        }
        if (st == TNT_E_NOMEM)
            nomem_runs++;
        else /* a failed allocation the reader survived must not change results */
            assert_true(st == TNT_DONE || st == TNT_E_NOMEM);
        assert_true(g_fail_at < 100000);
    }
    assert_true(nomem_runs > 10);
    assert_int_equal(tnt_set_allocator(NULL), TNT_OK);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_error_is_thread_local),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_allocator_rules),
        cmocka_unit_test(test_out_of_memory_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
