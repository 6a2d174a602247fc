/* Opening and closing an engine: configuration, backends, recovery; stats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "engine/engine.h"

#define DAY_MS ((int64_t)86400000)

tnt_status tnt_engine_options_init(tnt_engine_options *opts, unsigned int version)
{
    if (!opts || version == 0 || version > TNT_ENGINE_OPTIONS_VERSION)
        return tnt__error(TNT_E_INVALID, "tnt_engine_options_init: unknown options version %u", version);
    *opts = (tnt_engine_options)TNT_ENGINE_OPTIONS_INIT;
    opts->version = version;
    return TNT_OK;
}

/* The settings of one role: "<role>.<key>: value" in config.yml, without the prefix. */
static char **role_settings(const tnt__config *c, const char *role, const char *extra)
{
    size_t plen = strlen(role);
    char **v = tnt__calloc(c->nsettings + 2, sizeof *v);
    if (!v)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->nsettings; i++)
        if (strncmp(c->settings[i], role, plen) == 0 && c->settings[i][plen] == '.')
            v[n++] = c->settings[i] + plen + 1;
    if (extra)
        v[n++] = (char *)extra;
    return v;
}

static tnt_status open_role(tnt_engine *e, int role, const char *uri, const char *name, const tnt__config *c,
                            const char *extra)
{
    const char *colon = strchr(uri, ':');
    char scheme[32];
    size_t n = colon ? (size_t)(colon - uri) : 0;
    if (!n || n >= sizeof scheme)
        return tnt__error(TNT_E_INVALID, "%s: '%s' is not a URI (e.g. file:///var/lib/tnt/%s)", name, uri,
                          role == 0 ? "log" : role == 1 ? "state" : "archive");
    memcpy(scheme, uri, n);
    scheme[n] = '\0';
    const tnt_backend *b = tnt_backend_find(scheme);
    if (!b)
        return tnt__error(TNT_E_UNSUPPORTED, "%s: no backend for the URI scheme '%s' (%s)", name, scheme, uri);
    char **settings = role_settings(c, role == 0 ? "log" : role == 1 ? "store" : "archive", extra);
    if (!settings)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    char err[512] = "";
    tnt_status st;
    const char *const *s = (const char *const *)settings;
    if (role == 0)
        st = b->open_log ? b->open_log(&e->log, uri, s, b->user_data, err, sizeof err) : TNT_E_UNSUPPORTED;
    else if (role == 1)
        st = b->open_store ? b->open_store(&e->store, uri, s, b->user_data, err, sizeof err) : TNT_E_UNSUPPORTED;
    else
        st = b->open_archive ? b->open_archive(&e->archive, uri, s, b->user_data, err, sizeof err) : TNT_E_UNSUPPORTED;
    tnt__free(settings);
    if (st == TNT_E_UNSUPPORTED && !err[0])
        snprintf(err, sizeof err, "the '%s' backend cannot be a%s", scheme,
                 role == 0 ? "n event log" : role == 1 ? " state store" : " cold archive");
    if (st != TNT_OK)
        return tnt__error(st, "%s (%s): %s", name, uri, err[0] ? err : tnt_status_str(st));
    return TNT_OK;
}

/* The file: URI of a directory under the data directory. The path is
 * %-encoded where a URI would read it otherwise (%, #, ?, spaces, bytes
 * beyond ASCII), so a directory named "p%41c" stays that directory. */
static char *default_uri(const char *dir, const char *sub)
{
    size_t n = 3 * strlen(dir) + strlen(sub) + 16;
    char *s = tnt__malloc(n);
    if (!s)
        return NULL;
    size_t k = (size_t)snprintf(s, n, dir[0] == '/' ? "file://" : "file:");
    for (const unsigned char *p = (const unsigned char *)dir; *p; p++) {
        if (*p == '%' || *p == '#' || *p == '?' || *p <= ' ' || *p >= 0x7f)
            k += (size_t)snprintf(s + k, n - k, "%%%02X", *p);
        else
            s[k++] = (char)*p;
    }
    snprintf(s + k, n - k, "/%s", sub);
    return s;
}

static void engine_free(tnt_engine *e)
{
    if (e->log)
        e->log->methods->close(e->log);
    if (e->store)
        e->store->methods->close(e->store);
    if (e->archive)
        e->archive->methods->close(e->archive);
    for (int p = 0; e->water && p < e->partitions; p++)
        tnt__free(e->water[p].done);
    tnt__free(e->water);
    for (int i = 0; i < 3; i++)
        tnt__free(e->uris[i]);
    tnt__auth_close(e);
    pthread_mutex_destroy(&e->apply_mu);
    pthread_rwlock_destroy(&e->replay_lock);
    tnt__free(e);
}

