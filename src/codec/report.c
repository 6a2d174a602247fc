/* The simple movement report (docs/simple-report.md) -> an EPCIS event.
 *
 *   {"product_id": "(01)09506000134352(21)ABC123", "event_type": "ship",
 *    "location": "urn:epc:id:sgln:9506000.13435.0", "timestamp": "2024-03-01T10:00:00Z",
 *    "condition": {"temperature": 4.2, "humidity": 55}, "device_id": "urn:epc:id:giai:9506000.17"}
 *
 * becomes an ObjectEvent (an AggregationEvent for pack/unpack with a
 * container) whose action, bizStep and disposition follow from event_type,
 * with the readings as one sensor element. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/epcis.h"
#include "codec/report.h"
#include "ingest/cbv.h"
#include "ingest/units.h"
#include "tnt/ids.h"

#define TNT_NS "https://libtnt.org/ns/"

typedef struct movement {
    const char *name;
    uint8_t action;
    const char *biz_step;
    const char *disposition;
    bool in_transit; /* no bizLocation: the goods have left the place */
} movement;

static const movement movements[] = {
    {"commission", TNT_ACTION_ADD, "commissioning", "active", false},
    {"pack", TNT_ACTION_OBSERVE, "packing", "in_progress", false},
    {"unpack", TNT_ACTION_OBSERVE, "unpacking", "in_progress", false},
    {"load", TNT_ACTION_OBSERVE, "loading", "in_transit", true},
    {"ship", TNT_ACTION_OBSERVE, "shipping", "in_transit", true},
    {"depart", TNT_ACTION_OBSERVE, "departing", "in_transit", true},
    {"transport", TNT_ACTION_OBSERVE, "transporting", "in_transit", true},
    {"arrive", TNT_ACTION_OBSERVE, "arriving", "in_progress", false},
    {"unload", TNT_ACTION_OBSERVE, "unloading", "in_progress", false},
    {"receive", TNT_ACTION_OBSERVE, "receiving", "in_progress", false},
    {"store", TNT_ACTION_OBSERVE, "storing", "sellable_not_accessible", false},
    {"stock", TNT_ACTION_OBSERVE, "stocking", "sellable_accessible", false},
    {"sell", TNT_ACTION_OBSERVE, "retail_selling", "retail_sold", true},
    {"dispense", TNT_ACTION_OBSERVE, "dispensing", "dispensed", true},
    {"return", TNT_ACTION_OBSERVE, "receiving", "returned", false},
    {"inspect", TNT_ACTION_OBSERVE, "inspecting", NULL, false},
    {"observe", TNT_ACTION_OBSERVE, NULL, NULL, false},
    {"sense", TNT_ACTION_OBSERVE, "sensor_reporting", NULL, false},
    {"hold", TNT_ACTION_OBSERVE, "holding", "non_sellable_other", false},
    {"recall", TNT_ACTION_OBSERVE, "holding", "recalled", false},
    {"damage", TNT_ACTION_OBSERVE, "inspecting", "damaged", false},
    {"expire", TNT_ACTION_OBSERVE, "inspecting", "expired", false},
    {"steal", TNT_ACTION_OBSERVE, NULL, "stolen", true},
    {"destroy", TNT_ACTION_OBSERVE, "destroying", "destroyed", true},
    {"decommission", TNT_ACTION_DELETE, "decommissioning", "inactive", true},
};

/* Condition names -> measurement type and the unit a bare number is in. */
static const struct {
    const char *name, *type, *uom;
} conditions[] = {
    {"temperature", "Temperature", "CEL"},  {"humidity", "RelativeHumidity", "P1"},
    {"shock", "Acceleration", "K40"},       {"acceleration", "Acceleration", "K40"},
    {"light", "Illuminance", "LUX"},        {"illuminance", "Illuminance", "LUX"},
    {"pressure", "Pressure", "A97"},        {"speed", "Speed", "KMH"},
    {"tilt", "Angle", "DD"},                {"voltage", "Voltage", "VLT"},
};

static const movement *find_movement(const char *name)
{
    for (size_t i = 0; i < sizeof movements / sizeof movements[0]; i++)
        if (strcmp(movements[i].name, name) == 0)
            return &movements[i];
    return NULL;
}

bool tnt__report_looks_like(const tnt__node *obj)
{
    return !tnt__node_get(obj, "type") && (tnt__node_get(obj, "product_id") || tnt__node_get(obj, "event_type"));
}

