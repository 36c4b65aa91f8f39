# Device tests of RSA (PKCS#1 v1.5, PSS) and ECDSA P-256 verification and of the firmware
# signature entry point (lib/ota/rsa.py, ecdsa.py, signature.py), on fixed vectors made once by
# tests/device/data/make_vectors.py with `cryptography`.
import hashlib
import json

from devtest import raises
from ota import ecdsa, rsa, x509
from ota.signature import SignatureError, decode_signature, verify_file_signature


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


def _sig(v, name):
    return decode_signature(v["signatures"][name])


def _flip(data, bit):
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


_SIGNERS = {"rsa2048": "signer-rsa2048", "rsa3072": "signer-rsa3072-pss",
            "rsa4096": "signer-rsa4096"}


def test_the_digest_is_the_sha256_of_the_whole_file():
    with open(_path("firmware.bin"), "rb") as f:
        data = f.read()
    assert hashlib.sha256(data).digest() == bytes.fromhex(_vectors()["firmware_sha256"]), "hash"


def test_rsa_pkcs1v15_valid_and_tampered():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    for bits, stem in _SIGNERS.items():
        n, e = _cert(stem).key
        sig = _sig(v, bits + "-pkcs1")
        assert rsa.verify_pkcs1v15(n, e, digest, sig), bits + " valid"
        assert not rsa.verify_pkcs1v15(n, e, _flip(digest, 77), sig), bits + " digest bit"
        assert not rsa.verify_pkcs1v15(n, e, digest, _flip(sig, 1000)), bits + " signature bit"
        assert not rsa.verify_pkcs1v15(n, e, digest, _flip(sig, 7)), bits + " top bit"
        assert not rsa.verify_pkcs1v15(n, e, digest, sig[:-1]), bits + " truncated"
        assert not rsa.verify_pkcs1v15(n, e, digest, b"\x00" + sig), bits + " longer"
        assert not rsa.verify_pkcs1v15(n, e, digest, n.to_bytes(len(sig), "big")), bits + " s=n"
        assert not rsa.verify_pss(n, e, digest, sig), bits + " PKCS#1 is not PSS"
    n, e = _cert("signer-rsa2048").key
    assert not rsa.verify_pkcs1v15(n, e, bytes.fromhex(v["other_sha256"]),
                                   _sig(v, "rsa2048-pkcs1")), "other data"
    assert rsa.verify_pkcs1v15(n, e, bytes.fromhex(v["other_sha256"]),
                               _sig(v, "rsa2048-pkcs1-other")), "other data, its signature"
    n3, e3 = _cert("signer-rsa3072-pss").key
    assert not rsa.verify_pkcs1v15(n3, e3, digest, b"\x01" * 384), "garbage of the right length"
    n4, e4 = _cert("signer-rsa4096").key
    assert not rsa.verify_pkcs1v15(n4, e4, digest, _sig(v, "rsa2048-pkcs1")), "key mismatch"


def test_rsa_pss_salt_lengths():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    for bits, stem in _SIGNERS.items():
        n, e = _cert(stem).key
        for salt in ("max", "32", "0"):
            sig = _sig(v, "%s-pss-%s" % (bits, salt))
            assert rsa.verify_pss(n, e, digest, sig), "%s salt %s, auto" % (bits, salt)
            assert not rsa.verify_pss(n, e, _flip(digest, 3), sig), "%s %s digest" % (bits, salt)
            assert not rsa.verify_pss(n, e, digest, _flip(sig, 900)), "%s %s sig" % (bits, salt)
            assert not rsa.verify_pkcs1v15(n, e, digest, sig), "%s PSS is not PKCS#1" % bits
        assert rsa.verify_pss(n, e, digest, _sig(v, bits + "-pss-32"), 32), bits + " salt 32"
        assert not rsa.verify_pss(n, e, digest, _sig(v, bits + "-pss-32"), 31), bits + " not 31"
        assert not rsa.verify_pss(n, e, digest, _sig(v, bits + "-pss-max"), 32), bits + " max"
        assert rsa.verify_pss(n, e, digest, _sig(v, bits + "-pss-0"), 0), bits + " salt 0"


