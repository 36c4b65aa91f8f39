# The Local Authorization List of OCPP 1.6 §3.5.2 on flash, and the messages that manage it:
# SendLocalList (§5.15) and GetLocalListVersion (§5.10).
"""    local = LocalList(state_dir + "/locallist.bin", settings, session)
                                             # its handlers: SendLocalList, GetLocalListVersion
    local.info("04A2B3C4", now_s)            # (status, parentIdTag) or None when not listed
    local.version                            # 0: the list is empty

Made by the application at the first of those requests, or for an authorization when a list
file exists (lib/lazy.py, firmware/app.py): a charging session without a list never imports
this module. The Authorizer (firmware/v16/authorize.py) asks it before the cache (§3.5.3).

The file: a header slot, then one 64-byte slot per identifier in firmware/v16/idslot.py's format
(the authorization cache's), then lib/atomicfile.py's trailer (length and CRC-32 of the whole).
A lookup reads the slots one at a time into one small buffer: RAM does not grow with the list.
Every update, Full or Differential, writes the complete new list to a temporary file, version
in its header, and renames it over the old one: after a power cut there is the old list with
its old version or the new one with the new version, never a mix. A file whose CRC, header or
length does not match is not trusted: it is removed, with a log line, and the list is empty
(version 0); a temporary file left by a cut update is removed at start.

The version: an empty list has none (§5.10: 0 means the list is empty), so an update that
leaves the list empty removes the file and the version is 0; a Differential then compares its
listVersion with that 0. With LocalAuthListEnabled false the profile is switched off:
GetLocalListVersion answers -1 (§5.10: "does not support Local Authorization Lists") and
SendLocalList NotSupported (§7.47: "Update of Local Authorization List is not supported"),
and the Authorizer does not consult the list; the list on flash stays for when it is enabled
again. (EVerest and MicroOcpp answer the same, for the compliance test tool's "not supported"
cases, which switch LocalAuthListEnabled off; OCPP 2.0.1's D02.FR.03 says 0 instead.)

SendLocalList, in this order:
- NotSupported: LocalAuthListEnabled is false.
- CALLERROR OccurenceConstraintViolation when the request breaks a constraint on how often
  its elements occur (OCPP-J 1.6 §4.2.3: "at least one of the fields violates occurence
  constraints"), which no status states: more AuthorizationData than SendLocalListMaxLength
  (§6.41 makes that key the element's maximum), an idTag twice, ASCII case aside (§6.41: "All
  idTags ... MUST be unique", IdToken being case-insensitive, §7.28), or an entry of a Full
  update without idTagInfo (§7.1: "Required when UpdateType is Full"). Such a request is not
  applied in part: nothing changes. Failed would say the charge point could not apply a valid
  update, and a central system that retries with a Full list (§5.15) would only repeat it.
- VersionMismatch: a Differential whose listVersion is not greater than the list's (§7.47).
- CALLERROR PropertyConstraintViolation: a Full list of identifiers with a listVersion below
  1 (errata 3.52: 0 and -1 are not list versions; 0 would report the list empty). A Full
  update that empties the list may say 0: the version of an empty list is 0 anyway (and the
  OCTT clears the list so).
- Failed: the list would hold more than LocalAuthListMaxLength identifiers, an idTag or
  parentIdTag over 20 bytes of UTF-8 (the slot's room), a listVersion over 2^31 - 1, or the
  flash write failed. The list and its version stay as they were.
- Accepted otherwise: Full replaces the list (none or an empty localAuthorizationList empties
  it), Differential adds or replaces the entries with idTagInfo (keeping the central system's
  spelling) and removes those without; the list takes listVersion.

The Charge Point never changes the list by other means (§3.5.2).
"""

import os
import struct

import atomicfile
import atomicpieces
import logger
from firmware.v16 import idslot
from firmware.v16.idslot import SLOT
from firmware.v16.settings import LOCAL_LIST_MAX, SEND_LOCAL_LIST_MAX
from ocppj import errors
from ticks import sleep_ms

