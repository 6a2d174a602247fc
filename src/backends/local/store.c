/* The state store in LMDB: one environment, its main database.
 *
 * Key   = [u16 pk_len, big-endian][pk][sk]: the items of one partition key
 *         are one contiguous run, in sort-key order, so a query is a cursor
 *         range.
 * Value = [u64 version, little-endian][bytes].
 *
 * LMDB serializes write transactions itself (so a conditional put is a read
 * and a write in one transaction, and racing writers cannot both win); the
 * environment is opened with MDB_NOTLS so that read transactions are not
 * tied to threads. Every commit is synced (LMDB's default).
 *
 * Read transactions are kept for reuse: a finished one is reset (it keeps
 * its handle and its slot in LMDB's reader table, and pins no pages) and
 * renewed by the next read, which then neither allocates a handle nor takes
 * the reader table's lock, as a fresh mdb_txn_begin would. */
#define _GNU_SOURCE
#include <errno.h>
#include <lmdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "local.h"

typedef struct local_store {
    tnt_store base;
    MDB_env *env;
    MDB_dbi dbi;
    char *dir;
    uint64_t map_size;
    size_t max_key;
    _Atomic(MDB_txn *) readers[16]; /* reset read transactions, ready for mdb_txn_renew */
} local_store;

#define NREADERS (sizeof ((local_store *)0)->readers / sizeof ((local_store *)0)->readers[0])

/* A read transaction: a kept one renewed, else a new one. */
static int read_begin(local_store *s, MDB_txn **out)
{
    for (size_t i = 0; i < NREADERS; i++) {
        MDB_txn *t = atomic_load_explicit(&s->readers[i], memory_order_relaxed);
        if (t && atomic_compare_exchange_strong(&s->readers[i], &t, NULL)) {
            if (mdb_txn_renew(t) == 0) {
                *out = t;
                return 0;
            }
            mdb_txn_abort(t);
            break;
        }
    }
    return mdb_txn_begin(s->env, NULL, MDB_RDONLY, out);
}

/* End a read transaction, keeping it for the next read if there is room. */
static void read_end(local_store *s, MDB_txn *t)
{
    mdb_txn_reset(t);
    for (size_t i = 0; i < NREADERS; i++) {
        MDB_txn *none = NULL;
        if (atomic_load_explicit(&s->readers[i], memory_order_relaxed) == NULL &&
            atomic_compare_exchange_strong(&s->readers[i], &none, t))
            return;
    }
    mdb_txn_abort(t);
}

static const tnt_store_methods store_methods;
static void store_close(tnt_store *store);

static tnt_status fail(local_store *s, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL)
        return tnt__error(TNT_E_IO, "state store '%s' is full (map_size=%llu bytes): raise the map_size setting", s->dir,
                          (unsigned long long)s->map_size);
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID)
        return tnt__error(TNT_E_CORRUPT, "state store '%s': %s: %s", s->dir, what, mdb_strerror(rc));
    return tnt__error(rc > 0 ? TNT_E_IO : TNT_E_BACKEND, "state store '%s': %s: %s", s->dir, what, mdb_strerror(rc));
}

/* ---- keys ---- */

typedef struct key_buf {
    unsigned char b[512];
    size_t len;
} key_buf;

static tnt_status make_key(local_store *s, key_buf *k, const void *pk, size_t pk_len, const void *sk, size_t sk_len)
{
    if ((pk_len && !pk) || (sk_len && !sk))
        return tnt__error(TNT_E_MISUSE, "state store: a NULL key with a length");
    if (2 + pk_len + sk_len > s->max_key || 2 + pk_len + sk_len > sizeof k->b)
        return tnt__error(TNT_E_TOOBIG, "state store: keys of %zu + %zu bytes exceed LMDB's %zu-byte key limit", pk_len,
                          sk_len, s->max_key - 2);
    k->b[0] = (unsigned char)(pk_len >> 8);
    k->b[1] = (unsigned char)pk_len;
    if (pk_len)
        memcpy(k->b + 2, pk, pk_len);
    if (sk_len)
        memcpy(k->b + 2 + pk_len, sk, sk_len);
    k->len = 2 + pk_len + sk_len;
    return TNT_OK;
}

