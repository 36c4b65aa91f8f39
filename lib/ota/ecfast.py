# ECDSA P-256 point arithmetic on ota.p256v's native field code: the path where viper runs.
"""    ok = yield from check_steps(u1, u2, qx, qy, r)   # x(u1 G + u2 Q) mod n == r
    ok = yield from check_steps(u1, u2, qx, qy, r, work)   # the workspace in a lent buffer
    x, y = yield from mul_g_steps(k)                 # k G, affine

ota.ecdsa uses this module when it imports (MicroPython with a native emitter) and its own
pure-Python integers otherwise; both compute the same thing with the same formulas: Jacobian
coordinates, the doubling for a = -3, mixed additions of affine table points, u1 G + u2 Q
together from width-w NAF digits (ota.ecdsa._wnaf), the odd multiples of a point made affine
with one inversion by way of an isomorphic curve (see ota.ecdsa._odd_multiples).

Memory: a workspace of 52 slots (1.7 KB in two pieces, see p256v: a segment is at most 1 KB)
per verification holds the intermediate values and Q's table (8 points); G's table (16
points) is the constant ota.p256g.G_TABLE, a third segment, in flash when frozen. Nothing is
kept after a verification, and two step-wise checks on the loop at once each have their own;
nothing else is allocated per operation. A check given `work` (a bytearray of at least
WORK_BYTES that nothing else uses meanwhile: the firmware's shared block) makes its workspace
and its NAF digits there and allocates none of its 2.2 KB: at the heap's fullest (a
certificate renewal's chain check beside a TLS session) they need not be found.
Generators: they yield between chunks of some 0.1-0.5 ms on the 32-bit unix port.
"""

from micropython import const

from ota import p256v
from ota.p256g import (AFFINE, CHECK_X, FIXED, G_TABLE, GTAB, INVERT, OFFSETS, ONE, PROGS,
                       QTAB, RS, T1, TABLE_AFFINE, TABLE_LAST_Z, TABLE_SAVE, TABLE_START, TX,
                       TY, X, Y, R)
from ota.p256v import LADDER, run

# The slots and programs are ota.p256g's constants (written by tools/gen_p256g.py, which has
# the programs in symbolic form: the doubling for a = -3, the mixed addition, the inversion).
W_G = const(6)  # NAF widths, as in ota.ecdsa: 16 points of G, 8 of Q
W_Q = const(5)
_QCOUNT = const(8)
_DIGITS = const(257)  # NAF digits of a 256-bit scalar (ota.ecdsa._wnaf)
_SEG1 = const(12)  # a lent workspace: the segments' addresses, then segment 0 ...
_QAT = _SEG1 + FIXED * 32  # ... Q's table ...
_DAT = _QAT + 3 * _QCOUNT * 32  # ... and the two NAFs
WORK_BYTES = _DAT + 2 * _DIGITS
_YIELD_EVERY = const(32)  # ladder digits between yields: about 0.3 ms on the 32-bit unix port


def _put(ws, slot, v):
    p256v.put(ws[0], slot, v.to_bytes(32, "big"))


def _get(ws, slot):
    out = bytearray(32)
    p256v.get(ws[0], slot, out)
    return int.from_bytes(out, "big")


def _table_steps(ws, x, y, base, count):
    """The odd multiples 1T, 3T, ... (count points) of T = (x, y), affine, into the table at
    slot `base` (3 slots a point). As ota.ecdsa._odd_multiples, with one inversion."""
    _put(ws, TX, x)
    _put(ws, TY, y)
    run(ws[0], TABLE_START, 0, base)
    for i in range(1, count):
        # h is never 0 (iT = +-2T needs an order below 2 * count + 2: it is a large prime)
        if run(ws[0], PROGS, OFFSETS[1], TX):  # the addition
            raise ValueError("EC point of small order")
        run(ws[0], TABLE_SAVE, 0, base + 3 * i)
    run(ws[0], TABLE_LAST_Z, 0, base)
    yield
    run(ws[0], INVERT, 0, 0)
    yield
    for i in range(count - 1, -1, -1):
        run(ws[0], TABLE_AFFINE, 0, base + 3 * i)


