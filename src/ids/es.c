/*
 * GS1 element strings, raw barcode data and plain GTINs.
 *
 *  - element string: (01)09506000134352(21)ABC123 — a literal "(" inside a
 *    value is written "\(" (as GS1's syntax engine does);
 *  - barcode data: AI digits and values run together, FNC1 written as GS
 *    (ASCII 29) or "^", with an optional AIM symbology identifier (]C1
 *    GS1-128, ]e0 GS1 DataBar, ]d2 GS1 DataMatrix, ]Q3 GS1 QR Code, ]J1 GS1
 *    DotCode; ]E0/]E4 EAN-13/EAN-8; ]d1/]Q1 plain data such as a Digital
 *    Link URI). Values of predefined or fixed length need no separator;
 *    variable-length ones end at a separator or at the end;
 *  - plain: a bare GTIN-8/12/13/14, optionally followed by whitespace and a
 *    serial number (an SGTIN).
 */
#include <string.h>

#include "ids.h"

static bool is_fnc1(char c) { return c == 0x1d || c == '^'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

void tnt__id_parse_element_string(tnt__idp *p, const char *s, size_t n)
{
    char ex[48];
    p->form = TNT_ID_FORM_ELEMENT_STRING;
    size_t i = 0;
    while (i < n) {
        size_t open = i++;
        size_t c0 = i;
        while (i < n && is_digit(s[i]))
            i++;
        size_t cn = i - c0;
        if (s[open] != '(' || i >= n || s[i] != ')' || cn < 2 || cn > 4) {
            tnt__id_fail(p, TNT__ID_ERR_SYNTAX, "'(' AI ')' expected at character %zu of '%s'", open + 1,
                         tnt__id_excerpt(ex, sizeof ex, s, n));
            return;
        }
        i++;
        char *dst = tnt__id_reserve(p, n - i);
        if (!dst) {
            tnt__id_fail(p, TNT__ID_ERR_TOO_LONG, "identifier values exceed the buffer");
            return;
        }
        size_t o = 0;
        while (i < n && s[i] != '(') {
            if (s[i] == '\\' && i + 1 < n && s[i + 1] == '(')
                i++;
            dst[o++] = s[i++];
        }
        tnt__id_add_reserved(p, s + c0, cn, o, c0);
    }
}

/* Run-together AI data after any symbology identifier and leading FNC1. */
static void parse_ai_data(tnt__idp *p, const char *s, size_t n, size_t base)
{
    char ex[48];
    size_t i = 0;
    while (i < n) {
        if (is_fnc1(s[i])) {
            i++;
            continue;
        }
        size_t k;
        const tnt__ai *ai = tnt__ai_match(s + i, n - i, &k);
        if (!ai && (!k || k > n - i || !(p->flags & TNT_ID_F_PERMIT_UNKNOWN_AIS))) {
            tnt__id_fail(p, TNT__ID_ERR_UNKNOWN_AI, "unknown application identifier at character %zu: '%s'",
                         base + i + 1, tnt__id_excerpt(ex, sizeof ex, s + i, n - i < 4 ? n - i : 4));
            return;
        }
        size_t code = i;
        i += k;
        size_t fixed = ai ? tnt__ai_fixed_len(ai) : 0;
        size_t v = i;
        if (fixed)
            i = n - i < fixed ? n : i + fixed;
        else
            while (i < n && !is_fnc1(s[i]))
                i++;
        char *dst = tnt__id_reserve(p, i - v);
        if (!dst) {
            tnt__id_fail(p, TNT__ID_ERR_TOO_LONG, "identifier values exceed the buffer");
            return;
        }
        memcpy(dst, s + v, i - v);
        tnt__id_push(p, ai, s + code, k, i - v, base + code);
    }
}

void tnt__id_parse_barcode(tnt__idp *p, const char *s, size_t n)
{
    char ex[48];
    p->form = TNT_ID_FORM_BARCODE;
    if (s[0] != ']') {
        parse_ai_data(p, s, n, 0);
        return;
    }
    if (n < 3) {
        tnt__id_fail(p, TNT__ID_ERR_SYNTAX, "truncated symbology identifier '%s'", tnt__id_excerpt(ex, sizeof ex, s, n));
        return;
    }
    const char *id = s + 1;
    static const char *const gs1_ids[] = {"C1", "e0", "d2", "Q3", "J1"};
    for (size_t i = 0; i < sizeof gs1_ids / sizeof gs1_ids[0]; i++)
        if (!memcmp(id, gs1_ids[i], 2)) {
            parse_ai_data(p, s + 3, n - 3, 3);
            return;
        }
    if (!memcmp(id, "E0", 2) || !memcmp(id, "E4", 2)) {
        /* EAN-13 / UPC-A (13 digits) and EAN-8 carry a bare GTIN. */
        size_t want = id[1] == '0' ? 13 : 8;
        if (n - 3 != want) {
            tnt__id_fail(p, TNT__ID_ERR_LENGTH, "]%.2s data must be %zu digits", id, want);
            return;
        }
        char gtin[14];
        memset(gtin, '0', 14 - want);
        memcpy(gtin + 14 - want, s + 3, want);
        tnt__id_add(p, "01", 2, gtin, 14, 3);
        return;
    }
    if ((!memcmp(id, "d1", 2) || !memcmp(id, "Q1", 2)) && n > 3 && s[3] != ']') {
        /* Plain data: typically a Digital Link URI. */
        const char *rest = s + 3;
        size_t rn = n - 3;
        if (rn >= 7 && (!strncmp(rest, "http", 4) || !strncmp(rest, "HTTP", 4)))
            tnt__id_parse_dl(p, rest, rn);
        else
            tnt__id_fail(p, TNT__ID_ERR_SYNTAX, "]%.2s data is not a GS1 Digital Link URI", id);
        return;
    }
    tnt__id_fail(p, TNT__ID_ERR_SYNTAX, "symbology identifier ']%s' does not carry GS1 data",
                 tnt__id_excerpt(ex, sizeof ex, id, 2));
}

void tnt__id_parse_plain(tnt__idp *p, const char *s, size_t n)
{
    p->form = TNT_ID_FORM_PLAIN;
    size_t d = 0;
    while (d < n && is_digit(s[d]))
        d++;
    char gtin[14];
    memset(gtin, '0', 14 - d);
    memcpy(gtin + 14 - d, s, d);
    tnt__id_add(p, "01", 2, gtin, 14, 0);
    size_t i = d;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n)
        tnt__id_add(p, "21", 2, s + i, n - i, i);
}

size_t tnt__id_format_element_string(char *out, size_t cap, const tnt__idp *p)
{
    tnt__w w;
    tnt__w_init(&w, out, cap);
    for (size_t i = 0; i < p->nais; i++) {
        const tnt__id_ai *a = &p->ais[i];
        const char *v = p->vals + a->off;
        tnt__w_put(&w, "(", 1);
        tnt__w_str(&w, a->code);
        tnt__w_put(&w, ")", 1);
        for (size_t j = 0; j < a->len; j++) {
            if (v[j] == '(')
                tnt__w_put(&w, "\\", 1);
            tnt__w_put(&w, v + j, 1);
        }
    }
    return tnt__w_end(&w);
}
