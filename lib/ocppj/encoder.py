# OCPP-J frame encoder: CALL, CALLRESULT and CALLERROR written straight into one fixed buffer.
"""Fixed-buffer JSON encoder for OCPP-J frames.

    enc = Encoder(4096)
    n = enc.call(17, "Heartbeat", {})           # enc.buf[:n] is b'[2,"17","Heartbeat",{}]'
    await ws.send(enc.buf, n)                    # valid until the next encode

Nothing is allocated while encoding: values are written character by character into the
preallocated bytearray (str iteration, dict iteration and integer arithmetic do not touch
the heap on MicroPython). Payloads are dicts, lists/tuples, str, bytes (taken as UTF-8 text),
int, bool, and two mutable holders that let a hot path reuse one payload dict forever:
`Timestamp` (seconds since 2000-01-01, written as RFC 3339) and `Decimal` (an integer
mantissa and a count of decimals, written as a JSON number or, for OCPP 1.6 meter values, as
a string). A None value in a dict means "field not set": it is left out.

A frame that does not fit raises FrameTooLarge; the buffer then holds nothing useful.
"""

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

_QUOTE = const(0x22)
_BACKSLASH = const(0x5C)
_HEX = b"0123456789abcdef"
_ESCAPES = {0x08: 0x62, 0x09: 0x74, 0x0A: 0x6E, 0x0C: 0x66, 0x0D: 0x72}  # \b \t \n \f \r


class FrameTooLarge(Exception):
    pass


class Timestamp:
    """A date-time value: `s` is seconds since 2000-01-01 UTC (the firmware's clock: small
    ints until 2034, so writing it allocates nothing even on the ESP32)."""

    def __init__(self, s=0):
        self.s = s


class Decimal:
    """A decimal value `mantissa / 10**scale`, e.g. Decimal(12345, 1) is 1234.5."""

    def __init__(self, mantissa=0, scale=0, quoted=False):
        self.mantissa = mantissa
        self.scale = scale
        self.quoted = quoted  # OCPP 1.6 SampledValue.value is a string


class Encoder:
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
