# GetDiagnostics (1.6 §5.9) and GetLog (security whitepaper N01): the log uploaded by HTTP(S).
"""    diag = Diagnostics(board, session, roots, block, security_log)
    # roots: fn() -> the CA certificates HTTPS trusts (certstore.Trust.ders), or None
    # block: lib/sharedblock.SharedBlock; security_log: lib/filelog.FileLog
    diag.register(session)      # GetDiagnostics, GetLog

The file is the log kept in RAM by lib/logring.py (secrets already redacted) for
GetDiagnostics and GetLog DiagnosticsLog; for GetLog SecurityLog, the security log on flash
(firmware/security/events.py writes it: every security event, key and profile change). It is
sent by HTTP(S) POST (multipart/form-data) to the location given; FTP is not supported
(SupportedFileTransferProtocols says HTTP,HTTPS), so an ftp:// location fails clearly.
Statuses: DiagnosticsStatusNotification Uploading, Uploaded or UploadFailed; LogStatusNotification
Uploading, Uploaded or UploadFailure with the requestId. GetDiagnostics' retries are the
attempts after the first (errata 3.50), GetLog's the attempts in all (whitepaper GetLog.req).
A new GetLog cancels the GetLog upload running (AcceptedCanceled, N01.FR.11): its HTTP attempt
or its wait for the next one ends at once, and it sends no further status. A TriggerMessage
answers Idle once no upload runs (1.6 §4.4).

Memory: each attempt copies the log into the firmware's one block buffer (the shared block,
logring.copy_into, or FileLog.copy_into) and sends it from there; nothing
else of the log's size is allocated. While a firmware download holds the block an attempt
waits for it, at most BLOCK_WAIT_MS (5 minutes), and then fails ("block buffer ... in use by
firmware download"); the request's retries follow. Without a block (None) each attempt
allocates one.
"""

import asyncio

import logger
import logring
from firmware.management.fwjob import RETRY_INTERVAL_S
from ocppj import errors
from ocppj.session import CallTimeout, NotConnected
from sharedblock import BlockBusy, SharedBlock
from ticks import sleep_ms

log = logger.get("diagnostics")

BLOCK_WAIT_MS = 300000  # how long an upload attempt waits for the block buffer


class _Upload:
    """One GetDiagnostics or GetLog request being served."""

    def __init__(self, url, name, security, attempts, interval_s, request_id):
        self.url = url
        self.name = name
        self.security = security
        self.attempts = attempts
        self.interval_s = interval_s
        self.request_id = request_id  # None for GetDiagnostics
        self.canceled = False
        self.task = None  # the HTTP attempt running, a task a new GetLog cancels

    def cancel(self):
        self.canceled = True
        if self.task is not None:
            self.task.cancel()


