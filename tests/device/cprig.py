# Device-test helper: a real ChargePoint on a real SimBoard, with a scripted central system.
"""    rig = Rig(connectors=2, answer=lambda action, payload: [3, {}])
    rig.start()                                   # the control loop and the journal's sender
    rig.board.sim[0].plug()                       # the simulated EV
    await rig.until(lambda: rig.statuses(1))      # wait (real time) for what the firmware sent
    answer = await rig.cs.request("RemoteStopTransaction", {"transactionId": 1})
    rig.close()

Everything under test is the firmware's own code (session, journal, delivery, charge point,
connectors, Evse, the simulated board); only the far end of the link is a script. `answer`
gives the reply to each CALL the charge point sends: [3, payload] a CALLRESULT,
[4, code, text, {}] a CALLERROR, None no answer.
"""

import asyncio
import json

from devtest import rmtree, tempdir
from firmware.v16.authcache import AuthCache
from firmware.v16.authorize import Authorizer
from firmware.sim.board import SimBoard
from firmware.v16.chargepoint import ChargePoint
from firmware.v16.core import Core
from firmware.v16.remotetrigger import RemoteTrigger
from firmware.v16.settings import Settings
from firmware.v16.txmessages import TxMessages
from ocppj.delivery import Delivery
from ocppj.encoder import Encoder
from ocppj.journal import Journal
from ocppj.protocol import V16
from ocppj.session import Session
from ticks import sleep_ms, ticks_diff, ticks_ms

FRAME_BYTES = 4096


def accept_all(action, payload):
    if action == "StartTransaction":
        return [3, {"transactionId": 7, "idTagInfo": {"status": "Accepted"}}]
    if action == "Authorize":
        return [3, {"idTagInfo": {"status": "Accepted"}}]
    if action == "StopTransaction":
        return [3, {"idTagInfo": {"status": "Accepted"}}] if "idTag" in payload else [3, {}]
    return [3, {}]


def answers_with_parents(parents):
    """accept_all, with the parentIdTag `parents` names for an idTag in the IdTagInfo of
    Authorize and StartTransaction answers (the group of a card, §3.10)."""
    def answer(action, payload):
        if action in ("Authorize", "StartTransaction"):
            info = {"status": "Accepted"}
            parent = parents.get(payload["idTag"])
            if parent:
                info["parentIdTag"] = parent
            if action == "Authorize":
                return [3, {"idTagInfo": info}]
            return [3, {"transactionId": 7, "idTagInfo": info}]
        return accept_all(action, payload)
    return answer


