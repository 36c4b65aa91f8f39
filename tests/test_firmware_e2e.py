# End to end, firmware updates: the firmware process (through the restarting runner) against
# the bundled central system, the image served by a local HTTP server. The sequences of
# TC_044_1/2/3 (UpdateFirmware), TC_080/081 (SignedUpdateFirmware) and the tampering cases.
import asyncio
import base64
import datetime
import functools
import http.server
import os
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from ocpp.v16 import call

from cpharness import Harness
from simproc import micropython
from tools import firmware_image, pki, sign_image
from ota import bundle

OLD = "0.1.0"  # what the simulated board runs before any update (config firmwareVersion)
NEW = "0.2.0"
INTERPRETERS = [pytest.param(None, id="cpython"),
                pytest.param(micropython(), id="micropython", marks=pytest.mark.skipif(
                    micropython() is None, reason="no micropython (unix port) on PATH"))]


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    return pki.make(str(folder), "rsa2048")


class FileServer:
    """A plain HTTP server on 127.0.0.1 serving one folder."""

    def __init__(self, folder):
        handler = functools.partial(Quiet, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "www"
    folder.mkdir()
    server = FileServer(folder)
    yield folder, server
    server.close()


def signed(keys, image, pss=False):
    with open(keys["signing.key"], "rb") as f:
        return base64.b64encode(sign_image.sign(image, f.read(), pss)).decode()


def cert_pem(keys, name="signing.pem"):
    with open(keys[name]) as f:
        return f.read()


def now_iso(offset_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def harness(tmp_path, keys, **changes):
    return Harness(tmp_path, runner=True, firmware={"manufacturerRootFile": keys["root.pem"]},
                   **changes)


async def fw_statuses(h, action, count, timeout=30):
    return [(await h.cs.wait_for(action, "CP_1", timeout=timeout))["status"]
            for _ in range(count)]


def actions_after(h, first_action):
    names = [(r.action, r.payload) for r in h.cs.received("CP_1")]
    start = max(i for i, (a, _) in enumerate(names) if a == first_action)
    return names[start:]


async def test_tc_044_1_update_installs_and_reports_installed(tmp_path, keys, files):
    folder, server = files
    image = firmware_image.build(NEW, 60000)
    (folder / "fw.bin").write_bytes(bundle.pack(image, cert_pem(keys), signed(keys, image)))
    async with harness(tmp_path, keys) as h:
        await h.cs.call("CP_1", call.UpdateFirmware(location=server.url("fw.bin"),
                                                    retrieve_date=now_iso()))
        assert await fw_statuses(h, "FirmwareStatusNotification", 3) == [
            "Downloading", "Downloaded", "Installing"]
        unavailable = await h.status("Unavailable")  # before Installing (L01.FR.07)
        boot = await h.cs.wait_for("BootNotification", "CP_1", timeout=30)
        assert boot["firmwareVersion"] == NEW
        await h.status("Available")
        assert await fw_statuses(h, "FirmwareStatusNotification", 1) == ["Installed"]
        seq = [a if a != "StatusNotification" else (a, p["status"])
               for a, p in actions_after(h, "BootNotification")]
        assert seq.index(("StatusNotification", "Available")) < seq.index(
            "FirmwareStatusNotification")
        event = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                    lambda p: p["type"] == "FirmwareUpdated")
        assert event["type"] == "FirmwareUpdated"
        assert unavailable["connectorId"] == 1
        # the new image confirmed itself: a later reset keeps it
        await h.cs.call("CP_1", call.Reset(type="Hard"))
        boot = await h.cs.wait_for("BootNotification", "CP_1", timeout=30)
        assert boot["firmwareVersion"] == NEW
        result = await h.cs.call("CP_1", call.TriggerMessage(
            requested_message="FirmwareStatusNotification"))
        assert result.status == "Accepted"
        assert (await h.cs.wait_for("FirmwareStatusNotification", "CP_1"))["status"] == "Idle"


async def test_tc_044_2_download_failed_keeps_the_old_firmware(tmp_path, keys, files):
    folder, server = files
    async with harness(tmp_path, keys) as h:
        await h.cs.call("CP_1", call.UpdateFirmware(location=server.url("missing.bin"),
                                                    retrieve_date=now_iso(), retries=2,
                                                    retry_interval=1))
        assert await fw_statuses(h, "FirmwareStatusNotification", 3) == [
            "Downloading", "Downloading", "DownloadFailed"]
        await asyncio.sleep(1)
        assert not [r for r in h.cs.received("CP_1") if r.action == "StatusNotification"
                    and r.payload["status"] == "Unavailable"]
        assert (await h.state())["status"] == "Available"
        await h.cs.call("CP_1", call.Reset(type="Soft"))
        boot = await h.cs.wait_for("BootNotification", "CP_1", timeout=30)
        assert boot["firmwareVersion"] == OLD


async def test_tc_044_3_installation_failed_exactly_as_the_seed(tmp_path, keys, files):
    folder, server = files
    image = firmware_image.build(NEW, 60000, fail_after_boot=True)
    (folder / "fw.bin").write_bytes(bundle.pack(image, cert_pem(keys), signed(keys, image)))
    async with harness(tmp_path, keys) as h:
        await h.cs.call("CP_1", call.UpdateFirmware(location=server.url("fw.bin"),
                                                    retrieve_date=now_iso()))
        await h.cs.wait_for("FirmwareStatusNotification", "CP_1", lambda p: p["status"] ==
                            "InstallationFailed", timeout=60)
        # the seed's steps 3 to 15, in order
        steps = [(r.action, r.payload) for r in h.cs.received("CP_1")]
        first = next(i for i, (a, p) in enumerate(steps) if a == "FirmwareStatusNotification")
        got = []
        for a, p in steps[first:]:
            if a == "FirmwareStatusNotification":
                got.append(("FirmwareStatusNotification", p["status"]))
            elif a == "StatusNotification" and p["connectorId"] == 1:
                got.append(("StatusNotification", p["status"]))
            elif a == "BootNotification":
                got.append(("BootNotification", p["firmwareVersion"]))
        assert got == [
            ("FirmwareStatusNotification", "Downloading"),
            ("FirmwareStatusNotification", "Downloaded"),
            ("StatusNotification", "Unavailable"),
            ("FirmwareStatusNotification", "Installing"),
            ("BootNotification", OLD),  # the bootloader rolled back: the old version
            ("StatusNotification", "Available"),
            ("FirmwareStatusNotification", "InstallationFailed"),
        ], got


async def test_tc_080_secure_update(tmp_path, keys, files):
    folder, server = files
    image = firmware_image.build(NEW, 60000)
    (folder / "fw.bin").write_bytes(image)
    async with harness(tmp_path, keys) as h:
        result = await h.cs.call("CP_1", call.SignedUpdateFirmware(request_id=7, firmware={
            "location": server.url("fw.bin"), "retrieveDateTime": now_iso(),
            "signingCertificate": cert_pem(keys), "signature": signed(keys, image, pss=True)}))
        assert result.status == "Accepted"
        notes = []
        while not notes or notes[-1]["status"] not in ("Installed", "InstallationFailed",
                                                      "InvalidSignature"):
            notes.append(await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1",
                                             timeout=30))
        assert [n["status"] for n in notes] == [
            "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting",
            "Installed"]
        assert all(n["requestId"] == 7 for n in notes)  # L01.FR.10
        boot = [r.payload for r in h.cs.received("CP_1") if r.action == "BootNotification"]
        assert boot[-1]["firmwareVersion"] == NEW


