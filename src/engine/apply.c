/* Applying events to the state store.
 *
 * Every field of a state follows "the newest event wins" by eventTime (ties
 * broken by comparing the values), counts add up, and the hash chain folds
 * the events in (eventTime, hash) order: the state is a function of the set
 * of events, so a replay in any order rebuilds the same bytes. */
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/proto.h"
#include "engine/engine.h"
#include "engine/record.h"

/* ---- the store with retries ---- */

#define RETRIES 8

tnt_status tnt__store_get(tnt_engine *e, const tnt__key *k, void **value, size_t *len)
{
    tnt_status st = TNT_E_TIMEOUT;
    uint64_t version;
    for (int i = 0; i < RETRIES && st == TNT_E_TIMEOUT; i++)
        st = e->store->methods->get(e->store, k->pk, k->pk_len, k->sk, k->sk_len, value, len, &version);
    return st;
}

tnt_status tnt__store_write(tnt_engine *e, const tnt_store_item *items, size_t n)
{
    while (n) {
        size_t chunk = n < TNT_STORE_MAX_BATCH ? n : TNT_STORE_MAX_BATCH, left = 0;
        tnt_status st = TNT_E_TIMEOUT;
        for (int i = 0; i < RETRIES && (st == TNT_E_TIMEOUT || (st == TNT_OK && left)); i++) {
            st = e->store->methods->batch_write(e->store, items, chunk, &left);
            if (st == TNT_OK && left) { /* the tail was not written: retry it alone */
                items += chunk - left;
                n -= chunk - left;
                chunk = left;
            }
        }
        if (st != TNT_OK)
            return st;
        if (left)
            return tnt__error(TNT_E_TIMEOUT, "the state store kept %zu items unprocessed", left);
        atomic_fetch_add(&e->n.store_batches, 1);
        items += chunk;
        n -= chunk;
    }
    return TNT_OK;
}

tnt_status tnt__state_get(tnt_engine *e, const char *id, tnt_v1_ProductState *st)
{
    tnt__key k;
    tnt__key_state(&k, id);
    void *v = NULL;
    size_t len = 0;
    tnt_status s = tnt__store_get(e, &k, &v, &len);
    if (s != TNT_OK)
        return s;
    s = tnt__state_decode(v, len, st, id);
    tnt_free(v);
    return s;
}

tnt_status tnt__state_view_get(tnt_engine *e, const char *id, tnt__state_view *v, void **owner)
{
    tnt__key k;
    tnt__key_state(&k, id);
    size_t len = 0;
    *owner = NULL;
    tnt_status s = tnt__store_get(e, &k, owner, &len);
    if (s == TNT_OK)
        s = tnt__state_view_decode(owner, len, v, id);
    if (s != TNT_OK) {
        tnt_free(*owner);
        *owner = NULL;
    }
    return s;
}

/* ---- one batch of changes ---- */

typedef struct slot {
    const char *id;
    uint32_t hash; /* of id: compared before the strings */
    tnt_v1_ProductState st;
    bool late; /* an event of this batch is older than its last: the chain is folded again (refold) */
} slot;

typedef struct batch {
    tnt_engine *e;
    tnt__arena *a;
    tnt_store_item *items;
    size_t n, cap;
    slot **slots; /* each 8 KB: the array holds pointers, growing copies no states */
    size_t nslots, capslots;
    uint32_t *index; /* open addressing over slots by id hash: slot number + 1, 0 empty */
    size_t index_cap; /* a power of two, at least twice capslots */
    tnt_status err;
    uint8_t staged[1024][32];   /* hashes of the events staged so far */
    size_t nstaged;
    struct staged_id {          /* the eventIDs staged, and the event each names */
        const char *id;
        uint8_t *hash;          /* the staged item's value, or the stored one's copy */
        int64_t record_ms;
        const char *key;        /* its log key: the same key, the same partition */
        bool added;             /* an item is staged for it */
    } staged_ids[1024];
    size_t nstaged_ids;
    bool master; /* master data staged: the caches' generation moves once it is written */
} batch;

static void add(batch *b, const tnt__key *k, const void *value, size_t len)
{
    if (b->err)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        tnt_store_item *v = tnt__arena_alloc(b->a, cap * sizeof *v);
        if (!v) {
            b->err = TNT_E_NOMEM;
            return;
        }
        if (b->n)
            memcpy(v, b->items, b->n * sizeof *v);
        b->items = v;
        b->cap = cap;
    }
    char *pk = tnt__arena_alloc(b->a, k->pk_len + k->sk_len + 1);
    if (!pk) {
        b->err = TNT_E_NOMEM;
        return;
    }
    memcpy(pk, k->pk, k->pk_len);
    memcpy(pk + k->pk_len, k->sk, k->sk_len);
    b->items[b->n++] = (tnt_store_item){pk, k->pk_len, pk + k->pk_len, k->sk_len, value, len, TNT_STORE_ANY};
}

/* A history entry that carries the event's body (tnt__index_split). */
static void *with_body(batch *b, const void *entry, size_t *len, const void *body, size_t body_len)
{
    uint8_t *v = tnt__arena_alloc(b->a, 3 + 5 + *len + 1 + body_len), *o = v;
    if (!v) {
        b->err = TNT_E_NOMEM;
        return NULL;
    }
    *o++ = 0x00;
    *o++ = 'I';
    *o++ = 0x01;
    size_t n = *len;
    do {
        *o++ = (uint8_t)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>= 7;
    } while (n);
    memcpy(o, entry, *len);
    o += *len;
    *o++ = 'E'; /* as under e:<hash> */
    memcpy(o, body, body_len);
    o += body_len;
    *len = (size_t)(o - v);
    return v;
}

