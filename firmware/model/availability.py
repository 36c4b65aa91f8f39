# Operative or Inoperative: the charge point as a whole and each connector, kept on flash.
"""    flags = availability.load(state_dir + "/availability.json", connectors)
    flags[0]                                      # the charge point (1.6 connector 0, 2.0.1
                                                  # the station); flags[n] connector / EVSE n
    availability.change(path, flags, 2, False)    # on flash before it returns

A ChangeAvailability survives a reboot or a power cut (1.6 §5.2, 2.0.1 G03.FR.08, G04.FR.09):
the flags are one small atomicfile; a file of another connector count, or a torn one, is
the default (all operative). Functions over plain lists rather than a class: at 96 KiB of
heap a class object of its own is a few hundred bytes.

An Inoperative waits for a running transaction (1.6 §5.2 Scheduled, 2.0.1 G03.FR.05):

    scheduled = [False] * (connectors + 1)       # per connector, 0 the charge point
    availability.set_operative(path, flags, scheduled, model_connectors, n, operative)
    availability.ended(path, flags, scheduled, model_connectors, connector)  # its tx ended

A connector's scheduled Inoperative applies when its transaction ends; the charge point's
makes the idle connectors Inoperative at once (no new session may begin there), each busy one
when its transaction ends, and the charge point itself when the last one has ended: it never
reports Unavailable while a transaction scheduled for still runs. An EVSE is told its
connector's flag (evse.set_available): its relay opens when it goes Inoperative.
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


def set_operative(path, flags, scheduled, connectors, n, operative):
    """Make connector n Operative or Inoperative (0: the charge point and all its
    `connectors`, the model's, from 1): False when done, True when scheduled because a
    transaction runs (applied by ended()), None when there is no such connector."""
    if n == 0:
        targets = connectors
    elif 1 <= n <= len(connectors):
        targets = (connectors[n - 1],)
    else:
        return None
    busy = False
    for c in targets:
        if not operative and c.tx is not None:
            scheduled[c.n] = busy = True
        else:
            scheduled[c.n] = False
            _apply(path, flags, c, operative)
    if n == 0:
        scheduled[0] = busy
        if not busy:
            change(path, flags, 0, operative)
    return busy


def ended(path, flags, scheduled, connectors, c):
    """Connector c's transaction has ended: what was scheduled for it applies now. True when
    something changed."""
    changed = False
    if scheduled[c.n]:
        scheduled[c.n] = False
        _apply(path, flags, c, False)
        changed = True
    if scheduled[0] and not any(x.tx is not None for x in connectors):
        scheduled[0] = False
        change(path, flags, 0, False)
        changed = True
    return changed


def _apply(path, flags, c, operative):
    change(path, flags, c.n, operative)
    c.evse.set_available(operative)
