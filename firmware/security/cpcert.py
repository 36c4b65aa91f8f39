# The charge point's own certificate (security profile 3), renewed through the central system
# (1.6 security whitepaper A02/A03): key pair and CSR made here, the signed chain checked here.
"""    renewal = CertificateRenewal(board, session, settings, client, charge_box_id, security,
                                 roots,       # roots() -> iterable of ota.x509.Certificate
                                 factory_cert)  # csms.clientCertFile (A03's date)
    renewal.register(session)                           # CertificateSigned
    renewal.trigger()                                   # ExtendedTriggerMessage: the answer
    renewal.renew_if_expiring()                         # A03, after each accepted connect

A02: ExtendedTriggerMessage(SignChargePointCertificate) is answered first (A02.FR.02: "after
sending ExtendedTriggerMessage.conf"), then a new P-256 key pair is made (ota/csr.py) and its
CSR sent in SignCertificate.req: subject O = CpoName (A02.FR.13; without a CpoName the
trigger is Rejected, as the whitepaper makes it a prerequisite), CN = the charge box id
(A00.FR.511). The new private key waits on flash in PENDING (atomicfile) until its certificate
comes; a later request replaces it, and a certificate for an older CSR no longer matches.

A03: after a connection is accepted, the certificate in use is read once per start; when it
expires within 30 days (and the clock is set and CpoName known) the same renewal starts. The
application makes this service for that look only under a client certificate with a CpoName
(about 1 KB of heap kept, frozen 32-bit build); otherwise at the first request.

CertificateSigned.req: the chain is Accepted only if the first certificate carries the pending
key and the CN asked for, is no CA, may authenticate a TLS client (keyUsage digitalSignature,
extendedKeyUsage clientAuth, when present), has no unknown critical extension, has not
expired (when the clock is set), and chains, through the CA certificates that follow it in
the chain, to a CPO root: the CA certificates of csms.caFile or an installed
CentralSystemRootCertificate (A02.FR.06). Anything else is Rejected with the security event
InvalidChargePointCertificate (A02.FR.07) and changes nothing.

Storage (one source for the client credentials): an accepted pair is written as ONE
atomicfile, CLIENT_PAIR (the PKCS#8 key, then the chain, as PEM), so key and certificate are
replaced together or not at all: a power cut at any point leaves either the old pair or the
new one, never a key without its certificate. It takes precedence over csms.clientCertFile
/ clientKeyFile (firmware/link.py stored_credentials), which stay untouched as the installer's
factory credentials, used again if it is deleted or torn. The WebSocket client takes the new pair
from its next connection on: the connection that is up stays up (A02.FR.08's "switch" happens
at the next connect; a notBefore in the future is not waited for).

The private key is never logged, never sent, and not readable through OCPP (A02.FR.05).
Cost: key generation and signing take about 9 ms on the 32-bit unix port (about 2-3 s on an
ESP32), in two halves with the event loop run in between; `make bench` line
csr.keygen-sign-p256.
"""

import asyncio
import gc
import os

import atomicfile
import logger
import unload
from ocppj import errors
from ocppj.session import CallTimeout, NotConnected
from firmware.link import CLIENT_PAIR, read_file, stored_credentials
from ticks import sleep_ms
from ws.errors import WsError

PENDING = "/cpcert.key"  # under the state folder: the key of the last CSR, PKCS#8 DER
_OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
_EVENT = "InvalidChargePointCertificate"
RENEW_BEFORE_S = 30 * 86400  # A03.FR.02: "will expire in one month"
# imported for a renewal and forgotten after each step (lib/unload.py): nothing else keeps them
_MODULES = ("ota.csr", "ota.x509", "ota.signature", "ota.ecdsa", "ota.ecfast", "ota.p256v",
            "ota.p256g", "ota.rsa", "ota.der")

log = logger.get("cpcert")


