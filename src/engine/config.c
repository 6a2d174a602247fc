/* config.yml: the backends by URI and the engine's policies.
 *
 *   database:
 *     event_store: file:///var/lib/tnt/log        # or kafka://host:9092/topic
 *     real_time_store: file:///var/lib/tnt/state  # or dynamodb://region/table
 *     cold_storage: file:///var/lib/tnt/archive   # or s3://bucket/prefix
 *   engine:
 *     partitions: 4
 *     archive_after: 90d
 *     retention: 2y
 *     archive_segment: 64MiB                  # an archive segment's size, at most
 *     service_key: /var/lib/tnt/service.key   # signs authenticity answers
 *   settings:                  # passed to the backends, by namespace
 *     kafka.bootstrap.servers: localhost:9092
 *
 * Other top-level sections belong to other programs (the API server) and are
 * left alone; unknown keys inside these three are errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "engine/engine.h"

static char *dup(const char *s) { return s ? tnt__strdup(s) : NULL; }

/* "90d", "12h", "30m", "45s", "500ms", "2y", "1w" or plain seconds. */
static bool duration(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    /* digits and a point only: strtod would also take nan, inf, 1e30 and hex */
    size_t digits = strspn(s, "0123456789.");
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isfinite(v) || (size_t)(end - s) != digits || v > 1000 * 365.25 * 86400)
        return false;
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
                 {"w", 604800000}, {"y", 31557600000.0}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].unit) == 0) {
            *ms = (int64_t)(v * units[i].ms);
            return true;
        }
    return false;
}

/* "64MiB", "512KiB", "1GiB" or plain bytes: 1 KiB to 4 GiB. */
static bool size_of(const char *s, uint64_t *bytes)
{
    size_t digits = strspn(s, "0123456789");
    if (!digits || digits > 10)
        return false;
    uint64_t v = strtoull(s, NULL, 10);
    const char *unit = s + digits;
    uint64_t mul = !*unit || strcmp(unit, "B") == 0 ? 1
                   : strcmp(unit, "KiB") == 0        ? (uint64_t)1 << 10
                   : strcmp(unit, "MiB") == 0        ? (uint64_t)1 << 20
                   : strcmp(unit, "GiB") == 0        ? (uint64_t)1 << 30
                                                     : 0;
    if (!mul || v > ((uint64_t)4 << 30) / mul || v * mul < 1024)
        return false;
    *bytes = v * mul;
    return true;
}

typedef struct walker {
    yaml_document_t *doc;
    const char *path;
    tnt__config *c;
} walker;

static const char *scalar(yaml_node_t *n) { return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL; }

static tnt_status bad(const walker *w, yaml_node_t *at, const char *fmt, ...) TNT__PRINTF(3, 4);
static tnt_status bad(const walker *w, yaml_node_t *at, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tnt__error(TNT_E_INVALID, "%s:%lu: %s", w->path, (unsigned long)at->start_mark.line + 1, msg);
}

static tnt_status section_database(walker *w, yaml_node_t *map)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key), *v = yaml_document_get_node(w->doc, p->value);
        const char *key = scalar(k), *val = scalar(v);
        char **slot = !key                                  ? NULL
                      : strcmp(key, "event_store") == 0     ? &w->c->log_uri
                      : strcmp(key, "real_time_store") == 0 ? &w->c->store_uri
                      : strcmp(key, "cold_storage") == 0    ? &w->c->archive_uri
                                                            : NULL;
        if (!slot)
            return bad(w, k, "unknown key database.%s (expected event_store, real_time_store, cold_storage)",
                       key ? key : "?");
        if (!val || !*val)
            return bad(w, v, "database.%s must be a URI", key);
        tnt__free(*slot);
        if (!(*slot = dup(val)))
            return TNT_E_NOMEM;
    }
    return TNT_OK;
}

