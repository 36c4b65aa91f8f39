# OCPP 1.6 StatusNotification (§4.9): when each connector's status goes to the central system.
"""    status = StatusReport(session, board, settings, journal, connectors=2,
                          status_of=cp.status_of)
    asyncio.create_task(status.run())  # the sender; status.stop() ends it
    status.tick(now_ms)              # the control loop, every tick: a due change wakes the sender
    status.hold(1, seq)              # connector 1's StopTransaction (journal seq) goes first
    await status.report_all()        # after every accepted (re)connect
    await status.send_statuses()     # every pending change now
    triggers.add("StatusNotification", status.trigger)  # firmware/v16/remotetrigger.py

`status_of(n)` is the charge point's (status, errorCode) of connector n (0: the charge point);
StatusReporter (firmware/model/status.py) keeps what was reported and honours
MinimumStatusDuration.

Registration (§4.2): until the central system has accepted the BootNotification no
StatusNotification goes out on its own; the changes wait and every connector's status is sent
once it is Accepted (errata 3.22). A triggered one goes while Pending too.

Per connector: sent when the status changed and held MinimumStatusDuration; a refusal (a
CALLERROR, an answer that does not validate, no answer) is tried again after a back-off
(retry_min_ms, doubling up to retry_max_ms) while the other connectors' changes go out
meanwhile. Offline or not yet accepted nothing is sent: each change is logged once and, while
any wait, a summary at most every SUMMARY_MS; after the next accepted connect every
connector's current status is sent.

Stopping: StopTransaction first, then the status that follows it (Finishing, Available,
Unavailable): the status change of a connector whose StopTransaction is still in the journal
waits for its answer, at most STOP_HOLD_MS from the stop (or from the next accepted connect).
The journal says when it was answered (the delivery acks it then): nothing has to tell.
"""

import asyncio

import logger
from firmware.model.status import StatusReporter
from ocppj import errors
from ocppj.encoder import Timestamp
from ocppj.session import CallTimeout, NotConnected
from ticks import ticks_add, ticks_diff, ticks_ms

log = logger.get("cp")

STOP_HOLD_MS = 10000  # a status change waits this long at most for its StopTransaction
SUMMARY_MS = 60000  # offline: at most one summary line of waiting changes this often


