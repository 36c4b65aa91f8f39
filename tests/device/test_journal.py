# Device tests of the transaction journal: order, id mapping, bounds and thinning, torn and
# damaged records, compaction; every check after reopening the journal as a reboot would.
import json
import os

from devtest import Captured, raises, rmtree, tempdir
from ocppj.encoder import Decimal, Encoder, Timestamp
from ocppj.journal import Journal


def fresh(**bounds):
    folder = tempdir() + "/journal"
    return folder, Journal(folder, **bounds)


def start(j, connector=1):
    seq = j.append("StartTransaction", {"connectorId": connector, "idTag": "04A2B3C4",
                                        "meterStart": 100, "timestamp": Timestamp(800000000)},
                   "start")
    return seq, Journal.local_id(seq)


def meter(j, tx, n):
    return j.append("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
        {"timestamp": Timestamp(800000000 + 60 * n),
         "sampledValue": [{"value": Decimal(n, 0, True),
                           "measurand": "Energy.Active.Import.Register"}]}]},
        "meter")


def stop(j, tx):
    return j.append("StopTransaction", {"transactionId": tx, "meterStop": 900,
                                        "timestamp": Timestamp(800009000), "reason": "Local"},
                    "stop")


def seqs(j):
    return [r.seq for r in j.records()]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def test_append_peek_ack_in_order_across_reopens():
    folder, j = fresh()
    seq, tx = start(j)
    m = meter(j, tx, 1)
    s = stop(j, tx)
    assert seq < m < s, (seq, m, s)
    for expected in (seq, m, s):
        j = Journal(folder)
        rec = j.peek()
        assert rec is not None and rec.seq == expected, (rec, expected)
        assert j.peek().seq == expected, "peek does not consume"
        assert j.ack(expected), "ack of a live record"
        assert not j.ack(expected), "second ack is a no-op"
    assert j.peek() is None and j.count() == 0, j.count()
    j = Journal(folder)
    assert j.peek() is None, "acks are durable"
    assert j.append("MeterValues", {"connectorId": 1}, "meter") > s, "seqs never restart"
    rmtree(folder)


def test_kinds_actions_and_payloads_come_back():
    folder, j = fresh()
    seq, tx = start(j)
    meter(j, tx, 7)
    stop(j, tx)
    j = Journal(folder)
    recs = list(j.records())
    assert [r.kind for r in recs] == ["start", "meter", "stop"], recs
    assert [r.action for r in recs] == ["StartTransaction", "MeterValues", "StopTransaction"]
    assert recs[0].tx == tx and recs[0].payload["idTag"] == "04A2B3C4", recs[0].payload
    assert recs[2].payload["reason"] == "Local" and recs[2].payload["meterStop"] == 900
    rmtree(folder)


def test_holders_round_trip_to_the_same_frame():
    folder, j = fresh()
    payload = {"connectorId": 1, "transactionId": 5, "unset": None, "meterValue": [
        {"timestamp": Timestamp(848583908), "sampledValue": [
            {"value": Decimal(12345, 1, True), "unit": "Wh"},
            {"value": Decimal(-7, 2), "context": b"Sample.Periodic"}]}]}
    j.append("MeterValues", payload, "meter")
    rec = Journal(folder).peek()
    enc = Encoder(1024)
    want = json.loads(bytes(enc.buf[:enc.call(1, "MeterValues", payload)]))
    got = json.loads(bytes(enc.buf[:enc.call(1, "MeterValues", rec.payload)]))
    assert got == want, (got, want)
    assert want[3]["meterValue"][0]["timestamp"] == "2026-11-21T13:45:08Z", want
    assert "unset" not in rec.payload, rec.payload
    rmtree(folder)


