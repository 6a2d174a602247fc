/* tnt.i — the SWIG interface of the tnt Python package (module tnt.capi).
 *
 * SWIG reads libtnt's public headers for their constants and enums. The
 * functions are bound through a few handle classes whose methods are written
 * here against the public API only, so that Python never holds a borrowed
 * pointer, cannot free twice, and gets whole results from one call:
 *
 *   Engine     tnt_engine with a use count, so close() waits for calls in flight
 *   Reader     tnt_reader plus the buffer it reads from (it does not copy it)
 *   Event      an owned tnt_event (a clone, or decoded from protobuf)
 *   IdParser   tnt_id; GcpTable tnt_gcp_table; Track an owned tnt_track
 *
 * Errors raise the exception that tnt.errors maps the status code to, with
 * tnt_error_last() (or the reader's message) as text. Calls that can take
 * time (storage, documents) release the GIL; identifier calls keep it (they
 * take a fraction of a microsecond).
 *
 * Text arguments are PyObject: str (as UTF-8) or bytes; None and other types
 * raise TypeError, an embedded NUL raises tnt.InvalidInput.
 */
%module(package="tnt") capi

%{
#define SWIG_FILE_WITH_INIT
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tnt/tnt.h>
#include <tnt/auth.h>

/* distinct names for the classes, so their methods do not clash with the API's */
typedef tnt_event tnt_py_event;
typedef tnt_id tnt_py_id;
typedef tnt_gcp_table tnt_py_gcp;
typedef tnt_track tnt_py_track;

#if TNT_VERSION_NUMBER < 10000
#error "the tnt Python package needs libtnt 1.0 or newer"
#endif
%}

/* ---- constants and enums from the public headers ---------------------- */
%rename("$ignore", regextarget=1, %$isfunction) "^tnt_";
%rename("$ignore", %$isclass) "";
%rename("%s") tnt_status_str;
%rename("%s") tnt_status_name;
%rename("%s") tnt_version_number;
%rename("%s") tnt_version_string;
%rename("%s") tnt_features;
%ignore TNT_EXTERN;
%ignore TNT__STATUS_MIN;
#define TNT_EXTERN
#define TNT_DEPRECATED(msg)
%include <tnt/common.h>
%include <tnt/ids.h>
%include <tnt/event.h>
%include <tnt/document.h>
%include <tnt/engine.h>
%include <tnt/auth.h>
%include <tnt/version.h>

/* A failed constructor or method returns NULL with the exception set. */
%exception {
    $action
    if (PyErr_Occurred())
        SWIG_fail;
}

%constant int COMPILED_VERSION = TNT_VERSION_NUMBER;

%{
/* ---- errors ------------------------------------------------------------ */
static PyObject *py_error_factory; /* tnt.errors._from_status(code, message, details) */

/* Raise the exception mapped from @st; returns NULL for "return raise(...)". */
static PyObject *raise_status(tnt_status st, const char *message, PyObject *details)
{
    if (!py_error_factory) {
        PyObject *mod = PyImport_ImportModule("tnt.errors");
        if (!mod)
            return NULL;
        py_error_factory = PyObject_GetAttrString(mod, "_from_status");
        Py_DECREF(mod);
        if (!py_error_factory)
            return NULL;
    }
    /* the message may quote the input, which need not be UTF-8 */
    PyObject *msg = PyUnicode_DecodeUTF8(message ? message : "", message ? (Py_ssize_t)strlen(message) : 0,
                                         "replace");
    if (!msg)
        return NULL;
    PyObject *exc = PyObject_CallFunction(py_error_factory, "iNO", (int)st, msg, details ? details : Py_None);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *raise_last(tnt_status st) { return raise_status(st, tnt_error_last(), NULL); }

static PyObject *str_or_none(const char *s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/* A library-owned string (tnt_free) as str. */
static PyObject *owned_str(char *s, size_t len)
{
    PyObject *o = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "replace");
    tnt_free(s);
    return o;
}

/* Text argument: str (UTF-8) or bytes; NUL-terminated for the C call. */
static int text_arg(PyObject *o, const char **s, Py_ssize_t *n, const char *what)
{
    Py_ssize_t len;
    const char *p;
    if (o && PyUnicode_Check(o)) {
        p = PyUnicode_AsUTF8AndSize(o, &len);
        if (!p)
            return -1;
    } else if (o && PyBytes_Check(o)) {
        p = PyBytes_AS_STRING(o);
        len = PyBytes_GET_SIZE(o);
    } else {
        PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %.80s", what,
                     o ? Py_TYPE(o)->tp_name : "NULL");
        return -1;
    }
    if ((Py_ssize_t)strlen(p) != len) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s contains a NUL character", what);
        raise_status(TNT_E_INVALID, msg, NULL);
        return -1;
    }
    *s = p;
    if (n)
        *n = len;
    return 0;
}

/* Optional text: None gives NULL. */
static int opt_text_arg(PyObject *o, const char **s, const char *what)
{
    if (!o || o == Py_None) {
        *s = NULL;
        return 0;
    }
    return text_arg(o, s, NULL, what);
}

/* Bytes-like data (str is taken as UTF-8). The view is released by the caller. */
static int data_arg(PyObject *o, Py_buffer *view, const char *what)
{
    if (o && PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *p = PyUnicode_AsUTF8AndSize(o, &n);
        if (!p)
            return -1;
        return PyBuffer_FillInfo(view, o, (void *)p, n, 1, PyBUF_SIMPLE);
    }
    if (!o || !PyObject_CheckBuffer(o) || PyObject_GetBuffer(o, view, PyBUF_SIMPLE) != 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s must be str or a bytes-like object, not %.80s", what,
                     o ? Py_TYPE(o)->tp_name : "NULL");
        return -1;
    }
    return 0;
}

/* ---- events ------------------------------------------------------------ */
static swig_type_info *event_type(void);

static PyObject *wrap_event(tnt_event *ev) /* takes ownership */
{
    return SWIG_Python_NewPointerObj(NULL, ev, event_type(), SWIG_POINTER_OWN);
}

static PyObject *clone_event(const tnt_event *ev)
{
    tnt_event *c;
    tnt_status st = tnt_event_clone(&c, ev);
    if (st != TNT_OK)
        return raise_last(st);
    return wrap_event(c);
}

/* [(code, path, message), ...] */
static PyObject *event_errors(const tnt_event *ev)
{
    size_t n = tnt_event_error_count(ev);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const char *code = NULL, *path = NULL, *msg = NULL;
        tnt_event_error_at(&code, &path, &msg, ev, i);
        PyObject *t = Py_BuildValue("(NNN)", str_or_none(code), str_or_none(path), str_or_none(msg));
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    return list;
}

