/* Ingest: read -> validate -> hash -> normalise (the reader), skip what is
 * stored already, append the rest to the event log and wait until it is
 * durable, then apply it to the state store. Invalid events never reach
 * the log. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"

#define BATCH 512                        /* events per log flush and state batch */
#define BATCH_BYTES ((size_t)16 << 20)   /* or this much memory */
#define CHUNK ((size_t)64 << 10)

typedef struct rep_event {
    uint8_t status;
    const char *hash;        /* in the report's arena */
    tnt__diag *errors;
    uint32_t nerrors;
} rep_event;

struct tnt_ingest_report {
    size_t events, accepted, duplicates, rejected;
    bool counts_only;
    rep_event *ev;
    size_t n, cap;
    tnt__arena arena;
};

static rep_event *rep_add(tnt_ingest_report *r, uint8_t status)
{
    r->events++;
    if (status == TNT_INGEST_ACCEPTED)
        r->accepted++;
    else if (status == TNT_INGEST_DUPLICATE)
        r->duplicates++;
    else
        r->rejected++;
    if (r->counts_only)
        return NULL;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        rep_event *v = tnt__realloc(r->ev, cap * sizeof *v);
        if (!v)
            return NULL;
        r->ev = v;
        r->cap = cap;
    }
    rep_event *e = &r->ev[r->n++];
    memset(e, 0, sizeof *e);
    e->status = status;
    return e;
}

/* A hash set of the batch's events, against duplicates inside one document. */
typedef struct pending {
    tnt__effect fx[BATCH];
    const char *keys[BATCH];
    size_t rep[BATCH];          /* index of the event in the report (or SIZE_MAX) */
    size_t n;
    tnt__arena a;
} pending;

static bool in_batch(const pending *p, const uint8_t hash[32])
{
    for (size_t i = 0; i < p->n; i++)
        if (memcmp(p->fx[i].hash, hash, 32) == 0)
            return true;
    return false;
}

/* An event another ingest stored in the meantime: a duplicate after all. */
static void set_status(tnt_engine *e, tnt_ingest_report *r, size_t idx, uint8_t status)
{
    if (status == TNT_INGEST_DUPLICATE) {
        r->accepted--;
        r->duplicates++;
        atomic_fetch_sub(&e->n.accepted, 1);
        atomic_fetch_add(&e->n.duplicates, 1);
    }
    if (idx != SIZE_MAX && idx < r->n)
        r->ev[idx].status = status;
}

/* Events the report counted as accepted that never reached the log (the
 * log failed, or the call stopped before writing them): the report says so. */
static void not_stored(tnt_engine *e, pending *p, tnt_ingest_report *r, size_t i, const char *why)
{
    r->accepted--;
    r->rejected++;
    atomic_fetch_sub(&e->n.accepted, 1);
    atomic_fetch_add(&e->n.rejected, 1);
    size_t idx = p->rep[i];
    if (idx == SIZE_MAX || idx >= r->n)
        return;
    rep_event *re = &r->ev[idx];
    re->status = TNT_INGEST_REJECTED;
    re->errors = tnt__arena_alloc(&r->arena, sizeof *re->errors);
    if (re->errors) {
        re->errors[0] = (tnt__diag){"NOT_STORED", "$",
                                    tnt__arena_printf(&r->arena, "the event is not confirmed stored: %s", why)};
        re->nerrors = 1;
    }
}

static void none_stored(tnt_engine *e, pending *p, tnt_ingest_report *r, const char *why)
{
    for (size_t i = 0; i < p->n; i++)
        not_stored(e, p, r, i, why);
    p->n = 0;
    tnt__arena_reset(&p->a);
}

static tnt_status commit(tnt_engine *e, pending *p, tnt_ingest_report *r)
{
    if (!p->n)
        return TNT_OK;
    tnt_status st = tnt__writable(e);
    if (st != TNT_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", tnt_error_last());
        for (size_t i = 0; i < p->n; i++)
            not_stored(e, p, r, i, msg);
        p->n = 0;
        tnt__arena_reset(&p->a);
        return tnt__error(st, "%s", msg);
    }
    st = tnt__log_write(e, p->fx, p->n, p->keys);
    if (st != TNT_OK) {
        /* None of the batch is confirmed durable. Some may have reached the
         * log and come back at the next open: sending them again is safe,
         * as events are stored once by their hash (a duplicate then). */
        const char *why = tnt_error_last();
        char msg[256];
        snprintf(msg, sizeof msg, "%s; send it again", why && *why ? why : tnt_status_str(st));
        for (size_t i = 0; i < p->n; i++)
            not_stored(e, p, r, i, msg);
        tnt__error(st, "%s", msg);
    }
    if (st == TNT_OK) {
        bool dup[BATCH];
        pthread_mutex_lock(&e->apply_mu);
        st = tnt__apply(e, p->fx, p->n, dup);
        pthread_mutex_unlock(&e->apply_mu);
        for (size_t i = 0; st == TNT_OK && i < p->n; i++)
            if (dup[i])
                set_status(e, r, p->rep[i], TNT_INGEST_DUPLICATE);
    }
    p->n = 0;
    tnt__arena_reset(&p->a);
    return st;
}

