#!/usr/bin/env python3
# Heap floors: the smallest -X heapsize each memory-gate scenario still passes with.
"""For each scenario of tests/test_memory_gate.py, bisect in 4 KiB steps for the smallest
heap the firmware passes it with, on the frozen 32-bit build and on the stock 32-bit build
with the .mpy files, and print the floors next to their targets with the frozen code size.

    python tools/bench/heap_floor.py [-k REGEX] [--kinds frozen32,mpy32] [--jobs N]

Each probe is one pytest run of one scenario with CP_HEAPSIZE (frozen32) or CP_MPY_HEAPSIZE
(mpy32) set: the scenario passes exactly as in `make test`, or it does not. A scenario that
fails at the top of the range is reported as such (a floor above it). Exit status 1 when a
target is missed. Probes of different scenarios run in parallel (--jobs): each mostly waits
on the simulated EV and the central system.
"""

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GATE = "tests/test_memory_gate.py"
STEP_K = 4
# kind -> (lowest, highest heap probed in KiB, the environment variable that sets the cap)
RANGES = {"frozen32": (24, 160, "CP_HEAPSIZE"), "mpy32": (96, 512, "CP_MPY_HEAPSIZE")}
# (kind, scenario pattern) -> target floor in KiB (issue 8: frozen <= 64 KiB everywhere;
# .mpy files <= 160 KiB for a boot and a charging session)
TARGETS = (("frozen32", r".*", 64),
           ("mpy32", r"test_boot_two_connectors_ws|test_two_sessions_at_once", 160))


def scenarios(pattern):
    """The gate's test ids for one runtime, without the runtime part: name[params]."""
    out = subprocess.run([sys.executable, "-m", "pytest", GATE, "--collect-only", "-q"],
                         cwd=ROOT, capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        m = re.match(r"^%s::(\w+)\[cpython(-[\w-]+)?\]$" % re.escape(GATE), line.strip())
        if m and (not pattern or re.search(pattern, line)):
            names.append((m.group(1), (m.group(2) or "")[1:]))
    return names


LOGS = os.path.join(ROOT, "build", "heap-floor")


def passes(kind, name, extra, heap_k):
    """True when the scenario passes under this heap. A failure that is not the heap's (no
    MemoryError in the output: a time-out of a busy machine, say) is run again, up to twice;
    its output is kept under build/heap-floor/ either way."""
    test_id = "%s::%s[%s%s]" % (GATE, name, kind, "-" + extra if extra else "")
    env = dict(os.environ, CP_MP32_BUILT="1", **{RANGES[kind][2]: "%dK" % heap_k})
    for attempt in range(3):
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p",
                               "no:cacheprovider", test_id], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        if proc.returncode == 0:
            if " passed" not in proc.stdout:
                raise RuntimeError("%s did not run: %s" % (test_id, proc.stdout[-500:]))
            return True
        os.makedirs(LOGS, exist_ok=True)
        with open(os.path.join(LOGS, "%s-%s-%s-%dK-%d.log" % (name, extra, kind, heap_k,
                                                            attempt)), "w") as f:
            f.write(proc.stdout + proc.stderr)
        if "MemoryError" in proc.stdout:
            return False
    return False


def floor(kind, name, extra):
    """Smallest passing heap in KiB (a multiple of STEP_K), or None above the range."""
    low, high, _ = RANGES[kind]
    if not passes(kind, name, extra, high):
        return None
    lo, hi = low // STEP_K, high // STEP_K  # in steps; hi passes
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(kind, name, extra, mid * STEP_K):
            hi = mid
        else:
            lo = mid
    return hi * STEP_K


def target(kind, name):
    for k, pattern, limit in TARGETS:
        if k == kind and re.search(pattern, name):
            return limit
    return None


def mp32_built(label):
    """True when tools/build_micropython.py made (or found) the 32-bit interpreters; else
    says why under `label` (also for tools/bench/loop_stall.py)."""
    built = subprocess.run([sys.executable, "tools/build_micropython.py"], cwd=ROOT,
                           capture_output=True, text=True)
    with open(os.path.join(ROOT, "build", "mp32", "current.json")) as f:
        if built.returncode or not json.load(f)["available"]:
            print(built.stdout)
            print("%s: no 32-bit MicroPython here: nothing measured" % label)
            return False
    return True


def frozen_size():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import frozen_size as fs  # noqa: E402
    return fs.frozen_app_bytes()


def measure(job):
    name, extra, kind = job
    start = time.monotonic()
    k = floor(kind, name, extra)
    limit = target(kind, name)
    ok = limit is None or (k is not None and k <= limit)
    label = name + ("[%s]" % extra if extra else "")
    line = "%-58s %-9s %8s %8s %s  (%.0f s)" % (
        label, kind, ">%dK" % RANGES[kind][1] if k is None else "%dK" % k,
        "" if limit is None else "<=%dK" % limit, "" if limit is None else
        ("met" if ok else "MISSED"), time.monotonic() - start)
    print(line, flush=True)
    return line, ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only scenarios whose id matches this regular expression")
    ap.add_argument("--kinds", default="frozen32,mpy32")
    ap.add_argument("--jobs", type=int, default=4)
    args = ap.parse_args()
    if not mp32_built("heap-floor"):
        return 1
    jobs = [(name, extra, kind) for name, extra in scenarios(args.k)
            for kind in args.kinds.split(",")]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(measure, jobs))
    print("\nheap floors (smallest -X heapsize that passes, 4 KiB steps):")
    for line, _ in results:
        print(line)
    missed = len([ok for _, ok in results if not ok])
    app = frozen_size()
    print("frozen application code: %d bytes (%.1f KiB) in the image" % (app, app / 1024))
    print("heap-floor: %d floors, %d targets missed" % (len(results), missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
