# OCPP 1.6 Remote Trigger profile (§5.17) and the security whitepaper's ExtendedTriggerMessage:
# each service adds the messages it can send on request.
"""    triggers = RemoteTrigger(connectors=2)
    triggers.add("MeterValues", fn)      # fn(connectorId or None, message, extended)
                                         # -> "Accepted" / "Rejected"
    triggers.add("FirmwareStatusNotification", fn, extended=True)  # ExtendedTriggerMessage's
    triggers.register(session)           # TriggerMessage, ExtendedTriggerMessage

A target schedules its message with session.after_reply (the answer goes out first, §5.17)
and returns the status. ExtendedTriggerMessage asks its own targets first, then those of
TriggerMessage: the Core messages (BootNotification, Heartbeat, MeterValues,
StatusNotification) are the same in both, FirmwareStatusNotification is the signed one there
(L01.FR.28/29). A connectorId this charge point does not have is Rejected; a message nobody
added is NotImplemented. firmware/v201/trigger.py is the 2.0.1 counterpart.
"""

import logger
from ocppj import errors
from ocppj.session import CallTimeout, NotConnected

log = logger.get("cp")  # the charge point's messages, as they were when it sent these


class RemoteTrigger:
    def __init__(self, connectors):
        self.connectors = connectors
        self.targets = {}  # requestedMessage -> fn, for both requests
        self.extended = {}  # ExtendedTriggerMessage's own, asked first

    def add(self, message, fn, extended=False):
        (self.extended if extended else self.targets)[message] = fn

    def register(self, session):
        session.handlers["TriggerMessage"] = self.trigger_message
        session.handlers["ExtendedTriggerMessage"] = self.extended_trigger_message

    def trigger_message(self, p, first=None):
        """`first`: the targets asked before TriggerMessage's (ExtendedTriggerMessage's).
        A target is told the message and whether ExtendedTriggerMessage asked, so that one
        function can serve several (each function object is heap at 96 KiB)."""
        what = p["requestedMessage"]
        fn = first and first.get(what)
        extended = fn is not None
        fn = fn or self.targets.get(what)
        n = p.get("connectorId")
        if n is not None and not 0 <= n <= self.connectors:
            return {"status": "Rejected"}
        if fn is None:
            return {"status": "NotImplemented"}
        return {"status": fn(n, what, extended)}

    def extended_trigger_message(self, p):
        return self.trigger_message(p, self.extended)


async def send_triggered(session, action, payload):
    """A triggered message (allowed while Pending): the answer, or None when it could not be
    delivered (logged)."""
    try:
        return await session.call(action, payload, triggered=True)
    except (errors.CallError, CallTimeout, NotConnected) as e:
        log.warn(action, "not delivered:", repr(e))
