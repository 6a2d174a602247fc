/* CBV 2.0 vocabularies and their forms: bare names, Web URIs, URNs, CURIEs. */
#ifndef TNT_CBV_H
#define TNT_CBV_H

#include <stdbool.h>
#include <stddef.h>

enum {
    TNT__V_BIZSTEP,
    TNT__V_DISP,
    TNT__V_BTT,        /* bizTransaction type */
    TNT__V_SDT,        /* source/destination type */
    TNT__V_ER,         /* error reason */
    TNT__V_MEASURE,    /* sensor report type (gs1:MeasurementType) */
    TNT__V_ALERT,      /* sensor report exception */
    TNT__V_COMPONENT,  /* sensor report component */
    TNT__V_COUNT
};

enum {
    TNT__CBV_STANDARD, /* a value of the vocabulary, in any of its forms */
    TNT__CBV_CUSTOM,   /* a URI outside the standard's namespaces */
    TNT__CBV_UNKNOWN   /* a bare name or standard-namespace URI that is not in the vocabulary */
};

/* Classify a value; for standard values *bare is the static bare name. */
int tnt__cbv_lookup(int vocab, const char *value, const char **bare);
/* False when the JSON binding excludes the form value is written in: a CBV
 * URN (urn:epcglobal:cbv:...), an ns.gs1.org/cbv URI, or a gs1.org/voc Web
 * URI of a measurement or sensor alert type. */
bool tnt__cbv_json_form(int vocab, const char *value);
/* Web URI of a standard bare name ("https://ref.gs1.org/cbv/BizStep-shipping"). */
size_t tnt__cbv_web_uri(char *buf, size_t cap, int vocab, const char *bare);
/* Human name of a vocabulary ("bizStep"). */
const char *tnt__cbv_name(int vocab);
/* The bare names of a vocabulary, sorted (for tests). */
const char *const *tnt__cbv_values(int vocab, size_t *n);

/* An absolute URI by the grammar of RFC 3986 (ASCII only: an IRI is not a
 * URI), as the EPCIS JSON schema's "format": "uri" requires. */
bool tnt__is_uri(const char *s);

#endif /* TNT_CBV_H */
