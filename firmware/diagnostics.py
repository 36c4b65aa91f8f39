# GetDiagnostics (1.6 §5.9) and GetLog (security whitepaper N01): the log uploaded by HTTP(S).
"""    diag = Diagnostics(board, session, ca_pem, block)   # block: lib/sharedblock.SharedBlock
    diag.register(session)      # GetDiagnostics, GetLog

The file is the log kept in RAM by lib/logring.py (secrets already redacted): all of it for
GetDiagnostics and GetLog DiagnosticsLog, the security events for GetLog SecurityLog. It is
sent by HTTP(S) POST (multipart/form-data) to the location given; FTP is not supported
(SupportedFileTransferProtocols says HTTP,HTTPS), so an ftp:// location fails clearly.
Statuses: DiagnosticsStatusNotification Uploading, Uploaded or UploadFailed; LogStatusNotification
Uploading, Uploaded or UploadFailure with the requestId. Retries per the request.

Memory: each attempt copies the log into the firmware's one block buffer (the shared block,
logring.copy_into; the security log filtered in place) and sends it from there; nothing
else of the log's size is allocated. While a firmware download holds the block an attempt
waits for it, at most BLOCK_WAIT_MS (5 minutes), and then fails ("block buffer ... in use by
firmware download"); the request's retries follow. Without a block (None) each attempt
allocates one.
"""

import logger
import logring
from firmware.fwjob import RETRY_INTERVAL_S
from ocppj import errors
from ocppj.session import CallTimeout, NotConnected
from sharedblock import BlockBusy, SharedBlock
from ticks import sleep_ms

log = logger.get("diagnostics")

BLOCK_WAIT_MS = 300000  # how long an upload attempt waits for the block buffer
_SECURITY = b" security:"  # the lines of the security log (lib/logger.py's "<name>:" field)


class Diagnostics:
    def __init__(self, board, session, ca_pem, block=None):
        self.board = board
        self.session = session
        self.ca_pem = ca_pem
        self.block = block  # SharedBlock: the log snapshot goes there (None: one per attempt)
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
            p["location"], name, False, p.get("retries", 1), p.get("retryInterval", RETRY_INTERVAL_S), None))
        return {"fileName": name}

    def get_log(self, p):
        security = p["logType"] == "SecurityLog"
        name = self._name("security" if security else "diagnostics")
        canceled = self._running
        self.session.after_reply(lambda: self._upload(
            p["log"]["remoteLocation"], name, security, p.get("retries", 1),
            p.get("retryInterval", RETRY_INTERVAL_S), p["requestId"]))
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

    async def _send(self, url, name, security):
        """One attempt: the log (or its security lines) copied into the block and sent from
        there; returns the number of bytes. HttpError or BlockBusy when it failed."""
        from ota.http import HttpClient
        block = self.block if self.block is not None else SharedBlock()
        buf = await block.take("diagnostics upload", BLOCK_WAIT_MS)
        try:
            n = logring.copy_into(buf)
            if security:
                n = keep_lines(buf, n, _SECURITY)
            client = HttpClient(ca=self.ca_pem if url.startswith("https:") else None)
            await client.upload(url, name, memoryview(buf)[:n])
            return n
        finally:
            block.give()

    async def _upload(self, url, name, security, retries, interval_s, request_id):
        from ota.http import HttpError
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
                    n = await self._send(url, name, security)
                    log.info("uploaded", name, "(%d bytes)" % n)
                    await self._notify(request_id, "Uploaded")
                    return
                except (HttpError, BlockBusy) as e:
                    log.warn("upload attempt %d failed:" % (attempt + 1), str(e))
                    if attempt + 1 < retries:
                        log.info("next upload attempt in %d s" % interval_s)
                        await sleep_ms(interval_s * 1000)
            await self._notify(request_id, failed)
        finally:
            self._running = False


def keep_lines(buf, n, word):
    """Keep the lines of buf[:n] that contain `word`, moved to the front in order; returns
    their length (at least one newline, as an empty log is uploaded)."""
    out = 0
    i = 0
    while i < n:
        end = buf.find(b"\n", i, n)
        end = n if end < 0 else end + 1
        if buf.find(word, i, end) >= 0:
            _move(buf, out, i, end - i)
            out += end - i
        i = end
    if not out:
        buf[0] = 10
        out = 1
    return out


def _move(buf, to, at, n):
    # buf[to:to + n] = buf[at:at + n] for to <= at, in pieces that do not overlap (CPython
    # copies a bytearray slice with memcpy)
    if to == at:
        return
    mv = memoryview(buf)
    step = at - to
    i = 0
    while i < n:
        k = step if step < n - i else n - i
        mv[to + i:to + i + k] = mv[at + i:at + i + k]
        i += k
