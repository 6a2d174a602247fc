/* EPCIS 2.0 JSON-LD event object -> the event model.
 *
 * Decoding is structural: every member is read into its typed field when it
 * has the JSON type the standard gives it, and a TYPE error is recorded when
 * it does not. The EPCIS rules (required fields, vocabularies, identifiers)
 * are checked afterwards, on the model, by validate.c. Members that are not
 * standard stay as trees, so nothing is lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/epcis.h"

typedef struct dec {
    tnt_event *ev;
    tnt__arena *a;
    const char *base;
    const tnt__ctx *ctx;
    tnt__prefix *local;   /* the event's own @context */
    size_t nlocal;
    bool unresolved;
    bool oom;
} dec;

/* ---- paths ---- */
static size_t path_len(const tnt__path *p)
{
    size_t n = 0;
    for (; p; p = p->up)
        n += p->key ? strlen(p->key) + 1 : 22;
    return n;
}

static char *path_fill(char *end, const tnt__path *p)
{
    for (; p; p = p->up) {
        if (p->key) {
            size_t k = strlen(p->key);
            end -= k;
            memcpy(end, p->key, k);
            *--end = '.';
        } else {
            char num[24];
            int k = snprintf(num, sizeof num, "[%zu]", p->index);
            end -= k;
            memcpy(end, num, (size_t)k);
        }
    }
    return end;
}

const char *tnt__path_str(tnt__arena *a, const char *base, const tnt__path *p)
{
    size_t blen = strlen(base), cap = blen + path_len(p) + 1;
    char *tmp = tnt__arena_alloc(a, cap);
    if (!tmp)
        return NULL;
    char *end = tmp + cap - 1;
    *end = '\0';
    char *start = path_fill(end, p);
    start -= blen;
    memcpy(start, base, blen);
    return start;
}

#define KEY(up_, k_) (&(tnt__path){(up_), (k_), 0})
#define IDX(up_, i_) (&(tnt__path){(up_), NULL, (i_)})

static void err(dec *d, const char *code, const tnt__path *p, const char *msg)
{
    const char *path = tnt__path_str(d->a, d->base, p);
    if (!path || !tnt__event_diag(d->ev, code, path, "%s", msg))
        d->oom = true;
}

static const char *kind_name(uint8_t k)
{
    static const char *const names[] = {"null", "false", "true", "a number", "a string", "an array", "an object"};
    return k <= TNT__N_OBJECT ? names[k] : "?";
}

static void type_err(dec *d, const tnt__path *p, const char *want, const tnt__node *n)
{
    char msg[96];
    snprintf(msg, sizeof msg, "expected %s, found %s", want, kind_name(n->kind));
    err(d, "TYPE", p, msg);
}

/* ---- member names ----
 * Every member is dispatched on its name's id; the lookup (the first
 * character, then the length, then one memcmp) replaces a strcmp against
 * each candidate. */
enum {
    K_OTHER = 0, /* not a name the decoder reads: an extension */
    K_CONTEXT, K_TYPE, K_EVENT_TIME, K_RECORD_TIME, K_EVENT_TIME_ZONE_OFFSET, K_EVENT_ID,
    K_CERTIFICATION_INFO, K_ERROR_DECLARATION, K_EPC_LIST, K_PARENT_ID, K_CHILD_EPCS, K_INPUT_EPC_LIST,
    K_OUTPUT_EPC_LIST, K_QUANTITY_LIST, K_CHILD_QUANTITY_LIST, K_INPUT_QUANTITY_LIST, K_OUTPUT_QUANTITY_LIST,
    K_TRANSFORMATION_ID, K_ACTION, K_BIZ_STEP, K_DISPOSITION, K_PERSISTENT_DISPOSITION, K_READ_POINT,
    K_BIZ_LOCATION, K_BIZ_TRANSACTION_LIST, K_SOURCE_LIST, K_DESTINATION_LIST, K_SENSOR_ELEMENT_LIST, K_ILMD,
    K_EPC_CLASS, K_QUANTITY, K_UOM, K_BIZ_TRANSACTION, K_SOURCE, K_DESTINATION, K_ID,
    K_SENSOR_METADATA, K_SENSOR_REPORT, K_TIME, K_START_TIME, K_END_TIME, K_DEVICE_ID, K_DEVICE_METADATA,
    K_RAW_DATA, K_DATA_PROCESSING_METHOD, K_BIZ_RULES, K_EXCEPTION, K_MICROORGANISM, K_CHEMICAL_SUBSTANCE,
    K_COORDINATE_REFERENCE_SYSTEM, K_COMPONENT, K_STRING_VALUE, K_HEX_BINARY_VALUE, K_URI_VALUE,
    K_BOOLEAN_VALUE, K_VALUE, K_MIN_VALUE, K_MAX_VALUE, K_MEAN_VALUE, K_SDEV, K_PERC_RANK, K_PERC_VALUE,
    K_DECLARATION_TIME, K_REASON, K_CORRECTIVE_EVENT_IDS, K_SET, K_UNSET
};

