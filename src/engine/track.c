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
    tnt_v1_ProductState st;        /* the identifier's own state */
    char via[512];                 /* the container whose location is shown, if any */
    char read_point[512], biz_location[512];
    int64_t location_time_ms;
    int excursion[16];             /* per reading: -1 unknown yet, 0 no, 1 yes */
    bool product_read;
    double min_c, max_c;           /* allowed temperature range, NAN when unknown */
    char *location_json;           /* master record of the location, read on demand */
    char location_name[96];        /* its name (tnt_track_get) */
    bool name_read;
    bool location_read;
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
    tnt_track *t = tnt__malloc(sizeof *t);
    if (!t)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    memset(t, 0, offsetof(tnt_track, st));
    t->engine = e;
    t->location_json = NULL;
    t->location_read = t->product_read = t->name_read = false;
    t->location_name[0] = '\0';
    pthread_rwlock_rdlock(&e->replay_lock);
    st = tnt__state_get(e, key, &t->st);
    if (st == TNT_OK) {
        strcpy(t->read_point, t->st.read_point);
        strcpy(t->biz_location, t->st.biz_location);
        t->via[0] = '\0';
        t->location_time_ms = t->st.location_time_ms;
        /* Follow the containers up while they moved after the packing. */
        tnt_v1_ProductState *c = t->st.parent[0] ? tnt__malloc(sizeof *c) : NULL;
        int64_t since = t->st.parent_since_ms;
        char parent[512];
        strcpy(parent, t->st.parent);
        for (int depth = 0; c && parent[0] && depth < MAX_NESTING; depth++) {
            if (tnt__state_get(e, parent, c) != TNT_OK)
                break;
            if (c->location_time_ms >= since && c->location_time_ms > t->location_time_ms) {
                strcpy(t->read_point, c->read_point);
                strcpy(t->biz_location, c->biz_location);
                strcpy(t->via, parent);
                t->location_time_ms = c->location_time_ms;
            }
            since = c->parent_since_ms;
            strcpy(parent, c->parent);
        }
        tnt__free(c);
        for (size_t i = 0; i < sizeof t->excursion / sizeof t->excursion[0]; i++)
            t->excursion[i] = -1;
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
    tnt__free(t->location_json);
    tnt__free(t);
    tnt__handle_release();
}

const char *tnt_track_get(const tnt_track *t, tnt_track_field f)
{
    if (!t)
        return NULL;
    const char *v = NULL;
    switch (f) {
    case TNT_TRACK_ID: v = t->st.id; break;
    case TNT_TRACK_READ_POINT: v = t->read_point; break;
    case TNT_TRACK_BIZ_LOCATION: v = t->biz_location; break;
    case TNT_TRACK_BIZ_STEP: v = t->st.biz_step; break;
    case TNT_TRACK_DISPOSITION: v = t->st.disposition; break;
    case TNT_TRACK_PARENT: v = t->st.parent; break;
    case TNT_TRACK_OWNER: v = t->st.owner; break;
    case TNT_TRACK_POSSESSOR: v = t->st.possessor; break;
    case TNT_TRACK_LAST_EVENT: v = t->st.last_event; break;
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

size_t tnt_track_reading_count(const tnt_track *t) { return t ? t->st.readings_count : 0; }

/* ---- master data on demand ---- */

static double json_number(const tnt__node *obj, const char *key)
{
    const tnt__node *n = tnt__node_get(obj, key);
    double v;
    return n && n->kind == TNT__N_NUMBER && tnt__num_parse(&v, n->str) ? v : NAN;
}

static void read_product(tnt_track *t)
{
    t->product_read = true;
    t->min_c = t->max_c = NAN;
    char gtin[32], *json = NULL;
    if (!tnt__dl_key(gtin, sizeof gtin, t->st.id, "01") ||
        tnt__master_lookup(t->engine, TNT_MASTER_PRODUCT, gtin, &json) != TNT_OK)
        return;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    char err[64];
    tnt__node *obj = tnt__json_parse_tree(&a, json, strlen(json), err, sizeof err);
    t->min_c = json_number(obj, "min_temp");
    t->max_c = json_number(obj, "max_temp");
    tnt__arena_destroy(&a);
    tnt_free(json);
}

static int excursion(tnt_track *t, size_t i)
{
    const tnt_v1_Reading *r = &t->st.readings[i];
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
    if (!t || i >= t->st.readings_count)
        return TNT_E_NOTFOUND;
    const tnt_v1_Reading *r = &t->st.readings[i];
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

static void put_str(tnt__buf *b, const char *key, const char *v)
{
    tnt__buf_printf(b, ",\"%s\":", key);
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
    tnt__buf_printf(b, ",\"%s\":\"%s\"", key, buf);
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
    char gln[32], *json = NULL;
    if (tnt__dl_key(gln, sizeof gln, loc, "414") &&
        tnt__master_lookup(t->engine, TNT_MASTER_LOCATION, gln, &json) == TNT_OK) {
        tnt__arena a;
        tnt__arena_init(&a, 0);
        char err[64];
        tnt__node *obj = tnt__json_parse_tree(&a, json, strlen(json), err, sizeof err);
        static const char *const keys[] = {"name", "city", "country", "latitude", "longitude"};
        for (size_t i = 0; obj && i < sizeof keys / sizeof keys[0]; i++) {
            const tnt__node *n = tnt__node_get(obj, keys[i]);
            if (!n || (n->kind != TNT__N_STRING && n->kind != TNT__N_NUMBER))
                continue;
            tnt__buf_printf(b, ",\"%s\":", keys[i]);
            if (n->kind == TNT__N_STRING)
                tnt__buf_json_str(b, n->str);
            else
                tnt__buf_puts(b, n->str);
        }
        tnt__arena_destroy(&a);
        tnt_free(json);
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
    tnt__buf_json_str(&b, t->st.id);
    tnt__buf_printf(&b, ",\"event_count\":%llu", (unsigned long long)t->st.event_count);
    put_time(&b, "first_event_time", t->st.first_time_ms);
    put_str(&b, "first_event", t->st.first_event);
    put_time(&b, "last_event_time", t->st.last_time_ms);
    put_str(&b, "last_event", t->st.last_event);
    put_str(&b, "biz_step", t->st.biz_step);
    put_str(&b, "disposition", t->st.disposition);
    put_str(&b, "read_point", t->read_point);
    put_str(&b, "biz_location", t->biz_location);
    put_location(&b, t);
    if (t->location_time_ms)
        put_time(&b, "location_time", t->location_time_ms);
    put_str(&b, "via", t->via);
    put_str(&b, "parent", t->st.parent);
    put_str(&b, "owner", t->st.owner);
    put_str(&b, "possessor", t->st.possessor);
    tnt__buf_puts(&b, ",\"persistent_dispositions\":[");
    int np = 0;
    for (pb_size_t i = 0; i < t->st.persistent_count; i++) {
        const char *p = t->st.persistent[i], *d = strchr(p + 2, ':');
        if (p[0] != 's' || !d)
            continue;
        if (np++)
            tnt__buf_putc(&b, ',');
        tnt__buf_json_str(&b, d + 1);
    }
    tnt__buf_puts(&b, "],\"readings\":[");
    for (pb_size_t i = 0; i < t->st.readings_count; i++) {
        const tnt_v1_Reading *r = &t->st.readings[i];
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
