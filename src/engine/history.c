/* history: the journey of an identifier, oldest first, page by page, from
 * the state store and the cold archive alike. A page token is the sort key
 * of the last entry of the previous page, in hex. */
#include <pb_decode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/epcis.h"
#include "codec/proto.h"
#include "engine/record.h"
#include "engine/engine.h"
#include "ids/ids.h"
#include "ingest/cbv.h"

#define DEFAULT_PAGE 100
#define MAX_PAGE 1000

struct tnt_history {
    tnt__arena a;
    char id[TNT__ID_CANONICAL_CAP];
    tnt_event **events;
    size_t n;
    char *next;
};

typedef struct page {
    tnt_engine *e;
    tnt_history *h;
    size_t limit, seen;
    uint8_t last_sk[64];
    size_t last_sk_len;
    tnt_status st;
} page;

static int one(void *ud, const tnt_store_item *it)
{
    page *p = ud;
    if (p->seen++ == p->limit)
        return 1; /* one more than the page: there is a next page */
    if (it->sk_len != 2 + 8 + 32) {
        p->st = tnt__error(TNT_E_CORRUPT, "a history entry of %s is corrupt", p->h->id);
        return 1;
    }
    memcpy(p->last_sk, it->sk, it->sk_len);
    p->last_sk_len = it->sk_len;
    const uint8_t *pb = NULL, *body = NULL;
    size_t pb_len = 0, body_len = 0;
    /* an entry that carries the body is of an event in the store (archiving
     * rewrites entries without it): its IndexEntry is not needed here */
    int archived = !tnt__index_split(it->value, it->value_len, &pb, &pb_len, &body, &body_len) ? -1
                   : body                                                                    ? 0
                                                                                              : tnt__index_archived(pb, pb_len);
    tnt_v1_IndexEntry w = tnt_v1_IndexEntry_init_zero;
    pb_istream_t is = pb_istream_from_buffer(pb, pb_len);
    if (archived < 0 || (archived && !pb_decode_ex(&is, tnt_v1_IndexEntry_fields, &w, PB_DECODE_NOINIT))) {
        p->st = tnt__error(TNT_E_CORRUPT, "a history entry of %s is corrupt", p->h->id);
        return 1;
    }
    tnt_event *ev = NULL;
    if (archived)
        p->st = tnt__archive_fetch(p->e, &w, &p->h->a, &ev);
    else if (body) /* the body the entry carries: no lookup by hash */
        p->st = tnt__event_body_decode(&p->h->a, body, body_len, &ev);
    else
        p->st = tnt__event_load(p->e, (const uint8_t *)it->sk + 10, &p->h->a, &ev);
    if (p->st != TNT_OK)
        return 1;
    p->h->events[p->h->n++] = ev;
    return 0;
}

/* Bytes in hex, after an optional one-letter kind; NULL when out of memory. */
static char *hex_of(tnt__arena *a, const uint8_t *bytes, size_t n, char kind)
{
    char *s = tnt__arena_alloc(a, 2 * n + 2), *o = s;
    if (!s)
        return NULL;
    if (kind)
        *o++ = kind;
    *tnt__hex(o, bytes, n) = '\0';
    return s;
}

static bool unhex(uint8_t *out, size_t *len, const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + k];
            int d = tnt__hexval(c);
            if (d < 0)
                return false;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return true;
}

