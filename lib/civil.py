# Calendar arithmetic for seconds since 2000-01-01 UTC (the firmware's clock), integers only.
"""The proleptic Gregorian calendar by H. Hinnant's algorithms, shared by the certificate
parser (lib/ota/der.py), the RFC 3339 parser (lib/ocppj/rfc3339.py) and the log's wall-clock
time (lib/logger.py). ocppj.encoder writes frame timestamps with its own inline copy of
civil_from_days, so that no tuple is made per timestamp.

    utc_text(849514935)          -> "2026-12-02T08:22:15Z"
    days_from_civil(2000, 1, 1)  -> 10957
"""

EPOCH_2000_DAYS = 10957  # days from 1970-01-01 to 2000-01-01


def days_from_civil(year, month, day):
    """Days since 1970-01-01 of a date."""
    year -= 1 if month <= 2 else 0
    era = (year if year >= 0 else year - 399) // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days):
    """(year, month, day) of `days` since 1970-01-01."""
    days += 719468
    era = (days if days >= 0 else days - 146096) // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def utc_text(s):
    """Seconds since 2000-01-01 UTC as RFC 3339 text to the second, "2026-12-02T08:22:15Z"."""
    days = s // 86400
    secs = s - days * 86400
    y, m, d = civil_from_days(days + EPOCH_2000_DAYS)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, secs // 3600, secs // 60 % 60, secs % 60)
