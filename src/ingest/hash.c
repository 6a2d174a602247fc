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

/* ---- strings in the scratch arena ---- */

typedef struct strs {
    char **v;
    size_t n, cap;
} strs;

static void push(H *h, strs *l, char *s)
{
    if (!s)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = tnt__arena_alloc(h->a, cap * sizeof *v);
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

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* prefix ⧺ the items (sorted when asked); NULL when there is nothing and no prefix. */
static char *join(H *h, const char *prefix, strs *l, bool sort)
{
    if (sort && l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp);
    size_t len = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < l->n; i++)
        len += strlen(l->v[i]);
    char *s = tnt__arena_alloc(h->a, len + 1), *p = s;
    if (!s) {
        h->oom = true;
        return NULL;
    }
    if (prefix)
        p = stpcpy(p, prefix);
    for (size_t i = 0; i < l->n; i++)
        p = stpcpy(p, l->v[i]);
    *p = '\0';
    return s;
}

static char *cat3(H *h, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0, lc = c ? strlen(c) : 0;
    char *s = tnt__arena_alloc(h->a, la + lb + lc + 1);
    if (!s) {
        h->oom = true;
        return NULL;
    }
    memcpy(s, a, la);
    if (lb)
        memcpy(s + la, b, lb);
    if (lc)
        memcpy(s + la + lb, c, lc);
    s[la + lb + lc] = '\0';
    return s;
}

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

