# The charge point: its connectors, their control loop, availability and status.
"""Builds one Connector (with its Evse) per connector, runs the 100 ms control loop (relay
rule, cards, connection time-out, meter samples, clock-aligned data, status changes) and keeps
the availability (Operative / Inoperative, scheduled while a transaction runs). The central
system's Core requests are firmware/v16/core.py's, which turns them into the commands here;
the transaction messages and their answers are `messages`' (firmware/v16/txmessages.py).

    cp = ChargePoint(board, settings, session, messages, authorizer)
    cp.recover()                      # stop transactions cut by power loss
    asyncio.create_task(cp.run())     # the control loop

An incoming CALL reads: ws -> link -> session.feed -> handler (core.py ...) -> connector /
evse -> result -> encoder -> ws; follow-up messages (a triggered message, the reboot of a
Reset) run after the answer has gone out (session.after_reply).

Registration (§4.2): cards presented while Pending follow the offline rules of authorize.py
(the cache, AllowOfflineTxForUnknownId).

Status: status_of(n) is each connector's (status, errorCode) from its facts (the status
machine of firmware/model/status.py); when StatusNotification reports it is `self.status`'s
(firmware/v16/statusreport.py). Stopping: StopTransaction first, then the status that follows
it (Finishing, Available, Unavailable), for every stop reason: a transaction has stopped before
its connector can be Finishing (§7.7 as amended by the errata, §4.9 C6/D6); the report holds
the status change until the StopTransaction is answered.

Cards: firmware/model/cards.py decides what a card stops or starts, with the authorizer's
verdict (firmware/v16/authorize.py). Identifiers compare case-insensitively (IdToken, §7.28)
and are sent as presented.

Reservations (§5.13) are firmware/v16/reservation.py's, made at the first ReserveNow or
CancelReservation (or at start-up when reservations wait on flash): until then the hooks here
(status, cards, core.py's RemoteStartTransaction, the control loop, a transaction's start) ask the
LazyService whether it was made. Once it was, a reserved connector is Reserved and only its
holder's card or RemoteStartTransaction may start there (another card may start on another
free connector), a reservation of connector 0 keeps a connector free for its holder.
"""

import asyncio

from firmware.model import availability
from firmware.model.evse import Guard
from firmware.model.connector import Connector
from firmware.model.status import connector_status
from firmware.v16.statusreport import StatusReport
from ticks import sleep_ms, ticks_ms

TICK_MS = 100
FEATURE_PROFILES = ("Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
                    "RemoteTrigger")


class ChargePoint:
    def __init__(self, board, settings, session, messages, authorizer, max_deciamps=320,
                 watchdog=None, reservations=None):
        self.board = board
        self.settings = settings
        self.session = session
        self.authorizer = authorizer
        self.watchdog = watchdog
        # lib/lazy.py LazyService of firmware/v16/reservation.py: asked for .made only, never made here
        self.reservations = reservations
        self.installing = False  # a firmware install waits: idle connectors Unavailable
        self.guard = None  # evse.Guard over the connectors, once guard_relays() started it
        self._alive_bit = watchdog.watch() if watchdog else 0
        # per connector, 0 the charge point: Inoperative once its transaction has ended (and
        # for connector 0 once none runs any more, §5.2; firmware/model/availability.py)
        self.scheduled_off = [False] * (board.connectors + 1)
        # StartTransaction, MeterValues, StopTransaction of the connectors' transactions
        self.messages = messages
        self.connectors = [Connector(n, board, self.messages, self.transaction_changed,
                                     max_deciamps)
                           for n in range(1, board.connectors + 1)]
        self.status = StatusReport(session, board, settings, messages.journal, board.connectors,
                                   self.status_of)
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
        if ended is not None and availability.ended(self._avail_path, self.availability,
                                                    self.scheduled_off, self.connectors,
                                                    connector):
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

    # -- cards -------------------------------------------------------------------------------
    def on_card(self, id_tag):
        """A card at the reader (the control loop takes it from the board): the session it
        stops or starts, as firmware/model/cards.py decides (imported at the first card)."""
        from firmware.model.cards import present
        return present(id_tag, self.connectors, self.authorizer, self.reservations_made())

    # -- commands ----------------------------------------------------------------------------
    def connector(self, n):
        """Connector n (from 1), or None when there is none."""
        if not 1 <= n <= len(self.connectors):
            return None
        return self.connectors[n - 1]

    def set_operative(self, n, operative):
        """ChangeAvailability of connector n (0: the charge point and all its connectors,
        §5.2): False when done, True when scheduled because a transaction runs, None when there
        is no such connector (firmware/model/availability.py)."""
        scheduled = availability.set_operative(self._avail_path, self.availability,
                                               self.scheduled_off, self.connectors, n, operative)
        self.status.wake()
        return scheduled
