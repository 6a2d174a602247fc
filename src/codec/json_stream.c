/* Streaming JSON (yajl's event parser) cut into one tree per event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "codec/epcis.h"
#include "codec/json_stream.h"

/* What an open container is. */
enum {
    R_ROOT_OBJ,  /* the document object */
    R_ROOT_ARR,  /* a root array: each item is an event */
    R_BODY,      /* $.epcisBody */
    R_QR,        /* $.epcisBody.queryResults */
    R_RB,        /* ...queryResults.resultsBody */
    R_EVLIST,    /* an eventList: each item is an event */
    R_HDR,       /* a container inside the header tree */
    R_EV         /* a container inside an event */
};

typedef struct frame {
    uint8_t role;
    tnt__node *node; /* the node being filled (NULL for R_EVLIST/R_ROOT_ARR) */
} frame;

#define HEADER_LIMIT_FACTOR 4 /* header tree may hold this many max_event_bytes */

struct tnt__jstream {
    yajl_handle h;
    tnt__jlimits lim;

    frame *stack;
    size_t depth, cap;
    const char *key;            /* pending member name (in the current arena, or static) */
    int key_id;                 /* its tnt__epcis_key id */

    tnt__arena hdr_arena;
    tnt__node *header;          /* root object members other than events */
    size_t hdr_deepest;         /* deepest header container, for a root that is one event */
    size_t hdr_size;            /* bytes the header tree holds (nodes and text) */
    bool hdr_has_nul;
    bool context_seen;
    bool root_done;
    bool saw_event_list;
    bool root_is_object;

    tnt__jitem *cur;            /* event being built */
    size_t ev_depth;            /* stack depth at which cur's root was opened */
    size_t ev_start;            /* byte offset where cur started */
    size_t skip_depth;          /* > 0: discarding the rest of cur */
    size_t next_index;

    tnt__jitem **queue;         /* completed items */
    size_t qhead, qlen, qcap;
    tnt__jitem **pool;          /* recycled items with their arenas */
    size_t npool, pcap;

    size_t base;                /* bytes fed before the current chunk */
    size_t last_token;          /* offset of the last token seen */
    tnt_status status;
    char errmsg[256];
};

/* ---- yajl's allocation ----
 * yajl does not survive a failed allocation (it dereferences the result
 * unchecked), so it does not use the library's allocator hooks, whose very
 * purpose includes failing on purpose: it gets the C library's allocator.
 * Its memory is small and bounded: the parser state, a stack as deep as the
 * nesting, and the one token that spans two chunks (limited below). */
static void *ya_malloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void *ya_realloc(void *ctx, void *p, size_t n) { (void)ctx; return realloc(p, n); }
static void ya_free(void *ctx, void *p) { (void)ctx; free(p); }
static yajl_alloc_funcs ya_funcs = {ya_malloc, ya_realloc, ya_free, NULL};

static size_t offset(const tnt__jstream *js) { return js->base + yajl_get_bytes_consumed(js->h); }

static int fail(tnt__jstream *js, tnt_status st, const char *fmt, ...) TNT__PRINTF(3, 4);
static int fail(tnt__jstream *js, tnt_status st, const char *fmt, ...)
{
    if (js->status == TNT_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(js->errmsg, sizeof js->errmsg, fmt, ap);
        va_end(ap);
        js->status = st;
    }
    return 0; /* cancels the parse */
}

static int oom(tnt__jstream *js) { return fail(js, TNT_E_NOMEM, "out of memory"); }

/* ---- items ---- */
static tnt__jitem *item_get(tnt__jstream *js)
{
    if (js->npool)
        return js->pool[--js->npool];
    tnt__jitem *it = tnt__calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->arena = tnt__malloc(sizeof *it->arena);
    if (!it->arena) {
        tnt__free(it);
        return NULL;
    }
    tnt__arena_init(it->arena, 0);
    return it;
}

