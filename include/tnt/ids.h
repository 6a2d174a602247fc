/*
 * libtnt — GS1 identifiers: parse, validate and convert the keys EPCIS uses,
 * in every form a partner sends them.
 *
 * Accepted forms:
 *  - EPC pure-identity URNs        urn:epc:id:sgtin:0614141.107346.2017
 *  - EPC class and pattern URNs    urn:epc:class:lgtin:4012345.012345.998877,
 *                                  urn:epc:idpat:sgtin:4012345.012345.*
 *  - GS1 Digital Link URIs         https://example.com/shop/01/09506000134352/21/ABC?17=261231
 *                                  (any domain and path prefix, key qualifiers,
 *                                   query attributes, percent-encoding)
 *  - GS1 element strings           (01)09506000134352(21)ABC123
 *  - raw barcode data              ]d2 + 0109506000134352 21ABC123 <GS> 10LOT
 *                                  (FNC1 as ASCII 29 or "^", optional AIM prefix)
 *  - plain GTIN, optionally with a serial: "09506000134352", "9506000134352 ABC123"
 *
 * Every identifier has one canonical form, the GS1 Digital Link URI on
 * https://id.gs1.org with the key and its qualifiers only (14-digit GTIN),
 * so the same unit is one key whatever form it arrived in.
 *
 * Converting to an EPC URN needs the length of the GS1 Company Prefix, which
 * Digital Link URIs and element strings do not carry: give it as
 * tnt_id_options.gcp_length or through a tnt_gcp_table; when it is unknown the
 * conversion fails with TNT_E_GCP instead of guessing.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TNT_IDS_H
#define TNT_IDS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Kinds of identifier. Numbers are stable. */
typedef enum tnt_id_type {
    TNT_ID_UNKNOWN = 0,
    TNT_ID_GTIN = 1,   /**< trade item class: (01) */
    TNT_ID_SGTIN = 2,  /**< serialised trade item: (01)+(21) */
    TNT_ID_LGTIN = 3,  /**< trade item batch/lot, class level: (01)+(10) */
    TNT_ID_SSCC = 4,   /**< logistic unit: (00) */
    TNT_ID_GLN = 5,    /**< location, no extension: (414) */
    TNT_ID_SGLN = 6,   /**< location with extension: (414)+(254) */
    TNT_ID_PGLN = 7,   /**< party: (417) */
    TNT_ID_GRAI = 8,   /**< returnable asset: (8003) */
    TNT_ID_GIAI = 9,   /**< individual asset: (8004) */
    TNT_ID_GSRN = 10,  /**< service relation, provider: (8018) */
    TNT_ID_GSRNP = 11, /**< service relation, recipient: (8017) */
    TNT_ID_GDTI = 12,  /**< document type: (253) */
    TNT_ID_CPI = 13,   /**< component/part: (8010)+(8011) */
    TNT_ID_SGCN = 14,  /**< coupon: (255) */
    TNT_ID_GINC = 15,  /**< consignment: (401) */
    TNT_ID_GSIN = 16,  /**< shipment: (402) */
    TNT_ID_ITIP = 17,  /**< trade item piece: (8006)+(21) */
    TNT_ID_UPUI = 18   /**< unit pack identifier: (01)+(235) */
} tnt_id_type;

/** Levels: an instance, a class of instances, or a pattern (idpat). */
typedef enum tnt_id_level {
    TNT_ID_LEVEL_INSTANCE = 0,
    TNT_ID_LEVEL_CLASS = 1,
    TNT_ID_LEVEL_PATTERN = 2
} tnt_id_level;

/** The form an identifier arrived in. */
typedef enum tnt_id_form {
    TNT_ID_FORM_NONE = 0,
    TNT_ID_FORM_EPC_URN = 1,        /**< urn:epc:id: */
    TNT_ID_FORM_EPC_CLASS = 2,      /**< urn:epc:class: */
    TNT_ID_FORM_EPC_PATTERN = 3,    /**< urn:epc:idpat: */
    TNT_ID_FORM_DIGITAL_LINK = 4,   /**< http(s)://domain/.../01/... */
    TNT_ID_FORM_ELEMENT_STRING = 5, /**< (01)...(21)... */
    TNT_ID_FORM_BARCODE = 6,        /**< raw scan data with FNC1/GS separators */
    TNT_ID_FORM_PLAIN = 7           /**< a bare GTIN, optionally with a serial */
} tnt_id_form;

