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
signature; only a job rebooting into its image (it needs them no more: after the reboot it
reports what runs) is kept without them.

The credentials file is the signature (base64, one line), a newline, then the certificate's
PEM as it came. A request's credentials are staged in a file of their own first (stage()),
before its certificate is checked, and leave RAM: a job made of them takes that file over
(adopt()), a refused request's is removed (unstage()). The check after a download reads it
into the shared block (credentials()): the certificate stays there, its digest compared with
the one the request's check vouched for, and is never a string of its own (on a plain ESP32
after a download, a 1.2 KB piece of heap is often not to be had).
"""

import json
import os

import atomicfile
import logger

FILE_NAME = "fwupdate.json"
CREDENTIALS_FILE = "fwupdate-signature.txt"
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

    def credential_pieces(self):
        """The credentials file's content in pieces (see above), or None when there are none:
        1.5 KB of text is never joined in RAM."""
        if self.certificate is None and self.signature is None:
            return None
        return _pieces(self.signature, self.certificate)

    def credentials_digest(self):
        """Hex digest of the certificate and signature, or None when there are none."""
        pieces = self.credential_pieces()
        return None if pieces is None else _digest(pieces)

    def dump(self, digest):
        return json.dumps([self.signed, self.request_id, self.location, self.retrieve_s,
                           self.retries, self.interval_s, self.install_s, None, None,
                           self.phase, self.version, self.attempt, self.status, digest])


def _pieces(signature, certificate):
    """The credentials file's content (see above), in pieces."""
    return signature or "", "\n", certificate or ""


def _digest(pieces):
    import binascii
    import hashlib
    h = hashlib.sha256()
    for piece in pieces:
        try:
            h.update(piece)  # MicroPython reads a str's bytes as they are
        except TypeError:  # CPython hashes bytes only
            h.update(piece.encode())
    return binascii.hexlify(h.digest()[:8]).decode()


def _path(state_dir):
    return state_dir + "/" + FILE_NAME


def _staged(state_dir):
    return state_dir + "/" + CREDENTIALS_FILE + ".new"


def stage(state_dir, signature, certificate):
    """Write a request's credentials to their staging file: their digest (what the job file
    names them by once a job adopts them)."""
    pieces = _pieces(signature, certificate)
    atomicfile.write(_staged(state_dir), pieces)
    return _digest(pieces)


def adopt(state_dir, job, digest):
    """The staged credentials (stage() gave `digest`) become `job`'s, which holds them in
    its file only."""
    os.rename(_staged(state_dir), state_dir + "/" + CREDENTIALS_FILE)
    job.certificate = job.signature = None
    job.saved_credentials = digest


def unstage(state_dir):
    try:
        os.remove(_staged(state_dir))
    except OSError:
        pass


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
            if creds:
                signature, _, certificate = creds.decode().partition("\n")
                job.certificate, job.signature = certificate, signature
            if job.credentials_digest() == digest:
                job.saved_credentials = digest
            elif job.phase == "rebooting":  # what runs after the reboot is all it reports
                job.certificate = job.signature = None
            else:
                raise ValueError("its certificate and signature are gone")
        return job
    except (ValueError, TypeError) as e:
        log.error("update job file unreadable: dropped (%s)" % e)
        return None


def credentials(state_dir, job, buf):
    """(certificate, signature) of a signed job: in RAM, or read back from their file into
    the bytearray `buf` (the shared block), the certificate then a memoryview of it, valid
    while the caller holds buf; (None, None) when the file is gone or torn. The updater lets
    them go for the download (let_go): 1.5 KB of text held in the middle of the heap for the
    minutes of a download splits the free heap the signature math needs."""
    if job.certificate is not None or job.signature is not None:
        return job.certificate, job.signature
    path = state_dir + "/" + CREDENTIALS_FILE
    n = atomicfile.read_into(path, buf)
    if n is None:  # gone, torn, or larger than the block (5500 characters of PEM may come)
        raw = atomicfile.read(path)
        if raw is None:
            return None, None
        buf = raw
        n = len(raw)
    i = buf.find(b"\n", 0, n)
    if i < 0:
        return None, None
    return memoryview(buf)[i + 1:n], str(memoryview(buf)[:i], "utf-8")


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
            atomicfile.write(state_dir + "/" + CREDENTIALS_FILE, job.credential_pieces())
            job.saved_credentials = digest
    atomicfile.write(_path(state_dir), job.dump(digest))
