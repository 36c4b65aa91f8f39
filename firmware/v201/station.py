# OCPP 2.0.1 charging station: its EVSEs, their connector status and availability, Reset.
"""    station = Station(board, session, max_deciamps=320, watchdog=watchdog,
                      close_link=client.close)
    station.guard_relays()              # the relays' safety never waits for the loop
    station.register(session)           # Reset, ChangeAvailability
    asyncio.create_task(station.run())  # the control loop and the status sender

Every EVSE has one connector (connectorId 1). The relay rule and the connector's state are
the model's (firmware/model/evse.py, firmware/model/status.py); this module turns them into
2.0.1 messages: StatusNotification {timestamp, connectorStatus, evseId, connectorId} when a
connector's status changes (G03.FR.04, G04.FR.05) and for every connector after each accepted
BootNotification. connectorStatus is the 2.0.1 reading of the model's status: Available,
Unavailable, Faulted, Reserved as they are; a cable in (Preparing, Charging, Suspended...,
Finishing) is Occupied.

This firmware does not run 2.0.1 transactions yet (functional block E): no identifier is
authorized, so a relay never closes in 2.0.1 mode, and a card presented is logged.

ChangeAvailability (G03, G04): the station (no evse) or one EVSE, Operative or Inoperative,
persisted (firmware/model/availability.py); an EVSE is operative when it and the station are.
Reset (B11, B12): of the whole station only (an evseId is Rejected, B11.FR.09); with no
transaction to wait for, OnIdle and Immediate both reboot once the answer has gone out, the
reason RemoteReset recorded for the next BootNotification, the WebSocket closed cleanly first.
"""

import asyncio

import logger
from firmware.model import availability
from firmware.model.evse import Evse, Guard
from firmware.model.status import StatusReporter, connector_status
from ocppj import errors
from ocppj.encoder import Timestamp
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms, ticks_add, ticks_diff, ticks_ms

log = logger.get("station")

TICK_MS = 100
RETRY_MS = 10000  # a refused StatusNotification is sent again after this
CONNECTOR_ID = 1  # the one connector of every EVSE


def status_201(status):
    """The 2.0.1 ConnectorStatusEnumType of a model status (firmware/model/status.py)."""
    if status in ("Available", "Unavailable", "Faulted", "Reserved"):
        return status
    return "Occupied"


