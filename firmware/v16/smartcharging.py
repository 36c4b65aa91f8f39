# OCPP 1.6 Smart Charging: its three requests, and the current limit it sets on every EVSE.
"""The Smart Charging service (OCPP 1.6 §3.13, §5.5, §5.7, §5.16 and the errata): answers
SetChargingProfile, ClearChargingProfile and GetCompositeSchedule, takes the TxProfile of a
RemoteStartTransaction, and drives each connector's offered current through the one place
that decides it, Evse.set_current_limit() (which still takes the lower of that, MaxCurrentA
and the cable's rating; below 6 A nothing is offered).

    smart = SmartCharging(cp.connectors, cp.on_transaction, settings, board.time_s,
                          state_dir + "/charging-profiles", voltage_v=230,
                          phases=3)                       # loads the profiles, applies them
    smart.register(session)
    asyncio.create_task(smart.run())                      # the schedules' period boundaries
    smart.expect(connector, id_tag, charging_profile)     # RemoteStartTransaction's TxProfile

It is made at the first Smart Charging request, or at start-up when profiles are on flash
(firmware/app.py): a charging session without profiles never imports it. Once made, it keeps
only itself and the profiles (tuples of firmware/model/schedule.py: about 64 bytes each, 12 more
per period); firmware/model/schedule.py and firmware/v16/chargingprofiles.py (1.5 KB of RAM while
imported) are imported for each piece of work and forgotten after it. Measured on the frozen
32-bit build: 1.3 KB with four one-period profiles, 2.4 KB with four of 24 periods. The
profiles stay in RAM rather than being read from flash at every boundary: a steady cost, not
a 4-8 KB burst of parsing at whatever moment a period starts (during a firmware download,
say).

When the limits are worked out again: at once after a profile is set or cleared and when a
transaction starts or stops (ChargePoint.on_transaction); otherwise run() looks once a second
whether the clock has reached the next boundary firmware/model/schedule.py named (a period, a
validity or a recurrence starting or ending) or gone back, and only then recomputes.

ChargePointMaxProfile is shared between the connectors that have a transaction: equal
shares, and what one cannot use (its TxProfile/TxDefaultProfile, MaxCurrentA or its cable
allow less) goes to the others; when a share would fall below the 6 A a pilot can offer, the
connector whose transaction started last gets nothing until the others leave room. The
offered currents of the connectors together never exceed the profile's limit (in W: its
current per phase at the installation's voltage and phases).

TxProfile (§3.13.1, §5.16.2, errata 3.41/3.42): only for a transaction running on its
connector; its transactionId, when given, must be that transaction's (the central system's
id once StartTransaction.conf gave it, or the local one before). It is bound to the
transaction's local id, so it stays with the transaction whether or not the central system's
id has arrived, and goes when the transaction ends. RemoteStartTransaction's profile (a
TxProfile without transactionId, checked before the request is accepted) is held for the
transaction that request starts on its connector with its idTag (for ConnectionTimeOut and a
minute more); any other transaction there drops it.

GetCompositeSchedule (§5.7, errata 3.28-3.30, 3.51, 3.57): from now for `duration` s, in the
unit asked for (A when none is), each period's numberPhases given. It is what the charge
point would offer: the connector's profiles, its share of ChargePointMaxProfile with the
transactions running now (as if it charged too), MaxCurrentA and the cable when plugged as
local limits. Connector 0: the total of every connector as if each charged (a transaction
starting now where none runs), within ChargePointMaxProfile. startSchedule is left out, as
errata 3.57 says for this message. At most ChargingScheduleMaxPeriods periods: a longer
schedule is cut and its duration says how far it reaches.
"""

import logger
import unload
from ticks import sleep_ms

log = logger.get("smartcharging")

CHECK_MS = 1000  # how often run() looks at the clock
_PENDING_S = 60  # RemoteStartTransaction's profile waits ConnectionTimeOut and this much more
_STEPS_PER_TURN = 4  # composite schedule steps between two turns of the loop
# Imported for each piece of work, forgotten after it: all the service keeps is the list
WORKERS = ("firmware.v16.chargingprofiles", "firmware.model.schedule")


def _forget():
    unload.forget(*WORKERS)


