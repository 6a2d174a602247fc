/* The protobuf wire form <-> the event model, with nanopb.
 *
 * nanopb makes every string and repeated field of tnt.proto a callback field
 * (they have no size limit), so decoding writes straight into the event's
 * arena. Before a message is decoded or encoded, bind() points each of its
 * callback fields at the model object it fills or reads; a repeated
 * submessage is decoded by its callback into a fresh object the same way.
 * The few singular submessages (timestamps, errorDeclaration,
 * persistentDisposition, sensorMetadata) are plain structs of the message,
 * bound along with it. The calling thread's context holds the arena and the
 * nesting depth. */
#include <pb_common.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <string.h>

#include "codec/proto.h"
#include "tnt.pb.h"


typedef struct pbctx {
    tnt__arena *a;       /* decoding: where strings go */
    int depth;           /* decoding: submessages open */
    bool oom;
} pbctx;

static _Thread_local pbctx *t_ctx;

/* Messages are read through this callback rather than nanopb's own buffer
 * reader, so that the field callback can tell a length-delimited field (its
 * substream reads through here) from a scalar of the wrong wire type. */
static bool read_cb(pb_istream_t *s, pb_byte_t *buf, size_t count)
{
    const pb_byte_t **at = s->state;
    if (buf && count == 1) /* nanopb reads tags and lengths a byte at a time */
        *buf = **at;
    else if (buf)
        memcpy(buf, *at, count);
    *at += count;
    return true;
}

/* ---- helpers: decoding ---- */

static bool decode_field(pb_istream_t *s, const pb_field_iter_t *f, void *dst);
static bool encode_field(pb_ostream_t *s, const pb_field_iter_t *f, const void *src);

static bool dec_cb(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    if (s->callback != read_cb) {
        /* nanopb hands a scalar over in a copy read by its own callback;
         * every callback field of tnt.proto is a string, a submessage or a
         * repeated one of those. */
        PB_SET_ERROR(s, "wrong wire type");
        return false;
    }
    return decode_field(s, f, *arg);
}

static bool enc_cb(pb_ostream_t *s, const pb_field_iter_t *f, void *const *arg) { return encode_field(s, f, *arg); }

/* Where each message keeps its callback fields, listed at compile time from
 * nanopb's field lists: binding sets them directly instead of walking the
 * message's descriptor, which cost as much as decoding the message. */
typedef struct callbacks {
    const pb_msgdesc_t *fields;
    const uint16_t *off;
    size_t n;
} callbacks;

#define CB_CALLBACK(msg, name) (uint16_t)offsetof(msg, name),
#define CB_STATIC(msg, name)
#define CB_FIELD(msg, atype, htype, ltype, name, tag) CB_##atype(msg, name)
#define CALLBACKS(msg)                                                                                                 \
    static const uint16_t msg##_cb_off[] = {msg##_FIELDLIST(CB_FIELD, msg)};                                           \
    static const callbacks msg##_cb = {msg##_fields, msg##_cb_off, sizeof msg##_cb_off / sizeof msg##_cb_off[0]};

CALLBACKS(tnt_v1_Node)
CALLBACKS(tnt_v1_QuantityElement)
CALLBACKS(tnt_v1_TypedRef)
CALLBACKS(tnt_v1_SensorMetadata)
CALLBACKS(tnt_v1_SensorReport)
CALLBACKS(tnt_v1_SensorElement)
CALLBACKS(tnt_v1_ErrorDeclaration)
CALLBACKS(tnt_v1_PersistentDisposition)
CALLBACKS(tnt_v1_Prefix)
CALLBACKS(tnt_v1_Event)
CALLBACKS(tnt_v1_Condition)
CALLBACKS(tnt_v1_Report)

/* Point every callback field of msg (not of its submessages) at obj. */
static void bind(const callbacks *cb, void *msg, const void *obj, bool decoding)
{
    for (size_t i = 0; i < cb->n; i++) {
        pb_callback_t *f = (pb_callback_t *)((char *)msg + cb->off[i]);
        if (decoding)
            f->funcs.decode = dec_cb;
        else
            f->funcs.encode = enc_cb;
        f->arg = (void *)obj;
    }
}

static bool read_str(pb_istream_t *s, const char **out)
{
    pbctx *c = t_ctx;
    size_t n = s->bytes_left;
    char *p = tnt__arena_alloc(c->a, n + 1);
    if (!p) {
        c->oom = true;
        return false;
    }
    if (!pb_read(s, (pb_byte_t *)p, n))
        return false;
    if (!tnt__utf8_valid(p, n, false)) { /* proto3 strings are UTF-8; the model holds C strings */
        PB_SET_ERROR(s, "a string is not UTF-8 or holds U+0000");
        return false;
    }
    p[n] = '\0';
    *out = p;
    return true;
}

