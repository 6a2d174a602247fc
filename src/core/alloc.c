/* Allocation hooks, reference-counted library lifecycle. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "tnt/sys/alloc.h"

static void *std_malloc(size_t n, void *ud) { (void)ud; return malloc(n); }
static void *std_realloc(void *p, size_t n, void *ud) { (void)ud; return realloc(p, n); }
static void *std_calloc(size_t c, size_t n, void *ud) { (void)ud; return calloc(c, n); }
static void std_free(void *p, void *ud) { (void)ud; free(p); }

static tnt_allocator g_alloc = {std_malloc, std_realloc, std_calloc, std_free, NULL};
static atomic_int g_init_refs;
static atomic_long g_live_handles;

void *tnt__malloc(size_t size) { return g_alloc.malloc_fn(size ? size : 1, g_alloc.user_data); }
void *tnt__calloc(size_t count, size_t size) { return g_alloc.calloc_fn(count ? count : 1, size ? size : 1, g_alloc.user_data); }
void *tnt__realloc(void *ptr, size_t size) { return g_alloc.realloc_fn(ptr, size ? size : 1, g_alloc.user_data); }
void tnt__free(void *ptr)
{
    if (ptr)
        g_alloc.free_fn(ptr, g_alloc.user_data);
}

char *tnt__strndup(const char *s, size_t len)
{
    char *p = tnt__malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

char *tnt__strdup(const char *s) { return tnt__strndup(s, strlen(s)); }

void tnt__handle_acquire(void) { atomic_fetch_add(&g_live_handles, 1); }
void tnt__handle_release(void) { atomic_fetch_sub(&g_live_handles, 1); }

void tnt_free(void *ptr) { tnt__free(ptr); }

tnt_status tnt_set_allocator(const tnt_allocator *allocator)
{
    if (atomic_load(&g_init_refs) > 0 || atomic_load(&g_live_handles) > 0)
        return tnt__error(TNT_E_MISUSE, "tnt_set_allocator: the library is in use");
    if (!allocator) {
        g_alloc = (tnt_allocator){std_malloc, std_realloc, std_calloc, std_free, NULL};
        return TNT_OK;
    }
    if (!allocator->malloc_fn || !allocator->realloc_fn || !allocator->calloc_fn || !allocator->free_fn)
        return tnt__error(TNT_E_INVALID, "tnt_set_allocator: every hook is required");
    g_alloc = *allocator;
    return TNT_OK;
}

tnt_status tnt_init(void)
{
    atomic_fetch_add(&g_init_refs, 1);
    return TNT_OK;
}

void tnt_shutdown(void)
{
    if (atomic_load(&g_init_refs) > 0)
        atomic_fetch_sub(&g_init_refs, 1);
}
