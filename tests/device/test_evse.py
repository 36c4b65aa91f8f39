# Device tests of the connector state machine on a real SimBoard: the relay rule, the opening
# sequence (PWM first, relay after the EV or the grace period), faults and events.
from devtest import rmtree, tempdir
from firmware.model import evse as E
from firmware.sim.board import SimBoard
from drivers.watchdog import Watchdog
from firmware.model.evse import Evse, relay_may_close


class Rig:
    """A SimBoard in a temp dir, an Evse on connector 1, a synthetic clock in 100 ms ticks."""

    def __init__(self, board_class=SimBoard, sim=None, **kw):
        self.path = tempdir()
        self.board = board_class({"connectors": 1, "sim": sim or {}}, state_dir=self.path)
        self.sim = self.board.sim[0]
        self.events = []
        self.evse = Evse(self.board, 1, on_event=self.listen, **kw)
        self.now = 0

    def listen(self, evse, event):
        assert evse is self.evse, "the listener gets the Evse"
        self.events.append(event)

    def tick(self, n=1, ms=100):
        for _ in range(n):
            self.now += ms
            self.evse.tick(self.now)

    def take(self):
        events, self.events = self.events, []
        return events

    def charging(self):
        """Plugged, authorized, EV in C, relay closed."""
        self.tick(2)
        self.sim.plug()
        self.evse.authorize()
        self.tick(2)
        self.sim.ev = "C"
        self.tick(4)
        assert self.sim.relay_cmd, "charging: relay closed"
        self.take()

    def done(self):
        rmtree(self.path)


def test_relay_rule_truth_table():
    for state in (None, "A", "B", "C", "D", "E", "F", "diode", "?"):
        for authorized in (False, True):
            for available in (False, True):
                for fault in (None, E.POWER_SWITCH_FAILURE, E.EV_COMMUNICATION_ERROR):
                    want = (state in ("C", "D") and authorized and available and fault is None)
                    got = relay_may_close(state, authorized, available, fault)
                    assert got is want, "%r %r %r %r: %r" % (state, authorized, available,
                                                             fault, got)


def test_starts_safe_and_sees_the_pilot():
    r = Rig()
    r.sim.relay_cmd = True  # whatever the board held before
    r.evse = Evse(r.board, 1, on_event=r.listen)
    assert r.sim.relay_cmd is False and r.sim.duty == 1000, "relay open, constant +12 V"
    r.tick(2)
    assert r.evse.pilot_state == "A" and not r.evse.plugged and r.evse.fault is None
    assert r.take() == [], "no events at start-up"
    assert r.evse.status() == "Available"
    r.done()


def test_a_charging_session():
    r = Rig()
    r.tick(2)
    r.sim.plug()
    r.tick(2)
    assert r.take() == [E.PLUGGED] and r.evse.status() == "Preparing"
    assert r.sim.duty == 1000, "not authorized: no PWM"
    r.sim.ev = "C"  # an EV that asks before it is offered anything
    r.tick(5)
    assert not r.sim.relay_cmd, "not authorized: open"
    r.sim.ev = "B"
    r.tick(2)
    r.take()
    r.evse.authorize()
    r.tick()
    assert r.sim.duty == 533 and r.evse.offered_deciamps == 320, "32 A (cable and max)"
    assert r.take() == [E.OFFER] and r.evse.status() == "SuspendedEV"
    r.sim.ev = "C"
    r.tick(3)
    assert not r.sim.relay_cmd, "C seen for 200 ms only: debounced"
    r.tick()
    assert r.sim.relay_cmd and r.evse.relay_closed, "closed after 300 ms of C"
    assert r.take() == [E.EV_READY, E.RELAY_CLOSED] and r.evse.status() == "Charging"
    r.sim.advance(3600000)
    # 53.3 % reads back as 31.9 A: one hour at 31.9 A * 230 V * 3 phases.
    assert r.evse.meter.energy_wh() == 319 * 230 * 3 // 10, "the meter counted"
    r.sim.ev = "B"  # the EV is full
    r.tick(2)
    assert not r.sim.relay_cmd, "EV in B: open without waiting"
    assert r.sim.duty == 533, "still offering: the EV may resume"
    assert r.take() == [E.SUSPENDED, E.RELAY_OPENED] and r.evse.status() == "SuspendedEV"
    r.sim.unplug()
    r.tick(2)
    assert r.take() == [E.OFFER, E.UNPLUGGED] and r.sim.duty == 1000
    r.done()


