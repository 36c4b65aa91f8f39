# End to end: the 1.6 security whitepaper's credentials and security events, against the
# bundled central system (issue 10, items 1, 5 and 6), on CPython and the MicroPython unix port.
import asyncio
import ssl

import pytest
from ocpp.v16 import call

from cpharness import Harness
from simproc import micropython
from tlsca import TestCA
from tools.csms import CentralSystem

INTERPRETERS = [pytest.param(None, id="cpython"),
                pytest.param(micropython(), id="micropython", marks=pytest.mark.skipif(
                    micropython() is None, reason="no micropython (unix port) on PATH"))]

OLD_KEY = "OldAuthorizationKey-0001"
NEW_KEY = "NewAuthorizationKey-0002"


def events(h, kind=None):
    return [r.payload for r in h.cs.received("CP_1")
            if r.action == "SecurityEventNotification" and (kind is None or r.payload["type"] == kind)]


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_changed_authorization_key_is_used_from_the_next_connection(tmp_path, interpreter):
    harness = Harness(tmp_path, interpreter=interpreter,
                      cs_options={"credentials": ("CP_1", OLD_KEY)},
                      csms={"securityProfile": 1, "authorizationKey": OLD_KEY})
    async with harness as h:
        result = await h.cs.call("CP_1", call.ChangeConfiguration(key="AuthorizationKey",
                                                                  value=NEW_KEY))
        assert result.status == "Accepted"
        event = await h.cs.wait_for("SecurityEventNotification", "CP_1", lambda p: p["type"] ==
                                    "ReconfigurationOfSecurityParameters")
        assert "AuthorizationKey" in event["techInfo"] and NEW_KEY not in event["techInfo"]
        # A01.FR.03: the central system now accepts only the new key
        port = h.port
        await h.cs.stop()
        h.cs = CentralSystem(heartbeat_interval=60, credentials=("CP_1", NEW_KEY))
        await h.cs.start(port=port)
        await h.cs.wait_connected("CP_1", timeout=30)
        # and after a reboot too: the key was stored, config.json still holds the old one
        h.fw.stop()
        await asyncio.to_thread(h.fw.start)
        await h.cs.wait_for("BootNotification", "CP_1", timeout=30)
        log = h.fw.log()
        assert NEW_KEY not in log and OLD_KEY not in log
        assert [line for line in log.splitlines() if " security:" in line
                and "ReconfigurationOfSecurityParameters" in line], "not in the security log"


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_profile_3_sends_no_basic_auth(tmp_path, interpreter):
    ca = TestCA(tmp_path)
    server, client = ca.server(), ca.client("CP_1")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(server.cert, server.key)
    tls.verify_mode = ssl.CERT_REQUIRED  # profile 3: the client certificate authenticates
    tls.load_verify_locations(ca.path)
    harness = Harness(tmp_path, interpreter=interpreter, cs_options={"tls": tls},
                      csms={"securityProfile": 3, "caFile": ca.path, "authorizationKey": OLD_KEY,
                            "clientCertFile": client.cert, "clientKeyFile": client.key})
    async with harness as h:
        assert h.cs.authorizations == [("CP_1", None)]  # a key is configured, yet none is sent


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_start_reset_and_clock_are_security_events(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter, runner=True,
                       cs_options={"clock_offset_s": 3600}) as h:
        first = await h.cs.wait_for("SecurityEventNotification", "CP_1")
        assert first["type"] == "StartupOfTheDevice" and "PowerUp" in first["techInfo"]
        clock = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                    lambda p: p["type"] == "SettingSystemTime")
        assert "3600" in clock["techInfo"] or "359" in clock["techInfo"], clock
        assert not events(h, "ResetOrReboot")  # a power-up is no reset
        assert (await h.cs.call("CP_1", call.Reset(type="Soft"))).status == "Accepted"
        await h.cs.wait_for("BootNotification", "CP_1", timeout=30)
        start = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                    lambda p: p["type"] == "StartupOfTheDevice", timeout=30)
        reset = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                    lambda p: p["type"] == "ResetOrReboot", timeout=30)
        assert "RemoteReset" in start["techInfo"] and reset["techInfo"] == "RemoteReset"


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_clock_in_step_raises_no_time_event(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await h.cs.wait_for("SecurityEventNotification", "CP_1",
                            lambda p: p["type"] == "StartupOfTheDevice")
        await h.cs.call("CP_1", call.TriggerMessage(requested_message="Heartbeat"))
        await h.cs.wait_for("Heartbeat", "CP_1")
        await asyncio.sleep(0.5)
        assert [e["type"] for e in events(h)] == ["StartupOfTheDevice"]


async def reach_after_failures(h, cs_options, failures=2):
    """Let the firmware fail to connect `failures` times, then give it a central system it
    can reach with `cs_options`, and wait for its boot there."""
    await asyncio.to_thread(h.fw.wait_log, "connect failed", 30, failures)
    port = h.port
    await h.cs.stop()
    h.cs = CentralSystem(heartbeat_interval=60, **cs_options)
    await h.cs.start(port=port)
    await h.cs.wait_for("BootNotification", "CP_1", timeout=30)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_rejected_key_is_reported_once_when_connected(tmp_path, interpreter):
    harness = Harness(tmp_path, interpreter=interpreter, boot=False,
                      cs_options={"credentials": ("CP_1", NEW_KEY)},
                      csms={"securityProfile": 1, "authorizationKey": OLD_KEY})
    async with harness as h:
        await reach_after_failures(h, {"credentials": ("CP_1", OLD_KEY)})
        failed = await h.cs.wait_for("SecurityEventNotification", "CP_1", lambda p: p["type"] ==
                                     "FailedToAuthenticationAtCentralSystem", timeout=15)
        assert "401" in failed["techInfo"] and OLD_KEY not in failed["techInfo"]
        await h.cs.wait_for("SecurityEventNotification", "CP_1",
                            lambda p: p["type"] == "StartupOfTheDevice")
        await asyncio.sleep(0.5)
        assert len(events(h, "FailedToAuthenticationAtCentralSystem")) == 1  # not per attempt


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_an_unverified_server_certificate_is_reported_when_connected(tmp_path, interpreter):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    trusted, stranger = TestCA(tmp_path / "a"), TestCA(tmp_path / "b", name="Stranger CA")

    def tls(ca):
        srv = ca.server()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(srv.cert, srv.key)
        return ctx
    harness = Harness(tmp_path, interpreter=interpreter, boot=False,
                      cs_options={"tls": tls(stranger)},
                      csms={"securityProfile": 2, "caFile": trusted.path,
                            "authorizationKey": OLD_KEY})
    async with harness as h:
        await reach_after_failures(h, {"tls": tls(trusted)})
        bad = await h.cs.wait_for("SecurityEventNotification", "CP_1", lambda p: p["type"] ==
                                  "InvalidCentralSystemCertificate", timeout=15)
        assert "certificate" in bad["techInfo"]
        await asyncio.sleep(0.5)
        assert len(events(h, "InvalidCentralSystemCertificate")) == 1


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_events_wait_on_flash_through_a_power_cut(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await h.cs.wait_for("SecurityEventNotification", "CP_1",
                            lambda p: p["type"] == "StartupOfTheDevice")
        port = h.port
        await h.cs.stop()
        h.fw.stop()  # power cut
        await asyncio.to_thread(h.fw.start)  # a start while the central system is away ...
        await asyncio.to_thread(h.fw.wait_log, "connect failed", 30)
        h.fw.stop()  # ... and power cut again before it was ever sent
        h.cs = CentralSystem(heartbeat_interval=60)
        await h.cs.start(port=port)
        await asyncio.to_thread(h.fw.start)
        first = await h.cs.wait_for("SecurityEventNotification", "CP_1", timeout=30)
        second = await h.cs.wait_for("SecurityEventNotification", "CP_1", timeout=30)
        assert first["type"] == second["type"] == "StartupOfTheDevice"
        assert first["timestamp"] <= second["timestamp"]  # in order, the offline start first


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_get_log_uploads_the_security_log_kept_on_flash(tmp_path, interpreter):
    from test_diagnostics_e2e import Collector, server
    httpd = server()
    url = "http://127.0.0.1:%d/upload" % httpd.server_address[1]
    Collector.bodies = []
    try:
        async with Harness(tmp_path, interpreter=interpreter) as h:
            await h.configure("AuthorizationKey", NEW_KEY)
            h.fw.stop()  # power cut: the RAM log is gone
            await asyncio.to_thread(h.fw.start)
            await h.cs.wait_for("BootNotification", "CP_1", timeout=30)
            for _ in range(20):  # enough traffic to push the start-up out of the RAM log
                await h.cs.call("CP_1", call.GetConfiguration(key=["HeartbeatInterval"]))
            result = await h.cs.call("CP_1", call.GetLog(
                log_type="SecurityLog", request_id=7, log={"remoteLocation": url}))
            assert result.status == "Accepted"
            notes = [await h.cs.wait_for("LogStatusNotification", "CP_1") for _ in range(2)]
            assert notes[-1] == {"status": "Uploaded", "requestId": 7}
            body = Collector.bodies[-1].decode()
            lines = body[body.index("\r\n\r\n") + 4:body.rindex("\r\n--")].split("\n")[:-1]
            kinds = [ln.split(" ")[1] for ln in lines]
            assert kinds == ["StartupOfTheDevice", "ReconfigurationOfSecurityParameters",
                             "StartupOfTheDevice"], lines
            assert lines[1].endswith("AuthorizationKey changed") and NEW_KEY not in body
            assert all(ln[:4].isdigit() and ln[19] == "Z" for ln in lines), lines  # UTC time
    finally:
        httpd.shutdown()
        httpd.server_close()


def tls_server_context(ca):
    srv = ca.server()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(srv.cert, srv.key)
    return ctx


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_an_installed_central_system_root_is_trusted(tmp_path, interpreter):
    from test_diagnostics_e2e import Collector, server
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = TestCA(tmp_path / "a"), TestCA(tmp_path / "b", name="Second Root CA")
    harness = Harness(tmp_path, interpreter=interpreter,
                      cs_options={"tls": tls_server_context(first)},
                      csms={"securityProfile": 2, "caFile": first.path,
                            "authorizationKey": OLD_KEY})
    httpd = server()
    httpd.socket = tls_server_context(second).wrap_socket(httpd.socket, server_side=True)
    Collector.bodies = []
    kind = "CentralSystemRootCertificate"
    try:
        async with harness as h:
            # the installer's root is listed (M03), and in use: not deletable (M04.FR.06)
            ids = await h.cs.call("CP_1", call.GetInstalledCertificateIds(certificate_type=kind))
            assert ids.status == "Accepted" and len(ids.certificate_hash_data) == 1
            assert int(ids.certificate_hash_data[0]["serial_number"], 16) == \
                first.cert.serial_number
            caf = ids.certificate_hash_data[0]
            deleted = await h.cs.call("CP_1", call.DeleteCertificate(certificate_hash_data=caf))
            assert deleted.status == "Failed"
            installed = await h.cs.call("CP_1", call.InstallCertificate(
                certificate_type=kind, certificate=second.pem.decode()))
            assert installed.status == "Accepted"
            # HTTPS trusts it at once: a log upload to a server of the second root
            url = "https://localhost:%d/upload" % httpd.server_address[1]
            await h.cs.call("CP_1", call.GetLog(log_type="SecurityLog", request_id=3,
                                                log={"remoteLocation": url}))
            notes = [await h.cs.wait_for("LogStatusNotification", "CP_1") for _ in range(2)]
            assert notes[-1]["status"] == "Uploaded", notes
            # the WebSocket from its next connection: a central system of the second root
            port = h.port
            await h.cs.stop()
            h.cs = CentralSystem(heartbeat_interval=60, tls=tls_server_context(second),
                                 credentials=("CP_1", OLD_KEY))
            await h.cs.start(port=port)
            await h.cs.wait_connected("CP_1", timeout=30)
            # no longer the last root: the first may go
            deleted = await h.cs.call("CP_1", call.DeleteCertificate(certificate_hash_data=caf))
            assert deleted.status == "Accepted"
            ids = await h.cs.call("CP_1", call.GetInstalledCertificateIds(certificate_type=kind))
            assert [int(d["serial_number"], 16) for d in ids.certificate_hash_data] == [
                second.cert.serial_number]
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_raising_the_security_profile_reconnects_with_it(tmp_path, interpreter):
    ca = TestCA(tmp_path)
    tls_cs = CentralSystem(heartbeat_interval=60, tls=tls_server_context(ca),
                           credentials=("CP_1", OLD_KEY))
    tls_port = await tls_cs.start()
    harness = Harness(tmp_path, interpreter=interpreter,
                      csms={"tlsUrl": "wss://127.0.0.1:%d/ocpp" % tls_port})
    try:
        async with harness as h:
            async def change(value):
                return (await h.cs.call("CP_1", call.ChangeConfiguration(
                    key="SecurityProfile", value=str(value)))).status
            assert await change(0) == "Rejected"  # A05.FR.01: not higher
            assert await change(1) == "Rejected"  # FR.02: no AuthorizationKey yet
            await h.configure("AuthorizationKey", OLD_KEY)
            assert await change(2) == "Rejected"  # FR.03: no CentralSystemRootCertificate
            assert await change(1) == "Accepted"
            # FR.06/07: it leaves and comes back with Basic auth
            await h.cs.wait_for("SecurityEventNotification", "CP_1", lambda p: p.get(
                "techInfo") == "SecurityProfile changed", timeout=30)
            for _ in range(300):  # the reconnect follows the link's back-off (2 s and up)
                if len(h.cs.authorizations) >= 2:
                    break
                await asyncio.sleep(0.1)
            assert h.cs.authorizations[0] == ("CP_1", None)
            assert h.cs.authorizations[-1][1].startswith("Basic "), h.cs.authorizations
            assert await change(3) == "Rejected"  # FR.03/04: no root, no client certificate
            installed = await h.cs.call("CP_1", call.InstallCertificate(
                certificate_type="CentralSystemRootCertificate", certificate=ca.pem.decode()))
            assert installed.status == "Accepted"
            assert await change(2) == "Accepted"
            await tls_cs.wait_connected("CP_1", timeout=30)  # on TLS now, csms.tlsUrl
            assert tls_cs.authorizations[-1][1].startswith("Basic ")
            conf = await tls_cs.call("CP_1", call.GetConfiguration(key=["SecurityProfile"]))
            assert conf.configuration_key[0]["value"] == "2"
            # and after a reboot too
            h.fw.stop()
            await asyncio.to_thread(h.fw.start)
            await tls_cs.wait_for("BootNotification", "CP_1", timeout=30)
    finally:
        await tls_cs.stop()


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_security_profile_that_cannot_connect_falls_back(tmp_path, interpreter):
    ca = TestCA(tmp_path)
    harness = Harness(tmp_path, interpreter=interpreter,
                      cs_options={"credentials": ("CP_1", OLD_KEY)},
                      csms={"securityProfile": 1, "authorizationKey": OLD_KEY})
    async with harness as h:  # nothing listens for TLS: url as wss:// on a ws:// server
        installed = await h.cs.call("CP_1", call.InstallCertificate(
            certificate_type="CentralSystemRootCertificate", certificate=ca.pem.decode()))
        assert installed.status == "Accepted"
        result = await h.cs.call("CP_1", call.ChangeConfiguration(key="SecurityProfile",
                                                                  value="2"))
        assert result.status == "Accepted"
        back = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                   lambda p: "back to 1" in p.get("techInfo", ""), timeout=60)
        assert back["type"] == "ReconfigurationOfSecurityParameters"
        conf = await h.cs.call("CP_1", call.GetConfiguration(key=["SecurityProfile"]))
        assert conf.configuration_key[0]["value"] == "1"  # FR.08, stored
        assert h.fw.log().count("connect failed") >= 3


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_invalid_messages_are_a_security_event(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await h.cs.send_raw("CP_1", '[2,"x1","Reset",{"type":"Sideways"}]')
        await h.cs.send_raw("CP_1", '[2,"x2","Reset",{"type":"Sideways"}]')
        event = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                    lambda p: p["type"] == "InvalidMessages")
        assert "Reset" in event["techInfo"]
        await asyncio.sleep(0.5)
        assert len(events(h, "InvalidMessages")) == 1  # once per connection, not per frame
