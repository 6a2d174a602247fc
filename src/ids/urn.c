/*
 * EPC URNs (GS1 EPC Tag Data Standard): pure identity (urn:epc:id:),
 * class (urn:epc:class:lgtin:) and pattern (urn:epc:idpat:) URIs, to and
 * from the AI list.
 *
 * A URN carries the company prefix length as the length of its first
 * component; the digits are rearranged into the GS1 key and its check
 * digit recomputed. Alphanumeric components escape " % & / < > ? (and #
 * in component/part references) as %XX.
 */
#include <string.h>

#include "ids.h"

/* How a scheme's body maps onto GS1 keys. */
typedef enum layout {
    LAY_GTIN,   /* CP.IndicatorItemRef.X → (01) and the qualifier AI */
    LAY_ITIP,   /* CP.IndicatorItemRef.Piece.Total.Serial → (8006) (21) */
    LAY_SSCC,   /* CP.ExtensionSerialRef → (00) */
    LAY_GLN,    /* CP.LocationRef.Extension → (414) [(254)] */
    LAY_NUM,    /* CP.Ref, all digits, check digit appended: GSRN, GSIN, PGLN */
    LAY_SERIAL, /* CP.Ref.Serial → 13 digits + serial in one AI: GRAI, GDTI, SGCN */
    LAY_FREE,   /* CP.Reference → one alphanumeric AI: GIAI, GINC */
    LAY_CPI,    /* CP.PartRef.Serial → (8010) (8011) */
} layout;

typedef struct scheme {
    const char *name;
    tnt_id_type type;
    layout lay;
    const char *ai;    /* the key AI */
    const char *qual;  /* the AI of the last component, if any */
    const char *qual_what; /* how messages name it */
    uint8_t refdigits; /* digits of GCP + reference (before any check digit) */
    bool pattern;      /* a urn:epc:idpat: form exists */
} scheme;

static const scheme g_schemes[] = {
    {"sgtin", TNT_ID_SGTIN, LAY_GTIN, "01", "21", "(21) serial", 13, true},
    {"lgtin", TNT_ID_LGTIN, LAY_GTIN, "01", "10", "(10) batch/lot", 13, false},
    {"upui", TNT_ID_UPUI, LAY_GTIN, "01", "235", "(235) TPX", 13, true},
    {"itip", TNT_ID_ITIP, LAY_ITIP, "8006", "21", "(21) serial", 13, true},
    {"sscc", TNT_ID_SSCC, LAY_SSCC, "00", NULL, NULL, 17, false},
    {"sgln", TNT_ID_SGLN, LAY_GLN, "414", "254", "(254) extension", 12, true},
    {"pgln", TNT_ID_PGLN, LAY_NUM, "417", NULL, NULL, 12, false},
    {"gsrn", TNT_ID_GSRN, LAY_NUM, "8018", NULL, NULL, 17, false},
    {"gsrnp", TNT_ID_GSRNP, LAY_NUM, "8017", NULL, NULL, 17, false},
    {"gsin", TNT_ID_GSIN, LAY_NUM, "402", NULL, NULL, 16, false},
    {"grai", TNT_ID_GRAI, LAY_SERIAL, "8003", NULL, NULL, 12, true},
    {"gdti", TNT_ID_GDTI, LAY_SERIAL, "253", NULL, NULL, 12, true},
    {"sgcn", TNT_ID_SGCN, LAY_SERIAL, "255", NULL, NULL, 12, true},
    {"giai", TNT_ID_GIAI, LAY_FREE, "8004", NULL, NULL, 0, false},
    {"ginc", TNT_ID_GINC, LAY_FREE, "401", NULL, NULL, 0, false},
    {"cpi", TNT_ID_CPI, LAY_CPI, "8010", "8011", "(8011) serial", 0, true},
};

static const scheme *scheme_by_name(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof g_schemes / sizeof g_schemes[0]; i++) {
        const char *name = g_schemes[i].name;
        if (n >= 2 && name[0] == s[0] && name[1] == s[1] && tnt__streq_n(name, s, n))
            return &g_schemes[i];
    }
    return NULL;
}

