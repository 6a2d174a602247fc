/* The GS1 EPCIS canonical event hash (CBV 2.0 section 8.9):
 *   ni:///sha-256;<lower-case hex of SHA-256(pre-hash string)>?ver=CBV2.0
 *
 * The pre-hash string follows the reference implementation
 * (epcis-event-hash-generator) byte for byte on every published example:
 *   "eventType=" type, then the ORDERED part (the standard fields in the
 *   canonical property order, same-name siblings sorted), then the
 *   REMAINDER (bizTransactionList, sourceList, destinationList, ilmd, user
 *   extensions and anything the ordered part left over), rendered
 *   generically and sorted. Values are trimmed and canonicalised: CBV URNs
 *   to Web URIs, numbers to their shortest form, GS1 identifiers to
 *   canonical Digital Links; times to UTC milliseconds.
 *
 * Where the reference fails (an entry of bizTransactionList without a type,
 * a time that rounds to 1000 ms, ...) it returns nothing; this port gives
 * the natural answer instead. docs/event-hash.md lists these choices. */
#include <float.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids/ids.h"
#include "ingest/cbv.h"
#include "ingest/pipeline.h"

typedef struct H {
    tnt__arena *a;
    const tnt_event *ev;
    const tnt__idmemo *ids_seen; /* identifiers validation parsed; may be NULL */
    bool oom;
} H;

/* ---- pieces of the pre-hash string, in the scratch arena ----
 * Each piece carries its length, so gluing them never measures them again.
 * s == NULL is "nothing": a field left out. Values (what value() returns)
 * are NUL-terminated at n; names need not be. */

typedef struct str {
    const char *s;
    size_t n;
} str;

#define LIT(lit) ((str){lit, sizeof lit - 1})
static const str NONE = {NULL, 0};

static str cstr(const char *s) { return s ? (str){s, strlen(s)} : NONE; }

typedef struct strs {
    str *v;
    size_t n, cap;
} strs;

static void push(H *h, strs *l, str s)
{
    if (!s.s)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        str *v = tnt__arena_alloc(h->a, cap * sizeof *v);
        if (!v) {
            h->oom = true;
            return;
        }
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
}

/* The order of strcmp: the pieces hold no NUL. */
static int order(str a, str b)
{
    int c = memcmp(a.s, b.s, a.n < b.n ? a.n : b.n);
    return c ? c : (a.n > b.n) - (a.n < b.n);
}

static int cmp(const void *a, const void *b) { return order(*(const str *)a, *(const str *)b); }

/* Most lists have a few items (an insertion sort is quickest there); an
 * epcList may have thousands. Equal items are equal text, so the sort need
 * not be stable. */
static void sort(strs *l)
{
    if (l->n > 16) {
        qsort(l->v, l->n, sizeof *l->v, cmp);
        return;
    }
    for (size_t i = 1; i < l->n; i++) {
        str x = l->v[i];
        size_t j = i;
        for (; j > 0 && order(l->v[j - 1], x) > 0; j--)
            l->v[j] = l->v[j - 1];
        l->v[j] = x;
    }
}

/* Room for n bytes and a NUL. */
static char *room(H *h, size_t n)
{
    char *s = tnt__arena_alloc(h->a, n + 1);
    if (!s)
        h->oom = true;
    return s;
}

static str copy(H *h, const char *s, size_t n)
{
    char *t = room(h, n);
    if (!t)
        return NONE;
    memcpy(t, s, n);
    t[n] = '\0';
    return (str){t, n};
}

/* prefix ⧺ the items (sorted when asked); never nothing, even when empty. */
static str join(H *h, str prefix, strs *l, bool sorted)
{
    if (sorted && l->n > 1)
        sort(l);
    size_t len = prefix.n;
    for (size_t i = 0; i < l->n; i++)
        len += l->v[i].n;
    char *s = room(h, len), *p = s;
    if (!s)
        return NONE;
    if (prefix.n)
        p = (char *)memcpy(p, prefix.s, prefix.n) + prefix.n;
    for (size_t i = 0; i < l->n; i++)
        p = (char *)memcpy(p, l->v[i].s, l->v[i].n) + l->v[i].n;
    *p = '\0';
    return (str){s, len};
}

/* a ⧺ b ⧺ c, where b and c may be nothing. */
static str cat3(H *h, str a, str b, str c)
{
    char *s = room(h, a.n + b.n + c.n);
    if (!s)
        return NONE;
    memcpy(s, a.s, a.n);
    if (b.n)
        memcpy(s + a.n, b.s, b.n);
    if (c.n)
        memcpy(s + a.n + b.n, c.s, c.n);
    s[a.n + b.n + c.n] = '\0';
    return (str){s, a.n + b.n + c.n};
}

