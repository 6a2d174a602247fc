/*
 * The GS1 application identifier table and the checks of AI values.
 *
 * The formats follow the GS1 General Specifications AI table as the GS1
 * Barcode Syntax Dictionary decomposes it: each AI is a sequence of
 * components (numeric, CSET 82 "X", CSET 39 "Y", CSET 64 "Z"), fixed or
 * variable length, with content checks ("linters") on some of them.
 * Checks against external code lists (ISO 3166 countries, ISO 4217
 * currencies, IBAN, coupon codes) are not made here.
 */
#include <string.h>

#include "ids.h"

enum {
    LINT_CSUM = 1u << 0,      /* last digit is the GS1 mod-10 check digit */
    LINT_KEY = 1u << 1,       /* starts with a company prefix: 4+ digits */
    LINT_YYMMD0 = 1u << 2,    /* date; day 00 means "end of month" */
    LINT_YYMMDD = 1u << 3,    /* date */
    LINT_HHMM = 1u << 4,      /* time of day */
    LINT_YYMMDDHH = 1u << 5,  /* date and hour */
    LINT_MMOPTSS = 1u << 6,   /* minutes, optionally seconds */
    LINT_PIECE = 1u << 7,     /* piece (2 digits) of total (2 digits) */
    LINT_NOZERO0 = 1u << 8,   /* no leading zero (unless the value is 0) */
    LINT_ZERO = 1u << 9,      /* the digit 0 */
    LINT_NONZERO = 1u << 10,  /* not all zeros */
    LINT_YESNO = 1u << 11,    /* 0 or 1 */
    LINT_WINDING = 1u << 12,  /* 0, 1 or 9 */
    LINT_HYPHEN = 1u << 13,   /* the character - */
    LINT_PCENC = 1u << 14,    /* well-formed percent-encoding */
    LINT_YYYYMMDD = 1u << 16, /* date with a four-digit year */
};

/* Component shorthands: fixed length n, or variable 1..n; Opt = optional. */
#define N(n, l) {TNT__CS_N, n, n, l}
#define Nv(n, l) {TNT__CS_N, 1, n, l}
#define X(n, l) {TNT__CS_X, n, n, l}
#define Xv(n, l) {TNT__CS_X, 1, n, l}
#define Yv(n, l) {TNT__CS_Y, 1, n, l}
#define Zv(n, l) {TNT__CS_Z, 1, n, l}
#define OptN(n, l) {TNT__CS_N, 0, n, l}
#define OptNv(n, l) {TNT__CS_N, 0, n, l | 0x8000u}
#define OptX(n, l) {TNT__CS_X, 0, n, l}
#define OptXv(n, l) {TNT__CS_X, 0, n, l | 0x8000u}
#define VARIABLE 0x8000u /* in an optional component: 1..max, not exactly max */

#define P TNT__AI_PREDEF
#define K TNT__AI_DLKEY
#define R1(a, f, t, ...) {a, a, f, sizeof((tnt__ai_comp[]){__VA_ARGS__}) / sizeof(tnt__ai_comp), {__VA_ARGS__}, t}
#define RR(a, b, f, t, ...) {a, b, f, sizeof((tnt__ai_comp[]){__VA_ARGS__}) / sizeof(tnt__ai_comp), {__VA_ARGS__}, t}
#define CK (LINT_CSUM | LINT_KEY)
#define MEAS(a, b, t) RR(a, b, P, t, N(6, 0))

