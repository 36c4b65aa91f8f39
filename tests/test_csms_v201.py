# Tests of the bundled CSMS speaking OCPP 2.0.1: real TCP on 127.0.0.1, the `ocpp` package's v201 ChargePoint as the CP.
"""The charge point is the `ocpp` package's own 2.0.1 client, so every frame both ways is
checked against the 2.0.1 schemas on the client side too; raw frames only where that client
cannot send what the test needs (an action it does not know)."""

import asyncio
import contextlib
import json
import re
import signal
import ssl
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from ocpp.exceptions import OCPPError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as call_result16
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from tlsca import TestCA
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tools.csms import OCPP16, OCPP201, CentralSystem

ROOT = Path(__file__).resolve().parent.parent
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
NOW = "2024-05-01T12:00:00Z"
BOOT = call.BootNotification(charging_station={"model": "One", "vendor_name": "Acme"}, reason="PowerUp")
BOOT_WIRE = {"chargingStation": {"model": "One", "vendorName": "Acme"}, "reason": "PowerUp"}


def report_part(request_id: int, seq_no: int, tbc: bool) -> call.NotifyReport:
    """One NotifyReport part holding one variable, named after its seqNo so order shows."""
    data = [{"component": {"name": "SecurityCtrlr"}, "variable": {"name": "Part%d" % seq_no},
             "variable_attribute": [{"value": str(seq_no)}]}]
    return call.NotifyReport(request_id=request_id, generated_at=NOW, seq_no=seq_no, tbc=tbc, report_data=data)


class Station(ChargePoint):
    """The test's 2.0.1 charging station: accepts GetBaseReport, then sends `report_parts`
    (seqNo order as listed) for the requestId it was asked for."""

    report_parts = (0, 1, 2)

    @on(Action.get_base_report)
    def on_get_base_report(self, **_):
        return call_result.GetBaseReport(status="Accepted")

    @after(Action.get_base_report)
    async def send_report(self, request_id, **_):
        last = max(self.report_parts)
        for seq_no in self.report_parts:
            await self.call(report_part(request_id, seq_no, tbc=seq_no != last))


@pytest.fixture
async def cs():
    central = CentralSystem(
        heartbeat_interval=42,
        blocked_tags={"BLOCKED"},
        unknown_tags={"STRANGER"},
        parent_tags={"CARD-1": "FAMILY"},
        vendor_ids={"com.example"},
        ocpp_versions=(OCPP16, OCPP201),
    )
    await central.start()
    yield central
    await central.stop()


def url(cs: CentralSystem, cp_id: str = "CP_1", scheme: str = "ws", userinfo: str = "") -> str:
    return f"{scheme}://{userinfo}127.0.0.1:{cs.port}/ocpp/{cp_id}"


@contextlib.asynccontextmanager
async def running(station):
    """Run the `ocpp` ChargePoint's receive loop for the duration of the block."""
    loop = asyncio.create_task(station.start())
    try:
        yield station
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await loop


@contextlib.asynccontextmanager
async def station(cs: CentralSystem, cp_id: str = "CP_1", cls=Station, **connect_options):
    """A 2.0.1 charging station connected to cs (cp_id as the last path segment)."""
    target = connect_options.pop("url", None) or url(cs, cp_id)
    async with connect(target, subprotocols=[OCPP201], **connect_options) as ws:
        assert ws.subprotocol == OCPP201
        async with running(cls(cp_id, ws)) as client:
            yield client


def assert_rfc3339_utc_now(text: str) -> None:
    assert RFC3339.match(text) and text.endswith("Z"), text
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(seconds=5)


@pytest.mark.parametrize("status", ["Accepted", "Pending", "Rejected"])
async def test_boot_answers_status_interval_and_current_time(cs, status):
    cs.boot_status = status
    async with station(cs) as cp:
        answer = await cp.call(BOOT)
        assert cs.ocpp_version("CP_1") == OCPP201
    assert answer.status == status
    assert answer.interval == 42
    assert_rfc3339_utc_now(answer.current_time)
    assert cs.received("CP_1") == [("BootNotification", BOOT_WIRE)]
    assert await cs.wait_for("BootNotification", "CP_1") == BOOT_WIRE


async def test_boot_status_changes_at_run_time(cs):
    cs.boot_status = "Pending"
    async with station(cs) as cp:
        assert (await cp.call(BOOT)).status == "Pending"
        cs.boot_status = "Accepted"
        assert (await cp.call(BOOT)).status == "Accepted"


