# The Core profile's requests of the central system, answered on the charge point.
"""ChangeAvailability, RemoteStartTransaction, RemoteStopTransaction, Reset, UnlockConnector,
ClearCache, DataTransfer, GetConfiguration and ChangeConfiguration, plus TriggerMessage's
MeterValues and the charge point's own DataTransfer. The connectors, their availability and
cards are the charge point's (firmware/v16/chargepoint.py); this service turns requests into
its commands and answers. The application makes it at the first of these requests
(firmware/v16/start.py core_service): a session started and stopped by cards never imports it.

    core = Core(cp, close_link=client.close, smart_charging=smart)
    core.register(session)

Registration (§4.2): RemoteStartTransaction and RemoteStopTransaction are not allowed while
Pending: they are answered Rejected, so nothing starts and no relay closes before the charge
point is accepted (§4.2.1 advises denying charging services then).

Reset (§5.14): the transactions are stopped (reason SoftReset / HardReset), the
StopTransactions are given 5 s to be answered, the status changes are sent, and the
WebSocket is closed with the close handshake (bootreason.restart) before the reboot.
"""

import logger

# The charge point's logger: its lines read as before. What only some requests need is
# imported in them (all loaded already): this module's dict is held from start-up on, and at
# 96 KiB its every entry counts.
log = logger.get("cp")


