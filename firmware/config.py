# Device configuration: load config.json and check every key before anything starts.
"""Loads the device configuration and checks it against a table of rules.

A configuration that is missing, not JSON, or has a bad key raises ConfigError, whose text is
one line naming the key and the problem; main.py prints that line and stops.

    config = load("config.json")
    config["csms"]["url"]
"""

import json

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x


class ConfigError(Exception):
    """A bad configuration: str(err) is one line, 'key: problem'."""

    def __init__(self, key, problem):
        super().__init__(key + ": " + problem)
        self.key = key
        self.problem = problem


# Rule kinds (const: RULES is then one constant, which a frozen build keeps in flash)
STR = const(0)
INT = const(1)
BOOL = const(2)
OBJ = const(3)
_KIND_NAMES = ("a string", "an integer", "true or false", "an object")
_SECTION = const(1)  # the default of an optional OBJ section: made empty, then filled

# (dotted key, kind, required, low, high, default)
# For STR, low/high bound the length; for INT, the value. The identity.* rules are not here:
# identity_rules() derives them from the generated BootNotification.req table.
RULES = (
    ("identity", OBJ, True, 0, 0, None),
    ("csms", OBJ, True, 0, 0, None),
    ("csms.url", STR, True, 6, 512, None),
    ("csms.ocppVersion", STR, False, 3, 5, "1.6"),  # one of ocppj.protocol.VERSIONS
    ("csms.chargeBoxId", STR, True, 1, 48, None),
    ("csms.securityProfile", INT, False, None, None, 0),  # bounds: OCPP_KEYS below
    ("csms.authorizationKey", STR, False, None, None, None),
    ("csms.cpoName", STR, False, None, None, None),
    ("csms.caFile", STR, False, 1, 128, None),
    ("csms.tlsUrl", STR, False, 6, 512, None),  # profiles 2 and 3 (default: url as wss://)
    ("csms.clientCertFile", STR, False, 1, 128, None),
    ("csms.clientKeyFile", STR, False, 1, 128, None),
    ("csms.frameBufferBytes", INT, False, 512, 65536, 4096),
    ("csms.maxMessageBytes", INT, False, 512, 65536, 4096),
    ("csms.callTimeoutS", INT, False, 5, 600, 30),
    ("csms.pingIntervalS", INT, False, None, None, 60),
    ("connectors", INT, True, 1, 4, None),
    ("sim", OBJ, False, 0, 0, _SECTION),
    ("sim.controlPort", INT, False, 1, 65535, 7700),
    ("sim.evMaxCurrentA", INT, False, 6, 80, 32),
    ("sim.phases", INT, False, 1, 3, 3),
    ("sim.voltageV", INT, False, 100, 400, 230),
    ("wifi", OBJ, False, 0, 0, None),
    ("wifi.ssid", STR, False, 1, 32, None),
    ("wifi.password", STR, False, 0, 64, None),
    # The supply, for Smart Charging's limits in W (current per phase = W / (V * phases))
    ("installation", OBJ, False, 0, 0, _SECTION),
    ("installation.voltageV", INT, False, 100, 400, 230),
    ("installation.phases", INT, False, 1, 3, 3),
    ("firmware", OBJ, False, 0, 0, _SECTION),
    ("firmware.manufacturerRootFile", STR, False, 1, 128, None),
    ("log", OBJ, False, 0, 0, _SECTION),
    ("log.level", STR, False, 4, 5, "info"),
)

LOG_LEVELS = const(("debug", "info", "warn", "error"))

# The settings of config.json that are OCPP configuration keys: the installer's starting
# values (a central system's later ChangeConfiguration wins, see firmware/v16/settings.py), checked
# by the key's own rule there, the one source of their bounds. load() puts them in
# config["ocpp"], key by OCPP name.
OCPP_KEYS = const((("csms.securityProfile", "SecurityProfile"),
                   ("csms.authorizationKey", "AuthorizationKey"),
                   ("csms.cpoName", "CpoName"),
                   ("csms.pingIntervalS", "WebSocketPingInterval")))


def _type_ok(kind, value):
    if kind == STR:
        return isinstance(value, str)
    if kind == OBJ:
        return isinstance(value, dict)
    if kind == BOOL:
        return isinstance(value, bool)
    # bool is an int subclass in CPython: refuse true/false where a number is wanted.
    return isinstance(value, int) and not isinstance(value, bool)


def identity_rules():
    """The identity.* rules: every field of OCPP 1.6 BootNotification.req, its required flag
    and maximum length as the official schema gives them (via ocppj.schemas)."""
    from ocppj import schemas
    tables = schemas.load("v16", "BootNotification")
    assert tables, "generated schema tables missing"
    request = tables[0]  # (flags, name, code, arg, ...)
    rules = []
    for i in range(1, len(request), 3):
        required = bool(request[i + 1] & 16)
        rules.append(("identity." + request[i], STR, required, 1 if required else 0,
                      request[i + 2], None))
    return rules


