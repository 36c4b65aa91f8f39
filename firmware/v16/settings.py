# The OCPP 1.6 configuration store: every supported key in one table, typed, persisted.
"""OCPP configuration keys (OCPP 1.6 chapter 9, security whitepaper chapter 7) for
GetConfiguration and ChangeConfiguration.

    settings = Settings(state_dir, connectors=2, feature_profiles="Core,RemoteTrigger",
                        overrides={"AuthorizationKey": key, "SecurityProfile": 1,
                                   "WebSocketPingInterval": 60})
    settings.get("HeartbeatInterval")            # 300 (int); booleans are bool, CSLs str
    settings.get_list("MeterValuesSampledData")  # ["Energy.Active.Import.Register"]
    settings.on_change("HeartbeatInterval", fn)  # fn(new typed value) after each change
    settings.on_validate("SecurityProfile", ok)  # ok(new typed value) -> False: Rejected
    settings.change("HeartbeatInterval", "60")   # "Accepted" | "Rejected" | "RebootRequired"
                                                 # | "NotSupported"
    settings.get_configuration(["HeartbeatInterval", "Foo"])
        # {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False,
        #                        "value": "60"}], "unknownKey": ["Foo"]}
    session.handlers["GetConfiguration"] = lambda p: handle_get_configuration(settings, p)
    session.handlers["ChangeConfiguration"] = lambda p: handle_change_configuration(settings, p)

Values are kept typed (int, bool, str) and written on the wire as OCPP strings ("true",
"300", "a,b"). Key names are CiString50: looked up without regard to case, answered in the
spelling of the spec.

Persistence: `<state_dir>/ocpp-settings.json` (atomicfile: power-loss safe) holds every value
the central system changed, as wire strings, so loading runs the same checks as
ChangeConfiguration. A torn or corrupt file, or a stored value that no longer passes (a new
firmware narrowed a bound), falls back to the default with a logged warning, never a crash.
A change is written before "Accepted" is answered; a failed write answers "Rejected".

`overrides` are the installer's values from config.json (typed, read-write keys only; a bad one
raises ValueError). They replace the defaults below. A value the central system set later
wins over them across restarts, unless the installer has since changed that key in
config.json: the file remembers the override each stored value was set over. That keeps an
AuthorizationKey rotated by the central system (whitepaper A01) and still lets the installer
re-provision the key or lower SecurityProfile locally (whitepaper A00.FR.005: never via OCPP).

Write-only AuthorizationKey (whitepaper 7.2): GetConfiguration lists it without a value; it is
registered with logger.secret() whenever it is loaded or set and no log line here carries it.
Its value is kept as received: 16 to 40 printable ASCII characters (A00.FR.205: at least 16
bytes; "up to 40 hexadecimal digits"), the same rule as config.json csms.authorizationKey.

SecurityProfile (whitepaper 7.6, A05) only goes up: a lower or equal value is Rejected (the
firmware itself may restore() a lower one when a new profile cannot connect); 1 and 2 need an
AuthorizationKey; 2 and 3 need TLS material this module cannot see, so they are Rejected unless
the application registered an on_validate check for SecurityProfile that approves them (an
application that forgot cannot lock itself out of its central system).

Listeners run after the value is stored and before the answer is sent; one that must act after
the answer (reconnect on a new AuthorizationKey or SecurityProfile) uses session.after_reply.
A listener that raises is logged; the change stays Accepted (it was made).

Measurands: the board delivers the meter register (integer Wh), the active power (W) and the
current the pilot offers, so MEASURANDS is Energy.Active.Import.Register, Power.Active.Import
and Current.Offered, without phase suffixes (no per-phase measurement). Any other measurand in
a CSL is Rejected (OCPP 1.6 §3.16.4 / errata 3.14.4).

Firmware keys beyond the spec: MaxCurrentA (6-80 A, the current offered to an EV before the
cable rating and the installation limit clamp it).
"""

import json

import atomicfile
import logger
from ocppj import errors

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

FILE_NAME = "ocpp-settings.json"

