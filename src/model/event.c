/* The event handle: creation, errors, and the public accessors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/epcis.h"
#include "codec/json_stream.h"
#include "codec/flat.h"
#include "codec/proto.h"
#include "model/model.h"

tnt_event *tnt__event_new(tnt__arena *a)
{
    tnt_event *ev = tnt__arena_zalloc(a, sizeof *ev);
    if (ev)
        ev->arena = a;
    return ev;
}

bool tnt__event_diag(tnt_event *ev, const char *code, const char *path, const char *fmt, ...)
{
    if (ev->n_diags == ev->cap_diags) {
        uint32_t cap = ev->cap_diags ? ev->cap_diags * 2 : 4;
        tnt__diag *d = tnt__arena_alloc(ev->arena, cap * sizeof *d);
        if (!d)
            return false;
        if (ev->n_diags)
            memcpy(d, ev->diags, ev->n_diags * sizeof *d);
        ev->diags = d;
        ev->cap_diags = cap;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tnt__diag *d = &ev->diags[ev->n_diags];
    d->code = code; /* codes are static strings */
    d->path = path;
    d->message = tnt__arena_strdup(ev->arena, msg);
    if (!d->message)
        return false;
    ev->n_diags++;
    return true;
}

/* Put prefixes[i] into the index (which has room). */
static void prefix_index_put(tnt_event *ev, uint32_t i)
{
    uint32_t mask = ev->prefix_index_cap - 1;
    for (uint32_t k = tnt__str_hash(ev->prefixes[i].prefix) & mask;; k = (k + 1) & mask)
        if (!ev->prefix_index[k]) {
            ev->prefix_index[k] = i + 1;
            return;
        }
}

#define PREFIX_SCAN 8 /* up to this many, a scan is quicker than an index */

bool tnt__event_add_prefix(tnt_event *ev, const char *prefix, const char *iri)
{
    uint32_t n = ev->n_prefixes;
    if (n >= 1u << 28) /* far past any input's size; keeps the index's sizes in range */
        return false;
    if (n < PREFIX_SCAN) {
        for (uint32_t i = 0; i < n; i++)
            if (strcmp(ev->prefixes[i].prefix, prefix) == 0) {
                ev->prefixes[i].iri = iri; /* a later declaration wins */
                return true;
            }
    } else {
        if (ev->prefix_index_cap < 2 * (n + 1)) { /* (re)build at half load */
            uint32_t cap = 64;
            while (cap < 4 * (n + 1))
                cap *= 2;
            uint32_t *idx = tnt__arena_zalloc(ev->arena, (size_t)cap * sizeof *idx);
            if (!idx)
                return false;
            ev->prefix_index = idx;
            ev->prefix_index_cap = cap;
            for (uint32_t i = 0; i < n; i++)
                prefix_index_put(ev, i);
        }
        uint32_t mask = ev->prefix_index_cap - 1;
        for (uint32_t k = tnt__str_hash(prefix) & mask; ev->prefix_index[k]; k = (k + 1) & mask) {
            tnt__prefix *p = &ev->prefixes[ev->prefix_index[k] - 1];
            if (strcmp(p->prefix, prefix) == 0) {
                p->iri = iri;
                return true;
            }
        }
    }
    if (!(n & (n - 1))) { /* n is 0 or a power of two: the array is full */
        tnt__prefix *v = tnt__arena_alloc(ev->arena, (n ? 2 * (size_t)n : 1) * sizeof *v);
        if (!v)
            return false;
        if (n)
            memcpy(v, ev->prefixes, n * sizeof *v);
        ev->prefixes = v;
    }
    ev->prefixes[n] = (tnt__prefix){prefix, iri};
    ev->n_prefixes = n + 1;
    if (ev->prefix_index)
        prefix_index_put(ev, n);
    return true;
}

