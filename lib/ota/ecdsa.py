# ECDSA verification on NIST P-256 (secp256r1) with a SHA-256 digest, pure Python integers.
"""    key = decode_point(b"\\x04" + x + y)       # (x, y); ValueError if not on the curve
    verify(key, digest, signature) -> bool     # signature: DER (r, s) or raw 64-byte r || s
    ok = yield from verify_steps(key, digest, signature)   # the same, step-wise (lib/steps.py)

Two implementations of the point arithmetic, chosen once at the first verification:
- ota.ecfast, on ota.p256v's viper field code, where MicroPython has a native emitter (the
  ESP32 and the 32-bit unix port): no allocation per field operation;
- the pure-Python integers below everywhere else (CPython, the WebAssembly port).
Both use the same formulas and both are checked against `cryptography`.

The integer version: every big-int operation allocates its result (50 to 130 bytes here on a
32-bit port), so both the time and the garbage come down to the number of operations. Hence:
Jacobian coordinates (no inversion per step), the doubling for a = -3 rescaled to need fewer
small constants (_HALF3), additions of affine table points ("mixed", Z2 = 1) with a negative
digit folded into the formula's signs, and u1*G + u2*Q computed together (Shamir's trick) from
width-w NAF digits worked out on small ints: 256 shared doublings plus about 80 additions.
The odd multiples of G are computed once and kept (_G_TABLE, 1.5 KB); those of Q per call,
made affine with a single inversion; inversions use the extended Euclidean algorithm, not
pow(). The final x is compared without an inversion: r * Z^2 == X (mod p). It allocates some
750 KB per verification on a 32-bit MicroPython, nearly all of it garbage: 1.9 KB per doubling,
2.4 KB per addition, 50 KB for Q's table, 25 KB per inversion.

Step-wise: verify_steps and mul_g_steps are generators that yield between chunks of work
(each well under 1 ms on the 32-bit unix port with ota.ecfast), so a caller on the asyncio
loop can let other tasks run (steps.finish); verify and mul_g run them through (steps.run).
"""

from ota import der
from steps import run

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

# 3/2 mod p. The doubling "dbl-2001-b" (a = -3) is X3 = alpha^2 - 8 beta, Y3 = alpha (4 beta
# - X3) - 8 gamma^2, Z3 = 2 Y Z with alpha = 3 (X - Z^2)(X + Z^2), beta = X Y^2, gamma = Y^2.
# (X3/4, Y3/8, Z3/2) is the same point; computed with alpha / 2 in place of alpha, its small
# constants 3, 2, 4, 8, 8 become one multiplication by 3/2 and one by 2: 3 integer operations
# (allocations) fewer per doubling.
_HALF3 = const(0x7FFFFFFF80000000800000000000000000000000800000000000000000000001)

_G_TABLE = []  # odd multiples 1G, 3G, 5G, ... affine, flat (see _odd_multiples), on first use
_YIELD_EVERY = const(8)  # ladder digits between yields of the integer version
_fast = []  # [ota.ecfast or None], chosen at the first use


def _native():
    """ota.ecfast where viper runs, else None. p256v fails to import elsewhere: ImportError
    (CPython: no `micropython` module) or SyntaxError (a MicroPython without a native
    emitter: the WebAssembly port)."""
    if not _fast:
        try:
            from ota import ecfast
        except (ImportError, SyntaxError):
            ecfast = None
        _fast.append(ecfast)
    return _fast[0]


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
    """a^-1 mod m (m prime, a not 0 mod m) by the extended Euclidean algorithm: on the
    32-bit unix port some 10 times faster than pow(a, m - 2, m), whose squarings each
    divide, though it leaves some 25 KB of garbage to pow's 0.1 KB."""
    return run(inverse_steps(a, m))


_INVERSE_STEP = const(40)  # rounds a step: 7 KB of garbage, a collection or two on the device


def inverse_steps(a, m):
    """inverse() as a generator: its garbage, not its arithmetic, is what takes the time on
    a full heap, so a step ends every _INVERSE_STEP rounds (some 150 for 256 bits)."""
    lm, hm = 1, 0
    low, high = a % m, m
    rounds = 0
    while low > 1:
        q, r = divmod(high, low)  # one division for both: fewer temporaries than // then *, -
        lm, hm = hm - lm * q, lm
        low, high = r, low
        rounds += 1
        if rounds == _INVERSE_STEP:
            rounds = 0
            yield
    return lm % m


