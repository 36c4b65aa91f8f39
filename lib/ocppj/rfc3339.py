# RFC 3339 date-time text to the firmware's seconds since 2000-01-01, integer arithmetic only.
"""    rfc3339.to_s2000("2026-11-21T14:45:08.123+01:00")  -> 848583908

Checked with ocppj.validate.is_datetime first; fractions of a second are dropped.
"""

from ocppj.validate import is_datetime


def days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= 1 if month <= 2 else 0
    era = (year if year >= 0 else year - 399) // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def to_s2000(text):
    """Seconds since 2000-01-01 UTC; ValueError when `text` is not RFC 3339."""
    if not isinstance(text, str) or not is_datetime(text):
        raise ValueError("not an RFC 3339 date-time")
    s = ((days_from_civil(int(text[0:4]), int(text[5:7]), int(text[8:10])) - 10957) * 86400
         + int(text[11:13]) * 3600 + int(text[14:16]) * 60 + int(text[17:19]))
    zone = text[-1]
    if zone in "Zz":
        return s
    sign = 1 if text[-6] == "+" else -1
    return s - sign * (int(text[-5:-3]) * 3600 + int(text[-2:]) * 60)
