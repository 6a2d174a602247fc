/* Master data: products (by GTIN), locations (by GLN), parties (by company
 * prefix). Records go through the event log like events, so a replay
 * restores them, and are kept in the state store as JSON. */
#include <ctype.h>
#include <errno.h>
#include <pb_decode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "codec/epcis.h"
#include "codec/json_stream.h"
#include "engine/engine.h"
#include "engine/record.h"
#include "tnt/ids.h"

static const char *const key_names[] = {NULL, "gtin", "gln", "company_prefix"};

/* The canonical key: a GTIN as 14 digits, a GLN as 13, a prefix as digits. */
static tnt_status master_key(char *out, size_t cap, int kind, const char *v, const char *where)
{
    size_t n = strlen(v);
    if (n == 0 || n >= cap || strspn(v, "0123456789") != n)
        return tnt__error(TNT_E_INVALID, "%s: %s '%s' must be digits", where, key_names[kind], v);
    if (kind == TNT_MASTER_PARTY) {
        if (n < 4 || n > 12)
            return tnt__error(TNT_E_INVALID, "%s: a company prefix has 4 to 12 digits, not %zu", where, n);
        memcpy(out, v, n + 1);
        return TNT_OK;
    }
    bool gtin = kind == TNT_MASTER_PRODUCT;
    if (gtin ? !(n == 8 || n == 12 || n == 13 || n == 14) : n != 13)
        return tnt__error(TNT_E_INVALID, "%s: a %s has %s digits, not %zu", where, gtin ? "GTIN" : "GLN",
                          gtin ? "8, 12, 13 or 14" : "13", n);
    if (tnt_gs1_check_digit(v, n - 1) != v[n - 1] - '0')
        return tnt__error(TNT_E_INVALID, "%s: %s %s has a wrong check digit (expected %d)", where, key_names[kind], v,
                          tnt_gs1_check_digit(v, n - 1));
    size_t width = gtin ? 14 : 13;
    memset(out, '0', width - n);
    memcpy(out + width - n, v, n + 1);
    return TNT_OK;
}

typedef struct loader {
    tnt_engine *e;
    tnt__arena a;
    tnt_v1_MasterRecord *recs;
    size_t n, cap;
    tnt__buf *list; /* tnt_engine_master_records(): each record's kind, key and place, as JSON */
} loader;

/* A member that must be a number within [lo, hi] when present. */
static tnt_status number_in(const tnt__node *obj, const char *name, double lo, double hi, const char *where)
{
    const tnt__node *n = tnt__node_get((tnt__node *)obj, name);
    double v;
    if (n && (n->kind != TNT__N_NUMBER || !tnt__num_parse(&v, n->str) || !(v >= lo && v <= hi)))
        return tnt__error(TNT_E_INVALID, "%s: \"%s\" must be a number from %g to %g", where, name, lo, hi);
    return TNT_OK;
}

/* A date or time member of a brand key, when present. */
static tnt_status key_time(const tnt__node *k, const char *name, const char *where)
{
    const tnt__node *n = tnt__node_get((tnt__node *)k, name);
    if (!n)
        return TNT_OK;
    char buf[64];
    tnt__time t;
    if (n->kind == TNT__N_STRING && n->str && strlen(n->str) < 40) {
        snprintf(buf, sizeof buf, strlen(n->str) == 10 ? "%sT00:00:00Z" : "%s", n->str);
        if (tnt__time_parse(&t, buf))
            return TNT_OK;
    }
    return tnt__error(TNT_E_INVALID, "%s: a key's \"%s\" must be a date (2026-01-31) or a time (RFC 3339)", where,
                      name);
}

static tnt_status brand_key(const tnt__node *k, const char *where)
{
    const tnt__node *pk = k->kind == TNT__N_STRING ? k : tnt__node_get((tnt__node *)k, "public_key");
    uint8_t raw[32];
    if (!pk || pk->kind != TNT__N_STRING || !pk->str || !tnt__b64_decode(raw, 32, pk->str, strlen(pk->str)))
        return tnt__error(TNT_E_INVALID,
                          "%s: a brand key must be a public key of 32 bytes in base64url (43 characters, as tnt keygen "
                          "prints it)",
                          where);
    tnt_status st = TNT_OK;
    if (k->kind == TNT__N_OBJECT) {
        if ((st = key_time(k, "valid_from", where)) == TNT_OK && (st = key_time(k, "valid_until", where)) == TNT_OK)
            st = key_time(k, "revoked_at", where);
    }
    return st;
}

