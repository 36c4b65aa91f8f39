# SecurityEventNotification (1.6 security whitepaper §4.x, A05/L01): events queued and sent.
"""    security = SecurityEvents(session, board)
    security.event("InvalidFirmwareSignature", "update 7")   # never blocks the caller
    asyncio.create_task(security.run())

Events wait in a small bounded queue (the oldest is dropped when full, and that is logged)
and go out in order once the central system has accepted the boot. Every event is also
logged, so none is lost from the security log even when the queue overflows.
"""

import asyncio

import logger
from ocppj import errors
from ocppj.encoder import Timestamp
from ocppj.session import CallTimeout, NotConnected
from ticks import sleep_ms

MAX_QUEUED = 16

log = logger.get("security")


class SecurityEvents:
    def __init__(self, session, board):
        self.session = session
        self.board = board
        self.queue = []  # [type, seconds since 2000, techInfo or None]
        self._wake = asyncio.Event()

    def event(self, kind, tech_info=None):
        log.warn("security event", kind, tech_info or "")
        if len(self.queue) >= MAX_QUEUED:
            dropped = self.queue.pop(0)
            log.error("security event queue full: dropped", dropped[0])
        self.queue.append([kind, self.board.time_s(), tech_info[:255] if tech_info else None])
        self._wake.set()

    async def run(self):
        while True:
            if not self.queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            kind, at_s, info = self.queue[0]
            payload = {"type": kind, "timestamp": Timestamp(at_s)}
            if info:
                payload["techInfo"] = info
            try:
                await self.session.call("SecurityEventNotification", payload)
                self.queue.pop(0)
            except (errors.CallError, CallTimeout, NotConnected) as e:
                log.warn("SecurityEventNotification not delivered:", repr(e))
                await sleep_ms(5000)
