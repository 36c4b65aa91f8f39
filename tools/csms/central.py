# The local CSMS as a library: server, policy, records of CALLs and frames, waits, central-system calls.
"""`CentralSystem`: an OCPP 1.6J / 2.0.1 central system that end-to-end tests start in-process.

    cs = CentralSystem(boot_status="Pending")
    port = await cs.start()                      # ws://127.0.0.1:<port>/ocpp/<charge-point id>
    await cs.wait_for("BootNotification", "CP_1")
    cs.boot_status = "Accepted"
    await cs.call("CP_1", call.TriggerMessage(requested_message="BootNotification"))
    await cs.stop()

It serves OCPP 1.6 unless told otherwise: `CentralSystem(ocpp_versions=(OCPP16, OCPP201))`
serves both, each connection in the version whose subprotocol the charge point offers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, NamedTuple
from urllib.parse import unquote, urlsplit

from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import Server, ServerConnection, basic_auth, serve
from websockets.exceptions import ConnectionClosed

from .session import ChargePointSession
from .session201 import ChargePointSession201

OCPP16 = "ocpp1.6"
OCPP201 = "ocpp2.0.1"
SESSIONS = {OCPP16: ChargePointSession, OCPP201: ChargePointSession201}  # WebSocket subprotocol -> session
CALL = 2  # OCPP-J MessageTypeId of a request


def charge_point_id(path: str) -> str:
    """`/ocpp/CP%201?x=1` -> `CP 1`: the last path segment, percent-decoded ('' when there is none)."""
    return unquote(urlsplit(path).path.rsplit("/", 1)[-1])


class Received(NamedTuple):
    """One CALL from a charge point; a plain tuple, so `== ("Heartbeat", {})` works."""

    action: str
    payload: dict


@dataclass(frozen=True)
class Frame:
    """One raw frame on the wire; direction is "in" (to the CSMS) or "out" (to the charge point)."""

    time: float
    cp_id: str
    direction: str
    text: str


class CentralSystem:
    """An OCPP-J central system on one TCP port, serving any number of charge points.

    `ocpp_versions` are the WebSocket subprotocols served (OCPP16, OCPP201); a charge point
    offering none of them is refused. The policy below applies to every version.

    Every CALL a charge point sends is recorded in arrival order (`received()`),
    every frame both ways is kept (`frames()`) and echoed to stdout when `echo`.
    `wait_for()` takes each recorded CALL at most once, earliest first, so
    successive waits for one action walk through its messages in order.
    """

    def __init__(
        self,
        boot_status: str = "Accepted",
        heartbeat_interval: int = 60,
        *,
        blocked_tags=(),
        unknown_tags=(),
        vendor_ids=(),
        parent_tags=None,
        call_errors=None,
        answer_delays=None,
        clock_offset_s: float = 0,
        echo: bool = True,
        call_timeout: float = 30,
        ping_interval: float | None = 20,
        tls: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
        ocpp_versions: tuple[str, ...] = (OCPP16,),
    ):
        unknown = [version for version in ocpp_versions if version not in SESSIONS]
        if unknown or not ocpp_versions:
            raise ValueError(f"ocpp_versions {ocpp_versions!r}: choose from {tuple(SESSIONS)}")
        self.ocpp_versions = tuple(ocpp_versions)
        self.boot_status = boot_status
        self.heartbeat_interval = heartbeat_interval
        self.blocked_tags = set(blocked_tags)  # Authorize/StartTransaction/StopTransaction answer Blocked
        self.unknown_tags = set(unknown_tags)  # ... answer Invalid; every other idTag is Accepted
        self.vendor_ids = set(vendor_ids)  # DataTransfer answers Accepted; other vendorIds UnknownVendorId
        self.parent_tags = dict(parent_tags or {})  # idTag -> the parentIdTag its IdTagInfo carries
        # action -> OCPP-J error code: every CALL of that action is answered with this CALLERROR
        self.call_errors = dict(call_errors or {})
        # action -> seconds to wait before answering, or fn(payload) -> seconds
        self.answer_delays = dict(answer_delays or {})
        self.clock_offset_s = clock_offset_s  # currentTime of Boot/Heartbeat answers: now + this
        self.echo = echo
        self.call_timeout = call_timeout
        # websockets' 20 s default, as from a real CSMS: the firmware must answer pings.
        self.ping_interval = ping_interval
        self.tls = tls  # wss:// with this server context (security profiles 2 and 3)
        self.credentials = credentials  # (charge-point id, AuthorizationKey): Basic auth required
        self.port: int | None = None  # bound by start()
        self.last_transaction_id: int | None = None
        self._transaction_ids = itertools.count(1)
        self._server: Server | None = None
        self._sessions: dict[str, ChargePointSession | ChargePointSession201] = {}
        self._received: dict[str, list[Received]] = {}
        self._untaken: list[tuple[str, Received]] = []  # (cp_id, CALL) not yet returned by wait_for
        self._frames: list[Frame] = []
        self.closes: list[tuple[str, int | None]] = []  # (charge-point id, close code) per connection
        # (charge-point id, its Authorization header or None) per accepted connection
        self.authorizations: list[tuple[str, str | None]] = []
        # (charge-point id, the DER of its TLS client certificate or None) per accepted connection
        self.peer_certificates: list[tuple[str, bytes | None]] = []
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Future] = set()

    # -- policy, read by the sessions at each CALL ------------------------------------------

    @property
    def boot_status(self) -> str:
        return self._boot_status

    @boot_status.setter
    def boot_status(self, value: str) -> None:
        self._boot_status = RegistrationStatus(value).value  # a typo fails here, not on the wire

    def id_tag_info(self, id_tag: str) -> IdTagInfo:
        """The authorization answer for an idTag: Blocked, Invalid (unknown) or Accepted, with
        its parentIdTag when `parent_tags` names one."""
        parent = self.parent_tags.get(id_tag)
        if id_tag in self.blocked_tags:
            return IdTagInfo(status=AuthorizationStatus.blocked, parent_id_tag=parent)
        if id_tag in self.unknown_tags:
            return IdTagInfo(status=AuthorizationStatus.invalid, parent_id_tag=parent)
        return IdTagInfo(status=AuthorizationStatus.accepted, parent_id_tag=parent)

    def new_transaction_id(self) -> int:
        """The next transactionId: 1, 2, 3 ... across all charge points."""
        self.last_transaction_id = next(self._transaction_ids)
        return self.last_transaction_id

    # -- server -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 picks a free port) and return the bound port."""
        self._server = await serve(
            self._serve_connection,
            host,
            port,
            subprotocols=list(self.ocpp_versions),
            select_subprotocol=self._select_subprotocol,
            ping_interval=self.ping_interval,
            ssl=self.tls,
            process_request=basic_auth(credentials=self.credentials) if self.credentials else None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Close every connection (1001 going away) and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve_connection(self, ws: ServerConnection) -> None:
        cp_id = charge_point_id(ws.request.path)
        if ws.subprotocol not in self.ocpp_versions:
            # OCPP-J: complete the handshake without the header, then close at once.
            served = " or ".join(self.ocpp_versions)
            offered = ", ".join(ws.request.headers.get_all("Sec-WebSocket-Protocol")) or "none"
            self.say(f"{cp_id or '?'} refused: no {served} subprotocol (offered: {offered})")
            await ws.close(1002, f"{served} subprotocol required")
            return
        if not cp_id:
            self.say(f"? refused: no charge-point id in path {ws.request.path!r}")
            await ws.close(1008, "charge-point id missing from the URL path")
            return

        self.authorizations.append((cp_id, ws.request.headers.get("Authorization")))
        tls = ws.transport.get_extra_info("ssl_object")
        self.peer_certificates.append((cp_id, tls.getpeercert(binary_form=True) if tls else None))
        session = SESSIONS[ws.subprotocol](self, cp_id, ws)
        stale = self._sessions.get(cp_id)
        self._sessions[cp_id] = session  # a reconnecting charge point replaces its half-open old link
        if stale is not None:
            # In the background: closing a dead peer waits out close_timeout.
            self._spawn(stale.ws.close(1000, "replaced by a new connection"))
        self.say(f"{cp_id} connected from {_peer(ws)} ({ws.subprotocol})")
        self._notify()
        try:
            await session.start()
        except ConnectionClosed:
            pass
        finally:
            if self._sessions.get(cp_id) is session:
                del self._sessions[cp_id]
            self.closes.append((cp_id, ws.close_code))
            reason = f", {ws.close_reason}" if ws.close_reason else ""
            self.say(f"{cp_id} disconnected (code {ws.close_code}{reason})")
            self._notify()

    def _select_subprotocol(self, ws: ServerConnection, offered) -> str | None:
        # The charge point's order of preference decides among the served versions. Unlike
        # websockets' default (HTTP 400 when nothing matches), go on without a subprotocol
        # so the handler can log the refusal and close as OCPP-J asks.
        return next((version for version in offered if version in self.ocpp_versions), None)

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)  # asyncio itself keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    # -- records ----------------------------------------------------------------------------

    def record_frame(self, cp_id: str, direction: str, text: str | bytes) -> None:
        """Keep and echo one frame; called by the session's transport."""
        text = text if isinstance(text, str) else repr(text)  # OCPP-J is text only: show binary as it is
        self._frames.append(Frame(time.time(), cp_id, direction, text))
        arrow = f"{cp_id} -> CSMS" if direction == "in" else f"CSMS -> {cp_id}"
        one_line = text.replace("\r", "\\r").replace("\n", "\\n")  # JSON whitespace may hold newlines
        self.say(f"{arrow}  {one_line}")

    def record_call(self, cp_id: str, raw: str | bytes) -> None:
        """Keep a received frame if it is a CALL; called once it has been answered."""
        try:
            msg = json.loads(raw)
        except ValueError:
            return
        if isinstance(msg, list) and len(msg) >= 4 and msg[0] == CALL:
            received = Received(msg[2], msg[3])
            self._received.setdefault(cp_id, []).append(received)
            self._untaken.append((cp_id, received))
            self._notify()

    def say(self, text: str) -> None:
        """Print one timestamped (UTC, like OCPP timestamps) log line when echo is on."""
        if self.echo:
            now = datetime.now(timezone.utc).strftime("%H:%M:%S.%f")[:-3]
            # sys.stdout is looked up each time: pytest's capture replaces it per test.
            print(f"{now}Z  {text}", file=sys.stdout, flush=True)

    def received(self, cp_id: str) -> list[Received]:
        """Every CALL received from cp_id, in arrival order, across reconnections."""
        return list(self._received.get(cp_id, []))

    def frames(self, cp_id: str | None = None) -> list[Frame]:
        """Every raw frame both ways, in order; only cp_id's when given."""
        return [frame for frame in self._frames if cp_id is None or frame.cp_id == cp_id]

    # -- waiting ----------------------------------------------------------------------------

    def _notify(self) -> None:
        # Wake every waiter; each re-checks its own condition against the records.
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, check: Callable[[], Any], timeout: float, failure: Callable[[], str]) -> Any:
        """Return check()'s first result that is not None, re-checking after every change."""
        try:
            async with asyncio.timeout(timeout):
                while (result := check()) is None:
                    await self._changed.wait()  # fetched right after check(): no change slips between
        except TimeoutError:
            raise TimeoutError(f"{failure()} within {timeout} s") from None
        return result

    async def wait_for(
        self,
        action: str,
        cp_id: str | None = None,
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = 10,
    ) -> dict:
        """Take the earliest not-yet-taken `action` CALL (from cp_id, matching predicate); return its payload.

        CALLs that arrived before this wait count, so there is no race with the
        charge point. Each CALL is taken once; other actions stay for their own
        waits. Raises TimeoutError listing what arrived but was not taken.
        """

        def take():
            for index, (source, received) in enumerate(self._untaken):
                if received.action == action and cp_id in (None, source):
                    if predicate is None or predicate(received.payload):
                        del self._untaken[index]
                        return received.payload
            return None

        def failure():
            untaken = ", ".join(f"{source} {received.action}" for source, received in self._untaken)
            return f"no matching {action} from {cp_id or 'any charge point'} (untaken: {untaken or 'none'})"

        return await self._wait_until(take, timeout, failure)

    async def report(self, cp_id: str, request_id: int, timeout: float = 10) -> list[dict]:
        """The NotifyReport parts of cp_id's report `request_id` (OCPP 2.0.1), in seqNo order,
        once the last one (tbc false) and every part before it arrived.

        Read from the record (`received`), so parts that came before this wait count;
        request ids are meant to be fresh for each report request.
        """

        def parts() -> list[dict]:
            return [
                received.payload
                for received in self._received.get(cp_id, [])
                if received.action == "NotifyReport"
                and isinstance(received.payload, dict)  # a malformed CALL is recorded too
                and received.payload.get("requestId") == request_id
            ]

        def whole():
            found = sorted(parts(), key=lambda part: part.get("seqNo", -1))
            ends = [part for part in found if not part.get("tbc", False)]  # tbc is false when absent
            if ends and [part.get("seqNo") for part in found] == list(range(ends[0].get("seqNo", -1) + 1)):
                return found
            return None

        def failure():
            seq_nos = [(part.get("seqNo"), part.get("tbc", False)) for part in parts()]
            return f"no whole report {request_id} from {cp_id} ((seqNo, tbc) arrived: {seq_nos or 'none'})"

        return await self._wait_until(whole, timeout, failure)

    def connected(self, cp_id: str) -> bool:
        return cp_id in self._sessions

    def ocpp_version(self, cp_id: str) -> str | None:
        """The subprotocol (OCPP16 or OCPP201) of cp_id's current connection; None when not connected."""
        session = self._sessions.get(cp_id)
        return session.ws.subprotocol if session is not None else None

    async def wait_connected(self, cp_id: str, timeout: float = 10) -> None:
        is_connected = lambda: True if self.connected(cp_id) else None  # noqa: E731
        await self._wait_until(is_connected, timeout, lambda: f"{cp_id} not connected")

    async def wait_disconnected(self, cp_id: str, timeout: float = 10) -> None:
        is_gone = lambda: None if self.connected(cp_id) else True  # noqa: E731
        await self._wait_until(is_gone, timeout, lambda: f"{cp_id} still connected")

    async def disconnect(self, cp_id: str, code: int = 1001, reason: str = "going away") -> None:
        """Close cp_id's connection (the server stays up: the charge point reconnects)."""
        session = self._sessions.get(cp_id)
        if session is None:
            raise ConnectionError(f"{cp_id} is not connected")
        await session.ws.close(code, reason)
        await self.wait_disconnected(cp_id)

    # -- central-system requests ------------------------------------------------------------

    async def send_raw(self, cp_id: str, frame: str | bytes) -> None:
        """Send one frame as it is, well-formed or not (a text or, for bytes, a binary frame)."""
        session = self._sessions.get(cp_id)
        if session is None:
            raise ConnectionError(f"{cp_id} is not connected")
        self.record_frame(cp_id, "out", frame)
        await session.ws.send(frame)

    async def call(self, cp_id: str, request, timeout: float | None = None):
        """Send a CALL to cp_id; return its call_result dataclass. The CALL is an `ocpp.v16.call`
        or an `ocpp.v201.call` dataclass, matching the connection's version (`ocpp_version()`).

        A CALLERROR answer raises the matching `ocpp.exceptions.OCPPError`; a charge
        point that disconnects first raises ConnectionError instead of waiting out the timeout.
        """
        session = self._sessions.get(cp_id)
        if session is None:
            raise ConnectionError(f"{cp_id} is not connected")
        timeout = self.call_timeout if timeout is None else timeout
        name = type(request).__name__
        answer = asyncio.ensure_future(session.call(request, suppress=False))
        closed = asyncio.ensure_future(session.ws.wait_closed())
        try:
            await asyncio.wait({answer, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if closed.done() and not answer.done():
                # an answer received just before the close is still being routed by the
                # `ocpp` session's reader (a Reset or a SecurityProfile change answers, then
                # closes at once): it is the answer, not a disconnect
                await asyncio.wait({answer}, timeout=1)
            if answer.done():
                return answer.result()
            if closed.done():
                raise ConnectionError(f"{cp_id} disconnected before answering {name}")
            raise TimeoutError(f"{cp_id} did not answer {name} within {timeout} s")
        finally:
            answer.cancel()  # no-op once finished
            closed.cancel()


def _peer(ws: ServerConnection) -> str:
    address = ws.remote_address
    return f"{address[0]}:{address[1]}" if address else "?"
