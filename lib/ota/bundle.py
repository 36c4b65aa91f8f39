# The signed-bundle format of plain UpdateFirmware: the signature travels inside the file.
"""OCPP 1.6 UpdateFirmware carries only a URL, so an image fetched that way brings its
signature with it, checked against the same manufacturer roots as SignedUpdateFirmware:

    offset 0   b"OCPPSIG1"                       magic
    offset 8   header length N (u32, big endian), at most 8192
    offset 12  N bytes of JSON: {"signingCertificate": "<PEM>", "signature": "<base64>"}
    offset 12+N  the firmware image itself

The signature is over the SHA-256 of the image bytes (not the header), exactly as for
SignedUpdateFirmware, so one signing step (tools/sign_image.py) serves both paths.

`BundleReader` is fed the download in chunks; it keeps the header (bounded) and passes the
image bytes on to a sink without holding them.
"""

import json
import struct

MAGIC = b"OCPPSIG1"
MAX_HEADER = 8192


class BundleError(Exception):
    pass


class BundleReader:
    def __init__(self, sink):
        self.sink = sink  # fn(memoryview or bytes): the image bytes, in order
        self._head = bytearray()
        self._need = 12
        self.header = None  # the parsed JSON header once read
        self.image_bytes = 0

    def feed(self, data):
        if self.header is not None:
            self.image_bytes += len(data)
            self.sink(data)
            return
        take = min(len(data), self._need - len(self._head))
        self._head.extend(bytes(data[:take]))
        rest = data[take:]
        if len(self._head) < self._need:
            return
        if self._need == 12:
            if bytes(self._head[:8]) != MAGIC:
                raise BundleError("not a signed firmware bundle (magic)")
            size = struct.unpack(">I", bytes(self._head[8:12]))[0]
            if not 2 <= size <= MAX_HEADER:
                raise BundleError("bundle header of %d bytes" % size)
            self._need = 12 + size
            if len(rest):
                self.feed(rest)
            return
        try:
            header = json.loads(bytes(self._head[12:]))
        except ValueError:
            raise BundleError("bundle header is not JSON")
        if not isinstance(header, dict) or not isinstance(header.get("signingCertificate"), str) \
                or not isinstance(header.get("signature"), str):
            raise BundleError("bundle header needs signingCertificate and signature")
        self.header = header
        self._head = bytearray()
        if len(rest):
            self.feed(rest)

    def finish(self):
        if self.header is None:
            raise BundleError("bundle ends inside its header")
        return self.header


def pack(image, certificate_pem, signature_b64):
    """The bundle bytes (host tools and tests)."""
    header = json.dumps({"signingCertificate": certificate_pem,
                         "signature": signature_b64}).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + image
