# Device tests of Smart Charging (firmware/v16/smartcharging.py, chargingprofiles.py): a real
# ChargePoint and session, the requests as a central system sends them, the EVSEs' limits.
import asyncio
import json

import atomicfile
from civil import utc_text
from cprig import Rig
from devtest import Captured
from firmware.v16 import start
from firmware.v16.core import Core
from firmware.v16.settings import MAX_PERIODS, MAX_PROFILES, MAX_STACK_LEVEL
from firmware.v16.smartcharging import SmartCharging
from lazy import LazyService
from ocppj import rfc3339

DAY = 86400


def profile(pid=1, purpose="TxDefaultProfile", level=0, limit=10, unit="A", kind="Relative",
            periods=None, **fields):
    """A ChargingProfile payload: one period of `limit` unless `periods` ([(start, limit)])."""
    schedule = {"chargingRateUnit": unit, "chargingSchedulePeriod": [
        {"startPeriod": s, "limit": v} for s, v in ([(0, limit)] if periods is None else periods)]}
    for name in ("duration", "startSchedule", "minChargingRate"):
        if name in fields:
            schedule[name] = fields.pop(name)
    p = {"chargingProfileId": pid, "stackLevel": level, "chargingProfilePurpose": purpose,
         "chargingProfileKind": kind, "chargingSchedule": schedule}
    p.update(fields)
    return p


at = utc_text  # seconds since 2000 as OCPP's date-time


def made(rig, path):
    """The service of the rig's charge point, as firmware/v16/start.py makes it (230 V, 3
    phases), its profiles read from `path`."""
    cp = rig.cp
    return SmartCharging(cp.connectors, cp.on_transaction, cp.settings, rig.board.time_s, path,
                         230, 3)


def smart(rig, path=None):
    service = made(rig, path or rig.board.state_dir + "/charging-profiles")
    service.register(rig.session)
    return service


async def set_profile(rig, connector, p):
    """SetChargingProfile's answer: its status, or the CALLERROR's code."""
    answer = await rig.cs.request("SetChargingProfile", {"connectorId": connector,
                                                         "csChargingProfiles": p})
    return answer[2]["status"] if answer[0] == 3 else answer[2]


async def clear(rig, **fields):
    return (await rig.cs.request("ClearChargingProfile", fields))[2]["status"]


def started(rig, n=1, tag="TAG-SC"):
    """A transaction on connector n (plugged first), not yet known to the central system."""
    rig.plug(n)
    c = rig.cp.connectors[n - 1]
    c.begin(tag)
    assert c.tx is not None, "started"
    return c


def ids(service):
    return sorted(p[0] for p in service.items)


async def test_a_tx_default_profile_limits_a_session_and_goes_with_its_clearing():
    rig = Rig()
    try:
        service = smart(rig)
        c = started(rig)
        assert c.evse.limit_deciamps is None, "no profile: no limit"
        assert await set_profile(rig, 0, profile(limit=10)) == "Accepted"
        assert c.evse.limit_deciamps == 100, c.evse.limit_deciamps
        rig.board.sim[0].ev = "C"
        c.evse.tick(0)
        assert c.evse.offered_deciamps == 100, c.evse.offered_deciamps
        assert await set_profile(rig, 1, profile(pid=2, limit=8)) == "Accepted"
        assert c.evse.limit_deciamps == 80, "the connector's own overrides connector 0's"
        assert await clear(rig, id=2) == "Accepted"
        assert c.evse.limit_deciamps == 100
        assert await clear(rig) == "Accepted"
        assert c.evse.limit_deciamps is None and ids(service) == []
    finally:
        rig.close()