tnt_event *tnt__event_clone(const tnt_event *src)
{
    /* The flat record carries the whole model: a round trip is a deep copy. */
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__flat_encode_event(&b, src);
    tnt_event *ev = NULL;
    tnt__arena *a = b.oom ? NULL : tnt__malloc(sizeof *a);
    if (a) {
        tnt__arena_init(a, 0);
        ev = tnt__event_new(a);
        if (!ev || tnt__flat_decode_event(ev, b.data, b.len) != TNT_OK) {
            tnt__arena_destroy(a);
            tnt__free(a);
            ev = NULL;
        }
    }
    tnt__buf_free(&b);
    if (!ev)
        return NULL;
    ev->owns_arena = true;
    ev->index = src->index;
    ev->source_path = src->source_path ? tnt__arena_strdup(ev->arena, src->source_path) : NULL;
    for (uint32_t i = 0; i < src->n_diags; i++) {
        const tnt__diag *d = &src->diags[i];
        const char *path = tnt__arena_strdup(ev->arena, d->path ? d->path : "");
        if (!path || !tnt__event_diag(ev, d->code, path, "%s", d->message)) {
            tnt_event_free(ev);
            return NULL;
        }
    }
    return ev;
}

/* ---- public accessors ---- */

const char *tnt_event_type_name(tnt_event_type type)
{
    static const char *const names[] = {"", "ObjectEvent", "AggregationEvent", "TransactionEvent",
                                        "TransformationEvent", "AssociationEvent"};
    return (unsigned)type < 6 ? names[type] : "";
}

tnt_event_type tnt_event_get_type(const tnt_event *ev) { return ev ? (tnt_event_type)ev->type : TNT_EVENT_UNKNOWN; }
tnt_action tnt_event_get_action(const tnt_event *ev) { return ev ? (tnt_action)ev->action : TNT_ACTION_NONE; }

tnt_status tnt_event_get_time(int64_t *ms_out, int *offset_out, const tnt_event *ev, tnt_time_field which)
{
    if (!ev || !ms_out)
        return TNT_E_MISUSE;
    const tnt__time *t = which == TNT_TIME_EVENT           ? &ev->event_time
                         : which == TNT_TIME_RECORD        ? &ev->record_time
                         : which == TNT_TIME_ERROR_DECLARATION && ev->error_decl ? &ev->error_decl->declaration_time
                                                                                 : NULL;
    if (!t || !t->set)
        return TNT_E_NOTFOUND;
    *ms_out = t->ms;
    if (offset_out)
        *offset_out = t->off;
    return TNT_OK;
}

const char *tnt_event_get_string(const tnt_event *ev, tnt_field field)
{
    if (!ev)
        return NULL;
    switch (field) {
    case TNT_FIELD_EVENT_ID: return ev->event_id;
    case TNT_FIELD_EVENT_TIME_ZONE_OFFSET: return ev->event_time_zone_offset;
    case TNT_FIELD_PARENT_ID: return ev->parent_id;
    case TNT_FIELD_TRANSFORMATION_ID: return ev->transformation_id;
    case TNT_FIELD_BIZ_STEP: return ev->biz_step;
    case TNT_FIELD_DISPOSITION: return ev->disposition;
    case TNT_FIELD_READ_POINT: return ev->read_point;
    case TNT_FIELD_BIZ_LOCATION: return ev->biz_location;
    case TNT_FIELD_HASH_ID: return ev->hash_id[0] ? ev->hash_id : NULL;
    case TNT_FIELD_ERROR_REASON: return ev->error_decl ? ev->error_decl->reason : NULL;
    }
    return NULL;
}

static const tnt__strs *strs_of(const tnt_event *ev, tnt_list list)
{
    switch (list) {
    case TNT_LIST_EPC: return &ev->epc_list;
    case TNT_LIST_CHILD_EPC: return &ev->child_epcs;
    case TNT_LIST_INPUT_EPC: return &ev->input_epcs;
    case TNT_LIST_OUTPUT_EPC: return &ev->output_epcs;
    case TNT_LIST_CERTIFICATION_INFO: return &ev->certification_info;
    case TNT_LIST_PD_SET: return &ev->pd_set;
    case TNT_LIST_PD_UNSET: return &ev->pd_unset;
    case TNT_LIST_CORRECTIVE_EVENT_ID: return ev->error_decl ? &ev->error_decl->corrective_ids : NULL;
    }
    return NULL;
}

