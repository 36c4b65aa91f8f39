# Device tests of streaming an image into an OTA slot (lib/ota/writer.py): hash, check, resume.
import hashlib

from devtest import raises, rmtree, tempdir
from firmware.sim import flash as sim_flash
from ota.image import ImageError
from ota.writer import PartitionWriter, WriteError
from test_ota_image import MemPartition, make_image

BLOCK = 4096


def stream(writer, img, chunks, start=0):
    i = start
    k = 0
    mv = memoryview(img)
    while i < len(img):
        n = chunks[k % len(chunks)]
        writer.write(mv[i:i + n])
        i += n
        k += 1


def slot_bytes(part, n):
    return bytes(part.data[:n])


def test_odd_chunks_hash_equals_hashlib_and_flash_holds_the_image():
    img = make_image("3.1.4", data_len=20000)
    for chunks in ([1, 7, 4095], [4096], [4097, 10], [333], [len(img)]):
        part = MemPartition(blocks=16)
        w = PartitionWriter(part)
        stream(w, img, chunks)
        size, digest, info = w.finish()
        assert size == len(img), size
        assert digest == hashlib.sha256(img).digest(), repr(chunks)
        assert info.version == "3.1.4", info.version
        assert slot_bytes(part, len(img)) == bytes(img), repr(chunks)
        end = (len(img) + BLOCK - 1) // BLOCK * BLOCK
        assert part.data[len(img):end] == b"\xff" * (end - len(img)), "last block padded 0xFF"
        assert part.writes == list(range(end // BLOCK)), part.writes


def test_too_large_refused_before_writing_past_the_slot():
    img = make_image(data_len=3 * BLOCK)  # larger than a 2-block slot
    part = MemPartition(blocks=2)
    w = PartitionWriter(part)
    assert w.capacity == 2 * BLOCK
    e = raises(WriteError, stream, w, img, [1000])
    assert "larger than the slot" in str(e), str(e)
    assert max(part.writes) < 2, part.writes


def test_invalid_image_refused_at_its_first_bad_byte():
    img = make_image()
    img[0] = 0x7F
    part = MemPartition(blocks=4)
    w = PartitionWriter(part)
    raises(ImageError, w.write, img[:100])
    assert not part.writes and part.data[0] == 0xFF, "nothing reached the flash"


def test_not_strict_takes_a_bad_image_whole_for_its_signature_check():
    for damage in ("header", "truncated"):
        img = make_image(data_len=9000)
        if damage == "header":
            img[0] = 0x7F
        else:
            img = img[:-40]
        part = MemPartition(blocks=4)
        w = PartitionWriter(part, strict=False)
        stream(w, img, [1000])
        size, digest, info = w.finish()
        assert info is None and isinstance(w.image_error, ImageError), damage
        assert size == len(img) and digest == hashlib.sha256(img).digest(), damage
        w.restart(0)
        assert w.image_error is None, "a download that starts over is checked again"


def test_truncated_download_fails_at_finish():
    img = make_image(data_len=9000)
    w = PartitionWriter(MemPartition(blocks=4))
    stream(w, img[:-40], [4096])
    e = raises(ImageError, w.finish)
    assert "truncated" in str(e), str(e)


def test_unchecked_writer_takes_any_bytes():
    w = PartitionWriter(MemPartition(blocks=2), check=False)
    w.write(b"not an image")
    size, digest, info = w.finish()
    assert size == 12 and info is None and digest == hashlib.sha256(b"not an image").digest()


def test_resume_from_an_offset_gives_the_same_digest():
    img = make_image("5.0.0", data_len=30000)
    whole = hashlib.sha256(img).digest()
    for cut in (0, 1, 100, BLOCK, BLOCK + 1, 3 * BLOCK - 1, len(img) - 1, len(img)):
        part = MemPartition(blocks=16)
        part.data[:cut] = img[:cut]  # what an earlier attempt left on flash
        again = PartitionWriter(part, offset=cut)
        assert again.size == cut
        stream(again, img, [777], start=cut)
        size, digest, info = again.finish()
        assert digest == whole and size == len(img), cut
        assert info.version == "5.0.0" and slot_bytes(part, len(img)) == bytes(img), cut


def test_resume_after_power_cut_from_committed_blocks():
    img = make_image(data_len=30000)
    part = MemPartition(blocks=16)
    w = PartitionWriter(part)
    stream(w, img[:10000], [1500])  # power cut: the block being filled is lost
    assert w.committed == 2 * BLOCK, w.committed
    again = PartitionWriter(part, offset=w.committed)
    stream(again, img, [4096], start=again.size)
    assert again.finish()[1] == hashlib.sha256(img).digest()


def test_restart_from_zero_when_the_server_sends_the_file_again():
    img = make_image(data_len=20000)
    part = MemPartition(blocks=16)
    w = PartitionWriter(part)
    stream(w, img[:9000], [4096])
    w.restart(0)
    stream(w, img, [4096])
    size, digest, _ = w.finish()
    assert size == len(img) and digest == hashlib.sha256(img).digest()
    raises(WriteError, w.restart, 17 * BLOCK)  # beyond the slot


def test_writes_into_the_simulated_slot():
    folder = tempdir()
    try:
        slot = sim_flash.running_partition(folder).get_next_update()
        img = make_image("7.7.7", data_len=12000)
        w = PartitionWriter(slot)
        stream(w, img, [4096])
        assert w.finish()[2].version == "7.7.7"
        assert slot.check_image().version == "7.7.7"
    finally:
        rmtree(folder)


# -- the pull interface (what ota.http uses): reads land in the writer's block ------------------
def pull(writer, img, reads, start=0):
    """Read `img` into writer.space() in pieces of the sizes `reads` (cycled), as ota.http."""
    i = start
    k = 0
    mv = memoryview(img)
    while i < len(img):
        sp = writer.space()
        assert 0 < len(sp) <= BLOCK, len(sp)
        n = min(len(sp), reads[k % len(reads)], len(img) - i)
        sp[:n] = mv[i:i + n]
        writer.commit(n)
        i += n
        k += 1


class BlockWatch(MemPartition):
    """A slot that records which buffer every flash write came from."""

    def __init__(self, blocks):
        super().__init__(blocks)
        self.sources = []

    def writeblocks(self, n, buf):
        self.sources.append(buf)
        super().writeblocks(n, buf)


def test_pull_into_the_given_block_in_any_read_sizes():
    img = make_image("6.0.1", data_len=30000)
    for reads in ([1460], [4096], [1, 4095, 7], [100000]):
        part = BlockWatch(blocks=16)
        block = bytearray(BLOCK)
        w = PartitionWriter(part, buf=block)
        pull(w, img, reads)
        size, digest, info = w.finish()
        assert size == len(img) and digest == hashlib.sha256(img).digest(), repr(reads)
        assert info.version == "6.0.1" and slot_bytes(part, len(img)) == bytes(img), repr(reads)
        assert part.sources and all(b is block for b in part.sources), "only the given block"


def test_pull_resumes_mid_block_and_mixes_with_write():
    img = make_image("6.0.2", data_len=30000)
    part = MemPartition(blocks=16)
    part.data[:5000] = img[:5000]  # an earlier attempt left 5000 bytes (1 block + 904)
    w = PartitionWriter(part, offset=5000, buf=bytearray(BLOCK))
    assert len(w.space()) == BLOCK - 904, len(w.space())
    pull(w, img[:20000], [1000], start=5000)
    w.write(memoryview(img)[20000:21000])
    pull(w, img, [3000], start=21000)
    assert w.finish()[1] == hashlib.sha256(img).digest()


def test_pull_refusals():
    raises(WriteError, PartitionWriter, MemPartition(blocks=2), 0, True, bytearray(1000))
    img = make_image(data_len=3 * BLOCK)  # larger than a 2-block slot
    part = MemPartition(blocks=2)
    w = PartitionWriter(part)
    e = raises(WriteError, pull, w, img, [1460])
    assert "larger than the slot" in str(e) and max(part.writes) < 2, part.writes
    w = PartitionWriter(MemPartition(blocks=2))
    w.space()
    raises(WriteError, w.commit, BLOCK + 1)  # more than the block holds
    raises(WriteError, w.commit, 0)
    bad = make_image()
    bad[0] = 0x7F
    part = MemPartition(blocks=4)
    w = PartitionWriter(part)
    raises(ImageError, pull, w, bad, [BLOCK])
    assert not part.writes, "a refused block never reaches the flash"


def test_a_download_through_the_given_block_allocates_no_block():
    # MicroPython (the WebAssembly port under `make test`): writing a whole image through
    # the given block takes far less heap than one block (the old writer had a block of its
    # own and the HTTP client another); a read that is not a whole block costs only small
    # memoryviews (this helper's and the writer's), never a buffer.
    gc = __import__("gc")
    if not hasattr(gc, "mem_alloc"):
        return  # CPython: nothing to measure
    img = make_image("6.0.3", data_len=40000)
    block = bytearray(BLOCK)

    def grown(reads):
        part = MemPartition(blocks=16)
        gc.collect()
        gc.disable()
        try:
            before = gc.mem_alloc()  # type: ignore
            w = PartitionWriter(part, buf=block)
            pull(w, img, reads)
            w.finish()
            return gc.mem_alloc() - before  # type: ignore
        finally:
            gc.enable()

    whole = grown([BLOCK])
    assert whole < BLOCK, whole
    pieces = grown([1460, 536])
    reads = len(img) // 998 + 1
    assert (pieces - whole) // reads < 256, (pieces, whole, reads)