static char *trim(H *h, const char *s)
{
    const unsigned char *b = (const unsigned char *)s, *e = b + strlen(s);
    size_t k;
    while (b < e && (k = space_at(b)))
        b += k;
    while (e > b && (k = space_before(b, e)))
        e -= k;
    if (b == (const unsigned char *)s && *e == '\0')
        return (char *)s;
    char *t = tnt__arena_strndup(h->a, (const char *)b, (size_t)(e - b));
    if (!t)
        h->oom = true;
    return t;
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

/* Python's repr() of a non-integral double: the shortest digits that read
 * back, fixed notation for 1e-4 <= |x| < 1e16, else d.ddde-XX. */
static void py_repr(char *out, size_t cap, double x)
{
    char e[40];
    int p = 0;
    for (; p < 17; p++) {
        snprintf(e, sizeof e, "%.*e", p, x);
        if (strtod(e, NULL) == x)
            break;
    }
    char *ep = strchr(e, 'e');
    int exp = atoi(ep + 1);
    char dig[24];
    size_t nd = 0;
    for (const char *c = e; c < ep; c++)
        if (*c >= '0' && *c <= '9')
            dig[nd++] = *c;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    dig[nd] = '\0';
    const char *sign = x < 0 ? "-" : "";
    if (exp < -4 || exp >= 16) {
        snprintf(out, cap, "%s%c%s%s%se%c%02d", sign, dig[0], nd > 1 ? "." : "", dig + 1, "", exp < 0 ? '-' : '+',
                 abs(exp));
    } else if (exp < 0) {
        snprintf(out, cap, "%s0.%0*d%s", sign, -exp - 1, 0, dig);
        if (-exp - 1 == 0) /* "%0*d" with width 0 still prints one 0 */
            snprintf(out, cap, "%s0.%s", sign, dig);
    } else {
        char ip[32], fp[24];
        size_t ni = (size_t)exp + 1;
        for (size_t i = 0; i < ni; i++)
            ip[i] = i < nd ? dig[i] : '0';
        ip[ni] = '\0';
        snprintf(fp, sizeof fp, "%s", ni < nd ? dig + ni : "0");
        snprintf(out, cap, "%s%s.%s", sign, ip, fp);
    }
}

/* Room for any double as a decimal integer (DBL_MAX has 309 digits). */
#define NUM_CAP 400

/* Integral without libm: every double of magnitude 2^52 or more is one. */
static bool integral(double x) { return fabs(x) >= 0x1p52 || x == (double)(int64_t)x; }

/* A finite double in its canonical text: the exact integer, else Python's repr. */
static void num_canon(char *out, size_t cap, double x)
{
    if (integral(x))
        snprintf(out, cap, "%.0f", x == 0 ? 0.0 : x);
    else
        py_repr(out, cap, x);
}

/* A number in its canonical text; false when the text is not a number. */
static bool number_text(char *out, size_t cap, const char *s)
{
    if (!float_syntax(s) || strlen(s) > 300)
        return false;
    char clean[320];
    size_t n = 0;
    for (const char *c = s; *c; c++)
        if (*c != '_')
            clean[n++] = *c;
    clean[n] = '\0';
    double x = strtod(clean, NULL);
    if (!isfinite(x))
        return false; /* the reference gives up on infinities; keep the text */
    num_canon(out, cap, x);
    return true;
}

/* canon(): CBV URNs to Web URIs, numbers, GS1 identifiers. */
static char *canon(H *h, const char *s)
{
    static const char *const urns[][2] = {{"urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"},
                                          {"urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"},
                                          {"urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"},
                                          {"urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"},
                                          {"urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"}};
    if (strstr(s, "urn:epcglobal:cbv:")) {
        for (size_t i = 0; i < sizeof urns / sizeof urns[0]; i++) {
            const char *at;
            while (s && (at = strstr(s, urns[i][0]))) {
                char *pre = tnt__arena_strndup(h->a, s, (size_t)(at - s));
                s = pre ? cat3(h, pre, urns[i][1], at + strlen(urns[i][0])) : NULL;
            }
        }
        if (!s)
            return h->oom = true, NULL;
    }
    char num[NUM_CAP];
    if (number_text(num, sizeof num, s))
        return tnt__arena_strdup(h->a, num);
    if (strchr(s, '.') && (strncmp(s, "urn:epc:", 8) == 0 || strncmp(s, "http", 4) == 0)) {
        /* A valid identifier has the same canonical form in this lenient parse. */
        const char *known;
        if (tnt__idmemo_get(h->ids_seen, s, &known) && known)
            return (char *)known;
        char dl[TNT__ID_CANONICAL_CAP];
        if (tnt__id_canonical(dl, sizeof dl, s, strlen(s)))
            return tnt__arena_strdup(h->a, dl);
    }
    return (char *)s;
}

/* "prefix:rest" with a declared prefix -> IRI + rest (values) or {IRI}rest (keys). */
static const char *declared(const H *h, const char *s, size_t len)
{
    for (uint32_t i = h->ev->n_prefixes; i-- > 0;)
        if (strncmp(h->ev->prefixes[i].prefix, s, len) == 0 && h->ev->prefixes[i].prefix[len] == '\0')
            return h->ev->prefixes[i].iri;
    return NULL;
}

static const char *expand_value(H *h, const char *s)
{
    const char *colon = strchr(s, ':');
    const char *iri = colon ? declared(h, s, (size_t)(colon - s)) : NULL;
    return iri ? cat3(h, iri, colon + 1, NULL) : s;
}

static const char *key_name(H *h, const char *key)
{
    const char *colon = strchr(key, ':');
    const char *iri = colon ? declared(h, key, (size_t)(colon - key)) : NULL;
    if (!iri)
        return key;
    char *braced = cat3(h, "{", iri, "}");
    return braced ? cat3(h, braced, colon + 1, NULL) : NULL;
}

/* The full text of a value: expanded, trimmed, canonical. */
static char *value(H *h, const char *raw)
{
    const char *s = expand_value(h, raw);
    char *t = s ? trim(h, s) : NULL;
    return t ? canon(h, t) : NULL;
}

/* name=value, or NULL when the value is empty (dropped in the ordered part). */
static char *leaf(H *h, const char *name, const char *raw)
{
    if (!raw)
        return NULL;
    char *v = value(h, raw);
    return v && *v ? cat3(h, name, "=", v) : NULL;
}

/* A vocabulary field: a bare term of the vocabulary becomes its Web URI. */
static char *vocab_leaf(H *h, const char *name, int voc, const char *raw)
{
    if (!raw)
        return NULL;
    const char *bare;
    char uri[160];
    if (tnt__cbv_lookup(voc, raw, &bare) == TNT__CBV_STANDARD && strcmp(bare, raw) == 0 &&
        tnt__cbv_web_uri(uri, sizeof uri, voc, bare))
        return cat3(h, name, "=", uri);
    return leaf(h, name, raw);
}

static char *time_leaf(H *h, const char *name, const tnt__time *t)
{
    if (!t->set)
        return NULL;
    char buf[40];
    tnt__time_format(buf, t, true);
    return cat3(h, name, "=", buf);
}

static char *num_leaf(H *h, const char *name, double v)
{
    char buf[NUM_CAP];
    if (!isfinite(v)) /* only a protobuf event can hold one; the reference has no answer */
        snprintf(buf, sizeof buf, "%s", v != v ? "nan" : v < 0 ? "-inf" : "inf");
    else
        num_canon(buf, sizeof buf, v);
    return cat3(h, name, "=", buf);
}

/* ---- generic rendering: extensions, ilmd, the remainder ---- */

static bool dropped_key(const char *k)
{
    return strcmp(k, "rdfs:comment") == 0 || strcmp(k, "comment") == 0 || strcmp(k, "#text") == 0 ||
           strncmp(k, "@xmlns", 6) == 0;
}

static char *gen_value(H *h, const char *name, const tnt__node *v);

static bool ends_with_list(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, "List") == 0;
}

