/*
 * libtnt — the EPCIS 2.0 event model: read any field of an event without
 * parsing JSON, serialise it to EPCIS JSON or to the protobuf wire form.
 *
 * Events come from a tnt_reader (document.h): those are borrowed and valid
 * until the next tnt_reader_next() or tnt_reader_free(). Keep one longer with
 * tnt_event_clone(). Every accessor returns borrowed data, valid as long as
 * the event is.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TNT_EVENT_H
#define TNT_EVENT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An EPCIS event (opaque). */
typedef struct tnt_event tnt_event;

/** Event types. Numbers are stable. */
typedef enum tnt_event_type {
    TNT_EVENT_UNKNOWN = 0,
    TNT_EVENT_OBJECT = 1,
    TNT_EVENT_AGGREGATION = 2,
    TNT_EVENT_TRANSACTION = 3,
    TNT_EVENT_TRANSFORMATION = 4,
    TNT_EVENT_ASSOCIATION = 5
} tnt_event_type;

/** The action of an event (TransformationEvent has none). */
typedef enum tnt_action {
    TNT_ACTION_NONE = 0,
    TNT_ACTION_ADD = 1,
    TNT_ACTION_OBSERVE = 2,
    TNT_ACTION_DELETE = 3
} tnt_action;

/** Single-valued string fields. Numbers are stable. */
typedef enum tnt_field {
    TNT_FIELD_EVENT_ID = 1,
    TNT_FIELD_EVENT_TIME_ZONE_OFFSET = 2,
    TNT_FIELD_PARENT_ID = 3,
    TNT_FIELD_TRANSFORMATION_ID = 4,
    TNT_FIELD_BIZ_STEP = 5,
    TNT_FIELD_DISPOSITION = 6,
    TNT_FIELD_READ_POINT = 7,
    TNT_FIELD_BIZ_LOCATION = 8,
    TNT_FIELD_HASH_ID = 9,          /**< the canonical event hash ID */
    TNT_FIELD_ERROR_REASON = 10     /**< errorDeclaration.reason */
} tnt_field;

/** String lists. Numbers are stable. */
typedef enum tnt_list {
    TNT_LIST_EPC = 1,               /**< epcList */
    TNT_LIST_CHILD_EPC = 2,         /**< childEPCs */
    TNT_LIST_INPUT_EPC = 3,         /**< inputEPCList */
    TNT_LIST_OUTPUT_EPC = 4,        /**< outputEPCList */
    TNT_LIST_CERTIFICATION_INFO = 5,
    TNT_LIST_PD_SET = 6,            /**< persistentDisposition.set */
    TNT_LIST_PD_UNSET = 7,          /**< persistentDisposition.unset */
    TNT_LIST_CORRECTIVE_EVENT_ID = 8 /**< errorDeclaration.correctiveEventIDs */
} tnt_list;

/** Quantity lists. */
typedef enum tnt_qlist {
    TNT_QLIST_QUANTITY = 1,         /**< quantityList */
    TNT_QLIST_CHILD = 2,            /**< childQuantityList */
    TNT_QLIST_INPUT = 3,            /**< inputQuantityList */
    TNT_QLIST_OUTPUT = 4            /**< outputQuantityList */
} tnt_qlist;

/** bizTransactionList, sourceList, destinationList. */
typedef enum tnt_ref_list {
    TNT_REF_BIZ_TRANSACTION = 1,
    TNT_REF_SOURCE = 2,
    TNT_REF_DESTINATION = 3
} tnt_ref_list;

/** Times. */
typedef enum tnt_time_field {
    TNT_TIME_EVENT = 1,             /**< eventTime */
    TNT_TIME_RECORD = 2,            /**< recordTime */
    TNT_TIME_ERROR_DECLARATION = 3  /**< errorDeclaration.declarationTime */
} tnt_time_field;

/** Kinds of tnt_value. */
typedef enum tnt_value_kind {
    TNT_VALUE_NULL = 0,
    TNT_VALUE_BOOL = 1,
    TNT_VALUE_NUMBER = 2,
    TNT_VALUE_STRING = 3,
    TNT_VALUE_ARRAY = 4,
    TNT_VALUE_OBJECT = 5
} tnt_value_kind;