static void *encode_msg(batch *b, const pb_msgdesc_t *fields, const void *msg, size_t *len)
{
    size_t size;
    uint8_t *buf;
    if (!pb_get_encoded_size(&size, fields, msg) || !(buf = tnt__arena_alloc(b->a, size ? size : 1))) {
        b->err = TNT_E_NOMEM;
        return NULL;
    }
    pb_ostream_t os = pb_ostream_from_buffer(buf, size);
    if (!pb_encode(&os, fields, msg)) {
        b->err = tnt__error(TNT_E_INVALID, "encoding a state record: %s", PB_GET_ERROR(&os));
        return NULL;
    }
    *len = os.bytes_written;
    return buf;
}

static void *encode_state(batch *b, const tnt_v1_ProductState *st, size_t *len)
{
    void *v = tnt__state_encode(b->a, st, len);
    if (!v)
        b->err = TNT_E_NOMEM;
    return v;
}

static slot *state_of(batch *b, const char *id)
{
    uint32_t h = tnt__str_hash(id);
    size_t mask = b->index_cap - 1, at = h & mask;
    for (; b->index_cap && b->index[at]; at = (at + 1) & mask) {
        slot *s = b->slots[b->index[at] - 1];
        if (s->hash == h && strcmp(s->id, id) == 0)
            return s;
    }
    if (b->nslots == b->capslots) {
        size_t cap = b->capslots ? b->capslots * 2 : 16;
        slot **v = tnt__arena_alloc(b->a, cap * sizeof *v);
        uint32_t *ix = tnt__arena_zalloc(b->a, cap * 2 * sizeof *ix);
        if (!v || !ix) {
            b->err = TNT_E_NOMEM;
            return NULL;
        }
        if (b->nslots)
            memcpy(v, b->slots, b->nslots * sizeof *v);
        for (size_t i = 0; i < b->nslots; i++) { /* the index again, at its new size */
            size_t j = v[i]->hash & (cap * 2 - 1);
            while (ix[j])
                j = (j + 1) & (cap * 2 - 1);
            ix[j] = (uint32_t)(i + 1);
        }
        b->slots = v;
        b->capslots = cap;
        b->index = ix;
        b->index_cap = cap * 2;
        mask = b->index_cap - 1;
        for (at = h & mask; b->index[at]; at = (at + 1) & mask)
            ;
    }
    slot *s = tnt__arena_alloc(b->a, sizeof *s);
    if (!s) {
        b->err = TNT_E_NOMEM;
        return NULL;
    }
    s->hash = h;
    s->id = id;
    s->late = false;
    tnt_status st = tnt__state_get(b->e, id, &s->st);
    if (st == TNT_E_NOTFOUND) {
        s->st = (tnt_v1_ProductState)tnt_v1_ProductState_init_zero;
        size_t n = strlen(id);
        if (n >= sizeof s->st.id)
            n = sizeof s->st.id - 1;
        memcpy(s->st.id, id, n);
    } else if (st != TNT_OK) {
        b->err = st; /* and not indexed: no later lookup finds a slot half made */
        return NULL;
    }
    b->slots[b->nslots] = s;
    b->index[at] = (uint32_t)(b->nslots + 1);
    b->nslots++;
    return s;
}

