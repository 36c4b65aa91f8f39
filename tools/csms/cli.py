# Command line of the local CSMS: options, live frame log on stdout, clean stop on Ctrl-C.
"""`python tools/csms.py [--host H] [--port P] [--boot-status S] [--heartbeat-interval N] [--ocpp-version V]`.

Serves OCPP 1.6 and 2.0.1 unless `--ocpp-version` names one: each charge point gets the
version it offers, so `make sim` works whatever config.json's csms.ocppVersion says.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import traceback

from ocpp.v16.enums import RegistrationStatus

from .central import OCPP16, OCPP201, CentralSystem

VERSIONS = {"1.6": OCPP16, "2.0.1": OCPP201}  # --ocpp-version -> WebSocket subprotocol


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="csms.py", description="Local OCPP 1.6J / 2.0.1 central system; prints every frame both ways."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port (default 9000)")
    parser.add_argument("--boot-status", default="Accepted", choices=[s.value for s in RegistrationStatus])
    parser.add_argument("--heartbeat-interval", type=int, default=60, help="seconds, sent in the boot answer")
    repeatable = {"action": "append", "default": []}
    parser.add_argument("--blocked-tag", help="idTag answered Blocked (repeatable)", **repeatable)
    parser.add_argument("--unknown-tag", help="idTag answered Invalid (repeatable)", **repeatable)
    parser.add_argument("--vendor-id", help="DataTransfer vendorId to accept (repeatable)", **repeatable)
    parser.add_argument("--ocpp-version", choices=list(VERSIONS), action="append",
                        help="an OCPP version to serve (repeatable; default: all)")
    args = parser.parse_args(argv)
    args.ocpp_version = args.ocpp_version or list(VERSIONS)
    return args


class OneLineErrors(logging.Formatter):
    """The frame log already shows each CALLERROR; keep the `ocpp` package's error logs to one line."""

    def formatException(self, ei):
        return "".join(traceback.format_exception_only(ei[1])).strip()

    def format(self, record):
        return super().format(record).replace("\n", " | ")


async def serve_until_signal(args: argparse.Namespace) -> None:
    cs = CentralSystem(
        args.boot_status,
        args.heartbeat_interval,
        blocked_tags=args.blocked_tag,
        unknown_tags=args.unknown_tag,
        vendor_ids=args.vendor_id,
        ocpp_versions=tuple(VERSIONS[version] for version in args.ocpp_version),
    )
    port = await cs.start(args.host, args.port)
    cs.say(
        f"CSMS listening on ws://{args.host}:{port}/<any path>/<charge-point id>"
        f"  ocpp={','.join(args.ocpp_version)} boot={cs.boot_status} heartbeat={cs.heartbeat_interval}s"
        "  (Ctrl-C stops)"
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not on Windows: there Ctrl-C arrives as KeyboardInterrupt, caught in main().
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await cs.stop()
        cs.say("CSMS stopped")


def main(argv=None) -> int:
    args = parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineErrors("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    try:
        asyncio.run(serve_until_signal(args))
    except KeyboardInterrupt:
        pass
    except OSError as error:  # typically the port is taken
        print(f"csms: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0
