# ESP32 pin map check and integer unit conversions; pure code, so the host can test it.
"""The `pins` section of config.json for the ESP32 board, and the arithmetic the board needs.

No `machine` import here: `firmware.board.esp32` does the I/O and calls these functions.

The `pins` section (one GPIO per connector in each list; values are the defaults where given):

    "pins": {
        "relay":         [26],      output: contactor driver, one per connector
        "relayFeedback": [27],      input: auxiliary contact of the contactor
        "cpPwm":         [25],      output: 1 kHz control-pilot PWM into the +-12 V driver
        "cpAdc":         [36],      ADC1 input (GPIO 32-39): pilot line through the front end
        "ppAdc":         [39],      ADC1 input (GPIO 32-39): proximity pilot divider
        "meterS0":       [4],       input: S0 pulse output of the energy meter (falling edge)
        "led":           2,         output: status LED
        "relayOnLevel":        1,        GPIO level that closes the relay
        "feedbackClosedLevel": 0,        GPIO level read when the contacts are closed
        "ledOnLevel":          1,        GPIO level that lights the LED
        "cpPwmInvert":         false,    true when the pilot driver inverts (GPIO high = -12 V)
        "cpZeroUv":            1300000,  ADC microvolts when the pilot line is at 0 V
        "cpUvPerV":            87500,    ADC microvolts per pilot volt (negative: inverting)
        "ppPullUpOhm":         1000,     pull-up from the PP line to ppSupplyMv
        "ppSupplyMv":          3300,     supply of that pull-up; the ADC sees the PP line
        "meterS0PulsesPerKwh": 1000      pulses per kWh printed on the meter
    }

The pilot defaults describe a front end that maps -12..+12 V linearly onto 0.25..2.35 V at the
ADC (inside the 150-2450 mV linear range at 11 dB). Calibrate a board by reading the ADC with
the pilot at 0 V (cpZeroUv) and at +12 V ((reading - cpZeroUv) / 12 = cpUvPerV).

Inputs get the chip's pull resistor toward their idle level (feedback: toward "open"; S0:
pull-up). GPIO 34-39 have no pull resistors: fit external ones when an input sits there.
Avoid GPIO 16/17 on WROVER modules (PSRAM) and mind the strapping pins 0, 2, 5, 12, 15.

    check_pins(config)            # raises ConfigError("pins.cpAdc[1]", "...") on a bad map
    cp_mv(uv, zero_uv, uv_per_v)  # ADC microvolts -> pilot millivolts
"""

from firmware.board import base
from firmware.config import ConfigError

# -- GPIO facts of the ESP32 (the original chip: ESP32-WROOM/WROVER, DevKitC) -------------
GPIO_MAX = 39
INPUT_ONLY = (34, 35, 36, 37, 38, 39)  # no output driver, no pull resistors
ADC1 = (32, 33, 34, 35, 36, 37, 38, 39)  # ADC2 cannot be read while Wi-Fi is on
FLASH = (6, 7, 8, 9, 10, 11)  # wired to the SPI flash of every module
ABSENT = (20, 24, 28, 29, 30, 31)  # not bonded out on ESP32 modules

# Kinds of pin use
OUT = "out"
IN = "in"
ADC = "adc"

# Per-connector pin lists in the order they are checked: (key, kind).
CONNECTOR_PINS = (
    ("relay", OUT),
    ("relayFeedback", IN),
    ("cpPwm", OUT),
    ("cpAdc", ADC),
    ("ppAdc", ADC),
    ("meterS0", IN),
)

# Integer settings of the pins section: (key, low, high, default).
SETTINGS = (
    ("relayOnLevel", 0, 1, 1),
    ("feedbackClosedLevel", 0, 1, 0),
    ("ledOnLevel", 0, 1, 1),
    ("cpZeroUv", 0, 3300000, 1300000),
    ("cpUvPerV", -500000, 500000, 87500),
    ("ppPullUpOhm", 100, 100000, 1000),
    ("ppSupplyMv", 1000, 3300, 3300),
    ("meterS0PulsesPerKwh", 1, 100000, 1000),
)
CP_UV_PER_V_MIN = 10000  # |cpUvPerV| below this leaves the pilot levels unresolvable

# Above this the PP line counts as open (no cable): the largest IEC 61851-1 coding is 1.5 kOhm.
PP_OPEN_OHM = 5000

# machine.reset_cause() values of the ESP32 port (machine.PWRON_RESET ... SOFT_RESET).
RESET_CAUSES = {
    1: base.RESET_POWER_ON,
    2: base.RESET_HARD,
    3: base.RESET_WATCHDOG,
    4: base.RESET_DEEPSLEEP,
    5: base.RESET_SOFT,
}


def _is_int(value):
    # bool is an int subclass in CPython: refuse true/false where a number is wanted.
    return isinstance(value, int) and not isinstance(value, bool)


def _gpio_problem(gpio, kind):
    """Why `gpio` cannot serve as `kind`, or None."""
    if not _is_int(gpio):
        return "must be a GPIO number"
    if not 0 <= gpio <= GPIO_MAX:
        return "GPIO %d is out of range (0-%d)" % (gpio, GPIO_MAX)
    if gpio in ABSENT:
        return "GPIO %d does not exist on ESP32 modules" % gpio
    if gpio in FLASH:
        return "GPIO %d is wired to the SPI flash (6-11)" % gpio
    if kind == OUT and gpio in INPUT_ONLY:
        return "GPIO %d is input-only (34-39), it cannot drive an output" % gpio
    if kind == ADC and gpio not in ADC1:
        return "GPIO %d is not an ADC1 pin (use 32-39)" % gpio
    return None


