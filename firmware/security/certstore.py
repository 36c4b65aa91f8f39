# Installed root certificates (security whitepaper M03-M05): InstallCertificate,
# GetInstalledCertificateIds, DeleteCertificate; the ManufacturerRootCertificates firmware
# signatures are checked against.
"""    store = CertStore(state_dir)
    await store.provision(pem_text, "ManufacturerRootCertificate")   # from config.json, at start
    store.roots("ManufacturerRootCertificate")                 # [ota.x509.Certificate]
    store.register(session)

Each certificate is one DER file under <state>/certs/<type>/, written power-loss safe; a
certificate must be a CA (basicConstraints cA) to be installed as a root. At most
MAX_PER_TYPE per type (CertificateStoreMaxLength); one more is Rejected (M05.FR.03).

The CentralSystemRootCertificates are what TLS trusts for the central system's servers: the
WebSocket (from its next connection) and HTTPS downloads and uploads (from their next
attempt), through a firmware/trust.Trust. config.json's csms.caFile holds the installer's
roots: copied into the store whenever the file's content is new (Trust.provision), so
GetInstalledCertificateIds lists them (M03) and the central system can replace them. Deleting the root in use is refused
(M04.FR.06): with the link on TLS, the last CentralSystemRootCertificate is in use, whichever
it is (which of several roots verified the server is not known here, so only the last one is
protected). AdditionalRootCertificateCheck is false (read-only): roots are not chained to
their predecessors.
"""

import hashlib
import os

import atomicfile
import logger
import unload
from firmware.security.trust import digest_file_name, file_name

CSMS = "CentralSystemRootCertificate"
TYPES = {CSMS: "csms", "ManufacturerRootCertificate": "manufacturer"}  # trust.py: the same
MAX_PER_TYPE = 4

log = logger.get("certs")


def _hex(data):
    return "".join("%02x" % b for b in data)


def hash_data(cert):
    """OCPP CertificateHashDataType of a (self-signed) root certificate."""
    return {"hashAlgorithm": "SHA256",
            "issuerNameHash": _hex(hashlib.sha256(cert.issuer).digest()),
            "issuerKeyHash": _hex(hashlib.sha256(cert.public_key_bits).digest()),
            "serialNumber": "%x" % cert.serial}


