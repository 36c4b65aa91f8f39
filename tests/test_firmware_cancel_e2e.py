# End to end, a firmware update cancelled by a new SignedUpdateFirmware (whitepaper L01.FR.26):
# the firmware process against the bundled central system, the images served over HTTP, the
# simulated board's OTA slots checked as files after a power cut.
import asyncio
import functools
import http.server
import shutil
import threading
import time

import pytest
from ocpp.v16 import call

from cpharness import Harness
from firmware.sim import flash as sim_flash
from ota.image import ImageError
from simproc import micropython
from test_firmware_e2e import cert_pem, keys, now_iso, signed  # noqa: F401 (keys: fixture)
from tools import firmware_image

FIRST = "0.2.0"
SECOND = "0.3.0"
INTERPRETERS = [pytest.param(None, id="cpython"),
                pytest.param(micropython(), id="micropython", marks=pytest.mark.skipif(
                    micropython() is None, reason="no micropython (unix port) on PATH"))]


class Stalling(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; the first request for a file named in `stall` sends that many bytes,
    then nothing more until `release` is set (a server that hangs mid-file)."""
    stall = {}
    release = threading.Event()
    requests = []

    def copyfile(self, source, outputfile):
        name = self.path.lstrip("/")
        Stalling.requests.append(name)
        first = Stalling.requests.count(name) == 1
        if name in Stalling.stall and first:
            outputfile.write(source.read(Stalling.stall[name]))
            outputfile.flush()
            Stalling.release.wait(120)
            return
        super().copyfile(source, outputfile)

    def log_message(self, *args):
        pass


@pytest.fixture
def www(tmp_path):
    folder = tmp_path / "www"
    folder.mkdir()
    Stalling.stall = {}
    Stalling.release = threading.Event()
    Stalling.requests = []
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Stalling, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield folder, "http://127.0.0.1:%d/" % httpd.server_address[1]
    Stalling.release.set()
    httpd.shutdown()
    httpd.server_close()


def request(keys, url, image, request_id, retries=1):
    return call.SignedUpdateFirmware(request_id=request_id, retries=retries, retry_interval=1,
                                      firmware={"location": url, "retrieveDateTime": now_iso(),
                                                "signingCertificate": cert_pem(keys),
                                                "signature": signed(keys, image)})


def hold(status, request_id, seconds):
    """An answer delay for SignedFirmwareStatusNotification: `seconds` for the one note with
    this status and requestId, none for the others; .seen is set when that note arrived."""
    seen = asyncio.Event()

    def delay(payload):
        if payload.get("status") == status and payload.get("requestId") == request_id:
            seen.set()
            return seconds
        return 0
    delay.seen = seen
    return delay


def what_boots(state_dir, scratch):
    """What the simulated bootloader would start after a power cut now: (slot, version of its
    image), version None for the firmware as deployed (a slot never written). A slot holding
    anything else, a partial image say, fails: on an ESP32 that board does not boot."""
    folder = str(scratch)
    shutil.copytree(state_dir + "/ota", folder)  # boot() updates otadata: on a copy
    otadata = sim_flash.OtaData(folder)
    label = sim_flash.boot(folder, otadata)
    slot = sim_flash.FilePartition(folder, label, otadata)
    with open(slot.path, "rb") as f:
        content = f.read()
    if otadata.state(label) == sim_flash.UNDEFINED and not content.strip(b"\xff"):
        return label, None
    try:
        return label, slot.check_image().version
    except ImageError as e:
        raise AssertionError("after a power cut the bootloader starts %s (%s, %d bytes): %s"
                             % (label, otadata.state(label), len(content), e))


async def requested(name, timeout=30):
    """Wait until the server has been asked for `name`."""
    deadline = time.monotonic() + timeout
    while name not in Stalling.requests:
        assert time.monotonic() < deadline, "%s never requested: %r" % (name, Stalling.requests)
        await asyncio.sleep(0.05)


def notes(h):
    return [r.payload for r in h.cs.received("CP_1") if r.action ==
            "SignedFirmwareStatusNotification"]


@pytest.mark.parametrize("interpreter", INTERPRETERS)
@pytest.mark.parametrize("held", ["SignatureVerified", "Installing"])
async def test_cancel_and_replace_while_a_status_waits_for_its_answer(tmp_path, keys, www,
                                                                      interpreter, held):
    folder, base = www
    first = firmware_image.build(FIRST, 60000)
    second = firmware_image.build(SECOND, 80000)
    (folder / "first.bin").write_bytes(first)
    (folder / "second.bin").write_bytes(second)
    Stalling.stall = {"second.bin": 20000}  # the new download hangs: the power is cut then
    delay = hold(held, 1, 3)
    async with Harness(tmp_path, interpreter=interpreter, runner=True,
                       firmware={"manufacturerRootFile": keys["root.pem"]},
                       cs_options={"answer_delays": {"SignedFirmwareStatusNotification": delay}}
                       ) as h:
        assert (await h.cs.call("CP_1", request(keys, base + "first.bin", first, 1))
                ).status == "Accepted"
        await asyncio.wait_for(delay.seen.wait(), 30)
        # the first update waits for the answer to `held`; the second cancels it
        replaced = await h.cs.call("CP_1", request(keys, base + "second.bin", second, 2,
                                                   retries=3))
        assert replaced.status == "AcceptedCanceled"
        await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1",
                            lambda p: p == {"status": "Downloading", "requestId": 2}, timeout=30)
        await requested("second.bin")  # the second download has started
        await asyncio.sleep(1)  # and part of it is in a slot
        h.fw.stop()  # power cut
        slot, version = what_boots(h.fw.state_dir, tmp_path / "after-cut")
        assert version in (None, FIRST, SECOND), version
        assert version is None, "the first update was cancelled: nothing of it boots"
        h.reconnect_control()
        await asyncio.to_thread(h.fw.start)
        final = await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1",
                                    lambda p: p["status"] in ("Installed", "InstallationFailed",
                                                              "DownloadFailed"), timeout=60)
        assert final == {"status": "Installed", "requestId": 2}
        boots = [r.payload["firmwareVersion"] for r in h.cs.received("CP_1")
                 if r.action == "BootNotification"]
        assert boots[-1] == SECOND and FIRST not in boots, boots
        sent = notes(h)
        last_of_first = max(i for i, n in enumerate(sent) if n.get("requestId") == 1)
        assert sent[last_of_first]["status"] == held, sent
        # L01.FR.10: after the cancel nothing more of the first job, and each note carries the
        # requestId of the job that sent it
        assert all(n.get("requestId") == 2 for n in sent[last_of_first + 1:]), sent
        assert [n["status"] for n in sent if n.get("requestId") == 1][-2:] == (
            ["Downloaded", "SignatureVerified"] if held == "SignatureVerified"
            else ["SignatureVerified", "Installing"]), sent
        assert what_boots(h.fw.state_dir, tmp_path / "at-end")[1] == SECOND


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_cancel_stops_a_stalled_download_at_once(tmp_path, keys, www, interpreter):
    folder, base = www
    first = firmware_image.build(FIRST, 60000)
    second = firmware_image.build(SECOND, 60000)
    (folder / "first.bin").write_bytes(first)
    (folder / "second.bin").write_bytes(second)
    Stalling.stall = {"first.bin": 10000}  # hangs for good: the client's time-outs are long
    async with Harness(tmp_path, interpreter=interpreter, runner=True,
                       firmware={"manufacturerRootFile": keys["root.pem"]}) as h:
        await h.cs.call("CP_1", request(keys, base + "first.bin", first, 1))
        await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1",
                            lambda p: p == {"status": "Downloading", "requestId": 1})
        await requested("first.bin")
        await asyncio.sleep(1)
        start = time.monotonic()
        replaced = await h.cs.call("CP_1", request(keys, base + "second.bin", second, 2))
        assert replaced.status == "AcceptedCanceled"
        await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1",
                            lambda p: p == {"status": "Downloading", "requestId": 2},
                            timeout=120)
        took = time.monotonic() - start
        print("second download started %.1f s after AcceptedCanceled" % took)
        assert took < 5, took
        final = await h.cs.wait_for("SignedFirmwareStatusNotification", "CP_1",
                                    lambda p: p["status"] == "Installed", timeout=60)
        assert final["requestId"] == 2
        assert not [n for n in notes(h) if n.get("requestId") == 1 and n["status"] not in (
            "Downloading",)], notes(h)
