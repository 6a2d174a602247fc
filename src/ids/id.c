/*
 * The public identifier API (include/tnt/ids.h): a handle that holds one
 * parse in fixed buffers, so tnt_id_parse never allocates, and the
 * conversions that hand out caller-owned strings.
 */
#include <string.h>

#include "ids.h"

#define ES_CAP (2 * TNT__ID_VALUES_CAP + 8 * TNT__ID_MAX_AIS)

/* The canonical form and the element string are formatted on first use:
 * parsing is the hot path, and many callers only validate. The handle is
 * never shared concurrently, so filling these caches through a const
 * handle is safe. */
struct tnt_id {
    tnt__idp p;
    tnt_status status; /* of the last parse */
    bool canon_done;
    bool es_done;
    char canon[TNT__ID_CANONICAL_CAP];
    char es[ES_CAP];
};

static const char *const g_type_names[] = {
    "unknown", "gtin", "sgtin", "lgtin", "sscc", "gln", "sgln", "pgln", "grai", "giai",
    "gsrn",    "gsrnp", "gdti", "cpi",   "sgcn", "ginc", "gsin", "itip", "upui",
};

const char *tnt_id_type_name(tnt_id_type type)
{
    if ((unsigned)type >= sizeof g_type_names / sizeof g_type_names[0])
        return "unknown";
    return g_type_names[type];
}

tnt_status tnt_id_options_init(tnt_id_options *opts, unsigned int version)
{
    if (!opts)
        return tnt__error(TNT_E_MISUSE, "tnt_id_options_init: opts is NULL");
    if (version == 0 || version > TNT_ID_OPTIONS_VERSION)
        return tnt__error(TNT_E_INVALID, "tnt_id_options_init: unknown options version %u", version);
    *opts = (tnt_id_options)TNT_ID_OPTIONS_INIT;
    opts->version = version;
    return TNT_OK;
}

tnt_status tnt_id_new(tnt_id **out)
{
    if (!out)
        return tnt__error(TNT_E_MISUSE, "tnt_id_new: out is NULL");
    tnt_id *id = tnt__malloc(sizeof *id);
    if (!id) {
        *out = NULL;
        return tnt__error(TNT_E_NOMEM, "tnt_id_new: out of memory");
    }
    tnt__id_reset(&id->p, 0);
    id->status = TNT_E_INVALID;
    id->canon_done = id->es_done = false;
    tnt__handle_acquire();
    *out = id;
    return TNT_OK;
}

void tnt_id_free(tnt_id *id)
{
    if (!id)
        return;
    tnt__free(id);
    tnt__handle_release();
}

/* Options to parse arguments; a message when they are invalid. */
static const char *read_options(const tnt_id_options *o, int *gcp, const tnt_gcp_table **table, unsigned *flags)
{
    *gcp = 0;
    *table = NULL;
    *flags = 0;
    if (!o)
        return NULL;
    if (o->version == 0 || o->version > TNT_ID_OPTIONS_VERSION)
        return "tnt_id_options.version must be TNT_ID_OPTIONS_VERSION";
    if (o->gcp_length != 0 && (o->gcp_length < 6 || o->gcp_length > 12))
        return "tnt_id_options.gcp_length must be 0 or 6..12";
    if (o->flags & ~(unsigned)TNT__ID_F_PUBLIC)
        return "tnt_id_options.flags has unknown bits";
    *gcp = o->gcp_length;
    *table = o->gcp_table;
    *flags = o->flags;
    return NULL;
}

/* Parse into p; on failure the thread-local error names the first fault. */
static tnt_status parse(tnt__idp *p, const char *text, size_t len, const tnt_id_options *opts)
{
    int gcp;
    const tnt_gcp_table *table;
    unsigned flags;
    const char *bad = read_options(opts, &gcp, &table, &flags);
    tnt_status st;
    if (bad) {
        tnt__id_reset(p, 0);
        tnt__id_fail(p, TNT__ID_ERR_OPTIONS, "%s", bad);
        st = TNT_E_INVALID;
    } else {
        st = tnt__id_parse(p, text, len, gcp, table, flags);
    }
    if (st != TNT_OK)
        tnt__error(st, "%s: %s", tnt__id_err_name(p->err[0].code), p->err[0].msg);
    return st;
}

tnt_status tnt_id_parse(tnt_id *id, const char *text, size_t len, const tnt_id_options *opts)
{
    if (!id || (!text && len))
        return tnt__error(TNT_E_MISUSE, "tnt_id_parse: NULL %s", id ? "text" : "handle");
    id->canon_done = id->es_done = false;
    id->status = parse(&id->p, text, len, opts);
    return id->status;
}

static bool valid(const tnt_id *id) { return id && id->status == TNT_OK; }

