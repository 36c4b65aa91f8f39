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

The slot's format and codec are firmware/v16/idslot.py's, shared with the Local Authorization List.
"""

import os

import logger
from firmware.v16 import idslot
from firmware.v16.idslot import SLOT

log = logger.get("auth")


class AuthCache:
    def __init__(self, state_dir, capacity=64):
        self.path = state_dir + "/authcache.bin"
        self.capacity = capacity
        self._buf = bytearray(SLOT)
        self._seq = 0
        try:
            with open(self.path, "rb") as f:
                for _ in idslot.scan(f, self._buf, capacity):
                    self._seq = max(self._seq, idslot.seq(self._buf))
        except OSError:
            pass  # no cache yet
        try:
            os.remove(state_dir + "/authcache.json")  # the RAM cache of earlier versions
        except OSError:
            pass

    def _entry(self, id_tag):
        """(status, expiry_s or None, parentIdTag or None) of `id_tag`, or None."""
        tag = id_tag.encode()
        if len(tag) > idslot.TEXT:
            return None
        try:
            with open(self.path, "rb") as f:
                for _ in idslot.scan(f, self._buf, self.capacity):
                    if idslot.holds(self._buf, tag):
                        return idslot.entry(self._buf)
        except OSError:
            pass
        return None

    # -- the cache ---------------------------------------------------------------------------
    def status(self, id_tag, now_s):
        """The cached status of `id_tag` (Expired once its expiryDate has passed), or None."""
        entry = self._entry(id_tag)
        if entry is None:
            return None
        return idslot.judged(entry[0], entry[1], now_s)

    def info(self, id_tag, now_s):
        """(status as status() gives it, parentIdTag or None) of `id_tag`, or None: one
        reading of the file for both."""
        entry = self._entry(id_tag)
        if entry is None:
            return None
        return idslot.judged(entry[0], entry[1], now_s), entry[2]

    def parent(self, id_tag):
        entry = self._entry(id_tag)
        return entry[2] if entry else None

    def update(self, id_tag, id_tag_info, now_s):
        """Store the IdTagInfo received for `id_tag`."""
        tag = id_tag.encode()
        if len(tag) > idslot.TEXT:
            return
        slot = self._slot_for(tag, now_s)  # before the buffer takes the new slot
        if not idslot.pack(self._buf, tag, id_tag_info, self._seq + 1):
            return
        self._seq += 1
        self._write_slot(slot)

    def _slot_for(self, tag, now_s):
        """Where `tag`'s entry goes: its own slot, else an empty one, else the victim of
        §3.5.1 (the oldest NOT-valid entry, else the oldest valid one)."""
        used = {}
        oldest_valid = oldest_other = None
        buf = self._buf
        try:
            with open(self.path, "rb") as f:
                for i in idslot.scan(f, buf, self.capacity):
                    if idslot.holds(buf, tag):
                        return i
                    seq = idslot.seq(buf)
                    valid = idslot.valid(buf, now_s)
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
