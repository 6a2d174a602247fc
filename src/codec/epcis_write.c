/* The event model -> EPCIS 2.0 JSON-LD. Fields come out in the standard's
 * order; values as the model holds them (the input's form, or the canonical
 * form after normalisation); extensions and ILMD as they were received. */
#include <string.h>

#include "codec/epcis.h"

#define EPCIS_CONTEXT "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#define MAX_PRETTY_DEPTH 64

typedef struct w {
    tnt__buf *b;
    bool pretty;
    int depth;
    bool need_comma;
} w;

static void newline(w *x)
{
    if (!x->pretty)
        return;
    tnt__buf_putc(x->b, '\n');
    for (int i = 0; i < x->depth && i < MAX_PRETTY_DEPTH; i++)
        tnt__buf_append(x->b, "  ", 2);
}

static void key(w *x, const char *k)
{
    if (x->need_comma)
        tnt__buf_putc(x->b, ',');
    if (x->depth)
        newline(x);
    if (k) {
        tnt__buf_json_str(x->b, k);
        tnt__buf_append(x->b, x->pretty ? ": " : ":", x->pretty ? 2 : 1);
    }
    x->need_comma = true;
}

static void jopen(w *x, const char *k, char c)
{
    key(x, k);
    tnt__buf_putc(x->b, c);
    x->depth++;
    x->need_comma = false;
}

static void jclose(w *x, char c)
{
    x->depth--;
    if (x->need_comma)
        newline(x);
    tnt__buf_putc(x->b, c);
    x->need_comma = true;
}

static void str(w *x, const char *k, const char *v)
{
    if (!v)
        return;
    key(x, k);
    tnt__buf_json_str(x->b, v);
}

static void raw(w *x, const char *k, const char *v)
{
    key(x, k);
    tnt__buf_puts(x->b, v);
}

static void num(w *x, const char *k, double v)
{
    char buf[40];
    tnt__num_format(buf, sizeof buf, v);
    raw(x, k, buf);
}

static void time_(w *x, const char *k, const tnt__time *t)
{
    if (!t->set)
        return;
    char buf[40];
    tnt__time_format(buf, t, false);
    str(x, k, buf);
}

static void node(w *x, const tnt__node *n, bool with_key)
{
    const char *k = with_key ? n->key : NULL;
    switch (n->kind) {
    case TNT__N_NULL: raw(x, k, "null"); break;
    case TNT__N_FALSE: raw(x, k, "false"); break;
    case TNT__N_TRUE: raw(x, k, "true"); break;
    case TNT__N_NUMBER: raw(x, k, n->str); break;
    case TNT__N_STRING: str(x, k, n->str); break;
    default:
        jopen(x, k, n->kind == TNT__N_ARRAY ? '[' : '{');
        for (const tnt__node *c = n->child; c; c = c->next)
            node(x, c, n->kind == TNT__N_OBJECT);
        jclose(x, n->kind == TNT__N_ARRAY ? ']' : '}');
    }
}

/* The members of an extension object, inline in the current object. */
static void ext(w *x, const tnt__node *obj)
{
    for (const tnt__node *c = obj ? obj->child : NULL; c; c = c->next)
        node(x, c, true);
}

/* The event's own members; its written @context gives way to a generated one. */
static void event_ext(w *x, const tnt__node *obj, bool skip_context)
{
    for (const tnt__node *c = obj ? obj->child : NULL; c; c = c->next)
        if (!(skip_context && strcmp(c->key, "@context") == 0))
            node(x, c, true);
}

static void strs(w *x, const char *k, const tnt__strs *l, bool always)
{
    if (!l->n && !always)
        return;
    jopen(x, k, '[');
    for (uint32_t i = 0; i < l->n; i++)
        str(x, NULL, l->v[i]);
    jclose(x, ']');
}

static void qtys(w *x, const char *k, const tnt__qtys *l, bool always)
{
    if (!l->n && !always)
        return;
    jopen(x, k, '[');
    for (uint32_t i = 0; i < l->n; i++) {
        const tnt__qty *q = &l->v[i];
        jopen(x, NULL, '{');
        str(x, "epcClass", q->epc_class);
        if (q->has_quantity)
            num(x, "quantity", q->quantity);
        str(x, "uom", q->uom);
        ext(x, q->ext);
        jclose(x, '}');
    }
    jclose(x, ']');
}

