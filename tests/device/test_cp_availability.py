# Device tests of ChangeAvailability on flash (OCPP 1.6 §5.2, firmware/model/availability.py):
# what a charge point made again on the same flash (a reboot) finds.
import atomicfile
from cprig import Rig
from firmware.v16.chargepoint import ChargePoint
from firmware.v16.core import Core


def rebooted(rig):
    """A new charge point on the rig's flash, as after a reboot."""
    return ChargePoint(rig.board, rig.settings, rig.session, rig.cp.messages, rig.authorizer)


def core(cp):
    """The Core requests' service of charge point cp."""
    return Core(cp)


def test_availability_survives_a_reboot():
    rig = Rig(connectors=2)
    try:
        assert rig.core.change_availability({"connectorId": 2, "type": "Inoperative"}) == \
            {"status": "Accepted"}
        cp = rebooted(rig)
        assert [cp.status_of(n)[0] for n in (0, 1, 2)] == ["Available", "Available",
                                                           "Unavailable"]
        assert cp.connectors[1].evse.available is False, "its EVSE is told"
        assert not cp.connectors[1].usable() and cp.connectors[0].usable()
        assert core(cp).change_availability({"connectorId": 0, "type": "Inoperative"}) == \
            {"status": "Accepted"}
        cp = rebooted(rig)
        assert [cp.status_of(n)[0] for n in (0, 1, 2)] == ["Unavailable"] * 3
        assert core(cp).change_availability({"connectorId": 0, "type": "Operative"}) == \
            {"status": "Accepted"}
        cp = rebooted(rig)
        assert [cp.status_of(n)[0] for n in (0, 1, 2)] == ["Available"] * 3
    finally:
        rig.close()


def test_a_file_it_cannot_use_leaves_everything_operative():
    rig = Rig(connectors=2)
    try:
        path = rig.board.state_dir + "/availability.json"
        for text in ("[false, false]", "{not json", '"false"'):
            atomicfile.write(path, text)  # another connector count, torn, not a list
            cp = rebooted(rig)
            assert [cp.status_of(n)[0] for n in (0, 1, 2)] == ["Available"] * 3, text
    finally:
        rig.close()


def test_the_charge_point_goes_inoperative_when_its_last_transaction_ends():
    rig = Rig(connectors=3)
    try:
        running = []
        for n in (1, 2):
            rig.plug(n)
            c = rig.cp.connectors[n - 1]
            c.begin("TAG-%d" % n)
            running.append(c)
        answer = rig.core.change_availability({"connectorId": 0, "type": "Inoperative"})
        assert answer == {"status": "Scheduled"}, answer
        assert [rig.cp.status_of(n)[0] for n in (0, 3)] == ["Available", "Unavailable"], \
            "the idle connector at once, the charge point not yet"
        running[0].stop("Local")
        assert [rig.cp.status_of(n)[0] for n in (0, 1)] == ["Available", "Unavailable"], \
            "one transaction still runs: the charge point stays Available"
        assert running[1].evse.available, "the running one keeps its relay's permission"
        running[1].stop("Local")
        assert [rig.cp.status_of(n)[0] for n in (0, 1, 2, 3)] == ["Unavailable"] * 4
        assert not running[1].evse.available
        cp = rebooted(rig)
        assert [cp.status_of(n)[0] for n in (0, 1, 2, 3)] == ["Unavailable"] * 4, "on flash"
    finally:
        rig.close()
