/* The engine and its event log: durable appends, and recovery after a crash. */
#include <string.h>

#include "engine/engine.h"

static void ack(void *ud, size_t index, tnt_status status, int partition, int64_t offset)
{
    tnt__effect *fx = (tnt__effect *)ud + index;
    fx->log_status = status;
    fx->partition = partition;
    fx->offset = offset;
}

tnt_status tnt__log_write(tnt_engine *e, tnt__effect *fx, size_t n, const char *const *keys)
{
    if (!n)
        return TNT_OK;
    tnt_log_record *recs = tnt__malloc(n * sizeof *recs);
    if (!recs)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        recs[i] = (tnt_log_record){keys[i], strlen(keys[i]), fx[i].record, fx[i].record_len, fx[i].time_ms};
        fx[i].log_status = TNT_E_TIMEOUT; /* until acknowledged */
        fx[i].partition = -1;
    }
    tnt_status st = e->log->methods->append(e->log, recs, n, ack, fx);
    tnt__free(recs);
    if (st == TNT_OK)
        st = e->log->methods->flush(e->log, -1);
    atomic_fetch_add(&e->n.log_flushes, 1);
    if (st != TNT_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if (fx[i].log_status != TNT_OK)
            return tnt__error(fx[i].log_status, "the event log did not store an event: %s",
                              tnt_status_str(fx[i].log_status));
    return TNT_OK;
}

static tnt_status read_mark(tnt_engine *e, int p, int64_t *mark)
{
    tnt__key k;
    tnt__key_applied(&k, p);
    void *v = NULL;
    size_t len = 0;
    tnt_status st = tnt__store_get(e, &k, &v, &len);
    *mark = 0;
    if (st == TNT_E_NOTFOUND)
        return TNT_OK;
    if (st != TNT_OK)
        return st;
    if (len == 8)
        for (int i = 0; i < 8; i++)
            *mark = (int64_t)((uint64_t)*mark << 8 | ((uint8_t *)v)[i]);
    tnt_free(v);
    return len == 8 ? TNT_OK : tnt__error(TNT_E_CORRUPT, "the applied offset of log partition %d is corrupt", p);
}

typedef struct recover_ctx {
    tnt__replayer *r;
    tnt_status st;
} recover_ctx;

static int replay_one(void *ud, int partition, int64_t offset, int64_t time_ms, const void *key, size_t key_len,
                      const void *value, size_t value_len)
{
    (void)time_ms, (void)key, (void)key_len;
    recover_ctx *c = ud;
    c->st = tnt__replayer_add(c->r, value, value_len, partition, offset, NULL);
    return c->st != TNT_OK;
}

/* Apply what the log holds beyond each partition's watermark. */
tnt_status tnt__recover(tnt_engine *e)
{
    recover_ctx c = {tnt__replayer_new(e), TNT_OK};
    if (!c.r)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt_status st = TNT_OK;
    for (int p = 0; p < e->partitions && st == TNT_OK; p++) {
        int64_t mark, end;
        int64_t aend = 0;
        if ((st = read_mark(e, p, &mark)) != TNT_OK || (st = e->log->methods->end_offset(e->log, p, &end)) != TNT_OK ||
            (st = tnt__archived_end(e, p, &aend)) != TNT_OK)
            break;
        if (mark < aend) /* what is archived was applied, or expired: never again from the log */
            mark = aend;
        e->water[p].mark = mark;
        e->water[p].n = 0;
        if (mark < end) {
            st = e->log->methods->read(e->log, p, mark, replay_one, &c);
            if (st == TNT_OK)
                st = c.st;
        }
    }
    if (st == TNT_OK)
        st = tnt__replayer_flush(c.r);
    size_t n = tnt__replayer_free(c.r);
    if (n)
        atomic_fetch_add(&e->n.replayed, n);
    return st;
}
