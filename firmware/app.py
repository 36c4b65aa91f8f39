# The charge-point application: load the configuration, open the board, start the tasks.
"""Start-up and supervision.

main() is what main.py calls: it checks the configuration (one clear line and exit status 2
when it is bad), opens the board, and runs the asyncio loop until the firmware resets.
"""

import asyncio
import gc
import os
import sys

import atomicfile
import logger
import logring
import unload
from drivers.leds import StatusLed
from drivers.watchdog import Watchdog
from firmware.v16.authcache import AuthCache
from firmware.v16.authorize import Authorizer
from firmware.board import open_board
from firmware.v16.chargepoint import FEATURE_PROFILES, ChargePoint
from firmware.management import fwjob
from filelog import FileLog
from firmware.security.events import SecurityEvents
from firmware.security.trust import Trust
from lazy import LazyService
from looplag import LoopLag
from firmware.link import Link, basic_auth_key, make_client, read_file
from firmware.security.profile import ProfileSwitch
from firmware.v16.registration import Registration
from firmware.v16.settings import Settings
from ocppj.delivery import Delivery
from ocppj.encoder import Encoder
from ocppj.journal import Journal
from ocppj.protocol import V16
from ocppj.session import Session
from sharedblock import SharedBlock
from ticks import sleep_ms
from ws.errors import WsError

CONFIG_ERROR_EXIT_STATUS = 2
_WATCHDOG_MS = 30000
_LOOP_MS = 1000
LOG_RING_BYTES = 2048
# Collect after every 4 KiB allocated rather than only when the heap is full: garbage then
# never spreads over the whole heap, long-lived objects land in the low holes, and the large
# temporaries of a firmware update find room (floor of a signed update on the frozen 32-bit
# build: 0/4 runs passed at 88 KiB without it, 4/4 with it). A collection of a 96 KiB heap
# takes a few milliseconds on the ESP32.
GC_THRESHOLD_BYTES = 4096

log = logger.get("app")


def config_path():
    getenv = getattr(os, "getenv", None)  # the ESP32's os has no getenv
    return (getenv and getenv("CP_CONFIG")) or "config.json"


def _stop(message):
    print(message)
    sys.exit(CONFIG_ERROR_EXIT_STATUS)


def make_wire(csms, state_dir):
    """The WebSocket client (its receive buffer), the frame encoder (its frame buffer) and the
    Trust (firmware/security/trust.py: the central system's roots): the largest long-lived buffers,
    made together right after start-up's garbage has been collected, so they lie side by side
    and are never looked for in a fragmented heap. csms.caFile is read here and nowhere else,
    into the certificate store when its content is new: the WebSocket, firmware downloads, log
    uploads and the check of a renewed charge point certificate trust the installed roots."""
    gc.collect()
    trust = Trust(state_dir)
    if csms.get("caFile"):
        trust.provision(read_file(csms["caFile"]))
    ca = trust.ders or None
    return (make_client(csms, V16.subprotocol, ca, state_dir), Encoder(csms["frameBufferBytes"]),
            trust)


