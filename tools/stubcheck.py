#!/usr/bin/env python3
# Gate: the device code type-checks against the ESP32 MicroPython stubs (pyright).
"""Run pyright over the device files with the ESP32 stubs as the standard library.

    python tools/stubcheck.py

The stubs (micropython-esp32-stubs, pinned in requirements-stubs.txt) are installed into
typings/ and pyrightconfig.json points pyright's typeshed there, so a call the ESP32 port
lacks (time.monotonic, asyncio.TaskGroup, a wrong machine.PWM argument) is an error.
Prints pyright's findings and a summary line; exits 1 on any error.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import devicefiles  # noqa: E402

PYRIGHT = os.path.join(devicefiles.ROOT, "node_modules", "pyright", "index.js")


def main():
    proc = subprocess.run(["node", PYRIGHT, "-p", "pyrightconfig.json", "--outputjson"],
                          cwd=devicefiles.ROOT, capture_output=True, text=True)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        print(proc.stdout + proc.stderr)
        print("stub-check: pyright did not run")
        return 1
    errors = 0
    for d in report.get("generalDiagnostics", []):
        if d["severity"] != "error":
            continue
        errors += 1
        where = os.path.relpath(d["file"], devicefiles.ROOT)
        print("%s:%d: %s" % (where, d["range"]["start"]["line"] + 1, d["message"].split("\n")[0]))
    checked = report.get("summary", {}).get("filesAnalyzed", 0)
    print("stub-check: %d files checked against the ESP32 stubs, %d errors" % (checked, errors))
    return 1 if errors or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
