# Device tests of the WebSocket framing and handshake helpers (no sockets: they also run under
# MicroPython's WebAssembly port). Plain functions and bare asserts.
import hashlib

from ws.errors import WsError
from ws.frames import (BINARY, CLOSE, CONT, PING, TEXT, Header, build_frame, close_payload,
                       encode_header, mask, mask_copy, new_key, parse_close, valid_close_code)
from ws.handshake import (accept_for, basic_auth, check_response, host_header, new_key as ws_key,
                          parse_header, parse_status, parse_url, percent_encode, request)


# The WebAssembly port has no hashlib.sha1 (the ESP32, unix port and CPython do): the checks
# that need the Sec-WebSocket-Accept value are skipped there.
HAVE_SHA1 = hasattr(hashlib, "sha1")


def raises(fn, *args):
    """The exception fn(*args) raises (None if it returns)."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001
        return e
    return None


# --- percent-encoding -------------------------------------------------------------------------

def test_percent_encoding_keeps_unreserved_only():
    assert percent_encode("CP_1") == "CP_1"
    assert percent_encode("AZaz09-._~") == "AZaz09-._~"
    assert percent_encode("CP 1") == "CP%201"
    assert percent_encode("a/b?c#d%e+f:g@h") == "a%2Fb%3Fc%23d%25e%2Bf%3Ag%40h"
    assert percent_encode("Zürich€") == "Z%C3%BCrich%E2%82%AC"
    assert percent_encode("") == ""


# --- handshake --------------------------------------------------------------------------------

def test_accept_key_of_rfc_6455():
    if not HAVE_SHA1:
        return
    assert accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_new_key_is_16_random_bytes_base64():
    a, b = ws_key(), ws_key()
    assert len(a) == 24 and a.endswith("==") and a != b


def test_basic_auth_header():
    assert basic_auth("CP_1", "secret") == "Basic Q1BfMTpzZWNyZXQ="


def test_parse_url():
    assert parse_url("ws://csms.example.com/ocpp") == (False, "csms.example.com", 80, "/ocpp")
    assert parse_url("wss://csms.example.com:8443/a/b/") == (True, "csms.example.com", 8443, "/a/b")
    assert parse_url("ws://10.0.0.1:9000") == (False, "10.0.0.1", 9000, "")
    assert parse_url("wss://[::1]:9443/ocpp") == (True, "::1", 9443, "/ocpp")
    for bad in ("http://h/", "ws://", "ws://h:x/", "ws://h:70000/", "ws://u@h/", "ws://h/?a"):
        assert isinstance(raises(parse_url, bad), WsError), bad


def test_host_header_leaves_out_default_ports():
    assert host_header("h", 80, False) == "h"
    assert host_header("h", 443, True) == "h"
    assert host_header("h", 443, False) == "h:443"
    assert host_header("::1", 9000, False) == "[::1]:9000"


def test_request_lines():
    req = request("h:9000", "/ocpp/CP_1", "k==", ("ocpp2.0.1", "ocpp1.6"), "Basic xyz")
    lines = req.decode().split("\r\n")
    assert lines[0] == "GET /ocpp/CP_1 HTTP/1.1"
    assert req.endswith(b"\r\n\r\n")
    for line in ("Host: h:9000", "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: k==", "Sec-WebSocket-Version: 13",
                 "Sec-WebSocket-Protocol: ocpp2.0.1, ocpp1.6", "Authorization: Basic xyz"):
        assert line in lines, line
    assert "Authorization" not in request("h", "/", "k", ("ocpp1.6",)).decode()


def test_status_and_header_lines():
    assert parse_status(b"HTTP/1.1 101 Switching Protocols\r\n") == (101, "Switching Protocols")
    assert parse_status(b"HTTP/1.1 401\r\n") == (401, "")
    assert isinstance(raises(parse_status, b"SSH-2.0-OpenSSH\r\n"), WsError)
    assert parse_header(b"Sec-WebSocket-Protocol:  ocpp1.6 \r\n") == ("sec-websocket-protocol",
                                                                     "ocpp1.6")
    assert parse_header(b"no colon\r\n") is None


def _headers(key, proto="ocpp1.6"):
    h = {"upgrade": "websocket", "connection": "Upgrade", "sec-websocket-accept": accept_for(key)}
    if proto:
        h["sec-websocket-protocol"] = proto
    return h


def test_check_response():
    if not HAVE_SHA1:
        return
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    offered = ("ocpp2.0.1", "ocpp1.6")
    assert check_response(101, "", _headers(key), key, offered) == "ocpp1.6"
    e = raises(check_response, 101, "", _headers(key, None), key, offered)
    assert e.code == 101
    assert e.reason == "central system selected no subprotocol (offered: ocpp2.0.1, ocpp1.6)"
    e = raises(check_response, 101, "", _headers(key, "ocpp1.5"), key, offered)
    assert "'ocpp1.5', not one offered" in e.reason
    e = raises(check_response, 101, "", _headers("other"), key, offered)
    assert "Sec-WebSocket-Accept" in e.reason
    h = _headers(key)
    h["sec-websocket-extensions"] = "permessage-deflate"
    assert "extension" in raises(check_response, 101, "", h, key, offered).reason


def test_check_response_refusals():
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    offered = ("ocpp1.6",)
    e = raises(check_response, 401, "Unauthorized", {}, key, offered, True)
    assert e.code == 401 and e.reason.startswith("HTTP 401: authorization key rejected")
    e = raises(check_response, 401, "Unauthorized", {}, key, offered, False)
    assert "none is configured" in e.reason
    e = raises(check_response, 302, "Found", {"location": "ws://x/"}, key, offered)
    assert e.code == 302 and "ws://x/" in e.reason
    assert str(raises(check_response, 404, "", {}, key, offered)).endswith("(code 404)")


# --- frames -----------------------------------------------------------------------------------

def test_headers_of_rfc_6455_examples():
    assert build_frame(TEXT, b"Hello") == b"\x81\x05Hello"
    masked = build_frame(TEXT, b"Hello", key=b"\x37\xfa\x21\x3d")
    assert masked == b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
    assert build_frame(TEXT, b"Hel", fin=False) + build_frame(CONT, b"lo") == \
        b"\x01\x03Hel\x80\x02lo"
    assert build_frame(PING, b"Hello") == b"\x89\x05Hello"
    assert build_frame(BINARY, bytes(256))[:4] == b"\x82\x7e\x01\x00"
    assert build_frame(BINARY, bytes(65536))[:10] == b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"


def test_header_round_trip_for_every_length_class():
    buf = bytearray(14)
    h = Header()
    for n in (0, 1, 125, 126, 127, 65535, 65536, 1 << 32):
        for key in (None, b"\x01\x02\x03\x04"):
            size = encode_header(buf, BINARY, n, False, key)
            assert size == (2 if n < 126 else 4 if n < 65536 else 10) + (4 if key else 0)
            need = h.parse(buf, 2)
            assert need == size
            assert h.parse(buf, need) == size
            assert h.length == n and h.opcode == BINARY and not h.fin
            assert h.masked == (key is not None)


def test_header_errors():
    h = Header()

    def error(frame):
        h.parse(frame, h.parse(frame, 2))
        return h.error()

    assert error(b"\x81\x02hi") is None
    assert error(b"\x88\x00") is None
    assert "reserved" in error(b"\xc1\x00")
    assert "opcode" in error(b"\x83\x00") and "opcode" in error(b"\x8b\x00")
    assert "masked" in error(b"\x81\x82\x00\x00\x00\x00hi")
    assert "fragmented control" in error(b"\x09\x00")
    assert "125" in error(b"\x89\x7e\x00\x7e")
    assert "top bit" in error(b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01")


def test_mask_in_place_and_in_chunks():
    key = b"\xa5\x5a\x0f\xf0"
    data = bytes(range(37))
    buf = bytearray(data)
    mask(buf, 0, len(buf), key)
    assert bytes(buf) != data
    whole = bytes(buf)
    mask(buf, 0, len(buf), key)
    assert bytes(buf) == data  # XOR twice gives it back
    out = bytearray(40)
    mask_copy(out, 3, data, 0, 8, key)  # first chunk after a 3-byte header...
    mask_copy(out, 11, data, 8, 29, key, 8)  # ...the rest continues the key phase
    assert bytes(out[3:40]) == whole


def test_mask_keys_are_fresh():
    keys = [new_key() for _ in range(8)]
    assert all(len(k) == 4 for k in keys)
    assert len(set(keys)) > 1


def test_close_payloads():
    buf = bytearray(125)
    n = close_payload(buf, 1000, "bye")
    assert bytes(buf[:n]) == b"\x03\xe8bye"
    assert parse_close(buf[:n]) == (1000, "bye")
    assert close_payload(buf, None) == 0 and parse_close(b"") == (1005, "")
    n = close_payload(buf, 4000, "é" * 100)  # cut to 125 bytes, never inside a character
    assert n == 124 and parse_close(buf[:n]) == (4000, "é" * 61)
    assert raises(parse_close, b"\x03").args[0] == 1002
    assert raises(parse_close, b"\x03\xed").args[0] == 1002  # 1005 is never sent
    assert raises(parse_close, b"\x03\xe8\xff").args[0] == 1007
    assert valid_close_code(1000) and valid_close_code(4999) and valid_close_code(1011)
    assert not valid_close_code(1006) and not valid_close_code(999) and not valid_close_code(5000)
    assert build_frame(CLOSE, b"\x03\xe8")[:2] == b"\x88\x02"


def _checks_utf8():
    try:
        str(b"\xff", "utf-8")
    except UnicodeError:
        return True
    return False


def test_utf8_check_of_text_messages():
    from ws.link import is_utf8
    if not _checks_utf8():  # a port built without MICROPY_PY_BUILTINS_STR_UNICODE_CHECK
        assert is_utf8(memoryview(b"\xff")), "no check where str() does none"
        return
    good = (b"", b"[2,\"1\",\"Heartbeat\",{}]", "caf\u00e9 \u20ac \U0001f50c".encode())
    bad = (b"\xff", b"a\x80", b"\xc3", b"\xc3(", b"\xe2\x82", b"\xe2\x82(", b"\xf0\x9f\x94",
           b"\xf8\x88\x80\x80\x80", b"ok\xc3\xa9\xe9")
    for data in good:
        assert is_utf8(memoryview(data)), data
    for data in bad:
        assert not is_utf8(memoryview(data)), data
    # long messages are checked in slices cut at character starts: a character across every
    # possible cut is still valid, and a bad byte anywhere is still found
    for width in (1, 2, 3, 4):
        ch = "a\u00e9\u20ac\U0001f50c"[width - 1].encode()
        assert len(ch) == width
        for pad in range(4):
            data = b"x" * pad + ch * (3000 // width)
            buf = bytearray(data)
            assert is_utf8(memoryview(buf)), (width, pad)
            for at in (0, 511, 512, 513, 1023, 1024, len(buf) - 1):
                bad_buf = bytearray(buf)
                bad_buf[at] = 0xFF
                assert not is_utf8(memoryview(bad_buf)), (width, pad, at)
    buf = bytearray(b"a" * 509 + b"\x80\x80\x80\x80" + b"b" * 600)  # too many continuations
    assert not is_utf8(memoryview(buf))
    buf = bytearray(b"a" * 511 + b"\xe2" + b"\x82\xac" + b"b" * 600)  # a character over the cut
    assert is_utf8(memoryview(buf)[:]), "split character"
    assert not is_utf8(memoryview(buf)[:512]), "cut in the middle"


def test_utf8_check_allocates_little():
    import gc
    from devtest import heap_measurable
    from ws.link import is_utf8
    if not heap_measurable() or not _checks_utf8():
        return
    buf = bytearray(b"a" * 4096)
    mv = memoryview(buf)
    is_utf8(mv)
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        assert is_utf8(mv)
        used = gc.mem_alloc() - before
    finally:
        gc.enable()
    # slices of 512 bytes: about the message's size of garbage, never a block as large
    assert used < 5000, used