/* Sorted by code: tnt__ai_find() searches it by bisection. */
static const tnt__ai g_ais[] = {
    R1("00", P | K, "SSCC", N(18, CK)),
    R1("01", P | K, "GTIN", N(14, CK)),
    R1("02", P, "CONTENT", N(14, CK)),
    R1("03", P, "MTO GTIN", N(14, CK)),
    R1("10", 0, "BATCH/LOT", Xv(20, 0)),
    R1("11", P, "PROD DATE", N(6, LINT_YYMMD0)),
    R1("12", P, "DUE DATE", N(6, LINT_YYMMD0)),
    R1("13", P, "PACK DATE", N(6, LINT_YYMMD0)),
    R1("15", P, "BEST BEFORE", N(6, LINT_YYMMD0)),
    R1("16", P, "SELL BY", N(6, LINT_YYMMD0)),
    R1("17", P, "USE BY OR EXPIRY", N(6, LINT_YYMMD0)),
    R1("20", P, "VARIANT", N(2, 0)),
    R1("21", 0, "SERIAL", Xv(20, 0)),
    R1("22", 0, "CPV", Xv(20, 0)),
    R1("235", 0, "TPX", Xv(28, 0)),
    R1("240", 0, "ADDITIONAL ID", Xv(30, 0)),
    R1("241", 0, "CUST. PART No.", Xv(30, 0)),
    R1("242", 0, "MTO VARIANT", Nv(6, 0)),
    R1("243", 0, "PCN", Xv(20, 0)),
    R1("250", 0, "SECONDARY SERIAL", Xv(30, 0)),
    R1("251", 0, "REF. TO SOURCE", Xv(30, 0)),
    R1("253", K, "GDTI", N(13, CK), OptXv(17, 0)),
    R1("254", 0, "GLN EXTENSION COMPONENT", Xv(20, 0)),
    R1("255", K, "GCN", N(13, CK), OptNv(12, 0)),
    R1("30", 0, "VAR. COUNT", Nv(8, 0)),
    MEAS("3100", "3105", "NET WEIGHT (kg)"),
    MEAS("3110", "3115", "LENGTH (m)"),
    MEAS("3120", "3125", "WIDTH (m)"),
    MEAS("3130", "3135", "HEIGHT (m)"),
    MEAS("3140", "3145", "AREA (m2)"),
    MEAS("3150", "3155", "NET VOLUME (l)"),
    MEAS("3160", "3165", "NET VOLUME (m3)"),
    MEAS("3200", "3205", "NET WEIGHT (lb)"),
    MEAS("3210", "3215", "LENGTH (in)"),
    MEAS("3220", "3225", "LENGTH (ft)"),
    MEAS("3230", "3235", "LENGTH (yd)"),
    MEAS("3240", "3245", "WIDTH (in)"),
    MEAS("3250", "3255", "WIDTH (ft)"),
    MEAS("3260", "3265", "WIDTH (yd)"),
    MEAS("3270", "3275", "HEIGHT (in)"),
    MEAS("3280", "3285", "HEIGHT (ft)"),
    MEAS("3290", "3295", "HEIGHT (yd)"),
    MEAS("3300", "3305", "GROSS WEIGHT (kg)"),
    MEAS("3310", "3315", "LENGTH (m), log"),
    MEAS("3320", "3325", "WIDTH (m), log"),
    MEAS("3330", "3335", "HEIGHT (m), log"),
    MEAS("3340", "3345", "AREA (m2), log"),
    MEAS("3350", "3355", "VOLUME (l), log"),
    MEAS("3360", "3365", "VOLUME (m3), log"),
    MEAS("3370", "3375", "KG PER m2"),
    MEAS("3400", "3405", "GROSS WEIGHT (lb)"),
    MEAS("3410", "3415", "LENGTH (in), log"),
    MEAS("3420", "3425", "LENGTH (ft), log"),
    MEAS("3430", "3435", "LENGTH (yd), log"),
    MEAS("3440", "3445", "WIDTH (in), log"),
    MEAS("3450", "3455", "WIDTH (ft), log"),
    MEAS("3460", "3465", "WIDTH (yd), log"),
    MEAS("3470", "3475", "HEIGHT (in), log"),
    MEAS("3480", "3485", "HEIGHT (ft), log"),
    MEAS("3490", "3495", "HEIGHT (yd), log"),
    MEAS("3500", "3505", "AREA (in2)"),
    MEAS("3510", "3515", "AREA (ft2)"),
    MEAS("3520", "3525", "AREA (yd2)"),
    MEAS("3530", "3535", "AREA (in2), log"),
    MEAS("3540", "3545", "AREA (ft2), log"),
    MEAS("3550", "3555", "AREA (yd2), log"),
    MEAS("3560", "3565", "NET WEIGHT (t oz)"),
    MEAS("3570", "3575", "NET VOLUME (oz)"),
    MEAS("3600", "3605", "NET VOLUME (qt)"),
    MEAS("3610", "3615", "NET VOLUME (gal.)"),
    MEAS("3620", "3625", "VOLUME (qt), log"),
    MEAS("3630", "3635", "VOLUME (gal.), log"),
    MEAS("3640", "3645", "VOLUME (in3)"),
    MEAS("3650", "3655", "VOLUME (ft3)"),
    MEAS("3660", "3665", "VOLUME (yd3)"),
    MEAS("3670", "3675", "VOLUME (in3), log"),
    MEAS("3680", "3685", "VOLUME (ft3), log"),
    MEAS("3690", "3695", "VOLUME (yd3), log"),
    R1("37", 0, "COUNT", Nv(8, 0)),
    RR("3900", "3909", 0, "AMOUNT", Nv(15, 0)),
    RR("3910", "3919", 0, "AMOUNT", N(3, 0), Nv(15, 0)),
    RR("3920", "3929", 0, "PRICE", Nv(15, 0)),
    RR("3930", "3939", 0, "PRICE", N(3, 0), Nv(15, 0)),
    RR("3940", "3943", 0, "PRCNT OFF", N(4, 0)),
    RR("3950", "3955", 0, "PRICE/UoM", N(6, 0)),
    R1("400", 0, "ORDER NUMBER", Xv(30, 0)),
    R1("401", K, "GINC", Xv(30, LINT_KEY)),
    R1("402", K, "GSIN", N(17, CK)),
    R1("403", 0, "ROUTE", Xv(30, 0)),
    R1("410", P, "SHIP TO LOC", N(13, CK)),
    R1("411", P, "BILL TO", N(13, CK)),
    R1("412", P, "PURCHASE FROM", N(13, CK)),
    R1("413", P, "SHIP FOR LOC", N(13, CK)),
    R1("414", P | K, "LOC No.", N(13, CK)),
    R1("415", P | K, "PAY TO", N(13, CK)),
    R1("416", P, "PROD/SERV LOC", N(13, CK)),
    R1("417", P | K, "PARTY", N(13, CK)),
    R1("420", 0, "SHIP TO POST", Xv(20, 0)),
    R1("421", 0, "SHIP TO POST", N(3, 0), Xv(9, 0)),
    R1("422", 0, "ORIGIN", N(3, 0)),
    R1("423", 0, "COUNTRY - INITIAL PROCESS", N(3, 0), OptN(3, 0), OptN(3, 0), OptN(3, 0), OptN(3, 0)),
    R1("424", 0, "COUNTRY - PROCESS", N(3, 0)),
    R1("425", 0, "COUNTRY - DISASSEMBLY", N(3, 0), OptN(3, 0), OptN(3, 0), OptN(3, 0), OptN(3, 0)),
    R1("426", 0, "COUNTRY - FULL PROCESS", N(3, 0)),
    R1("427", 0, "ORIGIN SUBDIVISION", Xv(3, 0)),
    R1("4300", 0, "SHIP TO COMP", Xv(35, LINT_PCENC)),
    R1("4301", 0, "SHIP TO NAME", Xv(35, LINT_PCENC)),
    R1("4302", 0, "SHIP TO ADD1", Xv(70, LINT_PCENC)),
    R1("4303", 0, "SHIP TO ADD2", Xv(70, LINT_PCENC)),
    R1("4304", 0, "SHIP TO SUB", Xv(70, LINT_PCENC)),
    R1("4305", 0, "SHIP TO LOC", Xv(70, LINT_PCENC)),
    R1("4306", 0, "SHIP TO REG", Xv(70, LINT_PCENC)),
    R1("4307", 0, "SHIP TO COUNTRY", X(2, 0)),
    R1("4308", 0, "SHIP TO PHONE", Xv(30, 0)),
    R1("4309", 0, "SHIP TO GEO", N(10, 0), N(10, 0)),
    R1("4310", 0, "RTN TO COMP", Xv(35, LINT_PCENC)),
    R1("4311", 0, "RTN TO NAME", Xv(35, LINT_PCENC)),
    R1("4312", 0, "RTN TO ADD1", Xv(70, LINT_PCENC)),
    R1("4313", 0, "RTN TO ADD2", Xv(70, LINT_PCENC)),
    R1("4314", 0, "RTN TO SUB", Xv(70, LINT_PCENC)),
    R1("4315", 0, "RTN TO LOC", Xv(70, LINT_PCENC)),
    R1("4316", 0, "RTN TO REG", Xv(70, LINT_PCENC)),
    R1("4317", 0, "RTN TO COUNTRY", X(2, 0)),
    R1("4318", 0, "RTN TO POST", Xv(20, 0)),
    R1("4319", 0, "RTN TO PHONE", Xv(30, 0)),
    R1("4320", 0, "SRV DESCRIPTION", Xv(35, LINT_PCENC)),
    R1("4321", 0, "DANGEROUS GOODS", N(1, LINT_YESNO)),
    R1("4322", 0, "AUTH TO LEAVE", N(1, LINT_YESNO)),
    R1("4323", 0, "SIG REQUIRED", N(1, LINT_YESNO)),
    R1("4324", 0, "NOT BEF DEL DT", N(6, LINT_YYMMD0), N(4, LINT_HHMM)),
    R1("4325", 0, "NOT AFT DEL DT", N(6, LINT_YYMMD0), N(4, LINT_HHMM)),
    R1("4326", 0, "REL DATE", N(6, LINT_YYMMDD)),
    R1("4330", 0, "MAX TEMP F.", N(6, 0), OptX(1, LINT_HYPHEN)),
    R1("4331", 0, "MAX TEMP C.", N(6, 0), OptX(1, LINT_HYPHEN)),
    R1("4332", 0, "MIN TEMP F.", N(6, 0), OptX(1, LINT_HYPHEN)),
    R1("4333", 0, "MIN TEMP C.", N(6, 0), OptX(1, LINT_HYPHEN)),
    R1("7001", 0, "NSN", N(13, 0)),
    R1("7002", 0, "MEAT CUT", Xv(30, 0)),
    R1("7003", 0, "EXPIRY TIME", N(6, LINT_YYMMDD), N(4, LINT_HHMM)),
    R1("7004", 0, "ACTIVE POTENCY", Nv(4, 0)),
    R1("7005", 0, "CATCH AREA", Xv(12, 0)),
    R1("7006", 0, "FIRST FREEZE DATE", N(6, LINT_YYMMDD)),
    R1("7007", 0, "HARVEST DATE", N(6, LINT_YYMMDD), OptN(6, LINT_YYMMDD)),
    R1("7008", 0, "AQUATIC SPECIES", Xv(3, 0)),
    R1("7009", 0, "FISHING GEAR TYPE", Xv(10, 0)),
    R1("7010", 0, "PROD METHOD", Xv(2, 0)),
    R1("7011", 0, "TEST BY DATE", N(6, LINT_YYMMDD), OptN(4, LINT_HHMM)),
    R1("7020", 0, "REFURB LOT", Xv(20, 0)),
    R1("7021", 0, "FUNC STAT", Xv(20, 0)),
    R1("7022", 0, "REV STAT", Xv(20, 0)),
    R1("7023", 0, "GIAI - ASSEMBLY", Xv(30, LINT_KEY)),
    RR("7030", "7039", 0, "PROCESSOR # s", N(3, 0), Xv(27, 0)),
    R1("7040", 0, "UIC+EXT", N(1, 0), X(1, 0), X(1, 0), X(1, 0)),
    R1("7041", 0, "UFRGT UNIT TYPE", Xv(4, 0)),
    R1("710", 0, "NHRN PZN", Xv(20, 0)),
    R1("711", 0, "NHRN CIP", Xv(20, 0)),
    R1("712", 0, "NHRN CN", Xv(20, 0)),
    R1("713", 0, "NHRN DRN", Xv(20, 0)),
    R1("714", 0, "NHRN AIM", Xv(20, 0)),
    R1("715", 0, "NHRN NDC", Xv(20, 0)),
    R1("716", 0, "NHRN AIC", Xv(20, 0)),
    RR("7230", "7239", 0, "CERT # s", X(2, 0), Xv(28, 0)),
    R1("7240", 0, "PROTOCOL", Xv(20, 0)),
    R1("7241", 0, "AIDC MEDIA TYPE", N(2, 0)),
    R1("7242", 0, "VCN", Xv(25, 0)),
    R1("7250", 0, "DOB", N(8, LINT_YYYYMMDD)),
    R1("7251", 0, "DOB TIME", N(8, LINT_YYYYMMDD), N(4, LINT_HHMM)),
    R1("7252", 0, "BIO SEX", N(1, 0)),
    R1("7253", 0, "FAMILY NAME", Xv(40, LINT_PCENC)),
    R1("7254", 0, "GIVEN NAME", Xv(40, LINT_PCENC)),
    R1("7255", 0, "SUFFIX", Xv(10, 0)),
    R1("7256", 0, "FULL NAME", Xv(90, LINT_PCENC)),
    R1("7257", 0, "PERSON ADDR", Xv(70, LINT_PCENC)),
    R1("7258", 0, "BIRTH SEQUENCE", X(3, 0)),
    R1("7259", 0, "BABY", Xv(40, LINT_PCENC)),
    R1("8001", 0, "DIMENSIONS", N(4, LINT_NONZERO), N(5, LINT_NONZERO), N(3, LINT_NONZERO),
       N(1, LINT_WINDING), N(1, 0)),
    R1("8002", 0, "CMT No.", Xv(20, 0)),
    R1("8003", K, "GRAI", N(1, LINT_ZERO), N(13, CK), OptXv(16, 0)),
    R1("8004", K, "GIAI", Xv(30, LINT_KEY)),
    R1("8005", 0, "PRICE PER UNIT", N(6, 0)),
    R1("8006", K, "ITIP", N(14, LINT_CSUM), N(4, LINT_PIECE)),
    R1("8007", 0, "IBAN", Xv(34, 0)),
    R1("8008", 0, "PROD TIME", N(8, LINT_YYMMDDHH), OptNv(4, LINT_MMOPTSS)),
    R1("8009", 0, "OPTSEN", Xv(50, 0)),
    R1("8010", K, "CPID", Yv(30, LINT_KEY)),
    R1("8011", 0, "CPID SERIAL", Nv(12, LINT_NOZERO0)),
    R1("8012", 0, "VERSION", Xv(20, 0)),
    R1("8013", K, "GMN", Xv(25, LINT_KEY)),
    R1("8014", 0, "MUDI", Xv(25, LINT_KEY)),
    R1("8017", K, "GSRN - PROVIDER", N(18, CK)),
    R1("8018", K, "GSRN - RECIPIENT", N(18, CK)),
    R1("8019", 0, "SRIN", Nv(10, 0)),
    R1("8020", 0, "REF No.", Xv(25, 0)),
    R1("8026", 0, "ITIP CONTENT", N(14, LINT_CSUM), N(4, LINT_PIECE)),
    R1("8030", 0, "DIGSIG", Zv(90, 0)),
    R1("8110", 0, "COUPON CODE", Xv(70, 0)),
    R1("8111", 0, "POINTS", N(4, 0)),
    R1("8112", 0, "PAPERLESS COUPON CODE", Xv(70, 0)),
    R1("8200", 0, "PRODUCT URL", Xv(70, 0)),
    R1("90", 0, "INTERNAL", Xv(30, 0)),
    RR("91", "99", 0, "INTERNAL", Xv(90, 0)),
};

