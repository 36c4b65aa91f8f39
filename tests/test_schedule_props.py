# Property tests of firmware/model/schedule.py (and the parsing of firmware/v16/chargingprofiles.py):
# random profile stacks against a plain reference model evaluated point by point.
"""Random stacks of charging profiles (every purpose, stack levels, validity windows,
Absolute / Recurring Daily and Weekly / Relative, A and W, numberPhases), random transactions
on two connectors, random windows. The profiles go in as OCPP payloads through
chargingprofiles.parse(); the reference model below reads the generated description directly
and evaluates it at every point of the window by brute force: the start of a Recurring
schedule is found by stepping through its recurrences, the period by scanning all periods.

- test_composite_matches_the_reference_*: the Composite walk of a connector (or of the charge
  point, connector 0) gives at every second of the window what the reference gives there.
  In the long windows every time the stack is made of is a multiple of QUANTUM (a divisor of
  a day), so the limits are constant within each quantum and the reference visits one second
  per quantum (and the window's first); in the short windows times are arbitrary and the
  reference visits every second.
- test_connector_limit_and_next_change_*: at random times, connector_limit() equals the
  reference and next_change() names the first later second where the period changes.
- test_share_*: ChargePointMaxProfile's sharing: never more than the total among the
  connectors that can charge, max-min fair, nothing left that someone could use, and only the
  last to come give way.
- test_install_*: after any sequence of SetChargingProfiles no two installed profiles share an
  id or a (stackLevel, purpose, connector), and the last one is installed.
"""

import datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from firmware.model import schedule as sc
from firmware.v16 import chargingprofiles
from firmware.v16.chargingprofiles import parse
from firmware.v16.settings import MAX_PERIODS, MAX_PROFILES, MAX_STACK_LEVEL

QUANTUM = 900  # 15 min: divides a day; every time of the long-window stacks is a multiple
T0 = 840000000 // QUANTUM * QUANTUM  # 2026-08-14, a multiple of QUANTUM
LEAST = 60  # 6 A: drivers.pilot.MIN_DECIAMPS
RECURRENCE = {"Daily": 86400, "Weekly": 604800}
PURPOSE = {"ChargePointMaxProfile": sc.CP_MAX, "TxDefaultProfile": sc.TX_DEFAULT,
           "TxProfile": sc.TX_PROFILE}
TX_IDS = {1: -5, 2: -9}  # the local transaction id each connector runs when it has one


