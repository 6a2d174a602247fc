/*
 * libtnt — reading capture documents event by event:
 * decode -> validate -> hash -> normalise, in constant memory.
 *
 * Input formats (TNT_FORMAT_AUTO tells them apart):
 *  - EPCIS 2.0 JSON / JSON-LD: an EPCISDocument, an EPCISQueryDocument, a
 *    single event object, or a JSON array of events;
 *  - the simple report: {"product_id", "event_type", "location", "timestamp",
 *    "condition", "device_id"}, one object or an array of them (see
 *    docs/simple-report.md), normalised into ObjectEvents;
 *  - protobuf: a tnt.v1.Batch message (proto/tnt.proto).
 *
 * The reader is fed bytes (any chunking) and hands out one event at a time.
 * Each event is accepted or rejected on its own; a document-level syntax
 * error stops the document, and the events before it stand.
 *
 *     tnt_reader *r; tnt_event *ev; tnt_status st;
 *     tnt_reader_new(&r, NULL);
 *     while ((n = read(fd, buf, sizeof buf)) > 0) {
 *         tnt_reader_feed(r, buf, n);
 *         while ((st = tnt_reader_next(&ev, r)) == TNT_OK) use(ev);
 *         if (st < 0) break;                  // document-level error
 *     }
 *     tnt_reader_finish(r);
 *     while ((st = tnt_reader_next(&ev, r)) == TNT_OK) use(ev);
 *     tnt_reader_free(r);
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TNT_DOCUMENT_H
#define TNT_DOCUMENT_H

#include "common.h"
#include "event.h"
#include "ids.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A streaming document reader (opaque). */
typedef struct tnt_reader tnt_reader;

/** Input formats. */
typedef enum tnt_format {
    TNT_FORMAT_AUTO = 0,     /**< '{' or '[' first: JSON; otherwise protobuf */
    TNT_FORMAT_JSON = 1,
    TNT_FORMAT_PROTOBUF = 2
} tnt_format;

/** Output form of identifiers when normalising. */
typedef enum tnt_epc_format {
    TNT_EPC_FORMAT_DIGITAL_LINK = 0, /**< https://id.gs1.org/... (always possible) */
    TNT_EPC_FORMAT_URN = 1           /**< urn:epc:id:... where the company prefix is known, else Digital Link */
} tnt_epc_format;

/** Steps of the pipeline (tnt_reader_options.flags). */
#define TNT_READ_VALIDATE 0x1u   /**< check the EPCIS rules; invalid events carry errors */
#define TNT_READ_HASH 0x2u       /**< compute the canonical event hash ID */
#define TNT_READ_NORMALIZE 0x4u  /**< canonical identifiers, CBV values, UTC times, units */
#define TNT_READ_DEFAULT (TNT_READ_VALIDATE | TNT_READ_HASH | TNT_READ_NORMALIZE)

/** Reader options. Initialise with TNT_READER_OPTIONS_INIT or tnt_reader_options_init(). */
typedef struct tnt_reader_options {
    unsigned int version;          /**< TNT_READER_OPTIONS_VERSION */
    unsigned int format;           /**< tnt_format */
    unsigned int flags;            /**< TNT_READ_* */
    int64_t future_skew_ms;        /**< how far eventTime may lie in the future; < 0: no check. Default 1 h */
    int64_t now_ms;                /**< "now" for that check, ms since the epoch; 0: the system clock */
    size_t max_event_bytes;        /**< largest event accepted, bytes of input. Default 1 MiB */
    size_t max_depth;              /**< deepest JSON nesting, at most 64. Default 32 */
    size_t max_string_bytes;       /**< longest string. Default 64 KiB */
    size_t max_list_items;         /**< longest list. Default 100,000 */
    unsigned int epc_format;       /**< tnt_epc_format */
    const tnt_id_options *id_options; /**< company prefix lengths for EPC URNs; borrowed; may be NULL */
} tnt_reader_options;

#define TNT_READER_OPTIONS_VERSION 1
#define TNT_READER_OPTIONS_INIT                                                                          \
    {TNT_READER_OPTIONS_VERSION, TNT_FORMAT_AUTO, TNT_READ_DEFAULT, 3600000, 0, 1048576, 32, 65536, 100000, \
     TNT_EPC_FORMAT_DIGITAL_LINK, NULL}

/**
 * Initialise reader options to the defaults of @p version.
 * @return TNT_OK, or TNT_E_INVALID for version 0 or one newer than the library knows
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_reader_options_init(tnt_reader_options *opts, unsigned int version);

/**
 * Create a reader.
 * @param[out] out caller owns; free with tnt_reader_free()
 * @param opts options (copied; id_options is borrowed), or NULL for defaults
 * @return TNT_OK, TNT_E_INVALID (bad options version or values), TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_reader_new(tnt_reader **out, const tnt_reader_options *opts);

/** Free a reader and the events it handed out; NULL is a no-op. Thread-safety: safe per handle. @since 1.0 */
TNT_EXTERN void tnt_reader_free(tnt_reader *r);

/**
 * Start a new document with the same options (keeps the memory).
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN void tnt_reader_reset(tnt_reader *r);

/**
 * Feed the next bytes of the document. Call tnt_reader_next() until it
 * returns TNT_AGAIN before feeding more. The bytes are read in place, not
 * copied: keep them unchanged until tnt_reader_next() has returned
 * TNT_AGAIN (or until tnt_reader_finish() for the last chunk).
 * @return TNT_OK; TNT_E_MISUSE after tnt_reader_finish(); or the document-level
 *         error that stopped the document
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_reader_feed(tnt_reader *r, const void *data, size_t len);

/**
 * Declare the end of the document. An incomplete document is reported by
 * the next tnt_reader_next() (TNT_E_SYNTAX), after the events before it.
 * @return TNT_OK, or the document-level error that already stopped it
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_reader_finish(tnt_reader *r);

/**
 * The next event.
 * @param[out] ev_out borrowed; valid until the next call of tnt_reader_next(),
 *             tnt_reader_reset() or tnt_reader_free(); check tnt_event_is_valid()
 * @return TNT_OK (an event, valid or not); TNT_AGAIN (feed more input);
 *         TNT_DONE (the document is finished); or a document-level error:
 *         TNT_E_SYNTAX (malformed JSON/protobuf), TNT_E_TOOBIG (a limit),
 *         TNT_E_INVALID (not an EPCIS document or report), TNT_E_NOMEM —
 *         with the detail in tnt_reader_errmsg()
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN tnt_status tnt_reader_next(tnt_event **ev_out, tnt_reader *r);

/**
 * Detail of the document-level error ("line 3, column 17: invalid string: ...").
 * @return borrowed, never NULL ("" when there is none)
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN const char *tnt_reader_errmsg(const tnt_reader *r);

/**
 * The document's members other than its events (type, schemaVersion,
 * creationDate, @context, epcisHeader, ...), as a JSON object.
 * @return borrowed, NUL-terminated; "{}" before they are read
 * Thread-safety: safe per handle. @since 1.0
 */
TNT_EXTERN const char *tnt_reader_header(tnt_reader *r);

/** Counts so far: events read, of them valid, of them rejected. Any pointer may be NULL. @since 1.0 */
TNT_EXTERN void tnt_reader_counts(const tnt_reader *r, size_t *events_out, size_t *valid_out, size_t *rejected_out);

#ifdef __cplusplus
}
#endif
#endif /* TNT_DOCUMENT_H */
