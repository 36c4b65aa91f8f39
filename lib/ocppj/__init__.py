# The OCPP-J engine (package docstring only: importing it costs nothing).
"""OCPP-J engine shared by 1.6 and 2.0.1.

    from ocppj import schemas
    from ocppj.errors import CallError, spell
    from ocppj.validate import validate, ValidationError

    request, response = schemas.load("v16", "RemoteStartTransaction")
    try:
        validate(request, payload)
    except CallError as e:                     # ValidationError is a CallError
        send_error(spell("v16", e.code), e.description)

Modules: schemas (generated tables per action and the actions of each direction; tables are
made by tools/gen_schemas.py from the ocpp package's JSON schemas), validate (payload
checks), errors (CALLERROR codes per version, CallError).

Named ocppj, not ocpp: the host tests import the PyPI `ocpp` package (the test central system)
in the same process, with lib/ first on sys.path.
"""
