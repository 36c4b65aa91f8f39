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


def test_pieces_are_written_as_one_content():
    path = tempdir() + "/f.bin"
    atomicfile.write(path, ("sig", b"\n", "h\u00e9 cert"))  # str (UTF-8 on flash) and bytes
    assert atomicfile.read(path) == "sig\nh\u00e9 cert".encode()


def test_read_into_a_buffer_checks_like_read():
    path = tempdir() + "/e.bin"
    buf = bytearray(64)
    assert atomicfile.read_into(path, buf) is None  # absent
    atomicfile.write(path, b"signature\ncertificate")
    assert atomicfile.read_into(path, buf) == 21
    assert bytes(buf[:21]) == b"signature\ncertificate"
    assert atomicfile.read_into(path, bytearray(21)) is None  # no room for the trailer too
    assert atomicfile.read_into(path, bytearray(32)) == 21  # content and trailer: just fits
    with open(path, "rb") as f:
        whole = bytearray(f.read())
    for cut in (0, 5, 20, len(whole) - 1):  # torn
        with open(path, "wb") as f:
            f.write(whole[:cut])
        assert atomicfile.read_into(path, buf) is None, cut
    whole[3] ^= 1  # a flipped bit
    with open(path, "wb") as f:
        f.write(whole)
    assert atomicfile.read_into(path, buf) is None


def test_makedirs_creates_parents():
    top = tempdir()
    atomicfile.makedirs(top + "/x/y/z")
    assert "z" in os.listdir(top + "/x/y")
    atomicfile.makedirs(top + "/x/y/z")  # again: nothing to do

