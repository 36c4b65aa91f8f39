# Device tests of the Reservation profile (firmware/v16/reservation.py) on a real ChargePoint:
# every ReserveNow answer, replacing by id, CancelReservation, expiry, who holds a reservation,
# connector 0, the file on flash, and that a plain session never makes the service.
import sys

import atomicfile
import logger
from civil import utc_text
from cprig import Rig, accept_all, answers_with_parents
from firmware.v16 import start
from firmware.v16.settings import Settings
from ticks import ticks_ms

PARENTS = {"HOLDER": "FAMILY", "KID": "family", "OTHER": "OTHERS"}


with_parents = answers_with_parents(PARENTS)


class NoZero(Settings):
    """A charge point configured without reservations of connector 0 (the key is read-only)."""

    def get(self, name):
        if name == "ReserveConnectorZeroSupported":
            return False
        return Settings.get(self, name)


async def reserve(rig, n, tag, rid=1, parent=None, in_s=3600):
    p = {"connectorId": n, "expiryDate": utc_text(rig.board.time_s() + in_s), "idTag": tag,
         "reservationId": rid}
    if parent is not None:
        p["parentIdTag"] = parent
    answer = await rig.cs.request("ReserveNow", p)
    assert answer[0] == 3, answer
    return answer[2]["status"]


async def cancel(rig, rid):
    return (await rig.cs.request("CancelReservation", {"reservationId": rid}))[2]["status"]


def status(rig, n=1):
    return rig.cp.status_of(n)[0]


def path(rig):
    return rig.board.state_dir + "/" + start.RESERVATIONS_FILE


def fault(rig, n, code):
    c = rig.cp.connectors[n - 1]
    c.evse.set_external_fault(code)
    c.evse.tick(ticks_ms())


def starts(rig):
    return rig.records("StartTransaction")


def capture():
    lines = []
    logger.set_sink(lines.append)
    return lines


async def test_a_plain_session_never_makes_the_reservation_service():
    before = set(sys.modules)
    rig = Rig(reservations=True)
    try:
        rig.plug()
        await rig.cp.on_card("TAG-A")
        assert rig.cp.connectors[0].tx is not None, "started"
        assert "reservationId" not in starts(rig)[0], starts(rig)
        answer = await rig.cs.request("RemoteStopTransaction",
                                      {"transactionId": rig.cp.connectors[0].tx.id})
        assert answer[2] == {"status": "Accepted"}, answer
        rig.cp.status_of(1)
        assert rig.reservations.made is None, "made without a reservation request"
        assert "firmware.v16.reservation" not in sys.modules or "firmware.v16.reservation" in before
        assert not atomicfile.exists(path(rig))
    finally:
        rig.close()


def test_the_service_registers_its_actions():
    rig = Rig(reservations=True)
    try:
        assert not [a for a in start.RESERVATION_ACTIONS if a in rig.session.handlers]
        rig.reservations.get()
        for action in start.RESERVATION_ACTIONS:
            assert rig.session.handlers.get(action) is not None, action + " not registered"
    finally:
        rig.close()


async def test_reserve_now_accepted_makes_the_connector_reserved():
    rig = Rig(reservations=True)
    try:
        assert status(rig) == "Available"
        assert await reserve(rig, 1, "HOLDER", rid=11) == "Accepted"
        assert rig.reservations.made is not None, "made at the first request"
        assert status(rig) == "Reserved" and status(rig, 0) == "Available"
        rig.plug()  # someone's EV: the connector stays reserved for its holder
        assert status(rig) == "Reserved", status(rig)
        assert atomicfile.exists(path(rig)), "kept on flash"
    finally:
        rig.close()


async def test_reserve_now_faulted_unavailable_and_rejected():
    rig = Rig(connectors=2, reservations=True)
    try:
        fault(rig, 1, "GroundFailure")
        assert await reserve(rig, 1, "HOLDER") == "Faulted"
        fault(rig, 1, None)
        rig.core.change_availability({"connectorId": 1, "type": "Inoperative"})
        assert await reserve(rig, 1, "HOLDER") == "Unavailable"
        assert await reserve(rig, 3, "HOLDER") == "Rejected", "no connector 3"
        assert await reserve(rig, -1, "HOLDER") == "Rejected", "no connector -1"
        assert await reserve(rig, 2, "HOLDER", in_s=-60) == "Rejected", "expired already"
        assert rig.reservations.made.held == [], "nothing reserved"
        assert status(rig, 2) == "Available"
    finally:
        rig.close()