class Diagnostics:
    def __init__(self, board, session, roots, block=None, security_log=None, lag=None):
        self.board = board
        self.lag = lag  # lib/looplag.LoopLag: its worst figure goes into every diagnostics log
        self.security_log = security_log  # FileLog: what GetLog SecurityLog uploads
        self.session = session
        self.roots = roots  # fn() -> the trusted roots, read at each attempt: they may change
        self.block = block  # SharedBlock: the log snapshot goes there (None: one per attempt)
        # What TriggerMessage reports: the last status while an upload runs, else Idle (1.6
        # §4.4, whitepaper UploadLogStatusEnumType)
        self.diag_status = "Idle"
        self.log_status = "Idle"
        self.log_request = None
        self._log_upload = None  # the GetLog upload running (_Upload), at most one
        self._diag_uploads = 0  # GetDiagnostics uploads running

    def register(self, session):
        session.handlers["GetDiagnostics"] = self.get_diagnostics
        session.handlers["GetLog"] = self.get_log

    def _name(self, kind):
        return "%s-%d.log" % (kind, self.board.time_s())

    def get_diagnostics(self, p):
        name = self._name("diagnostics")
        # retries counts the attempts after the first (errata 3.50)
        up = _Upload(p["location"], name, False, 1 + max(0, p.get("retries", 0)),
                     p.get("retryInterval", RETRY_INTERVAL_S), None)
        self.session.after_reply(lambda: self._upload(up))
        return {"fileName": name}

    def get_log(self, p):
        security = p["logType"] == "SecurityLog"
        name = self._name("security" if security else "diagnostics")
        running = self._log_upload
        if running is not None:
            log.info("log upload", running.request_id, "canceled by GetLog", p["requestId"])
            running.cancel()  # N01.FR.11
        # retries: how many times to try (whitepaper GetLog.req)
        up = self._log_upload = _Upload(p["log"]["remoteLocation"], name, security,
                                        max(1, p.get("retries", 1)),
                                        p.get("retryInterval", RETRY_INTERVAL_S), p["requestId"])
        self.session.after_reply(lambda: self._upload(up))
        return {"status": "AcceptedCanceled" if running is not None else "Accepted",
                "filename": name}

    async def _notify(self, up, status):
        if up.canceled:
            return  # a canceled upload says nothing more (its requestId is done)
        if up.request_id is None:
            self.diag_status = status
            action, payload = "DiagnosticsStatusNotification", {"status": status}
        else:
            self.log_status, self.log_request = status, up.request_id
            action, payload = "LogStatusNotification", {"status": status,
                                                        "requestId": up.request_id}
        try:
            await self.session.call(action, payload)
        except (errors.CallError, CallTimeout, NotConnected) as e:
            log.warn(action, status, "not delivered:", repr(e))

    async def _send(self, url, name, security):
        """One attempt: the log (or its security lines) copied into the block and sent from
        there; returns the number of bytes. HttpError or BlockBusy when it failed."""
        from ota.http import HttpClient
        block = self.block if self.block is not None else SharedBlock()
        buf = await block.take("diagnostics upload", BLOCK_WAIT_MS)
        try:
            if security:
                n = self.security_log.copy_into(buf) if self.security_log else _empty(buf)
            else:
                if self.lag is not None:
                    log.info(self.lag.summary())  # into the log ring, so into this upload
                n = logring.copy_into(buf)
            client = HttpClient(ca=self.roots() if self.roots and url.startswith("https:")
                                else None)
            await client.upload(url, name, memoryview(buf)[:n])
            return n
        finally:
            block.give()

    async def _attempt(self, up):
        """One attempt as a task that a new GetLog cancels; None when canceled."""
        if up.canceled:
            return None
        task = up.task = asyncio.create_task(self._send(up.url, up.name, up.security))
        try:
            return await task
        except asyncio.CancelledError:
            if not up.canceled:
                raise  # not ours: the loop is going down
            return None
        finally:
            up.task = None

    async def _upload(self, up):
        from ota.http import HttpError
        failed = "UploadFailed" if up.request_id is None else "UploadFailure"
        if up.request_id is None:
            self._diag_uploads += 1
        try:
            if not (up.url.startswith("http://") or up.url.startswith("https://")):
                log.warn("upload to", up.url[:60], "refused: only HTTP and HTTPS")
                await self._notify(up, failed)
                return
            for attempt in range(up.attempts):
                await self._notify(up, "Uploading")
                try:
                    n = await self._attempt(up)
                    if up.canceled:
                        return
                    log.info("uploaded", up.name, "(%d bytes)" % n)
                    await self._notify(up, "Uploaded")
                    return
                except (HttpError, BlockBusy) as e:
                    log.warn("upload attempt %d failed:" % (attempt + 1), str(e))
                if attempt + 1 < up.attempts:
                    log.info("next upload attempt in %d s" % up.interval_s)
                    for _ in range(up.interval_s):
                        if up.canceled:
                            return
                        await sleep_ms(1000)
                if up.canceled:
                    return
            await self._notify(up, failed)
        finally:
            # the status told, nothing runs any more: a trigger now answers Idle
            if up.request_id is None:
                self._diag_uploads -= 1
                if not self._diag_uploads:
                    self.diag_status = "Idle"
            elif self._log_upload is up:
                self._log_upload = None
                self.log_status, self.log_request = "Idle", None


def _empty(buf):
    buf[0] = 10  # an empty log is uploaded as one newline
    return 1
