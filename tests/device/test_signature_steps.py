# Device tests of the step-wise signature checks (lib/steps.py and the `_steps` generators of
# lib/ota): the same answers as the plain functions, the work cut into steps.
import hashlib

from devtest import raises
from ota import ecdsa, rsa, x509
from ota.signature import (SignatureError, decode_signature, verify_file_signature,
                           verify_file_signature_steps)
import steps
from test_x509 import _cert, _vectors  # the certificates and vectors of tests/device/data

# How long a step takes is make bench's to measure (tools/bench/signature_bench.py,
# `.worst-step`, targets 1 ms for ECDSA and the certificate check, 2 ms for RSA's one pow):
# a unit test that times code fails on a busy host. Here: the answers, and that the work is
# cut into steps at all (their count does not depend on the host).
_MIN_ECDSA_STEPS = 8  # the ladder in pieces, the table, the inversions


def _flip(data, bit):
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def _run_counting(make):
    """The result of the generator make() returns, and how many steps it took."""
    gen = make()
    count = 0
    while True:
        try:
            next(gen)
        except StopIteration as e:
            return e.value, count + 1
        count += 1


def test_ecdsa_steps_agree_with_verify():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    key = _cert("signer-ec").key
    sig = decode_signature(v["signatures"]["ec-der"])
    cases = ((digest, sig, True), (_flip(digest, 3), sig, False), (digest, _flip(sig, 300), False),
             (digest, b"\x30\x00", False))
    for d, s, expected in cases:
        assert ecdsa.verify(key, d, s) is expected, "plain"
        got, count = _run_counting(lambda: ecdsa.verify_steps(key, d, s))
        assert got is expected, "steps"
        assert count >= _MIN_ECDSA_STEPS or got is False, "ECDSA in %d steps" % count


def test_rsa_steps_agree_with_verify():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    n, e = _cert("signer-rsa2048").key
    sig = decode_signature(v["signatures"]["rsa2048-pkcs1"])
    for d, s in ((digest, sig), (_flip(digest, 9), sig), (digest, _flip(sig, 900)),
                 (digest, sig[1:])):
        expected = rsa.verify_pkcs1v15(n, e, d, s)
        got, _ = _run_counting(lambda: rsa.verify_pkcs1v15_steps(n, e, d, s))
        assert got is expected, "PKCS#1 v1.5"
        assert steps.run(rsa.verify_pss_steps(n, e, d, s)) is rsa.verify_pss(n, e, d, s), "PSS"
    for exponent in (3, 17, 65537, 0xFFFFFFFF):  # every top chunk of the step-wise pow
        s = 0x1234567 * 0x89ABCDEF12345 % n
        x = steps.run(rsa._pow_steps(s, exponent, n))
        assert x == pow(s, exponent, n), "s^%d" % exponent
    raises(ValueError, steps.run, rsa.verify_pkcs1v15_steps(n, 2, digest, sig))


def test_certificate_and_file_signature_steps_agree():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    roots = [_cert("root-rsa"), _cert("root-ec")]
    now = 848587508
    for stem, name in (("signer-ec", "ec-der"), ("signer-rsa2048", "rsa2048-pkcs1")):
        cert = _cert(stem)

        def check():
            parsed = x509.Certificate(cert.der)  # as the firmware does: parse, then the steps
            return (yield from x509.check_signing_certificate_steps(parsed, roots, now))

        result, count = _run_counting(check)
        root = roots[0 if "rsa" in stem else 1]
        assert result == (hashlib.sha256(root.der).digest(), root.not_before, root.not_after), \
            stem + " accepted by its root, named by its digest and validity"
        # ECDSA in steps; RSA-2048 with e = 65537 is one pow (ota/rsa.py, _pow_steps)
        assert count >= _MIN_ECDSA_STEPS if "ec" in stem else count >= 1, (stem, count)
        assert steps.run(cert.verify_signed_by_steps(roots[0] if "rsa" in stem else roots[1]))
        sig = decode_signature(v["signatures"][name])
        assert verify_file_signature(cert, digest, sig) is None
        assert steps.run(verify_file_signature_steps(cert, digest, sig)) is None, stem
        raises(SignatureError, steps.run, verify_file_signature_steps(cert, _flip(digest, 1), sig))
    raises(x509.CertificateError, steps.run,
           x509.check_signing_certificate_steps(_cert("by-other-root"), roots, now))


