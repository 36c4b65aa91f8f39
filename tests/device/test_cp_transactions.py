# Device tests of transactions on a real ChargePoint (issue 9): idTags whatever their case,
# stopping by group, the sample interval, StopTxnSampledData, scheduled availability, faults.
import gc

from cprig import Rig, accept_all, answers_with_parents
from devtest import measures_heap
from firmware.model.status import connector_status
from ocppj.encoder import Encoder
from ticks import ticks_add, ticks_ms

PARENTS = {"CARD-1": "FAMILY", "card-2": "family", "CARD-3": "OTHERS"}


with_parents = answers_with_parents(PARENTS)


def authorized(rig):
    return [p["idTag"] for p in rig.cs.sent("Authorize")]


async def test_the_starting_card_stops_whatever_its_case_without_an_authorize():
    rig = Rig()
    try:
        rig.plug()
        await rig.cp.on_card("04a2b3c4")
        c = rig.cp.connectors[0]
        assert c.tx is not None and rig.records("StartTransaction")[0]["idTag"] == "04a2b3c4"
        await rig.cp.on_card("04A2B3C4")
        assert c.tx is None, "the same card, in capitals, stopped it"
        stop = rig.records("StopTransaction")[0]
        assert stop["reason"] == "Local" and stop["idTag"] == "04A2B3C4", stop  # as presented
        assert authorized(rig) == ["04a2b3c4"], "no Authorize to stop with the same identifier"
    finally:
        rig.close()


async def test_a_card_of_the_same_group_stops_after_an_authorize():
    rig = Rig(answer=with_parents)
    try:
        rig.plug()
        await rig.cp.on_card("CARD-1")
        c = rig.cp.connectors[0]
        assert c.tx is not None
        await rig.cp.on_card("CARD-3")  # another group
        assert c.tx is not None and authorized(rig) == ["CARD-1", "CARD-3"]
        await rig.cp.on_card("card-2")  # parentIdTag "family": the same group, whatever the case
        assert authorized(rig) == ["CARD-1", "CARD-3", "card-2"]
        assert c.tx is None, "stopped by a card of the same group"
        stop = rig.records("StopTransaction")[0]
        assert stop["reason"] == "Local" and stop["idTag"] == "card-2", stop
    finally:
        rig.close()


async def test_the_group_is_known_from_start_transaction_without_a_cache():
    rig = Rig(answer=with_parents, config={"AuthorizationCacheEnabled": "false"})
    rig.start()  # the journal's sender: StartTransaction.conf tells the parent
    try:
        rig.plug()
        answer = await rig.cs.request("RemoteStartTransaction", {"idTag": "CARD-1",
                                                                 "connectorId": 1})
        assert answer[2] == {"status": "Accepted"}
        c = rig.cp.connectors[0]
        assert await rig.until(lambda: c.tx is not None and c.tx.server_id == 7)
        assert not authorized(rig)
        rig.board.present_card("CARD-2")  # no parent for this spelling: not the group
        assert await rig.until(lambda: authorized(rig) == ["CARD-2"])
        assert c.tx is not None
        rig.board.present_card("card-2")
        assert await rig.until(lambda: c.tx is None), "stopped by the group"
        assert await rig.until(lambda: rig.cs.sent("StopTransaction"))
        assert rig.cs.sent("StopTransaction")[0]["idTag"] == "card-2"
    finally:
        rig.close()


def late_answers(action, payload):
    """CARD-A's start refused (transaction 7), CARD-B's accepted with a group (transaction 8)."""
    if action == "StartTransaction":
        if payload["idTag"] == "CARD-A":
            return [3, {"transactionId": 7, "idTagInfo": {"status": "Invalid"}}]
        return [3, {"transactionId": 8, "idTagInfo": {"status": "Accepted",
                                                      "parentIdTag": "GROUP-B"}}]
    return accept_all(action, payload)


async def test_a_start_answered_after_its_transaction_stopped_leaves_the_next_one_alone():
    rig = Rig(answer=late_answers)  # the journal's sender not started yet: no answer comes
    try:
        rig.plug()
        await rig.cp.on_card("CARD-A")
        await rig.cp.on_card("CARD-A")  # stopped before its StartTransaction was answered
        await rig.cp.on_card("CARD-B")
        c = rig.cp.connectors[0]
        assert c.tx is not None and c.tx.id_tag == "CARD-B"
        rig.start()
        assert await rig.until(lambda: c.tx.server_id == 8), "its own answer: transaction 8"
        assert await rig.until(lambda: len(rig.cs.sent("StopTransaction")) == 1)
        assert rig.cs.sent("StopTransaction")[0]["transactionId"] == 7, "the id mapped for A"
        assert c.tx is not None and not c.tx.rejected, "A's Invalid did not stop or block B"
        assert c.tx.parent == "GROUP-B", "the group StartTransaction.conf names"
        assert rig.authorizer.parent("CARD-B") == "GROUP-B", "its idTagInfo went to the cache"
    finally:
        rig.close()


