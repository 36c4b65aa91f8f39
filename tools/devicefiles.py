# The list of device files: what goes to the board, what the device gates check.
"""Device files are boot.py, main.py and every .py under firmware/ and lib/.

The simulated board (firmware/sim/) is device code too (it runs under MicroPython's
unix port) but is not deployed to an ESP32: `deployable()` leaves it out, and the OCPP 2.0.1
schema tables too while the firmware speaks 1.6 only (65 files of flash saved).
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP_FILES = ("boot.py", "main.py")
TREES = ("firmware", "lib")


def all_files():
    """Repo-relative paths of every device .py file, sorted."""
    found = [f for f in TOP_FILES if os.path.exists(os.path.join(ROOT, f))]
    for tree in TREES:
        for folder, dirs, files in os.walk(os.path.join(ROOT, tree)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in files:
                if name.endswith(".py"):
                    found.append(os.path.relpath(os.path.join(folder, name), ROOT))
    return sorted(found)


NOT_DEPLOYED = ("lib/ocppj/schemas/v201/",)
SIM = "firmware/sim/"


def deployable():
    return [f for f in all_files() if not f.startswith(SIM)
            and not f.startswith(NOT_DEPLOYED)]


def frozen(sim=False):
    """What manifest.py freezes: the deployable files but boot.py, which stays a file on the
    board; with the simulated board for the host twin of the build."""
    board = [f for f in all_files() if f.startswith(SIM)] if sim else []
    return sorted(f for f in deployable() + board if f != "boot.py")