def test_deauthorize_withdraws_pwm_first_then_waits_for_the_ev():
    r = Rig()
    r.charging()
    r.evse.deauthorize()
    r.tick()
    assert r.sim.duty == 1000, "PWM withdrawn in the first tick"
    assert r.sim.relay_cmd, "the EV gets time to stop drawing"
    r.tick(5)
    assert r.sim.relay_cmd
    r.sim.ev = "B"  # the EV saw the PWM go and stopped
    r.tick(2)
    assert not r.sim.relay_cmd, "EV back in B: open now, before the 3 s"
    assert r.take() == [E.OFFER, E.SUSPENDED, E.RELAY_OPENED]
    r.done()


def test_grace_period_ends_after_three_seconds():
    r = Rig()
    r.charging()
    r.evse.stop_charging()
    r.tick()  # t0: withdrawn, grace starts
    assert r.sim.duty == 1000 and r.sim.relay_cmd
    r.tick(29)
    assert r.sim.relay_cmd, "2.9 s: still waiting for the EV"
    r.tick()
    assert not r.sim.relay_cmd, "3 s: opened although the EV still says C"
    r.tick(10)
    assert not r.sim.relay_cmd and r.sim.duty == 1000, "and stays open"
    r.done()


def test_unavailable_opens_like_a_stop_and_shows_plus_12v():
    r = Rig()
    r.charging()
    r.evse.set_available(False)
    r.tick()
    assert r.sim.duty == 1000, "unavailable is a constant +12 V, not state F"
    r.tick(30)
    assert not r.sim.relay_cmd
    assert r.evse.status() == "Unavailable" and r.evse.plugged, "plug state still seen"
    r.evse.set_available(True)
    r.tick()
    assert r.sim.duty == 533
    r.tick()
    assert r.sim.relay_cmd, "available again, EV still in C: closes"
    r.done()


def test_limit_below_6a_suspends_and_a_quick_raise_keeps_the_relay():
    r = Rig()
    r.charging()
    r.evse.set_current_limit(50)
    r.tick()
    assert r.sim.duty == 1000 and r.sim.relay_cmd, "below 6 A: no PWM, grace starts"
    assert r.evse.status() == "SuspendedEVSE"
    r.tick(10)
    r.evse.set_current_limit(100)
    r.tick()
    assert r.sim.duty == 166 and r.sim.relay_cmd, "10 A again within the grace period"
    r.tick(40)
    assert r.sim.relay_cmd, "the grace period was cancelled"
    r.evse.set_current_limit(0)
    r.tick(31)
    assert not r.sim.relay_cmd, "0 A for 3 s: open"
    r.evse.set_current_limit(None)
    r.tick()
    assert r.sim.duty == 533
    r.tick()
    assert r.sim.relay_cmd
    r.done()


def test_offer_is_the_least_of_max_cable_and_limit():
    r = Rig(max_deciamps=250)
    r.tick()
    r.sim.plug()
    r.evse.authorize()
    r.tick(2)
    assert r.evse.offered_deciamps == 250, "configured max"
    r.sim.pp_ohm = 1500
    r.tick()
    assert r.evse.offered_deciamps == 130, "13 A cable"
    r.evse.set_current_limit(80)
    r.tick()
    assert r.evse.offered_deciamps == 80 and r.sim.duty == 133, "limit"
    r.sim.pp_ohm = None  # the cable's PP broken: no rating
    r.tick()
    assert r.evse.offered_deciamps == 0 and r.sim.duty == 1000, "no cable rating: no offer"
    r.done()


