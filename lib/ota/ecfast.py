# ECDSA P-256 point arithmetic on ota.p256v's native field code: the path where viper runs.
"""    ok = yield from check_steps(u1, u2, qx, qy, r)   # x(u1 G + u2 Q) mod n == r
    x, y = yield from mul_g_steps(k)                 # k G, affine

ota.ecdsa uses this module when it imports (MicroPython with a native emitter) and its own
pure-Python integers otherwise; both compute the same thing with the same formulas: Jacobian
coordinates, the doubling for a = -3, mixed additions of affine table points, u1 G + u2 Q
together from width-w NAF digits (ota.ecdsa._wnaf), the odd multiples of a point made affine
with one inversion by way of an isomorphic curve (see ota.ecdsa._odd_multiples).

Memory: one workspace array of 100 slots (3.2 KB) holds the intermediate values, the table of G
(16 points, made at its first use and kept with the workspace) and that of Q (8 points). A
verification takes the free workspace or, when another verification holds it (two step-wise
checks on the loop at once), makes its own; nothing else is allocated per operation.
Generators: they yield between chunks of some 0.1-0.4 ms on the 32-bit unix port.
"""

from array import array

from micropython import const

from ota import p256v
from ota.p256v import ADD, BAILZ, COPY, LADDER, MUL, SQR, SUB, run

# Slots (16 limbs each) of the workspace. 2 and 3 are p256v.PRODUCT, 26 p256v.LADDER.
_ZERO = const(0)
_ONE = const(1)
_X = const(4)  # the running point, Jacobian
_Y = const(5)
_Z = const(6)
_TX = const(7)  # table building: the point, then 2T on the isomorphic curve
_TY = const(8)
_D = const(9)  # temporaries of the doubling ...
_G = const(10)
_B = const(11)
_T1 = const(12)
_T2 = const(13)
_A = const(14)
_B4 = const(15)
_ZZ = const(16)  # ... and of the addition
_U = const(17)
_S2 = const(18)
_H = const(19)
_R = const(20)
_HH = const(21)
_HHH = const(22)
_V = const(23)
_T3 = const(24)
_ZI = const(25)  # the number inverted
_RS = const(27)  # r of the signature
_GTAB = const(28)  # 16 points of 3 slots (x, y, and the h of table building)
_QTAB = const(76)  # 8 points of 3 slots
_SLOTS = const(100)
# the inversion's temporaries (only the doubling's are free then)
_I2 = const(9)
_I4 = const(10)
_I8 = const(11)
_I16 = const(12)
_I30 = const(13)
_I32 = const(14)
_IR = const(15)
# operands relative to the call's base: a table point
_PX = const(128)
_PY = const(129)
_PH = const(130)

W_G = const(6)  # NAF widths, as in ota.ecdsa: 16 points of G, 8 of Q
W_Q = const(5)
_GCOUNT = const(16)
_QCOUNT = const(8)
_YIELD_EVERY = const(32)  # ladder digits between yields: about 0.3 ms on the 32-bit unix port

# 2 (X, Y, Z) in place (dbl-2001-b for a = -3, 3M + 5S):
# delta = Z^2, gamma = Y^2, beta = X gamma, alpha = 3 (X - delta)(X + delta),
# X3 = alpha^2 - 8 beta, Z3 = (Y + Z)^2 - gamma - delta, Y3 = alpha (4 beta - X3) - 8 gamma^2
_DBL_OPS = (
    SQR, _D, _Z, 1, SQR, _G, _Y, 1, MUL, _B, _X, _G,
    SUB, _T1, _X, _D, ADD, _T2, _X, _D, MUL, _A, _T1, _T2, ADD, _T1, _A, _A, ADD, _A, _T1, _A,
    ADD, _T1, _Y, _Z, SQR, _T1, _T1, 1, SUB, _T1, _T1, _G, SUB, _Z, _T1, _D,
    SQR, _T1, _A, 1, ADD, _B4, _B, _B, ADD, _B4, _B4, _B4, SUB, _T1, _T1, _B4, SUB, _X, _T1, _B4,
    SUB, _T1, _B4, _X, MUL, _T1, _A, _T1, SQR, _T2, _G, 1,
    ADD, _T2, _T2, _T2, ADD, _T2, _T2, _T2, ADD, _T2, _T2, _T2, SUB, _Y, _T1, _T2,
)


