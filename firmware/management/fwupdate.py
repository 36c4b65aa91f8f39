# Firmware updates: UpdateFirmware (1.6 §5.19) and SignedUpdateFirmware (whitepaper L01).
"""The update job, from request to the verdict after the reboot, kept on flash so that a
power cut at any stage resumes or ends truthfully.

    updater = FirmwareUpdater(board, session, settings, cp, certs, security, transfer)
    updater.register(session)          # UpdateFirmware, SignedUpdateFirmware
    asyncio.create_task(updater.run())
    await updater.after_boot()         # once BootNotification is accepted: Installed or not

The stages: scheduled (until retrieveDate) -> downloading (into the next OTA slot, hashed as
it streams; retries x retryInterval) -> downloaded -> signature checked (the certificate
chains directly to an installed ManufacturerRootCertificate) -> install scheduled (signed,
installDateTime) -> waiting for transactions to end, idle connectors Unavailable (L01.FR.07)
-> installing: set_boot (the bootloader's own image check) -> rebooting -> after the reboot:
Installed when the new image runs and reached the central system, else InstallationFailed
(the bootloader rolled back). Nothing is ever installed whose signature did not verify.

A new request replaces the job (AcceptedCanceled, L01.FR.26) until it is "rebooting" (then
Rejected, L01.FR.27): the old job stops at once, its download task cancelled, and takes no
further step, so it neither sets its image to boot nor sends another status; each status
carries the requestId of the job that entered it (L01.FR.10).

Plain UpdateFirmware: accepted by default (its image is a signed bundle, lib/ota/bundle.py)
so that 1.6 central systems without the whitepaper work; with the firmware key
SecureFirmwareUpdateOnly=true it answers CALLERROR NotSupported (L01.FR.20).
"""

import asyncio
import gc

import logger
import unload
from firmware.management import fwjob
from firmware.management.fwjob import RETRY_INTERVAL_S, Job
from firmware.management.fwstatus import FirmwareStatus, SignedFirmwareStatus
from ocppj import errors, rfc3339
from ticks import sleep_ms

log = logger.get("firmware")


class Canceled(Exception):
    """The job was replaced by a new request (L01.FR.26): it stops where it is."""

_WAIT_STEP_MS = 1000
CONFIRM_TIMEOUT_S = 300  # the new image must reach the central system within this