tnt_status tnt_engine_open(tnt_engine **out, const tnt_engine_options *opts)
{
    if (!out)
        return TNT_E_MISUSE;
    *out = NULL;
    tnt_engine_options o = TNT_ENGINE_OPTIONS_INIT;
    if (opts) {
        if (opts->version == 0 || opts->version > TNT_ENGINE_OPTIONS_VERSION)
            return tnt__error(TNT_E_INVALID, "tnt_engine_open: unknown options version %u", opts->version);
        o = *opts;
    }
    tnt__config c = {0};
    tnt_status st = TNT_OK;
    if (o.config_path && (st = tnt__config_load(&c, o.config_path)) != TNT_OK) {
        tnt__config_free(&c); /* what it read before the error */
        return st;
    }

    tnt_engine *e = tnt__calloc(1, sizeof *e);
    if (!e) {
        tnt__config_free(&c);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&e->apply_mu, NULL);
    pthread_rwlock_init(&e->replay_lock, NULL);
    const char *env_dir = getenv("TNT_DATA") && *getenv("TNT_DATA") ? getenv("TNT_DATA") : NULL;
    const char *dir = o.data_dir ? o.data_dir : env_dir ? env_dir : "./tnt-data";
    const char *given[3] = {o.log_uri ? o.log_uri : c.log_uri, o.store_uri ? o.store_uri : c.store_uri,
                            o.archive_uri ? o.archive_uri : c.archive_uri};
    static const char *const subdirs[3] = {"log", "state", "archive"};
    for (int i = 0; i < 3; i++) {
        e->uris[i] = given[i] ? tnt__strdup(given[i]) : default_uri(dir, subdirs[i]);
        if (!e->uris[i])
            st = tnt__error(TNT_E_NOMEM, "out of memory");
    }
    /* A new log gets the partitions asked for (the backend's default: 4);
     * an existing log keeps its own. */
    int partitions = o.partitions ? o.partitions : c.partitions;
    char part_setting[32];
    snprintf(part_setting, sizeof part_setting, "partitions=%d", partitions);
    e->archive_after_ms = o.archive_after_ms ? o.archive_after_ms : c.archive_after_ms ? c.archive_after_ms : 90 * DAY_MS;
    e->retention_ms = o.retention_ms ? o.retention_ms : c.retention_ms;
    e->segment_bytes = c.segment_bytes ? c.segment_bytes : (uint64_t)64 << 20;
    if (o.reader)
        e->reader = *o.reader;
    else
        tnt_reader_options_init(&e->reader, TNT_READER_OPTIONS_VERSION);
    e->reader.flags |= TNT_READ_DEFAULT; /* the store holds validated, hashed, normalised events */

    if (st == TNT_OK)
        st = open_role(e, 0, e->uris[0], "database.event_store", &c, partitions ? part_setting : NULL);
    if (st == TNT_OK)
        st = open_role(e, 1, e->uris[1], "database.real_time_store", &c, "tnt.durable_log=1");
    if (st == TNT_OK)
        st = open_role(e, 2, e->uris[2], "database.cold_storage", &c, NULL);
    if (st == TNT_OK) {
        /* the service key: engine.service_key, $TNT_SERVICE_KEY, or service.key in the data directory */
        const char *env = getenv("TNT_SERVICE_KEY");
        char *def = NULL;
        const char *kp = c.service_key ? c.service_key : env && *env ? env : NULL;
        if (!kp) {
            /* in the data directory; when no backend is there and none was
             * named (every URI from config.yml), beside config.yml, not in
             * whatever directory the process started in */
            bool in_dir = o.data_dir || env_dir || !given[0] || !given[1] || !given[2] || !o.config_path;
            const char *base = dir;
            size_t blen = strlen(dir);
            if (!in_dir) {
                const char *slash = strrchr(o.config_path, '/');
                base = slash ? o.config_path : ".";
                blen = slash ? (size_t)(slash - o.config_path) : 1;
            }
            size_t n = blen + sizeof "/service.key";
            if ((def = tnt__malloc(n)))
                snprintf(def, n, "%.*s/service.key", (int)blen, base);
            kp = def;
        }
        /* a key is made only for a store with no events yet */
        bool empty = true;
        for (int p = 0, np = e->log->methods->partitions(e->log); p < np && empty; p++) {
            int64_t end = 0;
            if (e->log->methods->end_offset(e->log, p, &end) != TNT_OK || end > 0)
                empty = false;
        }
        st = kp ? tnt__auth_open(e, kp, empty) : tnt__error(TNT_E_NOMEM, "out of memory");
        tnt__free(def);
    }
    tnt__config_free(&c);
    if (st == TNT_OK) {
        e->partitions = e->log->methods->partitions(e->log);
        e->water = tnt__calloc((size_t)(e->partitions > 0 ? e->partitions : 1), sizeof *e->water);
        if (!e->water)
            st = tnt__error(TNT_E_NOMEM, "out of memory");
    }
    if (st == TNT_OK && (st = tnt__recover(e)) != TNT_OK)
        st = tnt__error(st, "recovering the state from the event log: %s", tnt_error_last());
    if (st == TNT_OK) { /* a full replay that did not end: the store holds part of the state; replayed whole */
        tnt__key k = {.pk = "_meta", .pk_len = 5, .sk = "replaying", .sk_len = 9};
        tnt_status m = tnt__store_get(e, &k, NULL, NULL);
        if (m == TNT_OK && (st = tnt_engine_replay(e, 0, NULL)) != TNT_OK)
            st = tnt__error(st, "finishing a replay that was interrupted: %s", tnt_error_last());
        else if (m != TNT_OK && m != TNT_E_NOTFOUND)
            st = m;
    }
    if (st != TNT_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", tnt_error_last());
        engine_free(e);
        return tnt__error(st, "%s", msg);
    }
    tnt__handle_acquire();
    *out = e;
    return TNT_OK;
}

