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

void tnt__w_put(tnt__w *w, const char *s, size_t n)
{
    if (w->over || n >= w->cap - w->len) {
        w->over = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void tnt__w_str(tnt__w *w, const char *s) { tnt__w_put(w, s, strlen(s)); }

void tnt__w_pct(tnt__w *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && ((s[run] >= 'a' && s[run] <= 'z') || (s[run] >= 'A' && s[run] <= 'Z') ||
                           (s[run] >= '0' && s[run] <= '9') || strchr("-._';=", s[run]) != NULL) && s[run])
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

static bool same_code(const char *a, const char *b, size_t n)
{
    return strlen(a) == n && memcmp(a, b, n) == 0;
}

tnt__id_ai *tnt__id_add_reserved(tnt__idp *p, const char *code, size_t code_len, size_t n, size_t src)
{
    char *v = p->vals + p->vlen;
    for (size_t i = 0; i < p->nais; i++) {
        tnt__id_ai *a = &p->ais[i];
        if (!same_code(a->code, code, code_len))
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
    memcpy(a->code, code, code_len);
    a->code[code_len] = '\0';
    a->spec = tnt__ai_find(code, code_len);
    a->role = TNT__ROLE_ATTRIBUTE;
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

const char *tnt__id_qualifier(const tnt__idp *p, const char *ai)
{
    for (size_t i = 0; i < p->nais; i++)
        if (p->ais[i].role == TNT__ROLE_QUALIFIER && strcmp(p->ais[i].code, ai) == 0)
            return p->vals + p->ais[i].off;
    return NULL;
}

/* ---- primary key, qualifiers and type ---- */

/* The qualifiers a primary key may have, in Digital Link path order; a
 * second sequence is an exclusive alternative (GTIN: 22,10,21 or 235). */
typedef struct key_rule {
    const char *key;
    const char *quals[2][4];
} key_rule;

static const key_rule g_keys[] = {
    {"00", {{NULL}}},
    {"01", {{"22", "10", "21", NULL}, {"235", NULL}}},
    {"253", {{NULL}}},
    {"255", {{NULL}}},
    {"401", {{NULL}}},
    {"402", {{NULL}}},
    {"414", {{"254", NULL}}},
    {"417", {{NULL}}},
    {"8003", {{NULL}}},
    {"8004", {{NULL}}},
    {"8006", {{"22", "10", "21", NULL}}},
    {"8010", {{"8011", NULL}}},
    {"8017", {{"8019", NULL}}},
    {"8018", {{"8019", NULL}}},
};

static const key_rule *key_rule_of(const char *code)
{
    for (size_t i = 0; i < sizeof g_keys / sizeof g_keys[0]; i++)
        if (strcmp(g_keys[i].key, code) == 0)
            return &g_keys[i];
    return NULL;
}

bool tnt__id_is_key(const char *code) { return key_rule_of(code) != NULL; }

int tnt__id_qualifier_pos(const char *key, const char *code)
{
    const key_rule *r = key_rule_of(key);
    if (!r)
        return -1;
    for (int s = 0; s < 2; s++)
        for (int i = 0; r->quals[s][i]; i++)
            if (strcmp(r->quals[s][i], code) == 0)
                return s * 8 + i;
    return -1;
}

static bool has(const tnt__idp *p, const char *code) { return tnt__id_qualifier(p, code) != NULL; }

/* Type and level from the key and its qualifiers. */
static void set_type(tnt__idp *p)
{
    const tnt__id_ai *k = &p->ais[0];
    const char *c = k->code;
    tnt_id_type t = TNT_ID_UNKNOWN;
    tnt_id_level l = TNT_ID_LEVEL_INSTANCE;
    if (!strcmp(c, "01")) {
        t = has(p, "21") ? TNT_ID_SGTIN : has(p, "235") ? TNT_ID_UPUI : has(p, "10") ? TNT_ID_LGTIN : TNT_ID_GTIN;
        l = (t == TNT_ID_LGTIN || t == TNT_ID_GTIN) ? TNT_ID_LEVEL_CLASS : l;
    } else if (!strcmp(c, "8006")) {
        t = TNT_ID_ITIP;
        l = has(p, "21") ? l : TNT_ID_LEVEL_CLASS;
    } else if (!strcmp(c, "00")) {
        t = TNT_ID_SSCC;
    } else if (!strcmp(c, "414")) {
        const char *ext = tnt__id_qualifier(p, "254");
        t = (ext && strcmp(ext, "0") != 0) ? TNT_ID_SGLN : TNT_ID_GLN;
    } else if (!strcmp(c, "417")) {
        t = TNT_ID_PGLN;
    } else if (!strcmp(c, "8003")) {
        t = TNT_ID_GRAI;
        l = k->len > 14 ? l : TNT_ID_LEVEL_CLASS;
    } else if (!strcmp(c, "8004")) {
        t = TNT_ID_GIAI;
    } else if (!strcmp(c, "8017")) {
        t = TNT_ID_GSRNP;
    } else if (!strcmp(c, "8018")) {
        t = TNT_ID_GSRN;
    } else if (!strcmp(c, "253")) {
        t = TNT_ID_GDTI;
        l = k->len > 13 ? l : TNT_ID_LEVEL_CLASS;
    } else if (!strcmp(c, "255")) {
        t = TNT_ID_SGCN;
        l = k->len > 13 ? l : TNT_ID_LEVEL_CLASS;
    } else if (!strcmp(c, "401")) {
        t = TNT_ID_GINC;
    } else if (!strcmp(c, "402")) {
        t = TNT_ID_GSIN;
    } else if (!strcmp(c, "8010")) {
        t = TNT_ID_CPI;
        l = has(p, "8011") ? l : TNT_ID_LEVEL_CLASS;
    }
    p->type = t;
    p->level = l;
}

/* Key first, then its qualifiers in path order, then the attributes as
 * they came: the order of element strings and Digital Link URIs. */
static void reorder(tnt__idp *p, size_t key)
{
    tnt__id_ai tmp[TNT__ID_MAX_AIS];
    size_t n = 0;
    tmp[n++] = p->ais[key];
    for (int pos = 0; pos < 16; pos++)
        for (size_t i = 0; i < p->nais; i++)
            if (p->ais[i].role == TNT__ROLE_QUALIFIER &&
                tnt__id_qualifier_pos(p->ais[key].code, p->ais[i].code) == pos)
                tmp[n++] = p->ais[i];
    for (size_t i = 0; i < p->nais; i++)
        if (p->ais[i].role == TNT__ROLE_ATTRIBUTE)
            tmp[n++] = p->ais[i];
    memcpy(p->ais, tmp, n * sizeof tmp[0]);
}

/* GTIN 22/10/21 exclude 235: a pack has one or the other kind of serial. */
static void check_exclusive(tnt__idp *p, const char *key)
{
    bool seq[2] = {false, false};
    for (size_t i = 0; i < p->nais; i++) {
        int pos = p->ais[i].role == TNT__ROLE_QUALIFIER ? tnt__id_qualifier_pos(key, p->ais[i].code) : -1;
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
    const char *kc = p->ais[key].code;
    if (!key_rule_of(kc)) {
        tnt__id_fail(p, TNT__ID_ERR_UNSUPPORTED_KEY, "(%s) %s is not an identifier EPCIS uses", kc,
                     p->ais[key].spec ? p->ais[key].spec->title : "");
        return;
    }
    p->ais[key].role = TNT__ROLE_KEY;
    if (p->form != TNT_ID_FORM_DIGITAL_LINK)
        for (size_t i = 0; i < p->nais; i++)
            if (i != key && tnt__id_qualifier_pos(kc, p->ais[i].code) >= 0)
                p->ais[i].role = TNT__ROLE_QUALIFIER;
    check_exclusive(p, kc);
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
        if (key_only && a->role == TNT__ROLE_ATTRIBUTE)
            continue;
        if (!a->spec) {
            if (!(p->flags & TNT_ID_F_PERMIT_UNKNOWN_AIS)) {
                tnt__id_fail(p, TNT__ID_ERR_UNKNOWN_AI, "unknown application identifier (%s)", a->code);
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
    const char *c = k->code;
    *alnum = false;
    *d = v;
    if (!strcmp(c, "01") || !strcmp(c, "8006") || !strcmp(c, "8003")) {
        *d = v + 1;
        return 13;
    }
    if (!strcmp(c, "00")) {
        *d = v + 1;
        return 17;
    }
    if (!strcmp(c, "8004") || !strcmp(c, "401") || !strcmp(c, "8010")) {
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

static bool prefix_ci(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n < k)
        return false;
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

static void parse_form(tnt__idp *p, const char *s, size_t n)
{
    if (prefix_ci(s, n, "urn:")) {
        tnt__id_parse_urn(p, s, n);
    } else if (prefix_ci(s, n, "http://") || prefix_ci(s, n, "https://")) {
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

size_t tnt__id_canonical(char *out, size_t cap, const char *text, size_t len)
{
    tnt__idp p;
    unsigned flags = TNT_ID_F_PERMIT_UNKNOWN_AIS | TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL | TNT__ID_F_KEY_ONLY;
    if (cap)
        out[0] = '\0';
    if (tnt__id_parse(&p, text, len, 0, NULL, flags) != TNT_OK)
        return 0;
    return tnt__id_format_canonical(out, cap, &p);
}
