# Host tests: lib/ota's pure-Python verification agrees with `cryptography` (OpenSSL) on fresh
# keys, signatures and certificates made at test time, valid and tampered.
"""Keys are made once per session (functools.cache): RSA-4096 generation is the slow part.

Signatures: RSA 2048/3072/4096 (and moduli of 2057 and 2050 bits, PSS's odd emLen cases) with
PKCS#1 v1.5 and PSS (salt 0, 32, maximum), ECDSA P-256 (DER and raw r || s). Every case is
checked valid, with a flipped digest bit, a flipped signature bit, the signature of other data,
another key of the same kind, a truncated and a lengthened signature: our answer must equal
cryptography's each time. The P-256 arithmetic on its own: u1 G + u2 Q against OpenSSL's
scalar multiples (random scalars, and sums that meet a table point or infinity), the NAF
digits, random keys with r or s at 0, n or beyond, and points off the curve.

The same under the 32-bit MicroPython unix port, where ECDSA runs on the native field code
(lib/ota/p256v.py, viper): random keys, digests and signatures, valid and tampered, and
u1 G + u2 Q, against OpenSSL (here the integer version runs: CPython has no viper).

Certificates: the signing-certificate rules of ota.x509.check_signing_certificate against
roots signed with PKCS#1 v1.5, PSS and ECDSA; parsing compared with cryptography's; fuzzed
DER never escapes as anything but CertificateError, and no single-byte change of a valid
certificate is ever accepted.
"""

import base64
import datetime
import functools
import hashlib
import os
import random

import pytest
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa as crsa, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ota import der, ecdsa, rsa
from ota.signature import SignatureError, decode_signature, verify_file_signature
from ota.x509 import Certificate, CertificateError, check_signing_certificate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

UTC = datetime.timezone.utc
EPOCH_2000 = datetime.datetime(2000, 1, 1, tzinfo=UTC)
NOW = datetime.datetime(2026, 11, 21, 14, 45, 8, tzinfo=UTC)
NOW_S = int((NOW - EPOCH_2000).total_seconds())
PREHASHED = utils.Prehashed(hashes.SHA256())
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MORE = settings(FAST, max_examples=150)  # for the curve arithmetic: a few ms per example


# --- keys, made once ---------------------------------------------------------------------------

@functools.cache
def rsa_key(bits, which=0):
    if bits % 8 == 1:
        return _rsa_key_of_odd_size(bits)
    key = crsa.generate_private_key(public_exponent=65537, key_size=bits)
    assert key.key_size == bits
    return key


def _rsa_key_of_odd_size(bits):
    """OpenSSL rounds odd sizes down: build n = p * q of exactly `bits` bits (bits = 8k + 1)
    from primes of two generated keys, so PSS's emLen = k - 1 case is covered."""
    e = 65537
    for attempt in range(10):
        p = crsa.generate_private_key(e, bits + 1).private_numbers().p  # (bits + 1) / 2 bits
        q = crsa.generate_private_key(e, bits - 1).private_numbers().q  # (bits - 1) / 2 bits
        n = p * q
        if n.bit_length() == bits and p != q:
            d = pow(e, -1, (p - 1) * (q - 1))
            numbers = crsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                             crsa.RSAPublicNumbers(e, n))
            return numbers.private_key()
    raise AssertionError("no %d-bit modulus" % bits)


@functools.cache
def ec_key(which=0):
    return ec.generate_private_key(ec.SECP256R1())


def key_for(kind, which=0):
    return ec_key(which) if kind == "ec" else rsa_key(int(kind[3:]), which)


# --- signatures: ours against cryptography ----------------------------------------------------

def pss(salt):
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)


SALTS = {"pss-0": 0, "pss-32": 32, "pss-max": padding.PSS.MAX_LENGTH}


def sign(key, digest, scheme):
    if scheme == "ecdsa":
        return key.sign(digest, ec.ECDSA(PREHASHED))
    if scheme == "pkcs1":
        return key.sign(digest, padding.PKCS1v15(), PREHASHED)
    return key.sign(digest, pss(SALTS[scheme]), PREHASHED)


def theirs(pub, digest, sig, scheme):
    try:
        if scheme == "ecdsa":
            pub.verify(sig, digest, ec.ECDSA(PREHASHED))
        elif scheme == "pkcs1":
            pub.verify(sig, digest, padding.PKCS1v15(), PREHASHED)
        else:
            pub.verify(sig, digest, pss(padding.PSS.AUTO), PREHASHED)
        return True
    except (InvalidSignature, ValueError):
        return False


