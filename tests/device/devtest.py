# devtest.py — the small helper library device tests import; same code on CPython and MicroPython.
"""Conventions for device tests (tests/device/test_*.py).

Device tests run twice: under pytest on CPython (pytest-asyncio, auto mode) and under real
MicroPython by tools/mptest/runner.py (`node tools/mptest/run.mjs`). So a device test is:

- a plain module-level `def test_*():` or `async def test_*():` with bare `assert`s;
- no pytest import, no fixtures, no parametrize, no test classes: use the helpers below;
- MicroPython-compatible code (no typing, no f-string `=`, no str.removeprefix, no asyncio.run;
  use asyncio.wait_for rather than wait_for_ms, which CPython lacks);
- order-independent: MicroPython runs them in source order, but each one must stand alone.

Where the WebAssembly MicroPython differs from CPython (and sometimes from the ESP32):
- a bare `assert a == b` fails with an empty AssertionError: give asserts a message;
- OSError.errno from file operations uses emscripten numbers (ENOENT is 44, errno.ENOENT is 2):
  do not compare errno values in tests;
- no socket, ssl, machine, network, _thread, os.urandom, asyncio streams or ThreadSafeFlag;
- asyncio.sleep()/sleep_ms() are not coroutines: await them, never gather/wait_for/create_task them;
- small ints are 31-bit as on the ESP32: larger ints (e.g. Unix time in s) allocate per operation;
- floats are double precision (the ESP32 has single), time.gmtime(0) is 1970 (the ESP32: 2000);
- the GC heap grows on demand, so a MemoryError of the ESP32 is not reproduced.

Helpers: `needs(*modules)` skips a test where a module is missing, `raises(...)` checks an
exception, `tempdir()` / `rmtree(path)` give a scratch directory, `with Captured() as cap:`
collects the log lines meanwhile (`cap.lines`, `cap.count(text)`).
"""

import os
import sys
import time


class Skipped:
    """Stands in for a test that cannot run here; runner.py counts anything with `skip_reason`
    as skipped. (MicroPython functions take no attributes, hence an object, not a marked function.)"""

    def __init__(self, reason):
        self.skip_reason = reason

    def __repr__(self):
        return "Skipped(%r)" % self.skip_reason


def needs(*modules):
    """Decorator: the test unchanged if every module imports, else Skipped("needs a, b")."""
    missing = []
    for name in modules:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)

    def decorate(fn):
        if missing:
            return Skipped("needs " + ", ".join(missing))
        return fn

    return decorate


def heap_measurable():
    """True where gc.mem_alloc() shows garbage going away after gc.collect() (MicroPython's
    unix port and the ESP32; not CPython, and not the WebAssembly port, whose collector keeps
    what the JavaScript side may still see)."""
    import gc
    if not hasattr(gc, "mem_alloc"):
        return False
    gc.collect()
    before = gc.mem_alloc()
    junk = bytearray(20000)
    del junk
    gc.collect()
    return gc.mem_alloc() - before < 10000


def measures_heap(fn):
    """Decorator: the test where heap_measurable(), else Skipped."""
    if heap_measurable():
        return fn
    return Skipped("gc.mem_alloc() does not show what a collection frees here")


def _name(exc_type):
    if isinstance(exc_type, tuple):
        return " or ".join(_name(t) for t in exc_type)
    return getattr(exc_type, "__name__", repr(exc_type))


def raises(exc_type, fn, *args, **kwargs):
    """Call fn(*args, **kwargs) and return the exc_type (class or tuple) it raised.
    AssertionError if it returned normally or raised something else."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    except Exception as e:
        raise AssertionError("expected %s, got %r" % (_name(exc_type), e))
    raise AssertionError("expected %s, nothing was raised" % _name(exc_type))


_made = [0]  # tempdir() counter, in a list so it can change without `global`


def tempdir():
    """A fresh, empty directory; the caller removes it with rmtree()."""
    if sys.implementation.name != "micropython":
        import tempfile

        return tempfile.mkdtemp(prefix="devtest-")
    try:
        os.mkdir("/tmp")
    except OSError:
        pass  # already there (errno values differ between ports, so none is checked)
    # The unix port shares the host's /tmp with other runs: a clock part and skipping taken names.
    stamp = time.ticks_ms()
    for _ in range(1000):
        _made[0] += 1
        path = "/tmp/devtest-%d-%d" % (stamp, _made[0])
        try:
            os.mkdir(path)
            return path
        except OSError:
            pass
    raise OSError("tempdir: cannot create a directory under /tmp")


def rmtree(path):
    """Remove a directory and everything in it."""
    for name in os.listdir(path):
        full = path + "/" + name
        if os.stat(full)[0] & 0x4000:  # S_IFDIR; MicroPython has no stat.S_ISDIR
            rmtree(full)
        else:
            os.remove(full)
    os.rmdir(path)


class Captured:
    """Log lines while it is active (a with-block)."""

    def __init__(self):
        self.lines = []

    def __enter__(self):
        import logger  # lib/: device tests put it on the path before they import this
        logger.set_sink(self.lines.append)
        return self

    def __exit__(self, *exc):
        import logger
        logger.set_sink(None)

    def count(self, text):
        return len([line for line in self.lines if text in line])
