# P-256 field arithmetic in viper: native code, no allocation per operation.
"""    run(ws, prog, pc, base)   # executes field operations on the slots of `ws`; 1 if BAILZ hit
    ladder(ws, progs, da, db)  # a chunk of u1 G + u2 Q's doublings and additions
    bind(ws, i, segment)  # the workspace: segment i (32 slots) is this buffer
    set_limb(ws, slot, i, v)
    put(ws, slot, be32)   # a slot from 32 big-endian bytes (a value below 2^256)
    get(ws, slot, out32)  # 32 big-endian bytes of a slot, fully reduced (below p)
    is_zero(ws, slot)     # 1 when the slot is 0 mod p
    zero(buf, n)          # the first n bytes of a buffer 0 (a workspace in a lent buffer)

Only imported where MicroPython has a native emitter (the ESP32's xtensawin, the 32-bit unix
port's x86): importing it anywhere else fails (ImportError on CPython, SyntaxError on the
WebAssembly port), and ota.ecdsa then keeps its pure-Python integers.

Why: a Python int allocates every result (50-130 bytes on a 32-bit port), some 750 KB per
ECDSA verification. Here a number mod p is a "slot": 16 limbs of 16 bits, little-endian, in one
preallocated buffer (the workspace), kept below 2^256 but not always below p. A 16 x 16-bit
product fits a viper uint (32 bits), and a column of them is summed in two halves, so nothing
overflows. The product is reduced with the NIST special form of p (FIPS 186-4 D.2.3): 2^256 =
2^224 - 2^192 - 2^96 + 1 (mod p), additions and subtractions of limbs, no division.

The workspace is in segments of 32 slots (1 KB; one 3 KB block may not be free in a
fragmented heap next to a TLS session): `ws` is a bytearray of their 32-bit addresses (bind), and
slot s is at ws[s >> 5] + 32 (s & 31) (bytes; a slot is 16 little-endian 16-bit limbs). Every function takes its buffers as plain objects and
makes pointers of them inside (a pointer passed on to another viper function would be boxed as
an int, allocated above 2^30).

A program is bytes of 4-byte instructions (op, d, a, b) ending with END; operands below 128 are
slot numbers, 128 + k means slot `base + k` (a point in a table, chosen per call). One call runs
a whole point doubling or addition: a call costs about a third of a multiplication.
"""

import sys

import micropython
from micropython import const

if sys.maxsize >> 32:  # the segment table below keeps addresses in 32 bits
    raise ImportError("ota.p256v: 32-bit ports only")

END = const(0)
MUL = const(1)  # d = a * b
SQR = const(2)  # d = a ^ (2 ^ b): b squarings (b >= 1)
ADD = const(3)  # d = a + b
SUB = const(4)  # d = a - b
COPY = const(5)  # d = a
BAILZ = const(6)  # stop, returning 1, when a is 0 mod p (d, b unused)

PRODUCT = const(2)  # slots 2 and 3 hold the 32 limbs of a product (slots 0, 1: 0 and 1)
LADDER = const(26)  # the slot of ladder()'s state


@micropython.viper
def _is_zero(ws, a: int) -> int:
    """1 when slot a is 0 or p (the two values below 2^256 that are 0 mod p)."""
    x = ptr16(ptr32(ws)[a >> 5] + ((a & 31) << 5))
    z = 0
    q = 0
    for i in range(16):
        v = x[i]
        z |= v
        # p's limbs: 0xFFFF for 0-5 and 14-15, 1 for 12, 0 for the rest
        if i < 6 or i > 13:
            q |= v ^ 0xFFFF
        elif i == 12:
            q |= v ^ 1
        else:
            q |= v
    return int(z == 0 or q == 0)