def test_rsa_keys_outside_the_rules_are_refused():
    digest = bytes(32)
    small_n, e = _cert("signer-rsa1024").key
    err = raises(ValueError, rsa.verify_pkcs1v15, small_n, e, digest, bytes(128))
    assert "1024 bits" in str(err), str(err)
    n, _ = _cert("signer-rsa2048").key
    for bad_e in (1, 2, 65536, (1 << 40) + 1):
        raises(ValueError, rsa.verify_pkcs1v15, n, bad_e, digest, bytes(256))
    raises(ValueError, rsa.verify_pss, n << 2100, 65537, digest, bytes(520))  # over 4096 bits
    raises(ValueError, rsa.verify_pkcs1v15, n, 65537, bytes(20), bytes(256))  # not SHA-256
    assert rsa.bit_length(1) == 1 and rsa.bit_length(255) == 8 and rsa.bit_length(256) == 9, \
        "bit_length"
    assert rsa.bit_length(n) == 2048, "2048"


def test_mgf1_known_answer():
    # MGF1-SHA-256("abc", 40): the first block is SHA-256("abc" || 00000000)
    out = rsa.mgf1(b"abc", 40)
    assert len(out) == 40, "length"
    assert out[:32] == hashlib.sha256(b"abc\x00\x00\x00\x00").digest(), "block 0"
    assert out[32:] == hashlib.sha256(b"abc\x00\x00\x00\x01").digest()[:8], "block 1"


def test_ecdsa_der_and_raw():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    key = _cert("signer-ec").key
    der_sig = _sig(v, "ec-der")
    raw = _sig(v, "ec-raw")
    assert len(raw) == 64 and der_sig[0] == 0x30, "forms"
    assert ecdsa.verify(key, digest, der_sig), "DER"
    assert ecdsa.verify(key, digest, raw), "raw r || s"
    assert ecdsa.verify(bytes.fromhex(v["ec_point_uncompressed"]), digest, raw), "key as bytes"
    assert ecdsa.verify(key, bytes.fromhex(v["other_sha256"]), _sig(v, "ec-der-other")), "other"


def test_ecdsa_tampering_is_refused():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    key = _cert("signer-ec").key
    raw = _sig(v, "ec-raw")
    der_sig = _sig(v, "ec-der")
    assert not ecdsa.verify(key, _flip(digest, 200), raw), "digest bit"
    assert not ecdsa.verify(key, digest, _flip(raw, 100)), "r bit"
    assert not ecdsa.verify(key, digest, _flip(raw, 300)), "s bit"
    assert not ecdsa.verify(key, digest, _flip(der_sig, 8 * len(der_sig) - 3)), "DER bit"
    assert not ecdsa.verify(key, digest, der_sig[:-1]), "truncated DER"
    assert not ecdsa.verify(key, digest, raw[:63]), "truncated raw"
    assert not ecdsa.verify(key, digest, der_sig + b"\x00"), "trailing byte"
    assert not ecdsa.verify(key, bytes.fromhex(v["other_sha256"]), raw), "other data"
    assert not ecdsa.verify(key, digest, _sig(v, "ec-der-other")), "signature of other data"
    other_key = _cert("root-ec").key
    assert not ecdsa.verify(other_key, digest, raw), "key mismatch"
    r = raw[:32]
    s = raw[32:]
    zero = bytes(32)
    n = ecdsa.N.to_bytes(32, "big")
    for bad in (zero + s, r + zero, n + s, r + n):
        assert not ecdsa.verify(key, digest, bad), "r or s out of range"
    # (r, n - s) is the other valid signature of the same digest (ECDSA is malleable)
    s2 = (ecdsa.N - int.from_bytes(s, "big")).to_bytes(32, "big")
    assert ecdsa.verify(key, digest, r + s2), "r, n - s"


