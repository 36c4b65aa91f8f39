# Device tests of the shared block buffer (lib/sharedblock.py): one holder, waits, bounds.
import asyncio

from devtest import raises
from sharedblock import BLOCK, BlockBusy, SharedBlock
from ticks import sleep_ms, ticks_diff, ticks_ms


def test_one_buffer_lent_to_one_holder_at_a_time():
    block = SharedBlock()
    buf = block.borrow("image check")
    assert isinstance(buf, bytearray) and len(buf) == BLOCK == 4096, len(buf)
    assert block.holder == "image check", block.holder
    e = raises(BlockBusy, block.borrow, "upload")  # busy: no waiting, no second buffer
    assert "upload" in str(e) and "in use by image check" in str(e), str(e)
    block.give()
    assert block.holder is None
    again = block.borrow("upload")
    assert again is buf, "the same buffer every time"
    block.give()
    assert len(SharedBlock(512).buf) == 512


def test_lend_is_the_buffer_or_none_while_another_has_it():
    block = SharedBlock()
    buf = block.lend("certificate check")
    assert buf is block.buf and block.holder == "certificate check"
    assert block.lend("another check") is None, "lent out: do without it"
    assert block.holder == "certificate check", "the holder stays"
    block.give()
    assert block.lend("another check") is buf
    block.give()


async def test_take_waits_until_the_holder_gives_it_back():
    block = SharedBlock()
    buf = block.borrow("firmware download")
    order = []

    async def download():
        await sleep_ms(300)
        order.append("download done")
        block.give()

    task = asyncio.create_task(download())
    start = ticks_ms()
    got = await block.take("diagnostics upload", 5000)
    waited = ticks_diff(ticks_ms(), start)
    order.append("upload has it")
    assert got is buf and block.holder == "diagnostics upload", block.holder
    assert order == ["download done", "upload has it"], order
    assert 250 <= waited < 2000, waited
    block.give()
    await task


async def test_take_gives_up_after_its_bound_naming_the_holder():
    block = SharedBlock()
    block.borrow("firmware download")
    start = ticks_ms()
    try:
        await block.take("diagnostics upload", 300)
        raise AssertionError("took a block that was in use")
    except BlockBusy as e:
        assert "in use by firmware download" in str(e), str(e)
    waited = ticks_diff(ticks_ms(), start)
    assert 300 <= waited < 2000, waited
    assert block.holder == "firmware download", "the holder keeps it"
    block.give()
    assert await block.take("upload", 0) is block.buf  # free: no wait at all
    block.give()
