# P-256 field arithmetic in viper: native code, no allocation per operation.
"""    run(ws, prog, base)   # executes field operations on the slots of `ws`; 1 if BAILZ hit
    put(ws, slot, be32)   # a slot from 32 big-endian bytes (a value below 2^256)
    get(ws, slot, out32)  # 32 big-endian bytes of a slot, fully reduced (below p)
    is_zero(ws, slot)     # 1 when the slot is 0 mod p

Only imported where MicroPython has a native emitter (the ESP32's xtensawin, the 32-bit unix
port's x86): importing it anywhere else fails (ImportError on CPython, SyntaxError on the
WebAssembly port), and ota.ecdsa then keeps its pure-Python integers.

Why: a Python int allocates every result (50-130 bytes on a 32-bit port), some 750 KB per
ECDSA verification. Here a number mod p is a "slot": 16 limbs of 16 bits, little-endian, in one
preallocated array('H') (the workspace), kept below 2^256 but not always below p. A 16 x 16-bit
product fits a viper uint (32 bits), and a column of them is summed in two halves, so nothing
overflows. The product is reduced with the NIST special form of p (FIPS 186-4 D.2.3): 2^256 =
2^224 - 2^192 - 2^96 + 1 (mod p), additions and subtractions of limbs, no division.

A program is bytes of 4-byte instructions (op, d, a, b) ending with END; operands below 128 are
slot numbers, 128 + k means slot `base + k` (a point in a table, chosen per call). One call runs
a whole point doubling or addition: a call from Python costs about as much as a multiplication.
"""

import micropython
from micropython import const

END = const(0)
MUL = const(1)  # d = a * b
SQR = const(2)  # d = a ^ (2 ^ b): b squarings (b >= 1)
ADD = const(3)  # d = a + b
SUB = const(4)  # d = a - b
COPY = const(5)  # d = a
BAILZ = const(6)  # stop, returning 1, when a is 0 mod p (d, b unused)

LIMBS = const(16)
PRODUCT = const(2)  # slots 2 and 3 hold the 32 limbs of a product (slots 0, 1: 0 and 1)


@micropython.viper
def _is_zero(ws: ptr16, a: int) -> int:
    """1 when slot a is 0 or p (the two values below 2^256 that are 0 mod p)."""
    x = ptr16(int(ws) + a * 32)
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
def run(ws: ptr16, prog: ptr8, base: int) -> int:
    """Executes `prog` on the workspace `ws`; 0 at END, 1 when a BAILZ operand is 0 mod p.
    A destination may be a source: every result is written after its operands are read. The
    multiplication, squaring and reduction are written out here, not called: a call between
    viper functions costs a third of a multiplication."""
    w = int(ws)
    t = ptr16(w + PRODUCT * 32)
    pc = 0
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
        r = ptr16(w + d * 32)
        x = ptr16(w + a * 32)
        y = ptr16(w + b * 32)
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


@micropython.viper
def is_zero(ws: ptr16, a: int) -> int:
    return int(_is_zero(ws, a))


@micropython.viper
def put(ws: ptr16, a: int, src: ptr8):
    """Slot a = the 32 big-endian bytes at src (a value below 2^256)."""
    r = ptr16(int(ws) + a * 32)
    for i in range(16):
        r[i] = src[31 - 2 * i] | (src[30 - 2 * i] << 8)


@micropython.viper
def get(ws: ptr16, a: int, out: ptr8):
    """out[0:32] = slot a fully reduced (below p: p is subtracted once if needed), big-endian."""
    x = ptr16(int(ws) + a * 32)
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
