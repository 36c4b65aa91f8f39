# One charge point's OCPP 2.0.1 connection to the local CSMS: the answers to its CALLs.
"""The per-connection side of the CSMS for OCPP 2.0.1, on top of `ocpp.v201.ChargePoint`.

Same policy as for 1.6, read from the CentralSystem at each CALL: boot status and
heartbeat interval, the idToken lists (blocked_tags, unknown_tags, parent_tags as
groupIdToken) and vendor ids. Transaction ids are the charge point's in 2.0.1, so
nothing is allocated here. Notifications are answered empty: what matters is the record
(`CentralSystem.received`, `wait_for`, and `report` for NotifyReport parts).
"""

from __future__ import annotations

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.datatypes import IdTokenInfoType, IdTokenType
from ocpp.v201.enums import Action, AuthorizationStatusEnumType, DataTransferStatusEnumType, GenericStatusEnumType
from ocpp.v201.enums import IdTokenEnumType

from .session import SessionHooks, utc_now

OCPP201_ACTIONS = frozenset(action.value for action in Action)  # both directions


def id_token_info(csms, id_token: str) -> IdTokenInfoType:
    """The authorization answer for an idToken: Blocked, Invalid (unknown) or Accepted, with
    its parent from `parent_tags` as a Central groupIdToken."""
    if id_token in csms.blocked_tags:
        status = AuthorizationStatusEnumType.blocked
    elif id_token in csms.unknown_tags:
        status = AuthorizationStatusEnumType.invalid
    else:
        status = AuthorizationStatusEnumType.accepted
    parent = csms.parent_tags.get(id_token)
    group = IdTokenType(id_token=parent, type=IdTokenEnumType.central) if parent else None
    return IdTokenInfoType(status=status, group_id_token=group)


class ChargePointSession201(SessionHooks, ChargePoint):
    """One connected OCPP 2.0.1 charge point: answers what a booting, reporting and charging
    charge point sends; other 2.0.1 actions get NotSupported."""

    known_actions = OCPP201_ACTIONS

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
    def on_authorize(self, id_token, **_):
        return call_result.Authorize(id_token_info=id_token_info(self.csms, id_token["id_token"]))

    @on(Action.transaction_event)
    def on_transaction_event(self, id_token=None, **_):
        # idTokenInfo answers an idToken only when one was sent, as the 1.6 StopTransaction does.
        info = id_token_info(self.csms, id_token["id_token"]) if id_token else None
        return call_result.TransactionEvent(id_token_info=info)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id, **_):
        known = vendor_id in self.csms.vendor_ids
        return call_result.DataTransfer(
            status=DataTransferStatusEnumType.accepted if known else DataTransferStatusEnumType.unknown_vendor_id
        )

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **_):
        return call_result.SignCertificate(status=GenericStatusEnumType.accepted)

    # Notifications: the answer is empty; what matters is the record.

    @on(Action.status_notification)
    def on_status_notification(self, **_):
        return call_result.StatusNotification()

    @on(Action.notify_report)
    def on_notify_report(self, **_):
        return call_result.NotifyReport()

    @on(Action.notify_event)
    def on_notify_event(self, **_):
        return call_result.NotifyEvent()

    @on(Action.security_event_notification)
    def on_security_event_notification(self, **_):
        return call_result.SecurityEventNotification()

    @on(Action.meter_values)
    def on_meter_values(self, **_):
        return call_result.MeterValues()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, **_):
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status_notification(self, **_):
        return call_result.LogStatusNotification()