async def test_heartbeat_answers_current_time_with_the_clock_offset(cs):
    async with station(cs) as cp:
        assert_rfc3339_utc_now((await cp.call(call.Heartbeat())).current_time)
        cs.clock_offset_s = 3600
        ahead = datetime.fromisoformat((await cp.call(call.Heartbeat())).current_time)
    assert timedelta(minutes=59) < ahead - datetime.now(timezone.utc) < timedelta(minutes=61)
    assert [received.action for received in cs.received("CP_1")] == ["Heartbeat", "Heartbeat"]


async def test_status_notifications_are_answered_and_recorded_in_order(cs):
    async with station(cs) as cp:
        for evse_id in (1, 2):
            status = call.StatusNotification(timestamp=NOW, connector_status="Available", evse_id=evse_id, connector_id=1)
            assert await cp.call(status) == call_result.StatusNotification()
    on_evse_2 = await cs.wait_for("StatusNotification", "CP_1", lambda p: p["evseId"] == 2)
    assert on_evse_2 == {"timestamp": NOW, "connectorStatus": "Available", "evseId": 2, "connectorId": 1}
    assert (await cs.wait_for("StatusNotification", "CP_1"))["evseId"] == 1
    assert [frame.direction for frame in cs.frames("CP_1")] == ["in", "out", "in", "out"]


async def test_get_base_report_then_the_report_parts_come_back_in_seq_no_order(cs):
    async with station(cs) as cp:
        await cs.wait_connected("CP_1", timeout=2)
        result = await cs.call("CP_1", call.GetBaseReport(request_id=7, report_base="FullInventory"))
        assert result.status == "Accepted"
        parts = await cs.report("CP_1", 7)
    assert [part["seqNo"] for part in parts] == [0, 1, 2]
    assert [part["tbc"] for part in parts] == [True, True, False]
    assert [part["reportData"][0]["variable"]["name"] for part in parts] == ["Part0", "Part1", "Part2"]
    get = [json.loads(frame.text) for frame in cs.frames("CP_1") if '"GetBaseReport"' in frame.text]
    assert get[0][2:] == ["GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"}]


async def test_report_waits_for_every_part_up_to_the_last(cs):
    async with station(cs) as cp:
        waiting = asyncio.create_task(cs.report("CP_1", 3, timeout=5))
        await cp.call(report_part(3, 1, tbc=False))  # the last part, ahead of the first
        await cs.wait_for("NotifyReport", "CP_1")
        await cp.call(report_part(4, 0, tbc=False))  # another report is not part of this one
        await cs.wait_for("NotifyReport", "CP_1")
        assert not waiting.done()
        await cp.call(report_part(3, 0, tbc=True))
        parts = await waiting
    assert [(part["requestId"], part["seqNo"]) for part in parts] == [(3, 0), (3, 1)]
    assert [part["requestId"] for part in await cs.report("CP_1", 4)] == [4]


async def test_report_times_out_naming_the_parts_that_arrived(cs):
    async with station(cs) as cp:
        await cp.call(report_part(5, 0, tbc=True))
    with pytest.raises(TimeoutError, match=r"no whole report 5 from CP_1 \(\(seqNo, tbc\) arrived: \[\(0, True\)\]\)"):
        await cs.report("CP_1", 5, timeout=0.1)


@pytest.mark.parametrize(
    ("id_token", "info"),
    [
        ("TAG1", {"status": "Accepted"}),
        ("BLOCKED", {"status": "Blocked"}),
        ("STRANGER", {"status": "Invalid"}),
        ("CARD-1", {"status": "Accepted", "groupIdToken": {"idToken": "FAMILY", "type": "Central"}}),
    ],
)
async def test_authorize_and_transaction_event_use_the_tag_lists(cs, id_token, info):
    token = {"id_token": id_token, "type": "ISO14443"}
    started = call.TransactionEvent(event_type="Started", timestamp=NOW, trigger_reason="Authorized", seq_no=0,
                                    transaction_info={"transaction_id": "tx-1"}, id_token=token)
    async with station(cs) as cp:
        await cp.call(call.Authorize(id_token=token))
        await cp.call(started)
    answers = [json.loads(frame.text)[2] for frame in cs.frames("CP_1") if frame.direction == "out"]
    assert answers == [{"idTokenInfo": info}, {"idTokenInfo": info}]


