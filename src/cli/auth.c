/* tnt's authenticity commands:
 *
 *   tnt authenticate CODE [--at LAT,LON] [--accuracy M] [--time T] [--device D]
 *                         [--role consumer|retailer|partner] [--intent status|sell|receive|return]
 *                         [--location GLN] [--dry-run] [--partner]
 *   tnt keygen [--out FILE]
 *   tnt issue --gtin G --serials FILE --key KEYFILE [--lot L] [--expiry YYMMDD] [--stem URL]
 *   tnt verify-answer FILE --key PUBLIC_KEY
 *   tnt service-key                the public key that signs answers
 *
 * authenticate and the engine take --data DIR and --config FILE. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tnt/tnt.h"

typedef struct aopts {
    const char *data, *config, *at, *time, *device, *role, *intent, *location, *out, *gtin, *serials, *key, *lot,
        *expiry, *stem, *accuracy;
    bool dry_run, partner;
    const char *arg;
} aopts;

static int parse(aopts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    static const struct {
        const char *name;
        size_t off;
    } valued[] = {
        {"--data", offsetof(aopts, data)},       {"--config", offsetof(aopts, config)},
        {"--at", offsetof(aopts, at)},           {"--time", offsetof(aopts, time)},
        {"--device", offsetof(aopts, device)},   {"--role", offsetof(aopts, role)},
        {"--intent", offsetof(aopts, intent)},   {"--location", offsetof(aopts, location)},
        {"--out", offsetof(aopts, out)},         {"--gtin", offsetof(aopts, gtin)},
        {"--serials", offsetof(aopts, serials)}, {"--key", offsetof(aopts, key)},
        {"--lot", offsetof(aopts, lot)},         {"--expiry", offsetof(aopts, expiry)},
        {"--stem", offsetof(aopts, stem)},       {"--accuracy", offsetof(aopts, accuracy)},
    };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool done = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0] && !done; k++)
            if (strcmp(a, valued[k].name) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "tnt: %s needs a value\n", a);
                    return -1;
                }
                *(const char **)((char *)o + valued[k].off) = argv[++i];
                done = true;
            }
        if (done)
            continue;
        if (strcmp(a, "--dry-run") == 0)
            o->dry_run = true;
        else if (strcmp(a, "--partner") == 0)
            o->partner = true;
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "tnt: unknown option %s\n", a);
            return -1;
        } else if (!o->arg)
            o->arg = a;
        else {
            fprintf(stderr, "tnt: one argument only ('%s' is extra)\n", a);
            return -1;
        }
    }
    return 0;
}

static int pick(const char *v, const char *const *names, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    fprintf(stderr, "tnt: --%s: '%s' is not one of", what, v);
    for (int i = 0; i < n; i++)
        fprintf(stderr, " %s", names[i]);
    fputc('\n', stderr);
    return -1;
}

static int cmd_authenticate(const aopts *o)
{
    if (!o->arg) {
        fprintf(stderr, "tnt: authenticate needs a code\n");
        return 2;
    }
    tnt_scan s;
    tnt_scan_init(&s, TNT_SCAN_VERSION);
    if (o->at) {
        char *end;
        s.latitude = strtod(o->at, &end);
        if (*end != ',' || (s.longitude = strtod(end + 1, &end), *end)) {
            fprintf(stderr, "tnt: --at: '%s' is not LAT,LON\n", o->at);
            return 2;
        }
        s.has_location = 1;
    }
    if (o->accuracy && !tnt__cli_number("--accuracy (metres)", o->accuracy, 0, 2e7, false, &s.accuracy_m))
        return 2;
    if (o->time && !tnt__cli_time(o->time, &s.time_ms)) {
        fprintf(stderr, "tnt: --time: '%s' is not a time (2024-03-01T12:00:00Z or milliseconds)\n", o->time);
        return 2;
    }
    static const char *const roles[] = {"consumer", "retailer", "partner"};
    static const char *const intents[] = {"status", "sell", "receive", "return"};
    if (o->role && (s.role = pick(o->role, roles, 3, "role")) < 0)
        return 2;
    if (o->intent && (s.intent = pick(o->intent, intents, 4, "intent")) < 0)
        return 2;
    s.device = o->device;
    s.location_id = o->location;
    s.record = !o->dry_run;
    if (!tnt__cli_store_there(o->data, o->config))
        return 2;
    tnt_engine *e = tnt__cli_open(o->data, o->config);
    if (!e)
        return 2;
    tnt_verdict *v = NULL;
    tnt_status st = tnt_engine_authenticate(&v, e, o->arg, &s);
    int rc = 2;
    if (st != TNT_OK)
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
    else {
        char *json = NULL;
        if (tnt_verdict_json(&json, NULL, v, o->partner ? TNT_VERDICT_JSON_PARTNER : TNT_VERDICT_JSON_CONSUMER) ==
            TNT_OK)
            puts(json);
        tnt_free(json);
        tnt_verdict_kind k = tnt_verdict_get(v);
        rc = k == TNT_VERDICT_GENUINE || k == TNT_VERDICT_GENUINE_CAUTION ? 0 : k == TNT_VERDICT_UNVERIFIABLE ? 3 : 1;
    }
    tnt_verdict_free(v);
    tnt_engine_close(e);
    return rc;
}

static int cmd_keygen(const aopts *o)
{
    char *pub = NULL, *sec = NULL;
    if (tnt_keygen(&pub, &sec) != TNT_OK) {
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
        return 2;
    }
    int rc = 0;
    if (o->out) {
        int fd = open(o->out, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0) {
            fprintf(stderr, "tnt: %s: %s%s\n", o->out, strerror(errno),
                    errno == EEXIST ? " (a key file is never overwritten)" : "");
            rc = 2;
        } else {
            size_t n = strlen(sec);
            sec[n] = '\n';
            if (write(fd, sec, n + 1) != (ssize_t)(n + 1) || fsync(fd) != 0) {
                fprintf(stderr, "tnt: %s: %s\n", o->out, strerror(errno));
                rc = 2;
            }
            sec[n] = '\0';
            close(fd);
            if (rc == 0) {
                printf("{\"public_key\":");
                tnt__cli_json_str(stdout, pub);
                printf(",\"secret_key_file\":");
                tnt__cli_json_str(stdout, o->out);
                printf("}\n");
            }
        }
    } else {
        printf("{\"public_key\":\"%s\",\"secret_key\":\"%s\"}\n", pub, sec);
    }
    memset(sec, 0, strlen(sec));
    tnt_free(pub);
    tnt_free(sec);
    return rc;
}

static char *read_line_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return strdup(buf);
}

/* A Digital Link path segment: a serial or lot may hold any GS1 character,
 * "(" and "/" too, so every byte but the unreserved ones is %-encoded. */
