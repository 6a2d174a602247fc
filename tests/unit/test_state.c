/* The state and scan records (src/engine/state.c): a round trip keeps every field,
 * records of the earlier protobuf layout are still read, and a truncated,
 * overlong or otherwise damaged record is TNT_E_CORRUPT, never an overrun. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pb_encode.h>

#include "engine/engine.h"
#include "engine/record.h"

static void full_state(tnt_v1_ProductState *s)
{
    *s = (tnt_v1_ProductState)tnt_v1_ProductState_init_zero;
    strcpy(s->id, "https://id.gs1.org/01/09506000134352/21/U1");
    strcpy(s->read_point, "https://id.gs1.org/414/9506000000015/254/0");
    strcpy(s->biz_location, "https://id.gs1.org/414/9506000000015");
    strcpy(s->biz_step, "receiving");
    strcpy(s->disposition, "in_progress");
    s->last_time_ms = 1700000000123;
    strcpy(s->last_event, "ni:///sha-256;0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef?ver=CBV2.0");
    s->event_count = 42;
    strcpy(s->parent, "https://id.gs1.org/00/095060001343520000");
    s->parent_since_ms = -5; /* negative times survive */
    strcpy(s->owner, "urn:epc:id:pgln:9506000.00000");
    strcpy(s->possessor, "urn:epc:id:pgln:9506000.00001");
    s->readings_count = 3;
    for (int i = 0; i < 3; i++) {
        snprintf(s->readings[i].type, sizeof s->readings[i].type, "Type%d", i);
        snprintf(s->readings[i].uom, sizeof s->readings[i].uom, "U%d", i);
        s->readings[i].value = -12.5 + i;
        s->readings[i].time_ms = 1700000000000 + i;
    }
    s->location_time_ms = 1700000000100;
    s->chain.size = 32;
    for (int i = 0; i < 32; i++)
        s->chain.bytes[i] = (uint8_t)(i * 7);
    s->persistent_count = 2;
    strcpy(s->persistent[0], "s:1700000000000:recalled");
    strcpy(s->persistent[1], "u:1700000000001:completeness_verified");
    s->first_time_ms = 1600000000000;
    strcpy(s->first_event, "ni:///sha-256;aa?ver=CBV2.0");
    s->step_time_ms = 1;
    s->disposition_time_ms = 2;
    s->party_time_ms = INT64_MIN;
    s->seal.size = 32;
    memset(s->seal.bytes, 0xA5, 32);
    strcpy(s->lot, "L2401");
    strcpy(s->expiry, "2026-12-20");
    s->lot_time_ms = 1600000000000;
    s->expiry_time_ms = 1600000000001;
}

static void assert_same(const tnt_v1_ProductState *a, const tnt_v1_ProductState *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->read_point, b->read_point);
    assert_string_equal(a->biz_location, b->biz_location);
    assert_string_equal(a->biz_step, b->biz_step);
    assert_string_equal(a->disposition, b->disposition);
    assert_string_equal(a->last_event, b->last_event);
    assert_string_equal(a->parent, b->parent);
    assert_string_equal(a->owner, b->owner);
    assert_string_equal(a->possessor, b->possessor);
    assert_string_equal(a->first_event, b->first_event);
    assert_string_equal(a->lot, b->lot);
    assert_string_equal(a->expiry, b->expiry);
    assert_true(a->last_time_ms == b->last_time_ms && a->event_count == b->event_count);
    assert_true(a->parent_since_ms == b->parent_since_ms && a->location_time_ms == b->location_time_ms);
    assert_true(a->first_time_ms == b->first_time_ms && a->step_time_ms == b->step_time_ms);
    assert_true(a->disposition_time_ms == b->disposition_time_ms && a->party_time_ms == b->party_time_ms);
    assert_true(a->lot_time_ms == b->lot_time_ms && a->expiry_time_ms == b->expiry_time_ms);
    assert_int_equal(a->chain.size, b->chain.size);
    assert_memory_equal(a->chain.bytes, b->chain.bytes, a->chain.size);
    assert_int_equal(a->seal.size, b->seal.size);
    assert_memory_equal(a->seal.bytes, b->seal.bytes, a->seal.size);
    assert_int_equal(a->readings_count, b->readings_count);
    for (pb_size_t i = 0; i < a->readings_count; i++) {
        assert_string_equal(a->readings[i].type, b->readings[i].type);
        assert_string_equal(a->readings[i].uom, b->readings[i].uom);
        assert_true(a->readings[i].value == b->readings[i].value);
        assert_true(a->readings[i].time_ms == b->readings[i].time_ms);
    }
    assert_int_equal(a->persistent_count, b->persistent_count);
    for (pb_size_t i = 0; i < a->persistent_count; i++)
        assert_string_equal(a->persistent[i], b->persistent[i]);
}

