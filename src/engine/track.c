/* track: the current state of a unit, case or pallet. A unit packed into a
 * case that moved since shows the case's location (and a case in a pallet,
 * the pallet's): containers are followed at read time, so moving a pallet
 * costs one write, not one per unit inside. */
#include <math.h>
#include <pb_decode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json_stream.h"
#include "auth/auth.h"
#include "engine/engine.h"
#include "ids/ids.h"
#include "ingest/cbv.h"

#define MAX_NESTING 8 /* unit in case in pallet in container in ... */

struct tnt_track {
    tnt_engine *engine;            /* for master data, read on demand */
    tnt__state_view st;            /* the identifier's own state */
    void *own;                     /* the buffer its strings are in */
    void *shown;                   /* that of the container whose location is shown, if any */
    const char *via;               /* that container, "" if none */
    const char *read_point, *biz_location;
    int64_t location_time_ms;
    int8_t excursion[16];          /* per reading: -1 unknown yet, 0 no, 1 yes */
    bool product_read;
    bool name_read;
    double min_c, max_c;           /* allowed temperature range, NAN when unknown */
    char location_name[96];        /* its name (tnt_track_get) */
};

/* The canonical key of any identifier form; other URIs are their own key. */
static tnt_status canonical(char *out, size_t cap, const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len >= cap)
        return tnt__error(TNT_E_INVALID, "'%.80s' is not an identifier", id);
    if (tnt__id_canonical(out, cap, id, len))
        return TNT_OK;
    if (tnt__is_uri(id)) {
        memcpy(out, id, len + 1);
        return TNT_OK;
    }
    return tnt__error(TNT_E_INVALID, "'%.80s' is not a GS1 identifier or a URI", id);
}

tnt_status tnt_engine_track(tnt_track **out, tnt_engine *e, const char *id)
{
    if (!out || !e || !id)
        return TNT_E_MISUSE;
    *out = NULL;
    atomic_fetch_add(&e->n.track_calls, 1);
    char key[TNT__ID_CANONICAL_CAP];
    tnt_status st = canonical(key, sizeof key, id);
    if (st != TNT_OK)
        return st;
    tnt_track *t = tnt__malloc(sizeof *t); /* under 1 KB: malloc's per-thread cache serves it */
    if (!t)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    t->engine = e;
    t->own = t->shown = NULL;
    t->product_read = t->name_read = false;
    t->location_name[0] = '\0';
    pthread_rwlock_rdlock(&e->replay_lock);
    st = tnt__state_view_get(e, key, &t->st, &t->own);
    if (st == TNT_OK) {
        t->read_point = t->st.s[TNT__SV_READ_POINT];
        t->biz_location = t->st.s[TNT__SV_BIZ_LOCATION];
        t->via = "";
        t->location_time_ms = t->st.location_time_ms;
        /* Follow the containers up while they moved after the packing. */
        int64_t since = t->st.parent_since_ms;
        const char *parent = t->st.s[TNT__SV_PARENT];
        void *held = NULL; /* the buffer parent points into, when not own or shown */
        for (int depth = 0; parent[0] && depth < MAX_NESTING; depth++) {
            tnt__state_view c;
            void *cbuf;
            if (tnt__state_view_get(e, parent, &c, &cbuf) != TNT_OK)
                break;
            if (c.location_time_ms >= since && c.location_time_ms > t->location_time_ms) {
                t->read_point = c.s[TNT__SV_READ_POINT];
                t->biz_location = c.s[TNT__SV_BIZ_LOCATION];
                t->via = c.s[TNT__SV_ID];
                t->location_time_ms = c.location_time_ms;
                tnt_free(held); /* the previous container's: parent no longer points into it */
                held = NULL;
                tnt_free(t->shown);
                t->shown = cbuf;
            } else {
                tnt_free(held);
                held = cbuf;
            }
            since = c.parent_since_ms;
            parent = c.s[TNT__SV_PARENT];
        }
        tnt_free(held);
        memset(t->excursion, -1, sizeof t->excursion);
    }
    pthread_rwlock_unlock(&e->replay_lock);
    if (st != TNT_OK) {
        tnt__free(t);
        return st == TNT_E_NOTFOUND ? tnt__error(st, "%s has no events", key) : st;
    }
    atomic_fetch_add(&e->n.track_hits, 1);
    tnt__handle_acquire();
    *out = t;
    return TNT_OK;
}

void tnt_track_free(tnt_track *t)
{
    if (!t)
        return;
    tnt_free(t->own);
    tnt_free(t->shown);
    tnt__free(t);
    tnt__handle_release();
}