/** A table of GS1 Company Prefix lengths by prefix (longest match wins). */
typedef struct tnt_gcp_table tnt_gcp_table;

/** A reusable identifier parser and its last result. */
typedef struct tnt_id tnt_id;

/** Parse options. Initialise with TNT_ID_OPTIONS_INIT or tnt_id_options_init(). */
typedef struct tnt_id_options {
    unsigned int version;              /**< TNT_ID_OPTIONS_VERSION */
    int gcp_length;                    /**< company prefix length 6..12 when known, else 0 */
    const tnt_gcp_table *gcp_table;    /**< borrowed; consulted when gcp_length is 0; may be NULL */
    unsigned int flags;                /**< TNT_ID_F_* */
} tnt_id_options;

#define TNT_ID_OPTIONS_VERSION 1
#define TNT_ID_OPTIONS_INIT {TNT_ID_OPTIONS_VERSION, 0, NULL, 0}

/** Accept AIs unknown to this release as Digital Link / element string attributes.
 *  (Check digits are always verified: no flag turns that off.) */
#define TNT_ID_F_PERMIT_UNKNOWN_AIS 0x1u
/** Accept zero-suppressed GTIN-8/12/13 in Digital Link paths (they are canonicalised to 14 digits). */
#define TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL 0x2u

/**
 * Initialise an options struct to the defaults of the given version.
 * @return TNT_OK; TNT_E_INVALID for version 0 or one newer than the library knows
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_id_options_init(tnt_id_options *opts, unsigned int version);

/**
 * Create a parser.
 * @param[out] out caller owns; free with tnt_id_free()
 * @return TNT_OK or TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_id_new(tnt_id **out);

/** Free a parser; NULL is a no-op. Thread-safety: safe per handle. @since 1.0 */
TNT_EXTERN void tnt_id_free(tnt_id *id);

/**
 * Parse and validate an identifier in any accepted form.
 * The result replaces the previous one held by @p id.
 * @param id     the parser
 * @param text   the identifier; need not be NUL-terminated
 * @param len    its length in bytes
 * @param opts   options, or NULL for defaults
 * @return TNT_OK if valid; TNT_E_INVALID with the errors in tnt_id_error_at();
 *         TNT_E_TOOBIG above 4096 bytes
 * Thread-safety: safe per handle (do not share a handle concurrently). @since 1.0
 */
TNT_EXTERN tnt_status tnt_id_parse(tnt_id *id, const char *text, size_t len, const tnt_id_options *opts);

/** Type of the last parsed identifier (TNT_ID_UNKNOWN if invalid). Thread-safety: safe per handle. @since 1.0 */
TNT_EXTERN tnt_id_type tnt_id_get_type(const tnt_id *id);
/** Level of the last parsed identifier. Thread-safety: safe per handle. @since 1.0 */
TNT_EXTERN tnt_id_level tnt_id_get_level(const tnt_id *id);
/** Form the last parsed identifier arrived in. Thread-safety: safe per handle. @since 1.0 */
TNT_EXTERN tnt_id_form tnt_id_get_form(const tnt_id *id);

/**
 * Lower-case name of an identifier type: "sgtin", "sscc", … ("unknown").
 * @return a static string. Thread-safety: safe. @since 1.0
 */
TNT_EXTERN const char *tnt_id_type_name(tnt_id_type type);

