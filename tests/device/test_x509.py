# Device tests of certificate parsing and the firmware signing-certificate rules (lib/ota/x509.py).
# Vectors: tests/device/data/*.pem and vectors.json, made once by data/make_vectors.py.
import hashlib
import json

from devtest import raises
from ota import der, x509
import steps
from ota.x509 import Certificate, CertificateError, check_signing_certificate

NOW = 848587508  # 2026-11-21T14:45:08Z in seconds since 2000


def _path(name):
    # Resolved from this file: tests/device/data on the host, /tests/data under MicroPython WASM.
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    return here + "/data/" + name


def _cert(stem):
    with open(_path(stem + ".pem")) as f:
        return x509.load_certificates(f.read())[0]


def _vectors():
    with open(_path("vectors.json")) as f:
        return json.load(f)


def _roots():
    return [_cert("root-rsa"), _cert("root-ec")]


def _refused(stem, now_s, word, roots=None):
    e = raises(CertificateError, check_signing_certificate, _cert(stem),
               _roots() if roots is None else roots, now_s)
    assert word in str(e), "%s: %s" % (stem, e)


def test_fields_of_an_rsa_signing_certificate():
    c = _cert("signer-rsa2048")
    v = _vectors()
    assert c.version == 3, "v3"
    assert c.subject_cn == "Firmware Signer RSA-2048", c.subject_cn
    assert c.issuer_cn == "Example Manufacturer Root RSA", c.issuer_cn
    assert c.serial == int(v["serial"]["signer-rsa2048"], 16), "serial"
    nb, na = v["validity_s2000"]["signer-rsa2048"]
    assert (c.not_before, c.not_after) == (nb, na), "validity %r" % ((c.not_before, c.not_after),)
    assert c.key_type == x509.RSA and c.key_bits == 2048, "RSA-2048"
    assert c.key[0] == int(v["rsa2048_n"], 16) and c.key[1] == 65537, "modulus and exponent"
    assert c.sig_kind == x509.RSA_PKCS1_SHA256, c.sig_kind
    assert len(c.signature) == 256, "root's signature, 2048 bits"
    assert c.ca is False, "basicConstraints cA false"
    assert c.key_usage == x509.KU_DIGITAL_SIGNATURE, "keyUsage %r" % c.key_usage
    assert c.ext_key_usage == (x509.OID_CODE_SIGNING,), "extendedKeyUsage"
    assert c.unknown_critical == [], "nothing unknown"
    assert c.issuer == _cert("root-rsa").subject, "issuer is the root's subject, byte for byte"
    assert bytes(c.tbs) == c.der[4:4 + len(c.tbs)], "tbsCertificate follows the outer header"


def test_fields_of_roots_and_other_keys():
    root = _cert("root-rsa")
    assert root.ca is True, "root is a CA"
    assert root.key_usage & x509.KU_KEY_CERT_SIGN, "root may sign certificates"
    assert not root.key_usage & x509.KU_DIGITAL_SIGNATURE, "root: no digitalSignature"
    assert root.is_self_issued(), "self-issued"
    pss = _cert("signer-rsa3072-pss")
    assert pss.sig_kind == x509.RSA_PSS_SHA256 and pss.pss_salt_len == 32, "PSS, salt 32"
    assert pss.key_bits == 3072, "RSA-3072"
    assert _cert("signer-rsa4096").key_bits == 4096, "RSA-4096"
    ec = _cert("signer-ec")
    v = _vectors()
    assert ec.key_type == x509.EC and ec.key_bits == 256, "P-256"
    from ota import ecdsa
    assert ec.key == ecdsa.decode_point(bytes.fromhex(v["ec_point_uncompressed"])), "EC point"
    assert ec.sig_kind == x509.ECDSA_SHA256, ec.sig_kind
    assert ec.key_usage is None and ec.ext_key_usage is None, "no KU/EKU"
    assert ec.not_after == v["validity_s2000"]["signer-ec"][1], "GeneralizedTime (2055)"


def test_verify_signed_by():
    root_rsa, root_ec = _roots()
    assert _cert("signer-rsa2048").verify_signed_by(root_rsa), "PKCS#1 v1.5 by the root"
    assert _cert("signer-rsa3072-pss").verify_signed_by(root_rsa), "PSS by the root"
    assert _cert("signer-ec").verify_signed_by(root_ec), "ECDSA by the root"
    assert root_rsa.verify_signed_by(root_rsa), "the root's own signature"
    assert not _cert("forged-issuer").verify_signed_by(root_rsa), "signed by another key"
    assert not _cert("signer-rsa2048").verify_signed_by(_cert("root-other")), "other root"
    e = raises(CertificateError, _cert("signer-ec").verify_signed_by, root_rsa)
    assert "does not fit" in str(e), str(e)


def test_signing_certificates_that_chain_directly_are_accepted():
    roots = _roots()
    for stem in ("signer-rsa2048", "signer-rsa3072-pss", "signer-rsa4096", "signer-ec"):
        assert check_signing_certificate(_cert(stem), roots, NOW) is None, stem
        assert check_signing_certificate(_cert(stem), roots, None) is None, stem + " no clock"


def test_validity_is_checked_only_with_the_clock():
    nb, na = _vectors()["validity_s2000"]["signer-rsa2048"]
    roots = _roots()
    c = _cert("signer-rsa2048")
    assert check_signing_certificate(c, roots, nb) is None, "first second"
    assert check_signing_certificate(c, roots, na) is None, "last second"
    _refused("signer-rsa2048", na + 1, "expired")
    _refused("signer-rsa2048", nb - 1, "not yet valid")
    assert check_signing_certificate(c, roots, None) is None, "clock not set: not checked"


