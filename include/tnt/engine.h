/*
 * libtnt — the engine: a track-and-trace store on pluggable backends.
 *
 * Ingest capture documents, simple reports and protobuf batches; ask where a
 * unit, case or pallet is (track), what happened to it (history), rebuild the
 * state from the event log (replay), move old events to the cold archive,
 * and keep master data (products, locations, parties).
 *
 * With no configuration the engine runs embedded in a data directory
 * (./tnt-data, or $TNT_DATA): the event log in log files, the state in LMDB,
 * the archive in a local folder. config.yml names other backends by URI:
 *
 *     database:
 *       event_store: file:///var/lib/tnt/log        # or kafka://host:9092/topic
 *       real_time_store: file:///var/lib/tnt/state  # or dynamodb://region/table
 *       cold_storage: file:///var/lib/tnt/archive   # or s3://bucket/prefix
 *
 * Durability: tnt_engine_ingest() returns only when the events it accepted
 * are durable in the event log; concurrent ingests share one flush.
 *
 * Thread-safety: an engine is safe to use from many threads at once; the
 * result objects (tnt_ingest_report, tnt_track, tnt_history) are safe per
 * handle.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TNT_ENGINE_H
#define TNT_ENGINE_H

#include "common.h"
#include "document.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open engine (opaque). */
typedef struct tnt_engine tnt_engine;

/** Engine options. Initialise with TNT_ENGINE_OPTIONS_INIT or tnt_engine_options_init(). */
typedef struct tnt_engine_options {
    unsigned int version;          /**< TNT_ENGINE_OPTIONS_VERSION */
    const char *data_dir;          /**< embedded data directory; NULL: $TNT_DATA or ./tnt-data */
    const char *config_path;       /**< config.yml to read; NULL: none */
    const char *log_uri;           /**< overrides database.event_store */
    const char *store_uri;         /**< overrides database.real_time_store */
    const char *archive_uri;       /**< overrides database.cold_storage */
    int partitions;                /**< partitions of a new event log; 0: 4 */
    int64_t archive_after_ms;      /**< tnt_engine_archive() moves events older than this; 0: 90 days */
    int64_t retention_ms;          /**< archived events are deleted after this; 0: kept forever */
    const tnt_reader_options *reader; /**< validation options for ingest; NULL: defaults (copied at open) */
} tnt_engine_options;

#define TNT_ENGINE_OPTIONS_VERSION 1
#define TNT_ENGINE_OPTIONS_INIT {TNT_ENGINE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL}

/**
 * Initialise engine options to the defaults of @p version.
 * @return TNT_OK or TNT_E_INVALID (unknown version)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_options_init(tnt_engine_options *opts, unsigned int version);

/**
 * Open an engine: read the configuration, open the three backends, create
 * what they need, and replay the log past what the state store has applied
 * (after a crash).
 * @param[out] out caller owns; close with tnt_engine_close()
 * @return TNT_OK; TNT_E_INVALID (bad configuration: the message names the key);
 *         TNT_E_UNSUPPORTED (unknown URI scheme); TNT_E_IO (also: the service key
 *         file is missing from a store that holds events; it is made only for a
 *         store with none); TNT_E_CORRUPT; TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_open(tnt_engine **out, const tnt_engine_options *opts);

/**
 * Close an engine: wait for running calls, flush the log, close the backends.
 * NULL is a no-op. Thread-safety: call once, after every other call on it returned. @since 1.0
 */
TNT_EXTERN void tnt_engine_close(tnt_engine *engine);

/* ---- ingest ---- */

/** What happened to one event of an ingest. */
typedef enum tnt_ingest_status {
    TNT_INGEST_ACCEPTED = 0,  /**< stored (durable) */
    TNT_INGEST_DUPLICATE = 1, /**< an event with the same hash was stored before */
    TNT_INGEST_REJECTED = 2   /**< invalid: see its errors */
} tnt_ingest_status;

/** The outcome of an ingest (opaque). */
typedef struct tnt_ingest_report tnt_ingest_report;

/** Flags of tnt_engine_ingest(). */
#define TNT_INGEST_COUNTS_ONLY 0x1u /**< keep counts, not per-event results (for huge files) */

