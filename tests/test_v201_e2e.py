# End to end, OCPP 2.0.1 (csms.ocppVersion "2.0.1"): the provisioning block of seed 004 against the
# bundled central system (the `ocpp` package's v201 side, which validates every message against
# the 2.0.1 schemas), on CPython and on the MicroPython unix port.
import asyncio
import json

import pytest
from ocpp.v201 import call

from cpharness import Harness
from test_core_e2e import INTERPRETERS
from tools.csms import OCPP16, CentralSystem

V201 = {"ocppVersion": "2.0.1"}
PASSWORD = "first-password-0123"
NEW_PASSWORD = "second-password-4567"


def variable(component, name, evse=None):
    item = {"component": {"name": component}, "variable": {"name": name}}
    if evse is not None:
        item["component"]["evse"] = {"id": evse}
    return item


async def get(h, component, name):
    result = await h.cs.call("CP_1", call.GetVariables(get_variable_data=[
        variable(component, name)]))
    return result.get_variable_result[0]


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_boot_status_variables_trigger_and_availability(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter, runner=True, csms=V201) as h:
        boot = h.cs.received("CP_1")[0]
        assert boot.action == "BootNotification"
        assert boot.payload == {"reason": "PowerUp", "chargingStation": {
            "model": "TestModel", "vendorName": "TestVendor", "serialNumber": "SN-1",
            "firmwareVersion": "0.1.0"}}, boot.payload
        first = [r.payload for r in h.cs.received("CP_1") if r.action == "StatusNotification"]
        assert first[0]["connectorStatus"] == "Available" and first[0]["connectorId"] == 1
        modules = json.loads(await h.ctl("modules"))
        assert "firmware.v201.station" in modules and not [
            m for m in modules if m.startswith("firmware.v16")], modules
        # the cable: Occupied, and back
        assert await h.ctl("plug 1") == "ok"
        await h.status("Occupied")
        assert await h.ctl("unplug 1") == "ok"
        await h.status("Available")
        # B05/B06: a variable set, read back, used (Heartbeats every 2 s)
        result = await h.cs.call("CP_1", call.SetVariables(set_variable_data=[
            dict(variable("OCPPCommCtrlr", "HeartbeatInterval"), attribute_value="2")]))
        assert result.set_variable_result[0]["attribute_status"] == "Accepted", result
        got = await get(h, "OCPPCommCtrlr", "HeartbeatInterval")
        assert got["attribute_status"] == "Accepted" and got["attribute_value"] == "2", got
        before = len([r for r in h.cs.received("CP_1") if r.action == "Heartbeat"])
        await h.cs.wait_for("Heartbeat", "CP_1", timeout=10)
        await h.cs.wait_for("Heartbeat", "CP_1", lambda p: len(
            [r for r in h.cs.received("CP_1") if r.action == "Heartbeat"]) > before + 1,
            timeout=10)
        # F06
        result = await h.cs.call("CP_1", call.TriggerMessage(requested_message="BootNotification"))
        assert result.status == "Rejected", "F06.FR.17: accepted already"
        result = await h.cs.call("CP_1", call.TriggerMessage(requested_message="MeterValues"))
        assert result.status == "NotImplemented"
        n = len(h.cs.received("CP_1"))
        result = await h.cs.call("CP_1", call.TriggerMessage(
            requested_message="StatusNotification", evse={"id": 1, "connectorId": 1}))
        assert result.status == "Accepted"
        await h.cs.wait_for("StatusNotification", "CP_1",
                            lambda p: len(h.cs.received("CP_1")) > n)
        # G03: EVSE 1 Inoperative, kept across a Reset (G03.FR.08), then Operative again
        result = await h.cs.call("CP_1", call.ChangeAvailability(
            operational_status="Inoperative", evse={"id": 1}))
        assert result.status == "Accepted"
        await h.status("Unavailable")
        result = await h.cs.call("CP_1", call.Reset(type="Immediate", evse_id=1))
        assert result.status == "Rejected", "B11.FR.09: no reset of one EVSE"
        boots = len([r for r in h.cs.received("CP_1") if r.action == "BootNotification"])
        result = await h.cs.call("CP_1", call.Reset(type="OnIdle"))
        assert result.status == "Accepted"
        again = await h.cs.wait_for("BootNotification", "CP_1", lambda p: len(
            [r for r in h.cs.received("CP_1") if r.action == "BootNotification"]) > boots,
            timeout=30)
        assert again["reason"] == "RemoteReset", again
        await h.cs.wait_for("StatusNotification", "CP_1", lambda p: p["connectorStatus"] ==
                            "Unavailable" and len(h.cs.received("CP_1")) > boots + 1)
        result = await h.cs.call("CP_1", call.ChangeAvailability(operational_status="Operative"))
        assert result.status == "Accepted"
        result = await h.cs.call("CP_1", call.ChangeAvailability(
            operational_status="Operative", evse={"id": 1}))
        assert result.status == "Accepted"
        await h.status("Available")


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_full_inventory_in_parts(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter, csms=dict(V201, frameBufferBytes=1024)) as h:
        result = await h.cs.call("CP_1", call.GetBaseReport(request_id=7,
                                                            report_base="FullInventory"))
        assert result.status == "Accepted"
        parts = await h.cs.report("CP_1", 7, timeout=30)
        assert len(parts) > 1, "a 1 KiB frame buffer takes the inventory in several parts"
        assert [p["seqNo"] for p in parts] == list(range(len(parts)))
        assert all(p["tbc"] for p in parts[:-1]) and not parts[-1].get("tbc", False)
        seen = set()
        for part in parts:
            for item in part["reportData"]:
                key = (item["component"]["name"], item["variable"]["name"],
                       (item["component"].get("evse") or {}).get("id"),
                       item["variable"].get("instance"))
                assert key not in seen, "reported twice: %r" % (key,)
                seen.add(key)
                if key[1] == "BasicAuthPassword":
                    assert all("value" not in a for a in item["variableAttribute"]), item
        assert ("OCPPCommCtrlr", "HeartbeatInterval", None, None) in seen
        assert ("SecurityCtrlr", "SecurityProfile", None, None) in seen
        assert ("EVSE", "AvailabilityState", 1, None) in seen
        result = await h.cs.call("CP_1", call.GetReport(request_id=8, component_variable=[
            {"component": {"name": "SecurityCtrlr"}}]))
        assert result.status == "Accepted"
        parts = await h.cs.report("CP_1", 8, timeout=30)
        names = {i["variable"]["name"] for p in parts for i in p["reportData"]}
        assert "SecurityProfile" in names and {i["component"]["name"] for p in parts
                                               for i in p["reportData"]} == {"SecurityCtrlr"}


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_pending_then_accepted(tmp_path, interpreter):
    harness = Harness(tmp_path, interpreter=interpreter, csms=V201, boot=False,
                      cs_options={"boot_status": "Pending", "heartbeat_interval": 2})
    async with harness as h:
        await h.cs.wait_for("BootNotification", "CP_1", timeout=15)
        # B02: while Pending the central system may ask, and trigger a BootNotification
        got = await get(h, "SecurityCtrlr", "SecurityProfile")
        assert got["attribute_value"] == "0"
        assert not [r for r in h.cs.received("CP_1") if r.action == "StatusNotification"]
        h.cs.boot_status = "Accepted"
        result = await h.cs.call("CP_1", call.TriggerMessage(requested_message="BootNotification"))
        assert result.status == "Accepted"
        boot = await h.cs.wait_for("BootNotification", "CP_1", lambda p: p["reason"] ==
                                   "Triggered")
        assert boot["chargingStation"]["model"] == "TestModel"
        await h.status("Available")


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_rejected_sends_nothing_until_the_interval_then_boots_again(tmp_path, interpreter):
    harness = Harness(tmp_path, interpreter=interpreter, csms=V201, boot=False,
                      cs_options={"boot_status": "Rejected", "heartbeat_interval": 3})
    async with harness as h:
        await h.cs.wait_for("BootNotification", "CP_1", timeout=15)
        h.cs.boot_status = "Accepted"
        again = await h.cs.wait_for("BootNotification", "CP_1", timeout=15)  # B03: after 3 s
        assert again["reason"] == "PowerUp"
        actions = [r.action for r in h.cs.received("CP_1")]
        assert actions[:2] == ["BootNotification", "BootNotification"], actions
        await h.status("Available")


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_basic_auth_password_set_by_the_central_system(tmp_path, interpreter):
    harness = Harness(tmp_path, interpreter=interpreter,
                      cs_options={"credentials": ("CP_1", PASSWORD)},
                      csms=dict(V201, securityProfile=1, authorizationKey=PASSWORD))
    async with harness as h:
        got = await get(h, "SecurityCtrlr", "BasicAuthPassword")
        assert got["attribute_status"] == "Rejected" and "attribute_value" not in got, got
        result = await h.cs.call("CP_1", call.SetVariables(set_variable_data=[
            dict(variable("SecurityCtrlr", "BasicAuthPassword"), attribute_value=NEW_PASSWORD)]))
        assert result.set_variable_result[0]["attribute_status"] == "Accepted", result
        event = await h.cs.wait_for("SecurityEventNotification", "CP_1", lambda p: p["type"] ==
                                    "ReconfigurationOfSecurityParameters")
        assert NEW_PASSWORD not in event.get("techInfo", "")
        # A01.FR.03: from now on the central system takes only the new password, after a reboot
        port = h.port
        await h.cs.stop()
        h.cs = CentralSystem(heartbeat_interval=60, credentials=("CP_1", NEW_PASSWORD),
                             ocpp_versions=("ocpp2.0.1",))
        await h.cs.start(port=port)
        h.fw.stop()
        await asyncio.to_thread(h.fw.start)
        await h.cs.wait_for("BootNotification", "CP_1", timeout=30)
        log = h.fw.log()
        assert NEW_PASSWORD not in log and PASSWORD not in log


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_security_profile_2_verifies_the_csms_and_reports_a_stranger(tmp_path, interpreter):
    """A00/A01 profile 2 (TLS with Basic auth): a central system whose certificate does not
    chain to caFile is refused and, once a trusted one is reached, reported under 2.0.1's name."""
    from test_security_e2e import events, reach_after_failures, tls_server_context
    from tlsca import TestCA
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    trusted, stranger = TestCA(tmp_path / "a"), TestCA(tmp_path / "b", name="Stranger CA")
    harness = Harness(tmp_path, interpreter=interpreter, boot=False,
                      cs_options={"tls": tls_server_context(stranger),
                                  "credentials": ("CP_1", PASSWORD),
                                  "ocpp_versions": ("ocpp2.0.1",)},
                      csms=dict(V201, securityProfile=2, caFile=trusted.path,
                                authorizationKey=PASSWORD))
    async with harness as h:
        assert not h.cs.received("CP_1"), "nothing reaches a central system that did not verify"
        await reach_after_failures(h, {"tls": tls_server_context(trusted),
                                       "credentials": ("CP_1", PASSWORD),
                                       "ocpp_versions": ("ocpp2.0.1",)})
        bad = await h.cs.wait_for("SecurityEventNotification", "CP_1", lambda p: p["type"] ==
                                  "InvalidCsmsCertificate", timeout=15)
        assert "certificate" in bad["techInfo"]
        assert (await get(h, "SecurityCtrlr", "SecurityProfile"))["attribute_value"] == "2"
        await asyncio.sleep(0.5)
        assert len(events(h, "InvalidCsmsCertificate")) == 1
        assert PASSWORD not in h.fw.log()


async def test_a_central_system_without_2_0_1_is_one_clear_line(tmp_path):
    harness = Harness(tmp_path, csms=V201, boot=False, cs_options={"ocpp_versions": (OCPP16,)})
    async with harness as h:
        await asyncio.to_thread(h.fw.wait_log, "offered: ocpp2.0.1", 15)
        assert not [r for r in h.cs.received("CP_1")], "no OCPP message on a 1.6 link"


async def test_a_1_6_charge_point_imports_nothing_of_2_0_1(tmp_path):
    async with Harness(tmp_path) as h:
        modules = json.loads(await h.ctl("modules"))
        assert "firmware.v16.chargepoint" in modules and not [
            m for m in modules if m.startswith("firmware.v201")], modules