class StatusReport(StatusReporter):
    retry_min_ms = 10000  # first back-off after a refused StatusNotification, doubling ...
    retry_max_ms = 600000  # ... up to this

    def __init__(self, session, board, settings, journal, connectors, status_of):
        StatusReporter.__init__(self, connectors,
                                lambda: settings.get("MinimumStatusDuration"))
        self.session = session
        self.board = board
        self.status_of = status_of
        self.journal = journal  # holds a StopTransaction until it is answered
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        n = connectors + 1
        self._retry_ms = [0] * n  # per connector: the back-off after a refusal (0: none)
        self._retry_at = [0] * n
        self._logged = [None] * n  # offline: the status last logged as waiting
        self._held = [None] * n  # (journal seq of its StopTransaction, since)
        self._summary_at = None  # offline: when the last summary was logged
        self._running = False

    def wake(self):
        """Something a status depends on changed: look now, not at the next tick."""
        self._wake.set()

    def online(self):
        return self.session.connected and self.session.registration == "Accepted"

    # -- the StopTransaction first -------------------------------------------------------------
    def hold(self, n, seq):
        """Connector n's StopTransaction is the journal's record `seq`: its next status waits
        for the answer (at most STOP_HOLD_MS)."""
        self._held[n] = (seq, ticks_ms())

    def _may_send(self, n, now):
        """Not in a back-off after a refusal, not waiting for the connector's StopTransaction."""
        if self._retry_ms[n] and ticks_diff(now, self._retry_at[n]) < 0:
            return False
        held = self._held[n]
        if held is not None:
            if self.journal.pending(held[0]) and ticks_diff(now, held[1]) < STOP_HOLD_MS:
                return False
            self._held[n] = None  # answered, or waited long enough (order not kept)
        return True

    # -- the control loop's side -------------------------------------------------------------
    def tick(self, now):
        """Observe every connector's status (and show it on the board); wake the sender when
        a StatusNotification is due now."""
        due = False
        for n in range(len(self.reported)):
            status = self.status_of(n)
            if n:
                self.board.show_status(n, status[0])
            if self.observe(n, status) is not None and self._may_send(n, now):
                due = True
        if due and not self.online():
            self._note_waiting(now)
        elif due:
            self._wake.set()

    def _note_waiting(self, now):
        """Offline (or not accepted yet): each change logged once, then a summary at most
        every SUMMARY_MS, never a line per tick."""
        waiting = 0
        for n in range(len(self.reported)):
            status = self.pending[n]
            if status is None or status == self.reported[n]:
                continue
            waiting += 1
            if status != self._logged[n]:
                self._logged[n] = status
                log.info("connector %d %s (%s): StatusNotification waits for the central system"
                         % (n, status[0], status[1]))
        if self._summary_at is None:
            self._summary_at = now
        elif waiting and ticks_diff(now, self._summary_at) >= SUMMARY_MS:
            self._summary_at = now
            log.info("%d StatusNotification(s) still waiting: %s" % (
                waiting, "connected, not accepted" if self.session.connected else "offline"))

    async def run(self):
        """The sender: what tick() and wake() ask for, until stop()."""
        self._running = True
        while self._running:
            await self._wake.wait()
            self._wake.clear()
            await self.send_statuses()

    def stop(self):
        # The sender's cancellation can be lost (CPython 3.11's wait_for can swallow one that
        # meets an answer): it sees the flag.
        self._running = False
        self._wake.set()

    # -- sending -------------------------------------------------------------------------------
    async def report_all(self):
        """After every accepted (re)connect: every connector's status again (errata 3.22)."""
        self.forget()
        now = ticks_ms()
        for n in range(len(self.reported)):
            self._retry_ms[n] = 0
            self._logged[n] = None
            held = self._held[n]
            if held is not None:  # its StopTransaction goes first on this connection too
                self._held[n] = (held[0], now)
        self._summary_at = None
        self._wake.set()

    def trigger(self, n, _what=None, _extended=False):
        """TriggerMessage StatusNotification: of connector n, or of each (None), sent after the
        answer even while Pending and even when unchanged."""
        self.session.after_reply(lambda: self.send_statuses(True, n, triggered=True))
        return "Accepted"

    async def send_statuses(self, force=False, only=None, triggered=False):
        """StatusNotification for every connector whose status changed; with `force` (a
        TriggerMessage) also for unchanged ones; `only` one connectorId. `triggered` may go
        while Pending; the others only once Accepted."""
        async with self._lock:  # one sender: no status goes out twice
            for n in range(len(self.reported)):
                if only is not None and n != only:
                    continue
                status = self.status_of(n)
                now = ticks_ms()
                if not force and (self.observe(n, status) is None
                                  or not self._may_send(n, now)):
                    continue
                session = self.session
                if not session.connected or session.registration not in (
                        ("Accepted", "Pending") if triggered else ("Accepted",)):
                    self._note_waiting(now)
                    continue  # never wait for acceptance here: a trigger may come meanwhile
                try:
                    await session.call("StatusNotification", {
                        "connectorId": n, "errorCode": status[1], "status": status[0],
                        "timestamp": Timestamp(self.board.time_s())}, triggered=triggered)
                    self.sent(n, status)
                    self._retry_ms[n] = 0
                    self._logged[n] = None
                except NotConnected:
                    self._note_waiting(ticks_ms())
                except (errors.CallError, CallTimeout) as e:
                    if triggered:
                        log.warn("triggered StatusNotification", n, "not delivered:", repr(e))
                        continue
                    ms = min(max(self._retry_ms[n] * 2, self.retry_min_ms), self.retry_max_ms)
                    self._retry_ms[n] = ms
                    self._retry_at[n] = ticks_add(ticks_ms(), ms)
                    log.warn("StatusNotification", n, "refused:", repr(e),
                             "- again in %d ms" % ms)