void tnt_engine_close(tnt_engine *e)
{
    if (!e)
        return;
    tnt__scanq_free(e->scanq); /* scans recorded in the background are written first */
    e->scanq = NULL;
    pthread_rwlock_wrlock(&e->replay_lock); /* wait for running calls */
    if (e->log)
        e->log->methods->flush(e->log, -1);
    pthread_rwlock_unlock(&e->replay_lock);
    engine_free(e);
    tnt__handle_release();
}

tnt_status tnt_engine_stats(char **out, tnt_engine *e)
{
    if (!out || !e)
        return TNT_E_MISUSE;
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__counters *n = &e->n;
#define C(x) (unsigned long long)atomic_load(&n->x)
    tnt__buf_printf(&b,
                    "{\"ingest\":{\"calls\":%llu,\"events\":%llu,\"accepted\":%llu,\"duplicates\":%llu,"
                    "\"rejected\":%llu,\"log_flushes\":%llu,\"store_batches\":%llu},"
                    "\"track\":{\"calls\":%llu,\"found\":%llu},\"history\":{\"calls\":%llu},"
                    "\"event\":{\"calls\":%llu},\"replay\":{\"runs\":%llu,\"records\":%llu},"
                    "\"archive\":{\"runs\":%llu,\"archived\":%llu,\"expired\":%llu},"
                    "\"master\":{\"records\":%llu},\"log\":{\"partitions\":%d,\"end_offsets\":[",
                    C(ingest_calls), C(events), C(accepted), C(duplicates), C(rejected), C(log_flushes),
                    C(store_batches), C(track_calls), C(track_hits), C(history_calls), C(event_calls), C(replays),
                    C(replayed), C(archive_runs), C(archived), C(expired), C(master_records), e->partitions);
#undef C
    for (int p = 0; p < e->partitions; p++) {
        int64_t end = 0;
        e->log->methods->end_offset(e->log, p, &end);
        tnt__buf_printf(&b, "%s%lld", p ? "," : "", (long long)end);
    }
    tnt__buf_puts(&b, "]},\"backends\":{\"event_store\":");
    tnt__buf_json_str(&b, e->uris[0]);
    tnt__buf_puts(&b, ",\"real_time_store\":");
    tnt__buf_json_str(&b, e->uris[1]);
    tnt__buf_puts(&b, ",\"cold_storage\":");
    tnt__buf_json_str(&b, e->uris[2]);
    tnt__buf_puts(&b, "}}");
    *out = tnt__buf_detach(&b, NULL);
    return *out ? TNT_OK : tnt__error(TNT_E_NOMEM, "out of memory");
}
