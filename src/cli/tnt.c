/* tnt — the command-line tool.
 *
 *   tnt validate FILE     one JSON line per event: {"index","ok","errors"}
 *   tnt hash FILE         one event hash ID per event, in document order
 *   tnt normalize FILE    the normalised document as EPCIS 2.0 JSON
 *   tnt id ID             an identifier in all its forms, as JSON
 *
 * FILE may be "-" for standard input. Exit status: 0 success, 1 some event
 * (or the identifier) is invalid, 2 unreadable input or bad usage. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "cli/cli.h"
#include "codec/epcis.h"
#include "codec/json_stream.h"
#include "core/core.h"
#include "ingest/pipeline.h"
#include "tnt/tnt.h"

#define CHUNK ((size_t)64 * 1024)

static int usage(FILE *f)
{
    fprintf(f, "usage: tnt COMMAND [options] [args]\n"
               "\n"
               "commands:\n"
               "  validate FILE        check every event; one JSON line per event\n"
               "  hash FILE            the canonical event hash ID of every event\n"
               "  normalize FILE       the document with canonical identifiers, values, times, units\n"
               "  id ID                parse an identifier and print all its forms\n"
               "  ingest FILE...       store the events of documents (durably; duplicates once)\n"
               "  track ID             where a unit, case or pallet is, and in what condition\n"
               "  history ID           its journey, oldest first (--limit N, --page TOKEN)\n"
               "  event ID             one stored event by its hash ID or its sender's eventID\n"
               "  replay               rebuild the state from the event log (--from TIME)\n"
               "  archive              move old events to the cold archive (--now MS)\n"
               "  master load FILE...  load products, locations and parties (JSON or CSV)\n"
               "  stats                the log's records per partition, the backends, and the\n"
               "                       counters of this process (a server's: GET /metrics)\n"
               "  authenticate CODE    is it genuine? the signed answer as JSON (exit 0 green/amber,\n"
               "                       1 red, 3 unverifiable): --at LAT,LON --accuracy M --time T\n"
               "                       --device D --role consumer|retailer|partner\n"
               "                       --intent status|sell|receive|return --location GLN --dry-run --partner\n"
               "  keygen               a brand's Ed25519 key pair (--out FILE keeps the secret in FILE)\n"
               "  issue                signed Digital Link codes: --gtin G --serials FILE --key KEYFILE\n"
               "                       [--lot L] [--expiry YYMMDD] [--stem URL]\n"
               "  verify-answer FILE   check the signature of an authenticate answer: --key PUBLIC_KEY\n"
               "  service-key          the public key that signs authenticate answers\n"
               "  version              print the library version\n"
               "\n"
               "FILE is an EPCIS 2.0 JSON document, a simple report (or an array of them),\n"
               "or a protobuf tnt.v1.Batch; \"-\" reads standard input.\n"
               "\n"
               "options:\n"
               "  --gcp N              GS1 company prefix length for EPC URNs\n"
               "  --gcp-table FILE     company prefix lengths (CSV prefix,length or GS1 JSON)\n"
               "  --urn                normalize: identifiers as EPC URNs where possible\n"
               "  --now MS             validate: the time to check future eventTimes against\n"
               "  --future-skew S      validate: seconds eventTime may lie in the future (default 3600)\n"
               "  --prehash            hash: print the pre-hash strings too\n"
               "  --stem URL           id: Digital Link stem (default https://id.gs1.org)\n"
               "  --data DIR           store commands: the data directory (default $TNT_DATA or ./tnt-data)\n"
               "  --config FILE        store commands: config.yml naming the backends\n");
    return 2;
}

/* ---- options shared by the commands ---- */
typedef struct opts {
    const char *file;
    const char *id;
    const char *stem;
    int gcp;
    const char *gcp_table;
    bool urn, prehash, pretty;
    int64_t now_ms;
    int64_t skew_ms;
} opts;

