/* The cold archive as a directory: an object is a file at <dir>/<key>, the
 * '/' of keys making subdirectories.
 *
 * Keys are checked before any path is made: 1 to 1024 bytes, no leading
 * '/', no empty, "." or ".." segment, no segment starting with ".tnt-"
 * (reserved for temporary files), so no key can name a path outside the
 * directory. put() writes a temporary file beside the target, fsyncs it,
 * link()s it to the key (which fails if the key exists: objects are
 * immutable, even between racing writers), and fsyncs the directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "local.h"

#define MAX_KEY 1024
#define TMP_PREFIX ".tnt-"

typedef struct local_archive {
    tnt_archive base;
    char *dir;
} local_archive;

static const tnt_archive_methods archive_methods;
static atomic_uint_fast64_t g_tmp_counter;

/* Is s[0..len) a usable key segment? */
static bool good_segment(const char *s, size_t len)
{
    return len > 0 && !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.') &&
           !(len >= 5 && strncmp(s, TMP_PREFIX, 5) == 0);
}

static tnt_status check_key(const char *key)
{
    if (!key)
        return tnt__error(TNT_E_INVALID, "archive: the key is NULL");
    size_t len = strlen(key);
    if (len == 0 || len > MAX_KEY)
        return tnt__error(TNT_E_INVALID, "archive: a key has 1 to %d bytes", MAX_KEY);
    for (const char *p = key;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!good_segment(p, n))
            return tnt__error(TNT_E_INVALID, "archive: key '%s' has an empty, '.', '..' or reserved segment", key);
        if (!slash)
            return TNT_OK;
        p = slash + 1;
    }
}

static char *join(const char *dir, const char *key)
{
    size_t n = strlen(dir) + strlen(key) + 2;
    char *p = tnt__malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir, *key ? "/" : "", key);
    return p;
}

tnt_status tnt__local_open_archive(tnt_archive **out, const char *uri, const char *const *settings,
                                   void *user_data, char *errbuf, size_t errbuf_size)
{
    (void)user_data;
    if (!out)
        return tnt__local_report(tnt__error(TNT_E_MISUSE, "open_archive: out is NULL"), errbuf, errbuf_size);
    *out = NULL;
    tnt_status rc = tnt__local_settings(settings, NULL, 0);
    if (rc != TNT_OK)
        return tnt__local_report(rc, errbuf, errbuf_size);
    char *dir = tnt__local_uri_path(uri);
    if (!dir)
        return tnt__local_report(tnt_error_last_code(), errbuf, errbuf_size);
    if ((rc = tnt__local_prepare_dir(dir)) != TNT_OK) {
        tnt__free(dir);
        return tnt__local_report(rc, errbuf, errbuf_size);
    }
    local_archive *a = tnt__calloc(1, sizeof *a);
    if (!a) {
        tnt__free(dir);
        return tnt__local_report(tnt__error(TNT_E_NOMEM, "out of memory"), errbuf, errbuf_size);
    }
    tnt__handle_acquire();
    a->base.methods = &archive_methods;
    a->dir = dir;
    *out = &a->base;
    return tnt__local_report(TNT_OK, errbuf, errbuf_size);
}

static void archive_close(tnt_archive *archive)
{
    local_archive *a = (local_archive *)archive;
    if (!a)
        return;
    tnt__free(a->dir);
    tnt__free(a);
    tnt__handle_release();
}

/* Write data to a new temporary file in dir; its name goes to tmp_out. */
static int write_temp(const char *dir, const void *data, size_t len, char **tmp_out)
{
    size_t n = strlen(dir) + 64;
    char *tmp = tnt__malloc(n);
    if (!tmp)
        return ENOMEM;
    snprintf(tmp, n, "%s/" TMP_PREFIX "%ld-%llu", dir, (long)getpid(),
             (unsigned long long)atomic_fetch_add(&g_tmp_counter, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        tnt__free(tmp);
        return err;
    }
    int err = 0;
    for (const char *p = data; len > 0 && !err;) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            err = w < 0 ? errno : ENOSPC;
        else {
            p += w;
            len -= (size_t)w;
        }
    }
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (err) {
        unlink(tmp);
        tnt__free(tmp);
        return err;
    }
    *tmp_out = tmp;
    return 0;
}

