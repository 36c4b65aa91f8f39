# Device tests of atomicfile: the last complete write survives, a torn file is never trusted.
import os

import atomicfile
from devtest import tempdir


def test_write_then_read():
    path = tempdir() + "/a.json"
    assert atomicfile.read(path) is None
    atomicfile.write(path, "one")
    assert atomicfile.read(path) == b"one"
    atomicfile.write(path, b"two")
    assert atomicfile.read(path) == b"two"
    assert not atomicfile.exists(path + ".tmp")


def test_torn_file_reads_as_absent():
    path = tempdir() + "/b.bin"
    atomicfile.write(path, b"x" * 100)
    with open(path, "rb") as f:
        whole = f.read()
    for cut in (0, 5, 50, len(whole) - 1):
        with open(path, "wb") as f:
            f.write(whole[:cut])
        assert atomicfile.read(path) is None, cut


def test_flipped_bit_is_detected():
    path = tempdir() + "/c.bin"
    atomicfile.write(path, b"hello world")
    with open(path, "rb") as f:
        blob = bytearray(f.read())
    blob[3] ^= 1
    with open(path, "wb") as f:
        f.write(blob)
    assert atomicfile.read(path) is None


def test_leftover_temporary_does_not_replace_the_file():
    # power lost after the temporary was written but before the rename
    path = tempdir() + "/d.bin"
    atomicfile.write(path, b"old")
    with open(path + ".tmp", "wb") as f:
        f.write(b"new, half written")
    assert atomicfile.read(path) == b"old"
    atomicfile.write(path, b"newer")
    assert atomicfile.read(path) == b"newer"


def test_makedirs_creates_parents():
    top = tempdir()
    atomicfile.makedirs(top + "/x/y/z")
    assert "z" in os.listdir(top + "/x/y")
    atomicfile.makedirs(top + "/x/y/z")  # again: nothing to do


def test_a_file_written_in_pieces_is_the_same_and_checked_in_pieces():
    folder = tempdir()
    pieces = [b"header--", bytearray(b"x" * 70), memoryview(b"0123456789")[2:7]]
    w = atomicfile.Writer(folder + "/e.bin")
    for piece in pieces:
        w.write(piece)
    w.commit()
    atomicfile.write(folder + "/f.bin", b"".join(bytes(p) for p in pieces))
    with open(folder + "/e.bin", "rb") as e, open(folder + "/f.bin", "rb") as f:
        assert e.read() == f.read(), "the same bytes as one write()"
    buf = bytearray(16)  # smaller than the file: read in pieces
    assert atomicfile.check(folder + "/e.bin", buf) == 83
    assert atomicfile.check(folder + "/none.bin", buf) is None
    with open(folder + "/e.bin", "rb") as f:
        whole = bytearray(f.read())
    for cut in (0, 5, 50, len(whole) - 1):
        with open(folder + "/g.bin", "wb") as f:
            f.write(whole[:cut])
        assert atomicfile.check(folder + "/g.bin", buf) is None, cut
    whole[40] ^= 1
    with open(folder + "/g.bin", "wb") as f:
        f.write(whole)
    assert atomicfile.check(folder + "/g.bin", buf) is None, "a flipped bit"


def test_an_abandoned_writer_leaves_the_old_file():
    path = tempdir() + "/h.bin"
    atomicfile.write(path, b"old")
    w = atomicfile.Writer(path)
    w.write(b"new")
    w.abandon()
    assert atomicfile.read(path) == b"old" and not atomicfile.exists(path + ".tmp")