size_t tnt_event_list_count(const tnt_event *ev, tnt_list list)
{
    const tnt__strs *s = ev ? strs_of(ev, list) : NULL;
    return s ? s->n : 0;
}

const char *tnt_event_list_at(const tnt_event *ev, tnt_list list, size_t index)
{
    const tnt__strs *s = ev ? strs_of(ev, list) : NULL;
    return s && index < s->n ? s->v[index] : NULL;
}

static const tnt__qtys *qtys_of(const tnt_event *ev, tnt_qlist list)
{
    switch (list) {
    case TNT_QLIST_QUANTITY: return &ev->quantity_list;
    case TNT_QLIST_CHILD: return &ev->child_quantity_list;
    case TNT_QLIST_INPUT: return &ev->input_quantity_list;
    case TNT_QLIST_OUTPUT: return &ev->output_quantity_list;
    }
    return NULL;
}

size_t tnt_event_qlist_count(const tnt_event *ev, tnt_qlist list)
{
    const tnt__qtys *q = ev ? qtys_of(ev, list) : NULL;
    return q ? q->n : 0;
}

tnt_status tnt_event_qlist_at(const char **epc_class_out, double *quantity_out, int *has_quantity_out,
                              const char **uom_out, const tnt_event *ev, tnt_qlist list, size_t index)
{
    const tnt__qtys *q = ev ? qtys_of(ev, list) : NULL;
    if (!q || index >= q->n)
        return TNT_E_NOTFOUND;
    const tnt__qty *e = &q->v[index];
    if (epc_class_out)
        *epc_class_out = e->epc_class;
    if (quantity_out)
        *quantity_out = e->quantity;
    if (has_quantity_out)
        *has_quantity_out = e->has_quantity;
    if (uom_out)
        *uom_out = e->uom;
    return TNT_OK;
}

static const tnt__refs *refs_of(const tnt_event *ev, tnt_ref_list list)
{
    switch (list) {
    case TNT_REF_BIZ_TRANSACTION: return &ev->biz_transactions;
    case TNT_REF_SOURCE: return &ev->sources;
    case TNT_REF_DESTINATION: return &ev->destinations;
    }
    return NULL;
}

size_t tnt_event_ref_count(const tnt_event *ev, tnt_ref_list list)
{
    const tnt__refs *r = ev ? refs_of(ev, list) : NULL;
    return r ? r->n : 0;
}

tnt_status tnt_event_ref_at(const char **type_out, const char **value_out, const tnt_event *ev, tnt_ref_list list,
                            size_t index)
{
    const tnt__refs *r = ev ? refs_of(ev, list) : NULL;
    if (!r || index >= r->n)
        return TNT_E_NOTFOUND;
    if (type_out)
        *type_out = r->v[index].type;
    if (value_out)
        *value_out = r->v[index].value;
    return TNT_OK;
}

size_t tnt_event_sensor_count(const tnt_event *ev) { return ev ? ev->n_sensors : 0; }

size_t tnt_event_sensor_report_count(const tnt_event *ev, size_t sensor)
{
    return ev && sensor < ev->n_sensors ? ev->sensors[sensor].n_reports : 0;
}

tnt_status tnt_event_sensor_report_at(const char **type_out, double *value_out, int *has_value_out,
                                      const char **uom_out, const tnt_event *ev, size_t sensor, size_t report)
{
    if (!ev || sensor >= ev->n_sensors || report >= ev->sensors[sensor].n_reports)
        return TNT_E_NOTFOUND;
    const tnt__sreport *r = &ev->sensors[sensor].reports[report];
    if (type_out)
        *type_out = r->type;
    if (value_out)
        *value_out = r->num[TNT__SR_VALUE];
    if (has_value_out)
        *has_value_out = (r->has_num >> TNT__SR_VALUE) & 1;
    if (uom_out)
        *uom_out = r->uom;
    return TNT_OK;
}