static void refs(w *x, const char *k, const char *vk, const tnt__refs *l, bool always)
{
    if (!l->n && !always)
        return;
    jopen(x, k, '[');
    for (uint32_t i = 0; i < l->n; i++) {
        jopen(x, NULL, '{');
        str(x, "type", l->v[i].type);
        str(x, vk, l->v[i].value);
        ext(x, l->v[i].ext);
        jclose(x, '}');
    }
    jclose(x, ']');
}

static void place(w *x, const char *k, const char *id, const tnt__node *e, bool present)
{
    if (!id && !e && !present)
        return;
    jopen(x, k, '{');
    str(x, "id", id);
    ext(x, e);
    jclose(x, '}');
}

static void report(w *x, const tnt__sreport *r)
{
    static const char *const numk[TNT__SR_NUMS] = {"value", "minValue", "maxValue", "meanValue",
                                                   "sDev", "percRank", "percValue"};
    jopen(x, NULL, '{');
    str(x, "type", r->type);
    str(x, "exception", r->exception);
    str(x, "deviceID", r->device_id);
    str(x, "deviceMetadata", r->device_metadata);
    str(x, "rawData", r->raw_data);
    str(x, "dataProcessingMethod", r->data_processing_method);
    str(x, "bizRules", r->biz_rules);
    time_(x, "time", &r->time);
    str(x, "microorganism", r->microorganism);
    str(x, "chemicalSubstance", r->chemical_substance);
    str(x, "coordinateReferenceSystem", r->coordinate_reference_system);
    str(x, "component", r->component);
    str(x, "stringValue", r->string_value);
    if (r->boolean_value >= 0)
        raw(x, "booleanValue", r->boolean_value ? "true" : "false");
    str(x, "hexBinaryValue", r->hex_binary_value);
    str(x, "uriValue", r->uri_value);
    for (int i = 0; i < TNT__SR_NUMS; i++)
        if ((r->has_num >> i) & 1)
            num(x, numk[i], r->num[i]);
    str(x, "uom", r->uom);
    ext(x, r->ext);
    jclose(x, '}');
}

static void sensors(w *x, const tnt_event *ev)
{
    if (!ev->n_sensors && !(ev->present & TNT__P_SENSORS))
        return;
    jopen(x, "sensorElementList", '[');
    for (uint32_t i = 0; i < ev->n_sensors; i++) {
        const tnt__sensor *s = &ev->sensors[i];
        jopen(x, NULL, '{');
        if (s->has_meta) {
            const tnt__smeta *m = &s->meta;
            jopen(x, "sensorMetadata", '{');
            time_(x, "time", &m->time);
            time_(x, "startTime", &m->start_time);
            time_(x, "endTime", &m->end_time);
            str(x, "deviceID", m->device_id);
            str(x, "deviceMetadata", m->device_metadata);
            str(x, "rawData", m->raw_data);
            str(x, "dataProcessingMethod", m->data_processing_method);
            str(x, "bizRules", m->biz_rules);
            ext(x, m->ext);
            jclose(x, '}');
        }
        jopen(x, "sensorReport", '[');
        for (uint32_t j = 0; j < s->n_reports; j++)
            report(x, &s->reports[j]);
        jclose(x, ']');
        ext(x, s->ext);
        jclose(x, '}');
    }
    jclose(x, ']');
}

static void context(w *x, const tnt_event *ev)
{
    jopen(x, "@context", '[');
    str(x, NULL, EPCIS_CONTEXT);
    for (uint32_t i = 0; i < ev->n_prefixes; i++) {
        jopen(x, NULL, '{');
        str(x, ev->prefixes[i].prefix, ev->prefixes[i].iri);
        jclose(x, '}');
    }
    jclose(x, ']');
}

static const char *action_name(uint8_t a)
{
    return a == TNT_ACTION_ADD ? "ADD" : a == TNT_ACTION_OBSERVE ? "OBSERVE" : a == TNT_ACTION_DELETE ? "DELETE" : NULL;
}

