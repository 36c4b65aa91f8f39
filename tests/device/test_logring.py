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
