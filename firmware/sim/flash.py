# File-backed OTA app slots with the esp32.Partition interface, and the bootloader's rollback.
"""Two app slots (`ota_0`, `ota_1`) as files in <state>/ota, and the boot selection.

`FilePartition` answers the calls the firmware makes on `esp32.Partition`: readblocks,
writeblocks, ioctl, info, set_boot, get_next_update and mark_app_valid_cancel_rollback.
The boot selection lives in <state>/ota/otadata, written power-loss safe (atomicfile), as the
ESP32 keeps it in its otadata partition.

The ESP32 bootloader with app rollback (enabled in every MicroPython ESP32 build), modelled:

- `set_boot()` checks the slot's image as esp_ota_set_boot_partition does (ota.image: header,
  chip id, segments, checksum, appended SHA-256; not who made it) and raises OSError like the
  ESP32 when it is not valid. A valid slot becomes the boot slot in state `new`. On the board
  that check is C code (some 0.1 s for 1.5 MiB); here it is Python that holds the loop 90 ms
  of host time, about 200 times the board's share, so the stall meter of `make bench`
  leaves it out (firmware/sim/stall.py, emulating()).
- `running_partition(folder)` is the bootloader starting the firmware: a boot slot in state
  `new` becomes `pending_verify` and runs; a boot slot still `pending_verify` at the next
  start never confirmed itself (it crashed, hung, or was reset before its self-test passed):
  it becomes `aborted` and the other slot, the old firmware, boots instead. The rollback is
  recorded until `take_rollback()` so the old firmware can report InstallationFailed.
- `mark_app_valid_cancel_rollback()` makes the running slot `valid`.
- A slot never written by an update (the firmware as deployed) is `undefined`, which the
  bootloader treats as valid.

Only a hard reset runs the bootloader. On the real ESP32 a soft reset (machine.soft_reset,
Ctrl-D) restarts MicroPython inside the same app image: a new boot slot is not loaded and the
states do not move. So the update manager must reboot into a new image with machine.reset()
(Board.reset(hard=True)); the simulated board passes bootloader=False after a soft reset.
"""

import json
import os

import atomicfile

BLOCK = 4096
SLOT_BLOCKS = 384  # 1.5 MiB, as in the ESP32_GENERIC OTA partition table
LABELS = ("ota_0", "ota_1")

# ESP-IDF's esp_ota_img_states_t, by name
UNDEFINED = "undefined"
NEW = "new"
PENDING_VERIFY = "pending_verify"
VALID = "valid"
ABORTED = "aborted"

ESP_ERR_OTA_VALIDATE_FAILED = 0x1503  # set_boot raises OSError(-0x1503) on the ESP32


def _other(label):
    return LABELS[1 - LABELS.index(label)]


class OtaData:
    """Which slot boots next, which one runs, each slot's state, and a rollback not yet
    reported."""

    def __init__(self, folder):
        self.path = folder + "/otadata"
        raw = atomicfile.read(self.path)
        data = json.loads(raw) if raw else {}
        self.boot = data.get("boot", LABELS[0])  # the slot the bootloader starts next
        self.running = data.get("running", self.boot)  # the slot it started last
        self.states = data.get("states")
        if self.states is None:  # the first format: one "valid" flag for the boot slot
            self.states = {}
            if not data.get("valid", True):
                self.states[self.boot] = PENDING_VERIFY
        self.rollback = data.get("rollback")  # the slot rolled back from, until taken

    def state(self, label):
        return self.states.get(label, UNDEFINED)

    @property
    def valid(self):
        """The running image has confirmed itself (or never had to)."""
        return self.state(self.running) in (VALID, UNDEFINED)

    def save(self):
        atomicfile.write(self.path, json.dumps({
            "boot": self.boot, "running": self.running, "states": self.states,
            "rollback": self.rollback}))

    def take_rollback(self):
        """The label of the slot the bootloader rolled back from, once; then None."""
        label = self.rollback
        if label is not None:
            self.rollback = None
            self.save()
        return label


class FilePartition:
    def __init__(self, folder, label, otadata, block=None):
        self.folder = folder
        self.label = label
        self.path = folder + "/" + label + ".bin"
        self.otadata = otadata
        self.block = block  # lib/sharedblock.SharedBlock for check_image(), or None

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
        # NB the ESP32 erases len(buf) bytes, which must be a multiple of 4096 there; this
        # model pads a short buffer instead (more lenient than the hardware).
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
        return FilePartition(self.folder, _other(self.label), self.otadata, self.block)

    def check_image(self):
        """ota.image.ImageInfo of this slot's image; ota.image.ImageError if invalid. Read
        through the shared block when it is free (the ESP32's bootloader and set_boot use no
        Python heap at all), else through a block of its own."""
        from ota.image import check_partition
        block = self.block
        if block is None or block.holder is not None:
            return check_partition(self)
        buf = block.borrow("image check")
        try:
            return check_partition(self, buf)
        finally:
            block.give()

    def set_boot(self):
        from ota.image import ImageError
        from firmware.sim.stall import emulating
        try:
            with emulating():  # C on the board: not the firmware's time (make bench)
                self.check_image()
        except ImageError as e:
            # The ESP32 says only the number; the reason helps whoever reads the sim's log.
            raise OSError(-ESP_ERR_OTA_VALIDATE_FAILED, "ESP_ERR_OTA_VALIDATE_FAILED: " + str(e))
        od = self.otadata
        od.boot = self.label
        od.states[self.label] = NEW  # it must confirm itself after it has booted
        od.rollback = None  # an older rollback is no news about this update
        od.save()

    def mark_app_valid_cancel_rollback(self):
        # A static method on the ESP32: it always concerns the running slot.
        od = self.otadata
        if od.state(od.running) != VALID:
            od.states[od.running] = VALID
            od.save()


def _bootable(folder, label, otadata, block=None):
    try:
        FilePartition(folder, label, otadata, block).check_image()
        return True
    except ValueError:  # ota.image.ImageError
        return False


def boot(folder, otadata, block=None):
    """The bootloader's choice of slot at a hard start; updates and saves `otadata`."""
    before = otadata.boot, otadata.running, otadata.state(otadata.boot)
    label = otadata.boot
    state = otadata.state(label)
    if state == NEW and _bootable(folder, label, otadata, block):
        otadata.states[label] = PENDING_VERIFY  # this start is its one chance to confirm
    elif state in (NEW, PENDING_VERIFY):
        # NEW but no longer a valid image (overwritten since set_boot), or started before
        # and never confirmed: roll back to the other slot, the old firmware.
        otadata.states[label] = ABORTED
        otadata.rollback = label
        state = ABORTED
    if state == ABORTED:
        label = _other(label)
        otadata.boot = label
    otadata.running = label
    if (otadata.boot, otadata.running, otadata.state(before[0])) != before:
        otadata.save()
    return label


def running_partition(folder, bootloader=True, block=None):
    """The slot the simulated bootloader started. bootloader=False after a soft reset: the
    image that ran before runs on, nothing changes (as on the ESP32). `block`: the shared
    block the slots' image checks borrow (lib/sharedblock.py), or None."""
    atomicfile.makedirs(folder)
    otadata = OtaData(folder)
    label = boot(folder, otadata, block) if bootloader else otadata.running
    return FilePartition(folder, label, otadata, block)
