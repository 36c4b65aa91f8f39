# Device tests of firmware/security/events.py: which security events are raised, how they are dated
# when the clock was not set yet, and that they wait on flash (issue 10, items 6 and 7).
import asyncio

from devtest import tempdir
from filelog import FileLog
from firmware.sim.board import SimBoard
from firmware.security.events import CLOCK_JUMP_S, MAX_STORED, SecurityEvents
from ocppj.journal import Journal
from ocpppeer import connect

JAN_2026 = 820540800  # 2026-01-01T00:00:00Z, seconds since 2000


def board(clock_s=JAN_2026):
    b = SimBoard({"connectors": 1, "sim": {"controlPort": 1}}, state_dir=tempdir())
    b.set_time_s(clock_s)
    return b


def events(b, session=None, replies=()):
    if session is None:
        peer, session = connect(list(replies), registration="Accepted")
    return SecurityEvents(session, b, Journal(b.state_dir + "/security"),
                          FileLog(b.state_dir + "/securitylog"))


def security_log(security):
    buf = bytearray(4096)
    return bytes(buf[:security.log_file.copy_into(buf)]).decode().split("\n")[:-1]


def stored(security):
    return [(r.payload["type"], r.payload.get("techInfo")) for r in security.journal.records()]


async def sent_frames(security, peer, n):
    task = asyncio.create_task(security.run())
    for _ in range(100):
        if len(peer.sent) >= n:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    return [f[3] for f in peer.sent]


async def test_start_up_and_reset_events():
    security = events(board())
    await security.started("PowerUp")
    assert stored(security) == [("StartupOfTheDevice", "boot reason PowerUp")]
    await security.started("RemoteReset")
    assert stored(security)[1:] == [("StartupOfTheDevice", "boot reason RemoteReset"),
                                    ("ResetOrReboot", "RemoteReset")]


def test_only_a_jump_of_the_clock_is_an_event():
    security = events(board())
    for jump in (0, 5, -5, CLOCK_JUMP_S - 1, 1 - CLOCK_JUMP_S):
        security.time_set(jump)  # drift a Heartbeat corrects
    assert stored(security) == []
    security.time_set(CLOCK_JUMP_S)
    security.time_set(-3600)
    assert stored(security) == [("SettingSystemTime", "clock moved by %d s" % CLOCK_JUMP_S),
                                ("SettingSystemTime", "clock moved by -3600 s")]


def test_a_security_parameter_change_never_carries_a_value():
    security = events(board())
    security.reconfigured("AuthorizationKey")
    assert stored(security) == [("ReconfigurationOfSecurityParameters",
                                 "AuthorizationKey changed")]


def test_events_wait_on_flash_across_a_restart_and_overflow_drops_the_oldest():
    b = board()
    security = events(b)
    for i in range(MAX_STORED + 3):
        security.event("InvalidMessages", "frame %d" % i)
    again = events(b)  # a power cut: a new instance reads the same journal
    kept = stored(again)
    assert len(kept) == MAX_STORED
    assert kept[0] == ("InvalidMessages", "frame 3") and kept[-1][1] == "frame %d" % (
        MAX_STORED + 2)


async def test_an_event_before_the_clock_is_set_is_dated_when_the_clock_is():
    b = board(clock_s=1000)  # a board without a battery clock: January 2000
    peer, session = connect([[3, {}]], registration="Accepted")
    security = events(b, session)
    await security.started("PowerUp")
    assert stored(security) == [] and len(security.undated) == 1  # never dated 2000-01-01
    b.set_time_s(JAN_2026)  # the BootNotification's answer sets the clock ...
    security.time_set(JAN_2026 - 1000)  # ... and tells
    kinds = [k for k, _ in stored(security)]
    assert kinds == ["StartupOfTheDevice", "SettingSystemTime"], kinds
    sent = await sent_frames(security, peer, 1)
    assert sent[0]["type"] == "StartupOfTheDevice"
    assert sent[0]["timestamp"].startswith("2026-01-01T00:00:0"), sent  # within the seconds since


async def test_sent_events_leave_the_journal_and_a_refused_one_is_not_retried():
    b = board()
    peer, session = connect([[4, "NotSupported", "no", {}], [3, {}]], registration="Accepted")
    security = events(b, session)
    security.reconfigured("SecurityProfile")
    security.reconfigured("AuthorizationKey")
    sent = await sent_frames(security, peer, 2)
    await asyncio.sleep(0.05)
    assert [s["techInfo"] for s in sent] == ["SecurityProfile changed", "AuthorizationKey changed"]
    assert sent[0]["timestamp"].startswith("2026-01-01T00:00:0"), sent
    assert stored(security) == []  # the refused one too: answered, retrying would not help


async def test_every_event_is_a_line_of_the_security_log_with_its_time():
    b = board(clock_s=1000)
    security = events(b)
    await security.started("Watchdog")
    b.set_time_s(JAN_2026)
    security.reconfigured("AuthorizationKey")
    lines = security_log(security)
    assert lines[:2] == ["clock-not-set StartupOfTheDevice boot reason Watchdog",
                         "clock-not-set ResetOrReboot Watchdog"], lines
    assert lines[2].startswith("2026-01-01T00:00:0") and lines[2].endswith(
        "Z ReconfigurationOfSecurityParameters AuthorizationKey changed"), lines
    assert security_log(events(b)) == lines, "on flash: a new instance reads the same log"
