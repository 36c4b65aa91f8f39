# OCPP 2.0.1 TriggerMessage (F06): each service adds the messages it can send on request.
"""    triggers = Triggers(session, evses=2)
    triggers.add("Heartbeat", lambda evse: ...)   # fn(evse id or None) -> "Accepted"/"Rejected"
    triggers.register(session)

A target schedules its message with session.after_reply (F06.FR.04: the answer first) and
returns the status; a message nobody added is NotImplemented (F06.FR.08); an evse that does
not exist is Rejected.
"""


class Triggers:
    def __init__(self, session, evses):
        self.session = session
        self.evses = evses
        self.targets = {}

    def add(self, message, fn):
        self.targets[message] = fn

    def trigger(self, p):
        fn = self.targets.get(p["requestedMessage"])
        if fn is None:
            return {"status": "NotImplemented"}
        evse = p.get("evse")
        n = evse["id"] if evse is not None else None
        if n is not None and not 0 <= n <= self.evses:
            return {"status": "Rejected"}
        return {"status": fn(n or None)}  # evse 0: the station, i.e. all (F06.FR.11)

    def register(self, session):
        session.handlers["TriggerMessage"] = self.trigger
