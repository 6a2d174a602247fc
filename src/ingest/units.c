/* Unit codes of UN/ECE Recommendation 20 used for sensor readings. The first
 * code listed for a measurement type is its canonical unit (factor 1). */
#include <string.h>

#include "ingest/units.h"

static const tnt__unit units[] = {
    {"CEL", "Temperature", 1, 0},
    {"FAH", "Temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0},
    {"KEL", "Temperature", 1, -273.15},
    {"P1", "RelativeHumidity", 1, 0},            /* percent */
    {"A93", "AbsoluteHumidity", 1, 0},           /* g/m3 */
    {"GQ", "AbsoluteHumidity", 1e-3, 0},         /* ug/m3 */
    {"KGM", "Mass", 1, 0},
    {"GRM", "Mass", 1e-3, 0},
    {"MGM", "Mass", 1e-6, 0},
    {"TNE", "Mass", 1e3, 0},
    {"LBR", "Mass", 0.45359237, 0},
    {"ONZ", "Mass", 0.028349523125, 0},
    {"MTR", "Length", 1, 0},
    {"MMT", "Length", 1e-3, 0},
    {"CMT", "Length", 1e-2, 0},
    {"KMT", "Length", 1e3, 0},
    {"INH", "Length", 0.0254, 0},
    {"FOT", "Length", 0.3048, 0},
    {"YRD", "Length", 0.9144, 0},
    {"SMI", "Length", 1609.344, 0},
    {"KMH", "Speed", 1, 0},
    {"MTS", "Speed", 3.6, 0},                    /* m/s */
    {"HM", "Speed", 1.609344, 0},                /* mile per hour */
    {"KNT", "Speed", 1.852, 0},
    {"MSK", "Acceleration", 1, 0},               /* m/s2 */
    {"K40", "Acceleration", 9.80665, 0},         /* standard gravity, g */
    {"PAL", "Pressure", 1, 0},
    {"A97", "Pressure", 100, 0},                 /* hectopascal */
    {"KPA", "Pressure", 1e3, 0},
    {"MBR", "Pressure", 100, 0},
    {"BAR", "Pressure", 1e5, 0},
    {"ATM", "Pressure", 101325, 0},
    {"PS", "Pressure", 6894.757293168, 0},       /* psi */
    {"MTQ", "Volume", 1, 0},
    {"LTR", "Volume", 1e-3, 0},
    {"MLT", "Volume", 1e-6, 0},
    {"GLL", "Volume", 3.785411784e-3, 0},        /* US gallon */
    {"SEC", "Time", 1, 0},
    {"C26", "Time", 1e-3, 0},                    /* millisecond */
    {"MIN", "Time", 60, 0},
    {"HUR", "Time", 3600, 0},
    {"DAY", "Time", 86400, 0},
    {"LUX", "Illuminance", 1, 0},
    {"KLX", "Illuminance", 1e3, 0},
    {"VLT", "Voltage", 1, 0},
    {"2Z", "Voltage", 1e-3, 0},                  /* millivolt */
    {"AMP", "ElectricCurrent", 1, 0},
    {"4K", "ElectricCurrent", 1e-3, 0},          /* milliampere */
    {"DD", "Angle", 1, 0},                       /* degree */
    {"C81", "Angle", 57.29577951308232, 0},      /* radian */
    {"HTZ", "Frequency", 1, 0},
    {"KHZ", "Frequency", 1e3, 0},
    {"WTT", "Power", 1, 0},
    {"KWT", "Power", 1e3, 0},
    {"JOU", "Energy", 1, 0},
    {"KWH", "Energy", 3.6e6, 0},
    {"NEW", "Force", 1, 0},
    {"C35", "AmountOfSubstancePerUnitVolume", 1, 0}, /* mol/m3 */
    {"P71", "DoseEquivalentRate", 1, 0},
    {"KMQ", "Density", 1, 0},                    /* kg/m3 */
    {"MQH", "VolumeFlowRate", 1, 0},             /* m3/h */
};

#define NUNITS (sizeof units / sizeof units[0])

const tnt__unit *tnt__unit_find(const char *code)
{
    for (size_t i = 0; i < NUNITS; i++)
        if (strcmp(units[i].code, code) == 0)
            return &units[i];
    return NULL;
}

const char *tnt__unit_canonical(const char *measure)
{
    for (size_t i = 0; i < NUNITS; i++)
        if (strcmp(units[i].measure, measure) == 0)
            return units[i].code;
    return NULL;
}

bool tnt__unit_syntax(const char *code)
{
    size_t n = 0;
    for (; code[n]; n++)
        if (!((code[n] >= 'A' && code[n] <= 'Z') || (code[n] >= '0' && code[n] <= '9')))
            return false;
    return n == 2 || n == 3;
}