def test_ecdsa_in_a_lent_buffer_gives_the_same_answers():
    # The workspace made in a buffer full of another user's bytes (the shared block after a
    # download): zeroed first, so the verdicts are those of a fresh workspace, and the
    # signature's own bytes are never in it.
    from steps import run
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    key = _cert("signer-ec").key
    raw = _sig(v, "ec-raw")
    work = bytearray(b"\xa5" * 4096)
    for _ in range(2):  # and again in the same buffer, as left by the first
        assert run(ecdsa.verify_steps(key, digest, raw, work)), "valid"
        assert not run(ecdsa.verify_steps(key, digest, _flip(raw, 100), work)), "r bit"
        assert not run(ecdsa.verify_steps(key, _flip(digest, 3), raw, work)), "digest bit"
    assert run(ecdsa.verify_steps(key, digest, raw, bytearray(64))), "too small: its own"


def test_ec_points():
    v = _vectors()
    full = bytes.fromhex(v["ec_point_uncompressed"])
    short = bytes.fromhex(v["ec_point_compressed"])
    point = ecdsa.decode_point(full)
    assert ecdsa.decode_point(short) == point, "compressed"
    assert ecdsa.on_curve(ecdsa.GX, ecdsa.GY), "G"
    off = full[:64] + bytes((full[64] ^ 1,))
    err = raises(ValueError, ecdsa.decode_point, off)
    assert "not on the curve" in str(err), str(err)
    for bad in (b"\x00", full[:64], b"\x05" + full[1:], short[:32], b"\x02" + b"\xff" * 32):
        raises(ValueError, ecdsa.decode_point, bad)
    raises(ValueError, ecdsa.verify, (point[0], point[1] ^ 1), bytes(32), bytes(64))
    raises(ValueError, ecdsa.verify, point, bytes(20), bytes(64))


def test_field_inverse():
    for a in (1, 2, 3, ecdsa.GX, ecdsa.P - 1):
        assert a * ecdsa.inverse(a, ecdsa.P) % ecdsa.P == 1, "mod p %d" % (a % 1000)
        assert a * ecdsa.inverse(a, ecdsa.N) % ecdsa.N == 1, "mod n %d" % (a % 1000)


def _affine(point):
    x, y, z = point
    zi = ecdsa.inverse(z, ecdsa.P)
    return x * zi * zi % ecdsa.P, y * zi * zi * zi % ecdsa.P


def test_wnaf_digits():
    # the NAF digits are worked out in a small-int window over the bytes of k: check they
    # add up to k and keep the NAF shape, on this interpreter's ints and bytearrays
    n = ecdsa.N
    for k in (0, 1, 2, 3, 31, 32, 33, 255, 256, 0x7F7F, n - 1, n - 2, n >> 1, (1 << 256) - 1,
              1 << 255, (1 << 255) - 1, ecdsa.GX, ecdsa.GY, ecdsa.P - 1):
        for w in (4, 5, 6, 7):
            digits, count = ecdsa._wnaf(k, w)
            total = 0
            last = -w
            for i in range(count):
                d = digits[i] - 256 if digits[i] > 127 else digits[i]
                if d:
                    assert d & 1 and -(1 << (w - 1)) < d < 1 << (w - 1), "digit %d" % d
                    assert i - last >= w, "non-zero digits %d apart" % (i - last)
                    last = i
                total += d << i
            assert total == k, "k %x, w %d" % (k, w)
            assert count == 0 or digits[count - 1], "count"


def test_double_scalar_special_cases():
    # Q = G: the sum meets a table point on the way (doubled inside the addition) or its
    # negative (infinity); n - k and k cancel
    g = (ecdsa.GX, ecdsa.GY)
    n = ecdsa.N
    for k1, k2 in ((1, 1), (2, 2), (3, 1), (1, 3), (7, 9), (n - 1, 2), (n - 2, n - 1)):
        expected = _affine(ecdsa._mul2((k1 + k2) % n, 0, g[0], g[1]))
        assert _affine(ecdsa._mul2(k1, k2, g[0], g[1])) == expected, "%d + %d" % (k1 % 99, k2)
    for k in (1, 2, 5, 12345, n >> 1):
        assert ecdsa._mul2(k, n - k, g[0], g[1])[2] == 0, "k + (n - k) is infinity"
        assert ecdsa._mul2(n - k, k, g[0], g[1])[2] == 0, "(n - k) + k is infinity"
    assert ecdsa._mul2(0, 0, g[0], g[1])[2] == 0, "0"
    assert _affine(ecdsa._mul2(1, 0, g[0], g[1])) == g, "1 G"
    assert _affine(ecdsa._mul2(0, 1, g[0], g[1])) == g, "1 Q"
    x, y = _affine(ecdsa._mul2(n - 1, 0, g[0], g[1]))
    assert (x, y) == (g[0], ecdsa.P - g[1]), "(n - 1) G = -G"