void tnt__epcis_write(tnt__buf *b, const tnt_event *ev, unsigned int flags)
{
    w x = {b, (flags & TNT_JSON_PRETTY) != 0, 0, false};
    uint32_t p = ev->present;
    jopen(&x, NULL, '{');
    if (flags & TNT_JSON_CONTEXT)
        context(&x, ev);
    str(&x, "type", ev->type ? tnt_event_type_name(ev->type) : NULL);
    time_(&x, "eventTime", &ev->event_time);
    str(&x, "eventTimeZoneOffset", ev->event_time_zone_offset);
    time_(&x, "recordTime", &ev->record_time);
    str(&x, "eventID", ev->event_id ? ev->event_id : (flags & TNT_JSON_HASH_ID) && ev->hash_id[0] ? ev->hash_id : NULL);
    if (ev->certification_info.n == 1 && !(p & TNT__P_CERT_LIST))
        str(&x, "certificationInfo", ev->certification_info.v[0]);
    else
        strs(&x, "certificationInfo", &ev->certification_info, p & TNT__P_CERT_LIST);
    if (ev->error_decl) {
        const tnt__errdecl *e = ev->error_decl;
        jopen(&x, "errorDeclaration", '{');
        time_(&x, "declarationTime", &e->declaration_time);
        str(&x, "reason", e->reason);
        strs(&x, "correctiveEventIDs", &e->corrective_ids, false);
        ext(&x, e->ext);
        jclose(&x, '}');
    }
    str(&x, "parentID", ev->parent_id);
    strs(&x, "epcList", &ev->epc_list, p & TNT__P_EPC_LIST);
    strs(&x, "childEPCs", &ev->child_epcs, p & TNT__P_CHILD_EPCS);
    strs(&x, "inputEPCList", &ev->input_epcs, p & TNT__P_INPUT_EPCS);
    qtys(&x, "quantityList", &ev->quantity_list, p & TNT__P_QUANTITY_LIST);
    qtys(&x, "childQuantityList", &ev->child_quantity_list, p & TNT__P_CHILD_QUANTITY);
    qtys(&x, "inputQuantityList", &ev->input_quantity_list, p & TNT__P_INPUT_QUANTITY);
    strs(&x, "outputEPCList", &ev->output_epcs, p & TNT__P_OUTPUT_EPCS);
    qtys(&x, "outputQuantityList", &ev->output_quantity_list, p & TNT__P_OUTPUT_QUANTITY);
    str(&x, "action", action_name(ev->action));
    str(&x, "transformationID", ev->transformation_id);
    str(&x, "bizStep", ev->biz_step);
    str(&x, "disposition", ev->disposition);
    if (ev->has_pd) {
        jopen(&x, "persistentDisposition", '{');
        strs(&x, "set", &ev->pd_set, false);
        strs(&x, "unset", &ev->pd_unset, false);
        jclose(&x, '}');
    }
    place(&x, "readPoint", ev->read_point, ev->read_point_ext, p & TNT__P_READ_POINT);
    place(&x, "bizLocation", ev->biz_location, ev->biz_location_ext, p & TNT__P_BIZ_LOCATION);
    refs(&x, "bizTransactionList", "bizTransaction", &ev->biz_transactions, p & TNT__P_BIZ_TRANSACTIONS);
    refs(&x, "sourceList", "source", &ev->sources, p & TNT__P_SOURCES);
    refs(&x, "destinationList", "destination", &ev->destinations, p & TNT__P_DESTINATIONS);
    sensors(&x, ev);
    if (ev->ilmd) {
        jopen(&x, "ilmd", '{');
        ext(&x, ev->ilmd);
        jclose(&x, '}');
    } else if (p & TNT__P_ILMD) {
        raw(&x, "ilmd", "{}");
    }
    event_ext(&x, ev->ext, flags & TNT_JSON_CONTEXT);
    jclose(&x, '}');
}

void tnt__json_write_node(tnt__buf *b, const tnt__node *n, bool pretty)
{
    w x = {b, pretty, 0, false};
    node(&x, n, false);
}
