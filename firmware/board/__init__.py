# Picks the board: the real ESP32 when its hardware modules are there, the simulation otherwise.
"""`open_board(config, block)` returns the board the firmware runs on; `block` is the
firmware's one block buffer (lib/sharedblock.SharedBlock) or None.

The ESP32 board is chosen when `machine` offers PWM and `esp32` offers Partition (the real
chip); on the host (CPython, the MicroPython unix port) the simulated board is used.
"""


def on_esp32():
    try:
        import esp32
        import machine
    except ImportError:
        return False
    return hasattr(machine, "PWM") and hasattr(esp32, "Partition")


def open_board(config, block=None):
    if on_esp32():
        # Esp32Board drives the relays open first, then checks the pin map (ConfigError).
        from firmware.board.esp32 import Esp32Board
        return Esp32Board(config, block)
    from firmware.sim.board import SimBoard
    return SimBoard(config, block=block)
