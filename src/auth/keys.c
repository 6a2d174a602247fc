/* Keys of authenticity: the service key that signs answers (and the keys
 * derived from it that seal product states and hash device ids), brand key
 * pairs, and codes signed by a brand (AI 8030, DIGSIG). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "ids/ids.h"

bool tnt__sodium_ready(void)
{
    static int ready = 0; /* sodium_init() is thread-safe and idempotent */
    if (!ready)
        ready = sodium_init() >= 0 ? 1 : -1;
    return ready > 0;
}

size_t tnt__b64_encode(char *out, size_t cap, const uint8_t *bin, size_t n)
{
    size_t need = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (cap < need)
        return 0;
    sodium_bin2base64(out, cap, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return need - 1;
}

bool tnt__b64_decode(uint8_t *out, size_t want, const char *s, size_t n)
{
    size_t got = 0;
    const char *end = NULL;
    if (!s || n == 0 || n > 4 * want / 3 + 4)
        return false;
    if (sodium_base642bin(out, want, s, n, NULL, &got, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return false;
    return got == want && end == s + n;
}

void tnt__key_id(char out[16], const uint8_t pk[32])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, pk, 32);
    tnt__b64_encode(out, 16, h, 8);
}

static void derive(uint8_t out[32], const uint8_t seed[32], const char *label)
{
    crypto_generichash(out, 32, (const uint8_t *)label, strlen(label), seed, 32);
}

static tnt_status set_secret(tnt_engine *e, const uint8_t sk[64])
{
    memcpy(e->sign_sk, sk, 64);
    crypto_sign_ed25519_sk_to_pk(e->sign_pk, sk);
    derive(e->seal_key, sk, "tnt state seal v1");
    derive(e->device_key, sk, "tnt device id v1");
    tnt__key_id(e->key_id, e->sign_pk);
    return TNT_OK;
}

/* A key file: the 64-byte Ed25519 secret key in base64url, one line. */
static tnt_status read_key(const char *path, uint8_t sk[64])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tnt__error(TNT_E_IO, "service key %s: %s", path, strerror(errno));
    char line[256];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    uint8_t check[32];
    if (!tnt__b64_decode(sk, 64, line, n))
        return tnt__error(TNT_E_CORRUPT, "service key %s: not a base64url Ed25519 secret key (86 characters)", path);
    crypto_sign_ed25519_sk_to_pk(check, sk);
    uint8_t seed_pk[32], seed_sk[64];
    crypto_sign_seed_keypair(seed_pk, seed_sk, sk);
    if (memcmp(seed_pk, check, 32) != 0)
        return tnt__error(TNT_E_CORRUPT, "service key %s: its public half does not match its secret", path);
    sodium_memzero(seed_sk, sizeof seed_sk);
    return TNT_OK;
}

static tnt_status create_key(const char *path, uint8_t sk[64])
{
    /* the directory (one level) may not exist yet: the data directory of a new store */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return tnt__error(TNT_E_IO, "service key directory %s: %s", dir, strerror(errno));
    }
    uint8_t pk[32];
    crypto_sign_keypair(pk, sk);
    char text[128];
    size_t n = tnt__b64_encode(text, sizeof text, sk, 64);
    text[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return errno == EEXIST ? read_key(path, sk) /* another process made it first */
                               : tnt__error(TNT_E_IO, "service key %s: %s", path, strerror(errno));
    bool ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    close(fd);
    sodium_memzero(text, sizeof text);
    if (!ok) {
        unlink(path);
        return tnt__error(TNT_E_IO, "service key %s: cannot write it", path);
    }
    return TNT_OK;
}

