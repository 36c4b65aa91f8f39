# Device tests of lib/filelog.py: the security log's lines on flash, bounded, torn-write safe.
import os

from devtest import tempdir
from filelog import FileLog


def text(log):
    buf = bytearray(4096)
    n = log.copy_into(buf)
    return bytes(buf[:n]).decode()


def test_lines_are_kept_in_order_across_a_reopen():
    path = tempdir() + "/securitylog"
    log = FileLog(path)
    assert text(log) == "\n", "an empty log is one newline"
    log.append("one")
    log.append("two\nlines")
    assert text(FileLog(path)) == "one\ntwo lines\n"


def test_the_log_is_bounded_and_keeps_the_newest_lines():
    path = tempdir() + "/securitylog"
    log = FileLog(path, max_bytes=100)
    for i in range(60):
        log.append("event %02d" % i)  # 9 bytes a line
    kept = text(log).split("\n")[:-1]
    assert kept[-1] == "event 59" and 11 <= len(kept) <= 22, kept
    assert kept == ["event %02d" % i for i in range(60 - len(kept), 60)], "in order, no gap"
    assert os.stat(path)[6] <= 100 and os.stat(path + ".1")[6] <= 100


def test_a_torn_append_is_cut_off_when_the_log_is_opened():
    path = tempdir() + "/securitylog"
    log = FileLog(path)
    for i in range(30):  # more than one read chunk
        log.append("whole line %02d" % i)
    with open(path, "ab") as f:
        f.write(b"2026-12-02T08:22:15Z Startu")  # power lost in the middle of a line
    again = FileLog(path)
    lines = text(again).split("\n")
    assert lines[-2] == "whole line 29" and lines[-1] == "" and "Startu" not in text(again)
    again.append("next")
    assert text(FileLog(path)).endswith("whole line 29\nnext\n")


def test_a_small_buffer_gets_the_newer_file():
    path = tempdir() + "/securitylog"
    log = FileLog(path, max_bytes=40)
    for i in range(10):
        log.append("line %d" % i)  # 7 bytes
    buf = bytearray(45)
    n = log.copy_into(buf)
    got = bytes(buf[:n]).decode()
    assert got.endswith("line 9\n") and len(got) <= 40, got
