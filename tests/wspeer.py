# Test helper: a raw WebSocket server on asyncio streams that says exactly what a test scripts.
"""For what a real server never does: bad frames, wrong handshakes, silence.

    async with RawServer(script) as srv:          # srv.port, srv.url, srv.frames, srv.close_codes
        ...

`script(peer)` runs after the handshake (unless `response` replaces the 101 answer); `peer`
has `send(bytes)`, `read_frame()` -> (fin, opcode, payload) of a client frame (unmasked
here, after checking that it was masked), and `wait_close()` -> the close code the client
sent. Frames are built by hand in the tests, independently of lib/ws.
"""

import asyncio
import base64
import hashlib
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(opcode, payload=b"", fin=True, rsv=0, mask=None, length=None):
    """A server frame, built by hand (length overrides the real one for lying headers)."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    m = 0x80 if mask else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack("!H", n)
    else:
        head += bytes([m | 127]) + struct.pack("!Q", n)
    if mask:
        head += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


class Peer:
    def __init__(self, reader, writer, request):
        self.reader = reader
        self.writer = writer
        self.request = request  # dict of lower-case header name -> value, plus "path"
        self.frames = []  # (fin, opcode, payload) of every client frame read

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def read_frame(self):
        b0, b1 = await self.reader.readexactly(2)
        assert b1 & 0x80, "client frame not masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        key = await self.reader.readexactly(4)
        data = await self.reader.readexactly(n)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(data))
        f = (bool(b0 & 0x80), b0 & 0x0F, payload)
        self.frames.append(f)
        return f

    async def wait_close(self, timeout=3):
        """The code of the client's close frame (None: no code; -1: TCP closed first)."""
        async def loop():
            while True:
                try:
                    fin, op, payload = await self.read_frame()
                except (asyncio.IncompleteReadError, ConnectionError):
                    return -1
                if op == 8:
                    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        return await asyncio.wait_for(loop(), timeout)


class RawServer:
    def __init__(self, script=None, subprotocol="ocpp1.6", response=None, answer=True):
        self.script = script
        self.subprotocol = subprotocol
        self.response = response  # fn(key) -> bytes: replaces the 101 answer
        self.answer = answer  # False: accept TCP, never answer
        self.peers = []
        self.results = []  # what each script returned
        self.errors = []

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = "ws://127.0.0.1:%d/ocpp" % self.port
        return self

    async def __aexit__(self, *exc):
        for p in self.peers:
            p.writer.close()
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            request = {"path": lines[0].split(" ")[1]}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    request[k.strip().lower()] = v.strip()
            peer = Peer(reader, writer, request)
            self.peers.append(peer)
            if not self.answer:
                await asyncio.sleep(3600)
            key = request["sec-websocket-key"]
            if self.response is not None:
                writer.write(self.response(key))
            else:
                proto = ("Sec-WebSocket-Protocol: %s\r\n" % self.subprotocol
                         if self.subprotocol else "")
                writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n"
                              % (accept(key), proto)).encode())
            await writer.drain()
            if self.script is not None:
                self.results.append(await self.script(peer))
        except Exception as e:  # noqa: BLE001 - reported to the test
            self.errors.append(e)
