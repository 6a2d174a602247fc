/* The answer of tnt_engine_authenticate(): accessors, the reason codes, the
 * JSON document and its Ed25519 signature. */
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"

/* ---- reason codes: stable, documented in docs/authenticity.md ---- */

static const tnt__reason_def reasons[] = {
    {"CODE_INVALID", "hard"},
    {"CODE_NOT_SERIALISED", "hard"},
    {"SCAN_TIME_INVALID", "hard"},
    {"PRODUCT_UNKNOWN", "hard"},
    {"SERIAL_UNKNOWN", "hard"},
    {"SERIAL_NOT_RECORDED", "warn"},
    {"LOT_MISMATCH", "hard"},
    {"EXPIRY_MISMATCH", "hard"},
    {"SIG_VALID", "info"},
    {"SIG_INVALID", "hard"},
    {"SIG_KEY_REVOKED_OR_OUT_OF_WINDOW", "hard"},
    {"SIG_MALFORMED", "hard"},
    {"SIG_MISSING", "warn"},
    {"SIG_UNCHECKED", "info"},
    {"HISTORY_HASH_MISMATCH", "hard"},
    {"CHECKPOINT_ROLLBACK", "hard"},
    {"MISSING_EVENTS", "info"},
    {"STATUS_DESTROYED", "hard"},
    {"STATUS_DECOMMISSIONED", "hard"},
    {"STATUS_STOLEN", "hard"},
    {"STATUS_RECALLED", "hard"},
    {"EXPIRED", "hard"},
    {"QUALITY_FAILURE", "hard"},
    {"SOLD", "info"},
    {"ALREADY_SOLD", "warn"},
    {"EVENT_AFTER_TERMINAL", "warn"},
    {"JOURNEY_ORDER_VIOLATION", "warn"},
    {"SHIP_RECEIVE_MISMATCH", "warn"},
    {"TRANSIT_TOO_FAST", "warn"},
    {"TWO_CONTAINERS_AT_ONCE", "warn"},
    {"OUT_OF_MARKET", "warn"},
    {"IMPOSSIBLE_TRAVEL", "warn"},
    {"POST_SALE_FAR_SCAN", "warn"},
    {"NOT_AT_CUSTODY_LOCATION", "warn"},
    {"FAR_FROM_LAST_KNOWN", "warn"},
    {"COPY_AT_CUSTODY", "warn"},
    {"CONFLICT_ELSEWHERE", "warn"},
    {"MANY_DEVICES", "warn"},
    {"RETURN_FAR_FROM_SALE", "warn"},
    {"ENUMERATION_SUSPECTED", "warn"},
    {"COLD_CHAIN_EXCURSION", "warn"},
    {"SCANNED_N_TIMES", "info"},
    {"FIRST_VERIFICATION", "info"},
    {"CUSTODY_RECORDED", "info"},
    {"CUSTODY_NOT_RECORDED", "warn"},
};

const tnt__reason_def *tnt__reason_find(const char *code)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (strcmp(reasons[i].code, code) == 0)
            return &reasons[i];
    return NULL;
}

tnt_verdict *tnt__verdict_new(const tnt_engine *e)
{
    tnt_verdict *v = tnt__calloc(1, sizeof *v);
    if (!v)
        return NULL;
    tnt__arena_init(&v->a, 0);
    v->kind = TNT_VERDICT_UNVERIFIABLE;
    v->product.min_c = v->product.max_c = NAN;
    memcpy(v->pk, e->sign_pk, 32);
    memcpy(v->sk, e->sign_sk, 64);
    memcpy(v->key_id, e->key_id, sizeof v->key_id);
    return v;
}

