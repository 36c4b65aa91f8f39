# FirmwareStatusNotification and SignedFirmwareStatusNotification as the seeds' vendor API has
# them (seeds 000 and 001), in Pythonic form.
"""    fw = FirmwareStatus(session)               # OCPPFirmwareStatusNotificationResetGlobals
    fw.set_status("Downloading")               # SetFirmwareStatusNotificationStatus
    result = await fw.send()                   # SendFirmwareStatusNotificationRequest
    signed = SignedFirmwareStatus(session)
    signed.set_status("SignatureVerified", request_id=7)
    result = await signed.send()               # SendSignedFirmwareStatusNotificationRequest

Result codes: RESPONSE_SUCCESS (the central system answered), RESPONSE_FAILED (a CALLERROR,
no answer in time, or an answer that breaks the schema), FAILED (not sent: not connected, or
a status this message does not have). The last status set is kept: it is what a
TriggerMessage for the notification reports (Idle when no update runs).
"""

from ocppj import errors, schemas
from ocppj.session import CallTimeout, NotConnected

RESPONSE_SUCCESS = "response_success"
RESPONSE_FAILED = "response_failed"
FAILED = "failed"


def _statuses(action):
    """The allowed `status` values of `action`.req, from the generated schema table."""
    tables = schemas.load("v16", action)
    assert tables, "generated schema tables missing"
    request = tables[0]
    for i in range(1, len(request), 3):
        if request[i] == "status":
            return request[i + 2].strip("|").split("|")
    return []


class FirmwareStatus:
    action = "FirmwareStatusNotification"

    def __init__(self, session):
        self.session = session
        self.reset()

    def reset(self):
        """Back to Idle: no update in progress."""
        self.status = "Idle"
        self.request_id = None
        self.error = None

    def set_status(self, status, request_id=None):
        if status not in _statuses(self.action):
            raise ValueError("%s has no status %s" % (self.action, status))
        self.status = status
        self.request_id = request_id

    def payload(self):
        return {"status": self.status}

    async def send(self, triggered=False):
        try:
            await self.session.call(self.action, self.payload(), triggered=triggered)
        except NotConnected as e:
            self.error = e
            return FAILED
        except (errors.CallError, CallTimeout) as e:
            self.error = e
            return RESPONSE_FAILED
        self.error = None
        return RESPONSE_SUCCESS


class SignedFirmwareStatus(FirmwareStatus):
    action = "SignedFirmwareStatusNotification"

    def payload(self):
        p = {"status": self.status}
        if self.request_id is not None and self.status != "Idle":  # L01.FR.21
            p["requestId"] = self.request_id
        return p
