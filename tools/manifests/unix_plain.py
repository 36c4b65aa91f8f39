# The 32-bit unix port as a stock board has it: MicroPython's own asyncio and ssl frozen in,
# the firmware loaded as .mpy files from the filesystem.
include("$(MPY_DIR)/extmod/asyncio")
require("ssl")
