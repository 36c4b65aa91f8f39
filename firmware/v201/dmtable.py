# The OCPP 2.0.1 device model as data: every component/variable the firmware has, one row each.
"""The component/variable definitions of the firmware's device model (OCPP 2.0.1 part 2,
appendix "Referenced Components and Variables"; part 4 §8 for the OCPPCommCtrlr RetryBackOff*
and WebSocketPingInterval). firmware/v201/devicemodel.py gives them values.

A row is (component, variable, instance, flags, unit, minLimit, maxLimit, valuesList, default):

    component   the component's name; its rows follow each other (reports walk them so)
    variable    the variable's name; instance: the variable's instance or None
    flags       dataType (the low 3 bits, an index into DATA_TYPES) | mutability of the
                Actual attribute (RO, WO or RW) | scope (STATION, EVSE or CONNECTOR: the
                component exists once, per EVSE, or per EVSE's connector 1) | PERSISTENT,
                CONSTANT (of Actual) | the attributes it has (ACTUAL, TARGET, MINSET, MAXSET)
                | REBOOT (a change takes effect after a reboot) | PASSWORD (a passwordString)
    unit, minLimit, maxLimit, valuesList   its VariableCharacteristics (None: absent); for
                string and list types maxLimit is the longest value in characters
    default     the Actual value (a wire string) before any configuration; None: no value

Target, MinSet and MaxSet attributes are values the central system sets: ReadWrite and
persistent, with no value until set. A writable Actual is persistent (appendix 2: "All
variables that are writable SHALL have ... persistence = true"). Components have no
instances; supportsMonitoring is false everywhere (no monitoring, block N).

The wire names of dataType, mutability and attribute are DATA_TYPES, MUTABILITY and
ATTRIBUTES, each in the order of its enum in the generated schema tables
(lib/ocppj/schemas/v201/NotifyReport.py): tests/device/test_devicemodel.py compares them, so
the rows hold small indexes and the names are written once.

Only literals and const() names appear in TABLE, so the compiler makes it one constant that a
frozen build keeps in flash. mutability() and same() read a row for the device model and its
reports (firmware/v201/devicemodel.py, dmreport.py), which both import them from here.
"""

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

DATA_TYPES = ("string", "decimal", "integer", "dateTime", "boolean", "OptionList",
              "SequenceList", "MemberList")
MUTABILITY = ("ReadOnly", "WriteOnly", "ReadWrite")
ATTRIBUTES = ("Actual", "Target", "MinSet", "MaxSet")

# dataType: an index into DATA_TYPES
STRING = const(0)
DECIMAL = const(1)
INTEGER = const(2)
DATETIME = const(3)
BOOLEAN = const(4)
OPTION_LIST = const(5)
SEQUENCE_LIST = const(6)
MEMBER_LIST = const(7)
TYPE_MASK = const(7)
# mutability of Actual: an index into MUTABILITY, shifted
RO = const(0)
WO = const(8)
RW = const(16)
MUTABILITY_SHIFT = const(3)
MUTABILITY_MASK = const(24)
# indexes into MUTABILITY
READ_ONLY = const(0)
WRITE_ONLY = const(1)
READ_WRITE = const(2)
# where the component exists
STATION = const(0)
EVSE = const(32)
CONNECTOR = const(64)
SCOPE_MASK = const(96)
PERSISTENT = const(128)
CONSTANT = const(256)
# the attributes: ACTUAL << index into ATTRIBUTES
ACTUAL = const(512)
TARGET = const(1024)
MINSET = const(2048)
MAXSET = const(4096)
REBOOT = const(8192)
PASSWORD = const(16384)  # A00.FR.205: 16 to 40 characters of passwordString

# Shorthands: a setting the central system may change; a value of the configuration or the
# firmware that never changes while it runs; a value the station measures or computes.
_SET = const(RW | PERSISTENT | ACTUAL)
_FIX = const(RO | PERSISTENT | CONSTANT | ACTUAL)
_NOW = const(RO | ACTUAL)

