# Device tests of the simulated board's machine.Timer: the callback runs on the main thread
# between bytecodes of code that never yields, never beside it and never nested, as on the ESP32.
import time

from devtest import needs
from ticks import ticks_diff, ticks_ms

# A real timer needs a thread for its "hardware": the WebAssembly port has none (the firmware
# never runs there); CPython and the MicroPython unix port run these.
REASON = "_thread"


def _busy(ms, work=None):
    """Hold the CPU in plain Python for `ms` without yielding to anything."""
    start = ticks_ms()
    n = 0
    while ticks_diff(ticks_ms(), start) < ms:
        n += 1
        if work is not None:
            work[0] = n
    return n


@needs(REASON)
def test_callback_runs_on_the_main_thread_while_it_never_yields():
    import _thread

    from firmware.sim.timer import Timer

    main = _thread.get_ident()
    seen = []

    def cb(t):
        seen.append((ticks_ms(), _thread.get_ident()))

    timer = Timer(10, cb)
    try:
        start = ticks_ms()
        _busy(500)
    finally:
        timer.deinit()
    assert len(seen) >= 25, "a 10 ms timer fired %d times in 500 ms of busy code" % len(seen)
    assert all(ident == main for _, ident in seen), "the callback ran off the main thread"
    gaps = [ticks_diff(b[0], a[0]) for a, b in zip(seen, seen[1:])]
    first = ticks_diff(seen[0][0], start)
    assert first < 100 and max(gaps) < 100, "late: first %d ms, gaps %r" % (first, gaps)


@needs(REASON)
def test_the_main_program_is_suspended_while_the_callback_runs():
    # Between bytecodes, not beside them: a thread running the callback itself would let the
    # busy loop go on counting meanwhile.
    from firmware.sim.timer import Timer

    counter = [0]
    moved = []

    def cb(t):
        before = counter[0]
        _busy(15)
        moved.append(counter[0] - before)

    timer = Timer(20, cb)
    try:
        _busy(400, counter)
    finally:
        timer.deinit()
    assert len(moved) >= 5, "the timer fired %d times" % len(moved)
    assert moved == [0] * len(moved), "the main code ran during the callback: %r" % moved


@needs(REASON)
def test_callbacks_never_nest_and_deinit_stops_them():
    from firmware.sim.timer import Timer

    depth = [0]
    deepest = [0]
    calls = [0]

    def cb(t):
        depth[0] += 1
        deepest[0] = max(deepest[0], depth[0])
        calls[0] += 1
        _busy(25)  # longer than the period
        depth[0] -= 1

    timer = Timer(10, cb)
    try:
        _busy(300)
    finally:
        timer.deinit()
    assert deepest[0] == 1, "callbacks nested %d deep" % deepest[0]
    assert calls[0] >= 5, "fired %d times" % calls[0]
    after = calls[0]
    _busy(100)
    time.sleep(0.05)  # a sleep is where a stopped timer's last call would show up too
    assert calls[0] == after, "called after deinit()"


@needs(REASON)
def test_the_callback_gets_the_timer_and_an_exception_does_not_stop_it():
    from firmware.sim.timer import Timer

    got = []

    def cb(t):
        got.append(t)
        raise ValueError("the ESP32 prints this and goes on")

    timer = Timer(10, cb)
    try:
        _busy(150)
    finally:
        timer.deinit()
    assert len(got) >= 3 and all(t is timer for t in got), "callbacks: %d" % len(got)


@needs(REASON)
def test_the_sim_board_starts_a_timer_and_its_deinit_stops_it():
    from devtest import rmtree, tempdir
    from firmware.sim.board import SimBoard

    path = tempdir()
    board = SimBoard({"connectors": 1}, state_dir=path)
    calls = [0]

    def cb(t):
        calls[0] += 1

    try:
        board.start_timer(10, cb)
        _busy(100)
        board.deinit()
        assert calls[0] >= 5, "fired %d times" % calls[0]
        after = calls[0]
        _busy(60)
        assert calls[0] == after, "the board's deinit() leaves its timer running"
    finally:
        board.deinit()
        rmtree(path)
