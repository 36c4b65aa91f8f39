# Files that survive power loss: write to a temporary name, check, rename over the old one.
"""Power-loss-safe file writes and checked reads.

    atomicfile.write("/state/cfg.json", data)      # bytes or str
    data = atomicfile.read("/state/cfg.json")       # bytes, or None when absent or torn

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
    """Replace `path` with `data` so that either the old or the new content survives."""
    if isinstance(data, str):
        data = data.encode()
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.write(struct.pack(_TRAILER, _MAGIC, len(data), _crc(data)))
        if hasattr(f, "flush"):
            f.flush()
        if hasattr(os, "fsync"):
            os.fsync(f.fileno())  # CPython: make the bytes durable before the rename
    os.rename(tmp, path)


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
    magic, length, crc = struct.unpack(_TRAILER, blob[-n:])
    data = blob[:-n]
    if magic != _MAGIC or length != len(data) or crc != _crc(data):
        return None
    return data


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