def test_a_shorter_sample_interval_applies_at_once():
    rig = Rig(config={"MeterValueSampleInterval": "60",
                      "MeterValuesSampledData": "Energy.Active.Import.Register"})
    try:
        rig.plug()
        c = rig.cp.connectors[0]
        c.begin("TAG-I")
        t = ticks_ms()
        c.tick(ticks_add(t, 9000))
        assert not rig.records("MeterValues")
        assert rig.settings.change("MeterValueSampleInterval", "2") == "Accepted"
        c.tick(ticks_add(t, 9100))
        assert len(rig.records("MeterValues")) == 1, "9 s since the start, over the new 2 s"
        c.tick(ticks_add(t, 10000))
        assert len(rig.records("MeterValues")) == 1
        c.tick(ticks_add(t, 11200))
        assert len(rig.records("MeterValues")) == 2, "then every 2 s"
        assert rig.settings.change("MeterValueSampleInterval", "60") == "Accepted"
        c.tick(ticks_add(t, 14000))
        assert len(rig.records("MeterValues")) == 2, "a longer one also applies at once"
    finally:
        rig.close()


ALL = "Energy.Active.Import.Register,Power.Active.Import,Current.Offered"


def long_session(rig, samples, aligned_every=0):
    """A transaction with `samples` periodic samples 1 s apart, from 50 s past a multiple of
    `aligned_every` (ClockAlignedDataInterval); its StopTransaction payload."""
    if aligned_every:
        assert rig.settings.change("ClockAlignedDataInterval", str(aligned_every)) == "Accepted"
    t0_s = rig.board.time_s() // 1000 * 1000 + 50
    rig.board.set_time_s(t0_s)
    rig.plug()
    rig.board.sim[0].ev = "C"
    c = rig.cp.connectors[0]
    c.begin("TAG-LONG")
    t = ticks_ms()
    for i in range(1, samples + 1):
        rig.board.set_time_s(t0_s + i)
        c.tick(ticks_add(t, i * 1000 + 50))
        if aligned_every:
            rig.cp._aligned(t0_s + i)  # the control loop's clock-aligned step
    rig.board.set_time_s(t0_s + samples + 1)
    c.stop("Local", id_tag="TAG-LONG")
    return rig.records("StopTransaction")[0]


def contexts(payload):
    return [mv["sampledValue"][0]["context"] for mv in payload["transactionData"]]


def times(payload, context=None):
    return [mv["timestamp"].s for mv in payload["transactionData"]
            if context in (None, mv["sampledValue"][0]["context"])]


def evenly(periodic):
    gaps = [b - a for a, b in zip(periodic, periodic[1:])]
    return max(gaps) == min(gaps)


def test_stop_txn_sampled_data_has_the_periodic_samples_thinned_evenly():
    rig = Rig(config={"MeterValueSampleInterval": "1",
                      "StopTxnSampledData": "Energy.Active.Import.Register",
                      "MeterValuesSampledData": "Energy.Active.Import.Register"})
    try:
        stop = long_session(rig, 12)
        got = contexts(stop)
        assert got[0] == "Transaction.Begin" and got[-1] == "Transaction.End", got
        assert got[1:-1] == ["Sample.Periodic"] * 12, got  # few enough: every one of them
        assert times(stop) == sorted(times(stop)), "chronological"
    finally:
        rig.close()
    rig = Rig(config={"MeterValueSampleInterval": "1",
                      "StopTxnSampledData": "Energy.Active.Import.Register,Power.Active.Import",
                      "StopTxnAlignedData": "Energy.Active.Import.Register",
                      "MeterValuesSampledData": "Energy.Active.Import.Register"})
    try:
        stop = long_session(rig, 300, aligned_every=100)
        periodic = times(stop, "Sample.Periodic")
        assert 4 <= len(periodic) <= 16, periodic
        assert evenly(periodic), ("spread evenly over the session", periodic)
        assert periodic[-1] - periodic[0] >= 200, ("over the whole session", periodic)
        assert len(stop["transactionData"][1]["sampledValue"]) == 2
        assert len(times(stop, "Sample.Clock")) == 3
        assert times(stop) == sorted(times(stop)), "chronological, clock-aligned ones included"
        assert contexts(stop)[0] == "Transaction.Begin" and contexts(stop)[-1] == "Transaction.End"
    finally:
        rig.close()


