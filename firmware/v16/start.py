# OCPP 1.6J: the charge point's services built and wired to the link, at start-up.
"""`start(...)` is what firmware/app.py runs when config.json's csms.ocppVersion is "1.6":
the settings (the configuration keys), the RPC session, the transaction journal and its
delivery, the charge point with its connectors, the security events, the registration, and
the services made at their first request (the Core requests, firmware management,
certificates, reservations, smart charging, the local list). It returns the charge point and
the session.

A CALL in: ws -> Link -> Session.feed -> the handler its service registered -> the model
(connectors, their Evse) -> the result -> Encoder -> ws. Out: the model's changes become
messages here (StatusNotification, the journal's StartTransaction, ...), sent by
Session.call or, for transaction messages, the journal's Delivery.
"""

import asyncio

import atomicfile
import logger
import unload
from filelog import FileLog
from firmware.link import Link, basic_auth_key, read_file
from firmware.security.events import SecurityEvents
from firmware.security.profile import ProfileSwitch
from firmware.v16.authcache import AuthCache
from firmware.v16.authorize import Authorizer
from firmware.v16.chargepoint import FEATURE_PROFILES, ChargePoint
from firmware.v16.remotetrigger import RemoteTrigger, send_triggered
from firmware.registration import BootMessage, Registration
from firmware.v16.settings import Settings
from firmware.v16.txmessages import TxMessages
from lazy import LazyService
from ocppj.delivery import Delivery
from ocppj.journal import Journal
from ocppj.protocol import V16
from ocppj.session import Session
from ticks import sleep_ms

log = logger.get("app")


async def start(cfg, board, watchdog, client, encoder, trust, boot_reason="Unknown", lag=None):
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
    # TriggerMessage, ExtendedTriggerMessage: each service below adds what it can send
    triggers = RemoteTrigger(board.connectors)
    triggers.register(session)
    await sleep_ms(0)
    # the answers to transaction messages go to the messages' service (made below: it wakes
    # the delivery)
    delivery = Delivery(journal, session,
                        lambda settings=settings: settings.get("TransactionMessageAttempts"),
                        lambda settings=settings: settings.get("TransactionMessageRetryInterval"),
                        lambda record, answer: messages.answered(record, answer))
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
    # made at the first ReserveNow/CancelReservation, after cp below exists (a closure cell)
    def make_reserved(session=session, state_dir=board.state_dir):
        return make_reservations(cp, session, state_dir)
    reservations = LazyService(session, RESERVATION_ACTIONS, make_reserved)
    messages = TxMessages(settings, journal, delivery, authorizer, reservations)
    cp = ChargePoint(board, settings, session, messages, authorizer,
                     max_deciamps=settings.get("MaxCurrentA") * 10, watchdog=watchdog,
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
        cfg, board, session, triggers, settings, cp, security, client, trust, lag)
    await sleep_ms(0)

    # after every accepted (re)connect, in the order TC_044_3 shows (what it needs as default
    # arguments: only security and cp, made after what needs them, are closure cells here)
    async def accepted(cp=cp, updater=updater, renewal=renewal, client=client,
                       settings=settings, board=board):
        await cp.status.report_all()
        await cp.status.send_statuses()
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
    registration = Registration(session, board, BootMessage(session, boot_payload(identity)),
                                on_accepted=accepted,
                                settings=settings, on_time_set=security.time_set)
    registration_triggers(triggers, session, registration)
    smart = smart_charging(cp, cfg["installation"])
    await sleep_ms(0)
    # a Reset closes the WebSocket cleanly first (client.close)
    core = core_service(cp, client.close, smart)
    triggers.add("StatusNotification", cp.status.trigger)
    triggers.add("MeterValues", lambda n, what, extended, core=core: (
        core.get().trigger_meter_values(n, what, extended)))
    await sleep_ms(0)
    switch = ProfileSwitch(settings, client, session, trust, csms, security)
    link = Link(client, session, (registration.run, delivery.run), security.event,
                switch.result)
    asyncio.create_task(cp.run())
    asyncio.create_task(link.run())
    asyncio.create_task(security.run())
    await sleep_ms(0)
    if update_pending(board.state_dir):  # an update to resume, or to report on after its reboot
        # the updater's modules first, each in a turn of its own (the bulk of making it)
        __import__("firmware.management.fwupdate")
        await sleep_ms(0)
        __import__("firmware.management.fwtransfer")
        await sleep_ms(0)
        job = updater.get().job
        if job is not None and job.phase == "rebooting":
            asyncio.create_task(confirm_or_roll_back(board, registration))
    return cp, session


