# Device tests of firmware/security.py: which security events are raised, and how they are
# dated when the clock was not set yet.
import asyncio

from devtest import tempdir
from firmware.board.sim import SimBoard
from firmware.security import CLOCK_JUMP_S, SecurityEvents
from ocpppeer import connect

JAN_2026 = 820540800  # 2026-01-01T00:00:00Z, seconds since 2000


def board():
    return SimBoard({"connectors": 1, "sim": {"controlPort": 1}}, state_dir=tempdir())


def kinds(security):
    return [e[0] for e in security.queue]


def test_start_up_and_reset_events():
    peer, session = connect([])
    security = SecurityEvents(session, board())
    security.started("PowerUp")
    assert kinds(security) == ["StartupOfTheDevice"]
    assert security.queue[0][2] == "boot reason PowerUp"
    security.started("RemoteReset")
    assert kinds(security)[1:] == ["StartupOfTheDevice", "ResetOrReboot"]
    assert security.queue[-1][2] == "RemoteReset"


def test_only_a_jump_of_the_clock_is_an_event():
    peer, session = connect([])
    security = SecurityEvents(session, board())
    for jump in (0, 5, -5, CLOCK_JUMP_S - 1, 1 - CLOCK_JUMP_S):
        security.time_set(jump)  # drift a Heartbeat corrects
    assert kinds(security) == []
    security.time_set(CLOCK_JUMP_S)
    security.time_set(-3600)
    assert kinds(security) == ["SettingSystemTime", "SettingSystemTime"]
    assert security.queue[1][2] == "clock moved by -3600 s"


def test_a_security_parameter_change_never_carries_a_value():
    peer, session = connect([])
    security = SecurityEvents(session, board())
    security.reconfigured("AuthorizationKey")
    assert security.queue[0][0] == "ReconfigurationOfSecurityParameters"
    assert security.queue[0][2] == "AuthorizationKey changed"


async def test_an_event_before_the_clock_is_set_is_dated_when_sent():
    b = board()
    b.set_time_s(1000)  # a board without a battery clock: January 2000
    peer, session = connect([[3, {}]], registration="Accepted")
    security = SecurityEvents(session, b)
    security.started("PowerUp")
    assert security.queue[0][1] is None  # not dated 2000-01-01
    b.set_time_s(JAN_2026)  # the BootNotification's answer sets the clock
    task = asyncio.create_task(security.run())
    for _ in range(50):
        if peer.sent:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    sent = peer.sent[0][3]
    assert sent["type"] == "StartupOfTheDevice"
    assert sent["timestamp"].startswith("2026-01-01T00:00:0"), sent  # within the seconds since


async def test_an_event_after_the_clock_is_set_keeps_its_time():
    b = board()
    b.set_time_s(JAN_2026)
    peer, session = connect([[3, {}]], registration="Accepted")
    security = SecurityEvents(session, b)
    security.reconfigured("SecurityProfile")
    at = security.queue[0][1]
    assert at is not None and abs(at - JAN_2026) <= 1
    b.set_time_s(JAN_2026 + 86400)  # a later jump does not move an event already dated
    task = asyncio.create_task(security.run())
    for _ in range(50):
        if peer.sent:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert peer.sent[0][3]["timestamp"].startswith("2026-01-01T00:00:0"), peer.sent