/** A field read through tnt_event_get(). Transparent; fields are only appended. */
typedef struct tnt_value {
    int kind;            /**< tnt_value_kind */
    const char *string;  /**< string value, or the number's text; borrowed */
    double number;       /**< TNT_VALUE_NUMBER */
    int boolean;         /**< TNT_VALUE_BOOL: 0 or 1 */
    size_t count;        /**< TNT_VALUE_ARRAY / OBJECT: number of children */
} tnt_value;

/** Name of an event type as EPCIS writes it ("ObjectEvent"); "" for unknown. Static. Thread-safety: safe. @since 1.0 */
TNT_EXTERN const char *tnt_event_type_name(tnt_event_type type);

/** The type of an event. Thread-safety: safe (read-only). @since 1.0 */
TNT_EXTERN tnt_event_type tnt_event_get_type(const tnt_event *ev);

/** The action (TNT_ACTION_NONE when absent). Thread-safety: safe. @since 1.0 */
TNT_EXTERN tnt_action tnt_event_get_action(const tnt_event *ev);

/**
 * A time of the event.
 * @param[out] ms_out     milliseconds since 1970-01-01T00:00:00Z (UTC)
 * @param[out] offset_out offset it was written with, minutes east of UTC; may be NULL
 * @return TNT_OK, or TNT_E_NOTFOUND when the event has no such time
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_get_time(int64_t *ms_out, int *offset_out, const tnt_event *ev, tnt_time_field which);

/**
 * A single-valued string field.
 * @return borrowed string, or NULL when absent
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN const char *tnt_event_get_string(const tnt_event *ev, tnt_field field);

/** Number of items of a string list. Thread-safety: safe. @since 1.0 */
TNT_EXTERN size_t tnt_event_list_count(const tnt_event *ev, tnt_list list);

/** Item @p index of a string list, or NULL past the end. Borrowed. Thread-safety: safe. @since 1.0 */
TNT_EXTERN const char *tnt_event_list_at(const tnt_event *ev, tnt_list list, size_t index);

/** Number of quantity elements of a quantity list. Thread-safety: safe. @since 1.0 */
TNT_EXTERN size_t tnt_event_qlist_count(const tnt_event *ev, tnt_qlist list);

/**
 * One quantity element.
 * @param[out] epc_class_out borrowed EPC class
 * @param[out] quantity_out  the quantity (undefined when has_quantity_out is 0); may be NULL
 * @param[out] has_quantity_out 1 when a quantity is given; may be NULL
 * @param[out] uom_out       borrowed unit code or NULL; may be NULL
 * @return TNT_OK or TNT_E_NOTFOUND past the end
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_qlist_at(const char **epc_class_out, double *quantity_out, int *has_quantity_out,
                                         const char **uom_out, const tnt_event *ev, tnt_qlist list, size_t index);

/** Number of bizTransactions, sources or destinations. Thread-safety: safe. @since 1.0 */
TNT_EXTERN size_t tnt_event_ref_count(const tnt_event *ev, tnt_ref_list list);

/**
 * One bizTransaction, source or destination.
 * @param[out] type_out  borrowed type (CBV value or URI), or NULL when untyped
 * @param[out] value_out borrowed value
 * @return TNT_OK or TNT_E_NOTFOUND past the end
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_ref_at(const char **type_out, const char **value_out, const tnt_event *ev,
                                       tnt_ref_list list, size_t index);

/** Number of sensor elements. Thread-safety: safe. @since 1.0 */
TNT_EXTERN size_t tnt_event_sensor_count(const tnt_event *ev);

/** Number of reports of sensor element @p sensor. Thread-safety: safe. @since 1.0 */
TNT_EXTERN size_t tnt_event_sensor_report_count(const tnt_event *ev, size_t sensor);