tnt_id_type tnt_id_get_type(const tnt_id *id) { return valid(id) ? id->p.type : TNT_ID_UNKNOWN; }
tnt_id_level tnt_id_get_level(const tnt_id *id) { return valid(id) ? id->p.level : TNT_ID_LEVEL_INSTANCE; }
tnt_id_form tnt_id_get_form(const tnt_id *id) { return id ? id->p.form : TNT_ID_FORM_NONE; }
int tnt_id_gcp_length(const tnt_id *id) { return valid(id) ? id->p.gcp_len : 0; }
const char *tnt_id_canonical(const tnt_id *id)
{
    if (!valid(id))
        return NULL;
    if (!id->canon_done) {
        tnt_id *m = (tnt_id *)id;
        /* Always fits: the cap bounds a key and qualifiers of valid lengths. */
        tnt__id_format_canonical(m->canon, sizeof m->canon, &m->p);
        m->canon_done = true;
    }
    return id->canon;
}

const char *tnt_id_element_string(const tnt_id *id)
{
    if (!valid(id))
        return NULL;
    if (!id->es_done) {
        tnt_id *m = (tnt_id *)id;
        tnt__id_format_element_string(m->es, sizeof m->es, &m->p);
        m->es_done = true;
    }
    return id->es;
}

tnt_status tnt_id_digital_link(char **out, const tnt_id *id, const char *stem)
{
    if (!out)
        return tnt__error(TNT_E_MISUSE, "tnt_id_digital_link: out is NULL");
    *out = NULL;
    if (!valid(id))
        return tnt__error(TNT_E_INVALID, "tnt_id_digital_link: no valid identifier parsed");
    size_t stem_len = 0;
    if (stem && !tnt__id_dl_stem(stem, &stem_len))
        return tnt__error(TNT_E_INVALID, "tnt_id_digital_link: stem '%.200s' is not http(s)://domain[/path]", stem);
    /* Each value may triple when percent-encoded; "/AI/" or "&AI=" adds 6. */
    size_t cap = (stem ? stem_len : 18) + 3 * id->p.vlen + 8 * id->p.nais + 32;
    char *buf = tnt__malloc(cap);
    if (!buf)
        return tnt__error(TNT_E_NOMEM, "tnt_id_digital_link: out of memory");
    if (!tnt__id_format_dl(buf, cap, &id->p, stem, stem_len)) {
        tnt__free(buf);
        return tnt__error(TNT_E_INVALID, "tnt_id_digital_link: output does not fit");
    }
    *out = buf;
    return TNT_OK;
}

tnt_status tnt_id_epc_urn(char **out, const tnt_id *id)
{
    if (!out)
        return tnt__error(TNT_E_MISUSE, "tnt_id_epc_urn: out is NULL");
    *out = NULL;
    if (!valid(id))
        return tnt__error(TNT_E_INVALID, "tnt_id_epc_urn: no valid identifier parsed");
    char buf[1024];
    size_t n;
    tnt_status st = tnt__id_format_urn(buf, sizeof buf, &n, &id->p);
    if (st != TNT_OK)
        return st;
    *out = tnt__strndup(buf, n);
    return *out ? TNT_OK : tnt__error(TNT_E_NOMEM, "tnt_id_epc_urn: out of memory");
}

size_t tnt_id_ai_count(const tnt_id *id) { return valid(id) ? id->p.nais : 0; }

tnt_status tnt_id_ai_at(const char **ai_out, const char **value_out, const tnt_id *id, size_t index)
{
    if (!valid(id) || index >= id->p.nais)
        return TNT_E_NOTFOUND;
    const tnt__id_ai *a = &id->p.ais[index];
    if (ai_out)
        *ai_out = a->code;
    if (value_out)
        *value_out = id->p.vals + a->off;
    return TNT_OK;
}

const char *tnt_id_get_ai(const tnt_id *id, const char *ai)
{
    return valid(id) && ai ? tnt__id_value(&id->p, ai) : NULL;
}

size_t tnt_id_error_count(const tnt_id *id)
{
    if (!id || id->status == TNT_OK)
        return 0;
    return id->p.nerr < TNT__ID_MAX_ERRORS ? id->p.nerr : TNT__ID_MAX_ERRORS;
}

tnt_status tnt_id_error_at(const char **code_out, const char **message_out, const tnt_id *id, size_t index)
{
    if (index >= tnt_id_error_count(id))
        return TNT_E_NOTFOUND;
    const tnt__id_error *e = &id->p.err[index];
    if (code_out)
        *code_out = tnt__id_err_name(e->code);
    if (message_out)
        *message_out = e->msg;
    return TNT_OK;
}

tnt_status tnt_id_normalize(char **out, const char *text, size_t len, const tnt_id_options *opts)
{
    if (!out || (!text && len))
        return tnt__error(TNT_E_MISUSE, "tnt_id_normalize: NULL argument");
    *out = NULL;
    tnt__idp p;
    tnt_status st = parse(&p, text, len, opts);
    if (st != TNT_OK)
        return st;
    char canon[TNT__ID_CANONICAL_CAP];
    size_t n = tnt__id_format_canonical(canon, sizeof canon, &p);
    if (!n)
        return tnt__error(TNT_E_INVALID, "ID_TOO_LONG: the canonical form does not fit");
    *out = tnt__strndup(canon, n);
    return *out ? TNT_OK : tnt__error(TNT_E_NOMEM, "tnt_id_normalize: out of memory");
}

int tnt_gs1_check_digit(const char *digits, size_t len)
{
    if (!digits || !len)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return -1;
    return tnt__mod10(digits, len);
}
