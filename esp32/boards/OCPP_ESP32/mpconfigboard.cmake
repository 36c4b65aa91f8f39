# The charge point's ESP32 board: ESP32_GENERIC's OTA variant without Bluetooth.
#
# Built out of tree (`make -C ports/esp32 BOARD_DIR=<this folder>`, see tools/firmware_build.py).
# The relative paths are MicroPython's own, relative to ports/esp32, as in its boards.
# boards/sdkconfig.ble is left out on purpose: NimBLE and the BT controller take the room the
# frozen firmware needs in the 1.5 MiB OTA slot, and the charge point has no use for them.
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/ESP32_GENERIC/sdkconfig.ota
    ${MICROPY_BOARD_DIR}/sdkconfig.board
)