/* An item as stored, decoded; false if the record is malformed. */
static bool decode_item(const MDB_val *k, const MDB_val *v, tnt_store_item *it)
{
    const unsigned char *kb = k->mv_data;
    if (k->mv_size < 2 || v->mv_size < 8)
        return false;
    size_t pk_len = (size_t)kb[0] << 8 | kb[1];
    if (2 + pk_len > k->mv_size)
        return false;
    it->pk = kb + 2;
    it->pk_len = pk_len;
    it->sk = kb + 2 + pk_len;
    it->sk_len = k->mv_size - 2 - pk_len;
    it->version = tnt__get_u64(v->mv_data);
    it->value = (const unsigned char *)v->mv_data + 8;
    it->value_len = v->mv_size - 8;
    return true;
}

/* LMDB's default order: bytewise, then the shorter first. */
static int keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static bool has_prefix(const MDB_val *k, const key_buf *prefix)
{
    return k->mv_size >= prefix->len && memcmp(k->mv_data, prefix->b, prefix->len) == 0;
}

/* ---- open and close ---- */

tnt_status tnt__local_open_store(tnt_store **out, const char *uri, const char *const *settings, void *user_data,
                                 char *errbuf, size_t errbuf_size)
{
    (void)user_data;
    if (!out)
        return tnt__local_report(tnt__error(TNT_E_MISUSE, "open_store: out is NULL"), errbuf, errbuf_size);
    *out = NULL;
    /* Only address space: LMDB grows the file as data arrives. */
    uint64_t map_size = sizeof(void *) >= 8 ? 64ull << 30 : 1ull << 30;
    /* tnt.durable_log: the engine's event log makes every change durable and
     * replays it after a crash, so commits need not be synced (LMDB's
     * MDB_NOSYNC: a process crash loses nothing; after a power failure the
     * store is rebuilt from the log). */
    uint64_t durable_log = 0;
    tnt__local_setting table[] = {
        {"map_size", &map_size, 1ull << 20, sizeof(void *) >= 8 ? 1ull << 50 : 3ull << 30, false},
        {"tnt.durable_log", &durable_log, 0, 1, false},
    };
    tnt_status rc = tnt__local_settings(settings, table, 2);
    if (rc != TNT_OK)
        return tnt__local_report(rc, errbuf, errbuf_size);
    char *dir = tnt__local_uri_path(uri);
    if (!dir)
        return tnt__local_report(tnt_error_last_code(), errbuf, errbuf_size);
    if ((rc = tnt__local_prepare_dir(dir)) != TNT_OK) {
        tnt__free(dir);
        return tnt__local_report(rc, errbuf, errbuf_size);
    }
    local_store *s = tnt__calloc(1, sizeof *s);
    if (!s) {
        tnt__free(dir);
        return tnt__local_report(tnt__error(TNT_E_NOMEM, "out of memory"), errbuf, errbuf_size);
    }
    tnt__handle_acquire();
    s->base.methods = &store_methods;
    s->dir = dir;
    s->map_size = map_size;
    int mrc = mdb_env_create(&s->env);
    if (mrc == 0)
        mrc = mdb_env_set_mapsize(s->env, (size_t)map_size);
    if (mrc == 0)
        mrc = mdb_env_set_maxreaders(s->env, 512);
    if (mrc == 0)
        mrc = mdb_env_open(s->env, dir, MDB_NOTLS | (durable_log ? MDB_NOSYNC : 0), 0644);
    MDB_txn *txn = NULL;
    if (mrc == 0)
        mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (mrc == 0)
        mrc = mdb_dbi_open(txn, NULL, 0, &s->dbi);
    if (mrc == 0) {
        mrc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn)
        mdb_txn_abort(txn);
    if (mrc != 0) {
        rc = mrc == EACCES || mrc == EROFS
                 ? tnt__error(TNT_E_IO, "state store: cannot open '%s': %s", dir, mdb_strerror(mrc))
                 : fail(s, mrc, "cannot open the LMDB environment");
        store_close(&s->base);
        return tnt__local_report(rc, errbuf, errbuf_size);
    }
    s->max_key = (size_t)mdb_env_get_maxkeysize(s->env);
    *out = &s->base;
    return tnt__local_report(TNT_OK, errbuf, errbuf_size);
}

