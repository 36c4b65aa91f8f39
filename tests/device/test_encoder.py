# Device tests of the fixed-buffer encoder: exact frames, escaping, overflow, zero allocation.
import gc
import json

from devtest import needs, raises
from ocppj.encoder import Decimal, Encoder, FrameTooLarge, Timestamp


def frame(enc):
    return json.loads(bytes(enc.frame()))


def test_call_result_error_frames():
    enc = Encoder(256)
    n = enc.call(1, "Heartbeat", {})
    assert bytes(enc.buf[:n]) == b'[2,"1","Heartbeat",{}]'
    enc.result("abc-1", {"currentTime": Timestamp(0)})
    assert frame(enc) == [3, "abc-1", {"currentTime": "2000-01-01T00:00:00Z"}]
    enc.error("9", "NotImplemented", "unknown action Fly")
    assert frame(enc) == [4, "9", "NotImplemented", "unknown action Fly", {}]
    enc.error("9", "GenericError", "x", {"why": "test"})
    assert frame(enc) == [4, "9", "GenericError", "x", {"why": "test"}]


def test_strings_are_escaped_and_utf8_passes_through():
    enc = Encoder(256)
    text = 'quote " backslash \\ nl \n tab \t ctl \x01 \x1f é € \U0001F600'
    enc.result("1", {"s": text, "b": b'raw "bytes"'})
    assert frame(enc) == [3, "1", {"s": text, "b": 'raw "bytes"'}]
    assert b"\\u0001" in bytes(enc.frame()) and "€".encode() in bytes(enc.frame())


def test_numbers_booleans_nesting_and_unset_fields():
    enc = Encoder(512)
    value = {"neg": -42, "zero": 0, "big": 2 ** 40, "t": True, "f": False,
             "list": [1, [2, [3, {}]], []], "tuple": (1, 2), "unset": None}
    enc.result("1", value)
    got = frame(enc)[2]
    assert "unset" not in got
    del value["unset"]
    value["tuple"] = [1, 2]
    assert got == value


def test_decimals_as_numbers_and_strings():
    enc = Encoder(256)
    enc.result("1", {"a": Decimal(12345, 1), "b": Decimal(-5, 2), "c": Decimal(7, 0),
                     "d": Decimal(100, 3, True), "e": Decimal(-1005, 1, True)})
    assert frame(enc)[2] == {"a": 1234.5, "b": -0.05, "c": 7, "d": "0.100", "e": "-100.5"}


def test_timestamps():
    enc = Encoder(256)
    # seconds since 2000-01-01, the firmware's clock
    cases = ((-946684800, "1970-01-01T00:00:00Z"), (0, "2000-01-01T00:00:00Z"),
             (5097600, "2000-02-29T00:00:00Z"), (848587508, "2026-11-21T14:45:08Z"),
             (3155759999, "2099-12-31T23:59:59Z"))
    for s, text in cases:
        enc.result("1", {"t": Timestamp(s)})
        assert frame(enc)[2]["t"] == text


def test_frame_that_does_not_fit_raises():
    enc = Encoder(32)
    raises(FrameTooLarge, enc.call, 1, "DataTransfer", {"data": "x" * 40})
    raises(FrameTooLarge, enc.call, 1, "Heartbeat" * 4, {})
    n = enc.call(1, "Heartbeat", {})  # the encoder is usable again afterwards
    assert bytes(enc.buf[:n]) == b'[2,"1","Heartbeat",{}]'


def test_unknown_type_is_refused():
    raises(TypeError, Encoder(64).result, "1", {"x": object()})


# -- zero allocation, measured under MicroPython ----------------------------------------
TS = Timestamp(848587508)  # 2026: a small int, as the firmware's clock gives it
ENERGY = Decimal(123456, 0, True)
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": TS}
METER = {"connectorId": 1, "transactionId": 42, "meterValue": [{"timestamp": TS, "sampledValue": [
    {"value": ENERGY, "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register",
     "unit": "Wh"},
    {"value": Decimal(7360, 0, True), "measurand": "Power.Active.Import", "unit": "W"},
    {"value": Decimal(160, 1, True), "measurand": "Current.Import", "unit": "A", "phase": "L1"}]}]}
START = {"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 123456, "timestamp": TS}
STOP = {"transactionId": 42, "idTag": "04A2B3C4", "meterStop": 130000, "timestamp": TS,
        "reason": "EVDisconnected"}
EMPTY = {}
ACCEPTED = {"status": "Accepted"}


def allocated(fn, times=1000):
    fn()
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        for _ in range(times):
            fn()
        return gc.mem_alloc() - before
    finally:
        gc.enable()


@needs("micropython")
def test_steady_state_encoding_allocates_nothing():
    enc = Encoder(2048)
    cases = (
        ("Heartbeat", lambda: enc.call(11, "Heartbeat", EMPTY)),
        ("StatusNotification", lambda: enc.call(12, "StatusNotification", STATUS)),
        ("MeterValues", lambda: enc.call(13, "MeterValues", METER)),
        ("StartTransaction", lambda: enc.call(14, "StartTransaction", START)),
        ("StopTransaction", lambda: enc.call(15, "StopTransaction", STOP)),
        ("CALLRESULT Accepted", lambda: enc.result("srv-1", ACCEPTED)),
        ("CALLRESULT empty", lambda: enc.result("srv-2", EMPTY)),
    )
    for name, fn in cases:
        TS.s += 1
        ENERGY.mantissa += 7
        assert allocated(fn) == 0, name


def test_strings_near_the_end_of_the_buffer():
    # the per-byte checked path: same output as the fast path, or FrameTooLarge
    text = 'é"\n€x'
    for size in range(20, 40):
        enc = Encoder(size)
        try:
            enc.result("1", {"s": text, "b": "ü".encode()})
        except FrameTooLarge:
            continue
        assert frame(enc) == [3, "1", {"s": text, "b": "ü"}], size