void tnt__verdict_reason(tnt_verdict *v, const char *code, double llr, const char *fmt, ...)
{
    if (v->nreasons == v->capreasons) {
        size_t cap = v->capreasons ? v->capreasons * 2 : 8;
        tnt__reason *n = tnt__arena_alloc(&v->a, cap * sizeof *n);
        if (!n)
            return;
        if (v->nreasons)
            memcpy(n, v->reasons, v->nreasons * sizeof *n);
        v->reasons = n;
        v->capreasons = cap;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const tnt__reason_def *d = tnt__reason_find(code);
    tnt__reason *r = &v->reasons[v->nreasons];
    r->code = d ? d->code : "UNKNOWN";
    r->severity = d ? d->severity : "info";
    r->text = tnt__arena_strdup(&v->a, msg);
    r->llr = llr;
    if (r->text)
        v->nreasons++;
}

void tnt_verdict_free(tnt_verdict *v)
{
    if (!v)
        return;
    sodium_memzero(v->sk, sizeof v->sk);
    tnt__view_release(v->view);
    tnt__arena_destroy(&v->a);
    tnt__free(v);
}

tnt_verdict_kind tnt_verdict_get(const tnt_verdict *v) { return v ? v->kind : TNT_VERDICT_UNVERIFIABLE; }

const char *tnt_verdict_name(tnt_verdict_kind kind)
{
    static const char *const names[] = {"GENUINE", "GENUINE_CAUTION", "DO_NOT_USE", "SUSPECT", "COUNTERFEIT",
                                        "UNVERIFIABLE"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "UNKNOWN";
}

static const char *colour(tnt_verdict_kind k)
{
    switch (k) {
    case TNT_VERDICT_GENUINE: return "green";
    case TNT_VERDICT_GENUINE_CAUTION: return "amber";
    case TNT_VERDICT_DO_NOT_USE:
    case TNT_VERDICT_SUSPECT:
    case TNT_VERDICT_COUNTERFEIT: return "red";
    default: return "grey";
    }
}

double tnt_verdict_confidence(const tnt_verdict *v, int *evidence)
{
    if (evidence)
        *evidence = v ? v->evidence : 0;
    return v ? v->confidence : 0;
}

size_t tnt_verdict_reason_count(const tnt_verdict *v) { return v ? v->nreasons : 0; }

tnt_status tnt_verdict_reason_at(const char **code, const char **severity, const char **text, const tnt_verdict *v,
                                 size_t i)
{
    if (!v || i >= v->nreasons)
        return TNT_E_NOTFOUND;
    if (code)
        *code = v->reasons[i].code;
    if (severity)
        *severity = v->reasons[i].severity;
    if (text)
        *text = v->reasons[i].text;
    return TNT_OK;
}

/* ---- JSON ---- */

static void key(tnt__buf *b, bool *first, const char *k)
{
    if (!*first)
        tnt__buf_putc(b, ',');
    *first = false;
    tnt__buf_json_str(b, k);
    tnt__buf_putc(b, ':');
}

static void str(tnt__buf *b, bool *first, const char *k, const char *v)
{
    if (!v || !*v)
        return;
    key(b, first, k);
    tnt__buf_json_str(b, v);
}

/* Digits without printf: answers are written often. */
static char *put_uint(char *o, unsigned long long v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < width);
    while (n)
        *o++ = tmp[--n];
    return o;
}

/* A number with a fixed count of decimals. */
static void fixed(tnt__buf *b, double v, int decimals)
{
    static const double scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    char buf[48], *o = buf;
    if (!isfinite(v) || fabs(v) > 1e12) {
        tnt__buf_printf(b, "%.*f", decimals, isfinite(v) ? v : 0.0);
        return;
    }
    long long x = llround(v * scale[decimals]);
    if (x < 0) {
        *o++ = '-';
        x = -x;
    }
    unsigned long long u = (unsigned long long)x, p = (unsigned long long)scale[decimals];
    o = put_uint(o, u / p, 1);
    if (decimals) {
        *o++ = '.';
        o = put_uint(o, u % p, decimals);
    }
    tnt__buf_append(b, buf, (size_t)(o - buf));
}

/* "2026-10-01T08:00:00.000Z" */
static void iso_time(tnt__buf *b, int64_t ms)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int msec = (int)(ms - secs * 1000);
    /* days to civil date (Howard Hinnant's algorithm) */
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400, rem = secs - days * 86400;
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999) {
        tnt__buf_puts(b, "\"0000-01-01T00:00:00.000Z\"");
        return;
    }
    char buf[32], *o = buf;
    *o++ = '"';
    o = put_uint(o, (unsigned long long)y, 4);
    *o++ = '-';
    o = put_uint(o, m, 2);
    *o++ = '-';
    o = put_uint(o, d, 2);
    *o++ = 'T';
    o = put_uint(o, (unsigned long long)(rem / 3600), 2);
    *o++ = ':';
    o = put_uint(o, (unsigned long long)(rem / 60 % 60), 2);
    *o++ = ':';
    o = put_uint(o, (unsigned long long)(rem % 60), 2);
    *o++ = '.';
    o = put_uint(o, (unsigned long long)msec, 3);
    *o++ = 'Z';
    *o++ = '"';
    tnt__buf_append(b, buf, (size_t)(o - buf));
}

