/* The state record: how the current state of an identifier is stored.
 *
 * Track, authenticate and every applied event read a state, and every
 * applied event writes one back, so the record is laid out to be read in
 * one pass with no schema walk: fixed-width numbers first, then
 * length-prefixed strings in a fixed order. All numbers are little-endian.
 *
 *   0x00 'S' 0x03                     magic and layout version (a protobuf
 *                                     message never starts with 0x00)
 *   10 x 64-bit                       last_time_ms, event_count,
 *                                     parent_since_ms, location_time_ms,
 *                                     first_time_ms, step_time_ms,
 *                                     disposition_time_ms, party_time_ms,
 *                                     lot_time_ms, expiry_time_ms
 *   u8 n, n bytes                     chain (0 or 32 bytes)
 *   u8 n, n bytes                     seal (0 or 32 bytes)
 *   12 x (u16 n, n bytes, NUL)        id, read_point, biz_location, biz_step,
 *                                     disposition, last_event, parent, owner,
 *                                     possessor, first_event, lot, expiry
 *   u8 count, count x reading         u8 n + type + NUL, u8 n + uom + NUL,
 *                                     value (IEEE 754 double), time_ms (64-bit)
 *   u8 count, count x (u8 n, bytes,   persistent dispositions
 *                      NUL)
 *
 * Each string ends with a NUL byte, so a reader of the view (track,
 * authenticate) points into the record and copies nothing. Every length is
 * checked against its field on reading, and every NUL where it belongs: a
 * record that does not fit is TNT_E_CORRUPT, never an overrun. Records
 * written by earlier versions are still read: layout 2 (the first 8 numbers
 * only), layout 1 (layout 2 without the NULs) and a tnt.v1.ProductState
 * protobuf. */
#include <pb_decode.h>
#include <string.h>

#include "engine/engine.h"

#define MAGIC0 0x00
#define MAGIC1 'S'
#define LAYOUT 0x03 /* written; layouts 2 and 1 are read too */
#define LAYOUT2 0x02
#define LAYOUT1 0x01

typedef struct strfield {
    size_t off, cap;
} strfield;

#define F(name) {offsetof(tnt_v1_ProductState, name), sizeof(((tnt_v1_ProductState *)0)->name)}
static const strfield strings[] = {
    F(id),     F(read_point), F(biz_location), F(biz_step),    F(disposition), F(last_event),
    F(parent), F(owner),      F(possessor),    F(first_event), F(lot),         F(expiry),
};
#undef F
#define NSTR (sizeof strings / sizeof strings[0])

static int64_t *num_field(tnt_v1_ProductState *st, int i)
{
    switch (i) {
    case 0: return &st->last_time_ms;
    case 1: return (int64_t *)&st->event_count;
    case 2: return &st->parent_since_ms;
    case 3: return &st->location_time_ms;
    case 4: return &st->first_time_ms;
    case 5: return &st->step_time_ms;
    case 6: return &st->disposition_time_ms;
    case 7: return &st->party_time_ms;
    case 8: return &st->lot_time_ms;
    default: return &st->expiry_time_ms;
    }
}
#define NNUM 10

/* The numbers a record of this layout holds (layouts 1 and 2: 8). */
static int nnum(uint8_t layout) { return layout == LAYOUT ? NNUM : 8; }

static size_t bounded_len(const char *s, size_t cap) { return strnlen(s, cap - 1); }

size_t tnt__state_size(const tnt_v1_ProductState *st)
{
    size_t n = 3 + NNUM * 8 + 2 + st->chain.size + st->seal.size + 2;
    for (size_t i = 0; i < NSTR; i++)
        n += 3 + bounded_len((const char *)st + strings[i].off, strings[i].cap);
    for (pb_size_t i = 0; i < st->readings_count && i < 16; i++)
        n += 4 + bounded_len(st->readings[i].type, sizeof st->readings[i].type) +
             bounded_len(st->readings[i].uom, sizeof st->readings[i].uom) + 16;
    for (pb_size_t i = 0; i < st->persistent_count && i < 8; i++)
        n += 2 + bounded_len(st->persistent[i], sizeof st->persistent[i]);
    return n;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8); /* one store */
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
    return p + 8;
}