/* (index, hash or None, errors) without copying the event: validate and hash. */
static PyObject *event_summary(const tnt_event *ev)
{
    return Py_BuildValue("(nNN)", (Py_ssize_t)tnt_event_index(ev),
                         str_or_none(tnt_event_get_string(ev, TNT_FIELD_HASH_ID)), event_errors(ev));
}

/* ---- reader options ----------------------------------------------------- */
/* Options as a tuple (format, flags, future_skew_ms, now_ms, max_event_bytes,
 * max_depth, max_string_bytes, max_list_items, epc_format, gcp_length,
 * gcp_table or None, id_flags); None: the defaults. */
static swig_type_info *gcp_table_type(void);

static int reader_options(PyObject *t, tnt_reader_options *ro, tnt_id_options *io)
{
    tnt_reader_options_init(ro, TNT_READER_OPTIONS_VERSION);
    tnt_id_options_init(io, TNT_ID_OPTIONS_VERSION);
    if (!t || t == Py_None)
        return 0;
    unsigned int format, flags, epc_format, id_flags;
    long long skew, now;
    Py_ssize_t max_event, max_depth, max_string, max_list;
    int gcp;
    PyObject *table;
    if (!PyArg_ParseTuple(t, "IILLnnnnIiOI;reader options", &format, &flags, &skew, &now, &max_event, &max_depth,
                          &max_string, &max_list, &epc_format, &gcp, &table, &id_flags))
        return -1;
    ro->format = format;
    ro->flags = flags;
    ro->future_skew_ms = skew;
    ro->now_ms = now;
    if (max_event > 0)
        ro->max_event_bytes = (size_t)max_event;
    if (max_depth > 0)
        ro->max_depth = (size_t)max_depth;
    if (max_string > 0)
        ro->max_string_bytes = (size_t)max_string;
    if (max_list > 0)
        ro->max_list_items = (size_t)max_list;
    ro->epc_format = epc_format;
    io->gcp_length = gcp;
    io->flags = id_flags;
    if (table != Py_None) {
        void *p = NULL;
        if (!SWIG_IsOK(SWIG_ConvertPtr(table, &p, gcp_table_type(), 0))) {
            PyErr_SetString(PyExc_TypeError, "gcp_table must be a tnt.ids.GcpTable");
            return -1;
        }
        io->gcp_table = p;
    }
    ro->id_options = io;
    return 0;
}

/* ([Event], next token or None) of a history page, which it frees. */
static PyObject *history_page(tnt_history *h)
{
    size_t n = tnt_history_count(h);
    PyObject *events = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; events && i < n; i++) {
        const tnt_event *ev = tnt_history_event(h, i);
        PyObject *e = ev ? clone_event(ev) : NULL;
        if (!e) {
            if (!PyErr_Occurred())
                raise_status(TNT_E_CORRUPT, "a history entry has no event", NULL);
            Py_CLEAR(events);
            break;
        }
        PyList_SET_ITEM(events, (Py_ssize_t)i, e);
    }
    PyObject *next = events ? str_or_none(tnt_history_next_token(h)) : NULL;
    tnt_history_free(h);
    if (!next) {
        Py_XDECREF(events);
        return NULL;
    }
    return Py_BuildValue("(NN)", events, next);
}

/* A sequence of str as a C array (malloc; the strings stay owned by the
 * sequence, which the caller keeps alive). */
static int str_array(PyObject *seq, const char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (seq == Py_None)
        return 0;
    if (!PyList_Check(seq) && !PyTuple_Check(seq)) {
        PyErr_Format(PyExc_TypeError, "a query parameter must be a list of str, not %.80s", Py_TYPE(seq)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n == 0)
        return 0;
    const char **a = calloc((size_t)n, sizeof *a);
    if (!a) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "query values must be str, not %.80s", Py_TYPE(item)->tp_name);
            free(a);
            return -1;
        }
        if (text_arg(item, &a[i], NULL, "a query value") != 0) {
            free(a);
            return -1;
        }
    }
    *out = a;
    *count = (size_t)n;
    return 0;
}

/* ---- the handle types behind the classes ------------------------------- */
typedef struct tnt_py_engine {
    tnt_engine *engine;
    Py_ssize_t users;      /* calls in flight (changed only with the GIL held) */
    tnt_reader_options ro; /* the engine borrows ro.id_options */
    tnt_id_options io;
    PyObject *keep;        /* the GcpTable the options point to */
} tnt_py_engine;

typedef struct tnt_py_reader {
    tnt_reader *reader;
    tnt_reader_options ro;
    tnt_id_options io;
    PyObject *keep;        /* the GcpTable */
    Py_buffer buf;         /* the bytes being read: the reader keeps a pointer until TNT_AGAIN */
    int has_buf;
} tnt_py_reader;


static int engine_enter(tnt_py_engine *pe)
{
    if (!pe->engine) {
        raise_status(TNT_E_MISUSE, "the engine is closed", NULL);
        return -1;
    }
    pe->users++;
    return 0;
}

static void engine_leave(tnt_py_engine *pe) { pe->users--; }

static void engine_close(tnt_py_engine *pe)
{
    tnt_engine *e = pe->engine;
    if (!e)
        return;
    pe->engine = NULL; /* new calls fail from here on */
    while (pe->users > 0) {
        Py_BEGIN_ALLOW_THREADS
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        Py_END_ALLOW_THREADS
    }
    Py_BEGIN_ALLOW_THREADS
    tnt_engine_close(e);
    Py_END_ALLOW_THREADS
    Py_CLEAR(pe->keep);
}

/* The ingest report as (events, accepted, duplicates, rejected, results or None),
 * results [(status, hash, [(code, path, message)])]. */
static PyObject *report_tuple(const tnt_ingest_report *r, int counts_only)
{
    size_t n = 0, acc = 0, dup = 0, rej = 0;
    tnt_ingest_report_counts(r, &n, &acc, &dup, &rej);
    PyObject *results = Py_None;
    Py_INCREF(results);
    if (!counts_only && r) {
        Py_DECREF(results);
        results = PyList_New(0);
        for (size_t i = 0; results; i++) {
            int status;
            const char *hash = NULL;
            size_t nerr = 0;
            if (tnt_ingest_report_event(&status, &hash, &nerr, r, i) != TNT_OK)
                break;
            PyObject *errs = PyList_New((Py_ssize_t)nerr);
            for (size_t j = 0; errs && j < nerr; j++) {
                const char *code = NULL, *path = NULL, *msg = NULL;
                tnt_ingest_report_error(&code, &path, &msg, r, i, j);
                PyList_SET_ITEM(errs, (Py_ssize_t)j,
                                Py_BuildValue("(NNN)", str_or_none(code), str_or_none(path), str_or_none(msg)));
            }
            PyObject *item = errs ? Py_BuildValue("(iNN)", status, str_or_none(hash), errs) : NULL;
            if (!item || PyList_Append(results, item) != 0) {
                Py_XDECREF(item);
                Py_CLEAR(results);
                break;
            }
            Py_DECREF(item);
        }
        if (!results)
            return NULL;
    }
    return Py_BuildValue("(nnnnN)", (Py_ssize_t)n, (Py_ssize_t)acc, (Py_ssize_t)dup, (Py_ssize_t)rej, results);
}