#define NAIS (sizeof g_ais / sizeof g_ais[0])

/* The rows of each two-digit prefix, {first row, count}: the first two
 * digits of an AI fix its length, and most prefixes have a single row.
 * Derived from g_ais; test_ids checks that every row is found through it. */
static const uint8_t g_groups[100][2] = {
    {0, 1}, {1, 1}, {2, 1}, {3, 1}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0},
    {4, 1}, {5, 1}, {6, 1}, {7, 1}, {0, 0}, {8, 1}, {9, 1}, {10, 1}, {0, 0}, {0, 0},
    {11, 1}, {12, 1}, {13, 1}, {14, 1}, {15, 4}, {19, 5}, {0, 0}, {0, 0}, {0, 0}, {0, 0},
    {24, 1}, {25, 7}, {32, 10}, {42, 8}, {50, 10}, {60, 8}, {68, 10}, {78, 1}, {0, 0}, {79, 6},
    {85, 4}, {89, 8}, {97, 8}, {105, 31}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0},
    {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0},
    {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0},
    {136, 18}, {154, 7}, {161, 14}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0},
    {175, 20}, {195, 3}, {198, 1}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0},
    {199, 1}, {200, 1}, {200, 1}, {200, 1}, {200, 1}, {200, 1}, {200, 1}, {200, 1}, {200, 1}, {200, 1},
};

