# Microsecond clock for the benchmark scripts, the same on MicroPython and CPython.
import sys
import time

MICROPYTHON = sys.implementation.name == "micropython"

if MICROPYTHON:
    def now_us():
        return time.ticks_us()

    def elapsed_us(start):
        return time.ticks_diff(time.ticks_us(), start)
else:
    def now_us():
        return time.perf_counter_ns() // 1000

    def elapsed_us(start):
        return now_us() - start
