/*
 * GS1 Digital Link URIs (GS1 Digital Link: URI Syntax 1.2+): parsing,
 * the canonical form, and Digital Link output with data attributes.
 *
 *   http(s)://domain[/path prefix]/{key AI}/{key}[/{qualifier AI}/{value}...][?{AI}={value}&...]
 *
 * The primary key is found from the end of the path: the path is read back
 * in AI/value pairs, and the first primary key met ends the search, so a
 * path prefix may itself look like AIs. Qualifiers must follow the key in
 * the order the standard fixes; data attributes sit in the query string,
 * where parameters that are not AIs (linkType=…) are ignored.
 */
#include <string.h>

#include "ids.h"

/* Path short names of Digital Link 1.0, still met in the wild. */
static const char *alpha_ai(const char *s, size_t n)
{
    if (n < 3 || n > 5 || !((s[0] >= 'a' && s[0] <= 'z')))
        return NULL;
    static const char *const names[][2] = {
        {"gtin", "01"},   {"itip", "8006"}, {"cpid", "8010"}, {"gln", "414"},   {"party", "417"},
        {"gsrnp", "8017"}, {"gsrn", "8018"}, {"gcn", "255"},  {"sscc", "00"},   {"gdti", "253"},
        {"ginc", "401"},  {"gsin", "402"},  {"grai", "8003"}, {"giai", "8004"}, {"cpv", "22"},
        {"lot", "10"},    {"ser", "21"},    {"cpsn", "8011"}, {"glnx", "254"},  {"srin", "8019"},
        {"tpx", "235"},   {"gmn", "8013"},  {"payTo", "415"}, {"refno", "8020"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i][0][0] == s[0] && strlen(names[i][0]) == n && memcmp(names[i][0], s, n) == 0)
            return names[i][1];
    return NULL;
}

/* An AI row's code (NUL-padded char[5]) as one number, to compare codes. */
static uint32_t row_key(const char *c)
{
    return (uint32_t)(unsigned char)c[0] << 24 | (uint32_t)(unsigned char)c[1] << 16 |
           (uint32_t)(unsigned char)c[2] << 8 | (uint32_t)(unsigned char)c[3];
}

/* The AI a path segment names (digits or a short name), or NULL. Path
 * AIs are keys and qualifiers: single AIs, never rows of a range. */
static const tnt__ai *segment_ai(const char *s, size_t n)
{
    const tnt__ai *ai = tnt__ai_find(s, n);
    if (!ai) {
        const char *code = alpha_ai(s, n);
        ai = code ? tnt__ai_find(code, strlen(code)) : NULL;
    }
    return ai && row_key(ai->first) == row_key(ai->last) ? ai : NULL;
}

/* RFC 3986 characters (plus the " that GS1's grammar allows raw). */
static bool uri_char(unsigned char c) { return tnt__is(c, TNT__C_URI); }

/* Percent-decode s[0..n) into the AI list under code (spec: its row,
 * when the caller has looked it up already). */
static tnt__id_ai *add_decoded(tnt__idp *p, const char *code, size_t cn, const tnt__ai *spec, const char *s,
                               size_t n, size_t src)
{
    char ex[48];
    char *dst = tnt__id_reserve(p, n);
    if (!dst) {
        tnt__id_fail(p, TNT__ID_ERR_TOO_LONG, "identifier values exceed the buffer");
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        const char *pct = memchr(s + i, '%', n - i);
        size_t run = pct ? (size_t)(pct - (s + i)) : n - i;
        memcpy(dst + o, s + i, run);
        o += run;
        i += run;
        if (i == n)
            break;
        if (i + 2 >= n || tnt__hexval(s[i + 1]) < 0 || tnt__hexval(s[i + 2]) < 0) {
            tnt__id_fail(p, TNT__ID_ERR_ENCODING, "(%s) '%s': malformed percent-encoding at character %zu", code,
                         tnt__id_excerpt(ex, sizeof ex, s, n), i + 1);
            return NULL;
        }
        dst[o++] = (char)(tnt__hexval(s[i + 1]) * 16 + tnt__hexval(s[i + 2]));
        i += 3;
    }
    return spec ? tnt__id_push(p, spec, code, cn, o, src) : tnt__id_add_reserved(p, code, cn, o, src);
}