int tnt__epcis_key(const char *s, size_t n, const char **name)
{
#define IS(lit, id)                                                                                                    \
    if (n == sizeof lit - 1 && memcmp(s, lit, sizeof lit - 1) == 0)                                                    \
        return *name = lit, id;
    if (n == 0)
        return K_OTHER;
    switch (s[0]) {
    case '@': IS("@context", K_CONTEXT) break;
    case 'a': IS("action", K_ACTION) break;
    case 'b':
        IS("bizStep", K_BIZ_STEP) IS("bizLocation", K_BIZ_LOCATION) IS("bizTransactionList", K_BIZ_TRANSACTION_LIST)
        IS("bizTransaction", K_BIZ_TRANSACTION) IS("bizRules", K_BIZ_RULES) IS("booleanValue", K_BOOLEAN_VALUE)
        break;
    case 'c':
        IS("childEPCs", K_CHILD_EPCS) IS("childQuantityList", K_CHILD_QUANTITY_LIST)
        IS("certificationInfo", K_CERTIFICATION_INFO) IS("chemicalSubstance", K_CHEMICAL_SUBSTANCE)
        IS("coordinateReferenceSystem", K_COORDINATE_REFERENCE_SYSTEM) IS("component", K_COMPONENT)
        IS("correctiveEventIDs", K_CORRECTIVE_EVENT_IDS)
        break;
    case 'd':
        IS("disposition", K_DISPOSITION) IS("destinationList", K_DESTINATION_LIST) IS("destination", K_DESTINATION)
        IS("deviceID", K_DEVICE_ID) IS("deviceMetadata", K_DEVICE_METADATA)
        IS("dataProcessingMethod", K_DATA_PROCESSING_METHOD) IS("declarationTime", K_DECLARATION_TIME)
        break;
    case 'e':
        IS("eventTime", K_EVENT_TIME) IS("eventTimeZoneOffset", K_EVENT_TIME_ZONE_OFFSET) IS("eventID", K_EVENT_ID)
        IS("epcList", K_EPC_LIST) IS("errorDeclaration", K_ERROR_DECLARATION) IS("epcClass", K_EPC_CLASS)
        IS("exception", K_EXCEPTION) IS("endTime", K_END_TIME)
        break;
    case 'h': IS("hexBinaryValue", K_HEX_BINARY_VALUE) break;
    case 'i':
        IS("id", K_ID) IS("ilmd", K_ILMD) IS("inputEPCList", K_INPUT_EPC_LIST)
        IS("inputQuantityList", K_INPUT_QUANTITY_LIST)
        break;
    case 'm':
        IS("microorganism", K_MICROORGANISM) IS("minValue", K_MIN_VALUE) IS("maxValue", K_MAX_VALUE)
        IS("meanValue", K_MEAN_VALUE)
        break;
    case 'o': IS("outputEPCList", K_OUTPUT_EPC_LIST) IS("outputQuantityList", K_OUTPUT_QUANTITY_LIST) break;
    case 'p':
        IS("parentID", K_PARENT_ID) IS("persistentDisposition", K_PERSISTENT_DISPOSITION)
        IS("percRank", K_PERC_RANK) IS("percValue", K_PERC_VALUE)
        break;
    case 'q': IS("quantityList", K_QUANTITY_LIST) IS("quantity", K_QUANTITY) break;
    case 'r': IS("recordTime", K_RECORD_TIME) IS("readPoint", K_READ_POINT) IS("rawData", K_RAW_DATA) IS("reason", K_REASON) break;
    case 's':
        IS("sourceList", K_SOURCE_LIST) IS("source", K_SOURCE) IS("sensorElementList", K_SENSOR_ELEMENT_LIST)
        IS("sensorMetadata", K_SENSOR_METADATA) IS("sensorReport", K_SENSOR_REPORT) IS("startTime", K_START_TIME)
        IS("stringValue", K_STRING_VALUE) IS("sDev", K_SDEV) IS("set", K_SET)
        break;
    case 't': IS("type", K_TYPE) IS("transformationID", K_TRANSFORMATION_ID) IS("time", K_TIME) break;
    case 'u': IS("uom", K_UOM) IS("uriValue", K_URI_VALUE) IS("unset", K_UNSET) break;
    case 'v': IS("value", K_VALUE) break;
    }
#undef IS
    return K_OTHER;
}

/* A member's name id: the one the tree builder recorded, else looked up
 * (nodes from elsewhere carry 0; so do extensions, which look again). */