static void time_member(tnt__buf *b, bool *first, const char *k, int64_t ms)
{
    key(b, first, k);
    iso_time(b, ms);
}

/* Plain words for a business step (the consumer page shows these). */
static const char *label(const char *step)
{
    static const struct {
        const char *step, *words;
    } m[] = {{"commissioning", "Made"},          {"packing", "Packed"},         {"shipping", "Shipped"},
             {"departing", "Left"},              {"arriving", "Arrived"},       {"receiving", "Received"},
             {"storing", "Stored"},              {"stocking", "Put on the shelf"}, {"retail_selling", "Sold"},
             {"accepting", "Accepted"},          {"loading", "Loaded"},         {"unpacking", "Unpacked"},
             {"inspecting", "Inspected"},        {"holding", "Held"},           {"returning", "Returned"},
             {"destroying", "Destroyed"},        {"decommissioning", "Taken out of use"},
             {"transporting", "In transit"},     {"picking", "Picked"},         {"dispensing", "Dispensed"},
             {"recalling", "Recalled"}};
    for (size_t i = 0; step && i < sizeof m / sizeof m[0]; i++)
        if (strcmp(m[i].step, step) == 0)
            return m[i].words;
    return step ? "Recorded" : NULL;
}

static void place(tnt__buf *b, bool *first, const char *k, const tnt__loc *l, const char *uri, bool partner)
{
    if (!l->known && !l->has_geo && !(partner && uri))
        return;
    key(b, first, k);
    tnt__buf_putc(b, '{');
    bool f = true;
    if (partner)
        str(b, &f, "id", uri);
    if (partner || strncmp(l->role, "factory", 7) == 0 || strncmp(l->role, "retail", 6) == 0)
        str(b, &f, "name", l->name);
    str(b, &f, "city", l->city);
    str(b, &f, "country", l->country);
    str(b, &f, "role", l->role);
    if (l->has_geo) {
        /* consumers see the city, not the site: coordinates to 0.1 degree */
        double lat = partner ? l->lat : round(l->lat * 10) / 10, lon = partner ? l->lon : round(l->lon * 10) / 10;
        key(b, &f, "latitude");
        fixed(b, lat, partner ? 6 : 1);
        key(b, &f, "longitude");
        fixed(b, lon, partner ? 6 : 1);
    }
    tnt__buf_putc(b, '}');
}

static void checkpoint(tnt__buf *b, const tnt__checkpoint *c, bool partner)
{
    tnt__buf_putc(b, '{');
    bool f = true;
    time_member(b, &f, "time", c->time_ms);
    str(b, &f, "step", c->step);
    str(b, &f, "label", label(c->step));
    str(b, &f, "disposition", c->disposition);
    place(b, &f, "place", &c->loc, c->location, partner);
    if (partner) {
        str(b, &f, "event", c->hash);
        str(b, &f, "via", c->via);
    }
    tnt__buf_putc(b, '}');
}

#define CONSUMER_PLACES 20

static bool same_place(const tnt__checkpoint *a, const tnt__checkpoint *b)
{
    return a->location && b->location && strcmp(a->location, b->location) == 0;
}

static const char *first_of(const tnt_verdict *v, const char *severity)
{
    for (size_t i = 0; i < v->nreasons; i++)
        if (strcmp(v->reasons[i].severity, severity) == 0)
            return v->reasons[i].text;
    return NULL;
}

