# Device tests of lib/looplag.py: a loop held by code that never yields is seen and kept.
import asyncio

from looplag import LoopLag
from ticks import ticks_diff, ticks_ms


def hold(ms):
    start = ticks_ms()
    while ticks_diff(ticks_ms(), start) < ms:
        pass


async def test_a_held_loop_is_the_worst_lag():
    lag = LoopLag(period_ms=20)
    task = asyncio.create_task(lag.run())
    await asyncio.sleep(0.1)
    hold(300)  # the loop held, as a long computation would
    await asyncio.sleep(0.1)
    assert 250 <= lag.worst_ms < 5000, lag.worst_ms
    assert lag.summary().startswith("loop lag: worst %d ms" % lag.worst_ms)
    task.cancel()


def test_nothing_measured_yet():
    assert LoopLag().summary() == "loop lag: worst 0 ms"