def test_certificates_not_issued_by_a_manufacturer_root_are_refused():
    _refused("by-other-root", NOW, "not signed by a manufacturer root")
    _refused("forged-issuer", NOW, "not signed by a manufacturer root")
    _refused("via-intermediate", NOW, "not signed by a manufacturer root")
    _refused("signer-rsa2048", NOW, "not signed by a manufacturer root", roots=[])
    _refused("signer-rsa2048", NOW, "not signed by a manufacturer root", roots=[_cert("root-ec")])
    _refused("self-signed", NOW, "self-signed certificate is not a manufacturer root")
    _refused("self-signed", None, "self-signed certificate is not a manufacturer root")


def test_usage_and_key_rules():
    _refused("bad-ku", NOW, "key usage does not allow code signing")
    _refused("bad-eku", NOW, "extended key usage does not allow code signing")
    _refused("unknown-critical", NOW, "unsupported critical extension 1.3.6.1.4.1.55555.1")
    _refused("signer-rsa1024", NOW, "unsupported RSA key size 1024 bits")
    _refused("root-rsa", NOW, "key usage does not allow code signing")  # a root is no signer
    _refused("intermediate", NOW, "key usage does not allow code signing")


def _parts(value):
    """Every object inside nested tuples and lists."""
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _parts(item)
    else:
        yield value


def test_signing_checks_keep_nothing_of_the_certificates():
    """What is left to check after signing_checks holds no certificate and no view into a
    DER: the firmware lets the certificates go before an RSA check's pow (fwupdate)."""
    for stem in ("signer-rsa2048", "signer-ec"):
        roots = _roots()
        checks = x509.signing_checks(_cert(stem), roots, NOW)
        assert len(checks) == 1, stem  # one root has the issuer's name
        for part in _parts(checks):
            assert not isinstance(part, (Certificate, memoryview, bytearray)), (stem, part)
            assert not isinstance(part, bytes) or len(part) <= 256, (stem, len(part))
        root = roots[0 if "rsa" in stem else 1]
        vouch = steps.run(x509.vouching_root_steps(checks))
        assert vouch == (hashlib.sha256(root.der).digest(), root.not_before, root.not_after)


def test_the_roots_are_tried_in_turn():
    """Two roots with the issuer's name: one whose key cannot check the signature is skipped
    (its reason kept only when no other vouches), the next vouches; a root that verifies the
    signature but may not vouch gives its own reason."""
    signer = _cert("signer-rsa2048")
    rsa_root, ec_root = _cert("root-rsa"), _cert("root-ec")
    ec_root.subject = rsa_root.subject  # the EC root now claims the RSA root's name
    checks = x509.signing_checks(signer, [ec_root, rsa_root], NOW)
    assert isinstance(checks[0][0], str) and "does not fit" in checks[0][0], checks[0][0]
    assert steps.run(x509.vouching_root_steps(checks))[0] == \
        hashlib.sha256(rsa_root.der).digest()
    e = raises(CertificateError, check_signing_certificate, signer, [ec_root], NOW)
    assert "issuer key does not fit the signature algorithm" in str(e), str(e)
    rsa_root.not_after = NOW - 1  # expired: verifies, but may not vouch
    e = raises(CertificateError, check_signing_certificate, signer, [ec_root, rsa_root], NOW)
    assert "manufacturer root expired" in str(e), str(e)


def test_a_tampered_certificate_is_refused():
    der_bytes = bytearray(_cert("signer-rsa2048").der)
    at = bytes(der_bytes).find(b"RSA-2048")
    der_bytes[at] ^= 0x01  # "SSA-2048": still parses, the root's signature no longer fits
    c = Certificate(der_bytes)
    assert c.subject_cn == "Firmware Signer SSA-2048", c.subject_cn
    e = raises(CertificateError, check_signing_certificate, c, _roots(), NOW)
    assert "not signed by a manufacturer root" in str(e), str(e)


def test_malformed_and_oversized_certificates_are_refused():
    good = _cert("signer-rsa2048").der
    e = raises(CertificateError, Certificate, b"\x30\x82\x10\x00" + b"\x00" * 4096)
    assert str(e) == "oversized certificate", str(e)
    cases = (b"", b"\x30", b"\x30\x03\x02\x01", good + b"\x00", good[:-1], b"\x02\x01\x05",
             b"garbage that is no certificate at all",
             good[:1] + b"\x80" + good[2:],  # indefinite length
             good[:4] + b"\x31" + good[5:])  # tbsCertificate tagged as a SET
    for bad in cases:
        e = raises(CertificateError, Certificate, bad)
        assert str(e).startswith("malformed: "), "%r: %s" % (bad[:8], e)


def test_every_single_byte_change_parses_or_is_malformed():
    # A cheap fuzz of the parser: no other exception may escape (the host test fuzzes more).
    good = _cert("signer-ec").der
    for i in range(0, len(good), 7):
        bad = bytearray(good)
        bad[i] ^= 0x5A
        try:
            Certificate(bad)
        except CertificateError:
            pass


def test_load_certificates_pem_and_der():
    with open(_path("root-rsa.pem")) as f:
        root_pem = f.read()
    with open(_path("signer-ec.pem")) as f:
        both = x509.load_certificates(root_pem + f.read())
    names = [c.subject_cn for c in both]
    assert names == ["Example Manufacturer Root RSA", "Firmware Signer EC"], "two from one PEM"
    one = x509.load_certificates(der.pem_to_der(root_pem)[0])
    assert one[0].der == both[0].der, "DER"
    e = raises(CertificateError, x509.load_certificates, "not a PEM")
    assert str(e).startswith("malformed: PEM"), str(e)