static tnt_status archive_put(tnt_archive *archive, const char *key, const void *data, size_t len)
{
    local_archive *a = (local_archive *)archive;
    tnt_status rc = check_key(key);
    if (rc != TNT_OK)
        return rc;
    if (len && !data)
        return tnt__error(TNT_E_MISUSE, "archive put: data is NULL");
    char *path = join(a->dir, key), *parent = path ? tnt__strdup(path) : NULL, *tmp = NULL;
    if (!path || !parent) {
        tnt__free(path);
        tnt__free(parent);
        return tnt__error(TNT_E_NOMEM, "out of memory");
    }
    *strrchr(parent, '/') = '\0';
    struct stat st;
    int err = 0;
    if (lstat(path, &st) == 0) {
        rc = S_ISDIR(st.st_mode) ? tnt__error(TNT_E_INVALID, "archive: key '%s' is the prefix of other keys", key)
                                 : tnt__error(TNT_E_EXISTS, "archive: '%s' exists (objects are immutable)", key);
        goto out;
    }
    /* A concurrent remove() may delete an emptied parent: try again. */
    for (int attempt = 0; attempt < 5; attempt++) {
        err = tnt__local_mkdirs(parent);
        if (!err)
            err = write_temp(parent, data, len, &tmp);
        if (err != ENOENT)
            break;
    }
    if (err == ENOTDIR || err == EEXIST) {
        rc = tnt__error(TNT_E_INVALID, "archive: a prefix of key '%s' is an object", key);
        goto out;
    }
    if (err) {
        rc = tnt__error(TNT_E_IO, "archive: cannot write '%s': %s", path, strerror(err));
        goto out;
    }
    if (link(tmp, path) != 0) {
        err = errno;
        rc = err == EEXIST ? tnt__error(TNT_E_EXISTS, "archive: '%s' exists (objects are immutable)", key)
                           : tnt__error(TNT_E_IO, "archive: cannot create '%s': %s", path, strerror(err));
        unlink(tmp);
        goto out;
    }
    unlink(tmp);
    if ((err = tnt__local_fsync_dir(parent)) != 0)
        rc = tnt__error(TNT_E_IO, "archive: cannot sync '%s': %s", parent, strerror(err));
out:
    tnt__free(tmp);
    tnt__free(parent);
    tnt__free(path);
    return rc;
}

static tnt_status archive_get(tnt_archive *archive, const char *key, uint64_t offset, uint64_t len, void **data_out,
                              size_t *len_out)
{
    local_archive *a = (local_archive *)archive;
    tnt_status rc = check_key(key);
    if (rc != TNT_OK)
        return rc;
    if (!data_out || !len_out)
        return tnt__error(TNT_E_MISUSE, "archive get: data_out and len_out are needed");
    char *path = join(a->dir, key);
    if (!path)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int err = fd < 0 ? errno : EISDIR;
        rc = err == ENOENT || err == ENOTDIR || err == EISDIR ? tnt__error(TNT_E_NOTFOUND, "archive: no object '%s'", key)
                                                               : tnt__error(TNT_E_IO, "archive: cannot open '%s': %s", path, strerror(err));
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (offset > size) {
        rc = tnt__error(TNT_E_INVALID, "archive: range starts at %llu, past the end of '%s' (%llu bytes)",
                        (unsigned long long)offset, key, (unsigned long long)size);
        goto out;
    }
    uint64_t n = size - offset;
    if (len && len < n)
        n = len;
    if (n > SIZE_MAX - 1) {
        rc = tnt__error(TNT_E_TOOBIG, "archive: '%s' is too big to read at once", key);
        goto out;
    }
    unsigned char *buf = tnt_backend_alloc((size_t)n + 1);
    if (!buf) {
        rc = tnt__error(TNT_E_NOMEM, "out of memory");
        goto out;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, (size_t)n - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = tnt__error(TNT_E_IO, "archive: reading '%s': %s", path, r < 0 ? strerror(errno) : "unexpected end");
            break;
        }
        got += (size_t)r;
    }
    if (rc != TNT_OK) {
        tnt_free(buf);
        goto out;
    }
    *data_out = buf;
    *len_out = got;
out:
    if (fd >= 0)
        close(fd);
    tnt__free(path);
    return rc;
}

/* ---- listing: a walk that visits keys in byte order ---- */

typedef struct entry {
    char *name;   /* with a trailing '/' for a directory: that is its keys' order */
    uint64_t size;
    int64_t mtime_ms;
} entry;

static int cmp_entry(const void *x, const void *y) { return strcmp(((const entry *)x)->name, ((const entry *)y)->name); }

typedef struct walk {
    tnt_archive_list_fn fn;
    void *userdata;
    bool stop;
    tnt__buf key;   /* the key so far */
} walk;

