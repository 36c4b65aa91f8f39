# OCPP-J CALLERROR codes: one generic set, spelled per OCPP version, parsed from either spelling.
"""Error codes of OCPP-J CALLERROR frames and the exception handlers raise to send one.

    from ocppj.errors import CallError, spell, parse
    raise CallError("NotSupported", "plain UpdateFirmware: use SignedUpdateFirmware")
    spell("v201", "FormationViolation")    # -> "FormatViolation"
    parse("OccurrenceConstraintViolation")  # -> "OccurenceConstraintViolation"

The generic codes are the OCPP-J 1.6 spellings (section 4.2.3, table 7) plus the two codes
2.0.1 added. OCPP-J 1.6 errata 5.1 and 5.2 keep the typos "OccurenceConstraintViolation" and
"FormationViolation"; OCPP-J 2.0.1 (section 4.3, RPC Framework Error Codes) spells them
"OccurrenceConstraintViolation" and "FormatViolation" and adds "RpcFrameworkError" and
"MessageTypeNotSupported", which 1.6 sends as "GenericError". A central system may use either
spelling whatever the version, so `parse` accepts both.
"""

NOT_IMPLEMENTED = "NotImplemented"
NOT_SUPPORTED = "NotSupported"
INTERNAL_ERROR = "InternalError"
PROTOCOL_ERROR = "ProtocolError"
SECURITY_ERROR = "SecurityError"
FORMATION_VIOLATION = "FormationViolation"
PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
GENERIC_ERROR = "GenericError"
RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"

# Every generic code (the OCPP-J 1.6 table, then the 2.0.1 additions).
CODES = (
    NOT_IMPLEMENTED, NOT_SUPPORTED, INTERNAL_ERROR, PROTOCOL_ERROR, SECURITY_ERROR,
    FORMATION_VIOLATION, PROPERTY_CONSTRAINT_VIOLATION, OCCURENCE_CONSTRAINT_VIOLATION,
    TYPE_CONSTRAINT_VIOLATION, GENERIC_ERROR, RPC_FRAMEWORK_ERROR, MESSAGE_TYPE_NOT_SUPPORTED,
)

# Per version: the generic codes spelled differently on the wire (all others are as generic).
_V16 = {
    RPC_FRAMEWORK_ERROR: GENERIC_ERROR,
    MESSAGE_TYPE_NOT_SUPPORTED: GENERIC_ERROR,
}
_V201 = {
    FORMATION_VIOLATION: "FormatViolation",
    OCCURENCE_CONSTRAINT_VIOLATION: "OccurrenceConstraintViolation",
}
# Keyed by the schema package name and by the WebSocket subprotocol name.
SPELLINGS = {"v16": _V16, "ocpp1.6": _V16, "v201": _V201, "ocpp2.0.1": _V201}

# Wire spellings that are not generic codes themselves.
_ALIASES = {
    "FormatViolation": FORMATION_VIOLATION,
    "OccurrenceConstraintViolation": OCCURENCE_CONSTRAINT_VIOLATION,
}


def spell(version, code):
    """The wire spelling of generic `code` for `version` ("v16"/"ocpp1.6", "v201"/"ocpp2.0.1")."""
    return SPELLINGS[version].get(code, code)


def parse(text):
    """The generic code of a received errorCode in either spelling; GenericError if unknown."""
    if text in CODES:
        return text
    return _ALIASES.get(text, GENERIC_ERROR)


class CallError(Exception):
    """Raise in a handler to answer with a CALLERROR.

    `code` is a generic code (CODES); `description` a short text (also str(e)); `details` a
    dict for errorDetails, or None for the empty object.
    """

    def __init__(self, code, description="", details=None):
        super().__init__(code, description)
        self.code = code
        self.description = description
        self.details = details

    def __str__(self):
        return self.description
