# ECDSA verification on NIST P-256 (secp256r1) with a SHA-256 digest, pure Python integers.
"""    key = decode_point(b"\\x04" + x + y)       # (x, y); ValueError if not on the curve
    verify(key, digest, signature) -> bool     # signature: DER (r, s) or raw 64-byte r || s

How it is fast enough without C: Jacobian coordinates (no inversion per step), the curve's
a = -3 in the doubling, additions of affine table points ("mixed", Z2 = 1), and u1*G + u2*Q
computed together (Shamir's trick) from width-w NAF digits: 256 shared doublings plus about 75
additions. The odd multiples of G are computed once and kept (_G_TABLE); those of Q per call,
made affine with a single inversion (Montgomery's trick); inversions use the extended Euclidean
algorithm, not pow(). The final x is compared without an inversion: r * Z^2 == X (mod p).
"""

from ota import der

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x


P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5

# NAF window widths: G's table (2^(W_G-2) points) is built once, Q's (2^(W_Q-2)) per call.
W_G = const(6)
W_Q = const(5)

_G_TABLE = []  # odd multiples 1G, 3G, 5G, ... in affine coordinates, filled on first use


def on_curve(x, y):
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x - 3 * x + B)) % P == 0


def decode_point(data):
    """(x, y) of an SEC 1 encoded P-256 point: uncompressed (04 || X || Y) or compressed
    (02/03 || X). ValueError for any other form or a point not on the curve."""
    data = bytes(data)
    if len(data) == 65 and data[0] == 4:
        x = int.from_bytes(data[1:33], "big")
        y = int.from_bytes(data[33:], "big")
    elif len(data) == 33 and data[0] in (2, 3):
        x = int.from_bytes(data[1:], "big")
        if x >= P:
            raise ValueError("EC point not on the curve")
        rhs = (x * x * x - 3 * x + B) % P
        y = pow(rhs, (P + 1) // 4, P)  # the square root, as p = 3 mod 4
        if y & 1 != data[0] & 1:
            y = P - y
    else:
        raise ValueError("unsupported EC point encoding")
    if not on_curve(x, y):
        raise ValueError("EC point not on the curve")
    return x, y


def inverse(a, m):
    """a^-1 mod m (m prime, a not 0 mod m) by the extended Euclidean algorithm: on
    MicroPython some 4 times faster than pow(a, m - 2, m), whose squarings each divide."""
    lm, hm = 1, 0
    low, high = a % m, m
    while low > 1:
        q = high // low
        lm, hm = hm - lm * q, lm
        low, high = high - low * q, low
    return lm % m


def _double(x, y, z):
    """2 * (x, y, z), Jacobian; "dbl-2001-b" for a = -3."""
    p = P
    if not z:
        return 0, 1, 0
    delta = z * z % p
    gamma = y * y % p
    beta = x * gamma % p
    alpha = 3 * (x - delta) * (x + delta) % p
    x3 = (alpha * alpha - 8 * beta) % p
    return x3, (alpha * (4 * beta - x3) - 8 * gamma * gamma) % p, 2 * y * z % p


def _add_affine(x1, y1, z1, x2, y2):
    """(x1, y1, z1) + (x2, y2, 1), Jacobian plus affine ("madd")."""
    p = P
    if not z1:
        return x2, y2, 1
    z1z1 = z1 * z1 % p
    h = (x2 * z1z1 - x1) % p
    r = (y2 * z1 * z1z1 - y1) % p
    if not h:  # same x: the same point (double it) or its negative (infinity)
        return _double(x1, y1, z1) if not r else (0, 1, 0)
    hh = h * h % p
    hhh = h * hh % p
    v = x1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - y1 * hhh) % p, z1 * h % p