async def test_reserve_now_occupied():
    rig = Rig(connectors=2, reservations=True)
    try:
        rig.plug(1)  # an EV: Preparing
        assert await reserve(rig, 1, "HOLDER") == "Occupied"
        await rig.cp.on_card("TAG-A")  # a transaction
        assert rig.cp.connectors[0].tx is not None
        assert await reserve(rig, 1, "HOLDER") == "Occupied"
        assert await reserve(rig, 2, "HOLDER", rid=1) == "Accepted"
        assert await reserve(rig, 2, "HOLDER", rid=2) == "Occupied", "reserved for the same"
        assert await reserve(rig, 2, "SOMEONE", rid=3) == "Occupied", "reserved for another"
        rig.cp.connectors[1].begin("TAG-B")  # card first: an identifier waits for the cable
        assert await reserve(rig, 0, "HOLDER", rid=4) == "Occupied", "no connector free"
    finally:
        rig.close()


async def test_connector_zero_is_rejected_when_not_supported():
    rig = Rig(connectors=2, reservations=True, settings_class=NoZero)
    try:
        assert await reserve(rig, 0, "HOLDER") == "Rejected"
        assert await reserve(rig, 1, "HOLDER") == "Accepted", "a connector still may be"
    finally:
        rig.close()


async def test_a_reservation_id_held_is_replaced():
    rig = Rig(connectors=2, reservations=True)
    try:
        assert await reserve(rig, 1, "HOLDER", rid=5) == "Accepted"
        assert await reserve(rig, 2, "HOLDER", rid=5) == "Accepted", "moved to connector 2"
        assert status(rig, 1) == "Available" and status(rig, 2) == "Reserved"
        assert await reserve(rig, 2, "SOMEONE", rid=5) == "Accepted", "the same connector"
        held = rig.reservations.made.held
        assert len(held) == 1 and held[0][3] == "SOMEONE", held
        assert await reserve(rig, 2, "HOLDER", rid=6) == "Occupied", "another id: occupied"
        rig.plug(1)
        assert await reserve(rig, 1, "SOMEONE", rid=5) == "Occupied"
        assert rig.reservations.made.held == held and status(rig, 2) == "Reserved", (
            "a replacement that cannot be made leaves the reservation as it was")
    finally:
        rig.close()


async def test_cancel_reservation_accepted_then_rejected():
    rig = Rig(reservations=True)
    try:
        assert await cancel(rig, 9) == "Rejected", "nothing to cancel (and the service made)"
        assert await reserve(rig, 1, "HOLDER", rid=9) == "Accepted"
        assert status(rig) == "Reserved"
        assert await cancel(rig, 8) == "Rejected", "another id"
        assert await cancel(rig, 9) == "Accepted"
        assert status(rig) == "Available"
        assert not atomicfile.exists(path(rig)), "the last one gone: no file"
        assert await cancel(rig, 9) == "Rejected", "already cancelled"
    finally:
        rig.close()


async def test_an_expired_reservation_ends():
    rig = Rig(reservations=True)
    try:
        assert await reserve(rig, 1, "HOLDER", in_s=600) == "Accepted"
        service = rig.reservations.made
        now = rig.board.time_s()
        service.tick(now + 599)
        assert status(rig) == "Reserved"
        service.tick(now + 600)
        assert status(rig) == "Available" and not service.held
        assert not atomicfile.exists(path(rig))
    finally:
        rig.close()


async def test_the_control_loop_ends_an_expired_reservation_and_reports_it():
    rig = Rig(reservations=True)
    rig.start()
    try:
        assert await rig.until(lambda: rig.statuses(1) == ["Available"])
        assert await reserve(rig, 1, "HOLDER", in_s=2) == "Accepted"  # 1 to 2 s from now
        assert await rig.until(lambda: rig.statuses(1) == ["Available", "Reserved", "Available"],
                               ms=6000), rig.statuses(1)
        assert not rig.reservations.made.held
    finally:
        rig.close()


