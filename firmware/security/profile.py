# SecurityProfile changes by the central system (1.6 security whitepaper A05): checked,
# applied by reconnecting, undone when the new profile cannot connect.
"""    switch = ProfileSwitch(settings, client, session, trust, csms, security)
    Link(client, session, work, on_result=switch.result)

Raising SecurityProfile with ChangeConfiguration:
- a value not above the current one is Rejected (A05.FR.01) and 1 or 2 need an
  AuthorizationKey (FR.02): firmware/v16/settings.py; 2 and 3 need an installed
  CentralSystemRootCertificate (FR.03) and 3 a client certificate, csms.clientCertFile and
  clientKeyFile (FR.04): checked here;
- Accepted: once the answer is out, the link closes and reconnects with the new profile
  (FR.06/07): profiles 2 and 3 on the TLS URL (csms.tlsUrl, or csms.url as wss://), Basic
  auth for 1 and 2 (app.use_credentials), the client certificate for 3;
- the new profile on probation: if FALLBACK_ATTEMPTS connection attempts in a row fail
  before one succeeds, the previous profile is restored, stored, and its URL used again
  (FR.08), with a ReconfigurationOfSecurityParameters event. One that connects is kept.

A profile raised before a reboot holds after it: the URL follows the stored profile.
"""

import logger
from ws.errors import WsError

FALLBACK_ATTEMPTS = 3

log = logger.get("profile")


def tls_url(csms):
    """The URL of profiles 2 and 3."""
    url = csms.get("tlsUrl") or csms["url"]
    return "wss://" + url[5:] if url.startswith("ws://") else url


class ProfileSwitch:
    def __init__(self, settings, client, session, trust, csms, security):
        self.settings = settings
        self.client = client
        self.session = session
        self.trust = trust
        self.csms = csms
        self.security = security
        self.current = settings.get("SecurityProfile")
        self.previous = None  # the profile to fall back to while the new one is on probation
        self.failures = 0
        settings.on_validate("SecurityProfile", self._allowed)
        settings.on_change("SecurityProfile", self._changed)
        if self.current >= 2 and not client.secure:
            self._apply(self.current)  # raised before the last reboot

    def _allowed(self, profile):
        if profile >= 2 and not self.trust.ders:
            return False  # FR.03: no CentralSystemRootCertificate to verify the server
        if profile == 3 and not (self.csms.get("clientCertFile") and
                                 self.csms.get("clientKeyFile")):
            return False  # FR.04: no certificate of our own
        return True

    def _apply(self, profile):
        url = tls_url(self.csms) if profile >= 2 else self.csms["url"]
        self.client.set_url(url, self.trust.ders or None)

    def _changed(self, profile):
        if profile == self.current:
            return  # our own restore()
        self.previous, self.current, self.failures = self.current, profile, 0
        log.info("SecurityProfile %d -> %d: reconnecting" % (self.previous, profile))

        async def switch():  # after the answer, which goes out on the old connection
            try:
                self._apply(profile)
            except WsError as e:  # the TLS material cannot be used: the old profile stays
                self.failures = FALLBACK_ATTEMPTS - 1
                self.result(e)
                return
            await self.client.close()
        self.session.after_reply(switch)

    def result(self, error):
        """The outcome of a connection attempt: None when it connected."""
        if self.previous is None:
            return
        if error is None:
            self.previous = None  # the new profile works: kept
            return
        self.failures += 1
        if self.failures < FALLBACK_ATTEMPTS:
            return
        back, self.previous = self.previous, None
        log.error("SecurityProfile %d does not connect: back to %d" % (self.current, back))
        self.current = back
        self._apply(back)
        try:
            self.settings.restore("SecurityProfile", back)
        except OSError as e:
            log.error("SecurityProfile not stored:", repr(e))
        self.security.event("ReconfigurationOfSecurityParameters",
                            "SecurityProfile back to %d: the new one did not connect" % back)
