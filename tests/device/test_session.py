# Device tests of the RPC session: incoming CALLs answered with the right codes, our CALLs
# one at a time, answers validated, the boot gate. The peer is a list of sent frames.
import asyncio
import json

from ocppj import errors
from ocppj.encoder import Encoder
from ocppj.protocol import V16
from ocppj.session import CallTimeout, Session


class Wire:
    """The far end: collects what the session sends."""

    def __init__(self):
        self.frames = []
        self.sent = asyncio.Event()

    async def send(self, buf, n):
        self.frames.append(json.loads(bytes(buf[:n])))
        self.sent.set()

    def last(self):
        return self.frames[-1]


def session(timeout_ms=2000):
    wire = Wire()
    s = Session(V16, Encoder(2048), wire.send, timeout_ms=timeout_ms)
    s.opened()
    return s, wire


async def answer_of(s, wire, frame):
    before = len(wire.frames)
    await s.feed(json.dumps(frame).encode())
    assert len(wire.frames) == before + 1, "no answer to %r" % (frame,)
    return wire.last()


async def test_handler_result_is_sent():
    s, wire = session()
    s.handlers["Reset"] = lambda p: {"status": "Accepted"}
    assert await answer_of(s, wire, [2, "a1", "Reset", {"type": "Soft"}]) == [
        3, "a1", {"status": "Accepted"}]


async def test_async_handler():
    s, wire = session()

    async def on_clear(payload):
        await asyncio.sleep(0)
        return {"status": "Rejected"}

    s.handlers["ClearCache"] = on_clear
    assert await answer_of(s, wire, [2, "a2", "ClearCache", {}]) == [
        3, "a2", {"status": "Rejected"}]


async def test_unknown_and_unsupported_actions():
    s, wire = session()
    got = await answer_of(s, wire, [2, "b1", "FlyToTheMoon", {}])
    assert got[:3] == [4, "b1", "NotImplemented"]
    got = await answer_of(s, wire, [2, "b2", "UnlockConnector", {"connectorId": 1}])
    assert got[:3] == [4, "b2", "NotSupported"]
    # an action the central system never sends us is unknown here, too
    got = await answer_of(s, wire, [2, "b3", "BootNotification", {}])
    assert got[:3] == [4, "b3", "NotImplemented"]


async def test_invalid_payloads_get_their_16_codes():
    s, wire = session()
    s.handlers["RemoteStartTransaction"] = lambda p: {"status": "Accepted"}
    s.handlers["ChangeAvailability"] = lambda p: {"status": "Accepted"}
    cases = (
        ([2, "c1", "RemoteStartTransaction", {}], "ProtocolError"),
        ([2, "c2", "RemoteStartTransaction", {"idTag": 5}], "TypeConstraintViolation"),
        ([2, "c3", "RemoteStartTransaction", {"idTag": "x" * 21}], "PropertyConstraintViolation"),
        ([2, "c4", "ChangeAvailability", {"connectorId": 1, "type": "Sideways"}],
         "PropertyConstraintViolation"),
        ([2, "c5", "ChangeAvailability", {"connectorId": 1, "type": "Inoperative", "x": 1}],
         "FormationViolation"),
        ([2, "c6", "RemoteStartTransaction", []], "FormationViolation"),
    )
    for frame, code in cases:
        got = await answer_of(s, wire, frame)
        assert got[0] == 4 and got[1] == frame[1] and got[2] == code, (frame, got)


async def test_handler_errors():
    s, wire = session()

    def refuse(payload):
        raise errors.CallError("SecurityError", "not from you", {"why": "test"})

    def broken(payload):
        raise KeyError("bug")

    s.handlers["Reset"] = refuse
    s.handlers["ClearCache"] = broken
    assert await answer_of(s, wire, [2, "d1", "Reset", {"type": "Hard"}]) == [
        4, "d1", "SecurityError", "not from you", {"why": "test"}]
    got = await answer_of(s, wire, [2, "d2", "ClearCache", {}])
    assert got[:3] == [4, "d2", "InternalError"]


