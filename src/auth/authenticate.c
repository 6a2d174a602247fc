/* "Is this product genuine?" — the ordered checks of docs/authenticity.md.
 *
 *   L0 the code: syntax, check digits, a serialised GTIN
 *   L1 the brand's signature on the code (AI 8030), keys from party master data
 *   L4 the integrity of the stored history: the sealed per-product hash chain,
 *      the digest of every stored event, times as indexed, no rollback
 *   L2 the registry: the serial was recorded; batch and expiry match
 *   L3 the lifecycle: destroyed, decommissioned, stolen, recalled, expired, damaged, sold
 *   L5 the journey: order, ship/receive agreement, transit speed
 *   L6 clones and replays: impossible travel, scans far from custody or from
 *      the point of sale, scans near custody elsewhere, many devices, double sales
 *   L8 quality: cold-chain excursions
 *
 * Hard rules decide first; the soft evidence adds log-likelihood ratios to
 * a prior and gives the probability that the scanned item is the genuine
 * one. What the stored history says (L4, L5, the lifecycle, the journey) is
 * computed once per product and cached while its sealed chain is unchanged. */
#include <math.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "codec/flat.h"
#include "codec/proto.h"
#include "engine/record.h"

/* ---- policy (docs/authenticity.md, "Policy") ---- */
#define PRIOR_LOGIT 5.293          /* logit(0.995): most scanned items are genuine */
#define P_GENUINE 0.98             /* at or above: GENUINE */
#define P_SUSPECT 0.20             /* below: SUSPECT */
#define V_MAX_KMH 900.0            /* fastest plausible travel (air freight) */
#define TRAVEL_SLACK_KM 100.0      /* on top of both accuracies */
#define FAR_KM 150.0               /* a consumer scan this far from custody is "far" */
#define MAX_ACC_KM 50.0            /* a scan's position less precise than this is no location */
#define SKEW_MS (15 * 60 * 1000LL) /* clock skew tolerated between partners */
#define FUTURE_MS (24 * 3600 * 1000LL)
#define DOUBLE_SCAN_MS (10 * 60 * 1000LL)
#define DAY_MS (24 * 3600 * 1000LL)
#define ENUM_WINDOW_MS DAY_MS
#define ENUM_THRESHOLD 20          /* unknown codes from one device in a day */
#define MAX_SCANS 256              /* recent scans read per verification */
#define MAX_CODE 4096
#define MAX_DEVICE 4096
#define VIEW_MAX_AGE_MS (60 * 1000LL)
#define MAX_JOURNEY 4096

static int64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0, d2r = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * d2r) * cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(a < 1 ? a : 1));
}

static bool is(const char *v, const char *want) { return v && strcmp(v, want) == 0; }

static const char *gln_of(const char *uri, char *buf, size_t cap)
{
    return tnt__dl_key(buf, cap, uri, "414") ? buf : NULL;
}

/* ======================================================================
 * The view: what the stored history says, verified
 * ====================================================================== */

typedef struct entry {
    int64_t time_ms;
    uint8_t hash[32];
    tnt_v1_IndexEntry w;
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
    int64_t to_ms; /* entries at or after this time are not wanted (containers) */
    tnt_status st;
} entries;

static int take_entry(void *ud, const tnt_store_item *it)
{
    entries *l = ud;
    if (it->sk_len != 2 + 8 + 32) {
        l->st = tnt__error(TNT_E_CORRUPT, "a history entry is corrupt");
        return 1;
    }
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = t << 8 | ((const uint8_t *)it->sk)[2 + i];
    int64_t time_ms = (int64_t)(t ^ (1ull << 63));
    if (time_ms >= l->to_ms)
        return 1;
    if (l->n == MAX_JOURNEY)
        return 1; /* a longer history: the journey shows its start */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        entry *v = tnt__realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->st = TNT_E_NOMEM;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    entry *en = &l->v[l->n];
    en->time_ms = time_ms;
    memcpy(en->hash, (const uint8_t *)it->sk + 10, 32);
    /* the body an entry may carry is not what the journey checks */
    if (!tnt__index_entry_read(it->value, it->value_len, &en->w)) {
        l->st = tnt__error(TNT_E_CORRUPT, "a history entry is corrupt");
        return 1;
    }
    l->n++;
    return 0;
}

static tnt_status read_entries(tnt_engine *e, const char *id, int64_t from_ms, int64_t to_ms, entries *l)
{
    tnt__key k;
    tnt__key_index(&k, id, from_ms, (const uint8_t[32]){0});
    l->to_ms = to_ms;
    l->st = TNT_OK;
    tnt_status st = e->store->methods->query(e->store, k.pk, k.pk_len, k.sk, k.sk_len, "h;", 2, 0, 0, take_entry, l);
    return st != TNT_OK ? st : l->st;
}

typedef struct builder {
    tnt_engine *e;
    tnt__view *v;
    size_t cap;
    tnt__arena tmp;     /* decoded events; reset per event */
    const char **seen;  /* the journey's event hashes, open addressing (a journey of tens of thousands of */
    size_t seen_cap;    /* events, a partner's containers' moves, must not cost their square) */
} builder;

static void fault(tnt__view *v, const char *code, const char *fmt, ...) TNT__PRINTF(3, 4);
static void fault(tnt__view *v, const char *code, const char *fmt, ...)
{
    if (v->fault_code)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->fault_code = code;
    v->fault_text = tnt__arena_strdup(&v->a, msg);
}

static const char *keep(tnt__view *v, const char *s) { return s && *s ? tnt__arena_strdup(&v->a, s) : NULL; }

/* The event of an entry, its body checked against the chained digest. */
static tnt_status load_checked(builder *b, const char *id, const entry *en, tnt_event **ev)
{
    tnt_engine *e = b->e;
    *ev = NULL;
    if (en->w.digest.size != 32) {
        fault(b->v, "HISTORY_HASH_MISMATCH", "a history entry of %s carries no digest", id);
        return TNT_OK;
    }
    if (en->w.segment[0]) /* archived: immutable objects, read as they are */
        return tnt__archive_fetch(e, &en->w, &b->tmp, ev);
    tnt__key k;
    tnt__key_event(&k, en->hash);
    void *val = NULL;
    size_t len = 0;
    /* the record under its hash, not the copy a history entry may carry: the
     * journey checks the body that GET /events and replays of it read */
    tnt_status st = tnt__store_get(e, &k, &val, &len);
    if (st == TNT_E_NOTFOUND) {
        fault(b->v, "HISTORY_HASH_MISMATCH", "an event of the history of %s is missing from the store", id);
        return TNT_OK;
    }
    if (st != TNT_OK)
        return st;
    const uint8_t *p = val;
    if (len > 1 && p[0] == 'A') { /* archived meanwhile */
        tnt_v1_IndexEntry w = tnt_v1_IndexEntry_init_zero;
        pb_istream_t is = pb_istream_from_buffer(p + 1, len - 1);
        st = pb_decode_ex(&is, tnt_v1_IndexEntry_fields, &w, PB_DECODE_NOINIT) ? tnt__archive_fetch(e, &w, &b->tmp, ev)
                                                          : tnt__error(TNT_E_CORRUPT, "an archive entry is corrupt");
        tnt_free(val);
        return st;
    }
    uint8_t digest[32];
    if (len < 2 || p[0] != 'E') {
        tnt_free(val);
        fault(b->v, "HISTORY_HASH_MISMATCH", "a stored event of %s is corrupt", id);
        return TNT_OK;
    }
    tnt__body_digest(digest, p + 1, len - 1);
    if (memcmp(digest, en->w.digest.bytes, 32) != 0) {
        tnt_free(val);
        fault(b->v, "HISTORY_HASH_MISMATCH", "a stored event of %s was changed after it was recorded", id);
        return TNT_OK;
    }
    *ev = tnt__event_new(&b->tmp);
    st = *ev ? tnt__event_record_decode(*ev, p + 1, len - 1) : TNT_E_NOMEM;
    tnt_free(val);
    if (st != TNT_OK) {
        *ev = NULL;
        fault(b->v, "HISTORY_HASH_MISMATCH", "a stored event of %s cannot be read", id);
        return st == TNT_E_NOMEM ? st : TNT_OK;
    }
    return TNT_OK;
}

static tnt__checkpoint *add_checkpoint(builder *b)
{
    tnt__view *v = b->v;
    if (v->njourney == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        tnt__checkpoint *n = tnt__arena_alloc(&v->a, cap * sizeof *n);
        if (!n)
            return NULL;
        if (v->njourney)
            memcpy(n, v->journey, v->njourney * sizeof *n);
        v->journey = n;
        b->cap = cap;
    }
    tnt__checkpoint *c = &v->journey[v->njourney++];
    memset(c, 0, sizeof *c);
    return c;
}

