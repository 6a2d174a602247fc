/* The flat event record (see flat.h).
 *
 * Layout, after the 3-byte magic: the fields in one fixed order.
 *   u8 type, u8 action, u32 present (little-endian), u8 flags
 *     (1 error declaration, 2 persistent disposition, 4 hash id)
 *   times: u8 set, then if set i64 ms and i16 offset (little-endian)
 *   strings: varint (length + 1), 0 for none, then the bytes and a NUL (a
 *     decoded event's strings point into its copy of the record)
 *   lists: varint count, then the items
 *   doubles: 8 bytes, IEEE 754, little-endian
 *   extension objects: varint count of members, then each member as a node:
 *     u8 kind, string key, string ns, string value, varint count, items
 * Everything the protobuf form leaves out (an absent sensorMetadata's
 * fields, list items that are NULL, prefixes without a name or IRI) is left
 * out here too, so that both forms hold the same event. */
#include <string.h>

#include "codec/flat.h"
#include "codec/proto.h"

enum { F_ERRDECL = 1, F_PD = 2, F_HASH = 4, F_ALL = 7 };

/* ---- writing ---- */

/* tnt__buf_append, without a call while there is room (most of the record's
 * items are a byte or a few). */
static inline void put(tnt__buf *b, const void *p, size_t n)
{
    if (!b->oom && b->cap - b->len > n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
    } else
        tnt__buf_append(b, p, n);
}

static inline void put_u8(tnt__buf *b, unsigned v)
{
    if (!b->oom && b->cap - b->len > 1) {
        b->data[b->len++] = (char)v;
        b->data[b->len] = '\0';
    } else {
        uint8_t c = (uint8_t)v;
        tnt__buf_append(b, &c, 1);
    }
}

static void put_varint(tnt__buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    put(b, t, n);
}

static void put_le(tnt__buf *b, uint64_t v, size_t n)
{
    uint8_t t[8];
    for (size_t i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    put(b, t, n);
}

static void put_double(tnt__buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_le(b, u, 8);
}

static void put_str(tnt__buf *b, const char *s)
{
    if (!s) {
        put_u8(b, 0);
        return;
    }
    size_t n = strlen(s);
    if (n < 0x7f)
        put_u8(b, (unsigned)n + 1);
    else
        put_varint(b, (uint64_t)n + 1);
    put(b, s, n + 1); /* with its NUL: the reader points into the record */
}

static void put_time(tnt__buf *b, const tnt__time *t)
{
    put_u8(b, t->set);
    if (t->set) {
        put_le(b, (uint64_t)t->ms, 8);
        put_le(b, (uint16_t)t->off, 2);
    }
}

static void put_strs(tnt__buf *b, const tnt__strs *l)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < l->n; i++)
        n += l->v[i] != NULL;
    put_varint(b, n);
    for (uint32_t i = 0; i < l->n; i++)
        if (l->v[i])
            put_str(b, l->v[i]);
}

static void put_node(tnt__buf *b, const tnt__node *n)
{
    put_u8(b, n->kind);
    put_str(b, n->key);
    put_str(b, n->ns);
    /* a string or a number always has its text (the protobuf form reads a missing one as "") */
    put_str(b, n->str ? n->str : n->kind == TNT__N_STRING || n->kind == TNT__N_NUMBER ? "" : NULL);
    uint32_t count = 0;
    for (const tnt__node *c = n->child; c; c = c->next)
        count++;
    put_varint(b, count);
    for (const tnt__node *c = n->child; c; c = c->next)
        put_node(b, c);
}

static void put_ext(tnt__buf *b, const tnt__node *obj)
{
    uint32_t count = 0;
    for (const tnt__node *c = obj ? obj->child : NULL; c; c = c->next)
        count++;
    put_varint(b, count);
    for (const tnt__node *c = obj ? obj->child : NULL; c; c = c->next)
        put_node(b, c);
}

static void put_qtys(tnt__buf *b, const tnt__qtys *l)
{
    put_varint(b, l->n);
    for (uint32_t i = 0; i < l->n; i++) {
        const tnt__qty *q = &l->v[i];
        put_str(b, q->epc_class);
        put_u8(b, q->has_quantity);
        if (q->has_quantity)
            put_double(b, q->quantity);
        put_str(b, q->uom);
        put_ext(b, q->ext);
    }
}

