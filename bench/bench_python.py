#!/usr/bin/env python3
"""Per-call overhead of the Python bindings over the C API.

Builds a store of a few hundred units, then times the same calls from C (a
small harness compiled here against the installed libtnt, found by
pkg-config) and from Python, on the same data:

  track     tnt_engine_track + every field and reading + tnt_track_free,
            against engine.track(id) returning a tnt.Track
  ids       tnt_id_parse + canonical, against tnt.ids.normalize(text)

and prints the time per call of each (CPU time of the calling thread, the
best of many interleaved runs, so that other work on the machine counts
least), the difference (the overhead of the bindings) and the target (at
most 2 us per track call).

usage: bench_python.py [--calls N] [--runs R] [--json]
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import tnt

TARGET_US = 2.0

C_HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tnt/tnt.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv)
{
    const char *dir = argv[1];
    long calls = atol(argv[2]), runs = atol(argv[3]);
    int nids = argc - 4;
    char **ids = argv + 4;
    tnt_engine_options o;
    tnt_engine_options_init(&o, TNT_ENGINE_OPTIONS_VERSION);
    o.data_dir = dir;
    tnt_engine *e;
    if (tnt_engine_open(&e, &o) != TNT_OK) { fprintf(stderr, "open: %s\n", tnt_error_last()); return 1; }
    volatile size_t sink = 0;
    printf("[");
    for (long r = 0; r < runs; r++) {
        double t0 = now();
        for (long i = 0; i < calls; i++) {
            tnt_track *t;
            if (tnt_engine_track(&t, e, ids[i % nids]) != TNT_OK) { fprintf(stderr, "track: %s\n", tnt_error_last()); return 1; }
            for (int f = TNT_TRACK_ID; f <= TNT_TRACK_LAST_EVENT; f++) {
                const char *s = tnt_track_get(t, (tnt_track_field)f);
                sink += s ? strlen(s) : 0;
            }
            int64_t last; size_t count;
            tnt_track_times(t, &last, &count);
            for (size_t k = 0; k < tnt_track_reading_count(t); k++) {
                const char *type, *uom; double v; int64_t ms; int x;
                tnt_track_reading(&type, &v, &uom, &ms, &x, t, k);
                sink += strlen(type) + strlen(uom) + x;
            }
            sink += count;
            tnt_track_free(t);
        }
        double track_us = (now() - t0) / calls * 1e6;
        tnt_id *id;
        tnt_id_new(&id);
        t0 = now();
        for (long i = 0; i < calls; i++) {
            const char *s = ids[i % nids];
            tnt_id_parse(id, s, strlen(s), NULL);
            const char *c = tnt_id_canonical(id);
            sink += strlen(c);
        }
        double ids_us = (now() - t0) / calls * 1e6;
        tnt_id_free(id);
        printf("%s{\"track\":%.4f,\"ids\":%.4f}", r ? "," : "", track_us, ids_us);
    }
    printf("]\n");
    tnt_engine_close(e);
    return sink == 0;
}
"""


def build_harness(work):
    src = os.path.join(work, "harness.c")
    exe = os.path.join(work, "harness")
    with open(src, "w") as f:
        f.write(C_HARNESS)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libtnt"], check=True, capture_output=True,
                           text=True).stdout.split()
    libdir = subprocess.run(["pkg-config", "--variable=libdir", "libtnt"], check=True, capture_output=True,
                            text=True).stdout.strip()
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-o", exe, src, *flags, f"-Wl,-rpath,{libdir}"], check=True)
    return exe


def make_store(data, units):
    ids = [f"(01)09506000134352(21)B{i:05d}" for i in range(units)]
    reports = []
    for i, sn in enumerate(ids):
        reports.append({"product_id": sn, "event_type": "commission", "location": "9506000000022",
                        "timestamp": "2024-03-01T10:00:00Z"})
        reports.append({"product_id": sn, "event_type": "ship", "location": "9506000000022",
                        "timestamp": "2024-03-02T10:00:00Z", "condition": {"temperature": 4.0 + i % 7}})
    with tnt.Engine(data) as e:
        e.load_master({"products": [{"gtin": "09506000134352", "name": "Bench", "min_temp": 2, "max_temp": 8}]})
        rep = e.ingest(reports, counts_only=True)
        assert rep.rejected == 0, rep
    return ids


def time_python(data, ids, calls, runs):
    out = []
    n = len(ids)
    seq = [ids[i % n] for i in range(calls)]
    with tnt.Engine(data) as e:
        track = e.track
        normalize = tnt.ids.normalize
        for _ in range(runs):
            t0 = time.thread_time()
            for s in seq:
                track(s)
            track_us = (time.thread_time() - t0) / calls * 1e6
            t0 = time.thread_time()
            for s in seq:
                normalize(s)
            ids_us = (time.thread_time() - t0) / calls * 1e6
            out.append({"track": track_us, "ids": ids_us})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tnt-bench-py-")
    try:
        data = os.path.join(work, "data")
        ids = make_store(data, a.units)
        exe = build_harness(work)
        c_runs, py_runs = [], []
        for _ in range(a.rounds):  # interleave C and Python to share the machine's noise
            c_runs += json.loads(subprocess.run([exe, data, str(a.calls), str(a.runs), *ids], check=True,
                                                capture_output=True, text=True).stdout)
            py_runs += time_python(data, ids, a.calls, a.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {}
    for k in ("track", "ids"):
        c = min(r[k] for r in c_runs)
        p = min(r[k] for r in py_runs)
        res[k] = {"c_us": round(c, 3), "python_us": round(p, 3), "overhead_us": round(p - c, 3)}
    res["track"]["target_us"] = TARGET_US
    res["track"]["ok"] = res["track"]["overhead_us"] <= TARGET_US
    if a.json:
        print(json.dumps(res))
    else:
        print(f"libtnt {tnt.library_version}, Python {sys.version.split()[0]}, {a.calls} calls x {a.rounds * a.runs} runs, "
              f"best run, CPU time per call")
        print(f"{'call':8} {'C API':>10} {'Python':>10} {'overhead':>10}")
        for k, r in res.items():
            print(f"{k:8} {r['c_us']:>8.3f}us {r['python_us']:>8.3f}us {r['overhead_us']:>8.3f}us")
        t = res["track"]
        print(f"track overhead {t['overhead_us']:.3f} us per call; target <= {TARGET_US} us: "
              f"{'met' if t['ok'] else 'NOT met'}")
    return 0 if res["track"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
