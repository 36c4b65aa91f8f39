# Device tests of the OCPP 2.0.1 device model (firmware/v201/dmtable.py, devicemodel.py): the
# table against the generated schemas and the spec's required variables, every attribute and
# mutability, every Get/Set status, persistence, torn files, listeners, actual/fixed values,
# the write-only password, the reports' contents, and what the model costs in RAM.
import gc
import json
import os

import atomicfile
import logger
from devtest import Captured, measures_heap, raises, rmtree, tempdir
from firmware.v201 import dmtable as T
from firmware.v201 import devicemodel as D
from firmware.v201.devicemodel import DeviceModel
from ocppj import schemas
from v201rig import enum_of

PASSWORD = "Secret-Pass_0123456789"  # 22 characters of passwordString
PASSWORD2 = "Other.Pass+0123456789@x"


class Extended(DeviceModel):
    """The firmware's table and a test controller with the kinds it does not use: a variable
    with every attribute, a writable OptionList that needs a reboot, a MemberList and a
    dateTime."""
    table = T.TABLE + (
        ("TestCtrlr", "Level", None, T.RW | T.PERSISTENT | T.ACTUAL | T.TARGET | T.MINSET |
         T.MAXSET | T.INTEGER, None, -10, 10, None, "0"),
        ("TestCtrlr", "Members", None, T.RW | T.PERSISTENT | T.ACTUAL | T.MEMBER_LIST, None,
         None, 12, "Aa,Bb,Cc,Dd,Ee", "Aa"),
        ("TestCtrlr", "Mode", None, T.RW | T.PERSISTENT | T.ACTUAL | T.OPTION_LIST | T.REBOOT,
         None, None, None, "Fast,Slow", "Fast"),
        ("TestCtrlr", "Since", None, T.RW | T.PERSISTENT | T.ACTUAL | T.DATETIME, None, None,
         None, None, None),
    )


def make(folder=None, evses=2, actual=None, fixed=None, max_limits=None, cls=DeviceModel):
    folder = folder or tempdir()
    return cls(folder + "/dm.json", evses, actual, fixed, max_limits), folder


def joined(names):
    return "|" + "|".join(names) + "|"


def rows():
    return T.TABLE


# -- the table ------------------------------------------------------------------------------
def test_wire_names_are_the_schema_enums_in_their_order():
    request = schemas.load("v201", "NotifyReport")[0]
    assert joined(T.DATA_TYPES) == enum_of(request, "dataType"), enum_of(request, "dataType")
    assert joined(T.MUTABILITY) == enum_of(request, "mutability")
    assert joined(T.ATTRIBUTES) == enum_of(request, "type")
    get_status = enum_of(schemas.load("v201", "GetVariables")[1], "attributeStatus")
    set_status = enum_of(schemas.load("v201", "SetVariables")[1], "attributeStatus")
    for s in (D.ACCEPTED, D.REJECTED, D.UNKNOWN_COMPONENT, D.UNKNOWN_VARIABLE,
              D.NOT_SUPPORTED_ATTRIBUTE_TYPE):
        assert "|" + s + "|" in get_status and "|" + s + "|" in set_status, s
    assert "|" + D.REBOOT_REQUIRED + "|" in set_status
    assert "|" + D.REBOOT_REQUIRED + "|" not in get_status
    # the field sizes the table's names must fit (ComponentType/VariableType: 50)
    for r in rows():
        assert len(r[0]) <= 50 and len(r[1]) <= 50 and len(r[2] or "") <= 50, r
        assert r[4] is None or len(r[4]) <= 16, r  # unit: string[0..16]
        assert r[7] is None or len(r[7]) <= 1000, r  # valuesList: string[0..1000]


def test_components_are_grouped_and_each_has_one_scope():
    seen = []
    prev = None
    scope = {}
    for r in rows():
        if r[0] != prev:
            assert r[0] not in seen, r[0] + " appears in two places"
            seen.append(r[0])
            prev = r[0]
        s = r[3] & T.SCOPE_MASK
        assert scope.setdefault(r[0], s) == s, r[0] + " has rows of two scopes"
    assert scope["EVSE"] == T.EVSE and scope["Connector"] == T.CONNECTOR
    assert scope["ChargingStation"] == T.STATION and scope["OCPPCommCtrlr"] == T.STATION


def test_every_row_is_consistent_and_its_default_passes_its_own_rules():
    names = []
    for r in rows():
        flags = r[3]
        key = (r[0], r[1], r[2])
        assert key not in names, key
        names.append(key)
        assert flags & (T.ACTUAL | T.TARGET | T.MINSET | T.MAXSET), r  # at least one attribute
        writable = flags & T.MUTABILITY_MASK != T.RO
        if writable:  # appendix 2: writable variables are persistent
            assert flags & T.PERSISTENT and not flags & T.CONSTANT, r
        kind = flags & T.TYPE_MASK
        if kind in (T.OPTION_LIST, T.SEQUENCE_LIST, T.MEMBER_LIST):
            assert r[7], r  # TC_B_12/13: list types report a valuesList
    # Every default is a value the row's own rules accept: as a fixed value it passes.
    fixed = {}
    for r in rows():
        if r[8] is not None:
            fixed[(r[0], r[1], r[2]) if r[2] else (r[0], r[1])] = r[8]
    dm, folder = make(fixed=fixed)
    for key in fixed:
        assert dm.get(key[0], key[1], *address(key)) == fixed[key], key
    rmtree(folder)


