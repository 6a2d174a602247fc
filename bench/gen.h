/* Deterministic EPCIS 2.0 test events for the benchmarks.
 *
 * gen_event(i) writes ObjectEvent number i as compact JSON (about 1 KB): an
 * SGTIN epcList, bizStep and disposition, readPoint and bizLocation SGLNs, a
 * bizTransactionList and one sensorElement with metadata and three reports
 * (a quarter of the temperatures come in °F so normalisation converts units).
 * Event i is the same on every run and every machine: its values come from a
 * hash of i, not from a running random state. Shared by every benchmark, so
 * they all measure the same bytes. Header-only: each benchmark is one file. */
#ifndef TNT_BENCH_GEN_H
#define TNT_BENCH_GEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEN_EVENT_MAX 2048 /* an event is never longer */

/* The document around the events; the events are joined with ','. */
#define GEN_DOC_HEAD                                                                                    \
    "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],"              \
    "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-06-01T00:00:00.000Z\"," \
    "\"epcisBody\":{\"eventList\":["
#define GEN_DOC_TAIL "]}}"

static uint64_t gen_mix(uint64_t x) /* splitmix64 */
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* "+hh:mm" for an offset of off minutes (|off| < 24 h). */
static void gen_zone(char out[8], int off)
{
    unsigned a = (unsigned)abs(off) % 1440;
    out[0] = off < 0 ? '-' : '+';
    out[1] = (char)('0' + a / 600), out[2] = (char)('0' + a / 60 % 10), out[3] = ':';
    out[4] = (char)('0' + a % 60 / 10), out[5] = (char)('0' + a % 10), out[6] = '\0';
}

/* xsd:dateTime of a UTC instant written with an offset of off minutes. */
static int gen_time(char *out, size_t cap, int64_t ms, int off)
{
    time_t local = (time_t)(ms / 1000) + (time_t)off * 60;
    struct tm tm;
    gmtime_r(&local, &tm);
    char zone[8] = "Z";
    if (off)
        gen_zone(zone, off);
    return snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000), zone);
}