/* A code as a number that sorts like the 4-byte, NUL-padded string (the
 * AI system is prefix-free, so this order finds every code). */
static uint32_t packed(const char *s, size_t n)
{
    uint32_t v = (uint32_t)(unsigned char)s[0] << 24 | (uint32_t)(unsigned char)s[1] << 16;
    if (n > 2)
        v |= (uint32_t)(unsigned char)s[2] << 8;
    if (n > 3)
        v |= (unsigned char)s[3];
    return v;
}

/* Row codes are NUL-padded char[5], so their key is a plain load. */
static uint32_t row_key(const char *c)
{
    return (uint32_t)(unsigned char)c[0] << 24 | (uint32_t)(unsigned char)c[1] << 16 |
           (uint32_t)(unsigned char)c[2] << 8 | (uint32_t)(unsigned char)c[3];
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static const uint8_t *group_of(const char *s) { return g_groups[(s[0] - '0') * 10 + (s[1] - '0')]; }

const tnt__ai *tnt__ai_find(const char *s, size_t n)
{
    if (n < 2 || n > 4 || !all_digits(s, n))
        return NULL;
    const uint8_t *g = group_of(s);
    size_t lo = g[0], hi = (size_t)g[0] + g[1];
    if (lo == hi)
        return NULL;
    /* All the AIs of a prefix have one length; most prefixes have one AI. */
    if (g_ais[lo].first[n] != '\0' || g_ais[lo].first[n - 1] == '\0')
        return NULL;
    uint32_t key = packed(s, n);
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (row_key(g_ais[mid].first) <= key)
            lo = mid;
        else
            hi = mid;
    }
    const tnt__ai *ai = &g_ais[lo];
    return row_key(ai->first) <= key && key <= row_key(ai->last) ? ai : NULL;
}