#define KEY(up_, k_) (&(tnt__path){(up_), (k_), 0})

static bool diag(tnt_event *ev, const char *base, const char *code, const char *key, const char *fmt, ...)
    TNT__PRINTF(5, 6);
static bool diag(tnt_event *ev, const char *base, const char *code, const char *key, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *path = tnt__path_str(ev->arena, base, key ? KEY(NULL, key) : NULL);
    return path && tnt__event_diag(ev, code, path, "%s", msg);
}

/* A timestamp: xsd:dateTime (offset optional: UTC), or seconds / milliseconds since the epoch. */
static bool read_time(tnt__time *t, const tnt__node *n)
{
    if (n->kind == TNT__N_NUMBER) {
        double v;
        if (!tnt__num_parse(&v, n->str) || v < 0 || v > 1e14)
            return false;
        t->ms = (int64_t)(v < 1e11 ? v * 1000 : v);
        t->off = 0;
        t->set = true;
        return true;
    }
    if (n->kind != TNT__N_STRING || strlen(n->str) < 19 || strlen(n->str) > 40)
        return false;
    char buf[48];
    snprintf(buf, sizeof buf, "%s", n->str);
    if (buf[10] == ' ')
        buf[10] = 'T';
    if (tnt__time_parse(t, buf))
        return true;
    strcat(buf, "Z"); /* no offset given: UTC */
    return tnt__time_parse(t, buf);
}

static bool read_latlon(tnt__report *r, const tnt__node *n)
{
    if (n->kind == TNT__N_OBJECT) {
        const tnt__node *la = tnt__node_get(n, "lat"), *lo = tnt__node_get(n, "lon");
        if (!la)
            la = tnt__node_get(n, "latitude");
        if (!lo)
            lo = tnt__node_get(n, "longitude");
        if (!la || !lo || la->kind != TNT__N_NUMBER || lo->kind != TNT__N_NUMBER)
            return false;
        r->has_latlon = tnt__num_parse(&r->lat, la->str) && tnt__num_parse(&r->lon, lo->str);
        return r->has_latlon;
    }
    if (n->kind != TNT__N_STRING)
        return false;
    char *end;
    locale_t old = tnt__c_numeric_begin();
    double lat = strtod(n->str, &end);
    bool ok = end != n->str && *end == ',';
    const char *p = end + 1;
    while (ok && *p == ' ')
        p++;
    double lon = ok ? strtod(p, &end) : 0;
    tnt__c_numeric_end(old);
    if (!ok || end == p || *end)
        return false;
    r->lat = lat;
    r->lon = lon;
    r->has_latlon = true;
    return true;
}

static const char *opt_str(tnt_event *ev, const tnt__node *obj, const char *key, const char *base, bool *ok)
{
    const tnt__node *n = tnt__node_get(obj, key);
    if (!n || n->kind == TNT__N_NULL)
        return NULL;
    if (n->kind == TNT__N_STRING && n->str[0])
        return n->str;
    *ok = diag(ev, base, "TYPE", key, "%s must be a non-empty string", key) && *ok;
    return NULL;
}

static bool read_conditions(tnt_event *ev, tnt__report *r, const tnt__node *c, const char *base)
{
    if (c->kind != TNT__N_OBJECT)
        return diag(ev, base, "TYPE", "condition", "condition must be an object of readings");
    r->conds = tnt__arena_zalloc(ev->arena, (c->count ? c->count : 1) * sizeof *r->conds);
    if (!r->conds)
        return false;
    for (const tnt__node *m = c->child; m; m = m->next) {
        tnt__cond *k = &r->conds[r->n_conds];
        k->type = m->key;
        const tnt__node *val = m;
        if (m->kind == TNT__N_OBJECT) { /* {"value": 39.5, "uom": "FAH"} */
            val = tnt__node_get(m, "value");
            const tnt__node *u = tnt__node_get(m, "uom");
            if (u && u->kind == TNT__N_STRING)
                k->uom = u->str;
            else if (u && !diag(ev, base, "TYPE", "condition", "condition.%s.uom must be a string", m->key))
                return false;
        }
        if (!val || val->kind != TNT__N_NUMBER || !tnt__num_parse(&k->value, val->str)) {
            if (!diag(ev, base, "TYPE", "condition", "condition.%s must be a number or {\"value\", \"uom\"}", m->key))
                return false;
            continue;
        }
        r->n_conds++;
    }
    return true;
}

