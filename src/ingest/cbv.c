/* CBV 2.0 vocabularies. The value lists are those of GS1's EPCIS 2.0 JSON
 * schema (EPCIS-JSON-Schema.json, definitions bizStep, disposition, ...),
 * each sorted in strcmp order: values are looked up by bisection. */
#include <string.h>

#include "ingest/cbv.h"

#define N(a) (sizeof a / sizeof a[0])

static const char *const bizsteps[] = {
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
    "creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
    "disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting",
    "installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing",
    "repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
    "sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing",
    "transporting", "unloading", "unpacking", "void_shipping",
};
static const char *const dispositions[] = {
    "active", "available", "completeness_inferred", "completeness_verified", "conformant",
    "container_closed", "container_open", "damaged", "destroyed", "dispensed", "disposed",
    "encoded", "expired", "in_progress", "in_transit", "inactive", "mismatch_class",
    "mismatch_instance", "mismatch_quantity", "needs_replacement", "no_pedigree_match",
    "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
    "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen",
    "unavailable", "unknown",
};
static const char *const btts[] = {
    "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
    "testprd", "testres", "upevt",
};
static const char *const sdts[] = {
    "location", "owning_party", "possessing_party",
};
static const char *const ers[] = {
    "did_not_occur", "incorrect_data",
};
static const char *const measures[] = {
    "AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration", "Altitude",
    "AmountOfSubstance", "AmountOfSubstancePerUnitVolume", "Angle", "AngularAcceleration",
    "AngularMomentum", "AngularVelocity", "Area", "Capacitance", "Conductance", "Conductivity",
    "Count", "Density", "Dimensionless", "DoseEquivalent", "DoseEquivalentRate",
    "DynamicViscosity", "ElectricCharge", "ElectricCurrent", "ElectricCurrentDensity",
    "ElectricFieldStrength", "Energy", "Exposure", "Force", "Frequency", "Illuminance",
    "Inductance", "Irradiance", "KinematicViscosity", "Length", "LinearMomentum", "Luminance",
    "LuminousFlux", "LuminousIntensity", "MagneticFlux", "MagneticFluxDensity",
    "MagneticVectorPotential", "Mass", "MassConcentration", "MassFlowRate", "MassPerAreaTime",
    "MemoryCapacity", "MolalityOfSolute", "MolarEnergy", "MolarMass", "MolarVolume", "Power",
    "Pressure", "RadiantFlux", "RadiantIntensity", "Radioactivity", "RelativeHumidity",
    "Resistance", "Resistivity", "SolidAngle", "SpecificVolume", "Speed", "SurfaceDensity",
    "SurfaceTension", "Temperature", "Time", "Torque", "Voltage", "Volume", "VolumeFlowRate",
    "VolumeFraction", "VolumetricFlux", "Wavenumber",
};
static const char *const alerts[] = {
    "ALARM_CONDITION", "ERROR_CONDITION",
};
static const char *const components[] = {
    "altitude", "axial_distance", "azimuth", "easting", "elevation_angle", "height", "latitude",
    "longitude", "northing", "polar_angle", "spherical_radius", "x", "y", "z",
};

typedef struct vocab {
    const char *name;         /* field name, for messages */
    const char *web;          /* Web URI prefix */
    const char *curie;        /* CURIE prefix */
    const char *urn;          /* legacy URN prefix, or NULL */
    const char *const *names;
    size_t n;
} vocab;

static const vocab vocabs[TNT__V_COUNT] = {
    [TNT__V_BIZSTEP] = {"bizStep", "https://ref.gs1.org/cbv/BizStep-", "cbv:BizStep-", "urn:epcglobal:cbv:bizstep:", bizsteps, N(bizsteps)},
    [TNT__V_DISP] = {"disposition", "https://ref.gs1.org/cbv/Disp-", "cbv:Disp-", "urn:epcglobal:cbv:disp:", dispositions, N(dispositions)},
    [TNT__V_BTT] = {"bizTransaction type", "https://ref.gs1.org/cbv/BTT-", "cbv:BTT-", "urn:epcglobal:cbv:btt:", btts, N(btts)},
    [TNT__V_SDT] = {"source/destination type", "https://ref.gs1.org/cbv/SDT-", "cbv:SDT-", "urn:epcglobal:cbv:sdt:", sdts, N(sdts)},
    [TNT__V_ER] = {"error reason", "https://ref.gs1.org/cbv/ER-", "cbv:ER-", "urn:epcglobal:cbv:er:", ers, N(ers)},
    [TNT__V_MEASURE] = {"measurement type", "https://gs1.org/voc/", "gs1:", NULL, measures, N(measures)},
    [TNT__V_ALERT] = {"sensor alert type", "https://gs1.org/voc/", "gs1:", NULL, alerts, N(alerts)},
    [TNT__V_COMPONENT] = {"component", "https://ref.gs1.org/cbv/Comp-", "cbv:Comp-", "urn:epcglobal:cbv:comp:", components, N(components)},
};

