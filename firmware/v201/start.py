# OCPP 2.0.1: the charging station's services built and wired to the link, at start-up.
"""`start(...)` is what firmware/app.py runs when config.json's csms.ocppVersion is "2.0.1".
Only this package's modules and the model's are imported; nothing of firmware/v16/.

Made here: the RPC session on the 2.0.1 schema tables (WebSocket subprotocol ocpp2.0.1), the
device model (firmware/v201/devicemodel.py: components and variables, persisted), the station
(its EVSEs, status, availability, Reset), the security events (the same
SecurityEventNotification as 1.6), the registration (BootNotification with its reason, then
Heartbeats at OCPPCommCtrlr.HeartbeatInterval), TriggerMessage's targets, and the services
made at their first request: GetVariables/SetVariables and GetBaseReport/GetReport.

Security profiles 1 and 2 (A00): Basic auth with username the station's identity and
password SecurityCtrlr.BasicAuthPassword (config.json csms.authorizationKey until the central
system sets another, A01), over TLS that verifies the central system for profile 2.
"""

import asyncio

from filelog import FileLog
from firmware.link import Link, basic_auth_key
from firmware.registration import Registration
from firmware.security.events import SecurityEvents
from firmware.v201.boot import Boot
from firmware.v201.devicemodel import DeviceModel
from firmware.v201.station import Station
from firmware.v201.trigger import Triggers
from lazy import LazyService
from ocppj.encoder import Timestamp
from ocppj.journal import Journal
from ocppj.protocol import of
from ocppj.session import Session
from ticks import sleep_ms

MAX_DECIAMPS = 160  # offered to an EV; no 2.0.1 transaction closes a relay yet (station.py)
VARIABLE_ACTIONS = ("GetVariables", "SetVariables")
REPORT_ACTIONS = ("GetBaseReport", "GetReport")
DEVICE_MODEL_FILE = "variables"  # in the state folder
# The link's security events under their 2.0.1 names (part 2 appendix, security events)
EVENT_NAMES = {"FailedToAuthenticateAtCentralSystem": "FailedToAuthenticateAtCsms",
               "InvalidCentralSystemCertificate": "InvalidCsmsCertificate"}


class HeartbeatInterval:
    """OCPPCommCtrlr.HeartbeatInterval as firmware/registration.py reads and sets it."""

    def __init__(self, dm):
        self.dm = dm

    def get(self, _name):
        return self.dm.get_int("OCPPCommCtrlr", "HeartbeatInterval")

    def change(self, _name, value):
        self.dm.set("OCPPCommCtrlr", "HeartbeatInterval", value)


def device_model(board, station, trust, cfg):
    """The device model with the station's live values (firmware/v201/station.py's
    `variable`) and the configuration's fixed ones."""
    csms = cfg["csms"]
    phases = str(cfg["installation"]["phases"])
    fixed = {("SecurityCtrlr", "SecurityProfile"): str(csms["securityProfile"]),
             ("SecurityCtrlr", "Identity"): csms["chargeBoxId"],
             ("ChargingStation", "SupplyPhases"): phases, ("EVSE", "SupplyPhases"): phases,
             ("Connector", "SupplyPhases"): phases}
    if csms.get("authorizationKey"):  # until the central system sets its own (A01)
        fixed[("SecurityCtrlr", "BasicAuthPassword")] = csms["authorizationKey"]
    actual = {("ClockCtrlr", "DateTime"): lambda evse, connector, board=board: str(
        Timestamp(board.time_s())),
        ("SecurityCtrlr", "CertificateEntries"): lambda evse, connector, trust=trust: str(
            len(trust.ders))}
    actual.update(station.actual())
    watts = MAX_DECIAMPS * cfg["installation"]["voltageV"] * cfg["installation"]["phases"] // 10
    return DeviceModel(board.state_dir + "/" + DEVICE_MODEL_FILE, board.connectors,
                       actual=actual, fixed=fixed, max_limits={("EVSE", "Power"): watts})