/* The members that the checks read must be what they say: a mistyped brand
 * key would silently leave a brand's codes unchecked, a latitude "north" a
 * place without coordinates. */
static tnt_status check_fields(int kind, const tnt__node *obj, const char *where)
{
    tnt_status st = TNT_OK;
    if (kind == TNT_MASTER_PRODUCT) {
        if ((st = number_in(obj, "min_temp", -273.15, 1000, where)) == TNT_OK &&
            (st = number_in(obj, "max_temp", -273.15, 1000, where)) == TNT_OK)
            st = number_in(obj, "shelf_life_days", 0, 1e6, where);
    } else if (kind == TNT_MASTER_LOCATION) {
        if ((st = number_in(obj, "latitude", -90, 90, where)) == TNT_OK)
            st = number_in(obj, "longitude", -180, 180, where);
    } else if (kind == TNT_MASTER_PARTY) {
        const tnt__node *one = tnt__node_get((tnt__node *)obj, "public_key"), *keys = tnt__node_get((tnt__node *)obj, "keys");
        if (one)
            st = brand_key(one, where);
        if (st == TNT_OK && keys && keys->kind != TNT__N_ARRAY)
            st = tnt__error(TNT_E_INVALID, "%s: \"keys\" must be an array of keys", where);
        for (const tnt__node *k = keys ? keys->child : NULL; k && st == TNT_OK; k = k->next)
            st = brand_key(k, where);
    }
    return st;
}

/* One record object: check its key, keep it (with the key in canonical form). */
static tnt_status add_record(loader *l, int kind, tnt__node *obj, const char *where)
{
    if (!obj || obj->kind != TNT__N_OBJECT)
        return tnt__error(TNT_E_INVALID, "%s: a master-data record must be an object", where);
    for (const tnt__node *a = obj->child; a; a = a->next) /* one meaning per member: readers differ on twins */
        for (const tnt__node *b = a->next; b; b = b->next)
            if (a->key && b->key && strcmp(a->key, b->key) == 0)
                return tnt__error(TNT_E_INVALID, "%s: the record names \"%s\" twice", where, a->key);
    tnt__node *k = tnt__node_get(obj, key_names[kind]);
    if (!k || (k->kind != TNT__N_STRING && k->kind != TNT__N_NUMBER))
        return tnt__error(TNT_E_INVALID, "%s: the record has no \"%s\"", where, key_names[kind]);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        tnt_v1_MasterRecord *v = tnt__realloc(l->recs, cap * sizeof *v);
        if (!v)
            return tnt__error(TNT_E_NOMEM, "out of memory");
        l->recs = v;
        l->cap = cap;
    }
    tnt_v1_MasterRecord *m = &l->recs[l->n];
    *m = (tnt_v1_MasterRecord)tnt_v1_MasterRecord_init_zero;
    m->kind = (uint32_t)kind;
    tnt_status st = master_key(m->key, sizeof m->key, kind, k->str, where);
    if (st == TNT_OK)
        st = check_fields(kind, obj, where);
    if (st != TNT_OK)
        return st;
    k->kind = TNT__N_STRING;
    k->str = m->key;
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__json_write_node(&b, obj, false);
    if (b.oom || b.len >= sizeof m->json) {
        tnt__buf_free(&b);
        return tnt__error(b.oom ? TNT_E_NOMEM : TNT_E_TOOBIG, "%s: the record is larger than %zu bytes", where,
                          sizeof m->json - 1);
    }
    memcpy(m->json, b.data, b.len + 1);
    tnt__buf_free(&b);
    l->n++;
    if (l->list) {
        static const char *const kinds[] = {NULL, "product", "location", "party"};
        tnt__buf_putc(l->list, l->n > 1 ? ',' : '[');
        tnt__buf_printf(l->list, "{\"kind\":\"%s\",\"key\":\"%s\",\"where\":", kinds[kind], m->key);
        tnt__buf_json_str(l->list, where);
        tnt__buf_putc(l->list, '}');
    }
    return TNT_OK;
}

