# Device tests of firmware.board.esp32_pins: the pin map check and the integer conversions.
from firmware.board import base, esp32_pins as ep
from firmware.config import ConfigError


def raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type as e:
        return e
    raise AssertionError("no %s from %r%r" % (exc_type.__name__, fn, args))


def good(connectors=1):
    if connectors == 1:
        pins = {"relay": [26], "relayFeedback": [27], "cpPwm": [25], "cpAdc": [36],
                "ppAdc": [39], "meterS0": [4], "led": 2}
    else:
        pins = {"relay": [26, 13], "relayFeedback": [27, 14], "cpPwm": [25, 33],
                "cpAdc": [36, 34], "ppAdc": [39, 35], "meterS0": [4, 32], "led": 2}
    return {"connectors": connectors, "pins": pins, "wifi": {"ssid": "depot", "password": "pw"}}


def error_of(cfg):
    e = raises(ConfigError, ep.check_pins, cfg)
    text = str(e)
    assert "\n" not in text
    assert text.startswith(e.key + ": ")
    return text


# -- check_pins: good maps ------------------------------------------------------------

def test_good_map_fills_defaults():
    cfg = ep.check_pins(good())
    pins = cfg["pins"]
    assert pins["relayOnLevel"] == 1
    assert pins["feedbackClosedLevel"] == 0
    assert pins["ledOnLevel"] == 1
    assert pins["cpPwmInvert"] is False
    assert pins["cpZeroUv"] == 1300000
    assert pins["cpUvPerV"] == 87500
    assert pins["ppPullUpOhm"] == 1000
    assert pins["ppSupplyMv"] == 3300
    assert pins["meterS0PulsesPerKwh"] == 1000


def test_good_two_connector_map_and_explicit_settings_kept():
    cfg = good(2)
    cfg["pins"]["relayOnLevel"] = 0
    cfg["pins"]["cpUvPerV"] = -90000
    cfg["pins"]["cpPwmInvert"] = True
    cfg["pins"]["meterS0PulsesPerKwh"] = 800
    pins = ep.check_pins(cfg)["pins"]
    assert pins["relayOnLevel"] == 0
    assert pins["cpUvPerV"] == -90000
    assert pins["cpPwmInvert"] is True
    assert pins["meterS0PulsesPerKwh"] == 800


def test_inputs_may_use_input_only_gpios():
    cfg = good()
    cfg["pins"]["relayFeedback"] = [34]
    cfg["pins"]["meterS0"] = [35]
    ep.check_pins(cfg)


def test_open_wifi_needs_no_password():
    cfg = good()
    del cfg["wifi"]["password"]
    ep.check_pins(cfg)


# -- check_pins: rejections -----------------------------------------------------------

def test_missing_pins_section():
    cfg = good()
    del cfg["pins"]
    assert error_of(cfg) == "pins: missing"
    cfg["pins"] = [1]
    assert error_of(cfg) == "pins: must be an object"


def test_missing_pin_lists_and_led():
    for name in ("relay", "relayFeedback", "cpPwm", "cpAdc", "ppAdc", "meterS0", "led"):
        cfg = good()
        del cfg["pins"][name]
        assert error_of(cfg) == "pins." + name + ": missing"


def test_list_length_must_match_connectors():
    cfg = good()
    cfg["connectors"] = 2
    assert error_of(cfg) == "pins.relay: has 1 GPIOs, needs 2 (one per connector)"
    cfg = good(2)
    cfg["pins"]["ppAdc"] = [39, 35, 38]
    assert error_of(cfg) == "pins.ppAdc: has 3 GPIOs, needs 2 (one per connector)"
    cfg = good()
    cfg["pins"]["meterS0"] = 4
    assert error_of(cfg) == "pins.meterS0: must be a list of GPIO numbers, one per connector"


def test_gpio_must_be_a_number():
    cfg = good()
    cfg["pins"]["relay"] = ["26"]
    assert error_of(cfg) == "pins.relay[0]: must be a GPIO number"
    cfg = good()
    cfg["pins"]["led"] = True
    assert error_of(cfg) == "pins.led: must be a GPIO number"


def test_gpio_out_of_range():
    cfg = good()
    cfg["pins"]["relay"] = [40]
    assert error_of(cfg) == "pins.relay[0]: GPIO 40 is out of range (0-39)"
    cfg = good()
    cfg["pins"]["led"] = -1
    assert error_of(cfg) == "pins.led: GPIO -1 is out of range (0-39)"


def test_gpio_absent_or_flash():
    cfg = good()
    cfg["pins"]["relayFeedback"] = [24]
    assert error_of(cfg) == "pins.relayFeedback[0]: GPIO 24 does not exist on ESP32 modules"
    cfg = good()
    cfg["pins"]["meterS0"] = [6]
    assert error_of(cfg) == "pins.meterS0[0]: GPIO 6 is wired to the SPI flash (6-11)"


