/* The protobuf wire form (proto/tnt.proto) <-> the event model, with nanopb. */
#ifndef TNT_PROTO_H
#define TNT_PROTO_H

#include "codec/report.h"
#include "model/model.h"

/* Encode one tnt.v1.Event; *out is caller-owned (tnt__free). */
tnt_status tnt__proto_encode_event(void **out, size_t *len, const tnt_event *ev);
/* Decode one tnt.v1.Event into ev (which lives in its arena). */
tnt_status tnt__proto_decode_event(tnt_event *ev, const void *data, size_t len);
/* Decode one tnt.v1.Report into r (strings in the arena). */
tnt_status tnt__proto_decode_report(tnt__report *r, tnt__arena *a, const void *data, size_t len);
/* Encode one tnt.v1.Report. */
tnt_status tnt__proto_encode_report(void **out, size_t *len, const tnt__report *r);

/* JSON's number syntax (a node's number lexeme is written into JSON as it is). */
bool tnt__json_number(const char *s);

/* Field numbers of tnt.v1.Batch, for the streaming reader. */
enum { TNT__PB_BATCH_EVENTS = 1, TNT__PB_BATCH_REPORTS = 2 };

#endif /* TNT_PROTO_H */
