# Boot registration with the central system, then heartbeats (OCPP 1.6 §4.2, §4.6, errata 3.22).
"""After every connect: BootNotification until the central system accepts, then the clock
set from its answer, StatusNotification for connector 0 and every connector, and Heartbeats
at the interval it gave.

Accepted: done (a reconnect does not boot again). Pending: stay connected, answer the central
system, boot again after `interval`. Rejected: send nothing until `interval` has passed, then
boot again. No answer or a bad answer: retry with back-off.
"""

import logger
from ocppj import errors, rfc3339
from ocppj.encoder import Timestamp
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms

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

    def __init__(self, session, board, identity, connector_status):
        self.session = session
        self.board = board
        self.payload = boot_payload(identity)
        self.connector_status = connector_status  # fn(connector) -> OCPP status
        self.heartbeat_s = DEFAULT_INTERVAL_S
        self.accepted = False
        self._ts = Timestamp()

    async def run(self):
        """The registration and heartbeat work of one connection; returns when it drops."""
        try:
            if not self.accepted:
                await self._boot()
            await self._status_all()
            while True:
                await sleep_ms(self.heartbeat_s * 1000)
                answer = await self.session.call("Heartbeat", {})
                self._set_clock(answer.get("currentTime"))
        except NotConnected:
            return

    async def _boot(self):
        retry_ms = self.retry_min_ms
        while True:
            try:
                answer = await self.session.call("BootNotification", self.payload)
            except (errors.CallError, CallTimeout) as e:
                # e.g. a SecurityError from the central system: not fatal, try again later
                log.warn("BootNotification failed:", str(e), "- again in %d ms" % retry_ms)
                await sleep_ms(retry_ms)
                retry_ms = min(retry_ms * 2, self.retry_max_ms)
                continue
            status = answer["status"]
            interval = answer["interval"] or DEFAULT_INTERVAL_S
            self._set_clock(answer["currentTime"])
            self.session.set_registration(status)
            log.info("BootNotification", status + ", interval %d s" % interval)
            if status == "Accepted":
                self.accepted = True
                self.heartbeat_s = interval
                return
            await sleep_ms(interval * 1000)  # Pending or Rejected: boot again later

    def _set_clock(self, text):
        try:
            self.board.set_time_s(rfc3339.to_s2000(text))
        except ValueError:
            log.warn("central system time not usable:", repr(text))

    async def _status_all(self):
        for connector in range(self.board.connectors + 1):
            await self.send_status(connector, self.connector_status(connector))

    async def send_status(self, connector, status, error_code="NoError"):
        self._ts.s = self.board.time_s()
        await self.session.call("StatusNotification", {
            "connectorId": connector, "errorCode": error_code, "status": status,
            "timestamp": self._ts})
