/* tnt's commands on the store (the engine):
 *
 *   tnt ingest FILE...            per document: {"file","events","accepted","duplicates","rejected"}
 *   tnt track ID                  the current state, as JSON
 *   tnt history ID                the journey, as JSON (--limit N, --page TOKEN)
 *   tnt event ID                  one stored event (hash ID or eventID)
 *   tnt replay                    rebuild the state from the event log (--from TIME)
 *   tnt archive                   move old events to the cold archive (--now MS)
 *   tnt master load FILE...       load products, locations, parties
 *   tnt stats                     counters and sizes
 *
 * All take --data DIR (default $TNT_DATA or ./tnt-data) and --config FILE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "tnt/engine.h"

typedef struct sopts {
    const char *data, *config, *page, *from_text;
    size_t limit;
    int64_t now_ms, from_ms;
    char **args;
    int nargs;
} sopts;

static int parse(sopts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->args = calloc((size_t)argc + 1, sizeof *o->args);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--data") == 0 && next)
            o->data = argv[++i];
        else if (strcmp(a, "--config") == 0 && next)
            o->config = argv[++i];
        else if (strcmp(a, "--page") == 0 && next)
            o->page = argv[++i];
        else if (strcmp(a, "--limit") == 0 && next) {
            double n;
            if (!tnt__cli_number("--limit", argv[++i], 1, 1e6, true, &n))
                return -1;
            o->limit = (size_t)n;
        } else if (strcmp(a, "--now") == 0 && next) {
            if (!tnt__cli_time(argv[++i], &o->now_ms)) {
                fprintf(stderr, "tnt: --now: '%s' is not a time (2024-03-01T12:00:00Z or milliseconds)\n", argv[i]);
                return -1;
            }
        }
        else if (strcmp(a, "--from") == 0 && next)
            o->from_text = argv[++i];
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "tnt: unknown option %s\n", a);
            return -1;
        } else
            o->args[o->nargs++] = argv[i];
    }
    if (o->from_text && !tnt__cli_time(o->from_text, &o->from_ms)) {
        fprintf(stderr, "tnt: --from: '%s' is not a time (2024-03-01T00:00:00Z or milliseconds)\n", o->from_text);
        return -1;
    }
    return 0;
}

bool tnt__cli_store_there(const char *data, const char *config)
{
    if (config) /* the backends config.yml names are where they are */
        return true;
    const char *dir = data ? data : getenv("TNT_DATA") && *getenv("TNT_DATA") ? getenv("TNT_DATA") : "./tnt-data";
    struct stat sb;
    if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        return true;
    fprintf(stderr, "tnt: there is no store at %s (tnt ingest makes one; --data names another)\n", dir);
    return false;
}

tnt_engine *tnt__cli_open(const char *data, const char *config)
{
    tnt_engine_options eo;
    tnt_engine_options_init(&eo, TNT_ENGINE_OPTIONS_VERSION);
    eo.data_dir = data;
    eo.config_path = config;
    tnt_engine *e;
    if (tnt_engine_open(&e, &eo) != TNT_OK) {
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
        return NULL;
    }
    return e;
}

static int need_args(const sopts *o, int n, const char *what)
{
    if (o->nargs >= n)
        return 0;
    fprintf(stderr, "tnt: %s\n", what);
    return -1;
}

static void print_owned(char *s)
{
    if (s)
        puts(s);
    tnt_free(s);
}

static int cmd_ingest(tnt_engine *e, const sopts *o)
{
    int rc = 0;
    for (int i = 0; i < o->nargs; i++) {
        tnt_ingest_report *r = NULL;
        tnt_status st = tnt_engine_ingest_file(&r, e, o->args[i], 0);
        size_t n = 0, acc = 0, dup = 0, rej = 0;
        tnt_ingest_report_counts(r, &n, &acc, &dup, &rej);
        printf("{\"file\":");
        tnt__cli_json_str(stdout, o->args[i]);
        printf(",\"events\":%zu,\"accepted\":%zu,\"duplicates\":%zu,\"rejected\":%zu", n, acc, dup, rej);
        if (st != TNT_OK) {
            printf(",\"error\":");
            tnt__cli_json_str(stdout, tnt_error_last());
            rc = 2;
        }
        puts("}");
        fflush(stdout); /* the document's line before its rejections on stderr, whole */
        for (size_t k = 0; k < n; k++) {
            int status;
            size_t nerr;
            if (tnt_ingest_report_event(&status, NULL, &nerr, r, k) != TNT_OK || status != TNT_INGEST_REJECTED)
                continue;
            for (size_t j = 0; j < nerr; j++) {
                const char *code, *path, *msg;
                tnt_ingest_report_error(&code, &path, &msg, r, k, j);
                fprintf(stderr, "%s: event %zu rejected: %s at %s: %s\n", o->args[i], k, code, path, msg);
            }
        }
        if (rej && rc == 0)
            rc = 1;
        tnt_ingest_report_free(r);
    }
    return rc;
}