/* The full state in s, and its record (tnt__free it). */
static uint8_t *full_record(tnt_v1_ProductState *s, size_t *len)
{
    full_state(s);
    uint8_t *rec = tnt__state_encode(NULL, s, len);
    assert_non_null(rec);
    return rec;
}

static void test_round_trip(void **state)
{
    (void)state;
    static tnt_v1_ProductState s, back;
    size_t len = 0;
    uint8_t *rec = full_record(&s, &len);
    assert_int_equal(len, tnt__state_size(&s));
    assert_int_equal(rec[0], 0x00); /* never the first byte of a protobuf message */
    memset(&back, 0x5A, sizeof back); /* what was there before is overwritten */
    assert_int_equal(tnt__state_decode(rec, len, &back, "U1"), TNT_OK);
    assert_same(&s, &back);
    /* the same state writes the same bytes (replay compares them) */
    size_t len2 = 0;
    uint8_t *again = tnt__state_encode(NULL, &back, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(rec, again, len);
    tnt__free(again);
    tnt__free(rec);

    /* an empty state and a full one: every field at its largest */
    static tnt_v1_ProductState big;
    big = (tnt_v1_ProductState)tnt_v1_ProductState_init_zero;
    rec = tnt__state_encode(NULL, &big, &len);
    assert_int_equal(tnt__state_decode(rec, len, &back, "empty"), TNT_OK);
    assert_same(&big, &back);
    tnt__free(rec);
    memset(big.id, 'x', sizeof big.id - 1);
    memset(big.persistent, 'p', sizeof big.persistent);
    for (int i = 0; i < 8; i++)
        big.persistent[i][sizeof big.persistent[i] - 1] = '\0';
    big.persistent_count = 8;
    big.readings_count = 16;
    for (int i = 0; i < 16; i++) {
        memset(big.readings[i].type, 't', sizeof big.readings[i].type - 1);
        strcpy(big.readings[i].uom, "KGM");
    }
    rec = tnt__state_encode(NULL, &big, &len);
    assert_int_equal(tnt__state_decode(rec, len, &back, "big"), TNT_OK);
    assert_same(&big, &back);
    tnt__free(rec);
}

#define NUMS (10 * 8) /* the numbers of a layout-3 record */

/* The same record in layout 2, which earlier versions wrote: the first 8
 * numbers only (no times of lot and expiry). */
static uint8_t *to_layout2(const uint8_t *rec, size_t len, size_t *out_len)
{
    uint8_t *o = malloc(len);
    assert_int_equal(rec[2], 0x03);
    memcpy(o, rec, 3 + 64);
    o[2] = 0x02;
    memcpy(o + 3 + 64, rec + 3 + NUMS, len - 3 - NUMS);
    *out_len = len - 16;
    return o;
}

/* The same record in layout 1, which earlier versions wrote: layout 2
 * without the NUL after each string. Built from a layout-3 record. */
static uint8_t *to_layout1(const uint8_t *rec, size_t len, size_t *out_len)
{
    uint8_t *o = malloc(len), *q = o;
    const uint8_t *p = rec;
    assert_int_equal(p[2], 0x03);
    *q++ = *p++, *q++ = *p++, *q++ = 0x01, p++;
    memcpy(q, p, 64), q += 64, p += NUMS;
    for (int k = 0; k < 2; k++) { /* chain, seal */
        size_t n = *p;
        memcpy(q, p, 1 + n), q += 1 + n, p += 1 + n;
    }
#define STR(w)                                                                                                         \
    do {                                                                                                               \
        size_t n_ = (w) == 2 ? (size_t)(p[0] | p[1] << 8) : p[0];                                                     \
        memcpy(q, p, (w) + n_), q += (w) + n_, p += (w) + n_;                                                         \
        assert_int_equal(*p, 0x00);                                                                                    \
        p++;                                                                                                           \
    } while (0)
    for (int k = 0; k < 12; k++)
        STR(2);
    size_t nr = *p;
    *q++ = *p++;
    for (size_t i = 0; i < nr; i++) {
        STR(1);
        STR(1);
        memcpy(q, p, 16), q += 16, p += 16;
    }
    size_t np = *p;
    *q++ = *p++;
    for (size_t i = 0; i < np; i++)
        STR(1);
#undef STR
    assert_true(p == rec + len);
    *out_len = (size_t)(q - o);
    return o;
}

static void test_earlier_layout(void **state)
{
    (void)state;
    static tnt_v1_ProductState s, back;
    full_state(&s);
    /* layout 1 */
    size_t len, len1;
    uint8_t *rec = tnt__state_encode(NULL, &s, &len);
    uint8_t *rec1 = to_layout1(rec, len, &len1);
    assert_int_equal(len - len1, 16 + 12 + 2 * s.readings_count + s.persistent_count);
    assert_int_equal(tnt__state_decode(rec1, len1, &back, "U1"), TNT_OK);
    /* not in that layout: the time of the first event, as the lot came from it */
    assert_true(back.lot_time_ms == s.first_time_ms && back.expiry_time_ms == s.first_time_ms);
    back.lot_time_ms = s.lot_time_ms;
    back.expiry_time_ms = s.expiry_time_ms;
    assert_same(&s, &back);
    for (size_t n = 3; n < len1; n++)
        assert_int_equal(tnt__state_decode(rec1, n, &back, "cut"), TNT_E_CORRUPT);
    free(rec1);
    /* layout 2 */
    size_t len2;
    uint8_t *rec2 = to_layout2(rec, len, &len2);
    assert_int_equal(tnt__state_decode(rec2, len2, &back, "U1"), TNT_OK);
    assert_true(back.lot_time_ms == s.first_time_ms && back.expiry_time_ms == s.first_time_ms);
    back.lot_time_ms = s.lot_time_ms;
    back.expiry_time_ms = s.expiry_time_ms;
    assert_same(&s, &back);
    for (size_t n = 3; n < len2; n++)
        assert_int_equal(tnt__state_decode(rec2, n, &back, "cut"), TNT_E_CORRUPT);
    free(rec2);
    tnt__free(rec);
    /* a tnt.v1.ProductState protobuf */
    uint8_t buf[16384];
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
    assert_true(pb_encode(&os, tnt_v1_ProductState_fields, &s));
    assert_int_equal(tnt__state_decode(buf, os.bytes_written, &back, "U1"), TNT_OK);
    assert_same(&s, &back);
    /* a damaged protobuf record is corrupt too */
    assert_int_equal(tnt__state_decode(buf, os.bytes_written - 3, &back, "U1"), TNT_E_CORRUPT);
}

/* A malloc'd copy of rec (so that the sanitizers see a read past its end)
 * with 1 to `most` random bytes changed; *n: its length, up to most - 1
 * bytes cut. */
static uint8_t *damaged(const uint8_t *rec, size_t len, int most, size_t *n)
{
    uint8_t *d = malloc(len);
    assert_non_null(d);
    memcpy(d, rec, len);
    for (int k = 0; k < 1 + rand() % most; k++)
        d[rand() % len] = (uint8_t)rand();
    *n = len - (size_t)(rand() % most);
    return d;
}

static void test_damaged(void **state)
{
    (void)state;
    static tnt_v1_ProductState s, back;
    size_t len = 0;
    uint8_t *rec = full_record(&s, &len);
    /* every truncation, each in a buffer of exactly its length (ASan sees overruns) */
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, rec, n);
        tnt_status st = tnt__state_decode(cut, n, &back, "cut");
        free(cut);
        if (n >= 3) /* shorter than the magic reads as an (empty or broken) earlier record */
            assert_int_equal(st, TNT_E_CORRUPT);
    }
    /* a byte too many */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, rec, len);
    longer[len] = 0;
    assert_int_equal(tnt__state_decode(longer, len + 1, &back, "long"), TNT_E_CORRUPT);
    free(longer);
    /* an unknown layout version */
    uint8_t layout = rec[2];
    assert_int_equal(layout, 0x03);
    rec[2] = 0x7F;
    assert_int_equal(tnt__state_decode(rec, len, &back, "v127"), TNT_E_CORRUPT);
    assert_non_null(strstr(tnt_error_last(), "unknown layout"));
    rec[2] = layout;
    /* a string's closing NUL is missing */
    size_t nul_at = 3 + NUMS + 1 + 32 + 1 + 32 + 2 + strlen(s.id);
    assert_int_equal(rec[nul_at], 0x00);
    rec[nul_at] = 'x';
    assert_int_equal(tnt__state_decode(rec, len, &back, "nul"), TNT_E_CORRUPT);
    rec[nul_at] = 0x00;
    /* the id's length (just after the numbers, chain and seal) claims more than its field holds */
    size_t id_at = 3 + NUMS + 1 + 32 + 1 + 32;
    uint8_t keep[2] = {rec[id_at], rec[id_at + 1]};
    rec[id_at] = 0xFF;
    rec[id_at + 1] = 0x01; /* 511: the field's capacity is 511 characters plus the NUL; the record is shorter */
    assert_int_equal(tnt__state_decode(rec, len, &back, "id"), TNT_E_CORRUPT);
    rec[id_at] = 0x00;
    rec[id_at + 1] = 0x02; /* 512: longer than the field */
    assert_int_equal(tnt__state_decode(rec, len, &back, "id"), TNT_E_CORRUPT);
    rec[id_at] = keep[0];
    rec[id_at + 1] = keep[1];
    /* a chain longer than 32 bytes */
    rec[3 + NUMS] = 33;
    assert_int_equal(tnt__state_decode(rec, len, &back, "chain"), TNT_E_CORRUPT);
    rec[3 + NUMS] = 32;
    assert_int_equal(tnt__state_decode(rec, len, &back, "restored"), TNT_OK);
    assert_same(&s, &back);
    /* random damage never crashes */
    srand(7);
    for (int round = 0; round < 20000; round++) {
        size_t n;
        uint8_t *d = damaged(rec, len, 4, &n);
        (void)tnt__state_decode(d, n, &back, "random");
        free(d);
    }
    tnt__free(rec);
}