static size_t hash_slot(const char *hash, size_t cap) { return tnt__str_hash(hash) & (cap - 1); }

static bool seen_hash(const builder *b, const char *hash)
{
    if (!b->seen || !hash)
        return false;
    for (size_t j = hash_slot(hash, b->seen_cap); b->seen[j]; j = (j + 1) & (b->seen_cap - 1))
        if (strcmp(b->seen[j], hash) == 0)
            return true;
    return false;
}

/* Remember a checkpoint's hash; the table stays at most half full. */
static bool see_hash(builder *b, const char *hash)
{
    if (!hash)
        return true;
    if (2 * b->v->njourney >= b->seen_cap) {
        size_t cap = b->seen_cap ? b->seen_cap * 2 : 64;
        const char **t = tnt__arena_zalloc(&b->v->a, cap * sizeof *t);
        if (!t)
            return false;
        for (size_t i = 0; i < b->seen_cap; i++)
            if (b->seen[i]) {
                size_t j = hash_slot(b->seen[i], cap);
                while (t[j])
                    j = (j + 1) & (cap - 1);
                t[j] = b->seen[i];
            }
        b->seen = t;
        b->seen_cap = cap;
    }
    size_t j = hash_slot(hash, b->seen_cap);
    while (b->seen[j])
        j = (j + 1) & (b->seen_cap - 1);
    b->seen[j] = hash;
    return true;
}

static const char *destination(const tnt_event *ev)
{
    for (uint32_t i = 0; i < ev->destinations.n; i++)
        if (is(ev->destinations.v[i].type, "location"))
            return ev->destinations.v[i].value;
    return NULL;
}

/* Containment intervals of an identifier, from its aggregation events. */
typedef struct interval {
    const char *parent;
    int64_t from, to;
    const char *where; /* the packing's location (its GLN, when it has one) */
} interval;

#define AT_ONCE_MS 60000 /* two packings this close in time are one moment */

static tnt_status walk(builder *b, const char *id, int64_t from_ms, int64_t to_ms, const char *via, int depth);

static tnt_status walk(builder *b, const char *id, int64_t from_ms, int64_t to_ms, const char *via, int depth)
{
    entries l = {0};
    tnt_status st = read_entries(b->e, id, from_ms, to_ms, &l);
    interval iv[8];
    size_t niv = 0;
    for (size_t i = 0; st == TNT_OK && i < l.n && !b->v->fault_code; i++) {
        tnt_event *ev = NULL;
        if ((st = load_checked(b, id, &l.v[i], &ev)) != TNT_OK || !ev)
            break;
        uint8_t h[32];
        if (!tnt__hash_bytes(h, ev->hash_id) || memcmp(h, l.v[i].hash, 32) != 0 ||
            ev->event_time.ms != l.v[i].time_ms) {
            fault(b->v, "HISTORY_HASH_MISMATCH", "an event of %s is not where its history says", id);
            break;
        }
        /* a container's packing of other items is not this item's journey */
        bool others = via && ev->type == TNT_EVENT_AGGREGATION;
        if (!others && (!via || !seen_hash(b, ev->hash_id))) {
            tnt__checkpoint *c = add_checkpoint(b);
            if (!c) {
                st = TNT_E_NOMEM;
                break;
            }
            c->time_ms = ev->event_time.ms;
            c->type = ev->type;
            c->action = ev->action;
            c->step = keep(b->v, ev->biz_step);
            c->disposition = keep(b->v, ev->disposition);
            c->location = keep(b->v, ev->biz_location ? ev->biz_location : ev->read_point);
            c->hash = keep(b->v, ev->hash_id);
            if (!see_hash(b, c->hash)) {
                st = TNT_E_NOMEM;
                break;
            }
            c->via = via ? keep(b->v, via) : NULL;
            const char *dest = destination(ev);
            c->dest = keep(b->v, dest);
            if (c->location && !tnt__master_location(b->e, c->location, &c->loc))
                st = TNT_E_BACKEND;
        }
        /* where this identifier was packed: those containers' movements are its own */
        if (depth < 2 && ev->type == TNT_EVENT_AGGREGATION && ev->parent_id && niv < 8) {
            bool child = false;
            for (uint32_t j = 0; j < ev->child_epcs.n && !child; j++)
                child = is(ev->child_epcs.v[j], id);
            if (child && ev->action == TNT_ACTION_ADD) {
                const char *loc = ev->biz_location ? ev->biz_location : ev->read_point;
                char g[32];
                const char *gln = loc ? gln_of(loc, g, sizeof g) : NULL;
                /* A unit is in one container at a time: packed into another,
                 * it left the one before (an unpacking not recorded is a
                 * missed read, not a fault) — unless both packings are one
                 * moment at two places. */
                for (size_t j = 0; j < niv; j++) {
                    if (iv[j].to != to_ms || is(iv[j].parent, ev->parent_id))
                        continue;
                    bool at_once = ev->event_time.ms - iv[j].from <= AT_ONCE_MS && gln && iv[j].where &&
                                   strcmp(gln, iv[j].where) != 0;
                    if (at_once && !b->v->container_conflicts++)
                        /* the containers' codes are the partners' business, not the answer's */
                        b->v->container_text = "packed into two containers within a minute, at two places";
                    iv[j].to = ev->event_time.ms + 1;
                }
                iv[niv].parent = keep(b->v, ev->parent_id);
                iv[niv].from = ev->event_time.ms;
                iv[niv].to = to_ms;
                iv[niv].where = gln ? keep(b->v, gln) : NULL;
                niv++;
            } else if (child && ev->action == TNT_ACTION_DELETE) {
                for (size_t j = niv; j-- > 0;)
                    if (is(iv[j].parent, ev->parent_id) && iv[j].to == to_ms) {
                        iv[j].to = ev->event_time.ms + 1;
                        break;
                    }
            }
        }
        tnt__arena_reset(&b->tmp);
    }
    tnt__free(l.v);
    for (size_t j = 0; st == TNT_OK && j < niv && !b->v->fault_code; j++)
        if (iv[j].parent)
            st = walk(b, iv[j].parent, iv[j].from, iv[j].to, iv[j].parent, depth + 1);
    return st;
}

static int cmp_checkpoint(const void *x, const void *y)
{
    const tnt__checkpoint *a = x, *b = y;
    if (a->time_ms != b->time_ms)
        return a->time_ms < b->time_ms ? -1 : 1;
    return strcmp(a->hash ? a->hash : "", b->hash ? b->hash : "");
}

static bool terminal_step(const tnt__checkpoint *c)
{
    return is(c->step, "destroying") || is(c->disposition, "destroyed") || is(c->step, "decommissioning");
}

