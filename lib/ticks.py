# Millisecond ticks and async sleeps that work the same on MicroPython and CPython.
"""`ticks_ms`, `ticks_us`, `ticks_diff`, `ticks_add` and `sleep_ms` with MicroPython semantics
everywhere; `Watch`, a watchdog over a stream's reads (ota.http's).

MicroPython has them in `time` and `asyncio`; CPython does not, so host runs use the
fallbacks below. Always compare ticks with ticks_diff: they wrap on the board.
"""

import asyncio
import time

# CPython's monotonic clock, looked up by name: the ESP32 port (and its stubs) has none, and
# the host fallbacks that use it never run there.
_monotonic = getattr(time, "monotonic", time.time)
_start = _monotonic()


def _host_ticks_ms():
    return int((_monotonic() - _start) * 1000)


def _host_ticks_us():
    return int((_monotonic() - _start) * 1000000)


def _host_ticks_diff(a, b):
    return a - b


def _host_ticks_add(a, b):
    return a + b


def _host_sleep_ms(ms):
    return asyncio.sleep(ms / 1000)


_MP = hasattr(time, "ticks_ms")
ticks_ms = time.ticks_ms if _MP else _host_ticks_ms
ticks_us = time.ticks_us if _MP else _host_ticks_us  # for measurements; same wrap rules
_diff = time.ticks_diff if _MP else _host_ticks_diff
_add = time.ticks_add if _MP else _host_ticks_add
sleep_ms = asyncio.sleep_ms if hasattr(asyncio, "sleep_ms") else _host_sleep_ms


# Plain functions around the port's own: ticks values from either port pass type checks alike.
def ticks_diff(a, b):
    return _diff(a, b)


def ticks_add(a, b):
    return _add(a, b)


class Watch:
    """Cancels the task that made it when `limit_ms` pass without poke(): one watchdog task
    per request instead of one asyncio.wait_for (a task and a coroutine) per read.

    Here rather than in ota.http, which is forgotten after a download: its finished task
    can stay referenced for a while (the collector is conservative), and a coroutine of
    ota.http would keep that whole module alive with it (2 KB, when the signature check
    after a download has the least heap there is)."""

    def __init__(self, limit_ms, what):
        self.limit = limit_ms
        self.what = what
        self.at = ticks_ms()
        self.fired = False
        self._victim = asyncio.current_task()
        self._task = asyncio.create_task(self._run())

    def poke(self, limit_ms=0, what=None):
        self.at = ticks_ms()
        if limit_ms:
            self.limit = limit_ms
        if what:
            self.what = what

    async def _run(self):
        while True:
            await sleep_ms(max(10, min(250, self.limit // 8)))
            if ticks_diff(ticks_ms(), self.at) > self.limit:
                self.fired = True
                self._victim.cancel()  # type: ignore
                return

    def message(self):
        return "%s: nothing for %d ms" % (self.what, self.limit)

    def stop(self):
        if not self.fired:
            self._task.cancel()