bool tnt__report_decode(tnt_event *ev, tnt__report *r, const tnt__node *obj, const char *base)
{
    bool ok = true;
    memset(r, 0, sizeof *r);
    r->product_id = opt_str(ev, obj, "product_id", base, &ok);
    r->event_type = opt_str(ev, obj, "event_type", base, &ok);
    r->device_id = opt_str(ev, obj, "device_id", base, &ok);
    r->container = opt_str(ev, obj, "container", base, &ok);
    r->batch = opt_str(ev, obj, "batch", base, &ok);
    r->expiry = opt_str(ev, obj, "expiry", base, &ok);
    r->destination = opt_str(ev, obj, "destination", base, &ok);
    r->source = opt_str(ev, obj, "source", base, &ok);
    r->event_id = opt_str(ev, obj, "event_id", base, &ok);
    const tnt__node *n;
    if ((n = tnt__node_get(obj, "location")) && n->kind != TNT__N_NULL) {
        if (!read_latlon(r, n)) {
            if (n->kind == TNT__N_STRING && n->str[0])
                r->location = n->str;
            else
                ok = diag(ev, base, "TYPE", "location", "location must be a GLN, a URI, \"lat,lon\", {\"lat\", \"lon\"} or a name") && ok;
        }
    }
    if ((n = tnt__node_get(obj, "timestamp")) && !read_time(&r->timestamp, n))
        ok = diag(ev, base, "FORMAT", "timestamp",
                  "timestamp must be an ISO 8601 date-time (2024-03-01T10:00:00Z) or seconds since 1970") && ok;
    if ((n = tnt__node_get(obj, "condition")) && n->kind != TNT__N_NULL)
        ok = read_conditions(ev, r, n, base) && ok;
    if ((n = tnt__node_get(obj, "quantity")) && n->kind != TNT__N_NULL) {
        if (n->kind == TNT__N_NUMBER && tnt__num_parse(&r->quantity, n->str) && r->quantity >= 0)
            r->has_quantity = true;
        else
            ok = diag(ev, base, "TYPE", "quantity", "quantity must be a number >= 0") && ok;
    }
    static const char *const known[] = {"product_id", "event_type", "location", "timestamp", "condition",
                                        "device_id", "container", "batch", "expiry", "destination",
                                        "source", "event_id", "quantity"};
    for (const tnt__node *m = obj->child; m; m = m->next) {
        size_t i = 0;
        while (i < sizeof known / sizeof known[0] && strcmp(known[i], m->key) != 0)
            i++;
        if (i == sizeof known / sizeof known[0])
            ok = diag(ev, base, "UNKNOWN_FIELD", m->key, "'%.60s' is not a field of a simple report", m->key) && ok;
    }
    return ok || ev->n_diags; /* false only on OOM */
}

/* ---- report -> event ---- */

static tnt__node *ext_str(tnt_event *ev, tnt__node **obj, const char *key, const char *ns, const char *value)
{
    if (!*obj && !(*obj = tnt__node_new(ev->arena, TNT__N_OBJECT, NULL, NULL)))
        return NULL;
    tnt__node *n = tnt__node_new(ev->arena, TNT__N_STRING, key, value);
    if (!n)
        return NULL;
    n->ns = ns;
    tnt__node_append(*obj, n);
    return n;
}

static const char **one(tnt_event *ev, tnt__strs *l, const char *v)
{
    l->v = tnt__arena_alloc(ev->arena, sizeof *l->v);
    if (!l->v)
        return NULL;
    l->v[0] = v;
    l->n = 1;
    return l->v;
}

/* An identifier in its canonical form; GLN digits stand for a location.
 * Returns NULL after recording the error (or on OOM, with *oom set). */
static const char *canonical(tnt_event *ev, tnt_id *idp, const tnt_id_options *ids, const char *s, bool place,
                             const char *base, const char *key, tnt_id_level *level, bool *oom)
{
    const char *text = s;
    if (place && strlen(s) == 13 && strspn(s, "0123456789") == 13)
        text = tnt__arena_printf(ev->arena, "(414)%s", s);
    if (!text)
        return *oom = true, NULL;
    if (tnt_id_parse(idp, text, strlen(text), ids) != TNT_OK) {
        if (tnt__is_uri(s) && strncmp(s, "urn:epc:", 8) != 0) {
            if (level)
                *level = TNT_ID_LEVEL_INSTANCE;
            return s; /* a URI of the partner's own: kept as it is */
        }
        const char *msg = NULL;
        tnt_id_error_at(NULL, &msg, idp, 0);
        if (!diag(ev, base, "IDENTIFIER", key, "'%.80s': %s", s, msg ? msg : "not a GS1 identifier"))
            *oom = true;
        return NULL;
    }
    if (level)
        *level = tnt_id_get_level(idp);
    const char *c = tnt__arena_strdup(ev->arena, tnt_id_canonical(idp));
    if (!c)
        *oom = true;
    return c;
}