static void item_recycle(tnt__jstream *js, tnt__jitem *it)
{
    tnt__arena_reset(it->arena);
    if (js->npool == js->pcap) {
        size_t cap = js->pcap ? js->pcap * 2 : 16;
        tnt__jitem **p = tnt__realloc(js->pool, cap * sizeof *p);
        if (!p) {
            tnt__arena_destroy(it->arena);
            tnt__free(it->arena);
            tnt__free(it);
            return;
        }
        js->pool = p;
        js->pcap = cap;
    }
    js->pool[js->npool++] = it;
}

static void item_destroy(tnt__jitem *it)
{
    if (!it)
        return;
    tnt__arena_destroy(it->arena);
    tnt__free(it->arena);
    tnt__free(it);
}

static bool enqueue(tnt__jstream *js, tnt__jitem *it)
{
    if (js->qhead + js->qlen == js->qcap) {
        if (js->qhead > 0) {
            memmove(js->queue, js->queue + js->qhead, js->qlen * sizeof *js->queue);
            js->qhead = 0;
        } else {
            size_t cap = js->qcap ? js->qcap * 2 : 64;
            tnt__jitem **q = tnt__realloc(js->queue, cap * sizeof *q);
            if (!q)
                return false;
            js->queue = q;
            js->qcap = cap;
        }
    }
    js->queue[js->qhead + js->qlen++] = it;
    return true;
}

/* ---- the stack ---- */
static bool push(tnt__jstream *js, uint8_t role, tnt__node *node)
{
    if (js->depth == js->cap) {
        size_t cap = js->cap ? js->cap * 2 : 32;
        frame *s = tnt__realloc(js->stack, cap * sizeof *s);
        if (!s)
            return false;
        js->stack = s;
        js->cap = cap;
    }
    js->stack[js->depth++] = (frame){role, node};
    return true;
}

static frame *top(tnt__jstream *js) { return js->depth ? &js->stack[js->depth - 1] : NULL; }

static tnt__arena *cur_arena(tnt__jstream *js) { return js->cur ? js->cur->arena : &js->hdr_arena; }

static const char *parent_path(tnt__jstream *js)
{
    frame *f = top(js);
    if (f && f->role == R_ROOT_ARR)
        return "$";
    for (size_t i = js->depth; i-- > 0;)
        if (js->stack[i].role == R_RB)
            return "$.epcisBody.queryResults.resultsBody.eventList";
    return "$.epcisBody.eventList";
}

/* Start an item; its first token (taken = its size, already consumed) began it. */
static int begin_event(tnt__jstream *js, size_t taken)
{
    tnt__jitem *it = item_get(js);
    if (!it)
        return oom(js);
    it->root = NULL;
    it->skip = TNT__SKIP_NONE;
    it->has_nul = false;
    it->index = js->next_index++;
    it->path = tnt__arena_item_path(it->arena, parent_path(js), it->index);
    if (!it->path) {
        item_recycle(js, it);
        return oom(js);
    }
    js->cur = it;
    js->ev_depth = js->depth;
    js->ev_start = offset(js) - taken;
    js->skip_depth = 0;
    return 1;
}

static int end_event(tnt__jstream *js)
{
    tnt__jitem *it = js->cur;
    js->cur = NULL;
    js->skip_depth = 0;
    if (!enqueue(js, it)) {
        item_recycle(js, it);
        return oom(js);
    }
    return 1;
}

/* Discard the rest of the current event: it breaks a limit. */
static void skip_event(tnt__jstream *js, uint8_t why, size_t open)
{
    js->cur->skip = why;
    js->cur->root = NULL;
    tnt__arena_reset(js->cur->arena);
    js->cur->path = tnt__arena_item_path(js->cur->arena, parent_path(js), js->cur->index);
    js->skip_depth = open;
    js->depth = js->ev_depth; /* frames of the event are gone */
}

/* The header is held whole, so it answers to the same limits as an event,
 * but for the whole document: breaking one stops the document. Its depth
 * allows for the frames above an event list ($.epcisBody.queryResults.
 * resultsBody.eventList); a root that turns out to be one event is held to
 * max_depth by tnt__jstream_finish. */
#define HEADER_EXTRA_DEPTH 5

