# The WebSocket protocol on an open stream: frames out, messages in, close handshake.
"""`Link`: everything RFC 6455 asks of a client once the opening handshake is done.

WsClient (ws/client.py) adds the URL, the opening handshake and the keep-alive on top; this
part knows only a Transport that is open (or closed).

Memory: the receive buffer (max_message bytes), the send buffer (14 + tx_chunk bytes) and the
control-frame buffers are allocated once and reused by every connection. A message is read
straight into the receive buffer (fragments appended in place); one larger than the buffer is
refused with close code 1009 before its payload is read. Sending masks the payload into the
send buffer chunk by chunk, so the caller's data is neither copied nor changed.

Concurrency: one task at a time in recv() (it also answers pings and the close handshake, so
keep a task in recv() while connected); any number of tasks may send(): frames are written
whole under a lock. A failure seen by one task ends the link for all: the tasks in recv()
and send() are cancelled and get the same WsError. Do not cancel a task in recv(): on MicroPython that also drops
the wait of a task blocked in send(); use the client's idle timeout instead.

Text messages must be UTF-8 (RFC 6455 §5.6, §8.1): one that is not fails the link with close
code 1007 and recv() raises WsError(..., 1007). The check (`is_utf8`) is str()'s own, in C:
the message is decoded in slices of 512 bytes cut at character starts, which allocates about
the message's size in small short-lived blocks (measured on the 32-bit unix port: 4,480 bytes
and 46 us for a 4 KiB message, collections included; 336 bytes for a 300-byte one) and never
one block of the message's size (a whole decode: 4,112 bytes in one block, which a
fragmented 96 KiB heap may not have). Nothing cheaper was found: no C function of
MicroPython scans a buffer for UTF-8 or for bytes over 0x7F without making a str or bytes of
it (re takes str and bytes only), and a byte loop in Python, even one that only looks for
bytes over 0x7F (max() over the buffer is no faster), takes 170-190 us for 4 KiB on the
host, about 40-60 ms on an ESP32 (a full UTF-8 state machine in Python more). What is checked is what the port's str()
checks: CPython all of UTF-8; MicroPython the structure (lead and continuation bytes; it lets
overlong forms, surrogates and code points over U+10FFFF through, as its own str() does); a
port built without MICROPY_PY_BUILTINS_STR_UNICODE_CHECK (not the ESP32's, nor the unix or
WebAssembly ports) checks nothing, and the link then skips the work.
"""

import asyncio

import logger
from ticks import ticks_diff, ticks_ms
from ws.errors import WsError, describe
from ws.frames import (ABNORMAL, BINARY, CLOSE, CONT, INTERNAL_ERROR, INVALID_DATA, MAX_CONTROL,
                       MAX_HEADER, NO_STATUS, NORMAL, PING, PONG, PROTOCOL_ERROR, TEXT, TOO_BIG,
                       Header, close_payload, encode_header, mask_copy, new_key, parse_close,
                       valid_close_code)
from ws.transport import Transport

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

log = logger.get("ws")

CLOSED = 0
CONNECTING = 1
OPEN = 2
CLOSING = 3


_UTF8_SLICE = const(512)  # bytes decoded at a time by is_utf8


def _str_checks_utf8():
    try:
        str(b"\xff", "utf-8")
    except UnicodeError:
        return True
    return False


_CHECKS_UTF8 = _str_checks_utf8()


def is_utf8(mv):
    """True when the bytes of memoryview `mv` are UTF-8 as this port's str() checks them (see
    the module's docstring). Decoded a slice of at most 512 bytes at a time, each cut before
    the lead byte of a character: valid text is never cut inside a character, and text whose
    slices are all valid is valid as a whole, so a bad byte anywhere is found."""
    if not _CHECKS_UTF8:
        return True
    n = len(mv)
    a = 0
    while a < n:
        b = a + _UTF8_SLICE
        if b >= n:
            b = n
        else:
            k = b - 3  # a character has at most 3 continuation bytes (10xxxxxx)
            while b > k and mv[b] & 0xC0 == 0x80:
                b -= 1
        try:
            str(mv[a:b], "utf-8")
        except UnicodeError:
            return False
        a = b
    return True


def wait_ms(aw, ms):
    return asyncio.wait_for(aw, ms / 1000)


def _uncancel():
    # CPython 3.11+: a cancellation we turn into WsError must not count as one any more.
    t = asyncio.current_task()
    u = getattr(t, "uncancel", None)
    if u is not None:
        u()


