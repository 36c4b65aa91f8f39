# Device tests of the authorization order of OCPP 1.6 §3.5 with a Local Authorization List:
# the list before the cache, for every combination of the configuration keys, online and
# offline; what the cache keeps. (The application's lazy way to the list: test_locallist_e2e.)
from devtest import rmtree, tempdir
from firmware.v16.authcache import AuthCache
from firmware.v16.authorize import Authorizer
from firmware.v16.locallist import LocalList
from firmware.v16.settings import Settings
from ocpppeer import connect

NOW = 800000000  # seconds since 2000
PAST = "2020-01-01T00:00:00Z"
CS_PARENT = "FROM-CS"  # the parentIdTag of every Authorize.conf here: the answer's mark

# idTag: (its list entry's IdTagInfo or None, its cache entry's IdTagInfo or None)
CARDS = {
    "LIST-OK": ({"status": "Accepted", "parentIdTag": "L"}, None),
    "LIST-BLOCKED": ({"status": "Blocked"}, None),
    "LIST-OLD": ({"status": "Accepted", "expiryDate": PAST}, None),
    "LIST-OK-CACHE-BAD": ({"status": "Accepted", "parentIdTag": "L"}, {"status": "Blocked"}),
    "LIST-BAD-CACHE-OK": ({"status": "Invalid"}, {"status": "Accepted", "parentIdTag": "C"}),
    "CACHE-OK": (None, {"status": "Accepted", "parentIdTag": "C"}),
    "CACHE-BLOCKED": (None, {"status": "Blocked"}),
    "UNKNOWN": (None, None),
}


def bool_text(flag):
    return "true" if flag else "false"


class Setup:
    """A list and a cache holding CARDS, an Authorizer over them, on or off line."""

    def __init__(self, online, **keys):
        self.folder = tempdir()
        self.settings = Settings(self.folder, 1, "Core")
        self.keys = keys
        self.cache = AuthCache(self.folder)
        for tag, (_, cached) in CARDS.items():
            if cached:
                self.cache.update(tag, cached, NOW)
        self.local = LocalList(self.folder + "/locallist.bin", self.settings)
        listed = [{"idTag": tag, "idTagInfo": info} for tag, (info, _) in CARDS.items() if info]
        self.listed = listed
        authorize = [3, {"idTagInfo": {"status": "Accepted", "parentIdTag": CS_PARENT}}]
        self.peer, self.session = connect([authorize] * 20, connected=online,
                                          registration="Accepted" if online else None)
        self.authorizer = Authorizer(self.session, self.settings, self.cache, lambda: NOW,
                                     lambda: self.local)

    async def fill(self):
        answer = await self.local.send_local_list({"listVersion": 1, "updateType": "Full",
                                                   "localAuthorizationList": self.listed})
        assert answer["status"] == "Accepted", answer
        for key, value in self.keys.items():  # LocalAuthListEnabled too: after the list
            assert self.settings.change(key, bool_text(value)) == "Accepted", key

    def asked(self):
        return [frame[3]["idTag"] for frame in self.peer.sent if frame[2] == "Authorize"]

    def close(self):
        rmtree(self.folder)


def expected(tag, online, enabled, pre, offline_ok, unknown_ok):
    """§3.5 as the spec words it: (status, parentIdTag, an Authorize.req sent)."""
    listed, cached = CARDS[tag]
    entry = listed if enabled and listed else cached  # §3.5.3: the list has priority
    status = parent = None
    if entry:
        status = entry["status"]
        if status == "Accepted" and entry.get("expiryDate") == PAST:
            status = "Expired"  # §3.5.4: apparently expired by the passage of time
        parent = entry.get("parentIdTag")
    if status == "Accepted" and pre:
        return "Accepted", parent, False  # LocalPreAuthorize: no waiting for the answer
    if online:
        return "Accepted", CS_PARENT, True  # the central system decides
    if status == "Accepted":
        return ("Accepted" if offline_ok else "Invalid"), parent, False  # LocalAuthorizeOffline
    if status is None:
        return ("Accepted" if unknown_ok else "Invalid"), parent, False  # §3.5.4
    return status, parent, False  # listed or cached as not valid: refused offline


async def test_the_list_comes_before_the_cache_in_every_configuration():
    checked = 0
    for online in (True, False):
        for enabled in (True, False):
            for pre in (True, False):
                for offline_ok in (True, False):
                    for unknown_ok in (True, False):
                        s = Setup(online, LocalAuthListEnabled=enabled, LocalPreAuthorize=pre,
                                  LocalAuthorizeOffline=offline_ok,
                                  AllowOfflineTxForUnknownId=unknown_ok)
                        try:
                            await s.fill()
                            for tag in CARDS:
                                before = len(s.asked())
                                got = await s.authorizer.check(tag)
                                want = expected(tag, online, enabled, pre, offline_ok,
                                                unknown_ok)
                                asked = len(s.asked()) > before
                                assert (got[0], got[1], asked) == want, (
                                    tag, "online" if online else "offline", "list on"
                                    if enabled else "list off", "pre" if pre else "-",
                                    "offline ok" if offline_ok else "-",
                                    "unknown ok" if unknown_ok else "-", got, asked, want)
                                checked += 1
                        finally:
                            s.close()
    assert checked == 32 * len(CARDS), checked


async def test_offline_a_listed_card_charges_a_removed_or_blocked_one_does_not():
    s = Setup(False)  # the defaults: LocalAuthorizeOffline true, AllowOfflineTxForUnknownId false
    try:
        await s.fill()
        assert (await s.authorizer.check("list-ok")) == ("Accepted", "L"), "any case"
        assert await s.authorizer.authorize("LIST-BLOCKED") == "Blocked"
        assert await s.authorizer.authorize("LIST-OLD") == "Expired"
        answer = await s.local.send_local_list({
            "listVersion": 2, "updateType": "Differential",
            "localAuthorizationList": [{"idTag": "LIST-OK"}]})
        assert answer["status"] == "Accepted"
        assert await s.authorizer.authorize("LIST-OK") == "Invalid", "removed: unknown now"
        assert not s.asked()
    finally:
        s.close()


async def test_identifiers_of_the_list_do_not_go_into_the_cache():
    s = Setup(True)
    try:
        await s.fill()
        assert (await s.authorizer.check("LIST-BLOCKED"))[0] == "Accepted", "the CS says so"
        assert s.asked() == ["LIST-BLOCKED"]
        assert s.cache.status("LIST-BLOCKED", NOW) is None, "§3.5.3: not added to the cache"
        # a StartTransaction.conf's IdTagInfo neither, whatever the case
        s.authorizer.remember("list-ok", {"status": "Blocked"})
        assert s.cache.status("LIST-OK", NOW) is None
        # one not listed is cached as ever
        await s.authorizer.check("NEW-ONE")
        assert s.cache.status("NEW-ONE", NOW) == "Accepted"
        # with the list switched off, the cache takes every identifier
        assert s.settings.change("LocalAuthListEnabled", "false") == "Accepted"
        s.authorizer.remember("LIST-OK", {"status": "Blocked"})
        assert s.cache.status("LIST-OK", NOW) == "Blocked"
    finally:
        s.close()