class Core:
    def __init__(self, cp, close_link=None, smart_charging=None):
        self.cp = cp  # its authorizer (and the authorization cache) answer for cards here too
        self.close_link = close_link  # async fn(): close the WebSocket cleanly (WsClient.close)
        # SmartCharging (firmware/v16/smartcharging.py) for RemoteStartTransaction's profile: a
        # lib/lazy.py LazyService, made by the request if it was not yet
        self.smart_charging = smart_charging

    def register(self, session):
        from firmware.v16.settings import handle_change_configuration, handle_get_configuration
        settings = self.cp.settings
        h = session.handlers
        h["GetConfiguration"] = lambda p: handle_get_configuration(settings, p)
        h["ChangeConfiguration"] = lambda p: handle_change_configuration(settings, p)
        h["ChangeAvailability"] = self.change_availability
        h["RemoteStartTransaction"] = self.remote_start
        h["RemoteStopTransaction"] = self.remote_stop
        h["Reset"] = self.reset
        h["UnlockConnector"] = self.unlock_connector
        h["ClearCache"] = self.clear_cache
        h["DataTransfer"] = self.data_transfer

    async def _send(self, action, payload, triggered=False):
        from ocppj import errors
        from ocppj.session import CallTimeout, NotConnected
        try:
            return await self.cp.session.call(action, payload, triggered=triggered)
        except (errors.CallError, CallTimeout, NotConnected) as e:
            log.warn(action, "not delivered:", repr(e))

    def change_availability(self, p):
        """§5.2: Accepted, or Scheduled while a transaction runs (applied when it ends);
        connectorId 0 is the charge point and all its connectors."""
        scheduled = self.cp.set_operative(p["connectorId"], p["type"] == "Operative")
        if scheduled is None:
            return {"status": "Rejected"}
        return {"status": "Scheduled" if scheduled else "Accepted"}

    def remote_start(self, p):
        if self.cp.session.registration != "Accepted":
            return {"status": "Rejected"}  # not allowed while Pending (§4.2)
        cp = self.cp
        id_tag = p["idTag"]
        n = p.get("connectorId")
        if n is None:
            candidates = [c for c in cp.connectors if c.usable()]
            candidates.sort(key=lambda c: not c.evse.plugged)
            c = candidates[0] if candidates else None
        else:
            c = cp.connector(n)
        reservations = cp.reservations_made()
        parent = None
        if reservations is not None and c is not None:  # a reserved connector: its holder only
            parent = self.cp.authorizer.parent(id_tag)  # its group, if the cache knows it
            c = reservations.choose(id_tag, parent, only=None if n is None else c)
        if c is None or not c.usable():
            return {"status": "Rejected"}
        profile = p.get("chargingProfile")  # a TxProfile for the transaction started here
        if profile is not None and (self.smart_charging is None or self.smart_charging.get()
                                    .expect(c.n, id_tag, profile) != "Accepted"):
            return {"status": "Rejected"}
        if cp.settings.get("AuthorizeRemoteTxRequests"):
            c.pending_tag = id_tag  # reserved while we ask

            async def authorize_then_begin():
                status, parent = await self.cp.authorizer.check(id_tag)
                c.pending_tag = None
                if status == "Accepted":
                    c.begin(id_tag, parent)
            self.cp.session.after_reply(authorize_then_begin)
        else:
            self.cp.session.after_reply(lambda: c.begin(id_tag, parent))
        return {"status": "Accepted"}

    def remote_stop(self, p):
        if self.cp.session.registration != "Accepted":
            return {"status": "Rejected"}  # not allowed while Pending (§4.2)
        for c in self.cp.connectors:
            if c.tx is not None and p["transactionId"] in (c.tx.id, c.tx.local_id):
                c.stop("Remote")
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    def reset(self, p):
        hard = p["type"] == "Hard"

        async def reboot(flush_ms=5000):  # how long the StopTransactions are waited for
            import asyncio
            from ticks import sleep_ms, ticks_diff, ticks_ms
            cp = self.cp
            reason = "HardReset" if hard else "SoftReset"
            for c in cp.connectors:
                c.stop(reason)
            journal = cp.messages.journal
            start = ticks_ms()  # give the StopTransactions a moment to reach the central system
            while journal.peek() is not None and ticks_diff(ticks_ms(), start) < flush_ms:
                await sleep_ms(100)
            if cp.status.online():
                try:  # the statuses that follow the stops (Finishing ...)
                    await asyncio.wait_for(cp.status.send_statuses(), flush_ms / 1000)
                except asyncio.TimeoutError:
                    pass
            log.info("Reset", p["type"], "- restarting")
            from firmware.model import bootreason
            await bootreason.restart(cp.board, "RemoteReset", self.close_link, hard)
        self.cp.session.after_reply(reboot)
        return {"status": "Accepted"}

    def unlock_connector(self, p):
        if self.cp.connector(p["connectorId"]) is None:
            return {"status": "NotSupported"}
        return {"status": "NotSupported"}  # this hardware has no connector lock actuator

    def clear_cache(self, p):
        if not self.cp.settings.get("AuthorizationCacheEnabled"):
            return {"status": "Rejected"}
        self.cp.authorizer.cache.clear()
        return {"status": "Accepted"}

    def data_transfer(self, p):
        return {"status": "UnknownVendorId"}  # no vendor extensions in this firmware

    async def send_data_transfer(self, vendor_id, message_id=None, data=None):
        """DataTransfer from the charge point: the central system's answer (status, data),
        or None when it could not be delivered."""
        payload = {"vendorId": vendor_id}
        if message_id is not None:
            payload["messageId"] = message_id
        if data is not None:
            payload["data"] = data
        return await self._send("DataTransfer", payload)

    def trigger_meter_values(self, n, _what=None, _extended=False):
        """TriggerMessage MeterValues (firmware/v16/remotetrigger.py's target): a sample of
        connector n, or of each (n None or 0)."""
        self.cp.session.after_reply(lambda: self.triggered_meter_values(n))
        return "Accepted"

    async def triggered_meter_values(self, n):
        cp = self.cp
        for c in cp.connectors:
            if n not in (None, 0, c.n):
                continue
            value = cp.messages.sample(c, "Trigger", "MeterValuesSampledData")
            if value:
                payload = {"connectorId": c.n, "meterValue": [value]}
                if c.tx is not None and c.tx.server_id is not None:
                    payload["transactionId"] = c.tx.server_id  # a local id means nothing there
                await self._send("MeterValues", payload, triggered=True)