static void put_refs(tnt__buf *b, const tnt__refs *l)
{
    put_varint(b, l->n);
    for (uint32_t i = 0; i < l->n; i++) {
        put_str(b, l->v[i].type);
        put_str(b, l->v[i].value);
        put_ext(b, l->v[i].ext);
    }
}

/* The strings of a sensor report, in their order in the record. */
#define SREPORT_STRS(r)                                                                                                \
    {&(r)->type, &(r)->exception, &(r)->device_id, &(r)->device_metadata, &(r)->raw_data,                          \
     &(r)->data_processing_method, &(r)->biz_rules, &(r)->microorganism, &(r)->chemical_substance,                 \
     &(r)->coordinate_reference_system, &(r)->component, &(r)->string_value, &(r)->hex_binary_value,               \
     &(r)->uri_value, &(r)->uom}
#define NSREPORT_STRS 15

static void put_sensors(tnt__buf *b, const tnt_event *ev)
{
    put_varint(b, ev->n_sensors);
    for (uint32_t i = 0; i < ev->n_sensors; i++) {
        const tnt__sensor *se = &ev->sensors[i];
        put_u8(b, se->has_meta);
        if (se->has_meta) {
            const tnt__smeta *m = &se->meta;
            put_time(b, &m->time);
            put_time(b, &m->start_time);
            put_time(b, &m->end_time);
            put_str(b, m->device_id);
            put_str(b, m->device_metadata);
            put_str(b, m->raw_data);
            put_str(b, m->data_processing_method);
            put_str(b, m->biz_rules);
            put_ext(b, m->ext);
        }
        put_varint(b, se->n_reports);
        for (uint32_t k = 0; k < se->n_reports; k++) {
            const tnt__sreport *r = &se->reports[k];
            const char *const *strs[NSREPORT_STRS] = SREPORT_STRS(r);
            for (int s = 0; s < NSREPORT_STRS; s++)
                put_str(b, *strs[s]);
            put_time(b, &r->time);
            uint8_t has = r->has_num & ((1u << TNT__SR_NUMS) - 1);
            put_u8(b, has);
            for (int x = 0; x < TNT__SR_NUMS; x++)
                if (has >> x & 1)
                    put_double(b, r->num[x]);
            put_u8(b, r->boolean_value < 0 ? 2 : r->boolean_value == 1);
            put_ext(b, r->ext);
        }
        put_ext(b, se->ext);
    }
}

void tnt__flat_encode_event(tnt__buf *b, const tnt_event *ev)
{
    tnt__buf_reserve(b, 1024);
    put(b, TNT__FLAT_EVENT_MAGIC, TNT__FLAT_EVENT_MAGIC_LEN);
    put_u8(b, ev->type);
    put_u8(b, ev->action);
    put_le(b, ev->present, 4);
    put_u8(b, (ev->error_decl ? F_ERRDECL : 0) | (ev->has_pd ? F_PD : 0) | (ev->hash_id[0] ? F_HASH : 0));
    put_time(b, &ev->event_time);
    put_time(b, &ev->record_time);
    put_str(b, ev->event_time_zone_offset);
    put_str(b, ev->event_id);
    put_strs(b, &ev->certification_info);
    if (ev->error_decl) {
        put_time(b, &ev->error_decl->declaration_time);
        put_str(b, ev->error_decl->reason);
        put_strs(b, &ev->error_decl->corrective_ids);
        put_ext(b, ev->error_decl->ext);
    }
    put_strs(b, &ev->epc_list);
    put_str(b, ev->parent_id);
    put_strs(b, &ev->child_epcs);
    put_qtys(b, &ev->quantity_list);
    put_qtys(b, &ev->child_quantity_list);
    put_strs(b, &ev->input_epcs);
    put_qtys(b, &ev->input_quantity_list);
    put_strs(b, &ev->output_epcs);
    put_qtys(b, &ev->output_quantity_list);
    put_str(b, ev->transformation_id);
    put_str(b, ev->biz_step);
    put_str(b, ev->disposition);
    if (ev->has_pd) {
        put_strs(b, &ev->pd_set);
        put_strs(b, &ev->pd_unset);
    }
    put_str(b, ev->read_point);
    put_ext(b, ev->read_point_ext);
    put_str(b, ev->biz_location);
    put_ext(b, ev->biz_location_ext);
    put_refs(b, &ev->biz_transactions);
    put_refs(b, &ev->sources);
    put_refs(b, &ev->destinations);
    put_sensors(b, ev);
    put_ext(b, ev->ilmd);
    put_ext(b, ev->ext);
    uint32_t np = 0;
    for (uint32_t i = 0; i < ev->n_prefixes; i++)
        np += ev->prefixes[i].prefix && ev->prefixes[i].iri;
    put_varint(b, np);
    for (uint32_t i = 0; i < ev->n_prefixes; i++)
        if (ev->prefixes[i].prefix && ev->prefixes[i].iri) {
            put_str(b, ev->prefixes[i].prefix);
            put_str(b, ev->prefixes[i].iri);
        }
    if (ev->hash_id[0])
        put_str(b, ev->hash_id);
}

