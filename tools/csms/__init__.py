# Local OCPP 1.6J central system (CSMS) for bench work and end-to-end tests; host-only, never on the board.
"""A small OCPP 1.6J central system built on the `ocpp` package and `websockets`.

`CentralSystem` is what tests start in-process; `python tools/csms.py` (or
`python -m tools.csms`) runs it as a tool that prints every frame.
"""

from .central import CentralSystem, Frame, Received, charge_point_id
from .session import utc_now

__all__ = ["CentralSystem", "Frame", "Received", "charge_point_id", "utc_now"]