async def test_malformed_frames():
    s, wire = session()
    for junk in (b"not json", b"", b"{}", b"[]", b"[2]", b"42", b'[2, 5, "Reset", {}]'):
        await s.feed(junk)
    assert wire.frames == [], wire.frames  # no readable id: dropped
    got = await answer_of(s, wire, [2, "e1", "Reset"])
    assert got[:3] == [4, "e1", "FormationViolation"]
    got = await answer_of(s, wire, [7, "e2", {}])
    assert got[:3] == [4, "e2", "GenericError"]  # 1.6 has no MessageTypeNotSupported
    long_id = "x" * 37
    got = await answer_of(s, wire, [2, long_id, "Reset", {"type": "Soft"}])
    assert got[0] == 4 and got[1] == long_id and got[2] == "FormationViolation"


async def test_response_too_large_becomes_a_callerror():
    wire = Wire()
    s = Session(V16, Encoder(120), wire.send)
    s.opened()
    s.handlers["GetConfiguration"] = lambda p: {"configurationKey": [
        {"key": "K%d" % i, "readonly": True, "value": "v" * 30} for i in range(10)]}
    got = await answer_of(s, wire, [2, "f1", "GetConfiguration", {}])
    assert got[:3] == [4, "f1", "InternalError"]


async def accepted_session():
    s, wire = session()
    s.set_registration("Accepted")
    return s, wire


async def test_call_returns_the_validated_result():
    s, wire = await accepted_session()
    task = asyncio.create_task(s.call("Heartbeat", {}))
    await wire.sent.wait()
    sent = wire.last()
    assert sent[0] == 2 and sent[2] == "Heartbeat" and sent[3] == {}
    await s.feed(json.dumps([3, sent[1], {"currentTime": "2026-11-21T14:45:08Z"}]).encode())
    assert (await task) == {"currentTime": "2026-11-21T14:45:08Z"}


async def test_invalid_result_is_a_failed_call():
    s, wire = await accepted_session()
    task = asyncio.create_task(s.call("BootNotification", {
        "chargePointVendor": "V", "chargePointModel": "M"}))
    await wire.sent.wait()
    await s.feed(json.dumps([3, wire.last()[1], {
        "status": "Accepted", "currentTime": "2026-11-21T14:45:08Z"}]).encode())
    try:
        await task
    except errors.CallError as e:
        assert e.code == "ProtocolError", e.code  # interval is missing
    else:
        raise AssertionError("accepted an answer without interval")


async def test_callerror_reaches_the_caller_in_either_spelling():
    s, wire = await accepted_session()
    for wire_code, generic in (("FormatViolation", "FormationViolation"),
                               ("OccurrenceConstraintViolation", "OccurenceConstraintViolation"),
                               ("NotSupported", "NotSupported"), ("SecurityError", "SecurityError"),
                               ("RpcFrameworkError", "RpcFrameworkError"),
                               ("Nonsense", "GenericError")):
        wire.sent.clear()
        task = asyncio.create_task(s.call("Heartbeat", {}))
        await wire.sent.wait()
        await s.feed(json.dumps([4, wire.last()[1], wire_code, "no", {}]).encode())
        try:
            await task
        except errors.CallError as e:
            assert e.code == generic and e.description == "no", (wire_code, e.code)
        else:
            raise AssertionError("no error")


async def test_unknown_result_ids_are_dropped():
    s, wire = await accepted_session()
    await s.feed(b'[3,"nobody-asked",{}]')
    await s.feed(b'[4,"nobody-asked","GenericError","",{}]')
    assert wire.frames == []


async def test_one_call_in_flight_and_incoming_calls_answered_meanwhile():
    s, wire = await accepted_session()
    s.handlers["ClearCache"] = lambda p: {"status": "Accepted"}
    first = asyncio.create_task(s.call("Heartbeat", {}))
    second = asyncio.create_task(s.call("Heartbeat", {}))
    await wire.sent.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(wire.frames) == 1  # the second waits for the first answer
    await s.feed(b'[2,"srv","ClearCache",{}]')  # answered while our CALL waits
    assert wire.last() == [3, "srv", {"status": "Accepted"}]
    first_id = wire.frames[0][1]
    await s.feed(json.dumps([3, first_id, {"currentTime": "2026-11-21T14:45:08Z"}]).encode())
    await first
    for _ in range(5):
        await asyncio.sleep(0)
    assert wire.last()[0] == 2 and wire.last()[1] != first_id  # ids are unique
    await s.feed(json.dumps([3, wire.last()[1], {"currentTime": "2026-11-21T14:45:09Z"}]).encode())
    await second