class CertificateRenewal:
    def __init__(self, board, session, settings, client, charge_box_id, security, roots,
                 factory_cert=None):
        self.board = board
        self.session = session
        self.settings = settings
        self.client = client
        self.charge_box_id = charge_box_id
        self.security = security
        self.roots = roots
        self.store = board.state_dir + CLIENT_PAIR
        self.pending = board.state_dir + PENDING
        self.busy = False
        self.factory_cert = factory_cert  # csms.clientCertFile: in use while none is stored
        self.checked = False  # A03's look at the expiry date, once per start

    def renew_if_expiring(self):
        """A03: after a connection was accepted, renew once per start if the certificate in
        use expires within RENEW_BEFORE_S (the clock set, a CpoName known). Not retried
        until the next start: the whitepaper advises against retrying a CSR by itself."""
        if self.checked or not self.board.clock_set() or not self.settings.get("CpoName"):
            return False
        self.checked = True
        try:
            from ota.x509 import load_certificates
            pair = stored_credentials(self.store)
            cert = pair[0] if pair is not None else read_file(self.factory_cert)
            not_after = load_certificates(cert)[0].not_after
        except Exception as e:  # WsError, CertificateError: the connection works, keep it
            log.warn("charge point certificate not readable:", repr(e))
            return False
        finally:
            unload.forget(*_MODULES)
        if not_after - self.board.time_s() >= RENEW_BEFORE_S:
            return False
        log.info("charge point certificate expires within 30 days: renewing it")
        if not self.busy:
            self.busy = True
            asyncio.create_task(self.renew())
        return True

    def register(self, session):
        session.handlers["CertificateSigned"] = self.certificate_signed

    # -- A02 / A03: a new key and its CSR ---------------------------------------------------
    def trigger(self):
        """The answer to ExtendedTriggerMessage(SignChargePointCertificate); the CSR follows
        it."""
        if not self.settings.get("CpoName"):
            log.warn("SignChargePointCertificate refused: CpoName is not set")
            return {"status": "Rejected"}
        if not self.busy:
            self.busy = True
            self.session.after_reply(self.renew)
        return {"status": "Accepted"}

    async def renew(self):
        """Make a key pair, keep the key on flash, send its CSR in SignCertificate.req.
        True when the central system accepted it."""
        from ota import csr, der
        self.busy = True
        try:
            key = csr.new_key()
            await sleep_ms(0)  # the other tasks run between the two halves of the work
            request = csr.request(key, self.charge_box_id, self.settings.get("CpoName"))
            atomicfile.write(self.pending, key)
            del key
            pem = der.pem("CERTIFICATE REQUEST", request)
            csr = der = None  # the frame would keep the modules (and G's table) alive
        except (OSError, ValueError) as e:
            log.error("no certificate signing request:", repr(e))
            return False
        finally:
            self.busy = False
            # the curve code and its workspace (3 KB) until the certificate comes: not kept
            unload.forget(*_MODULES)
        log.info("certificate signing request made for", self.charge_box_id)
        try:
            result = await self.session.call("SignCertificate", {"csr": pem}, triggered=True)
        except (errors.CallError, CallTimeout, NotConnected) as e:
            log.warn("SignCertificate not delivered:", repr(e))
            return False
        if result.get("status") != "Accepted":  # whitepaper: no automatic retry
            log.warn("SignCertificate rejected by the central system")
            return False
        return True

    # -- CertificateSigned ------------------------------------------------------------------
    async def certificate_signed(self, p):
        gc.collect()  # as the firmware updater's check: the chain's math in a clean heap
        key = atomicfile.read(self.pending)
        # the ECDSA workspace in the shared block when it is free: 2.2 KB the heap need not
        # find beside the TLS session, at its fullest
        block = self.board.block
        work = block.lend("certificate check") if block is not None else None
        try:
            # the text leaves the request: parsed, it is garbage before the signatures are
            # checked
            checked = await self._checked(p.pop("certificateChain"), key, work)
        finally:
            if work is not None:
                block.give()  # type: ignore
            work = None
        # The TLS context is the largest allocation (1.7 KB in one piece): made only once the
        # check's modules (kept alive by its frame until it returned) and garbage are gone.
        # Frozen 32-bit build at 100 KiB of heap: the largest free block before it was 5.6 KB
        # with the modules kept, and the context did not fit.
        unload.forget(*_MODULES)
        gc.collect()
        if checked is None:
            return {"status": "Rejected"}
        serial, cert_pem, key_pem = checked
        try:
            ctx = self.client.make_context(cert_pem, key)  # the TLS stack must load the pair
        except WsError as e:  # mbedTLS or OpenSSL cannot use it: as invalid as a bad chain
            log.warn("CertificateSigned rejected:", str(e))
            self.security.event(_EVENT, str(e))
            return {"status": "Rejected"}
        try:
            atomicfile.write(self.store, (key_pem, cert_pem))  # the pair, never joined in RAM
        except OSError as e:  # the flash: not the certificate's fault, the old pair stays
            log.error("new charge point certificate not stored:", repr(e))
            return {"status": "Rejected"}
        self.client.use_context(ctx, cert_pem, key)
        try:
            os.remove(self.pending)
        except OSError:
            pass
        self.security.record("charge point certificate installed, serial %x" % serial)
        log.info("charge point certificate installed, used from the next connection")
        return {"status": "Accepted"}

    async def _checked(self, text, key, work=None):
        """(serial, chain PEM, key PEM) of an acceptable chain for `key`; None (logged, and
        the security event raised) for any other."""
        from ota.x509 import CertificateError, load_certificates
        try:
            if key is None:
                raise CertificateError("no certificate signing request is waiting")
            chain = load_certificates(text)
            text = None
            if not chain:
                raise CertificateError("empty certificate chain")
            await self._check(chain, key, work)
        except CertificateError as e:
            log.warn("CertificateSigned rejected:", str(e))
            self.security.event(_EVENT, str(e))
            return None
        # the curve code and G's table (some 4 KB) are done with: gone before the PEM is made
        unload.forget("ota.csr", "ota.ecdsa", "ota.ecfast", "ota.p256v", "ota.rsa")
        gc.collect()
        from ota.der import pem
        cert_pem = "".join([pem("CERTIFICATE", c.der) for c in chain])
        return chain[0].serial, cert_pem, pem("PRIVATE KEY", key)

    async def _check(self, chain, key, work=None):
        from ota.x509 import EC, KU_DIGITAL_SIGNATURE, CertificateError
        leaf = chain[0]
        if leaf.key_type != EC or leaf.key != _public_point(key):
            raise CertificateError("certificate does not match the key of the last request")
        if leaf.subject_cn != self.charge_box_id:
            raise CertificateError("certificate is not for " + self.charge_box_id)
        if leaf.ca:
            raise CertificateError("a CA certificate is no charge point certificate")
        if leaf.key_usage is not None and not leaf.key_usage & KU_DIGITAL_SIGNATURE:
            raise CertificateError("key usage does not allow TLS client authentication")
        if leaf.ext_key_usage is not None and _OID_CLIENT_AUTH not in leaf.ext_key_usage:
            raise CertificateError("extended key usage does not allow TLS client authentication")
        now = self.board.time_s() if self.board.clock_set() else None
        if now is not None and now > leaf.not_after:
            raise CertificateError("certificate expired")
        await _check_hierarchy(chain, self.roots, now, work)