def test_welded_contact_faults_and_blocks():
    r = Rig()
    r.charging()
    r.sim.welded = True  # unseen while the relay is meant to be closed
    r.tick(3)
    assert r.evse.fault is None
    r.evse.deauthorize()
    r.tick(31)
    assert not r.sim.relay_cmd, "commanded open after the grace period"
    r.tick(5)  # the disagreement is first seen by the tick after the open command
    assert r.evse.fault is None, "feedback lag within settle_ms is not yet a fault"
    r.tick()
    assert r.evse.fault == E.POWER_SWITCH_FAILURE and r.evse.status() == "Faulted"
    assert E.FAULT in r.take()
    r.evse.authorize()
    r.tick(20)
    assert not r.sim.relay_cmd and r.sim.duty == 1000, "never closes while welded"
    r.sim.welded = False
    r.tick()
    assert r.evse.fault is None and r.take()[-1:] == [E.FAULT_CLEARED], "cleared with the weld"
    r.tick()
    assert r.sim.relay_cmd, "authorized, EV in C, no fault: charging again"
    r.done()


def test_weld_while_open_never_closes_even_before_settle():
    r = Rig()
    r.tick()
    r.sim.plug()
    r.sim.ev = "C"
    r.sim.welded = True
    r.evse.authorize()
    for _ in range(10):
        r.tick()
        assert not r.sim.relay_cmd, "contacts read closed: never commanded closed"
    assert r.evse.fault == E.POWER_SWITCH_FAILURE
    r.done()


class StuckOpenBoard(SimBoard):
    def relay_feedback(self, connector):
        return False


def test_stuck_open_latches_until_unplugged():
    r = Rig(StuckOpenBoard)
    r.charging()
    r.tick(5)  # first seen by the tick after the close command, a fault 500 ms later
    assert r.evse.fault is None
    r.tick()
    assert r.evse.fault == E.POWER_SWITCH_FAILURE and not r.sim.relay_cmd, "stuck open"
    r.tick(20)
    assert r.evse.fault == E.POWER_SWITCH_FAILURE and not r.sim.relay_cmd, "latched"
    r.sim.unplug()
    r.tick(2)
    assert r.evse.fault is None, "a new plug-in, a new try"
    r.done()


def test_pilot_e_and_f_fault_and_open_at_once():
    for letter in ("E", "F"):
        r = Rig()
        r.charging()
        r.sim.ev = letter
        r.tick()
        assert r.sim.relay_cmd, "one sample is not yet a state"
        r.tick()
        assert not r.sim.relay_cmd and r.sim.duty == 1000, "%s: opened at once" % letter
        assert r.evse.fault == E.EV_COMMUNICATION_ERROR, "%s: %r" % (letter, r.evse.fault)
        r.sim.ev = "B"
        r.tick(2)
        assert r.evse.fault is None and r.sim.duty == 533, "cleared with the condition"
        r.done()


class NoDiodeBoard(SimBoard):
    def sample_pilot(self, connector):
        high, low = super().sample_pilot(connector)
        return high, high if low == -12000 and high > 0 else low


def test_missing_diode_is_an_ev_communication_error():
    r = Rig(NoDiodeBoard)
    r.tick()
    r.sim.plug()
    r.evse.authorize()
    r.tick(4)
    assert r.evse.fault == E.EV_COMMUNICATION_ERROR and r.evse.pilot_state == "diode"
    assert r.sim.duty == 1000, "withdrawn"
    r.done()


class HotMeter:
    stale = False

    def __init__(self):
        self.w = 0

    def power_w(self):
        return self.w

    def energy_wh(self):
        return 0


