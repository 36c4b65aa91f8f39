# GetVariables and SetVariables (OCPP 2.0.1 B06, B05): the device model read and written.
"""The handlers of GetVariablesRequest and SetVariablesRequest over a DeviceModel.

    variables = Variables(session, dm)
    variables.register(session)        # session.handlers["GetVariables"] / ["SetVariables"]

One result per element, in the request's order, with the element's component and variable as
sent (B05/B06.FR.01-03) and its attributeType, Actual when it had none (B05.FR.12,
B06.FR.11). Statuses and attributeStatusInfo reason codes come from DeviceModel.read/set.

The limits of DeviceDataCtrlr (instances GetVariables / SetVariables) are enforced first
(DeviceModel.check_request): more elements than ItemsPerMessage is a CALLERROR
OccurrenceConstraintViolation (B06.FR.16; the same for SetVariables, whose chapter names no
answer), a longer message than BytesPerMessage a CALLERROR FormatViolation (B06.FR.17).
"""

ACTIONS = ("GetVariables", "SetVariables")


def _item(d):
    """(component, variable, attribute, (evse, connector, instance, attribute, component
    instance)) of one GetVariableData or SetVariableData: what the device model is asked."""
    component = d["component"]
    variable = d["variable"]
    attribute = d.get("attributeType") or "Actual"
    evse, connector = _address(component)
    return component, variable, attribute, (evse, connector, variable.get("instance"),
                                            attribute, component.get("instance"))


def _result(status, attribute, component, variable, info):
    result = {"attributeStatus": status, "attributeType": attribute, "component": component,
              "variable": variable}
    if info is not None:
        result["attributeStatusInfo"] = info
    return result


def _address(component):
    """(evse id, connector id) of a ComponentType."""
    evse = component.get("evse")
    if evse is None:
        return None, None
    return evse["id"], evse.get("connectorId")


class Variables:
    def __init__(self, session, dm):
        self.session = session
        self.dm = dm

    def register(self, session):
        session.handlers["GetVariables"] = self.get_variables
        session.handlers["SetVariables"] = self.set_variables

    def get_variables(self, payload):
        data = payload["getVariableData"]
        self.dm.check_request("GetVariables", payload, len(data))
        results = []
        for d in data:
            component, variable, attribute, where = _item(d)
            status, value, info = self.dm.read(component["name"], variable["name"], *where)
            result = _result(status, attribute, component, variable, info)
            if value is not None:
                result["attributeValue"] = value
            results.append(result)
        return {"getVariableResult": results}

    def set_variables(self, payload):
        data = payload["setVariableData"]
        self.dm.check_request("SetVariables", payload, len(data))
        results = []
        for d in data:
            component, variable, attribute, where = _item(d)
            status, info = self.dm.set(component["name"], variable["name"],
                                       d["attributeValue"], *where)
            results.append(_result(status, attribute, component, variable, info))
        return {"setVariableResult": results}