# What the meter and the pilot can deliver, in the order the MeterValues builder may use.
MEASURANDS = const(("Energy.Active.Import.Register", "Power.Active.Import", "Current.Offered"))
_M = const(3)  # len(MEASURANDS), spelt out so that TABLE is a constant (frozen: in flash)
# OCPP 1.6 §9.1.29: the feature profile identifiers.
PROFILES = ("Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation",
            "SmartCharging", "RemoteTrigger")
# OCPP 1.6 §9.1.7: phase rotations.
ROTATIONS = ("NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR")

# The sizes the firmware's services keep on flash and in RAM, stated here once: their keys
# below say them to the central system, the services enforce them.
LOCAL_LIST_MAX = const(64)  # identifiers in the local authorization list
SEND_LOCAL_LIST_MAX = const(32)  # identifiers in one SendLocalList.req (one frame buffer)
MAX_STACK_LEVEL = const(8)  # ChargeProfileMaxStackLevel: stackLevel 0..8
MAX_PERIODS = const(24)  # ChargingScheduleMaxPeriods: periods in one schedule
MAX_PROFILES = const(8)  # MaxChargingProfilesInstalled, every connector together

# GetConfiguration.req may name at most this many keys (§9.1.9): every key of TABLE. The
# largest possible answer (every key named, or unknown ones 50 characters long) fits the
# default 4096-byte frame buffer; tests/device/test_settings.py measures it: the whole answer
# is 3360 bytes with the defaults (1 connector), 3799 with every value at its longest (4
# connectors, all profiles), at most 3824 for a request naming 50 keys.
MAX_KEYS = const(50)

# Kinds of value
INT = const(0)   # a, b: lowest and highest value
BOOL = const(1)  # "true" / "false"
STR = const(2)   # a, b: shortest and longest length, printable ASCII
CSL = const(3)   # a: allowed items, b: most items (the <name>MaxLength key); items distinct
ROT = const(4)   # ConnectorPhaseRotation: "<connector>.<rotation>" items, or one bare rotation
FIXED = const(5)  # read-only, computed at start (rendered with str(); bool never used)

# Flags
R = const(1)       # read-only: ChangeConfiguration answers Rejected
W = const(2)       # write-only: GetConfiguration never shows the value
REBOOT = const(4)  # a change takes effect after a reboot: answered RebootRequired


