# Safety properties of the connector state machine under random event sequences (hypothesis).
"""Random sequences of EV, card, central-system, fault and time events against a real SimBoard,
driven as the control channel drives it (board.sim[0].plug(), .ev = 'C', .welded = True, ...),
with a synthetic clock. After every tick the relay COMMAND (board.sim[0].relay_cmd, not the
feedback, which a weld holds closed) and the pilot duty are checked against the test's own
model of the inputs:

- closing: only when relay_may_close() holds on the Evse's pilot state and fault and the
  model's authorization and availability, at least 6 A can be offered, the EV has shown C/D
  for the debounce time, and the contacts do not read closed (no weld);
- staying closed: the rule still holds, or the documented opening grace applies (PWM already
  withdrawn, no fault, EV still in C/D, less than 3 s since the rule stopped holding), and
  never once the EV has left C/D for the release time;
- the duty never offers more than the cable rating, the configured maximum or the limit, and
  no PWM at all while not authorized, unavailable or faulted;
- a welded contact shows PowerSwitchFailure once it has read closed against an open command
  for settle_ms, is never commanded closed after it was seen welded, and PowerSwitchFailure
  means the relay is commanded open;
- events are consistent with the outputs (relay_closed/relay_opened alternate with the command).

The safety timer's path (Evse.guard(), run by evse.Guard from a hardware timer) is one more
kind of step, at random times between ticks, and also fired at a random line inside a tick
(the ESP32 runs the timer's callback between any two bytecodes). After each guard():
- it never closed the relay and never raised the offered current;
- the relay command is open once the EV has been out of C/D for the release time, and both
  relay and PWM are off once the pilot shows E/F, or a weld has been seen for settle_ms;
- no PWM while not authorized or unavailable, and the relay open after the grace period.
"""

import ast
import os
import shutil
import sys
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.pilot import cable_rating_deciamps
from firmware.sim.board import SimBoard
from firmware.sim.ev import offered_deciamps
from firmware.model.evse import (EV_COMMUNICATION_ERROR, POWER_SWITCH_FAILURE, RELAY_CLOSED,
                           RELAY_OPENED, Evse, relay_may_close)
from firmware.model.status import FAULTING, connector_status

DEBOUNCE_MS = 300
RELEASE_MS = 50
SETTLE_MS = 500
GRACE_MS = 3000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ev_event = st.one_of(
    st.just(("plug",)), st.just(("unplug",)),
    st.tuples(st.just("ev"), st.sampled_from("ABCCCDDEF")),
    st.tuples(st.just("cable"), st.sampled_from([None, 1500, 680, 220, 100, 30, 9000, 400])))
card_event = st.sampled_from([("authorize",), ("deauthorize",)])
csms_event = st.one_of(
    st.tuples(st.just("available"), st.booleans()),
    st.just(("stop",)),
    st.tuples(st.just("limit"), st.one_of(st.none(), st.integers(0, 900), st.integers(0, 70))))
fault_event = st.tuples(st.just("weld"), st.booleans())
time_event = st.tuples(st.just("wait"), st.integers(1, 40), st.integers(10, 250))
# The safety timer: n guard() calls dt ms apart; or one fired at the k-th line of the next tick.
guard_event = st.one_of(st.tuples(st.just("guard"), st.integers(1, 30), st.integers(1, 40)),
                        st.tuples(st.just("guard_inside"), st.integers(1, 120)))
event = st.one_of(ev_event, card_event, csms_event, fault_event, time_event, guard_event)
# A step is an event followed by one tick after dt ms, with `guards` guard() calls (the safety
# timer) spread over those dt ms.
step = st.tuples(event, st.integers(10, 250), st.integers(0, 8))


class Model:
    """What the test itself knows about the inputs, and the timing facts it tracks."""

    def __init__(self, max_deciamps):
        self.max_deciamps = max_deciamps
        self.authorized = False
        self.available = True
        self.limit = None
        self.cmd = False  # the relay command after the previous tick
        self.cd_since = None  # first tick that saw the EV in C/D (this stretch)
        self.left_cd_since = None  # first tick that saw the EV out of C/D (this stretch)
        self.out_last = None  # the last tick that saw the EV out of C/D
        self.broken_since = None  # first tick after which the closed relay's rule failed
        self.weld_open_since = None  # first tick whose check saw a weld against an open command
        self.weld_seen_open = False
        self.relay_events = []
        self.guard_inside = None  # fire guard() at this line of the next tick
        self.fired_inside = False
        self.bad_since = None  # first step that saw the pilot E/F (this stretch)