class Station:
    def __init__(self, board, session, max_deciamps=320, watchdog=None, close_link=None):
        self.board = board
        self.session = session
        self.watchdog = watchdog
        self.close_link = close_link  # async fn(): close the WebSocket cleanly
        self._alive_bit = watchdog.watch() if watchdog else 0
        n = board.connectors
        self.evses = [Evse(board, i, max_deciamps=max_deciamps) for i in range(1, n + 1)]
        self._avail_path = board.state_dir + "/" + availability.FILE
        self.availability = availability.load(self._avail_path, n)  # [station, EVSE 1, ...]
        self._apply_availability()
        self.reporter = StatusReporter(n, lambda: 0)  # index 0 unused: 2.0.1 has no connector 0
        self._retry_at = None  # after a refused StatusNotification: when to try again
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self.guard = None

    # -- the device model's live values (firmware/v201/start.py): fn(evse, connector) ------
    def actual(self):
        """{(component, variable): fn(evse id or None, connector id or None) -> value}."""
        return {("ChargingStation", "AvailabilityState"): self.state_of,
                ("ChargingStation", "Available"): self.available_of,
                ("ChargingStation", "Problem"): self.problem_of,
                ("EVSE", "AvailabilityState"): self.state_of,
                ("EVSE", "Available"): self.available_of,
                ("EVSE", "Problem"): self.problem_of,
                ("EVSE", "ACCurrent"): self.current_of,
                ("Connector", "AvailabilityState"): self.state_of,
                ("Connector", "Available"): self.available_of}

    def state_of(self, evse, _connector):
        """AvailabilityState: the connector's 2.0.1 status; the station's: Unavailable when
        set Inoperative, Faulted when every EVSE is, else Available."""
        if evse is not None:
            return status_201(self.status_of(evse)[0])
        if not self.operative(0):
            return "Unavailable"
        states = [status_201(self.status_of(n)[0]) for n in range(1, len(self.evses) + 1)]
        return "Faulted" if states.count("Faulted") == len(states) else "Available"

    def available_of(self, evse, _connector):
        return self.operative(evse or 0)

    def problem_of(self, evse, _connector):
        if evse is not None:
            return self.evses[evse - 1].fault is not None
        return any(e.fault is not None for e in self.evses)

    def current_of(self, evse, _connector):
        return "%d.%d" % divmod(self.evses[evse - 1].offered_deciamps, 10)

    @property
    def connectors(self):  # what the status LED counts (firmware/app.py)
        return self.evses

    # -- availability ------------------------------------------------------------------
    def operative(self, n):
        """EVSE n (0: the station) may be used: set Operative, and the station too."""
        return self.availability[0] and self.availability[n]

    def _apply_availability(self):
        for n, evse in enumerate(self.evses, 1):
            evse.set_available(self.operative(n))

    def change_availability(self, p):
        operative = p["operationalStatus"] == "Operative"
        evse = p.get("evse")
        n = 0  # no evse: the whole station (G04.FR.01)
        if evse is not None:
            n = evse["id"]
            if not 1 <= n <= len(self.evses) or evse.get("connectorId", CONNECTOR_ID) != \
                    CONNECTOR_ID:
                return {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEvse"}}
        if availability.change(self._avail_path, self.availability, n, operative):  # the same state again: Accepted (G03.FR.03)
            self._apply_availability()
            log.info("%s %s" % ("station" if n == 0 else "EVSE %d" % n,
                                "Operative" if operative else "Inoperative"))
            self._wake.set()
        return {"status": "Accepted"}

    # -- status ------------------------------------------------------------------------
    def status_of(self, n):
        """The model's (status, errorCode) of EVSE n's connector."""
        e = self.evses[n - 1]
        return connector_status(self.operative(n), e.fault, e.plugged, e.ev_ready, False,
                                False, False, False)

    def _online(self, triggered=False):
        return self.session.connected and self.session.registration in (
            ("Accepted", "Pending") if triggered else ("Accepted",))

    def _changes(self, now):
        due = False
        for n in range(1, len(self.evses) + 1):
            status = self.status_of(n)
            self.board.show_status(n, status[0])
            if self.reporter.observe(n, status_201(status[0])) is not None:
                due = True
        if self._retry_at is not None and ticks_diff(now, self._retry_at) < 0:
            return False
        return due and self._online()

    async def send_statuses(self, force=False, only=None, triggered=False):
        """StatusNotification of each connector whose status changed; `force` (a
        TriggerMessage, F06) for unchanged ones too, `only` that EVSE."""
        async with self._lock:  # one sender: no status goes out twice
            for n in range(1, len(self.evses) + 1):
                if only is not None and n != only:
                    continue
                status = status_201(self.status_of(n)[0])
                if not force and self.reporter.observe(n, status) is None:
                    continue
                if not self._online(triggered):
                    return
                try:
                    await self.session.call("StatusNotification", {
                        "timestamp": Timestamp(self.board.time_s()), "connectorStatus": status,
                        "evseId": n, "connectorId": CONNECTOR_ID}, triggered=triggered)
                    self.reporter.sent(n, status)
                    self._retry_at = None
                except NotConnected:
                    return
                except (errors.CallError, CallTimeout) as e:
                    log.warn("StatusNotification", n, "refused:", repr(e))
                    if not triggered:
                        self._retry_at = ticks_add(ticks_ms(), RETRY_MS)
                        return

    async def report_all(self):
        """After every accepted BootNotification: every connector's status again."""
        self.reporter.forget()
        self._retry_at = None
        await self.send_statuses()

    # -- the control loop ----------------------------------------------------------------
    def guard_relays(self):
        """The safety timer (evse.Guard): a relay opens when the rule says so, loop or not."""
        if self.guard is None:
            self.guard = Guard(self.board, self.evses)

    async def run(self):
        sender = asyncio.create_task(self._sender())
        try:
            while True:
                now = ticks_ms()
                for evse in self.evses:
                    evse.tick(now)
                card = self.board.take_card()
                if card:
                    log.info("card presented: no transactions in OCPP 2.0.1 mode yet")
                if self._changes(now):
                    self._wake.set()
                if self.watchdog:
                    self.watchdog.alive(self._alive_bit)  # a stuck loop resets the board
                await sleep_ms(TICK_MS)
        finally:
            sender.cancel()

    async def _sender(self):
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.send_statuses()

    # -- Reset -----------------------------------------------------------------------------
    def reset(self, p):
        if p.get("evseId") is not None:  # B11.FR.09: an EVSE alone cannot be reset here
            return {"status": "Rejected", "statusInfo": {"reasonCode": "UnsupportedRequest"}}
        self.session.after_reply(lambda: self._reboot(p["type"]))
        return {"status": "Accepted"}

    async def _reboot(self, kind):
        log.info("Reset", kind, "- restarting")
        from firmware.model import bootreason
        await bootreason.restart(self.board, "RemoteReset", self.close_link)

    def register(self, session):
        session.handlers["Reset"] = self.reset
        session.handlers["ChangeAvailability"] = self.change_availability
