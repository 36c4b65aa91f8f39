# End to end, OCPP 1.6 Core and Remote Trigger: the firmware process with the simulated EV
# driven over the control channel, against the bundled central system (the ocpp package).
import asyncio

import pytest
from ocpp.v16 import call

from cpharness import Harness
from simproc import micropython
from tools.csms import CentralSystem

# The firmware under CPython and under the MicroPython unix port.
INTERPRETERS = [pytest.param(None, id="cpython"),
                pytest.param(micropython(), id="micropython", marks=pytest.mark.skipif(
                    micropython() is None, reason="no micropython (unix port) on PATH"))]


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_plug_first_session_with_meter_values(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await h.configure("MeterValueSampleInterval", "1")
        await h.configure("MeterValuesSampledData",
                          "Energy.Active.Import.Register,Power.Active.Import")
        assert await h.ctl("plug 1") == "ok"
        await h.status("Preparing")
        assert await h.ctl("swipe TAG-PLUG") == "ok"
        assert (await h.cs.wait_for("Authorize", "CP_1"))["idTag"] == "TAG-PLUG"
        start = await h.cs.wait_for("StartTransaction", "CP_1")
        assert start["connectorId"] == 1 and start["idTag"] == "TAG-PLUG"
        assert start["meterStart"] == (await h.state())["meterWh"]
        assert (await h.state())["relay"] == "open"  # the EV has not asked yet (state B)
        assert await h.ctl("cp 1 C") == "ok"
        await h.status("Charging")
        s = await h.wait_state(1, lambda s: s["relay"] == "closed")
        # MaxCurrentA 16: duty 16/0.6 %, rounded down so the EV never reads more than 16 A
        assert s["pwmDutyPermille"] == 266 and 15.8 <= s["offeredA"] <= 16
        mv = await h.cs.wait_for("MeterValues", "CP_1", timeout=5)
        assert mv["transactionId"] == h.cs.last_transaction_id
        values = {v["measurand"]: v for v in mv["meterValue"][0]["sampledValue"]}
        assert values["Energy.Active.Import.Register"]["unit"] == "Wh"
        assert 15.8 * 230 * 3 <= int(values["Power.Active.Import"]["value"]) <= 16 * 230 * 3
        assert values["Power.Active.Import"]["context"] == "Sample.Periodic"
        await asyncio.sleep(1.5)
        assert await h.ctl("swipe TAG-PLUG") == "ok"  # the same card stops it
        stop = await h.cs.wait_for("StopTransaction", "CP_1")
        assert stop["reason"] == "Local" and stop["transactionId"] == h.cs.last_transaction_id
        assert stop["meterStop"] > start["meterStart"]
        assert (await h.wait_state(1, lambda s: s["relay"] == "open"))["pwmDutyPermille"] == 1000
        await h.status("Finishing")
        assert await h.ctl("unplug 1") == "ok"
        await h.status("Available")


async def test_card_first_session_stops_when_the_ev_leaves(tmp_path):
    async with Harness(tmp_path) as h:
        assert await h.ctl("swipe TAG-CARD") == "ok"
        await h.cs.wait_for("Authorize", "CP_1")
        await h.status("Preparing")
        await asyncio.sleep(0.3)
        assert not [r for r in h.cs.received("CP_1") if r.action == "StartTransaction"]
        assert await h.ctl("plug 1") == "ok"  # cable in: the transaction starts
        start = await h.cs.wait_for("StartTransaction", "CP_1")
        assert start["idTag"] == "TAG-CARD"
        assert await h.ctl("cp 1 C") == "ok"
        await h.status("Charging")
        assert await h.ctl("unplug 1") == "ok"
        stop = await h.cs.wait_for("StopTransaction", "CP_1")
        assert stop["reason"] == "EVDisconnected"  # StopTransactionOnEVSideDisconnect
        await h.status("Available")
        assert (await h.state())["relay"] == "open"


async def test_refused_card_and_connection_timeout(tmp_path):
    async with Harness(tmp_path, cs_options={"blocked_tags": ("BAD",)}) as h:
        await h.configure("ConnectionTimeOut", "1")
        assert await h.ctl("swipe BAD") == "ok"
        assert (await h.cs.wait_for("Authorize", "CP_1"))["idTag"] == "BAD"
        assert await h.ctl("swipe GOOD") == "ok"
        await h.cs.wait_for("Authorize", "CP_1")
        await h.status("Preparing")
        await h.status("Available", timeout=5)  # no cable within ConnectionTimeOut
        assert not [r for r in h.cs.received("CP_1") if r.action == "StartTransaction"]


async def test_remote_start_and_stop(tmp_path):
    async with Harness(tmp_path) as h:
        assert await h.ctl("plug 1") == "ok"
        result = await h.cs.call("CP_1", call.RemoteStartTransaction(id_tag="APP-1", connector_id=1))
        assert result.status == "Accepted"
        start = await h.cs.wait_for("StartTransaction", "CP_1")
        assert start["idTag"] == "APP-1"
        busy = await h.cs.call("CP_1", call.RemoteStartTransaction(id_tag="APP-2", connector_id=1))
        assert busy.status == "Rejected"  # a transaction runs there
        wrong = await h.cs.call("CP_1", call.RemoteStopTransaction(transaction_id=999))
        assert wrong.status == "Rejected"
        tx = h.cs.last_transaction_id
        result = await h.cs.call("CP_1", call.RemoteStopTransaction(transaction_id=tx))
        assert result.status == "Accepted"
        stop = await h.cs.wait_for("StopTransaction", "CP_1")
        assert stop["reason"] == "Remote" and stop["transactionId"] == tx


async def test_remote_start_authorized_first_when_configured(tmp_path):
    async with Harness(tmp_path) as h:
        await h.configure("AuthorizeRemoteTxRequests", "true")
        assert await h.ctl("plug 1") == "ok"
        result = await h.cs.call("CP_1", call.RemoteStartTransaction(id_tag="APP-3"))
        assert result.status == "Accepted"
        assert (await h.cs.wait_for("Authorize", "CP_1"))["idTag"] == "APP-3"
        await h.cs.wait_for("StartTransaction", "CP_1")


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
async def test_reset_stops_the_transaction_then_reboots(tmp_path, kind):
    async with Harness(tmp_path, runner=True) as h:
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe TAG-R") == "ok"
        await h.cs.wait_for("StartTransaction", "CP_1")
        result = await h.cs.call("CP_1", call.Reset(type=kind))
        assert result.status == "Accepted"
        stop = await h.cs.wait_for("StopTransaction", "CP_1")
        assert stop["reason"] == kind + "Reset"
        await h.cs.wait_for("BootNotification", "CP_1", timeout=20)  # restarted by the runner
        await h.status("Preparing")  # the EV is still plugged in after the reboot


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_offline_session_is_delivered_in_order_after_reconnect(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await h.configure("AllowOfflineTxForUnknownId", "true")
        await h.configure("MeterValueSampleInterval", "1")
        port = h.port
        await h.cs.stop()  # the central system goes away
        await asyncio.sleep(0.5)
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe OFFLINE-1") == "ok"
        assert await h.ctl("cp 1 C") == "ok"
        await h.wait_state(1, lambda s: s["relay"] == "closed")  # charging while offline
        await asyncio.sleep(2.5)
        assert await h.ctl("unplug 1") == "ok"
        await h.wait_state(1, lambda s: s["relay"] == "open")
        cs = CentralSystem(heartbeat_interval=60)
        h.cs = cs
        await cs.start(port=port)
        start = await cs.wait_for("StartTransaction", "CP_1", timeout=30)
        assert start["idTag"] == "OFFLINE-1"
        meters = [await cs.wait_for("MeterValues", "CP_1") for _ in range(2)]
        stop = await cs.wait_for("StopTransaction", "CP_1")
        tx = cs.last_transaction_id
        assert all(m["transactionId"] == tx for m in meters)  # the local id was replaced
        assert stop["transactionId"] == tx and stop["reason"] == "EVDisconnected"
        order = [r.action for r in cs.received("CP_1")
                 if r.action in ("StartTransaction", "MeterValues", "StopTransaction")]
        assert order[0] == "StartTransaction" and order[-1] == "StopTransaction"
        assert start["timestamp"] <= meters[0]["meterValue"][0]["timestamp"] <= stop["timestamp"]
        assert not [r for r in cs.received("CP_1") if r.action == "BootNotification"]


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_power_cut_in_a_session_stops_it_with_power_loss(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await h.configure("MeterValueSampleInterval", "1")
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe TAG-P") == "ok"
        start = await h.cs.wait_for("StartTransaction", "CP_1")
        assert await h.ctl("cp 1 C") == "ok"
        await h.cs.wait_for("MeterValues", "CP_1", timeout=5)
        last = await h.cs.wait_for("MeterValues", "CP_1", timeout=5)
        h.fw.proc.kill()  # power cut: no chance to save anything
        h.fw.proc.wait()
        h.reconnect_control()
        await asyncio.to_thread(h.fw.start)
        stop = await h.cs.wait_for("StopTransaction", "CP_1", timeout=20)
        assert stop["reason"] == "PowerLoss"
        assert stop["transactionId"] == h.cs.last_transaction_id
        reading = int(last["meterValue"][0]["sampledValue"][0]["value"])
        assert start["meterStart"] < stop["meterStop"] and stop["meterStop"] >= reading
        await h.cs.wait_for("BootNotification", "CP_1")


async def test_change_availability_is_scheduled_and_persists(tmp_path):
    async with Harness(tmp_path, runner=True) as h:
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe TAG-A") == "ok"
        await h.cs.wait_for("StartTransaction", "CP_1")
        result = await h.cs.call("CP_1", call.ChangeAvailability(connector_id=1, type="Inoperative"))
        assert result.status == "Scheduled"
        assert await h.ctl("unplug 1") == "ok"
        await h.cs.wait_for("StopTransaction", "CP_1")
        await h.status("Unavailable")
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe TAG-B") == "ok"
        await asyncio.sleep(0.5)
        assert not [r for r in h.cs.received("CP_1") if r.action == "Authorize"
                    and r.payload["idTag"] == "TAG-B"]
        result = await h.cs.call("CP_1", call.Reset(type="Soft"))
        await h.cs.wait_for("BootNotification", "CP_1", timeout=20)
        await h.status("Unavailable")  # persisted across the reboot
        result = await h.cs.call("CP_1", call.ChangeAvailability(connector_id=0, type="Operative"))
        assert result.status == "Accepted"
        await h.status("Preparing")


async def test_trigger_message_answers_first_then_sends(tmp_path):
    async with Harness(tmp_path) as h:
        for message in ("Heartbeat", "StatusNotification", "MeterValues", "BootNotification"):
            result = await h.cs.call("CP_1", call.TriggerMessage(requested_message=message,
                                                                 connector_id=1))
            assert result.status == "Accepted", message
            await h.cs.wait_for(message, "CP_1", timeout=5)
            frames = [f for f in h.cs.frames("CP_1")]
            answer = max(i for i, f in enumerate(frames) if f.direction == "in"
                         and f.text.startswith("[3,") and "Accepted" in f.text)
            sent = max(i for i, f in enumerate(frames) if f.direction == "in"
                       and '"%s"' % message in f.text)
            assert answer < sent, message  # the answer went out before the message
        result = await h.cs.call("CP_1", call.ExtendedTriggerMessage(
            requested_message="SignChargePointCertificate"))
        assert result.status == "Rejected"  # A02's prerequisite: CpoName is not set
        result = await h.cs.call("CP_1", call.TriggerMessage(requested_message="Heartbeat",
                                                             connector_id=7))
        assert result.status == "Rejected"


async def test_other_core_requests(tmp_path):
    async with Harness(tmp_path) as h:
        assert (await h.cs.call("CP_1", call.ClearCache())).status == "Accepted"
        result = await h.cs.call("CP_1", call.DataTransfer(vendor_id="com.example", message_id="x"))
        assert result.status == "UnknownVendorId"
        result = await h.cs.call("CP_1", call.UnlockConnector(connector_id=1))
        assert result.status == "NotSupported"  # no lock actuator on this hardware


async def test_welded_relay_faults_the_connector(tmp_path):
    async with Harness(tmp_path) as h:
        assert await h.ctl("weld 1 on") == "ok"
        fault = await h.status("Faulted")
        assert fault["errorCode"] == "PowerSwitchFailure"
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe TAG-W") == "ok"
        await asyncio.sleep(0.5)
        assert not [r for r in h.cs.received("CP_1") if r.action == "StartTransaction"]
        assert await h.ctl("weld 1 off") == "ok"
        await h.status("Preparing")


async def test_pilot_error_is_an_ev_communication_warning(tmp_path):
    async with Harness(tmp_path) as h:
        assert await h.ctl("plug 1") == "ok"
        await h.status("Preparing")
        assert await h.ctl("cp 1 E") == "ok"
        warn = await h.cs.wait_for("StatusNotification", "CP_1",
                                   lambda p: p["errorCode"] == "EVCommunicationError")
        assert warn["status"] == "Preparing"



# -- issue 9 ---------------------------------------------------------------------------------

def stop_and_finishing(cs):
    """StopTransaction and StatusNotification Finishing of connector 1, in arrival order."""
    return [r.action if r.action == "StopTransaction" else "Finishing"
            for r in cs.received("CP_1") if r.action == "StopTransaction" or (
                r.action == "StatusNotification" and r.payload["connectorId"] == 1
                and r.payload["status"] == "Finishing")]


async def meter_values_in_flight(h):
    """Wait until a MeterValues reaches the (slow) central system; its answer is still to come."""
    def sent():
        return len([f for f in h.cs.frames("CP_1")
                    if f.direction == "in" and '"MeterValues"' in f.text])
    seen = sent()
    while sent() == seen:
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_stop_transaction_comes_before_finishing_for_every_stop_reason(tmp_path, interpreter):
    # A slow answer to MeterValues: the stop comes while one is in flight, so StopTransaction
    # and the status change compete for the next CALL.
    async with Harness(tmp_path, interpreter=interpreter, runner=True,
                       cs_options={"answer_delays": {"MeterValues": 0.5}}) as h:
        await h.configure("MeterValueSampleInterval", "1")
        assert await h.ctl("plug 1") == "ok"
        for how in ("card", "remote", "soft reset"):
            assert await h.ctl("swipe TAG-ORDER") == "ok"
            await h.cs.wait_for("StartTransaction", "CP_1")
            assert await h.ctl("cp 1 C") == "ok"
            await h.status("Charging")
            tx = h.cs.last_transaction_id
            await meter_values_in_flight(h)
            if how == "card":
                assert await h.ctl("swipe TAG-ORDER") == "ok"
            elif how == "remote":
                result = await h.cs.call("CP_1", call.RemoteStopTransaction(transaction_id=tx))
                assert result.status == "Accepted"
            else:
                assert (await h.cs.call("CP_1", call.Reset(type="Soft"))).status == "Accepted"
            stop = await h.cs.wait_for("StopTransaction", "CP_1")
            assert stop["transactionId"] == tx
            await h.status("Finishing")
            assert stop_and_finishing(h.cs)[-2:] == ["StopTransaction", "Finishing"], (
                how, stop_and_finishing(h.cs))
            assert await h.ctl("cp 1 B") == "ok"
            if how == "soft reset":
                await h.cs.wait_for("BootNotification", "CP_1", timeout=20)
                h.reconnect_control()
            else:  # a new session needs the cable out and in again
                assert await h.ctl("unplug 1") == "ok"
                await h.status("Available")
                assert await h.ctl("plug 1") == "ok"
                await h.status("Preparing")


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_reset_closes_the_websocket_cleanly_before_rebooting(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter, runner=True) as h:
        for kind in ("Soft", "Hard"):
            assert (await h.cs.call("CP_1", call.Reset(type=kind))).status == "Accepted"
            await h.cs.wait_disconnected("CP_1", timeout=15)
            assert h.cs.closes[-1] == ("CP_1", 1000), (kind, h.cs.closes)  # not 1006
            await h.cs.wait_for("BootNotification", "CP_1", timeout=20)
            await h.cs.wait_connected("CP_1")
            h.reconnect_control()


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_card_of_the_same_group_stops_the_transaction(tmp_path, interpreter):
    parents = {"CARD-1": "FAMILY", "CARD-2": "FAMILY", "CARD-3": "OTHERS"}
    async with Harness(tmp_path, interpreter=interpreter,
                       cs_options={"parent_tags": parents}) as h:
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe CARD-1") == "ok"
        await h.cs.wait_for("Authorize", "CP_1", lambda p: p["idTag"] == "CARD-1")
        await h.cs.wait_for("StartTransaction", "CP_1")
        assert await h.ctl("swipe CARD-3") == "ok"  # another group: asked about, not stopped
        await h.cs.wait_for("Authorize", "CP_1", lambda p: p["idTag"] == "CARD-3")
        await asyncio.sleep(0.5)
        assert not [r for r in h.cs.received("CP_1") if r.action == "StopTransaction"]
        assert await h.ctl("swipe CARD-2") == "ok"  # same parentIdTag: learnt by an Authorize
        await h.cs.wait_for("Authorize", "CP_1", lambda p: p["idTag"] == "CARD-2")
        stop = await h.cs.wait_for("StopTransaction", "CP_1")
        assert stop["reason"] == "Local" and stop["idTag"] == "CARD-2"


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_the_starting_card_stops_whatever_its_case(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe 04a2b3c4") == "ok"
        start = await h.cs.wait_for("StartTransaction", "CP_1")
        assert start["idTag"] == "04a2b3c4"  # sent as presented
        assert await h.ctl("swipe 04A2B3C4") == "ok"
        stop = await h.cs.wait_for("StopTransaction", "CP_1")
        assert stop["reason"] == "Local" and stop["idTag"] == "04A2B3C4"
        authorizes = [r.payload["idTag"] for r in h.cs.received("CP_1") if r.action == "Authorize"]
        assert authorizes == ["04a2b3c4"]  # the same identifier: no Authorize to stop (§4.1)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_shorter_meter_value_sample_interval_applies_at_once(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await h.configure("MeterValueSampleInterval", "60")
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe TAG-MV") == "ok"
        await h.cs.wait_for("StartTransaction", "CP_1")
        await asyncio.sleep(3)
        assert not [r for r in h.cs.received("CP_1") if r.action == "MeterValues"]
        await h.configure("MeterValueSampleInterval", "2")
        await h.cs.wait_for("MeterValues", "CP_1", timeout=1.5)  # not after the old 60 s
        await h.cs.wait_for("MeterValues", "CP_1", timeout=3)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_scheduled_unavailability_applies_when_the_transaction_ends(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe TAG-S") == "ok"
        await h.cs.wait_for("StartTransaction", "CP_1")
        result = await h.cs.call("CP_1", call.ChangeAvailability(connector_id=0,
                                                                 type="Inoperative"))
        assert result.status == "Scheduled"
        await asyncio.sleep(1)
        changed = [r.payload for r in h.cs.received("CP_1") if r.action == "StatusNotification"
                   and r.payload["status"] == "Unavailable"]
        assert not changed, "Scheduled: nothing is Unavailable while the transaction runs"
        result = await h.cs.call("CP_1", call.RemoteStopTransaction(
            transaction_id=h.cs.last_transaction_id))
        await h.cs.wait_for("StopTransaction", "CP_1")
        await h.status("Unavailable", n=1)  # at the end of the transaction, cable still in
        await h.status("Unavailable", n=0)
        assert not [r for r in h.cs.received("CP_1") if r.action == "StatusNotification"
                    and r.payload["status"] == "Finishing"]