@micropython.viper
def run(ws, program, pc: int, base: int) -> int:
    """Executes `prog` from byte `pc` on the workspace `ws`; 0 at END, 1 when a BAILZ operand
    is 0 mod p.
    A destination may be a source: every result is written after its operands are read. The
    multiplication, squaring and reduction are written out here, not called: a call between
    viper functions costs a third of a multiplication."""
    seg = ptr32(ws)
    prog = ptr8(program)
    t = ptr16(seg[0] + PRODUCT * 32)
    while True:
        op = prog[pc]
        if op == END:
            return 0
        d = prog[pc + 1]
        a = prog[pc + 2]
        b = prog[pc + 3]
        pc += 4
        if d >= 128:
            d += base - 128
        if a >= 128:
            a += base - 128
        if b >= 128 and op != SQR:
            b += base - 128
        r = ptr16(seg[d >> 5] + ((d & 31) << 5))
        x = ptr16(seg[a >> 5] + ((a & 31) << 5))
        y = ptr16(seg[b >> 5] + ((b & 31) << 5))
        if op == BAILZ:
            if _is_zero(ws, a):
                return 1
            continue
        if op == COPY:
            for i in range(16):
                r[i] = x[i]
            continue
        n = 1
        if op == SQR:
            n = b
        while n > 0:
            n -= 1
            v = 0
            if op == ADD:
                for i in range(16):
                    v += x[i] + y[i]
                    r[i] = v & 0xFFFF
                    v >>= 16
            elif op == SUB:
                for i in range(16):
                    v += x[i] - y[i]
                    r[i] = v & 0xFFFF
                    v >>= 16
            else:
                c = uint(0)
                if op == MUL:  # product scanning: one column of x[i] * y[k - i] at a time
                    for k in range(31):
                        lo = c
                        hi = uint(0)
                        i = 0
                        if k > 15:
                            i = k - 15
                        j = k - i
                        while j >= 0 and i < 16:
                            p = uint(x[i]) * uint(y[j])
                            lo += p & 0xFFFF
                            hi += p >> 16
                            i += 1
                            j -= 1
                        t[k] = int(lo & 0xFFFF)
                        c = (lo >> 16) + hi
                else:  # each cross product once, doubled: 136 products, not 256
                    for k in range(31):
                        lo = uint(0)
                        hi = uint(0)
                        i = 0
                        if k > 15:
                            i = k - 15
                        j = k - i
                        while i < j:
                            p = uint(x[i]) * uint(x[j])
                            lo += p & 0xFFFF
                            hi += p >> 16
                            i += 1
                            j -= 1
                        lo += lo
                        hi += hi
                        if i == j:
                            p = uint(x[i]) * uint(x[i])
                            lo += p & 0xFFFF
                            hi += p >> 16
                        lo += c
                        t[k] = int(lo & 0xFFFF)
                        c = (lo >> 16) + hi
                t[31] = int(c)
                # the reduction (FIPS 186-4 D.2.3): each 32-bit word of the result is a signed
                # sum of the product's words (s1 + 2 s2 + 2 s3 + s4 + s5 - d1 - d2 - d3 - d4),
                # summed per 16-bit half, then carried
                e0 = t[0] + t[16] + t[18] - t[22] - t[24] - t[26] - t[28]
                e1 = t[1] + t[17] + t[19] - t[23] - t[25] - t[27] - t[29]
                e2 = t[2] + t[18] + t[20] - t[24] - t[26] - t[28] - t[30]
                e3 = t[3] + t[19] + t[21] - t[25] - t[27] - t[29] - t[31]
                e4 = t[4] + t[20] + t[22] - t[26] - t[28] - t[30]
                e5 = t[5] + t[21] + t[23] - t[27] - t[29] - t[31]
                e6 = t[6] + t[22] + t[22] + t[24] + t[24] + t[26] - t[30] - t[16] - t[18]
                e7 = t[7] + t[23] + t[23] + t[25] + t[25] + t[27] - t[31] - t[17] - t[19]
                e8 = t[8] + t[24] + t[24] + t[26] + t[26] + t[28] - t[18] - t[20]
                e9 = t[9] + t[25] + t[25] + t[27] + t[27] + t[29] - t[19] - t[21]
                e10 = t[10] + t[26] + t[26] + t[28] + t[28] + t[30] - t[20] - t[22]
                e11 = t[11] + t[27] + t[27] + t[29] + t[29] + t[31] - t[21] - t[23]
                e12 = t[12] + t[28] + t[28] + t[28] + t[30] + t[30] + t[26] - t[16] - t[18]
                e13 = t[13] + t[29] + t[29] + t[29] + t[31] + t[31] + t[27] - t[17] - t[19]
                e14 = t[14] + t[30] + t[30] + t[30] + t[16] - t[20] - t[22] - t[24] - t[26]
                e15 = t[15] + t[31] + t[31] + t[31] + t[17] - t[21] - t[23] - t[25] - t[27]
                v = e0
                r[0] = v & 0xFFFF
                v = (v >> 16) + e1
                r[1] = v & 0xFFFF
                v = (v >> 16) + e2
                r[2] = v & 0xFFFF
                v = (v >> 16) + e3
                r[3] = v & 0xFFFF
                v = (v >> 16) + e4
                r[4] = v & 0xFFFF
                v = (v >> 16) + e5
                r[5] = v & 0xFFFF
                v = (v >> 16) + e6
                r[6] = v & 0xFFFF
                v = (v >> 16) + e7
                r[7] = v & 0xFFFF
                v = (v >> 16) + e8
                r[8] = v & 0xFFFF
                v = (v >> 16) + e9
                r[9] = v & 0xFFFF
                v = (v >> 16) + e10
                r[10] = v & 0xFFFF
                v = (v >> 16) + e11
                r[11] = v & 0xFFFF
                v = (v >> 16) + e12
                r[12] = v & 0xFFFF
                v = (v >> 16) + e13
                r[13] = v & 0xFFFF
                v = (v >> 16) + e14
                r[14] = v & 0xFFFF
                v = (v >> 16) + e15
                r[15] = v & 0xFFFF
                v >>= 16
            while v != 0:  # + v * 2^256 = v * (2^224 - 2^192 - 2^96 + 1) (mod p)
                cv = v
                v = r[0] + cv
                r[0] = v & 0xFFFF
                v = (v >> 16) + r[1]
                r[1] = v & 0xFFFF
                v = (v >> 16) + r[2]
                r[2] = v & 0xFFFF
                v = (v >> 16) + r[3]
                r[3] = v & 0xFFFF
                v = (v >> 16) + r[4]
                r[4] = v & 0xFFFF
                v = (v >> 16) + r[5]
                r[5] = v & 0xFFFF
                v = (v >> 16) + r[6] - cv
                r[6] = v & 0xFFFF
                v = (v >> 16) + r[7]
                r[7] = v & 0xFFFF
                v = (v >> 16) + r[8]
                r[8] = v & 0xFFFF
                v = (v >> 16) + r[9]
                r[9] = v & 0xFFFF
                v = (v >> 16) + r[10]
                r[10] = v & 0xFFFF
                v = (v >> 16) + r[11]
                r[11] = v & 0xFFFF
                v = (v >> 16) + r[12] - cv
                r[12] = v & 0xFFFF
                v = (v >> 16) + r[13]
                r[13] = v & 0xFFFF
                v = (v >> 16) + r[14] + cv
                r[14] = v & 0xFFFF
                v = (v >> 16) + r[15]
                r[15] = v & 0xFFFF
                v >>= 16
            x = r


