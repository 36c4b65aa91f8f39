# End to end: GetDiagnostics and GetLog upload the firmware's recent log by HTTP POST to a
# real local server; nothing secret is in it; an unsupported location fails clearly.
import datetime
import http.server
import threading

from ocpp.v16 import call

from cpharness import Harness

KEY = "Diag-Secret-Key-0123456789"


class Collector(http.server.BaseHTTPRequestHandler):
    bodies = []

    def do_POST(self):
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
            assert (await h.cs.wait_for("DiagnosticsStatusNotification", "CP_1"))["status"] == \
                "Uploaded"
            assert KEY not in h.fw.log()
    finally:
        httpd.shutdown()
        httpd.server_close()