class SmartCharging:
    def __init__(self, connectors, on_transaction, settings, time_s, path, voltage_v, phases):
        from firmware.v16 import chargingprofiles
        self.connectors = connectors  # the model's, from 1
        self.settings = settings
        self.time_s = time_s  # the board's clock
        self.path = path
        self.volts = voltage_v
        self.phases = phases
        self.items = chargingprofiles.load(path)  # TxProfiles are never on flash
        self._pending = {}  # connector -> (idTag, profile, until_s): RemoteStartTransaction's
        self._limits = [None] * len(connectors)  # what each EVSE was last given
        self._next_s = None  # the next boundary of the schedules in force
        self._applied_s = 0
        on_transaction(self.transaction_changed)  # the charge point's: starts and ends
        self.apply()

    def register(self, session):
        h = session.handlers
        h["SetChargingProfile"] = self.set_charging_profile
        h["ClearChargingProfile"] = self.clear_charging_profile
        h["GetCompositeSchedule"] = self.get_composite_schedule

    def _change(self, items):
        """The new list of profiles: on flash as far as it goes there, and applied."""
        from firmware.v16 import chargingprofiles
        chargingprofiles.store(self.path, self.items, items)
        self.items = items
        self.apply()

    # -- the limits ------------------------------------------------------------------------
    def _local(self, c):
        """The most connector c may offer whatever the profiles say: MaxCurrentA, the cable."""
        most = c.evse.max_deciamps
        cable = c.evse.pilot.cable_deciamps()
        return cable if cable is not None and cable < most else most

    def _members(self):
        """schedule.allocate()'s members: the connectors with a transaction, first started
        first."""
        running = [c for c in self.connectors if c.tx is not None]
        running.sort(key=lambda c: (c.tx.start_s, c.n))
        return [(c.n, c.tx.local_id, c.tx.start_s, self._local(c)) for c in running]

    def apply(self):
        """Work the limits out for now and give them to the EVSEs; note the next boundary."""
        from drivers.pilot import MIN_DECIAMPS
        from firmware.model import schedule
        now = self.time_s()
        members = self._members()
        items = self.items
        out = schedule.allocate(items, now, members, self.volts, self.phases, MIN_DECIAMPS)
        for c in self.connectors:
            limit = None
            for k in range(len(members)):
                if members[k][0] == c.n:
                    limit = out[k][0]
            if limit != self._limits[c.n - 1]:
                self._limits[c.n - 1] = limit
                log.info("connector %d: limit %s" % (
                    c.n, "none" if limit is None else "%d.%d A" % (limit // 10, limit % 10)))
            c.evse.set_current_limit(limit)
        self._next_s = schedule.next_boundary(items, now, members)
        self._applied_s = now
        _forget()

    async def run(self):
        """Recompute when the clock reaches the next boundary (or is set back)."""
        while True:
            await sleep_ms(CHECK_MS)
            now = self.time_s()
            if (self._next_s is not None and now >= self._next_s) or now < self._applied_s:
                self.apply()

    # -- transactions ------------------------------------------------------------------------
    def transaction_changed(self, connector, ended=None):
        """ChargePoint.on_transaction: a transaction started on `connector`, or `ended`."""
        from firmware.v16 import chargingprofiles
        items = self.items
        if ended is not None:
            items = chargingprofiles.end_transaction(items, ended.local_id)
        tx = connector.tx
        pending = self._pending.pop(connector.n, None) if tx is not None else None
        if pending is not None:  # this start is RemoteStartTransaction's, or it is too late
            from firmware.model.connector import same_tag
            tag, profile, until_s = pending
            now = self.time_s()
            if same_tag(tag, tx.id_tag) and now <= until_s:
                installed = chargingprofiles.install(items, chargingprofiles.bind(
                    profile, tx.local_id), now)
                if installed is None:
                    log.warn("RemoteStartTransaction's TxProfile not installed: "
                             "MaxChargingProfilesInstalled reached")
                else:
                    items = installed
        self.items = items  # TxProfiles only: nothing on flash changes
        self.apply()

    def expect(self, connector, id_tag, payload):
        """RemoteStartTransaction's chargingProfile for the transaction it will start on
        `connector` for `id_tag`: "Accepted", or "Rejected" (not a TxProfile, a
        transactionId set, or a profile SetChargingProfile would reject)."""
        if payload["chargingProfilePurpose"] != "TxProfile" or "transactionId" in payload:
            reason = "a TxProfile without transactionId is wanted"
        else:
            from firmware.v16.chargingprofiles import parse
            profile = parse(connector, payload)
            _forget()
            if not isinstance(profile, str):
                until = (self.time_s() + self.settings.get("ConnectionTimeOut")
                         + _PENDING_S)
                self._pending[connector] = (id_tag, profile, until)
                return "Accepted"
            reason = profile
        log.warn("RemoteStartTransaction's chargingProfile rejected:", reason)
        return "Rejected"

    # -- the central system's requests -------------------------------------------------------
    def _connector_known(self, n):
        return 0 <= n <= len(self.connectors)

    def set_charging_profile(self, p):
        n = p["connectorId"]
        if not self._connector_known(n):  # errata 3.39
            from ocppj import errors
            raise errors.CallError(errors.PROPERTY_CONSTRAINT_VIOLATION,
                                   "connectorId %d unknown" % n)
        payload = p["csChargingProfiles"]
        purpose = payload["chargingProfilePurpose"]
        tx = None
        reason = None
        if purpose == "ChargePointMaxProfile" and n:
            reason = "ChargePointMaxProfile is for connector 0 only"
        elif purpose == "TxProfile":
            running = self.connectors[n - 1].tx if n else None
            wanted = payload.get("transactionId")
            if running is None:
                reason = "TxProfile without a transaction on connector %d" % n
            elif wanted is not None and wanted != running.server_id and wanted != running.local_id:
                reason = "transaction %d does not run on connector %d" % (wanted, n)
            else:
                tx = running.local_id
        if reason is None:
            from firmware.v16 import chargingprofiles
            profile = chargingprofiles.parse(n, payload, tx)
            if isinstance(profile, str):
                reason = profile
            else:
                items = chargingprofiles.install(self.items, profile, self.time_s())
                if items is None:
                    reason = "MaxChargingProfilesInstalled reached"
                else:
                    self._change(items)
        _forget()
        if reason is not None:
            log.warn("SetChargingProfile rejected:", reason)
            return {"status": "Rejected"}
        return {"status": "Accepted"}

    def clear_charging_profile(self, p):
        from firmware.v16 import chargingprofiles
        items = chargingprofiles.clear(self.items, p.get("id"), p.get("connectorId"),
                                       p.get("chargingProfilePurpose"), p.get("stackLevel"))
        if len(items) == len(self.items):
            _forget()
            return {"status": "Unknown"}
        self._change(items)
        return {"status": "Accepted"}

    async def get_composite_schedule(self, p):
        n = p["connectorId"]
        duration = p["duration"]
        if not self._connector_known(n) or duration < 0:
            return {"status": "Rejected"}
        from drivers.pilot import MIN_DECIAMPS
        from firmware.model.schedule import Composite
        from firmware.v16.settings import MAX_PERIODS
        from ocppj.encoder import Decimal, Timestamp
        watts = p.get("chargingRateUnit") == "W"
        now = self.time_s()
        members = self._members()
        index = -1
        for c in self.connectors:  # who else joins, as a transaction starting now
            if c.tx is None and n in (0, c.n):
                members.append((c.n, None, now, self._local(c)))
        if n:
            index = [m[0] for m in members].index(n)
        walk = Composite(list(self.items), now, duration, members, index,
                         self.volts, self.phases, MIN_DECIAMPS, MAX_PERIODS, watts)
        _forget()  # the walk holds what it needs
        steps = 0
        while walk.step():
            steps += 1
            if steps % _STEPS_PER_TURN == 0:
                await sleep_ms(0)
        q = walk.periods
        periods = []
        for i in range(0, len(q), 3):
            periods.append({"startPeriod": q[i], "limit": Decimal(q[i + 1], 1),
                            "numberPhases": q[i + 2]})
        return {"status": "Accepted", "connectorId": n, "scheduleStart": Timestamp(now),
                "chargingSchedule": {"duration": walk.duration,
                                     "chargingRateUnit": "W" if watts else "A",
                                     "chargingSchedulePeriod": periods}}
