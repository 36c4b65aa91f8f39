# The charge point: connectors, transactions, status and the Core handlers.
"""Builds one Connector (with its Evse) per connector, runs the 100 ms control loop (relay
rule, cards, connection time-out, meter samples, clock-aligned data, status changes) and
answers the central system's Core requests; TriggerMessage's StatusNotification and
MeterValues are its targets of firmware/v16/remotetrigger.py.

    cp = ChargePoint(board, settings, session, journal, delivery, authorizer, cache,
                     close_link=client.close)
    cp.recover()                      # stop transactions cut by power loss
    asyncio.create_task(cp.run())     # the control loop
    cp.register(session, triggers)    # the handlers, TriggerMessage's StatusNotification ...

An incoming CALL reads: ws -> link -> session.feed -> handler here -> connector / evse ->
result -> encoder -> ws; follow-up messages (a triggered message, the reboot of a Reset) run
after the answer has gone out (session.after_reply).

Registration (§4.2): RemoteStartTransaction and RemoteStopTransaction are not allowed while
Pending: they are answered Rejected, so nothing starts and no relay closes before the charge
point is accepted (§4.2.1 advises denying charging services then). Cards presented meanwhile
follow the offline rules of authorize.py (the cache, AllowOfflineTxForUnknownId).

Status: status_of(n) is each connector's (status, errorCode) from its facts (the status
machine of firmware/model/status.py); when StatusNotification reports it is `self.status`'s
(firmware/v16/statusreport.py). Stopping: StopTransaction first, then the status that follows
it (Finishing, Available, Unavailable), for every stop reason: a transaction has stopped before
its connector can be Finishing (§7.7 as amended by the errata, §4.9 C6/D6); the report holds
the status change until the StopTransaction is answered.

Identifiers compare case-insensitively (IdToken, §7.28) and are sent as presented. A card
that is not the one that started a transaction stops it when the central system (or the
cache, with LocalPreAuthorize) says it is Accepted with the transaction's parentIdTag (§3.10,
§4.1): it is asked with an Authorize, which the card that started it never needs. The
transaction's parentIdTag comes from the Authorize (or cache) that started it, or from its
StartTransaction.conf.

Reservations (§5.13) are firmware/v16/reservation.py's, made at the first ReserveNow or
CancelReservation (or at start-up when reservations wait on flash): until then the hooks here
(status, cards, RemoteStartTransaction, the control loop, a transaction's start) only ask the
LazyService whether it was made. Once it was, a reserved connector is Reserved and only its
holder's card or RemoteStartTransaction may start there (another card may start on another
free connector), a reservation of connector 0 keeps a connector free for its holder.

Reset (§5.14): the transactions are stopped (reason SoftReset / HardReset), the
StopTransactions are given RESET_FLUSH_MS to be answered, the status changes are sent, and the
WebSocket is closed with the close handshake (bootreason.restart) before the reboot.
"""

import asyncio

import logger
from firmware.model import availability
from firmware.model.evse import Guard
from firmware.model.connector import Connector, same_tag
from firmware.v16.settings import handle_change_configuration, handle_get_configuration
from firmware.model.status import connector_status
from firmware.v16.statusreport import StatusReport
from firmware.v16.txmessages import TxMessages
from ocppj import errors
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms, ticks_diff, ticks_ms

log = logger.get("cp")

TICK_MS = 100
RESET_FLUSH_MS = 5000  # how long a Reset waits for the StopTransactions to go out
FEATURE_PROFILES = ("Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
                    "RemoteTrigger")


