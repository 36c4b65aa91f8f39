#!/usr/bin/env python3
# Writes lib/ota/p256g.py: ota.ecfast's field programs and the table of G, as constants.
"""    python tools/gen_p256g.py

What ota.ecfast runs on ota.p256v is data: the workspace's slot numbers, the programs (a
point doubling, additions, the inversion, ...) and the odd multiples of G. Written out as bytes
constants they stay in flash in a frozen firmware: built at import they took 2.3 KB of heap,
and the signed update with an ECDSA certificate has no such room under the 96 KiB of the
memory gate. This file is their one source: the programs in symbolic form below, the table
computed by ota.ecdsa's integer code. tests/test_one_source.py checks that the module is what
this script writes, and that the opcodes are p256v's.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "lib", "ota", "p256g.py")

# ota.p256v's opcodes (checked against its source by tests/test_one_source.py)
END, MUL, SQR, ADD, SUB, COPY, BAILZ = 0, 1, 2, 3, 4, 5, 6
LADDER = 26  # p256v.LADDER: the ladder's state

# Slots (16 limbs each) of the workspace. 2 and 3 are p256v.PRODUCT, 26 p256v.LADDER. Segment
# 0 (slots 0-27) and 2 (Q's table) are arrays; segment 1 is G's table (p256g).
_ZERO = 0
_ONE = 1
_X = 4  # the running point, Jacobian
_Y = 5
_Z = 6
_TX = 7  # table building: the point, then 2T on the isomorphic curve
_TY = 8
_D = 9  # temporaries of the doubling ...
_G = 10
_B = 11
_T1 = 12
_T2 = 13
_A = 14
_B4 = 15
_ZZ = 16  # ... and of the addition
_U = 17
_S2 = 18
_H = 19
_R = 20
_HH = 21
_HHH = 22
_V = 23
_T3 = 24
_ZI = 25  # the number inverted
_RS = 27  # r of the signature
_GTAB = 32  # 16 points of 2 slots (x, y): p256g.G_TABLE
_QTAB = 64  # 8 points of 3 slots (x, y, and the h of table building)
_FIXED = 28  # slots of segment 0
# the inversion's temporaries (only the doubling's are free then)
_I2 = 9
_I4 = 10
_I8 = 11
_I16 = 12
_I30 = 13
_I32 = 14
_IR = 15
# operands relative to the call's base: a table point
_PX = 128
_PY = 129
_PH = 130

W_G = 6  # NAF widths, as in ota.ecdsa: 16 points of G, 8 of Q
W_Q = 5
_QCOUNT = 8
_YIELD_EVERY = 32  # ladder digits between yields: about 0.3 ms on the 32-bit unix port

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


_FIXED = 28  # slots of segment 0 (0-27), as ecfast allocates it
_GCOUNT = 16  # 2^(W_G - 2) points for ota.ecfast.W_G = 6

# The ladder's programs in one piece (p256v.ladder), and where each starts
_PROGS = _DBL + _MADD[0] + _MADD[1] + _LOAD[0] + _LOAD[1]
_OFFSETS = (0, len(_DBL), len(_DBL) + len(_MADD[0]), len(_DBL) + 2 * len(_MADD[0]),
            len(_DBL) + 2 * len(_MADD[0]) + len(_LOAD[0]))

# what ota.ecfast needs, in the order written
SLOTS = ("ONE", "X", "Y", "Z", "TX", "TY", "R", "T1", "ZI", "RS", "GTAB", "QTAB")
PROGRAMS = ("PROGS", "TABLE_START", "TABLE_SAVE", "TABLE_LAST_Z", "TABLE_AFFINE", "INVERT",
            "CHECK_X", "AFFINE")


def g_table():
    """1G, 3G, ... (_GCOUNT points), affine: per point x then y, each 16 little-endian 16-bit
    limbs (32 bytes, the layout of a slot of ota.p256v)."""
    sys.path.insert(0, os.path.join(ROOT, "lib"))
    from ota import ecdsa
    flat = ecdsa._odd_multiples(ecdsa.GX, ecdsa.GY, _GCOUNT)
    return b"".join(v.to_bytes(32, "little") for v in flat)


def _literal(name, data):
    lines = []
    for i in range(0, len(data), 16):
        lines.append('    b"%s"' % "".join("\\x%02x" % b for b in data[i:i + 16]))
    return "%s = (\n%s\n)\n" % (name, "\n".join(lines))


def text():
    """The module's source."""
    g = globals()
    out = ["# ota.ecfast's slots, programs and table of G as constants (made by tools/gen_p256g.py).",
           '"""Written by tools/gen_p256g.py, which has the programs in symbolic form: change them',
           "there. Bytes constants stay in flash in a frozen firmware. The table: 1G, 3G, ... 31G,",
           "affine, per point x then y as 16 little-endian 16-bit limbs (one slot of ota.p256v).",
           '"""', ""]
    for name in SLOTS:
        out.append("%s = %d" % (name, g["_" + name]))
    out.append("FIXED = %d" % _FIXED)
    out.append("OFFSETS = %r" % (_OFFSETS,))
    out.append("")
    for name in PROGRAMS:
        out.append(_literal(name, g["_" + name]))
    out.append(_literal("G_TABLE", g_table()))
    return "\n".join(out)


def main():
    with open(TARGET, "w") as f:
        f.write(text())
    print("wrote", os.path.relpath(TARGET, ROOT))


if __name__ == "__main__":
    main()
