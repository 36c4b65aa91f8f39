# The simulated EV and electrical side of one connector: pilot levels, relay, energy meter.
"""One connector's physics for the simulated board.

The EV side is the control-pilot state letter the EV presents (A: nothing plugged, B: EV
connected, C/D: EV asks for energy, E: pilot shorted, F: pilot at -12 V) and the cable's
proximity resistor. The EVSE side is what the firmware commands: relay and PWM duty. The
meter integrates power only while the relay contacts are closed and the EV draws current.
Energy is integer Wh with the remainder kept in watt-milliseconds, so nothing is lost to
rounding and no float accumulates.
"""

PILOT_MV = {"A": 12000, "B": 9000, "C": 6000, "D": 3000, "E": 0, "F": -12000}
CABLE_32A_OHM = 220  # the proximity resistor of a 32 A cable (IEC 61851-1)

_WMS_PER_WH = 3600000


def offered_deciamps(duty_permille):
    """The current (in 0.1 A) an EV reads from the pilot duty (IEC 61851-1 table A.8)."""
    if duty_permille < 80 or duty_permille > 970:
        return 0  # no PWM, or a duty that means "no charging allowed"
    if duty_permille < 100:
        return 60
    if duty_permille <= 850:
        return duty_permille * 6 // 10
    return min((duty_permille - 640) * 25 // 10, 800)


class SimConnector:
    def __init__(self, ev_max_a, phases, voltage_v, meter_wh=0):
        self.ev = "A"
        self.pp_ohm = None
        self.relay_cmd = False
        self.welded = False
        self.duty = 1000
        self.status = "Unknown"
        self.ev_max_a = ev_max_a
        self.phases = phases
        self.voltage_v = voltage_v
        self.meter_wh = meter_wh
        self._wms = 0  # energy below one Wh, in watt-milliseconds

    # -- EV side --------------------------------------------------------------------
    def plug(self):
        self.ev = "B"
        self.pp_ohm = CABLE_32A_OHM

    def unplug(self):
        self.ev = "A"
        self.pp_ohm = None

    # -- what the EVSE sees -------------------------------------------------------------
    def relay_closed(self):
        return self.relay_cmd or self.welded

    def pilot_sample(self):
        """(high mV, low mV) as a burst sample of the pilot would show them."""
        if self.duty == 0:
            return -12000, -12000  # the EVSE itself holds the pilot at -12 V
        high = PILOT_MV[self.ev]
        if self.duty >= 1000 or self.ev in ("E", "F"):
            return high, high  # no negative half-wave: constant level
        return high, -12000  # the EV's diode passes the negative half-wave unchanged

    def power_w(self):
        if not self.relay_closed() or self.ev not in ("C", "D"):
            return 0
        deciamps = min(offered_deciamps(self.duty), self.ev_max_a * 10)
        return deciamps * self.voltage_v * self.phases // 10

    def advance(self, dt_ms):
        """Integrate `dt_ms` milliseconds at the present power; True when the Wh changed."""
        self._wms += self.power_w() * dt_ms
        wh = self._wms // _WMS_PER_WH
        if wh:
            self._wms -= wh * _WMS_PER_WH
            self.meter_wh += wh
            return True
        return False

    def state(self, connector):
        return {
            "connector": connector,
            "cp": self.ev,
            "relay": "closed" if self.relay_closed() else "open",
            "pwmDutyPermille": self.duty,
            "offeredA": offered_deciamps(self.duty) / 10 if self.duty < 1000 else 0,
            "meterWh": self.meter_wh,
            "powerW": self.power_w(),
            "status": self.status,
        }
