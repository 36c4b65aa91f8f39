#!/usr/bin/env python3
# Generates the fixed signature test vectors ONCE (host only; needs `cryptography`).
"""    .venv/bin/python tests/device/data/make_vectors.py

Writes the certificates (*.pem) and vectors.json into tests/device/data/ and the benchmark's
vectors into tools/bench/data/signature_vectors.json. The outputs are committed: the device
tests and the benchmark read them and never need `cryptography`. Keys are fresh on every run,
so rerunning changes every file; no private key is written.

Certificates (validity in the names of the fields of vectors.json):
  root-rsa.pem, root-ec.pem     manufacturer roots (CA, keyCertSign), 2020-01-01 .. 2060-01-01
  root-other.pem                a CA that is not a manufacturer root
  signer-rsa2048.pem            RSA-2048 by root-rsa, sha256WithRSAEncryption, KU + EKU codeSigning
  signer-rsa3072-pss.pem        RSA-3072 by root-rsa, RSASSA-PSS (salt 32)
  signer-rsa4096.pem            RSA-4096 by root-rsa
  signer-ec.pem                 P-256 by root-ec, ecdsa-with-SHA256, no KU/EKU, valid to 2055
                                (GeneralizedTime)
  signer-rsa1024.pem            key too small
  bad-ku.pem                    keyUsage keyCertSign only
  bad-eku.pem                   extendedKeyUsage serverAuth only
  self-signed.pem               self-signed, not a root
  intermediate.pem, via-intermediate.pem   root-rsa -> intermediate -> signer
  by-other-root.pem             issued by root-other
  forged-issuer.pem             names root-rsa as issuer, signed by root-other's key
  unknown-critical.pem          a critical extension nobody understands
"""

import base64
import datetime
import hashlib
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BENCH = os.path.join(ROOT, "tools", "bench", "data")
UTC = datetime.timezone.utc
ROOT_FROM = datetime.datetime(2020, 1, 1, tzinfo=UTC)
ROOT_TO = datetime.datetime(2060, 1, 1, tzinfo=UTC)
LEAF_FROM = datetime.datetime(2024, 1, 1, tzinfo=UTC)
LEAF_TO = datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)
EC_TO = datetime.datetime(2055, 1, 1, tzinfo=UTC)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Chargers"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def rsa_key(bits):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def build(subject, key, issuer_name, issuer_key, ca=False, ku=None, eku=None, start=LEAF_FROM,
          end=LEAF_TO, pss=False, extra=()):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end))
    b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if ku is not None:
        flags = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                     crl_sign=False, encipher_only=False, decipher_only=False)
        flags.update(ku)
        b = b.add_extension(x509.KeyUsage(**flags), critical=True)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    for ext, critical in extra:
        b = b.add_extension(ext, critical=critical)
    if pss:
        return b.sign(issuer_key, hashes.SHA256(),
                      rsa_padding=padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32))
    return b.sign(issuer_key, hashes.SHA256())


