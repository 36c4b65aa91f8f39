# One identifier and its IdTagInfo in a fixed 64-byte, CRC-checked slot: the flash format of
# the authorization cache (authcache.py) and of the Local Authorization List (locallist.py).
"""Both keep their entries on flash, one slot each, and read them one at a time into one
small buffer, so RAM does not grow with the entries. The functions below work on that
buffer (a bytearray of SLOT bytes):

    buf = bytearray(idslot.SLOT)
    idslot.pack(buf, b"04A2B3C4", {"status": "Accepted", "parentIdTag": "FLEET"}, seq=1)
    for i in idslot.scan(f, buf, 64):      # the intact slots of an open file, in buf
        if idslot.holds(buf, b"04a2b3c4"):  # ASCII letters in any case (IdToken, §7.28)
            status, expiry_s, parent = idslot.entry(buf)
            idslot.judged(status, expiry_s, now_s)   # "Expired" once expiryDate has passed

A slot whose CRC does not match (torn by power loss) is skipped by scan(): a miss, never a
wrong answer. An identifier or parentIdTag longer than 20 bytes of UTF-8 (the schema allows
20 characters) does not fit: pack() says so and the caller decides (the cache drops it, the
list refuses the update).

Slot: 0 magic 0xA5, 1 status, 2 idTag length, 3 parentIdTag length, 4 idTag (20 bytes),
24 parentIdTag (20 bytes), 44 expiry (u32 seconds since 2000, 0xFFFFFFFF: none), 48 seq (u32,
higher is newer), 52 CRC-32 of bytes 0..51, 56 padding.
"""

import struct

from crc import crc32
from ocppj import rfc3339

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

SLOT = 64
TEXT = 20  # bytes of an idTag or parentIdTag (IdToken, CiString20Type)
# Private constants are const(): kept out of the module's dict, which every start holds
_MAGIC = const(0xA5)
_FORMAT = const("<BBBB20s20sII")  # through seq; the CRC follows at _BODY
_BODY = const(52)
_STATUSES = const(("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"))
_NO_EXPIRY = const(0xFFFFFFFF)


def pack(buf, tag, id_tag_info, seq):
    """Fill `buf` with the slot of `tag` (bytes) and its IdTagInfo; False (buf unchanged)
    when it does not fit: an identifier or parentIdTag over 20 bytes, an unknown status."""
    parent = (id_tag_info.get("parentIdTag") or "").encode()
    status = id_tag_info["status"]
    if len(tag) > TEXT or len(parent) > TEXT or status not in _STATUSES:
        return False
    expiry = id_tag_info.get("expiryDate")
    try:
        expiry_s = min(max(0, rfc3339.to_s2000(expiry)), _NO_EXPIRY - 1) if expiry \
            else _NO_EXPIRY
    except ValueError:
        expiry_s = _NO_EXPIRY
    struct.pack_into(_FORMAT, buf, 0, _MAGIC, _STATUSES.index(status), len(tag), len(parent),
                     tag, parent, expiry_s, seq)
    struct.pack_into("<I", buf, _BODY, crc32(memoryview(buf)[:_BODY]))
    return True


def intact(buf):
    """True when `buf` holds a slot written whole (magic, bounds and CRC)."""
    return buf[0] == _MAGIC and buf[1] < len(_STATUSES) and buf[2] <= TEXT and \
        buf[3] <= TEXT and struct.unpack_from("<I", buf, _BODY)[0] == \
        crc32(memoryview(buf)[:_BODY])


def scan(f, buf, n):
    """Yield the index of every intact slot among the next `n` of open file `f`, its bytes
    in `buf`; stops at the end of the file."""
    for i in range(n):
        if f.readinto(buf) != SLOT:
            return
        if intact(buf):
            yield i


def holds(buf, tag):
    """True when the slot in `buf` is `tag`'s (bytes), ASCII letters in any case."""
    n = len(tag)
    if buf[2] != n:
        return False
    for k in range(n):
        a = buf[4 + k]
        b = tag[k]
        if a != b:
            if 65 <= a <= 90:  # A-Z -> a-z
                a += 32
            if 65 <= b <= 90:
                b += 32
            if a != b:
                return False
    return True


def key(buf):
    """The identifier of the slot in `buf` as bytes with ASCII letters in lower case: one
    spelling per IdToken, to look it up in a dict of such keys."""
    return bytes(buf[4:4 + buf[2]]).lower()


def entry(buf):
    """(status, expiry in s since 2000 or None, parentIdTag or None) of the slot in `buf`."""
    expiry = struct.unpack_from("<I", buf, 44)[0]
    parent = bytes(buf[24:24 + buf[3]]).decode() if buf[3] else None
    return _STATUSES[buf[1]], None if expiry == _NO_EXPIRY else expiry, parent


def seq(buf):
    return struct.unpack_from("<I", buf, 48)[0]


def valid(buf, now_s):
    """Accepted and not past its expiryDate (§3.5.1: a valid entry)."""
    expiry = struct.unpack_from("<I", buf, 44)[0]
    return buf[1] == 0 and (expiry == _NO_EXPIRY or now_s < expiry)


def judged(status, expiry_s, now_s):
    """The status an entry reads as now: Accepted turns Expired once its expiryDate passed."""
    if status == "Accepted" and expiry_s is not None and now_s >= expiry_s:
        return "Expired"
    return status