/* Visit dir (whose keys start with w->key), taking only names starting with filter. */
static tnt_status walk_dir(walk *w, const char *dir, const char *filter)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? TNT_OK
                                                    : tnt__error(TNT_E_IO, "archive: cannot read '%s': %s", dir, strerror(errno));
    entry *v = NULL;
    size_t n = 0, cap = 0;
    tnt_status rc = TNT_OK;
    struct dirent *e;
    size_t flen = strlen(filter);
    while (rc == TNT_OK && (e = readdir(d))) {
        const char *name = e->d_name;
        if (!good_segment(name, strlen(name)) || strncmp(name, filter, flen) != 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            entry *nv = tnt__realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = tnt__error(TNT_E_NOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        size_t len = strlen(name);
        char *copy = tnt__malloc(len + 2);
        if (!copy) {
            rc = tnt__error(TNT_E_NOMEM, "out of memory");
            break;
        }
        memcpy(copy, name, len);
        copy[len] = S_ISDIR(st.st_mode) ? '/' : '\0';
        copy[len + 1] = '\0';
        v[n++] = (entry){copy, (uint64_t)st.st_size, (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000};
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, cmp_entry);
    for (size_t i = 0; i < n && rc == TNT_OK && !w->stop; i++) {
        size_t mark = w->key.len;
        tnt__buf_puts(&w->key, v[i].name);
        if (w->key.oom) {
            rc = tnt__error(TNT_E_NOMEM, "out of memory");
            break;
        }
        size_t len = strlen(v[i].name);
        if (v[i].name[len - 1] == '/') {
            v[i].name[len - 1] = '\0';
            char *sub = join(dir, v[i].name);
            rc = sub ? walk_dir(w, sub, "") : tnt__error(TNT_E_NOMEM, "out of memory");
            tnt__free(sub);
        } else if (w->fn(w->userdata, w->key.data, v[i].size, v[i].mtime_ms) != 0) {
            w->stop = true;
        }
        w->key.len = mark;
        if (w->key.data)
            w->key.data[mark] = '\0';
    }
    for (size_t i = 0; i < n; i++)
        tnt__free(v[i].name);
    tnt__free(v);
    return rc;
}

static tnt_status archive_list(tnt_archive *archive, const char *prefix, tnt_archive_list_fn fn, void *userdata)
{
    local_archive *a = (local_archive *)archive;
    if (!fn)
        return tnt__error(TNT_E_MISUSE, "archive list: no callback");
    if (!prefix)
        prefix = "";
    /* The directory part of the prefix must be a valid key path. */
    const char *last = strrchr(prefix, '/');
    size_t dlen = last ? (size_t)(last - prefix) : 0;
    char *dirpart = tnt__strndup(prefix, dlen);
    if (!dirpart)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    tnt_status rc = last ? check_key(dirpart) : TNT_OK;
    if (rc == TNT_OK && last && strlen(dirpart) != dlen)
        rc = tnt__error(TNT_E_INVALID, "archive: bad prefix");
    char *dir = rc == TNT_OK ? join(a->dir, dirpart) : NULL;
    if (rc == TNT_OK && !dir)
        rc = tnt__error(TNT_E_NOMEM, "out of memory");
    if (rc == TNT_OK) {
        walk w = {fn, userdata, false, {0}};
        tnt__buf_init(&w.key);
        if (last)
            tnt__buf_append(&w.key, prefix, dlen + 1);
        else
            tnt__buf_reserve(&w.key, 64);
        rc = w.key.oom ? tnt__error(TNT_E_NOMEM, "out of memory") : walk_dir(&w, dir, last ? last + 1 : prefix);
        tnt__buf_free(&w.key);
    }
    tnt__free(dir);
    tnt__free(dirpart);
    return rc;
}

static tnt_status archive_remove(tnt_archive *archive, const char *key)
{
    local_archive *a = (local_archive *)archive;
    tnt_status rc = check_key(key);
    if (rc != TNT_OK)
        return rc;
    char *path = join(a->dir, key);
    if (!path)
        return tnt__error(TNT_E_NOMEM, "out of memory");
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        tnt__free(path);
        return TNT_OK; /* a prefix, not an object */
    }
    if (unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR) {
        rc = tnt__error(TNT_E_IO, "archive: cannot delete '%s': %s", path, strerror(errno));
        tnt__free(path);
        return rc;
    }
    /* Drop the directories the key emptied (not the archive's own), then
     * sync the last directory that lost an entry. */
    size_t root = strlen(a->dir);
    *strrchr(path, '/') = '\0';
    while (strlen(path) > root && rmdir(path) == 0)
        *strrchr(path, '/') = '\0';
    tnt__local_fsync_dir(path);
    tnt__free(path);
    return TNT_OK;
}

static const tnt_archive_methods archive_methods = {
    TNT_BACKEND_VERSION, /* version */
    archive_close,       /* close */
    archive_put,         /* put: temporary file, fsync, link (never replaces), fsync the directory */
    archive_get,         /* get: pread of a range */
    archive_list,        /* list: a sorted walk of the directories */
    archive_remove,      /* remove: unlink, then drop emptied directories */
};
