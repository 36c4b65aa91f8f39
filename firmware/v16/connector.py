# One connector's charging session: authorization, the transaction and its meter values.
"""A Connector joins its Evse (the electrical side and the relay rule) to OCPP: who is
authorized, the transaction (started when the EV is plugged and an identifier accepted, in
either order), sampled meter values, and the stop with its reason.

Every transaction message goes through the journal, so it survives power loss and is sent in
order once the central system can be reached. The open transaction itself is kept in
<state>/tx<N>.json (written at start and at every meter sample): after a power cut the
firmware finds it and stops it with reason PowerLoss and the last reading it saved.

Periodic samples every MeterValueSampleInterval, counted from the last sample: a changed
interval applies at once (60 -> 2 s samples at the next tick if 2 s have passed).

StopTransaction.transactionData, in time order: the Transaction.Begin sample, the periodic
samples of StopTxnSampledData (Sample.Periodic) and the clock-aligned ones of
StopTxnAlignedData (Sample.Clock, the first STOP_ALIGNED), then Transaction.End. The periodic
ones are kept as raw readings (time, Wh, W, A: 16 bytes each) in a fixed array of
STOP_SAMPLES per connector (fewer when fewer fit, see below), thinned evenly over the session:
when it is full every second one goes and from then on only every second sample is kept (then
every fourth ...), so what remains is spread evenly from the first periodic sample to the
latest. At the stop they become MeterValues, as many as fit in a journal record (the frame
buffer less 256 bytes) by the upper bounds below, again evenly chosen. A power cut loses them
(the PowerLoss stop has no sampled data).
"""

import json
import os
from array import array

import atomicfile
import logger
from firmware.model import evse as ev
from firmware.model.evse import Evse
from firmware.model.status import FAULTING
from ocppj.encoder import Decimal, Timestamp
from ocppj.journal import Journal
from ticks import ticks_add, ticks_diff, ticks_ms

log = logger.get("connector")

STOP_SAMPLES = 16  # periodic readings kept for StopTxnSampledData (see above)
STOP_ALIGNED = 4  # clock-aligned readings kept for StopTxnAlignedData: the first ones
_FIELDS = 4  # per reading: time_s, Wh, W, 0.1 A
_NONE = -1  # a reading the meter did not have (power_w None)
# Upper bounds of one MeterValue in a journal record or a frame (whichever is larger: the
# journal writes a Decimal as {"$dec":[m,s,q]}, the frame a timestamp as 24 characters), for
# the budget of transactionData: a MeterValue and its timestamp, then per SampledValue the
# fields and the value, plus the measurand's name. Measured at their largest (10-digit
# values, a 20-character idTag): 48, 93 and 179 bytes.
_MV_BYTES = 56
_SV_BYTES = 96
_STOP_BYTES = 200  # the rest of a StopTransaction record (ids, meterStop, reason, idTag ...)


def _mv_bytes(measurands):
    """At most how many bytes one MeterValue of `measurands` takes (see _MV_BYTES)."""
    n = _MV_BYTES
    for m in measurands:
        n += _SV_BYTES + len(m)
    return n


def same_tag(a, b):
    """IdToken equality: a case-insensitive string (OCPP 1.6 §7.28, CiString20Type)."""
    return a == b or (a is not None and b is not None and a.lower() == b.lower())


class OpenTx:
    """The transaction running on a connector, as persisted."""

    def __init__(self, local_id, id_tag, meter_start, start_s, server_id=None, parent=None):
        self.local_id = local_id
        self.server_id = server_id
        self.id_tag = id_tag
        self.parent = parent  # the parentIdTag of id_tag, when known: its group (§3.10)
        self.meter_start = meter_start
        self.start_s = start_s
        self.last_wh = meter_start
        self.last_s = start_s
        self.begin = None  # type: dict | None  # the MeterValue at the start (StopTxnSampledData)
        self.aligned = []  # clock-aligned readings during the transaction (StopTxnAlignedData)
        self.rejected = False  # StartTransaction.conf refused the identifier

    @property
    def id(self):
        """The central system's transactionId once known, the journal's local id before."""
        return self.server_id if self.server_id is not None else self.local_id

    def dump(self):
        return json.dumps([self.local_id, self.server_id, self.id_tag, self.meter_start,
                           self.start_s, self.last_wh, self.last_s, self.parent])

    @staticmethod
    def load(raw):
        f = json.loads(raw)
        tx = OpenTx(f[0], f[2], f[3], f[4], f[1], f[7] if len(f) > 7 else None)
        tx.last_wh, tx.last_s = f[5], f[6]
        return tx


