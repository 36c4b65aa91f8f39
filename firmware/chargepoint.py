# The charge point: connectors, transactions, status and the Core/Remote Trigger handlers.
"""Builds one Connector (with its Evse) per connector, runs the 100 ms control loop (relay
rule, cards, connection time-out, meter samples, clock-aligned data, status changes) and
answers the central system's Core and Remote Trigger requests.

    cp = ChargePoint(board, settings, session, journal, delivery, authorizer)
    cp.recover()                      # stop transactions cut by power loss
    asyncio.create_task(cp.run())     # the control loop
    cp.register(session)              # the handlers

An incoming CALL reads: ws -> link -> session.feed -> handler here -> connector / evse ->
result -> encoder -> ws; follow-up messages (a triggered message, the reboot of a Reset) run
after the answer has gone out (session.after_reply).
"""

import asyncio
import json

import atomicfile
import logger
from firmware.connector import Connector, meter_value
from firmware.settings import handle_change_configuration, handle_get_configuration
from firmware.status import StatusReporter, connector_status
from ocppj import errors
from ocppj.encoder import Timestamp
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms, ticks_diff, ticks_ms

log = logger.get("cp")

TICK_MS = 100
RESET_FLUSH_MS = 5000  # how long a Reset waits for the StopTransactions to go out
FEATURE_PROFILES = "Core,FirmwareManagement,RemoteTrigger"