def address(key):
    """get() arguments (evse, connector, instance) of a table key at EVSE 1."""
    scope = [r for r in rows() if r[0] == key[0]][0][3] & T.SCOPE_MASK
    instance = key[2] if len(key) > 2 else None
    if scope == T.STATION:
        return None, None, instance
    return 1, (1 if scope == T.CONNECTOR else None), instance


# The required variables of the blocks the firmware implements (part 2 appendix 2, part 4 §8):
# A (profiles 1-2), B, C's AuthCtrlr, E's TxCtrlr, F06, G.
REQUIRED = (
    ("AuthCtrlr", "AuthorizeRemoteStart"), ("AuthCtrlr", "LocalAuthorizeOffline"),
    ("AuthCtrlr", "LocalPreauthorize"),
    ("ClockCtrlr", "DateTime"), ("ClockCtrlr", "TimeSource"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"),
    ("OCPPCommCtrlr", "FileTransferProtocols"),
    ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
    ("OCPPCommCtrlr", "MessageTimeout", "Default"),
    ("OCPPCommCtrlr", "NetworkConfigurationPriority"),
    ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts"), ("OCPPCommCtrlr", "OfflineThreshold"),
    ("OCPPCommCtrlr", "ResetRetries"), ("OCPPCommCtrlr", "RetryBackOffRandomRange"),
    ("OCPPCommCtrlr", "RetryBackOffRepeatTimes"), ("OCPPCommCtrlr", "RetryBackOffWaitMinimum"),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"), ("OCPPCommCtrlr", "WebSocketPingInterval"),
    ("SecurityCtrlr", "AdditionalRootCertificateCheck"), ("SecurityCtrlr", "BasicAuthPassword"),
    ("SecurityCtrlr", "CertificateEntries"), ("SecurityCtrlr", "OrganizationName"),
    ("SecurityCtrlr", "SecurityProfile"),
    ("TxCtrlr", "EVConnectionTimeOut"), ("TxCtrlr", "StopTxOnEVSideDisconnect"),
    ("TxCtrlr", "StopTxOnInvalidId"), ("TxCtrlr", "TxStartPoint"), ("TxCtrlr", "TxStopPoint"),
    ("ChargingStation", "Available"), ("ChargingStation", "AvailabilityState"),
    ("ChargingStation", "SupplyPhases"),
    ("EVSE", "Available"), ("EVSE", "AvailabilityState"), ("EVSE", "Power"),
    ("EVSE", "SupplyPhases"),
    ("Connector", "Available"), ("Connector", "ConnectorType"), ("Connector", "SupplyPhases"),
)


def test_the_required_variables_exist():
    keys = [(r[0], r[1], r[2]) for r in rows()]
    for k in REQUIRED:
        assert (k[0], k[1], k[2] if len(k) > 2 else None) in keys, k


# -- reading --------------------------------------------------------------------------------
def test_get_gives_defaults_typed_helpers_and_ignores_case():
    dm, folder = make()
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "300"
    assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 300
    assert dm.get("ocppcommctrlr", "HEARTBEATINTERVAL") == "300", "names are CaseInsensitive"
    assert dm.get("OCPPCommCtrlr", "MessageTimeout", instance="default") == "30"
    assert dm.get_bool("AuthCtrlr", "LocalAuthorizeOffline") is True
    assert dm.get_bool("AuthCtrlr", "LocalPreauthorize") is False
    assert dm.get("EVSE", "AvailabilityState", evse=2) == "Available"
    assert dm.get("Connector", "ConnectorType", evse=1, connector=1) == "sType2"
    # what does not exist, or is addressed wrongly, has no value
    assert dm.get("OCPPCommCtrlr", "NoSuchVariable") is None
    assert dm.get("NoSuchCtrlr", "HeartbeatInterval") is None
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval", evse=1) is None
    assert dm.get("EVSE", "AvailabilityState") is None  # an EVSE needs its id
    assert dm.get("EVSE", "AvailabilityState", evse=3) is None  # two EVSEs
    assert dm.get("Connector", "Available", evse=1) is None  # a connector needs its id
    assert dm.get("Connector", "Available", evse=1, connector=2) is None  # one per EVSE
    assert dm.get("OCPPCommCtrlr", "MessageTimeout") is None  # instance Default only
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval", instance="x") is None
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval", attribute="Target") is None
    assert dm.get_int("EVSE", "ACCurrent", evse=1, attribute="MaxSet") is None  # unset
    rmtree(folder)


def test_read_answers_every_get_variables_status():
    dm, folder = make(fixed={("SecurityCtrlr", "BasicAuthPassword"): PASSWORD})
    assert dm.read("OCPPCommCtrlr", "OfflineThreshold") == ("Accepted", "600", None)
    assert dm.read("OCPPCommCtrl", "OfflineThreshold")[0] == "UnknownComponent"  # B06.FR.06
    assert dm.read("OCPPCommCtrlr", "OfflineThreshold", evse=1)[0] == "UnknownComponent"
    assert dm.read("OCPPCommCtrlr", "OfflineThreshold",
                   component_instance="x")[0] == "UnknownComponent"
    assert dm.read("EVSE", "Power", evse=0)[0] == "UnknownComponent"
    assert dm.read("EVSE", "Power", evse=1, connector=1)[0] == "UnknownComponent"
    status, value, info = dm.read("OCPPCommCtrlr", "UnknownVariable")  # B06.FR.07
    assert (status, value, info) == ("UnknownVariable", None, {"reasonCode": "NotFound"})
    assert dm.read("OCPPCommCtrlr", "MessageAttempts")[0] == "UnknownVariable"  # B06.FR.15
    assert dm.read("OCPPCommCtrlr", "MessageAttempts",
                   instance="TransactionEvent") == ("Accepted", "3", None)  # B06.FR.14
    status, value, info = dm.read("OCPPCommCtrlr", "OfflineThreshold", attribute="Target")
    assert (status, value) == ("NotSupportedAttributeType", None), status  # B06.FR.08
    status, value, info = dm.read("SecurityCtrlr", "BasicAuthPassword")  # B06.FR.09
    assert (status, value, info) == ("Rejected", None, {"reasonCode": "WriteOnly"})
    assert dm.read("EVSE", "ACCurrent", evse=2, attribute="MaxSet") == ("Accepted", "", None)
    rmtree(folder)


def test_values_are_reported_cut_to_reporting_value_size():
    dm, folder = make(fixed={("DeviceDataCtrlr", "ReportingValueSize"): "5"})
    assert dm.read("OCPPCommCtrlr", "FileTransferProtocols")[1] == "HTTP,"
    assert dm.get("OCPPCommCtrlr", "FileTransferProtocols") == "HTTP,HTTPS"  # not for us
    data = [d for d in dm.report("FullInventory") if d["variable"]["name"] == "TxStartPoint"]
    assert data[0]["variableAttribute"][0]["value"] == "Power", data
    rmtree(folder)


def test_every_attribute_and_mutability():
    dm, folder = make(cls=Extended, fixed={("SecurityCtrlr", "BasicAuthPassword"): PASSWORD})
    # a variable with all four attributes: each is set and read on its own
    for attribute, value in (("Actual", "1"), ("Target", "2"), ("MinSet", "-3"),
                             ("MaxSet", "4")):
        assert dm.read("TestCtrlr", "Level", attribute=attribute)[1] == (
            "0" if attribute == "Actual" else ""), attribute  # Target & co: unset
        assert dm.set("TestCtrlr", "Level", value, attribute=attribute) == ("Accepted", None)
    for attribute, value in (("Actual", "1"), ("Target", "2"), ("MinSet", "-3"),
                             ("MaxSet", "4")):
        assert dm.get("TestCtrlr", "Level", attribute=attribute) == value, attribute
    assert dm.set("TestCtrlr", "Level", "11", attribute="MaxSet")[0] == "Rejected"
    assert dm.set("TestCtrlr", "Level", "1", attribute="Bogus")[0] == \
        "NotSupportedAttributeType"
    # ReadOnly Actual with a writable MaxSet
    assert dm.set("EVSE", "ACCurrent", "16", evse=1) == ("Rejected", {"reasonCode": "ReadOnly"})
    assert dm.set("EVSE", "ACCurrent", "16", evse=1, attribute="MaxSet") == ("Accepted", None)
    assert dm.get("EVSE", "ACCurrent", evse=2, attribute="MaxSet") is None, "per EVSE"
    # the attributes as reported: mutability, persistent, constant for each
    by_name = {}
    for d in dm.report("FullInventory"):
        if "evse" not in d["component"] or d["component"]["evse"]["id"] == 1:
            by_name[d["variable"]["name"]] = d["variableAttribute"]
    level = by_name["Level"]
    assert [a["type"] for a in level] == ["Actual", "Target", "MinSet", "MaxSet"], level
    assert [a["value"] for a in level] == ["1", "2", "-3", "4"], level
    for a in level:
        assert a["mutability"] == "ReadWrite" and a["persistent"] is True, a
        assert "constant" not in a, a
    current = by_name["ACCurrent"]
    assert current[0] == {"type": "Actual", "mutability": "ReadOnly", "value": "0"}, current
    assert current[1] == {"type": "MaxSet", "mutability": "ReadWrite", "value": "16",
                          "persistent": True}, current
    assert by_name["SecurityProfile"] == [{"type": "Actual", "mutability": "ReadOnly",
                                           "value": "1", "persistent": True,
                                           "constant": True}]
    assert by_name["BasicAuthPassword"] == [{"type": "Actual", "mutability": "WriteOnly",
                                             "persistent": True}], "no value: write-only"
    rmtree(folder)


# -- setting --------------------------------------------------------------------------------
def test_set_answers_every_status():
    dm, folder = make(cls=Extended)
    assert dm.set("OCPPCommCtrlr", "OfflineThreshold", "300") == ("Accepted", None)
    assert dm.get("OCPPCommCtrlr", "OfflineThreshold") == "300"
    assert dm.set("UnknownComponent", "OfflineThreshold", "300") == (
        "UnknownComponent", {"reasonCode": "NotFound"})  # B05.FR.04
    assert dm.set("OCPPCommCtrlr", "UnknownVariable", "1")[0] == "UnknownVariable"  # FR.05
    assert dm.set("OCPPCommCtrlr", "OfflineThreshold", "300", attribute="Target")[0] == \
        "NotSupportedAttributeType"  # B05.FR.06
    assert dm.set("OCPPCommCtrlr", "MessageTimeout", "60", instance="Default") == (
        "Rejected", {"reasonCode": "ReadOnly"})  # B05.FR.09, TC_B_39
    assert dm.get("OCPPCommCtrlr", "MessageTimeout", instance="Default") == "30"
    # B05.FR.07/08 and TC_B_11: wrongly formatted, out of range
    for value in ("300.1", "true", "2026-01-01T00:00:00Z", "abc", "", "+3", "0x10",
                  "1234567890"):
        assert dm.set("OCPPCommCtrlr", "OfflineThreshold", value) == (
            "Rejected", {"reasonCode": "InvalidValue"}), value
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", "0") == (
        "Rejected", {"reasonCode": "ValueOutOfRange"})  # minLimit 1
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", "86401")[0] == "Rejected"
    assert dm.get("OCPPCommCtrlr", "OfflineThreshold") == "300", "rejections changed nothing"
    # RebootRequired, also for the same value while the reboot is pending
    assert dm.set("TestCtrlr", "Mode", "Fast") == ("Accepted", None)  # unchanged: no reboot
    assert dm.set("TestCtrlr", "Mode", "Slow") == ("RebootRequired", None)
    assert dm.set("TestCtrlr", "Mode", "Slow") == ("RebootRequired", None)
    assert dm.set("TestCtrlr", "Mode", "slow") == ("Rejected", {"reasonCode": "InvalidValue"})
    rmtree(folder)