async def test_what_set_charging_profile_rejects():
    rig = Rig(connectors=2)
    try:
        service = smart(rig)
        rejected = [
            (1, profile(purpose="ChargePointMaxProfile")),  # connector 0 only
            (0, profile(purpose="TxProfile")),  # connector > 0, with a transaction
            (1, profile(purpose="TxProfile")),  # no transaction on connector 1
            (0, profile(level=MAX_STACK_LEVEL + 1)),
            (0, profile(transactionId=3)),  # for a TxProfile only
            (0, profile(periods=[(10, 6)])),  # the first period starts at 0
            (0, profile(periods=[(0, 6), (600, 8), (600, 10)])),  # in order
            (0, profile(periods=[(i * 60, 6) for i in range(MAX_PERIODS + 1)])),
            (0, profile(periods=[])),
            (0, profile(limit=-1)),
            (0, profile(limit=1e12)),
            (0, profile(minChargingRate=-1)),
            (0, profile(kind="Recurring", recurrencyKind="Daily")),  # no startSchedule
            (0, profile(kind="Recurring", startSchedule=at(0))),  # no recurrencyKind
            (0, profile(kind="Absolute", recurrencyKind="Daily", startSchedule=at(0))),
            (0, profile(duration=-5)),
            (0, profile(validFrom=at(1000), validTo=at(1000))),
            (0, profile(kind="Absolute", validFrom=at(20), validTo=at(10))),
        ]
        for n, p in rejected:
            assert await set_profile(rig, n, p) == "Rejected", (n, p)
        assert ids(service) == [], ids(service)
        # errata 3.39: an unknown connector is a CALLERROR, not a status
        assert await set_profile(rig, 3, profile()) == "PropertyConstraintViolation"
        assert await set_profile(rig, -1, profile()) == "PropertyConstraintViolation"
        # the schema's own checks come first: a limit of 1e400 (infinite once parsed), an
        # unknown purpose
        text = json.dumps([2, "huge", "SetChargingProfile", {
            "connectorId": 0, "csChargingProfiles": profile(limit=12345)}])
        text = text.replace("12345", "1e400")
        await rig.session.feed(text.encode())
        answer = rig.cs.answers["huge"]
        assert answer[0] == 4 or answer[2]["status"] == "Rejected", answer
        assert await set_profile(rig, 0, profile(purpose="Other")) == "PropertyConstraintViolation"
        # W is allowed as well as A (ChargingScheduleAllowedChargingRateUnit "Current,Power")
        assert await set_profile(rig, 0, profile(unit="W", limit=7360.5)) == "Accepted"
        assert await set_profile(rig, 0, profile(
            pid=2, level=1, kind="Recurring", recurrencyKind="Weekly",
            startSchedule=at(rig.board.time_s()), minChargingRate=6.1)) == "Accepted"
    finally:
        rig.close()


async def test_replacing_by_id_and_by_stack_level_purpose_and_connector():
    rig = Rig(connectors=2)
    try:
        service = smart(rig)
        assert await set_profile(rig, 0, profile(pid=1, level=0, limit=16)) == "Accepted"
        assert await set_profile(rig, 0, profile(pid=1, level=3, limit=10)) == "Accepted"
        assert [(p[0], p[3]) for p in service.items] == [(1, 3)], "same id"
        assert await set_profile(rig, 0, profile(pid=2, level=3, limit=8)) == "Accepted"
        assert ids(service) == [2], "same stackLevel and purpose on the same connector"
        assert await set_profile(rig, 1, profile(pid=3, level=3, limit=7)) == "Accepted"
        assert await set_profile(rig, 0, profile(pid=4, level=3, purpose="ChargePointMaxProfile",
                                                  limit=32)) == "Accepted"
        assert ids(service) == [2, 3, 4], "another connector or purpose: both stay"
        assert await set_profile(rig, 2, profile(pid=2, level=0, limit=9)) == "Accepted"
        assert ids(service) == [2, 3, 4] and service.items[-1][1] == 2, "moved by id"
    finally:
        rig.close()


