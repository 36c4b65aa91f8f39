# The arithmetic of OCPP 1.6 Smart Charging: limits at a time from a stack of profiles. Pure.
"""Which limit the installed charging profiles set at a given second, when that can next
change, how ChargePointMaxProfile is shared, and the composite schedule over a time window.
No I/O and no clock: times are integers (seconds since 2000-01-01 UTC) passed in, limits are
integers in tenths of the profile's unit (0.1 A or 0.1 W), so the same arithmetic runs on
MicroPython (single-precision floats on the ESP32) and CPython, and tests can compare it
second by second with a reference model (tests/test_schedule_props.py).

    i = period_at(p, t, ref)                 # index in p of the period in force, -1: none
    t2 = next_change(p, t, ref)              # when that may change next (None: never)
    grants = allocate(profiles, t, members, 230, 3, 60)
    c = Composite(profiles, start, 3600, members, 0, 230, 3, 60, 24, False)
    while c.step(): pass                     # c.periods: [offset_s, limit, phases, ...]

A profile is a tuple (made from the OCPP ChargingProfile by firmware/v16/chargingprofiles.py):
the fields at the indices below, then its periods, three items each: startPeriod (s),
limit (tenths), numberPhases (None: not given). None stands for an absent optional field.

When a profile is in force at t (OCPP 1.6 §3.13, §5.16, errata 3.43/3.44/3.78):
- validFrom <= t < validTo (either may be absent);
- its schedule has started: Absolute at startSchedule (without one, like Relative), Relative
  at `ref` (the start of the transaction it limits; None: t itself, so the first period
  applies at any time), Recurring at startSchedule + k * 24 h (Daily) or 7 days (Weekly);
- t - start < duration when one is given; a Recurring one ends with its recurrence period
  at the latest (the periods beyond it are never executed).
The period in force is the last one whose startPeriod has passed. Within one purpose the
profile in force with the highest stackLevel prevails (§3.13.2); one out of force (before
its start, past its duration or validTo) falls back to the lower levels.

Purposes (§3.13.1, §3.13.3): a connector's limit is its TxProfile for its transaction, if one
is in force, else its TxDefaultProfile: the connector's own, or, when none of those is in
force, connector 0's. ChargePointMaxProfile limits the charge point as a whole: share()
splits it between the connectors that charge.

Units (§7.12): W is the total power; current per phase = W / (voltage * phases), rounded
down, where phases is the period's numberPhases but never more than the installation has
(errata 3.34: the limit stays as given for the phases that can be used), else the
installation's number of phases. minChargingRate is kept, not used.
"""

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

# A profile tuple: these fields, then the periods from PERIODS on (start, limit, phases).
ID = const(0)  # chargingProfileId
CONNECTOR = const(1)  # connectorId of its SetChargingProfile (0: the charge point)
PURPOSE = const(2)  # CP_MAX, TX_DEFAULT or TX
LEVEL = const(3)  # stackLevel
KIND = const(4)  # ABSOLUTE, RECURRING or RELATIVE
RECUR = const(5)  # the recurrence period in s (DAY or WEEK; 0: not Recurring)
FROM = const(6)  # validFrom (s) or None
TO = const(7)  # validTo (s) or None
START = const(8)  # startSchedule (s) or None
DURATION = const(9)  # duration (s) or None
UNIT_W = const(10)  # True: chargingRateUnit W, False: A
MIN_RATE = const(11)  # minChargingRate in tenths, or None
TX = const(12)  # TxProfile: the local id of its transaction (connector.Transaction.local_id)
PERIODS = const(13)

CP_MAX = const(0)
TX_DEFAULT = const(1)
TX_PROFILE = const(2)

ABSOLUTE = const(0)
RECURRING = const(1)
RELATIVE = const(2)

DAY = const(86400)
WEEK = const(604800)


def _start(p, t, ref):
    """When the schedule of p that t falls in (or the next one) starts."""
    start = p[START]
    kind = p[KIND]
    if kind == RECURRING:
        if t < start:
            return start
        r = p[RECUR]
        return start + (t - start) // r * r
    if kind == ABSOLUTE and start is not None:
        return start
    return t if ref is None else ref