def test_stop_txn_sampled_data_fits_the_frame_buffer_at_its_largest():
    rig = Rig(config={"MeterValueSampleInterval": "1", "StopTxnSampledData": ALL,
                      "StopTxnAlignedData": ALL, "MeterValuesSampledData": ""})
    try:
        stop = long_session(rig, 500, aligned_every=100)
        assert 1 <= len(times(stop, "Sample.Periodic")) <= 16
        assert len(times(stop, "Sample.Clock")) == 4
        assert times(stop) == sorted(times(stop))
        n = Encoder(4096).call(123456789, "StopTransaction", stop)
        assert n <= 4096, n
    finally:
        rig.close()


@measures_heap
def test_periodic_stop_samples_do_not_grow_the_heap():
    rig = Rig(config={"MeterValueSampleInterval": "1", "StopTxnSampledData": ALL,
                      "MeterValuesSampledData": ""})
    try:
        rig.plug()
        c = rig.cp.connectors[0]
        c.begin("TAG-HEAP")
        t = ticks_ms()
        for i in range(1, 40):
            c.tick(ticks_add(t, i * 1000 + 50))
        gc.collect()
        before = gc.mem_alloc()
        for i in range(40, 400):
            c.tick(ticks_add(t, i * 1000 + 50))
        gc.collect()
        grown = gc.mem_alloc() - before
        assert grown < 512, "kept samples grew the heap by %d bytes" % grown
    finally:
        rig.close()


def start_plugged(rig):
    rig.plug()
    c = rig.cp.connectors[0]
    c.begin("TAG-A")
    assert c.tx is not None
    return c


def test_scheduled_unavailability_of_the_charge_point_applies_when_the_transaction_ends():
    rig = Rig(connectors=2)
    try:
        c = start_plugged(rig)
        answer = rig.core.change_availability({"connectorId": 0, "type": "Inoperative"})
        assert answer == {"status": "Scheduled"}, answer
        assert rig.cp.status_of(0)[0] == "Available", "not before the transaction ends"
        assert rig.cp.status_of(1)[0] != "Unavailable"
        assert rig.cp.status_of(2)[0] == "Unavailable", "no session may begin on connector 2"
        assert rig.core.remote_stop({"transactionId": c.tx.id}) == {"status": "Accepted"}
        assert c.evse.plugged, "the cable is still in"
        assert rig.cp.status_of(1)[0] == "Unavailable", "at the end of the transaction"
        assert rig.cp.status_of(0)[0] == "Unavailable"
        answer = rig.core.change_availability({"connectorId": 0, "type": "Operative"})
        assert answer == {"status": "Accepted"}
        assert [rig.cp.status_of(n)[0] for n in (0, 1, 2)] == ["Available", "Finishing",
                                                               "Available"]
    finally:
        rig.close()


def test_scheduled_unavailability_of_a_connector_applies_when_the_transaction_ends():
    rig = Rig()
    try:
        c = start_plugged(rig)
        answer = rig.core.change_availability({"connectorId": 1, "type": "Inoperative"})
        assert answer == {"status": "Scheduled"}
        c.stop("Local", id_tag="TAG-A")
        assert rig.cp.status_of(1)[0] == "Unavailable", "not Finishing until the unplug"
        assert rig.cp.status_of(0)[0] == "Available"
    finally:
        rig.close()


ERROR_CODES = ("ConnectorLockFailure", "EVCommunicationError", "GroundFailure",
               "HighTemperature", "InternalError", "LocalListConflict", "NoError", "OtherError",
               "OverCurrentFailure", "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure",
               "ResetFailure", "UnderVoltage", "OverVoltage", "WeakSignal")


def test_one_list_of_fault_codes_for_the_status_and_for_new_sessions():
    rig = Rig()
    try:
        c = rig.cp.connectors[0]
        t = ticks_ms()
        for code in ERROR_CODES:
            c.evse.set_external_fault(None if code == "NoError" else code)
            c.evse.tick(t)
            status = rig.cp.status_of(1)
            assert (status[0] == "Faulted") == (not c.usable()), (code, status, c.usable())
            alone = connector_status(True, None if code == "NoError" else code, False, False,
                                     False, False, False, False)
            assert alone == status, (code, alone, status)
    finally:
        rig.close()