/* name=value */
static str pair(H *h, str name, const char *v, size_t n) { return cat3(h, name, LIT("="), (str){v, n}); }

/* ---- value canonicalisation ---- */

/* Length of a Python str.strip() whitespace character at p, else 0. */
static size_t space_at(const unsigned char *p)
{
    if (*p == ' ' || (*p >= '\t' && *p <= '\r') || (*p >= 0x1c && *p <= 0x1f))
        return 1;
    if (p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2;
    if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
        return 3; /* U+1680 */
    if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
        return 3; /* U+2000..200A, 2028, 2029, 202F */
    if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
        return 3; /* U+205F */
    if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
        return 3; /* U+3000 */
    return 0;
}

static size_t space_before(const unsigned char *start, const unsigned char *end)
{
    for (size_t k = 1; k <= 3 && end - k >= start; k++)
        if (space_at(end - k) == k)
            return k;
    return 0;
}

/* s without Python's whitespace around it (s is NUL-terminated at n). */
static str trim(H *h, str s)
{
    const unsigned char *b = (const unsigned char *)s.s, *e = b + s.n;
    size_t k;
    while (b < e && (k = space_at(b)))
        b += k;
    while (e > b && (k = space_before(b, e)))
        e -= k;
    if (b == (const unsigned char *)s.s && e == b + s.n)
        return s;
    return copy(h, (const char *)b, (size_t)(e - b));
}

/* Python's float() syntax: [+-]? (d[.d] | .d | d.) ([eE][+-]?d)?, digits may hold single '_'. */
static bool digits(const char **p)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    while ((*s >= '0' && *s <= '9') || (*s == '_' && s[1] >= '0' && s[1] <= '9'))
        s++;
    *p = s;
    return true;
}

static bool float_syntax(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    bool ip = digits(&s), fp = false;
    if (*s == '.') {
        s++;
        fp = digits(&s);
    }
    if (!ip && !fp)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!digits(&s))
            return false;
    }
    return *s == '\0';
}

/* Decimal digits of v at p; returns the end. */
static char *put_uint(char *p, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static const double pow10[] = {1e0, 1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                               1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};

/* The fewest decimal places k at which a decimal m / 10^k reads back as x,
 * by scaling: while |x| * 10^k < 2^40, the one candidate is the nearest
 * integer m, and m / 10^k is what strtod makes of its text (both exact
 * before one correct rounding). Shortest in places is shortest in digits,
 * and the candidate is the correctly rounded one, so this is the answer
 * of the search below. False when x is too large or too fine for it. */
static bool shortest_scaled(double x, char dig[24], size_t *nd, int *exp)
{
    double a = fabs(x);
    for (int k = 1; k < 18 && a * pow10[k] < 0x1p40; k++) {
        double m = nearbyint(a * pow10[k]);
        if (m / pow10[k] != a)
            continue;
        *nd = (size_t)(put_uint(dig, (uint64_t)m) - dig);
        *exp = (int)*nd - 1 - k;
        return true;
    }
    return false;
}

/* The shortest correctly rounded digits that read back as x, by trying
 * %.*e. Any decimal of up to 15 digits comes back from a normal double
 * unchanged (DBL_DIG), so when 15 digits read back the shortest is those
 * without trailing zeros; otherwise it has 16 or 17. Subnormals have less
 * precision: they try every length. */
static void shortest_printed(double x, char dig[24], size_t *nd, int *exp)
{
    char e[40];
    int p = fabs(x) >= DBL_MIN ? 14 : 0;
    for (; p < 17; p++) {
        snprintf(e, sizeof e, "%.*e", p, x);
        if (strtod(e, NULL) == x)
            break;
    }
    char *ep = strchr(e, 'e');
    *exp = atoi(ep + 1);
    *nd = 0;
    for (const char *c = e; c < ep; c++)
        if (*c >= '0' && *c <= '9')
            dig[(*nd)++] = *c;
    while (*nd > 1 && dig[*nd - 1] == '0')
        (*nd)--;
}

/* Python's repr() of a non-integral double: the shortest digits that read
 * back, fixed notation for 1e-4 <= |x| < 1e16, else d.ddde-XX. */
static size_t py_repr(char *out, double x)
{
    char dig[24];
    size_t nd;
    int exp;
    if (!shortest_scaled(x, dig, &nd, &exp))
        shortest_printed(x, dig, &nd, &exp);
    char *p = out;
    if (x < 0)
        *p++ = '-';
    if (exp < -4 || exp >= 16) {
        *p++ = dig[0];
        if (nd > 1) {
            *p++ = '.';
            p = (char *)memcpy(p, dig + 1, nd - 1) + nd - 1;
        }
        *p++ = 'e';
        *p++ = exp < 0 ? '-' : '+';
        unsigned ae = (unsigned)abs(exp);
        if (ae < 10)
            *p++ = '0';
        p = put_uint(p, ae);
    } else if (exp < 0) {
        *p++ = '0';
        *p++ = '.';
        for (int i = -1; i > exp; i--)
            *p++ = '0';
        p = (char *)memcpy(p, dig, nd) + nd;
    } else {
        size_t ni = (size_t)exp + 1;
        for (size_t i = 0; i < ni; i++)
            *p++ = i < nd ? dig[i] : '0';
        *p++ = '.';
        if (ni < nd)
            p = (char *)memcpy(p, dig + ni, nd - ni) + nd - ni;
        else
            *p++ = '0';
    }
    *p = '\0';
    return (size_t)(p - out);
}

/* Room for any double as a decimal integer (DBL_MAX has 309 digits). */
#define NUM_CAP 400

/* Integral without libm: every double of magnitude 2^52 or more is one. */
static bool integral(double x) { return fabs(x) >= 0x1p52 || x == (double)(int64_t)x; }

/* A finite double in its canonical text: the exact integer, else Python's
 * repr. Returns the length. */
static size_t num_canon(char *out, size_t cap, double x)
{
    if (x == 0) /* -0 too */
        return (size_t)(stpcpy(out, "0") - out);
    if (integral(x) && fabs(x) < 0x1p63) {
        char *p = out;
        if (x < 0)
            *p++ = '-';
        p = put_uint(p, (uint64_t)fabs(x));
        *p = '\0';
        return (size_t)(p - out);
    }
    if (integral(x))
        return (size_t)snprintf(out, cap, "%.0f", x);
    return py_repr(out, x);
}

/* A number in its canonical text (length returned); 0 when the text is
 * not a number. */
static size_t number_text(char *out, size_t cap, str s)
{
    if (!float_syntax(s.s) || s.n > 300)
        return 0;
    char clean[320];
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++)
        if (s.s[i] != '_')
            clean[n++] = s.s[i];
    clean[n] = '\0';
    double x = strtod(clean, NULL);
    if (!isfinite(x))
        return 0; /* the reference gives up on infinities; keep the text */
    return num_canon(out, cap, x);
}

