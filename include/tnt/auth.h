/*
 * libtnt — authenticity: "is this product genuine?"
 *
 * tnt_engine_authenticate() takes a scanned code in any form (a GS1 Digital
 * Link with its query attributes, an element string, barcode data, an EPC
 * URN) and the context of the scan, runs the ordered checks of
 * docs/authenticity.md over what the engine stores, records the scan, and
 * answers with a verdict, a confidence, reason codes, the proof of origin,
 * the journey, and a signature over the answer made with the service's
 * Ed25519 key, which anyone can check offline.
 *
 * A status check never changes a product's state; a scan is recorded (as
 * coarse location and a hashed device, no personal data) so the next scan
 * of a cloned code sees the earlier ones.
 *
 * Brands sign their codes with tnt_sign_code() (tnt issue): the signature
 * travels in the Digital Link as AI 8030 (DIGSIG); the public keys come from
 * party master data.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TNT_AUTH_H
#define TNT_AUTH_H

#include "common.h"
#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Verdicts, from best to worst. Numbers are stable. */
typedef enum tnt_verdict_kind {
    TNT_VERDICT_GENUINE = 0,         /**< issued by the brand, in good standing, no conflict (green) */
    TNT_VERDICT_GENUINE_CAUTION = 1, /**< authentic origin with warnings (amber) */
    TNT_VERDICT_DO_NOT_USE = 2,      /**< genuine but recalled, withdrawn, expired or failed quality (red, safety) */
    TNT_VERDICT_SUSPECT = 3,         /**< clone or replay likely, or a stolen item (red) */
    TNT_VERDICT_COUNTERFEIT = 4,     /**< not issued by the brand: unknown serial, forged signature, a destroyed or retired code (red) */
    TNT_VERDICT_UNVERIFIABLE = 5     /**< unreadable code, unknown product, or no data to decide (grey) */
} tnt_verdict_kind;

/** Who scans. */
typedef enum tnt_scan_role {
    TNT_ROLE_CONSUMER = 0,
    TNT_ROLE_RETAILER = 1,
    TNT_ROLE_PARTNER = 2  /**< a supply-chain partner (manufacturer, wholesaler, logistics) */
} tnt_scan_role;

/** Why. Only SELL, RECEIVE and RETURN (by a retailer or partner) record custody. */
typedef enum tnt_scan_intent {
    TNT_INTENT_STATUS = 0,  /**< a status check: never changes the product's state */
    TNT_INTENT_SELL = 1,
    TNT_INTENT_RECEIVE = 2,
    TNT_INTENT_RETURN = 3
} tnt_scan_intent;

/** The context of a scan. Initialise with TNT_SCAN_INIT or tnt_scan_init(). */
typedef struct tnt_scan {
    unsigned int version;     /**< TNT_SCAN_VERSION */
    int64_t time_ms;          /**< when (UTC ms); 0: now */
    int has_location;         /**< latitude/longitude given */
    double latitude, longitude;
    double accuracy_m;        /**< radius of the location's uncertainty; 0: 1 km */
    const char *device;       /**< pseudonymous device id (hashed before storing); may be NULL */
    int role;                 /**< tnt_scan_role */
    int intent;               /**< tnt_scan_intent */
    const char *location_id;  /**< GLN / SGLN of a retailer's or partner's site; may be NULL */
    int record;               /**< TNT_SCAN_RECORD (default), TNT_SCAN_RECORD_BACKGROUND or TNT_SCAN_DRY_RUN */
} tnt_scan;

/** Record modes of a scan. */
#define TNT_SCAN_DRY_RUN 0           /**< record nothing */
#define TNT_SCAN_RECORD 1            /**< record the scan; return when it is durable (concurrent scans share the write) */
#define TNT_SCAN_RECORD_BACKGROUND 2 /**< record it in the background: returns at once; seen by verifications
                                          milliseconds later; a crash loses what is still queued */

#define TNT_SCAN_VERSION 1
#define TNT_SCAN_INIT {TNT_SCAN_VERSION, 0, 0, 0.0, 0.0, 0.0, NULL, TNT_ROLE_CONSUMER, TNT_INTENT_STATUS, NULL, 1}

/**
 * Initialise a scan context to the defaults of @p version.
 * @return TNT_OK or TNT_E_INVALID (unknown version)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_scan_init(tnt_scan *scan, unsigned int version);

/** An answer (opaque). */
typedef struct tnt_verdict tnt_verdict;

