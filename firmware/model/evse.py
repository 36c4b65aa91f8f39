# One connector's electrical state machine, and THE rule that decides whether its relay may close.
"""The connector's electrical side: pilot, contactor and meter under one state machine.

    evse = Evse(board, 1, max_deciamps=320, on_event=lambda evse, event: ...)
    asyncio.create_task(evse.run())          # tick() every 100 ms
    evse.authorize()                         # a transaction may run
    evse.set_current_limit(160)              # smart charging, 0.1 A (None: no limit)
    evse.pilot_state, evse.relay_closed, evse.fault, evse.plugged, evse.ev_ready

THE RELAY RULE (relay_may_close below, and nowhere else): the relay may be commanded closed
only while the debounced pilot state is C or D, the connector is authorized and available,
and there is no fault; Evse closes it only when, in addition, a current of at least 6 A is
offered on the pilot and the contactor's feedback agrees that it is open. Only Evse.tick()
calls Contactor.close(), and only Contactor calls board.set_relay().

Opening: when the rule stops holding the PWM is withdrawn first (constant +12 V), then the
relay opens as soon as the EV has stopped asking for current (pilot no longer C/D) or after
grace_ms (3 s), whichever comes first. On a fault (welded or stuck contactor, pilot E/F,
missing diode, undefined pilot level, over-current, an external fault, a failing board call)
it opens in the same tick. A welded contact (feedback closed while commanded open for
settle_ms) is PowerSwitchFailure and blocks closing until the feedback reads open again; a
contact stuck open, and an over-current, stay latched until the EV is unplugged (pilot A).

Offered current = min(max_deciamps, cable rating from PP, set_current_limit); below 6 A, and
whenever charging is not allowed (not authorized, unavailable, fault, no EV), the pilot is a
constant +12 V. Unavailable is shown as +12 V as well, not as state F (-12 V): with F on the
line the EV cannot be seen, so plugging in and out would go unnoticed, and some EVs log an
error on F; the OCPP status Unavailable says the rest.

THE SAFETY TIMER (Guard, guard()): every GUARD_MS a periodic hardware timer samples the pilot
and the feedback and applies the same decision in the opening direction only: it withdraws
the PWM and opens the relay wherever tick() would, at once, even while Python code holds the
asyncio loop. It never offers current and never closes; the next tick() emits the events.

Inputs take effect at the next tick. Events go to on_event(evse, event) after the tick has
switched the hardware (a failing listener is logged and cannot stop the tick): PLUGGED,
EV_READY (pilot C/D), SUSPENDED (C/D -> B while plugged), OFFER (offered_deciamps changed),
RELAY_CLOSED, RELAY_OPENED, FAULT (evse.fault has the new code), FAULT_CLEARED, UNPLUGGED.
"""

import logger
from drivers.contactor import SETTLE_MS, STUCK_OPEN, WELDED, Contactor
from drivers.meter import BoardMeter
from drivers.pilot import DEBOUNCE_MS, DIODE_FAULT, RELEASE_MS, UNDEFINED, Pilot
from ticks import sleep_ms, ticks_diff, ticks_ms

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

# OCPP 1.6 ChargePointErrorCode values.
POWER_SWITCH_FAILURE = "PowerSwitchFailure"
EV_COMMUNICATION_ERROR = "EVCommunicationError"
GROUND_FAILURE = "GroundFailure"
OVER_CURRENT_FAILURE = "OverCurrentFailure"
INTERNAL_ERROR = "InternalError"

# Events.
PLUGGED = "plugged"
UNPLUGGED = "unplugged"
EV_READY = "ev_ready"
SUSPENDED = "suspended"
OFFER = "offer"
RELAY_CLOSED = "relay_closed"
RELAY_OPENED = "relay_opened"
FAULT = "fault"
FAULT_CLEARED = "fault_cleared"

