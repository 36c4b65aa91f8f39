# Device tests of the transaction-message delivery over a real RPC session whose far end is
# scripted: order, retries with back-off, attempts running out, offline start/stop, id mapping
# (OCPP 1.6) and the station's own ids (OCPP 2.0.1).
import asyncio
import json

import logger
from devtest import rmtree, tempdir
from ocppj.delivery import Delivery
from ocppj.encoder import Encoder, Timestamp
from ocppj.journal import Journal
from ocppj.protocol import V16, of
from ocppj.session import Session
from ocppj.stationids import StationIds
from ticks import ticks_diff, ticks_ms

NOW = "2026-11-21T13:45:08Z"  # Timestamp(848583908)


NULL = ("null",)  # a script's answer: the CALLRESULT [3, id, null]


class CentralSystem:
    """The far end of the session: records each CALL and answers it at once as `script` says:
    script(action, payload, n) -> a result payload, an error code (str), NULL (a null result)
    or None (no answer); n counts the CALLs of that action so far."""

    def __init__(self, script=None):
        self.calls = []  # (action, payload, ticks_ms)
        self.script = script or (lambda action, payload, n: None)
        self.session = None
        self.next_tx = 100
        self.sent = asyncio.Event()

    async def send(self, buf, n):
        frame = json.loads(bytes(buf[:n]))
        if frame[0] != 2:
            return
        action, payload = frame[2], frame[3]
        count = len([c for c in self.calls if c[0] == action])
        self.calls.append((action, payload, ticks_ms()))
        self.sent.set()
        answer = self.script(action, payload, count)
        if answer is None:
            return  # no answer: the call times out
        if answer is NULL:
            reply = [3, frame[1], None]
        elif isinstance(answer, str):
            reply = [4, frame[1], answer, "failed", {}]
        else:
            reply = [3, frame[1], answer]
        await self.session.feed(json.dumps(reply).encode())  # answered before send returns

    def actions(self):
        return [c[0] for c in self.calls]


def accept_all(cs):
    def script(action, payload, n):
        if action == "StartTransaction":
            cs.next_tx += 1
            return {"transactionId": cs.next_tx, "idTagInfo": {"status": "Accepted"}}
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}}
        return {}
    return script


def setup(script=None, attempts=3, interval_s=0.02, connected=True, **kw):
    cs = CentralSystem()
    cs.script = script(cs) if script is not None else accept_all(cs)
    session = Session(kw.pop("protocol", V16), Encoder(2048), cs.send,
                      timeout_ms=kw.pop("timeout_ms", 2000))
    cs.session = session
    if connected:
        session.opened()
    session.set_registration("Accepted")
    folder = kw.pop("folder", None) or tempdir() + "/journal"
    journal = Journal(folder, ids=kw.pop("ids", None))
    answers = []
    d = Delivery(journal, session, lambda: attempts, lambda: interval_s,
                 lambda rec, answer: answers.append((rec, answer)), **kw)
    d.poll_ms = 10
    return cs, session, journal, d, answers, folder


def start(j):
    seq = j.append("StartTransaction", {"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 100,
                                        "timestamp": Timestamp(848583908)}, "start")
    return seq, Journal.local_id(seq)


def meter(j, tx, wh):
    return j.append("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
        {"timestamp": Timestamp(848583968), "sampledValue": [{"value": str(wh)}]}]}, "meter")


def stop(j, tx):
    return j.append("StopTransaction", {"transactionId": tx, "meterStop": 900,
                                        "timestamp": Timestamp(848587508)}, "stop")


async def until(cond, ms=2000):
    t0 = ticks_ms()
    while not cond():
        assert ticks_diff(ticks_ms(), t0) < ms, "condition not met in %d ms" % ms
        await asyncio.sleep(0.005)


async def finish(d, task):
    d.stop()
    try:
        await asyncio.wait_for(task, 1)
    except asyncio.CancelledError:
        pass


class Captured:
    def __init__(self):
        self.lines = []
        logger.set_sink(self.lines.append)

    def close(self):
        logger.set_sink(None)

    def count(self, text):
        return len([line for line in self.lines if text in line])