# (name, kind, flags, a, b, default); a default of None is computed in Settings.__init__.
# Only literals and const() names in it: the compiler then makes the whole table one
# constant, which a frozen build keeps in flash (built at import, it took 2.5 KB of RAM).
# Alphabetical like the spec; the Core profile (§9.1)
# complete, then the security whitepaper's keys, then the firmware's own.
# No key needs a reboot today: the application applies each change through on_change, or reads
# the value when it needs it.
TABLE = (
    ("AllowOfflineTxForUnknownId", BOOL, 0, 0, 0, False),
    ("AuthorizationCacheEnabled", BOOL, 0, 0, 0, True),
    ("AuthorizeRemoteTxRequests", BOOL, 0, 0, 0, False),  # the CSMS chose the idTag already
    ("BlinkRepeat", INT, 0, 0, 100, 3),
    ("ClockAlignedDataInterval", INT, 0, 0, 86400, 0),  # 0: no clock-aligned data
    ("ConnectionTimeOut", INT, 0, 1, 3600, 60),
    ("ConnectorPhaseRotation", ROT, 0, 0, 0, None),  # "1.Unknown,...": not measured
    ("ConnectorPhaseRotationMaxLength", FIXED, R, 0, 0, None),  # connectors + 1 (0: grid)
    ("GetConfigurationMaxKeys", FIXED, R, 0, 0, MAX_KEYS),
    ("HeartbeatInterval", INT, 0, 1, 86400, 300),
    ("LightIntensity", INT, 0, 0, 100, 100),
    ("LocalAuthorizeOffline", BOOL, 0, 0, 0, True),
    ("LocalPreAuthorize", BOOL, 0, 0, 0, False),
    ("MaxEnergyOnInvalidId", INT, 0, 0, 1000000, 0),  # Wh; 0: stop at once
    ("MeterValuesAlignedData", CSL, 0, MEASURANDS, _M,
     "Energy.Active.Import.Register"),
    ("MeterValuesAlignedDataMaxLength", FIXED, R, 0, 0, _M),
    ("MeterValuesSampledData", CSL, 0, MEASURANDS, _M,
     "Energy.Active.Import.Register"),  # the spec's default (§9.1.17)
    ("MeterValuesSampledDataMaxLength", FIXED, R, 0, 0, _M),
    ("MeterValueSampleInterval", INT, 0, 0, 86400, 60),  # 0: no sampled data
    ("MinimumStatusDuration", INT, 0, 0, 3600, 0),
    ("NumberOfConnectors", FIXED, R, 0, 0, None),
    ("ResetRetries", INT, 0, 0, 10, 3),
    ("StopTransactionOnEVSideDisconnect", BOOL, 0, 0, 0, True),
    ("StopTransactionOnInvalidId", BOOL, 0, 0, 0, True),
    # Empty by default: meter data in StopTransaction.req grows with the transaction and
    # would have to fit the frame buffer (§3.16.5: empty means none).
    ("StopTxnAlignedData", CSL, 0, MEASURANDS, _M, ""),
    ("StopTxnAlignedDataMaxLength", FIXED, R, 0, 0, _M),
    ("StopTxnSampledData", CSL, 0, MEASURANDS, _M, ""),
    ("StopTxnSampledDataMaxLength", FIXED, R, 0, 0, _M),
    ("SupportedFeatureProfiles", FIXED, R, 0, 0, None),  # what the application implements
    # Firmware Management (§9.3 of the errata 3.88): the transfer protocols we speak
    ("SupportedFileTransferProtocols", FIXED, R, 0, 0, "HTTP,HTTPS"),
    ("SupportedFeatureProfilesMaxLength", FIXED, R, 0, 0, 6),  # len(PROFILES)
    ("TransactionMessageAttempts", INT, 0, 1, 10, 3),
    ("TransactionMessageRetryInterval", INT, 0, 1, 3600, 60),
    ("UnlockConnectorOnEVSideDisconnect", BOOL, 0, 0, 0, True),
    ("WebSocketPingInterval", INT, 0, 0, 3600, 60),  # §9.1.34: negative values Rejected
    # Security whitepaper, chapter 7
    # 7.1: false, the root store is not chained (firmware/security/certstore.py)
    ("AdditionalRootCertificateCheck", FIXED, R, 0, 0, False),
    ("AuthorizationKey", STR, W, 16, 40, ""),  # "": none configured
    ("SecurityProfile", INT, 0, 0, 3, 0),  # 7.6: default 0
    # 7.5: the O of the charge point certificate's CSR (A02.FR.13); 64: X.520's upper bound
    ("CpoName", STR, 0, 0, 64, ""),
    # Firmware keys
    ("MaxCurrentA", INT, 0, 6, 80, 16),  # IEC 61851 PWM range; 16 A: safe on most supplies
    # true: plain UpdateFirmware answers CALLERROR NotSupported (whitepaper L01.FR.20); false
    # (default): it is accepted, its image a signed bundle checked like SignedUpdateFirmware
    ("SecureFirmwareUpdateOnly", BOOL, 0, 0, 0, False),
    # Local Auth List Management (§9.2): the list of firmware/v16/locallist.py
    ("LocalAuthListEnabled", BOOL, 0, 0, 0, True),
    ("LocalAuthListMaxLength", FIXED, R, 0, 0, LOCAL_LIST_MAX),
    ("SendLocalListMaxLength", FIXED, R, 0, 0, SEND_LOCAL_LIST_MAX),
    # Reservation (§9.3): a reservation of connector 0 (firmware/v16/reservation.py)
    ("ReserveConnectorZeroSupported", FIXED, R, 0, 0, True),
    # Smart Charging (§9.4): the profiles of firmware/v16/smartcharging.py
    ("ChargeProfileMaxStackLevel", FIXED, R, 0, 0, MAX_STACK_LEVEL),
    ("ChargingScheduleAllowedChargingRateUnit", FIXED, R, 0, 0, "Current,Power"),
    ("ChargingScheduleMaxPeriods", FIXED, R, 0, 0, MAX_PERIODS),
    ("ConnectorSwitch3to1PhaseSupported", FIXED, R, 0, 0, False),
    ("MaxChargingProfilesInstalled", FIXED, R, 0, 0, MAX_PROFILES),
)

log = logger.get("settings")


def _digits(s):
    if not s:
        return False
    for c in s:
        if c < "0" or c > "9":
            return False
    return True


