# One connector's charging session: authorization, the transaction and its meter values.
"""A Connector joins its Evse (the electrical side and the relay rule) to OCPP: who is
authorized, the transaction (started when the EV is plugged and an identifier accepted, in
either order), sampled meter values, and the stop with its reason.

Every transaction message goes through the journal, so it survives power loss and is sent in
order once the central system can be reached. The open transaction itself is kept in
<state>/tx<N>.json (written at start and at every meter sample): after a power cut the
firmware finds it and stops it with reason PowerLoss and the last reading it saved.
"""

import json
import os

import atomicfile
import logger
from firmware import evse as ev
from firmware.evse import Evse
from ocppj.encoder import Decimal, Timestamp
from ocppj.journal import Journal
from ticks import ticks_add, ticks_diff, ticks_ms

log = logger.get("connector")


class OpenTx:
    """The transaction running on a connector, as persisted."""

    def __init__(self, local_id, id_tag, meter_start, start_s, server_id=None):
        self.local_id = local_id
        self.server_id = server_id
        self.id_tag = id_tag
        self.meter_start = meter_start
        self.start_s = start_s
        self.last_wh = meter_start
        self.last_s = start_s
        self.begin = None  # sampled values at the start, for StopTxnSampledData
        self.aligned = []  # clock-aligned readings during the transaction (StopTxnAlignedData)
        self.rejected = False  # StartTransaction.conf refused the identifier

    @property
    def id(self):
        """The central system's transactionId once known, the journal's local id before."""
        return self.server_id if self.server_id is not None else self.local_id

    def dump(self):
        return json.dumps([self.local_id, self.server_id, self.id_tag, self.meter_start,
                           self.start_s, self.last_wh, self.last_s])

    @staticmethod
    def load(raw):
        f = json.loads(raw)
        tx = OpenTx(f[0], f[2], f[3], f[4], f[1])
        tx.last_wh, tx.last_s = f[5], f[6]
        return tx