async def test_delivers_in_order_and_maps_the_transaction_id():
    cs, session, j, d, answers, folder = setup()
    seq, tx = start(j)
    meter(j, tx, 150)
    stop(j, tx)
    task = asyncio.create_task(d.run())
    await until(lambda: j.count() == 0)
    assert cs.actions() == ["StartTransaction", "MeterValues", "StopTransaction"], cs.actions()
    assert [c[1].get("transactionId") for c in cs.calls] == [None, 101, 101], cs.calls
    assert cs.calls[0][1]["timestamp"] == NOW, cs.calls[0]
    assert [a[0].kind for a in answers] == ["start", "meter", "stop"], answers
    assert answers[0][1]["transactionId"] == 101 and answers[0][0].tx == tx
    assert j.server_id(tx) == 101
    await finish(d, task)
    rmtree(folder)


async def test_strict_order_one_at_a_time():
    in_flight = []

    def script(cs):
        def answer(action, payload, n):
            in_flight.append(len(cs.calls) - len(answers_seen))
            answers_seen.append(action)
            return accept_all(cs)(action, payload, n)
        return answer

    answers_seen = []
    cs, session, j, d, answers, folder = setup(script)
    seq, tx = start(j)
    for wh in range(5):
        meter(j, tx, wh)
    task = asyncio.create_task(d.run())
    await until(lambda: j.count() == 0)
    assert in_flight == [1] * 6, in_flight
    assert [c[1]["meterValue"][0]["sampledValue"][0]["value"] for c in cs.calls[1:]] == [
        "0", "1", "2", "3", "4"], cs.calls
    await finish(d, task)
    rmtree(folder)


async def test_wake_sends_a_new_record_at_once():
    cs, session, j, d, answers, folder = setup()
    task = asyncio.create_task(d.run())
    await asyncio.sleep(0.02)
    assert cs.calls == [], "nothing to send"
    seq, tx = start(j)
    d.wake()
    await until(lambda: j.count() == 0, 500)
    stop(j, tx)
    d.wake()
    await until(lambda: j.count() == 0, 500)
    assert cs.actions() == ["StartTransaction", "StopTransaction"], cs.actions()
    assert cs.calls[1][1]["transactionId"] == 101, "mapped after the start was answered"
    await finish(d, task)
    rmtree(folder)


async def test_retry_with_back_off_then_success():
    def script(cs):
        def answer(action, payload, n):
            if action == "StopTransaction" and n < 2:
                return "InternalError"  # a failure to process the message (errata 3.2)
            return accept_all(cs)(action, payload, n)
        return answer

    cap = Captured()
    try:
        cs, session, j, d, answers, folder = setup(script, attempts=3, interval_s=0.05)
        seq, tx = start(j)
        stop(j, tx)
        meter(j, 101, 5)
        task = asyncio.create_task(d.run())
        await until(lambda: j.count() == 0)
    finally:
        cap.close()
    assert cs.actions() == ["StartTransaction"] + ["StopTransaction"] * 3 + ["MeterValues"], \
        cs.actions()
    t = [c[2] for c in cs.calls]
    assert ticks_diff(t[2], t[1]) >= 45, "1 x the interval before the 2nd try: %r" % t
    assert ticks_diff(t[3], t[2]) >= 95, "2 x the interval before the 3rd try: %r" % t
    assert cap.count("failed (1 of 3)") == 1 and cap.count("failed (2 of 3)") == 1, cap.lines
    assert cap.count("ERROR") == 0, cap.lines
    await finish(d, task)
    rmtree(folder)


async def test_no_answer_counts_as_a_failure():
    def script(cs):
        def answer(action, payload, n):
            return None if n == 0 else accept_all(cs)(action, payload, n)
        return answer

    cs, session, j, d, answers, folder = setup(script, timeout_ms=40)
    start(j)
    task = asyncio.create_task(d.run())
    await until(lambda: j.count() == 0)
    assert cs.actions() == ["StartTransaction"] * 2, cs.actions()
    await finish(d, task)
    rmtree(folder)


