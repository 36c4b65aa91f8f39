# Device tests of GetBaseReport / GetReport (firmware/v201/reports.py) through a real OCPP-J
# session and encoder: the answer, then NotifyReport parts (requestId, seqNo, tbc, generatedAt),
# each within ItemsPerMessage and the frame buffer, none lost; EmptyResultSet, Rejected while
# busy, the GetReport limits, a failing central system, Pending, and the heap a report holds.
import gc
import json

from devtest import Captured, measures_heap
from firmware.v201 import reports as R
from firmware.v201.jsonsize import size
from ocppj import schemas
from ocppj.encoder import Encoder
from v201rig import NOW, Rig, address, enum_of, items


def check_parts(rig, parts, request_id, per_part=8, frame=4096):
    """The parts of one report are numbered and flagged right and each fits its limits."""
    assert [p["seqNo"] for p in parts] == list(range(len(parts))), parts  # B07.FR.10
    assert [p["tbc"] for p in parts] == [True] * (len(parts) - 1) + [False], parts
    for p in parts:
        assert p["requestId"] == request_id, p  # B07.FR.04
        assert p["generatedAt"] == NOW, p
        assert 1 <= len(p["reportData"]) <= per_part, len(p["reportData"])
    notify = [f for f in rig.cs.frames if b'"NotifyReport"' in f]
    assert len(notify) == len(parts), (len(notify), len(parts))
    assert max(len(f) for f in notify) <= frame, max(len(f) for f in notify)


def normal(data):
    """A ReportData as it reads after a trip through JSON."""
    return json.loads(json.dumps(data))


def test_statuses_bases_and_criteria_are_the_schema_enums():
    base_request, base_response = schemas.load("v201", "GetBaseReport")
    report_request, report_response = schemas.load("v201", "GetReport")
    for status in (R.ACCEPTED, R.REJECTED, R.EMPTY_RESULT_SET):
        assert "|" + status + "|" in enum_of(base_response, "status"), status
        assert "|" + status + "|" in enum_of(report_response, "status"), status
    rig = Rig()
    for base in enum_of(base_request, "reportBase").strip("|").split("|"):
        assert list(rig.dm.report(base)), base  # every base is supported (B07.FR.12)
    for criterion in enum_of(report_request, "componentCriteria").strip("|").split("|"):
        got = list(rig.dm.custom_report(None, [criterion]))  # no component has a Problem
        assert (got == []) == (criterion == "Problem"), criterion
    assert "|Problem|" in enum_of(report_request, "componentCriteria")  # dmreport's one name
    rig.close()


def test_jsonsize_counts_what_the_encoder_writes():
    enc = Encoder(4096)
    rig = Rig(fixed={("SecurityCtrlr", "BasicAuthPassword"): "Secret-Pass_0123456789"})
    payloads = [{"requestId": -12, "tbc": False, "seqNo": 0, "reportData": [], "x": None},
                {"a": [1, True, "q\"uote\\", "tab\t", "\u0001"], "b": {}}]
    payloads += [{"reportData": [d]} for d in rig.dm.report("FullInventory")]
    for p in payloads:
        n = enc.call("1", "NotifyReport", p) - len('[2,"1","NotifyReport",]')
        assert size(p) == n, (size(p), n, p)  # exact for ASCII
    text = {"s": "\u00e9\u20ac\U0001f600"}  # 2, 3 and 4 bytes of UTF-8
    n = enc.call("1", "X", text) - len('[2,"1","X",]')
    assert n <= size(text) <= n + 6, (n, size(text))
    rig.close()


async def test_each_base_report_is_sent_whole_in_numbered_parts():
    rig = Rig(fixed={("SecurityCtrlr", "BasicAuthPassword"): "Secret-Pass_0123456789"})
    for n, base in enumerate(("FullInventory", "ConfigurationInventory", "SummaryInventory")):
        rig.cs.frames.clear()
        answer = await rig.cs.request("GetBaseReport", {"requestId": 40 + n,
                                                        "reportBase": base})
        assert answer[2] == {"status": "Accepted"}, answer  # B07.FR.01
        parts = await rig.report(40 + n)
        check_parts(rig, parts, 40 + n)
        expected = [normal(d) for d in rig.dm.report(base)]
        assert items(parts) == expected, base  # every item, once, in order
    assert len(items(await rig.report(40))) == 62, "2 EVSEs: 42 + 2 x 6 + 2 x 4"
    rig.close()