static bool starts(str s, const char *lit, size_t n) { return s.n >= n && memcmp(s.s, lit, n) == 0; }

/* Whether s holds a CBV URN: a search for its 'u's, quicker on short values
 * than strstr (glibc's generic two-way search), and every value asks. */
static bool has_cbv_urn(str s)
{
    static const char urn[] = "urn:epcglobal:cbv:";
    const char *end = s.s + s.n;
    for (const char *u = memchr(s.s, 'u', s.n); u && (size_t)(end - u) >= sizeof urn - 1;
         u = memchr(u + 1, 'u', (size_t)(end - u - 1)))
        if (memcmp(u, urn, sizeof urn - 1) == 0)
            return true;
    return false;
}

/* CBV URNs to Web URIs, in one pass: a value may hold thousands of them.
 * The reference replaces each vocabulary's prefix in turn; no Web URI
 * holds a 'u', so no replacement makes or breaks another match, and one
 * pass gives the same text. */
static str cbv_urns_to_web(H *h, str s)
{
    static const char urn[] = "urn:epcglobal:cbv:";
    static const struct {
        const char *tail, *web;
        size_t tn, wn;
    } voc[] = {{"bizstep:", "https://ref.gs1.org/cbv/BizStep-", 8, 32},
               {"disp:", "https://ref.gs1.org/cbv/Disp-", 5, 29},
               {"btt:", "https://ref.gs1.org/cbv/BTT-", 4, 28},
               {"sdt:", "https://ref.gs1.org/cbv/SDT-", 4, 28},
               {"er:", "https://ref.gs1.org/cbv/ER-", 3, 27}};
    const size_t un = sizeof urn - 1;
    char *out = room(h, s.n + (s.n / (un + 3) + 1) * 6), *p = out; /* each match grows by 6 bytes */
    if (!out)
        return NONE;
    const char *c = s.s, *end = s.s + s.n;
    while (c < end) {
        size_t i = sizeof voc / sizeof voc[0];
        if ((size_t)(end - c) > un && memcmp(c, urn, un) == 0)
            for (i = 0; i < sizeof voc / sizeof voc[0]; i++)
                if ((size_t)(end - c - un) >= voc[i].tn && memcmp(c + un, voc[i].tail, voc[i].tn) == 0)
                    break;
        if (i < sizeof voc / sizeof voc[0]) {
            p = (char *)memcpy(p, voc[i].web, voc[i].wn) + voc[i].wn;
            c += un + voc[i].tn;
        } else {
            *p++ = *c++;
        }
    }
    *p = '\0';
    return (str){out, (size_t)(p - out)};
}