static tnt_status load_json(loader *l, const char *text, size_t len, const char *path)
{
    char err[256] = "";
    tnt__node *root = tnt__json_parse_tree(&l->a, text, len, err, sizeof err);
    if (!root)
        return tnt__error(TNT_E_INVALID, "%s: %s", path, err);
    static const char *const lists[] = {NULL, "products", "locations", "parties"};
    if (root->kind != TNT__N_OBJECT)
        return tnt__error(TNT_E_INVALID, "%s: expected {\"products\":[…],\"locations\":[…],\"parties\":[…]}", path);
    for (tnt__node *m = root->child; m; m = m->next) {
        int kind = 0;
        for (int k = 1; k <= 3; k++)
            if (strcmp(m->key, lists[k]) == 0)
                kind = k;
        if (!kind)
            return tnt__error(TNT_E_INVALID, "%s: unknown member \"%s\" (expected products, locations, parties)", path,
                              m->key);
        if (m->kind != TNT__N_ARRAY)
            return tnt__error(TNT_E_INVALID, "%s: \"%s\" must be an array", path, m->key);
        size_t i = 0;
        for (tnt__node *r = m->child; r; r = r->next, i++) {
            char where[300];
            snprintf(where, sizeof where, "%s: %s[%zu]", path, m->key, i);
            tnt_status st = add_record(l, kind, r, where);
            if (st != TNT_OK)
                return st;
        }
    }
    return TNT_OK;
}

/* CSV: a header naming the columns, then one record per line. Numbers stay
 * numbers; fields may be quoted with "" for a quote inside. */
static size_t csv_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *out = p, *start = p;
        if (*p == '"') {
            p++;
            start = out = p;
            while (*p && !(*p == '"' && p[1] != '"'))
                *out++ = *p == '"' ? (p++, '"') : *p, p++;
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',')
                out++, p++;
        }
        char next = *p;
        *out = '\0';
        f[n++] = start;
        if (next != ',')
            break;
        p++;
    }
    return n;
}

static bool numeric(const char *s)
{
    double v;
    return *s && tnt__num_parse(&v, s) && !isspace((unsigned char)*s);
}

/* The next line of text (CR, LF or CRLF ends one), cut in place; NULL at
 * the end. *lineno counts every line, empty ones too. */
static char *next_line(char **p, size_t *lineno)
{
    if (!**p)
        return NULL;
    char *line = *p, *end = line + strcspn(line, "\r\n");
    *p = end;
    if (*end == '\r' && end[1] == '\n')
        *p += 2;
    else if (*end)
        *p += 1;
    *end = '\0';
    ++*lineno;
    return line;
}

static tnt_status load_csv(loader *l, char *text, const char *path)
{
    size_t lineno = 0;
    char *p = text, *line;
    while ((line = next_line(&p, &lineno)) && !*line) /* the header: the first line that is not empty */
        ;
    char *head[64], *f[64];
    if (!line)
        return tnt__error(TNT_E_INVALID, "%s: empty file", path);
    size_t nh = csv_fields(line, head, 64);
    int kind = 0;
    for (size_t i = 0; i < nh; i++)
        for (int k = 1; k <= 3; k++)
            if (strcmp(head[i], key_names[k]) == 0)
                kind = k;
    if (!kind)
        return tnt__error(TNT_E_INVALID, "%s: the header needs a gtin, gln or company_prefix column", path);
    while ((line = next_line(&p, &lineno))) {
        if (!*line || *line == '#')
            continue;
        size_t nf = csv_fields(line, f, 64);
        if (nf != nh)
            return tnt__error(TNT_E_INVALID, "%s:%zu: %zu fields, the header has %zu", path, lineno, nf, nh);
        tnt__node *obj = tnt__node_new(&l->a, TNT__N_OBJECT, NULL, NULL);
        for (size_t i = 0; obj && i < nf; i++) {
            bool key = strcmp(head[i], key_names[kind]) == 0;
            if (!*f[i])
                continue;
            tnt__node *v = tnt__node_new(&l->a, !key && numeric(f[i]) ? TNT__N_NUMBER : TNT__N_STRING,
                                         tnt__arena_strdup(&l->a, head[i]), tnt__arena_strdup(&l->a, f[i]));
            if (!v)
                return tnt__error(TNT_E_NOMEM, "out of memory");
            tnt__node_append(obj, v);
        }
        char where[300];
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        tnt_status st = add_record(l, kind, obj, where);
        if (st != TNT_OK)
            return st;
    }
    return TNT_OK;
}

