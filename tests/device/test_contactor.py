# Device tests of the contactor driver: command, feedback, welded and stuck-open after settle_ms.
from devtest import rmtree, tempdir
from drivers.contactor import STUCK_OPEN, WELDED, Contactor
from firmware.sim.board import SimBoard


def sim_board():
    path = tempdir()
    return SimBoard({"connectors": 2}, state_dir=path), path


def test_opens_on_creation_and_follows_commands():
    b, path = sim_board()
    b.sim[1].relay_cmd = True
    c = Contactor(b, 2)
    assert b.sim[1].relay_cmd is False, "driven open at once"
    assert not c.closed
    c.close()
    assert c.closed and b.sim[1].relay_cmd is True
    assert c.check(0) is None
    c.open()
    assert not c.closed and b.sim[1].relay_cmd is False
    assert c.check(0) is None
    rmtree(path)


def test_welded_after_settle_time():
    b, path = sim_board()
    c = Contactor(b, 1, settle_ms=200)
    b.sim[0].welded = True
    assert c.check(1000) is None and c.mismatched, "a disagreement, not yet a fault"
    assert c.check(1100) is None
    assert c.check(1200) == WELDED
    b.sim[0].welded = False
    assert c.check(1300) is None and not c.mismatched, "cleared with the condition"
    rmtree(path)


def test_feedback_lag_after_opening_is_not_a_fault():
    b, path = sim_board()
    c = Contactor(b, 1, settle_ms=200)
    c.close()
    b.sim[0].welded = True  # the contacts still closed right after the open command
    c.open()
    assert c.check(0) is None
    b.sim[0].welded = False  # released within settle_ms
    assert c.check(150) is None and not c.mismatched
    rmtree(path)


class StuckBoard(SimBoard):
    def relay_feedback(self, connector):
        return False  # the contacts never close


def test_stuck_open():
    path = tempdir()
    b = StuckBoard({"connectors": 1}, state_dir=path)
    c = Contactor(b, 1, settle_ms=100)
    c.close()
    assert c.check(0) is None
    assert c.check(99) is None
    assert c.check(100) == STUCK_OPEN
    c.open()
    assert c.check(200) is None, "commanded open, reads open"
    rmtree(path)


def test_close_restarts_the_settle_time():
    path = tempdir()
    b = StuckBoard({"connectors": 1}, state_dir=path)
    c = Contactor(b, 1, settle_ms=100)
    c.close()
    c.check(0)
    c.open()
    c.close()
    assert c.check(150) is None, "a new command: the disagreement is new too"
    assert c.check(250) == STUCK_OPEN
    rmtree(path)
