# End to end: every configuration key through GetConfiguration and ChangeConfiguration, kept
# across a reboot; the AuthorizationKey never read back nor logged.
from ocpp.v16 import call

from cpharness import Harness

NEW_KEY = "Secret-0123456789abcdef"
SPECIAL = {  # keys whose valid new value is not a simple step of the current one
    "AuthorizationKey": NEW_KEY,
    "ConnectorPhaseRotation": "1.RST",
    "SecurityProfile": None,  # raising it needs TLS set up first: checked in device tests
}


def new_value(key, value):
    if key in SPECIAL:
        return SPECIAL[key]
    if value in ("true", "false"):
        return "false" if value == "true" else "true"
    if value.isdigit():
        n = int(value)
        return str(n - 1 if n > 1 else n + 1)
    if "Data" in key:  # measurand lists
        return "Energy.Active.Import.Register,Power.Active.Import"
    return None


async def test_every_key_round_trips_and_persists(tmp_path):
    async with Harness(tmp_path, runner=True) as h:
        conf = await h.cs.call("CP_1", call.GetConfiguration())
        keys = {k["key"]: k for k in conf.configuration_key}
        assert not conf.unknown_key
        assert keys["SupportedFeatureProfiles"]["value"] == (
            "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
            "RemoteTrigger")
        assert keys["SupportedFileTransferProtocols"]["value"] == "HTTP,HTTPS"
        assert keys["NumberOfConnectors"]["value"] == "1"
        assert "value" not in keys["AuthorizationKey"]  # write-only
        expected = {}
        for key, entry in sorted(keys.items()):
            result = await h.cs.call("CP_1", call.ChangeConfiguration(
                key=key, value=entry.get("value") or "x"))
            if entry["readonly"]:
                assert result.status == "Rejected", key
                continue
            value = new_value(key, entry.get("value", ""))
            if value is None:
                continue
            result = await h.cs.call("CP_1", call.ChangeConfiguration(key=key, value=value))
            assert result.status == "Accepted", (key, value, result.status)
            expected[key] = value
        assert len(expected) >= 25
        unknown = await h.cs.call("CP_1", call.ChangeConfiguration(key="NoSuchKey", value="1"))
        assert unknown.status == "NotSupported"
        bad = await h.cs.call("CP_1", call.ChangeConfiguration(key="HeartbeatInterval",
                                                                value="soon"))
        assert bad.status == "Rejected"
        result = await h.cs.call("CP_1", call.Reset(type="Soft"))
        assert result.status == "Accepted"
        await h.cs.wait_for("BootNotification", "CP_1", timeout=20)
        conf = await h.cs.call("CP_1", call.GetConfiguration(key=sorted(expected) + ["Nope"]))
        after = {k["key"]: k.get("value") for k in conf.configuration_key}
        assert conf.unknown_key == ["Nope"]
        for key, value in expected.items():
            if key == "AuthorizationKey":
                assert after[key] is None
            elif key != "HeartbeatInterval":  # the BootNotification answer sets it again
                assert after[key] == value, (key, after[key], value)
        assert NEW_KEY not in h.fw.log()