static int key_of(const tnt__node *m)
{
    const char *name;
    return m->key_id ? m->key_id : tnt__epcis_key(m->key, strlen(m->key), &name);
}

/* ---- namespaces ---- */
static const tnt__prefix defaults[] = {
    {"epcis", "https://ref.gs1.org/epcis/"},
    {"cbv", "https://ref.gs1.org/cbv/"},
    {"cbvmda", "urn:epcglobal:cbv:mda:"},
    {"gs1", "https://gs1.org/voc/"},
    {"rdfs", "http://www.w3.org/2000/01/rdf-schema#"},
    {"owl", "http://www.w3.org/2002/07/owl#"},
    {"xsd", "http://www.w3.org/2001/XMLSchema#"},
    {"dcterms", "http://purl.org/dc/terms/"},
};

static const char *find_prefix(const tnt__prefix *v, size_t n, const char *p, size_t len)
{
    for (size_t i = n; i-- > 0;) /* later declarations win */
        if (tnt__streq_n(v[i].prefix, p, len))
            return v[i].iri;
    return NULL;
}

const char *tnt__default_prefix(const char *prefix, size_t len)
{
    return find_prefix(defaults, sizeof defaults / sizeof defaults[0], prefix, len);
}

const char *tnt__ctx_resolve(const tnt__ctx *ctx, const tnt__prefix *local, size_t nlocal, const char *prefix,
                             size_t len)
{
    const char *iri = find_prefix(local, nlocal, prefix, len);
    if (!iri && ctx)
        iri = find_prefix(ctx->doc, ctx->ndoc, prefix, len);
    if (!iri)
        iri = tnt__default_prefix(prefix, len);
    return iri;
}

bool tnt__context_parse(tnt__arena *a, const tnt__node *c, tnt__prefix **out, size_t *n)
{
    if (!c)
        return true;
    if (c->kind == TNT__N_STRING)
        return true; /* a remote context: the EPCIS one, or one we do not fetch */
    if (c->kind == TNT__N_ARRAY) {
        bool ok = true;
        for (const tnt__node *k = c->child; k; k = k->next)
            ok = tnt__context_parse(a, k, out, n) && ok;
        return ok;
    }
    if (c->kind != TNT__N_OBJECT)
        return false;
    size_t add = 0;
    for (const tnt__node *k = c->child; k; k = k->next)
        add += k->kind == TNT__N_STRING && k->key[0] != '@';
    tnt__prefix *v = tnt__arena_alloc(a, (*n + add) * sizeof *v + 1);
    if (!v)
        return false;
    if (*n)
        memcpy(v, *out, *n * sizeof *v);
    bool ok = true;
    for (const tnt__node *k = c->child; k; k = k->next) {
        if (k->key[0] == '@')
            continue; /* @vocab, @base, ...: keywords, not prefixes */
        if (k->kind == TNT__N_STRING)
            v[(*n)++] = (tnt__prefix){k->key, k->str};
        else
            ok = false; /* expanded term definitions are not used by EPCIS documents */
    }
    *out = v;
    return ok;
}

/* Set the namespace of every prefixed key in a tree. */
static void resolve_tree(dec *d, tnt__node *n)
{
    if (n->key) {
        const char *colon = strchr(n->key, ':');
        size_t len = colon ? (size_t)(colon - n->key) : 0;
        bool absolute = len && (strncmp(colon, "://", 3) == 0 || (len == 3 && strncmp(n->key, "urn", 3) == 0));
        if (len && !absolute) {
            n->ns = tnt__ctx_resolve(d->ctx, d->local, d->nlocal, n->key, len);
            if (!n->ns)
                d->unresolved = true;
        }
    }
    for (tnt__node *c = n->child; c; c = c->next)
        resolve_tree(d, c);
}

/* Move a non-standard member into an extension object. */
static void keep_ext(dec *d, tnt__node **ext, tnt__node *member)
{
    if (!*ext && !(*ext = tnt__node_new(d->a, TNT__N_OBJECT, NULL, NULL))) {
        d->oom = true;
        return;
    }
    resolve_tree(d, member);
    tnt__node_append(*ext, member);
}

/* ---- typed values ---- */
static const char *str_of(dec *d, const tnt__node *n, const tnt__path *p)
{
    if (n->kind == TNT__N_STRING)
        return n->str;
    type_err(d, p, "a string", n);
    return NULL;
}

static void time_of(dec *d, tnt__time *t, const tnt__node *n, const tnt__path *p)
{
    const char *s = str_of(d, n, p);
    if (s && !tnt__time_parse(t, s)) {
        char msg[160];
        snprintf(msg, sizeof msg, "invalid timestamp '%.80s': expected YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)", s);
        err(d, "FORMAT", p, msg);
    }
}

