/*
 * GS1 identifiers — the internal interface.
 *
 * Everything here works in caller-provided, fixed-size memory and never
 * allocates, so event normalisation and the event hash can canonicalise
 * every identifier of a document on the hot path.
 *
 * Data flow: a form parser (urn.c, dl.c, es.c) turns the text into a list
 * of application identifiers (AIs) with decoded values; ai.c validates each
 * value against the GS1 AI table; parse.c finds the primary key, its
 * qualifiers and the identifier type, and resolves the company prefix
 * length; the formatters (canonical DL, DL with attributes, EPC URN,
 * element string) write from that list.
 */
#ifndef TNT_IDS_INTERNAL_H
#define TNT_IDS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "tnt/ids.h"

/* Inputs above this size are refused (TNT_E_TOOBIG) before any work. */
#define TNT__ID_MAX_INPUT 4096
/* AIs one identifier may carry: key, qualifiers and data attributes. */
#define TNT__ID_MAX_AIS 32
/* Errors kept per parse; further ones are counted (nerr), not kept. */
#define TNT__ID_MAX_ERRORS 8
/* Room for the decoded values: never more than the input plus NULs. */
#define TNT__ID_VALUES_CAP (TNT__ID_MAX_INPUT + TNT__ID_MAX_AIS + 64)
/* The canonical form always fits: a key and two qualifiers, each value
 * at most 30 characters percent-encoded to 90. */
#define TNT__ID_CANONICAL_CAP 512

/* Internal parse flags, above the public TNT_ID_F_* bits. */
#define TNT__ID_F_KEY_ONLY 0x100u /* ignore data attributes (query string, extra AIs) */
#define TNT__ID_F_PUBLIC (TNT_ID_F_PERMIT_UNKNOWN_AIS | TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL)

/* Stable error codes reported by tnt_id_error_at(); never renumbered or
 * renamed. Rows are XX(name, short description). */
#define TNT__ID_ERROR_MAP(XX)                                                   \
    XX(EMPTY, "the input is empty")                                             \
    XX(TOO_LONG, "the input exceeds 4096 bytes")                                \
    XX(UNRECOGNISED, "not a GS1 identifier in any accepted form")               \
    XX(SYNTAX, "malformed identifier")                                          \
    XX(UNKNOWN_SCHEME, "not a GS1 EPC scheme")                                  \
    XX(PATTERN, "EPC pattern not supported")                                    \
    XX(ENCODING, "malformed percent-encoding")                                  \
    XX(CHARSET, "character not allowed")                                        \
    XX(LENGTH, "wrong length")                                                  \
    XX(CHECK_DIGIT, "wrong check digit")                                        \
    XX(DATE, "invalid date or time")                                            \
    XX(VALUE, "invalid value")                                                  \
    XX(UNKNOWN_AI, "unknown application identifier")                            \
    XX(NO_PRIMARY_KEY, "no GS1 primary key")                                    \
    XX(MULTIPLE_KEYS, "more than one primary key")                              \
    XX(UNSUPPORTED_KEY, "a GS1 key this library does not handle")               \
    XX(NOT_QUALIFIER, "not a key qualifier of the primary key")                 \
    XX(QUALIFIER_ORDER, "key qualifiers out of order")                          \
    XX(DUPLICATE_AI, "the same AI twice with different values")                 \
    XX(TOO_MANY_AIS, "too many application identifiers")                        \
    XX(GCP_LENGTH, "company prefix length does not fit the key")                \
    XX(GCP_UNKNOWN, "company prefix length unknown")                            \
    XX(OPTIONS, "invalid options")

typedef enum tnt__id_err {
    TNT__ID_OK = 0,
#define TNT__XX(name, text) TNT__ID_ERR_##name,
    TNT__ID_ERROR_MAP(TNT__XX)
#undef TNT__XX
} tnt__id_err;

/* "ID_CHECK_DIGIT" for TNT__ID_ERR_CHECK_DIGIT. */
const char *tnt__id_err_name(tnt__id_err code);

/* ---- the GS1 application identifier table (ai.c) ---- */

enum { TNT__CS_N = 1, TNT__CS_X, TNT__CS_Y, TNT__CS_Z }; /* numeric, CSET 82, 39, 64 */

typedef struct tnt__ai_comp {
    uint8_t cset;
    uint8_t min, max;  /* length; min 0 marks an optional final component */
    uint32_t lint;     /* TNT__LINT_* checks beyond the character set */
} tnt__ai_comp;

#define TNT__AI_PREDEF 0x1u /* predefined length: no FNC1 separator after it */
#define TNT__AI_DLKEY 0x2u  /* a GS1 Digital Link primary key */

typedef struct tnt__ai {
    char first[5], last[5]; /* the AI, or a range of AIs of one format */
    uint8_t flags;
    uint8_t ncomp;
    tnt__ai_comp comp[5];
    const char *title;
} tnt__ai;

/* The AI whose code is s[0..n) (2 to 4 digits), or NULL. */
const tnt__ai *tnt__ai_find(const char *s, size_t n);
/* The AI that a run of digits starts with (for data without parentheses);
 * *code_len gets its length. NULL if unknown; then *code_len is the length
 * such an AI would have by its first two digits, or 0. */
