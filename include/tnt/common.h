/*
 * libtnt — common definitions: export macro, status codes, errors, memory,
 * library lifecycle and version queries.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TNT_COMMON_H
#define TNT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export macro --------------------------------------------------------
 * TNT_BUILDING_SHARED is defined while building the shared library,
 * TNT_USING_SHARED by consumers of it on Windows. Packagers may predefine
 * TNT_EXTERN to override both. */
#if defined(TNT_BUILDING_SHARED) && defined(TNT_USING_SHARED)
#error "define at most one of TNT_BUILDING_SHARED and TNT_USING_SHARED"
#endif
#ifndef TNT_EXTERN
#if defined(_WIN32)
#if defined(TNT_BUILDING_SHARED)
#define TNT_EXTERN __declspec(dllexport)
#elif defined(TNT_USING_SHARED)
#define TNT_EXTERN __declspec(dllimport)
#else
#define TNT_EXTERN
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define TNT_EXTERN __attribute__((visibility("default")))
#else
#define TNT_EXTERN
#endif
#endif

#ifndef TNT_DEPRECATED
#if defined(__GNUC__)
#define TNT_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define TNT_DEPRECATED(msg)
#endif
#endif

/* ---- status codes --------------------------------------------------------
 * Every fallible call returns a tnt_status: TNT_OK (0) on success, a
 * negative code on error. Positive codes are informational results of
 * iterators. Codes are never renumbered; a retired code becomes
 * TNT_E_OBSOLETEnn. Rows are XX(name, value, text). */
#define TNT_STATUS_MAP(XX)                                                     \
    XX(OK, 0, "success")                                                       \
    XX(DONE, 1, "no more items")                                               \
    XX(AGAIN, 2, "more input is needed")                                       \
    XX(E_INVALID, -1, "invalid input")                                         \
    XX(E_NOMEM, -2, "out of memory")                                           \
    XX(E_NOTFOUND, -3, "not found")                                            \
    XX(E_EXISTS, -4, "already exists")                                         \
    XX(E_IO, -5, "input/output error")                                         \
    XX(E_TIMEOUT, -6, "timed out")                                             \
    XX(E_BACKEND, -7, "backend error")                                         \
    XX(E_MISUSE, -8, "library misuse")                                         \
    XX(E_UNSUPPORTED, -9, "not supported")                                     \
    XX(E_TOOBIG, -10, "input exceeds a configured limit")                      \
    XX(E_SYNTAX, -11, "malformed input")                                       \
    XX(E_GCP, -12, "GS1 company prefix length unknown")                        \
    XX(E_CONFLICT, -13, "conflicting concurrent update")                       \
    XX(E_CORRUPT, -14, "stored data is corrupt")                               \
    XX(E_VERSION, -15, "version mismatch")

/** Status codes. */
typedef enum tnt_status_code {
#define TNT__XX(name, value, text) TNT_##name = value,
    TNT_STATUS_MAP(TNT__XX)
#undef TNT__XX
    TNT__STATUS_MIN = -15 /* lowest code in this release; grows downwards */
} tnt_status_code;

/** The return type of every fallible call: a tnt_status_code value. */
typedef int tnt_status;

/** One row of the status table, for bindings that generate their errors. */
typedef struct tnt_status_desc {
    int code;          /**< the status value */
    const char *name;  /**< "TNT_E_INVALID" */
    const char *text;  /**< "invalid input" */
} tnt_status_desc;

/**
 * Human-readable text of a status code.
 * @param status a tnt_status value (unknown values are allowed)
 * @return a static string, never NULL
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN const char *tnt_status_str(tnt_status status);

/**
 * Symbolic name of a status code ("TNT_E_INVALID").
 * @return a static string, never NULL ("TNT_E_UNKNOWN" for unknown values)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN const char *tnt_status_name(tnt_status status);

/**
 * The whole status table.
 * @param[out] descs_out borrowed pointer to a static array
 * @param[out] count_out number of rows
 * @return TNT_OK, or TNT_E_MISUSE if an argument is NULL
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_status_descs(const tnt_status_desc **descs_out, size_t *count_out);

/**
 * Detail of the last failure on the calling thread: what failed and where
 * (for example "eventTime: invalid timestamp '2020-13-01T00:00Z'").
 * @return a library-owned string, never NULL; valid until the next libtnt
 *         call on this thread. Empty when there is no detail.
 * Thread-safety: safe (the message is thread-local). @since 1.0
 */
TNT_EXTERN const char *tnt_error_last(void);

/**
 * Status code of the last failure on the calling thread (TNT_OK if none).
 * Thread-safety: safe (thread-local). @since 1.0
 */
TNT_EXTERN tnt_status tnt_error_last_code(void);

/**
 * Free memory that the library allocated and handed to the caller
 * (strings and buffers documented as "caller owns; free with tnt_free").
 * @param ptr may be NULL (no-op)
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN void tnt_free(void *ptr);

/**
 * Initialise the library. Reference-counted: each successful call must be
 * matched by tnt_shutdown(). Calling it is optional for the stateless
 * parts (identifiers, codecs); handles call it implicitly.
 * @return TNT_OK or TNT_E_NOMEM
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_init(void);

/**
 * Drop one reference taken by tnt_init().
 * Thread-safety: not thread-safe; call it last, after every handle is freed.
 * @since 1.0
 */
TNT_EXTERN void tnt_shutdown(void);

/**
 * Run-time version of the library: MAJOR*10000 + MINOR*100 + PATCH.
 * Compare with TNT_VERSION_NUMBER from <tnt/version.h>.
 * Thread-safety: safe. @since 1.0
 */
TNT_EXTERN int tnt_version_number(void);

/**
 * Run-time version of the library as "MAJOR.MINOR.PATCH".
 * @return a static string. Thread-safety: safe. @since 1.0
 */
TNT_EXTERN const char *tnt_version_string(void);

/**
 * Report the features compiled into this build, comma separated
 * (for example "json,protobuf,ids,hash").
 * @return a static string. Thread-safety: safe. @since 1.0
 */
TNT_EXTERN const char *tnt_features(void);

#ifdef __cplusplus
}
#endif
#endif /* TNT_COMMON_H */