async def test_tc_081_invalid_signature_installs_nothing(tmp_path, keys, files):
    folder, server = files
    image = firmware_image.build(NEW, 60000)
    (folder / "fw.bin").write_bytes(image)
    other = firmware_image.build("9.9.9", 60000)
    async with harness(tmp_path, keys) as h:
        result = await h.cs.call("CP_1", call.SignedUpdateFirmware(request_id=8, firmware={
            "location": server.url("fw.bin"), "retrieveDateTime": now_iso(),
            "signingCertificate": cert_pem(keys), "signature": signed(keys, other)}))
        assert result.status == "Accepted"
        statuses = await fw_statuses(h, "SignedFirmwareStatusNotification", 3)
        assert statuses == ["Downloading", "Downloaded", "InvalidSignature"]
        event = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                    lambda p: p["type"] == "InvalidFirmwareSignature")
        assert event["type"] == "InvalidFirmwareSignature"
        await asyncio.sleep(1)
        assert [r.action for r in h.cs.received("CP_1")].count("BootNotification") == 1


async def test_a_root_deleted_before_the_download_refuses_the_update(tmp_path, keys, files):
    """The check after the download relies on the request's only while the root that vouched
    for the certificate is still installed: deleted meanwhile, nothing is installed."""
    folder, server = files
    image = firmware_image.build(NEW, 60000)
    (folder / "fw.bin").write_bytes(image)
    async with harness(tmp_path, keys) as h:
        result = await h.cs.call("CP_1", call.SignedUpdateFirmware(request_id=12, firmware={
            "location": server.url("fw.bin"), "retrieveDateTime": now_iso(3),
            "signingCertificate": cert_pem(keys), "signature": signed(keys, image)}))
        assert result.status == "Accepted"
        ids = await h.cs.call("CP_1", call.GetInstalledCertificateIds(
            certificate_type="ManufacturerRootCertificate"))
        assert ids.status == "Accepted" and len(ids.certificate_hash_data) == 1
        deleted = await h.cs.call("CP_1", call.DeleteCertificate(
            certificate_hash_data=ids.certificate_hash_data[0]))
        assert deleted.status == "Accepted"
        statuses = await fw_statuses(h, "SignedFirmwareStatusNotification", 4)
        assert statuses == ["DownloadScheduled", "Downloading", "Downloaded", "InvalidSignature"]
        event = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                    lambda p: p["type"] == "InvalidFirmwareSigningCertificate")
        assert event["techInfo"] == "update 12"
        assert "not signed by a manufacturer root" in h.fw.log()
        await asyncio.sleep(1)
        assert [r.action for r in h.cs.received("CP_1")].count("BootNotification") == 1


