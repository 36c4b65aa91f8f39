# OTA write benchmark, run under CPython, the MicroPython unix port and the WebAssembly port.
"""Prints one line per figure: `BENCH <name> <bytes> <microseconds>`, where bytes is the peak
heap growth over one whole job and microseconds its time.

An image of 100 KiB and one of 1.5 MiB (the size of an ESP32_GENERIC OTA slot) are generated
here into a file and streamed into a file-backed partition the way ota.http downloads: each
read goes straight into the writer's block (`f.readinto(w.space())`, `w.commit(n)`, the
pull interface ota.http uses on the network):
- `ota.download.<size>`: the whole firmware download as the firmware does it: the writer
  filling the shared block (lib/sharedblock.py, allocated at start-up like the firmware's, so
  not counted: 4096 bytes and its object, once for the firmware's life), hashed and checked on
  the way, finish(), then the image check of the slot (ota.image.check_partition) through
  the same block. Reads of 4096 bytes. The peak growth must be the same for both sizes: the
  image is never held in RAM; it must stay below one block: no buffer of a block's size is
  allocated (before the shared block: the HTTP client's, the writer's and the check's).
- `ota.write.<size>`: the writer alone with a block of its own (PartitionWriter(slot)).
- `.reads1460` variants: reads of a TCP segment's size, so most reads fill part of a block;
  each costs a couple of small memoryviews (garbage the GC reclaims, not growth). Shown for
  comparison, no target.

Heap: gc.mem_alloc() with the GC disabled (MicroPython: nothing is freed, so the end value is
the peak); tracemalloc's peak (CPython, which frees at once). On the WebAssembly port the
files live in its in-memory filesystem.
"""

import gc
import hashlib
import os
import sys
import time

from benchclock import MICROPYTHON, elapsed_us, now_us
from ota.image import check_partition
from ota.writer import PartitionWriter
from sharedblock import SharedBlock

BLOCK = 4096
SLOT_BLOCKS = 384  # 1.5 MiB
FOLDER = "/tmp" if MICROPYTHON or os.sep == "/" else "."




class FileSlot:
    """An OTA slot in a file, kept open, with the esp32.Partition calls the writer makes."""

    def __init__(self, path, blocks):
        self.f = open(path, "w+b")
        self.blocks = blocks

    def ioctl(self, op, arg):
        return self.blocks if op == 4 else BLOCK if op == 5 else 0

    def readblocks(self, n, buf):
        self.f.seek(n * BLOCK)
        self.f.readinto(buf)

    def writeblocks(self, n, buf):
        self.f.seek(n * BLOCK)
        self.f.write(buf)

    def close(self):
        self.f.close()


def _le32(v):
    return bytes([v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF])


def make_image_file(path, size, version):
    """A valid one-segment ESP32 app image of `size` bytes (a multiple of 16) written to path
    piece by piece; returns its SHA-256."""
    desc = bytearray(256)
    desc[0:4] = _le32(0xABCD5432)
    desc[16:16 + len(version)] = version.encode()
    desc[48:57] = b"ota-bench"
    data_len = ((size - 33 - 32) & ~3) - 256  # filler after the app description
    pattern = bytes([(i * 31 + 7) & 0xFF for i in range(256)]) * 16  # 4096 bytes
    px = 0
    for b in pattern:
        px ^= b
    hdr = bytearray(24)
    hdr[0] = 0xE9
    hdr[1] = 1
    hdr[4:8] = _le32(0x40080400)
    hdr[23] = 1
    sha = hashlib.sha256()
    x = 0xEF
    for b in desc:
        x ^= b
    with open(path, "wb") as f:
        def put(data):
            sha.update(data)
            f.write(data)

        put(hdr)
        put(_le32(0x3F400020) + _le32(256 + data_len))
        put(desc)
        left = data_len
        while left >= BLOCK:
            put(pattern)
            x ^= px
            left -= BLOCK
        tail = pattern[:left]
        for b in tail:
            x ^= b
        put(tail)
        pos = 24 + 8 + 256 + data_len
        put(bytes(((pos + 16) & ~15) - 1 - pos) + bytes([x]))
        digest = sha.digest()
        f.write(digest)
    whole = hashlib.sha256()
    with open(path, "rb") as f:
        buf = bytearray(BLOCK)
        while True:
            n = f.readinto(buf)
            if not n:
                break
            whole.update(memoryview(buf)[:n])
    return whole.digest()


def stream(src_path, slot_path, read_size, shared, trace=True):
    """Pull the file into a fresh slot: (peak heap growth, microseconds, result). shared:
    through a SharedBlock, then check the slot through it; else the writer's own block."""
    slot = FileSlot(slot_path, SLOT_BLOCKS)
    src = open(src_path, "rb")
    block = SharedBlock() if shared else None  # the firmware's, made at start-up
    gc.collect()
    base = 0
    if not trace:
        pass
    elif MICROPYTHON:
        gc.disable()
        base = gc.mem_alloc()  # type: ignore
    else:
        import tracemalloc
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
    start = now_us()
    buf = block.borrow("ota bench") if block is not None else None
    w = PartitionWriter(slot, buf=buf)
    while True:
        space = w.space()
        n = src.readinto(space if len(space) <= read_size else space[:read_size])
        if not n:
            break
        w.commit(n)
    result = w.finish()
    if block is not None:
        info = check_partition(slot, buf)
        block.give()
        if info.version != result[2].version:
            raise AssertionError("ota bench: the slot's image is not the image written")
    us = elapsed_us(start)
    grown = 0
    if not trace:
        pass
    elif MICROPYTHON:
        grown = gc.mem_alloc() - base  # type: ignore
        gc.enable()
    else:
        grown = tracemalloc.get_traced_memory()[1] - base  # type: ignore
        tracemalloc.stop()  # type: ignore
    src.close()
    slot.close()
    return grown, us, result


def main():
    src = FOLDER + "/ota-bench-image.bin"
    slot = FOLDER + "/ota-bench-slot.bin"
    try:
        for name, size in (("100KiB", 100 * 1024), ("1536KiB", SLOT_BLOCKS * BLOCK)):
            digest = make_image_file(src, size, "9.8.7")
            stream(src, slot, BLOCK, True, False)  # warm-up: caches, the first file blocks
            for kind, shared in (("download", True), ("write", False)):
                for suffix, reads in (("", BLOCK), (".reads1460", 1460)):
                    grown, us, (written, got, info) = stream(src, slot, reads, shared)
                    if written != size or got != digest or info.version != "9.8.7":
                        raise AssertionError("ota bench: the image written is not the image "
                                             "read")
                    if not MICROPYTHON:  # timed again without tracemalloc (slow on CPython)
                        us = stream(src, slot, reads, shared, False)[1]
                    print("BENCH ota.%s.%s%s %d %d" % (kind, name, suffix, grown, us))
    finally:
        for path in (src, slot):
            try:
                os.remove(path)
            except OSError:
                pass


main()
