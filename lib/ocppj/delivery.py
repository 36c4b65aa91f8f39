# Sends the journal's transaction messages in order, at least once, with the spec's back-off.
"""The sender of transaction-related messages (OCPP 1.6 §3.7, §3.7.1; OCPP-J errata 3.2;
OCPP 2.0.1 E13, the same rule with MessageAttemptsTransactionEvent and
MessageAttemptIntervalTransactionEvent).

    delivery = Delivery(journal, session, lambda: settings.attempts,
                        lambda: settings.retry_interval_s, on_answer)
    # per connection, next to the registration task (the link cancels it when the link drops):
    task = asyncio.create_task(delivery.run())
    seq = journal.append("StopTransaction", payload, "stop")
    delivery.wake()                                  # send it now if the queue was idle

`run()` takes the oldest record due (journal.peek), sends it with session.call and waits for
the answer before the next one goes (strict order). On a CALLRESULT the journal's id policy
(journal.ids, ocppj/journal.py) takes the answer in first: under ServerIds (OCPP 1.6) a start
record's answer gives the central system's transactionId, recorded with
journal.map_transaction; under StationIds (OCPP 2.0.1) the station's ids went out in the
records themselves and nothing is recorded. Then the record is acked, then
`on_answer(record, answer)` runs (a function or coroutine; after the ack, so a reboot in
between leaves the answer untold rather than the message sent twice: the application finds
the id again with journal.server_id).

A failure to process the message (CALLERROR, an invalid answer, no answer in time) is retried
after TransactionMessageRetryInterval x the number of transmissions so far, until
TransactionMessageAttempts transmissions failed. Then, unlike §3.7.1's "discard" (and unlike
MicroOcpp), the message is kept on flash, and what happens next depends on why the last
transmission failed:

- Refused: the central system answered, with a CALLERROR or an answer that is not valid (or
  the message cannot be sent at all: a start or stop too large for the frame buffer). The
  link works; this message is the problem, and sending it again and again will not change
  that. It is set aside (journal.set_aside, durable): the messages after it are delivered in
  order past it, except those of its transaction when it is a StartTransaction (they carry
  the transactionId its answer will give, so they wait with it; errata 3.18's
  transactionId -1 is not used: the start is kept and sent again, and once accepted it would
  open a transaction at the central system whose stop had gone elsewhere; a 2.0.1 Started
  event holds nothing back: its transaction's events carry the station's id). A message set
  aside is sent again once at the start of every connection (a new run()) and every `park_s`
  seconds (None: only on a new connection), before the next message in line; accepted, it is
  delivered as any other (its transaction's messages then follow with its transactionId). The
  error is logged once when it is set aside, a warning at each retry that fails.
- Unanswered: no answer in time (or the link failed while sending). The central system may
  be slow or unreachable, and order matters to one that is merely slow: the message keeps its
  place, `stalled` names it and delivery pauses. A fresh round of attempts starts on the next
  connection or after `park_s` seconds on the same connection (None: only on the next
  connection), so a central system that recovers gets it without a reconnect, and one that
  keeps failing is asked only `attempts` times per round.

Nothing is lost either way: every record stays in the journal until it is acked, and
journal.peek() (the chargepoint's flush before a Reset) passes over records set aside.

A meter record too large for the frame buffer could never be sent and would block the queue:
it is dropped with an error line (the kind the journal thins anyway).

NotConnected ends run() quietly: the record stays first in the journal. Only one run() sends
at a time: a newer run() (or stop()) retires the older one at its next step.
"""

import asyncio

import logger
from ticks import sleep_ms, ticks_diff, ticks_ms
from ocppj.encoder import FrameTooLarge
from ocppj.errors import CallError
from ocppj.session import NotConnected

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

log = logger.get("delivery")

_DELIVERED = const(1)
_REFUSED = const(2)  # the central system answered, and not with a valid CALLRESULT
_UNANSWERED = const(3)  # no answer in time, or the link failed while sending
_STOPPED = const(0)  # not connected any more, or this run() was retired


