/* Caches of authenticity: master records parsed once (cleared whenever
 * master data changes), and per-product views of the verified history
 * (valid while the product's chain is unchanged, for a bounded time). */
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "codec/json_stream.h"

#define MASTER_SLOTS 4096u
#define VIEW_SLOTS 8192u
#define SIG_SLOTS 16384u /* 512 KiB of digests of valid signatures, and as much of invalid ones */
#define FRAG_SLOTS 1024u /* 512 KiB of rendered locations */

/* A location's members as track's JSON answer writes them (see track.c). */
typedef struct fslot {
    char gln[16];   /* "" when empty */
    unsigned gen;   /* master data generation it was rendered with */
    uint16_t len;
    char text[490];
} fslot;

typedef struct mslot {
    char key[40]; /* "<kind>:<key>"; "" when empty */
    union {
        tnt__loc loc;
        tnt__party party;
        tnt__product product;
    } v;
} mslot;

struct tnt__auth_cache {
    pthread_rwlock_t mlock;
    unsigned mgen;
    mslot *master;
    pthread_mutex_t vlock;
    tnt__view **views;
    pthread_mutex_t slock;
    uint8_t (*sigs)[32];    /* (key, signature, message) found valid */
    uint8_t (*invalid)[32]; /* ... found invalid: a brand with several keys tries each */
    pthread_rwlock_t flock;
    fslot *frags;
};

tnt__auth_cache *tnt__auth_cache_new(void)
{
    tnt__auth_cache *c = tnt__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->master = tnt__calloc(MASTER_SLOTS, sizeof *c->master);
    c->views = tnt__calloc(VIEW_SLOTS, sizeof *c->views);
    c->sigs = tnt__calloc(SIG_SLOTS, sizeof *c->sigs);
    c->invalid = tnt__calloc(SIG_SLOTS, sizeof *c->invalid);
    c->frags = tnt__calloc(FRAG_SLOTS, sizeof *c->frags);
    if (!c->master || !c->views || !c->sigs || !c->invalid || !c->frags) {
        tnt__free(c->master);
        tnt__free(c->views);
        tnt__free(c->sigs);
        tnt__free(c->invalid);
        tnt__free(c->frags);
        tnt__free(c);
        return NULL;
    }
    pthread_rwlock_init(&c->mlock, NULL);
    pthread_mutex_init(&c->vlock, NULL);
    pthread_mutex_init(&c->slock, NULL);
    pthread_rwlock_init(&c->flock, NULL);
    return c;
}

void tnt__auth_cache_free(tnt__auth_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < VIEW_SLOTS; i++)
        tnt__view_release(c->views[i]);
    pthread_rwlock_destroy(&c->mlock);
    pthread_mutex_destroy(&c->vlock);
    pthread_mutex_destroy(&c->slock);
    pthread_rwlock_destroy(&c->flock);
    tnt__free(c->frags);
    tnt__free(c->master);
    tnt__free(c->views);
    tnt__free(c->sigs);
    tnt__free(c->invalid);
    tnt__free(c);
}

/* ---- valid signatures ---- */

bool tnt__auth_verify_cached(tnt__auth_cache *c, const uint8_t sig[64], const uint8_t *msg, size_t len,
                             const uint8_t pk[32])
{
    if (!c || !tnt__sodium_ready())
        return tnt__auth_verify(sig, msg, len, pk);
    /* BLAKE2b-256 of key || signature || message: equal digests, equal inputs */
    uint8_t d[32];
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof d);
    crypto_generichash_update(&h, pk, 32);
    crypto_generichash_update(&h, sig, 64);
    crypto_generichash_update(&h, msg, len);
    crypto_generichash_final(&h, d, sizeof d);
    uint32_t slot = ((uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16) % SIG_SLOTS;
    pthread_mutex_lock(&c->slock);
    int known = memcmp(c->sigs[slot], d, sizeof d) == 0 ? 1 : memcmp(c->invalid[slot], d, sizeof d) == 0 ? 0 : -1;
    pthread_mutex_unlock(&c->slock);
    if (known >= 0)
        return known == 1;
    bool valid = tnt__auth_verify(sig, msg, len, pk);
    /* invalid ones in a table of their own: a flood of forged codes cannot evict valid ones */
    pthread_mutex_lock(&c->slock);
    memcpy(valid ? c->sigs[slot] : c->invalid[slot], d, sizeof d);
    pthread_mutex_unlock(&c->slock);
    return valid;
}