/* A GTIN-8/12/13 in the path becomes 14 digits when the caller allows it. */
static void widen_gtin(tnt__idp *p, tnt__id_ai *a)
{
    char *v = p->vals + a->off;
    size_t n = a->len;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return; /* the value check reports it */
    if ((n != 8 && n != 12 && n != 13) || !(p->flags & TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL))
        return; /* the value check reports the length */
    /* The value is the last one written: widen it in place. */
    size_t pad = 14 - n;
    if (p->vlen + pad > sizeof p->vals)
        return;
    memmove(v + pad, v, n + 1);
    memset(v, '0', pad);
    a->len = 14;
    p->vlen += pad;
}

typedef struct pair {
    const tnt__ai *ai;
    const char *code; /* AI digits */
    size_t code_len;
    unsigned num;     /* the same as a number */
    const char *v;    /* raw value */
    size_t n, src;
} pair;

/* Position of the last '/' in s[start..end), or SIZE_MAX. */
static size_t last_slash(const char *s, size_t start, size_t end)
{
    for (size_t i = end; i > start; i--)
        if (s[i - 1] == '/')
            return i - 1;
    return SIZE_MAX;
}

/* Reads the path s[start..end) back to the primary key: out[0] is the key,
 * then its qualifiers in path order. At most a key and 4 qualifiers. */
static size_t find_key(tnt__idp *p, const char *s, size_t start, size_t end, pair *out)
{
    pair rev[5];
    size_t np = 0, e = end;
    while (np < 5) {
        size_t vs = last_slash(s, start, e);
        if (vs == SIZE_MAX || vs == start)
            break;
        size_t cs = last_slash(s, start, vs);
        const tnt__ai *ai = segment_ai(s + cs + 1, vs - cs - 1);
        if (!ai)
            break;
        size_t cn = ai->first[2] ? ai->first[3] ? 4 : 3 : 2; /* codes have 2 to 4 digits */
        rev[np++] = (pair){ai, ai->first, cn, tnt__ai_num(ai->first, cn), s + vs + 1, e - vs - 1, vs + 1};
        if (ai->flags & TNT__AI_DLKEY) {
            for (size_t i = 0; i < np; i++)
                out[i] = rev[np - 1 - i];
            return np;
        }
        e = cs;
    }
    if (np)
        tnt__id_fail(p, TNT__ID_ERR_NO_PRIMARY_KEY, "no primary key before (%s) in the Digital Link path",
                     rev[np - 1].code);
    else
        tnt__id_fail(p, TNT__ID_ERR_NO_PRIMARY_KEY,
                     "no primary key in the Digital Link path (such as /01/{GTIN} or /00/{SSCC})");
    return 0;
}

