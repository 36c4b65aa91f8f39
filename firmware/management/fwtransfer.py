# The download of one firmware update and the checks before anything can boot it.
"""`make_transfer(...)` returns the function FirmwareUpdater calls for each download attempt:

    outcome = await transfer(job, partition, updater)   # updater: its certificate check
    # "ok"                          downloaded, image sound, signature verified (job.version set)
    # "InvalidSignature"            the signature does not verify: nothing bootable was made
    # "InvalidCertificate"          the bundle's signing certificate is refused
    # "InvalidImage"                signature verified, but not an image the bootloader takes
    # "InstallVerificationFailed"   refused before its signature could be checked (larger
    #                               than the slot, a broken bundle)
    # anything else                 the download failed (the reason): retried per retries

ota.http streams the file into the next OTA slot through ota.writer (hashed and checked as it
arrives, never in RAM; a bad image is noted, not refused, so that the signature is checked
first, L01.FR.03/04); for plain UpdateFirmware the file is a signed bundle (ota.bundle)
whose header carries the certificate and signature. The signature is checked over the
SHA-256 of the image before set_boot is ever called.

Memory: the HTTP reads go straight into the OTA writer's block, which is the firmware's one
block buffer (`block`, lib/sharedblock.py), held from the start of an attempt until the last
block is on flash. A diagnostics upload holding it is waited for, at most BLOCK_WAIT_MS; then
the attempt fails (and is retried as the request says). Without a block (None) each attempt
allocates one.
"""

import gc

import logger
import unload
from sharedblock import BlockBusy, SharedBlock
from ticks import sleep_ms

log = logger.get("firmware")

BLOCK_WAIT_MS = 180000  # an upload ends within its HTTP time-outs


def make_transfer(roots, block=None):
    async def transfer(job, partition, updater):
        got = await _fetch(job, partition, roots, block)
        if isinstance(got, str):
            return got
        # The image is on flash: the transport's modules go before the signature math needs
        # the room (their frozen code stays in flash; the next download imports them again).
        # One turn of the loop first lets the download's time-out task end, which holds them.
        await sleep_ms(0)
        unload.forget("ota.http", "ota.writer", "ota.bundle", "ota.image")
        gc.collect()  # the big-int math then works in the least fragmented heap there is
        size, digest, version, refusal, header = got
        got = None  # nothing held twice while the signature is checked
        return await _verify(updater, job, size, digest, version, refusal, header, block)

    return transfer


async def _fetch(job, partition, roots, block):
    """The download into `partition`: (size, digest, the image's version or None, why the
    bootloader would refuse the image or None, bundle header or None), or the outcome when it
    failed. Text, not ota.image's ImageInfo or ImageError: an object of its classes, even a
    stale pointer to one left in a frame, would keep that module alive through the check."""
    # Imported for the first download, not at start-up: a charging session never needs the
    # HTTP client, the image checks or the signature math (about 6 KB of RAM frozen, 40 KB as
    # .mpy files).
    from ota.http import HttpClient, HttpError
    from ota.image import ImageError
    from ota.writer import PartitionWriter, WriteError
    refused = (ImageError, WriteError)
    if not job.signed:  # a bundle: its reader, only then (RAM for its module at 96 KiB)
        from ota.bundle import BundleError, BundleReader
        refused = (ImageError, WriteError, BundleError)
    await sleep_ms(0)  # the imports, the writer and client, the download: turns between

    shared = block if block is not None else SharedBlock()
    try:
        buf = await shared.take("firmware download", BLOCK_WAIT_MS)
    except BlockBusy as e:
        return "download failed: " + str(e)
    try:
        writer = PartitionWriter(partition, buf=buf, strict=False)
        reader = None if job.signed else BundleReader(writer)  # type: ignore
        sink = writer if reader is None else reader  # both: space(), commit(n), restart
        try:
            # the roots as they are now: the central system may have installed new ones
            client = HttpClient(ca=roots() if roots and job.location.startswith("https:")
                                else None)
            await sleep_ms(0)
            await client.get(job.location, sink, restart=sink.restart,
                             max_length=writer.capacity + (0 if job.signed else 16384))
            header = reader.finish() if reader is not None else None
            size, digest, info = writer.finish()
        except HttpError as e:
            return "download failed: " + str(e)
        except refused as e:  # no signature to check: refused
            log.error("downloaded file refused:", str(e))
            return "InstallVerificationFailed"
        if info is None:
            info = writer.image_error
        if isinstance(info, Exception):  # ota.image.ImageError
            version, refusal = None, str(info) or "not an ESP32 app image"
        else:
            version, refusal = info.version, None
        info = None
    finally:
        shared.give()  # the image is on flash: the signature check needs no block
    return size, digest, version, refusal, header


async def _verify(updater, job, size, digest, version, refusal, header, block):
    """The signing certificate and the signature over `digest`, then the image (its
    `version`, or the `refusal` of the bootloader's rules): "ok" or why not. The signature
    math gives the loop a turn between its steps (lib/steps.py). The credentials file is
    read into the block (fwjob.credentials), which then holds the ECDSA workspace."""
    from ota.signature import SignatureError, verify_key_signature_steps
    from steps import finish

    shared = block if block is not None else SharedBlock()
    try:
        buf = await shared.take("signature check", BLOCK_WAIT_MS)
    except BlockBusy as e:
        return "download failed: " + str(e)
    try:
        if header:
            certificate, signature = header["signingCertificate"], header["signature"]
        else:
            from firmware.management import fwjob
            certificate, signature = fwjob.credentials(updater.board.state_dir, job, buf)
        if certificate is None:
            log.error("the update's certificate and signature are gone from flash")
            return "InvalidCertificate"
        key, reason = await updater.check_certificate(certificate)
        certificate = None  # the certificate goes before the math, its key stays
        if reason is not None:
            log.error("signing certificate refused:", reason)
            return "InvalidCertificate"
        try:  # the block, the certificate done with, is the ECDSA workspace (ota.ecfast)
            await finish(verify_key_signature_steps(key, digest, signature, buf))
        except (SignatureError, ValueError) as e:
            log.error("firmware signature refused:", str(e))
            return "InvalidSignature"
    finally:
        certificate = buf = None
        shared.give()

    if refusal:
        log.error("signed, but not an image the bootloader takes:", refusal)
        return "InvalidImage"
    job.version = version
    log.info("firmware %s downloaded and verified (%d bytes)" % (version, size))
    return "ok"
