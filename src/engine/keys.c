/* Keys of the state store and the 32-byte form of event hash IDs. */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

static size_t put(char *dst, size_t at, const void *src, size_t n)
{
    if (at + n > TNT__KEY_MAX)
        n = at < TNT__KEY_MAX ? TNT__KEY_MAX - at : 0; /* identifiers are shorter: the id parser caps them */
    memcpy(dst + at, src, n);
    return at + n;
}

static void pk_id(tnt__key *k, const char *id)
{
    k->pk_len = put(k->pk, 0, "p:", 2);
    k->pk_len = put(k->pk, k->pk_len, id, strlen(id));
}

void tnt__key_state(tnt__key *k, const char *id)
{
    pk_id(k, id);
    k->sk_len = put(k->sk, 0, "s", 1);
}

/* Sort keys order bytewise: a big-endian time offset by 2^63 sorts in time order. */
void tnt__key_index(tnt__key *k, const char *id, int64_t time_ms, const uint8_t hash[32])
{
    pk_id(k, id);
    uint64_t t = (uint64_t)time_ms ^ (1ull << 63);
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(t >> (56 - 8 * i));
    k->sk_len = put(k->sk, 0, "h:", 2);
    k->sk_len = put(k->sk, k->sk_len, be, 8);
    k->sk_len = put(k->sk, k->sk_len, hash, 32);
}

void tnt__key_child(tnt__key *k, const char *parent, const char *child)
{
    pk_id(k, parent);
    k->sk_len = put(k->sk, 0, "c:", 2);
    k->sk_len = put(k->sk, k->sk_len, child, strlen(child));
}

void tnt__key_event(tnt__key *k, const uint8_t hash[32])
{
    k->pk[0] = 'e';
    k->pk[1] = ':';
    k->pk_len = (size_t)(tnt__hex(k->pk + 2, hash, 32) - k->pk);
    k->sk[0] = 'e';
    k->sk_len = 1;
}

bool tnt__key_event_id(tnt__key *k, const char *event_id)
{
    size_t n = strlen(event_id);
    if (n + 2 > TNT__KEY_MAX)
        return false;
    k->pk_len = put(k->pk, 0, "x:", 2);
    k->pk_len = put(k->pk, k->pk_len, event_id, n);
    k->sk_len = put(k->sk, 0, "x", 1);
    return true;
}

void tnt__key_master(tnt__key *k, int kind, const char *key)
{
    char head[16];
    int n = snprintf(head, sizeof head, "m:%d:", kind);
    k->pk_len = put(k->pk, 0, head, (size_t)n);
    k->pk_len = put(k->pk, k->pk_len, key, strlen(key));
    k->sk_len = put(k->sk, 0, "m", 1);
}

void tnt__key_applied(tnt__key *k, int partition)
{
    k->pk_len = put(k->pk, 0, "_meta", 5);
    k->sk_len = (size_t)snprintf(k->sk, sizeof k->sk, "applied:%d", partition);
}

bool tnt__hash_bytes(uint8_t out[32], const char *id)
{
    static const char head[] = "ni:///sha-256;";
    const char *p = strncmp(id, head, sizeof head - 1) == 0 ? id + sizeof head - 1 : id;
    for (int i = 0; i < 32; i++) {
        int hi = tnt__hexval(p[2 * i]), lo = hi < 0 ? -1 : tnt__hexval(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return p[64] == '\0' || p[64] == '?';
}

void tnt__hash_id(char out[TNT__HASH_ID_MAX], const uint8_t hash[32])
{
    strcpy(tnt__hex(stpcpy(out, "ni:///sha-256;"), hash, 32), "?ver=CBV2.0");
}

static size_t put_time(char *dst, size_t at, int64_t time_ms)
{
    uint64_t t = (uint64_t)time_ms ^ (1ull << 63);
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(t >> (56 - 8 * i));
    return put(dst, at, be, 8);
}

void tnt__key_scan(tnt__key *k, const tnt_v1_Scan *s)
{
    pk_id(k, s->id);
    k->sk_len = put(k->sk, 0, "v:", 2);
    k->sk_len = put_time(k->sk, k->sk_len, s->time_ms);
    uint8_t dev[16] = {0};
    memcpy(dev, s->device.bytes, s->device.size < 16 ? s->device.size : 16);
    k->sk_len = put(k->sk, k->sk_len, dev, 16);
    uint8_t ri[2] = {(uint8_t)s->role, (uint8_t)s->intent};
    k->sk_len = put(k->sk, k->sk_len, ri, 2);
}

void tnt__key_scans(tnt__key *k, const char *id, int64_t from_ms)
{
    pk_id(k, id);
    k->sk_len = put(k->sk, 0, "v:", 2);
    k->sk_len = put_time(k->sk, k->sk_len, from_ms);
}

static void pk_device(tnt__key *k, const uint8_t *dev, size_t n)
{
    k->pk_len = put(k->pk, 0, "d:", 2);
    k->pk_len = (size_t)(tnt__hex(k->pk + k->pk_len, dev, n < 16 ? n : 16) - k->pk);
}

void tnt__key_device(tnt__key *k, const tnt_v1_Scan *s)
{
    pk_device(k, s->device.bytes, s->device.size);
    k->sk_len = put(k->sk, 0, "u:", 2);
    k->sk_len = put_time(k->sk, k->sk_len, s->time_ms);
    uint8_t h[32];
    tnt__sha256_of(s->id, strlen(s->id), h);
    k->sk_len = put(k->sk, k->sk_len, h, 8);
}

void tnt__key_device_from(tnt__key *k, const uint8_t *device, size_t n, int64_t from_ms)
{
    pk_device(k, device, n);
    k->sk_len = put(k->sk, 0, "u:", 2);
    k->sk_len = put_time(k->sk, k->sk_len, from_ms);
}

bool tnt__dl_key(char *out, size_t cap, const char *uri, const char *ai)
{
    char pat[16];
    snprintf(pat, sizeof pat, "/%s/", ai);
    const char *p = uri ? strstr(uri, pat) : NULL;
    if (!p)
        return false;
    p += strlen(pat);
    size_t n = strcspn(p, "/?");
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}
