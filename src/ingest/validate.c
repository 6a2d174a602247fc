/* The EPCIS 2.0 / CBV 2.0 rules, checked on a decoded event. Every failure
 * is recorded with a stable code and the JSON path of the value; the GS1
 * JSON schema is the reference for what is rejected. Codes: docs/validation.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/epcis.h"
#include "ingest/cbv.h"
#include "ingest/pipeline.h"
#include "ingest/units.h"
#include "tnt/ids.h"

typedef struct val {
    tnt_event *ev;
    const tnt__pipeline *p;
    tnt_id *id;
    uint32_t ndecoded;     /* errors the decoder recorded */
    const char **decoded;  /* their paths, sorted on first use */
    bool oom;
} val;

#define KEY(up_, k_) (&(tnt__path){(up_), (k_), 0})
#define IDX(up_, i_) (&(tnt__path){(up_), NULL, (i_)})

static void err(val *v, const char *code, const tnt__path *path, const char *fmt, ...) TNT__PRINTF(4, 5);
static void err(val *v, const char *code, const tnt__path *path, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *ps = tnt__path_str(v->ev->arena, v->ev->source_path ? v->ev->source_path : "$", path);
    if (!ps || !tnt__event_diag(v->ev, code, ps, "%s", msg))
        v->oom = true;
}

