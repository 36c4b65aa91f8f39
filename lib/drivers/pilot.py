# Control pilot and proximity pilot (IEC 61851-1): duty for a current, state by level, debounce.
"""The control-pilot driver of one connector.

    duty_permille(160)            -> 266   (16 A; 1000 = constant +12 V = not offering)
    classify(6000, -12000, True)  -> 'C'
    cable_rating_deciamps(220)    -> 320   (a 32 A cable)

    pilot = Pilot(board, 1)
    state = pilot.poll()          # the debounced state, call every ~100 ms
    pilot.offer(320)              # offer 32 A (capped by the cable and at 80 A)
    pilot.withdraw()              # constant +12 V: not offering
    pilot.unavailable()           # constant -12 V: state F

States: 'A' +12 V (no EV), 'B' +9 V (EV connected), 'C' +6 V (charging), 'D' +3 V (charging
with ventilation), 'E' 0 V (pilot shorted), 'F' -12 V (EVSE not available), each +-1 V.
DIODE_FAULT: the PWM runs and the EV shows B/C/D, but the negative half-wave does not reach
-12 V, so the EV's diode is missing or shorted (an 'E'-class fault). UNDEFINED: the level has
been outside every band for the debounce time. All values are integers (mV, 0.1 A, per-mille).
"""

from ticks import ticks_diff, ticks_ms

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

DUTY_OFF = const(1000)  # constant +12 V: not offering current
DUTY_F = const(0)  # constant -12 V: state F, EVSE not available
MIN_DECIAMPS = const(60)  # below 6 A no PWM may be offered
MAX_DECIAMPS = const(800)  # 80 A, the top of the duty table

DIODE_FAULT = "diode"
UNDEFINED = "?"

# Half-width of each level band (about +-1 V, as open EVSE firmware uses).
_BAND_MV = const(1000)
# The negative half-wave must reach -12 V within the band: above this the diode is missing.
_LOW_MAX_MV = const(-11000)

# Proximity resistor bands (ohm, lower bound inclusive) -> cable rating in 0.1 A. Nominal
# 1.5 kOhm 13 A, 680 Ohm 20 A, 220 Ohm 32 A, 100 Ohm 63 A; the boundaries sit between
# neighbours so that resistor tolerance and ADC error still give the right (or a lower) rating.
_PP_MIN_OHM = const(75)  # below: PP shorted to PE, not a valid cable
_PP_63A_OHM = const(150)
_PP_32A_OHM = const(330)
_PP_20A_OHM = const(1000)
_PP_MAX_OHM = const(2700)  # above: no valid cable coding

DEBOUNCE_MS = const(300)  # C/D (current may flow) must be seen this long to be accepted
RELEASE_MS = const(50)  # any other change: two consecutive samples at a 100 ms tick


def duty_permille(deciamps):
    """Per-mille PWM duty that offers `deciamps` (0.1 A); 1000 (no PWM) below 6 A, capped at
    80 A. Rounded down, so the current an EV reads back is never above the one asked for."""
    if deciamps < MIN_DECIAMPS:
        return DUTY_OFF
    if deciamps > MAX_DECIAMPS:
        deciamps = MAX_DECIAMPS
    if deciamps <= 510:
        return deciamps * 5 // 3  # duty % = A / 0.6
    return deciamps * 2 // 5 + 640  # duty % = A / 2.5 + 64


def _near(mv, nominal_mv):
    return nominal_mv - _BAND_MV <= mv <= nominal_mv + _BAND_MV


def classify(high_mv, low_mv, pwm_on):
    """The pilot state for a burst sample: 'A'..'F', DIODE_FAULT, or None outside all bands."""
    if _near(high_mv, 12000):
        return "A"
    if _near(high_mv, 9000):
        state = "B"
    elif _near(high_mv, 6000):
        state = "C"
    elif _near(high_mv, 3000):
        state = "D"
    elif _near(high_mv, 0):
        return "E"
    elif _near(high_mv, -12000):
        return "F"
    else:
        return None
    # With an EV present (B/C/D) and the PWM running, the low half must still be -12 V.
    if pwm_on and low_mv > _LOW_MAX_MV:
        return DIODE_FAULT
    return state