async def test_a_faulted_or_unavailable_connector_ends_its_reservation():
    rig = Rig(connectors=2, reservations=True)
    try:
        assert await reserve(rig, 1, "HOLDER", rid=1) == "Accepted"
        assert await reserve(rig, 2, "HOLDER", rid=2) == "Accepted"
        service = rig.reservations.made
        fault(rig, 1, "GroundFailure")
        rig.core.change_availability({"connectorId": 2, "type": "Inoperative"})
        service.tick(rig.board.time_s())
        assert not service.held, service.held
        fault(rig, 1, None)
        assert status(rig, 1) == "Available" and status(rig, 2) == "Unavailable"
    finally:
        rig.close()


async def test_the_holder_by_id_tag_whatever_its_case_and_nobody_else():
    rig = Rig(connectors=2, reservations=True)
    try:
        assert await reserve(rig, 1, "HOLDER-1", rid=21) == "Accepted"
        rig.plug(1)
        await rig.cp.on_card("STRANGER")
        c1, c2 = rig.cp.connectors
        assert c1.tx is None and status(rig, 1) == "Reserved", "refused at the reserved one"
        assert c2.pending_tag == "STRANGER", "the free connector waits for the stranger's cable"
        await rig.cp.on_card("holder-1")
        assert c1.tx is not None and c1.tx.id_tag == "holder-1"
        start = starts(rig)[0]
        assert start["connectorId"] == 1 and start["reservationId"] == 21, start
        assert not rig.reservations.made.held, "used up"
    finally:
        rig.close()


async def test_a_card_of_another_is_refused_when_the_reserved_connector_is_the_only_one():
    rig = Rig(answer=with_parents, reservations=True)
    try:
        assert await reserve(rig, 1, "HOLDER", rid=3, parent="FAMILY") == "Accepted"
        rig.plug()
        await rig.cp.on_card("OTHER")  # asked: its group is OTHERS
        assert [p["idTag"] for p in rig.cs.sent("Authorize")] == ["OTHER"]
        assert rig.cp.connectors[0].tx is None and not starts(rig)
        assert status(rig) == "Reserved"
        await rig.cp.on_card("UNKNOWN")  # no group
        assert rig.cp.connectors[0].tx is None and status(rig) == "Reserved"
    finally:
        rig.close()


async def test_the_holder_by_parent_id_tag_of_the_authorize_answer():
    rig = Rig(answer=with_parents, reservations=True)
    try:
        assert await reserve(rig, 1, "HOLDER", rid=4, parent="FAMILY") == "Accepted"
        rig.plug()
        await rig.cp.on_card("KID")  # Authorize: parentIdTag "family", the same group
        start = starts(rig)
        assert start and start[0]["idTag"] == "KID" and start[0]["reservationId"] == 4, start
    finally:
        rig.close()


async def test_the_holder_by_parent_id_tag_of_the_cache():
    rig = Rig(answer=with_parents, reservations=True, config={"LocalPreAuthorize": "true"})
    try:
        rig.authorizer.remember("KID", {"status": "Accepted", "parentIdTag": "FAMILY"})
        assert await reserve(rig, 1, "HOLDER", rid=6, parent="family") == "Accepted"
        rig.plug()
        await rig.cp.on_card("KID")
        assert not rig.cs.sent("Authorize"), "the cache told the group"
        assert starts(rig)[0]["reservationId"] == 6, starts(rig)
    finally:
        rig.close()


async def test_remote_start_on_a_reserved_connector_for_its_holder_only():
    rig = Rig(answer=with_parents, reservations=True, connectors=2)
    try:
        assert await reserve(rig, 2, "HOLDER", rid=8, parent="FAMILY") == "Accepted"
        answer = await rig.cs.request("RemoteStartTransaction", {"idTag": "OTHER",
                                                                 "connectorId": 2})
        assert answer[2] == {"status": "Rejected"}, answer
        rig.authorizer.remember("KID", {"status": "Accepted", "parentIdTag": "FAMILY"})
        rig.plug(2)
        answer = await rig.cs.request("RemoteStartTransaction", {"idTag": "KID",
                                                                 "connectorId": 2})
        assert answer[2] == {"status": "Accepted"}, answer
        assert await rig.until(lambda: starts(rig))
        assert starts(rig)[0]["reservationId"] == 8 and starts(rig)[0]["connectorId"] == 2
    finally:
        rig.close()


