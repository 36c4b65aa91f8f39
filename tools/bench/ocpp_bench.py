# OCPP-J engine benchmark, run under CPython, the MicroPython unix port and the WebAssembly port.
"""Prints one line per figure: `BENCH <name> <bytes per op> <microseconds per op>`.

Bytes are measured with gc.mem_alloc() and the GC disabled (MicroPython), or as the peak of one call with tracemalloc (CPython, which frees at once). The fixed-buffer encoder is compared with building the
same frame as a dict and calling json.dumps, in the same run. tools/bench.py runs this file
on each interpreter and compares the figures with their targets.
"""

import gc
import json
import sys
import time

from benchclock import MICROPYTHON, elapsed_us, now_us
from ocppj.encoder import Decimal, Encoder, Timestamp
from ocppj.protocol import V16
from ocppj.validate import validate

N = 1000



def measure(fn, n=N):
    """(bytes allocated per call, microseconds per call) over n calls after one warm-up."""
    fn()
    gc.collect()
    if MICROPYTHON:
        gc.disable()
        before = gc.mem_alloc()
        start = now_us()
        for _ in range(n):
            fn()
        us = elapsed_us(start)
        allocated = gc.mem_alloc() - before
        gc.enable()
        return allocated // n, us / n
    import tracemalloc
    start = now_us()
    for _ in range(n):
        fn()
    us = elapsed_us(start)
    tracemalloc.start()  # CPython frees at once: report the peak one call needs
    base = tracemalloc.get_traced_memory()[0]
    fn()
    grown = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return grown, us / n


def main():
    enc = Encoder(4096)
    ts = Timestamp(848587508)
    energy = Decimal(123456, 0, True)
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": ts}
    meter = {"connectorId": 1, "transactionId": 42, "meterValue": [{"timestamp": ts, "sampledValue": [
        {"value": energy, "context": "Sample.Periodic",
         "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": Decimal(7360, 0, True), "measurand": "Power.Active.Import", "unit": "W"},
        {"value": Decimal(160, 1, True), "measurand": "Current.Import", "unit": "A",
         "phase": "L1"}]}]}
    empty = {}

    def dumps_heartbeat():
        return json.dumps([2, "11", "Heartbeat", {}])

    def dumps_status():
        return json.dumps([2, "12", "StatusNotification", {
            "connectorId": 1, "errorCode": "NoError", "status": "Charging",
            "timestamp": "2026-11-21T14:45:08Z"}])

    def dumps_meter():
        return json.dumps([2, "13", "MeterValues", {"connectorId": 1, "transactionId": 42,
            "meterValue": [{"timestamp": "2026-11-21T14:45:08Z", "sampledValue": [
                {"value": "123456", "context": "Sample.Periodic",
                 "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "7360", "measurand": "Power.Active.Import", "unit": "W"},
                {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": "L1"}]}]}])

    cases = (
        ("encode.Heartbeat", lambda: enc.call(11, "Heartbeat", empty)),
        ("dumps.Heartbeat", dumps_heartbeat),
        ("encode.StatusNotification", lambda: enc.call(12, "StatusNotification", status)),
        ("dumps.StatusNotification", dumps_status),
        ("encode.MeterValues", lambda: enc.call(13, "MeterValues", meter)),
        ("dumps.MeterValues", dumps_meter),
    )
    for name, fn in cases:
        b, us = measure(fn)
        print("BENCH %s %d %.1f" % (name, b, us))

    incoming = b'[2,"srv-1","RemoteStartTransaction",{"connectorId":1,"idTag":"04A2B3C4",' \
               b'"chargingProfile":{"chargingProfileId":1,"stackLevel":0,' \
               b'"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",' \
               b'"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":' \
               b'[{"startPeriod":0,"limit":16.0}]}}}]'
    tables = V16.schema("RemoteStartTransaction")

    def decode_validate():
        frame = json.loads(incoming)
        validate(tables[0], frame[3])

    b, us = measure(decode_validate, 200)
    print("BENCH decode+validate.RemoteStartTransaction %d %.1f" % (b, us))


main()