def test_set_checks_each_data_type():
    dm, folder = make(cls=Extended, max_limits={("EVSE", "Power"): 7400})
    cases = (
        # boolean: "true"/"false" in any case, kept in lower case
        ("AuthCtrlr", "LocalPreauthorize", "TRUE", "true"),
        ("AuthCtrlr", "LocalPreauthorize", "yes", None),
        ("AuthCtrlr", "LocalPreauthorize", "1", None),
        # decimal (MaxSet of ACCurrent, 0..80)
        ("EVSE", "ACCurrent", "16.5", "16.5"), ("EVSE", "ACCurrent", "-1", None),
        ("EVSE", "ACCurrent", "80.5", None), ("EVSE", "ACCurrent", "1e1", None),
        ("EVSE", "ACCurrent", "1.", None), ("EVSE", "ACCurrent", "nan", None),
        # string: maxLimit is its length, no control characters
        ("SecurityCtrlr", "OrganizationName", "A" * 64, "A" * 64),
        ("SecurityCtrlr", "OrganizationName", "A" * 65, None),
        ("SecurityCtrlr", "OrganizationName", "Caf\u00e9 & Co", "Caf\u00e9 & Co"),
        ("SecurityCtrlr", "OrganizationName", "line\nbreak", None),
        ("SecurityCtrlr", "OrganizationName", "", ""),
        # SequenceList: ordered items of valuesList, at least one, each once
        ("ClockCtrlr", "TimeSource", "Heartbeat", "Heartbeat"),
        ("ClockCtrlr", "TimeSource", "NTP", None),
        ("ClockCtrlr", "TimeSource", "Heartbeat,Heartbeat", None),
        ("ClockCtrlr", "TimeSource", "", None),
        # MemberList: a set of valuesList's items, maxLimit its length
        ("TestCtrlr", "Members", "Bb, Cc", "Bb,Cc"), ("TestCtrlr", "Members", "", ""),
        ("TestCtrlr", "Members", "Aa,Bb,Cc,Dd", "Aa,Bb,Cc,Dd"),  # 11 characters
        ("TestCtrlr", "Members", "Aa,Bb,Cc,Dd,Ee", None),  # 14: longer than maxLimit 12
        ("TestCtrlr", "Members", "Aa,Zz", None), ("TestCtrlr", "Members", "Aa,Aa", None),
        # OptionList: one of valuesList
        ("TestCtrlr", "Mode", "Fast,Slow", None),
        # dateTime: RFC 3339
        ("TestCtrlr", "Since", "2026-12-02T08:22:15Z", "2026-12-02T08:22:15Z"),
        ("TestCtrlr", "Since", "2026-13-02T08:22:15Z", None),
        ("TestCtrlr", "Since", "yesterday", None),
    )
    for component, variable, value, kept in cases:
        evse = 1 if component == "EVSE" else None
        attribute = "MaxSet" if component == "EVSE" else "Actual"
        status, info = dm.set(component, variable, value, evse=evse, attribute=attribute)
        if kept is None:
            assert status == "Rejected" and info["reasonCode"] in (
                "InvalidValue", "ValueOutOfRange"), (variable, value, status)
        else:
            assert status == "Accepted", (variable, value, status, info)
            assert dm.get(component, variable, evse=evse, attribute=attribute) == kept, value
    rmtree(folder)