static bool conditions_to_sensor(tnt_event *ev, const tnt__report *r, const char *base)
{
    tnt__sensor *s = ev->sensors = tnt__arena_zalloc(ev->arena, sizeof *s);
    tnt__sreport *rep = tnt__arena_zalloc(ev->arena, r->n_conds * sizeof *rep);
    if (!s || !rep)
        return false;
    ev->n_sensors = 1;
    ev->present |= TNT__P_SENSORS;
    s->reports = rep;
    s->has_meta = true;
    s->meta.time = r->timestamp;
    if (r->device_id && tnt__is_uri(r->device_id))
        s->meta.device_id = r->device_id;
    for (uint32_t i = 0; i < r->n_conds; i++) {
        const tnt__cond *c = &r->conds[i];
        const char *type = NULL, *uom = c->uom, *bare;
        for (size_t k = 0; k < sizeof conditions / sizeof conditions[0]; k++)
            if (strcmp(conditions[k].name, c->type) == 0) {
                type = conditions[k].type;
                if (!uom)
                    uom = conditions[k].uom;
            }
        if (!type && tnt__cbv_lookup(TNT__V_MEASURE, c->type, &bare) == TNT__CBV_STANDARD) {
            type = bare;
            if (!uom) /* a bare number is in the type's canonical unit, as for the names above */
                uom = tnt__unit_canonical(bare);
        }
        if (!type) {
            if (!diag(ev, base, "VOCABULARY", "condition",
                      "unknown condition '%.40s': use temperature, humidity, shock, light, pressure, speed, tilt, "
                      "voltage or a gs1 MeasurementType",
                      c->type))
                return false;
            continue;
        }
        tnt__sreport *x = &rep[s->n_reports++];
        x->type = type;
        x->uom = uom;
        x->num[TNT__SR_VALUE] = c->value;
        x->has_num = 1u << TNT__SR_VALUE;
        x->boolean_value = -1;
    }
    return true;
}