async def test_call_times_out():
    s, wire = await accepted_session()
    try:
        await s.call("Heartbeat", {}, timeout_ms=50)
    except CallTimeout:
        pass
    else:
        raise AssertionError("no timeout")


async def test_nothing_but_boot_before_accepted():
    s, wire = session()
    blocked = asyncio.create_task(s.call("Heartbeat", {}))
    for _ in range(5):
        await asyncio.sleep(0)
    assert wire.frames == []  # not registered: Heartbeat waits
    s.set_registration("Pending")
    status = {"connectorId": 0, "errorCode": "NoError", "status": "Available"}
    triggered = asyncio.create_task(s.call("StatusNotification", status, triggered=True))
    await wire.sent.wait()
    assert [f[2] for f in wire.frames] == ["StatusNotification"]  # only what was triggered
    await s.feed(json.dumps([3, wire.last()[1], {}]).encode())
    await triggered
    s.set_registration("Accepted")
    for _ in range(5):
        await asyncio.sleep(0)
    assert wire.last()[2] == "Heartbeat"
    await s.feed(json.dumps([3, wire.last()[1], {"currentTime": "2026-11-21T14:45:08Z"}]).encode())
    await blocked


async def test_after_reply_runs_once_the_answer_is_out():
    s, wire = await accepted_session()

    async def heartbeat_after():
        await s.call("Heartbeat", {})

    def on_trigger(payload):
        s.after_reply(heartbeat_after)
        return {"status": "Accepted"}

    s.handlers["TriggerMessage"] = on_trigger
    await s.feed(b'[2,"t1","TriggerMessage",{"requestedMessage":"Heartbeat"}]')
    for _ in range(5):
        await asyncio.sleep(0)
    assert wire.frames[0] == [3, "t1", {"status": "Accepted"}]
    assert wire.frames[1][2] == "Heartbeat"
    await s.feed(json.dumps([3, wire.frames[1][1], {"currentTime": "2026-11-21T14:45:08Z"}]).encode())


async def test_rejected_takes_effect_when_its_answer_arrives():
    # The central system may send a CALL right behind its Rejected answer: it must already
    # go unanswered, before the task that made the BootNotification has run again.
    s, wire = session()
    ran = []
    s.handlers["GetConfiguration"] = lambda p: ran.append(p) or {"configurationKey": []}
    boot = asyncio.create_task(s.call("BootNotification", {
        "chargePointVendor": "V", "chargePointModel": "M"}))
    await wire.sent.wait()
    await s.feed(json.dumps([3, wire.last()[1], {
        "status": "Rejected", "currentTime": "2026-11-21T14:45:08Z", "interval": 60}]).encode())
    await s.feed(json.dumps([2, "g1", "GetConfiguration", {}]).encode())  # no turn between
    assert (await boot)["status"] == "Rejected"
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(wire.frames) == 1 and ran == [], wire.frames  # only the BootNotification


async def test_silent_while_rejected():
    # 1.6 §4.2: "While Rejected, the Charge Point SHALL NOT respond to any Central System
    # initiated message" and sends no OCPP message at all: no CALLRESULT, no CALLERROR, and
    # the handler does not run (a RemoteStart must not start anything).
    s, wire = session()
    ran = []
    s.handlers["RemoteStartTransaction"] = lambda p: ran.append(p) or {"status": "Accepted"}
    s.handlers["GetConfiguration"] = lambda p: ran.append(p) or {"configurationKey": []}
    s.set_registration("Rejected")
    for frame in ([2, "r1", "RemoteStartTransaction", {"idTag": "04A2B3C4"}],
                  [2, "r2", "GetConfiguration", {}],
                  [2, "r3", "FlyToTheMoon", {}],  # would be NotImplemented
                  [2, "r4", "RemoteStartTransaction", {}],  # would be ProtocolError
                  [2, "r5", "Reset"],  # would be FormationViolation
                  [7, "r6", {}]):  # would be GenericError
        await s.feed(json.dumps(frame).encode())
    for _ in range(5):
        await asyncio.sleep(0)
    assert wire.frames == [], wire.frames
    assert ran == [], ran
    # our own BootNotification still goes out and its answer is taken while Rejected
    boot = asyncio.create_task(s.call("BootNotification", {
        "chargePointVendor": "V", "chargePointModel": "M"}))
    await wire.sent.wait()
    await s.feed(json.dumps([3, wire.last()[1], {
        "status": "Accepted", "currentTime": "2026-11-21T14:45:08Z", "interval": 60}]).encode())
    assert (await boot)["status"] == "Accepted"
    s.set_registration("Accepted")
    got = await answer_of(s, wire, [2, "r7", "GetConfiguration", {}])
    assert got == [3, "r7", {"configurationKey": []}], got