def _public_point(key):
    """The public point of our private key. The CSR module that knows it goes right after:
    the chain's signatures are checked next, with the heap of a plain ESP32 at its fullest."""
    from ota.csr import public_point
    point = public_point(key)
    unload.forget("ota.csr")
    return point


async def _check_hierarchy(chain, roots, now, work=None):
    """CertificateError unless chain[0] chains to one of `roots()` (an iterable, made anew
    for each certificate of the chain) through chain[1:]. The loop runs other tasks between
    the steps of each signature check (lib/steps.py); `work` a buffer lent for their ECDSA
    workspace, or None."""
    from ota.x509 import KU_KEY_CERT_SIGN, CertificateError
    for cert in chain:
        if cert.unknown_critical:
            raise CertificateError("unsupported critical extension " + cert.unknown_critical[0])
    for i in range(len(chain)):
        cert = chain[i]
        for root in roots():
            if root.der == cert.der:
                return  # a root sent along with the chain: trusted as it is
            if root.subject == cert.issuer and await _signed(cert, root, work):
                return
        if i + 1 == len(chain):
            break
        issuer = chain[i + 1]
        if issuer.subject != cert.issuer or not issuer.ca or (
                issuer.key_usage is not None and not issuer.key_usage & KU_KEY_CERT_SIGN):
            raise CertificateError("certificate chain is broken at certificate %d" % (i + 1))
        if now is not None and not issuer.not_before <= now <= issuer.not_after:
            raise CertificateError("CA certificate %d is not valid now" % (i + 2))
        if not await _signed(cert, issuer, work):
            raise CertificateError("signature of certificate %d does not verify" % (i + 1))
    raise CertificateError("not issued under a central system root certificate")


async def _signed(cert, issuer, work):
    from ota.x509 import CertificateError
    from steps import finish
    try:
        return await finish(cert.verify_signed_by_steps(issuer, work))
    except CertificateError:
        return False

