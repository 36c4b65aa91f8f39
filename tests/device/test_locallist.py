# Device tests of the Local Authorization List (firmware/v16/locallist.py): SendLocalList Full and
# Differential, every UpdateStatus, GetLocalListVersion, expiry, identifiers whatever their
# case, persistence, power cuts during an update, and RAM that does not grow with the list.
import gc
import json
import os

import atomicfile
import atomicpieces
import logger
from devtest import measures_heap, rmtree, tempdir
from firmware.v16.idslot import SLOT
from firmware.v16.locallist import LocalList
from firmware.v16.settings import LOCAL_LIST_MAX, SEND_LOCAL_LIST_MAX, Settings
from ocpppeer import connect

NOW = 800000000  # seconds since 2000 (2025-05-08)
PAST = "2020-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


class Box:
    """A LocalList on a real session (schema checks and CALLERRORs as on the wire)."""

    def __init__(self, folder=None, **config):
        self.folder = folder or tempdir()
        self.settings = Settings(self.folder, 1, "Core")
        for key, value in config.items():
            assert self.settings.change(key, value) == "Accepted", key
        self.path = self.folder + "/locallist.bin"
        self.local = LocalList(self.path, self.settings)
        self.peer, self.session = connect([], registration="Accepted", buffer=4096)
        self.local.register(self.session)
        self._n = 0

    async def request(self, action, payload):
        """The answer frame to a CALL: [3, id, payload] or [4, id, code, text, details]."""
        self._n += 1
        await self.session.feed(json.dumps([2, "m%d" % self._n, action, payload]).encode())
        frame = self.peer.sent[-1]
        assert frame[1] == "m%d" % self._n, frame
        return frame

    async def send(self, version, update, entries=None):
        """SendLocalList: its status, or the CALLERROR's code."""
        payload = {"listVersion": version, "updateType": update}
        if entries is not None:
            payload["localAuthorizationList"] = entries
        frame = await self.request("SendLocalList", payload)
        return frame[2]["status"] if frame[0] == 3 else frame[2]

    async def version(self):
        frame = await self.request("GetLocalListVersion", {})
        assert frame[0] == 3, frame
        return frame[2]["listVersion"]

    def status(self, tag, local=None):
        found = (local or self.local).info(tag, NOW)
        return found[0] if found else None

    def close(self):
        rmtree(self.folder)


def entry(tag, status="Accepted", expiry=None, parent=None):
    info = {"status": status}
    if expiry:
        info["expiryDate"] = expiry
    if parent:
        info["parentIdTag"] = parent
    return {"idTag": tag, "idTagInfo": info}


def removal(tag):
    return {"idTag": tag}


def tags(n, prefix="T"):
    return [entry("%s%03d" % (prefix, i)) for i in range(n)]


async def test_full_then_differential_updates_and_their_versions():
    box = Box()
    try:
        assert await box.version() == 0, "no list yet"
        assert box.status("A") is None
        assert await box.send(1, "Full", [entry("A"), entry("B", "Blocked"),
                                          entry("C", parent="FLEET"), entry("D", expiry=PAST),
                                          entry("E", expiry=FUTURE)]) == "Accepted"
        assert await box.version() == 1
        assert box.local.info("A", NOW) == ("Accepted", None)
        assert box.local.info("C", NOW) == ("Accepted", "FLEET")
        assert box.status("B") == "Blocked" and box.status("D") == "Expired"
        assert box.status("E") == "Accepted" and box.status("F") is None
        # Differential: F added, B removed, A replaced; the others stay
        assert await box.send(2, "Differential", [entry("F"), removal("B"),
                                                  entry("A", "Invalid")]) == "Accepted"
        assert await box.version() == 2
        got = [box.status(t) for t in "ABCDEF"]
        assert got == ["Invalid", None, "Accepted", "Expired", "Accepted", "Accepted"], got
        # removing what is not listed changes nothing but the version
        assert await box.send(3, "Differential", [removal("NOBODY")]) == "Accepted"
        assert await box.send(4, "Differential", []) == "Accepted"  # §6.41: no effect
        assert await box.send(5, "Differential") == "Accepted"
        assert await box.version() == 5 and box.local.count == 5
        # Full replaces the whole list
        assert await box.send(9, "Full", [entry("Z")]) == "Accepted"
        assert [box.status(t) for t in "ACZ"] == [None, None, "Accepted"]
        assert await box.version() == 9
        # a lower Full version is the central system's to choose
        assert await box.send(6, "Full", [entry("Y")]) == "Accepted"
        assert await box.version() == 6 and box.status("Z") is None
    finally:
        box.close()


