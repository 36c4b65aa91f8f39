# Device tests of the fast encoder (json.dump into a stream on MicroPython): the same bytes as
# ExactEncoder for every kind of value, FrameTooLarge at the exact boundary, allocation.
import json

from devtest import needs, raises
from test_encoder import allocated  # total bytes of n calls, the GC off
from ocppj.encoder import Decimal, Encoder, ExactEncoder, FrameTooLarge, Timestamp

TEXTS = ("", "plain", 'quote " backslash \\ slash /', "nl \n cr \r tab \t", "bs \b ff \f",
         "ctl \x00 \x01 \x0b \x1f \x7f", "é € \U0001F600", "<tag>", "(x)", "a:null", "\\u0008",
         "null")
VALUES = TEXTS + (0, -1, 7, 2 ** 31, -2 ** 40, True, False, None, 1.5, -0.25, 1e100,
                  b"raw", b'b"s\\\b', "é".encode(), [], {}, (), [None, 1], (1, "x"),
                  Decimal(0), Decimal(12345, 1), Decimal(-5, 2), Decimal(7, 0, True),
                  Decimal(100, 3, True), Decimal(-1005, 1, True), Decimal(5, -1),
                  Decimal(10 ** 12 + 3, 4, True), Timestamp(0), Timestamp(848587508),
                  Timestamp(-946684800), Timestamp(5097600), Timestamp(3155759999),
                  Timestamp(-946684800 - 86400 * 366 * 2000), Timestamp(10 ** 13))


def payloads():
    """Every value alone, in a dict (keys that need escaping too), in lists, nested."""
    for v in VALUES:
        yield {"v": v}
        yield [v]
    yield {t: t for t in TEXTS}
    yield {"a": None, "b": 1}
    yield {"a": {"b": None}, "c": [None, {"d": None}]}
    yield {"meterValue": [{"timestamp": Timestamp(1), "sampledValue": [
        {"value": Decimal(123456, 0, True), "unit": "Wh"}, {"value": Decimal(16, 1, True)}]}]}
    yield {}
    yield [VALUES, {"all": list(VALUES)}]


def frames(enc):
    """(what, the frame's bytes) for every kind of frame of every payload."""
    for i, p in enumerate(payloads()):
        for mid in ("17", 17, "srv-1\n", ""):
            yield ("call", mid, i), bytes(enc.buf[:enc.call(mid, "Act", p)])
        yield ("result", i), bytes(enc.buf[:enc.result("r" + str(i), p)])
        yield ("error", i), bytes(enc.buf[:enc.error(i, "GenericError", "d\b", p)])
    for mid in ("1", "123456789", "1234567890", 42, "x"):
        for action in ("Heartbeat", "Heart\"beat", "A" * 40):
            yield ("empty call", mid, action), bytes(enc.buf[:enc.call(mid, action, {})])
    yield ("error",), bytes(enc.buf[:enc.error("1", "NotImplemented", "", None)])
    yield ("error []",), bytes(enc.buf[:enc.error("1", "NotImplemented", "", [])])


def test_same_bytes_as_exact_encoder():
    fast = list(frames(Encoder(8192)))
    exact = list(frames(ExactEncoder(8192)))
    assert len(fast) == len(exact)
    for (what, got), (_, want) in zip(fast, exact):
        assert got == want, (what, got, want)


def test_a_frame_fits_exactly_or_raises():
    # Each frame in a buffer of its own length, and one byte shorter: FrameTooLarge, never a
    # truncated frame; the encoder keeps working after it.
    cases = (("11", "Heartbeat", {}), ("12", "StatusNotification", {
        "connectorId": 1, "errorCode": "NoError", "status": "Charging",
        "timestamp": Timestamp(848587508)}), (13, "DataTransfer", {"data": "é\b" * 300}),
        ("14", "MeterValues", {"connectorId": 1, "meterValue": [
            {"timestamp": Timestamp(5), "sampledValue": [{"value": Decimal(5, 1, True)}]}]}),
        ("15", "X", {"a": None, "b": "<"}))
    for mid, action, payload in cases:
        want = frame_of(ExactEncoder(4096), mid, action, payload)
        size = len(want)
        for n in (size, size + 1, size + 40):
            assert frame_of(Encoder(n), mid, action, payload) == want, (action, n)
        enc = Encoder(size - 1)
        raises(FrameTooLarge, enc.call, mid, action, payload)
        raises(FrameTooLarge, enc.call, mid, action, payload)
        n = enc.call("1", "A", {})
        assert bytes(enc.buf[:n]) == b'[2,"1","A",{}]'


def frame_of(enc, mid, action, payload):
    return bytes(enc.buf[:enc.call(mid, action, payload)])


