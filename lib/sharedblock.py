# The firmware's one 4 KiB block buffer, allocated once at start-up and lent to one user at a time.
"""Every large transient job of the firmware needs one flash block of RAM: the image check of
the running slot at boot, a firmware download (the HTTP reads land in the OTA writer's block),
a diagnostics upload (the log snapshot it sends). In a small heap that has been fragmented for
hours a fresh 4 KiB piece often cannot be found even with enough bytes free, so the
application allocates this block first thing in main() and passes it to whoever needs it:

    block = SharedBlock()                           # app.main(), before anything else
    buf = await block.take("upload", 300000)        # waits while someone else has it
    try:
        ...                                         # buf: the bytearray, BLOCK bytes
    finally:
        block.give()
    buf = block.borrow("image check")               # synchronous: BlockBusy when lent out
    buf = block.lend("certificate check")           # or None when lent out: do without it

Rules: one holder at a time; the holder gives it back when done (try/finally) and keeps no
reference to it afterwards. take() waits, polling every 100 ms, up to `timeout_ms` (None:
for ever) and then raises BlockBusy naming the holder: the caller decides what that means
(a diagnostics upload waits for a firmware download up to a bound, then that attempt fails).
borrow() never waits: it is for synchronous code (the image check at boot), which must not
run while the block is lent.
"""

from ticks import sleep_ms, ticks_diff, ticks_ms

BLOCK = 4096
_POLL_MS = 100


class BlockBusy(Exception):
    """The block is lent to someone else (and take() waited as long as it was allowed)."""


class SharedBlock:
    def __init__(self, size=BLOCK):
        self.buf = bytearray(size)
        self.holder = None  # who has it (a short text, for errors and logs), None when free

    def borrow(self, who):
        """The buffer, lent to `who` until give(); BlockBusy when someone else has it."""
        if self.holder is not None:
            raise BlockBusy("the block buffer %s needs is in use by %s" % (who, self.holder))
        self.holder = who
        return self.buf

    def lend(self, who):
        """borrow(), or None when someone else has the buffer: for work that can make its
        own (an ECDSA check's workspace)."""
        if self.holder is not None:
            return None
        return self.borrow(who)

    async def take(self, who, timeout_ms=None):
        """borrow(), waiting while someone else has the buffer: at most timeout_ms (None: no
        limit), then BlockBusy."""
        start = ticks_ms()
        while self.holder is not None:
            if timeout_ms is not None and ticks_diff(ticks_ms(), start) >= timeout_ms:
                raise BlockBusy("the block buffer %s needs was in use by %s for %d s"
                                % (who, self.holder, timeout_ms // 1000))
            await sleep_ms(_POLL_MS)
        return self.borrow(who)

    def give(self):
        """Give the buffer back (its holder, once done with it)."""
        self.holder = None