async def test_an_empty_list_is_version_0_and_removes_the_file():
    box = Box()
    try:
        assert await box.send(4, "Full", [entry("A")]) == "Accepted"
        assert atomicfile.exists(box.path)
        assert await box.send(5, "Full", []) == "Accepted"  # an empty list: emptied
        assert await box.version() == 0 and box.status("A") is None
        assert not atomicfile.exists(box.path), "no list, no file: nothing to import for"
        assert await box.send(6, "Full", [entry("A")]) == "Accepted"
        assert await box.send(7, "Full") == "Accepted"  # no list at all: emptied too
        assert await box.version() == 0
        # the last identifier removed by a Differential: empty, version 0
        assert await box.send(2, "Full", [entry("A")]) == "Accepted"
        assert await box.send(3, "Differential", [removal("a")]) == "Accepted"
        assert await box.version() == 0 and not atomicfile.exists(box.path)
        # the OCTT's way of clearing the list: Full, listVersion 0, nothing in it
        assert await box.send(1, "Full", [entry("A")]) == "Accepted"
        assert await box.send(0, "Full", []) == "Accepted"
        assert await box.version() == 0 and box.status("A") is None
    finally:
        box.close()


async def test_a_differential_not_newer_than_the_list_is_a_version_mismatch():
    box = Box()
    try:
        assert await box.send(5, "Full", [entry("A")]) == "Accepted"
        for version in (5, 4, 0, -1):
            assert await box.send(version, "Differential", [entry("B")]) == "VersionMismatch", \
                version
        assert await box.version() == 5 and box.status("B") is None
        assert await box.send(6, "Differential", [entry("B")]) == "Accepted"
        # an empty list is version 0: any Differential from 1 up applies
        assert await box.send(8, "Full") == "Accepted"
        assert await box.send(0, "Differential", [entry("C")]) == "VersionMismatch"
        assert await box.send(1, "Differential", [entry("C")]) == "Accepted"
        assert await box.version() == 1 and box.status("C") == "Accepted"
    finally:
        box.close()


async def test_disabled_the_list_is_not_supported_and_kept():
    box = Box()
    try:
        assert await box.send(3, "Full", [entry("A")]) == "Accepted"
        assert box.settings.change("LocalAuthListEnabled", "false") == "Accepted"
        assert await box.version() == -1, "§5.10: -1, the charge point does not support it"
        assert await box.send(4, "Full", [entry("B")]) == "NotSupported"
        assert await box.send(4, "Differential", [entry("B")]) == "NotSupported"
        assert box.settings.change("LocalAuthListEnabled", "true") == "Accepted"
        assert await box.version() == 3 and box.status("A") == "Accepted"
        assert box.status("B") is None
    finally:
        box.close()


async def test_requests_that_break_occurrence_constraints_are_callerrors():
    box = Box()
    try:
        assert await box.send(1, "Full", [entry("KEEP")]) == "Accepted"
        many = tags(SEND_LOCAL_LIST_MAX + 1)
        for update in ("Full", "Differential"):
            assert await box.send(2, update, many) == "OccurenceConstraintViolation", update
            assert await box.send(2, update, [entry("A"), entry("B"), entry("a", "Blocked")]) \
                == "OccurenceConstraintViolation", "the same IdToken twice, in another case"
        # §7.1: idTagInfo is required in a Full update
        assert await box.send(2, "Full", [entry("A"), removal("B")]) \
            == "OccurenceConstraintViolation"
        # errata 3.52: 0 and -1 are no version of a list of identifiers
        assert await box.send(0, "Full", [entry("A")]) == "PropertyConstraintViolation"
        assert await box.send(-1, "Full", [entry("A")]) == "PropertyConstraintViolation"
        # what the schema refuses never reaches the list
        assert await box.send(2, "Sometimes", [entry("A")]) == "PropertyConstraintViolation"
        assert await box.send(2, "Full", [entry("A", "Maybe")]) == "PropertyConstraintViolation"
        assert await box.version() == 1 and box.status("KEEP") == "Accepted", "unchanged"
        assert box.status("A") is None
        # exactly SendLocalListMaxLength entries are fine; "[@^" and "{`~" are no letters
        assert await box.send(2, "Full", tags(SEND_LOCAL_LIST_MAX)) == "Accepted"
        assert await box.send(3, "Full", [entry("[@^"), entry("{`~", "Blocked")]) == "Accepted"
        assert box.status("[@^") == "Accepted" and box.status("{`~") == "Blocked"
    finally:
        box.close()