static uint8_t *put_bytes8(uint8_t *p, const void *b, size_t n)
{
    *p++ = (uint8_t)n;
    memcpy(p, b, n);
    return p + n;
}

/* A string of at most cap - 1 bytes: u8 length, the bytes, a NUL. */
static uint8_t *put_str8(uint8_t *p, const char *s, size_t cap)
{
    p = put_bytes8(p, s, bounded_len(s, cap));
    *p++ = '\0';
    return p;
}

size_t tnt__state_write(uint8_t *out, const tnt_v1_ProductState *st)
{
    uint8_t *p = out;
    *p++ = MAGIC0;
    *p++ = MAGIC1;
    *p++ = LAYOUT;
    for (int i = 0; i < NNUM; i++)
        p = put64(p, (uint64_t)*num_field((tnt_v1_ProductState *)st, i));
    p = put_bytes8(p, st->chain.bytes, st->chain.size <= 32 ? st->chain.size : 32);
    p = put_bytes8(p, st->seal.bytes, st->seal.size <= 32 ? st->seal.size : 32);
    for (size_t i = 0; i < NSTR; i++) {
        const char *s = (const char *)st + strings[i].off;
        size_t n = bounded_len(s, strings[i].cap);
        *p++ = (uint8_t)n;
        *p++ = (uint8_t)(n >> 8);
        memcpy(p, s, n);
        p += n;
        *p++ = '\0';
    }
    pb_size_t nr = st->readings_count <= 16 ? st->readings_count : 16;
    *p++ = (uint8_t)nr;
    for (pb_size_t i = 0; i < nr; i++) {
        const tnt_v1_Reading *r = &st->readings[i];
        p = put_str8(p, r->type, sizeof r->type);
        p = put_str8(p, r->uom, sizeof r->uom);
        uint64_t bits;
        memcpy(&bits, &r->value, 8);
        p = put64(p, bits);
        p = put64(p, (uint64_t)r->time_ms);
    }
    pb_size_t np = st->persistent_count <= 8 ? st->persistent_count : 8;
    *p++ = (uint8_t)np;
    for (pb_size_t i = 0; i < np; i++)
        p = put_str8(p, st->persistent[i], sizeof st->persistent[i]);
    return (size_t)(p - out);
}

void *tnt__state_encode(tnt__arena *a, const tnt_v1_ProductState *st, size_t *len)
{
    size_t n = tnt__state_size(st);
    uint8_t *buf = a ? tnt__arena_alloc(a, n) : tnt__malloc(n);
    if (buf)
        *len = tnt__state_write(buf, st);
    return buf;
}

/* ---- reading ---- */

typedef struct rd {
    const uint8_t *p, *end;
    bool bad;
    bool nul; /* strings end with a NUL byte (state layouts 2 and 3) */
} rd;

static uint64_t get64(rd *r)
{
    if (r->end - r->p < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, r->p, 8); /* one load */
#else
    for (int i = 7; i >= 0; i--)
        v = v << 8 | r->p[i];
#endif
    r->p += 8;
    return v;
}

static size_t get_len(rd *r, int width)
{
    if (r->end - r->p < width) {
        r->bad = true;
        return 0;
    }
    size_t n = r->p[0];
    if (width == 2)
        n |= (size_t)r->p[1] << 8;
    r->p += width;
    return n;
}

/* n bytes into a field of cap bytes, NUL-terminated when is_str (a NUL
 * inside, which the writer never puts there, only ends the string early);
 * in a record whose strings end with a NUL, that byte must be there */
static void get_into(rd *r, void *dst, size_t cap, size_t n, bool is_str)
{
    size_t end = n + (is_str && r->nul);
    if (r->bad || end > (size_t)(r->end - r->p) || (is_str ? n >= cap : n > cap) ||
        (end > n && r->p[n] != '\0')) {
        r->bad = true;
        if (is_str && cap)
            ((char *)dst)[0] = '\0';
        return;
    }
    memcpy(dst, r->p, n);
    if (is_str)
        ((char *)dst)[n] = '\0';
    r->p += end;
}

