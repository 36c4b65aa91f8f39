# The byte stream under the WebSocket: asyncio streams the same way on MicroPython and CPython.
"""`Transport`: open a TCP (or TLS) stream, fill buffers exactly, write, drain, close.

The differences it hides:
- Opening: on MicroPython the socket is made here rather than by asyncio.open_connection,
  whose socket is lost (never closed) when the connect is cancelled by a timeout.
- MicroPython's open_connection returns one Stream object twice (reader and writer); it has
  `readinto`, which may return None when a TLS record is not complete yet. CPython's
  StreamReader has no readinto, so bytes are read and copied into the buffer.
- MicroPython's Stream.write copies what it cannot send at once; CPython's transports may keep
  a reference to the object written (TLS before the handshake ends), so on CPython a copy of
  the caller's reusable buffer is written.
- Closing: on MicroPython `close()` may do nothing and `wait_closed()` closes the socket; on
  CPython `close()` starts the close and wait_closed() can wait for a TLS shutdown, so it is
  bounded and the transport aborted after that.
"""

import asyncio
import sys

from ticks import sleep_ms
from ws.errors import WsError

_CPYTHON = sys.implementation.name != "micropython"


class Transport:
    def __init__(self):
        self.r = None
        self.w = None
        self._readinto = None  # MicroPython's Stream.readinto (CPython's reader has none)
        self._sock = None
        self._raw = None  # MicroPython: the TCP socket, before and under TLS

    async def open(self, host, port, ctx=None):
        if not _CPYTHON:
            await self._open_micropython(host, port, ctx)
            return
        if ctx is None:
            r, w = await asyncio.open_connection(host, port)
        else:
            r, w = await asyncio.open_connection(host, port, ssl=ctx, server_hostname=host)
        self.r = r
        self.w = w

    async def _open_micropython(self, host, port, ctx):
        # asyncio.open_connection, except that the socket is ours from the start: when the
        # connect is cancelled (handshake timeout) close() still closes it. MicroPython's own
        # loses it to the cancelled task: one socket leaked per timed-out attempt.
        import select
        import socket
        from errno import EINPROGRESS
        try:
            ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]  # blocks, as asyncio's
        except (OSError, IndexError):  # the ESP32 says only a negative number
            raise WsError("cannot resolve the host name %s" % host)
        s = socket.socket(ai[0], ai[1], ai[2])
        self._raw = s
        s.setblocking(False)
        try:
            s.connect(ai[-1])
        except OSError as e:
            if e.errno != EINPROGRESS:
                raise
        poller = select.poll()
        poller.register(s, select.POLLOUT)  # connected, or failed: the first write says why
        while not poller.poll(0):
            await sleep_ms(20)
        poller.unregister(s)
        if ctx is not None:  # the TLS handshake runs in the first writes and reads
            s = ctx.wrap_socket(s, server_hostname=host, do_handshake_on_connect=False)
            s.setblocking(False)
        stream = getattr(asyncio, "StreamReader")(s)  # one Stream class: reader and writer
        self.r = self.w = stream
        self._readinto = stream.readinto
        self._sock = s  # read directly when bytes are there: no coroutine, nothing allocated

    def fill(self, mv):
        """Fill mv from the stream: None when the bytes were already there, else an awaitable
        that reads the rest (`aw = t.fill(mv)`, `if aw: await aw`). EOFError at the end."""
        got = 0
        s = self._sock
        if s is not None:
            k = s.readinto(mv)  # None: nothing yet (TLS: no whole record yet)
            if k is not None:
                if not k:
                    raise EOFError
                got = k
                if k == len(mv):
                    return None
        return self._fill(mv, got)

    async def _fill(self, mv, got):
        n = len(mv)
        into = self._readinto
        if into is not None:
            while got < n:
                k = await into(mv[got:] if got else mv)
                if k is None:  # TLS: no whole record yet
                    continue
                if not k:
                    raise EOFError
                got += k
            return
        r = self.r
        while got < n:
            b = await r.read(n - got)  # type: ignore
            if not b:
                raise EOFError
            k = len(b)
            mv[got:got + k] = b
            got += k

    async def readline(self):
        line = await self.r.readline()  # type: ignore
        if not line:
            raise EOFError
        return line

    def write(self, data):
        """Queue data (bytes-like, may be reused by the caller afterwards)."""
        self.w.write(bytes(data) if _CPYTHON else data)  # type: ignore

    def drain(self):
        """An awaitable that waits until the written bytes are sent. MicroPython: when the
        socket took them all (nothing in Stream.out_buf) just a yield to the scheduler, with
        the allocation-free sleep_ms(0) instead of a drain coroutine."""
        w = self.w
        if self._sock is not None and not w.out_buf:  # type: ignore
            return sleep_ms(0)
        return w.drain()  # type: ignore

    async def close(self, graceful=False):
        """Close the stream (idempotent); errors are ignored."""
        w = self.w
        raw = self._raw
        self._raw = None
        if w is None:
            if raw is not None:  # cancelled while connecting
                raw.close()
            return
        sock = self._sock
        self.w = self.r = self._sock = None
        self._readinto = None
        if sock is not None:
            # MicroPython: closing a socket with unread input sends a TCP reset, and the peer
            # may then lose what we wrote last (our close frame). Read what is there first.
            try:
                for _ in range(32):
                    if not sock.read(512):
                        break
            except Exception:
                pass
        transport = getattr(w, "transport", None)
        if transport is not None and not graceful:
            transport.abort()  # CPython: no TLS shutdown wait for a link that failed
            return
        try:
            w.close()
            if transport is None:
                await w.wait_closed()  # MicroPython: this closes the socket
            else:
                await asyncio.wait_for(w.wait_closed(), 1)
        except Exception:  # already reset, TLS shutdown refused, timed out...
            if transport is not None:
                transport.abort()
        if raw is not None:
            try:
                raw.close()  # closing the TLS socket may leave the TCP one open
            except OSError:
                pass
