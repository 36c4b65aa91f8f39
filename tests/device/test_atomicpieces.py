# Device tests of atomicpieces: atomicfile's format written and checked in pieces.
import atomicfile
import atomicpieces
from devtest import tempdir


def test_a_file_written_in_pieces_is_the_same_and_checked_in_pieces():
    folder = tempdir()
    pieces = [b"header--", bytearray(b"x" * 70), memoryview(b"0123456789")[2:7]]
    w = atomicpieces.Writer(folder + "/e.bin")
    for piece in pieces:
        w.write(piece)
    w.commit()
    atomicfile.write(folder + "/f.bin", b"".join(bytes(p) for p in pieces))
    with open(folder + "/e.bin", "rb") as e, open(folder + "/f.bin", "rb") as f:
        assert e.read() == f.read(), "the same bytes as one write()"
    buf = bytearray(16)  # smaller than the file: read in pieces
    assert atomicpieces.check(folder + "/e.bin", buf) == 83
    assert atomicpieces.check(folder + "/none.bin", buf) is None
    with open(folder + "/e.bin", "rb") as f:
        whole = bytearray(f.read())
    for cut in (0, 5, 50, len(whole) - 1):
        with open(folder + "/g.bin", "wb") as f:
            f.write(whole[:cut])
        assert atomicpieces.check(folder + "/g.bin", buf) is None, cut
    whole[40] ^= 1
    with open(folder + "/g.bin", "wb") as f:
        f.write(whole)
    assert atomicpieces.check(folder + "/g.bin", buf) is None, "a flipped bit"


def test_an_abandoned_writer_leaves_the_old_file():
    path = tempdir() + "/h.bin"
    atomicfile.write(path, b"old")
    w = atomicpieces.Writer(path)
    w.write(b"new")
    w.abandon()
    assert atomicfile.read(path) == b"old" and not atomicfile.exists(path + ".tmp")
