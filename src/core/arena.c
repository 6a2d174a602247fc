/* Bump allocator: one per document or per call, freed in one go. */
#include <stdio.h>
#include <string.h>

#include "core.h"

struct tnt__arena_chunk {
    tnt__arena_chunk *prev;
    size_t cap;
    max_align_t data[]; /* payload */
};

#define ARENA_MIN_CHUNK ((size_t)16 * 1024)

void tnt__arena_init(tnt__arena *a, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->limit = limit;
}

static bool arena_grow(tnt__arena *a, size_t need)
{
    size_t cap = a->head ? a->head->cap * 2 : ARENA_MIN_CHUNK;
    if (cap > (size_t)4 << 20)
        cap = (size_t)4 << 20;
    if (cap < need)
        cap = need;
    if (a->limit && a->total + cap > a->limit) {
        if (a->total + need > a->limit)
            return false;
        cap = need;
    }
    tnt__arena_chunk *c = tnt__malloc(sizeof *c + cap);
    if (!c)
        return false;
    c->prev = a->head;
    c->cap = cap;
    a->head = c;
    a->used = 0;
    a->total += cap;
    return true;
}

void *tnt__arena_alloc(tnt__arena *a, size_t size)
{
    size = (size + 7u) & ~(size_t)7u;
    if (TNT__UNLIKELY(!a->head || a->head->cap - a->used < size)) {
        if (size > SIZE_MAX / 2 || !arena_grow(a, size))
            return NULL;
    }
    void *p = (char *)a->head->data + a->used;
    a->used += size;
    return p;
}

void *tnt__arena_zalloc(tnt__arena *a, size_t size)
{
    void *p = tnt__arena_alloc(a, size);
    if (p)
        memset(p, 0, size);
    return p;
}

char *tnt__arena_strndup(tnt__arena *a, const char *s, size_t len)
{
    char *p = tnt__arena_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

char *tnt__arena_strdup(tnt__arena *a, const char *s) { return tnt__arena_strndup(a, s, strlen(s)); }

char *tnt__arena_printf(tnt__arena *a, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = tnt__arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    if ((size_t)n < sizeof small) {
        memcpy(p, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return p;
}

char *tnt__arena_item_path(tnt__arena *a, const char *base, size_t index)
{
    char digits[24];
    size_t nd = 0, nb = strlen(base);
    do
        digits[nd++] = (char)('0' + index % 10);
    while (index /= 10);
    char *p = tnt__arena_alloc(a, nb + nd + 3);
    if (!p)
        return NULL;
    char *o = (char *)memcpy(p, base, nb) + nb;
    *o++ = '[';
    while (nd)
        *o++ = digits[--nd];
    *o++ = ']';
    *o = '\0';
    return p;
}

void tnt__arena_reset(tnt__arena *a)
{
    if (!a->head)
        return;
    /* Keep the oldest chunk, free the rest. */
    tnt__arena_chunk *c = a->head;
    while (c->prev) {
        tnt__arena_chunk *prev = c->prev;
        tnt__free(c);
        c = prev;
    }
    a->head = c;
    a->used = 0;
    a->total = c->cap;
}

void tnt__arena_rollback(tnt__arena *a, tnt__arena_mark m)
{
    while (a->head && a->head != m.head) {
        tnt__arena_chunk *prev = a->head->prev;
        tnt__free(a->head);
        a->head = prev;
    }
    a->used = m.used;
    a->total = m.total;
}

void tnt__arena_destroy(tnt__arena *a)
{
    tnt__arena_chunk *c = a->head;
    while (c) {
        tnt__arena_chunk *prev = c->prev;
        tnt__free(c);
        c = prev;
    }
    a->head = NULL;
    a->used = a->total = 0;
}