tnt_status tnt_engine_history(tnt_history **out, tnt_engine *e, const char *id, const char *token, size_t limit)
{
    if (!out || !e || !id)
        return TNT_E_MISUSE;
    *out = NULL;
    atomic_fetch_add(&e->n.history_calls, 1);
    if (limit == 0)
        limit = DEFAULT_PAGE;
    if (limit > MAX_PAGE)
        limit = MAX_PAGE;
    tnt_history *h = tnt__calloc(1, sizeof *h);
    if (!h)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt__arena_init(&h->a, 0);
    size_t len = strlen(id);
    tnt_status st = TNT_OK;
    if (len == 0 || len >= sizeof h->id)
        st = tnt__error(TNT_E_INVALID, "'%.80s' is not an identifier", id);
    else if (!tnt__id_canonical(h->id, sizeof h->id, id, len)) {
        if (tnt__is_uri(id))
            memcpy(h->id, id, len + 1);
        else
            st = tnt__error(TNT_E_INVALID, "'%.80s' is not a GS1 identifier or a URI", id);
    }
    uint8_t from[64] = "h:";
    size_t from_len = 2;
    if (st == TNT_OK && token && *token) {
        if (!unhex(from, &from_len, token, sizeof from) || from_len != 42 || memcmp(from, "h:", 2) != 0)
            st = tnt__error(TNT_E_INVALID, "'%.80s' is not a page token of this history", token);
        else
            from[from_len++] = 0; /* just after the last entry of the previous page */
    }
    h->events = st == TNT_OK ? tnt__arena_alloc(&h->a, limit * sizeof *h->events) : NULL;
    if (st == TNT_OK && !h->events)
        st = tnt__error(TNT_E_NOMEM, "out of memory");
    if (st == TNT_OK) {
        tnt_v1_ProductState state;
        pthread_rwlock_rdlock(&e->replay_lock);
        st = tnt__state_get(e, h->id, &state);
        if (st == TNT_E_NOTFOUND)
            st = tnt__error(st, "%s has no events", h->id);
        page p = {e, h, limit, 0, {0}, 0, TNT_OK};
        tnt__key k;
        tnt__key_state(&k, h->id);
        if (st == TNT_OK)
            st = e->store->methods->query(e->store, k.pk, k.pk_len, from, from_len, "h;", 2, limit + 1, 0, one, &p);
        pthread_rwlock_unlock(&e->replay_lock);
        if (st == TNT_OK)
            st = p.st;
        if (st == TNT_OK && p.seen > limit) {
            h->next = hex_of(&h->a, p.last_sk, p.last_sk_len, 0);
            if (!h->next)
                st = TNT_E_NOMEM;
        }
    }
    if (st != TNT_OK) {
        tnt__arena_destroy(&h->a);
        tnt__free(h);
        return st;
    }
    tnt__handle_acquire();
    *out = h;
    return TNT_OK;
}

void tnt_history_free(tnt_history *h)
{
    if (!h)
        return;
    tnt__arena_destroy(&h->a);
    tnt__free(h);
    tnt__handle_release();
}

size_t tnt_history_count(const tnt_history *h) { return h ? h->n : 0; }
tnt_event *tnt_history_event(const tnt_history *h, size_t i) { return h && i < h->n ? h->events[i] : NULL; }
const char *tnt_history_next_token(const tnt_history *h) { return h ? h->next : NULL; }

tnt_status tnt_history_json(char **out, size_t *len, const tnt_history *h)
{
    if (!out || !h)
        return TNT_E_MISUSE;
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__buf_puts(&b, "{\"id\":");
    if (h->id[0])
        tnt__buf_json_str(&b, h->id);
    else
        tnt__buf_puts(&b, "null"); /* a query's page */
    tnt__buf_puts(&b, ",\"events\":[");
    for (size_t i = 0; i < h->n; i++) {
        if (i)
            tnt__buf_putc(&b, ',');
        tnt__epcis_write(&b, h->events[i], TNT_JSON_CONTEXT | TNT_JSON_HASH_ID);
    }
    tnt__buf_puts(&b, "],\"next\":");
    if (h->next)
        tnt__buf_json_str(&b, h->next);
    else
        tnt__buf_puts(&b, "null");
    tnt__buf_putc(&b, '}');
    *out = tnt__buf_detach(&b, len);
    return *out ? TNT_OK : tnt__error(TNT_E_NOMEM, "out of memory");
}

/* The hash of the event stored under a sender's eventID. */
static tnt_status hash_of_event_id(tnt_engine *e, const char *event_id, uint8_t hash[32])
{
    tnt__key k;
    if (!tnt__key_event_id(&k, event_id))
        return TNT_E_NOTFOUND;
    void *v = NULL;
    size_t len = 0;
    tnt_status st = tnt__store_get(e, &k, &v, &len);
    if (st == TNT_OK && len != 32)
        st = tnt__error(TNT_E_CORRUPT, "the eventID index entry of '%.100s' is corrupt", event_id);
    if (st == TNT_OK)
        memcpy(hash, v, 32);
    tnt_free(v);
    return st;
}