static int by_path(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* True when the decoder recorded an error at path: a value that was present
 * but invalid is not also reported missing. (The paths asked about are
 * checked before validation reports anything there.) Sorted once, searched
 * per question: an event may hold 100,000 sensor reports to ask about. */
static bool has_diag(val *v, const tnt__path *path)
{
    if (!v->ndecoded)
        return false;
    if (!v->decoded) {
        const char **d = tnt__arena_alloc(v->ev->arena, v->ndecoded * sizeof *d);
        if (!d) {
            v->oom = true;
            return false;
        }
        for (uint32_t i = 0; i < v->ndecoded; i++)
            d[i] = v->ev->diags[i].path;
        qsort(d, v->ndecoded, sizeof *d, by_path);
        v->decoded = d;
    }
    const char *ps = tnt__path_str(v->ev->arena, v->ev->source_path ? v->ev->source_path : "$", path);
    if (!ps) {
        v->oom = true;
        return false;
    }
    return bsearch(&ps, v->decoded, v->ndecoded, sizeof *v->decoded, by_path) != NULL;
}

/* ---- values ---- */

static bool uri(val *v, const char *s, const tnt__path *path)
{
    if (!s)
        return false;
    if (!tnt__is_uri(s)) {
        err(v, "FORMAT", path, "'%.100s' is not a URI", s);
        return false;
    }
    return true;
}

static bool gs1_form(const char *s)
{
    return strncmp(s, "urn:epc:", 8) == 0 || strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* Remember what s parsed to, for the hash and normalisation: its
 * canonical form, or NULL when the parse failed. */
static const char *remember(val *v, const char *s, bool ok)
{
    const char *canon = ok ? tnt_id_canonical(v->id) : NULL;
    if (canon && strcmp(canon, s) == 0)
        canon = s;
    else if (canon && !(canon = tnt__arena_strdup(v->ev->arena, canon)))
        v->oom = true;
    if (!tnt__idmemo_put(v->p->ids_seen, v->ev->arena, s, canon))
        v->oom = true;
    return canon;
}

/* A URI that is a GS1 identifier must be a valid one, at the expected level.
 * Returns its canonical form, or NULL when it is no valid identifier. */
static const char *identifier(val *v, const char *s, const tnt__path *path, bool want_class)
{
    if (!uri(v, s, path) || !gs1_form(s) || !v->id)
        return NULL;
    tnt_status st = tnt_id_parse(v->id, s, strlen(s), v->p->ids);
    const char *canon = remember(v, s, st == TNT_OK);
    if (st != TNT_OK) {
        const char *code = "", *msg = tnt_error_last();
        tnt_id_error_at(&code, &msg, v->id, 0);
        /* Web URIs that carry no GS1 key are ordinary URIs, not identifiers. */
        if (strncmp(s, "urn:epc:", 8) != 0 && code && strcmp(code, "ID_NO_PRIMARY_KEY") == 0)
            return NULL;
        err(v, "IDENTIFIER", path, "'%.100s': %s", s, msg ? msg : "invalid identifier");
        return NULL;
    }
    tnt_id_level lvl = tnt_id_get_level(v->id);
    if (want_class && lvl == TNT_ID_LEVEL_INSTANCE && tnt_id_get_type(v->id) != TNT_ID_GTIN)
        err(v, "IDENTIFIER", path, "'%.100s' names one instance; an epcClass must be a class", s);
    else if (!want_class && lvl != TNT_ID_LEVEL_INSTANCE && tnt_id_get_form(v->id) != TNT_ID_FORM_DIGITAL_LINK)
        err(v, "IDENTIFIER", path, "'%.100s' is a class or pattern; an instance identifier is expected here", s);
    return canon;
}

/* Room for n strings in the event's arena (a list of keys). */
static tnt__strs keys_for(val *v, uint32_t n)
{
    tnt__strs k = {n ? tnt__arena_alloc(v->ev->arena, n * sizeof *k.v) : NULL, n};
    if (n && !k.v) {
        v->oom = true;
        k.n = 0;
    }
    return k;
}

/* Which items repeat an earlier one: sorted by (text, position), in
 * O(n log n) — lists may hold 100,000 items. NULL when there are none or
 * out of memory (then duplicates go unreported; nothing else depends on it). */
static _Thread_local const char **sort_base; /* qsort has no context argument */

static int by_text(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = strcmp(sort_base[x], sort_base[y]);
    return c ? c : (x > y) - (x < y);
}

/* The items of l by text (then position); NULL when out of memory. */
static uint32_t *sorted(val *v, const tnt__strs *l)
{
    uint32_t *ix = tnt__arena_alloc(v->ev->arena, (l->n ? l->n : 1) * sizeof *ix);
    if (!ix)
        return NULL;
    for (uint32_t i = 0; i < l->n; i++)
        ix[i] = i;
    sort_base = l->v;
    qsort(ix, l->n, sizeof *ix, by_text);
    return ix;
}

/* Whether s is an item of l, sorted by ix. */
static bool in_sorted(const tnt__strs *l, const uint32_t *ix, const char *s)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(l->v[ix[mid]], s);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool *repeats(val *v, const tnt__strs *l)
{
    if (l->n < 2)
        return NULL;
    uint32_t *ix = sorted(v, l);
    bool *dup = tnt__arena_zalloc(v->ev->arena, l->n);
    if (!ix || !dup)
        return NULL;
    bool any = false;
    for (uint32_t i = 1; i < l->n; i++)
        if (strcmp(l->v[ix[i]], l->v[ix[i - 1]]) == 0)
            any = dup[ix[i]] = true;
    return any ? dup : NULL;
}

/* An object is listed once, however it is written: the items compare by
 * canonical form (normalisation would store one written twice twice). */
static void epcs(val *v, const tnt__strs *l, const char *name)
{
    tnt__strs keys = keys_for(v, l->n);
    for (uint32_t i = 0; i < l->n; i++) {
        const char *canon = identifier(v, l->v[i], IDX(KEY(NULL, name), i), false);
        if (i < keys.n)
            keys.v[i] = canon ? canon : l->v[i];
    }
    bool *dup = repeats(v, &keys);
    for (uint32_t i = 0; dup && i < l->n; i++)
        if (dup[i])
            err(v, "DUPLICATE", IDX(KEY(NULL, name), i), "'%.100s' appears twice in %s", l->v[i], name);
}

/* Extension members are named by a URI or a prefixed name (which has the
 * syntax of one); "@context" is allowed on the event itself only. */
static void ext_keys(val *v, const tnt__node *obj, const tnt__path *path, const char *where)
{
    for (const tnt__node *c = obj ? obj->child : NULL; c; c = c->next)
        if (!tnt__is_uri(c->key) && (path || strcmp(c->key, "@context") != 0))
            err(v, "UNKNOWN_FIELD", KEY(path, c->key),
                "'%.80s' is not a field of %s; extensions need a namespace prefix (\"ns:%.40s\")", c->key, where,
                c->key);
}

static void qtys(val *v, const tnt__qtys *l, const char *name)
{
    for (uint32_t i = 0; i < l->n; i++) {
        const tnt__qty *q = &l->v[i];
        const tnt__path *ip = IDX(KEY(NULL, name), i);
        if (!q->epc_class)
            err(v, "REQUIRED", KEY(ip, "epcClass"), "a quantity element needs an epcClass");
        else
            identifier(v, q->epc_class, KEY(ip, "epcClass"), true);
        if (q->uom && !tnt__unit_syntax(q->uom))
            err(v, "FORMAT", KEY(ip, "uom"), "'%.20s' is not a UN/CEFACT unit code (2-3 letters or digits)", q->uom);
        if (q->uom && !q->has_quantity)
            err(v, "REQUIRED", KEY(ip, "quantity"), "a uom needs a quantity");
        if (q->has_quantity && q->quantity < 0)
            err(v, "RANGE", KEY(ip, "quantity"), "a quantity cannot be negative");
        for (const tnt__node *c = q->ext ? q->ext->child : NULL; c; c = c->next)
            err(v, "NOT_ALLOWED", KEY(ip, c->key), "a quantity element holds only epcClass, quantity and uom");
    }
}

/* A value of a CBV vocabulary; returns its bare name when it is standard. */
static const char *vocab(val *v, int voc, const char *s, const tnt__path *path)
{
    const char *bare = NULL;
    if (!s)
        return NULL;
    if (!tnt__cbv_json_form(voc, s))
        err(v, "VOCABULARY", path,
            "'%.100s' is not a CBV %s in the JSON binding: write the bare name, CURIE or https://ref.gs1.org/ Web URI",
            s, tnt__cbv_name(voc));
    else if (tnt__cbv_lookup(voc, s, &bare) == TNT__CBV_UNKNOWN)
        err(v, "VOCABULARY", path, "'%.100s' is not a CBV %s; use a standard value or your own URI", s,
            tnt__cbv_name(voc));
    return bare;
}

static void refs(val *v, const tnt__refs *l, const char *name, const char *value_key, int voc, bool type_required)
{
    for (uint32_t i = 0; i < l->n; i++) {
        const tnt__ref *r = &l->v[i];
        const tnt__path *ip = IDX(KEY(NULL, name), i);
        if (!r->value)
            err(v, "REQUIRED", KEY(ip, value_key), "%s needs a %s", name, value_key);
        else
            identifier(v, r->value, KEY(ip, value_key), false);
        if (!r->type && type_required)
            err(v, "REQUIRED", KEY(ip, "type"), "%s needs a type", name);
        vocab(v, voc, r->type, KEY(ip, "type"));
        for (const tnt__node *c = r->ext ? r->ext->child : NULL; c; c = c->next)
            err(v, "NOT_ALLOWED", KEY(ip, c->key), "%s holds only type and %s", name, value_key);
    }
}

/* decode allocates the value array of every list it reads, so a list that
 * was present but empty has v set and n == 0. Returns the dispositions as
 * they compare: a standard one by its bare name, however it is written. */
static tnt__strs pd_list(val *v, const tnt__strs *l, const char *name)
{
    const tnt__path *lp = KEY(KEY(NULL, "persistentDisposition"), name);
    if (l->v && !l->n)
        err(v, "EMPTY", lp, "persistentDisposition.%s needs at least one disposition", name);
    tnt__strs keys = keys_for(v, l->n);
    for (uint32_t i = 0; i < l->n; i++) {
        const char *bare = vocab(v, TNT__V_DISP, l->v[i], IDX(lp, i));
        if (i < keys.n)
            keys.v[i] = bare ? bare : l->v[i];
    }
    bool *dup = repeats(v, &keys);
    for (uint32_t i = 0; dup && i < l->n; i++)
        if (dup[i])
            err(v, "DUPLICATE", IDX(lp, i), "'%.60s' appears twice", l->v[i]);
    return keys;
}

static bool hex_binary(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || ((*s | 32) >= 'a' && (*s | 32) <= 'f')))
            return false;
    return true;
}

