# End to end, OCPP 1.6 Local Auth List Management: the bundled central system sends a Full list
# and a Differential update, reads the version, goes away; offline the list decides who charges.
# A charging session without a list never makes (imports) the list; a list on flash is made for
# an authorization after a power cut, before any request.
import asyncio

import pytest
from ocpp.v16 import call
from ocpp.v16.datatypes import AuthorizationData, IdTagInfo

from cpharness import Harness
from test_core_e2e import INTERPRETERS
from tools.csms import CentralSystem


def listed(tag, status="Accepted"):
    return AuthorizationData(id_tag=tag, id_tag_info=IdTagInfo(status=status))


async def refused(h, tag):
    """Swipe `tag` and wait until the firmware has refused it."""
    before = h.fw.log().count("card %s refused" % tag)
    assert await h.ctl("swipe " + tag) == "ok"
    await asyncio.to_thread(h.fw.wait_log, "card %s refused" % tag, 15, before + 1)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_offline_the_local_list_decides_and_the_session_is_delivered(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        # a plain session: the list is never made, its module never imported
        assert await h.ctl("plug 1") == "ok"
        assert await h.ctl("swipe PLAIN-1") == "ok"
        await h.cs.wait_for("StartTransaction", "CP_1")
        assert await h.ctl("swipe PLAIN-1") == "ok"
        await h.cs.wait_for("StopTransaction", "CP_1")
        assert await h.ctl("unplug 1") == "ok"
        await h.status("Available")
        assert "locallist:" not in h.fw.log()
        # the first request makes it: the defaults are LocalAuthListEnabled and
        # LocalAuthorizeOffline true, AllowOfflineTxForUnknownId false
        assert (await h.cs.call("CP_1", call.GetLocalListVersion())).list_version == 0
        assert "INFO locallist: local authorization list: empty" in h.fw.log()
        result = await h.cs.call("CP_1", call.SendLocalList(
            list_version=5, update_type="Full",
            local_authorization_list=[listed("LIST-KEPT"), listed("LIST-REMOVED"),
                                      listed("LIST-BLOCKED", "Blocked")]))
        assert result.status == "Accepted"
        result = await h.cs.call("CP_1", call.SendLocalList(
            list_version=6, update_type="Differential",
            local_authorization_list=[listed("list-added"), AuthorizationData(
                id_tag="LIST-REMOVED")]))
        assert result.status == "Accepted"
        result = await h.cs.call("CP_1", call.SendLocalList(
            list_version=6, update_type="Differential",
            local_authorization_list=[listed("TOO-LATE")]))
        assert result.status == "VersionMismatch"
        assert (await h.cs.call("CP_1", call.GetLocalListVersion())).list_version == 6
        port = h.port
        await h.cs.stop()  # the central system goes away
        await asyncio.to_thread(h.fw.wait_log, "WARN link: disconnected")
        assert await h.ctl("plug 1") == "ok"
        await h.wait_state(1, lambda s: s["status"] == "Preparing")
        await refused(h, "LIST-REMOVED")  # removed by the Differential: unknown now
        await refused(h, "UNKNOWN-9")
        await refused(h, "LIST-BLOCKED")
        assert await h.ctl("swipe LIST-ADDED") == "ok"  # added by the Differential, any case
        assert await h.ctl("cp 1 C") == "ok"
        await h.wait_state(1, lambda s: s["relay"] == "closed")  # charging while offline
        assert await h.ctl("swipe LIST-ADDED") == "ok"  # the same card stops it
        await h.wait_state(1, lambda s: s["relay"] == "open")
        cs = CentralSystem(heartbeat_interval=60)
        h.cs = cs
        await cs.start(port=port)
        start = await cs.wait_for("StartTransaction", "CP_1", timeout=30)
        stop = await cs.wait_for("StopTransaction", "CP_1")
        assert start["idTag"] == "LIST-ADDED" and stop["reason"] == "Local"
        assert stop["transactionId"] == cs.last_transaction_id
        assert [r.payload["idTag"] for r in cs.received("CP_1")
                if r.action == "StartTransaction"] == ["LIST-ADDED"], "nobody else charged"
        # the list is still there after the reconnect
        assert (await cs.call("CP_1", call.GetLocalListVersion())).list_version == 6


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_after_a_power_cut_the_list_on_flash_decides_offline(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        result = await h.cs.call("CP_1", call.SendLocalList(
            list_version=3, update_type="Full",
            local_authorization_list=[listed("KEPT-1"), listed("OLD-1", "Expired")]))
        assert result.status == "Accepted"
        await h.cs.stop()  # no central system after the power comes back
        h.fw.proc.kill()  # power cut
        h.fw.proc.wait()
        h.reconnect_control()
        await asyncio.to_thread(h.fw.start)
        assert await h.ctl("plug 1") == "ok"
        await h.wait_state(1, lambda s: s["status"] == "Preparing")
        await refused(h, "OLD-1")
        await refused(h, "NEW-1")
        assert "INFO locallist: local authorization list version 3: 2 identifiers" in h.fw.log()
        assert await h.ctl("swipe KEPT-1") == "ok"
        assert await h.ctl("cp 1 C") == "ok"
        await h.wait_state(1, lambda s: s["relay"] == "closed")