def test_local_ids_are_replaced_by_the_central_systems_id():
    folder, j = fresh()
    seq, tx = start(j)
    assert tx <= -2, "local ids are negative and never -1"
    meter(j, tx, 1)
    stop(j, tx)
    j.append("MeterValues", {"connectorId": 1, "transactionId": 99}, "meter")
    j.append("MeterValues", {"connectorId": 1, "transactionId": -1}, "meter")
    recs = list(j.records())
    assert recs[1].payload["transactionId"] == tx, "not known yet: sent as it is"
    assert j.server_id(tx) is None
    j.map_transaction(tx, 4711)
    j.ack(seq)
    for _ in range(2):  # before and after a reopen
        recs = list(j.records())
        assert [r.payload["transactionId"] for r in recs] == [4711, 4711, 99, -1], recs
        assert j.server_id(tx) == 4711
        j = Journal(folder)
    assert j.peek().payload["transactionId"] == 4711
    rmtree(folder)


def test_records_appended_after_the_mapping_are_mapped_too():
    folder, j = fresh()
    seq, tx = start(j)
    j.map_transaction(tx, 12)
    j.ack(seq)
    j = Journal(folder)
    stop(j, tx)
    assert Journal(folder).peek().payload["transactionId"] == 12
    rmtree(folder)


def test_mappings_kept_while_needed_then_forgotten():
    folder, j = fresh(keep_maps=0)
    seq, tx = start(j)
    stop(j, tx)
    j.map_transaction(tx, 31)
    j.ack(seq)
    j.compact()
    j = Journal(folder, keep_maps=0)
    assert j.peek().payload["transactionId"] == 31, "the stop still needs the mapping"
    j.ack(j.peek().seq)
    j.compact()
    assert Journal(folder, keep_maps=0).server_id(tx) is None, "nothing needs it any more"
    j = Journal(folder, keep_maps=2)
    ids = []
    for n in range(4):
        seq, tx = start(j)
        j.map_transaction(tx, 100 + n)
        j.ack(seq)
        ids.append(tx)
    j.compact()
    j = Journal(folder, keep_maps=2)
    assert [j.server_id(t) for t in ids] == [None, None, 102, 103], "the 2 most recent"
    rmtree(folder)


def test_thinning_keeps_meter_values_evenly_spread_and_start_and_stop():
    folder, j = fresh(max_records=100)
    seq, tx = start(j)
    ms = [meter(j, tx, n) for n in range(1, 11)]
    j.max_records = 7
    s = stop(j, tx)  # 12 records, 5 over
    assert seqs(j) == [seq, ms[0], ms[2], ms[4], ms[6], ms[9], s], seqs(j)
    assert seqs(Journal(folder)) == seqs(j), "thinning is durable"
    rmtree(folder)


def test_bound_under_steady_meter_values():
    folder, j = fresh(max_records=10)
    seq, tx = start(j)
    ms = [meter(j, tx, n) for n in range(60)]
    s = stop(j, tx)
    for jj in (j, Journal(folder, max_records=10)):
        kept = list(jj.records())
        assert len(kept) <= 10, len(kept)
        assert kept[0].seq == seq and kept[-1].seq == s, "start and stop kept"
        assert kept[1].seq == ms[0] and kept[-2].seq == ms[-1], "first and last meter kept"
        gaps = [b.seq - a.seq for a, b in zip(kept[1:-2], kept[2:-1])]
        assert max(gaps) <= 4 * min(gaps), gaps  # spread over the transaction
    rmtree(folder)


def test_oldest_transaction_thinned_first():
    folder, j = fresh(max_records=12)
    s1, t1 = start(j)
    old = [meter(j, t1, n) for n in range(5)]
    stop(j, t1)
    s2, t2 = start(j)
    new = [meter(j, t2, n) for n in range(5)]
    kept = seqs(j)
    assert all([m in kept for m in new]), "the newer transaction is untouched"
    assert old[0] in kept and old[-1] in kept, kept
    assert len(kept) <= 12, kept
    rmtree(folder)


def test_byte_bound():
    folder, j = fresh(max_bytes=2000)
    seq, tx = start(j)
    for n in range(40):
        meter(j, tx, n)
    assert j.live_bytes <= 2000, j.live_bytes
    assert Journal(folder, max_bytes=2000).live_bytes == j.live_bytes
    rmtree(folder)


