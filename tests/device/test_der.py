# Device tests of the strict DER reader, base64 and PEM (lib/ota/der.py).
from devtest import raises
from ocppj import rfc3339
from ota import der

DERError = der.DERError


def _data(name):
    # Resolved from this file: tests/device/data on the host, /tests/data under MicroPython WASM.
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    with open(here + "/data/" + name) as f:
        return f.read()


def test_short_and_long_lengths():
    assert der.header(b"\x04\x03abc", 0, 5) == (4, 2, 5), "short form"
    buf = b"\x04\x81\x80" + b"x" * 128
    assert der.header(buf, 0, len(buf)) == (4, 3, 131), "one length byte"
    buf = b"\x04\x82\x01\x00" + b"x" * 256
    assert der.header(buf, 0, len(buf)) == (4, 4, 260), "two length bytes"


def test_bad_lengths_are_refused():
    cases = (
        (b"\x30\x80\x00\x00", "indefinite"),
        (b"\x04\x81\x05hello", "non-minimal"),
        (b"\x04\x82\x00\x05hello", "non-minimal"),
        (b"\x04\x84\x00\x00\x00\x01x", "too large"),
        (b"\x04\x05abc", "exceeds"),
        (b"\x04", "truncated"),
        (b"\x04\x82\x01", "truncated"),
        (b"\x1f\x01\x00", "high tag"),
        (b"\x00\x00", "end-of-contents"),
    )
    for buf, word in cases:
        e = raises(DERError, der.header, buf, 0, len(buf))
        assert word in str(e), "%r: %s" % (buf, e)


def test_element_must_fit_its_container():
    buf = b"\x30\x04\x04\x03abc"  # the inner length runs past the outer one
    r = der.Reader(buf)
    s, e = r.read(der.SEQUENCE)
    raises(DERError, der.Reader(buf, s, e).read, der.OCTET_STRING)


def test_reader_walks_and_checks_tags():
    buf = b"\x30\x08\x02\x01\x05\x04\x03abc"
    r = der.Reader(buf)
    s, e = r.read(der.SEQUENCE)
    r.finish()
    body = der.Reader(buf, s, e)
    assert body.peek() == der.INTEGER, "peek"
    assert body.optional(der.BOOLEAN) is None, "optional of another tag"
    assert der.uint(buf, *body.read(der.INTEGER)) == 5, "integer"
    e1 = raises(DERError, body.read, der.INTEGER)
    assert "expected" in str(e1), str(e1)
    assert body.peek() == der.OCTET_STRING, "a refused read does not move"
    assert body.element(der.OCTET_STRING) == (5, 10), "whole element"
    assert not body.more() and body.peek() == -1, "at the end"
    body.finish()
    raises(DERError, body.read, der.NULL)


def test_trailing_garbage_is_refused():
    buf = b"\x02\x01\x05\x00"
    r = der.Reader(buf)
    r.read(der.INTEGER)
    e = raises(DERError, r.finish)
    assert "trailing" in str(e), str(e)
    raises(DERError, der.check, b"\x30\x03\x02\x01\x05\x01")


def test_nesting_depth_is_bounded():
    def nested(depth):
        buf = b"\x05\x00"
        for _ in range(depth):
            buf = bytes((0x30, len(buf))) + buf
        return buf

    der.check(nested(10))
    e = raises(DERError, der.check, nested(40))
    assert "deep" in str(e), str(e)


def test_integers():
    assert der.uint(b"\x00", 0, 1) == 0, "zero"
    assert der.uint(b"\x7f", 0, 1) == 127, "127"
    assert der.uint(b"\x00\x80", 0, 2) == 128, "128 needs a leading zero"
    big = b"\x00" + b"\xff" * 300
    assert der.uint(big, 0, len(big)) == (1 << 2400) - 1, "2400-bit integer"
    assert der.uint_bits(big, 0, len(big)) == 2400, "its bit length"
    assert der.uint_bits(b"\x01", 0, 1) == 1, "one bit"
    assert der.uint_bits(b"\x00", 0, 1) == 0, "zero bits"
    for bad, word in ((b"", "empty"), (b"\x00\x01", "non-minimal"), (b"\x80", "negative"),
                      (b"\xff\x80", "negative")):
        e = raises(DERError, der.uint, bad, 0, len(bad))
        assert word in str(e), "%r: %s" % (bad, e)


def test_oids():
    sha256_rsa = b"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"
    assert der.oid(sha256_rsa, 0, 9) == "1.2.840.113549.1.1.11", "sha256WithRSAEncryption"
    assert der.oid(b"\x55\x1d\x13", 0, 3) == "2.5.29.19", "basicConstraints"
    assert der.oid(b"\x88\x37\x03", 0, 3) == "2.999.3", "first arc 2 with a big second arc"
    uuid = b"\x69\x83" + b"\x80" * 15 + b"\x01"  # 2.25.(3 << 112 | 1)
    assert der.oid(uuid, 0, len(uuid)) == "2.25." + str((1 << 112) * 3 + 1), "a 114-bit arc"
    for bad, word in ((b"", "empty"), (b"\x2a\x80\x01", "non-minimal"), (b"\x2a\x86", "truncated")):
        e = raises(DERError, der.oid, bad, 0, len(bad))
        assert word in str(e), "%r: %s" % (bad, e)


