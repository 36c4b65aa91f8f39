# Local OCPP-J central system (CSMS), 1.6 and 2.0.1, for bench work and end-to-end tests; host-only, never on the board.
"""A small OCPP 1.6J / 2.0.1 central system built on the `ocpp` package and `websockets`.

`CentralSystem` is what tests start in-process; `python tools/csms.py` (or
`python -m tools.csms`) runs it as a tool that prints every frame.
"""

from .central import OCPP16, OCPP201, CentralSystem, Frame, Received, charge_point_id
from .session import utc_now

__all__ = ["OCPP16", "OCPP201", "CentralSystem", "Frame", "Received", "charge_point_id", "utc_now"]
