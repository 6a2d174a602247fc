/* The simple movement report, normalised into an EPCIS event. */
#ifndef TNT_REPORT_H
#define TNT_REPORT_H

#include "model/model.h"
#include "tnt/ids.h"

typedef struct tnt__cond {
    const char *type;   /* "temperature", "humidity", ... or a gs1 MeasurementType */
    double value;
    const char *uom;    /* NULL: the type's default unit */
} tnt__cond;

typedef struct tnt__report {
    const char *product_id;
    const char *event_type;    /* commission, pack, ship, receive, store, sell, ... */
    const char *location;      /* GLN/SGLN/URI, "lat,lon", or a name */
    bool has_latlon;
    double lat, lon;
    tnt__time timestamp;
    tnt__cond *conds;
    uint32_t n_conds;
    const char *device_id;
    /* optional members of the JSON form */
    const char *container;     /* pack/unpack: the case or pallet */
    const char *batch;         /* commission: lot number */
    const char *expiry;        /* commission: expiry date YYYY-MM-DD */
    const char *destination;   /* ship: where to */
    const char *source;        /* receive: where from */
    const char *event_id;
    double quantity;
    bool has_quantity;
} tnt__report;

/* Read a report object (JSON); errors go to ev with paths under base. */
bool tnt__report_decode(tnt_event *ev, tnt__report *r, const tnt__node *obj, const char *base);
/* Build the EPCIS event the report stands for, identifiers in canonical form
 * (parsed with idp). Errors go to ev. Returns false on OOM. */
bool tnt__report_to_event(tnt_event *ev, const tnt__report *r, const char *base, tnt_id *idp,
                          const tnt_id_options *ids);
/* Is this JSON object a simple report rather than an EPCIS event? */
bool tnt__report_looks_like(const tnt__node *obj);

#endif /* TNT_REPORT_H */