static void store_close(tnt_store *store)
{
    local_store *s = (local_store *)store;
    if (!s)
        return;
    for (size_t i = 0; i < NREADERS; i++) {
        MDB_txn *t = atomic_exchange(&s->readers[i], NULL);
        if (t)
            mdb_txn_abort(t);
    }
    if (s->env)
        mdb_env_close(s->env);
    tnt__free(s->dir);
    tnt__free(s);
    tnt__handle_release();
}

/* ---- reads ---- */

static tnt_status store_get(tnt_store *store, const void *pk, size_t pk_len, const void *sk, size_t sk_len,
                            void **value_out, size_t *value_len_out, uint64_t *version_out)
{
    local_store *s = (local_store *)store;
    key_buf k;
    tnt_status rc = make_key(s, &k, pk, pk_len, sk, sk_len);
    if (rc != TNT_OK)
        return rc;
    MDB_txn *txn;
    int mrc = read_begin(s, &txn);
    if (mrc != 0)
        return fail(s, mrc, "read transaction");
    MDB_val key = {k.len, k.b}, val;
    mrc = mdb_get(txn, s->dbi, &key, &val);
    tnt_store_item it;
    if (mrc == MDB_NOTFOUND)
        rc = tnt__error(TNT_E_NOTFOUND, "state store: no such item");
    else if (mrc != 0)
        rc = fail(s, mrc, "get");
    else if (!decode_item(&key, &val, &it))
        rc = tnt__error(TNT_E_CORRUPT, "state store '%s': a malformed value", s->dir);
    if (rc == TNT_OK && value_out) {
        void *copy = tnt_backend_alloc(it.value_len ? it.value_len : 1);
        if (!copy)
            rc = tnt__error(TNT_E_NOMEM, "out of memory");
        else {
            if (it.value_len)
                memcpy(copy, it.value, it.value_len);
            *value_out = copy;
        }
    }
    if (rc == TNT_OK) {
        if (value_len_out)
            *value_len_out = it.value_len;
        if (version_out)
            *version_out = it.version;
    }
    read_end(s, txn);
    return rc;
}

/* Visit the items of one partition key with sk in [from, to), forward or backward. */
static tnt_status store_query(tnt_store *store, const void *pk, size_t pk_len, const void *sk_from, size_t sk_from_len,
                              const void *sk_to, size_t sk_to_len, size_t limit, int reverse, tnt_store_item_fn fn,
                              void *userdata)
{
    local_store *s = (local_store *)store;
    key_buf prefix, from, to;
    tnt_status rc = make_key(s, &prefix, pk, pk_len, NULL, 0);
    if (rc == TNT_OK)
        rc = make_key(s, &from, pk, pk_len, sk_from, sk_from ? sk_from_len : 0);
    if (rc == TNT_OK)
        rc = make_key(s, &to, pk, pk_len, sk_to, sk_to ? sk_to_len : 0);
    if (rc != TNT_OK)
        return rc;
    if (!fn)
        return tnt__error(TNT_E_MISUSE, "state store query: no callback");
    MDB_txn *txn;
    MDB_cursor *cur;
    int mrc = read_begin(s, &txn);
    if (mrc != 0)
        return fail(s, mrc, "read transaction");
    if ((mrc = mdb_cursor_open(txn, s->dbi, &cur)) != 0) {
        read_end(s, txn);
        return fail(s, mrc, "cursor");
    }
    MDB_val key, val;
    if (!reverse) {
        key = (MDB_val){from.len, from.b};
        mrc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    } else {
        /* Position on the first key past the range, then step back. */
        key_buf past = to;
        bool bounded = sk_to != NULL;
        if (!bounded) { /* the successor of the prefix, if it has one */
            past = prefix;
            while (past.len > 0 && past.b[past.len - 1] == 0xff)
                past.len--;
            bounded = past.len > 0;
            if (bounded)
                past.b[past.len - 1]++;
        }
        key = (MDB_val){past.len, past.b};
        mrc = bounded ? mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE) : MDB_NOTFOUND;
        mrc = mrc == 0 ? mdb_cursor_get(cur, &key, &val, MDB_PREV)
              : mrc == MDB_NOTFOUND ? mdb_cursor_get(cur, &key, &val, MDB_LAST)
                                    : mrc;
    }
    for (size_t n = 0; mrc == 0 && (limit == 0 || n < limit); n++) {
        if (!has_prefix(&key, &prefix))
            break;
        if (!reverse && sk_to && keycmp(key.mv_data, key.mv_size, to.b, to.len) >= 0)
            break;
        if (reverse && keycmp(key.mv_data, key.mv_size, from.b, from.len) < 0)
            break;
        tnt_store_item it;
        if (!decode_item(&key, &val, &it)) {
            rc = tnt__error(TNT_E_CORRUPT, "state store '%s': a malformed value", s->dir);
            break;
        }
        if (fn(userdata, &it) != 0)
            break;
        mrc = mdb_cursor_get(cur, &key, &val, reverse ? MDB_PREV : MDB_NEXT);
    }
    if (rc == TNT_OK && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = fail(s, mrc, "query");
    mdb_cursor_close(cur);
    read_end(s, txn);
    return rc;
}

