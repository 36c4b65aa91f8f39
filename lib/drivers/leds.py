# The status LED: one LED, four blink patterns, run as an asyncio task.
"""StatusLed shows the charge point's state on the board's one LED.

    led = StatusLed(board)
    asyncio.create_task(led.run())
    led.set("charging")        # "idle", "charging", "fault" or "offline"
    led.deinit()               # run() ends, LED off

A pattern is a tuple of durations in ms, alternately on and off, starting with on; tune them
(and TICK_MS, how often run() looks at the clock) as class variables, e.g.
`StatusLed.FAULT = (100, 100)`.
"""

from ticks import sleep_ms, ticks_diff, ticks_ms


class StatusLed:
    IDLE = (1000, 0)  # steady on: powered, ready
    CHARGING = (1000, 1000)  # slow blink
    FAULT = (150, 150)  # fast blink
    OFFLINE = (100, 200, 100, 1600)  # double flash: no central system
    TICK_MS = 50

    def __init__(self, board, pattern="idle"):
        self.board = board
        self.pattern = None
        self._steps = self.IDLE
        self._start = ticks_ms()
        self._on = None  # the level last written (None: not yet)
        self._running = False
        self.set(pattern)

    def set(self, pattern):
        """Switch to a pattern by name; it starts with its first (on) phase."""
        if pattern == self.pattern:
            return
        if pattern == "idle":
            steps = self.IDLE
        elif pattern == "charging":
            steps = self.CHARGING
        elif pattern == "fault":
            steps = self.FAULT
        elif pattern == "offline":
            steps = self.OFFLINE
        else:
            raise ValueError("unknown LED pattern %r" % (pattern,))
        self.pattern = pattern
        self._steps = steps
        self._start = ticks_ms()

    @staticmethod
    def level(steps, ms):
        """True when a pattern has the LED on at `ms` after its start."""
        period = 0
        for d in steps:
            period += d
        if period <= 0:
            return False
        t = ms % period
        on = True
        for d in steps:
            if t < d:
                return on
            t -= d
            on = not on
        return False

    def update(self, now_ms=None):
        """Write the LED level for now (run() calls this every TICK_MS)."""
        if now_ms is None:
            now_ms = ticks_ms()
        on = self.level(self._steps, ticks_diff(now_ms, self._start))
        if on != self._on:
            self._on = on
            self.board.set_led(on)
        return on

    async def run(self):
        self._running = True
        while self._running:
            self.update()
            await sleep_ms(self.TICK_MS)

    def deinit(self):
        self._running = False
        self._on = False
        self.board.set_led(False)