static bool num_of(dec *d, double *out, const tnt__node *n, const tnt__path *p)
{
    if (n->kind != TNT__N_NUMBER) {
        type_err(d, p, "a number", n);
        return false;
    }
    if (!tnt__num_parse(out, n->str)) {
        err(d, "RANGE", p, "number out of range");
        return false;
    }
    return true;
}

static void strs_of(dec *d, tnt__strs *out, const tnt__node *n, const tnt__path *p)
{
    if (n->kind != TNT__N_ARRAY) {
        type_err(d, p, "an array of strings", n);
        return;
    }
    out->n = 0;
    out->v = tnt__arena_alloc(d->a, (n->count ? n->count : 1) * sizeof *out->v);
    if (!out->v) {
        d->oom = true;
        return;
    }
    size_t i = 0;
    for (const tnt__node *k = n->child; k; k = k->next, i++) {
        const char *s = str_of(d, k, IDX(p, i));
        if (s)
            out->v[out->n++] = s;
    }
}

static void qtys_of(dec *d, tnt__qtys *out, const tnt__node *n, const tnt__path *p)
{
    if (n->kind != TNT__N_ARRAY) {
        type_err(d, p, "an array of quantity elements", n);
        return;
    }
    out->n = 0;
    out->v = tnt__arena_zalloc(d->a, (n->count ? n->count : 1) * sizeof *out->v);
    if (!out->v) {
        d->oom = true;
        return;
    }
    size_t i = 0;
    for (const tnt__node *k = n->child; k; k = k->next, i++) {
        const tnt__path *ip = IDX(p, i);
        if (k->kind != TNT__N_OBJECT) {
            type_err(d, ip, "a quantity element object", k);
            continue;
        }
        tnt__qty *q = &out->v[out->n++];
        for (tnt__node *m = k->child, *next; m; m = next) {
            next = m->next;
            switch (key_of(m)) {
            case K_EPC_CLASS: q->epc_class = str_of(d, m, KEY(ip, m->key)); break;
            case K_QUANTITY: q->has_quantity = num_of(d, &q->quantity, m, KEY(ip, m->key)); break;
            case K_UOM: q->uom = str_of(d, m, KEY(ip, m->key)); break;
            default: keep_ext(d, &q->ext, m);
            }
        }
    }
}

static void refs_of(dec *d, tnt__refs *out, const tnt__node *n, const tnt__path *p, int value_key)
{
    if (n->kind != TNT__N_ARRAY) {
        type_err(d, p, "an array of objects", n);
        return;
    }
    out->n = 0;
    out->v = tnt__arena_zalloc(d->a, (n->count ? n->count : 1) * sizeof *out->v);
    if (!out->v) {
        d->oom = true;
        return;
    }
    size_t i = 0;
    for (const tnt__node *k = n->child; k; k = k->next, i++) {
        const tnt__path *ip = IDX(p, i);
        if (k->kind != TNT__N_OBJECT) {
            type_err(d, ip, "an object", k);
            continue;
        }
        tnt__ref *r = &out->v[out->n++];
        for (tnt__node *m = k->child, *next; m; m = next) {
            next = m->next;
            int key = key_of(m);
            if (key == K_TYPE)
                r->type = str_of(d, m, KEY(ip, m->key));
            else if (key == value_key)
                r->value = str_of(d, m, KEY(ip, m->key));
            else
                keep_ext(d, &r->ext, m);
        }
    }
}

/* A location: {"id": uri, ...extensions}. */
static void place_of(dec *d, const char **id, tnt__node **ext, const tnt__node *n, const tnt__path *p)
{
    if (n->kind != TNT__N_OBJECT) {
        type_err(d, p, "an object with an \"id\"", n);
        return;
    }
    for (tnt__node *m = n->child, *next; m; m = next) {
        next = m->next;
        if (key_of(m) == K_ID)
            *id = str_of(d, m, KEY(p, "id"));
        else
            keep_ext(d, ext, m);
    }
}

static void smeta_of(dec *d, tnt__smeta *s, const tnt__node *n, const tnt__path *p)
{
    for (tnt__node *m = n->child, *next; m; m = next) {
        next = m->next;
        const tnt__path *mp = KEY(p, m->key);
        switch (key_of(m)) {
        case K_TIME: time_of(d, &s->time, m, mp); break;
        case K_START_TIME: time_of(d, &s->start_time, m, mp); break;
        case K_END_TIME: time_of(d, &s->end_time, m, mp); break;
        case K_DEVICE_ID: s->device_id = str_of(d, m, mp); break;
        case K_DEVICE_METADATA: s->device_metadata = str_of(d, m, mp); break;
        case K_RAW_DATA: s->raw_data = str_of(d, m, mp); break;
        case K_DATA_PROCESSING_METHOD: s->data_processing_method = str_of(d, m, mp); break;
        case K_BIZ_RULES: s->biz_rules = str_of(d, m, mp); break;
        default: keep_ext(d, &s->ext, m);
        }
    }
}

