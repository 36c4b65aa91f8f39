# Host test: every NotifyReport part the device model's reports send validates against the
# official OCPP 2.0.1 schema of the `ocpp` package, and the parts together are the inventory.
"""The oracle is independent of the firmware's own validator: jsonschema with the JSON schema
files the `ocpp` package (PyPI) ships, found through its installed distribution. The reports
run on the firmware's real Session and Encoder (tests/device/v201rig.py); each sent frame is
parsed back and validated, for the three base reports, several GetReport selections, and the
station's answers (GetBaseReport, GetReport, GetVariables, SetVariables responses) too.
"""

import datetime
import importlib.metadata
import json
import re

import jsonschema
import pytest

from firmware.v201 import dmtable as T
from v201rig import Rig, address, items

PASSWORD = "Secret-Pass_0123456789"
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _date_time(text):
    if not isinstance(text, str) or not _RFC3339.fullmatch(text):
        return False
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


_VALIDATORS = {}


def schema(name):
    """A jsonschema validator of the `ocpp` package's OCPP 2.0.1 schema `name`."""
    if name not in _VALIDATORS:
        dist = importlib.metadata.distribution("ocpp")
        path = dist.locate_file("ocpp/v201/schemas/%s.json" % name)
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        cls = jsonschema.validators.validator_for(doc)
        _VALIDATORS[name] = cls(doc, format_checker=FORMATS)
    return _VALIDATORS[name]


def check(name, payload):
    errors = sorted(schema(name).iter_errors(payload), key=str)
    assert not errors, "%s: %s\n%s" % (name, errors[0].message, json.dumps(payload)[:2000])


def make_rig(**kwargs):
    return Rig(actual={("EVSE", "Available"): lambda e, c: "false" if e == 2 else "true",
                       ("EVSE", "Problem"): lambda e, c: "true" if e == 1 else "false",
                       ("Connector", "AvailabilityState"): lambda e, c: "Faulted"},
               fixed={("SecurityCtrlr", "BasicAuthPassword"): PASSWORD,
                      ("SecurityCtrlr", "Identity"): "CP-0001"},
               max_limits={("EVSE", "Power"): 22080}, **kwargs)


async def run(rig, action, payload, request_id):
    answer = await rig.cs.request(action, payload)
    assert answer[0] == 3, answer
    check(action + "Response", answer[2])
    if answer[2]["status"] != "Accepted":
        return answer[2]["status"], []
    parts = await rig.report(request_id)
    for p in parts:
        check("NotifyReportRequest", p)
    return "Accepted", parts


@pytest.mark.parametrize("frame", [4096, 1024])
async def test_every_part_of_every_base_report_is_valid_and_the_inventory_is_whole(frame):
    rig = make_rig(frame=frame)
    try:
        reports = {}
        for n, base in enumerate(("FullInventory", "ConfigurationInventory",
                                  "SummaryInventory")):
            status, parts = await run(rig, "GetBaseReport",
                                      {"requestId": n + 1, "reportBase": base}, n + 1)
            assert status == "Accepted" and parts, base
            reports[base] = items(parts)
        # FullInventory: every component, variable and attribute of the table exactly once
        got = {}
        for d in reports["FullInventory"]:
            key = address(d)
            assert key not in got, "reported twice: %r" % (key,)
            got[key] = [a["type"] for a in d["variableAttribute"]]
            if "WriteOnly" in [a["mutability"] for a in d["variableAttribute"]]:
                assert "value" not in d["variableAttribute"][0], d  # TC_B_13
            else:
                assert all("value" in a for a in d["variableAttribute"]), d
        expected = {}
        for r in T.TABLE:
            scope = r[3] & T.SCOPE_MASK
            attributes = [T.ATTRIBUTES[a] for a in range(4) if r[3] & (T.ACTUAL << a)]
            for e in (1, 2) if scope != T.STATION else (None,):
                expected[(r[0], e, 1 if scope == T.CONNECTOR else None, r[1], r[2])] = \
                    attributes
        assert got == expected
        # list types carry valuesList and a value from it (TC_B_13's checks)
        for d in reports["FullInventory"]:
            c = d["variableCharacteristics"]
            if c["dataType"] in ("OptionList", "SequenceList", "MemberList"):
                allowed = c["valuesList"].split(",")
                for a in d["variableAttribute"]:
                    assert a["value"] == "" or set(a["value"].split(",")) <= set(allowed), d
        # ConfigurationInventory: the writable ones; SummaryInventory: the states, problems
        assert {address(d) for d in reports["ConfigurationInventory"]} < set(got)
        assert [address(d)[3] for d in reports["SummaryInventory"]] == [
            "AvailabilityState", "AvailabilityState", "Problem", "AvailabilityState",
            "AvailabilityState", "AvailabilityState"]
        assert max(len(f) for f in rig.cs.frames) <= frame
    finally:
        rig.close()


GET_REPORTS = (
    ({"componentCriteria": ["Available"]}, "Accepted"),
    ({"componentCriteria": ["Problem"]}, "Accepted"),
    ({"componentCriteria": ["Enabled", "Active"]}, "Accepted"),
    ({"componentVariable": [{"component": {"name": "EVSE", "evse": {"id": 1}},
                             "variable": {"name": "AvailabilityState"}}]}, "Accepted"),
    ({"componentVariable": [{"component": {"name": "Connector"}},
                            {"component": {"name": "SecurityCtrlr"}}]}, "Accepted"),
    ({"componentCriteria": ["Problem"],
      "componentVariable": [{"component": {"name": "EVSE", "evse": {"id": 2}}}]},
     "EmptyResultSet"),
)


@pytest.mark.parametrize("selection,status", GET_REPORTS)
async def test_every_part_of_a_custom_report_is_valid(selection, status):
    rig = make_rig()
    try:
        payload = dict(selection, requestId=77)
        got, parts = await run(rig, "GetReport", payload, 77)
        assert got == status
        data = items(parts)
        assert len({address(d) for d in data}) == len(data), "each variable once"
        if "componentCriteria" in selection and "Problem" in selection["componentCriteria"] \
                and got == "Accepted":
            assert {address(d)[:2] for d in data} == {("EVSE", 1)}
    finally:
        rig.close()


async def test_the_variables_answers_are_valid():
    rig = make_rig()
    try:
        data = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}},
                {"component": {"name": "SecurityCtrlr"},
                 "variable": {"name": "BasicAuthPassword"}},
                {"component": {"name": "Nope"}, "variable": {"name": "X"}},
                {"component": {"name": "EVSE", "evse": {"id": 1}},
                 "variable": {"name": "ACCurrent"}, "attributeType": "MaxSet"}]
        answer = await rig.cs.request("GetVariables", {"getVariableData": data})
        check("GetVariablesResponse", answer[2])
        for d in data:
            d["attributeValue"] = "16"
        answer = await rig.cs.request("SetVariables", {"setVariableData": data})
        check("SetVariablesResponse", answer[2])
        assert [r["attributeStatus"] for r in answer[2]["setVariableResult"]] == [
            "Accepted", "Rejected", "UnknownComponent", "Accepted"]
    finally:
        rig.close()
