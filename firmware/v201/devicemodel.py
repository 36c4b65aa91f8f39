# The OCPP 2.0.1 device model: the values of dmtable's variables, checked, stored, reported.
"""Values for the variables of firmware/v201/dmtable.py (OCPP 2.0.1 B05-B08).

    dm = DeviceModel(state_dir + "/ocpp201-variables.json", evses=2,
                     actual={("EVSE", "AvailabilityState"): lambda evse, connector: "Occupied",
                             ("ClockCtrlr", "DateTime"): clock_text},
                     fixed={("SecurityCtrlr", "Identity"): "CP-1",
                            ("SecurityCtrlr", "BasicAuthPassword"): password,
                            ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"): "4096"},
                     max_limits={("EVSE", "Power"): 7400})
    dm.get("OCPPCommCtrlr", "HeartbeatInterval")           # "300" (a str, or None)
    dm.get_int("OCPPCommCtrlr", "HeartbeatInterval")       # 300
    dm.get("EVSE", "ACCurrent", evse=1, attribute="MaxSet")
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", "60")     # ("Accepted", None)
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", "x")      # ("Rejected", {"reasonCode": ...})
    dm.read("SecurityCtrlr", "BasicAuthPassword")          # ("Rejected", None, {...}): B06
    dm.on_change("OCPPCommCtrlr", "HeartbeatInterval", fn)  # fn("60") after each change
    for data in dm.report("FullInventory"): ...            # ReportData dicts, one at a time
    for data in dm.custom_report(component_variables, ["Available"]): ...

Addressing: a component of scope STATION takes no evse; an EVSE one evse=1..evses; a
Connector one evse=1..evses and connector=1 (each EVSE has one connector). Names and instances
are matched without regard to case (part 2 §2.16, CaseInsensitive); an empty instance is no
instance (B06.FR.15). Components have no instances.

The Actual value of a variable is, first found: its `actual` function (a value the station
computes: fn(evse_id, connector_id) -> str, both None at station level), the value the
central system set (SetVariables), its `fixed` value (the configuration's), the table's
default. Target/MinSet/MaxSet have only what the central system set. `fixed` and `actual`
keys are (component, variable) or (component, variable, instance); a key the table does not
have, an `actual` function for a writable variable or a fixed value that its own rules
refuse raise ValueError (a wiring or configuration mistake, found at start).

get() returns values as the firmware needs them, the write-only BasicAuthPassword too.
read() answers as GetVariables must: Rejected for a WriteOnly attribute (B06.FR.09), ""
for one without a value (B06.FR.13), cut to ReportingValueSize. set() refuses a ReadOnly
attribute, a value longer than ConfigurationValueSize and one its row's rules refuse
(firmware/v201/dmcheck.py); the statuses are SetVariableStatusEnumType's (RebootRequired for
a REBOOT variable, also when it is set again to a value still waiting for the reboot). A
change is written to `path` (atomicfile: power-loss safe) before it is answered; a failed
write answers Rejected. Listeners run after the change, before the answer goes out; one that
must act after it (reconnect with a new BasicAuthPassword, A01) uses session.after_reply. A
listener that raises is logged; the change stays (it was made).

The file holds the values the central system set, as wire strings, so loading runs the
checks of set(): a torn or corrupt file, or a stored value that no longer passes (a new
firmware narrowed a rule), leaves the defaults with a logged warning, never a crash. Each
entry remembers the `fixed` value it was set over: when the installer has since changed that
value in the configuration, the installer's wins (so a re-provisioned BasicAuthPassword is
taken, and one rotated by the central system survives restarts otherwise).

Reports are generators (firmware/v201/dmreport.py, imported at the first report) over the
row-level methods row_of, end, value, shown and max_limit: the inventory never exists at once.

Secrets: a BasicAuthPassword (from `fixed`, the file or SetVariables) is registered with
logger.secret before anything could log it, and no log line here carries its value.
"""

import json