static void set(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Does an event at time t with value v win over the field set at time ft with value fv? */
static bool wins(int64_t t, const char *v, int64_t ft, const char *fv)
{
    if (t != ft)
        return t > ft;
    return strcmp(v ? v : "", fv ? fv : "") > 0;
}

/* Does an event at time t naming v set a field that holds fv, set at *ft?
 * The earliest wins, then the smaller value. */
static bool earliest(int64_t t, const char *v, const char *fv, int64_t *ft)
{
    if (fv[0] && (t > *ft || (t == *ft && strcmp(v, fv) >= 0)))
        return false;
    *ft = t;
    return true;
}

/* The same for a field of two values (read point and business location,
 * owner and possessor): at the same time the pair decides, whatever order
 * the events are applied in. */
static bool wins2(int64_t t, const char *v1, const char *v2, int64_t ft, const char *fv1, const char *fv2)
{
    if (t != ft)
        return t > ft;
    int c = strcmp(v1 ? v1 : "", fv1 ? fv1 : "");
    return c ? c > 0 : strcmp(v2 ? v2 : "", fv2 ? fv2 : "") > 0;
}

void tnt__chain_step(uint8_t chain[32], bool first, const uint8_t hash[32], const uint8_t digest[32])
{
    uint8_t buf[96];
    memset(buf, 0, 32);
    if (!first)
        memcpy(buf, chain, 32);
    memcpy(buf + 32, hash, 32);
    memcpy(buf + 64, digest, 32);
    tnt__sha256_of(buf, sizeof buf, chain);
}

/* The chain over a product's history entries, in (time, hash) order. */
typedef struct fold {
    uint8_t chain[32];
    bool any;
    tnt_status err;
} fold;

static int fold_entry(void *ud, const tnt_store_item *it)
{
    fold *f = ud;
    if (it->sk_len != 2 + 8 + 32)
        return 0;
    tnt_v1_IndexEntry ie;
    if (!tnt__index_entry_read(it->value, it->value_len, &ie) || ie.digest.size != 32) {
        f->err = tnt__error(TNT_E_CORRUPT, "a history entry is corrupt");
        return 1;
    }
    tnt__chain_step(f->chain, !f->any, (const uint8_t *)it->sk + 10, ie.digest.bytes);
    f->any = true;
    return 0;
}

tnt_status tnt__chain_fold(tnt_engine *e, const char *id, uint8_t chain[32], bool *any)
{
    tnt__key k;
    tnt__key_index(&k, id, INT64_MIN, (const uint8_t[32]){0});
    fold f = {{0}, false, TNT_OK};
    tnt_status st = e->store->methods->query(e->store, k.pk, k.pk_len, "h:", 2, "h;", 2, 0, 0, fold_entry, &f);
    if (st == TNT_OK)
        st = f.err;
    memcpy(chain, f.chain, 32);
    *any = f.any;
    return st;
}

void tnt__seal(const tnt_engine *e, tnt_v1_ProductState *st)
{
    tnt__seal_compute(e, st, st->seal.bytes);
    st->seal.size = 32;
}

void tnt__seal_compute(const tnt_engine *e, const tnt_v1_ProductState *st, uint8_t out[32])
{
    uint8_t msg[8 + 32 + sizeof st->id];
    size_t idn = strnlen(st->id, sizeof st->id);
    for (int i = 0; i < 8; i++)
        msg[i] = (uint8_t)(st->event_count >> (56 - 8 * i));
    memset(msg + 8, 0, 32);
    if (st->chain.size == 32)
        memcpy(msg + 8, st->chain.bytes, 32);
    memcpy(msg + 40, st->id, idn);
    tnt__mac(e, msg, 40 + idn, out);
}

/* A late event's chain: the identifier's stored history entries and those
 * this batch adds, folded in (time, hash) order. The state is then written
 * with its chain in the same transaction as the entries, so that no reader
 * ever sees an entry the chain does not cover. */
typedef struct hist_keys {
    uint8_t (*v)[72]; /* the sort key's time and hash (40 bytes), then the digest */
    size_t n, cap;
    tnt__arena *a;
    tnt_status err;
} hist_keys;

static bool hist_add(hist_keys *h, const void *time_hash, const void *value, size_t len)
{
    tnt_v1_IndexEntry ie;
    if (!tnt__index_entry_read(value, len, &ie) || ie.digest.size != 32) {
        h->err = tnt__error(TNT_E_CORRUPT, "a history entry is corrupt");
        return false;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        uint8_t(*v)[72] = tnt__arena_alloc(h->a, cap * sizeof *v);
        if (!v) {
            h->err = TNT_E_NOMEM;
            return false;
        }
        if (h->n)
            memcpy(v, h->v, h->n * sizeof *v);
        h->v = v;
        h->cap = cap;
    }
    memcpy(h->v[h->n], time_hash, 40);
    memcpy(h->v[h->n] + 40, ie.digest.bytes, 32);
    h->n++;
    return true;
}

static int take_hist(void *ud, const tnt_store_item *it)
{
    if (it->sk_len != 2 + 8 + 32)
        return 0;
    return !hist_add(ud, (const uint8_t *)it->sk + 2, it->value, it->value_len);
}

static int cmp_hist(const void *x, const void *y) { return memcmp(x, y, 40); }

static tnt_status refold(batch *b, slot *s)
{
    hist_keys h = {.a = b->a, .err = TNT_OK};
    tnt__key k;
    tnt__key_index(&k, s->id, INT64_MIN, (const uint8_t[32]){0});
    tnt_status st = b->e->store->methods->query(b->e->store, k.pk, k.pk_len, "h:", 2, "h;", 2, 0, 0, take_hist, &h);
    if (st != TNT_OK || h.err != TNT_OK)
        return st != TNT_OK ? st : h.err;
    size_t stored = h.n; /* in key order, as the store keeps them */
    for (size_t i = 0; i < b->n; i++) {
        const tnt_store_item *it = &b->items[i];
        if (it->value && it->pk_len == k.pk_len && memcmp(it->pk, k.pk, k.pk_len) == 0 && it->sk_len == 2 + 8 + 32 &&
            memcmp(it->sk, "h:", 2) == 0 && !hist_add(&h, (const uint8_t *)it->sk + 2, it->value, it->value_len))
            return h.err;
    }
    qsort(h.v + stored, h.n - stored, sizeof *h.v, cmp_hist);
    uint8_t chain[32] = {0};
    bool any = false;
    for (size_t i = 0, j = stored; i < stored || j < h.n;) {
        const uint8_t *e = j == h.n || (i < stored && memcmp(h.v[i], h.v[j], 40) < 0) ? h.v[i++] : h.v[j++];
        tnt__chain_step(chain, !any, e + 8, e + 40);
        any = true;
    }
    memcpy(s->st.chain.bytes, chain, 32);
    s->st.chain.size = any ? 32 : 0;
    return TNT_OK;
}

static int cmp_time_hash(int64_t t1, const uint8_t h1[32], int64_t t2, const char *h2_id)
{
    if (t1 != t2)
        return t1 < t2 ? -1 : 1;
    uint8_t h2[32];
    if (!tnt__hash_bytes(h2, h2_id))
        return 1;
    return memcmp(h1, h2, 32);
}

/* Persistent dispositions: one entry "<s|u>:<time>:<disposition>" each,
 * the newest set or unset of a disposition wins (at the same time, set). */
static void persist(tnt_v1_ProductState *st, char flag, const char *disp, int64_t time_ms)
{
    char entry[sizeof st->persistent[0]];
    int n = snprintf(entry, sizeof entry, "%c:%lld:%s", flag, (long long)time_ms, disp);
    if (n < 0 || (size_t)n >= sizeof entry)
        return; /* a disposition URI too long to keep */
    for (pb_size_t j = 0; j < st->persistent_count; j++) {
        const char *have = strchr(st->persistent[j] + 2, ':');
        if (!have || strcmp(have + 1, disp) != 0)
            continue;
        long long t = strtoll(st->persistent[j] + 2, NULL, 10);
        if (time_ms > t || (time_ms == t && flag == 's'))
            memcpy(st->persistent[j], entry, (size_t)n + 1);
        return;
    }
    if (st->persistent_count < sizeof st->persistent / sizeof st->persistent[0])
        memcpy(st->persistent[st->persistent_count++], entry, (size_t)n + 1);
}

static void update_state(batch *b, slot *s, const tnt__effect *fx)
{
    tnt_v1_ProductState *st = &s->st;
    char id[TNT__HASH_ID_MAX];
    tnt__hash_id(id, fx->hash);
    bool first = st->event_count == 0;
    st->event_count++;
    if (first || cmp_time_hash(fx->time_ms, fx->hash, st->first_time_ms, st->first_event) < 0) {
        st->first_time_ms = fx->time_ms;
        set(st->first_event, sizeof st->first_event, id);
    }
    bool newest = first || cmp_time_hash(fx->time_ms, fx->hash, st->last_time_ms, st->last_event) > 0;
    if (newest) {
        st->last_time_ms = fx->time_ms;
        set(st->last_event, sizeof st->last_event, id);
        tnt__chain_step(st->chain.bytes, st->chain.size != 32, fx->hash, fx->digest);
        st->chain.size = 32;
    } else {
        /* A late event: its place in the chain is in the middle. The chain is
         * folded again over the history before the state is written. */
        s->late = true;
    }
    if ((fx->read_point || fx->biz_location) &&
        (st->location_time_ms == 0 || wins2(fx->time_ms, fx->read_point, fx->biz_location, st->location_time_ms,
                                            st->read_point, st->biz_location))) {
        st->location_time_ms = fx->time_ms;
        set(st->read_point, sizeof st->read_point, fx->read_point);
        set(st->biz_location, sizeof st->biz_location, fx->biz_location);
    }
    if (fx->biz_step && (st->step_time_ms == 0 || wins(fx->time_ms, fx->biz_step, st->step_time_ms, st->biz_step))) {
        st->step_time_ms = fx->time_ms;
        set(st->biz_step, sizeof st->biz_step, fx->biz_step);
    }
    if (fx->disposition &&
        (st->disposition_time_ms == 0 || wins(fx->time_ms, fx->disposition, st->disposition_time_ms, st->disposition))) {
        st->disposition_time_ms = fx->time_ms;
        set(st->disposition, sizeof st->disposition, fx->disposition);
    }
    if ((fx->owner || fx->possessor) &&
        (st->party_time_ms == 0 ||
         wins2(fx->time_ms, fx->owner, fx->possessor, st->party_time_ms, st->owner, st->possessor))) {
        st->party_time_ms = fx->time_ms;
        if (fx->owner)
            set(st->owner, sizeof st->owner, fx->owner);
        if (fx->possessor)
            set(st->possessor, sizeof st->possessor, fx->possessor);
    }
    /* lot and expiry: the earliest event that names one (at the same time,
     * the smaller value), so that any order of arrival gives the same */
    if (fx->lot && earliest(fx->time_ms, fx->lot, st->lot, &st->lot_time_ms))
        set(st->lot, sizeof st->lot, fx->lot);
    if (fx->expiry && earliest(fx->time_ms, fx->expiry, st->expiry, &st->expiry_time_ms))
        set(st->expiry, sizeof st->expiry, fx->expiry);
    /* A recall stays until it is lifted (persistentDisposition unset of
     * "recalled"), not until the next event: a receipt or a stocktake after
     * a recall does not make the goods safe again. */
    if (fx->disposition && strcmp(fx->disposition, "recalled") == 0)
        persist(st, 's', "recalled", fx->time_ms);
    for (uint32_t i = 0; i < fx->npd_set + fx->npd_unset; i++)
        persist(st, i < fx->npd_set ? 's' : 'u', i < fx->npd_set ? fx->pd_set[i] : fx->pd_unset[i - fx->npd_set],
                fx->time_ms);
    for (uint32_t i = 0; i < fx->nreadings; i++) {
        const tnt_v1_Reading *r = &fx->readings[i];
        tnt_v1_Reading *have = NULL;
        for (pb_size_t j = 0; j < st->readings_count; j++)
            if (strcmp(st->readings[j].type, r->type) == 0)
                have = &st->readings[j];
        if (have && (have->time_ms > r->time_ms || (have->time_ms == r->time_ms && have->value >= r->value)))
            continue;
        if (!have) {
            if (st->readings_count == sizeof st->readings / sizeof st->readings[0])
                continue;
            have = &st->readings[st->readings_count++];
        }
        *have = *r;
    }
}

typedef struct kids {
    tnt__arena *a;
    const char **v;
    size_t n, cap;
    bool oom;
} kids;

static void kid(kids *k, const char *id, size_t len)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        const char **v = tnt__arena_alloc(k->a, cap * sizeof *v);
        if (!v) {
            k->oom = true;
            return;
        }
        if (k->n)
            memcpy(v, k->v, k->n * sizeof *v);
        k->v = v;
        k->cap = cap;
    }
    char *c = tnt__arena_alloc(k->a, len + 1);
    if (!c) {
        k->oom = true;
        return;
    }
    memcpy(c, id, len);
    c[len] = '\0';
    k->v[k->n++] = c;
}

