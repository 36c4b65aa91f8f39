# Checks a decoded OCPP payload against a generated schema table; names the error kind and where.
"""Payload validation against the tables of ocppj.schemas.

    from ocppj import schemas
    from ocppj.validate import validate, ValidationError
    request, response = schemas.load("v16", "ChangeAvailability")
    try:
        payload = validate(request, {"connectorId": 1, "type": "Sideways"})
    except ValidationError as e:
        e.kind         # "PropertyConstraintViolation" (a generic code of ocppj.errors)
        e.description  # "type: not an allowed value" (also str(e))

`validate` returns the payload to hand on: the one given, or a new {} for a `null` payload
where the table has no required field. OCPP-J 1.6 §4.2.1 and §4.2.2: "If there is no payload
JSON allows for two different notations: null or and empty object {}" (the errata sheet adds
nothing on it); so `null` is taken as {} where {} would be valid, and refused where a field is
required (FormationViolation: not a JSON object).

ValidationError is a CallError, so a session that turns CallErrors into CALLERROR frames needs
nothing more. The kinds:

    ProtocolError                 a required field is missing
    TypeConstraintViolation       a value has the wrong JSON type (true is not an integer,
                                  1.0 is not an integer, null is nothing but null)
    PropertyConstraintViolation   enum value not allowed, string too long, number out of
                                  range, date-time not RFC 3339
    OccurenceConstraintViolation  array with fewer than minItems or more than maxItems items
    FormationViolation            payload not a JSON object (nor a null that stands for {}),
                                  or an unknown field where the schema has
                                  additionalProperties false

A valid payload leaves no garbage on the heap (enums are matched in place, numbers are not
boxed); the path text of an error is built only when there is one.
"""

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

from ocppj.errors import (CallError, FORMATION_VIOLATION, OCCURENCE_CONSTRAINT_VIOLATION,
                          PROPERTY_CONSTRAINT_VIOLATION, PROTOCOL_ERROR,
                          TYPE_CONSTRAINT_VIOLATION)

# Table codes: the same numbers as tools/gen_schemas.py (see ocppj/schemas/__init__.py).
_STRING = const(1)
_DATETIME = const(2)
_ENUM = const(3)
_INTEGER = const(4)
_NUMBER = const(5)
_BOOLEAN = const(6)
_OBJECT = const(7)
_ARRAY = const(8)
_KIND = const(15)
_REQUIRED = const(16)
_CLOSED = const(1)

_MDAYS = b"\x1f\x1c\x1f\x1e\x1f\x1e\x1f\x1f\x1e\x1f\x1e\x1f"  # days per month, February 28
_MISSING = object()
_INF = float("inf")
_NINF = -_INF


class ValidationError(CallError):
    """A payload does not match its table: `kind` (= `code`) and `description` (= str(e))."""

    def __init__(self, kind, description):
        super().__init__(kind, description)
        self.kind = kind


class _Fail(Exception):
    # Internal: carries the path outwards, innermost segment first (field names, item indexes).
    def __init__(self, kind, reason, segment=None):
        super().__init__()
        self.kind = kind
        self.reason = reason
        self.path = [] if segment is None else [segment]


def validate(table, payload):
    """Check `payload` (a decoded JSON value) against an object table; raise ValidationError.
    Returns the payload to use: `payload`, or {} for a None (JSON null) where nothing is
    required."""
    if not isinstance(payload, dict):
        if payload is None and not has_required(table):
            return {}
        raise ValidationError(FORMATION_VIOLATION, "payload is not a JSON object")
    try:
        _object(table, payload)
    except _Fail as e:
        raise ValidationError(e.kind, _describe(e.path, e.reason))
    return payload


def has_required(table):
    """True when the object table names a required field."""
    i = 2
    n = len(table)
    while i < n:
        if table[i] & _REQUIRED:
            return True
        i += 3
    return False


def _describe(path, reason):
    where = ""
    for segment in reversed(path):
        if type(segment) is int:
            where += "[%d]" % segment
        elif where:
            where += "." + segment
        else:
            where = segment
    return where + ": " + reason if where else reason


def _object(table, obj):
    n = len(table)
    present = 0
    i = 1
    try:
        while i < n:
            value = obj.get(table[i], _MISSING)
            if value is _MISSING:
                if table[i + 1] & _REQUIRED:
                    raise _Fail(PROTOCOL_ERROR, "required field missing")
            else:
                present += 1
                _value(table[i + 1] & _KIND, table[i + 2], value)
            i += 3
    except _Fail as e:
        e.path.append(table[i])
        raise
    if present != len(obj) and table[0] & _CLOSED:
        for key in obj:
            i = 1
            while i < n and table[i] != key:
                i += 3
            if i >= n:
                raise _Fail(FORMATION_VIOLATION, "unknown field", key)