static void persistent_disposition(val *v, const tnt_event *ev)
{
    const tnt__path *pp = KEY(NULL, "persistentDisposition");
    if (!ev->has_pd)
        return;
    if (!ev->pd_set.v && !ev->pd_unset.v && !has_diag(v, KEY(pp, "set")) && !has_diag(v, KEY(pp, "unset")))
        err(v, "REQUIRED", pp, "persistentDisposition needs a set or an unset list");
    tnt__strs set = pd_list(v, &ev->pd_set, "set"), unset = pd_list(v, &ev->pd_unset, "unset");
    /* A disposition cannot become both true and false in one event (each
     * list may hold 100,000 items: a search, not a comparison of all pairs). */
    uint32_t *ix = set.n && unset.n ? sorted(v, &set) : NULL;
    if (set.n && unset.n && !ix)
        v->oom = true;
    for (uint32_t i = 0; ix && i < unset.n; i++)
        if (in_sorted(&set, ix, unset.v[i]))
            err(v, "DUPLICATE", IDX(KEY(pp, "unset"), i), "'%.60s' is both set and unset", ev->pd_unset.v[i]);
}

static void sreport(val *v, const tnt__sreport *r, const tnt__path *rp)
{
    if (!r->type && !has_diag(v, KEY(rp, "type")))
        err(v, "REQUIRED", KEY(rp, "type"), "a sensor report needs a type (a gs1:MeasurementType)");
    const char *bare = vocab(v, TNT__V_MEASURE, r->type, KEY(rp, "type"));
    vocab(v, TNT__V_ALERT, r->exception, KEY(rp, "exception"));
    vocab(v, TNT__V_COMPONENT, r->component, KEY(rp, "component"));
    const struct {
        const char *k, *s;
    } uris[] = {{"deviceID", r->device_id},
                {"deviceMetadata", r->device_metadata},
                {"rawData", r->raw_data},
                {"dataProcessingMethod", r->data_processing_method},
                {"bizRules", r->biz_rules},
                {"microorganism", r->microorganism},
                {"chemicalSubstance", r->chemical_substance},
                {"coordinateReferenceSystem", r->coordinate_reference_system},
                {"uriValue", r->uri_value}};
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++)
        uri(v, uris[i].s, KEY(rp, uris[i].k));
    if (r->hex_binary_value && !hex_binary(r->hex_binary_value))
        err(v, "FORMAT", KEY(rp, "hexBinaryValue"), "'%.40s' is not hexadecimal", r->hex_binary_value);
    else if (r->hex_binary_value && strlen(r->hex_binary_value) % 2)
        err(v, "FORMAT", KEY(rp, "hexBinaryValue"), "xsd:hexBinary is bytes: it needs an even number of hex digits");
    if (r->uom) {
        const tnt__unit *u = tnt__unit_find(r->uom);
        if (!tnt__unit_syntax(r->uom))
            err(v, "FORMAT", KEY(rp, "uom"), "'%.20s' is not a UN/CEFACT unit code (2-3 letters or digits)", r->uom);
        else if (u && bare && strcmp(u->measure, bare) != 0 && tnt__unit_canonical(bare))
            err(v, "UNIT", KEY(rp, "uom"), "'%s' measures %s, not %s", r->uom, u->measure, bare);
    }
    if (r->has_num && !r->uom && bare && tnt__unit_canonical(bare) && strcmp(bare, "Dimensionless") != 0)
        err(v, "UNIT", KEY(rp, "uom"), "a %s value needs a unit (uom)", bare);
    if (((r->has_num >> TNT__SR_PERC_RANK) & 1) && (r->num[TNT__SR_PERC_RANK] < 0 || r->num[TNT__SR_PERC_RANK] > 100))
        err(v, "RANGE", KEY(rp, "percRank"), "percRank is a percentile rank between 0 and 100");
    if (((r->has_num >> TNT__SR_SDEV) & 1) && r->num[TNT__SR_SDEV] < 0)
        err(v, "RANGE", KEY(rp, "sDev"), "a standard deviation cannot be negative");
    if ((r->has_num & 6) == 6 && r->num[TNT__SR_MIN] > r->num[TNT__SR_MAX])
        err(v, "RANGE", KEY(rp, "minValue"), "minValue is greater than maxValue");
}

