# Device-test helper: the OCPP 2.0.1 device model and its services on a real RPC session.
"""    rig = Rig(evses=2)                  # DeviceModel in a temp folder, Variables, Reports
    answer = await rig.cs.request("GetVariables", {...})   # our CALLRESULT / CALLERROR frame
    parts = await rig.report()           # the NotifyReport payloads, once tbc is false
    rig.close()

Everything under test is the firmware's own code (ocppj Session and Encoder, the device model
and its services); the far end is a script: it answers each CALL the station sends with
`answer(action, payload)` ([3, payload], [4, code, text, {}] or None for no answer) and keeps
every frame the station sent, as bytes, to check their sizes.
"""

import asyncio
import json

from devtest import rmtree, tempdir
from firmware.v201.devicemodel import DeviceModel
from firmware.v201.reports import Reports
from firmware.v201.variables import Variables
from ocppj.encoder import Encoder
from ocppj.protocol import Protocol
from ocppj.session import Session
from ticks import sleep_ms, ticks_diff, ticks_ms

V201 = Protocol("ocpp2.0.1", "v201")
FRAME_BYTES = 4096
NOW = "2026-12-02T08:22:15Z"


def clock(evse, connector):
    return NOW


class Central:
    def __init__(self, answer):
        self.answer = answer
        self.calls = []  # (action, payload) of every CALL the station sent, in order
        self.frames = []  # every frame the station sent, as bytes
        self.answers = {}  # message id -> our CALLRESULT / CALLERROR frame
        self.session = None
        self.gate = None  # an asyncio.Event: CALLs wait for it before they are answered
        self.on_call = None  # fn(action, payload) while the station's CALL is in flight
        self.keep = True  # False: keep no CALL nor frame (a test that measures the heap)
        self.inline = False  # True: answer within send(), no task per answer (ditto)
        self._n = 0

    async def send(self, buf, n):
        raw = bytes(buf[:n])
        frame = json.loads(raw)
        if self.keep:
            self.frames.append(raw)
        raw = None
        if frame[0] != 2:
            self.answers[frame[1]] = frame
            return
        if self.keep:
            self.calls.append((frame[2], frame[3]))
        if self.on_call is not None:
            self.on_call(frame[2], frame[3])
        reply = self.answer(frame[2], frame[3])
        if reply is not None and self.inline:
            # the session waits for this id already: the answer is taken before it waits
            await self.session.feed(json.dumps([reply[0], frame[1]] + reply[1:]).encode())
        elif reply is not None:
            asyncio.create_task(self._reply(frame[1], reply))

    async def _reply(self, msg_id, reply):
        if self.gate is not None:
            await self.gate.wait()
        await sleep_ms(1)
        await self.session.feed(json.dumps([reply[0], msg_id] + reply[1:]).encode())

    async def request(self, action, payload):
        """A CALL to the station; its answer frame (CALLRESULT or CALLERROR)."""
        self._n += 1
        msg_id = "cs-%d" % self._n
        await self.session.feed(json.dumps([2, msg_id, action, payload]).encode())
        return self.answers.get(msg_id)

    def sent(self, action):
        return [p for a, p in self.calls if a == action]


def enum_of(table, field):
    """The "|a|b|" text of enum `field` anywhere in a generated object table, or None."""
    i = 1
    while i < len(table):
        name, code, arg = table[i], table[i + 1], table[i + 2]
        kind = code & 15
        if kind == 3 and name == field:
            return arg
        if kind == 8 and arg[2] & 15 == 3 and name == field:
            return arg[3]
        inner = arg if kind == 7 else arg[3] if kind == 8 and arg[2] & 15 == 7 else None
        found = enum_of(inner, field) if inner else None
        if found:
            return found
        i += 3
    return None


def accept(action, payload):
    return [3, {}]


class Rig:
    def __init__(self, evses=2, actual=None, fixed=None, max_limits=None, frame=FRAME_BYTES,
                 answer=accept, registration="Accepted", dm_class=DeviceModel):
        self.folder = tempdir()
        self.path = self.folder + "/variables.json"
        if actual is None:
            actual = {}
        actual.setdefault(("ClockCtrlr", "DateTime"), clock)
        self.dm = dm_class(self.path, evses, actual, fixed, max_limits)
        self.cs = Central(answer)
        self.encoder = Encoder(frame)
        self.session = Session(V201, self.encoder, self.cs.send, timeout_ms=500)
        self.cs.session = self.session
        self.session.opened()
        self.session.set_registration(registration)
        self.variables = Variables(self.session, self.dm)
        self.variables.register(self.session)
        self.reports = Reports(self.session, self.dm, frame)
        self.reports.register(self.session)

    def close(self):
        self.session.closed()
        rmtree(self.folder)

    async def until(self, check, ms=5000):
        """check()'s first true result, polled every 10 ms for up to `ms`; None on time-out."""
        start = ticks_ms()
        while True:
            result = check()
            if result:
                return result
            if ticks_diff(ticks_ms(), start) > ms:
                return None
            await sleep_ms(10)

    async def report(self, request_id=None):
        """The NotifyReport payloads (of `request_id`) once the last (tbc false) was sent."""
        def done():
            parts = [p for p in self.cs.sent("NotifyReport")
                     if request_id is None or p["requestId"] == request_id]
            return parts if parts and not parts[-1]["tbc"] else None

        parts = await self.until(done)
        assert parts, "the report was completed: %r" % self.cs.sent("NotifyReport")
        await self.until(lambda: not self.reports.busy)
        return parts


def items(parts):
    """Every ReportData of the parts, in order."""
    out = []
    for p in parts:
        out.extend(p.get("reportData", ()))
    return out


def address(data):
    """(component, evse, connector, variable, instance) of a ReportData."""
    evse = data["component"].get("evse") or {}
    return (data["component"]["name"], evse.get("id"), evse.get("connectorId"),
            data["variable"]["name"], data["variable"].get("instance"))