/* Write event i into out (at least GEN_EVENT_MAX bytes); returns its length. */
static size_t gen_event(char *out, uint64_t i)
{
    static const char *const products[][2] = {
        {"4012345", "011111"}, {"0614141", "107346"}, {"4000001", "065432"}, {"9521141", "012345"}};
    static const char *const steps[][2] = {{"shipping", "in_transit"},
                                           {"receiving", "in_progress"},
                                           {"storing", "sellable_not_accessible"},
                                           {"inspecting", "conformant"},
                                           {"loading", "in_transit"},
                                           {"stocking", "sellable_accessible"}};
    static const char *const sites[] = {"4012345", "0614141", "4000001", "9521141"};
    static const int offsets[] = {60, 120, -300, 0, 330, -420};

    uint64_t r = gen_mix(i), r2 = gen_mix(r), r3 = gen_mix(r2);
    const char *const *prod = products[r % 4];
    const char *const *step = steps[(r >> 8) % 6];
    const char *site = sites[(r >> 16) % 4];
    int off = offsets[(r >> 24) % 6];
    int64_t t = INT64_C(1704067200000) + (int64_t)i * 1013 + (int64_t)(r2 % 1000); /* 2024-01-01 onwards */
    char when[80], sensed[80], zone[8];
    gen_time(when, sizeof when, t, off);
    gen_time(sensed, sizeof sensed, t - 60000 - (int64_t)(r3 % 240000), off);
    gen_zone(zone, off);

    char *p = out, *end = out + GEN_EVENT_MAX;
#define PUT(...) p += snprintf(p, (size_t)(end - p), __VA_ARGS__)
    PUT("{\"type\":\"ObjectEvent\",\"eventTime\":\"%s\",\"eventTimeZoneOffset\":\"%s\","
        "\"eventID\":\"urn:uuid:%08x-%04x-4%03x-a%03x-%012llx\",\"epcList\":[",
        when, zone, (unsigned)(r3 >> 32), (unsigned)(r3 >> 16) & 0xffff, (unsigned)r3 & 0xfff,
        (unsigned)(r2 >> 52), (unsigned long long)(r2 & 0xffffffffffffu));
    uint64_t serial = 100000000u + i * 4;
    for (int k = 0; k < 4; k++)
        PUT("%s\"urn:epc:id:sgtin:%s.%s.%llu\"", k ? "," : "", prod[0], prod[1], (unsigned long long)(serial + k));
    PUT("],\"action\":\"OBSERVE\",\"bizStep\":\"%s\",\"disposition\":\"%s\","
        "\"readPoint\":{\"id\":\"urn:epc:id:sgln:%s.%05u.0\"},"
        "\"bizLocation\":{\"id\":\"urn:epc:id:sgln:%s.%05u.0\"},"
        "\"bizTransactionList\":[{\"type\":\"po\",\"bizTransaction\":\"urn:epc:id:gdti:0614141.00001.%llu\"},"
        "{\"type\":\"desadv\",\"bizTransaction\":\"urn:epc:id:gdti:0614141.00002.%llu\"}],",
        step[0], step[1], site, (unsigned)(r2 >> 8) % 100000, site, (unsigned)(r2 >> 24) % 100, (unsigned long long)(i / 16 + 1),
        (unsigned long long)(i / 4 + 1));
    int fah = (r3 >> 40) % 4 == 0; /* a US device */
    double celsius = 2.0 + (double)(r3 % 60) / 10.0;
    PUT("\"sensorElementList\":[{\"sensorMetadata\":{\"time\":\"%s\",\"deviceID\":\"urn:epc:id:giai:4000001.%u\","
        "\"deviceMetadata\":\"https://id.gs1.org/8004/4000001%u\"},\"sensorReport\":["
        "{\"type\":\"Temperature\",\"value\":%.1f,\"uom\":\"%s\"},"
        "{\"type\":\"RelativeHumidity\",\"value\":%.1f,\"uom\":\"P1\"},"
        "{\"type\":\"Illuminance\",\"value\":%u,\"uom\":\"LUX\"}]}]}",
        sensed, (unsigned)(r % 5000), (unsigned)(r % 5000), fah ? celsius * 9 / 5 + 32 : celsius, fah ? "FAH" : "CEL",
        40.0 + (double)((r3 >> 8) % 400) / 10.0, (unsigned)((r2 >> 40) % 1000));
#undef PUT
    return (size_t)(p - out);
}

/* An EPCISDocument of n events in memory. If starts is not NULL it receives
 * n + 1 offsets: where each event starts, then where the tail starts (the
 * comma after an event belongs to it). Caller frees both. */
static char *gen_doc(size_t n, size_t *len_out, size_t **starts)
{
    size_t cap = sizeof GEN_DOC_HEAD + n * 1200 + GEN_EVENT_MAX + 16, len = 0;
    char *doc = malloc(cap);
    size_t *at = starts ? malloc((n + 1) * sizeof *at) : NULL;
    if (!doc || (starts && !at)) {
        free(doc);
        free(at);
        return NULL;
    }
    memcpy(doc, GEN_DOC_HEAD, sizeof GEN_DOC_HEAD - 1);
    len = sizeof GEN_DOC_HEAD - 1;
    for (size_t i = 0; i < n; i++) {
        if (len + GEN_EVENT_MAX + 8 > cap) {
            cap *= 2;
            char *d = realloc(doc, cap);
            if (!d) {
                free(doc);
                free(at);
                return NULL;
            }
            doc = d;
        }
        if (at)
            at[i] = len;
        len += gen_event(doc + len, i);
        if (i + 1 < n)
            doc[len++] = ',';
    }
    if (at)
        at[n] = len;
    memcpy(doc + len, GEN_DOC_TAIL, sizeof GEN_DOC_TAIL);
    len += sizeof GEN_DOC_TAIL - 1;
    *len_out = len;
    if (starts)
        *starts = at;
    return doc;
}

#endif /* TNT_BENCH_GEN_H */
