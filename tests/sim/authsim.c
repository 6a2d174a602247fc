/* The authenticity simulator (see authsim.h and docs/authenticity.md,
 * "Measured accuracy").
 *
 * A world of two brands (one signs its codes), factories, distribution
 * centres and shops in real cities, and a timeline of what happens to each
 * item: commissioning, packing into cases, shipments, receipts, storage,
 * shelves, sales, returns, consumer scans near the shop or at home — with
 * missed reads, clock skew, late and duplicated reports and cold-chain
 * excursions. The attacks are injected into the same timeline. Events reach
 * the engine in the order they are reported, scans are verified in time
 * order, and every verdict is tallied. The history attacks edit the store
 * directly, as an intruder with access to its files would. */
#define _GNU_SOURCE
#include "authsim.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tnt/sys/backend.h"
#include "tnt/tnt.h"

#define DAY (24 * 3600 * 1000LL)
#define HOUR (3600 * 1000LL)
#define MIN (60 * 1000LL)

/* ---- randomness (splitmix64), seeded ---- */

static uint64_t g_rng;

static uint64_t rnd(void)
{
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static double between(double a, double b) { return a + (b - a) * unif(); }
static size_t pick(size_t n) { return (size_t)(unif() * (double)n) % (n ? n : 1); }
static bool chance(double p) { return unif() < p; }
static double gauss(void)
{
    double u = unif() + 1e-12, v = unif();
    return sqrt(-2 * log(u)) * cos(2 * 3.141592653589793 * v);
}
static int poisson(double l)
{
    int k = 0;
    for (double p = exp(-l), s = p, u = unif(); u > s; k++) {
        p *= l / (k + 1);
        s += p;
    }
    return k;
}

/* ---- the world ---- */

typedef struct city {
    const char *name, *country;
    double lat, lon;
} city;

static const city cities[] = {
    {"Paris", "FR", 48.8566, 2.3522},     {"Lyon", "FR", 45.764, 4.8357},         {"Marseille", "FR", 43.2965, 5.3698},
    {"Lille", "FR", 50.6292, 3.0573},     {"Toulouse", "FR", 43.6047, 1.4442},    {"Bordeaux", "FR", 44.8378, -0.5792},
    {"Berlin", "DE", 52.52, 13.405},      {"Hamburg", "DE", 53.5511, 9.9937},     {"Munich", "DE", 48.1351, 11.582},
    {"Cologne", "DE", 50.9375, 6.9603},   {"Frankfurt", "DE", 50.1109, 8.6821},   {"Stuttgart", "DE", 48.7758, 9.1829},
    {"Milan", "IT", 45.4642, 9.19},       {"Rome", "IT", 41.9028, 12.4964},       {"Naples", "IT", 40.8518, 14.2681},
    {"Turin", "IT", 45.0703, 7.6869},     {"Madrid", "ES", 40.4168, -3.7038},     {"Barcelona", "ES", 41.3874, 2.1686},
    {"Valencia", "ES", 39.4699, -0.3763}, {"Seville", "ES", 37.3891, -5.9845},    {"Amsterdam", "NL", 52.3676, 4.9041},
    {"Rotterdam", "NL", 51.9244, 4.4777}, {"Brussels", "BE", 50.8503, 4.3517},    {"Antwerp", "BE", 51.2194, 4.4025},
    {"Vienna", "AT", 48.2082, 16.3738},   {"Zurich", "CH", 47.3769, 8.5417},      {"Warsaw", "PL", 52.2297, 21.0122},
    {"Krakow", "PL", 50.0647, 19.945},    {"London", "GB", 51.5074, -0.1278},     {"Manchester", "GB", 53.4808, -2.2426},
    {"New York", "US", 40.7128, -74.006}, {"Chicago", "US", 41.8781, -87.6298},   {"Istanbul", "TR", 41.0082, 28.9784},
};
#define NCITIES (sizeof cities / sizeof cities[0])

static bool in_market(const char *country)
{
    static const char *const m[] = {"FR", "DE", "IT", "ES", "NL", "BE", "AT", "CH"};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(country, m[i]) == 0)
            return true;
    return false;
}

enum { FACTORY, DC, SHOP };

typedef struct site {
    char gln[14];
    int kind, city;
    double lat, lon;
} site;

typedef struct brand {
    const char *name, *prefix; /* GS1 company prefix (7 digits) */
    bool signs;
    char pk[3][64], sk[3][128]; /* current, expired (window), revoked */
    char attacker_sk[128];
} brand;

typedef struct prod {
    int brand;
    char gtin[15];
    bool chilled;
} prod;

typedef struct item {
    int product;
    char serial[24], lot[16], expiry[12], es[96], code[320];
    int factory, dc, shop;
    int64_t t_commission, t_shop, t_sale, t_scan_first;
    bool sold, sale_recorded, at_shop;
    double home_lat, home_lon;
} item;

static site *g_sites;
static size_t g_nsites;
static brand g_brands[2] = {{"Alpine Dairy", "9506000", true, {{0}}, {{0}}, {0}},
                            {"Nordic Snacks", "9521234", false, {{0}}, {{0}}, {0}}};
static prod g_products[4];
static item *g_items;
static size_t g_nitems, g_capitems;

static double km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0, d2r = 3.141592653589793 / 180.0;
    double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * d2r) * cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(a < 1 ? a : 1));
}

/* A point d km from (lat, lon) in a random direction. */
static void offset(double lat, double lon, double d, double *olat, double *olon)
{
    double b = between(0, 2 * 3.141592653589793);
    *olat = lat + d / 111.0 * cos(b);
    *olon = lon + d / (111.0 * cos(lat * 3.141592653589793 / 180.0)) * sin(b);
}

static void check_digit(char *digits, size_t n) /* digits has n-1 digits; appends the check digit */
{
    digits[n - 1] = (char)('0' + tnt_gs1_check_digit(digits, n - 1));
    digits[n] = '\0';
}

static int add_site(int kind, int c)
{
    g_sites = realloc(g_sites, (g_nsites + 1) * sizeof *g_sites);
    site *s = &g_sites[g_nsites];
    snprintf(s->gln, sizeof s->gln, "950999%06zu", g_nsites);
    check_digit(s->gln, 13);
    s->kind = kind;
    s->city = c;
    double jitter = kind == SHOP ? between(0.5, 6) : between(2, 15);
    offset(cities[c].lat, cities[c].lon, jitter, &s->lat, &s->lon);
    return (int)g_nsites++;
}

static int city_of(const char *name)
{
    for (size_t i = 0; i < NCITIES; i++)
        if (strcmp(cities[i].name, name) == 0)
            return (int)i;
    return 0;
}

/* ---- the timeline ---- */

enum { ACT_EVENT, ACT_SCAN, ACT_SNAPSHOT };

typedef struct action {
    int64_t at;      /* when it reaches the system */
    uint64_t seq;
    int kind, scen, role, intent, source;
    int64_t t;       /* when it happened */
    char *text;      /* a simple report (JSON object), or the code scanned */
    bool geo;
    double lat, lon, acc_m;
    char device[32], location[14];
} action;

static action *g_acts;
static size_t g_nacts, g_capacts;
static uint64_t g_seq;
static double g_p_miss;

