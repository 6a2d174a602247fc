/* Internal core services: allocation, errors, arenas, growable buffers. */
#ifndef TNT_CORE_H
#define TNT_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tnt/common.h"

#if defined(__GNUC__)
#define TNT__PRINTF(a, b) __attribute__((format(printf, a, b)))
#define TNT__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define TNT__PRINTF(a, b)
#define TNT__UNLIKELY(x) (x)
#endif

/* ---- allocation (through the hooks of tnt_set_allocator) ---- */
void *tnt__malloc(size_t size);
void *tnt__calloc(size_t count, size_t size);
void *tnt__realloc(void *ptr, size_t size);
void tnt__free(void *ptr);
char *tnt__strndup(const char *s, size_t len);
char *tnt__strdup(const char *s);
/* Handles count themselves alive so tnt_set_allocator can refuse. */
/* SHA-256 of len bytes (the algorithm fetched from OpenSSL once, not per call). */
void tnt__sha256_of(const void *data, size_t len, uint8_t out[32]);

void tnt__handle_acquire(void);
void tnt__handle_release(void);

/* ---- errors: thread-local last error ---- */
tnt_status tnt__error(tnt_status status, const char *fmt, ...) TNT__PRINTF(2, 3);
tnt_status tnt__error_v(tnt_status status, const char *fmt, va_list ap) TNT__PRINTF(2, 0);
void tnt__error_clear(void);

/* ---- arena: bump allocation per document or per call ---- */
typedef struct tnt__arena_chunk tnt__arena_chunk;
typedef struct tnt__arena {
    tnt__arena_chunk *head;  /* current chunk */
    size_t used;             /* bytes used in head */
    size_t total;            /* bytes of all chunks, for limits and stats */
    size_t limit;            /* 0 = none; allocation beyond fails */
} tnt__arena;

/* A point to go back to: what was allocated after it is given back (the
 * memory of the chunk it was in is reused, later chunks are freed). */
typedef struct tnt__arena_mark {
    tnt__arena_chunk *head;
    size_t used, total;
} tnt__arena_mark;
static inline tnt__arena_mark tnt__arena_save(const tnt__arena *a) { return (tnt__arena_mark){a->head, a->used, a->total}; }
void tnt__arena_rollback(tnt__arena *a, tnt__arena_mark m);

void tnt__arena_init(tnt__arena *a, size_t limit);
void *tnt__arena_alloc(tnt__arena *a, size_t size); /* 8-aligned, NULL on OOM/limit */
void *tnt__arena_zalloc(tnt__arena *a, size_t size);
char *tnt__arena_strndup(tnt__arena *a, const char *s, size_t len);
char *tnt__arena_strdup(tnt__arena *a, const char *s);
char *tnt__arena_printf(tnt__arena *a, const char *fmt, ...) TNT__PRINTF(2, 3);
/* "base[index]", the JSON path of a list item: one per event, so not printf. */
char *tnt__arena_item_path(tnt__arena *a, const char *base, size_t index);
void tnt__arena_reset(tnt__arena *a);    /* keeps the first chunk */
void tnt__arena_destroy(tnt__arena *a);

/* ---- growable byte buffer; always NUL-terminated when non-empty ---- */
typedef struct tnt__buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;      /* sticky: an append failed */
} tnt__buf;

void tnt__buf_init(tnt__buf *b);
void tnt__buf_free(tnt__buf *b);
void tnt__buf_reset(tnt__buf *b);
bool tnt__buf_reserve(tnt__buf *b, size_t extra);
void tnt__buf_append(tnt__buf *b, const void *data, size_t len);
void tnt__buf_puts(tnt__buf *b, const char *s);
void tnt__buf_putc(tnt__buf *b, char c);
void tnt__buf_printf(tnt__buf *b, const char *fmt, ...) TNT__PRINTF(2, 3);
/* Appends s as a JSON string literal, quotes included. */
void tnt__buf_json_str(tnt__buf *b, const char *s);
/* Hands the buffer's memory to the caller (tnt_free), resets b. */
char *tnt__buf_detach(tnt__buf *b, size_t *len_out);

/* ---- small helpers ---- */
static inline bool tnt__streq(const char *a, const char *b)
{
    return a == b || (a && b && __builtin_strcmp(a, b) == 0);
}

/* FNV-1a over a C string: the hash of the library's small open-addressing tables. */
static inline uint32_t tnt__str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* The value of a hexadecimal digit (either case), or -1. */
static inline int tnt__hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Little-endian integer coding. */
static inline void tnt__put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void tnt__put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void tnt__put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t tnt__get_u16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t tnt__get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t tnt__get_u64(const unsigned char *p)
{
    return (uint64_t)tnt__get_u32(p) | (uint64_t)tnt__get_u32(p + 4) << 32;
}

/* n bytes as 2n lowercase hex digits at out (not terminated); returns the end. */
char *tnt__hex(char *out, const void *bytes, size_t n);

/* Is the NUL-terminated z exactly the n bytes at s? s need not be terminated
 * and may hold NUL bytes. */
static inline bool tnt__streq_n(const char *z, const char *s, size_t n)
{
    /* memchr stops at the first NUL, so it never reads past z's end */
    return __builtin_memchr(z, 0, n + 1) == (const void *)(z + n) && __builtin_memcmp(z, s, n) == 0;
}

#endif /* TNT_CORE_H */
