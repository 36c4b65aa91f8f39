# The rules a device model value must pass: its dataType, valuesList, limits and charset.
"""Checks a wire string against a row of firmware/v201/dmtable.py (OCPP 2.0.1 B05.FR.07-08).

    value, reason = check(row, "60", 86400)   # ("60", None), or (None, "InvalidValue")

integer: decimal digits, an optional "-", 9 digits at most (a small int on the ESP32);
decimal: the same with an optional fraction ("16.5"; not "1.", ".5", "1e3"); both within
minLimit..maxLimit ("ValueOutOfRange" outside). boolean: "true" or "false" in any case, kept
in lower case. dateTime: RFC 3339. string: no control characters, at most maxLimit long;
a PASSWORD row: 16 to 40 characters of passwordString (part 2 §2.1.4, A00.FR.205).
OptionList: one item of valuesList. MemberList: items of valuesList, each once, spaces
around them dropped; SequenceList: the same, at least one (an order of nothing would leave
nothing to use). For strings and lists maxLimit is the length. Anything else: "InvalidValue".
"""

from firmware.v201.dmtable import (BOOLEAN, DATETIME, DECIMAL, INTEGER, OPTION_LIST, PASSWORD,
                                   SEQUENCE_LIST, STRING, TYPE_MASK)
from ocppj.validate import is_datetime

_PASSWORD_SYMBOLS = "*-_=:+|@."  # passwordString: a-z, A-Z, 0-9 and these


def integer(text):
    """The int of a decimal integer text ("-12"), or None."""
    s = text[1:] if text[:1] == "-" else text
    if not 0 < len(s) <= 9 or not _digits(s):
        return None
    return int(text)


def _digits(s):
    for c in s:
        if c < "0" or c > "9":
            return False
    return True


def _decimal(text):
    """The float of a decimal number text ("-1.5", "16"), or None."""
    s = text[1:] if text[:1] == "-" else text
    dot = s.find(".")
    if dot >= 0 and (dot == len(s) - 1 or not _digits(s[dot + 1:])):
        return None
    whole = s if dot < 0 else s[:dot]
    if not whole or len(s) > 15 or not _digits(whole):
        return None
    return float(text)


def check(row, text, high):
    """(the value to keep, None) when `text` is valid for table row `row` with maxLimit
    `high`, else (None, reasonCode)."""
    flags = row[3]
    kind = flags & TYPE_MASK
    if kind == INTEGER or kind == DECIMAL:
        n = integer(text) if kind == INTEGER else _decimal(text)
        if n is None:
            return None, "InvalidValue"
        if (row[5] is not None and n < row[5]) or (high is not None and n > high):
            return None, "ValueOutOfRange"
        return text, None
    if kind == BOOLEAN:
        low = text.lower()
        return (low, None) if low == "true" or low == "false" else (None, "InvalidValue")
    if kind == DATETIME:
        return (text, None) if is_datetime(text) else (None, "InvalidValue")
    if kind == STRING:
        password = flags & PASSWORD
        for c in text:
            if c < " " or (password and not ("a" <= c <= "z" or "A" <= c <= "Z" or
                                             "0" <= c <= "9" or c in _PASSWORD_SYMBOLS)):
                return None, "InvalidValue"
        if password and len(text) < 16:
            return None, "InvalidValue"
    elif kind == OPTION_LIST:
        if text not in row[7].split(","):
            return None, "InvalidValue"
    else:  # SEQUENCE_LIST, MEMBER_LIST
        items = [i.strip() for i in text.split(",")] if text.strip() else []
        allowed = row[7].split(",")
        for i in range(len(items)):
            if items[i] not in allowed or items[i] in items[:i]:
                return None, "InvalidValue"
        if not items and kind == SEQUENCE_LIST:
            return None, "InvalidValue"
        text = ",".join(items)
    if high is not None and len(text) > high:
        return None, "InvalidValue"
    return text, None
