/* Streaming JSON: cuts a capture document into one JSON tree per event, in
 * constant memory, whatever the chunking of the input.
 *
 * The events are the items of $.epcisBody.eventList,
 * $.epcisBody.queryResults.resultsBody.eventList or of a root array; a root
 * object that is not an EPCIS document is itself the one item. Everything
 * else at the top of the document goes into the header tree. */
#ifndef TNT_JSON_STREAM_H
#define TNT_JSON_STREAM_H

#include "model/model.h"

/* Why an item was skipped instead of built. */
enum {
    TNT__SKIP_NONE = 0,
    TNT__SKIP_TOO_BIG,     /* event larger than max_event_bytes */
    TNT__SKIP_TOO_DEEP,    /* nesting deeper than max_depth */
    TNT__SKIP_LIST,        /* a list longer than max_list_items */
    TNT__SKIP_STRING       /* a string longer than max_string_bytes */
};

typedef struct tnt__jitem {
    tnt__arena *arena;     /* holds root and, later, the decoded event */
    tnt__node *root;       /* NULL when skipped */
    size_t index;          /* position among the document's events */
    const char *path;      /* "$.epcisBody.eventList[3]", in arena */
    uint8_t skip;          /* TNT__SKIP_* */
    bool has_nul;          /* a string held U+0000 (cut there) */
} tnt__jitem;

typedef struct tnt__jlimits {
    size_t max_event_bytes, max_depth, max_string_bytes, max_list_items;
    bool plain; /* no event cutting: the whole text is one tree (the header) */
} tnt__jlimits;

typedef struct tnt__jstream tnt__jstream;

tnt__jstream *tnt__jstream_new(const tnt__jlimits *limits);
void tnt__jstream_free(tnt__jstream *js);
void tnt__jstream_reset(tnt__jstream *js);
/* Parse bytes; completed items are queued. On a document-level error
 * returns it (TNT_E_SYNTAX, TNT_E_TOOBIG, TNT_E_NOMEM) with the detail in
 * tnt__jstream_errmsg. */
tnt_status tnt__jstream_feed(tnt__jstream *js, const void *data, size_t len);
tnt_status tnt__jstream_finish(tnt__jstream *js);
/* The next completed item, or NULL. The caller owns it until it hands it
 * back with tnt__jstream_release (its arena is then recycled). */
tnt__jitem *tnt__jstream_pop(tnt__jstream *js);
void tnt__jstream_release(tnt__jstream *js, tnt__jitem *it);
size_t tnt__jstream_queued(const tnt__jstream *js);
const char *tnt__jstream_errmsg(const tnt__jstream *js);
/* The document-level error that stopped the parse (items queued before it
 * can still be popped), or TNT_OK. */
tnt_status tnt__jstream_status(const tnt__jstream *js);
/* The document's top-level members except the events (an object node). */
tnt__node *tnt__jstream_header(tnt__jstream *js);
/* True once the document's @context is final: the root's "@context" member
 * has been read completely, or the root is an array (which has none). */
bool tnt__jstream_context_seen(const tnt__jstream *js);
bool tnt__jstream_finished(const tnt__jstream *js);

/* Parse a whole small JSON text into a tree (for the field view, tests, config). */
tnt__node *tnt__json_parse_tree(tnt__arena *a, const char *text, size_t len, char *err, size_t errlen);

#endif /* TNT_JSON_STREAM_H */