def other_root_certificate(tmp_path):
    return pki.make(str(tmp_path / "other"), "ec256")


async def expect_refused_certificate(h, server, certificate, image):
    result = await h.cs.call("CP_1", call.SignedUpdateFirmware(request_id=9, firmware={
        "location": server.url("fw.bin"), "retrieveDateTime": now_iso(),
        "signingCertificate": certificate, "signature": base64.b64encode(b"x" * 256).decode()}))
    assert result.status == "InvalidCertificate"
    event = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                lambda p: p["type"] == "InvalidFirmwareSigningCertificate")
    assert event["type"] == "InvalidFirmwareSigningCertificate"


async def test_refused_certificates(tmp_path, keys, files):
    folder, server = files
    image = firmware_image.build(NEW, 40000)
    (folder / "fw.bin").write_bytes(image)
    other = other_root_certificate(tmp_path)
    with open(keys["root.key"], "rb") as f:
        root_key = serialization.load_pem_private_key(f.read(), None)
    signing_key = serialization.load_pem_private_key(
        open(keys["signing.key"], "rb").read(), None)
    expired = pki.certificate(signing_key, "Firmware Signing", root_key, "Manufacturer Root",
                              False, 1, not_before=datetime.datetime(2020, 1, 1,
                                                                     tzinfo=datetime.timezone.utc))
    self_signed = pki.certificate(signing_key, "Firmware Signing", signing_key,
                                  "Firmware Signing", False, 365)
    # The schema caps signingCertificate at 5500 characters (a longer one is refused by the
    # validator before any handler: tests/device/test_x509.py refuses DER over 4 KiB itself);
    # the largest the schema lets through, not a certificate, is refused here.
    oversized = "-----BEGIN CERTIFICATE-----\n" + "A" * 5400 + "\n-----END CERTIFICATE-----\n"
    # A 5.4 KB certificate needs a receive buffer above the default 4 KiB (csms.maxMessageBytes)
    async with harness(tmp_path, keys, csms={"maxMessageBytes": 8192}) as h:
        for pem in (cert_pem(other, "signing.pem"), pki.pem(expired), pki.pem(self_signed),
                    oversized, "not a certificate"):
            await expect_refused_certificate(h, server, pem, image)
        assert not [r for r in h.cs.received("CP_1") if r.action ==
                    "SignedFirmwareStatusNotification"]


