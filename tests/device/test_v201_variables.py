# Device tests of GetVariables / SetVariables (firmware/v201/variables.py) through a real OCPP-J
# session and encoder: several elements, every status, the DeviceDataCtrlr limits, answers
# that fit the frame, after_reply for a listener, and the password kept out of the frame log.
import logger
from v201rig import FRAME_BYTES, Rig

PASSWORD = "Secret-Pass_0123456789"


def cv(component, variable, evse=None, connector=None, instance=None, cinstance=None,
       attribute=None, value=None):
    """A GetVariableData (or, with a value, a SetVariableData) element."""
    c = {"name": component}
    if evse is not None:
        c["evse"] = {"id": evse} if connector is None else {"id": evse, "connectorId": connector}
    if cinstance is not None:
        c["instance"] = cinstance
    v = {"name": variable}
    if instance is not None:
        v["instance"] = instance
    d = {"component": c, "variable": v}
    if attribute is not None:
        d["attributeType"] = attribute
    if value is not None:
        d["attributeValue"] = value
    return d


async def get(rig, *data):
    answer = await rig.cs.request("GetVariables", {"getVariableData": list(data)})
    assert answer[0] == 3, answer
    return answer[2]["getVariableResult"]


async def put(rig, *data):
    answer = await rig.cs.request("SetVariables", {"setVariableData": list(data)})
    assert answer[0] == 3, answer
    return answer[2]["setVariableResult"]


async def test_get_variables_answers_each_element_in_order_with_every_status():
    rig = Rig(fixed={("SecurityCtrlr", "BasicAuthPassword"): PASSWORD})
    data = [cv("OCPPCommCtrlr", "OfflineThreshold"),
            cv("OCPPCommCtrlr", "OfflineThreshold", attribute="Actual"),
            cv("UnknownComponent", "OfflineThreshold"),
            cv("OCPPCommCtrlr", "UnknownVariable"),
            cv("OCPPCommCtrlr", "OfflineThreshold", attribute="Target"),
            cv("SecurityCtrlr", "BasicAuthPassword"),
            cv("EVSE", "AvailabilityState", evse=2),
            cv("Connector", "ConnectorType", evse=1, connector=1)]
    results = await get(rig, *data)
    assert len(results) == len(data), results  # B06.FR.01
    statuses = [r["attributeStatus"] for r in results]
    assert statuses == ["Accepted", "Accepted", "UnknownComponent", "UnknownVariable",
                        "NotSupportedAttributeType", "Rejected", "Accepted", "Accepted"], \
        statuses
    for d, r in zip(data, results):
        assert r["component"] == d["component"] and r["variable"] == d["variable"], r  # FR.02
        assert r["attributeType"] == d.get("attributeType", "Actual"), r  # FR.03, FR.11
        if r["attributeStatus"] == "Accepted":
            assert "attributeStatusInfo" not in r, r
        else:
            assert "attributeValue" not in r, r  # FR.06-08, and FR.09 for write-only
            assert r["attributeStatusInfo"]["reasonCode"], r
    assert [r.get("attributeValue") for r in results] == [
        "600", "600", None, None, None, None, "Available", "sType2"]
    assert results[5]["attributeStatusInfo"] == {"reasonCode": "WriteOnly"}
    rig.close()


async def test_set_variables_answers_each_element_and_the_values_change():
    rig = Rig()
    data = [cv("OCPPCommCtrlr", "OfflineThreshold", value="300"),
            cv("AuthCtrlr", "LocalAuthorizeOffline", attribute="Actual", value="false"),
            cv("UnknownComponent", "OfflineThreshold", value="300"),
            cv("OCPPCommCtrlr", "UnknownVariable", value="1"),
            cv("OCPPCommCtrlr", "OfflineThreshold", attribute="Target", value="1"),
            cv("OCPPCommCtrlr", "MessageTimeout", instance="Default", value="60"),
            cv("OCPPCommCtrlr", "OfflineThreshold", value="300.1"),
            cv("EVSE", "ACCurrent", evse=1, attribute="MaxSet", value="20")]
    results = await put(rig, *data)
    statuses = [r["attributeStatus"] for r in results]
    assert statuses == ["Accepted", "Accepted", "UnknownComponent", "UnknownVariable",
                        "NotSupportedAttributeType", "Rejected", "Rejected", "Accepted"], \
        statuses
    for d, r in zip(data, results):
        assert r["component"] == d["component"] and r["variable"] == d["variable"], r
        assert r["attributeType"] == d.get("attributeType", "Actual"), r  # B05.FR.12
    assert results[5]["attributeStatusInfo"] == {"reasonCode": "ReadOnly"}
    assert results[6]["attributeStatusInfo"] == {"reasonCode": "InvalidValue"}
    # the first element set 300, the later invalid one did not undo it
    values = await get(rig, cv("OCPPCommCtrlr", "OfflineThreshold"),
                       cv("AuthCtrlr", "LocalAuthorizeOffline"),
                       cv("EVSE", "ACCurrent", evse=1, attribute="MaxSet"),
                       cv("EVSE", "ACCurrent", evse=2, attribute="MaxSet"))
    assert [r["attributeValue"] for r in values] == ["300", "false", "20", ""], values
    rig.close()


