# Device tests of the signed-bundle reader: header kept, image streamed, bad bundles refused.
import struct

from devtest import raises
from ota import bundle


def read(blob, chunk):
    out = bytearray()
    r = bundle.BundleReader(out.extend)
    for i in range(0, len(blob), chunk):
        r.feed(memoryview(blob)[i:i + chunk])
    return r.finish(), bytes(out)


def test_header_and_image_in_any_chunking():
    image = bytes(range(256)) * 40
    blob = bundle.pack(image, "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n",
                       "c2lnbmF0dXJl")
    for chunk in (1, 7, 12, 13, 100, 4096, len(blob)):
        header, got = read(blob, chunk)
        assert header["signature"] == "c2lnbmF0dXJl" and got == image, chunk


def test_bad_bundles_are_refused():
    image = b"\xe9" * 100
    good = bundle.pack(image, "PEM", "c2ln")
    raises(bundle.BundleError, read, b"NOTSIG01" + good[8:], 64)
    raises(bundle.BundleError, read, good[:8] + struct.pack(">I", 10 ** 6) + good[12:], 64)
    raises(bundle.BundleError, read, good[:20], 64)  # ends inside the header
    raises(bundle.BundleError, read, bundle.MAGIC + struct.pack(">I", 4) + b"[1,2", 64)
    bad_json = bundle.MAGIC + struct.pack(">I", 9) + b'{"a": 1}x' + image
    raises(bundle.BundleError, read, bad_json, 64)
