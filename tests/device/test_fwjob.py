# Device tests of firmware/management/fwjob.py: the update job on flash, its credentials in a file apart.
import json

from firmware.management import fwjob
from devtest import rmtree, tempdir

CERT = "-----BEGIN CERTIFICATE-----\nMIIB" + "A" * 900 + "\n-----END CERTIFICATE-----\n"
SIG = "MEUCIQ" + "B" * 340


def signed_job():
    return fwjob.Job(signed=True, request_id=3, location="http://h/fw.bin", retrieve_s=100,
                     certificate=CERT, signature=SIG, phase="downloading", attempt=1)


def test_a_signed_job_comes_back_whole_and_its_saves_stay_small():
    folder = tempdir()
    try:
        job = signed_job()
        fwjob.save(folder, job)
        with open(folder + "/" + fwjob.FILE_NAME, "rb") as f:
            first = f.read()
        assert len(first) < 400 and CERT.encode() not in first, "the job file carries no certificate"
        job.phase = "downloaded"
        fwjob.save(folder, job)  # the credentials are not written again
        back = fwjob.load(folder)
        assert (back.certificate, back.signature, back.phase, back.request_id) == \
            (CERT, SIG, "downloaded", 3)
        fwjob.save(folder, None)
        assert fwjob.load(folder) is None and not fwjob.pending(folder)
    finally:
        rmtree(folder)


def test_a_job_whose_credentials_are_gone_or_another_jobs_is_dropped():
    folder = tempdir()
    try:
        fwjob.save(folder, signed_job())
        other = signed_job()
        other.signature = SIG[:-1] + "C"
        with open(folder + "/" + fwjob.FILE_NAME, "rb") as f:
            job_file = f.read()
        fwjob.save(folder, other)  # a later request: its own credentials
        with open(folder + "/" + fwjob.FILE_NAME, "wb") as f:
            f.write(job_file)  # the earlier job file, as after a cut between the two writes
        assert fwjob.load(folder) is None, "checked against another job's signature"
        fwjob.save(folder, signed_job())
        import os
        os.remove(folder + "/" + fwjob.CREDENTIALS_FILE)
        assert fwjob.load(folder) is None
    finally:
        rmtree(folder)


def test_a_job_file_of_the_older_format_still_loads():
    folder = tempdir()
    try:
        import atomicfile
        old = json.dumps([True, 3, "http://h/fw.bin", 100, 1, 60, None, CERT, SIG,
                          "rebooting", "0.2.0", 1, "Installing"])
        atomicfile.write(folder + "/" + fwjob.FILE_NAME, old)
        back = fwjob.load(folder)
        assert (back.certificate, back.signature, back.phase, back.version) == \
            (CERT, SIG, "rebooting", "0.2.0")
    finally:
        rmtree(folder)


def test_credentials_are_read_back_into_the_block_buffer():
    folder = tempdir()
    try:
        job = signed_job()
        fwjob.save(folder, job)
        fwjob.let_go(job)
        assert job.certificate is None and job.signature is None
        block = bytearray(4096)
        certificate, signature = fwjob.credentials(folder, job, block)
        assert not isinstance(certificate, str), "the certificate stays in the block"
        assert (bytes(certificate), signature) == (CERT.encode(), SIG)
        # larger than the buffer: read as a whole instead
        certificate, signature = fwjob.credentials(folder, job, bytearray(100))
        assert (bytes(certificate), signature) == (CERT.encode(), SIG)
        import os
        os.remove(folder + "/" + fwjob.CREDENTIALS_FILE)
        assert fwjob.credentials(folder, job, block) == (None, None)
    finally:
        rmtree(folder)


def test_a_job_rebooting_into_its_image_is_kept_without_its_credentials():
    folder = tempdir()
    try:
        job = signed_job()
        job.phase = "rebooting"
        fwjob.save(folder, job)
        import os
        os.remove(folder + "/" + fwjob.CREDENTIALS_FILE)  # or of another format: not needed
        back = fwjob.load(folder)
        assert (back.phase, back.request_id, back.certificate, back.signature) == \
            ("rebooting", 3, None, None)
    finally:
        rmtree(folder)


def test_staged_credentials_become_the_jobs_or_go():
    folder = tempdir()
    try:
        import os
        digest = fwjob.stage(folder, SIG, CERT)
        job = signed_job()
        assert digest == job.credentials_digest(), "the digest a job of them would have"
        fwjob.adopt(folder, job, digest)
        assert job.certificate is None and job.signature is None, "in the file only"
        fwjob.save(folder, job)
        back = fwjob.load(folder)
        assert (back.certificate, back.signature) == (CERT, SIG)
        # a refused request's staged credentials go; the job's stay
        fwjob.stage(folder, SIG[:-1] + "C", CERT)
        fwjob.unstage(folder)
        assert fwjob.CREDENTIALS_FILE + ".new" not in os.listdir(folder)
        assert fwjob.load(folder).signature == SIG
        fwjob.unstage(folder)  # nothing staged: nothing to do
    finally:
        rmtree(folder)
