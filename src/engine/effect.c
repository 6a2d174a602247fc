/* What an event does to the state, and the log records that carry it. */
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdint.h>
#include <string.h>

#include "codec/flat.h"
#include "tnt/sys/backend.h"
#include "codec/proto.h"
#include "engine/engine.h"
#include "engine/record.h"

/* ---- log records ---- */

typedef struct bytes {
    const void *p;
    size_t n;
} bytes;

static bool read_bytes(pb_istream_t *s, const pb_field_iter_t *f, void **arg)
{
    (void)f;
    bytes *b = *arg;
    b->p = s->state; /* a buffer stream: the bytes are in place */
    b->n = s->bytes_left;
    return pb_read(s, NULL, s->bytes_left);
}

static void *encode(tnt__arena *a, const pb_msgdesc_t *fields, const void *msg, size_t *len)
{
    size_t size;
    if (!pb_get_encoded_size(&size, fields, msg))
        return NULL;
    uint8_t *buf = tnt__arena_alloc(a, size ? size : 1);
    if (!buf)
        return NULL;
    pb_ostream_t os = pb_ostream_from_buffer(buf, size);
    if (!pb_encode(&os, fields, msg))
        return NULL;
    *len = os.bytes_written;
    return buf;
}

void *tnt__record_event(tnt__arena *a, const void *event_pb, size_t event_len, size_t *len)
{
    /* a LogRecord with only its event field, written without the message
     * walk (and the 10 KB LogRecord struct it would zero) */
    pb_ostream_t sizing = PB_OSTREAM_SIZING;
    if (!pb_encode_tag(&sizing, PB_WT_STRING, tnt_v1_LogRecord_event_tag) ||
        !pb_encode_string(&sizing, event_pb, event_len))
        return NULL;
    uint8_t *buf = tnt__arena_alloc(a, sizing.bytes_written);
    if (!buf)
        return NULL;
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizing.bytes_written);
    if (!pb_encode_tag(&os, PB_WT_STRING, tnt_v1_LogRecord_event_tag) || !pb_encode_string(&os, event_pb, event_len))
        return NULL;
    *len = os.bytes_written;
    return buf;
}

void *tnt__record_master(tnt__arena *a, const tnt_v1_MasterRecord *m, size_t *len)
{
    tnt_v1_LogRecord r = tnt_v1_LogRecord_init_zero;
    r.has_master = true;
    r.master = *m;
    return encode(a, tnt_v1_LogRecord_fields, &r, len);
}

void *tnt__record_scan(tnt__arena *a, const tnt_v1_Scan *scan, size_t *len)
{
    /* a LogRecord with only its scan field, written without the 10 KB LogRecord struct */
    size_t n;
    if (!pb_get_encoded_size(&n, tnt_v1_Scan_fields, scan))
        return NULL;
    pb_ostream_t sizing = PB_OSTREAM_SIZING;
    if (!pb_encode_tag(&sizing, PB_WT_STRING, tnt_v1_LogRecord_scan_tag) || !pb_encode_varint(&sizing, n))
        return NULL;
    size_t total = sizing.bytes_written + n;
    uint8_t *buf = tnt__arena_alloc(a, total);
    if (!buf)
        return NULL;
    pb_ostream_t os = pb_ostream_from_buffer(buf, total);
    if (!pb_encode_tag(&os, PB_WT_STRING, tnt_v1_LogRecord_scan_tag) || !pb_encode_varint(&os, n) ||
        !pb_encode(&os, tnt_v1_Scan_fields, scan) || os.bytes_written != total)
        return NULL;
    *len = total;
    return buf;
}

