# Operative or Inoperative: the charge point as a whole and each connector, kept on flash.
"""    flags = availability.load(state_dir + "/availability.json", connectors)
    flags[0]                                      # the charge point (1.6 connector 0, 2.0.1
                                                  # the station); flags[n] connector / EVSE n
    availability.change(path, flags, 2, False)    # on flash before it returns

A ChangeAvailability survives a reboot or a power cut (1.6 §5.2, 2.0.1 G03.FR.08, G04.FR.09):
the flags are one small atomicfile; a file of another connector count, or a torn one, is
the default (all operative). Two functions over a plain list rather than a class: at 96 KiB
of heap a class object of its own is a few hundred bytes.
"""

import json

import atomicfile

FILE = "availability.json"  # in the state folder


def load(path, connectors):
    raw = atomicfile.read(path)
    try:
        flags = json.loads(raw) if raw else None
    except ValueError:
        flags = None
    if not isinstance(flags, list) or len(flags) != connectors + 1:
        flags = [True] * (connectors + 1)
    return flags


def change(path, flags, n, operative):
    """Set flags[n]; True when this changed it (and the file)."""
    if flags[n] == operative:
        return False
    flags[n] = operative
    atomicfile.write(path, json.dumps(flags))
    return True