def _items(text):
    """CSL items, spaces around them dropped; "" is no items."""
    if not text.strip():
        return []
    return [item.strip() for item in text.split(",")]


def parse_int(text, lo, hi):
    """A decimal integer within lo..hi, or None ("+1", "1.0", " 1", "0x1" are not)."""
    s = text[1:] if text[:1] == "-" else text
    if not _digits(s) or len(s) > 9:  # 9 digits: stays a small int on the ESP32
        return None
    n = int(text)
    return n if lo <= n <= hi else None


def _parse(entry, text, connectors):
    """The typed value of wire string `text` for table row `entry`, or None if not valid."""
    kind, a, b = entry[1], entry[3], entry[4]
    if kind == INT:
        return parse_int(text, a, b)
    if kind == BOOL:
        low = text.lower()
        return True if low == "true" else False if low == "false" else None
    if kind == STR:
        if not a <= len(text) <= b:
            return None
        for c in text:
            if c < " " or c > "~":  # a control or non-ASCII character in an HTTP header
                return None
        return text
    if kind == CSL:
        items = _items(text)
        if len(items) > b:
            return None
        for i in range(len(items)):
            if items[i] not in a or items[i] in items[:i]:
                return None
        return ",".join(items)
    if kind == ROT:
        return _parse_rotation(text, connectors)
    return None  # FIXED: never parsed


def _parse_rotation(text, connectors):
    # §9.1.7: "0.RST, 1.RST, 2.RTS"; connector 0 is the grid connection to the main meter.
    items = _items(text)
    if len(items) == 1 and items[0] in ROTATIONS:
        return items[0]  # one rotation for every connector
    if not items or len(items) > connectors + 1:
        return None
    seen = []
    for item in items:
        dot = item.find(".")
        if dot < 1 or item[dot + 1:] not in ROTATIONS:
            return None
        n = parse_int(item[:dot], 0, connectors)
        if n is None or n in seen:
            return None
        seen.append(n)
    return ",".join(items)


def _describe(entry):
    """A valid value of table row `entry`, in words (for an installer's error message)."""
    kind, a, b = entry[1], entry[3], entry[4]
    if kind == INT:
        return "an integer %d to %d" % (a, b)
    if kind == BOOL:
        return "true or false"
    if kind == STR:
        return "%d to %d printable ASCII characters" % (a, b)
    return "a valid value"


def override_problem(name, value, connectors=1):
    """None when `value` (typed, an installer's override) is valid for key `name`, else why
    not. The rule is the key's own, the one ChangeConfiguration applies; the message never
    holds the value of a write-only key."""
    entry = None
    for e in TABLE:
        if e[0] == name:
            entry = e
    if entry is None or entry[2] & R:
        return "not a writable OCPP key (%s)" % name
    if isinstance(value, bool) != (entry[1] == BOOL) or _parse(entry, render(value),
                                                                connectors) is None:
        return "must be " + _describe(entry)
    return None


