/*
 * libFuzzer target: GS1 Digital Link parsing and round trips.
 *
 * Inputs that do not start with a scheme get "https://id.gs1.org/" in
 * front, so the fuzzer spends its time in paths and query strings. For a
 * valid URI: DL → canonical → parse → the same canonical; the Digital Link
 * written back (any stem) parses to the same identifier with the same data
 * attributes; the internal canonicaliser agrees.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ids/ids.h"
#include "tnt/tnt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tnt_id *g_id, *g_back;

static void check_round_trip(const tnt_id_options *o)
{
    const char *canon = tnt_id_canonical(g_id);
    char c1[TNT__ID_CANONICAL_CAP];
    strcpy(c1, canon);
    if (tnt_id_parse(g_back, c1, strlen(c1), o) != TNT_OK || strcmp(tnt_id_canonical(g_back), c1) != 0)
        abort();
    /* The canonical form is a fixed point and a Digital Link itself. */
    if (tnt_id_get_form(g_back) != TNT_ID_FORM_DIGITAL_LINK || tnt_id_get_type(g_back) != tnt_id_get_type(g_id))
        abort();

    char *dl = NULL;
    if (tnt_id_digital_link(&dl, g_id, "http://shop.example/a/b") != TNT_OK)
        abort();
    if (tnt_id_parse(g_back, dl, strlen(dl), o) != TNT_OK || strcmp(tnt_id_canonical(g_back), c1) != 0 ||
        tnt_id_ai_count(g_back) != tnt_id_ai_count(g_id))
        abort();
    for (size_t i = 0; i < tnt_id_ai_count(g_id); i++) {
        const char *a1, *v1, *a2, *v2;
        tnt_id_ai_at(&a1, &v1, g_id, i);
        tnt_id_ai_at(&a2, &v2, g_back, i);
        if (strcmp(a1, a2) != 0 || strcmp(v1, v2) != 0)
            abort();
    }
    tnt_free(dl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_id && (tnt_id_new(&g_id) != TNT_OK || tnt_id_new(&g_back) != TNT_OK))
        abort();
    static char buf[TNT__ID_MAX_INPUT + 64];
    size_t len = 0;
    if (size < 4 || (memcmp(data, "http", 4) != 0 && memcmp(data, "HTTP", 4) != 0)) {
        memcpy(buf, "https://id.gs1.org/", 19);
        len = 19;
    }
    if (size > sizeof buf - len)
        size = sizeof buf - len;
    memcpy(buf + len, data, size);
    len += size;

    tnt_id_options o = TNT_ID_OPTIONS_INIT;
    o.flags = TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL;
    char internal[TNT__ID_CANONICAL_CAP];
    size_t n = tnt__id_canonical(internal, sizeof internal, buf, len);
    if (tnt_id_parse(g_id, buf, len, &o) != TNT_OK)
        return 0;
    if (!n || strcmp(internal, tnt_id_canonical(g_id)) != 0)
        abort();
    if (tnt_id_get_form(g_id) == TNT_ID_FORM_DIGITAL_LINK)
        check_round_trip(&o);
    return 0;
}