static const scheme *scheme_by_type(tnt_id_type t)
{
    if (t == TNT_ID_GTIN)
        t = TNT_ID_SGTIN;
    if (t == TNT_ID_GLN)
        t = TNT_ID_SGLN;
    for (size_t i = 0; i < sizeof g_schemes / sizeof g_schemes[0]; i++)
        if (g_schemes[i].type == t)
            return &g_schemes[i];
    return NULL;
}

/* ---- parsing ---- */

typedef struct span {
    const char *s;
    size_t n;
} span;

static bool all_digits(span c)
{
    for (size_t i = 0; i < c.n; i++)
        if (c.s[i] < '0' || c.s[i] > '9')
            return false;
    return true;
}

/* Characters an EPC URN component may carry unescaped (TDS GS3A3 chars
 * without the ones that must be %-escaped). */
static bool urn_raw_ok(unsigned char c) { return tnt__is(c, TNT__C_URNRAW); }

/* Unescape component c onto dst; false (error recorded) if malformed. */
static bool unescape(tnt__idp *p, char *dst, size_t *out, span c, const char *what)
{
    char ex[48];
    size_t o = 0;
    for (size_t i = 0; i < c.n; i++) {
        unsigned char ch = (unsigned char)c.s[i];
        if (ch == '%') {
            if (i + 2 >= c.n || tnt__hexval(c.s[i + 1]) < 0 || tnt__hexval(c.s[i + 2]) < 0) {
                tnt__id_fail(p, TNT__ID_ERR_ENCODING, "%s '%s': malformed %%-escape at character %zu", what,
                             tnt__id_excerpt(ex, sizeof ex, c.s, c.n), i + 1);
                return false;
            }
            dst[o++] = (char)(tnt__hexval(c.s[i + 1]) * 16 + tnt__hexval(c.s[i + 2]));
            i += 2;
        } else if (urn_raw_ok(ch)) {
            dst[o++] = (char)ch;
        } else {
            tnt__id_fail(p, TNT__ID_ERR_CHARSET, "%s '%s': character %zu must be %%-escaped or is not allowed",
                         what, tnt__id_excerpt(ex, sizeof ex, c.s, c.n), i + 1);
            return false;
        }
    }
    *out = o;
    return true;
}

static bool need_digits(tnt__idp *p, span c, size_t n, const char *what)
{
    char ex[48];
    if (!all_digits(c)) {
        tnt__id_fail(p, TNT__ID_ERR_CHARSET, "%s '%s' must be digits", what, tnt__id_excerpt(ex, sizeof ex, c.s, c.n));
        return false;
    }
    if (c.n != n) {
        tnt__id_fail(p, TNT__ID_ERR_LENGTH, "%s '%s' must have %zu digits with this company prefix", what,
                     tnt__id_excerpt(ex, sizeof ex, c.s, c.n), n);
        return false;
    }
    return true;
}

/* Builds a value in the AI list from pieces; the check digit, when asked
 * for, is computed over the digits written so far. */
typedef struct build {
    tnt__idp *p;
    char *v;
    size_t n;
    bool ok;
} build;

static void b_start(build *b, tnt__idp *p)
{
    b->p = p;
    b->n = 0;
    b->v = tnt__id_reserve(p, TNT__ID_MAX_INPUT);
    b->ok = b->v != NULL;
    if (!b->ok)
        tnt__id_fail(p, TNT__ID_ERR_TOO_LONG, "identifier values exceed the buffer");
}

static void b_put(build *b, const char *s, size_t n)
{
    if (b->ok) {
        memcpy(b->v + b->n, s, n);
        b->n += n;
    }
}

static void b_check_digit(build *b, size_t from)
{
    if (b->ok) {
        b->v[b->n] = (char)('0' + tnt__mod10(b->v + from, b->n - from));
        b->n++;
    }
}

static bool b_unescape(build *b, span c, const char *what)
{
    size_t m;
    if (!b->ok || !unescape(b->p, b->v + b->n, &m, c, what))
        return b->ok = false;
    b->n += m;
    return true;
}