/* A Python file object read by tnt_engine_ingest_stream(): its read() is
 * called with the GIL taken for the call; an exception it raises ends the
 * document and is kept for the caller. */
typedef struct py_stream {
    PyObject *read;
    PyObject *exc; /* the exception read() raised, or NULL */
} py_stream;

static int64_t py_read(void *userdata, void *buffer, size_t capacity)
{
    py_stream *s = userdata;
    PyGILState_STATE g = PyGILState_Ensure();
    int64_t n = -1;
    /* a quarter of the room: a text stream's characters may take four bytes each */
    PyObject *chunk = PyObject_CallFunction(s->read, "n", (Py_ssize_t)(capacity / 4));
    const char *p = NULL;
    Py_ssize_t len = 0;
    if (chunk && PyBytes_Check(chunk)) {
        p = PyBytes_AS_STRING(chunk);
        len = PyBytes_GET_SIZE(chunk);
    } else if (chunk && PyByteArray_Check(chunk)) {
        p = PyByteArray_AS_STRING(chunk);
        len = PyByteArray_GET_SIZE(chunk);
    } else if (chunk && PyUnicode_Check(chunk)) {
        p = PyUnicode_AsUTF8AndSize(chunk, &len);
    } else if (chunk) {
        PyErr_Format(PyExc_TypeError, "read() returned %s, not str or bytes", Py_TYPE(chunk)->tp_name);
    }
    if (p && (size_t)len <= capacity) {
        memcpy(buffer, p, (size_t)len);
        n = len;
    } else if (p) {
        PyErr_SetString(PyExc_ValueError, "read(n) returned more than n characters");
    }
    Py_XDECREF(chunk);
    if (n < 0 && PyErr_Occurred() && !s->exc) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb && value)
            PyException_SetTraceback(value, tb);
        s->exc = value;
        Py_XDECREF(type);
        Py_XDECREF(tb);
    }
    PyErr_Clear();
    PyGILState_Release(g);
    return n;
}

/* (status, message, report tuple): document-level errors keep the partial report. */
static PyObject *ingest_result(tnt_status st, tnt_ingest_report *r, int counts_only)
{
    const char *msg = st == TNT_OK ? "" : tnt_error_last();
    PyObject *m = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
    PyObject *rep = m ? report_tuple(r, counts_only) : NULL;
    tnt_ingest_report_free(r);
    if (!rep) {
        Py_XDECREF(m);
        return NULL;
    }
    return Py_BuildValue("(iNN)", st, m, rep);
}

/* The track as a tnt.Track (a tuple subclass registered by the package):
 * (id, biz_step, disposition, read_point, biz_location, parent, owner,
 *  possessor, last_event, last_time_ms, event_count, readings, handle, engine).
 * Built item by item: this is the hot path of the bindings. */
static swig_type_info *track_type(void);
static PyTypeObject *py_track_type; /* set by set_track_type() */

static PyObject *track_tuple(tnt_track *t, PyObject *engine)
{
    static const tnt_track_field fields[] = {TNT_TRACK_ID, TNT_TRACK_BIZ_STEP, TNT_TRACK_DISPOSITION,
                                             TNT_TRACK_READ_POINT, TNT_TRACK_BIZ_LOCATION, TNT_TRACK_PARENT,
                                             TNT_TRACK_OWNER, TNT_TRACK_POSSESSOR, TNT_TRACK_LAST_EVENT};
    int64_t last = 0;
    size_t count = 0;
    tnt_track_times(t, &last, &count);
    size_t nr = tnt_track_reading_count(t);
    PyTypeObject *tp = py_track_type ? py_track_type : &PyTuple_Type;
    PyObject *o = tp->tp_alloc(tp, 14);
    PyObject *readings = PyTuple_New((Py_ssize_t)nr);
    if (!o || !readings)
        goto fail;
    for (size_t i = 0; i < nr; i++) {
        const char *type = NULL, *uom = NULL;
        double value = 0;
        int64_t ms = 0;
        int exc = 0;
        tnt_track_reading(&type, &value, &uom, &ms, &exc, t, i);
        PyObject *r = Py_BuildValue("(NdNLN)", str_or_none(type), value, str_or_none(uom), (long long)ms,
                                    PyBool_FromLong(exc));
        if (!r)
            goto fail;
        PyTuple_SET_ITEM(readings, (Py_ssize_t)i, r);
    }
    for (Py_ssize_t i = 0; i < 9; i++) {
        PyObject *v = str_or_none(tnt_track_get(t, fields[i]));
        if (!v)
            goto fail;
        PyTuple_SET_ITEM(o, i, v);
    }
    PyObject *lt = PyLong_FromLongLong((long long)last), *ct = lt ? PyLong_FromSize_t(count) : NULL;
    if (!ct) {
        Py_XDECREF(lt);
        goto fail;
    }
    PyTuple_SET_ITEM(o, 9, lt);
    PyTuple_SET_ITEM(o, 10, ct);
    PyTuple_SET_ITEM(o, 11, readings);
    readings = NULL;
    PyObject *handle = SWIG_Python_NewPointerObj(NULL, t, track_type(), SWIG_POINTER_OWN);
    t = NULL; /* the handle owns it now */
    if (!handle)
        goto fail;
    PyTuple_SET_ITEM(o, 12, handle);
    Py_INCREF(engine);
    PyTuple_SET_ITEM(o, 13, engine);
    return o;
fail:
    tnt_track_free(t);
    Py_XDECREF(readings);
    Py_XDECREF(o); /* unset items are NULL: tuple dealloc skips them */
    return NULL;
}

/* The verdict as (kind, name, confidence, evidence_level, reasons, json_partner, json_consumer). */
static PyObject *verdict_tuple(tnt_verdict *v)
{
    int level = 0;
    double conf = tnt_verdict_confidence(v, &level);
    size_t n = tnt_verdict_reason_count(v);
    PyObject *reasons = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; reasons && i < n; i++) {
        const char *code = NULL, *sev = NULL, *text = NULL;
        tnt_verdict_reason_at(&code, &sev, &text, v, i);
        PyList_SET_ITEM(reasons, (Py_ssize_t)i,
                        Py_BuildValue("(NNN)", str_or_none(code), str_or_none(sev), str_or_none(text)));
    }
    char *jp = NULL, *jc = NULL;
    size_t lp = 0, lc = 0;
    tnt_status st = tnt_verdict_json(&jp, &lp, v, TNT_VERDICT_JSON_PARTNER);
    if (st == TNT_OK)
        st = tnt_verdict_json(&jc, &lc, v, TNT_VERDICT_JSON_CONSUMER);
    tnt_verdict_kind kind = tnt_verdict_get(v);
    tnt_verdict_free(v);
    if (st != TNT_OK) {
        tnt_free(jp);
        Py_XDECREF(reasons);
        return raise_last(st);
    }
    if (!reasons) {
        tnt_free(jp);
        tnt_free(jc);
        return NULL;
    }
    return Py_BuildValue("(iNdiNNN)", (int)kind, str_or_none(tnt_verdict_name(kind)), conf, level, reasons,
                         owned_str(jp, lp), owned_str(jc, lc));
}
%}