/* The string fields of a sensor report, by member name. */
static const char **report_str(tnt__sreport *r, int k)
{
    switch (k) {
    case K_TYPE: return &r->type;
    case K_EXCEPTION: return &r->exception;
    case K_DEVICE_ID: return &r->device_id;
    case K_DEVICE_METADATA: return &r->device_metadata;
    case K_RAW_DATA: return &r->raw_data;
    case K_DATA_PROCESSING_METHOD: return &r->data_processing_method;
    case K_BIZ_RULES: return &r->biz_rules;
    case K_MICROORGANISM: return &r->microorganism;
    case K_CHEMICAL_SUBSTANCE: return &r->chemical_substance;
    case K_COORDINATE_REFERENCE_SYSTEM: return &r->coordinate_reference_system;
    case K_COMPONENT: return &r->component;
    case K_STRING_VALUE: return &r->string_value;
    case K_HEX_BINARY_VALUE: return &r->hex_binary_value;
    case K_URI_VALUE: return &r->uri_value;
    case K_UOM: return &r->uom;
    default: return NULL;
    }
}

/* The numeric fields of a sensor report (TNT__SR_*), by member name; -1 for others. */
static int report_num(int k)
{
    switch (k) {
    case K_VALUE: return TNT__SR_VALUE;
    case K_MIN_VALUE: return TNT__SR_MIN;
    case K_MAX_VALUE: return TNT__SR_MAX;
    case K_MEAN_VALUE: return TNT__SR_MEAN;
    case K_SDEV: return TNT__SR_SDEV;
    case K_PERC_RANK: return TNT__SR_PERC_RANK;
    case K_PERC_VALUE: return TNT__SR_PERC_VALUE;
    default: return -1;
    }
}

static void sreport_of(dec *d, tnt__sreport *r, const tnt__node *n, const tnt__path *p)
{
    r->boolean_value = -1;
    for (tnt__node *m = n->child, *next; m; m = next) {
        next = m->next;
        const tnt__path *mp = KEY(p, m->key);
        int k = key_of(m), ix = report_num(k);
        const char **sf = report_str(r, k);
        if (sf) {
            *sf = str_of(d, m, mp);
        } else if (k == K_TIME) {
            time_of(d, &r->time, m, mp);
        } else if (k == K_BOOLEAN_VALUE) {
            if (m->kind == TNT__N_TRUE || m->kind == TNT__N_FALSE)
                r->boolean_value = m->kind == TNT__N_TRUE;
            else
                type_err(d, mp, "true or false", m);
        } else if (ix >= 0) {
            if (num_of(d, &r->num[ix], m, mp))
                r->has_num |= (uint8_t)(1u << ix);
        } else {
            keep_ext(d, &r->ext, m);
        }
    }
}

static void sensors_of(dec *d, tnt_event *ev, const tnt__node *n, const tnt__path *p)
{
    if (n->kind != TNT__N_ARRAY) {
        type_err(d, p, "an array of sensor elements", n);
        return;
    }
    ev->n_sensors = 0;
    ev->sensors = tnt__arena_zalloc(d->a, (n->count ? n->count : 1) * sizeof *ev->sensors);
    if (!ev->sensors) {
        d->oom = true;
        return;
    }
    size_t i = 0;
    for (const tnt__node *k = n->child; k; k = k->next, i++) {
        const tnt__path *ip = IDX(p, i);
        if (k->kind != TNT__N_OBJECT) {
            type_err(d, ip, "a sensor element object", k);
            continue;
        }
        tnt__sensor *s = &ev->sensors[ev->n_sensors++];
        for (tnt__node *m = k->child, *next; m; m = next) {
            next = m->next;
            const tnt__path *mp = KEY(ip, m->key);
            int key = key_of(m);
            if (key == K_SENSOR_METADATA) {
                if (m->kind == TNT__N_OBJECT) {
                    s->has_meta = true;
                    smeta_of(d, &s->meta, m, mp);
                } else {
                    type_err(d, mp, "an object", m);
                }
            } else if (key == K_SENSOR_REPORT) {
                if (m->kind != TNT__N_ARRAY) {
                    type_err(d, mp, "an array of sensor reports", m);
                    continue;
                }
                s->n_reports = 0;
                s->reports = tnt__arena_zalloc(d->a, (m->count ? m->count : 1) * sizeof *s->reports);
                if (!s->reports) {
                    d->oom = true;
                    return;
                }
                size_t j = 0;
                for (const tnt__node *r = m->child; r; r = r->next, j++) {
                    if (r->kind != TNT__N_OBJECT)
                        type_err(d, IDX(mp, j), "a sensor report object", r);
                    else
                        sreport_of(d, &s->reports[s->n_reports++], r, IDX(mp, j));
                }
            } else {
                keep_ext(d, &s->ext, m);
            }
        }
    }
}

