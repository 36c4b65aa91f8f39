# OCPP-J frame encoder: CALL, CALLRESULT and CALLERROR written into one fixed buffer.
"""Fixed-buffer JSON encoder for OCPP-J frames.

    enc = Encoder(4096)
    n = enc.call("17", "Heartbeat", {})         # enc.buf[:n] is b'[2,"17","Heartbeat",{}]'
    await ws.send(enc.buf, n)                    # valid until the next encode

Payloads are dicts, lists/tuples, str, bytes (taken as UTF-8 text), int, bool, float, and two
mutable holders: `Timestamp` (seconds since 2000-01-01, written as RFC 3339) and `Decimal` (an
integer mantissa and a count of decimals, written as a JSON number or, for OCPP 1.6 meter
values, as a string). A None value in a dict means "field not set": it is left out. Message
ids are str, or int (written as a string).

Two encoders write the same bytes:

- `ExactEncoder` writes every value byte by byte from Python into the preallocated bytearray
  (str iteration, dict iteration and integer arithmetic do not touch the heap on MicroPython).
  It is the reference, and what CPython uses.
- On MicroPython `Encoder` (StreamEncoder) lets the C `json.dump` write the frame through the
  stream protocol into a preallocated `io.BytesIO` and copies it into the buffer: 5 to 25
  times faster, and still nothing allocated. json.dump prints a holder by calling its
  `__repr__`, which writes the holder's text into that same stream and returns "". Where
  json.dump's text would differ from ExactEncoder's (a None in a dict, written null; an
  object with no JSON form, written <...> or name(...)) ExactEncoder writes the frame
  again: C searches of the copied frame tell. Both spell a backspace and a form feed
  "\\u0008" and "\\u000c", as json.dump does (one search fewer per frame).
  A Heartbeat is one struct.pack_into of cached bytes.

A frame that does not fit raises FrameTooLarge; the buffer then holds nothing useful. The
stream keeps 512 bytes: a longer frame (a GetConfiguration answer) grows one for itself.
"""

import io
import json
import sys
from struct import pack_into as _pack_into

from civil import EPOCH_2000_DAYS, civil_from_days

# getattr: the ESP32 stubs know neither BytesIO's stream methods nor json.dump's separators
_BytesIO = getattr(io, "BytesIO")
_dump = getattr(json, "dump")

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

_QUOTE = const(0x22)
_BACKSLASH = const(0x5C)
_HEX = b"0123456789abcdef"
# \t \n \r; a backspace and a form feed as \u0008 and \u000c, the spelling of MicroPython's
# json.dump (StreamEncoder), so the two encoders write the same bytes
_ESCAPES = {0x09: 0x74, 0x0A: 0x6E, 0x0D: 0x72}


class FrameTooLarge(Exception):
    pass


# The stream json.dump is writing a frame into, while it is (MicroPython): the holders'
# __repr__ write their text there. None otherwise, and then __repr__ is a plain repr.
_out = None


class Timestamp:
    """A date-time value: `s` is seconds since 2000-01-01 UTC (the firmware's clock: small
    ints until 2034, so writing it allocates nothing even on the ESP32)."""

    def __init__(self, s=0):
        self.s = s

    def __repr__(self):
        o = _out
        if o is None:
            return "Timestamp(%d)" % self.s
        if self.s != _ts_s and not _render_timestamp(self.s):
            _write_exact(o, self)  # a year without 4 digits: rare, allocates a little
            return ""
        o.write(_TS_TEXT)
        return ""


