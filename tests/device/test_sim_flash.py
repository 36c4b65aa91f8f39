# Device tests of the simulated OTA slots: blocks, set_boot's image check, the rollback states.
from devtest import raises, rmtree, tempdir
from firmware.sim import flash as sim_flash
from firmware.sim.board import SimBoard
from test_ota_image import make_image


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
    rmtree(folder)


def test_writing_past_the_slot_fails():
    folder = tempdir()
    nxt = sim_flash.running_partition(folder).get_next_update()
    try:
        nxt.writeblocks(384, bytearray(4096))
    except OSError:
        pass
    else:
        raise AssertionError("wrote past the slot")
    rmtree(folder)


def flash(slot, img):
    """Write an image into a slot as the OTA writer does: whole blocks, 0xFF padded."""
    img = bytes(img)
    for n in range((len(img) + 4095) // 4096):
        slot.writeblocks(n, img[n * 4096:(n + 1) * 4096])


def install(folder, version="2.0.0", project="cp-test"):
    """Write a valid image into the next slot and make it the boot slot."""
    nxt = sim_flash.running_partition(folder, bootloader=False).get_next_update()
    flash(nxt, make_image(version, project, data_len=6000))
    nxt.set_boot()
    return nxt.info()[4]


def states(folder):
    od = sim_flash.OtaData(folder)
    return od.boot, od.running, od.state("ota_0"), od.state("ota_1")


def test_set_boot_switches_slot_after_restart_and_needs_confirmation():
    folder = tempdir()
    running = sim_flash.running_partition(folder)
    nxt = running.get_next_update()
    flash(nxt, make_image())
    nxt.set_boot()
    assert states(folder) == ("ota_1", "ota_0", "undefined", "new"), states(folder)
    again = sim_flash.running_partition(folder)  # what the next boot sees
    assert again.info()[4] == "ota_1"
    assert again.otadata.valid is False
    assert states(folder)[3] == "pending_verify", states(folder)
    again.mark_app_valid_cancel_rollback()
    assert sim_flash.running_partition(folder).otadata.valid is True
    rmtree(folder)


def test_set_boot_refuses_invalid_images():
    folder = tempdir()
    nxt = sim_flash.running_partition(folder).get_next_update()
    e = raises(OSError, nxt.set_boot)  # nothing written: erased flash
    assert e.args[0] == -0x1503 and "0xE9" in e.args[1], repr(e.args)
    img = make_image()
    img[1000] ^= 0x10  # one bit of segment data: the checksum says so
    flash(nxt, img)
    e = raises(OSError, nxt.set_boot)
    assert "checksum" in e.args[1], repr(e.args)
    flash(nxt, make_image()[:-40])  # cut short: what follows is erased flash
    raises(OSError, nxt.set_boot)
    assert states(folder) == ("ota_0", "ota_0", "undefined", "undefined"), states(folder)
    assert sim_flash.running_partition(folder).info()[4] == "ota_0"
    rmtree(folder)


def test_unconfirmed_image_rolls_back_at_the_next_start():
    folder = tempdir()
    assert install(folder) == "ota_1"
    first = sim_flash.running_partition(folder)  # the new image starts ...
    assert first.info()[4] == "ota_1"
    # ... and never calls mark_app_valid_cancel_rollback: crash, hang, watchdog, power cut
    second = sim_flash.running_partition(folder)
    assert second.info()[4] == "ota_0", "rolled back to the old slot"
    assert states(folder) == ("ota_0", "ota_0", "undefined", "aborted"), states(folder)
    assert second.otadata.valid is True
    assert second.otadata.take_rollback() == "ota_1"
    assert second.otadata.take_rollback() is None, "reported once"
    assert sim_flash.running_partition(folder).otadata.take_rollback() is None
    assert sim_flash.running_partition(folder).info()[4] == "ota_0"
    rmtree(folder)


def test_confirmed_image_stays():
    folder = tempdir()
    install(folder, "2.0.0")
    sim_flash.running_partition(folder).mark_app_valid_cancel_rollback()
    for _ in range(3):
        p = sim_flash.running_partition(folder)
        assert p.info()[4] == "ota_1" and p.otadata.valid, states(folder)
    assert states(folder) == ("ota_1", "ota_1", "undefined", "valid"), states(folder)
    assert p.otadata.take_rollback() is None
    # the next update goes into the other slot, ota_0, and may roll back to ota_1
    assert p.get_next_update().info()[4] == "ota_0"
    assert install(folder, "3.0.0") == "ota_0"
    sim_flash.running_partition(folder)
    assert sim_flash.running_partition(folder).info()[4] == "ota_1"
    rmtree(folder)


def test_soft_reset_does_not_load_the_new_image():
    folder = tempdir()
    install(folder)
    soft = sim_flash.running_partition(folder, bootloader=False)
    assert soft.info()[4] == "ota_0", "a soft reset keeps the running image"
    assert states(folder)[3] == "new", states(folder)
    assert sim_flash.running_partition(folder).info()[4] == "ota_1"  # the hard reset does
    rmtree(folder)


def test_boot_slot_overwritten_after_set_boot_falls_back():
    folder = tempdir()
    nxt = sim_flash.running_partition(folder).get_next_update()
    flash(nxt, make_image())
    nxt.set_boot()
    nxt.writeblocks(0, bytearray(4096))  # a new download started over it before the reboot
    p = sim_flash.running_partition(folder)
    assert p.info()[4] == "ota_0" and p.otadata.take_rollback() == "ota_1"
    rmtree(folder)


def test_first_otadata_format_is_read():
    folder = tempdir()
    import atomicfile
    atomicfile.makedirs(folder)
    atomicfile.write(folder + "/otadata", '{"boot": "ota_1", "valid": true}')
    p = sim_flash.running_partition(folder)
    assert p.info()[4] == "ota_1" and p.otadata.valid
    rmtree(folder)


def board(folder, cause=None):
    import atomicfile
    if cause:
        atomicfile.makedirs(folder + "/sim")
        atomicfile.write(folder + "/sim/reset_cause", cause)
    return SimBoard({"connectors": 1}, state_dir=folder)


def test_sim_board_running_image_and_rolled_back():
    folder = tempdir()
    b = board(folder)
    assert b.running_image() is None, "the deployed firmware is no image in a slot"
    assert b.rolled_back() is False
    nxt = b.ota_next()
    flash(nxt, make_image("4.5.6", "charger"))
    nxt.set_boot()
    b = board(folder, "soft")  # a soft reset: the old image runs on
    assert b.running_image() is None and b.ota_running().info()[4] == "ota_0"
    b = board(folder, "hard")  # the hard reset loads it
    assert b.running_image() == ("4.5.6", "charger"), b.running_image()
    b = board(folder, "watchdog")  # it never called ota_mark_valid(): rollback
    assert b.running_image() is None and b.ota_running().info()[4] == "ota_0"
    assert b.rolled_back() is True
    assert b.rolled_back() is False, "once"
    rmtree(folder)


class _Exited(Exception):
    pass


async def test_sim_board_plays_the_crash_of_a_fail_after_boot_image():
    folder = tempdir()
    b = board(folder)
    nxt = b.ota_next()
    flash(nxt, make_image("6.6.6", "sim-fails-after-boot"))
    nxt.set_boot()
    b = board(folder, "hard")
    assert b.running_image() == ("6.6.6", "sim-fails-after-boot")
    exited = []

    def restart(cause):  # instead of ending the process with exit status 3
        exited.append(cause)
        raise _Exited()

    b._restart = restart
    try:
        await b.start()
    except _Exited:
        pass
    assert exited == ["watchdog"], exited
    b = board(folder, "watchdog")  # the runner starts it again: the bootloader rolls back
    assert b.ota_running().info()[4] == "ota_0" and b.rolled_back() is True
    assert not b._crashes_before_confirming()
    rmtree(folder)


def test_image_checks_read_through_the_shared_block_when_it_is_free():
    from sharedblock import SharedBlock
    folder = tempdir()
    try:
        block = SharedBlock()
        b = SimBoard({"connectors": 1}, state_dir=folder, block=block)
        assert b.block is block
        nxt = b.ota_next()
        img = make_image("4.5.7", "charger", data_len=6000)  # two blocks
        flash(nxt, img)
        block.borrow("firmware download")  # busy: set_boot checks with a block of its own
        before = bytearray(block.buf)  # (the board's own image check at start-up used it)
        nxt.set_boot()
        assert block.buf == before and block.holder == "firmware download"
        block.give()
        atomicfile_write(folder + "/sim/reset_cause", "hard")
        b = SimBoard({"connectors": 1}, state_dir=folder, block=block)  # the bootloader's check
        assert b.running_image() == ("4.5.7", "charger"), b.running_image()
        assert block.holder is None, "given back"
        last = bytearray(b"\xff" * 4096)  # the image's second block, as flash holds it
        last[:len(img) - 4096] = img[4096:]
        assert block.buf == last, "the check read the slot into the shared block"
    finally:
        rmtree(folder)


def atomicfile_write(path, data):
    import atomicfile
    atomicfile.makedirs(path[:path.rfind("/")])
    atomicfile.write(path, data)
