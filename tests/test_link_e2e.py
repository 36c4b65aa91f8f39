# End to end, the WebSocket link of the firmware process (CPython and the MicroPython unix
# port) against the bundled central system: what RFC 6455 asks of the link.
import asyncio

import pytest

from cpharness import Harness
from simproc import micropython

INTERPRETERS = [pytest.param(None, id="cpython"),
                pytest.param(micropython(), id="micropython", marks=pytest.mark.skipif(
                    micropython() is None, reason="no micropython (unix port) on PATH"))]


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_text_that_is_not_utf8_closes_with_1007_and_reconnects(tmp_path, interpreter):
    # RFC 6455 8.1: a text message that is not UTF-8 fails the connection with close code
    # 1007; the request in it is not answered; the link comes back and works.
    async with Harness(tmp_path, interpreter=interpreter) as h:
        ws = h.cs._sessions["CP_1"].ws
        await ws.send(b'[2,"u1","GetConfiguration",{"key":["\xffBad"]}]', text=True)
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 1007, (ws.close_code, ws.close_reason)
        await h.cs.wait_connected("CP_1", timeout=15)
        from ocpp.v16 import call
        answer = await h.cs.call("CP_1", call.GetConfiguration(key=["HeartbeatInterval"]),
                                 timeout=5)
        assert answer.configuration_key[0]["value"] == "60", answer
        out = [f.text for f in h.cs.frames("CP_1") if f.direction == "in"]
        assert not [t for t in out if '"u1"' in t], out  # never answered
        log = h.fw.log()
        assert "not UTF-8" in log and "Traceback" not in log, log[-3000:]