/* ---- the view track reads: the same state as tnt__state_decode's ---- */

static void assert_view(const tnt_v1_ProductState *a, const tnt__state_view *v)
{
    const char *want[TNT__SV_NSTR] = {a->id,     a->read_point, a->biz_location, a->biz_step,
                                      a->disposition, a->last_event, a->parent, a->owner,
                                      a->possessor, a->first_event, a->lot, a->expiry};
    for (int i = 0; i < TNT__SV_NSTR; i++)
        assert_string_equal(v->s[i], want[i]);
    assert_true(v->last_time_ms == a->last_time_ms && v->event_count == a->event_count);
    assert_true(v->parent_since_ms == a->parent_since_ms && v->location_time_ms == a->location_time_ms);
    assert_true(v->first_time_ms == a->first_time_ms && v->disposition_time_ms == a->disposition_time_ms);
    assert_int_equal(v->n_readings, a->readings_count);
    for (unsigned i = 0; i < v->n_readings; i++) {
        assert_string_equal(v->readings[i].type, a->readings[i].type);
        assert_string_equal(v->readings[i].uom, a->readings[i].uom);
        assert_true(v->readings[i].value == a->readings[i].value && v->readings[i].time_ms == a->readings[i].time_ms);
    }
    assert_int_equal(v->n_persistent, a->persistent_count);
    for (unsigned i = 0; i < v->n_persistent; i++)
        assert_string_equal(v->persistent[i], a->persistent[i]);
}

