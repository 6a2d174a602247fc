/* The event model: one struct per EPCIS 2.0 event, allocated in an arena.
 *
 * Strings are NUL-terminated and live in the event's arena. Values keep the
 * form they arrived in until normalisation rewrites them to the canonical
 * form; user extensions and ILMD are kept as JSON trees (tnt__node) so that a
 * round trip loses nothing. */
#ifndef TNT_MODEL_H
#define TNT_MODEL_H

#include <locale.h>

#include "core/core.h"
#include "tnt/event.h"

/* ---- JSON trees: extensions, ILMD, and the parser's output ---- */
enum {
    TNT__N_NULL = 0,
    TNT__N_FALSE = 1,
    TNT__N_TRUE = 2,
    TNT__N_NUMBER = 3,
    TNT__N_STRING = 4,
    TNT__N_ARRAY = 5,
    TNT__N_OBJECT = 6
};

typedef struct tnt__node tnt__node;
struct tnt__node {
    uint8_t kind;
    uint8_t key_id;     /* the key's tnt__epcis_key id when the JSON reader knew it, else 0 */
    uint32_t count;     /* number of children */
    const char *key;    /* member name as written; NULL for array items */
    const char *ns;     /* namespace IRI of a prefixed key, NULL if none/unknown */
    const char *str;    /* string value or number lexeme */
    tnt__node *child;   /* first child */
    tnt__node *last;    /* last child (appending) */
    tnt__node *next;    /* next sibling */
};

tnt__node *tnt__node_new(tnt__arena *a, uint8_t kind, const char *key, const char *str);
void tnt__node_append(tnt__node *parent, tnt__node *child);
tnt__node *tnt__node_get(const tnt__node *obj, const char *key);
tnt__node *tnt__node_copy(tnt__arena *a, const tnt__node *n); /* deep */
/* Well-formed UTF-8: no overlong forms, surrogates or code points past
 * U+10FFFF; U+0000 only if allowed. */
bool tnt__utf8_valid(const char *s, size_t n, bool allow_nul);
/* The local part of a prefixed key ("example:f" -> "f"); the key itself if none. */
const char *tnt__node_local(const tnt__node *n);

/* ---- typed parts of an event ---- */
typedef struct tnt__time {
    int64_t ms;       /* UTC milliseconds since the epoch */
    int16_t off;      /* offset written with the time, minutes east of UTC */
    bool set;
} tnt__time;

typedef struct tnt__strs {
    const char **v;
    uint32_t n;
} tnt__strs;

typedef struct tnt__qty {
    const char *epc_class;
    double quantity;
    bool has_quantity;
    const char *uom;
    tnt__node *ext; /* object node of extension members, or NULL */
} tnt__qty;

typedef struct tnt__qtys {
    tnt__qty *v;
    uint32_t n;
} tnt__qtys;

/* A bizTransaction, source or destination. */
typedef struct tnt__ref {
    const char *type;
    const char *value;
    tnt__node *ext;
} tnt__ref;

typedef struct tnt__refs {
    tnt__ref *v;
    uint32_t n;
} tnt__refs;

/* Numeric fields of a sensor report, indexed for loops. */
enum {
    TNT__SR_VALUE = 0,
    TNT__SR_MIN,
    TNT__SR_MAX,
    TNT__SR_MEAN,
    TNT__SR_SDEV,
    TNT__SR_PERC_RANK,
    TNT__SR_PERC_VALUE,
    TNT__SR_NUMS
};

typedef struct tnt__sreport {
    const char *type;
    const char *exception;
    const char *device_id;
    const char *device_metadata;
    const char *raw_data;
    const char *data_processing_method;
    const char *biz_rules;
    tnt__time time;
    const char *microorganism;
    const char *chemical_substance;
    const char *coordinate_reference_system;
    const char *component;
    const char *string_value;
    int8_t boolean_value; /* -1 absent, 0 false, 1 true */
    const char *hex_binary_value;
    const char *uri_value;
    const char *uom;
    double num[TNT__SR_NUMS];
    uint8_t has_num; /* bit i: num[i] present */
    tnt__node *ext;
} tnt__sreport;

typedef struct tnt__smeta {
    tnt__time time, start_time, end_time;
    const char *device_id;
    const char *device_metadata;
    const char *raw_data;
    const char *data_processing_method;
    const char *biz_rules;
    tnt__node *ext;
} tnt__smeta;

typedef struct tnt__sensor {
    bool has_meta;
    tnt__smeta meta;
    tnt__sreport *reports;
    uint32_t n_reports;
    tnt__node *ext;
} tnt__sensor;

typedef struct tnt__errdecl {
    tnt__time declaration_time;
    const char *reason;
    tnt__strs corrective_ids;
    tnt__node *ext;
} tnt__errdecl;

/* A namespace prefix in use: "example" -> "https://ns.example.com/epcis/". */
typedef struct tnt__prefix {
    const char *prefix;
    const char *iri;
} tnt__prefix;

/* One validation or decoding error. */
typedef struct tnt__diag {
    const char *code;
    const char *path;
    const char *message;
} tnt__diag;

