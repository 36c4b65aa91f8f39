# Boot registration with the central system, then heartbeats (OCPP 1.6 §4.2, §4.6, errata 3.22).
"""After every connect: BootNotification until the central system accepts, then the clock
set from its answer, `on_accepted()` (the charge point reports every connector's status),
and Heartbeats at HeartbeatInterval.

Accepted: done (a reconnect does not boot again unless the BootNotification's content
changed). Pending: stay connected, answer the central system, boot again after `interval`.
Rejected: send nothing until `interval` has passed, then boot again. No answer or a bad
answer (a SecurityError, say): retry with back-off.
"""

import logger
from ocppj import errors, rfc3339
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms, ticks_diff, ticks_ms

IDENTITY_FIELDS = ("chargePointVendor", "chargePointModel", "chargePointSerialNumber",
                   "chargeBoxSerialNumber", "firmwareVersion", "iccid", "imsi", "meterType",
                   "meterSerialNumber")
DEFAULT_INTERVAL_S = 300  # when the central system answers interval 0: choose our own

log = logger.get("boot")


def boot_payload(identity):
    """BootNotification.req from the configured identity: every non-empty field, as is."""
    return {k: identity[k] for k in IDENTITY_FIELDS if identity.get(k)}


class Registration:
    retry_min_ms = 10000  # back-off after a failed BootNotification, doubling ...
    retry_max_ms = 600000  # ... up to this

    def __init__(self, session, board, identity, on_accepted=None, settings=None):
        self.session = session
        self.board = board
        self.payload = boot_payload(identity)
        self.on_accepted = on_accepted  # async fn() after every accepted (re)connect
        self.settings = settings  # HeartbeatInterval lives there when given
        self.heartbeat_s = DEFAULT_INTERVAL_S
        self.accepted_payload = None  # the content the central system accepted

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
        try:
            answer = await self.session.call("BootNotification", self.payload, triggered=True)
            self._accept(answer)
        except (errors.CallError, CallTimeout, NotConnected) as e:
            log.warn("triggered BootNotification failed:", repr(e))

    async def _boot(self):
        retry_ms = self.retry_min_ms
        while True:
            try:
                answer = await self.session.call("BootNotification", self.payload)
            except (errors.CallError, CallTimeout) as e:
                log.warn("BootNotification failed:", str(e), "- again in %d ms" % retry_ms)
                await sleep_ms(retry_ms)
                retry_ms = min(retry_ms * 2, self.retry_max_ms)
                continue
            interval = self._accept(answer)
            if self.accepted:
                return
            await sleep_ms(interval * 1000)  # Pending or Rejected: boot again later

    def _accept(self, answer):
        status = answer["status"]
        interval = answer["interval"] or DEFAULT_INTERVAL_S
        self._set_clock(answer["currentTime"])
        self.session.set_registration(status)
        log.info("BootNotification", status + ", interval %d s" % interval)
        if status == "Accepted":
            self.accepted_payload = self.payload
            self.heartbeat_s = interval
            if self.settings:
                self.settings.change("HeartbeatInterval", str(interval))
        return interval

    def _set_clock(self, text):
        try:
            self.board.set_time_s(rfc3339.to_s2000(text))
        except ValueError:
            log.warn("central system time not usable:", repr(text))