def cable_rating_deciamps(ohm):
    """The cable's current rating in 0.1 A from its PP resistor; None: no or invalid cable."""
    if ohm is None or ohm < _PP_MIN_OHM or ohm > _PP_MAX_OHM:
        return None
    if ohm < _PP_63A_OHM:
        return 630
    if ohm < _PP_32A_OHM:
        return 320
    if ohm < _PP_20A_OHM:
        return 200
    return 130


class Pilot:
    """One connector's pilot: debounced state in, PWM duty out.

    `cable_deciamps` is for a tethered cable without a PP resistor: its fixed rating. Without
    it the rating is read from the PP line at every offer (no cable: nothing is offered)."""

    def __init__(self, board, connector, debounce_ms=DEBOUNCE_MS, release_ms=RELEASE_MS,
                 cable_deciamps=None):
        self.board = board
        self.connector = connector
        self.debounce_ms = debounce_ms
        self.release_ms = release_ms
        self.fixed_cable_deciamps = cable_deciamps
        self.state = None  # the stable state; None until the first one is accepted
        self.raw = None  # the last sample's state (UNDEFINED outside all bands)
        self.offered_deciamps = 0
        self._differs = False  # the samples have disagreed with `state` since _since
        self._since = 0
        self._in_cd = False  # the samples have shown C or D since _cd_since
        self._cd_since = 0
        self._set(DUTY_OFF)

    def poll(self, now_ms=None):
        """Sample, classify and debounce; returns the stable state."""
        if now_ms is None:
            now_ms = ticks_ms()
        board = self.board
        high_mv, low_mv = board.sample_pilot(self.connector)
        duty = board.pilot_duty(self.connector)
        s = classify(high_mv, low_mv, 0 < duty < DUTY_OFF)
        if s is None:
            s = UNDEFINED
        self.raw = s
        cd = s == "C" or s == "D"
        if not cd:
            self._in_cd = False
        elif not self._in_cd:
            self._in_cd = True
            self._cd_since = now_ms
        stable = self.state
        if s == stable:
            self._differs = False
            return stable
        if not self._differs:
            self._differs = True
            self._since = now_ms
        if cd and not (stable == "C" or stable == "D"):
            # Entering C/D lets current flow: C/D must have held for debounce_ms.
            if ticks_diff(now_ms, self._cd_since) >= self.debounce_ms:
                self.state = s
                self._differs = False
        elif ticks_diff(now_ms, self._since) >= self.release_ms:
            # Anything else takes permission away (or changes nothing that matters): once the
            # line has disagreed with the stable state for release_ms, the latest reading is
            # taken, even if it keeps changing: a flickering pilot must not hold a relay closed.
            self.state = s
            self._differs = False
        return self.state

    def cable_deciamps(self):
        """The cable's rating in 0.1 A, or None when no valid cable is detected."""
        if self.fixed_cable_deciamps is not None:
            return self.fixed_cable_deciamps
        return cable_rating_deciamps(self.board.proximity_ohm(self.connector))

    def offer(self, deciamps):
        """Offer up to `deciamps`, never above the cable rating; returns what is offered (0:
        below 6 A or no cable, the pilot is then a constant +12 V)."""
        cable = self.cable_deciamps()
        if cable is None:
            deciamps = 0
        elif deciamps > cable:
            deciamps = cable
        if deciamps > MAX_DECIAMPS:
            deciamps = MAX_DECIAMPS
        duty = duty_permille(deciamps)
        self.offered_deciamps = 0 if duty == DUTY_OFF else deciamps
        self._set(duty)
        return self.offered_deciamps

    def withdraw(self):
        """Constant +12 V: no current offered."""
        self.offered_deciamps = 0
        self._set(DUTY_OFF)

    def unavailable(self):
        """Constant -12 V (state F). The EV cannot be seen meanwhile: poll() reads 'F'."""
        self.offered_deciamps = 0
        self._set(DUTY_F)

    def _set(self, duty):
        # Only on a change: rewriting the PWM every tick could restart its period.
        if self.board.pilot_duty(self.connector) != duty:
            self.board.set_pilot_duty(self.connector, duty)
