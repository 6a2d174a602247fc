/* Normalisation: one canonical form per value, so the same unit, step or
 * reading is one key whatever form it arrived in.
 *  - GS1 identifiers -> canonical Digital Link (or EPC URN where asked and possible)
 *  - CBV values -> bare names; custom URIs stay as they are
 *  - times -> UTC (eventTimeZoneOffset keeps the original offset)
 *  - sensor readings -> one canonical unit per measurement type (°F -> °C, ...) */
#include <string.h>

#include "ingest/cbv.h"
#include "ingest/pipeline.h"
#include "ingest/units.h"
#include "tnt/ids.h"

typedef struct norm {
    tnt_event *ev;
    const tnt__pipeline *p;
    bool oom;
} norm;

/* A GS1 identifier to its canonical form; anything else (or an invalid
 * identifier, which validation reports) stays as it is. */
static void id(norm *n, const char **s)
{
    const tnt__pipeline *p = n->p;
    if (!*s || !p->idp)
        return;
    const char *canon = NULL;
    char *urn = NULL;
    bool in_arena = false;
    if (p->epc_format != TNT_EPC_FORMAT_URN && tnt__idmemo_get(p->ids_seen, *s, &canon)) {
        in_arena = true; /* validation parsed it */
    } else if (tnt_id_parse(p->idp, *s, strlen(*s), p->ids) == TNT_OK) {
        canon = tnt_id_canonical(p->idp);
        if (p->epc_format == TNT_EPC_FORMAT_URN && tnt_id_epc_urn(&urn, p->idp) == TNT_OK)
            canon = urn;
    }
    if (canon && canon != *s && strcmp(canon, *s) != 0) {
        const char *copy = in_arena ? canon : tnt__arena_strdup(n->ev->arena, canon);
        if (copy)
            *s = copy;
        else
            n->oom = true;
    }
    tnt_free(urn);
}

static void ids(norm *n, tnt__strs *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        id(n, &l->v[i]);
}

static void qtys(norm *n, tnt__qtys *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        id(n, &l->v[i].epc_class);
}

static void cbv(int vocab, const char **s)
{
    const char *bare;
    if (*s && tnt__cbv_lookup(vocab, *s, &bare) == TNT__CBV_STANDARD)
        *s = bare;
}

static void refs(norm *n, tnt__refs *l, int vocab)
{
    for (uint32_t i = 0; i < l->n; i++) {
        cbv(vocab, &l->v[i].type);
        id(n, &l->v[i].value);
    }
}

static void utc(tnt__time *t) { t->off = 0; }

static void report(norm *n, tnt__sreport *r)
{
    cbv(TNT__V_MEASURE, &r->type);
    cbv(TNT__V_ALERT, &r->exception);
    cbv(TNT__V_COMPONENT, &r->component);
    utc(&r->time);
    if (!r->type || !r->uom)
        return;
    const tnt__unit *u = tnt__unit_find(r->uom);
    if (!u || strcmp(u->measure, r->type) != 0 || strcmp(u->code, u->canon) == 0)
        return;
    double v[TNT__SR_NUMS];
    for (int i = 0; i < TNT__SR_NUMS; i++) {
        v[i] = r->num[i];
        if (!((r->has_num >> i) & 1) || i == TNT__SR_PERC_RANK)
            continue;
        /* A spread scales but does not shift. */
        v[i] = r->num[i] * u->factor + (i == TNT__SR_SDEV ? 0 : u->offset);
        if (!(v[i] - v[i] == 0))
            return; /* past a double in the canonical unit (1e307 t in kg): kept as sent */
    }
    memcpy(r->num, v, sizeof v);
    r->uom = u->canon;
}

bool tnt__normalize(tnt_event *ev, const tnt__pipeline *p)
{
    norm n = {ev, p, false};
    utc(&ev->event_time);
    utc(&ev->record_time);
    if (ev->error_decl) {
        utc(&ev->error_decl->declaration_time);
        cbv(TNT__V_ER, &ev->error_decl->reason);
    }
    ids(&n, &ev->epc_list);
    ids(&n, &ev->child_epcs);
    ids(&n, &ev->input_epcs);
    ids(&n, &ev->output_epcs);
    id(&n, &ev->parent_id);
    qtys(&n, &ev->quantity_list);
    qtys(&n, &ev->child_quantity_list);
    qtys(&n, &ev->input_quantity_list);
    qtys(&n, &ev->output_quantity_list);
    cbv(TNT__V_BIZSTEP, &ev->biz_step);
    cbv(TNT__V_DISP, &ev->disposition);
    for (uint32_t i = 0; i < ev->pd_set.n; i++)
        cbv(TNT__V_DISP, &ev->pd_set.v[i]);
    for (uint32_t i = 0; i < ev->pd_unset.n; i++)
        cbv(TNT__V_DISP, &ev->pd_unset.v[i]);
    id(&n, &ev->read_point);
    id(&n, &ev->biz_location);
    refs(&n, &ev->biz_transactions, TNT__V_BTT);
    refs(&n, &ev->sources, TNT__V_SDT);
    refs(&n, &ev->destinations, TNT__V_SDT);
    for (uint32_t i = 0; i < ev->n_sensors; i++) {
        tnt__sensor *s = &ev->sensors[i];
        utc(&s->meta.time);
        utc(&s->meta.start_time);
        utc(&s->meta.end_time);
        for (uint32_t j = 0; j < s->n_reports; j++)
            report(&n, &s->reports[j]);
    }
    return !n.oom;
}

bool tnt__pipeline_run(tnt_event *ev, const tnt__pipeline *p)
{
    /* The hash is the event's identity as its sender wrote it: computed before
     * normalisation changes units (it canonicalises identifiers itself). */
    tnt__idmemo_clear(p->ids_seen);
    if ((p->flags & TNT_READ_VALIDATE) && !tnt__validate(ev, p))
        return false;
    if ((p->flags & TNT_READ_HASH) && ev->type != TNT_EVENT_UNKNOWN && !tnt__hash(ev, p))
        return false;
    if (p->flags & TNT_READ_NORMALIZE)
        return tnt__normalize(ev, p);
    return true;
}