/* Log every record (one flush), then apply them. */
static tnt_status store_records(tnt_engine *e, loader *l)
{
    if (!l->n)
        return TNT_OK;
    tnt__effect *fx = tnt__calloc(l->n, sizeof *fx);
    const char **keys = tnt__calloc(l->n, sizeof *keys);
    tnt_status st = fx && keys ? TNT_OK : tnt__error(TNT_E_NOMEM, "out of memory");
    for (size_t i = 0; st == TNT_OK && i < l->n; i++) {
        fx[i].record = tnt__record_master(&l->a, &l->recs[i], &fx[i].record_len);
        keys[i] = l->recs[i].key;
        if (!fx[i].record)
            st = tnt__error(TNT_E_NOMEM, "out of memory");
    }
    pthread_rwlock_rdlock(&e->replay_lock);
    if (st == TNT_OK)
        st = tnt__log_write(e, fx, l->n, keys);
    if (st == TNT_OK) {
        tnt__replayer *r = tnt__replayer_new(e);
        if (!r)
            st = tnt__error(TNT_E_NOMEM, "out of memory");
        pthread_mutex_lock(&e->apply_mu);
        for (size_t i = 0; st == TNT_OK && i < l->n; i++)
            st = tnt__replayer_add(r, fx[i].record, fx[i].record_len, fx[i].partition, fx[i].offset, NULL);
        if (st == TNT_OK && r)
            st = tnt__replayer_flush(r);
        pthread_mutex_unlock(&e->apply_mu);
        tnt__replayer_free(r);
    }
    pthread_rwlock_unlock(&e->replay_lock);
    if (st == TNT_OK)
        atomic_fetch_add(&e->n.master_records, l->n);
    tnt__free(fx);
    tnt__free(keys);
    return st;
}

/* Read a file's records; store them, or (list) only list them. */
static tnt_status load_text(tnt_engine *e, char *text, size_t len, const char *path, size_t *loaded, tnt__buf *list)
{
    loader l = {e, {0}, NULL, 0, 0, list};
    tnt__arena_init(&l.a, 0);
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    tnt_status st = *p == '{' ? load_json(&l, text, len, path) : load_csv(&l, text, path);
    if (st == TNT_OK && !list)
        st = store_records(e, &l);
    if (loaded)
        *loaded = st == TNT_OK ? l.n : 0;
    tnt__free(l.recs);
    tnt__arena_destroy(&l.a);
    return st;
}

static tnt_status load_file(tnt_engine *e, const char *path, size_t *loaded, tnt__buf *list)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tnt__error(TNT_E_IO, "%s: %s", path, strerror(errno));
    tnt__buf b;
    tnt__buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && !b.oom && b.len < ((size_t)256 << 20))
        tnt__buf_append(&b, chunk, n);
    bool err = ferror(f);
    fclose(f);
    tnt_status st;
    if (err)
        st = tnt__error(TNT_E_IO, "%s: read error", path);
    else if (b.oom || b.len >= ((size_t)256 << 20))
        st = tnt__error(b.oom ? TNT_E_NOMEM : TNT_E_TOOBIG, "%s: larger than 256 MiB", path);
    else
        st = load_text(e, b.data ? b.data : (char[]){0}, b.len, path, loaded, list);
    tnt__buf_free(&b);
    return st;
}

