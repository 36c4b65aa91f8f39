# Strict DER (ASN.1) reading for X.509 and signatures, plus the PEM and base64 armour around it.
"""A small, strict DER reader over a buffer (bytes or memoryview): values are handed out as
(start, end) offsets into the caller's buffer, so nothing is copied until a value is decoded.

    r = der.Reader(buf)                     # the whole buffer must be one element
    s, e = r.read(der.SEQUENCE); r.finish()
    body = der.Reader(buf, s, e)
    serial = der.uint(buf, *body.read(der.INTEGER))

Strict means: lengths checked against the enclosing element, minimal length encodings only,
no indefinite lengths, no high tag numbers, nothing left over (`Reader.finish`), constructed
nesting bounded (`check`). Every problem raises DERError (a ValueError).

Also: `pem_to_der(text)` (the certificates of a PEM text, in order), `pem(label, der)` (the
other way) and `b64decode(data)`, a base64 decoder that refuses what binascii.a2b_base64 lets
through on MicroPython.
"""

import binascii

from civil import EPOCH_2000_DAYS, days_from_civil

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x


# Universal tags (class 0), with the constructed bit where DER requires it.
BOOLEAN = const(0x01)
INTEGER = const(0x02)
BIT_STRING = const(0x03)
OCTET_STRING = const(0x04)
NULL = const(0x05)
OID = const(0x06)
UTF8_STRING = const(0x0C)
PRINTABLE_STRING = const(0x13)
T61_STRING = const(0x14)
IA5_STRING = const(0x16)
UTC_TIME = const(0x17)
GENERALIZED_TIME = const(0x18)
BMP_STRING = const(0x1E)
SEQUENCE = const(0x30)
SET = const(0x31)

CONSTRUCTED = const(0x20)
CONTEXT = const(0x80)

# Deep enough for any X.509 certificate (about 7 levels), small enough to bound recursion.
MAX_DEPTH = const(16)
# Lengths are at most 3 bytes long (16 MiB): everything here is a few KiB.
_MAX_LENGTH_BYTES = const(3)


class DERError(ValueError):
    """Malformed DER, PEM or base64; the message says what and where."""


def explicit(n):
    """Tag of an EXPLICIT [n] (context-specific, constructed)."""
    return CONTEXT | CONSTRUCTED | n


def implicit(n):
    """Tag of a primitive IMPLICIT [n] (context-specific)."""
    return CONTEXT | n


def header(buf, pos, end):
    """(tag, value_start, value_end) of the element that starts at buf[pos] and must end by
    `end`."""
    if pos + 2 > end:
        raise DERError("truncated element at %d" % pos)
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise DERError("high tag number at %d" % pos)
    if tag == 0:
        raise DERError("end-of-contents tag at %d" % pos)
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        count = n & 0x7F
        if count == 0:
            raise DERError("indefinite length at %d" % (pos - 2))
        if count > _MAX_LENGTH_BYTES:
            raise DERError("length too large at %d" % (pos - 2))
        if pos + count > end:
            raise DERError("truncated length at %d" % (pos - 2))
        if buf[pos] == 0:
            raise DERError("non-minimal length at %d" % (pos - 2))
        n = 0
        for i in range(count):
            n = (n << 8) | buf[pos + i]
        if n < 0x80:
            raise DERError("non-minimal length at %d" % (pos - 2))
        pos += count
    if n > end - pos:
        raise DERError("length exceeds its container at %d" % pos)
    return tag, pos, pos + n


class Reader:
    """Walks the elements of buf[start:end] in order."""

    def __init__(self, buf, start=0, end=None):
        self.buf = buf
        self.pos = start
        self.end = len(buf) if end is None else end

    def more(self):
        return self.pos < self.end

    def peek(self):
        """Tag of the next element, or -1 at the end."""
        return self.buf[self.pos] if self.pos < self.end else -1

    def read_any(self):
        """(tag, value_start, value_end) of the next element."""
        tag, s, e = header(self.buf, self.pos, self.end)
        self.pos = e
        return tag, s, e

    def read(self, tag):
        """(value_start, value_end) of the next element, which must have this tag."""
        if self.pos >= self.end:
            raise DERError("missing element, tag 0x%02x expected at %d" % (tag, self.pos))
        got, s, e = header(self.buf, self.pos, self.end)
        if got != tag:
            raise DERError("tag 0x%02x expected at %d, got 0x%02x" % (tag, self.pos, got))
        self.pos = e
        return s, e

    def optional(self, tag):
        """(value_start, value_end) of the next element if it has this tag, else None."""
        if self.pos >= self.end or self.buf[self.pos] != tag:
            return None
        return self.read(tag)

    def element(self, tag):
        """(start, end) of the whole next element, header included (for raw names and the
        signed part of a certificate)."""
        start = self.pos
        self.read(tag)
        return start, self.pos

    def finish(self):
        """DERError unless every byte was read."""
        if self.pos != self.end:
            raise DERError("trailing data at %d" % self.pos)


