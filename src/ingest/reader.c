/* The document reader: bytes in, one decoded, validated, hashed and
 * normalised event out at a time. */
#include <stdio.h>
#include <string.h>

#include "codec/epcis.h"
#include "codec/json_stream.h"
#include "codec/proto.h"
#include "codec/report.h"
#include "ingest/pipeline.h"
#include "tnt/document.h"

/* Input is parsed this much at a time. Every event the parser completes is
 * queued with an arena of its own until it is handed out, so a slice bounds
 * that queue: 1 KiB of "{}," is 341 events. */
#define SLICE ((size_t)1024)
#define HOLD_LIMIT ((size_t)64 << 20)      /* events held while waiting for a late @context */

/* Framing state of a protobuf Batch. */
typedef struct pbframe {
    uint64_t need;       /* payload bytes still to come */
    uint32_t field;      /* field number of the payload */
    bool in_payload;
    bool skipping;       /* payload too big (or unknown field): drop it */
} pbframe;

struct tnt_reader {
    tnt_reader_options opts;
    tnt__pipeline pipe;
    int format;                 /* TNT_FORMAT_JSON/PROTOBUF once known, else AUTO */
    bool finished;              /* tnt_reader_finish was called */
    bool js_finished;           /* the JSON parser was told the end */
    tnt_status status;          /* sticky document-level error */
    char errmsg[320];

    const uint8_t *in;          /* fed, not yet parsed (caller's memory) */
    size_t in_len;
    uint8_t pre[32];            /* bytes that come before in: the format guess, a */
    size_t npre;                /* partial byte order mark, a field header read too far */
    int bom;                    /* bytes of a UTF-8 byte order mark matched; 3: settled */

    tnt__jstream *js;
    tnt__jitem *item;           /* handed out with the current event */
    tnt__jitem **held;          /* waiting for the document's @context */
    size_t nheld, capheld, held_bytes, heldhead;
    tnt__arena ctx_arena;
    tnt__ctx ctx;
    bool ctx_done;

    tnt__buf pb;                /* protobuf bytes being framed */
    pbframe frame;
    tnt__arena pb_arena;        /* the current protobuf event */
    tnt__arena scratch;         /* the pipeline's working memory */
    tnt__idmemo ids_seen;       /* the current event's identifiers */
    const char *ignore[64];     /* the document's ignoreFields */
    bool ignore_over;           /* it lists more: refused, not hashed half-ignored */
    size_t header_members;      /* header size when ignore was read */

    size_t index;               /* events handed out */
    size_t pb_count[2];         /* Batch events and reports so far, for their paths */
    size_t valid, rejected;
    tnt__buf header;
};

tnt_status tnt_reader_options_init(tnt_reader_options *opts, unsigned int version)
{
    if (!opts || version == 0 || version > TNT_READER_OPTIONS_VERSION)
        return tnt__error(TNT_E_INVALID, "tnt_reader_options_init: unknown options version %u", version);
    *opts = (tnt_reader_options)TNT_READER_OPTIONS_INIT;
    opts->version = version;
    return TNT_OK;
}

static tnt_status fail(tnt_reader *r, tnt_status st, const char *msg)
{
    if (r->status == TNT_OK) {
        r->status = st;
        snprintf(r->errmsg, sizeof r->errmsg, "%s", msg);
    }
    return tnt__error(r->status, "%s", r->errmsg);
}

