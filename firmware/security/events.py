# SecurityEventNotification (1.6 security whitepaper 2.8, A04): events kept on flash and sent.
"""    security = SecurityEvents(session, board, Journal(state_dir + "/security", ...),
                              FileLog(state_dir + "/securitylog"))
    security.event("InvalidFirmwareSignature", "update 7")   # never blocks the caller
    asyncio.create_task(security.run())

Delivery is guaranteed as A04.FR.02 asks: an event is written to its own journal on flash
(ocppj/journal.py: CRC-framed, power-loss safe) before event() returns, and leaves it only
when the central system has answered its SecurityEventNotification; they go out in order once
the BootNotification is accepted, across reboots. Overflow: at most MAX_STORED events wait;
one more drops the oldest, and the drop is a line of the security log.

The security log (whitepaper 2.9) is a FileLog on flash, kept through power cuts (2 x 2 KiB,
the newest lines): a line per security event, with its UTC time (or "clock-not-set") and its
techInfo, and per event dropped. GetLog SecurityLog uploads it (firmware/management/diagnostics.py).
Every event is also a line of the ordinary log (logger "security").

What this charge point reports of the whitepaper's list, and when:
- StartupOfTheDevice at every start, techInfo the boot reason (bootreason.py); with it
  ResetOrReboot when the start followed a reset rather than a power-up (a Reset.req, a
  firmware update, the watchdog ...), reported by the start that follows it;
- SettingSystemTime when setting the clock moved it by CLOCK_JUMP_S or more (every Heartbeat
  corrects the clock; a few seconds of drift is no event);
- ReconfigurationOfSecurityParameters when the central system changed AuthorizationKey or
  SecurityProfile (never with the key itself);
- FailedToAuthenticationAtCentralSystem and InvalidCentralSystemCertificate from the link;
- InvalidMessages from the session (a received message that is not valid OCPP), once per
  connection;
- InvalidFirmwareSignature and the others the firmware updater raises.
Not reported: InvalidTLSVersion and InvalidTLSCipherSuite (both TLS stacks refuse below TLS 1.2
and weak suites inside the handshake, which then fails like a lost connection: measured, a
TLS 1.1-only server gives a connection reset; nothing tells it apart), TamperDetectionActivated
(no sensor), SecurityLogWasCleared (the log is never cleared, only rolled).

An event that happens while the clock is not set (at start on a board without a battery
clock) waits in RAM (at most MAX_UNDATED) until the clock is set, and is then dated by the
ticks elapsed since and stored: a date of 2000-01-01 would be worse than none. A power cut
before the clock is set loses those; the next start reports its own StartupOfTheDevice.
"""

import asyncio

import logger
from civil import utc_text
from ocppj import errors
from ocppj.encoder import Timestamp
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms, ticks_diff, ticks_ms

MAX_STORED = 32
MAX_UNDATED = 16
CLOCK_JUMP_S = 60
_ACTION = "SecurityEventNotification"

log = logger.get("security")


class SecurityEvents:
    def __init__(self, session, board, journal, log_file=None):
        self.session = session
        self.board = board
        self.journal = journal  # ocppj.journal.Journal of its own: the events on flash
        self.log_file = log_file  # lib/filelog.FileLog: the security log
        self.undated = []  # [type, techInfo or None, ticks_ms] waiting for the clock
        self._wake = asyncio.Event()

    def record(self, text):
        """A line of the security log (never a secret: callers pass names, not values)."""
        board = self.board
        when = utc_text(board.time_s()) if board.clock_set() else "clock-not-set"
        if self.log_file is not None:
            try:
                self.log_file.append(when + " " + text)
            except OSError as e:  # a full or failing flash: the ordinary log still has it
                log.error("security log not written:", repr(e))

    def event(self, kind, tech_info=None):
        log.warn("security event", kind, tech_info or "")
        info = tech_info[:255] if tech_info else None
        self.record(kind + (" " + info if info else ""))
        if self.board.clock_set():
            self._store(kind, self.board.time_s(), info)
        else:
            if len(self.undated) >= MAX_UNDATED:
                dropped = self.undated.pop(0)[0]
                log.error("security event dropped (clock not set, %d waiting):" % MAX_UNDATED,
                          dropped)
                self.record("dropped (clock not set): " + dropped)
            self.undated.append([kind, info, ticks_ms()])
        self._wake.set()

    def _store(self, kind, at_s, info):
        journal = self.journal
        while journal.count() >= MAX_STORED:
            oldest = journal.peek()
            if oldest is None:
                break
            journal.ack(oldest.seq)
            log.error("security event dropped (%d waiting):" % MAX_STORED,
                      oldest.payload["type"])
            self.record("dropped (queue full): " + oldest.payload["type"])
        payload = {"type": kind, "timestamp": Timestamp(at_s)}
        if info:
            payload["techInfo"] = info
        try:
            journal.append(_ACTION, payload, "message")
        except (OSError, ValueError) as e:  # a full or failing flash: the log line stays
            log.error("security event not stored:", repr(e))

    def _date_undated(self):
        """Store the events that waited for the clock, dated by the ticks since."""
        if not self.undated or not self.board.clock_set():
            return
        now_s, now_ms = self.board.time_s(), ticks_ms()
        for kind, info, at_ms in self.undated:
            self._store(kind, now_s - ticks_diff(now_ms, at_ms) // 1000, info)
        self.undated = []

    async def started(self, boot_reason):
        """At start-up: StartupOfTheDevice, and ResetOrReboot after anything but a power-up,
        each in a turn of the loop of its own (a log line, the security log, the journal)."""
        self.event("StartupOfTheDevice", "boot reason " + boot_reason)
        if boot_reason != "PowerUp":
            await sleep_ms(0)
            self.event("ResetOrReboot", boot_reason)

    def time_set(self, jump_s):
        """The clock was set and moved by `jump_s` seconds."""
        self._date_undated()  # they happened before: they go first
        if jump_s >= CLOCK_JUMP_S or jump_s <= -CLOCK_JUMP_S:
            self.event("SettingSystemTime", "clock moved by %d s" % jump_s)
        self._wake.set()

    def reconfigured(self, key):
        """The central system changed a security parameter (an OCPP key name, never a value)."""
        self.event("ReconfigurationOfSecurityParameters", key + " changed")

    async def run(self):
        while True:
            if self.undated and self.board.clock_set():
                self._date_undated()
                await sleep_ms(0)  # stored (journal and log file): the sending in a turn after
            record = self.journal.peek()
            if record is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self.session.call(record.action, record.payload)
            except errors.CallError as e:  # answered, with a refusal: retrying will not help
                log.error("SecurityEventNotification", record.payload["type"], "refused:",
                          repr(e))
            except (CallTimeout, NotConnected) as e:
                log.warn("SecurityEventNotification not delivered:", repr(e))
                await sleep_ms(5000)
                continue
            self.journal.ack(record.seq)
            await sleep_ms(0)  # one event per turn of the loop, as the delivery of the others
