/* JSON trees in an arena: extensions, ILMD and the parser's output. */
#include <string.h>

#include "model/model.h"

tnt__node *tnt__node_new(tnt__arena *a, uint8_t kind, const char *key, const char *str)
{
    tnt__node *n = tnt__arena_alloc(a, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
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

const char *tnt__node_local(const tnt__node *n)
{
    const char *colon = n->key ? strchr(n->key, ':') : NULL;
    return colon && n->ns ? colon + 1 : n->key;
}