def check_pins(config):
    """Check config["pins"] and config["wifi"]; fill in the defaults; return config.

    Raises ConfigError naming the key, e.g. 'pins.cpAdc[1]: GPIO 25 is not an ADC1 pin
    (use 32-39)'.
    """
    n = config.get("connectors")
    if not _is_int(n) or n < 1:
        raise ConfigError("connectors", "must be a positive integer")
    pins = config.get("pins")
    if pins is None:
        raise ConfigError("pins", "missing")
    if not isinstance(pins, dict):
        raise ConfigError("pins", "must be an object")

    known = ["led", "cpPwmInvert"]
    used = {}  # gpio -> key of its first use

    def claim(key, gpio, kind):
        problem = _gpio_problem(gpio, kind)
        if problem is None and gpio in used:
            problem = "GPIO %d is already used by %s" % (gpio, used[gpio])
        if problem is not None:
            raise ConfigError(key, problem)
        used[gpio] = key

    for name, kind in CONNECTOR_PINS:
        known.append(name)
        key = "pins." + name
        gpios = pins.get(name)
        if gpios is None:
            raise ConfigError(key, "missing")
        if not isinstance(gpios, list):
            raise ConfigError(key, "must be a list of GPIO numbers, one per connector")
        if len(gpios) != n:
            raise ConfigError(key, "has %d GPIOs, needs %d (one per connector)" % (len(gpios), n))
        for i in range(n):
            claim("%s[%d]" % (key, i), gpios[i], kind)

    if "led" not in pins:
        raise ConfigError("pins.led", "missing")
    claim("pins.led", pins["led"], OUT)

    for name, low, high, default in SETTINGS:
        known.append(name)
        if name not in pins:
            pins[name] = default
            continue
        value = pins[name]
        if not _is_int(value):
            raise ConfigError("pins." + name, "must be an integer")
        if not low <= value <= high:
            raise ConfigError("pins." + name, "must be %d to %d, is %d" % (low, high, value))
    if -CP_UV_PER_V_MIN < pins["cpUvPerV"] < CP_UV_PER_V_MIN:
        raise ConfigError("pins.cpUvPerV", "magnitude must be at least %d" % CP_UV_PER_V_MIN)
    if "cpPwmInvert" not in pins:
        pins["cpPwmInvert"] = False
    elif not isinstance(pins["cpPwmInvert"], bool):
        raise ConfigError("pins.cpPwmInvert", "must be true or false")

    for name in pins:
        if name not in known:
            raise ConfigError("pins." + name, "unknown key")

    wifi = config.get("wifi")
    if wifi is not None and not isinstance(wifi, dict):
        raise ConfigError("wifi", "must be an object")
    ssid = None if wifi is None else wifi.get("ssid")
    if ssid is None:
        raise ConfigError("wifi.ssid", "missing (the ESP32 board needs Wi-Fi)")
    if not isinstance(ssid, str) or not 1 <= len(ssid) <= 32:
        raise ConfigError("wifi.ssid", "must be a string of 1 to 32 characters")
    password = wifi.get("password")
    if password is not None and (not isinstance(password, str) or len(password) > 64):
        raise ConfigError("wifi.password", "must be a string of at most 64 characters")
    return config


def relay_off_levels(config):
    """[(gpio, level that opens the relay)] for every relay entry usable as an output.

    Never raises: the board drives these before check_pins, so that a bad configuration
    after a soft reset (outputs keep their level) cannot leave a contactor closed. When the
    on-level itself is unusable nothing is driven, as the safe level is then unknown.
    """
    try:
        pins = config["pins"]
        gpios = pins["relay"]
        on = pins.get("relayOnLevel", 1)
    except Exception:
        return []
    if not _is_int(on) or on not in (0, 1) or not isinstance(gpios, list):
        return []
    out = []
    for gpio in gpios:
        if _gpio_problem(gpio, OUT) is None:
            out.append((gpio, 1 - on))
    return out


# -- unit conversions (integers only: floats are single precision on the ESP32) -----------

def cp_mv(adc_uv, zero_uv, uv_per_v):
    """ADC microvolts at the pilot-sense input -> pilot line millivolts (floor)."""
    return (adc_uv - zero_uv) * 1000 // uv_per_v


def pp_ohm(adc_uv, pull_up_ohm, supply_mv):
    """PP voltage at the ADC -> PP-PE resistance in ohms; None when open (no cable)."""
    mv = adc_uv // 1000
    if mv >= supply_mv:
        return None
    if mv <= 0:
        return 0
    ohm = pull_up_ohm * mv // (supply_mv - mv)
    if ohm > PP_OPEN_OHM:
        return None
    return ohm


def duty_u16(duty_permille):
    """Pilot duty in per-mille (0..1000) -> machine.PWM duty_u16, rounded; 1000 -> 65535."""
    if not 0 <= duty_permille <= 1000:
        raise ValueError("pilot duty must be 0..1000 per-mille")
    return (duty_permille * 65535 + 500) // 1000


def s0_wh(pulses, pulses_per_kwh):
    """S0 pulses -> whole Wh (floor); divmod keeps the products small on the ESP32."""
    kwh, rest = divmod(pulses, pulses_per_kwh)
    return kwh * 1000 + rest * 1000 // pulses_per_kwh


def s0_power_w(pulses_per_kwh, interval_ms):
    """Power in W from the time between two S0 pulses; 0 for no interval."""
    if interval_ms <= 0:
        return 0
    # One pulse is 3.6e6 / pulses_per_kwh J, so W = 3.6e6 / pulses_per_kwh / (ms / 1000).
    return 3600000000 // (pulses_per_kwh * interval_ms)


def reset_cause_name(code):
    """machine.reset_cause() code -> one of base.RESET_*."""
    return RESET_CAUSES.get(code, base.RESET_UNKNOWN)
