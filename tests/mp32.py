# Test helper: the 32-bit MicroPython interpreters of tools/build_micropython.py as runtimes.
"""The firmware under the host twin of the ESP32 build:

    FROZEN = frozen_runtime("96K")  # frozen in, heap capped like a plain ESP32
    MPY = mpy_runtime()             # stock interpreter, the firmware as .mpy files, no cap

`available()` builds (or finds cached) both interpreters once per test run, so a changed
source tree is always what runs. When they cannot be built here (no 32-bit C library and no
way to install it), `skip_reason()` says why and the tests that need them skip with it.
"""

import json
import os
import subprocess
import sys

from simproc import ROOT, Runtime

# The heap of a plain ESP32 (ESP32-WROOM, no PSRAM), for the memory gate. CP_HEAPSIZE
# overrides it: `make bench` bisects for the smallest heap each scenario passes with.
HEAP_CAP = os.environ.get("CP_HEAPSIZE") or "96K"
MPY_HEAP = os.environ.get("CP_MPY_HEAPSIZE")  # no cap unless the bench sets one
_built = None


def _build():
    global _built
    if _built is None and os.environ.get("CP_MP32_BUILT"):  # the caller built them just now
        with open(os.path.join(ROOT, "build", "mp32", "current.json")) as f:
            _built = json.load(f)
    if _built is None:
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_micropython.py")],
                              cwd=ROOT, capture_output=True, text=True)
        path = os.path.join(ROOT, "build", "mp32", "current.json")
        if proc.returncode or not os.path.exists(path):
            _built = {"available": False,
                      "reason": "tools/build_micropython.py failed: " + proc.stdout[-2000:]}
        else:
            with open(path) as f:
                _built = json.load(f)
    return _built


def skip_reason():
    built = _build()
    return None if built["available"] else "no 32-bit MicroPython: " + built["reason"]


def frozen_runtime(heap=None):
    """The firmware frozen into the interpreter, run in the test's folder (no sources
    there), `main` from the frozen modules, the heap capped."""
    heap = heap or HEAP_CAP
    return Runtime("frozen32-" + heap, [_build()["frozen"], "-X", "heapsize=" + heap, "-m", "main"],
                   cwd=None)


def mpy_runtime(heap=None):
    """The stock interpreter with the firmware as .mpy files, laid out as on a board."""
    heap = heap or MPY_HEAP
    argv = [_build()["plain"]] + (["-X", "heapsize=" + heap] if heap else []) + ["main.py"]
    return Runtime("mpy32" + ("-" + heap if heap else ""), argv, cwd=_build()["mpy_tree"])