def offer_limit(m, board):
    cable = cable_rating_deciamps(board.sim[0].pp_ohm)
    limit = m.max_deciamps if m.limit is None else min(m.max_deciamps, m.limit)
    return min(limit, cable or 0)


def apply(m, board, evse, ev):
    sim = board.sim[0]
    kind = ev[0]
    if kind == "plug":
        sim.plug()
    elif kind == "unplug":
        sim.unplug()
    elif kind == "ev":
        sim.ev = ev[1]
    elif kind == "cable":
        sim.pp_ohm = ev[1]
    elif kind == "authorize":
        m.authorized = True
        evse.authorize()
    elif kind == "deauthorize":
        m.authorized = False
        evse.deauthorize()
    elif kind == "stop":
        m.authorized = False
        evse.stop_charging()
    elif kind == "available":
        m.available = ev[1]
        evse.set_available(ev[1])
    elif kind == "limit":
        m.limit = ev[1]
        evse.set_current_limit(ev[1])
    elif kind == "weld":
        sim.welded = ev[1]
    elif kind == "guard_inside":
        m.guard_inside = ev[1]


def observe(m, sim, now):
    """The model's view of the inputs at a tick or a guard() at `now`."""
    in_cd = sim.ev in ("C", "D")
    if in_cd:
        # Back in C/D: a stretch out of it shorter than the release time is a glitch the pilot
        # ignores; after a longer one C/D must be debounced afresh.
        if m.left_cd_since is not None and m.out_last - m.left_cd_since >= RELEASE_MS:
            m.cd_since = None
        m.left_cd_since = None
        if m.cd_since is None:
            m.cd_since = now
    else:
        m.out_last = now
        if m.left_cd_since is None:
            m.left_cd_since = now
    if sim.ev in ("E", "F"):
        if m.bad_since is None:
            m.bad_since = now
    else:
        m.bad_since = None


def tick_with_guard_inside(evse, now, line):
    """evse.tick(now) with evse.guard(now) fired at its `line`-th traced line (in evse.py and
    the drivers it calls), as the ESP32's timer may fire between any two bytecodes."""
    count = [0]
    fired = [False]

    def trace(frame, event, arg):
        if event == "call":
            name = frame.f_code.co_filename
            return trace if name.endswith(("evse.py", "pilot.py", "contactor.py")) else None
        if event == "line" and not fired[0]:
            count[0] += 1
            if count[0] == line:
                fired[0] = True
                evse.guard(now)
        return trace

    sys.settrace(trace)
    try:
        evse.tick(now)
    finally:
        sys.settrace(None)
    return fired[0]


def guard_and_check(m, board, evse, now):
    sim = board.sim[0]
    cmd_before = sim.relay_cmd
    duty_before = sim.duty
    assert cmd_before == m.cmd, "the relay changed outside a tick or guard()"
    weld_seen(m, sim, now)
    observe(m, sim, now)
    evse.guard(now)
    cmd = sim.relay_cmd
    where = "guard t=%d ev=%s state=%s auth=%s avail=%s duty=%d->%d cmd=%s->%s" % (
        now, sim.ev, evse.pilot.state, m.authorized, m.available, duty_before, sim.duty,
        cmd_before, cmd)
    assert not (cmd and not cmd_before), "guard() closed the relay: " + where
    assert sim.duty in (duty_before, 1000), "guard() changed the offer: " + where
    if cmd:
        if m.left_cd_since is not None:
            assert now - m.left_cd_since < RELEASE_MS, "EV out of C/D, relay closed: " + where
        if not (m.authorized and m.available):
            assert m.broken_since is None or now - m.broken_since < GRACE_MS, (
                "grace period over: " + where)
    if not (m.authorized and m.available):
        assert sim.duty == 1000, "PWM while charging is not allowed: " + where
    if m.bad_since is not None and now - m.bad_since >= RELEASE_MS:
        assert not cmd and sim.duty == 1000, "pilot E/F, relay or PWM on: " + where
    if m.weld_open_since is not None and now - m.weld_open_since >= SETTLE_MS:
        assert not cmd and sim.duty == 1000, "welded, relay or PWM on: " + where
    if cmd_before and not cmd:
        m.broken_since = None
    m.cmd = cmd