async def start_ocpp(cfg, board, watchdog, client, encoder, trust, boot_reason="Unknown",
                     lag=None):
    """Wire the RPC session, journal, charge point and registration to the client. The loop
    gets a turn between the parts: each reads flash, and the control channel, the LED and the
    timers are running already (200-300 times slower on an ESP32 than here)."""
    csms = cfg["csms"]
    settings = Settings(board.state_dir, board.connectors, FEATURE_PROFILES,
                        overrides=cfg["ocpp"])  # config.json's OCPP keys
    settings.on_change("WebSocketPingInterval", client.set_ping_interval)
    await sleep_ms(0)
    # InvalidMessages: the security events (made below, with the session) hear of them
    session = Session(V16, encoder, client.send, timeout_ms=csms["callTimeoutS"] * 1000,
                      on_invalid=lambda what: security.event("InvalidMessages", what))
    journal = Journal(board.state_dir + "/journal",
                      max_record_bytes=csms["frameBufferBytes"] - 256)
    await sleep_ms(0)
    delivery = Delivery(journal, session, lambda: settings.get("TransactionMessageAttempts"),
                        lambda: settings.get("TransactionMessageRetryInterval"))
    await sleep_ms(0)
    cache = AuthCache(board.state_dir)
    # The Local Authorization List: made at the first SendLocalList or GetLocalListVersion,
    # for an authorization only when a list is on flash (a session without one never imports
    # firmware/v16/locallist.py). Nested here, as a module global would grow app's dict; what the
    # functions need comes as default arguments, which cost less heap than a closure's cells.
    list_path = board.state_dir + "/locallist.bin"

    def make_local_list(path=list_path, settings=settings, session=session):
        from firmware.v16.locallist import LocalList
        return LocalList(path, settings, session)

    local_lists = LazyService(session, ("SendLocalList", "GetLocalListVersion"),
                              make_local_list)

    def local_list(lists=local_lists, path=list_path):
        if lists.made is None and not atomicfile.exists(path):
            return None
        return lists.get()
    authorizer = Authorizer(session, settings, cache, board.time_s, local_list)
    await sleep_ms(0)
    # made at the first ReserveNow/CancelReservation, after cp below exists
    reservations = LazyService(session, RESERVATION_ACTIONS,
                               lambda: make_reservations(cp, session, board.state_dir))
    cp = ChargePoint(board, settings, session, journal, delivery, authorizer, cache,
                     max_deciamps=settings.get("MaxCurrentA") * 10, watchdog=watchdog,
                     close_link=client.close,  # a Reset closes the WebSocket cleanly first
                     reservations=reservations)
    cp.guard_relays()  # the relays' safety never waits for the loop (evse.Guard)
    await sleep_ms(0)
    cp.recover()
    await sleep_ms(0)
    if atomicfile.exists(board.state_dir + "/" + RESERVATIONS_FILE):
        reservations.get()  # reservations kept across the restart hold their connectors again
        await sleep_ms(0)
    security = SecurityEvents(session, board,
                              Journal(board.state_dir + "/security", max_record_bytes=512),
                              FileLog(board.state_dir + "/securitylog"))
    await sleep_ms(0)
    await security.started(boot_reason)
    await sleep_ms(0)
    use_credentials(settings, client, security)
    await sleep_ms(0)
    updater, diagnostics, renewal = await firmware_management(
        cfg, board, session, settings, cp, security, client, trust, lag)
    await sleep_ms(0)

    async def accepted():  # after every accepted (re)connect, in the order TC_044_3 shows
        await cp.report_all()
        await cp.flush_status()
        if updater.made is not None:
            await updater.made.after_boot()
        # A03: a certificate about to expire is renewed; the renewal (its module and service)
        # is made for the look at the date only where a renewal could follow
        if client.has_client_certificate() and settings.get("CpoName") and board.clock_set():
            renewal.get().renew_if_expiring()

    identity = dict(cfg["identity"])
    running = board.running_image()
    if running and running[0]:
        identity["firmwareVersion"] = running[0]  # what actually runs, not what was configured
    await sleep_ms(0)
    registration = Registration(session, board, identity, on_accepted=accepted,
                                settings=settings, on_time_set=security.time_set)
    cp.boot_trigger = registration.boot_triggered
    smart = smart_charging(cp, cfg["installation"])
    await sleep_ms(0)
    cp.register(session, updater, diagnostics, renewal, smart)
    await sleep_ms(0)
    switch = ProfileSwitch(settings, client, session, trust, csms, security)
    link = Link(client, session, (registration.run, delivery.run), security.event,
                switch.result)
    asyncio.create_task(cp.run())
    asyncio.create_task(link.run())
    asyncio.create_task(security.run())
    await sleep_ms(0)
    if fwjob.pending(board.state_dir):  # an update to resume, or to report on after its reboot
        # the updater's modules first, each in a turn of its own (the bulk of making it)
        __import__("firmware.management.fwupdate")
        await sleep_ms(0)
        __import__("firmware.management.fwtransfer")
        await sleep_ms(0)
        job = updater.get().job
        if job is not None and job.phase == "rebooting":
            asyncio.create_task(confirm_or_roll_back(board, registration))
    return cp, session


