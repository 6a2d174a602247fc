/* Authenticity internals: keys, the verdict object, the master-data cache
 * and the per-product verification cache. */
#ifndef TNT_AUTH_INTERNAL_H
#define TNT_AUTH_INTERNAL_H

#include <stdatomic.h>

#include "engine/engine.h"
#include "ids/ids.h"
#include "tnt/auth.h"

/* ---- keys (keys.c) ---- */
bool tnt__sodium_ready(void);
/* base64url without padding; returns the length written (NUL excluded), 0 if cap is too small */
size_t tnt__b64_encode(char *out, size_t cap, const uint8_t *bin, size_t n);
/* exactly want bytes from n characters of base64url, or false */
bool tnt__b64_decode(uint8_t *out, size_t want, const char *s, size_t n);
void tnt__key_id(char out[16], const uint8_t pk[32]);
void tnt__device_hash(const tnt_engine *e, const char *device, size_t len, uint8_t out[16]);
void tnt__auth_sign(uint8_t sig[64], const uint8_t *msg, size_t len, const uint8_t sk[64]);
bool tnt__auth_verify(const uint8_t sig[64], const uint8_t *msg, size_t len, const uint8_t pk[32]);
/* What a brand signs: "(key)value" then the qualifiers, (10) and (17), by AI number. */
size_t tnt__signed_message(char *out, size_t cap, const tnt__idp *p);

/* ---- group commit of scans (scanq.c) ---- */
typedef struct tnt__scanq tnt__scanq;
tnt__scanq *tnt__scanq_new(tnt_engine *e);
/* Writes the queued background scans, then frees. */
void tnt__scanq_free(tnt__scanq *q);
/* Queue a scan for the background writer (copied); returns at once. */
tnt_status tnt__scan_queue(tnt_engine *e, const tnt_v1_Scan *scan);

/* ---- master data, parsed and cached (cache.c) ---- */
#define TNT__AUTH_MAX_KEYS 8

typedef struct tnt__loc {
    bool known;                 /* master data has it */
    bool has_geo;
    double lat, lon;
    char name[96], city[64], country[8], role[24];
} tnt__loc;

typedef struct tnt__brand_key {
    uint8_t pk[32];
    int64_t valid_from, valid_until, revoked_at; /* 0: unbounded / not revoked */
} tnt__brand_key;

typedef struct tnt__party {
    bool known;
    char prefix[16], name[96], role[24];
    bool signs_codes;           /* "signed_codes": true: every code carries a signature */
    size_t nkeys;
    tnt__brand_key keys[TNT__AUTH_MAX_KEYS];
} tnt__party;

typedef struct tnt__product {
    bool known;
    char name[128], brand[96];
    double min_c, max_c;        /* NAN when not set */
    char markets[16][4];        /* intended markets (ISO 3166 alpha-2); none: anywhere */
    size_t nmarkets;
} tnt__product;

typedef struct tnt__auth_cache tnt__auth_cache;
tnt__auth_cache *tnt__auth_cache_new(void);
void tnt__auth_cache_free(tnt__auth_cache *c);
/* tnt__auth_verify() that remembers the signatures it found valid (by a
 * digest of key, signature and message), so that a code verified again does
 * not pay for Ed25519 again. Only the cryptography is remembered: key
 * windows and revocations are judged on every call. */
bool tnt__auth_verify_cached(tnt__auth_cache *c, const uint8_t sig[64], const uint8_t *msg, size_t len,
                             const uint8_t pk[32]);

/* A location's members as track's JSON answer writes them, kept by GLN
 * for one master-data generation: get appends them to out and is true
 * when kept; put keeps them (not when longer than a slot). */
bool tnt__location_text_get(tnt_engine *e, const char *gln, unsigned gen, tnt__buf *out);
void tnt__location_text_put(tnt_engine *e, const char *gln, unsigned gen, const char *text, size_t len);