/* ---- Engine --------------------------------------------------------------- */
/* A method's own Python object (builtin classes name it self in the wrapper). */
%typemap(in, numinputs=0) PyObject *py_self "$1 = self;";

%rename(Engine) tnt_py_engine;
%nodefaultctor tnt_py_engine;
typedef struct tnt_py_engine {} tnt_py_engine;

%extend tnt_py_engine {
    /* Open an engine (tnt_engine_open). */
    tnt_py_engine(PyObject *data_dir, PyObject *config, PyObject *log_uri, PyObject *store_uri,
                  PyObject *archive_uri, int partitions, long long archive_after_ms, long long retention_ms,
                  PyObject *reader) {
        tnt_engine_options o;
        tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
        if (opt_text_arg(data_dir, &o.data_dir, "data_dir") || opt_text_arg(config, &o.config_path, "config") ||
            opt_text_arg(log_uri, &o.log_uri, "log_uri") || opt_text_arg(store_uri, &o.store_uri, "store_uri") ||
            opt_text_arg(archive_uri, &o.archive_uri, "archive_uri"))
            return NULL;
        o.partitions = partitions;
        o.archive_after_ms = archive_after_ms;
        o.retention_ms = retention_ms;
        tnt_py_engine *pe = calloc(1, sizeof *pe);
        if (!pe) {
            PyErr_NoMemory();
            return NULL;
        }
        if (reader_options(reader, &pe->ro, &pe->io) != 0) {
            free(pe);
            return NULL;
        }
        o.reader = &pe->ro;
        tnt_engine *e = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_open(&e, &o);
        Py_END_ALLOW_THREADS
        if (st != TNT_OK) {
            raise_last(st);
            free(pe);
            return NULL;
        }
        pe->engine = e;
        if (reader && reader != Py_None) {
            pe->keep = PyTuple_GetItem(reader, 10);
            Py_XINCREF(pe->keep);
        }
        return pe;
    }

    ~tnt_py_engine() {
        engine_close($self);
        free($self);
    }

    /* Close the engine: new calls fail at once, calls in flight finish first. */
    void close() { engine_close($self); }

    bool closed() { return $self->engine == NULL; }

    /* (status, message, (events, accepted, duplicates, rejected, results)) */
    PyObject *ingest(PyObject *data, bool counts_only) {
        Py_buffer view;
        if (data_arg(data, &view, "data") != 0)
            return NULL;
        if (engine_enter($self) != 0) {
            PyBuffer_Release(&view);
            return NULL;
        }
        tnt_ingest_report *r = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_ingest(&r, $self->engine, view.buf, (size_t)view.len, counts_only ? TNT_INGEST_COUNTS_ONLY : 0);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        PyBuffer_Release(&view);
        return ingest_result(st, r, counts_only);
    }

    PyObject *ingest_file(PyObject *path, bool counts_only) {
        const char *p;
        if (text_arg(path, &p, NULL, "path") != 0 || engine_enter($self) != 0)
            return NULL;
        tnt_ingest_report *r = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_ingest_file(&r, $self->engine, p, counts_only ? TNT_INGEST_COUNTS_ONLY : 0);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        return ingest_result(st, r, counts_only);
    }

    /* (status, message, report tuple, the exception read() raised or None):
     * the document read through a file object's read(), in constant memory. */
    PyObject *ingest_stream(PyObject *read, bool counts_only) {
        if (!PyCallable_Check(read)) {
            PyErr_SetString(PyExc_TypeError, "ingest_stream needs a read(n) callable");
            return NULL;
        }
        if (engine_enter($self) != 0)
            return NULL;
        py_stream s = {read, NULL};
        tnt_ingest_report *r = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_ingest_stream(&r, $self->engine, py_read, &s, counts_only ? TNT_INGEST_COUNTS_ONLY : 0);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        PyObject *res = ingest_result(st, r, counts_only);
        if (!res) {
            Py_XDECREF(s.exc);
            return NULL;
        }
        PyObject *exc = s.exc ? s.exc : Py_None;
        if (!s.exc)
            Py_INCREF(Py_None);
        PyObject *out = Py_BuildValue("(OOON)", PyTuple_GET_ITEM(res, 0), PyTuple_GET_ITEM(res, 1),
                                      PyTuple_GET_ITEM(res, 2), exc);
        Py_DECREF(res);
        return out;
    }

    /* A tnt.Track (see track_tuple). */
    PyObject *track(PyObject *py_self, PyObject *id) {
        const char *s;
        if (text_arg(id, &s, NULL, "id") != 0 || engine_enter($self) != 0)
            return NULL;
        tnt_track *t = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_track(&t, $self->engine, s);
        /* excursion flags read master data once, here, without the GIL */
        for (size_t i = 0, n = st == TNT_OK ? tnt_track_reading_count(t) : 0; i < n; i++) {
            int x;
            tnt_track_reading(NULL, NULL, NULL, NULL, &x, t, i);
        }
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return track_tuple(t, py_self);
    }

    /* tnt_track_json of a track this engine made (it reads master data). */
    PyObject *track_json(tnt_py_track *t) {
        if (!t) {
            PyErr_SetString(PyExc_TypeError, "track must be a track handle");
            return NULL;
        }
        if (engine_enter($self) != 0)
            return NULL;
        char *json = NULL;
        size_t len = 0;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_track_json(&json, &len, t);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return owned_str(json, len);
    }

    /* ([Event], next token or None) */
    PyObject *history(PyObject *id, PyObject *token, size_t limit) {
        const char *s, *tok;
        if (text_arg(id, &s, NULL, "id") != 0 || opt_text_arg(token, &tok, "page token") != 0 ||
            engine_enter($self) != 0)
            return NULL;
        tnt_history *h = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_history(&h, $self->engine, s, tok, limit);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return history_page(h);
    }

    /* ([Event], next token or None) of tnt_engine_query. q: (event_types,
     * ge_event_time_ms, lt_event_time_ms, ge_record_time_ms, lt_record_time_ms,
     * biz_steps, dispositions, read_points, biz_locations, match_epcs,
     * match_any_epcs, page_token or None, limit); the lists are str sequences. */
    PyObject *query(PyObject *q) {
        PyObject *lists[7], *token;
        long long times[4];
        Py_ssize_t limit;
        if (!PyArg_ParseTuple(q, "OLLLLOOOOOOOn;query", &lists[0], &times[0], &times[1], &times[2], &times[3],
                              &lists[1], &lists[2], &lists[3], &lists[4], &lists[5], &lists[6], &token, &limit))
            return NULL;
        tnt_query tq;
        tnt_query_init(&tq, TNT_QUERY_VERSION);
        const char **arrays[7] = {0};
        size_t counts[7] = {0};
        PyObject *result = NULL;
        for (int i = 0; i < 7; i++)
            if (str_array(lists[i], &arrays[i], &counts[i]) != 0)
                goto done;
        if (opt_text_arg(token, &tq.page_token, "page token") != 0)
            goto done;
        tq.event_types = arrays[0], tq.event_type_count = counts[0];
        tq.biz_steps = arrays[1], tq.biz_step_count = counts[1];
        tq.dispositions = arrays[2], tq.disposition_count = counts[2];
        tq.read_points = arrays[3], tq.read_point_count = counts[3];
        tq.biz_locations = arrays[4], tq.biz_location_count = counts[4];
        tq.match_epcs = arrays[5], tq.match_epc_count = counts[5];
        tq.match_any_epcs = arrays[6], tq.match_any_epc_count = counts[6];
        tq.ge_event_time_ms = times[0], tq.lt_event_time_ms = times[1];
        tq.ge_record_time_ms = times[2], tq.lt_record_time_ms = times[3];
        tq.limit = limit > 0 ? (size_t)limit : 0;
        if (engine_enter($self) != 0)
            goto done;
        tnt_history *h = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_query(&h, $self->engine, &tq);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        result = st == TNT_OK ? history_page(h) : raise_last(st);
    done:
        for (int i = 0; i < 7; i++)
            free(arrays[i]);
        return result;
    }

    PyObject *event(PyObject *hash_id) {
        const char *s;
        if (text_arg(hash_id, &s, NULL, "hash_id") != 0 || engine_enter($self) != 0)
            return NULL;
        tnt_event *ev = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_event(&ev, $self->engine, s);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return wrap_event(ev);
    }

    PyObject *replay(long long from_time_ms) {
        if (engine_enter($self) != 0)
            return NULL;
        size_t n = 0;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_replay($self->engine, from_time_ms, &n);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return PyLong_FromSize_t(n);
    }

    /* (archived, expired) */
    PyObject *archive(long long now_ms) {
        if (engine_enter($self) != 0)
            return NULL;
        size_t archived = 0, expired = 0;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_archive($self->engine, now_ms, &archived, &expired);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return Py_BuildValue("(nn)", (Py_ssize_t)archived, (Py_ssize_t)expired);
    }

    PyObject *master_load(PyObject *path) {
        const char *p;
        if (text_arg(path, &p, NULL, "path") != 0 || engine_enter($self) != 0)
            return NULL;
        size_t n = 0;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_master_load($self->engine, p, &n);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return PyLong_FromSize_t(n);
    }

    PyObject *master_put(int kind, PyObject *json) {
        Py_buffer view;
        if (data_arg(json, &view, "record") != 0)
            return NULL;
        if (engine_enter($self) != 0) {
            PyBuffer_Release(&view);
            return NULL;
        }
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_master_put($self->engine, (tnt_master_kind)kind, view.buf, (size_t)view.len);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        PyBuffer_Release(&view);
        if (st != TNT_OK)
            return raise_last(st);
        Py_RETURN_NONE;
    }

    PyObject *master_get(int kind, PyObject *key) {
        const char *k;
        if (text_arg(key, &k, NULL, "key") != 0 || engine_enter($self) != 0)
            return NULL;
        char *json = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_master_get(&json, $self->engine, (tnt_master_kind)kind, k);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return owned_str(json, strlen(json));
    }

    PyObject *stats() {
        if (engine_enter($self) != 0)
            return NULL;
        char *json = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_stats(&json, $self->engine);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return owned_str(json, strlen(json));
    }

    /* The verdict tuple (see verdict_tuple). scan: (time_ms, has_location,
     * latitude, longitude, accuracy_m, device or None, role, intent,
     * location_id or None, record). */
    PyObject *authenticate(PyObject *code, PyObject *scan) {
        const char *c, *device = NULL, *location_id = NULL;
        if (text_arg(code, &c, NULL, "code") != 0)
            return NULL;
        tnt_scan sc;
        tnt_scan_init(&sc, TNT_SCAN_VERSION);
        PyObject *dev, *loc;
        long long time_ms;
        if (!PyArg_ParseTuple(scan, "LpdddOiiOp;scan", &time_ms, &sc.has_location, &sc.latitude, &sc.longitude,
                              &sc.accuracy_m, &dev, &sc.role, &sc.intent, &loc, &sc.record))
            return NULL;
        sc.time_ms = time_ms;
        if (opt_text_arg(dev, &device, "device") != 0 || opt_text_arg(loc, &location_id, "location_id") != 0)
            return NULL;
        sc.device = device;
        sc.location_id = location_id;
        if (engine_enter($self) != 0)
            return NULL;
        tnt_verdict *v = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_authenticate(&v, $self->engine, c, &sc);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK) {
            tnt_verdict_free(v);
            return raise_last(st);
        }
        return verdict_tuple(v);
    }

    PyObject *service_key() {
        if (engine_enter($self) != 0)
            return NULL;
        char *key = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_engine_service_key(&key, $self->engine);
        Py_END_ALLOW_THREADS
        engine_leave($self);
        if (st != TNT_OK)
            return raise_last(st);
        return owned_str(key, strlen(key));
    }
}