/* Lists present in the input even when empty (kept for the round trip). */
enum {
    TNT__P_EPC_LIST = 1u << 0,
    TNT__P_CHILD_EPCS = 1u << 1,
    TNT__P_INPUT_EPCS = 1u << 2,
    TNT__P_OUTPUT_EPCS = 1u << 3,
    TNT__P_QUANTITY_LIST = 1u << 4,
    TNT__P_CHILD_QUANTITY = 1u << 5,
    TNT__P_INPUT_QUANTITY = 1u << 6,
    TNT__P_OUTPUT_QUANTITY = 1u << 7,
    TNT__P_BIZ_TRANSACTIONS = 1u << 8,
    TNT__P_SOURCES = 1u << 9,
    TNT__P_DESTINATIONS = 1u << 10,
    TNT__P_SENSORS = 1u << 11,
    TNT__P_ILMD = 1u << 12,
    TNT__P_READ_POINT = 1u << 13,   /* readPoint object present (maybe without id) */
    TNT__P_BIZ_LOCATION = 1u << 14,
    TNT__P_CERT_LIST = 1u << 15     /* certificationInfo was an array */
};

#define TNT__HASH_ID_MAX 96

/* Deepest nesting an event may have: JSON levels from the event object, and
 * submessage levels of its protobuf form (which are never more), so that
 * every event the reader accepts can also be cloned and stored. */
#define TNT__MAX_DEPTH 64

struct tnt_event {
    tnt__arena *arena;    /* where everything below lives */
    bool owns_arena;      /* a clone owns its arena; reader events borrow the reader's */
    size_t index;         /* position in the source document */
    const char *source_path; /* JSON path of the event in its document, e.g. "$.epcisBody.eventList[3]" */

    uint8_t type;         /* tnt_event_type */
    uint8_t action;       /* tnt_action */
    uint32_t present;     /* TNT__P_* */

    tnt__time event_time;
    const char *event_time_zone_offset;
    tnt__time record_time;
    const char *event_id;
    tnt__strs certification_info;
    tnt__errdecl *error_decl;

    tnt__strs epc_list;
    const char *parent_id;
    tnt__strs child_epcs;
    tnt__qtys quantity_list;
    tnt__qtys child_quantity_list;
    tnt__strs input_epcs;
    tnt__qtys input_quantity_list;
    tnt__strs output_epcs;
    tnt__qtys output_quantity_list;
    const char *transformation_id;

    const char *biz_step;
    const char *disposition;
    bool has_pd;
    tnt__strs pd_set, pd_unset;
    const char *read_point;
    tnt__node *read_point_ext;
    const char *biz_location;
    tnt__node *biz_location_ext;
    tnt__refs biz_transactions, sources, destinations;
    tnt__sensor *sensors;
    uint32_t n_sensors;
    tnt__node *ilmd;      /* object node, or NULL */
    tnt__node *ext;       /* object node holding the event's extension members, or NULL */

    tnt__prefix *prefixes; /* capacity: n_prefixes rounded up to a power of two */
    uint32_t n_prefixes;
    uint32_t *prefix_index; /* open addressing over prefixes (index + 1), once there are many; or NULL */
    uint32_t prefix_index_cap;

    char hash_id[TNT__HASH_ID_MAX];

    tnt__diag *diags;
    uint32_t n_diags, cap_diags;

    tnt__node *view;      /* lazily built JSON view for tnt_event_get() */
};

/* Record an error on an event; path and message are copied into its arena.
 * Returns false only when out of memory. */
bool tnt__event_diag(tnt_event *ev, const char *code, const char *path, const char *fmt, ...) TNT__PRINTF(4, 5);
/* Start a fresh event in an arena (the arena is not reset here). */
tnt_event *tnt__event_new(tnt__arena *a);
/* Deep copy into a new arena owned by the copy. */
tnt_event *tnt__event_clone(const tnt_event *src);
/* Add a prefix declaration the event uses (deduplicated: a later one with
 * the same name replaces the IRI). Amortised constant time, so that a
 * document declaring thousands of prefixes costs linear time and memory. */
bool tnt__event_add_prefix(tnt_event *ev, const char *prefix, const char *iri);

/* ---- time ---- */
/* What xsd:dateTime text can say here: 0001-01-01T00:00:00.000Z to
 * 9999-12-31T23:59:59.999Z, offsets up to 14 hours. */
#define TNT__TIME_MIN_MS INT64_C(-62135596800000)
#define TNT__TIME_MAX_MS INT64_C(253402300799999)
#define TNT__OFFSET_MAX 840

/* Parse an xsd:dateTime with a mandatory offset ('Z' or +hh:mm). Fractions
 * beyond milliseconds are rounded half to even on the microsecond count,
 * as the GS1 event hash's reference implementation does. */
bool tnt__time_parse(tnt__time *t, const char *s);
/* Format as 2020-03-04T10:00:30.000Z (utc) or with the stored offset. buf >= 32.
 * Returns the length. */
size_t tnt__time_format(char *buf, const tnt__time *t, bool utc);
/* Parse an offset "+hh:mm" / "-hh:mm" / "Z" into minutes. */
bool tnt__offset_parse(int16_t *minutes, const char *s);

/* ---- numbers ---- */
/* Number text is JSON's, whatever the host's LC_NUMERIC: a host that calls
 * setlocale(LC_ALL, "") in Germany would otherwise read and write "26,5".
 * Switch the calling thread to the C locale around number conversions;
 * give the result to tnt__c_numeric_end. */
locale_t tnt__c_numeric_begin(void);
void tnt__c_numeric_end(locale_t old);
/* Shortest decimal text that reads back as the same double ("26", "26.2", "1e+21"). */
void tnt__num_format(char *buf, size_t cap, double v);
bool tnt__num_parse(double *out, const char *s);

#endif /* TNT_MODEL_H */
