# Device tests of firmware.config: a good configuration loads, every bad one names its key.
import json

from firmware import config


def good():
    return {
        "identity": {"chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": "1.0"},
        "csms": {"url": "ws://127.0.0.1:9000/ocpp", "chargeBoxId": "CP_1"},
        "connectors": 2,
        "sim": {"controlPort": 7701},
    }


def error_of(cfg):
    text = cfg if isinstance(cfg, str) else json.dumps(cfg)
    try:
        config.parse(text)
    except config.ConfigError as e:
        return str(e)
    raise AssertionError("no ConfigError for " + text)


def test_good_config_fills_defaults():
    cfg = config.parse(json.dumps(good()))
    assert cfg["connectors"] == 2
    assert cfg["csms"]["securityProfile"] == 0
    assert cfg["sim"]["controlPort"] == 7701
    assert cfg["sim"]["evMaxCurrentA"] == 32
    assert cfg["log"]["level"] == "info"
    assert cfg["csms"]["frameBufferBytes"] == 4096 and cfg["csms"]["maxMessageBytes"] == 4096
    assert cfg["csms"]["callTimeoutS"] == 30 and cfg["csms"]["pingIntervalS"] == 60


def test_missing_key_is_named():
    cfg = good()
    del cfg["csms"]["url"]
    assert error_of(cfg) == "csms.url: missing"
    cfg = good()
    del cfg["identity"]
    assert error_of(cfg) == "identity: missing"


def test_wrong_types_are_named():
    cfg = good()
    cfg["connectors"] = "2"
    assert error_of(cfg) == "connectors: must be an integer"
    cfg = good()
    cfg["connectors"] = True
    assert error_of(cfg) == "connectors: must be an integer"
    cfg = good()
    cfg["identity"]["chargePointModel"] = 5
    assert error_of(cfg) == "identity.chargePointModel: must be a string"
    cfg = good()
    cfg["csms"] = []
    assert error_of(cfg) == "csms: must be an object"


def test_out_of_range_values_are_named():
    cfg = good()
    cfg["connectors"] = 0
    assert error_of(cfg) == "connectors: must be 1 to 4, is 0"
    cfg = good()
    cfg["sim"]["controlPort"] = 70000
    assert error_of(cfg) == "sim.controlPort: must be 1 to 65535, is 70000"
    cfg = good()
    cfg["identity"]["chargePointVendor"] = "x" * 21
    assert error_of(cfg) == "identity.chargePointVendor: length must be 1 to 20, is 21"


def test_url_and_security_rules():
    cfg = good()
    cfg["csms"]["url"] = "http://example.com/ocpp"
    assert error_of(cfg) == "csms.url: must start with ws:// or wss://"
    cfg = good()
    cfg["csms"]["securityProfile"] = 1
    assert error_of(cfg) == "csms.authorizationKey: missing (security profile 1)"
    cfg = good()
    cfg["csms"]["securityProfile"] = 2
    cfg["csms"]["authorizationKey"] = "0123456789abcdef"
    assert error_of(cfg) == "csms.url: security profile 2 needs wss:// (or csms.tlsUrl)"
    cfg["csms"]["url"] = "wss://csms.example.com/ocpp"
    assert error_of(cfg) == "csms.caFile: missing (wss:// always verifies the central system)"
    cfg["csms"]["caFile"] = "ca.pem"
    config.parse(json.dumps(cfg))
    cfg["csms"]["securityProfile"] = 3
    assert error_of(cfg).startswith("csms.clientCertFile: security profile 3 needs")


def test_log_level_checked():
    cfg = good()
    cfg["log"] = {"level": "loud"}
    assert error_of(cfg).startswith("log.level: ")


def test_not_json_and_not_object():
    assert error_of("{nope") == "(file): not valid JSON"
    assert error_of("[1, 2]") == "(file): must be a JSON object"


def test_unreadable_file():
    try:
        config.load("/no/such/config.json")
    except config.ConfigError as e:
        assert str(e) == "(file): cannot read /no/such/config.json"
    else:
        raise AssertionError("no error")


def test_identity_limits_come_from_the_schema_and_typos_are_caught():
    cfg = good()
    cfg["identity"]["firmwareVersion"] = "v" * 51  # BootNotification.req: CiString50
    assert error_of(cfg) == "identity.firmwareVersion: length must be 0 to 50, is 51"
    cfg = good()
    cfg["identity"]["chargePointSerialNumber"] = "s" * 26  # CiString25
    assert error_of(cfg) == "identity.chargePointSerialNumber: length must be 0 to 25, is 26"
    cfg = good()
    cfg["identity"]["firmwareVerison"] = "1.0"
    assert error_of(cfg).startswith("identity.firmwareVerison: unknown key (known: ")


def test_ocpp_keys_are_checked_by_their_own_rule_and_handed_over():
    cfg = good()
    cfg["csms"]["securityProfile"] = 1
    cfg["csms"]["authorizationKey"] = "\u00e9" * 16  # 16 characters, not printable ASCII
    problem = error_of(cfg)
    assert problem == "csms.authorizationKey: must be 16 to 40 printable ASCII characters", \
        problem
    cfg["csms"]["authorizationKey"] = "k" * 41
    assert error_of(cfg) == "csms.authorizationKey: must be 16 to 40 printable ASCII characters"
    cfg = good()
    cfg["csms"]["securityProfile"] = 4
    assert error_of(cfg) == "csms.securityProfile: must be an integer 0 to 3"
    cfg = good()
    cfg["csms"]["pingIntervalS"] = 3601
    assert error_of(cfg) == "csms.pingIntervalS: must be an integer 0 to 3600"
    cfg = good()
    cfg["csms"]["securityProfile"] = 1
    cfg["csms"]["authorizationKey"] = "0123456789abcdef"
    loaded = config.parse(json.dumps(cfg))
    assert loaded["ocpp"] == {"SecurityProfile": 1, "AuthorizationKey": "0123456789abcdef",
                              "WebSocketPingInterval": 60}, loaded["ocpp"]