/* canon(): CBV URNs to Web URIs, numbers, GS1 identifiers. */
static str canon(H *h, str s)
{
    if (has_cbv_urn(s) && !(s = cbv_urns_to_web(h, s)).s)
        return NONE;
    char num[NUM_CAP];
    size_t n = number_text(num, sizeof num, s);
    if (n)
        return copy(h, num, n);
    if (memchr(s.s, '.', s.n) && (starts(s, "urn:epc:", 8) || starts(s, "http", 4))) {
        /* A valid identifier has the same canonical form in this lenient parse. */
        const char *known;
        if (tnt__idmemo_get(h->ids_seen, s.s, &known) && known)
            return cstr(known);
        char dl[TNT__ID_CANONICAL_CAP];
        if ((n = tnt__id_canonical(dl, sizeof dl, s.s, s.n)))
            return copy(h, dl, n);
    }
    return s;
}

/* "prefix:rest" with a declared prefix -> IRI + rest (values) or {IRI}rest (keys). */
static const char *declared(const H *h, const char *s, size_t len)
{
    for (uint32_t i = h->ev->n_prefixes; i-- > 0;)
        if (tnt__streq_n(h->ev->prefixes[i].prefix, s, len))
            return h->ev->prefixes[i].iri;
    return NULL;
}

static str expand_value(H *h, str s)
{
    const char *colon = h->ev->n_prefixes ? memchr(s.s, ':', s.n) : NULL;
    const char *iri = colon ? declared(h, s.s, (size_t)(colon - s.s)) : NULL;
    if (!iri)
        return s;
    const char *rest = colon + 1;
    return cat3(h, cstr(iri), (str){rest, (size_t)(s.s + s.n - rest)}, NONE);
}

static str key_name(H *h, const char *key)
{
    const char *colon = strchr(key, ':');
    const char *iri = colon ? declared(h, key, (size_t)(colon - key)) : NULL;
    if (!iri)
        return cstr(key);
    str braced = cat3(h, LIT("{"), cstr(iri), LIT("}"));
    return braced.s ? cat3(h, braced, cstr(colon + 1), NONE) : NONE;
}

/* The full text of a value: expanded, trimmed, canonical. */
static str value(H *h, const char *raw)
{
    str s = expand_value(h, cstr(raw));
    s = s.s ? trim(h, s) : NONE;
    return s.s ? canon(h, s) : NONE;
}

/* name=value, or nothing when the value is empty (dropped in the ordered part). */
static str leaf(H *h, str name, const char *raw)
{
    if (!raw)
        return NONE;
    str v = value(h, raw);
    return v.n ? pair(h, name, v.s, v.n) : NONE;
}

/* A vocabulary field: a bare term of the vocabulary becomes its Web URI. */
static str vocab_leaf(H *h, str name, int voc, const char *raw)
{
    if (!raw)
        return NONE;
    const char *bare;
    char uri[160];
    size_t n;
    if (tnt__cbv_lookup(voc, raw, &bare) == TNT__CBV_STANDARD && strcmp(bare, raw) == 0 &&
        (n = tnt__cbv_web_uri(uri, sizeof uri, voc, bare)))
        return pair(h, name, uri, n);
    return leaf(h, name, raw);
}

static str time_leaf(H *h, str name, const tnt__time *t)
{
    if (!t->set)
        return NONE;
    char buf[40];
    return pair(h, name, buf, tnt__time_format(buf, t, true));
}

static str num_leaf(H *h, str name, double v)
{
    char buf[NUM_CAP];
    if (!isfinite(v)) /* only a protobuf event can hold one; the reference has no answer */
        return pair(h, name, v != v ? "nan" : v < 0 ? "-inf" : "inf", v != v ? 3 : v < 0 ? 4 : 3);
    return pair(h, name, buf, num_canon(buf, sizeof buf, v));
}

/* ---- generic rendering: extensions, ilmd, the remainder ---- */

static bool dropped_key(const char *k)
{
    return strcmp(k, "rdfs:comment") == 0 || strcmp(k, "comment") == 0 || strcmp(k, "#text") == 0 ||
           strncmp(k, "@xmlns", 6) == 0;
}

static str gen_value(H *h, str name, const tnt__node *v);

static bool ends_with_list(str name) { return name.n > 4 && memcmp(name.s + name.n - 4, "List", 4) == 0; }

/* The renders of one object member (an array gives one per item). */
static void gen_member(H *h, strs *out, const tnt__node *m)
{
    if (dropped_key(m->key))
        return;
    str name = key_name(h, m->key);
    if (!name.s)
        return;
    if (ends_with_list(name)) { /* "{ns}fooList": items named "{ns}foo", grouped */
        str item = {name.s, name.n - 4};
        strs items = {0};
        if (m->kind == TNT__N_ARRAY)
            for (const tnt__node *e = m->child; e; e = e->next)
                push(h, &items, gen_value(h, item, e));
        else
            push(h, &items, gen_value(h, item, m));
        if (items.n)
            push(h, out, join(h, name, &items, true));
        return;
    }
    if (m->kind == TNT__N_ARRAY) {
        for (const tnt__node *e = m->child; e; e = e->next)
            push(h, out, gen_value(h, name, e));
        return;
    }
    push(h, out, gen_value(h, name, m));
}

