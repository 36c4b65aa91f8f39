# RFC 3339 date-time text to the firmware's seconds since 2000-01-01, integer arithmetic only.
"""    rfc3339.to_s2000("2026-11-21T14:45:08.123+01:00")  -> 848583908

Checked with ocppj.validate.is_datetime first; fractions of a second are dropped.
"""

from civil import EPOCH_2000_DAYS, days_from_civil
from ocppj.validate import is_datetime


def to_s2000(text):
    """Seconds since 2000-01-01 UTC; ValueError when `text` is not RFC 3339."""
    if not isinstance(text, str) or not is_datetime(text):
        raise ValueError("not an RFC 3339 date-time")
    s = ((days_from_civil(int(text[0:4]), int(text[5:7]), int(text[8:10])) - EPOCH_2000_DAYS) * 86400
         + int(text[11:13]) * 3600 + int(text[14:16]) * 60 + int(text[17:19]))
    zone = text[-1]
    if zone in "Zz":
        return s
    sign = 1 if text[-6] == "+" else -1
    return s - sign * (int(text[-5:-3]) * 3600 + int(text[-2:]) * 60)