async def test_at_most_max_charging_profiles_installed():
    rig = Rig()
    try:
        service = smart(rig)
        for pid in range(MAX_PROFILES):
            assert await set_profile(rig, pid % 2, profile(pid=pid, level=pid // 2)) == "Accepted"
        assert await set_profile(rig, 0, profile(pid=99, level=7)) == "Rejected"
        assert await set_profile(rig, 0, profile(pid=0, level=7)) == "Accepted", "a replacement"
        now = rig.board.time_s()
        assert await clear(rig, id=0) == "Accepted"
        assert await set_profile(rig, 0, profile(pid=50, level=8, validTo=at(now + 2))) \
            == "Accepted"
        rig.board.set_time_s(now + 10)  # profile 50 has expired: it makes room
        assert await set_profile(rig, 0, profile(pid=60, level=8)) == "Accepted"
        assert 50 not in ids(service) and len(ids(service)) == MAX_PROFILES
    finally:
        rig.close()


async def test_clear_charging_profile_matches_every_field_given():
    rig = Rig(connectors=2)
    try:
        service = smart(rig)
        c = started(rig, 2)
        for n, p in ((0, profile(pid=1, level=0)), (0, profile(pid=2, level=1)),
                     (1, profile(pid=3, level=0)), (2, profile(pid=4, level=1)),
                     (0, profile(pid=5, level=1, purpose="ChargePointMaxProfile")),
                     (2, profile(pid=6, level=1, purpose="TxProfile"))):
            assert await set_profile(rig, n, p) == "Accepted", p
        assert c.evse.limit_deciamps == 100
        assert await clear(rig, id=9) == "Unknown"
        assert await clear(rig, id=3, connectorId=0) == "Accepted", "id: the rest is ignored"
        assert ids(service) == [1, 2, 4, 5, 6]
        assert await clear(rig, connectorId=1) == "Unknown"
        assert await clear(rig, connectorId=0, stackLevel=1) == "Accepted"
        assert ids(service) == [1, 4, 6], ids(service)
        assert await clear(rig, chargingProfilePurpose="TxProfile", stackLevel=0) == "Unknown"
        assert await clear(rig, chargingProfilePurpose="TxProfile") == "Accepted"
        assert ids(service) == [1, 4]
        assert await clear(rig) == "Accepted"
        assert ids(service) == [] and c.evse.limit_deciamps is None
        assert await clear(rig) == "Unknown"
    finally:
        rig.close()


async def test_a_tx_profile_stays_with_its_transaction_before_and_after_its_server_id():
    rig = Rig()
    try:
        service = smart(rig)
        c = started(rig)  # offline so far: a local id
        assert c.tx.server_id is None and c.tx.local_id < 0
        assert await set_profile(rig, 0, profile(pid=1, limit=16)) == "Accepted"
        assert await set_profile(rig, 1, profile(pid=2, purpose="TxProfile", level=2,
                                                  limit=12)) == "Accepted"
        assert c.evse.limit_deciamps == 120, "TxProfile overrules TxDefaultProfile"
        assert await set_profile(rig, 1, profile(pid=3, purpose="TxProfile", transactionId=7,
                                                  limit=8)) == "Rejected", "not its id yet"
        rig.start()  # StartTransaction.conf: transactionId 7
        assert await rig.until(lambda: c.tx.server_id == 7)
        assert c.evse.limit_deciamps == 120
        assert await set_profile(rig, 1, profile(pid=3, purpose="TxProfile", level=2,
                                                  transactionId=7, limit=8)) == "Accepted"
        assert ids(service) == [1, 3], "the same stack level: replaced (errata 3.42)"
        assert c.evse.limit_deciamps == 80
        assert await set_profile(rig, 1, profile(pid=4, purpose="TxProfile", level=2,
                                                  transactionId=8, limit=8)) == "Rejected"
        c.stop("Local")
        assert ids(service) == [1], "the TxProfile went with its transaction"
        assert c.evse.limit_deciamps is None
        c2 = started(rig, tag="TAG-NEXT")
        assert c2.evse.limit_deciamps == 160, "the next one gets the TxDefaultProfile"
    finally:
        rig.close()


async def test_remote_start_with_a_tx_profile_limits_the_session_it_starts():
    rig = Rig()
    try:
        made = []

        def make():
            service = smart(rig)
            made.append(service)
            return service
        lazy = LazyService(rig.session, start.SMART_CHARGING_ACTIONS, make)
        Core(rig.cp, smart_charging=lazy).register(rig.session)
        rig.plug()
        for wrong in (profile(), profile(purpose="TxProfile", transactionId=1),
                      profile(purpose="TxProfile", periods=[(5, 6)])):
            answer = await rig.cs.request("RemoteStartTransaction", {
                "idTag": "APP", "connectorId": 1, "chargingProfile": wrong})
            assert answer[2] == {"status": "Rejected"}, (wrong, answer)
        c = rig.cp.connectors[0]
        assert c.tx is None
        answer = await rig.cs.request("RemoteStartTransaction", {
            "idTag": "APP", "chargingProfile": profile(pid=5, purpose="TxProfile", limit=7)})
        assert answer[2] == {"status": "Accepted"}
        assert await rig.until(lambda: c.tx is not None)
        assert c.evse.limit_deciamps == 70
        assert made[0].items[0][12] == c.tx.local_id, "bound to its transaction"
        c.stop("Local")
        assert made[0].items == []
        c.begin("OTHER")
        assert c.evse.limit_deciamps is None, "only for the transaction it started"
    finally:
        rig.close()


async def test_charge_point_max_profile_is_shared_between_the_connectors_that_charge():
    rig = Rig(connectors=2)
    try:
        smart(rig)
        c1 = started(rig, 1, "TAG-1")
        assert await set_profile(rig, 0, profile(purpose="ChargePointMaxProfile", limit=20)) \
            == "Accepted"
        assert c1.evse.limit_deciamps == 200, "alone: all of it"
        rig.board.set_time_s(rig.board.time_s() + 1)  # connector 2 starts later
        c2 = started(rig, 2, "TAG-2")
        assert (c1.evse.limit_deciamps, c2.evse.limit_deciamps) == (100, 100)
        assert await set_profile(rig, 2, profile(pid=3, limit=6)) == "Accepted"
        assert (c1.evse.limit_deciamps, c2.evse.limit_deciamps) == (140, 60), "water-filled"
        assert await set_profile(rig, 0, profile(pid=2, purpose="ChargePointMaxProfile",
                                                  unit="W", limit=7590)) == "Accepted"
        # 7590 W = 11 A per phase at 230 V, 3 phases: no room for two at 6 A, the later waits
        assert (c1.evse.limit_deciamps, c2.evse.limit_deciamps) == (110, 0)
        c1.stop("Local")
        assert c2.evse.limit_deciamps == 60
    finally:
        rig.close()


async def test_limits_follow_the_schedule_at_its_boundaries():
    rig = Rig()
    try:
        service = smart(rig)
        rig.tasks.append(asyncio.create_task(service.run()))
        c = started(rig)
        now = rig.board.time_s()
        assert await set_profile(rig, 0, profile(kind="Absolute", startSchedule=at(now - 60),
                                                  periods=[(0, 10), (3600, 13)])) == "Accepted"
        assert c.evse.limit_deciamps == 100
        rig.board.set_time_s(now + 3600)  # the clock reaches the second period
        assert await rig.until(lambda: c.evse.limit_deciamps == 130), c.evse.limit_deciamps
        rig.board.set_time_s(now)  # and back (the clock was set)
        assert await rig.until(lambda: c.evse.limit_deciamps == 100), c.evse.limit_deciamps
    finally:
        rig.close()


async def test_get_composite_schedule_of_a_daily_profile():
    rig = Rig(connectors=2)
    try:
        smart(rig)
        midnight = rig.board.time_s() // DAY * DAY
        rig.board.set_time_s(midnight + 6 * 3600)  # 06:00
        # §3.13.7's example: 11 kW, 6 kW from 08:00 to 20:00, every day
        assert await set_profile(rig, 0, profile(
            kind="Recurring", recurrencyKind="Daily", unit="W", duration=DAY,
            startSchedule=at(midnight - 3 * DAY),
            periods=[(0, 11000), (8 * 3600, 6000), (20 * 3600, 11000)])) == "Accepted"
        answer = (await rig.cs.request("GetCompositeSchedule", {"connectorId": 1,
                                                                "duration": DAY}))[2]
        assert answer["status"] == "Accepted" and answer["connectorId"] == 1, answer
        start = rfc3339.to_s2000(answer["scheduleStart"])
        schedule = answer["chargingSchedule"]
        assert "startSchedule" not in schedule, "errata 3.57"
        assert schedule["duration"] == DAY and schedule["chargingRateUnit"] == "A"
        eight = midnight + 8 * 3600 - start
        twenty = midnight + 20 * 3600 - start
        # 11000 W / (230 V * 3) = 15.9 A; 6000 W: 8.6 A (rounded down)
        assert schedule["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 15.9, "numberPhases": 3},
            {"startPeriod": eight, "limit": 8.6, "numberPhases": 3},
            {"startPeriod": twenty, "limit": 15.9, "numberPhases": 3}], schedule
        answer = (await rig.cs.request("GetCompositeSchedule", {
            "connectorId": 0, "duration": 3 * 3600, "chargingRateUnit": "W"}))[2]
        periods = answer["chargingSchedule"]["chargingSchedulePeriod"]
        assert answer["chargingSchedule"]["chargingRateUnit"] == "W"
        # both connectors, 15.9 A and 8.6 A each on 3 phases at 230 V
        assert [(p["startPeriod"], p["limit"]) for p in periods] == [
            (0, 2 * 159 * 69.0), (eight, 2 * 86 * 69.0)], periods
        answer = await rig.cs.request("GetCompositeSchedule", {"connectorId": 3, "duration": 60})
        assert answer[2] == {"status": "Rejected"}
    finally:
        rig.close()


async def test_get_composite_schedule_without_profiles_gives_the_local_limit():
    rig = Rig()
    try:
        smart(rig)
        answer = (await rig.cs.request("GetCompositeSchedule", {"connectorId": 1,
                                                                "duration": 600}))[2]
        most = rig.cp.connectors[0].evse.max_deciamps / 10  # MaxCurrentA
        assert answer["chargingSchedule"]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": most, "numberPhases": 3}], answer
    finally:
        rig.close()


async def test_profiles_survive_a_restart_tx_profiles_do_not():
    rig = Rig()
    try:
        path = rig.board.state_dir + "/charging-profiles"
        smart(rig, path)
        assert not atomicfile.exists(path)
        started(rig)
        assert await set_profile(rig, 1, profile(pid=1, purpose="TxProfile")) == "Accepted"
        assert not atomicfile.exists(path), "TxProfiles are not written"
        assert await set_profile(rig, 0, profile(pid=2, limit=10)) == "Accepted"
        assert await set_profile(rig, 0, profile(pid=3, purpose="ChargePointMaxProfile",
                                                  kind="Recurring", recurrencyKind="Daily",
                                                  startSchedule=at(0), limit=32.5)) == "Accepted"
        again = made(rig, path)  # read from flash
        assert ids(again) == [2, 3]
        cpmax = [p for p in again.items if p[0] == 3][0]
        assert cpmax[5] == DAY and cpmax[13:] == (0, 325, None), cpmax
        assert await clear(rig, chargingProfilePurpose="TxDefaultProfile") == "Accepted"
        assert await clear(rig, chargingProfilePurpose="ChargePointMaxProfile") == "Accepted"
        assert not atomicfile.exists(path), "none left: no file"
    finally:
        rig.close()


def test_a_torn_profiles_file_is_ignored_with_a_log_line():
    rig = Rig()
    try:
        path = rig.board.state_dir + "/charging-profiles"
        atomicfile.write(path, '[1, [1, 0, 1, 0, 2, 0, null, null, null, null, false, null, '
                               'null, 0, 100, null]]')
        assert ids(made(rig, path)) == [1]
        with open(path, "rb") as f:
            whole = f.read()
        with open(path, "wb") as f:
            f.write(whole[:-3])  # the power went during the write
        with Captured() as cap:
            service = made(rig, path)
        assert ids(service) == [] and cap.count("torn") == 1, cap.lines
        assert not atomicfile.exists(path), "removed: the next start does not make the service"
        atomicfile.write(path, "[1, [1, 2]]")  # intact, but not profiles
        with Captured() as cap:
            service = made(rig, path)
        assert ids(service) == [] and cap.count("unreadable") == 1, cap.lines
    finally:
        rig.close()


async def test_the_application_makes_it_at_start_up_only_with_profiles_on_flash():
    rig = Rig()
    try:
        installation = {"voltageV": 230, "phases": 3}
        lazy = start.smart_charging(rig.cp, installation)
        assert lazy.made is None, "no profiles: made at the first request"
        assert not [a for a in start.SMART_CHARGING_ACTIONS if a in rig.session.handlers]
        assert await set_profile(rig, 0, profile(limit=10)) == "Accepted"
        assert lazy.made is not None
        for action in start.SMART_CHARGING_ACTIONS:
            assert rig.session.handlers.get(action) is not None, action
        lazy = start.smart_charging(rig.cp, installation)  # a new start
        assert lazy.made is not None, "profiles on flash: made at start-up"
    finally:
        rig.close()