/* The vocabulary's own spelling of name, or NULL. Most steps of the
 * bisection are decided by the first character. */
static const char *find(const vocab *v, const char *name)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *c = v->names[mid];
        int d = (unsigned char)c[0] - (unsigned char)name[0];
        if (d == 0 && (d = strcmp(c, name)) == 0)
            return c;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* What follows prefix in s, or NULL. Compared in place: most values differ
 * from most prefixes at the first character. */
static const char *after(const char *s, const char *prefix)
{
    if (!prefix)
        return NULL;
    while (*prefix && *s == *prefix)
        s++, prefix++;
    return *prefix ? NULL : s;
}

/* Namespaces reserved by the standard: anything else there is not a value. */
static bool reserved(const char *s)
{
    return after(s, "urn:epcglobal:cbv:") || after(s, "https://ref.gs1.org/cbv/") ||
           after(s, "http://ns.gs1.org/cbv/") || after(s, "https://ns.gs1.org/cbv/") ||
           after(s, "https://gs1.org/voc/") || after(s, "http://gs1.org/voc/") ||
           after(s, "https://www.gs1.org/voc/") || after(s, "http://www.gs1.org/voc/") || after(s, "cbv:") ||
           after(s, "gs1:");
}

int tnt__cbv_lookup(int vocab_id, const char *value, const char **bare)
{
    const vocab *v = &vocabs[vocab_id];
    const char *name;
    *bare = NULL;
    if ((*bare = find(v, value)))
        return TNT__CBV_STANDARD;
    if ((name = after(value, v->web)) || (name = after(value, v->curie)) || (name = after(value, v->urn))) {
        if ((*bare = find(v, name)))
            return TNT__CBV_STANDARD;
        return TNT__CBV_UNKNOWN;
    }
    if (reserved(value) || !tnt__is_uri(value))
        return TNT__CBV_UNKNOWN;
    return TNT__CBV_CUSTOM;
}

/* The JSON schema excludes the URN and ns.gs1.org forms of the CBV
 * vocabularies (definition vocab-other-uri) and the gs1.org/voc Web URIs of
 * measurement and sensor alert types (vocab-nonGS1WebVoc-uri): in JSON a
 * standard value is its bare name, CURIE or ref.gs1.org Web URI. */
bool tnt__cbv_json_form(int vocab_id, const char *value)
{
    if (vocab_id == TNT__V_MEASURE || vocab_id == TNT__V_ALERT)
        return !(after(value, "https://gs1.org/voc/") || after(value, "http://gs1.org/voc/") ||
                 after(value, "https://www.gs1.org/voc/") || after(value, "http://www.gs1.org/voc/"));
    return !(after(value, "urn:epcglobal:cbv") || after(value, "https://ns.gs1.org/cbv/") ||
             after(value, "http://ns.gs1.org/cbv/"));
}

size_t tnt__cbv_web_uri(char *buf, size_t cap, int vocab_id, const char *bare)
{
    size_t a = strlen(vocabs[vocab_id].web), b = strlen(bare);
    if (a + b + 1 > cap)
        return 0;
    memcpy(buf, vocabs[vocab_id].web, a);
    memcpy(buf + a, bare, b + 1);
    return a + b;
}

const char *tnt__cbv_name(int vocab_id) { return vocabs[vocab_id].name; }

const char *const *tnt__cbv_values(int vocab_id, size_t *n)
{
    *n = vocabs[vocab_id].n;
    return vocabs[vocab_id].names;
}

/* ---- RFC 3986 URI syntax: the EPCIS JSON schema's "format": "uri" ---- */

static bool alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static bool digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool hex(unsigned char c) { return digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'f'); }

