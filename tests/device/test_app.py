# Device tests of the application's own small decisions (firmware/app.py): the status LED.
import cprig
from devtest import rmtree, tempdir
from firmware import app
from firmware.sim.board import SimBoard
from firmware.v16.settings import Settings
from ocpppeer import connect


def charge_point(connectors):
    board = SimBoard({"connectors": connectors, "sim": {"controlPort": 1}}, state_dir=tempdir())
    peer, session = connect([], registration="Accepted")
    cp = cprig.charge_point(board, session, Settings(board.state_dir, connectors, "Core"))
    return board, session, cp


def test_the_led_shows_a_fault_on_the_last_connector_too():
    for connectors in (1, 2):
        board, session, cp = charge_point(connectors)
        assert app.led_pattern(cp, session) == "idle"
        board.sim[connectors - 1].welded = True  # mains behind an open relay: Faulted
        evse = cp.connectors[connectors - 1].evse
        for ms in range(100, 1100, 100):
            evse.tick(ms)
        assert evse.fault, "the connector faulted"
        assert app.led_pattern(cp, session) == "fault", "%d connector(s)" % connectors
        session.closed()
        rmtree(board.state_dir)
