# The firmware update job as kept on flash: what was asked for and how far it got.
"""    job = fwjob.load(state_dir)        # Job, or None (none, or the file was unreadable)
    fwjob.pending(state_dir)            # a job file is there: the updater has work at start
    fwjob.save(state_dir, job)          # None removes it

Kept apart from the updater (firmware/fwupdate.py) so that start-up can tell, without
importing the updater, whether there is an update to resume or to report on.
"""

import json
import os

import atomicfile
import logger

FILE_NAME = "fwupdate.json"
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

    def dump(self):
        return json.dumps([self.signed, self.request_id, self.location, self.retrieve_s,
                           self.retries, self.interval_s, self.install_s, self.certificate,
                           self.signature, self.phase, self.version, self.attempt, self.status])


def _path(state_dir):
    return state_dir + "/" + FILE_NAME


def pending(state_dir):
    return atomicfile.exists(_path(state_dir))


def load(state_dir):
    raw = atomicfile.read(_path(state_dir))
    if not raw:
        return None
    try:
        return Job(*json.loads(raw))
    except (ValueError, TypeError):
        log.error("update job file unreadable: dropped")
        return None


def save(state_dir, job):
    if job is None:
        try:
            os.remove(_path(state_dir))
        except OSError:
            pass
    else:
        atomicfile.write(_path(state_dir), job.dump())
