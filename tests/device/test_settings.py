# Device tests of the OCPP configuration store: every key, bad values, persistence, secrets.
import json

import atomicfile
import logger
from devtest import raises, rmtree, tempdir
from firmware.v16 import settings as S
from ocppj import errors
from ocppj.encoder import Encoder

KEY = "0123456789abcdef0123456789abcdef01234567"  # 40 hex digits: 20 random bytes
KEY2 = "fedcba9876543210fedcba98"


def make(path=None, connectors=1, profiles="Core,RemoteTrigger", overrides=None):
    return S.Settings(path or tempdir(), connectors, profiles, overrides)


def listed(settings, keys=None):
    """GetConfiguration answer as {key: (readonly, value or None)}."""
    out = {}
    for kv in settings.get_configuration(keys)["configurationKey"]:
        out[kv["key"]] = (kv["readonly"], kv.get("value"))
    return out


def capture():
    lines = []
    logger.set_sink(lines.append)
    logger.set_level("debug")
    return lines


def uncapture():
    logger.set_level("info")
    logger.set_sink(None)


def other_value(e, connectors=1):
    """A valid wire value of table row `e` that differs from its default."""
    name, kind, _, a, b, default = e
    if kind == S.INT:
        return str(b if default != b else a)
    if kind == S.BOOL:
        return "false" if default else "true"
    if kind == S.CSL:
        return "Power.Active.Import,Current.Offered"
    if kind == S.ROT:
        return "0.RST,1.RTS" if connectors >= 1 else "RST"
    if kind == S.STR:
        return KEY
    raise AssertionError("no test value for " + name)


def test_get_configuration_lists_every_key_with_its_default():
    d = tempdir()
    try:
        s = make(d, connectors=2)
        got = listed(s)
        names = [e[0] for e in S.TABLE]
        assert sorted(got) == sorted(names), "missing or extra keys: %r" % (
            set(got) ^ set(names))
        assert len(names) == 50, len(names)  # Core, security, firmware, the other profiles' keys
        assert got["HeartbeatInterval"] == (False, "300"), got["HeartbeatInterval"]
        assert got["AllowOfflineTxForUnknownId"] == (False, "false"), "bool is 'false'"
        assert got["NumberOfConnectors"] == (True, "2"), got["NumberOfConnectors"]
        assert got["SupportedFeatureProfiles"] == (True, "Core,RemoteTrigger"), "profiles"
        assert got["ConnectorPhaseRotation"] == (False, "1.Unknown,2.Unknown"), "rotation"
        assert got["ConnectorPhaseRotationMaxLength"] == (True, "3"), "rotation max"
        assert got["MeterValuesSampledData"] == (False, "Energy.Active.Import.Register"), "mv"
        assert got["StopTxnSampledData"] == (False, ""), "stop txn data empty by default"
        assert got["MeterValuesSampledDataMaxLength"] == (True, "3"), "csl max"
        assert got["GetConfigurationMaxKeys"] == (True, str(S.MAX_KEYS)), "max keys"
        assert got["AuthorizationKey"] == (False, None), "write-only: listed without value"
        assert got["SecurityProfile"] == (False, "0"), "whitepaper default 0"
        for e in S.TABLE:
            assert got[e[0]][0] == bool(e[2] & S.R), "readonly flag of " + e[0]
            v = got[e[0]][1]
            assert v is None or isinstance(v, str), "values are strings: " + e[0]
        assert s.get("HeartbeatInterval") == 300 and s.get("LocalAuthorizeOffline") is True, \
            "typed values"
        assert s.get_list("MeterValuesSampledData") == ["Energy.Active.Import.Register"], "list"
        assert s.get_list("StopTxnSampledData") == [], "empty list"
    finally:
        rmtree(d)


