# The board interface: everything the firmware may ask of the hardware, and nothing more.
"""The one interface between device code and hardware.

Two implementations exist: `firmware.board.esp32.Esp32Board` (the real ESP32, through
`machine`/`esp32`/`network`) and `firmware.sim.board.SimBoard` (the host, with a simulated EV
and electrical side driven over a TCP control channel). Device code outside `firmware/board/`
never imports `machine` or `esp32`: it gets a board from `firmware.board.open_board(config)`.

Units are integers and carried in the names: millivolts, ohms, watt-hours, per-mille duty,
milliseconds, seconds since 2000-01-01 UTC: the ESP32's own epoch, chosen for the whole firmware
because those counts stay MicroPython small ints (31 bits) until 2034, while Unix seconds
are already heap-allocated big ints on the ESP32.

Connectors are numbered from 1, as in OCPP.
"""

# Reset causes, as returned by reset_cause(). OCPP 2.0.1 BootReason is derived from them.
RESET_POWER_ON = "power_on"
RESET_HARD = "hard"
RESET_WATCHDOG = "watchdog"
RESET_SOFT = "soft"
RESET_DEEPSLEEP = "deepsleep"
RESET_UNKNOWN = "unknown"

# Control-pilot duty in per-mille: 1000 is a constant +12 V (not offering current),
# 0 is a constant -12 V (state F: EVSE not available).
DUTY_CONSTANT_HIGH = 1000
DUTY_CONSTANT_LOW = 0

# 2024-01-01 in seconds since 2000: an earlier clock has not been set.
CLOCK_PLAUSIBLE_S = 757382400

# Seconds from 1970-01-01 to 2000-01-01: Unix time minus this is the firmware's time.
EPOCH_2000_UNIX_S = 946684800


def forget_image_checks():
    """After start-up's look at the running image: ota.image goes (a download imports it
    again), unless ota.writer is loaded, which holds its ImageError: a second ota.image
    would bring an ImageError of another class (lib/unload.py)."""
    import sys
    if "ota.writer" not in sys.modules:
        import unload
        unload.forget("ota.image")


class Board:
    """What a board offers. Subclasses implement every method; this class documents them."""

    name = "abstract"

    def __init__(self, config, block=None):
        self.config = config
        self.connectors = config["connectors"]
        # lib/sharedblock.SharedBlock, the firmware's one 4 KiB block buffer: the image check
        # of the running slot borrows it (None: it allocates its own).
        self.block = block
        # Folder for everything that must survive a reset: configuration store, journals,
        # certificates. On the ESP32 a folder of the LittleFS filesystem.
        self.state_dir = "state"

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self):
        """Start the board's own tasks (called once the asyncio loop runs)."""

    def deinit(self):
        """Stop the board's tasks and release its resources."""

    # -- the safety timer --------------------------------------------------------------
    def start_timer(self, period_ms, callback):
        """Call callback(timer) every period_ms from a periodic hardware timer, as
        machine.Timer does on the ESP32: on the main thread between two bytecodes of whatever
        Python code runs (a busy asyncio loop included), never nested, held up only by a long
        C call. Returns the timer (its deinit() stops it); the board's deinit() stops it too."""
        raise NotImplementedError

    # -- relay (contactor) with feedback -------------------------------------------------
    def set_relay(self, connector, closed):
        """Command the relay of `connector` closed (True) or open (False)."""
        raise NotImplementedError

    def relay_feedback(self, connector):
        """True when the feedback input says the contacts are closed."""
        raise NotImplementedError

    # -- control pilot and proximity pilot ---------------------------------------------
    def set_pilot_duty(self, connector, duty_permille):
        """Set the 1 kHz control-pilot PWM duty (0..1000, see DUTY_* above)."""
        raise NotImplementedError

    def pilot_duty(self, connector):
        """The duty last set, in per-mille."""
        raise NotImplementedError

    def sample_pilot(self, connector):
        """Sample the pilot in a burst: (peak high mV, lowest mV) at the pilot line."""
        raise NotImplementedError

    def proximity_ohm(self, connector):
        """Resistance between PP and PE in ohms, or None when no cable is detected."""
        raise NotImplementedError

    # -- energy meter --------------------------------------------------------------------
    def meter_wh(self, connector):
        """Energy delivered through `connector` since the meter was new, integer Wh."""
        raise NotImplementedError

    def meter_power_w(self, connector):
        """Present active power through `connector` in W (0 when not measurable)."""
        raise NotImplementedError

    # -- user interface --------------------------------------------------------------------
    def set_led(self, on):
        """Switch the status LED; blink patterns are made by the caller."""
        raise NotImplementedError

    def show_status(self, connector, status):
        """Tell the board the OCPP status of `connector` (a display, or the sim's state)."""

    def take_card(self):
        """The idTag of the last card presented and not yet taken, or None."""
        raise NotImplementedError

    # -- watchdog, clock, reset -------------------------------------------------------
    def watchdog_start(self, timeout_ms):
        """Arm the watchdog; on the ESP32 it cannot be stopped again."""
        raise NotImplementedError

    def watchdog_feed(self):
        raise NotImplementedError

    def time_s(self):
        """Seconds since 2000-01-01 UTC, whatever the port's own epoch."""
        raise NotImplementedError

    def set_time_s(self, s):
        """Set the real-time clock from seconds since 2000-01-01 UTC."""
        raise NotImplementedError

    def clock_set(self):
        """True once the clock shows a plausible date (set from the central system or NTP):
        certificate validity is only checked then."""
        return self.time_s() > CLOCK_PLAUSIBLE_S

    def reset_cause(self):
        """One of the RESET_* strings."""
        raise NotImplementedError

    def reset(self, hard=False):
        """Restart the firmware; does not return."""
        raise NotImplementedError

    # -- OTA partitions ------------------------------------------------------------------
    def ota_running(self):
        """The running app partition (esp32.Partition interface)."""
        raise NotImplementedError

    def ota_next(self):
        """The partition the next firmware image is written to."""
        raise NotImplementedError

    def ota_mark_valid(self):
        """Confirm the running image so the bootloader does not roll back."""
        raise NotImplementedError

    def running_image(self):
        """(version, project name) of the running firmware image, or None if unknown."""
        return None

    def rolled_back(self):
        """True (once) when the bootloader rolled back an image that never confirmed itself."""
        return False

    # -- network -------------------------------------------------------------------------
    async def network_up(self, timeout_ms):
        """Bring the network up (Wi-Fi station on the ESP32); True when it is up."""
        raise NotImplementedError

    def network_is_up(self):
        raise NotImplementedError
