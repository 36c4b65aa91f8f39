# Device tests of what the charge point reports and when: StatusNotification while Pending,
# after refusals and offline, on unplug, and its order with StopTransaction (issue 9).
import logger
from cprig import Rig, accept_all
from ticks import sleep_ms


async def test_a_triggered_status_notification_goes_out_while_pending():
    rig = Rig(registration="Pending")
    rig.start()
    try:
        await sleep_ms(400)  # the control loop has seen every connector's first status
        assert not rig.statuses(), "nothing but triggered messages while Pending"
        answer = await rig.cs.request("TriggerMessage", {"requestedMessage": "StatusNotification",
                                                         "connectorId": 1})
        assert answer[2] == {"status": "Accepted"}, answer
        sent = await rig.until(lambda: rig.cs.sent("StatusNotification"), 2000)
        assert sent, "the triggered StatusNotification went out while Pending"
        assert [p["connectorId"] for p in sent] == [1], sent
        await sleep_ms(300)
        assert len(rig.cs.sent("StatusNotification")) == 1, "only the triggered one"
    finally:
        rig.close()


async def test_remote_start_and_stop_are_rejected_while_pending():
    rig = Rig(registration="Pending")
    try:
        rig.plug()
        answer = await rig.cs.request("RemoteStartTransaction", {"idTag": "APP-1",
                                                                 "connectorId": 1})
        assert answer[2] == {"status": "Rejected"}, answer
        await sleep_ms(50)  # what would have run after the answer
        c = rig.cp.connectors[0]
        assert c.tx is None and not c.evse.authorized, "no transaction, the relay stays open"
        assert not rig.records("StartTransaction")
        answer = await rig.cs.request("RemoteStopTransaction", {"transactionId": 1})
        assert answer[2] == {"status": "Rejected"}, answer
    finally:
        rig.close()


def refuse_connector_0(action, payload):
    if action == "StatusNotification" and payload["connectorId"] == 0:
        return [4, "SecurityError", "not for you", {}]
    if action == "StatusNotification" and payload["connectorId"] == 1:
        return [3, {"unexpected": True}]  # an answer that does not validate
    return accept_all(action, payload)


async def test_a_refused_status_notification_backs_off_and_starves_no_other_connector():
    rig = Rig(connectors=2, answer=refuse_connector_0)
    rig.cp.status.retry_min_ms = 300  # the first back-off; it doubles at every refusal
    rig.start()
    try:
        got = await rig.until(lambda: 2 in [p["connectorId"] for p in
                                            rig.cs.sent("StatusNotification")], 2000)
        assert got, "connector 2's status went out although connector 0's is refused"
        await sleep_ms(1500)
        sent = [p["connectorId"] for p in rig.cs.sent("StatusNotification")]
        assert 2 <= sent.count(0) <= 4, ("retried, with a back-off", sent)
        assert 2 <= sent.count(1) <= 4, ("an invalid answer is retried the same way", sent)
        assert sent.count(2) == 1, sent
        rig.board.sim[1].plug()  # a later change of connector 2 goes out too
        assert await rig.until(lambda: "Preparing" in rig.statuses(2), 2000), rig.statuses(2)
    finally:
        rig.close()


async def test_offline_status_changes_are_logged_once_not_every_tick():
    lines = []
    logger.set_sink(lines.append)
    rig = Rig(connected=False)  # accepted before, the link is down now
    rig.start()
    try:
        await sleep_ms(500)
        rig.board.sim[0].plug()
        await sleep_ms(1000)
    finally:
        rig.close()
        logger.set_sink(None)
    status_lines = [ln for ln in lines if "StatusNotification" in ln or "status" in ln]
    assert 1 <= len(status_lines) <= 4, status_lines  # was one every 100 ms
    assert [ln for ln in status_lines if "Preparing" in ln], status_lines
    assert not rig.cs.calls


async def test_unplugging_while_charging_reports_no_suspended_evse():
    rig = Rig()
    rig.start()
    try:
        ev = rig.board.sim[0]
        ev.plug()
        assert await rig.until(lambda: "Preparing" in rig.statuses(1))
        rig.cp.connectors[0].begin("TAG-U")
        ev.ev = "C"  # the EV asks for energy
        assert await rig.until(lambda: "Charging" in rig.statuses(1)), rig.statuses(1)
        ev.unplug()
        assert await rig.until(lambda: rig.cs.sent("StopTransaction"))
        await rig.until(lambda: rig.statuses(1)[-1] == "Available", 1000)
        after = rig.statuses(1)
        after = after[after.index("Charging") + 1:]
        assert after == ["Available"], after  # no SuspendedEVSE: the EV was gone
        assert rig.cs.sent("StopTransaction")[0]["reason"] == "EVDisconnected"
    finally:
        rig.close()


def order(rig):
    """StopTransaction and Finishing as the central system got them."""
    return [a if a != "StatusNotification" else p["status"] for a, p in rig.cs.calls
            if a == "StopTransaction" or (a == "StatusNotification" and
                                         p["status"] == "Finishing")]


async def charging(rig, tag):
    ev = rig.board.sim[0]
    ev.plug()
    assert await rig.until(lambda: "Preparing" in rig.statuses(1))
    rig.cp.connectors[0].begin(tag)
    ev.ev = "C"
    assert await rig.until(lambda: "Charging" in rig.statuses(1)), rig.statuses(1)
    assert await rig.until(lambda: rig.cp.connectors[0].tx.server_id is not None)


async def test_stop_transaction_comes_before_finishing_for_every_stop():
    for how in ("card", "remote", "deauthorized"):
        rig = Rig(config={"MeterValueSampleInterval": "1"})
        rig.cs.delays["MeterValues"] = 400  # the stop comes while one is in flight
        rig.start()
        try:
            await charging(rig, "TAG-O")
            n = len(rig.cs.sent("MeterValues"))
            assert await rig.until(lambda: len(rig.cs.sent("MeterValues")) > n)
            if how == "card":
                rig.board.present_card("TAG-O")
            elif how == "remote":
                answer = await rig.cs.request("RemoteStopTransaction", {"transactionId": 7})
                assert answer[2] == {"status": "Accepted"}, answer
            else:
                rig.cp.connectors[0].stop("DeAuthorized")
            assert await rig.until(lambda: len(order(rig)) == 2), (how, order(rig))
            assert order(rig) == ["StopTransaction", "Finishing"], (how, order(rig))
        finally:
            rig.close()
