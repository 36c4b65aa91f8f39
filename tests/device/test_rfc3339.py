# Device tests of RFC 3339 parsing, checked against the encoder's own calendar.
from devtest import raises
from ocppj import rfc3339
from ocppj.encoder import Encoder, Timestamp


def test_known_instants():
    assert rfc3339.to_s2000("1970-01-01T00:00:00Z") == -946684800
    assert rfc3339.to_s2000("2000-01-01T00:00:00Z") == 0
    assert rfc3339.to_s2000("2000-02-29T00:00:00Z") == 5097600
    assert rfc3339.to_s2000("2026-11-21T14:45:08Z") == 848587508
    assert rfc3339.to_s2000("2026-11-21T14:45:08.999Z") == 848587508
    assert rfc3339.to_s2000("2026-11-21T15:45:08+01:00") == 848587508
    assert rfc3339.to_s2000("2026-11-21T09:15:08-05:30") == 848587508


def test_round_trip_with_the_encoder():
    enc = Encoder(64)
    for s in (-946684800, 0, 86399, 86400, 5184000, 848587508, 3155759999, 3160857600):
        enc.result("1", Timestamp(s))
        text = bytes(enc.frame())[len(b'[3,"1",') + 1:-2].decode()
        assert rfc3339.to_s2000(text) == s, text


def test_bad_text_is_refused():
    for bad in ("2026-02-30T00:00:00Z", "2026-11-21 14:45:08Z", "2026-11-21T14:45:08", 5, ""):
        raises(ValueError, rfc3339.to_s2000, bad)