/* ---- rendered locations ---- */

bool tnt__location_text_get(tnt_engine *e, const char *gln, unsigned gen, tnt__buf *out)
{
    tnt__auth_cache *c = e->auth_cache;
    if (!c || strlen(gln) >= sizeof c->frags[0].gln)
        return false;
    fslot *f = &c->frags[tnt__str_hash(gln) & (FRAG_SLOTS - 1)];
    pthread_rwlock_rdlock(&c->flock);
    bool hit = f->gen == gen && strcmp(f->gln, gln) == 0;
    if (hit)
        tnt__buf_append(out, f->text, f->len);
    pthread_rwlock_unlock(&c->flock);
    return hit;
}

void tnt__location_text_put(tnt_engine *e, const char *gln, unsigned gen, const char *text, size_t len)
{
    tnt__auth_cache *c = e->auth_cache;
    if (!c || strlen(gln) >= sizeof c->frags[0].gln || len > sizeof c->frags[0].text)
        return; /* not kept: rendered again next time */
    fslot *f = &c->frags[tnt__str_hash(gln) & (FRAG_SLOTS - 1)];
    pthread_rwlock_wrlock(&c->flock);
    strcpy(f->gln, gln);
    f->gen = gen;
    f->len = (uint16_t)len;
    memcpy(f->text, text, len);
    pthread_rwlock_unlock(&c->flock);
}

/* ---- master records ---- */

static void copy(char *dst, size_t cap, const tnt__node *obj, const char *key)
{
    const tnt__node *n = obj ? tnt__node_get(obj, key) : NULL;
    dst[0] = '\0';
    if (n && (n->kind == TNT__N_STRING || n->kind == TNT__N_NUMBER) && n->str)
        snprintf(dst, cap, "%s", n->str);
}

static double number(const tnt__node *obj, const char *key)
{
    const tnt__node *n = obj ? tnt__node_get(obj, key) : NULL;
    double v;
    if (n && (n->kind == TNT__N_NUMBER || n->kind == TNT__N_STRING) && n->str && tnt__num_parse(&v, n->str))
        return v;
    return NAN;
}

static int64_t when(const tnt__node *obj, const char *key)
{
    const tnt__node *n = obj ? tnt__node_get(obj, key) : NULL;
    if (!n || n->kind != TNT__N_STRING || !n->str)
        return 0;
    tnt__time t;
    char buf[64];
    if (strlen(n->str) == 10) { /* a date: its start, UTC */
        snprintf(buf, sizeof buf, "%sT00:00:00Z", n->str);
        return tnt__time_parse(&t, buf) ? t.ms : 0;
    }
    return tnt__time_parse(&t, n->str) ? t.ms : 0;
}

static void add_key(tnt__party *p, const tnt__node *k)
{
    if (p->nkeys == TNT__AUTH_MAX_KEYS)
        return;
    tnt__brand_key *bk = &p->keys[p->nkeys];
    const tnt__node *pk = k->kind == TNT__N_STRING ? k : tnt__node_get(k, "public_key");
    if (!pk || pk->kind != TNT__N_STRING || !pk->str || !tnt__b64_decode(bk->pk, 32, pk->str, strlen(pk->str)))
        return; /* not a key: ignored (master data loading does not know keys) */
    bk->valid_from = k->kind == TNT__N_OBJECT ? when(k, "valid_from") : 0;
    bk->valid_until = k->kind == TNT__N_OBJECT ? when(k, "valid_until") : 0;
    bk->revoked_at = k->kind == TNT__N_OBJECT ? when(k, "revoked_at") : 0;
    p->nkeys++;
}