/* One table lookup per character, as URIs are checked for every value.
 * Bit 1: unreserved and sub-delims; the rest are the characters each part
 * of a URI adds to them ('%' is checked apart: it takes two hex digits). */
enum { U_BASE = 1, U_COLON = 2, U_AT = 4, U_SLASH = 8, U_QMARK = 16 };
enum {
    HOST = U_BASE,                                /* reg-name */
    USERINFO = U_BASE | U_COLON,
    PATH = U_BASE | U_COLON | U_AT | U_SLASH,     /* pchar and '/' */
    QUERY = PATH | U_QMARK                        /* query and fragment */
};
static const unsigned char uri_class[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  1,  0,  0,  1,  0,  1,  1,  1,  1,  1,  1,  1,  1,  1,  8,
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  2,  1,  0,  1,  0, 16,
     4,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  0,  0,  0,  0,  1,
     0,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  0,  0,  0,  1,  0,
};

/* Skip a run of characters of one class ('%' + two hex digits counts as
 * one); returns where it stops. */
static const unsigned char *run(const unsigned char *p, unsigned cls)
{
    for (;;) {
        if (uri_class[*p] & cls)
            p++;
        else if (*p == '%' && hex(p[1]) && hex(p[2]))
            p += 3;
        else
            return p;
    }
}

/* dec-octet "." dec-octet "." dec-octet "." dec-octet, the whole of [p, end). */
static bool ipv4(const unsigned char *p, const unsigned char *end)
{
    for (int i = 0; i < 4; i++) {
        const unsigned char *s = p;
        int v = 0;
        while (p < end && digit(*p) && p - s < 3)
            v = v * 10 + (*p++ - '0');
        if (p == s || v > 255 || (p - s > 1 && *s == '0'))
            return false;
        if (i < 3 && (p >= end || *p++ != '.'))
            return false;
    }
    return p == end;
}

/* IPv6address of RFC 3986 section 3.2.2, the whole of [p, end). */
static bool ipv6(const unsigned char *p, const unsigned char *end)
{
    int groups = 0;
    bool elided = false;
    if (end - p >= 2 && p[0] == ':' && p[1] == ':') {
        elided = true;
        p += 2;
        if (p == end)
            return true;
    }
    for (;;) {
        const unsigned char *s = p;
        while (p < end && hex(*p) && p - s < 4)
            p++;
        if (p < end && (*p == '.' || (hex(*p) && p - s == 4))) {
            /* a dotted IPv4 tail takes the place of the last two groups */
            if (!ipv4(s, end))
                return false;
            groups += 2;
            break;
        }
        if (p == s)
            return false;
        groups++;
        if (p == end)
            break;
        if (*p++ != ':' || p == end)
            return false;
        if (*p == ':') {
            if (elided)
                return false;
            elided = true;
            if (++p == end)
                break;
        }
    }
    return elided ? groups <= 7 : groups == 8;
}

/* authority = [ userinfo "@" ] host [ ":" port ], the whole of [p, end). */
static bool authority(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        if (run(p, USERINFO) != at)
            return false;
        p = at + 1;
    }
    if (p < end && *p == '[') {
        const unsigned char *close = memchr(p, ']', (size_t)(end - p));
        if (!close)
            return false;
        const unsigned char *a = p + 1;
        if (a < close && (*a | 32) == 'v') { /* IPvFuture */
            const unsigned char *h = ++a;
            while (a < close && hex(*a))
                a++;
            if (a == h || a >= close || *a++ != '.' || a == close || run(a, USERINFO) != close)
                return false;
        } else if (!ipv6(a, close)) {
            return false;
        }
        p = close + 1;
    } else {
        p = run(p, HOST);
    }
    if (p < end && *p == ':')
        for (p++; p < end && digit(*p); p++)
            ;
    return p == end;
}

bool tnt__is_uri(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!alpha(*p))
        return false;
    while (alpha(*p) || digit(*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p++ != ':')
        return false;
    if (p[0] == '/' && p[1] == '/') {
        const unsigned char *a = p + 2, *end = a;
        while (*end && *end != '/' && *end != '?' && *end != '#')
            end++;
        if (!authority(a, end))
            return false;
        p = end;
    }
    p = run(p, PATH);
    if (*p == '?')
        p = run(p + 1, QUERY);
    if (*p == '#')
        p = run(p + 1, QUERY); /* fragment */
    return *p == '\0';
}
