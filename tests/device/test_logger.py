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


def test_lines_carry_utc_once_the_clock_is_set():
    # issue 9, item 16: a log lines up with the central system's once the clock is known
    lines = capture()
    now = [None]
    logger.set_clock(lambda: now[0])
    try:
        log = logger.get("cp")
        log.info("before")
        now[0] = 849514935  # 2026-12-02T08:22:15Z
        log.info("after")
        log.warn("same second")
        now[0] += 86400 * 366
        log.info("a year on")
        up, level = lines[0].split(" ")[:2]
        assert level == "INFO" and "." in up and "Z" not in lines[0], lines[0]
        assert lines[1].split(" ")[1:4] == ["2026-12-02T08:22:15Z", "INFO", "cp:"], lines[1]
        assert lines[2].split(" ")[1:3] == ["2026-12-02T08:22:15Z", "WARN"], lines[2]
        assert lines[3].split(" ")[1] == "2027-12-03T08:22:15Z", lines[3]
    finally:
        logger.set_clock(None)
        logger.set_sink(None)
    logger.get("cp").info("cleared")  # the time since start only, again


def test_utc_text_is_the_calendar_date():
    from civil import days_from_civil, utc_text
    assert utc_text(0) == "2000-01-01T00:00:00Z"
    assert utc_text(59 * 86400 + 3661) == "2000-02-29T01:01:01Z"  # 2000 is a leap year
    assert utc_text(4102444799) == "2129-12-31T23:59:59Z"
    assert days_from_civil(2000, 1, 1) == 10957 and days_from_civil(1970, 1, 1) == 0
