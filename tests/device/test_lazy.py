# Device tests of lib/lazy.py and of the application's lazy services: nothing but the service's
# entry in session.lazy until the first request, the service then registering its own
# handlers, made once.
import json
import sys

import cprig
from devtest import raises, tempdir
from firmware.v16 import start
from firmware.sim.board import SimBoard
from firmware.v16.remotetrigger import RemoteTrigger
from firmware.security.events import SecurityEvents
from firmware.v16.settings import Settings
from firmware.security.trust import Trust
from lazy import LazyService
from ws.client import WsClient
from ocppj.journal import Journal
from ocpppeer import connect


class Echo:
    def __init__(self, session, log):
        log.append("made")
        session.handlers["Ping"] = lambda p: {"pong": p["n"]}


def test_the_first_request_makes_the_service_once():
    peer, session = connect([])
    log = []
    lazy = LazyService(session, ("Ping",), lambda: Echo(session, log))
    assert lazy.made is None and log == [] and "Ping" not in session.handlers
    assert session.handler("Ping")({"n": 1}) == {"pong": 1}
    assert session.handler("Ping")({"n": 2}) == {"pong": 2} and log == ["made"], log
    assert lazy.get() is lazy.made
    assert session.handler("Pong") is None, "an action no service names: not supported"


def test_a_service_that_does_not_take_its_action_is_a_clear_error():
    peer, session = connect([])
    lazy = LazyService(session, ("Ping", "Pong"), lambda: Echo(session, []))
    raises(RuntimeError, session.handler, "Pong")


def charge_point(with_peer=False):
    """A one-connector charge point of the application, accepted by its central system (and
    with_peer: the scripted far end of its session too, tests/device/ocpppeer.py)."""
    board = SimBoard({"connectors": 1, "sim": {"controlPort": 1}}, state_dir=tempdir())
    peer, session = connect([], registration="Accepted")
    cp = cprig.charge_point(board, session, Settings(board.state_dir, 1, "Core"))
    return (cp, peer) if with_peer else cp


async def test_the_applications_lazy_services_register_every_action():
    cp = charge_point()
    board, session, settings = cp.board, cp.session, cp.settings
    security = SecurityEvents(session, board, Journal(board.state_dir + "/security"))
    cfg = {"firmware": {}, "csms": {"chargeBoxId": "CP_1"}}
    before = set(sys.modules)
    updater, diagnostics, renewal = await start.firmware_management(
        cfg, board, session, RemoteTrigger(1), settings, cp, security,
        WsClient("ws://127.0.0.1:1/ocpp", "CP_1"), Trust(board.state_dir))
    assert "firmware.management.fwupdate" not in sys.modules or "firmware.management.fwupdate" in before
    actions = start.CERT_ACTIONS + start.UPDATE_ACTIONS + start.DIAGNOSTICS_ACTIONS + \
        start.RENEWAL_ACTIONS
    assert not [a for a in actions if a in session.handlers], "registered before a request"
    # a request to the certificate store makes it
    answer = session.handler("GetInstalledCertificateIds")(
        {"certificateType": "ManufacturerRootCertificate"})
    assert answer["status"] == "NotFound", json.dumps(answer)
    updater.get()
    diagnostics.get()
    renewal.get()
    for action in actions:
        assert session.handlers.get(action) is not None, action + " not registered"


def test_the_core_requests_make_their_service_at_the_first():
    cp = charge_point()
    session = cp.session
    core = start.core_service(cp, None, None)
    assert core.made is None
    assert not [a for a in start.CORE_ACTIONS if a in session.handlers], "registered before"
    answer = session.handler("ChangeAvailability")({"connectorId": 1, "type": "Inoperative"})
    assert answer == {"status": "Accepted"} and cp.status_of(1)[0] == "Unavailable", answer
    assert core.made is not None
    for action in start.CORE_ACTIONS:
        assert session.handlers.get(action) is not None, action + " not registered"


async def test_the_core_service_goes_once_its_request_is_answered():
    """Core keeps nothing between requests: after each it is shed (handlers, object, module)
    and the next request makes it again, answered the same."""
    cp, peer = charge_point(with_peer=True)
    session = cp.session
    core = start.core_service(cp, None, None)
    for n, kind, status in ((1, "Inoperative", "Unavailable"), (2, "Operative", "Available")):
        frame = [2, "cs-%d" % n, "ChangeAvailability", {"connectorId": 1, "type": kind}]
        await session.feed(json.dumps(frame).encode())
        assert peer.sent[-1] == [3, "cs-%d" % n, {"status": "Accepted"}], peer.sent
        assert cp.status_of(1)[0] == status, cp.status_of(1)
        assert core.made is None, "kept after its request"
        assert "firmware.v16.core" not in sys.modules, "module kept"
        assert not [a for a in start.CORE_ACTIONS if a in session.handlers], "handlers kept"
    kept = LazyService(session, ("Ping",), lambda: Echo(session, []))
    kept.get()
    kept.shed(session.handlers)
    assert kept.made is not None and "Ping" in session.handlers, "no module named: it stays"
