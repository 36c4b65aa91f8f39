# RFC 6455 WebSocket client on asyncio streams, for the OCPP-J link to the central system.
"""`WsClient`: the URL, the opening handshake (TLS, Basic auth, subprotocol) and the keep-alive
(our pings; a missed pong drops the link) on top of `Link` (ws/link.py: send, recv, close).
See ws/__init__.py for an example.
"""

import asyncio

import logger
from ticks import sleep_ms, ticks_diff, ticks_ms
from ws.errors import WsError, describe
from ws.frames import ABNORMAL, PING
from ws.handshake import (basic_auth, check_response, host_header, new_key, parse_header,
                          parse_status, parse_url, percent_encode, request)
from ws.link import CLOSED, CONNECTING, OPEN, Link, wait_ms

log = logger.get("ws")


class WsClient(Link):
    def __init__(self, url, charge_box_id, subprotocols=("ocpp1.6",), authorization_key=None,
                 ca=None, client_cert=None, client_key=None, max_message=16384,
                 fragment_size=0, handshake_timeout_ms=20000, idle_timeout_ms=0,
                 ping_interval_s=0, pong_timeout_ms=0, close_timeout_ms=3000, tx_chunk=1024):
        self.subprotocols = tuple(subprotocols)
        self._user = charge_box_id
        self._auth = None
        self.set_authorization_key(authorization_key)
        self._own = (client_cert, client_key)  # kept: set_ca() makes a new context with them
        self._cert = client_cert is not None  # presented on wss:// only
        self.secure = False
        self._ctx = None
        self._ca = None  # the roots trusted now: a new client certificate's context uses them
        self.set_url(url, ca)
        super().__init__(max_message, fragment_size, close_timeout_ms, tx_chunk)
        self.handshake_timeout_ms = handshake_timeout_ms
        self.idle_timeout_ms = idle_timeout_ms
        self.pong_timeout_ms = pong_timeout_ms
        self._ping_ms = 0
        self._ping_n = 0
        self.pings = 0  # pings sent (all connections)
        self.set_ping_interval(ping_interval_s)

    def _hint(self):
        # A TLS server that wants a client certificate just hangs up on one without.
        return " (wants a client certificate?)" if self.secure and not self._cert else ""

    def set_url(self, url, ca=None):
        """Connect to `url` from the next handshake on (a security profile change), trusting
        `ca` on wss://. WsError when it cannot be used: nothing changes then."""
        secure, host, port, path = parse_url(url)
        ctx = None
        if secure:
            from ws.tls import client_context
            ctx = client_context(ca, self._own[0], self._own[1])
        self._ca = ca
        self.secure, self.host, self.port = secure, host, port
        self._path = path + "/" + percent_encode(self._user)
        self._host = host_header(host, port, secure)
        self._ctx = ctx

    def set_ca(self, ca):
        """Trust `ca` (PEM/DER, or a list of them) from the next handshake on (wss:// only).
        WsError when it cannot be used: the context in use stays."""
        if not self.secure:
            self._ca = ca  # for a later wss:// URL
            return  # ws://: nothing to verify
        from ws.tls import client_context
        self._ctx = client_context(ca, self._own[0], self._own[1])
        self._ca = ca

    def set_authorization_key(self, key):
        """The password of HTTP Basic auth (OCPP security profiles 1 and 2) from the next
        handshake on; None or "": none sent."""
        self._auth = None
        if key:
            logger.secret(key)
            self._auth = basic_auth(self._user, key)
            logger.secret(self._auth[6:])  # the base64 form gives the key away too

    def make_context(self, client_cert, client_key):
        """The TLS context for wss:// with this client certificate and key (None: without);
        None for ws://. Raises WsError when they cannot be loaded."""
        if not self.secure:
            return None
        from ws.tls import client_context
        return client_context(self._ca, client_cert, client_key)

    def has_client_certificate(self):
        return self._cert

    def use_context(self, ctx, client_cert=None, client_key=None):
        """Connect with `ctx` (from make_context) from the next connection on; the one that
        is up keeps its session. None (ws://) changes nothing. The pair it was made with is
        kept for the contexts of later roots or URLs (set_ca, set_url)."""
        if client_cert is not None:
            self._own = (client_cert, client_key)
            self._cert = True
        if ctx is not None:
            self._ctx = ctx
            self._cert = True

    def set_ping_interval(self, seconds):
        """WebSocketPingInterval: our pings every `seconds` (0 disables); takes effect now."""
        self._ping_ms = int(seconds * 1000)
        if self.state == OPEN and self._mon_task is None and self._ping_ms:
            self._mon_task = asyncio.create_task(self._monitor())

    # --- opening ----------------------------------------------------------------------------
    async def connect(self):
        """Open the link; returns the negotiated subprotocol. Raises WsError."""
        if self.state != CLOSED:
            raise WsError("connect(): the link is not closed")
        self._reset()
        self.state = CONNECTING
        where = "%s:%d" % (self.host, self.port)
        try:
            proto = await wait_ms(self._handshake(), self.handshake_timeout_ms)
        except asyncio.TimeoutError:  # before OSError: CPython's is an OSError
            err = WsError("no WebSocket handshake with %s within %d ms"
                          % (where, self.handshake_timeout_ms))
        except WsError as e:
            err = e
        except ValueError as e:  # certificate verification (both ports raise a ValueError)
            if not self.secure:
                raise
            err = WsError("TLS: certificate of %s rejected: %s" % (where, describe(e)), None,
                          "InvalidCentralSystemCertificate")
        except EOFError:
            err = WsError("%s closed the connection during the handshake%s" % (where, self._hint()))
        except OSError as e:
            # EPIPE, ECONNRESET, mbedTLS "connection EOF" and "connection reset"
            hint = self._hint() if e.args and e.args[0] in (32, 104, -0x7280, -0x50) else ""
            err = WsError("cannot connect to %s: %s%s" % (where, describe(e), hint))
        else:
            self.state = OPEN
            self.subprotocol = proto
            self._rx_at = ticks_ms()
            if self._ping_ms or self.idle_timeout_ms:
                self._mon_task = asyncio.create_task(self._monitor())
            log.info("connected to", where, "subprotocol", proto)
            return proto
        self.state = CLOSED
        self.error = err
        await self._t.close()
        log.warn("connect failed:", str(err))
        raise err

    async def _handshake(self):
        t = self._t
        await t.open(self.host, self.port, self._ctx)
        key = new_key()
        t.write(request(self._host, self._path, key, self.subprotocols, self._auth))
        await t.drain()
        status, reason = parse_status(await t.readline())
        headers = {}
        try:
            for _ in range(64):
                line = await t.readline()
                if line == b"\r\n" or line == b"\n":
                    break
                hv = parse_header(line)
                if hv is not None:
                    name, value = hv
                    headers[name] = headers[name] + ", " + value if name in headers else value
            else:
                raise WsError("HTTP answer with too many header lines")
        except EOFError:
            if status == 101:
                raise
        return check_response(status, reason, headers, key, self.subprotocols,
                              self._auth is not None)

    # --- keep-alive -------------------------------------------------------------------------
    async def _monitor(self):
        me = asyncio.current_task()
        last_ping = ticks_ms()
        try:
            while self.state == OPEN and self._mon_task is me:
                ping_ms = self._ping_ms
                pong_ms = self.pong_timeout_ms or ping_ms
                idle = self.idle_timeout_ms
                if not ping_ms and not idle:
                    break
                step = min([x for x in (ping_ms, pong_ms, idle) if x]) // 4
                await sleep_ms(min(1000, max(10, step)))
                if self.state != OPEN:
                    break
                now = ticks_ms()
                if self._ping_out and ticks_diff(now, self._ping_at) > pong_ms:
                    await self._fail("no pong from the central system within %d ms" % pong_ms,
                                     ABNORMAL)
                if idle and ticks_diff(now, self._rx_at) > idle:
                    await self._fail("nothing received for %d ms" % idle, ABNORMAL)
                if ping_ms and not self._ping_out and ticks_diff(now, last_ping) >= ping_ms:
                    self._ping_n = n = (self._ping_n + 1) & 0x3FFFFFFF
                    p = self._ping
                    for i in range(4):
                        p[i] = (n >> (24 - 8 * i)) & 0xFF
                    self._ping_out = True  # before sending: the pong may beat the drain
                    self._ping_at = now
                    last_ping = now
                    self.pings += 1
                    try:
                        await wait_ms(self._control(PING, p, 4), pong_ms)
                    except asyncio.TimeoutError:
                        await self._fail("could not send a ping within %d ms" % pong_ms,
                                         ABNORMAL)
        except asyncio.CancelledError:
            pass
        except WsError:
            pass  # _fail already ended the link
        except (OSError, EOFError) as e:
            await self._abort(WsError("connection lost: " + describe(e), ABNORMAL))
        finally:
            if self._mon_task is me:
                self._mon_task = None
