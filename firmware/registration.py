# Boot registration with the central system, then heartbeats (OCPP 1.6 §4.2, §4.6, errata 3.22;
# OCPP 2.0.1 B01-B03, G02).
"""The same cycle in both versions; the version's BootNotification (`boot`: .payload, .send(),
then .status, .interval_s, .current_time_s, and .error when the send failed) comes in built:
firmware/v16/bootnotification.py or firmware/v201/boot.py.

After every connect: BootNotification until the central system accepts, then the clock
set from its answer, `on_accepted()` (the charge point reports every connector's status),
and Heartbeats at HeartbeatInterval.

Accepted: done (a reconnect does not boot again unless the BootNotification's content
changed). Pending: stay connected, answer the central system, boot again after `interval`.
Rejected: send nothing until `interval` has passed, then boot again. No answer or a bad
answer (a SecurityError, say): retry with back-off.
"""

import logger
from ocppj import errors, rfc3339
from ocppj.encoder import FrameTooLarge
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms, ticks_diff, ticks_ms

DEFAULT_INTERVAL_S = 300  # when the central system answers interval 0: choose our own

log = logger.get("boot")


class BootMessage:
    """A BootNotification of either version: the version makes the payload, this sends it
    and keeps the answer."""

    def __init__(self, session, payload=None):
        self.session = session
        self.payload = {} if payload is None else payload
        self.status = ""  # "Accepted", "Pending", "Rejected" once answered
        self.current_time_s = None  # the central system's time, seconds since 2000
        self.interval_s = None
        self.error = None  # why the last send() failed: not sent, or no valid answer

    async def send(self, triggered=False):
        """The answer's status, or None with .error set."""
        try:
            answer = await self.session.call("BootNotification", self.payload,
                                             triggered=triggered)
        except (NotConnected, FrameTooLarge, errors.CallError, CallTimeout) as e:
            self.error = e
            return None
        self.error = None
        self.status = answer["status"]
        self.interval_s = answer["interval"]
        try:
            self.current_time_s = rfc3339.to_s2000(answer["currentTime"])
        except ValueError:
            self.current_time_s = None  # validated already; kept defensive for odd clocks
        return self.status


class Registration:
    retry_min_ms = 10000  # back-off after a failed BootNotification, doubling ...
    retry_max_ms = 600000  # ... up to this

    def __init__(self, session, board, boot, on_accepted=None, settings=None,
                 on_time_set=None):
        self.session = session
        self.board = board
        self.boot = boot
        self.on_accepted = on_accepted  # async fn() after every accepted (re)connect
        # HeartbeatInterval lives there when given: .get(name), .change(name, text) (the 1.6
        # settings; in 2.0.1 the device model's OCPPCommCtrlr.HeartbeatInterval)
        self.settings = settings
        self.on_time_set = on_time_set  # fn(seconds the clock moved) after each setting
        self.heartbeat_s = DEFAULT_INTERVAL_S
        self.accepted_payload = None  # the content the central system accepted

    @property
    def payload(self):
        return self.boot.payload

    @property
    def accepted(self):
        return self.accepted_payload == self.payload

    def interval_s(self):
        return self.settings.get("HeartbeatInterval") if self.settings else self.heartbeat_s

    async def run(self):
        """The registration and heartbeat work of one connection; returns when it drops."""
        try:
            if not self.accepted:
                self.session.set_registration(None)
                await self._boot()
            else:
                self.session.set_registration("Accepted")
            if self.on_accepted:
                await self.on_accepted()
            last = ticks_ms()
            while True:
                await sleep_ms(1000)
                if ticks_diff(ticks_ms(), last) < self.interval_s() * 1000:
                    continue  # the interval may change meanwhile (ChangeConfiguration)
                last = ticks_ms()
                answer = await self.session.call("Heartbeat", {})
                self._set_clock(answer.get("currentTime"))
        except NotConnected:
            return

    async def boot_triggered(self):
        """TriggerMessage BootNotification: send it again now (allowed even while Pending)."""
        await self.boot.send(triggered=True)
        if self.boot.error is not None:
            log.warn("triggered BootNotification failed:", repr(self.boot.error))
        else:
            self._accept()

    async def heartbeat_triggered(self):
        """TriggerMessage Heartbeat: one now, its time taken as every Heartbeat's."""
        try:
            answer = await self.session.call("Heartbeat", {}, triggered=True)
        except (NotConnected, errors.CallError, CallTimeout) as e:
            log.warn("triggered Heartbeat not delivered:", repr(e))
            return
        self._set_clock(answer.get("currentTime"))

    async def _boot(self):
        retry_ms = self.retry_min_ms
        while True:
            await self.boot.send()
            if isinstance(self.boot.error, NotConnected):
                raise self.boot.error
            if self.boot.error is not None:
                # e.g. a SecurityError from the central system: not fatal, try again later
                log.warn("BootNotification failed:", repr(self.boot.error),
                         "- again in %d ms" % retry_ms)
                await sleep_ms(retry_ms)
                retry_ms = min(retry_ms * 2, self.retry_max_ms)
                continue
            interval = self._accept()
            if self.accepted:
                return
            await sleep_ms(interval * 1000)  # Pending or Rejected: boot again later

    def _accept(self):
        boot = self.boot
        interval = boot.interval_s or DEFAULT_INTERVAL_S
        if boot.current_time_s is not None:
            self._set_time(boot.current_time_s)
        self.session.set_registration(boot.status)
        log.info("BootNotification", str(boot.status), "interval %d s" % interval)
        if boot.status == "Accepted":
            self.accepted_payload = dict(self.payload)
            self.heartbeat_s = interval
            if self.settings:
                self.settings.change("HeartbeatInterval", str(interval))
        return interval

    def _set_time(self, s):
        jump = s - self.board.time_s()
        self.board.set_time_s(s)
        if self.on_time_set is not None:
            self.on_time_set(jump)

    def _set_clock(self, text):
        from ocppj import rfc3339
        try:
            self._set_time(rfc3339.to_s2000(text))
        except ValueError:
            log.warn("central system time not usable:", repr(text))