/* An owned tnt_track, kept for its JSON details. */
%rename(TrackHandle) tnt_py_track;
%nodefaultctor tnt_py_track;
typedef struct {} tnt_py_track;
%extend tnt_py_track {
    ~tnt_py_track() { tnt_track_free($self); }
}

/* ---- Reader ---------------------------------------------------------------- */
%rename(Reader) tnt_py_reader;
%nodefaultctor tnt_py_reader;
typedef struct tnt_py_reader {} tnt_py_reader;

%extend tnt_py_reader {
    tnt_py_reader(PyObject *options) {
        tnt_py_reader *pr = calloc(1, sizeof *pr);
        if (!pr) {
            PyErr_NoMemory();
            return NULL;
        }
        if (reader_options(options, &pr->ro, &pr->io) != 0) {
            free(pr);
            return NULL;
        }
        tnt_status st = tnt_reader_new(&pr->reader, &pr->ro);
        if (st != TNT_OK) {
            raise_last(st);
            free(pr);
            return NULL;
        }
        if (options && options != Py_None) {
            pr->keep = PyTuple_GetItem(options, 10);
            Py_XINCREF(pr->keep);
        }
        return pr;
    }

    ~tnt_py_reader() {
        tnt_reader_free($self->reader);
        if ($self->has_buf)
            PyBuffer_Release(&$self->buf);
        Py_CLEAR($self->keep);
        free($self);
    }

    /* Feed bytes; the reader holds them until next() answers AGAIN (None). */
    PyObject *feed(PyObject *data) {
        if ($self->has_buf)
            return raise_status(TNT_E_MISUSE, "call next() until it returns None before feeding more", NULL);
        if (data_arg(data, &$self->buf, "data") != 0)
            return NULL;
        $self->has_buf = 1;
        tnt_status st = tnt_reader_feed($self->reader, $self->buf.buf, (size_t)$self->buf.len);
        if (st != TNT_OK) {
            PyBuffer_Release(&$self->buf);
            $self->has_buf = 0;
            const char *m = *tnt_reader_errmsg($self->reader) ? tnt_reader_errmsg($self->reader) : tnt_error_last();
            return raise_status(st, m, NULL);
        }
        Py_RETURN_NONE;
    }

    PyObject *finish() {
        tnt_status st = tnt_reader_finish($self->reader);
        if (st < 0)
            return raise_status(st, tnt_reader_errmsg($self->reader), NULL);
        Py_RETURN_NONE;
    }

    /* The next event: an Event (mode 0) or an (index, hash, errors) summary
     * (mode 1); None: feed more; False: the document is finished. */
    PyObject *next(int mode) {
        tnt_event *ev = NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_reader_next(&ev, $self->reader);
        Py_END_ALLOW_THREADS
        if (st == TNT_OK)
            return mode ? event_summary(ev) : clone_event(ev);
        if ((st == TNT_AGAIN || st < 0) && $self->has_buf) {
            PyBuffer_Release(&$self->buf);
            $self->has_buf = 0;
        }
        if (st == TNT_AGAIN)
            Py_RETURN_NONE;
        if (st == TNT_DONE)
            Py_RETURN_FALSE;
        return raise_status(st, tnt_reader_errmsg($self->reader), NULL);
    }

    PyObject *header() { return str_or_none(tnt_reader_header($self->reader)); }

    PyObject *counts() {
        size_t n = 0, valid = 0, rejected = 0;
        tnt_reader_counts($self->reader, &n, &valid, &rejected);
        return Py_BuildValue("(nnn)", (Py_ssize_t)n, (Py_ssize_t)valid, (Py_ssize_t)rejected);
    }
}