static bool header_limits(tnt__jstream *js, const frame *f, size_t len, const char *key, bool container)
{
    size_t depth = js->depth + (container ? 1 : 0);
    if (depth > js->hdr_deepest)
        js->hdr_deepest = depth;
    if (depth > js->lim.max_depth + HEADER_EXTRA_DEPTH)
        return fail(js, TNT_E_TOOBIG, "at byte %zu: the document is nested deeper than %zu levels", offset(js),
                    js->lim.max_depth + HEADER_EXTRA_DEPTH);
    if (len > js->lim.max_string_bytes)
        return fail(js, TNT_E_TOOBIG, "at byte %zu: a string longer than %zu bytes", offset(js),
                    js->lim.max_string_bytes);
    if (f && f->node && f->node->count >= js->lim.max_list_items)
        return fail(js, TNT_E_TOOBIG, "at byte %zu: a list or object of more than %zu items", offset(js),
                    js->lim.max_list_items);
    js->hdr_size += sizeof(tnt__node) + len + (key ? strlen(key) : 0);
    if (!js->lim.plain && js->hdr_size > js->lim.max_event_bytes * HEADER_LIMIT_FACTOR)
        return fail(js, TNT_E_TOOBIG, "at byte %zu: document header larger than %zu bytes", offset(js),
                    js->lim.max_event_bytes * HEADER_LIMIT_FACTOR);
    return true;
}

/* yajl checks the shape of UTF-8 sequences only: overlong forms, surrogates
 * and code points past U+10FFFF get through, and would make invalid JSON
 * and protobuf on output. */
static int bad_utf8(tnt__jstream *js)
{
    return fail(js, TNT_E_SYNTAX, "at byte %zu: invalid UTF-8 (an overlong form, a surrogate or beyond U+10FFFF)",
                offset(js));
}

/* Valid UTF-8; *nul tells whether it holds U+0000. One pass in the usual
 * case, as the check that refuses U+0000 also finds it. */
static bool text_ok(const char *s, size_t len, bool *nul)
{
    if (tnt__utf8_valid(s, len, false))
        return true;
    *nul = memchr(s, '\0', len) != NULL;
    return tnt__utf8_valid(s, len, true);
}

