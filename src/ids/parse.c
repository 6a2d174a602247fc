/*
 * Parsing an identifier in any form: pick the form, let its parser list
 * the AIs, then find the primary key and its qualifiers (the type), check
 * every value, and resolve the company prefix length.
 */
#include <stdio.h>
#include <string.h>

#include "ids.h"

static const char *const g_err_names[] = {
    "ID_OK",
#define TNT__XX(name, text) "ID_" #name,
    TNT__ID_ERROR_MAP(TNT__XX)
#undef TNT__XX
};

const char *tnt__id_err_name(tnt__id_err code)
{
    if ((size_t)code >= sizeof g_err_names / sizeof g_err_names[0])
        return "ID_UNKNOWN";
    return g_err_names[code];
}

void tnt__id_fail(tnt__idp *p, tnt__id_err code, const char *fmt, ...)
{
    if (p->nerr < TNT__ID_MAX_ERRORS) {
        tnt__id_error *e = &p->err[p->nerr];
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    p->nerr++;
}

const char *tnt__id_excerpt(char *buf, size_t cap, const char *s, size_t n)
{
    /* Printable ASCII as is, the rest as \xNN, cut with "…" when long. */
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", c);
        if (i + 1 < n && o + 8 >= cap) {
            memcpy(buf + o, "...", 3);
            o += 3;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* ---- bounded output ---- */

void tnt__w_init(tnt__w *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->over = cap == 0;
}

void tnt__w_str(tnt__w *w, const char *s) { tnt__w_put(w, s, strlen(s)); }

void tnt__w_pct(tnt__w *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && tnt__is((unsigned char)s[run], TNT__C_SAFE))
            run++;
        tnt__w_put(w, s + i, run - i);
        if (run == n)
            break;
        unsigned char c = (unsigned char)s[run];
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        tnt__w_put(w, esc, 3);
        i = run + 1;
    }
}

size_t tnt__w_end(tnt__w *w)
{
    if (w->over) {
        if (w->cap)
            w->buf[0] = '\0';
        return 0;
    }
    w->buf[w->len] = '\0';
    return w->len;
}

/* ---- the AI list ---- */

char *tnt__id_reserve(tnt__idp *p, size_t n)
{
    if (p->vlen + n + 1 > sizeof p->vals)
        return NULL;
    return p->vals + p->vlen;
}

tnt__id_ai *tnt__id_add_reserved(tnt__idp *p, const char *code, size_t code_len, size_t n, size_t src)
{
    return tnt__id_push(p, tnt__ai_find(code, code_len), code, code_len, n, src);
}

tnt__id_ai *tnt__id_push(tnt__idp *p, const tnt__ai *spec, const char *code, size_t code_len, size_t n,
                         size_t src)
{
    char *v = p->vals + p->vlen;
    if (code_len < 2 || code_len > 4) { /* callers pass AI codes; never more */
        tnt__id_fail(p, TNT__ID_ERR_UNKNOWN_AI, "an AI has 2 to 4 digits");
        return NULL;
    }
    unsigned num = tnt__ai_num(code, code_len);
    for (size_t i = 0; i < p->nais; i++) {
        tnt__id_ai *a = &p->ais[i];
        if (a->num != num)
            continue;
        /* A repeat with the same value is harmless (two carriers on one pack). */
        if (a->len == n && memcmp(p->vals + a->off, v, n) == 0)
            return a;
        tnt__id_fail(p, TNT__ID_ERR_DUPLICATE_AI, "AI (%.*s) appears twice with different values",
                     (int)code_len, code);
        return NULL;
    }
    if (p->nais == TNT__ID_MAX_AIS) {
        if (p->nais++ == TNT__ID_MAX_AIS) /* report once */
            tnt__id_fail(p, TNT__ID_ERR_TOO_MANY_AIS, "more than %d application identifiers",
                         TNT__ID_MAX_AIS);
        p->nais = TNT__ID_MAX_AIS;
        return NULL;
    }
    tnt__id_ai *a = &p->ais[p->nais++];
    for (size_t i = 0; i < code_len; i++) /* 2 to 4 digits: no call to memcpy */
        a->code[i] = code[i];
    a->code[code_len] = '\0';
    a->num = (uint16_t)num;
    a->spec = spec;
    a->role = TNT__ROLE_ATTRIBUTE;
    a->trusted = false;
    a->off = (uint16_t)p->vlen;
    a->len = (uint16_t)n;
    a->src = (uint16_t)src;
    v[n] = '\0';
    p->vlen += n + 1;
    return a;
}

tnt__id_ai *tnt__id_add(tnt__idp *p, const char *code, size_t code_len, const char *v, size_t n,
                        size_t src)
{
    char *dst = tnt__id_reserve(p, n);
    if (!dst) {
        tnt__id_fail(p, TNT__ID_ERR_TOO_LONG, "identifier values exceed %d bytes", TNT__ID_VALUES_CAP);
        return NULL;
    }
    memmove(dst, v, n);
    return tnt__id_add_reserved(p, code, code_len, n, src);
}

const char *tnt__id_value(const tnt__idp *p, const char *ai)
{
    for (size_t i = 0; i < p->nais; i++)
        if (strcmp(p->ais[i].code, ai) == 0)
            return p->vals + p->ais[i].off;
    return NULL;
}

static const char *qualifier_num(const tnt__idp *p, unsigned num)
{
    for (size_t i = 0; i < p->nais; i++)
        if (p->ais[i].role == TNT__ROLE_QUALIFIER && p->ais[i].num == num)
            return p->vals + p->ais[i].off;
    return NULL;
}

const char *tnt__id_qualifier(const tnt__idp *p, const char *ai)
{
    return qualifier_num(p, tnt__ai_num(ai, strlen(ai)));
}

/* ---- primary key, qualifiers and type ---- */

bool tnt__id_is_key(unsigned key)
{
    switch (key) {
    case 0: case 1: case 253: case 255: case 401: case 402: case 414: case 417:
    case 8003: case 8004: case 8006: case 8010: case 8017: case 8018:
        return true;
    default:
        return false;
    }
}

/* The qualifiers each primary key may have, in Digital Link path order
 * (GS1 Digital Link URI syntax); GTIN has the exclusive alternative 235. */
int tnt__id_qpos(unsigned key, unsigned q)
{
    switch (key) {
    case 1:
        if (q == 235)
            return 8;
        /* fall through */
    case 8006:
        return q == 22 ? 0 : q == 10 ? 1 : q == 21 ? 2 : -1;
    case 414: return q == 254 ? 0 : -1;
    case 8010: return q == 8011 ? 0 : -1;
    case 8017:
    case 8018: return q == 8019 ? 0 : -1;
    default: return -1;
    }
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n >= 2 && n <= 4;
}

int tnt__id_qualifier_pos(const char *key, const char *code)
{
    size_t kn = strlen(key), cn = strlen(code);
    if (!digits(key, kn) || !digits(code, cn))
        return -1;
    return tnt__id_qpos(tnt__ai_num(key, kn), tnt__ai_num(code, cn));
}

static bool has(const tnt__idp *p, unsigned num) { return qualifier_num(p, num) != NULL; }

/* Type and level from the key and its qualifiers. */
static void set_type(tnt__idp *p)
{
    const tnt__id_ai *k = &p->ais[0];
    tnt_id_type t = TNT_ID_UNKNOWN;
    bool cls = false;
    switch (k->num) {
    case 1:
        t = has(p, 21) ? TNT_ID_SGTIN : has(p, 235) ? TNT_ID_UPUI : has(p, 10) ? TNT_ID_LGTIN : TNT_ID_GTIN;
        cls = t == TNT_ID_LGTIN || t == TNT_ID_GTIN;
        break;
    case 8006: t = TNT_ID_ITIP; cls = !has(p, 21); break;
    case 0: t = TNT_ID_SSCC; break;
    case 414: {
        const char *ext = qualifier_num(p, 254);
        t = (ext && strcmp(ext, "0") != 0) ? TNT_ID_SGLN : TNT_ID_GLN;
        break;
    }
    case 417: t = TNT_ID_PGLN; break;
    case 8003: t = TNT_ID_GRAI; cls = k->len <= 14; break;
    case 8004: t = TNT_ID_GIAI; break;
    case 8017: t = TNT_ID_GSRNP; break;
    case 8018: t = TNT_ID_GSRN; break;
    case 253: t = TNT_ID_GDTI; cls = k->len <= 13; break;
    case 255: t = TNT_ID_SGCN; cls = k->len <= 13; break;
    case 401: t = TNT_ID_GINC; break;
    case 402: t = TNT_ID_GSIN; break;
    case 8010: t = TNT_ID_CPI; cls = !has(p, 8011); break;
    }
    p->type = t;
    p->level = cls ? TNT_ID_LEVEL_CLASS : TNT_ID_LEVEL_INSTANCE;
}

/* Key first, then its qualifiers in path order, then the attributes as
 * they came: the order of element strings and Digital Link URIs. An
 * insertion sort by rank: the lists are short and mostly in order. */
static void reorder(tnt__idp *p, size_t key)
{
    int rank[TNT__ID_MAX_AIS];
    unsigned k = p->ais[key].num;
    for (size_t i = 0; i < p->nais; i++)
        rank[i] = i == key ? -1
                  : p->ais[i].role == TNT__ROLE_QUALIFIER ? tnt__id_qpos(k, p->ais[i].num)
                                                          : 100 + (int)i;
    for (size_t i = 1; i < p->nais; i++) {
        tnt__id_ai a = p->ais[i];
        int r = rank[i];
        size_t j = i;
        for (; j > 0 && rank[j - 1] > r; j--) {
            p->ais[j] = p->ais[j - 1];
            rank[j] = rank[j - 1];
        }
        p->ais[j] = a;
        rank[j] = r;
    }
}

/* GTIN 22/10/21 exclude 235: a pack has one or the other kind of serial. */
static void check_exclusive(tnt__idp *p, unsigned key)
{
    bool seq[2] = {false, false};
    for (size_t i = 0; i < p->nais; i++) {
        int pos = p->ais[i].role == TNT__ROLE_QUALIFIER ? tnt__id_qpos(key, p->ais[i].num) : -1;
        if (pos >= 0)
            seq[pos / 8] = true;
    }
    if (seq[0] && seq[1])
        tnt__id_fail(p, TNT__ID_ERR_QUALIFIER_ORDER,
                     "(235) cannot be combined with (22), (10) or (21) on the same GTIN");
}

/* Element strings and barcodes: one primary key; its qualifiers are the AIs
 * of its qualifier list, wherever they stand. Digital Link parsing marks
 * the roles itself (position in the path matters there). */
static void classify(tnt__idp *p)
{
    size_t key = SIZE_MAX;
    for (size_t i = 0; i < p->nais; i++) {
        tnt__id_ai *a = &p->ais[i];
        if (a->role == TNT__ROLE_KEY || (a->spec && (a->spec->flags & TNT__AI_DLKEY))) {
            if (key != SIZE_MAX) {
                tnt__id_fail(p, TNT__ID_ERR_MULTIPLE_KEYS, "both (%s) and (%s) are primary keys",
                             p->ais[key].code, a->code);
                return;
            }
            key = i;
        }
    }
    if (key == SIZE_MAX) {
        tnt__id_fail(p, TNT__ID_ERR_NO_PRIMARY_KEY, "no GS1 primary key such as (01), (00) or (414)");
        return;
    }
    unsigned kn = p->ais[key].num;
    if (!tnt__id_is_key(kn)) {
        tnt__id_fail(p, TNT__ID_ERR_UNSUPPORTED_KEY, "(%s) %s is not an identifier EPCIS uses",
                     p->ais[key].code, p->ais[key].spec ? p->ais[key].spec->title : "");
        return;
    }
    p->ais[key].role = TNT__ROLE_KEY;
    if (p->form != TNT_ID_FORM_DIGITAL_LINK)
        for (size_t i = 0; i < p->nais; i++)
            if (i != key && tnt__id_qpos(kn, p->ais[i].num) >= 0)
                p->ais[i].role = TNT__ROLE_QUALIFIER;
    check_exclusive(p, kn);
    reorder(p, key);
    set_type(p);
}

/* ---- values ---- */

static void check_values(tnt__idp *p)
{
    char ex[48];
    bool key_only = (p->flags & TNT__ID_F_KEY_ONLY) != 0;
    for (size_t i = 0; i < p->nais; i++) {
        const tnt__id_ai *a = &p->ais[i];
        const char *v = p->vals + a->off;
        if (a->trusted || (key_only && a->role == TNT__ROLE_ATTRIBUTE))
            continue;
        if (!a->spec) {
            if (!(p->flags & TNT_ID_F_PERMIT_UNKNOWN_AIS)) {
                tnt__id_fail(p, TNT__ID_ERR_UNKNOWN_AI, "unknown application identifier (%s)", a->code);
                continue;
            }
            if (a->len == 0 || a->len > 90) {
                tnt__id_fail(p, TNT__ID_ERR_LENGTH, "(%s) '%s': %zu characters; 1..90 allowed", a->code,
                             tnt__id_excerpt(ex, sizeof ex, v, a->len), (size_t)a->len);
                continue;
            }
            for (size_t j = 0; j < a->len; j++)
                if (!tnt__cset82((unsigned char)v[j])) {
                    tnt__id_fail(p, TNT__ID_ERR_CHARSET, "(%s) '%s': character %zu not in the GS1 82-character set",
                                 a->code, tnt__id_excerpt(ex, sizeof ex, v, a->len), j + 1);
                    break;
                }
            continue;
        }
        tnt__ai_fault f;
        if (!tnt__ai_check(a->spec, v, a->len, &f)) {
            size_t min, max;
            tnt__ai_len_range(a->spec, &min, &max);
            if (f.code == TNT__ID_ERR_LENGTH && p->form == TNT_ID_FORM_DIGITAL_LINK && !strcmp(a->code, "01"))
                tnt__id_fail(p, f.code, "(01) GTIN '%s' has %zu digits: a Digital Link needs all 14 "
                             "(TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL accepts GTIN-8/12/13)",
                             tnt__id_excerpt(ex, sizeof ex, v, a->len), (size_t)a->len);
            else if (f.code == TNT__ID_ERR_LENGTH)
                tnt__id_fail(p, f.code, "(%s) %s '%s': %s (%zu characters; %zu..%zu allowed)", a->code,
                             a->spec->title, tnt__id_excerpt(ex, sizeof ex, v, a->len), f.why, (size_t)a->len,
                             min ? min : 1, max);
            else
                tnt__id_fail(p, f.code, "(%s) %s '%s': %s at character %zu", a->code, a->spec->title,
                             tnt__id_excerpt(ex, sizeof ex, v, a->len), f.why, f.pos + 1);
        }
    }
}

/* ---- company prefix length ---- */

/* The digits of the key where its company prefix starts, after any GTIN
 * indicator, SSCC extension or GRAI filler digit, and how many there are. */
static size_t key_digits(const tnt__idp *p, const char **d, bool *alnum)
{
    const tnt__id_ai *k = &p->ais[0];
    const char *v = p->vals + k->off;
    *alnum = false;
    *d = v;
    if (k->num == 1 || k->num == 8006 || k->num == 8003) {
        *d = v + 1;
        return 13;
    }
    if (k->num == 0) {
        *d = v + 1;
        return 17;
    }
    if (k->num == 8004 || k->num == 401 || k->num == 8010) {
        size_t n = 0;
        while (n < k->len && n < 12 && v[n] >= '0' && v[n] <= '9')
            n++;
        *alnum = true;
        return n;
    }
    return k->len < 13 ? k->len : 13; /* 414, 417, 253, 255 (13), 402, 8017, 8018 */
}

static bool gcp_fits(const tnt__idp *p, int g, size_t ndigits, bool alnum)
{
    if (g < 4 || g > 12 || (size_t)g > ndigits)
        return false;
    /* Something must follow the prefix in keys that are the prefix plus a
     * free reference, or the EPC URN would have an empty component. */
    return !alnum || p->ais[0].len > (size_t)g;
}

static void resolve_gcp(tnt__idp *p, int gcp_length, const tnt_gcp_table *gcp)
{
    if (!gcp_length && !gcp)
        return;
    const char *d;
    bool alnum;
    size_t nd = key_digits(p, &d, &alnum);
    if (gcp_length) {
        if (!gcp_fits(p, gcp_length, nd, alnum)) {
            char ex[48];
            tnt__id_fail(p, TNT__ID_ERR_GCP_LENGTH, "(%s) '%s' cannot have a company prefix of %d digits",
                         p->ais[0].code, tnt__id_excerpt(ex, sizeof ex, p->vals + p->ais[0].off, p->ais[0].len),
                         gcp_length);
            return;
        }
        p->gcp_len = gcp_length;
        return;
    }
    int g;
    if (gcp && tnt__gcp_lookup(gcp, d, nd, &g) && gcp_fits(p, g, nd, alnum))
        p->gcp_len = g;
}

/* ---- the form ---- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Whether s[0..n) starts with the lower-case literal lit of length k, in any case. */
static bool prefix_ci(const char *s, size_t n, const char *lit, size_t k)
{
    if (n < k)
        return false;
    if (!memcmp(s, lit, k))
        return true; /* the usual lower case */
    for (size_t i = 0; i < k; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

static bool is_plain(const char *s, size_t n)
{
    size_t d = 0;
    while (d < n && is_digit(s[d]))
        d++;
    if (d != 8 && d != 12 && d != 13 && d != 14)
        return false;
    return d == n || is_space(s[d]);
}

#define PREFIX_CI(s, n, lit) prefix_ci(s, n, lit, sizeof lit - 1)

static void parse_form(tnt__idp *p, const char *s, size_t n)
{
    char c = s[0];
    if ((c == 'u' || c == 'U') && PREFIX_CI(s, n, "urn:")) {
        tnt__id_parse_urn(p, s, n);
    } else if ((c == 'h' || c == 'H') && (PREFIX_CI(s, n, "https://") || PREFIX_CI(s, n, "http://"))) {
        tnt__id_parse_dl(p, s, n);
    } else if (s[0] == '(') {
        tnt__id_parse_element_string(p, s, n);
    } else if (s[0] == ']' || s[0] == '^' || s[0] == 0x1d) {
        tnt__id_parse_barcode(p, s, n);
    } else if (is_digit(s[0])) {
        if (is_plain(s, n))
            tnt__id_parse_plain(p, s, n);
        else
            tnt__id_parse_barcode(p, s, n);
    } else {
        char ex[48];
        tnt__id_fail(p, TNT__ID_ERR_UNRECOGNISED,
                     "'%s' is not an EPC URN, a Digital Link URI, an element string, barcode data or a GTIN",
                     tnt__id_excerpt(ex, sizeof ex, s, n));
    }
}

void tnt__id_reset(tnt__idp *p, unsigned flags)
{
    p->type = TNT_ID_UNKNOWN;
    p->level = TNT_ID_LEVEL_INSTANCE;
    p->form = TNT_ID_FORM_NONE;
    p->gcp_len = 0;
    p->flags = flags;
    p->nais = p->nerr = p->vlen = 0;
}

tnt_status tnt__id_parse(tnt__idp *p, const char *text, size_t len, int gcp_length,
                         const tnt_gcp_table *gcp, unsigned flags)
{
    tnt__id_reset(p, flags);
    if (len > TNT__ID_MAX_INPUT) {
        tnt__id_fail(p, TNT__ID_ERR_TOO_LONG, "identifier of %zu bytes; at most %d accepted", len,
                     TNT__ID_MAX_INPUT);
        return TNT_E_TOOBIG;
    }
    if (!text)
        len = 0;
    while (len && is_space(text[0]))
        text++, len--;
    while (len && is_space(text[len - 1]))
        len--;
    if (!len) {
        tnt__id_fail(p, TNT__ID_ERR_EMPTY, "the identifier is empty");
        return TNT_E_INVALID;
    }
    parse_form(p, text, len);
    if (!p->nerr && p->form != TNT_ID_FORM_EPC_URN && p->form != TNT_ID_FORM_EPC_CLASS &&
        p->form != TNT_ID_FORM_EPC_PATTERN)
        classify(p);
    check_values(p);
    if (!p->nerr && p->gcp_len == 0)
        resolve_gcp(p, gcp_length, gcp);
    if (p->nerr) {
        p->type = TNT_ID_UNKNOWN;
        return TNT_E_INVALID;
    }
    return TNT_OK;
}

size_t tnt__id_canonical_fast(char *out, size_t cap, const char *s, size_t len)
{
    static const char pre[] = "https://id.gs1.org/01/";
    const size_t np = sizeof pre - 1, serial = np + 14 + 4; /* where the serial starts */
    if (len <= serial || len > serial + 20 || len >= cap || memcmp(s, pre, np) != 0 ||
        memcmp(s + np + 14, "/21/", 4) != 0)
        return 0;
    const char *g = s + np;
    unsigned sum = 0;
    for (int i = 0; i < 14; i++)
        if (g[i] < '0' || g[i] > '9')
            return 0;
    for (int i = 0; i < 13; i++)
        sum += (unsigned)(g[i] - '0') * (i % 2 ? 1u : 3u);
    if ((10 - sum % 10) % 10 != (unsigned)(g[13] - '0'))
        return 0;
    for (size_t i = serial; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_'))
            return 0;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return len;
}

size_t tnt__id_canonical(char *out, size_t cap, const char *text, size_t len)
{
    size_t n = tnt__id_canonical_fast(out, cap, text, len);
    if (n)
        return n;
    tnt__idp p;
    unsigned flags = TNT_ID_F_PERMIT_UNKNOWN_AIS | TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL | TNT__ID_F_KEY_ONLY;
    if (cap)
        out[0] = '\0';
    if (tnt__id_parse(&p, text, len, 0, NULL, flags) != TNT_OK)
        return 0;
    return tnt__id_format_canonical(out, cap, &p);
}
