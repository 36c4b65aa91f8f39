# The simulated board: the firmware's hardware on the host, driven over a TCP control channel.
"""SimBoard keeps in CP_STATE_DIR what the ESP32 keeps in flash, simulates per connector an
EV, a relay with feedback, the pilot lines and an energy meter, and ends the process with exit
status 3 when the firmware resets (tools/simrun.py restarts it, as a bootloader would).
"""

import asyncio
import json
import os
import sys
import time

import atomicfile
import logger
from firmware.board import base
from firmware.sim import control as sim_control, flash as sim_flash
from firmware.sim.ev import SimConnector
from firmware.sim.timer import Timer
from ticks import sleep_ms, ticks_diff, ticks_ms

RESET_EXIT_STATUS = 3
FAILS_AFTER_BOOT = "sim-fails-after-boot"  # project name of a test image that never confirms
_TICK_MS = 200
_SAVE_EVERY_MS = 5000

log = logger.get("sim")


def _env(name, default):
    getenv = getattr(os, "getenv", None)
    value = getenv(name) if getenv else None
    return value or default


class SimBoard(base.Board):
    name = "sim"

    def __init__(self, config, state_dir=None, block=None):
        super().__init__(config, block)
        sim = config.get("sim") or {}
        self.state_dir = state_dir or _env("CP_STATE_DIR", "state")
        self._sim_dir = self.state_dir + "/sim"
        atomicfile.makedirs(self._sim_dir)
        self.control_port = sim.get("controlPort", 7700)
        meters = self._load_meters()
        self.sim = [SimConnector(sim.get("evMaxCurrentA", 32), sim.get("phases", 3),
                                 sim.get("voltageV", 230), meters[i] if i < len(meters) else 0)
                    for i in range(self.connectors)]
        self._card = None
        self._led = False
        self._clock_offset_s = 0
        self._wdt_timeout_ms = 0
        self._wdt_fed = 0
        self._server = None
        self._task = None
        self._meter = None
        self._timers = []
        self._saved_wh = [c.meter_wh for c in self.sim]
        self._reset_cause = self._take_reset_cause()
        # The bootloader runs only after a hard start: a soft reset keeps the running image
        # (on the ESP32 it restarts MicroPython inside the same app), see reset().
        self._running = sim_flash.running_partition(
            self.state_dir + "/ota", bootloader=self._reset_cause != base.RESET_SOFT, block=block)
        self._image = None  # running_image(), read once
        # The bootloader checked the image before it started it: the whole image is hashed
        # here, before the loop runs, as on the board; running_image() only reads the result.
        self.running_image()

    # -- persistence of the simulated hardware (the meter keeps its count) ---------------
    def _load_meters(self):
        raw = atomicfile.read(self._sim_dir + "/meters.json")
        return json.loads(raw) if raw else []

    def _save_meters(self):
        atomicfile.write(self._sim_dir + "/meters.json", json.dumps([c.meter_wh for c in self.sim]))
        self._saved_wh = [c.meter_wh for c in self.sim]

    def _take_reset_cause(self):
        path = self._sim_dir + "/reset_cause"
        raw = atomicfile.read(path)
        if raw is None:
            return base.RESET_POWER_ON  # no reset recorded: the process was started afresh
        os.remove(path)
        return raw.decode()

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self):
        if self._crashes_before_confirming():
            log.error("simulated crash: image %s %s fails before it confirms itself"
                      % self.running_image())  # type: ignore
            self._restart(base.RESET_WATCHDOG)
        try:
            self._server = await sim_control.serve(self, self.control_port, log)
        except OSError as e:
            raise OSError(e.args[0] if e.args else 0,
                          "sim control port %d unavailable" % self.control_port)
        log.info("control channel on 127.0.0.1:%d" % self.control_port)
        self._task = asyncio.create_task(self._physics())
        stall_file = _env("CP_STALL_METER", None)
        if stall_file:  # make bench: the worst turn of the loop (tools/bench/loop_stall.py)
            from firmware.sim.stall import StallMeter
            self._meter = asyncio.create_task(StallMeter(stall_file).run())

    def deinit(self):
        for timer in self._timers:
            timer.deinit()
        self._timers = []
        if self._task:
            self._task.cancel()
        if self._meter:
            self._meter.cancel()
        if self._server:
            self._server.close()
        self._save_meters()

    async def _physics(self):
        last = ticks_ms()
        last_save = last
        while True:
            await sleep_ms(_TICK_MS)
            now = ticks_ms()
            for c in self.sim:
                c.advance(ticks_diff(now, last))
            last = now
            if ticks_diff(now, last_save) >= _SAVE_EVERY_MS:
                last_save = now
                if [c.meter_wh for c in self.sim] != self._saved_wh:
                    self._save_meters()
            if self._wdt_timeout_ms and ticks_diff(now, self._wdt_fed) > self._wdt_timeout_ms:
                log.error("watchdog expired")
                self._restart(base.RESET_WATCHDOG)

    # -- the safety timer (sim_timer: machine.Timer's semantics) --------------------------
    def start_timer(self, period_ms, callback):
        timer = Timer(period_ms, callback)
        self._timers.append(timer)
        return timer

    # -- relay, pilot, meter --------------------------------------------------------------
    def set_relay(self, connector, closed):
        self.sim[connector - 1].relay_cmd = bool(closed)

    def relay_feedback(self, connector):
        return self.sim[connector - 1].relay_closed()

    def set_pilot_duty(self, connector, duty_permille):
        if not 0 <= duty_permille <= 1000:
            raise ValueError("duty out of range")
        self.sim[connector - 1].duty = duty_permille

    def pilot_duty(self, connector):
        return self.sim[connector - 1].duty

    def sample_pilot(self, connector):
        return self.sim[connector - 1].pilot_sample()

    def proximity_ohm(self, connector):
        return self.sim[connector - 1].pp_ohm

    def meter_wh(self, connector):
        return self.sim[connector - 1].meter_wh

    def meter_power_w(self, connector):
        return self.sim[connector - 1].power_w()

    # -- user interface ----------------------------------------------------------------
    def set_led(self, on):
        self._led = bool(on)

    def show_status(self, connector, status):
        self.sim[connector - 1].status = status

    def present_card(self, id_tag):
        self._card = id_tag  # one reader, one card at a time: the latest swipe wins

    def take_card(self):
        card, self._card = self._card, None
        return card

    # -- watchdog, clock, reset -------------------------------------------------------
    def watchdog_start(self, timeout_ms):
        self._wdt_timeout_ms = timeout_ms
        self._wdt_fed = ticks_ms()

    def watchdog_feed(self):
        self._wdt_fed = ticks_ms()

    def time_s(self):
        return int(time.time()) - base.EPOCH_2000_UNIX_S + self._clock_offset_s

    def set_time_s(self, s):
        self._clock_offset_s = s + base.EPOCH_2000_UNIX_S - int(time.time())

    def reset_cause(self):
        return self._reset_cause

    def reset(self, hard=False):
        # Only a hard reset (machine.reset() on the ESP32) runs the bootloader and so loads
        # an image made bootable with set_boot(); after a soft reset the same image runs on.
        self._restart(base.RESET_HARD if hard else base.RESET_SOFT)

    async def press_reset(self):
        await sleep_ms(100)  # let the control channel send its answer first
        self._restart(base.RESET_HARD)

    def _restart(self, cause):
        self._save_meters()
        atomicfile.write(self._sim_dir + "/reset_cause", cause)
        log.info("reset (%s): exit status %d for the runner" % (cause, RESET_EXIT_STATUS))
        if hasattr(sys.stdout, "flush"):
            sys.stdout.flush()
        # CPython: leave at once, as a reset would, without unwinding the asyncio loop (a
        # SystemExit inside a task makes it print a traceback); MicroPython has no os._exit.
        exit_now = getattr(os, "_exit", None)
        if exit_now:
            exit_now(RESET_EXIT_STATUS)
        sys.exit(RESET_EXIT_STATUS)

    # -- OTA partitions ------------------------------------------------------------------
    def ota_running(self):
        return self._running

    def ota_next(self):
        return self._running.get_next_update()

    def ota_mark_valid(self):
        self._running.mark_app_valid_cancel_rollback()

    def running_image(self):
        """(version, project_name) of the image in the running slot when it holds a valid
        one, else None (the firmware as deployed, started from the host's files)."""
        if self._image is None:
            try:
                info = self._running.check_image()
                self._image = (info.version, info.project_name)
            except ValueError:  # ota.image.ImageError
                self._image = ()
            base.forget_image_checks()
        return self._image or None

    def rolled_back(self):
        """True once after the bootloader rolled back from an image that never confirmed
        itself (the firmware then reports the update as InstallationFailed)."""
        return self._running.otadata.take_rollback() is not None

    def _crashes_before_confirming(self):
        # tools/firmware_image.py --fail-after-boot: an image with this project name stands
        # for firmware that crashes on its first start, before it can confirm itself. The
        # board plays the crash and the watchdog reset; the next start rolls back.
        od = self._running.otadata
        if od.state(od.running) != sim_flash.PENDING_VERIFY:
            return False  # confirmed, or never updated: no image check needed
        img = self.running_image()
        return img is not None and img[1] == FAILS_AFTER_BOOT

    # -- network: the host's is always up ------------------------------------------------
    async def network_up(self, timeout_ms):
        return True

    def network_is_up(self):
        return True
