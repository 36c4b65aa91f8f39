# Device tests of the OCPP 2.0.1 transaction-id policy of the journal (StationIds): the station's
# own ids, unique across reopens and torn writes, and seqNo counted per transaction on flash.
import gc
import json

from devtest import Captured, measures_heap, rmtree, tempdir
from ocppj import schemas
from ocppj.encoder import Decimal, Encoder, Timestamp
from ocppj.journal import Journal
from ocppj.stationids import StationIds, key
from ocppj.journal import ServerIds
from ocppj.validate import validate


def fresh(**bounds):
    folder = tempdir() + "/journal201"
    return folder, Journal(folder, ids=StationIds(), **bounds)


def reopen(folder, **bounds):
    return Journal(folder, ids=StationIds(), **bounds)


def started(j, evse=1):
    payload = {"eventType": "Started", "timestamp": Timestamp(848583908),
               "triggerReason": "CablePluggedIn", "transactionInfo": {"chargingState": "EVConnected"},
               "evse": {"id": evse, "connectorId": 1}}
    seq = j.append("TransactionEvent", payload, "start")
    return seq, payload


def updated(j, tx_id, wh, kind="meter"):
    payload = {"eventType": "Updated", "timestamp": Timestamp(848583968 + wh),
               "triggerReason": "MeterValuePeriodic", "transactionInfo": {"transactionId": tx_id},
               "meterValue": [{"timestamp": Timestamp(848583968 + wh),
                               "sampledValue": [{"value": Decimal(wh, 0)}]}]}
    seq = j.append("TransactionEvent", payload, kind)
    return seq, payload


def ended(j, tx_id):
    payload = {"eventType": "Ended", "timestamp": Timestamp(848590000),
               "triggerReason": "EVCommunicationLost",
               "transactionInfo": {"transactionId": tx_id, "stoppedReason": "EVDisconnected"}}
    seq = j.append("TransactionEvent", payload, "stop")
    return seq, payload


def tx_id_of(payload):
    return payload["transactionInfo"]["transactionId"]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


REQUEST = schemas.load("v201", "TransactionEvent")[0]


def on_the_wire(payload):
    """The payload as the central system decodes it."""
    enc = Encoder(1024)
    return json.loads(bytes(enc.buf[:enc.call(1, "TransactionEvent", payload)]))[3]


def test_the_station_makes_the_id_at_the_start_and_the_records_carry_it():
    folder, j = fresh()
    seq, p = started(j)
    tx_id = tx_id_of(p)
    assert isinstance(tx_id, str) and p["seqNo"] == 0, p
    u, pu = updated(j, tx_id, 10)
    e, pe = ended(j, tx_id)
    for jj in (j, reopen(folder)):
        recs = list(jj.records())
        assert [r.seq for r in recs] == [seq, u, e], recs
        assert [tx_id_of(r.payload) for r in recs] == [tx_id] * 3, [r.payload for r in recs]
        assert [r.payload["seqNo"] for r in recs] == [0, 1, 2], [r.payload for r in recs]
        assert [r.tx for r in recs] == [key(tx_id)] * 3, "grouped by the id's key"
        assert recs[0].kind == "start" and recs[2].payload["eventType"] == "Ended"
        for r in recs:  # what goes out fits the 2.0.1 schema (the id's length included)
            validate(REQUEST, on_the_wire(r.payload))
    assert j.server_id(key(tx_id)) is None, "nothing is mapped"
    try:
        j.map_transaction(-2, 5)
        assert False, "a 2.0.1 journal maps nothing"
    except ValueError:
        pass
    rmtree(folder)


def test_ids_are_unique_across_reopens():
    folder, j = fresh()
    ids = []
    for round_ in range(3):
        for evse in (1, 2):
            seq, p = started(j, evse)
            ids.append(tx_id_of(p))
            j.ack(seq)
        j.compact()  # nothing live is left: only the journal's own records say what was used
        j = reopen(folder)
    assert len(set(ids)) == len(ids), ids
    prefixes = set([i.split("-")[0] for i in ids])
    assert len(prefixes) == 1, "a clean reopen keeps the prefix: %r" % ids
    rmtree(folder)


