/* The steps after decoding: validate -> hash -> normalise. */
#ifndef TNT_PIPELINE_H
#define TNT_PIPELINE_H

#include "model/model.h"
#include "tnt/document.h"

/* SHA-256 kept ready across events (see hash.c). */
typedef struct tnt__sha256 tnt__sha256;
tnt__sha256 *tnt__sha256_new(void); /* NULL when OpenSSL has no SHA-256 to give */
void tnt__sha256_free(tnt__sha256 *s);

/* Identifiers parsed once per event (see idmemo.c): a string's canonical
 * Digital Link as tnt_id_parse with the reader's options gives it, or NULL
 * when it is not a valid identifier. */
typedef struct tnt__idmemo_entry tnt__idmemo_entry;
typedef struct tnt__idmemo {
    tnt__idmemo_entry *v;
    uint32_t n, cap;
} tnt__idmemo;

/* True when text was recorded, with its canonical form (or NULL) in *canon.
 * m may be NULL. */
bool tnt__idmemo_get(const tnt__idmemo *m, const char *text, const char **canon);
/* Record text (an event string, never scratch memory) and its canonical
 * form, held in a; false only when out of memory. m may be NULL. */
bool tnt__idmemo_put(tnt__idmemo *m, tnt__arena *a, const char *text, const char *canon);
/* Forget everything: a new event. */
void tnt__idmemo_clear(tnt__idmemo *m);

typedef struct tnt__pipeline {
    unsigned int flags;           /* TNT_READ_* */
    int64_t future_skew_ms;       /* < 0: no check */
    int64_t now_ms;               /* 0: the clock */
    unsigned int epc_format;      /* tnt_epc_format */
    const tnt_id_options *ids;    /* may be NULL */
    tnt_id *idp;                  /* the reader's identifier parser */
    tnt__arena *scratch;          /* reset after each use; may be NULL */
    const char **ignore;          /* the document's ignoreFields (hash only) */
    size_t nignore;
    tnt__sha256 *sha;             /* may be NULL: a one-shot digest per event */
    tnt__idmemo *ids_seen;        /* the current event's; may be NULL */
} tnt__pipeline;

/* Check the EPCIS 2.0 rules; errors are added to ev. False only on OOM. */
bool tnt__validate(tnt_event *ev, const tnt__pipeline *p);
/* Compute the canonical event hash ID into ev->hash_id. p may be NULL.
 * False only on OOM. */
bool tnt__hash(tnt_event *ev, const tnt__pipeline *p);
/* The pre-hash string (for tests and `tnt hash --prehash`); caller frees with tnt__free. */
char *tnt__hash_prehash(const tnt_event *ev);
/* Rewrite ev to the canonical forms. False only on OOM. */
bool tnt__normalize(tnt_event *ev, const tnt__pipeline *p);
/* Run the enabled steps on a decoded event. */
bool tnt__pipeline_run(tnt_event *ev, const tnt__pipeline *p);

#endif /* TNT_PIPELINE_H */