def test_objects_with_no_json_form_are_refused():
    enc = Encoder(256)
    # (MicroPython's json.dump prints these as <...> or name(...), which the encoder looks
    # for; a non-empty set or an imaginary number would slip through there)
    for bad in (object(), Encoder, len, set(), bytearray(b"x"), memoryview(b"x"), range(2)):
        raises(TypeError, enc.call, "1", "A", {"x": bad})
        raises(TypeError, enc.result, "1", [1, bad])
    n = enc.call("1", "A", {"x": 1})
    assert json.loads(bytes(enc.buf[:n])) == [2, "1", "A", {"x": 1}]


def test_frames_of_any_length_in_any_order():
    # buf[:n] is the frame whatever came before it: longer, shorter, a Heartbeat, a frame
    # ExactEncoder wrote, one that did not fit, one bigger than the stream's first size.
    enc = Encoder(2048)
    big = {"data": "x" * 1500}
    for payload in ({}, {"a": 1}, big, {}, {"a": None}, {"b": "\f"}, big, {"c": 2}, {}):
        for mid in ("7", 7):
            n = enc.call(mid, "Heartbeat", payload)
            assert json.loads(bytes(enc.buf[:n])) == [2, "7", "Heartbeat", {
                k: v for k, v in payload.items() if v is not None}]
            assert bytes(enc.frame()) == bytes(enc.buf[:n])
    raises(FrameTooLarge, enc.call, "8", "A", {"data": "x" * 4000})
    assert json.loads(bytes(enc.buf[:enc.call("9", "A", big)]))[3] == big


def test_timestamps_across_seconds_days_and_years():
    fast, exact = Encoder(128), ExactEncoder(128)
    t = Timestamp(0)
    for s in list(range(86390, 86410)) + [5097599, 5097600, 5184000, 3155759999, -1, -86401,
                                          86390, 0, 31535999, 31536000]:
        t.s = s
        assert frame_of(fast, "1", "A", [t, t]) == frame_of(exact, "1", "A", [t, t]), s


def test_holders_repr_outside_a_frame():
    Encoder(64).call("1", "A", {"t": Timestamp(1)})
    assert repr(Timestamp(5)) == "Timestamp(5)"
    assert repr(Decimal(-5, 2, True)) == "Decimal(-5, 2, True)"


# -- allocation, measured under MicroPython ------------------------------------------------
def allocated_per_frame(fn, times=200):
    return allocated(fn, times) / times


@needs("micropython")
def test_steady_state_frames_allocate_at_most_64_bytes():
    # As the firmware sends them: a new second on every frame, the meter counting up, the
    # ids the session makes (text); one sample dict reused, as a caller may.
    enc = Encoder(4096)
    ts = Timestamp(848587508)
    energy = Decimal(123456, 0, True)
    power = Decimal(7360, 0, True)
    current = Decimal(160, 1, True)
    meter = {"connectorId": 1, "transactionId": 42, "meterValue": [{"timestamp": ts,
             "sampledValue": [{"value": energy, "measurand": "Energy.Active.Import.Register",
                               "unit": "Wh"}, {"value": power, "unit": "W"},
                              {"value": current, "unit": "A", "phase": "L1"}]}]}
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": ts}
    config = {"configurationKey": [{"key": "Key%d" % i, "readonly": i % 2 == 0,
                                    "value": "v" * i} for i in range(40)]}
    empty = {}
    ids = ["%d" % i for i in range(1000, 1200)]
    state = [0]

    def next_id():
        state[0] = (state[0] + 1) % len(ids)
        ts.s += 1
        energy.mantissa += 7
        power.mantissa ^= 1
        current.mantissa += 1
        return ids[state[0]]

    cases = (
        ("Heartbeat", lambda: enc.call(next_id(), "Heartbeat", empty)),
        ("StatusNotification", lambda: enc.call(next_id(), "StatusNotification", status)),
        ("MeterValues", lambda: enc.call(next_id(), "MeterValues", meter)),
        ("CALLERROR", lambda: enc.error(next_id(), "NotSupported", "no")),
        ("int id", lambda: enc.call(int(next_id()), "StatusNotification", status)),
    )
    for name, fn in cases:
        per_frame = allocated_per_frame(fn)
        assert per_frame <= 64, (name, per_frame)
        assert per_frame == 0, (name, per_frame)  # none, in fact: keep it so
    # A frame longer than the stream's 512 bytes (a GetConfiguration answer, not steady
    # traffic) grows a stream for itself, which then goes: what it allocates is garbage of
    # about its own size, and the steady frames after it allocate nothing again.
    n = enc.result(next_id(), config)
    big = allocated_per_frame(lambda: enc.result(next_id(), config))
    assert 512 < n and big <= 3 * n, (n, big)
    assert allocated_per_frame(cases[2][1]) == 0, "MeterValues after a long frame"
