/* read_events — validate, hash and print the events of an EPCIS document.
 *
 *   cc read_events.c $(pkg-config --cflags --libs libtnt) -o read_events
 *   ./read_events capture.jsonld
 */
#include <stdio.h>
#include <tnt/tnt.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }

    tnt_reader *r;
    if (tnt_reader_new(&r, NULL) != TNT_OK) { /* NULL: default options */
        fprintf(stderr, "%s\n", tnt_error_last());
        return 2;
    }

    char buf[65536];
    size_t n;
    int eof = 0;
    tnt_status st;
    tnt_event *ev;
    for (;;) {
        while ((st = tnt_reader_next(&ev, r)) == TNT_OK) {
            int64_t ms;
            tnt_event_get_time(&ms, NULL, ev, TNT_TIME_EVENT);
            printf("%zu %-16s %s %s\n", tnt_event_index(ev), tnt_event_type_name(tnt_event_get_type(ev)),
                   tnt_event_is_valid(ev) ? "valid  " : "INVALID", tnt_event_get_string(ev, TNT_FIELD_HASH_ID));
            for (size_t i = 0; i < tnt_event_list_count(ev, TNT_LIST_EPC); i++)
                printf("    epc %s\n", tnt_event_list_at(ev, TNT_LIST_EPC, i));
            for (size_t i = 0; i < tnt_event_error_count(ev); i++) {
                const char *code, *path, *msg;
                tnt_event_error_at(&code, &path, &msg, ev, i);
                printf("    %s at %s: %s\n", code, path, msg);
            }
        }
        if (st != TNT_AGAIN || eof)
            break;
        n = fread(buf, 1, sizeof buf, f); /* the reader needs buf until TNT_AGAIN */
        eof = n < sizeof buf;
        tnt_reader_feed(r, buf, n);
        if (eof)
            tnt_reader_finish(r);
    }
    if (st < 0)
        fprintf(stderr, "%s: %s\n", tnt_status_name(st), tnt_reader_errmsg(r));

    size_t events, valid, rejected;
    tnt_reader_counts(r, &events, &valid, &rejected);
    printf("%zu events, %zu valid, %zu rejected\n", events, valid, rejected);
    tnt_reader_free(r);
    fclose(f);
    return st < 0 ? 2 : rejected ? 1 : 0;
}
