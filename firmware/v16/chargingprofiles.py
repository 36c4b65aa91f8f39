# The installed charging profiles: checked on arrival, replaced and cleared as §5.16 says, kept.
"""The rules of the charging profiles the charge point holds, in the compact form of
firmware/model/schedule.py (a tuple of integers per profile: about 70 bytes, 12 more per period).

    items = load(path)                        # the profiles on flash
    p = parse(1, payload["csChargingProfiles"])   # a profile tuple, or the reason (str) it is
                                                  # Rejected
    after = install(items, p, now_s)          # the new list, or None: MAX_PROFILES held
    store(path, items, after)                 # written when what goes on flash changed
    after = clear(items, None, 1, "TxProfile", None)   # ids, connector, purpose, level
    after = end_transaction(items, local_id)  # its TxProfiles go (§3.13.1)

The service (firmware/v16/smartcharging.py) keeps the list; this module and firmware/model/schedule.py
are imported for each piece of work and forgotten after it (their functions are 1.5 KB of
RAM while imported, on the frozen 32-bit build).

Checks (OCPP 1.6 §5.16, §7.8-7.14 and the errata): stackLevel 0..ChargeProfileMaxStackLevel,
1..ChargingScheduleMaxPeriods periods, the first at startPeriod 0 and each later one later,
limits and minChargingRate not negative (and at most 10 MW), numberPhases at least 1,
duration not negative, validFrom before validTo, recurrencyKind with Recurring only and
always there (errata 3.56), Recurring with a startSchedule (its anchor, errata 3.78),
transactionId with TxProfile only. Anything else is accepted: chargingRateUnit A and W are
both allowed (ChargingScheduleAllowedChargingRateUnit "Current,Power"). Which purpose may be
set on which connector, and the transaction of a TxProfile, the service checks (it knows the
connectors).

Replacing (§3.13.2, §5.16.3/5.16.4): a new profile replaces the installed one with the same
chargingProfileId and the one with the same stackLevel, purpose and connector. At most
MaxChargingProfilesInstalled (MAX_PROFILES) profiles, every connector together; profiles
whose validTo has passed are dropped to make room.

On flash (errata 3.37: profiles survive reboots): ChargePointMaxProfiles and
TxDefaultProfiles, in one atomicfile (a JSON list: the format number, then the profile
tuples), written after every change of them and removed when none is left, so the
application can tell from the file alone whether to make the service at start-up. TxProfiles
are not written: they end with their transaction, and a transaction does not survive a
restart (it is stopped with PowerLoss), and a central system that updates a TxProfile every
minute would wear the flash. A torn or unreadable file is logged and removed.
"""

import json
import os

import atomicfile
import logger
from firmware.model import schedule as sc
from firmware.v16.settings import MAX_PERIODS, MAX_PROFILES, MAX_STACK_LEVEL
from ocppj import rfc3339

log = logger.get("smartcharging")

_FORMAT = 1
_MAX_TENTHS = 100000000  # 10 MW (or 10 MA) in tenths: the largest limit taken
PURPOSES = ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")  # by schedule.CP_MAX ...
_KINDS = ("Absolute", "Recurring", "Relative")  # by schedule.ABSOLUTE ...


def _tenths(x):
    """A decimal of the payload (int or float, at most one decimal) in tenths; -1 for one
    that is no number at all (1e400 is infinite once parsed, and NaN)."""
    if isinstance(x, int):
        return x * 10
    if not -_MAX_TENTHS < x < _MAX_TENTHS:  # also False for NaN
        return -1
    return int(x * 10 + (0.5 if x >= 0 else -0.5))


def _time(payload, name):
    text = payload.get(name)
    return None if text is None else rfc3339.to_s2000(text)  # the schema checked the format


