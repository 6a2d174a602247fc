/* The "file" backend's table, and what its three roles share: file: URIs,
 * settings, directories, CRCs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/core.h"
#include "local.h"

const tnt_backend tnt__local_backend = {
    TNT_BACKEND_VERSION,     /* version */
    "file",                  /* scheme */
    NULL,                    /* user_data */
    tnt__local_open_log,     /* open_log: segment files under a directory */
    tnt__local_open_store,   /* open_store: an LMDB environment */
    tnt__local_open_archive, /* open_archive: files under a directory */
};

char *tnt__local_uri_path(const char *uri)
{
    if (!uri || strncasecmp(uri, "file:", 5) != 0) {
        tnt__error(TNT_E_INVALID, "not a file: URI: '%s'", uri ? uri : "(null)");
        return NULL;
    }
    const char *p = uri + 5;
    if (p[0] == '/' && p[1] == '/') { /* file://host/path: the host must be empty or localhost */
        const char *host = p + 2, *slash = strchr(host, '/');
        size_t hlen = slash ? (size_t)(slash - host) : strlen(host);
        if (!slash || (hlen != 0 && !(hlen == 9 && strncasecmp(host, "localhost", 9) == 0))) {
            tnt__error(TNT_E_INVALID, "file: URI '%s': the host must be empty or localhost, then a path", uri);
            return NULL;
        }
        p = slash;
    }
    if (*p == '\0' || strpbrk(p, "?#")) {
        tnt__error(TNT_E_INVALID, "file: URI '%s': a directory path is needed (no query or fragment)", uri);
        return NULL;
    }
    char *path = tnt__malloc(strlen(p) + 1), *o = path;
    if (!path) {
        tnt__error(TNT_E_NOMEM, "out of memory");
        return NULL;
    }
    for (; *p; p++) {
        if (*p == '%') {
            int hi = tnt__hexval((unsigned char)p[1]), lo = hi < 0 ? -1 : tnt__hexval((unsigned char)p[2]);
            if (lo < 0 || (hi == 0 && lo == 0)) {
                tnt__free(path);
                tnt__error(TNT_E_INVALID, "file: URI '%s': bad percent-escape", uri);
                return NULL;
            }
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return path;
}

static bool parse_size(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    int shift = 0;
    switch (*s) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: break;
    }
    if (shift) {
        s++;
        if (*s == 'i')
            s++;
        if (*s == 'B')
            s++;
        if (v > (UINT64_MAX >> shift))
            return false;
        v <<= shift;
    }
    *out = v;
    return *s == '\0';
}

tnt_status tnt__local_settings(const char *const *settings, tnt__local_setting *table, size_t n)
{
    for (; settings && *settings; settings++) {
        const char *kv = *settings;
        if (strncmp(kv, "file.", 5) == 0)
            kv += 5;
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
        tnt__local_setting *s = NULL;
        for (size_t i = 0; i < n && !s; i++)
            if (strlen(table[i].key) == klen && strncmp(table[i].key, kv, klen) == 0)
                s = &table[i];
        if (!s && strncmp(kv, "tnt.", 4) == 0)
            continue; /* an engine hint this role does not use */
        if (!s || !eq)
            return tnt__error(TNT_E_INVALID, "file: unknown setting '%.*s'", (int)klen, kv);
        uint64_t v;
        if (!parse_size(eq + 1, &v) || v < s->min || v > s->max)
            return tnt__error(TNT_E_INVALID, "file: setting %s: '%s' is not a number in [%llu, %llu]", s->key,
                              eq + 1, (unsigned long long)s->min, (unsigned long long)s->max);
        *s->value = v;
        s->given = true;
    }
    return TNT_OK;
}

int tnt__local_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

int tnt__local_mkdirs(const char *path)
{
    size_t len = strlen(path);
    char *p = tnt__strndup(path, len);
    if (!p)
        return ENOMEM;
    int rc = 0;
    for (size_t i = 1; i <= len && rc == 0; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) == 0) {
            /* the new entry is durable once its parent is synced */
            char *slash = strrchr(p, '/');
            if (slash && slash != p) {
                *slash = '\0';
                rc = tnt__local_fsync_dir(p);
                *slash = '/';
            } else {
                rc = tnt__local_fsync_dir(slash ? "/" : ".");
            }
        } else if (errno != EEXIST) {
            rc = errno;
        }
        p[i] = c;
    }
    tnt__free(p);
    return rc;
}

tnt_status tnt__local_prepare_dir(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
        return tnt__error(TNT_E_INVALID, "file: '%s' exists and is not a directory", path);
    int rc = tnt__local_mkdirs(path);
    if (rc == ENOTDIR)
        return tnt__error(TNT_E_INVALID, "file: a parent of '%s' is not a directory", path);
    if (rc != 0)
        return tnt__error(TNT_E_IO, "file: cannot create directory '%s': %s", path, strerror(rc));
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return tnt__error(TNT_E_INVALID, "file: '%s' is not a directory", path);
    if (access(path, W_OK | X_OK) != 0)
        return tnt__error(TNT_E_IO, "file: directory '%s' is not writable: %s", path, strerror(errno));
    return TNT_OK;
}

tnt_status tnt__local_report(tnt_status status, char *errbuf, size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        snprintf(errbuf, errbuf_size, "%s", status == TNT_OK ? "" : tnt_error_last());
    return status;
}

uint32_t tnt__local_crc(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) { /* zlib takes a uInt length */
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}