const tnt__ai *tnt__ai_match(const char *s, size_t n, size_t *code_len);
/* The rows of the table, for tests. */
size_t tnt__ai_count(void);
const tnt__ai *tnt__ai_row(size_t i);
/* Total length when every component is fixed, else 0. */
size_t tnt__ai_fixed_len(const tnt__ai *ai);
/* Length limits of a whole value. */
void tnt__ai_len_range(const tnt__ai *ai, size_t *min, size_t *max);

/* A validation failure: code, offset in the value and a short reason. */
typedef struct tnt__ai_fault {
    tnt__id_err code;
    size_t pos;
    const char *why;
} tnt__ai_fault;

/* Check a value against its AI's format; false with *f filled on failure. */
bool tnt__ai_check(const tnt__ai *ai, const char *v, size_t n, tnt__ai_fault *f);

/* Character classes: one table lookup per character. */
enum {
    TNT__C_N = 0x01,      /* digits */
    TNT__C_X = 0x02,      /* GS1 CSET 82 */
    TNT__C_Y = 0x04,      /* GS1 CSET 39 */
    TNT__C_Z = 0x08,      /* GS1 CSET 64 */
    TNT__C_SAFE = 0x10,   /* left as is by tnt__w_pct: A-Z a-z 0-9 - . _ ' ; = */
    TNT__C_URI = 0x20,    /* allowed in a URI (RFC 3986, and " as GS1 allows) */
    TNT__C_URNRAW = 0x40, /* unescaped in an EPC URN: CSET 82 less " % & / < > ? */
};
extern const uint8_t tnt__cclass[256];

static inline bool tnt__is(unsigned char c, unsigned cls) { return (tnt__cclass[c] & cls) != 0; }
static inline bool tnt__cset82(unsigned char c) { return tnt__is(c, TNT__C_X); }
/* GS1 mod-10 check digit of n digits (no validation). */
int tnt__mod10(const char *d, size_t n);

/* ---- one parsed identifier (parse.c) ---- */

enum { TNT__ROLE_KEY = 0, TNT__ROLE_QUALIFIER = 1, TNT__ROLE_ATTRIBUTE = 2 };

typedef struct tnt__id_ai {
    const tnt__ai *spec; /* NULL for an unknown AI (TNT_ID_F_PERMIT_UNKNOWN_AIS) */
    char code[5];        /* NUL-terminated AI digits */
    uint8_t role;
    uint16_t num;        /* the AI as a number, one per code (tnt__ai_num) */
    bool trusted;        /* built valid by its parser (a URN's key): not re-checked */
    uint16_t off, len;   /* the value in tnt__idp.vals, NUL-terminated */
    uint16_t src;        /* where it came from in the input, for messages */
} tnt__id_ai;

typedef struct tnt__id_error {
    tnt__id_err code;
    char msg[160];
} tnt__id_error;

typedef struct tnt__idp {
    tnt_id_type type;
    tnt_id_level level;
    tnt_id_form form;
    int gcp_len;        /* 0 when unknown */
    unsigned flags;
    size_t nais;
    size_t nerr;        /* errors found (may exceed TNT__ID_MAX_ERRORS) */
    size_t vlen;        /* bytes used in vals */
    tnt__id_ai ais[TNT__ID_MAX_AIS];
    tnt__id_error err[TNT__ID_MAX_ERRORS];
    char vals[TNT__ID_VALUES_CAP];
} tnt__idp;

/*
 * Parse and validate text in any accepted form into *p (no allocation).
 * gcp_length (0 or 6..12) and gcp (may be NULL) give the company prefix
 * length for inputs that do not carry it; flags are TNT_ID_F_* and
 * TNT__ID_F_*. Returns TNT_OK, TNT_E_INVALID (errors in p->err) or
 * TNT_E_TOOBIG.
 */
tnt_status tnt__id_parse(tnt__idp *p, const char *text, size_t len, int gcp_length,
                         const tnt_gcp_table *gcp, unsigned flags);

/* Empties *p for a new parse. */
void tnt__id_reset(tnt__idp *p, unsigned flags);

/* Value of one AI of a valid parse, or NULL. */
const char *tnt__id_value(const tnt__idp *p, const char *ai);
/* Value of a key qualifier (not of a data attribute), or NULL. */
const char *tnt__id_qualifier(const tnt__idp *p, const char *ai);

/*
 * The canonical GS1 Digital Link URI of text: https://id.gs1.org/ + the
 * primary key + the key qualifiers that identify it (see docs/ids.md), as
 * the EPCIS event hash wants it. Writes a NUL-terminated string into out
 * and returns its length; returns 0 (out untouched beyond out[0] = '\0'
 * when cap > 0) if text is not a valid GS1 identifier or does not fit, and
 * the caller keeps the value as it was. Accepts every form tnt_id_parse
 * does, zero-suppressed GTINs in Digital Link URIs included; data
 * attributes are ignored, not validated. Thread-safety: safe.
 */
