# Device tests of the boot registration: a refused or failed BootNotification is retried,
# the clock is set from the answer, StatusNotification follows for every connector.
import asyncio

from devtest import tempdir
from firmware.sim.board import SimBoard
from firmware.registration import Registration
from firmware.v16.bootnotification import boot_payload, for_identity
from ocpppeer import connect


ACCEPTED = [3, {"status": "Accepted", "currentTime": "2026-11-21T14:45:08Z", "interval": 7}]


def setup(replies, connectors=2):
    board = SimBoard({"connectors": connectors, "sim": {"controlPort": 1}}, state_dir=tempdir())
    wire, session = connect(replies, timeout_ms=500)
    async def statuses():  # what the charge point does once accepted
        for n in range(connectors + 1):
            await session.call("StatusNotification", {"connectorId": n, "errorCode": "NoError",
                                                      "status": "Available"})

    reg = Registration(session, board, for_identity(session, {
        "chargePointVendor": "V", "chargePointModel": "M", "iccid": ""}), statuses)
    reg.retry_min_ms = 10
    return board, wire, reg


def test_boot_payload_leaves_out_empty_fields():
    assert boot_payload({"chargePointVendor": "V", "chargePointModel": "M", "imsi": "",
                         "firmwareVersion": "1.2"}) == {
        "chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": "1.2"}


async def test_security_error_and_silence_are_retried_then_accepted():
    board, wire, reg = setup([[4, "SecurityError", "who are you?", {}], None, ACCEPTED,
                              [3, {}], [3, {}], [3, {}]])
    task = asyncio.create_task(reg.run())
    for _ in range(300):
        await asyncio.sleep(0.01)
        if len(wire.calls) >= 6:
            break
    task.cancel()
    actions = [c[2] for c in wire.calls]
    assert actions == ["BootNotification"] * 3 + ["StatusNotification"] * 3, actions
    assert [c[3]["connectorId"] for c in wire.calls[3:]] == [0, 1, 2]
    assert reg.accepted and reg.heartbeat_s == 7
    assert board.time_s() - 848587508 in (0, 1)  # the clock follows currentTime


async def test_rejected_waits_for_the_interval_and_sends_nothing_else():
    rejected = [3, {"status": "Rejected", "currentTime": "2026-11-21T14:45:08Z", "interval": 1}]
    board, wire, reg = setup([rejected, ACCEPTED])
    task = asyncio.create_task(reg.run())
    await asyncio.sleep(0.5)
    assert [c[2] for c in wire.calls] == ["BootNotification"]  # silent until interval passes
    for _ in range(200):
        await asyncio.sleep(0.01)
        if len(wire.calls) >= 3:
            break
    task.cancel()
    assert [c[2] for c in wire.calls][:3] == ["BootNotification", "BootNotification",
                                              "StatusNotification"]
