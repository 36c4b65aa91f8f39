# Device tests of the seed-000/001 firmware status API: statuses, payloads, result codes.
from devtest import raises
from firmware.management import fwstatus
from ocpppeer import connect


def accepted_session(reply, connected=True):
    peer, s = connect([reply], connected, registration="Accepted", buffer=512)
    return s, peer


def test_statuses_come_from_the_schema():
    fw = fwstatus.FirmwareStatus(None)
    assert fw.status == "Idle"
    fw.set_status("Downloading")
    raises(ValueError, fw.set_status, "SignatureVerified")  # a SignedFirmwareStatus value
    signed = fwstatus.SignedFirmwareStatus(None)
    signed.set_status("SignatureVerified", 7)
    assert signed.payload() == {"status": "SignatureVerified", "requestId": 7}
    signed.reset()
    assert signed.payload() == {"status": "Idle"}


async def test_send_and_result_codes():
    s, peer = accepted_session([3, {}])
    fw = fwstatus.FirmwareStatus(s)
    fw.set_status("Installing")
    assert await fw.send() == fwstatus.RESPONSE_SUCCESS
    assert peer.sent[0][2:] == ["FirmwareStatusNotification", {"status": "Installing"}]
    s, _ = accepted_session([4, "InternalError", "", {}])
    assert await fwstatus.FirmwareStatus(s).send() == fwstatus.RESPONSE_FAILED
    s, _ = accepted_session(None)
    assert await fwstatus.FirmwareStatus(s).send() == fwstatus.RESPONSE_FAILED
    s, _ = accepted_session([3, {}], connected=False)
    assert await fwstatus.FirmwareStatus(s).send() == fwstatus.FAILED
    s, peer = accepted_session([3, {}])
    signed = fwstatus.SignedFirmwareStatus(s)
    signed.set_status("InvalidSignature", 42)
    assert await signed.send() == fwstatus.RESPONSE_SUCCESS
    assert peer.sent[0][2:] == ["SignedFirmwareStatusNotification",
                                {"status": "InvalidSignature", "requestId": 42}]
