#!/usr/bin/env python3
# Host tool: turns the OCPP JSON schemas bundled in the `ocpp` PyPI package into device tables.
"""Generate lib/ocppj/schemas/v16/ and lib/ocppj/schemas/v201/ from the `ocpp` package's schemas.

    python tools/gen_schemas.py           # (re)write the generated files
    python tools/gen_schemas.py --check   # exit 1 if the committed files differ from a fresh run

Each version is a package: `__init__.py` holds the action names per direction, and one small
module per action holds its REQUEST and RESPONSE tables, so the board loads only the action it
is handling (`ocppj.schemas.load`). The table format is described in lib/ocppj/schemas/__init__.py;
the type codes below must match lib/ocppj/validate.py.

The schemas are found through the installed *distribution* `ocpp` (importlib.metadata), never by
importing the name `ocpp`: our own lib/ is first on sys.path in the tests, and a package of
that name there must not be able to shadow the schemas.

Every schema keyword is either turned into the table or listed in IGNORED; an unknown keyword
stops the tool, so a new package version cannot silently weaken validation. Deliberately not
checked on the device: `multipleOf` (1.6 charging-schedule limits, 0.1: float32 on the ESP32
cannot decide it, and a finer limit is harmless), `format: uri` (the `ocpp` package does not
check it either), `default` (a handler's business).

Which side sends which action is not in the schemas: it is the table DIRECTIONS below, taken
from the specifications (1.6 chapters 4 and 5, the security whitepaper's message definitions,
2.0.1 part 2 messages). The tool fails if it and the schema files disagree on the set of actions.
"""

import argparse
import importlib.metadata
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "lib", "ocppj", "schemas")

# Type codes (lib/ocppj/validate.py has the same numbers).
STRING, DATETIME, ENUM, INTEGER, NUMBER, BOOLEAN, OBJECT, ARRAY, ANY = range(1, 10)
REQUIRED = 16  # or-ed into a field's code
CLOSED = 1  # object flag: additionalProperties is false
KIND_NAMES = {STRING: "string", DATETIME: "date-time", ENUM: "enum", INTEGER: "integer",
              NUMBER: "number", BOOLEAN: "boolean", OBJECT: "object", ARRAY: "array",
              ANY: "any"}

# Keywords that carry no constraint the device checks (see the docstring for multipleOf/uri).
IGNORED = {"$schema", "$id", "id", "title", "description", "comment", "javaType", "default",
           "definitions"}
ALLOWED = {
    "string": {"enum", "maxLength", "format", "additionalProperties"},  # 1.6 puts aP on enums
    "integer": {"minimum", "maximum"},
    "number": {"minimum", "maximum", "multipleOf"},
    "boolean": set(),
    "object": {"properties", "required", "additionalProperties"},
    "array": {"items", "minItems", "maxItems", "additionalItems"},
}

# version: (OCPP version, schema folder in the package, request file suffix,
#           CSMS->CP actions, CP->CSMS actions)
DIRECTIONS = {
    "v16": ("1.6", "v16", "", (
        # OCPP 1.6 chapter 5 "Operations initiated by Central System"
        "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
        "ClearChargingProfile", "DataTransfer", "GetCompositeSchedule", "GetConfiguration",
        "GetDiagnostics", "GetLocalListVersion", "RemoteStartTransaction",
        "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
        "TriggerMessage", "UnlockConnector", "UpdateFirmware",
        # security whitepaper edition 3, messages sent by the Central System
        "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage",
        "GetInstalledCertificateIds", "GetLog", "InstallCertificate", "SignedUpdateFirmware",
    ), (
        # OCPP 1.6 chapter 4 "Operations initiated by Charge Point"
        "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
        "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
        "StatusNotification", "StopTransaction",
        # security whitepaper edition 3, messages sent by the Charge Point
        "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
        "SignedFirmwareStatusNotification",
    )),
    "v201": ("2.0.1", "v201", "Request", (
        # OCPP 2.0.1 part 2, requests sent by the CSMS to the Charging Station
        "CancelReservation", "CertificateSigned", "ChangeAvailability", "ClearCache",
        "ClearChargingProfile", "ClearDisplayMessage", "ClearVariableMonitoring", "CostUpdated",
        "CustomerInformation", "DataTransfer", "DeleteCertificate", "GetBaseReport",
        "GetChargingProfiles", "GetCompositeSchedule", "GetDisplayMessages",
        "GetInstalledCertificateIds", "GetLocalListVersion", "GetLog", "GetMonitoringReport",
        "GetReport", "GetTransactionStatus", "GetVariables", "InstallCertificate",
        "PublishFirmware", "RequestStartTransaction", "RequestStopTransaction", "ReserveNow",
        "Reset", "SendLocalList", "SetChargingProfile", "SetDisplayMessage", "SetMonitoringBase",
        "SetMonitoringLevel", "SetNetworkProfile", "SetVariableMonitoring", "SetVariables",
        "TriggerMessage", "UnlockConnector", "UnpublishFirmware", "UpdateFirmware",
    ), (
        # OCPP 2.0.1 part 2, requests sent by the Charging Station to the CSMS
        "Authorize", "BootNotification", "ClearedChargingLimit", "DataTransfer",
        "FirmwareStatusNotification", "Get15118EVCertificate", "GetCertificateStatus",
        "Heartbeat", "LogStatusNotification", "MeterValues", "NotifyChargingLimit",
        "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
        "PublishFirmwareStatusNotification", "ReportChargingProfiles", "ReservationStatusUpdate",
        "SecurityEventNotification", "SignCertificate", "StatusNotification", "TransactionEvent",
    )),
}
VERSIONS = ("v16", "v201")