/* ---- reading ---- */

/* the readers of one field, inlined: most fields are short or absent */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

typedef struct rd {
    const uint8_t *p, *end;
    tnt__arena *a;
    int depth;
    const char *why; /* the first thing found wrong; NULL while all is well */
    bool oom;
} rd;

__attribute__((cold, noinline)) static bool bad(rd *r, const char *why)
{
    if (!r->why)
        r->why = why;
    r->p = r->end; /* nothing more is read */
    return false;
}

ALWAYS_INLINE bool ok(const rd *r) { return !r->why && !r->oom; }

ALWAYS_INLINE unsigned get_u8(rd *r)
{
    if (r->p == r->end)
        return bad(r, "the record ends early"), 0;
    return *r->p++;
}

ALWAYS_INLINE uint64_t get_le(rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return bad(r, "the record ends early"), 0;
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, r->p, n); /* n is a constant where this is inlined: one load */
#else
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
#endif
    r->p += n;
    return v;
}

static uint64_t get_varint_long(rd *r);

ALWAYS_INLINE uint64_t get_varint(rd *r)
{
    if (r->p < r->end && *r->p < 0x80) /* most are one byte */
        return *r->p++;
    return get_varint_long(r);
}

static uint64_t get_varint_long(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end)
            return bad(r, "the record ends early"), 0;
        uint8_t c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    return bad(r, "a length is not a varint"), 0;
}

/* A count of items that each take at least one byte. */
ALWAYS_INLINE uint32_t get_count(rd *r)
{
    uint64_t n = get_varint(r);
    if (n > (uint64_t)(r->end - r->p) || n > UINT32_MAX / 2)
        return bad(r, "a count is larger than the record"), 0;
    return (uint32_t)n;
}

static double get_double(rd *r)
{
    uint64_t u = get_le(r, 8);
    double d;
    memcpy(&d, &u, 8);
    if (d - d != 0)
        return bad(r, "a number is not finite"), 0;
    return d;
}

/* A string in place: the record was copied into the event's arena whole. */
ALWAYS_INLINE const char *get_str(rd *r)
{
    uint64_t n = get_varint(r);
    if (n == 0 || !ok(r))
        return NULL;
    if (n > (uint64_t)(r->end - r->p))
        return bad(r, "a string is longer than the record"), NULL;
    const char *s = (const char *)r->p;
    if (s[n - 1] != '\0')
        return bad(r, "a string does not end with U+0000"), NULL;
    /* most strings are short and ASCII: checked here, the rest by tnt__utf8_valid */
    size_t i = 0, len = (size_t)n - 1;
    for (; len - i >= 8; i += 8) { /* eight bytes at a time while none is 0 or has its high bit */
        uint64_t w;
        memcpy(&w, s + i, 8);
        if ((((w - 0x0101010101010101u) & ~w) | w) & 0x8080808080808080u)
            break;
    }
    if (i < len && len >= 8 && len - i < 8) { /* the tail: the last eight bytes, overlapping */
        uint64_t w;
        memcpy(&w, s + len - 8, 8);
        if (!((((w - 0x0101010101010101u) & ~w) | w) & 0x8080808080808080u))
            i = len;
    }
    while (i < len && (unsigned char)(s[i] - 1) < 0x7f)
        i++;
    if (i < len && !tnt__utf8_valid(s + i, len - i, false))
        return bad(r, "a string is not UTF-8 or holds U+0000"), NULL;
    r->p += n;
    return s;
}