static void sensors(val *v, const tnt_event *ev)
{
    const tnt__path *lp = KEY(NULL, "sensorElementList");
    for (uint32_t i = 0; i < ev->n_sensors; i++) {
        const tnt__sensor *s = &ev->sensors[i];
        const tnt__path *sp = IDX(lp, i);
        if (s->has_meta) {
            const tnt__smeta *m = &s->meta;
            const tnt__path *mp = KEY(sp, "sensorMetadata");
            uri(v, m->device_id, KEY(mp, "deviceID"));
            uri(v, m->device_metadata, KEY(mp, "deviceMetadata"));
            uri(v, m->raw_data, KEY(mp, "rawData"));
            uri(v, m->data_processing_method, KEY(mp, "dataProcessingMethod"));
            uri(v, m->biz_rules, KEY(mp, "bizRules"));
            if (m->start_time.set && m->end_time.set && m->start_time.ms > m->end_time.ms)
                err(v, "RANGE", KEY(mp, "startTime"), "startTime is after endTime");
            ext_keys(v, m->ext, mp, "sensorMetadata");
        }
        if (s->n_reports == 0)
            err(v, "EMPTY", KEY(sp, "sensorReport"), "a sensor element needs at least one sensorReport");
        for (uint32_t j = 0; j < s->n_reports; j++) {
            const tnt__path *rp = IDX(KEY(sp, "sensorReport"), j);
            sreport(v, &s->reports[j], rp);
            ext_keys(v, s->reports[j].ext, rp, "a sensor report");
        }
        ext_keys(v, s->ext, sp, "a sensor element");
    }
}

