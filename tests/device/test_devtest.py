# test_devtest.py — device tests of devtest and of the runner's mechanics (pytest and MicroPython).
"""Each test here also checks something runner.py relies on: sync and async tests, tasks and
events, time-outs, skips via needs(), raises(), and a scratch directory on the board's VFS."""

import asyncio
import os

from devtest import Skipped, needs, raises, rmtree, tempdir


def test_sync_assert():
    assert sum([1, 2, 3]) == 6


async def test_async_task_and_event():
    ready = asyncio.Event()
    seen = []

    async def producer():
        await asyncio.sleep(0.01)  # awaiting is fine; sleep() is no coroutine on MicroPython
        seen.append("produced")
        ready.set()

    task = asyncio.create_task(producer())
    await asyncio.wait_for(ready.wait(), 2)
    await task
    assert seen == ["produced"]


async def test_wait_for_times_out():
    never = asyncio.Event()
    try:
        await asyncio.wait_for(never.wait(), 0.05)
    except asyncio.TimeoutError:
        return
    raise AssertionError("wait_for did not time out")


@needs("socket")
def test_needs_socket_runs_where_socket_exists():
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.close()


def test_needs_returns_function_or_skipped():
    def probe():
        pass

    assert needs("os", "sys")(probe) is probe
    skipped = needs("os", "no_such_module_devtest")(probe)
    assert isinstance(skipped, Skipped)
    assert skipped.skip_reason == "needs no_such_module_devtest", skipped.skip_reason


def test_raises():
    err = raises(ValueError, int, "not a number")
    assert isinstance(err, ValueError)
    assert isinstance(raises((KeyError, IndexError), [].pop), IndexError)
    # Nothing raised, or the wrong exception: raises() itself fails the test.
    assert "nothing was raised" in str(raises(AssertionError, raises, ValueError, int, "1"))
    assert "expected ValueError" in str(raises(AssertionError, raises, ValueError, {}.__getitem__, "k"))


def test_tempdir_write_read_rename():
    path = tempdir()
    other = tempdir()
    try:
        assert path != other
        assert os.listdir(path) == []
        with open(path + "/a.txt", "w") as f:
            f.write("hello")
        os.rename(path + "/a.txt", path + "/b.txt")
        assert os.listdir(path) == ["b.txt"]
        with open(path + "/b.txt") as f:
            assert f.read() == "hello"
        os.mkdir(path + "/sub")
        with open(path + "/sub/c.bin", "wb") as f:
            f.write(b"\x00\x01")
    finally:
        rmtree(path)
        rmtree(other)
    assert raises(OSError, os.listdir, path)
