/*
 * libFuzzer target: tnt_id_parse and every conversion on arbitrary bytes.
 *
 * The first byte picks the options (company prefix length, flags, a small
 * company prefix table), the rest is the identifier. Besides "no crash, no leak, no hang", it checks that
 * the conversions agree with each other: the canonical form, the element
 * string, the Digital Link and the EPC URN of a valid identifier all parse
 * back to the same canonical form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ids/ids.h"
#include "tnt/tnt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tnt_id *g_id, *g_back;
static tnt_gcp_table *g_gcp;

static void init(void)
{
    static const char *const prefixes[] = {"0614141", "4012345", "9506000", "0", "1", "40", "95", "0180451111"};
    if (tnt_id_new(&g_id) != TNT_OK || tnt_id_new(&g_back) != TNT_OK || tnt_gcp_table_new(&g_gcp) != TNT_OK)
        abort();
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (tnt_gcp_table_add(g_gcp, prefixes[i], i < 3 ? 7 : 4 + (int)i) != TNT_OK)
            abort();
}

/* A key qualifier sent as a data attribute (in a DL query string) becomes
 * a qualifier in an element string, so that round trip may differ. */
static int qualifier_as_attribute(const char *text, size_t len, const tnt_id_options *o)
{
    static tnt__idp p;
    if (tnt__id_parse(&p, text, len, o->gcp_length, NULL, o->flags) != TNT_OK)
        abort();
    for (size_t i = 1; i < p.nais; i++)
        if (p.ais[i].role == TNT__ROLE_ATTRIBUTE && tnt__id_qualifier_pos(p.ais[0].code, p.ais[i].code) >= 0)
            return 1;
    return 0;
}

static void same_canonical(const char *text, const tnt_id_options *o, const char *canon)
{
    if (tnt_id_parse(g_back, text, strlen(text), o) != TNT_OK || strcmp(tnt_id_canonical(g_back), canon) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_id)
        init();
    if (size == 0)
        return 0;
    tnt_id_options o = TNT_ID_OPTIONS_INIT;
    o.gcp_length = (data[0] & 7) ? 5 + (data[0] & 7) : 0; /* 0 or 6..12 */
    o.flags = (data[0] >> 3) & 3;
    o.gcp_table = (data[0] & 0x20) ? g_gcp : NULL;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    char canon[TNT__ID_CANONICAL_CAP];
    size_t clen = tnt__id_canonical(canon, sizeof canon, text, len);
    if (tnt_id_parse(g_id, text, len, &o) != TNT_OK) {
        if (tnt_id_error_count(g_id) == 0 || tnt_id_error_at(NULL, NULL, g_id, 0) != TNT_OK ||
            tnt_id_canonical(g_id) != NULL)
            abort();
        return 0;
    }
    const char *c = tnt_id_canonical(g_id);
    /* The internal canonicaliser accepts all that the parser does. */
    if (!c || !clen || strcmp(c, canon) != 0)
        abort();
    /* Re-parsed without the prefix length: a URN's own one wins over the
     * option, and need not fit the key the option's way. */
    tnt_id_options plain = o;
    plain.gcp_length = 0;
    same_canonical(c, &plain, c);

    const char *es = tnt_id_element_string(g_id);
    if (!es)
        abort();
    if (!qualifier_as_attribute(text, len, &o))
        same_canonical(es, &plain, c);

    char *dl = NULL;
    if (tnt_id_digital_link(&dl, g_id, "https://example.com/p") != TNT_OK)
        abort();
    same_canonical(dl, &plain, c);
    tnt_free(dl);

    char *urn = NULL;
    tnt_status st = tnt_id_epc_urn(&urn, g_id);
    if (st == TNT_OK) {
        same_canonical(urn, &plain, c); /* every URN names what the code names (a GSRN with an SRIN has none) */
        tnt_free(urn);
    } else if (st != TNT_E_GCP && st != TNT_E_UNSUPPORTED) {
        abort();
    }
    return 0;
}
