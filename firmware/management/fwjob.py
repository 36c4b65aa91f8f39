# The firmware update job as kept on flash: what was asked for and how far it got.
"""    job = fwjob.load(state_dir)        # Job, or None (none, or the file was unreadable)
    fwjob.pending(state_dir)            # a job file is there: the updater has work at start
    fwjob.save(state_dir, job)          # None removes it

Kept apart from the updater (firmware/management/fwupdate.py) so that start-up can tell, without
importing the updater, whether there is an update to resume or to report on.

A signed job's certificate and signature (1.5 KB of text for RSA) are written once, to a file
of their own, and the job file names them by a digest: the job is saved at every step of the
update, and after the signature check, on a plain ESP32's fragmented heap, there may be no
room for a 1.5 KB string (and its bytes) at every save. A job whose credentials file is
missing or another job's is dropped as unreadable, never checked against the wrong
signature.
"""

import json
import os

import atomicfile
import logger

FILE_NAME = "fwupdate.json"
CREDENTIALS_FILE = "fwupdate-signature.json"
# The wait between two attempts of a transfer (firmware download, log upload) when the central
# system's request gives no retryInterval (1.6 §6.21, §6.29: the charge point decides).
RETRY_INTERVAL_S = 60

log = logger.get("firmware")


class Job:
    """One update request and how far it got (persisted as JSON)."""

    def __init__(self, signed=False, request_id=None, location="", retrieve_s=0, retries=1,
                 interval_s=RETRY_INTERVAL_S, install_s=None, certificate=None, signature=None,
                 phase="scheduled", version=None, attempt=0, status=None):
        self.signed = signed
        self.request_id = request_id
        self.location = location
        self.retrieve_s = retrieve_s
        self.retries = retries
        self.interval_s = interval_s
        self.install_s = install_s
        self.certificate = certificate
        self.signature = signature
        self.phase = phase  # scheduled, downloading, downloaded, rebooting
        self.version = version  # of the downloaded image, to recognise it after the reboot
        self.attempt = attempt
        self.status = status  # the last status entered
        self.saved_credentials = None  # the digest of those in the credentials file

    def credentials_digest(self):
        """Hex digest of the certificate and signature, or None when there are none."""
        if self.certificate is None and self.signature is None:
            return None
        import binascii
        import hashlib
        text = json.dumps([self.certificate, self.signature])
        try:
            h = hashlib.sha256(text)  # MicroPython reads a str's bytes as they are
        except TypeError:  # CPython hashes bytes only
            h = hashlib.sha256(text.encode())
        return binascii.hexlify(h.digest()[:8]).decode()

    def dump(self, digest):
        return json.dumps([self.signed, self.request_id, self.location, self.retrieve_s,
                           self.retries, self.interval_s, self.install_s, None, None,
                           self.phase, self.version, self.attempt, self.status, digest])


def _path(state_dir):
    return state_dir + "/" + FILE_NAME


def pending(state_dir):
    return atomicfile.exists(_path(state_dir))


def load(state_dir):
    raw = atomicfile.read(_path(state_dir))
    if not raw:
        return None
    try:
        fields = json.loads(raw)
        digest = fields.pop() if len(fields) == 14 else None  # 13: inline (older firmware)
        job = Job(*fields)
        if digest is not None:
            creds = atomicfile.read(state_dir + "/" + CREDENTIALS_FILE)
            job.certificate, job.signature = json.loads(creds) if creds else (None, None)
            if job.credentials_digest() != digest:
                raise ValueError("its certificate and signature are gone")
            job.saved_credentials = digest
        return job
    except (ValueError, TypeError) as e:
        log.error("update job file unreadable: dropped (%s)" % e)
        return None


def credentials(state_dir, job):
    """(certificate, signature) of a signed job: in RAM, or read back from their file. The
    updater lets them go for the download (let_go): 1.5 KB of text held in the middle of the
    heap for the minutes of a download splits the free heap the signature math needs."""
    if job.certificate is not None or job.signature is not None:
        return job.certificate, job.signature
    creds = atomicfile.read(state_dir + "/" + CREDENTIALS_FILE)
    pair = json.loads(creds) if creds else (None, None)
    return pair[0], pair[1]


def let_go(job):
    """Drop a job's certificate and signature from RAM once their file holds them."""
    if job.saved_credentials is not None:
        job.certificate = job.signature = None


def save(state_dir, job):
    if job is None:
        for name in (FILE_NAME, CREDENTIALS_FILE):
            try:
                os.remove(state_dir + "/" + name)
            except OSError:
                pass
        return
    digest = job.saved_credentials
    if digest is None:  # the credentials first: the job file that names them follows
        digest = job.credentials_digest()
        if digest is not None:
            atomicfile.write(state_dir + "/" + CREDENTIALS_FILE,
                             json.dumps([job.certificate, job.signature]))
            job.saved_credentials = digest
    atomicfile.write(_path(state_dir), job.dump(digest))