def _length(p):
    """How long one run of the schedule lasts (None: for ever)."""
    d = p[DURATION]
    if p[KIND] == RECURRING:
        r = p[RECUR]
        if d is None or d > r:
            return r
    return d


def period_at(p, t, ref):
    """The index in p of the period in force at t, or -1 when p is not in force then. `ref`
    is the start of a Relative schedule (None: t, the first period)."""
    v = p[FROM]
    if v is not None and t < v:
        return -1
    v = p[TO]
    if v is not None and t >= v:
        return -1
    s = _start(p, t, ref)
    if t < s:
        return -1
    o = t - s
    end = _length(p)
    if end is not None and o >= end:
        return -1
    i = PERIODS
    last = len(p) - 3
    while i < last and p[i + 3] <= o:
        i += 3
    return i


def _sooner(best, v, t):
    return v if v > t and (best is None or v < best) else best


def next_change(p, t, ref):
    """The first time after t at which period_at(p, ., ref) may differ from its value at t;
    None when it never does."""
    best = None
    v = p[FROM]
    if v is not None:
        best = _sooner(best, v, t)
    v = p[TO]
    if v is not None:
        best = _sooner(best, v, t)
    kind = p[KIND]
    if ref is None and (kind == RELATIVE or (kind == ABSOLUTE and p[START] is None)):
        return best  # always at its first period
    s = _start(p, t, ref)
    if t < s:
        return _sooner(best, s, t)
    o = t - s
    end = _length(p)
    i = PERIODS
    n = len(p)
    while i < n:
        if p[i] > o:  # the next period, unless the run ends first
            if end is None or p[i] < end:
                best = _sooner(best, s + p[i], t)
            break
        i += 3
    if end is not None:
        best = _sooner(best, s + end, t)
    if kind == RECURRING:
        best = _sooner(best, s + p[RECUR], t)
    return best


def prevailing(profiles, t, ref, purpose, connector, tx=None):
    """(profile, period index) of the highest stack level in force at t among the profiles
    of `purpose` set for `connector` (TxProfiles: of transaction `tx`); (None, -1): none."""
    best = None
    best_i = -1
    for p in profiles:
        if p[PURPOSE] != purpose or p[CONNECTOR] != connector:
            continue
        if purpose == TX_PROFILE and p[TX] != tx:
            continue
        if best is not None and p[LEVEL] <= best[LEVEL]:
            continue
        i = period_at(p, t, ref)
        if i >= 0:
            best = p
            best_i = i
    return best, best_i


def amps(p, i, volts, phases):
    """(limit in 0.1 A, phases used) of period i of p (see Units above)."""
    ph = p[i + 2]
    if ph is None or ph > phases:
        ph = phases
    limit = p[i + 1]
    if p[UNIT_W]:
        limit = limit // (volts * ph)  # 0.1 W / V = 0.1 A
    return limit, ph


def connector_limit(profiles, t, n, tx, ref, volts, phases):
    """(limit in 0.1 A or None: no profile limits it, phases) of connector n at t, running
    transaction `tx` (None: none) that started at `ref`: its TxProfile, else its own
    TxDefaultProfile, else connector 0's."""
    p, i = prevailing(profiles, t, ref, TX_PROFILE, n, tx) if tx is not None else (None, -1)
    if p is None:
        p, i = prevailing(profiles, t, ref, TX_DEFAULT, n)
    if p is None:
        p, i = prevailing(profiles, t, ref, TX_DEFAULT, 0)
    if p is None:
        return None, phases
    return amps(p, i, volts, phases)


def charge_point_limit(profiles, t, volts, phases):
    """The ChargePointMaxProfile's limit at t in 0.1 A, or None. It has no transaction of
    its own: a Relative one stays at its first period."""
    p, i = prevailing(profiles, t, None, CP_MAX, 0)
    if p is None:
        return None
    return amps(p, i, volts, phases)[0]