static tnt_status read_flat(const uint8_t *b, size_t len, tnt_v1_ProductState *st)
{
    rd r = {b + 3, b + len, false, b[2] != LAYOUT1};
    for (int i = 0; i < NNUM; i++)
        *num_field(st, i) = i < nnum(b[2]) ? (int64_t)get64(&r) : 0;
    size_t n = get_len(&r, 1);
    get_into(&r, st->chain.bytes, sizeof st->chain.bytes, n, false);
    st->chain.size = (pb_size_t)n;
    n = get_len(&r, 1);
    get_into(&r, st->seal.bytes, sizeof st->seal.bytes, n, false);
    st->seal.size = (pb_size_t)n;
    for (size_t i = 0; i < NSTR; i++)
        get_into(&r, (char *)st + strings[i].off, strings[i].cap, get_len(&r, 2), true);
    size_t nr = get_len(&r, 1);
    if (nr > 16)
        r.bad = true;
    st->readings_count = 0;
    for (size_t i = 0; i < nr && !r.bad; i++) {
        tnt_v1_Reading *x = &st->readings[i];
        get_into(&r, x->type, sizeof x->type, get_len(&r, 1), true);
        get_into(&r, x->uom, sizeof x->uom, get_len(&r, 1), true);
        uint64_t bits = get64(&r);
        memcpy(&x->value, &bits, 8);
        x->time_ms = (int64_t)get64(&r);
        st->readings_count = (pb_size_t)(i + 1);
    }
    size_t np = get_len(&r, 1);
    if (np > 8)
        r.bad = true;
    st->persistent_count = 0;
    for (size_t i = 0; i < np && !r.bad; i++) {
        get_into(&r, st->persistent[i], sizeof st->persistent[i], get_len(&r, 1), true);
        st->persistent_count = (pb_size_t)(i + 1);
    }
    if (r.bad || r.p != r.end)
        return TNT_E_CORRUPT;
    return TNT_OK;
}

/* A state of an earlier layout has no times for its lot and expiry: they
 * came from its first event (the rule then), so that is their time, fixed
 * here once and not moved when an earlier event arrives. */
static void lot_times(tnt_v1_ProductState *st)
{
    if (st->lot[0] && !st->lot_time_ms)
        st->lot_time_ms = st->first_time_ms;
    if (st->expiry[0] && !st->expiry_time_ms)
        st->expiry_time_ms = st->first_time_ms;
}

tnt_status tnt__state_decode(const void *buf, size_t len, tnt_v1_ProductState *st, const char *what)
{
    const uint8_t *b = buf;
    if (len >= 3 && b[0] == MAGIC0 && b[1] == MAGIC1) {
        if (b[2] != LAYOUT && b[2] != LAYOUT2 && b[2] != LAYOUT1)
            return tnt__error(TNT_E_CORRUPT, "the state of %s has an unknown layout (%u)", what, b[2]);
        if (read_flat(b, len, st) != TNT_OK)
            return tnt__error(TNT_E_CORRUPT, "the state of %s is corrupt: a field overruns the record", what);
        if (b[2] != LAYOUT)
            lot_times(st);
        return TNT_OK;
    }
    /* a record of an earlier version: a tnt.v1.ProductState protobuf */
    *st = (tnt_v1_ProductState)tnt_v1_ProductState_init_zero;
    pb_istream_t is = pb_istream_from_buffer(b, len);
    if (!pb_decode_ex(&is, tnt_v1_ProductState_fields, st, PB_DECODE_NOINIT)) /* zeroed above */
        return tnt__error(TNT_E_CORRUPT, "the state of %s is corrupt: %s", what, PB_GET_ERROR(&is));
    lot_times(st);
    return TNT_OK;
}

/* ---- the state as a view ---- */

/* A string of the record. Layouts 2 and 3: where it is, after checking the NUL
 * the writer put after it. Layout 1: moved over its own length in front of
 * it and ended with a NUL there (the next field starts after its old end,
 * so nothing is overwritten before it is read). */
