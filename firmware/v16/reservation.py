# OCPP 1.6 Reservation profile: ReserveNow, CancelReservation and the reservations on flash.
"""The reservations a central system made (§3.11, §5.1, §5.13), and who may charge where.

    reservations = Reservations(cp.connectors, cp.status_of, settings, board,
                                state_dir + "/reservations.json")   # loads what was kept
    reservations.register(session)            # ReserveNow, CancelReservation
    reservations.reserved(1)                  # connector 1 shows Reserved
    reservations.choose(id_tag, parent)       # the connector a card may start on, or None
    reservations.use(1, id_tag, parent)       # the reservationId a start there ends, or None
    reservations.tick(now_s)                  # from the control loop: expired ones end

Made by the application at the first ReserveNow or CancelReservation (lib/lazy.py), or at
start-up when the file exists: a charge point nobody reserves never imports this module. The
ChargePoint (firmware/v16/chargepoint.py) asks it from its hooks once it is made; what it needs
of the charge point comes in when it is made: the model's connectors, status_of(n) (the
connector's (status, errorCode), 0 the charge point), the settings and the board's clock.

A reservation is [reservationId, connectorId, expiry (s since 2000), idTag, parentIdTag or
None], all of them in one file (atomicfile: a torn file is logged and ignored), written at
every change and removed when the last one ends. There are never more than connectors: each
holds one, the one it names or (connector 0) one of the free ones.

Who holds a reservation (§5.13): its idTag (case-insensitive, §7.28), or a card whose
parentIdTag (the Authorize answer or the authorization cache) equals the reservation's
parentIdTag. A reserved connector takes nobody else's card or RemoteStartTransaction; a card
refused there may start on another free connector. Before the Authorize of a card its group is
not known: a reservation that names a parentIdTag may be the card's, and is decided once the
answer is in.

Connector 0 (ReserveConnectorZeroSupported): no connector is reserved or shown Reserved (§5.13:
"SHALL NOT reserve a specific connector"); instead a card or a RemoteStartTransaction of
someone else may only take a free connector while as many stay free (usable, not reserved
themselves) as connector-0 reservations are held by others.

A reservation ends when its holder starts a transaction on its connector (on any, for
connector 0; the StartTransaction.req carries its reservationId, §4.8), when it is cancelled,
when it expires (the control loop; the connector goes back to Available and that is reported),
and when its connector (connector 0: the charge point) becomes Faulted or Unavailable (§5.13).

ReserveNow answers, for the connector named (or, for connector 0, all of them): Rejected for a
connector this charge point does not have, for connector 0 while ReserveConnectorZeroSupported
is false, and for an expiryDate already past; Faulted, Unavailable or Occupied (a transaction,
an EV or an accepted identifier on it, Finishing, another reservation, or the last free
connector kept for a connector-0 reservation) as the connector is; else Accepted. A
reservationId already held is replaced by the new reservation (§5.13) when that one can be
made, and kept as it was when it cannot.
"""

import json
import os

import atomicfile
import logger
from firmware.model.connector import same_tag
from ocppj import rfc3339

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

_ID = const(0)
_N = const(1)
_EXPIRY = const(2)
_TAG = const(3)
_PARENT = const(4)

log = logger.get("reservation")