def _value(kind, arg, value):
    if kind == _STRING:
        if not isinstance(value, str):
            raise _Fail(TYPE_CONSTRAINT_VIOLATION, "not a string")
        if arg is not None and len(value) > arg:
            raise _Fail(PROPERTY_CONSTRAINT_VIOLATION, "longer than %d characters" % arg)
    elif kind == _INTEGER:
        if type(value) is not int:
            raise _Fail(TYPE_CONSTRAINT_VIOLATION, "not an integer")
        if arg is not None:
            _range(arg, value)
    elif kind == _ENUM:
        if not isinstance(value, str):
            raise _Fail(TYPE_CONSTRAINT_VIOLATION, "not a string")
        if not _in_enum(value, arg):
            raise _Fail(PROPERTY_CONSTRAINT_VIOLATION, "not an allowed value")
    elif kind == _DATETIME:
        if not isinstance(value, str):
            raise _Fail(TYPE_CONSTRAINT_VIOLATION, "not a string")
        if not is_datetime(value):
            raise _Fail(PROPERTY_CONSTRAINT_VIOLATION, "not an RFC 3339 date-time")
    elif kind == _OBJECT:
        if not isinstance(value, dict):
            raise _Fail(TYPE_CONSTRAINT_VIOLATION, "not an object")
        _object(arg, value)
    elif kind == _ARRAY:
        if not isinstance(value, list):
            raise _Fail(TYPE_CONSTRAINT_VIOLATION, "not an array")
        _array(arg, value)
    elif kind == _NUMBER:
        t = type(value)
        if t is float:
            if not _NINF < value < _INF:  # NaN or infinity: not a JSON number
                raise _Fail(TYPE_CONSTRAINT_VIOLATION, "not a finite number")
        elif t is not int:
            raise _Fail(TYPE_CONSTRAINT_VIOLATION, "not a number")
        if arg is not None:
            _range(arg, value)
    elif kind == _BOOLEAN:
        if value is not True and value is not False:
            raise _Fail(TYPE_CONSTRAINT_VIOLATION, "not a boolean")
    # else: any JSON value is allowed


def _in_enum(value, joined):
    # `joined` is "|a|b|c|" (one string costs far less RAM than a tuple of strings).
    if "|" in value:
        return False
    n = len(value)
    p = joined.find(value)
    while p > 0:
        if joined.startswith("|", p - 1) and joined.startswith("|", p + n):
            return True
        p = joined.find(value, p + 1)
    return False


def _range(bounds, value):
    low, high = bounds
    if low is not None and value < low:
        raise _Fail(PROPERTY_CONSTRAINT_VIOLATION, "less than %s" % low)
    if high is not None and value > high:
        raise _Fail(PROPERTY_CONSTRAINT_VIOLATION, "greater than %s" % high)


def _array(spec, items):
    n = len(items)
    if n < spec[0] or (spec[1] is not None and n > spec[1]):
        raise _Fail(OCCURENCE_CONSTRAINT_VIOLATION, "%d items, allowed %d to %s" % (
            n, spec[0], "any" if spec[1] is None else spec[1]))
    kind = spec[2] & _KIND
    arg = spec[3]
    i = 0
    try:
        while i < n:
            _value(kind, arg, items[i])
            i += 1
    except _Fail as e:
        e.path.append(i)
        raise


def _digits(text, start, count):
    # The decimal value of text[start:start + count], or -1 if any of them is not 0-9.
    v = 0
    for i in range(start, start + count):
        d = ord(text[i]) - 48
        if d < 0 or d > 9:
            return -1
        v = v * 10 + d
    return v


def is_datetime(text):
    """True if `text` is an RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)."""
    n = len(text)
    if n < 20 or text[4] != "-" or text[7] != "-" or text[13] != ":" or text[16] != ":":
        return False
    if text[10] != "T" and text[10] != "t":  # RFC 3339 5.6 allows the lower case
        return False
    year = _digits(text, 0, 4)
    month = _digits(text, 5, 2)
    day = _digits(text, 8, 2)
    hour = _digits(text, 11, 2)
    minute = _digits(text, 14, 2)
    second = _digits(text, 17, 2)
    if year < 0 or month < 1 or month > 12 or day < 1 or hour < 0 or hour > 23:
        return False
    if minute < 0 or minute > 59 or second < 0 or second > 59:  # no leap second 60
        return False
    days = _MDAYS[month - 1]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        days = 29
    if day > days:
        return False
    i = 19
    if text[i] == ".":
        i += 1
        start = i
        while i < n and "0" <= text[i] <= "9":
            i += 1
        if i == start:
            return False
    if i >= n:
        return False  # no zone
    c = text[i]
    if c == "Z" or c == "z":
        return i + 1 == n
    if (c != "+" and c != "-") or n - i != 6 or text[i + 3] != ":":
        return False
    zh = _digits(text, i + 1, 2)
    zm = _digits(text, i + 4, 2)
    return 0 <= zh <= 23 and 0 <= zm <= 59