async def test_unanswered_record_keeps_its_place_and_is_sent_after_reconnect():
    # no answer (time-out): maybe a slow central system, so order is kept
    broken = [True]

    def script(cs):
        def answer(action, payload, n):
            if action == "StopTransaction" and broken[0]:
                return None
            return accept_all(cs)(action, payload, n)
        return answer

    cap = Captured()
    try:
        cs, session, j, d, answers, folder = setup(script, attempts=3, interval_s=0.01,
                                                   park_s=None, timeout_ms=30)
        seq, tx = start(j)
        s = stop(j, tx)
        later = meter(j, 101, 1)
        task = asyncio.create_task(d.run())
        await until(lambda: d.stalled == s)
        await asyncio.sleep(0.1)
        assert cs.actions() == ["StartTransaction"] + ["StopTransaction"] * 3, cs.actions()
        assert [r.seq for r in j.records()] == [s, later], "kept, and nothing overtakes it"
        assert [r.seq for r in Journal(folder).records()] == [s, later], "kept on flash"
        assert j.aside() == [], "not set aside: it was never answered"
        assert cap.count("ERROR") == 1 and cap.count("attempts ran out") == 1, cap.lines
        # the link drops and comes back: a new run() starts a fresh round
        session.closed()
        task.cancel()
        session.opened()
        broken[0] = False
        task = asyncio.create_task(d.run())
        await until(lambda: j.count() == 0)
    finally:
        cap.close()
    assert cs.actions()[4:] == ["StopTransaction", "MeterValues"], cs.actions()
    assert cs.calls[4][1]["transactionId"] == 101
    assert d.stalled is None
    await finish(d, task)
    rmtree(folder)


async def test_fresh_round_after_park_without_reconnect():
    def script(cs):
        def answer(action, payload, n):
            return None if n < 4 else accept_all(cs)(action, payload, n)
        return answer

    cap = Captured()
    try:
        cs, session, j, d, answers, folder = setup(script, attempts=2, interval_s=0.01,
                                                   park_s=0.05, timeout_ms=30)
        start(j)
        task = asyncio.create_task(d.run())
        await until(lambda: j.count() == 0)
    finally:
        cap.close()
    assert cs.actions() == ["StartTransaction"] * 5, cs.actions()  # rounds of 2, 2, then 1
    assert cap.count("attempts ran out") == 1 and cap.count("still failing") == 1, cap.lines
    await finish(d, task)
    rmtree(folder)


def refusing_one_start(refusing):
    """A central system that answers the StartTransaction of idTag REFUSED with a CALLERROR
    while refusing[0], and accepts everything else."""
    def script(cs):
        def answer(action, payload, n):
            if action == "StartTransaction" and payload["idTag"] == "REFUSED" and refusing[0]:
                return "PropertyConstraintViolation"
            return accept_all(cs)(action, payload, n)
        return answer
    return script


def tagged_start(j, tag):
    seq = j.append("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 100,
                                        "timestamp": Timestamp(848583908)}, "start")
    return seq, Journal.local_id(seq)


def calls_of(cs):
    """The CALLs as (action, idTag or transactionId)."""
    return [(a, p.get("idTag", p.get("transactionId"))) for a, p, t in cs.calls]


async def test_refused_start_is_set_aside_while_later_messages_go_on():
    refusing = [True]
    cap = Captured()
    try:
        cs, session, j, d, answers, folder = setup(refusing_one_start(refusing), attempts=3,
                                                   interval_s=0.01, park_s=0.3)
        a, atx = tagged_start(j, "REFUSED")
        am = meter(j, atx, 150)
        ast = stop(j, atx)
        b, btx = tagged_start(j, "GOOD")
        bm = meter(j, btx, 160)
        bst = stop(j, btx)
        task = asyncio.create_task(d.run())
        await until(lambda: j.count() == 3)
        # the refused start: its attempts, then set aside; the other transaction goes past it
        assert calls_of(cs) == [("StartTransaction", "REFUSED")] * 3 + [
            ("StartTransaction", "GOOD"), ("MeterValues", 101), ("StopTransaction", 101)], \
            cs.calls
        # kept, with the messages of its transaction (they need its transactionId), on flash
        assert [r.seq for r in j.records()] == [a, am, ast], list(j.records())
        assert j.aside() == [a] and j.peek() is None
        again = Journal(folder)
        assert [r.seq for r in again.records()] == [a, am, ast] and again.aside() == [a]
        assert cap.count("ERROR") == 1 and cap.count("set aside (kept)") == 1, cap.lines
        # sent again at a low rate: once every park_s (0.3 s) while refused
        n = len(cs.calls)
        await asyncio.sleep(0.45)
        assert calls_of(cs)[n:] == [("StartTransaction", "REFUSED")], cs.calls[n:]
        # messages appended meanwhile do not wait for it either
        c, ctx = tagged_start(j, "LATER")
        d.wake()
        await until(lambda: j.count() == 3)
        assert calls_of(cs)[-1] == ("StartTransaction", "LATER"), cs.calls
        # the central system accepts it now: delivered at the next retry, its transaction
        # follows with the central system's id
        refusing[0] = False
        await until(lambda: j.count() == 0, 2000)
    finally:
        cap.close()
        d.stop()  # a failed check leaves no task running
    tail = calls_of(cs)[-3:]
    assert tail == [("StartTransaction", "REFUSED"), ("MeterValues", 103),
                    ("StopTransaction", 103)], cs.calls
    assert j.aside() == [] and cap.count("delivered after all") == 1, cap.lines
    await finish(d, task)
    rmtree(folder)


