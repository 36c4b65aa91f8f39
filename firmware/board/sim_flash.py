# File-backed OTA app slots with the esp32.Partition interface, for the simulated board.
"""Two app slots (`ota_0`, `ota_1`) as files in <state>/ota, and the boot selection.

`FilePartition` answers the calls the firmware makes on `esp32.Partition`: readblocks,
writeblocks, ioctl, info, set_boot, get_next_update and mark_app_valid_cancel_rollback.
The boot selection lives in <state>/ota/otadata, written power-loss safe, as the ESP32 keeps
it in its otadata partition.
"""

import json
import os

import atomicfile

BLOCK = 4096
SLOT_BLOCKS = 384  # 1.5 MiB, as in the ESP32_GENERIC OTA partition table
LABELS = ("ota_0", "ota_1")


class OtaData:
    """Which slot boots, and whether the running image has confirmed itself."""

    def __init__(self, folder):
        self.path = folder + "/otadata"
        raw = atomicfile.read(self.path)
        data = json.loads(raw) if raw else {}
        self.boot = data.get("boot", LABELS[0])
        self.valid = data.get("valid", True)

    def save(self):
        atomicfile.write(self.path, json.dumps({"boot": self.boot, "valid": self.valid}))


class FilePartition:
    def __init__(self, folder, label, otadata):
        self.folder = folder
        self.label = label
        self.path = folder + "/" + label + ".bin"
        self.otadata = otadata

    def info(self):
        # (type, subtype, address, size, label, encrypted) as esp32.Partition.info()
        return (0, 0x10 + LABELS.index(self.label), 0, SLOT_BLOCKS * BLOCK, self.label, False)

    def ioctl(self, op, arg=0):
        if op == 4:
            return SLOT_BLOCKS
        if op == 5:
            return BLOCK
        return 0

    def _file(self):
        if not atomicfile.exists(self.path):
            with open(self.path, "wb"):
                pass
        return open(self.path, "r+b")

    def readblocks(self, block_num, buf, offset=0):
        pos = block_num * BLOCK + offset
        with self._file() as f:
            f.seek(pos)
            got = f.readinto(buf) or 0
        for i in range(got, len(buf)):
            buf[i] = 0xFF  # erased flash reads as 0xFF
        return True

    def writeblocks(self, block_num, buf, offset=None):
        if offset is None:  # like the ESP32: erase the block first, then write
            offset = 0
            if len(buf) < BLOCK:
                buf = bytes(buf) + b"\xff" * (BLOCK - len(buf))
        pos = block_num * BLOCK + offset
        if pos + len(buf) > SLOT_BLOCKS * BLOCK:
            raise OSError(28)  # ENOSPC: past the end of the slot
        with self._file() as f:
            f.seek(pos)
            f.write(buf)
            if hasattr(os, "fsync"):
                f.flush()
                os.fsync(f.fileno())

    def get_next_update(self):
        other = LABELS[1 - LABELS.index(self.label)]
        return FilePartition(self.folder, other, self.otadata)

    def set_boot(self):
        self.otadata.boot = self.label
        self.otadata.valid = False  # the new image must confirm itself after it boots
        self.otadata.save()

    def mark_app_valid_cancel_rollback(self):
        self.otadata.valid = True
        self.otadata.save()


def running_partition(folder):
    """The slot the simulated bootloader started."""
    atomicfile.makedirs(folder)
    otadata = OtaData(folder)
    return FilePartition(folder, otadata.boot, otadata)