tnt_status tnt__auth_open(tnt_engine *e, const char *path, bool may_create)
{
    if (!tnt__sodium_ready())
        return tnt__error(TNT_E_UNSUPPORTED, "libsodium could not initialise");
    uint8_t sk[64];
    bool there = access(path, F_OK) == 0;
    if (!there && !may_create)
        return tnt__error(TNT_E_IO,
                          "service key %s is missing, and this store already holds events sealed with a service key: "
                          "restore that file (keep it with the data, and back it up). If it is lost for good, make a "
                          "new one with `tnt keygen --out %s`, then run `tnt replay` to seal the states with it",
                          path, path);
    tnt_status st = there ? read_key(path, sk) : create_key(path, sk);
    if (st == TNT_OK)
        st = set_secret(e, sk);
    sodium_memzero(sk, sizeof sk);
    if (st == TNT_OK && !(e->key_path = tnt__strdup(path)))
        st = tnt__error(TNT_E_NOMEM, "out of memory");
    if (st == TNT_OK && (!(e->auth_cache = tnt__auth_cache_new()) || !(e->scanq = tnt__scanq_new(e))))
        st = tnt__error(TNT_E_NOMEM, "out of memory");
    return st;
}

void tnt__auth_close(tnt_engine *e)
{
    sodium_memzero(e->sign_sk, sizeof e->sign_sk);
    sodium_memzero(e->seal_key, sizeof e->seal_key);
    sodium_memzero(e->device_key, sizeof e->device_key);
    tnt__free(e->key_path);
    tnt__auth_cache_free(e->auth_cache);
    e->auth_cache = NULL;
    tnt__scanq_free(e->scanq);
    e->scanq = NULL;
}

void tnt__mac(const tnt_engine *e, const void *msg, size_t len, uint8_t out[32])
{
    crypto_generichash(out, 32, msg, len, e->seal_key, 32);
}

void tnt__device_hash(const tnt_engine *e, const char *device, size_t len, uint8_t out[16])
{
    crypto_generichash(out, 16, (const uint8_t *)device, len, e->device_key, 32);
}

void tnt__auth_sign(uint8_t sig[64], const uint8_t *msg, size_t len, const uint8_t sk[64])
{
    crypto_sign_detached(sig, NULL, msg, len, sk);
}

bool tnt__auth_verify(const uint8_t sig[64], const uint8_t *msg, size_t len, const uint8_t pk[32])
{
    return tnt__sodium_ready() && crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}

/* ---- public ---- */

tnt_status tnt_engine_service_key(char **out, tnt_engine *e)
{
    if (!out || !e)
        return TNT_E_MISUSE;
    char buf[64];
    tnt__b64_encode(buf, sizeof buf, e->sign_pk, 32);
    return (*out = tnt__strdup(buf)) ? TNT_OK : tnt__error(TNT_E_NOMEM, "out of memory");
}

