# lib/ws against real peers: the websockets 17 server, and a raw asyncio server for what a
# correct server never sends. No mocks.
import asyncio
import base64
import contextlib
import time

import pytest
from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response

import logger
from wspeer import RawServer, accept, frame
from ws.client import WsClient
from ws.errors import WsError


@contextlib.asynccontextmanager
async def server(handler, **kw):
    kw.setdefault("subprotocols", ["ocpp1.6"])
    async with serve(handler, "127.0.0.1", 0, **kw) as srv:
        yield "ws://127.0.0.1:%d/ocpp" % srv.sockets[0].getsockname()[1]


async def echo(conn):
    async for msg in conn:
        await conn.send(msg)


def client(url, **kw):
    kw.setdefault("max_message", 4096)
    return WsClient(url, kw.pop("cbid", "CP_1"), **kw)


# --- messages -------------------------------------------------------------------------------

async def test_echo_of_every_length_class():
    sizes = (0, 1, 125, 126, 65535, 65536, 200 * 1024)
    async with server(echo, max_size=None) as url:
        ws = client(url, max_message=200 * 1024)
        assert await ws.connect() == "ocpp1.6"
        for n in sizes:
            data = bytes((i * 7) & 0x7F for i in range(n))
            await ws.send(data)
            msg = await ws.recv()
            assert isinstance(msg, memoryview) and bytes(msg) == data, n
            assert not ws.binary
        await ws.send("text ü")
        assert bytes(await ws.recv()).decode() == "text ü"
        await ws.close()
        assert ws.closed


async def test_path_is_endpoint_plus_percent_encoded_id_and_length_argument():
    seen = []

    async def handler(conn):
        seen.append(conn.request.path)
        await echo(conn)

    async with server(handler) as url:
        ws = client(url + "/", cbid="CP 1/ü")
        await ws.connect()
        buf = bytearray(b"[2,\"1\",\"Heartbeat\",{}]garbage")
        await ws.send(buf, 22)
        assert bytes(await ws.recv()) == b'[2,"1","Heartbeat",{}]'
        await ws.close()
    assert seen == ["/ocpp/CP%201%2F%C3%BC"]


async def test_server_fragments_are_reassembled_and_binary_is_flagged():
    async def handler(conn):
        await conn.send(["ab", "cd", "ef"])
        await conn.send([b"\x00\x01", b"\x02"])
        await conn.send(["x" * 1000, "y" * 3000])
        await conn.wait_closed()

    async with server(handler) as url:
        ws = client(url)
        await ws.connect()
        assert bytes(await ws.recv()) == b"abcdef" and not ws.binary
        assert bytes(await ws.recv()) == b"\x00\x01\x02" and ws.binary
        assert bytes(await ws.recv()) == b"x" * 1000 + b"y" * 3000
        await ws.close()


async def test_client_fragments_with_fragment_size():
    async def script(peer):
        frames = []
        while True:
            f = await peer.read_frame()
            frames.append(f)
            if f[0]:
                return frames

    async with RawServer(script) as srv:
        ws = client(srv.url, fragment_size=100)
        await ws.connect()
        await ws.send(b"z" * 250)
        for _ in range(50):
            if srv.results:
                break
            await asyncio.sleep(0.01)
        frames = srv.results[0]
        assert [(f[0], f[1], len(f[2])) for f in frames] == [
            (False, 1, 100), (False, 0, 100), (True, 0, 50)]
        assert b"".join(f[2] for f in frames) == b"z" * 250
    async with server(echo) as url:  # and a real server puts them together again
        ws = client(url, fragment_size=7, tx_chunk=16)
        await ws.connect()
        await ws.send(b"0123456789" * 100)
        assert bytes(await ws.recv()) == b"0123456789" * 100
        await ws.close()


async def test_concurrent_senders_do_not_interleave_frames():
    got = []

    async def handler(conn):
        async for msg in conn:
            got.append(msg)
            if len(got) == 30:
                await conn.send("done")

    async with server(handler) as url:
        ws = client(url, fragment_size=64, tx_chunk=32)
        await ws.connect()

        async def sender(c):
            for i in range(10):
                await ws.send((c * (50 + 37 * i)).encode())

        await asyncio.gather(sender("a"), sender("b"), sender("c"))
        assert bytes(await ws.recv()) == b"done"
        await ws.close()
    assert sorted(got) == sorted(c * (50 + 37 * i) for c in "abc" for i in range(10))