static int take_kid(void *ud, const tnt_store_item *it)
{
    kids *k = ud;
    if (it->value_len && !k->oom)
        kid(k, it->value, it->value_len);
    return k->oom;
}

/* A DELETE without children takes every child out of the parent (EPCIS:
 * "all children disaggregated"): those the store holds under the parent,
 * and those this batch put in it. A child is taken out only if it is
 * still in this parent, and not since later than the DELETE. */
static void disaggregate_all(batch *b, const tnt__effect *fx)
{
    kids k = {.a = b->a};
    tnt__key key;
    tnt__key_child(&key, fx->parent, "");
    tnt_status st = b->e->store->methods->query(b->e->store, key.pk, key.pk_len, "c:", 2, "c;", 2, 0, 0, take_kid, &k);
    for (size_t i = 0; st == TNT_OK && i < b->nslots && !k.oom; i++)
        if (strcmp(b->slots[i]->st.parent, fx->parent) == 0)
            kid(&k, b->slots[i]->id, strlen(b->slots[i]->id));
    if (st != TNT_OK || k.oom) {
        b->err = st != TNT_OK ? st : TNT_E_NOMEM;
        return;
    }
    for (size_t i = 0; i < k.n && !b->err; i++) {
        slot *c = state_of(b, k.v[i]);
        if (!c)
            return;
        if (fx->time_ms >= c->st.parent_since_ms && strcmp(c->st.parent, fx->parent) == 0) {
            c->st.parent[0] = '\0';
            c->st.parent_since_ms = fx->time_ms;
            tnt__key_child(&key, fx->parent, k.v[i]);
            add(b, &key, NULL, 0);
        }
    }
}

