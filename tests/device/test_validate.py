# Device tests of payload validation on real OCPP 1.6 (and a few 2.0.1) tables, and error codes.
import gc

from ocppj import errors, schemas
from ocppj.errors import CallError
from ocppj.validate import ValidationError, is_datetime, validate


def check(version, action, which, payload):
    """None if valid, else (code, description) of the ValidationError."""
    tables = schemas.load(version, action)
    assert tables is not None, action
    try:
        validate(tables[1 if which == "conf" else 0], payload)
    except ValidationError as e:
        assert e.args == (e.code, e.description)
        return e.code, e.description
    return None


def code_of(version, action, which, payload):
    result = check(version, action, which, payload)
    return result and result[0]


def v16(action, payload, which="req"):
    return code_of("v16", action, which, payload)


def period(**extra):
    p = {"startPeriod": 0, "limit": 16.0}
    p.update(extra)
    return p


def profile(periods):
    return {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "validFrom": "2026-01-01T00:00:00Z",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": periods}}}


BOOT_CONF = {"status": "Accepted", "currentTime": "2026-03-01T12:00:00.123Z", "interval": 300}


def test_remote_start_without_id_tag_is_a_protocol_error():
    assert v16("RemoteStartTransaction", {"idTag": "ABC"}) is None
    assert v16("RemoteStartTransaction", {"connectorId": 1}) == "ProtocolError"
    assert check("v16", "RemoteStartTransaction", "req", {})[1] == "idTag: required field missing"


def test_bad_enum_value_is_a_property_violation():
    assert v16("ChangeAvailability", {"connectorId": 0, "type": "Operative"}) is None
    assert v16("ChangeAvailability", {"connectorId": 0, "type": "Sideways"}) == \
        "PropertyConstraintViolation"
    # a prefix, a suffix or a join of allowed values is not allowed
    for bad in ("Oper", "Operativ", "perative", "Inoperative|Operative", "", "operative"):
        assert v16("ChangeAvailability", {"connectorId": 0, "type": bad}) == \
            "PropertyConstraintViolation", bad
    assert v16("ChangeAvailability", {"connectorId": 0, "type": 1}) == "TypeConstraintViolation"


def test_string_length_limit():
    assert v16("Authorize", {"idTag": "x" * 20}) is None
    assert v16("Authorize", {"idTag": "x" * 21}) == "PropertyConstraintViolation"
    assert v16("Authorize", {"idTag": "\u00e9" * 20}) is None  # characters, not bytes
    assert check("v16", "Authorize", "req", {"idTag": "x" * 21})[1] == \
        "idTag: longer than 20 characters"


def test_wrong_json_types():
    ok = {"connectorId": 1, "type": "Hard"}
    assert v16("UnlockConnector", {"connectorId": 1}) is None
    for bad in ("1", 1.0, 1.5, True, None, [1], {"n": 1}):
        assert v16("UnlockConnector", {"connectorId": bad}) == "TypeConstraintViolation", bad
    assert v16("Reset", {"type": "Hard"}) is None
    assert v16("Reset", {"type": None}) == "TypeConstraintViolation"
    assert v16("ChangeAvailability", dict(ok, type="Inoperative")) is None
    assert v16("Authorize", {"idTag": 12}) == "TypeConstraintViolation"
    conf = {"configurationKey": [{"key": "A", "readonly": 1}]}
    assert v16("GetConfiguration", conf, "conf") == "TypeConstraintViolation"
    conf = {"configurationKey": [{"key": "A", "readonly": False}], "unknownKey": ["B"]}
    assert v16("GetConfiguration", conf, "conf") is None
    assert v16("GetConfiguration", {"key": "A"}) == "TypeConstraintViolation"
    assert v16("GetConfiguration", {"key": [1]}) == "TypeConstraintViolation"


def test_numbers():
    assert v16("SetChargingProfile", profile([period(limit=16)])) is None
    assert v16("SetChargingProfile", profile([period(limit=6.5)])) is None
    for bad in ("16", True, None, float("nan"), float("inf")):
        assert v16("SetChargingProfile", profile([period(limit=bad)])) == \
            "TypeConstraintViolation", bad


def test_unknown_field_is_a_formation_violation():
    assert v16("Reset", {"type": "Soft", "delay": 5}) == "FormationViolation"
    assert check("v16", "Reset", "req", {"type": "Soft", "delay": 5})[1] == "delay: unknown field"
    assert v16("Heartbeat", {"x": 1}) == "FormationViolation"
    assert v16("Heartbeat", {}) is None


def test_payload_must_be_an_object():
    for bad in ([], "x", 1, True):
        assert v16("Heartbeat", bad) == "FormationViolation"
    for bad in ([], "x", 1, None, True):
        assert v16("Reset", bad) == "FormationViolation"


def test_null_payload_where_nothing_is_required():
    # OCPP-J 1.6 4.2.1/4.2.2: with no payload, "null or ... empty object": null stands for {}
    # where {} is valid, and is handed on as {}
    for action, which in (("Heartbeat", "req"), ("ClearCache", "req"), ("GetConfiguration", "req"),
                          ("MeterValues", "conf"), ("StopTransaction", "conf"),
                          ("StatusNotification", "conf"), ("GetConfiguration", "conf")):
        table = schemas.load("v16", action)[1 if which == "conf" else 0]
        got = validate(table, None)
        assert got == {} and isinstance(got, dict), (action, which, got)
    # where a field is required, null is no payload at all
    for action, which in (("Heartbeat", "conf"), ("Reset", "req"), ("MeterValues", "req"),
                          ("StartTransaction", "conf"), ("BootNotification", "conf")):
        assert v16(action, None, which) == "FormationViolation", (action, which)
    # a valid object is handed on as it is
    payload = {"type": "Soft"}
    assert validate(schemas.load("v16", "Reset")[0], payload) is payload


def test_set_charging_profile_nested_period():
    assert v16("SetChargingProfile", profile([period(), period(startPeriod=60, numberPhases=3)])) \
        is None
    code, where = check("v16", "SetChargingProfile", "req", profile([period(), {"startPeriod": 60}]))
    assert code == "ProtocolError"
    assert where == "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit: " \
        "required field missing", where
    code, where = check("v16", "SetChargingProfile", "req", profile([period(limit="8")]))
    assert code == "TypeConstraintViolation"
    assert where.startswith("csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit")
    assert v16("SetChargingProfile", profile([period(phases=3)])) == "FormationViolation"
    assert v16("SetChargingProfile", profile({"startPeriod": 0})) == "TypeConstraintViolation"
    bad_unit = profile([period()])
    bad_unit["csChargingProfiles"]["chargingSchedule"]["chargingRateUnit"] = "kW"
    assert v16("SetChargingProfile", bad_unit) == "PropertyConstraintViolation"
    bad_time = profile([period()])
    bad_time["csChargingProfiles"]["validFrom"] = "2026-01-01 00:00:00Z"
    assert v16("SetChargingProfile", bad_time) == "PropertyConstraintViolation"


def test_boot_notification_conf():
    assert v16("BootNotification", BOOT_CONF, "conf") is None
    without = dict(BOOT_CONF)
    del without["interval"]
    assert v16("BootNotification", without, "conf") == "ProtocolError"
    assert v16("BootNotification", dict(BOOT_CONF, currentTime="yesterday"), "conf") == \
        "PropertyConstraintViolation"
    assert v16("BootNotification", dict(BOOT_CONF, status="Maybe"), "conf") == \
        "PropertyConstraintViolation"
    assert v16("BootNotification", dict(BOOT_CONF, interval="300"), "conf") == \
        "TypeConstraintViolation"
    assert v16("BootNotification", dict(BOOT_CONF, heartbeatInterval=300), "conf") == \
        "FormationViolation"


def test_array_item_counts():
    sample = {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "12"}]}
    assert v16("MeterValues", {"connectorId": 1, "meterValue": [sample]}) is None
    assert v16("MeterValues", {"connectorId": 1, "meterValue": []}) == \
        "OccurenceConstraintViolation"
    empty = {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": []}
    code, where = check("v16", "MeterValues", "req", {"connectorId": 1, "meterValue": [sample, empty]})
    assert code == "OccurenceConstraintViolation"
    assert where.startswith("meterValue[1].sampledValue: 0 items"), where
    # 2.0.1 has maxItems too: GetReport componentCriteria allows 1 to 4
    assert code_of("v201", "GetReport", "req", {"requestId": 1, "componentCriteria": [
        "Active", "Available", "Enabled", "Problem"]}) is None
    assert code_of("v201", "GetReport", "req", {"requestId": 1, "componentCriteria": [
        "Active", "Available", "Enabled", "Problem", "Active"]}) == "OccurenceConstraintViolation"


def test_integer_bounds_of_201():
    needs = {"chargingNeeds": {"requestedEnergyTransfer": "DC", "dcChargingParameters": {
        "evMaxCurrent": 100, "evMaxVoltage": 400, "stateOfCharge": 100}}, "evseId": 1}
    assert code_of("v201", "NotifyEVChargingNeeds", "req", needs) is None
    needs["chargingNeeds"]["dcChargingParameters"]["stateOfCharge"] = 101
    assert code_of("v201", "NotifyEVChargingNeeds", "req", needs) == "PropertyConstraintViolation"
    needs["chargingNeeds"]["dcChargingParameters"]["stateOfCharge"] = -1
    assert code_of("v201", "NotifyEVChargingNeeds", "req", needs) == "PropertyConstraintViolation"


def test_201_custom_data_is_open_and_data_transfer_data_is_any():
    assert code_of("v201", "Heartbeat", "req", {"customData": {"vendorId": "acme", "x": [1]}}) \
        is None
    assert code_of("v201", "Heartbeat", "req", {"customData": {"x": 1}}) == "ProtocolError"
    for data in (None, 1, "x", [1, {"a": None}], {"k": True}):
        assert code_of("v201", "DataTransfer", "req", {"vendorId": "acme", "data": data}) is None
    assert code_of("v16", "DataTransfer", "req", {"vendorId": "acme", "data": 1}) == \
        "TypeConstraintViolation"  # 1.6's schema says string


def test_date_time_forms():
    good = ("2026-03-01T12:00:00Z", "2026-03-01T12:00:00.5Z", "2026-03-01T12:00:00.123456+01:00",
            "2024-02-29T23:59:59-05:30", "2000-02-29T00:00:00Z", "2026-12-31T00:00:00+23:59",
            "2026-03-01t12:00:00z", "0001-01-01T00:00:00Z")
    bad = ("2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
           "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
           "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T12:60:00Z",
           "2026-01-01T12:00:60Z", "2026-01-01T12:00:00", "2026-01-01T12:00:00.Z",
           "2026-01-01T12:00:00+0100", "2026-01-01T12:00:00+24:00", "2026-01-01T12:00:00+01:60",
           "2026-01-01 12:00:00Z", "2026-1-01T12:00:00Z", "26-01-01T12:00:00Z",
           "2026-01-01T12:00Z", "2026-01-01", "2026-01-01T12:00:00ZZ", "2026-01-01T12:00:00Z ",
           " 2026-01-01T12:00:00Z", "2026-01-01T12:00:00+01:00:00", "2026-01-01T1a:00:00Z",
           "\uff12026-01-01T12:00:00Z", "2026-01-01T12:00:00.\u0661Z", "")
    for text in good:
        assert is_datetime(text), text
        assert v16("BootNotification", dict(BOOT_CONF, currentTime=text), "conf") is None, text
    for text in bad:
        assert not is_datetime(text), text
        assert v16("BootNotification", dict(BOOT_CONF, currentTime=text), "conf") == \
            "PropertyConstraintViolation", text


def test_validation_error_is_a_call_error():
    try:
        validate(schemas.load("v16", "Heartbeat")[0], {"x": 1})
    except CallError as e:
        assert isinstance(e, ValidationError)
        assert e.code == e.kind == "FormationViolation" and e.details is None
        assert str(e) == e.description == "x: unknown field"
    else:
        assert False, "no error"


def test_load_and_directions():
    from ocppj.schemas import v16, v201
    assert schemas.load("v16", "Fly") is None
    assert schemas.load("v16", "__init__") is None
    assert schemas.load("v16", "TransactionEvent") is None
    assert schemas.load("v201", "TransactionEvent") is not None
    assert "RemoteStartTransaction" in v16.CSMS_TO_CP
    assert "SignedUpdateFirmware" in v16.CSMS_TO_CP
    assert "BootNotification" in v16.CP_TO_CSMS and "BootNotification" not in v16.CSMS_TO_CP
    assert "DataTransfer" in v16.CSMS_TO_CP and "DataTransfer" in v16.CP_TO_CSMS
    assert "RequestStartTransaction" in v201.CSMS_TO_CP
    assert len(v16.CSMS_TO_CP) + len(v16.CP_TO_CSMS) == 40  # 39 actions, DataTransfer twice
    assert v16.VERSION == "1.6" and v201.VERSION == "2.0.1"
    req, conf = schemas.load("v16", "Heartbeat")
    assert req == (1,) and conf[1] == "currentTime"


def test_error_spellings():
    assert errors.spell("v16", "FormationViolation") == "FormationViolation"
    assert errors.spell("v201", "FormationViolation") == "FormatViolation"
    assert errors.spell("ocpp2.0.1", "FormationViolation") == "FormatViolation"
    assert errors.spell("v16", "OccurenceConstraintViolation") == "OccurenceConstraintViolation"
    assert errors.spell("v201", "OccurenceConstraintViolation") == "OccurrenceConstraintViolation"
    assert errors.spell("v201", "RpcFrameworkError") == "RpcFrameworkError"
    assert errors.spell("v16", "RpcFrameworkError") == "GenericError"
    assert errors.spell("ocpp1.6", "MessageTypeNotSupported") == "GenericError"
    for code in errors.CODES:
        assert errors.parse(code) == code
        assert errors.parse(errors.spell("v201", code)) == code
        assert errors.spell("v16", code) in errors.CODES
    assert errors.parse("FormatViolation") == "FormationViolation"
    assert errors.parse("OccurrenceConstraintViolation") == "OccurenceConstraintViolation"
    assert errors.parse("NoSuchError") == "GenericError"
    assert len(errors.CODES) == 12
    e = CallError("NotSupported", "use SignedUpdateFirmware", {"hint": 1})
    assert (e.code, e.description, e.details) == ("NotSupported", "use SignedUpdateFirmware",
                                                  {"hint": 1})
    assert str(e) == "use SignedUpdateFirmware"
    assert CallError("InternalError").description == ""


def test_valid_payload_leaves_no_garbage():
    if not hasattr(gc, "mem_alloc"):
        return  # CPython: nothing to measure
    req = schemas.load("v16", "SetChargingProfile")[0]
    payload = profile([period(), period(startPeriod=60, limit=8)])
    validate(req, payload)
    gc.collect()
    before = gc.mem_alloc()
    for _ in range(10):
        validate(req, payload)
    assert gc.mem_alloc() - before == 0
