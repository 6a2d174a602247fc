/* Identifiers parsed once per event. Validation, the event hash and
 * normalisation each need an identifier's parse; the first to parse one
 * records its canonical form here, and the others look it up.
 *
 * Entries are keyed by the string's address: an event's strings do not move
 * or change while the pipeline runs (normalisation replaces pointers, never
 * text), and the table lives in the event's arena, so it is gone with the
 * event. Only the event's own strings may be keys, never scratch memory. */
#include <string.h>

#include "ingest/pipeline.h"

struct tnt__idmemo_entry {
    const char *text;
    const char *canon; /* NULL: not a valid identifier */
};

static size_t slot_of(const char *text, uint32_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)text * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (cap - 1);
}

static tnt__idmemo_entry *find(const tnt__idmemo *m, const char *text)
{
    if (!m || !m->cap)
        return NULL;
    for (size_t i = slot_of(text, m->cap);; i = (i + 1) & (m->cap - 1)) {
        tnt__idmemo_entry *e = &m->v[i];
        if (e->text == text || !e->text)
            return e;
    }
}

bool tnt__idmemo_get(const tnt__idmemo *m, const char *text, const char **canon)
{
    const tnt__idmemo_entry *e = find(m, text);
    if (!e || !e->text)
        return false;
    *canon = e->canon;
    return true;
}

/* Doubles the table (16 entries at first); false when out of memory. */
static bool grow(tnt__idmemo *m, tnt__arena *a)
{
    uint32_t cap = m->cap ? m->cap * 2 : 16;
    tnt__idmemo_entry *v = tnt__arena_zalloc(a, cap * sizeof *v);
    if (!v)
        return false;
    tnt__idmemo old = *m;
    m->v = v;
    m->cap = cap;
    for (uint32_t i = 0; i < old.cap; i++)
        if (old.v[i].text)
            *find(m, old.v[i].text) = old.v[i];
    return true;
}

bool tnt__idmemo_put(tnt__idmemo *m, tnt__arena *a, const char *text, const char *canon)
{
    if (!m)
        return true;
    if (2 * (m->n + 1) > m->cap && !grow(m, a))
        return false;
    tnt__idmemo_entry *e = find(m, text);
    if (!e->text)
        m->n++;
    *e = (tnt__idmemo_entry){text, canon};
    return true;
}

void tnt__idmemo_clear(tnt__idmemo *m)
{
    if (m)
        *m = (tnt__idmemo){NULL, 0, 0};
}
