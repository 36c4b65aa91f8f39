# OCPP 1.6 connector status (§4.9, §7.7 ChargePointStatus) from the connector's facts, and the
# StatusNotification reporting that honours MinimumStatusDuration.
"""`connector_status(...)` is the whole status machine as one pure function; `StatusReporter`
sends a StatusNotification when the (status, errorCode) of a connector changes and has held
for MinimumStatusDuration seconds (a blip shorter than that is never reported).

Error codes: FAULTING below, and nowhere else, lists the ones that make a connector Faulted
(and keep new sessions from starting there, Connector.usable): PowerSwitchFailure (welded or
stuck relay), GroundFailure, OverCurrentFailure and InternalError come from the Evse; the
others from an external fault input (Evse.set_external_fault). EVCommunicationError (pilot
E/F, no diode) is a warning that keeps the status (errata: only with Preparing, SuspendedEV,
SuspendedEVSE, Finishing); WeakSignal (a modem's) does not stop charging either.

A connector set Inoperative is Unavailable even with the cable still in: a ChangeAvailability
scheduled during a transaction takes effect when the transaction ends (§5.2, transition F8),
not when the cable is pulled.

A reserved connector (ReserveNow, firmware/v16/reservation.py) is Reserved while nothing else
applies (A7): a fault, Inoperative, a transaction, Finishing come first; an identifier
accepted for it and waiting for the cable (the holder's: nobody else's is) makes it Preparing
(G2, "reservation identity is presented"); an EV plugged in without one leaves it Reserved:
only the holder may charge there.
"""

from ticks import ticks_diff, ticks_ms

FAULTING = ("PowerSwitchFailure", "GroundFailure", "OverCurrentFailure", "InternalError",
            "HighTemperature", "OverVoltage", "UnderVoltage", "OtherError")
WARNING_STATUSES = ("Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing")


def connector_status(available, error_code, plugged, ev_ready, in_transaction, offering,
                     authorized, finishing, reserved=False):
    """(status, errorCode) of one connector.

    available: not set Inoperative (or Inoperative scheduled but a transaction still runs)
    error_code: None or a ChargePointErrorCode of the connector's fault
    plugged: the pilot shows an EV (not A); ev_ready: the EV asks for energy (C or D)
    in_transaction: a transaction runs; offering: the EVSE offers energy (PWM on, allowed)
    authorized: an identifier was accepted and waits for the cable (card first)
    finishing: the transaction has ended and the cable is still plugged
    reserved: a reservation holds this connector (not one of connector 0: it names none)
    """
    if error_code in FAULTING:
        return "Faulted", error_code
    if in_transaction:
        if not offering:
            status = "SuspendedEVSE"
        elif ev_ready:
            status = "Charging"
        else:
            status = "SuspendedEV"
    elif not available:
        status = "Unavailable"
    elif finishing and plugged:
        status = "Finishing"
    elif reserved and not authorized:
        status = "Reserved"
    elif plugged or authorized:
        status = "Preparing"
    else:
        status = "Available"
    if error_code and status in WARNING_STATUSES:
        return status, error_code
    return status, "NoError"


class StatusReporter:
    """Holds each connector's last reported status and reports changes once they are stable."""

    def __init__(self, connectors, minimum_duration_s):
        self.minimum_duration_s = minimum_duration_s  # fn() -> MinimumStatusDuration
        self.reported = [None] * (connectors + 1)  # (status, errorCode) sent, per connector
        self.pending = [None] * (connectors + 1)
        self.since = [0] * (connectors + 1)

    def observe(self, connector, status):
        """Note the present (status, errorCode); returns it when it is due to be reported."""
        now = ticks_ms()
        if status != self.pending[connector]:
            self.pending[connector] = status
            self.since[connector] = now
        if status == self.reported[connector]:
            return None
        if ticks_diff(now, self.since[connector]) < self.minimum_duration_s() * 1000:
            return None
        return status

    def sent(self, connector, status):
        self.reported[connector] = status

    def forget(self):
        """After a reconnect everything is reported again."""
        self.reported = [None] * len(self.reported)