class ChargePoint:
    def __init__(self, board, settings, session, journal, delivery, authorizer, cache,
                 max_deciamps=320, watchdog=None):
        self.board = board
        self.settings = settings
        self.session = session
        self.journal = journal
        self.delivery = delivery
        self.authorizer = authorizer
        self.cache = cache
        self.watchdog = watchdog
        self.installing = False  # a firmware install waits: idle connectors Unavailable
        self.firmware = None  # the FirmwareUpdater, for TriggerMessage (lib/lazy.py)
        self.diagnostics = None  # Diagnostics, likewise
        self._alive_bit = watchdog.watch() if watchdog else 0
        self.available = True  # connector 0: the charge point as a whole
        self.connectors = [Connector(self, n, max_deciamps) for n in range(1, board.connectors + 1)]
        self.boot_trigger = _nothing  # set by the application: re-sends BootNotification
        self.reporter = StatusReporter(board.connectors,
                                       lambda: settings.get("MinimumStatusDuration"))
        self._status_wake = asyncio.Event()
        self._status_lock = asyncio.Lock()
        self._aligned_next_s = None
        self._avail_path = board.state_dir + "/availability.json"
        self._load_availability()
        delivery.on_answer = self._answered

    # -- availability (persists across reboots, §5.2) ------------------------------------
    def _load_availability(self):
        raw = atomicfile.read(self._avail_path)
        flags = json.loads(raw) if raw else []
        if len(flags) == len(self.connectors) + 1:
            self.available = flags[0]
            for c, flag in zip(self.connectors, flags[1:]):
                c.available = flag
        for c in self.connectors:
            c.evse.set_available(c.available)

    def _save_availability(self):
        flags = [self.available] + [c.available for c in self.connectors]
        atomicfile.write(self._avail_path, json.dumps(flags))

    def apply_availability(self, connector, operative):
        connector.available = operative
        connector.evse.set_available(operative)
        self._save_availability()
        self._status_wake.set()

    # -- start-up ----------------------------------------------------------------------------
    def recover(self):
        for c in self.connectors:
            c.recover()

    # -- measurements --------------------------------------------------------------------------
    def sample(self, connector, context, key):
        return meter_value(connector.evse, self.settings.get_list(key), context,
                           self.board.time_s())

    def _aligned(self, now_s):
        """Clock-aligned meter values every ClockAlignedDataInterval s from midnight."""
        interval = self.settings.get("ClockAlignedDataInterval")
        if not interval:
            self._aligned_next_s = None
            return
        if self._aligned_next_s is None:
            self._aligned_next_s = (now_s // interval + 1) * interval
        if now_s < self._aligned_next_s:
            return
        self._aligned_next_s = (now_s // interval + 1) * interval
        for c in self.connectors:
            value = self.sample(c, "Sample.Clock", "MeterValuesAlignedData")
            if c.tx is not None:
                stop_value = self.sample(c, "Sample.Clock", "StopTxnAlignedData")
                if stop_value and len(c.tx.aligned) < 4:  # bounded: the StopTransaction
                    c.tx.aligned.append(stop_value)          # must fit the frame buffer
                if value:
                    self.journal.append("MeterValues", {"connectorId": c.n, "transactionId":
                                                        c.tx.id, "meterValue": [value]}, "meter")
                    self.delivery.wake()
            elif value and self.session.registration == "Accepted" and self.session.connected:
                asyncio.create_task(self._send("MeterValues", {"connectorId": c.n,
                                                               "meterValue": [value]}))

    # -- the control loop ----------------------------------------------------------------------
    async def run(self):
        asyncio.create_task(self._status_sender())
        while True:
            now = ticks_ms()
            for c in self.connectors:
                c.evse.tick(now)
                c.tick(now)
            card = self.board.take_card()
            if card:
                asyncio.create_task(self.on_card(card))
            self._aligned(self.board.time_s())
            if self._status_changes():
                self._status_wake.set()
            if self.watchdog:
                self.watchdog.alive(self._alive_bit)  # a stuck control loop resets the board
            await sleep_ms(TICK_MS)

    # -- status --------------------------------------------------------------------------------
    def status_of(self, n):
        if n == 0:
            return ("Available" if self.available else "Unavailable"), "NoError"
        c = self.connectors[n - 1]
        e = c.evse
        return connector_status((c.available and not self.installing) or c.tx is not None, e.fault,
                                e.plugged, e.ev_ready, c.tx is not None, c.offering(),
                                c.pending_tag is not None, c.finishing)

    def _status_changes(self):
        due = False
        for n in range(len(self.connectors) + 1):
            status = self.status_of(n)
            if n:
                self.board.show_status(n, status[0])
            if self.reporter.observe(n, status) is not None:
                due = True
        return due

    async def _status_sender(self):
        while True:
            await self._status_wake.wait()
            self._status_wake.clear()
            await self.send_statuses()

    def wake_status(self):
        self._status_wake.set()

    def transactions_running(self):
        return any(c.tx is not None for c in self.connectors)

    async def flush_status(self):
        """Send every pending status change now (before what must follow it)."""
        await self.send_statuses()

    async def report_all(self):
        """After every accepted (re)connect: every connector's status again (errata 3.22)."""
        self.reporter.forget()
        self._status_wake.set()

    async def send_statuses(self, force=False, only=None, triggered=False):
        """StatusNotification for every connector whose status changed; with `force` (a
        TriggerMessage) also for unchanged ones; `only` one connectorId."""
        async with self._status_lock:  # one sender: no status goes out twice
            for n in range(len(self.connectors) + 1):
                if only is not None and n != only:
                    continue
                status = self.status_of(n)
                if self.reporter.observe(n, status) is None and not force:
                    continue
                try:
                    await self.session.call("StatusNotification", {
                        "connectorId": n, "errorCode": status[1], "status": status[0],
                        "timestamp": _timestamp(self.board)}, triggered=triggered)
                    self.reporter.sent(n, status)
                except (errors.CallError, CallTimeout, NotConnected) as e:
                    log.warn("StatusNotification", n, "not delivered:", repr(e))
                    return

    async def _send(self, action, payload, triggered=False):
        try:
            return await self.session.call(action, payload, triggered=triggered)
        except (errors.CallError, CallTimeout, NotConnected) as e:
            log.warn(action, "not delivered:", repr(e))

    # -- cards -------------------------------------------------------------------------------
    async def on_card(self, id_tag):
        """A card at the reader: stops the session it started, or starts one."""
        for c in self.connectors:
            if c.tx is not None and self._same_owner(c.tx.id_tag, id_tag):
                c.stop("Local", id_tag=id_tag)
                return
        target = None
        for c in self.connectors:
            if c.usable() and (target is None or (c.evse.plugged and not target.evse.plugged)):
                target = c
        if target is None:
            log.info("card", id_tag, "presented: no connector free")
            return
        target.pending_tag = id_tag  # Preparing while we ask
        status = await self.authorizer.authorize(id_tag)
        target.pending_tag = None
        if status == "Accepted":
            target.begin(id_tag)
        else:
            log.info("card", id_tag, "refused:", status)

    def _same_owner(self, started_by, presented):
        if started_by == presented:
            return True
        parent = self.cache.parent(started_by)
        return parent is not None and parent == self.cache.parent(presented)

    # -- answers to our transaction messages ----------------------------------------------------
    def _answered(self, record, answer):
        info = answer.get("idTagInfo") if isinstance(answer, dict) else None
        if record.action == "StartTransaction":
            id_tag = record.payload["idTag"]
            if info:
                self.authorizer.remember(id_tag, info)
            for c in self.connectors:
                if c.tx is not None and c.tx.local_id == record.tx:
                    c.started(answer)
        elif record.action == "StopTransaction" and info and "idTag" in record.payload:
            self.authorizer.remember(record.payload["idTag"], info)

    # -- the central system's requests -----------------------------------------------------------
    def register(self, session, firmware=None, diagnostics=None):
        """Answer the central system's requests; `firmware` (the FirmwareUpdater) and
        `diagnostics` answer the TriggerMessages for their status notifications: each a
        lib/lazy.py LazyService, made by the trigger if it was not yet."""
        self.firmware = firmware
        self.diagnostics = diagnostics
        h = session.handlers
        h["GetConfiguration"] = lambda p: handle_get_configuration(self.settings, p)
        h["ChangeConfiguration"] = lambda p: handle_change_configuration(self.settings, p)
        h["ChangeAvailability"] = self.change_availability
        h["RemoteStartTransaction"] = self.remote_start
        h["RemoteStopTransaction"] = self.remote_stop
        h["Reset"] = self.reset
        h["UnlockConnector"] = self.unlock_connector
        h["ClearCache"] = self.clear_cache
        h["DataTransfer"] = self.data_transfer
        h["TriggerMessage"] = self.trigger_message
        h["ExtendedTriggerMessage"] = self.extended_trigger_message

    def _connector(self, n):
        if not 1 <= n <= len(self.connectors):
            return None
        return self.connectors[n - 1]

    def change_availability(self, p):
        """§5.2: Accepted, or Scheduled while a transaction runs (applied when it ends);
        connectorId 0 is the charge point and all its connectors."""
        operative = p["type"] == "Operative"
        n = p["connectorId"]
        if n == 0:
            targets = self.connectors
            self.available = operative  # connector 0 reports it at once
        else:
            c = self._connector(n)
            if c is None:
                return {"status": "Rejected"}
            targets = [c]
        scheduled = False
        for c in targets:
            if not operative and c.tx is not None:
                c.scheduled_off = True
                scheduled = True
            else:
                c.scheduled_off = False
                self.apply_availability(c, operative)
        self._save_availability()
        self._status_wake.set()
        return {"status": "Scheduled" if scheduled else "Accepted"}

    def remote_start(self, p):
        id_tag = p["idTag"]
        n = p.get("connectorId")
        if n is None:
            candidates = [c for c in self.connectors if c.usable()]
            candidates.sort(key=lambda c: not c.evse.plugged)
            c = candidates[0] if candidates else None
        else:
            c = self._connector(n)
        if c is None or not c.usable():
            return {"status": "Rejected"}
        if self.settings.get("AuthorizeRemoteTxRequests"):
            c.pending_tag = id_tag  # reserved while we ask

            async def authorize_then_begin():
                status = await self.authorizer.authorize(id_tag)
                c.pending_tag = None
                if status == "Accepted":
                    c.begin(id_tag)
            self.session.after_reply(authorize_then_begin)
        else:
            self.session.after_reply(lambda: c.begin(id_tag))
        return {"status": "Accepted"}

    def remote_stop(self, p):
        for c in self.connectors:
            if c.tx is not None and p["transactionId"] in (c.tx.id, c.tx.local_id):
                c.stop("Remote")
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    def reset(self, p):
        hard = p["type"] == "Hard"

        async def reboot():
            reason = "HardReset" if hard else "SoftReset"
            for c in self.connectors:
                c.stop(reason)
            start = ticks_ms()  # give the StopTransactions a moment to reach the central system
            while self.journal.peek() is not None and ticks_diff(ticks_ms(), start) < RESET_FLUSH_MS:
                await sleep_ms(100)
            from firmware import bootreason
            bootreason.record(self.board.state_dir, "RemoteReset")
            log.info("Reset", p["type"], "- restarting")
            self.board.reset(hard)
        self.session.after_reply(reboot)
        return {"status": "Accepted"}

    def unlock_connector(self, p):
        if self._connector(p["connectorId"]) is None:
            return {"status": "NotSupported"}
        return {"status": "NotSupported"}  # this hardware has no connector lock actuator

    def clear_cache(self, p):
        if not self.settings.get("AuthorizationCacheEnabled"):
            return {"status": "Rejected"}
        self.cache.clear()
        return {"status": "Accepted"}

    def data_transfer(self, p):
        return {"status": "UnknownVendorId"}  # no vendor extensions in this firmware

    async def send_data_transfer(self, vendor_id, message_id=None, data=None):
        """DataTransfer from the charge point: the central system's answer (status, data),
        or None when it could not be delivered."""
        payload = {"vendorId": vendor_id}
        if message_id is not None:
            payload["messageId"] = message_id
        if data is not None:
            payload["data"] = data
        return await self._send("DataTransfer", payload)

    def trigger_message(self, p):
        what = p["requestedMessage"]
        n = p.get("connectorId")
        if n is not None and not 0 <= n <= len(self.connectors):
            return {"status": "Rejected"}
        if what == "BootNotification":
            self.session.after_reply(self.boot_trigger)
        elif what == "Heartbeat":
            self.session.after_reply(lambda: self._send("Heartbeat", {}, triggered=True))
        elif what == "StatusNotification":
            self.session.after_reply(lambda: self.send_statuses(True, n, triggered=True))
        elif what == "MeterValues":
            self.session.after_reply(lambda: self.triggered_meter_values(n))
        elif what == "FirmwareStatusNotification" and self.firmware is not None:
            firmware = self.firmware.get()
            self.session.after_reply(lambda: firmware.send_triggered(False))
        elif what == "DiagnosticsStatusNotification" and self.diagnostics is not None:
            diag = self.diagnostics.get()
            self.session.after_reply(lambda: self._send(
                "DiagnosticsStatusNotification", {"status": diag.diag_status}, triggered=True))
        else:
            return {"status": "NotImplemented"}
        return {"status": "Accepted"}

    def extended_trigger_message(self, p):
        """Security whitepaper: FirmwareStatusNotification means SignedFirmwareStatusNotification
        (L01.FR.28/29); the Core messages as with TriggerMessage."""
        what = p["requestedMessage"]
        if what == "FirmwareStatusNotification" and self.firmware is not None:
            n = p.get("connectorId")
            if n is not None and not 0 <= n <= len(self.connectors):
                return {"status": "Rejected"}
            firmware = self.firmware.get()
            self.session.after_reply(lambda: firmware.send_triggered(True))
            return {"status": "Accepted"}
        if what == "LogStatusNotification" and self.diagnostics is not None:
            diag = self.diagnostics.get()
            payload = {"status": diag.log_status}
            if diag.log_status != "Idle":
                payload["requestId"] = diag.log_request
            self.session.after_reply(lambda: self._send("LogStatusNotification", payload,
                                                        triggered=True))
            return {"status": "Accepted"}
        if what in ("BootNotification", "Heartbeat", "MeterValues", "StatusNotification"):
            return self.trigger_message(p)
        return {"status": "NotImplemented"}  # SignChargePointCertificate: not built

    async def triggered_meter_values(self, n):
        for c in self.connectors:
            if n not in (None, 0, c.n):
                continue
            value = self.sample(c, "Trigger", "MeterValuesSampledData")
            if value:
                payload = {"connectorId": c.n, "meterValue": [value]}
                if c.tx is not None and c.tx.server_id is not None:
                    payload["transactionId"] = c.tx.server_id  # a local id means nothing there
                await self._send("MeterValues", payload, triggered=True)


async def _nothing():
    pass


def _timestamp(board):
    return Timestamp(board.time_s())
