# The last few kilobytes of log lines, kept in RAM for GetDiagnostics and GetLog.
"""    logring.install(8192)        # every log line is printed and kept
    logring.lines()              # the kept lines, oldest first (str)

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


def lines(contains=None):
    out = [ln.decode() for ln in text().split(b"\n") if ln]
    if contains:
        out = [ln for ln in out if contains in ln]
    return out