static tnt__id_ai *b_add(build *b, const char *ai, uint8_t role)
{
    if (!b->ok)
        return NULL;
    tnt__id_ai *a = tnt__id_add_reserved(b->p, ai, strlen(ai), b->n, 0);
    if (a)
        a->role = role;
    return a;
}

/* A key made only of checked digits and a computed check digit is valid
 * by construction; the value check would only repeat the work. */
static void b_add_key(build *b, const char *ai)
{
    tnt__id_ai *a = b_add(b, ai, TNT__ROLE_KEY);
    if (a)
        a->trusted = true;
}

/* Splits body into k components; the last takes the rest, dots included
 * (serial numbers may contain dots). */
static bool split(tnt__idp *p, const char *s, size_t n, span *c, size_t k, const char *sch)
{
    size_t start = 0;
    for (size_t i = 0; i + 1 < k; i++) {
        const char *dot = memchr(s + start, '.', n - start);
        if (!dot) {
            tnt__id_fail(p, TNT__ID_ERR_SYNTAX, "%s URN: %zu dot-separated components expected", sch, k);
            return false;
        }
        c[i].s = s + start;
        c[i].n = (size_t)(dot - (s + start));
        start = (size_t)(dot - s) + 1;
    }
    c[k - 1].s = s + start;
    c[k - 1].n = n - start;
    return true;
}

static size_t ncomponents(const scheme *sc)
{
    switch (sc->lay) {
    case LAY_ITIP: return 5;
    case LAY_SSCC: case LAY_NUM: case LAY_FREE: return 2;
    default: return 3;
    }
}

static bool is_star(span c) { return c.n == 1 && c.s[0] == '*'; }

/* Stars only where a pattern has them, and a 6..12-digit company prefix. */
static bool check_shape(tnt__idp *p, const span *c, size_t k, bool pattern, const char *s, size_t n)
{
    char ex[48];
    for (size_t i = 0; i + 1 < k; i++)
        if (is_star(c[i])) {
            tnt__id_fail(p, TNT__ID_ERR_PATTERN, "pattern '%s': only the last component may be *",
                         tnt__id_excerpt(ex, sizeof ex, s, n));
            return false;
        }
    if (pattern != is_star(c[k - 1])) {
        tnt__id_fail(p, TNT__ID_ERR_PATTERN, pattern ? "pattern '%s' must end in .*"
                                                     : "'%s': '*' is only allowed in urn:epc:idpat: patterns",
                     tnt__id_excerpt(ex, sizeof ex, s, n));
        return false;
    }
    if (!all_digits(c[0]) || c[0].n < 6 || c[0].n > 12) {
        tnt__id_fail(p, TNT__ID_ERR_GCP_LENGTH, "company prefix '%s' must be 6 to 12 digits",
                     tnt__id_excerpt(ex, sizeof ex, c[0].s, c[0].n));
        return false;
    }
    return true;
}

/* GTIN (and ITIP): indicator digit, company prefix, item reference, check
 * digit; an ITIP adds piece and total. */
static bool key_gtin(build *b, const scheme *sc, const span *c, size_t g)
{
    if (!need_digits(b->p, c[1], 13 - g, "indicator and item reference"))
        return false;
    b_put(b, c[1].s, 1);
    b_put(b, c[0].s, g);
    b_put(b, c[1].s + 1, c[1].n - 1);
    b_check_digit(b, 0);
    if (sc->lay != LAY_ITIP) {
        b_add_key(b, sc->ai);
        return b->ok;
    }
    if (!need_digits(b->p, c[2], 2, "piece number") || !need_digits(b->p, c[3], 2, "total pieces"))
        return false;
    b_put(b, c[2].s, 2);
    b_put(b, c[3].s, 2);
    return b_add(b, sc->ai, TNT__ROLE_KEY) != NULL; /* piece/total still to check */
}

