# The per-version data of OCPP-J: subprotocol name, schema tables, actions each way.
"""What the RPC session needs to know about one OCPP version, as data.

    from ocppj.protocol import V16, of
    of("2.0.1").subprotocol    # "ocpp2.0.1"
    V16.subprotocol            # "ocpp1.6"
    V16.schema("Reset")        # (request table, response table) or None
    "Reset" in V16.incoming    # actions the central system may send us
"""

from ocppj import schemas


class Protocol:
    def __init__(self, name, package):
        self.name = name  # the WebSocket subprotocol, also the key of errors.SPELLINGS
        self.subprotocol = name
        self.package = package  # "v16" or "v201": ocppj.schemas.<package>
        mod = __import__("ocppj.schemas." + package, None, None, ("CSMS_TO_CP",))
        self.incoming = mod.CSMS_TO_CP
        self.outgoing = mod.CP_TO_CSMS

    def schema(self, action):
        return schemas.load(self.package, action)


V16 = Protocol("ocpp1.6", "v16")
VERSIONS = ("1.6", "2.0.1")  # config.json csms.ocppVersion


def of(version):
    """The Protocol of an OCPP version ("1.6" or "2.0.1"); 2.0.1's tables are imported only
    when it is the configured one."""
    if version == "2.0.1":
        return Protocol("ocpp2.0.1", "v201")
    return V16
