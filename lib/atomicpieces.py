# lib/atomicfile.py's power-loss-safe files, written and checked in pieces.
"""For a file too big to hold in RAM at once (the local authorization list: 65 slots of 64
bytes), the same format and guarantees as atomicfile.write() and read():

    w = atomicpieces.Writer("/state/big.bin")
    w.write(piece)                   # bytes, bytearray or memoryview; to the temporary file
    w.commit()                       # the trailer, then the rename: the old content or the new
    w.abandon()                      # or: the temporary file goes, the old content stays
    atomicpieces.check("/state/big.bin", buf)   # its length, or None (absent or torn)

check() reads the file in pieces of len(buf) bytes into `buf`. Kept apart from atomicfile so
that what every start imports stays small; the trailer's format is atomicfile's.
"""

import os
import struct

from atomicfile import _MAGIC, _TRAILER, _TRAILER_SIZE
from crc import crc32


class Writer:
    def __init__(self, path):
        self.path = path
        self._f = open(path + ".tmp", "wb")
        self._n = 0
        self._crc = 0

    def write(self, data):
        self._f.write(data)
        self._n += len(data)
        self._crc = crc32(data, self._crc)

    def commit(self):
        f = self._f
        f.write(struct.pack(_TRAILER, _MAGIC, self._n, self._crc))
        if hasattr(f, "flush"):
            f.flush()
        if hasattr(os, "fsync"):
            os.fsync(f.fileno())  # CPython: make the bytes durable before the rename
        f.close()
        os.rename(self.path + ".tmp", self.path)

    def abandon(self):
        self._f.close()
        try:
            os.remove(self.path + ".tmp")
        except OSError:
            pass


def check(path, buf):
    """The length of the content last written to `path`, or None when it is absent or torn."""
    try:
        f = open(path, "rb")
    except OSError:
        return None
    with f:
        length = f.seek(0, 2) - _TRAILER_SIZE
        if length < 0:
            return None
        f.seek(0)
        crc = 0
        left = length
        view = memoryview(buf)
        while left:
            n = f.readinto(view[:min(left, len(buf))])
            if not n:
                return None
            crc = crc32(view[:n], crc)
            left -= n
        trailer = f.read(_TRAILER_SIZE)
        if len(trailer) != _TRAILER_SIZE:
            return None
        magic, n, c = struct.unpack(_TRAILER, trailer)
        return length if magic == _MAGIC and n == length and c == crc else None