/* The renders of one object member (an array gives one per item). */
static void gen_member(H *h, strs *out, const tnt__node *m)
{
    if (dropped_key(m->key))
        return;
    const char *name = key_name(h, m->key);
    if (!name)
        return;
    if (ends_with_list(name)) { /* "{ns}fooList": items named "{ns}foo", grouped */
        char *item = tnt__arena_strndup(h->a, name, strlen(name) - 4);
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

static char *gen_value(H *h, const char *name, const tnt__node *v)
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
            push(h, &kids, gen_value(h, t && t->kind == TNT__N_STRING ? t->str : "", e));
        }
        return join(h, name, &kids, true);
    }
    char *t = value(h, scalar_text(v));
    if (!t)
        return NULL;
    return *t ? cat3(h, name, "=", t) : cat3(h, name, NULL, NULL);
}

/* ---- containers with extensions (readPoint, sensorReport, ...) ---- */

/* Nodes an extension object adds to its parent (array items count one each). */
static size_t ext_nodes(H *h, const tnt__node *ext)
{
    size_t n = 0;
    for (const tnt__node *m = ext ? ext->child : NULL; m; m = m->next) {
        if (dropped_key(m->key))
            continue;
        const char *name = key_name(h, m->key);
        n += m->kind == TNT__N_ARRAY && !(name && ends_with_list(name)) ? m->count : 1;
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
        const char *name = key_name(h, m->key);
        if (name && (strstr(name, "eventTime") || strstr(name, "action")))
            extract = false;
    }
    for (const tnt__node *m = ext->child; m; m = m->next) {
        const char *name = key_name(h, m->key);
        bool in = extract && name && name[0] == '{' && strstr(name, "/}");
        gen_member(h, in ? inline_out : left_out, m);
    }
}

/* name ⧺ fields ⧺ inline extensions; leftovers go to *left as name ⧺ sorted.
 * nchildren counts the container's children other than its extensions. */
static char *container(H *h, const char *name, strs *fields, size_t nchildren, const tnt__node *ext,
                       strs *leftover, char **left)
{
    strs in = {0};
    split_ext(h, ext, nchildren, &in, leftover);
    char *body = join(h, NULL, fields, false);
    char *tail = join(h, NULL, &in, true);
    *left = leftover->n ? join(h, name, leftover, true) : NULL;
    if (!body || !tail || (!*body && !*tail))
        return NULL;
    return cat3(h, name, body, tail);
}

/* ---- the ordered part ---- */