tnt_status tnt_keygen(char **public_out, char **secret_out)
{
    if (!public_out || !secret_out)
        return TNT_E_MISUSE;
    *public_out = *secret_out = NULL;
    if (!tnt__sodium_ready())
        return tnt__error(TNT_E_UNSUPPORTED, "libsodium could not initialise");
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char p[64], s[128];
    tnt__b64_encode(p, sizeof p, pk, 32);
    tnt__b64_encode(s, sizeof s, sk, 64);
    sodium_memzero(sk, sizeof sk);
    *public_out = tnt__strdup(p);
    *secret_out = tnt__strdup(s);
    sodium_memzero(s, sizeof s);
    if (!*public_out || !*secret_out) {
        tnt__free(*public_out);
        tnt__free(*secret_out);
        *public_out = *secret_out = NULL;
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    return TNT_OK;
}

/* The AIs a brand's signature covers, besides the key: the key qualifiers,
 * the batch/lot (10) and the expiry date (17). */
static bool signed_ai(const tnt__id_ai *ai)
{
    return ai->role == TNT__ROLE_QUALIFIER || strcmp(ai->code, "10") == 0 || strcmp(ai->code, "17") == 0;
}

size_t tnt__signed_message(char *out, size_t cap, const tnt__idp *p)
{
    tnt__w w;
    tnt__w_init(&w, out, cap);
    const tnt__id_ai *key = NULL;
    for (size_t i = 0; i < p->nais && !key; i++)
        if (p->ais[i].role == TNT__ROLE_KEY)
            key = &p->ais[i];
    if (!key)
        return 0;
    tnt__w_str(&w, "(");
    tnt__w_str(&w, key->code);
    tnt__w_str(&w, ")");
    tnt__w_str(&w, p->vals + key->off);
    /* the others by AI number: the same message whatever order the code had */
    uint16_t last = 0;
    for (;;) {
        const tnt__id_ai *next = NULL;
        for (size_t i = 0; i < p->nais; i++) {
            const tnt__id_ai *ai = &p->ais[i];
            if (ai == key || !signed_ai(ai) || ai->num <= last)
                continue;
            if (!next || ai->num < next->num)
                next = ai;
        }
        if (!next)
            break;
        tnt__w_str(&w, "(");
        tnt__w_str(&w, next->code);
        tnt__w_str(&w, ")");
        tnt__w_str(&w, p->vals + next->off);
        last = next->num;
    }
    return tnt__w_end(&w);
}

tnt_status tnt_sign_code(char **out, const char *code, const char *secret_b64, const char *stem)
{
    if (!out || !code || !secret_b64)
        return TNT_E_MISUSE;
    *out = NULL;
    if (!tnt__sodium_ready())
        return tnt__error(TNT_E_UNSUPPORTED, "libsodium could not initialise");
    uint8_t sk[64];
    if (!tnt__b64_decode(sk, 64, secret_b64, strlen(secret_b64)))
        return tnt__error(TNT_E_INVALID, "the secret key is not a base64url Ed25519 secret key (86 characters)");
    tnt__idp *p = tnt__malloc(sizeof *p);
    if (!p) {
        sodium_memzero(sk, sizeof sk);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    tnt_status st = tnt__id_parse(p, code, strlen(code), 0, NULL, 0);
    if (st != TNT_OK) {
        st = tnt__error(TNT_E_INVALID, "cannot sign '%.80s': %s", code,
                        p->nerr ? p->err[0].msg : tnt_status_str(st));
    } else if (p->level != TNT_ID_LEVEL_INSTANCE) {
        st = tnt__error(TNT_E_INVALID, "cannot sign '%.80s': not one unit (a serialised key is needed)", code);
    } else if (tnt__id_value(p, "8030")) {
        st = tnt__error(TNT_E_INVALID, "'%.80s' carries a signature (AI 8030) already", code);
    }
    size_t stem_len = 0;
    if (st == TNT_OK && stem && !tnt__id_dl_stem(stem, &stem_len))
        st = tnt__error(TNT_E_INVALID, "'%.80s' is not a Digital Link stem (https://domain[/path])", stem);
    char msg[1024], dl[2048];
    size_t mlen = 0, dlen = 0;
    if (st == TNT_OK && !(mlen = tnt__signed_message(msg, sizeof msg, p)))
        st = tnt__error(TNT_E_TOOBIG, "the code is too long to sign");
    if (st == TNT_OK && !(dlen = tnt__id_format_dl(dl, sizeof dl, p, stem, stem_len)))
        st = tnt__error(TNT_E_TOOBIG, "the code is too long to sign");
    if (st == TNT_OK) {
        uint8_t sig[64];
        tnt__auth_sign(sig, (const uint8_t *)msg, mlen, sk);
        char b64[128];
        size_t blen = tnt__b64_encode(b64, sizeof b64, sig, 64);
        if (dlen + blen + 8 >= sizeof dl)
            st = tnt__error(TNT_E_TOOBIG, "the code is too long to sign");
        else {
            snprintf(dl + dlen, sizeof dl - dlen, "%s8030=%s", strchr(dl, '?') ? "&" : "?", b64);
            if (!(*out = tnt__strdup(dl)))
                st = tnt__error(TNT_E_NOMEM, "out of memory");
        }
    }
    sodium_memzero(sk, sizeof sk);
    tnt__free(p);
    return st;
}
