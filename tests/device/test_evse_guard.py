# Device tests of the safety timer (evse.Guard): with the CPU held by Python code that never
# yields for 2 s, the relay still opens within 100 ms of wall time when the EV leaves, the pilot
# goes to E or F, or the contacts weld; the timer never closes the relay or offers current.
import time

from devtest import needs, rmtree, tempdir
from firmware.model import evse as E
from firmware.sim.board import SimBoard
from firmware.model.evse import Evse, Guard
from ticks import ticks_diff, ticks_ms

HOLD_MS = 2000  # how long the CPU is held
ACT_AT_MS = 500  # when, inside that, the EV side changes
BOUND_MS = 100  # the relay must be open this soon after the change
# The real timer needs a thread standing for its hardware (firmware/sim/timer.py): the
# WebAssembly port has none, and the firmware never runs there. CPython and the MicroPython
# unix port run these tests.
REASON = "_thread"


class Rig:
    """A SimBoard, an Evse on connector 1 driven by the real clock, charging."""

    def __init__(self):
        self.path = tempdir()
        self.board = SimBoard({"connectors": 1}, state_dir=self.path)
        self.sim = self.board.sim[0]
        self.events = []
        self.evse = Evse(self.board, 1, on_event=lambda e, event: self.events.append(event))
        self.guard = None

    def run_ms(self, ms):
        """The asyncio loop's part, by hand: a tick every 20 ms for `ms`."""
        start = ticks_ms()
        while ticks_diff(ticks_ms(), start) < ms:
            self.evse.tick(ticks_ms())
            time.sleep(0.02)

    def charging(self):
        self.sim.plug()
        self.evse.authorize()
        self.run_ms(100)
        self.sim.ev = "C"
        self.run_ms(500)  # past the 300 ms debounce of C
        assert self.sim.relay_cmd and self.sim.duty < 1000, "charging: %r" % (
            self.sim.state(1),)

    def hold(self, act):
        """Hold the CPU for HOLD_MS without yielding; at ACT_AT_MS call act(sim). Returns the ms
        from the act to the relay command opening and to the PWM withdrawal (None: never)."""
        sim = self.sim
        start = ticks_ms()
        acted = None
        relay_open = pwm_off = None
        while True:
            now = ticks_ms()
            t = ticks_diff(now, start)
            if t >= HOLD_MS:
                break
            if acted is None:
                if t >= ACT_AT_MS:
                    act(sim)
                    acted = now
                continue
            if relay_open is None and not sim.relay_cmd:
                relay_open = ticks_diff(now, acted)
            if pwm_off is None and sim.duty == 1000:
                pwm_off = ticks_diff(now, acted)
        return relay_open, pwm_off

    def close(self):
        if self.guard is not None:
            self.guard.stop()
        self.board.deinit()
        rmtree(self.path)


def _held_change(act):
    rig = Rig()
    try:
        rig.charging()
        rig.guard = Guard(rig.board, [rig.evse])
        rig.events = []
        result = rig.hold(act)
        assert rig.events == [], "events while the loop was held: %r" % rig.events
        rig.run_ms(60)  # the loop runs again: its tick tells the application
        return result, rig.events, rig.evse
    finally:
        rig.close()


def _unplug(sim):
    sim.unplug()


def _state_e(sim):
    sim.ev = "E"


def _state_f(sim):
    sim.ev = "F"


@needs(REASON)
def test_ev_unplugged_while_the_loop_is_held_opens_the_relay_within_100_ms():
    (relay_ms, pwm_ms), events, evse = _held_change(_unplug)
    print("unplug: relay open after %s ms, PWM off after %s ms" % (relay_ms, pwm_ms))
    assert relay_ms is not None and relay_ms < BOUND_MS, "relay open after %s ms" % relay_ms
    assert pwm_ms is not None and pwm_ms <= relay_ms, "PWM withdrawn after %s ms" % pwm_ms
    assert E.RELAY_OPENED in events and events[-1] == E.UNPLUGGED, events
    assert not evse.plugged and not evse.relay_closed


@needs(REASON)
def test_pilot_e_while_the_loop_is_held_opens_the_relay_within_100_ms():
    (relay_ms, pwm_ms), events, evse = _held_change(_state_e)
    print("E: relay open after %s ms, PWM off after %s ms" % (relay_ms, pwm_ms))
    assert relay_ms is not None and relay_ms < BOUND_MS, "relay open after %s ms" % relay_ms
    assert pwm_ms is not None and pwm_ms <= relay_ms, "PWM withdrawn after %s ms" % pwm_ms
    assert E.RELAY_OPENED in events and E.FAULT in events, events
    assert evse.fault == E.EV_COMMUNICATION_ERROR, evse.fault


@needs(REASON)
def test_pilot_f_while_the_loop_is_held_opens_the_relay_within_100_ms():
    (relay_ms, pwm_ms), events, evse = _held_change(_state_f)
    print("F: relay open after %s ms, PWM off after %s ms" % (relay_ms, pwm_ms))
    assert relay_ms is not None and relay_ms < BOUND_MS, "relay open after %s ms" % relay_ms
    assert pwm_ms is not None and pwm_ms <= relay_ms, "PWM withdrawn after %s ms" % pwm_ms
    assert evse.fault == E.EV_COMMUNICATION_ERROR, evse.fault


@needs(REASON)
def test_a_weld_while_the_loop_is_held_is_found_and_the_pwm_withdrawn():
    # Contacts that weld while closed read like closed contacts: the weld shows once the relay
    # is commanded open. Here the EV stops asking (C -> B) as the contacts weld: the relay is
    # commanded open within 100 ms, and once the feedback has disagreed for the settle time
    # (500 ms) the connector is faulted and the PWM goes, the loop still held meanwhile.
    def weld(sim):
        sim.welded = True
        sim.ev = "B"

    (relay_ms, pwm_ms), events, evse = _held_change(weld)
    print("weld: relay open after %s ms, PWM off after %s ms" % (relay_ms, pwm_ms))
    assert relay_ms is not None and relay_ms < BOUND_MS, "relay open after %s ms" % relay_ms
    settle = evse.contactor.settle_ms
    # (relay_ms is when this loop saw the relay open, a little after the timer opened it)
    assert pwm_ms is not None and settle <= pwm_ms < relay_ms + settle + BOUND_MS, (
        "PWM withdrawn %s ms after the weld (relay open at %s)" % (pwm_ms, relay_ms))
    assert evse.fault == E.POWER_SWITCH_FAILURE, evse.fault


@needs(REASON)
def test_the_timer_never_closes_the_relay_nor_offers_current():
    # An authorized EV that asks for current while the loop is held waits for the loop: closing
    # and offering are the tick's, with its debounce and checks.
    rig = Rig()
    try:
        rig.sim.plug()
        rig.run_ms(100)
        rig.guard = Guard(rig.board, [rig.evse])
        rig.evse.authorize()  # (the loop would offer current at its next tick)

        def ask(sim):
            sim.ev = "C"

        rig.hold(ask)
        assert not rig.sim.relay_cmd and rig.sim.duty == 1000, rig.sim.state(1)
        rig.run_ms(500)
        assert rig.sim.relay_cmd, "the loop's tick closes it: %r" % (rig.sim.state(1),)
    finally:
        rig.close()
