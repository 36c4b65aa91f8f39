# lib/ws under the real MicroPython unix port (mbedTLS, its asyncio) against the CPython
# websockets server: ws://, wss:// with the test CA, client certificates, refusals.
# Skipped, with the reason shown, when .venv/bin/micropython is missing.
import asyncio
import contextlib
import json
import os
import socket
import ssl

import pytest
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from simproc import ROOT, micropython
from tlsca import TestCA
from wspeer import RawServer, frame

MICROPYTHON = micropython()
pytestmark = pytest.mark.skipif(
    MICROPYTHON is None, reason="no micropython (unix port): `make test` installs one in .venv")

SCRIPT = r"""
import sys, json, asyncio
cfg = json.loads(open(sys.argv[1]).read())
sys.path.insert(0, cfg["lib"])
from ws.client import WsClient
from ws.errors import WsError

def read(path):
    with open(path, "rb") as f:
        return f.read()

async def echo(name, url, **kw):
    ws = WsClient(url, "CP 1", max_message=70000, ping_interval_s=0.1, pong_timeout_ms=3000,
                  **kw)
    proto = await ws.connect()
    for n in (1, 125, 126, 65535, 65536):
        data = bytes([65 + i % 26 for i in range(n)])
        await ws.send(data)
        assert bytes(await ws.recv()) == data, n
    ws.fragment_size = 1000
    await ws.send(b"f" * 5000)
    assert bytes(await ws.recv()) == b"f" * 5000
    await ws.send(b"wait for a ping")  # the server pings, we answer; our pings too
    assert bytes(await ws.recv()) == b"pong seen"
    await ws.send(b"close 4000")
    try:
        await ws.recv()
    except WsError as e:
        print("OK", name, proto, e.code, ws.pings > 0)

async def refused(name, url, **kw):
    try:
        await WsClient(url, "CP_1", handshake_timeout_ms=5000, **kw).connect()
        print("CONNECTED", name)
    except WsError as e:
        print("REFUSED", name, e.code, e.reason)

async def dropped(name, url, **kw):
    ws = WsClient(url, "CP_1", max_message=100, **kw)
    await ws.connect()
    try:
        await ws.send(b"y" * 200)  # the echo server answers with more than max_message
        await ws.recv()
        print("RECEIVED", name)
    except WsError as e:
        print("DROPPED", name, e.code, e.reason)

def fds():
    import os
    return len(os.listdir("/proc/self/fd"))

async def timeouts(url, **kw):
    # connects that never complete, cut by the handshake timeout: no socket may stay open
    ws = WsClient(url, "CP_1", handshake_timeout_ms=50, **kw)
    before = 0
    for i in range(9):
        if i == 1:
            before = fds()  # after a first attempt: files opened once (entropy, resolver)
        try:
            await ws.connect()
        except WsError as e:
            last = e
    print("LEAKED", url.split(":")[0], fds() - before, last.reason)

async def main():
    ca = read(cfg["ca"])
    cli = {"client_cert": read(cfg["cert"]), "client_key": read(cfg["key"])}
    await echo("ws", cfg["ws"])
    await echo("wss-ip", cfg["wss"], ca=ca)
    await echo("wss-localhost", cfg["wss"].replace("127.0.0.1", "localhost"), ca=ca)
    await echo("wss-client-cert", cfg["wss_client"], ca=ca, **cli)
    await refused("untrusted", cfg["wss"], ca=read(cfg["other_ca"]))
    await refused("wrong-name", cfg["wss_wrong"], ca=ca)
    await refused("expired", cfg["wss_expired"], ca=ca)
    await refused("no-client-cert", cfg["wss_client"], ca=ca)
    await dropped("too-big", cfg["ws"])
    await dropped("no-pong", cfg["raw_deaf"], ping_interval_s=0.1)
    await dropped("masked", cfg["raw_masked"])
    await dropped("bad-utf8", cfg["raw_bad_utf8"])
    await dropped("bad-utf8-fragments", cfg["raw_bad_utf8_fragments"])
    await timeouts(cfg["blackhole"])
    await timeouts(cfg["blackhole"].replace("ws:", "wss:"), ca=ca)
    print("DONE")

asyncio.run(main())
"""


async def handler(conn):
    with contextlib.suppress(ConnectionClosed):
        async for msg in conn:
            if msg == "wait for a ping":
                await asyncio.wait_for(await conn.ping(b"mp?"), 3)
                await conn.send("pong seen")
            elif msg == "close 4000":
                await conn.close(4000, "bye")
            else:
                await conn.send(msg)


async def deaf_script(peer):
    await asyncio.sleep(10)


async def masked_script(peer):
    await peer.send(frame(1, b"hi", mask=b"\x01\x02\x03\x04"))
    return await peer.wait_close()


async def bad_utf8_script(peer):
    await peer.send(frame(1, b'[2,"1","GetConfiguration",{"key":["\xff"]}]'))
    return await peer.wait_close()