tnt_status tnt_engine_event(tnt_event **out, tnt_engine *e, const char *hash_id)
{
    if (!out || !e || !hash_id)
        return TNT_E_MISUSE;
    *out = NULL;
    atomic_fetch_add(&e->n.event_calls, 1);
    size_t n = strnlen(hash_id, TNT__KEY_MAX + 1);
    if (n == 0 || n > TNT__KEY_MAX)
        return tnt__error(TNT_E_INVALID, "an event is named by its hash ID (ni:///sha-256;<64 hex>?ver=CBV2.0) or "
                                         "the eventID its sender gave it, of at most %d bytes",
                          TNT__KEY_MAX - 2);
    uint8_t hash[32];
    bool is_hash = tnt__hash_bytes(hash, hash_id);
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt_event *ev = NULL;
    pthread_rwlock_rdlock(&e->replay_lock);
    tnt_status st = is_hash ? tnt__event_load(e, hash, &a, &ev) : TNT_E_NOTFOUND;
    /* not a hash ID of ours: the eventID a sender gave (which may be a hash ID of its own) */
    if (st == TNT_E_NOTFOUND && (st = hash_of_event_id(e, hash_id, hash)) == TNT_OK)
        st = tnt__event_load(e, hash, &a, &ev);
    pthread_rwlock_unlock(&e->replay_lock);
    if (st == TNT_OK)
        st = tnt_event_clone(out, ev);
    else if (st == TNT_E_NOTFOUND)
        st = tnt__error(st, "no event %.200s", hash_id);
    tnt__arena_destroy(&a);
    return st;
}

/* ---- queries ---- */

tnt_status tnt_query_init(tnt_query *q, unsigned int version)
{
    if (!q)
        return TNT_E_MISUSE;
    if (version == 0 || version > TNT_QUERY_VERSION)
        return tnt__error(TNT_E_INVALID, "tnt_query_init: unknown version %u", version);
    *q = (tnt_query)TNT_QUERY_INIT;
    q->version = version;
    return TNT_OK;
}

typedef struct qlist {
    const char **v;
    size_t n;
} qlist;

typedef struct qctx {
    tnt_engine *e;
    const tnt_query *q;
    tnt_history *h;
    size_t limit;
    tnt__arena tmp;
    int types[8];
    size_t ntypes;
    qlist steps, disps, rps, bls, me, mae;
    tnt_status st;
    /* log scans: where the page stopped */
    int part;
    int64_t next_off;
    bool full;
    bool archived; /* reading archived records: each one answered is checked against its digest */
} qctx;

#define QID (-1)  /* identifiers */
#define QLOC (-2) /* locations: a bare 13-digit number is a GLN */

static tnt_status qvalues(qctx *c, qlist *out, const char *const *in, size_t n, int vocab, const char *what)
{
    out->v = n ? tnt__arena_alloc(&c->h->a, n * sizeof *out->v) : NULL;
    out->n = 0;
    if (n && !out->v)
        return TNT_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *v = in[i];
        if (!v || !*v || strlen(v) > 2048)
            return tnt__error(TNT_E_INVALID, "%s: an empty or oversized value", what);
        const char *keep = v;
        char id[TNT__ID_CANONICAL_CAP], gln[24]; /* keep may point here until it is copied */
        if (vocab >= 0) {
            const char *bare = NULL;
            int k = tnt__cbv_lookup(vocab, v, &bare);
            if (k == TNT__CBV_STANDARD)
                keep = bare;
            else if (k == TNT__CBV_UNKNOWN)
                return tnt__error(TNT_E_INVALID, "%s: '%.80s' is not a CBV %s", what, v, tnt__cbv_name(vocab));
        } else {
            if (vocab == QLOC && strlen(v) == 13 && strspn(v, "0123456789") == 13) {
                snprintf(gln, sizeof gln, "(414)%s", v); /* a bare GLN, as partners write locations */
                v = gln;
            }
            if (tnt__id_canonical(id, sizeof id, v, strlen(v)))
                keep = id;
            else if (!tnt__is_uri(v))
                return tnt__error(TNT_E_INVALID, "%s: '%.80s' is not a GS1 identifier or a URI", what, v);
        }
        if (!(out->v[out->n++] = tnt__arena_strdup(&c->h->a, keep)))
            return TNT_E_NOMEM;
    }
    return TNT_OK;
}