def use_credentials(settings, client, security):
    """Basic auth from the OCPP keys, now and after every change: a new AuthorizationKey from
    the next connection on (whitepaper A01; the central system stops accepting the old one
    once it has the answer), persisted by the settings, and a security event."""
    def apply(_=None):
        client.set_authorization_key(basic_auth_key(settings.get("SecurityProfile"),
                                                    settings.get("AuthorizationKey")))

    def changed(name):
        def on_change(_):
            apply()
            security.reconfigured(name)
        return on_change
    apply()
    settings.on_change("AuthorizationKey", changed("AuthorizationKey"))
    settings.on_change("SecurityProfile", changed("SecurityProfile"))


async def firmware_management(cfg, board, session, settings, cp, security, client, trust,
                              lag=None):
    """The certificate store, the firmware updater, diagnostics and the renewal of the charge
    point certificate, each made at its first request (lib/lazy.py): a charging session never
    imports them."""
    root_file = (cfg.get("firmware") or {}).get("manufacturerRootFile")

    def roots():  # what HTTPS trusts, as installed at the time of the request
        return trust.ders or None

    def make_certs():
        from firmware.security.certstore import CertStore
        store = CertStore(board.state_dir, trust=trust, on_roots=client.set_ca,
                          secure_link=client.secure)
        store.register(session)
        return store

    def make_updater():
        from firmware.management.fwtransfer import make_transfer
        from firmware.management.fwupdate import FirmwareUpdater
        updater = FirmwareUpdater(board, session, settings, cp, lambda: certs.get().roots_steps(),
                                  security, None)
        updater.set_transfer(make_transfer(updater, roots, board.block))
        updater.register(session)
        asyncio.create_task(updater.run())
        return updater

    def make_diagnostics():
        from firmware.management.diagnostics import Diagnostics
        diagnostics = Diagnostics(board, session, roots, board.block, security.log_file, lag)
        diagnostics.register(session)
        return diagnostics

    def cpo_roots():  # the CPO hierarchy (whitepaper 2.6.2): the installed CSMS roots, parsed
        from ota.x509 import Certificate  # from the Trust's DER: no certificate store needed
        for der in trust.ders:
            yield Certificate(der)

    def make_renewal():
        from firmware.security.cpcert import CertificateRenewal
        renewal = CertificateRenewal(board, session, settings, client, cfg["csms"]["chargeBoxId"],
                                     security, cpo_roots, cfg["csms"].get("clientCertFile"))
        renewal.register(session)
        return renewal

    certs = LazyService(session, CERT_ACTIONS, make_certs)
    if root_file:  # installed once per content; each part in a turn of the loop of its own
        text = _read_text(root_file)
        store = certs.get()
        await sleep_ms(0)
        await store.provision(text)
    updater = LazyService(session, UPDATE_ACTIONS, make_updater)
    diagnostics = LazyService(session, DIAGNOSTICS_ACTIONS, make_diagnostics)
    renewal = LazyService(session, RENEWAL_ACTIONS, make_renewal)
    return updater, diagnostics, renewal


# What each lazy service registers for itself once made (tests/device/test_lazy.py checks)
CERT_ACTIONS = ("InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate")
UPDATE_ACTIONS = ("UpdateFirmware", "SignedUpdateFirmware")
DIAGNOSTICS_ACTIONS = ("GetDiagnostics", "GetLog")
RENEWAL_ACTIONS = ("CertificateSigned",)
RESERVATION_ACTIONS = ("ReserveNow", "CancelReservation")
RESERVATIONS_FILE = "reservations.json"  # in the state folder while reservations are held


def make_reservations(cp, session, state_dir):
    """The reservation service (firmware/v16/reservation.py), its handlers registered."""
    from firmware.v16.reservation import Reservations
    service = Reservations(cp, state_dir + "/" + RESERVATIONS_FILE)
    service.register(session)
    return service


SMART_CHARGING_ACTIONS = ("SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule")
CHARGING_PROFILES_FILE = "charging-profiles"  # in the state folder