def check(buf, start=0, end=None, depth=0):
    """Check that buf[start:end] is a run of well-formed elements, recursing into constructed
    ones up to MAX_DEPTH: catches garbage anywhere, including parts nobody interprets."""
    if end is None:
        end = len(buf)
    if depth > MAX_DEPTH:
        raise DERError("nested too deeply at %d" % start)
    pos = start
    while pos < end:
        tag, s, e = header(buf, pos, end)
        if tag & CONSTRUCTED:
            check(buf, s, e, depth + 1)
        pos = e


def uint(buf, s, e):
    """A non-negative INTEGER's value; DER's minimal encoding required."""
    if s >= e:
        raise DERError("empty integer at %d" % s)
    first = buf[s]
    if first & 0x80:
        raise DERError("negative integer at %d" % s)
    if first == 0 and e - s > 1 and not buf[s + 1] & 0x80:
        raise DERError("non-minimal integer at %d" % s)
    return int.from_bytes(bytes(buf[s:e]), "big")


def uint_bits(buf, s, e):
    """Bit length of the INTEGER at buf[s:e] (checked with uint first)."""
    while s < e - 1 and buf[s] == 0:
        s += 1
    first = buf[s]
    bits = (e - s) * 8
    mask = 0x80
    while mask and not first & mask:
        bits -= 1
        mask >>= 1
    return bits


def boolean(buf, s, e):
    if e - s != 1 or buf[s] not in (0x00, 0xFF):
        raise DERError("bad boolean at %d" % s)
    return buf[s] == 0xFF


def null(buf, s, e):
    if e != s:
        raise DERError("NULL with content at %d" % s)


def oid(buf, s, e):
    """An OBJECT IDENTIFIER as dotted text, "1.2.840.113549.1.1.11"."""
    if s >= e:
        raise DERError("empty OID at %d" % s)
    arcs = []
    value = 0
    fresh = True  # at the first byte of an arc: 0x80 there would be a non-minimal encoding
    for i in range(s, e):
        b = buf[i]
        if fresh and b == 0x80:
            raise DERError("non-minimal OID arc at %d" % i)
        value = (value << 7) | (b & 0x7F)
        fresh = not b & 0x80
        if fresh:
            if not arcs:  # the first byte holds two arcs: 40 * X + Y
                first = 0 if value < 40 else (1 if value < 80 else 2)
                arcs.append(str(first))
                value -= first * 40
            arcs.append(str(value))
            value = 0
    if not fresh:
        raise DERError("truncated OID at %d" % s)
    return ".".join(arcs)


def bit_string(buf, s, e):
    """(unused_bits, bytes_start, bytes_end) of a BIT STRING; DER's rules on unused bits."""
    if s >= e:
        raise DERError("empty bit string at %d" % s)
    unused = buf[s]
    if unused > 7 or (unused and e - s == 1):
        raise DERError("bad unused-bits count at %d" % s)
    if unused and buf[e - 1] & ((1 << unused) - 1):
        raise DERError("unused bits not zero at %d" % s)
    return unused, s + 1, e


def octets(buf, s, e):
    """The bytes of a BIT STRING with no unused bits (keys, signatures): (start, end)."""
    unused, s, e = bit_string(buf, s, e)
    if unused:
        raise DERError("bit string is not whole bytes at %d" % s)
    return s, e


def text(tag, buf, s, e):
    """A directory string (UTF8String, PrintableString, IA5String, T61String, BMPString)."""
    raw = bytes(buf[s:e])
    if tag == BMP_STRING:
        if len(raw) & 1:
            raise DERError("odd BMPString length at %d" % s)
        return "".join(chr(raw[i] << 8 | raw[i + 1]) for i in range(0, len(raw), 2))
    if tag in (UTF8_STRING, PRINTABLE_STRING, IA5_STRING, T61_STRING):
        try:
            return raw.decode()
        except UnicodeError:
            raise DERError("bad string encoding at %d" % s)
    raise DERError("not a string type 0x%02x at %d" % (tag, s))


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _digits(buf, pos, count):
    n = 0
    for i in range(pos, pos + count):
        c = buf[i]
        if c < 0x30 or c > 0x39:
            raise DERError("bad digit in time at %d" % i)
        n = n * 10 + c - 0x30
    return n


