# ReportData of the device model, one at a time: the base reports and GetReport's selections.
"""Generators behind DeviceModel.report() and custom_report() (OCPP 2.0.1 B07, B08), imported
only when a report is asked for.

Each ReportData dict is built when the caller asks for the next one, so the inventory never
exists at once. Components are walked in table order, an EVSE or Connector component once
per EVSE. Write-only attributes are reported without a value (VariableAttributeType.value
"May only be omitted when mutability is set to WriteOnly"), unset ones with "" (B07.FR.11);
persistent and constant appear when true (their default is false); every ReportData has
its variableCharacteristics (B08.FR.12).

    FullInventory           every variable with every attribute (B07.FR.08)
    ConfigurationInventory  the variables the operator can set, with their writable
                            attributes (B07.FR.07; TC_B_12 checks every mutability)
    SummaryInventory        AvailabilityState of the station, each EVSE and each connector
                            whose state differs from its EVSE's, and every Problem that is
                            true (B07.FR.09)
    custom(cvs, criteria)   the variables of the components meeting any criterion and named
                            by a ComponentVariable (B08.FR.05-13, FR.20-25)
"""

from firmware.v201.dmtable import (ACTUAL, ATTRIBUTES, CONNECTOR, CONSTANT, DATA_TYPES,
                                   MUTABILITY, PERSISTENT, READ_ONLY, SCOPE_MASK, STATION,
                                   TYPE_MASK, WRITE_ONLY, mutability, same)


def base(dm, name):
    if name == "FullInventory":
        return _full(dm)
    if name == "ConfigurationInventory":
        return _configuration(dm)
    if name == "SummaryInventory":
        return _summary(dm)
    raise ValueError("no report base " + name)


def _components(dm):
    """(first row, end row, evse) of every component, in table order."""
    first = 0
    n = len(dm.table)
    while first < n:
        end = dm.end(first)
        scope = dm.table[first][3] & SCOPE_MASK
        for evse in range(1, dm.evses + 1) if scope != STATION else (0,):
            yield first, end, evse
        first = end


def _full(dm):
    for first, end, evse in _components(dm):
        for row in range(first, end):
            yield data(dm, row, evse, False)


def _configuration(dm):
    for first, end, evse in _components(dm):
        for row in range(first, end):
            flags = dm.table[row][3]
            for a in range(4):
                if flags & (ACTUAL << a) and mutability(flags, a) != READ_ONLY:
                    yield data(dm, row, evse, True)
                    break


def _summary(dm):
    t = dm.table
    evse_state = dm.row_of(("EVSE", "AvailabilityState"))
    for first, end, evse in _components(dm):
        for row in range(first, end):
            name = t[row][1]
            if name == "AvailabilityState":
                if (t[row][3] & SCOPE_MASK != CONNECTOR or
                        dm.value(row, evse, 0) != dm.value(evse_state, evse, 0)):
                    yield data(dm, row, evse, False)
            elif name == "Problem" and dm.value(row, evse, 0) == "true":
                yield data(dm, row, evse, False)


def custom(dm, component_variables, criteria):
    for first, end, evse in _components(dm):
        if criteria and not _meets(dm, first, end, evse, criteria):
            continue
        for row in range(first, end):
            if not component_variables or _named(dm, row, evse, component_variables):
                yield data(dm, row, evse, False)


def _meets(dm, first, end, evse, criteria):
    """B08.FR.07-10, FR.13: Problem when true; the others when true or absent."""
    for criterion in criteria:
        value = None
        present = False
        for row in range(first, end):
            if dm.table[row][1] == criterion and dm.table[row][2] is None:
                present = True
                value = dm.value(row, evse, 0)
        if value == "true" or (not present and criterion != "Problem"):
            return True
    return False


def _named(dm, row, evse, component_variables):
    """B08.FR.20-25: whether a ComponentVariable names `row` at `evse`."""
    t = dm.table[row]
    scope = t[3] & SCOPE_MASK
    for cv in component_variables:
        c = cv["component"]
        if not same(c["name"], t[0]) or c.get("instance"):
            continue  # our components have no instances
        e = c.get("evse")
        if e is not None and (scope == STATION or e["id"] != evse or (
                e.get("connectorId") not in (None, 1 if scope == CONNECTOR else None))):
            continue
        v = cv.get("variable")
        if v is None:
            return True
        instance = v.get("instance")
        if same(v["name"], t[1]) and (not instance or (t[2] is not None and
                                                       same(instance, t[2]))):
            return True
    return False


def data(dm, row, evse, writable_only):
    """The ReportData of `row` at `evse` (0 at station level)."""
    t = dm.table[row]
    flags = t[3]
    component = {"name": t[0]}
    scope = flags & SCOPE_MASK
    if scope != STATION:
        component["evse"] = {"id": evse, "connectorId": 1} if scope == CONNECTOR \
            else {"id": evse}
    variable = {"name": t[1]}
    if t[2] is not None:
        variable["instance"] = t[2]
    attributes = []
    for a in range(4):
        if not flags & (ACTUAL << a):
            continue
        m = mutability(flags, a)
        if writable_only and m == READ_ONLY:
            continue
        attribute = {"type": ATTRIBUTES[a], "mutability": MUTABILITY[m]}  # type: dict
        if m != WRITE_ONLY:
            attribute["value"] = dm.shown(row, evse, a)
        if a or flags & PERSISTENT:
            attribute["persistent"] = True
        if not a and flags & CONSTANT:
            attribute["constant"] = True
        attributes.append(attribute)
    characteristics = {"dataType": DATA_TYPES[flags & TYPE_MASK], "supportsMonitoring": False}
    if t[4] is not None:
        characteristics["unit"] = t[4]
    if t[5] is not None:
        characteristics["minLimit"] = t[5]
    high = dm.max_limit(row)
    if high is not None:
        characteristics["maxLimit"] = high
    if t[7] is not None:
        characteristics["valuesList"] = t[7]
    return {"component": component, "variable": variable, "variableAttribute": attributes,
            "variableCharacteristics": characteristics}