class FirmwareUpdater:
    def __init__(self, board, session, settings, cp, certs, security, transfer):
        self.board = board
        self.session = session
        self.settings = settings
        self.cp = cp  # connectors: transactions running, unavailability while installing
        self.certs = certs  # fn() -> the CertStore (firmware/security/certstore.py)
        self.security = security  # SecurityEvents: .event(type, tech_info)
        # fn(job, partition, updater) -> coroutine: download + verify (firmware/management/
        # fwtransfer.py), given this updater for its certificate check when it runs
        self.transfer = transfer
        self.plain = FirmwareStatus(session)
        self.signed = SignedFirmwareStatus(session)
        self._wake = asyncio.Event()
        self._transfer = None  # the task of the download attempt running, if any
        self._vouched = None  # what the last check found (check_certificate)
        self.job = fwjob.load(board.state_dir)
        if self.job and self.job.status:
            self._notifier().set_status(self.job.status, self.job.request_id)

    # -- persistence and status ------------------------------------------------------------
    def _save(self):
        fwjob.save(self.board.state_dir, self.job)

    def _notifier(self):
        return self.signed if self.job is not None and self.job.signed else self.plain

    def _check(self, job):
        """Canceled once a new request has replaced `job`: checked after every wait, so a
        replaced job never takes another step (L01.FR.26)."""
        if job is not self.job:
            raise Canceled()

    async def status(self, job, status):
        """`job` enters `status`: persist it, then tell the central system (L01.FR.01), with
        the job's own requestId (L01.FR.10). Canceled when the job was replaced before or
        while the message went out."""
        self._check(job)
        job.status = status
        self._save()
        await sleep_ms(0)  # the file, then the message: a turn of the loop between
        self._check(job)
        note = self.signed if job.signed else self.plain
        note.set_status(status, job.request_id)
        for _ in range(3):  # a status is state, not a transaction: retried briefly, not queued
            if await note.send() == "response_success":
                break
            await sleep_ms(2000)
        else:
            log.warn(note.action, status, "not delivered:", repr(note.error))
        self._check(job)

    def current_status(self, signed):
        """What a TriggerMessage reports, and the requestId with it. Signed (ExtendedTrigger-
        Message): the last status sent, Idle after Installed (L01.FR.28/29). Plain: Idle
        unless an UpdateFirmware is in progress (1.6 §4.5)."""
        note = self.signed if signed else self.plain
        if signed:
            busy = note.status != "Installed"
        else:
            busy = self.job is not None and not self.job.signed
        if not busy or note.status == "Idle":
            return "Idle", None
        return note.status, note.request_id

    async def send_triggered(self, signed):
        note = SignedFirmwareStatus(self.session) if signed else FirmwareStatus(self.session)
        note.set_status(*self.current_status(signed))
        await note.send(triggered=True)

    # -- requests ----------------------------------------------------------------------------
    def register(self, session):
        session.handlers["UpdateFirmware"] = self.update_firmware
        session.handlers["SignedUpdateFirmware"] = self.signed_update_firmware

    def update_firmware(self, p):
        if self.settings.get("SecureFirmwareUpdateOnly"):
            raise errors.CallError("NotSupported", "only SignedUpdateFirmware (L01.FR.20)")
        self._start(Job(signed=False, location=p["location"],
                        retrieve_s=rfc3339.to_s2000(p["retrieveDate"]),
                        retries=p.get("retries", 1), interval_s=p.get("retryInterval", RETRY_INTERVAL_S),
                        phase="scheduled", attempt=0))
        return {}

    async def signed_update_firmware(self, p):
        fw = p["firmware"]
        state_dir = self.board.state_dir
        # The certificate and signature leave RAM for a file before the check (1.5 KB an RSA
        # check's math on a plain ESP32 cannot spare): the check holds the certificate's DER
        # alone, the job adopts the file.
        digest = fwjob.stage(state_dir, fw.pop("signature"), fw["signingCertificate"])
        reason = (await self.check_certificate(fw.pop("signingCertificate")))[1]
        if reason is not None:
            fwjob.unstage(state_dir)
            _forget_checks()
            log.warn("SignedUpdateFirmware: signing certificate refused:", reason)
            self.session.after_reply(lambda: self.security.event(
                "InvalidFirmwareSigningCertificate", reason))
            return {"status": "InvalidCertificate"}  # L01.FR.24
        _forget_checks()
        await sleep_ms(0)  # the check's last step, then the job and its files: a turn between
        canceled = self.job is not None and self.job.phase != "rebooting"
        if self.job is not None and not canceled:
            fwjob.unstage(state_dir)
            return {"status": "Rejected"}  # L01.FR.27: rebooting into the image already
        install = fw.get("installDateTime")
        job = Job(signed=True, request_id=p["requestId"], location=fw["location"],
                  retrieve_s=rfc3339.to_s2000(fw["retrieveDateTime"]),
                  install_s=rfc3339.to_s2000(install) if install else None,
                  retries=p.get("retries", 1), interval_s=p.get("retryInterval", RETRY_INTERVAL_S),
                  phase="scheduled", attempt=0)
        fwjob.adopt(state_dir, job, digest)
        self._start(job)
        await sleep_ms(0)  # the job's files are written: the answer in a turn of its own
        return {"status": "AcceptedCanceled" if canceled else "Accepted"}  # L01.FR.26

    async def check_certificate(self, pem):
        """(the signing key of the certificate `pem` (text, or its bytes in a buffer), None)
        once it is checked against the manufacturer roots (ota.signature.signing_key), else
        (None, why not). The loop runs other tasks between the steps of the check (some 0.3 ms
        on the 32-bit unix port each, a second or two in all on an ESP32)."""
        mine = _digest(pem)
        vouched = self._vouched
        if vouched is not None and vouched[0] == mine and self._still_vouched(vouched):
            return vouched[4], None
        # The parsers and the RSA or ECDSA math in the least fragmented heap there is: what
        # the request's decoding left is gone first (at 96 KiB an RSA check needs its 512-byte
        # pieces where garbage would otherwise split the free heap).
        gc.collect()
        from ota.der import pem_to_der
        from ota.signature import signing_key
        from ota.x509 import (CertificateError, certificate_steps, signing_checks,
                              vouching_root_steps)
        from steps import finish
        await sleep_ms(0)  # the request's decoding and these imports were one turn already
        if not isinstance(pem, str):  # read back from flash, and not the one vouched for
            pem = str(pem, "utf-8")
        try:
            try:
                ders = pem_to_der(pem)
                pem = None  # the DER is all the check needs (the caller may have handed it over)
                await sleep_ms(0)  # decoding, parsing and reading the roots: turns in between
                cert = await finish(certificate_steps(ders[0] if isinstance(ders, list) else ders))
                ders = None
            except (ValueError, IndexError) as e:
                raise CertificateError("malformed: " + str(e))
            await sleep_ms(0)
            roots = await finish(self.certs().roots_steps())
            await sleep_ms(0)
            checks = signing_checks(cert, roots, self.board.time_s() if self.board.clock_set()
                                    else None)
            key = signing_key(cert)
            valid = cert.not_before, cert.not_after
            # The certificates go before the signature's arithmetic: an RSA check's pow needs
            # four pieces of some 512 bytes each. At 96 KiB, after a GetConfiguration, it had
            # 4.4 KB free with them and failed one time in six; without them, 7.4 KB (ota.x509
            # collects right before the pow: an ECDSA check's turn need not pay for that).
            cert = roots = None
            # the ECDSA workspace in the shared block when it is free (not while the check
            # after a download holds it: that one has parsed nothing until now)
            block = self.board.block
            work = block.lend("certificate check") if block is not None else None
            try:
                root = None if checks is None else await finish(vouching_root_steps(checks, work))
            finally:
                if work is not None:
                    block.give()  # type: ignore
                work = None
        except CertificateError as e:
            return None, str(e)
        # What the check after the download needs to know that this one still holds: the
        # time and the root are all that can change. It then parses nothing (the parsers
        # and both certificates are the peak of an RSA update's heap on a plain ESP32).
        self._vouched = None if root is None else (
            mine, root[0], max(valid[0], root[1]), min(valid[1], root[2]), key)
        return key, None

    def _still_vouched(self, vouched):
        """The certificate checked before is still valid now and its root still installed."""
        if self.board.clock_set() and not vouched[2] <= self.board.time_s() <= vouched[3]:
            return False
        return self.certs().holds(vouched[1])

    def _start(self, job):
        if self.job is not None:
            log.info("firmware update replaced by a new request")
            if self._transfer is not None:
                self._transfer.cancel()  # a stalled server must not hold up the new job
        self.job = job
        self._save()
        self._wake.set()

    # -- the work ------------------------------------------------------------------------------
    async def run(self):
        while True:
            job = self.job
            if job is None or job.phase == "rebooting":
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self._work(job)
            except Canceled:
                log.info("the replaced update stopped")
            except Exception as e:  # never leave a job half done without telling anyone
                log.error("firmware update failed:", repr(e))
                if self.job is job:
                    try:
                        await self.status(job, "InstallationFailed")
                    except Canceled:
                        pass
                    if self.job is job:
                        self._end()
            if self.job is not job and self.cp.installing:  # replaced while it waited
                self.cp.set_installing(False)

    def _end(self):
        self.cp.set_installing(False)
        self.job = None
        self._save()

    async def _sleep(self, job, ms):
        """sleep_ms, cut short (Canceled) when the job is replaced."""
        while ms > 0:
            self._check(job)
            step = ms if ms < _WAIT_STEP_MS else _WAIT_STEP_MS
            await sleep_ms(step)
            ms -= step
        self._check(job)

    async def _wait_until(self, job, when_s):
        while self.board.time_s() < when_s:
            await self._sleep(job, _WAIT_STEP_MS)
        self._check(job)

    async def _work(self, job):
        if job.phase == "scheduled":
            if job.signed and self.board.time_s() < job.retrieve_s:
                await self.status(job, "DownloadScheduled")
            await self._wait_until(job, job.retrieve_s)
            job.phase = "downloading"
        if job.phase == "downloading":
            if not await self._download(job):
                return
            self._check(job)
            job.phase = "downloaded"
            self._save()
        if job.phase == "downloaded":
            if job.signed and job.install_s and self.board.time_s() < job.install_s:
                await self.status(job, "InstallScheduled")
                await self._wait_until(job, job.install_s)
            await self._install(job)

    async def _transfer_once(self, job, partition):
        """One download attempt, as a task that a new request cancels (_start)."""
        task = self._transfer = asyncio.create_task(self.transfer(job, partition, self))
        try:
            return await task
        except asyncio.CancelledError:
            if job is self.job:
                raise  # not canceled by a new request: the loop itself is going down
            raise Canceled()
        finally:
            self._transfer = None

    async def _download(self, job):
        partition = self.board.ota_next()
        attempts = max(1, job.retries or 1)
        while job.attempt < attempts:
            self._check(job)
            job.attempt += 1
            self._save()
            fwjob.let_go(job)  # on flash now: read back for the check (fwjob.credentials)
            await self.status(job, "Downloading")
            outcome = await self._transfer_once(job, partition)
            self._check(job)
            if outcome == "ok":
                await self.status(job, "Downloaded")
                if job.signed:
                    await self.status(job, "SignatureVerified")
                return True
            if outcome in ("InvalidSignature", "InvalidCertificate"):
                # nothing was made bootable: the old firmware stays (L01.FR.03)
                if job.signed:
                    await self.status(job, "Downloaded")
                    await self.status(job, "InvalidSignature")
                else:
                    await self.status(job, "Downloaded")
                    await self.status(job, "InstallationFailed")
                self.security.event("InvalidFirmwareSignature" if outcome == "InvalidSignature"
                                    else "InvalidFirmwareSigningCertificate",
                                    "update %s" % (job.request_id or job.location[:60]))
                self._end()
                return False
            if outcome in ("InvalidImage", "InstallVerificationFailed"):
                # not an image the bootloader takes (InvalidImage: its signature verified)
                await self.status(job, "Downloaded")
                if job.signed and outcome == "InvalidImage":
                    await self.status(job, "SignatureVerified")
                await self.status(job, "InstallVerificationFailed" if job.signed
                                  else "InstallationFailed")
                self._end()
                return False
            log.warn("download attempt %d of %d failed: %s" % (job.attempt, attempts, outcome))
            if job.attempt < attempts:
                wait_s = job.interval_s or RETRY_INTERVAL_S
                log.info("next download attempt in %d s" % wait_s)
                await self._sleep(job, wait_s * 1000)
        await self.status(job, "DownloadFailed")
        self._end()
        return False

    async def _install(self, job):
        self.cp.set_installing(True)  # idle connectors Unavailable, no new sessions (L01.FR.07)
        while self.cp.transactions_running():
            await self._sleep(job, _WAIT_STEP_MS)
        await self.cp.flush_status()  # the StatusNotification Unavailable goes out first
        await self.status(job, "Installing")
        # Nothing awaits from here until the job is "rebooting", so no new request can come
        # in between: from then on a new one is Rejected (L01.FR.27). "rebooting" is on flash
        # before set_boot: a power cut in between leaves the old image running, and
        # after_boot() then tells InstallationFailed instead of installing again into the
        # wrong slot.
        job.phase = "rebooting"
        self._save()
        await sleep_ms(0)  # the save and set_boot's work (C on the board) in turns of their own
        try:
            self.board.ota_next().set_boot()  # the bootloader's structure and hash check
        except OSError as e:
            log.error("set_boot refused the image:", repr(e))
            await self.status(job, "InstallVerificationFailed" if job.signed
                              else "InstallationFailed")
            self._end()
            return
        if job.signed:
            await self.status(job, "InstallRebooting")  # L01.FR.15
        from firmware.model import bootreason
        bootreason.record(self.board.state_dir, "FirmwareUpdate")
        log.info("rebooting into the new firmware", job.version or "")
        await sleep_ms(200)
        self.board.reset(hard=True)  # only a hard reset loads the new image on the ESP32

    async def after_boot(self):
        """After BootNotification Accepted: the verdict on an update that rebooted."""
        job = self.job
        if job is None or job.phase != "rebooting":
            return
        running = self.board.running_image()
        if self.board.rolled_back() or running is None or (job.version and running[0] != job.version):
            log.error("the new firmware did not start: the bootloader rolled back")
            await self.status(job, "InstallationFailed")
        else:
            self.board.ota_mark_valid()  # reached the central system: keep this image
            await self.status(job, "Installed")
            self.security.event("FirmwareUpdated", "version %s" % running[0])
        self.job = None
        self._save()


# What the certificate check of a request imported: the download that follows needs none of
# it (the check after the download imports it again, from flash), and an RSA update on a
# plain ESP32 has no kilobyte to spare while it downloads.
_CHECKS = ("ota.x509", "ota.signature", "ota.rsa", "ota.ecdsa", "ota.ecfast", "ota.p256v",
           "ota.p256g", "ota.der", "steps")


def _forget_checks():
    unload.forget(*_CHECKS)


def _digest(data):
    """SHA-256 of a certificate's text or DER (what _vouched remembers, not the data)."""
    import hashlib
    try:
        return hashlib.sha256(data).digest()  # MicroPython reads a str's bytes, no copy
    except TypeError:  # CPython hashes bytes only
        return hashlib.sha256(data.encode()).digest()