static void analyse(tnt__view *v)
{
    v->origin = -1;
    int64_t terminal = INT64_MAX;
    const tnt__checkpoint *prev_geo = NULL, *last_ship = NULL;
    for (size_t i = 0; i < v->njourney; i++) {
        const tnt__checkpoint *c = &v->journey[i];
        int at = (int)i + 1;
        if (!c->via && is(c->step, "commissioning")) {
            if (v->origin < 0)
                v->origin = (int)i;
            v->decommissioned = 0; /* put back into service (a saleable return) */
            terminal = v->destroyed ? terminal : INT64_MAX;
        }
        if (terminal != INT64_MAX && c->time_ms > terminal + SKEW_MS && !v->after_terminal && !is(c->step, "commissioning"))
            v->after_terminal = at;
        if (is(c->step, "destroying") || is(c->disposition, "destroyed"))
            v->destroyed = at;
        if (is(c->step, "decommissioning"))
            v->decommissioned = at;
        if (terminal_step(c) && terminal == INT64_MAX)
            terminal = c->time_ms;
        if (is(c->disposition, "stolen"))
            v->stolen = at;
        if (is(c->disposition, "recalled"))
            v->recalled = at;
        else if (c->disposition && v->recalled && !c->via)
            v->recalled = 0; /* a later own disposition replaces it (persistent ones are read from the state) */
        if (is(c->disposition, "expired"))
            v->expired = at;
        if (is(c->disposition, "damaged"))
            v->damaged = at;
        if (is(c->step, "retail_selling") || is(c->disposition, "retail_sold"))
            v->sold = at;
        else if (v->sold && (is(c->disposition, "returned") || is(c->step, "returning")))
            v->sold = 0;
        /* ship/receive agreement: a receipt where the shipment was not going */
        if (is(c->step, "shipping") && c->dest)
            last_ship = c;
        else if (last_ship && (is(c->step, "receiving") || is(c->step, "arriving")) && c->location) {
            char g1[32], g2[32];
            const char *want = gln_of(last_ship->dest, g1, sizeof g1), *got = gln_of(c->location, g2, sizeof g2);
            if (want && got && strcmp(want, got) != 0) {
                v->ship_mismatches++;
                if (!v->ship_text) /* no site numbers: the answer goes to consumers too */
                    v->ship_text = "it was received at another site than it was shipped to";
            }
            last_ship = NULL;
        }
        /* transit speed between consecutive located checkpoints */
        if (c->loc.has_geo) {
            if (prev_geo) {
                double d = km(prev_geo->loc.lat, prev_geo->loc.lon, c->loc.lat, c->loc.lon);
                double hours = fabs((double)(c->time_ms - prev_geo->time_ms)) / 3600000.0;
                if (d > TRAVEL_SLACK_KM + V_MAX_KMH * hours) {
                    v->travel_violations++;
                    if (!v->travel_text)
                        v->travel_text = tnt__arena_printf(&v->a, "%.0f km in %.1f h between two recorded steps",
                                                           d, hours);
                }
            }
            prev_geo = c;
            v->anchor = at;
        } else if (c->location && !v->anchor) {
            v->anchor = at;
        }
    }
    if (v->origin >= 0)
        for (size_t i = 0; i < v->njourney; i++) {
            const tnt__checkpoint *c = &v->journey[i];
            if (!c->via && c->time_ms + SKEW_MS < v->journey[v->origin].time_ms) {
                v->order_violations++;
                if (!v->order_text)
                    v->order_text = tnt__arena_printf(&v->a, "a %s before the commissioning",
                                                      c->step ? c->step : "step");
            }
        }
    if (v->sold)
        v->anchor = v->sold;
}

static tnt_status build_view(tnt_engine *e, const tnt_v1_ProductState *st, unsigned gen, int64_t now,
                             tnt__view **out)
{
    *out = NULL;
    tnt__view *v = tnt__calloc(1, sizeof *v);
    if (!v)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    atomic_init(&v->refs, 1);
    tnt__arena_init(&v->a, 0);
    v->id = tnt__arena_strdup(&v->a, st->id);
    memcpy(v->chain, st->chain.bytes, st->chain.size == 32 ? 32 : 0);
    v->count = st->event_count;
    v->gen = gen;
    v->built_ms = now;
    v->origin = -1;
    if (!v->id) {
        tnt__view_release(v);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    /* the chain over the stored entries, and its seal */
    uint8_t chain[32], seal[32];
    bool any = false;
    tnt_status s = tnt__chain_fold(e, st->id, chain, &any);
    if (s == TNT_E_CORRUPT)
        fault(v, "HISTORY_HASH_MISMATCH", "a history entry of %s is corrupt", st->id);
    else if (s != TNT_OK) {
        tnt__view_release(v);
        return s;
    }
    tnt__seal_compute(e, st, seal);
    bool differs = any != (st->chain.size == 32) || (any && memcmp(chain, st->chain.bytes, 32) != 0);
    if (differs && s == TNT_OK) {
        /* The state and the history are two reads: an event written between
         * them (a new one, or a late one that changes the chain) is not a
         * tampering. When the state moved meanwhile, read it all again. */
        tnt_v1_ProductState *now_st = tnt__arena_alloc(&v->a, sizeof *now_st);
        if (now_st && tnt__state_get(e, st->id, now_st) == TNT_OK &&
            (now_st->event_count != st->event_count || now_st->chain.size != st->chain.size ||
             memcmp(now_st->chain.bytes, st->chain.bytes, st->chain.size) != 0)) {
            tnt__view_release(v);
            return TNT_AGAIN;
        }
    }
    if (st->seal.size != 32 || memcmp(seal, st->seal.bytes, 32) != 0)
        fault(v, "HISTORY_HASH_MISMATCH", "the state of %s does not carry the engine's seal", st->id);
    else if (differs)
        fault(v, "HISTORY_HASH_MISMATCH", "the stored history of %s differs from its sealed chain", st->id);
    builder b = {e, v, 0, {0}, NULL, 0};
    tnt__arena_init(&b.tmp, 0);
    if (!v->fault_code)
        s = walk(&b, st->id, INT64_MIN, INT64_MAX, NULL, 0);
    tnt__arena_destroy(&b.tmp);
    if (s != TNT_OK) {
        tnt__view_release(v);
        return s;
    }
    if (v->njourney > 1)
        qsort(v->journey, v->njourney, sizeof *v->journey, cmp_checkpoint);
    analyse(v);
    *out = v;
    return TNT_OK;
}

/* ======================================================================
 * Scans recorded before
 * ====================================================================== */

/* What the checks use of a recorded scan (a tnt_v1_Scan is 1.1 KB, most of
 * it room for identifiers the checks do not read). */
typedef struct prior_scan {
    int64_t time_ms;
    uint64_t event_count;
    int32_t lat_e2, lon_e2;
    uint32_t accuracy_km, role;
    bool has_location, has_device;
    uint8_t device[16];
} prior_scan;

typedef struct scans {
    prior_scan *v;
    size_t n;
    tnt_status st;
    size_t seen;       /* records met, readable or not: past MAX_SCANS, there are more */
    prior_scan first;  /* the first scan ever, when there are more */
} scans;

static int take_scan(void *ud, const tnt_store_item *it)
{
    scans *l = ud;
    tnt__scan_head s;
    if (++l->seen > MAX_SCANS)
        return 0;
    if (!tnt__scan_head_read(it->value, it->value_len, &s))
        return 0; /* an unreadable scan is left out: scans are evidence, not custody */
    prior_scan *p = &l->v[l->n++];
    p->time_ms = s.time_ms;
    p->event_count = s.event_count;
    p->lat_e2 = s.lat_e2;
    p->lon_e2 = s.lon_e2;
    p->accuracy_km = s.accuracy_km;
    p->role = s.role;
    p->has_location = s.has_location;
    p->has_device = s.device_len == 16;
    if (p->has_device)
        memcpy(p->device, s.device, 16);
    return 0;
}

static int take_first(void *ud, const tnt_store_item *it)
{
    scans *l = ud;
    tnt__scan_head s;
    if (tnt__scan_head_read(it->value, it->value_len, &s)) {
        l->first.time_ms = s.time_ms;
        l->first.lat_e2 = s.lat_e2;
        l->first.lon_e2 = s.lon_e2;
        l->first.has_location = s.has_location;
    }
    return 0;
}

/* The latest MAX_SCANS scans, newest first; past that many, the first one
 * too (the answer shows when and where the code was first verified). */
static tnt_status read_scans(tnt_engine *e, const char *id, scans *l)
{
    l->v = tnt__malloc(MAX_SCANS * sizeof *l->v);
    if (!l->v)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt__key k;
    tnt__key_scans(&k, id, INT64_MIN);
    tnt_status st = e->store->methods->query(e->store, k.pk, k.pk_len, k.sk, k.sk_len, "v;", 2, MAX_SCANS + 1, 1,
                                             take_scan, l);
    if (st == TNT_OK && l->seen > MAX_SCANS)
        st = e->store->methods->query(e->store, k.pk, k.pk_len, k.sk, k.sk_len, "v;", 2, 1, 0, take_first, l);
    return st != TNT_OK ? st : l->st;
}

typedef struct counter {
    size_t n;
} counter;

static int count_one(void *ud, const tnt_store_item *it)
{
    (void)it;
    ((counter *)ud)->n++;
    return 0;
}

/* Unknown codes this device scanned in the last day. */
static size_t device_guesses(tnt_engine *e, const uint8_t dev[16], int64_t now)
{
    tnt__key k;
    tnt__key_device_from(&k, dev, 16, now - ENUM_WINDOW_MS);
    counter c = {0};
    e->store->methods->query(e->store, k.pk, k.pk_len, k.sk, k.sk_len, "u;", 2, ENUM_THRESHOLD * 4, 0, count_one, &c);
    return c.n;
}

/* ======================================================================
 * The verification
 * ====================================================================== */

typedef struct ctx {
    tnt_engine *e;
    tnt_verdict *v;
    const tnt_scan *scan;
    int64_t t;                 /* of the scan */
    bool geo;
    double lat, lon, acc_km;
    uint8_t device[16];
    bool has_device;
    double llr;
    bool hard;                 /* a hard rule decided */
    bool no_record;            /* the scan itself is invalid: nothing to record */
    bool caution;              /* a quality flag: at best GENUINE_CAUTION */
    bool sig_malformed;        /* a misread signature: grey, unless the other checks say red */
} ctx;

static void decide(ctx *c, tnt_verdict_kind kind, double confidence)
{
    if (c->hard)
        return;
    c->hard = true;
    c->v->kind = kind;
    c->v->confidence = confidence;
}

static void soft(ctx *c, const char *code, double llr, const char *fmt, ...) TNT__PRINTF(4, 5);
static void soft(ctx *c, const char *code, double llr, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < c->v->nreasons; i++)
        if (strcmp(c->v->reasons[i].code, code) == 0)
            return; /* each reason once: the strongest instance came first */
    tnt__verdict_reason(c->v, code, llr, "%s", msg);
    c->llr += llr;
}