log = logger.get("locallist")

_MAGIC = b"LAL1"
_HEADER = "<4siI"  # magic, listVersion, number of identifiers; the rest of the slot is zero
_MAX_VERSION = 0x7FFFFFFF
_CHUNK = 8  # slots written between two turns of the event loop


class LocalList:
    def __init__(self, path, settings, session=None):
        self.path = path
        self.settings = settings  # LocalAuthListEnabled
        self.version = 0
        self.count = 0
        self._buf = bytearray(SLOT)
        self._updating = False
        self._load()
        if session is not None:  # None: a list used without the messages (tests)
            self.register(session)

    # -- the list on flash -------------------------------------------------------------------
    def _load(self):
        if atomicfile.exists(self.path + ".tmp"):
            log.warn("an update of the local authorization list was cut short: the list before"
                     " it stays")
            _remove(self.path + ".tmp")
        buf = self._buf
        try:
            length = atomicpieces.check(self.path, buf)
            if length is None:
                if atomicfile.exists(self.path):
                    self._drop("its CRC does not match")
                log.info("local authorization list: empty")
                return
            with open(self.path, "rb") as f:
                f.readinto(buf)
        except OSError as e:
            self._drop(repr(e))
            return
        magic, version, count = struct.unpack_from(_HEADER, buf, 0)
        if magic != _MAGIC or not 0 < count <= LOCAL_LIST_MAX or version < 1 or \
                length != SLOT * (1 + count):
            self._drop("its header does not match")
            return
        self.version = version
        self.count = count
        log.info("local authorization list version %d: %d identifiers" % (version, count))

    def _drop(self, why):
        log.error("local authorization list file not trusted (%s): the list is empty" % why)
        _remove(self.path)

    def info(self, id_tag, now_s):
        """(status, parentIdTag or None) of `id_tag` in the list, or None when it is not
        listed; an Accepted entry past its expiryDate reads Expired."""
        tag = id_tag.encode()
        if not self.count or len(tag) > idslot.TEXT:
            return None
        buf = self._buf
        try:
            with open(self.path, "rb") as f:
                f.seek(SLOT)
                for _ in idslot.scan(f, buf, self.count):
                    if idslot.holds(buf, tag):
                        status, expiry_s, parent = idslot.entry(buf)
                        return idslot.judged(status, expiry_s, now_s), parent
        except OSError as e:
            log.error("local authorization list unreadable:", repr(e))
        return None

    def _merged(self, buf, entries, keys, full):
        """Yield once per slot of the list after the update, its bytes in `buf`; a ValueError
        when an entry does not fit a slot, an OSError when the old list cannot be read whole."""
        done = bytearray(len(entries))  # the entries found in the old list
        if not full and self.count:
            with open(self.path, "rb") as f:
                f.seek(SLOT)
                for _ in range(self.count):
                    if f.readinto(buf) != SLOT or not idslot.intact(buf):
                        raise OSError("slot damaged since the list was loaded")
                    i = keys.get(idslot.key(buf))
                    if i is None:
                        yield  # kept as it is
                        continue
                    done[i] = 1
                    if "idTagInfo" in entries[i]:  # replaced; without: removed
                        _pack(buf, entries[i])
                        yield
        for i in range(len(entries)):
            if not done[i] and "idTagInfo" in entries[i]:
                _pack(buf, entries[i])
                yield

    async def _update(self, version, entries, keys, full):
        """Write the list after the update and put it in the old one's place: the status.
        The loop gets a turn every _CHUNK slots; a lookup meanwhile reads the old list, whole
        until the rename, with its own buffer."""
        buf = bytearray(SLOT)
        count = 0
        for _ in self._merged(buf, entries, keys, full):  # first how many there will be
            count += 1
            if not count % _CHUNK:
                await sleep_ms(0)
        if count > LOCAL_LIST_MAX:
            log.warn("SendLocalList: %d identifiers, LocalAuthListMaxLength is %d"
                     % (count, LOCAL_LIST_MAX))
            return "Failed"
        if not count:  # an empty list has no version (§5.10)
            if atomicfile.exists(self.path):
                os.remove(self.path)
            self.version = self.count = 0
            return "Accepted"
        w = atomicpieces.Writer(self.path)
        try:
            for i in range(SLOT):
                buf[i] = 0
            struct.pack_into(_HEADER, buf, 0, _MAGIC, version, count)
            w.write(buf)
            n = 0
            for _ in self._merged(buf, entries, keys, full):
                w.write(buf)
                n += 1
                if not n % _CHUNK:
                    await sleep_ms(0)
            if n != count:
                raise OSError("the old list changed while it was copied")
            w.commit()
        except BaseException:
            w.abandon()
            raise
        self.version = version
        self.count = count
        return "Accepted"

    # -- the messages --------------------------------------------------------------------------
    def register(self, session):
        session.handlers["SendLocalList"] = self.send_local_list
        session.handlers["GetLocalListVersion"] = self.get_local_list_version

    def get_local_list_version(self, p):
        if not self.settings.get("LocalAuthListEnabled"):
            return {"listVersion": -1}
        return {"listVersion": self.version}

    async def send_local_list(self, p):
        if not self.settings.get("LocalAuthListEnabled"):
            return {"status": "NotSupported"}
        full = p["updateType"] == "Full"
        entries = p.get("localAuthorizationList") or []
        keys = _keys(entries, full)
        version = p["listVersion"]
        if not full and version <= self.version:
            log.info("SendLocalList Differential %d: the list is at version %d"
                     % (version, self.version))
            return {"status": "VersionMismatch"}
        if full and entries and version < 1:
            raise errors.CallError(errors.PROPERTY_CONSTRAINT_VIOLATION,
                                   "listVersion %d: 0 and -1 are not list versions" % version)
        if version > _MAX_VERSION or self._updating:
            return {"status": "Failed"}
        self._updating = True
        try:
            status = await self._update(version, entries, keys, full)
        except (OSError, ValueError) as e:
            log.error("SendLocalList failed, the list stays at version %d:" % self.version,
                      repr(e))
            status = "Failed"
        finally:
            self._updating = False
        log.info("SendLocalList %s %d: %s, %d identifiers" % (p["updateType"], version, status,
                                                               self.count))
        return {"status": status}