/* SSCC: extension digit, company prefix, serial reference, check digit. */
static bool key_sscc(build *b, const scheme *sc, const span *c, size_t g)
{
    if (!need_digits(b->p, c[1], 17 - g, "extension digit and serial reference"))
        return false;
    b_put(b, c[1].s, 1);
    b_put(b, c[0].s, g);
    b_put(b, c[1].s + 1, c[1].n - 1);
    b_check_digit(b, 0);
    b_add_key(b, sc->ai);
    return b->ok;
}

/* Company prefix, reference, check digit, and for GRAI, GDTI and SGCN the
 * serial in the same AI (GRAI with a leading 0). */
static bool key_numeric(build *b, const scheme *sc, const span *c, size_t g, bool pattern)
{
    bool grai = sc->type == TNT_ID_GRAI;
    if (!need_digits(b->p, c[1], sc->refdigits - g, "reference"))
        return false;
    if (grai)
        b_put(b, "0", 1);
    b_put(b, c[0].s, g);
    b_put(b, c[1].s, c[1].n);
    b_check_digit(b, grai ? 1 : 0);
    if (sc->lay != LAY_SERIAL || pattern) {
        b_add_key(b, sc->ai);
        return b->ok;
    }
    /* Without its serial the key names a class, which has no EPC URN. */
    if (!c[2].n) {
        tnt__id_fail(b->p, TNT__ID_ERR_LENGTH, "%s URN: empty serial", sc->name);
        return false;
    }
    return b_unescape(b, c[2], "serial") && b_add(b, sc->ai, TNT__ROLE_KEY) != NULL;
}

/* Company prefix and a free reference: GIAI, GINC and the CPI part. */
static bool key_free(build *b, const scheme *sc, const span *c, size_t g)
{
    if (!c[1].n) {
        tnt__id_fail(b->p, TNT__ID_ERR_LENGTH, "%s URN: empty reference after the company prefix", sc->name);
        return false;
    }
    b_put(b, c[0].s, g);
    return b_unescape(b, c[1], sc->lay == LAY_CPI ? "component/part reference" : "reference") &&
           b_add(b, sc->ai, TNT__ROLE_KEY) != NULL;
}

static bool add_key(tnt__idp *p, const scheme *sc, const span *c, bool pattern)
{
    build b;
    b_start(&b, p);
    switch (sc->lay) {
    case LAY_GTIN:
    case LAY_ITIP: return key_gtin(&b, sc, c, c[0].n);
    case LAY_SSCC: return key_sscc(&b, sc, c, c[0].n);
    case LAY_GLN:
    case LAY_NUM:
    case LAY_SERIAL: return key_numeric(&b, sc, c, c[0].n, pattern);
    default: return key_free(&b, sc, c, c[0].n);
    }
}

/* The last component: serial, lot, TPX, GLN extension or CPI serial. */
static void add_qualifier(tnt__idp *p, const scheme *sc, span last)
{
    build b;
    b_start(&b, p);
    if (!b_unescape(&b, last, sc->qual_what))
        return;
    if (sc->lay == LAY_GLN && b.n == 1 && b.v[0] == '0')
        return; /* extension 0: a GLN without extension */
    b_add(&b, sc->qual, TNT__ROLE_QUALIFIER);
}

/* The body of one URN; pattern: the last component is "*". */
static void parse_body(tnt__idp *p, const scheme *sc, const char *s, size_t n, bool pattern)
{
    span c[5];
    size_t k = ncomponents(sc);
    if (!split(p, s, n, c, k, sc->name) || !check_shape(p, c, k, pattern, s, n))
        return;
    p->gcp_len = (int)c[0].n;
    if (add_key(p, sc, c, pattern) && !pattern && sc->qual)
        add_qualifier(p, sc, c[k - 1]);
}