CHARGE_POINT_CALLS = [
    call.SecurityEventNotification(type="StartupOfTheDevice", timestamp=NOW),
    call.NotifyEvent(generated_at=NOW, seq_no=0, event_data=[{
        "event_id": 1, "timestamp": NOW, "trigger": "Delta", "actual_value": "Occupied",
        "event_notification_type": "HardWiredNotification", "component": {"name": "Connector"},
        "variable": {"name": "AvailabilityState"}}]),
    call.FirmwareStatusNotification(status="Idle"),
    call.LogStatusNotification(status="Idle", request_id=8),
    call.MeterValues(evse_id=1, meter_value=[{"timestamp": NOW, "sampled_value": [{"value": 10}]}]),
    call.TransactionEvent(event_type="Ended", timestamp=NOW, trigger_reason="StopAuthorized", seq_no=1,
                          transaction_info={"transaction_id": "tx-1"}),
    call.DataTransfer(vendor_id="com.example"),
    call.SignCertificate(csr="-----BEGIN CERTIFICATE REQUEST-----"),
]


async def test_every_served_charge_point_action_is_answered_and_recorded(cs):
    async with station(cs) as cp:
        answers = [await cp.call(request) for request in CHARGE_POINT_CALLS]  # the client checks each answer
    assert [type(answer).__name__ for answer in answers] == [type(request).__name__ for request in CHARGE_POINT_CALLS]
    assert answers[6].status == "Accepted" and answers[7].status == "Accepted"
    assert [received.action for received in cs.received("CP_1")] == [type(r).__name__ for r in CHARGE_POINT_CALLS]


@pytest.mark.parametrize(("action", "code"), [("Reset", "NotSupported"), ("MakeCoffee", "NotImplemented")])
async def test_unserved_actions_get_the_ocpp_j_error_codes(cs, action, code):
    async with connect(url(cs), subprotocols=[OCPP201]) as ws:
        await ws.send(json.dumps([2, "u1", action, {}]))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert answer[:3] == [4, "u1", code]
    assert cs.received("CP_1") == [(action, {})]


async def test_central_system_call_keeps_schema_validation_on(cs):
    class Sloppy(Station):
        @on(Action.get_base_report, skip_schema_validation=True)
        def on_get_base_report(self, **_):
            return call_result.GetBaseReport(status="Maybe")  # not a GenericDeviceModelStatus

    async with station(cs, cls=Sloppy):
        await cs.wait_connected("CP_1", timeout=2)
        with pytest.raises(OCPPError):
            await cs.call("CP_1", call.GetBaseReport(request_id=1, report_base="FullInventory"))
        with pytest.raises(OCPPError):  # an invalid request never leaves the CSMS
            await cs.call("CP_1", call.GetBaseReport(request_id=2, report_base="Everything"))
    assert sum('"GetBaseReport"' in frame.text for frame in cs.frames("CP_1")) == 1


@pytest.mark.parametrize(
    ("offered", "chosen"), [([OCPP201, OCPP16], OCPP201), ([OCPP16, OCPP201], OCPP16), (["ocpp2.1", OCPP16], OCPP16)]
)
async def test_the_charge_points_preference_decides_the_version(cs, offered, chosen):
    async with connect(url(cs), subprotocols=offered) as ws:
        assert ws.subprotocol == chosen
        await cs.wait_connected("CP_1", timeout=2)
        assert cs.ocpp_version("CP_1") == chosen
    await cs.wait_disconnected("CP_1", timeout=2)
    assert cs.ocpp_version("CP_1") is None


class Point16(ChargePoint16):
    """A 1.6 charge point that accepts TriggerMessage."""

    @on("TriggerMessage")
    def on_trigger_message(self, **_):
        return call_result16.TriggerMessage(status="Accepted")


