# GetDiagnostics (1.6 §5.9) and GetLog (security whitepaper N01): the log uploaded by HTTP(S).
"""    diag = Diagnostics(board, session, ca_pem)
    diag.register(session)      # GetDiagnostics, GetLog

The file is the log kept in RAM by lib/logring.py (secrets already redacted): all of it for
GetDiagnostics and GetLog DiagnosticsLog, the security events for GetLog SecurityLog. It is
sent by HTTP(S) POST (multipart/form-data) to the location given; FTP is not supported
(SupportedFileTransferProtocols says HTTP,HTTPS), so an ftp:// location fails clearly.
Statuses: DiagnosticsStatusNotification Uploading, Uploaded or UploadFailed; LogStatusNotification
Uploading, Uploaded or UploadFailure with the requestId. Retries per the request.
"""

import logger
import logring
from ocppj import errors
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms

log = logger.get("diagnostics")


class Diagnostics:
    def __init__(self, board, session, ca_pem):
        self.board = board
        self.session = session
        self.ca_pem = ca_pem
        self.diag_status = "Idle"  # for TriggerMessage DiagnosticsStatusNotification
        self.log_status = "Idle"
        self.log_request = None
        self._running = False

    def register(self, session):
        session.handlers["GetDiagnostics"] = self.get_diagnostics
        session.handlers["GetLog"] = self.get_log

    def _name(self, kind):
        return "%s-%d.log" % (kind, self.board.time_s())

    def get_diagnostics(self, p):
        name = self._name("diagnostics")
        self.session.after_reply(lambda: self._upload(
            p["location"], name, logring.text(), p.get("retries", 1),
            p.get("retryInterval", 30), None))
        return {"fileName": name}

    def get_log(self, p):
        security = p["logType"] == "SecurityLog"
        name = self._name("security" if security else "diagnostics")
        data = ("\n".join(logring.lines(" security:")) + "\n").encode() if security \
            else logring.text()
        canceled = self._running
        self.session.after_reply(lambda: self._upload(
            p["log"]["remoteLocation"], name, data, p.get("retries", 1),
            p.get("retryInterval", 30), p["requestId"]))
        return {"status": "AcceptedCanceled" if canceled else "Accepted", "filename": name}

    async def _notify(self, request_id, status):
        if request_id is None:
            self.diag_status = status
            action, payload = "DiagnosticsStatusNotification", {"status": status}
        else:
            self.log_status, self.log_request = status, request_id
            action, payload = "LogStatusNotification", {"status": status, "requestId": request_id}
        try:
            await self.session.call(action, payload)
        except (errors.CallError, CallTimeout, NotConnected) as e:
            log.warn(action, status, "not delivered:", repr(e))

    async def _upload(self, url, name, data, retries, interval_s, request_id):
        from ota.http import HttpClient, HttpError
        self._running = True
        failed = "UploadFailed" if request_id is None else "UploadFailure"
        try:
            if not (url.startswith("http://") or url.startswith("https://")):
                log.warn("upload to", url[:60], "refused: only HTTP and HTTPS")
                await self._notify(request_id, failed)
                return
            for attempt in range(max(1, retries)):
                await self._notify(request_id, "Uploading")
                try:
                    client = HttpClient(ca=self.ca_pem if url.startswith("https:") else None)
                    await client.upload(url, name, data)
                    log.info("uploaded", name, "(%d bytes)" % len(data))
                    await self._notify(request_id, "Uploaded")
                    return
                except HttpError as e:
                    log.warn("upload attempt %d failed:" % (attempt + 1), str(e))
                    if attempt + 1 < retries:
                        await sleep_ms(interval_s * 1000)
            await self._notify(request_id, failed)
        finally:
            self._running = False
