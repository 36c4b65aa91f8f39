# Why the firmware started: the OCPP 2.0.1 BootReason, kept ready from the reset cause.
"""A deliberate restart writes its reason first (`record("RemoteReset")` before a Reset.req
reboot, `record("FirmwareUpdate")` before rebooting into a new image); at start-up
`take(state_dir, reset_cause)` returns that reason once, or derives one from the board's
reset cause (power-up, watchdog, ...).

`await restart(board, "RemoteReset", close_link, hard)` is the Reset of either version:
the reason recorded, the WebSocket closed with its close handshake (1000, at most CLOSE_MS:
not a dropped socket, 1006), then the board reset.
"""

import asyncio
import os

import atomicfile
import logger
from firmware.board import base

CLOSE_MS = 4000  # the WebSocket's close handshake, at most, before a restart

REASONS = ("ApplicationReset", "FirmwareUpdate", "LocalReset", "PowerUp", "RemoteReset",
           "ScheduledReset", "Triggered", "Unknown", "Watchdog")
_BY_CAUSE = {base.RESET_POWER_ON: "PowerUp", base.RESET_WATCHDOG: "Watchdog",
             base.RESET_HARD: "LocalReset", base.RESET_SOFT: "ApplicationReset",
             base.RESET_DEEPSLEEP: "PowerUp"}


def _path(state_dir):
    return state_dir + "/boot_reason"


def record(state_dir, reason):
    """Note why we are about to restart (one of REASONS)."""
    atomicfile.write(_path(state_dir), reason)


def take(state_dir, reset_cause):
    """The reason for this start; a recorded one is used once."""
    raw = atomicfile.read(_path(state_dir))
    if raw is not None:
        os.remove(_path(state_dir))
        reason = raw.decode()
        if reason in REASONS:
            return reason
    return _BY_CAUSE.get(reset_cause, "Unknown")


async def restart(board, reason, close_link=None, hard=True):
    """Record `reason`, close the link cleanly (close_link: async fn, WsClient.close), reset."""
    record(board.state_dir, reason)
    if close_link is not None:
        try:
            await asyncio.wait_for(close_link(), CLOSE_MS / 1000)
        except Exception as e:  # the time-out, or a link already gone: restart anyway
            logger.get("boot").warn("WebSocket not closed cleanly:", repr(e))
    board.reset(hard)
