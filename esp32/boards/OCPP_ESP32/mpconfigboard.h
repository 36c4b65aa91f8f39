// The charge point's ESP32 board: ESP32_GENERIC with the OTA partition table, without Bluetooth.
#define MICROPY_HW_BOARD_NAME "OCPP charge point (ESP32, OTA, no BLE)"
#define MICROPY_HW_MCU_NAME "ESP32"

// No `bluetooth` module: sdkconfig.board leaves Bluetooth out of the ESP-IDF build.
#define MICROPY_PY_BLUETOOTH (0)
