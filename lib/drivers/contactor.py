# The contactor (relay) of one connector: command it, and compare the feedback with the command.
"""Contactor with feedback.

    relay = Contactor(board, 1)   # commands the relay open at once
    relay.close()                 # only firmware/model/evse.py calls this, under relay_may_close()
    relay.open()
    relay.check()                 # None, WELDED or STUCK_OPEN

The feedback may lag the command while the contacts move (and an AC-sensing feedback input
filters for a few mains periods), so a disagreement becomes a fault only after settle_ms:
WELDED when the feedback says closed while the relay is commanded open, STUCK_OPEN when it
says open while commanded closed. `mismatched` is the disagreement right now, before settle_ms:
never close onto contacts that already read closed.
"""

from ticks import ticks_diff, ticks_ms

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

WELDED = "welded"
STUCK_OPEN = "stuck_open"
SETTLE_MS = const(500)


class Contactor:
    def __init__(self, board, connector, settle_ms=SETTLE_MS):
        self.board = board
        self.connector = connector
        self.settle_ms = settle_ms
        self.closed = False  # the command, not the feedback
        self.mismatched = False  # feedback disagreed with the command at the last check()
        self._since = 0  # when the present disagreement was first seen
        board.set_relay(connector, False)

    def close(self):
        if not self.closed:
            self.closed = True
            self.mismatched = False  # the settle time starts again with the new command
            self.board.set_relay(self.connector, True)

    def open(self):
        if self.closed:
            self.closed = False
            self.mismatched = False
            self.board.set_relay(self.connector, False)
        else:
            # Open again anyway: cheap, and the safe direction never depends on our memory.
            self.board.set_relay(self.connector, False)

    def feedback(self):
        """True when the feedback says the contacts are closed."""
        return self.board.relay_feedback(self.connector)

    def check(self, now_ms=None):
        """None while feedback and command agree (or have disagreed for less than settle_ms),
        else WELDED or STUCK_OPEN."""
        fb = self.board.relay_feedback(self.connector)
        if fb == self.closed:
            self.mismatched = False
            return None
        if now_ms is None:
            now_ms = ticks_ms()
        if not self.mismatched:
            self.mismatched = True
            self._since = now_ms
            # A disagreement seen for the first time is not yet a fault, unless settle_ms is 0.
        if ticks_diff(now_ms, self._since) < self.settle_ms:
            return None
        return WELDED if fb else STUCK_OPEN
