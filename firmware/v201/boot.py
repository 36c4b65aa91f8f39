# OCPP 2.0.1 BootNotification (B01-B03): the reason and the charging station from config.json.
"""    boot = Boot(session, cfg["identity"], "PowerUp")   # for firmware/registration.py

chargingStation is made of the same `identity` section as the 1.6 BootNotification (one
source): model <- chargePointModel, vendorName <- chargePointVendor, serialNumber <-
chargePointSerialNumber, firmwareVersion, modem {iccid, imsi} when configured. The reason
comes from firmware/model/bootreason.py (the recorded intent or the reset cause); a
BootNotification sent for a TriggerMessage says Triggered.
"""

from firmware.registration import BootMessage

# (2.0.1 field, identity key): the same order as the schema's ChargingStationType
_FIELDS = (("model", "chargePointModel"), ("vendorName", "chargePointVendor"),
           ("serialNumber", "chargePointSerialNumber"), ("firmwareVersion", "firmwareVersion"))


def boot_payload(identity, reason):
    station = {}
    for field, key in _FIELDS:
        if identity.get(key):
            station[field] = identity[key]
    modem = {}
    for key in ("iccid", "imsi"):
        if identity.get(key):
            modem[key] = identity[key]
    if modem:
        station["modem"] = modem
    return {"reason": reason, "chargingStation": station}


class Boot(BootMessage):
    def __init__(self, session, identity, reason):
        BootMessage.__init__(self, session, boot_payload(identity, reason))

    async def send(self, triggered=False):
        if triggered:
            self.payload["reason"] = "Triggered"
        return await BootMessage.send(self, triggered)