def render(value):
    """The OCPP wire string of a typed value."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


class Settings:
    table = TABLE  # a subclass may extend it (tests do, for a key that needs a reboot)

    def __init__(self, state_dir, connectors, feature_profiles, overrides=None):
        self.path = state_dir.rstrip("/") + "/" + FILE_NAME
        self.state_dir = state_dir
        self.connectors = connectors
        self._listeners = {}
        self._validators = {}
        self._stored = {}  # name -> wire string the central system set (what the file holds)
        self._seen = {}  # name -> wire string of the installer's override (also in the file)
        if isinstance(feature_profiles, str):
            feature_profiles = _items(feature_profiles)
        for p in feature_profiles:
            if p not in PROFILES:
                raise ValueError("unknown feature profile " + p)
        if "Core" not in feature_profiles:
            raise ValueError("feature profiles must include Core")
        computed = {
            "ConnectorPhaseRotation": ",".join(["%d.Unknown" % c
                                                for c in range(1, connectors + 1)]),
            "ConnectorPhaseRotationMaxLength": connectors + 1,
            "NumberOfConnectors": connectors,
            "SupportedFeatureProfiles": ",".join(feature_profiles),
        }
        self._values = {}
        for e in self.table:
            self._values[e[0]] = computed[e[0]] if e[5] is None else e[5]
        self._apply_overrides(overrides or {})
        self._load(overrides or {})
        key = self._values.get("AuthorizationKey")
        if key:
            logger.secret(key)

    # -- reading -------------------------------------------------------------------------
    def get(self, name):
        """The typed value of `name` (exact spelling); KeyError if the key does not exist."""
        return self._values[name]

    def get_list(self, name):
        """The items of CSL key `name` as a list of strings."""
        return _items(self._values[name])

    def get_configuration(self, keys=None):
        """The GetConfiguration.conf payload for the requested `keys` (all when empty).

        More keys than GetConfigurationMaxKeys raises CallError(OccurenceConstraintViolation):
        OCPP 1.6 §5.8 lets the charge point limit the count but names no answer; a CALLERROR
        is the answer OCPP 2.0.1 specifies for its counterpart (B06.FR.16, GetVariables over
        ItemsPerMessageGetVariables), and answering a part of the request silently would look
        like a complete answer. Keys named twice are answered once.
        """
        found = []
        unknown = []
        if not keys:
            for e in self.table:
                found.append(self._key_value(e))
            return {"configurationKey": found}
        limit = self._values["GetConfigurationMaxKeys"]
        if len(keys) > limit:
            raise errors.CallError(errors.OCCURENCE_CONSTRAINT_VIOLATION,
                                   "%d keys requested, GetConfigurationMaxKeys is %d"
                                   % (len(keys), limit))
        names = []
        for key in keys:
            e = self._find(key)
            if e is None:
                if key not in unknown:
                    unknown.append(key)
            elif e[0] not in names:
                names.append(e[0])
                found.append(self._key_value(e))
        payload = {"configurationKey": found}
        if unknown:
            payload["unknownKey"] = unknown
        return payload

    def _key_value(self, e):
        kv = {"key": e[0], "readonly": bool(e[2] & R)}
        if not e[2] & W:  # write-only: listed, never shown (whitepaper 7.2)
            kv["value"] = render(self._values[e[0]])
        return kv

    # -- changing ------------------------------------------------------------------------
    def on_change(self, name, fn):
        """Call fn(new typed value) after every change of `name` that altered its value."""
        self._listeners.setdefault(self._known(name), []).append(fn)

    def on_validate(self, name, fn):
        """Ask fn(new typed value) before changing `name`; a false answer means Rejected
        (for checks this module cannot make, like SecurityProfile's TLS prerequisites)."""
        self._validators.setdefault(self._known(name), []).append(fn)

    def _known(self, name):
        e = self._find(name)
        if e is None or e[0] != name:
            raise ValueError("no configuration key " + name)
        return name

    def change(self, key, value):
        """ChangeConfiguration (OCPP 1.6 §5.3): the status to answer."""
        e = self._find(key)
        if e is None:
            return "NotSupported"
        name = e[0]
        secret = e[2] & W
        if secret and isinstance(value, str):
            # Hide it before anything could print it, even if it turns out invalid; only a
            # plausible key is registered, so a short rejected value cannot redact other text.
            if 16 <= len(value) <= 40:
                logger.secret(value)
        if e[2] & R:
            log.info("ChangeConfiguration", name, "rejected: read-only")
            return "Rejected"
        typed = _parse(e, value, self.connectors) if isinstance(value, str) else None
        if typed is None:
            log.info("ChangeConfiguration", name, "rejected: not a valid value" +
                     ("" if secret else " " + repr(value)[:60]))
            return "Rejected"
        if typed == self._values[name]:  # nothing to store; a pending reboot still pends
            if name == "SecurityProfile":
                return "Rejected"  # A05.FR.01: only a higher profile is a change
            return "RebootRequired" if e[2] & REBOOT else "Accepted"
        if not self._allowed(name, typed):
            log.info("ChangeConfiguration", name, "rejected: not allowed now")
            return "Rejected"
        stored = dict(self._stored)
        stored[name] = render(typed)
        try:
            self._save(stored)
        except OSError as err:
            log.error("cannot store", name + ":", repr(err))
            return "Rejected"  # not set: it would be lost at the next restart
        self._stored = stored
        self._values[name] = typed
        log.info("ChangeConfiguration", name, "changed" if secret else "= " + render(typed))
        self._notify(name, typed)
        return "RebootRequired" if e[2] & REBOOT else "Accepted"

    def restore(self, name, typed):
        """Set `name` back to `typed`, stored, listeners told, past the rules of change(): the
        firmware's own fall-back (a SecurityProfile that could not connect, A05.FR.08), never
        the central system's. OSError when it cannot be stored."""
        stored = dict(self._stored)
        stored[name] = render(typed)
        self._save(stored)
        self._stored = stored
        self._values[name] = typed
        log.warn(name, "restored to", render(typed))
        self._notify(name, typed)

    def _find(self, key):
        """The table row of `key`, matched without regard to case (CiString50), or None."""
        if not isinstance(key, str):
            return None
        for e in self.table:  # self.table may be a subclass's extension of TABLE
            if e[0] == key:
                return e
        low = key.lower()
        for e in self.table:
            if e[0].lower() == low:
                return e
        return None

    def _allowed(self, name, typed):
        if name == "SecurityProfile":
            if typed < self._values["SecurityProfile"]:
                return False  # whitepaper 7.6, A00.FR.005: never lowered via OCPP
            if typed in (1, 2) and not self._values["AuthorizationKey"]:
                return False  # Basic auth needs a password
            if typed >= 2 and not self._validators.get(name):
                return False  # TLS prerequisites unknown here: see the module docstring
        for fn in self._validators.get(name, ()):
            if not fn(typed):
                return False
        return True

    def _notify(self, name, typed):
        for fn in self._listeners.get(name, ()):
            try:
                fn(typed)
            except Exception as err:  # the value is set; a listener bug must not undo that
                log.error("listener of", name, "failed:", repr(err))

    # -- persistence ---------------------------------------------------------------------
    def _apply_overrides(self, overrides):
        for name in overrides:
            e = self._find(name)
            if e is None or e[0] != name or e[2] & R:
                raise ValueError("override of %s: not a writable key" % name)
            wire = render(overrides[name])
            if e[2] & W:
                logger.secret(wire)
            problem = override_problem(name, overrides[name], self.connectors)
            if problem:
                raise ValueError("override of %s: %s" % (name, problem) +
                                 ("" if e[2] & W else " (%s)" % wire))
            self._values[name] = _parse(e, wire, self.connectors)
            self._seen[name] = wire

    def _load(self, overrides):
        data = atomicfile.read(self.path)
        if data is None:
            if atomicfile.exists(self.path):
                log.warn(self.path, "is torn: configuration keys at their defaults")
            return
        try:
            doc = json.loads(data)
            stored = doc["values"]
            seen = doc.get("seen", {})
            if not isinstance(stored, dict) or not isinstance(seen, dict):
                raise ValueError("not an object")
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            log.warn(self.path, "is unreadable (%s): configuration keys at their defaults"
                     % repr(err)[:60])
            return
        for name in stored:
            wire = stored[name]
            e = self._find(name)
            if e is None or e[0] != name or e[2] & R or not isinstance(wire, str):
                log.warn("stored key", repr(name)[:60], "dropped: not a writable key")
                continue
            if e[2] & W:
                logger.secret(wire)
            if name in overrides and seen.get(name) != self._seen[name]:
                # The installer changed config.json since the central system set this key:
                # the installer's value wins.
                log.info(name, "from config.json replaces the value the central system set")
                continue
            typed = _parse(e, wire, self.connectors)
            if typed is None:
                log.warn("stored", name, "dropped: no longer a valid value")
                continue
            self._values[name] = typed
            self._stored[name] = wire

    def _save(self, stored):
        if self.state_dir and not atomicfile.exists(self.state_dir):
            atomicfile.makedirs(self.state_dir)
        atomicfile.write(self.path, json.dumps({"values": stored, "seen": self._seen}))


# -- the OCPP handlers -----------------------------------------------------------------------
def handle_get_configuration(settings, payload):
    """GetConfiguration.req -> GetConfiguration.conf (CallError when too many keys)."""
    return settings.get_configuration(payload.get("key"))


def handle_change_configuration(settings, payload):
    """ChangeConfiguration.req -> ChangeConfiguration.conf."""
    return {"status": settings.change(payload.get("key"), payload.get("value"))}
