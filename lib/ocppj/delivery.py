# Sends the journal's transaction messages in order, at least once, with the spec's back-off.
"""The sender of transaction-related messages (OCPP 1.6 §3.7, §3.7.1; OCPP-J errata 3.2).

    delivery = Delivery(journal, session, lambda: settings.attempts,
                        lambda: settings.retry_interval_s, on_answer)
    # per connection, next to the registration task (the link cancels it when the link drops):
    task = asyncio.create_task(delivery.run())
    seq = journal.append("StopTransaction", payload, "stop")
    delivery.wake()                                  # send it now if the queue was idle

`run()` takes the oldest record, sends it with session.call and waits for the answer before the
next one goes (strict order). On a CALLRESULT: for a start record the central system's
transactionId is recorded (journal.map_transaction), the record is acked, then
`on_answer(record, answer)` runs (a function or coroutine; after the ack, so a reboot in
between leaves the answer untold rather than the message sent twice: the application finds
the id again with journal.server_id).

A failure to process the message (CALLERROR, an invalid answer, no answer in time) is retried
after TransactionMessageRetryInterval x the number of transmissions so far, until
TransactionMessageAttempts transmissions failed. Then, unlike §3.7.1's "discard" (and unlike
MicroOcpp), the message is kept: the problem is logged as an error (once per message),
`stalled` names it, and delivery pauses. It starts a fresh round of attempts on the next
connection (a new run()) or after `park_s` seconds on the same connection (None: only on the
next connection), so a central system that recovers from a fault gets the message without a
reconnect, and one that keeps failing is asked only `attempts` times per round.

A meter record too large for the frame buffer could never be sent and would block the queue:
it is dropped with an error line. A start or stop that does not fit counts as a failure (kept;
the application keeps them small: Journal(max_record_bytes=) below the frame buffer).

NotConnected ends run() quietly: the record stays first in the journal. Only one run() sends
at a time: a newer run() (or stop()) retires the older one at its next step.
"""

import asyncio

import logger
from ticks import sleep_ms, ticks_diff, ticks_ms
from ocppj.encoder import FrameTooLarge
from ocppj.session import NotConnected

log = logger.get("delivery")


class Delivery:
    poll_ms = 1000  # how often a long wait checks that this run is still the current one
    flash_retry_ms = 5000  # pause after a journal read or write failed

    def __init__(self, journal, session, attempts_fn, retry_interval_fn, on_answer=None,
                 park_s=3600):
        self.journal = journal
        self.session = session
        self.attempts_fn = attempts_fn  # -> TransactionMessageAttempts (read at every failure)
        self.retry_interval_fn = retry_interval_fn  # -> TransactionMessageRetryInterval, s
        self.on_answer = on_answer
        self.park_s = park_s
        self.stalled = None  # seq of the record whose attempts ran out, until it goes through
        self._reported = None  # the stalled seq already logged as an error
        self._wake = asyncio.Event()
        self._run = 0  # generation of the current run()

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
        while me == self._run:
            self._wake.clear()  # before peek: a wake() after it is not lost
            try:
                rec = self.journal.peek()
                if rec is None:
                    await self._wake.wait()
                    continue
                sent = await self._deliver(rec, me)
            except OSError as e:  # flash trouble: the record stays, try again in a while
                log.error("journal:", repr(e))
                if not await self._sleep(self.flash_retry_ms, me):
                    return
                continue
            if sent is None:
                return  # not connected, or retired
            if not sent:
                if self._reported != rec.seq:  # an error once per message, not per round
                    log.error(rec.action, "#%d" % rec.seq, "kept in the journal: its attempts ran"
                              " out; trying again on the next connection" + (
                                  "" if self.park_s is None else " or in %d s" % self.park_s))
                else:
                    log.warn(rec.action, "#%d" % rec.seq, "still failing")
                self._reported = self.stalled = rec.seq
                if not await self._park(me):
                    return

    async def _deliver(self, rec, me):
        """True when delivered, False when the attempts ran out, None to stop running."""
        tries = 0
        while True:
            try:
                answer = await self.session.call(rec.action, rec.payload)
            except NotConnected:
                return None
            except Exception as e:  # CallError, CallTimeout, a frame that does not fit
                if isinstance(e, FrameTooLarge) and rec.kind == "meter":
                    # It can never be sent and would block the queue for good: give it up,
                    # loudly (meter values are the kind the journal thins anyway). A start or
                    # stop is kept and retried: the application must size them to fit.
                    log.error(rec.action, "#%d" % rec.seq, "does not fit the frame buffer: dropped")
                    self.journal.ack(rec.seq)
                    return True
                tries += 1
                attempts = max(1, self.attempts_fn())
                if me != self._run:
                    return None
                if tries >= attempts:
                    return False
                wait_ms = int(self.retry_interval_fn() * 1000) * tries
                log.warn(rec.action, "#%d" % rec.seq, "failed (%d of %d): %s; again in %d ms"
                         % (tries, attempts, repr(e), wait_ms))
                if not await self._sleep(wait_ms, me):
                    return None
                continue
            self._answered(rec, answer)
            if self.on_answer is not None:
                try:
                    result = self.on_answer(rec, answer)
                    if hasattr(result, "send"):  # a coroutine
                        await result
                except Exception as e:  # the application's bug must not stop delivery
                    log.error("on_answer for", rec.action, "failed:", repr(e))
            return me == self._run or None

    def _answered(self, rec, answer):
        if rec.kind == "start":
            try:
                self.journal.map_transaction(rec.tx, answer["transactionId"])
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