def test_round_trip_of_every_writable_key():
    d = tempdir()
    try:
        s = make(d, connectors=1)
        s.on_validate("SecurityProfile", lambda p: True)
        # AuthorizationKey first: SecurityProfile 1 and 2 need one
        order = [e for e in S.TABLE if e[0] == "AuthorizationKey"] + \
            [e for e in S.TABLE if e[0] != "AuthorizationKey"]
        for e in order:
            if e[2] & S.R:
                continue
            value = other_value(e)
            assert s.change(e[0], value) == "Accepted", "change of %s to %s" % (e[0], value)
            kv = s.get_configuration([e[0]])
            assert "unknownKey" not in kv, e[0]
            (got,) = kv["configurationKey"]
            assert got["key"] == e[0] and got["readonly"] is False, got
            if e[2] & S.W:
                assert "value" not in got, "write-only value shown"
            else:
                assert got["value"] == value, "%s: %r != %r" % (e[0], got["value"], value)
        assert s.get("HeartbeatInterval") == 86400 and s.get("AuthorizeRemoteTxRequests") is True
        assert s.get("AuthorizationKey") == KEY, "typed str"
        assert s.get("SecurityProfile") == 3, s.get("SecurityProfile")
    finally:
        rmtree(d)


def test_readonly_keys_are_rejected_and_unchanged():
    d = tempdir()
    try:
        s = make(d)
        ro = [e[0] for e in S.TABLE if e[2] & S.R]
        assert "NumberOfConnectors" in ro and "SupportedFeatureProfiles" in ro, ro
        assert len(ro) == 19, ro
        before = listed(s)
        for name in ro:
            assert s.change(name, "2") == "Rejected", name
            assert s.change(name, before[name][1]) == "Rejected", name + " (same value)"
        assert listed(s) == before, "read-only keys changed"
        assert not atomicfile.exists(d + "/" + S.FILE_NAME), "nothing to store"
    finally:
        rmtree(d)


def test_unknown_keys():
    d = tempdir()
    try:
        s = make(d)
        assert s.change("NoSuchKey", "1") == "NotSupported", "unknown key"
        assert s.change("ItemsPerMessageGetVariables", "4") == "NotSupported", "a 2.0.1 name"
        got = s.get_configuration(["NoSuchKey", "HeartbeatInterval", "NoSuchKey", "Other"])
        assert got["unknownKey"] == ["NoSuchKey", "Other"], got
        assert [kv["key"] for kv in got["configurationKey"]] == ["HeartbeatInterval"], got
        got = s.get_configuration(["NoSuchKey"])
        assert got == {"configurationKey": [], "unknownKey": ["NoSuchKey"]}, got
    finally:
        rmtree(d)


def test_key_names_are_case_insensitive():
    d = tempdir()
    try:
        s = make(d)
        assert s.change("heartbeatinterval", "120") == "Accepted", "CiString50 key"
        got = s.get_configuration(["HEARTBEATINTERVAL", "HeartbeatInterval"])
        assert got["configurationKey"] == [
            {"key": "HeartbeatInterval", "readonly": False, "value": "120"}], got
        assert s.change("LocalPreAuthorize", "TRUE") == "Accepted", "boolean in capitals"
        assert listed(s, ["LocalPreAuthorize"])["LocalPreAuthorize"][1] == "true", "rendered"
    finally:
        rmtree(d)


BAD = {
    "HeartbeatInterval": ("", "abc", "1.5", "+5", " 5", "5 ", "0x10", "0", "-1", "86401",
                          "99999999999", "1e3", "٣"),
    "WebSocketPingInterval": ("-1", "-60", "3601"),  # §9.1.34: negative values Rejected
    "MaxCurrentA": ("5", "81", "16A"),
    "LocalPreAuthorize": ("yes", "1", "", "truee", "t"),
    "MeterValuesSampledData": ("Voltage", "Energy.Active.Import.Register,Voltage",
                               "Energy.Active.Import.Register.L1", "Power.Active.Import,,",
                               "Current.Offered,Current.Offered",
                               "Energy.Active.Import.Register,Power.Active.Import,"
                               "Current.Offered,Current.Import",
                               "energy.active.import.register"),
    "StopTxnAlignedData": ("SoC",),
    "ConnectorPhaseRotation": ("", "XYZ", "1.XYZ", "2.RST", "0.RST,1.RST,2.RST", ".RST",
                               "1.RST,1.RTS", "x.RST", "RST,RTS", "-1.RST"),
    "AuthorizationKey": ("short-key-15chr", "k" * 41, "0123456789abcdef\n", "\u00e9" * 16, ""),
}


