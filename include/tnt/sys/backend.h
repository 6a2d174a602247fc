/*
 * libtnt — systems API: storage backends.
 *
 * The engine keeps three kinds of data, each behind a versioned table of
 * methods that a backend implements (SQLite's VFS is the model):
 *
 *  - the EVENT LOG, the source of truth: records appended to partitions
 *    (chosen by a key — the product), each with an offset, read back from an
 *    offset or from a time (Kafka's model: asynchronous append with a
 *    delivery report per record, then flush);
 *  - the STATE STORE: items addressed by a partition key and a sort key,
 *    each with a version for optimistic concurrency (conditional put), read
 *    one by one or as a range of sort keys under one partition key, written
 *    in batches that may come back partly unprocessed (DynamoDB's model:
 *    items of at most 400 KB, batches of 25, throttling to retry);
 *  - the COLD ARCHIVE: immutable objects under keys, listed by prefix,
 *    written whole or in parts (S3's model).
 *
 * A backend registers a tnt_backend under a URI scheme ("file", "kafka",
 * "dynamodb", "s3", or a host's own) with tnt_backend_register(); the engine
 * opens the roles named by the URIs of its configuration. The built-in
 * embedded backend is "file" (log files, LMDB, a local directory).
 *
 * Subclassing rule: every handle a backend opens is a struct of its own whose
 * first member is the pointer to its methods table, so the engine calls
 * handle->methods->fn(handle, ...) and never sees the rest.
 *
 * Versioning: each methods table starts with `version`. The engine calls a
 * method added in version N only if version >= N and the pointer is not
 * NULL, and otherwise uses the documented fallback. Fields are only ever
 * appended. Tables are immutable once registered.
 *
 * Settings: "key=value" strings from config.yml (see docs/configuration.md).
 * Settings named "tnt.*" are hints from the engine that a backend uses if it
 * knows them and otherwise ignores: "tnt.durable_log=1" tells a state store
 * that the event log already makes every change durable (so its own commits
 * need not be synced: the engine replays the log after a crash).
 *
 * Memory: buffers a backend hands to the engine (values read) are allocated
 * with tnt_backend_alloc() so the engine frees them with tnt_free().
 *
 * Threads: the engine may call any method of one handle from several
 * threads at once; a backend that cannot allow that must lock inside.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TNT_SYS_BACKEND_H
#define TNT_SYS_BACKEND_H

#include "../common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TNT_BACKEND_VERSION 1

/* ======================================================================
 * The event log
 * ====================================================================== */

typedef struct tnt_log tnt_log;
typedef struct tnt_log_methods tnt_log_methods;

/** A log handle; a backend's own struct starts with this. */
struct tnt_log {
    const tnt_log_methods *methods;
};

/** One record to append. */
typedef struct tnt_log_record {
    const void *key;     /**< partition key (the product); chooses the partition */
    size_t key_len;
    const void *value;   /**< the record (a tnt.v1.Event) */
    size_t value_len;
    int64_t time_ms;     /**< the record's time (index for reading from a time) */
} tnt_log_record;

/**
 * Delivery report of one appended record, called once per record, in append
 * order per partition, from the thread that calls flush() (or from a
 * backend thread, which the backend documents). With group commit that may
 * be another caller's flush() than the appender's. The callback may call
 * append() but not flush() (TNT_E_MISUSE).
 * @param status   TNT_OK when the record is durable, else the error
 * @param partition, offset  where it was stored
 */
typedef void (*tnt_log_ack_fn)(void *userdata, size_t index, tnt_status status, int partition, int64_t offset);

/**
 * A record read back. Return 0 to go on, non-zero to stop the read.
 * The pointers are valid only during the call.
 */
typedef int (*tnt_log_read_fn)(void *userdata, int partition, int64_t offset, int64_t time_ms, const void *key,
                               size_t key_len, const void *value, size_t value_len);