tnt_status tnt_engine_master_load(tnt_engine *e, const char *path, size_t *loaded)
{
    if (!e || !path)
        return TNT_E_MISUSE;
    return load_file(e, path, loaded, NULL);
}

tnt_status tnt_engine_master_records(char **out, tnt_engine *e, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !e || !path)
        return TNT_E_MISUSE;
    tnt__buf b;
    tnt__buf_init(&b);
    size_t n = 0;
    tnt_status st = load_file(e, path, &n, &b);
    if (st == TNT_OK) {
        if (!n)
            tnt__buf_putc(&b, '[');
        tnt__buf_putc(&b, ']');
        if (b.oom)
            st = tnt__error(TNT_E_NOMEM, "out of memory");
    }
    if (st == TNT_OK)
        *out = tnt__buf_detach(&b, NULL);
    tnt__buf_free(&b);
    return st;
}

tnt_status tnt_engine_master_put(tnt_engine *e, tnt_master_kind kind, const char *json, size_t len)
{
    if (!e || !json || kind < TNT_MASTER_PRODUCT || kind > TNT_MASTER_PARTY)
        return TNT_E_MISUSE;
    loader l = {e, {0}, NULL, 0, 0, NULL};
    tnt__arena_init(&l.a, 0);
    char err[256] = "";
    tnt__node *obj = tnt__json_parse_tree(&l.a, json, len, err, sizeof err);
    tnt_status st = obj ? add_record(&l, (int)kind, obj, "master data") : tnt__error(TNT_E_INVALID, "master data: %s", err);
    if (st == TNT_OK)
        st = store_records(e, &l);
    tnt__free(l.recs);
    tnt__arena_destroy(&l.a);
    return st;
}

tnt_status tnt__master_lookup(tnt_engine *e, int kind, const char *key, char **json_out)
{
    tnt__key k;
    tnt__key_master(&k, kind, key);
    void *v = NULL;
    size_t len = 0;
    tnt_status st = tnt__store_get(e, &k, &v, &len);
    if (st != TNT_OK)
        return st;
    /* the json field found by walking the record's tags: decoding the whole
     * tnt.v1.MasterRecord zeroes and fills its 8 KB of fixed fields (track
     * reads two records a call) */
    pb_istream_t is = pb_istream_from_buffer(v, len);
    pb_wire_type_t wt;
    uint32_t tag, n;
    bool eof = false, ok = true;
    const char *json = NULL;
    size_t json_len = 0;
    while (ok && pb_decode_tag(&is, &wt, &tag, &eof)) {
        if (tag == tnt_v1_MasterRecord_json_tag && wt == PB_WT_STRING) {
            ok = pb_decode_varint32(&is, &n) && n < sizeof ((tnt_v1_MasterRecord *)0)->json;
            const char *at = (const char *)is.state; /* a buffer stream: the bytes are in place */
            ok = ok && pb_read(&is, NULL, n);
            json = at; /* the last one counts, as in a full decode */
            json_len = n;
        } else {
            ok = pb_skip_field(&is, wt);
        }
    }
    ok = ok && eof;
    *json_out = ok ? tnt__strndup(json ? json : "", json_len) : NULL;
    tnt_free(v);
    if (!ok)
        return tnt__error(TNT_E_CORRUPT, "master record %s is corrupt", key);
    return *json_out ? TNT_OK : TNT_E_NOMEM;
}

tnt_status tnt_engine_master_get(char **out, tnt_engine *e, tnt_master_kind kind, const char *key)
{
    if (!out || !e || !key || kind < TNT_MASTER_PRODUCT || kind > TNT_MASTER_PARTY)
        return TNT_E_MISUSE;
    char canon[32];
    tnt_status st = master_key(canon, sizeof canon, (int)kind, key, "key");
    if (st != TNT_OK)
        return st;
    pthread_rwlock_rdlock(&e->replay_lock); /* a replay empties the store before it fills it again */
    st = tnt__master_lookup(e, (int)kind, canon, out);
    pthread_rwlock_unlock(&e->replay_lock);
    return st == TNT_E_NOTFOUND ? tnt__error(st, "no %s %s in master data", key_names[kind], canon) : st;
}
