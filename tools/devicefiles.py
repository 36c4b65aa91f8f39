# The list of device files: what goes to the board, what the device gates check.
"""Device files are boot.py, main.py and every .py under firmware/ and lib/.

The simulated board (firmware/sim/) is device code too (it runs under MicroPython's
unix port) but is not deployed to an ESP32: `deployable()` leaves it out. `make deploy`
copies one OCPP version's files, the one config.json names (csms.ocppVersion): the other
version's package and schema tables stay behind (the v201 tables alone are 65 files). The
frozen image (manifest.py) holds both versions: its code stays in flash, and a board then
changes version with its config.json alone.
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


SIM = "firmware/sim/"
# What a version does not need: the other version's package and schema tables
NOT_FOR = {"1.6": ("firmware/v201/", "lib/ocppj/schemas/v201/"),
           "2.0.1": ("firmware/v16/", "lib/ocppj/schemas/v16/")}


def deployable(version=None):
    """The device files but the simulation's; for one OCPP version ("1.6", "2.0.1") only, or
    for both (None)."""
    left_out = (SIM,) + NOT_FOR.get(version, ())
    return [f for f in all_files() if not f.startswith(left_out)]


def frozen(sim=False):
    """What manifest.py freezes: the deployable files but boot.py, which stays a file on the
    board; with the simulated board for the host twin of the build."""
    board = [f for f in all_files() if f.startswith(SIM)] if sim else []
    return sorted(f for f in deployable() + board if f != "boot.py")