static tnt_status store_scan(tnt_store *store, tnt_store_item_fn fn, void *userdata)
{
    local_store *s = (local_store *)store;
    if (!fn)
        return tnt__error(TNT_E_MISUSE, "state store scan: no callback");
    MDB_txn *txn;
    MDB_cursor *cur;
    int mrc = read_begin(s, &txn);
    if (mrc != 0)
        return fail(s, mrc, "read transaction");
    if ((mrc = mdb_cursor_open(txn, s->dbi, &cur)) != 0) {
        read_end(s, txn);
        return fail(s, mrc, "cursor");
    }
    tnt_status rc = TNT_OK;
    MDB_val key, val;
    for (mrc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        tnt_store_item it;
        if (!decode_item(&key, &val, &it)) {
            rc = tnt__error(TNT_E_CORRUPT, "state store '%s': a malformed value", s->dir);
            break;
        }
        if (fn(userdata, &it) != 0)
            break;
    }
    if (rc == TNT_OK && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = fail(s, mrc, "scan");
    mdb_cursor_close(cur);
    read_end(s, txn);
    return rc;
}

/* ---- writes ---- */

static tnt_status check_value(const tnt_store_item *it, size_t i)
{
    if (it->value_len > TNT_STORE_MAX_VALUE)
        return tnt__error(TNT_E_TOOBIG, "state store: item %zu has a %zu-byte value (limit %d)", i, it->value_len,
                          TNT_STORE_MAX_VALUE);
    if (it->value_len && !it->value)
        return tnt__error(TNT_E_MISUSE, "state store: item %zu has a NULL value with a length", i);
    return TNT_OK;
}

/* Write one item in txn, unconditionally or if its version is `expect`. */
static tnt_status put_in(local_store *s, MDB_txn *txn, const key_buf *k, const tnt_store_item *it, bool check,
                         uint64_t *version_out)
{
    MDB_val key = {k->len, (void *)k->b}, val;
    int mrc = mdb_get(txn, s->dbi, &key, &val);
    if (mrc != 0 && mrc != MDB_NOTFOUND)
        return fail(s, mrc, "get");
    bool exists = mrc == 0 && val.mv_size >= 8;
    uint64_t current = exists ? tnt__get_u64(val.mv_data) : 0;
    if (check && it->version != TNT_STORE_ANY &&
        (it->version == TNT_STORE_NEW ? exists : (!exists || current != it->version)))
        return tnt__error(TNT_E_CONFLICT, "state store: the item %s (version %llu expected, %s)",
                          it->version == TNT_STORE_NEW ? "exists" : "changed", (unsigned long long)it->version,
                          exists ? "found another" : "found none");
    uint64_t version = current + 1;
    val = (MDB_val){8 + it->value_len, NULL};
    if ((mrc = mdb_put(txn, s->dbi, &key, &val, MDB_RESERVE)) != 0)
        return fail(s, mrc, "put");
    tnt__put_u64(val.mv_data, version);
    if (it->value_len)
        memcpy((unsigned char *)val.mv_data + 8, it->value, it->value_len);
    if (version_out)
        *version_out = version;
    return TNT_OK;
}

static tnt_status commit_or_abort(local_store *s, MDB_txn *txn, tnt_status rc)
{
    if (rc != TNT_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    int mrc = mdb_txn_commit(txn);
    return mrc ? fail(s, mrc, "commit") : TNT_OK;
}

static tnt_status store_put(tnt_store *store, const tnt_store_item *item, uint64_t *version_out)
{
    local_store *s = (local_store *)store;
    if (!item)
        return tnt__error(TNT_E_MISUSE, "state store put: item is NULL");
    key_buf k;
    tnt_status rc = check_value(item, 0);
    if (rc == TNT_OK)
        rc = make_key(s, &k, item->pk, item->pk_len, item->sk, item->sk_len);
    if (rc != TNT_OK)
        return rc;
    MDB_txn *txn;
    int mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (mrc != 0)
        return fail(s, mrc, "write transaction");
    uint64_t version = 0;
    rc = commit_or_abort(s, txn, put_in(s, txn, &k, item, true, &version));
    if (rc == TNT_OK && version_out)
        *version_out = version;
    return rc;
}

static tnt_status del_in(local_store *s, MDB_txn *txn, const key_buf *k)
{
    MDB_val key = {k->len, (void *)k->b};
    int mrc = mdb_del(txn, s->dbi, &key, NULL);
    return mrc == 0 || mrc == MDB_NOTFOUND ? TNT_OK : fail(s, mrc, "delete");
}

/* Items written in one write transaction: all or nothing. */
static tnt_status write_txn(local_store *s, const tnt_store_item *items, size_t n)
{
    if (n && !items)
        return tnt__error(TNT_E_MISUSE, "state store batch: items is NULL");
    key_buf *keys = n ? tnt__malloc(n * sizeof *keys) : NULL;
    if (n && !keys)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt_status rc = TNT_OK;
    for (size_t i = 0; i < n && rc == TNT_OK; i++) {
        rc = check_value(&items[i], i);
        if (rc == TNT_OK)
            rc = make_key(s, &keys[i], items[i].pk, items[i].pk_len, items[i].sk, items[i].sk_len);
    }
    MDB_txn *txn = NULL;
    int mrc = rc == TNT_OK ? mdb_txn_begin(s->env, NULL, 0, &txn) : 0;
    if (mrc != 0)
        rc = fail(s, mrc, "write transaction");
    if (txn) {
        for (size_t i = 0; i < n && rc == TNT_OK; i++)
            rc = items[i].value ? put_in(s, txn, &keys[i], &items[i], false, NULL) : del_in(s, txn, &keys[i]);
        rc = commit_or_abort(s, txn, rc);
    }
    tnt__free(keys);
    return rc;
}

/* One write transaction: all or nothing, never unprocessed items. */
static tnt_status store_batch_write(tnt_store *store, const tnt_store_item *items, size_t n, size_t *unprocessed_out)
{
    if (unprocessed_out)
        *unprocessed_out = n;
    if (n > TNT_STORE_MAX_BATCH)
        return tnt__error(TNT_E_INVALID, "state store: a batch of %zu items (at most %d)", n, TNT_STORE_MAX_BATCH);
    tnt_status rc = write_txn((local_store *)store, items, n);
    if (rc == TNT_OK && unprocessed_out)
        *unprocessed_out = 0;
    return rc;
}

static tnt_status store_transact(tnt_store *store, const tnt_store_item *items, size_t n)
{
    return write_txn((local_store *)store, items, n);
}

static tnt_status store_remove(tnt_store *store, const void *pk, size_t pk_len, const void *sk, size_t sk_len)
{
    local_store *s = (local_store *)store;
    key_buf k;
    tnt_status rc = make_key(s, &k, pk, pk_len, sk, sk_len);
    if (rc != TNT_OK)
        return rc;
    MDB_txn *txn;
    int mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (mrc != 0)
        return fail(s, mrc, "write transaction");
    return commit_or_abort(s, txn, del_in(s, txn, &k));
}

static tnt_status store_clear(tnt_store *store)
{
    local_store *s = (local_store *)store;
    MDB_txn *txn;
    int mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (mrc != 0)
        return fail(s, mrc, "write transaction");
    mrc = mdb_drop(txn, s->dbi, 0);
    return commit_or_abort(s, txn, mrc ? fail(s, mrc, "clear") : TNT_OK);
}

static const tnt_store_methods store_methods = {
    TNT_BACKEND_VERSION, /* version */
    store_close,         /* close: mdb_env_close */
    store_get,           /* get: one read transaction */
    store_put,           /* put: version check and write in one write transaction */
    store_batch_write,   /* batch_write: one write transaction, all or nothing */
    store_query,         /* query: a cursor over [pk+from, pk+to) */
    store_remove,        /* remove */
    store_scan,          /* scan: the whole database in key order */
    store_clear,         /* clear: mdb_drop */
    store_transact,      /* transact: one write transaction of any size */
};