def test_ecdsa_scalars_out_of_range_are_refused():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    key = _cert("signer-ec").key
    raw = _sig(v, "ec-raw")
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:], "big")
    n = ecdsa.N
    for bad_r, bad_s in ((0, s), (r, 0), (n, s), (r, n), (r + n, s), (r, s + n), (n + 1, s),
                         (r, (1 << 256) - 1), ((1 << 256) - 1, s), (0, 0)):
        if bad_r < 1 << 256 and bad_s < 1 << 256:
            sig = bad_r.to_bytes(32, "big") + bad_s.to_bytes(32, "big")
            assert not ecdsa.verify(key, digest, sig), "raw r %x s %x" % (bad_r % 99, bad_s % 99)
    assert ecdsa.verify(key, digest, raw), "the valid one"


def test_verify_file_signature_every_vector():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    certs = dict((bits, _cert(stem)) for bits, stem in _SIGNERS.items())
    certs["ec"] = _cert("signer-ec")
    for name, text in v["signatures"].items():
        cert = certs[name.split("-")[0]]
        if name.endswith("-other"):
            e = raises(SignatureError, verify_file_signature, cert, digest, text)
            assert str(e) == "signature does not match", str(e)
        else:
            assert verify_file_signature(cert, digest, text) is None, name
            assert verify_file_signature(cert, digest, decode_signature(text)) is None, name


def test_verify_file_signature_refusals():
    v = _vectors()
    digest = bytes.fromhex(v["firmware_sha256"])
    rsa_cert = _cert("signer-rsa2048")
    ec_cert = _cert("signer-ec")
    sig = _sig(v, "rsa2048-pkcs1")
    for cert, bad in ((rsa_cert, _flip(sig, 12)), (rsa_cert, sig[:-1]), (ec_cert, sig),
                      (rsa_cert, _sig(v, "ec-der")), (_cert("signer-rsa3072-pss"), sig)):
        e = raises(SignatureError, verify_file_signature, cert, digest, bad)
        assert str(e) == "signature does not match", str(e)
    e = raises(SignatureError, verify_file_signature, rsa_cert, _flip(digest, 0), sig)
    assert str(e) == "signature does not match", str(e)
    e = raises(SignatureError, verify_file_signature, rsa_cert, digest[:31], sig)
    assert "32 bytes" in str(e), str(e)
    e = raises(SignatureError, verify_file_signature, rsa_cert, digest, b"")
    assert "empty" in str(e), str(e)
    e = raises(SignatureError, verify_file_signature, _cert("signer-rsa1024"), digest, sig)
    assert "unsupported signing key" in str(e), str(e)


def test_decode_signature_is_strict():
    v = _vectors()
    text = v["signatures"]["rsa2048-pkcs1"]
    raw = decode_signature(text)
    assert len(raw) == 256, "2048 bits"
    wrapped = "\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n"
    assert decode_signature(wrapped) == raw, "wrapped like `openssl base64`"
    assert decode_signature(text.encode()) == raw, "bytes"
    for bad in (text[:-1], text + "A", text[:10] + "!" + text[11:], text[:10] + "-" + text[11:],
                text.replace("=", "") if "=" in text else text[:-2] + "=A",
                "", "   ", "====", b"\xff\xfe", None, 5):
        e = raises(SignatureError, decode_signature, bad)
        assert str(e).startswith("signature is not valid base64"), "%r: %s" % (bad, e)