/* Attach a new node to the current container; handles the top-level roles. */
static int add_value(tnt__jstream *js, uint8_t kind, const char *str, size_t len, bool container)
{
    js->last_token = offset(js);
    bool nul = false;
    if (kind == TNT__N_STRING && !text_ok(str, len, &nul))
        return bad_utf8(js);
    if (js->cur && js->skip_depth) {
        if (container)
            js->skip_depth++;
        return 1;
    }
    frame *f = top(js);
    const char *key = js->key;
    int key_id = key ? js->key_id : 0;
    js->key = NULL;

    /* Where does this value go? */
    if (!f) { /* the root */
        if (js->lim.plain && container) {
            js->header = tnt__node_new(&js->hdr_arena, kind, NULL, NULL);
            return js->header && push(js, R_HDR, js->header) ? 1 : oom(js);
        }
        if (kind == TNT__N_OBJECT) {
            js->root_is_object = true;
            js->header = tnt__node_new(&js->hdr_arena, TNT__N_OBJECT, NULL, NULL);
            return js->header && push(js, R_ROOT_OBJ, js->header) ? 1 : oom(js);
        }
        if (kind == TNT__N_ARRAY) {
            js->context_seen = true; /* a root array has no document @context to wait for */
            js->header = tnt__node_new(&js->hdr_arena, TNT__N_OBJECT, NULL, NULL);
            return js->header && push(js, R_ROOT_ARR, NULL) ? 1 : oom(js);
        }
        return fail(js, TNT_E_INVALID, "the document is a JSON %s, not an object or array",
                    kind == TNT__N_STRING ? "string" : kind == TNT__N_NUMBER ? "number" : "literal");
    }
    if (!js->cur) {
        if (f->role == R_EVLIST || f->role == R_ROOT_ARR) {
            js->saw_event_list = true;
            if (!begin_event(js, container ? 1 : len))
                return 0;
        } else if (container && kind == TNT__N_OBJECT && key &&
                   ((f->role == R_ROOT_OBJ && strcmp(key, "epcisBody") == 0) ||
                    (f->role == R_BODY && strcmp(key, "queryResults") == 0) ||
                    (f->role == R_QR && strcmp(key, "resultsBody") == 0))) {
            uint8_t role = f->role == R_ROOT_OBJ ? R_BODY : f->role == R_BODY ? R_QR : R_RB;
            tnt__node *n = tnt__node_new(&js->hdr_arena, TNT__N_OBJECT, key, NULL);
            if (!n)
                return oom(js);
            tnt__node_append(f->node, n);
            return push(js, role, n) ? 1 : oom(js);
        } else if (container && kind == TNT__N_ARRAY && key && strcmp(key, "eventList") == 0 &&
                   (f->role == R_BODY || f->role == R_RB)) {
            return push(js, R_EVLIST, NULL) ? 1 : oom(js);
        }
    }

    tnt__arena *a = cur_arena(js);
    if (js->cur) {
        size_t open = js->depth - js->ev_depth;
        if (js->last_token - js->ev_start > js->lim.max_event_bytes) { /* last_token: this value's offset */
            skip_event(js, TNT__SKIP_TOO_BIG, open + (container ? 1 : 0));
            return js->skip_depth ? 1 : end_event(js);
        }
        if (container && open + 1 > js->lim.max_depth) {
            skip_event(js, TNT__SKIP_TOO_DEEP, open + 1);
            return 1;
        }
        if (f->node && f->node->count >= js->lim.max_list_items) {
            skip_event(js, TNT__SKIP_LIST, open + (container ? 1 : 0));
            return js->skip_depth ? 1 : end_event(js);
        }
        if (len > js->lim.max_string_bytes) {
            skip_event(js, TNT__SKIP_STRING, open);
            return js->skip_depth ? 1 : end_event(js);
        }
    } else if (!header_limits(js, f, len, key, container)) {
        return 0;
    }

    char *s = NULL;
    if (str) {
        if (!(s = tnt__arena_strndup(a, str, len)))
            return oom(js);
        if (nul)
            *(js->cur ? &js->cur->has_nul : &js->hdr_has_nul) = true;
    }
    tnt__node *n = tnt__node_new(a, kind, key, s);
    if (!n)
        return oom(js);
    n->key_id = (uint8_t)key_id;
    if (js->cur && js->depth == js->ev_depth) {
        js->cur->root = n; /* the event's root */
        if (!container)
            return end_event(js);
    } else if (f->node) {
        tnt__node_append(f->node, n);
        if (!js->cur && f->role == R_ROOT_OBJ && key && strcmp(key, "@context") == 0 && !container)
            js->context_seen = true;
    }
    if (container)
        return push(js, js->cur ? R_EV : R_HDR, n) ? 1 : oom(js);
    return 1;
}

static int end_container(tnt__jstream *js)
{
    js->last_token = offset(js);
    if (js->cur && js->skip_depth) {
        if (--js->skip_depth == 0)
            return end_event(js);
        return 1;
    }
    if (!js->depth)
        return fail(js, TNT_E_SYNTAX, "unbalanced brackets");
    frame f = js->stack[--js->depth];
    if (js->cur && js->depth == js->ev_depth) {
        if (js->last_token - js->ev_start > js->lim.max_event_bytes)
            skip_event(js, TNT__SKIP_TOO_BIG, 0); /* its last bytes (say, whitespace) were over */
        return end_event(js);
    }
    if (!js->cur && js->depth == 0)
        js->root_done = true;
    if (!js->cur && f.role == R_HDR && js->depth == 1 && js->stack[0].role == R_ROOT_OBJ && f.node->key &&
        strcmp(f.node->key, "@context") == 0)
        js->context_seen = true;
    return 1;
}

static int cb_null(void *ctx) { return add_value(ctx, TNT__N_NULL, NULL, 0, false); }
static int cb_bool(void *ctx, int b) { return add_value(ctx, b ? TNT__N_TRUE : TNT__N_FALSE, NULL, 0, false); }
static int cb_number(void *ctx, const char *s, size_t len) { return add_value(ctx, TNT__N_NUMBER, s, len, false); }
static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    return add_value(ctx, TNT__N_STRING, (const char *)s, len, false);
}
static int cb_start_map(void *ctx) { return add_value(ctx, TNT__N_OBJECT, NULL, 0, true); }
static int cb_start_array(void *ctx) { return add_value(ctx, TNT__N_ARRAY, NULL, 0, true); }
static int cb_end(void *ctx) { return end_container(ctx); }

