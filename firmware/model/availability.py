# Operative or Inoperative: the charge point as a whole and each connector, kept on flash.
"""    availability = Availability(state_dir + "/availability.json", connectors)
    availability.operative(0)        # the charge point (1.6 connector 0, 2.0.1 the station)
    availability.set(2, False)       # connector / EVSE 2 Inoperative, on flash before it returns

A ChangeAvailability survives a reboot or a power cut (1.6 §5.2, 2.0.1 G03.FR.08, G04.FR.09):
the flags are one small atomicfile; a file of another connector count, or a torn one, is
the default (all operative).
"""

import json

import atomicfile


class Availability:
    def __init__(self, path, connectors):
        self.path = path
        raw = atomicfile.read(path)
        try:
            flags = json.loads(raw) if raw else None
        except ValueError:
            flags = None
        if not isinstance(flags, list) or len(flags) != connectors + 1:
            flags = [True] * (connectors + 1)
        self.flags = flags

    def operative(self, n):
        return self.flags[n]

    def set(self, n, operative):
        """True when this changed the flag (and the file)."""
        if self.flags[n] == operative:
            return False
        self.flags[n] = operative
        atomicfile.write(self.path, json.dumps(self.flags))
        return True