async def test_a_small_frame_and_few_items_per_part_lose_nothing():
    rig = Rig(frame=1024, fixed={("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"): "5"})
    await rig.cs.request("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    parts = await rig.report(1)
    check_parts(rig, parts, 1, per_part=5, frame=1024)
    assert items(parts) == [normal(d) for d in rig.dm.report("FullInventory")]
    # the frame, not the count, closed most parts: the next item would not have fitted
    assert len(parts) > 62 // 5 + 1, len(parts)
    rig.close()

    rig = Rig(fixed={("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"): "3"})
    await rig.cs.request("GetBaseReport", {"requestId": 2, "reportBase": "FullInventory"})
    parts = await rig.report(2)
    check_parts(rig, parts, 2, per_part=3)
    assert len(parts) == (62 + 2) // 3, len(parts)
    rig.close()


async def test_get_report_of_component_variables():
    rig = Rig(actual={("EVSE", "AvailabilityState"): lambda e, c: "Occupied"})
    request = {"requestId": 7, "componentVariable": [
        {"component": {"name": "EVSE", "evse": {"id": 1}},
         "variable": {"name": "AvailabilityState"}}]}  # TC_B_17
    answer = await rig.cs.request("GetReport", request)
    assert answer[2] == {"status": "Accepted"}, answer
    parts = await rig.report(7)
    check_parts(rig, parts, 7)
    data = items(parts)
    assert [address(d) for d in data] == [("EVSE", 1, None, "AvailabilityState", None)]
    assert data[0]["variableAttribute"] == [{"type": "Actual", "mutability": "ReadOnly",
                                             "value": "Occupied"}]
    assert data[0]["variableCharacteristics"] == {
        "dataType": "OptionList", "supportsMonitoring": False,
        "valuesList": "Available,Occupied,Reserved,Unavailable,Faulted"}  # B08.FR.12
    rig.close()


async def test_get_report_of_criteria_and_an_empty_result():
    rig = Rig(actual={("EVSE", "Available"): lambda e, c: "false" if e == 2 else "true"})
    answer = await rig.cs.request("GetReport", {"requestId": 8,
                                                "componentCriteria": ["Available"]})
    assert answer[2] == {"status": "Accepted"}, answer
    parts = await rig.report(8)
    check_parts(rig, parts, 8)
    assert [address(d) for d in items(parts)] == [
        address(d) for d in rig.dm.report("FullInventory")
        if address(d)[:2] != ("EVSE", 2)]
    # TC_B_18: nothing has a Problem
    sent = len(rig.cs.sent("NotifyReport"))
    answer = await rig.cs.request("GetReport", {"requestId": 9, "componentCriteria": ["Problem"],
                                                "componentVariable": [
        {"component": {"name": "EVSE", "evse": {"id": 1}},
         "variable": {"name": "AvailabilityState"}}]})
    assert answer[2] == {"status": "EmptyResultSet", "statusInfo": {"reasonCode": "NotFound"}}
    answer = await rig.cs.request("GetReport", {"requestId": 10, "componentVariable": [
        {"component": {"name": "NoSuchCtrlr"}}]})
    assert answer[2]["status"] == "EmptyResultSet", answer  # B08.FR.15
    await rig.until(lambda: False, 50)
    assert len(rig.cs.sent("NotifyReport")) == sent, "no NotifyReport after EmptyResultSet"
    rig.close()


async def test_get_report_limits_are_callerrors():
    rig = Rig()
    one = {"component": {"name": "OCPPCommCtrlr"}}
    answer = await rig.cs.request("GetReport", {"requestId": 1, "componentVariable": [one] * 9})
    assert answer[0] == 4 and answer[2] == "OccurrenceConstraintViolation", answer  # FR.17
    rig.close()
    rig = Rig(fixed={("DeviceDataCtrlr", "BytesPerMessage", "GetReport"): "100"})
    answer = await rig.cs.request("GetReport", {"requestId": 1, "componentVariable": [one] * 3})
    assert answer[0] == 4 and answer[2] == "FormatViolation", answer  # B08.FR.18
    assert rig.cs.sent("NotifyReport") == []
    rig.close()


async def test_a_second_request_while_a_report_is_sent_is_rejected():
    import asyncio
    rig = Rig()
    rig.cs.gate = asyncio.Event()  # the central system answers no NotifyReport yet
    answer = await rig.cs.request("GetBaseReport", {"requestId": 1,
                                                    "reportBase": "FullInventory"})
    assert answer[2]["status"] == "Accepted"
    await rig.until(lambda: rig.cs.sent("NotifyReport"))
    for payload in ({"requestId": 2, "reportBase": "ConfigurationInventory"},):
        answer = await rig.cs.request("GetBaseReport", payload)
        assert answer[2] == {"status": "Rejected"}, answer  # B07.FR.13
    answer = await rig.cs.request("GetReport", {"requestId": 3,
                                                "componentCriteria": ["Available"]})
    assert answer[2] == {"status": "Rejected"}, answer  # B08.FR.16
    rig.cs.gate.set()
    parts = await rig.report(1)
    check_parts(rig, parts, 1)
    answer = await rig.cs.request("GetBaseReport", {"requestId": 4,
                                                    "reportBase": "SummaryInventory"})
    assert answer[2]["status"] == "Accepted", answer
    assert len(await rig.report(4)) == 1
    assert [p["requestId"] for p in rig.cs.sent("NotifyReport")].count(2) == 0
    rig.close()


async def test_a_failed_part_ends_the_report_and_frees_the_service():
    def refuse(action, payload):
        return [4, "InternalError", "no room", {}]

    rig = Rig(answer=refuse)
    with Captured() as cap:
        await rig.cs.request("GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"})
        await rig.until(lambda: not rig.reports.busy)
    assert [p["seqNo"] for p in rig.cs.sent("NotifyReport")] == [0], "stopped at the first"
    assert cap.count("report 5 stopped") == 1, cap.lines
    rig.cs.answer = lambda action, payload: [3, {}]
    answer = await rig.cs.request("GetBaseReport", {"requestId": 6,
                                                    "reportBase": "FullInventory"})
    assert answer[2]["status"] == "Accepted"
    assert len(items(await rig.report(6))) == 62
    rig.close()