static int parse_opts(opts *o, int argc, char **argv, bool want_file)
{
    *o = (opts){NULL, NULL, NULL, 0, NULL, false, false, false, 0, 3600000};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        double num;
        if (strcmp(a, "--gcp") == 0 && next) {
            if (!tnt__cli_number("--gcp", argv[++i], 4, 12, true, &num))
                return -1;
            o->gcp = (int)num;
        } else if (strcmp(a, "--gcp-table") == 0 && next) {
            o->gcp_table = argv[++i];
        } else if (strcmp(a, "--stem") == 0 && next) {
            o->stem = argv[++i];
        } else if (strcmp(a, "--now") == 0 && next) {
            if (!tnt__cli_time(argv[++i], &o->now_ms)) {
                fprintf(stderr, "tnt: --now: '%s' is not a time (2024-03-01T12:00:00Z or milliseconds)\n", argv[i]);
                return -1;
            }
        } else if (strcmp(a, "--future-skew") == 0 && next) {
            if (!tnt__cli_number("--future-skew (seconds)", argv[++i], 0, 1e9, false, &num))
                return -1;
            o->skew_ms = (int64_t)(num * 1000);
        } else if (strcmp(a, "--urn") == 0) {
            o->urn = true;
        } else if (strcmp(a, "--prehash") == 0) {
            o->prehash = true;
        } else if (strcmp(a, "--pretty") == 0) {
            o->pretty = true;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "tnt: unknown option %s\n", a);
            return -1;
        } else if (want_file && !o->file) {
            o->file = a;
        } else if (!want_file && !o->id) {
            o->id = a;
        } else {
            fprintf(stderr, "tnt: unexpected argument %s\n", a);
            return -1;
        }
    }
    if (want_file && !o->file) {
        fprintf(stderr, "tnt: a FILE (or - for standard input) is required\n");
        return -1;
    }
    return 0;
}

static int id_options(tnt_id_options *io, tnt_gcp_table **table, const opts *o)
{
    tnt_id_options_init(io, TNT_ID_OPTIONS_VERSION);
    io->gcp_length = o->gcp;
    *table = NULL;
    if (o->gcp_table) {
        if (tnt_gcp_table_new(table) != TNT_OK || tnt_gcp_table_load(*table, o->gcp_table) != TNT_OK) {
            fprintf(stderr, "tnt: %s: %s\n", o->gcp_table, tnt_error_last());
            tnt_gcp_table_free(*table);
            *table = NULL;
            return -1;
        }
        io->gcp_table = *table;
    }
    return 0;
}

/* ---- reading a document ---- */
typedef int (*event_fn)(tnt_event *ev, void *ud);

/* Feeds FILE through a reader, calling fn for each event. Returns 0, or 2 on
 * unreadable input (the message is printed). */
static int each_event(tnt_reader *r, const char *file, event_fn fn, void *ud)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "tnt: %s: %s\n", file, strerror(errno));
        return 2;
    }
    char *buf = malloc(CHUNK);
    int rc = 0;
    tnt_status st = TNT_AGAIN;
    tnt_event *ev;
    bool eof = false;
    while (buf && rc == 0) {
        while ((st = tnt_reader_next(&ev, r)) == TNT_OK)
            if ((rc = fn(ev, ud)) != 0)
                break;
        if (rc || st != TNT_AGAIN || eof)
            break;
        size_t n = fread(buf, 1, CHUNK, f);
        if (n < CHUNK) {
            if (ferror(f)) {
                fprintf(stderr, "tnt: %s: read error\n", file);
                rc = 2;
                break;
            }
            eof = true;
        }
        tnt_reader_feed(r, buf, n);
        if (eof)
            tnt_reader_finish(r);
    }
    if (rc == 0 && st < 0) {
        fprintf(stderr, "tnt: %s: %s: %s\n", file, tnt_status_str(st), tnt_reader_errmsg(r));
        rc = 2;
    }
    if (!buf) {
        fprintf(stderr, "tnt: out of memory\n");
        rc = 2;
    }
    free(buf);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int open_reader(tnt_reader **r, unsigned flags, const opts *o, tnt_id_options *io)
{
    tnt_reader_options ro;
    tnt_reader_options_init(&ro, TNT_READER_OPTIONS_VERSION);
    ro.flags = flags;
    ro.now_ms = o->now_ms;
    ro.future_skew_ms = o->skew_ms;
    ro.epc_format = o->urn ? TNT_EPC_FORMAT_URN : TNT_EPC_FORMAT_DIGITAL_LINK;
    ro.id_options = io;
    if (tnt_reader_new(r, &ro) != TNT_OK) {
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
        return -1;
    }
    return 0;
}