static bool stored(tnt_engine *e, const uint8_t hash[32], tnt_status *st)
{
    tnt__key k;
    tnt__key_event(&k, hash);
    *st = tnt__store_get(e, &k, NULL, NULL);
    if (*st == TNT_E_NOTFOUND) {
        *st = TNT_OK;
        return false;
    }
    return *st == TNT_OK;
}

static tnt_status take(tnt_engine *e, tnt_event *ev, pending *p, tnt_ingest_report *r)
{
    atomic_fetch_add(&e->n.events, 1);
    if (!tnt_event_is_valid(ev)) {
        atomic_fetch_add(&e->n.rejected, 1);
        rep_event *re = rep_add(r, TNT_INGEST_REJECTED);
        if (re && ev->n_diags) {
            re->errors = tnt__arena_alloc(&r->arena, ev->n_diags * sizeof *re->errors);
            for (uint32_t i = 0; re->errors && i < ev->n_diags; i++) {
                re->errors[i].code = ev->diags[i].code;
                re->errors[i].path = tnt__arena_strdup(&r->arena, ev->diags[i].path ? ev->diags[i].path : "");
                re->errors[i].message = tnt__arena_strdup(&r->arena, ev->diags[i].message);
                re->nerrors++;
            }
            if (ev->hash_id[0])
                re->hash = tnt__arena_strdup(&r->arena, ev->hash_id);
        }
        return TNT_OK;
    }
    uint8_t hash[32];
    if (!tnt__hash_bytes(hash, ev->hash_id))
        return tnt__error(TNT_E_INVALID, "an event without a hash");
    tnt_status st;
    if (in_batch(p, hash) || stored(e, hash, &st)) {
        atomic_fetch_add(&e->n.duplicates, 1);
        rep_event *re = rep_add(r, TNT_INGEST_DUPLICATE);
        if (re)
            re->hash = tnt__arena_strdup(&r->arena, ev->hash_id);
        return TNT_OK;
    }
    if (st != TNT_OK)
        return st;
    /* recordTime is the repository's: when it was captured (not part of the event hash) */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ev->record_time = (tnt__time){(int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, 0, true};
    tnt__effect *fx = &p->fx[p->n];
    if (!tnt__effect_of(fx, ev, &p->a))
        return tnt__error(TNT_E_NOMEM, "out of memory");
    const char *long_id = tnt__effect_long_id(fx);
    if (fx->body_len + 1 > TNT_STORE_MAX_VALUE || long_id) {
        rep_event *re = rep_add(r, TNT_INGEST_REJECTED);
        atomic_fetch_add(&e->n.rejected, 1);
        if (re) {
            re->errors = tnt__arena_alloc(&r->arena, sizeof *re->errors);
            if (re->errors) {
                const char *path = ev->source_path ? tnt__arena_strdup(&r->arena, ev->source_path) : "$";
                char why[160];
                if (long_id)
                    snprintf(why, sizeof why, "an identifier or eventID of %zu bytes: the store keys at most %d",
                             strlen(long_id), TNT__ID_MAX);
                re->errors[0] = long_id ? (tnt__diag){"ID_TOO_LONG", path, tnt__arena_strdup(&r->arena, why)}
                                        : (tnt__diag){"TOO_BIG", path,
                                                      "the event is larger than the state store holds (390 KB encoded)"};
                re->nerrors = 1;
            }
            re->hash = tnt__arena_strdup(&r->arena, ev->hash_id);
        }
        return TNT_OK;
    }
    p->keys[p->n] = fx->nids ? fx->ids[0] : "";
    rep_event *re = rep_add(r, TNT_INGEST_ACCEPTED);
    p->rep[p->n] = re ? r->n - 1 : SIZE_MAX;
    if (re)
        re->hash = tnt__arena_strdup(&r->arena, ev->hash_id);
    atomic_fetch_add(&e->n.accepted, 1);
    p->n++;
    if (p->n == BATCH || p->a.total > BATCH_BYTES)
        return commit(e, p, r);
    return TNT_OK;
}

typedef struct source {
    const uint8_t *data; /* memory */
    size_t len, off;
    FILE *f;             /* or a file */
    uint8_t *buf;
    tnt_read_fn fn;      /* or a callback (reading into buf) */
    void *ud;
} source;

static tnt_status run(tnt_engine *e, source *src, tnt_ingest_report *r)
{
    tnt_status st = tnt__heal(e); /* after a failed apply: what the log holds first */
    if (st != TNT_OK)
        return st;
    tnt_reader *rd;
    st = tnt_reader_new(&rd, &e->reader);
    if (st != TNT_OK)
        return st;
    pending *p = tnt__malloc(sizeof *p);
    if (!p) {
        tnt_reader_free(rd);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    p->n = 0;
    tnt__arena_init(&p->a, 0);
    /* A replay or an archive run excludes ingests, but not while an ingest
     * waits for its input (a slow client, a pipe): the lock is held while
     * the events read so far are taken and stored, not while reading. */
    tnt_event *ev;
    tnt_status rs = TNT_AGAIN, doc = TNT_OK;
    bool eof = false;
    while (st == TNT_OK) {
        pthread_rwlock_rdlock(&e->replay_lock);
        while (st == TNT_OK && (rs = tnt_reader_next(&ev, rd)) == TNT_OK)
            st = take(e, ev, p, r);
        pthread_rwlock_unlock(&e->replay_lock);
        if (st != TNT_OK || rs != TNT_AGAIN || eof)
            break;
        size_t n;
        if (src->fn) {
            int64_t got = src->fn(src->ud, src->buf, CHUNK);
            if (got < 0 || got > (int64_t)CHUNK) {
                /* like a document-level error: what was read before stands */
                doc = tnt__error(TNT_E_IO, got < 0 ? "reading the input: the read callback failed"
                                                   : "reading the input: the read callback returned more than asked");
                break;
            }
            n = (size_t)got;
            eof = n == 0;
            if (n)
                tnt_reader_feed(rd, src->buf, n);
        } else if (src->f) {
            n = fread(src->buf, 1, CHUNK, src->f);
            if (n < CHUNK && ferror(src->f)) {
                doc = tnt__error(TNT_E_IO, "reading the input: %s", strerror(errno));
                break;
            }
            eof = n < CHUNK;
            tnt_reader_feed(rd, src->buf, n);
        } else {
            n = src->len - src->off;
            tnt_reader_feed(rd, src->data + src->off, n);
            src->off += n;
            eof = true;
        }
        if (eof)
            tnt_reader_finish(rd);
    }
    if (st == TNT_OK && doc == TNT_OK && rs < 0)
        doc = tnt__error(rs, "%s", tnt_reader_errmsg(rd));
    /* What was read before a document-level error stands; after an engine
     * error, what is still pending never reached the log. */
    char why[256] = "";
    if (st != TNT_OK)
        snprintf(why, sizeof why, "%s", tnt_error_last());
    tnt_status cs = TNT_OK;
    pthread_rwlock_rdlock(&e->replay_lock);
    if (st == TNT_OK) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", doc != TNT_OK ? tnt_error_last() : "");
        cs = commit(e, p, r);
        if (doc != TNT_OK && cs == TNT_OK)
            tnt__error(doc, "%s", keep); /* the document's error stays the last one */
    } else {
        none_stored(e, p, r, why);
    }
    pthread_rwlock_unlock(&e->replay_lock);
    tnt__arena_destroy(&p->a);
    tnt__free(p);
    tnt_reader_free(rd);
    if (st == TNT_OK)
        st = cs;
    return st != TNT_OK ? st : doc;
}

static tnt_status ingest(tnt_ingest_report **out, tnt_engine *e, source *src, unsigned flags)
{
    if (out)
        *out = NULL;
    if (!out || !e)
        return TNT_E_MISUSE;
    tnt_ingest_report *r = tnt__calloc(1, sizeof *r);
    if (!r)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    r->counts_only = flags & TNT_INGEST_COUNTS_ONLY;
    tnt__arena_init(&r->arena, 0);
    atomic_fetch_add(&e->n.ingest_calls, 1);
    tnt__handle_acquire();
    *out = r;
    return run(e, src, r);
}

tnt_status tnt_engine_ingest(tnt_ingest_report **out, tnt_engine *e, const void *data, size_t len,
                             unsigned int flags)
{
    if (out)
        *out = NULL;
    if (!data && len)
        return TNT_E_MISUSE;
    source src = {data, len, 0, NULL, NULL, NULL, NULL};
    return ingest(out, e, &src, flags);
}

tnt_status tnt_engine_ingest_stream(tnt_ingest_report **out, tnt_engine *e, tnt_read_fn read, void *userdata,
                                    unsigned int flags)
{
    if (!read || !out)
        return TNT_E_MISUSE;
    *out = NULL;
    source src = {NULL, 0, 0, NULL, tnt__malloc(CHUNK), read, userdata};
    tnt_status st = src.buf ? ingest(out, e, &src, flags) : tnt__error(TNT_E_NOMEM, "out of memory");
    tnt__free(src.buf);
    return st;
}

tnt_status tnt_engine_ingest_file(tnt_ingest_report **out, tnt_engine *e, const char *path, unsigned int flags)
{
    if (!path || !out)
        return TNT_E_MISUSE;
    *out = NULL;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return tnt__error(TNT_E_IO, "%s: %s", path, strerror(errno));
    source src = {NULL, 0, 0, f, tnt__malloc(CHUNK), NULL, NULL};
    tnt_status st = src.buf ? ingest(out, e, &src, flags) : tnt__error(TNT_E_NOMEM, "out of memory");
    tnt__free(src.buf);
    if (f != stdin)
        fclose(f);
    return st;
}

void tnt_ingest_report_free(tnt_ingest_report *r)
{
    if (!r)
        return;
    tnt__free(r->ev);
    tnt__arena_destroy(&r->arena);
    tnt__free(r);
    tnt__handle_release();
}

void tnt_ingest_report_counts(const tnt_ingest_report *r, size_t *events, size_t *accepted, size_t *duplicates,
                              size_t *rejected)
{
    if (events)
        *events = r ? r->events : 0;
    if (accepted)
        *accepted = r ? r->accepted : 0;
    if (duplicates)
        *duplicates = r ? r->duplicates : 0;
    if (rejected)
        *rejected = r ? r->rejected : 0;
}

tnt_status tnt_ingest_report_event(int *status, const char **hash, size_t *errors, const tnt_ingest_report *r,
                                   size_t i)
{
    if (!r || i >= r->n)
        return TNT_E_NOTFOUND;
    if (status)
        *status = r->ev[i].status;
    if (hash)
        *hash = r->ev[i].hash;
    if (errors)
        *errors = r->ev[i].nerrors;
    return TNT_OK;
}

tnt_status tnt_ingest_report_error(const char **code, const char **path, const char **message,
                                   const tnt_ingest_report *r, size_t i, size_t j)
{
    if (!r || i >= r->n || j >= r->ev[i].nerrors)
        return TNT_E_NOTFOUND;
    const tnt__diag *d = &r->ev[i].errors[j];
    if (code)
        *code = d->code;
    if (path)
        *path = d->path;
    if (message)
        *message = d->message;
    return TNT_OK;
}

tnt_status tnt_ingest_report_json(char **out, size_t *len, const tnt_ingest_report *r)
{
    if (!out || !r)
        return TNT_E_MISUSE;
    static const char *const names[] = {"accepted", "duplicate", "rejected"};
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__buf_printf(&b, "{\"events\":%zu,\"accepted\":%zu,\"duplicates\":%zu,\"rejected\":%zu,\"results\":[",
                    r->events, r->accepted, r->duplicates, r->rejected);
    for (size_t i = 0; i < r->n; i++) {
        const rep_event *e = &r->ev[i];
        tnt__buf_printf(&b, "%s{\"index\":%zu,\"status\":\"%s\",\"hash\":", i ? "," : "", i, names[e->status]);
        if (e->hash)
            tnt__buf_json_str(&b, e->hash);
        else
            tnt__buf_puts(&b, "null");
        tnt__buf_puts(&b, ",\"errors\":[");
        for (uint32_t j = 0; j < e->nerrors; j++) {
            tnt__buf_puts(&b, j ? ",{\"code\":" : "{\"code\":");
            tnt__buf_json_str(&b, e->errors[j].code);
            tnt__buf_puts(&b, ",\"path\":");
            tnt__buf_json_str(&b, e->errors[j].path);
            tnt__buf_puts(&b, ",\"message\":");
            tnt__buf_json_str(&b, e->errors[j].message);
            tnt__buf_putc(&b, '}');
        }
        tnt__buf_puts(&b, "]}");
    }
    tnt__buf_puts(&b, "]}");
    *out = tnt__buf_detach(&b, len);
    return *out ? TNT_OK : tnt__error(TNT_E_NOMEM, "out of memory");
}
