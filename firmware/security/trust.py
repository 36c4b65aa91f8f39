# The roots TLS trusts for the central system's servers: the installed
# CentralSystemRootCertificates, read raw at start-up (no certificate parsing on the boot path).
"""    trust = Trust(state_dir)
    trust.provision(ca_file_bytes)               # the installer's roots, when the file changed
    WsClient(..., ca=trust.ders)                 # and HTTPS: HttpClient(ca=trust.ders)
    trust.reread()                               # after InstallCertificate / DeleteCertificate

The files are firmware/security/certstore.py's: <state>/certs/csms/<name>.der, written power-loss safe
(lib/atomicfile.py); a torn one is left out (the store logs it).
"""

import hashlib
import os

import atomicfile
import unload

FOLDER = "/certs/csms"  # the store's folder of CentralSystemRootCertificate (certstore.TYPES)


def file_name(der):
    """The store's file name of a certificate: its SHA-256, shortened."""
    return digest_file_name(hashlib.sha256(der).digest())


def digest_file_name(digest):
    """The store's file name of the certificate whose DER has the SHA-256 `digest`."""
    return "".join(["%02x" % b for b in digest[:8]]) + ".der"


class Trust:
    def __init__(self, state_dir):
        self.folder = state_dir + FOLDER
        self.marker = state_dir + "/certs/cafile.sha256"  # the CA file last provisioned
        atomicfile.makedirs(self.folder)
        self.ders = self.reread()

    def reread(self):
        """The DER of every installed root (also kept in self.ders)."""
        ders = []
        for name in sorted(os.listdir(self.folder)):
            der = atomicfile.read(self.folder + "/" + name)
            if der is not None:
                ders.append(der)
        self.ders = ders
        return ders

    def provision(self, material):
        """The installer's CA file (PEM or DER bytes) into the store, once per content: listed
        by GetInstalledCertificateIds like any other root and deletable by the central system
        (it comes back only when the file changes, for a new installer's root)."""
        if not material:
            return
        digest = hashlib.sha256(material).digest()
        if atomicfile.read(self.marker) == digest:
            return
        if bytes(material[:64]).find(b"-----BEGIN ") >= 0:
            from ota.der import pem_to_der  # not ws.tls: no ssl module needed to store files
            found = pem_to_der(material)
            unload.forget("ota.der")  # a new CA file is a start-up's job: 1.2 KB at 96 KiB
        else:
            found = [bytes(material)]  # DER
        for der in found:
            atomicfile.write(self.folder + "/" + file_name(der), der)
        atomicfile.write(self.marker, digest)
        self.reread()