# The ladder's state: 16 limbs of one slot (LADDER), set by the caller.
L_LEFT = const(0)  # digits left to do (the next one is at LEFT - 1)
L_INF = const(1)  # 1 while the running point is the point at infinity
L_CHUNK = const(2)  # digits to do per call
L_TABLE = const(3)  # the first slot of G's table, then that of Q's
L_R = const(5)  # the slot of the addition's R (looked at when it stopped at H = 0)
L_DBL = const(6)  # where the programs start in `progs`: the doubling,
L_MADD = const(7)  # the addition of a table point and of its negative,
L_LOAD = const(9)  # the load of a table point and of its negative (from infinity)
L_STRIDE = const(11)  # slots a point in G's table, then in Q's


@micropython.viper
def ladder(ws, progs, digits_g, digits_q) -> int:
    """Up to CHUNK digits of the double-scalar ladder (ota.ecfast._ladder_steps, the Python
    loop it replaces: a viper loop costs nothing next to the 2 us a Python iteration took):
    double, then add the table points of digit `da[i]` of G's table and `db[i]` of Q's.
    Returns twice the digits left, plus 1 when the point is at infinity."""
    st = ptr16(ptr32(ws)[0] + LADDER * 32)
    da = ptr8(digits_g)
    db = ptr8(digits_q)
    i = st[L_LEFT]
    inf = st[L_INF]
    n = st[L_CHUNK]
    while n > 0 and i > 0:
        i -= 1
        n -= 1
        if not inf:
            run(ws, progs, st[L_DBL], 0)
        for t in range(2):
            d = da[i]
            if t:
                d = db[i]
            if d:
                neg = 0
                if d > 127:
                    neg = 1
                    d = 256 - d
                base = st[L_TABLE + t] + st[L_STRIDE + t] * (d >> 1)  # dT: entry (d - 1) / 2
                if inf:
                    run(ws, progs, st[L_LOAD + neg], base)
                    inf = 0
                elif run(ws, progs, st[L_MADD + neg], base):  # the same x:
                    if _is_zero(ws, st[L_R]):  # the same point: doubled
                        run(ws, progs, st[L_DBL], 0)
                    else:  # its negative: the sum is infinity
                        inf = 1
    st[L_LEFT] = i
    st[L_INF] = inf
    return i * 2 + inf


