# One connector's charging session, version-free: who is authorized, the transaction, its
# persistence across power loss and the readings kept for its end.
"""A Connector joins its Evse (the electrical side and the relay rule) to a charging session:
an accepted identifier, the transaction (started when the EV is plugged and an identifier
accepted, in either order), periodic samples, and the stop with its reason. What the central
system hears of it is the version's: `messages` (firmware/v16/txmessages.py) turns the
start, the samples and the stop into journal records, and `messages.rule(r)` gives the rules
from its configuration: r one of _TIMEOUT_S (how long an accepted identifier waits for the
cable), _SAMPLE_S (the interval of periodic samples, 0 none), _STOP_ON_UNPLUG, _STOP_ON_INVALID
(stop when the central system refuses the identifier, else no energy).

    c = Connector(1, board, messages, transaction_changed, max_deciamps=320)
    c.begin(id_tag, parent)    # accepted: start now if plugged, else wait for the cable
    c.stop("Local", id_tag)    # the relay opens first, then the stop is recorded
    c.started(server_id, accepted, parent)   # the central system's answer to the start

transaction_changed(connector, ended=None, stop_seq=None) hears of a transaction started
here (ended None) and of transaction `ended` stopped, the journal's record `stop_seq` its
stop. `installing` is set by the charge point while a firmware install waits: no new session.

The open transaction is kept in <state>/tx<N>.json (written at start and at every periodic
sample): after a power cut it is found at recover() and stopped with reason PowerLoss and the
last reading it saved. Periodic samples every sample interval, counted from the last sample:
a changed interval applies at once (60 -> 2 s samples at the next tick if 2 s have passed).

Readings kept for the transaction's end (time, Wh, W, 0.1 A: 16 bytes each) in a fixed array
of _STOP_SAMPLES (fewer when `messages.room()` says fewer fit), thinned evenly over the
session: when it is full every second one goes and from then on only every second sample is
kept (then every fourth ...), so what remains is spread evenly from the first periodic sample
to the latest: `n_kept` of them, `reading(i)` each. A power cut loses them.
"""

import json
import os
from array import array

import atomicfile
import logger
from firmware.model import evse as ev
from firmware.model.evse import Evse
from firmware.model.status import FAULTING
from ticks import ticks_add, ticks_diff, ticks_ms

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

log = logger.get("connector")

# The rules messages.rule() gives (see above).
_TIMEOUT_S = const(0)
_SAMPLE_S = const(1)
_STOP_ON_UNPLUG = const(2)
_STOP_ON_INVALID = const(3)

_STOP_SAMPLES = const(16)  # periodic readings kept for the transaction's end (see above)
_FIELDS = const(4)  # per reading: time_s, Wh, W, 0.1 A
_NO_VALUE = const(-1)  # a reading the meter did not have (power_w None)


def same_tag(a, b):
    """IdToken equality: case-insensitive (OCPP 1.6 §7.28 CiString20Type, 2.0.1 IdTokenType)."""
    return a == b or (a is not None and b is not None and a.lower() == b.lower())


class Transaction:
    """The transaction running on a connector, as persisted. `local_id` is the journal's id
    of its start; `server_id` the id the central system knows it by, once known."""

    def __init__(self, local_id, id_tag, meter_start, start_s, server_id=None, parent=None):
        self.local_id = local_id
        self.server_id = server_id
        self.id_tag = id_tag
        self.parent = parent  # the group of id_tag (its parentIdTag), when known
        self.meter_start = meter_start
        self.start_s = start_s
        self.last_wh = meter_start
        self.last_s = start_s
        self.begin = None  # type: dict | None  # the version's reading at the start
        self.aligned = []  # the version's clock-aligned readings, for the stop's data
        self.rejected = False  # the central system refused the identifier: no energy

    @property
    def id(self):
        """The central system's id once known, the journal's local id before."""
        return self.server_id if self.server_id is not None else self.local_id

    def dump(self):
        return json.dumps([self.local_id, self.server_id, self.id_tag, self.meter_start,
                           self.start_s, self.last_wh, self.last_s, self.parent])

    @staticmethod
    def load(raw):
        f = json.loads(raw)
        tx = Transaction(f[0], f[2], f[3], f[4], f[1], f[7] if len(f) > 7 else None)
        tx.last_wh, tx.last_s = f[5], f[6]
        return tx


