# OCPP 1.6 transaction messages: StartTransaction, MeterValues and StopTransaction of the
# model's connectors (firmware/model/connector.py), their answers, and the configuration keys
# they follow.
"""    messages = TxMessages(settings, journal, delivery, authorizer, reservations)
    Delivery(journal, session, ..., on_answer=messages.answered)  # (through a lambda: the
    Connector(n, board, messages, transaction_changed)            #  delivery comes first)

Every transaction message goes through the journal, so it survives power loss and is sent in
order once the central system can be reached; the journal's local id stands for the
transactionId until StartTransaction.conf names it (ocppj/journal.py). `reservations` is the
lib/lazy.py LazyService of firmware/v16/reservation.py, asked at a start only whether it was
made: the StartTransaction carries the reservationId it ends (§4.8).

The answers (`answered`, the delivery's on_answer): an idTagInfo goes to the authorization
cache (the authorizer's), and StartTransaction.conf's transactionId and verdict to the
connector whose start it answers, while that transaction runs (a transaction stopped before
its answer came needs neither: its StopTransaction is sent with the id the journal mapped).

The rules: ConnectionTimeOut, MeterValueSampleInterval, StopTransactionOnEVSideDisconnect,
StopTransactionOnInvalidId. MeterValuesSampledData for every periodic sample.

StopTransaction.transactionData, in time order: the Transaction.Begin sample, the periodic
samples of StopTxnSampledData (Sample.Periodic, the readings the connector kept) and the
clock-aligned ones of StopTxnAlignedData (Sample.Clock, the first STOP_ALIGNED), then
Transaction.End. They become MeterValues, as many as fit in a journal record (the frame buffer
less 256 bytes) by the upper bounds below, evenly chosen. The PowerLoss stop has no sampled
data.
"""

import logger
from firmware.model.connector import Transaction
from ocppj.encoder import Decimal, Timestamp
from ocppj.journal import Journal

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

log = logger.get("connector")
# The configuration keys of the model's rules, by their numbers (firmware/model/connector.py:
# _TIMEOUT_S, _SAMPLE_S, _STOP_ON_UNPLUG, _STOP_ON_INVALID).
_RULES = ("ConnectionTimeOut", "MeterValueSampleInterval", "StopTransactionOnEVSideDisconnect",
          "StopTransactionOnInvalidId")

STOP_ALIGNED = 4  # clock-aligned readings kept for StopTxnAlignedData: the first ones
# Upper bounds of one MeterValue in a journal record or a frame (whichever is larger: the
# journal writes a Decimal as {"$dec":[m,s,q]}, the frame a timestamp as 24 characters), for
# the budget of transactionData: a MeterValue and its timestamp, then per SampledValue the
# fields and the value, plus the measurand's name. Measured at their largest (10-digit
# values, a 20-character idTag): 48, 93 and 179 bytes.
_MV_BYTES = const(56)
_SV_BYTES = const(96)
_STOP_BYTES = const(200)  # the rest of a StopTransaction record (ids, meterStop, reason, idTag ...)


def _mv_bytes(measurands):
    """At most how many bytes one MeterValue of `measurands` takes (see _MV_BYTES)."""
    n = _MV_BYTES
    for m in measurands:
        n += _SV_BYTES + len(m)
    return n