const char *tnt_track_get(const tnt_track *t, tnt_track_field f)
{
    if (!t)
        return NULL;
    const char *v = NULL;
    switch (f) {
    case TNT_TRACK_ID: v = t->st.s[TNT__SV_ID]; break;
    case TNT_TRACK_READ_POINT: v = t->read_point; break;
    case TNT_TRACK_BIZ_LOCATION: v = t->biz_location; break;
    case TNT_TRACK_BIZ_STEP: v = t->st.s[TNT__SV_BIZ_STEP]; break;
    case TNT_TRACK_DISPOSITION: v = t->st.s[TNT__SV_DISPOSITION]; break;
    case TNT_TRACK_PARENT: v = t->st.s[TNT__SV_PARENT]; break;
    case TNT_TRACK_OWNER: v = t->st.s[TNT__SV_OWNER]; break;
    case TNT_TRACK_POSSESSOR: v = t->st.s[TNT__SV_POSSESSOR]; break;
    case TNT_TRACK_LAST_EVENT: v = t->st.s[TNT__SV_LAST_EVENT]; break;
    case TNT_TRACK_LOCATION_NAME: { /* from master data, read on first use */
        tnt_track *m = (tnt_track *)t;
        if (!m->name_read) {
            const char *loc = m->biz_location[0] ? m->biz_location : m->read_point;
            tnt__loc l;
            m->name_read = true;
            if (loc[0] && tnt__master_location(m->engine, loc, &l))
                snprintf(m->location_name, sizeof m->location_name, "%s", l.name);
        }
        v = m->location_name;
        break;
    }
    }
    return v && *v ? v : NULL;
}

void tnt_track_times(const tnt_track *t, int64_t *last, size_t *count)
{
    if (last)
        *last = t ? t->st.last_time_ms : 0;
    if (count)
        *count = t ? (size_t)t->st.event_count : 0;
}

size_t tnt_track_reading_count(const tnt_track *t) { return t ? t->st.n_readings : 0; }

/* ---- master data on demand ---- */

static void read_product(tnt_track *t)
{
    t->product_read = true;
    t->min_c = t->max_c = NAN;
    char gtin[32];
    tnt__product p; /* master data as authenticate reads it: parsed once, cached until it changes */
    if (tnt__dl_key(gtin, sizeof gtin, t->st.s[TNT__SV_ID], "01") && tnt__master_product(t->engine, gtin, &p)) {
        t->min_c = p.min_c;
        t->max_c = p.max_c;
    }
}

static int excursion(tnt_track *t, size_t i)
{
    const struct tnt__sv_reading *r = &t->st.readings[i];
    if (t->excursion[i] >= 0)
        return t->excursion[i];
    if (!t->product_read)
        read_product(t);
    int x = 0;
    if (strcmp(r->type, "Temperature") == 0 && strcmp(r->uom, "CEL") == 0)
        x = (!isnan(t->min_c) && r->value < t->min_c) || (!isnan(t->max_c) && r->value > t->max_c);
    t->excursion[i] = x;
    return x;
}

tnt_status tnt_track_reading(const char **type, double *value, const char **uom, int64_t *time_ms, int *exc,
                             const tnt_track *t, size_t i)
{
    if (!t || i >= t->st.n_readings)
        return TNT_E_NOTFOUND;
    const struct tnt__sv_reading *r = &t->st.readings[i];
    if (type)
        *type = r->type;
    if (value)
        *value = r->value;
    if (uom)
        *uom = r->uom;
    if (time_ms)
        *time_ms = r->time_ms;
    if (exc)
        *exc = excursion((tnt_track *)t, i);
    return TNT_OK;
}

/* ,"key": (keys are this file's own, plain ASCII) */
static void put_key(tnt__buf *b, const char *key)
{
    tnt__buf_puts(b, ",\"");
    tnt__buf_puts(b, key);
    tnt__buf_puts(b, "\":");
}

static void put_str(tnt__buf *b, const char *key, const char *v)
{
    put_key(b, key);
    if (v && *v)
        tnt__buf_json_str(b, v);
    else
        tnt__buf_puts(b, "null");
}

static void put_time(tnt__buf *b, const char *key, int64_t ms)
{
    char buf[40];
    tnt__time t = {ms, 0, true};
    tnt__time_format(buf, &t, true);
    put_key(b, key);
    tnt__buf_putc(b, '"');
    tnt__buf_puts(b, buf);
    tnt__buf_putc(b, '"');
}

/* What master data says of a location, as members of its object; false
 * when the store failed (the answer then lacks them, and they are not kept). */
