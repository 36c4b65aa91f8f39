# Device tests of the signed-bundle reader: header kept, image streamed, bad bundles refused.
import struct

from devtest import raises
from ota import bundle
from ota.writer import PartitionWriter
from test_ota_image import MemPartition

PEM = "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n"


def push(sink, data, chunk, spaces=None):
    """What ota.http does: read at most `chunk` bytes at a time into sink.space(), commit."""
    mv = memoryview(data)
    i = 0
    while i < len(mv):
        sp = sink.space()
        if spaces is not None:
            spaces.append(len(sp))
        k = min(len(sp), chunk, len(mv) - i)
        sp[:k] = mv[i:i + k]
        sink.commit(k)
        i += k


def reader():
    part = MemPartition(blocks=16)
    return bundle.BundleReader(PartitionWriter(part, check=False)), part


def read(blob, chunk, spaces=None):
    r, part = reader()
    push(r, blob, chunk, spaces)
    header = r.finish()
    size = r.writer.finish()[0]
    assert size == r.image_bytes, (size, r.image_bytes)
    return header, bytes(part.data[:size])


def test_header_and_image_in_any_chunking():
    image = bytes(range(256)) * 40
    blob = bundle.pack(image, PEM, "c2lnbmF0dXJl")
    for chunk in (1, 7, 12, 13, 100, 4096, len(blob)):
        header, got = read(blob, chunk)
        assert header["signature"] == "c2lnbmF0dXJl" and got == image, chunk


def test_reads_stop_at_the_end_of_the_header():
    # The header is read into the writer's empty block, never further: the first image byte
    # comes with the next read, once the header is parsed.
    image = bytes(range(256)) * 40
    blob = bundle.pack(image, PEM, "c2lnbmF0dXJl")
    size = struct.unpack(">I", blob[8:12])[0]
    spaces = []
    header, got = read(blob, len(blob), spaces)
    assert got == image and header["signingCertificate"] == PEM
    assert spaces[:3] == [12, size, 4096], spaces


def test_header_longer_than_the_block():
    image = bytes(range(256)) * 20
    pem = PEM + "A" * 6000  # at most 8192 allowed: larger than one block
    blob = bundle.pack(image, pem, "c2ln")
    for chunk in (100, 4096, len(blob)):
        header, got = read(blob, chunk)
        assert header["signingCertificate"] == pem and got == image, chunk


def test_restart_starts_the_bundle_over():
    image = bytes(range(256)) * 30
    blob = bundle.pack(image, PEM, "c2ln")
    for cut in (5, 40, 5000):  # in the prefix, in the header, in the image
        r, part = reader()
        push(r, blob[:cut], 333)
        r.restart(0)
        push(r, blob, 1000)
        assert r.finish()["signature"] == "c2ln"
        size = r.writer.finish()[0]
        assert bytes(part.data[:size]) == image, cut
    raises(bundle.BundleError, r.restart, 100)  # a bundle cannot resume mid-file


def test_bad_bundles_are_refused():
    image = b"\xe9" * 100
    good = bundle.pack(image, "PEM", "c2ln")
    raises(bundle.BundleError, read, b"NOTSIG01" + good[8:], 64)
    raises(bundle.BundleError, read, good[:8] + struct.pack(">I", 10 ** 6) + good[12:], 64)
    raises(bundle.BundleError, read, good[:20], 64)  # ends inside the header
    raises(bundle.BundleError, read, bundle.MAGIC + struct.pack(">I", 4) + b"[1,2", 64)
    bad_json = bundle.MAGIC + struct.pack(">I", 9) + b'{"a": 1}x' + image
    raises(bundle.BundleError, read, bad_json, 64)
    r = reader()[0]
    r.space()
    raises(bundle.BundleError, r.commit, 13)  # more than the space it offered