static int cmd_track(tnt_engine *e, const sopts *o)
{
    if (need_args(o, 1, "track needs an identifier") != 0)
        return 2;
    tnt_track *t;
    tnt_status st = tnt_engine_track(&t, e, o->args[0]);
    if (st != TNT_OK) {
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
        return st == TNT_E_NOTFOUND ? 1 : 2;
    }
    char *json = NULL;
    tnt_track_json(&json, NULL, t);
    print_owned(json);
    tnt_track_free(t);
    return 0;
}

static int cmd_history(tnt_engine *e, const sopts *o)
{
    if (need_args(o, 1, "history needs an identifier") != 0)
        return 2;
    tnt_history *h;
    tnt_status st = tnt_engine_history(&h, e, o->args[0], o->page, o->limit);
    if (st != TNT_OK) {
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
        return st == TNT_E_NOTFOUND ? 1 : 2;
    }
    char *json = NULL;
    tnt_history_json(&json, NULL, h);
    print_owned(json);
    tnt_history_free(h);
    return 0;
}

static int cmd_event(tnt_engine *e, const sopts *o)
{
    if (need_args(o, 1, "event needs an event hash ID") != 0)
        return 2;
    tnt_event *ev;
    tnt_status st = tnt_engine_event(&ev, e, o->args[0]);
    if (st != TNT_OK) {
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
        return st == TNT_E_NOTFOUND ? 1 : 2;
    }
    char *json = NULL;
    tnt_event_to_json(&json, NULL, ev, TNT_JSON_CONTEXT | TNT_JSON_HASH_ID);
    print_owned(json);
    tnt_event_free(ev);
    return 0;
}

static int cmd_replay(tnt_engine *e, const sopts *o)
{
    size_t n = 0;
    tnt_status st = tnt_engine_replay(e, o->from_ms, &n);
    if (st != TNT_OK) {
        fprintf(stderr, "tnt: replay: %s\n", tnt_error_last());
        return 2;
    }
    printf("{\"replayed\":%zu}\n", n);
    return 0;
}

static int cmd_archive(tnt_engine *e, const sopts *o)
{
    size_t archived = 0, expired = 0;
    tnt_status st = tnt_engine_archive(e, o->now_ms, &archived, &expired);
    if (st != TNT_OK) {
        fprintf(stderr, "tnt: archive: %s\n", tnt_error_last());
        return 2;
    }
    printf("{\"archived\":%zu,\"expired\":%zu}\n", archived, expired);
    return 0;
}

static int cmd_master(tnt_engine *e, const sopts *o)
{
    if (o->nargs < 2 || strcmp(o->args[0], "load") != 0) {
        fprintf(stderr, "tnt: usage: tnt master load FILE...\n");
        return 2;
    }
    for (int i = 1; i < o->nargs; i++) {
        size_t n = 0;
        if (tnt_engine_master_load(e, o->args[i], &n) != TNT_OK) {
            fprintf(stderr, "tnt: %s\n", tnt_error_last());
            return 1;
        }
        printf("{\"file\":");
        tnt__cli_json_str(stdout, o->args[i]);
        printf(",\"loaded\":%zu}\n", n);
    }
    return 0;
}

static int cmd_stats(tnt_engine *e, const sopts *o)
{
    (void)o;
    char *json = NULL;
    if (tnt_engine_stats(&json, e) != TNT_OK) {
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
        return 2;
    }
    print_owned(json);
    return 0;
}

int tnt__cli_store(const char *cmd, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(tnt_engine *, const sopts *);
        const char *need;
        bool reads; /* a store must be there: reading one does not make it */
    } cmds[] = {{"ingest", cmd_ingest, "ingest needs FILE...", false},
                {"track", cmd_track, NULL, true},
                {"history", cmd_history, NULL, true},
                {"event", cmd_event, NULL, true},
                {"replay", cmd_replay, NULL, true},
                {"archive", cmd_archive, NULL, true},
                {"master", cmd_master, NULL, false},
                {"stats", cmd_stats, NULL, true}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(cmd, cmds[i].name) != 0)
            continue;
        sopts o;
        int rc = parse(&o, argc, argv);
        if (rc == 0 && cmds[i].need && o.nargs == 0) {
            fprintf(stderr, "tnt: %s\n", cmds[i].need);
            rc = -1;
        }
        if (rc == 0 && cmds[i].reads && !tnt__cli_store_there(o.data, o.config))
            rc = -1;
        tnt_engine *e = rc == 0 ? tnt__cli_open(o.data, o.config) : NULL;
        rc = e ? cmds[i].fn(e, &o) : 2;
        tnt_engine_close(e);
        free(o.args);
        return rc;
    }
    return -1; /* not a store command */
}
