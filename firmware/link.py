# The link to the central system: WebSocket connection <-> OCPP-J session, with reconnects.
"""Builds the WebSocket client from the configuration, feeds every received message to the
RPC session, and runs the per-connection work (registration and heartbeats, delivery of the
transaction journal) while connected.

    ws.client -> Link._serve -> session.feed -> handler -> encoder -> ws.client
"""

import asyncio

import logger
from ws.client import WsClient
from ws.errors import WsError
from ticks import sleep_ms
from ws.reconnect import Reconnector

log = logger.get("link")

# Under the state folder: the client key and certificate chain installed by CertificateSigned
# (firmware/security/cpcert.py writes it, make_client reads it), PEM, one atomicfile.
CLIENT_PAIR = "/cpcert"


def read_file(path):
    """The bytes of a configured file (a certificate, a key); WsError naming it if unreadable."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        raise WsError("cannot read " + path)


def stored_credentials(path):
    """(certificate chain PEM, private key PEM) of the pair a CertificateSigned.req installed
    (firmware/security/cpcert.py: one atomicfile, the key first), or None when there is none or it is
    torn."""
    import atomicfile
    data = atomicfile.read(path)
    if data is None:
        return None
    i = data.find(b"-----BEGIN CERTIFICATE-----")
    if i <= 0:
        return None
    return data[i:], data[:i]


def make_client(csms, subprotocol, ca=None, state_dir=None):
    """WsClient for the `csms` section of the configuration; `ca`: the bytes of its caFile,
    read once by the application, which trusts the same roots for downloads and uploads. The
    Basic auth password is the application's to set (set_authorization_key) from the OCPP
    keys AuthorizationKey and SecurityProfile, which the central system may change. The
    client certificate: the pair installed by a certificate renewal under `state_dir`
    (firmware/security/cpcert.py) if there is one, else csms.clientCertFile / clientKeyFile."""
    pair = stored_credentials(state_dir + CLIENT_PAIR) if state_dir is not None else None
    if pair is not None:
        cert, key = pair
        log.info("client certificate: the one installed by CertificateSigned")
    else:
        cert = read_file(csms["clientCertFile"]) if csms.get("clientCertFile") else None
        key = read_file(csms["clientKeyFile"]) if csms.get("clientKeyFile") else None
    # tx_chunk: the send buffer frames are masked into, piece by piece (a turn of the loop
    # after each); 256 bytes are a step of some 40 us here and leave the heap room a
    # certificate renewal needs at 96 KiB
    return WsClient(csms["url"], csms["chargeBoxId"], subprotocols=(subprotocol,), tx_chunk=256,
                    ca=ca, client_cert=cert, client_key=key,
                    max_message=csms["maxMessageBytes"], ping_interval_s=csms["pingIntervalS"])


def basic_auth_key(profile, key):
    """The password the handshake sends under SecurityProfile `profile`: the AuthorizationKey
    for profiles 1 and 2; none for 0 (no authentication) and 3 (the client certificate
    authenticates, whitepaper 2.4: no Basic auth), whatever key is configured."""
    return key if profile in (1, 2) else None


class Link:
    def __init__(self, client, session, work, on_security_event=None, on_result=None):
        self.client = client
        self.session = session
        self.work = work  # coroutine functions started on every connect, cancelled on drop
        # fn(type, techInfo): a failed connect that is a security event (a rejected key, a
        # server certificate that does not verify), reported once per kind until connected
        self.on_security_event = on_security_event
        self.on_result = on_result  # fn(WsError, or None when connected) per attempt
        self._reported = None
        self.reconnector = Reconnector(client, self._serve, min_ms=2000, max_ms=300000,
                                       on_connected=self._up, on_disconnected=self._down,
                                       on_failed=self._failed)

    def _up(self, subprotocol):
        self._reported = None
        if self.on_result is not None:
            self.on_result(None)
        log.info("connected to the central system (%s)" % subprotocol)

    def _failed(self, error):
        if self.on_result is not None:
            self.on_result(error)
        kind = error.event
        if kind and kind != self._reported and self.on_security_event is not None:
            self._reported = kind  # not once per attempt: the queue would hold nothing else
            self.on_security_event(kind, error.reason)

    def _down(self, error):
        log.warn("disconnected:", str(error) if error else "closed")

    async def _serve(self, client):
        self.session.opened()
        tasks = [asyncio.create_task(fn()) for fn in self.work]
        try:
            while True:
                message = await client.recv()
                await self.session.feed(message)
        finally:
            self.session.closed()
            for task in tasks:
                task.cancel()

    async def run(self):
        while True:  # the link to the central system is never given up
            try:
                await self.reconnector.run()
            except Exception as e:
                log.error("link failed, starting again:", repr(e))
                await sleep_ms(5000)