def parse(connector, payload, tx=None):
    """The profile tuple of ChargingProfile `payload` set for `connector` (TxProfile: of the
    transaction with local id `tx`), or the reason it is Rejected (a str)."""
    purpose = PURPOSES.index(payload["chargingProfilePurpose"])
    level = payload["stackLevel"]
    if not 0 <= level <= MAX_STACK_LEVEL:
        return "stackLevel %d not in 0..%d" % (level, MAX_STACK_LEVEL)
    if purpose != sc.TX_PROFILE and "transactionId" in payload:
        return "transactionId is for TxProfile only"
    kind = _KINDS.index(payload["chargingProfileKind"])
    recurrency = payload.get("recurrencyKind")
    if (kind == sc.RECURRING) != (recurrency is not None):
        return "recurrencyKind goes with Recurring, and only with it"
    schedule = payload["chargingSchedule"]
    start = _time(schedule, "startSchedule")
    if kind == sc.RECURRING and start is None:
        return "Recurring without startSchedule"
    valid_from = _time(payload, "validFrom")
    valid_to = _time(payload, "validTo")
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        return "validTo not after validFrom"
    duration = schedule.get("duration")
    if duration is not None and duration < 0:
        return "negative duration"
    min_rate = schedule.get("minChargingRate")
    if min_rate is not None:
        min_rate = _tenths(min_rate)
        if not 0 <= min_rate <= _MAX_TENTHS:
            return "minChargingRate out of range"
    periods = schedule["chargingSchedulePeriod"]
    if not 1 <= len(periods) <= MAX_PERIODS:
        return "%d periods (1..%d)" % (len(periods), MAX_PERIODS)
    p = [payload["chargingProfileId"], connector, purpose, level, kind,
         (sc.DAY if recurrency == "Daily" else sc.WEEK) if recurrency else 0,
         valid_from, valid_to, start, duration, schedule["chargingRateUnit"] == "W", min_rate,
         tx]
    previous = -1
    for period in periods:
        at = period["startPeriod"]
        if at <= previous or (previous < 0 and at != 0):
            return "startPeriod %d: the first at 0, each later one later" % at
        previous = at
        limit = _tenths(period["limit"])
        if not 0 <= limit <= _MAX_TENTHS:
            return "limit out of range"
        phases = period.get("numberPhases")
        if phases is not None and phases < 1:
            return "numberPhases %d" % phases
        p.append(at)
        p.append(limit)
        p.append(phases)
    return tuple(p)


def bind(profile, tx):
    """The TxProfile `profile` for the transaction with local id `tx`."""
    return profile[:sc.TX] + (tx,) + profile[sc.TX + 1:]


def load(path):
    """The profiles on flash at `path` (a list); a torn or unreadable file is logged and
    removed (then: none)."""
    raw = atomicfile.read(path)
    if raw is None:
        if atomicfile.exists(path):
            log.error("charging profiles file torn: ignored, removed")
            _remove(path)
        return []
    try:
        data = json.loads(raw)
        if data[0] != _FORMAT:
            raise ValueError("format %r" % data[0])
        items = [tuple(p) for p in data[1:]]
        for p in items:
            if len(p) < sc.PERIODS + 3 or (len(p) - sc.PERIODS) % 3:
                raise ValueError("a profile of %d fields" % len(p))
        return items
    except (ValueError, TypeError, IndexError, KeyError) as e:
        log.error("charging profiles file unreadable: ignored, removed:", repr(e))
        _remove(path)
        return []


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _kept(items):
    return [p for p in items if p[sc.PURPOSE] != sc.TX_PROFILE]


def store(path, before, after):
    """Write `after` to flash if what goes there (not the TxProfiles) differs from `before`;
    no profile left to keep: no file."""
    kept = _kept(after)
    if kept == _kept(before):
        return
    if kept:
        atomicfile.write(path, json.dumps([_FORMAT] + kept))
    else:
        _remove(path)


def install(items, profile, now_s):
    """`items` with `profile` added, replacing as §5.16 says; None when MAX_PROFILES others
    are held already."""
    keep = []
    for p in items:
        if p[sc.ID] == profile[sc.ID] or (
                p[sc.LEVEL] == profile[sc.LEVEL] and p[sc.PURPOSE] == profile[sc.PURPOSE]
                and p[sc.CONNECTOR] == profile[sc.CONNECTOR]):
            continue  # replaced
        if p[sc.TO] is not None and p[sc.TO] <= now_s:
            continue  # expired: makes room
        keep.append(p)
    if len(keep) >= MAX_PROFILES:
        return None
    keep.append(profile)
    return keep


def clear(items, profile_id=None, connector=None, purpose=None, level=None):
    """`items` without the profile with chargingProfileId `profile_id`, or (without one)
    without every profile that matches all the other criteria given (errata 3.25/3.26;
    none given: all of them). `purpose` is its name."""
    if purpose is not None:
        purpose = PURPOSES.index(purpose)
    keep = []
    for p in items:
        if profile_id is not None:
            match = p[sc.ID] == profile_id
        else:
            match = ((connector is None or p[sc.CONNECTOR] == connector)
                     and (purpose is None or p[sc.PURPOSE] == purpose)
                     and (level is None or p[sc.LEVEL] == level))
        if not match:
            keep.append(p)
    return keep


def end_transaction(items, tx):
    """`items` without the TxProfiles of the transaction with local id `tx` (§3.13.1)."""
    return [p for p in items if p[sc.PURPOSE] != sc.TX_PROFILE or p[sc.TX] != tx]
