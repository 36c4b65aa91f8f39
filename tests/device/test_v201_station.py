# Device tests of the OCPP 2.0.1 station (firmware/v201/station.py) and TriggerMessage
# (firmware/v201/trigger.py) on a real RPC session and the simulated board: the 2.0.1 status of
# each model status, ChangeAvailability kept on flash, Reset's answers, the triggers' answers.
import asyncio

from devtest import rmtree, tempdir
from firmware.sim.board import SimBoard
from firmware.v201.station import Station, status_201
from firmware.v201.trigger import Triggers
from ocppj.encoder import Encoder
from ocppj.session import Session
from ticks import sleep_ms
from v201rig import V201, Central, accept


def make(folder=None, evses=2):
    folder = folder or tempdir()
    board = SimBoard({"connectors": evses, "sim": {"controlPort": 1}}, state_dir=folder)
    cs = Central(accept)
    session = Session(V201, Encoder(2048), cs.send, timeout_ms=500)
    cs.session = session
    session.opened()
    session.set_registration("Accepted")
    station = Station(board, session)
    station.register(session)
    return folder, board, cs, session, station


def answer(cs, frame):
    assert frame is not None and frame[0] == 3, frame
    return frame[2]


def test_the_2_0_1_status_of_each_model_status():
    assert [status_201(s) for s in ("Available", "Preparing", "Charging", "SuspendedEV",
                                    "SuspendedEVSE", "Finishing", "Reserved", "Unavailable",
                                    "Faulted")] == [
        "Available", "Occupied", "Occupied", "Occupied", "Occupied", "Occupied", "Reserved",
        "Unavailable", "Faulted"]


async def test_change_availability_of_an_evse_and_the_station_is_kept_on_flash():
    folder, board, cs, session, station = make()
    try:
        got = answer(cs, await cs.request("ChangeAvailability", {
            "operationalStatus": "Inoperative", "evse": {"id": 2}}))
        assert got == {"status": "Accepted"}
        assert station.status_of(2)[0] == "Unavailable" and station.status_of(1)[0] == "Available"
        assert not station.evses[1].available, "the relay rule hears of it"
        got = answer(cs, await cs.request("ChangeAvailability", {
            "operationalStatus": "Inoperative", "evse": {"id": 2}}))
        assert got == {"status": "Accepted"}, "the same state again: Accepted (G03.FR.03)"
        got = answer(cs, await cs.request("ChangeAvailability", {
            "operationalStatus": "Inoperative", "evse": {"id": 3}}))
        assert got["status"] == "Rejected", "no EVSE 3"
        got = answer(cs, await cs.request("ChangeAvailability", {
            "operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 2}}))
        assert got["status"] == "Rejected", "one connector per EVSE"
        answer(cs, await cs.request("ChangeAvailability", {"operationalStatus": "Inoperative"}))
        assert station.status_of(1)[0] == "Unavailable", "the station: every EVSE (G04.FR.07)"
        assert station.state_of(None, None) == "Unavailable"
        # a restart: the same state from flash (G03.FR.08, G04.FR.09)
        again = make(folder)[4]
        assert again.status_of(1)[0] == "Unavailable" and again.status_of(2)[0] == "Unavailable"
        assert not again.operative(0)
        answer(cs, await cs.request("ChangeAvailability", {"operationalStatus": "Operative"}))
        assert station.status_of(1)[0] == "Available" and station.status_of(2)[0] == "Unavailable"
    finally:
        rmtree(folder)


async def test_status_notifications_on_change_and_for_all_after_acceptance():
    folder, board, cs, session, station = make()
    task = asyncio.create_task(station.run())
    try:
        await station.report_all()
        sent = cs.sent("StatusNotification")
        assert [(p["evseId"], p["connectorId"], p["connectorStatus"]) for p in sent] == [
            (1, 1, "Available"), (2, 1, "Available")]
        assert "timestamp" in sent[0]
        board.sim[0].plug()
        for _ in range(100):
            await sleep_ms(20)
            if len(cs.sent("StatusNotification")) > 2:
                break
        assert cs.sent("StatusNotification")[2]["connectorStatus"] == "Occupied"
        assert cs.sent("StatusNotification")[2]["evseId"] == 1
    finally:
        task.cancel()
        rmtree(folder)


async def test_reset_of_an_evse_is_rejected_and_of_the_station_accepted():
    folder, board, cs, session, station = make()
    try:
        got = answer(cs, await cs.request("Reset", {"type": "Immediate", "evseId": 1}))
        assert got["status"] == "Rejected"
        assert got["statusInfo"]["reasonCode"] == "UnsupportedRequest"
    finally:
        rmtree(folder)


async def test_trigger_answers():
    folder, board, cs, session, station = make()
    try:
        triggers = Triggers(session, 2)
        asked = []

        def status(evse):
            asked.append(evse)
            return "Accepted"
        triggers.add("StatusNotification", status)
        triggers.register(session)
        got = answer(cs, await cs.request("TriggerMessage", {"requestedMessage": "MeterValues"}))
        assert got == {"status": "NotImplemented"}
        got = answer(cs, await cs.request("TriggerMessage", {
            "requestedMessage": "StatusNotification", "evse": {"id": 3}}))
        assert got == {"status": "Rejected"}
        got = answer(cs, await cs.request("TriggerMessage", {
            "requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 1}}))
        assert got == {"status": "Accepted"}
        got = answer(cs, await cs.request("TriggerMessage", {
            "requestedMessage": "StatusNotification"}))
        assert got == {"status": "Accepted"} and asked == [2, None]
    finally:
        rmtree(folder)


def test_the_lazy_services_are_named_for_the_actions_they_register():
    from firmware.v201 import reports, start, variables
    assert start.VARIABLE_ACTIONS == variables.ACTIONS
    assert start.REPORT_ACTIONS == reports.ACTIONS