static int cb_key(void *ctx, const unsigned char *s, size_t len)
{
    tnt__jstream *js = ctx;
    js->last_token = offset(js);
    /* The names of the standard fields are neither checked nor copied: they
     * are known ASCII, and the node points at their static spelling. */
    const char *known = NULL;
    int id = tnt__epcis_key((const char *)s, len, &known);
    bool nul = false;
    if (!id && !text_ok((const char *)s, len, &nul))
        return bad_utf8(js);
    if (js->cur && js->skip_depth)
        return 1;
    if (js->cur && len > js->lim.max_string_bytes) {
        skip_event(js, TNT__SKIP_STRING, js->depth - js->ev_depth);
        return 1;
    }
    if (!js->cur && len > js->lim.max_string_bytes)
        return fail(js, TNT_E_TOOBIG, "at byte %zu: a member name longer than %zu bytes", offset(js),
                    js->lim.max_string_bytes);
    js->key_id = id;
    js->key = id ? known : tnt__arena_strndup(cur_arena(js), (const char *)s, len);
    if (js->key && nul)
        *(js->cur ? &js->cur->has_nul : &js->hdr_has_nul) = true;
    return js->key ? 1 : oom(js);
}

static const yajl_callbacks callbacks = {cb_null,      cb_bool, NULL,   NULL,         cb_number, cb_string,
                                         cb_start_map, cb_key,  cb_end, cb_start_array, cb_end};

static bool open_parser(tnt__jstream *js)
{
    js->h = yajl_alloc(&callbacks, &ya_funcs, js);
    return js->h != NULL;
}

tnt__jstream *tnt__jstream_new(const tnt__jlimits *limits)
{
    tnt__jstream *js = tnt__calloc(1, sizeof *js);
    if (!js)
        return NULL;
    js->lim = *limits;
    tnt__arena_init(&js->hdr_arena, 0);
    if (!open_parser(js)) {
        tnt__free(js);
        return NULL;
    }
    return js;
}

void tnt__jstream_reset(tnt__jstream *js)
{
    if (js->h)
        yajl_free(js->h);
    js->h = NULL;
    if (js->cur)
        item_recycle(js, js->cur);
    while (js->qlen) {
        item_recycle(js, js->queue[js->qhead++]);
        js->qlen--;
    }
    js->cur = NULL;
    js->qhead = 0;
    js->depth = 0;
    js->key = NULL;
    js->header = NULL;
    tnt__arena_reset(&js->hdr_arena);
    js->context_seen = js->root_done = js->saw_event_list = js->root_is_object = js->hdr_has_nul = false;
    js->hdr_deepest = js->hdr_size = 0;
    js->skip_depth = js->next_index = js->base = js->last_token = 0;
    js->status = TNT_OK;
    js->errmsg[0] = '\0';
    open_parser(js);
}

void tnt__jstream_free(tnt__jstream *js)
{
    if (!js)
        return;
    tnt__jstream_reset(js);
    if (js->h)
        yajl_free(js->h);
    for (size_t i = 0; i < js->npool; i++)
        item_destroy(js->pool[i]);
    tnt__free(js->pool);
    tnt__free(js->queue);
    tnt__free(js->stack);
    tnt__arena_destroy(&js->hdr_arena);
    tnt__free(js);
}

static tnt_status parse_error(tnt__jstream *js, const unsigned char *data, size_t len)
{
    if (js->status != TNT_OK)
        return js->status;
    unsigned char *msg = yajl_get_error(js->h, 0, data, len);
    size_t at = offset(js);
    fail(js, TNT_E_SYNTAX, "at byte %zu: %s", at, msg ? (const char *)msg : "malformed JSON");
    /* yajl says "parse error: <what>\n" — keep the what. */
    char *nl = strchr(js->errmsg, '\n');
    if (nl)
        *nl = '\0';
    if (msg)
        yajl_free_error(js->h, msg);
    return js->status;
}

