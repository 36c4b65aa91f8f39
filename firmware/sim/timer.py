# machine.Timer for the simulated board: a periodic callback that runs between two bytecodes
# of whatever the main program does, as the ESP32's soft timers do.
"""`Timer(period_ms, callback)` calls `callback(timer)` every period_ms on the main thread,
with the semantics of `machine.Timer` on the ESP32:

- The ESP32's timers are soft (ports/esp32/machine_timer.c in v1.28: `hard=True` raises
  ValueError). The timer interrupt only calls mp_sched_schedule(callback, timer); the callback
  then runs on the main thread between two bytecodes of the Python code that is running, a
  busy asyncio loop included. A long C call holds it up; Python code does not.
- One scheduled callback never interrupts another (micropython.schedule's documented rule).
- A callback that finds the previous one still pending is not queued twice.

A thread stands for the hardware timer and its interrupt:

- MicroPython (the unix port): the thread calls micropython.schedule(), the mechanism the
  ESP32's interrupt handler uses; the unix port runs scheduled callbacks on the main thread
  only (py/scheduler.c). Unlike the ESP32 (mp_hal_wake_main_task_from_isr) it does not wake
  a main thread blocked in poll(): an idle loop runs the callback when its poll returns.
- CPython: the thread signals the main thread (signal.pthread_kill); CPython runs a Python
  signal handler on the main thread between bytecodes (and interrupts a select() for it),
  and the handler calls the callback. A thread calling the callback itself would run it
  beside the main program, not between its bytecodes: code that relies on the callback
  never interleaving with the main thread would be tested against the wrong semantics.
  So a Timer must be made on the main thread here, like the signal handler.

No threads (the WebAssembly port): Timer() raises OSError; the firmware never runs there.
"""

import sys
import time

from ticks import ticks_add, ticks_diff, ticks_ms

try:
    import _thread
except ImportError:  # the WebAssembly port
    _thread = None

try:
    import micropython  # pyright: ignore[reportMissingImports]

    _schedule = getattr(micropython, "schedule", None)
except ImportError:  # CPython
    _schedule = None

_signal = None
if _schedule is None and sys.implementation.name == "cpython":
    import signal as _signal  # pyright: ignore[reportMissingImports]

    # By name: the ESP32 stubs' signal module (the type check's standard library) lacks them.
    _SIG = getattr(_signal, "SIGUSR2")
    _pthread_kill = getattr(_signal, "pthread_kill")
    _siginterrupt = getattr(_signal, "siginterrupt")
    _getswitch = getattr(sys, "getswitchinterval")
    _setswitch = getattr(sys, "setswitchinterval")

_timers = []  # the running timers (CPython: the signal handler looks here)
_in_callback = [False]  # CPython: a callback is running (they never nest)
_previous = [None]  # CPython: the signal's handler before the first Timer
_interval = [0.005]  # CPython: the switch interval before the first Timer


def _on_signal(signum, frame):
    # CPython, main thread, between two bytecodes. Not while another callback runs: the one
    # whose turn it was keeps its flag, and its thread signals again at its next period.
    if _in_callback[0]:
        return
    _in_callback[0] = True
    try:
        for t in _timers:
            if t._due:
                t._due = False
                t._call()
    finally:
        _in_callback[0] = False


class Timer:
    def __init__(self, period_ms, callback):
        if _thread is None or (_schedule is None and _signal is None):
            raise OSError(95, "no timer emulation here (needs _thread)")
        self.period_ms = period_ms
        self.callback = callback
        self._due = False  # fired, callback not run yet
        self._active = True
        if _signal is not None:
            # Raises ValueError off the main thread, as signal.signal does: see above.
            self._main = _thread.get_ident()
            if not _timers:
                _previous[0] = _signal.signal(_SIG, _on_signal)
                _siginterrupt(_SIG, False)  # reads and writes restart; a select() wakes
                # The thread needs the GIL to fire, and a busy main thread lets it go every
                # switch interval (5 ms): an artefact of the emulation (an ISR waits for no
                # lock), kept short while a timer runs.
                _interval[0] = _getswitch()
                _setswitch(0.0005)
        _timers.append(self)
        self._sched = self._scheduled  # made once: no bound method allocated per period
        _thread.start_new_thread(self._run, ())

    def deinit(self):
        if not self._active:
            return
        self._active = False
        _timers.remove(self)
        if _signal is not None and not _timers:
            _signal.signal(_SIG, _previous[0])
            _setswitch(_interval[0])

    # -- the "hardware": a thread that fires every period_ms ----------------------------
    def _run(self):
        period = self.period_ms
        due_at = ticks_add(ticks_ms(), period)
        while self._active:
            wait = ticks_diff(due_at, ticks_ms())
            if wait > 0:
                time.sleep(wait / 1000)
            if not self._active:
                break
            due_at = ticks_add(due_at, period)
            late = ticks_diff(ticks_ms(), due_at)
            if late > period:  # starved: the periods missed are gone, as for a timer ISR
                due_at = ticks_add(due_at, late - late % period)
            if _signal is not None:
                # Still due (it fired while another callback ran): signalled again.
                self._due = True
                try:
                    _pthread_kill(self._main, _SIG)
                except OSError:  # the main thread has gone: the process is ending
                    return
            elif not self._due:  # a pending one is not scheduled twice
                self._due = True
                try:
                    _schedule(self._sched, None)  # type: ignore
                except RuntimeError:  # "schedule queue full": the ISR's call fails likewise
                    self._due = False

    def _scheduled(self, _):
        # MicroPython, main thread, between two bytecodes (the scheduler never nests them).
        self._due = False
        self._call()

    def _call(self):
        if self._active:
            try:
                self.callback(self)
            except Exception as e:  # the ESP32 prints it (mp_call_function_1_protected)
                print("Timer callback:", repr(e))
