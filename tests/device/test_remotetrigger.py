# Device tests of the Remote Trigger service (firmware/v16/remotetrigger.py): each message goes to
# the target its service added, ExtendedTriggerMessage asks its own targets first, and the
# application's targets (registration, the lazy services) send their messages after the answer.
from cprig import Central, accept_all
from devtest import rmtree, tempdir
from firmware.registration import Registration
from firmware.sim.board import SimBoard
from firmware.v16 import start
from firmware.v16.bootnotification import for_identity
from firmware.v16.remotetrigger import RemoteTrigger, send_triggered
from ocppj.encoder import Encoder
from ocppj.protocol import V16
from ocppj.session import Session
from ticks import sleep_ms


def wired(answer=accept_all, registration="Accepted", connectors=2):
    """(central system, session, triggers): the service registered on a real session."""
    cs = Central(answer)
    session = Session(V16, Encoder(2048), cs.send, timeout_ms=300)
    cs.session = session
    session.opened()
    session.set_registration(registration)
    triggers = RemoteTrigger(connectors)
    triggers.register(session)
    return cs, session, triggers


def recorder(asked, name, status="Accepted"):
    def target(n, _what=None, _extended=False):
        asked.append((name, n))
        return status
    return target


async def status_of(cs, action, **fields):
    answer = await cs.request(action, fields)
    assert answer[0] == 3, answer
    return answer[2]["status"]


async def test_each_message_goes_to_the_target_that_added_it():
    cs, session, triggers = wired()
    asked = []
    triggers.add("MeterValues", recorder(asked, "meter"))
    triggers.add("StatusNotification", recorder(asked, "status", "Rejected"))
    assert await status_of(cs, "TriggerMessage", requestedMessage="MeterValues",
                           connectorId=2) == "Accepted"
    assert await status_of(cs, "TriggerMessage", requestedMessage="MeterValues") == "Accepted"
    assert await status_of(cs, "TriggerMessage", requestedMessage="MeterValues",
                           connectorId=0) == "Accepted"
    assert await status_of(cs, "TriggerMessage",
                           requestedMessage="StatusNotification") == "Rejected"
    assert asked == [("meter", 2), ("meter", None), ("meter", 0), ("status", None)], asked
    assert await status_of(cs, "TriggerMessage", requestedMessage="Heartbeat") == \
        "NotImplemented", "nobody added it"
    assert await status_of(cs, "TriggerMessage", requestedMessage="MeterValues",
                           connectorId=3) == "Rejected", "no connector 3"
    assert len(asked) == 4, ("a connector it does not have reaches no target", asked)


async def test_extended_asks_its_own_targets_first_then_triggermessages():
    cs, session, triggers = wired()
    asked = []
    triggers.add("FirmwareStatusNotification", recorder(asked, "plain"))
    triggers.add("FirmwareStatusNotification", recorder(asked, "signed"), extended=True)
    triggers.add("Heartbeat", recorder(asked, "heartbeat"))
    assert await status_of(cs, "ExtendedTriggerMessage",
                           requestedMessage="FirmwareStatusNotification") == "Accepted"
    assert await status_of(cs, "TriggerMessage",
                           requestedMessage="FirmwareStatusNotification") == "Accepted"
    assert await status_of(cs, "ExtendedTriggerMessage", requestedMessage="Heartbeat",
                           connectorId=1) == "Accepted"
    assert asked == [("signed", None), ("plain", None), ("heartbeat", 1)], asked
    assert await status_of(cs, "ExtendedTriggerMessage",
                           requestedMessage="LogStatusNotification") == "NotImplemented"
    assert await status_of(cs, "ExtendedTriggerMessage", requestedMessage="Heartbeat",
                           connectorId=9) == "Rejected"
    assert len(asked) == 3, asked


def heartbeat_answers(answers):
    def answer(action, payload):
        if action == "Heartbeat":
            return answers.pop(0)
        return accept_all(action, payload)
    return answer


async def test_a_triggered_message_goes_while_pending_and_a_failure_is_none():
    answers = [[3, {"currentTime": "2026-01-02T03:04:05Z"}], [4, "InternalError", "no", {}]]
    cs, session, triggers = wired(heartbeat_answers(answers), registration="Pending")
    answer = await send_triggered(session, "Heartbeat", {})
    assert answer == {"currentTime": "2026-01-02T03:04:05Z"}, answer
    assert await send_triggered(session, "Heartbeat", {}) is None, "a CALLERROR: not delivered"
    session.closed()
    assert await send_triggered(session, "Heartbeat", {}) is None, "offline: not delivered"
    assert len(cs.sent("Heartbeat")) == 2


async def test_boot_notification_and_heartbeat_are_the_registrations():
    board = SimBoard({"connectors": 1, "sim": {"controlPort": 1}}, state_dir=tempdir())
    try:
        answers = [[3, {"currentTime": "2026-01-02T03:04:05Z"}]]
        cs, session, triggers = wired(heartbeat_answers(answers), registration="Pending",
                                      connectors=1)
        registration = Registration(session, board, for_identity(session, {
            "chargePointVendor": "V", "chargePointModel": "M"}))
        start.registration_triggers(triggers, session, registration)
        assert await status_of(cs, "TriggerMessage", requestedMessage="Heartbeat") == "Accepted"
        assert await status_of(cs, "ExtendedTriggerMessage",
                               requestedMessage="BootNotification") == "Accepted"
        await sleep_ms(50)
        actions = [a for a, p in cs.calls]
        assert actions == ["Heartbeat", "BootNotification"], ("sent while Pending", actions)
        assert board.time_s() - 820638245 in (0, 1), "the clock follows the Heartbeat's time"
    finally:
        rmtree(board.state_dir)


async def test_a_trigger_makes_the_lazy_service_whose_status_it_asks():
    from firmware.security.events import SecurityEvents
    from firmware.security.trust import Trust
    from ocppj.journal import Journal
    from ws.client import WsClient
    board = SimBoard({"connectors": 1, "sim": {"controlPort": 1}}, state_dir=tempdir())
    try:
        cs, session, triggers = wired(connectors=1)
        settings = None  # not asked by anything made here
        security = SecurityEvents(session, board, Journal(board.state_dir + "/security"))
        updater, diagnostics, renewal = await start.firmware_management(
            {"firmware": {}, "csms": {"chargeBoxId": "CP_1"}}, board, session, triggers,
            settings, None, security, WsClient("ws://127.0.0.1:1/ocpp", "CP_1"),
            Trust(board.state_dir))
        assert diagnostics.made is None
        assert await status_of(cs, "TriggerMessage",
                               requestedMessage="DiagnosticsStatusNotification") == "Accepted"
        assert diagnostics.made is not None, "made by the trigger"
        assert await status_of(cs, "ExtendedTriggerMessage",
                               requestedMessage="LogStatusNotification") == "Accepted"
        assert await status_of(cs, "TriggerMessage", requestedMessage="MeterValues") == \
            "NotImplemented", "not a lazy service's"
        await sleep_ms(50)
        assert cs.sent("DiagnosticsStatusNotification") == [{"status": "Idle"}], cs.calls
        assert cs.sent("LogStatusNotification") == [{"status": "Idle"}], cs.calls
        assert updater.made is None and renewal.made is None, "only the one asked for"
    finally:
        rmtree(board.state_dir)