TABLE = (
    # -- AuthCtrlr (block C: the required ones; the 1.6 firmware's defaults)
    ("AuthCtrlr", "AuthorizeRemoteStart", None, _SET | BOOLEAN, None, None, None, None,
     "false"),
    ("AuthCtrlr", "LocalAuthorizeOffline", None, _SET | BOOLEAN, None, None, None, None,
     "true"),
    ("AuthCtrlr", "LocalPreauthorize", None, _SET | BOOLEAN, None, None, None, None, "false"),
    # -- ClockCtrlr: DateTime is the station's clock (an `actual` function)
    ("ClockCtrlr", "DateTime", None, _NOW | DATETIME, None, None, None, None, None),
    ("ClockCtrlr", "TimeSource", None, _SET | SEQUENCE_LIST, None, None, None, "Heartbeat",
     "Heartbeat"),
    # -- DeviceDataCtrlr: the limits of this firmware's messages. 8 items of the longest kind
    # (50-character names, an unknown component) fit the default 4096-byte frame buffer;
    # 4096 bytes is the default csms.maxMessageBytes.
    ("DeviceDataCtrlr", "BytesPerMessage", "GetReport", _FIX | INTEGER, None, None, None, None,
     "4096"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables", _FIX | INTEGER, None, None, None,
     None, "4096"),
    ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables", _FIX | INTEGER, None, None, None,
     None, "4096"),
    ("DeviceDataCtrlr", "ConfigurationValueSize", None, _FIX | INTEGER, None, None, 1000, None,
     "1000"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport", _FIX | INTEGER, None, None, None, None,
     "8"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", _FIX | INTEGER, None, None, None,
     None, "8"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables", _FIX | INTEGER, None, None, None,
     None, "8"),
    ("DeviceDataCtrlr", "ReportingValueSize", None, _FIX | INTEGER, None, None, 2500, None,
     "1000"),
    # -- OCPPCommCtrlr
    ("OCPPCommCtrlr", "FileTransferProtocols", None, _FIX | MEMBER_LIST, None, None, None,
     "HTTP,HTTPS", "HTTP,HTTPS"),
    ("OCPPCommCtrlr", "HeartbeatInterval", None, _SET | INTEGER, "s", 1, 86400, None, "300"),
    ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent", _SET | INTEGER, "s", 1,
     3600, None, "60"),
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent", _SET | INTEGER, None, 1, 10, None,
     "3"),
    ("OCPPCommCtrlr", "MessageTimeout", "Default", _FIX | INTEGER, "s", None, None, None, "30"),
    # One connection profile (the configuration's): slot 1. Changing the order means
    # connecting anew, which a reboot does (B10).
    ("OCPPCommCtrlr", "NetworkConfigurationPriority", None, _SET | SEQUENCE_LIST | REBOOT,
     None, None, None, "1", "1"),
    ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", None, _SET | INTEGER, None, 1, 100,
     None, "3"),
    ("OCPPCommCtrlr", "OfflineThreshold", None, _SET | INTEGER, "s", 0, 86400, None, "600"),
    ("OCPPCommCtrlr", "ResetRetries", None, _SET | INTEGER, None, 0, 10, None, "3"),
    # part 4 §8; lib/ws/reconnect.py waits 1 s at first, doubling up to about 300 s
    ("OCPPCommCtrlr", "RetryBackOffRandomRange", None, _SET | INTEGER, "s", 0, 3600, None,
     "10"),
    ("OCPPCommCtrlr", "RetryBackOffRepeatTimes", None, _SET | INTEGER, None, 0, 20, None, "8"),
    ("OCPPCommCtrlr", "RetryBackOffWaitMinimum", None, _SET | INTEGER, "s", 1, 3600, None,
     "1"),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None, _SET | BOOLEAN, None, None, None, None,
     "true"),
    ("OCPPCommCtrlr", "WebSocketPingInterval", None, _SET | INTEGER, "s", 0, 3600, None, "60"),
    # -- SecurityCtrlr (security profiles 1 and 2)
    ("SecurityCtrlr", "AdditionalRootCertificateCheck", None, _FIX | BOOLEAN, None, None, None,
     None, "false"),
    # write-only: the configuration's password (`fixed`) until the central system sets one
    ("SecurityCtrlr", "BasicAuthPassword", None,
     WO | PERSISTENT | ACTUAL | STRING | PASSWORD, None, None, 40, None, None),
    ("SecurityCtrlr", "CertificateEntries", None, _NOW | INTEGER, None, None, None, None, "0"),
    ("SecurityCtrlr", "Identity", None, _FIX | STRING, None, None, 48, None, None),
    # the O of the station certificate's CSR (A00.FR.509); 64: X.520's upper bound
    ("SecurityCtrlr", "OrganizationName", None, _SET | STRING, None, None, 64, None, ""),
    # 0: no authentication at all, for a bench or a closed network only (not a 2.0.1 profile;
    # config.json csms.securityProfile, 0 to 2 with 2.0.1)
    ("SecurityCtrlr", "SecurityProfile", None, _FIX | INTEGER, None, 0, 3, None, "1"),
    # -- TxCtrlr (block E: the required ones; the transactions of the 1.6 firmware: started
    # once authorized and plugged in, ended when either is no longer so)
    ("TxCtrlr", "EVConnectionTimeOut", None, _SET | INTEGER, "s", 1, 3600, None, "60"),
    ("TxCtrlr", "StopTxOnEVSideDisconnect", None, _FIX | BOOLEAN, None, None, None, None,
     "true"),
    ("TxCtrlr", "StopTxOnInvalidId", None, _SET | BOOLEAN, None, None, None, None, "true"),
    ("TxCtrlr", "TxStartPoint", None, _FIX | MEMBER_LIST, None, None, None, "PowerPathClosed",
     "PowerPathClosed"),
    ("TxCtrlr", "TxStopPoint", None, _FIX | MEMBER_LIST, None, None, None, "PowerPathClosed",
     "PowerPathClosed"),
    # -- ChargingStation, EVSE and Connector (appendix 2.13): the station's state comes from
    # `actual` functions, its build from `fixed` values
    ("ChargingStation", "AvailabilityState", None, _NOW | OPTION_LIST, None, None, None,
     "Available,Occupied,Reserved,Unavailable,Faulted", "Available"),
    ("ChargingStation", "Available", None, _NOW | BOOLEAN, None, None, None, None, "true"),
    ("ChargingStation", "Problem", None, _NOW | BOOLEAN, None, None, None, None, "false"),
    ("ChargingStation", "SupplyPhases", None, _FIX | INTEGER, None, 0, 3, None, "1"),
    # ACCurrent MaxSet: the most current the EVSE may offer, set by the central system
    # (unset: the configuration's limit); Actual: the current offered now
    ("EVSE", "ACCurrent", None, _NOW | MAXSET | DECIMAL | EVSE, "A", 0, 80, None, "0"),
    ("EVSE", "AvailabilityState", None, _NOW | OPTION_LIST | EVSE, None, None, None,
     "Available,Occupied,Reserved,Unavailable,Faulted", "Available"),
    ("EVSE", "Available", None, _NOW | BOOLEAN | EVSE, None, None, None, None, "true"),
    # maxLimit (required): the most power the EVSE can give, DeviceModel's max_limits
    ("EVSE", "Power", None, _NOW | DECIMAL | EVSE, "W", None, None, None, "0"),
    ("EVSE", "Problem", None, _NOW | BOOLEAN | EVSE, None, None, None, None, "false"),
    ("EVSE", "SupplyPhases", None, _FIX | INTEGER | EVSE, None, 0, 3, None, "1"),
    ("Connector", "AvailabilityState", None, _NOW | OPTION_LIST | CONNECTOR, None, None, None,
     "Available,Occupied,Reserved,Unavailable,Faulted", "Available"),
    ("Connector", "Available", None, _NOW | BOOLEAN | CONNECTOR, None, None, None, None,
     "true"),
    ("Connector", "ConnectorType", None, _FIX | STRING | CONNECTOR, None, None, 20, None,
     "sType2"),
    ("Connector", "SupplyPhases", None, _FIX | INTEGER | CONNECTOR, None, 0, 3, None, "1"),
)


# -- reading a row (the device model and its reports) --------------------------------------
def mutability(flags, a):
    """The index into MUTABILITY of attribute `a` (an index into ATTRIBUTES) of a row with
    `flags` (Target, MinSet and MaxSet: ReadWrite)."""
    return (flags & MUTABILITY_MASK) >> MUTABILITY_SHIFT if a == 0 else READ_WRITE


def same(a, b):
    """Names equal without regard to case (allocates only when the lengths match)."""
    return a == b or (len(a) == len(b) and a.lower() == b.lower())