static void aggregate(batch *b, const tnt__effect *fx)
{
    if (!fx->parent || fx->action == TNT_ACTION_OBSERVE)
        return;
    if (fx->action == TNT_ACTION_DELETE && fx->nchildren == 0) {
        disaggregate_all(b, fx);
        return;
    }
    for (uint32_t i = 0; i < fx->nchildren; i++) {
        slot *c = state_of(b, fx->children[i]);
        if (!c)
            return;
        tnt__key k;
        tnt__key_child(&k, fx->parent, fx->children[i]);
        /* At the same time as the last change: a DELETE (which left no
         * parent) wins, else the greater parent, whatever the order. */
        if (fx->action == TNT_ACTION_ADD &&
            (fx->time_ms > c->st.parent_since_ms ||
             (fx->time_ms == c->st.parent_since_ms && c->st.parent[0] && strcmp(fx->parent, c->st.parent) >= 0))) {
            if (c->st.parent[0] && strcmp(c->st.parent, fx->parent) != 0) { /* out of the case it was in */
                tnt__key old;
                tnt__key_child(&old, c->st.parent, fx->children[i]);
                add(b, &old, NULL, 0);
            }
            set(c->st.parent, sizeof c->st.parent, fx->parent);
            c->st.parent_since_ms = fx->time_ms;
            add(b, &k, fx->children[i], strlen(fx->children[i]));
        } else if (fx->action == TNT_ACTION_DELETE && fx->time_ms >= c->st.parent_since_ms &&
                   strcmp(c->st.parent, fx->parent) == 0) {
            c->st.parent[0] = '\0';
            c->st.parent_since_ms = fx->time_ms;
            add(b, &k, NULL, 0);
        } else if (fx->action == TNT_ACTION_DELETE && fx->time_ms >= c->st.parent_since_ms && !c->st.parent[0]) {
            /* out of it before it was known to be in: an ADD that comes
             * later but happened earlier must not put it back */
            c->st.parent_since_ms = fx->time_ms;
        }
    }
}

static tnt_status flush_states(batch *b)
{
    for (size_t i = 0; i < b->nslots && !b->err; i++) {
        size_t len;
        tnt_status st = b->slots[i]->late ? refold(b, b->slots[i]) : TNT_OK;
        if (st != TNT_OK)
            return b->err = st;
        tnt__seal(b->e, &b->slots[i]->st);
        void *v = encode_state(b, &b->slots[i]->st, &len);
        tnt__key k;
        tnt__key_state(&k, b->slots[i]->id);
        if (v)
            add(b, &k, v, len);
    }
    return b->err;
}

/* The watermark of a partition once the record at offset is applied:
 * the lowest offset not yet applied. Not committed until the write worked. */
/* mark, moved past the offsets from it on that were applied out of order */
static int64_t past_done(const tnt__water *w, int64_t mark)
{
    for (bool moved = true; moved;) {
        moved = false;
        for (size_t i = 0; i < w->n; i++)
            if (w->done[i] == mark) {
                mark++;
                moved = true;
            }
    }
    return mark;
}

static int64_t next_mark(const tnt__water *w, int64_t offset)
{
    return offset != w->mark ? w->mark : past_done(w, w->mark + 1);
}

static void commit_mark(tnt__water *w, int64_t offset, int64_t mark)
{
    if (offset >= mark && w->n < w->cap)
        w->done[w->n++] = offset; /* applied out of order: remember it */
    else if (offset >= mark) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        int64_t *v = tnt__realloc(w->done, cap * sizeof *v);
        if (v) {
            w->done = v;
            w->cap = cap;
            w->done[w->n++] = offset;
        }
    }
    w->mark = mark;
    size_t k = 0; /* forget what the watermark passed */
    for (size_t i = 0; i < w->n; i++)
        if (w->done[i] >= mark)
            w->done[k++] = w->done[i];
    w->n = k;
}

static void applied_offset(batch *b, int partition, int64_t mark)
{
    if (partition < 0)
        return;
    tnt__key k;
    tnt__key_applied(&k, partition);
    uint8_t *v = tnt__arena_alloc(b->a, 8);
    if (!v) {
        b->err = TNT_E_NOMEM;
        return;
    }
    for (int i = 0; i < 8; i++)
        v[i] = (uint8_t)((uint64_t)mark >> (56 - 8 * i));
    add(b, &k, v, 8);
}

tnt_status tnt__water_raise(tnt_engine *e, int p, int64_t mark)
{
    tnt__water *w = p >= 0 && p < e->partitions ? &e->water[p] : NULL;
    if (!w || w->mark >= mark)
        return TNT_OK;
    mark = past_done(w, mark); /* and past what was applied beyond it */
    tnt__arena a;
    tnt__arena_init(&a, 0);
    batch b = {.e = e, .a = &a, .err = TNT_OK};
    applied_offset(&b, p, mark);
    tnt_status st = b.err ? b.err : tnt__store_write(e, b.items, b.n);
    tnt__arena_destroy(&a);
    if (st == TNT_OK)
        commit_mark(w, mark - 1, mark); /* (an offset below the mark: nothing to remember) */
    return st;
}

/* Write a batch, then move the partition's watermark past the record. */
static tnt_status write_marked(tnt_engine *e, batch *b, int partition, int64_t offset)
{
    tnt__water *w = partition >= 0 && partition < e->partitions ? &e->water[partition] : NULL;
    int64_t mark = w ? next_mark(w, offset) : 0;
    if (w)
        applied_offset(b, partition, mark);
    if (b->err)
        return b->err;
    tnt_status st = tnt__store_write(e, b->items, b->n);
    if (st == TNT_OK && w)
        commit_mark(w, offset, mark);
    return st;
}

/* Does the event (ms, key, hash) take an eventID from the one that has it
 * so far? The one recorded first keeps it: the earlier recordTime; at the
 * same millisecond, in one partition (the same log key) the one applied
 * first, as its records are applied in their order; else the smaller hash.
 * Whatever order partitions are applied in, the same event keeps it. */