/* A place in words for the answer's texts, which consumers read: the city,
 * a site's name only for a factory or a shop (as in the answer's places),
 * else the country, else coordinates to 0.1 degree. */
static const char *place(const tnt__loc *l, char *buf, size_t cap)
{
    if (l->city[0] && l->country[0])
        snprintf(buf, cap, "%s (%s)", l->city, l->country);
    else if (l->city[0])
        snprintf(buf, cap, "%s", l->city);
    else if (l->name[0] && (strncmp(l->role, "factory", 7) == 0 || strncmp(l->role, "retail", 6) == 0))
        snprintf(buf, cap, "%s", l->name);
    else if (l->country[0])
        snprintf(buf, cap, "a site in %s", l->country);
    else if (l->has_geo)
        snprintf(buf, cap, "%.1f, %.1f", l->lat, l->lon);
    else
        snprintf(buf, cap, "an unknown place");
    return buf;
}

static void date(char *buf, int64_t ms)
{
    tnt__time t = {ms, 0, true};
    char full[40];
    tnt__time_format(full, &t, true);
    memcpy(buf, full, 10);
    buf[10] = '\0';
}

/* YYMMDD (AI 17) as YYYY-MM-DD; DD 00 means the month's end. */
static bool ai17_date(char out[16], const char *v, int64_t now_ms)
{
    if (!v || strlen(v) != 6 || strspn(v, "0123456789") != 6)
        return false;
    int yy = (v[0] - '0') * 10 + (v[1] - '0'), mm = (v[2] - '0') * 10 + (v[3] - '0'), dd = (v[4] - '0') * 10 + (v[5] - '0');
    /* the century (GS1 General Specifications, 7.12): within -49..+50 years of now */
    char today[16];
    date(today, now_ms);
    int cur = atoi(today), year = cur - cur % 100 + yy;
    if (year - cur >= 51)
        year -= 100;
    else if (year - cur <= -50)
        year += 100;
    if (dd == 0) {
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        dd = mm >= 1 && mm <= 12 ? days[mm - 1] : 0;
        if (mm == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
            dd = 29;
    }
    snprintf(out, 16, "%04d-%02d-%02d", year % 10000, mm, dd);
    return true;
}

static int64_t day_end_ms(const char *ymd)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.10sT23:59:59Z", ymd);
    tnt__time t;
    return tnt__time_parse(&t, buf) ? t.ms : 0;
}

/* L1: the brand's signature on the code. */
static void check_signature(ctx *c, const tnt__idp *p, const char *sig_b64, int64_t ref_ms)
{
    tnt_verdict *v = c->v;
    v->signature_present = true;
    uint8_t sig[64];
    if (!tnt__b64_decode(sig, 64, sig_b64, strlen(sig_b64))) {
        tnt__verdict_reason(v, "SIG_MALFORMED", 0,
                            "The code's signature (AI 8030) is not a 64-byte Ed25519 signature: the code may be "
                            "misread. Scan it again.");
        /* Not decided here: a counterfeiter could otherwise turn any red
         * verdict (an unknown serial, a destroyed code) grey by adding a
         * broken signature. The other checks run, and grey is what is left. */
        c->sig_malformed = true;
        return;
    }
    if (!v->brand.nkeys) {
        tnt__verdict_reason(v, "SIG_UNCHECKED", 0, "The code is signed, but no public key of its brand owner is known.");
        return;
    }
    char msg[1024];
    size_t mlen = tnt__signed_message(msg, sizeof msg, p);
    bool any = false, in_window = false;
    for (size_t i = 0; i < v->brand.nkeys && !in_window; i++) {
        const tnt__brand_key *k = &v->brand.keys[i];
        if (!mlen || !tnt__auth_verify_cached(c->e->auth_cache, sig, (const uint8_t *)msg, mlen, k->pk))
            continue;
        any = true;
        in_window = (!k->valid_from || ref_ms >= k->valid_from) && (!k->valid_until || ref_ms <= k->valid_until) &&
                    (!k->revoked_at || ref_ms < k->revoked_at);
    }
    if (!any) {
        tnt__verdict_reason(v, "SIG_INVALID", 0,
                            "The code's signature does not match any key of %s: the code was not issued by the brand.",
                            v->brand.name[0] ? v->brand.name : "the brand owner");
        decide(c, TNT_VERDICT_COUNTERFEIT, 0.999);
    } else if (!in_window) {
        tnt__verdict_reason(v, "SIG_KEY_REVOKED_OR_OUT_OF_WINDOW", 0,
                            "The code is signed with a key of %s that was revoked or not valid when the code was "
                            "issued.",
                            v->brand.name[0] ? v->brand.name : "the brand owner");
        decide(c, TNT_VERDICT_COUNTERFEIT, 0.99);
    } else {
        v->signature_valid = true;
        tnt__verdict_reason(v, "SIG_VALID", 0, "The code carries a valid signature of %s.",
                            v->brand.name[0] ? v->brand.name : "the brand owner");
    }
}

/* A state of a class the unit belongs to (its lot, its GTIN): recalled? */
static bool class_recalled(tnt_engine *e, const char *text, int64_t *when)
{
    char id[TNT__ID_CANONICAL_CAP];
    if (!tnt__id_canonical(id, sizeof id, text, strlen(text)))
        return false;
    tnt__state_view st; /* the class's state read in place: no 8 KB tnt_v1_ProductState */
    void *buf = NULL;
    bool r = false;
    if (tnt__state_view_get(e, id, &st, &buf) == TNT_OK) {
        if (is(st.s[TNT__SV_DISPOSITION], "recalled")) {
            r = true;
            *when = st.disposition_time_ms;
        }
        for (unsigned i = 0; i < st.n_persistent && !r; i++)
            if (st.persistent[i][0] == 's' && strstr(st.persistent[i], ":recalled")) {
                r = true;
                *when = strtoll(st.persistent[i] + 2, NULL, 10);
            }
    }
    tnt_free(buf);
    return r;
}

static bool persistent_set(const tnt_v1_ProductState *st, const char *disp)
{
    char want[64];
    snprintf(want, sizeof want, ":%s", disp);
    for (pb_size_t i = 0; i < st->persistent_count; i++) {
        const char *p = st->persistent[i];
        size_t n = strlen(p), w = strlen(want);
        if (p[0] == 's' && n >= w && strcmp(p + n - w, want) == 0)
            return true;
    }
    return false;
}