def ours(pub, digest, sig, scheme):
    if scheme == "ecdsa":
        numbers = pub.public_numbers()
        return ecdsa.verify((numbers.x, numbers.y), digest, sig)
    numbers = pub.public_numbers()
    if scheme == "pkcs1":
        return rsa.verify_pkcs1v15(numbers.n, numbers.e, digest, sig)
    return rsa.verify_pss(numbers.n, numbers.e, digest, sig)


CASES = [(kind, scheme) for kind in ("rsa2048", "rsa3072", "rsa4096", "rsa2057", "rsa2050")
         for scheme in ("pkcs1", "pss-0", "pss-32", "pss-max")] + [("ec", "ecdsa")]


def flip(data, bit):
    out = bytearray(data)
    out[(bit // 8) % len(out)] ^= 0x80 >> (bit % 8)
    return bytes(out)


@pytest.mark.parametrize("kind,scheme", CASES)
@FAST
@given(data=st.binary(max_size=64), bit=st.integers(0, 255), sbit=st.integers(0, 1 << 16),
       cut=st.integers(1, 600))
def test_verification_agrees_with_cryptography(kind, scheme, data, bit, sbit, cut):
    key = key_for(kind)
    pub = key.public_key()
    digest = hashlib.sha256(data).digest()
    sig = sign(key, digest, scheme)
    other_digest = hashlib.sha256(data + b"!").digest()
    other_sig = sign(key, other_digest, scheme)
    other_pub = key_for(kind, 1).public_key()
    cases = [
        ("valid", pub, digest, sig, True),
        ("digest bit", pub, flip(digest, bit), sig, False),
        ("signature bit", pub, digest, flip(sig, sbit), False),
        ("other data", pub, digest, other_sig, False),
        ("key mismatch", other_pub, digest, sig, False),
        ("truncated", pub, digest, sig[:max(0, len(sig) - cut)], False),
        ("lengthened", pub, digest, sig + b"\x00", False),
    ]
    for what, key_pub, dg, s, expected in cases:
        mine = ours(key_pub, dg, s, scheme)
        assert mine == theirs(key_pub, dg, s, scheme), "%s %s %s" % (kind, scheme, what)
        assert mine is expected, "%s %s %s" % (kind, scheme, what)


@pytest.mark.parametrize("kind", ["rsa2048", "rsa2057", "rsa2050"])
@FAST
@given(data=st.binary(max_size=32), salt=st.integers(0, 100))
def test_pss_with_a_stated_salt_length(kind, data, salt):
    key = key_for(kind)
    n = key.public_key().public_numbers()
    digest = hashlib.sha256(data).digest()
    sig = key.sign(digest, pss(salt), PREHASHED)
    assert rsa.verify_pss(n.n, n.e, digest, sig, salt), "stated salt"
    assert rsa.verify_pss(n.n, n.e, digest, sig), "auto"
    assert not rsa.verify_pss(n.n, n.e, digest, sig, salt + 1), "other salt length"
    if salt:
        assert not rsa.verify_pss(n.n, n.e, digest, sig, salt - 1), "other salt length"


@FAST
@given(data=st.binary(max_size=64))
def test_ecdsa_raw_and_malleable_forms(data):
    key = ec_key()
    nums = key.public_key().public_numbers()
    digest = hashlib.sha256(data).digest()
    r, s = utils.decode_dss_signature(key.sign(digest, ec.ECDSA(PREHASHED)))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert ecdsa.verify((nums.x, nums.y), digest, raw), "raw"
    high = utils.encode_dss_signature(r, ecdsa.N - s)
    assert ecdsa.verify((nums.x, nums.y), digest, high) == theirs(key.public_key(), digest, high,
                                                                  "ecdsa") is True, "(r, n - s)"
    point = key.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.CompressedPoint)
    assert ecdsa.decode_point(point) == (nums.x, nums.y), "compressed point"


@FAST
@given(k=st.integers(1, ecdsa.N - 1))
def test_p256_scalar_multiples_match(k):
    # u1 * G + 0 * Q through the verifier's own double-scalar routine, against OpenSSL's k * G
    expected = ec.derive_private_key(k, ec.SECP256R1()).public_key().public_numbers()
    x, y, z = ecdsa._mul2(k, 0, ecdsa.GX, ecdsa.GY)
    zi = ecdsa.inverse(z, ecdsa.P)
    assert (x * zi * zi % ecdsa.P, y * zi ** 3 % ecdsa.P) == (expected.x, expected.y)
    x, y, z = ecdsa._mul2(0, k, ecdsa.GX, ecdsa.GY)
    zi = ecdsa.inverse(z, ecdsa.P)
    assert (x * zi * zi % ecdsa.P, y * zi ** 3 % ecdsa.P) == (expected.x, expected.y)


def p256_point(k):
    """k * G from OpenSSL, as (x, y)."""
    nums = ec.derive_private_key(k, ec.SECP256R1()).public_key().public_numbers()
    return nums.x, nums.y


@MORE
@given(k1=st.integers(0, ecdsa.N - 1), k2=st.integers(0, ecdsa.N - 1),
       d=st.integers(1, ecdsa.N - 1))
@example(k1=1, k2=1, d=1)  # the sum meets the table point: doubled inside the addition
@example(k1=5, k2=ecdsa.N - 5, d=1)  # ... or its negative: infinity
@example(k1=ecdsa.N - 1, k2=ecdsa.N - 1, d=1)
@example(k1=0, k2=0, d=7)
@example(k1=0, k2=1, d=ecdsa.N - 1)
def test_p256_double_scalar_multiples_match(k1, k2, d):
    # u1 * G + u2 * Q for Q = d * G through the verifier's routine, against OpenSSL's
    # (u1 + u2 d) * G
    qx, qy = p256_point(d)
    total = (k1 + k2 * d) % ecdsa.N
    x, y, z = ecdsa._mul2(k1, k2, qx, qy)
    if not total:
        assert z == 0, "infinity"
        return
    zi = ecdsa.inverse(z, ecdsa.P)
    assert (x * zi * zi % ecdsa.P, y * zi ** 3 % ecdsa.P) == p256_point(total)


@MORE
@given(w=st.integers(2, 8), k=st.integers(0, (1 << 256) - 1))
@example(w=5, k=(1 << 256) - 1)
@example(w=6, k=ecdsa.N - 1)
def test_wnaf_digits_add_up(w, k):
    digits, count = ecdsa._wnaf(k, w)
    signed = [d - 256 if d > 127 else d for d in digits[:count]]
    assert sum(d << i for i, d in enumerate(signed)) == k
    nonzero = [i for i, d in enumerate(signed) if d]
    assert all(d & 1 and abs(d) < 1 << (w - 1) for d in signed if d)
    assert all(b - a >= w for a, b in zip(nonzero, nonzero[1:])), "NAF: w - 1 zeros between"
    assert not count or signed[-1], "count ends on a non-zero digit"


_NATIVE_SCRIPT = """
import json, sys
sys.path[:0] = ['lib']
from ota import ecdsa
assert ecdsa._native() is not None, 'no native P-256 code'
out = []
for key, digest, sig, k1, k2, qx, qy in json.load(open(sys.argv[-1])):
    point = ecdsa._native().mul2_steps(int(k1, 16), int(k2, 16), int(qx, 16), int(qy, 16))
    import steps
    xy = steps.run(point)
    out.append([ecdsa.verify(bytes.fromhex(key), bytes.fromhex(digest), bytes.fromhex(sig)),
                None if xy is None else ['%x' % xy[0], '%x' % xy[1]]])
print(json.dumps(out))
"""


def test_the_native_p256_code_agrees_with_cryptography(tmp_path):
    import json
    import subprocess

    import mp32
    reason = mp32.skip_reason()
    if reason:
        pytest.skip(reason)
    rng = random.Random(2026)
    cases, expected = [], []
    for i in range(24):
        key = ec.generate_private_key(ec.SECP256R1())
        pub = key.public_key()
        point = pub.public_bytes(serialization.Encoding.X962,
                                 serialization.PublicFormat.UncompressedPoint)
        digest = hashlib.sha256(b"%d" % i).digest()
        sig = key.sign(digest, ec.ECDSA(PREHASHED))
        if i % 3 == 1:
            digest = bytes([digest[0] ^ 1]) + digest[1:]
        elif i % 3 == 2:
            sig = sig[:-1] + bytes([sig[-1] ^ 0x10])
        try:
            pub.verify(sig, digest, ec.ECDSA(PREHASHED))
            ok = True
        except InvalidSignature:
            ok = False
        k1, k2 = rng.randrange(1, ecdsa.N), rng.randrange(0, ecdsa.N)
        q = pub.public_numbers()
        # k1 G + k2 Q by OpenSSL: the public key of the private scalar k1 + k2 d
        d = key.private_numbers().private_value
        total = (k1 + k2 * d) % ecdsa.N
        xy = None
        if total:
            n = ec.derive_private_key(total, ec.SECP256R1()).public_key().public_numbers()
            xy = ["%x" % n.x, "%x" % n.y]
        cases.append([point.hex(), digest.hex(), sig.hex(), "%x" % k1, "%x" % k2,
                      "%x" % q.x, "%x" % q.y])
        expected.append([ok, xy])
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    proc = subprocess.run([mp32._build()["plain"], "-X", "heapsize=4M", "-c", _NATIVE_SCRIPT,
                           str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == expected


@MORE
@given(secret=st.integers(1, ecdsa.N - 1), data=st.binary(max_size=64),
       other_r=st.integers(1, ecdsa.N - 1), other_s=st.integers(1, ecdsa.N - 1))
def test_ecdsa_random_keys_and_out_of_range_scalars(secret, data, other_r, other_s):
    key = ec.derive_private_key(secret, ec.SECP256R1())
    pub = key.public_key()
    nums = pub.public_numbers()
    digest = hashlib.sha256(data).digest()
    r, s = utils.decode_dss_signature(key.sign(digest, ec.ECDSA(PREHASHED)))
    n = ecdsa.N
    cases = [((r, s), True), ((r, n - s), True), ((other_r, other_s), False),
             ((other_r, s), False), ((r, other_s), False)]
    cases += [(bad, False) for bad in ((0, s), (r, 0), (0, 0), (n, s), (r, n), (r + n, s),
                                       (r, s + n), (n + 1, s), (r, (1 << 256) - 1),
                                       ((1 << 256) - 1, s), (r - n, s), (r, -s))]
    for i, ((rr, ss), expected) in enumerate(cases):
        what = "case %d" % i
        if rr >= 0 and ss >= 0:
            der_sig = utils.encode_dss_signature(rr, ss)
            assert ecdsa.verify((nums.x, nums.y), digest, der_sig) is expected, "DER " + what
            assert theirs(pub, digest, der_sig, "ecdsa") is expected, "OpenSSL " + what
        if 0 <= rr < 1 << 256 and 0 <= ss < 1 << 256:
            raw = rr.to_bytes(32, "big") + ss.to_bytes(32, "big")
            assert ecdsa.verify((nums.x, nums.y), digest, raw) is expected, "raw " + what
    assert not ecdsa.verify((nums.x, nums.y), hashlib.sha256(data + b"!").digest(),
                            utils.encode_dss_signature(r, s)), "other digest"


@MORE
@given(x=st.integers(0, (1 << 256) - 1), odd=st.booleans())
@example(x=0, odd=False)
@example(x=ecdsa.P, odd=False)
@example(x=ecdsa.GX, odd=True)
def test_ec_points_decode_like_openssl(x, odd):
    point = bytes((3 if odd else 2,)) + x.to_bytes(32, "big")
    try:
        nums = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point).public_numbers()
        expected = (nums.x, nums.y)
    except ValueError:
        expected = None
    try:
        mine = ecdsa.decode_point(point)
    except ValueError:
        mine = None
    assert mine == expected
    if mine:
        full = b"\x04" + mine[0].to_bytes(32, "big") + mine[1].to_bytes(32, "big")
        assert ecdsa.decode_point(full) == mine


def test_ec_keys_off_the_curve_are_refused():
    digest = hashlib.sha256(b"firmware").digest()
    key = ec_key()
    nums = key.public_key().public_numbers()
    sig = key.sign(digest, ec.ECDSA(PREHASHED))
    assert ecdsa.verify((nums.x, nums.y), digest, sig)
    p = ecdsa.P
    for bad in ((nums.x, nums.y + 1), (nums.x, p - nums.y + 1), (0, 0), (nums.x + p, nums.y),
                (nums.x, nums.y + p), (nums.x, -nums.y), (1, 0)):
        with pytest.raises(ValueError, match="not on the curve"):
            ecdsa.verify(bad, digest, sig)
    for bad in (b"\x00", b"\x04" + bytes(64), b"\x04" + p.to_bytes(32, "big") + bytes(32),
                b"\x04" + nums.x.to_bytes(32, "big") + (nums.y ^ 1).to_bytes(32, "big")):
        with pytest.raises(ValueError):
            ecdsa.verify(bad, digest, sig)
    # the negated key is on the curve and must not verify
    assert not ecdsa.verify((nums.x, p - nums.y), digest, sig)


@FAST
@given(sig=st.binary(min_size=0, max_size=600))
def test_random_signatures_are_refused(sig):
    digest = hashlib.sha256(b"firmware").digest()
    for kind, scheme in (("rsa2048", "pkcs1"), ("rsa2048", "pss-32"), ("ec", "ecdsa")):
        pub = key_for(kind).public_key()
        assert ours(pub, digest, sig, scheme) is False
        assert theirs(pub, digest, sig, scheme) is False


# --- the file-signature entry point -----------------------------------------------------------

def signer_cert(key, issuer_key=None, issuer_name=None, **kw):
    return make_cert("Firmware Signer", key, issuer_name or name("Root"), issuer_key or key, **kw)


@pytest.mark.parametrize("kind,scheme", [("rsa2048", "pkcs1"), ("rsa2048", "pss-max"),
                                         ("rsa3072", "pkcs1"), ("rsa4096", "pss-32"),
                                         ("ec", "ecdsa")])
def test_verify_file_signature(kind, scheme):
    key = key_for(kind)
    cert = Certificate(signer_cert(key).public_bytes(serialization.Encoding.DER))
    firmware = bytes(range(256)) * 40
    digest = hashlib.sha256(firmware).digest()
    sig = sign(key, digest, scheme)
    text = base64.b64encode(sig).decode()
    assert verify_file_signature(cert, digest, text) is None
    assert verify_file_signature(cert, digest, sig) is None
    for bad in (flip(sig, 5), sig[:-1], sign(key, hashlib.sha256(b"x").digest(), scheme)):
        with pytest.raises(SignatureError, match="does not match"):
            verify_file_signature(cert, digest, bad)
    with pytest.raises(SignatureError, match="does not match"):
        verify_file_signature(cert, hashlib.sha256(firmware + b"\x00").digest(), sig)
    with pytest.raises(SignatureError, match="not valid base64"):
        verify_file_signature(cert, digest, text[:-4] + "!!!!")


@given(data=st.binary(max_size=600))
@settings(max_examples=200, deadline=None)
def test_base64_round_trip(data):
    text = base64.b64encode(data).decode()
    if data:
        assert decode_signature(text) == data
        assert decode_signature(base64.encodebytes(data)) == data  # wrapped at 76
    else:
        with pytest.raises(SignatureError):
            decode_signature(text)


@given(text=st.text(alphabet="ABCabc019+/=-_!* \n\x00é", max_size=40))
@settings(max_examples=300, deadline=None)
def test_base64_never_accepts_what_strict_python_refuses(text):
    try:
        mine = decode_signature(text)
    except SignatureError:
        return
    assert mine == base64.b64decode("".join(text.split()), validate=True)
    assert base64.b64encode(mine).decode() == "".join(text.split()), "canonical"


# --- certificates -------------------------------------------------------------------------------

def name(cn, org="Example Chargers"):
    return cx509.Name([cx509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                       cx509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(cn, key, issuer_name, issuer_key, ca=False, ku="sign", eku=(
        ExtendedKeyUsageOID.CODE_SIGNING,), start=NOW - datetime.timedelta(days=30),
        end=NOW + datetime.timedelta(days=365), scheme=None, extra=(), subject=None,
        serial=None, basic=True, hash_alg=None):
    b = (cx509.CertificateBuilder().subject_name(subject or name(cn)).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(serial or cx509.random_serial_number())
         .not_valid_before(start).not_valid_after(end))
    if basic:
        b = b.add_extension(cx509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if ku is not None:
        flags = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                     crl_sign=False, encipher_only=False, decipher_only=False)
        flags.update({"sign": {"digital_signature": True},
                      "sign+enc": {"digital_signature": True, "key_encipherment": True},
                      "ca": {"key_cert_sign": True, "crl_sign": True},
                      "ca+sign": {"key_cert_sign": True, "digital_signature": True},
                      "crl": {"crl_sign": True},
                      "enc": {"key_encipherment": True}}[ku])
        b = b.add_extension(cx509.KeyUsage(**flags), critical=True)
    if eku is not None:
        b = b.add_extension(cx509.ExtendedKeyUsage(list(eku)), critical=False)
    for ext, critical in extra:
        b = b.add_extension(ext, critical=critical)
    algorithm = hash_alg or hashes.SHA256()
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        return b.sign(issuer_key, algorithm)
    if scheme == "pss":
        return b.sign(issuer_key, algorithm, rsa_padding=pss(32))
    return b.sign(issuer_key, algorithm)


ROOT_KINDS = {"rsa-pkcs1": ("rsa2048", None), "rsa-pss": ("rsa3072", "pss"), "ec": ("ec", None)}


class Pki:
    """A manufacturer root of one kind and the means to issue from it."""

    def __init__(self, root_kind, which=0):
        kind, self.scheme = ROOT_KINDS[root_kind]
        self.key = key_for(kind, which)
        self.name = name("Manufacturer Root %s %d" % (root_kind, which))
        self.cert = make_cert(None, self.key, self.name, self.key, ca=True, ku="ca", eku=None,
                              start=NOW - datetime.timedelta(days=3650),
                              end=NOW + datetime.timedelta(days=3650), scheme=self.scheme,
                              subject=self.name)

    def root(self):
        return ours_cert(self.cert)

    def issue(self, leaf_kind="rsa2048", **kw):
        return make_cert(kw.pop("cn", "Firmware Signer"), key_for(leaf_kind), self.name,
                         self.key, scheme=self.scheme, **kw)


def ours_cert(cert):
    return Certificate(cert.public_bytes(serialization.Encoding.DER))


def refused(cert, roots, now_s, reason):
    with pytest.raises(CertificateError) as info:
        check_signing_certificate(ours_cert(cert), roots, now_s)
    assert reason in str(info.value), str(info.value)


def agrees_with_cryptography(leaf, root):
    # cryptography's own check of "signed directly by this root" (signature only)
    try:
        leaf.verify_directly_issued_by(root)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


@functools.cache
def pki(root_kind, which=0):
    return Pki(root_kind, which)


@pytest.mark.parametrize("root_kind", list(ROOT_KINDS))
@pytest.mark.parametrize("leaf_kind", ["rsa2048", "rsa4096", "ec"])
def test_chains_directly_to_a_root(root_kind, leaf_kind):
    p = pki(root_kind)
    leaf = p.issue(leaf_kind)
    assert agrees_with_cryptography(leaf, p.cert)
    roots = [pki("ec", 1).root(), p.root()]
    assert check_signing_certificate(ours_cert(leaf), roots, NOW_S) is None
    assert check_signing_certificate(ours_cert(leaf), roots, None) is None
    assert ours_cert(leaf).verify_signed_by(p.root()) is True


@pytest.mark.parametrize("root_kind", list(ROOT_KINDS))
def test_other_root_is_refused(root_kind):
    p, other = pki(root_kind), pki(root_kind, 1)
    leaf = other.issue()
    refused(leaf, [p.root()], NOW_S, "not signed by a manufacturer root")
    refused(leaf, [], None, "not signed by a manufacturer root")
    # the right name but another key: the signature decides, not the name
    forged = make_cert("Firmware Signer", rsa_key(2048), p.name, other.key, scheme=other.scheme)
    assert not agrees_with_cryptography(forged, p.cert)
    refused(forged, [p.root()], NOW_S, "not signed by a manufacturer root")


@pytest.mark.parametrize("root_kind", list(ROOT_KINDS))
def test_validity_with_and_without_clock(root_kind):
    p = pki(root_kind)
    roots = [p.root()]
    expired = p.issue(start=NOW - datetime.timedelta(days=400),
                      end=NOW - datetime.timedelta(seconds=1))
    early = p.issue(start=NOW + datetime.timedelta(seconds=1), end=NOW + datetime.timedelta(days=9))
    refused(expired, roots, NOW_S, "expired")
    refused(early, roots, NOW_S, "not yet valid")
    assert check_signing_certificate(ours_cert(expired), roots, None) is None
    assert check_signing_certificate(ours_cert(early), roots, None) is None
    edge = p.issue(start=NOW, end=NOW)
    assert check_signing_certificate(ours_cert(edge), roots, NOW_S) is None, "inclusive bounds"


def test_self_signed_non_root_is_refused():
    key = rsa_key(2048)
    self_signed = make_cert("Firmware Signer", key, name("Firmware Signer"), key)
    refused(self_signed, [pki("rsa-pkcs1").root()], NOW_S,
            "self-signed certificate is not a manufacturer root")
    # ... unless it is itself an installed root (and may sign code)
    root_signer = make_cert("Root Signer", key, name("Root Signer"), key, ca=True, ku="ca+sign")
    root = ours_cert(root_signer)
    assert check_signing_certificate(root, [root], NOW_S) is None


@pytest.mark.parametrize("ku,ok", [("sign", True), ("sign+enc", True), (None, True),
                                   ("enc", False), ("crl", False), ("ca", False)])
def test_key_usage(ku, ok):
    p = pki("rsa-pkcs1")
    leaf = p.issue(ku=ku)
    if ok:
        assert check_signing_certificate(ours_cert(leaf), [p.root()], NOW_S) is None
    else:
        refused(leaf, [p.root()], NOW_S, "key usage does not allow code signing")


@pytest.mark.parametrize("eku,ok", [
    ((ExtendedKeyUsageOID.CODE_SIGNING,), True),
    ((ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CODE_SIGNING), True),
    (None, True),
    ((ExtendedKeyUsageOID.SERVER_AUTH,), False),
    ((ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION), False),
    ((ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,), False),
])
def test_extended_key_usage(eku, ok):
    p = pki("ec")
    leaf = p.issue("ec", eku=eku)
    if ok:
        assert check_signing_certificate(ours_cert(leaf), [p.root()], NOW_S) is None
    else:
        refused(leaf, [p.root()], NOW_S, "extended key usage does not allow code signing")


@pytest.mark.parametrize("root_kind", list(ROOT_KINDS))
def test_intermediate_chain_is_refused(root_kind):
    p = pki(root_kind)
    inter_key = rsa_key(2048, 2)
    inter = make_cert("Intermediate", inter_key, p.name, p.key, ca=True, ku="ca", eku=None,
                      scheme=p.scheme)
    leaf = make_cert("Firmware Signer", rsa_key(2048), inter.subject, inter_key)
    assert agrees_with_cryptography(inter, p.cert) and agrees_with_cryptography(leaf, inter)
    refused(leaf, [p.root()], NOW_S, "not signed by a manufacturer root")
    refused(leaf, [p.root()], None, "not signed by a manufacturer root")


def test_root_rules():
    key = rsa_key(2048, 3)
    leaf_key = rsa_key(2048)
    for ca, ku, reason in ((False, "ca", "manufacturer root is not a CA"),
                           (True, "crl", "manufacturer root may not sign certificates")):
        root = make_cert("Odd Root", key, name("Odd Root"), key, ca=ca, ku=ku, eku=None)
        leaf = make_cert("Firmware Signer", leaf_key, root.subject, key)
        refused(leaf, [ours_cert(root)], NOW_S, reason)
    no_basic = make_cert("Odd Root", key, name("Odd Root"), key, ku="ca", eku=None, basic=False)
    leaf = make_cert("Firmware Signer", leaf_key, no_basic.subject, key)
    refused(leaf, [ours_cert(no_basic)], NOW_S, "manufacturer root is not a CA")
    old_root = make_cert("Old Root", key, name("Old Root"), key, ca=True, ku="ca", eku=None,
                         start=NOW - datetime.timedelta(days=900),
                         end=NOW - datetime.timedelta(days=1))
    leaf = make_cert("Firmware Signer", leaf_key, old_root.subject, key)
    refused(leaf, [ours_cert(old_root)], NOW_S, "manufacturer root expired")
    assert check_signing_certificate(ours_cert(leaf), [ours_cert(old_root)], None) is None


def test_root_rollover_two_roots_with_one_name():
    old, new = rsa_key(2048, 0), rsa_key(2048, 1)
    root_name = name("Rolling Root")
    roots = [ours_cert(make_cert(None, k, root_name, k, ca=True, ku="ca", eku=None,
                                 subject=root_name)) for k in (old, new)]
    leaf = make_cert("Firmware Signer", ec_key(), root_name, new)
    assert check_signing_certificate(ours_cert(leaf), roots, NOW_S) is None


def test_unsupported_algorithms_are_refused():
    p = pki("rsa-pkcs1")
    leaf = p.issue(hash_alg=hashes.SHA384())
    refused(leaf, [p.root()], NOW_S, "unsupported signature algorithm 1.2.840.113549.1.1.12")
    p384 = ec.generate_private_key(ec.SECP384R1())
    leaf = make_cert("Firmware Signer", p384, p.name, p.key)
    refused(leaf, [p.root()], NOW_S, "unsupported public key 1.2.840.10045.2.1")
    leaf = make_cert("Firmware Signer", rsa_key(2048), p.name, p.key, extra=[
        (cx509.UnrecognizedExtension(cx509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"), True)])
    refused(leaf, [p.root()], NOW_S, "unsupported critical extension 1.2.3.4")
    leaf = make_cert("Firmware Signer", rsa_key(2048), p.name, p.key, extra=[
        (cx509.UnrecognizedExtension(cx509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"), False)])
    assert check_signing_certificate(ours_cert(leaf), [p.root()], NOW_S) is None, "non-critical"


def test_oversized_certificate_is_refused():
    p = pki("rsa-pkcs1")
    names = [cx509.DNSName("host-%03d.firmware.example.com" % i) for i in range(150)]
    leaf = p.issue(extra=[(cx509.SubjectAlternativeName(names), False)])
    data = leaf.public_bytes(serialization.Encoding.DER)
    assert len(data) > 4096
    with pytest.raises(CertificateError, match="^oversized certificate$"):
        Certificate(data)


@FAST
@given(data=st.binary(max_size=300))
def test_garbage_der_is_refused(data):
    with pytest.raises(CertificateError, match="^malformed: "):
        Certificate(data)


@functools.cache
def fuzz_material():
    p = pki("ec")
    leaf = p.issue("ec")
    return p.root(), leaf.public_bytes(serialization.Encoding.DER)


@settings(max_examples=300, deadline=None)
@given(at=st.integers(0, 10000), value=st.integers(0, 255))
def test_no_single_byte_change_is_accepted(at, value):
    root, good = fuzz_material()
    bad = bytearray(good)
    at %= len(bad)
    if bad[at] == value:
        value ^= 0xFF
    bad[at] = value
    try:
        cert = Certificate(bad)
    except CertificateError as e:
        assert str(e).startswith(("malformed: ", "oversized")), str(e)
        return
    with pytest.raises(CertificateError):
        check_signing_certificate(cert, [root], NOW_S)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(1, 10000), junk=st.binary(max_size=8))
def test_truncated_or_extended_der_is_malformed(cut, junk):
    _, good = fuzz_material()
    for bad in (good[:len(good) - 1 - cut % len(good)], good + (junk or b"\x00")):
        with pytest.raises(CertificateError, match="^malformed: "):
            Certificate(bad)


@settings(max_examples=40, deadline=None)
@given(start=st.datetimes(min_value=datetime.datetime(1950, 1, 1),
                          max_value=datetime.datetime(2200, 1, 1)),
       days=st.integers(0, 3 * 365 * 1000), serial=st.integers(1, (1 << 159) - 1),
       # cryptography takes a commonName of up to 64 UTF-8 bytes: 16 characters of up to 4
       cn=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                  min_size=1, max_size=16))
def test_parsed_fields_match_cryptography(start, days, serial, cn):
    start = start.replace(microsecond=0, tzinfo=UTC)
    last = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    end = start + datetime.timedelta(days=min(days, (last - start).days))
    key = ec_key()
    cert = make_cert(cn, key, name("Issuer"), key, start=start, end=end, serial=serial)
    mine = ours_cert(cert)
    assert mine.serial == cert.serial_number
    assert mine.not_before == int((cert.not_valid_before_utc - EPOCH_2000).total_seconds())
    assert mine.not_after == int((cert.not_valid_after_utc - EPOCH_2000).total_seconds())
    assert mine.subject_cn == cn and mine.issuer_cn == "Issuer"
    assert mine.subject == cert.subject.public_bytes() and mine.issuer == cert.issuer.public_bytes()
    assert bytes(mine.tbs) == cert.tbs_certificate_bytes
    assert bytes(mine.signature) == cert.signature


def test_pem_to_der_matches_cryptography():
    certs = [pki(k).cert for k in ROOT_KINDS]
    text = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)
    mine = der.pem_to_der("junk\n" + text + "more junk\n")
    theirs_ = cx509.load_pem_x509_certificates(text.encode())
    assert mine == [c.public_bytes(serialization.Encoding.DER) for c in theirs_]
    with pytest.raises(der.DERError):
        der.pem_to_der(text.replace("M", "M\x01", 1))


def test_small_public_exponent_is_accepted_and_verified():
    p = pki("rsa-pkcs1")
    key = crsa.generate_private_key(public_exponent=3, key_size=2048)
    leaf = make_cert("Firmware Signer e=3", key, p.name, p.key)
    cert = ours_cert(leaf)
    assert check_signing_certificate(cert, [p.root()], NOW_S) is None
    digest = hashlib.sha256(b"firmware").digest()
    assert verify_file_signature(cert, digest, sign(key, digest, "pkcs1")) is None
    with pytest.raises(SignatureError, match="does not match"):
        verify_file_signature(cert, digest, sign(key, hashlib.sha256(b"x").digest(), "pkcs1"))


def test_the_device_csr_is_valid():
    # the bytes tests/device/test_csr.py expects from the device: a CSR OpenSSL accepts
    import os
    from ota import csr
    path = os.path.join(os.path.dirname(__file__), "device", "data", "csr-rfc6979.der")
    with open(path, "rb") as f:
        data = f.read()
    request = cx509.load_der_x509_csr(data)
    assert request.is_signature_valid
    assert request.signature_hash_algorithm.name == "sha256"
    assert request.public_key().curve.name == "secp256r1"
    assert request.subject.rfc4514_string() == "CN=CP_1,O=Example CPO"
    d = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
    key = serialization.load_der_private_key(csr.pkcs8(d), None)
    assert key.private_numbers().private_value == d
    assert key.public_key().public_numbers().x == request.public_key().public_numbers().x


@settings(max_examples=20, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.text(alphabet=st.characters(
    min_codepoint=32, max_codepoint=126), min_size=1, max_size=64))
def test_csrs_of_random_keys_and_names_verify_with_openssl(seed, name):
    from ota import csr
    draws = [seed, bytes(31) + b"\x01"]  # a seed of 0 or >= n is drawn again
    key = csr.new_key(lambda n: draws.pop(0))
    request = cx509.load_der_x509_csr(csr.request(key, "CP_1", name))
    assert request.is_signature_valid
    assert request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == name
    private = serialization.load_der_private_key(key, None)
    assert private.public_key().public_numbers() == request.public_key().public_numbers()