def weld_seen(m, sim, now):
    # Weld seen against an open command by this step's feedback check.
    if sim.welded and not sim.relay_cmd:
        m.weld_seen_open = True
        if m.weld_open_since is None:
            m.weld_open_since = now
    else:
        m.weld_open_since = None
    if not sim.welded:
        m.weld_seen_open = False


def tick_and_check(m, board, evse, now):
    sim = board.sim[0]
    cmd_before = sim.relay_cmd
    assert cmd_before == m.cmd, "the relay changed outside a tick or guard()"
    weld_seen(m, sim, now)
    observe(m, sim, now)
    in_cd = sim.ev in ("C", "D")

    if m.guard_inside is not None:
        line, m.guard_inside = m.guard_inside, None
        m.fired_inside = tick_with_guard_inside(evse, now, line) or m.fired_inside
    else:
        evse.tick(now)

    cmd = sim.relay_cmd
    state, fault = evse.pilot_state, evse.fault
    limit = offer_limit(m, board)
    rule = relay_may_close(state, m.authorized, m.available, fault) and limit >= 60
    where = "t=%d ev=%s state=%s fault=%s auth=%s avail=%s limit=%s duty=%d" % (
        now, sim.ev, state, fault, m.authorized, m.available, m.limit, sim.duty)

    # The pilot: never more than the cable, the maximum, the limit; no PWM unless allowed.
    assert offered_deciamps(sim.duty) <= limit, "over-offer: " + where
    if not (m.authorized and m.available) or fault is not None:
        assert sim.duty == 1000, "PWM while charging is not allowed: " + where
    assert sim.duty != 0, "state F is never output (documented choice): " + where

    # The relay command.
    if cmd and not cmd_before:
        assert rule, "closed while the rule does not hold: " + where
        assert in_cd, "closed on a sample out of C/D: " + where
        assert now - m.cd_since >= DEBOUNCE_MS, "closed before the debounce: " + where
        assert not sim.welded, "closed onto welded contacts: " + where
    if cmd:
        if rule:
            m.broken_since = None
        else:
            if m.broken_since is None:
                m.broken_since = now
            assert fault is None, "a fault must open at once: " + where
            assert state in ("C", "D"), "the EV left C/D: open at once: " + where
            assert sim.duty == 1000, "grace without withdrawing the PWM first: " + where
            assert now - m.broken_since < GRACE_MS, "grace period over: " + where
        if m.left_cd_since is not None:
            assert now - m.left_cd_since < RELEASE_MS, "EV out of C/D, relay closed: " + where
    else:
        m.broken_since = None

    # Welds.
    if fault == POWER_SWITCH_FAILURE:
        assert not cmd, "PowerSwitchFailure with the relay commanded closed: " + where
    if m.weld_seen_open:
        assert not cmd, "commanded closed onto a weld: " + where
    if m.weld_open_since is not None and now - m.weld_open_since >= SETTLE_MS:
        assert fault == POWER_SWITCH_FAILURE, "welded, no PowerSwitchFailure: " + where
    if not sim.welded:
        assert fault != POWER_SWITCH_FAILURE, "PowerSwitchFailure without a weld: " + where
    if state in ("E", "F") and not sim.welded:
        assert fault == EV_COMMUNICATION_ERROR, "pilot %s without a fault: %s" % (state, where)

    # Events agree with the command.
    if cmd != cmd_before:
        assert m.relay_events and m.relay_events[-1] == (RELAY_CLOSED if cmd else RELAY_OPENED), (
            "relay event missing: %r %s" % (m.relay_events[-3:], where))
    assert evse.relay_closed == cmd, "relay_closed output: " + where
    m.cmd = cmd


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(max_deciamps=st.integers(60, 800), steps=st.lists(step, min_size=10, max_size=50))
def test_relay_and_pilot_safety_under_random_events(max_deciamps, steps):
    state_dir = tempfile.mkdtemp(prefix="evse-props-")
    try:
        board = SimBoard({"connectors": 1}, state_dir=state_dir)
        m = Model(max_deciamps)

        def listen(evse, event):
            if event in (RELAY_CLOSED, RELAY_OPENED):
                m.relay_events.append(event)

        evse = Evse(board, 1, max_deciamps=max_deciamps, on_event=listen,
                    debounce_ms=DEBOUNCE_MS, release_ms=RELEASE_MS, settle_ms=SETTLE_MS,
                    grace_ms=GRACE_MS)
        now = 1000
        for ev, dt, guards in steps:
            apply(m, board, evse, ev)
            if ev[0] == "wait":
                for _ in range(ev[1]):
                    now += ev[2]
                    tick_and_check(m, board, evse, now)
            elif ev[0] == "guard":
                for _ in range(ev[1]):
                    now += ev[2]
                    guard_and_check(m, board, evse, now)
            for i in range(guards):
                guard_and_check(m, board, evse, now + dt * (i + 1) // (guards + 1))
            now += dt
            tick_and_check(m, board, evse, now)
        # Relay events alternate, starting with a close.
        for i, e in enumerate(m.relay_events):
            assert e == (RELAY_CLOSED if i % 2 == 0 else RELAY_OPENED), m.relay_events
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from("BCD"), st.integers(10, 400)), min_size=5,
                      max_size=40))