tnt_status tnt_reader_new(tnt_reader **out, const tnt_reader_options *opts)
{
    if (!out)
        return TNT_E_MISUSE;
    *out = NULL;
    tnt_reader_options o = TNT_READER_OPTIONS_INIT;
    if (opts) {
        if (opts->version == 0 || opts->version > TNT_READER_OPTIONS_VERSION)
            return tnt__error(TNT_E_INVALID, "tnt_reader_new: unknown options version %u", opts->version);
        o = *opts;
    }
    if (o.format > TNT_FORMAT_PROTOBUF || o.epc_format > TNT_EPC_FORMAT_URN || o.max_depth == 0 ||
        o.max_depth > TNT__MAX_DEPTH ||
        o.max_event_bytes < 64 || o.max_string_bytes == 0 || o.max_list_items == 0)
        return tnt__error(TNT_E_INVALID, "tnt_reader_new: invalid option values");
    tnt_reader *r = tnt__calloc(1, sizeof *r);
    if (!r)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    r->opts = o;
    r->pipe = (tnt__pipeline){o.flags, o.future_skew_ms, o.now_ms, o.epc_format, o.id_options, NULL,
                              &r->scratch, NULL, 0, NULL, &r->ids_seen};
    tnt__jlimits lim = {o.max_event_bytes, o.max_depth, o.max_string_bytes, o.max_list_items, false};
    r->js = tnt__jstream_new(&lim);
    if (!r->js || tnt_id_new(&r->pipe.idp) != TNT_OK) {
        tnt__jstream_free(r->js);
        tnt__free(r);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    if (o.flags & TNT_READ_HASH)
        r->pipe.sha = tnt__sha256_new(); /* without it, each hash sets up its own */
    tnt__arena_init(&r->ctx_arena, 0);
    tnt__arena_init(&r->pb_arena, 0);
    tnt__arena_init(&r->scratch, 0);
    tnt__buf_init(&r->pb);
    tnt__buf_init(&r->header);
    r->format = (int)o.format;
    tnt__handle_acquire();
    *out = r;
    return TNT_OK;
}

static void release_item(tnt_reader *r)
{
    tnt__jstream_release(r->js, r->item);
    r->item = NULL;
}

void tnt_reader_reset(tnt_reader *r)
{
    if (!r)
        return;
    release_item(r);
    for (size_t i = r->heldhead; i < r->nheld; i++)
        tnt__jstream_release(r->js, r->held[i]);
    r->nheld = r->heldhead = r->held_bytes = 0;
    tnt__jstream_reset(r->js);
    tnt__arena_reset(&r->ctx_arena);
    r->ctx = (tnt__ctx){NULL, 0};
    r->ctx_done = false;
    r->pipe.ignore = NULL;
    r->pipe.nignore = 0;
    r->ignore_over = false;
    r->header_members = 0;
    tnt__buf_reset(&r->pb);
    r->frame = (pbframe){0, 0, false, false};
    tnt__arena_reset(&r->pb_arena);
    r->format = (int)r->opts.format;
    r->finished = r->js_finished = false;
    r->status = TNT_OK;
    r->errmsg[0] = '\0';
    r->in = NULL;
    r->in_len = 0;
    r->npre = 0;
    r->bom = 0;
    r->index = r->valid = r->rejected = 0;
    r->pb_count[0] = r->pb_count[1] = 0;
}

void tnt_reader_free(tnt_reader *r)
{
    if (!r)
        return;
    tnt_reader_reset(r);
    tnt__jstream_free(r->js);
    tnt_id_free(r->pipe.idp);
    tnt__sha256_free(r->pipe.sha);
    tnt__free(r->held);
    tnt__arena_destroy(&r->ctx_arena);
    tnt__arena_destroy(&r->pb_arena);
    tnt__arena_destroy(&r->scratch);
    tnt__buf_free(&r->pb);
    tnt__buf_free(&r->header);
    tnt__free(r);
    tnt__handle_release();
}

tnt_status tnt_reader_feed(tnt_reader *r, const void *data, size_t len)
{
    if (!r || (!data && len))
        return TNT_E_MISUSE;
    if (r->finished)
        return tnt__error(TNT_E_MISUSE, "tnt_reader_feed: called after tnt_reader_finish");
    if (r->in_len)
        return tnt__error(TNT_E_MISUSE, "tnt_reader_feed: call tnt_reader_next until TNT_AGAIN before feeding more");
    if (r->status != TNT_OK)
        return r->status;
    r->in = data;
    r->in_len = len;
    return TNT_OK;
}

tnt_status tnt_reader_finish(tnt_reader *r)
{
    if (!r)
        return TNT_E_MISUSE;
    r->finished = true;
    return r->status;
}

const char *tnt_reader_errmsg(const tnt_reader *r) { return r ? r->errmsg : ""; }

void tnt_reader_counts(const tnt_reader *r, size_t *events_out, size_t *valid_out, size_t *rejected_out)
{
    if (events_out)
        *events_out = r ? r->index : 0;
    if (valid_out)
        *valid_out = r ? r->valid : 0;
    if (rejected_out)
        *rejected_out = r ? r->rejected : 0;
}

const char *tnt_reader_header(tnt_reader *r)
{
    if (!r)
        return "{}";
    tnt__node *h = tnt__jstream_header(r->js);
    tnt__buf_reset(&r->header);
    if (h)
        tnt__json_write_node(&r->header, h, false);
    return r->header.len && !r->header.oom ? r->header.data : "{}";
}

/* ---- input: r->pre, then the caller's r->in ---- */
static size_t avail(const tnt_reader *r) { return r->npre + r->in_len; }

static uint8_t peek(const tnt_reader *r) { return r->npre ? r->pre[0] : r->in[0]; }

static void skip(tnt_reader *r, size_t n)
{
    size_t k = n < r->npre ? n : r->npre;
    memmove(r->pre, r->pre + k, r->npre - k);
    r->npre -= k;
    if (n > k) { /* (r->in may be NULL when nothing was fed) */
        r->in += n - k;
        r->in_len -= n - k;
    }
}

/* Append up to n input bytes to b. */
static void take(tnt_reader *r, tnt__buf *b, size_t n)
{
    size_t k = n < r->npre ? n : r->npre;
    tnt__buf_append(b, r->pre, k);
    n = n - k < r->in_len ? n - k : r->in_len;
    if (n)
        tnt__buf_append(b, r->in, n);
    skip(r, k + n);
}

/* Give bytes back to the front of the input (at most sizeof pre in all). */
static void unread(tnt_reader *r, const void *p, size_t n)
{
    memmove(r->pre + n, r->pre, r->npre);
    memcpy(r->pre, p, n);
    r->npre += n;
}

/* ---- format detection ---- */
static bool json_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Can c follow the opening bracket b of a JSON text (after whitespace)? */
static bool json_after(uint8_t b, uint8_t c)
{
    if (json_space(c) || c == '"' || c == (b == '{' ? '}' : ']'))
        return true;
    return b == '[' && (c == '{' || c == '[' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n');
}

/* The format from the first bytes, or AUTO while they do not tell yet.
 * A tnt.v1.Batch starts with the key of a length-delimited field (wire type
 * 2); JSON with whitespace, a byte order mark, a bracket or a scalar, none of
 * which has wire type 2 except '\n' (0x0A, the key of Batch.events) and '"'
 * or '2' (taken as protobuf). After a '\n' the next two bytes decide: a Batch
 * goes on with a length and an Event field key, JSON with whitespace or a
 * bracket and what can follow it. */
static int guess(const uint8_t *p, size_t n, bool final)
{
    if (n == 0)
        return TNT_FORMAT_AUTO;
    if (p[0] != '\n') {
        if ((p[0] & 7) == 2)
            return TNT_FORMAT_PROTOBUF;
        bool json = json_space(p[0]) || p[0] == '{' || p[0] == '[' || p[0] == 0xEF || p[0] == '-' ||
                    (p[0] >= '0' && p[0] <= '9') || p[0] == 't' || p[0] == 'f' || p[0] == 'n';
        return json ? TNT_FORMAT_JSON : TNT_FORMAT_PROTOBUF;
    }
    if (n < 3)
        return final ? TNT_FORMAT_JSON : TNT_FORMAT_AUTO;
    if (json_space(p[1]))
        return json_space(p[2]) || p[2] == '{' || p[2] == '[' ? TNT_FORMAT_JSON : TNT_FORMAT_PROTOBUF;
    if (p[1] == '{' || p[1] == '[')
        return json_after(p[1], p[2]) ? TNT_FORMAT_JSON : TNT_FORMAT_PROTOBUF;
    return TNT_FORMAT_PROTOBUF;
}

/* Gather the first bytes into pre until they tell the format. */
static tnt_status detect(tnt_reader *r)
{
    while (r->npre < 3 && r->in_len) {
        r->pre[r->npre++] = *r->in++;
        r->in_len--;
    }
    r->format = guess(r->pre, r->npre, r->finished);
    if (r->format != TNT_FORMAT_AUTO)
        return TNT_OK;
    if (!r->finished)
        return TNT_AGAIN;
    return fail(r, TNT_E_SYNTAX, "empty document");
}

/* ---- JSON ---- */
static void parse_doc_context(tnt_reader *r)
{
    if (r->ctx_done || !tnt__jstream_context_seen(r->js))
        return;
    r->ctx_done = true;
    tnt__prefix *v = NULL;
    size_t n = 0;
    tnt__node *c = tnt__node_get(tnt__jstream_header(r->js), "@context");
    tnt__context_parse(&r->ctx_arena, c, &v, &n); /* a malformed context only loses prefixes */
    r->ctx = (tnt__ctx){v, n};
}

/* ignoreFields: fields a document says to leave out of the event hash, as a
 * root member "ignoreFields" or "<prefix>:ignoreFields" or one of
 * epcisBody.queryResults. Read again while the header grows. */
static void add_ignore(tnt_reader *r, const tnt__node *obj)
{
    for (const tnt__node *m = obj ? obj->child : NULL; m; m = m->next) {
        size_t n = strlen(m->key);
        if (m->kind != TNT__N_ARRAY || n < 12 || strcmp(m->key + n - 12, "ignoreFields") != 0 ||
            (n > 12 && m->key[n - 13] != ':'))
            continue;
        for (const tnt__node *f = m->child; f; f = f->next) {
            if (f->kind != TNT__N_STRING)
                continue;
            bool seen = false;
            for (size_t i = 0; i < r->pipe.nignore && !seen; i++)
                seen = strcmp(r->ignore[i], f->str) == 0;
            if (seen)
                continue;
            if (r->pipe.nignore == sizeof r->ignore / sizeof r->ignore[0])
                r->ignore_over = true;
            else
                r->ignore[r->pipe.nignore++] = f->str;
        }
    }
}

static void read_ignore_fields(tnt_reader *r)
{
    tnt__node *h = tnt__jstream_header(r->js);
    if (!h || h->count == r->header_members)
        return;
    r->header_members = h->count;
    r->pipe.nignore = 0;
    r->pipe.ignore = r->ignore;
    r->ignore_over = false;
    add_ignore(r, h);
    add_ignore(r, tnt__node_get(tnt__node_get(h, "epcisBody"), "queryResults"));
}

static bool hold(tnt_reader *r, tnt__jitem *it)
{
    if (r->nheld == r->capheld) {
        if (r->heldhead) {
            memmove(r->held, r->held + r->heldhead, (r->nheld - r->heldhead) * sizeof *r->held);
            r->nheld -= r->heldhead;
            r->heldhead = 0;
        }
        if (r->nheld == r->capheld) {
            size_t cap = r->capheld ? r->capheld * 2 : 64;
            tnt__jitem **h = tnt__realloc(r->held, cap * sizeof *h);
            if (!h)
                return false;
            r->held = h;
            r->capheld = cap;
        }
    }
    r->held[r->nheld++] = it;
    r->held_bytes += it->arena->total;
    return true;
}

static const char *skip_message(uint8_t why, const tnt__jlimits *l, char *buf, size_t cap)
{
    switch (why) {
    case TNT__SKIP_TOO_BIG: snprintf(buf, cap, "event larger than %zu bytes", l->max_event_bytes); break;
    case TNT__SKIP_TOO_DEEP: snprintf(buf, cap, "event nested deeper than %zu levels", l->max_depth); break;
    case TNT__SKIP_LIST: snprintf(buf, cap, "a list longer than %zu items", l->max_list_items); break;
    default: snprintf(buf, cap, "a string longer than %zu bytes", l->max_string_bytes);
    }
    return buf;
}

/* Turn a parsed item into the event handed out. */
static tnt_status make_event(tnt_reader *r, tnt__jitem *it, tnt_event **ev_out)
{
    tnt_event *ev = tnt__event_new(it->arena);
    if (!ev)
        return fail(r, TNT_E_NOMEM, "out of memory");
    ev->index = it->index;
    ev->source_path = it->path;
    read_ignore_fields(r);
    if (r->ignore_over) /* its events could not be hashed as the document says */
        return fail(r, TNT_E_TOOBIG, "ignoreFields lists more than 64 distinct fields");
    bool ok = true;
    if (it->skip != TNT__SKIP_NONE) {
        char msg[96];
        tnt__jlimits l = {r->opts.max_event_bytes, r->opts.max_depth, r->opts.max_string_bytes,
                          r->opts.max_list_items, false};
        ok = tnt__event_diag(ev, "TOO_BIG", it->path, "%s", skip_message(it->skip, &l, msg, sizeof msg));
    } else if (it->root->kind == TNT__N_OBJECT && tnt__report_looks_like(it->root)) {
        tnt__report rep;
        ok = tnt__report_decode(ev, &rep, it->root, it->path) && (ev->n_diags || tnt__report_to_event(ev, &rep, it->path, r->pipe.idp, r->pipe.ids));
        if (ok && !ev->n_diags)
            ok = tnt__pipeline_run(ev, &r->pipe);
    } else {
        bool unresolved = false;
        ok = tnt__epcis_decode(ev, it->root, it->path, &r->ctx, &unresolved) && tnt__pipeline_run(ev, &r->pipe);
    }
    if (ok && it->has_nul)
        ok = tnt__event_diag(ev, "NUL", it->path, "a string holds U+0000; it was cut there");
    if (!ok)
        return fail(r, TNT_E_NOMEM, "out of memory");
    r->index++;
    if (ev->n_diags)
        r->rejected++;
    else
        r->valid++;
    *ev_out = ev;
    return TNT_OK;
}

/* A UTF-8 byte order mark before the JSON text is dropped. False while the
 * input ends inside what may still be one. */
static bool strip_bom(tnt_reader *r)
{
    static const uint8_t bom[3] = {0xEF, 0xBB, 0xBF};
    while (r->bom < 3 && avail(r)) {
        if (peek(r) != bom[r->bom]) { /* not a mark: its bytes are text after all */
            unread(r, bom, (size_t)r->bom);
            r->bom = 3;
            return true;
        }
        skip(r, 1);
        r->bom++;
    }
    if (r->bom < 3 && r->finished) {
        unread(r, bom, (size_t)r->bom);
        r->bom = 3;
    }
    return r->bom == 3;
}

static tnt_status json_next(tnt_reader *r, tnt_event **ev_out)
{
    for (;;) {
        parse_doc_context(r);
        bool stopped = tnt__jstream_status(r->js) != TNT_OK;
        bool doc_done = stopped || (tnt__jstream_finished(r->js) && r->finished && avail(r) == 0);
        /* Held events go first, once their context is known or will never be. */
        if (r->heldhead < r->nheld && (r->ctx_done || doc_done || r->held_bytes > HOLD_LIMIT)) {
            r->item = r->held[r->heldhead++];
            r->held_bytes -= r->item->arena->total;
            if (r->heldhead == r->nheld)
                r->heldhead = r->nheld = 0;
            return make_event(r, r->item, ev_out);
        }
        tnt__jitem *it = tnt__jstream_pop(r->js);
        if (it) {
            /* Events wait for the document's @context: the prefixes it
             * declares change their extensions, their values and their hash.
             * Once some wait, the rest queue behind them in document order. */
            if ((!r->ctx_done && !stopped && r->held_bytes <= HOLD_LIMIT) || r->heldhead < r->nheld) {
                if (!hold(r, it)) {
                    tnt__jstream_release(r->js, it);
                    return fail(r, TNT_E_NOMEM, "out of memory");
                }
                continue;
            }
            r->item = it;
            return make_event(r, it, ev_out);
        }
        /* The events before a document-level error stand: it is reported
         * once they are all handed out. */
        if (stopped)
            return fail(r, tnt__jstream_status(r->js), tnt__jstream_errmsg(r->js));
        if (r->bom < 3 && !strip_bom(r))
            return TNT_AGAIN;
        if (avail(r)) {
            tnt_status st;
            if (r->npre) {
                st = tnt__jstream_feed(r->js, r->pre, r->npre);
                r->npre = 0;
            } else {
                size_t n = r->in_len < SLICE ? r->in_len : SLICE;
                st = tnt__jstream_feed(r->js, r->in, n);
                skip(r, n);
            }
            if (st != TNT_OK)
                r->in_len = r->npre = 0;
            continue;
        }
        if (!r->finished)
            return TNT_AGAIN;
        if (!r->js_finished) {
            r->js_finished = true;
            tnt__jstream_finish(r->js);
            r->ctx_done = true; /* no @context will come any more */
            continue;
        }
        if (r->heldhead < r->nheld)
            continue;
        return TNT_DONE;
    }
}

/* ---- protobuf ---- */
/* A varint at p: true with its value and size; false with *used 0 (more
 * bytes needed) or 11 (malformed: over ten bytes or over 64 bits). */
static bool varint(const uint8_t *p, size_t n, uint64_t *v, size_t *used)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n && i < 10; i++) {
        if (i == 9 && p[i] > 1)
            break;
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            *used = i + 1;
            return true;
        }
    }
    *used = n >= 10 ? 11 : 0;
    return false;
}

