# Hardware drivers above the board interface: pilot, contactor, meters, status LED, watchdog.
"""Drivers turn the board's raw readings into electrical facts; they know nothing of OCPP.

Each takes a board (firmware.board.base.Board) and, where it matters, a connector number
(from 1). The connector's state machine and the one rule that may close the relay live in
firmware/model/evse.py; nothing else drives these drivers' outputs.

    from drivers.pilot import Pilot
    from drivers.contactor import Contactor
    from drivers.meter import BoardMeter

    pilot = Pilot(board, 1)            # constant +12 V: not offering
    state = pilot.poll()               # 'A'..'F', pilot.DIODE_FAULT, '?' or None (not yet stable)
    pilot.offer(160)                   # 16 A, never above the cable's PP rating
    relay = Contactor(board, 1)        # commanded open
    fault = relay.check()              # None, "welded" or "stuck_open"
    meter = BoardMeter(board, 1)
    wh, w = meter.energy_wh(), meter.power_w()

Time is MicroPython ticks (lib/ticks.py); calls that depend on time take an optional now_ms
so that tests can drive them with a synthetic clock.
"""