static bool takes_alias(int64_t ms, const char *key, const uint8_t *hash, int64_t ms2, const char *key2,
                        const uint8_t *hash2)
{
    if (ms != ms2)
        return ms < ms2;
    if (key && key2 && strcmp(key, key2) == 0)
        return false;
    return memcmp(hash, hash2, 32) < 0;
}

static const char *log_key(const tnt__effect *fx)
{
    return fx->nids ? fx->ids[0] : "";
}

/* The eventID index entry of fx: staged if fx was recorded before the
 * event the eventID names so far (in this batch, or stored). */
static tnt_status alias(batch *b, const tnt__key *xk, const tnt__effect *fx)
{
    for (size_t i = 0; i < b->nstaged_ids; i++) {
        if (strcmp(b->staged_ids[i].id, fx->event_id) != 0)
            continue;
        if (!takes_alias(fx->record_ms, log_key(fx), fx->hash, b->staged_ids[i].record_ms, b->staged_ids[i].key,
                         b->staged_ids[i].hash))
            return TNT_OK;
        memcpy(b->staged_ids[i].hash, fx->hash, 32); /* the staged item's value, if there is one */
        b->staged_ids[i].record_ms = fx->record_ms;
        b->staged_ids[i].key = log_key(fx);
        if (!b->staged_ids[i].added) {
            add(b, xk, b->staged_ids[i].hash, 32);
            b->staged_ids[i].added = true;
        }
        return b->err;
    }
    void *v = NULL;
    size_t len = 0;
    tnt_status st = tnt__store_get(b->e, xk, &v, &len);
    if (st != TNT_OK && st != TNT_E_NOTFOUND)
        return st;
    uint8_t *h = tnt__arena_alloc(b->a, 32);
    if (!h) {
        tnt_free(v);
        return TNT_E_NOMEM;
    }
    bool take = st == TNT_E_NOTFOUND || len != 32;
    int64_t ms = fx->record_ms;
    const char *key = log_key(fx);
    if (!take && memcmp(v, fx->hash, 32) != 0) { /* another event has it: which was recorded first? */
        tnt_event *other = NULL;
        tnt__effect ofx = {0};
        tnt_status os = tnt__event_load(b->e, v, b->a, &other);
        if (os != TNT_OK && os != TNT_E_NOTFOUND) {
            tnt_free(v);
            return os;
        }
        if (os == TNT_OK && !tnt__effect_of(&ofx, other, b->a)) {
            tnt_free(v);
            return tnt__error(TNT_E_CORRUPT, "the event named by eventID '%.100s' cannot be read", fx->event_id);
        }
        int64_t other_ms = os == TNT_OK ? ofx.record_ms : INT64_MAX;
        take = os == TNT_E_NOTFOUND /* it names an event that is gone */ ||
               takes_alias(fx->record_ms, key, fx->hash, other_ms, log_key(&ofx), v);
        if (!take) {
            ms = other_ms;
            key = log_key(&ofx);
        }
    }
    memcpy(h, take ? fx->hash : v, 32);
    tnt_free(v);
    if (take)
        add(b, xk, h, 32);
    if (b->nstaged_ids < sizeof b->staged_ids / sizeof b->staged_ids[0])
        b->staged_ids[b->nstaged_ids++] = (struct staged_id){fx->event_id, h, ms, key, take};
    return b->err;
}

/* Stage the changes of one effect into a batch (nothing is written yet). */
static tnt_status stage(batch *b, tnt__effect *fx, bool *dup)
{
    tnt__key ek;
    tnt__key_event(&ek, fx->hash);
    if (!fx->master && !fx->scan && tnt__effect_long_id(fx)) {
        /* Ingest rejects it; one logged before it did names no key the
         * store can hold, and is passed over rather than stop the store. */
        *dup = false;
        return TNT_OK;
    }
    if (fx->master) { /* master data rides the log like events */
        *dup = false;
        b->master = true;
        tnt__key k;
        tnt__key_master(&k, (int)fx->master->kind, fx->master->key);
        size_t len;
        void *v = encode_msg(b, tnt_v1_MasterRecord_fields, fx->master, &len);
        if (v)
            add(b, &k, v, len);
        return b->err;
    }
    if (fx->scan) { /* a verification: an item beside the product's history */
        *dup = false;
        tnt__key k;
        tnt__key_scan(&k, fx->scan);
        size_t len;
        void *v = tnt__scan_encode(b->a, fx->scan, &len);
        if (!v)
            b->err = TNT_E_NOMEM;
        else
            add(b, &k, v, len);
        if (fx->scan->unknown && fx->scan->device.size) { /* what a device guessed */
            tnt__key_device(&k, fx->scan);
            add(b, &k, "", 0);
        }
        return b->err;
    }
    /* Stored before, or earlier in this very batch: a duplicate. */
    for (size_t i = 0; i < b->nstaged; i++)
        if (memcmp(b->staged[i], fx->hash, 32) == 0)
            return *dup = true, TNT_OK;
    tnt_status st = tnt__store_get(b->e, &ek, NULL, NULL); /* is it there? (no copy of the body) */
    if (st == TNT_OK)
        return *dup = true, TNT_OK;
    if (st != TNT_E_NOTFOUND)
        return st;
    *dup = false;
    if (b->nstaged < sizeof b->staged / sizeof b->staged[0])
        memcpy(b->staged[b->nstaged++], fx->hash, 32);
    for (uint32_t i = 0; i < fx->nids && !b->err; i++) {
        slot *s = state_of(b, fx->ids[i]);
        if (!s)
            break;
        update_state(b, s, fx);
        tnt__key k;
        tnt__key_index(&k, fx->ids[i], fx->time_ms, fx->hash);
        tnt_v1_IndexEntry ie = tnt_v1_IndexEntry_init_zero;
        if (fx->where)
            ie = *fx->where;
        memcpy(ie.digest.bytes, fx->digest, 32);
        ie.digest.size = 32;
        size_t len;
        void *v = encode_msg(b, tnt_v1_IndexEntry_fields, &ie, &len);
        if (v && fx->nids == 1 && !fx->where && fx->body && fx->body_len + 1 <= TNT__INLINE_MAX)
            v = with_body(b, v, &len, fx->body, fx->body_len);
        if (v)
            add(b, &k, v, len);
    }
    if (!b->err)
        aggregate(b, fx);
    /* Its sender's eventID, so that it is found by that too: of the events
     * stored with one eventID, the one recorded first (takes_alias()). */
    tnt__key xk;
    if (fx->event_id && tnt__key_event_id(&xk, fx->event_id)) {
        tnt_status xs = alias(b, &xk, fx);
        if (xs != TNT_OK)
            return xs;
    }
    /* The event itself: its body, or where the archive keeps it. */
    const void *body = fx->body;
    size_t body_len = fx->body_len;
    char kind = 'E';
    if (fx->where) {
        tnt_v1_IndexEntry wd = *fx->where;
        memcpy(wd.digest.bytes, fx->digest, 32);
        wd.digest.size = 32;
        body = encode_msg(b, tnt_v1_IndexEntry_fields, &wd, &body_len);
        kind = 'A';
    }
    uint8_t *ev = body ? tnt__arena_alloc(b->a, body_len + 1) : NULL;
    if (!ev)
        return b->err ? b->err : TNT_E_NOMEM;
    ev[0] = (uint8_t)kind;
    memcpy(ev + 1, body, body_len);
    add(b, &ek, ev, body_len + 1);
    return b->err;
}