const tnt__ai *tnt__ai_match(const char *s, size_t n, size_t *code_len)
{
    *code_len = 0;
    if (n < 2 || !all_digits(s, 2))
        return NULL;
    const uint8_t *g = group_of(s);
    if (!g[1])
        return NULL;
    size_t k = strlen(g_ais[g[0]].first);
    if (k > n || !all_digits(s, k))
        return NULL;
    *code_len = k;
    return tnt__ai_find(s, k);
}

size_t tnt__ai_count(void) { return NAIS; }
const tnt__ai *tnt__ai_row(size_t i) { return i < NAIS ? &g_ais[i] : NULL; }

size_t tnt__ai_fixed_len(const tnt__ai *ai)
{
    size_t total = 0;
    for (size_t i = 0; i < ai->ncomp; i++) {
        if (ai->comp[i].min != ai->comp[i].max)
            return 0;
        total += ai->comp[i].max;
    }
    return total;
}

void tnt__ai_len_range(const tnt__ai *ai, size_t *min, size_t *max)
{
    *min = *max = 0;
    for (size_t i = 0; i < ai->ncomp; i++) {
        *min += ai->comp[i].min;
        *max += ai->comp[i].max;
    }
}

/* ---- character sets ---- */

/* Generated from the character lists in ids.h (TNT__C_*); bytes above
 * 0x7F belong to no class. */
