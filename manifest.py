# manifest.py: freezes the firmware into a MicroPython image (see `make firmware`).
"""The freeze manifest of the firmware.

Built by the ESP32 port (`make firmware`, which passes this file as FROZEN_MANIFEST), it first
includes the board's own manifest, so asyncio, ssl and the rest of the stock image stay in;
then it freezes main.py, firmware/ and the libraries of lib/ (at the top level, where the
board's /lib puts them). boot.py stays a file on the board, so an integrator can always reach
the REPL.

The host twin (`tools/build_micropython.py`) includes it with board=False, sim=True: the unix
port has no board manifest of this kind, and it needs the simulated board the ESP32 never gets.
The file list is the one `make deploy` uses (tools/devicefiles.py).
"""

import sys

options.defaults(board=True, sim=False)

if options.board:
    include("$(PORT_DIR)/boards/manifest.py")

sys.path.insert(0, "tools")  # manifests run with this folder as the working directory
try:
    import devicefiles
finally:
    sys.path.pop(0)

for rel in devicefiles.frozen(sim=options.sim):
    if rel.startswith("lib/"):
        module(rel[4:], base_path="lib")
    else:
        module(rel)