def _madd(neg):
    """(X, Y, Z) += (x2, y2) of the point at the base (madd-2004-hmv, 8M + 3S), or its
    negative (x2, -y2): -y2 is folded into R. Stops (BAILZ) when H = 0, the same x: the caller
    doubles or goes to infinity, as X, Y, Z are still unchanged then."""
    r = (SUB, _R, _ZERO, _S2, SUB, _R, _R, _Y) if neg else (SUB, _R, _S2, _Y)
    return bytes((
        SQR, _ZZ, _Z, 1, MUL, _U, _PX, _ZZ, MUL, _S2, _Z, _ZZ, MUL, _S2, _PY, _S2,
        SUB, _H, _U, _X) + r + (BAILZ, 0, _H, 0,
        SQR, _HH, _H, 1, MUL, _HHH, _H, _HH, MUL, _V, _X, _HH,
        SQR, _T1, _R, 1, SUB, _T1, _T1, _HHH, ADD, _T2, _V, _V, SUB, _T1, _T1, _T2,
        SUB, _T2, _V, _T1, MUL, _T2, _R, _T2, MUL, _T3, _Y, _HHH, SUB, _Y, _T2, _T3,
        MUL, _Z, _Z, _H, COPY, _X, _T1, 0, 0))


_DBL = bytes(_DBL_OPS + (0,))
_MADD = (_madd(False), _madd(True))
# from infinity: (X, Y, Z) = the table point at the base (or its negative), Z = 1
_LOAD = (bytes((COPY, _X, _PX, 0, COPY, _Y, _PY, 0, COPY, _Z, _ONE, 0, 0)),
         bytes((COPY, _X, _PX, 0, SUB, _Y, _ZERO, _PY, COPY, _Z, _ONE, 0, 0)))
# Table building. Start: T = (TX, TY); 2T = (X, Y, Z); on the curve scaled by Z, 2T is (X, Y)
# and T is (x Z^2, y Z^3): the table's first entry (its h: Z), also the running point.
_TABLE_START = bytes((COPY, _X, _TX, 0, COPY, _Y, _TY, 0, COPY, _Z, _ONE, 0) + _DBL_OPS + (
    SQR, _ZZ, _Z, 1, MUL, _T1, _TX, _ZZ, MUL, _T2, _ZZ, _Z, MUL, _T2, _TY, _T2,
    COPY, _TX, _X, 0, COPY, _TY, _Y, 0,
    COPY, _PX, _T1, 0, COPY, _PY, _T2, 0, COPY, _PH, _Z, 0,
    COPY, _X, _T1, 0, COPY, _Y, _T2, 0, COPY, _Z, _ONE, 0, 0))
_TABLE_SAVE = bytes((COPY, _PX, _X, 0, COPY, _PY, _Y, 0, COPY, _PH, _H, 0, 0))
_TABLE_LAST_Z = bytes((MUL, _ZI, _Z, _PH, 0))  # at the first entry: Z times the scaling Z
# one entry made affine with ZI = 1 / its Z; then ZI times its h is that of the entry before
_TABLE_AFFINE = bytes((SQR, _T1, _ZI, 1, MUL, _PX, _PX, _T1, MUL, _T1, _T1, _ZI,
                       MUL, _PY, _PY, _T1, MUL, _ZI, _ZI, _PH, 0))
# ZI = ZI^(p - 2) = 1 / ZI (Fermat), p - 2 = ffffffff 00000001 0 0 0 ffffffff ffffffff
# fffffffd (32-bit words): 255 squarings and 11 multiplications, with x^(2^k - 1) for k = 2, 4,
# 8, 16, 30, 32 as the building blocks
_INVERT = bytes((
    SQR, _IR, _ZI, 1, MUL, _I2, _IR, _ZI, SQR, _IR, _I2, 2, MUL, _I4, _IR, _I2,
    SQR, _IR, _I4, 4, MUL, _I8, _IR, _I4, SQR, _IR, _I8, 8, MUL, _I16, _IR, _I8,
    SQR, _IR, _I16, 8, MUL, _IR, _IR, _I8, SQR, _IR, _IR, 4, MUL, _IR, _IR, _I4,
    SQR, _IR, _IR, 2, MUL, _I30, _IR, _I2, SQR, _IR, _I30, 2, MUL, _I32, _IR, _I2,
    SQR, _IR, _I32, 32, MUL, _IR, _IR, _ZI, SQR, _IR, _IR, 128, MUL, _IR, _IR, _I32,
    SQR, _IR, _IR, 32, MUL, _IR, _IR, _I32, SQR, _IR, _IR, 30, MUL, _IR, _IR, _I30,
    SQR, _IR, _IR, 2, MUL, _ZI, _IR, _ZI, 0))
# x(R) == r without an inversion: r Z^2 - X == 0 (mod p)
_CHECK_X = bytes((SQR, _ZZ, _Z, 1, MUL, _T1, _RS, _ZZ, SUB, _T1, _T1, _X, 0))
# (X, Y) = (X / Z^2, Y / Z^3)
_AFFINE = bytes((COPY, _ZI, _Z, 0) + tuple(_INVERT[:-1]) + (
    SQR, _T1, _ZI, 1, MUL, _X, _X, _T1, MUL, _T1, _T1, _ZI, MUL, _Y, _Y, _T1, 0))