/* Copies of master records (false on a store error; unknown keys give known = false). */
bool tnt__master_location(tnt_engine *e, const char *location_uri, tnt__loc *out);
bool tnt__master_party_of_gtin(tnt_engine *e, const char *gtin14, tnt__party *out);
bool tnt__master_product(tnt_engine *e, const char *gtin14, tnt__product *out);

/* ---- what the stored history says about a product (authenticate.c),
 *      verified once and cached while its chain is unchanged ---- */

typedef struct tnt__checkpoint tnt__checkpoint;

typedef struct tnt__view {
    atomic_int refs;
    tnt__arena a;
    char *id;
    uint8_t chain[32];
    uint64_t count;
    unsigned gen;               /* master data generation it was built with */
    int64_t built_ms;
    /* integrity */
    const char *fault_code, *fault_text; /* NULL: the history verified */
    /* journey, oldest first (own events and those of the containers it was in) */
    tnt__checkpoint *journey;
    size_t njourney;
    int origin;                 /* index of the commissioning in journey, or -1 */
    /* lifecycle */
    int destroyed, stolen, decommissioned, recalled, expired, damaged, sold; /* journey index + 1, or 0 */
    int after_terminal;         /* an event after destruction/decommissioning: journey index + 1 */
    /* plausibility */
    int order_violations, ship_mismatches, travel_violations, container_conflicts;
    const char *order_text, *ship_text, *travel_text, *container_text;
    /* the custody anchor: where the recorded custody chain says it is */
    int anchor;                 /* journey index + 1 of the last located checkpoint, or 0 */
} tnt__view;

void tnt__view_release(tnt__view *v);
/* A cached view of id at this chain/count/generation, not older than max_age_ms; a new reference. */
tnt__view *tnt__view_lookup(tnt__auth_cache *c, const char *id, const uint8_t chain[32], uint64_t count, unsigned gen,
                            int64_t now_ms, int64_t max_age_ms);
void tnt__view_store(tnt__auth_cache *c, tnt__view *v); /* takes a reference */

/* ---- the verdict (verdict.c) ---- */

typedef struct tnt__reason {
    const char *code, *severity, *text;
    double llr;                 /* log-likelihood ratio it added to the score (0 for rules) */
} tnt__reason;

struct tnt__checkpoint {
    int64_t time_ms;
    const char *step, *disposition, *location, *hash, *via; /* via: the container that carried it */
    const char *dest;           /* a shipment's destination location */
    tnt__loc loc;
    uint8_t type, action;
};

struct tnt_verdict {
    tnt__arena a;
    tnt_verdict_kind kind;
    double confidence, probability; /* probability: P(the scanned item is the genuine one) */
    int evidence;
    int64_t time_ms;            /* of the scan */
    const char *code;           /* as scanned (cut to 512 bytes) */
    const char *id, *gtin, *serial, *lot, *expiry; /* canonical id and its parts */
    tnt__reason *reasons;
    size_t nreasons, capreasons;
    /* origin */
    bool has_origin;
    tnt__checkpoint origin;
    tnt__product product;
    tnt__party brand;
    const char *state_lot, *state_expiry;
    /* journey, oldest first (borrowed from view) */
    tnt__view *view;
    const tnt__checkpoint *journey;
    size_t njourney;
    /* scans before this one */
    uint64_t scans;
    int64_t first_scan_ms;
    tnt__loc first_scan_loc;
    bool signature_present, signature_valid;
    bool recorded;
    /* the service key that signs the answer */
    uint8_t pk[32], sk[64];
    char key_id[16];
};

tnt_verdict *tnt__verdict_new(const tnt_engine *e);
void tnt__verdict_reason(tnt_verdict *v, const char *code, double llr, const char *fmt, ...) TNT__PRINTF(4, 5);

/* The stable reason codes: code, severity, meaning (docs/authenticity.md). */
typedef struct tnt__reason_def {
    const char *code, *severity;
} tnt__reason_def;
const tnt__reason_def *tnt__reason_find(const char *code);

#endif /* TNT_AUTH_INTERNAL_H */