class Connector:
    def __init__(self, cp, n, max_deciamps):
        self.cp = cp  # the ChargePoint: settings, journal, delivery, board, authorizer
        self.n = n
        self.evse = Evse(cp.board, n, max_deciamps=max_deciamps,
                         on_event=lambda evse, event: self.on_event(event))
        self.tx = None
        self.pending_tag = None  # accepted identifier waiting for the cable (card first)
        self._pending_until = ticks_ms()
        self.finishing = False
        self.available = True
        self.scheduled_off = False  # Inoperative, to apply when the transaction ends (§5.2)
        self._next_sample_ms = ticks_ms()
        self._path = cp.board.state_dir + "/tx%d.json" % n

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
        server = self.cp.journal.server_id(self.tx.local_id)
        if server is not None:
            self.tx.server_id = server
        log.warn("connector %d: transaction %d was open at power loss" % (self.n, self.tx.id))
        self.stop("PowerLoss", meter_wh=self.tx.last_wh, at_s=self.tx.last_s)

    # -- facts for the status machine ----------------------------------------------------
    def offering(self):
        return self.evse.offered_deciamps > 0 and not (self.tx and self.tx.rejected)

    def usable(self):
        """May a new session begin here?"""
        return (self.available and not self.cp.installing and self.tx is None
                and self.pending_tag is None and self.evse.fault not in FAULTED)

    # -- sessions --------------------------------------------------------------------------
    def begin(self, id_tag):
        """An accepted identifier for this connector: start now if plugged, else wait."""
        if self.evse.plugged:
            self.start(id_tag)
        else:
            self.pending_tag = id_tag
            self._pending_until = ticks_add(ticks_ms(),
                                            self.cp.settings.get("ConnectionTimeOut") * 1000)
            log.info("connector %d: %s accepted, waiting for the cable" % (self.n, id_tag))

    def start(self, id_tag):
        now_s = self.cp.board.time_s()
        meter_wh = self.evse.meter.energy_wh()
        seq = self.cp.journal.append("StartTransaction", {
            "connectorId": self.n, "idTag": id_tag, "meterStart": meter_wh,
            "timestamp": Timestamp(now_s)}, "start")
        self.tx = OpenTx(Journal.local_id(seq), id_tag, meter_wh, now_s)
        self.tx.begin = self.cp.sample(self, "Transaction.Begin", "StopTxnSampledData")
        self._save_tx()
        self.pending_tag = None
        self.finishing = False
        self._next_sample_ms = ticks_add(ticks_ms(), self._sample_interval_ms())
        self.evse.authorize()
        self.cp.delivery.wake()
        log.info("connector %d: transaction started for %s at %d Wh" % (self.n, id_tag, meter_wh))

    def stop(self, reason, id_tag=None, meter_wh=None, at_s=None):
        """End the transaction with `reason` (a 1.6 Reason); the relay opens first."""
        tx = self.tx
        if tx is None:
            return
        self.evse.deauthorize()
        if meter_wh is None:
            meter_wh = self.evse.meter.energy_wh()
        now_s = self.cp.board.time_s() if at_s is None else at_s
        payload = {"transactionId": tx.id, "meterStop": meter_wh,
                   "timestamp": Timestamp(now_s), "reason": reason}
        if id_tag:
            payload["idTag"] = id_tag
        data = []
        if tx.begin:
            data.append(tx.begin)
        if reason != "PowerLoss":
            end = self.cp.sample(self, "Transaction.End", "StopTxnSampledData")
            if end:
                data.append(end)
        data.extend(tx.aligned)
        if data:
            payload["transactionData"] = data
        self.cp.journal.append("StopTransaction", payload, "stop")
        self.tx = None
        try:
            os.remove(self._path)
        except OSError:
            pass
        self.finishing = self.evse.plugged
        if self.scheduled_off:
            self.scheduled_off = False
            self.cp.apply_availability(self, False)
        self.cp.delivery.wake()
        log.info("connector %d: transaction %d stopped (%s) at %d Wh" % (
            self.n, tx.id, reason, meter_wh))

    def started(self, answer):
        """StartTransaction.conf: the central system's id and its verdict on the identifier."""
        tx = self.tx
        if tx is None:
            return
        tx.server_id = answer["transactionId"]
        self._save_tx()
        status = answer["idTagInfo"]["status"]
        if status != "Accepted":
            log.warn("connector %d: central system refused %s (%s)" % (self.n, tx.id_tag, status))
            if self.cp.settings.get("StopTransactionOnInvalidId"):
                self.stop("DeAuthorized")
            else:
                tx.rejected = True  # keep the transaction, but no energy (SuspendedEVSE)
                self.evse.deauthorize()

    # -- events from the Evse and time ------------------------------------------------------
    def on_event(self, event):
        if event == ev.PLUGGED:
            self.finishing = False
            if self.pending_tag is not None:
                self.start(self.pending_tag)
        elif event == ev.UNPLUGGED:
            self.finishing = False
            if self.tx is not None and self.cp.settings.get("StopTransactionOnEVSideDisconnect"):
                self.stop("EVDisconnected")

    def tick(self, now_ms):
        if self.pending_tag is not None and ticks_diff(now_ms, self._pending_until) >= 0:
            log.info("connector %d: no cable within ConnectionTimeOut" % self.n)
            self.pending_tag = None
        if self.tx is not None and self._sample_interval_ms() and \
                ticks_diff(now_ms, self._next_sample_ms) >= 0:
            self._next_sample_ms = ticks_add(now_ms, self._sample_interval_ms())
            self.sample_periodic()

    def _sample_interval_ms(self):
        return self.cp.settings.get("MeterValueSampleInterval") * 1000

    def sample_periodic(self):
        tx = self.tx
        value = self.cp.sample(self, "Sample.Periodic", "MeterValuesSampledData")
        tx.last_wh = self.evse.meter.energy_wh()
        tx.last_s = self.cp.board.time_s()
        self._save_tx()  # the reading a PowerLoss stop will report
        if value:
            self.cp.journal.append("MeterValues", {
                "connectorId": self.n, "transactionId": tx.id, "meterValue": [value]}, "meter")
            self.cp.delivery.wake()


# Error codes that make a connector Faulted (no new session may begin).
FAULTED = (ev.POWER_SWITCH_FAILURE, ev.GROUND_FAILURE, ev.OVER_CURRENT_FAILURE, ev.INTERNAL_ERROR)


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