/**
 * The measurement of one sensor report: its type, value and unit.
 * @param[out] type_out  borrowed measurement type ("Temperature" or a URI)
 * @param[out] value_out the value; may be NULL
 * @param[out] has_value_out 1 when the report has a numeric value; may be NULL
 * @param[out] uom_out   borrowed unit (UN/CEFACT code) or NULL; may be NULL
 * @return TNT_OK or TNT_E_NOTFOUND
 * Other report fields are read with tnt_event_get().
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_sensor_report_at(const char **type_out, double *value_out, int *has_value_out,
                                                 const char **uom_out, const tnt_event *ev, size_t sensor,
                                                 size_t report);

/**
 * Read any field by its path in the event's EPCIS JSON form, for example
 * "bizStep", "readPoint.id", "epcList[2]", "sensorElementList[0].sensorReport[1].value",
 * "ilmd.cbvmda:lotNumber", "example:myField.example:sub". Keys are written as in
 * the event's JSON (extensions with their prefix).
 * @param[out] out the value; its strings are borrowed from @p ev
 * @return TNT_OK, TNT_E_NOTFOUND, TNT_E_INVALID (malformed path), TNT_E_NOMEM
 * Thread-safety: safe per handle (the first call builds a cached view).
 * @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_get(tnt_value *out, tnt_event *ev, const char *path);

/** Number of namespace prefixes the event's extensions use. Thread-safety: safe. @since 1.0 */
TNT_EXTERN size_t tnt_event_prefix_count(const tnt_event *ev);

/**
 * One namespace prefix of the event's extensions ("example" ->
 * "https://ns.example.com/epcis/").
 * @return TNT_OK or TNT_E_NOTFOUND past the end
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_prefix_at(const char **prefix_out, const char **iri_out, const tnt_event *ev,
                                          size_t index);

/** Position of the event in its source document (0-based). Thread-safety: safe. @since 1.0 */
TNT_EXTERN size_t tnt_event_index(const tnt_event *ev);

/** 1 if the event passed validation (has no errors), else 0. Thread-safety: safe. @since 1.0 */
TNT_EXTERN int tnt_event_is_valid(const tnt_event *ev);

/** Number of validation errors of the event. Thread-safety: safe. @since 1.0 */
TNT_EXTERN size_t tnt_event_error_count(const tnt_event *ev);

/**
 * One validation error.
 * @param[out] code_out    borrowed stable code, e.g. "REQUIRED", "VOCABULARY"; may be NULL
 * @param[out] path_out    borrowed JSON path, e.g. "$.epcisBody.eventList[3].bizStep"; may be NULL
 * @param[out] message_out borrowed human text; may be NULL
 * @return TNT_OK or TNT_E_NOTFOUND past the end
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_error_at(const char **code_out, const char **path_out, const char **message_out,
                                         const tnt_event *ev, size_t index);

/**
 * Copy an event so it outlives its reader.
 * @param[out] out caller owns; free with tnt_event_free()
 * @return TNT_OK or TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_clone(tnt_event **out, const tnt_event *ev);

/** Free an event made by tnt_event_clone() or tnt_event_from_proto(); NULL is a no-op. @since 1.0 */
TNT_EXTERN void tnt_event_free(tnt_event *ev);

/** Flags of tnt_event_to_json(). */
#define TNT_JSON_PRETTY 0x1u   /**< indent with two spaces */
#define TNT_JSON_CONTEXT 0x2u  /**< add "@context" (the EPCIS context and the event's prefixes) */
#define TNT_JSON_HASH_ID 0x4u  /**< write the event hash ID as eventID when the event has none */

/**
 * The event as EPCIS 2.0 JSON-LD.
 * @param[out] out caller owns, NUL-terminated; free with tnt_free()
 * @param[out] len_out its length; may be NULL
 * @return TNT_OK or TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_to_json(char **out, size_t *len_out, const tnt_event *ev, unsigned int flags);

/**
 * The event in the protobuf wire form (proto/tnt.proto, message tnt.v1.Event).
 * @param[out] out caller owns; free with tnt_free()
 * @return TNT_OK or TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_to_proto(void **out, size_t *len_out, const tnt_event *ev);

/**
 * Decode one tnt.v1.Event message, without validation (use a tnt_reader for
 * validated, normalised, hashed input).
 * @param[out] out caller owns; free with tnt_event_free()
 * @return TNT_OK, TNT_E_SYNTAX (malformed message, detail in tnt_error_last()),
 *         TNT_E_TOOBIG, TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_event_from_proto(tnt_event **out, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* TNT_EVENT_H */