/* Event by event, for stores that cannot write a whole batch at once: each
 * event's items in order, the event item and the watermark last, so a crash
 * in between is re-applied from the log. */
static tnt_status apply_each(tnt_engine *e, tnt__effect *fx, size_t n, bool *dup, tnt__arena *a)
{
    tnt_status st = TNT_OK;
    for (size_t i = 0; i < n && st == TNT_OK; i++) {
        dup[i] = false;
        if (fx[i].log_status != TNT_OK)
            continue;
        batch b = {.e = e, .a = a, .err = TNT_OK};
        if ((st = stage(&b, &fx[i], &dup[i])) == TNT_OK && (st = flush_states(&b)) == TNT_OK)
            st = write_marked(e, &b, fx[i].partition, fx[i].offset);
        if (b.master) /* after the write (even a failed one, which may have written part) */
            atomic_fetch_add(&e->master_gen, 1);
        tnt__arena_reset(a);
    }
    return st;
}

static tnt__water *water_copy(const tnt_engine *e)
{
    tnt__water *w = tnt__calloc((size_t)e->partitions, sizeof *w);
    for (int p = 0; w && p < e->partitions; p++) {
        w[p] = e->water[p];
        w[p].done = w[p].cap ? tnt__malloc(w[p].cap * sizeof *w[p].done) : NULL;
        if (w[p].cap && !w[p].done) {
            for (int q = 0; q < p; q++)
                tnt__free(w[q].done);
            tnt__free(w);
            return NULL;
        }
        if (w[p].n)
            memcpy(w[p].done, e->water[p].done, w[p].n * sizeof *w[p].done);
    }
    return w;
}

static void water_free(tnt__water *w, int partitions)
{
    for (int p = 0; w && p < partitions; p++)
        tnt__free(w[p].done);
    tnt__free(w);
}

/* The whole batch in one transaction: states merged in memory first. */
static tnt_status apply_batch(tnt_engine *e, tnt__effect *fx, size_t n, bool *dup, tnt__arena *a)
{
    batch b = {.e = e, .a = a, .err = TNT_OK};
    tnt__water *w = water_copy(e);
    if (!w)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    bool *touched = tnt__arena_zalloc(a, (size_t)e->partitions);
    tnt_status st = touched ? TNT_OK : TNT_E_NOMEM;
    for (size_t i = 0; i < n && st == TNT_OK; i++) {
        dup[i] = false;
        if (fx[i].log_status != TNT_OK)
            continue;
        st = stage(&b, &fx[i], &dup[i]);
        int p = fx[i].partition;
        if (st == TNT_OK && p >= 0 && p < e->partitions) {
            commit_mark(&w[p], fx[i].offset, next_mark(&w[p], fx[i].offset));
            touched[p] = true;
        }
    }
    if (st == TNT_OK)
        st = flush_states(&b);
    for (int p = 0; st == TNT_OK && p < e->partitions; p++)
        if (touched[p])
            applied_offset(&b, p, w[p].mark);
    if (st == TNT_OK && b.err)
        st = b.err;
    if (st == TNT_OK && b.n) {
        st = e->store->methods->transact(e->store, b.items, b.n);
        atomic_fetch_add(&e->n.store_batches, 1);
    }
    /* Only now: a reader that saw the new generation before the write could
     * have cached what the store held before it, under the new generation. */
    if (b.master)
        atomic_fetch_add(&e->master_gen, 1);
    if (st == TNT_OK) { /* the watermarks move only once it is written */
        water_free(e->water, e->partitions);
        e->water = w;
        w = NULL;
    }
    water_free(w, e->partitions);
    return st;
}

tnt_status tnt__heal(tnt_engine *e)
{
    if (atomic_load(&e->failed) == TNT_OK)
        return TNT_OK;
    /* With every other writer held back, no batch is between the log and
     * the store: what the log holds past the watermarks is the batch that
     * failed and those applied after it, which applying again skips. */
    pthread_rwlock_wrlock(&e->replay_lock);
    pthread_mutex_lock(&e->apply_mu);
    tnt_status st = TNT_OK;
    if (atomic_load(&e->failed) != TNT_OK) {
        atomic_store(&e->failed, TNT_OK);
        st = tnt__recover(e);
        if (st != TNT_OK && atomic_load(&e->failed) == TNT_OK) { /* it failed reading, not applying */
            snprintf(e->failed_why, sizeof e->failed_why, "%s", tnt_error_last());
            atomic_store(&e->failed, st);
        }
    }
    pthread_mutex_unlock(&e->apply_mu);
    pthread_rwlock_unlock(&e->replay_lock);
    return st != TNT_OK ? tnt__writable(e) : TNT_OK;
}