/* ---- the event ---- */

static int64_t now_ms(const tnt__pipeline *p)
{
    if (p->now_ms)
        return p->now_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void not_allowed(val *v, bool present, const char *field, const tnt_event *ev)
{
    if (present)
        err(v, "NOT_ALLOWED", KEY(NULL, field), "%s is not a field of %s", field, tnt_event_type_name(ev->type));
}

static bool nonempty_strs(const tnt__strs *s) { return s->n > 0; }
static bool nonempty_qtys(const tnt__qtys *q) { return q->n > 0; }

static void what(val *v, const tnt_event *ev)
{
    uint32_t p = ev->present;
    bool del = ev->action == TNT_ACTION_DELETE;
    switch (ev->type) {
    case TNT_EVENT_OBJECT:
        if (!(p & TNT__P_EPC_LIST) && !nonempty_qtys(&ev->quantity_list) && !(ev->n_sensors && ev->read_point))
            err(v, "REQUIRED", KEY(NULL, "epcList"),
                "an ObjectEvent needs an epcList, a non-empty quantityList, or sensor data with a readPoint");
        if ((ev->ilmd || (p & TNT__P_ILMD)) && ev->action != TNT_ACTION_ADD)
            err(v, "NOT_ALLOWED", KEY(NULL, "ilmd"), "ilmd is allowed only when action is ADD");
        break;
    case TNT_EVENT_AGGREGATION:
    case TNT_EVENT_ASSOCIATION:
        if (!del && !nonempty_strs(&ev->child_epcs) && !nonempty_qtys(&ev->child_quantity_list))
            err(v, "REQUIRED", KEY(NULL, "childEPCs"), "%s with action %s needs childEPCs or a childQuantityList",
                tnt_event_type_name(ev->type), ev->action == TNT_ACTION_ADD ? "ADD" : "OBSERVE");
        if (!ev->parent_id && (ev->type == TNT_EVENT_ASSOCIATION || ev->action != TNT_ACTION_OBSERVE))
            err(v, "REQUIRED", KEY(NULL, "parentID"), "%s needs a parentID%s", tnt_event_type_name(ev->type),
                ev->type == TNT_EVENT_AGGREGATION ? " when action is ADD or DELETE" : "");
        break;
    case TNT_EVENT_TRANSACTION:
        if (!(p & TNT__P_BIZ_TRANSACTIONS) && !has_diag(v, KEY(NULL, "bizTransactionList")))
            err(v, "REQUIRED", KEY(NULL, "bizTransactionList"), "a TransactionEvent needs a bizTransactionList");
        else if ((p & TNT__P_BIZ_TRANSACTIONS) && !ev->biz_transactions.n)
            err(v, "EMPTY", KEY(NULL, "bizTransactionList"), "a TransactionEvent needs at least one business transaction");
        if (!del && !(p & TNT__P_EPC_LIST) && !nonempty_qtys(&ev->quantity_list))
            err(v, "REQUIRED", KEY(NULL, "epcList"), "a TransactionEvent needs an epcList or a quantityList");
        break;
    case TNT_EVENT_TRANSFORMATION: {
        bool in = nonempty_strs(&ev->input_epcs) || nonempty_qtys(&ev->input_quantity_list);
        bool out = nonempty_strs(&ev->output_epcs) || nonempty_qtys(&ev->output_quantity_list);
        if (!(in && out) && !(ev->transformation_id && (in || out)))
            err(v, "REQUIRED", KEY(NULL, "inputEPCList"),
                "a TransformationEvent needs inputs and outputs, or a transformationID with inputs or outputs");
        break;
    }
    }
}

static void fields_of_type(val *v, const tnt_event *ev)
{
    uint32_t p = ev->present;
    uint8_t t = ev->type;
    bool obj = t == TNT_EVENT_OBJECT, agg = t == TNT_EVENT_AGGREGATION, tx = t == TNT_EVENT_TRANSACTION,
         tf = t == TNT_EVENT_TRANSFORMATION, as = t == TNT_EVENT_ASSOCIATION;
    not_allowed(v, (p & TNT__P_EPC_LIST) && !(obj || tx), "epcList", ev);
    not_allowed(v, (p & TNT__P_QUANTITY_LIST) && !(obj || tx), "quantityList", ev);
    not_allowed(v, ev->parent_id && !(agg || tx || as), "parentID", ev);
    not_allowed(v, (p & TNT__P_CHILD_EPCS) && !(agg || as), "childEPCs", ev);
    not_allowed(v, (p & TNT__P_CHILD_QUANTITY) && !(agg || as), "childQuantityList", ev);
    not_allowed(v, (p & (TNT__P_INPUT_EPCS)) && !tf, "inputEPCList", ev);
    not_allowed(v, (p & (TNT__P_OUTPUT_EPCS)) && !tf, "outputEPCList", ev);
    not_allowed(v, (p & (TNT__P_INPUT_QUANTITY)) && !tf, "inputQuantityList", ev);
    not_allowed(v, (p & (TNT__P_OUTPUT_QUANTITY)) && !tf, "outputQuantityList", ev);
    not_allowed(v, ev->transformation_id && !tf, "transformationID", ev);
    not_allowed(v, ev->has_pd && !(obj || tf), "persistentDisposition", ev);
    not_allowed(v, (ev->ilmd || (p & TNT__P_ILMD)) && !(obj || tf), "ilmd", ev);
    if (tf)
        not_allowed(v, ev->action != TNT_ACTION_NONE, "action", ev);
    else if (ev->action == TNT_ACTION_NONE)
        err(v, "REQUIRED", KEY(NULL, "action"), "%s needs an action (ADD, OBSERVE or DELETE)",
            tnt_event_type_name(t));
}

/* [+-]hh:mm within -14:00..+14:00, as the schema's pattern for eventTimeZoneOffset. */
static bool tz_offset(const char *s)
{
    if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || s[3] != ':')
        return false;
    for (int i = 1; i < 6; i++)
        if (i != 3 && !(s[i] >= '0' && s[i] <= '9'))
            return false;
    int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');
    return m < 60 && (h < 14 || (h == 14 && m == 0));
}

