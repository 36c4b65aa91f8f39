# OCPP 1.6 clock-aligned meter values (§3.16.2, §9.1 ClockAlignedDataInterval).
"""    aligned = AlignedMeter(session, messages, connectors)
    aligned.tick(now_s, interval_s)   # the control loop, while ClockAlignedDataInterval is set

Made by the charge point while ClockAlignedDataInterval is not 0 (the default is 0): a charge
point without clock-aligned data never imports this module.

Every interval_s seconds from midnight UTC, each connector's MeterValuesAlignedData (context
Sample.Clock): in a transaction as a journal record (it survives power loss and goes out in
order with the transaction's other messages), else sent when the central system can be
reached (not kept otherwise). A transaction also keeps its StopTxnAlignedData readings, the
first STOP_ALIGNED of them, for its StopTransaction.
"""

import asyncio

import logger
from firmware.v16.txmessages import STOP_ALIGNED
from ocppj import errors
from ocppj.session import CallTimeout, NotConnected

log = logger.get("cp")


class AlignedMeter:
    def __init__(self, session, messages, connectors):
        self.session = session
        self.messages = messages  # firmware/v16/txmessages.py: the samples and their records
        self.connectors = connectors
        self.next_s = None  # when the next readings are due

    def tick(self, now_s, interval_s):
        if self.next_s is None:
            self.next_s = (now_s // interval_s + 1) * interval_s
        if now_s < self.next_s:
            return
        self.next_s = (now_s // interval_s + 1) * interval_s
        session = self.session
        messages = self.messages
        for c in self.connectors:
            value = messages.sample(c, "Sample.Clock", "MeterValuesAlignedData")
            tx = c.tx
            if tx is not None:
                stop_value = messages.sample(c, "Sample.Clock", "StopTxnAlignedData")
                if stop_value and len(tx.aligned) < STOP_ALIGNED:  # bounded: the
                    tx.aligned.append(stop_value)  # StopTransaction must fit the frame buffer
                if value:
                    messages.meter_values(c, tx, value)
            elif value and session.connected and session.registration == "Accepted":
                asyncio.create_task(_send(session, {"connectorId": c.n, "meterValue": [value]}))


async def _send(session, payload):
    try:
        await session.call("MeterValues", payload)
    except (errors.CallError, CallTimeout, NotConnected) as e:
        log.warn("MeterValues not delivered:", repr(e))