static void *get_array(rd *r, uint32_t n, size_t size)
{
    if (!n)
        return NULL;
    void *v = tnt__arena_zalloc(r->a, (size_t)n * size);
    if (!v)
        r->oom = true, r->p = r->end;
    return v;
}

ALWAYS_INLINE void get_time(rd *r, tnt__time *t)
{
    unsigned set = get_u8(r);
    if (set > 1)
        return (void)bad(r, "a time's flag is not 0 or 1");
    if (!set)
        return;
    int64_t ms = (int64_t)get_le(r, 8);
    int16_t off = (int16_t)(uint16_t)get_le(r, 2);
    if (ms < TNT__TIME_MIN_MS || ms > TNT__TIME_MAX_MS || off < -TNT__OFFSET_MAX || off > TNT__OFFSET_MAX)
        return (void)bad(r, "a timestamp is out of range");
    int64_t local = ms + (int64_t)off * 60000; /* written with its offset, too; no overflow once both are in range */
    if (local < TNT__TIME_MIN_MS || local > TNT__TIME_MAX_MS)
        return (void)bad(r, "a timestamp is out of range");
    *t = (tnt__time){ms, off, true};
}

/* Most lists and extensions of an event are empty: a count of 0, one byte,
 * read here; the rest by the readers of their items. */
ALWAYS_INLINE bool empty(rd *r)
{
    if (r->p < r->end && *r->p == 0) {
        r->p++;
        return true;
    }
    return false;
}

#define LIST_READER(name, type)                                                                                      \
    ALWAYS_INLINE void name(rd *r, type *l)                                                                          \
    {                                                                                                                \
        if (empty(r))                                                                                                \
            l->v = NULL, l->n = 0;                                                                                   \
        else                                                                                                         \
            name##_items(r, l);                                                                                      \
    }

static void get_strs_items(rd *r, tnt__strs *l)
{
    uint32_t n = get_count(r);
    l->v = get_array(r, n, sizeof *l->v);
    for (uint32_t i = 0; i < n && ok(r); i++) {
        const char *s = get_str(r);
        if (!s && ok(r))
            return (void)bad(r, "a list holds no string");
        l->v[i] = s;
    }
    l->n = ok(r) ? n : 0;
}

LIST_READER(get_strs, tnt__strs)

static tnt__node *get_node(rd *r, bool member)
{
    if (r->depth >= TNT__MAX_DEPTH)
        return bad(r, "nesting too deep"), NULL;
    unsigned kind = get_u8(r);
    const char *key = get_str(r), *ns = get_str(r), *str = get_str(r);
    uint32_t count = get_count(r);
    if (!ok(r))
        return NULL;
    if (kind > TNT__N_OBJECT)
        return bad(r, "unknown node kind"), NULL;
    if (member != (key != NULL))
        return bad(r, member ? "an object member has no key" : "an array item has a key"), NULL;
    bool text = kind == TNT__N_STRING || kind == TNT__N_NUMBER;
    if (text != (str != NULL))
        return bad(r, text ? "a string or number node has no value" : "a node of this kind has no value"), NULL;
    if (kind == TNT__N_NUMBER && !tnt__json_number(str))
        return bad(r, "a number node's value is not a JSON number"), NULL;
    if (count && kind != TNT__N_ARRAY && kind != TNT__N_OBJECT)
        return bad(r, "a node of this kind has no items"), NULL;
    tnt__node *n = tnt__node_new(r->a, (uint8_t)kind, key, str);
    if (!n)
        return r->oom = true, r->p = r->end, NULL;
    n->ns = ns;
    r->depth++;
    for (uint32_t i = 0; i < count && ok(r); i++) {
        tnt__node *c = get_node(r, kind == TNT__N_OBJECT);
        if (c)
            tnt__node_append(n, c);
    }
    r->depth--;
    return ok(r) ? n : NULL;
}

static tnt__node *get_ext_items(rd *r)
{
    uint32_t count = get_count(r);
    if (!count || !ok(r))
        return NULL;
    tnt__node *obj = tnt__node_new(r->a, TNT__N_OBJECT, NULL, NULL);
    if (!obj)
        return r->oom = true, r->p = r->end, NULL;
    for (uint32_t i = 0; i < count && ok(r); i++) { /* members count from 0, as in the protobuf form */
        tnt__node *c = get_node(r, true);
        if (c)
            tnt__node_append(obj, c);
    }
    return ok(r) ? obj : NULL;
}