@pytest.mark.parametrize("damage", ["flipped bit", "truncated", "other image", "garbage base64"])
async def test_tampering_installs_nothing(tmp_path, keys, files, damage):
    folder, server = files
    image = firmware_image.build(NEW, 40000)
    signature = signed(keys, image)
    served = image
    if damage == "flipped bit":
        served = bytearray(image)
        served[5000] ^= 0x10
        served = bytes(served)
    elif damage == "truncated":
        served = image[:30000]
    elif damage == "other image":
        signature = signed(keys, firmware_image.build("6.6.6", 40000))
    else:
        signature = "!!not*base64!!"
    (folder / "fw.bin").write_bytes(served)
    async with harness(tmp_path, keys) as h:
        await h.cs.call("CP_1", call.SignedUpdateFirmware(request_id=11, firmware={
            "location": server.url("fw.bin"), "retrieveDateTime": now_iso(),
            "signingCertificate": cert_pem(keys), "signature": signature}))
        final = None
        while final not in ("InvalidSignature", "InstallVerificationFailed", "Installed",
                            "InstallationFailed"):
            final = (await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1",
                                         timeout=30))["status"]
        assert final in ("InvalidSignature", "InstallVerificationFailed"), final
        await asyncio.sleep(1)
        assert [r.action for r in h.cs.received("CP_1")].count("BootNotification") == 1


async def test_new_request_cancels_the_scheduled_one(tmp_path, keys, files):
    folder, server = files
    image = firmware_image.build(NEW, 40000)
    (folder / "fw.bin").write_bytes(image)
    request = {"location": server.url("fw.bin"), "retrieveDateTime": now_iso(3600),
               "signingCertificate": cert_pem(keys), "signature": signed(keys, image)}
    async with harness(tmp_path, keys) as h:
        first = await h.cs.call("CP_1", call.SignedUpdateFirmware(request_id=1, firmware=request))
        assert first.status == "Accepted"
        note = await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1")
        assert note == {"status": "DownloadScheduled", "requestId": 1}
        second = await h.cs.call("CP_1", call.SignedUpdateFirmware(
            request_id=2, firmware=dict(request, retrieveDateTime=now_iso())))
        assert second.status == "AcceptedCanceled"
        note = await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1")
        assert note == {"status": "Downloading", "requestId": 2}
        result = await h.cs.call("CP_1", call.ExtendedTriggerMessage(
            requested_message="FirmwareStatusNotification"))
        assert result.status == "Accepted"


async def test_secure_only_policy_refuses_plain_update(tmp_path, keys, files):
    from ocpp.exceptions import NotSupportedError
    folder, server = files
    async with harness(tmp_path, keys) as h:
        result = await h.cs.call("CP_1", call.TriggerMessage(
            requested_message="FirmwareStatusNotification"))
        assert result.status == "Accepted"
        assert (await h.cs.wait_for("FirmwareStatusNotification", "CP_1"))["status"] == "Idle"
        await h.configure("SecureFirmwareUpdateOnly", "true")
        with pytest.raises(NotSupportedError):
            await h.cs.call("CP_1", call.UpdateFirmware(location=server.url("fw.bin"),
                                                        retrieve_date=now_iso()))


class StallOnce(http.server.SimpleHTTPRequestHandler):
    """Serves the file, but the first request stalls halfway (a download cut off)."""
    served = 0

    def copyfile(self, source, outputfile):
        StallOnce.served += 1
        if StallOnce.served == 1:
            outputfile.write(source.read(20000))
            outputfile.flush()
            threading.Event().wait(30)
            return
        super().copyfile(source, outputfile)

    def log_message(self, *args):
        pass


async def restart_after_power_cut(h):
    h.fw.stop()  # the runner and the firmware, killed: no chance to save anything
    h.reconnect_control()
    await asyncio.to_thread(h.fw.start)


async def final_verdict(h):
    while True:
        note = await h.cs.wait_for("FirmwareStatusNotification", "CP_1", timeout=60)
        if note["status"] in ("Installed", "InstallationFailed", "DownloadFailed"):
            return note["status"]