static void errdecl_of(dec *d, tnt_event *ev, const tnt__node *n, const tnt__path *p)
{
    if (n->kind != TNT__N_OBJECT) {
        type_err(d, p, "an object", n);
        return;
    }
    tnt__errdecl *e = ev->error_decl = tnt__arena_zalloc(d->a, sizeof *e);
    if (!e) {
        d->oom = true;
        return;
    }
    for (tnt__node *m = n->child, *next; m; m = next) {
        next = m->next;
        const tnt__path *mp = KEY(p, m->key);
        switch (key_of(m)) {
        case K_DECLARATION_TIME: time_of(d, &e->declaration_time, m, mp); break;
        case K_REASON: e->reason = str_of(d, m, mp); break;
        case K_CORRECTIVE_EVENT_IDS: strs_of(d, &e->corrective_ids, m, mp); break;
        default: keep_ext(d, &e->ext, m);
        }
    }
}

static void pd_of(dec *d, tnt_event *ev, tnt__node *n, const tnt__path *p)
{
    if (n->kind != TNT__N_OBJECT) {
        type_err(d, p, "an object with \"set\" and/or \"unset\"", n);
        return;
    }
    ev->has_pd = true;
    for (tnt__node *m = n->child, *next; m; m = next) {
        next = m->next;
        int k = key_of(m);
        if (k == K_SET)
            strs_of(d, &ev->pd_set, m, KEY(p, "set"));
        else if (k == K_UNSET)
            strs_of(d, &ev->pd_unset, m, KEY(p, "unset"));
        else
            err(d, "NOT_ALLOWED", KEY(p, m->key), "persistentDisposition holds only \"set\" and \"unset\"");
    }
}

typedef struct slot {
    tnt__node *node;
    size_t pos;
} slot;

