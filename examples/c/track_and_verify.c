/* The store from C: open a data directory, load master data, ingest a
 * document, track a unit, walk its journey and ask whether it is genuine.
 *
 *   track_and_verify DATA_DIR MASTER.json DOCUMENT UNIT
 *
 * Prints the ingest counts, the unit's state and journey as JSON, and the
 * verdict. Exits 1 on any failure, with the library's message. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <tnt/tnt.h>

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, tnt_error_last());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s DATA_DIR MASTER.json DOCUMENT UNIT\n", argv[0]);
        return 2;
    }
    tnt_engine_options opts;
    tnt_engine_options_init(&opts, TNT_ENGINE_OPTIONS_VERSION);
    opts.data_dir = argv[1]; /* or opts.config_path: a config.yml naming the backends */
    tnt_engine *e;
    if (tnt_engine_open(&e, &opts) != TNT_OK)
        return fail("open");
    int rc = 1;
    tnt_ingest_report *rep = NULL;
    tnt_track *t = NULL;
    tnt_history *h = NULL;
    tnt_verdict *v = NULL;
    char *json = NULL;

    size_t loaded = 0;
    if (tnt_engine_master_load(e, argv[2], &loaded) != TNT_OK) {
        fail("master data");
        goto out;
    }
    /* streamed from the file; returns once the accepted events are durable */
    if (tnt_engine_ingest_file(&rep, e, argv[3], 0) != TNT_OK) {
        fail("ingest");
        goto out;
    }
    size_t events, accepted, duplicates, rejected;
    tnt_ingest_report_counts(rep, &events, &accepted, &duplicates, &rejected);
    printf("master records %zu; events %zu: %zu accepted, %zu duplicates, %zu rejected\n", loaded, events, accepted,
           duplicates, rejected);

    /* where is it? (any form of the identifier) */
    if (tnt_engine_track(&t, e, argv[4]) != TNT_OK) {
        fail("track");
        goto out;
    }
    printf("biz step %s at %s\n", tnt_track_get(t, TNT_TRACK_BIZ_STEP), tnt_track_get(t, TNT_TRACK_BIZ_LOCATION));
    if (tnt_track_json(&json, NULL, t) != TNT_OK) {
        fail("track json");
        goto out;
    }
    printf("%s\n", json);
    tnt_free(json);
    json = NULL;

    /* its journey, oldest first (a page; tnt_history_next_token() for more) */
    if (tnt_engine_history(&h, e, argv[4], NULL, 50) != TNT_OK) {
        fail("history");
        goto out;
    }
    for (size_t i = 0; i < tnt_history_count(h); i++) {
        tnt_event *ev = tnt_history_event(h, i);
        int64_t ms = 0;
        int offset = 0;
        tnt_event_get_time(&ms, &offset, ev, TNT_TIME_EVENT);
        const char *step = tnt_event_get_string(ev, TNT_FIELD_BIZ_STEP);
        time_t secs = (time_t)(ms / 1000);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&secs));
        printf("  %s  %s\n", when, step ? step : "-");
    }

    /* is it genuine? A status check: nothing is recorded */
    tnt_scan scan;
    tnt_scan_init(&scan, TNT_SCAN_VERSION);
    scan.record = TNT_SCAN_DRY_RUN;
    if (tnt_engine_authenticate(&v, e, argv[4], &scan) != TNT_OK) {
        fail("authenticate");
        goto out;
    }
    printf("verdict %s\n", tnt_verdict_name(tnt_verdict_get(v)));
    for (size_t i = 0; i < tnt_verdict_reason_count(v); i++) {
        const char *code, *severity, *text;
        tnt_verdict_reason_at(&code, &severity, &text, v, i);
        printf("  %s (%s): %s\n", code, severity, text);
    }
    rc = 0;
out:
    tnt_verdict_free(v);
    tnt_history_free(h);
    tnt_track_free(t);
    tnt_ingest_report_free(rep);
    tnt_engine_close(e);
    return rc;
}