class SchemaError(Exception):
    pass


def distribution():
    """The installed `ocpp` distribution (found by distribution name: lib/ cannot shadow it)."""
    return importlib.metadata.distribution("ocpp")


def schema_dir(version):
    return str(distribution().locate_file(os.path.join("ocpp", DIRECTIONS[version][1], "schemas")))


def schema_files(version):
    """{action: (request schema path, response schema path)} for every action in the package."""
    folder = schema_dir(version)
    suffix = DIRECTIONS[version][2]
    names = sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".json"))
    actions = {}
    for name in names:
        if name.endswith("Response"):
            continue
        if suffix and not name.endswith(suffix):
            raise SchemaError("%s: unexpected schema file %s.json" % (version, name))
        action = name[:len(name) - len(suffix)]
        resp = os.path.join(folder, action + "Response.json")
        if not os.path.exists(resp):
            raise SchemaError("%s: %s has no response schema" % (version, action))
        actions[action] = (os.path.join(folder, name + ".json"), resp)
    responses = sum(1 for n in names if n.endswith("Response"))
    if responses != len(actions):
        raise SchemaError("%s: %d requests but %d responses" % (version, len(actions), responses))
    return actions


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# --- schema -> table ---------------------------------------------------------------------

def _resolve(node, root, seen):
    while "$ref" in node:
        ref = node["$ref"]
        extra = set(node) - {"$ref"} - IGNORED
        if extra:
            raise SchemaError("keywords beside $ref: %s" % sorted(extra))
        if not ref.startswith("#/") or ref in seen:
            raise SchemaError("unsupported or recursive $ref %s" % ref)
        seen = seen + (ref,)
        node = root
        for part in ref[2:].split("/"):
            if not isinstance(node, dict) or part not in node:
                raise SchemaError("dangling $ref %s" % ref)
            node = node[part]
    return node, seen


def _number(value, integer):
    if value is None:
        return None
    if integer:
        if value != int(value):
            raise SchemaError("integer bound %r" % value)
        return int(value)
    return value


def _enum_value_ok(v):
    # An enum is one string "|a|b|c|": values must be non-empty ASCII without "|".
    return isinstance(v, str) and v and v.isascii() and "|" not in v


def convert(node, root, seen=()):
    """(code, arg) of one value schema; see lib/ocppj/schemas/__init__.py for the meaning."""
    node, seen = _resolve(node, root, seen)
    kind = node.get("type")
    if kind is None:
        extra = set(node) - IGNORED
        if extra:
            raise SchemaError("untyped schema with %s" % sorted(extra))
        return ANY, None
    if not isinstance(kind, str) or kind not in ALLOWED:
        raise SchemaError("unsupported type %r" % (kind,))
    extra = set(node) - IGNORED - ALLOWED[kind] - {"type"}
    if extra:
        raise SchemaError("unsupported keywords for %s: %s" % (kind, sorted(extra)))
    if kind == "string":
        fmt = node.get("format")
        if "enum" in node:
            values = node["enum"]
            if fmt or not values or not all(_enum_value_ok(v) for v in values):
                raise SchemaError("unsupported enum %r" % (values,))
            limit = node.get("maxLength")
            if limit is not None and max(len(v) for v in values) > limit:
                raise SchemaError("enum value longer than maxLength")
            return ENUM, "|" + "|".join(values) + "|"
        if fmt == "date-time":
            if "maxLength" in node:
                raise SchemaError("date-time with maxLength")
            return DATETIME, None
        if fmt not in (None, "uri"):
            raise SchemaError("unsupported format %r" % fmt)
        return STRING, node.get("maxLength")
    if kind in ("integer", "number"):
        integer = kind == "integer"
        low = _number(node.get("minimum"), integer)
        high = _number(node.get("maximum"), integer)
        return (INTEGER if integer else NUMBER), (None if low is None and high is None else (low, high))
    if kind == "boolean":
        return BOOLEAN, None
    if kind == "object":
        return OBJECT, object_table(node, root, seen)
    items = node.get("items")
    if not isinstance(items, dict):
        raise SchemaError("array without an items schema")
    code, arg = convert(items, root, seen)
    return ARRAY, (node.get("minItems", 0), node.get("maxItems"), code, arg)