static bool in_list(const qlist *l, const char *v)
{
    for (size_t i = 0; v && i < l->n; i++)
        if (strcmp(l->v[i], v) == 0)
            return true;
    return false;
}

static bool any_in(const qlist *l, const tnt__strs *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (in_list(l, s->v[i]))
            return true;
    return false;
}

static bool qmatch(const qctx *c, const tnt_event *ev)
{
    const tnt_query *q = c->q;
    if (c->ntypes) {
        bool ok = false;
        for (size_t i = 0; i < c->ntypes && !ok; i++)
            ok = c->types[i] == ev->type;
        if (!ok)
            return false;
    }
    if ((q->ge_event_time_ms && ev->event_time.ms < q->ge_event_time_ms) ||
        (q->lt_event_time_ms && ev->event_time.ms >= q->lt_event_time_ms))
        return false;
    if ((q->ge_record_time_ms && (!ev->record_time.set || ev->record_time.ms < q->ge_record_time_ms)) ||
        (q->lt_record_time_ms && (!ev->record_time.set || ev->record_time.ms >= q->lt_record_time_ms)))
        return false;
    if ((c->steps.n && !in_list(&c->steps, ev->biz_step)) || (c->disps.n && !in_list(&c->disps, ev->disposition)) ||
        (c->rps.n && !in_list(&c->rps, ev->read_point)) || (c->bls.n && !in_list(&c->bls, ev->biz_location)))
        return false;
    if (c->me.n && !any_in(&c->me, &ev->epc_list) && !any_in(&c->me, &ev->child_epcs))
        return false;
    if (c->mae.n && !any_in(&c->mae, &ev->epc_list) && !any_in(&c->mae, &ev->child_epcs) &&
        !any_in(&c->mae, &ev->input_epcs) && !any_in(&c->mae, &ev->output_epcs) && !in_list(&c->mae, ev->parent_id))
        return false;
    return true;
}

/* ---- by identifier: the histories of the MATCH_ identifiers ---- */

typedef struct qkey {
    uint8_t k[40]; /* time (8, big-endian, offset) + hash */
    tnt_v1_IndexEntry w;
} qkey;

typedef struct qkeys {
    qkey *v;
    size_t n, cap;
    tnt_status st;
} qkeys;

#define QUERY_MAX_CANDIDATES 100000