/* ---- the generic field view ---- */

static tnt__node *view(tnt_event *ev)
{
    if (ev->view)
        return ev->view;
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__epcis_write(&b, ev, 0);
    if (!b.oom) {
        char err[128];
        ev->view = tnt__json_parse_tree(ev->arena, b.data, b.len, err, sizeof err);
    }
    tnt__buf_free(&b);
    return ev->view;
}

/* "[12]" at p: the index and the end; false unless it is brackets around digits. */
static bool index_at(const char *p, unsigned long long *i, const char **end)
{
    if (*p != '[' || p[1] < '0' || p[1] > '9')
        return false;
    char *e;
    *i = strtoull(p + 1, &e, 10); /* an index past ULLONG_MAX reads as ULLONG_MAX: out of range */
    if (*e != ']')
        return false;
    *end = e + 1;
    return true;
}

static tnt_status path_error(tnt_status st, const char *path, const char *at, const char *why)
{
    return tnt__error(st, "tnt_event_get: '%s': %s at '%s'", path, why, at);
}

/* A path is member names joined by '.', each followed by any number of [index]. */
static tnt_status walk(const tnt__node **out, const tnt__node *n, const char *path)
{
    const char *p = path;
    if (!*p)
        return path_error(TNT_E_INVALID, path, p, "an empty path");
    for (;;) {
        size_t len = strcspn(p, ".[");
        if (len == 0)
            return path_error(TNT_E_INVALID, path, p, "a member name is missing");
        const tnt__node *c = NULL;
        if (n->kind == TNT__N_OBJECT)
            for (c = n->child; c; c = c->next)
                if (tnt__streq_n(c->key, p, len))
                    break;
        if (!c)
            return path_error(TNT_E_NOTFOUND, path, p, "no such member");
        n = c;
        p += len;
        while (*p == '[') {
            unsigned long long i;
            const char *end;
            if (!index_at(p, &i, &end))
                return path_error(TNT_E_INVALID, path, p, "a malformed index");
            if (n->kind != TNT__N_ARRAY)
                return path_error(TNT_E_NOTFOUND, path, p, "not a list");
            c = n->child;
            for (unsigned long long k = 0; c && k < i; k++)
                c = c->next;
            if (!c)
                return path_error(TNT_E_NOTFOUND, path, p, "index out of range");
            n = c;
            p = end;
        }
        if (*p == '\0')
            break;
        if (*p != '.')
            return path_error(TNT_E_INVALID, path, p, "'.' or '[' expected");
        p++;
    }
    *out = n;
    return TNT_OK;
}

tnt_status tnt_event_get(tnt_value *out, tnt_event *ev, const char *path)
{
    if (!out || !ev || !path)
        return TNT_E_MISUSE;
    const tnt__node *n = view(ev);
    if (!n)
        return tnt__error(TNT_E_NOMEM, "tnt_event_get: out of memory");
    tnt_status st = walk(&n, n, path);
    if (st != TNT_OK)
        return st;
    memset(out, 0, sizeof *out);
    switch (n->kind) {
    case TNT__N_NULL: out->kind = TNT_VALUE_NULL; break;
    case TNT__N_FALSE:
    case TNT__N_TRUE:
        out->kind = TNT_VALUE_BOOL;
        out->boolean = n->kind == TNT__N_TRUE;
        break;
    case TNT__N_NUMBER:
        out->kind = TNT_VALUE_NUMBER;
        out->string = n->str;
        locale_t old = tnt__c_numeric_begin();
        out->number = strtod(n->str, NULL); /* the nearest double; past its range, +-HUGE_VAL or 0 */
        tnt__c_numeric_end(old);
        break;
    case TNT__N_STRING:
        out->kind = TNT_VALUE_STRING;
        out->string = n->str;
        break;
    default:
        out->kind = n->kind == TNT__N_ARRAY ? TNT_VALUE_ARRAY : TNT_VALUE_OBJECT;
        out->count = n->count;
    }
    return TNT_OK;
}

