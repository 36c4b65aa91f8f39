# Reconnect policy above the WebSocket client: exponential back-off with jitter, notifications.
"""Keep a link to the central system up, without hammering it when it is down.

    rc = Reconnector(ws, session, min_ms=1000, max_ms=300000, stable_ms=30000,
                     on_connected=lambda proto: ..., on_disconnected=lambda err: ...)
    asyncio.create_task(rc.run())
    await rc.connected.wait()        # an asyncio.Event, set while the link is up
    ...
    await rc.stop()

`session(client)` is the caller's coroutine for one connection: it runs after each
successful connect and should end by raising the client's WsError when the link drops. The
waits between attempts grow min_ms, 2*min_ms, 4*min_ms, ... up to max_ms, each shortened by a
random part of up to jitter_pct percent (so that many charge points do not come back in
step). The growth restarts from min_ms after a connection that stayed up stable_ms (0: after
any successful handshake). Callbacks may be plain functions or coroutines.
"""

import asyncio
import random

import logger
from ticks import ticks_diff, ticks_ms
from ws.errors import WsError

log = logger.get("ws")


class Backoff:
    """Exponential back-off with jitter, integers in ms."""

    def __init__(self, min_ms=1000, max_ms=300000, factor=2, jitter_pct=50):
        if min_ms <= 0 or max_ms < min_ms or factor < 1 or not 0 <= jitter_pct <= 100:
            raise ValueError("backoff: need 0 < min_ms <= max_ms, factor >= 1, jitter 0..100")
        self.min_ms = min_ms
        self.max_ms = max_ms
        self.factor = factor
        self.jitter_pct = jitter_pct
        self.attempt = 0

    def base_ms(self):
        """The delay before jitter for the current attempt."""
        d = self.min_ms
        for _ in range(self.attempt):
            d *= self.factor
            if d >= self.max_ms:
                return self.max_ms
        return d

    def next_ms(self):
        """The wait before the next attempt (counts the attempt)."""
        d = self.base_ms()
        if d < self.max_ms:
            self.attempt += 1
        spread = d * self.jitter_pct // 100
        if spread:
            d -= random.getrandbits(30) % (spread + 1)
        return d

    def reset(self):
        self.attempt = 0


async def _notify(fn, arg):
    if fn is None:
        return
    try:
        r = fn(arg)
        if hasattr(r, "send"):  # a coroutine
            await r
    except Exception as e:  # a broken callback must not stop the reconnecting
        log.error("reconnect callback failed:", repr(e))


class Reconnector:
    def __init__(self, client, session, min_ms=1000, max_ms=300000, stable_ms=30000,
                 jitter_pct=50, on_connected=None, on_disconnected=None, on_failed=None):
        self.client = client
        self.session = session
        self.backoff = Backoff(min_ms, max_ms, 2, jitter_pct)
        self.stable_ms = stable_ms
        self.on_connected = on_connected  # fn(subprotocol)
        self.on_disconnected = on_disconnected  # fn(WsError or None)
        self.on_failed = on_failed  # fn(WsError) after an attempt that did not connect
        self.connected = asyncio.Event()  # set while the link is up
        self.last_error = None  # the WsError of the last failed attempt or dropped link
        self.attempts = 0  # connect attempts
        self.connects = 0  # successful ones
        self._stop = False
        self._wake = asyncio.Event()

    async def run(self):
        """Connect, run the session, wait, again: until stop(). Exceptions other than WsError
        (from the session or a callback) end run() after the link is closed."""
        self._stop = False
        while not self._stop:
            self.attempts += 1
            try:
                proto = await self.client.connect()
            except WsError as e:
                self.last_error = e
                await _notify(self.on_failed, e)
            else:
                await self._connected(proto)
            if self._stop:
                break
            delay = self.backoff.next_ms()
            log.info("reconnecting in %d ms" % delay)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), delay / 1000)
            except asyncio.TimeoutError:
                pass

    async def _connected(self, proto):
        start = ticks_ms()
        self.connects += 1
        if not self.stable_ms:
            self.backoff.reset()
        self.connected.set()
        await _notify(self.on_connected, proto)
        err = None
        try:
            await self.session(self.client)
        except WsError as e:
            err = self.last_error = e
        finally:
            self.connected.clear()
            await self.client.close()
        if err is None and self.client.error is not None:
            err = self.client.error
        if ticks_diff(ticks_ms(), start) >= self.stable_ms:
            self.backoff.reset()
        await _notify(self.on_disconnected, err)

    async def stop(self):
        """Stop reconnecting and close the link (run() then returns)."""
        self._stop = True
        self._wake.set()
        await self.client.close()