TICK_MS = const(100)
# The safety timer's period. An EV that leaves C/D is seen after the pilot's release time
# (50 ms) plus up to one period, so the relay opens within about 60 ms, busy loop or not,
# leaving room under the 100 ms bound for a late timer. Each period samples every pilot.
GUARD_MS = const(10)
GRACE_MS = const(3000)  # IEC 61851-1: the EV stops drawing within 3 s of the PWM going
# Over-current must last longer than the 5 s an EV has to follow a lowered duty.
OVERCURRENT_MS = const(6000)
_MAX_EVENTS = const(8)

log = logger.get("evse")


def relay_may_close(pilot_state, authorized, available, fault):
    """THE relay rule: True only when the pilot is C or D, the connector is authorized and
    available, and there is no fault (None). Nothing else may close a relay."""
    return ((pilot_state == "C" or pilot_state == "D") and authorized is True
            and available is True and fault is None)


class Guard:
    """The safety path that does not wait for the loop: a periodic hardware timer
    (board.start_timer, machine.Timer on the ESP32) calls every Evse's guard(). Its callback
    runs between two bytecodes even while Python code holds the asyncio loop, so a relay is
    opened (and the PWM withdrawn) when the rule says so, however busy the loop is.

        guard = Guard(board, [c.evse for c in connectors])   # at start-up, before the loop
        guard.stop()
    """

    def __init__(self, board, evses, period_ms=GUARD_MS):
        self.evses = evses
        self.timer = board.start_timer(period_ms, self._fire)  # one bound method, made once

    def _fire(self, timer):
        now = ticks_ms()
        for evse in self.evses:
            evse.guard(now)

    def stop(self):
        self.timer.deinit()