/* ---- Event ----------------------------------------------------------------- */
%rename(Event) tnt_py_event;
%nodefaultctor tnt_py_event;
typedef struct {} tnt_py_event;

%extend tnt_py_event {
    ~tnt_py_event() { tnt_event_free($self); }

    static PyObject *from_proto(PyObject *data) {
        Py_buffer view;
        if (data_arg(data, &view, "data") != 0)
            return NULL;
        tnt_event *ev = NULL;
        tnt_status st = tnt_event_from_proto(&ev, view.buf, (size_t)view.len);
        PyBuffer_Release(&view);
        if (st != TNT_OK)
            return raise_last(st);
        return wrap_event(ev);
    }

    int type() { return (int)tnt_event_get_type($self); }
    int action() { return (int)tnt_event_get_action($self); }
    size_t index() { return tnt_event_index($self); }
    bool valid() { return tnt_event_is_valid($self) != 0; }
    PyObject *errors() { return event_errors($self); }

    /* (ms, offset minutes) or None */
    PyObject *time(int which) {
        int64_t ms;
        int off = 0;
        if (tnt_event_get_time(&ms, &off, $self, (tnt_time_field)which) != TNT_OK)
            Py_RETURN_NONE;
        return Py_BuildValue("(Li)", (long long)ms, off);
    }

    PyObject *string(int field) { return str_or_none(tnt_event_get_string($self, (tnt_field)field)); }

    PyObject *list(int which) {
        size_t n = tnt_event_list_count($self, (tnt_list)which);
        PyObject *l = PyList_New((Py_ssize_t)n);
        for (size_t i = 0; l && i < n; i++)
            PyList_SET_ITEM(l, (Py_ssize_t)i, str_or_none(tnt_event_list_at($self, (tnt_list)which, i)));
        return l;
    }

    /* [(epc_class, quantity or None, uom or None)] */
    PyObject *qlist(int which) {
        size_t n = tnt_event_qlist_count($self, (tnt_qlist)which);
        PyObject *l = PyList_New((Py_ssize_t)n);
        for (size_t i = 0; l && i < n; i++) {
            const char *cls = NULL, *uom = NULL;
            double q = 0;
            int has = 0;
            tnt_event_qlist_at(&cls, &q, &has, &uom, $self, (tnt_qlist)which, i);
            PyObject *qo = has ? PyFloat_FromDouble(q) : (Py_INCREF(Py_None), Py_None);
            PyList_SET_ITEM(l, (Py_ssize_t)i, Py_BuildValue("(NNN)", str_or_none(cls), qo, str_or_none(uom)));
        }
        return l;
    }

    /* [(type or None, value)] */
    PyObject *refs(int which) {
        size_t n = tnt_event_ref_count($self, (tnt_ref_list)which);
        PyObject *l = PyList_New((Py_ssize_t)n);
        for (size_t i = 0; l && i < n; i++) {
            const char *type = NULL, *value = NULL;
            tnt_event_ref_at(&type, &value, $self, (tnt_ref_list)which, i);
            PyList_SET_ITEM(l, (Py_ssize_t)i, Py_BuildValue("(NN)", str_or_none(type), str_or_none(value)));
        }
        return l;
    }

    /* [[(type, value or None, uom or None)] per sensor element] */
    PyObject *sensors() {
        size_t n = tnt_event_sensor_count($self);
        PyObject *l = PyList_New((Py_ssize_t)n);
        for (size_t i = 0; l && i < n; i++) {
            size_t m = tnt_event_sensor_report_count($self, i);
            PyObject *reps = PyList_New((Py_ssize_t)m);
            for (size_t j = 0; reps && j < m; j++) {
                const char *type = NULL, *uom = NULL;
                double v = 0;
                int has = 0;
                tnt_event_sensor_report_at(&type, &v, &has, &uom, $self, i, j);
                PyObject *vo = has ? PyFloat_FromDouble(v) : (Py_INCREF(Py_None), Py_None);
                PyList_SET_ITEM(reps, (Py_ssize_t)j, Py_BuildValue("(NNN)", str_or_none(type), vo, str_or_none(uom)));
            }
            PyList_SET_ITEM(l, (Py_ssize_t)i, reps ? reps : (Py_INCREF(Py_None), Py_None));
        }
        return l;
    }

    /* (kind, value, count) of tnt_event_get; value is bool/float/str or None */
    PyObject *get(PyObject *path) {
        const char *p;
        if (text_arg(path, &p, NULL, "path") != 0)
            return NULL;
        tnt_value v;
        tnt_status st = tnt_event_get(&v, $self, p);
        if (st == TNT_E_NOTFOUND)
            Py_RETURN_NONE;
        if (st != TNT_OK)
            return raise_last(st);
        PyObject *val;
        switch (v.kind) {
        case TNT_VALUE_BOOL: val = PyBool_FromLong(v.boolean); break;
        case TNT_VALUE_NUMBER: val = str_or_none(v.string); break; /* the number's text: Python decides int or float */
        case TNT_VALUE_STRING: val = str_or_none(v.string); break;
        default: val = Py_None; Py_INCREF(val);
        }
        return Py_BuildValue("(iNn)", v.kind, val, (Py_ssize_t)v.count);
    }

    PyObject *prefixes() {
        size_t n = tnt_event_prefix_count($self);
        PyObject *d = PyDict_New();
        for (size_t i = 0; d && i < n; i++) {
            const char *p = NULL, *iri = NULL;
            tnt_event_prefix_at(&p, &iri, $self, i);
            PyObject *k = str_or_none(p), *v = str_or_none(iri);
            if (!k || !v || PyDict_SetItem(d, k, v) != 0)
                Py_CLEAR(d);
            Py_XDECREF(k);
            Py_XDECREF(v);
        }
        return d;
    }

    PyObject *to_json(unsigned int flags) {
        char *json = NULL;
        size_t len = 0;
        tnt_status st = tnt_event_to_json(&json, &len, $self, flags);
        if (st != TNT_OK)
            return raise_last(st);
        return owned_str(json, len);
    }

    PyObject *to_proto() {
        void *buf = NULL;
        size_t len = 0;
        tnt_status st = tnt_event_to_proto(&buf, &len, $self);
        if (st != TNT_OK)
            return raise_last(st);
        PyObject *b = PyBytes_FromStringAndSize(buf, (Py_ssize_t)len);
        tnt_free(buf);
        return b;
    }

    PyObject *clone() { return clone_event($self); }
}