class ChargePoint:
    def __init__(self, board, settings, session, journal, delivery, authorizer, cache,
                 max_deciamps=320, watchdog=None, close_link=None, reservations=None):
        self.board = board
        self.settings = settings
        self.session = session
        self.journal = journal
        self.delivery = delivery
        self.authorizer = authorizer
        self.cache = cache
        self.watchdog = watchdog
        self.close_link = close_link  # async fn(): close the WebSocket cleanly (WsClient.close)
        # lib/lazy.py LazyService of firmware/v16/reservation.py: asked for .made only, never made here
        self.reservations = reservations
        self.installing = False  # a firmware install waits: idle connectors Unavailable
        self.guard = None  # evse.Guard over the connectors, once guard_relays() started it
        # SmartCharging (firmware/v16/smartcharging.py) for RemoteStartTransaction's profile, a
        # lib/lazy.py LazyService given by register()
        self.smart_charging = None
        self._alive_bit = watchdog.watch() if watchdog else 0
        # per connector, 0 the charge point: Inoperative once its transaction has ended (and
        # for connector 0 once none runs any more, §5.2)
        self.scheduled_off = [False] * (board.connectors + 1)
        # StartTransaction, MeterValues, StopTransaction of the connectors' transactions
        self.messages = TxMessages(settings, journal, delivery, reservations)
        self.connectors = [Connector(n, board, self.messages, self.transaction_changed,
                                     max_deciamps)
                           for n in range(1, board.connectors + 1)]
        self.status = StatusReport(session, board, settings, board.connectors, self.status_of)
        self.aligned = None  # the AlignedMeter while ClockAlignedDataInterval is set
        # Operative or Inoperative, connector 0 the charge point as a whole: persists across
        # reboots (§5.2); an EVSE is told its connector's
        self._avail_path = board.state_dir + "/" + availability.FILE
        self.availability = availability.load(self._avail_path, board.connectors)  # flags
        for c in self.connectors:
            c.evse.set_available(self.availability[c.n])

    def set_installing(self, installing):
        """A firmware install waits (True): idle connectors Unavailable, no new session
        (L01.FR.07); or it is over (False)."""
        self.installing = installing
        for c in self.connectors:
            c.installing = installing
        self.status.wake()

    def apply_availability(self, connector, operative):
        availability.change(self._avail_path, self.availability, connector.n, operative)
        connector.evse.set_available(operative)
        self.status.wake()

    _tx_listeners = ()  # until on_transaction(): nothing made at start-up for them

    def on_transaction(self, fn):
        """Call fn(connector, None) when a transaction has started on a connector (before its
        EVSE may offer current) and fn(connector, tx) when transaction tx there has ended."""
        self._tx_listeners = self._tx_listeners + (fn,)

    def transaction_changed(self, connector, ended=None, stop_seq=None):
        """From the connectors: a transaction has started on `connector` (ended None), or
        transaction `ended` has stopped there, its StopTransaction the journal's record
        `stop_seq`. A scheduled Inoperative applies once it has ended (the charge point's once
        none runs any more)."""
        if ended is not None:
            self.status.hold(connector.n, stop_seq)  # the StopTransaction goes first
        for fn in self._tx_listeners:
            fn(connector, ended)
        if ended is None:
            return
        if self.scheduled_off[connector.n]:
            self.scheduled_off[connector.n] = False
            self.apply_availability(connector, False)
        if self.scheduled_off[0] and not self.transactions_running():
            self.scheduled_off[0] = False
            availability.change(self._avail_path, self.availability, 0, False)
            self.status.wake()

    def reservations_made(self):
        """The reservation service once a ReserveNow (or a reservation on flash) made it, else
        None: without a reservation no hook here imports firmware/v16/reservation.py."""
        lazy = self.reservations
        return lazy.made if lazy is not None else None

    # -- start-up ----------------------------------------------------------------------------
    def recover(self):
        for c in self.connectors:
            c.recover()

    # -- measurements --------------------------------------------------------------------------
    def _aligned(self, now_s):
        """Clock-aligned meter values (firmware/v16/metering.py) while ClockAlignedDataInterval
        is set: its module is imported only then."""
        interval = self.settings.get("ClockAlignedDataInterval")
        if not interval:
            self.aligned = None
            return
        if self.aligned is None:
            from firmware.v16.metering import AlignedMeter
            self.aligned = AlignedMeter(self.session, self.messages, self.connectors)
        self.aligned.tick(now_s, interval)

    def guard_relays(self):
        """Start the safety timer (evse.Guard): from now on a relay opens when the rule says
        so even while the loop is held. The application calls it once, at start-up."""
        if self.guard is None:
            self.guard = Guard(self.board, [c.evse for c in self.connectors])

    # -- the control loop ----------------------------------------------------------------------
    async def run(self):
        sender = asyncio.create_task(self.status.run())
        try:
            while True:
                now = ticks_ms()
                for c in self.connectors:
                    c.evse.tick(now)
                    c.tick(now)  # may start or stop a transaction: journal writes
                    await sleep_ms(0)  # the next connector's work in a turn of its own
                card = self.board.take_card()
                if card:
                    asyncio.create_task(self.on_card(card))
                now_s = self.board.time_s()
                self._aligned(now_s)
                reservations = self.reservations_made()
                if reservations is not None:
                    reservations.tick(now_s)  # expired ones end: their connectors Available
                self.status.tick(now)
                if self.watchdog:
                    self.watchdog.alive(self._alive_bit)  # a stuck control loop resets the board
                await sleep_ms(TICK_MS)
        finally:
            self.status.stop()  # cancelled (tests do): the sender goes too
            sender.cancel()

    # -- status --------------------------------------------------------------------------------
    def status_of(self, n):
        if n == 0:
            return ("Available" if self.availability[0] else "Unavailable"), "NoError"
        c = self.connectors[n - 1]
        e = c.evse
        if e.plugged and e.pilot.raw == "A":
            # The EV is leaving: the pilot shows A and the cable's rating is gone, but the
            # debounced state still says plugged. The next tick settles it (and ends the
            # transaction); what the offer did meanwhile is not the EVSE suspending.
            held = self.status.pending[n]
            if held is not None:
                return held
        reservations = self.reservations_made()
        available = self.availability[n] and not self.installing
        return connector_status(available or c.tx is not None, e.fault, e.plugged, e.ev_ready,
                                c.tx is not None, c.offering(), c.pending_tag is not None,
                                c.finishing, reservations is not None and reservations.reserved(n))

    def transactions_running(self):
        return any(c.tx is not None for c in self.connectors)

    async def flush_status(self):
        """Send every pending status change now (before what must follow it: the firmware
        updater's install)."""
        await self.status.send_statuses()

    async def _send(self, action, payload, triggered=False):
        try:
            return await self.session.call(action, payload, triggered=triggered)
        except (errors.CallError, CallTimeout, NotConnected) as e:
            log.warn(action, "not delivered:", repr(e))

    # -- cards -------------------------------------------------------------------------------
    async def on_card(self, id_tag):
        """A card at the reader: stops the session it (or a card of its group) started, or
        starts one."""
        for c in self.connectors:
            if c.tx is not None and same_tag(c.tx.id_tag, id_tag):
                c.stop("Local", id_tag=id_tag)  # the same identifier: no Authorize (§4.1)
                return
        grouped = False  # a transaction whose group is known: the card may belong to it
        for c in self.connectors:
            if c.tx is not None and c.tx.parent:
                grouped = True
        target = None
        for c in self.connectors:
            if c.usable() and (target is None or (c.evse.plugged and not target.evse.plugged)):
                target = c
        reservations = self.reservations_made()
        if reservations is not None:  # not another's reserved connector (its group: asked below)
            target = reservations.choose(id_tag, asked=False)
        if target is None and not grouped:
            log.info("card", id_tag, "presented: no connector free")
            return
        if target is not None and not (reservations is not None
                                       and reservations.reserved(target.n)):
            target.pending_tag = id_tag  # Preparing while we ask (a reserved one stays Reserved)
        status, parent = await self.authorizer.check(id_tag)
        if target is not None and target.pending_tag == id_tag:
            target.pending_tag = None
        if reservations is not None and status == "Accepted":
            target = reservations.choose(id_tag, parent)  # the group is known now (§5.13)
        if status == "Accepted" and parent:
            for c in self.connectors:
                if c.tx is not None and same_tag(c.tx.parent, parent):
                    c.stop("Local", id_tag=id_tag)  # the same group (§3.10)
                    return
        if status != "Accepted":
            log.info("card", id_tag, "refused:", status)
        elif target is None or not target.usable():
            log.info("card", id_tag, "presented: not of a running transaction's group,"
                     " no connector free")
        else:
            target.begin(id_tag, parent)

    # -- answers to our transaction messages ----------------------------------------------------
    def answered(self, record, answer):
        """The delivery's answer to a transaction message (Delivery's on_answer)."""
        info = answer.get("idTagInfo") if isinstance(answer, dict) else None
        if record.action == "StartTransaction":
            id_tag = record.payload["idTag"]
            if info:
                self.authorizer.remember(id_tag, info)
            c = self._connector(record.payload["connectorId"])  # the record names it
            if c is not None and c.tx is not None and c.tx.local_id == record.tx:
                info = answer["idTagInfo"]
                c.started(answer["transactionId"], info["status"] == "Accepted",
                          info.get("parentIdTag"))
        elif record.action == "StopTransaction":
            if info and "idTag" in record.payload:
                self.authorizer.remember(record.payload["idTag"], info)
            self.status.released(record.seq)  # the status change it held may follow now

    # -- the central system's requests -----------------------------------------------------------
    def register(self, session, triggers, smart_charging=None):
        """Answer the central system's Core requests and add the StatusNotification and
        MeterValues of TriggerMessage to `triggers` (firmware/v16/remotetrigger.py);
        `smart_charging` takes the chargingProfile of RemoteStartTransaction (a lib/lazy.py
        LazyService, made by the request if it was not yet)."""
        self.smart_charging = smart_charging
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
        triggers.add("StatusNotification", self.status.trigger)
        triggers.add("MeterValues", self.trigger_meter_values)

    def _connector(self, n):
        if not 1 <= n <= len(self.connectors):
            return None
        return self.connectors[n - 1]

    def change_availability(self, p):
        """§5.2: Accepted, or Scheduled while a transaction runs (applied when it ends);
        connectorId 0 is the charge point and all its connectors. Scheduled for connector 0:
        the idle connectors go Unavailable at once (no new session may begin there), each
        busy one when its transaction ends, and connector 0 itself when the last one has
        ended: it never reports Unavailable while a transaction it answered Scheduled for
        still runs."""
        operative = p["type"] == "Operative"
        n = p["connectorId"]
        if n == 0:
            targets = self.connectors
        else:
            c = self._connector(n)
            if c is None:
                return {"status": "Rejected"}
            targets = [c]
        scheduled = False
        for c in targets:
            if not operative and c.tx is not None:
                self.scheduled_off[c.n] = True
                scheduled = True
            else:
                self.scheduled_off[c.n] = False
                self.apply_availability(c, operative)
        if n == 0:
            self.scheduled_off[0] = scheduled
            if not scheduled:
                availability.change(self._avail_path, self.availability, 0, operative)
        self.status.wake()
        return {"status": "Scheduled" if scheduled else "Accepted"}

    def remote_start(self, p):
        if self.session.registration != "Accepted":
            return {"status": "Rejected"}  # not allowed while Pending (§4.2)
        id_tag = p["idTag"]
        n = p.get("connectorId")
        if n is None:
            candidates = [c for c in self.connectors if c.usable()]
            candidates.sort(key=lambda c: not c.evse.plugged)
            c = candidates[0] if candidates else None
        else:
            c = self._connector(n)
        reservations = self.reservations_made()
        parent = None
        if reservations is not None and c is not None:  # a reserved connector: its holder only
            parent = self.authorizer.parent(id_tag)  # its group, if the cache knows it
            c = reservations.choose(id_tag, parent, only=None if n is None else c)
        if c is None or not c.usable():
            return {"status": "Rejected"}
        profile = p.get("chargingProfile")  # a TxProfile for the transaction started here
        if profile is not None and (self.smart_charging is None or self.smart_charging.get()
                                    .expect(c.n, id_tag, profile) != "Accepted"):
            return {"status": "Rejected"}
        if self.settings.get("AuthorizeRemoteTxRequests"):
            c.pending_tag = id_tag  # reserved while we ask

            async def authorize_then_begin():
                status, parent = await self.authorizer.check(id_tag)
                c.pending_tag = None
                if status == "Accepted":
                    c.begin(id_tag, parent)
            self.session.after_reply(authorize_then_begin)
        else:
            self.session.after_reply(lambda: c.begin(id_tag, parent))
        return {"status": "Accepted"}

    def remote_stop(self, p):
        if self.session.registration != "Accepted":
            return {"status": "Rejected"}  # not allowed while Pending (§4.2)
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
            if self.status.online():
                try:  # the statuses that follow the stops (Finishing ...)
                    await asyncio.wait_for(self.status.send_statuses(), RESET_FLUSH_MS / 1000)
                except asyncio.TimeoutError:
                    pass
            log.info("Reset", p["type"], "- restarting")
            from firmware.model import bootreason
            await bootreason.restart(self.board, "RemoteReset", self.close_link, hard)
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

    def trigger_meter_values(self, n, _what=None, _extended=False):
        """TriggerMessage MeterValues: a sample of connector n, or of each (n None or 0)."""
        self.session.after_reply(lambda: self.triggered_meter_values(n))
        return "Accepted"

    async def triggered_meter_values(self, n):
        for c in self.connectors:
            if n not in (None, 0, c.n):
                continue
            value = self.messages.sample(c, "Trigger", "MeterValuesSampledData")
            if value:
                payload = {"connectorId": c.n, "meterValue": [value]}
                if c.tx is not None and c.tx.server_id is not None:
                    payload["transactionId"] = c.tx.server_id  # a local id means nothing there
                await self._send("MeterValues", payload, triggered=True)
