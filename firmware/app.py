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
from firmware.link import Link, make_client
from firmware.registration import Registration
from ocppj.encoder import Encoder
from ocppj.protocol import V16
from ocppj.session import Session
from ticks import sleep_ms
from ws.errors import WsError

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


def connector_status(board):
    """Until the charge-point core lands: Available, or Preparing while an EV is plugged."""
    def status(connector):
        if connector == 0:
            return "Available"
        high_mv, _ = board.sample_pilot(connector)
        return "Preparing" if high_mv < 10500 else "Available"
    return status


def start_ocpp(cfg, board):
    """Wire WebSocket client, RPC session and registration; returns the link's task."""
    client = make_client(cfg["csms"], V16.subprotocol)
    csms = cfg["csms"]
    session = Session(V16, Encoder(csms["frameBufferBytes"]), client.send,
                      timeout_ms=csms["callTimeoutS"] * 1000)
    status = connector_status(board)
    for c in range(1, board.connectors + 1):
        board.show_status(c, status(c))
    registration = Registration(session, board, cfg["identity"], status)
    return asyncio.create_task(Link(client, session, registration).run())


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
    if not await board.network_up(_WATCHDOG_MS // 2):
        log.error("network did not come up")
    try:
        start_ocpp(cfg, board)
    except WsError as e:
        _stop("config error: csms: " + str(e))
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