async def test_pending_and_unregistered_answer():
    # Pending: the central system may ask (§4.2, "The Charge Point SHOULD respond"); before
    # the first BootNotification answer nothing forbids answering either.
    for status in (None, "Pending"):
        s, wire = session()
        s.handlers["GetConfiguration"] = lambda p: {"configurationKey": []}
        s.set_registration(status)
        got = await answer_of(s, wire, [2, "p1", "GetConfiguration", {}])
        assert got == [3, "p1", {"configurationKey": []}], (status, got)


async def test_null_payloads_where_nothing_is_required():
    # OCPP-J 1.6 4.2.1/4.2.2: "null or ... empty object"; taken as {} where {} is valid
    s, wire = await accepted_session()
    seen = []
    s.handlers["ClearCache"] = lambda p: seen.append(p) or {"status": "Accepted"}
    s.handlers["Reset"] = lambda p: seen.append(p) or {"status": "Accepted"}
    assert await answer_of(s, wire, [2, "n1", "ClearCache", None]) == [
        3, "n1", {"status": "Accepted"}]
    assert seen == [{}], seen  # the handler gets a dict
    got = await answer_of(s, wire, [2, "n2", "Reset", None])  # type is required
    assert got[:3] == [4, "n2", "FormationViolation"] and len(seen) == 1, got
    # answers to our CALLs: MeterValues.conf and StopTransaction.conf have no required field
    for action, payload in (
            ("MeterValues", {"connectorId": 1, "meterValue": [{
                "timestamp": "2026-11-21T14:45:08Z", "sampledValue": [{"value": "1"}]}]}),
            ("StopTransaction", {"transactionId": 1, "meterStop": 9,
                                 "timestamp": "2026-11-21T14:45:08Z"})):
        wire.sent.clear()
        task = asyncio.create_task(s.call(action, payload))
        await wire.sent.wait()
        await s.feed(json.dumps([3, wire.last()[1], None]).encode())
        result = await task
        assert result == {} and isinstance(result, dict), (action, result)
    wire.sent.clear()
    task = asyncio.create_task(s.call("Heartbeat", {}))  # currentTime is required
    await wire.sent.wait()
    await s.feed(json.dumps([3, wire.last()[1], None]).encode())
    try:
        await task
    except errors.CallError as e:
        assert e.code == "FormationViolation", e.code
    else:
        raise AssertionError("a null Heartbeat.conf was taken")


async def test_invalid_messages_are_told_once_per_connection():
    # whitepaper 2.8 InvalidMessages: received messages that are not valid OCPP
    told = []
    wire = Wire()
    s = Session(V16, Encoder(2048), wire.send, on_invalid=told.append)
    s.opened()
    s.handlers["Reset"] = lambda p: {"status": "Accepted"}
    await answer_of(s, wire, [2, "ok", "Reset", {"type": "Soft"}])
    assert told == [], "a valid CALL is no event"
    await s.feed(b"{not json")
    await s.feed(json.dumps([2, "r1", "Reset", {"type": "Sideways"}]).encode())
    await s.feed(json.dumps([9, "r2", {}]).encode())
    assert told == ["a message that is not JSON"], told
    s.closed()
    s.opened()
    await s.feed(json.dumps([2, "r3", "Reset", {"type": "Sideways"}]).encode())
    assert len(told) == 2 and told[1].startswith("Reset against its schema"), told


async def test_a_link_that_fails_under_a_call_is_not_connected():
    # The link may close between the connected check and the send: its error (ws.WsError)
    # reaches the caller as NotConnected, which every caller handles, not as a task-ending
    # exception (seen: the security events' sender died when a profile change closed the link)
    from ocppj.session import NotConnected
    from ws.errors import WsError

    async def closing(buf, n):
        raise WsError("not connected")
    s = Session(V16, Encoder(2048), closing)
    s.opened()
    s.set_registration("Accepted")
    try:
        await s.call("Heartbeat", {})
    except NotConnected as e:
        assert "not connected" in str(e), e
    else:
        raise AssertionError("no NotConnected")
