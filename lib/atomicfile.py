# Files that survive power loss: write to a temporary name, check, rename over the old one.
"""Power-loss-safe file writes and checked reads.

    atomicfile.write("/state/cfg.json", data)      # bytes or str
    data = atomicfile.read("/state/cfg.json")       # bytes, or None when absent or torn

    w = atomicfile.Writer("/state/big.bin")         # the same, written in pieces
    w.write(piece)                                  # ... for content not held in RAM at once
    w.commit()                                      # (or w.abandon(): the old file stays)
    atomicfile.check("/state/big.bin", buf)         # its length, or None; read in len(buf) pieces

Each file carries a trailer with its length and CRC-32, so a write cut short (by power loss
on a filesystem without atomic rename, or a damaged block) is detected on read and treated as
absent, never trusted. `os.rename` over an existing file is atomic on LittleFS and POSIX.
"""

import os
import struct

from crc import crc32 as _crc

_MAGIC = b"AF1"
_TRAILER = "<3sII"  # magic, length, crc32
_TRAILER_SIZE = 11


def write(path, data):
    """Replace `path` with `data` so that either the old or the new content survives."""
    if isinstance(data, str):
        data = data.encode()
    w = Writer(path)
    w.write(data)
    w.commit()


class Writer:
    """write() in pieces: each goes to the temporary file, its CRC carried along; commit()
    adds the trailer and renames, abandon() removes the temporary file (the old one stays)."""

    def __init__(self, path):
        self.path = path
        self._f = open(path + ".tmp", "wb")
        self._n = 0
        self._crc = 0

    def write(self, data):
        self._f.write(data)
        self._n += len(data)
        self._crc = _crc(data, self._crc)

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


def read(path):
    """The content last written to `path`, or None when it is absent or torn."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError:
        return None
    n = _TRAILER_SIZE
    if len(blob) < n:
        return None
    data = blob[:-n]
    if not _matches(blob[-n:], len(data), _crc(data)):
        return None
    return data


def check(path, buf):
    """The length of the content last written to `path`, or None when it is absent or torn:
    read's verdict, reading the file in pieces of len(buf) bytes into `buf`."""
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
            crc = _crc(view[:n], crc)
            left -= n
        return length if _matches(f.read(_TRAILER_SIZE), length, crc) else None


def _matches(trailer, length, crc):
    if len(trailer) != _TRAILER_SIZE:
        return False
    magic, n, c = struct.unpack(_TRAILER, trailer)
    return magic == _MAGIC and n == length and c == crc


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def makedirs(path):
    """Create `path` and its parents (MicroPython's os has no makedirs)."""
    cur = ""
    for part in path.split("/"):
        if not part:
            cur = "/" if not cur else cur
            continue
        cur = cur + part if cur.endswith("/") or not cur else cur + "/" + part
        if not exists(cur):
            os.mkdir(cur)