/* ---- validate ---- */
typedef struct vstate {
    tnt__buf out;
    bool rejected;
} vstate;

static int validate_one(tnt_event *ev, void *ud)
{
    vstate *v = ud;
    tnt__buf_reset(&v->out);
    size_t n = tnt_event_error_count(ev);
    tnt__buf_printf(&v->out, "{\"index\":%zu,\"ok\":%s,\"errors\":[", tnt_event_index(ev), n ? "false" : "true");
    for (size_t i = 0; i < n; i++) {
        const char *code, *path, *msg;
        tnt_event_error_at(&code, &path, &msg, ev, i);
        tnt__buf_puts(&v->out, i ? ",{\"code\":" : "{\"code\":");
        tnt__buf_json_str(&v->out, code);
        tnt__buf_puts(&v->out, ",\"path\":");
        tnt__buf_json_str(&v->out, path);
        tnt__buf_puts(&v->out, ",\"message\":");
        tnt__buf_json_str(&v->out, msg);
        tnt__buf_putc(&v->out, '}');
    }
    tnt__buf_puts(&v->out, "]}\n");
    fwrite(v->out.data, 1, v->out.len, stdout);
    v->rejected |= n > 0;
    return 0;
}

static int cmd_validate(const opts *o, tnt_id_options *io)
{
    tnt_reader *r;
    if (open_reader(&r, TNT_READ_VALIDATE, o, io) != 0)
        return 2;
    vstate v = {{0}, false};
    int rc = each_event(r, o->file, validate_one, &v);
    tnt__buf_free(&v.out);
    tnt_reader_free(r);
    return rc ? rc : v.rejected;
}

/* ---- hash ---- */
typedef struct hstate {
    bool prehash, failed;
} hstate;

static int hash_one(tnt_event *ev, void *ud)
{
    hstate *h = ud;
    const char *id = tnt_event_get_string(ev, TNT_FIELD_HASH_ID);
    if (!id) {
        const char *msg = "not an EPCIS event";
        tnt_event_error_at(NULL, NULL, &msg, ev, 0);
        fprintf(stderr, "tnt: event %zu has no hash: %s\n", tnt_event_index(ev), msg);
        puts("-");
        h->failed = true;
        return 0;
    }
    puts(id);
    if (h->prehash) {
        char *pre = tnt__hash_prehash(ev);
        if (pre)
            printf("  %s\n", pre);
        tnt__free(pre);
    }
    return 0;
}

static int cmd_hash(const opts *o, tnt_id_options *io)
{
    tnt_reader *r;
    if (open_reader(&r, TNT_READ_HASH, o, io) != 0)
        return 2;
    hstate h = {o->prehash, false};
    int rc = each_event(r, o->file, hash_one, &h);
    tnt_reader_free(r);
    return rc ? rc : h.failed;
}

/* ---- normalize ---- */
typedef struct nstate {
    tnt_reader *r;
    bool started, rejected;
    unsigned flags;
    tnt__arena arena;
    tnt__prefix *doc;
    size_t ndoc;
} nstate;

