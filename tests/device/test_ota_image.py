# Device tests of the ESP32 app image check (lib/ota/image.py), fed whole and in odd chunks.
"""make_image() below builds test images on the device as well (tools/firmware_image.py is
host only); test_ota_writer and test_sim_flash import it from here."""

import hashlib

from devtest import needs, raises
from ota.image import ImageChecker, ImageError, check_partition, read_description

BLOCK = 4096


def _le32(v):
    return bytes([v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF])


def _put(buf, at, text):
    raw = text.encode()
    buf[at:at + len(raw)] = raw


def app_desc(version, project):
    d = bytearray(256)
    d[0:4] = _le32(0xABCD5432)
    _put(d, 16, version)
    _put(d, 48, project)
    _put(d, 80, "12:00:00")
    _put(d, 96, "Jan  1 2026")
    _put(d, 112, "v5.2.2")
    return d


def make_image(version="1.2.3", project="cp-test", data_len=3000, segments=2, chip=0,
               hash_appended=True, seed=0):
    """A valid ESP32 app image (bytearray): DROM segment with the app description at file
    offset 32, optionally a DRAM segment, checksum, appended SHA-256."""
    pattern = bytes([(i * 7 + seed) & 0xFF for i in range(256)])
    filler = (pattern * (data_len // 256 + 1))[:data_len & ~3]
    desc = app_desc(version, project)
    if segments == 1:
        segs = [(0x3F400020, desc + filler)]
    else:
        half = (len(filler) // 2) & ~3
        segs = [(0x3F400020, desc + filler[:half]), (0x3FFB0000, filler[half:])]
    hdr = bytearray(24)
    hdr[0] = 0xE9
    hdr[1] = len(segs)
    hdr[2] = 2
    hdr[3] = 0x20
    hdr[4:8] = _le32(0x40080400)
    hdr[8] = 0xEE
    hdr[12] = chip & 0xFF
    hdr[13] = chip >> 8
    hdr[17] = 399 & 0xFF
    hdr[18] = 399 >> 8
    hdr[23] = 1 if hash_appended else 0
    img = bytearray(hdr)
    x = 0xEF
    for addr, data in segs:
        img += _le32(addr) + _le32(len(data)) + data
        for b in data:
            x ^= b
    img += bytes(((len(img) + 16) & ~15) - 1 - len(img))
    img.append(x)
    if hash_appended:
        img += hashlib.sha256(img).digest()
    return img


def reseal(img):
    """Recompute checksum and appended hash after a header change (2-segment images)."""
    img = bytearray(img)
    end = len(img) - 32
    img[end:] = hashlib.sha256(img[:end]).digest()
    return img


def feed_in(chunks, img, **kw):
    chk = ImageChecker(**kw)
    i = 0
    k = 0
    while i < len(img):
        n = chunks[k % len(chunks)]
        chk.feed(memoryview(img)[i:i + n])
        i += n
        k += 1
    return chk.finish()


class MemPartition:
    """An esp32.Partition in RAM."""

    def __init__(self, blocks=64):
        self.blocks = blocks
        self.data = bytearray(b"\xff" * (blocks * BLOCK))
        self.writes = []

    def ioctl(self, op, arg):
        return self.blocks if op == 4 else BLOCK if op == 5 else 0

    def readblocks(self, n, buf):
        buf[:] = memoryview(self.data)[n * BLOCK:n * BLOCK + len(buf)]  # no copy on the way

    def writeblocks(self, n, buf):
        if len(buf) % BLOCK:
            raise OSError(22)  # the ESP32 erases whole 4 KiB sectors
        if n * BLOCK + len(buf) > len(self.data):
            raise OSError(28)
        self.writes.append(n)
        self.data[n * BLOCK:n * BLOCK + len(buf)] = buf


def test_valid_image_accepted_with_version_and_project():
    img = make_image("2.0.1-rc1", "charger-fw")
    info = feed_in([len(img)], img)
    assert info.version == "2.0.1-rc1", info.version
    assert info.project_name == "charger-fw", info.project_name
    assert info.size == len(img) and info.size % 16 == 0, info.size
    assert info.segments == 2 and info.hash_appended, repr(info)
    assert info.idf_ver == "v5.2.2" and info.date == "Jan  1 2026", info.idf_ver
    assert info.secure_version == 0 and len(info.elf_sha256) == 32


def test_odd_chunk_sizes_give_the_same_result():
    img = make_image(data_len=9000)
    for chunks in ([1], [7], [333, 1, 4096], [4095], [4097], [31, 33]):
        info = feed_in(chunks, img)
        assert info.version == "1.2.3" and info.size == len(img), repr(chunks)


def test_one_segment_and_no_appended_hash():
    assert feed_in([100], make_image(segments=1)).segments == 1
    info = feed_in([100], make_image(hash_appended=False))
    assert not info.hash_appended and info.size % 16 == 0, repr(info)


def test_wrong_magic_refused_at_once():
    img = make_image()
    img[0] = 0xEA
    chk = ImageChecker()
    e = raises(ImageError, chk.feed, img[:24])
    assert "0xE9" in str(e), str(e)
    raises(ImageError, chk.feed, img[24:])  # the same error again
    raises(ImageError, chk.finish)


def test_other_chip_refused():
    img = reseal(make_image(chip=2))
    e = raises(ImageError, ImageChecker().feed, img)
    assert "chip id 2" in str(e), str(e)


def test_checksum_mismatch_refused():
    img = make_image()
    end = len(img) - 33  # the checksum byte
    img[end] ^= 0x01
    e = raises(ImageError, feed_in, [512], img)
    assert "checksum" in str(e), str(e)
    img = make_image()
    img[500] ^= 0x40  # one bit of segment data
    e = raises(ImageError, feed_in, [512], img)
    assert "checksum" in str(e), str(e)


def test_appended_hash_mismatch_refused():
    img = make_image()
    img[-1] ^= 0xFF
    e = raises(ImageError, feed_in, [4096], img)
    assert "SHA-256" in str(e), str(e)
    img = make_image()
    img[8] = 0x00  # a header byte the checksum does not cover: only the hash sees it
    e = raises(ImageError, feed_in, [4096], img)
    assert "SHA-256" in str(e), str(e)


def test_truncated_image_refused():
    img = make_image()
    for cut in (10, 33, 40, len(img) - 24, len(img) - 1):
        chk = ImageChecker()
        chk.feed(img[:len(img) - cut])
        e = raises(ImageError, chk.finish)
        assert "truncated" in str(e), str(e)


def test_bad_structure_refused():
    img = make_image()
    img[1] = 0  # no segments
    assert "segments" in str(raises(ImageError, ImageChecker().feed, img))
    img = make_image()
    img[1] = 17
    assert "segments" in str(raises(ImageError, ImageChecker().feed, img))
    img = make_image()
    img[28] |= 1  # first segment length not a multiple of 4
    assert "multiple of 4" in str(raises(ImageError, ImageChecker().feed, img))
    img = make_image()
    img[24:28] = _le32(0x3F400040)  # DROM mapped at another page offset than in the file
    assert "mapped" in str(raises(ImageError, ImageChecker().feed, img))
    img = make_image()
    img[24:28] = _le32(0x60000000)
    assert "memory" in str(raises(ImageError, ImageChecker().feed, img))
    img = make_image()
    img[32] = 0  # app description magic
    assert "app description" in str(raises(ImageError, ImageChecker().feed, img[:40]))


def test_trailing_bytes_and_size_limit():
    img = make_image()
    e = raises(ImageError, ImageChecker().feed, img + b"\xff")
    assert "after the end" in str(e), str(e)
    chk = ImageChecker(trailing_ok=True)
    assert chk.feed(img + b"\xff" * 100) == len(img)
    assert chk.finish().size == len(img)
    e = raises(ImageError, ImageChecker(max_size=len(img) - 1).feed, img)
    assert "larger than the partition" in str(e), str(e)


def test_check_partition_and_read_description():
    part = MemPartition(blocks=4)
    img = make_image(version="9.9.9", data_len=9000)
    part.data[:len(img)] = img
    info = check_partition(part)
    assert info.version == "9.9.9" and info.size == len(img), repr(info)
    assert read_description(part) == ("9.9.9", "cp-test")
    part.data[len(img) - 1] ^= 1
    raises(ImageError, check_partition, part)
    assert read_description(MemPartition(blocks=1)) is None  # erased: no image
    half = MemPartition(blocks=4)  # a download cut short: erased flash after byte 5000
    half.data[:5000] = img[:5000]
    raises(ImageError, check_partition, half)


@needs("tools.firmware_image")
def test_firmware_image_tool_output_passes():
    from tools.firmware_image import FAIL_AFTER_BOOT, build
    for size, segments in ((None, 2), (200000, 2), (200000, 1), (1572864, 2)):
        img = build("1.2.3", size, project="cp-fw", segments=segments)
        info = feed_in([4096], img, max_size=1572864)
        assert info.version == "1.2.3" and info.project_name == "cp-fw", repr(info)
        assert size is None or len(img) == size, len(img)
    info = feed_in([1000], build("0.0.1", 5000, fail_after_boot=True))
    assert info.project_name == FAIL_AFTER_BOOT, info.project_name


def test_check_partition_and_read_description_read_into_the_given_block():
    part = MemPartition(blocks=4)
    img = make_image(version="9.9.8", data_len=6000)  # two blocks
    part.data[:len(img)] = img
    buf = bytearray(BLOCK)
    assert read_description(part, buf) == ("9.9.8", "cp-test")
    assert buf == part.data[:BLOCK], "block 0 read into buf"
    gc = __import__("gc")
    measure = hasattr(gc, "mem_alloc")  # MicroPython: no block allocated besides buf
    if measure:
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()  # type: ignore
    try:
        info = check_partition(part, buf)
        grown = gc.mem_alloc() - before if measure else 0  # type: ignore
    finally:
        if measure:
            gc.enable()
    assert info.version == "9.9.8" and buf == part.data[BLOCK:2 * BLOCK], "block 1 last"
    assert grown < BLOCK, grown