def smart_charging(cp, installation):
    """Smart Charging (firmware/v16/smartcharging.py), made at its first request, or now when
    charging profiles are on flash: their limits apply from start-up on. A charging session
    without profiles never imports it. (make() takes what it needs as default arguments: no
    closure cells; at 96 KiB every 100 bytes made at start-up count.)"""

    def make(cp=cp, installation=installation):
        from firmware.v16.smartcharging import SmartCharging
        service = SmartCharging(cp, cp.board.state_dir + "/" + CHARGING_PROFILES_FILE,
                                installation["voltageV"], installation["phases"])
        service.register(cp.session)
        asyncio.create_task(service.run())
        return service

    smart = LazyService(cp.session, SMART_CHARGING_ACTIONS, make)
    if atomicfile.exists(cp.board.state_dir + "/" + CHARGING_PROFILES_FILE):
        smart.get()
    return smart


async def confirm_or_roll_back(board, registration):
    """A new image that does not reach the central system in time is not kept: the hard reset
    lets the bootloader roll back to the image that worked."""
    from firmware.management.fwupdate import CONFIRM_TIMEOUT_S
    for _ in range(CONFIRM_TIMEOUT_S):
        if registration.accepted:
            return
        await sleep_ms(1000)
    log.error("the new firmware did not reach the central system: rolling back")
    board.reset(hard=True)


def _read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        _stop("config error: cannot read " + path)
        return ""


async def run(cfg, board, client, encoder, trust):
    ident = cfg["identity"]
    log.info("%s %s firmware %s on the %s board, reset cause %s" % (
        ident["chargePointVendor"], ident["chargePointModel"],
        ident.get("firmwareVersion", "?"), board.name, board.reset_cause()))
    # OCPP 2.0.1 BootNotification.reason, kept ready: a recorded intent or the reset cause
    from firmware.model import bootreason
    boot_reason = bootreason.take(board.state_dir, board.reset_cause())
    log.info("boot reason", boot_reason)
    unload.forget("firmware.model.bootreason")  # start-up only; a reset imports it to record why
    await sleep_ms(0)
    try:
        await board.start()
    except OSError as e:
        _stop("start-up error: " + (e.args[1] if len(e.args) > 1 else repr(e)))
    watchdog = Watchdog(board, _WATCHDOG_MS)
    led = StatusLed(board)
    asyncio.create_task(led.run())
    if not await board.network_up(_WATCHDOG_MS // 2):
        log.error("network did not come up")
    await sleep_ms(0)
    lag = LoopLag()  # how long code held the loop: in every diagnostics upload
    asyncio.create_task(lag.run())
    cp, session = await start_ocpp(cfg, board, watchdog, client, encoder, trust, boot_reason,
                                   lag)
    while True:
        watchdog.feed()  # only when every watched task has checked in
        led.set(led_pattern(cp, session))
        await sleep_ms(_LOOP_MS)


def led_pattern(cp, session):
    statuses = [cp.status_of(n)[0] for n in range(1, len(cp.connectors) + 1)]
    if "Faulted" in statuses:
        return "fault"
    if "Charging" in statuses:
        return "charging"
    if not session.connected:
        return "offline"
    return "idle"


def configure(path, block):
    """The checked configuration and the board, or one line and exit status 2. The checker
    is forgotten afterwards: it is needed at start-up only."""
    from firmware.config import ConfigError, load
    try:
        cfg = load(path)
        board = open_board(cfg, block)
    except ConfigError as e:
        _stop("config error: %s: %s" % (path, e))
        raise
    unload.forget("firmware.config")
    return cfg, board


def main():
    # The one 4 KiB block buffer, first, while the heap is empty: the image check at boot,
    # firmware downloads and log uploads borrow it in turn (lib/sharedblock.py).
    if hasattr(gc, "threshold"):  # MicroPython
        gc.threshold(GC_THRESHOLD_BYTES)
    block = SharedBlock()
    logring.install(LOG_RING_BYTES)  # the recent log, for GetDiagnostics and GetLog
    cfg, board = configure(config_path(), block)
    logger.set_level(cfg["log"]["level"])
    # UTC in every line once the clock is plausible (set by BootNotification or NTP)
    logger.set_clock(lambda: board.time_s() if board.clock_set() else None)
    logger.secret(cfg["csms"].get("authorizationKey"))
    logger.secret((cfg.get("wifi") or {}).get("password"))
    try:
        client, encoder, trust = make_wire(cfg["csms"], board.state_dir)
    except WsError as e:
        board.deinit()
        _stop("config error: csms: " + str(e))
        return
    try:
        asyncio.run(run(cfg, board, client, encoder, trust))
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        board.deinit()
