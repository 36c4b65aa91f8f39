# Test helper: a throw-away certificate authority for the TLS tests (host only, `cryptography`).
"""Make a CA, server and client certificates and write them as PEM files.

    ca = TestCA(tmp_path)                       # tmp_path/ca.pem (+ ca.key)
    srv = ca.server()                           # SAN 127.0.0.1 + localhost
    cli = ca.client("CP_1")                     # clientAuth certificate
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(srv.cert, srv.key)

Each issued certificate is an `Issued(cert, key, cert_pem, key_pem)`: file paths and bytes.
Keys are EC P-256: quick to make and accepted by both OpenSSL and mbedTLS.
"""

import datetime
import ipaddress
import os
from collections import namedtuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Issued = namedtuple("Issued", "cert key cert_pem key_pem")

DAY = datetime.timedelta(days=1)


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class TestCA:
    __test__ = False  # not a pytest test class

    def __init__(self, folder, name="Test Root CA"):
        self.folder = str(folder)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = _name(name)
        now = _now()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name).issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + 365 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        tag = name.replace(" ", "_").lower()
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.der = self.cert.public_bytes(serialization.Encoding.DER)
        self.path = self._write(tag + ".pem", self.pem)

    def _write(self, filename, data):
        path = os.path.join(self.folder, filename)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def issue(self, cn, dns=(), ips=(), server=True, expired=False, tag=None, days=30):
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        if expired:
            start, end = now - 30 * DAY, now - 2 * DAY
        else:
            start, end = now - DAY, now + days * DAY
        sans = [x509.DNSName(d) for d in dns]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        key_pem = _key_pem(key)
        tag = tag or cn.replace(" ", "_").replace(".", "_")
        return Issued(self._write(tag + ".crt.pem", cert_pem),
                      self._write(tag + ".key.pem", key_pem), cert_pem, key_pem)

    def server(self, dns=("localhost",), ips=("127.0.0.1",), expired=False, tag=None):
        """A server certificate (CN = first name) valid for `dns` and `ips`."""
        cn = (tuple(dns) + tuple(ips) or ("server",))[0]
        return self.issue(cn, dns, ips, server=True, expired=expired,
                          tag=tag or ("server_expired" if expired else "server"))

    def client(self, cn="CP_1", days=30):
        """A client certificate (security profile 3: CN = the charge box id)."""
        return self.issue(cn, server=False, tag="client_" + cn, days=days)

    def sign_csr(self, csr, days=365, client_auth=True, cn=None):
        """The PEM certificate this CA issues for `csr` (a cryptography CSR): the CSR's subject
        (or CN = `cn`) and public key, clientAuth, valid from a day ago for `days` days."""
        now = _now()
        subject = _name(cn) if cn else csr.subject
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client_auth else ExtendedKeyUsageOID.SERVER_AUTH
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(self.name)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + days * DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM)
