# Device tests of the status LED: pattern levels over time, switching, the task and deinit.
import asyncio

from devtest import raises
from drivers.leds import StatusLed
from ticks import sleep_ms


class LedBoard:
    def __init__(self):
        self.writes = []

    def set_led(self, on):
        self.writes.append(on)


def test_pattern_levels():
    level = StatusLed.level
    assert level(StatusLed.IDLE, 0) and level(StatusLed.IDLE, 123456), "idle: steady on"
    assert level(StatusLed.CHARGING, 0) and level(StatusLed.CHARGING, 999)
    assert not level(StatusLed.CHARGING, 1000) and level(StatusLed.CHARGING, 2000)
    assert level(StatusLed.FAULT, 100) and not level(StatusLed.FAULT, 200)
    offline = [level(StatusLed.OFFLINE, t) for t in (0, 150, 320, 450, 1999, 2000)]
    assert offline == [True, False, True, False, False, True], "double flash: %r" % (offline,)
    assert not level((0, 0), 5), "an empty pattern is off"


def test_update_writes_only_changes():
    b = LedBoard()
    led = StatusLed(b, "fault")
    start = led._start
    for t in range(0, 600, 50):
        led.update(start + t)
    assert b.writes == [True, False, True, False], "fast blink: %r" % (b.writes,)


def test_set_restarts_and_rejects_unknown():
    b = LedBoard()
    led = StatusLed(b)
    led.set("charging")
    assert led.pattern == "charging" and led._steps == StatusLed.CHARGING
    raises(ValueError, led.set, "disco")
    assert led.pattern == "charging"


def test_tunable_as_class_variables():
    saved = StatusLed.FAULT
    try:
        StatusLed.FAULT = (10, 990)
        led = StatusLed(LedBoard(), "fault")
        assert led._steps == (10, 990)
    finally:
        StatusLed.FAULT = saved


async def test_run_blinks_and_deinit_stops():
    b = LedBoard()
    led = StatusLed(b, "fault")
    led.TICK_MS = 10
    task = asyncio.create_task(led.run())
    await sleep_ms(400)
    led.deinit()
    await sleep_ms(50)
    assert task.done(), "run() ended after deinit()"
    assert True in b.writes and b.writes.count(False) >= 2, "blinked: %r" % (b.writes,)
    assert b.writes[-1] is False, "off after deinit"
