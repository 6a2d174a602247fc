/*
 * GS1 Company Prefix length tables: which length the company prefix has
 * for keys starting with given digits, longest prefix first.
 *
 * Prefixes live in an open-addressing hash keyed by (digits, count), so a
 * lookup is at most one probe sequence per prefix length present — a few
 * dozen nanoseconds even with GS1's full list of some 100,000 prefixes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "ids.h"

struct tnt_gcp_table {
    uint64_t *keys;   /* (prefix value << 4 | digits) + 1; 0 marks a free slot */
    uint8_t *lens;    /* company prefix length per slot */
    size_t cap;       /* a power of two */
    size_t count;
    uint16_t present; /* bit d: some prefix has d digits */
};

#define MAX_PREFIX 12

static uint64_t make_key(uint64_t value, size_t digits) { return (value << 4 | digits) + 1; }

static size_t slot_of(const tnt_gcp_table *t, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (t->cap - 1);
}

static bool put(tnt_gcp_table *t, uint64_t key, uint8_t len)
{
    size_t i = slot_of(t, key);
    while (t->keys[i] && t->keys[i] != key)
        i = (i + 1) & (t->cap - 1);
    if (!t->keys[i])
        t->count++;
    t->keys[i] = key;
    t->lens[i] = len;
    return true;
}

static bool grow(tnt_gcp_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint64_t *keys = tnt__calloc(cap, sizeof *keys);
    uint8_t *lens = tnt__calloc(cap, 1);
    if (!keys || !lens) {
        tnt__free(keys);
        tnt__free(lens);
        return false;
    }
    tnt_gcp_table old = *t;
    t->keys = keys;
    t->lens = lens;
    t->cap = cap;
    t->count = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i])
            put(t, old.keys[i], old.lens[i]);
    tnt__free(old.keys);
    tnt__free(old.lens);
    return true;
}

tnt_status tnt_gcp_table_new(tnt_gcp_table **out)
{
    if (!out)
        return tnt__error(TNT_E_MISUSE, "tnt_gcp_table_new: out is NULL");
    *out = tnt__calloc(1, sizeof **out);
    if (!*out)
        return tnt__error(TNT_E_NOMEM, "tnt_gcp_table_new: out of memory");
    tnt__handle_acquire();
    return TNT_OK;
}

void tnt_gcp_table_free(tnt_gcp_table *t)
{
    if (!t)
        return;
    tnt__free(t->keys);
    tnt__free(t->lens);
    tnt__free(t);
    tnt__handle_release();
}

static tnt_status add(tnt_gcp_table *t, const char *prefix, size_t n, int length)
{
    if (n == 0 || n > MAX_PREFIX)
        return tnt__error(TNT_E_INVALID, "GCP prefix must have 1 to %d digits", MAX_PREFIX);
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++) {
        if (prefix[i] < '0' || prefix[i] > '9')
            return tnt__error(TNT_E_INVALID, "GCP prefix '%.*s' is not all digits", (int)n, prefix);
        value = value * 10 + (uint64_t)(prefix[i] - '0');
    }
    if (length < 4 || length > 12)
        return tnt__error(TNT_E_INVALID, "GCP length %d outside 4..12", length);
    if ((t->count + 1) * 2 > t->cap && !grow(t))
        return tnt__error(TNT_E_NOMEM, "GCP table: out of memory");
    put(t, make_key(value, n), (uint8_t)length);
    t->present |= (uint16_t)(1u << n);
    return TNT_OK;
}

tnt_status tnt_gcp_table_add(tnt_gcp_table *t, const char *prefix, int length)
{
    if (!t || !prefix)
        return tnt__error(TNT_E_MISUSE, "tnt_gcp_table_add: NULL argument");
    return add(t, prefix, strlen(prefix), length);
}

bool tnt__gcp_lookup(const tnt_gcp_table *t, const char *digits, size_t n, int *len_out)
{
    if (!t || !t->count)
        return false;
    uint64_t value[MAX_PREFIX + 1] = {0};
    size_t max = 0;
    while (max < n && max < MAX_PREFIX && digits[max] >= '0' && digits[max] <= '9') {
        value[max + 1] = value[max] * 10 + (uint64_t)(digits[max] - '0');
        max++;
    }
    for (size_t d = max; d >= 1; d--) {
        if (!(t->present & (1u << d)))
            continue;
        uint64_t key = make_key(value[d], d);
        for (size_t i = slot_of(t, key); t->keys[i]; i = (i + 1) & (t->cap - 1))
            if (t->keys[i] == key) {
                *len_out = t->lens[i];
                return true;
            }
    }
    return false;
}

tnt_status tnt_gcp_table_lookup(int *length_out, const tnt_gcp_table *t, const char *digits)
{
    if (!length_out || !t || !digits)
        return tnt__error(TNT_E_MISUSE, "tnt_gcp_table_lookup: NULL argument");
    if (!tnt__gcp_lookup(t, digits, strlen(digits), length_out))
        return TNT_E_NOTFOUND;
    return TNT_OK;
}

/* ---- loading ---- */

static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    tnt__buf b;
    tnt__buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        tnt__buf_append(&b, chunk, n);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || b.oom) {
        tnt__buf_free(&b);
        errno = failed ? EIO : ENOMEM;
        return NULL;
    }
    return tnt__buf_detach(&b, len_out);
}

