# How late the event loop runs: the lateness of a short periodic sleep, the worst kept.
"""    lag = LoopLag()                   # period 100 ms
    asyncio.create_task(lag.run())
    lag.worst_ms, lag.worst_at_s      # the worst lateness so far, and when (seconds since start)

A task sleeps `period_ms` again and again; whatever it wakes up later than asked is time some
other code held the loop without yielding (on an ESP32, 200-300 times slower than a PC, a
few ms of host work become a second). A new worst of `log_ms` or more is logged once;
GetDiagnostics uploads say the worst (firmware/management/diagnostics.py), so a log shows where the
loop was held.
"""

import logger
from ticks import sleep_ms, ticks_diff, ticks_ms

log = logger.get("loop")


class LoopLag:
    def __init__(self, period_ms=100, log_ms=250):
        self.period_ms = period_ms
        self.log_ms = log_ms
        self.worst_ms = 0
        self.worst_at_s = None

    async def run(self):
        while True:
            start = ticks_ms()
            await sleep_ms(self.period_ms)
            late = ticks_diff(ticks_ms(), start) - self.period_ms
            if late > self.worst_ms:
                self.worst_ms = late
                self.worst_at_s = ticks_diff(ticks_ms(), 0) // 1000
                if late >= self.log_ms:
                    log.warn("the loop was held %d ms (worst so far)" % late)

    def summary(self):
        if self.worst_at_s is None:
            return "loop lag: worst 0 ms"
        return "loop lag: worst %d ms, %d s after start" % (self.worst_ms, self.worst_at_s)
