#!/usr/bin/env python3
# The device tests under the 32-bit MicroPython unix port of tools/build_micropython.py.
"""Runs tests/device/test_*.py under the plain 32-bit interpreter (the ESP32's int size and a
collector whose gc.mem_alloc() shows what a collection frees, so the heap tests run here),
with tools/mptest/runner.py, from the repository root:

    python tools/mptest/run_unix.py [-k SUBSTRING] [module ...]

Without the 32-bit interpreter (tools/build_micropython.py says why) nothing runs and the
summary line counts one skipped check, with the reason.
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAP = "2M"  # the device tests' own data, not the firmware's budget (that is the memory gate)
LABEL = "micropython-unix32"
BOOT = ("import sys; sys.path[:0] = ['tests/device', '', 'lib', 'tools/mptest']; "
        "import asyncio, runner; "
        "sys.exit(asyncio.run(runner.main('tests/device', %r, %r, 30000, %r)))")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only tests whose file.py::name contains this")
    ap.add_argument("modules", nargs="*")
    args = ap.parse_args()
    built = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_micropython.py"),
                            "--json"], cwd=ROOT, capture_output=True, text=True)
    if built.returncode:
        print(built.stdout + built.stderr)
        print("%s: 0 passed, 1 failed, 0 skipped (the build failed)" % LABEL)
        return 1
    with open(os.path.join(ROOT, "build", "mp32", "current.json")) as f:
        result = json.load(f)
    if not result["available"]:
        print("%s: 0 passed, 0 failed, 1 skipped (%s)" % (LABEL, result["reason"]))
        return 0
    code = BOOT % (args.modules, args.k, LABEL)
    return subprocess.call([result["plain"], "-X", "heapsize=" + HEAP, "-c", code], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