/* L6: clones and replays, against the journey and the scans before. */
static void check_clones(ctx *c, const tnt__view *view, const scans *prior)
{
    tnt_verdict *v = c->v;
    const tnt__checkpoint *anchor = view && view->anchor ? &view->journey[view->anchor - 1] : NULL;
    bool sold = view && view->sold;
    bool anchor_geo = anchor && anchor->loc.has_geo;
    bool anchor_retail = sold || (anchor && strncmp(anchor->loc.role, "retail", 6) == 0);
    char where[160], other[160], d1[16];

    /* this scan's place: its coordinates, or its site's */
    if (c->geo && anchor_geo) {
        double d = km(c->lat, c->lon, anchor->loc.lat, anchor->loc.lon) - c->acc_km;
        if (d > FAR_KM && c->scan->role == TNT_ROLE_CONSUMER) {
            if (sold) {
                double days = (double)(c->t - anchor->time_ms) / DAY_MS;
                date(d1, anchor->time_ms);
                soft(c, "POST_SALE_FAR_SCAN", days <= 180 ? -7.0 : -3.0,
                     "This code was sold on %s in %s, %.0f km from here.", d1, place(&anchor->loc, where, sizeof where),
                     d + c->acc_km);
            } else if (anchor_retail) {
                soft(c, "NOT_AT_CUSTODY_LOCATION", -7.0,
                     "The recorded supply chain has this item at a shop in %s, %.0f km from here.",
                     place(&anchor->loc, where, sizeof where), d + c->acc_km);
            } else if (d > 1000) {
                soft(c, "FAR_FROM_LAST_KNOWN", -2.0, "The item was last recorded in %s, %.0f km from here.",
                     place(&anchor->loc, where, sizeof where), d + c->acc_km);
            }
        }
    }
    bool near_anchor = c->geo && anchor_geo &&
                       km(c->lat, c->lon, anchor->loc.lat, anchor->loc.lon) - c->acc_km <= FAR_KM;
    /* On its way (shipped, not yet received), custody is where the shipment
     * goes too: a scan there is the item's, and another far away the copy. */
    if (c->geo && !near_anchor && !sold && anchor && anchor->dest && is(anchor->step, "shipping")) {
        tnt__loc dl;
        if (tnt__master_location(c->e, anchor->dest, &dl) && dl.has_geo)
            near_anchor = km(c->lat, c->lon, dl.lat, dl.lon) - c->acc_km <= FAR_KM;
    }

    /* impossible travel: this scan against each recorded step and scan */
    if (c->geo && view) {
        for (size_t i = 0; i < view->njourney; i++) {
            const tnt__checkpoint *cp = &view->journey[i];
            double hours = fabs((double)(c->t - cp->time_ms)) / 3600000.0;
            if (!cp->loc.has_geo || TRAVEL_SLACK_KM + V_MAX_KMH * hours > 20040)
                continue; /* nowhere on Earth is that far */
            double d = km(c->lat, c->lon, cp->loc.lat, cp->loc.lon) - c->acc_km;
            if (d > TRAVEL_SLACK_KM + V_MAX_KMH * hours) {
                soft(c, "IMPOSSIBLE_TRAVEL", -7.0, "The item was recorded in %s %.1f h %s this scan, %.0f km away.",
                     place(&cp->loc, where, sizeof where), hours, cp->time_ms > c->t ? "after" : "before",
                     d + c->acc_km);
                break;
            }
        }
    }
    size_t near = 0, far = 0, devices = 0;
    uint8_t seen[16][16];
    const prior_scan *far_scan = NULL, *near_scan = NULL;
    for (size_t i = 0; i < prior->n; i++) {
        const prior_scan *s = &prior->v[i];
        /* devices that verified it since the sale where custody puts it, or
         * from no known place (copies elsewhere count as copies, not as
         * devices). Before a sale, many devices are shoppers at a shelf. */
        bool at_custody = !anchor_geo || !s->has_location ||
                          km(s->lat_e2 / 100.0, s->lon_e2 / 100.0, anchor->loc.lat, anchor->loc.lon) -
                                  (s->accuracy_km ? s->accuracy_km : 1) <=
                              FAR_KM;
        if (sold && s->role == TNT_ROLE_CONSUMER && s->has_device && at_custody && s->time_ms >= anchor->time_ms) {
            bool dup = false;
            for (size_t j = 0; j < devices && !dup; j++)
                dup = memcmp(seen[j], s->device, 16) == 0;
            if (!dup && devices < 16)
                memcpy(seen[devices++], s->device, 16);
        }
        if (!s->has_location)
            continue;
        double lat = s->lat_e2 / 100.0, lon = s->lon_e2 / 100.0, acc = s->accuracy_km ? s->accuracy_km : 1;
        if (c->geo) {
            double d = km(c->lat, c->lon, lat, lon) - c->acc_km - acc;
            double hours = fabs((double)(c->t - s->time_ms)) / 3600000.0;
            if (d > TRAVEL_SLACK_KM + V_MAX_KMH * hours) {
                tnt__loc sl = {.has_geo = true, .lat = lat, .lon = lon};
                if (near_anchor) /* custody is here: the other one is the copy */
                    soft(c, "CONFLICT_ELSEWHERE", -1.0,
                         "The same code was verified %.1f h apart %.0f km away; the recorded supply chain puts the "
                         "item here.",
                         hours, d + c->acc_km + acc);
                else
                    soft(c, "IMPOSSIBLE_TRAVEL", -7.0,
                         "The same code was verified near %s %.1f h %s, %.0f km away.", place(&sl, other, sizeof other),
                         hours, s->time_ms > c->t ? "after" : "before", d + c->acc_km + acc);
            }
        }
        if (anchor_geo && s->role == TNT_ROLE_CONSUMER && (!sold || s->time_ms >= anchor->time_ms - SKEW_MS)) {
            double da = km(lat, lon, anchor->loc.lat, anchor->loc.lon) - acc;
            if (da <= FAR_KM) {
                near++;
                near_scan = s;
            } else {
                far++;
                far_scan = s;
            }
        }
    }
    if (c->geo && anchor_geo && !near_anchor && near && c->scan->role == TNT_ROLE_CONSUMER) {
        date(d1, near_scan->time_ms);
        soft(c, "COPY_AT_CUSTODY", -3.0,
             "The same code is also being verified in %s, where the recorded supply chain put the item (on %s).",
             place(&anchor->loc, where, sizeof where), d1);
    }
    if (near_anchor && far) {
        date(d1, far_scan->time_ms);
        tnt__loc sl = {.has_geo = true, .lat = far_scan->lat_e2 / 100.0, .lon = far_scan->lon_e2 / 100.0};
        soft(c, "CONFLICT_ELSEWHERE", -1.0,
             "This code was also verified far from here, near %s (on %s). If you bought it at %s, it is yours; the "
             "other one is a copy.",
             place(&sl, other, sizeof other), d1, place(&anchor->loc, where, sizeof where));
    }
    /* distinct devices after the sale (a household has one or two) */
    if (sold && c->has_device && c->scan->role == TNT_ROLE_CONSUMER && (!anchor_geo || !c->geo || near_anchor)) {
        bool dup = false;
        for (size_t j = 0; j < devices && !dup; j++)
            dup = memcmp(seen[j], c->device, 16) == 0;
        if (!dup && devices < 16)
            memcpy(seen[devices++], c->device, 16);
    }
    if (devices >= 3) {
        double llr = -3.5 * (double)(devices - 2);
        soft(c, "MANY_DEVICES", llr < -10 ? -10 : llr, "%zu different devices verified this code since it was sold.",
             devices);
    }
    /* a sale or a return where custody says otherwise */
    if (sold && c->scan->role != TNT_ROLE_CONSUMER && c->scan->intent == TNT_INTENT_SELL) {
        char g[32];
        const char *sale_gln = gln_of(anchor->location, g, sizeof g);
        bool same = sale_gln && c->scan->location_id && strstr(c->scan->location_id, sale_gln);
        date(d1, anchor->time_ms);
        if (same && c->t - anchor->time_ms <= DOUBLE_SCAN_MS)
            tnt__verdict_reason(v, "ALREADY_SOLD", 0, "This code was sold here a few minutes ago (a double scan?).");
        else
            soft(c, "ALREADY_SOLD", -8.0, "This code was sold already, on %s in %s: this one is a copy.", d1,
                 place(&anchor->loc, where, sizeof where));
    }
    /* a return far from where custody puts it (sold there, or on that shop's shelf) */
    if ((sold || anchor_retail) && c->scan->role != TNT_ROLE_CONSUMER && c->scan->intent == TNT_INTENT_RETURN &&
        c->geo && anchor_geo) {
        double d = km(c->lat, c->lon, anchor->loc.lat, anchor->loc.lon) - c->acc_km;
        if (d > FAR_KM)
            soft(c, "RETURN_FAR_FROM_SALE", -7.0, "This code was %s in %s, %.0f km from where it is returned.",
                 sold ? "sold" : "on a shop's shelf", place(&anchor->loc, where, sizeof where), d + c->acc_km);
    }
    if (prior->seen > MAX_SCANS)
        tnt__verdict_reason(v, "SCANNED_N_TIMES", 0, "This code was verified more than %zu times before.", (size_t)MAX_SCANS);
    else if (prior->n)
        tnt__verdict_reason(v, "SCANNED_N_TIMES", 0, "This code was verified %zu time%s before.", prior->n,
                            prior->n == 1 ? "" : "s");
}

static void score(ctx *c)
{
    /* a probability from a model is never certainty */
    if (c->v->confidence > 0.9999)
        c->v->confidence = 0.9999;
    double logit = PRIOR_LOGIT + c->llr;
    double p = 1.0 / (1.0 + exp(-logit));
    c->v->probability = p;
    if (c->hard)
        return;
    if (p >= P_GENUINE && !c->caution) {
        c->v->kind = TNT_VERDICT_GENUINE;
        c->v->confidence = p;
    } else if (p < P_SUSPECT) {
        c->v->kind = TNT_VERDICT_SUSPECT;
        c->v->confidence = 1 - p;
    } else {
        c->v->kind = TNT_VERDICT_GENUINE_CAUTION;
        c->v->confidence = p;
    }
    if (c->v->confidence > 0.9999)
        c->v->confidence = 0.9999;
}