def test_bad_values_are_rejected_for_each_type():
    d = tempdir()
    try:
        s = make(d, connectors=1)
        before = listed(s)
        for name in BAD:
            for value in BAD[name]:
                assert s.change(name, value) == "Rejected", "%s = %r accepted" % (name, value)
        for value in (5, None, True, ["a"]):
            assert s.change("HeartbeatInterval", value) == "Rejected", "non-string %r" % value
        assert listed(s) == before, "a rejected change changed something"
        assert s.get("AuthorizationKey") == "", "no key stored"
        assert not atomicfile.exists(d + "/" + S.FILE_NAME), "nothing stored"
    finally:
        rmtree(d)


def test_good_values_are_normalised():
    d = tempdir()
    try:
        s = make(d, connectors=2)
        assert s.change("MeterValuesSampledData", " Power.Active.Import , Current.Offered") \
            == "Accepted", "spaces around items"
        assert s.get("MeterValuesSampledData") == "Power.Active.Import,Current.Offered", "norm"
        assert s.change("StopTxnSampledData", "") == "Accepted", "empty CSL (§3.16.5)"
        assert s.change("ConnectorPhaseRotation", "0.RST, 1.RST, 2.RTS") == "Accepted", \
            "the spec's example"
        assert s.get("ConnectorPhaseRotation") == "0.RST,1.RST,2.RTS", "normalised"
        assert s.change("ConnectorPhaseRotation", "NotApplicable") == "Accepted", "bare"
        assert s.change("WebSocketPingInterval", "0") == "Accepted", "0 disables pings"
        assert s.change("HeartbeatInterval", "0060") == "Accepted", "leading zeros"
        assert s.get("HeartbeatInterval") == 60, "typed"
        assert s.change("MaxEnergyOnInvalidId", "1000000") == "Accepted", "upper bound"
    finally:
        rmtree(d)


class RebootSettings(S.Settings):
    table = S.TABLE + (("DisplayContrast", S.INT, S.REBOOT, 0, 10, 5),)


def test_reboot_required_where_the_table_says_so():
    d = tempdir()
    try:
        assert not [e for e in S.TABLE if e[2] & S.REBOOT], "no OCPP key needs a reboot today"
        s = RebootSettings(d, 1, "Core")
        seen = []
        s.on_change("DisplayContrast", seen.append)
        assert s.change("DisplayContrast", "7") == "RebootRequired", "reboot key"
        assert s.get("DisplayContrast") == 7 and seen == [7], "stored and announced"
        assert s.change("DisplayContrast", "11") == "Rejected", "bounds still apply"
        assert s.change("HeartbeatInterval", "30") == "Accepted", "others unaffected"
        assert RebootSettings(d, 1, "Core").get("DisplayContrast") == 7, "persisted"
    finally:
        rmtree(d)


def test_changes_persist_across_a_new_instance():
    d = tempdir()
    try:
        s = make(d, connectors=2)
        assert s.change("HeartbeatInterval", "45") == "Accepted", "int"
        assert s.change("StopTransactionOnInvalidId", "false") == "Accepted", "bool"
        assert s.change("MeterValuesAlignedData", "Current.Offered") == "Accepted", "csl"
        assert s.change("ConnectorPhaseRotation", "1.RST,2.STR") == "Accepted", "rot"
        assert s.change("AuthorizationKey", KEY) == "Accepted", "key"
        assert s.change("SecurityProfile", "1") == "Accepted", "profile 1 with a key"
        t = make(d, connectors=2)
        assert t.get("HeartbeatInterval") == 45, "int persisted"
        assert t.get("StopTransactionOnInvalidId") is False, "bool persisted"
        assert t.get("MeterValuesAlignedData") == "Current.Offered", "csl persisted"
        assert t.get("ConnectorPhaseRotation") == "1.RST,2.STR", "rot persisted"
        assert t.get("AuthorizationKey") == KEY and t.get("SecurityProfile") == 1, "security"
        assert t.get("MaxCurrentA") == 16, "untouched keys keep their default"
        # the file is atomicfile-checked JSON of wire strings
        doc = json.loads(atomicfile.read(d + "/" + S.FILE_NAME))
        assert doc["values"]["HeartbeatInterval"] == "45", doc
    finally:
        rmtree(d)


