# The charge-point application: load the configuration, open the board, start the tasks.
"""Start-up and supervision.

main() is what main.py calls: it checks the configuration (one clear line and exit status 2
when it is bad), opens the board, and runs the asyncio loop until the firmware resets.
"""

import asyncio
import os
import sys

import logger
from firmware import config as configuration
from firmware.board import open_board
from ticks import sleep_ms

CONFIG_ERROR_EXIT_STATUS = 2
_WATCHDOG_MS = 30000
_LOOP_MS = 1000

log = logger.get("app")


def config_path():
    getenv = getattr(os, "getenv", None)  # the ESP32's os has no getenv
    return (getenv and getenv("CP_CONFIG")) or "config.json"


def _stop(message):
    print(message)
    sys.exit(CONFIG_ERROR_EXIT_STATUS)


def split_url(url):
    """(tls, host, port, path) of a ws:// or wss:// URL."""
    tls = url.startswith("wss://")
    rest = url[6 if tls else 5:]
    slash = rest.find("/")
    hostport, path = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
    colon = hostport.rfind(":")
    if colon > 0 and hostport[colon + 1:].isdigit():
        return tls, hostport[:colon], int(hostport[colon + 1:]), path
    return tls, hostport, 443 if tls else 80, path


async def link(cfg, board):
    """Keep trying to reach the central system (the OCPP engine takes over from here)."""
    tls, host, port, _ = split_url(cfg["csms"]["url"])
    backoff_ms = 1000
    while True:
        log.info("connecting to central system at %s:%d" % (host, port))
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
            log.info("central system reachable at %s:%d" % (host, port))
            writer.close()
            await writer.wait_closed()
            backoff_ms = 1000
        except (OSError, asyncio.TimeoutError) as e:
            log.warn("central system unreachable:", repr(e))
        await sleep_ms(backoff_ms)
        backoff_ms = min(backoff_ms * 2, 60000)


async def run(cfg, board):
    ident = cfg["identity"]
    log.info("%s %s firmware %s on the %s board, reset cause %s" % (
        ident["chargePointVendor"], ident["chargePointModel"],
        ident.get("firmwareVersion", "?"), board.name, board.reset_cause()))
    try:
        await board.start()
    except OSError as e:
        _stop("start-up error: " + (e.args[1] if len(e.args) > 1 else repr(e)))
    board.watchdog_start(_WATCHDOG_MS)
    for c in range(1, board.connectors + 1):
        board.show_status(c, "Unavailable")  # until the OCPP core reports otherwise
    if not await board.network_up(_WATCHDOG_MS // 2):
        log.error("network did not come up")
    asyncio.create_task(link(cfg, board))
    while True:
        board.watchdog_feed()
        await sleep_ms(_LOOP_MS)


def main():
    path = config_path()
    try:
        cfg = configuration.load(path)
        board = open_board(cfg)
    except configuration.ConfigError as e:
        _stop("config error: %s: %s" % (path, e))
        return
    logger.set_level(cfg["log"]["level"])
    logger.secret(cfg["csms"].get("authorizationKey"))
    logger.secret((cfg.get("wifi") or {}).get("password"))
    try:
        asyncio.run(run(cfg, board))
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        board.deinit()
