/* Status table and the thread-local last error. */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "tnt/version.h"

static const tnt_status_desc g_descs[] = {
#define XX(name, value, text) {value, "TNT_" #name, text},
    TNT_STATUS_MAP(XX)
#undef XX
};

#define NDESCS (sizeof g_descs / sizeof g_descs[0])

static const tnt_status_desc *find_desc(tnt_status s)
{
    for (size_t i = 0; i < NDESCS; i++)
        if (g_descs[i].code == s)
            return &g_descs[i];
    return NULL;
}

const char *tnt_status_str(tnt_status s)
{
    const tnt_status_desc *d = find_desc(s);
    return d ? d->text : "unknown status code";
}

const char *tnt_status_name(tnt_status s)
{
    const tnt_status_desc *d = find_desc(s);
    return d ? d->name : "TNT_E_UNKNOWN";
}

tnt_status tnt_status_descs(const tnt_status_desc **descs_out, size_t *count_out)
{
    if (!descs_out || !count_out)
        return TNT_E_MISUSE;
    *descs_out = g_descs;
    *count_out = NDESCS;
    return TNT_OK;
}

static _Thread_local char t_msg[1024];
static _Thread_local tnt_status t_code;

tnt_status tnt__error_v(tnt_status status, const char *fmt, va_list ap)
{
    /* Formatted aside first: the arguments may be the last message itself
     * (tnt__error(st, "...: %s", tnt_error_last())), and vsnprintf must not
     * write over what it reads. */
    char msg[sizeof t_msg];
    if (fmt)
        vsnprintf(msg, sizeof msg, fmt, ap);
    else
        snprintf(msg, sizeof msg, "%s", tnt_status_str(status));
    memcpy(t_msg, msg, sizeof msg);
    t_code = status;
    return status;
}

tnt_status tnt__error(tnt_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tnt__error_v(status, fmt, ap);
    va_end(ap);
    return status;
}

void tnt__error_clear(void)
{
    t_code = TNT_OK;
    t_msg[0] = '\0';
}

const char *tnt_error_last(void) { return t_msg; }
tnt_status tnt_error_last_code(void) { return t_code; }

int tnt_version_number(void) { return TNT_VERSION_NUMBER; }
const char *tnt_version_string(void) { return TNT_VERSION_STRING; }
const char *tnt_features(void) { return "ids,json,report,protobuf,validate,normalize,hash"; }