def test_configuration_value_size_limits_what_is_set():
    dm, folder = make(fixed={("DeviceDataCtrlr", "ConfigurationValueSize"): "10"})
    assert dm.set("SecurityCtrlr", "OrganizationName", "0123456789") == ("Accepted", None)
    assert dm.set("SecurityCtrlr", "OrganizationName", "0123456789A") == (
        "Rejected", {"reasonCode": "TooLargeElement"})
    rmtree(folder)


def test_the_password_follows_passwordstring_and_never_reaches_the_log():
    dm, folder = make()
    with Captured() as cap:
        for bad in ("short-1234567", "x" * 41, "with space 0123456789",
                    "quote\"0123456789abc", "\u00e9" * 20):
            assert dm.set("SecurityCtrlr", "BasicAuthPassword", bad) == (
                "Rejected", {"reasonCode": "InvalidValue"}), bad
        assert dm.set("securityctrlr", "basicauthpassword", PASSWORD) == ("Accepted", None)
        assert dm.read("SecurityCtrlr", "BasicAuthPassword")[:2] == ("Rejected", None)
        logger.get("x").info("the station would log", PASSWORD)
    assert dm.get("SecurityCtrlr", "BasicAuthPassword") == PASSWORD, "the firmware reads it"
    text = "\n".join(cap.lines)
    assert PASSWORD not in text and "with space" not in text, text
    assert "x" * 41 not in text, text
    assert cap.count("BasicAuthPassword Actual changed") == 1, text
    assert cap.count("the station would log ***") == 1, text
    rmtree(folder)


