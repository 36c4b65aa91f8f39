# OCPP-J engine benchmark, run under CPython, the MicroPython unix port and the WebAssembly port.
"""Prints one line per figure: `BENCH <name> <bytes per op> <microseconds per op>`.

Bytes are measured with gc.mem_alloc() and the GC disabled (MicroPython), or as the peak of one
call with tracemalloc (CPython, which frees at once). Times are the best of 5 rounds of 20 ms
at least, after a warm-up (the WebAssembly engine compiles hot code in tiers, and its clock
ticks in milliseconds). The fixed-buffer encoder (`encode.X`) is compared with building the
same frame as a dict and calling json.dumps (`dumps.X`), rounds interleaved, in the same run;
both write the same JSON text, which is checked before anything is timed. tools/bench.py runs
this file on each interpreter and compares the figures with their targets.
"""

import gc
import json

from benchclock import MICROPYTHON, elapsed_us, now_us
from ocppj.encoder import Decimal, Encoder, Timestamp
from ocppj.protocol import V16
from ocppj.validate import validate

N = 1000  # calls a round at least
ROUND_US = 20000  # and this long at least
ROUNDS = 5


def calls_for(fn, n):
    """How many calls of fn make a round of ROUND_US at least (and n at least): the
    WebAssembly port's clock ticks in milliseconds. Under MicroPython a round runs with the
    GC disabled, so no more calls than allocate half the free heap: on a fast host a round
    of 20 ms of a small json.dumps was 40,000 calls, more than the 64-bit unix port's 2 MB
    heap holds (MemoryError)."""
    start = now_us()
    for _ in range(n):
        fn()
    us = elapsed_us(start)
    k = max(n, n * ROUND_US // max(us, 1))
    if MICROPYTHON:
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(10):
            fn()
        per_call = (gc.mem_alloc() - before) // 10
        gc.enable()
        gc.collect()
        if per_call:
            k = max(1, min(k, gc.mem_free() // 2 // per_call))
    return k


def measure(*fns, n=N):
    """[(bytes allocated per call, microseconds per call)] for each function: the best of
    ROUNDS rounds, after a warm-up round, the functions' rounds interleaved so that a busy
    machine slows them alike."""
    counts = [calls_for(fn, n) for fn in fns]
    best = [None] * len(fns)
    allocated = [0] * len(fns)
    for _ in range(ROUNDS):
        for i, fn in enumerate(fns):
            k = counts[i]
            gc.collect()
            if MICROPYTHON:
                gc.disable()
                before = gc.mem_alloc()
            start = now_us()
            for _ in range(k):
                fn()
            us = elapsed_us(start)
            if MICROPYTHON:
                allocated[i] = (gc.mem_alloc() - before) // k
                gc.enable()
            if best[i] is None or us / k < best[i]:
                best[i] = us / k
    if not MICROPYTHON:
        import tracemalloc
        for i, fn in enumerate(fns):
            tracemalloc.start()  # CPython frees at once: report the peak one call needs
            base = tracemalloc.get_traced_memory()[0]
            fn()
            allocated[i] = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
    return [(allocated[i], best[i]) for i in range(len(fns))]


# -- the frames: each as the encoder takes it, and as a json.dumps caller builds it ---------
TS = Timestamp(848587508)
TS_TEXT = "2026-11-21T14:45:08Z"
EMPTY = {}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": TS}
METER = {"connectorId": 1, "transactionId": 42, "meterValue": [{"timestamp": TS, "sampledValue": [
    {"value": Decimal(123456, 0, True), "context": "Sample.Periodic",
     "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
    {"value": Decimal(7360, 0, True), "measurand": "Power.Active.Import", "unit": "W"},
    {"value": Decimal(160, 1, True), "measurand": "Current.Import", "unit": "A",
     "phase": "L1"}]}]}
START = {"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 123456, "timestamp": TS}
BOOT = {"chargePointVendor": "OpenEVSE-MP", "chargePointModel": "ESP32-2C",
        "chargePointSerialNumber": "SN-000123", "chargeBoxSerialNumber": "CB-000123",
        "firmwareVersion": "1.4.0+esp32", "meterType": "Sim 3-phase",
        "meterSerialNumber": "M-42"}
# A GetConfiguration answer with 40 keys: the biggest frame the charge point sends regularly.
KEYS = ("AllowOfflineTxForUnknownId", "AuthorizationCacheEnabled", "AuthorizeRemoteTxRequests",
        "BlinkRepeat", "ClockAlignedDataInterval", "ConnectionTimeOut",
        "ConnectorPhaseRotation", "ConnectorPhaseRotationMaxLength", "GetConfigurationMaxKeys",
        "HeartbeatInterval", "LightIntensity", "LocalAuthorizeOffline", "LocalPreAuthorize",
        "MaxEnergyOnInvalidId", "MeterValuesAlignedData", "MeterValuesAlignedDataMaxLength",
        "MeterValuesSampledData", "MeterValuesSampledDataMaxLength", "MeterValueSampleInterval",
        "MinimumStatusDuration", "NumberOfConnectors", "ResetRetries",
        "StopTransactionOnEVSideDisconnect", "StopTransactionOnInvalidId",
        "StopTxnAlignedData", "StopTxnAlignedDataMaxLength", "StopTxnSampledData",
        "StopTxnSampledDataMaxLength", "SupportedFeatureProfiles",
        "SupportedFeatureProfilesMaxLength", "TransactionMessageAttempts",
        "TransactionMessageRetryInterval", "UnlockConnectorOnEVSideDisconnect",
        "WebSocketPingInterval", "LocalAuthListEnabled", "LocalAuthListMaxLength",
        "SendLocalListMaxLength", "ReserveConnectorZeroSupported", "SecurityProfile",
        "CpoName")
CONFIG = {"configurationKey": [
    {"key": k, "readonly": i % 3 == 0, "value": "Energy.Active.Import.Register,Power.Active.Import"
     if "Data" in k and "Max" not in k else str(i * 7)} for i, k in enumerate(KEYS)]}


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


def dumps_start():
    return json.dumps([2, "14", "StartTransaction", {
        "connectorId": 1, "idTag": "04A2B3C4", "meterStart": 123456,
        "timestamp": "2026-11-21T14:45:08Z"}])


def dumps_boot():
    return json.dumps([2, "15", "BootNotification", {
        "chargePointVendor": "OpenEVSE-MP", "chargePointModel": "ESP32-2C",
        "chargePointSerialNumber": "SN-000123", "chargeBoxSerialNumber": "CB-000123",
        "firmwareVersion": "1.4.0+esp32", "meterType": "Sim 3-phase",
        "meterSerialNumber": "M-42"}])


def dumps_config():  # the list is built as a caller would; its items are the same dicts
    return json.dumps([3, "srv-16", {"configurationKey": [
        {"key": e["key"], "readonly": e["readonly"], "value": e["value"]}
        for e in CONFIG["configurationKey"]]}])


def main():
    enc = Encoder(4096)
    frames = (
        ("Heartbeat", lambda: enc.call("11", "Heartbeat", EMPTY), dumps_heartbeat),
        ("StatusNotification", lambda: enc.call("12", "StatusNotification", STATUS),
         dumps_status),
        ("MeterValues", lambda: enc.call("13", "MeterValues", METER), dumps_meter),
        ("StartTransaction", lambda: enc.call("14", "StartTransaction", START), dumps_start),
        ("BootNotification", lambda: enc.call("15", "BootNotification", BOOT), dumps_boot),
        ("GetConfiguration", lambda: enc.result("srv-16", CONFIG), dumps_config),
    )
    for name, encode, dumps in frames:  # the comparison is honest only for the same text
        n = encode()
        if json.loads(bytes(enc.buf[:n])) != json.loads(dumps()):
            raise AssertionError("encode.%s and dumps.%s differ" % (name, name))
    for name, encode, dumps in frames:
        for kind, (b, us) in zip(("encode", "dumps"), measure(encode, dumps)):
            print("BENCH %s.%s %d %.1f" % (kind, name, b, us))

    incoming = b'[2,"srv-1","RemoteStartTransaction",{"connectorId":1,"idTag":"04A2B3C4",' \
               b'"chargingProfile":{"chargingProfileId":1,"stackLevel":0,' \
               b'"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",' \
               b'"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":' \
               b'[{"startPeriod":0,"limit":16.0}]}}}]'
    tables = V16.schema("RemoteStartTransaction")

    def decode_validate():
        frame = json.loads(incoming)
        validate(tables[0], frame[3])

    (b, us), = measure(decode_validate, n=200)
    print("BENCH decode+validate.RemoteStartTransaction %d %.1f" % (b, us))


main()
