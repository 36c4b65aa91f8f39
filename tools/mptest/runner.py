# runner.py — device-test runner that runs inside MicroPython; started by tools/mptest/run.mjs.
"""Runs the device tests in /tests/test_*.py (see tests/device/devtest.py for the conventions).

Per module: import it (an import error counts as one failed test), then run each module-level
`test_*` in source order: plain functions are called, coroutine functions are awaited under a
time-out, and a devtest.Skipped stand-in (anything with `skip_reason`) counts as skipped.

Like pytest-asyncio's per-test event loop, tasks a test started with asyncio.create_task() are
cancelled when it ends, so they cannot leak into the next test (tracked by replacing
asyncio.create_task; `from asyncio import create_task` escapes it). A task that dies with an
exception nobody retrieved fails the test during which it died: on a board that task would be
a silently dead piece of firmware.

main() returns the process exit status: 0 only if at least one test passed and none failed.
"""

import asyncio
import gc
import os
import sys
import time

try:
    import mptest_host  # JS module from run.mjs: tells the host which test is running, for hangs
except ImportError:
    mptest_host = None


class _Run:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.spawned = []  # tasks created by the current test
        self.task_errors = []  # exceptions of the current test's tasks that nobody retrieved


_run = _Run()
_real_create_task = asyncio.create_task


def _tracking_create_task(coro):
    task = _real_create_task(coro)
    _run.spawned.append(task)
    return task


def _on_task_error(loop, context):
    # Called by the MicroPython event loop for a task that ended with an exception nobody awaited.
    _run.task_errors.append(context.get("exception") or context.get("message"))


def _source_order(path):
    # MicroPython module dicts are unordered; reading the source runs tests top to bottom like pytest.
    names = []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("async def "):
                    line = line[6:]
                if line.startswith("def test_"):
                    name = line[4:].split("(")[0].strip()
                elif line.startswith("test_") and "=" in line:
                    name = line.split("=")[0].strip()
                else:
                    continue
                if name not in names:
                    names.append(name)
    except OSError:
        pass
    return names


def _collect(module, path):
    found = {}
    for name in dir(module):
        if name.startswith("test_"):
            obj = getattr(module, name)
            if callable(obj) or hasattr(obj, "skip_reason"):
                found[name] = obj
    order = [name for name in _source_order(path) if name in found]
    order += sorted(name for name in found if name not in order)
    return [(name, found[name]) for name in order]


def _fail(test_id, exc, what=""):
    _run.failed += 1
    print("FAIL %s%s" % (test_id, what))
    if isinstance(exc, BaseException):
        sys.print_exception(exc)
    elif exc is not None:
        print(exc)


async def _settle():
    # Cancel what the test left running and let the cancellations (and late failures) happen.
    me = asyncio.current_task()
    for task in _run.spawned:
        if task is not me and not task.done():
            task.cancel()
    await asyncio.sleep_ms(0)
    await asyncio.sleep_ms(0)
    _run.spawned = []


async def _run_test(test_id, fn, timeout_ms):
    if mptest_host is not None:
        mptest_host.current(test_id)
    if hasattr(fn, "skip_reason"):
        _run.skipped += 1
        print("SKIP %s: %s" % (test_id, fn.skip_reason))
        return
    _run.task_errors = []
    start = time.ticks_ms()
    error = None
    what = ""
    try:
        result = fn()
        # A coroutine is a generator object on MicroPython: anything with send() gets awaited.
        if hasattr(result, "send"):
            await asyncio.wait_for_ms(result, timeout_ms)
    except BaseException as e:  # a test failing in any way (even SystemExit) is a failed test
        error = e
        # Tell our time-out apart from a TimeoutError the test itself let escape.
        if isinstance(e, asyncio.TimeoutError) and time.ticks_diff(time.ticks_ms(), start) >= timeout_ms:
            what = " (timed out after %d ms)" % timeout_ms
    await _settle()
    if error is None and _run.task_errors:
        error, what = _run.task_errors[0], " (exception in a task it started)"
    if error is not None:
        _fail(test_id, error, what)
    else:
        _run.passed += 1
        print("PASS %s (%d ms)" % (test_id, time.ticks_diff(time.ticks_ms(), start)))


def _wanted(argv_modules, tests_dir):
    """[(module_name, test_name or None)] from arguments like test_x, test_x.py, dir/test_x.py::test_y."""
    if not argv_modules:
        files = [f for f in os.listdir(tests_dir) if f.startswith("test_") and f.endswith(".py")]
        return [(f[:-3], None) for f in sorted(files)]
    wanted = []
    for arg in argv_modules:
        parts = arg.split("::")
        name = parts[0].split("/")[-1]
        if name.endswith(".py"):
            name = name[:-3]
        wanted.append((name, parts[1] if len(parts) > 1 else None))
    return wanted


async def main(tests_dir="/tests", modules=(), keyword="", timeout_ms=30000,
               label="micropython-wasm"):
    asyncio.create_task = _tracking_create_task
    asyncio.get_event_loop().set_exception_handler(_on_task_error)
    start = time.ticks_ms()
    for module_name, only in _wanted(modules, tests_dir):
        path = tests_dir + "/" + module_name + ".py"
        file_id = module_name + ".py"
        gc.collect()
        try:
            module = __import__(module_name)
        except BaseException as e:  # syntax errors, missing imports, failing module-level code
            sys.modules.pop(module_name, None)
            _fail(file_id, e, " (import failed)")
            continue
        tests = _collect(module, path)
        if only and only not in [name for name, fn in tests]:
            _fail(file_id + "::" + only, "no such test in " + path)
        for name, fn in tests:
            test_id = file_id + "::" + name
            if (only and name != only) or keyword not in test_id:
                continue
            gc.collect()
            await _run_test(test_id, fn, timeout_ms)
        sys.modules.pop(module_name, None)  # free the module's memory before the next one
    asyncio.create_task = _real_create_task
    elapsed = time.ticks_diff(time.ticks_ms(), start) / 1000
    if _run.passed + _run.failed + _run.skipped == 0:
        print("no tests ran")
    version = sys.version.split("; ")[-1]  # "3.4.0; MicroPython v1.29.0 on 2026-..." -> from MicroPython on
    print("%s, %s (%s): ran in %.2f s" % (version, sys.platform, getattr(sys.implementation, "_build", "?"), elapsed))
    print("%s: %d passed, %d failed, %d skipped" % (label, _run.passed, _run.failed, _run.skipped))
    return 0 if _run.passed and not _run.failed else 1