class Decimal:
    """A decimal value `mantissa / 10**scale`, e.g. Decimal(12345, 1) is 1234.5."""

    def __init__(self, mantissa=0, scale=0, quoted=False):
        self.mantissa = mantissa
        self.scale = scale
        self.quoted = quoted  # OCPP 1.6 SampledValue.value is a string

    def __repr__(self):
        o = _out
        if o is None:
            return "Decimal(%d, %d, %s)" % (self.mantissa, self.scale, self.quoted)
        m = self.mantissa
        scale = self.scale
        close = ""  # printed by json.dump after the text written here
        if self.quoted:
            o.write(b'"')
            close = '"'
        if scale <= 0:
            _dump(m, o)
            return close
        if m < 0:
            o.write(b"-")
            m = -m
        p = 10 ** scale
        _dump(m // p, o)
        o.write(b".")
        f = m % p
        p //= 10
        while p > f and p > 1:  # the fraction has `scale` digits: leading zeros
            o.write(b"0")
            p //= 10
        _dump(f, o)
        return close


# The text of the last timestamp written, quotes included, and its second and day: frames
# carry the same second many times (a MeterValues' samples) and the same day for a day.
_TS_TEXT = bytearray(b'"2000-01-01T00:00:00Z"')
_ts_s = 0
_ts_day = 0


def _render_timestamp(s):
    """_TS_TEXT = the text of `s`; False for a year outside 0..9999 (not 22 bytes long)."""
    global _ts_s, _ts_day
    t = _TS_TEXT
    days = s // 86400
    if days != _ts_day:
        year, month, day = civil_from_days(days + EPOCH_2000_DAYS)
        if not 0 <= year <= 9999:
            return False
        t[1] = 0x30 + year // 1000
        t[2] = 0x30 + year // 100 % 10
        t[3] = 0x30 + year // 10 % 10
        t[4] = 0x30 + year % 10
        t[6] = 0x30 + month // 10
        t[7] = 0x30 + month % 10
        t[9] = 0x30 + day // 10
        t[10] = 0x30 + day % 10
        _ts_day = days
    secs = s - days * 86400
    h = secs // 3600
    m = secs // 60 % 60
    secs %= 60
    t[12] = 0x30 + h // 10
    t[13] = 0x30 + h % 10
    t[15] = 0x30 + m // 10
    t[16] = 0x30 + m % 10
    t[18] = 0x30 + secs // 10
    t[19] = 0x30 + secs % 10
    _ts_s = s
    return True


def _write_exact(stream, value):
    """Write one value as ExactEncoder does (for the rare value the fast path does not)."""
    enc = ExactEncoder(64)
    enc._value(value)
    stream.write(enc.mv[:enc.pos])


class ExactEncoder:
    """The reference: every value written byte by byte by Python code, nothing allocated."""

    def __init__(self, size):
        self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.size = size
        self.pos = 0

    # -- frames ------------------------------------------------------------------------
    def call(self, msg_id, action, payload):
        """[2,"<id>","<action>",{payload}]"""
        self.pos = 0
        self._raw(b'[2,')
        self._id(msg_id)
        self._byte(0x2C)
        self._str(action)
        self._byte(0x2C)
        self._value(payload)
        self._byte(0x5D)
        return self.pos

    def result(self, msg_id, payload):
        """[3,"<id>",{payload}]"""
        self.pos = 0
        self._raw(b'[3,')
        self._id(msg_id)
        self._byte(0x2C)
        self._value(payload)
        self._byte(0x5D)
        return self.pos

    def error(self, msg_id, code, description, details=None):
        """[4,"<id>","<code>","<description>",{details}]"""
        self.pos = 0
        self._raw(b'[4,')
        self._id(msg_id)
        self._byte(0x2C)
        self._str(code)
        self._byte(0x2C)
        self._str(description)
        self._byte(0x2C)
        if details:
            self._value(details)
        else:
            self._raw(b'{}')
        self._byte(0x5D)
        return self.pos

    def frame(self):
        """The last encoded frame as a memoryview (allocates the view: not for hot paths)."""
        return self.mv[:self.pos]

    # -- values ------------------------------------------------------------------------
    def _value(self, v):
        if isinstance(v, str) or isinstance(v, bytes):
            self._str(v)
        elif isinstance(v, bool):
            self._raw(b'true' if v else b'false')
        elif isinstance(v, int):
            self._int(v)
        elif isinstance(v, dict):
            self._byte(0x7B)
            first = True
            for k in v:
                item = v[k]
                if item is None:
                    continue  # an unset optional field is left out
                if not first:
                    self._byte(0x2C)
                first = False
                self._str(k)
                self._byte(0x3A)
                self._value(item)
            self._byte(0x7D)
        elif isinstance(v, list) or isinstance(v, tuple):
            self._byte(0x5B)
            for i in range(len(v)):
                if i:
                    self._byte(0x2C)
                self._value(v[i])
            self._byte(0x5D)
        elif isinstance(v, Timestamp):
            self._timestamp(v.s)
        elif isinstance(v, Decimal):
            if v.quoted:
                self._byte(_QUOTE)
            self._decimal(v.mantissa, v.scale)
            if v.quoted:
                self._byte(_QUOTE)
        elif isinstance(v, float):
            self._raw(repr(v).encode())  # rare: allocates, and the ESP32's floats are single
        elif v is None:
            self._raw(b'null')
        else:
            raise TypeError("cannot encode " + str(type(v)))

    def _id(self, msg_id):
        if isinstance(msg_id, int):
            self._byte(_QUOTE)
            self._int(msg_id)
            self._byte(_QUOTE)
        else:
            self._str(msg_id)

    # -- primitives --------------------------------------------------------------------
    def _overflow(self):
        raise FrameTooLarge("frame longer than the %d-byte buffer" % self.size)

    def _byte(self, b):
        if self.pos >= self.size:
            self._overflow()
        self.buf[self.pos] = b
        self.pos += 1

    def _raw(self, data):
        end = self.pos + len(data)
        if end > self.size:
            self._overflow()
        self.buf[self.pos:end] = data
        self.pos = end

    def _str(self, s):
        # Hot loop: locals instead of attributes, one bounds check for the whole string when
        # it surely fits (6 bytes per character covers \u00XX escapes and 4-byte UTF-8).
        pos = self.pos
        if pos + 6 * len(s) + 2 > self.size:
            self._str_checked(s)
            return
        buf = self.buf
        buf[pos] = _QUOTE
        pos += 1
        if isinstance(s, bytes):
            for c in s:
                if c == _QUOTE or c == _BACKSLASH or c < 0x20:
                    self.pos = pos
                    self._escape(c)
                    pos = self.pos
                else:
                    buf[pos] = c
                    pos += 1
        else:
            for ch in s:
                c = ord(ch)
                if c >= 0x80 or c == _QUOTE or c == _BACKSLASH or c < 0x20:
                    self.pos = pos
                    self._char(c)
                    pos = self.pos
                else:
                    buf[pos] = c
                    pos += 1
        buf[pos] = _QUOTE
        self.pos = pos + 1

    def _str_checked(self, s):
        """_str with a bounds check per byte, for strings near the end of the buffer."""
        self._byte(_QUOTE)
        if isinstance(s, bytes):
            for c in s:  # already UTF-8: only the ASCII specials need escaping
                if c == _QUOTE or c == _BACKSLASH or c < 0x20:
                    self._escape(c)
                else:
                    self._byte(c)
        else:
            for ch in s:
                self._char(ord(ch))
        self._byte(_QUOTE)

    def _char(self, c):
        """One character (code point c) as JSON string content."""
        if c < 0x80:
            if c == _QUOTE or c == _BACKSLASH or c < 0x20:
                self._escape(c)
            else:
                self._byte(c)
        elif c < 0x800:
            self._byte(0xC0 | (c >> 6))
            self._byte(0x80 | (c & 0x3F))
        elif c < 0x10000:
            self._byte(0xE0 | (c >> 12))
            self._byte(0x80 | ((c >> 6) & 0x3F))
            self._byte(0x80 | (c & 0x3F))
        else:
            self._byte(0xF0 | (c >> 18))
            self._byte(0x80 | ((c >> 12) & 0x3F))
            self._byte(0x80 | ((c >> 6) & 0x3F))
            self._byte(0x80 | (c & 0x3F))

    def _escape(self, c):
        self._byte(_BACKSLASH)
        if c == _QUOTE or c == _BACKSLASH:
            self._byte(c)
            return
        short = _ESCAPES.get(c)
        if short:
            self._byte(short)
            return
        self._raw(b'u00')
        self._byte(_HEX[c >> 4])
        self._byte(_HEX[c & 0xF])

    def _int(self, n, width=0):
        """Decimal digits of n, at least `width` of them (zero-padded)."""
        if n < 0:
            self._byte(0x2D)
            n = -n
        digits = 1
        p = 10
        while p <= n:
            p *= 10
            digits += 1
        while width > digits:
            self._byte(0x30)
            width -= 1
        while digits:
            p //= 10
            self._byte(0x30 + n // p % 10)
            digits -= 1

    def _decimal(self, mantissa, scale):
        if scale <= 0:
            self._int(mantissa)
            return
        if mantissa < 0:
            self._byte(0x2D)
            mantissa = -mantissa
        p = 10 ** scale
        self._int(mantissa // p)
        self._byte(0x2E)
        self._int(mantissa % p, scale)

    def _timestamp(self, s):
        days = s // 86400
        secs = s - days * 86400
        # civil date from days since 1970-01-01 (H. Hinnant's algorithm), inline so that no
        # tuple is allocated; 10957 days lie between 1970-01-01 and 2000-01-01
        days += 719468 + 10957
        era = (days if days >= 0 else days - 146096) // 146097
        doe = days - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        day = doy - (153 * mp + 2) // 5 + 1
        month = mp + 3 if mp < 10 else mp - 9
        year = yoe + era * 400 + (1 if month <= 2 else 0)
        self._byte(_QUOTE)
        self._int(year, 4)
        self._byte(0x2D)
        self._int(month, 2)
        self._byte(0x2D)
        self._int(day, 2)
        self._byte(0x54)
        self._int(secs // 3600, 2)
        self._byte(0x3A)
        self._int(secs // 60 % 60, 2)
        self._byte(0x3A)
        self._int(secs % 60, 2)
        self._byte(0x5A)
        self._byte(_QUOTE)


# -- MicroPython: json.dump writes the frame -------------------------------------------------
_SEPARATORS = (",", ":")
_EMPTY = {}  # the payload of a Heartbeat, the details of a CALLERROR without any (never written)
_STREAM_START = const(512)  # the stream's size: longer frames grow a stream that then goes
_TAILS = const(4)  # actions whose empty-payload CALL tail is kept, e.g. b'","Heartbeat",{}]'
# struct formats for a Heartbeat: the head, an id of 1 to 9 digits, the tail (zero-padded)
_HEARTBEAT = ("", "4s1s32s", "4s2s32s", "4s3s32s", "4s4s32s", "4s5s32s", "4s6s32s",
              "4s7s32s", "4s8s32s", "4s9s32s")


class StreamEncoder(ExactEncoder):
    """ExactEncoder's frames, written by the C json.dump (MicroPython only).

    After a frame, `buf` is as long as the frame (a bytearray shrinks and grows within its
    capacity without allocating): `b"<" in buf` is then a C search of this frame only, much
    cheaper to call than buf.find(b"<", 0, n). Callers use buf[:n] as before."""

    def __init__(self, size):
        super().__init__(size)
        self._cap = min(size, _STREAM_START)
        self._stream = _BytesIO(self._cap)
        self._call = [2, None, None, None]
        self._result = [3, None, None]
        self._error = [4, None, None, None, None]
        self._int_id = Decimal(0, 0, True)  # an int message id, written as a string
        self._tails = {}  # action -> (its empty-payload CALL tail, 4 + its length)
        self._digits = min(9, size - 36)  # the longest id a Heartbeat is packed with

    def call(self, msg_id, action, payload):
        global _out
        if payload == _EMPTY and type(msg_id) is str and msg_id.isdigit():
            # A Heartbeat: one struct.pack_into, no json.dump. The session's ids are digits
            # (nothing to escape), and struct copies a str's bytes without making bytes of it.
            t = self._tails.get(action) or self._tail(action)
            k = len(msg_id)
            if t is not None and k <= self._digits:
                _pack_into(_HEARTBEAT[k], self.mv, 0, b'[2,"', msg_id, t[0])
                n = self.pos = k + t[1]
                if len(self.buf) < n:
                    self.buf[:] = self.mv  # its full length again, in place
                return n
        f = self._call
        f[1] = msg_id
        if type(msg_id) is not str:
            if type(msg_id) is not int:  # bool (written "1"/"0"), bytes, anything odd
                return ExactEncoder.call(self._full(), msg_id, action, payload)
            f[1] = self._int_id
            self._int_id.mantissa = msg_id
        f[2] = action
        f[3] = payload
        # _write(f), inlined: every charge point message comes this way, and a Python call
        # costs about a microsecond on the WebAssembly port
        s = self._stream
        s.seek(0)
        _out = s
        try:
            _dump(f, s, separators=_SEPARATORS)
        except MemoryError:  # a frame beyond the stream on a full heap: ExactEncoder needs none
            _out = None
            return ExactEncoder.call(self._full(), msg_id, action, payload)
        _out = None
        n = s.tell()
        if n > self._cap and self._resize(n):  # beyond the buffer: as ExactEncoder writes it
            return ExactEncoder.call(self._full(), msg_id, action, payload)  # it may fit
        buf = self.buf
        if len(buf) != n:
            if len(buf) < n:
                buf[:] = self.mv  # its full length again, in place
            buf[n:] = b""
        s.seek(0)
        s.readinto(buf, n)
        self.pos = n
        if b":null" in buf or b"<" in buf or b"(" in buf:  # see _write
            return ExactEncoder.call(self._full(), msg_id, action, payload)
        return n

    def result(self, msg_id, payload):
        f = self._result
        f[1] = msg_id
        if type(msg_id) is not str:
            if type(msg_id) is not int:
                return ExactEncoder.result(self._full(), msg_id, payload)
            f[1] = self._int_id
            self._int_id.mantissa = msg_id
        f[2] = payload
        n = self._write(f)
        return n if n >= 0 else ExactEncoder.result(self._full(), msg_id, payload)

    def error(self, msg_id, code, description, details=None):
        f = self._error
        f[1] = msg_id
        if type(msg_id) is not str:
            if type(msg_id) is not int:
                return ExactEncoder.error(self._full(), msg_id, code, description, details)
            f[1] = self._int_id
            self._int_id.mantissa = msg_id
        f[2] = code
        f[3] = description
        f[4] = details if details else _EMPTY
        n = self._write(f)
        return n if n >= 0 else ExactEncoder.error(self._full(), msg_id, code, description,
                                                   details)

    def _write(self, frame):
        """Dump `frame` into the stream and copy it into the buffer: its length, or -1 when
        ExactEncoder must write it: json.dump's text would differ from ExactEncoder's (one of
        the markers below is in it; one inside a string only costs ExactEncoder's time), is
        longer than the buffer, or the stream could not grow."""
        global _out
        s = self._stream
        s.seek(0)
        _out = s
        try:
            _dump(frame, s, separators=_SEPARATORS)
        except MemoryError:  # a frame beyond the stream on a full heap: ExactEncoder needs none
            _out = None
            return -1
        _out = None
        n = s.tell()
        if n > self._cap and self._resize(n):  # beyond the buffer: as ExactEncoder writes it
            return -1  # it may fit (no None, \b or \f written long) or raise FrameTooLarge
        buf = self.buf
        if len(buf) != n:
            if len(buf) < n:
                buf[:] = self.mv  # its full length again, in place
            buf[n:] = b""
        s.seek(0)
        s.readinto(buf, n)
        self.pos = n
        # null: a None in a dict (left out by ExactEncoder); < and (: an object with no JSON
        # form, <object>, bytearray(b'x') (ExactEncoder raises TypeError)
        if b":null" in buf or b"<" in buf or b"(" in buf:
            return -1
        return n

    def _full(self):
        """self, its buffer at full length again (in place): ExactEncoder writes into it."""
        if len(self.buf) != self.size:
            self.buf[:] = self.mv
        return self

    def _resize(self, n):
        """The stream grew to n bytes for a frame longer than its first size: it goes, and
        one of the first size takes its place (after this frame's copy, which reads the old
        one). Steady traffic (status, meter values, answers) fits the first size; a long
        frame now and then (a GetConfiguration answer) pays for a stream of its own rather
        than every later moment carrying up to a frame buffer more of heap: a signed update
        on a plain ESP32 has no 4 KiB to spare. True when n is beyond the buffer."""
        try:
            self._stream = _BytesIO(self._cap)
        except MemoryError:
            pass  # the grown one stays until a later frame finds room
        return n > self.size

    def _tail(self, action):
        """(The empty-payload CALL tail of `action`, 4 + its length), kept for the next time;
        None when the cache is full or the tail too long for _HEARTBEAT."""
        if len(self._tails) >= _TAILS:
            return None
        try:
            n = ExactEncoder.call(self._full(), "0", action, _EMPTY)
        except FrameTooLarge:
            return None
        if n - 5 > 32:
            return None
        t = self._tails[action] = (bytes(self.mv[5:n]), n - 1)
        return t


def _stream_works():
    """Whether this port's json.dump writes frames as StreamEncoder needs (separators, a
    holder's __repr__ writing into the stream): checked once, at import."""
    try:
        enc = StreamEncoder(96)
        n = enc.call(7, "A", [Timestamp(0), Decimal(-5, 2, True), Decimal(12, 0), 1.5, "é\n"])
        return bytes(enc.buf[:n]) == \
            b'[2,"7","A",["2000-01-01T00:00:00Z","-0.05",12,1.5,"\xc3\xa9\\n"]]'
    except Exception:
        return False


if sys.implementation.name == "micropython":
    Encoder = StreamEncoder if _stream_works() else ExactEncoder
else:
    Encoder = ExactEncoder
