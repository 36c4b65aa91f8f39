# Device tests of the simulated EV: pilot levels, offered current, relay and energy meter.
from firmware.sim.ev import SimConnector, offered_deciamps


def test_offered_current_follows_iec_61851_duty_table():
    assert offered_deciamps(1000) == 0  # constant +12 V: not offering
    assert offered_deciamps(0) == 0
    assert offered_deciamps(50) == 0  # below 8 %: not allowed
    assert offered_deciamps(90) == 60  # 8-10 %: 6 A
    assert offered_deciamps(100) == 60  # 10 % = 6 A
    assert offered_deciamps(267) == 160  # 26.7 % = 16 A
    assert offered_deciamps(533) == 319  # 53.3 % = 31.98 A
    assert offered_deciamps(850) == 510  # 85 % = 51 A
    assert offered_deciamps(900) == 650  # (90 - 64) * 2.5 = 65 A
    assert offered_deciamps(960) == 800  # 80 A, the cap
    assert offered_deciamps(980) == 0  # above 97 %: not allowed


def test_pilot_levels_by_state():
    c = SimConnector(32, 3, 230)
    assert c.pilot_sample() == (12000, 12000)  # A, constant high
    c.plug()
    assert c.pilot_sample() == (9000, 9000)
    c.duty = 533
    assert c.pilot_sample() == (9000, -12000)  # PWM: negative half-wave through the diode
    c.ev = "C"
    assert c.pilot_sample() == (6000, -12000)
    c.ev = "E"
    assert c.pilot_sample() == (0, 0)
    c.duty = 0
    assert c.pilot_sample() == (-12000, -12000)


def test_meter_counts_only_with_relay_closed_and_ev_drawing():
    c = SimConnector(16, 1, 230)
    c.plug()
    c.duty = 533  # 32 A offered, the EV takes 16 A
    c.ev = "C"
    assert c.power_w() == 0  # relay open
    c.relay_cmd = True
    assert c.power_w() == 16 * 230
    # one hour at 3680 W is 3680 Wh, whatever the step size
    for _ in range(3600):
        c.advance(1000)
    assert c.meter_wh == 3680
    c.ev = "B"  # the EV stops drawing
    assert not c.advance(60000)
    assert c.meter_wh == 3680


def test_meter_keeps_the_remainder_below_one_wh():
    c = SimConnector(32, 3, 230, meter_wh=100)
    c.plug()
    c.ev = "C"
    c.duty = 100  # 6 A * 230 V * 3 = 4140 W
    c.relay_cmd = True
    for _ in range(1000):
        c.advance(1)  # 1 ms steps: 4.14 W.s each, far below one Wh
    assert c.meter_wh == 101  # 4140 W * 1 s = 1.15 Wh
    assert c._wms == 4140 * 1000 - 3600000


def test_welded_relay_reads_closed_while_commanded_open():
    c = SimConnector(32, 3, 230)
    c.welded = True
    assert c.relay_closed()
    assert c.state(1)["relay"] == "closed"
