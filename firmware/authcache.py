# The authorization cache of OCPP 1.6 §3.5.1: the latest IdTagInfo per identifier, on flash.
"""Every IdTagInfo the central system sends (Authorize.conf, StartTransaction.conf,
StopTransaction.conf) updates the cache; entries past their expiryDate read as Expired; when
the cache is full, NOT-valid entries go first, then the oldest valid ones. The cache is kept
in one power-loss-safe file, so it survives reboots.

    cache = AuthCache(state_dir, capacity=64)
    cache.update("04A2B3C4", {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00Z"}, now_s)
    cache.status("04A2B3C4", now_s)     # "Accepted", "Expired", ... or None when unknown
"""

import json

import atomicfile
import logger
from ocppj import rfc3339

log = logger.get("auth")


class AuthCache:
    def __init__(self, state_dir, capacity=64):
        self.path = state_dir + "/authcache.json"
        self.capacity = capacity
        self._seq = 0
        raw = atomicfile.read(self.path)
        self.entries = {}  # idTag -> [status, expiry_s or None, parentIdTag or None, seq]
        if raw:
            try:
                self.entries = json.loads(raw)
            except ValueError:
                log.warn("authorization cache unreadable: starting empty")
        for entry in self.entries.values():
            self._seq = max(self._seq, entry[3])

    def _save(self):
        atomicfile.write(self.path, json.dumps(self.entries))

    def status(self, id_tag, now_s):
        """The cached status of `id_tag` (Expired once its expiryDate has passed), or None."""
        entry = self.entries.get(id_tag)
        if entry is None:
            return None
        if entry[0] == "Accepted" and entry[1] is not None and now_s >= entry[1]:
            return "Expired"
        return entry[0]

    def parent(self, id_tag):
        entry = self.entries.get(id_tag)
        return entry[2] if entry else None

    def update(self, id_tag, id_tag_info, now_s):
        """Store the IdTagInfo received for `id_tag`."""
        expiry = id_tag_info.get("expiryDate")
        try:
            expiry_s = rfc3339.to_s2000(expiry) if expiry else None
        except ValueError:
            expiry_s = None
        self._seq += 1
        self.entries[id_tag] = [id_tag_info["status"], expiry_s, id_tag_info.get("parentIdTag"),
                                self._seq]
        while len(self.entries) > self.capacity:
            self._evict(now_s)
        self._save()

    def _evict(self, now_s):
        # OCPP 1.6 §3.5.1: remove NOT-valid entries first, then the oldest valid one
        victim = None
        for tag in self.entries:
            if self.status(tag, now_s) != "Accepted":
                victim = tag
                break
        if victim is None:
            oldest = None
            for tag in self.entries:
                if oldest is None or self.entries[tag][3] < self.entries[oldest][3]:
                    oldest = tag
            victim = oldest
        del self.entries[victim]

    def clear(self):
        self.entries = {}
        self._save()
