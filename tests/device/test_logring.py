# Device tests of the log ring: the newest lines kept, whole lines only, bounded memory.
import logger
import logring


def test_ring_keeps_the_newest_whole_lines():
    logring.install(100)
    log = logger.get("t")
    try:
        for i in range(30):
            log.info("line %02d" % i)
        kept = logring.lines()
        assert kept and kept[-1].endswith("line 29"), kept
        assert all(" INFO t: line " in ln for ln in kept), kept
        assert len(logring.text()) <= 100
        numbers = [int(ln[-2:]) for ln in kept]
        assert numbers == list(range(numbers[0], 30)), numbers
    finally:
        logger.set_sink(None)


def test_filter_and_secrets():
    logring.install(400)
    try:
        logger.secret("TopSecretKey-123456")
        logger.get("security").warn("event TopSecretKey-123456")
        logger.get("other").info("noise")
        assert logring.lines(" security:") == [logring.lines()[0]]
        assert "TopSecretKey-123456" not in logring.text().decode()
    finally:
        logger.set_sink(None)


def test_copy_into_gives_what_text_gives_in_every_state():
    log = logger.get("t")
    try:
        for size in (64, 100, 257):
            logring.install(size)
            buf = bytearray(size)
            assert logring.copy_into(buf) == 0  # empty
            for i in range(40):
                log.info("m" * (i % 13) + "%d" % i)  # lines of many lengths: every wrap
                n = logring.copy_into(buf)
                assert bytes(buf[:n]) == logring.text(), (size, i, bytes(buf[:n]))
            assert buf[n - 1:n] == b"\n", "whole lines only"
    finally:
        logger.set_sink(None)


def test_copy_into_a_short_buffer_keeps_the_newest_whole_lines():
    logring.install(300)
    log = logger.get("t")
    try:
        for i in range(30):
            log.info("line %02d" % i)
        text = logring.text()
        assert logring.copy_into(bytearray(10)) == 0, "no whole line fits"
        for size in (50, 120):
            buf = bytearray(size)
            n = logring.copy_into(memoryview(buf))
            assert 0 < n <= size and text.endswith(bytes(buf[:n])), (size, bytes(buf[:n]))
            assert n > size - 40, "as many whole lines as fit"  # each line is under 40 bytes
            assert text[-n - 1:-n] == b"\n", "starts at a line start"
    finally:
        logger.set_sink(None)


def test_copy_into_allocates_nothing_of_the_rings_size():
    gc = __import__("gc")
    if not hasattr(gc, "mem_alloc"):
        return  # CPython: nothing to measure
    logring.install(2048)
    log = logger.get("t")
    try:
        for i in range(200):
            log.info("line %d" % i)
        buf = bytearray(2048)
        gc.collect()
        gc.disable()
        try:
            before = gc.mem_alloc()  # type: ignore
            n = logring.copy_into(buf)
            grown = gc.mem_alloc() - before  # type: ignore
        finally:
            gc.enable()
        assert n > 1900 and grown < 256, (n, grown)  # text() makes 2 to 3 copies
    finally:
        logger.set_sink(None)


def test_frames_that_are_not_utf8_are_kept_and_read_back():
    logring.install(400)
    try:
        log = logger.get("ocpp")
        log.frame("<-", memoryview(bytearray(b'[2,"x\xff","Heartbeat",{}]')))
        log.info("after")
        kept = logring.lines()
        assert len(kept) == 2 and kept[1].endswith("INFO ocpp: after"), kept
        assert kept[0].endswith('INFO ocpp: <- [2,"x\\xff","Heartbeat",{}]'), kept
        assert b'"x\xff"' in logring.text()  # the ring keeps the bytes as they came
        assert logring.lines("Heartbeat") == [kept[0]]
    finally:
        logger.set_sink(None)