static action *act(int kind, int64_t at, int64_t t)
{
    if (g_nacts == g_capacts) {
        g_capacts = g_capacts ? g_capacts * 2 : 4096;
        g_acts = realloc(g_acts, g_capacts * sizeof *g_acts);
    }
    action *a = &g_acts[g_nacts++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->at = at;
    a->t = t;
    a->seq = g_seq++;
    return a;
}

static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char buf[1024];
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return strdup(buf);
}

static void iso(char *out, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* A movement report, as a partner would send it: skewed clock, maybe late, maybe twice, maybe never. */
static void report(const char *id, const char *type, const site *where, int64_t t, const char *extra, bool always)
{
    if (!always && chance(g_p_miss))
        return;
    t += (int64_t)between(-10, 10) * MIN;
    char when[32];
    iso(when, t);
    int64_t delay = chance(0.05) ? (int64_t)between(0, 72) * HOUR : (int64_t)between(0, 5) * MIN;
    for (int copies = chance(0.01) ? 2 : 1; copies > 0; copies--) {
        action *a = act(ACT_EVENT, t + delay + copies, t);
        a->text = fmt("{\"product_id\":\"%s\",\"event_type\":\"%s\",\"location\":\"%s\",\"timestamp\":\"%s\"%s%s}", id,
                      type, where->gln, when, extra ? "," : "", extra ? extra : "");
    }
}

static void scan(int scen, const char *code, int64_t t, double lat, double lon, double acc_m, const char *device,
                 int role, int intent, const char *location, int source)
{
    action *a = act(ACT_SCAN, t, t);
    a->scen = scen;
    a->text = strdup(code);
    a->geo = true;
    a->lat = lat;
    a->lon = lon;
    a->acc_m = acc_m;
    a->role = role;
    a->intent = intent;
    a->source = source;
    snprintf(a->device, sizeof a->device, "%s", device ? device : "");
    snprintf(a->location, sizeof a->location, "%s", location ? location : "");
}

static double acc_gps(void) { return exp(between(log(10), log(5000))); }

static int64_t transit(const site *a, const site *b)
{
    double h = km(a->lat, a->lon, b->lat, b->lon) / 70.0 * exp(0.3 * gauss()) + 1;
    return (int64_t)(h * HOUR);
}

/* Consumers who bought an item scan it near the shop or at home. */
static void consumer_scans(int scen, item *it, int64_t t_sale, const char *household)
{
    const site *s = &g_sites[it->shop];
    double hlat, hlon;
    double d = fabs(gauss()) * 8;
    offset(s->lat, s->lon, d > 30 ? 30 : d, &hlat, &hlon);
    int devices = chance(0.2) ? 2 : 1;
    if (chance(0.05)) { /* at the shelf, before paying */
        char dev[32];
        snprintf(dev, sizeof dev, "%s-0", household);
        scan(scen, it->code, t_sale - (int64_t)between(1, 30) * MIN, s->lat, s->lon, between(10, 100), dev, 0, 0,
             NULL, 0);
    }
    int n = 1 + poisson(0.5);
    for (int k = 0; k < n; k++) {
        char dev[32];
        snprintf(dev, sizeof dev, "%s-%d", household, (int)pick((size_t)devices));
        int64_t t = t_sale + (int64_t)(-log(unif() + 1e-12) * 2.885 * DAY);
        if (k == 0 && (!it->t_scan_first || t < it->t_scan_first))
            it->t_scan_first = t;
        scan(scen, it->code, t, hlat, hlon, acc_gps(), dev, 0, 0, NULL, 0);
    }
}

static char *sign(const char *es, const char *sk)
{
    char *dl = NULL;
    if (tnt_sign_code(&dl, es, sk, NULL) != TNT_OK) {
        fprintf(stderr, "authsim: signing %s: %s\n", es, tnt_error_last());
        exit(2);
    }
    char *r = strdup(dl);
    tnt_free(dl);
    return r;
}

static item *new_item(int pi, const char *lot, int factory, int dc, int shop, int64_t t_c)
{
    if (g_nitems == g_capitems) {
        g_capitems = g_capitems ? g_capitems * 2 : 1024;
        g_items = realloc(g_items, g_capitems * sizeof *g_items);
    }
    item *it = &g_items[g_nitems++];
    memset(it, 0, sizeof *it);
    it->product = pi;
    static const char alpha[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < 12; i++)
        it->serial[i] = alpha[pick(sizeof alpha - 1)];
    snprintf(it->lot, sizeof it->lot, "%s", lot);
    time_t ex = (time_t)((t_c + 365 * DAY) / 1000);
    struct tm tm;
    gmtime_r(&ex, &tm);
    snprintf(it->expiry, sizeof it->expiry, "%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday);
    const prod *p = &g_products[pi];
    snprintf(it->es, sizeof it->es, "(01)%s(21)%s(10)%s(17)%s", p->gtin, it->serial, it->lot, it->expiry);
    const brand *b = &g_brands[p->brand];
    if (b->signs) {
        char *dl = sign(it->es, b->sk[0]);
        snprintf(it->code, sizeof it->code, "%s", dl);
        free(dl);
    } else {
        snprintf(it->code, sizeof it->code, "%s", it->es);
    }
    it->factory = factory;
    it->dc = dc;
    it->shop = shop;
    it->t_commission = t_c;
    return it;
}

static char *g_master;
static int64_t g_t0;

static void build_world(void)
{
    g_nsites = 0;
    /* factories: Alpine Dairy in Lyon and Munich; Nordic Snacks in Hamburg and Milan */
    add_site(FACTORY, city_of("Lyon"));
    add_site(FACTORY, city_of("Munich"));
    add_site(FACTORY, city_of("Hamburg"));
    add_site(FACTORY, city_of("Milan"));
    static const char *const dcs[] = {"Paris", "Cologne", "Milan", "Madrid", "Rotterdam", "Brussels",
                                      "Vienna", "Zurich", "Warsaw", "London"};
    for (size_t i = 0; i < sizeof dcs / sizeof dcs[0]; i++)
        add_site(DC, city_of(dcs[i]));
    for (size_t c = 0; c < NCITIES; c++) {
        if (strcmp(cities[c].country, "US") == 0 || strcmp(cities[c].country, "TR") == 0)
            continue;
        for (int k = 0; k < (in_market(cities[c].country) ? 3 : 2); k++)
            add_site(SHOP, (int)c);
    }
    for (int b = 0; b < 2; b++) {
        for (int k = 0; k < 3; k++) {
            char *pk, *sk;
            tnt_keygen(&pk, &sk);
            snprintf(g_brands[b].pk[k], sizeof g_brands[b].pk[k], "%s", pk);
            snprintf(g_brands[b].sk[k], sizeof g_brands[b].sk[k], "%s", sk);
            tnt_free(pk);
            tnt_free(sk);
        }
        char *pk, *sk;
        tnt_keygen(&pk, &sk);
        snprintf(g_brands[b].attacker_sk, sizeof g_brands[b].attacker_sk, "%s", sk);
        tnt_free(pk);
        tnt_free(sk);
    }
    for (int i = 0; i < 4; i++) {
        prod *p = &g_products[i];
        p->brand = i / 2;
        p->chilled = i < 2;
        snprintf(p->gtin, sizeof p->gtin, "0%s%05d", g_brands[p->brand].prefix, 10 + i);
        check_digit(p->gtin, 14);
    }
    /* master data */
    size_t cap = 1 << 20, n = 0;
    g_master = malloc(cap);
    n += (size_t)snprintf(g_master + n, cap - n, "{\"products\":[");
    for (int i = 0; i < 4; i++)
        n += (size_t)snprintf(g_master + n, cap - n,
                              "%s{\"gtin\":\"%s\",\"name\":\"%s %d\",\"brand\":\"%s\"%s%s}", i ? "," : "",
                              g_products[i].gtin, g_products[i].chilled ? "Yoghurt" : "Crisps", i,
                              g_brands[g_products[i].brand].name,
                              g_products[i].chilled ? ",\"min_temp\":2,\"max_temp\":8" : "",
                              ",\"markets\":[\"FR\",\"DE\",\"IT\",\"ES\",\"NL\",\"BE\",\"AT\",\"CH\"]");
    n += (size_t)snprintf(g_master + n, cap - n, "],\"locations\":[");
    static const char *const roles[] = {"factory", "distribution_centre", "retailer"};
    for (size_t i = 0; i < g_nsites; i++) {
        const site *s = &g_sites[i];
        n += (size_t)snprintf(g_master + n, cap - n,
                              "%s{\"gln\":\"%s\",\"name\":\"%s %zu\",\"city\":\"%s\",\"country\":\"%s\","
                              "\"latitude\":%.5f,\"longitude\":%.5f,\"role\":\"%s\"}",
                              i ? "," : "", s->gln, roles[s->kind], i, cities[s->city].name, cities[s->city].country,
                              s->lat, s->lon, roles[s->kind]);
    }
    char from[32], until[32], revoked[32];
    iso(from, g_t0 - 400 * DAY);
    iso(until, g_t0 - 30 * DAY);
    iso(revoked, g_t0 - 10 * DAY);
    n += (size_t)snprintf(g_master + n, cap - n,
                          "],\"parties\":[{\"company_prefix\":\"%s\",\"name\":\"%s\",\"role\":\"brand_owner\","
                          "\"signed_codes\":true,\"keys\":[{\"public_key\":\"%s\",\"valid_from\":\"%s\"},"
                          "{\"public_key\":\"%s\",\"valid_until\":\"%s\"},{\"public_key\":\"%s\",\"revoked_at\":\"%s\"}]},"
                          "{\"company_prefix\":\"%s\",\"name\":\"%s\",\"role\":\"brand_owner\"}]}",
                          g_brands[0].prefix, g_brands[0].name, g_brands[0].pk[0], from, g_brands[0].pk[1], until,
                          g_brands[0].pk[2], revoked, g_brands[1].prefix, g_brands[1].name);
}

static int shops_in(int dc, int *out, int max)
{
    int n = 0;
    const char *country = cities[g_sites[dc].city].country;
    for (size_t i = 0; i < g_nsites && n < max; i++)
        if (g_sites[i].kind == SHOP && strcmp(cities[g_sites[i].city].country, country) == 0)
            out[n++] = (int)i;
    return n;
}

static int far_city(double lat, double lon, double min_km)
{
    for (int tries = 0; tries < 1000; tries++) {
        int c = (int)pick(NCITIES);
        if (km(lat, lon, cities[c].lat, cities[c].lon) >= min_km)
            return c;
    }
    return city_of("New York");
}

static int far_shop(double lat, double lon, double min_km)
{
    for (int tries = 0; tries < 1000; tries++) {
        size_t i = pick(g_nsites);
        if (g_sites[i].kind == SHOP && km(lat, lon, g_sites[i].lat, g_sites[i].lon) >= min_km)
            return (int)i;
    }
    return -1;
}

/* One batch of items from a factory to a DC, then each to a shop. */
static size_t g_sscc;

/* at_dc: when a case brought the item to the DC (0: it travels alone from the factory) */
static void journey_from(item *it, int scen_scans, bool force_sale_recorded, int64_t at_dc);

static void journey(item *it, bool grey_ok, int scen_scans, bool force_sale_recorded)
{
    (void)grey_ok;
    journey_from(it, scen_scans, force_sale_recorded, 0);
}

static void journey_from(item *it, int scen_scans, bool force_sale_recorded, int64_t at_dc)
{
    const site *f = &g_sites[it->factory], *d = &g_sites[it->dc], *s = &g_sites[it->shop];
    const prod *p = &g_products[it->product];
    char id[64];
    snprintf(id, sizeof id, "(01)%s(21)%s", p->gtin, it->serial);
    char ilmd[96], exp[16];
    snprintf(exp, sizeof exp, "20%.2s-%.2s-%.2s", it->expiry, it->expiry + 2, it->expiry + 4);
    snprintf(ilmd, sizeof ilmd, "\"batch\":\"%s\",\"expiry\":\"%s\"", it->lot, exp);
    int64_t t = it->t_commission;
    report(id, "commission", f, t, ilmd, true);
    if (at_dc) {
        t = at_dc;
    } else {
        t += (int64_t)between(2, 48) * HOUR;
        report(id, "ship", f, t, NULL, false);
        t += transit(f, d);
        report(id, "receive", d, t, NULL, false);
    }
    t += (int64_t)between(1, 24) * HOUR;
    report(id, "store", d, t, p->chilled && chance(0.01) ? "\"condition\":{\"temperature\":15.5}" : NULL, false);
    t += (int64_t)between(1, 10) * DAY;
    char dest[64];
    snprintf(dest, sizeof dest, "\"destination\":\"%s\"", s->gln);
    report(id, "ship", d, t, dest, false);
    /* a misdelivery: received at another shop of the country */
    if (chance(0.005)) {
        int shops[64];
        int n = shops_in(it->dc, shops, 64);
        if (n)
            it->shop = shops[pick((size_t)n)];
        s = &g_sites[it->shop];
    }
    t += transit(d, s);
    report(id, "receive", s, t, NULL, false);
    it->t_shop = t;
    it->at_shop = true;
    t += (int64_t)between(1, 12) * HOUR;
    report(id, "stock", s, t, NULL, false);
    if (!chance(0.85))
        return;
    t += (int64_t)between(0, 30) * DAY;
    it->sold = true;
    it->t_sale = t;
    bool recorded = force_sale_recorded || !chance(g_p_miss);
    it->sale_recorded = recorded;
    if (recorded)
        report(id, "sell", s, t, NULL, true);
    char household[48];
    snprintf(household, sizeof household, "h%zu", (size_t)(it - g_items));
    if (chance(0.02)) { /* a saleable return, back on the shelf, sold again */
        int64_t tr = t + (int64_t)between(1, 14) * DAY;
        report(id, "return", s, tr, NULL, false);
        report(id, "stock", s, tr + HOUR, NULL, false);
        it->t_sale = t = tr + (int64_t)between(1, 20) * DAY;
        report(id, "sell", s, t, NULL, true);
        snprintf(household, sizeof household, "h%zu-b", (size_t)(it - g_items));
    }
    if (scen_scans >= 0)
        consumer_scans(scen_scans, it, t, household);
}

static item *genuine(int pi, bool grey, int64_t t_c)
{
    int b = g_products[pi].brand;
    int factory = b * 2 + (int)pick(2);
    int dc;
    do
        dc = 4 + (int)pick(10);
    while (in_market(cities[g_sites[dc].city].country) == grey);
    int shops[64];
    int n = shops_in(dc, shops, 64);
    char lot[16];
    snprintf(lot, sizeof lot, "L%d%03d", pi, (int)((t_c - g_t0) / (7 * DAY)) % 1000);
    return new_item(pi, lot, factory, dc, shops[pick((size_t)n)], t_c);
}

/* A batch: some go through a case from the factory to the DC. */
static void genuine_batch(size_t count, double scan_share)
{
    int product_ = (int)pick(4);
    int64_t t_c = g_t0 + (int64_t)between(0, 250) * DAY;
    size_t first = g_nitems;
    for (size_t i = 0; i < count; i++) {
        item *it = genuine(product_, false, t_c + (int64_t)i * MIN);
        if (i) { /* the batch travels together to one DC */
            it->dc = g_items[first].dc;
            it->factory = g_items[first].factory;
            int shops[64];
            int n = shops_in(it->dc, shops, 64);
            it->shop = shops[pick((size_t)n)];
        }
    }
    bool cased = chance(0.4);
    char sscc[32] = "";
    int64_t at_dc = 0;
    if (cased) {
        char d[19];
        snprintf(d, sizeof d, "0%s%09zu", g_brands[g_products[product_].brand].prefix, ++g_sscc);
        check_digit(d, 18);
        snprintf(sscc, sizeof sscc, "(00)%s", d);
        const site *f = &g_sites[g_items[first].factory], *dc = &g_sites[g_items[first].dc];
        int64_t tp = t_c + (int64_t)count * MIN + HOUR;
        char cont[64];
        snprintf(cont, sizeof cont, "\"container\":\"%s\"", sscc);
        for (size_t i = first; i < g_nitems; i++) {
            char id[64];
            snprintf(id, sizeof id, "(01)%s(21)%s", g_products[product_].gtin, g_items[i].serial);
            report(id, "pack", f, tp, cont, false);
        }
        int64_t ts = tp + (int64_t)between(2, 24) * HOUR;
        report(sscc, "ship", f, ts, NULL, false);
        int64_t tr = ts + transit(f, dc);
        report(sscc, "receive", dc, tr, NULL, false);
        for (size_t i = first; i < g_nitems; i++) {
            char id[64];
            snprintf(id, sizeof id, "(01)%s(21)%s", g_products[product_].gtin, g_items[i].serial);
            report(id, "unpack", dc, tr + HOUR, cont, false);
        }
        at_dc = tr + 2 * HOUR;
    }
    for (size_t i = first; i < g_nitems; i++)
        journey_from(&g_items[i], chance(scan_share) ? SIM_GENUINE : -1, false, at_dc);
}

/* ---- running it ---- */

static int cmp_act(const void *x, const void *y)
{
    const action *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

typedef struct run {
    tnt_engine *e;
    const sim_config *cfg;
    sim_result *res;
    char data[512];
    char *buf;
    size_t len, cap, nbuf;
    size_t shown[SIM_NSCEN];
    /* enumeration sources: guesses so far, flagged at */
    size_t guesses[64];
    int flagged_at[64];
} run;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int flush(run *r)
{
    if (!r->nbuf)
        return 0;
    if (r->len + 2 > r->cap)
        r->buf = realloc(r->buf, r->cap = r->len + 2);
    r->buf[r->len++] = ']';
    int64_t t0 = mono_us();
    tnt_ingest_report *rep = NULL;
    tnt_status st = tnt_engine_ingest(&rep, r->e, r->buf, r->len, TNT_INGEST_COUNTS_ONLY);
    r->res->ingest_s += (double)(mono_us() - t0) / 1e6;
    if (st != TNT_OK) {
        fprintf(stderr, "authsim: ingest: %s\n", tnt_error_last());
        return -1;
    }
    size_t n, acc, dup, rej;
    tnt_ingest_report_counts(rep, &n, &acc, &dup, &rej);
    tnt_ingest_report_free(rep);
    r->res->events += acc;
    r->res->ingested_dups += dup;
    if (rej) {
        fprintf(stderr, "authsim: %zu simulated events were rejected\n", rej);
        return -1;
    }
    r->len = 0;
    r->nbuf = 0;
    return 0;
}

static void add_event(run *r, const char *json)
{
    size_t n = strlen(json);
    if (r->len + n + 3 > r->cap)
        r->buf = realloc(r->buf, r->cap = (r->len + n + 3) * 2);
    r->buf[r->len++] = r->nbuf ? ',' : '[';
    memcpy(r->buf + r->len, json, n);
    r->len += n;
    r->nbuf++;
}

static bool has_reason(const tnt_verdict *v, const char *code)
{
    for (size_t i = 0; i < tnt_verdict_reason_count(v); i++) {
        const char *c;
        tnt_verdict_reason_at(&c, NULL, NULL, v, i);
        if (strcmp(c, code) == 0)
            return true;
    }
    return false;
}

static bool red(tnt_verdict_kind k) { return k == TNT_VERDICT_SUSPECT || k == TNT_VERDICT_COUNTERFEIT; }

static void tally(run *r, const action *a, const tnt_verdict *v)
{
    tnt_verdict_kind k = tnt_verdict_get(v);
    if (a->scen == SIM_ENUMERATION) {
        size_t src = (size_t)a->source % 64;
        r->guesses[src]++;
        if (has_reason(v, "ENUMERATION_SUSPECTED") && r->flagged_at[src] == 0)
            r->flagged_at[src] = (int)r->guesses[src];
        return;
    }
    sim_tally *t = &r->res->t[a->scen];
    t->scans++;
    t->red += red(k);
    t->amber += k == TNT_VERDICT_GENUINE_CAUTION;
    t->green += k == TNT_VERDICT_GENUINE;
    t->grey += k == TNT_VERDICT_UNVERIFIABLE;
    t->do_not_use += k == TNT_VERDICT_DO_NOT_USE;
    bool hit;
    switch (a->scen) {
    case SIM_GENUINE:
    case SIM_VICTIM:
    case SIM_GREY: hit = red(k) || k == TNT_VERDICT_DO_NOT_USE; break; /* a false alarm */
    case SIM_RECALLED: hit = k == TNT_VERDICT_DO_NOT_USE; break;
    case SIM_UNKNOWN_SERIAL:
    case SIM_FORGED_SIG:
    case SIM_KEY_WINDOW:
    case SIM_DESTROYED: hit = k == TNT_VERDICT_COUNTERFEIT; break;
    case SIM_TAMPERED:
        hit = k == TNT_VERDICT_UNVERIFIABLE &&
              (has_reason(v, "HISTORY_HASH_MISMATCH") || has_reason(v, "CHECKPOINT_ROLLBACK"));
        break;
    default: hit = red(k); break;
    }
    t->hit += hit;
    /* calibration: P(the item is the genuine one) against the truth */
    if (a->scen != SIM_TAMPERED && a->scen != SIM_RECALLED) {
        int evid;
        double conf = tnt_verdict_confidence(v, &evid);
        if (k != TNT_VERDICT_UNVERIFIABLE) {
            double pg = k == TNT_VERDICT_GENUINE || k == TNT_VERDICT_GENUINE_CAUTION ? conf : 1 - conf;
            double truth = a->scen == SIM_GENUINE || a->scen == SIM_VICTIM || a->scen == SIM_GREY ? 1 : 0;
            r->res->brier += (pg - truth) * (pg - truth);
            r->res->brier_n++;
        }
    }
    bool genuine_scen = a->scen == SIM_GENUINE || a->scen == SIM_VICTIM || a->scen == SIM_GREY;
    bool miss = genuine_scen ? hit || (r->cfg->verbose > 1 && k == TNT_VERDICT_GENUINE_CAUTION) : !hit;
    if (miss && r->cfg->verbose && r->shown[a->scen]++ < (r->cfg->verbose > 1 ? 30 : 3)) {
        char *json = NULL;
        tnt_verdict_json(&json, NULL, v, TNT_VERDICT_JSON_PARTNER);
        fprintf(stderr, "authsim: %s %s: %s\n", sim_scenario_name(a->scen),
                genuine_scen ? "false alarm" : "missed", json ? json : "");
        tnt_free(json);
    }
}

static int verify(run *r, const action *a)
{
    tnt_scan s;
    tnt_scan_init(&s, TNT_SCAN_VERSION);
    s.time_ms = a->t;
    s.has_location = a->geo;
    s.latitude = a->lat;
    s.longitude = a->lon;
    s.accuracy_m = a->acc_m;
    s.device = a->device[0] ? a->device : NULL;
    s.role = a->role;
    s.intent = a->intent;
    s.location_id = a->location[0] ? a->location : NULL;
    tnt_verdict *v = NULL;
    int64_t t0 = mono_us();
    tnt_status st = tnt_engine_authenticate(&v, r->e, a->text, &s);
    r->res->verify_s += (double)(mono_us() - t0) / 1e6;
    if (st != TNT_OK) {
        fprintf(stderr, "authsim: authenticate %s: %s\n", a->text, tnt_error_last());
        return -1;
    }
    r->res->verifications++;
    tally(r, a, v);
    tnt_verdict_free(v);
    return 0;
}

static int open_engine(run *r)
{
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = r->data;
    if (tnt_engine_open(&r->e, &o) != TNT_OK) {
        fprintf(stderr, "authsim: open %s: %s\n", r->data, tnt_error_last());
        return -1;
    }
    return 0;
}

/* ---- the history attacks: straight into the state store ---- */

typedef struct raw {
    char *pk, *sk, *val;
    size_t pkn, skn, valn;
} raw;

typedef struct raws {
    raw *v;
    size_t n;
} raws;

static int collect(void *ud, const tnt_store_item *it)
{
    raws *l = ud;
    l->v = realloc(l->v, (l->n + 1) * sizeof *l->v);
    raw *w = &l->v[l->n++];
    w->pk = malloc(it->pk_len + 1);
    memcpy(w->pk, it->pk, it->pk_len);
    w->pkn = it->pk_len;
    w->sk = malloc(it->sk_len + 1);
    memcpy(w->sk, it->sk, it->sk_len);
    w->skn = it->sk_len;
    w->val = malloc(it->value_len + 1);
    memcpy(w->val, it->value, it->value_len);
    w->valn = it->value_len;
    return 0;
}

static void raws_free(raws *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].pk), free(l->v[i].sk), free(l->v[i].val);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static tnt_store *open_store(run *r)
{
    char uri[600];
    snprintf(uri, sizeof uri, "file://%s/state", r->data);
    const tnt_backend *b = tnt_backend_find("file");
    tnt_store *st = NULL;
    char err[256];
    if (!b || b->open_store(&st, uri, NULL, b->user_data, err, sizeof err) != TNT_OK) {
        fprintf(stderr, "authsim: open the state store: %s\n", err);
        return NULL;
    }
    return st;
}

static void canonical(char *out, size_t cap, const char *es)
{
    tnt_id *id = NULL;
    tnt_id_new(&id);
    out[0] = '\0';
    if (tnt_id_parse(id, es, strlen(es), NULL) == TNT_OK)
        snprintf(out, cap, "%s", tnt_id_canonical(id));
    tnt_id_free(id);
}

static void history_of(tnt_store *st, const char *es, raws *out)
{
    char id[256], pk[300];
    canonical(id, sizeof id, es);
    int n = snprintf(pk, sizeof pk, "p:%s", id);
    st->methods->query(st, pk, (size_t)n, "h:", 2, "h;", 2, 0, 0, collect, out);
}

static void put(tnt_store *st, const char *pk, size_t pkn, const char *sk, size_t skn, const void *v, size_t vn)
{
    tnt_store_item it = {pk, pkn, sk, skn, v, vn, TNT_STORE_ANY};
    size_t left = 0;
    st->methods->batch_write(st, &it, 1, &left);
}

static void del(tnt_store *st, const char *pk, size_t pkn, const char *sk, size_t skn)
{
    st->methods->remove(st, pk, pkn, sk, skn);
}

enum { T_EDIT, T_DELETE, T_INSERT, T_REORDER, T_ROLLBACK, T_KINDS };

/* The rollback victims' state and history, as they were at the snapshot. */
typedef struct snap {
    const item *it;
    raws items;
} snap;

static snap g_snaps[64];
static size_t g_nsnaps;

static int take_snapshots(run *r)
{
    tnt_engine_close(r->e);
    r->e = NULL;
    tnt_store *st = open_store(r);
    if (!st)
        return -1;
    for (size_t i = 0; i < g_nsnaps; i++) {
        char id[256], pk[300];
        canonical(id, sizeof id, g_snaps[i].it->es);
        int n = snprintf(pk, sizeof pk, "p:%s", id);
        st->methods->query(st, pk, (size_t)n, "h:", 2, "h;", 2, 0, 0, collect, &g_snaps[i].items);
        st->methods->query(st, pk, (size_t)n, "s", 1, "t", 1, 0, 0, collect, &g_snaps[i].items);
    }
    st->methods->close(st);
    return open_engine(r);
}

static void tamper(tnt_store *st, const item *it, int kind, const item *other)
{
    raws h = {0};
    history_of(st, it->es, &h);
    if (h.n < 2) {
        raws_free(&h);
        return;
    }
    raw *e = &h.v[1];
    if (kind == T_EDIT) { /* change where (or when) an event happened, in its stored body */
        static const char hex[] = "0123456789abcdef";
        char epk[80] = "e:";
        for (int i = 0; i < 32; i++) {
            epk[2 + 2 * i] = hex[(uint8_t)e->sk[10 + i] >> 4];
            epk[3 + 2 * i] = hex[(uint8_t)e->sk[10 + i] & 15];
        }
        raws body = {0};
        st->methods->query(st, epk, 66, "e", 1, "f", 1, 0, 0, collect, &body);
        if (body.n == 1 && body.v[0].valn > 20) {
            raw *b = &body.v[0];
            char *g = memmem(b->val, b->valn, "950999", 6);
            if (g)
                g[8] = g[8] == '9' ? '0' : (char)(g[8] + 1); /* another site */
            else
                b->val[b->valn / 2] ^= 0x01;
            put(st, b->pk, b->pkn, b->sk, b->skn, b->val, b->valn);
        }
        raws_free(&body);
    } else if (kind == T_DELETE) {
        del(st, e->pk, e->pkn, e->sk, e->skn);
    } else if (kind == T_INSERT) { /* someone else's receipt slipped into this history */
        raws oh = {0};
        history_of(st, other->es, &oh);
        if (oh.n >= 3)
            put(st, e->pk, e->pkn, oh.v[2].sk, oh.v[2].skn, oh.v[2].val, oh.v[2].valn);
        raws_free(&oh);
    } else if (kind == T_REORDER) { /* moved three days earlier */
        char sk[64];
        memcpy(sk, e->sk, e->skn);
        uint64_t t = 0;
        for (int i = 0; i < 8; i++)
            t = t << 8 | (uint8_t)sk[2 + i];
        t -= 3 * (uint64_t)DAY;
        for (int i = 0; i < 8; i++)
            sk[2 + i] = (char)(t >> (56 - 8 * i));
        del(st, e->pk, e->pkn, e->sk, e->skn);
        put(st, e->pk, e->pkn, sk, e->skn, e->val, e->valn);
    }
    raws_free(&h);
}

static void rollback(tnt_store *st, snap *s)
{
    raws now = {0};
    history_of(st, s->it->es, &now);
    for (size_t i = 0; i < now.n; i++) { /* entries the snapshot did not have go */
        bool keep = false;
        for (size_t j = 0; j < s->items.n && !keep; j++)
            keep = s->items.v[j].skn == now.v[i].skn && memcmp(s->items.v[j].sk, now.v[i].sk, now.v[i].skn) == 0;
        if (!keep)
            del(st, now.v[i].pk, now.v[i].pkn, now.v[i].sk, now.v[i].skn);
    }
    for (size_t j = 0; j < s->items.n; j++)
        put(st, s->items.v[j].pk, s->items.v[j].pkn, s->items.v[j].sk, s->items.v[j].skn, s->items.v[j].val,
            s->items.v[j].valn);
    raws_free(&now);
}

static void reset_world(void)
{
    for (size_t i = 0; i < g_nacts; i++)
        free(g_acts[i].text);
    free(g_acts);
    g_acts = NULL;
    g_nacts = g_capacts = 0;
    free(g_items);
    g_items = NULL;
    g_nitems = g_capitems = 0;
    free(g_sites);
    g_sites = NULL;
    g_nsites = 0;
    free(g_master);
    g_master = NULL;
    for (size_t i = 0; i < g_nsnaps; i++)
        raws_free(&g_snaps[i].items);
    g_nsnaps = 0;
    g_sscc = 0;
}

int sim_run(const sim_config *cfg, sim_result *res)
{
    memset(res, 0, sizeof *res);
    reset_world();
    g_rng = cfg->seed * 0x9e3779b97f4a7c15ull + 1;
    g_p_miss = cfg->p_miss;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000;
    g_t0 = now_ms - 420 * DAY;
    build_world();

    /* genuine items, in batches of 1 to 24 */
    while (g_nitems < cfg->items)
        genuine_batch(1 + pick(24), cfg->scan_share);
    size_t ngenuine = g_nitems;
    size_t m = cfg->attacks;

    /* A1 unknown serials: random, one off a real one, a real serial under another GTIN */
    for (size_t i = 0; i < m; i++) {
        const item *g = &g_items[pick(ngenuine)];
        const prod *p = &g_products[g->product];
        char code[128];
        int variant = (int)(i % 3);
        if (variant == 0)
            snprintf(code, sizeof code, "(01)%s(21)X%08llu", p->gtin, (unsigned long long)(rnd() % 100000000));
        else if (variant == 1)
            snprintf(code, sizeof code, "(01)%s(21)%sZ", p->gtin, g->serial);
        else
            snprintf(code, sizeof code, "(01)%s(21)%s", g_products[(g->product + 2) % 4].gtin, g->serial);
        int c = (int)pick(NCITIES);
        scan(SIM_UNKNOWN_SERIAL, code, g_t0 + (int64_t)between(30, 400) * DAY, cities[c].lat, cities[c].lon, acc_gps(),
             NULL, 0, 0, NULL, 0);
    }
    /* A2 clones in another region, once the genuine reached a shop; and at the same shop */
    for (size_t i = 0; i < 2 * m; i++) {
        item *g = genuine((int)pick(4), false, g_t0 + (int64_t)between(0, 250) * DAY);
        journey(g, false, SIM_VICTIM, false);
        int copies = 1 + (int)pick(3);
        for (int k = 0; k < copies; k++) {
            int scans = 1 + (int)pick(3);
            char dev[32];
            snprintf(dev, sizeof dev, "clone%zu-%d", i, k);
            if (i < m) {
                int c = far_city(g_sites[g->shop].lat, g_sites[g->shop].lon, 500);
                double lat, lon;
                offset(cities[c].lat, cities[c].lon, between(0, 15), &lat, &lon);
                for (int j = 0; j < scans; j++)
                    scan(SIM_CLONE_REGION, g->code, g->t_shop + (int64_t)between(0.2, 60) * DAY, lat, lon, acc_gps(),
                         dev, 0, 0, NULL, 0);
            } else {
                const site *s = &g_sites[g->shop];
                double lat, lon;
                offset(s->lat, s->lon, fabs(gauss()) * 8, &lat, &lon);
                for (int j = 0; j < scans; j++)
                    scan(SIM_CLONE_SAME_SHOP, g->code, g->t_shop + (int64_t)between(0.2, 60) * DAY, lat, lon,
                         acc_gps(), dev, 0, 0, NULL, 0);
            }
        }
    }
    /* A3 replays of a sold code, some before the buyer's first scan */
    for (size_t made = 0, tries = 0; made < m && tries < 50 * m; tries++) {
        item *g = genuine((int)pick(4), false, g_t0 + (int64_t)between(0, 200) * DAY);
        journey(g, false, SIM_VICTIM, true);
        if (!g->sold)
            continue;
        made++;
        int c = far_city(g_sites[g->shop].lat, g_sites[g->shop].lon, 200);
        double lat, lon;
        offset(cities[c].lat, cities[c].lon, between(0, 15), &lat, &lon);
        int64_t t = made % 2 ? g->t_sale + (int64_t)between(0.1, 1) * HOUR : g->t_sale + (int64_t)between(3, 120) * DAY;
        char dev[32];
        snprintf(dev, sizeof dev, "replay%zu", made);
        for (int j = 1 + (int)pick(3); j > 0; j--, t += (int64_t)between(1, 48) * HOUR)
            scan(SIM_REPLAY, g->code, t, lat, lon, acc_gps(), dev, 0, 0, NULL, 0);
    }
    /* A4 forged signatures on Alpine Dairy's codes; keys out of their window or revoked */
    for (size_t i = 0; i < m; i++) {
        item *g = genuine((int)pick(2), false, g_t0 + (int64_t)between(0, 250) * DAY);
        journey(g, false, SIM_GENUINE, false);
        char code[512];
        char *dl = NULL;
        int variant = (int)(i % 3);
        if (variant == 0) { /* random bytes where the signature goes */
            static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            char sig[87];
            for (int k = 0; k < 86; k++)
                sig[k] = b64[pick(64)];
            sig[85] = b64[pick(4) * 16]; /* 64 bytes: the last character carries 2 bits */
            sig[86] = '\0';
            const prod *p = &g_products[g->product];
            snprintf(code, sizeof code, "https://id.gs1.org/01/%s/10/%s/21/%s?17=%s&8030=%s", p->gtin, g->lot,
                     g->serial, g->expiry, sig);
        } else if (variant == 1) {
            dl = sign(g->es, g_brands[0].attacker_sk);
        } else { /* the genuine signature on an altered batch */
            snprintf(code, sizeof code, "%s", g->code);
            char *lot = strstr(code, "/10/");
            if (lot)
                lot[5] = lot[5] == '9' ? '8' : '9';
        }
        if (dl) {
            snprintf(code, sizeof code, "%s", dl);
            free(dl);
        }
        const site *s = &g_sites[g->shop];
        scan(SIM_FORGED_SIG, code, g->t_shop + (int64_t)between(0.5, 30) * DAY, s->lat, s->lon, acc_gps(), "forger",
             0, 0, NULL, 0);
    }
    for (size_t i = 0; i < m; i++) {
        item *g = genuine((int)pick(2), false, g_t0 + (int64_t)between(0, 250) * DAY);
        journey(g, false, SIM_GENUINE, false);
        char *dl = sign(g->es, g_brands[0].sk[1 + i % 2]);
        const site *s = &g_sites[g->shop];
        scan(SIM_KEY_WINDOW, dl, g->t_shop + (int64_t)between(0.5, 30) * DAY, s->lat, s->lon, acc_gps(), "forger2", 0,
             0, NULL, 0);
        free(dl);
    }
    /* A5 a recalled lot; destroyed codes reused; stolen goods brought back */
    {
        int rp = 1;
        int64_t t_c = g_t0 + 100 * DAY, t_recall = t_c + 40 * DAY;
        size_t first = g_nitems;
        for (size_t i = 0; i < m; i++) {
            item *g = genuine(rp, false, t_c + (int64_t)i * MIN);
            snprintf(g->lot, sizeof g->lot, "RECALL1");
            snprintf(g->es, sizeof g->es, "(01)%s(21)%s(10)%s(17)%s", g_products[rp].gtin, g->serial, g->lot,
                     g->expiry);
            char *dl = sign(g->es, g_brands[0].sk[0]);
            snprintf(g->code, sizeof g->code, "%s", dl);
            free(dl);
        }
        for (size_t i = first; i < g_nitems; i++) {
            journey(&g_items[i], false, -1, false);
            const site *s = &g_sites[g_items[i].shop];
            double lat, lon;
            offset(s->lat, s->lon, fabs(gauss()) * 8, &lat, &lon);
            char dev[32];
            snprintf(dev, sizeof dev, "r%zu", i);
            scan(SIM_RECALLED, g_items[i].code, t_recall + (int64_t)between(1, 60) * DAY, lat, lon, acc_gps(), dev, 0, 0,
                 NULL, 0);
        }
        char lgtin[64];
        snprintf(lgtin, sizeof lgtin, "(01)%s(10)RECALL1", g_products[rp].gtin);
        report(lgtin, "recall", &g_sites[0], t_recall, NULL, true);
    }
    for (size_t i = 0; i < m; i++) {
        item *g = genuine((int)pick(4), false, g_t0 + (int64_t)between(0, 250) * DAY);
        const prod *p = &g_products[g->product];
        char id[64];
        snprintf(id, sizeof id, "(01)%s(21)%s", p->gtin, g->serial);
        char ilmd[96];
        snprintf(ilmd, sizeof ilmd, "\"batch\":\"%s\"", g->lot);
        report(id, "commission", &g_sites[g->factory], g->t_commission, ilmd, true);
        report(id, "receive", &g_sites[g->dc], g->t_commission + 3 * DAY, NULL, false);
        int64_t td = g->t_commission + 10 * DAY;
        if (i % 2 == 0) {
            report(id, "destroy", &g_sites[g->dc], td, NULL, true);
            int c = (int)pick(NCITIES);
            scan(SIM_DESTROYED, g->code, td + (int64_t)between(5, 90) * DAY, cities[c].lat, cities[c].lon, acc_gps(),
                 NULL, 0, 0, NULL, 0);
        } else {
            report(id, "steal", &g_sites[g->dc], td, NULL, true);
            const site *s = &g_sites[g->shop];
            /* brought back through a shop's return desk, then sold on */
            scan(SIM_STOLEN, g->code, td + (int64_t)between(5, 60) * DAY, s->lat, s->lon, 50, NULL, 1, 3, s->gln, 0);
            scan(SIM_STOLEN, g->code, td + (int64_t)between(61, 90) * DAY, s->lat, s->lon, acc_gps(), "buyer", 0, 0,
                 NULL, 0);
        }
    }
    /* A6 tampered histories (done after the timeline) */
    size_t first_tamper = g_nitems;
    for (size_t i = 0; i < m; i++) {
        item *g = genuine((int)pick(4), false, g_t0 + (int64_t)between(0, 200) * DAY);
        journey(g, false, -1, true);
    }
    /* the rollback victims: a consumer scan after the sale sees all events */
    int64_t snapshot_at = g_t0 + 300 * DAY;
    for (size_t i = first_tamper; i < g_nitems; i++)
        if ((i - first_tamper) % T_KINDS == T_ROLLBACK && g_nsnaps < 64) {
            item *g = &g_items[i];
            g_snaps[g_nsnaps++].it = g;
            /* one more event after the snapshot, then a verification that sees it */
            char id[64];
            snprintf(id, sizeof id, "(01)%s(21)%s", g_products[g->product].gtin, g->serial);
            report(id, "inspect", &g_sites[g->shop], snapshot_at + 5 * DAY, NULL, true);
            const site *s = &g_sites[g->shop];
            scan(SIM_GENUINE, g->code, snapshot_at + 10 * DAY, s->lat, s->lon, 100, "owner", 0, 0, NULL, 0);
        }
    act(ACT_SNAPSHOT, snapshot_at + DAY, snapshot_at + DAY);
    /* A7 grey market: genuine, sold outside its markets */
    for (size_t i = 0; i < m; i++) {
        item *g = genuine((int)pick(4), true, g_t0 + (int64_t)between(0, 250) * DAY);
        journey(g, true, SIM_GREY, false);
    }
    /* A8 enumeration: a device guessing serials */
    size_t sources = m / 10 ? m / 10 : 1;
    if (sources > 64)
        sources = 64;
    for (size_t s = 0; s < sources; s++) {
        int c = (int)pick(NCITIES);
        int64_t t = g_t0 + (int64_t)between(100, 400) * DAY;
        char dev[32];
        snprintf(dev, sizeof dev, "guesser%zu", s);
        for (int k = 0; k < 150; k++) {
            char code[96];
            snprintf(code, sizeof code, "(01)%s(21)%08llu", g_products[2 + s % 2].gtin,
                     (unsigned long long)(rnd() % 100000000));
            scan(SIM_ENUMERATION, code, t + k * 20000, cities[c].lat, cities[c].lon, 1000, dev, 0, 0, NULL, (int)s);
        }
    }
    /* A9 return swap: a copy returned far from where the genuine was sold */
    for (size_t made = 0, tries = 0; made < m && tries < 50 * m; tries++) {
        item *g = genuine((int)pick(4), false, g_t0 + (int64_t)between(0, 200) * DAY);
        journey(g, false, SIM_VICTIM, true);
        if (!g->sold)
            continue;
        int other = far_shop(g_sites[g->shop].lat, g_sites[g->shop].lon, 300);
        if (other < 0)
            continue;
        made++;
        const site *s = &g_sites[other];
        scan(SIM_RETURN_SWAP, g->code, g->t_sale + (int64_t)between(2, 20) * DAY, s->lat, s->lon, 50, NULL, 1, 3, s->gln,
             0);
    }

    /* the timeline, in the order things reach the system */
    qsort(g_acts, g_nacts, sizeof *g_acts, cmp_act);
    run r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.res = res;
    snprintf(r.data, sizeof r.data, "%s", cfg->dir);
    if (open_engine(&r) != 0)
        return -1;
    char path[600];
    snprintf(path, sizeof path, "%s/master.json", cfg->dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(g_master, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "authsim: cannot write %s\n", path);
        return -1;
    }
    size_t loaded = 0;
    if (tnt_engine_master_load(r.e, path, &loaded) != TNT_OK) {
        fprintf(stderr, "authsim: master data: %s\n", tnt_error_last());
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < g_nacts && rc == 0; i++) {
        action *a = &g_acts[i];
        if (a->kind == ACT_EVENT) {
            add_event(&r, a->text);
            if (r.nbuf >= 512)
                rc = flush(&r);
            continue;
        }
        if ((rc = flush(&r)) != 0)
            break;
        if (a->kind == ACT_SNAPSHOT)
            rc = take_snapshots(&r);
        else if (a->at <= now_ms)
            rc = verify(&r, a);
    }
    if (rc == 0)
        rc = flush(&r);
    /* A6: an intruder edits the store; then every victim is verified */
    if (rc == 0) {
        tnt_engine_close(r.e);
        r.e = NULL;
        tnt_store *st = open_store(&r);
        if (!st)
            return -1;
        size_t s = 0;
        for (size_t i = first_tamper; i < first_tamper + m; i++) {
            int kind = (int)((i - first_tamper) % T_KINDS);
            if (kind == T_ROLLBACK) {
                if (s < g_nsnaps)
                    rollback(st, &g_snaps[s++]);
            } else
                tamper(st, &g_items[i], kind, &g_items[first_tamper + (i + 1 - first_tamper) % m]);
        }
        st->methods->close(st);
        rc = open_engine(&r);
        for (size_t i = first_tamper; rc == 0 && i < first_tamper + m; i++) {
            action a;
            memset(&a, 0, sizeof a);
            a.scen = SIM_TAMPERED;
            a.text = g_items[i].code;
            a.t = now_ms - DAY;
            const site *st2 = &g_sites[g_items[i].shop];
            a.geo = true;
            a.lat = st2->lat;
            a.lon = st2->lon;
            a.acc_m = 100;
            snprintf(a.device, sizeof a.device, "owner");
            rc = verify(&r, &a);
        }
    }
    /* enumeration: a source counts as caught when flagged within 100 guesses */
    for (size_t s = 0; s < sources; s++) {
        res->t[SIM_ENUMERATION].scans++;
        res->t[SIM_ENUMERATION].hit += r.flagged_at[s] > 0 && r.flagged_at[s] <= 100;
    }
    tnt_engine_close(r.e);
    free(r.buf);
    reset_world();
    return rc;
}

const char *sim_scenario_name(int s)
{
    static const char *const names[] = {"genuine",          "genuine, code attacked", "grey market (genuine)",
                                        "unknown serial",
                                        "clone, other region", "clone, same shop",   "replay after sale",
                                        "forged signature", "key window / revoked", "recalled",
                                        "destroyed, reused", "stolen, returned",     "tampered history",
                                        "enumeration",      "return swap"};
    return s >= 0 && s < SIM_NSCEN ? names[s] : "?";
}

void sim_add(sim_result *a, const sim_result *b)
{
    for (int s = 0; s < SIM_NSCEN; s++) {
        a->t[s].scans += b->t[s].scans;
        a->t[s].red += b->t[s].red;
        a->t[s].amber += b->t[s].amber;
        a->t[s].green += b->t[s].green;
        a->t[s].grey += b->t[s].grey;
        a->t[s].do_not_use += b->t[s].do_not_use;
        a->t[s].hit += b->t[s].hit;
    }
    a->events += b->events;
    a->ingested_dups += b->ingested_dups;
    a->verifications += b->verifications;
    a->ingest_s += b->ingest_s;
    a->verify_s += b->verify_s;
    a->brier += b->brier;
    a->brier_n += b->brier_n;
}

void sim_print(FILE *f, const sim_result *r, const char *title)
{
    static const char *const target[] = {"red <= 0.02 %", "red <= 0.02 %", "red 0 %",     "100 %", ">= 99 %",  "reported",
                                         ">= 95 %",       "100 %",       "100 %", "100 % DO_NOT_USE", "100 %",
                                         "100 %",         "100 %",       ">= 99 % within 100", ">= 95 %"};
    fprintf(f, "%s\n", title);
    fprintf(f, "  %-24s %8s %9s %8s %8s %8s %8s   %s\n", "scenario", "scans", "detected", "red", "amber", "grey",
            "recall", "target");
    for (int s = 0; s < SIM_NSCEN; s++) {
        const sim_tally *t = &r->t[s];
        double pct = t->scans ? 100.0 * (double)t->hit / (double)t->scans : 0;
        if (s == SIM_GENUINE || s == SIM_VICTIM || s == SIM_GREY)
            fprintf(f, "  %-24s %8zu %8s %7.3f%% %7.2f%% %7.2f%% %7.2f%%   %s\n", sim_scenario_name(s), t->scans, "-",
                    t->scans ? 100.0 * (double)t->red / (double)t->scans : 0,
                    t->scans ? 100.0 * (double)t->amber / (double)t->scans : 0,
                    t->scans ? 100.0 * (double)t->grey / (double)t->scans : 0,
                    t->scans ? 100.0 * (double)t->do_not_use / (double)t->scans : 0, target[s]);
        else
            fprintf(f, "  %-24s %8zu %8.2f%% %7.2f%% %7.2f%% %7.2f%% %7.2f%%   %s\n", sim_scenario_name(s), t->scans,
                    pct, t->scans ? 100.0 * (double)t->red / (double)t->scans : 0,
                    t->scans ? 100.0 * (double)t->amber / (double)t->scans : 0,
                    t->scans ? 100.0 * (double)t->grey / (double)t->scans : 0,
                    t->scans ? 100.0 * (double)t->do_not_use / (double)t->scans : 0, target[s]);
    }
    fprintf(f, "  events %zu (+%zu duplicates), verifications %zu; Brier score of P(genuine) %.4f over %zu scans\n",
            r->events, r->ingested_dups, r->verifications, r->brier_n ? r->brier / (double)r->brier_n : 0, r->brier_n);
}
