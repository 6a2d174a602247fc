/* The steps after decoding: validate -> hash -> normalise. */
#ifndef TNT_PIPELINE_H
#define TNT_PIPELINE_H

#include "model/model.h"
#include "tnt/document.h"

/* SHA-256 kept ready across events (see hash.c). */
typedef struct tnt__sha256 tnt__sha256;
tnt__sha256 *tnt__sha256_new(void); /* NULL when OpenSSL has no SHA-256 to give */
void tnt__sha256_free(tnt__sha256 *s);

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