class CertStore:
    def __init__(self, state_dir, max_per_type=MAX_PER_TYPE, trust=None, on_roots=None,
                 secure_link=False):
        self.folder = state_dir + "/certs"
        self.max_per_type = max_per_type
        self.trust = trust  # firmware.security.trust.Trust: re-read when the central system's roots change
        self.on_roots = on_roots  # fn(ders) then: the WebSocket's next context
        self.secure_link = secure_link  # the link is TLS: its last root is in use
        for sub in TYPES.values():
            atomicfile.makedirs(self.folder + "/" + sub)

    def _dir(self, kind):
        return self.folder + "/" + TYPES[kind]

    def _files(self, kind):
        return sorted(os.listdir(self._dir(kind)))

    def roots(self, kind="ManufacturerRootCertificate"):
        from steps import run
        return run(self.roots_steps(kind))

    def holds(self, digest, kind="ManufacturerRootCertificate"):
        """True while a certificate of `kind` whose DER has the SHA-256 `digest` is installed
        and intact: what a check made earlier with it relies on, read without parsing (the
        one file the digest names)."""
        der = atomicfile.read(self._dir(kind) + "/" + digest_file_name(digest))
        return der is not None and hashlib.sha256(der).digest() == digest

    def roots_steps(self, kind="ManufacturerRootCertificate"):
        """roots() as a generator (lib/steps.py): a step for each file read and each part
        of each parse."""
        from ota.x509 import certificate_steps
        certs = []
        for name in self._files(kind):
            der = atomicfile.read(self._dir(kind) + "/" + name)
            if der is None:
                log.error("certificate file", name, "is torn: ignored")
                continue
            yield
            try:
                certs.append((yield from certificate_steps(der)))
            except MemoryError:
                raise  # not the file's fault: no root may go missing from a check for it
            except Exception as e:
                log.error("certificate file", name, "unreadable:", repr(e))
        return certs

    def install(self, kind, pem):
        """"Accepted", "Rejected" (not a valid CA certificate, or no room: M05.FR.03) or
        "Failed" (the flash failed)."""
        from steps import run
        return run(self._install_steps(kind, pem))

    async def install_async(self, kind, pem):
        """install() with a turn of the loop between decoding, parsing and writing."""
        from steps import finish
        return await finish(self._install_steps(kind, pem))

    def _install_steps(self, kind, pem):
        from ota.der import pem_to_der
        try:
            ders = [bytes(pem)] if isinstance(pem, (bytes, bytearray)) and pem[:1] == b"\x30" \
                else pem_to_der(pem)
            if len(ders) != 1:
                return "Rejected"
            name = file_name(ders[0])
            if name in self._files(kind):
                # These very bytes were checked when they were installed: not parsed again
                # (the manufacturer root is provisioned at every start-up).
                return "Accepted"
            yield
            from ota.x509 import certificate_steps  # not for a root installed already
            cert = yield from certificate_steps(ders[0])
            der = cert.der
        except MemoryError:
            raise  # the heap, not the certificate: a CALLERROR, never Rejected for it
        except Exception as e:
            log.warn("InstallCertificate refused:", repr(e))
            return "Rejected"
        if not cert.ca:
            return "Rejected"
        if len(self._files(kind)) >= self.max_per_type:
            return "Rejected"  # M05.FR.03: no room (CertificateStoreMaxLength)
        yield
        try:
            atomicfile.write(self._dir(kind) + "/" + name, der)
        except OSError as e:
            log.error("certificate store:", repr(e))
            return "Failed"
        log.info(kind, "installed:", cert.subject_cn)
        self._changed(kind)
        return "Accepted"

    async def provision(self, pem, kind="ManufacturerRootCertificate"):
        status = await self.install_async(kind, pem)
        if status != "Accepted":
            log.error("provisioned", kind, "not installed:", status)
        # Start-up's: the parsers go with it (2.3 KB at 96 KiB), a request imports them again.
        unload.forget("ota.x509", "ota.signature", "ota.der")
        return status

    async def _handle_install(self, p):
        return {"status": await self.install_async(p["certificateType"], p["certificate"])}

    def find(self, data):
        """(kind, file name) of the certificate with this CertificateHashData, or None."""
        for kind in TYPES:
            for name in self._files(kind):
                for cert in self._load(kind, name):
                    if hash_data(cert) == _normal(data):
                        return kind, name
        return None

    def _load(self, kind, name):
        from ota.x509 import Certificate
        der = atomicfile.read(self._dir(kind) + "/" + name)
        if der is None:
            return []
        try:
            return [Certificate(der)]
        except MemoryError:
            raise  # not an unreadable file
        except Exception:
            return []

    # -- the whitepaper's messages --------------------------------------------------------
    def register(self, session):
        session.handlers["InstallCertificate"] = self._handle_install
        session.handlers["GetInstalledCertificateIds"] = self.get_ids
        session.handlers["DeleteCertificate"] = self.delete

    def get_ids(self, p):
        certs = self.roots(p["certificateType"])
        if not certs:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashData": [hash_data(c) for c in certs]}

    def delete(self, p):
        found = self.find(p["certificateHashData"])
        if found is None:
            return {"status": "NotFound"}
        kind, name = found
        # The last ManufacturerRootCertificate may go (M04 allows it): signed updates are then
        # refused until one is installed again, which the central system can do.
        if kind == CSMS and self.secure_link and len(self._files(kind)) == 1:
            return {"status": "Failed"}  # M04.FR.06: in use for the connection
        try:
            os.remove(self._dir(kind) + "/" + name)
        except OSError:
            return {"status": "Failed"}
        self._changed(kind)
        return {"status": "Accepted"}

    def _changed(self, kind):
        if kind == CSMS and self.trust is not None:
            ders = self.trust.reread()
            if self.on_roots is not None:
                try:
                    self.on_roots(ders)
                except Exception as e:  # unusable roots: the context in use stays
                    log.error("new roots not used for the WebSocket:", repr(e))


def _normal(data):
    return {"hashAlgorithm": data["hashAlgorithm"], "issuerNameHash": data["issuerNameHash"].lower(),
            "issuerKeyHash": data["issuerKeyHash"].lower(),
            "serialNumber": data["serialNumber"].lower().lstrip("0") or "0"}
