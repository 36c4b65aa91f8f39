#!/usr/bin/env python3
# `make flash` / `make erase`: put the image of `make firmware` on an ESP32.
"""Writes build/esp32/firmware.bin (`make firmware`) to an ESP32 with esptool, then, with
mpremote, removes what an earlier `make deploy` left on the board's filesystem, copies boot.py
and config.json and resets the board. `erase` erases the whole flash first (the filesystem too).

    python tools/flash.py flash --port /dev/ttyUSB0 [--config config.json] [--dry-run]
    python tools/flash.py erase --port /dev/ttyUSB0 [--dry-run]

The commands (`--dry-run` prints them, one per line):

    esptool --chip esp32 --port PORT --baud 460800 write-flash -z 0x1000 build/esp32/firmware.bin
    mpremote connect PORT exec <remove make deploy's files> + fs cp boot.py :boot.py
        + fs cp config.json :config.json + reset
    esptool --chip esp32 --port PORT erase-flash                          (erase)

Why the clean-up: on the ESP32 sys.path is ['', '.frozen', '/lib'] and the current folder is
/, so a /firmware folder from `make deploy` comes before the frozen `firmware` package and is
imported instead of it (the whole package: its submodules are then looked up on the
filesystem only). /lib comes after the frozen modules and shadows nothing, but its .mpy files
are stale code and would answer for a module the image no longer has; a frozen main.py runs
in place of /main.py. The clean-up removes /main.py, /firmware and the entries `make deploy`
puts in /lib (and /lib if that leaves it empty); /state (journal, certificates, settings) stays.
firmware.bin itself covers 0x1000 up to the end of the application in ota_0 and blanks what lies
between (nvs, otadata, phy_init), so the board boots the new image from ota_0 even if an OTA
update had moved it to ota_1; the filesystem after 0x310000 is untouched.

After esptool resets the board the new image starts; with a config.json already there the
firmware arms its 30 s watchdog, which mpremote's interrupt does not stop: the mpremote step
takes seconds, and a watchdog reset in the middle is harmless (run `make flash` again).
"""

import argparse
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import devicefiles  # noqa: E402

ROOT = devicefiles.ROOT
IMAGE = os.path.join(ROOT, "build", "esp32", "firmware.bin")
FLASH_OFFSET = "0x1000"  # the ESP32's bootloader offset (ports/esp32/boards/*/board.json)
BAUD = "460800"


def deployed_paths():
    """What `make deploy` puts on the board besides boot.py and config.json, as top-level
    entries: main.py, firmware, and the first path part of each library under lib/."""
    top, lib = set(), set()
    for rel in devicefiles.deployable():
        if rel == "boot.py":
            continue
        if rel.startswith("lib/"):
            part = rel.split("/")[1]
            lib.add(part[:-3] + ".mpy" if part.endswith(".py") else part)
        else:
            top.add(rel.split("/")[0])
    return sorted(top), sorted(lib)


def cleanup_code(root=""):
    """One line of MicroPython that removes `make deploy`'s files under `root` ("" on the
    board, where they sit under /), quietly skipping what is not there."""
    top, lib = deployed_paths()
    return (
        "import os;"
        "D=lambda p:os.stat(p)[0]&0x4000;"
        "R=lambda p:[R(p+\"/\"+n) for n in os.listdir(p)]+[os.rmdir(p)] if D(p) else os.remove(p);"
        "B=%s;T=os.listdir(B or \"/\");"
        "X=[n for n in %s if n in T];"
        "L=[n for n in os.listdir(B+\"/lib\") if n in %s] if \"lib\" in T else [];"
        "[R(B+\"/\"+n) for n in X];[R(B+\"/lib/\"+n) for n in L];"
        "0 if \"lib\" not in T or os.listdir(B+\"/lib\") else os.rmdir(B+\"/lib\");"
        "print(\"removed from make deploy:\",len(X)+len(L))"
    ) % (_q(root), _tuple(top), _tuple(lib))


def _q(text):  # double quotes only, so that the shell line keeps one pair of single quotes
    return '"%s"' % text


def _tuple(names):
    return "(%s,)" % ",".join(_q(n) for n in names)


def flash_plan(port, config, image=IMAGE):
    esptool = ["esptool", "--chip", "esp32", "--port", port, "--baud", BAUD,
               "write-flash", "-z", FLASH_OFFSET, image]
    mpremote = ["mpremote", "connect", port, "exec", cleanup_code(),
                "+", "fs", "cp", os.path.join(ROOT, "boot.py"), ":boot.py",
                "+", "fs", "cp", config, ":config.json", "+", "reset"]
    return [esptool, mpremote]


def erase_plan(port):
    return [["esptool", "--chip", "esp32", "--port", port, "erase-flash"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("flash", "erase"))
    ap.add_argument("--port", required=True)
    ap.add_argument("--config", default=os.path.join(ROOT, "config.json"))
    ap.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = ap.parse_args()
    cmds = flash_plan(args.port, args.config) if args.action == "flash" else erase_plan(args.port)
    if args.dry_run:
        for cmd in cmds:
            print(shlex.join(cmd))
        return 0
    if args.action == "flash":
        if not os.path.exists(IMAGE):
            print("flash: %s not found: run `make firmware` first" % os.path.relpath(IMAGE, ROOT),
                  file=sys.stderr)
            return 2
        if not os.path.exists(args.config):
            print("flash: %s not found (copy config.example.json and edit it)" % args.config,
                  file=sys.stderr)
            return 2
    # esptool and mpremote come with the virtualenv: find them even when it is not activated
    env = dict(os.environ,
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    for cmd in cmds:
        status = subprocess.call(cmd, env=env)
        if status:
            print("flash: %s failed (exit status %d)" % (cmd[0], status), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