def boot_payload(identity):
    """BootNotification.req of the configured identity, checked against the schema's field
    limits by firmware/v16/bootnotification.py (seed 002's API), whose module is needed for
    that only and forgotten after."""
    from firmware.v16.bootnotification import boot_payload
    payload = boot_payload(identity)
    unload.forget("firmware.v16.bootnotification")
    return payload


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


def registration_triggers(triggers, session, registration):
    """TriggerMessage BootNotification (allowed even while Pending) and Heartbeat: the
    registration's (firmware/registration.py). What the functions need comes as default
    arguments: no closure cells."""
    def target(_n, what, _extended, session=session, registration=registration):
        session.after_reply(registration.boot_triggered if what == "BootNotification"
                            else registration.heartbeat_triggered)
        return "Accepted"
    triggers.add("BootNotification", target)
    triggers.add("Heartbeat", target)


async def firmware_management(cfg, board, session, triggers, settings, cp, security, client,
                              trust, lag=None):
    """The certificate store, the firmware updater, diagnostics and the renewal of the charge
    point certificate, each made at its first request (lib/lazy.py): a charging session never
    imports them. A TriggerMessage of their status notifications makes them too."""
    # What each function needs comes as default arguments: no closure cells (at 96 KiB the
    # bytes made at start-up count)
    root_file = (cfg.get("firmware") or {}).get("manufacturerRootFile")

    def roots(trust=trust):  # what HTTPS trusts, as installed at the time of the request
        return trust.ders or None

    def make_certs(board=board, trust=trust, client=client, session=session):
        from firmware.security.certstore import CertStore
        store = CertStore(board.state_dir, trust=trust, on_roots=client.set_ca,
                          secure_link=client.secure)
        store.register(session)
        return store

    certs = LazyService(session, CERT_ACTIONS, make_certs)

    def make_updater(board=board, session=session, settings=settings, cp=cp, certs=certs,
                     security=security, roots=roots):
        from firmware.management.fwtransfer import make_transfer
        from firmware.management.fwupdate import FirmwareUpdater
        updater = FirmwareUpdater(board, session, settings, cp, certs.get, security,
                                  make_transfer(roots, board.block))
        updater.register(session)
        asyncio.create_task(updater.run())
        return updater

    def make_diagnostics(board=board, session=session, roots=roots, security=security, lag=lag):
        from firmware.management.diagnostics import Diagnostics
        diagnostics = Diagnostics(board, session, roots, board.block, security.log_file, lag)
        diagnostics.register(session)
        return diagnostics

    def cpo_roots(trust=trust):  # the CPO hierarchy (whitepaper 2.6.2): the installed CSMS
        from ota.x509 import Certificate  # roots, parsed from the Trust's DER: no store needed
        for der in trust.ders:
            yield Certificate(der)

    def make_renewal(board=board, session=session, settings=settings, client=client,
                     csms=cfg["csms"], security=security, cpo_roots=cpo_roots):
        from firmware.security.cpcert import CertificateRenewal
        renewal = CertificateRenewal(board, session, settings, client, csms["chargeBoxId"],
                                     security, cpo_roots, csms.get("clientCertFile"))
        renewal.register(session)
        return renewal

    if root_file:  # installed once per content; each part in a turn of the loop of its own
        text = read_file(root_file).decode()  # WsError naming it: a config error
        store = certs.get()
        await sleep_ms(0)
        await store.provision(text)
    updater = LazyService(session, UPDATE_ACTIONS, make_updater)
    diagnostics = LazyService(session, DIAGNOSTICS_ACTIONS, make_diagnostics)
    renewal = LazyService(session, RENEWAL_ACTIONS, make_renewal)
    management_triggers(triggers, session, updater, diagnostics, renewal)
    return updater, diagnostics, renewal


