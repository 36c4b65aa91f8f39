# A P-256 key pair made on the device and its certificate signing request (whitepaper A02/A03).
"""    key = new_key()                       # PKCS#8 DER of a fresh P-256 key (os.urandom)
    csr = request(key, "CP_1", "Example CPO")   # PKCS#10 DER, signed with that key
    der.pem("CERTIFICATE REQUEST", csr)   # what SignCertificate.req carries
    public_point(key)                     # (x, y): compared with a certificate's key

The key is kept as PKCS#8 DER (RFC 5208, with the SEC 1 ECPrivateKey and its public key
inside): the one form both mbedTLS (MicroPython's ssl.load_cert_chain) and OpenSSL load.

Key generation follows FIPS 186-4 B.4.2 ("testing candidates"): 32 random bytes as an integer,
drawn again while it is 0 or >= n, so the scalar is uniform in [1, n-1] (reducing modulo n
would favour small values). Signatures use RFC 6979's deterministic k: a weak or repeated
random number at signing time cannot give the private key away. The point arithmetic is
ota.ecdsa's (one copy of the curve code); it is not constant-time, which is acceptable for one
key generation and one signature per renewal, nothing an attacker can repeat and time.
"""

import hashlib
import os

from ota import der, ecdsa

# DER of the OIDs: id-ecPublicKey, prime256v1, ecdsa-with-SHA256, commonName, organizationName
_OID_EC_KEY = b"\x06\x07\x2a\x86\x48\xce\x3d\x02\x01"
_OID_P256 = b"\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07"
_OID_ECDSA_SHA256 = b"\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02"
_OID_CN = b"\x06\x03\x55\x04\x03"
_OID_O = b"\x06\x03\x55\x04\x0a"
_EC_ALGORITHM = b"\x30\x13" + _OID_EC_KEY + _OID_P256


def tlv(tag, value):
    """One DER element (definite length: up to 64 KiB, far above anything made here)."""
    n = len(value)
    if n < 0x80:
        head = bytes((tag, n))
    elif n < 0x100:
        head = bytes((tag, 0x81, n))
    else:
        head = bytes((tag, 0x82, n >> 8, n & 0xFF))
    return head + value


def _uint(v):
    """A non-negative INTEGER, minimally encoded."""
    data = v.to_bytes(33, "big")
    i = 0
    while i < 32 and data[i] == 0 and not data[i + 1] & 0x80:
        i += 1
    return tlv(der.INTEGER, data[i:])


def _point(x, y):
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def new_key(random=None):
    """PKCS#8 DER of a new P-256 private key. `random(n)`: n random bytes (os.urandom)."""
    random = random or os.urandom
    while True:
        d = int.from_bytes(random(32), "big")
        if 0 < d < ecdsa.N:
            break
    return pkcs8(d)


def pkcs8(d):
    x, y = ecdsa.mul_g(d)
    ec_key = tlv(der.SEQUENCE, b"\x02\x01\x01" + tlv(der.OCTET_STRING, d.to_bytes(32, "big"))
                 + tlv(0xA1, tlv(der.BIT_STRING, b"\x00" + _point(x, y))))
    return tlv(der.SEQUENCE, b"\x02\x01\x00" + _EC_ALGORITHM + tlv(der.OCTET_STRING, ec_key))


def _parse(key):
    """(d, SEC 1 public point bytes) of a PKCS#8 key made by pkcs8(); DERError otherwise."""
    buf = memoryview(key)
    top = der.Reader(buf)
    body = der.Reader(buf, *top.read(der.SEQUENCE))
    top.finish()
    if der.uint(buf, *body.read(der.INTEGER)) != 0:
        raise der.DERError("not a PKCS#8 version 1 key")
    s, e = body.element(der.SEQUENCE)
    if bytes(buf[s:e]) != _EC_ALGORITHM:
        raise der.DERError("not a P-256 key")
    outer = der.Reader(buf, *body.read(der.OCTET_STRING))
    body.finish()
    ec_key = der.Reader(buf, *outer.read(der.SEQUENCE))
    outer.finish()
    der.uint(buf, *ec_key.read(der.INTEGER))
    ds, de = ec_key.read(der.OCTET_STRING)
    d = int.from_bytes(bytes(buf[ds:de]), "big")
    pub = der.Reader(buf, *ec_key.read(0xA1))
    ps, pe = der.octets(buf, *pub.read(der.BIT_STRING))
    return d, bytes(buf[ps:pe])


def public_point(key):
    """(x, y) of the public key of a PKCS#8 key made here."""
    return ecdsa.decode_point(_parse(key)[1])


def _hmac(key, data):
    # MicroPython has no hmac module; the key is 32 bytes, below SHA-256's 64-byte block
    k = key + bytes(64 - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in k) + data).digest()
    return hashlib.sha256(bytes(b ^ 0x5C for b in k) + inner).digest()


def rfc6979_k(d, digest):
    """The nonces of RFC 6979 3.2 for P-256 / SHA-256, in order (a generator: the next one is
    needed only if r or s came out 0)."""
    n = ecdsa.N
    x = d.to_bytes(32, "big")
    h = (int.from_bytes(digest, "big") % n).to_bytes(32, "big")
    v = b"\x01" * 32
    k = _hmac(b"\x00" * 32, v + b"\x00" + x + h)
    v = _hmac(k, v)
    k = _hmac(k, v + b"\x01" + x + h)
    v = _hmac(k, v)
    while True:
        v = _hmac(k, v)
        candidate = int.from_bytes(v, "big")
        if 0 < candidate < n:
            yield candidate
        k = _hmac(k, v + b"\x00")
        v = _hmac(k, v)


def sign(d, digest):
    """(r, s): the ECDSA signature of the SHA-256 `digest` with the private scalar d."""
    n = ecdsa.N
    e = int.from_bytes(digest, "big")
    for k in rfc6979_k(d, digest):
        r = ecdsa.mul_g(k)[0] % n
        if r:
            s = ecdsa.inverse(k, n) * (e + r * d) % n
            if s:
                return r, s
    raise ValueError("no signature")  # never reached: the generator does not end


def _rdn(oid, value):
    return tlv(der.SET, tlv(der.SEQUENCE, oid + tlv(der.UTF8_STRING, value.encode())))


def request(key, common_name, organization=None):
    """PKCS#10 (RFC 2986) DER: subject O = organization (if given), CN = common_name, the
    public key of `key` (PKCS#8 from new_key), no attributes, signed ecdsa-with-SHA256."""
    d, point = _parse(key)
    name = (_rdn(_OID_O, organization) if organization else b"") + _rdn(_OID_CN, common_name)
    info = tlv(der.SEQUENCE, b"\x02\x01\x00" + tlv(der.SEQUENCE, name)
               + tlv(der.SEQUENCE, _EC_ALGORITHM + tlv(der.BIT_STRING, b"\x00" + point))
               + b"\xa0\x00")
    r, s = sign(d, hashlib.sha256(info).digest())
    algorithm = tlv(der.SEQUENCE, _OID_ECDSA_SHA256)
    signature = tlv(der.BIT_STRING, b"\x00" + tlv(der.SEQUENCE, _uint(r) + _uint(s)))
    return tlv(der.SEQUENCE, info + algorithm + signature)