async def test_an_update_that_cannot_be_stored_fails_and_changes_nothing():
    box = Box()
    try:
        half = LOCAL_LIST_MAX // 2
        assert half <= SEND_LOCAL_LIST_MAX
        assert await box.send(1, "Full", tags(half, "A")) == "Accepted"
        assert await box.send(2, "Differential", tags(half, "B")) == "Accepted"
        assert box.local.count == LOCAL_LIST_MAX and await box.version() == 2
        # one more than LocalAuthListMaxLength
        assert await box.send(3, "Differential", [entry("ONE-MORE")]) == "Failed"
        assert await box.version() == 2 and box.status("ONE-MORE") is None
        # replacing one and adding one keeps the count: fine; removing one makes room
        assert await box.send(3, "Differential", [entry("A000", "Blocked")]) == "Accepted"
        assert await box.send(4, "Differential", [removal("B000"), entry("ONE-MORE")]) \
            == "Accepted"
        assert box.local.count == LOCAL_LIST_MAX and box.status("ONE-MORE") == "Accepted"
        # an identifier of 20 characters but 40 bytes does not fit a slot
        assert await box.send(5, "Differential", [entry("\u00e9" * 20)]) == "Failed"
        assert await box.send(5, "Full", [entry("X", parent="\u00e9" * 11)]) == "Failed"
        # a version the list cannot keep
        assert await box.send(0x80000000, "Full", [entry("X")]) == "Failed"
        # the flash write fails: here the temporary file cannot be made
        os.mkdir(box.path + ".tmp")
        try:
            assert await box.send(5, "Full", [entry("X")]) == "Failed"
        finally:
            os.rmdir(box.path + ".tmp")
        assert await box.version() == 4 and box.status("X") is None
        assert box.status("A000") == "Blocked" and box.status("B000") is None
        again = LocalList(box.path, box.settings)  # and on flash
        assert again.version == 4 and again.count == LOCAL_LIST_MAX
        assert box.status("A001", again) == "Accepted"
    finally:
        box.close()


async def test_identifiers_are_the_same_whatever_their_case():
    # OCPP 1.6 §7.28: IdToken is a case-insensitive string (CiString20Type)
    box = Box()
    try:
        assert await box.send(1, "Full", [entry("04a2b3c4", parent="Fleet-1")]) == "Accepted"
        assert box.local.info("04A2B3C4", NOW) == ("Accepted", "Fleet-1")
        assert box.status("04a2B3c4") == "Accepted" and box.status("04A2B3C5") is None
        # replaced whatever the case, in the central system's new spelling: one entry
        assert await box.send(2, "Differential", [entry("04A2B3C4", "Blocked")]) == "Accepted"
        assert box.status("04a2b3c4") == "Blocked" and box.local.count == 1
        with open(box.path, "rb") as f:
            f.seek(SLOT)
            assert f.read(SLOT)[4:12] == b"04A2B3C4"
        assert await box.send(3, "Differential", [removal("04a2B3C4")]) == "Accepted"
        assert box.status("04A2B3C4") is None
    finally:
        box.close()