is_zero = _is_zero


@micropython.viper
def bind(ws, i: int, segment):
    """ws[i] = the address of `segment` (a buffer of up to 32 slots, kept alive by the caller:
    the collector does not move objects)."""
    a = ptr32(ws)
    a[i] = int(ptr16(segment))


@micropython.viper
def set_limb(ws, a: int, i: int, v: int):
    """Limb i of slot a = v (0 <= v < 2^16)."""
    r = ptr16(ptr32(ws)[a >> 5] + ((a & 31) << 5))
    r[i] = v


@micropython.viper
def put(ws, a: int, data):
    """Slot a = the 32 big-endian bytes of `data` (a value below 2^256)."""
    r = ptr16(ptr32(ws)[a >> 5] + ((a & 31) << 5))
    src = ptr8(data)
    for i in range(16):
        r[i] = src[31 - 2 * i] | (src[30 - 2 * i] << 8)


@micropython.viper
def get(ws, a: int, buf):
    """buf[0:32] = slot a fully reduced (below p: p is subtracted once if needed), big-endian."""
    x = ptr16(ptr32(ws)[a >> 5] + ((a & 31) << 5))
    out = ptr8(buf)
    # x >= p? Compare from the top limb down with p's limbs.
    ge = 1
    i = 15
    while i >= 0:
        if i < 6 or i > 13:
            q = 0xFFFF
        elif i == 12:
            q = 1
        else:
            q = 0
        v = x[i]
        if v != q:
            ge = int(v > q)
            break
        i -= 1
    v = 0
    for i in range(16):
        if ge:
            if i < 6 or i > 13:
                v -= 0xFFFF
            elif i == 12:
                v -= 1
        v += x[i]
        limb = v & 0xFFFF
        v >>= 16
        out[31 - 2 * i] = limb & 0xFF
        out[30 - 2 * i] = limb >> 8


@micropython.viper
def zero(buf, n: int):
    """buf[0:n] = 0, in place."""
    p = ptr8(buf)
    i = 0
    while i < n:
        p[i] = 0
        i += 1