/* Why the engine writes nothing now (caller holds apply_mu, under which failed_why is written). */
static tnt_status failed_error(tnt_engine *e, tnt_status f)
{
    return tnt__error(f, "the state store failed (%s); the engine writes again once it has applied what the log "
                         "holds past that failure (tried at each ingest)",
                      e->failed_why);
}

tnt_status tnt__writable(tnt_engine *e)
{
    tnt_status f = atomic_load(&e->failed);
    if (f == TNT_OK)
        return TNT_OK;
    pthread_mutex_lock(&e->apply_mu);
    tnt_status st = failed_error(e, f);
    pthread_mutex_unlock(&e->apply_mu);
    return st;
}

tnt_status tnt__apply(tnt_engine *e, tnt__effect *fx, size_t n, bool *dup)
{
    tnt_status f = atomic_load(&e->failed);
    if (f != TNT_OK) /* the watermarks stand still: applying more would leave a hole behind them */
        return failed_error(e, f);
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt_status st = e->store->methods->transact ? apply_batch(e, fx, n, dup, &a) : apply_each(e, fx, n, dup, &a);
    tnt__arena_destroy(&a);
    if (st != TNT_OK) {
        snprintf(e->failed_why, sizeof e->failed_why, "%s", tnt_error_last());
        atomic_store(&e->failed, st);
    }
    return st;
}

/* ---- re-applying records read back from the log or the archive ---- */

#define REPLAY_BATCH 256

struct tnt__replayer {
    tnt_engine *e;
    tnt__arena a;
    tnt__effect fx[REPLAY_BATCH];
    tnt_v1_MasterRecord master[REPLAY_BATCH];
    tnt_v1_Scan scan[REPLAY_BATCH];
    tnt_v1_IndexEntry where[REPLAY_BATCH];
    size_t n, total;
    pthread_mutex_t *apply_mu; /* held while applying, when replayers run side by side */
};

tnt__replayer *tnt__replayer_new(tnt_engine *e)
{
    tnt__replayer *r = tnt__malloc(sizeof *r);
    if (r) {
        r->e = e;
        r->n = r->total = 0;
        r->apply_mu = NULL;
        tnt__arena_init(&r->a, 0);
    }
    return r;
}

void tnt__replayer_share(tnt__replayer *r, pthread_mutex_t *apply_mu)
{
    r->apply_mu = apply_mu;
}

tnt_status tnt__replayer_flush(tnt__replayer *r)
{
    if (!r->n)
        return TNT_OK;
    bool dup[REPLAY_BATCH];
    if (r->apply_mu)
        pthread_mutex_lock(r->apply_mu);
    tnt_status st = tnt__apply(r->e, r->fx, r->n, dup);
    if (r->apply_mu)
        pthread_mutex_unlock(r->apply_mu);
    r->total += r->n;
    r->n = 0;
    tnt__arena_reset(&r->a);
    return st;
}

tnt_status tnt__replayer_add(tnt__replayer *r, const void *record, size_t len, int partition, int64_t offset,
                             const tnt_v1_IndexEntry *where)
{
    tnt__effect *fx = &r->fx[r->n];
    void *copy = tnt__arena_alloc(&r->a, len ? len : 1); /* records outlive the reader's callback */
    if (!copy)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    memcpy(copy, record, len);
    tnt__record rec = {.master = &r->master[r->n], .scan = &r->scan[r->n]};
    tnt_status st = tnt__record_read(copy, len, &rec);
    if (st != TNT_OK)
        return tnt__error(st, "log partition %d offset %lld: %s", partition, (long long)offset, tnt_error_last());
    if (rec.kind == TNT__REC_MASTER) {
        memset(fx, 0, sizeof *fx);
        fx->master = &r->master[r->n];
    } else if (rec.kind == TNT__REC_SCAN) {
        memset(fx, 0, sizeof *fx);
        fx->scan = &r->scan[r->n];
    } else {
        tnt_event *ev = tnt__event_new(&r->a);
        if (!ev)
            return TNT_E_NOMEM;
        if ((st = tnt__proto_decode_event(ev, rec.event_pb, rec.event_len)) != TNT_OK)
            return tnt__error(TNT_E_CORRUPT, "log partition %d offset %lld: %s", partition, (long long)offset,
                              tnt_error_last());
        if (!tnt__effect_from(fx, ev, rec.event_pb, rec.event_len, &r->a))
            return tnt__error(TNT_E_CORRUPT, "log partition %d offset %lld: an event without a hash", partition,
                              (long long)offset);
    }
    if (where) {
        r->where[r->n] = *where;
        fx->where = &r->where[r->n];
    }
    fx->partition = partition;
    fx->offset = offset;
    fx->log_status = TNT_OK;
    if (++r->n == REPLAY_BATCH)
        return tnt__replayer_flush(r);
    return TNT_OK;
}

size_t tnt__replayer_free(tnt__replayer *r)
{
    if (!r)
        return 0;
    size_t n = r->total;
    tnt__arena_destroy(&r->a);
    tnt__free(r);
    return n;
}

tnt_status tnt__apply_master(tnt_engine *e, const tnt_v1_MasterRecord *m)
{
    tnt__arena a;
    tnt__arena_init(&a, 0);
    batch b = {.e = e, .a = &a, .err = TNT_OK};
    tnt__key k;
    tnt__key_master(&k, (int)m->kind, m->key);
    size_t len;
    void *v = encode_msg(&b, tnt_v1_MasterRecord_fields, m, &len);
    if (v)
        add(&b, &k, v, len);
    tnt_status st = b.err ? b.err : tnt__store_write(e, b.items, b.n);
    atomic_fetch_add(&e->master_gen, 1);
    tnt__arena_destroy(&a);
    return st;
}
