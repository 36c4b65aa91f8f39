#!/usr/bin/env python3
# Host tool: a test PKI for signed firmware: manufacturer root, signing certificate and key.
"""Make the certificates a charger maker needs to try secure firmware updates:

    python tools/pki.py --out pki [--kind rsa2048|rsa3072|rsa4096|ec256] [--days 365]

writes pki/root.pem (ManufacturerRootCertificate: install it with InstallCertificate or put
it in config.json's firmware.manufacturerRootFile), pki/root.key, pki/signing.pem (the
firmware signing certificate, keyUsage digitalSignature, extendedKeyUsage codeSigning) and
pki/signing.key. Test material only: keep real keys in an HSM.
"""

import argparse
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def new_key(kind):
    if kind == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Charger Maker"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(subject_key, subject, issuer_key, issuer, ca, days, not_before=None,
                key_usage=None, code_signing=True):
    start = not_before or datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        usage = key_usage if key_usage is not None else True
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=usage, content_commitment=False, key_encipherment=not usage,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        if code_signing:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def make(out, kind="rsa2048", days=365):
    """Write root.pem/.key and signing.pem/.key into `out`; returns their paths."""
    os.makedirs(out, exist_ok=True)
    root_key = new_key(kind)
    root = certificate(root_key, "Manufacturer Root", root_key, "Manufacturer Root", True, days * 10)
    signing_key = new_key(kind)
    signing = certificate(signing_key, "Firmware Signing", root_key, "Manufacturer Root", False, days)
    files = {"root.pem": pem(root), "root.key": key_pem(root_key),
             "signing.pem": pem(signing), "signing.key": key_pem(signing_key)}
    for fname, text in files.items():
        with open(os.path.join(out, fname), "w") as f:
            f.write(text)
    return {k: os.path.join(out, k) for k in files}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--kind", default="rsa2048", choices=("rsa2048", "rsa3072", "rsa4096", "ec256"))
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()
    for path in make(args.out, args.kind, args.days).values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