def test_outputs_rejected_on_input_only_gpios():
    for name in ("relay", "cpPwm"):
        for gpio in (34, 39):
            cfg = good(2)
            cfg["pins"]["cpAdc"] = [37, 38]  # free 34 and 39
            cfg["pins"]["ppAdc"] = [33, 32]
            cfg["pins"]["cpPwm"] = [25, 23]
            cfg["pins"]["meterS0"] = [4, 5]
            cfg["pins"][name][1] = gpio
            assert error_of(cfg) == (
                "pins.%s[1]: GPIO %d is input-only (34-39), it cannot drive an output" % (name, gpio))
    cfg = good()
    cfg["pins"]["led"] = 35
    assert error_of(cfg) == "pins.led: GPIO 35 is input-only (34-39), it cannot drive an output"


def test_adc_only_on_adc1():
    cfg = good(2)
    cfg["pins"]["cpAdc"] = [36, 25]
    cfg["pins"]["cpPwm"] = [23, 33]
    assert error_of(cfg) == "pins.cpAdc[1]: GPIO 25 is not an ADC1 pin (use 32-39)"
    cfg = good()
    cfg["pins"]["ppAdc"] = [15]  # ADC2
    assert error_of(cfg) == "pins.ppAdc[0]: GPIO 15 is not an ADC1 pin (use 32-39)"


def test_same_gpio_twice():
    cfg = good()
    cfg["pins"]["meterS0"] = [26]
    assert error_of(cfg) == "pins.meterS0[0]: GPIO 26 is already used by pins.relay[0]"
    cfg = good(2)
    cfg["pins"]["relay"] = [26, 26]
    assert error_of(cfg) == "pins.relay[1]: GPIO 26 is already used by pins.relay[0]"
    cfg = good()
    cfg["pins"]["led"] = 25
    assert error_of(cfg) == "pins.led: GPIO 25 is already used by pins.cpPwm[0]"


def test_settings_checked():
    cfg = good()
    cfg["pins"]["relayOnLevel"] = 2
    assert error_of(cfg) == "pins.relayOnLevel: must be 0 to 1, is 2"
    cfg = good()
    cfg["pins"]["feedbackClosedLevel"] = True
    assert error_of(cfg) == "pins.feedbackClosedLevel: must be an integer"
    cfg = good()
    cfg["pins"]["ppSupplyMv"] = 5000
    assert error_of(cfg) == "pins.ppSupplyMv: must be 1000 to 3300, is 5000"
    cfg = good()
    cfg["pins"]["meterS0PulsesPerKwh"] = 0
    assert error_of(cfg) == "pins.meterS0PulsesPerKwh: must be 1 to 100000, is 0"
    cfg = good()
    cfg["pins"]["cpUvPerV"] = -9999
    assert error_of(cfg) == "pins.cpUvPerV: magnitude must be at least 10000"
    cfg = good()
    cfg["pins"]["cpPwmInvert"] = 1
    assert error_of(cfg) == "pins.cpPwmInvert: must be true or false"


def test_unknown_pin_key_rejected():
    cfg = good()
    cfg["pins"]["cpZeroUV"] = 1200000  # typo of cpZeroUv
    assert error_of(cfg) == "pins.cpZeroUV: unknown key"


def test_wifi_ssid_required():
    cfg = good()
    del cfg["wifi"]
    assert error_of(cfg) == "wifi.ssid: missing (the ESP32 board needs Wi-Fi)"
    cfg = good()
    del cfg["wifi"]["ssid"]
    assert error_of(cfg) == "wifi.ssid: missing (the ESP32 board needs Wi-Fi)"
    cfg = good()
    cfg["wifi"]["ssid"] = ""
    assert error_of(cfg) == "wifi.ssid: must be a string of 1 to 32 characters"
    cfg = good()
    cfg["wifi"] = "depot"
    assert error_of(cfg) == "wifi: must be an object"
    cfg = good()
    cfg["wifi"]["password"] = 1234
    assert error_of(cfg) == "wifi.password: must be a string of at most 64 characters"


def test_connectors_must_be_given():
    cfg = good()
    del cfg["connectors"]
    assert error_of(cfg) == "connectors: must be a positive integer"


# -- relay_off_levels: the pass before the check ---------------------------------------

def test_relay_off_levels():
    assert ep.relay_off_levels(good(2)) == [(26, 0), (13, 0)]
    cfg = good(2)
    cfg["pins"]["relayOnLevel"] = 0
    assert ep.relay_off_levels(cfg) == [(26, 1), (13, 1)]
    cfg["pins"]["relay"] = [26, 35, "x", 7, 40, 13]  # unusable entries are skipped
    assert ep.relay_off_levels(cfg) == [(26, 1), (13, 1)]