bool tnt__report_to_event(tnt_event *ev, const tnt__report *r, const char *base, tnt_id *idp,
                          const tnt_id_options *ids)
{
    bool oom = false;
    const movement *m = r->event_type ? find_movement(r->event_type) : NULL;
    const char *bare = NULL;
    movement custom = {NULL, TNT_ACTION_OBSERVE, NULL, NULL, false};
    if (!r->event_type)
        return diag(ev, base, "REQUIRED", "event_type", "a report needs an event_type");
    if (!m && tnt__cbv_lookup(TNT__V_BIZSTEP, r->event_type, &bare) == TNT__CBV_STANDARD) {
        custom.biz_step = bare; /* a CBV business step is welcome too */
        m = &custom;
    }
    if (!m)
        return diag(ev, base, "VOCABULARY", "event_type",
                    "unknown event_type '%.40s': use commission, pack, unpack, ship, receive, store, stock, sell, "
                    "return, destroy, ... (docs/simple-report.md) or a CBV bizStep",
                    r->event_type);
    if (!r->product_id)
        return diag(ev, base, "REQUIRED", "product_id", "a report needs a product_id");
    if (!r->timestamp.set)
        return diag(ev, base, "REQUIRED", "timestamp", "a report needs a timestamp");

    bool aggregate = r->container && (strcmp(r->event_type, "pack") == 0 || strcmp(r->event_type, "unpack") == 0);
    ev->type = aggregate ? TNT_EVENT_AGGREGATION : TNT_EVENT_OBJECT;
    ev->action = aggregate ? (strcmp(r->event_type, "pack") == 0 ? TNT_ACTION_ADD : TNT_ACTION_DELETE) : m->action;
    ev->event_time = r->timestamp;
    ev->record_time = (tnt__time){0, 0, false};
    ev->event_time_zone_offset = tnt__arena_printf(ev->arena, "%c%02d:%02d", r->timestamp.off < 0 ? '-' : '+',
                                                   abs(r->timestamp.off) / 60, abs(r->timestamp.off) % 60);
    ev->event_id = r->event_id;
    ev->biz_step = m->biz_step;
    ev->disposition = m->disposition;

    /* What: an instance goes into the EPC list, a class into the quantity list. */
    tnt_id_level level = TNT_ID_LEVEL_INSTANCE;
    const char *pid = canonical(ev, idp, ids, r->product_id, false, base, "product_id", &level, &oom);
    if (!pid)
        return !oom;
    bool is_class = level != TNT_ID_LEVEL_INSTANCE;
    if (aggregate) {
        ev->parent_id = canonical(ev, idp, ids, r->container, false, base, "container", NULL, &oom);
        if (!ev->parent_id)
            return !oom;
        if (!one(ev, &ev->child_epcs, pid))
            return false;
        ev->present |= TNT__P_CHILD_EPCS;
    } else if (is_class) {
        tnt__qty *q = ev->quantity_list.v = tnt__arena_zalloc(ev->arena, sizeof *q);
        if (!q)
            return false;
        q->epc_class = pid;
        q->quantity = r->quantity;
        q->has_quantity = r->has_quantity;
        ev->quantity_list.n = 1;
        ev->present |= TNT__P_QUANTITY_LIST;
    } else {
        if (!one(ev, &ev->epc_list, pid))
            return false;
        ev->present |= TNT__P_EPC_LIST;
    }

    /* Where. */
    const char *loc = NULL;
    if (r->has_latlon) {
        if (fabs(r->lat) > 90 || fabs(r->lon) > 180)
            return diag(ev, base, "RANGE", "location", "latitude must be within ±90 and longitude within ±180");
        char lat[32], lon[32];
        tnt__num_format(lat, sizeof lat, r->lat);
        tnt__num_format(lon, sizeof lon, r->lon);
        loc = tnt__arena_printf(ev->arena, "geo:%s,%s", lat, lon);
    } else if (r->location && (tnt__is_uri(r->location) || strspn(r->location, "0123456789") == 13 ||
                               r->location[0] == '(')) {
        if (!(loc = canonical(ev, idp, ids, r->location, true, base, "location", NULL, &oom)))
            return !oom;
    } else if (r->location && !ext_str(ev, &ev->ext, "tnt:locationName", TNT_NS, r->location)) {
        return false;
    }
    if (loc) {
        ev->read_point = loc;
        ev->present |= TNT__P_READ_POINT;
        if (!m->in_transit) {
            ev->biz_location = loc;
            ev->present |= TNT__P_BIZ_LOCATION;
        }
    }
    const struct {
        const char *value, *key;
        tnt__refs *list;
        uint32_t flag;
    } ends[] = {{r->source, "source", &ev->sources, TNT__P_SOURCES},
                {r->destination, "destination", &ev->destinations, TNT__P_DESTINATIONS}};
    for (size_t i = 0; i < 2; i++) {
        if (!ends[i].value)
            continue;
        tnt__ref *ref = ends[i].list->v = tnt__arena_zalloc(ev->arena, sizeof *ref);
        if (!ref)
            return false;
        ref->type = "location";
        if (!(ref->value = canonical(ev, idp, ids, ends[i].value, true, base, ends[i].key, NULL, &oom)))
            return !oom;
        ends[i].list->n = 1;
        ev->present |= ends[i].flag;
    }

    /* Why and how: batch and expiry as ILMD at commissioning; readings. */
    if ((r->batch || r->expiry) && !tnt__event_add_prefix(ev, "cbvmda", "urn:epcglobal:cbv:mda:"))
        return false;
    if (r->batch && !ext_str(ev, &ev->ilmd, "cbvmda:lotNumber", "urn:epcglobal:cbv:mda:", r->batch))
        return false;
    if (r->expiry && !ext_str(ev, &ev->ilmd, "cbvmda:itemExpirationDate", "urn:epcglobal:cbv:mda:", r->expiry))
        return false;
    if (r->n_conds && !conditions_to_sensor(ev, r, base))
        return false;
    if (r->device_id && !tnt__is_uri(r->device_id) && !ext_str(ev, &ev->ext, "tnt:deviceID", TNT_NS, r->device_id))
        return false;
    if ((tnt__node_get(ev->ext, "tnt:locationName") || tnt__node_get(ev->ext, "tnt:deviceID")) &&
        !tnt__event_add_prefix(ev, "tnt", TNT_NS))
        return false;
    return true;
}
