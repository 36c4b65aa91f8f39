# Device tests of firmware/v16/statusreport.py on its own: what it sends of the statuses it is
# given, when, and a status held for its connector's StopTransaction.
from cprig import Central, accept_all
from devtest import rmtree, tempdir
from firmware.sim.board import SimBoard
from firmware.v16.settings import Settings
from firmware.v16.statusreport import StatusReport
from ocppj.encoder import Encoder
from ocppj.journal import Journal
from ocppj.protocol import V16
from ocppj.session import Session
from ticks import ticks_ms


def reporting(registration="Accepted"):
    """(central system, report, statuses): the report of two connectors whose statuses are
    what `statuses` says (index 0: the charge point)."""
    board = SimBoard({"connectors": 2, "sim": {"controlPort": 1}}, state_dir=tempdir())
    cs = Central(accept_all)
    session = Session(V16, Encoder(1024), cs.send, timeout_ms=300)
    cs.session = session
    session.opened()
    session.set_registration(registration)
    statuses = [("Available", "NoError")] * 3
    journal = Journal(board.state_dir + "/journal")
    report = StatusReport(session, board, Settings(board.state_dir, 2, "Core"), journal, 2,
                          lambda n: statuses[n])
    return cs, report, statuses, board


def sent(cs):
    return [(p["connectorId"], p["status"]) for p in cs.sent("StatusNotification")]


async def test_changes_go_out_once_accepted_and_all_after_an_accepted_connect():
    cs, report, statuses, board = reporting(registration=None)
    try:
        report.tick(ticks_ms())
        await report.send_statuses()
        assert sent(cs) == [], "not accepted yet: nothing"
        assert board.sim[0].status == "Available", "the board shows it meanwhile"
        cs.session.set_registration("Accepted")
        await report.report_all()
        await report.send_statuses()
        assert sent(cs) == [(0, "Available"), (1, "Available"), (2, "Available")], sent(cs)
        statuses[2] = ("Preparing", "NoError")
        await report.send_statuses()
        assert sent(cs)[3:] == [(2, "Preparing")], "only what changed"
        await report.send_statuses(True, 1, triggered=True)  # what a TriggerMessage sends
        assert sent(cs)[4:] == [(1, "Available")], "triggered: unchanged, sent again"
    finally:
        rmtree(board.state_dir)


async def test_a_held_status_waits_for_its_stop_transaction():
    cs, report, statuses, board = reporting()
    try:
        await report.send_statuses()
        journal = report.journal
        other = journal.append("MeterValues", {"connectorId": 2, "meterValue": []}, "meter")
        stop = journal.append("StopTransaction", {"transactionId": 7, "meterStop": 0,
                                                  "timestamp": "x"}, "stop")
        report.hold(1, stop)
        statuses[1] = ("Finishing", "NoError")
        statuses[2] = ("Preparing", "NoError")
        await report.send_statuses()
        assert sent(cs)[3:] == [(2, "Preparing")], "connector 1 waits for its stop's answer"
        journal.ack(other)
        await report.send_statuses()
        assert sent(cs)[4:] == [], "another record's answer releases nothing"
        journal.ack(stop)  # what the delivery does with an answered record
        await report.send_statuses()
        assert sent(cs)[4:] == [(1, "Finishing")], sent(cs)
    finally:
        rmtree(board.state_dir)