static int slot_cmp(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    int c = strcmp(x->node->key, y->node->key);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Whether a later member of the same object has m's name. Two names the
 * tree builder knew are the same exactly when their ids are. */
static bool named_again(const tnt__node *m)
{
    for (const tnt__node *c = m->next; c; c = c->next) {
        if (c->key_id && m->key_id) {
            if (c->key_id == m->key_id)
                return true;
        } else if (c->key[0] == m->key[0] && strcmp(c->key, m->key) == 0) {
            return true;
        }
    }
    return false;
}

/* Small objects (nearly all of them) are searched pair by pair, with no
 * allocation; large ones are sorted, so that a member list of 100,000 stays
 * O(n log n). */
#define DEDUP_PAIRWISE 16

static void dedup_small(tnt__node *n)
{
    tnt__node *c = n->child;
    n->child = n->last = NULL;
    n->count = 0;
    while (c) {
        tnt__node *next = c->next;
        if (!named_again(c)) /* looks at the members not yet moved */
            tnt__node_append(n, c);
        c = next;
    }
}

static bool any_named_again(const tnt__node *n)
{
    for (const tnt__node *c = n->child; c; c = c->next)
        if (named_again(c))
            return true;
    return false;
}

static void dedup_sorted(dec *d, tnt__node *n)
{
    slot *v = tnt__malloc(n->count * sizeof *v);
    bool *drop = tnt__calloc(n->count, sizeof *drop);
    if (!v || !drop) {
        tnt__free(v);
        tnt__free(drop);
        d->oom = true;
        return;
    }
    size_t k = 0;
    for (tnt__node *c = n->child; c; c = c->next, k++)
        v[k] = (slot){c, k};
    qsort(v, k, sizeof *v, slot_cmp);
    for (size_t i = 1; i < k; i++)
        if (strcmp(v[i - 1].node->key, v[i].node->key) == 0)
            drop[v[i - 1].pos] = true;
    tnt__node *c = n->child;
    n->child = n->last = NULL;
    n->count = 0;
    for (size_t i = 0; c; i++) {
        tnt__node *next = c->next;
        if (!drop[i])
            tnt__node_append(n, c);
        c = next;
    }
    tnt__free(v);
    tnt__free(drop);
}

/* Keep only the last of the members that share a name, in every object of
 * the tree. JSON leaves their meaning open; JavaScript and Python (and so
 * the reference event hash) keep the last, and GS1's own examples rely on it
 * (AssociationEvent-h has two eventIDs). */
static void dedup(dec *d, tnt__node *n)
{
    if (n->kind == TNT__N_OBJECT && n->count > DEDUP_PAIRWISE)
        dedup_sorted(d, n);
    else if (n->kind == TNT__N_OBJECT && n->count > 1 && any_named_again(n))
        dedup_small(n);
    for (tnt__node *c = n->child; c && !d->oom; c = c->next)
        dedup(d, c);
}

static uint8_t type_of(const char *s)
{
    static const char *const names[] = {NULL, "ObjectEvent", "AggregationEvent", "TransactionEvent",
                                        "TransformationEvent", "AssociationEvent"};
    for (uint8_t i = 1; i < 6; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return TNT_EVENT_UNKNOWN;
}

static void action_of(dec *d, tnt_event *ev, const tnt__node *n, const tnt__path *p)
{
    const char *s = str_of(d, n, p);
    if (!s)
        return;
    if (strcmp(s, "ADD") == 0)
        ev->action = TNT_ACTION_ADD;
    else if (strcmp(s, "OBSERVE") == 0)
        ev->action = TNT_ACTION_OBSERVE;
    else if (strcmp(s, "DELETE") == 0)
        ev->action = TNT_ACTION_DELETE;
    else
        err(d, "VOCABULARY", p, "action must be ADD, OBSERVE or DELETE");
}

/* Lists by member name, with the flag that records their presence. */
typedef enum { L_STRS, L_QTYS, L_REFS } lkind;
typedef struct {
    int key;
    lkind kind;
    size_t off;
    uint32_t flag;
    int value_key;
} listdef;

static const listdef lists[] = {
    {K_EPC_LIST, L_STRS, offsetof(tnt_event, epc_list), TNT__P_EPC_LIST, 0},
    {K_CHILD_EPCS, L_STRS, offsetof(tnt_event, child_epcs), TNT__P_CHILD_EPCS, 0},
    {K_INPUT_EPC_LIST, L_STRS, offsetof(tnt_event, input_epcs), TNT__P_INPUT_EPCS, 0},
    {K_OUTPUT_EPC_LIST, L_STRS, offsetof(tnt_event, output_epcs), TNT__P_OUTPUT_EPCS, 0},
    {K_QUANTITY_LIST, L_QTYS, offsetof(tnt_event, quantity_list), TNT__P_QUANTITY_LIST, 0},
    {K_CHILD_QUANTITY_LIST, L_QTYS, offsetof(tnt_event, child_quantity_list), TNT__P_CHILD_QUANTITY, 0},
    {K_INPUT_QUANTITY_LIST, L_QTYS, offsetof(tnt_event, input_quantity_list), TNT__P_INPUT_QUANTITY, 0},
    {K_OUTPUT_QUANTITY_LIST, L_QTYS, offsetof(tnt_event, output_quantity_list), TNT__P_OUTPUT_QUANTITY, 0},
    {K_BIZ_TRANSACTION_LIST, L_REFS, offsetof(tnt_event, biz_transactions), TNT__P_BIZ_TRANSACTIONS, K_BIZ_TRANSACTION},
    {K_SOURCE_LIST, L_REFS, offsetof(tnt_event, sources), TNT__P_SOURCES, K_SOURCE},
    {K_DESTINATION_LIST, L_REFS, offsetof(tnt_event, destinations), TNT__P_DESTINATIONS, K_DESTINATION},
};

static bool list_member(dec *d, tnt_event *ev, int key, const tnt__node *m, const tnt__path *mp)
{
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        if (lists[i].key != key)
            continue;
        void *field = (char *)ev + lists[i].off;
        ev->present |= lists[i].flag;
        if (lists[i].kind == L_STRS)
            strs_of(d, field, m, mp);
        else if (lists[i].kind == L_QTYS)
            qtys_of(d, field, m, mp);
        else
            refs_of(d, field, m, mp, lists[i].value_key);
        return true;
    }
    return false;
}

/* Single strings by member name. */
static const char **string_member(tnt_event *ev, int k)
{
    switch (k) {
    case K_EVENT_TIME_ZONE_OFFSET: return &ev->event_time_zone_offset;
    case K_EVENT_ID: return &ev->event_id;
    case K_PARENT_ID: return &ev->parent_id;
    case K_TRANSFORMATION_ID: return &ev->transformation_id;
    case K_BIZ_STEP: return &ev->biz_step;
    case K_DISPOSITION: return &ev->disposition;
    default: return NULL;
    }
}

static void certification_of(dec *d, tnt_event *ev, const tnt__node *m, const tnt__path *mp)
{
    if (m->kind == TNT__N_ARRAY) {
        ev->present |= TNT__P_CERT_LIST;
        strs_of(d, &ev->certification_info, m, mp);
    } else if (m->kind == TNT__N_STRING) {
        ev->certification_info.n = 0;
        ev->certification_info.v = tnt__arena_alloc(d->a, sizeof(char *));
        if (!ev->certification_info.v)
            d->oom = true;
        else
            ev->certification_info.v[ev->certification_info.n++] = m->str;
    } else {
        type_err(d, mp, "a URI or an array of URIs", m);
    }
}

static void ilmd_of(dec *d, tnt_event *ev, tnt__node *m, const tnt__path *mp)
{
    ev->present |= TNT__P_ILMD;
    if (m->kind == TNT__N_OBJECT) {
        resolve_tree(d, m);
        ev->ilmd = m;
        m->next = NULL;
    } else {
        type_err(d, mp, "an object", m);
    }
}

static void member(dec *d, tnt_event *ev, tnt__node *m, const tnt__path *ep)
{
    const char *k = m->key;
    const tnt__path *mp = KEY(ep, k);
    int key = key_of(m);
    const char **sf = string_member(ev, key);
    if (sf) {
        *sf = str_of(d, m, mp);
        return;
    }
    if (list_member(d, ev, key, m, mp))
        return;
    switch (key) {
    case K_EVENT_TIME: time_of(d, &ev->event_time, m, mp); break;
    case K_RECORD_TIME: time_of(d, &ev->record_time, m, mp); break;
    case K_ACTION: action_of(d, ev, m, mp); break;
    case K_CERTIFICATION_INFO: certification_of(d, ev, m, mp); break;
    case K_ERROR_DECLARATION: errdecl_of(d, ev, m, mp); break;
    case K_PERSISTENT_DISPOSITION: pd_of(d, ev, m, mp); break;
    case K_READ_POINT:
        ev->present |= TNT__P_READ_POINT;
        place_of(d, &ev->read_point, &ev->read_point_ext, m, mp);
        break;
    case K_BIZ_LOCATION:
        ev->present |= TNT__P_BIZ_LOCATION;
        place_of(d, &ev->biz_location, &ev->biz_location_ext, m, mp);
        break;
    case K_SENSOR_ELEMENT_LIST:
        ev->present |= TNT__P_SENSORS;
        sensors_of(d, ev, m, mp);
        break;
    case K_ILMD: ilmd_of(d, ev, m, mp); break;
    default: keep_ext(d, &ev->ext, m);
    }
}

bool tnt__epcis_decode(tnt_event *ev, tnt__node *root, const char *path, const tnt__ctx *ctx, bool *unresolved)
{
    dec d = {ev, ev->arena, path, ctx, NULL, 0, false, false};
    const tnt__path *ep = NULL;
    ev->source_path = path;
    if (root->kind != TNT__N_OBJECT) {
        char msg[64];
        snprintf(msg, sizeof msg, "an event must be a JSON object, found %s", kind_name(root->kind));
        err(&d, "TYPE", ep, msg);
        return !d.oom;
    }
    dedup(&d, root);
    if (d.oom)
        return false;
    /* The event's own @context and its type come first, wherever they are. */
    tnt__node *c = NULL, *t = NULL;
    for (tnt__node *m = root->child; m; m = m->next) {
        int k = key_of(m);
        if (k == K_CONTEXT && !c)
            c = m;
        else if (k == K_TYPE && !t)
            t = m;
    }
    if (c && !tnt__context_parse(d.a, c, &d.local, &d.nlocal))
        err(&d, "CONTEXT", KEY(ep, "@context"), "unsupported @context: expected URLs and prefix objects");
    /* The event carries the prefixes declared for it, so it stays
     * self-describing once it leaves its document. */
    for (size_t i = 0; ctx && i < ctx->ndoc; i++)
        if (!tnt__event_add_prefix(ev, ctx->doc[i].prefix, ctx->doc[i].iri))
            return false;
    for (size_t i = 0; i < d.nlocal; i++)
        if (!tnt__event_add_prefix(ev, d.local[i].prefix, d.local[i].iri))
            return false;
    if (!t) {
        err(&d, "REQUIRED", KEY(ep, "type"), "the event has no \"type\"");
    } else if (t->kind != TNT__N_STRING) {
        type_err(&d, KEY(ep, "type"), "a string", t);
    } else if ((ev->type = type_of(t->str)) == TNT_EVENT_UNKNOWN) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "unknown event type '%.80s': expected ObjectEvent, AggregationEvent, TransactionEvent, "
                 "TransformationEvent or AssociationEvent",
                 t->str);
        err(&d, "EVENT_TYPE", KEY(ep, "type"), msg);
    }
    for (tnt__node *m = root->child, *next; m; m = next) {
        next = m->next;
        if (m == t)
            continue;
        if (m == c) { /* kept as it was written: it is part of the event */
            keep_ext(&d, &ev->ext, m);
            continue;
        }
        member(&d, ev, m, ep);
        if (d.oom)
            return false;
    }
    *unresolved = d.unresolved;
    return !d.oom;
}