/**
 * The canonical form: https://id.gs1.org/ + the primary key and its key
 * qualifiers (no data attributes), 14-digit GTIN.
 * @return borrowed; valid until the next parse or free of @p id; NULL if the
 *         last parse failed
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN const char *tnt_id_canonical(const tnt_id *id);

/**
 * A GS1 Digital Link URI for the identifier with its data attributes
 * (expiry, batch, …) as query parameters.
 * @param[out] out caller owns; free with tnt_free()
 * @param stem  "https://example.com/path" or NULL for https://id.gs1.org
 * @return TNT_OK, TNT_E_INVALID (no valid identifier parsed, bad stem), TNT_E_NOMEM
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_id_digital_link(char **out, const tnt_id *id, const char *stem);

/**
 * The EPC URN (pure identity, class or pattern as the level says).
 * @param[out] out caller owns; free with tnt_free()
 * @return TNT_OK; TNT_E_GCP when the company prefix length is not known
 *         (neither carried by the input nor given in the options);
 *         TNT_E_UNSUPPORTED for a key with no EPC URN; TNT_E_INVALID; TNT_E_NOMEM
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_id_epc_urn(char **out, const tnt_id *id);

/**
 * The GS1 element string with parentheses, key first, then qualifiers and
 * attributes: "(01)09506000134352(21)ABC123(17)261231".
 * @return borrowed; valid until the next parse or free; NULL if invalid
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN const char *tnt_id_element_string(const tnt_id *id);

/**
 * The company prefix length used for the last parse, 0 if unknown.
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN int tnt_id_gcp_length(const tnt_id *id);

/** Number of application identifiers in the last parse (key, qualifiers, attributes). @since 1.0 */
TNT_EXTERN size_t tnt_id_ai_count(const tnt_id *id);

/**
 * One application identifier of the last parse, in element-string order.
 * @param[out] ai_out    borrowed AI digits ("01"); valid until the next parse
 * @param[out] value_out borrowed value (percent-decoded)
 * @return TNT_OK or TNT_E_NOTFOUND past the end
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_id_ai_at(const char **ai_out, const char **value_out, const tnt_id *id, size_t index);

/**
 * Value of one AI ("17" → "261231"), or NULL if absent. Borrowed.
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN const char *tnt_id_get_ai(const tnt_id *id, const char *ai);

/** Number of errors of the last parse (0 when valid). @since 1.0 */
TNT_EXTERN size_t tnt_id_error_count(const tnt_id *id);

/**
 * One error of the last parse.
 * @param[out] code_out    borrowed stable code ("ID_CHECK_DIGIT"); may be NULL
 * @param[out] message_out borrowed human text; may be NULL
 * @return TNT_OK or TNT_E_NOTFOUND past the end
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_id_error_at(const char **code_out, const char **message_out, const tnt_id *id, size_t index);

/**
 * One-shot: the canonical form of an identifier.
 * @param[out] out caller owns; free with tnt_free()
 * @return TNT_OK, TNT_E_INVALID (detail in tnt_error_last()), TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_id_normalize(char **out, const char *text, size_t len, const tnt_id_options *opts);

/**
 * The GS1 mod-10 check digit of a string of digits (GTIN, SSCC, GLN, …
 * without their check digit).
 * @return 0..9, or -1 if @p digits is empty or holds a non-digit
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN int tnt_gs1_check_digit(const char *digits, size_t len);

/* ---- company prefix tables ---- */

/** Create an empty table. @param[out] out caller owns; free with tnt_gcp_table_free(). Thread-safety: safe. @since 1.0 */
TNT_EXTERN tnt_status tnt_gcp_table_new(tnt_gcp_table **out);

/** Free a table; NULL is a no-op. @since 1.0 */
TNT_EXTERN void tnt_gcp_table_free(tnt_gcp_table *table);

/**
 * Add a prefix: every key whose digits (after the GTIN indicator digit, if
 * any) start with @p prefix has a company prefix of @p length digits.
 * @return TNT_OK; TNT_E_INVALID for a non-digit prefix or a length outside 4..12
 * Thread-safety: safe per handle; a table being read by parsers must not be changed.
 * @since 1.0
 */
TNT_EXTERN tnt_status tnt_gcp_table_add(tnt_gcp_table *table, const char *prefix, int length);

/**
 * Load prefixes from a file: CSV lines "prefix,length" (a header line and
 * '#' comments are skipped) or GS1's GCP length list in JSON
 * ({"GCPPrefixFormatList":{"entry":[{"prefix":"…","gcpLength":N}]}}).
 * @return TNT_OK, TNT_E_IO, TNT_E_INVALID (detail in tnt_error_last()), TNT_E_NOMEM
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_gcp_table_load(tnt_gcp_table *table, const char *path);

/**
 * Company prefix length for a key's digits (longest matching prefix).
 * @return TNT_OK, or TNT_E_NOTFOUND
 * Thread-safety: safe (read-only). @since 1.0
 */
TNT_EXTERN tnt_status tnt_gcp_table_lookup(int *length_out, const tnt_gcp_table *table, const char *digits);

#ifdef __cplusplus
}
#endif
#endif /* TNT_IDS_H */