def test_state_dir_is_created_on_the_first_change():
    top = tempdir()
    try:
        s = make(top + "/state/sub")
        assert s.change("HeartbeatInterval", "99") == "Accepted", "stored in a new folder"
        assert make(top + "/state/sub").get("HeartbeatInterval") == 99, "persisted"
    finally:
        rmtree(top)


def test_torn_or_corrupt_file_gives_defaults_and_a_warning():
    d = tempdir()
    path = d + "/" + S.FILE_NAME
    try:
        s = make(d)
        assert s.change("HeartbeatInterval", "45") == "Accepted", "stored"
        with open(path, "rb") as f:
            whole = f.read()
        bad = [whole[:len(whole) // 2], b"", b"\xff" * 40]
        lines = capture()
        try:
            for blob in bad:
                with open(path, "wb") as f:
                    f.write(blob)
                t = make(d)
                assert t.get("HeartbeatInterval") == 300, "default after a torn file"
            for text in ("not json", "[1, 2]", '{"values": [1]}', '"x"', "{}"):
                atomicfile.write(path, text)
                t = make(d)
                assert t.get("HeartbeatInterval") == 300, "default after %r" % text
        finally:
            uncapture()
        warns = [ln for ln in lines if " WARN settings:" in ln]
        assert len(warns) == len(bad) + 5, lines
        # a file that recovers: a new change is stored again
        assert t.change("HeartbeatInterval", "46") == "Accepted", "write after corruption"
        assert make(d).get("HeartbeatInterval") == 46, "persisted again"
    finally:
        rmtree(d)


def test_stored_values_that_no_longer_pass_are_dropped_one_by_one():
    d = tempdir()
    path = d + "/" + S.FILE_NAME
    try:
        atomicfile.write(path, json.dumps({"values": {
            "HeartbeatInterval": "0",  # out of range
            "MeterValueSampleInterval": "30",  # fine
            "NumberOfConnectors": "4",  # read-only: never from the file
            "Bogus": "1",  # not a key
            "LightIntensity": 50,  # not a wire string
        }}))
        lines = capture()
        try:
            s = make(d)
        finally:
            uncapture()
        assert s.get("HeartbeatInterval") == 300, "invalid stored value dropped"
        assert s.get("MeterValueSampleInterval") == 30, "valid stored value kept"
        assert s.get("NumberOfConnectors") == 1 and s.get("LightIntensity") == 100, "ignored"
        assert len([ln for ln in lines if " WARN " in ln]) == 4, lines
    finally:
        rmtree(d)


def test_a_failed_write_rejects_and_changes_nothing():
    d = tempdir()
    try:
        blocker = d + "/file"
        with open(blocker, "w") as f:
            f.write("not a folder")
        s = make(blocker)  # the state folder is a file: every write fails
        seen = []
        s.on_change("HeartbeatInterval", seen.append)
        lines = capture()
        try:
            assert s.change("HeartbeatInterval", "60") == "Rejected", "not stored: Rejected"
        finally:
            uncapture()
        assert s.get("HeartbeatInterval") == 300 and seen == [], "nothing changed"
        assert [ln for ln in lines if " ERROR settings:" in ln], lines
    finally:
        rmtree(d)


def test_authorization_key_is_never_shown_nor_logged():
    d = tempdir()
    lines = capture()
    try:
        s = make(d, overrides={"AuthorizationKey": KEY, "SecurityProfile": 1})
        assert s.change("AuthorizationKey", KEY2) == "Accepted", "rotation (whitepaper A01)"
        assert s.change("authorizationkey", KEY2 + "\x01") == "Rejected", "control character"
        assert s.change("AuthorizationKey", KEY2 + "Z" * 20) == "Rejected", "too long"
        t = make(d, overrides={"AuthorizationKey": KEY, "SecurityProfile": 1})
        assert t.get("AuthorizationKey") == KEY2, "the rotated key survives a restart"
        logger.get("test").info("leak attempt", KEY, KEY2, t.get("AuthorizationKey"))
        answers = [t.get_configuration(), t.get_configuration(["AuthorizationKey"]),
                   S.handle_get_configuration(t, {}),
                   S.handle_get_configuration(t, {"key": ["AuthorizationKey", "X"]})]
        enc = Encoder(8192)
        for answer in answers:
            text = json.dumps(answer)
            n = enc.result("1", answer)
            frame = bytes(enc.buf[:n]).decode()
            for k in (KEY, KEY2, KEY2[:16]):
                assert k not in text and k not in frame, "key in GetConfiguration"
            assert "AuthorizationKey" in text, "the key is listed"
        (kv,) = answers[1]["configurationKey"]
        assert kv == {"key": "AuthorizationKey", "readonly": False}, kv
    finally:
        uncapture()
        rmtree(d)
    assert lines, "something was logged"
    for ln in lines:
        for k in (KEY, KEY2, KEY2[:16]):
            assert k not in ln, "key in a log line: " + ln.replace(k, "<KEY>")
    assert [ln for ln in lines if "AuthorizationKey changed" in ln], "change logged (A01.FR.11)"


def test_get_configuration_max_keys():
    d = tempdir()
    try:
        s = make(d)
        limit = s.get("GetConfigurationMaxKeys")
        assert limit == S.MAX_KEYS >= len(S.TABLE), "every key can be named in one request"
        names = [e[0] for e in S.TABLE]
        keys = (names + ["Unknown%d" % i for i in range(limit)])[:limit]
        got = s.get_configuration(keys)
        assert len(got["configurationKey"]) == len(names), "all named keys answered"
        assert len(got.get("unknownKey", ())) == limit - len(names), "the rest unknown"
        err = raises(errors.CallError, s.get_configuration, keys + ["HeartbeatInterval"])
        assert err.code == "OccurenceConstraintViolation", err.code
        assert str(limit) in err.description, err.description
        err = raises(errors.CallError, S.handle_get_configuration, s,
                     {"key": ["HeartbeatInterval"] * (limit + 1)})
        assert err.code == errors.OCCURENCE_CONSTRAINT_VIOLATION, "counted before dedup"
        got = s.get_configuration(["HeartbeatInterval"] * limit)
        assert len(got["configurationKey"]) == 1, "a key named twice is answered once"
    finally:
        rmtree(d)


def test_listeners_get_the_new_typed_value():
    d = tempdir()
    try:
        s = make(d)
        seen = []
        s.on_change("HeartbeatInterval", lambda v: seen.append(("hb", v)))
        s.on_change("HeartbeatInterval", lambda v: seen.append(("hb2", v)))
        s.on_change("LocalPreAuthorize", lambda v: seen.append(("pre", v)))
        s.on_change("MeterValuesSampledData", lambda v: seen.append(("mv", v)))
        s.on_change("WebSocketPingInterval", lambda v: seen.append(("ping", v)))
        assert s.change("HeartbeatInterval", "42") == "Accepted", "hb"
        assert s.change("heartbeatInterval", "42") == "Accepted", "same value again"
        assert s.change("HeartbeatInterval", "x") == "Rejected", "bad"
        assert s.change("LocalPreAuthorize", "true") == "Accepted", "bool"
        assert s.change("MeterValuesSampledData", "Power.Active.Import") == "Accepted", "csl"
        assert s.change("WebSocketPingInterval", "0") == "Accepted", "ping"
        assert seen == [("hb", 42), ("hb2", 42), ("pre", True),
                        ("mv", "Power.Active.Import"), ("ping", 0)], seen
        raises(ValueError, s.on_change, "NoSuchKey", print)
        raises(ValueError, s.on_change, "heartbeatinterval", print)  # exact names in code
    finally:
        rmtree(d)


def test_a_failing_listener_does_not_undo_the_change():
    d = tempdir()
    try:
        s = make(d)

        def broken(v):
            raise RuntimeError("bug")

        s.on_change("ConnectionTimeOut", broken)
        lines = capture()
        try:
            assert s.change("ConnectionTimeOut", "30") == "Accepted", "value was set"
        finally:
            uncapture()
        assert s.get("ConnectionTimeOut") == 30, "set"
        assert make(d).get("ConnectionTimeOut") == 30, "and stored"
        assert [ln for ln in lines if "listener of ConnectionTimeOut failed" in ln], lines
    finally:
        rmtree(d)


def test_security_profile_only_goes_up_with_its_prerequisites():
    d = tempdir()
    try:
        s = make(d)
        assert s.change("SecurityProfile", "1") == "Rejected", "1 without an AuthorizationKey"
        assert s.change("SecurityProfile", "4") == "Rejected", "no profile 4"
        assert s.change("AuthorizationKey", KEY) == "Accepted", "key"
        assert s.change("SecurityProfile", "1") == "Accepted", "1 with a key"
        assert s.change("SecurityProfile", "2") == "Rejected", "2: nobody vouched for TLS"
        tls = []
        s.on_validate("SecurityProfile", lambda p: p in tls)
        assert s.change("SecurityProfile", "2") == "Rejected", "the application says no"
        tls.append(2)
        assert s.change("SecurityProfile", "2") == "Accepted", "the application says yes"
        assert s.change("SecurityProfile", "1") == "Rejected", "never lowered (A00.FR.005)"
        assert s.change("SecurityProfile", "0") == "Rejected", "never lowered"
        assert s.change("SecurityProfile", "2") == "Rejected", "the same value: A05.FR.01"
        assert make(d).get("SecurityProfile") == 2, "persisted"
    finally:
        rmtree(d)


def test_overrides_replace_defaults_and_the_installer_wins_when_it_changes():
    d = tempdir()
    try:
        o = {"AuthorizationKey": KEY, "SecurityProfile": 1, "WebSocketPingInterval": 30,
             "MaxCurrentA": 32, "LocalPreAuthorize": True}
        s = make(d, overrides=o)
        assert s.get("WebSocketPingInterval") == 30 and s.get("MaxCurrentA") == 32, "override"
        assert s.get("LocalPreAuthorize") is True and s.get("SecurityProfile") == 1, "override"
        assert s.change("AuthorizationKey", KEY2) == "Accepted", "central system rotates"
        assert s.change("MaxCurrentA", "20") == "Accepted", "central system lowers"
        # same config.json: the central system's values win
        t = make(d, overrides=o)
        assert t.get("AuthorizationKey") == KEY2 and t.get("MaxCurrentA") == 20, "kept"
        # the installer re-provisions the key and lowers the profile in config.json
        o2 = dict(o)
        o2["AuthorizationKey"] = "installer-new-key-0001"
        o2["SecurityProfile"] = 0
        t = make(d, overrides=o2)
        assert t.get("AuthorizationKey") == "installer-new-key-0001", "installer wins"
        assert t.get("SecurityProfile") == 0, "lowered locally, not via OCPP"
        assert t.get("MaxCurrentA") == 20, "unchanged override: central system still wins"
    finally:
        rmtree(d)


def test_bad_overrides_raise_without_showing_the_key():
    d = tempdir()
    try:
        raises(ValueError, make, d, overrides={"NumberOfConnectors": 3})
        raises(ValueError, make, d, overrides={"NoSuchKey": 3})
        raises(ValueError, make, d, overrides={"heartbeatinterval": 3})
        raises(ValueError, make, d, overrides={"HeartbeatInterval": 0})
        raises(ValueError, make, d, overrides={"HeartbeatInterval": True})
        raises(ValueError, make, d, overrides={"LocalPreAuthorize": 1})
        err = raises(ValueError, make, d, overrides={"AuthorizationKey": "tiny\x01secret-value"})
        assert "secret" not in str(err), str(err)
        raises(ValueError, make, d, profiles="Core,Teleportation")
        raises(ValueError, make, d, profiles="RemoteTrigger")
        s = make(d, profiles=["Core", "SmartCharging"])
        assert s.get("SupportedFeatureProfiles") == "Core,SmartCharging", "list of profiles"
    finally:
        rmtree(d)


def test_handlers_answer_conf_payloads():
    d = tempdir()
    try:
        s = make(d)
        assert S.handle_change_configuration(s, {"key": "HeartbeatInterval", "value": "77"}) \
            == {"status": "Accepted"}, "accepted"
        assert S.handle_change_configuration(s, {"key": "Nope", "value": "1"}) \
            == {"status": "NotSupported"}, "not supported"
        assert S.handle_change_configuration(s, {"key": "NumberOfConnectors", "value": "1"}) \
            == {"status": "Rejected"}, "read-only"
        assert S.handle_get_configuration(s, {}) == S.handle_get_configuration(s, {"key": []}), \
            "empty or absent: all keys"
        got = S.handle_get_configuration(s, {"key": ["HeartbeatInterval"]})
        assert got == {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False,
                                             "value": "77"}]}, got
    finally:
        rmtree(d)


