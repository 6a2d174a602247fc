/* JSON trees in an arena: extensions, ILMD and the parser's output. */
#include <string.h>

#include "model/model.h"

tnt__node *tnt__node_new(tnt__arena *a, uint8_t kind, const char *key, const char *str)
{
    tnt__node *n = tnt__arena_alloc(a, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->key_id = 0;
    n->count = 0;
    n->key = key;
    n->ns = NULL;
    n->str = str;
    n->child = n->last = n->next = NULL;
    return n;
}

void tnt__node_append(tnt__node *parent, tnt__node *child)
{
    child->next = NULL;
    if (parent->last)
        parent->last->next = child;
    else
        parent->child = child;
    parent->last = child;
    parent->count++;
}

tnt__node *tnt__node_get(const tnt__node *obj, const char *key)
{
    if (!obj || obj->kind != TNT__N_OBJECT)
        return NULL;
    for (tnt__node *c = obj->child; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

tnt__node *tnt__node_copy(tnt__arena *a, const tnt__node *n)
{
    if (!n)
        return NULL;
    tnt__node *c = tnt__node_new(a, n->kind, n->key ? tnt__arena_strdup(a, n->key) : NULL,
                                 n->str ? tnt__arena_strdup(a, n->str) : NULL);
    if (!c || (n->key && !c->key) || (n->str && !c->str))
        return NULL;
    c->key_id = n->key_id;
    if (n->ns && !(c->ns = tnt__arena_strdup(a, n->ns)))
        return NULL;
    for (const tnt__node *k = n->child; k; k = k->next) {
        tnt__node *kc = tnt__node_copy(a, k);
        if (!kc)
            return NULL;
        tnt__node_append(c, kc);
    }
    return c;
}

bool tnt__utf8_valid(const char *s, size_t n, bool allow_nul)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        /* Most text is ASCII: eight bytes at a time while none has its high
         * bit set (or is 0, when U+0000 is refused). */
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            uint64_t zero = allow_nul ? 0 : (w - 0x0101010101010101u) & ~w;
            if ((w | zero) & 0x8080808080808080u)
                break;
            i += 8;
        }
        if (i == n)
            break;
        unsigned c = p[i];
        if (c < 0x80) { /* the ASCII tail of the text */
            if (c == 0 && !allow_nul)
                return false;
            i++;
            continue;
        }
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if ((c == 0 && !allow_nul) || len == 0 || n - i < len)
            return false;
        uint32_t cp = len == 1 ? c : c & (0x7Fu >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3Fu);
        }
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false; /* overlong, beyond Unicode, or a surrogate */
        i += len;
    }
    return true;
}

const char *tnt__node_local(const tnt__node *n)
{
    const char *colon = n->key ? strchr(n->key, ':') : NULL;
    return colon && n->ns ? colon + 1 : n->key;
}