const uint8_t tnt__cclass[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x62, 0x22, 0x24, 0x20, 0x22, 0x22, 0x72, 0x62, 0x62, 0x62, 0x62, 0x62, 0x7E, 0x72, 0x26,
    0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x62, 0x72, 0x02, 0x7A, 0x02, 0x22,
    0x20, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E,
    0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x20, 0x00, 0x20, 0x00, 0x7A,
    0x00, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A,
    0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x7A, 0x00, 0x00, 0x00, 0x20, 0x00,
};

static unsigned class_of(int cset)
{
    switch (cset) {
    case TNT__CS_N: return TNT__C_N;
    case TNT__CS_X: return TNT__C_X;
    case TNT__CS_Y: return TNT__C_Y;
    default: return TNT__C_Z;
    }
}

unsigned tnt__ai_num(const char *code, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(code[i] - '0');
    /* No AI of 3 or 4 digits starts with 0: such a code (an unknown AI,
     * permitted by TNT_ID_F_PERMIT_UNKNOWN_AIS) gets a number of its own
     * above 9999 (10000-10099 for three digits, 10100-11099 for four), so
     * that (0010) is never taken for (10); every number fits 16 bits. */
    if (n == 3 && code[0] == '0')
        v += 10000u;
    else if (n == 4 && code[0] == '0')
        v += 10100u;
    return v;
}