static const char *scalar_text(const tnt__node *v)
{
    switch (v->kind) {
    case TNT__N_NULL: return "None";
    case TNT__N_TRUE: return "True";
    case TNT__N_FALSE: return "False";
    default: return v->str ? v->str : "";
    }
}

static str gen_value(H *h, str name, const tnt__node *v)
{
    if (v->kind == TNT__N_OBJECT) {
        strs kids = {0};
        for (const tnt__node *m = v->child; m; m = m->next)
            gen_member(h, &kids, m);
        return join(h, name, &kids, true);
    }
    if (v->kind == TNT__N_ARRAY) { /* an array inside an array: items named by their type, or "" */
        strs kids = {0};
        for (const tnt__node *e = v->child; e; e = e->next) {
            const tnt__node *t = e->kind == TNT__N_OBJECT ? tnt__node_get(e, "type") : NULL;
            push(h, &kids, gen_value(h, t && t->kind == TNT__N_STRING ? cstr(t->str) : LIT(""), e));
        }
        return join(h, name, &kids, true);
    }
    str t = value(h, scalar_text(v));
    if (!t.s)
        return NONE;
    return t.n ? pair(h, name, t.s, t.n) : cat3(h, name, NONE, NONE);
}

/* ---- containers with extensions (readPoint, sensorReport, ...) ---- */

/* An empty array is no node at all: the reference's tree has nothing for it. */
static bool no_node(const tnt__node *m) { return m->kind == TNT__N_ARRAY && !m->count; }

/* Nodes an extension object adds to its parent (array items count one each). */
static size_t ext_nodes(H *h, const tnt__node *ext)
{
    size_t n = 0;
    for (const tnt__node *m = ext ? ext->child : NULL; m; m = m->next) {
        if (dropped_key(m->key) || no_node(m))
            continue;
        str name = key_name(h, m->key);
        n += m->kind == TNT__N_ARRAY && !(name.s && ends_with_list(name)) ? m->count : 1;
    }
    return n;
}

/* Split a container's extensions: the ones rendered inline after its fields
 * (namespaced with an IRI ending in '/', when the container has at least two
 * children and none of them is named like eventTime or action), and the ones
 * left over for the remainder. */
static void split_ext(H *h, const tnt__node *ext, size_t fields, strs *inline_out, strs *left_out)
{
    if (!ext)
        return;
    bool extract = fields + ext_nodes(h, ext) >= 2;
    for (const tnt__node *m = ext->child; m && extract; m = m->next) {
        str name = no_node(m) ? NONE : key_name(h, m->key);
        if (name.s && (strstr(name.s, "eventTime") || strstr(name.s, "action")))
            extract = false;
    }
    for (const tnt__node *m = ext->child; m; m = m->next) {
        str name = key_name(h, m->key);
        bool in = extract && name.s && name.s[0] == '{' && strstr(name.s, "/}");
        gen_member(h, in ? inline_out : left_out, m);
    }
}

/* name ⧺ fields ⧺ inline extensions; leftovers go to *left as name ⧺ sorted.
 * nchildren counts the container's children other than its extensions. */
static str container(H *h, str name, strs *fields, size_t nchildren, const tnt__node *ext, strs *leftover,
                     str *left)
{
    strs in = {0};
    split_ext(h, ext, nchildren, &in, leftover);
    *left = leftover->n ? join(h, name, leftover, true) : NONE;
    if (in.n > 1)
        sort(&in);
    size_t len = 0; /* nothing when the fields and the extensions are all empty */
    for (size_t i = 0; i < fields->n; i++)
        len += fields->v[i].n;
    for (size_t i = 0; i < in.n; i++) {
        len += in.v[i].n;
        push(h, fields, in.v[i]);
    }
    return len ? join(h, name, fields, false) : NONE;
}

/* ---- the ordered part ---- */

/* list ⧺ the sorted item=value of the non-empty values. The items share
 * their "item=", so the values sort as the items would, and each item is
 * written once, into the list. */
