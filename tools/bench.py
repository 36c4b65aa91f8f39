#!/usr/bin/env python3
# `make bench`: run the benchmarks on each interpreter and compare the figures with targets.
"""Runs tools/bench/*_bench.py under CPython, the MicroPython unix port, the 32-bit unix port
of tools/build_micropython.py and the MicroPython WebAssembly port (both 32-bit, like the
ESP32), prints one table, then the worst event-loop stalls of a charging session, a
GetConfiguration of every key and a signed update (tools/bench/loop_stall.py, frozen 32-bit
build, target 2 ms), then the heap floors of the memory gate's scenarios
(tools/bench/heap_floor.py: the smallest heap each passes with, frozen and as .mpy files, and
the frozen code size), and exits 1 when a figure misses its target. Bytes are allocated bytes
per operation (gc.mem_alloc with the GC off on MicroPython; the peak of one call on CPython);
times are microseconds per operation on this machine (an ESP32 is some 200 to 300 times
slower). A target is either in TARGETS below or a script's own (its `TARGET` lines, e.g. the
signature checks of signature_bench.py): both are shown next to their figure.

    python tools/bench.py [--no-stalls] [--no-floors]
"""

import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHES = ("tools/bench/ocpp_bench.py", "tools/bench/signature_bench.py",
           "tools/bench/ota_bench.py")

# name pattern -> (interpreters it applies to, maximum bytes per operation, maximum
# microseconds per operation, or the figure whose time this one may take at most twice;
# None where there is no such bound)
UNIX = ("micropython-wasm", "micropython-unix", "micropython-unix32")
TARGETS = (
    # the frame encoder (issue 12, item 3), steady-state frames: at most 64 bytes a frame
    # (it allocates none) in at most twice the time json.dumps takes for the same frame
    (r"^encode\.(?!GetConfiguration)(\w+)$", UNIX, 64, r"dumps.\1"),
    # a GetConfiguration answer (2.8 KB) is not steady traffic: it grows a stream for itself
    # rather than every moment carrying one that big (ocppj/encoder.py); its time is bounded
    (r"^encode\.(GetConfiguration)$", UNIX, None, r"dumps.\1"),
    # one bound for both image sizes: heap growth must not depend on the image size. The
    # download (writer, image check; the shared block made at start-up): 4.3 KB on 32 bits,
    # 6.2 KB on 64, so one more 4 KiB buffer anywhere misses the bound
    (r"^ota\.(download|write)\.(100KiB|1536KiB)$", UNIX, 8192, None),
)


PRELUDE = "import sys; sys.path[:0]=['lib', 'tools/bench']; "


def runners():
    # The 32-bit unix build first: the time targets are its, and this host runs a process
    # up to half as fast again for a while after the 1.5 MiB image writes of ota_bench.py
    # (measured: ECDSA 5.5 ms right after them, 3.4 ms otherwise).
    built = os.path.join(ROOT, "build", "mp32", "current.json")
    subprocess.run([sys.executable, "tools/build_micropython.py"], cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    if os.path.exists(built):
        with open(built) as f:
            mp32 = json.load(f)
        if mp32["available"]:
            yield "micropython-unix32", lambda script: [
                mp32["plain"], "-X", "heapsize=8M", "-c",
                PRELUDE + "exec(open(%r).read())" % script]
    yield "cpython", lambda script: [sys.executable, "-c", PRELUDE + "exec(open(%r).read())" % script]
    mp = shutil.which("micropython")
    if mp:
        yield "micropython-unix", lambda script: [
            mp, "-c", PRELUDE + "exec(open(%r).read())" % script]
    yield "micropython-wasm", lambda script: ["node", "tools/bench/run_wasm.mjs", script]


def target_for(name, interpreter):
    """(max bytes, max us or the name of the figure to be within twice of) or None."""
    for pattern, where, max_bytes, max_time in TARGETS:
        if re.search(pattern, name) and interpreter in where:
            if isinstance(max_time, str):
                max_time = re.sub(pattern, max_time, name)
            return max_bytes, max_time
    return None


def check(name, interpreter, nbytes, us, times):
    """(target text, "yes"/"NO"/"") for one figure."""
    target = target_for(name, interpreter)
    if target is None:
        return "", ""
    max_bytes, max_time = target
    texts, ok = [], True
    if max_bytes is not None:
        texts.append("%d B" % max_bytes)
        ok = ok and nbytes <= max_bytes
    if isinstance(max_time, str):  # within twice the time of another figure of the same run
        other = times.get((max_time, interpreter))
        texts.append("2x %s" % ("?" if other is None else "%.1f" % other))
        ok = ok and other is not None and us <= 2 * other
    elif max_time is not None:
        texts.append("%d us" % max_time)
        ok = ok and us <= max_time
    return ", ".join(texts), "yes" if ok else "NO"


def main():
    rows = []
    own = {}  # (name, interpreter) -> [(target text, met)] the script checked itself
    for interpreter, command in runners():
        for script in BENCHES:
            proc = subprocess.run(command(script), cwd=ROOT, capture_output=True, text=True)
            if proc.returncode:
                print(proc.stdout + proc.stderr)
                print("bench: %s failed under %s" % (script, interpreter))
                return 1
            for line in proc.stdout.splitlines():
                if line.startswith("BENCH "):
                    _, name, nbytes, us = line.split()
                    rows.append((name, interpreter, int(nbytes), float(us)))
                elif line.startswith("TARGET "):  # a script's own target, checked by it
                    # "TARGET <name> <figure> <= <limit> <unit> met|MISSED"
                    words = line.split()
                    own.setdefault((words[1], interpreter), []).append(
                        ("%s %s" % (words[4], "B" if words[5] == "bytes" else words[5]),
                         words[6] == "met"))
    missed = 0
    times = {(name, interpreter): us for name, interpreter, _, us in rows}
    print("%-44s %-17s %10s %10s %16s %s" % ("benchmark", "interpreter", "bytes/op", "us/op",
                                             "target", "met"))
    for name, interpreter, nbytes, us in rows:
        target, met = check(name, interpreter, nbytes, us, times)
        if not target and (name, interpreter) in own:
            checked = own[(name, interpreter)]
            target = ", ".join(text for text, _ in checked)
            met = "yes" if all(ok for _, ok in checked) else "NO"
        missed += met == "NO"
        print("%-44s %-17s %10d %10.1f %16s %s" % (name, interpreter, nbytes, us, target, met))
    print("bench: %d figures, %d targets missed" % (len(rows), missed))
    stalls = floors = 0
    if "--no-stalls" not in sys.argv:
        print(flush=True)
        stalls = subprocess.call([sys.executable, "tools/bench/loop_stall.py"], cwd=ROOT)
    if "--no-floors" not in sys.argv:
        print(flush=True)
        floors = subprocess.call([sys.executable, "tools/bench/heap_floor.py"], cwd=ROOT)
    return 1 if missed or stalls or floors else 0


if __name__ == "__main__":
    sys.exit(main())