static void parse_into(mslot *s, int kind, const char *json)
{
    tnt__arena a;
    tnt__arena_init(&a, 0);
    char err[64];
    tnt__node *obj = json ? tnt__json_parse_tree(&a, json, strlen(json), err, sizeof err) : NULL;
    if (obj && obj->kind != TNT__N_OBJECT)
        obj = NULL;
    if (kind == TNT_MASTER_LOCATION) {
        tnt__loc *l = &s->v.loc;
        l->known = obj != NULL;
        copy(l->name, sizeof l->name, obj, "name");
        copy(l->city, sizeof l->city, obj, "city");
        copy(l->country, sizeof l->country, obj, "country");
        copy(l->role, sizeof l->role, obj, "role");
        l->lat = number(obj, "latitude");
        l->lon = number(obj, "longitude");
        l->has_geo = !isnan(l->lat) && !isnan(l->lon) && fabs(l->lat) <= 90 && fabs(l->lon) <= 180;
    } else if (kind == TNT_MASTER_PARTY) {
        tnt__party *p = &s->v.party;
        p->known = obj != NULL;
        copy(p->name, sizeof p->name, obj, "name");
        copy(p->role, sizeof p->role, obj, "role");
        copy(p->prefix, sizeof p->prefix, obj, "company_prefix");
        const tnt__node *sc = obj ? tnt__node_get(obj, "signed_codes") : NULL;
        p->signs_codes = sc && sc->kind == TNT__N_TRUE;
        const tnt__node *pk = obj ? tnt__node_get(obj, "public_key") : NULL;
        if (pk)
            add_key(p, pk);
        const tnt__node *keys = obj ? tnt__node_get(obj, "keys") : NULL;
        for (const tnt__node *k = keys && keys->kind == TNT__N_ARRAY ? keys->child : NULL; k; k = k->next)
            add_key(p, k);
    } else {
        tnt__product *p = &s->v.product;
        p->known = obj != NULL;
        copy(p->name, sizeof p->name, obj, "name");
        copy(p->brand, sizeof p->brand, obj, "brand");
        p->min_c = number(obj, "min_temp");
        p->max_c = number(obj, "max_temp");
        const tnt__node *m = obj ? tnt__node_get(obj, "markets") : NULL;
        for (const tnt__node *c = m && m->kind == TNT__N_ARRAY ? m->child : NULL; c && p->nmarkets < 16; c = c->next)
            if (c->kind == TNT__N_STRING && c->str && strlen(c->str) < 4)
                strcpy(p->markets[p->nmarkets++], c->str);
    }
    tnt__arena_destroy(&a);
}

#define GTIN_PARTY 9 /* a cache-only kind: the brand owner of a GTIN */

static void party_of_gtin(tnt_engine *e, const char *gtin, tnt__party *out, bool *ok);

/* One master record, parsed, through the cache. */
static bool master_get(tnt_engine *e, int kind, const char *key, mslot *out)
{
    tnt__auth_cache *c = e->auth_cache;
    char ck[40];
    size_t kl = strlen(key);
    if (kl > sizeof ck - 3)
        kl = sizeof ck - 3;
    ck[0] = (char)('0' + kind);
    ck[1] = ':';
    memcpy(ck + 2, key, kl);
    ck[2 + kl] = '\0';
    uint32_t h = tnt__str_hash(ck) & (MASTER_SLOTS - 1);
    unsigned gen = atomic_load(&e->master_gen);
    pthread_rwlock_rdlock(&c->mlock);
    bool hit = c->mgen == gen && strcmp(c->master[h].key, ck) == 0;
    if (hit)
        *out = c->master[h];
    pthread_rwlock_unlock(&c->mlock);
    if (hit)
        return true;
    memset(out, 0, sizeof *out);
    snprintf(out->key, sizeof out->key, "%s", ck);
    if (kind == GTIN_PARTY) {
        bool ok = true;
        party_of_gtin(e, key, &out->v.party, &ok);
        if (!ok)
            return false;
    } else {
        char *json = NULL;
        tnt_status st = tnt__master_lookup(e, kind, key, &json);
        if (st != TNT_OK && st != TNT_E_NOTFOUND)
            return false;
        parse_into(out, kind, st == TNT_OK ? json : NULL);
        tnt_free(json);
    }
    pthread_rwlock_wrlock(&c->mlock);
    if (c->mgen != gen) { /* master data changed: everything cached goes */
        for (size_t i = 0; i < MASTER_SLOTS; i++)
            c->master[i].key[0] = '\0';
        c->mgen = gen;
    }
    c->master[h] = *out;
    pthread_rwlock_unlock(&c->mlock);
    return true;
}