/* Record the scan durably (the log), then in the state store. */
static tnt_status record_scan(ctx *c, const tnt_v1_ProductState *st, bool unknown)
{
    tnt_engine *e = c->e;
    tnt_v1_Scan *s = tnt__arena_zalloc(&c->v->a, sizeof *s);
    if (!s)
        return TNT_E_NOMEM;
    snprintf(s->id, sizeof s->id, "%s", c->v->id);
    s->time_ms = c->t;
    s->has_location = c->geo;
    if (c->geo) {
        s->lat_e2 = (int32_t)lround(c->lat * 100);
        s->lon_e2 = (int32_t)lround(c->lon * 100);
        double acc = ceil(c->acc_km);
        s->accuracy_km = acc < 1 ? 1 : acc > 20000 ? 20000 : (uint32_t)acc;
    }
    if (c->has_device) {
        memcpy(s->device.bytes, c->device, 16);
        s->device.size = 16;
    }
    s->role = (uint32_t)c->scan->role;
    s->intent = (uint32_t)c->scan->intent;
    if (c->scan->location_id)
        snprintf(s->location_id, sizeof s->location_id, "%s", c->scan->location_id);
    s->event_count = st ? st->event_count : 0;
    s->verdict = (uint32_t)c->v->kind;
    s->unknown = unknown;
    tnt_status rc;
    if (c->scan->record == TNT_SCAN_RECORD_BACKGROUND) {
        rc = tnt__scan_queue(e, s);
    } else {
        tnt__arena a;
        tnt__arena_init(&a, 0);
        tnt__effect fx;
        memset(&fx, 0, sizeof fx);
        fx.scan = s;
        fx.time_ms = c->t;
        fx.record = tnt__record_scan(&a, s, &fx.record_len);
        rc = fx.record ? tnt__scan_commit(e, &fx, s->id) : tnt__error(TNT_E_NOMEM, "out of memory");
        tnt__arena_destroy(&a);
    }
    if (rc == TNT_OK)
        c->v->recorded = true;
    return rc;
}

/* A retailer's or partner's sale, receipt or return: recorded as an event. */
static void record_custody(ctx *c)
{
    static const char *const kinds[] = {NULL, "sell", "receive", "return"};
    const tnt_scan *s = c->scan;
    if (s->role == TNT_ROLE_CONSUMER || s->intent <= TNT_INTENT_STATUS || s->intent > TNT_INTENT_RETURN ||
        !s->location_id || !*s->location_id)
        return;
    if (c->v->kind != TNT_VERDICT_GENUINE && c->v->kind != TNT_VERDICT_GENUINE_CAUTION) {
        tnt__verdict_reason(c->v, "CUSTODY_NOT_RECORDED", 0, "The %s was not recorded: the code did not verify.",
                            kinds[s->intent]);
        return;
    }
    tnt__buf b;
    tnt__buf_init(&b);
    char when[40];
    tnt__time t = {c->t, 0, true};
    tnt__time_format(when, &t, true);
    tnt__buf_puts(&b, "{\"product_id\":");
    tnt__buf_json_str(&b, c->v->id);
    tnt__buf_printf(&b, ",\"event_type\":\"%s\",\"location\":", kinds[s->intent]);
    tnt__buf_json_str(&b, s->location_id);
    tnt__buf_printf(&b, ",\"timestamp\":\"%s\"}", when);
    size_t len = 0;
    char *json = tnt__buf_detach(&b, &len);
    tnt_ingest_report *rep = NULL;
    tnt_status st = json ? tnt_engine_ingest(&rep, c->e, json, len, 0) : TNT_E_NOMEM;
    size_t evs = 0, acc = 0, dup = 0, rej = 0;
    if (st == TNT_OK)
        tnt_ingest_report_counts(rep, &evs, &acc, &dup, &rej);
    if (st != TNT_OK || rej) {
        const char *msg = NULL;
        if (rep && rej)
            tnt_ingest_report_error(NULL, NULL, &msg, rep, 0, 0);
        tnt__verdict_reason(c->v, "CUSTODY_NOT_RECORDED", 0, "The %s was not recorded: %s", kinds[s->intent],
                            msg ? msg : tnt_status_str(st));
    } else {
        tnt__verdict_reason(c->v, "CUSTODY_RECORDED", 0, "The %s was recorded.", kinds[s->intent]);
    }
    tnt_ingest_report_free(rep);
    tnt__free(json);
}

static tnt_status check_scan(const tnt_scan *s)
{
    if (s->version == 0 || s->version > TNT_SCAN_VERSION)
        return tnt__error(TNT_E_INVALID, "tnt_scan: unknown version %u", s->version);
    if (s->has_location && (!isfinite(s->latitude) || !isfinite(s->longitude) || fabs(s->latitude) > 90 ||
                            fabs(s->longitude) > 180))
        return tnt__error(TNT_E_INVALID, "the scan's location %g, %g is not a latitude/longitude", s->latitude,
                          s->longitude);
    if (!isfinite(s->accuracy_m) || s->accuracy_m < 0 || s->accuracy_m > 2.0e7)
        return tnt__error(TNT_E_INVALID, "the scan's accuracy %g m is out of range (0 to 20,000 km)", s->accuracy_m);
    if (s->role < TNT_ROLE_CONSUMER || s->role > TNT_ROLE_PARTNER)
        return tnt__error(TNT_E_INVALID, "unknown scan role %d", s->role);
    if (s->record < TNT_SCAN_DRY_RUN || s->record > TNT_SCAN_RECORD_BACKGROUND)
        return tnt__error(TNT_E_INVALID, "unknown scan record mode %d", s->record);
    if (s->intent < TNT_INTENT_STATUS || s->intent > TNT_INTENT_RETURN)
        return tnt__error(TNT_E_INVALID, "unknown scan intent %d", s->intent);
    if (s->device && strnlen(s->device, MAX_DEVICE + 1) > MAX_DEVICE)
        return tnt__error(TNT_E_TOOBIG, "the device id is longer than %d bytes", MAX_DEVICE);
    if (s->location_id && strnlen(s->location_id, 512) >= 512)
        return tnt__error(TNT_E_TOOBIG, "the scan's location id is longer than 511 bytes");
    if (s->location_id && *s->location_id && s->role == TNT_ROLE_CONSUMER)
        return tnt__error(TNT_E_INVALID, "a consumer's scan has no location id (give coordinates)");
    return TNT_OK;
}

tnt_status tnt_scan_init(tnt_scan *scan, unsigned int version)
{
    if (!scan)
        return TNT_E_MISUSE;
    if (version == 0 || version > TNT_SCAN_VERSION)
        return tnt__error(TNT_E_INVALID, "tnt_scan_init: unknown version %u", version);
    *scan = (tnt_scan)TNT_SCAN_INIT;
    scan->version = version;
    return TNT_OK;
}

static const char *value_of(const tnt__idp *p, const char *ai, tnt_verdict *v)
{
    const char *s = tnt__id_value(p, ai);
    return s ? tnt__arena_strdup(&v->a, s) : NULL;
}

/* The code as scanned, for the answer: at most 512 bytes, cut between
 * characters, each byte that is not part of a valid UTF-8 character shown
 * as '?' (the answer is JSON; a scanner may send anything). */
static char *echo_code(tnt__arena *a, const char *code, size_t len)
{
    const size_t cap = 512;
    char *out = tnt__arena_alloc(a, cap + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char b = (unsigned char)code[i];
        size_t k = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        bool ok = k == 1 ? b < 0x80 : i + k <= len && tnt__utf8_valid(code + i, k, false);
        if (!ok)
            k = 1;
        if (o + k > cap)
            break;
        if (ok)
            memcpy(out + o, code + i, k);
        else
            out[o] = '?';
        o += k;
        i += k;
    }
    out[o] = '\0';
    return out;
}

