/* UN/ECE Recommendation 20 unit codes of sensor readings, by measurement
 * type, with the conversion to one canonical unit per type. */
#ifndef TNT_UNITS_H
#define TNT_UNITS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tnt__unit {
    const char *code;     /* "FAH" */
    const char *measure;  /* its gs1:MeasurementType, "Temperature" */
    const char *canon;    /* the canonical unit of that type, "CEL" */
    double factor;        /* canonical = value * factor + offset */
    double offset;
} tnt__unit;

/* A unit we know, or NULL. */
const tnt__unit *tnt__unit_find(const char *code);
/* The canonical unit of a measurement type, or NULL when we do not convert it. */
const char *tnt__unit_canonical(const char *measure);
/* The rows of the table, for tests. */
size_t tnt__unit_count(void);
const tnt__unit *tnt__unit_row(size_t i);
/* A code that matches the schema's pattern ^[A-Z0-9]{2,3}$. */
bool tnt__unit_syntax(const char *code);

#endif /* TNT_UNITS_H */