def management_triggers(triggers, session, updater, diagnostics, renewal):
    """The status notifications of the lazy services on request: (Signed)FirmwareStatus-
    Notification, DiagnosticsStatusNotification, LogStatusNotification and (whitepaper A02)
    SignChargePointCertificate, each service made by the request if it was not yet."""
    def target(_n, what, extended, session=session, updater=updater,
               diagnostics=diagnostics, renewal=renewal):
        if what == "SignChargePointCertificate":
            return renewal.get().trigger()["status"]
        if what == "FirmwareStatusNotification":  # the signed one for ExtendedTriggerMessage
            firmware = updater.get()
            session.after_reply(lambda: firmware.send_triggered(extended))
            return "Accepted"
        diag = diagnostics.get()
        payload = {"status": diag.diag_status}
        if what == "LogStatusNotification":
            payload = {"status": diag.log_status}
            if diag.log_status != "Idle":
                payload["requestId"] = diag.log_request
        session.after_reply(lambda: send_triggered(session, what, payload))
        return "Accepted"
    # one function for the five: each function object is heap at 96 KiB
    triggers.add("FirmwareStatusNotification", target)
    triggers.add("DiagnosticsStatusNotification", target)
    triggers.add("FirmwareStatusNotification", target, extended=True)
    triggers.add("LogStatusNotification", target, extended=True)
    triggers.add("SignChargePointCertificate", target, extended=True)


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
    service = Reservations(cp.connectors, cp.status_of, cp.settings, cp.board,
                           state_dir + "/" + RESERVATIONS_FILE)
    service.register(session)
    return service


CORE_ACTIONS = ("GetConfiguration", "ChangeConfiguration", "ChangeAvailability",
                "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector",
                "ClearCache", "DataTransfer")


def core_service(cp, close_link, smart):
    """The Core profile's requests (firmware/v16/core.py), made at each: they keep nothing
    between requests, so the service goes again once one is answered (LazyService.shed). At
    96 KiB its module, class and object are some 230 bytes that the RSA check of a signed
    update or the chain check of a renewal cannot spare."""

    def make(cp=cp, close_link=close_link, smart=smart):
        from firmware.v16.core import Core
        service = Core(cp, close_link, smart)
        service.register(cp.session)
        return service

    return LazyService(cp.session, CORE_ACTIONS, make, "firmware.v16.core")


SMART_CHARGING_ACTIONS = ("SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule")
CHARGING_PROFILES_FILE = "charging-profiles"  # in the state folder


def smart_charging(cp, installation):
    """Smart Charging (firmware/v16/smartcharging.py), made at its first request, or now when
    charging profiles are on flash: their limits apply from start-up on. A charging session
    without profiles never imports it. (make() takes what it needs as default arguments: no
    closure cells; at 96 KiB every 100 bytes made at start-up count.)"""

    def make(cp=cp, installation=installation):
        from firmware.v16.smartcharging import SmartCharging
        service = SmartCharging(cp.connectors, cp.on_transaction, cp.settings, cp.board.time_s,
                                cp.board.state_dir + "/" + CHARGING_PROFILES_FILE,
                                installation["voltageV"], installation["phases"])
        service.register(cp.session)
        asyncio.create_task(service.run())
        return service

    smart = LazyService(cp.session, SMART_CHARGING_ACTIONS, make)
    if atomicfile.exists(cp.board.state_dir + "/" + CHARGING_PROFILES_FILE):
        smart.get()
    return smart


def update_pending(state_dir):
    """A firmware update job on flash (firmware/management/fwjob.py)? Its module (and its
    package, unless something had imported it before) is asked at start-up only and forgotten
    after: the updater imports them again when it is made."""
    import sys
    package = "firmware.management" not in sys.modules
    from firmware.management import fwjob
    pending = fwjob.pending(state_dir)
    unload.forget("firmware.management.fwjob")
    if package:
        unload.forget("firmware.management")
    return pending


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