async def test_power_cut_mid_download_resumes_and_installs(tmp_path, keys):
    folder = tmp_path / "www"
    folder.mkdir()
    image = firmware_image.build(NEW, 80000)
    (folder / "fw.bin").write_bytes(bundle.pack(image, cert_pem(keys), signed(keys, image)))
    StallOnce.served = 0
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(StallOnce, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/fw.bin" % httpd.server_address[1]
    try:
        async with harness(tmp_path, keys) as h:
            await h.cs.call("CP_1", call.UpdateFirmware(location=url, retrieve_date=now_iso(),
                                                        retries=3, retry_interval=1))
            assert (await h.cs.wait_for("FirmwareStatusNotification", "CP_1"))["status"] == \
                "Downloading"
            await asyncio.sleep(0.5)  # part of the image is in the slot
            await restart_after_power_cut(h)
            assert await final_verdict(h) == "Installed"
            boots = [r.payload for r in h.cs.received("CP_1") if r.action == "BootNotification"]
            assert boots[-1]["firmwareVersion"] == NEW
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("stage", ["Installing", "new image booting"])
async def test_power_cut_while_installing_tells_the_truth(tmp_path, keys, files, stage):
    folder, server = files
    image = firmware_image.build(NEW, 60000)
    (folder / "fw.bin").write_bytes(bundle.pack(image, cert_pem(keys), signed(keys, image)))
    async with harness(tmp_path, keys) as h:
        await h.cs.call("CP_1", call.UpdateFirmware(location=server.url("fw.bin"),
                                                    retrieve_date=now_iso()))
        if stage == "Installing":
            await h.cs.wait_for("FirmwareStatusNotification", "CP_1",
                                lambda p: p["status"] == "Installing", timeout=30)
        else:
            await h.cs.wait_for("BootNotification", "CP_1", timeout=30)  # the new image
        await restart_after_power_cut(h)
        verdict = await final_verdict(h)
        boots = [r.payload for r in h.cs.received("CP_1") if r.action == "BootNotification"]
        running = boots[-1]["firmwareVersion"]
        # whatever the moment of the cut: Installed exactly when the new version runs
        assert (verdict == "Installed") == (running == NEW), (verdict, running)
        assert verdict in ("Installed", "InstallationFailed")


@pytest.mark.parametrize("interpreter", INTERPRETERS)
@pytest.mark.parametrize("failure", ["DownloadFailed", "InvalidSignature"])
async def test_trigger_after_a_failure_repeats_the_last_status(tmp_path, keys, files, failure,
                                                               interpreter):
    folder, server = files
    image = firmware_image.build(NEW, 40000)
    (folder / "fw.bin").write_bytes(image)
    other = firmware_image.build("6.6.6", 40000)
    async with harness(tmp_path, keys, interpreter=interpreter) as h:
        await h.cs.call("CP_1", call.SignedUpdateFirmware(request_id=12, firmware={
            "location": server.url("fw.bin" if failure == "InvalidSignature" else "none.bin"),
            "retrieveDateTime": now_iso(), "signingCertificate": cert_pem(keys),
            "signature": signed(keys, other)}))
        status = None
        while status != failure:  # each note taken, up to the failure
            status = (await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1",
                                          timeout=30))["status"]
        result = await h.cs.call("CP_1", call.ExtendedTriggerMessage(
            requested_message="FirmwareStatusNotification"))
        assert result.status == "Accepted"
        # L01.FR.29: the last status sent, with its requestId; not Idle
        assert await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1") == {
            "status": failure, "requestId": 12}


@pytest.mark.parametrize("interpreter", INTERPRETERS)
@pytest.mark.parametrize("signature", ["of another file", "of this file"])
async def test_the_signature_is_checked_before_the_image(tmp_path, keys, files, signature,
                                                         interpreter):
    folder, server = files
    garbage = bytes(range(256)) * 160  # 40 KB, not an ESP32 image at all
    (folder / "fw.bin").write_bytes(garbage)
    signer = garbage if signature == "of this file" else firmware_image.build(NEW, 40000)
    async with harness(tmp_path, keys, interpreter=interpreter) as h:
        await h.cs.call("CP_1", call.SignedUpdateFirmware(request_id=13, firmware={
            "location": server.url("fw.bin"), "retrieveDateTime": now_iso(),
            "signingCertificate": cert_pem(keys), "signature": signed(keys, signer)}))
        statuses = []
        while not statuses or statuses[-1] in ("Downloading", "Downloaded", "SignatureVerified"):
            note = await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1", timeout=30)
            assert note["requestId"] == 13
            statuses.append(note["status"])
        events = [r.payload["type"] for r in h.cs.received("CP_1")
                  if r.action == "SecurityEventNotification"]
        if signature == "of another file":  # L01.FR.03/04: the signature decides first
            assert statuses == ["Downloading", "Downloaded", "InvalidSignature"], statuses
            await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                lambda p: p["type"] == "InvalidFirmwareSignature")
        else:  # signed, but no image the bootloader takes
            assert statuses == ["Downloading", "Downloaded", "SignatureVerified",
                                "InstallVerificationFailed"], statuses
            await asyncio.sleep(0.5)
            assert "InvalidFirmwareSignature" not in events, events
        assert [r.action for r in h.cs.received("CP_1")].count("BootNotification") == 1
