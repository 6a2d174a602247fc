/* Group commit of recorded scans.
 *
 * A verification that records its scan (TNT_SCAN_RECORD) waits until the
 * scan is durable in the log and applied to the store. Concurrent
 * verifications share that work: the first caller to find no writer at work
 * becomes the writer, takes every scan queued so far, appends them to the
 * log in one call, flushes once, applies them in one store transaction, and
 * wakes their callers; scans queued meanwhile go out in the next round.
 *
 * A scan recorded in the background (TNT_SCAN_RECORD_BACKGROUND) is copied
 * into the queue and the caller goes on; a thread of the engine writes the
 * queue in the same rounds, at once. Such a scan is seen by verifications
 * once its round is done (milliseconds), and a crash loses the scans still
 * queued. Closing the engine writes them all first. */
#include <pthread.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "auth/auth.h"
#include "engine/record.h"

#define MAX_ROUND 256
#define LINGER_NS 5000000L /* a background round waits this long for company (5 ms) */

typedef struct waiter {
    tnt__effect fx;
    const char *key;
    tnt_status st;
    bool done, owned; /* owned: a background scan, freed by its round */
    tnt_v1_Scan scan;
    tnt__arena a;
    struct waiter *next;
} waiter;

struct tnt__scanq {
    tnt_engine *e;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* a round is done */
    pthread_cond_t work; /* background scans are queued, or the engine closes */
    waiter *head, *tail;
    bool writing, stop, thread_on;
    pthread_t thread;
    size_t queued;       /* background scans waiting */
};

/* One round: the log, then the store (replay_lock held for reading). */
static void write_round(tnt_engine *e, waiter **w, size_t n)
{
    tnt__effect fx[MAX_ROUND];
    const char *keys[MAX_ROUND] = {0};
    bool dup[MAX_ROUND];
    for (size_t i = 0; i < n; i++) {
        fx[i] = w[i]->fx;
        keys[i] = w[i]->key;
    }
    tnt_status st = tnt__heal(e); /* after a failed apply: what the log holds first */
    pthread_rwlock_rdlock(&e->replay_lock);
    if (st == TNT_OK)
        st = tnt__writable(e);
    if (st == TNT_OK)
        st = tnt__log_write(e, fx, n, keys);
    if (st == TNT_OK) {
        pthread_mutex_lock(&e->apply_mu);
        st = tnt__apply(e, fx, n, dup);
        pthread_mutex_unlock(&e->apply_mu);
    }
    pthread_rwlock_unlock(&e->replay_lock);
    for (size_t i = 0; i < n; i++)
        w[i]->st = st != TNT_OK ? st : fx[i].log_status;
}

/* Take the queue's head round and write it (q->mu held on entry and exit). */
static void one_round(tnt__scanq *q)
{
    q->writing = true;
    waiter *round[MAX_ROUND];
    size_t n = 0;
    while (q->head && n < MAX_ROUND) {
        round[n++] = q->head;
        q->head = q->head->next;
    }
    if (!q->head)
        q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    write_round(q->e, round, n);
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < n; i++) {
        if (round[i]->owned) {
            q->queued--;
            tnt__arena_destroy(&round[i]->a);
            tnt__free(round[i]);
        } else
            round[i]->done = true;
    }
    q->writing = false;
    pthread_cond_broadcast(&q->cv);
}

/* Wait until LINGER_NS after the first background scan of a round was
 * queued, or a round's worth is queued, or the engine closes (q->mu held).
 * Scans come in bursts from many callers: one flush and one store
 * transaction then serve many scans instead of one each. */
static void linger(tnt__scanq *q)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += LINGER_NS;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!q->stop && q->queued < MAX_ROUND &&
           pthread_cond_timedwait(&q->work, &q->mu, &until) == 0)
        ;
}

static void *background(void *arg)
{
    tnt__scanq *q = arg;
#ifdef __linux__
    prctl(PR_SET_NAME, "tnt-scans", 0, 0, 0); /* its name in top -H, ps -L and perf */
#endif
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->stop && (!q->queued || q->writing))
            pthread_cond_wait(q->queued && q->writing ? &q->cv : &q->work, &q->mu);
        if (q->queued && !q->writing) {
            linger(q);
            if (q->writing || !q->queued)
                continue; /* a durable caller wrote them meanwhile */
            one_round(q);
            continue;
        }
        if (q->stop && !q->queued)
            break;
        if (q->stop && q->writing) /* closing: a caller writes a round; wait for it, with the lock released */
            pthread_cond_wait(&q->cv, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

tnt__scanq *tnt__scanq_new(tnt_engine *e)
{
    tnt__scanq *q = tnt__calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->e = e;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->work, &ca);
    pthread_condattr_destroy(&ca);
    return q;
}

void tnt__scanq_free(tnt__scanq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_broadcast(&q->work);
    pthread_cond_broadcast(&q->cv);
    bool joined = q->thread_on;
    pthread_mutex_unlock(&q->mu);
    if (joined)
        pthread_join(q->thread, NULL); /* it writes what is queued, then ends */
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    pthread_cond_destroy(&q->work);
    tnt__free(q);
}

static void enqueue(tnt__scanq *q, waiter *w)
{
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
}

tnt_status tnt__scan_commit(tnt_engine *e, tnt__effect *fx, const char *key)
{
    tnt__scanq *q = e->scanq;
    waiter me;
    memset(&me, 0, sizeof me);
    me.fx = *fx;
    me.key = key;
    pthread_mutex_lock(&q->mu);
    enqueue(q, &me);
    while (!me.done) {
        if (q->writing)
            pthread_cond_wait(&q->cv, &q->mu);
        else
            one_round(q); /* no writer: this caller writes what is queued */
    }
    pthread_mutex_unlock(&q->mu);
    return me.st != TNT_OK ? tnt__error(me.st, "recording the scan: %s", tnt_status_str(me.st)) : TNT_OK;
}

tnt_status tnt__scan_queue(tnt_engine *e, const tnt_v1_Scan *scan)
{
    tnt__scanq *q = e->scanq;
    waiter *w = tnt__calloc(1, sizeof *w);
    if (!w)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt__arena_init(&w->a, 0);
    w->owned = true;
    w->scan = *scan;
    w->key = w->scan.id;
    w->fx.scan = &w->scan;
    w->fx.time_ms = scan->time_ms;
    w->fx.record = tnt__record_scan(&w->a, &w->scan, &w->fx.record_len);
    if (!w->fx.record) {
        tnt__arena_destroy(&w->a);
        tnt__free(w);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&q->mu);
    tnt_status st = TNT_OK;
    if (!q->thread_on) {
        if (pthread_create(&q->thread, NULL, background, q) == 0)
            q->thread_on = true;
        else
            st = tnt__error(TNT_E_NOMEM, "cannot start the scan writer thread");
    }
    if (st == TNT_OK) {
        enqueue(q, w);
        q->queued++;
        if (q->queued == 1 || q->queued >= MAX_ROUND)
            pthread_cond_signal(&q->work); /* the writer waits for the first, and lingers for a full round */
    }
    pthread_mutex_unlock(&q->mu);
    if (st != TNT_OK) {
        tnt__arena_destroy(&w->a);
        tnt__free(w);
    }
    return st;
}