def share(total, wants, least):
    """Split `total` (0.1 A per phase) between connectors that want at most wants[i] each,
    listed first come first served. Equal shares, and what one does not want goes to the
    others (water-filling). A share below `least` (6 A: the pilot offers nothing less) helps
    nobody: then the last in the list gets 0 and the rest share again. A connector that wants
    less than `least` cannot charge: it keeps its want and takes nothing from the others. So
    the grants of at least `least` never add up to more than `total`."""
    grants = list(wants)
    members = [i for i in range(len(wants)) if wants[i] >= least]
    while members:
        order = sorted(members, key=lambda i: wants[i])
        rest = total
        k = len(order)
        for j in range(k):
            i = order[j]
            g = rest // (k - j)
            if wants[i] < g:
                g = wants[i]
            grants[i] = g
            rest -= g
        if grants[order[0]] >= least:  # the smallest grant: every one is enough
            break
        grants[members.pop()] = 0  # the last to come gives way
    return grants


def allocate(profiles, t, members, volts, phases, least):
    """The limits of the connectors in `members` at t: a list of [0.1 A or None (no limit
    from the profiles), phases], one per member. members: (n, tx, ref, local) each, first
    come first served, `local` the most the connector may offer anyway (MaxCurrentA, cable).
    With a ChargePointMaxProfile in force it is shared between them (share())."""
    out = []
    wants = []
    for n, tx, ref, local in members:
        limit, ph = connector_limit(profiles, t, n, tx, ref, volts, phases)
        out.append([limit, ph])
        wants.append(local if limit is None or limit > local else limit)
    cap = charge_point_limit(profiles, t, volts, phases)
    if cap is not None:
        grants = share(cap, wants, least)
        for i in range(len(out)):
            out[i][0] = grants[i]
    return out


def _applies(p, n, tx):
    purpose = p[PURPOSE]
    if purpose == TX_PROFILE:
        return p[CONNECTOR] == n and p[TX] == tx and tx is not None
    return purpose == CP_MAX or p[CONNECTOR] == 0 or p[CONNECTOR] == n


def next_boundary(profiles, t, members):
    """The first time after t at which allocate() for `members` may change; None: never."""
    best = None
    for p in profiles:
        if p[PURPOSE] == CP_MAX:
            v = next_change(p, t, None)
            if v is not None and (best is None or v < best):
                best = v
            continue
        for n, tx, ref, _ in members:
            if _applies(p, n, tx):
                v = next_change(p, t, ref)
                if v is not None and (best is None or v < best):
                    best = v
    return best


class Composite:
    """The composite schedule (§5.7, errata 3.28-3.30) from `start` for `duration` s, walked
    one boundary per step(), so its caller can give the loop a turn between steps.

    `index` is the member whose limits are wanted, or -1 for the charge point as a whole:
    the sum of the members' limits. A member without any limit from the profiles gets its
    `local` maximum. `periods` is [offset_s, limit (0.1 A, or 0.1 W with `watts`), phases,
    ...], equal neighbours merged; at most `max_periods` of them: a longer schedule is cut
    and `duration` says how far it reaches. At most 8 * max_periods steps likewise."""

    def __init__(self, profiles, start, duration, members, index, volts, phases, least,
                 max_periods, watts):
        self.profiles = profiles
        self.start = start
        self.duration = duration
        self.members = members
        self.index = index
        self.volts = volts
        self.phases = phases
        self.least = least
        self.max_periods = max_periods
        self.watts = watts
        self.periods = []
        self._t = start
        self._steps = 8 * max_periods

    def _value(self, t):
        out = allocate(self.profiles, t, self.members, self.volts, self.phases, self.least)
        total = 0
        ph = self.phases
        for k in range(len(out)):
            if self.index >= 0 and k != self.index:
                continue
            limit, ph_k = out[k]
            local = self.members[k][3]
            if limit is None or limit > local:
                limit = local
            if self.index >= 0:
                ph = ph_k
            total += limit * self.volts * ph_k if self.watts else limit
        return total, ph

    def step(self):
        """One more period (or the end); False once the schedule is complete."""
        t = self._t
        end = self.start + self.duration
        if self._steps <= 0 or (t >= end and self.periods):
            if t < end:
                self.duration = t - self.start  # cut: it reaches this far
            return False
        self._steps -= 1
        limit, ph = self._value(t)
        periods = self.periods
        if not periods or periods[-2] != limit or periods[-1] != ph:
            if len(periods) >= 3 * self.max_periods:
                self.duration = t - self.start
                return False
            periods.append(t - self.start)
            periods.append(limit)
            periods.append(ph)
        nxt = next_boundary(self.profiles, t, self.members)
        self._t = end if nxt is None or nxt > end else nxt
        return self._t < end