/* ---- identifiers ----------------------------------------------------------- */
%rename(GcpTable) tnt_py_gcp;
%nodefaultctor tnt_py_gcp;
typedef struct {} tnt_py_gcp;

%extend tnt_py_gcp {
    tnt_py_gcp() {
        tnt_gcp_table *t = NULL;
        tnt_status st = tnt_gcp_table_new(&t);
        if (st != TNT_OK)
            raise_last(st);
        return t;
    }
    ~tnt_py_gcp() { tnt_gcp_table_free($self); }

    PyObject *add(PyObject *prefix, int length) {
        const char *p;
        if (text_arg(prefix, &p, NULL, "prefix") != 0)
            return NULL;
        tnt_status st = tnt_gcp_table_add($self, p, length);
        if (st != TNT_OK)
            return raise_last(st);
        Py_RETURN_NONE;
    }

    PyObject *load(PyObject *path) {
        const char *p;
        if (text_arg(path, &p, NULL, "path") != 0)
            return NULL;
        tnt_status st;
        Py_BEGIN_ALLOW_THREADS
        st = tnt_gcp_table_load($self, p);
        Py_END_ALLOW_THREADS
        if (st != TNT_OK)
            return raise_last(st);
        Py_RETURN_NONE;
    }

    /* the length, or None */
    PyObject *lookup(PyObject *digits) {
        const char *d;
        if (text_arg(digits, &d, NULL, "digits") != 0)
            return NULL;
        int len = 0;
        if (tnt_gcp_table_lookup(&len, $self, d) != TNT_OK)
            Py_RETURN_NONE;
        return PyLong_FromLong(len);
    }
}

%rename(IdParser) tnt_py_id;
%nodefaultctor tnt_py_id;
typedef struct {} tnt_py_id;

%extend tnt_py_id {
    tnt_py_id() {
        tnt_id *id = NULL;
        tnt_status st = tnt_id_new(&id);
        if (st != TNT_OK)
            raise_last(st);
        return id;
    }
    ~tnt_py_id() { tnt_id_free($self); }

    /* (status, type, level, form, canonical, element_string, gcp_length,
     *  ((ai, value), ...), ((code, message), ...), epc_urn or None,
     *  epc_urn error (status, message) or None, digital link) */
    PyObject *parse(PyObject *text, int gcp_length, tnt_py_gcp *table, unsigned int flags) {
        const char *s;
        Py_ssize_t n;
        if (PyUnicode_Check(text)) {
            s = PyUnicode_AsUTF8AndSize(text, &n);
            if (!s)
                return NULL;
        } else if (PyBytes_Check(text)) {
            s = PyBytes_AS_STRING(text);
            n = PyBytes_GET_SIZE(text);
        } else {
            PyErr_Format(PyExc_TypeError, "an identifier must be str or bytes, not %.80s", Py_TYPE(text)->tp_name);
            return NULL;
        }
        tnt_id_options o;
        tnt_id_options_init(&o, TNT_ID_OPTIONS_VERSION);
        o.gcp_length = gcp_length;
        o.gcp_table = table;
        o.flags = flags;
        tnt_status st = tnt_id_parse($self, s, (size_t)n, &o);
        if (st == TNT_E_TOOBIG)
            return raise_last(st);
        size_t ne = tnt_id_error_count($self);
        PyObject *errs = PyTuple_New((Py_ssize_t)ne);
        for (size_t i = 0; errs && i < ne; i++) {
            const char *code = NULL, *msg = NULL;
            tnt_id_error_at(&code, &msg, $self, i);
            PyTuple_SET_ITEM(errs, (Py_ssize_t)i, Py_BuildValue("(NN)", str_or_none(code), str_or_none(msg)));
        }
        if (!errs)
            return NULL;
        if (st != TNT_OK)
            return Py_BuildValue("(iiiiOOiONOOO)", st, 0, 0, 0, Py_None, Py_None, 0, Py_None, errs, Py_None, Py_None, Py_None);
        size_t na = tnt_id_ai_count($self);
        PyObject *ais = PyTuple_New((Py_ssize_t)na);
        for (size_t i = 0; ais && i < na; i++) {
            const char *ai = NULL, *value = NULL;
            tnt_id_ai_at(&ai, &value, $self, i);
            PyTuple_SET_ITEM(ais, (Py_ssize_t)i, Py_BuildValue("(NN)", str_or_none(ai), str_or_none(value)));
        }
        char *urn = NULL, *dl = NULL;
        PyObject *urn_o, *urn_err, *dl_o;
        tnt_status us = tnt_id_epc_urn(&urn, $self);
        if (us == TNT_OK) {
            urn_o = owned_str(urn, strlen(urn));
            urn_err = Py_None;
            Py_INCREF(urn_err);
        } else {
            urn_o = Py_None;
            Py_INCREF(urn_o);
            urn_err = Py_BuildValue("(iN)", us, str_or_none(tnt_error_last()));
        }
        tnt_status ds = tnt_id_digital_link(&dl, $self, NULL);
        dl_o = ds == TNT_OK ? owned_str(dl, strlen(dl)) : (Py_INCREF(Py_None), Py_None);
        return Py_BuildValue("(iiiiNNiNNNNN)", st, (int)tnt_id_get_type($self), (int)tnt_id_get_level($self),
                             (int)tnt_id_get_form($self), str_or_none(tnt_id_canonical($self)),
                             str_or_none(tnt_id_element_string($self)), tnt_id_gcp_length($self), ais, errs, urn_o,
                             urn_err, dl_o);
    }

    /* The Digital Link of the last parse on another stem. */
    PyObject *digital_link(PyObject *stem) {
        const char *s;
        if (opt_text_arg(stem, &s, "stem") != 0)
            return NULL;
        char *dl = NULL;
        tnt_status st = tnt_id_digital_link(&dl, $self, s);
        if (st != TNT_OK)
            return raise_last(st);
        return owned_str(dl, strlen(dl));
    }
}

