# Device tests of streaming an image into an OTA slot (lib/ota/writer.py): hash, check, resume.
import hashlib

from devtest import raises, rmtree, tempdir
from firmware.board import sim_flash
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
