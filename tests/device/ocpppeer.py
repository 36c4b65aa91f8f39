# Device-test helper: the far end of an RPC session, answering our CALLs from a script.
"""    peer, session = connect([[3, {}], None, [4, "SecurityError", "no", {}]])
    # each of our CALLs takes the next reply: [3, payload] a CALLRESULT, [4, code, text, {}]
    # a CALLERROR, None no answer at all; peer.sent holds every frame we sent (parsed)
"""

import asyncio
import json

from ocppj.encoder import Encoder
from ocppj.protocol import V16
from ocppj.session import Session


class Peer:
    def __init__(self, replies):
        self.replies = list(replies)
        self.sent = []
        self.calls = self.sent
        self.session = None

    async def send(self, buf, n):
        frame = json.loads(bytes(buf[:n]))
        self.sent.append(frame)
        reply = self.replies.pop(0) if self.replies else None
        if reply is not None:
            asyncio.create_task(self.answer(frame[1], reply))

    async def answer(self, msg_id, reply):
        await asyncio.sleep(0)
        await self.session.feed(json.dumps([reply[0], msg_id] + reply[1:]).encode())


def connect(replies, connected=True, registration=None, timeout_ms=300, buffer=1024):
    """(peer, session): a session over a scripted peer."""
    peer = Peer(replies)
    session = Session(V16, Encoder(buffer), peer.send, timeout_ms=timeout_ms)
    peer.session = session
    if connected:
        session.opened()
    if registration:
        session.set_registration(registration)
    return peer, session