/* ---- functions without a handle -------------------------------------------- */
%{
/* The class of the results of Engine.track: a subclass of tuple. */
static PyObject *set_track_type(PyObject *type)
{
    if (!PyType_Check(type) || !PyType_IsSubtype((PyTypeObject *)type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "the track type must be a subclass of tuple");
        return NULL;
    }
    Py_INCREF(type);
    Py_XDECREF((PyObject *)py_track_type);
    py_track_type = (PyTypeObject *)type;
    Py_RETURN_NONE;
}

/* [(code, name, text)] from tnt_status_descs() */
static PyObject *status_table(void)
{
    const tnt_status_desc *d = NULL;
    size_t n = 0;
    if (tnt_status_descs(&d, &n) != TNT_OK)
        return PyList_New(0);
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++)
        PyList_SET_ITEM(l, (Py_ssize_t)i, Py_BuildValue("(iss)", d[i].code, d[i].name, d[i].text));
    return l;
}

static PyObject *type_names(void)
{
    PyObject *d = PyDict_New();
    for (int t = 0; d && t <= 64; t++) {
        const char *name = tnt_id_type_name((tnt_id_type)t);
        if (t > 0 && strcmp(name, "unknown") == 0)
            break;
        PyObject *k = PyLong_FromLong(t), *v = str_or_none(name);
        PyDict_SetItem(d, k, v);
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
    return d;
}

static PyObject *event_type_name(int type) { return str_or_none(tnt_event_type_name((tnt_event_type)type)); }

static PyObject *check_digit(PyObject *digits)
{
    const char *s;
    Py_ssize_t n;
    if (text_arg(digits, &s, &n, "digits") != 0)
        return NULL;
    return PyLong_FromLong(tnt_gs1_check_digit(s, (size_t)n));
}

static PyObject *id_normalize(PyObject *text, int gcp_length, tnt_py_gcp *table, unsigned int flags)
{
    const char *s;
    Py_ssize_t n;
    if (text_arg(text, &s, &n, "identifier") != 0)
        return NULL;
    tnt_id_options o;
    tnt_id_options_init(&o, TNT_ID_OPTIONS_VERSION);
    o.gcp_length = gcp_length;
    o.gcp_table = table;
    o.flags = flags;
    char *out = NULL;
    tnt_status st = tnt_id_normalize(&out, s, (size_t)n, &o);
    if (st != TNT_OK)
        return raise_last(st);
    return owned_str(out, strlen(out));
}

static PyObject *keygen(void)
{
    char *pub = NULL, *sec = NULL;
    tnt_status st = tnt_keygen(&pub, &sec);
    if (st != TNT_OK)
        return raise_last(st);
    return Py_BuildValue("(NN)", owned_str(pub, strlen(pub)), owned_str(sec, strlen(sec)));
}

static PyObject *sign_code(PyObject *code, PyObject *secret, PyObject *stem)
{
    const char *c, *k, *s;
    if (text_arg(code, &c, NULL, "code") != 0 || text_arg(secret, &k, NULL, "secret_key") != 0 ||
        opt_text_arg(stem, &s, "stem") != 0)
        return NULL;
    char *out = NULL;
    tnt_status st = tnt_sign_code(&out, c, k, s);
    if (st != TNT_OK)
        return raise_last(st);
    return owned_str(out, strlen(out));
}

/* True when the signature verifies, False when it does not. */
static PyObject *verdict_verify(PyObject *json, PyObject *key)
{
    const char *k;
    Py_buffer view;
    if (text_arg(key, &k, NULL, "public_key") != 0 || data_arg(json, &view, "answer") != 0)
        return NULL;
    tnt_status st = tnt_verdict_verify(view.buf, (size_t)view.len, k);
    PyBuffer_Release(&view);
    if (st == TNT_OK)
        Py_RETURN_TRUE;
    if (st == TNT_E_INVALID)
        Py_RETURN_FALSE;
    return raise_last(st);
}
%}

%rename("%s") set_track_type;
%rename("%s") status_table;
%rename("%s") type_names;
%rename("%s") event_type_name;
%rename("%s") check_digit;
%rename("%s") id_normalize;
%rename("%s") keygen;
%rename("%s") sign_code;
%rename("%s") verdict_verify;
PyObject *set_track_type(PyObject *type);
PyObject *status_table(void);
PyObject *type_names(void);
PyObject *event_type_name(int type);
PyObject *check_digit(PyObject *digits);
PyObject *id_normalize(PyObject *text, int gcp_length, tnt_py_gcp *table, unsigned int flags);
PyObject *keygen(void);
PyObject *sign_code(PyObject *code, PyObject *secret, PyObject *stem);
PyObject *verdict_verify(PyObject *json, PyObject *key);


%{
static swig_type_info *event_type(void) { return SWIGTYPE_p_tnt_py_event; }
static swig_type_info *gcp_table_type(void) { return SWIGTYPE_p_tnt_py_gcp; }
static swig_type_info *track_type(void) { return SWIGTYPE_p_tnt_py_track; }
%}

%init %{
    if (tnt_version_number() / 10000 != TNT_VERSION_MAJOR || tnt_version_number() < TNT_VERSION_NUMBER) {
        PyErr_Format(PyExc_ImportError, "tnt: built for libtnt %s, but the loaded library is %s", TNT_VERSION_STRING,
                     tnt_version_string());
        return NULL;
    }
%}