/* An empty event in place of a half-decoded one, with its index and path. */
static tnt_event *pb_fresh(tnt_reader *r, const tnt_event *old)
{
    tnt_event *ev = tnt__event_new(&r->pb_arena);
    if (ev) {
        ev->index = old->index;
        ev->source_path = old->source_path;
    }
    return ev;
}

static tnt_status pb_event(tnt_reader *r, const uint8_t *data, size_t len, uint32_t field, bool too_big,
                           tnt_event **ev_out)
{
    tnt__arena_reset(&r->pb_arena);
    tnt_event *ev = tnt__event_new(&r->pb_arena);
    if (!ev)
        return fail(r, TNT_E_NOMEM, "out of memory");
    bool is_event = field == TNT__PB_BATCH_EVENTS;
    ev->index = r->index;
    ev->source_path = tnt__arena_item_path(&r->pb_arena, is_event ? "$.events" : "$.reports",
                                           r->pb_count[is_event ? 0 : 1]++);
    bool ok = ev->source_path != NULL;
    if (ok && too_big) {
        ok = tnt__event_diag(ev, "TOO_BIG", ev->source_path, "message larger than %zu bytes", r->opts.max_event_bytes);
    } else if (ok && is_event) {
        tnt_status st = tnt__proto_decode_event(ev, data, len);
        if (st == TNT_E_NOMEM)
            return fail(r, st, "out of memory");
        if (st != TNT_OK) /* what was decoded before the error is dropped */
            ev = pb_fresh(r, ev);
        ok = ev && (st == TNT_OK ? tnt__pipeline_run(ev, &r->pipe)
                                 : tnt__event_diag(ev, "SYNTAX", ev->source_path, "%s", tnt_error_last()));
    } else if (ok) {
        tnt__report rep;
        tnt_status st = tnt__proto_decode_report(&rep, &r->pb_arena, data, len);
        if (st == TNT_E_NOMEM)
            return fail(r, st, "out of memory");
        if (st != TNT_OK)
            ok = tnt__event_diag(ev, "SYNTAX", ev->source_path, "%s", tnt_error_last());
        else
            ok = tnt__report_to_event(ev, &rep, ev->source_path, r->pipe.idp, r->pipe.ids) &&
                 (ev->n_diags || tnt__pipeline_run(ev, &r->pipe));
    }
    if (!ok)
        return fail(r, TNT_E_NOMEM, "out of memory");
    r->index++;
    if (ev->n_diags)
        r->rejected++;
    else
        r->valid++;
    *ev_out = ev;
    return TNT_OK;
}