def _check(config):
    identity = identity_rules()
    for key, kind, required, low, high, default in RULES[:1] + tuple(identity) + RULES[1:]:
        parent = config
        parts = key.split(".")
        for part in parts[:-1]:
            parent = parent.get(part)
        if parent is None:
            continue  # the optional section above is absent: nothing to check inside it
        name = parts[-1]
        if name not in parent:
            if required:
                raise ConfigError(key, "missing")
            if default is not None:
                parent[name] = {} if kind == OBJ else default  # a section of its own
            continue
        value = parent[name]
        if not _type_ok(kind, value):
            raise ConfigError(key, "must be " + _KIND_NAMES[kind])
        if low is None or high is None:
            continue  # an OCPP key: checked by its own rule below
        if kind == STR and not low <= len(value) <= high:
            raise ConfigError(key, "length must be %d to %d, is %d" % (low, high, len(value)))
        if kind == INT and not low <= value <= high:
            raise ConfigError(key, "must be %d to %d, is %d" % (low, high, value))
    known = [rule[0][9:] for rule in identity]
    for name in config["identity"]:
        if name not in known:  # a misspelt field would silently vanish from BootNotification
            raise ConfigError("identity." + name, "unknown key (known: " + ", ".join(known) + ")")
    from ocppj.protocol import VERSIONS
    version = config["csms"]["ocppVersion"]
    if version not in VERSIONS:
        raise ConfigError("csms.ocppVersion", "must be one of " + ", ".join(VERSIONS))
    # 1.6: the OCPP keys, checked by the settings' own rules; 2.0.1 checks its few here, and
    # never imports the 1.6 settings
    config["ocpp"] = _ocpp_keys(config) if version == "1.6" else _v201_keys(config["csms"])
    url = config["csms"]["url"]
    if not (url.startswith("ws://") or url.startswith("wss://")):
        raise ConfigError("csms.url", "must start with ws:// or wss://")
    if config["log"]["level"] not in LOG_LEVELS:
        raise ConfigError("log.level", "must be one of " + ", ".join(LOG_LEVELS))
    profile = config["csms"]["securityProfile"]
    if profile in (1, 2) and "authorizationKey" not in config["csms"]:
        raise ConfigError("csms.authorizationKey", "missing (security profile %d)" % profile)
    tls_url = config["csms"].get("tlsUrl")
    if tls_url is not None and not tls_url.startswith("wss://"):
        raise ConfigError("csms.tlsUrl", "must start with wss://")
    if profile >= 2 and not url.startswith("wss://") and tls_url is None:
        raise ConfigError("csms.url", "security profile %d needs wss:// (or csms.tlsUrl)"
                          % profile)
    if (url.startswith("wss://") or profile >= 2) and "caFile" not in config["csms"]:
        raise ConfigError("csms.caFile", "missing (wss:// always verifies the central system)")
    if profile == 3 and not ("clientCertFile" in config["csms"] and "clientKeyFile" in config["csms"]):
        raise ConfigError("csms.clientCertFile", "security profile 3 needs clientCertFile and "
                          "clientKeyFile")
    return config


def _ocpp_keys(config):
    from firmware.v16.settings import override_problem
    keys = {}
    for path, name in OCPP_KEYS:
        section, field = path.split(".")
        if field in config[section]:
            value = config[section][field]
            problem = override_problem(name, value)
            if problem:
                raise ConfigError(path, problem)
            keys[name] = value
    return keys


def _v201_keys(csms):
    """OCPP 2.0.1: security profiles 0-2 (A00), and the BasicAuthPassword of 16 to 40
    characters (A00.FR.205); the device model takes them from here."""
    if not 0 <= csms["securityProfile"] <= 2:
        raise ConfigError("csms.securityProfile", "must be 0 to 2 with OCPP 2.0.1")
    key = csms.get("authorizationKey")
    if key is not None and not 16 <= len(key) <= 40:
        raise ConfigError("csms.authorizationKey", "must be 16 to 40 characters with OCPP "
                          "2.0.1 (BasicAuthPassword), is %d" % len(key))
    return {}


def parse(text):
    """Check configuration JSON text; returns the dict with defaults filled in."""
    try:
        config = json.loads(text)
    except ValueError:
        raise ConfigError("(file)", "not valid JSON")
    if not isinstance(config, dict):
        raise ConfigError("(file)", "must be a JSON object")
    return _check(config)


def load(path):
    """Read and check the configuration file at `path`."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError("(file)", "cannot read " + path)
    return parse(text)