async def bad_utf8_fragments_script(peer):
    # a valid character across two fragments, then a cut one at the end of the message
    await peer.send(frame(1, b"caf\xc3", fin=False) + frame(0, b"\xa9 \xe2\x82"))
    return await peer.wait_close()


@contextlib.contextmanager
def blackhole():
    """A port where TCP connects hang: a listener whose accept queue is full (Linux then drops
    the SYNs)."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(0)
        port = srv.getsockname()[1]
        fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        try:
            yield port
        finally:
            for c in fillers:
                c.close()


def tls(cert, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.cert, cert.key)
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca.path)
    return ctx


async def test_micropython_client_against_cpython_server(tmp_path):
    ca = TestCA(tmp_path)
    other = TestCA(tmp_path, name="Other CA")
    good = ca.server()
    client = ca.client("CP_1")
    servers = {
        "ws": None,
        "wss": tls(good),
        "wss_client": tls(good, client_ca=ca),
        "wss_wrong": tls(ca.server(dns=("wrong.example",), ips=(), tag="wrong")),
        "wss_expired": tls(ca.server(expired=True)),
    }
    cfg = {"lib": os.path.join(ROOT, "lib"), "ca": ca.path, "other_ca": other.path,
           "cert": client.cert, "key": client.key}
    async with contextlib.AsyncExitStack() as stack:
        for name, ctx in servers.items():
            srv = await stack.enter_async_context(
                serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"], ssl=ctx, max_size=None))
            scheme = "wss" if ctx else "ws"
            cfg[name] = "%s://127.0.0.1:%d/ocpp" % (scheme, srv.sockets[0].getsockname()[1])
        deaf = await stack.enter_async_context(RawServer(deaf_script))
        masked = await stack.enter_async_context(RawServer(masked_script))
        cfg["raw_deaf"], cfg["raw_masked"] = deaf.url, masked.url
        bad_utf8 = await stack.enter_async_context(RawServer(bad_utf8_script))
        bad_utf8_fragments = await stack.enter_async_context(RawServer(bad_utf8_fragments_script))
        cfg["raw_bad_utf8"] = bad_utf8.url
        cfg["raw_bad_utf8_fragments"] = bad_utf8_fragments.url
        hole = stack.enter_context(blackhole())
        cfg["blackhole"] = "ws://127.0.0.1:%d/ocpp" % hole
        (tmp_path / "cfg.json").write_text(json.dumps(cfg))
        (tmp_path / "script.py").write_text(SCRIPT)
        proc = await asyncio.create_subprocess_exec(
            MICROPYTHON, str(tmp_path / "script.py"), str(tmp_path / "cfg.json"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), 25)
    text = out.decode()
    lines = [ln for ln in text.splitlines() if ln.startswith(("OK", "REFUSED", "CONNECTED"))]
    drops = {ln.split(" ")[1]: ln for ln in text.splitlines() if ln.startswith("DROPPED")}
    assert proc.returncode == 0 and "DONE" in text, text
    assert lines[:4] == ["OK ws ocpp1.6 4000 True", "OK wss-ip ocpp1.6 4000 True",
                         "OK wss-localhost ocpp1.6 4000 True",
                         "OK wss-client-cert ocpp1.6 4000 True"], text
    refused = {ln.split(" ")[1]: ln for ln in lines[4:]}
    assert drops == {
        "too-big": "DROPPED too-big 1009 incoming message larger than max_message (100 bytes)",
        "no-pong": "DROPPED no-pong 1006 no pong from the central system within 100 ms",
        "masked": "DROPPED masked 1002 protocol error: masked frame from the server",
        "bad-utf8": "DROPPED bad-utf8 1007 invalid data: a text message that is not UTF-8",
        "bad-utf8-fragments": "DROPPED bad-utf8-fragments 1007 invalid data: a text message"
                              " that is not UTF-8",
    }, text
    assert masked.results == [1002]  # the close frame reached the server
    assert bad_utf8.results == [1007] and bad_utf8_fragments.results == [1007]
    leaks = [ln for ln in text.splitlines() if ln.startswith("LEAKED")]
    assert leaks == ["LEAKED ws 0 no WebSocket handshake with 127.0.0.1:%d within 50 ms" % hole,
                     "LEAKED wss 0 no WebSocket handshake with 127.0.0.1:%d within 50 ms" % hole
                     ], text
    assert sorted(refused) == ["expired", "no-client-cert", "untrusted", "wrong-name"], text
    assert "not correctly signed by the trusted CA" in refused["untrusted"], text
    assert "does not match" in refused["wrong-name"], text  # mbedTLS: CN/SAN mismatch
    assert "expired" in refused["expired"], text
    for name in ("untrusted", "wrong-name", "expired"):
        assert refused[name].startswith("REFUSED %s None TLS: certificate of" % name), text
    assert refused["no-client-cert"].startswith("REFUSED no-client-cert None"), text
    assert refused["no-client-cert"].endswith("(wants a client certificate?)"), text
