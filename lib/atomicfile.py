# Files that survive power loss: write to a temporary name, check, rename over the old one.
"""Power-loss-safe file writes and checked reads.

    atomicfile.write("/state/cfg.json", data)      # bytes or str, or a tuple of them
    data = atomicfile.read("/state/cfg.json")       # bytes, or None when absent or torn
    n = atomicfile.read_into("/state/cfg.json", buf)  # into a bytearray: n bytes, or None

Each file carries a trailer with its length and CRC-32, so a write cut short (by power loss
on a filesystem without atomic rename, or a damaged block) is detected on read and treated as
absent, never trusted. `os.rename` over an existing file is atomic on LittleFS and POSIX.
lib/atomicpieces.py writes and checks files of this format in pieces (content not held in RAM
at once), kept apart so that what every start imports stays small.
"""

import os
import struct

from crc import crc32 as _crc

# The trailer's format, atomicpieces' too
_MAGIC = b"AF1"
_TRAILER = "<3sII"  # magic, length, crc32
_TRAILER_SIZE = 11


def write(path, data):
    """Replace `path` with `data` so that either the old or the new content survives. `data`
    may be a tuple of pieces, written one after the other: nothing joined in RAM."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        length = crc = 0
        for piece in data if isinstance(data, tuple) else (data,):
            if isinstance(piece, str):
                try:
                    crc = _crc(piece, crc)  # MicroPython reads a str's bytes as they are
                except TypeError:  # CPython (or a build without binascii.crc32)
                    piece = piece.encode()
                    crc = _crc(piece, crc)
            else:
                crc = _crc(piece, crc)
            length += f.write(piece)
        f.write(struct.pack(_TRAILER, _MAGIC, length, crc))
        if hasattr(f, "flush"):
            f.flush()
        if hasattr(os, "fsync"):
            os.fsync(f.fileno())  # CPython: make the bytes durable before the rename
    os.rename(tmp, path)


def read(path):
    """The content last written to `path`, or None when it is absent or torn. The content
    and the trailer are read apart: one allocation of the content's size, not two."""
    try:
        size = os.stat(path)[6] - _TRAILER_SIZE
        if size < 0:
            return None
        with open(path, "rb") as f:
            data = f.read(size)
            trailer = f.read(_TRAILER_SIZE)
    except OSError:
        return None
    return data if _intact(data, trailer) else None


def read_into(path, buf):
    """read() into the bytearray `buf`, allocating nothing of the content's size: its length
    there, or None when the file is absent, torn, or does not fit with its trailer."""
    try:
        size = os.stat(path)[6] - _TRAILER_SIZE
        if not 0 <= size <= len(buf) - _TRAILER_SIZE:
            return None
        whole = memoryview(buf)[:size + _TRAILER_SIZE]
        with open(path, "rb") as f:
            got = f.readinto(whole)
    except OSError:
        return None
    if got != len(whole) or not _intact(whole[:size], whole[size:]):
        return None
    return size


def _intact(data, trailer):
    if len(trailer) != _TRAILER_SIZE:
        return False
    magic, length, crc = struct.unpack(_TRAILER, trailer)
    return magic == _MAGIC and length == len(data) and crc == _crc(data)


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
