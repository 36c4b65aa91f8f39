#!/usr/bin/env python3
# Host tool: make ESP32 app images for the simulated board's OTA slots and the update tests.
"""Build a structurally valid ESP32 app image (what the bootloader and esp32.Partition.set_boot
accept; it runs nowhere) with a chosen version, project name and size:

    python tools/firmware_image.py --version 1.2.3 --size 200000 -o fw.bin
    python tools/firmware_image.py --version 1.2.4 -o bad.bin --fail-after-boot

The layout is what esptool writes (see lib/ota/image.py): the 24-byte header (magic 0xE9,
chip id 0 = ESP32, hash_appended = 1), one or two segments (a flash-mapped DROM segment at
0x3F400020 whose data starts with the 256-byte esp_app_desc_t at file offset 32, then a
DRAM segment), zero padding, the XOR checksum as the last byte of a 16-byte block, and the
SHA-256 of all that appended. The segment data is deterministic filler derived from the
version, so two versions differ everywhere. --size is the file size, rounded up to a
multiple of 16 (an image always ends on one); the smallest image is about 300 bytes.

--fail-after-boot sets the project name to "sim-fails-after-boot". The simulated board
(firmware/sim/board.py) treats an image with that name as firmware that crashes on its first
start before it can confirm itself: SimBoard.start() logs a simulated crash and resets with
the watchdog cause; the next start finds the slot still pending_verify, so the simulated
bootloader rolls back to the old slot and SimBoard.rolled_back() is True once. The firmware
needs nothing special for it: the old firmware, running again, sees the rollback and reports
the update as InstallationFailed.

`build(version, ...)` returns the image as bytes for tests.
"""

import argparse
import hashlib
import struct
import sys

FAIL_AFTER_BOOT = "sim-fails-after-boot"
APP_DESC_MAGIC = 0xABCD5432
DROM_ADDR = 0x3F400020  # offset 0x20 in its 64 KiB page, as the data's offset 32 in the file
DRAM_ADDR = 0x3FFB0000
ENTRY = 0x40080400


def app_desc(version, project, secure_version=0, time="12:00:00", date="Jan  1 2026",
             idf_ver="v5.2.2"):
    """The 256-byte esp_app_desc_t."""
    def field(text, n):
        raw = text.encode()
        if len(raw) >= n:
            raise ValueError("%r is longer than %d bytes" % (text, n - 1))
        return raw + b"\x00" * (n - len(raw))

    desc = struct.pack("<III4x", APP_DESC_MAGIC, secure_version, 0) + field(version, 32) \
        + field(project, 32) + field(time, 16) + field(date, 16) + field(idf_ver, 32) \
        + hashlib.sha256(("elf " + project + version).encode()).digest()
    return desc + b"\x00" * (256 - len(desc))


def _filler(seed, n):
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 32  # 1 KiB per hash: quick for megabyte images
    return bytes(out[:n])


def build(version, size=None, project="micropython", fail_after_boot=False, segments=2,
          secure_version=0, idf_ver="v5.2.2"):
    """The image as bytes. size: the file size wanted (rounded up to a multiple of 16);
    None: the smallest image."""
    if fail_after_boot:
        project = FAIL_AFTER_BOOT
    if segments not in (1, 2):
        raise ValueError("segments must be 1 or 2")
    desc = app_desc(version, project, secure_version, idf_ver=idf_ver)
    # file = pad16(24 + 8 * segments + data + 1 checksum) + 32 hash: the largest data length
    # (a multiple of 4, as segment lengths must be) that still fits makes it exactly `size`.
    target = (size + 15) & ~15 if size else 0
    data_len = max(0, ((target - 33 - 24 - 8 * segments) & ~3) - len(desc))
    filler = _filler(project + version, data_len)
    if segments == 1:
        segs = [(DROM_ADDR, desc + filler)]
    else:
        first = (data_len // 2) & ~3
        segs = [(DROM_ADDR, desc + filler[:first]), (DRAM_ADDR, filler[first:])]
    header = struct.pack("<BBBBIB3sHBHH4xB", 0xE9, len(segs), 2, 0x20, ENTRY, 0xEE,
                         b"\x00\x00\x00", 0, 0, 0, 399, 1)
    body = bytearray(header)
    checksum = 0xEF
    for addr, data in segs:
        body += struct.pack("<II", addr, len(data)) + data
        for b in data:
            checksum ^= b
    body += b"\x00" * (((len(body) + 16) & ~15) - 1 - len(body))  # checksum ends a 16-block
    body.append(checksum)
    return bytes(body) + hashlib.sha256(body).digest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", required=True, help="the version string (at most 31 bytes)")
    ap.add_argument("--project", default="micropython", help="the project name")
    ap.add_argument("--size", type=int, help="file size in bytes (rounded up to 16)")
    ap.add_argument("--segments", type=int, choices=(1, 2), default=2)
    ap.add_argument("--fail-after-boot", action="store_true",
                    help='project "%s": the simulated board crashes before confirming it'
                    % FAIL_AFTER_BOOT)
    ap.add_argument("-o", "--output", required=True, help="the image file to write")
    args = ap.parse_args(argv)
    image = build(args.version, args.size, args.project, args.fail_after_boot, args.segments)
    with open(args.output, "wb") as f:
        f.write(image)
    print("%s: %d bytes, version %s, project %s" % (
        args.output, len(image), args.version,
        FAIL_AFTER_BOOT if args.fail_after_boot else args.project))
    return 0


if __name__ == "__main__":
    sys.exit(main())