/* The key and length of the next Batch field, gathered in r->pb.
 * TNT_OK: *f is set up; TNT_AGAIN: more input needed; TNT_DONE; or an error. */
static tnt_status pb_header(tnt_reader *r, pbframe *f)
{
    take(r, &r->pb, r->pb.len < 20 ? 20 - r->pb.len : 0); /* a key and a length: at most 20 bytes */
    if (r->pb.oom)
        return fail(r, TNT_E_NOMEM, "out of memory");
    const uint8_t *p = (const uint8_t *)r->pb.data;
    uint64_t key = 0, len = 0;
    size_t used = 0, used2 = 0;
    if (!(r->pb.len && varint(p, r->pb.len, &key, &used) && varint(p + used, r->pb.len - used, &len, &used2))) {
        if (used == 11 || used2 == 11)
            return fail(r, TNT_E_SYNTAX, "malformed protobuf: bad varint");
        if (!r->finished)
            return TNT_AGAIN;
        if (r->pb.len)
            return fail(r, TNT_E_SYNTAX, "malformed protobuf: the batch ends inside a field");
        return TNT_DONE;
    }
    if ((key & 7) != 2)
        return fail(r, TNT_E_SYNTAX, "malformed protobuf: a tnt.v1.Batch holds only length-delimited fields");
    if (key >> 3 == 0 || key >> 3 > 0x1FFFFFFF)
        return fail(r, TNT_E_SYNTAX, "malformed protobuf: bad field number");
    /* Bytes read past the header belong to the payload (or what follows it). */
    unread(r, p + used + used2, r->pb.len - used - used2);
    tnt__buf_reset(&r->pb);
    f->field = (uint32_t)(key >> 3);
    f->need = len;
    f->in_payload = true;
    f->skipping = len > r->opts.max_event_bytes ||
                  (f->field != TNT__PB_BATCH_EVENTS && f->field != TNT__PB_BATCH_REPORTS);
    return TNT_OK;
}