size_t tnt_event_prefix_count(const tnt_event *ev) { return ev ? ev->n_prefixes : 0; }

tnt_status tnt_event_prefix_at(const char **prefix_out, const char **iri_out, const tnt_event *ev, size_t index)
{
    if (!ev || index >= ev->n_prefixes)
        return TNT_E_NOTFOUND;
    if (prefix_out)
        *prefix_out = ev->prefixes[index].prefix;
    if (iri_out)
        *iri_out = ev->prefixes[index].iri;
    return TNT_OK;
}

size_t tnt_event_index(const tnt_event *ev) { return ev ? ev->index : 0; }
int tnt_event_is_valid(const tnt_event *ev) { return ev && ev->n_diags == 0; }
size_t tnt_event_error_count(const tnt_event *ev) { return ev ? ev->n_diags : 0; }

tnt_status tnt_event_error_at(const char **code_out, const char **path_out, const char **message_out,
                              const tnt_event *ev, size_t index)
{
    if (!ev || index >= ev->n_diags)
        return TNT_E_NOTFOUND;
    const tnt__diag *d = &ev->diags[index];
    if (code_out)
        *code_out = d->code;
    if (path_out)
        *path_out = d->path;
    if (message_out)
        *message_out = d->message;
    return TNT_OK;
}

tnt_status tnt_event_clone(tnt_event **out, const tnt_event *ev)
{
    if (!out || !ev)
        return TNT_E_MISUSE;
    *out = tnt__event_clone(ev);
    if (!*out)
        return tnt__error(TNT_E_NOMEM, "tnt_event_clone: out of memory");
    tnt__handle_acquire();
    return TNT_OK;
}

void tnt_event_free(tnt_event *ev)
{
    if (!ev || !ev->owns_arena)
        return;
    tnt__arena *a = ev->arena;
    tnt__arena_destroy(a);
    tnt__free(a);
    tnt__handle_release();
}

tnt_status tnt_event_to_json(char **out, size_t *len_out, const tnt_event *ev, unsigned int flags)
{
    if (!out || !ev)
        return TNT_E_MISUSE;
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__epcis_write(&b, ev, flags);
    *out = tnt__buf_detach(&b, len_out);
    return *out ? TNT_OK : tnt__error(TNT_E_NOMEM, "tnt_event_to_json: out of memory");
}

tnt_status tnt_event_to_proto(void **out, size_t *len_out, const tnt_event *ev)
{
    if (!out || !len_out || !ev)
        return TNT_E_MISUSE;
    return tnt__proto_encode_event(out, len_out, ev);
}

tnt_status tnt_event_from_proto(tnt_event **out, const void *data, size_t len)
{
    if (!out || (!data && len))
        return TNT_E_MISUSE;
    *out = NULL;
    if (len > ((size_t)64 << 20))
        return tnt__error(TNT_E_TOOBIG, "tnt_event_from_proto: message of %zu bytes is over 64 MiB", len);
    tnt__arena *a = tnt__malloc(sizeof *a);
    if (!a)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt__arena_init(a, 0);
    tnt_event *ev = tnt__event_new(a);
    tnt_status st = ev ? tnt__proto_decode_event(ev, data, len) : TNT_E_NOMEM;
    if (st != TNT_OK) {
        tnt__arena_destroy(a);
        tnt__free(a);
        return st == TNT_E_NOMEM ? tnt__error(st, "out of memory") : st;
    }
    ev->owns_arena = true;
    tnt__handle_acquire();
    *out = ev;
    return TNT_OK;
}