import atomicfile
import logger
from firmware.v201.dmcheck import check, integer
from firmware.v201.dmtable import (ACTUAL, ATTRIBUTES, CONNECTOR, PASSWORD, READ_ONLY, REBOOT,
                                   SCOPE_MASK, STATION, TABLE, WRITE_ONLY, mutability, same)
from firmware.v201.jsonsize import size
from ocppj.errors import CallError, FORMATION_VIOLATION, OCCURENCE_CONSTRAINT_VIOLATION

# SetVariableStatusEnumType / GetVariableStatusEnumType (the test compares them with the
# generated tables)
ACCEPTED = "Accepted"
REJECTED = "Rejected"
UNKNOWN_COMPONENT = "UnknownComponent"
UNKNOWN_VARIABLE = "UnknownVariable"
NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"
REBOOT_REQUIRED = "RebootRequired"

_NO_COMPONENT = -1
_NO_VARIABLE = -2

log = logger.get("dm")


def _info(reason):
    return {"reasonCode": reason}


def _wire(v):
    """A value an `actual` function gave, as a wire string."""
    if v is None or isinstance(v, str):
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


class DeviceModel:
    table = TABLE  # a subclass may extend it (tests do, for a variable that needs a reboot)

    def __init__(self, path, evses, actual=None, fixed=None, max_limits=None):
        self.path = path
        self.evses = evses
        self._actual = {}  # row -> fn(evse, connector)
        self._fixed = {}  # row -> the configuration's Actual value
        self._max = {}  # row -> maxLimit in place of the table's
        self._set = {}  # key (see _key) -> value set through SetVariables: the file's content
        self._seen = {}  # key -> the fixed value it was set over
        self._listeners = {}  # key -> [fn]
        self._pending = []  # keys of REBOOT variables changed since start
        max_limits = max_limits or {}
        actual = actual or {}
        fixed = fixed or {}
        for k in max_limits:
            self._max[self.row_of(k)] = max_limits[k]
        for k in actual:
            row = self.row_of(k)
            if mutability(self.table[row][3], 0) != READ_ONLY:
                raise ValueError("%s %s is writable: no actual function" % k[:2])
            self._actual[row] = actual[k]
        for k in fixed:
            row = self.row_of(k)
            value = fixed[k]
            flags = self.table[row][3]
            if mutability(flags, 0) == WRITE_ONLY and isinstance(value, str):
                logger.secret(value)
            checked = self._check(row, value)[0] if isinstance(value, str) else None
            if checked is None:
                raise ValueError("fixed value of %s %s is not valid" % k[:2] +
                                 ("" if flags & PASSWORD else ": " + repr(value)[:60]))
            self._fixed[row] = checked
        self._config_size = self.row_of(("DeviceDataCtrlr", "ConfigurationValueSize"))
        self._reporting_size = self.row_of(("DeviceDataCtrlr", "ReportingValueSize"))
        self._load()

    # -- addressing ----------------------------------------------------------------------
    def row_of(self, key):
        """The row of a (component, variable[, instance]) key, spelled as in the table."""
        instance = key[2] if len(key) > 2 else None
        t = self.table
        for row in range(len(t)):
            if t[row][0] == key[0] and t[row][1] == key[1] and t[row][2] == instance:
                return row
        raise ValueError("no variable %s %s %s" % (key[0], key[1], instance or ""))

    def _group(self, component):
        """The first row of `component`, matched without regard to case, or -1."""
        t = self.table
        for row in range(len(t)):
            if t[row][0] == component:
                return row
        prev = None
        for row in range(len(t)):
            name = t[row][0]
            if name != prev:
                prev = name
                if same(component, name):
                    return row
        return -1

    def end(self, first):
        t = self.table
        name = t[first][0]
        end = first + 1
        while end < len(t) and t[end][0] == name:
            end += 1
        return end

    def _find(self, component, variable, instance, evse, connector, component_instance):
        """The row addressed, or _NO_COMPONENT / _NO_VARIABLE."""
        t = self.table
        first = self._group(component) if isinstance(component, str) else -1
        if first < 0 or component_instance:
            return _NO_COMPONENT
        scope = t[first][3] & SCOPE_MASK
        if scope == STATION:
            if evse is not None or connector is not None:
                return _NO_COMPONENT
        elif (not isinstance(evse, int) or not 1 <= evse <= self.evses or
              connector != (1 if scope == CONNECTOR else None)):
            return _NO_COMPONENT
        if not isinstance(variable, str):
            return _NO_VARIABLE
        instance = instance or None
        end = self.end(first)
        for row in range(first, end):
            if t[row][1] == variable and t[row][2] == instance:
                return row
        for row in range(first, end):
            if same(variable, t[row][1]) and (
                    t[row][2] is instance if instance is None or t[row][2] is None
                    else same(instance, t[row][2])):
                return row
        return _NO_VARIABLE

    def _key(self, row, evse, a):
        return (row * (self.evses + 1) + evse) * 4 + a

    def _unkey(self, key):
        """(row, evse, attribute index) of a key."""
        a = key % 4
        key //= 4
        return key // (self.evses + 1), key % (self.evses + 1), a

    @staticmethod
    def _attribute(flags, attribute):
        """The index into ATTRIBUTES of `attribute` if the variable has it, else -1."""
        for a in range(4):
            if ATTRIBUTES[a] == attribute:
                return a if flags & (ACTUAL << a) else -1
        return -1

    # -- values --------------------------------------------------------------------------
    def value(self, row, evse, a):
        """The value of attribute `a` of `row` at `evse` (0 at station level), or None."""
        if a == 0:
            fn = self._actual.get(row)
            if fn is not None:
                scope = self.table[row][3] & SCOPE_MASK
                try:
                    return _wire(fn(evse or None, 1 if scope == CONNECTOR else None))
                except Exception as err:  # a station bug must not break a report
                    log.error("actual value of", self.table[row][1], "failed:", repr(err))
                    return None
        value = self._set.get(self._key(row, evse, a))
        if value is not None or a:
            return value
        value = self._fixed.get(row)
        return self.table[row][8] if value is None else value

    def max_limit(self, row):
        return self._max.get(row, self.table[row][6])

    def _check(self, row, text):
        return check(self.table[row], text, self.max_limit(row))

    def _size(self, row):
        return integer(self.value(row, 0, 0) or "") or 0

    def get(self, component, variable, evse=None, connector=None, instance=None,
            attribute="Actual"):
        """The value (a str) of an attribute, None when it has none or does not exist."""
        row = self._find(component, variable, instance, evse, connector, None)
        if row < 0:
            return None
        a = self._attribute(self.table[row][3], attribute)
        return None if a < 0 else self.value(row, evse or 0, a)

    def get_int(self, component, variable, evse=None, connector=None, instance=None,
                attribute="Actual"):
        """get() as an int (None when there is no value)."""
        value = self.get(component, variable, evse, connector, instance, attribute)
        return None if value is None else integer(value)

    def get_bool(self, component, variable, evse=None, connector=None, instance=None,
                 attribute="Actual"):
        """get() as a bool: True for "true"."""
        return self.get(component, variable, evse, connector, instance, attribute) == "true"

    def read(self, component, variable, evse=None, connector=None, instance=None,
             attribute="Actual", component_instance=None):
        """GetVariables (B06): (status, value or None, statusInfo or None)."""
        row = self._find(component, variable, instance, evse, connector, component_instance)
        if row < 0:
            return (UNKNOWN_COMPONENT if row == _NO_COMPONENT else UNKNOWN_VARIABLE), None, \
                _info("NotFound")
        flags = self.table[row][3]
        a = self._attribute(flags, attribute)
        if a < 0:
            return NOT_SUPPORTED_ATTRIBUTE_TYPE, None, _info("UnsupportedParam")
        if mutability(flags, a) == WRITE_ONLY:
            return REJECTED, None, _info("WriteOnly")
        return ACCEPTED, self.shown(row, evse or 0, a), None

    def shown(self, row, evse, a):
        """The value as reported: "" when unset, cut to ReportingValueSize."""
        value = self.value(row, evse, a) or ""
        n = self._size(self._reporting_size)
        return value[:n] if len(value) > n else value

    def check_request(self, action, payload, count):
        """CallError when a request of `action` (GetVariables, SetVariables, GetReport) with
        `count` elements exceeds DeviceDataCtrlr ItemsPerMessage or BytesPerMessage of that
        instance: OccurrenceConstraintViolation or FormatViolation (B06.FR.16-17,
        B08.FR.17-18). The length counted is the payload's compact JSON in the frame with an
        empty message id: a lower bound of the message received (the WebSocket layer caps
        that at csms.maxMessageBytes anyway)."""
        items = self.get_int("DeviceDataCtrlr", "ItemsPerMessage", instance=action)
        if items is not None and count > items:
            raise CallError(OCCURENCE_CONSTRAINT_VIOLATION, "%d elements, ItemsPerMessage %s "
                            "is %d" % (count, action, items))
        limit = self.get_int("DeviceDataCtrlr", "BytesPerMessage", instance=action)
        n = size(payload) + len(action) + 10  # [2,"","<action>",<payload>]
        if limit is not None and n > limit:
            raise CallError(FORMATION_VIOLATION, "%d bytes or more, BytesPerMessage %s is %d"
                            % (n, action, limit))

    # -- setting -------------------------------------------------------------------------
    def set(self, component, variable, value, evse=None, connector=None, instance=None,
            attribute="Actual", component_instance=None):
        """SetVariables (B05): (status, statusInfo or None)."""
        t = self.table
        row = self._find(component, variable, instance, evse, connector, component_instance)
        if row < 0:
            return (UNKNOWN_COMPONENT if row == _NO_COMPONENT else UNKNOWN_VARIABLE), \
                _info("NotFound")
        flags = t[row][3]
        a = self._attribute(flags, attribute)
        if a < 0:
            return NOT_SUPPORTED_ATTRIBUTE_TYPE, _info("UnsupportedParam")
        m = mutability(flags, a)
        secret = m == WRITE_ONLY
        if secret and isinstance(value, str) and 16 <= len(value) <= 40:
            # hidden before anything could print it, even if it turns out invalid; only a
            # plausible one, so that a short rejected value cannot redact other text
            logger.secret(value)
        name = t[row][1]
        if m == READ_ONLY:
            log.info("SetVariables", t[row][0], name, "rejected: read-only")
            return REJECTED, _info("ReadOnly")
        if not isinstance(value, str) or len(value) > self._size(self._config_size):
            log.info("SetVariables", t[row][0], name, "rejected: longer than "
                     "ConfigurationValueSize")
            return REJECTED, _info("TooLargeElement")
        checked, reason = self._check(row, value)
        if checked is None:
            log.info("SetVariables", t[row][0], name, "rejected:", reason +
                     ("" if secret else " " + repr(value)[:60]))
            return REJECTED, _info(reason)
        evse = evse or 0
        key = self._key(row, evse, a)
        if checked == self.value(row, evse, a):  # nothing to store; a pending reboot pends
            return (REBOOT_REQUIRED if key in self._pending else ACCEPTED), None
        old = self._set.get(key)
        old_seen = self._seen.get(key)
        self._set[key] = checked
        fixed = self._fixed.get(row) if a == 0 else None
        if fixed is not None:
            self._seen[key] = fixed
        try:
            self._save()
        except OSError as err:
            log.error("cannot store", name + ":", repr(err))
            self._restore(self._set, key, old)
            self._restore(self._seen, key, old_seen)
            return REJECTED, _info("InternalError")  # it would be lost at the next restart
        if flags & REBOOT and key not in self._pending:
            self._pending.append(key)
        log.info("SetVariables", t[row][0], name, ATTRIBUTES[a],
                 "changed" if secret else "= " + checked)
        for fn in self._listeners.get(key, ()):
            try:
                fn(checked)
            except Exception as err:  # the value is set; a listener bug must not undo that
                log.error("listener of", name, "failed:", repr(err))
        return (REBOOT_REQUIRED if flags & REBOOT else ACCEPTED), None

    @staticmethod
    def _restore(d, key, old):
        if old is None:
            d.pop(key, None)
        else:
            d[key] = old

    def on_change(self, component, variable, fn, evse=None, connector=None, instance=None,
                  attribute="Actual"):
        """Call fn(new value) after every accepted change of that attribute."""
        row = self._find(component, variable, instance, evse, connector, None)
        a = self._attribute(self.table[row][3], attribute) if row >= 0 else -1
        if a < 0:
            raise ValueError("no attribute %s of %s %s" % (attribute, component, variable))
        self._listeners.setdefault(self._key(row, evse or 0, a), []).append(fn)

    # -- persistence ---------------------------------------------------------------------
    def _save(self):
        t = self.table
        entries = []
        for key in self._set:
            row, evse, a = self._unkey(key)
            entries.append([t[row][0], evse, t[row][1], t[row][2], ATTRIBUTES[a],
                            self._set[key], self._seen.get(key)])
        folder = self.path[:self.path.rfind("/")]
        if folder and not atomicfile.exists(folder):
            atomicfile.makedirs(folder)
        atomicfile.write(self.path, json.dumps({"values": entries}))

    def _load(self):
        data = atomicfile.read(self.path)
        if data is None:
            if atomicfile.exists(self.path):
                log.warn(self.path, "is torn: variables at their defaults")
            return
        try:
            entries = json.loads(data)["values"]
            if not isinstance(entries, list):
                raise ValueError("not a list")
        except (ValueError, KeyError, TypeError) as err:
            log.warn(self.path, "is unreadable (%s): variables at their defaults"
                     % repr(err)[:60])
            return
        for entry in entries:
            self._load_entry(entry)

    def _load_entry(self, entry):
        if not isinstance(entry, list) or len(entry) != 7:
            log.warn("dropped a stored variable: not an entry")
            return
        component, evse, variable, instance, attribute, value, seen = entry
        row = -1
        if isinstance(component, str) and isinstance(variable, str) and isinstance(evse, int):
            try:
                row = self.row_of((component, variable, instance))
            except ValueError:
                pass
        flags = self.table[row][3] if row >= 0 else 0
        a = self._attribute(flags, attribute) if row >= 0 else -1
        station = flags & SCOPE_MASK == STATION
        if (a < 0 or mutability(flags, a) == READ_ONLY or
                not (evse == 0 if station else 1 <= evse <= self.evses)):
            log.warn("dropped stored", repr(component)[:50], repr(variable)[:50],
                     "not a writable variable")
            return
        if mutability(flags, a) == WRITE_ONLY and isinstance(value, str):
            logger.secret(value)
        fixed = self._fixed.get(row) if a == 0 else None
        if fixed is not None and seen != fixed:
            # the installer changed the configuration since the central system set this
            log.info(variable, "from the configuration replaces the value the central "
                     "system set")
            return
        checked = self._check(row, value)[0] if isinstance(value, str) else None
        if checked is None:
            log.warn("dropped stored", variable, "no longer a valid value")
            return
        key = self._key(row, evse, a)
        self._set[key] = checked
        if isinstance(seen, str):
            self._seen[key] = seen

    # -- reports (firmware/v201/dmreport.py, imported at the first) ---------------------
    def report(self, base):
        """ReportData of GetBaseReport `base` (FullInventory, ConfigurationInventory,
        SummaryInventory), one at a time; ValueError for another base."""
        from firmware.v201 import dmreport
        return dmreport.base(self, base)

    def custom_report(self, component_variables=None, criteria=None):
        """ReportData of a GetReport (B08), one at a time: the variables of the components
        that meet any of `criteria` (Active, Available, Enabled, Problem) and are named in
        `component_variables` (ComponentVariableType dicts); either may be empty."""
        from firmware.v201 import dmreport
        return dmreport.custom(self, component_variables, criteria)