class Reservations:
    def __init__(self, connectors, status_of, settings, clock, path):
        self.connectors = connectors
        self.status_of = status_of
        self.settings = settings
        self.clock = clock  # the board: clock_set(), time_s()
        self.path = path
        self.held = []  # the reservations, as described above
        self._load()

    def register(self, session):
        session.handlers["ReserveNow"] = self.reserve_now
        session.handlers["CancelReservation"] = self.cancel_reservation

    # -- flash ---------------------------------------------------------------------------------
    def _load(self):
        raw = atomicfile.read(self.path)
        if raw is None:
            if atomicfile.exists(self.path):
                self._drop("torn")
            return
        try:
            held = json.loads(raw)
            for r in held:
                if not _valid(r, len(self.connectors)):
                    raise ValueError(repr(r))
        except (ValueError, TypeError) as e:
            self._drop("unreadable (%s)" % e)
            return
        self.held = held
        log.info("%d reservation(s) kept on flash" % len(held))

    def _drop(self, why):
        log.error("reservations file %s: ignored, no reservation kept" % why)
        _remove(self.path)

    def _save(self):
        if self.held:
            atomicfile.write(self.path, json.dumps(self.held))
        else:  # none left: the next start-up does not even import this module
            _remove(self.path)

    # -- the central system's requests -----------------------------------------------------------
    def reserve_now(self, p):
        n = p["connectorId"]
        rid = p["reservationId"]
        if not 0 <= n <= len(self.connectors):
            return {"status": "Rejected"}
        if n == 0 and not self.settings.get("ReserveConnectorZeroSupported"):
            return {"status": "Rejected"}
        expiry_s = rfc3339.to_s2000(p["expiryDate"])  # the schema checked its form
        clock = self.clock
        if clock.clock_set() and expiry_s <= clock.time_s():
            log.warn("reservation %d: expiryDate %s has passed" % (rid, p["expiryDate"]))
            return {"status": "Rejected"}
        old = self._find(rid)
        status = self._status_for(n, old)
        if status == "Accepted":
            if old is not None:
                self.held.remove(old)
            self.held.append([rid, n, expiry_s, p["idTag"], p.get("parentIdTag")])
            self._save()
            log.info("reservation %d: connector %d for %s until %s%s" % (
                rid, n, p["idTag"], p["expiryDate"], " (replaced)" if old else ""))
        return {"status": status}

    def cancel_reservation(self, p):
        r = self._find(p["reservationId"])
        if r is None:
            return {"status": "Rejected"}
        self._end(r, "cancelled")
        self._save()
        return {"status": "Accepted"}

    def _status_for(self, n, old):
        """ReserveNow's answer for connector n (0: any), `old` the reservation it replaces."""
        states = [self._state(c, old) for c in self.connectors]
        others = self._zero_count(old)  # connector-0 reservations that stay
        if n:
            state = states[n - 1]
            if state != "Available":
                return state
            free = states.count("Available") - 1  # what is left for connector 0's holders
            return "Accepted" if free >= others else "Occupied"
        if self.status_of(0)[0] == "Unavailable":
            return "Unavailable"
        if states.count("Available") > others:
            return "Accepted"
        if states.count("Faulted") == len(states):
            return "Faulted"
        if states.count("Faulted") + states.count("Unavailable") == len(states):
            return "Unavailable"
        return "Occupied"

    def _state(self, c, old):
        """Available, Faulted, Unavailable or Occupied: connector c for a new reservation."""
        status = self.status_of(c.n)[0]
        if status == "Reserved":  # free again if it is reserved by the one to be replaced
            return "Available" if self._on(c.n) is old else "Occupied"
        if status in ("Available", "Faulted", "Unavailable"):
            return status
        return "Occupied"  # Preparing, Charging, Suspended..., Finishing

    # -- the ChargePoint's hooks -----------------------------------------------------------------
    def reserved(self, n):
        """Connector n (1 ...) is held by a reservation: its status is Reserved."""
        return self._on(n) is not None

    def choose(self, id_tag, parent=None, asked=True, only=None):
        """The usable connector where id_tag (of group `parent`) may start, or None: a plugged
        one first, then one reserved for it, then the first. `asked`: parent is what the
        central system (or the cache) said; before that, a reservation with a parentIdTag may
        be the card's. `only`: that connector or None (RemoteStartTransaction's connectorId)."""
        best = None
        rank = -1
        for c in self.connectors:
            if (only is not None and c is not only) or not c.usable():
                continue
            if not self.allows(c, id_tag, parent, asked):
                if asked:
                    log.info("connector %d kept for a reservation: not for %s" % (c.n, id_tag))
                continue
            r = (2 if c.evse.plugged else 0) + (1 if self.reserved(c.n) else 0)
            if r > rank:
                best = c
                rank = r
        return best

    def allows(self, c, id_tag, parent, asked=True):
        """May id_tag start on connector c? Its reservation's holder only; and an unreserved
        one while enough stay free for connector 0's holders."""
        r = self._on(c.n)
        if r is not None:
            return _holds(r, id_tag, parent, asked)
        others = 0
        for r in self.held:
            if r[_N] == 0 and not _holds(r, id_tag, parent, asked):
                others += 1
        if not others:
            return True
        free = 0
        for d in self.connectors:
            if d is not c and d.usable() and not self.reserved(d.n):
                free += 1
        return free >= others

    def use(self, n, id_tag, parent):
        """A transaction of id_tag starts on connector n: the reservationId it ends (that of
        the connector, else a connector-0 one it holds), or None."""
        r = self._on(n)
        if r is None or not _holds(r, id_tag, parent, True):
            r = None
            for z in self.held:
                if z[_N] == 0 and _holds(z, id_tag, parent, True):
                    r = z
                    break
        if r is None:
            return None
        self._end(r, "used on connector %d" % n)
        self._save()
        return r[_ID]

    def tick(self, now_s):
        """End the expired reservations, and those whose connector (connector 0: the charge
        point) is Faulted or Unavailable (§5.13)."""
        held = self.held
        if not held:
            return
        clock_set = self.clock.clock_set()  # before it is set, time says nothing of expiry
        ended = False
        i = len(held)
        while i:
            i -= 1
            r = held[i]
            status = self.status_of(r[_N])[0]
            if clock_set and now_s >= r[_EXPIRY]:
                self._end(r, "expired")
                ended = True
            elif status in ("Faulted", "Unavailable"):
                self._end(r, "ended: connector %d %s" % (r[_N], status))
                ended = True
        if ended:
            self._save()

    # -- the list ----------------------------------------------------------------------------------
    def _find(self, rid):
        for r in self.held:
            if r[_ID] == rid:
                return r
        return None

    def _on(self, n):
        for r in self.held:
            if r[_N] == n:
                return r
        return None

    def _zero_count(self, old=None):
        count = 0
        for r in self.held:
            if r[_N] == 0 and r is not old:
                count += 1
        return count

    def _end(self, r, why):
        self.held.remove(r)
        log.info("reservation %d (connector %d, %s) %s" % (r[_ID], r[_N], r[_TAG], why))


def _holds(r, id_tag, parent, asked):
    """Is (id_tag, parent) the holder of reservation r? Unasked, a group may match."""
    if same_tag(r[_TAG], id_tag):
        return True
    if r[_PARENT] is None:
        return False
    if not asked:
        return True
    return parent is not None and same_tag(r[_PARENT], parent)


def _valid(r, connectors):
    return (isinstance(r, list) and len(r) == 5 and isinstance(r[_ID], int)
            and isinstance(r[_N], int) and 0 <= r[_N] <= connectors
            and isinstance(r[_EXPIRY], int) and isinstance(r[_TAG], str)
            and (r[_PARENT] is None or isinstance(r[_PARENT], str)))


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass
