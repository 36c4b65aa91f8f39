# ESP32 app image check, fed block by block while the image streams: the bootloader's checks.
"""What `esp32.Partition.set_boot()` and the ESP32 bootloader check, done before either runs,
on an image that is never held in RAM:

    chk = ImageChecker(max_size=slot_bytes)
    chk.feed(chunk)             # any chunk sizes; raises ImageError at the first bad byte
    info = chk.finish()         # ImageInfo (version, project_name, ...) or ImageError
    info = check_partition(p)   # the same over an esp32.Partition, read back block by block
    desc = read_description(p)  # (version, project_name) from the first block only: no check

The layout (ESP-IDF esp_image_format.h, esp_app_desc.h):

    0   esp_image_header_t, 24 bytes: magic 0xE9, segment count (at most 16), SPI mode/speed,
        entry address, ..., chip id (u16 at 12: 0 is the ESP32), ..., hash_appended (byte 23)
    24  segments, each an 8-byte header (load address, data length; little-endian u32) and
        its data; the length is a multiple of 4, below 16 MiB
    32  the first segment's data starts with esp_app_desc_t: magic 0xABCD5432, secure_version,
        2 reserved words, version[32], project_name[32], time[16], date[16], idf_ver[32],
        app_elf_sha256[32], ... (256 bytes)
    ..  zero padding so that the checksum byte is the last byte of a 16-byte block; checksum =
        0xEF XOR every byte of the segment data (not the headers)
    ..  with hash_appended = 1: SHA-256 of everything from byte 0 to the checksum, 32 bytes

Checked as the bootloader does: magic, chip id, segment count, segment length (multiple of 4,
< 16 MiB), a flash-mapped segment (IROM/DROM) lying at the same offset in its 64 KiB MMU page
in the file as in memory, load addresses in the ESP32's memory map, checksum, appended
SHA-256, the whole image no larger than the slot. Stricter than the bootloader: the app
description must be there (it carries the version the firmware reports), and a streamed file
must end where the image ends (a check of a partition ignores what follows). Not checked:
chip revision limits (the running chip's revision is not known here) and secure boot.
"""

import hashlib
import struct

MAGIC = 0xE9
CHIP_ESP32 = 0
MAX_SEGMENTS = 16
APP_DESC_MAGIC = 0xABCD5432
HEADER_LEN = 24
SEGMENT_HEADER_LEN = 8
APP_DESC_AT = 32
HASH_LEN = 32
BLOCK = 4096
_CHECKSUM_SEED = 0xEF
_DESC_KEEP = 176  # the app description up to the end of app_elf_sha256
_SIXTEEN_MB = 0x1000000
_MMU_PAGE = 0x10000

# ESP32 memory map, from ESP-IDF soc.h: flash-mapped ranges (checked for page alignment) and
# everything a segment may be loaded to. Load addresses below 0x10000000 are not loaded at
# all (esptool's padding segments use 0).
_MAPPED = ((0x3F400000, 0x3F800000), (0x400D0000, 0x40400000))  # DROM, IROM
_LOADED = ((0x3FF80000, 0x400C2000), (0x50000000, 0x50002000))  # RTC fast, DRAM, IRAM; RTC slow

# feed() states
_HEADER = 0
_SEG_HEADER = 1
_SEG_DATA = 2
_PAD = 3
_CHECKSUM = 4
_HASH = 5
_DONE = 6


class ImageError(ValueError):
    """The image is not one the ESP32 bootloader would start; str(e) says why."""


class ImageInfo:
    """What an image says about itself, once checked."""

    def __init__(self, size, segments, entry, hash_appended, desc):
        self.size = size  # bytes, the appended hash included
        self.segments = segments
        self.entry = entry
        self.hash_appended = hash_appended
        self.secure_version = struct.unpack_from("<I", desc, 4)[0]
        self.version = _cstr(desc, 16, 32)
        self.project_name = _cstr(desc, 48, 32)
        self.time = _cstr(desc, 80, 16)
        self.date = _cstr(desc, 96, 16)
        self.idf_ver = _cstr(desc, 112, 32)
        self.elf_sha256 = bytes(desc[144:176])

    def __repr__(self):
        return "<ImageInfo %s %s, %d bytes, %d segments>" % (
            self.project_name, self.version, self.size, self.segments)


def _cstr(buf, at, n):
    # A C char[n]: up to the first NUL. Undecodable bytes become "?" rather than an error:
    # the version is reported to the central system, not trusted.
    raw = bytes(buf[at:at + n])
    end = raw.find(b"\x00")
    if end >= 0:
        raw = raw[:end]
    try:
        return raw.decode()
    except UnicodeError:
        return "".join([chr(b) if 32 <= b < 127 else "?" for b in raw])


def _u32(buf, at):
    return buf[at] | buf[at + 1] << 8 | buf[at + 2] << 16 | buf[at + 3] << 24


def _in(ranges, start, end):
    for low, high in ranges:
        if low <= start and end <= high:
            return True
    return False


class ImageChecker:
    """Incremental check of an ESP32 app image. feed() raises ImageError as soon as a byte
    is wrong; finish() raises it when the image is incomplete. After an error every call
    raises the same error again.

    Memory: two small buffers and one SHA-256 state, whatever the image size; a chunk that
    lies inside one segment's data is checked without allocating anything."""

    def __init__(self, max_size=None, trailing_ok=False):
        self.max_size = max_size  # the slot size: a larger image is refused
        self.trailing_ok = trailing_ok  # a partition: bytes after the image are not ours
        self.pos = 0  # bytes of the image consumed
        self.error = None
        self._state = _HEADER
        self._hdr = bytearray(HEADER_LEN)
        self._seg = bytearray(SEGMENT_HEADER_LEN)
        self._desc = bytearray(_DESC_KEEP)
        self._digest = bytearray(HASH_LEN)
        self._got = 0  # bytes collected of the header being read (image, segment, hash)
        self._left = 0  # bytes left in the segment data or the padding
        self._segments = 0
        self._index = 0  # segment being read
        self._xor = _CHECKSUM_SEED
        self._sha = hashlib.sha256()
        self._sha_digest = None
        self._info = None

    @property
    def done(self):
        return self._state == _DONE

    def _fail(self, reason):
        self.error = ImageError(reason)
        raise self.error

    def feed(self, data):
        """Check the next bytes; returns how many belong to the image (all of them until it
        ends; with trailing_ok the rest is ignored, else it is an ImageError)."""
        if self.error is not None:
            raise self.error
        n = len(data)
        hashing = self._state < _HASH  # every byte up to the checksum goes into the SHA-256
        i = 0
        while i < n:
            st = self._state
            if st == _SEG_DATA:  # the hot path: a whole chunk is usually segment data
                k = self._left if self._left < n - i else n - i
                x = self._xor
                if i == 0 and k == n:
                    for b in data:  # iterates without an allocation, unlike a slice
                        x ^= b
                else:
                    for j in range(i, i + k):
                        x ^= data[j]
                self._xor = x
                if self._index == 0 and self.pos < _DESC_KEEP + APP_DESC_AT:
                    self._keep_desc(data, i, k)
                self.pos += k
                self._left -= k
                i += k
                if not self._left:
                    self._end_segment()
            elif st == _HEADER or st == _SEG_HEADER or st == _HASH:
                buf = self._hdr if st == _HEADER else self._seg if st == _SEG_HEADER \
                    else self._digest
                need = len(buf)
                got = self._got
                while got < need and i < n:
                    buf[got] = data[i]
                    got += 1
                    i += 1
                self.pos += got - self._got
                self._got = got
                if got == need:
                    self._got = 0
                    if st == _HEADER:
                        self._check_header()
                    elif st == _SEG_HEADER:
                        self._check_segment_header()
                    else:
                        self._check_hash()
            elif st == _PAD:
                k = self._left if self._left < n - i else n - i
                self.pos += k
                self._left -= k
                i += k
                if not self._left:
                    self._state = _CHECKSUM
            elif st == _CHECKSUM:
                self.pos += 1
                if data[i] != self._xor:
                    self._fail("checksum mismatch: image says 0x%02x, data gives 0x%02x"
                               % (data[i], self._xor))
                i += 1
                if self._sha is not None:
                    # The hash ends with the checksum: update now, the digest may follow in
                    # this same chunk.
                    self._sha.update(data if i == n else memoryview(data)[:i])  # no copy
                    self._state = _HASH
                else:
                    self._state = _DONE
                self._sha_end()
                hashing = False
            else:  # _DONE
                if not self.trailing_ok:
                    self._fail("%d bytes after the end of the image" % (n - i))
                break
            if self.max_size is not None and self.pos > self.max_size:
                self._fail("image larger than the partition (%d bytes)" % self.max_size)
        if hashing and self._sha is not None:
            self._sha.update(data)
        return i

    def _sha_end(self):
        # The digest of the hashed part is all that is needed from here on.
        if self._state == _HASH:
            self._sha_digest = self._sha.digest()
        self._sha = None

    def _keep_desc(self, data, i, k):
        at = self.pos - APP_DESC_AT
        d = self._desc
        j = i
        while at < _DESC_KEEP and j < i + k:
            d[at] = data[j]
            at += 1
            j += 1
            if at == 4 and _u32(d, 0) != APP_DESC_MAGIC:  # refuse early, not after 1 MiB
                self._fail("no app description at offset 32 (magic 0x%08x, not 0xABCD5432)"
                           % _u32(d, 0))

    def _check_header(self):
        h = self._hdr
        if h[0] != MAGIC:
            self._fail("not an ESP32 app image: first byte 0x%02x, not 0xE9" % h[0])
        chip = h[12] | h[13] << 8
        if chip != CHIP_ESP32:
            self._fail("image is for chip id %d, not the ESP32 (0)" % chip)
        self._segments = h[1]
        if not 0 < h[1] <= MAX_SEGMENTS:
            self._fail("image has %d segments (1 to %d allowed)" % (h[1], MAX_SEGMENTS))
        if h[23] > 1:
            self._fail("image header: hash_appended is %d" % h[23])
        if not h[23]:
            self._sha = None  # nothing to compare a digest with
        self._state = _SEG_HEADER

    def _check_segment_header(self):
        s = self._seg
        addr = _u32(s, 0)
        length = _u32(s, 4)
        where = "segment %d" % self._index
        if length & 3 or length >= _SIXTEEN_MB:
            self._fail("%s: length %d is not a multiple of 4 below 16 MiB" % (where, length))
        # pos is now the data's offset in the partition: partitions start on 64 KiB, so this
        # is the MMU page offset the bootloader compares.
        if _in(_MAPPED, addr, addr) and self.pos % _MMU_PAGE != addr % _MMU_PAGE:
            self._fail("%s: mapped at 0x%08x but at offset 0x%x in the image"
                       % (where, addr, self.pos))
        if addr >= 0x10000000 and not (_in(_MAPPED, addr, addr + length)
                                       or _in(_LOADED, addr, addr + length)):
            self._fail("%s: load address 0x%08x..0x%08x outside the ESP32's memory"
                       % (where, addr, addr + length))
        if self._index == 0 and length < _DESC_KEEP:
            self._fail("no app description: first segment has only %d bytes" % length)
        self._left = length
        self._state = _SEG_DATA
        if not length:
            self._end_segment()

    def _end_segment(self):
        self._index += 1
        if self._index < self._segments:
            self._state = _SEG_HEADER
            return
        # Pad so that the checksum byte is the last of a 16-byte block.
        self._left = ((self.pos + 16) & ~15) - 1 - self.pos
        self._state = _PAD if self._left else _CHECKSUM

    def _check_hash(self):
        if self._sha_digest != bytes(self._digest):
            self._fail("appended SHA-256 does not match the image")
        self._state = _DONE

    def finish(self):
        """ImageInfo of the whole image; ImageError if it is incomplete or was refused."""
        if self.error is not None:
            raise self.error
        if self._state != _DONE:
            self._fail("image truncated after %d bytes" % self.pos)
        if self._info is None:
            h = self._hdr
            self._info = ImageInfo(self.pos, self._segments, _u32(h, 4), h[23] == 1,
                                   self._desc)
        return self._info


def check_partition(partition, buf=None):
    """ImageInfo of the image in `partition` (esp32.Partition interface), read back block by
    block into `buf` (a 4096-byte bytearray, allocated when not given); ImageError if the
    bootloader would refuse it."""
    blocks = partition.ioctl(4, 0)
    chk = ImageChecker(max_size=blocks * BLOCK, trailing_ok=True)
    buf = buf if buf is not None else bytearray(BLOCK)
    for n in range(blocks):
        partition.readblocks(n, buf)
        chk.feed(buf)
        if chk.done:
            break
    return chk.finish()


def read_description(partition, buf=None):
    """(version, project_name) from the app description in the first block of `partition`,
    or None when there is no app image; checks the header and the description magic only,
    so it costs one block read (for the running image, which the bootloader has checked)."""
    buf = buf if buf is not None else bytearray(BLOCK)
    partition.readblocks(0, buf)
    if buf[0] != MAGIC or _u32(buf, APP_DESC_AT) != APP_DESC_MAGIC:
        return None
    return _cstr(buf, APP_DESC_AT + 16, 32), _cstr(buf, APP_DESC_AT + 48, 32)