def object_table(node, root, seen=()):
    node, seen = _resolve(node, root, seen)
    if node.get("type") != "object":
        raise SchemaError("not an object schema")
    props = node.get("properties", {})
    required = node.get("required", [])
    missing = [r for r in required if r not in props]
    if missing:
        raise SchemaError("required but not defined: %s" % missing)
    closed = node.get("additionalProperties", True)
    if closed not in (True, False):
        raise SchemaError("additionalProperties must be a boolean")
    table = [CLOSED if closed is False else 0]
    for name, sub in props.items():
        code, arg = convert(sub, root, seen)
        table += [name, code | (REQUIRED if name in required else 0), arg]
    return tuple(table)


def action_tables(version, action):
    req, resp = schema_files(version)[action]
    out = []
    for path in (req, resp):
        schema = load_schema(path)
        try:
            out.append(object_table(schema, schema))
        except SchemaError as e:
            raise SchemaError("%s: %s" % (os.path.basename(path), e)) from None
    return tuple(out)


# --- tables -> Python source -------------------------------------------------------------

WIDTH = 100


def _shared(tables):
    """Enums and tuples used more than once in this module: written once, referred to by name."""
    counts = {}

    def count(value):
        key = repr(value)
        counts[key] = counts.get(key, 0) + 1
        return counts[key] == 1  # look inside only the first time

    def walk(code, arg):
        kind = code & 15
        if kind in (ENUM, OBJECT, ARRAY) or isinstance(arg, tuple):
            if count(arg):
                if kind == OBJECT:
                    for i in range(1, len(arg), 3):
                        walk(arg[i + 1], arg[i + 2])
                elif kind == ARRAY:
                    walk(arg[2], arg[3])

    for t in tables:
        walk(OBJECT, t)
    # Strings of up to 10 characters are interned (qstrs) by MicroPython: sharing them is free.
    return {key for key, n in counts.items() if n > 1 and not (key[0] == "'" and len(key) <= 12)}


class _Writer:
    def __init__(self, shared):
        self.shared = shared
        self.names = {}  # repr -> module-level name
        self.defs = []  # lines of the shared definitions, inner ones first

    def ref(self, t, indent, what):
        """Python expression for t (its shared name, or a literal)."""
        key = repr(t)
        if key in self.shared:
            if key not in self.names:
                body = self.literal(t, 0, what)
                name = "_T%d" % len(self.names)
                self.names[key] = name
                self.defs.append("%s = %s" % (name, body))
            return self.names[key]
        return self.literal(t, indent, what)

    def literal(self, t, indent, what):
        pad = " " * (indent + 4)
        if what == "object":
            lines = ["(", "%s%d,  # %s" % (pad, t[0], "closed" if t[0] & CLOSED else "open")]
            for i in range(1, len(t), 3):
                name, code, arg = t[i], t[i + 1], t[i + 2]
                kind = code & 15
                note = KIND_NAMES[kind] + (", required" if code & REQUIRED else "")
                lines.append("%s%s, %d, %s,  # %s" % (pad, json.dumps(name), code,
                                                      self.arg(kind, arg, indent + 4), note))
            lines.append(" " * indent + ")")
            return "\n".join(lines)
        if what == "array":
            low, high, code, arg = t
            return "(%r, %r, %d, %s)" % (low, high, code, self.arg(code, arg, indent))
        if what == "enum":
            return self.enum(t, indent)
        return repr(t)

    def arg(self, kind, arg, indent):
        if kind == OBJECT:
            return self.ref(arg, indent, "object")
        if kind == ARRAY:
            return self.ref(arg, indent, "array")
        if kind == ENUM:
            return self.ref(arg, indent, "enum")
        if isinstance(arg, tuple):  # integer/number bounds
            return self.ref(arg, indent, "bounds")
        return repr(arg)

    def enum(self, joined, indent):
        # Long enums are split into adjacent literals, which the compiler joins into one string.
        if indent + len(joined) < WIDTH - 40:
            return '"%s"' % joined
        pad = " " * (indent + 4)
        lines, line = ["("], ""
        for value in joined[1:-1].split("|"):
            if line and len(pad) + len(line) + len(value) + 3 > WIDTH:
                lines.append('%s"%s"' % (pad, line))
                line = ""
            line += "|" + value
        lines.append('%s"%s|"' % (pad, line))
        lines.append(" " * indent + ")")
        return "\n".join(lines)


