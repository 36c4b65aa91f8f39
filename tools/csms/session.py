# One charge point's OCPP 1.6 connection to the local CSMS: frame logging and the answers to its CALLs.
"""The per-connection side of the CSMS for OCPP 1.6, on top of `ocpp.v16.ChargePoint`;
`SessionHooks` is the part every OCPP version's session shares (session201.py).

Policy (boot status, idTag lists, vendor ids, transaction ids) lives in the
CentralSystem, so a test can change it while charge points are connected.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ocpp.exceptions import NotImplementedError as OcppNotImplementedError
from ocpp.exceptions import NotSupportedError, OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, DataTransferStatus, GenericStatus
from websockets.asyncio.server import ServerConnection

if TYPE_CHECKING:
    from .central import CentralSystem

OCPP16_ACTIONS = frozenset(action.value for action in Action)  # both directions, with the security whitepaper


def utc_now(offset_s: float = 0) -> str:
    """The current time (plus `offset_s`) as RFC 3339 UTC with milliseconds, e.g.
    2024-05-01T12:00:00.123Z."""
    now = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FrameLoggingTransport:
    """What the `ocpp` ChargePoint reads and writes: a websockets connection that reports every frame."""

    def __init__(self, csms: CentralSystem, cp_id: str, ws: ServerConnection):
        self._csms, self._cp_id, self.ws = csms, cp_id, ws

    async def recv(self) -> str | bytes:
        text = await self.ws.recv()
        self._csms.record_frame(self._cp_id, "in", text)
        return text

    async def send(self, text: str) -> None:
        # Reported before sending so a fast answer can never be logged ahead of its request.
        self._csms.record_frame(self._cp_id, "out", text)
        await self.ws.send(text)


class _CodedError(OCPPError):
    """A CALLERROR with any code (CentralSystem.call_errors)."""

    def __init__(self, code: str):
        self.code = code
        super().__init__("refused by the test central system")


class SessionHooks:
    """What sessions of every OCPP version share, mixed in ahead of the `ocpp` ChargePoint:
    frame logging, the CentralSystem's call_errors and answer_delays, the OCPP-J error
    codes of unserved actions, and the record of every CALL.

    Handlers never call self.call(): that would deadlock the `ocpp` receive loop.
    """

    known_actions: frozenset = frozenset()  # this version's actions, both directions

    def __init__(self, csms: CentralSystem, cp_id: str, ws: ServerConnection):
        super().__init__(cp_id, FrameLoggingTransport(csms, cp_id, ws), response_timeout=csms.call_timeout)
        self.csms = csms
        self.ws = ws

    async def _handle_call(self, msg):
        # The `ocpp` package swaps these two codes. The OCPP-J CallError table (1.6 and 2.0.1):
        # NotImplemented = action not known; NotSupported = known but not served here
        # (a central-system action such as Reset sent by a charge point).
        if msg.action not in self.route_map:
            if msg.action in self.known_actions:
                raise NotSupportedError("Requested Action is recognized but not supported by the receiver")
            raise OcppNotImplementedError("Requested Action is not known by receiver")
        delay = self.csms.answer_delays.get(msg.action)
        if callable(delay):  # a test holding back one particular CALL: seconds for its payload
            delay = delay(msg.payload)
        if delay:  # a slow central system: the charge point's next CALL waits for this answer
            await asyncio.sleep(delay)
        code = self.csms.call_errors.get(msg.action)
        if code is not None:  # the test asked for this action to be refused
            raise _CodedError(code)
        return await super()._handle_call(msg)

    async def route_message(self, raw_msg):
        await super().route_message(raw_msg)
        # Recorded after the answer went out, so a test that has seen a CALL
        # cannot get its own next request onto the wire ahead of that answer.
        self.csms.record_call(self.id, raw_msg)


class ChargePointSession(SessionHooks, ChargePoint):
    """One connected OCPP 1.6 charge point; answers every charge-point-initiated OCPP 1.6 action."""

    known_actions = OCPP16_ACTIONS

    @on(Action.boot_notification)
    def on_boot_notification(self, **_):
        # Read at every boot so a test can switch Pending -> Accepted while running.
        return call_result.BootNotification(
            current_time=utc_now(self.csms.clock_offset_s), interval=self.csms.heartbeat_interval, status=self.csms.boot_status
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **_):
        return call_result.Heartbeat(current_time=utc_now(self.csms.clock_offset_s))

    @on(Action.authorize)
    def on_authorize(self, id_tag, **_):
        return call_result.Authorize(id_tag_info=self.csms.id_tag_info(id_tag))

    @on(Action.start_transaction)
    def on_start_transaction(self, id_tag, **_):
        return call_result.StartTransaction(
            transaction_id=self.csms.new_transaction_id(), id_tag_info=self.csms.id_tag_info(id_tag)
        )

    @on(Action.stop_transaction)
    def on_stop_transaction(self, id_tag=None, **_):
        # idTagInfo answers an idTag only when one was sent: it is optional here.
        return call_result.StopTransaction(id_tag_info=self.csms.id_tag_info(id_tag) if id_tag else None)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id, **_):
        known = vendor_id in self.csms.vendor_ids
        return call_result.DataTransfer(
            status=DataTransferStatus.accepted if known else DataTransferStatus.unknown_vendor_id
        )

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **_):
        return call_result.SignCertificate(status=GenericStatus.accepted)

    # Notifications: the answer is empty; what matters is the record.

    @on(Action.status_notification)
    def on_status_notification(self, **_):
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, **_):
        return call_result.MeterValues()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, **_):
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, **_):
        return call_result.FirmwareStatusNotification()

    @on(Action.security_event_notification)
    def on_security_event_notification(self, **_):
        return call_result.SecurityEventNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status_notification(self, **_):
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status_notification(self, **_):
        return call_result.LogStatusNotification()