def test_charging_sessions_do_close(steps):
    """The properties above hold trivially for an Evse that never closes: show that an
    authorized EV that stays in C long enough does get the relay closed."""
    state_dir = tempfile.mkdtemp(prefix="evse-props-")
    try:
        board = SimBoard({"connectors": 1}, state_dir=state_dir)
        evse = Evse(board, 1, debounce_ms=DEBOUNCE_MS, release_ms=RELEASE_MS)
        board.sim[0].plug()
        evse.authorize()
        now = 0
        for letter, dt in steps:
            board.sim[0].ev = letter
            now += dt
            evse.tick(now)
        board.sim[0].ev = "C"
        for _ in range(5):
            now += 100
            evse.tick(now)
        assert board.sim[0].relay_cmd, "an authorized EV in C for 500 ms charges"
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


ERROR_CODES = (None,) + FAULTING + ("EVCommunicationError", "WeakSignal", "ReaderFailure")


@settings(max_examples=500, deadline=None)
@given(available=st.booleans(), error=st.sampled_from(ERROR_CODES), plugged=st.booleans(),
       ready=st.booleans(), tx=st.booleans(), offering=st.booleans(), authorized=st.booleans(),
       finishing=st.booleans())
def test_a_reservation_only_ever_shows_reserved_over_available_or_preparing(
        available, error, plugged, ready, tx, offering, authorized, finishing):
    """connector_status with a reservation (firmware/v16/reservation.py): Reserved where the
    connector would be Available or Preparing with no identifier accepted, and otherwise what
    it would be without one (a fault, Inoperative, a transaction, Finishing, the holder's
    identifier waiting for the cable all come first)."""
    facts = (available, error, plugged, ready, tx, offering, authorized, finishing)
    free = connector_status(*facts)
    reserved = connector_status(*facts, reserved=True)
    if free[0] == "Available" or (free[0] == "Preparing" and not authorized):
        assert reserved == ("Reserved", "NoError"), (facts, free, reserved)
    else:
        assert reserved == free, (facts, free, reserved)
    assert connector_status(*facts, reserved=False) == free


def test_only_the_contactor_driver_switches_a_relay():
    """The relay rule in one place: board.set_relay() is called only by lib/drivers/contactor.py
    (and the boards themselves, for their safe state), and only firmware/model/evse.py makes a
    Contactor (so only Evse.tick() can close one)."""
    offenders = []
    for tree in ("firmware", "lib"):
        for folder, _, files in os.walk(os.path.join(ROOT, tree)):
            for name in files:
                if not name.endswith(".py"):
                    continue
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
                with open(path) as f:
                    tree_ = ast.parse(f.read())
                for node in ast.walk(tree_):
                    if not isinstance(node, ast.Call):
                        continue
                    fn = node.func
                    called = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                    if called == "set_relay" and rel != "lib/drivers/contactor.py" and not (
                            rel.startswith("firmware/board/")):
                        offenders.append("%s:%d set_relay()" % (rel, node.lineno))
                    if called == "Contactor" and rel != "firmware/model/evse.py":
                        offenders.append("%s:%d Contactor()" % (rel, node.lineno))
    assert not offenders, "relay switched outside the rule: %s" % offenders
