# WebSocket client (RFC 6455) on asyncio streams: MicroPython (ESP32, unix) and CPython.
"""The OCPP-J transport: a WebSocket client written for small heaps.

    import asyncio
    from ws.client import WsClient
    from ws.errors import WsError
    from ws.reconnect import Reconnector

    ws = WsClient("wss://csms.example.com/ocpp", "CP 1", subprotocols=("ocpp1.6",),
                  authorization_key=key,            # security profile 2: Basic auth over TLS
                  ca=ca_pem,                        # required for wss://: no unverified TLS
                  max_message=16384, ping_interval_s=60)

    async def session(ws):                          # runs while the link is up
        await ws.send(b'[2,"1","Heartbeat",{}]')
        while True:
            msg = await ws.recv()                   # memoryview: valid until the next recv()
            handle(bytes(msg))                      # copy what must outlive it

    asyncio.run(Reconnector(ws, session, min_ms=2000, max_ms=300000).run())

Modules (import only what you need; nothing is imported by this package itself):
- ws.client     WsClient: URL, opening handshake, TLS, keep-alive pings
- ws.link       Link: frames out, messages in, close handshake (WsClient's base)
- ws.frames     frame headers, masking, close payloads (no I/O)
- ws.handshake  HTTP upgrade request/response, percent-encoding, Basic auth (no I/O)
- ws.tls        verifying TLS client context, PEM -> DER
- ws.transport  asyncio streams, MicroPython and CPython alike
- ws.reconnect  Backoff and Reconnector: exponential back-off with jitter, notifications
- ws.errors     WsError(reason, code=None): the one exception
"""
