# Tests of the bundled local CSMS (tools/csms): real TCP on 127.0.0.1, a raw websockets client as the CP.
"""The charge point here sends hand-written OCPP-J frames, so the CSMS is checked
against the wire format rather than against the `ocpp` package it is built on."""

import asyncio
import contextlib
import itertools
import json
import re
import signal
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tools.csms import CentralSystem, charge_point_id

ROOT = Path(__file__).resolve().parent.parent
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
NOW = "2024-05-01T12:00:00Z"
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "One"}


class RawChargePoint:
    """The test's charge point: raw OCPP-J frames over a websockets client connection."""

    def __init__(self, ws):
        self.ws = ws
        self._ids = itertools.count(1)

    async def call(self, action: str, payload: dict) -> list:
        """Send a CALL and return the decoded answer frame (CALLRESULT or CALLERROR)."""
        unique_id = str(next(self._ids))
        await self.ws.send(json.dumps([2, unique_id, action, payload]))
        answer = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
        assert answer[1] == unique_id
        return answer

    async def result(self, action: str, payload: dict) -> dict:
        """The payload of a CALLRESULT; fails on a CALLERROR."""
        answer = await self.call(action, payload)
        assert answer[0] == 3, answer
        return answer[2]


@pytest.fixture
async def cs():
    central = CentralSystem(
        heartbeat_interval=42, blocked_tags={"BLOCKED"}, unknown_tags={"STRANGER"}, vendor_ids={"com.example"}
    )
    await central.start()
    yield central
    await central.stop()


def url(cs: CentralSystem, cp_id: str = "CP_1") -> str:
    return f"ws://127.0.0.1:{cs.port}/ocpp/{cp_id}"


@contextlib.asynccontextmanager
async def charge_point(cs: CentralSystem, cp_id: str = "CP_1"):
    async with connect(url(cs, cp_id), subprotocols=["ocpp1.6"]) as ws:
        assert ws.subprotocol == "ocpp1.6"
        yield RawChargePoint(ws)


def assert_rfc3339_utc_now(text: str) -> None:
    assert RFC3339.match(text) and text.endswith("Z"), text
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(seconds=5)


@pytest.mark.parametrize("status", ["Accepted", "Pending", "Rejected"])
async def test_boot_answers_status_interval_and_current_time(cs, status):
    cs.boot_status = status
    async with charge_point(cs) as cp:
        answer = await cp.result("BootNotification", BOOT)
    assert answer["status"] == status
    assert answer["interval"] == 42
    assert_rfc3339_utc_now(answer["currentTime"])
    assert cs.received("CP_1") == [("BootNotification", BOOT)]


async def test_boot_status_changes_at_run_time(cs):
    cs.boot_status = "Pending"
    async with charge_point(cs) as cp:
        assert (await cp.result("BootNotification", BOOT))["status"] == "Pending"
        cs.boot_status = "Accepted"
        assert (await cp.result("BootNotification", BOOT))["status"] == "Accepted"
    with pytest.raises(ValueError):
        cs.boot_status = "accepted"


async def test_every_frame_is_logged_on_one_line(cs, capsys):
    async with charge_point(cs) as cp:
        await cp.ws.send('[2,"b1","BootNotification",\n{"chargePointVendor":"Acme","chargePointModel":"One"}]')
        await cp.ws.recv()
    lines = capsys.readouterr().out.splitlines()
    sent = [line for line in lines if "CP_1 -> CSMS" in line]
    answered = [line for line in lines if "CSMS -> CP_1" in line]
    assert len(sent) == 1 and '[2,"b1","BootNotification",\\n{"chargePointVendor"' in sent[0]
    assert re.match(r"^\d{2}:\d{2}:\d{2}\.\d{3}Z  CP_1 -> CSMS  \[2", sent[0])
    assert len(answered) == 1 and '[3,"b1",{"currentTime":' in answered[0]
    assert [frame.direction for frame in cs.frames("CP_1")] == ["in", "out"]