async def test_control_frames_inside_a_fragmented_message():
    pongs = []

    async def script(peer):
        await peer.send(frame(1, b"ab", fin=False) + frame(9, b"p1") + frame(0, b"cd", fin=False)
                        + frame(10, b"unsolicited") + frame(0, b"ef"))
        pongs.append(await peer.read_frame())
        code = await peer.wait_close()
        await peer.send(frame(8, code.to_bytes(2, "big")))
        return code

    async with RawServer(script) as srv:
        ws = client(srv.url)
        await ws.connect()
        assert bytes(await ws.recv()) == b"abcdef"
        await asyncio.sleep(0.05)
        assert pongs == [(True, 10, b"p1")]  # our pong, same payload
        start = time.monotonic()
        await ws.close()
        assert time.monotonic() - start < 0.5 and ws.close_code == 1000


# --- pings ----------------------------------------------------------------------------------

async def test_server_ping_gets_our_pong():
    async def handler(conn):
        waiter = await conn.ping(b"are you there")
        await asyncio.wait_for(waiter, 2)
        await conn.send("pong seen")
        await conn.wait_closed()

    async with server(handler, ping_interval=0.05, ping_timeout=0.5) as url:
        ws = client(url)
        await ws.connect()
        assert bytes(await ws.recv()) == b"pong seen"
        task = asyncio.create_task(ws.recv())  # keep answering the server's keep-alive pings
        await asyncio.sleep(0.3)
        assert not task.done() and ws.state == 2
        await ws.close()
        with pytest.raises(WsError):
            await task


async def test_our_pings_are_answered():
    async with server(echo) as url:
        ws = client(url, ping_interval_s=0.05, pong_timeout_ms=2000)
        await ws.connect()
        task = asyncio.create_task(ws.recv())
        await asyncio.sleep(0.5)
        assert ws.pings >= 4 and ws.rtt_ms >= 0 and not task.done()
        ws.set_ping_interval(0)  # WebSocketPingInterval 0: no more pings
        await asyncio.sleep(0.1)
        sent = ws.pings
        await asyncio.sleep(0.2)
        assert ws.pings == sent
        await ws.close()
        with pytest.raises(WsError) as e:
            await task
        assert e.value.code == 1000


async def test_missed_pong_drops_the_link():
    async def deaf(peer):
        await asyncio.sleep(10)

    async with RawServer(deaf) as srv:
        ws = client(srv.url, ping_interval_s=0.1)
        await ws.connect()
        start = time.monotonic()
        with pytest.raises(WsError) as e:
            await ws.recv()
        assert 0.15 < time.monotonic() - start < 1.5
        assert e.value.code == 1006 and "no pong" in e.value.reason
        assert ws.closed
        with pytest.raises(WsError) as e2:
            await ws.send("late")
        assert e2.value.code == 1006


async def test_idle_timeout_without_pings():
    async def silent(peer):
        await asyncio.sleep(10)

    async with RawServer(silent) as srv:
        ws = client(srv.url, idle_timeout_ms=200)
        await ws.connect()
        with pytest.raises(WsError) as e:
            await ws.recv()
        assert e.value.code == 1006 and "nothing received" in e.value.reason


# --- closing --------------------------------------------------------------------------------

async def test_close_by_the_server_is_answered_and_reported():
    codes = []

    async def handler(conn):
        await conn.close(4000, "bye")
        codes.append(conn.close_code)

    async with server(handler) as url:
        ws = client(url)
        await ws.connect()
        with pytest.raises(WsError) as e:
            await ws.recv()
        assert e.value.code == 4000 and "bye" in e.value.reason
        assert ws.closed and ws.close_code == 4000 and ws.close_reason == "bye"
    assert codes == [4000]  # our answer echoes the code


async def test_close_by_the_client_with_code_and_reason():
    seen = []

    async def handler(conn):
        with contextlib.suppress(ConnectionClosed):
            async for _ in conn:
                pass
        seen.append((conn.close_code, conn.close_reason))

    async with server(handler) as url:
        ws = client(url)
        await ws.connect()
        await ws.send("hi")
        await ws.close(4001, "going")
        assert ws.closed and ws.close_code == 4001
        with pytest.raises(WsError) as e:
            await ws.recv()
        assert e.value.code == 4001
        await asyncio.sleep(0.05)
    assert seen == [(4001, "going")]


async def test_close_while_another_task_is_in_recv():
    async with server(echo) as url:
        ws = client(url)
        await ws.connect()
        task = asyncio.create_task(ws.recv())
        await asyncio.sleep(0.02)
        start = time.monotonic()
        await ws.close()
        assert time.monotonic() - start < 1
        with pytest.raises(WsError) as e:
            await task
        assert e.value.code == 1000


async def test_close_without_answer_times_out():
    async def deaf(peer):
        await asyncio.sleep(10)

    async with RawServer(deaf) as srv:
        ws = client(srv.url, close_timeout_ms=200)
        await ws.connect()
        start = time.monotonic()
        await ws.close()
        assert ws.closed and time.monotonic() - start < 1