static str sorted_leaves(H *h, str list, str item, const tnt__strs *v)
{
    strs vals = {0};
    size_t len = list.n;
    for (uint32_t i = 0; i < v->n; i++) {
        str x = v->v[i] ? value(h, v->v[i]) : NONE;
        if (x.n) {
            push(h, &vals, x);
            len += item.n + 1 + x.n;
        }
    }
    if (!vals.n)
        return NONE;
    sort(&vals);
    char *s = room(h, len), *p = s;
    if (!s)
        return NONE;
    p = (char *)memcpy(p, list.s, list.n) + list.n;
    for (size_t i = 0; i < vals.n; i++) {
        p = (char *)memcpy(p, item.s, item.n) + item.n;
        *p++ = '=';
        p = (char *)memcpy(p, vals.v[i].s, vals.v[i].n) + vals.v[i].n;
    }
    *p = '\0';
    return (str){s, len};
}

static str qty_list(H *h, str list, const tnt__qtys *q, strs *remainder)
{
    strs items = {0}, lefts = {0};
    for (uint32_t i = 0; i < q->n; i++) {
        strs f = {0}, leftover = {0};
        str left;
        push(h, &f, leaf(h, LIT("epcClass"), q->v[i].epc_class));
        if (q->v[i].has_quantity)
            push(h, &f, num_leaf(h, LIT("quantity"), q->v[i].quantity));
        push(h, &f, leaf(h, LIT("uom"), q->v[i].uom));
        push(h, &items, container(h, LIT("quantityElement"), &f, f.n, q->v[i].ext, &leftover, &left));
        push(h, &lefts, left);
    }
    if (lefts.n)
        push(h, remainder, join(h, list, &lefts, true));
    return items.n ? join(h, list, &items, true) : NONE;
}

static str place(H *h, str name, const char *id, const tnt__node *ext, strs *remainder)
{
    strs f = {0}, leftover = {0};
    str left;
    push(h, &f, leaf(h, LIT("id"), id));
    str s = container(h, name, &f, id ? 1 : 0, ext, &leftover, &left);
    push(h, remainder, left);
    return s;
}

static str sensor_report(H *h, const tnt__sreport *r, str *left)
{
    static const str numk[TNT__SR_NUMS] = {LIT("value"), LIT("minValue"), LIT("maxValue"), LIT("meanValue"),
                                           LIT("sDev"),  LIT("percRank"), LIT("percValue")};
    strs f = {0}, leftover = {0};
    size_t n0;
#define NUM(i)                                                                                                         \
    if ((r->has_num >> (i)) & 1)                                                                                       \
        push(h, &f, num_leaf(h, numk[i], r->num[i]));
    push(h, &f, vocab_leaf(h, LIT("type"), TNT__V_MEASURE, r->type));
    push(h, &f, vocab_leaf(h, LIT("exception"), TNT__V_ALERT, r->exception));
    push(h, &f, leaf(h, LIT("deviceID"), r->device_id));
    push(h, &f, leaf(h, LIT("deviceMetadata"), r->device_metadata));
    push(h, &f, leaf(h, LIT("rawData"), r->raw_data));
    push(h, &f, leaf(h, LIT("dataProcessingMethod"), r->data_processing_method));
    push(h, &f, time_leaf(h, LIT("time"), &r->time));
    push(h, &f, leaf(h, LIT("microorganism"), r->microorganism));
    push(h, &f, leaf(h, LIT("chemicalSubstance"), r->chemical_substance));
    NUM(TNT__SR_VALUE)
    push(h, &f, vocab_leaf(h, LIT("component"), TNT__V_COMPONENT, r->component));
    push(h, &f, leaf(h, LIT("stringValue"), r->string_value));
    if (r->boolean_value >= 0)
        push(h, &f, r->boolean_value ? LIT("booleanValue=True") : LIT("booleanValue=False"));
    push(h, &f, leaf(h, LIT("hexBinaryValue"), r->hex_binary_value));
    push(h, &f, leaf(h, LIT("uriValue"), r->uri_value));
    for (int i = TNT__SR_MIN; i < TNT__SR_NUMS; i++)
        NUM(i)
    push(h, &f, leaf(h, LIT("uom"), r->uom));
    push(h, &f, leaf(h, LIT("coordinateReferenceSystem"), r->coordinate_reference_system));
#undef NUM
    n0 = f.n;
    /* bizRules is no field of the canonical order: it is left over. */
    push(h, &leftover, leaf(h, LIT("bizRules"), r->biz_rules));
    return container(h, LIT("sensorReport"), &f, n0 + leftover.n, r->ext, &leftover, left);
}

static str sensor_meta(H *h, const tnt__smeta *m, str *left)
{
    strs f = {0}, leftover = {0};
    push(h, &f, time_leaf(h, LIT("time"), &m->time));
    push(h, &f, time_leaf(h, LIT("startTime"), &m->start_time));
    push(h, &f, time_leaf(h, LIT("endTime"), &m->end_time));
    push(h, &f, leaf(h, LIT("deviceID"), m->device_id));
    push(h, &f, leaf(h, LIT("deviceMetadata"), m->device_metadata));
    push(h, &f, leaf(h, LIT("rawData"), m->raw_data));
    push(h, &f, leaf(h, LIT("dataProcessingMethod"), m->data_processing_method));
    push(h, &f, leaf(h, LIT("bizRules"), m->biz_rules));
    return container(h, LIT("sensorMetadata"), &f, f.n, m->ext, &leftover, left);
}