def header():
    return "# generated by tools/gen_schemas.py from ocpp %s \u2014 do not edit\n" % (
        distribution().version)


def action_module(version, action, req, resp):
    label = DIRECTIONS[version][0]
    writer = _Writer(_shared((req, resp)))
    req_src = writer.ref(req, 0, "object")
    resp_src = writer.ref(resp, 0, "object")
    out = [header().rstrip("\n"),
           "# OCPP %s %s: request and response tables (format: lib/ocppj/schemas/__init__.py)"
           % (label, action), ""]
    out += writer.defs
    out += ["REQUEST = " + req_src, "RESPONSE = " + resp_src, ""]
    return "\n".join(out)


def _names(names):
    lines, line = ["("], "    "
    for name in names:
        piece = '"%s",' % name
        if len(line) + len(piece) + 1 > WIDTH:
            lines.append(line.rstrip())
            line = "    "
        line += piece + " "
    lines.append(line.rstrip())
    lines.append(")")
    return "\n".join(lines)


def package_module(version):
    label, _, _, to_cp, to_csms = DIRECTIONS[version]
    return "\n".join([
        header().rstrip("\n"),
        "# OCPP %s: the actions of each direction; one module per action holds its tables." % label,
        '"""OCPP %s action tables (ocppj.schemas.load("%s", action) loads one action\'s)."""'
        % (label, version),
        "",
        'VERSION = "%s"' % label,
        "# Requests the central system sends and the charge point answers.",
        "CSMS_TO_CP = " + _names(sorted(to_cp)),
        "# Requests the charge point sends and the central system answers.",
        "CP_TO_CSMS = " + _names(sorted(to_csms)),
        "",
    ])


def generate(version):
    """{path relative to the repo: file text} for one version."""
    _, _, _, to_cp, to_csms = DIRECTIONS[version]
    files = schema_files(version)
    listed = set(to_cp) | set(to_csms)
    if listed != set(files) or len(set(to_cp)) != len(to_cp) or len(set(to_csms)) != len(to_csms):
        raise SchemaError("%s: DIRECTIONS and schema files disagree: only listed %s, only in "
                          "schemas %s" % (version, sorted(listed - set(files)),
                                          sorted(set(files) - listed)))
    folder = os.path.relpath(os.path.join(OUT, version), ROOT)
    out = {os.path.join(folder, "__init__.py"): package_module(version)}
    for action in sorted(files):
        req, resp = action_tables(version, action)
        out[os.path.join(folder, action + ".py")] = action_module(version, action, req, resp)
    return out


def generate_all():
    out = {}
    for version in VERSIONS:
        out.update(generate(version))
    return out


def differences(generated):
    """Repo-relative paths whose committed text differs from `generated` (or is extra/missing)."""
    diff = []
    for rel, text in sorted(generated.items()):
        path = os.path.join(ROOT, rel)
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    diff.append(rel)
        except OSError:
            diff.append(rel)
    folders = {os.path.dirname(rel) for rel in generated}
    for folder in sorted(folders):
        if not os.path.isdir(os.path.join(ROOT, folder)):
            continue
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            rel = os.path.join(folder, name)
            if name.endswith(".py") and rel not in generated:
                diff.append(rel)
    return diff


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate in memory; exit 1 if the committed files differ")
    args = ap.parse_args(argv)
    try:
        generated = generate_all()
    except SchemaError as e:
        print("gen_schemas: %s" % e)
        return 2
    if args.check:
        diff = differences(generated)
        for rel in diff:
            print("gen_schemas: %s differs from a fresh generation" % rel)
        print("gen_schemas: %d files checked, %d differ (ocpp %s)" % (
            len(generated), len(diff), distribution().version))
        return 1 if diff else 0
    stale = [rel for rel in differences(generated) if rel not in generated]
    for rel in stale:
        os.remove(os.path.join(ROOT, rel))
    for rel, text in sorted(generated.items()):
        path = os.path.join(ROOT, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print("gen_schemas: wrote %d files, removed %d (ocpp %s)" % (
        len(generated), len(stale), distribution().version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