def test_bit_strings_and_booleans():
    assert der.bit_string(b"\x00\xab", 0, 2) == (0, 1, 2), "whole bytes"
    assert der.bit_string(b"\x07\x80", 0, 2) == (7, 1, 2), "one bit"
    assert der.octets(b"\x00\xab\xcd", 0, 3) == (1, 3), "octets"
    for bad in (b"", b"\x08\x00", b"\x01", b"\x01\x01"):
        raises(DERError, der.bit_string, bad, 0, len(bad))
    raises(DERError, der.octets, b"\x01\x02", 0, 2)
    assert der.boolean(b"\xff", 0, 1) is True and der.boolean(b"\x00", 0, 1) is False, "bool"
    for bad in (b"\x01", b"", b"\xff\xff"):
        raises(DERError, der.boolean, bad, 0, len(bad))
    der.null(b"", 0, 0)
    raises(DERError, der.null, b"\x00", 0, 1)


def test_times_in_seconds_since_2000():
    def utc(text):
        return der.time(der.UTC_TIME, text, 0, len(text))

    def gen(text):
        return der.time(der.GENERALIZED_TIME, text, 0, len(text))

    assert utc(b"000101000000Z") == 0, "the firmware's epoch"
    assert utc(b"261121144508Z") == 848587508, "2026-11-21T14:45:08Z"
    assert utc(b"491231235959Z") == rfc3339.to_s2000("2049-12-31T23:59:59Z"), "2049"
    assert utc(b"500101000000Z") == rfc3339.to_s2000("1950-01-01T00:00:00Z"), "YY 50 is 1950"
    assert utc(b"991231235959Z") == -1, "1999-12-31T23:59:59Z"
    assert gen(b"20500101000000Z") == rfc3339.to_s2000("2050-01-01T00:00:00Z"), "2050"
    assert gen(b"99991231235959Z") == rfc3339.to_s2000("9999-12-31T23:59:59Z"), "no end"
    assert utc(b"240229120000Z") == rfc3339.to_s2000("2024-02-29T12:00:00Z"), "leap day"
    for bad in (b"2611211445Z", b"261121144508", b"261121144508+0100", b"261321144508Z",
                b"261100144508Z", b"230229120000Z", b"261121244508Z", b"2611211445a8Z",
                b"261121144560Z"):
        raises(DERError, utc, bad)
    for bad in (b"20261121144508.5Z", b"202611211445Z", b"21000229000000Z"):
        raises(DERError, gen, bad)
    raises(DERError, der.time, der.INTEGER, b"000101000000Z", 0, 13)


def test_directory_strings():
    assert der.text(der.UTF8_STRING, "Zähler".encode(), 0, 7) == "Zähler", "UTF8String"
    assert der.text(der.PRINTABLE_STRING, b"CP 1", 0, 4) == "CP 1", "PrintableString"
    assert der.text(der.BMP_STRING, b"\x00A\x00\xe4", 0, 4) == "A\xe4", "BMPString"
    raises(DERError, der.text, der.BMP_STRING, b"\x00A\x00", 0, 3)
    raises(DERError, der.text, der.INTEGER, b"\x01", 0, 1)


def test_base64_strict():
    assert der.b64decode("QUJD") == b"ABC", "no padding"
    assert der.b64decode(b"QUI=") == b"AB", "one pad"
    assert der.b64decode("QQ==") == b"A", "two pads"
    assert der.b64decode("+/+/") == b"\xfb\xff\xbf", "+ and /"
    cases = (("", "empty"), ("QUJ", "multiple of 4"), ("QU JD", "multiple of 4"),
             ("QU!D", "bad character"), ("QU-_", "bad character"), ("Q===", "bad character"),
             ("QQ=A", "bad character"), ("QUJD\n", "multiple of 4"), ("QR==", "padding bits"),
             ("QUJ=", "padding bits"), ("Q\xe4JD", "multiple of 4"))
    for text, word in cases:
        e = raises(DERError, der.b64decode, text)
        assert word in str(e), "%r: %s" % (text, e)


def test_pem_to_der_one_and_several():
    root = _data("root-rsa.pem")
    signer = _data("signer-rsa2048.pem")
    ders = der.pem_to_der(root)
    assert len(ders) == 1 and ders[0][0] == 0x30, "one certificate"
    both = der.pem_to_der("Bag Attributes: x\n" + root + "junk between\n" + signer)
    assert len(both) == 2 and both[0] == ders[0], "two certificates, text around ignored"
    assert der.pem_to_der(root.replace("\n", "\r\n")) == ders, "CRLF"
    assert der.pem_to_der(root.encode()) == ders, "bytes"


def test_bad_pem_is_refused():
    root = _data("root-rsa.pem")
    cases = (("no certificate here", "no certificate"),
             (root.replace("-----END CERTIFICATE-----", ""), "not closed"),
             (root.replace("-----END", "-----BEGIN CERTIFICATE-----\n-----END"), "not closed"),
             (root.replace("\n", "\n*", 4), "bad character"),
             (root[:60] + root[61:], "multiple of 4"),
             ("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----", "empty"),
             (b"\xff\xfe", "not text"))
    for text, word in cases:
        e = raises(DERError, der.pem_to_der, text)
        assert word in str(e), "%r: %s" % (word, e)


def test_check_accepts_a_real_certificate():
    for name in ("root-rsa.pem", "signer-ec.pem", "signer-rsa3072-pss.pem"):
        buf = der.pem_to_der(_data(name))[0]
        der.check(buf)
        der.check(memoryview(buf))