bool tnt__master_location(tnt_engine *e, const char *uri, tnt__loc *out)
{
    memset(out, 0, sizeof *out);
    if (!uri || !*uri)
        return true;
    char gln[32];
    if (strncmp(uri, "geo:", 4) == 0) {
        double lat, lon;
        if (sscanf(uri + 4, "%lf,%lf", &lat, &lon) == 2 && fabs(lat) <= 90 && fabs(lon) <= 180) {
            out->has_geo = true;
            out->lat = lat;
            out->lon = lon;
        }
        return true;
    }
    if (!tnt__dl_key(gln, sizeof gln, uri, "414")) {
        /* a bare GLN (a scan's location_id) */
        size_t n = strlen(uri);
        if (n != 13 || strspn(uri, "0123456789") != 13)
            return true;
        memcpy(gln, uri, 14);
    }
    mslot s;
    if (!master_get(e, TNT_MASTER_LOCATION, gln, &s))
        return false;
    *out = s.v.loc;
    return true;
}

bool tnt__master_product(tnt_engine *e, const char *gtin, tnt__product *out)
{
    mslot s;
    memset(out, 0, sizeof *out);
    out->min_c = out->max_c = NAN;
    if (!master_get(e, TNT_MASTER_PRODUCT, gtin, &s))
        return false;
    *out = s.v.product;
    if (!out->known)
        out->min_c = out->max_c = NAN;
    return true;
}

bool tnt__master_party_of_gtin(tnt_engine *e, const char *gtin, tnt__party *out)
{
    memset(out, 0, sizeof *out);
    /* GTIN-14: indicator digit, then the company prefix (4 to 12 digits);
     * the longest prefix with a party record is the brand owner. GTIN-8s
     * (leading zeros) are not prefix-based. */
    if (strlen(gtin) != 14 || strncmp(gtin, "000000", 6) == 0)
        return true;
    /* the answer for this GTIN, cached like a record of its own */
    mslot s;
    if (!master_get(e, GTIN_PARTY, gtin, &s))
        return false;
    *out = s.v.party;
    return true;
}

/* The brand owner of a GTIN, by its company prefix (the cache's GTIN_PARTY records). */
static void party_of_gtin(tnt_engine *e, const char *gtin, tnt__party *out, bool *ok)
{
    memset(out, 0, sizeof *out);
    for (int len = 12; len >= 4; len--) {
        char prefix[16];
        memcpy(prefix, gtin + 1, (size_t)len);
        prefix[len] = '\0';
        char *json = NULL;
        tnt_status st = tnt__master_lookup(e, TNT_MASTER_PARTY, prefix, &json);
        if (st != TNT_OK && st != TNT_E_NOTFOUND) {
            *ok = false;
            return;
        }
        if (st == TNT_OK) {
            mslot s;
            memset(&s, 0, sizeof s);
            parse_into(&s, TNT_MASTER_PARTY, json);
            tnt_free(json);
            *out = s.v.party;
            snprintf(out->prefix, sizeof out->prefix, "%s", prefix);
            return;
        }
    }
}

/* ---- views ---- */

void tnt__view_release(tnt__view *v)
{
    if (v && atomic_fetch_sub(&v->refs, 1) == 1) {
        tnt__arena_destroy(&v->a);
        tnt__free(v);
    }
}

tnt__view *tnt__view_lookup(tnt__auth_cache *c, const char *id, const uint8_t chain[32], uint64_t count, unsigned gen,
                            int64_t now_ms, int64_t max_age_ms)
{
    uint32_t h = tnt__str_hash(id) & (VIEW_SLOTS - 1);
    pthread_mutex_lock(&c->vlock);
    tnt__view *v = c->views[h];
    if (v && strcmp(v->id, id) == 0 && memcmp(v->chain, chain, 32) == 0 && v->count == count && v->gen == gen &&
        now_ms - v->built_ms <= max_age_ms && now_ms >= v->built_ms)
        atomic_fetch_add(&v->refs, 1);
    else
        v = NULL;
    pthread_mutex_unlock(&c->vlock);
    return v;
}

void tnt__view_store(tnt__auth_cache *c, tnt__view *v)
{
    uint32_t h = tnt__str_hash(v->id) & (VIEW_SLOTS - 1);
    atomic_fetch_add(&v->refs, 1);
    pthread_mutex_lock(&c->vlock);
    tnt__view *old = c->views[h];
    c->views[h] = v;
    pthread_mutex_unlock(&c->vlock);
    tnt__view_release(old);
}
