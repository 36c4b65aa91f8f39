# Property tests: json.loads of every encoded frame equals the value that was encoded.
import json
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ocppj.encoder import Decimal, Encoder, Timestamp

text = st.text(st.characters(codec="utf-8"), max_size=40)
leaf = st.one_of(text, st.integers(-2 ** 53, 2 ** 53), st.booleans())
payload_value = st.recursive(
    leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(text, inner, max_size=5)),
    max_leaves=30)
payload = st.dictionaries(text, payload_value, max_size=6)
ENC = Encoder(64 * 1024)  # one buffer, reused like the firmware's
msg_id = st.one_of(st.integers(0, 10 ** 12), st.text(st.characters(codec="utf-8"), max_size=36))


@settings(max_examples=150, deadline=None)
@given(msg_id, st.text(st.characters(codec="utf-8"), min_size=1, max_size=30), payload)
def test_call_round_trips(mid, action, body):
    enc = ENC
    enc.call(mid, action, body)
    assert json.loads(bytes(enc.frame())) == [2, str(mid), action, body]


@settings(max_examples=100, deadline=None)
@given(msg_id, payload)
def test_result_round_trips(mid, body):
    enc = ENC
    enc.result(mid, body)
    assert json.loads(bytes(enc.frame())) == [3, str(mid), body]


@settings(max_examples=100, deadline=None)
@given(msg_id, text, text, payload)
def test_error_round_trips(mid, code, description, details):
    enc = ENC
    enc.error(mid, code, description, details)
    assert json.loads(bytes(enc.frame())) == [4, str(mid), code, description, details]


@settings(max_examples=150, deadline=None)
@given(st.integers(-10 ** 12, 10 ** 12), st.integers(0, 6), st.booleans())
def test_decimals(mantissa, scale, quoted):
    enc = Encoder(256)
    enc.result("1", {"v": Decimal(mantissa, scale, quoted)})
    got = json.loads(bytes(enc.frame()))[2]["v"]
    text_value = got if quoted else json.dumps(got)
    sign = "-" if mantissa < 0 else ""
    whole, frac = divmod(abs(mantissa), 10 ** scale)
    expected = sign + str(whole) + ("." + str(frac).rjust(scale, "0") if scale else "")
    if quoted:
        assert got == expected
    else:
        assert abs(got - mantissa / 10 ** scale) <= abs(mantissa / 10 ** scale) * 1e-12
        assert float(text_value) == float(expected)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 253402300799))  # 1970 .. 9999-12-31T23:59:59Z
def test_timestamps_match_the_calendar(s):
    enc = Encoder(256)
    enc.result("1", {"t": Timestamp(s - 946684800)})  # the encoder counts from 2000
    got = json.loads(bytes(enc.frame()))[2]["t"]
    assert got == datetime.fromtimestamp(s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