static void add(H *h, strs *l, char *s) { push(h, l, s); }

static char *sorted_leaves(H *h, const char *list, const char *item, const tnt__strs *v)
{
    strs l = {0};
    for (uint32_t i = 0; i < v->n; i++)
        add(h, &l, leaf(h, item, v->v[i]));
    return l.n ? join(h, list, &l, true) : NULL;
}

static char *qty_list(H *h, const char *list, const tnt__qtys *q, strs *remainder)
{
    strs items = {0}, lefts = {0};
    for (uint32_t i = 0; i < q->n; i++) {
        strs f = {0}, leftover = {0};
        char *left;
        add(h, &f, leaf(h, "epcClass", q->v[i].epc_class));
        if (q->v[i].has_quantity)
            add(h, &f, num_leaf(h, "quantity", q->v[i].quantity));
        add(h, &f, leaf(h, "uom", q->v[i].uom));
        add(h, &items, container(h, "quantityElement", &f, f.n, q->v[i].ext, &leftover, &left));
        add(h, &lefts, left);
    }
    if (lefts.n)
        add(h, remainder, join(h, list, &lefts, true));
    return items.n ? join(h, list, &items, true) : NULL;
}

static char *place(H *h, const char *name, const char *id, const tnt__node *ext, strs *remainder)
{
    strs f = {0}, leftover = {0};
    char *left;
    add(h, &f, leaf(h, "id", id));
    char *s = container(h, name, &f, id ? 1 : 0, ext, &leftover, &left);
    add(h, remainder, left);
    return s;
}

static char *sensor_report(H *h, const tnt__sreport *r, char **left)
{
    static const char *const numk[TNT__SR_NUMS] = {"value", "minValue", "maxValue", "meanValue",
                                                   "sDev", "percRank", "percValue"};
    strs f = {0}, leftover = {0};
    size_t n0;
#define NUM(i)                                                                                                         \
    if ((r->has_num >> (i)) & 1)                                                                                       \
        add(h, &f, num_leaf(h, numk[i], r->num[i]));
    add(h, &f, vocab_leaf(h, "type", TNT__V_MEASURE, r->type));
    add(h, &f, vocab_leaf(h, "exception", TNT__V_ALERT, r->exception));
    add(h, &f, leaf(h, "deviceID", r->device_id));
    add(h, &f, leaf(h, "deviceMetadata", r->device_metadata));
    add(h, &f, leaf(h, "rawData", r->raw_data));
    add(h, &f, leaf(h, "dataProcessingMethod", r->data_processing_method));
    add(h, &f, time_leaf(h, "time", &r->time));
    add(h, &f, leaf(h, "microorganism", r->microorganism));
    add(h, &f, leaf(h, "chemicalSubstance", r->chemical_substance));
    NUM(TNT__SR_VALUE)
    add(h, &f, vocab_leaf(h, "component", TNT__V_COMPONENT, r->component));
    add(h, &f, leaf(h, "stringValue", r->string_value));
    if (r->boolean_value >= 0)
        add(h, &f, cat3(h, "booleanValue=", r->boolean_value ? "True" : "False", NULL));
    add(h, &f, leaf(h, "hexBinaryValue", r->hex_binary_value));
    add(h, &f, leaf(h, "uriValue", r->uri_value));
    for (int i = TNT__SR_MIN; i < TNT__SR_NUMS; i++)
        NUM(i)
    add(h, &f, leaf(h, "uom", r->uom));
    add(h, &f, leaf(h, "coordinateReferenceSystem", r->coordinate_reference_system));
#undef NUM
    n0 = f.n;
    /* bizRules is no field of the canonical order: it is left over. */
    add(h, &leftover, leaf(h, "bizRules", r->biz_rules));
    return container(h, "sensorReport", &f, n0 + leftover.n, r->ext, &leftover, left);
}