/* Both readers on the same bytes: the same verdict, and the same state when it reads. */
static void both_readers(const uint8_t *rec, size_t n)
{
    static tnt_v1_ProductState back;
    tnt__state_view v;
    tnt_status want = tnt__state_decode(rec, n, &back, "both");
    void *buf = tnt__malloc(n ? n : 1); /* exactly n bytes: ASan sees overruns */
    assert_non_null(buf);
    memcpy(buf, rec, n);
    tnt_status got = tnt__state_view_decode(&buf, n, &v, "both");
    assert_int_equal(got, want);
    if (got == TNT_OK)
        assert_view(&back, &v);
    tnt_free(buf);
}

/* Both readers on every truncation of rec, and on rounds of random damage. */
static void both_readers_damaged(const uint8_t *rec, size_t len, int rounds)
{
    for (size_t n = 0; n < len; n++)
        both_readers(rec, n);
    for (int round = 0; round < rounds; round++) {
        size_t n;
        uint8_t *d = damaged(rec, len, 4, &n);
        both_readers(d, n);
        free(d);
    }
}

static void test_view(void **state)
{
    (void)state;
    static tnt_v1_ProductState s, big;
    size_t len = 0;
    uint8_t *rec = full_record(&s, &len);
    both_readers(rec, len);
    void *buf = tnt__malloc(len);
    memcpy(buf, rec, len);
    tnt__state_view v;
    assert_int_equal(tnt__state_view_decode(&buf, len, &v, "U1"), TNT_OK);
    assert_view(&s, &v);
    tnt_free(buf);
    /* every truncation and random damage: the two readers agree */
    srand(11);
    both_readers_damaged(rec, len, 20000);
    tnt__free(rec);

    /* every field at its largest, and the empty state */
    big = (tnt_v1_ProductState)tnt_v1_ProductState_init_zero;
    rec = tnt__state_encode(NULL, &big, &len);
    both_readers(rec, len);
    tnt__free(rec);
    memset(big.id, 'x', sizeof big.id - 1);
    memset(big.last_event, 'e', sizeof big.last_event - 1);
    for (int i = 0; i < 8; i++) {
        memset(big.persistent[i], 'p', sizeof big.persistent[i] - 1);
        big.persistent[i][0] = 's';
    }
    big.persistent_count = 8;
    big.readings_count = 16;
    for (int i = 0; i < 16; i++) {
        memset(big.readings[i].type, 't', sizeof big.readings[i].type - 1);
        memset(big.readings[i].uom, 'u', sizeof big.readings[i].uom - 1);
    }
    rec = tnt__state_encode(NULL, &big, &len);
    buf = tnt__malloc(len);
    memcpy(buf, rec, len);
    assert_int_equal(tnt__state_view_decode(&buf, len, &v, "big"), TNT_OK);
    assert_view(&big, &v);
    tnt_free(buf);
    /* one character more than the id's field holds, all of it in the record: corrupt to both */
    size_t id_at = 3 + NUMS + 1 + 1; /* numbers, then an empty chain and seal */
    assert_int_equal(rec[id_at] | rec[id_at + 1] << 8, sizeof big.id - 1);
    uint8_t *longer = tnt__malloc(len + 1);
    memcpy(longer, rec, id_at);
    longer[id_at] = (uint8_t)(sizeof big.id & 0xFF);
    longer[id_at + 1] = (uint8_t)(sizeof big.id >> 8);
    memset(longer + id_at + 2, 'x', sizeof big.id);
    memcpy(longer + id_at + 2 + sizeof big.id, rec + id_at + 2 + sizeof big.id - 1, len - (id_at + 2 + sizeof big.id - 1));
    assert_int_equal(tnt__state_view_decode((void **)&longer, len + 1, &v, "id"), TNT_E_CORRUPT);
    both_readers(longer, len + 1);
    tnt__free(longer);
    tnt__free(rec);

    /* layout 1 (the strings are moved in place) and layout 2 (they are where
     * they are, as in layout 3): truncations and damage as above */
    rec = tnt__state_encode(NULL, &s, &len);
    uint8_t *(*const earlier[])(const uint8_t *, size_t, size_t *) = {to_layout1, to_layout2};
    for (size_t k = 0; k < 2; k++) {
        size_t len_k;
        uint8_t *rec_k = earlier[k](rec, len, &len_k);
        buf = tnt__malloc(len_k);
        memcpy(buf, rec_k, len_k);
        assert_int_equal(tnt__state_view_decode(&buf, len_k, &v, "U1"), TNT_OK);
        assert_view(&s, &v);
        tnt_free(buf);
        both_readers_damaged(rec_k, len_k, 5000);
        free(rec_k);
    }
    tnt__free(rec);

    /* an earlier version's protobuf: its strings are copied out */
    uint8_t pb[16384];
    pb_ostream_t os = pb_ostream_from_buffer(pb, sizeof pb);
    assert_true(pb_encode(&os, tnt_v1_ProductState_fields, &s));
    both_readers(pb, os.bytes_written);
    both_readers(pb, os.bytes_written - 3);
    buf = tnt__malloc(os.bytes_written);
    memcpy(buf, pb, os.bytes_written);
    void *was = buf;
    assert_int_equal(tnt__state_view_decode(&buf, os.bytes_written, &v, "U1"), TNT_OK);
    assert_true(buf != was); /* replaced by the buffer of the strings */
    assert_view(&s, &v);
    tnt_free(buf);
}