static inline __attribute__((always_inline)) const char *take(rd *r, int width, size_t cap)
{
    uint8_t *q = (uint8_t *)r->p; /* the caller's own buffer */
    if (r->end - r->p < width) {
        r->bad = true;
        return "";
    }
    size_t n = width == 2 ? (size_t)(q[0] | q[1] << 8) : q[0];
    uint8_t *from = q + width;
    if (r->nul) {
        if (n >= (size_t)(r->end - from) || n >= cap || from[n] != '\0') {
            r->bad = true;
            return "";
        }
        r->p = from + n + 1;
        return (const char *)from;
    }
    if (n > (size_t)(r->end - from) || n >= cap) {
        r->bad = true;
        return "";
    }
    r->p = from + n;
    if (n > 16)
        memmove(q, from, n);
    else /* short ones byte by byte: forward is safe, the string moves towards the front */
        for (size_t i = 0; i < n; i++)
            q[i] = from[i];
    q[n] = '\0';
    return (const char *)q;
}

static void skip(rd *r, size_t n, size_t cap)
{
    if (r->bad || n > (size_t)(r->end - r->p) || n > cap)
        r->bad = true;
    else
        r->p += n;
}

static tnt_status view_flat(uint8_t *b, size_t len, tnt__state_view *v)
{
    rd r = {b + 3, b + len, false, b[2] != LAYOUT1};
    int64_t num[NNUM];
    for (int i = 0; i < nnum(b[2]); i++)
        num[i] = (int64_t)get64(&r);
    v->last_time_ms = num[0];
    v->event_count = (uint64_t)num[1];
    v->parent_since_ms = num[2];
    v->location_time_ms = num[3];
    v->first_time_ms = num[4];
    v->disposition_time_ms = num[6];
    tnt_v1_ProductState *z = NULL; /* for the sizes of its fields, which bound the record's */
    skip(&r, get_len(&r, 1), sizeof z->chain.bytes);
    skip(&r, get_len(&r, 1), sizeof z->seal.bytes);
    for (size_t i = 0; i < NSTR; i++)
        v->s[i] = take(&r, 2, strings[i].cap);
    size_t nr = get_len(&r, 1);
    if (nr > 16)
        r.bad = true;
    v->n_readings = 0;
    for (size_t i = 0; i < nr && !r.bad; i++) {
        v->readings[i].type = take(&r, 1, sizeof z->readings[0].type);
        v->readings[i].uom = take(&r, 1, sizeof z->readings[0].uom);
        uint64_t bits = get64(&r);
        memcpy(&v->readings[i].value, &bits, 8);
        v->readings[i].time_ms = (int64_t)get64(&r);
        v->n_readings = (unsigned)(i + 1);
    }
    size_t np = get_len(&r, 1);
    if (np > 8)
        r.bad = true;
    v->n_persistent = 0;
    for (size_t i = 0; i < np && !r.bad; i++) {
        v->persistent[i] = take(&r, 1, sizeof z->persistent[0]);
        v->n_persistent = (unsigned)(i + 1);
    }
    return r.bad || r.p != r.end ? TNT_E_CORRUPT : TNT_OK;
}

/* A string copied to the pool's end; where it now is. */
static const char *pool_put(char **end, const char *str)
{
    const char *at = *end;
    *end = stpcpy(*end, str) + 1;
    return at;
}

/* An earlier version's protobuf, decoded whole and its strings copied out.
 * Every string's bytes are in the record, so the record's length and a NUL
 * per string bound the pool. */