static char *sensor_meta(H *h, const tnt__smeta *m, char **left)
{
    strs f = {0}, leftover = {0};
    add(h, &f, time_leaf(h, "time", &m->time));
    add(h, &f, time_leaf(h, "startTime", &m->start_time));
    add(h, &f, time_leaf(h, "endTime", &m->end_time));
    add(h, &f, leaf(h, "deviceID", m->device_id));
    add(h, &f, leaf(h, "deviceMetadata", m->device_metadata));
    add(h, &f, leaf(h, "rawData", m->raw_data));
    add(h, &f, leaf(h, "dataProcessingMethod", m->data_processing_method));
    add(h, &f, leaf(h, "bizRules", m->biz_rules));
    return container(h, "sensorMetadata", &f, f.n, m->ext, &leftover, left);
}

static char *sensors(H *h, const tnt_event *ev, strs *remainder)
{
    strs elems = {0}, elem_lefts = {0};
    for (uint32_t i = 0; i < ev->n_sensors; i++) {
        const tnt__sensor *s = &ev->sensors[i];
        strs f = {0}, reports = {0}, leftover = {0};
        char *left = NULL;
        if (s->has_meta) {
            add(h, &f, sensor_meta(h, &s->meta, &left));
            add(h, &leftover, left);
        }
        for (uint32_t j = 0; j < s->n_reports; j++) {
            add(h, &reports, sensor_report(h, &s->reports[j], &left));
            add(h, &leftover, left);
        }
        add(h, &f, join(h, NULL, &reports, true));
        size_t children = (s->has_meta ? 1 : 0) + s->n_reports;
        add(h, &elems, container(h, "sensorElement", &f, children, s->ext, &leftover, &left));
        add(h, &elem_lefts, left);
    }
    if (elem_lefts.n)
        add(h, remainder, join(h, "sensorElementList", &elem_lefts, true));
    return elems.n ? join(h, "sensorElementList", &elems, true) : NULL;
}

/* ---- the remainder's lists of pairs ---- */

static char *pairs(H *h, const char *list, const char *value_key, int voc, const tnt__refs *r)
{
    strs items = {0};
    for (uint32_t i = 0; i < r->n; i++) {
        char *t = r->v[i].type ? vocab_leaf(h, "type", voc, r->v[i].type) : NULL;
        char *v = leaf(h, value_key, r->v[i].value);
        add(h, &items, cat3(h, t ? t : "", v ? v : "", NULL));
    }
    return items.n ? join(h, list, &items, true) : NULL;
}

static bool ignored(const tnt__pipeline *p, H *h, const char *key)
{
    for (size_t i = 0; p && i < p->nignore; i++) {
        if (strcmp(p->ignore[i], key) == 0)
            return true;
        const char *a = key_name(h, p->ignore[i]), *b = key_name(h, key);
        if (a && b && strcmp(a, b) == 0)
            return true;
    }
    return false;
}