def test_start_and_stop_are_never_dropped():
    folder, j = fresh(max_records=3)
    with Captured() as cap:
        for _ in range(3):
            seq, tx = start(j)
            meter(j, tx, 1)
            stop(j, tx)
    kinds = [r.kind for r in j.records()]
    assert kinds.count("start") == 3 and kinds.count("stop") == 3, kinds
    assert cap.count("over its bound") == 1, cap.lines  # logged once, not per append
    rmtree(folder)


def last_record_at(j, write):
    before = j.size
    write()
    return before, j.size


def test_torn_last_record_at_every_offset():
    folder, j = fresh()
    seq, tx = start(j)
    m = meter(j, tx, 1)
    begin, end = last_record_at(j, lambda: stop(j, tx))
    whole = read_bytes(folder + "/log")
    assert len(whole) == end, (len(whole), end)
    for cut in range(begin, end):
        write_bytes(folder + "/log", whole[:cut])
        with Captured() as cap:
            j = Journal(folder)
        assert seqs(j) == [seq, m], (cut, seqs(j))
        assert [r.payload["connectorId"] for r in j.records()] == [1, 1]
        assert cap.count("damaged") == (1 if cut > begin else 0), (cut, cap.lines)
        with Captured() as cap:
            j = Journal(folder)
        assert cap.lines == [], "rewritten without the torn record: %r" % cap.lines
    s = stop(j, tx)
    assert seqs(Journal(folder)) == [seq, m, s], "appends after a repair"
    rmtree(folder)


def test_torn_ack_leaves_the_record_undelivered():
    folder, j = fresh()
    seq, tx = start(j)
    begin, end = last_record_at(j, lambda: j.ack(seq))
    whole = read_bytes(folder + "/log")
    for cut in range(begin, end):
        write_bytes(folder + "/log", whole[:cut])
        assert Journal(folder).peek().seq == seq, cut  # at least once: sent again
    rmtree(folder)


def test_flipped_bit_is_detected_and_only_that_record_is_lost():
    folder, j = fresh()
    seq, tx = start(j)
    begin, end = last_record_at(j, lambda: meter(j, tx, 1))
    s = stop(j, tx)
    whole = read_bytes(folder + "/log")
    for where in (begin + 2, begin + 5, begin + 12, begin + 15, begin + 30, end - 1):
        damaged = bytearray(whole)
        damaged[where] ^= 0x10
        write_bytes(folder + "/log", damaged)
        with Captured() as cap:
            j = Journal(folder)
        assert seqs(j) == [seq, s], (where, seqs(j))
        assert cap.count("damaged") == 1, cap.lines
        assert j.records() is not None and Journal(folder).count() == 2
    rmtree(folder)


def test_damage_after_open_is_not_trusted():
    folder, j = fresh()
    seq, tx = start(j)
    begin, end = last_record_at(j, lambda: meter(j, tx, 1))
    s = stop(j, tx)
    j.ack(seq)
    damaged = bytearray(read_bytes(folder + "/log"))
    damaged[begin + 25] ^= 1
    write_bytes(folder + "/log", damaged)  # after the scan: peek checks the CRC again
    with Captured() as cap:
        assert j.peek().seq == s, "the damaged record is skipped"
    assert cap.count("damaged") == 1, cap.lines
    rmtree(folder)


def test_compaction_keeps_live_records_and_bounds_the_file():
    folder, j = fresh(compact_bytes=1024)
    seq, tx = start(j)
    j.map_transaction(tx, 7)
    ms = [meter(j, tx, n) for n in range(60)]
    biggest = 0
    for m in ms[:55]:
        j.ack(m)
        biggest = max(biggest, j.size)
    live = seqs(j)
    assert live == [seq] + ms[55:], live
    assert j.size < 2 * j.live_bytes + 1024 + 200, (j.size, j.live_bytes)
    assert read_bytes(folder + "/log")[:2] == b"\xfeJ"
    write_bytes(folder + "/log.tmp", b"half a compaction")  # cut short: ignored and removed
    j = Journal(folder, compact_bytes=1024)
    assert seqs(j) == live, seqs(j)
    assert os.listdir(folder) == ["log"], os.listdir(folder)
    assert j.peek().seq == seq
    assert list(j.records())[1].payload["transactionId"] == 7, "the mapping survived"
    j.compact()
    assert seqs(Journal(folder)) == live
    rmtree(folder)


