/* history: the journey of an identifier, oldest first, page by page, from
 * the state store and the cold archive alike. A page token is the sort key
 * of the last entry of the previous page, in hex. */
#include <pb_decode.h>
#include <string.h>

#include "codec/epcis.h"
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
    tnt_v1_IndexEntry w = tnt_v1_IndexEntry_init_zero;
    pb_istream_t is = pb_istream_from_buffer(it->value, it->value_len);
    if (!pb_decode(&is, tnt_v1_IndexEntry_fields, &w)) {
        p->st = tnt__error(TNT_E_CORRUPT, "a history entry of %s is corrupt", p->h->id);
        return 1;
    }
    tnt_event *ev = NULL;
    p->st = w.segment[0] ? tnt__archive_fetch(p->e, &w, &p->h->a, &ev)
                         : tnt__event_load(p->e, (const uint8_t *)it->sk + 10, &p->h->a, &ev);
    if (p->st != TNT_OK)
        return 1;
    p->h->events[p->h->n++] = ev;
    return 0;
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
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
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
            static const char hex[] = "0123456789abcdef";
            h->next = tnt__arena_alloc(&h->a, 2 * p.last_sk_len + 1);
            if (!h->next)
                st = TNT_E_NOMEM;
            for (size_t i = 0; h->next && i < p.last_sk_len; i++) {
                h->next[2 * i] = hex[p.last_sk[i] >> 4];
                h->next[2 * i + 1] = hex[p.last_sk[i] & 15];
            }
            if (h->next)
                h->next[2 * p.last_sk_len] = '\0';
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
    tnt__buf_json_str(&b, h->id);
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

tnt_status tnt_engine_event(tnt_event **out, tnt_engine *e, const char *hash_id)
{
    if (!out || !e || !hash_id)
        return TNT_E_MISUSE;
    *out = NULL;
    atomic_fetch_add(&e->n.event_calls, 1);
    uint8_t hash[32];
    if (!tnt__hash_bytes(hash, hash_id))
        return tnt__error(TNT_E_INVALID, "'%.100s' is not an event hash ID (ni:///sha-256;<64 hex>?ver=CBV2.0)",
                          hash_id);
    tnt__arena a;
    tnt__arena_init(&a, 0);
    tnt_event *ev = NULL;
    pthread_rwlock_rdlock(&e->replay_lock);
    tnt_status st = tnt__event_load(e, hash, &a, &ev);
    pthread_rwlock_unlock(&e->replay_lock);
    if (st == TNT_OK)
        st = tnt_event_clone(out, ev);
    else if (st == TNT_E_NOTFOUND)
        st = tnt__error(st, "no event %s", hash_id);
    tnt__arena_destroy(&a);
    return st;
}