static char *prehash(H *h, const tnt__pipeline *p)
{
    const tnt_event *ev = h->ev;
    strs o = {0}, rem = {0};
    add(h, &o, cat3(h, "eventType=", tnt_event_type_name(ev->type), NULL));
    add(h, &o, time_leaf(h, "eventTime", &ev->event_time));
    add(h, &o, leaf(h, "eventTimeZoneOffset", ev->event_time_zone_offset));
    {
        strs c = {0};
        for (uint32_t i = 0; i < ev->certification_info.n; i++)
            add(h, &c, leaf(h, "certificationInfo", ev->certification_info.v[i]));
        add(h, &o, c.n ? join(h, NULL, &c, true) : NULL);
    }
    add(h, &o, leaf(h, "parentID", ev->parent_id));
    add(h, &o, sorted_leaves(h, "epcList", "epc", &ev->epc_list));
    add(h, &o, sorted_leaves(h, "inputEPCList", "epc", &ev->input_epcs));
    add(h, &o, sorted_leaves(h, "childEPCs", "epc", &ev->child_epcs));
    add(h, &o, qty_list(h, "quantityList", &ev->quantity_list, &rem));
    add(h, &o, qty_list(h, "childQuantityList", &ev->child_quantity_list, &rem));
    add(h, &o, qty_list(h, "inputQuantityList", &ev->input_quantity_list, &rem));
    add(h, &o, sorted_leaves(h, "outputEPCList", "epc", &ev->output_epcs));
    add(h, &o, qty_list(h, "outputQuantityList", &ev->output_quantity_list, &rem));
    static const char *const actions[] = {NULL, "action=ADD", "action=OBSERVE", "action=DELETE"};
    if (ev->action && ev->action <= TNT_ACTION_DELETE)
        add(h, &o, cat3(h, actions[ev->action], NULL, NULL));
    add(h, &o, leaf(h, "transformationID", ev->transformation_id));
    add(h, &o, vocab_leaf(h, "bizStep", TNT__V_BIZSTEP, ev->biz_step));
    add(h, &o, vocab_leaf(h, "disposition", TNT__V_DISP, ev->disposition));
    if (ev->has_pd) {
        strs set = {0}, unset = {0};
        for (uint32_t i = 0; i < ev->pd_set.n; i++)
            add(h, &set, vocab_leaf(h, "set", TNT__V_DISP, ev->pd_set.v[i]));
        for (uint32_t i = 0; i < ev->pd_unset.n; i++)
            add(h, &unset, vocab_leaf(h, "unset", TNT__V_DISP, ev->pd_unset.v[i]));
        char *s1 = join(h, NULL, &set, true), *s2 = join(h, NULL, &unset, true);
        if (s1 && s2 && (*s1 || *s2))
            add(h, &o, cat3(h, "persistentDisposition", s1, s2));
    }
    add(h, &o, place(h, "readPoint", ev->read_point, ev->read_point_ext, &rem));
    add(h, &o, place(h, "bizLocation", ev->biz_location, ev->biz_location_ext, &rem));
    add(h, &o, sensors(h, ev, &rem));

    add(h, &rem, pairs(h, "bizTransactionList", "bizTransaction", TNT__V_BTT, &ev->biz_transactions));
    add(h, &rem, pairs(h, "sourceList", "source", TNT__V_SDT, &ev->sources));
    add(h, &rem, pairs(h, "destinationList", "destination", TNT__V_SDT, &ev->destinations));
    if (ev->ilmd || (ev->present & TNT__P_ILMD)) {
        strs kids = {0};
        for (const tnt__node *m = ev->ilmd ? ev->ilmd->child : NULL; m; m = m->next)
            gen_member(h, &kids, m);
        add(h, &rem, join(h, "ilmd", &kids, true));
    }
    for (const tnt__node *m = ev->ext ? ev->ext->child : NULL; m; m = m->next)
        if (!ignored(p, h, m->key))
            gen_member(h, &rem, m);
    add(h, &o, join(h, NULL, &rem, true));
    return join(h, NULL, &o, false);
}

char *tnt__hash_prehash(const tnt_event *ev)
{
    tnt__arena a;
    tnt__arena_init(&a, 0);
    H h = {&a, ev, NULL, false};
    locale_t old = tnt__c_numeric_begin();
    char *s = prehash(&h, NULL);
    tnt__c_numeric_end(old);
    char *out = s && !h.oom ? tnt__strdup(s) : NULL;
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
        return SHA256((const unsigned char *)data, n, md) != NULL;
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
    char *s = prehash(&h, p);
    tnt__c_numeric_end(old);
    unsigned char md[SHA256_DIGEST_LENGTH];
    bool ok = s && !h.oom && sha256(p ? p->sha : NULL, s, strlen(s), md);
    if (ok) {
        static const char hex[] = "0123456789abcdef";
        char *o = stpcpy(ev->hash_id, "ni:///sha-256;");
        for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
            *o++ = hex[md[i] >> 4];
            *o++ = hex[md[i] & 15];
        }
        strcpy(o, "?ver=CBV2.0");
    }
    if (a == &local)
        tnt__arena_destroy(&local);
    else
        tnt__arena_reset(a);
    return ok;
}