def test_relay_off_levels_never_raises():
    assert ep.relay_off_levels({}) == []
    assert ep.relay_off_levels({"pins": None}) == []
    assert ep.relay_off_levels({"pins": {"relay": 26}}) == []
    cfg = good()
    cfg["pins"]["relayOnLevel"] = "0"  # the safe level is unknown: drive nothing
    assert ep.relay_off_levels(cfg) == []
    cfg["pins"]["relayOnLevel"] = True
    assert ep.relay_off_levels(cfg) == []


# -- conversions --------------------------------------------------------------------------

def test_cp_mv_default_front_end():
    zero, gain = 1300000, 87500
    assert ep.cp_mv(zero, zero, gain) == 0
    assert ep.cp_mv(zero + 12 * gain, zero, gain) == 12000
    assert ep.cp_mv(zero - 12 * gain, zero, gain) == -12000
    assert ep.cp_mv(zero + 9 * gain, zero, gain) == 9000
    assert ep.cp_mv(zero + 6 * gain, zero, gain) == 6000
    assert ep.cp_mv(zero + 875, zero, gain) == 10
    assert ep.cp_mv(zero + 874, zero, gain) == 9  # floor
    assert ep.cp_mv(0, zero, gain) == -14858  # ADC at 0 V: below -12 V
    assert ep.cp_mv(3300000, zero, gain) == 22857


def test_cp_mv_inverting_front_end():
    zero, gain = 1650000, -100000
    assert ep.cp_mv(zero - 12 * 100000, zero, gain) == 12000
    assert ep.cp_mv(zero + 12 * 100000, zero, gain) == -12000


def test_pp_ohm_cable_codings():
    def uv(ohm):  # ADC microvolts for a PP-PE resistor behind the default 1 kOhm to 3.3 V
        return 3300 * ohm * 1000 // (ohm + 1000)
    assert ep.pp_ohm(uv(1500), 1000, 3300) == 1500
    assert ep.pp_ohm(uv(680), 1000, 3300) in (679, 680)
    assert ep.pp_ohm(uv(220), 1000, 3300) in (219, 220)
    assert ep.pp_ohm(uv(100), 1000, 3300) == 100


def test_pp_ohm_edges():
    assert ep.pp_ohm(0, 1000, 3300) == 0  # PP shorted to PE
    assert ep.pp_ohm(3300000, 1000, 3300) is None  # open: the full pull-up supply
    assert ep.pp_ohm(3400000, 1000, 3300) is None
    assert ep.pp_ohm(3100000, 1000, 3300) is None  # ADC saturated below the supply
    assert ep.pp_ohm(2750000, 1000, 3300) == 5000  # the open threshold itself counts
    assert ep.pp_ohm(2751000, 1000, 3300) is None


def test_duty_u16():
    assert ep.duty_u16(1000) == 65535
    assert ep.duty_u16(0) == 0
    assert ep.duty_u16(500) == 32768
    assert ep.duty_u16(1) == 66
    assert ep.duty_u16(999) == 65469
    assert ep.duty_u16(267) == 17498  # 16 A
    raises(ValueError, ep.duty_u16, -1)
    raises(ValueError, ep.duty_u16, 1001)


def test_s0_wh():
    assert ep.s0_wh(0, 1000) == 0
    assert ep.s0_wh(999, 1000) == 999
    assert ep.s0_wh(1000, 1000) == 1000
    assert ep.s0_wh(1, 800) == 1  # 1.25 Wh, floor
    assert ep.s0_wh(4, 800) == 5
    assert ep.s0_wh(9, 10000) == 0
    assert ep.s0_wh(10, 10000) == 1
    assert ep.s0_wh(1000000000, 1000) == 1000000000
    assert ep.s0_wh(2000000001, 2000) == 1000000000


def test_s0_power_w():
    assert ep.s0_power_w(1000, 3600) == 1000
    assert ep.s0_power_w(1000, 1000) == 3600
    assert ep.s0_power_w(10000, 16) == 22500
    assert ep.s0_power_w(800, 1000) == 4500
    assert ep.s0_power_w(1000, 3600000) == 1
    assert ep.s0_power_w(1000, 0) == 0


def test_reset_cause_name():
    assert ep.reset_cause_name(1) == base.RESET_POWER_ON
    assert ep.reset_cause_name(2) == base.RESET_HARD
    assert ep.reset_cause_name(3) == base.RESET_WATCHDOG
    assert ep.reset_cause_name(4) == base.RESET_DEEPSLEEP
    assert ep.reset_cause_name(5) == base.RESET_SOFT
    assert ep.reset_cause_name(0) == base.RESET_UNKNOWN
    assert ep.reset_cause_name(99) == base.RESET_UNKNOWN