/* Most events have no extension here: one byte, 0. */
ALWAYS_INLINE tnt__node *get_ext(rd *r) { return empty(r) ? NULL : get_ext_items(r); }

static void get_qtys_items(rd *r, tnt__qtys *l)
{
    uint32_t n = get_count(r);
    l->v = get_array(r, n, sizeof *l->v);
    for (uint32_t i = 0; i < n && ok(r); i++) {
        tnt__qty *q = &l->v[i];
        q->epc_class = get_str(r);
        unsigned has = get_u8(r);
        if (has > 1)
            return (void)bad(r, "a quantity's flag is not 0 or 1");
        q->has_quantity = has;
        if (has)
            q->quantity = get_double(r);
        q->uom = get_str(r);
        q->ext = get_ext(r);
    }
    l->n = ok(r) ? n : 0;
}

LIST_READER(get_qtys, tnt__qtys)

static void get_refs_items(rd *r, tnt__refs *l)
{
    uint32_t n = get_count(r);
    l->v = get_array(r, n, sizeof *l->v);
    for (uint32_t i = 0; i < n && ok(r); i++) {
        l->v[i].type = get_str(r);
        l->v[i].value = get_str(r);
        l->v[i].ext = get_ext(r);
    }
    l->n = ok(r) ? n : 0;
}

LIST_READER(get_refs, tnt__refs)

static void get_sensors(rd *r, tnt_event *ev)
{
    uint32_t n = get_count(r);
    ev->sensors = get_array(r, n, sizeof *ev->sensors);
    for (uint32_t i = 0; i < n && ok(r); i++) {
        tnt__sensor *se = &ev->sensors[i];
        unsigned has_meta = get_u8(r);
        if (has_meta > 1)
            return (void)bad(r, "a sensor's flag is not 0 or 1");
        se->has_meta = has_meta;
        if (has_meta) {
            tnt__smeta *m = &se->meta;
            get_time(r, &m->time);
            get_time(r, &m->start_time);
            get_time(r, &m->end_time);
            m->device_id = get_str(r);
            m->device_metadata = get_str(r);
            m->raw_data = get_str(r);
            m->data_processing_method = get_str(r);
            m->biz_rules = get_str(r);
            m->ext = get_ext(r);
        }
        uint32_t nr = get_count(r);
        se->reports = get_array(r, nr, sizeof *se->reports);
        for (uint32_t k = 0; k < nr && ok(r); k++) {
            tnt__sreport *rep = &se->reports[k];
            const char **strs[NSREPORT_STRS] = SREPORT_STRS(rep);
            for (int s = 0; s < NSREPORT_STRS; s++)
                *strs[s] = get_str(r);
            get_time(r, &rep->time);
            unsigned has = get_u8(r);
            if (has >> TNT__SR_NUMS)
                return (void)bad(r, "a sensor report's number flags are unknown");
            rep->has_num = (uint8_t)has;
            for (int x = 0; x < TNT__SR_NUMS; x++)
                if (has >> x & 1)
                    rep->num[x] = get_double(r);
            unsigned bv = get_u8(r);
            if (bv > 2)
                return (void)bad(r, "a sensor report's boolean is not 0, 1 or absent");
            rep->boolean_value = bv == 2 ? -1 : (int8_t)bv;
            rep->ext = get_ext(r);
        }
        se->n_reports = ok(r) ? nr : 0;
        se->ext = get_ext(r);
    }
    ev->n_sensors = ok(r) ? n : 0;
}

bool tnt__flat_is_event(const void *data, size_t len)
{
    return len >= TNT__FLAT_EVENT_MAGIC_LEN && memcmp(data, TNT__FLAT_EVENT_MAGIC, TNT__FLAT_EVENT_MAGIC_LEN) == 0;
}

