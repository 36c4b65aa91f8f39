#!/usr/bin/env python3
# Worst event-loop stalls: how long one turn of the firmware's loop is held, per scenario.
"""Runs scenarios of the memory gate (tests/test_memory_gate.py) on the firmware frozen into
the 32-bit MicroPython unix build, heap capped 16 KiB above a plain ESP32's (the meter lives
in it too), with the simulated board's stall meter on (firmware/sim/stall.py:
CP_STALL_METER), and prints the worst time one turn of the event loop took next to the
target (issue 12: 2 ms here, some 0.5 s on an ESP32, which runs Python 200 to 300 times
slower).

    python tools/bench/loop_stall.py [-k REGEX] [--runs N] [--profile]

--profile finds what holds the loop: the scenarios run with an instrumented copy of
MicroPython's asyncio first on the module path (MICROPYPATH), which times every step of every
task, and the slowest steps are printed with the task they belong to (the coroutine's name
and the order in which tasks were created), in CPU time.

The figure is CPU time of the thread that runs the loop (the simclock module of the frozen
build): a shared host takes the process off the CPU now and then, for milliseconds, which no
board does. The host's CPU also runs the same code up to twice as slow for seconds at a
time (thread CPU time moves with it). Neither comes back in every run, a stall the firmware
causes does: each scenario runs --runs times (5) and the smallest of its worst figures is the
one compared with the target; all are printed. Exit status 1 when a target is missed.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

from heap_floor import mp32_built  # this folder: the check that the 32-bit builds are there

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GATE = "tests/test_memory_gate.py"
TARGET_US = 2000
SCENARIOS = (
    ("a charging session (two connectors, meter values every second)",
     "test_two_sessions_at_once_with_meter_values_every_second[frozen32]"),
    ("GetConfiguration of every key",
     "test_get_configuration_of_every_key[frozen32]"),
    ("signed update of a full-slot image, ECDSA P-256 certificate",
     "test_signed_update_of_a_full_slot_image[frozen32-ec256]"),
)


PROFILE_US = 500  # steps longer than this are recorded by --profile
_TIMED_STEP = """
                _t0 = _cpu_us()
                try:
                    t.coro.send(None)
                finally:
                    _dt = time.ticks_diff(_cpu_us(), _t0)
                    if _dt > %d:
                        _prof("%%d %%d %%s" %% (_dt, _names.get(id(t), 0), t.coro))
""" % PROFILE_US
_NAMED_TASK = """
    t = Task(coro, globals())
    _names[id(t)] = len(_names) + 1
    _prof("task %d %s" % (len(_names), coro))
"""
_RECORDER = """
import os as _os
from simclock import thread_cpu_us as _cpu_us
_names = {}
def _prof(line):
    with open(_os.getenv("CP_STALL_PROFILE"), "a") as f:
        f.write(line + "\\n")
"""


def instrumented_asyncio(folder):
    """A copy of MicroPython's asyncio package whose run loop times each task step."""
    with open(os.path.join(ROOT, "build", "mp32", "current.json")) as f:
        source = os.path.join(json.load(f)["micropy_dir"], "extmod", "asyncio")
    target = os.path.join(folder, "asyncio")
    os.makedirs(target)
    for name in os.listdir(source):
        with open(os.path.join(source, name)) as f:
            text = f.read()
        if name == "core.py":
            text = text.replace("import sys, select\n", "import sys, select, time\n" + _RECORDER)
            text = text.replace("\n                t.coro.send(None)\n", _TIMED_STEP)
            text = text.replace("\n    t = Task(coro, globals())\n", _NAMED_TASK)
            assert text.count("_prof(") == 3, "asyncio/core.py changed: update loop_stall.py"
        with open(os.path.join(target, name), "w") as f:
            f.write(text)


def worst_us(test_id, profile=None):
    """The worst gap the meter saw during one pytest run of one scenario, in microseconds."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "stalls.txt")
        # 16 KiB above the gate's cap: the meter (a task, its file writes) lives in the
        # firmware's heap too, and the signed update has less than that to spare at 96 KiB
        env = dict(os.environ, CP_MP32_BUILT="1", CP_STALL_METER=path, CP_HEAPSIZE="112K")
        if profile:
            instrumented_asyncio(folder)
            # the instrumented asyncio is compiled into the heap: more room than the gate's cap
            env.update(MICROPYPATH=folder + ":.frozen", CP_STALL_PROFILE=profile,
                       CP_HEAPSIZE="192K")
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p",
                               "no:cacheprovider", "%s::%s" % (GATE, test_id)], cwd=ROOT,
                              env=env, capture_output=True, text=True)
        if proc.returncode or " passed" not in proc.stdout:
            print(proc.stdout[-3000:])
            raise SystemExit("loop-stall: %s failed" % test_id)
        with open(path) as f:  # "<cpu us> <wall us>" per new worst: the last is the worst
            return max(int(line.split()[0]) for line in f if line.strip())


def print_profile(label, test_id, top=15):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "profile.txt")
        worst_us(test_id, profile=path)
        names, steps, boot = {}, [], 0  # an update reboots the firmware: a new process
        with open(path) as f:
            for line in f:
                words = line.split()
                if words[0] == "task":
                    boot += words[1] == "1"
                    names["%d.%s" % (boot, words[1])] = words[4].strip("'")
                else:
                    steps.append((int(words[0]), "%d.%s" % (boot, words[1])))
    print("  %s: the %d slowest task steps" % (label, min(top, len(steps))))
    print("    tasks (boot.order name): " + ", ".join(
        "%s %s" % (n, names[n]) for n in list(names)[:40]))
    for us, task in sorted(steps, reverse=True)[:top]:
        print("    %8.2f ms  task %s %s" % (us / 1000, task, names.get(task, "?")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only scenarios whose test id matches this")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="print the slowest task steps")
    args = ap.parse_args()
    if not mp32_built("loop-stall"):
        return 1
    missed = 0
    print("worst event-loop stall (CPU time), frozen 32-bit unix build, heap capped at 112K"
          " (best of %d runs):"
          % args.runs)
    for label, test_id in SCENARIOS:
        if args.k and not re.search(args.k, test_id):
            continue
        if args.profile:
            print_profile(label, test_id)
            continue
        runs = [worst_us(test_id) for _ in range(args.runs)]
        best = min(runs)
        met = best <= TARGET_US
        missed += not met
        print("  %-64s %7.2f ms  <= %.1f ms %s  (runs: %s ms)" % (
            label, best / 1000, TARGET_US / 1000, "met" if met else "MISSED",
            ", ".join("%.2f" % (us / 1000) for us in runs)), flush=True)
    print("loop-stall: %d targets missed" % missed)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