async def test_too_many_elements_is_an_occurrence_constraint_violation():
    rig = Rig()
    eight = [cv("OCPPCommCtrlr", "OfflineThreshold")] * 8  # ItemsPerMessage is 8
    assert len(await get(rig, *eight)) == 8
    answer = await rig.cs.request("GetVariables", {"getVariableData": eight * 2})
    assert answer[0] == 4 and answer[2] == "OccurrenceConstraintViolation", answer  # FR.16
    setting = [cv("OCPPCommCtrlr", "OfflineThreshold", value="60")] * 9
    answer = await rig.cs.request("SetVariables", {"setVariableData": setting})
    assert answer[0] == 4 and answer[2] == "OccurrenceConstraintViolation", answer
    assert rig.dm.get("OCPPCommCtrlr", "OfflineThreshold") == "600", "nothing was set"
    rig.close()


async def test_the_limits_come_from_the_device_model():
    rig = Rig(fixed={("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"): "2",
                     ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables"): "200"})
    answer = await rig.cs.request("GetVariables", {"getVariableData": [
        cv("OCPPCommCtrlr", "OfflineThreshold")] * 3})
    assert answer[0] == 4 and answer[2] == "OccurrenceConstraintViolation", answer
    short = cv("SecurityCtrlr", "OrganizationName", value="ACME")
    assert (await put(rig, short))[0]["attributeStatus"] == "Accepted"
    long = cv("SecurityCtrlr", "OrganizationName", value="A" * 64)  # a frame over 200 bytes
    answer = await rig.cs.request("SetVariables", {"setVariableData": [long]})
    assert answer[0] == 4 and answer[2] == "FormatViolation", answer  # B06.FR.17's rule
    assert rig.dm.get("SecurityCtrlr", "OrganizationName") == "ACME"
    rig.close()


async def test_the_largest_answers_fit_the_frame_buffer():
    # ItemsPerMessage elements with every name and instance at its 50-character maximum:
    # unknown components, so each is echoed back whole with a status info.
    rig = Rig()
    n = "N" * 50
    data = [cv(n, n, evse=9, connector=9, instance=n, cinstance=n)] * 8
    results = await get(rig, *data)
    assert [r["attributeStatus"] for r in results] == ["UnknownComponent"] * 8
    data = [cv(n, n, evse=9, connector=9, instance=n, cinstance=n, value="V" * 50)] * 8
    assert [r["attributeStatus"] for r in await put(rig, *data)] == ["UnknownComponent"] * 8
    # the longest values the model holds, read eight times over
    await put(rig, cv("SecurityCtrlr", "OrganizationName", value="\u00e9" * 64))
    data = [cv("SecurityCtrlr", "OrganizationName")] * 8
    results = await get(rig, *data)
    assert [r["attributeValue"] for r in results] == ["\u00e9" * 64] * 8
    assert max(len(f) for f in rig.cs.frames) <= FRAME_BYTES
    rig.close()


async def test_a_listener_acts_after_the_answer_with_after_reply():
    rig = Rig(fixed={("SecurityCtrlr", "BasicAuthPassword"): PASSWORD})
    events = []

    def reconnect():
        events.append(("reconnect", len(rig.cs.answers)))  # answers seen when it runs

    def password_changed(value):
        events.append(("changed", len(rig.cs.answers)))
        rig.session.after_reply(reconnect)  # A01: reconnect once the answer is out

    rig.dm.on_change("SecurityCtrlr", "BasicAuthPassword", password_changed)
    new = "New-Pass-0123456789"
    results = await put(rig, cv("SecurityCtrlr", "BasicAuthPassword", value=new))
    assert results[0]["attributeStatus"] == "Accepted"
    assert events == [("changed", 0), ("reconnect", 1)], events
    assert rig.dm.get("SecurityCtrlr", "BasicAuthPassword") == new
    rig.close()


async def test_the_frame_log_never_shows_the_password():
    rig = Rig()
    lines = []
    logger.set_sink(lines.append, lambda prefix, data: lines.append(prefix +
                                                                     logger.text_of(data)))
    try:
        new = "Log-Pass-0123456789abc"
        for name in ("BasicAuthPassword", "basicAUTHpassword"):  # names are case-insensitive
            results = await put(rig, cv("OCPPCommCtrlr", "OfflineThreshold", value="300"),
                                cv("SecurityCtrlr", name, value=new))
            assert results[1]["attributeStatus"] == "Accepted", results
        # a SetVariables of something else is logged as usual, both ways
        await put(rig, cv("OCPPCommCtrlr", "OfflineThreshold", value="301"))
    finally:
        logger.set_sink(None)
    text = "\n".join(lines)
    assert new not in text, text
    assert text.count("<- <frame setting a secret") == 2, text
    assert text.count("-> <frame naming BasicAuthPassword") == 1, text
    assert '"attributeValue": "301"' in text or '"attributeValue":"301"' in text, text
    assert text.count('"setVariableResult"') == 2, text  # the lower-case echo and the last
    rig.close()


async def test_a_malformed_request_is_refused_by_the_schema_first():
    rig = Rig()
    answer = await rig.cs.request("GetVariables", {"getVariableData": []})
    assert answer[0] == 4 and answer[2] == "OccurrenceConstraintViolation", answer  # minItems
    answer = await rig.cs.request("SetVariables", {"setVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}]})
    assert answer[0] == 4 and answer[2] == "ProtocolError", answer  # attributeValue missing
    rig.close()