def use_password(dm, client, security, csms):
    """Basic auth from SecurityCtrlr.BasicAuthPassword (or the configured one until the
    central system sets its own), now and after every change (A01: from the next connection
    on; the change a security event, never the password itself)."""
    profile = csms["securityProfile"]
    client.set_authorization_key(basic_auth_key(profile, dm.get("SecurityCtrlr",
                                                                "BasicAuthPassword")))

    def changed(value):
        client.set_authorization_key(basic_auth_key(profile, value))  # the next connect's
        security.reconfigured("BasicAuthPassword")
    dm.on_change("SecurityCtrlr", "BasicAuthPassword", changed)


async def start(cfg, board, watchdog, client, encoder, trust, boot_reason="Unknown", lag=None):
    csms = cfg["csms"]
    # InvalidMessages: the security events (made below) hear of them
    session = Session(of("2.0.1"), encoder, client.send, timeout_ms=csms["callTimeoutS"] * 1000,
                      on_invalid=lambda what: security.event("InvalidMessages", what))
    await sleep_ms(0)
    station = Station(board, session, MAX_DECIAMPS, watchdog, close_link=client.close)
    station.guard_relays()  # the relays' safety never waits for the loop (evse.Guard)
    station.register(session)
    await sleep_ms(0)
    security = SecurityEvents(session, board,
                              Journal(board.state_dir + "/security", max_record_bytes=512),
                              FileLog(board.state_dir + "/securitylog"))
    await security.started(boot_reason)
    await sleep_ms(0)
    dm = device_model(board, station, trust, cfg)
    use_password(dm, client, security, csms)
    dm.on_change("OCPPCommCtrlr", "WebSocketPingInterval",
                 lambda value: client.set_ping_interval(int(value)))
    await sleep_ms(0)
    identity = dict(cfg["identity"])
    running = board.running_image()
    if running and running[0]:
        identity["firmwareVersion"] = running[0]  # what actually runs, not what was configured
    registration = Registration(session, board, Boot(session, identity, boot_reason),
                                on_accepted=station.report_all, settings=HeartbeatInterval(dm),
                                on_time_set=security.time_set)
    triggers = Triggers(session, board.connectors)
    add_triggers(triggers, session, station, registration)
    triggers.register(session)
    services(session, dm, csms["frameBufferBytes"])
    await sleep_ms(0)
    link = Link(client, session, (registration.run,),
                lambda kind, info: security.event(EVENT_NAMES.get(kind, kind), info))
    asyncio.create_task(station.run())
    asyncio.create_task(link.run())
    asyncio.create_task(security.run())
    return station, session


def add_triggers(triggers, session, station, registration):
    """F06: BootNotification (Rejected once Accepted, F06.FR.17), Heartbeat, StatusNotification
    (every connector when no evse is named, F06.FR.11)."""
    def boot(_evse):
        if session.registration == "Accepted":
            return "Rejected"
        session.after_reply(registration.boot_triggered)
        return "Accepted"

    def heartbeat(_evse):
        session.after_reply(registration.heartbeat_triggered)
        return "Accepted"

    def status(evse):
        session.after_reply(lambda: station.send_statuses(True, evse, triggered=True))
        return "Accepted"
    triggers.add("BootNotification", boot)
    triggers.add("Heartbeat", heartbeat)
    triggers.add("StatusNotification", status)


def services(session, dm, frame_bytes):
    """GetVariables/SetVariables and the reports, each made at its first request."""
    def make_variables(session=session, dm=dm):
        from firmware.v201.variables import Variables
        service = Variables(session, dm)
        service.register(session)
        return service

    def make_reports(session=session, dm=dm, frame_bytes=frame_bytes):
        from firmware.v201.reports import Reports
        service = Reports(session, dm, frame_bytes)
        service.register(session)
        return service
    LazyService(session, VARIABLE_ACTIONS, make_variables)
    LazyService(session, REPORT_ACTIONS, make_reports)
