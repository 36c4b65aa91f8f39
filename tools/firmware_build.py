#!/usr/bin/env python3
# `make firmware`: the ESP32 image with the firmware frozen in, built by ESP-IDF.
"""Builds MicroPython for the ESP32 with the project's manifest.py frozen in, by MicroPython's
documented procedure (ports/esp32/README.md), and copies the images to build/esp32/.

    python tools/firmware_build.py [--micropy-dir DIR] [--board NAME] [--board-variant V]
                                   [--dry-run]

The commands, run in one shell (`--dry-run` prints them, one per line):

    source "$IDF_PATH/export.sh"          (left out when idf.py is on PATH already)
    make -C <tree>/mpy-cross
    make -C <tree>/ports/esp32 <board> submodules
    make -C <tree>/ports/esp32 <board> FROZEN_MANIFEST=<repo>/manifest.py

<board> is by default `BOARD_DIR=<repo>/esp32/boards/OCPP_ESP32`: ESP32_GENERIC's OTA variant
without Bluetooth, which makes the room the frozen firmware needs in the 1.5 MiB OTA slot.
`--board ESP32_GENERIC --board-variant OTA` builds MicroPython's own board instead.

MICROPY_DIR (or --micropy-dir) names the MicroPython tree; the default is the v1.28.0 tarball of
../shared/micropython unpacked under build/ (as tools/build_micropython.py does). That tarball
is trimmed (no drivers/, no git submodules): it is enough for --dry-run, but a real build needs
a git checkout of MicroPython v1.28.0.

Outputs, in <tree>/ports/esp32/build-<BOARD>[-<VARIANT>]/: firmware.bin (the whole flash
image, written at 0x1000 on the ESP32: `make flash`) and micropython.bin (the application
image, what an OTA update installs). Both are copied to build/esp32/; micropython.bin must fit
the OTA slot (0x180000 bytes, partitions-4MiB-ota.csv).

Exit status: 0 built (or printed), 1 the build failed or the image is too big, 2 ESP-IDF or a
buildable MicroPython tree is missing (one line says which).
"""

import argparse
import contextlib
import os
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_micropython  # noqa: E402

ROOT = build_micropython.ROOT
MANIFEST = os.path.join(ROOT, "manifest.py")
BOARD_NAME = "OCPP_ESP32"
BOARD_DIR = os.path.join(ROOT, "esp32", "boards", BOARD_NAME)
OUT = os.path.join(ROOT, "build", "esp32")
OTA_SLOT_BYTES = 0x180000  # ota_0 and ota_1 in ports/esp32/partitions-4MiB-ota.csv
SOURCE_IDF = 'source "$IDF_PATH/export.sh"'


class FirmwareError(Exception):
    """A build that cannot go on; the message is the one line to print."""


def idf_problem(env):
    """None when ESP-IDF can be used from `env`, else the one-line reason."""
    if shutil.which("idf.py", path=env.get("PATH", "")):
        return None
    idf = env.get("IDF_PATH")
    if not idf:
        return ("ESP-IDF not found: IDF_PATH is not set and idf.py is not on PATH "
                "(install ESP-IDF v5.5.1, then set IDF_PATH or `source $IDF_PATH/export.sh`)")
    if not os.path.isfile(os.path.join(idf, "export.sh")):
        return ("ESP-IDF not found: IDF_PATH=%s has no export.sh (want an ESP-IDF v5.5.1 checkout)"
                % idf)
    return None


def tree_problem(tree):
    """None when `tree` can build the ESP32 port, else the one-line reason."""
    missing = [p for p in ("drivers", ".git") if not os.path.exists(os.path.join(tree, p))]
    if not missing:
        return None
    return ("%s cannot build the ESP32 port (no %s: the trimmed tarball?): pass MICROPY_DIR=<a git "
            "clone of MicroPython v1.28.0>" % (tree, " and no ".join(missing)))