def time(tag, buf, s, e):
    """UTCTime or GeneralizedTime as seconds since 2000-01-01 UTC (the firmware's clock).
    RFC 5280 forms only: UTCTime YYMMDDHHMMSSZ (YY < 50 is 20YY), GeneralizedTime
    YYYYMMDDHHMMSSZ; no fractions, no offsets."""
    if tag == UTC_TIME:
        if e - s != 13:
            raise DERError("bad UTCTime length at %d" % s)
        year = _digits(buf, s, 2)
        year += 2000 if year < 50 else 1900
        pos = s + 2
    elif tag == GENERALIZED_TIME:
        if e - s != 15:
            raise DERError("bad GeneralizedTime length at %d" % s)
        year = _digits(buf, s, 4)
        pos = s + 4
    else:
        raise DERError("time expected at %d, tag 0x%02x" % (s, tag))
    if buf[e - 1] != 0x5A:  # "Z"
        raise DERError("time not in UTC at %d" % s)
    month = _digits(buf, pos, 2)
    day = _digits(buf, pos + 2, 2)
    hour = _digits(buf, pos + 4, 2)
    minute = _digits(buf, pos + 6, 2)
    second = _digits(buf, pos + 8, 2)
    if not 1 <= month <= 12 or not 1 <= day <= _MONTH_DAYS[month - 1] or hour > 23 \
            or minute > 59 or second > 59:
        raise DERError("time out of range at %d" % s)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if month == 2 and day == 29 and not leap:
        raise DERError("time out of range at %d" % s)
    return ((days_from_civil(year, month, day) - EPOCH_2000_DAYS) * 86400
            + hour * 3600 + minute * 60 + second)


def _b64value(c):
    """The 6-bit value of a base64 character code, -1 if outside the standard alphabet."""
    if 65 <= c <= 90:
        return c - 65
    if 97 <= c <= 122:
        return c - 71
    if 48 <= c <= 57:
        return c + 4
    if c == 43:
        return 62
    if c == 47:
        return 63
    return -1


def b64decode(data):
    """Strict base64 (RFC 4648 standard alphabet, padded, no whitespace): DERError on any other
    character, a bad length, misplaced padding or non-zero bits hidden by the padding.
    MicroPython's a2b_base64 skips what it does not know, so it only runs on checked input."""
    if isinstance(data, str):
        data = data.encode()
    n = len(data)
    if n == 0:
        raise DERError("base64: empty")
    if n % 4:
        raise DERError("base64: length %d is not a multiple of 4" % n)
    pad = 0
    if data[n - 1] == 61:  # "="
        pad = 2 if data[n - 2] == 61 else 1
    for i in range(n - pad):
        if _b64value(data[i]) < 0:
            raise DERError("base64: bad character at %d" % i)
    last = _b64value(data[n - pad - 1])
    if (pad == 1 and last & 3) or (pad == 2 and last & 15):
        raise DERError("base64: non-zero padding bits")
    return binascii.a2b_base64(bytes(data))


_BEGIN = "-----BEGIN CERTIFICATE-----"
_END = "-----END CERTIFICATE-----"


def pem_to_der(text):
    """The DER bytes of every CERTIFICATE block in a PEM text, in order (text outside the
    blocks, like openssl's "Bag Attributes", is ignored). DERError when there is none, a block
    is not closed, or its body is not clean base64."""
    if not isinstance(text, str):
        try:
            text = bytes(text).decode()
        except UnicodeError:
            raise DERError("PEM: not text")
    found = []
    pos = 0
    while True:
        begin = text.find(_BEGIN, pos)
        if begin < 0:
            break
        body = begin + len(_BEGIN)
        end = text.find(_END, body)
        if end < 0:
            raise DERError("PEM: certificate %d not closed" % (len(found) + 1))
        if text.find(_BEGIN, body, end) >= 0:
            raise DERError("PEM: certificate %d not closed" % (len(found) + 1))
        try:
            found.append(b64decode("".join(text[body:end].split())))
        except DERError as e:
            raise DERError("PEM: certificate %d: %s" % (len(found) + 1, e))
        pos = end + len(_END)
    if not found:
        raise DERError("PEM: no certificate")
    return found


def pem(label, data):
    """PEM text of DER `data`, 64 characters a line (RFC 7468)."""
    b64 = binascii.b2a_base64(data).replace(b"\n", b"")
    lines = ["-----BEGIN " + label + "-----"]
    for i in range(0, len(b64), 64):
        lines.append(b64[i:i + 64].decode())
    lines.append("-----END " + label + "-----\n")
    return "\n".join(lines)