/**
 * Ingest a document held in memory (any format a tnt_reader reads).
 * Valid events are stored once (by event hash); invalid ones are rejected
 * without touching the store. Returns when every accepted event is durable.
 * @param[out] report_out caller owns; free with tnt_ingest_report_free()
 * @return TNT_OK (see the report for each event), or a document-level error
 *         (TNT_E_SYNTAX, TNT_E_TOOBIG, ...: events before the error stand and
 *         are in the report), TNT_E_BACKEND / TNT_E_IO when storing failed
 *         (the events of the failed write are then reported rejected with
 *         the code NOT_STORED: send them again; one that did reach the log
 *         is then a duplicate)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_ingest(tnt_ingest_report **report_out, tnt_engine *engine, const void *data,
                                        size_t len, unsigned int flags);

/**
 * Ingest a file (streamed in constant memory; "-" reads standard input).
 * Same results as tnt_engine_ingest().
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_ingest_file(tnt_ingest_report **report_out, tnt_engine *engine, const char *path,
                                             unsigned int flags);

/**
 * Reads the next bytes of a document for tnt_engine_ingest_stream(): up to
 * @p capacity bytes into @p buffer. Returns how many (a short read is not
 * the end), 0 at the end, or a negative value on a failure.
 */
typedef int64_t (*tnt_read_fn)(void *userdata, void *buffer, size_t capacity);

/**
 * Ingest a document read through a callback (a socket, a pipe, a
 * decompressor): streamed in constant memory, in 64 KB reads. Same results
 * as tnt_engine_ingest(); a failing read ends the document with TNT_E_IO,
 * and the events read before it stand.
 * Thread-safety: safe (the callback runs on the calling thread). @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_ingest_stream(tnt_ingest_report **report_out, tnt_engine *engine, tnt_read_fn read,
                                               void *userdata, unsigned int flags);

/** Free a report; NULL is a no-op. @since 1.0 */
TNT_EXTERN void tnt_ingest_report_free(tnt_ingest_report *report);

/**
 * Counts of a report. Any pointer may be NULL.
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN void tnt_ingest_report_counts(const tnt_ingest_report *report, size_t *events_out, size_t *accepted_out,
                                         size_t *duplicates_out, size_t *rejected_out);

/**
 * One event of a report (not kept with TNT_INGEST_COUNTS_ONLY).
 * @param[out] status_out   tnt_ingest_status
 * @param[out] hash_out     borrowed event hash ID, or NULL when none; may be NULL
 * @param[out] errors_out   number of its errors; may be NULL
 * @return TNT_OK or TNT_E_NOTFOUND past the end
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_ingest_report_event(int *status_out, const char **hash_out, size_t *errors_out,
                                              const tnt_ingest_report *report, size_t index);

/**
 * One error of one event of a report (code, JSON path, message; borrowed).
 * @return TNT_OK or TNT_E_NOTFOUND
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_ingest_report_error(const char **code_out, const char **path_out, const char **message_out,
                                              const tnt_ingest_report *report, size_t index, size_t error);

/**
 * The report as JSON: {"events":N,"accepted":…,"duplicates":…,"rejected":…,
 * "results":[{"index":…,"status":"accepted","hash":…,"errors":[…]}]}.
 * @param[out] out caller owns; free with tnt_free()
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_ingest_report_json(char **out, size_t *len_out, const tnt_ingest_report *report);

/* ---- track ---- */

/** The current state of a unit, case or pallet (opaque). */
typedef struct tnt_track tnt_track;

/** String fields of a track. */
typedef enum tnt_track_field {
    TNT_TRACK_ID = 1,            /**< canonical identifier */
    TNT_TRACK_READ_POINT = 2,    /**< last read point */
    TNT_TRACK_BIZ_LOCATION = 3,  /**< last business location (the container's, when it moved since) */
    TNT_TRACK_BIZ_STEP = 4,
    TNT_TRACK_DISPOSITION = 5,
    TNT_TRACK_PARENT = 6,        /**< the case or pallet it is in, if any */
    TNT_TRACK_OWNER = 7,         /**< last owning party */
    TNT_TRACK_POSSESSOR = 8,     /**< last possessing party */
    TNT_TRACK_LAST_EVENT = 9,    /**< hash ID of the last event */
    TNT_TRACK_LOCATION_NAME = 10 /**< name of the location from master data */
} tnt_track_field;

/**
 * The current state of an identifier (any form). The track reads master
 * data on demand (location name, excursion flags, JSON): free it before
 * closing the engine.
 * @param[out] out caller owns; free with tnt_track_free()
 * @return TNT_OK; TNT_E_NOTFOUND (never seen); TNT_E_INVALID (not an identifier,
 *         detail in tnt_error_last()); TNT_E_BACKEND
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_track(tnt_track **out, tnt_engine *engine, const char *id);

/** Free a track; NULL is a no-op. @since 1.0 */
TNT_EXTERN void tnt_track_free(tnt_track *track);