def test_refuses_what_it_cannot_keep():
    folder, j = fresh(max_record_bytes=200)
    raises(ValueError, j.append, "MeterValues", {"x": "y" * 300}, "meter")
    raises(ValueError, j.append, "Heartbeat", {}, "other")
    raises(ValueError, j.map_transaction, 5, 1)  # not a local id
    assert j.count() == 0 and Journal(folder).count() == 0
    rmtree(folder)


def test_the_index_grows_past_its_first_room_and_compacts_in_place():
    folder, j = fresh(max_records=1000, max_bytes=10 ** 6, compact_bytes=10 ** 6)
    first = j._slots  # the room the index starts with
    tx = start(j)[1]
    for n in range(3 * first):
        meter(j, tx, n)
    assert j.count() == 3 * first + 1
    for seq in seqs(j)[:2 * first]:
        assert j.ack(seq)
    j.compact()
    assert seqs(j) == list(range(2 * first + 1, 3 * first + 2))
    assert seqs(Journal(folder)) == seqs(j)  # the file agrees with the index


def test_a_compaction_that_fails_halfway_leaves_a_journal_that_reads_back():
    folder, j = fresh(compact_bytes=10 ** 6)
    tx = start(j)[1]
    meter(j, tx, 0)
    j.ack(2)
    for n in range(1, 6):
        meter(j, tx, n)
    write_bytes(j.path, read_bytes(j.path)[:-5])  # the flash lost the last record's tail
    with Captured() as cap:
        j._maybe_compact(now=True)  # reads the short log: fails after moving some entries
    assert cap.count("compaction failed") == 1
    assert seqs(j) == [1, 3, 4, 5, 6]  # what is whole on flash, in order; nothing invented
    assert seqs(Journal(folder)) == [1, 3, 4, 5, 6]


def test_set_aside_passes_over_the_record_and_its_transaction_and_survives():
    folder, j = fresh()
    a, atx = start(j)  # the central system refuses this start: set aside
    am = meter(j, atx, 1)
    b, btx = start(j, connector=2)
    ast = stop(j, atx)
    bst = stop(j, btx)
    other = j.append("MeterValues", {"connectorId": 1, "transactionId": 99}, "meter")
    assert not j.set_aside(12345), "not a live record"
    assert j.set_aside(a) and j.set_aside(a), "marking twice is harmless"
    assert j.aside() == [a] and j.aside_count == 1
    assert j.peek().seq == b, "past the start and the meter values of its transaction"
    for _ in range(2):  # after a reopen, and after a compaction, the same
        j = Journal(folder)
        assert j.aside() == [a], j.aside()
        assert j.peek().seq == b
        assert seqs(j) == [a, am, b, ast, bst, other], "every record kept"
        j.compact()
    assert j.get(a).seq == a and j.get(a).kind == "start" and j.get(b).seq == b
    j.map_transaction(btx, 8)
    j.ack(b)
    assert j.peek().seq == bst and j.peek().payload["transactionId"] == 8
    j.ack(bst)
    assert j.peek().seq == other, "its stop waits with the start"
    j.ack(other)
    assert j.peek() is None and j.count() == 3
    # the start is delivered after all: its transaction follows with the central system's id
    j.map_transaction(atx, 7)
    assert j.ack(a)
    assert j.aside() == [] and j.aside_count == 0 and j.get(a) is None
    j = Journal(folder)
    assert j.peek().seq == am and j.peek().payload["transactionId"] == 7
    j.ack(am)
    assert j.peek().seq == ast and j.peek().payload["transactionId"] == 7
    rmtree(folder)


def test_a_meter_or_stop_set_aside_holds_back_nothing_else():
    folder, j = fresh()
    seq, tx = start(j)
    j.map_transaction(tx, 5)
    j.ack(seq)
    m1 = meter(j, tx, 1)
    m2 = meter(j, tx, 2)
    s = stop(j, tx)
    j.set_aside(m1)
    assert j.peek().seq == m2
    j.set_aside(s)
    j.ack(m2)
    assert j.peek() is None and Journal(folder).aside() == [m1, s]
    rmtree(folder)
