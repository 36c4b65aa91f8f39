# The authorization cache of OCPP 1.6 §3.5.1: the latest IdTagInfo per identifier, on flash.
"""Every IdTagInfo the central system sends (Authorize.conf, StartTransaction.conf,
StopTransaction.conf) updates the cache; entries past their expiryDate read as Expired; when
the cache is full, NOT-valid entries go first, then the oldest valid ones.

    cache = AuthCache(state_dir, capacity=64)
    cache.update("04A2B3C4", {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00Z"}, now_s)
    cache.status("04A2B3C4", now_s)     # "Accepted", "Expired", ... or None when unknown

The entries live on flash only, one fixed 64-byte slot each in `authcache.bin`: a lookup
reads the slots one at a time into one small buffer, an update rewrites one slot. RAM does
not grow with the cache (64 entries held as a dict cost about 7 KB, and saving them as JSON
made another 2-5 KB of garbage per update). A slot carries a CRC: one torn by power loss
reads as empty, a cache miss, never a wrong answer. An identifier or parentIdTag longer than
20 bytes of UTF-8 (the schema allows 20 characters) is not cached.

Identifiers are case-insensitive (IdToken, OCPP 1.6 §7.28): a lookup finds the entry whatever
the case of its ASCII letters, and an update replaces it (keeping the newest spelling).

Slot: 0 magic 0xA5, 1 status, 2 idTag length, 3 parentIdTag length, 4 idTag (20 bytes),
24 parentIdTag (20 bytes), 44 expiry (u32 seconds since 2000, 0xFFFFFFFF: none), 48 seq (u32,
higher is newer), 52 CRC-32 of bytes 0..51, 56 padding.
"""

import os
import struct

import logger
from crc import crc32
from ocppj import rfc3339

log = logger.get("auth")

SLOT = 64
_MAGIC = 0xA5
_TEXT = 20
_FORMAT = "<BBBB20s20sII"  # through seq; the CRC follows at _BODY
_BODY = 52
STATUSES = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")
_NO_EXPIRY = 0xFFFFFFFF


class AuthCache:
    def __init__(self, state_dir, capacity=64):
        self.path = state_dir + "/authcache.bin"
        self.capacity = capacity
        self._buf = bytearray(SLOT)
        self._seq = 0
        try:
            with open(self.path, "rb") as f:
                for _ in self._slots(f):
                    self._seq = max(self._seq, struct.unpack_from("<I", self._buf, 48)[0])
        except OSError:
            pass  # no cache yet
        try:
            os.remove(state_dir + "/authcache.json")  # the RAM cache of earlier versions
        except OSError:
            pass

    # -- slots -------------------------------------------------------------------------------
    def _slots(self, f):
        """Yield the index of every intact slot of open file `f`, its bytes in self._buf."""
        buf = self._buf
        for i in range(self.capacity):
            if f.readinto(buf) != SLOT:
                return
            if buf[0] == _MAGIC and buf[1] < len(STATUSES) and buf[2] <= _TEXT and \
                    buf[3] <= _TEXT and struct.unpack_from("<I", buf, _BODY)[0] == \
                    crc32(memoryview(buf)[:_BODY]):
                yield i

    def _holds(self, tag):
        """True when the slot in self._buf is `tag`'s (bytes), ASCII letters in any case."""
        buf = self._buf
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

    def _entry(self, id_tag):
        """(status, expiry_s or None, parentIdTag or None) of `id_tag`, or None."""
        tag = id_tag.encode()
        if len(tag) > _TEXT:
            return None
        try:
            with open(self.path, "rb") as f:
                for _ in self._slots(f):
                    if self._holds(tag):
                        buf = self._buf
                        expiry = struct.unpack_from("<I", buf, 44)[0]
                        parent = bytes(buf[24:24 + buf[3]]).decode() if buf[3] else None
                        return STATUSES[buf[1]], None if expiry == _NO_EXPIRY else expiry, parent
        except OSError:
            pass
        return None

    # -- the cache ---------------------------------------------------------------------------
    def status(self, id_tag, now_s):
        """The cached status of `id_tag` (Expired once its expiryDate has passed), or None."""
        entry = self._entry(id_tag)
        if entry is None:
            return None
        if entry[0] == "Accepted" and entry[1] is not None and now_s >= entry[1]:
            return "Expired"
        return entry[0]

    def info(self, id_tag, now_s):
        """(status as status() gives it, parentIdTag or None) of `id_tag`, or None: one
        reading of the file for both."""
        entry = self._entry(id_tag)
        if entry is None:
            return None
        if entry[0] == "Accepted" and entry[1] is not None and now_s >= entry[1]:
            return "Expired", entry[2]
        return entry[0], entry[2]

    def parent(self, id_tag):
        entry = self._entry(id_tag)
        return entry[2] if entry else None

    def update(self, id_tag, id_tag_info, now_s):
        """Store the IdTagInfo received for `id_tag`."""
        tag = id_tag.encode()
        parent = (id_tag_info.get("parentIdTag") or "").encode()
        status = id_tag_info["status"]
        if len(tag) > _TEXT or len(parent) > _TEXT or status not in STATUSES:
            return
        expiry = id_tag_info.get("expiryDate")
        try:
            expiry_s = min(max(0, rfc3339.to_s2000(expiry)), _NO_EXPIRY - 1) if expiry \
                else _NO_EXPIRY
        except ValueError:
            expiry_s = _NO_EXPIRY
        self._seq += 1
        slot = self._slot_for(tag, now_s)
        buf = self._buf
        struct.pack_into(_FORMAT, buf, 0, _MAGIC, STATUSES.index(status), len(tag), len(parent),
                         tag, parent, expiry_s, self._seq)
        struct.pack_into("<I", buf, _BODY, crc32(memoryview(buf)[:_BODY]))
        self._write_slot(slot)

    def _slot_for(self, tag, now_s):
        """Where `tag`'s entry goes: its own slot, else an empty one, else the victim of
        §3.5.1 (the oldest NOT-valid entry, else the oldest valid one)."""
        used = {}
        oldest_valid = oldest_other = None
        buf = self._buf
        try:
            with open(self.path, "rb") as f:
                for i in self._slots(f):
                    if self._holds(tag):
                        return i
                    seq = struct.unpack_from("<I", buf, 48)[0]
                    expiry = struct.unpack_from("<I", buf, 44)[0]
                    valid = buf[1] == 0 and (expiry == _NO_EXPIRY or now_s < expiry)
                    used[i] = seq
                    if valid and (oldest_valid is None or seq < used[oldest_valid]):
                        oldest_valid = i
                    if not valid and (oldest_other is None or seq < used[oldest_other]):
                        oldest_other = i
        except OSError:
            return 0
        for i in range(self.capacity):
            if i not in used:
                return i
        return oldest_other if oldest_other is not None else oldest_valid

    def _write_slot(self, i):
        try:
            f = open(self.path, "r+b")
        except OSError:
            f = open(self.path, "w+b")  # the first entry: a new file
        with f:
            end = f.seek(0, 2)
            if end < i * SLOT:  # slots before it were never written: empty ones
                f.write(bytes(i * SLOT - end))
            f.seek(i * SLOT)
            f.write(self._buf)
            f.flush()

    def clear(self):
        try:
            with open(self.path, "wb"):
                pass
        except OSError as e:
            log.error("authorization cache not cleared:", repr(e))