async def test_a_16_and_a_201_charge_point_on_one_server(cs):
    async with connect(url(cs, "OLD"), subprotocols=[OCPP16]) as ws16, station(cs, "NEW") as new:
        async with running(Point16("OLD", ws16)) as old:
            answer16 = await old.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model="One"))
            answer201 = await new.call(BOOT)
            triggered = await cs.call("OLD", call16.TriggerMessage(requested_message="Heartbeat"))
            reporting = await cs.call("NEW", call.GetBaseReport(request_id=1, report_base="SummaryInventory"))
            await cs.report("NEW", 1)
    assert (answer16.status, answer201.status) == ("Accepted", "Accepted")
    assert (triggered.status, reporting.status) == ("Accepted", "Accepted")
    assert cs.received("OLD") == [("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "One"})]
    assert cs.received("NEW")[0] == ("BootNotification", BOOT_WIRE)
    assert [received.action for received in cs.received("NEW")[1:]] == ["NotifyReport"] * 3


@pytest.mark.parametrize(
    ("served", "offered"), [((OCPP16,), OCPP201), ((OCPP201,), OCPP16), (None, OCPP201)]
)
async def test_a_restricted_server_refuses_the_other_version(capsys, served, offered):
    central = CentralSystem() if served is None else CentralSystem(ocpp_versions=served)  # None: the default
    await central.start()
    try:
        async with connect(url(central), subprotocols=[offered]) as ws:
            assert ws.subprotocol is None  # handshake completed without the header, as OCPP-J asks
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 2)
    finally:
        await central.stop()
    assert closed.value.rcvd.code == 1002
    expected = " or ".join(served or (OCPP16,))
    assert f"CP_1 refused: no {expected} subprotocol (offered: {offered})" in capsys.readouterr().out
    assert central.received("CP_1") == []


def test_unknown_versions_are_refused_when_made():
    with pytest.raises(ValueError, match="ocpp_versions"):
        CentralSystem(ocpp_versions=("ocpp2.0",))
    with pytest.raises(ValueError, match="ocpp_versions"):
        CentralSystem(ocpp_versions=())


async def test_basic_auth_for_a_201_charge_point():
    key = "0123456789abcdef0123"
    central = CentralSystem(credentials=("CP_1", key), ocpp_versions=(OCPP201,), echo=False)
    await central.start()
    try:
        with pytest.raises(InvalidStatus) as refused:
            async with station(central, url=url(central, userinfo="CP_1:wrong-password@")):
                pass
        assert refused.value.response.status_code == 401
        async with station(central, url=url(central, userinfo=f"CP_1:{key}@")) as cp:
            assert (await cp.call(BOOT)).status == "Accepted"
    finally:
        await central.stop()
    assert len(central.authorizations) == 1 and central.authorizations[0][1].startswith("Basic ")


async def test_tls_for_a_201_charge_point(tmp_path):
    ca = TestCA(tmp_path)
    server_cert = ca.server()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(server_cert.cert, server_cert.key)
    central = CentralSystem(tls=server_context, ocpp_versions=(OCPP16, OCPP201), echo=False)
    await central.start()
    try:
        client_context = ssl.create_default_context(cafile=ca.path)
        async with station(central, url=url(central, scheme="wss"), ssl=client_context) as cp:
            assert (await cp.call(BOOT)).status == "Accepted"
    finally:
        await central.stop()
    assert central.received("CP_1") == [("BootNotification", BOOT_WIRE)]


async def _read_line_containing(stream, text: str, seen: list) -> str:
    while True:
        line = (await stream.readline()).decode()
        assert line, f"stdout ended before {text!r}; got {seen}"
        seen.append(line)
        if text in line:
            return line


@pytest.mark.parametrize(("options", "served"), [([], True), (["--ocpp-version", "1.6"], False)])
async def test_cli_serves_201_unless_told_otherwise(options, served):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "tools/csms.py", "--port", "0", *options,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    seen: list = []
    try:
        banner = await asyncio.wait_for(_read_line_containing(process.stdout, "listening on", seen), 10)
        port = re.search(r"ws://127\.0\.0\.1:(\d+)/", banner).group(1)
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CP_1", subprotocols=[OCPP201]) as ws:
            assert (ws.subprotocol == OCPP201) is served
            if served:
                async with running(Station("CP_1", ws)) as cp:
                    assert (await cp.call(BOOT)).status == "Accepted"
                line = await asyncio.wait_for(_read_line_containing(process.stdout, "CP_1 -> CSMS", seen), 5)
                assert '"BootNotification"' in line
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = "".join(seen) + out.decode() + err.decode()
    assert process.returncode == 0, output
    assert ("ocpp=1.6,2.0.1" if served else "ocpp=1.6 ") in banner
    assert "Traceback" not in output