def test_ids_are_unique_after_a_torn_start_at_every_offset():
    for first in (True, False):  # the torn start is the journal's first (with its prefix) or not
        folder, j = fresh()
        before = []
        if not first:
            seq, p = started(j)
            before.append(tx_id_of(p))
            j.ack(seq)
        begin = j.size
        seq, torn = started(j, 2)
        end = j.size
        record = end - j.live_bytes  # where the start record itself begins (after a prefix)
        whole = read_bytes(folder + "/log")
        for cut in range(begin, end):
            write_bytes(folder + "/log", whole[:cut])
            with Captured():
                j = reopen(folder)
            assert [r.seq for r in j.records()] == [], (cut, list(j.records()))
            seq, p = started(j)
            made = tx_id_of(p)
            assert made not in before, (first, cut, made, before)
            if cut > record:  # bytes of it reached the flash (the caller of a torn append
                # never saw its id, but make sure): not made again either
                assert made != tx_id_of(torn), (first, cut, made)
            assert [tx_id_of(r.payload) for r in reopen(folder).records()] == [made]
        rmtree(folder)


def test_seq_no_is_consecutive_per_transaction_across_reopens_and_compactions():
    folder, j = fresh()
    s1, p1 = started(j, 1)
    s2, p2 = started(j, 2)
    a, b = tx_id_of(p1), tx_id_of(p2)
    seen = {a: [0], b: [0]}
    for n in range(3):
        seen[a].append(updated(j, a, n)[1]["seqNo"])
    j = reopen(folder)
    seen[b].append(updated(j, b, 1)[1]["seqNo"])
    seen[a].append(updated(j, a, 4)[1]["seqNo"])
    for rec in list(j.records()):  # all delivered: only the count records keep the numbers
        j.ack(rec.seq)
    j.compact()
    assert j.count() == 0
    j = reopen(folder)
    seen[a].append(updated(j, a, 5)[1]["seqNo"])
    seen[b].append(ended(j, b)[1]["seqNo"])
    assert j.ids.next_seq_no(b) is None, "an Ended event closes its counter"
    j = reopen(folder)
    assert j.ids.next_seq_no(b) is None, "closed on flash too"
    seen[a].append(ended(j, a)[1]["seqNo"])
    assert seen[a] == [0, 1, 2, 3, 4, 5, 6], seen
    assert seen[b] == [0, 1, 2], seen
    sent = [(tx_id_of(r.payload), r.payload["seqNo"]) for r in reopen(folder).records()]
    assert sent == [(a, 5), (b, 2), (a, 6)], sent
    rmtree(folder)


def test_seq_no_after_a_torn_event_is_neither_repeated_nor_skipped():
    folder, j = fresh()
    seq, p = started(j)
    tx_id = tx_id_of(p)
    for n in range(3):
        updated(j, tx_id, n)
    begin = j.size
    updated(j, tx_id, 3)  # seqNo 4
    end = j.size
    whole = read_bytes(folder + "/log")
    for cut in range(begin, end + 1):
        write_bytes(folder + "/log", whole[:cut])
        with Captured():
            j = reopen(folder)
        got = updated(j, tx_id, 9)[1]["seqNo"]
        want = 5 if cut == end else 4  # the whole record counts, a torn one never was sent
        assert got == want, (cut, got, want)
        nums = [r.payload["seqNo"] for r in reopen(folder).records()]
        assert nums == list(range(want + 1)), (cut, nums)
    rmtree(folder)


def test_a_failed_write_counts_nothing():
    folder, j = fresh(max_record_bytes=400)
    seq, p = started(j)
    tx_id = tx_id_of(p)
    payload = {"eventType": "Updated", "timestamp": Timestamp(848583968),
               "triggerReason": "Trigger", "transactionInfo": {"transactionId": tx_id},
               "customData": {"vendorId": "x" * 500}}
    try:
        j.append("TransactionEvent", payload, "stop")
        assert False, "over max_record_bytes"
    except ValueError:
        pass
    assert updated(j, tx_id, 1)[1]["seqNo"] == 1, "the refused event took no number"
    rmtree(folder)


