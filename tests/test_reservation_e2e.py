# End to end, OCPP 1.6 Reservation: the firmware process with the simulated EV, against the
# bundled central system (the ocpp package): a reservation honoured, cancelled, expired.
import pytest
from ocpp.v16 import call

from cpharness import Harness
from test_core_e2e import INTERPRETERS
from tools.csms.session import utc_now


def statuses(h, n=1):
    return [r.payload["status"] for r in h.cs.received("CP_1")
            if r.action == "StatusNotification" and r.payload["connectorId"] == n]


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_reservation_is_honoured_for_its_holder_only(tmp_path, interpreter):
    cs_options = {"parent_tags": {"HOLDER": "FAMILY", "OTHER": "OTHERS"}}
    async with Harness(tmp_path, interpreter=interpreter, cs_options=cs_options) as h:
        result = await h.cs.call("CP_1", call.ReserveNow(
            connector_id=1, expiry_date=utc_now(3600), id_tag="HOLDER", reservation_id=7,
            parent_id_tag="FAMILY"))
        assert result.status == "Accepted"
        await h.status("Reserved")
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe OTHER") == "ok"  # asked: its group is another one
        assert (await h.cs.wait_for("Authorize", "CP_1"))["idTag"] == "OTHER"
        assert await h.ctl("swipe HOLDER") == "ok"
        assert (await h.cs.wait_for("Authorize", "CP_1"))["idTag"] == "HOLDER"
        start = await h.cs.wait_for("StartTransaction", "CP_1")
        assert start["idTag"] == "HOLDER" and start["reservationId"] == 7, start
        assert [r.payload["idTag"] for r in h.cs.received("CP_1")
                if r.action == "StartTransaction"] == ["HOLDER"], "OTHER never started"
        await h.status("SuspendedEV")  # the EV in state B
        assert await h.ctl("cp 1 C") == "ok"
        await h.status("Charging")
        # Reserved through the plug and the other card, then the holder's transaction
        assert statuses(h) == ["Available", "Reserved", "SuspendedEV", "Charging"], statuses(h)
        again = await h.cs.call("CP_1", call.CancelReservation(reservation_id=7))
        assert again.status == "Rejected", "used up by the transaction"


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_cancelled_reservation_frees_the_connector(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        result = await h.cs.call("CP_1", call.ReserveNow(
            connector_id=1, expiry_date=utc_now(3600), id_tag="HOLDER", reservation_id=8))
        assert result.status == "Accepted"
        await h.status("Reserved")
        result = await h.cs.call("CP_1", call.CancelReservation(reservation_id=8))
        assert result.status == "Accepted"
        await h.status("Available")
        result = await h.cs.call("CP_1", call.CancelReservation(reservation_id=8))
        assert result.status == "Rejected"
        assert statuses(h) == ["Available", "Reserved", "Available"], statuses(h)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_an_expired_reservation_frees_the_connector_on_its_own(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        result = await h.cs.call("CP_1", call.ReserveNow(
            connector_id=1, expiry_date=utc_now(3), id_tag="HOLDER", reservation_id=9))
        assert result.status == "Accepted"
        await h.status("Reserved")
        await h.status("Available", timeout=10)  # no request in between
        assert statuses(h) == ["Available", "Reserved", "Available"], statuses(h)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_reservation_is_kept_across_a_reboot(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter, runner=True) as h:
        result = await h.cs.call("CP_1", call.ReserveNow(
            connector_id=1, expiry_date=utc_now(3600), id_tag="HOLDER", reservation_id=10))
        assert result.status == "Accepted"
        await h.status("Reserved")
        assert (await h.cs.call("CP_1", call.Reset(type="Soft"))).status == "Accepted"
        await h.cs.wait_for("BootNotification", "CP_1", timeout=20)  # restarted by the runner
        await h.status("Reserved")  # read from flash at start-up
        result = await h.cs.call("CP_1", call.CancelReservation(reservation_id=10))
        assert result.status == "Accepted"
        await h.status("Available")