def test_the_table_of_g_is_that_of_the_integer_code():
    from ota import p256g
    flat = ecdsa._odd_multiples(ecdsa.GX, ecdsa.GY, 16)
    assert p256g.G_TABLE == b"".join(v.to_bytes(32, "little") for v in flat)


def test_the_native_p256_code_agrees_with_the_integers():
    """Only where the native code runs: u1 G + u2 Q of ota.ecfast against ota.ecdsa's integer
    version, including sums that meet a table point (doubled) or its negative (infinity)."""
    fast = ecdsa._native()
    if fast is None:
        return
    n, p = ecdsa.N, ecdsa.P
    g = (ecdsa.GX, ecdsa.GY)

    def affine(j):
        x, y, z = j
        if not z:
            return None
        zi = ecdsa.inverse(z, p)
        return x * zi * zi % p, y * zi * zi * zi % p

    q = ecdsa.mul_g(0xC0FFEE)
    for k1, k2, point in ((1, 0, g), (2, 2, g), (7, 9, g), (5, n - 5, g), (n - 1, 1, g),
                          (12345, 54321, q), (n - 2, 3, q), (2 ** 255 + 3, 2 ** 200 + 1, q)):
        got = steps.run(fast.mul2_steps(k1, k2, point[0], point[1]))
        assert got == affine(ecdsa._mul2(k1, k2, point[0], point[1])), "%d, %d" % (k1 % 99, k2)
    h = hashlib.sha256(b"x").digest()
    assert steps.run(fast.mul2_steps(int.from_bytes(h, "big"), 0, None, None)) == affine(
        ecdsa._mul2(int.from_bytes(h, "big"), 0, g[0], g[1])), "k G"


_CERT_FIELDS = ("der", "serial", "issuer", "subject", "issuer_cn", "subject_cn", "not_before",
                "not_after", "key_type", "key", "key_bits", "sig_kind", "sig_oid", "ca",
                "key_usage", "ext_key_usage", "unknown_critical", "version")


def test_a_certificate_parsed_in_steps_is_the_same_certificate():
    """x509.certificate_steps: what Certificate() makes, over several steps (the firmware's
    checks on the loop parse this way); a broken one fails the same way."""
    for stem in ("root-rsa", "root-ec", "signer-ec", "signer-rsa2048"):
        whole = _cert(stem)
        stepped, count = _run_counting(lambda: x509.certificate_steps(whole.der))
        assert count >= 3, (stem, count)  # the structure, the names, the key, the extensions
        for field in _CERT_FIELDS:
            assert getattr(stepped, field) == getattr(whole, field), (stem, field)
        assert bytes(stepped.tbs) == bytes(whole.tbs) and \
            bytes(stepped.signature) == bytes(whole.signature), stem
    der = _cert("signer-ec").der
    for broken in (der[:-1], b"\x31" + der[1:], b"\x30\x00", b"x" * 5000):
        raises(x509.CertificateError, x509.Certificate, broken)
        raises(x509.CertificateError, steps.run, x509.certificate_steps(broken))


def test_the_inverse_in_steps():
    """ecdsa.inverse_steps: a^-1 mod m, its garbage spread over steps (some 150 rounds for
    256 bits, a step every 40)."""
    for m in (ecdsa.N, ecdsa.P):
        for a in (1, 2, m - 1, 0xC1A4B3D2E1F00123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01):
            got, count = _run_counting(lambda: ecdsa.inverse_steps(a, m))
            assert got * a % m == 1 and got == ecdsa.inverse(a, m), hex(a)[:10]
            assert count >= 3 or a in (1, 2, m - 1), (hex(a)[:10], count)