static tnt_status view_protobuf(void **buf, size_t len, tnt__state_view *v, const char *what)
{
    tnt_v1_ProductState *st = tnt__malloc(sizeof *st);
    char *pool = tnt__malloc(len + NSTR + 2 * 16 + 8), *o = pool;
    tnt_status s = !st || !pool ? tnt__error(TNT_E_NOMEM, "out of memory") : tnt__state_decode(*buf, len, st, what);
    if (s == TNT_OK) {
        v->last_time_ms = st->last_time_ms;
        v->event_count = st->event_count;
        v->parent_since_ms = st->parent_since_ms;
        v->location_time_ms = st->location_time_ms;
        v->first_time_ms = st->first_time_ms;
        v->disposition_time_ms = st->disposition_time_ms;
        for (size_t i = 0; i < NSTR; i++)
            v->s[i] = pool_put(&o, (const char *)st + strings[i].off);
        v->n_readings = st->readings_count < 16 ? st->readings_count : 16;
        for (unsigned i = 0; i < v->n_readings; i++) {
            v->readings[i].type = pool_put(&o, st->readings[i].type);
            v->readings[i].uom = pool_put(&o, st->readings[i].uom);
            v->readings[i].value = st->readings[i].value;
            v->readings[i].time_ms = st->readings[i].time_ms;
        }
        v->n_persistent = st->persistent_count < 8 ? st->persistent_count : 8;
        for (unsigned i = 0; i < v->n_persistent; i++)
            v->persistent[i] = pool_put(&o, st->persistent[i]);
        tnt_free(*buf);
        *buf = pool;
        pool = NULL;
    }
    tnt__free(pool);
    tnt__free(st);
    return s;
}

tnt_status tnt__state_view_decode(void **buf, size_t len, tnt__state_view *v, const char *what)
{
    uint8_t *b = *buf;
    if (len >= 3 && b[0] == MAGIC0 && b[1] == MAGIC1) {
        if (b[2] != LAYOUT && b[2] != LAYOUT2 && b[2] != LAYOUT1)
            return tnt__error(TNT_E_CORRUPT, "the state of %s has an unknown layout (%u)", what, b[2]);
        return view_flat(b, len, v) == TNT_OK
                   ? TNT_OK
                   : tnt__error(TNT_E_CORRUPT, "the state of %s is corrupt: a field overruns the record", what);
    }
    return view_protobuf(buf, len, v, what);
}

/* ---- the scan record ----
 *
 * A recorded verification, as the state store keeps it beside the product
 * (the log keeps the tnt.v1.LogRecord protobuf). A verification reads up to
 * a few hundred of them, so they too are read in one pass:
 *
 *   0x00 'C' 0x01                     magic and layout version
 *   64-bit time_ms, event_count
 *   32-bit lat_e2, lon_e2, accuracy_km, role, intent, verdict
 *   u8 flags                          1 has_location, 2 unknown
 *   u8 n, n bytes                     device (0 or 16 bytes)
 *   2 x (u16 n, n bytes)              id, location_id */

#define SCAN1 'C'
#define SCAN_LAYOUT 0x01

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + 4;
}

static uint8_t *put_str16(uint8_t *p, const char *s, size_t cap)
{
    size_t n = bounded_len(s, cap);
    *p++ = (uint8_t)n;
    *p++ = (uint8_t)(n >> 8);
    memcpy(p, s, n);
    return p + n;
}

void *tnt__scan_encode(tnt__arena *a, const tnt_v1_Scan *s, size_t *len)
{
    size_t dev = s->device.size <= 16 ? s->device.size : 16;
    size_t n = 3 + 16 + 24 + 1 + 1 + dev + 4 + bounded_len(s->id, sizeof s->id) +
               bounded_len(s->location_id, sizeof s->location_id);
    uint8_t *buf = a ? tnt__arena_alloc(a, n) : tnt__malloc(n), *p = buf;
    if (!buf)
        return NULL;
    *p++ = MAGIC0;
    *p++ = SCAN1;
    *p++ = SCAN_LAYOUT;
    p = put64(p, (uint64_t)s->time_ms);
    p = put64(p, s->event_count);
    p = put32(p, (uint32_t)s->lat_e2);
    p = put32(p, (uint32_t)s->lon_e2);
    p = put32(p, s->accuracy_km);
    p = put32(p, s->role);
    p = put32(p, s->intent);
    p = put32(p, s->verdict);
    *p++ = (uint8_t)((s->has_location ? 1 : 0) | (s->unknown ? 2 : 0));
    p = put_bytes8(p, s->device.bytes, dev);
    p = put_str16(p, s->id, sizeof s->id);
    p = put_str16(p, s->location_id, sizeof s->location_id);
    *len = (size_t)(p - buf);
    return buf;
}