def test_over_current_after_six_seconds():
    meter = HotMeter()
    r = Rig(meter=meter, max_deciamps=160)
    r.charging()
    meter.w = (160 + 16 + 10) * 230 * 3 // 10  # 16 A + 10 % + 1 A: allowed
    r.tick(100)
    assert r.evse.fault is None
    meter.w += 300
    r.tick(60)  # first seen at the first tick, a fault 6 s later
    assert r.evse.fault is None and r.sim.relay_cmd, "5.9 s: the EV may still be adapting"
    r.tick()
    assert r.evse.fault == E.OVER_CURRENT_FAILURE and not r.sim.relay_cmd
    meter.w = 0
    r.tick(10)
    assert r.evse.fault == E.OVER_CURRENT_FAILURE, "latched"
    r.sim.unplug()
    r.tick(2)
    assert r.evse.fault is None
    r.done()


def test_stale_meter_is_not_used():
    meter = HotMeter()
    meter.stale = True
    meter.w = 10 ** 6
    r = Rig(meter=meter)
    r.charging()
    r.tick(100)
    assert r.evse.fault is None and r.sim.relay_cmd
    r.done()


def test_external_ground_fault():
    r = Rig()
    r.charging()
    r.evse.set_external_fault(E.GROUND_FAILURE)
    r.tick()
    assert not r.sim.relay_cmd and r.evse.fault == E.GROUND_FAILURE
    r.evse.set_external_fault(None)
    r.tick()
    assert r.evse.fault is None
    r.done()


class FlakyBoard(SimBoard):
    broken = False

    def sample_pilot(self, connector):
        if self.broken:
            raise OSError(5, "ADC")
        return super().sample_pilot(connector)


def test_failing_board_call_is_an_internal_error():
    r = Rig(FlakyBoard)
    r.charging()
    r.board.broken = True
    r.tick()
    assert r.evse.fault == E.INTERNAL_ERROR and not r.sim.relay_cmd and r.sim.duty == 1000
    assert isinstance(r.evse.error, OSError)
    r.board.broken = False
    r.tick()
    assert r.evse.fault is None
    r.done()


def test_unplug_while_charging_reports_unplugged_last():
    r = Rig()
    r.charging()
    r.sim.unplug()
    r.tick()
    r.tick()
    assert not r.sim.relay_cmd
    events = r.take()
    assert events[-1] == E.UNPLUGGED and E.RELAY_OPENED in events, "events %r" % (events,)
    assert E.SUSPENDED not in events, "unplugged, not suspended"
    r.done()


def test_a_failing_listener_does_not_stop_the_tick():
    r = Rig()

    def bad(evse, event):
        raise RuntimeError("listener bug")

    r.evse.on_event = bad
    r.tick()
    r.sim.plug()
    r.evse.authorize()
    r.sim.ev = "C"
    r.tick(6)
    assert r.sim.relay_cmd, "ticking went on"
    r.done()


async def test_step_ticks_with_the_clock():
    r = Rig()
    await r.evse.step()
    await r.evse.step()
    assert r.sim.duty == 1000 and not r.sim.relay_cmd
    r.done()


class DogBoard:
    def __init__(self):
        self.started = None
        self.feeds = 0

    def watchdog_start(self, timeout_ms):
        self.started = timeout_ms

    def watchdog_feed(self):
        self.feeds += 1


def test_watchdog_is_fed_only_while_the_watched_tick_runs():
    b = DogBoard()
    wdt = Watchdog(b, 8000)
    assert b.started == 8000, "armed at once"
    assert wdt.feed() and b.feeds == 1, "nothing watched: fed"
    evse_bit = wdt.watch()
    other_bit = wdt.watch()
    assert evse_bit != other_bit
    wdt.alive(evse_bit)
    assert not wdt.feed() and b.feeds == 1, "one watched task silent: not fed"
    wdt.alive(other_bit)
    assert wdt.feed() and b.feeds == 2, "both checked in: fed"
    assert not wdt.feed(), "each feed needs a fresh check-in"
