# The host twin of the ESP32 firmware build: the stock part of unix_plain.py, then the
# project's manifest.py without the ESP32 board manifest and with the simulated board.
include("unix_plain.py")
include("../../manifest.py", board=False, sim=True)