static void when(val *v, const tnt_event *ev)
{
    if (!ev->event_time.set) {
        if (!has_diag(v, KEY(NULL, "eventTime")))
            err(v, "REQUIRED", KEY(NULL, "eventTime"), "the event has no eventTime");
    }
    else if (v->p->future_skew_ms >= 0 && ev->event_time.ms > now_ms(v->p) + v->p->future_skew_ms)
        err(v, "FUTURE", KEY(NULL, "eventTime"), "eventTime lies more than %lld s in the future",
            (long long)(v->p->future_skew_ms / 1000));
    if (!ev->event_time_zone_offset) {
        if (!has_diag(v, KEY(NULL, "eventTimeZoneOffset")))
            err(v, "REQUIRED", KEY(NULL, "eventTimeZoneOffset"), "the event has no eventTimeZoneOffset");
    } else if (!tz_offset(ev->event_time_zone_offset)) {
        err(v, "FORMAT", KEY(NULL, "eventTimeZoneOffset"),
            "'%.20s' is not an offset from -14:00 to +14:00 written like +01:00 or -05:30", ev->event_time_zone_offset);
    }
    if (ev->error_decl) {
        const tnt__path *ep = KEY(NULL, "errorDeclaration");
        if (!ev->error_decl->declaration_time.set && !has_diag(v, KEY(ep, "declarationTime")))
            err(v, "REQUIRED", KEY(ep, "declarationTime"), "an errorDeclaration needs a declarationTime");
        vocab(v, TNT__V_ER, ev->error_decl->reason, KEY(ep, "reason"));
        for (uint32_t i = 0; i < ev->error_decl->corrective_ids.n; i++)
            uri(v, ev->error_decl->corrective_ids.v[i], IDX(KEY(ep, "correctiveEventIDs"), i));
        ext_keys(v, ev->error_decl->ext, ep, "errorDeclaration");
    }
}