tnt_status tnt__flat_decode_event(tnt_event *ev, const void *data, size_t len)
{
    if (!tnt__flat_is_event(data, len))
        return tnt__error(TNT_E_SYNTAX, "malformed event record: no flat event header");
    uint8_t *copy = tnt__arena_alloc(ev->arena, len); /* the event's strings point into it */
    if (!copy)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    memcpy(copy, data, len);
    rd r = {copy + TNT__FLAT_EVENT_MAGIC_LEN, copy + len, ev->arena, 0, NULL, false};
    unsigned type = get_u8(&r), action = get_u8(&r);
    ev->present = (uint32_t)get_le(&r, 4);
    unsigned flags = get_u8(&r);
    if (ok(&r) && (type > TNT_EVENT_ASSOCIATION || action > TNT_ACTION_DELETE))
        bad(&r, "unknown event type or action");
    if (ok(&r) && (flags & ~(unsigned)F_ALL))
        bad(&r, "unknown flags");
    ev->type = (uint8_t)type;
    ev->action = (uint8_t)action;
    get_time(&r, &ev->event_time);
    get_time(&r, &ev->record_time);
    ev->event_time_zone_offset = get_str(&r);
    ev->event_id = get_str(&r);
    get_strs(&r, &ev->certification_info);
    if (flags & F_ERRDECL) {
        tnt__errdecl *e = tnt__arena_zalloc(ev->arena, sizeof *e);
        if (!e)
            r.oom = true, r.p = r.end;
        else {
            get_time(&r, &e->declaration_time);
            e->reason = get_str(&r);
            get_strs(&r, &e->corrective_ids);
            e->ext = get_ext(&r);
            ev->error_decl = e;
        }
    }
    get_strs(&r, &ev->epc_list);
    ev->parent_id = get_str(&r);
    get_strs(&r, &ev->child_epcs);
    get_qtys(&r, &ev->quantity_list);
    get_qtys(&r, &ev->child_quantity_list);
    get_strs(&r, &ev->input_epcs);
    get_qtys(&r, &ev->input_quantity_list);
    get_strs(&r, &ev->output_epcs);
    get_qtys(&r, &ev->output_quantity_list);
    ev->transformation_id = get_str(&r);
    ev->biz_step = get_str(&r);
    ev->disposition = get_str(&r);
    ev->has_pd = (flags & F_PD) != 0;
    if (ev->has_pd) {
        get_strs(&r, &ev->pd_set);
        get_strs(&r, &ev->pd_unset);
    }
    ev->read_point = get_str(&r);
    ev->read_point_ext = get_ext(&r);
    ev->biz_location = get_str(&r);
    ev->biz_location_ext = get_ext(&r);
    get_refs(&r, &ev->biz_transactions);
    get_refs(&r, &ev->sources);
    get_refs(&r, &ev->destinations);
    get_sensors(&r, ev);
    ev->ilmd = get_ext(&r);
    ev->ext = get_ext(&r);
    uint32_t np = get_count(&r);
    for (uint32_t i = 0; i < np && ok(&r); i++) {
        const char *prefix = get_str(&r), *iri = get_str(&r);
        if (ok(&r) && (!prefix || !iri))
            bad(&r, "a namespace prefix has no name or IRI");
        else if (ok(&r) && !tnt__event_add_prefix(ev, prefix, iri))
            r.oom = true;
    }
    if (flags & F_HASH) {
        const char *h = get_str(&r);
        size_t hn = h ? (size_t)((const char *)r.p - h) : 0; /* with its NUL, which get_str checked */
        if (ok(&r) && (!h || hn > sizeof ev->hash_id))
            bad(&r, "the event hash is missing or too long");
        else if (ok(&r))
            memcpy(ev->hash_id, h, hn); /* not strcpy: its inlined rep movs starts slowly */
    }
    if (ok(&r) && r.p != r.end)
        bad(&r, "bytes after the event");
    if (r.oom)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    if (r.why)
        return tnt__error(TNT_E_SYNTAX, "malformed event record: %s", r.why);
    return TNT_OK;
}

tnt_status tnt__event_record_decode(tnt_event *ev, const void *data, size_t len)
{
    tnt_status st = tnt__flat_is_event(data, len) ? tnt__flat_decode_event(ev, data, len)
                                                  : tnt__proto_decode_event(ev, data, len);
    /* what the store holds was written by the engine: a record that does not read is damage */
    return st == TNT_E_SYNTAX ? tnt__error(TNT_E_CORRUPT, "a stored event is corrupt: %s", tnt_error_last()) : st;
}