struct tnt_log_methods {
    unsigned int version; /**< TNT_BACKEND_VERSION */
    /** Close the log; every appended record is flushed first. */
    void (*close)(tnt_log *log);
    /** Number of partitions (fixed for the life of the log). */
    int (*partitions)(tnt_log *log);
    /**
     * Queue records for appending. Returns at once; each record's fate is
     * reported to ack (called later, at the latest by flush()). May return
     * TNT_E_TOOBIG for a record over the backend's size limit (nothing queued),
     * TNT_E_BACKEND / TNT_E_IO when the log is unusable.
     */
    tnt_status (*append)(tnt_log *log, const tnt_log_record *records, size_t n, tnt_log_ack_fn ack, void *userdata);
    /**
     * Wait until every record queued before the call is durable (or failed)
     * and acknowledged. timeout_ms < 0 waits without limit; when it runs out,
     * TNT_E_TIMEOUT (the records stay queued and are acknowledged later).
     * Returns the error of a write that failed meanwhile (its acks say which
     * records it concerned).
     */
    tnt_status (*flush)(tnt_log *log, int timeout_ms);
    /** Offset one past the last record of a partition. */
    tnt_status (*end_offset)(tnt_log *log, int partition, int64_t *offset_out);
    /** First offset of a partition whose record time is >= time_ms (end offset if none). */
    tnt_status (*offset_for_time)(tnt_log *log, int partition, int64_t time_ms, int64_t *offset_out);
    /**
     * Read records of one partition from an offset, in order, up to the
     * end offset at the time of the call. TNT_OK at the end, or the
     * callback's stop, or an error. Reading from an offset already dropped
     * by truncate_before() starts at the first record kept; offsets need not
     * be contiguous (the callback gets each record's own).
     */
    tnt_status (*read)(tnt_log *log, int partition, int64_t from_offset, tnt_log_read_fn fn, void *userdata);
    /**
     * Drop records of a partition before an offset (they have been moved to
     * the archive). A backend may keep them longer (Kafka's retention).
     */
    tnt_status (*truncate_before)(tnt_log *log, int partition, int64_t offset);
    /* --- methods above: version 1 --- */
};

/* ======================================================================
 * The state store
 * ====================================================================== */

typedef struct tnt_store tnt_store;
typedef struct tnt_store_methods tnt_store_methods;

/** A state-store handle; a backend's own struct starts with this. */
struct tnt_store {
    const tnt_store_methods *methods;
};

/** Largest item value the engine writes (DynamoDB's item limit, less room for keys). */
#define TNT_STORE_MAX_VALUE (390 * 1024)
/** Most items the engine puts in one batch. */
#define TNT_STORE_MAX_BATCH 25

/** Version meaning "the item must not exist yet". */
#define TNT_STORE_NEW 0u
/** Version meaning "write whatever is there". */
#define TNT_STORE_ANY UINT64_MAX

/** One item. Keys and values are bytes; sort keys order bytewise. */
typedef struct tnt_store_item {
    const void *pk;        /**< partition key */
    size_t pk_len;
    const void *sk;        /**< sort key */
    size_t sk_len;
    const void *value;     /**< NULL with value_len 0 in a batch means delete */
    size_t value_len;
    uint64_t version;      /**< put: the version expected now (TNT_STORE_NEW, TNT_STORE_ANY or a version
                                read); get/query: the item's version (>= 1) */
} tnt_store_item;

/** An item of a query; pointers valid during the call. Return 0 to go on. */
typedef int (*tnt_store_item_fn)(void *userdata, const tnt_store_item *item);

struct tnt_store_methods {
    unsigned int version; /**< TNT_BACKEND_VERSION */
    void (*close)(tnt_store *store);
    /**
     * Read one item.
     * @param[out] value_out allocated with tnt_backend_alloc(); the caller frees it with tnt_free();
     *             may be NULL to read only the version
     * @return TNT_OK, TNT_E_NOTFOUND, TNT_E_TIMEOUT (throttled: retry), TNT_E_BACKEND
     */
    tnt_status (*get)(tnt_store *store, const void *pk, size_t pk_len, const void *sk, size_t sk_len,
                      void **value_out, size_t *value_len_out, uint64_t *version_out);
    /**
     * Write one item if its version is item->version (optimistic concurrency).
     * @param[out] version_out the new version; may be NULL
     * @return TNT_OK, TNT_E_CONFLICT (someone else wrote it), TNT_E_TOOBIG, TNT_E_TIMEOUT, TNT_E_BACKEND
     */
    tnt_status (*put)(tnt_store *store, const tnt_store_item *item, uint64_t *version_out);
    /**
     * Write (or, value NULL, delete) up to TNT_STORE_MAX_BATCH items,
     * unconditionally. Not atomic as a whole: *unprocessed_out (may be 0)
     * items at the END of the array were not written and must be retried.
     * More than TNT_STORE_MAX_BATCH items is TNT_E_INVALID.
     */
    tnt_status (*batch_write)(tnt_store *store, const tnt_store_item *items, size_t n, size_t *unprocessed_out);
    /**
     * Items of one partition key whose sort keys lie in [sk_from, sk_to)
     * (sk_to NULL: no upper bound), in sort-key order (or reverse), at most
     * limit (0: no limit).
     */
    tnt_status (*query)(tnt_store *store, const void *pk, size_t pk_len, const void *sk_from, size_t sk_from_len,
                        const void *sk_to, size_t sk_to_len, size_t limit, int reverse, tnt_store_item_fn fn,
                        void *userdata);
    /** Delete one item (no error if absent). */
    tnt_status (*remove)(tnt_store *store, const void *pk, size_t pk_len, const void *sk, size_t sk_len);
    /** Every item, in any order (for replay checks and export). */
    tnt_status (*scan)(tnt_store *store, tnt_store_item_fn fn, void *userdata);
    /** Delete every item (before a full replay). */
    tnt_status (*clear)(tnt_store *store);
    /**
     * Write (or, value NULL, delete) any number of items unconditionally,
     * all or nothing. NULL when the backend cannot; the engine then writes
     * event by event with batch_write() and relies on replaying the log.
     */
    tnt_status (*transact)(tnt_store *store, const tnt_store_item *items, size_t n);
    /* --- methods above: version 1 --- */
};

