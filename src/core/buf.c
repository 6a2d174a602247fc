/* Growable byte buffer with a sticky out-of-memory flag. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

void tnt__buf_init(tnt__buf *b) { memset(b, 0, sizeof *b); }

void tnt__buf_free(tnt__buf *b)
{
    tnt__free(b->data);
    tnt__buf_init(b);
}

void tnt__buf_reset(tnt__buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->data)
        b->data[0] = '\0';
}

bool tnt__buf_reserve(tnt__buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->cap - b->len > extra)
        return true;
    if (extra > SIZE_MAX / 4 - b->len) {
        b->oom = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= extra)
        cap *= 2;
    char *p = tnt__realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void tnt__buf_append(tnt__buf *b, const void *data, size_t len)
{
    if (!tnt__buf_reserve(b, len))
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void tnt__buf_puts(tnt__buf *b, const char *s) { tnt__buf_append(b, s, strlen(s)); }

void tnt__buf_putc(tnt__buf *b, char c)
{
    if (!tnt__buf_reserve(b, 1))
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void tnt__buf_printf(tnt__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    /* written straight into the room there is; formatted again only when it did not fit */
    if (tnt__buf_reserve(b, 63)) {
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->data + b->len, room, fmt, ap);
        if (n >= 0 && (size_t)n >= room) {
            b->data[b->len] = '\0';
            if (tnt__buf_reserve(b, (size_t)n))
                vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
            else
                n = -1;
        }
        if (n >= 0)
            b->len += (size_t)n;
        else
            b->data[b->len] = '\0';
    }
    va_end(ap);
    va_end(ap2);
}

/* The length of the valid UTF-8 character at p (lead byte >= 0x80), or 0. */
static size_t utf8_char(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0; /* also stops at the NUL */
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || /* overlong, surrogate */
        (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))   /* overlong, > U+10FFFF */
        return 0;
    return n;
}

/* The digit pairs of 0x00..0xff, two characters each. */
#define HEX_ROW(h)                                                                                                   \
    h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "a" h "b" h "c" h "d" h "e" h "f"
static const char hex_pairs[] = HEX_ROW("0") HEX_ROW("1") HEX_ROW("2") HEX_ROW("3") HEX_ROW("4") HEX_ROW("5")
    HEX_ROW("6") HEX_ROW("7") HEX_ROW("8") HEX_ROW("9") HEX_ROW("a") HEX_ROW("b") HEX_ROW("c") HEX_ROW("d")
        HEX_ROW("e") HEX_ROW("f");
#undef HEX_ROW

char *tnt__hex(char *out, const void *bytes, size_t n)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++, out += 2)
        memcpy(out, hex_pairs + 2 * b[i], 2);
    return out;
}

/* Nonzero when one of the eight bytes of w needs more than copying into a
 * JSON string: a control character, '"', '\\' or a byte of UTF-8. */
static inline uint64_t json_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\'); /* a zero byte where w has '"' or '\\' */
    return ((w - ones * 0x20) & ~w & high)  /* a byte < 0x20 */
           | ((q - ones) & ~q & high)       /* '"' */
           | ((bs - ones) & ~bs & high)     /* '\\' */
           | (w & high);                    /* >= 0x80 */
}

void tnt__buf_json_str(tnt__buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    tnt__buf_putc(b, '"');
    for (;;) {
        const unsigned char *start = p;
        /* eight bytes at a time while none needs escaping, then byte by byte */
        for (uint64_t w; end - p >= 8; p += 8) {
            memcpy(&w, p, 8);
            if (json_special(w))
                break;
        }
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        tnt__buf_append(b, start, (size_t)(p - start));
        if (!*p)
            break;
        if (*p >= 0x80) { /* a character of UTF-8 as it is; a byte that is not one: U+FFFD */
            size_t n = utf8_char(p);
            if (n)
                tnt__buf_append(b, p, n);
            else
                tnt__buf_puts(b, "\\ufffd");
            p += n ? n : 1;
            continue;
        }
        char esc[7] = {'\\', 0};
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[*p >> 4]; esc[5] = hex[*p & 15];
        }
        tnt__buf_puts(b, esc);
        p++;
    }
    tnt__buf_putc(b, '"');
}

char *tnt__buf_detach(tnt__buf *b, size_t *len_out)
{
    if (b->oom) {
        tnt__buf_free(b);
        return NULL;
    }
    if (!b->data) {
        if (!tnt__buf_reserve(b, 0))
            return NULL;
        b->data[0] = '\0';
    }
    char *p = b->data;
    if (len_out)
        *len_out = b->len;
    tnt__buf_init(b);
    return p;
}