static tnt_status authenticate(ctx *c, const char *code)
{
    tnt_engine *e = c->e;
    tnt_verdict *v = c->v;
    int64_t now = clock_ms();
    size_t code_len = strnlen(code, MAX_CODE + 1);
    v->code = echo_code(&v->a, code, code_len);

    /* the scan's time */
    if (c->t > now + FUTURE_MS || c->t < 946684800000LL) {
        tnt__verdict_reason(v, "SCAN_TIME_INVALID", 0,
                            "The time of the scan is in the future or before 2000: check the device's clock.");
        decide(c, TNT_VERDICT_UNVERIFIABLE, 0);
        c->no_record = true;
        return TNT_OK;
    }
    /* L0: the code */
    if (code_len > MAX_CODE) {
        tnt__verdict_reason(v, "CODE_INVALID", 0, "The code is longer than any GS1 code: scan it again.");
        decide(c, TNT_VERDICT_UNVERIFIABLE, 0);
        return TNT_OK;
    }
    tnt__idp *p = tnt__arena_alloc(&v->a, sizeof *p);
    if (!p)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt_status st = tnt__id_parse(p, code, code_len, 0, NULL, TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL);
    if (st == TNT_E_NOMEM)
        return st;
    if (st != TNT_OK) {
        tnt__verdict_reason(v, "CODE_INVALID", 0, "This is not a valid GS1 code (%s): scan it again.",
                            p->nerr ? p->err[0].msg : tnt_status_str(st));
        decide(c, TNT_VERDICT_UNVERIFIABLE, 0);
        return TNT_OK;
    }
    if (p->type != TNT_ID_SGTIN || p->level != TNT_ID_LEVEL_INSTANCE) {
        tnt__verdict_reason(v, "CODE_NOT_SERIALISED", 0,
                            "This code names a %s, not one serialised product: there is nothing to verify.",
                            tnt_id_type_name(p->type));
        decide(c, TNT_VERDICT_UNVERIFIABLE, 0);
        return TNT_OK;
    }
    char id[TNT__ID_CANONICAL_CAP];
    if (!tnt__id_format_canonical(id, sizeof id, p))
        return tnt__error(TNT_E_TOOBIG, "the code is too long");
    v->id = tnt__arena_strdup(&v->a, id);
    v->gtin = value_of(p, "01", v);
    v->serial = value_of(p, "21", v);
    v->lot = value_of(p, "10", v);
    const char *exp17 = tnt__id_value(p, "17");
    char expiry[16];
    if (exp17 && ai17_date(expiry, exp17, now))
        v->expiry = tnt__arena_strdup(&v->a, expiry);
    if (!v->id || !v->gtin || !v->serial)
        return tnt__error(TNT_E_NOMEM, "out of memory");

    /* what is known of it */
    tnt_v1_ProductState *ps = tnt__arena_alloc(&v->a, sizeof *ps);
    if (!ps)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    pthread_rwlock_rdlock(&e->replay_lock);
    st = tnt__state_get(e, id, ps);
    bool known = st == TNT_OK;
    if (st == TNT_E_NOTFOUND)
        st = TNT_OK;
    if (st == TNT_OK && (!tnt__master_product(e, v->gtin, &v->product) ||
                         !tnt__master_party_of_gtin(e, v->gtin, &v->brand)))
        st = tnt__error(TNT_E_BACKEND, "reading master data: %s", tnt_error_last());
    tnt__view *view = NULL;
    scans prior = {0};
    for (int again = 0; st == TNT_OK && known; again++) {
        unsigned gen = atomic_load(&e->master_gen);
        view = tnt__view_lookup(e->auth_cache, id, ps->chain.bytes, ps->event_count, gen, now, VIEW_MAX_AGE_MS);
        if (!view && (st = build_view(e, ps, gen, now, &view)) == TNT_OK)
            tnt__view_store(e->auth_cache, view);
        if (st != TNT_AGAIN)
            break;
        /* written to while it was read: the state again (a few times at most) */
        st = again < 8 ? tnt__state_get(e, id, ps) : tnt__error(TNT_E_CONFLICT, "%s is being written to: try again", id);
    }
    if (st == TNT_OK)
        st = read_scans(e, id, &prior);
    size_t guesses = st == TNT_OK && c->has_device ? device_guesses(e, c->device, c->t) : 0;
    pthread_rwlock_unlock(&e->replay_lock);
    if (st != TNT_OK) {
        tnt__view_release(view);
        tnt__free(prior.v);
        return st;
    }
    v->view = view;
    if (view) {
        v->journey = view->journey;
        v->njourney = view->njourney;
        if (view->origin >= 0) {
            v->has_origin = true;
            v->origin = view->journey[view->origin];
        }
    }
    v->state_lot = known && ps->lot[0] ? tnt__arena_strdup(&v->a, ps->lot) : NULL;
    v->state_expiry = known && ps->expiry[0] ? tnt__arena_strdup(&v->a, ps->expiry) : NULL;
    v->scans = prior.n;
    const prior_scan *first = prior.seen > MAX_SCANS && prior.first.time_ms ? &prior.first : NULL; /* read apart */
    for (size_t i = 0; i <= prior.n; i++) {
        const prior_scan *sc = i < prior.n ? &prior.v[i] : first;
        if (sc && (!v->first_scan_ms || sc->time_ms < v->first_scan_ms)) {
            v->first_scan_ms = sc->time_ms;
            v->first_scan_loc = (tnt__loc){0};
            if (sc->has_location) {
                v->first_scan_loc.has_geo = true;
                v->first_scan_loc.lat = sc->lat_e2 / 100.0;
                v->first_scan_loc.lon = sc->lon_e2 / 100.0;
            }
        }
    }

    /* L1: the signature */
    const char *sig = tnt__id_value(p, "8030");
    int64_t ref = v->has_origin ? v->origin.time_ms : known ? ps->first_time_ms : c->t;
    if (sig)
        check_signature(c, p, sig, ref);
    else if (v->brand.signs_codes)
        soft(c, "SIG_MISSING", -2.0, "%s signs its codes, but this one carries no signature.",
             v->brand.name[0] ? v->brand.name : "The brand owner");
    if (c->hard && v->kind == TNT_VERDICT_UNVERIFIABLE)
        goto done;

    /* L4: the history */
    if (view && view->fault_code) {
        tnt__verdict_reason(v, view->fault_code, 0, "The stored history of this product failed verification (%s): "
                                                    "the answer cannot be trusted. The operator has been alerted.",
                            view->fault_text);
        decide(c, TNT_VERDICT_UNVERIFIABLE, 0);
    }
    uint64_t seen_count = 0;
    for (size_t i = 0; i < prior.n; i++)
        if (prior.v[i].event_count > seen_count)
            seen_count = prior.v[i].event_count;
    if (known && seen_count > ps->event_count) {
        tnt__verdict_reason(v, "CHECKPOINT_ROLLBACK", 0,
                            "An earlier verification saw %llu recorded events, the store now holds %llu: the history "
                            "was rolled back.",
                            (unsigned long long)seen_count, (unsigned long long)ps->event_count);
        decide(c, TNT_VERDICT_UNVERIFIABLE, 0);
    }

    /* L2: the registry */
    if (!known) {
        if (guesses + 1 >= ENUM_THRESHOLD)
            tnt__verdict_reason(v, "ENUMERATION_SUSPECTED", 0,
                                "This device tried %zu unknown codes in a day: codes are being guessed.", guesses + 1);
        if (v->signature_valid) {
            tnt__verdict_reason(v, "SERIAL_NOT_RECORDED", 0,
                                "The brand signed this code, but no event of it has been recorded yet.");
            decide(c, TNT_VERDICT_GENUINE_CAUTION, 0.9);
        } else if (v->product.known || (v->brand.known && v->brand.signs_codes)) {
            /* the product is registered here (or its brand registers every code): an unknown serial was
             * never issued */
            tnt__verdict_reason(v, "SERIAL_UNKNOWN", 0, "%s never issued serial %s of this product.",
                                v->brand.name[0] ? v->brand.name : v->product.brand[0] ? v->product.brand : "The brand",
                                v->serial);
            decide(c, TNT_VERDICT_COUNTERFEIT, 0.99);
        } else {
            tnt__verdict_reason(v, "PRODUCT_UNKNOWN", 0, "This product (GTIN %s) is not known here.", v->gtin);
            decide(c, TNT_VERDICT_UNVERIFIABLE, 0);
        }
        goto record;
    }
    if (v->lot && v->state_lot && strcmp(v->lot, v->state_lot) != 0) {
        tnt__verdict_reason(v, "LOT_MISMATCH", 0, "The code says batch %s; the brand issued this serial in batch %s.",
                            v->lot, v->state_lot);
        decide(c, TNT_VERDICT_COUNTERFEIT, 0.99);
    }
    if (v->expiry && v->state_expiry && strncmp(v->expiry, v->state_expiry, 10) != 0) {
        tnt__verdict_reason(v, "EXPIRY_MISMATCH", 0,
                            "The code says expiry %s; the brand issued this serial with expiry %.10s.", v->expiry,
                            v->state_expiry);
        decide(c, TNT_VERDICT_COUNTERFEIT, 0.99);
    }
    if (!view->fault_code && !v->has_origin)
        tnt__verdict_reason(v, "MISSING_EVENTS", 0, "Its commissioning was not recorded (a missing record, not a fault).");

    /* L3: the lifecycle */
    char d1[16], where[160];
    if (view->destroyed) {
        const tnt__checkpoint *x = &view->journey[view->destroyed - 1];
        date(d1, x->time_ms);
        tnt__verdict_reason(v, "STATUS_DESTROYED", 0, "This code belongs to an item destroyed on %s: it is being "
                                                      "reused.", d1);
        decide(c, TNT_VERDICT_COUNTERFEIT, 0.99);
    }
    if (view->decommissioned) {
        date(d1, view->journey[view->decommissioned - 1].time_ms);
        tnt__verdict_reason(v, "STATUS_DECOMMISSIONED", 0, "This code was taken out of use on %s.", d1);
        decide(c, TNT_VERDICT_COUNTERFEIT, 0.98);
    }
    if (view->after_terminal) {
        date(d1, view->journey[view->after_terminal - 1].time_ms);
        soft(c, "EVENT_AFTER_TERMINAL", -7.0, "The code was used again on %s, after it was retired.", d1);
    }
    if (view->stolen) {
        date(d1, view->journey[view->stolen - 1].time_ms);
        tnt__verdict_reason(v, "STATUS_STOLEN", 0, "This item was reported stolen on %s. Do not buy it.", d1);
        decide(c, TNT_VERDICT_SUSPECT, 0.95);
    }
    int64_t rwhen = 0;
    char cls[600];
    bool recalled = view->recalled || persistent_set(ps, "recalled");
    if (recalled)
        rwhen = view->recalled ? view->journey[view->recalled - 1].time_ms : ps->disposition_time_ms;
    if (!recalled && v->state_lot) {
        snprintf(cls, sizeof cls, "(01)%s(10)%s", v->gtin, v->state_lot);
        recalled = class_recalled(e, cls, &rwhen);
    }
    if (!recalled) {
        snprintf(cls, sizeof cls, "(01)%s", v->gtin);
        recalled = class_recalled(e, cls, &rwhen);
    }
    if (recalled) {
        date(d1, rwhen);
        tnt__verdict_reason(v, "STATUS_RECALLED", 0,
                            "This product was recalled on %s. Do not use it; return it to the shop.", d1);
        decide(c, TNT_VERDICT_DO_NOT_USE, 0.99);
    }
    const char *exp = v->state_expiry ? v->state_expiry : v->expiry;
    if (view->expired || (exp && day_end_ms(exp) && day_end_ms(exp) < c->t)) {
        tnt__verdict_reason(v, "EXPIRED", 0, "This product expired%s%.10s. Do not use it.", exp ? " on " : "",
                            exp ? exp : "");
        decide(c, TNT_VERDICT_DO_NOT_USE, 0.99);
    }
    if (view->damaged) {
        tnt__verdict_reason(v, "QUALITY_FAILURE", 0, "This item was recorded as damaged. Do not use it.");
        decide(c, TNT_VERDICT_DO_NOT_USE, 0.95);
    }
    if (view->sold) {
        const tnt__checkpoint *x = &view->journey[view->sold - 1];
        date(d1, x->time_ms);
        tnt__verdict_reason(v, "SOLD", 0, "Sold on %s in %s.", d1, place(&x->loc, where, sizeof where));
    }

    /* L5: the journey */
    if (view->order_violations)
        soft(c, "JOURNEY_ORDER_VIOLATION", -2.0, "The recorded steps are out of order: %s.", view->order_text);
    if (view->ship_mismatches)
        soft(c, "SHIP_RECEIVE_MISMATCH", -1.5, "A shipment was received elsewhere: %s.", view->ship_text);
    if (view->travel_violations)
        soft(c, "TRANSIT_TOO_FAST", -4.0, "The recorded journey moves faster than any transport: %s.",
             view->travel_text);
    if (view->container_conflicts)
        soft(c, "TWO_CONTAINERS_AT_ONCE", -2.0, "It was recorded in two containers at once: %s.", view->container_text);
    if (v->product.nmarkets && view->anchor) {
        const tnt__loc *l = &view->journey[view->anchor - 1].loc;
        bool in = !l->country[0];
        for (size_t i = 0; i < v->product.nmarkets && !in; i++)
            in = strcmp(v->product.markets[i], l->country) == 0;
        if (!in)
            soft(c, "OUT_OF_MARKET", -1.5, "Genuine, but made for another market than %s (grey import).", l->country);
    }

    /* L6: clones and replays */
    if (guesses + 1 >= ENUM_THRESHOLD)
        soft(c, "ENUMERATION_SUSPECTED", -3.0, "This device tried %zu unknown codes in a day.", guesses);
    check_clones(c, view, &prior);

    /* L8: quality */
    for (pb_size_t i = 0; i < ps->readings_count; i++) {
        const tnt_v1_Reading *r = &ps->readings[i];
        if (strcmp(r->type, "Temperature") != 0 || strcmp(r->uom, "CEL") != 0)
            continue;
        if ((!isnan(v->product.min_c) && r->value < v->product.min_c) ||
            (!isnan(v->product.max_c) && r->value > v->product.max_c)) {
            tnt__verdict_reason(v, "COLD_CHAIN_EXCURSION", 0,
                                "Its last recorded temperature, %.1f °C, is outside the allowed %.0f to %.0f °C.",
                                r->value, v->product.min_c, v->product.max_c);
            c->caution = true;
        }
    }

record:
done:
    score(c);
    if (c->sig_malformed && !c->hard && v->kind != TNT_VERDICT_SUSPECT) {
        v->kind = TNT_VERDICT_UNVERIFIABLE;
        v->confidence = 0;
    }
    if (!c->hard && v->kind == TNT_VERDICT_GENUINE && v->scans == 0)
        tnt__verdict_reason(v, "FIRST_VERIFICATION", 0, "This is the first verification of this code.");
    /* evidence */
    v->evidence = !known ? 0 : v->njourney < 2 ? 1 : v->signature_valid ? 3 : 2;
    tnt__free(prior.v);
    /* An identifier too long to key the store names nothing stored (ingest
     * rejects it): its scan is not recorded either. */
    if (c->scan->record && v->id && !c->no_record && strlen(v->id) <= TNT__ID_MAX) {
        if ((st = record_scan(c, known ? ps : NULL, !known)) != TNT_OK)
            return st;
        record_custody(c);
    }
    return TNT_OK;
}