def rfc3339(s):
    return (datetime.datetime(2000, 1, 1) + datetime.timedelta(seconds=s)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# -- the reference model --------------------------------------------------------------------
def run_start(d, t, ref):
    """The start of the run of d's schedule that t falls in; None: none has started."""
    kind = d["kind"]
    if kind == "Recurring":
        s = d["start"]
        if t < s:
            return None
        while s + RECURRENCE[d["recurrency"]] <= t:
            s += RECURRENCE[d["recurrency"]]
        return s
    if kind == "Absolute" and d["start"] is not None:
        s = d["start"]
    else:
        s = t if ref is None else ref
    return s if s <= t else None


def in_force(d, t, ref):
    """(limit in tenths, numberPhases) of d at t, or None."""
    if d["valid_from"] is not None and t < d["valid_from"]:
        return None
    if d["valid_to"] is not None and t >= d["valid_to"]:
        return None
    s = run_start(d, t, ref)
    if s is None:
        return None
    o = t - s
    if d["duration"] is not None and o >= d["duration"]:
        return None
    if d["kind"] == "Recurring" and o >= RECURRENCE[d["recurrency"]]:
        return None
    found = None
    for start, limit, phases in d["periods"]:
        if start <= o:
            found = (limit, phases)
    return found


def as_amps(d, value, volts, phases):
    limit, ph = value
    ph = phases if ph is None or ph > phases else ph
    return (limit // (volts * ph) if d["unit"] == "W" else limit), ph


def best(stack, t, ref, volts, phases, keep):
    top = None
    for d in stack:
        if keep(d):
            value = in_force(d, t, ref)
            if value is not None and (top is None or d["level"] > top[0]["level"]):
                top = (d, value)
    return None if top is None else as_amps(top[0], top[1], volts, phases)


def reference_connector(stack, t, n, tx, ref, volts, phases):
    found = None
    if tx is not None:
        found = best(stack, t, ref, volts, phases, lambda d: d["purpose"] == "TxProfile"
                     and d["connector"] == n and d["tx"] == tx)
    for conn in (n, 0):
        if found is None:
            found = best(stack, t, ref, volts, phases, lambda d: d["purpose"] ==
                         "TxDefaultProfile" and d["connector"] == conn)
    return found or (None, phases)


def reference_value(stack, t, members, index, volts, phases, watts):
    own = [reference_connector(stack, t, n, tx, ref, volts, phases) for n, tx, ref, _ in members]
    wants = [local if limit is None or limit > local else limit
             for (limit, _), (_, _, _, local) in zip(own, members)]
    cap = best(stack, t, None, volts, phases, lambda d: d["purpose"] == "ChargePointMaxProfile")
    grants = sc.share(cap[0], wants, LEAST) if cap is not None else wants
    total = 0
    for k, (g, (_, ph)) in enumerate(zip(grants, own)):
        if index < 0 or k == index:
            total += g * volts * ph if watts else g
    return total, (own[index][1] if index >= 0 else phases)


# -- generating stacks ----------------------------------------------------------------------
def times(aligned, lo, hi):
    """A time in [T0 + lo, T0 + hi]: a multiple of QUANTUM when aligned."""
    if aligned:
        return st.integers(lo // QUANTUM, hi // QUANTUM).map(lambda k: T0 + k * QUANTUM)
    return st.integers(T0 + lo, T0 + hi)


def spans(aligned, hi):
    """A length in (0, hi]."""
    if aligned:
        return st.integers(1, hi // QUANTUM).map(lambda k: k * QUANTUM)
    return st.integers(1, hi)


@st.composite
def descriptions(draw, aligned, reach):
    """One profile's description (ids, connector, purpose and level are set by stacks())."""
    kind = draw(st.sampled_from(["Absolute", "Absolute", "Recurring", "Relative"]))
    recurrency = draw(st.sampled_from(["Daily", "Weekly"])) if kind == "Recurring" else None
    if kind == "Recurring":
        start = draw(times(aligned, -3 * reach, reach))
    elif kind == "Absolute":
        start = draw(st.one_of(st.none(), times(aligned, -reach, reach)))
    else:
        start = None
    duration = draw(st.one_of(st.none(), spans(aligned, 2 * reach)))
    valid_from = draw(st.one_of(st.none(), st.none(), times(aligned, -reach, reach)))
    valid_to = draw(st.one_of(st.none(), st.none(), times(aligned, 0, 2 * reach)))
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        valid_to = None
    n = draw(st.integers(1, 5))
    starts = [0] + sorted(draw(st.sets(spans(aligned, reach), min_size=n - 1, max_size=n - 1)))
    unit = draw(st.sampled_from(["A", "W"]))
    top = 250 if unit == "A" else 250000  # mostly under the local maximum: they matter
    periods = [(s, draw(st.integers(0, top)), draw(st.sampled_from([None, 1, 2, 3])))
               for s in starts]
    return {"kind": kind, "recurrency": recurrency, "start": start, "duration": duration,
            "valid_from": valid_from, "valid_to": valid_to, "unit": unit, "periods": periods}


PLACES = [("ChargePointMaxProfile", 0)] + [("TxDefaultProfile", n) for n in (0, 1, 2)] + \
    [("TxProfile", n) for n in (1, 2)]


@st.composite
def stacks(draw, aligned, reach, least=0):
    """Up to MAX_PROFILES descriptions, no two with the same (purpose, connector, level)."""
    slots = draw(st.lists(st.tuples(st.sampled_from(PLACES), st.integers(0, MAX_STACK_LEVEL)),
                          min_size=least, max_size=MAX_PROFILES, unique=True))
    stack = []
    for k, ((purpose, connector), level) in enumerate(slots):
        d = draw(descriptions(aligned, reach))
        d.update(id=k + 1, purpose=purpose, connector=connector, level=level, tx=None)
        if purpose == "TxProfile":  # its connector's transaction, or one long gone
            d["tx"] = draw(st.sampled_from([TX_IDS[connector], -77]))
        stack.append(d)
    return stack


def payload(d):
    """The OCPP ChargingProfile of description d."""
    schedule = {"chargingRateUnit": d["unit"], "chargingSchedulePeriod": []}
    for start, limit, phases in d["periods"]:
        period = {"startPeriod": start, "limit": limit // 10 if limit % 10 == 0 else limit / 10}
        if phases is not None:
            period["numberPhases"] = phases
        schedule["chargingSchedulePeriod"].append(period)
    if d["duration"] is not None:
        schedule["duration"] = d["duration"]
    if d["start"] is not None:
        schedule["startSchedule"] = rfc3339(d["start"])
    p = {"chargingProfileId": d["id"], "stackLevel": d["level"],
         "chargingProfilePurpose": d["purpose"], "chargingProfileKind": d["kind"],
         "chargingSchedule": schedule}
    if d["recurrency"]:
        p["recurrencyKind"] = d["recurrency"]
    for key, name in (("valid_from", "validFrom"), ("valid_to", "validTo")):
        if d[key] is not None:
            p[name] = rfc3339(d[key])
    return p


def installed(stack):
    profiles = []
    for d in stack:
        p = parse(d["connector"], payload(d), d["tx"])
        assert not isinstance(p, str), (p, d)
        profiles.append(p)
    return profiles


@st.composite
def members_of(draw, aligned, reach):
    """(n, tx, ref, local) of the connectors with a transaction, in a random order."""
    members = []
    for n in draw(st.permutations([1, 2])):
        if draw(st.booleans()):
            members.append((n, TX_IDS[n], draw(times(aligned, -reach, reach)),
                            draw(st.sampled_from([130, 160, 320]))))
    return members


@st.composite
def windows(draw, aligned, reach):
    stack = draw(stacks(aligned, reach, 2))
    members = draw(members_of(aligned, reach))
    start = draw(times(False, -reach // 2, reach))  # any second: not aligned
    connector = draw(st.integers(0, 2))
    for n in (1, 2):  # who else joins, as a transaction starting now (smartcharging.py)
        if n not in [m[0] for m in members] and connector in (0, n):
            members.append((n, None, start, draw(st.sampled_from([130, 160, 320]))))
    index = -1 if connector == 0 else [m[0] for m in members].index(connector)
    duration = draw(st.integers(reach // 4, 2 * reach))
    if aligned:
        duration = duration // QUANTUM * QUANTUM
    return (stack, members, index, start, duration,
            draw(st.sampled_from([230, 120])), draw(st.integers(1, 3)), draw(st.booleans()))


def check_composite(window, points):
    stack, members, index, start, duration, volts, phases, watts = window
    walk = sc.Composite(installed(stack), start, duration, members, index, volts, phases, LEAST,
                        MAX_PERIODS, watts)
    while walk.step():
        pass
    q = walk.periods
    offsets = q[0::3]
    assert offsets[0] == 0 and offsets == sorted(set(offsets)), offsets
    for i in range(3, len(q), 3):
        assert (q[i + 1], q[i + 2]) != (q[i - 2], q[i - 1]), "equal neighbours merged"
    if walk.duration < duration:  # cut: as many periods as allowed, or the steps ran out
        assert len(q) == 3 * MAX_PERIODS or walk._steps == 0, (len(q), walk.duration)
    else:
        assert walk.duration == duration
    event("%d profiles" % len(stack))
    event("periods: %s" % ("1" if len(q) == 3 else "2-5" if len(q) <= 15 else "6+"))
    event("cut" if walk.duration < duration else "whole")
    end = start + walk.duration
    k = 0
    for t in points(start, end):
        while k + 3 < len(q) and q[k + 3] <= t - start:
            k += 3
        expected = reference_value(stack, t, members, index, volts, phases, watts)
        assert (q[k + 1], q[k + 2]) == expected, (t - start, q, expected)


DAY = 86400


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(windows(True, 3 * DAY))
def test_composite_matches_the_reference_over_days(window):
    def points(start, end):  # the first second, then one per quantum: the limits are
        yield start           # constant within each (every time is a multiple of QUANTUM)
        t = (start // QUANTUM + 1) * QUANTUM
        while t < end:
            yield t
            t += QUANTUM
    check_composite(window, points)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(windows(False, 1200))
def test_composite_matches_the_reference_second_by_second(window):
    check_composite(window, lambda start, end: range(start, end))


SCAN = 2500  # how far past t the brute force looks for the next change


@settings(max_examples=200, deadline=None)
@given(stacks(False, 2000), st.integers(1, 2), st.booleans(),
       st.integers(T0 - 2000, T0 + 4000), st.one_of(st.none(), st.integers(T0 - 3000, T0 + 3000)),
       st.sampled_from([230, 120]), st.integers(1, 3))
def test_connector_limit_and_next_change(stack, n, running, t, ref, volts, phases):
    profiles = installed(stack)
    tx = TX_IDS[n] if running else None
    got = sc.connector_limit(profiles, t, n, tx, ref, volts, phases)
    assert got == reference_connector(stack, t, n, tx, ref, volts, phases), got
    for p, d in zip(profiles, stack):
        i = sc.period_at(p, t, ref)
        value = in_force(d, t, ref)
        assert (value is None) == (i < 0) and (i < 0 or (p[i + 1], p[i + 2]) == value), (i, value)
        nxt = sc.next_change(p, t, ref)
        assert nxt is None or nxt > t
        # brute force: the first second after t where the reference differs
        u = t + 1
        while u < t + SCAN and in_force(d, u, ref) == value:
            u += 1
        if u < t + SCAN:  # it changes at u: the boundary named is no later
            assert nxt is not None and nxt <= u, (nxt, u, t)
        elif nxt is not None:  # nothing changes before it
            assert nxt >= u or all(in_force(d, v, ref) == value for v in range(t + 1, nxt))


@settings(max_examples=300)
@given(st.integers(0, 2000), st.lists(st.integers(0, 400), max_size=5))
def test_share_is_fair_and_never_more_than_the_total(total, wants):
    grants = sc.share(total, wants, LEAST)
    charging = [i for i in range(len(wants)) if wants[i] >= LEAST and grants[i] >= LEAST]
    assert sum(grants[i] for i in charging) <= total
    for i in range(len(wants)):
        assert grants[i] <= wants[i]
        if wants[i] < LEAST:
            assert grants[i] == wants[i]  # cannot charge, takes nothing
        else:
            assert grants[i] == 0 or grants[i] >= LEAST, grants
    dropped = [i for i in range(len(wants)) if wants[i] >= LEAST and grants[i] == 0]
    eligible = [i for i in range(len(wants)) if wants[i] >= LEAST]
    assert dropped == eligible[len(eligible) - len(dropped):], "the last to come give way"
    for i in charging:  # max-min fair: only one that got all it wanted may have less
        for j in charging:
            assert grants[i] >= grants[j] - 1 or grants[i] == wants[i], (grants, wants)
    if any(grants[i] < wants[i] for i in charging):  # nothing left that someone could use
        assert total - sum(grants[i] for i in charging) < len(charging), (grants, wants)
    if dropped:  # one more would have left someone under 6 A (the lowest share of
        assert total // (len(charging) + 1) < LEAST, (grants, wants)  # water-filling)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.sampled_from(PLACES[:4]),
                          st.integers(0, MAX_STACK_LEVEL)), min_size=1, max_size=20))
def test_install_replaces_by_id_and_by_level_purpose_and_connector(tmp_path_factory, sets):
    path = str(tmp_path_factory.mktemp("sc") / "charging-profiles")
    items = []
    for pid, (purpose, connector), level in sets:
        d = {"kind": "Relative", "recurrency": None, "start": None, "duration": None,
             "valid_from": None, "valid_to": None, "unit": "A", "periods": [(0, 100, None)],
             "id": pid, "purpose": purpose, "connector": connector, "level": level, "tx": None}
        p = parse(connector, payload(d))
        after = chargingprofiles.install(items, p, T0)
        assert after is not None or len(items) == MAX_PROFILES
        if after is not None:
            assert after[-1] == p
            chargingprofiles.store(path, items, after)
            items = after
        ids = [q[sc.ID] for q in items]
        places = [(q[sc.LEVEL], q[sc.PURPOSE], q[sc.CONNECTOR]) for q in items]
        assert len(set(ids)) == len(ids) and len(set(places)) == len(places), items
        assert chargingprofiles.load(path) == items  # as flash has them