int tnt__mod10(const char *d, size_t n)
{
    /* Weights 3, 1, 3, … from the rightmost digit. */
    unsigned odd = 0, even = 0;
    size_t i = n;
    while (i >= 2) {
        odd += (unsigned)(d[i - 1] - '0');
        even += (unsigned)(d[i - 2] - '0');
        i -= 2;
    }
    if (i)
        odd += (unsigned)(d[0] - '0');
    return (int)((10 - (odd * 3 + even) % 10) % 10);
}

/* ---- linters ---- */

static int num2(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

static bool fault(tnt__ai_fault *f, tnt__id_err code, size_t pos, const char *why)
{
    f->code = code;
    f->pos = pos;
    f->why = why;
    return false;
}

/* YYMMDD; the century is irrelevant to leap years within GS1's ±50-year
 * window around today except for 2000, which is a leap year too. */
static bool check_date(const char *s, bool day0, tnt__ai_fault *f)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int yy = num2(s), mm = num2(s + 2), dd = num2(s + 4);
    if (mm < 1 || mm > 12)
        return fault(f, TNT__ID_ERR_DATE, 2, "month must be 01..12");
    int max = mdays[mm - 1] - (mm == 2 && yy % 4 != 0);
    if (dd > max || (dd == 0 && !day0))
        return fault(f, TNT__ID_ERR_DATE, 4, day0 ? "day out of range for the month (00 allowed)"
                                                    : "day out of range for the month");
    return true;
}

static bool check_date4(const char *s, tnt__ai_fault *f)
{
    int y = num2(s) * 100 + num2(s + 2);
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (s[4] == '0' && s[5] == '2' && num2(s + 6) == 29 && !leap)
        return fault(f, TNT__ID_ERR_DATE, 6, "29 February in a year that is not a leap year");
    if (!check_date(s + 2, false, f)) {
        f->pos += 2;
        return false;
    }
    return true;
}

static bool check_time(const char *s, size_t n, bool hours, tnt__ai_fault *f)
{
    if (hours && num2(s) > 23)
        return fault(f, TNT__ID_ERR_DATE, 0, "hour must be 00..23");
    for (size_t i = hours ? 2 : 0; i + 2 <= n; i += 2)
        if (num2(s + i) > 59)
            return fault(f, TNT__ID_ERR_DATE, i, "minutes and seconds must be 00..59");
    return true;
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

static bool lint(unsigned l, const char *s, size_t n, tnt__ai_fault *f)
{
    if ((l & LINT_CSUM) && tnt__mod10(s, n - 1) != s[n - 1] - '0')
        return fault(f, TNT__ID_ERR_CHECK_DIGIT, n - 1, "wrong check digit");
    if (l & LINT_KEY) {
        if (n < 4)
            return fault(f, TNT__ID_ERR_LENGTH, 0, "too short to start with a company prefix");
        for (size_t i = 0; i < 4; i++)
            if (s[i] < '0' || s[i] > '9')
                return fault(f, TNT__ID_ERR_CHARSET, i, "must start with a company prefix (digits)");
    }
    if ((l & (LINT_YYMMD0 | LINT_YYMMDD)) && !check_date(s, (l & LINT_YYMMD0) != 0, f))
        return false;
    if ((l & LINT_YYYYMMDD) && !check_date4(s, f))
        return false;
    if ((l & LINT_YYMMDDHH) && (!check_date(s, false, f) || !check_time(s + 6, 2, true, f)))
        return false;
    if ((l & LINT_HHMM) && !check_time(s, n, true, f))
        return false;
    if (l & LINT_MMOPTSS) {
        if (n != 2 && n != 4)
            return fault(f, TNT__ID_ERR_LENGTH, 0, "minutes must be MM or MMSS");
        if (!check_time(s, n, false, f))
            return false;
    }
    if (l & LINT_PIECE) {
        int piece = num2(s), total = num2(s + 2);
        if (piece == 0 || total == 0 || piece > total)
            return fault(f, TNT__ID_ERR_VALUE, 0, "piece must be 01..total and total at least 01");
    }
    if ((l & LINT_NOZERO0) && n > 1 && s[0] == '0')
        return fault(f, TNT__ID_ERR_VALUE, 0, "no leading zeros allowed");
    if ((l & LINT_ZERO) && s[0] != '0')
        return fault(f, TNT__ID_ERR_VALUE, 0, "must be 0");
    if (l & LINT_NONZERO) {
        size_t i = 0;
        while (i < n && s[i] == '0')
            i++;
        if (i == n)
            return fault(f, TNT__ID_ERR_VALUE, 0, "must not be zero");
    }
    if ((l & LINT_YESNO) && s[0] != '0' && s[0] != '1')
        return fault(f, TNT__ID_ERR_VALUE, 0, "must be 0 or 1");
    if ((l & LINT_WINDING) && s[0] != '0' && s[0] != '1' && s[0] != '9')
        return fault(f, TNT__ID_ERR_VALUE, 0, "winding direction must be 0, 1 or 9");
    if ((l & LINT_HYPHEN) && s[0] != '-')
        return fault(f, TNT__ID_ERR_VALUE, 0, "must be -");
    if (l & LINT_PCENC)
        for (size_t i = 0; i < n; i++)
            if (s[i] == '%' && (i + 2 >= n || !is_hex((unsigned char)s[i + 1]) || !is_hex((unsigned char)s[i + 2])))
                return fault(f, TNT__ID_ERR_ENCODING, i, "malformed percent-encoding");
    return true;
}

/* The length a component takes from the rest of a value: fixed ones
 * their length, a variable one (always the last) the rest. */
static size_t comp_take(const tnt__ai_comp *c, size_t left)
{
    bool variable = c->min ? c->min != c->max : (c->lint & VARIABLE) != 0;
    if (!variable)
        return c->max <= left ? c->max : left;
    return left;
}

/* The common case, GS1 keys: all digits and a check digit, in one pass. */
static bool check_key_digits(const char *v, size_t n, bool csum, tnt__ai_fault *f)
{
    unsigned odd = 0, even = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)v[n - 1 - i] - '0';
        if (d > 9)
            return fault(f, TNT__ID_ERR_CHARSET, n - 1 - i, "digits only");
        if (i & 1)
            odd += d;
        else
            even += d;
    }
    /* With the check digit included, a valid key sums to 0 mod 10. */
    if (csum && (odd * 3 + even) % 10 != 0)
        return fault(f, TNT__ID_ERR_CHECK_DIGIT, n - 1, "wrong check digit");
    return true;
}

