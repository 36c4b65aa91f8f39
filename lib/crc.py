# CRC-32 (as zlib and binascii compute it), for everything the firmware keeps on flash.
"""    crc.crc32(data)            # bytes, bytearray or memoryview
    crc.crc32(more, previous)  # continued over several pieces

binascii.crc32 (C) where the build has it, a bitwise fallback elsewhere.
"""

try:
    from binascii import crc32 as _c
except ImportError:  # some MicroPython builds lack binascii.crc32
    _c = None


def crc32(data, crc=0):
    if _c is not None:
        return _c(data, crc) & 0xFFFFFFFF
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0xEDB88320 & -(c & 1))
    return c ^ 0xFFFFFFFF
