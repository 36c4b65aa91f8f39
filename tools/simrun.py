#!/usr/bin/env python3
# The host's bootloader: runs main.py and starts it again whenever the firmware resets.
"""Run the firmware on the host with the simulated board.

    python tools/simrun.py [--micropython] [--max-restarts N] [-- COMMAND ...]

COMMAND is how to start the firmware, run in the current folder, for an interpreter of its
own (the 32-bit frozen build: `-- build/mp32/frozen-*/micropython -X heapsize=96K -m main`);
without it, main.py in the repository under CPython (or the MicroPython unix port).

The simulated board ends the process with exit status 3 when the firmware resets (soft or
hard reset, reboot after a firmware install, watchdog); this runner then starts it again, as
the ESP32 bootloader would. Any other exit status ends the runner with that status.
CP_CONFIG and CP_STATE_DIR pass through to the firmware.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys

RESET_EXIT_STATUS = 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def interpreter(use_micropython):
    if not use_micropython:
        return [sys.executable]
    exe = shutil.which("micropython")
    if not exe:
        sys.exit("simrun: no micropython on PATH (make sim installs one in .venv)")
    return [exe]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--micropython", action="store_true", help="run under the MicroPython unix port")
    ap.add_argument("--max-restarts", type=int, default=-1, help="stop after N restarts (-1: never)")
    ap.add_argument("command", nargs="*", help="the firmware's command line (after --)")
    args = ap.parse_args(argv)
    cmd, cwd = args.command, None
    if not cmd:
        cmd, cwd = interpreter(args.micropython) + ["main.py"], ROOT
    restarts = 0
    # Stopped by SIGTERM: stop the firmware too, as pulling the plug would.
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    while True:
        proc = subprocess.Popen(cmd, cwd=cwd)
        try:
            status = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
            return 0
        if status != RESET_EXIT_STATUS:
            return status
        if restarts == args.max_restarts:
            print("simrun: restart limit reached", flush=True)
            return status
        restarts += 1
        print("simrun: firmware reset, starting it again (restart %d)" % restarts, flush=True)


if __name__ == "__main__":
    sys.exit(main())