class Evse:
    def __init__(self, board, connector, max_deciamps=320, meter=None, on_event=None,
                 debounce_ms=DEBOUNCE_MS, release_ms=RELEASE_MS, settle_ms=SETTLE_MS,
                 grace_ms=GRACE_MS, overcurrent_ms=OVERCURRENT_MS, voltage_v=230, phases=3,
                 cable_deciamps=None):
        self.board = board
        self.connector = connector
        self.max_deciamps = max_deciamps
        self.grace_ms = grace_ms
        self.overcurrent_ms = overcurrent_ms
        self.voltage_v = voltage_v
        self.phases = phases  # 0: no over-current check
        self.on_event = on_event
        # The contactor first: its constructor drives the relay open.
        self.contactor = Contactor(board, connector, settle_ms)
        self.pilot = Pilot(board, connector, debounce_ms, release_ms, cable_deciamps)
        self.meter = meter if meter is not None else BoardMeter(board, connector)
        # Inputs.
        self.authorized = False
        self.available = True
        self.limit_deciamps = None  # None: no limit below max_deciamps
        self.external_fault = None
        # Outputs.
        self.pilot_state = None  # None until the pilot has a stable state
        self.plugged = False
        self.ev_ready = False
        self.relay_closed = False  # the command (board.relay_feedback() is the contacts)
        self.offered_deciamps = 0
        self.fault = None
        self.error = None  # the exception behind the last InternalError
        # Internal.
        self._latched = None  # a fault that holds until the EV is unplugged
        self._opening = False  # PWM withdrawn, waiting for the EV (grace period)
        self._opening_since = 0
        self._over = False
        self._over_since = 0
        self._events = [None] * _MAX_EVENTS
        self._n_events = 0
        self._unplugged = False
        self._busy = False  # tick() or guard() is switching (they never run inside each other)

    # -- inputs ---------------------------------------------------------------------------
    def authorize(self):
        """A transaction may run: charging is allowed when everything else agrees."""
        self.authorized = True

    def deauthorize(self):
        """No transaction (any more): stop charging and stay stopped until authorize()."""
        self.authorized = False

    def stop_charging(self):
        """Stop now (remote stop, stop button, transaction end): same as deauthorize()."""
        self.authorized = False

    def set_available(self, available):
        self.available = bool(available)

    def set_current_limit(self, deciamps):
        """Limit the offered current (0.1 A); None lifts the limit. Below 6 A: not offering."""
        self.limit_deciamps = None if deciamps is None else max(0, deciamps)

    def set_external_fault(self, code):
        """A fault found outside this module (e.g. an RCD input: GROUND_FAILURE); None clears."""
        self.external_fault = code

    # -- the periodic step ---------------------------------------------------------------
    async def step(self):
        self.tick(ticks_ms())

    async def run(self, period_ms=TICK_MS):
        while True:
            self.tick(ticks_ms())
            await sleep_ms(period_ms)

    def tick(self, now_ms):
        """Sample, decide, switch the hardware, then tell the listener. Every ~100 ms."""
        self._busy = True  # guard() keeps out meanwhile: this tick decides on fresh samples
        try:
            fault = self._tick(now_ms)
        except Exception as e:  # a failing board call: leave everything safe, report it
            self.error = e
            fault = INTERNAL_ERROR
            self._safe()
            if self.fault != INTERNAL_ERROR:
                log.error("connector %d: %r" % (self.connector, e))
        finally:
            self._busy = False
        if fault != self.fault:
            self.fault = fault
            self._emit(FAULT if fault is not None else FAULT_CLEARED)
        if self._unplugged:
            # Last: an application that sees UNPLUGGED may end the transaction, so it should
            # have seen this tick's relay and fault events first.
            self._unplugged = False
            self._emit(UNPLUGGED)
        self._publish()

    def guard(self, now_ms):
        """The safety timer's step (Guard, every GUARD_MS, between two bytecodes of whatever
        Python code runs): sample the pilot and the relay feedback, work out the faults, and
        apply the decision of tick() in the opening direction only: withdraw the PWM and open
        the relay where tick() would, never offer, raise an offer or close. No events: the
        next tick() sees what changed and tells the listener (status, transaction, OCPP)."""
        if self._busy:
            return  # inside tick() (or a guard() already): that one decides
        self._busy = True
        try:
            fault = self._assess(now_ms, False)  # polls the pilot: its state after this
            self._switch(now_ms, self.pilot.state, fault, False)
        except Exception:  # a failing board call: the safe state, reported by the next tick()
            self._force_open()
        finally:
            self._busy = False

    def _tick(self, now_ms):
        fault = self._assess(now_ms, True)
        state = self.pilot.state
        offered = self._switch(now_ms, state, fault, True)
        self._outputs(state, offered)
        return fault

    def _assess(self, now_ms, full):
        """Sample pilot and feedback; the fault (None: none). The over-current check (a meter
        reading, a plausibility check over seconds) only when `full`."""
        state = self.pilot.poll(now_ms)
        switch = self.contactor.check(now_ms)
        if state == "A":
            self._latched = None  # unplugged: a new EV gets a new chance
        if switch == STUCK_OPEN:
            self._latched = POWER_SWITCH_FAILURE
        elif full and self._over_current(now_ms) and self._latched is None:
            self._latched = OVER_CURRENT_FAILURE
        if switch == WELDED or self._latched == POWER_SWITCH_FAILURE:
            fault = POWER_SWITCH_FAILURE
        elif self.external_fault is not None:
            fault = self.external_fault
        elif self._latched is not None:
            fault = self._latched
        elif state == "E" or state == "F" or state == DIODE_FAULT or state == UNDEFINED:
            # (not `in (...)`: a tuple of names is built at run time, on every tick)
            fault = EV_COMMUNICATION_ERROR
        else:
            fault = None
        return fault

    def _switch(self, now_ms, state, fault, closing):
        """Pilot and relay from the state and the fault; returns the current offered. Only
        with `closing` (tick()) may it offer current or close the relay: guard() passes False."""
        pilot = self.pilot
        contactor = self.contactor
        # -- pilot: offer current only while charging is allowed and an EV is there ------------
        authorized = self.authorized
        available = self.available
        if fault is None and authorized and available and state in ("B", "C", "D"):
            if closing:
                limit = self.max_deciamps
                if self.limit_deciamps is not None and self.limit_deciamps < limit:
                    limit = self.limit_deciamps
                offered = pilot.offer(limit)  # capped by the cable's PP rating
            else:
                offered = pilot.offered_deciamps
        else:
            pilot.withdraw()
            offered = 0

        # -- relay: after the pilot, so that the PWM is always withdrawn before it opens ------
        charge = relay_may_close(state, authorized, available, fault) and offered > 0
        if contactor.closed:
            if charge:
                self._opening = False
            elif fault is not None or state not in ("C", "D"):
                self._opening = False
                contactor.open()  # a fault, or the EV has stopped drawing: now
            else:
                if not self._opening:
                    self._opening = True
                    self._opening_since = now_ms
                if ticks_diff(now_ms, self._opening_since) >= self.grace_ms:
                    self._opening = False
                    contactor.open()
        elif (closing and charge and not contactor.mismatched
              and (pilot.raw == "C" or pilot.raw == "D")):
            # Never onto contacts that already read closed (welded before settle_ms is up), and
            # never on a sample that has just left C/D (the stable state lags it by release_ms).
            contactor.close()
        return offered

    def _outputs(self, state, offered):
        # -- outputs and events ----------------------------------------------------------------
        self.pilot_state = state
        plugged = state is not None and state != "A"
        ev_ready = state == "C" or state == "D"
        if plugged != self.plugged:
            self.plugged = plugged
            if plugged:
                self._emit(PLUGGED)
            else:
                self._unplugged = True  # emitted by tick(), after everything else
        if ev_ready != self.ev_ready:
            self.ev_ready = ev_ready
            if ev_ready:
                self._emit(EV_READY)
            elif plugged:
                self._emit(SUSPENDED)
        if offered != self.offered_deciamps:
            self.offered_deciamps = offered
            self._emit(OFFER)
        self._relay_event()

    def _over_current(self, now_ms):
        """True once the meter has shown more power than the offered current allows (plus 10 %
        and 1 A) for overcurrent_ms. A plausibility check, not a breaker: power understates
        current by the power factor, and a stale meter is not used."""
        meter = self.meter
        if not self.contactor.closed or self.phases <= 0 or meter.stale:
            self._over = False
            return False
        w = meter.power_w()
        o = self.pilot.offered_deciamps
        if w is None or w <= (o + o // 10 + 10) * self.voltage_v * self.phases // 10:
            self._over = False
            return False
        if not self._over:
            self._over = True
            self._over_since = now_ms
        return ticks_diff(now_ms, self._over_since) >= self.overcurrent_ms

    def _force_open(self):
        """PWM off, then relay open, each attempted even if the other fails; no event (the
        timer's guard() calls it too, and events are the loop's)."""
        self._opening = False
        try:
            self.pilot.withdraw()
        except Exception:
            pass
        try:
            self.contactor.open()
        except Exception:
            pass

    def _safe(self):
        """The safe state: _force_open(), and the withdrawn offer told."""
        self._force_open()
        if self.offered_deciamps:
            self.offered_deciamps = 0
            self._emit(OFFER)
        self._relay_event()

    def _relay_event(self):
        closed = self.contactor.closed
        if closed != self.relay_closed:
            self.relay_closed = closed
            self._emit(RELAY_CLOSED if closed else RELAY_OPENED)

    # -- events ------------------------------------------------------------------------------
    def _emit(self, event):
        if self._n_events < _MAX_EVENTS:
            self._events[self._n_events] = event
            self._n_events += 1

    def _publish(self):
        n = self._n_events
        self._n_events = 0
        events = self._events
        listener = self.on_event
        for i in range(n):
            event = events[i]
            events[i] = None
            if listener is not None:
                try:
                    listener(self, event)
                except Exception as e:  # the hardware is already switched; keep ticking
                    log.error("connector %d: event listener failed on %s: %r" % (
                        self.connector, event, e))

    # -- a summary for the application ----------------------------------------------------------
    def status(self):
        """The OCPP 1.6 status the electrical side suggests: Faulted, Unavailable, Available,
        Preparing (plugged, not authorized), Charging, SuspendedEV, SuspendedEVSE. Finishing
        and Reserved depend on transactions and reservations: the application decides those."""
        if self.fault is not None:
            return "Faulted"
        if not self.available:
            return "Unavailable"
        if not self.plugged:
            return "Available"
        if not self.authorized:
            return "Preparing"
        if self.offered_deciamps == 0:
            return "SuspendedEVSE"
        if self.ev_ready and self.relay_closed:
            return "Charging"
        return "SuspendedEV"