class TxMessages:
    _answer_to = None  # {local id: connector} of the running starts not answered yet (a dict
    # from the first start on: nothing made at start-up)

    def __init__(self, settings, journal, delivery, authorizer, reservations=None):
        self.settings = settings
        self.journal = journal
        self.delivery = delivery  # woken when the journal has a new record
        self.authorizer = authorizer  # the answers' idTagInfo go to its cache
        self.reservations = reservations

    def rule(self, r):
        """The model's rule r (firmware/model/connector.py) from its configuration key."""
        return self.settings.get(_RULES[r])

    def server_id(self, local_id):
        """The transactionId StartTransaction.conf gave the start `local_id`, if it came."""
        return self.journal.server_id(local_id)

    # -- the messages ------------------------------------------------------------------------------
    def sample(self, c, context, key):
        """A MeterValue of connector c of the measurands the configuration key `key` lists,
        or None."""
        return meter_value(c.evse, self.settings.get_list(key), context, c.board.time_s())

    def start(self, c, id_tag, parent, meter_wh, now_s):
        """StartTransaction into the journal: the new Transaction, its Begin sample kept."""
        payload = {"connectorId": c.n, "idTag": id_tag, "meterStart": meter_wh,
                   "timestamp": Timestamp(now_s)}
        lazy = self.reservations
        reservations = lazy.made if lazy is not None else None
        if reservations is not None:  # the reservation this transaction ends, if any (§4.8)
            reservation_id = reservations.use(c.n, id_tag, parent)
            if reservation_id is not None:
                payload["reservationId"] = reservation_id
        seq = self.journal.append("StartTransaction", payload, "start")
        tx = Transaction(Journal.local_id(seq), id_tag, meter_wh, now_s, parent=parent)
        tx.begin = self.sample(c, "Transaction.Begin", "StopTxnSampledData")
        if self._answer_to is None:
            self._answer_to = {}
        self._answer_to[tx.local_id] = c
        self.delivery.wake()
        return tx

    def sampled(self, c, tx):
        value = self.sample(c, "Sample.Periodic", "MeterValuesSampledData")
        if value:
            self.meter_values(c, tx, value)

    def meter_values(self, c, tx, value):
        """MeterValues of transaction tx on connector c into the journal (periodic and
        clock-aligned samples alike)."""
        self.journal.append("MeterValues", {
            "connectorId": c.n, "transactionId": tx.id, "meterValue": [value]}, "meter")
        self.delivery.wake()

    def stop(self, c, tx, reason, id_tag, meter_wh, now_s):
        """StopTransaction into the journal: its record's seq."""
        payload = {"transactionId": tx.id, "meterStop": meter_wh,
                   "timestamp": Timestamp(now_s), "reason": reason}
        if id_tag:
            payload["idTag"] = id_tag
        end = None
        if reason != "PowerLoss":
            end = self.sample(c, "Transaction.End", "StopTxnSampledData")
        data = self._transaction_data(c, tx, end, reason != "PowerLoss")
        if data:
            payload["transactionData"] = data
        try:
            seq = self.journal.append("StopTransaction", payload, "stop")
        except ValueError as e:  # over the record size after all: the stop matters, not the data
            log.error("connector %d: transactionData left out: %r" % (c.n, e))
            payload.pop("transactionData", None)
            seq = self.journal.append("StopTransaction", payload, "stop")
        del data, payload
        if self._answer_to:
            self._answer_to.pop(tx.local_id, None)  # over: its answer has nothing to start
        self.delivery.wake()
        return seq

    def answered(self, record, answer):
        """The answer to a transaction message (the Delivery's on_answer)."""
        info = answer.get("idTagInfo") if isinstance(answer, dict) else None
        payload = record.payload
        if info and "idTag" in payload:
            self.authorizer.remember(payload["idTag"], info)
        if record.action == "StartTransaction" and self._answer_to:
            c = self._answer_to.pop(record.tx, None)
            if c is not None:
                info = answer["idTagInfo"]  # required in StartTransaction.conf
                c.started(answer["transactionId"], info["status"] == "Accepted",
                          info.get("parentIdTag"))

    # -- transactionData -----------------------------------------------------------------
    def room(self, aligned=None):
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

    def _transaction_data(self, c, tx, end, periodic):
        """StopTransaction.transactionData in time order, within the record's budget."""
        measurands = self.settings.get_list("StopTxnSampledData")
        aligned = tx.aligned
        data = []
        if tx.begin:
            data.append(tx.begin)
        n = c.n_kept if periodic and measurands else 0
        step = 1
        if n:
            room = self.room(len(aligned))  # the settings may have changed meanwhile
            if room <= 0:
                n = 0
            elif n > room:
                step = (n + room - 1) // room  # every step-th: still evenly spread
        a = 0
        for i in range(0, n, step):
            at, wh, w, deciamps = c.reading(i)
            while a < len(aligned) and aligned[a]["timestamp"].s <= at:
                data.append(aligned[a])
                a += 1
            value = _meter_value(at, wh, w, deciamps, measurands, "Sample.Periodic")
            if value:
                data.append(value)
        data.extend(aligned[a:])
        if end:
            data.append(end)
        return data


def meter_value(evse, measurands, context, now_s):
    """One MeterValue of evse's readings now (a timestamp and a SampledValue per measurand),
    or None."""
    meter = evse.meter
    return _meter_value(now_s, meter.energy_wh(), meter.power_w(), evse.offered_deciamps,
                        measurands, context)


def _meter_value(at_s, wh, w, deciamps, measurands, context):
    values = []
    for m in measurands:
        if m == "Energy.Active.Import.Register":
            v = {"value": Decimal(wh, 0, True), "unit": "Wh"}
        elif m == "Power.Active.Import" and w is not None:
            v = {"value": Decimal(w, 0, True), "unit": "W"}
        elif m == "Current.Offered":
            v = {"value": Decimal(deciamps, 1, True), "unit": "A"}
        else:
            continue  # the settings only accept measurands this meter has
        v["context"] = context
        v["measurand"] = m
        values.append(v)
    if not values:
        return None
    return {"timestamp": Timestamp(at_s), "sampledValue": values}