static uint32_t get32(rd *r)
{
    if (r->end - r->p < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}

bool tnt__scan_head_read(const void *buf, size_t len, tnt__scan_head *h)
{
    const uint8_t *b = buf;
    if (!(len >= 3 && b[0] == MAGIC0 && b[1] == SCAN1)) { /* an earlier version's protobuf */
        tnt_v1_Scan sc, *s = &sc; /* 1.1 KB on the stack: rare, and it cannot fail to allocate */
        bool ok = tnt__scan_decode(buf, len, s);
        if (ok) {
            *h = (tnt__scan_head){s->time_ms, s->event_count, s->lat_e2, s->lon_e2, s->accuracy_km, s->role,
                                  s->intent, s->verdict, s->has_location, s->unknown, s->device.size, {0}};
            memcpy(h->device, s->device.bytes, s->device.size <= 16 ? s->device.size : 16);
        }
        return ok;
    }
    /* straight through: the fixed part, then the device and the two strings' lengths */
    enum { FIXED = 3 + 16 + 24 + 1 + 1 };
    if (b[2] != SCAN_LAYOUT || len < FIXED)
        return false;
    const uint8_t *p = b + 3, *end = b + len;
    h->time_ms = (int64_t)tnt__get_u64(p);
    h->event_count = tnt__get_u64(p + 8);
    h->lat_e2 = (int32_t)tnt__get_u32(p + 16);
    h->lon_e2 = (int32_t)tnt__get_u32(p + 20);
    h->accuracy_km = tnt__get_u32(p + 24);
    h->role = tnt__get_u32(p + 28);
    h->intent = tnt__get_u32(p + 32);
    h->verdict = tnt__get_u32(p + 36);
    uint8_t flags = p[40], dn = p[41];
    h->has_location = flags & 1;
    h->unknown = (flags & 2) != 0;
    p += 42;
    tnt_v1_Scan *z = NULL; /* for the sizes of its fields, which bound the record's */
    if (flags >= 4 || dn > sizeof h->device || (size_t)(end - p) < dn)
        return false;
    if (dn == sizeof h->device) /* as every device's is: a constant-size copy */
        memcpy(h->device, p, sizeof h->device);
    else
        for (size_t i = 0; i < dn; i++)
            h->device[i] = p[i];
    h->device_len = dn;
    p += dn;
    for (int i = 0; i < 2; i++) { /* id, location_id: the same bound for both */
        _Static_assert(sizeof z->id == sizeof z->location_id, "one bound for both strings");
        if (end - p < 2)
            return false;
        size_t n = (size_t)(p[0] | p[1] << 8);
        p += 2;
        if (n >= sizeof z->id || (size_t)(end - p) < n)
            return false;
        p += n;
    }
    return p == end;
}

bool tnt__scan_decode(const void *buf, size_t len, tnt_v1_Scan *s)
{
    const uint8_t *b = buf;
    if (!(len >= 3 && b[0] == MAGIC0 && b[1] == SCAN1)) { /* an earlier version's protobuf */
        *s = (tnt_v1_Scan)tnt_v1_Scan_init_zero;
        pb_istream_t is = pb_istream_from_buffer(b, len);
        return pb_decode_ex(&is, tnt_v1_Scan_fields, s, PB_DECODE_NOINIT);
    }
    if (b[2] != SCAN_LAYOUT)
        return false;
    rd r = {b + 3, b + len, false, false};
    s->time_ms = (int64_t)get64(&r);
    s->event_count = get64(&r);
    s->lat_e2 = (int32_t)get32(&r);
    s->lon_e2 = (int32_t)get32(&r);
    s->accuracy_km = get32(&r);
    s->role = get32(&r);
    s->intent = get32(&r);
    s->verdict = get32(&r);
    size_t flags = get_len(&r, 1);
    s->has_location = flags & 1;
    s->unknown = (flags & 2) != 0;
    size_t n = get_len(&r, 1);
    get_into(&r, s->device.bytes, sizeof s->device.bytes, n, false);
    s->device.size = (pb_size_t)n;
    get_into(&r, s->id, sizeof s->id, get_len(&r, 2), true);
    get_into(&r, s->location_id, sizeof s->location_id, get_len(&r, 2), true);
    return !r.bad && r.p == r.end && flags < 4;
}
