# RFC 6455 framing: header encode/decode, masking, close payloads. No I/O here.
"""WebSocket frames (RFC 6455 §5) written into and read from caller-owned buffers.

    n = encode_header(buf, TEXT, len(payload), True, key)    # header in buf[:n]
    mask(buf, n, n + len(payload), key)                       # XOR in place

    h = Header()
    need = h.parse(hdr, 2)      # total header size; read more bytes if need > 2
    h.parse(hdr, need)          # now h.fin, h.opcode, h.length are set; h.error() says if bad

Client frames are masked with a fresh random 4-byte key each (os.urandom, or
random.getrandbits where a port has no urandom); server frames must not be masked.
"""

try:
    from os import urandom as _urandom
except ImportError:  # e.g. the WebAssembly port
    _urandom = None

CONT = 0x0
TEXT = 0x1
BINARY = 0x2
CLOSE = 0x8
PING = 0x9
PONG = 0xA

# Close codes (RFC 6455 §7.4.1)
NORMAL = 1000
GOING_AWAY = 1001
PROTOCOL_ERROR = 1002
UNSUPPORTED_DATA = 1003
NO_STATUS = 1005  # never sent: "the close frame had no code"
ABNORMAL = 1006  # never sent: "the link dropped without a close frame"
INVALID_DATA = 1007
POLICY = 1008
TOO_BIG = 1009
INTERNAL_ERROR = 1011

MAX_CONTROL = 125
MAX_HEADER = 14  # 2 + 8 (64-bit length) + 4 (mask key)


def new_key():
    """4 fresh random bytes for one frame's mask."""
    if _urandom is not None:
        return _urandom(4)
    import random
    k = bytearray(4)
    for i in range(4):
        k[i] = random.getrandbits(8)
    return bytes(k)


def encode_header(buf, opcode, length, fin=True, key=None):
    """Write a frame header into buf[0:]; returns its size (2 to 14 bytes)."""
    buf[0] = (0x80 if fin else 0) | opcode
    m = 0x80 if key is not None else 0
    if length < 126:
        buf[1] = m | length
        n = 2
    elif length < 65536:
        buf[1] = m | 126
        buf[2] = length >> 8
        buf[3] = length & 0xFF
        n = 4
    else:
        buf[1] = m | 127
        for i in range(8):
            buf[2 + i] = (length >> (56 - 8 * i)) & 0xFF
        n = 10
    if key is not None:
        for i in range(4):
            buf[n + i] = key[i]
        n += 4
    return n


def mask(buf, start, end, key, phase=0):
    """XOR buf[start:end] in place with the 4-byte key; `phase` is the payload offset of start."""
    i = start
    j = phase
    while i < end:
        buf[i] ^= key[j & 3]
        i += 1
        j += 1


def mask_copy(dst, dst_off, src, src_off, n, key, phase=0):
    """dst[dst_off:dst_off+n] = src[src_off:src_off+n] XOR key (one pass, nothing allocated)."""
    j = phase
    end = src_off + n
    while src_off < end:
        dst[dst_off] = src[src_off] ^ key[j & 3]
        dst_off += 1
        src_off += 1
        j += 1


class Header:
    """A decoded frame header (one object, reused for every frame of a connection)."""

    def __init__(self):
        self.fin = True
        self.rsv = 0
        self.opcode = 0
        self.masked = False
        self.length = 0
        self.size = 2
        self.bad_length = False

    def parse(self, buf, n):
        """Decode the header in buf[:n] (n >= 2); returns the full header size.

        When the result is larger than n, read that many bytes in all and call again."""
        b0 = buf[0]
        b1 = buf[1]
        self.fin = bool(b0 & 0x80)
        self.rsv = b0 & 0x70
        self.opcode = b0 & 0x0F
        self.masked = bool(b1 & 0x80)
        ln = b1 & 0x7F
        size = 2
        if ln == 126:
            size = 4
        elif ln == 127:
            size = 10
        if self.masked:
            size += 4
        self.size = size
        if n < size:
            return size
        self.bad_length = False
        if ln == 126:
            ln = buf[2] << 8 | buf[3]
        elif ln == 127:
            self.bad_length = bool(buf[2] & 0x80)  # the most significant bit must be 0
            ln = 0
            for i in range(2, 10):
                ln = ln << 8 | buf[i]
        self.length = ln
        return size

    def error(self):
        """Why this frame from a server breaks RFC 6455 (None if it does not): close 1002."""
        op = self.opcode
        if self.rsv:
            return "reserved bits set (no extension was negotiated)"
        if op > BINARY and op < CLOSE or op > PONG:
            return "unknown opcode 0x%x" % op
        if self.masked:
            return "masked frame from the server"
        if self.bad_length:
            return "64-bit payload length with the top bit set"
        if op >= CLOSE:
            if not self.fin:
                return "fragmented control frame"
            if self.length > MAX_CONTROL:
                return "control frame payload longer than 125 bytes"
        return None


def build_frame(opcode, payload=b"", fin=True, key=None):
    """A whole frame as bytes (for tests and rare control frames; allocates)."""
    n = len(payload)
    hdr = bytearray(MAX_HEADER)
    h = encode_header(hdr, opcode, n, fin, key)
    out = bytearray(h + n)
    out[:h] = hdr[:h]
    if key is None:
        out[h:] = payload
    else:
        mask_copy(out, h, payload, 0, n, key)
    return bytes(out)


def valid_close_code(code):
    """May this code appear in a close frame on the wire?"""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def close_payload(buf, code, reason=""):
    """Write code + UTF-8 reason (cut to fit 125 bytes) into buf; returns the length."""
    if code is None or code == NO_STATUS:
        return 0
    buf[0] = code >> 8
    buf[1] = code & 0xFF
    r = reason.encode() if isinstance(reason, str) else reason
    n = min(len(r), MAX_CONTROL - 2)
    while n and n < len(r) and (r[n] & 0xC0) == 0x80:  # do not cut a UTF-8 sequence
        n -= 1
    buf[2:2 + n] = r[:n]
    return 2 + n


def parse_close(payload):
    """(code, reason) of a received close payload; raises ValueError (code, why) if bad."""
    n = len(payload)
    if n == 0:
        return NO_STATUS, ""
    if n == 1:
        raise ValueError(PROTOCOL_ERROR, "close frame with a 1-byte payload")
    code = payload[0] << 8 | payload[1]
    if not valid_close_code(code):
        raise ValueError(PROTOCOL_ERROR, "invalid close code %d" % code)
    try:
        reason = str(bytes(payload[2:n]), "utf-8")
    except UnicodeError:
        raise ValueError(INVALID_DATA, "close reason is not UTF-8")
    return code, reason