def test_a_failed_write_is_rejected_and_changes_nothing():
    folder = tempdir()
    blocker = folder + "/file"
    with open(blocker, "w") as f:
        f.write("not a folder")
    dm = DeviceModel(blocker + "/dm.json", 1)  # its folder is a file: every write fails
    called = []
    dm.on_change("OCPPCommCtrlr", "HeartbeatInterval", called.append)
    with Captured() as cap:
        assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", "60") == (
            "Rejected", {"reasonCode": "InternalError"})
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "300" and called == []
    assert cap.count("cannot store HeartbeatInterval") == 1, cap.lines
    rmtree(folder)


# -- listeners ------------------------------------------------------------------------------
def test_on_change_is_told_each_accepted_change_of_its_attribute():
    dm, folder = make()
    heard = []
    dm.on_change("OCPPCommCtrlr", "HeartbeatInterval", heard.append)
    dm.on_change("EVSE", "ACCurrent", lambda v: heard.append("evse2 " + v), evse=2,
                 attribute="MaxSet")
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", "60")
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", "60")  # the same value: no change
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", "zero")  # rejected
    dm.set("EVSE", "ACCurrent", "10", evse=1, attribute="MaxSet")  # another EVSE
    dm.set("EVSE", "ACCurrent", "12", evse=2, attribute="MaxSet")
    assert heard == ["60", "evse2 12"], heard
    raises(ValueError, dm.on_change, "OCPPCommCtrlr", "NoSuchVariable", heard.append)
    raises(ValueError, dm.on_change, "OCPPCommCtrlr", "HeartbeatInterval", heard.append,
           attribute="Target")
    rmtree(folder)


def test_a_failing_listener_is_logged_and_the_change_stays():
    dm, folder = make()

    def broken(value):
        raise RuntimeError("listener bug")

    dm.on_change("OCPPCommCtrlr", "OfflineThreshold", broken)
    with Captured() as cap:
        assert dm.set("OCPPCommCtrlr", "OfflineThreshold", "120") == ("Accepted", None)
    assert dm.get("OCPPCommCtrlr", "OfflineThreshold") == "120"
    assert cap.count("listener of OfflineThreshold failed") == 1, cap.lines
    rmtree(folder)


# -- actual and fixed values ----------------------------------------------------------------
def test_actual_functions_get_their_address_and_fixed_values_replace_defaults():
    asked = []

    def state(evse, connector):
        asked.append((evse, connector))
        return "Occupied" if evse == 2 else "Available"

    dm, folder = make(actual={("EVSE", "AvailabilityState"): state,
                              ("Connector", "AvailabilityState"): state,
                              ("ChargingStation", "AvailabilityState"): state,
                              ("SecurityCtrlr", "CertificateEntries"): lambda e, c: 3,
                              ("ChargingStation", "Problem"): lambda e, c: True},
                      fixed={("SecurityCtrlr", "Identity"): "CP-1",
                             ("SecurityCtrlr", "SecurityProfile"): "2",
                             ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"): "4",
                             ("OCPPCommCtrlr", "HeartbeatInterval"): "120"},
                      max_limits={("EVSE", "Power"): 7400})
    assert dm.get("EVSE", "AvailabilityState", evse=2) == "Occupied"
    assert dm.get("Connector", "AvailabilityState", evse=1, connector=1) == "Available"
    assert dm.get("ChargingStation", "AvailabilityState") == "Available"
    assert asked == [(2, None), (1, 1), (None, None)], asked
    assert dm.get("SecurityCtrlr", "CertificateEntries") == "3", "non-str values as wire text"
    assert dm.get("ChargingStation", "Problem") == "true"
    assert dm.get("SecurityCtrlr", "Identity") == "CP-1"
    assert dm.get_int("SecurityCtrlr", "SecurityProfile") == 2
    assert dm.get_int("DeviceDataCtrlr", "ItemsPerMessage", instance="GetVariables") == 4
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "120", "the installer's default"
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", "90") == ("Accepted", None)
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "90", "the central system's wins"
    power = [d for d in dm.report("FullInventory") if d["variable"]["name"] == "Power"]
    assert [d["variableCharacteristics"]["maxLimit"] for d in power] == [7400, 7400], power
    rmtree(folder)


