# Device tests of the authorization cache on flash: answers, expiry, eviction order of §3.5.1,
# persistence, torn slots, and RAM that does not grow with the entries.
import gc

from devtest import measures_heap, rmtree, tempdir
from firmware.v16.authcache import SLOT, AuthCache

NOW = 800000000  # seconds since 2000


def accepted(expiry=None, parent=None):
    info = {"status": "Accepted"}
    if expiry:
        info["expiryDate"] = expiry
    if parent:
        info["parentIdTag"] = parent
    return info


def test_answers_expiry_parent_and_persistence():
    folder = tempdir()
    c = AuthCache(folder)
    assert c.status("04A2B3C4", NOW) is None
    c.update("04A2B3C4", accepted(parent="FLEET-1"), NOW)
    c.update("BLOCKED-1", {"status": "Blocked"}, NOW)
    c.update("OLD-1", accepted("2020-01-01T00:00:00Z"), NOW)
    c.update("NEW-1", accepted("2099-01-01T00:00:00Z"), NOW)
    for cache in (c, AuthCache(folder)):  # and after a reboot
        assert cache.status("04A2B3C4", NOW) == "Accepted"
        assert cache.parent("04A2B3C4") == "FLEET-1" and cache.parent("BLOCKED-1") is None
        assert cache.status("BLOCKED-1", NOW) == "Blocked"
        assert cache.status("OLD-1", NOW) == "Expired"
        assert cache.status("NEW-1", NOW) == "Accepted"
        assert cache.status("04A2B3C", NOW) is None  # a prefix is another identifier
    c.update("04A2B3C4", {"status": "Invalid"}, NOW)  # the latest IdTagInfo wins
    assert AuthCache(folder).status("04A2B3C4", NOW) == "Invalid"
    c.clear()
    assert c.status("NEW-1", NOW) is None and AuthCache(folder).status("NEW-1", NOW) is None
    rmtree(folder)


def test_identifiers_are_found_whatever_their_case():
    # OCPP 1.6 §7.28: IdToken is a case-insensitive string (CiString20Type)
    folder = tempdir()
    c = AuthCache(folder)
    c.update("04a2b3c4", accepted(parent="Fleet-1"), NOW)
    for cache in (c, AuthCache(folder)):
        assert cache.status("04A2B3C4", NOW) == "Accepted"
        assert cache.status("04a2B3c4", NOW) == "Accepted"
        assert cache.parent("04A2B3C4") == "Fleet-1"  # as the central system wrote it
        assert cache.status("04A2B3C5", NOW) is None
    c.update("04A2B3C4", {"status": "Blocked"}, NOW)  # the same identifier: one entry
    assert c.status("04a2b3c4", NOW) == "Blocked"
    with open(c.path, "rb") as f:
        assert len(f.read()) == SLOT, "one slot, not two"
    c.update("[@^", accepted(), NOW)  # "[@^" and "{`~" differ by 0x20 too, but are no letters
    assert c.status("{`~", NOW) is None and c.status("[@^", NOW) == "Accepted"
    rmtree(folder)


def test_a_full_cache_evicts_not_valid_entries_first_then_the_oldest():
    folder = tempdir()
    c = AuthCache(folder, capacity=4)
    c.update("A", accepted(), NOW)
    c.update("B", {"status": "Blocked"}, NOW)
    c.update("C", accepted(), NOW)
    c.update("D", accepted("2020-01-01T00:00:00Z"), NOW)  # expired: not valid
    c.update("E", accepted(), NOW)  # full: B goes (the oldest NOT-valid entry)
    assert c.status("B", NOW) is None and c.status("D", NOW) == "Expired"
    c.update("F", accepted(), NOW)  # then D, the last NOT-valid one
    assert c.status("D", NOW) is None
    c.update("A", accepted(), NOW)  # refreshed: now the newest
    c.update("G", accepted(), NOW)  # all valid: the oldest goes, C
    got = [t for t in "ABCDEFG" if AuthCache(folder, capacity=4).status(t, NOW) == "Accepted"]
    assert got == ["A", "E", "F", "G"], got
    rmtree(folder)


def test_a_torn_slot_is_a_miss_and_is_reused():
    folder = tempdir()
    c = AuthCache(folder)
    c.update("FIRST", accepted(), NOW)
    c.update("SECOND", accepted(), NOW)
    with open(c.path, "rb") as f:
        data = bytearray(f.read())
    data[SLOT + 10] ^= 0xFF  # power lost while SECOND's slot was written
    with open(c.path, "wb") as f:
        f.write(data)
    c = AuthCache(folder)
    assert c.status("FIRST", NOW) == "Accepted" and c.status("SECOND", NOW) is None
    c.update("THIRD", accepted(), NOW)
    with open(c.path, "rb") as f:
        assert len(f.read()) == 2 * SLOT, "the torn slot is taken again"
    assert c.status("THIRD", NOW) == "Accepted"
    rmtree(folder)


def test_too_long_identifiers_are_not_cached():
    folder = tempdir()
    c = AuthCache(folder)
    c.update("\u00e9" * 20, accepted(), NOW)  # 20 characters, 40 bytes of UTF-8
    c.update("X", accepted(parent="\u00e9" * 11), NOW)
    assert c.status("\u00e9" * 20, NOW) is None and c.status("X", NOW) is None
    rmtree(folder)


@measures_heap
def test_ram_does_not_grow_with_the_entries():
    folder = tempdir()
    c = AuthCache(folder)
    c.update("WARM-UP", accepted(), NOW)
    gc.collect()
    before = gc.mem_alloc()
    for i in range(64):
        c.update("TAG-%02d" % i, accepted("2099-01-01T00:00:00Z"), NOW)
    assert c.status("TAG-07", NOW) == "Accepted"
    gc.collect()
    grown = gc.mem_alloc() - before
    assert grown < 256, "the cache grew the heap by %d bytes" % grown
    rmtree(folder)