def board_args(board=None, variant=None):
    """(make arguments naming the board, the build folder's name) as ports/esp32/Makefile
    derives it: build-<BOARD>[-<VARIANT>], BOARD being BOARD_DIR's last part."""
    if not board or board == BOARD_NAME:
        args, name = ["BOARD_DIR=" + BOARD_DIR], BOARD_NAME
    else:
        args, name = ["BOARD=" + board], board
    if variant:
        args.append("BOARD_VARIANT=" + variant)
    return args, "build-%s%s" % (name, "-" + variant if variant else "")


def plan(tree, board=None, variant=None, env=None):
    """The shell lines that build the image, in order."""
    env = os.environ if env is None else env
    port = os.path.join(tree, "ports", "esp32")
    bargs, _ = board_args(board, variant)
    lines = [] if shutil.which("idf.py", path=env.get("PATH", "")) else [SOURCE_IDF]
    lines.append(shlex.join(["make", "-C", os.path.join(tree, "mpy-cross")]))
    lines.append(shlex.join(["make", "-C", port] + bargs + ["submodules"]))
    lines.append(shlex.join(["make", "-C", port] + bargs + ["FROZEN_MANIFEST=" + MANIFEST]))
    return lines


def build_dir(tree, board=None, variant=None):
    return os.path.join(tree, "ports", "esp32", board_args(board, variant)[1])


def check_app_size(path, limit=OTA_SLOT_BYTES):
    """Raises FirmwareError unless the app image at `path` fits an OTA slot; returns its size."""
    size = os.path.getsize(path)
    if size > limit:
        raise FirmwareError("%s is %d bytes, %d over the OTA slot of %d bytes (0x%x): leave more "
                            "out of the image" % (os.path.basename(path), size, size - limit,
                                                  limit, limit))
    return size


def run(tree, board, variant):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    script = " && ".join(plan(tree, board, variant, env))
    if subprocess.call(["bash", "-c", script], env=env):
        raise FirmwareError("the ESP-IDF build failed (see above)")
    out = build_dir(tree, board, variant)
    images = [os.path.join(out, n) for n in ("firmware.bin", "micropython.bin")]
    for path in images:
        if not os.path.exists(path):
            raise FirmwareError("the build made no %s" % path)
    size = check_app_size(images[1])
    os.makedirs(OUT, exist_ok=True)
    for path in images:
        shutil.copy2(path, OUT)
    rel = os.path.relpath(OUT, ROOT)
    print("firmware: %s" % images[0])
    print("          whole flash image, at 0x1000 on the ESP32 (make flash): %s/firmware.bin" % rel)
    print("firmware: %s" % images[1])
    print("          app image for OTA updates, %d bytes, %d free in the 0x%x-byte slot: "
          "%s/micropython.bin" % (size, OTA_SLOT_BYTES - size, OTA_SLOT_BYTES, rel))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or None)
    ap.add_argument("--board",
                    help="a board of ports/esp32/boards (default: %s, this repo's)" % BOARD_NAME)
    ap.add_argument("--board-variant", help="e.g. OTA with --board ESP32_GENERIC")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = ap.parse_args()
    if not args.dry_run:
        problem = idf_problem(os.environ)
        if problem:
            print("firmware: " + problem, file=sys.stderr)
            return 2
    with contextlib.redirect_stdout(sys.stderr):  # "unpacking ..." is not a command
        tree = build_micropython.source_tree(args.micropy_dir)
    if tree is None:
        print("firmware: no MicroPython source: %s is missing and MICROPY_DIR is not set"
              % build_micropython.TARBALL, file=sys.stderr)
        return 2
    if args.dry_run:
        print("\n".join(plan(tree, args.board, args.board_variant)))
        return 0
    problem = tree_problem(tree)
    if problem:
        print("firmware: " + problem, file=sys.stderr)
        return 2
    try:
        run(tree, args.board, args.board_variant)
    except FirmwareError as e:
        print("firmware: " + str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