async def test_remote_start_without_connector_takes_the_holders_reserved_one():
    rig = Rig(reservations=True, connectors=2)
    try:
        assert await reserve(rig, 2, "HOLDER", rid=8) == "Accepted"
        answer = await rig.cs.request("RemoteStartTransaction", {"idTag": "holder"})
        assert answer[2] == {"status": "Accepted"}, answer
        c2 = rig.cp.connectors[1]
        assert c2.pending_tag == "holder" and status(rig, 2) == "Preparing", (
            "the holder's identifier waits for the cable there (G2)")
        rig.plug(2)
        assert starts(rig)[0]["reservationId"] == 8 and starts(rig)[0]["connectorId"] == 2
    finally:
        rig.close()


async def test_connector_zero_keeps_a_connector_free_for_its_holder():
    rig = Rig(reservations=True, connectors=2)
    try:
        assert await reserve(rig, 0, "HOLDER", rid=30) == "Accepted"
        assert [status(rig, n) for n in (0, 1, 2)] == ["Available"] * 3, "none shown Reserved"
        assert await reserve(rig, 0, "SECOND", rid=31) == "Accepted", "two connectors free"
        assert await reserve(rig, 0, "THIRD", rid=32) == "Occupied", "both held for connector 0"
        assert await cancel(rig, 31) == "Accepted"
        rig.plug(1)
        await rig.cp.on_card("STRANGER-A")  # one free connector stays: allowed
        c1, c2 = rig.cp.connectors
        assert c1.tx is not None and "reservationId" not in starts(rig)[0], starts(rig)
        rig.plug(2)
        await rig.cp.on_card("STRANGER-B")  # the last free one is kept for the holder
        assert c2.tx is None and len(starts(rig)) == 1, starts(rig)
        answer = await rig.cs.request("RemoteStartTransaction", {"idTag": "STRANGER-B",
                                                                 "connectorId": 2})
        assert answer[2] == {"status": "Rejected"}, answer
        await rig.cp.on_card("holder")
        assert c2.tx is not None, "the holder takes it"
        start = starts(rig)[1]
        assert start["connectorId"] == 2 and start["reservationId"] == 30, start
        assert not rig.reservations.made.held, "a transaction ends connector 0's reservation"
    finally:
        rig.close()


async def test_reservations_survive_a_restart():
    rig = Rig(reservations=True, connectors=2)
    try:
        assert await reserve(rig, 2, "HOLDER", rid=40, parent="FAMILY") == "Accepted"
        assert await reserve(rig, 0, "OTHER", rid=41) == "Accepted"
        kept = rig.reservations.made.held
        again = start.make_reservations(rig.cp, rig.session, rig.board.state_dir)
        assert again.held == kept, (again.held, kept)
        assert again.reserved(2) and not again.reserved(1)
    finally:
        rig.close()


async def test_a_torn_or_unreadable_file_is_ignored_with_a_log_line():
    rig = Rig(reservations=True)
    lines = capture()
    try:
        assert await reserve(rig, 1, "HOLDER", rid=50) == "Accepted"
        with open(path(rig), "rb") as f:
            whole = f.read()
        with open(path(rig), "wb") as f:
            f.write(whole[:-3])  # the write cut short
        again = start.make_reservations(rig.cp, rig.session, rig.board.state_dir)
        assert again.held == [] and not atomicfile.exists(path(rig)), again.held
        assert [ln for ln in lines if "reservations file torn" in ln], lines
        atomicfile.write(path(rig), '[[50, 7, 0, "HOLDER", null]]')  # no connector 7
        again = start.make_reservations(rig.cp, rig.session, rig.board.state_dir)
        assert again.held == [] and [ln for ln in lines if "unreadable" in ln], lines
    finally:
        logger.set_sink(None)
        rig.close()
