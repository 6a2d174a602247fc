/* Log records (tnt.v1.LogRecord): an encoded event or a master-data record. */
#ifndef TNT_RECORD_H
#define TNT_RECORD_H

#include "core/core.h"
#include "tnt_store.pb.h"

void *tnt__record_event(tnt__arena *a, const void *event_pb, size_t event_len, size_t *len);
void *tnt__record_master(tnt__arena *a, const tnt_v1_MasterRecord *m, size_t *len);
/* Points *event_pb into rec (no copy) or fills *master. */
tnt_status tnt__record_read(const void *rec, size_t len, const void **event_pb, size_t *event_len,
                            tnt_v1_MasterRecord *master, bool *is_master);

#endif /* TNT_RECORD_H */
