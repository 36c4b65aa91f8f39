# End to end: GetDiagnostics and GetLog upload the firmware's recent log by HTTP POST to a
# real local server; nothing secret is in it; an unsupported location fails clearly.
import asyncio
import http.server
import threading
import time

import pytest
from ocpp.v16 import call

from cpharness import Harness
from simproc import micropython

INTERPRETERS = [pytest.param(None, id="cpython"),
                pytest.param(micropython(), id="micropython", marks=pytest.mark.skipif(
                    micropython() is None, reason="no micropython (unix port) on PATH"))]

KEY = "Diag-Secret-Key-0123456789"


class Collector(http.server.BaseHTTPRequestHandler):
    bodies = []
    release = threading.Event()  # what a POST to /stall waits for before it answers

    def do_POST(self):
        if self.path == "/stall":  # a server that takes the request and never answers
            Collector.release.wait(120)
            return
        length = int(self.headers.get("Content-Length", 0))
        Collector.bodies.append(self.rfile.read(length))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


async def test_get_diagnostics_and_get_log_upload_the_log(tmp_path):
    httpd = server()
    url = "http://127.0.0.1:%d/upload" % httpd.server_address[1]
    Collector.bodies = []
    try:
        async with Harness(tmp_path) as h:
            await h.configure("AuthorizationKey", KEY)
            result = await h.cs.call("CP_1", call.GetDiagnostics(location=url))
            assert result.file_name.startswith("diagnostics-")
            statuses = [(await h.cs.wait_for("DiagnosticsStatusNotification", "CP_1"))["status"]
                        for _ in range(2)]
            assert statuses == ["Uploading", "Uploaded"]
            body = Collector.bodies[-1]
            assert b"BootNotification" in body and result.file_name.encode() in body
            assert KEY.encode() not in body  # the log never holds the key
            result = await h.cs.call("CP_1", call.GetLog(
                log_type="SecurityLog", request_id=5, log={"remoteLocation": url}))
            assert result.status == "Accepted"
            notes = [await h.cs.wait_for("LogStatusNotification", "CP_1") for _ in range(2)]
            assert notes == [{"status": "Uploading", "requestId": 5},
                             {"status": "Uploaded", "requestId": 5}]
            result = await h.cs.call("CP_1", call.GetLog(
                log_type="DiagnosticsLog", request_id=6, log={"remoteLocation": "ftp://x/y"}))
            assert (await h.cs.wait_for("LogStatusNotification", "CP_1"))["status"] == \
                "UploadFailure"
            trigger = await h.cs.call("CP_1", call.TriggerMessage(
                requested_message="DiagnosticsStatusNotification"))
            assert trigger.status == "Accepted"
            # no upload runs: Idle, not the last status (1.6 §4.4)
            assert (await h.cs.wait_for("DiagnosticsStatusNotification", "CP_1"))["status"] == \
                "Idle"
            assert KEY not in h.fw.log()
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_get_diagnostics_retries_after_the_first_attempt(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await h.cs.call("CP_1", call.GetDiagnostics(
            location="http://127.0.0.1:1/nothing-listens", retries=2, retry_interval=1))
        statuses = []
        while not statuses or statuses[-1] == "Uploading":
            statuses.append((await h.cs.wait_for("DiagnosticsStatusNotification", "CP_1",
                                                 timeout=30))["status"])
        # retries=2: the first attempt and two more (errata 3.50)
        assert statuses == ["Uploading"] * 3 + ["UploadFailed"], statuses


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_new_get_log_cancels_the_running_upload(tmp_path, interpreter):
    httpd = server()
    base = "http://127.0.0.1:%d/" % httpd.server_address[1]
    Collector.bodies = []
    Collector.release = threading.Event()
    try:
        async with Harness(tmp_path, interpreter=interpreter) as h:
            first = await h.cs.call("CP_1", call.GetLog(
                log_type="DiagnosticsLog", request_id=1, retries=3, retry_interval=1,
                log={"remoteLocation": base + "stall"}))
            assert first.status == "Accepted"
            assert await h.cs.wait_for("LogStatusNotification", "CP_1") == {
                "status": "Uploading", "requestId": 1}
            await asyncio.sleep(1)  # the request is at the server, which does not answer
            start = time.monotonic()
            second = await h.cs.call("CP_1", call.GetLog(
                log_type="SecurityLog", request_id=2, log={"remoteLocation": base + "upload"}))
            assert second.status == "AcceptedCanceled"
            await h.cs.wait_for("LogStatusNotification", "CP_1",
                                lambda p: p == {"status": "Uploaded", "requestId": 2},
                                timeout=60)
            took = time.monotonic() - start
            print("the new log was uploaded %.1f s after AcceptedCanceled" % took)
            assert took < 5, took
            await asyncio.sleep(2)  # the canceled one says nothing more (retries left or not)
            notes = [r.payload for r in h.cs.received("CP_1")
                     if r.action == "LogStatusNotification"]
            assert [n for n in notes if n["requestId"] == 1] == [
                {"status": "Uploading", "requestId": 1}], notes
            trigger = await h.cs.call("CP_1", call.ExtendedTriggerMessage(
                requested_message="LogStatusNotification"))
            assert trigger.status == "Accepted"
            assert (await h.cs.wait_for("LogStatusNotification", "CP_1",
                                        lambda p: p["status"] != "Uploading")) == {
                "status": "Idle"}
    finally:
        Collector.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_the_worst_loop_lag_is_in_the_diagnostics(tmp_path, interpreter):
    # issue 12: the firmware watches how long code held its loop and says so in the upload
    import json
    import re
    httpd = server()
    url = "http://127.0.0.1:%d/upload" % httpd.server_address[1]
    Collector.bodies = []
    try:
        async with Harness(tmp_path, interpreter=interpreter) as h:
            held = json.loads(await h.ctl("stall 1500"))  # code that never yields, 1.5 s
            assert held["heldMs"] >= 1500, held
            await h.cs.call("CP_1", call.GetDiagnostics(location=url))
            statuses = [(await h.cs.wait_for("DiagnosticsStatusNotification", "CP_1"))["status"]
                        for _ in range(2)]
            assert statuses == ["Uploading", "Uploaded"]
            found = re.findall(rb"loop lag: worst (\d+) ms", Collector.bodies[-1])
            assert found and int(found[-1]) >= 1400, found
            assert "the loop was held" in h.fw.log()
    finally:
        httpd.shutdown()
        httpd.server_close()