async def test_tcp_closed_without_close_frame():
    async def hang_up(peer):
        peer.writer.close()

    async with RawServer(hang_up) as srv:
        ws = client(srv.url)
        await ws.connect()
        with pytest.raises(WsError) as e:
            await ws.recv()
        assert e.value.code == 1006


# --- too big, protocol errors ---------------------------------------------------------------

@pytest.mark.parametrize("parts", [["x" * 1001], ["x" * 600, "y" * 600]])
async def test_oversize_message_closes_with_1009(parts):
    codes = []

    async def handler(conn):
        await conn.send(parts if len(parts) > 1 else parts[0])
        await conn.wait_closed()
        codes.append(conn.close_code)

    async with server(handler) as url:
        ws = client(url, max_message=1000)
        await ws.connect()
        with pytest.raises(WsError) as e:
            await ws.recv()
        assert e.value.code == 1009 and "max_message" in e.value.reason
        assert len(ws._rx) == 1000
    assert codes == [1009]


async def test_huge_length_header_is_refused_before_reading():
    async def script(peer):
        await peer.send(frame(2, b"", length=1 << 40))
        return await peer.wait_close()

    async with RawServer(script) as srv:
        ws = client(srv.url, max_message=1000)
        await ws.connect()
        with pytest.raises(WsError) as e:
            await ws.recv()
        assert e.value.code == 1009
        await asyncio.sleep(0.05)
        assert srv.results == [1009]


BAD_FRAMES = {
    "masked": frame(1, b"hi", mask=b"\x01\x02\x03\x04"),
    "reserved bits": frame(1, b"hi", rsv=0x40),
    "opcode 3": frame(3, b"hi"),
    "opcode 11": frame(11, b""),
    "fragmented ping": frame(9, b"p", fin=False),
    "ping of 126 bytes": frame(9, b"p" * 126),
    "continuation first": frame(0, b"hi"),
    "text inside a fragmented text": frame(1, b"a", fin=False) + frame(1, b"b"),
    "close with 1 byte": frame(8, b"\x03"),
    "close code 1005": frame(8, b"\x03\xed"),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
async def test_protocol_errors_close_with_1002(name):
    async def script(peer):
        await peer.send(BAD_FRAMES[name])
        return await peer.wait_close()

    async with RawServer(script) as srv:
        ws = client(srv.url)
        await ws.connect()
        with pytest.raises(WsError) as e:
            await ws.recv()
        assert e.value.code == 1002 and "protocol error" in e.value.reason
        for _ in range(50):
            if srv.results:
                break
            await asyncio.sleep(0.01)
        assert srv.results == [1002]


BAD_UTF8 = {
    "bad byte": [frame(1, b'[2,"1","GetConfiguration",{"key":["\xff"]}]')],
    "overlong slash": [frame(1, b'["\xc0\xaf"]')],
    "cut character": [frame(1, b"caf\xc3")],
    "fragmented": [frame(1, b"ok ", fin=False), frame(0, b"\xe2\x82", fin=False),
                   frame(0, b"(")],
}


@pytest.mark.parametrize("name", sorted(BAD_UTF8))
async def test_text_that_is_not_utf8_closes_with_1007(name):
    # RFC 6455 8.1: a text message that is not UTF-8 fails the connection, close code 1007
    async def script(peer):
        for f in BAD_UTF8[name]:
            await peer.send(f)
        return await peer.wait_close()

    async with RawServer(script) as srv:
        ws = client(srv.url)
        await ws.connect()
        with pytest.raises(WsError) as e:
            await ws.recv()
        assert e.value.code == 1007 and "not UTF-8" in e.value.reason, e.value
        assert ws.closed
        for _ in range(50):
            if srv.results:
                break
            await asyncio.sleep(0.01)
        assert srv.results == [1007]


async def test_utf8_text_across_fragments_and_binary_pass():
    async def script(peer):
        await peer.send(frame(1, b"caf\xc3", fin=False) + frame(0, b"\xa9 \xe2\x82", fin=False)
                        + frame(0, b"\xac"))
        await peer.send(frame(2, b"\xff\xfe"))  # binary: no UTF-8 rule
        await peer.send(frame(1, ("\u20ac" * 700).encode()))  # 2100 bytes: checked in slices
        return await peer.wait_close()

    async with RawServer(script) as srv:
        ws = client(srv.url)
        await ws.connect()
        assert bytes(await ws.recv()).decode() == "caf\u00e9 \u20ac" and not ws.binary
        assert bytes(await ws.recv()) == b"\xff\xfe" and ws.binary
        assert bytes(await ws.recv()).decode() == "\u20ac" * 700
        await ws.close()


# --- handshake ------------------------------------------------------------------------------

async def test_no_subprotocol_selected_is_refused():
    async with server(echo, subprotocols=None) as url:
        ws = client(url)
        with pytest.raises(WsError) as e:
            await ws.connect()
        assert "no subprotocol" in e.value.reason and "ocpp1.6" in e.value.reason
        assert ws.closed


async def test_subprotocol_not_offered_is_refused():
    async with RawServer(subprotocol="ocpp2.0.1") as srv:
        with pytest.raises(WsError) as e:
            await client(srv.url).connect()
        assert "'ocpp2.0.1', not one offered (ocpp1.6)" in e.value.reason


async def test_first_offered_subprotocol_the_server_knows():
    async with server(echo, subprotocols=["ocpp1.6"]) as url:
        ws = client(url, subprotocols=("ocpp2.0.1", "ocpp1.6"))
        assert await ws.connect() == "ocpp1.6"
        await ws.close()


async def test_wrong_accept_is_refused():
    def response(key):
        return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
                % accept(key + "x")).encode()

    async with RawServer(response=response) as srv:
        with pytest.raises(WsError) as e:
            await client(srv.url).connect()
        assert "Sec-WebSocket-Accept" in e.value.reason