tnt_status tnt__record_read(const void *rec, size_t len, tnt__record *out)
{
    bytes b = {NULL, 0};
    /* The common case, a record holding only an event, without the full decode */
    pb_istream_t head = pb_istream_from_buffer(rec, len);
    pb_wire_type_t wt;
    uint32_t tag, n;
    bool eof;
    bool one_field = pb_decode_tag(&head, &wt, &tag, &eof) && wt == PB_WT_STRING && pb_decode_varint32(&head, &n) &&
                     n == head.bytes_left;
    if (one_field && tag == tnt_v1_LogRecord_event_tag && n > 0) {
        out->kind = TNT__REC_EVENT;
        out->event_pb = (const uint8_t *)rec + (len - n);
        out->event_len = n;
        return TNT_OK;
    }
    /* A record holding only a scan or only master data (the log of a busy
     * verification service is mostly scans): its message is read alone, or
     * not at all when the caller wants events only. */
    if (one_field && (tag == tnt_v1_LogRecord_scan_tag || tag == tnt_v1_LogRecord_master_tag)) {
        bool scan = tag == tnt_v1_LogRecord_scan_tag;
        out->kind = scan ? TNT__REC_SCAN : TNT__REC_MASTER;
        if (scan ? !out->scan : !out->master)
            return TNT_OK;
        pb_istream_t sub = pb_istream_from_buffer((const uint8_t *)rec + (len - n), n);
        bool ok;
        if (scan) {
            *out->scan = (tnt_v1_Scan)tnt_v1_Scan_init_zero;
            ok = pb_decode(&sub, tnt_v1_Scan_fields, out->scan);
        } else {
            *out->master = (tnt_v1_MasterRecord)tnt_v1_MasterRecord_init_zero;
            ok = pb_decode(&sub, tnt_v1_MasterRecord_fields, out->master);
        }
        return ok ? TNT_OK : tnt__error(TNT_E_CORRUPT, "malformed log record: %s", PB_GET_ERROR(&sub));
    }
    /* LogRecord holds a MasterRecord and a Scan by value: large, so not on the stack twice */
    tnt_v1_LogRecord *r = tnt__malloc(sizeof *r);
    if (!r)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    *r = (tnt_v1_LogRecord)tnt_v1_LogRecord_init_zero;
    r->event.funcs.decode = read_bytes;
    r->event.arg = &b;
    pb_istream_t is = pb_istream_from_buffer(rec, len);
    tnt_status st = TNT_OK;
    if (!pb_decode(&is, tnt_v1_LogRecord_fields, r))
        st = tnt__error(TNT_E_CORRUPT, "malformed log record: %s", PB_GET_ERROR(&is));
    else if (r->has_master) {
        out->kind = TNT__REC_MASTER;
        if (out->master)
            *out->master = r->master;
    } else if (r->has_scan) {
        out->kind = TNT__REC_SCAN;
        if (out->scan)
            *out->scan = r->scan;
    } else if (b.p) {
        out->kind = TNT__REC_EVENT;
        out->event_pb = b.p;
        out->event_len = b.n;
    } else
        st = tnt__error(TNT_E_CORRUPT, "log record holds no event, master data or scan");
    tnt__free(r);
    return st;
}

void tnt__body_digest(uint8_t out[32], const void *event_pb, size_t len)
{
    tnt__sha256_of(event_pb, len, out);
}

/* ---- effects ---- */

/* Effects outlive the event they come from: strings are copied. */
static const char *cp(tnt__arena *a, const char *s, bool *ok)
{
    if (!s)
        return NULL;
    const char *c = tnt__arena_strdup(a, s);
    if (!c)
        *ok = false;
    return c;
}

/* A list of distinct strings in the order first seen, built in an arena. It
 * doubles as it grows, and once it is long it keeps a hash table of what it
 * holds: an event of tens of thousands of EPCs costs linear time and
 * memory, not the square of its size. */
typedef struct strlist {
    const char **v;
    uint32_t n, cap;
    const char **set; /* open addressing; set_cap is a power of two */
    uint32_t set_cap;
} strlist;

#define SET_FROM 16 /* below this, a scan of the list is quicker */

static void set_insert(const char **set, uint32_t cap, const char *s)
{
    uint32_t j = tnt__str_hash(s) & (cap - 1);
    while (set[j])
        j = (j + 1) & (cap - 1);
    set[j] = s;
}

static bool holds(const strlist *l, const char *s)
{
    if (!l->set) {
        for (uint32_t i = 0; i < l->n; i++)
            if (strcmp(l->v[i], s) == 0)
                return true;
        return false;
    }
    for (uint32_t j = tnt__str_hash(s) & (l->set_cap - 1); l->set[j]; j = (j + 1) & (l->set_cap - 1))
        if (strcmp(l->set[j], s) == 0)
            return true;
    return false;
}