/** A string field of a track, or NULL. Borrowed. Thread-safety: safe per handle. @since 1.0 */
TNT_EXTERN const char *tnt_track_get(const tnt_track *track, tnt_track_field field);

/**
 * Times and counts of a track. Any pointer may be NULL.
 * @param[out] last_time_ms_out time of the last event (UTC ms)
 * @param[out] event_count_out  events recorded for it (and for its containers since it was packed: not counted)
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN void tnt_track_times(const tnt_track *track, int64_t *last_time_ms_out, size_t *event_count_out);

/**
 * The latest condition readings (one per measurement type), with excursion
 * flags against the product's allowed range from master data.
 * @return number of readings
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN size_t tnt_track_reading_count(const tnt_track *track);

/**
 * One reading.
 * @param[out] type_out      measurement type ("Temperature"); borrowed
 * @param[out] value_out     value in the canonical unit
 * @param[out] uom_out       the unit ("CEL"); borrowed
 * @param[out] time_ms_out   when it was read
 * @param[out] excursion_out 1 when outside the product's allowed range (master data), else 0
 * @return TNT_OK or TNT_E_NOTFOUND
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_track_reading(const char **type_out, double *value_out, const char **uom_out,
                                        int64_t *time_ms_out, int *excursion_out, const tnt_track *track,
                                        size_t index);

/**
 * The track as JSON (every field above, coordinates and names of the
 * location from master data, and the excursion flags).
 * @param[out] out caller owns; free with tnt_free()
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_track_json(char **out, size_t *len_out, const tnt_track *track);

/* ---- history ---- */

/** One page of a product's journey (opaque). */
typedef struct tnt_history tnt_history;

/**
 * The events of an identifier, oldest first, from the state store and the
 * cold archive alike.
 * @param[out] out caller owns; free with tnt_history_free()
 * @param page_token NULL for the first page, else tnt_history_next_token() of the previous page
 * @param limit      events per page; 0: 100
 * @return TNT_OK (possibly an empty page), TNT_E_NOTFOUND (never seen),
 *         TNT_E_INVALID (bad identifier or token), TNT_E_CORRUPT (a stored or
 *         archived event that does not read back as it was stored), TNT_E_BACKEND
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_history(tnt_history **out, tnt_engine *engine, const char *id,
                                         const char *page_token, size_t limit);

/** Free a history page; NULL is a no-op. @since 1.0 */
TNT_EXTERN void tnt_history_free(tnt_history *history);

/** Number of events in the page. @since 1.0 */
TNT_EXTERN size_t tnt_history_count(const tnt_history *history);

/** Event @p index of the page, borrowed until tnt_history_free(), or NULL. @since 1.0 */
TNT_EXTERN tnt_event *tnt_history_event(const tnt_history *history, size_t index);

/** The token of the next page, or NULL on the last page. Borrowed. @since 1.0 */
TNT_EXTERN const char *tnt_history_next_token(const tnt_history *history);

/**
 * The page as JSON: {"id":…,"events":[…EPCIS events…],"next":token|null}.
 * @param[out] out caller owns; free with tnt_free()
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_history_json(char **out, size_t *len_out, const tnt_history *history);

/**
 * One stored event by its hash ID, or by the eventID its sender gave it
 * (the first event stored with that eventID).
 * @param[out] out caller owns; free with tnt_event_free()
 * @return TNT_OK, TNT_E_NOTFOUND, or TNT_E_INVALID (empty, or too long to be an eventID)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_event(tnt_event **out, tnt_engine *engine, const char *hash_id);

/* ---- queries (the EPCIS 2.0 query parameters) ---- */

/**
 * A query over stored events. Every list is an OR of its values; the
 * parameters are ANDed; an empty list or a 0 time does not filter.
 * Initialise with TNT_QUERY_INIT or tnt_query_init().
 */
typedef struct tnt_query {
    unsigned int version;                 /**< TNT_QUERY_VERSION */
    const char *const *event_types;       /**< eventType: "ObjectEvent", "AggregationEvent", ... */
    size_t event_type_count;
    int64_t ge_event_time_ms;             /**< GE_eventTime (UTC ms); 0: none */
    int64_t lt_event_time_ms;             /**< LT_eventTime; 0: none */
    int64_t ge_record_time_ms;            /**< GE_recordTime; 0: none */
    int64_t lt_record_time_ms;            /**< LT_recordTime; 0: none */
    const char *const *biz_steps;         /**< EQ_bizStep: bare CBV names or URIs */
    size_t biz_step_count;
    const char *const *dispositions;      /**< EQ_disposition */
    size_t disposition_count;
    const char *const *read_points;       /**< EQ_readPoint: location identifiers in any form (a bare 13-digit GLN too) */
    size_t read_point_count;
    const char *const *biz_locations;     /**< EQ_bizLocation */
    size_t biz_location_count;
    const char *const *match_epcs;        /**< MATCH_epc: epcList or childEPCs holds one of them */
    size_t match_epc_count;
    const char *const *match_any_epcs;    /**< MATCH_anyEPC: also parentID, inputs, outputs */
    size_t match_any_epc_count;
    const char *page_token;               /**< NULL: the first page; else tnt_history_next_token() */
    size_t limit;                         /**< events per page; 0: 100; at most 1000 */
} tnt_query;