def refuse(status, text=""):
    def process_request(conn, request):
        return Response(status, text, Headers(), b"")
    return process_request


@pytest.mark.parametrize("status,key,words", [
    (401, "secret-key", "HTTP 401: authorization key rejected"),
    (401, None, "HTTP 401: the central system requires an AuthorizationKey"),
    (403, None, "HTTP 403: forbidden"),
    (404, None, "HTTP 404: not found"),
    (418, None, "HTTP 418: I'm a teapot: WebSocket upgrade refused"),
])
async def test_http_refusals_say_why(status, key, words):
    async with server(echo, process_request=refuse(status, "I'm a teapot")) as url:
        with pytest.raises(WsError) as e:
            await client(url, authorization_key=key).connect()
        assert e.value.code == status and e.value.reason.startswith(words)


async def test_basic_auth_right_and_wrong_and_never_logged():
    good = "Basic " + base64.b64encode(b"CP_1:0123456789abcdef").decode()

    def process_request(conn, request):
        if request.headers.get("Authorization") != good:
            return conn.respond(401, "bad key\n")
        return None

    lines = []
    logger.set_sink(lines.append)
    try:
        async with server(echo, process_request=process_request) as url:
            ws = client(url, authorization_key="0123456789abcdef")
            assert await ws.connect() == "ocpp1.6"
            await ws.close()
            with pytest.raises(WsError) as e:
                await client(url, authorization_key="wrong-key-123456").connect()
            assert e.value.code == 401 and "authorization key rejected" in str(e.value)
            with pytest.raises(WsError) as e:
                await client(url).connect()
            assert e.value.code == 401
    finally:
        logger.set_sink(None)
    text = "\n".join(lines)
    assert "connected" in text
    for secret in ("0123456789abcdef", "wrong-key-123456", good[6:]):
        assert secret not in text and secret not in str(e.value)


async def test_connection_refused_and_handshake_timeout():
    async with RawServer() as srv:
        port = srv.port
    with pytest.raises(WsError) as e:
        await client("ws://127.0.0.1:%d/ocpp" % port).connect()
    assert "cannot connect to 127.0.0.1:%d" % port in e.value.reason and e.value.code is None
    async with RawServer(answer=False) as srv:
        ws = client(srv.url, handshake_timeout_ms=200)
        start = time.monotonic()
        with pytest.raises(WsError) as e:
            await ws.connect()
        assert time.monotonic() - start < 1 and "within 200 ms" in e.value.reason


async def test_reconnect_same_client_and_misuse():
    async with server(echo) as url:
        ws = client(url)
        for i in range(3):
            await ws.connect()
            await ws.send(str(i))
            assert bytes(await ws.recv()) == str(i).encode()
            with pytest.raises(WsError):
                await ws.connect()  # already open
            await ws.close()
        with pytest.raises(WsError):
            await ws.send("closed")


def test_bad_configuration_is_refused_early():
    for url in ("http://x/ocpp", "ws://", "ws://host:0/x", "ws://host:99999/", "ws://h/p?q=1"):
        with pytest.raises(WsError):
            WsClient(url, "CP_1")
    with pytest.raises(WsError) as e:
        WsClient("wss://127.0.0.1/ocpp", "CP_1")
    assert "unverified" in e.value.reason
    # a client certificate on ws:// waits for a wss:// URL (a security profile change) ...
    client = WsClient("ws://127.0.0.1/ocpp", "CP_1", client_cert=b"x", client_key=b"y")
    with pytest.raises(WsError):  # ... where unusable material is refused, nothing changed
        client.set_url("wss://127.0.0.1/ocpp", b"not a certificate")
    assert not client.secure and client.host == "127.0.0.1"