class Link:
    def __init__(self, max_message=16384, fragment_size=0, close_timeout_ms=3000,
                 tx_chunk=1024):
        self.max_message = max_message
        self.fragment_size = fragment_size
        self.close_timeout_ms = close_timeout_ms
        self._rx = bytearray(max_message)
        self._rxmv = memoryview(self._rx)
        self._chunk = max(4, tx_chunk & ~3)
        self._tx = bytearray(MAX_HEADER + self._chunk)
        self._txmv = memoryview(self._tx)
        self._hdr = bytearray(MAX_HEADER)
        self._hdrmv = memoryview(self._hdr)
        self._hdr2 = self._hdrmv[:2]
        self._ctl = bytearray(MAX_CONTROL)  # received control payloads
        self._ctlmv = memoryview(self._ctl)
        self._out = bytearray(MAX_CONTROL)  # our close payload
        self._ping = bytearray(4)  # our ping payload: a counter
        self._h = Header()
        self._t = Transport()
        self._busy = False  # a frame is being written (asyncio.Lock costs ~400 bytes a use)
        self.state = CLOSED
        self.binary = False  # kind of the message last returned by recv()
        self.rtt_ms = -1  # round trip of the last answered ping
        self._reset()

    def _reset(self):
        self._rx_task = self._tx_task = self._mon_task = None
        self._killed = self._close_sent = self._ping_out = self._partial = False
        self._ping_at = self._rx_at = ticks_ms()
        self._closed_evt = asyncio.Event()
        self._free = asyncio.Event()  # set when _busy ends
        self.subprotocol = None
        self.error = None  # the WsError that ended the last connection
        self.close_code = None  # the code of the close frame received
        self.close_reason = ""

    @property
    def closed(self):
        return self.state == CLOSED

    def _gone(self):
        e = self.error
        return WsError(e.reason, e.code) if e else WsError("not connected")

    # --- sending ----------------------------------------------------------------------------
    async def _frame(self, op, src, off, n, fin):
        # One frame, masked into the send buffer chunk by chunk. The caller holds _busy.
        key = new_key()
        tx = self._tx
        t = self._t
        h = encode_header(tx, op, n, fin, key)
        k = min(n, self._chunk)
        mask_copy(tx, h, src, off, k, key)
        t.write(self._txmv[:h + k])
        await t.drain()
        done = k
        while done < n:
            k = min(self._chunk, n - done)
            mask_copy(tx, 0, src, off + done, k, key, done)
            t.write(self._txmv[:k])
            await t.drain()
            done += k

    async def _lock(self):
        while self._busy:
            self._free.clear()
            await self._free.wait()
        self._busy = True

    def _unlock(self):
        self._busy = False
        self._free.set()

    async def _control(self, op, payload, n):
        if self._busy:
            await self._lock()
        else:
            self._busy = True
        try:
            if self.state == CLOSED:
                raise self._gone()
            if op == CLOSE:
                self._close_sent = True
            await self._frame(op, payload, 0, n, True)
        finally:
            self._unlock()

    async def send(self, data, length=None, binary=False):
        """Send one text (or binary) message: str, bytes, bytearray or memoryview; with
        `length`, only data[:length]. Fragmented when longer than fragment_size (if set)."""
        if isinstance(data, str):
            data = data.encode()
        n = len(data) if length is None else length
        op = BINARY if binary else TEXT
        frag = self.fragment_size or n
        holder = False
        try:
            if self._busy:  # the frames of one message are not interleaved with others
                await self._lock()
            else:
                self._busy = True
            holder = True
            if self.state != OPEN:
                raise self._gone()
            self._tx_task = asyncio.current_task()
            off = 0
            while True:
                k = min(frag, n - off)
                await self._frame(op if off == 0 else CONT, data, off, k, off + k >= n)
                off += k
                if off >= n:
                    break
        except asyncio.CancelledError:
            if not self._killed:
                raise
            _uncancel()
            raise self._gone()
        except (OSError, EOFError) as e:
            await self._abort(WsError("connection lost while sending: " + describe(e), ABNORMAL))
            raise self._gone()
        finally:
            if holder:
                self._tx_task = None
                self._unlock()

    # --- receiving --------------------------------------------------------------------------
    async def recv(self):
        """The next complete message, as a memoryview of the receive buffer: valid until the
        next recv() (copy it with bytes() to keep it). Raises WsError when the link ends,
        with the close code (1000 after our own close, the server's code otherwise)."""
        if self.state == CLOSED or self.state == CONNECTING:
            raise self._gone()
        if self._rx_task is not None:
            raise WsError("recv() is already waiting in another task")
        self._rx_task = asyncio.current_task()
        try:
            return await self._recv()
        except asyncio.CancelledError:
            if self._killed:
                _uncancel()
                raise self._gone()
            if self._partial:  # the stream is mid-frame: it cannot be used any more
                self.state = CLOSED
                self.error = WsError("recv() cancelled in the middle of a frame", ABNORMAL)
                asyncio.create_task(self._abort(self.error))
            raise
        except (OSError, EOFError) as e:
            if self.state != CLOSED:
                why = "no close frame" if isinstance(e, EOFError) else describe(e)
                await self._abort(WsError("connection lost: " + why, ABNORMAL))
            raise self._gone()
        finally:
            self._rx_task = None

    async def _recv(self):
        t = self._t
        h = self._h
        hdr = self._hdr
        msg_op = 0
        total = 0
        limit = self.max_message
        while True:
            aw = t.fill(self._hdr2)
            if aw is not None:
                await aw
            self._partial = True
            need = h.parse(hdr, 2)
            if need > 2:
                aw = t.fill(self._hdrmv[2:need])
                if aw is not None:
                    await aw
                h.parse(hdr, need)
            self._rx_at = ticks_ms()
            why = h.error()
            if why is not None:
                await self._fail("protocol error: " + why, PROTOCOL_ERROR)
            op = h.opcode
            n = h.length
            if op >= CLOSE:
                if n:
                    aw = t.fill(self._ctlmv[:n])
                    if aw is not None:
                        await aw
                self._partial = False
                if op == PING:  # a blocked send delays this; the keep-alive ends that
                    await self._control(PONG, self._ctl, n)
                elif op == PONG:
                    self._pong(n)
                else:
                    await self._closing(n)
                continue
            if op == CONT:
                if not msg_op:
                    await self._fail("protocol error: continuation frame without a message",
                                     PROTOCOL_ERROR)
            else:
                if msg_op:
                    await self._fail("protocol error: new message inside a fragmented one",
                                     PROTOCOL_ERROR)
                msg_op = op
            if total + n > limit:
                await self._fail("incoming message larger than max_message (%d bytes)" % limit,
                                 TOO_BIG)
            if n:
                aw = t.fill(self._rxmv[total:total + n])
                if aw is not None:
                    await aw
            total += n
            self._partial = False
            if h.fin:
                self.binary = msg_op == BINARY
                if msg_op == TEXT and not is_utf8(self._rxmv[:total]):
                    await self._fail("invalid data: a text message that is not UTF-8",
                                     INVALID_DATA)
                return self._rxmv[:total]

    def _pong(self, n):
        p = self._ping
        c = self._ctl
        if self._ping_out and n == 4 and c[0] == p[0] and c[1] == p[1] and c[2] == p[2] \
                and c[3] == p[3]:
            self._ping_out = False
            self.rtt_ms = ticks_diff(ticks_ms(), self._ping_at)

    async def _closing(self, n):
        # A close frame arrived (payload in _ctl[:n]): answer it if the server started.
        try:
            code, reason = parse_close(self._ctlmv[:n])
        except ValueError as e:
            await self._fail("protocol error: " + e.args[1], e.args[0])
            return
        self.close_code = code
        self.close_reason = reason
        if self.state == OPEN:
            err = WsError("closed by the central system" + (": " + reason if reason else ""),
                          code)
            try:
                m = close_payload(self._out, code if code != NO_STATUS else None)
                await wait_ms(self._control(CLOSE, self._out, m), self.close_timeout_ms)
            except Exception:  # answering is a courtesy; the link is over either way
                pass
        else:
            err = WsError("connection closed", code)
        log.info("closed, code", code, reason)
        await self._abort(err, graceful=True)
        raise self._gone()

    # --- ending -----------------------------------------------------------------------------
    async def _fail(self, reason, code):
        # We break the link: a close frame with `code` (1011 for a dead link), then drop.
        err = WsError(reason, code)
        if not self._close_sent and not self._busy:
            try:
                m = close_payload(self._out, INTERNAL_ERROR if code == ABNORMAL else code)
                await wait_ms(self._control(CLOSE, self._out, m), 500)
            except Exception:
                pass
        await self._abort(err)
        raise self._gone()

    async def _abort(self, err, graceful=False):
        """End the link now: remember err, stop the other tasks using it, close the stream."""
        if self.state == CLOSED and self.error is not None and self._t.w is None:
            return
        if self.error is None or self.state != CLOSED:
            self.error = err
        self.state = CLOSED
        self._killed = True
        if err.code != NORMAL and not graceful:
            log.warn("link dropped:", str(err))
        me = asyncio.current_task()
        for task in (self._rx_task, self._tx_task, self._mon_task):
            if task is not None and task is not me:
                task.cancel()
        self._mon_task = None if self._mon_task is not me else self._mon_task
        await self._t.close(graceful)
        self._closed_evt.set()

    async def close(self, code=NORMAL, reason=""):
        """Close handshake: send a close frame, wait (close_timeout_ms at most) for the
        server's, then close the stream. Never raises for a link that is already gone."""
        if self.state == CLOSED or self.state == CONNECTING:
            return
        if self.state == CLOSING:
            try:
                await wait_ms(self._closed_evt.wait(), self.close_timeout_ms)
            except asyncio.TimeoutError:
                pass
            return
        if not valid_close_code(code):
            log.warn("close code", code, "may not be sent: 1000 instead")
            code = NORMAL
        self.state = CLOSING
        try:
            m = close_payload(self._out, code, reason)
            await wait_ms(self._control(CLOSE, self._out, m), self.close_timeout_ms)
            if self._rx_task is not None:  # that task gets the answer
                await wait_ms(self._closed_evt.wait(), self.close_timeout_ms)
            else:
                await wait_ms(self._drain_until_close(), self.close_timeout_ms)
        except (asyncio.TimeoutError, WsError, OSError, EOFError):
            pass
        if self.state != CLOSED:
            await self._abort(WsError("connection closed (no close answer)", code))

    async def _drain_until_close(self):
        while True:
            try:
                await self.recv()
            except WsError:
                return