/* A total order of JSON trees: kind, size, text, then the members in turn. */
static int node_cmp(const tnt__node *a, const tnt__node *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->count != b->count)
        return a->count < b->count ? -1 : 1;
    int c = strcmp(a->str ? a->str : "", b->str ? b->str : "");
    for (a = a->child, b = b->child; !c && a && b; a = a->next, b = b->next)
        if (!(c = strcmp(a->key ? a->key : "", b->key ? b->key : "")))
            c = node_cmp(a, b);
    return c;
}

typedef struct item {
    const tnt__node *n;
    uint32_t i;
} item;

static int by_node(const void *a, const void *b)
{
    const item *x = a, *y = b;
    int c = node_cmp(x->n, y->n);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* An event's own @context: a URL, a prefix object, or a list of distinct
 * ones (found by sorting: the list may hold 100,000 items). */
static void context(val *v, const tnt__node *c)
{
    const tnt__path *cp = KEY(NULL, "@context");
    if (!c || has_diag(v, cp))
        return;
    if (c->kind == TNT__N_STRING && !tnt__is_uri(c->str))
        err(v, "CONTEXT", cp, "'%.100s' is not a context URL", c->str);
    if (c->kind != TNT__N_ARRAY || !c->count)
        return;
    item *it = tnt__arena_alloc(v->ev->arena, c->count * sizeof *it);
    bool *dup = tnt__arena_zalloc(v->ev->arena, c->count);
    if (!it || !dup) {
        v->oom = true;
        return;
    }
    uint32_t n = 0;
    for (const tnt__node *k = c->child; k && n < c->count; k = k->next, n++)
        it[n] = (item){k, n};
    qsort(it, n, sizeof *it, by_node);
    for (uint32_t i = 1; i < n; i++)
        if (node_cmp(it[i - 1].n, it[i].n) == 0)
            dup[it[i].i] = true;
    size_t i = 0;
    for (const tnt__node *k = c->child; k && i < n; k = k->next, i++) {
        if (dup[i])
            err(v, "CONTEXT", IDX(cp, i), "the @context lists the same context twice");
        else if (k->kind == TNT__N_STRING ? !tnt__is_uri(k->str) : k->kind != TNT__N_OBJECT)
            err(v, "CONTEXT", IDX(cp, i), "an @context list holds context URLs and prefix objects only");
    }
}

static void place(val *v, const char *id, const tnt__node *ext, bool present, const char *name)
{
    if (present && !id)
        err(v, "REQUIRED", KEY(KEY(NULL, name), "id"), "%s needs an id", name);
    identifier(v, id, KEY(KEY(NULL, name), "id"), false);
    ext_keys(v, ext, KEY(NULL, name), name);
}

bool tnt__validate(tnt_event *ev, const tnt__pipeline *p)
{
    val v = {ev, p, p->idp, ev->n_diags, NULL, false};
    if (ev->type != TNT_EVENT_UNKNOWN) {
        fields_of_type(&v, ev);
        what(&v, ev);
    }
    when(&v, ev);
    uri(&v, ev->event_id, KEY(NULL, "eventID"));
    for (uint32_t i = 0; i < ev->certification_info.n; i++)
        uri(&v, ev->certification_info.v[i], IDX(KEY(NULL, "certificationInfo"), i));
    epcs(&v, &ev->epc_list, "epcList");
    epcs(&v, &ev->child_epcs, "childEPCs");
    epcs(&v, &ev->input_epcs, "inputEPCList");
    epcs(&v, &ev->output_epcs, "outputEPCList");
    identifier(&v, ev->parent_id, KEY(NULL, "parentID"), false);
    uri(&v, ev->transformation_id, KEY(NULL, "transformationID"));
    qtys(&v, &ev->quantity_list, "quantityList");
    qtys(&v, &ev->child_quantity_list, "childQuantityList");
    qtys(&v, &ev->input_quantity_list, "inputQuantityList");
    qtys(&v, &ev->output_quantity_list, "outputQuantityList");
    vocab(&v, TNT__V_BIZSTEP, ev->biz_step, KEY(NULL, "bizStep"));
    vocab(&v, TNT__V_DISP, ev->disposition, KEY(NULL, "disposition"));
    persistent_disposition(&v, ev);
    place(&v, ev->read_point, ev->read_point_ext, ev->present & TNT__P_READ_POINT, "readPoint");
    place(&v, ev->biz_location, ev->biz_location_ext, ev->present & TNT__P_BIZ_LOCATION, "bizLocation");
    refs(&v, &ev->biz_transactions, "bizTransactionList", "bizTransaction", TNT__V_BTT, false);
    refs(&v, &ev->sources, "sourceList", "source", TNT__V_SDT, true);
    refs(&v, &ev->destinations, "destinationList", "destination", TNT__V_SDT, true);
    sensors(&v, ev);
    ext_keys(&v, ev->ilmd, KEY(NULL, "ilmd"), "ilmd");
    ext_keys(&v, ev->ext, NULL, "an EPCIS event");
    context(&v, tnt__node_get(ev->ext, "@context"));
    return !v.oom;
}
