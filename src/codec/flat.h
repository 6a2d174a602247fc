/* The flat event record: the event model in one pass, read in place.
 *
 * The state store keeps each event it holds in this layout (the event log
 * and the cold archive keep the protobuf form, tnt.v1.Event). It carries
 * exactly what the protobuf form carries, so an event read back from either
 * is the same event, and encoding it again gives the same bytes. */
#ifndef TNT_FLAT_H
#define TNT_FLAT_H

#include "model/model.h"

/* The 3 bytes every flat event record starts with. A protobuf message never
 * starts with 0x00 (field number 0 does not exist). */
#define TNT__FLAT_EVENT_MAGIC "\x00" "E" "\x01"
#define TNT__FLAT_EVENT_MAGIC_LEN 3

/* Append the record of ev to b (b->oom on failure). */
void tnt__flat_encode_event(tnt__buf *b, const tnt_event *ev);
/* true if data starts like a flat event record. */
bool tnt__flat_is_event(const void *data, size_t len);
/* Decode a flat event record into ev (which lives in its arena): every length,
 * count, string, number, time and nesting level is checked.
 * TNT_E_SYNTAX for a malformed record, TNT_E_NOMEM. */
tnt_status tnt__flat_decode_event(tnt_event *ev, const void *data, size_t len);
/* A stored event in either layout: flat, else protobuf. A record that does
 * not read is TNT_E_CORRUPT (stored data), not TNT_E_SYNTAX. */
tnt_status tnt__event_record_decode(tnt_event *ev, const void *data, size_t len);

#endif /* TNT_FLAT_H */