static str sensors(H *h, const tnt_event *ev, strs *remainder)
{
    strs elems = {0}, elem_lefts = {0};
    for (uint32_t i = 0; i < ev->n_sensors; i++) {
        const tnt__sensor *s = &ev->sensors[i];
        strs f = {0}, reports = {0}, leftover = {0};
        str left = NONE;
        if (s->has_meta) {
            push(h, &f, sensor_meta(h, &s->meta, &left));
            push(h, &leftover, left);
        }
        for (uint32_t j = 0; j < s->n_reports; j++) {
            push(h, &reports, sensor_report(h, &s->reports[j], &left));
            push(h, &leftover, left);
        }
        push(h, &f, join(h, NONE, &reports, true));
        size_t children = (s->has_meta ? 1 : 0) + s->n_reports;
        push(h, &elems, container(h, LIT("sensorElement"), &f, children, s->ext, &leftover, &left));
        push(h, &elem_lefts, left);
    }
    if (elem_lefts.n)
        push(h, remainder, join(h, LIT("sensorElementList"), &elem_lefts, true));
    return elems.n ? join(h, LIT("sensorElementList"), &elems, true) : NONE;
}

/* ---- the remainder's lists of pairs ---- */

static str pairs(H *h, str list, str value_key, int voc, const tnt__refs *r)
{
    strs items = {0};
    for (uint32_t i = 0; i < r->n; i++) {
        str t = r->v[i].type ? vocab_leaf(h, LIT("type"), voc, r->v[i].type) : NONE;
        str v = leaf(h, value_key, r->v[i].value);
        push(h, &items, cat3(h, t.s ? t : LIT(""), v, NONE));
    }
    return items.n ? join(h, list, &items, true) : NONE;
}

static bool ignored(const tnt__pipeline *p, H *h, const char *key)
{
    for (size_t i = 0; p && i < p->nignore; i++) {
        if (strcmp(p->ignore[i], key) == 0)
            return true;
        str a = key_name(h, p->ignore[i]), b = key_name(h, key);
        if (a.s && b.s && order(a, b) == 0)
            return true;
    }
    return false;
}

static str prehash(H *h, const tnt__pipeline *p)
{
    const tnt_event *ev = h->ev;
    strs o = {0}, rem = {0};
    push(h, &o, cat3(h, LIT("eventType="), cstr(tnt_event_type_name(ev->type)), NONE));
    push(h, &o, time_leaf(h, LIT("eventTime"), &ev->event_time));
    push(h, &o, leaf(h, LIT("eventTimeZoneOffset"), ev->event_time_zone_offset));
    {
        strs c = {0};
        for (uint32_t i = 0; i < ev->certification_info.n; i++)
            push(h, &c, leaf(h, LIT("certificationInfo"), ev->certification_info.v[i]));
        push(h, &o, c.n ? join(h, NONE, &c, true) : NONE);
    }
    push(h, &o, leaf(h, LIT("parentID"), ev->parent_id));
    push(h, &o, sorted_leaves(h, LIT("epcList"), LIT("epc"), &ev->epc_list));
    push(h, &o, sorted_leaves(h, LIT("inputEPCList"), LIT("epc"), &ev->input_epcs));
    push(h, &o, sorted_leaves(h, LIT("childEPCs"), LIT("epc"), &ev->child_epcs));
    push(h, &o, qty_list(h, LIT("quantityList"), &ev->quantity_list, &rem));
    push(h, &o, qty_list(h, LIT("childQuantityList"), &ev->child_quantity_list, &rem));
    push(h, &o, qty_list(h, LIT("inputQuantityList"), &ev->input_quantity_list, &rem));
    push(h, &o, sorted_leaves(h, LIT("outputEPCList"), LIT("epc"), &ev->output_epcs));
    push(h, &o, qty_list(h, LIT("outputQuantityList"), &ev->output_quantity_list, &rem));
    static const str actions[] = {{NULL, 0}, LIT("action=ADD"), LIT("action=OBSERVE"), LIT("action=DELETE")};
    if (ev->action && ev->action <= TNT_ACTION_DELETE)
        push(h, &o, actions[ev->action]);
    push(h, &o, leaf(h, LIT("transformationID"), ev->transformation_id));
    push(h, &o, vocab_leaf(h, LIT("bizStep"), TNT__V_BIZSTEP, ev->biz_step));
    push(h, &o, vocab_leaf(h, LIT("disposition"), TNT__V_DISP, ev->disposition));
    if (ev->has_pd) {
        strs set = {0}, unset = {0};
        for (uint32_t i = 0; i < ev->pd_set.n; i++)
            push(h, &set, vocab_leaf(h, LIT("set"), TNT__V_DISP, ev->pd_set.v[i]));
        for (uint32_t i = 0; i < ev->pd_unset.n; i++)
            push(h, &unset, vocab_leaf(h, LIT("unset"), TNT__V_DISP, ev->pd_unset.v[i]));
        str s1 = join(h, NONE, &set, true), s2 = join(h, NONE, &unset, true);
        if (s1.s && s2.s && (s1.n || s2.n))
            push(h, &o, cat3(h, LIT("persistentDisposition"), s1, s2));
    }
    push(h, &o, place(h, LIT("readPoint"), ev->read_point, ev->read_point_ext, &rem));
    push(h, &o, place(h, LIT("bizLocation"), ev->biz_location, ev->biz_location_ext, &rem));
    push(h, &o, sensors(h, ev, &rem));

    push(h, &rem, pairs(h, LIT("bizTransactionList"), LIT("bizTransaction"), TNT__V_BTT, &ev->biz_transactions));
    push(h, &rem, pairs(h, LIT("sourceList"), LIT("source"), TNT__V_SDT, &ev->sources));
    push(h, &rem, pairs(h, LIT("destinationList"), LIT("destination"), TNT__V_SDT, &ev->destinations));
    if (ev->ilmd || (ev->present & TNT__P_ILMD)) {
        strs kids = {0};
        for (const tnt__node *m = ev->ilmd ? ev->ilmd->child : NULL; m; m = m->next)
            gen_member(h, &kids, m);
        push(h, &rem, join(h, LIT("ilmd"), &kids, true));
    }
    for (const tnt__node *m = ev->ext ? ev->ext->child : NULL; m; m = m->next)
        if (!ignored(p, h, m->key))
            gen_member(h, &rem, m);
    push(h, &o, join(h, NONE, &rem, true));
    return join(h, NONE, &o, false);
}

