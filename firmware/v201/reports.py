# GetBaseReport and GetReport (OCPP 2.0.1 B07, B08): the device model sent in NotifyReport parts.
"""The handlers of GetBaseReportRequest and GetReportRequest over a DeviceModel.

    reports = Reports(session, dm, max_frame_bytes=4096)   # the encoder's buffer size
    reports.register(session)      # session.handlers["GetBaseReport"] / ["GetReport"]

The answer goes first; once it is sent (session.after_reply) a task sends the report in
NotifyReportRequest parts: the request's requestId in each (B07.FR.04, B08.FR.04), seqNo
from 0 (B07.FR.10, B08.FR.14), tbc true on all but the last, generatedAt the station's clock
(ClockCtrlr DateTime: the station gives it as an `actual` function; without it the parts say
2000-01-01T00:00:00Z). A part holds at most ItemsPerMessage (instance GetReport) ReportData and
no more than fits a frame of max_frame_bytes (jsonsize counts each before it is added); the
ReportData come from the device model's generators one at a time and the task yields to the
loop between parts, so neither the inventory nor the loop is held. NotifyReport goes out while
the registration is Pending too (B02: the central system may ask for reports then).

Answers: Accepted; EmptyResultSet when a GetReport selects nothing (B08.FR.15); Rejected
while another report is being sent (B07.FR.13, B08.FR.16: one at a time, so a second
request cannot double the heap a report takes). Every report base and every component
criterion is supported, so NotSupported is never the answer. A GetReport naming more
componentVariables than ItemsPerMessage, or longer than BytesPerMessage (instance GetReport),
is answered with a CALLERROR (B08.FR.17-18). A report whose NotifyReport fails (no answer,
the link closed) stops there, logged.
"""

import logger
from firmware.v201.jsonsize import size
from ticks import sleep_ms

ACTIONS = ("GetBaseReport", "GetReport")

# GenericDeviceModelStatusEnumType (the test compares them with the generated tables)
ACCEPTED = "Accepted"
REJECTED = "Rejected"
EMPTY_RESULT_SET = "EmptyResultSet"

_NO_CLOCK = "2000-01-01T00:00:00Z"
# The frame around a NotifyReport's payload, with the longest message id the session makes
_FRAME_BYTES = len('[2,"999999999","NotifyReport",]')

log = logger.get("report")


def _next(items):
    try:
        return next(items)
    except StopIteration:
        return None


class Reports:
    def __init__(self, session, dm, max_frame_bytes):
        self.session = session
        self.dm = dm
        self.max_frame_bytes = max_frame_bytes
        self.busy = False  # a report is being sent

    def register(self, session):
        session.handlers["GetBaseReport"] = self.get_base_report
        session.handlers["GetReport"] = self.get_report

    def get_base_report(self, payload):
        base = payload["reportBase"]
        if self.busy:
            return {"status": REJECTED}
        self._start(payload["requestId"], lambda: self.dm.report(base))
        return {"status": ACCEPTED}

    def get_report(self, payload):
        component_variables = payload.get("componentVariable")
        criteria = payload.get("componentCriteria")
        self.dm.check_request("GetReport", payload, len(component_variables or ()))
        if self.busy:
            return {"status": REJECTED}

        def make():
            return self.dm.custom_report(component_variables, criteria)

        if _next(make()) is None:
            return {"status": EMPTY_RESULT_SET, "statusInfo": {"reasonCode": "NotFound"}}
        self._start(payload["requestId"], make)
        return {"status": ACCEPTED}

    def _start(self, request_id, make):
        self.busy = True
        self.session.after_reply(lambda: self._send(request_id, make()))

    async def _send(self, request_id, items):
        try:
            await self._parts(request_id, items)
        except Exception as err:  # no answer, the link closed: the report ends here
            log.error("report", request_id, "stopped:", repr(err))
        finally:
            self.busy = False

    async def _parts(self, request_id, items):
        per_part = self.dm.get_int("DeviceDataCtrlr", "ItemsPerMessage",
                                   instance="GetReport") or 1
        seq = 0
        item = _next(items)  # the next ReportData to send; None: all sent
        while True:
            generated = self.dm.get("ClockCtrlr", "DateTime") or _NO_CLOCK
            room = self.max_frame_bytes - _FRAME_BYTES - size(
                {"requestId": request_id, "generatedAt": generated, "seqNo": seq,
                 "tbc": False, "reportData": ()})
            part = []
            while item is not None and len(part) < per_part:
                n = size(item) + 1  # and its comma
                if n > room:
                    if part:
                        break
                    log.error("report", request_id, "left out", item["variable"]["name"],
                              "(larger than a frame)")
                else:
                    part.append(item)
                    room -= n
                item = _next(items)
            payload = {"requestId": request_id, "generatedAt": generated, "seqNo": seq,
                       "tbc": item is not None}
            if part:
                payload["reportData"] = part
            if item is None:
                # the last part: the report is over once it has gone, and a central system that
                # asks for the next report as soon as it has it must not be told Rejected
                self.busy = False
            await self.session.call("NotifyReport", payload, triggered=True)
            if item is None:
                return
            part = payload = None  # garbage before the next part is built
            seq += 1
            await sleep_ms(0)