def _workspace(work=None):
    """A workspace: [the segments' addresses, segment 0, G's table, Q's table, the NAF digits
    of u1 and u2 (None: made by _wnaf)], in `work` when it is given, else new."""
    if work is not None and len(work) >= WORK_BYTES:
        p256v.zero(work, WORK_BYTES)
        w = memoryview(work)
        ws = [w[:_SEG1], w[_SEG1:_QAT], G_TABLE, w[_QAT:_DAT], w[_DAT:_DAT + _DIGITS],
              w[_DAT + _DIGITS:WORK_BYTES]]
    else:  # bytearrays: zeroed as made, where array("H", bytes(n)) would first make n more
        ws = [bytearray(12), bytearray(FIXED * 32), G_TABLE, bytearray(3 * _QCOUNT * 32),
              None, None]
    for i in range(3):
        p256v.bind(ws[0], i, ws[i + 1])
    t = ws[0]
    p256v.set_limb(t, ONE, 0, 1)
    for i, v in ((p256v.L_CHUNK, _YIELD_EVERY), (p256v.L_TABLE, GTAB), (p256v.L_TABLE + 1, QTAB),
                 (p256v.L_STRIDE, 2), (p256v.L_STRIDE + 1, 3), (p256v.L_R, R)):
        p256v.set_limb(t, LADDER, i, v)
    for i in range(5):  # doubling, addition +/-, load +/-
        p256v.set_limb(t, LADDER, p256v.L_DBL + i, OFFSETS[i])
    return ws


def _ladder_steps(ws, u1, u2):
    """(X, Y, Z) = u1 G + u2 Q from the tables (p256v.ladder, _YIELD_EVERY digits a step);
    returns False, or True for the point at infinity (Z is not kept 0 there)."""
    from ota.ecdsa import _wnaf

    a, la = _wnaf(u1, W_G, ws[4])
    b, lb = _wnaf(u2, W_Q, ws[5])
    t = ws[0]
    p256v.set_limb(t, LADDER, p256v.L_LEFT, max(la, lb))
    p256v.set_limb(t, LADDER, p256v.L_INF, 1)
    while True:
        left = p256v.ladder(t, PROGS, a, b)
        if left < 2:
            return left == 1
        yield


def check_steps(u1, u2, qx, qy, r, work=None):
    """True when x(u1 G + u2 Q) mod n == r (0 < r < n; Q = (qx, qy) on the curve); the
    workspace in `work` when it is given (see above)."""
    from ota.ecdsa import N, P

    ws = _workspace(work)
    if u2:
        yield from _table_steps(ws, qx, qy, QTAB, _QCOUNT)
    inf = yield from _ladder_steps(ws, u1, u2)
    ok = False
    if not inf:
        # x(R) = X / Z^2 < p: x(R) mod n == r means x(R) is r or r + n
        for x in (r, r + N):
            if x < P:
                _put(ws, RS, x)
                run(ws[0], CHECK_X, 0, 0)
                if p256v.is_zero(ws[0], T1):
                    ok = True
                    break
    return ok


def mul2_steps(u1, u2, qx, qy):
    """u1 G + u2 Q as affine (x, y), None for the point at infinity (0 <= u1, u2 < 2^256;
    u2 = 0 leaves Q unused)."""
    ws = _workspace()
    if u2:
        yield from _table_steps(ws, qx, qy, QTAB, _QCOUNT)
    point = None
    if not (yield from _ladder_steps(ws, u1, u2)):
        run(ws[0], AFFINE, 0, 0)
        point = _get(ws, X), _get(ws, Y)
    return point


def mul_g_steps(k):
    """k G as affine (x, y), 0 < k < n."""
    point = yield from mul2_steps(k, 0, None, None)
    if point is None:
        raise ValueError("k G is the point at infinity")
    return point

