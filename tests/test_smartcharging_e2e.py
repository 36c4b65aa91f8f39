# End to end, OCPP 1.6 Smart Charging: the firmware process with the simulated EV against the
# bundled central system; the limits seen as the current the pilot offers.
import asyncio
import datetime

import pytest
from ocpp.v16 import call

from cpharness import Harness
from test_core_e2e import INTERPRETERS

HOUR = 3600


def profile(pid, purpose, limit, kind="Relative", level=0, **fields):
    """A ChargingProfile as the central system sends it (camelCase keys: sent as they are)."""
    periods = fields.pop("periods", [(0, limit)])
    schedule = {"chargingRateUnit": fields.pop("unit", "A"),
                "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in periods]}
    for name in ("duration", "startSchedule"):
        if name in fields:
            schedule[name] = fields.pop(name)
    return dict({"chargingProfileId": pid, "stackLevel": level,
                 "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
                 "chargingSchedule": schedule}, **fields)


def utc(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text):
    return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)


async def set_profile(h, connector, p):
    result = await h.cs.call("CP_1", call.SetChargingProfile(connector_id=connector,
                                                             cs_charging_profiles=p))
    return result.status


async def charging(h, tag, n=1):
    """plug, card, the EV asks for current: the relay closes; the StartTransaction."""
    assert await h.ctl("plug %d" % n) == "ok"
    await h.status("Preparing", n)
    assert await h.ctl("swipe " + tag) == "ok"
    start = await h.cs.wait_for("StartTransaction", "CP_1", lambda p: p["idTag"] == tag)
    assert await h.ctl("cp %d C" % n) == "ok"
    await h.wait_state(n, lambda s: s["relay"] == "closed")
    return start


def offers(amps):
    """The pilot offers `amps` (IEC 61851: duty = A / 0.6 %, rounded down; the EV reads the
    duty back in 0.1 A)."""
    duty = amps * 1000 // 60
    return lambda s: s["pwmDutyPermille"] == duty and s["offeredA"] == duty * 6 // 10 / 10


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_tx_default_profile_limits_the_session_then_a_tx_profile_replaces_it(
        tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        assert await set_profile(h, 0, profile(1, "TxDefaultProfile", 10)) == "Accepted"
        await charging(h, "TAG-SC")
        s = await h.wait_state(1, offers(10))  # MaxCurrentA is 16 A
        assert s["offeredA"] == 9.9 and s["pwmDutyPermille"] == 166, s
        tx = h.cs.last_transaction_id
        assert await set_profile(h, 1, profile(2, "TxProfile", 8, transactionId=tx + 1)) \
            == "Rejected"  # not the transaction running there
        assert await set_profile(h, 1, profile(2, "TxProfile", 8, transactionId=tx)) \
            == "Accepted"
        await h.wait_state(1, offers(8))
        assert (await h.state())["relay"] == "closed"
        result = await h.cs.call("CP_1", call.GetCompositeSchedule(connector_id=1, duration=60))
        assert result.charging_schedule["charging_schedule_period"] == [
            {"start_period": 0, "limit": 8.0, "number_phases": 3}], result
        assert await h.ctl("swipe TAG-SC") == "ok"
        await h.cs.wait_for("StopTransaction", "CP_1")
        result = await h.cs.call("CP_1", call.GetCompositeSchedule(connector_id=1, duration=60))
        assert result.charging_schedule["charging_schedule_period"][0]["limit"] == 10.0, \
            "the TxProfile went with its transaction"


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_get_composite_schedule_of_a_daily_profile(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        begin = now - datetime.timedelta(hours=1)  # today's run started an hour ago
        assert await set_profile(h, 0, profile(
            7, "TxDefaultProfile", None, kind="Recurring", recurrencyKind="Daily",
            startSchedule=utc(begin), duration=8 * HOUR,
            periods=[(0, 12), (2 * HOUR, 10), (5 * HOUR, 6.5)])) == "Accepted"
        result = await h.cs.call("CP_1", call.GetCompositeSchedule(
            connector_id=1, duration=24 * HOUR, charging_rate_unit="A"))
        assert result.status == "Accepted" and result.connector_id == 1
        start = parse_utc(result.schedule_start)
        assert abs((start - now).total_seconds()) <= 5, (start, now)
        schedule = result.charging_schedule
        assert "start_schedule" not in schedule, "errata 3.57: left out here"
        assert schedule["duration"] == 24 * HOUR and schedule["charging_rate_unit"] == "A"

        def at(hours):  # seconds from scheduleStart to `hours` after the run's start
            return int((begin + datetime.timedelta(hours=hours) - start).total_seconds())
        # 12 A, 10 A from 2 h, 6.5 A from 5 h, after 8 h nothing but MaxCurrentA (16 A) until
        # the next day's run starts again with 12 A
        assert [(p["start_period"], p["limit"]) for p in schedule["charging_schedule_period"]] \
            == [(0, 12.0), (at(2), 10.0), (at(5), 6.5), (at(8), 16.0), (at(24), 12.0)], schedule
        result = await h.cs.call("CP_1", call.GetCompositeSchedule(connector_id=2, duration=60))
        assert result.status == "Rejected"  # an unknown connector


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_remote_start_with_a_tx_profile_limits_the_session_it_starts(tmp_path,
                                                                           interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        assert await h.ctl("plug 1") == "ok"
        await h.status("Preparing")
        result = await h.cs.call("CP_1", call.RemoteStartTransaction(
            id_tag="APP-1", connector_id=1, charging_profile=profile(3, "TxDefaultProfile", 7)))
        assert result.status == "Rejected"  # §5.16.2: a TxProfile only
        result = await h.cs.call("CP_1", call.RemoteStartTransaction(
            id_tag="APP-1", connector_id=1, charging_profile=profile(3, "TxProfile", 7)))
        assert result.status == "Accepted"
        start = await h.cs.wait_for("StartTransaction", "CP_1")
        assert start["idTag"] == "APP-1"
        assert await h.ctl("cp 1 C") == "ok"
        await h.wait_state(1, lambda s: s["relay"] == "closed")
        await h.wait_state(1, offers(7))
        # the central system's id now names the transaction: the same stack level replaces it
        tx = h.cs.last_transaction_id
        assert await set_profile(h, 1, profile(4, "TxProfile", 9, transactionId=tx)) == "Accepted"
        await h.wait_state(1, offers(9))


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_profiles_are_kept_across_a_restart(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        assert await set_profile(h, 0, profile(1, "TxDefaultProfile", 11)) == "Accepted"
        assert await set_profile(h, 0, profile(2, "ChargePointMaxProfile", 8, unit="W",
                                               periods=[(0, 13800)])) == "Accepted"
        h.fw.proc.kill()  # power cut
        h.fw.proc.wait()
        h.reconnect_control()
        await asyncio.to_thread(h.fw.start)
        await h.cs.wait_for("BootNotification", "CP_1", timeout=20)
        await h.status("Available")
        assert "charging profiles" not in h.fw.log()  # nothing torn, nothing unreadable
        await charging(h, "TAG-AGAIN")
        # 13800 W / (230 V * 3) = 20 A: the TxDefaultProfile's 11 A is the lower
        await h.wait_state(1, offers(11))
        result = await h.cs.call("CP_1", call.ClearChargingProfile(
            charging_profile_purpose="TxDefaultProfile"))
        assert result.status == "Accepted"
        await h.wait_state(1, offers(16))  # MaxCurrentA