static void write_header(nstate *n)
{
    char err[128] = "";
    tnt__node *h = tnt__json_parse_tree(&n->arena, tnt_reader_header(n->r), strlen(tnt_reader_header(n->r)), err,
                                        sizeof err);
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__buf_puts(&b, "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"");
    tnt__context_parse(&n->arena, tnt__node_get(h, "@context"), &n->doc, &n->ndoc);
    for (size_t i = 0; i < n->ndoc; i++) {
        tnt__buf_puts(&b, ",{");
        tnt__buf_json_str(&b, n->doc[i].prefix);
        tnt__buf_putc(&b, ':');
        tnt__buf_json_str(&b, n->doc[i].iri);
        tnt__buf_putc(&b, '}');
    }
    tnt__buf_puts(&b, "],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"");
    const tnt__node *cd = tnt__node_get(h, "creationDate");
    tnt__buf_puts(&b, ",\"creationDate\":");
    if (cd && cd->kind == TNT__N_STRING) {
        tnt__buf_json_str(&b, cd->str);
    } else {
        char now[40];
        tnt__time t = {0, 0, true};
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        t.ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        tnt__time_format(now, &t, true);
        tnt__buf_json_str(&b, now);
    }
    for (const tnt__node *m = h ? h->child : NULL; m; m = m->next) {
        if (strcmp(m->key, "@context") == 0 || strcmp(m->key, "type") == 0 || strcmp(m->key, "schemaVersion") == 0 ||
            strcmp(m->key, "creationDate") == 0 || strcmp(m->key, "epcisBody") == 0)
            continue;
        tnt__buf_putc(&b, ',');
        tnt__buf_json_str(&b, m->key);
        tnt__buf_putc(&b, ':');
        tnt__json_write_node(&b, m, false);
    }
    tnt__buf_puts(&b, ",\"epcisBody\":{\"eventList\":[");
    fwrite(b.data, 1, b.len, stdout);
    tnt__buf_free(&b);
}

static bool covered(const nstate *n, const tnt_event *ev)
{
    for (size_t i = 0; i < tnt_event_prefix_count(ev); i++) {
        const char *p, *iri;
        tnt_event_prefix_at(&p, &iri, ev, i);
        size_t k = 0;
        while (k < n->ndoc && !(strcmp(n->doc[k].prefix, p) == 0 && strcmp(n->doc[k].iri, iri) == 0))
            k++;
        if (k == n->ndoc)
            return false;
    }
    return true;
}

static int normalize_one(tnt_event *ev, void *ud)
{
    nstate *n = ud;
    if (!n->started)
        write_header(n);
    char *json;
    size_t len;
    unsigned flags = n->flags | (covered(n, ev) ? 0 : TNT_JSON_CONTEXT);
    if (tnt_event_to_json(&json, &len, ev, flags) != TNT_OK) {
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
        return 2;
    }
    if (n->started)
        fputc(',', stdout);
    n->started = true;
    fwrite(json, 1, len, stdout);
    tnt_free(json);
    if (!tnt_event_is_valid(ev)) {
        const char *code, *path, *msg;
        tnt_event_error_at(&code, &path, &msg, ev, 0);
        fprintf(stderr, "tnt: event %zu is invalid: %s %s: %s\n", tnt_event_index(ev), code, path, msg);
        n->rejected = true;
    }
    return 0;
}

static int cmd_normalize(const opts *o, tnt_id_options *io)
{
    nstate n = {NULL, false, false, o->pretty ? TNT_JSON_PRETTY : 0, {0}, NULL, 0};
    if (open_reader(&n.r, TNT_READ_DEFAULT, o, io) != 0)
        return 2;
    tnt__arena_init(&n.arena, 0);
    int rc = each_event(n.r, o->file, normalize_one, &n);
    if (rc == 0) {
        if (!n.started) {
            n.started = true;
            write_header(&n);
        }
        fputs("]}}\n", stdout);
    } else if (n.started) {
        fputs("]}}\n", stdout);
    }
    tnt_reader_free(n.r);
    tnt__arena_destroy(&n.arena);
    return rc ? rc : n.rejected;
}

/* ---- id ---- */
static int cmd_id(const opts *o, tnt_id_options *io)
{
    if (!o->id) {
        fprintf(stderr, "tnt: id needs an identifier\n");
        return 2;
    }
    tnt_id *id;
    if (tnt_id_new(&id) != TNT_OK)
        return 2;
    tnt_status st = tnt_id_parse(id, o->id, strlen(o->id), io);
    int rc = st == TNT_OK ? 0 : 1;
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__buf_printf(&b, "{\"ok\":%s,\"type\":", st == TNT_OK ? "true" : "false");
    if (st == TNT_OK) {
        tnt__buf_json_str(&b, tnt_id_type_name(tnt_id_get_type(id)));
        tnt__buf_puts(&b, ",\"canonical\":");
        tnt__buf_json_str(&b, tnt_id_canonical(id));
        char *urn = NULL, *dl = NULL, urn_err[256] = "", dl_err[256] = "";
        tnt_status us = tnt_id_epc_urn(&urn, id);
        if (us != TNT_OK) /* each form's own reason, before the next call replaces it */
            snprintf(urn_err, sizeof urn_err, "%s", tnt_error_last());
        tnt_status ds = tnt_id_digital_link(&dl, id, o->stem);
        if (ds != TNT_OK)
            snprintf(dl_err, sizeof dl_err, "%s", tnt_error_last());
        tnt__buf_puts(&b, ",\"epc_urn\":");
        if (us == TNT_OK)
            tnt__buf_json_str(&b, urn);
        else
            tnt__buf_puts(&b, "null");
        tnt__buf_puts(&b, ",\"digital_link\":");
        if (ds == TNT_OK)
            tnt__buf_json_str(&b, dl);
        else
            tnt__buf_puts(&b, "null");
        tnt__buf_puts(&b, ",\"element_string\":");
        tnt__buf_json_str(&b, tnt_id_element_string(id));
        tnt__buf_puts(&b, ",\"errors\":[]");
        if (us != TNT_OK) {
            tnt__buf_puts(&b, ",\"epc_urn_error\":");
            tnt__buf_json_str(&b, urn_err);
        }
        if (ds != TNT_OK) {
            tnt__buf_puts(&b, ",\"digital_link_error\":");
            tnt__buf_json_str(&b, dl_err);
            if (o->stem)
                rc = 2; /* the --stem given is no stem: a usage error */
        }
        tnt_free(urn);
        tnt_free(dl);
    } else {
        tnt__buf_puts(&b, "null,\"canonical\":null,\"epc_urn\":null,\"digital_link\":null,\"element_string\":null,"
                          "\"errors\":[");
        for (size_t i = 0; i < tnt_id_error_count(id); i++) {
            const char *code, *msg;
            tnt_id_error_at(&code, &msg, id, i);
            tnt__buf_puts(&b, i ? ",{\"code\":" : "{\"code\":");
            tnt__buf_json_str(&b, code);
            tnt__buf_puts(&b, ",\"message\":");
            tnt__buf_json_str(&b, msg);
            tnt__buf_putc(&b, '}');
        }
        tnt__buf_putc(&b, ']');
    }
    tnt__buf_puts(&b, "}\n");
    fwrite(b.data, 1, b.len, stdout);
    tnt__buf_free(&b);
    tnt_id_free(id);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("tnt %s\n", tnt_version_string());
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(const opts *, tnt_id_options *);
        bool want_file;
    } cmds[] = {{"validate", cmd_validate, true},
                {"hash", cmd_hash, true},
                {"normalize", cmd_normalize, true},
                {"id", cmd_id, false}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(cmd, cmds[i].name) != 0)
            continue;
        opts o;
        if (parse_opts(&o, argc - 2, argv + 2, cmds[i].want_file) != 0)
            return 2;
        tnt_id_options io;
        tnt_gcp_table *table;
        if (id_options(&io, &table, &o) != 0)
            return 2;
        int rc = cmds[i].fn(&o, &io);
        tnt_gcp_table_free(table);
        return rc;
    }
    int rc = tnt__cli_store(cmd, argc - 2, argv + 2);
    if (rc < 0)
        rc = tnt__cli_auth(cmd, argc - 2, argv + 2);
    if (rc >= 0)
        return rc;
    fprintf(stderr, "tnt: unknown command '%s'\n", cmd);
    return usage(stderr);
}

void tnt__cli_json_str(FILE *f, const char *s)
{
    tnt__buf b;
    tnt__buf_init(&b);
    tnt__buf_json_str(&b, s ? s : "");
    if (b.data)
        fwrite(b.data, 1, b.len, f);
    tnt__buf_free(&b);
}

bool tnt__cli_number(const char *option, const char *s, double lo, double hi, bool integer, double *out)
{
    char *end = NULL;
    double v = s && *s ? strtod(s, &end) : NAN;
    if (end && !*end && isfinite(v) && v >= lo && v <= hi && (!integer || v == floor(v))) {
        *out = v;
        return true;
    }
    fprintf(stderr, "tnt: %s: '%s' is not %s from %g to %g\n", option, s ? s : "", integer ? "a whole number" : "a number",
            lo, hi);
    return false;
}

bool tnt__cli_time(const char *s, int64_t *ms)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s && !*end) {
        *ms = v;
        return true;
    }
    tnt__time t;
    if (!tnt__time_parse(&t, s))
        return false;
    *ms = t.ms;
    return true;
}
