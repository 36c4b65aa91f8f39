# RSA signature verification (RFC 8017) with SHA-256: PKCS#1 v1.5 and PSS, integers only.
"""    verify_pkcs1v15(n, e, digest, signature) -> bool
    verify_pss(n, e, digest, signature, salt_len=None) -> bool   # None: any salt length
    ok = yield from verify_pkcs1v15_steps(...)   # the same, step-wise (lib/steps.py); and
    ok = yield from verify_pss_steps(...)        # verify_pss_steps

`digest` is the SHA-256 of the message (32 bytes). False means the signature does not verify;
ValueError means the key or digest cannot be used (modulus outside 2048-4096 bits, an even or
huge public exponent, a digest that is not 32 bytes). The only big-number work is one
`pow(s, e, n)`: with e = 65537 that is 17 modular multiplications. Besides it a verification
allocates little: the encoded message is checked in place, not rebuilt by concatenation.

Step-wise, s^e is computed _STEP_BITS bits of e at a time (a pow each: 4 squarings, about
0.3 ms on the 32-bit unix port for 2048 bits), yielding in between: a caller on the event loop
gives other tasks a turn (steps.finish). The plain functions take one pow (1.2-1.6 ms there),
which allocates least.
"""

import hashlib

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x


MIN_BITS = const(2048)
MAX_BITS = const(4096)
_HASH_LEN = const(32)

# The 00 separator, then the DER of DigestInfo { AlgorithmIdentifier { sha256, NULL }, OCTET
# STRING (32 bytes) } up to the hash itself (RFC 8017 9.2 note 1).
_SHA256_INFO = b"\x00\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20"
_NIBBLE_BITS = (0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4)
_STEP_BITS = const(4)
_ONE_POW_BITS = const(17)  # e = 65537 and below: one pow


def bit_length(n):
    """Bits of a positive int (MicroPython has no int.bit_length)."""
    h = "%x" % n
    return (len(h) - 1) * 4 + _NIBBLE_BITS[int(h[0], 16)]


def _key_bits(n, e, digest):
    top = n >> (MIN_BITS - 8)  # only the top in hex: all of n would be a 512-character string
    bits = MIN_BITS - 8 + bit_length(top) if top else bit_length(n)
    if bits < MIN_BITS or bits > MAX_BITS:
        raise ValueError("RSA key of %d bits (2048 to 4096 supported)" % bits)
    # An odd exponent of at most 32 bits: 65537 in practice; a huge one would make a single
    # verification take seconds on the board.
    if e < 3 or not e & 1 or e >> 32:
        raise ValueError("unsupported RSA public exponent")
    if len(digest) != _HASH_LEN:
        raise ValueError("digest must be 32 bytes (SHA-256)")
    return bits


def _representative(n, signature, k):
    """The signature as an integer s < n (RFC 8017 RSAVP1), or None when the signature has the
    wrong length (k bytes) or is not below n."""
    if len(signature) != k:
        return None
    s = int.from_bytes(bytes(signature), "big")
    return s if s < n else None


def _pow_steps(s, e, n):
    """s^e mod n as a generator: a pow per _STEP_BITS bits of e (left to right), yielding
    after each (the plain functions take one pow: fewer temporaries). The usual exponents
    (65537, 3) take one pow all the same: about 1.2 ms for RSA-2048 on the 32-bit unix port,
    and the temporaries of the chunks would be the peak of a firmware update's heap."""
    shift = bit_length(e)
    if shift <= _ONE_POW_BITS:
        return pow(s, e, n)
    shift -= shift % _STEP_BITS or _STEP_BITS  # the top chunk: 1 to _STEP_BITS bits
    x = pow(s, e >> shift, n)
    while shift:
        yield
        shift -= _STEP_BITS
        x = pow(x, 1 << _STEP_BITS, n)
        bits = (e >> shift) & ((1 << _STEP_BITS) - 1)
        if bits:
            x = x * pow(s, bits, n) % n
    return x