async def test_set_aside_survives_a_reboot_and_is_retried_on_each_connection():
    refusing = [True]
    cs, session, j, d, answers, folder = setup(refusing_one_start(refusing), attempts=2,
                                               interval_s=0.01, park_s=None)
    a, atx = tagged_start(j, "REFUSED")
    task = asyncio.create_task(d.run())
    await until(lambda: j.aside() == [a])
    d.stop()
    task.cancel()
    # a reboot: a new journal and delivery over the same folder, a new connection
    cs2, session2, j2, d2, answers2, folder = setup(refusing_one_start(refusing), attempts=2,
                                                    interval_s=0.01, park_s=None, folder=folder)
    assert j2.aside() == [a], "the mark is on flash"
    c, ctx = tagged_start(j2, "LATER")
    cst = stop(j2, ctx)
    task = asyncio.create_task(d2.run())
    await until(lambda: j2.count() == 1)
    # one transmission of what was set aside on the new connection, then the rest in order
    assert calls_of(cs2) == [("StartTransaction", "REFUSED"), ("StartTransaction", "LATER"),
                                   ("StopTransaction", 101)], cs2.calls
    # reconnect once the central system takes it
    refusing[0] = False
    session2.closed()
    task.cancel()
    session2.opened()
    task = asyncio.create_task(d2.run())
    await until(lambda: j2.count() == 0)
    assert calls_of(cs2)[3:] == [("StartTransaction", "REFUSED")], cs2.calls
    await finish(d2, task)
    rmtree(folder)


async def test_offline_transaction_sent_in_order_after_reconnect():
    cs, session, j, d, answers, folder = setup(connected=False)
    seq, tx = start(j)  # the whole transaction happens offline
    for wh in (120, 140):
        meter(j, tx, wh)
    d.wake()
    await asyncio.wait_for(d.run(), 1)  # offline: returns quietly, nothing lost
    assert cs.calls == [] and j.count() == 3, cs.calls
    s = stop(j, tx)
    seq2, tx2 = start(j)  # and the next one starts
    meter(j, tx2, 10)
    j = Journal(folder)  # a reboot while still offline
    d.journal = j
    session.opened()
    task = asyncio.create_task(d.run())
    await until(lambda: j.count() == 0)
    assert cs.actions() == ["StartTransaction", "MeterValues", "MeterValues", "StopTransaction",
                            "StartTransaction", "MeterValues"], cs.actions()
    ids = [c[1].get("transactionId") for c in cs.calls]
    assert ids == [None, 101, 101, 101, None, 102], ids
    await finish(d, task)
    rmtree(folder)


async def test_link_drop_mid_retry_keeps_the_record():
    def script(cs):
        def answer(action, payload, n):
            return "InternalError"
        return answer

    cs, session, j, d, answers, folder = setup(script, attempts=5, interval_s=0.05)
    seq, tx = start(j)
    task = asyncio.create_task(d.run())
    await until(lambda: len(cs.calls) == 1)
    session.closed()
    await asyncio.wait_for(task, 1)  # NotConnected on the next try: run() ends by itself
    assert j.peek().seq == seq and d.stalled is None
    rmtree(folder)


async def test_on_answer_failure_does_not_stop_delivery():
    cs, session, j, d, answers, folder = setup()

    def bad(rec, answer):
        raise KeyError("application bug")

    d.on_answer = bad
    cap = Captured()
    try:
        seq, tx = start(j)
        stop(j, tx)
        task = asyncio.create_task(d.run())
        await until(lambda: j.count() == 0)
    finally:
        cap.close()
    assert cs.actions() == ["StartTransaction", "StopTransaction"], cs.actions()
    assert cap.count("on_answer") == 2, cap.lines
    await finish(d, task)
    rmtree(folder)


