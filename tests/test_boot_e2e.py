# End to end: the firmware process (CPython and the MicroPython unix port) boots against the
# bundled central system over the real WebSocket engine.
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from simproc import ROOT, Firmware, free_port, micropython
from tools.csms import CentralSystem

INTERPRETERS = [pytest.param(sys.executable, id="cpython"),
                pytest.param(micropython(), id="micropython", marks=pytest.mark.skipif(
                    micropython() is None, reason="no micropython (unix port) on PATH"))]


async def start_firmware(tmp_path, interpreter, port, **changes):
    fw = Firmware(tmp_path, interpreter=interpreter,
                  csms={"url": "ws://127.0.0.1:%d/ocpp" % port, "chargeBoxId": "CP_1"}, **changes)
    await asyncio.to_thread(fw.start)
    return fw


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_boot_status_and_heartbeats(tmp_path, interpreter):
    cs = CentralSystem(heartbeat_interval=1)
    port = await cs.start()
    fw = await start_firmware(tmp_path, interpreter, port, connectors=2)
    try:
        boot = await cs.wait_for("BootNotification", "CP_1")
        assert boot == {"chargePointVendor": "TestVendor", "chargePointModel": "TestModel",
                        "chargePointSerialNumber": "SN-1", "firmwareVersion": "0.1.0"}
        statuses = [await cs.wait_for("StatusNotification", "CP_1") for _ in range(3)]
        assert [s["connectorId"] for s in statuses] == [0, 1, 2]
        assert all(s["status"] == "Available" and s["errorCode"] == "NoError" for s in statuses)
        await cs.wait_for("Heartbeat", "CP_1", timeout=5)
        await cs.wait_for("Heartbeat", "CP_1", timeout=5)  # at the interval from the answer
        actions = [r.action for r in cs.received("CP_1")]
        assert actions[0] == "BootNotification"  # nothing before it
        log = fw.log()
        assert '-> [2,"1","BootNotification"' in log and "<- [3," in log  # frames shown
        assert "Traceback" not in log
        # UTC wall-clock time after the time since start, as the central system's clock says
        stamps = re.findall(r"^\d+\.\d{3} (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) INFO ", log, re.M)
        assert stamps, log[:2000]
        last = datetime.strptime(stamps[-1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        assert abs((datetime.now(timezone.utc) - last).total_seconds()) < 30, stamps[-1]
    finally:
        fw.stop()
        await cs.stop()


async def test_pending_then_accepted_sends_nothing_else_before(tmp_path):
    cs = CentralSystem(boot_status="Pending", heartbeat_interval=1)
    port = await cs.start()
    fw = await start_firmware(tmp_path, sys.executable, port)
    try:
        await cs.wait_for("BootNotification", "CP_1")
        await asyncio.sleep(0.5)
        assert [r.action for r in cs.received("CP_1")] == ["BootNotification"]
        cs.boot_status = "Accepted"
        await cs.wait_for("BootNotification", "CP_1", timeout=5)  # again after `interval`
        await cs.wait_for("StatusNotification", "CP_1", lambda p: p["connectorId"] == 0)
    finally:
        fw.stop()
        await cs.stop()


async def test_unknown_central_system_call_gets_a_callerror(tmp_path):
    cs = CentralSystem(heartbeat_interval=60)
    port = await cs.start()
    fw = await start_firmware(tmp_path, sys.executable, port)
    try:
        await cs.wait_for("StatusNotification", "CP_1", lambda p: p["connectorId"] == 1)
        # every 1.6 action has its handler now: an action of another version is unknown here
        await cs.send_raw("CP_1", '[2,"u-1","GetVariables",{"getVariableData":[]}]')

        replies = []
        for _ in range(100):
            replies = [json.loads(f.text) for f in cs.frames("CP_1")
                       if f.direction == "in" and '"u-1"' in f.text]
            if replies:
                break
            await asyncio.sleep(0.05)
        assert replies and replies[0][:3] == [4, "u-1", "NotImplemented"], replies
    finally:
        fw.stop()
        await cs.stop()


def test_make_sim_shows_the_exchange(tmp_path):
    """tools/sim.py (what `make sim` runs): central system and firmware, frames on screen."""
    cfg = Firmware(tmp_path)
    cfg.config["csms"]["url"] = "ws://127.0.0.1:%d/ocpp" % free_port()
    path = cfg.write_config()
    env = dict(os.environ, CP_STATE_DIR=str(tmp_path / "state"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "tools/sim.py", "--config", path], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if "[cp]" in line and '"StatusNotification"' in line and '"connectorId":1' in line:
                break
        out = "".join(seen)
        assert "[csms]" in out and "CP_1 -> CSMS" in out and "BootNotification" in out
        assert "control channel on 127.0.0.1:%d" % cfg.port in out
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert "Traceback" not in "".join(seen)


async def test_rejected_stays_silent_until_the_interval(tmp_path):
    cs = CentralSystem(boot_status="Rejected", heartbeat_interval=2)
    port = await cs.start()
    fw = await start_firmware(tmp_path, sys.executable, port)
    try:
        await cs.wait_for("BootNotification", "CP_1")
        t0 = asyncio.get_running_loop().time()
        cs.boot_status = "Accepted"
        await cs.wait_for("BootNotification", "CP_1", timeout=10)
        assert asyncio.get_running_loop().time() - t0 >= 1.5  # waited for `interval`
        actions = [r.action for r in cs.received("CP_1")]
        assert actions[:2] == ["BootNotification", "BootNotification"]
        await cs.wait_for("StatusNotification", "CP_1", lambda p: p["connectorId"] == 0)
    finally:
        fw.stop()
        await cs.stop()


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_rejected_answers_nothing(tmp_path, interpreter):
    # 1.6 §4.2: "While Rejected, the Charge Point SHALL NOT respond to any Central System
    # initiated message": no GetConfiguration, no RemoteStart (not even a CALLERROR).
    cs = CentralSystem(boot_status="Rejected", heartbeat_interval=60)
    port = await cs.start()
    fw = await start_firmware(tmp_path, interpreter, port)
    try:
        await cs.wait_for("BootNotification", "CP_1")
        from ocpp.v16 import call
        for request in (call.GetConfiguration(), call.RemoteStartTransaction(id_tag="TAG-1")):
            with pytest.raises(TimeoutError):
                await cs.call("CP_1", request, timeout=2)
        await cs.send_raw("CP_1", '[2,"bad-1","Reset"]')  # malformed: no CALLERROR either
        await asyncio.sleep(0.5)
        sent = [f.text for f in cs.frames("CP_1") if f.direction == "in"]
        assert len(sent) == 1 and '"BootNotification"' in sent[0], sent
        assert "Traceback" not in fw.log()
    finally:
        fw.stop()
        await cs.stop()