class Connector:
    """    c = Connector(1, board, settings, journal, delivery, transaction_changed,
                  reservations, max_deciamps=320)

    transaction_changed(connector, ended=None, stop_seq=None) hears of a transaction started
    here (ended None) and of transaction `ended` stopped, its StopTransaction the journal's
    record `stop_seq`; `reservations` is the lib/lazy.py LazyService of firmware/v16/
    reservation.py, asked at a start only whether it was made. `installing` is set by the
    charge point while a firmware install waits: no new session then."""

    def __init__(self, n, board, settings, journal, delivery, transaction_changed,
                 reservations=None, max_deciamps=320):
        self.n = n
        self.board = board
        self.settings = settings
        self.journal = journal
        self.delivery = delivery  # woken when the journal has a new record
        self.transaction_changed = transaction_changed
        self.reservations = reservations
        self.evse = Evse(board, n, max_deciamps=max_deciamps, on_event=self.on_event)
        self.installing = False
        self.tx = None
        self.pending_tag = None  # accepted identifier waiting for the cable (card first)
        self._pending_parent = None
        self._pending_until = ticks_ms()
        self.finishing = False
        self._last_sample_ms = ticks_ms()
        self._kept = array("l", [0] * (STOP_SAMPLES * _FIELDS))  # periodic readings (above)
        self._n_kept = 0
        self._n_seen = 0
        self._stride = 1
        self._path = board.state_dir + "/tx%d.json" % n

    # -- persistence ---------------------------------------------------------------------
    def _save_tx(self):
        atomicfile.write(self._path, self.tx.dump())

    def recover(self):
        """After a restart: a transaction still open was cut by power loss (or a crash)."""
        raw = atomicfile.read(self._path)
        if raw is None:
            return
        try:
            self.tx = OpenTx.load(raw)
        except (ValueError, IndexError):
            log.error("connector %d: unreadable transaction file removed" % self.n)
            os.remove(self._path)
            return
        server = self.journal.server_id(self.tx.local_id)
        if server is not None:
            self.tx.server_id = server
        log.warn("connector %d: transaction %d was open at power loss" % (self.n, self.tx.id))
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
        """An accepted identifier (and its parentIdTag, if known) for this connector: start
        now if plugged, else wait."""
        if self.evse.plugged:
            self.start(id_tag, parent)
        else:
            self.pending_tag = id_tag
            self._pending_parent = parent
            self._pending_until = ticks_add(ticks_ms(),
                                            self.settings.get("ConnectionTimeOut") * 1000)
            log.info("connector %d: %s accepted, waiting for the cable" % (self.n, id_tag))

    def start(self, id_tag, parent=None):
        now_s = self.board.time_s()
        meter_wh = self.evse.meter.energy_wh()
        payload = {"connectorId": self.n, "idTag": id_tag, "meterStart": meter_wh,
                   "timestamp": Timestamp(now_s)}
        lazy = self.reservations
        reservations = lazy.made if lazy is not None else None
        if reservations is not None:  # the reservation this transaction ends, if any (§4.8)
            reservation_id = reservations.use(self.n, id_tag, parent)
            if reservation_id is not None:
                payload["reservationId"] = reservation_id
        seq = self.journal.append("StartTransaction", payload, "start")
        self.tx = OpenTx(Journal.local_id(seq), id_tag, meter_wh, now_s, parent=parent)
        self.tx.begin = self.sample("Transaction.Begin", "StopTxnSampledData")
        self._save_tx()
        self.transaction_changed(self)  # smart charging sets its limit before the offer
        self.pending_tag = None
        self._pending_parent = None
        self.finishing = False
        self._last_sample_ms = ticks_ms()
        self._n_kept = self._n_seen = 0
        self._stride = 1
        self.evse.authorize()
        self.delivery.wake()
        log.info("connector %d: transaction started for %s at %d Wh" % (self.n, id_tag, meter_wh))

    def stop(self, reason, id_tag=None, meter_wh=None, at_s=None):
        """End the transaction with `reason` (a 1.6 Reason); the relay opens first."""
        tx = self.tx
        if tx is None:
            return
        self.evse.deauthorize()
        if meter_wh is None:
            meter_wh = self.evse.meter.energy_wh()
        now_s = self.board.time_s() if at_s is None else at_s
        payload = {"transactionId": tx.id, "meterStop": meter_wh,
                   "timestamp": Timestamp(now_s), "reason": reason}
        if id_tag:
            payload["idTag"] = id_tag
        end = None
        if reason != "PowerLoss":
            end = self.sample("Transaction.End", "StopTxnSampledData")
        data = self._transaction_data(tx, end, reason != "PowerLoss")
        if data:
            payload["transactionData"] = data
        try:
            seq = self.journal.append("StopTransaction", payload, "stop")
        except ValueError as e:  # over the record size after all: the stop matters, not the data
            log.error("connector %d: transactionData left out: %r" % (self.n, e))
            payload.pop("transactionData", None)
            seq = self.journal.append("StopTransaction", payload, "stop")
        del data, payload
        self.tx = None
        try:
            os.remove(self._path)
        except OSError:
            pass
        self.finishing = self.evse.plugged
        self.transaction_changed(self, tx, seq)  # a scheduled Inoperative applies now
        self.delivery.wake()
        log.info("connector %d: transaction %d stopped (%s) at %d Wh" % (
            self.n, tx.id, reason, meter_wh))

    def started(self, answer):
        """StartTransaction.conf: the central system's id and its verdict on the identifier
        (its parentIdTag, the group, if it names one)."""
        tx = self.tx
        if tx is None:
            return
        tx.server_id = answer["transactionId"]
        parent = answer["idTagInfo"].get("parentIdTag")
        if parent:
            tx.parent = parent
        self._save_tx()
        status = answer["idTagInfo"]["status"]
        if status != "Accepted":
            log.warn("connector %d: central system refused %s (%s)" % (self.n, tx.id_tag, status))
            if self.settings.get("StopTransactionOnInvalidId"):
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
            if self.tx is not None and self.settings.get("StopTransactionOnEVSideDisconnect"):
                self.stop("EVDisconnected")

    def tick(self, now_ms):
        if self.pending_tag is not None and ticks_diff(now_ms, self._pending_until) >= 0:
            log.info("connector %d: no cable within ConnectionTimeOut" % self.n)
            self.pending_tag = None
        if self.tx is not None:
            # From the last sample with the interval as it is now: a change applies at once.
            interval = self.settings.get("MeterValueSampleInterval") * 1000
            if interval and ticks_diff(now_ms, self._last_sample_ms) >= interval:
                self._last_sample_ms = now_ms
                self.sample_periodic()

    def sample(self, context, key):
        """A MeterValue of the measurands the configuration key `key` lists, or None."""
        return meter_value(self.evse, self.settings.get_list(key), context,
                           self.board.time_s())

    def sample_periodic(self):
        tx = self.tx
        value = self.sample("Sample.Periodic", "MeterValuesSampledData")
        tx.last_wh = self.evse.meter.energy_wh()
        tx.last_s = self.board.time_s()
        self._save_tx()  # the reading a PowerLoss stop will report
        self._keep(tx.last_s, tx.last_wh)
        if value:
            self.journal.append("MeterValues", {
                "connectorId": self.n, "transactionId": tx.id, "meterValue": [value]}, "meter")
            self.delivery.wake()

    # -- periodic readings for StopTxnSampledData ----------------------------------------------
    def _room(self, aligned=None):
        """How many periodic readings fit a StopTransaction beside Begin, End and `aligned`
        clock-aligned ones (None: as many as may come), with the measurands as configured
        now."""
        settings = self.settings
        measurands = settings.get_list("StopTxnSampledData")
        if not measurands:
            return 0
        clock = settings.get_list("StopTxnAlignedData")
        if aligned is None:
            aligned = STOP_ALIGNED if clock else 0
        one = _mv_bytes(measurands)
        return (self.journal.max_record_bytes - _STOP_BYTES - 2 * one -
                aligned * _mv_bytes(clock)) // one

    def _keep(self, now_s, wh):
        """Keep this periodic reading if it falls on the stride; thin evenly when full."""
        k = self._n_seen
        self._n_seen = k + 1
        if k % self._stride:
            return
        room = self._room()
        if room <= 0:
            return  # StopTxnSampledData is empty (or nothing would fit)
        cap = max(2, min(STOP_SAMPLES, room))
        kept = self._kept
        while self._n_kept >= cap:  # every second one goes, the stride doubles
            j = 0
            for i in range(0, self._n_kept, 2):
                for f in range(_FIELDS):
                    kept[j * _FIELDS + f] = kept[i * _FIELDS + f]
                j += 1
            self._n_kept = j
            self._stride *= 2
        if k % self._stride:
            return
        w = self.evse.meter.power_w()
        i = self._n_kept * _FIELDS
        kept[i] = now_s
        kept[i + 1] = wh
        kept[i + 2] = _NONE if w is None else w
        kept[i + 3] = self.evse.offered_deciamps
        self._n_kept += 1

    def _transaction_data(self, tx, end, periodic):
        """StopTransaction.transactionData in time order, within the record's budget."""
        measurands = self.settings.get_list("StopTxnSampledData")
        aligned = tx.aligned
        data = []
        if tx.begin:
            data.append(tx.begin)
        n = self._n_kept if periodic and measurands else 0
        step = 1
        if n:
            room = self._room(len(aligned))  # the settings may have changed meanwhile
            if room <= 0:
                n = 0
            elif n > room:
                step = (n + room - 1) // room  # every step-th: still evenly spread
        a = 0
        for i in range(0, n, step):
            at = self._kept[i * _FIELDS]
            while a < len(aligned) and aligned[a]["timestamp"].s <= at:
                data.append(aligned[a])
                a += 1
            data.append(self._reading(i, measurands))
        data.extend(aligned[a:])
        if end:
            data.append(end)
        return data

    def _reading(self, i, measurands):
        """Kept reading i as a MeterValue of `measurands`, context Sample.Periodic."""
        k = self._kept
        i *= _FIELDS
        values = []
        for m in measurands:
            if m == "Energy.Active.Import.Register":
                v = {"value": Decimal(k[i + 1], 0, True), "unit": "Wh"}
            elif m == "Power.Active.Import":
                if k[i + 2] == _NONE:
                    continue
                v = {"value": Decimal(k[i + 2], 0, True), "unit": "W"}
            elif m == "Current.Offered":
                v = {"value": Decimal(k[i + 3], 1, True), "unit": "A"}
            else:
                continue
            v["context"] = "Sample.Periodic"
            v["measurand"] = m
            values.append(v)
        return {"timestamp": Timestamp(k[i]), "sampledValue": values}


def meter_value(evse, measurands, context, now_s):
    """One MeterValue (a timestamp and a SampledValue per measurand), or None."""
    values = []
    for m in measurands:
        if m == "Energy.Active.Import.Register":
            v = {"value": Decimal(evse.meter.energy_wh(), 0, True), "unit": "Wh"}
        elif m == "Power.Active.Import":
            v = {"value": Decimal(evse.meter.power_w(), 0, True), "unit": "W"}
        elif m == "Current.Offered":
            v = {"value": Decimal(evse.offered_deciamps, 1, True), "unit": "A"}
        else:
            continue  # the settings only accept measurands this meter has
        v["context"] = context
        v["measurand"] = m
        values.append(v)
    if not values:
        return None
    return {"timestamp": Timestamp(now_s), "sampledValue": values}