static void assert_head(const tnt__scan_head *h, const tnt_v1_Scan *s)
{
    assert_true(h->time_ms == s->time_ms && h->event_count == s->event_count);
    assert_true(h->lat_e2 == s->lat_e2 && h->lon_e2 == s->lon_e2 && h->accuracy_km == s->accuracy_km);
    assert_true(h->role == s->role && h->intent == s->intent && h->verdict == s->verdict);
    assert_true(h->has_location == s->has_location && h->unknown == s->unknown);
    assert_int_equal(h->device_len, s->device.size);
    assert_memory_equal(h->device, s->device.bytes, s->device.size);
}

static void test_scan_record(void **state)
{
    (void)state;
    static tnt_v1_Scan s, back;
    s = (tnt_v1_Scan)tnt_v1_Scan_init_zero;
    strcpy(s.id, "https://id.gs1.org/01/09506000134352/21/U1");
    strcpy(s.location_id, "4098765000010");
    s.time_ms = 1700000000123;
    s.has_location = true;
    s.lat_e2 = -3345;
    s.lon_e2 = 18042;
    s.accuracy_km = 20000;
    s.device.size = 16;
    memset(s.device.bytes, 0xC3, 16);
    s.role = 2;
    s.intent = 3;
    s.event_count = UINT64_MAX;
    s.verdict = 5;
    s.unknown = true;
    size_t len = 0;
    uint8_t *rec = tnt__scan_encode(NULL, &s, &len);
    assert_non_null(rec);
    memset(&back, 0x5A, sizeof back);
    assert_true(tnt__scan_decode(rec, len, &back));
    assert_string_equal(back.id, s.id);
    assert_string_equal(back.location_id, s.location_id);
    assert_true(back.time_ms == s.time_ms && back.has_location && back.lat_e2 == -3345 && back.lon_e2 == 18042);
    assert_true(back.accuracy_km == 20000 && back.role == 2 && back.intent == 3 && back.verdict == 5);
    assert_true(back.event_count == UINT64_MAX && back.unknown);
    assert_int_equal(back.device.size, 16);
    assert_memory_equal(back.device.bytes, s.device.bytes, 16);
    tnt__scan_head h;
    assert_true(tnt__scan_head_read(rec, len, &h));
    assert_head(&h, &back);
    /* every truncation and a byte too many are refused, by both readers */
    for (size_t n = 3; n < len; n++) {
        uint8_t *cut = malloc(n);
        memcpy(cut, rec, n);
        assert_false(tnt__scan_decode(cut, n, &back));
        assert_false(tnt__scan_head_read(cut, n, &h));
        free(cut);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, rec, len);
    longer[len] = 1;
    assert_false(tnt__scan_decode(longer, len + 1, &back));
    assert_false(tnt__scan_head_read(longer, len + 1, &h));
    free(longer);
    /* random damage: the two readers agree, and on what they read */
    srand(13);
    for (int round = 0; round < 20000; round++) {
        size_t n;
        uint8_t *d = damaged(rec, len, 3, &n);
        bool ok = tnt__scan_decode(d, n, &back);
        assert_int_equal(tnt__scan_head_read(d, n, &h), ok);
        if (ok)
            assert_head(&h, &back);
        free(d);
    }
    tnt__free(rec);
    /* the earlier protobuf layout is still read */
    uint8_t buf[2048];
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
    assert_true(pb_encode(&os, tnt_v1_Scan_fields, &s));
    memset(&back, 0, sizeof back);
    assert_true(tnt__scan_decode(buf, os.bytes_written, &back));
    assert_string_equal(back.id, s.id);
    assert_true(back.lat_e2 == -3345 && back.event_count == UINT64_MAX && back.device.size == 16);
    assert_true(tnt__scan_head_read(buf, os.bytes_written, &h));
    assert_head(&h, &back);
    /* every truncation: the same verdict as the full decode (a cut between fields is a valid
     * message without the fields after it), and a cut inside the last field is refused */
    for (size_t n = 0; n < os.bytes_written; n++) {
        bool ok = tnt__scan_decode(buf, n, &back);
        assert_int_equal(tnt__scan_head_read(buf, n, &h), ok);
        if (ok)
            assert_head(&h, &back);
    }
    assert_false(tnt__scan_head_read(buf, os.bytes_written - 1, &h));
}