def _double(x, y, z):
    """2 * (x, y, z) in Jacobian coordinates, (x, y, z) not the point at infinity. The main
    loop of _mul2 has the same lines inline (it runs them 256 times)."""
    p = P
    delta = z * z % p
    gamma = y * y % p
    beta = x * gamma % p
    alpha = (x - delta) * (x + delta) * _HALF3 % p
    x3 = (alpha * alpha - 2 * beta) % p
    return x3, (alpha * (beta - x3) - gamma * gamma) % p, y * z % p


def _add(x1, y1, z1, tab, d):
    """(x1, y1, z1) + d * T, Jacobian plus affine ("madd"): `tab` holds the odd multiples of
    a point T (see _odd_multiples) and d is an odd NAF digit as a two's complement byte.
    Returns (x3, y3, z3, h) with z3 = z1 * h (the table builder needs h)."""
    p = P
    neg = d > 127  # -kT = (x, -y): folded into the signs of r and y3 below, no p - y
    if neg:
        d = 256 - d
    x2 = tab[d - 1]  # dT, d odd, is at tab[d - 1], tab[d]
    y2 = tab[d]
    if not z1:
        return x2, p - y2 if neg else y2, 1, 1
    z1z1 = z1 * z1 % p
    h = (x2 * z1z1 - x1) % p
    r = (y2 * z1 * z1z1 + y1) % p if neg else (y2 * z1 * z1z1 - y1) % p  # -r when neg
    if not h:  # same x: the same point (double it) or its negative (infinity)
        if r:
            return 0, 1, 0, 0
        x3, y3, z3 = _double(x1, y1, z1)
        return x3, y3, z3, y1  # the doubling's z3 is y1 * z1
    hh = h * h % p
    hhh = h * hh % p
    v = x1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = ((r * (x3 - v) if neg else r * (v - x3)) - y1 * hhh) % p
    return x3, y3, z1 * h % p, h


def _odd_multiples(x, y, count):
    """[x1, y1, x3, y3, x5, y5, ...]: 1T, 3T, 5T, ... (count points) of T = (x, y) != infinity
    in affine coordinates, flat: (2k + 1)T is at [2k], [2k + 1].

    2T is made affine without an inversion by working on an isomorphic curve, (x, y) ->
    (x Z^2, y Z^3) with Z = z(2T): there 2T is (X(2T), Y(2T)) and T is (x Z^2, y Z^3), and the
    addition formula does not involve the curve's a or b; a point (X, Y, Z') there is (X, Y,
    Z' Z) here. The Z of each sum is the previous one times h, so the single inversion of the
    last Z gives all the others, walking back through the h's."""
    p = P
    dx, dy, dz = _double(x, y, 1)
    two = (dx, dy)
    zz = dz * dz % p
    xs = [x * zz % p]
    ys = [y * zz * dz % p]
    hs = [dz]
    z = 1
    # h is never 0 here (iT = +-2T needs an order below 2 * count + 2: it is a large prime),
    # so _add never doubles, which would be wrong on the isomorphic curve (its a is not -3)
    for _ in range(count - 1):
        x, y, z, h = _add(xs[-1], ys[-1], z, two, 1)
        xs.append(x)
        ys.append(y)
        hs.append(h)
    zi = inverse(z * dz % p, p)
    out = [0] * (2 * count)
    for i in range(count - 1, -1, -1):
        zi2 = zi * zi % p
        # Re-made with from_bytes, each int takes 48 bytes, not the 96 of a reduced product,
        # and each row is dropped once used: the 16 points of G's table were built in about
        # 10 KB of heap at the peak, now in about 5 (the check of a renewed certificate runs
        # next to a TLS connection: it failed at 92 KiB of heap on the frozen 32-bit build).
        x = xs[i] * zi2 % p
        out[2 * i] = int.from_bytes(x.to_bytes(32, "big"), "big")
        x = ys[i] * zi2 * zi % p
        out[2 * i + 1] = int.from_bytes(x.to_bytes(32, "big"), "big")
        zi = zi * hs[i] % p
        xs[i] = ys[i] = hs[i] = None
    return out


