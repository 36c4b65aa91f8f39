# The signed-bundle format of plain UpdateFirmware: the signature travels inside the file.
"""OCPP 1.6 UpdateFirmware carries only a URL, so an image fetched that way brings its
signature with it, checked against the same manufacturer roots as SignedUpdateFirmware:

    offset 0   b"OCPPSIG1"                       magic
    offset 8   header length N (u32, big endian), at most 8192
    offset 12  N bytes of JSON: {"signingCertificate": "<PEM>", "signature": "<base64>"}
    offset 12+N  the firmware image itself

The signature is over the SHA-256 of the image bytes (not the header), exactly as for
SignedUpdateFirmware, so one signing step (tools/sign_image.py) serves both paths.

`BundleReader(writer)` sits between the download and an ota.writer.PartitionWriter and has
the same pull interface (space() / commit(n), see ota.http): the bytes of the image go
straight into the writer's block. The header goes there first: while it is read the block is
still empty (nothing of the image has come yet), so space() offers the block up to the end of
the header and never further, the header is parsed (JSON: its strings are copies) the moment
its last byte is committed, and only then does the first image byte overwrite it. A header
too long for the block (more than 4084 bytes; certificates are about 1 to 2 KB) is gathered
in a buffer of its own instead.
"""

import json
import struct

from ota.image import BLOCK

MAGIC = b"OCPPSIG1"
MAX_HEADER = 8192
_PREFIX = 12  # magic and header length


class BundleError(Exception):
    pass


class BundleReader:
    def __init__(self, writer):
        self.writer = writer  # space(), commit(n), restart(0): ota.writer.PartitionWriter
        self._start()

    def _start(self):
        self._got = 0  # bytes of the prefix and header read
        self._need = _PREFIX  # bytes of prefix and header in all, once the length is known
        self._big = None  # the header when it does not fit the block after the prefix
        self.header = None  # the parsed JSON header once read
        self.image_bytes = 0

    def restart(self, offset=0):
        """Start over from the first byte (the server sends the whole file again)."""
        if offset:
            raise BundleError("a bundle download can only start over from its first byte")
        self.writer.restart(0)
        self._start()

    def space(self):
        if self.header is not None:
            return self.writer.space()
        got = self._got
        if self._big is not None:
            return memoryview(self._big)[got - _PREFIX:]
        return self.writer.space()[got:self._need]  # the empty block: nothing past the header

    def commit(self, n):
        if self.header is not None:
            self.writer.commit(n)
            self.image_bytes += n
            return
        got = self._got = self._got + n
        if got < self._need:
            return
        blk = self.writer.space()  # still the whole block: no image byte has come
        if got == _PREFIX:
            if bytes(blk[:8]) != MAGIC:
                raise BundleError("not a signed firmware bundle (magic)")
            size = struct.unpack(">I", bytes(blk[8:_PREFIX]))[0]
            if not 2 <= size <= MAX_HEADER:
                raise BundleError("bundle header of %d bytes" % size)
            self._need = _PREFIX + size
            if self._need > BLOCK:
                self._big = bytearray(size)
            return
        raw = memoryview(self._big) if self._big is not None else blk[_PREFIX:got]
        try:
            try:
                header = json.loads(raw)  # type: ignore  # MicroPython reads a memoryview
            except TypeError:  # CPython's json does not
                header = json.loads(bytes(raw))
        except ValueError:
            raise BundleError("bundle header is not JSON")
        if not isinstance(header, dict) or not isinstance(header.get("signingCertificate"), str) \
                or not isinstance(header.get("signature"), str):
            raise BundleError("bundle header needs signingCertificate and signature")
        self.header = header
        self._big = None

    def finish(self):
        if self.header is None:
            raise BundleError("bundle ends inside its header")
        return self.header


def pack(image, certificate_pem, signature_b64):
    """The bundle bytes (host tools and tests)."""
    header = json.dumps({"signingCertificate": certificate_pem,
                         "signature": signature_b64}).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + image
