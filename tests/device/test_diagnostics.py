# Device tests of the log upload (firmware/management/diagnostics.py): the snapshot in the shared block.
import asyncio
import json
import random

import logger
import logring
from devtest import needs, tempdir
from filelog import FileLog
from firmware.management.diagnostics import Diagnostics
from ocpppeer import connect
from sharedblock import SharedBlock
from ticks import sleep_ms


class Clock:
    def time_s(self):
        return 1234


async def upload_server(bodies):
    async def handle(reader, writer):
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += await reader.read(1)
        length = 0
        for line in head.decode().split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":")[1])
        bodies.append(await reader.readexactly(length))
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    base = 20000 + random.getrandbits(14)  # MicroPython's server does not tell its port
    for port in range(base, base + 50):
        try:
            return await asyncio.start_server(handle, "127.0.0.1", port), port
        except OSError:
            pass
    raise AssertionError("no free port")


@needs("socket")
async def test_get_log_waits_for_the_block_then_sends_the_security_log_from_it():
    logring.install(2048)
    security_log = FileLog(tempdir() + "/securitylog")
    try:
        expected = []
        for i in range(40):
            logger.get("app").info("ordinary line %d" % i)
            if i % 10 == 3:
                expected.append("2026-01-01T00:00:00Z event %d" % i)
                security_log.append(expected[-1])
        bodies = []
        server, port = await upload_server(bodies)
        block = SharedBlock()
        block.borrow("firmware download")
        peer, session = connect([None, [3, {}], [3, {}]], registration="Accepted")
        diag = Diagnostics(Clock(), session, None, block, security_log)
        diag.register(session)
        await session.feed(json.dumps([2, "g1", "GetLog", {
            "logType": "SecurityLog", "requestId": 5,
            "log": {"remoteLocation": "http://127.0.0.1:%d/up" % port}}]).encode())
        assert peer.sent[0][2]["status"] == "Accepted", peer.sent
        await sleep_ms(400)
        assert not bodies and block.holder == "firmware download", "it waits for the block"
        block.give()
        for _ in range(100):
            if len(peer.sent) >= 3:
                break
            await sleep_ms(50)
        notes = [f[3] for f in peer.sent if f[0] == 2]
        assert notes == [{"status": "Uploading", "requestId": 5},
                         {"status": "Uploaded", "requestId": 5}], peer.sent
        assert block.holder is None, "given back"
        body = bodies[0].decode()
        sent = body[body.index("\r\n\r\n") + 4:body.rindex("\r\n--")]
        assert sent.split("\n")[:-1] == expected and sent.endswith("\n"), sent
        assert block.buf.startswith(sent.encode()), "sent from the block"
        server.close()
    finally:
        logger.set_sink(None)


@needs("socket")
async def test_without_retry_interval_an_upload_waits_as_long_as_a_download():
    from firmware.management import fwjob
    lines = []
    logger.set_sink(lines.append)
    try:
        peer, session = connect([[3, {}], [3, {}], [3, {}]], registration="Accepted")
        diag = Diagnostics(Clock(), session, None, SharedBlock())
        diag.register(session)
        await session.feed(json.dumps([2, "g1", "GetDiagnostics", {
            "location": "http://127.0.0.1:1/nothing-listens-here", "retries": 2}]).encode())
        for _ in range(100):
            if [ln for ln in lines if "next upload attempt" in ln]:
                break
            await sleep_ms(20)
        waits = [ln for ln in lines if "next upload attempt" in ln]
        assert waits and waits[0].endswith("in %d s" % fwjob.RETRY_INTERVAL_S), lines
        assert fwjob.Job().interval_s == fwjob.RETRY_INTERVAL_S, "a download waits the same"
    finally:
        logger.set_sink(None)