class Connector:
    def __init__(self, n, board, messages, transaction_changed, max_deciamps=320):
        self.n = n
        self.board = board
        self.messages = messages
        self.transaction_changed = transaction_changed
        self.evse = Evse(board, n, max_deciamps=max_deciamps, on_event=self.on_event)
        self.installing = False
        self.tx = None
        self.pending_tag = None  # accepted identifier waiting for the cable (card first)
        self._pending_parent = None
        self._pending_until = ticks_ms()
        self.finishing = False
        self._last_sample_ms = ticks_ms()
        self._kept = array("l", [0] * (_STOP_SAMPLES * _FIELDS))  # periodic readings (above)
        self.n_kept = 0
        self._n_seen = 0
        self._stride = 1
        self._path = board.state_dir + "/tx%d.json" % n

    # -- persistence ---------------------------------------------------------------------
    def save_tx(self):
        atomicfile.write(self._path, self.tx.dump())

    def recover(self):
        """After a restart: a transaction still open was cut by power loss (or a crash)."""
        raw = atomicfile.read(self._path)
        if raw is None:
            return
        try:
            self.tx = Transaction.load(raw)
        except (ValueError, IndexError):
            log.error("connector %d: unreadable transaction file removed" % self.n)
            os.remove(self._path)
            return
        server = self.messages.server_id(self.tx.local_id)
        if server is not None:
            self.tx.server_id = server
        log.warn("connector %d: transaction %s was open at power loss" % (self.n, self.tx.id))
        self.stop("PowerLoss", meter_wh=self.tx.last_wh, at_s=self.tx.last_s)

    # -- facts for the status machine ----------------------------------------------------
    def offering(self):
        return self.evse.offered_deciamps > 0 and not (self.tx and self.tx.rejected)

    def usable(self):
        """May a new session begin here?"""
        return (self.evse.available and not self.installing and self.tx is None
                and self.pending_tag is None and self.evse.fault not in FAULTING)

    # -- sessions --------------------------------------------------------------------------
    def begin(self, id_tag, parent=None):
        """An accepted identifier (and its group, if known) for this connector: start now if
        plugged, else wait."""
        if self.evse.plugged:
            self.start(id_tag, parent)
        else:
            self.pending_tag = id_tag
            self._pending_parent = parent
            self._pending_until = ticks_add(ticks_ms(),
                                            self.messages.rule(_TIMEOUT_S) * 1000)
            log.info("connector %d: %s accepted, waiting for the cable" % (self.n, id_tag))

    def start(self, id_tag, parent=None):
        now_s = self.board.time_s()
        meter_wh = self.evse.meter.energy_wh()
        self.tx = self.messages.start(self, id_tag, parent, meter_wh, now_s)
        self.save_tx()
        self.transaction_changed(self)  # smart charging sets its limit before the offer
        self.pending_tag = None
        self._pending_parent = None
        self.finishing = False
        self._last_sample_ms = ticks_ms()
        self.n_kept = self._n_seen = 0
        self._stride = 1
        self.evse.authorize()
        log.info("connector %d: transaction started for %s at %d Wh" % (self.n, id_tag, meter_wh))

    def stop(self, reason, id_tag=None, meter_wh=None, at_s=None):
        """End the transaction with `reason` (Local, Remote, EVDisconnected, PowerLoss,
        DeAuthorized, HardReset, SoftReset ...); the relay opens first."""
        tx = self.tx
        if tx is None:
            return
        self.evse.deauthorize()
        if meter_wh is None:
            meter_wh = self.evse.meter.energy_wh()
        now_s = self.board.time_s() if at_s is None else at_s
        seq = self.messages.stop(self, tx, reason, id_tag, meter_wh, now_s)
        self.tx = None
        try:
            os.remove(self._path)
        except OSError:
            pass
        self.finishing = self.evse.plugged
        self.transaction_changed(self, tx, seq)  # a scheduled Inoperative applies now
        log.info("connector %d: transaction %s stopped (%s) at %d Wh" % (
            self.n, tx.id, reason, meter_wh))

    def started(self, server_id, accepted, parent=None):
        """The central system's answer to the start: its id for the transaction, its verdict
        on the identifier and the identifier's group if it names one."""
        tx = self.tx
        if tx is None:
            return
        tx.server_id = server_id
        if parent:
            tx.parent = parent
        self.save_tx()
        if not accepted:
            log.warn("connector %d: central system refused %s" % (self.n, tx.id_tag))
            if self.messages.rule(_STOP_ON_INVALID):
                self.stop("DeAuthorized")
            else:
                tx.rejected = True  # keep the transaction, but no energy (SuspendedEVSE)
                self.evse.deauthorize()

    # -- events from the Evse and time ------------------------------------------------------
    def on_event(self, evse, event):
        if event == ev.PLUGGED:
            self.finishing = False
            if self.pending_tag is not None:
                self.start(self.pending_tag, self._pending_parent)
        elif event == ev.UNPLUGGED:
            self.finishing = False
            if self.tx is not None and self.messages.rule(_STOP_ON_UNPLUG):
                self.stop("EVDisconnected")

    def tick(self, now_ms):
        if self.pending_tag is not None and ticks_diff(now_ms, self._pending_until) >= 0:
            log.info("connector %d: no cable within the connection time-out" % self.n)
            self.pending_tag = None
        if self.tx is not None:
            # From the last sample with the interval as it is now: a change applies at once.
            interval = self.messages.rule(_SAMPLE_S) * 1000
            if interval and ticks_diff(now_ms, self._last_sample_ms) >= interval:
                self._last_sample_ms = now_ms
                self.sample_periodic()

    def sample_periodic(self):
        tx = self.tx
        tx.last_wh = self.evse.meter.energy_wh()
        tx.last_s = self.board.time_s()
        self.save_tx()  # the reading a PowerLoss stop will report
        self._keep(tx.last_s, tx.last_wh)
        self.messages.sampled(self, tx)

    # -- periodic readings for the transaction's end -------------------------------------------
    def _keep(self, now_s, wh):
        """Keep this periodic reading if it falls on the stride; thin evenly when full."""
        k = self._n_seen
        self._n_seen = k + 1
        if k % self._stride:
            return
        room = self.messages.room()
        if room <= 0:
            return  # nothing is asked for at the end (or nothing would fit)
        cap = max(2, min(_STOP_SAMPLES, room))
        kept = self._kept
        while self.n_kept >= cap:  # every second one goes, the stride doubles
            j = 0
            for i in range(0, self.n_kept, 2):
                for f in range(_FIELDS):
                    kept[j * _FIELDS + f] = kept[i * _FIELDS + f]
                j += 1
            self.n_kept = j
            self._stride *= 2
        if k % self._stride:
            return
        w = self.evse.meter.power_w()
        i = self.n_kept * _FIELDS
        kept[i] = now_s
        kept[i + 1] = wh
        kept[i + 2] = _NO_VALUE if w is None else w
        kept[i + 3] = self.evse.offered_deciamps
        self.n_kept += 1

    def reading(self, i):
        """Kept reading i: (time_s, Wh, W or None, 0.1 A)."""
        k = self._kept
        i *= _FIELDS
        w = k[i + 2]
        return k[i], k[i + 1], None if w == _NO_VALUE else w, k[i + 3]