tnt_status tnt__jstream_feed(tnt__jstream *js, const void *data, size_t len)
{
    if (js->status != TNT_OK)
        return js->status;
    if (!js->h)
        return fail(js, TNT_E_NOMEM, "out of memory"), js->status;
    yajl_status ys = yajl_parse(js->h, data, len);
    if (ys != yajl_status_ok)
        return parse_error(js, data, len);
    js->base += len;
    /* yajl buffers a token that spans chunks; bound it. */
    size_t limit = js->lim.max_string_bytes > js->lim.max_event_bytes ? js->lim.max_string_bytes
                                                                      : js->lim.max_event_bytes;
    if (js->base - js->last_token > limit + 65536)
        return fail(js, TNT_E_TOOBIG, "at byte %zu: a token longer than %zu bytes", js->last_token, limit),
               js->status;
    return TNT_OK;
}

tnt_status tnt__jstream_finish(tnt__jstream *js)
{
    if (js->status != TNT_OK)
        return js->status;
    if (yajl_complete_parse(js->h) != yajl_status_ok)
        return parse_error(js, NULL, 0);
    if (!js->root_done)
        return fail(js, TNT_E_SYNTAX, "at byte %zu: the document ends early", js->base), js->status;
    /* A root object that held no event list is itself the event. */
    if (js->root_is_object && !js->saw_event_list && !tnt__node_get(js->header, "epcisBody")) {
        tnt__jitem *it = item_get(js);
        if (!it)
            return fail(js, TNT_E_NOMEM, "out of memory"), js->status;
        it->index = js->next_index++;
        it->path = "$";
        it->skip = js->base > js->lim.max_event_bytes ? TNT__SKIP_TOO_BIG
                   : js->hdr_deepest > js->lim.max_depth ? TNT__SKIP_TOO_DEEP
                                                         : TNT__SKIP_NONE;
        it->has_nul = js->hdr_has_nul;
        it->root = it->skip ? NULL : tnt__node_copy(it->arena, js->header);
        if ((!it->skip && !it->root) || !enqueue(js, it)) {
            item_recycle(js, it);
            return fail(js, TNT_E_NOMEM, "out of memory"), js->status;
        }
        js->header = tnt__node_new(&js->hdr_arena, TNT__N_OBJECT, NULL, NULL);
    }
    return TNT_OK;
}

tnt__jitem *tnt__jstream_pop(tnt__jstream *js)
{
    if (!js->qlen)
        return NULL;
    tnt__jitem *it = js->queue[js->qhead++];
    if (--js->qlen == 0)
        js->qhead = 0;
    return it;
}

void tnt__jstream_release(tnt__jstream *js, tnt__jitem *it)
{
    if (it)
        item_recycle(js, it);
}

size_t tnt__jstream_queued(const tnt__jstream *js) { return js->qlen; }
const char *tnt__jstream_errmsg(const tnt__jstream *js) { return js->errmsg; }
tnt_status tnt__jstream_status(const tnt__jstream *js) { return js->status; }
tnt__node *tnt__jstream_header(tnt__jstream *js) { return js->header; }
bool tnt__jstream_context_seen(const tnt__jstream *js) { return js->context_seen; }
bool tnt__jstream_finished(const tnt__jstream *js) { return js->root_done; }

/* ---- whole small texts ---- */
tnt__node *tnt__json_parse_tree(tnt__arena *a, const char *text, size_t len, char *err, size_t errlen)
{
    tnt__jlimits lim = {len + 1, 1000, len + 1, SIZE_MAX, true};
    tnt__jstream *js = tnt__jstream_new(&lim);
    tnt__node *out = NULL;
    if (!js) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    tnt_status st = tnt__jstream_feed(js, text, len);
    if (st == TNT_OK)
        st = tnt__jstream_finish(js);
    if (st != TNT_OK)
        snprintf(err, errlen, "%s", js->errmsg);
    else if (!(out = tnt__node_copy(a, js->header)))
        snprintf(err, errlen, "out of memory");
    tnt__jstream_free(js);
    return out;
}
