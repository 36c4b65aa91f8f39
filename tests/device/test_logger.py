# Device tests of the logger: levels filter, secrets never reach a line.
import logger


def capture():
    lines = []
    logger.set_sink(lines.append)
    return lines


def test_levels_filter():
    lines = capture()
    try:
        logger.set_level("warn")
        log = logger.get("t")
        log.info("hidden")
        log.warn("shown", 5)
        assert len(lines) == 1 and lines[0].endswith("WARN t: shown 5")
    finally:
        logger.set_level("info")
        logger.set_sink(None)


def test_secret_is_redacted_everywhere():
    lines = capture()
    try:
        logger.secret("AuthKey-0123456789")
        log = logger.get("ws")
        log.info("basic auth CP_1:AuthKey-0123456789")
        log.error({"key": "AuthKey-0123456789"})
        assert lines and all("AuthKey-0123456789" not in ln for ln in lines)
        assert "***" in lines[0] and "***" in lines[1]
    finally:
        logger.set_sink(None)