class Central:
    """The far end of the link: answers our CALLs by script, sends its own, keeps both."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []  # (action, payload) of every CALL the charge point sent, in order
        self.answers = {}  # message id -> our CALLRESULT / CALLERROR frame
        self.session = None
        self.delays = {}  # action -> ms before its answer (a slow central system)
        self._n = 0

    async def send(self, buf, n):
        frame = json.loads(bytes(buf[:n]))
        if frame[0] != 2:
            self.answers[frame[1]] = frame
            return
        self.calls.append((frame[2], frame[3]))
        reply = self.answer(frame[2], frame[3])
        if reply is not None:
            asyncio.create_task(self._reply(frame[1], reply, self.delays.get(frame[2], 1)))

    async def _reply(self, msg_id, reply, delay_ms):
        await sleep_ms(delay_ms)
        await self.session.feed(json.dumps([reply[0], msg_id] + reply[1:]).encode())

    async def request(self, action, payload):
        """A CALL to the charge point; its answer frame (CALLRESULT or CALLERROR)."""
        self._n += 1
        msg_id = "cs-%d" % self._n
        await self.session.feed(json.dumps([2, msg_id, action, payload]).encode())
        return self.answers.get(msg_id)

    def sent(self, action):
        return [p for a, p in self.calls if a == action]


def charge_point(board, session, settings, attempts=1, reservations=None):
    """A ChargePoint of `board` on `session` wired as firmware/v16/start.py wires it: its
    journal, the delivery of its transaction messages (`attempts` per message) with their
    answers, the authorizer and its cache. The delivery is cp.messages.delivery."""
    journal = Journal(board.state_dir + "/journal", max_record_bytes=FRAME_BYTES - 256)
    delivery = Delivery(journal, session, lambda: attempts, lambda: 1,
                        lambda record, answer: messages.answered(record, answer))
    authorizer = Authorizer(session, settings, AuthCache(board.state_dir), board.time_s)
    messages = TxMessages(settings, journal, delivery, authorizer, reservations)
    return ChargePoint(board, settings, session, messages, authorizer,
                       reservations=reservations)


class Rig:
    def __init__(self, connectors=1, answer=accept_all, registration="Accepted", connected=True,
                 config=None, reservations=False, settings_class=Settings):
        self.board = SimBoard({"connectors": connectors, "sim": {"controlPort": 1}},
                              state_dir=tempdir())
        self.cs = Central(answer)
        self.session = Session(V16, Encoder(FRAME_BYTES), self.cs.send, timeout_ms=500)
        self.cs.session = self.session
        if connected:
            self.session.opened()
        if registration:
            self.session.set_registration(registration)
        self.settings = settings_class(self.board.state_dir, connectors, "Core")
        for key, value in (config or {}).items():
            assert self.settings.change(key, value) == "Accepted", (key, value)
        self.reservations = None
        if reservations:  # the application's lazy reservation service (firmware/v16/start.py)
            from firmware.v16 import start
            from lazy import LazyService
            self.reservations = LazyService(self.session, start.RESERVATION_ACTIONS, lambda: (
                start.make_reservations(self.cp, self.session, self.board.state_dir)))
        self.cp = charge_point(self.board, self.session, self.settings, attempts=2,
                               reservations=self.reservations)
        messages = self.cp.messages
        self.journal, self.delivery = messages.journal, messages.delivery
        self.authorizer = self.cp.authorizer
        self.cache = self.authorizer.cache
        self.triggers = RemoteTrigger(connectors)
        self.triggers.register(self.session)
        self.core = Core(self.cp)
        self.core.register(self.session)
        self.triggers.add("StatusNotification", self.cp.status.trigger)
        self.triggers.add("MeterValues", self.core.trigger_meter_values)
        self.tasks = []

    def start(self):
        """The control loop and the journal's sender, in real time."""
        self.tasks = [asyncio.create_task(self.cp.run()), asyncio.create_task(self.delivery.run())]

    def close(self):
        self.delivery.stop()  # its run ends at its next step even if a cancel were lost
        for t in self.tasks:
            t.cancel()
        self.session.closed()
        rmtree(self.board.state_dir)

    async def until(self, check, ms=3000):
        """check()'s first true result, polled every 20 ms for up to `ms`; None on time-out."""
        start = ticks_ms()
        while True:
            result = check()
            if result:
                return result
            if ticks_diff(ticks_ms(), start) > ms:
                return None
            await sleep_ms(20)

    def statuses(self, n=None):
        """The statuses sent in StatusNotifications (of connector n), in order."""
        return [p["status"] for p in self.cs.sent("StatusNotification")
                if n is None or p["connectorId"] == n]

    def plug(self, connector=1):
        """Plug an EV in and let the pilot settle (hand-run ticks, about a second of them)."""
        self.board.sim[connector - 1].plug()
        c = self.cp.connectors[connector - 1]
        t = ticks_ms()
        for i in range(10):
            c.evse.tick(t + i * 100)
        assert c.evse.plugged, "the EV is seen"

    def records(self, action=None):
        """The payloads of the journal's live records (of `action`), oldest first."""
        try:
            return [r.payload for r in self.journal.records() if action in (None, r.action)]
        except OSError:  # nothing written yet
            return []