async def test_the_list_survives_a_restart():
    box = Box()
    try:
        assert await box.send(7, "Full", [entry("A", parent="P"), entry("B", "Blocked"),
                                          entry("C", expiry=PAST)]) == "Accepted"
        assert await box.send(8, "Differential", [removal("B"), entry("D")]) == "Accepted"
        after = Box(box.folder)  # a new instance: the list as it was
        assert await after.version() == 8
        assert after.local.info("a", NOW) == ("Accepted", "P")
        assert [after.status(t) for t in "BCD"] == [None, "Expired", "Accepted"]
    finally:
        box.close()


async def test_expiry_is_judged_at_each_lookup():
    box = Box()
    try:
        assert await box.send(1, "Full", [entry("A", expiry="2025-05-08T12:00:00Z")]) \
            == "Accepted"
        from ocppj import rfc3339
        at = rfc3339.to_s2000("2025-05-08T12:00:00Z")
        assert box.local.info("A", at - 1) == ("Accepted", None)
        assert box.local.info("A", at) == ("Expired", None)
        assert box.local.info("A", at + 86400) == ("Expired", None)
    finally:
        box.close()


async def test_a_power_cut_during_an_update_leaves_the_old_list():
    box = Box()
    lines = []
    logger.set_sink(lines.append)
    try:
        assert await box.send(3, "Full", [entry("OLD")]) == "Accepted"
        # power lost while the new list was written: its temporary file is torn
        w = atomicpieces.Writer(box.path)
        w.write(b"\x00" * (SLOT + 20))
        del w  # no commit, no abandon: the board went dark
        gc.collect()
        after = Box(box.folder)
        assert await after.version() == 3 and after.status("OLD") == "Accepted"
        assert not atomicfile.exists(box.path + ".tmp"), "the torn temporary file is gone"
        assert [line for line in lines if "cut short" in line], lines
        # an update after that works as ever
        assert await after.send(4, "Differential", [entry("NEW")]) == "Accepted"
        assert [after.status(t) for t in ("OLD", "NEW")] == ["Accepted", "Accepted"]
    finally:
        logger.set_sink(None)
        box.close()


async def test_a_corrupt_or_torn_list_file_is_an_empty_list():
    box = Box()
    lines = []
    logger.set_sink(lines.append)
    try:
        for damage in ("flip", "cut", "header"):
            assert await box.send(5, "Full", [entry("A"), entry("B")]) == "Accepted"
            with open(box.path, "rb") as f:
                data = bytearray(f.read())
            if damage == "flip":  # a bit of B's slot changed on flash
                data[2 * SLOT + 10] ^= 0x01
            elif damage == "cut":  # written without an atomic rename and cut short
                data = data[:2 * SLOT]
            else:  # a whole, checked file that is not a list
                data = bytearray(atomicfile.read(box.path) or b"")
                data[0:4] = b"XXXX"
                atomicfile.write(box.path, bytes(data))
                data = None
            if data is not None:
                with open(box.path, "wb") as f:
                    f.write(data)
            del lines[:]
            after = Box(box.folder)
            assert await after.version() == 0, damage
            assert after.status("A") is None and after.status("B") is None, damage
            assert [line for line in lines if "not trusted" in line], (damage, lines)
            assert not atomicfile.exists(box.path), "the damaged file is gone"
            box = after
    finally:
        logger.set_sink(None)
        box.close()


@measures_heap
async def test_ram_does_not_grow_with_the_list():
    box = Box()
    try:
        half = LOCAL_LIST_MAX // 2
        full = {"listVersion": 2, "updateType": "Full", "localAuthorizationList": tags(half, "A")}
        more = {"listVersion": 3, "updateType": "Differential",
                "localAuthorizationList": tags(half, "B")}
        assert (await box.local.send_local_list({"listVersion": 1, "updateType": "Full",
                                                 "localAuthorizationList": tags(2, "W")}))
        box.status("W000")
        gc.collect()
        before = gc.mem_alloc()
        assert (await box.local.send_local_list(full))["status"] == "Accepted"
        assert (await box.local.send_local_list(more))["status"] == "Accepted"
        for i in range(0, half, 7):
            assert box.local.info("B%03d" % i, NOW)[0] == "Accepted"
        gc.collect()
        grown = gc.mem_alloc() - before
        assert grown < 256, "the list grew the heap by %d bytes" % grown
    finally:
        box.close()
