#!/usr/bin/env python3
# `make test`: every gate in turn, each with its counts, then one summary line.
"""Runs the checks of `make test` and fails when any of them fails:

0. builds the 32-bit MicroPython interpreters, plain and with the firmware frozen in
   (tools/build_micropython.py; cached; unavailable without a 32-bit C library, with the
   reason, and then the checks that need them count as skipped)
1. pytest under CPython (host tests and device tests; includes main.py under the MicroPython
   unix port, and the memory gate: tests/test_memory_gate.py on the frozen 32-bit build under
   an ESP32-sized heap cap)
2. mpy-cross compiles every device file
3. pyright checks the device code against the ESP32 MicroPython stubs
4. the device tests under real MicroPython (WebAssembly port, 32-bit like the ESP32)
5. the device tests under the 32-bit MicroPython unix port (real heap figures)
"""

import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable

PARTS = (
    ("MicroPython 32-bit", [PY, "tools/build_micropython.py"], r"(mp32: [^\n]*)"),
    ("pytest (CPython)", [PY, "-m", "pytest", "-q"], r"(\d+ (passed|failed|skipped|error)[^\n]*)\s*$"),
    ("mpy-cross", [PY, "tools/compile_mpy.py"], r"(mpy-cross: [^\n]*)"),
    ("stub check (ESP32)", [PY, "tools/stubcheck.py"], r"(stub-check: [^\n]*)"),
    ("MicroPython (wasm)", ["node", "tools/mptest/run.mjs"], r"(micropython-wasm: [^\n]*)"),
    ("MicroPython (unix32)", [PY, "tools/mptest/run_unix.py"], r"(micropython-unix32: [^\n]*)"),
)


def run(name, cmd, pattern):
    print("=== %s: %s" % (name, " ".join(os.path.relpath(c, ROOT) if c == PY else c for c in cmd)),
          flush=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace")  # a test may print raw bytes
    sys.stdout.write(proc.stdout)
    failures = re.findall(r"^(?:FAILED|ERROR|FAIL) (\S+)", proc.stdout, re.M)
    found = re.findall(pattern, proc.stdout, re.M)
    summary = found[-1][0] if found and isinstance(found[-1], tuple) else (found[-1] if found else "no summary")
    return proc.returncode == 0, summary, time.monotonic() - start, failures


def counts(text):
    def num(word):
        m = re.search(r"(\d+) " + word, text)
        return int(m.group(1)) if m else 0
    return num("passed"), num("failed") + num("errors?"), num("skipped")  # pytest: "1 error"


def main():
    results = [(name,) + run(name, cmd, pat) for name, cmd, pat in PARTS]
    print("\n=== make test summary")
    passed = failed = skipped = 0
    for name, ok, summary, seconds, failures in results:
        print("%-20s %-6s %s  (%.0f s)" % (name, "ok" if ok else "FAILED", summary, seconds))
        for test in failures:  # named here too: CI keeps only the tail of the output
            print("%-20s   failed: %s" % ("", test))
        p, f, s = counts(summary)
        if "passed" not in summary:  # a gate, not a test run: it counts as one check
            unavailable = ok and "unavailable" in summary
            p, f, s = (0, 0, 1) if unavailable else (1, 0, 0) if ok else (0, 1, 0)
        elif not ok and not f:  # the runner itself broke
            f = 1
        passed += p
        failed += f
        skipped += s
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if all(r[1] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