def test_an_event_of_a_transaction_not_counted_starts_at_zero_with_a_warning():
    folder, j = fresh()
    with Captured() as cap:
        s, p = updated(j, "elsewhere-1", 1, kind="stop")
    assert p["seqNo"] == 0 and cap.count("not counted") == 1, (p, cap.lines)
    assert updated(j, "elsewhere-1", 2)[1]["seqNo"] == 1, "counted from then on"
    rmtree(folder)


def test_records_of_no_transaction_are_left_alone():
    folder, j = fresh()
    payload = {"type": "FirmwareUpdated", "timestamp": Timestamp(848583908)}
    seq = j.append("SecurityEventNotification", payload, "message")
    rec = reopen(folder).peek()
    assert rec.seq == seq and rec.tx == 0 and "seqNo" not in rec.payload, rec.payload
    rmtree(folder)


def test_thinning_groups_a_transactions_updates_by_its_id():
    folder, j = fresh(max_records=8)
    s1, p1 = started(j, 1)
    a = tx_id_of(p1)
    ms = [updated(j, a, n)[0] for n in range(5)]
    s2, p2 = started(j, 2)
    b = tx_id_of(p2)
    mb = [updated(j, b, n)[0] for n in range(3)]  # 10 records: 2 of a's updates go
    kept = [r.seq for r in reopen(folder, max_records=8).records()]
    assert len(kept) == 8 and ms[0] in kept and ms[-1] in kept, (kept, ms)
    assert all([m in kept for m in mb]), "the newer transaction is untouched"
    rmtree(folder)


def test_a_compaction_keeps_the_prefix_and_the_open_counts_and_nothing_else():
    folder, j = fresh()
    seq, p = started(j)
    j.ack(seq)
    j.compact()
    log = read_bytes(folder + "/log")
    assert len(log) == 18 + 26 + 18, "base, prefix (8 hex digits), one count: %d" % len(log)
    assert j.ids.prefix is not None and j.ids.prefix.encode() in log
    j = reopen(folder)
    assert updated(j, tx_id_of(p), 1)[1]["seqNo"] == 1
    seq, q = started(j)
    assert tx_id_of(q).split("-")[0] == tx_id_of(p).split("-")[0], (p, q)
    rmtree(folder)


def test_the_default_policy_is_16s():
    folder = tempdir() + "/journal16"
    j = Journal(folder)
    assert isinstance(j.ids, ServerIds)
    payload = {"connectorId": 1, "idTag": "A", "meterStart": 0}
    seq = j.append("StartTransaction", payload, "start")
    assert payload == {"connectorId": 1, "idTag": "A", "meterStart": 0}, "left as it was"
    assert j.peek().tx == Journal.local_id(seq) == -seq - 1
    rmtree(folder)


@measures_heap
def test_the_policy_costs_a_few_hundred_bytes():
    folder = tempdir() + "/heap"
    Journal(folder + "/warm", ids=StationIds())  # modules and the first-use allocations
    gc.collect()
    before = gc.mem_alloc()
    ids = StationIds()
    gc.collect()
    policy = gc.mem_alloc() - before
    j16 = Journal(folder + "/a")
    gc.collect()
    with16 = gc.mem_alloc() - before - policy
    j201 = Journal(folder + "/b", ids=ids)
    gc.collect()
    with201 = gc.mem_alloc() - before - policy - with16
    assert policy < 200, "StationIds() took %d bytes" % policy
    assert with201 <= with16, "a 2.0.1 journal took %d bytes, a 1.6 one %d" % (with201, with16)
    # a counter per open transaction, not per record
    started(j201, 1)
    s, p = started(j201, 2)
    gc.collect()
    base = gc.mem_alloc()
    for n in range(20):
        j201.ack(updated(j201, tx_id_of(p), n)[0])
    gc.collect()
    grown = gc.mem_alloc() - base
    assert grown < 300, "20 updates grew the heap by %d bytes" % grown
    del j16, j201
    rmtree(folder)
