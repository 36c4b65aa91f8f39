# The simulated board's stall meter: how long any one turn of the event loop holds it.
"""    CP_STALL_METER=build/stalls.txt  python main.py     # the sim board starts the meter

For `make bench` (tools/bench/loop_stall.py), never on a device. A task yields with
sleep_ms(0) again and again, so it runs once per turn of the loop; what the other tasks'
steps took between two of its turns (plus one poll of the sockets, which waits for nothing
while a task is ready) is how long the loop was held. Each new worst is appended to the file
as `<cpu us> <wall us> <ticks ms> <emulated us>`, so the figure survives a reboot of the firmware (an update reboots).

The figure is CPU time of the thread that runs the loop where the interpreter has the
simclock module (the frozen 32-bit build of tools/build_micropython.py): a host takes a
process off the CPU now and then, for milliseconds, which no board does and which wall time
would count as a stall. Elsewhere it is wall time.

Time the simulated board spends emulating what is C code on the board (set_boot's image
check: `with emulating(): ...`) is left out: its Python stand-in here takes some 200 times
the board's share of host time. The meter's file says how much was left out in all.

The meter keeps one CPU busy while it runs; lib/looplag.py is the firmware's own, cheap
watch (100 ms sleeps, millisecond resolution) that every build has.
"""

from ticks import sleep_ms, ticks_diff, ticks_ms, ticks_us

try:
    from simclock import thread_cpu_us  # pyright: ignore[reportMissingImports]
except ImportError:  # CPython, the stock interpreter: wall time
    thread_cpu_us = ticks_us


_emulated_us = [0]  # CPU time spent in emulating() blocks, in all


class _Emulating:
    def __enter__(self):
        self._start = thread_cpu_us()
        return self

    def __exit__(self, *exc):
        _emulated_us[0] += ticks_diff(thread_cpu_us(), self._start)
        return False


def emulating():
    """A `with` block whose CPU time the meter does not count as the firmware's."""
    return _Emulating()


class StallMeter:
    def __init__(self, path):
        self.path = path
        self.worst_us = 0

    async def run(self):
        cpu = thread_cpu_us()
        wall = ticks_us()
        emulated = _emulated_us[0]
        while True:
            await sleep_ms(0)
            held = ticks_diff(thread_cpu_us(), cpu) - (_emulated_us[0] - emulated)
            if held > self.worst_us:
                self.worst_us = held
                with open(self.path, "a") as f:
                    f.write("%d %d %d %d\n" % (held, ticks_diff(ticks_us(), wall), ticks_ms(),
                                               _emulated_us[0]))
            wall = ticks_us()
            emulated = _emulated_us[0]
            cpu = thread_cpu_us()  # after the write: the meter's own time is not a stall