/* JSON's number syntax: the lexeme is written into JSON as it is. */
bool tnt__json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return false;
    if (*s == '.') {
        if (*++s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        if (*++s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static bool finite_ok(pb_istream_t *s, double v)
{
    if (v - v == 0) /* neither infinite nor NaN */
        return true;
    PB_SET_ERROR(s, "a number is not finite");
    return false;
}

/* Append to a list in the arena; capacity is the next power of two. */
static void *grow(tnt__arena *a, void *v, uint32_t n, size_t size)
{
    if (n && (n & (n - 1)))
        return v;
    void *p = tnt__arena_alloc(a, (n ? 2 * (size_t)n : 1) * size);
    if (p && n)
        memcpy(p, v, n * size);
    return p;
}

static bool push_str(pb_istream_t *s, tnt__strs *l)
{
    const char **v = grow(t_ctx->a, (void *)l->v, l->n, sizeof *l->v);
    if (!v)
        return t_ctx->oom = true, false;
    l->v = v;
    if (!read_str(s, &l->v[l->n]))
        return false; /* not counted: the slot holds nothing */
    l->n++;
    return true;
}

/* A Timestamp within what xsd:dateTime text can say (years 1 to 9999, offsets to 14 h). */
static bool ts_ok(const tnt_v1_Timestamp *ts)
{
    if (ts->ms < TNT__TIME_MIN_MS || ts->ms > TNT__TIME_MAX_MS || ts->offset_min < -TNT__OFFSET_MAX ||
        ts->offset_min > TNT__OFFSET_MAX)
        return false;
    int64_t local = ts->ms + (int64_t)ts->offset_min * 60000; /* written with its offset, too */
    return local >= TNT__TIME_MIN_MS && local <= TNT__TIME_MAX_MS;
}

static void time_set(tnt__time *t, bool has, const tnt_v1_Timestamp *ts)
{
    if (!has)
        return;
    t->ms = ts->ms;
    t->off = (int16_t)ts->offset_min;
    t->set = true;
}

static bool time_in(pb_istream_t *s, tnt__time *t, bool has, const tnt_v1_Timestamp *ts)
{
    if (has && !ts_ok(ts)) {
        PB_SET_ERROR(s, "a timestamp is out of range");
        return false;
    }
    time_set(t, has, ts);
    return true;
}

/* Decode a submessage into msg (zeroed by the caller: nanopb need not set
 * the defaults, which are zero in proto3), its callback fields into dst. */
static bool sub_decode(pb_istream_t *s, const callbacks *cb, void *msg, void *dst)
{
    if (t_ctx->depth >= TNT__MAX_DEPTH) {
        PB_SET_ERROR(s, "nesting too deep");
        return false;
    }
    bind(cb, msg, dst, true);
    t_ctx->depth++;
    bool ok = pb_decode_ex(s, cb->fields, msg, PB_DECODE_NOINIT);
    t_ctx->depth--;
    return ok;
}

/* The shape of a JSON value: members have names and items do not, only
 * containers have children, only strings and numbers have text, and a
 * number's text is a JSON number. */
static bool node_ok(pb_istream_t *s, const tnt__node *n)
{
    bool container = n->kind == TNT__N_ARRAY || n->kind == TNT__N_OBJECT;
    const char *why = NULL;
    if (n->kind == TNT__N_NUMBER && !tnt__json_number(n->str))
        why = "a number node's value is not a JSON number";
    else if (n->str && n->kind != TNT__N_STRING && n->kind != TNT__N_NUMBER)
        why = "a node of this kind has no value";
    else if (n->child && !container)
        why = "a node of this kind has no items";
    for (const tnt__node *c = n->child; c && !why; c = c->next)
        if ((c->key != NULL) != (n->kind == TNT__N_OBJECT))
            why = n->kind == TNT__N_OBJECT ? "an object member has no key" : "an array item has a key";
    if (why)
        PB_SET_ERROR(s, why);
    return why == NULL;
}

static tnt__node *node_decode(pb_istream_t *s, tnt__node *parent)
{
    tnt__node *n = tnt__node_new(t_ctx->a, TNT__N_NULL, NULL, NULL);
    if (!n)
        return t_ctx->oom = true, NULL;
    tnt_v1_Node m = tnt_v1_Node_init_zero;
    if (!sub_decode(s, &tnt_v1_Node_cb, &m, n))
        return NULL;
    if (m.kind > tnt_v1_Node_Kind_OBJECT) {
        PB_SET_ERROR(s, "unknown node kind");
        return NULL;
    }
    n->kind = (uint8_t)m.kind;
    if ((n->kind == TNT__N_STRING || n->kind == TNT__N_NUMBER) && !n->str)
        n->str = "";
    if (!node_ok(s, n))
        return NULL;
    if (parent)
        tnt__node_append(parent, n);
    return n;
}

/* An extension member into an object node created on demand. */
static bool ext_decode(pb_istream_t *s, tnt__node **obj)
{
    if (!*obj && !(*obj = tnt__node_new(t_ctx->a, TNT__N_OBJECT, NULL, NULL)))
        return t_ctx->oom = true, false;
    tnt__node *n = node_decode(s, *obj);
    if (n && !n->key) {
        PB_SET_ERROR(s, "an extension member has no key");
        return false;
    }
    return n != NULL;
}

static bool qty_decode(pb_istream_t *s, tnt__qtys *l)
{
    tnt__qty *v = grow(t_ctx->a, l->v, l->n, sizeof *v);
    if (!v)
        return t_ctx->oom = true, false;
    l->v = v;
    tnt__qty *q = &v[l->n++];
    memset(q, 0, sizeof *q);
    tnt_v1_QuantityElement m = tnt_v1_QuantityElement_init_zero;
    if (!sub_decode(s, &tnt_v1_QuantityElement_cb, &m, q) || (m.has_quantity && !finite_ok(s, m.quantity)))
        return false;
    q->has_quantity = m.has_quantity;
    q->quantity = m.quantity;
    return true;
}

static bool ref_decode(pb_istream_t *s, tnt__refs *l)
{
    tnt__ref *v = grow(t_ctx->a, l->v, l->n, sizeof *v);
    if (!v)
        return t_ctx->oom = true, false;
    l->v = v;
    tnt__ref *r = &v[l->n++];
    memset(r, 0, sizeof *r);
    tnt_v1_TypedRef m = tnt_v1_TypedRef_init_zero;
    return sub_decode(s, &tnt_v1_TypedRef_cb, &m, r);
}

static bool report_decode_sub(pb_istream_t *s, tnt__sensor *se)
{
    tnt__sreport *v = grow(t_ctx->a, se->reports, se->n_reports, sizeof *v);
    if (!v)
        return t_ctx->oom = true, false;
    se->reports = v;
    tnt__sreport *r = &v[se->n_reports++];
    memset(r, 0, sizeof *r);
    r->boolean_value = -1;
    tnt_v1_SensorReport m = tnt_v1_SensorReport_init_zero;
    if (!sub_decode(s, &tnt_v1_SensorReport_cb, &m, r))
        return false;
    if (!time_in(s, &r->time, m.has_time, &m.time))
        return false;
    const bool has[TNT__SR_NUMS] = {m.has_value, m.has_min_value, m.has_max_value, m.has_mean_value,
                                    m.has_s_dev, m.has_perc_rank, m.has_perc_value};
    const double val[TNT__SR_NUMS] = {m.value, m.min_value, m.max_value, m.mean_value,
                                      m.s_dev, m.perc_rank, m.perc_value};
    for (int i = 0; i < TNT__SR_NUMS; i++)
        if (has[i]) {
            if (!finite_ok(s, val[i]))
                return false;
            r->num[i] = val[i];
            r->has_num |= (uint8_t)(1u << i);
        }
    if (m.has_boolean_value)
        r->boolean_value = m.boolean_value;
    return true;
}

static bool sensor_decode(pb_istream_t *s, tnt_event *ev)
{
    tnt__sensor *v = grow(t_ctx->a, ev->sensors, ev->n_sensors, sizeof *v);
    if (!v)
        return t_ctx->oom = true, false;
    ev->sensors = v;
    tnt__sensor *se = &v[ev->n_sensors++];
    memset(se, 0, sizeof *se);
    tnt_v1_SensorElement m = tnt_v1_SensorElement_init_zero;
    bind(&tnt_v1_SensorMetadata_cb, &m.metadata, &se->meta, true);
    if (!sub_decode(s, &tnt_v1_SensorElement_cb, &m, se))
        return false;
    se->has_meta = m.has_metadata;
    return time_in(s, &se->meta.time, m.metadata.has_time, &m.metadata.time) &&
           time_in(s, &se->meta.start_time, m.metadata.has_start_time, &m.metadata.start_time) &&
           time_in(s, &se->meta.end_time, m.metadata.has_end_time, &m.metadata.end_time);
}

static bool prefix_decode(pb_istream_t *s, tnt_event *ev)
{
    tnt__prefix p = {NULL, NULL};
    tnt_v1_Prefix m = tnt_v1_Prefix_init_zero;
    if (!sub_decode(s, &tnt_v1_Prefix_cb, &m, &p))
        return false;
    if (!p.prefix || !p.iri)
        return true;
    return tnt__event_add_prefix(ev, p.prefix, p.iri) || (t_ctx->oom = true, false);
}

/* ---- decoding, per message ---- */

static bool dec_event(pb_istream_t *s, pb_size_t tag, tnt_event *ev)
{
    switch (tag) {
    case tnt_v1_Event_event_time_zone_offset_tag: return read_str(s, &ev->event_time_zone_offset);
    case tnt_v1_Event_event_id_tag: return read_str(s, &ev->event_id);
    case tnt_v1_Event_certification_info_tag: return push_str(s, &ev->certification_info);
    case tnt_v1_Event_epc_list_tag: return push_str(s, &ev->epc_list);
    case tnt_v1_Event_parent_id_tag: return read_str(s, &ev->parent_id);
    case tnt_v1_Event_child_epcs_tag: return push_str(s, &ev->child_epcs);
    case tnt_v1_Event_quantity_list_tag: return qty_decode(s, &ev->quantity_list);
    case tnt_v1_Event_child_quantity_list_tag: return qty_decode(s, &ev->child_quantity_list);
    case tnt_v1_Event_input_epc_list_tag: return push_str(s, &ev->input_epcs);
    case tnt_v1_Event_input_quantity_list_tag: return qty_decode(s, &ev->input_quantity_list);
    case tnt_v1_Event_output_epc_list_tag: return push_str(s, &ev->output_epcs);
    case tnt_v1_Event_output_quantity_list_tag: return qty_decode(s, &ev->output_quantity_list);
    case tnt_v1_Event_transformation_id_tag: return read_str(s, &ev->transformation_id);
    case tnt_v1_Event_biz_step_tag: return read_str(s, &ev->biz_step);
    case tnt_v1_Event_disposition_tag: return read_str(s, &ev->disposition);
    case tnt_v1_Event_read_point_tag: return read_str(s, &ev->read_point);
    case tnt_v1_Event_read_point_ext_tag: return ext_decode(s, &ev->read_point_ext);
    case tnt_v1_Event_biz_location_tag: return read_str(s, &ev->biz_location);
    case tnt_v1_Event_biz_location_ext_tag: return ext_decode(s, &ev->biz_location_ext);
    case tnt_v1_Event_biz_transactions_tag: return ref_decode(s, &ev->biz_transactions);
    case tnt_v1_Event_sources_tag: return ref_decode(s, &ev->sources);
    case tnt_v1_Event_destinations_tag: return ref_decode(s, &ev->destinations);
    case tnt_v1_Event_sensor_elements_tag: return sensor_decode(s, ev);
    case tnt_v1_Event_ilmd_tag: return ext_decode(s, &ev->ilmd);
    case tnt_v1_Event_ext_tag: return ext_decode(s, &ev->ext);
    case tnt_v1_Event_prefixes_tag: return prefix_decode(s, ev);
    case tnt_v1_Event_hash_id_tag: {
        const char *h;
        if (!read_str(s, &h))
            return false;
        if (strlen(h) >= sizeof ev->hash_id) {
            PB_SET_ERROR(s, "hash_id too long");
            return false;
        }
        strcpy(ev->hash_id, h);
        return true;
    }
    }
    return true;
}

static bool dec_sreport(pb_istream_t *s, pb_size_t tag, tnt__sreport *r)
{
    switch (tag) {
    case tnt_v1_SensorReport_type_tag: return read_str(s, &r->type);
    case tnt_v1_SensorReport_exception_tag: return read_str(s, &r->exception);
    case tnt_v1_SensorReport_device_id_tag: return read_str(s, &r->device_id);
    case tnt_v1_SensorReport_device_metadata_tag: return read_str(s, &r->device_metadata);
    case tnt_v1_SensorReport_raw_data_tag: return read_str(s, &r->raw_data);
    case tnt_v1_SensorReport_data_processing_method_tag: return read_str(s, &r->data_processing_method);
    case tnt_v1_SensorReport_biz_rules_tag: return read_str(s, &r->biz_rules);
    case tnt_v1_SensorReport_microorganism_tag: return read_str(s, &r->microorganism);
    case tnt_v1_SensorReport_chemical_substance_tag: return read_str(s, &r->chemical_substance);
    case tnt_v1_SensorReport_coordinate_reference_system_tag: return read_str(s, &r->coordinate_reference_system);
    case tnt_v1_SensorReport_component_tag: return read_str(s, &r->component);
    case tnt_v1_SensorReport_string_value_tag: return read_str(s, &r->string_value);
    case tnt_v1_SensorReport_hex_binary_value_tag: return read_str(s, &r->hex_binary_value);
    case tnt_v1_SensorReport_uri_value_tag: return read_str(s, &r->uri_value);
    case tnt_v1_SensorReport_uom_tag: return read_str(s, &r->uom);
    case tnt_v1_SensorReport_ext_tag: return ext_decode(s, &r->ext);
    }
    return true;
}

static bool dec_smeta(pb_istream_t *s, pb_size_t tag, tnt__smeta *m)
{
    switch (tag) {
    case tnt_v1_SensorMetadata_device_id_tag: return read_str(s, &m->device_id);
    case tnt_v1_SensorMetadata_device_metadata_tag: return read_str(s, &m->device_metadata);
    case tnt_v1_SensorMetadata_raw_data_tag: return read_str(s, &m->raw_data);
    case tnt_v1_SensorMetadata_data_processing_method_tag: return read_str(s, &m->data_processing_method);
    case tnt_v1_SensorMetadata_biz_rules_tag: return read_str(s, &m->biz_rules);
    case tnt_v1_SensorMetadata_ext_tag: return ext_decode(s, &m->ext);
    }
    return true;
}

static bool dec_report(pb_istream_t *s, pb_size_t tag, tnt__report *r)
{
    switch (tag) {
    case tnt_v1_Report_product_id_tag: return read_str(s, &r->product_id);
    case tnt_v1_Report_event_type_tag: return read_str(s, &r->event_type);
    case tnt_v1_Report_location_tag: return read_str(s, &r->location);
    case tnt_v1_Report_device_id_tag: return read_str(s, &r->device_id);
    case tnt_v1_Report_condition_tag: {
        tnt__cond *v = grow(t_ctx->a, r->conds, r->n_conds, sizeof *v);
        if (!v)
            return t_ctx->oom = true, false;
        r->conds = v;
        tnt__cond *c = &v[r->n_conds++];
        memset(c, 0, sizeof *c);
        tnt_v1_Condition m = tnt_v1_Condition_init_zero;
        if (!sub_decode(s, &tnt_v1_Condition_cb, &m, c) || !finite_ok(s, m.value))
            return false;
        if (!c->type) {
            PB_SET_ERROR(s, "a condition has no type");
            return false;
        }
        c->value = m.value;
        return true;
    }
    }
    return true;
}

/* One callback field of a message being decoded into the model object dst. */
static bool decode_field(pb_istream_t *s, const pb_field_iter_t *f, void *dst)
{
    const pb_msgdesc_t *d = f->descriptor;
    if (d == tnt_v1_Event_fields)
        return dec_event(s, f->tag, dst);
    if (d == tnt_v1_Node_fields) {
        tnt__node *n = dst;
        if (f->tag == tnt_v1_Node_key_tag)
            return read_str(s, &n->key);
        if (f->tag == tnt_v1_Node_ns_tag)
            return read_str(s, &n->ns);
        if (f->tag == tnt_v1_Node_value_tag)
            return read_str(s, &n->str);
        if (f->tag == tnt_v1_Node_items_tag)
            return node_decode(s, n) != NULL;
        return true;
    }
    if (d == tnt_v1_QuantityElement_fields) {
        tnt__qty *q = dst;
        if (f->tag == tnt_v1_QuantityElement_epc_class_tag)
            return read_str(s, &q->epc_class);
        if (f->tag == tnt_v1_QuantityElement_uom_tag)
            return read_str(s, &q->uom);
        if (f->tag == tnt_v1_QuantityElement_ext_tag)
            return ext_decode(s, &q->ext);
        return true;
    }
    if (d == tnt_v1_TypedRef_fields) {
        tnt__ref *r = dst;
        if (f->tag == tnt_v1_TypedRef_type_tag)
            return read_str(s, &r->type);
        if (f->tag == tnt_v1_TypedRef_value_tag)
            return read_str(s, &r->value);
        if (f->tag == tnt_v1_TypedRef_ext_tag)
            return ext_decode(s, &r->ext);
        return true;
    }
    if (d == tnt_v1_SensorElement_fields) {
        tnt__sensor *se = dst;
        if (f->tag == tnt_v1_SensorElement_reports_tag)
            return report_decode_sub(s, se);
        if (f->tag == tnt_v1_SensorElement_ext_tag)
            return ext_decode(s, &se->ext);
        return true;
    }
    if (d == tnt_v1_SensorReport_fields)
        return dec_sreport(s, f->tag, dst);
    if (d == tnt_v1_SensorMetadata_fields)
        return dec_smeta(s, f->tag, dst);
    if (d == tnt_v1_ErrorDeclaration_fields) {
        tnt__errdecl *e = dst;
        if (f->tag == tnt_v1_ErrorDeclaration_reason_tag)
            return read_str(s, &e->reason);
        if (f->tag == tnt_v1_ErrorDeclaration_corrective_event_ids_tag)
            return push_str(s, &e->corrective_ids);
        if (f->tag == tnt_v1_ErrorDeclaration_ext_tag)
            return ext_decode(s, &e->ext);
        return true;
    }
    if (d == tnt_v1_PersistentDisposition_fields) {
        tnt_event *ev = dst;
        if (f->tag == tnt_v1_PersistentDisposition_set_tag)
            return push_str(s, &ev->pd_set);
        if (f->tag == tnt_v1_PersistentDisposition_unset_tag)
            return push_str(s, &ev->pd_unset);
        return true;
    }
    if (d == tnt_v1_Prefix_fields) {
        tnt__prefix *p = dst;
        if (f->tag == tnt_v1_Prefix_prefix_tag)
            return read_str(s, &p->prefix);
        if (f->tag == tnt_v1_Prefix_iri_tag)
            return read_str(s, &p->iri);
        return true;
    }
    if (d == tnt_v1_Report_fields)
        return dec_report(s, f->tag, dst);
    if (d == tnt_v1_Condition_fields) {
        tnt__cond *k = dst;
        if (f->tag == tnt_v1_Condition_type_tag)
            return read_str(s, &k->type);
        if (f->tag == tnt_v1_Condition_uom_tag)
            return read_str(s, &k->uom);
        return true;
    }
    return true; /* Batch is read by the reader itself */
}

/* ---- helpers: encoding ---- */

static bool enc_str(pb_ostream_t *s, const pb_field_iter_t *f, const char *v)
{
    if (!v)
        return true;
    return pb_encode_tag_for_field(s, f) && pb_encode_string(s, (const pb_byte_t *)v, strlen(v));
}

static bool enc_strs(pb_ostream_t *s, const pb_field_iter_t *f, const tnt__strs *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (!enc_str(s, f, l->v[i]))
            return false;
    return true;
}

/* A stream into a growable buffer. */
static bool buf_write(pb_ostream_t *s, const pb_byte_t *data, size_t n)
{
    tnt__buf *b = s->state;
    tnt__buf_append(b, data, n);
    if (b->oom)
        PB_SET_ERROR(s, "out of memory");
    return !b->oom;
}

/* Encode msg as field f, its callback fields read from src. nanopb's
 * pb_encode_submessage() runs a message twice (once to size it, once to
 * write it), so nested callback messages would run 2^depth times: the
 * message is written once into a buffer instead, then copied with its
 * length. A sizing stream (nanopb sizing a static submessage around this
 * one) takes the message as nanopb does. */
static bool enc_sub(pb_ostream_t *s, const pb_field_iter_t *f, const callbacks *cb, void *msg, const void *src)
{
    bind(cb, msg, src, false);
    if (!pb_encode_tag_for_field(s, f))
        return false;
    if (!s->callback)
        return pb_encode_submessage(s, cb->fields, msg);
    tnt__buf b;
    tnt__buf_init(&b);
    pb_ostream_t os = {.callback = buf_write, .state = &b, .max_size = SIZE_MAX};
    bool ok = pb_encode(&os, cb->fields, msg);
    if (!ok)
        PB_SET_ERROR(s, PB_GET_ERROR(&os));
    ok = ok && pb_encode_varint(s, b.len) && pb_write(s, (const pb_byte_t *)b.data, b.len);
    tnt__buf_free(&b);
    return ok;
}

static tnt_v1_Timestamp ts_out(const tnt__time *t) { return (tnt_v1_Timestamp){t->ms, t->off}; }

static bool enc_node(pb_ostream_t *s, const pb_field_iter_t *f, const tnt__node *n)
{
    tnt_v1_Node m = tnt_v1_Node_init_zero;
    m.kind = (tnt_v1_Node_Kind)n->kind;
    return enc_sub(s, f, &tnt_v1_Node_cb, &m, n);
}

/* The members of an extension object, each as one repeated Node. */
static bool enc_ext(pb_ostream_t *s, const pb_field_iter_t *f, const tnt__node *obj)
{
    for (const tnt__node *c = obj ? obj->child : NULL; c; c = c->next)
        if (!enc_node(s, f, c))
            return false;
    return true;
}

static bool enc_qtys(pb_ostream_t *s, const pb_field_iter_t *f, const tnt__qtys *l)
{
    for (uint32_t i = 0; i < l->n; i++) {
        tnt_v1_QuantityElement m = tnt_v1_QuantityElement_init_zero;
        m.has_quantity = l->v[i].has_quantity;
        m.quantity = l->v[i].quantity;
        if (!enc_sub(s, f, &tnt_v1_QuantityElement_cb, &m, &l->v[i]))
            return false;
    }
    return true;
}

static bool enc_refs(pb_ostream_t *s, const pb_field_iter_t *f, const tnt__refs *l)
{
    for (uint32_t i = 0; i < l->n; i++) {
        tnt_v1_TypedRef m = tnt_v1_TypedRef_init_zero;
        if (!enc_sub(s, f, &tnt_v1_TypedRef_cb, &m, &l->v[i]))
            return false;
    }
    return true;
}

static bool enc_sensors(pb_ostream_t *s, const pb_field_iter_t *f, const tnt_event *ev)
{
    for (uint32_t i = 0; i < ev->n_sensors; i++) {
        const tnt__sensor *se = &ev->sensors[i];
        tnt_v1_SensorElement m = tnt_v1_SensorElement_init_zero;
        m.has_metadata = se->has_meta;
        m.metadata.has_time = se->meta.time.set;
        m.metadata.time = ts_out(&se->meta.time);
        m.metadata.has_start_time = se->meta.start_time.set;
        m.metadata.start_time = ts_out(&se->meta.start_time);
        m.metadata.has_end_time = se->meta.end_time.set;
        m.metadata.end_time = ts_out(&se->meta.end_time);
        bind(&tnt_v1_SensorMetadata_cb, &m.metadata, &se->meta, false);
        if (!enc_sub(s, f, &tnt_v1_SensorElement_cb, &m, se))
            return false;
    }
    return true;
}

static bool enc_reports(pb_ostream_t *s, const pb_field_iter_t *f, const tnt__sensor *se)
{
    for (uint32_t i = 0; i < se->n_reports; i++) {
        const tnt__sreport *r = &se->reports[i];
        tnt_v1_SensorReport m = tnt_v1_SensorReport_init_zero;
        m.has_time = r->time.set;
        m.time = ts_out(&r->time);
        bool *has[TNT__SR_NUMS] = {&m.has_value, &m.has_min_value, &m.has_max_value, &m.has_mean_value,
                                   &m.has_s_dev, &m.has_perc_rank, &m.has_perc_value};
        double *val[TNT__SR_NUMS] = {&m.value, &m.min_value, &m.max_value, &m.mean_value,
                                     &m.s_dev, &m.perc_rank, &m.perc_value};
        for (int k = 0; k < TNT__SR_NUMS; k++) {
            *has[k] = (r->has_num >> k) & 1;
            *val[k] = r->num[k];
        }
        m.has_boolean_value = r->boolean_value >= 0;
        m.boolean_value = r->boolean_value == 1;
        if (!enc_sub(s, f, &tnt_v1_SensorReport_cb, &m, r))
            return false;
    }
    return true;
}

/* ---- encoding, per message ---- */

static bool enc_event(pb_ostream_t *s, const pb_field_iter_t *f, const tnt_event *ev)
{
    switch (f->tag) {
    case tnt_v1_Event_event_time_zone_offset_tag: return enc_str(s, f, ev->event_time_zone_offset);
    case tnt_v1_Event_event_id_tag: return enc_str(s, f, ev->event_id);
    case tnt_v1_Event_certification_info_tag: return enc_strs(s, f, &ev->certification_info);
    case tnt_v1_Event_epc_list_tag: return enc_strs(s, f, &ev->epc_list);
    case tnt_v1_Event_parent_id_tag: return enc_str(s, f, ev->parent_id);
    case tnt_v1_Event_child_epcs_tag: return enc_strs(s, f, &ev->child_epcs);
    case tnt_v1_Event_quantity_list_tag: return enc_qtys(s, f, &ev->quantity_list);
    case tnt_v1_Event_child_quantity_list_tag: return enc_qtys(s, f, &ev->child_quantity_list);
    case tnt_v1_Event_input_epc_list_tag: return enc_strs(s, f, &ev->input_epcs);
    case tnt_v1_Event_input_quantity_list_tag: return enc_qtys(s, f, &ev->input_quantity_list);
    case tnt_v1_Event_output_epc_list_tag: return enc_strs(s, f, &ev->output_epcs);
    case tnt_v1_Event_output_quantity_list_tag: return enc_qtys(s, f, &ev->output_quantity_list);
    case tnt_v1_Event_transformation_id_tag: return enc_str(s, f, ev->transformation_id);
    case tnt_v1_Event_biz_step_tag: return enc_str(s, f, ev->biz_step);
    case tnt_v1_Event_disposition_tag: return enc_str(s, f, ev->disposition);
    case tnt_v1_Event_read_point_tag: return enc_str(s, f, ev->read_point);
    case tnt_v1_Event_read_point_ext_tag: return enc_ext(s, f, ev->read_point_ext);
    case tnt_v1_Event_biz_location_tag: return enc_str(s, f, ev->biz_location);
    case tnt_v1_Event_biz_location_ext_tag: return enc_ext(s, f, ev->biz_location_ext);
    case tnt_v1_Event_biz_transactions_tag: return enc_refs(s, f, &ev->biz_transactions);
    case tnt_v1_Event_sources_tag: return enc_refs(s, f, &ev->sources);
    case tnt_v1_Event_destinations_tag: return enc_refs(s, f, &ev->destinations);
    case tnt_v1_Event_sensor_elements_tag: return enc_sensors(s, f, ev);
    case tnt_v1_Event_ilmd_tag: return enc_ext(s, f, ev->ilmd);
    case tnt_v1_Event_ext_tag: return enc_ext(s, f, ev->ext);
    case tnt_v1_Event_prefixes_tag:
        for (uint32_t i = 0; i < ev->n_prefixes; i++) {
            tnt_v1_Prefix m = tnt_v1_Prefix_init_zero;
            if (!enc_sub(s, f, &tnt_v1_Prefix_cb, &m, &ev->prefixes[i]))
                return false;
        }
        return true;
    case tnt_v1_Event_hash_id_tag: return enc_str(s, f, ev->hash_id[0] ? ev->hash_id : NULL);
    }
    return true;
}

/* One callback field of a message being encoded from the model object src. */
static bool encode_field(pb_ostream_t *s, const pb_field_iter_t *f, const void *src)
{
    const pb_msgdesc_t *d = f->descriptor;
    if (d == tnt_v1_Event_fields)
        return enc_event(s, f, src);
    if (d == tnt_v1_Node_fields) {
        const tnt__node *n = src;
        switch (f->tag) {
        case tnt_v1_Node_key_tag: return enc_str(s, f, n->key);
        case tnt_v1_Node_ns_tag: return enc_str(s, f, n->ns);
        case tnt_v1_Node_value_tag: return enc_str(s, f, n->str);
        case tnt_v1_Node_items_tag:
            for (const tnt__node *c = n->child; c; c = c->next)
                if (!enc_node(s, f, c))
                    return false;
            return true;
        }
        return true;
    }
    if (d == tnt_v1_QuantityElement_fields) {
        const tnt__qty *q = src;
        if (f->tag == tnt_v1_QuantityElement_epc_class_tag)
            return enc_str(s, f, q->epc_class);
        if (f->tag == tnt_v1_QuantityElement_uom_tag)
            return enc_str(s, f, q->uom);
        if (f->tag == tnt_v1_QuantityElement_ext_tag)
            return enc_ext(s, f, q->ext);
        return true;
    }
    if (d == tnt_v1_TypedRef_fields) {
        const tnt__ref *r = src;
        if (f->tag == tnt_v1_TypedRef_type_tag)
            return enc_str(s, f, r->type);
        if (f->tag == tnt_v1_TypedRef_value_tag)
            return enc_str(s, f, r->value);
        if (f->tag == tnt_v1_TypedRef_ext_tag)
            return enc_ext(s, f, r->ext);
        return true;
    }
    if (d == tnt_v1_SensorElement_fields) {
        const tnt__sensor *se = src;
        if (f->tag == tnt_v1_SensorElement_reports_tag)
            return enc_reports(s, f, se);
        if (f->tag == tnt_v1_SensorElement_ext_tag)
            return enc_ext(s, f, se->ext);
        return true;
    }
    if (d == tnt_v1_SensorReport_fields) {
        const tnt__sreport *r = src;
        const char *const strs[] = {
            [tnt_v1_SensorReport_type_tag] = r->type,
            [tnt_v1_SensorReport_exception_tag] = r->exception,
            [tnt_v1_SensorReport_device_id_tag] = r->device_id,
            [tnt_v1_SensorReport_device_metadata_tag] = r->device_metadata,
            [tnt_v1_SensorReport_raw_data_tag] = r->raw_data,
            [tnt_v1_SensorReport_data_processing_method_tag] = r->data_processing_method,
            [tnt_v1_SensorReport_biz_rules_tag] = r->biz_rules,
            [tnt_v1_SensorReport_microorganism_tag] = r->microorganism,
            [tnt_v1_SensorReport_chemical_substance_tag] = r->chemical_substance,
            [tnt_v1_SensorReport_coordinate_reference_system_tag] = r->coordinate_reference_system,
            [tnt_v1_SensorReport_component_tag] = r->component,
            [tnt_v1_SensorReport_string_value_tag] = r->string_value,
            [tnt_v1_SensorReport_hex_binary_value_tag] = r->hex_binary_value,
            [tnt_v1_SensorReport_uri_value_tag] = r->uri_value,
            [tnt_v1_SensorReport_uom_tag] = r->uom,
        };
        if (f->tag == tnt_v1_SensorReport_ext_tag)
            return enc_ext(s, f, r->ext);
        return f->tag < sizeof strs / sizeof strs[0] ? enc_str(s, f, strs[f->tag]) : true;
    }
    if (d == tnt_v1_SensorMetadata_fields) {
        const tnt__smeta *m = src;
        switch (f->tag) {
        case tnt_v1_SensorMetadata_device_id_tag: return enc_str(s, f, m->device_id);
        case tnt_v1_SensorMetadata_device_metadata_tag: return enc_str(s, f, m->device_metadata);
        case tnt_v1_SensorMetadata_raw_data_tag: return enc_str(s, f, m->raw_data);
        case tnt_v1_SensorMetadata_data_processing_method_tag: return enc_str(s, f, m->data_processing_method);
        case tnt_v1_SensorMetadata_biz_rules_tag: return enc_str(s, f, m->biz_rules);
        case tnt_v1_SensorMetadata_ext_tag: return enc_ext(s, f, m->ext);
        }
        return true;
    }
    if (d == tnt_v1_ErrorDeclaration_fields) {
        const tnt__errdecl *e = src;
        if (f->tag == tnt_v1_ErrorDeclaration_reason_tag)
            return enc_str(s, f, e->reason);
        if (f->tag == tnt_v1_ErrorDeclaration_corrective_event_ids_tag)
            return enc_strs(s, f, &e->corrective_ids);
        if (f->tag == tnt_v1_ErrorDeclaration_ext_tag)
            return enc_ext(s, f, e->ext);
        return true;
    }
    if (d == tnt_v1_PersistentDisposition_fields) {
        const tnt_event *ev = src;
        if (f->tag == tnt_v1_PersistentDisposition_set_tag)
            return enc_strs(s, f, &ev->pd_set);
        if (f->tag == tnt_v1_PersistentDisposition_unset_tag)
            return enc_strs(s, f, &ev->pd_unset);
        return true;
    }
    if (d == tnt_v1_Prefix_fields) {
        const tnt__prefix *p = src;
        if (f->tag == tnt_v1_Prefix_prefix_tag)
            return enc_str(s, f, p->prefix);
        if (f->tag == tnt_v1_Prefix_iri_tag)
            return enc_str(s, f, p->iri);
        return true;
    }
    if (d == tnt_v1_Report_fields) {
        const tnt__report *r = src;
        switch (f->tag) {
        case tnt_v1_Report_product_id_tag: return enc_str(s, f, r->product_id);
        case tnt_v1_Report_event_type_tag: return enc_str(s, f, r->event_type);
        case tnt_v1_Report_location_tag: return enc_str(s, f, r->location);
        case tnt_v1_Report_device_id_tag: return enc_str(s, f, r->device_id);
        case tnt_v1_Report_condition_tag:
            for (uint32_t i = 0; i < r->n_conds; i++) {
                tnt_v1_Condition m = tnt_v1_Condition_init_zero;
                m.value = r->conds[i].value;
                if (!enc_sub(s, f, &tnt_v1_Condition_cb, &m, &r->conds[i]))
                    return false;
            }
            return true;
        }
        return true;
    }
    if (d == tnt_v1_Condition_fields) {
        const tnt__cond *c = src;
        if (f->tag == tnt_v1_Condition_type_tag)
            return enc_str(s, f, c->type);
        if (f->tag == tnt_v1_Condition_uom_tag)
            return enc_str(s, f, c->uom);
        return true;
    }
    return true;
}

/* ---- entry points ---- */

/* One pass into a growable buffer (no sizing pass first). */
static tnt_status encode(void **out, size_t *len, const callbacks *cb, void *msg, const void *src)
{
    bind(cb, msg, src, false);
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__buf_reserve(&b, 1024);
    pb_ostream_t os = {.callback = buf_write, .state = &b, .max_size = SIZE_MAX};
    bool ok = pb_encode(&os, cb->fields, msg);
    if (!ok || b.oom) {
        bool oom = b.oom;
        tnt__buf_free(&b);
        return oom ? tnt__error(TNT_E_NOMEM, "out of memory")
                   : tnt__error(TNT_E_INVALID, "protobuf encoding failed: %s", PB_GET_ERROR(&os));
    }
    *out = tnt__buf_detach(&b, len);
    return *out ? TNT_OK : tnt__error(TNT_E_NOMEM, "out of memory");
}

tnt_status tnt__proto_encode_event(void **out, size_t *len, const tnt_event *ev)
{
    tnt_v1_Event m = tnt_v1_Event_init_zero;
    m.type = (tnt_v1_EventType)ev->type;
    m.action = (tnt_v1_Action)ev->action;
    m.has_event_time = ev->event_time.set;
    m.event_time = ts_out(&ev->event_time);
    m.has_record_time = ev->record_time.set;
    m.record_time = ts_out(&ev->record_time);
    m.present = ev->present;
    if ((m.has_error_declaration = ev->error_decl != NULL)) {
        m.error_declaration.has_declaration_time = ev->error_decl->declaration_time.set;
        m.error_declaration.declaration_time = ts_out(&ev->error_decl->declaration_time);
        bind(&tnt_v1_ErrorDeclaration_cb, &m.error_declaration, ev->error_decl, false);
    }
    if ((m.has_persistent_disposition = ev->has_pd))
        bind(&tnt_v1_PersistentDisposition_cb, &m.persistent_disposition, ev, false);
    return encode(out, len, &tnt_v1_Event_cb, &m, ev);
}

static tnt_status decode(const callbacks *cb, void *msg, tnt__arena *a, void *dst, const void *data, size_t len)
{
    pbctx c = {a, 0, false};
    pbctx *saved = t_ctx;
    t_ctx = &c;
    bind(cb, msg, dst, true);
    const pb_byte_t *at = data;
    pb_istream_t is = {read_cb, &at, len, NULL};
    bool ok = pb_decode_ex(&is, cb->fields, msg, PB_DECODE_NOINIT); /* msg is zeroed: see sub_decode */
    t_ctx = saved;
    if (c.oom)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    if (!ok)
        return tnt__error(TNT_E_SYNTAX, "malformed protobuf message: %s", PB_GET_ERROR(&is));
    return TNT_OK;
}

tnt_status tnt__proto_decode_event(tnt_event *ev, const void *data, size_t len)
{
    tnt_v1_Event m = tnt_v1_Event_init_zero;
    tnt__errdecl *e = tnt__arena_zalloc(ev->arena, sizeof *e); /* used if the message has one */
    if (!e)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    bind(&tnt_v1_ErrorDeclaration_cb, &m.error_declaration, e, true);
    bind(&tnt_v1_PersistentDisposition_cb, &m.persistent_disposition, ev, true);
    tnt_status st = decode(&tnt_v1_Event_cb, &m, ev->arena, ev, data, len);
    if (st != TNT_OK)
        return st;
    if (m.has_error_declaration) {
        if (!ts_ok(&m.error_declaration.declaration_time) && m.error_declaration.has_declaration_time)
            return tnt__error(TNT_E_SYNTAX, "malformed protobuf message: a timestamp is out of range");
        time_set(&e->declaration_time, m.error_declaration.has_declaration_time, &m.error_declaration.declaration_time);
        ev->error_decl = e;
    }
    ev->has_pd = m.has_persistent_disposition;
    if ((unsigned)m.type > TNT_EVENT_ASSOCIATION || (unsigned)m.action > TNT_ACTION_DELETE)
        return tnt__error(TNT_E_SYNTAX, "malformed protobuf message: unknown event type or action");
    if ((m.has_event_time && !ts_ok(&m.event_time)) || (m.has_record_time && !ts_ok(&m.record_time)))
        return tnt__error(TNT_E_SYNTAX, "malformed protobuf message: a timestamp is out of range");
    ev->type = (uint8_t)m.type;
    ev->action = (uint8_t)m.action;
    time_set(&ev->event_time, m.has_event_time, &m.event_time);
    time_set(&ev->record_time, m.has_record_time, &m.record_time);
    ev->present = m.present;
    return TNT_OK;
}

tnt_status tnt__proto_decode_report(tnt__report *r, tnt__arena *a, const void *data, size_t len)
{
    tnt_v1_Report m = tnt_v1_Report_init_zero;
    memset(r, 0, sizeof *r);
    tnt_status st = decode(&tnt_v1_Report_cb, &m, a, r, data, len);
    if (st != TNT_OK)
        return st;
    if ((m.has_timestamp && !ts_ok(&m.timestamp)) || (m.has_latitude && m.latitude - m.latitude != 0) ||
        (m.has_longitude && m.longitude - m.longitude != 0))
        return tnt__error(TNT_E_SYNTAX, "malformed protobuf message: a timestamp or a coordinate is out of range");
    time_set(&r->timestamp, m.has_timestamp, &m.timestamp);
    r->has_latlon = m.has_latitude && m.has_longitude;
    r->lat = m.latitude;
    r->lon = m.longitude;
    return TNT_OK;
}

tnt_status tnt__proto_encode_report(void **out, size_t *len, const tnt__report *r)
{
    tnt_v1_Report m = tnt_v1_Report_init_zero;
    m.has_timestamp = r->timestamp.set;
    m.timestamp = ts_out(&r->timestamp);
    m.has_latitude = m.has_longitude = r->has_latlon;
    m.latitude = r->lat;
    m.longitude = r->lon;
    return encode(out, len, &tnt_v1_Report_cb, &m, r);
}
