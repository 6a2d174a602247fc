/* EPCIS 2.0 JSON-LD <-> the event model. */
#ifndef TNT_EPCIS_H
#define TNT_EPCIS_H

#include "core/core.h"
#include "model/model.h"

/* The member names the decoder reads are looked up once, by the JSON tree
 * builder as it meets them (tnt__node.key_id), so that decoding switches on
 * a number. Returns the name's id (never 0) with its static spelling in
 * *name, or 0 for any other name (*name untouched). */
int tnt__epcis_key(const char *s, size_t n, const char **name);

/* A JSON path to a value, built on the stack while walking a tree and
 * formatted only when an error needs it. */
typedef struct tnt__path {
    const struct tnt__path *up;
    const char *key;   /* member name, or NULL for an array index */
    size_t index;
} tnt__path;

/* "$.epcisBody.eventList[3].epcList[1]" into the arena. */
const char *tnt__path_str(tnt__arena *a, const char *base, const tnt__path *p);

/* Namespace prefixes known while decoding: the document's @context, then the
 * event's own @context; the EPCIS default context is always known. */
typedef struct tnt__ctx {
    const tnt__prefix *doc;
    size_t ndoc;
} tnt__ctx;

/* Read an @context value (a URL, an object, or an array of both) into prefix
 * pairs; returns false on a malformed context (out stays valid). */
bool tnt__context_parse(tnt__arena *a, const tnt__node *context, tnt__prefix **out, size_t *n);
/* Namespace IRI of a prefix, or NULL. */
const char *tnt__ctx_resolve(const tnt__ctx *ctx, const tnt__prefix *local, size_t nlocal, const char *prefix,
                             size_t len);
/* The namespace IRI of a default-context prefix ("gs1"), or NULL. */
const char *tnt__default_prefix(const char *prefix, size_t len);

/* Decode an event object into ev (fields and structural errors); returns
 * false only when out of memory. Keys whose prefix the context does not
 * declare are reported through *unresolved (the reader may wait for a
 * later @context). */
bool tnt__epcis_decode(tnt_event *ev, tnt__node *root, const char *path, const tnt__ctx *ctx, bool *unresolved);

/* Write a JSON tree. */
void tnt__json_write_node(tnt__buf *b, const tnt__node *n, bool pretty);

/* Write ev as an EPCIS JSON object (TNT_JSON_* flags). */
void tnt__epcis_write(tnt__buf *b, const tnt_event *ev, unsigned int flags);

#endif /* TNT_EPCIS_H */