/* The headline a consumer reads. */
static void message(tnt__buf *b, const tnt_verdict *v)
{
    const char *brand = v->brand.name[0] ? v->brand.name : v->product.brand[0] ? v->product.brand : "the brand";
    char d[16] = "";
    const char *hard = first_of(v, "hard"), *warn = first_of(v, "warn");
    tnt__buf b2;
    tnt__buf_init(&b2);
    switch (v->kind) {
    case TNT_VERDICT_GENUINE:
        if (v->has_origin) {
            tnt__time t = {v->origin.time_ms, 0, true};
            char full[40];
            tnt__time_format(full, &t, true);
            snprintf(d, sizeof d, "%.10s", full);
            tnt__buf_printf(&b2, "Authentic. Made by %s", brand);
            if (v->origin.loc.city[0])
                tnt__buf_printf(&b2, " in %s", v->origin.loc.city);
            tnt__buf_printf(&b2, " on %s; %zu recorded step%s.", d, v->njourney, v->njourney == 1 ? "" : "s");
        } else
            tnt__buf_printf(&b2, "Authentic: a genuine %s product.", brand);
        break;
    case TNT_VERDICT_GENUINE_CAUTION:
        tnt__buf_printf(&b2, "Authentic, with a warning: %s", warn ? warn : hard ? hard : "see the details.");
        break;
    case TNT_VERDICT_DO_NOT_USE: tnt__buf_puts(&b2, hard ? hard : "Do not use this product."); break;
    case TNT_VERDICT_SUSPECT:
        tnt__buf_puts(&b2, "We could not confirm this product. Please report where you bought it.");
        break;
    case TNT_VERDICT_COUNTERFEIT: tnt__buf_printf(&b2, "This code was not issued by %s.", brand); break;
    default:
        tnt__buf_printf(&b2, "Can't verify this code: %s", hard ? hard : "scan it again.");
        break;
    }
    size_t n;
    char *s = tnt__buf_detach(&b2, &n);
    tnt__buf_json_str(b, s ? s : "");
    tnt__free(s);
}

#define SIG_MEMBER ",\"signature\":\""