def s2000(when):
    return int((when - datetime.datetime(2000, 1, 1, tzinfo=UTC)).total_seconds())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def main():
    ca_ku = {"key_cert_sign": True, "crl_sign": True}
    signer_ku = {"digital_signature": True}
    code = [ExtendedKeyUsageOID.CODE_SIGNING]
    root_rsa_key, other_key = rsa_key(2048), rsa_key(2048)
    root_ec_key = ec.generate_private_key(ec.SECP256R1())
    root_rsa = build(name("Example Manufacturer Root RSA"), root_rsa_key,
                     name("Example Manufacturer Root RSA"), root_rsa_key, ca=True, ku=ca_ku,
                     start=ROOT_FROM, end=ROOT_TO)
    root_ec = build(name("Example Manufacturer Root EC"), root_ec_key,
                    name("Example Manufacturer Root EC"), root_ec_key, ca=True, ku=ca_ku,
                    start=ROOT_FROM, end=ROOT_TO)
    root_other = build(name("Some Other Root"), other_key, name("Some Other Root"), other_key,
                       ca=True, ku=ca_ku, start=ROOT_FROM, end=ROOT_TO)
    rsa_name, ec_name = root_rsa.subject, root_ec.subject
    keys = {"rsa2048": rsa_key(2048), "rsa3072": rsa_key(3072), "rsa4096": rsa_key(4096),
            "ec": ec.generate_private_key(ec.SECP256R1())}
    inter_key = rsa_key(2048)
    intermediate = build(name("Example Intermediate"), inter_key, rsa_name, root_rsa_key, ca=True,
                         ku=ca_ku)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    certs = {
        "root-rsa": root_rsa, "root-ec": root_ec, "root-other": root_other,
        "signer-rsa2048": build(name("Firmware Signer RSA-2048"), keys["rsa2048"], rsa_name,
                                root_rsa_key, ku=signer_ku, eku=code),
        "signer-rsa3072-pss": build(name("Firmware Signer RSA-3072"), keys["rsa3072"], rsa_name,
                                    root_rsa_key, ku=signer_ku, eku=code, pss=True),
        "signer-rsa4096": build(name("Firmware Signer RSA-4096"), keys["rsa4096"], rsa_name,
                                root_rsa_key, ku=signer_ku, eku=code),
        "signer-ec": build(name("Firmware Signer EC"), keys["ec"], ec_name, root_ec_key,
                           end=EC_TO),
        "signer-rsa1024": build(name("Firmware Signer RSA-1024"), small, rsa_name, root_rsa_key,
                                ku=signer_ku, eku=code),
        "bad-ku": build(name("Firmware Signer Bad KU"), keys["rsa2048"], rsa_name, root_rsa_key,
                        ku={"key_cert_sign": True}, eku=code),
        "bad-eku": build(name("Firmware Signer Bad EKU"), keys["rsa2048"], rsa_name,
                         root_rsa_key, ku=signer_ku, eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
        "self-signed": build(name("Firmware Signer Self"), keys["rsa2048"],
                             name("Firmware Signer Self"), keys["rsa2048"], ku=signer_ku, eku=code),
        "intermediate": intermediate,
        "via-intermediate": build(name("Firmware Signer Via Intermediate"), keys["rsa2048"],
                                  intermediate.subject, inter_key, ku=signer_ku, eku=code),
        "by-other-root": build(name("Firmware Signer Other"), keys["rsa2048"], root_other.subject,
                               other_key, ku=signer_ku, eku=code),
        "forged-issuer": build(name("Firmware Signer Forged"), keys["rsa2048"], rsa_name,
                               other_key, ku=signer_ku, eku=code),
        "unknown-critical": build(name("Firmware Signer Critical"), keys["rsa2048"], rsa_name,
                                  root_rsa_key, ku=signer_ku, eku=code, extra=[
                                      (x509.UnrecognizedExtension(
                                          x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"),
                                          b"\x05\x00"), True)]),
    }
    for stem, cert in certs.items():
        with open(os.path.join(HERE, stem + ".pem"), "w") as f:
            f.write(pem(cert))

    firmware = b"".join(hashlib.sha256(b"firmware block %d" % i).digest() for i in range(64))
    with open(os.path.join(HERE, "firmware.bin"), "wb") as f:
        f.write(firmware)
    digest = hashlib.sha256(firmware).digest()
    prehashed = utils.Prehashed(hashes.SHA256())

    def b64(sig):
        return base64.b64encode(sig).decode()

    sigs = {}
    for bits in ("rsa2048", "rsa3072", "rsa4096"):
        key = keys[bits]
        sigs[bits + "-pkcs1"] = b64(key.sign(digest, padding.PKCS1v15(), prehashed))
        sigs[bits + "-pss-max"] = b64(key.sign(digest, padding.PSS(
            mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH), prehashed))
        sigs[bits + "-pss-32"] = b64(key.sign(digest, padding.PSS(
            mgf=padding.MGF1(hashes.SHA256()), salt_length=32), prehashed))
        sigs[bits + "-pss-0"] = b64(key.sign(digest, padding.PSS(
            mgf=padding.MGF1(hashes.SHA256()), salt_length=0), prehashed))
    der_sig = keys["ec"].sign(digest, ec.ECDSA(prehashed))
    r, s = utils.decode_dss_signature(der_sig)
    sigs["ec-der"] = b64(der_sig)
    sigs["ec-raw"] = b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    other = hashlib.sha256(b"other firmware").digest()
    sigs["rsa2048-pkcs1-other"] = b64(keys["rsa2048"].sign(other, padding.PKCS1v15(), prehashed))
    sigs["ec-der-other"] = b64(keys["ec"].sign(other, ec.ECDSA(prehashed)))
    ec_pub = keys["ec"].public_key()
    vectors = {
        "firmware_sha256": digest.hex(),
        "other_sha256": other.hex(),
        "signatures": sigs,
        "ec_point_uncompressed": ec_pub.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint).hex(),
        "ec_point_compressed": ec_pub.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint).hex(),
        "rsa2048_n": "%x" % keys["rsa2048"].public_key().public_numbers().n,
        "validity_s2000": {stem: [s2000(c.not_valid_before_utc), s2000(c.not_valid_after_utc)]
                           for stem, c in certs.items()},
        "serial": {stem: "%x" % c.serial_number for stem, c in certs.items()},
    }
    with open(os.path.join(HERE, "vectors.json"), "w") as f:
        json.dump(vectors, f, indent=1, sort_keys=True)
        f.write("\n")

    os.makedirs(BENCH, exist_ok=True)
    bench = {"firmware_sha256": digest.hex()}
    for stem, sig in (("signer-rsa2048", "rsa2048-pkcs1"), ("signer-rsa3072-pss", "rsa3072-pkcs1"),
                      ("signer-ec", "ec-der")):
        bench[stem] = {"certificate": pem(certs[stem]), "signature": sigs[sig]}
    bench["root-rsa"] = pem(root_rsa)
    bench["root-ec"] = pem(root_ec)
    with open(os.path.join(BENCH, "signature_vectors.json"), "w") as f:
        json.dump(bench, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
