# BootNotification as the vendor API of seed 002 has it, in Pythonic form.
"""Set each identity field, send, read what the central system answered.

    boot = BootNotification(session)
    boot.set("chargeBoxSerialNumber", "HC1-000001")     # SetChargeBoxSerialNumber
    boot.set_identity(config["identity"])               # every configured field at once
    result = await boot.send()                          # SendBootNotificationRequest
    if result == RESPONSE_SUCCESS:
        boot.status, boot.current_time_s, boot.interval_s   # the REGISTRATIONSTATUS block

Result codes (BOOTNOTIFICATIONERROR_T):
    RESPONSE_SUCCESS   the answer came and says Accepted
    RESPONSE_PENDING   the answer says Pending
    RESPONSE_REJECTED  the answer says Rejected
    RESPONSE_FAILED    no answer in time, a CALLERROR, or an answer that breaks the schema
    FAILED             not sent: not connected, or the frame does not fit
Field names are the OCPP 1.6 names; a field the schema does not have, or a value longer than
its CiString limit, raises ValueError at set() (BOOTNOTIFICATION_FAILED before sending).
"""

import logger
from firmware.registration import BootMessage
from ocppj import schemas
from ocppj.encoder import FrameTooLarge
from ocppj.session import NotConnected

RESPONSE_SUCCESS = "response_success"
RESPONSE_PENDING = "response_pending"
RESPONSE_REJECTED = "response_rejected"
RESPONSE_FAILED = "response_failed"
FAILED = "failed"

_BY_STATUS = {"Accepted": RESPONSE_SUCCESS, "Pending": RESPONSE_PENDING,
              "Rejected": RESPONSE_REJECTED}

log = logger.get("boot")


def field_limits():
    """{field: maximum length} of BootNotification.req, from the generated schema table."""
    tables = schemas.load("v16", "BootNotification")
    assert tables, "generated schema tables missing"
    request = tables[0]
    return {request[i]: request[i + 2] for i in range(1, len(request), 3)}


def for_identity(session, identity):
    """The BootNotification of the configured identity (config.json `identity`)."""
    boot = BootNotification(session)
    boot.set_identity(identity)
    return boot


def boot_payload(identity):
    """BootNotification.req from the configured identity: every non-empty field, as is."""
    return for_identity(None, identity).payload


class BootNotification(BootMessage):
    """The 1.6 BootNotification.req, built field by field."""

    def set(self, field, value):
        """Set one BootNotification.req field (an empty value removes it)."""
        limits = field_limits()
        if field not in limits:
            raise ValueError("BootNotification has no field " + field)
        if not value:
            self.payload.pop(field, None)
            return
        if not isinstance(value, str) or len(value) > limits[field]:
            raise ValueError("%s: at most %d characters" % (field, limits[field]))
        self.payload[field] = value

    def set_identity(self, identity):
        for field in identity:
            self.set(field, identity[field])

    async def send(self, triggered=False):
        """SendBootNotificationRequest: one of the result codes above."""
        status = await BootMessage.send(self, triggered)
        if status is None:
            return FAILED if isinstance(self.error, (NotConnected, FrameTooLarge)) else \
                RESPONSE_FAILED
        return _BY_STATUS[status]
