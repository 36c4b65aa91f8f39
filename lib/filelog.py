# A bounded log of text lines on flash that survives power loss (the security log).
"""    slog = FileLog(state_dir + "/securitylog", max_bytes=2048)
    slog.append("2026-12-02T08:22:15Z StartupOfTheDevice boot reason PowerUp")
    n = slog.copy_into(buf)        # the older lines, then the newer, whole, into buf

Lines are appended to <path> (flushed, and fsync'd where os.fsync exists). When a line would
take it past max_bytes it is renamed to <path>.1 (the previous .1 goes; the rename is atomic
on LittleFS and POSIX) and a new file begins: at most 2 x max_bytes on flash, the newest
lines kept. A line cut short by power loss (the file does not end in a newline) is cut off
when the log is opened, by a copy and a rename: a torn append is never read as a line. A
newline inside a line becomes a space.
"""

import os

_CHUNK = 128


class FileLog:
    def __init__(self, path, max_bytes=2048):
        self.path = path
        self.max_bytes = max_bytes
        self.size = self._recover()

    def _recover(self):
        """The size of the whole lines of the file; a torn last line is removed."""
        try:
            size = os.stat(self.path)[6]
        except OSError:
            return 0
        buf = bytearray(_CHUNK)
        keep = 0  # bytes up to and including the last newline
        with open(self.path, "rb") as f:
            pos = 0
            while pos < size:
                n = f.readinto(buf)
                if not n:
                    break
                i = bytes(buf[:n]).rfind(b"\n")
                if i >= 0:
                    keep = pos + i + 1
                pos += n
        if keep == size:
            return size
        tmp = self.path + ".tmp"
        with open(self.path, "rb") as src, open(tmp, "wb") as dst:
            left = keep
            while left:
                n = src.readinto(buf)
                n = min(n, left)
                dst.write(buf[:n])
                left -= n
            _durable(dst)
        os.rename(tmp, self.path)
        return keep

    def append(self, line):
        data = (line.replace("\n", " ") + "\n").encode()
        if self.size and self.size + len(data) > self.max_bytes:
            os.rename(self.path, self.path + ".1")
            self.size = 0
        with open(self.path, "ab") as f:
            f.write(data)
            _durable(f)
        self.size += len(data)

    def copy_into(self, buf):
        """The log's lines, oldest first, into buf (the newest that fit); the byte count (at
        least 1: an empty log is one newline)."""
        n = 0
        mv = memoryview(buf)
        for path in (self.path + ".1", self.path):
            try:
                size = os.stat(path)[6]
            except OSError:
                continue
            if n + size > len(buf):
                n = 0  # keep the newer file
                if size > len(buf):
                    continue
            with open(path, "rb") as f:
                while True:
                    got = f.readinto(mv[n:n + size])
                    if not got:
                        break
                    n += got
                    size -= got
        if not n:
            buf[0] = 10
            n = 1
        return n


def _durable(f):
    f.flush()
    if hasattr(os, "fsync"):
        os.fsync(f.fileno())