static bool prefix_ci(const char *s, const char *lit, size_t n)
{
    if (!memcmp(s, lit, n))
        return true; /* the usual lower case */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

static tnt_id_level level_of(const scheme *sc, tnt_id_form form)
{
    if (form == TNT_ID_FORM_EPC_PATTERN)
        return TNT_ID_LEVEL_PATTERN;
    return sc->type == TNT_ID_LGTIN ? TNT_ID_LEVEL_CLASS : TNT_ID_LEVEL_INSTANCE;
}

void tnt__id_parse_urn(tnt__idp *p, const char *s, size_t n)
{
#define KIND(prefix, form) {prefix, sizeof prefix - 1, form}
    static const struct {
        const char *prefix;
        size_t len;
        tnt_id_form form;
    } kinds[] = {
        KIND("urn:epc:id:", TNT_ID_FORM_EPC_URN),
        KIND("urn:epc:class:", TNT_ID_FORM_EPC_CLASS),
        KIND("urn:epc:idpat:", TNT_ID_FORM_EPC_PATTERN),
    };
#undef KIND
    char ex[48];
    size_t i = 0, pre = 0;
    for (; i < 3; i++) {
        pre = kinds[i].len;
        if (n >= pre && prefix_ci(s, kinds[i].prefix, pre))
            break;
    }
    if (i == 3) {
        tnt__id_fail(p, TNT__ID_ERR_UNKNOWN_SCHEME, "'%s' is not a GS1 EPC URN (urn:epc:id:, urn:epc:class: or urn:epc:idpat:)",
                     tnt__id_excerpt(ex, sizeof ex, s, n));
        return;
    }
    p->form = kinds[i].form;
    const char *name = s + pre;
    const char *colon = memchr(name, ':', n - pre);
    const scheme *sc = colon ? scheme_by_name(name, (size_t)(colon - name)) : NULL;
    bool ok = sc && (p->form == TNT_ID_FORM_EPC_CLASS ? sc->type == TNT_ID_LGTIN
                     : p->form == TNT_ID_FORM_EPC_PATTERN ? sc->pattern
                                                          : sc->type != TNT_ID_LGTIN);
    if (!ok) {
        size_t nn = colon ? (size_t)(colon - name) : n - pre;
        tnt__id_fail(p, sc ? TNT__ID_ERR_PATTERN : TNT__ID_ERR_UNKNOWN_SCHEME,
                     "'%.*s%s' is not a supported GS1 EPC scheme", (int)pre, s,
                     tnt__id_excerpt(ex, sizeof ex, name, nn));
        return;
    }
    p->type = sc->type;
    p->level = level_of(sc, p->form);
    parse_body(p, sc, colon + 1, n - (size_t)(colon + 1 - s), p->form == TNT_ID_FORM_EPC_PATTERN);
    if (p->type == TNT_ID_SGLN && p->nais == 1 && p->form == TNT_ID_FORM_EPC_URN)
        p->type = TNT_ID_GLN;
}

/* ---- formatting ---- */

static void w_escape(tnt__w *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* A component that is just "*" would read as a pattern. */
        if ((strchr("\"%&/<>?#", c) && c) || (c == '*' && n == 1)) {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            tnt__w_put(w, esc, 3);
        } else {
            tnt__w_put(w, s + i, 1);
        }
    }
}

/* Whether a URN exists for this identifier at its level; the reason
 * goes to the thread-local error when not. */
static tnt_status urn_possible(const tnt__idp *p, const scheme *sc, bool pattern)
{
    if (!sc || p->nais == 0)
        return tnt__error(TNT_E_UNSUPPORTED, "no EPC URN for this identifier");
    if (p->type == TNT_ID_ITIP && pattern && tnt__id_qualifier(p, "10"))
        return tnt__error(TNT_E_UNSUPPORTED, "ID_VALUE: an ITIP with a batch/lot and no serial has no EPC URN");
    /* the URN has no place for the SRIN: written without it, each service
     * encounter would be the relation itself */
    if ((p->type == TNT_ID_GSRN || p->type == TNT_ID_GSRNP) && tnt__id_qualifier(p, "8019"))
        return tnt__error(TNT_E_UNSUPPORTED, "ID_VALUE: a GSRN with a service relation instance number (8019) has no EPC URN");
    if (pattern && !sc->pattern)
        return tnt__error(TNT_E_UNSUPPORTED, "no EPC pattern URN for %s", sc->name);
    if (p->gcp_len == 0)
        return tnt__error(TNT_E_GCP, "ID_GCP_UNKNOWN: the company prefix length of (%s) %s is unknown; "
                                     "set tnt_id_options.gcp_length or a GCP table",
                          p->ais[0].code, p->vals + p->ais[0].off);
    if (p->gcp_len < 6)
        return tnt__error(TNT_E_UNSUPPORTED, "EPC URNs need a company prefix of 6 to 12 digits, not %d",
                          p->gcp_len);
    return TNT_OK;
}

