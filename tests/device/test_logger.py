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


class TextOnly:
    """A text stream without `buffer` (what a test's capture may be)."""

    def __init__(self):
        self.parts = []

    def write(self, s):
        assert isinstance(s, str), s
        self.parts.append(s)


class Raw:
    def __init__(self):
        self.data = bytearray()

    def write(self, b):
        self.data += bytes(b)


class WithBuffer(TextOnly):
    def __init__(self):
        super().__init__()
        self.buffer = Raw()


def test_frames_that_are_not_utf8_never_raise():
    bad = bytearray(b'<- [2,"x\xff\xc3(","Heartbeat",{}]')
    text = TextOnly()
    logger.print_frame("1.000 INFO ocpp: ", memoryview(bad)[3:], text)
    line = "".join(text.parts)
    assert line.startswith("1.000 INFO ocpp: [2,") and line.endswith("\n"), line
    assert "\\xff\\xc3(" in line, line  # escaped, as in repr()
    text = TextOnly()
    logger.print_frame("p ", memoryview(b"caf\xc3\xa9"), text)
    assert "".join(text.parts) == "p caf\u00e9\n", text.parts
    both = WithBuffer()
    logger.print_frame("p ", memoryview(bad), both)  # a byte stream gets the bytes as they are
    assert bytes(both.buffer.data) == bytes(bad), both.buffer.data
    assert "".join(both.parts) == "p \n", both.parts
    assert logger.text_of(b"\xff") == "\\xff" and logger.text_of(b"ok") == "ok"