static bool location_members(tnt__buf *b, tnt_engine *e, const char *gln)
{
    char *json = NULL;
    tnt_status st = tnt__master_lookup(e, TNT_MASTER_LOCATION, gln, &json);
    if (st != TNT_OK)
        return st == TNT_E_NOTFOUND;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    char err[64];
    tnt__node *obj = tnt__json_parse_tree(&a, json, strlen(json), err, sizeof err);
    static const char *const keys[] = {"name", "city", "country", "latitude", "longitude"};
    for (size_t i = 0; obj && i < sizeof keys / sizeof keys[0]; i++) {
        const tnt__node *n = tnt__node_get(obj, keys[i]);
        if (!n || (n->kind != TNT__N_STRING && n->kind != TNT__N_NUMBER))
            continue;
        put_key(b, keys[i]);
        if (n->kind == TNT__N_STRING)
            tnt__buf_json_str(b, n->str);
        else
            tnt__buf_puts(b, n->str);
    }
    tnt__arena_destroy(&a);
    tnt_free(json);
    return true;
}

/* The location object: its id and what master data says about it. */
static void put_location(tnt__buf *b, tnt_track *t)
{
    const char *loc = t->biz_location[0] ? t->biz_location : t->read_point;
    tnt__buf_puts(b, ",\"location\":");
    if (!loc[0]) {
        tnt__buf_puts(b, "null");
        return;
    }
    tnt__buf_puts(b, "{\"id\":");
    tnt__buf_json_str(b, loc);
    char gln[32];
    if (tnt__dl_key(gln, sizeof gln, loc, "414")) {
        /* rendered once per GLN and master-data generation: parsing the
         * record's JSON was most of an answer's cost */
        unsigned gen = atomic_load(&t->engine->master_gen);
        if (!tnt__location_text_get(t->engine, gln, gen, b)) {
            size_t at = b->len;
            if (location_members(b, t->engine, gln) && !b->oom)
                tnt__location_text_put(t->engine, gln, gen, b->data + at, b->len - at);
        }
    } else if (strncmp(loc, "geo:", 4) == 0) {
        double lat, lon;
        if (sscanf(loc + 4, "%lf,%lf", &lat, &lon) == 2)
            tnt__buf_printf(b, ",\"latitude\":%.6f,\"longitude\":%.6f", lat, lon);
    }
    tnt__buf_putc(b, '}');
}

tnt_status tnt_track_json(char **out, size_t *len, const tnt_track *ct)
{
    if (!out || !ct)
        return TNT_E_MISUSE;
    tnt_track *t = (tnt_track *)ct;
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__buf_puts(&b, "{\"id\":");
    tnt__buf_json_str(&b, t->st.s[TNT__SV_ID]);
    tnt__buf_printf(&b, ",\"event_count\":%llu", (unsigned long long)t->st.event_count);
    put_time(&b, "first_event_time", t->st.first_time_ms);
    put_str(&b, "first_event", t->st.s[TNT__SV_FIRST_EVENT]);
    put_time(&b, "last_event_time", t->st.last_time_ms);
    put_str(&b, "last_event", t->st.s[TNT__SV_LAST_EVENT]);
    put_str(&b, "biz_step", t->st.s[TNT__SV_BIZ_STEP]);
    put_str(&b, "disposition", t->st.s[TNT__SV_DISPOSITION]);
    put_str(&b, "read_point", t->read_point);
    put_str(&b, "biz_location", t->biz_location);
    put_location(&b, t);
    if (t->location_time_ms)
        put_time(&b, "location_time", t->location_time_ms);
    put_str(&b, "via", t->via);
    put_str(&b, "parent", t->st.s[TNT__SV_PARENT]);
    put_str(&b, "owner", t->st.s[TNT__SV_OWNER]);
    put_str(&b, "possessor", t->st.s[TNT__SV_POSSESSOR]);
    tnt__buf_puts(&b, ",\"persistent_dispositions\":[");
    int np = 0;
    for (unsigned i = 0; i < t->st.n_persistent; i++) {
        const char *p = t->st.persistent[i], *d = p[0] == 's' && p[1] ? strchr(p + 2, ':') : NULL;
        if (!d)
            continue;
        if (np++)
            tnt__buf_putc(&b, ',');
        tnt__buf_json_str(&b, d + 1);
    }
    tnt__buf_puts(&b, "],\"readings\":[");
    for (unsigned i = 0; i < t->st.n_readings; i++) {
        const struct tnt__sv_reading *r = &t->st.readings[i];
        char num[40];
        tnt__num_format(num, sizeof num, r->value);
        tnt__buf_printf(&b, "%s{\"type\":", i ? "," : "");
        tnt__buf_json_str(&b, r->type);
        tnt__buf_printf(&b, ",\"value\":%s", num);
        put_str(&b, "uom", r->uom);
        put_time(&b, "time", r->time_ms);
        tnt__buf_printf(&b, ",\"excursion\":%s}", excursion(t, i) ? "true" : "false");
    }
    tnt__buf_puts(&b, "]}");
    *out = tnt__buf_detach(&b, len);
    return *out ? TNT_OK : tnt__error(TNT_E_NOMEM, "out of memory");
}