/* ======================================================================
 * The cold archive
 * ====================================================================== */

typedef struct tnt_archive tnt_archive;
typedef struct tnt_archive_methods tnt_archive_methods;

/** An archive handle; a backend's own struct starts with this. */
struct tnt_archive {
    const tnt_archive_methods *methods;
};

/*
 * Archive keys are 1 to 1024 bytes of segments separated by '/', none of
 * them empty, "." or ".." (so no leading or trailing '/'); other keys are
 * TNT_E_INVALID, whatever the backend, so that a key is a path nowhere.
 */

/** An object listed. Return 0 to go on. */
typedef int (*tnt_archive_list_fn)(void *userdata, const char *key, uint64_t size, int64_t modified_ms);

struct tnt_archive_methods {
    unsigned int version; /**< TNT_BACKEND_VERSION */
    void (*close)(tnt_archive *archive);
    /**
     * Store an object whole; objects are immutable: a key that exists is
     * TNT_E_EXISTS. The object is durable when this returns TNT_OK.
     */
    tnt_status (*put)(tnt_archive *archive, const char *key, const void *data, size_t len);
    /**
     * Read an object, or the byte range [offset, offset+len) of it (len 0: to the end).
     * A range past the end is cut at the end; an offset past the end is TNT_E_INVALID.
     * @param[out] data_out allocated with tnt_backend_alloc()
     */
    tnt_status (*get)(tnt_archive *archive, const char *key, uint64_t offset, uint64_t len, void **data_out,
                      size_t *len_out);
    /** Objects whose keys start with prefix, in key order. */
    tnt_status (*list)(tnt_archive *archive, const char *prefix, tnt_archive_list_fn fn, void *userdata);
    /** Delete an object (no error if absent). */
    tnt_status (*remove)(tnt_archive *archive, const char *key);
    /* --- methods above: version 1 --- */
};

/* ======================================================================
 * Backends and their registration
 * ====================================================================== */

/** A backend: the roles it can play, opened from URIs of its scheme. */
typedef struct tnt_backend {
    unsigned int version;  /**< TNT_BACKEND_VERSION */
    const char *scheme;    /**< URI scheme it serves: "file", "kafka", ... */
    void *user_data;       /**< passed to every open function */
    /**
     * Open the event log at uri (e.g. "file:///var/lib/tnt/log",
     * "kafka://host:9092/topic"). settings: "key=value" strings of the
     * backend's namespace (NULL-terminated array; may be NULL); an unknown
     * key is TNT_E_INVALID. NULL when the backend is no log. Errors: a
     * message through errbuf. On TNT_OK errbuf holds what recovery the open
     * did, worth a warning in the host's log (for example a torn log tail
     * truncated), or "" when there was none.
     */
    tnt_status (*open_log)(tnt_log **out, const char *uri, const char *const *settings, void *user_data,
                           char *errbuf, size_t errbuf_size);
    /** Open the state store at uri; NULL when the backend is no state store. */
    tnt_status (*open_store)(tnt_store **out, const char *uri, const char *const *settings, void *user_data,
                             char *errbuf, size_t errbuf_size);
    /** Open the archive at uri; NULL when the backend is no archive. */
    tnt_status (*open_archive)(tnt_archive **out, const char *uri, const char *const *settings, void *user_data,
                               char *errbuf, size_t errbuf_size);
    /* --- fields above: version 1 --- */
} tnt_backend;

/**
 * Register a backend under its scheme. The struct is not copied: it must stay
 * valid and unchanged until tnt_shutdown(). A scheme registered twice is
 * replaced by the later registration.
 * @return TNT_OK; TNT_E_INVALID (no scheme, bad version); TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_backend_register(const tnt_backend *backend);

/**
 * The backend registered for a scheme, or NULL.
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN const tnt_backend *tnt_backend_find(const char *scheme);

/**
 * Memory for buffers a backend returns to the engine; the engine frees it
 * with tnt_free(). NULL when out of memory.
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN void *tnt_backend_alloc(size_t size);

#ifdef __cplusplus
}
#endif
#endif /* TNT_SYS_BACKEND_H */