/**
 * Authenticate a scanned code.
 * @param[out] out caller owns; free with tnt_verdict_free(). Set for every
 *                 code, readable or not (garbage gets UNVERIFIABLE, never an error)
 * @param code     the scanned code in any form
 * @param scan     the context, or NULL for a consumer's status check now
 * @return TNT_OK; TNT_E_INVALID for a malformed scan context (coordinates out
 *         of range, a bad version, a consumer with a location id); TNT_E_TOOBIG
 *         for a device id over 4096 bytes or a location id over 511;
 *         TNT_E_BACKEND / TNT_E_IO when the store fails
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_authenticate(tnt_verdict **out, tnt_engine *engine, const char *code,
                                              const tnt_scan *scan);

/** Free an answer; NULL is a no-op. @since 1.0 */
TNT_EXTERN void tnt_verdict_free(tnt_verdict *verdict);

/** The verdict. Thread-safety: safe per handle. @since 1.0 */
TNT_EXTERN tnt_verdict_kind tnt_verdict_get(const tnt_verdict *verdict);

/** "GENUINE", "GENUINE_CAUTION", ...: a static string. Thread-safety: safe. @since 1.0 */
TNT_EXTERN const char *tnt_verdict_name(tnt_verdict_kind kind);

/**
 * The calibrated probability that the verdict is right, and the evidence
 * level: 3 = signature + registry + journey, 2 = registry + journey,
 * 1 = registry only, 0 = nothing recorded.
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN double tnt_verdict_confidence(const tnt_verdict *verdict, int *evidence_level_out);

/** Number of reasons. Thread-safety: safe per handle. @since 1.0 */
TNT_EXTERN size_t tnt_verdict_reason_count(const tnt_verdict *verdict);

/**
 * One reason.
 * @param[out] code_out     stable code ("SERIAL_UNKNOWN"); borrowed
 * @param[out] severity_out "info", "warn" or "hard"; borrowed
 * @param[out] text_out     human text; borrowed
 * @return TNT_OK or TNT_E_NOTFOUND
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_verdict_reason_at(const char **code_out, const char **severity_out, const char **text_out,
                                            const tnt_verdict *verdict, size_t index);

/** Audiences of the JSON answer. */
#define TNT_VERDICT_JSON_CONSUMER 0x0u /**< locations rounded to the city, no event details */
#define TNT_VERDICT_JSON_PARTNER 0x1u  /**< full locations and event hashes */

/**
 * The whole answer as JSON: verdict, confidence, evidence level, reasons,
 * origin, journey, scans so far, and "signature" (Ed25519 over the rest,
 * base64url, with "key_id" naming the service key). See docs/authenticity.md.
 * @param[out] out caller owns; free with tnt_free()
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_verdict_json(char **out, size_t *len_out, const tnt_verdict *verdict, unsigned int flags);

/**
 * The service's public key (base64url, 32 bytes) that signs answers.
 * @param[out] out caller owns; free with tnt_free()
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_service_key(char **out, tnt_engine *engine);

/**
 * Check a signed JSON answer offline: the "signature" member against the
 * rest of the document (see docs/authenticity.md) and a public key.
 * @return TNT_OK when it verifies; TNT_E_INVALID when it does not
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_verdict_verify(const char *json, size_t len, const char *public_key_b64);

/* ---- brand keys and signed codes ---- */

/**
 * A new Ed25519 key pair, base64url encoded.
 * @param[out] public_out caller owns (tnt_free): 43 characters
 * @param[out] secret_out caller owns (tnt_free): 86 characters; keep it secret
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_keygen(char **public_out, char **secret_out);

/**
 * Sign a code for a brand: a GS1 Digital Link carrying the signature as
 * AI 8030 over the identifier's canonical element string (key, qualifiers,
 * batch and expiry).
 * @param[out] out caller owns (tnt_free): the Digital Link on @p stem
 *             (NULL: https://id.gs1.org) with ?8030=<signature>
 * @param code        the code to sign (any form; batch/expiry as attributes)
 * @param secret_b64  the brand's secret key from tnt_keygen()
 * @return TNT_OK; TNT_E_INVALID (bad code or key)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_sign_code(char **out, const char *code, const char *secret_b64, const char *stem);

#ifdef __cplusplus
}
#endif
#endif /* TNT_AUTH_H */