def longest(e, connectors):
    """The longest wire value table row `e` allows."""
    name, kind, _, a, b, _ = e
    if kind == S.INT:
        return str(a) if len(str(a)) > len(str(b)) else str(b)
    if kind == S.BOOL:
        return "false"
    if kind == S.CSL:
        return ",".join(sorted(a, key=len, reverse=True)[:b])
    if kind == S.ROT:
        return ",".join(["%d.NotApplicable" % c for c in range(connectors + 1)])
    if kind == S.STR:
        return "k" * b
    raise AssertionError(name)


def frame_size(payload):
    enc = Encoder(32768)
    return enc.result("x" * 36, payload)  # the longest message id OCPP-J allows


def test_get_configuration_frame_fits_the_default_buffer():
    budget = 4096  # config csms.frameBufferBytes default
    d = tempdir()
    try:
        s = make(d, connectors=4, profiles=",".join(S.PROFILES))
        s.on_validate("SecurityProfile", lambda p: True)
        for e in S.TABLE:
            if not e[2] & S.R:
                assert s.change(e[0], longest(e, 4)) == "Accepted", e[0]
        full = frame_size(s.get_configuration())
        # the largest answer to a list of keys: the biggest known entries, unknown keys
        # of 50 characters for the rest (each distinct: duplicates are answered once)
        entries = [s.get_configuration([e[0]])["configurationKey"][0] for e in S.TABLE]
        entries.sort(key=lambda kv: len(json.dumps(kv)), reverse=True)
        worst = 0
        for i in range(len(entries) + 1):
            unknown = ["U%02d" % j + "x" * 47 for j in range(S.MAX_KEYS - i)]
            payload = {"configurationKey": entries[:i]}
            if unknown:
                payload["unknownKey"] = unknown
            worst = max(worst, frame_size(payload))
        d2 = tempdir()
        usual = frame_size(make(d2, connectors=1).get_configuration())  # the defaults
        rmtree(d2)
        print("GetConfiguration.conf frame: defaults %d bytes, every value at its longest %d, "
              "worst %d-key request %d (buffer %d)" % (usual, full, S.MAX_KEYS, worst, budget))
        assert full <= budget, "full answer %d bytes" % full
        assert worst <= budget, "worst keyed answer %d bytes" % worst
        # the real encoder in a 4096-byte buffer takes them
        enc = Encoder(budget)
        assert enc.result("x" * 36, s.get_configuration()) == full, "encodes in 4096"
    finally:
        rmtree(d)


def test_the_firmware_may_restore_a_lower_security_profile():
    # A05.FR.08: a new profile that cannot connect falls back; only the firmware can do that
    d = tempdir()
    try:
        s = make(d)
        told = []
        s.on_change("SecurityProfile", told.append)
        assert s.change("AuthorizationKey", KEY) == "Accepted"
        assert s.change("SecurityProfile", "1") == "Accepted"
        s.restore("SecurityProfile", 0)
        assert s.get("SecurityProfile") == 0 and told == [1, 0]
        assert make(d).get("SecurityProfile") == 0, "persisted"
    finally:
        rmtree(d)
