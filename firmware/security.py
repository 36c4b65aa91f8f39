# SecurityEventNotification (1.6 security whitepaper §4.x, A05/L01): events queued and sent.
"""    security = SecurityEvents(session, board)
    security.event("InvalidFirmwareSignature", "update 7")   # never blocks the caller
    asyncio.create_task(security.run())

Events wait in a small bounded queue (the oldest is dropped when full, and that is logged)
and go out in order once the central system has accepted the boot. Every event is also
logged, so none is lost from the security log even when the queue overflows.

What this charge point reports of the whitepaper's list (section 2.8), and when:
- StartupOfTheDevice at every start, techInfo the boot reason (bootreason.py); with it
  ResetOrReboot when the start followed a reset rather than a power-up (a Reset.req, a
  firmware update, the watchdog ...): an event queued just before rebooting would be lost
  with the RAM it waits in, so the reset is reported by the start that follows it;
- SettingSystemTime when setting the clock moved it by CLOCK_JUMP_S or more (every Heartbeat
  corrects the clock; a few seconds of drift is no event);
- ReconfigurationOfSecurityParameters when the central system changed AuthorizationKey or
  SecurityProfile (never with the key itself);
- InvalidFirmwareSignature and the others the firmware updater raises.

An event that happens while the clock is not set yet (at start on a board without a battery
clock) is dated when it is sent, by the ticks elapsed since: the clock is set by then (the
events wait for the accepted BootNotification, whose answer sets it).
"""

import asyncio

import logger
from ocppj import errors
from ocppj.encoder import Timestamp
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms, ticks_diff, ticks_ms

MAX_QUEUED = 16
CLOCK_JUMP_S = 60

log = logger.get("security")


class SecurityEvents:
    def __init__(self, session, board):
        self.session = session
        self.board = board
        self.queue = []  # [type, seconds since 2000, techInfo or None]
        self._wake = asyncio.Event()

    def event(self, kind, tech_info=None):
        log.warn("security event", kind, tech_info or "")
        if len(self.queue) >= MAX_QUEUED:
            dropped = self.queue.pop(0)
            log.error("security event queue full: dropped", dropped[0])
        board = self.board
        at_s = board.time_s() if board.clock_set() else None  # None: dated when sent
        self.queue.append([kind, at_s, tech_info[:255] if tech_info else None, ticks_ms()])
        self._wake.set()

    def started(self, boot_reason):
        """At start-up: StartupOfTheDevice, and ResetOrReboot after anything but a power-up."""
        self.event("StartupOfTheDevice", "boot reason " + boot_reason)
        if boot_reason != "PowerUp":
            self.event("ResetOrReboot", boot_reason)

    def time_set(self, jump_s):
        """The clock was set and moved by `jump_s` seconds."""
        if jump_s >= CLOCK_JUMP_S or jump_s <= -CLOCK_JUMP_S:
            self.event("SettingSystemTime", "clock moved by %d s" % jump_s)

    def reconfigured(self, key):
        """The central system changed a security parameter (an OCPP key name, never a value)."""
        self.event("ReconfigurationOfSecurityParameters", key + " changed")

    async def run(self):
        while True:
            if not self.queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            kind, at_s, info, at_ms = self.queue[0]
            if at_s is None:  # the clock was not set then
                at_s = self.board.time_s() - ticks_diff(ticks_ms(), at_ms) // 1000
            payload = {"type": kind, "timestamp": Timestamp(at_s)}
            if info:
                payload["techInfo"] = info
            try:
                await self.session.call("SecurityEventNotification", payload)
                self.queue.pop(0)
            except (errors.CallError, CallTimeout, NotConnected) as e:
                log.warn("SecurityEventNotification not delivered:", repr(e))
                await sleep_ms(5000)
