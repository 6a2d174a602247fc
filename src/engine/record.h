/* Log records (tnt.v1.LogRecord): an encoded event, a master-data record or a scan. */
#ifndef TNT_RECORD_H
#define TNT_RECORD_H

#include "core/core.h"
#include "tnt_store.pb.h"

void *tnt__record_event(tnt__arena *a, const void *event_pb, size_t event_len, size_t *len);
void *tnt__record_master(tnt__arena *a, const tnt_v1_MasterRecord *m, size_t *len);
void *tnt__record_scan(tnt__arena *a, const tnt_v1_Scan *scan, size_t *len);

enum { TNT__REC_EVENT = 0, TNT__REC_MASTER = 1, TNT__REC_SCAN = 2 };

/* What a log record holds: points *event_pb into rec (no copy), or fills
 * *master or *scan (either may be NULL when the caller wants events only). */
typedef struct tnt__record {
    int kind;                   /* TNT__REC_* */
    const void *event_pb;
    size_t event_len;
    tnt_v1_MasterRecord *master;
    tnt_v1_Scan *scan;
} tnt__record;

tnt_status tnt__record_read(const void *rec, size_t len, tnt__record *out);

/* SHA-256 of an event's stored bytes: what the history chain folds. */
void tnt__body_digest(uint8_t out[32], const void *event_pb, size_t len);

#endif /* TNT_RECORD_H */
