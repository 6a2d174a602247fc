/* Timestamps (xsd:dateTime with a mandatory offset) and number text. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's formula). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool tnt__offset_parse(int16_t *minutes, const char *s)
{
    if (s[0] == 'Z' && s[1] == '\0') {
        *minutes = 0;
        return true;
    }
    int hh, mm;
    if ((s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &hh) || s[3] != ':' || !digits(s + 4, 2, &mm) ||
        s[6] != '\0' || hh > 14 || mm > 59 || (hh == 14 && mm != 0))
        return false;
    *minutes = (int16_t)((hh * 60 + mm) * (s[0] == '-' ? -1 : 1));
    return true;
}

bool tnt__time_parse(tnt__time *t, const char *s)
{
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
        s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return false;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
        sec > 59)
        return false;
    const char *p = s + 19;
    int64_t ms = 0;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        /* Microseconds from the first six digits, then milliseconds rounded
         * half to even: the rounding of the GS1 event hash's reference. */
        int64_t us = 0;
        int n = 0;
        for (; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 6)
                us = us * 10 + (*p - '0');
        for (; n < 6; n++)
            us *= 10;
        ms = us / 1000;
        int64_t r = us % 1000;
        if (r > 500 || (r == 500 && (ms & 1)))
            ms++;
    }
    int16_t off;
    if (!tnt__offset_parse(&off, p))
        return false;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t utc = ((days * 24 + h) * 60 + mi - off) * 60000 + sec * 1000 + ms;
    if (utc < TNT__TIME_MIN_MS || utc > TNT__TIME_MAX_MS)
        return false; /* 0001-01-01T00:30+01:00 is in year 0 in UTC, which has no text */
    t->ms = utc;
    t->off = off;
    t->set = true;
    return true;
}

/* Two digits of v (0..99). */
static char *put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

size_t tnt__time_format(char *buf, const tnt__time *t, bool utc)
{
    if (t->ms < TNT__TIME_MIN_MS || t->ms > TNT__TIME_MAX_MS || t->off < -TNT__OFFSET_MAX ||
        t->off > TNT__OFFSET_MAX)
        return (size_t)(stpcpy(buf, "invalid") - buf); /* no parser or decoder makes one */
    int off = utc ? 0 : t->off;
    int64_t ms = t->ms + (int64_t)off * 60000;
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    unsigned rem = (unsigned)(ms - days * 86400000);
    int y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    /* Written digit by digit: times are formatted for every event hash. The
     * year is 0 to 10000 (an offset may move a time past either end). */
    char *p = buf;
    if (y >= 10000)
        *p++ = (char)('0' + y / 10000);
    p = put2(p, (unsigned)y / 100 % 100);
    p = put2(p, (unsigned)y % 100);
    *p++ = '-';
    p = put2(p, mo);
    *p++ = '-';
    p = put2(p, d);
    *p++ = 'T';
    p = put2(p, rem / 3600000);
    *p++ = ':';
    p = put2(p, rem / 60000 % 60);
    *p++ = ':';
    p = put2(p, rem / 1000 % 60);
    *p++ = '.';
    *p++ = (char)('0' + rem % 1000 / 100);
    p = put2(p, rem % 100);
    if (utc || off == 0) {
        *p++ = 'Z';
    } else {
        unsigned a = (unsigned)abs(off);
        *p++ = off < 0 ? '-' : '+';
        p = put2(p, a / 60);
        *p++ = ':';
        p = put2(p, a % 60);
    }
    *p = '\0';
    return (size_t)(p - buf);
}

static _Atomic(locale_t) g_c_numeric; /* made once, kept for the life of the process */

locale_t tnt__c_numeric_begin(void)
{
    locale_t c = atomic_load(&g_c_numeric);
    if (!c) {
        locale_t made = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0), none = (locale_t)0;
        if (!made)
            return (locale_t)0;
        if (atomic_compare_exchange_strong(&g_c_numeric, &none, made)) {
            c = made;
        } else {
            freelocale(made);
            c = none;
        }
    }
    return uselocale(c);
}

void tnt__c_numeric_end(locale_t old)
{
    if (old)
        uselocale(old);
}

void tnt__num_format(char *buf, size_t cap, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, cap, "0");
        return;
    }
    if (v == 0) {
        snprintf(buf, cap, "0"); /* also for -0 */
        return;
    }
    /* The fewest significant digits that read back as the same double. */
    locale_t old = tnt__c_numeric_begin();
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    tnt__c_numeric_end(old);
}

/* -?digits[.digits] with at most 15 digits: the integer m of its digits and
 * 10^k for its k decimals are exact doubles, so m / 10^k is the one correct
 * rounding strtod gives, without strtod (and the locale switch) for the
 * readings of every event. False for any other text. */
static bool num_parse_simple(double *out, const char *s)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    bool neg = *s == '-';
    const char *p = s + neg;
    uint64_t m = 0;
    int digits = 0, decimals = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        m = m * 10 + (uint64_t)(*p - '0');
    if (!digits)
        return false;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++, decimals++)
            m = m * 10 + (uint64_t)(*p - '0');
        if (!decimals)
            return false;
    }
    if (*p || digits > 15)
        return false;
    double v = (double)m / pow10[decimals];
    *out = neg ? -v : v;
    return true;
}

bool tnt__num_parse(double *out, const char *s)
{
    if (!s || !*s)
        return false;
    if (num_parse_simple(out, s))
        return true;
    char *end;
    errno = 0;
    locale_t old = tnt__c_numeric_begin();
    double v = strtod(s, &end);
    tnt__c_numeric_end(old);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}