# The ladder's programs in one piece (p256v.ladder), and where each starts
_PROGS = _DBL + _MADD[0] + _MADD[1] + _LOAD[0] + _LOAD[1]
_OFFSETS = (0, len(_DBL), len(_DBL) + len(_MADD[0]), len(_DBL) + 2 * len(_MADD[0]),
            len(_DBL) + 2 * len(_MADD[0]) + len(_LOAD[0]))

_free = []  # a workspace whose G table is made, while no verification holds it


def _put(ws, slot, v):
    p256v.put(ws, slot, v.to_bytes(32, "big"))


def _get(ws, slot):
    out = bytearray(32)
    p256v.get(ws, slot, out)
    return int.from_bytes(out, "big")


def _table_steps(ws, x, y, base, count):
    """The odd multiples 1T, 3T, ... (count points) of T = (x, y), affine, into the table at
    slot `base` (3 slots a point). As ota.ecdsa._odd_multiples, with one inversion."""
    _put(ws, _TX, x)
    _put(ws, _TY, y)
    run(ws, _TABLE_START, 0, base)
    madd = _MADD[0]
    for i in range(1, count):
        # h is never 0 (iT = +-2T needs an order below 2 * count + 2: it is a large prime)
        if run(ws, madd, 0, _TX):
            raise ValueError("EC point of small order")
        run(ws, _TABLE_SAVE, 0, base + 3 * i)
    run(ws, _TABLE_LAST_Z, 0, base)
    yield
    run(ws, _INVERT, 0, 0)
    yield
    for i in range(count - 1, -1, -1):
        run(ws, _TABLE_AFFINE, 0, base + 3 * i)


def _take():
    """(workspace, True when its G table is made)."""
    if _free:
        return _free.pop(), True
    ws = array("H", bytes(_SLOTS * 32))
    ws[_ONE * 16] = 1
    st = LADDER * 16
    ws[st + p256v.L_CHUNK] = _YIELD_EVERY
    ws[st + p256v.L_TABLE] = _GTAB
    ws[st + p256v.L_TABLE + 1] = _QTAB
    ws[st + p256v.L_R] = _R
    for i in range(5):  # doubling, addition +/-, load +/-
        ws[st + p256v.L_DBL + i] = _OFFSETS[i]
    return ws, False


def _give(ws):
    """Keeps one workspace for the next verification (its G table made); one more, made
    while the first was held, is left to the collector."""
    if not _free:
        _free.append(ws)


def _ladder_steps(ws, u1, u2):
    """(X, Y, Z) = u1 G + u2 Q from the tables (p256v.ladder, _YIELD_EVERY digits a step);
    returns False, or True for the point at infinity (Z is not kept 0 there)."""
    from ota.ecdsa import _wnaf

    a, la = _wnaf(u1, W_G)
    b, lb = _wnaf(u2, W_Q)
    st = LADDER * 16
    ws[st + p256v.L_LEFT] = max(la, lb)
    ws[st + p256v.L_INF] = 1
    while p256v.ladder(ws, _PROGS, a, b):
        yield
    return ws[st + p256v.L_INF] == 1


def _with_g_steps(ws, ready):
    if not ready:
        from ota.ecdsa import GX, GY
        yield from _table_steps(ws, GX, GY, _GTAB, _GCOUNT)


def check_steps(u1, u2, qx, qy, r):
    """True when x(u1 G + u2 Q) mod n == r (0 < r < n; Q = (qx, qy) on the curve)."""
    from ota.ecdsa import N, P

    ws, ready = _take()
    yield from _with_g_steps(ws, ready)
    if u2:
        yield from _table_steps(ws, qx, qy, _QTAB, _QCOUNT)
    inf = yield from _ladder_steps(ws, u1, u2)
    ok = False
    if not inf:
        # x(R) = X / Z^2 < p: x(R) mod n == r means x(R) is r or r + n
        for x in (r, r + N):
            if x < P:
                _put(ws, _RS, x)
                run(ws, _CHECK_X, 0, 0)
                if p256v.is_zero(ws, _T1):
                    ok = True
                    break
    _give(ws)
    return ok


def mul2_steps(u1, u2, qx, qy):
    """u1 G + u2 Q as affine (x, y), None for the point at infinity (0 <= u1, u2 < 2^256;
    u2 = 0 leaves Q unused)."""
    ws, ready = _take()
    yield from _with_g_steps(ws, ready)
    if u2:
        yield from _table_steps(ws, qx, qy, _QTAB, _QCOUNT)
    point = None
    if not (yield from _ladder_steps(ws, u1, u2)):
        run(ws, _AFFINE, 0, 0)
        point = _get(ws, _X), _get(ws, _Y)
    _give(ws)
    return point


def mul_g_steps(k):
    """k G as affine (x, y), 0 < k < n."""
    point = yield from mul2_steps(k, 0, None, None)
    if point is None:
        raise ValueError("k G is the point at infinity")
    return point

