# A tiny leveled logger for device code: one line per event, secrets kept out.
"""Leveled logging to stdout (the REPL/serial console on the board, the terminal on the host).

    import logger
    log = logger.get("ws")
    log.info("connected to", host)

Every line is `<seconds.millis> <LEVEL> <name>: <message>`, the time since start; once the
clock is set (logger.set_clock) the UTC wall-clock time follows it, so a log lines up with the
central system's: `812.034 2026-12-02T08:22:15Z INFO cp: ...`. Values registered with
`logger.secret(value)` (the AuthorizationKey, private-key passphrases) are replaced by `***`
wherever they would appear, so a careless message cannot leak them.

    log.frame("->", buf, n)         # an OCPP frame: written from the buffer, never copied

A frame is the largest thing the firmware logs (up to the frame buffer, 4 KiB): turning it
into a str and formatting it would make several copies of it at every message, so frames go
to the sink as a prefix and the buffer itself. Frames are the caller's to keep free of
secrets (ocppj.session leaves out any frame that could hold the AuthorizationKey).
"""

import sys

from civil import utc_text
from ticks import ticks_diff, ticks_ms

DEBUG = 10
INFO = 20
WARN = 30
ERROR = 40

_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARN: "WARN", ERROR: "ERROR"}
_LEVELS = {"debug": DEBUG, "info": INFO, "warn": WARN, "error": ERROR}

_level = INFO
_secrets = []
_sink = print  # replaceable, e.g. by a ring buffer for GetLog
_clock = None  # fn() -> seconds since 2000-01-01 UTC, or None while the clock is not set
_clock_s = None  # the second last written, and its text: one conversion per second at most
_clock_text = ""


def print_frame(prefix, data, out=None):
    """Print `prefix` and the bytes of `data` as one line, without copying `data`, to `out`
    (default sys.stdout). Never raises for bytes that are not UTF-8: a byte stream gets them
    as they are; a text stream (no `buffer`) gets the text, or, when it is not UTF-8, the
    bytes escaped as in repr() (MicroPython's decode ignores "replace" and raises)."""
    out = out or sys.stdout
    out.write(prefix)
    raw = getattr(out, "buffer", None)
    if raw is None:  # a text stream (e.g. captured by a test)
        out.write(text_of(data))
    else:
        flush = getattr(out, "flush", None)
        if flush:
            flush()  # CPython: what is buffered as text goes out first
        raw.write(data)
    out.write("\n")


_frame_sink = print_frame


def text_of(data):
    """The bytes of `data` as a str: decoded if they are UTF-8, else escaped as in repr()
    (b'\\xff' -> '\\xff'). Never raises UnicodeError."""
    try:
        return str(data, "utf-8")
    except UnicodeError:
        return repr(bytes(data))[2:-1]


def set_level(name):
    global _level
    _level = _LEVELS[name]


def set_sink(fn, frame_fn=None):
    """Send log lines to fn(line) instead of print, and frames to frame_fn(prefix, data)
    (None restores printing)."""
    global _sink, _frame_sink
    _sink = fn or print
    _frame_sink = frame_fn or print_frame


def set_clock(fn):
    """Add the UTC time fn() gives (seconds since 2000-01-01, None while unknown) to every
    line; None: the time since start only."""
    global _clock, _clock_s
    _clock = fn
    _clock_s = None


def secret(value):
    """Never print `value` (a non-empty string) in any log line from now on."""
    if value and value not in _secrets:
        _secrets.append(value)


def _redact(text):
    for s in _secrets:
        if s in text:
            text = text.replace(s, "***")
    return text


def _now():
    global _clock_s, _clock_text
    ms = ticks_diff(ticks_ms(), 0)  # milliseconds since start, as a plain int
    up = "%d.%03d" % (ms // 1000 % 100000, ms % 1000)
    s = _clock() if _clock is not None else None
    if s is None:
        return up
    if s != _clock_s:
        _clock_s = s
        _clock_text = utc_text(s)
    return up + " " + _clock_text


class Logger:
    def __init__(self, name):
        self.name = name

    def log(self, level, args):
        if level < _level:
            return
        text = " ".join([a if isinstance(a, str) else repr(a) for a in args])
        _sink("%s %s %s: %s" % (_now(), _NAMES[level], self.name, _redact(text)))

    def frame(self, arrow, data):
        """One frame at INFO: `arrow` then the bytes of `data` (a buffer), as one line."""
        if INFO >= _level:
            _frame_sink("%s INFO %s: %s " % (_now(), self.name, arrow), data)

    def debug(self, *args):
        self.log(DEBUG, args)

    def info(self, *args):
        self.log(INFO, args)

    def warn(self, *args):
        self.log(WARN, args)

    def error(self, *args):
        self.log(ERROR, args)


_loggers = {}


def get(name):
    """The logger called `name` (one object per name)."""
    lg = _loggers.get(name)
    if lg is None:
        lg = _loggers[name] = Logger(name)
    return lg