/* The components after the company prefix, from the key. */
static void w_key_rest(tnt__w *w, const scheme *sc, const char *v, size_t len, size_t g, bool pattern)
{
    switch (sc->lay) {
    case LAY_GTIN:
    case LAY_ITIP:
        tnt__w_put(w, v, 1);              /* indicator */
        tnt__w_put(w, v + 1 + g, 12 - g); /* item reference, no check digit */
        if (sc->lay == LAY_ITIP) {
            tnt__w_put(w, ".", 1);
            tnt__w_put(w, v + 14, 2);
            tnt__w_put(w, ".", 1);
            tnt__w_put(w, v + 16, 2);
        }
        break;
    case LAY_SSCC:
        tnt__w_put(w, v, 1); /* extension digit */
        tnt__w_put(w, v + 1 + g, 16 - g);
        break;
    case LAY_GLN:
    case LAY_NUM:
        tnt__w_put(w, v + g, sc->refdigits - g);
        break;
    case LAY_SERIAL: {
        size_t off = sc->type == TNT_ID_GRAI ? 1 : 0;
        tnt__w_put(w, v + off + g, 12 - g);
        if (!pattern) {
            tnt__w_put(w, ".", 1);
            w_escape(w, v + off + 13, len - off - 13);
        }
        break;
    }
    case LAY_FREE:
    case LAY_CPI:
        w_escape(w, v + g, len - g);
        break;
    }
}

tnt_status tnt__id_format_urn(char *out, size_t cap, size_t *len_out, const tnt__idp *p)
{
    const scheme *sc = scheme_by_type(p->type);
    bool pattern = p->level == TNT_ID_LEVEL_PATTERN || (p->level == TNT_ID_LEVEL_CLASS && p->type != TNT_ID_LGTIN);
    *len_out = 0;
    tnt_status st = urn_possible(p, sc, pattern);
    if (st != TNT_OK)
        return st;
    const tnt__id_ai *k = &p->ais[0];
    const char *v = p->vals + k->off;
    size_t g = (size_t)p->gcp_len;
    /* Where the company prefix starts: after an indicator, extension or filler digit. */
    bool skip = sc->lay == LAY_GTIN || sc->lay == LAY_ITIP || sc->lay == LAY_SSCC || sc->type == TNT_ID_GRAI;

    tnt__w w;
    tnt__w_init(&w, out, cap);
    tnt__w_str(&w, pattern ? "urn:epc:idpat:" : p->type == TNT_ID_LGTIN ? "urn:epc:class:" : "urn:epc:id:");
    tnt__w_str(&w, sc->name);
    tnt__w_put(&w, ":", 1);
    tnt__w_put(&w, v + skip, g);
    tnt__w_put(&w, ".", 1);
    w_key_rest(&w, sc, v, k->len, g, pattern);
    if (pattern) {
        tnt__w_put(&w, ".*", 2);
    } else if (sc->qual) {
        /* A GLN without extension has the extension 0. */
        const char *q = tnt__id_qualifier(p, sc->qual);
        tnt__w_put(&w, ".", 1);
        if (!q && sc->lay == LAY_GLN)
            q = "0";
        if (q)
            w_escape(&w, q, strlen(q));
    }
    *len_out = tnt__w_end(&w);
    if (!*len_out)
        return tnt__error(TNT_E_TOOBIG, "EPC URN does not fit in %zu bytes", cap);
    return TNT_OK;
}