tnt_status tnt_engine_authenticate(tnt_verdict **out, tnt_engine *e, const char *code, const tnt_scan *scan)
{
    if (!out || !e || !code)
        return TNT_E_MISUSE;
    *out = NULL;
    tnt_scan dflt = TNT_SCAN_INIT;
    if (!scan)
        scan = &dflt;
    tnt_status st = check_scan(scan);
    if (st != TNT_OK)
        return st;
    tnt_verdict *v = tnt__verdict_new(e);
    if (!v)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    ctx c = {e, v, scan, scan->time_ms ? scan->time_ms : clock_ms(), false, 0, 0, 0, {0}, false, 0, false, false, false, false};
    v->time_ms = c.t;
    if (scan->has_location && scan->accuracy_m <= MAX_ACC_KM * 1000) {
        /* a position less precise than that does not say which city: it is
         * no location (or its accuracy would cancel every distance) */
        c.geo = true;
        c.lat = scan->latitude;
        c.lon = scan->longitude;
        c.acc_km = scan->accuracy_m > 0 ? scan->accuracy_m / 1000.0 : 1.0;
    } else if (scan->has_location) {
        c.geo = false;
    } else if (scan->location_id && *scan->location_id) {
        tnt__loc l;
        if (tnt__master_location(e, scan->location_id, &l) && l.has_geo) {
            c.geo = true;
            c.lat = l.lat;
            c.lon = l.lon;
            c.acc_km = 1.0;
        }
    }
    if (scan->device && *scan->device) {
        tnt__device_hash(e, scan->device, strlen(scan->device), c.device);
        c.has_device = true;
    }
    st = authenticate(&c, code);
    if (st != TNT_OK) {
        tnt_verdict_free(v);
        return st;
    }
    *out = v;
    return TNT_OK;
}