def test_a_failing_actual_function_gives_no_value_and_is_logged():
    def broken(evse, connector):
        raise RuntimeError("sensor gone")

    dm, folder = make(actual={("EVSE", "Power"): broken})
    with Captured() as cap:
        assert dm.get("EVSE", "Power", evse=1) is None
        assert dm.read("EVSE", "Power", evse=1) == ("Accepted", "", None)
    assert cap.count("actual value of Power failed") == 2, cap.lines
    rmtree(folder)


def test_wiring_mistakes_are_found_at_start():
    folder = tempdir()
    path = folder + "/dm.json"
    ok = lambda e, c: "1"  # noqa: E731
    raises(ValueError, DeviceModel, path, 1, {("OCPPCommCtrlr", "NoSuch"): ok})
    raises(ValueError, DeviceModel, path, 1, {("OCPPCommCtrlr", "HeartbeatInterval"): ok})
    raises(ValueError, DeviceModel, path, 1, {("SecurityCtrlr", "BasicAuthPassword"): ok})
    raises(ValueError, DeviceModel, path, 1, None, {("SecurityCtrlr", "SecurityProfile"): "4"})
    raises(ValueError, DeviceModel, path, 1, None, {("EVSE", "SupplyPhases"): 3})  # not str
    raises(ValueError, DeviceModel, path, 1, None, {("OCPPCommCtrlr", "MessageTimeout"): "1"})
    raises(ValueError, DeviceModel, path, 1, None, None, {("EVSE", "Nothing"): 1})
    e = raises(ValueError, DeviceModel, path, 1, None,
               {("SecurityCtrlr", "BasicAuthPassword"): "too short but secret"[:14]})
    assert "too short" not in str(e), "an installer's password is not repeated"
    assert not os.listdir(folder), "nothing written"
    rmtree(folder)


# -- persistence ----------------------------------------------------------------------------
def test_set_values_survive_a_restart_and_only_they_are_stored():
    dm, folder = make(cls=Extended)
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", "60")
    dm.set("OCPPCommCtrlr", "MessageAttempts", "5", instance="transactionevent")
    dm.set("EVSE", "ACCurrent", "13.5", evse=2, attribute="MaxSet")
    dm.set("SecurityCtrlr", "BasicAuthPassword", PASSWORD)
    dm.set("TestCtrlr", "Level", "-2", attribute="MinSet")
    again, _ = make(folder, cls=Extended)
    assert again.get("OCPPCommCtrlr", "HeartbeatInterval") == "60"
    assert again.get("OCPPCommCtrlr", "MessageAttempts", instance="TransactionEvent") == "5"
    assert again.get("EVSE", "ACCurrent", evse=2, attribute="MaxSet") == "13.5"
    assert again.get("EVSE", "ACCurrent", evse=1, attribute="MaxSet") is None
    assert again.get("SecurityCtrlr", "BasicAuthPassword") == PASSWORD
    assert again.get("TestCtrlr", "Level", attribute="MinSet") == "-2"
    assert again.get("TestCtrlr", "Level") == "0"
    stored = json.loads(atomicfile.read(folder + "/dm.json"))["values"]
    assert len(stored) == 5, stored
    rmtree(folder)


