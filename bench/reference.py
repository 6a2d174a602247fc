"""The GS1 reference event-hash generator against `tnt hash` on one document.

    reference.py DOCUMENT TNT_CLI [REPS]

Runs the reference (epcis-event-hash-generator, imported, so interpreter
start-up is not counted) and the tnt command-line tool on the same EPCIS JSON
document, checks that every event gets the same hash, and prints both
throughputs and their ratio. Times are CPU seconds (the machine may be
shared); wall-clock seconds are printed beside them. Exit status 1 on any
mismatch. Lines starting with "@ " are the summary bench/run.sh collects.
"""
import json
import resource
import statistics
import subprocess
import sys
import time

from epcis_event_hash_generator import events_from_file_reader, hash_generator

try:
    from importlib.metadata import version
except ImportError:  # pragma: no cover
    version = None


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def reference(path):
    """Hashes and pre-hashes, with the CPU time of each step."""
    t0, w0 = time.process_time(), time.perf_counter()
    events = events_from_file_reader.event_list_from_file(path, "JSON")
    t1 = time.process_time()
    prehashes = hash_generator.derive_prehashes_from_events(events, "")
    t2 = time.process_time()
    hashes = hash_generator.calculate_hashes_from_pre_hashes(prehashes, "sha256")
    t3, w3 = time.process_time(), time.perf_counter()
    return hashes, prehashes, {"read (JSON + JSON-LD expansion)": t1 - t0, "pre-hash strings": t2 - t1,
                               "SHA-256": t3 - t2, "total": t3 - t0, "wall": w3 - w0}


def tnt(cli, path, reps):
    """Hashes from `tnt hash`, and the median CPU and wall time of reps runs."""
    cpu, wall, out = [], [], None
    for _ in range(reps):
        c0, w0 = cpu_children(), time.perf_counter()
        p = subprocess.run([cli, "hash", path], capture_output=True, text=True, check=False)
        wall.append(time.perf_counter() - w0)
        cpu.append(cpu_children() - c0)
        if p.returncode != 0:
            sys.exit(f"tnt hash failed ({p.returncode}): {p.stderr.strip()}")
        out = p.stdout.split()
    return out, statistics.median(cpu), statistics.median(wall)


def main():
    path, cli = sys.argv[1], sys.argv[2]
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    events = doc["epcisBody"]["eventList"]
    n = len(events)
    size = sum(len(json.dumps(e, separators=(",", ":"))) for e in events) / n

    ref_hashes, ref_pre, t = reference(path)
    ours, our_cpu, our_wall = tnt(cli, path, reps)

    bad = [i for i in range(n) if i >= len(ours) or i >= len(ref_hashes) or ours[i] != ref_hashes[i]]
    if len(ours) != n or len(ref_hashes) != n:
        print(f"event counts differ: document {n}, reference {len(ref_hashes)}, tnt {len(ours)}")
    for i in bad[:5]:
        pre = subprocess.run([cli, "hash", "--prehash", "-"], input=json.dumps(events[i]), capture_output=True,
                             text=True, check=False).stdout.split("\n")
        print(f"MISMATCH event {i}:\n  event     {json.dumps(events[i])}\n"
              f"  reference {ref_hashes[i] if i < len(ref_hashes) else '-'}\n"
              f"            {ref_pre[i] if i < len(ref_pre) else '-'}\n"
              f"  tnt       {ours[i] if i < len(ours) else '-'}\n"
              f"            {pre[1].strip() if len(pre) > 1 else '-'}")

    ref_eps, our_eps = n / t["total"], n / our_cpu
    ver = version("epcis-event-hash-generator") if version else "?"
    print(f"{n} ObjectEvents of {size:.0f} B (compact JSON) in one EPCISDocument")
    print(f"hashes equal: {n - len(bad)} of {n}" + (f"; {len(bad)} MISMATCH" if bad else ""))
    print(f"reference  epcis-event-hash-generator {ver} (Python {sys.version.split()[0]}), in-process:")
    for k in ("read (JSON + JSON-LD expansion)", "pre-hash strings", "SHA-256"):
        print(f"             {k:34s} {t[k]:8.3f} s CPU  {100 * t[k] / t['total']:5.1f}%")
    print(f"             total {t['total']:.3f} s CPU ({t['wall']:.3f} s wall): {ref_eps:,.0f} events/s")
    print(f"tnt hash   whole process, median of {reps}: {our_cpu:.3f} s CPU ({our_wall:.3f} s wall): "
          f"{our_eps:,.0f} events/s")
    print(f"ratio      tnt is {our_eps / ref_eps:,.0f}x the reference")
    print(f"@ reference hash generator | {ref_eps:,.0f} ev/s | -")
    print(f"@ tnt hash (CLI, whole process) | {our_eps:,.0f} ev/s, {our_eps / ref_eps:,.0f}x the reference | -")
    print(f"@ hashes equal to the reference | {n - len(bad)} of {n} | all")
    return 1 if bad or len(ours) != n else 0


if __name__ == "__main__":
    sys.exit(main())
