# Device tests of the 2.0.1 boot reason derived from recorded intent and the reset cause.
from devtest import tempdir
from firmware.model import bootreason
from firmware.board import base


def test_reset_cause_gives_the_reason():
    d = tempdir()
    assert bootreason.take(d, base.RESET_POWER_ON) == "PowerUp"
    assert bootreason.take(d, base.RESET_WATCHDOG) == "Watchdog"
    assert bootreason.take(d, base.RESET_SOFT) == "ApplicationReset"
    assert bootreason.take(d, "strange") == "Unknown"


def test_recorded_reason_wins_once():
    d = tempdir()
    bootreason.record(d, "FirmwareUpdate")
    assert bootreason.take(d, base.RESET_SOFT) == "FirmwareUpdate"
    assert bootreason.take(d, base.RESET_SOFT) == "ApplicationReset"
    bootreason.record(d, "RemoteReset")
    assert bootreason.take(d, base.RESET_HARD) == "RemoteReset"
