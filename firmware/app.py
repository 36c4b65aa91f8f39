# The charge-point application: load the configuration, open the board, start the tasks.
"""Start-up and supervision.

main() is what main.py calls: it checks the configuration (one clear line and exit status 2
when it is bad), opens the board, and runs the asyncio loop until the firmware resets.
"""

import asyncio
import gc
import os
import sys

import logger
import logring
import unload
from drivers.leds import StatusLed
from drivers.watchdog import Watchdog
from firmware.board import open_board
from firmware.link import make_client, read_file
from firmware.security.trust import Trust
from looplag import LoopLag
from ocppj.encoder import Encoder
from sharedblock import SharedBlock
from ticks import sleep_ms
from ws.errors import WsError

CONFIG_ERROR_EXIT_STATUS = 2
_WATCHDOG_MS = 30000
_LOOP_MS = 1000
LOG_RING_BYTES = 2048
# Collect after every 4096 bytes allocated rather than only when the heap is full: garbage then
# never spreads over the whole heap, long-lived objects land in the low holes, and the large
# temporaries of a firmware update and a certificate renewal find room in one piece. Measured
# on the frozen 32-bit build at 96 KiB, once the peaks of those (the certificate checks) came
# down: the signed updates RSA and ECDSA 12 of 12 scenario runs pass, the renewal under
# profile 3 12 of 12 (at 512 bytes before: 47 of 48). Less costs time: a collection of this
# heap is 0.18 ms here, a few ms on the ESP32; at 2048 bytes make bench's worst loop stalls
# were 2.2-3.6 ms (target 2 ms), at 4096 1.7-1.9 ms.
GC_THRESHOLD_BYTES = 4096

log = logger.get("app")


def config_path():
    getenv = getattr(os, "getenv", None)  # the ESP32's os has no getenv
    return (getenv and getenv("CP_CONFIG")) or "config.json"


def _stop(message):
    print(message)
    sys.exit(CONFIG_ERROR_EXIT_STATUS)


def protocol(csms):
    """The OCPP version's data (lib/ocppj/protocol.py) that config.json's csms.ocppVersion
    names; only that version's modules are imported."""
    from ocppj.protocol import of
    return of(csms.get("ocppVersion", "1.6"))


def make_wire(csms, state_dir):
    """The WebSocket client (its receive buffer), the frame encoder (its frame buffer) and the
    Trust (firmware/security/trust.py: the central system's roots): the largest long-lived buffers,
    made together right after start-up's garbage has been collected, so they lie side by side
    and are never looked for in a fragmented heap. csms.caFile is read here and nowhere else,
    into the certificate store when its content is new: the WebSocket, firmware downloads, log
    uploads and the check of a renewed charge point certificate trust the installed roots."""
    gc.collect()
    trust = Trust(state_dir)
    if csms.get("caFile"):
        trust.provision(read_file(csms["caFile"]))
    ca = trust.ders or None
    return (make_client(csms, protocol(csms).subprotocol, ca, state_dir),
            Encoder(csms["frameBufferBytes"]),
            trust)


async def run(cfg, board, client, encoder, trust):
    ident = cfg["identity"]
    log.info("%s %s firmware %s on the %s board, reset cause %s" % (
        ident["chargePointVendor"], ident["chargePointModel"],
        ident.get("firmwareVersion", "?"), board.name, board.reset_cause()))
    # OCPP 2.0.1 BootNotification.reason, kept ready: a recorded intent or the reset cause
    from firmware.model import bootreason
    boot_reason = bootreason.take(board.state_dir, board.reset_cause())
    log.info("boot reason", boot_reason)
    unload.forget("firmware.model.bootreason")  # start-up only; a reset imports it to record why
    await sleep_ms(0)
    try:
        await board.start()
    except OSError as e:
        _stop("start-up error: " + (e.args[1] if len(e.args) > 1 else repr(e)))
    watchdog = Watchdog(board, _WATCHDOG_MS)
    led = StatusLed(board)
    asyncio.create_task(led.run())
    if not await board.network_up(_WATCHDOG_MS // 2):
        log.error("network did not come up")
    await sleep_ms(0)
    lag = LoopLag()  # how long code held the loop: in every diagnostics upload
    asyncio.create_task(lag.run())
    # the configured version's services, and only its modules (firmware/v16/ or firmware/v201/)
    start = __import__("firmware.%s.start" % protocol(cfg["csms"]).package, None, None,
                       ("start",)).start
    try:
        cp, session = await start(cfg, board, watchdog, client, encoder, trust, boot_reason, lag)
    except WsError as e:  # a configured file that cannot be read
        _stop("config error: " + str(e))
        return
    while True:
        watchdog.feed()  # only when every watched task has checked in
        led.set(led_pattern(cp, session))
        await sleep_ms(_LOOP_MS)


def led_pattern(cp, session):
    statuses = [cp.status_of(n)[0] for n in range(1, len(cp.connectors) + 1)]
    if "Faulted" in statuses:
        return "fault"
    if "Charging" in statuses:
        return "charging"
    if not session.connected:
        return "offline"
    return "idle"


def configure(path, block):
    """The checked configuration and the board, or one line and exit status 2. The checker
    is forgotten afterwards: it is needed at start-up only."""
    from firmware.config import ConfigError, load
    try:
        cfg = load(path)
        board = open_board(cfg, block)
    except ConfigError as e:
        _stop("config error: %s: %s" % (path, e))
        raise
    unload.forget("firmware.config")
    return cfg, board


def main():
    # The one 4 KiB block buffer, first, while the heap is empty: the image check at boot,
    # firmware downloads and log uploads borrow it in turn (lib/sharedblock.py).
    if hasattr(gc, "threshold"):  # MicroPython
        gc.threshold(GC_THRESHOLD_BYTES)
    block = SharedBlock()
    logring.install(LOG_RING_BYTES)  # the recent log, for GetDiagnostics and GetLog
    cfg, board = configure(config_path(), block)
    logger.set_level(cfg["log"]["level"])
    # UTC in every line once the clock is plausible (set by BootNotification or NTP)
    logger.set_clock(lambda: board.time_s() if board.clock_set() else None)
    logger.secret(cfg["csms"].get("authorizationKey"))
    logger.secret((cfg.get("wifi") or {}).get("password"))
    try:
        client, encoder, trust = make_wire(cfg["csms"], board.state_dir)
    except WsError as e:
        board.deinit()
        _stop("config error: csms: " + str(e))
        return
    try:
        asyncio.run(run(cfg, board, client, encoder, trust))
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        board.deinit()