async def test_meter_record_too_large_for_the_frame_is_dropped_loudly():
    cs, session, j, d, answers, folder = setup(attempts=2, interval_s=0.01, park_s=None)
    session.encoder = Encoder(300)
    seq, tx = start(j)
    big = j.append("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
        {"timestamp": Timestamp(848583968), "sampledValue": [{"value": "1" * 400}]}]}, "meter")
    s = stop(j, tx)
    cap = Captured()
    try:
        task = asyncio.create_task(d.run())
        await until(lambda: j.count() == 0)
    finally:
        cap.close()
    assert cs.actions() == ["StartTransaction", "StopTransaction"], cs.actions()
    assert cap.count("does not fit the frame buffer") == 1, cap.lines
    big_stop = j.append("StopTransaction", {"transactionId": tx, "meterStop": 1,
                                            "timestamp": Timestamp(1), "transactionData": [
                                                {"timestamp": Timestamp(1),
                                                 "sampledValue": [{"value": "1" * 400}]}]}, "stop")
    d.wake()
    await until(lambda: j.aside() == [big_stop])
    assert [r.seq for r in j.records()] == [big_stop], "a stop is never given up: set aside"
    assert j.peek() is None
    await finish(d, task)
    rmtree(folder)


async def test_null_answers_to_meter_values_and_stop_are_deliveries():
    # OCPP-J 1.6 4.2.2: a CALLRESULT may carry null where the answer has no required field
    # (MeterValues.conf is empty, StopTransaction.conf's idTagInfo is optional)
    def script(cs):
        def answer(action, payload, n):
            if action == "StartTransaction":
                return accept_all(cs)(action, payload, n)
            return NULL
        return answer

    cs, session, j, d, answers, folder = setup(script, attempts=2, interval_s=0.01, park_s=None)
    seq, tx = start(j)
    meter(j, tx, 150)
    stop(j, tx)
    task = asyncio.create_task(d.run())
    await until(lambda: j.count() == 0)
    assert cs.actions() == ["StartTransaction", "MeterValues", "StopTransaction"], cs.actions()
    assert [a for r, a in answers][1:] == [{}, {}], answers
    assert d.stalled is None
    await finish(d, task)
    rmtree(folder)


def tx_event(j, event, tx_id, evse, kind):
    payload = {"eventType": event, "timestamp": Timestamp(848583908), "triggerReason": "Trigger",
               "transactionInfo": {} if tx_id is None else {"transactionId": tx_id},
               "evse": {"id": evse}}
    j.append("TransactionEvent", payload, kind)
    return payload["transactionInfo"]["transactionId"]


async def test_201_records_go_with_the_stations_ids_and_none_waits_for_a_refused_start():
    refusing = [True]

    def script(cs):
        def answer(action, payload, n):
            if refusing[0] and payload["eventType"] == "Started" and payload["evse"]["id"] == 1:
                return "InternalError"
            return {}
        return answer

    cap = Captured()
    try:
        cs, session, j, d, answers, folder = setup(script, attempts=1, ids=StationIds(),
                                                   protocol=of("2.0.1"))
        a = tx_event(j, "Started", None, 1, "start")
        tx_event(j, "Updated", a, 1, "meter")
        b = tx_event(j, "Started", None, 2, "start")
        tx_event(j, "Ended", a, 1, "stop")
        tx_event(j, "Ended", b, 2, "stop")
        task = asyncio.create_task(d.run())
        await until(lambda: j.count() == 1)
    finally:
        cap.close()
    sent = [(c[1]["eventType"], c[1]["transactionInfo"]["transactionId"], c[1]["seqNo"])
            for c in cs.calls]
    assert sent == [("Started", a, 0), ("Updated", a, 1), ("Started", b, 0), ("Ended", a, 2),
                    ("Ended", b, 1)], sent
    assert len(answers) == 4 and j.aside() == [1], (answers, j.aside())
    assert cap.count("set aside") == 1, cap.lines
    await finish(d, task)
    refusing[0] = False
    task = asyncio.create_task(d.run())  # a new connection: the start set aside goes again
    await until(lambda: j.count() == 0)
    assert cs.calls[-1][1]["transactionInfo"]["transactionId"] == a, cs.calls[-1]
    assert [r.kind for r, answer in answers] == ["meter", "start", "stop", "stop", "start"]
    assert j.server_id(answers[-1][0].tx) is None, "nothing mapped"
    await finish(d, task)
    rmtree(folder)