static bool pct(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                     *p == '.' || *p == '_' || *p == '~';
        if (n + (plain ? 1 : 3) >= cap)
            return false;
        if (plain)
            out[n++] = (char)*p;
        else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    return true;
}

static int cmd_issue(const aopts *o)
{
    if (!o->gtin || !o->serials || !o->key) {
        fprintf(stderr, "tnt: issue needs --gtin G --serials FILE --key KEYFILE\n");
        return 2;
    }
    char *secret = read_line_file(o->key);
    if (!secret) {
        fprintf(stderr, "tnt: %s: %s\n", o->key, strerror(errno));
        return 2;
    }
    FILE *f = strcmp(o->serials, "-") == 0 ? stdin : fopen(o->serials, "rb");
    if (!f) {
        fprintf(stderr, "tnt: %s: %s\n", o->serials, strerror(errno));
        free(secret);
        return 2;
    }
    char line[512], code[1024];
    int rc = 0;
    size_t lineno = 0, issued = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strcspn(line, "\r\n");
        if (line[n] == '\0' && n == sizeof line - 1) {
            fprintf(stderr, "tnt: %s:%zu: a serial is at most 20 characters\n", o->serials, lineno);
            rc = 1;
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            continue;
        }
        line[n] = '\0';
        if (n == 0)
            continue;
        /* each value in its own place, never read back out of a text pasted together */
        char gtin[64], serial[256], lot[256], expiry[64];
        if (!pct(gtin, sizeof gtin, o->gtin) || !pct(serial, sizeof serial, line) ||
            !pct(lot, sizeof lot, o->lot ? o->lot : "") || !pct(expiry, sizeof expiry, o->expiry ? o->expiry : "")) {
            fprintf(stderr, "tnt: %s:%zu: too long for a code\n", o->serials, lineno);
            rc = 1;
            continue;
        }
        snprintf(code, sizeof code, "https://id.gs1.org/01/%s%s%s/21/%s%s%s", gtin, o->lot ? "/10/" : "", lot, serial,
                 o->expiry ? "?17=" : "", expiry);
        char *dl = NULL;
        if (tnt_sign_code(&dl, code, secret, o->stem) != TNT_OK) {
            fprintf(stderr, "tnt: %s:%zu: %s\n", o->serials, lineno, tnt_error_last());
            rc = 1;
            continue;
        }
        puts(dl);
        tnt_free(dl);
        issued++;
    }
    if (f != stdin)
        fclose(f);
    memset(secret, 0, strlen(secret));
    free(secret);
    fprintf(stderr, "tnt: issued %zu signed code%s\n", issued, issued == 1 ? "" : "s");
    return rc;
}

static int cmd_verify(const aopts *o)
{
    if (!o->arg || !o->key) {
        fprintf(stderr, "tnt: verify-answer needs FILE and --key PUBLIC_KEY\n");
        return 2;
    }
    FILE *f = strcmp(o->arg, "-") == 0 ? stdin : fopen(o->arg, "rb");
    if (!f) {
        fprintf(stderr, "tnt: %s: %s\n", o->arg, strerror(errno));
        return 2;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= (64u << 20))
                break;
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            } else
                buf = nb;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!buf)
        return 2;
    tnt_status st = tnt_verdict_verify(buf, n, o->key);
    free(buf);
    if (st != TNT_OK) {
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
        return 1;
    }
    puts("{\"signature\":\"valid\"}");
    return 0;
}

static int cmd_service_key(const aopts *o)
{
    tnt_engine *e = tnt__cli_open(o->data, o->config);
    if (!e)
        return 2;
    char *pk = NULL;
    int rc = tnt_engine_service_key(&pk, e) == TNT_OK ? 0 : 2;
    if (rc == 0)
        printf("{\"public_key\":\"%s\"}\n", pk);
    else
        fprintf(stderr, "tnt: %s\n", tnt_error_last());
    tnt_free(pk);
    tnt_engine_close(e);
    return rc;
}

int tnt__cli_auth(const char *cmd, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(const aopts *);
    } cmds[] = {{"authenticate", cmd_authenticate},
                {"keygen", cmd_keygen},
                {"issue", cmd_issue},
                {"verify-answer", cmd_verify},
                {"service-key", cmd_service_key}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(cmd, cmds[i].name) != 0)
            continue;
        aopts o;
        if (parse(&o, argc, argv) != 0)
            return 2;
        return cmds[i].fn(&o);
    }
    return -1;
}
