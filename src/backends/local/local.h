/* The embedded backend, scheme "file": the event log as segment files, the
 * state store in LMDB, the archive as a directory of files. See
 * docs/storage.md for the on-disk formats and the durability argument. */
#ifndef TNT_BACKENDS_LOCAL_H
#define TNT_BACKENDS_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h" /* little-endian integer coding */
#include "tnt/sys/backend.h"

/* The built-in backend the registry installs on first use. */
extern const tnt_backend tnt__local_backend;

tnt_status tnt__local_open_log(tnt_log **out, const char *uri, const char *const *settings, void *user_data,
                               char *errbuf, size_t errbuf_size);
tnt_status tnt__local_open_store(tnt_store **out, const char *uri, const char *const *settings, void *user_data,
                                 char *errbuf, size_t errbuf_size);
tnt_status tnt__local_open_archive(tnt_archive **out, const char *uri, const char *const *settings,
                                   void *user_data, char *errbuf, size_t errbuf_size);

/* ---- shared helpers (local.c) ---- */

/* The directory a file: URI names (percent-decoded), or NULL with the error
 * set. Caller frees with tnt__free. */
char *tnt__local_uri_path(const char *uri);

/* One "key=value" setting (an optional "file." prefix is accepted). */
typedef struct tnt__local_setting {
    const char *key;
    uint64_t *value;      /* parsed as an unsigned integer, with K/M/G/T suffixes */
    uint64_t min, max;
    bool given;           /* out: the setting was present */
} tnt__local_setting;

/* Parse settings into the table; unknown keys and bad values are TNT_E_INVALID. */
tnt_status tnt__local_settings(const char *const *settings, tnt__local_setting *table, size_t n);

/* mkdir -p, then check that path is a writable directory. */
tnt_status tnt__local_prepare_dir(const char *path);
/* Create the missing directories of path (mode 0755), fsyncing each parent
 * that gained an entry. Errno-style: 0 or an errno value. */
int tnt__local_mkdirs(const char *path);
/* fsync a directory so that entries created or renamed in it are durable. */
int tnt__local_fsync_dir(const char *path);
/* Copy the thread's last error message into errbuf. */
tnt_status tnt__local_report(tnt_status status, char *errbuf, size_t errbuf_size);

/* CRC-32 (zlib's polynomial) of a buffer, continuing from crc (0 to start). */
uint32_t tnt__local_crc(uint32_t crc, const void *data, size_t len);

/* ---- white-box hooks for tests and benchmarks ---- */

/* Group commits (leader batches) and segment fdatasyncs the log has made. */
void tnt__local_log_stats(tnt_log *log, uint64_t *batches, uint64_t *fsyncs);

#endif /* TNT_BACKENDS_LOCAL_H */