static bool push(tnt__arena *a, strlist *l, const char *s)
{
    if (!s || !*s || holds(l, s))
        return true;
    if (l->n == l->cap) {
        if (l->cap > UINT32_MAX / 4)
            return false;
        uint32_t cap = l->cap ? l->cap * 2 : 8;
        const char **v = tnt__arena_alloc(a, cap * sizeof *v);
        if (!v)
            return false;
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    const char *c = tnt__arena_strdup(a, s);
    if (!c)
        return false;
    l->v[l->n++] = c;
    if (l->n >= SET_FROM && l->n * 2 > l->set_cap) { /* a table twice the list's size at least */
        uint32_t cap = l->set_cap ? l->set_cap * 2 : 64;
        const char **set = tnt__arena_zalloc(a, cap * sizeof *set);
        if (!set)
            return false;
        for (uint32_t i = 0; i < l->n; i++)
            set_insert(set, cap, l->v[i]);
        l->set = set;
        l->set_cap = cap;
    } else if (l->set)
        set_insert(l->set, l->set_cap, c);
    return true;
}

static bool push_all(tnt__arena *a, strlist *l, const tnt__strs *from)
{
    for (uint32_t i = 0; i < from->n; i++)
        if (!push(a, l, from->v[i]))
            return false;
    return true;
}

static bool push_classes(tnt__arena *a, strlist *l, const tnt__qtys *q)
{
    for (uint32_t i = 0; i < q->n; i++)
        if (!push(a, l, q->v[i].epc_class))
            return false;
    return true;
}

const char *tnt__effect_long_id(const tnt__effect *fx)
{
    for (uint32_t i = 0; i < fx->nids; i++) /* the parent and the children are among them */
        if (strlen(fx->ids[i]) > TNT__ID_MAX)
            return fx->ids[i];
    if (fx->event_id && strlen(fx->event_id) > TNT__ID_MAX)
        return fx->event_id;
    return NULL;
}

static void copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool readings(tnt__effect *fx, const tnt_event *ev, tnt__arena *a)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < ev->n_sensors; i++)
        total += ev->sensors[i].n_reports;
    if (!total)
        return true;
    fx->readings = tnt__arena_zalloc(a, total * sizeof *fx->readings);
    if (!fx->readings)
        return false;
    for (uint32_t i = 0; i < ev->n_sensors; i++) {
        const tnt__sensor *s = &ev->sensors[i];
        for (uint32_t j = 0; j < s->n_reports; j++) {
            const tnt__sreport *r = &s->reports[j];
            if (!r->type || !((r->has_num >> TNT__SR_VALUE) & 1) || strlen(r->type) >= sizeof fx->readings->type)
                continue;
            /* The same measurement twice in one event: the later time wins. */
            const tnt__time *t = r->time.set ? &r->time : s->meta.time.set ? &s->meta.time : &ev->event_time;
            tnt_v1_Reading *out = NULL;
            for (uint32_t k = 0; k < fx->nreadings; k++)
                if (strcmp(fx->readings[k].type, r->type) == 0)
                    out = &fx->readings[k];
            if (out && out->time_ms > t->ms)
                continue;
            if (!out)
                out = &fx->readings[fx->nreadings++];
            copy(out->type, sizeof out->type, r->type);
            copy(out->uom, sizeof out->uom, r->uom ? r->uom : "");
            out->value = r->num[TNT__SR_VALUE];
            out->time_ms = t->ms;
        }
    }
    return true;
}

static const char *party(const tnt__refs *l, const char *type)
{
    for (uint32_t i = l->n; i-- > 0;)
        if (l->v[i].type && strcmp(l->v[i].type, type) == 0)
            return l->v[i].value;
    return NULL;
}

/* A string member of the ILMD in the CBV master-data vocabulary. */
static const char *ilmd_str(const tnt_event *ev, const char *local)
{
    if (!ev->ilmd)
        return NULL;
    for (const tnt__node *n = ev->ilmd->child; n; n = n->next)
        if (n->kind == TNT__N_STRING && n->ns && strcmp(n->ns, "urn:epcglobal:cbv:mda:") == 0 &&
            strcmp(tnt__node_local(n), local) == 0)
            return n->str;
    return NULL;
}