async def test_start_transaction_gets_increasing_ids(cs):
    start = {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": NOW}
    async with charge_point(cs) as cp:
        first = await cp.result("StartTransaction", start)
        second = await cp.result("StartTransaction", {**start, "connectorId": 2})
        blocked = await cp.result("StartTransaction", {**start, "idTag": "BLOCKED"})
    ids = [answer["transactionId"] for answer in (first, second, blocked)]
    assert ids == [ids[0], ids[0] + 1, ids[0] + 2]
    assert first["idTagInfo"] == {"status": "Accepted"}
    assert blocked["idTagInfo"] == {"status": "Blocked"}
    assert cs.last_transaction_id == blocked["transactionId"]


@pytest.mark.parametrize(
    ("id_tag", "status"), [("TAG1", "Accepted"), ("BLOCKED", "Blocked"), ("STRANGER", "Invalid")]
)
async def test_authorize_uses_the_tag_lists(cs, id_tag, status):
    async with charge_point(cs) as cp:
        assert await cp.result("Authorize", {"idTag": id_tag}) == {"idTagInfo": {"status": status}}


async def test_parent_tags_go_into_every_id_tag_info():
    central = CentralSystem(parent_tags={"CARD-1": "FAMILY", "CARD-2": "FAMILY"}, blocked_tags={"CARD-2"})
    await central.start()
    try:
        start = {"connectorId": 1, "idTag": "CARD-1", "meterStart": 0, "timestamp": NOW}
        async with charge_point(central) as cp:
            assert await cp.result("Authorize", {"idTag": "CARD-1"}) == {
                "idTagInfo": {"status": "Accepted", "parentIdTag": "FAMILY"}}
            assert (await cp.result("StartTransaction", start))["idTagInfo"] == {
                "status": "Accepted", "parentIdTag": "FAMILY"}
            assert await cp.result("Authorize", {"idTag": "CARD-2"}) == {
                "idTagInfo": {"status": "Blocked", "parentIdTag": "FAMILY"}}
            assert await cp.result("Authorize", {"idTag": "CARD-3"}) == {"idTagInfo": {"status": "Accepted"}}
    finally:
        await central.stop()


async def test_answer_delays_slow_one_action_down():
    central = CentralSystem(answer_delays={"Heartbeat": 0.4})
    await central.start()
    try:
        async with charge_point(central) as cp:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            await cp.result("Heartbeat", {})
            assert loop.time() - t0 >= 0.4
            t0 = loop.time()
            await cp.result("Authorize", {"idTag": "TAG1"})
            assert loop.time() - t0 < 0.3
    finally:
        await central.stop()


async def test_call_errors_refuse_an_action_and_closes_are_recorded():
    central = CentralSystem(call_errors={"StatusNotification": "SecurityError"})
    await central.start()
    try:
        async with charge_point(central) as cp:
            answer = await cp.call("StatusNotification",
                                   {"connectorId": 0, "errorCode": "NoError", "status": "Available"})
            assert answer[0] == 4 and answer[2] == "SecurityError"
            assert await cp.result("Heartbeat", {})  # other actions as before
            central.call_errors.clear()  # changeable at run time
            assert await cp.result("StatusNotification",
                                   {"connectorId": 0, "errorCode": "NoError", "status": "Available"}) == {}
        await central.wait_disconnected("CP_1", timeout=2)
        assert central.closes == [("CP_1", 1000)]
    finally:
        await central.stop()


@pytest.mark.parametrize(
    ("vendor_id", "status"), [("com.example", "Accepted"), ("com.other", "UnknownVendorId")]
)
async def test_data_transfer_knows_registered_vendors_only(cs, vendor_id, status):
    async with charge_point(cs) as cp:
        assert (await cp.result("DataTransfer", {"vendorId": vendor_id}))["status"] == status


CHARGE_POINT_CALLS = [
    ("BootNotification", BOOT),
    ("Heartbeat", {}),
    ("StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available"}),
    ("Authorize", {"idTag": "TAG1"}),
    ("StartTransaction", {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": NOW}),
    ("StopTransaction", {"transactionId": 1, "meterStop": 10, "timestamp": NOW, "idTag": "TAG1"}),
    ("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "10"}]}]}),
    ("DataTransfer", {"vendorId": "com.example", "data": "x"}),
    ("DiagnosticsStatusNotification", {"status": "Idle"}),
    ("FirmwareStatusNotification", {"status": "Idle"}),
    ("SecurityEventNotification", {"type": "StartupOfTheDevice", "timestamp": NOW}),
    ("SignedFirmwareStatusNotification", {"status": "Downloading", "requestId": 7}),
    ("LogStatusNotification", {"status": "Idle", "requestId": 8}),
    ("SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"}),
]


async def test_every_charge_point_action_is_answered_and_recorded(cs):
    async with charge_point(cs) as cp:
        for action, payload in CHARGE_POINT_CALLS:
            await cp.result(action, payload)
    assert cs.received("CP_1") == CHARGE_POINT_CALLS


@pytest.mark.parametrize(("action", "code"), [("Reset", "NotSupported"), ("MakeCoffee", "NotImplemented")])
async def test_unserved_actions_get_the_ocpp_j_error_codes(cs, action, code):
    async with charge_point(cs) as cp:
        answer = await cp.call(action, {})
    assert answer[0] == 4 and answer[2] == code


async def test_central_system_call_reaches_the_charge_point_and_returns_its_result(cs):
    async with charge_point(cs) as cp:
        await cs.wait_connected("CP_1", timeout=2)
        pending = asyncio.create_task(cs.call("CP_1", call.TriggerMessage(requested_message="Heartbeat")))
        request = json.loads(await asyncio.wait_for(cp.ws.recv(), 2))
        assert request[0] == 2 and request[2:] == ["TriggerMessage", {"requestedMessage": "Heartbeat"}]
        await cp.ws.send(json.dumps([3, request[1], {"status": "Accepted"}]))
        result = await asyncio.wait_for(pending, 2)
    assert result.status == "Accepted"


async def test_central_system_call_raises_on_callerror_and_on_disconnect(cs):
    async with charge_point(cs) as cp:
        await cs.wait_connected("CP_1", timeout=2)
        pending = asyncio.create_task(cs.call("CP_1", call.Reset(type="Soft")))
        request = json.loads(await asyncio.wait_for(cp.ws.recv(), 2))
        await cp.ws.send(json.dumps([4, request[1], "NotSupported", "", {}]))
        with pytest.raises(NotSupportedError):
            await asyncio.wait_for(pending, 2)
        pending = asyncio.create_task(cs.call("CP_1", call.Reset(type="Hard")))
        await asyncio.wait_for(cp.ws.recv(), 2)
    with pytest.raises(ConnectionError, match="disconnected before answering Reset"):
        await asyncio.wait_for(pending, 2)
    with pytest.raises(ConnectionError, match="not connected"):
        await cs.call("CP_1", call.Reset(type="Hard"))


@pytest.mark.parametrize("offered", [None, ["ocpp2.0.1"]])
async def test_connection_without_ocpp16_subprotocol_is_refused(cs, capsys, offered):
    async with connect(url(cs), subprotocols=offered) as ws:
        assert ws.subprotocol is None  # handshake completed without the header, as OCPP-J asks
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 2)
    assert closed.value.rcvd.code == 1002
    assert not cs.connected("CP_1")
    assert "CP_1 refused: no ocpp1.6 subprotocol" in capsys.readouterr().out


async def test_charge_point_id_is_the_percent_decoded_last_segment(cs):
    assert charge_point_id("/ocpp/v16/CP%2F7?token=x") == "CP/7"
    assert charge_point_id("/ocpp/") == ""
    async with charge_point(cs, "CP%201"):
        await cs.wait_connected("CP 1", timeout=2)
        assert cs.connected("CP 1")
    await cs.wait_disconnected("CP 1", timeout=2)


async def test_reconnect_replaces_the_old_connection(cs):
    async with charge_point(cs) as old, charge_point(cs) as new:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(old.ws.recv(), 2)
        await new.result("Heartbeat", {})
        assert cs.connected("CP_1")


async def test_wait_for_takes_each_message_once_in_arrival_order(cs):
    async with charge_point(cs) as cp:
        for connector in (0, 1, 2):
            status = {"connectorId": connector, "errorCode": "NoError", "status": "Available"}
            await cp.result("StatusNotification", status)
        await cp.result("Heartbeat", {})
    assert (await cs.wait_for("Heartbeat", "CP_1")) == {}
    on_connector_2 = await cs.wait_for("StatusNotification", predicate=lambda p: p["connectorId"] == 2)
    assert on_connector_2["connectorId"] == 2
    assert (await cs.wait_for("StatusNotification"))["connectorId"] == 0
    assert (await cs.wait_for("StatusNotification", "CP_1"))["connectorId"] == 1
    assert len(cs.received("CP_1")) == 4  # taking leaves the record alone


async def test_wait_for_waits_for_a_later_message(cs):
    async with charge_point(cs) as cp:
        waiting = asyncio.create_task(cs.wait_for("Heartbeat", "CP_1", timeout=2))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await cp.result("Heartbeat", {})
        assert await waiting == {}


async def test_wait_for_times_out_cleanly(cs):
    async with charge_point(cs) as cp:
        await cp.result("BootNotification", BOOT)
    expected = r"no matching Heartbeat from CP_1 \(untaken: CP_1 BootNotification\) within 0.1 s"
    with pytest.raises(TimeoutError, match=expected):
        await cs.wait_for("Heartbeat", "CP_1", timeout=0.1)
    with pytest.raises(TimeoutError, match="CP_9 not connected"):
        await cs.wait_connected("CP_9", timeout=0.1)


async def _read_line_containing(stream, text: str, seen: list) -> str:
    while True:
        line = (await stream.readline()).decode()
        assert line, f"stdout ended before {text!r}; got {seen}"
        seen.append(line)
        if text in line:
            return line


async def test_cli_prints_frames_and_stops_cleanly_on_sigint():
    process = await asyncio.create_subprocess_exec(
        sys.executable, "tools/csms.py", "--port", "0", "--boot-status", "Pending", "--heartbeat-interval", "5",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    seen: list = []
    try:
        banner = await asyncio.wait_for(_read_line_containing(process.stdout, "listening on", seen), 10)
        port = re.search(r"ws://127\.0\.0\.1:(\d+)/", banner).group(1)
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CP_1", subprotocols=["ocpp1.6"]) as ws:
            cp = RawChargePoint(ws)
            answer = await cp.result("BootNotification", BOOT)
            assert (answer["status"], answer["interval"]) == ("Pending", 5)
            line = await asyncio.wait_for(_read_line_containing(process.stdout, "CP_1 -> CSMS", seen), 5)
            assert '"BootNotification"' in line
            process.send_signal(signal.SIGINT)  # while the charge point is still connected
            out, err = await asyncio.wait_for(process.communicate(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = "".join(seen) + out.decode() + err.decode()
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert "CSMS stopped" in out.decode()