static tnt_status section_engine(walker *w, yaml_node_t *map)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key), *v = yaml_document_get_node(w->doc, p->value);
        const char *key = scalar(k), *val = scalar(v);
        if (!key || !val)
            return bad(w, k, "engine.%s must be a scalar", key ? key : "?");
        if (strcmp(key, "partitions") == 0) {
            char *end;
            long n = strtol(val, &end, 10);
            if (*end || n < 1 || n > 1024)
                return bad(w, v, "engine.partitions must be 1..1024, not '%s'", val);
            w->c->partitions = (int)n;
        } else if (strcmp(key, "archive_after") == 0) {
            if (!duration(val, &w->c->archive_after_ms) || w->c->archive_after_ms == 0)
                return bad(w, v, "engine.archive_after: '%s' is not a duration above zero (e.g. 90d, 12h)", val);
        } else if (strcmp(key, "retention") == 0) {
            if (!duration(val, &w->c->retention_ms))
                return bad(w, v, "engine.retention: '%s' is not a duration (e.g. 2y, 365d)", val);
        } else if (strcmp(key, "archive_segment") == 0) {
            if (!size_of(val, &w->c->segment_bytes))
                return bad(w, v, "engine.archive_segment: '%s' is not a size from 1KiB to 4GiB (e.g. 64MiB)", val);
        } else if (strcmp(key, "service_key") == 0) {
            if (!*val)
                return bad(w, v, "%s", "engine.service_key must be a file path");
            tnt__free(w->c->service_key);
            if (!(w->c->service_key = dup(val)))
                return TNT_E_NOMEM;
        } else {
            return bad(w, k, "unknown key engine.%s (expected partitions, archive_after, retention, archive_segment, service_key)",
                       key);
        }
    }
    return TNT_OK;
}

static tnt_status section_settings(walker *w, yaml_node_t *map)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    char **v = tnt__calloc(w->c->nsettings + n + 1, sizeof *v);
    if (!v)
        return TNT_E_NOMEM;
    if (w->c->nsettings)
        memcpy(v, w->c->settings, w->c->nsettings * sizeof *v);
    tnt__free(w->c->settings);
    w->c->settings = v;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key), *val = yaml_document_get_node(w->doc, p->value);
        const char *ks = scalar(k), *vs = scalar(val);
        if (!ks || !vs)
            return bad(w, k, "settings.%s must be a scalar", ks ? ks : "?");
        if (strncmp(ks, "log.", 4) != 0 && strncmp(ks, "store.", 6) != 0 && strncmp(ks, "archive.", 8) != 0)
            return bad(w, k, "settings.%s: a setting belongs to a role: log.<key>, store.<key> or archive.<key>", ks);
        size_t len = strlen(ks) + strlen(vs) + 2;
        char *kv = tnt__malloc(len);
        if (!kv)
            return TNT_E_NOMEM;
        snprintf(kv, len, "%s=%s", ks, vs);
        v[w->c->nsettings++] = kv;
    }
    return TNT_OK;
}

tnt_status tnt__config_load(tnt__config *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tnt__error(TNT_E_IO, "%s: %s", path, strerror(errno));
    yaml_parser_t parser;
    yaml_document_t doc;
    tnt_status st = TNT_OK;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        st = tnt__error(TNT_E_INVALID, "%s:%lu: %s", path, (unsigned long)parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "malformed YAML");
        yaml_parser_delete(&parser);
        fclose(f);
        return st;
    }
    walker w = {&doc, path, c};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type != YAML_MAPPING_NODE)
        st = bad(&w, root, "%s", "the configuration must be a mapping of sections");
    for (yaml_node_pair_t *p = root && st == TNT_OK ? root->data.mapping.pairs.start : NULL;
         p && p < root->data.mapping.pairs.top && st == TNT_OK; p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key), *v = yaml_document_get_node(&doc, p->value);
        const char *key = scalar(k);
        tnt_status (*fn)(walker *, yaml_node_t *) = !key                             ? NULL
                                                    : strcmp(key, "database") == 0 ? section_database
                                                    : strcmp(key, "engine") == 0   ? section_engine
                                                    : strcmp(key, "settings") == 0 ? section_settings
                                                                                   : NULL;
        if (!fn)
            continue; /* another program's section */
        if (v->type != YAML_MAPPING_NODE)
            st = bad(&w, v, "%s must be a mapping", key);
        else
            st = fn(&w, v);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return st;
}

void tnt__config_free(tnt__config *c)
{
    tnt__free(c->log_uri);
    tnt__free(c->store_uri);
    tnt__free(c->archive_uri);
    tnt__free(c->service_key);
    for (size_t i = 0; i < c->nsettings; i++)
        tnt__free(c->settings[i]);
    tnt__free(c->settings);
    memset(c, 0, sizeof *c);
}