static const char *trim(const char *s, const char *e, const char **end)
{
    while (s < e && (*s == ' ' || *s == '\t' || *s == '"'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '"'))
        e--;
    *end = e;
    return s;
}

/* The last error again, prefixed with where it happened (the thread-local
 * message cannot be formatted into itself). */
static tnt_status error_at(tnt_status st, const char *path, const char *where, size_t n)
{
    char why[256];
    snprintf(why, sizeof why, "%s", tnt_error_last());
    return tnt__error(st, "%s:%s%zu: %s", path, where, n, why);
}

/* One "prefix,length" line; a first line that is not one is a header. */
static tnt_status csv_line(tnt_gcp_table *t, const char *s, const char *e, bool first, const char *path, size_t line)
{
    const char *comma = memchr(s, ',', (size_t)(e - s));
    const char *pe, *le;
    const char *pfx = comma ? trim(s, comma, &pe) : NULL;
    const char *num = comma ? trim(comma + 1, e, &le) : NULL;
    bool digits = pfx && pe > pfx && num && le > num;
    for (const char *c = pfx; digits && c < pe; c++)
        digits = *c >= '0' && *c <= '9';
    for (const char *c = num; digits && c < le; c++)
        digits = *c >= '0' && *c <= '9';
    if (!digits) {
        if (first)
            return TNT_OK; /* a header such as "prefix,length" */
        return tnt__error(TNT_E_INVALID, "%s:%zu: expected \"prefix,length\"", path, line);
    }
    int length = (le - num > 3) ? 99 : atoi(num);
    if (length == 0)
        return TNT_OK; /* numbers without a company prefix (restricted circulation) */
    tnt_status st = add(t, pfx, (size_t)(pe - pfx), length);
    return st == TNT_OK ? TNT_OK : error_at(st, path, "", line);
}

static tnt_status load_csv(tnt_gcp_table *t, const char *text, size_t len, const char *path)
{
    const char *s = text, *end = text + len;
    bool first = true;
    for (size_t line = 1; s < end; line++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        const char *p = s;
        while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        if (p < e && *p != '#') {
            tnt_status st = csv_line(t, p, e, first, path, line);
            if (st != TNT_OK)
                return st;
            first = false;
        }
        s = nl ? nl + 1 : end;
    }
    return TNT_OK;
}

static bool json_length(yajl_val v, int *out)
{
    if (YAJL_IS_INTEGER(v)) {
        long long n = YAJL_GET_INTEGER(v);
        *out = n >= 0 && n <= 99 ? (int)n : 99;
        return true;
    }
    if (YAJL_IS_STRING(v)) {
        const char *s = YAJL_GET_STRING(v);
        char *e;
        long n = strtol(s, &e, 10);
        *out = n >= 0 && n <= 99 ? (int)n : 99;
        return *s && !*e;
    }
    return false;
}

static tnt_status load_json(tnt_gcp_table *t, const char *text, const char *path)
{
    char err[256];
    yajl_val root = yajl_tree_parse(text, err, sizeof err);
    if (!root)
        return tnt__error(TNT_E_INVALID, "%s: not valid JSON: %s", path, err);
    static const char *entry_path[] = {"GCPPrefixFormatList", "entry", NULL};
    yajl_val list = yajl_tree_get(root, entry_path, yajl_t_array);
    tnt_status st = TNT_OK;
    if (!list)
        st = tnt__error(TNT_E_INVALID, "%s: no GCPPrefixFormatList.entry array", path);
    for (size_t i = 0; st == TNT_OK && list && i < YAJL_GET_ARRAY(list)->len; i++) {
        yajl_val e = YAJL_GET_ARRAY(list)->values[i];
        static const char *prefix_path[] = {"prefix", NULL};
        static const char *len_path[] = {"gcpLength", NULL};
        yajl_val pv = yajl_tree_get(e, prefix_path, yajl_t_string);
        yajl_val lv = yajl_tree_get(e, len_path, yajl_t_any);
        int length;
        if (!pv || !lv || !json_length(lv, &length)) {
            st = tnt__error(TNT_E_INVALID, "%s: entry %zu needs a string \"prefix\" and a \"gcpLength\"", path, i);
        } else if (length != 0) {
            const char *pfx = YAJL_GET_STRING(pv);
            st = add(t, pfx, strlen(pfx), length);
            if (st != TNT_OK)
                st = error_at(st, path, " entry ", i);
        }
    }
    yajl_tree_free(root);
    return st;
}

tnt_status tnt_gcp_table_load(tnt_gcp_table *t, const char *path)
{
    if (!t || !path)
        return tnt__error(TNT_E_MISUSE, "tnt_gcp_table_load: NULL argument");
    size_t len;
    char *text = read_file(path, &len);
    if (!text)
        return errno == ENOMEM ? tnt__error(TNT_E_NOMEM, "%s: out of memory", path)
                               : tnt__error(TNT_E_IO, "%s: %s", path, strerror(errno));
    const char *body = text;
    if (len >= 3 && !memcmp(body, "\xEF\xBB\xBF", 3))
        body += 3; /* UTF-8 byte order mark */
    const char *p = body;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    tnt_status st = *p == '{' ? load_json(t, p, path) : load_csv(t, body, len - (size_t)(body - text), path);
    tnt__free(text);
    return st;
}