bool tnt__ai_check(const tnt__ai *ai, const char *v, size_t n, tnt__ai_fault *f)
{
    if (n == 0)
        return fault(f, TNT__ID_ERR_LENGTH, 0, "empty value");
    const tnt__ai_comp *c0 = &ai->comp[0];
    if (ai->ncomp == 1 && c0->cset == TNT__CS_N && c0->min == n && c0->max == n &&
        !(c0->lint & ~(unsigned)(LINT_CSUM | LINT_KEY)))
        return check_key_digits(v, n, (c0->lint & LINT_CSUM) != 0, f);
    size_t pos = 0;
    for (size_t i = 0; i < ai->ncomp; i++) {
        const tnt__ai_comp *c = &ai->comp[i];
        size_t left = n - pos;
        if (left == 0 && c->min == 0)
            break; /* an optional final component, absent */
        size_t take = comp_take(c, left);
        size_t need = c->min ? c->min : ((c->lint & VARIABLE) ? 1 : c->max);
        if (take < need)
            return fault(f, TNT__ID_ERR_LENGTH, n, "value too short");
        if (take > c->max)
            return fault(f, TNT__ID_ERR_LENGTH, pos + c->max, "value too long");
        unsigned cls = class_of(c->cset);
        for (size_t j = 0; j < take; j++)
            if (!tnt__is((unsigned char)v[pos + j], cls))
                return fault(f, TNT__ID_ERR_CHARSET, pos + j,
                             c->cset == TNT__CS_N   ? "digits only"
                             : c->cset == TNT__CS_X ? "not in the GS1 82-character set"
                             : c->cset == TNT__CS_Y ? "not in the GS1 39-character set"
                                                    : "not in the GS1 64-character set");
        unsigned l = c->lint & ~VARIABLE;
        if (l && !lint(l, v + pos, take, f)) {
            f->pos += pos;
            return false;
        }
        pos += take;
    }
    if (pos < n)
        return fault(f, TNT__ID_ERR_LENGTH, pos, "value too long");
    return true;
}
