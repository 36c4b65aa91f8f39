# Device tests of the control-pilot driver: duty table, level bands, diode check, PP rating,
# debounce and offers capped by the cable, on a real SimBoard (files in a temp dir).
from devtest import rmtree, tempdir
from drivers import pilot
from drivers.pilot import Pilot, cable_rating_deciamps, classify, duty_permille
from firmware.sim.board import SimBoard
from firmware.sim.ev import offered_deciamps


def sim_board():
    path = tempdir()
    return SimBoard({"connectors": 1}, state_dir=path), path


def test_duty_for_current():
    assert duty_permille(0) == 1000, "0 A: no PWM"
    assert duty_permille(59) == 1000, "below 6 A: no PWM"
    assert duty_permille(60) == 100, "6 A is 10 %"
    assert duty_permille(160) == 266, "16 A is 26.6 % (rounded down)"
    assert duty_permille(320) == 533, "32 A is 53.3 %"
    assert duty_permille(510) == 850, "51 A is 85 %"
    assert duty_permille(630) == 892, "63 A is 63 / 2.5 + 64 = 89.2 %"
    assert duty_permille(800) == 960, "80 A is 96 %"
    assert duty_permille(1000) == 960, "capped at 80 A"


def test_duty_never_offers_more_than_asked():
    # What an EV reads back from the duty (sim_ev follows IEC 61851-1 table A.8).
    for deciamps in range(0, 1001):
        got = offered_deciamps(duty_permille(deciamps))
        assert got <= deciamps, "%d dA read back as %d" % (deciamps, got)
        if 60 <= deciamps <= 800:
            assert got >= deciamps - 20, "%d dA read back as only %d" % (deciamps, got)


def test_classify_by_bands():
    assert classify(12000, 12000, False) == "A"
    assert classify(11000, -12000, True) == "A", "band edge"
    assert classify(9000, 9000, False) == "B"
    assert classify(9900, -12000, True) == "B"
    assert classify(6000, -12000, True) == "C"
    assert classify(3000, 3000, False) == "D"
    assert classify(0, 0, True) == "E"
    assert classify(-12000, -12000, False) == "F"
    assert classify(10500, 10500, False) is None, "between A and B"
    assert classify(7500, -12000, True) is None, "between B and C"
    assert classify(-5000, -5000, False) is None


def test_missing_diode_with_pwm():
    assert classify(6000, -9000, True) == pilot.DIODE_FAULT, "no -12 V half-wave: no diode"
    assert classify(9000, 9000, True) == pilot.DIODE_FAULT
    assert classify(6000, 6000, False) == "C", "without PWM there is no half-wave to check"
    assert classify(6000, -11500, True) == "C", "-11.5 V is within the band"


def test_cable_rating_bands():
    assert cable_rating_deciamps(None) is None, "no cable"
    assert cable_rating_deciamps(0) is None, "PP shorted"
    assert cable_rating_deciamps(5000) is None, "no valid coding"
    assert cable_rating_deciamps(1500) == 130
    assert cable_rating_deciamps(1200) == 130
    assert cable_rating_deciamps(680) == 200
    assert cable_rating_deciamps(220) == 320
    assert cable_rating_deciamps(250) == 320
    assert cable_rating_deciamps(100) == 630
    assert cable_rating_deciamps(110) == 630


def test_debounce_into_c_but_release_fast():
    b, path = sim_board()
    p = Pilot(b, 1, debounce_ms=300, release_ms=50)
    assert b.pilot_duty(1) == 1000, "starts at constant +12 V"
    assert p.poll(0) is None, "nothing stable yet"
    assert p.poll(100) == "A"
    b.sim[0].plug()
    assert p.poll(200) == "A" and p.raw == "B"
    assert p.poll(300) == "B"
    b.sim[0].ev = "C"
    assert p.poll(400) == "B"
    assert p.poll(600) == "B", "200 ms of C is not enough"
    assert p.poll(700) == "C", "300 ms of C is"
    b.sim[0].ev = "B"
    assert p.poll(800) == "C"
    assert p.poll(900) == "B", "leaving C needs only release_ms"
    rmtree(path)


def test_a_blip_restarts_the_debounce():
    b, path = sim_board()
    p = Pilot(b, 1, debounce_ms=300, release_ms=50)
    b.sim[0].plug()
    p.poll(0)
    assert p.poll(100) == "B"
    b.sim[0].ev = "C"
    p.poll(200)
    b.sim[0].ev = "B"
    p.poll(300)
    b.sim[0].ev = "C"
    assert p.poll(500) == "B", "C seen only since 500"
    assert p.poll(700) == "B"
    assert p.poll(800) == "C"
    rmtree(path)


def test_a_flickering_pilot_leaves_c():
    b, path = sim_board()
    p = Pilot(b, 1, debounce_ms=300, release_ms=150)
    b.sim[0].plug()
    b.sim[0].ev = "C"
    for t in range(0, 500, 100):
        p.poll(t)
    assert p.state == "C"
    states = []
    for t, letter in ((500, "E"), (600, "B"), (700, "E"), (800, "B")):
        b.sim[0].ev = letter
        states.append(p.poll(t))
    # Left C once the line has disagreed with it for 150 ms, although no one state held that long.
    assert states == ["C", "C", "E", "E"], "left C: %r" % (states,)
    rmtree(path)


def test_offer_is_capped_by_the_cable():
    b, path = sim_board()
    p = Pilot(b, 1)
    assert p.offer(320) == 0, "no cable: nothing offered"
    assert b.pilot_duty(1) == 1000
    b.sim[0].plug()  # 220 ohm: 32 A
    assert p.offer(630) == 320 and b.pilot_duty(1) == 533
    b.sim[0].pp_ohm = 1500  # a 13 A cable
    assert p.offer(320) == 130 and b.pilot_duty(1) == duty_permille(130)
    assert p.offer(50) == 0 and b.pilot_duty(1) == 1000, "below 6 A: constant +12 V"
    p.offer(100)
    p.withdraw()
    assert p.offered_deciamps == 0 and b.pilot_duty(1) == 1000
    p.unavailable()
    p.poll(0)
    assert b.pilot_duty(1) == 0 and p.raw == "F", "state F on the line"
    rmtree(path)


def test_fixed_cable_rating_for_a_tethered_cable():
    b, path = sim_board()
    p = Pilot(b, 1, cable_deciamps=160)
    assert p.offer(320) == 160, "the tethered cable's rating, without a PP resistor"
    rmtree(path)


def test_diode_fault_through_the_pilot():
    class NoDiode(SimBoard):
        def sample_pilot(self, connector):
            high, low = super().sample_pilot(connector)
            return high, (high if low == -12000 and high > 0 else low)

    path = tempdir()
    b = NoDiode({"connectors": 1}, state_dir=path)
    p = Pilot(b, 1, release_ms=0)
    b.sim[0].plug()
    assert p.poll(0) == "B", "no PWM: nothing to check"
    p.offer(160)
    assert p.poll(100) == pilot.DIODE_FAULT
    rmtree(path)