static int qkey_take(void *ud, const tnt_store_item *it)
{
    qkeys *l = ud;
    if (it->sk_len != 42)
        return 0;
    if (l->n == QUERY_MAX_CANDIDATES) {
        l->st = tnt__error(TNT_E_TOOBIG, "the query names identifiers with more than %d events: narrow it",
                           QUERY_MAX_CANDIDATES);
        return 1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        qkey *v = tnt__realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->st = TNT_E_NOMEM;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    qkey *k = &l->v[l->n];
    memcpy(k->k, (const uint8_t *)it->sk + 2, 40);
    if (!tnt__index_entry_read(it->value, it->value_len, &k->w)) {
        l->st = tnt__error(TNT_E_CORRUPT, "a history entry is corrupt");
        return 1;
    }
    l->n++;
    return 0;
}

static int qkey_cmp(const void *a, const void *b) { return memcmp(((const qkey *)a)->k, ((const qkey *)b)->k, 40); }

static tnt_status query_ids(qctx *c, const uint8_t *after)
{
    qkeys l = {NULL, 0, 0, TNT_OK};
    tnt_status st = TNT_OK;
    const qlist *lists[2] = {&c->me, &c->mae};
    for (int li = 0; li < 2 && st == TNT_OK; li++)
        for (size_t i = 0; i < lists[li]->n && st == TNT_OK; i++) {
            tnt__key k;
            tnt__key_state(&k, lists[li]->v[i]);
            st = c->e->store->methods->query(c->e->store, k.pk, k.pk_len, "h:", 2, "h;", 2, 0, 0, qkey_take, &l);
            if (st == TNT_OK)
                st = l.st;
        }
    if (st == TNT_OK && l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, qkey_cmp);
    for (size_t i = 0; st == TNT_OK && i < l.n; i++) {
        if ((i && memcmp(l.v[i].k, l.v[i - 1].k, 40) == 0) || (after && memcmp(l.v[i].k, after, 40) <= 0))
            continue;
        if (c->h->n == c->limit) {
            c->h->next = hex_of(&c->h->a, l.v[i - 1].k, 40, 'i');
            break;
        }
        /* read once, into the answer's memory, which is given back if the event does not match */
        tnt__arena_mark m = tnt__arena_save(&c->h->a);
        tnt_event *ev = NULL;
        st = l.v[i].w.segment[0] ? tnt__archive_fetch(c->e, &l.v[i].w, &c->h->a, &ev)
                                 : tnt__event_load(c->e, l.v[i].k + 8, &c->h->a, &ev);
        if (st == TNT_OK && qmatch(c, ev))
            c->h->events[c->h->n++] = ev;
        else
            tnt__arena_rollback(&c->h->a, m);
        if (st == TNT_E_NOTFOUND) /* expired meanwhile */
            st = TNT_OK;
    }
    tnt__free(l.v);
    return st;
}

/* ---- everything: the event log, partition by partition ---- */

static int qlog_one(void *ud, int partition, int64_t offset, int64_t time_ms, const void *key, size_t key_len,
                    const void *value, size_t value_len)
{
    (void)time_ms, (void)key, (void)key_len;
    qctx *c = ud;
    if (c->h->n == c->limit) {
        c->full = true;
        c->part = partition;
        c->next_off = offset;
        return 1;
    }
    tnt__record rec = {0};
    if (tnt__record_read(value, value_len, &rec) != TNT_OK || rec.kind != TNT__REC_EVENT)
        return 0;
    /* decoded once, into the answer's memory, which is given back if the event does not match */
    tnt__arena_mark m = tnt__arena_save(&c->h->a);
    tnt_event *ev = tnt__event_new(&c->h->a);
    if (ev && tnt__proto_decode_event(ev, rec.event_pb, rec.event_len) == TNT_OK && qmatch(c, ev)) {
        /* an archived event is answered only if it is the one its history chained (as history checks) */
        if (c->archived && (c->st = tnt__archive_check(c->e, ev, &rec, &c->tmp)) != TNT_OK)
            return 1;
        c->h->events[c->h->n++] = ev;
    } else {
        tnt__arena_rollback(&c->h->a, m);
    }
    tnt__arena_reset(&c->tmp);
    return 0;
}

static tnt_status query_log(qctx *c, int part, int64_t off)
{
    tnt_status st = TNT_OK;
    for (int p = part; p < c->e->partitions && st == TNT_OK && !c->full; p++) {
        /* the archived records of the partition first, then the live log */
        int64_t from = p == part ? off : 0, end = 0;
        bool stopped = false;
        c->archived = true;
        st = tnt__archive_read(c->e, p, from, qlog_one, c, &end, &stopped);
        c->archived = false;
        if (st == TNT_OK)
            st = c->st;
        if (st != TNT_OK || stopped)
            break;
        st = c->e->log->methods->read(c->e->log, p, from > end ? from : end, qlog_one, c);
        if (st == TNT_OK)
            st = c->st;
    }
    if (st == TNT_OK && c->full) {
        char tok[64];
        snprintf(tok, sizeof tok, "l%d.%lld", c->part, (long long)c->next_off);
        c->h->next = tnt__arena_strdup(&c->h->a, tok);
    }
    return st;
}

tnt_status tnt_engine_query(tnt_history **out, tnt_engine *e, const tnt_query *q)
{
    if (!out || !e || !q)
        return TNT_E_MISUSE;
    *out = NULL;
    if (q->version == 0 || q->version > TNT_QUERY_VERSION)
        return tnt__error(TNT_E_INVALID, "tnt_query: unknown version %u", q->version);
    atomic_fetch_add(&e->n.history_calls, 1);
    tnt_history *h = tnt__calloc(1, sizeof *h);
    if (!h)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt__arena_init(&h->a, 0);
    qctx c;
    memset(&c, 0, sizeof c);
    c.e = e;
    c.q = q;
    c.h = h;
    c.limit = q->limit ? (q->limit > MAX_PAGE ? MAX_PAGE : q->limit) : DEFAULT_PAGE;
    tnt__arena_init(&c.tmp, 0);
    tnt_status st = TNT_OK;
    if (q->event_type_count > 8)
        st = tnt__error(TNT_E_INVALID, "eventType: at most 8 values");
    for (size_t i = 0; st == TNT_OK && i < q->event_type_count; i++) {
        int t = 0;
        for (int k = 1; k <= 5 && !t; k++)
            if (q->event_types[i] && strcmp(q->event_types[i], tnt_event_type_name((tnt_event_type)k)) == 0)
                t = k;
        if (!t)
            st = tnt__error(TNT_E_INVALID, "eventType: '%.80s' is not an EPCIS event type (ObjectEvent, "
                                           "AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent)",
                            q->event_types[i] ? q->event_types[i] : "");
        else
            c.types[c.ntypes++] = t;
    }
    if (st == TNT_OK)
        st = qvalues(&c, &c.steps, q->biz_steps, q->biz_step_count, TNT__V_BIZSTEP, "EQ_bizStep");
    if (st == TNT_OK)
        st = qvalues(&c, &c.disps, q->dispositions, q->disposition_count, TNT__V_DISP, "EQ_disposition");
    if (st == TNT_OK)
        st = qvalues(&c, &c.rps, q->read_points, q->read_point_count, QLOC, "EQ_readPoint");
    if (st == TNT_OK)
        st = qvalues(&c, &c.bls, q->biz_locations, q->biz_location_count, QLOC, "EQ_bizLocation");
    if (st == TNT_OK)
        st = qvalues(&c, &c.me, q->match_epcs, q->match_epc_count, QID, "MATCH_epc");
    if (st == TNT_OK)
        st = qvalues(&c, &c.mae, q->match_any_epcs, q->match_any_epc_count, QID, "MATCH_anyEPC");
    h->events = st == TNT_OK ? tnt__arena_alloc(&h->a, c.limit * sizeof *h->events) : NULL;
    if (st == TNT_OK && !h->events)
        st = tnt__error(TNT_E_NOMEM, "out of memory");
    /* the page token: where the previous page stopped */
    const char *tok = q->page_token && *q->page_token ? q->page_token : NULL;
    bool by_id = c.me.n || c.mae.n;
    uint8_t after[64];
    size_t alen = 0;
    int part = 0;
    long long off = 0;
    if (st == TNT_OK && tok) {
        char end = 0;
        bool ok = by_id ? tok[0] == 'i' && unhex(after, &alen, tok + 1, sizeof after) && alen == 40
                        : tok[0] == 'l' && sscanf(tok + 1, "%d.%lld%c", &part, &off, &end) == 2 && part >= 0 &&
                              part < e->partitions && off >= 0;
        if (!ok)
            st = tnt__error(TNT_E_INVALID, "'%.80s' is not a page token of this query", tok);
    }
    if (st == TNT_OK) {
        pthread_rwlock_rdlock(&e->replay_lock);
        st = by_id ? query_ids(&c, tok ? after : NULL) : query_log(&c, part, off);
        pthread_rwlock_unlock(&e->replay_lock);
    }
    tnt__arena_destroy(&c.tmp);
    if (st != TNT_OK) {
        tnt__arena_destroy(&h->a);
        tnt__free(h);
        return st;
    }
    tnt__handle_acquire();
    *out = h;
    return TNT_OK;
}