static void parse_path(tnt__idp *p, const char *s, size_t start, size_t end)
{
    pair pr[5];
    size_t np = find_key(p, s, start, end, pr);
    if (!np)
        return;
    const char *key = pr[0].code;
    if (!tnt__id_is_key(pr[0].num)) {
        const tnt__ai *ai = tnt__ai_find(key, strlen(key));
        tnt__id_fail(p, TNT__ID_ERR_UNSUPPORTED_KEY, "(%s) %s is not an identifier EPCIS uses", key,
                     ai ? ai->title : "");
        return;
    }
    tnt__id_ai *a = add_decoded(p, key, pr[0].code_len, pr[0].ai, pr[0].v, pr[0].n, pr[0].src);
    if (!a)
        return;
    a->role = TNT__ROLE_KEY;
    if (pr[0].num == 1)
        widen_gtin(p, a);
    int prev = -1;
    for (size_t i = 1; i < np; i++) {
        int pos = tnt__id_qpos(pr[0].num, pr[i].num);
        if (pos < 0) {
            tnt__id_fail(p, TNT__ID_ERR_NOT_QUALIFIER,
                         "(%s) is not a key qualifier of (%s): data attributes belong in the query string",
                         pr[i].code, key);
            return;
        }
        if (prev >= 0 && (pos / 8 != prev / 8 || pos <= prev)) {
            tnt__id_fail(p, TNT__ID_ERR_QUALIFIER_ORDER, "(%s) cannot follow (%s) in the path of (%s)",
                         pr[i].code, pr[i - 1].code, key);
            return;
        }
        prev = pos;
        a = add_decoded(p, pr[i].code, pr[i].code_len, pr[i].ai, pr[i].v, pr[i].n, pr[i].src);
        if (!a)
            return;
        a->role = TNT__ROLE_QUALIFIER;
    }
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Query parameters: numeric names are AIs (data attributes), others are
 * ignored, as are parameters without a value. A key qualifier met here is
 * kept as a data attribute: it does not change what the URI identifies,
 * as in the EPCIS event-hash reference, which drops the query string. */
static void parse_query(tnt__idp *p, const char *s, size_t start, size_t end)
{
    char ex[48];
    for (size_t i = start; i < end;) {
        size_t j = i;
        while (j < end && s[j] != '&')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        size_t kn = eq ? (size_t)(eq - (s + i)) : 0;
        if (kn && all_digits(s + i, kn)) {
            if (kn < 2 || kn > 4) {
                tnt__id_fail(p, TNT__ID_ERR_UNKNOWN_AI, "unknown application identifier (%s) in the query string",
                             tnt__id_excerpt(ex, sizeof ex, s + i, kn));
            } else {
                char code[5] = {0};
                memcpy(code, s + i, kn);
                size_t vo = (size_t)(eq + 1 - s);
                add_decoded(p, code, kn, NULL, eq + 1, j - vo, vo);
            }
        }
        i = j + 1;
    }
}

void tnt__id_parse_dl(tnt__idp *p, const char *s, size_t n)
{
    size_t i;
    p->form = TNT_ID_FORM_DIGITAL_LINK;
    if (n >= 8 && (!memcmp(s, "https://", 8) || !memcmp(s, "HTTPS://", 8))) {
        i = 8;
    } else if (!memcmp(s, "http://", 7) || !memcmp(s, "HTTP://", 7)) {
        i = 7;
    } else {
        tnt__id_fail(p, TNT__ID_ERR_SYNTAX, "the scheme must be http:// or https://, all lower or all upper case");
        return;
    }
    /* Every character must be allowed in a URI; then find where the
     * fragment, the query and the path start. */
    size_t host = i;
    for (; i < n; i++)
        if (!uri_char((unsigned char)s[i])) {
            tnt__id_fail(p, TNT__ID_ERR_CHARSET, "byte 0x%02X at character %zu is not allowed in a URI",
                         (unsigned char)s[i], i + 1);
            return;
        }
    const char *hash = memchr(s + host, '#', n - host);
    size_t qe = hash ? (size_t)(hash - s) : n;
    const char *q = memchr(s + host, '?', qe - host);
    size_t qs = q ? (size_t)(q - s) + 1 : 0;
    const char *slash = memchr(s + host, '/', (q ? (size_t)(q - s) : qe) - host);
    size_t ps = slash ? (size_t)(slash - s) : 0;
    size_t pe = qs ? qs - 1 : qe;
    if (!ps)
        ps = pe; /* no path */
    if (ps == host) {
        tnt__id_fail(p, TNT__ID_ERR_SYNTAX, "the Digital Link URI has no domain");
        return;
    }
    if (pe - ps > 1 && s[pe - 1] == '/')
        pe--; /* one trailing slash is tolerated */
    parse_path(p, s, ps, pe);
    if (!p->nerr && qs && !(p->flags & TNT__ID_F_KEY_ONLY))
        parse_query(p, s, qs, qe);
}

/* ---- output ---- */

static void w_ai(tnt__w *w, const tnt__idp *p, const tnt__id_ai *a)
{
    char seg[7] = "/";
    size_t n = 1;
    while (a->code[n - 1])
        seg[n] = a->code[n - 1], n++;
    seg[n++] = '/';
    tnt__w_put(w, seg, n);
    tnt__w_pct(w, p->vals + a->off, a->len);
}

/* The qualifiers that identify: for GTIN and ITIP only the finest level
 * (serial, else TPX, else lot; never the CPV), for the other keys all of
 * them, except a GLN extension 0, which means "no extension". */
static bool identifying(const tnt__idp *p, const tnt__id_ai *a)
{
    unsigned key = p->ais[0].num;
    if (key == 1 || key == 8006) {
        unsigned best = 0;
        for (size_t i = 1; i < p->nais && p->ais[i].role == TNT__ROLE_QUALIFIER; i++) {
            unsigned q = p->ais[i].num;
            if (q == 21 || (q == 235 && best != 21) || (q == 10 && best == 0))
                best = q;
        }
        return a->num == best;
    }
    return !(a->num == 254 && a->len == 1 && p->vals[a->off] == '0');
}

size_t tnt__id_format_canonical(char *out, size_t cap, const tnt__idp *p)
{
    tnt__w w;
    tnt__w_init(&w, out, cap);
    if (p->nais == 0 || p->nerr) {
        w.over = true;
        return tnt__w_end(&w);
    }
    tnt__w_put(&w, "https://id.gs1.org", 18);
    w_ai(&w, p, &p->ais[0]);
    for (size_t i = 1; i < p->nais && p->ais[i].role == TNT__ROLE_QUALIFIER; i++)
        if (identifying(p, &p->ais[i]))
            w_ai(&w, p, &p->ais[i]);
    return tnt__w_end(&w);
}

bool tnt__id_dl_stem(const char *stem, size_t *len_out)
{
    size_t n = strlen(stem);
    size_t i = !strncmp(stem, "https://", 8) || !strncmp(stem, "HTTPS://", 8) ? 8
             : !strncmp(stem, "http://", 7) || !strncmp(stem, "HTTP://", 7)   ? 7
                                                                              : 0;
    if (!i || i == n)
        return false;
    for (size_t k = i; k < n; k++)
        if (!uri_char((unsigned char)stem[k]) || stem[k] == '?' || stem[k] == '#')
            return false;
    if (stem[i] == '/')
        return false; /* no domain */
    while (n > i && stem[n - 1] == '/')
        n--;
    *len_out = n;
    return true;
}

size_t tnt__id_format_dl(char *out, size_t cap, const tnt__idp *p, const char *stem, size_t stem_len)
{
    tnt__w w;
    tnt__w_init(&w, out, cap);
    if (p->nais == 0 || p->nerr) {
        w.over = true;
        return tnt__w_end(&w);
    }
    if (stem)
        tnt__w_put(&w, stem, stem_len);
    else
        tnt__w_str(&w, "https://id.gs1.org");
    w_ai(&w, p, &p->ais[0]);
    size_t i = 1;
    for (; i < p->nais && p->ais[i].role == TNT__ROLE_QUALIFIER; i++)
        w_ai(&w, p, &p->ais[i]);
    for (char sep = '?'; i < p->nais; i++, sep = '&') {
        tnt__w_put(&w, &sep, 1);
        tnt__w_str(&w, p->ais[i].code);
        tnt__w_put(&w, "=", 1);
        tnt__w_pct(&w, p->vals + p->ais[i].off, p->ais[i].len);
    }
    return tnt__w_end(&w);
}