def _wnaf(k, w, digits=None):
    """(digits, count): the width-w NAF of 0 <= k < 2^256, least significant digit first, as
    a bytearray holding each digit (0 or odd, |d| < 2^(w-1)) in two's complement; count is
    the number of digits up to the last non-zero one. Worked out in a small-int window fed a
    byte at a time: on the big int itself every step would allocate. `digits`: 257 zero
    bytes to hold them (a lent buffer), else a new bytearray."""
    data = k.to_bytes(32, "big")
    if digits is None:
        digits = bytearray(257)
    mask = (1 << w) - 1
    half = 1 << (w - 1)
    acc = bits = count = i = 0  # acc: k >> i as far as loaded (`bits` bits, plus a carry)
    j = 31
    while acc or j >= 0:
        if bits <= w and j >= 0:
            acc += data[j] << bits
            bits += 8
            j -= 1
        if acc & 1:
            d = acc & mask
            if d >= half:
                d -= 1 << w
            acc -= d
            digits[i] = d & 0xFF
            count = i + 1
        acc >>= 1
        bits -= 1
        i += 1
    return digits, count


def _mul2_steps(u1, u2, qx, qy):
    """u1 * G + u2 * Q as Jacobian (x, y, z); z == 0 is the point at infinity. u2 == 0
    leaves Q unused (None will do). A generator: yields every _YIELD_EVERY digits."""
    if not _G_TABLE:  # kept for later calls
        _G_TABLE.extend(_odd_multiples(GX, GY, 1 << (W_G - 2)))
        yield
    gtab = _G_TABLE
    # u2 = 0 (k * G alone, for key generation and signing): no digits, so no table for Q
    qtab = None
    if u2:
        qtab = _odd_multiples(qx, qy, 1 << (W_Q - 2))
        yield
    a, la = _wnaf(u1, W_G)
    b, lb = _wnaf(u2, W_Q)
    p = P
    k = _HALF3
    x, y, z = 0, 1, 0
    for i in range(max(la, lb) - 1, -1, -1):
        if z:  # x, y, z = _double(x, y, z), inline
            delta = z * z % p
            gamma = y * y % p
            beta = x * gamma % p
            alpha = (x - delta) * (x + delta) * k % p
            z = y * z % p
            x = (alpha * alpha - 2 * beta) % p
            y = (alpha * (beta - x) - gamma * gamma) % p
        d = a[i]
        if d:
            x, y, z, _ = _add(x, y, z, gtab, d)
        d = b[i]
        if d:
            x, y, z, _ = _add(x, y, z, qtab, d)
        if not i % _YIELD_EVERY:
            yield
    return x, y, z


def _mul2(u1, u2, qx, qy):
    """_mul2_steps run through (for tests: the integer version's edge cases)."""
    return run(_mul2_steps(u1, u2, qx, qy))


def mul_g_steps(k):
    """k * G as affine (x, y), 0 < k < N, step-wise. Not constant-time: used once per key
    generation and per signature on the device, never on a value an attacker can ask for
    repeatedly."""
    fast = _native()
    if fast:
        return (yield from fast.mul_g_steps(k))
    x, y, z = yield from _mul2_steps(k, 0, None, None)
    zi = inverse(z, P)
    zi2 = zi * zi % P
    return x * zi2 % P, y * zi2 * zi % P


def mul_g(k):
    """k * G as affine (x, y), 0 < k < N (mul_g_steps run through)."""
    return run(mul_g_steps(k))


def _check_steps(u1, u2, qx, qy, r):
    """True when x(u1 G + u2 Q) mod n == r, with the integers."""
    x, _, z = yield from _mul2_steps(u1, u2, qx, qy)
    if not z:
        return False
    # x(R) mod n == r, with x(R) = X / Z^2 < p: x(R) is r or r + n
    zz = z * z % P
    return (r * zz - x) % P == 0 or (r + N < P and ((r + N) * zz - x) % P == 0)


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
    return run(verify_steps(key, digest, signature))


def verify_steps(key, digest, signature, work=None):
    """verify() as a generator (see lib/steps.py): yields between chunks of work, returns
    the result. The ValueErrors come at its first step. `work`: a buffer lent for the
    native path's workspace (ota.ecfast.check_steps), or None."""
    qx, qy = decode_point(key) if isinstance(key, (bytes, bytearray, memoryview)) else key
    if not on_curve(qx, qy):
        raise ValueError("EC point not on the curve")
    if len(digest) != 32:
        raise ValueError("digest must be 32 bytes (SHA-256)")
    e = int.from_bytes(bytes(digest), "big")  # 256 bits, the size of n: nothing to cut off
    for r, s in _signature_candidates(bytes(signature)):
        if not (0 < r < N and 0 < s < N):
            continue
        yield
        w = yield from inverse_steps(s, N)
        yield
        fast = _native()
        if fast:
            ok = yield from fast.check_steps(e * w % N, r * w % N, qx, qy, r, work)
        else:
            ok = yield from _check_steps(e * w % N, r * w % N, qx, qy, r)
        if ok:
            return True
    return False