char *tnt__hash_prehash(const tnt_event *ev)
{
    tnt__arena a;
    tnt__arena_init(&a, 0);
    H h = {&a, ev, NULL, false};
    locale_t old = tnt__c_numeric_begin();
    str s = prehash(&h, NULL);
    tnt__c_numeric_end(old);
    char *out = s.s && !h.oom ? tnt__strndup(s.s, s.n) : NULL;
    tnt__arena_destroy(&a);
    return out;
}

/* OpenSSL 3's one-shot SHA256() fetches the algorithm and allocates a
 * context on every call, a fifth of the cost of hashing a 1 KB string; a
 * reader fetches it once and reuses one context. */
struct tnt__sha256 {
    EVP_MD *md;
    EVP_MD_CTX *ctx;
};

tnt__sha256 *tnt__sha256_new(void)
{
    tnt__sha256 *s = tnt__malloc(sizeof *s);
    if (!s)
        return NULL;
    s->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    s->ctx = EVP_MD_CTX_new();
    if (!s->md || !s->ctx) {
        tnt__sha256_free(s);
        return NULL;
    }
    return s;
}

void tnt__sha256_free(tnt__sha256 *s)
{
    if (!s)
        return;
    EVP_MD_CTX_free(s->ctx);
    EVP_MD_free(s->md);
    tnt__free(s);
}

static bool sha256(tnt__sha256 *s, const char *data, size_t n, unsigned char md[SHA256_DIGEST_LENGTH])
{
    if (!s)
        return tnt__sha256_of(data, n, md), true;
    return EVP_DigestInit_ex2(s->ctx, s->md, NULL) && EVP_DigestUpdate(s->ctx, data, n) &&
           EVP_DigestFinal_ex(s->ctx, md, NULL);
}

bool tnt__hash(tnt_event *ev, const tnt__pipeline *p)
{
    tnt__arena local, *a = p && p->scratch ? p->scratch : &local;
    if (a == &local)
        tnt__arena_init(&local, 0);
    H h = {a, ev, p ? p->ids_seen : NULL, false};
    locale_t old = tnt__c_numeric_begin();
    str s = prehash(&h, p);
    tnt__c_numeric_end(old);
    unsigned char md[SHA256_DIGEST_LENGTH];
    bool ok = s.s && !h.oom && sha256(p ? p->sha : NULL, s.s, s.n, md);
    if (ok) {
        char *o = tnt__hex(stpcpy(ev->hash_id, "ni:///sha-256;"), md, SHA256_DIGEST_LENGTH);
        strcpy(o, "?ver=CBV2.0");
    }
    if (a == &local)
        tnt__arena_destroy(&local);
    else
        tnt__arena_reset(a);
    return ok;
}