def _odd_multiples(x, y, count):
    """[1P, 3P, 5P, ...] (count points) in affine coordinates, for P = (x, y) != infinity."""
    p = P
    dx, dy, dz = _double(x, y, 1)
    zi = inverse(dz, p)
    zi2 = zi * zi % p
    dx, dy = dx * zi2 % p, dy * zi2 * zi % p  # 2P, affine
    jac = [(x, y, 1)]
    for _ in range(count - 1):
        px, py, pz = jac[-1]
        jac.append(_add_affine(px, py, pz, dx, dy))
    # Montgomery's trick: one inversion for all the Z coordinates
    prefix = []
    acc = 1
    for point in jac:
        prefix.append(acc)
        acc = acc * point[2] % p
    inv = inverse(acc, p)
    out = [(0, 0)] * count
    for i in range(count - 1, -1, -1):
        px, py, pz = jac[i]
        zi = inv * prefix[i] % p
        inv = inv * pz % p
        zi2 = zi * zi % p
        out[i] = (px * zi2 % p, py * zi2 * zi % p)
    return out


def _wnaf(k, w):
    """Width-w NAF digits of k >= 0, least significant first: 0 or odd, |d| < 2^(w-1)."""
    digits = []
    mask = (1 << w) - 1
    half = 1 << (w - 1)
    while k:
        if k & 1:
            d = k & mask
            if d >= half:
                d -= 1 << w
            k -= d
        else:
            d = 0
        digits.append(d)
        k >>= 1
    return digits


def _mul2(u1, u2, qx, qy):
    """u1 * G + u2 * Q as Jacobian (x, y, z); z == 0 is the point at infinity."""
    if not _G_TABLE:
        _G_TABLE.extend(_odd_multiples(GX, GY, 1 << (W_G - 2)))
    gtab = _G_TABLE
    qtab = _odd_multiples(qx, qy, 1 << (W_Q - 2))
    a = _wnaf(u1, W_G)
    b = _wnaf(u2, W_Q)
    la = len(a)
    lb = len(b)
    p = P
    x, y, z = 0, 1, 0
    for i in range(max(la, lb) - 1, -1, -1):
        if z:
            x, y, z = _double(x, y, z)
        d = a[i] if i < la else 0
        if d > 0:
            px, py = gtab[d >> 1]
            x, y, z = _add_affine(x, y, z, px, py)
        elif d < 0:
            px, py = gtab[-d >> 1]
            x, y, z = _add_affine(x, y, z, px, p - py)
        d = b[i] if i < lb else 0
        if d > 0:
            px, py = qtab[d >> 1]
            x, y, z = _add_affine(x, y, z, px, py)
        elif d < 0:
            px, py = qtab[-d >> 1]
            x, y, z = _add_affine(x, y, z, px, p - py)
    return x, y, z


def _signature_candidates(sig):
    """(r, s) readings of a signature: DER SEQUENCE { r, s } if it parses as one, raw r || s
    if it is 64 bytes (both when both fit: a 64-byte DER signature is possible)."""
    found = []
    try:
        top = der.Reader(sig)
        body = der.Reader(sig, *top.read(der.SEQUENCE))
        top.finish()
        r = der.uint(sig, *body.read(der.INTEGER))
        s = der.uint(sig, *body.read(der.INTEGER))
        body.finish()
        found.append((r, s))
    except der.DERError:
        pass
    if len(sig) == 64:
        found.append((int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")))
    return found


def verify(key, digest, signature):
    """True when `signature` over the SHA-256 `digest` verifies with the P-256 public key
    `key` ((x, y) or its SEC 1 bytes). ValueError for a bad key or a digest of the wrong
    length; any malformed signature is simply False."""
    qx, qy = decode_point(key) if isinstance(key, (bytes, bytearray, memoryview)) else key
    if not on_curve(qx, qy):
        raise ValueError("EC point not on the curve")
    if len(digest) != 32:
        raise ValueError("digest must be 32 bytes (SHA-256)")
    e = int.from_bytes(bytes(digest), "big")  # 256 bits, the size of n: nothing to cut off
    for r, s in _signature_candidates(bytes(signature)):
        if not (0 < r < N and 0 < s < N):
            continue
        w = inverse(s, N)
        x, _, z = _mul2(e * w % N, r * w % N, qx, qy)
        if not z:
            continue
        # x(R) mod n == r, with x(R) = X / Z^2 < p: x(R) is r or r + n
        zz = z * z % P
        if (r * zz - x) % P == 0 or (r + N < P and ((r + N) * zz - x) % P == 0):
            return True
    return False
