# Device tests of the seed-002 BootNotification API: fields, send, result codes, the answer.
from devtest import raises
from firmware.v16 import bootnotification as bn
from ocpppeer import connect


def boot_with(reply, connected=True):
    peer, session = connect([reply], connected)
    boot = bn.BootNotification(session)
    boot.set("chargePointVendor", "V")
    boot.set("chargePointModel", "M")
    return boot, peer


def test_fields_are_checked_against_the_schema():
    boot, _ = boot_with(None)
    boot.set("chargeBoxSerialNumber", "HC1-000001")
    assert boot.payload["chargeBoxSerialNumber"] == "HC1-000001"
    boot.set("chargeBoxSerialNumber", "")
    assert "chargeBoxSerialNumber" not in boot.payload
    raises(ValueError, boot.set, "chargeBoxSerialNumber", "x" * 26)  # CiString25
    raises(ValueError, boot.set, "colour", "red")


async def test_result_codes():
    answer = {"currentTime": "2026-11-21T14:45:08Z", "interval": 30}
    for status, code in (("Accepted", bn.RESPONSE_SUCCESS), ("Pending", bn.RESPONSE_PENDING),
                         ("Rejected", bn.RESPONSE_REJECTED)):
        boot, peer = boot_with([3, dict(answer, status=status)])
        assert await boot.send() == code, status
        assert boot.status == status and boot.interval_s == 30
        assert boot.current_time_s == 848587508
        assert peer.sent[0][2] == "BootNotification" and peer.sent[0][3]["chargePointModel"] == "M"
    boot, _ = boot_with([4, "SecurityError", "no", {}])
    assert await boot.send() == bn.RESPONSE_FAILED
    boot, _ = boot_with([3, {"status": "Accepted", "currentTime": "2026-11-21T14:45:08Z"}])
    assert await boot.send() == bn.RESPONSE_FAILED  # no interval: breaks the schema
    boot, _ = boot_with(None)
    assert await boot.send() == bn.RESPONSE_FAILED  # no answer in time
    boot, _ = boot_with(None, connected=False)
    assert await boot.send() == bn.FAILED  # could not be sent at all