/* Log records of one scan or one master record: read without the whole
 * LogRecord, the same as the whole decode reads them. */
static void test_log_records(void **state)
{
    (void)state;
    static tnt_v1_Scan s, back;
    static tnt_v1_MasterRecord m, mback;
    static tnt_v1_LogRecord whole;
    s = (tnt_v1_Scan)tnt_v1_Scan_init_zero;
    strcpy(s.id, "https://id.gs1.org/01/09506000134352/21/U1");
    s.time_ms = 1700000000123;
    s.lat_e2 = -3345;
    s.device.size = 16;
    memset(s.device.bytes, 0xC3, 16);
    s.verdict = 5;
    tnt__arena a;
    tnt__arena_init(&a, 0);
    size_t len = 0;
    uint8_t *rec = tnt__record_scan(&a, &s, &len);
    assert_non_null(rec);
    /* the same bytes as a LogRecord with only its scan, encoded whole */
    whole = (tnt_v1_LogRecord)tnt_v1_LogRecord_init_zero;
    whole.has_scan = true;
    whole.scan = s;
    uint8_t buf[4096];
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
    assert_true(pb_encode(&os, tnt_v1_LogRecord_fields, &whole));
    assert_int_equal(os.bytes_written, len);
    assert_memory_equal(buf, rec, len);
    tnt__record r = {0};
    r.scan = &back;
    memset(&back, 0x5A, sizeof back);
    assert_int_equal(tnt__record_read(rec, len, &r), TNT_OK);
    assert_int_equal(r.kind, TNT__REC_SCAN);
    assert_string_equal(back.id, s.id);
    assert_true(back.time_ms == s.time_ms && back.lat_e2 == -3345 && back.verdict == 5 && back.device.size == 16);
    assert_int_equal(back.lon_e2, 0); /* what the record does not hold is zero, not what was there */
    tnt__record events_only = {0};
    assert_int_equal(tnt__record_read(rec, len, &events_only), TNT_OK);
    assert_int_equal(events_only.kind, TNT__REC_SCAN);
    /* every truncation is refused when the scan is read */
    for (size_t n = 1; n < len; n++) {
        uint8_t *cut = malloc(n);
        memcpy(cut, rec, n);
        tnt__record c = {0};
        c.scan = &back;
        assert_int_equal(tnt__record_read(cut, n, &c), TNT_E_CORRUPT);
        free(cut);
    }
    /* a scan field of the right length that is no Scan */
    static const uint8_t bad[] = {(uint8_t)(tnt_v1_LogRecord_scan_tag << 3 | 2), 3, 0xFF, 0xFF, 0xFF};
    tnt__record c = {0};
    c.scan = &back;
    assert_int_equal(tnt__record_read(bad, sizeof bad, &c), TNT_E_CORRUPT);
    /* master data the same way */
    m = (tnt_v1_MasterRecord)tnt_v1_MasterRecord_init_zero;
    m.kind = 2;
    strcpy(m.key, "4098765000010");
    strcpy(m.json, "{\"gln\":\"4098765000010\",\"name\":\"FreshMart\"}");
    rec = tnt__record_master(&a, &m, &len);
    assert_non_null(rec);
    tnt__record rm = {0};
    rm.master = &mback;
    assert_int_equal(tnt__record_read(rec, len, &rm), TNT_OK);
    assert_int_equal(rm.kind, TNT__REC_MASTER);
    assert_true(mback.kind == 2);
    assert_string_equal(mback.key, m.key);
    assert_string_equal(mback.json, m.json);
    tnt__arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_earlier_layout),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_scan_record),
        cmocka_unit_test(test_log_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
