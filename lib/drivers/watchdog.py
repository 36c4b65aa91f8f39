# The hardware watchdog, fed by the main loop only while every watched task is alive.
"""Watchdog(board, timeout_ms) arms the board's watchdog at once.

    wdt = Watchdog(board, 30000)
    evse_bit = wdt.watch()       # optional: a task that must prove it runs
    ...                          # in that task's loop: wdt.alive(evse_bit)
    wdt.feed()                   # in the main loop; False (not fed) while a watched task is silent

On the ESP32 the watchdog (machine.WDT) cannot be stopped or re-armed once started: it stays
armed through deinit() and soft resets, and only a reset ends it. Feeding only when every
watched task has checked in since the last feed means a dead safety task (the connector tick
that opens the relay) resets the board instead of leaving a closed relay unsupervised.
"""


class Watchdog:
    def __init__(self, board, timeout_ms):
        self.board = board
        self.timeout_ms = timeout_ms
        self._watched = 0  # one bit per watched task
        self._seen = 0  # bits that checked in since the last feed
        board.watchdog_start(timeout_ms)

    def watch(self):
        """A bit for one more task that must call alive(bit) between two feeds."""
        bit = 1
        while self._watched & bit:
            bit <<= 1
        self._watched |= bit
        return bit

    def alive(self, bit):
        self._seen |= bit

    def feed(self):
        """Feed the watchdog if every watched task checked in; True when fed."""
        if (self._seen & self._watched) != self._watched:
            return False
        self._seen = 0
        self.board.watchdog_feed()
        return True