tnt_status tnt_verdict_json(char **out, size_t *len_out, const tnt_verdict *v, unsigned int flags)
{
    if (!out || !v)
        return TNT_E_MISUSE;
    *out = NULL;
    bool partner = flags & TNT_VERDICT_JSON_PARTNER;
    locale_t old = tnt__c_numeric_begin();
    tnt__buf b;
    tnt__buf_init(&b);
    bool f = true;
    tnt__buf_putc(&b, '{');
    str(&b, &f, "verdict", tnt_verdict_name(v->kind));
    str(&b, &f, "colour", colour(v->kind));
    key(&b, &f, "message");
    message(&b, v);
    key(&b, &f, "confidence");
    fixed(&b, v->confidence, 4);
    key(&b, &f, "evidence_level");
    tnt__buf_printf(&b, "%d", v->evidence);
    key(&b, &f, "probability_genuine");
    fixed(&b, v->probability, 4);
    str(&b, &f, "code", v->code);
    str(&b, &f, "id", v->id);
    str(&b, &f, "gtin", v->gtin);
    str(&b, &f, "serial", v->serial);
    if (v->product.known || v->brand.known) {
        key(&b, &f, "product");
        tnt__buf_putc(&b, '{');
        bool g = true;
        str(&b, &g, "name", v->product.name);
        str(&b, &g, "brand", v->brand.name[0] ? v->brand.name : v->product.brand);
        tnt__buf_putc(&b, '}');
    }
    key(&b, &f, "reasons");
    tnt__buf_putc(&b, '[');
    for (size_t i = 0; i < v->nreasons; i++) {
        const tnt__reason *r = &v->reasons[i];
        tnt__buf_printf(&b, "%s{\"code\":\"%s\",\"severity\":\"%s\",\"text\":", i ? "," : "", r->code, r->severity);
        tnt__buf_json_str(&b, r->text);
        if (r->llr != 0) {
            tnt__buf_puts(&b, ",\"llr\":");
            fixed(&b, r->llr, 2);
        }
        tnt__buf_putc(&b, '}');
    }
    tnt__buf_putc(&b, ']');
    if (v->has_origin) {
        key(&b, &f, "origin");
        tnt__buf_putc(&b, '{');
        bool g = true;
        time_member(&b, &g, "time", v->origin.time_ms);
        str(&b, &g, "brand_owner", v->brand.name);
        str(&b, &g, "company_prefix", v->brand.prefix);
        place(&b, &g, "site", &v->origin.loc, v->origin.location, partner);
        str(&b, &g, "batch", v->state_lot);
        str(&b, &g, "expiry", v->state_expiry);
        if (partner)
            str(&b, &g, "event", v->origin.hash);
        tnt__buf_putc(&b, '}');
    }
    /* the journey: partners get every step; consumers one step per place
     * visited (the last step there), the origin and the latest 20 places */
    key(&b, &f, "journey");
    tnt__buf_putc(&b, '[');
    size_t shown = 0, places = 0;
    for (size_t i = 0; i < v->njourney; i++)
        places += partner || i + 1 == v->njourney || !same_place(&v->journey[i], &v->journey[i + 1]);
    for (size_t i = 0, place_no = 0; i < v->njourney; i++) {
        if (!partner) {
            if (i + 1 < v->njourney && same_place(&v->journey[i], &v->journey[i + 1]))
                continue;
            place_no++;
            if (place_no > 1 && places > CONSUMER_PLACES + 1 && place_no <= places - CONSUMER_PLACES)
                continue;
        }
        if (shown++)
            tnt__buf_putc(&b, ',');
        checkpoint(&b, &v->journey[i], partner);
    }
    tnt__buf_putc(&b, ']');
    key(&b, &f, "journey_steps");
    tnt__buf_printf(&b, "%zu", v->njourney);
    key(&b, &f, "scans");
    tnt__buf_printf(&b, "{\"before\":%llu", (unsigned long long)v->scans);
    if (v->first_scan_ms) {
        bool g = false;
        time_member(&b, &g, "first", v->first_scan_ms);
        place(&b, &g, "first_place", &v->first_scan_loc, NULL, false);
    }
    tnt__buf_putc(&b, '}');
    str(&b, &f, "code_signature",
        !v->signature_present ? "absent" : v->signature_valid ? "valid"
                                                              : v->kind == TNT_VERDICT_COUNTERFEIT ? "invalid"
                                                                                                    : "unchecked");
    key(&b, &f, "recorded");
    tnt__buf_puts(&b, v->recorded ? "true" : "false");
    str(&b, &f, "policy", "tnt-authenticity-1");
    time_member(&b, &f, "checked_at", v->time_ms);
    str(&b, &f, "key_id", v->key_id);
    tnt__c_numeric_end(old);
    /* the signature covers the document as written so far, closed */
    tnt__buf_putc(&b, '}');
    size_t n = 0;
    char *text = tnt__buf_detach(&b, &n);
    if (!text)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    /* Ed25519 over the SHA-256 of the signed bytes: the answer may be long */
    uint8_t sig[64], digest[32];
    tnt__sha256_of(text, n, digest);
    tnt__auth_sign(sig, digest, sizeof digest, v->sk);
    char b64[128];
    size_t blen = tnt__b64_encode(b64, sizeof b64, sig, 64);
    size_t total = n - 1 + sizeof SIG_MEMBER - 1 + blen + 2;
    char *doc = tnt__malloc(total + 1);
    if (!doc) {
        tnt__free(text);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    memcpy(doc, text, n - 1);
    snprintf(doc + n - 1, total + 1 - (n - 1), "%s%s\"}", SIG_MEMBER, b64);
    tnt__free(text);
    *out = doc;
    if (len_out)
        *len_out = total;
    return TNT_OK;
}

tnt_status tnt_verdict_verify(const char *json, size_t len, const char *public_key_b64)
{
    if (!json || !public_key_b64)
        return TNT_E_MISUSE;
    uint8_t pk[32], sig[64];
    if (!tnt__b64_decode(pk, 32, public_key_b64, strlen(public_key_b64)))
        return tnt__error(TNT_E_INVALID, "the public key is not 32 bytes of base64url");
    while (len && (json[len - 1] == '\n' || json[len - 1] == '\r' || json[len - 1] == ' '))
        len--;
    /* the last member must be "signature": 86 characters of base64url */
    const size_t tail = sizeof SIG_MEMBER - 1 + 86 + 2;
    if (len < tail + 2 || memcmp(json + len - tail, SIG_MEMBER, sizeof SIG_MEMBER - 1) != 0 ||
        memcmp(json + len - 2, "\"}", 2) != 0)
        return tnt__error(TNT_E_INVALID, "the document does not end with its \"signature\" member");
    if (!tnt__b64_decode(sig, 64, json + len - 88, 86))
        return tnt__error(TNT_E_INVALID, "the signature is not 64 bytes of base64url");
    size_t body = len - tail;
    char *signed_text = tnt__malloc(body + 1);
    if (!signed_text)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    memcpy(signed_text, json, body);
    signed_text[body] = '}';
    uint8_t digest[32];
    tnt__sha256_of(signed_text, body + 1, digest);
    bool ok = tnt__auth_verify(sig, digest, sizeof digest, pk);
    tnt__free(signed_text);
    return ok ? TNT_OK : tnt__error(TNT_E_INVALID, "the signature does not verify with this key");
}