async def test_reports_go_out_while_the_registration_is_pending():
    rig = Rig(registration="Pending")  # B02: the central system may ask for them then
    await rig.cs.request("GetBaseReport", {"requestId": 3, "reportBase": "SummaryInventory"})
    parts = await rig.report(3)
    assert [address(d)[3] for d in items(parts)] == ["AvailabilityState"] * 3, parts
    rig.close()


@measures_heap
async def test_a_report_holds_one_part_not_the_inventory():
    rig = Rig(evses=4, frame=1024)
    rig.cs.keep = False  # the central system keeps nothing: only the station's heap counts
    rig.cs.inline = True  # and starts no task per answer (the test runner keeps each task)
    seen = [0, 0, True, 0]  # the most held, parts, tbc of the last, seqNo out of order
    before = 0

    def measure(action, payload):
        gc.collect()
        seen[0] = max(seen[0], gc.mem_alloc() - before)
        seen[3] += payload["seqNo"] != seen[1]
        seen[1] += 1
        seen[2] = payload["tbc"]

    rig.cs.on_call = measure
    await rig.cs.request("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    gc.collect()
    before = gc.mem_alloc()
    await rig.until(lambda: seen[1] and not seen[2])
    await rig.until(lambda: not rig.reports.busy)
    gc.collect()
    start = gc.mem_alloc()
    whole = list(rig.dm.report("FullInventory"))
    gc.collect()
    inventory = gc.mem_alloc() - start
    print("FullInventory of 4 EVSEs: %d ReportData, %d bytes if held at once; sent in %d "
          "parts, at most %d bytes held meanwhile" % (len(whole), inventory, seen[1], seen[0]))
    assert seen[1] > 10 and seen[3] == 0, seen
    assert seen[0] < inventory // 4, (seen[0], inventory)
    rig.close()
