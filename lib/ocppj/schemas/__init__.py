# Generated OCPP message tables (tools/gen_schemas.py) and their loader: one action at a time.
"""Validation tables for every OCPP action, generated from the official JSON schemas.

    from ocppj import schemas, validate
    request, response = schemas.load("v16", "RemoteStartTransaction")
    validate.validate(request, payload)          # raises validate.ValidationError

`load(version, action)` returns None when `version` ("v16" or "v201") has no such action.
`ocppj.schemas.v16.CSMS_TO_CP` / `CP_TO_CSMS` are the actions of each direction.

Each action lives in its own module (ocppj/schemas/<version>/<Action>.py); `load` imports it
and forgets it again, so its tables take RAM only while the caller holds them, never the whole
set. Measured from .mpy on the 64-bit unix port (the ESP32 needs roughly half): 1.6 tables
0.3 KB (Heartbeat) to 3.1 KB (StopTransaction), 2.2 KB MeterValues; 32 KB if all 39 1.6 actions
were held at once. Loading an action for the first time also interns its short strings
(qstrs) for good: about 10 KB once every 1.6 action has been seen.

Table format (small ints and None cost no RAM; one tuple per object, one string per enum):

    object table   (flags, name, code, arg, name, code, arg, ...)
                   flags & 1: additionalProperties is false (unknown fields are an error)
    code           kind | 16 when the field is required
    kind, arg      1 string      maxLength or None
                   2 date-time   None (RFC 3339 string)
                   3 enum        the allowed strings as one: "|Accepted|Rejected|"
                   4 integer     None or (minimum or None, maximum or None)
                   5 number      None or (minimum or None, maximum or None)
                   6 boolean     None
                   7 object      object table
                   8 array       (minItems, maxItems or None, item code, item arg)
                   9 any         None (no type given)

An enum or tuple used twice in one module (a $ref'd type) is written once and shared.
"""

import unload


def load(version, action):
    """(request table, response table) of `action` in `version`, or None if it has none."""
    base = "ocppj.schemas." + version
    pkg = __import__(base, None, None, ("CSMS_TO_CP",))
    if action not in pkg.CSMS_TO_CP and action not in pkg.CP_TO_CSMS:
        return None  # also keeps wire text out of the import system
    name = base + "." + action
    mod = __import__(name, None, None, ("REQUEST",))
    tables = (mod.REQUEST, mod.RESPONSE)
    unload.forget(name)  # the tables live only as long as the caller keeps them
    return tables