def test_a_torn_or_corrupt_file_leaves_the_defaults_and_is_logged():
    dm, folder = make()
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", "60")
    path = folder + "/dm.json"
    with open(path, "rb") as f:
        whole = f.read()
    with open(path, "wb") as f:
        f.write(whole[:len(whole) // 2])  # power lost halfway (no atomic rename)
    with Captured() as cap:
        torn, _ = make(folder)
    assert torn.get("OCPPCommCtrlr", "HeartbeatInterval") == "300"
    assert cap.count("is torn: variables at their defaults") == 1, cap.lines
    for content in ("not json", "[1, 2]", '{"values": 7}', '{"other": []}'):
        atomicfile.write(path, content)
        with Captured() as cap:
            bad, _ = make(folder)
        assert bad.get("OCPPCommCtrlr", "HeartbeatInterval") == "300", content
        assert cap.count("is unreadable") == 1, (content, cap.lines)
    rmtree(folder)


def test_stored_entries_that_no_longer_pass_are_dropped_one_by_one():
    folder = tempdir()
    path = folder + "/dm.json"
    entries = [
        ["OCPPCommCtrlr", 0, "HeartbeatInterval", None, "Actual", "0", None],  # out of range
        ["OCPPCommCtrlr", 0, "MessageTimeout", "Default", "Actual", "10", None],  # read-only
        ["GoneCtrlr", 0, "Thing", None, "Actual", "1", None],  # no longer in the table
        ["EVSE", 3, "ACCurrent", None, "MaxSet", "10", None],  # no EVSE 3
        ["EVSE", 0, "ACCurrent", None, "MaxSet", "10", None],  # no EVSE 0
        ["OCPPCommCtrlr", 0, "OfflineThreshold", None, "Target", "10", None],  # no Target
        ["OCPPCommCtrlr", 0, "OfflineThreshold", None, "Actual", 10, None],  # not a string
        "garbage", [1, 2],
        ["OCPPCommCtrlr", 0, "WebSocketPingInterval", None, "Actual", "30", None],  # good
        ["EVSE", 2, "ACCurrent", None, "MaxSet", "20", None],  # good
    ]
    atomicfile.write(path, json.dumps({"values": entries}))
    with Captured() as cap:
        dm = DeviceModel(path, 2)
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "300"
    assert dm.get("OCPPCommCtrlr", "MessageTimeout", instance="Default") == "30"
    assert dm.get("OCPPCommCtrlr", "OfflineThreshold") == "600"
    assert dm.get("OCPPCommCtrlr", "WebSocketPingInterval") == "30"
    assert dm.get("EVSE", "ACCurrent", evse=2, attribute="MaxSet") == "20"
    assert len([x for x in cap.lines if "dropped" in x]) == 9, cap.lines
    rmtree(folder)


def test_the_installers_new_value_wins_over_one_set_before_it():
    folder = tempdir()
    path = folder + "/dm.json"
    cfg = {("SecurityCtrlr", "BasicAuthPassword"): PASSWORD}
    dm = DeviceModel(path, 1, None, cfg)
    assert dm.get("SecurityCtrlr", "BasicAuthPassword") == PASSWORD
    assert dm.set("SecurityCtrlr", "BasicAuthPassword", PASSWORD2)[0] == "Accepted"  # A01
    # a restart with the same configuration: the central system's password stays
    assert DeviceModel(path, 1, None, cfg).get("SecurityCtrlr", "BasicAuthPassword") == \
        PASSWORD2
    # the installer re-provisions the station: the configuration's password wins
    third = "Third-Pass-0123456789"
    with Captured() as cap:
        dm3 = DeviceModel(path, 1, None, {("SecurityCtrlr", "BasicAuthPassword"): third})
    assert dm3.get("SecurityCtrlr", "BasicAuthPassword") == third
    assert cap.count("from the configuration replaces") == 1, cap.lines
    text = "\n".join(cap.lines)
    assert PASSWORD2 not in text and third not in text, text
    rmtree(folder)


def test_a_reboot_pends_only_after_a_change():
    dm, folder = make(cls=Extended)
    assert dm.set("TestCtrlr", "Mode", "Slow") == ("RebootRequired", None)
    again, _ = make(folder, cls=Extended)  # rebooted: the value is in effect
    assert again.get("TestCtrlr", "Mode") == "Slow"
    assert again.set("TestCtrlr", "Mode", "Slow") == ("Accepted", None)
    rmtree(folder)


# -- reports --------------------------------------------------------------------------------
def addresses(data):
    out = []
    for d in data:
        evse = d["component"].get("evse") or {}
        out.append((d["component"]["name"], evse.get("id"), evse.get("connectorId"),
                    d["variable"]["name"], d["variable"].get("instance")))
    return out


def test_full_inventory_has_every_variable_of_every_component_once():
    dm, folder = make(evses=3)
    got = addresses(dm.report("FullInventory"))
    expected = []
    for r in rows():
        scope = r[3] & T.SCOPE_MASK
        for e in range(1, 4) if scope != T.STATION else (None,):
            expected.append((r[0], e, 1 if scope == T.CONNECTOR else None, r[1], r[2]))
    assert sorted(got, key=repr) == sorted(expected, key=repr), (len(got), len(expected))
    for d in dm.report("FullInventory"):
        assert d["variableCharacteristics"]["supportsMonitoring"] is False, d
    rmtree(folder)


def test_configuration_inventory_has_the_writable_attributes_only():
    dm, folder = make()
    data = list(dm.report("ConfigurationInventory"))
    names = [(d["component"]["name"], d["variable"]["name"]) for d in data]
    assert ("SecurityCtrlr", "BasicAuthPassword") in names
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names
    assert ("OCPPCommCtrlr", "FileTransferProtocols") not in names
    assert names.count(("EVSE", "ACCurrent")) == 2, "its MaxSet, per EVSE"
    writable = 0
    for r in rows():
        if r[3] & T.MUTABILITY_MASK != T.RO or r[3] & (T.TARGET | T.MINSET | T.MAXSET):
            writable += 2 if r[3] & T.SCOPE_MASK != T.STATION else 1
    assert len(data) == writable, (len(data), writable)
    for d in data:
        for a in d["variableAttribute"]:
            assert a["mutability"] in ("ReadWrite", "WriteOnly"), d  # TC_B_12
        assert "variableCharacteristics" in d, d
    rmtree(folder)


def test_summary_inventory_has_availability_and_problems():
    problem = {1: "false"}

    def state(evse, connector):
        return "Faulted" if evse == 2 and connector == 1 else "Available"

    dm, folder = make(actual={("EVSE", "AvailabilityState"): state,
                              ("Connector", "AvailabilityState"): state,
                              ("EVSE", "Problem"): lambda e, c: problem.get(e, "true")})
    got = addresses(dm.report("SummaryInventory"))
    assert got == [("ChargingStation", None, None, "AvailabilityState", None),
                   ("EVSE", 1, None, "AvailabilityState", None),
                   ("EVSE", 2, None, "AvailabilityState", None),
                   ("EVSE", 2, None, "Problem", None),
                   ("Connector", 2, 1, "AvailabilityState", None)], got
    rmtree(folder)


def test_custom_report_criteria():
    available = {2: "false"}
    dm, folder = make(actual={("EVSE", "Available"): lambda e, c: available.get(e, "true"),
                              ("EVSE", "Problem"): lambda e, c: "true" if e == 1 else "false"})
    full = addresses(dm.report("FullInventory"))
    # Available: every component whose Available is true or which has none (B08.FR.08)
    got = addresses(dm.custom_report(None, ["Available"]))
    assert got == [a for a in full if a[:2] != ("EVSE", 2)], got
    # Enabled, Active: no component has the variable, so every one qualifies
    assert addresses(dm.custom_report(None, ["Enabled"])) == full
    assert addresses(dm.custom_report(None, ["Active"])) == full
    # Problem: only components with Problem true (B08.FR.10)
    got = addresses(dm.custom_report(None, ["Problem"]))
    assert got == [a for a in full if a[:2] == ("EVSE", 1)], got
    # more criteria: any of them (B08.FR.13)
    got = addresses(dm.custom_report(None, ["Problem", "Available"]))
    assert got == [a for a in full if a[:2] != ("EVSE", 2)], got
    # criteria and componentVariables together (TC_B_18)
    cv = [{"component": {"name": "EVSE", "evse": {"id": 1}},
           "variable": {"name": "AvailabilityState"}}]
    assert addresses(dm.custom_report(cv, ["Available"])) == [
        ("EVSE", 1, None, "AvailabilityState", None)]
    assert list(dm.custom_report(cv, ["Problem"])) != []
    cv[0]["component"]["evse"]["id"] = 2
    assert list(dm.custom_report(cv, ["Available"])) == [], "EVSE 2 is not available"
    rmtree(folder)


def test_custom_report_component_variables():
    dm, folder = make(evses=2)

    def got(*cvs):
        return addresses(dm.custom_report(list(cvs), None))

    evse = {"name": "EVSE"}
    # no evse: every EVSE (B08.FR.23); no variable: every variable (B08.FR.20)
    assert [a[1] for a in got({"component": evse, "variable": {"name": "Power"}})] == [1, 2]
    assert len(got({"component": {"name": "evse", "evse": {"id": 2}}})) == 6
    # evse id without connectorId: every connector of it (B08.FR.22)
    assert got({"component": {"name": "Connector", "evse": {"id": 2}},
                "variable": {"name": "ConnectorType"}}) == [
        ("Connector", 2, 1, "ConnectorType", None)]
    assert got({"component": {"name": "Connector", "evse": {"id": 2, "connectorId": 2}}}) == []
    assert got({"component": {"name": "EVSE", "evse": {"id": 1, "connectorId": 1}}}) == []
    # no instance: every instance (B08.FR.21); an instance: that one
    assert [a[4] for a in got({"component": {"name": "DeviceDataCtrlr"},
                               "variable": {"name": "ItemsPerMessage"}})] == [
        "GetReport", "GetVariables", "SetVariables"]
    assert got({"component": {"name": "DeviceDataCtrlr"},
                "variable": {"name": "ItemsPerMessage", "instance": "getvariables"}}) == [
        ("DeviceDataCtrlr", None, None, "ItemsPerMessage", "GetVariables")]
    assert got({"component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval", "instance": "x"}}) == []
    # a component instance: ours have none; a station component at an EVSE: none
    assert got({"component": {"name": "OCPPCommCtrlr", "instance": "x"}}) == []
    assert got({"component": {"name": "OCPPCommCtrlr", "evse": {"id": 1}}}) == []
    assert got({"component": {"name": "NoSuchCtrlr"}}) == []
    # several: the union, in inventory order
    assert got({"component": {"name": "ClockCtrlr"}, "variable": {"name": "DateTime"}},
               {"component": {"name": "AuthCtrlr"},
                "variable": {"name": "LocalPreauthorize"}}) == [
        ("AuthCtrlr", None, None, "LocalPreauthorize", None),
        ("ClockCtrlr", None, None, "DateTime", None)]
    rmtree(folder)


def test_report_rejects_an_unknown_base():
    dm, folder = make()
    raises(ValueError, dm.report, "Everything")
    rmtree(folder)


# -- RAM ------------------------------------------------------------------------------------
@measures_heap
def test_the_model_of_two_evses_costs_little_ram():
    folder = tempdir()
    path = folder + "/dm.json"
    DeviceModel(path, 2)  # modules imported, their first-use strings interned
    actual = {("ClockCtrlr", "DateTime"): lambda e, c: "x"}
    fixed = {("SecurityCtrlr", "Identity"): "CP-1",
             ("SecurityCtrlr", "BasicAuthPassword"): PASSWORD}
    limits = {("EVSE", "Power"): 7400}
    gc.collect()
    before = gc.mem_alloc()
    dm = DeviceModel(path, 2, actual, fixed, limits)
    gc.collect()
    built = gc.mem_alloc() - before
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", "60")
    dm.set("EVSE", "ACCurrent", "16", evse=1, attribute="MaxSet")
    gc.collect()
    used = gc.mem_alloc() - before
    print("DeviceModel(2 EVSEs): %d bytes after construction, %d with two values set"
          % (built, used))
    assert built < 1024 and used < 1280, (built, used)
    rmtree(folder)