class Delivery:
    poll_ms = 1000  # how often a long wait checks that this run is still the current one
    flash_retry_ms = 5000  # pause after a journal read or write failed

    def __init__(self, journal, session, attempts_fn, retry_interval_fn, on_answer=None,
                 park_s=3600):
        self.journal = journal
        self.ids = journal.ids  # the journal's transaction-id policy: one, they cannot disagree
        self.session = session
        self.attempts_fn = attempts_fn  # -> TransactionMessageAttempts (read at every failure)
        self.retry_interval_fn = retry_interval_fn  # -> TransactionMessageRetryInterval, s
        self.on_answer = on_answer
        self.park_s = park_s  # seconds between retries of what failed for good (None: never)
        self.stalled = None  # seq of the unanswered record whose attempts ran out, until sent
        self._reported = None  # the stalled seq already logged as an error
        self._wake = asyncio.Event()
        self._run = 0  # generation of the current run()
        self._aside_at = ticks_ms()  # the last retry of the records set aside

    def wake(self):
        """A record was appended: send it now if the queue was idle (no effect on back-off)."""
        self._wake.set()

    def stop(self):
        """Retire the current run() at its next step."""
        self._run += 1
        self._wake.set()

    async def run(self):
        """Deliver until the connection is gone (returns) or the task is cancelled."""
        self._run += 1
        me = self._run
        retry_aside = True  # a new connection: the records set aside get one more chance
        while me == self._run:
            self._wake.clear()  # before peek: a wake() after it is not lost
            try:
                if retry_aside or self._aside_due():
                    retry_aside = False
                    if not await self._retry_aside(me):
                        return
                    continue
                rec = self.journal.peek()
                if rec is None:
                    await self._idle(me)
                    continue
                outcome = await self._deliver(rec, me, None)
            except OSError as e:  # flash trouble: the record stays, try again in a while
                log.error("journal:", repr(e))
                if not await self._sleep(self.flash_retry_ms, me):
                    return
                continue
            if outcome == _STOPPED:
                return  # not connected, or retired
            # One record per turn of the loop: its answer was taken in (journal written,
            # callbacks run) in this step; the next one's read, encoding and sending go after
            # the other tasks have had their turn.
            await sleep_ms(0)
            if outcome == _REFUSED:
                self.journal.set_aside(rec.seq)
                log.error(rec.action, "#%d" % rec.seq, "refused by the central system"
                          " %d times: set aside (kept), the messages after it go on; sent"
                          " again on every connection" % max(1, self.attempts_fn()) + (
                              "" if self.park_s is None else " and every %d s" % self.park_s))
                if self.journal.aside_count == 1:  # the first: due park_s from now
                    self._aside_at = ticks_ms()
            elif outcome == _UNANSWERED:
                if self._reported != rec.seq:  # an error once per message, not per round
                    log.error(rec.action, "#%d" % rec.seq, "kept in the journal: its attempts ran"
                              " out unanswered; trying again on the next connection" + (
                                  "" if self.park_s is None else " or in %d s" % self.park_s))
                else:
                    log.warn(rec.action, "#%d" % rec.seq, "still failing")
                self._reported = self.stalled = rec.seq
                if not await self._park(me):
                    return

    def _aside_due(self):
        if self.park_s is None or not self.journal.aside_count:
            return False
        return ticks_diff(ticks_ms(), self._aside_at) >= int(self.park_s * 1000)

    async def _retry_aside(self, me):
        """One transmission of each record set aside, oldest first; False to stop running."""
        self._aside_at = ticks_ms()
        for seq in self.journal.aside():
            rec = self.journal.get(seq)
            if rec is None:
                continue
            outcome = await self._deliver(rec, me, 1)
            if outcome == _STOPPED:
                return False
            if outcome == _DELIVERED:
                log.info(rec.action, "#%d" % rec.seq, "set aside, delivered after all")
            else:
                log.warn(rec.action, "#%d" % rec.seq, "set aside, still failing")
        return True

    async def _idle(self, me):
        """Wait for wake(), or until the records set aside are due again."""
        if self.park_s is None or not self.journal.aside_count:
            await self._wake.wait()
            return
        left = int(self.park_s * 1000) - ticks_diff(ticks_ms(), self._aside_at)
        if left > 0:
            try:
                await asyncio.wait_for(self._wake.wait(), left / 1000)
            except asyncio.TimeoutError:
                pass

    async def _deliver(self, rec, me, attempts):
        """Send `rec` until it is answered or `attempts` (None: TransactionMessageAttempts)
        transmissions failed: _DELIVERED, _REFUSED, _UNANSWERED or _STOPPED."""
        tries = 0
        while True:
            try:
                answer = await self.session.call(rec.action, rec.payload)
            except NotConnected:
                return _STOPPED
            except Exception as e:  # CallError, CallTimeout, a frame that does not fit
                if isinstance(e, FrameTooLarge) and rec.kind == "meter":
                    # It can never be sent and would block the queue for good: give it up,
                    # loudly (meter values are the kind the journal thins anyway). A start or
                    # stop is kept (set aside): the application must size them to fit.
                    log.error(rec.action, "#%d" % rec.seq, "does not fit the frame buffer: dropped")
                    self.journal.ack(rec.seq)
                    return _DELIVERED
                tries += 1
                limit = max(1, self.attempts_fn() if attempts is None else attempts)
                if me != self._run:
                    return _STOPPED
                if tries >= limit:
                    if isinstance(e, (CallError, FrameTooLarge)):
                        return _REFUSED
                    return _UNANSWERED
                wait_ms = int(self.retry_interval_fn() * 1000) * tries
                log.warn(rec.action, "#%d" % rec.seq, "failed (%d of %d): %s; again in %d ms"
                         % (tries, limit, repr(e), wait_ms))
                if not await self._sleep(wait_ms, me):
                    return _STOPPED
                continue
            self._answered(rec, answer)
            if self.on_answer is not None:
                try:
                    result = self.on_answer(rec, answer)
                    if hasattr(result, "send"):  # a coroutine
                        await result
                except Exception as e:  # the application's bug must not stop delivery
                    log.error("on_answer for", rec.action, "failed:", repr(e))
            return _DELIVERED if me == self._run else _STOPPED

    def _answered(self, rec, answer):
        try:
            self.ids.answered(self.journal, rec, answer)
        except (KeyError, TypeError, ValueError) as e:  # cannot happen with a valid answer
            log.error("no usable transactionId for", rec.tx, repr(e))
        self.journal.ack(rec.seq)
        if self.stalled == rec.seq:
            log.info(rec.action, "#%d" % rec.seq, "delivered after all")
            self.stalled = None

    async def _park(self, me):
        """Wait park_s (or for good when None); False when this run was retired meanwhile."""
        if self.park_s is None:
            while me == self._run:
                await sleep_ms(self.poll_ms)
            return False
        return await self._sleep(int(self.park_s * 1000), me)

    async def _sleep(self, ms, me):
        """Sleep `ms`, waking every poll_ms; False when this run was retired meanwhile."""
        start = ticks_ms()
        while me == self._run:
            left = ms - ticks_diff(ticks_ms(), start)
            if left <= 0:
                return True
            await sleep_ms(min(left, self.poll_ms))
        return False
