# The last few kilobytes of log lines, kept in RAM for GetDiagnostics and GetLog.
"""    logring.install(8192)        # every log line is printed and kept
    logring.lines()              # the kept lines, oldest first (str)
    n = logring.copy_into(buf)   # the same text, copied into buf (no copy in between)

A fixed bytearray used as a ring: the oldest lines are overwritten; nothing grows. Lines
are already free of secrets (lib/logger.py redacts before any sink sees them).
"""

import logger

_buf = bytearray(0)  # install() gives it its size
_pos = 0
_full = False


def install(size=8192):
    global _buf, _pos, _full
    _buf = bytearray(size)
    _pos = 0
    _full = False

    def sink(line):
        print(line)
        _keep(line.encode())
        _keep(b"\n")

    def frame_sink(prefix, data):
        logger.print_frame(prefix, data)
        _keep(prefix.encode())
        _keep(data)
        _keep(b"\n")
    logger.set_sink(sink, frame_sink)


def _keep(data):
    """Copy the bytes of `data` (any buffer) into the ring."""
    global _pos, _full
    if not _buf:
        return
    size = len(_buf)
    if len(data) > size:
        data = memoryview(data)[-size:]
    end = _pos + len(data)
    if end <= size:
        _buf[_pos:end] = data
    else:
        first = size - _pos
        _buf[_pos:] = data[:first]
        _buf[:end - size] = data[first:]
        _full = True
    _pos = end % size
    if end == size:
        _full = True


def text():
    """Everything kept, oldest first, from the first complete line."""
    if not _buf:
        return b""
    data = bytes(_buf[_pos:]) + bytes(_buf[:_pos]) if _full else bytes(_buf[:_pos])
    if _full:
        cut = data.find(b"\n")
        data = data[cut + 1:]
    return data


def copy_into(buf):
    """Copy what text() returns into `buf` (bytearray or memoryview) without any bytes object
    in between; returns the number of bytes. A buffer shorter than that gets the newest
    lines that fit (from the first line end in the newest len(buf) bytes)."""
    size = len(_buf)
    total = size if _full else _pos  # bytes kept; the oldest at _pos when full, else at 0
    if not total:
        return 0
    base = _pos if _full else 0
    start = total - len(buf) if total > len(buf) else 0  # logical offsets, oldest = 0
    if _full or start:  # the oldest line may be cut: start after the first line end
        nl = _find_newline(base, start, total)
        if nl >= 0:
            start = nl + 1
    n = total - start
    at = (base + start) % size
    first = size - at if size - at < n else n
    ring = memoryview(_buf)
    buf[:first] = ring[at:at + first]
    if first < n:
        buf[first:n] = ring[:n - first]
    return n


def _find_newline(base, start, total):
    # logical offset of the first b"\n" at or after `start`, or -1
    size = len(_buf)
    at = (base + start) % size
    end = at + total - start
    k = _buf.find(b"\n", at, end if end < size else size)
    if k >= 0:
        return start + k - at
    if end > size:
        k = _buf.find(b"\n", 0, end - size)
        if k >= 0:
            return start + size - at + k
    return -1


def lines(contains=None):
    """The kept lines as str, oldest first (bytes that are not UTF-8, from a frame, come
    escaped as in repr()); only those with `contains` when given."""
    out = [logger.text_of(ln) for ln in text().split(b"\n") if ln]
    if contains:
        out = [ln for ln in out if contains in ln]
    return out
