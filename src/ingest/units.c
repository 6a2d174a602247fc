/* Unit codes of UN/ECE Recommendation 20 used for sensor readings, each with
 * its measurement type and the conversion to that type's canonical unit
 * (the unit whose factor is 1 and offset 0). */
#include <stdint.h>
#include <string.h>

#include "ingest/units.h"

/* Sorted by code (strcmp order): tnt__unit_find bisects it. */
static const tnt__unit units[] = {
    {"2Z", "Voltage", "VLT", 1e-3, 0},                       /* millivolt */
    {"4K", "ElectricCurrent", "AMP", 1e-3, 0},               /* milliampere */
    {"A93", "AbsoluteHumidity", "A93", 1, 0},                /* g/m3 */
    {"A97", "Pressure", "PAL", 100, 0},                      /* hectopascal */
    {"AMP", "ElectricCurrent", "AMP", 1, 0},
    {"ATM", "Pressure", "PAL", 101325, 0},
    {"BAR", "Pressure", "PAL", 1e5, 0},
    {"C26", "Time", "SEC", 1e-3, 0},                         /* millisecond */
    {"C35", "AmountOfSubstancePerUnitVolume", "C35", 1, 0},  /* mol/m3 */
    {"C81", "Angle", "DD", 57.29577951308232, 0},            /* radian */
    {"CEL", "Temperature", "CEL", 1, 0},
    {"CMT", "Length", "MTR", 1e-2, 0},
    {"DAY", "Time", "SEC", 86400, 0},
    {"DD", "Angle", "DD", 1, 0},                             /* degree */
    {"FAH", "Temperature", "CEL", 5.0 / 9.0, -32.0 * 5.0 / 9.0},
    {"FOT", "Length", "MTR", 0.3048, 0},
    {"GLL", "Volume", "MTQ", 3.785411784e-3, 0},             /* US gallon */
    {"GQ", "AbsoluteHumidity", "A93", 1e-3, 0},              /* ug/m3 */
    {"GRM", "Mass", "KGM", 1e-3, 0},
    {"HM", "Speed", "KMH", 1.609344, 0},                     /* mile per hour */
    {"HTZ", "Frequency", "HTZ", 1, 0},
    {"HUR", "Time", "SEC", 3600, 0},
    {"INH", "Length", "MTR", 0.0254, 0},
    {"JOU", "Energy", "JOU", 1, 0},
    {"K40", "Acceleration", "MSK", 9.80665, 0},              /* standard gravity, g */
    {"KEL", "Temperature", "CEL", 1, -273.15},
    {"KGM", "Mass", "KGM", 1, 0},
    {"KHZ", "Frequency", "HTZ", 1e3, 0},
    {"KLX", "Illuminance", "LUX", 1e3, 0},
    {"KMH", "Speed", "KMH", 1, 0},
    {"KMQ", "Density", "KMQ", 1, 0},                         /* kg/m3 */
    {"KMT", "Length", "MTR", 1e3, 0},
    {"KNT", "Speed", "KMH", 1.852, 0},
    {"KPA", "Pressure", "PAL", 1e3, 0},
    {"KWH", "Energy", "JOU", 3.6e6, 0},
    {"KWT", "Power", "WTT", 1e3, 0},
    {"LBR", "Mass", "KGM", 0.45359237, 0},
    {"LTR", "Volume", "MTQ", 1e-3, 0},
    {"LUX", "Illuminance", "LUX", 1, 0},
    {"MBR", "Pressure", "PAL", 100, 0},
    {"MGM", "Mass", "KGM", 1e-6, 0},
    {"MIN", "Time", "SEC", 60, 0},
    {"MLT", "Volume", "MTQ", 1e-6, 0},
    {"MMT", "Length", "MTR", 1e-3, 0},
    {"MQH", "VolumeFlowRate", "MQH", 1, 0},                  /* m3/h */
    {"MSK", "Acceleration", "MSK", 1, 0},                    /* m/s2 */
    {"MTQ", "Volume", "MTQ", 1, 0},
    {"MTR", "Length", "MTR", 1, 0},
    {"MTS", "Speed", "KMH", 3.6, 0},                         /* m/s */
    {"NEW", "Force", "NEW", 1, 0},
    {"ONZ", "Mass", "KGM", 0.028349523125, 0},
    {"P1", "RelativeHumidity", "P1", 1, 0},                  /* percent */
    {"P71", "DoseEquivalentRate", "P71", 1, 0},
    {"PAL", "Pressure", "PAL", 1, 0},
    {"PS", "Pressure", "PAL", 6894.757293168, 0},            /* psi */
    {"SEC", "Time", "SEC", 1, 0},
    {"SMI", "Length", "MTR", 1609.344, 0},
    {"TNE", "Mass", "KGM", 1e3, 0},
    {"VLT", "Voltage", "VLT", 1, 0},
    {"WTT", "Power", "WTT", 1, 0},
    {"YRD", "Length", "MTR", 0.9144, 0},
};

#define NUNITS (sizeof units / sizeof units[0])

/* A code of up to 4 characters as a number that sorts as the code does
 * (big-endian, NUL-padded); 0 for a longer one. Unit codes have 2 or 3. */
static uint32_t packed(const char *c)
{
    uint32_t v = 0;
    size_t i = 0;
    for (; i < 4 && c[i]; i++)
        v |= (uint32_t)(unsigned char)c[i] << (24 - 8 * i);
    return c[i] ? 0 : v;
}

const tnt__unit *tnt__unit_find(const char *code)
{
    uint32_t key = packed(code);
    size_t lo = 0, hi = NUNITS;
    while (key && lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t k = packed(units[mid].code);
        if (k == key)
            return &units[mid];
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *tnt__unit_canonical(const char *measure)
{
    for (size_t i = 0; i < NUNITS; i++)
        if (units[i].measure[0] == measure[0] && strcmp(units[i].measure, measure) == 0)
            return units[i].canon;
    return NULL;
}

size_t tnt__unit_count(void) { return NUNITS; }
const tnt__unit *tnt__unit_row(size_t i) { return i < NUNITS ? &units[i] : NULL; }

bool tnt__unit_syntax(const char *code)
{
    size_t n = 0;
    for (; code[n]; n++)
        if (!((code[n] >= 'A' && code[n] <= 'Z') || (code[n] >= '0' && code[n] <= '9')))
            return false;
    return n == 2 || n == 3;
}
