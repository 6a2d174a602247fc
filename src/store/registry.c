/* The backend registry: schemes to backend tables, shared by every handle.
 * A fixed table under one mutex; the built-in "file" backend is installed
 * the first time the registry is touched, so a host may replace it. */
#include <pthread.h>
#include <strings.h>

#include "backends/local/local.h"
#include "core/core.h"

#define MAX_BACKENDS 32

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static const tnt_backend *g_backends[MAX_BACKENDS];
static size_t g_count;

/* Call with g_lock held. */
static void install_builtins(void)
{
    if (g_count == 0)
        g_backends[g_count++] = &tnt__local_backend;
}

static size_t find_locked(const char *scheme)
{
    for (size_t i = 0; i < g_count; i++)
        if (strcasecmp(g_backends[i]->scheme, scheme) == 0)
            return i;
    return g_count;
}

tnt_status tnt_backend_register(const tnt_backend *backend)
{
    if (!backend || !backend->scheme || !backend->scheme[0])
        return tnt__error(TNT_E_INVALID, "tnt_backend_register: a backend needs a scheme");
    if (backend->version < 1 || backend->version > TNT_BACKEND_VERSION)
        return tnt__error(TNT_E_INVALID, "tnt_backend_register: backend '%s' has version %u; this library knows 1 to %d",
                          backend->scheme, backend->version, TNT_BACKEND_VERSION);
    pthread_mutex_lock(&g_lock);
    install_builtins();
    size_t i = find_locked(backend->scheme);
    tnt_status rc = TNT_OK;
    if (i < MAX_BACKENDS) {
        g_backends[i] = backend;
        if (i == g_count)
            g_count++;
    } else {
        rc = tnt__error(TNT_E_NOMEM, "tnt_backend_register: at most %d backends", MAX_BACKENDS);
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

const tnt_backend *tnt_backend_find(const char *scheme)
{
    if (!scheme)
        return NULL;
    pthread_mutex_lock(&g_lock);
    install_builtins();
    size_t i = find_locked(scheme);
    const tnt_backend *b = i < g_count ? g_backends[i] : NULL;
    pthread_mutex_unlock(&g_lock);
    return b;
}

void *tnt_backend_alloc(size_t size) { return tnt__malloc(size); }