size_t tnt__id_canonical(char *out, size_t cap, const char *text, size_t len);
/* tnt__id_canonical's first step: a text that is already a canonical SGTIN
 * Digital Link (https://id.gs1.org/01/<14 digits>/21/<serial of letters,
 * digits, - and _>, nothing after) is checked (the GTIN's check digit) and
 * copied without a parse. Returns 0 for anything else; when it returns a
 * length, the full parse gives the same string (test_ids checks it). */
size_t tnt__id_canonical_fast(char *out, size_t cap, const char *text, size_t len);

/* ---- formatters of a valid parse (each returns the length written,
 *      NUL excluded, or 0 when out is too small) ---- */

/* https://id.gs1.org/… canonical form. */
size_t tnt__id_format_canonical(char *out, size_t cap, const tnt__idp *p);
/* Element string with parentheses, key first. */
size_t tnt__id_format_element_string(char *out, size_t cap, const tnt__idp *p);
/* Digital Link on stem (NULL: https://id.gs1.org) with every qualifier in
 * the path and the data attributes in the query string. */
size_t tnt__id_format_dl(char *out, size_t cap, const tnt__idp *p, const char *stem, size_t stem_len);
/* Checks a stem for tnt__id_format_dl ("https://domain[/path]", no query);
 * *len_out gets its length without trailing slashes. */
bool tnt__id_dl_stem(const char *stem, size_t *len_out);
/* EPC URN as the level says. TNT_OK, TNT_E_GCP, TNT_E_UNSUPPORTED or
 * TNT_E_TOOBIG (out too small); the reason goes to tnt__error(). */
tnt_status tnt__id_format_urn(char *out, size_t cap, size_t *len_out, const tnt__idp *p);

/* ---- form parsers (urn.c, dl.c, es.c): fill p->ais, record errors ---- */

void tnt__id_parse_urn(tnt__idp *p, const char *s, size_t n);
void tnt__id_parse_dl(tnt__idp *p, const char *s, size_t n);
void tnt__id_parse_element_string(tnt__idp *p, const char *s, size_t n);
void tnt__id_parse_barcode(tnt__idp *p, const char *s, size_t n);
void tnt__id_parse_plain(tnt__idp *p, const char *s, size_t n);

/* Helpers the form parsers share (parse.c). */
void tnt__id_fail(tnt__idp *p, tnt__id_err code, const char *fmt, ...) TNT__PRINTF(3, 4);
/* Append an AI with its (already decoded) value; NULL when full. */
tnt__id_ai *tnt__id_add(tnt__idp *p, const char *code, size_t code_len, const char *v, size_t n,
                        size_t src);
/* Reserve n bytes in vals for a value being decoded in place; pair with
 * tnt__id_add_reserved(). NULL when full. */
char *tnt__id_reserve(tnt__idp *p, size_t n);
tnt__id_ai *tnt__id_add_reserved(tnt__idp *p, const char *code, size_t code_len, size_t n, size_t src);
/* The same when the caller has the AI's row already (NULL: unknown AI). */
tnt__id_ai *tnt__id_push(tnt__idp *p, const tnt__ai *spec, const char *code, size_t code_len, size_t n,
                         size_t src);
/* A printable excerpt of s for messages. */
const char *tnt__id_excerpt(char *buf, size_t cap, const char *s, size_t n);
/* Whether an AI (as a number) is a primary key this library handles. */
bool tnt__id_is_key(unsigned key);
/* Where qualifier q stands after key in a Digital Link path: 8 * sequence
 * + index (GTIN: 22 10 21 are 0 1 2, the alternative 235 is 8), or -1. */
int tnt__id_qpos(unsigned key, unsigned q);
/* The same for AI codes as strings. */
int tnt__id_qualifier_pos(const char *key, const char *code);
/* An AI code of 2 to 4 digits as a number, one per code ("0010" is not "10"). */
unsigned tnt__ai_num(const char *code, size_t n);

/* A bounded writer for the formatters: output past cap is dropped and
 * remembered, so a formatter checks once at the end. */
typedef struct tnt__w {
    char *buf;
    size_t cap, len;
    bool over;
} tnt__w;

void tnt__w_init(tnt__w *w, char *buf, size_t cap);
/* Inline: the formatters put a few bytes at a time. */
static inline void tnt__w_put(tnt__w *w, const char *s, size_t n)
{
    if (w->over || n >= w->cap - w->len) {
        w->over = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}
void tnt__w_str(tnt__w *w, const char *s);
/* Percent-encoding as the canonical form uses it: every byte except
 * letters, digits and - . _ ' ; = is written %XX (the EPCIS event-hash
 * reference encodes exactly these characters). */
void tnt__w_pct(tnt__w *w, const char *s, size_t n);
/* NUL-terminates; the length, or 0 if the output did not fit. */
size_t tnt__w_end(tnt__w *w);

/* ---- company prefix tables (gcp.c) ---- */
bool tnt__gcp_lookup(const tnt_gcp_table *t, const char *digits, size_t n, int *len_out);

#endif /* TNT_IDS_INTERNAL_H */
