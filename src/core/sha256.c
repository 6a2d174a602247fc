/* SHA-256 of one buffer.
 *
 * OpenSSL 3's one-shot SHA256() looks the algorithm up in its provider store
 * on every call (about 1,100 instructions, with locks, before the first byte
 * is hashed: as much as hashing 200 bytes). Here it is fetched once per
 * process and kept; EVP_Digest() with it does the rest. */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>

#include "core/core.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md; /* kept for the life of the process */

static void fetch(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

void tnt__sha256_of(const void *data, size_t len, uint8_t out[32])
{
    pthread_once(&once, fetch);
    if (!sha256_md || !EVP_Digest(data, len, out, NULL, sha256_md, NULL))
        SHA256(data, len, out); /* the one-shot form, which fetches it again */
}