def _pack(buf, entry):
    if not idslot.pack(buf, entry["idTag"].encode(), entry["idTagInfo"], 0):
        raise ValueError("idTag %s: an idTag or parentIdTag over 20 bytes" % entry["idTag"])


def _remove(path):
    try:
        os.remove(path)
    except OSError as e:
        log.error("cannot remove", path + ":", repr(e))


def _keys(entries, full):
    """{idTag as idslot.key() spells it: its index} of the request's entries; a CallError
    (OccurenceConstraintViolation) when the request breaks a constraint on occurrences."""
    if len(entries) > SEND_LOCAL_LIST_MAX:
        raise errors.CallError(errors.OCCURENCE_CONSTRAINT_VIOLATION,
                               "%d entries, SendLocalListMaxLength is %d"
                               % (len(entries), SEND_LOCAL_LIST_MAX))
    keys = {}
    for i in range(len(entries)):
        e = entries[i]
        key = e["idTag"].encode().lower()
        if key in keys:
            raise errors.CallError(errors.OCCURENCE_CONSTRAINT_VIOLATION,
                                   "idTag %s is in the list twice" % e["idTag"])
        if full and "idTagInfo" not in e:
            raise errors.CallError(errors.OCCURENCE_CONSTRAINT_VIOLATION,
                                   "idTag %s: a Full update needs its idTagInfo" % e["idTag"])
        keys[key] = i
    return keys
