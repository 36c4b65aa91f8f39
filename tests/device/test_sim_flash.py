# Device tests of the simulated OTA slots: blocks read back, boot selection persists.
from devtest import tempdir
from firmware.board import sim_flash


def test_blocks_write_and_read_back_erased_as_ff():
    folder = tempdir()
    running = sim_flash.running_partition(folder)
    assert running.info()[4] == "ota_0"
    nxt = running.get_next_update()
    assert nxt.info()[4] == "ota_1"
    assert nxt.ioctl(4, 0) == 384 and nxt.ioctl(5, 0) == 4096
    buf = bytearray(4096)
    nxt.readblocks(7, buf)
    assert buf == b"\xff" * 4096  # never written: erased flash
    nxt.writeblocks(7, b"\xe9" + b"\x01" * 10)  # erase + write a short buffer
    nxt.readblocks(7, buf)
    assert buf[0] == 0xE9 and buf[10] == 1 and buf[11] == 0xFF


def test_writing_past_the_slot_fails():
    nxt = sim_flash.running_partition(tempdir()).get_next_update()
    try:
        nxt.writeblocks(384, bytearray(4096))
    except OSError:
        pass
    else:
        raise AssertionError("wrote past the slot")


def test_set_boot_switches_slot_after_restart_and_needs_confirmation():
    folder = tempdir()
    running = sim_flash.running_partition(folder)
    running.get_next_update().set_boot()
    again = sim_flash.running_partition(folder)  # what the next boot sees
    assert again.info()[4] == "ota_1"
    assert again.otadata.valid is False
    again.mark_app_valid_cancel_rollback()
    assert sim_flash.running_partition(folder).otadata.valid is True
