# Who may charge: the authorization decision of OCPP 1.6 §3.5 and §4.1 in one place.
"""`Authorizer.authorize(id_tag)` answers "Accepted" or the reason for refusal, asking the
central system when it can and using the Local Authorization List, then the cache, by the
configuration keys when it may:

- LocalPreAuthorize: a valid cached identifier starts at once, without waiting for Authorize;
- online: Authorize.req, and the answer updates the cache;
- offline (or no answer): LocalAuthorizeOffline lets a valid cached identifier charge;
  AllowOfflineTxForUnknownId lets an identifier the cache does not know charge; one the cache
  knows as not valid (or expired) is refused (§3.5.4);
- a cached NOT-valid identifier is checked again with the central system when online.

The Local Authorization List (firmware/v16/locallist.py), with LocalAuthListEnabled, comes first
(§3.5.3: its entries have priority over the cache's): an identifier it lists is decided by its
entry under the same rules, the cache is not asked, and no IdTagInfo received for it goes
into the cache (§3.5.3, §4.1: "if the idTag is not in the Local Authorization List").

`check(id_tag)` answers the same with the identifier's parentIdTag (None when unknown): the
group a card belongs to (§3.10), from the answer or the cache.
"""

import logger
from ocppj import errors
from ocppj.session import CallTimeout, NotConnected

log = logger.get("auth")


class Authorizer:
    def __init__(self, session, settings, cache, clock, local_list=None):
        self.session = session
        self.settings = settings  # .get(key) -> typed value
        self.cache = cache
        self.clock = clock  # fn() -> seconds since 2000
        # fn() -> the LocalList, or None when there is none (its module not imported then)
        self.local_list = local_list

    def _listed(self, id_tag):
        """(status, parentIdTag) of `id_tag` in the Local Authorization List, or None."""
        if self.local_list is None or not self.settings.get("LocalAuthListEnabled"):
            return None
        found = self.local_list()
        return found.info(id_tag, self.clock()) if found is not None else None

    def cached(self, id_tag):
        if not self.settings.get("AuthorizationCacheEnabled"):
            return None
        return self.cache.status(id_tag, self.clock())

    def _cached_info(self, id_tag):
        if not self.settings.get("AuthorizationCacheEnabled"):
            return None
        return self.cache.info(id_tag, self.clock())

    def parent(self, id_tag):
        """The parentIdTag the cache knows for `id_tag` (None: none or unknown), without
        asking: for answers that cannot wait for an Authorize (a reservation's group at
        RemoteStartTransaction)."""
        entry = self._cached_info(id_tag)
        return entry[1] if entry else None

    def remember(self, id_tag, id_tag_info):
        """Every IdTagInfo received goes into the cache (§3.5.1), unless the identifier is
        in the Local Authorization List (§3.5.3)."""
        if self.settings.get("AuthorizationCacheEnabled") and self._listed(id_tag) is None:
            self.cache.update(id_tag, id_tag_info, self.clock())

    async def authorize(self, id_tag):
        """"Accepted", or the IdTagInfo status that refuses `id_tag`."""
        return (await self.check(id_tag))[0]

    async def check(self, id_tag):
        """(status as authorize() gives it, parentIdTag or None)."""
        entry = self._listed(id_tag) or self._cached_info(id_tag)
        cached = entry[0] if entry else None
        parent = entry[1] if entry else None
        if cached == "Accepted" and self.settings.get("LocalPreAuthorize"):
            return "Accepted", parent
        online = self.session.connected and self.session.registration == "Accepted"
        if online:
            try:
                answer = await self.session.call("Authorize", {"idTag": id_tag})
                info = answer["idTagInfo"]
                self.remember(id_tag, info)
                return info["status"], info.get("parentIdTag")
            except (errors.CallError, CallTimeout, NotConnected) as e:
                log.warn("Authorize failed, deciding offline:", repr(e))
        return self.offline_decision(cached), parent

    def offline_decision(self, cached):
        if cached == "Accepted":
            return "Accepted" if self.settings.get("LocalAuthorizeOffline") else "Invalid"
        if cached is None and self.settings.get("AllowOfflineTxForUnknownId"):
            return "Accepted"
        return cached or "Invalid"
