"""The simulated board: the firmware on the host (CPython, the MicroPython unix port) with a
control channel for the EV, files for flash and partitions, and machine.Timer's semantics.
Never deployed to an ESP32 (tools/devicefiles.py)."""