def verify_pkcs1v15(n, e, digest, signature):
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 8.2.2): every byte of the encoded message
    00 01 FF .. FF 00 DigestInfo H is compared with the one expected at its place, never
    parsed, so no lenient-parsing forgery can get through."""
    k = (_key_bits(n, e, digest) + 7) // 8
    s = _representative(n, signature, k)
    return s is not None and _pkcs1v15_em_ok(pow(s, e, n).to_bytes(k, "big"), k, digest)


def verify_pkcs1v15_steps(n, e, digest, signature):
    """verify_pkcs1v15 as a generator (lib/steps.py); ValueError at its first step."""
    k = (_key_bits(n, e, digest) + 7) // 8
    s = _representative(n, signature, k)
    if s is None:
        return False
    x = yield from _pow_steps(s, e, n)
    return _pkcs1v15_em_ok(x.to_bytes(k, "big"), k, digest)


def _pkcs1v15_em_ok(em, k, digest):
    t = k - len(_SHA256_INFO) - _HASH_LEN  # where 00 DigestInfo starts
    return em[0] == 0 and em[1] == 1 and em.count(b"\xff", 2, t) == t - 2 \
        and em[t:k - _HASH_LEN] == _SHA256_INFO and em[k - _HASH_LEN:] == digest


def mgf1(seed, length):
    """MGF1 with SHA-256 (RFC 8017 B.2.1)."""
    out = bytearray()
    counter = 0
    while len(out) < length:
        h = hashlib.sha256(seed)
        h.update(counter.to_bytes(4, "big"))
        out.extend(h.digest())
        counter += 1
    return bytes(out[:length])


def verify_pss(n, e, digest, signature, salt_len=None):
    """RSASSA-PSS with SHA-256 and MGF1-SHA-256 (RFC 8017 8.1.2, EMSA-PSS-VERIFY 9.1.2).
    `salt_len` None accepts any salt length (found from the 0x01 separator)."""
    bits = _key_bits(n, e, digest)
    k = (bits + 7) // 8
    s = _representative(n, signature, k)
    return s is not None and _pss_em_ok(pow(s, e, n).to_bytes(k, "big"), bits, digest, salt_len)


def verify_pss_steps(n, e, digest, signature, salt_len=None):
    """verify_pss as a generator (lib/steps.py); ValueError at its first step."""
    bits = _key_bits(n, e, digest)
    k = (bits + 7) // 8
    s = _representative(n, signature, k)
    if s is None:
        return False
    x = yield from _pow_steps(s, e, n)
    return _pss_em_ok(x.to_bytes(k, "big"), bits, digest, salt_len)


def _pss_em_ok(em, bits, digest, salt_len):
    em_bits = bits - 1
    em_len = (em_bits + 7) // 8
    if em_len < len(em):  # a modulus of 8j + 1 bits: EM is one byte shorter, the first is 0
        if em[0]:
            return False
        em = memoryview(em)[1:]
    if em_len < _HASH_LEN + 2 + (salt_len or 0) or em[em_len - 1] != 0xBC:
        return False
    zero_bits = 8 * em_len - em_bits  # leftmost bits of EM that must be zero
    if em[0] & (0xFF00 >> zero_bits) & 0xFF:
        return False
    db_len = em_len - _HASH_LEN - 1
    h = em[db_len:em_len - 1]
    # DB = maskedDB xor MGF1(H): one big-int xor instead of a byte loop
    db = int.from_bytes(em[:db_len], "big") ^ int.from_bytes(mgf1(h, db_len), "big")
    db &= (1 << (8 * db_len - zero_bits)) - 1
    if salt_len is None:
        # DB = 00 .. 00 01 || salt: the first non-zero byte must be the 01
        db_bytes = db.to_bytes(db_len, "big")
        padded = db_bytes.lstrip(b"\x00")
        if not padded or padded[0] != 1:
            return False
        salt_len = len(padded) - 1
    elif salt_len < 0 or salt_len > db_len - 1 or db >> (8 * salt_len) != 1:
        return False  # the bytes before the salt must be exactly 00 .. 00 01
    salt = (db & ((1 << (8 * salt_len)) - 1)).to_bytes(salt_len, "big") if salt_len else b""
    check = hashlib.sha256(b"\x00" * 8)
    check.update(bytes(digest))
    check.update(salt)
    return check.digest() == h