#define TNT_QUERY_VERSION 1
#define TNT_QUERY_INIT {TNT_QUERY_VERSION, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0}

/**
 * Initialise a query to the defaults of @p version.
 * @return TNT_OK or TNT_E_INVALID (unknown version)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_query_init(tnt_query *query, unsigned int version);

/**
 * Events matching a query, one page, read with the tnt_history_* accessors
 * (tnt_history_json() gives {"id":null,...}). With MATCH_epc or MATCH_anyEPC
 * the histories of those identifiers are read (archived events included),
 * in (eventTime, hash) order; without, each partition's archived segments
 * and then its event log are scanned, in capture order (events past the
 * retention are gone).
 * @param[out] out caller owns; free with tnt_history_free()
 * @return TNT_OK (possibly no events); TNT_E_INVALID (a malformed value or page token, named in the message)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_query(tnt_history **out, tnt_engine *engine, const tnt_query *query);

/* ---- replay, archive, master data, stats ---- */

/**
 * Rebuild the state store from the event log (and the archived log
 * segments), from the beginning (from_time_ms 0) or from the first record
 * at or after from_time_ms (the state of events before it is kept).
 * @param[out] events_out records replayed; may be NULL
 * Thread-safety: safe; ingests wait while it runs. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_replay(tnt_engine *engine, int64_t from_time_ms, size_t *events_out);

/**
 * Move events older than the archive policy to the cold archive (zstd
 * segments with an index), and delete archived events past the retention.
 * @param now_ms "now" (0: the clock)
 * @param[out] archived_out events moved; may be NULL
 * @param[out] expired_out events deleted; may be NULL
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_archive(tnt_engine *engine, int64_t now_ms, size_t *archived_out,
                                         size_t *expired_out);

/** Kinds of master data. */
typedef enum tnt_master_kind {
    TNT_MASTER_PRODUCT = 1,  /**< by GTIN: name, brand, allowed temperature range, shelf life */
    TNT_MASTER_LOCATION = 2, /**< by GLN: name, country, latitude, longitude */
    TNT_MASTER_PARTY = 3     /**< by company prefix: name, role, public key */
} tnt_master_kind;

/**
 * Load master data from a JSON file ({"products":[…],"locations":[…],
 * "parties":[…]}) or a CSV file (the header line names the columns; the
 * kind follows from the key column: gtin, gln or company_prefix). See
 * docs/engine.md ("Master data").
 * @param[out] loaded_out records loaded; may be NULL
 * @return TNT_OK, TNT_E_IO, TNT_E_INVALID (the message names the line and field)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_master_load(tnt_engine *engine, const char *path, size_t *loaded_out);

/**
 * Read a master-data file as tnt_engine_master_load() reads it, without
 * storing anything: its records as a JSON array of
 * {"kind":"product"|"location"|"party","key":…,"where":…}, keys in their
 * canonical form (a GTIN of 14 digits, a GLN of 13). For a host that
 * decides who may keep which records before it loads the same file.
 * @param[out] out caller owns; free with tnt_free()
 * @return TNT_OK, TNT_E_IO, TNT_E_INVALID (as tnt_engine_master_load())
 * Thread-safety: safe. @since 1.1
 */
TNT_EXTERN tnt_status tnt_engine_master_records(char **out, tnt_engine *engine, const char *path);

/**
 * Add or replace one master-data record given as a JSON object.
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_master_put(tnt_engine *engine, tnt_master_kind kind, const char *json,
                                            size_t len);

/**
 * One master-data record as JSON, by its key (GTIN, GLN or company prefix).
 * @param[out] out caller owns; free with tnt_free()
 * @return TNT_OK or TNT_E_NOTFOUND
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_master_get(char **out, tnt_engine *engine, tnt_master_kind kind, const char *key);

/**
 * Counters per operation and sizes, as JSON.
 * @param[out] out caller owns; free with tnt_free()
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_engine_stats(char **out, tnt_engine *engine);

#ifdef __cplusplus
}
#endif
#endif /* TNT_ENGINE_H */
