# The real ESP32 board: relays, control/proximity pilot, S0 meter, LED, watchdog, RTC, OTA, Wi-Fi.
"""`Esp32Board(config)` drives the hardware named by config["pins"] (see esp32_pins).

Only imported on the chip: `firmware.board.open_board(config)` picks it there.

    board = Esp32Board(config)      # relays open, pilot at constant +12 V
    board.set_pilot_duty(1, 267)    # offer 16 A
    high_mv, low_mv = board.sample_pilot(1)
"""

import os
import time

import asyncio
import esp32
import machine
import network
from micropython import const

from firmware.board import base, esp32_pins

_PWM_HZ = const(1000)
# A burst of read_uv() takes a few ms, so it spans several 1 kHz pilot periods: its maximum
# is the positive level and its minimum the negative one (pin IRQs and timers are soft, so
# sampling in step with the PWM is not possible).
_PILOT_SAMPLES = const(100)
_PP_SAMPLES = const(16)
_U16_MAX = const(65535)
_WIFI_POLL_MS = const(100)
# With no S0 pulse for this long the meter reports 0 W (also keeps ticks_diff in range).
_S0_IDLE_MS = const(3600000)


class Esp32Board(base.Board):
    name = "esp32"

    def __init__(self, config, block=None):
        # Safety first: drive every recognisable relay output open before anything else,
        # even before the configuration check (after a soft reset outputs keep their level).
        for gpio, off_level in esp32_pins.relay_off_levels(config):
            machine.Pin(gpio, machine.Pin.OUT, value=off_level)
        esp32_pins.check_pins(config)
        super().__init__(config, block)
        self._image = None  # running_image(), read once
        pins = config["pins"]
        Pin = machine.Pin

        self._relay_on = pins["relayOnLevel"]
        # value= sets the level before the pin becomes an output: no glitch.
        self._relays = [Pin(g, Pin.OUT, value=1 - self._relay_on) for g in pins["relay"]]

        # Pilot at constant +12 V (1000 per-mille): the EVSE is not offering current.
        self._cp_invert = pins["cpPwmInvert"]
        self._duty = [base.DUTY_CONSTANT_HIGH] * self.connectors
        high = self._u16(base.DUTY_CONSTANT_HIGH)
        self._pwm = [machine.PWM(Pin(g), freq=_PWM_HZ, duty_u16=high) for g in pins["cpPwm"]]

        # Feedback: pull toward "open", so a floating input never reads as closed contacts.
        self._fb_closed = pins["feedbackClosedLevel"]
        fb_pull = Pin.PULL_DOWN if self._fb_closed else Pin.PULL_UP
        self._feedback = [_input(g, fb_pull) for g in pins["relayFeedback"]]

        atten = machine.ADC.ATTN_11DB
        self._cp_adc = [machine.ADC(Pin(g), atten=atten) for g in pins["cpAdc"]]
        self._pp_adc = [machine.ADC(Pin(g), atten=atten) for g in pins["ppAdc"]]
        self._cp_zero_uv = pins["cpZeroUv"]
        self._cp_uv_per_v = pins["cpUvPerV"]
        self._pp_pull_up_ohm = pins["ppPullUpOhm"]
        self._pp_supply_mv = pins["ppSupplyMv"]

        # S0 meter: the IRQ handler only counts pulses and notes their times. The count
        # starts at 0 on every boot; persisting it (so meter_wh survives resets) is done
        # elsewhere, later.
        self._s0_per_kwh = pins["meterS0PulsesPerKwh"]
        n = self.connectors
        self._s0_pulses = [0] * n
        self._s0_last_ms = [0] * n
        self._s0_interval_ms = [0] * n  # 0: fewer than two pulses seen
        self._s0_pins = []
        for i in range(n):
            pin = _input(pins["meterS0"][i], Pin.PULL_UP)
            pin.irq(handler=self._s0_handler(i), trigger=Pin.IRQ_FALLING)
            self._s0_pins.append(pin)

        self._led_on = pins["ledOnLevel"]
        self._led = Pin(pins["led"], Pin.OUT, value=1 - self._led_on)

        self._wdt = None
        self._wlan = None
        self._timer = None
        self.state_dir = "/state"
        try:
            os.stat(self.state_dir)
        except OSError:
            os.mkdir(self.state_dir)

    def _index(self, connector):
        # Connector 0 would index the last list entry: refuse it rather than switch a relay.
        if not 1 <= connector <= self.connectors:
            raise ValueError("no connector %d" % connector)
        return connector - 1

    def _u16(self, duty_permille):
        u16 = esp32_pins.duty_u16(duty_permille)
        return _U16_MAX - u16 if self._cp_invert else u16

    def _s0_handler(self, i):
        pulses = self._s0_pulses
        last = self._s0_last_ms
        interval = self._s0_interval_ms

        def handler(pin):
            now = time.ticks_ms()
            if pulses[i]:
                interval[i] = time.ticks_diff(now, last[i])
            last[i] = now
            pulses[i] += 1

        return handler

    def _safe_state(self):
        """Every relay open, every pilot at constant +12 V."""
        off = 1 - self._relay_on
        for relay in self._relays:
            relay.value(off)
        high = self._u16(base.DUTY_CONSTANT_HIGH)
        for i in range(self.connectors):
            self._pwm[i].duty_u16(high)
            self._duty[i] = base.DUTY_CONSTANT_HIGH

    # -- lifecycle ---------------------------------------------------------------------
    def deinit(self):
        # The PWM stays on at constant +12 V: a released pin would leave the pilot driver's
        # input floating.
        if self._timer is not None:
            self._timer.deinit()
            self._timer = None
        self._safe_state()
        for pin in self._s0_pins:
            pin.irq(handler=None)

    # -- the safety timer --------------------------------------------------------------
    def start_timer(self, period_ms, callback):
        # Soft, the only kind the ESP32 port has (hard=True raises ValueError in v1.28): the
        # timer interrupt schedules the callback, which may allocate a little and runs between
        # bytecodes even while Python code holds the loop. Hardware timer 0; one is enough.
        if self._timer is not None:
            self._timer.deinit()
        self._timer = machine.Timer(0, mode=machine.Timer.PERIODIC, period=period_ms,
                                    callback=callback)
        return self._timer

    # -- relay (contactor) with feedback -------------------------------------------------
    def set_relay(self, connector, closed):
        on = self._relay_on
        self._relays[self._index(connector)].value(on if closed else 1 - on)

    def relay_feedback(self, connector):
        return self._feedback[self._index(connector)].value() == self._fb_closed

    # -- control pilot and proximity pilot ---------------------------------------------
    def set_pilot_duty(self, connector, duty_permille):
        i = self._index(connector)
        self._pwm[i].duty_u16(self._u16(duty_permille))  # ValueError outside 0..1000
        self._duty[i] = duty_permille

    def pilot_duty(self, connector):
        return self._duty[self._index(connector)]

    def sample_pilot(self, connector):
        read_uv = self._cp_adc[self._index(connector)].read_uv
        top = 0
        bottom = 10000000
        for _ in range(_PILOT_SAMPLES):
            uv = read_uv()
            if uv > top:
                top = uv
            if uv < bottom:
                bottom = uv
        a = esp32_pins.cp_mv(top, self._cp_zero_uv, self._cp_uv_per_v)
        b = esp32_pins.cp_mv(bottom, self._cp_zero_uv, self._cp_uv_per_v)
        # An inverting front end (negative cpUvPerV) turns the ADC maximum into the lowest level.
        return (a, b) if a >= b else (b, a)

    def proximity_ohm(self, connector):
        read_uv = self._pp_adc[self._index(connector)].read_uv
        total = 0
        for _ in range(_PP_SAMPLES):
            total += read_uv()
        return esp32_pins.pp_ohm(total // _PP_SAMPLES, self._pp_pull_up_ohm, self._pp_supply_mv)

    # -- energy meter --------------------------------------------------------------------
    def meter_wh(self, connector):
        # Since boot only until the pulse count is persisted (see __init__).
        return esp32_pins.s0_wh(self._s0_pulses[self._index(connector)], self._s0_per_kwh)

    def meter_power_w(self, connector):
        i = self._index(connector)
        interval = self._s0_interval_ms[i]
        if not interval:
            return 0
        since = time.ticks_diff(time.ticks_ms(), self._s0_last_ms[i])
        if since > _S0_IDLE_MS or since < 0:
            self._s0_interval_ms[i] = 0  # idle: 0 W until two new pulses
            return 0
        # Without a new pulse the power is at most what the time since the last one allows.
        return esp32_pins.s0_power_w(self._s0_per_kwh, since if since > interval else interval)

    # -- user interface --------------------------------------------------------------------
    def set_led(self, on):
        self._led.value(self._led_on if on else 1 - self._led_on)

    def take_card(self):
        # No RFID reader driver yet: no card is ever presented.
        return None

    # -- watchdog, clock, reset -------------------------------------------------------
    def watchdog_start(self, timeout_ms):
        # The ESP32 watchdog cannot be stopped or re-armed: the first call wins.
        if self._wdt is None:
            self._wdt = machine.WDT(timeout=timeout_ms)

    def watchdog_feed(self):
        if self._wdt is not None:
            self._wdt.feed()

    def time_s(self):
        return time.time()  # the ESP32 counts from 2000 already, like the firmware

    def set_time_s(self, s):
        # gmtime: (year, month, mday, hour, minute, second, weekday, yearday)
        # RTC.datetime: (year, month, day, weekday, hours, minutes, seconds, subseconds)
        t = time.gmtime(s)
        machine.RTC().datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))

    def reset_cause(self):
        return esp32_pins.reset_cause_name(machine.reset_cause())

    def reset(self, hard=False):
        # Outputs keep their level over a soft reset: leave the hardware safe first.
        self._safe_state()
        if hard:
            machine.reset()
        else:
            machine.soft_reset()

    # -- OTA partitions ------------------------------------------------------------------
    def ota_running(self):
        # The stub types Partition(id) as str, but the constructor takes Partition.BOOT /
        # Partition.RUNNING (ints) as well as a label (esp32 docs; ports/esp32/esp32_partition.c).
        return esp32.Partition(esp32.Partition.RUNNING)  # pyright: ignore[reportArgumentType]

    def ota_next(self):
        return self.ota_running().get_next_update()  # OSError(ENOENT): no OTA partition table

    def ota_mark_valid(self):
        esp32.Partition.mark_app_valid_cancel_rollback()

    def running_image(self):
        # One block read, once (the running image does not change): the bootloader checked
        # this image before it started it. Into the shared block when it is free (at boot).
        if self._image is None:
            from ota.image import read_description
            block = self.block
            lent = block is not None and block.holder is None
            buf = block.borrow("image check") if lent else None
            try:
                self._image = read_description(self.ota_running(), buf) or ()
            except Exception:  # no app description (a development build): version unknown
                self._image = ()
            finally:
                if lent:
                    block.give()
            base.forget_image_checks()
        return self._image or None

    # rolled_back() stays False: MicroPython exposes no OTA state, so the update manager
    # recognises a rollback by the running version differing from the one it installed.

    # -- network -------------------------------------------------------------------------
    async def network_up(self, timeout_ms):
        wlan = self._wlan
        if wlan is None:
            wlan = self._wlan = network.WLAN(network.STA_IF)
        if not wlan.active():
            wlan.active(True)
        if wlan.isconnected():
            return True
        if wlan.status() != network.STAT_CONNECTING:
            wifi = self.config["wifi"]
            try:
                wlan.connect(wifi["ssid"], wifi.get("password"))
            except OSError:
                return False
        deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
        while not wlan.isconnected():
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                return False
            await asyncio.sleep_ms(_WIFI_POLL_MS)
        return True

    def network_is_up(self):
        return self._wlan is not None and self._wlan.isconnected()


def _input(gpio, pull):
    # GPIO 34-39 have no pull resistors (an external one is needed there).
    if gpio in esp32_pins.INPUT_ONLY:
        return machine.Pin(gpio, machine.Pin.IN)
    return machine.Pin(gpio, machine.Pin.IN, pull)