static bool effect(tnt__effect *fx, const tnt_event *ev, tnt__arena *a)
{
    memset(fx, 0, sizeof *fx);
    if (!tnt__hash_bytes(fx->hash, ev->hash_id))
        return false;
    fx->time_ms = ev->event_time.ms;
    fx->type = ev->type;
    fx->action = ev->action;
    strlist ids = {0}, children = {0}, pd_set = {0}, pd_unset = {0};
    bool ok = push_all(a, &ids, &ev->epc_list) && push_all(a, &ids, &ev->child_epcs) &&
              push_all(a, &ids, &ev->input_epcs) && push_all(a, &ids, &ev->output_epcs) && push(a, &ids, ev->parent_id) &&
              push_classes(a, &ids, &ev->quantity_list) && push_classes(a, &ids, &ev->child_quantity_list) &&
              push_classes(a, &ids, &ev->input_quantity_list) && push_classes(a, &ids, &ev->output_quantity_list);
    if (!ok)
        return false;
    fx->ids = ids.v;
    fx->nids = ids.n;
    if (ev->type == TNT_EVENT_AGGREGATION || ev->type == TNT_EVENT_ASSOCIATION) {
        fx->parent = cp(a, ev->parent_id, &ok); /* the reader reuses the event's memory for the next one */
        if (!ok || !push_all(a, &children, &ev->child_epcs) || !push_classes(a, &children, &ev->child_quantity_list))
            return false;
        fx->children = children.v;
        fx->nchildren = children.n;
    }
    fx->read_point = cp(a, ev->read_point, &ok);
    fx->biz_location = cp(a, ev->biz_location, &ok);
    fx->biz_step = cp(a, ev->biz_step, &ok);
    fx->disposition = cp(a, ev->disposition, &ok);
    fx->event_id = ev->event_id && *ev->event_id ? cp(a, ev->event_id, &ok) : NULL;
    fx->record_ms = ev->record_time.set ? ev->record_time.ms : INT64_MAX;
    fx->owner = cp(a, party(&ev->destinations, "owning_party"), &ok);
    fx->possessor = cp(a, party(&ev->destinations, "possessing_party"), &ok);
    if (ev->action == TNT_ACTION_ADD) {
        fx->lot = cp(a, ilmd_str(ev, "lotNumber"), &ok);
        fx->expiry = cp(a, ilmd_str(ev, "itemExpirationDate"), &ok);
    }
    ok = ok && push_all(a, &pd_set, &ev->pd_set) && push_all(a, &pd_unset, &ev->pd_unset);
    fx->pd_set = pd_set.v;
    fx->npd_set = pd_set.n;
    fx->pd_unset = pd_unset.v;
    fx->npd_unset = pd_unset.n;
    return ok && readings(fx, ev, a);
}

/* The event's body as the state store keeps it, and its digest: the flat
 * record, or, for the rare event whose flat record would not fit in a store
 * item (an absent field costs a byte there and nothing in protobuf: a
 * sensor element of 20,000 bare readings is 2.5 times larger), its protobuf
 * form pb, which ingest has just encoded and replay reads from the log: the
 * same bytes either way, so a replay stores what the ingest stored. */
static bool body_of(tnt__effect *fx, const tnt_event *ev, const void *pb, size_t pb_len, tnt__arena *a)
{
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__flat_encode_event(&b, ev);
    const void *src = b.data;
    size_t len = b.len;
    if (!b.oom && len + 1 > TNT_STORE_MAX_VALUE && pb_len < len) {
        src = pb;
        len = pb_len;
    }
    void *body = b.oom ? NULL : tnt__arena_alloc(a, len ? len : 1);
    if (body)
        memcpy(body, src, len);
    fx->body = body;
    fx->body_len = len;
    tnt__buf_free(&b);
    if (body)
        tnt__body_digest(fx->digest, body, fx->body_len);
    return body != NULL;
}

bool tnt__effect_of(tnt__effect *fx, const tnt_event *ev, tnt__arena *a)
{
    void *pb = NULL;
    size_t pb_len = 0;
    if (!effect(fx, ev, a) || tnt__proto_encode_event(&pb, &pb_len, ev) != TNT_OK)
        return false;
    bool ok = body_of(fx, ev, pb, pb_len, a);
    fx->record = ok ? tnt__record_event(a, pb, pb_len, &fx->record_len) : NULL;
    tnt__free(pb);
    return fx->record != NULL;
}

bool tnt__effect_from(tnt__effect *fx, const tnt_event *ev, const void *pb, size_t pb_len, tnt__arena *a)
{
    return effect(fx, ev, a) && body_of(fx, ev, pb, pb_len, a);
}
