# wss:// against the real websockets server with a test CA: verification is never skipped.
import contextlib
import ssl

import pytest
from websockets.asyncio.server import serve

from tlsca import TestCA
from ws.client import WsClient
from ws.errors import WsError
from ws.tls import ders, pem_blocks


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = TestCA(folder)
    return {
        "ca": ca,
        "other": TestCA(folder, name="Other CA"),
        "server": ca.server(),
        "wrong_name": ca.server(dns=("wrong.example",), ips=(), tag="wrong"),
        "expired": ca.server(expired=True),
        "client": ca.client("CP_1"),
    }


def server_context(cert, ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.cert, cert.key)
    if ca is not None:  # security profile 3: the server wants our certificate
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(ca.path)
    return ctx


@contextlib.asynccontextmanager
async def tls_server(cert, client_ca=None, peers=None):
    async def handler(conn):
        if peers is not None:
            peers.append(conn.transport.get_extra_info("peercert"))
        async for msg in conn:
            await conn.send(msg)

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"],
                     ssl=server_context(cert, client_ca)) as srv:
        yield srv.sockets[0].getsockname()[1]


async def roundtrip(url, **kw):
    ws = WsClient(url, "CP_1", max_message=4096, **kw)
    assert await ws.connect() == "ocpp1.6"
    await ws.send("over tls " * 100)
    assert bytes(await ws.recv()) == b"over tls " * 100
    await ws.close()
    assert ws.close_code == 1000


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("form", ["pem bytes", "pem str", "der", "list with another CA"])
async def test_valid_certificate_connects(pki, host, form):
    ca = pki["ca"]
    material = {"pem bytes": ca.pem, "pem str": ca.pem.decode(), "der": ca.der,
                "list with another CA": [pki["other"].pem, ca.der]}[form]
    async with tls_server(pki["server"]) as port:
        await roundtrip("wss://%s:%d/ocpp" % (host, port), ca=material)


@pytest.mark.parametrize("case,words", [
    ("wrong_name", "IP address mismatch"),
    ("untrusted", "unable to get local issuer certificate"),
    ("expired", "certificate has expired"),
])
async def test_bad_server_certificate_is_refused(pki, case, words):
    cert = pki["server"] if case == "untrusted" else pki[case]
    ca = pki["other"] if case == "untrusted" else pki["ca"]
    async with tls_server(cert) as port:
        ws = WsClient("wss://127.0.0.1:%d/ocpp" % port, "CP_1", ca=ca.pem)
        with pytest.raises(WsError) as e:
            await ws.connect()
    assert e.value.reason.startswith("TLS: certificate of 127.0.0.1:%d rejected" % port)
    assert words in e.value.reason and ws.closed


async def test_client_certificate_presented_when_required(pki):
    peers = []
    cli = pki["client"]
    async with tls_server(pki["server"], client_ca=pki["ca"], peers=peers) as port:
        await roundtrip("wss://localhost:%d/ocpp" % port, ca=pki["ca"].pem,
                        client_cert=cli.cert_pem, client_key=cli.key_pem)
    subject = dict(x[0] for x in peers[0]["subject"])
    assert subject["commonName"] == "CP_1"


async def test_missing_client_certificate_fails(pki):
    async with tls_server(pki["server"], client_ca=pki["ca"]) as port:
        ws = WsClient("wss://localhost:%d/ocpp" % port, "CP_1", ca=pki["ca"].pem,
                      handshake_timeout_ms=3000)
        with pytest.raises(WsError) as e:
            await ws.connect()
    assert e.value.code is None and "within" not in e.value.reason  # refused, not timed out
    assert e.value.reason.endswith("(wants a client certificate?)")


def test_tls_material_is_checked_when_the_client_is_made(pki):
    with pytest.raises(WsError) as e:
        WsClient("wss://localhost/ocpp", "CP_1", ca=b"\x30\x03\x02\x01\x00")
    assert "CA certificate could not be loaded" in e.value.reason
    with pytest.raises(WsError) as e:
        WsClient("wss://localhost/ocpp", "CP_1", ca=pki["ca"].pem,
                 client_cert=pki["client"].cert_pem)
    assert "go together" in e.value.reason
    with pytest.raises(WsError) as e:
        WsClient("wss://localhost/ocpp", "CP_1", ca=pki["ca"].pem,
                 client_cert=pki["client"].cert_pem, client_key=pki["server"].key_pem)
    assert "could not be loaded" in e.value.reason


def test_pem_to_der(pki):
    ca, other = pki["ca"], pki["other"]
    blocks = pem_blocks(ca.pem + b"\n" + other.pem)
    assert blocks == [("CERTIFICATE", ca.der), ("CERTIFICATE", other.der)]
    assert pem_blocks(ca.pem.replace(b"\n", b"\r\n")) == [("CERTIFICATE", ca.der)]
    assert ders([ca.der, other.pem.decode()]) == [("CERTIFICATE", ca.der),
                                                  ("CERTIFICATE", other.der)]
    assert ders(pki["client"].key_pem)[0][0] == "PRIVATE KEY"
    assert ders(None) == [] and ders(b"") == []