static tnt_status proto_next(tnt_reader *r, tnt_event **ev_out)
{
    pbframe *f = &r->frame;
    for (;;) {
        if (!f->in_payload) {
            tnt_status st = pb_header(r, f);
            if (st != TNT_OK)
                return st;
        }
        if (f->skipping) {
            size_t n = avail(r) < f->need ? avail(r) : (size_t)f->need;
            skip(r, n);
            f->need -= n;
            if (f->need == 0) {
                f->in_payload = false;
                if (f->field == TNT__PB_BATCH_EVENTS || f->field == TNT__PB_BATCH_REPORTS)
                    return pb_event(r, NULL, 0, f->field, true, ev_out);
                continue; /* an unknown field: ignored, as protobuf readers do */
            }
        } else {
            take(r, &r->pb, (size_t)f->need - r->pb.len);
            if (r->pb.oom)
                return fail(r, TNT_E_NOMEM, "out of memory");
            if (r->pb.len == f->need) {
                f->in_payload = false;
                tnt_status st = pb_event(r, (const uint8_t *)(r->pb.data ? r->pb.data : ""), r->pb.len, f->field,
                                         false, ev_out);
                tnt__buf_reset(&r->pb);
                return st;
            }
        }
        if (!r->finished)
            return TNT_AGAIN;
        return fail(r, TNT_E_SYNTAX, "malformed protobuf: the batch ends inside a message");
    }
}

tnt_status tnt_reader_next(tnt_event **ev_out, tnt_reader *r)
{
    if (!ev_out || !r)
        return TNT_E_MISUSE;
    *ev_out = NULL;
    release_item(r);
    if (r->status != TNT_OK)
        return r->status;
    if (r->format == TNT_FORMAT_AUTO) {
        tnt_status st = detect(r);
        if (st != TNT_OK)
            return st;
    }
    return r->format == TNT_FORMAT_JSON ? json_next(r, ev_out) : proto_next(r, ev_out);
}
