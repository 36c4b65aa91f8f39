# The OTA HTTP client (lib/ota/http.py) against a real HTTP server on 127.0.0.1 (asyncio).
import asyncio
import contextlib
import hashlib
import random
import ssl
import time
import tracemalloc

import pytest

from ota.http import HttpClient, HttpError, parse_content_range, parse_url, resolve, upload
from tlsca import TestCA

FILE = random.Random(7).randbytes(50_000)


class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body

    def range_start(self):
        value = self.headers.get("range")
        if not value:
            return None
        assert value.startswith("bytes=") and value.endswith("-"), value
        return int(value[6:-1])


async def read_request(reader):
    line = await reader.readline()
    if not line:
        return None
    method, target, _ = line.decode().split(" ", 2)
    headers = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b""):
            break
        name, value = h.decode().split(":", 1)
        headers[name.strip().lower()] = value.strip()
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).strip(), 16)
            if not size:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    return Request(method, target, headers, body)


def head(status, reason, **headers):
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    lines += ["%s: %s" % (k.replace("_", "-"), v) for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Server:
    """Routes by path; every request is recorded. Handlers write the whole answer."""

    def __init__(self):
        self.requests = []
        self.port = None
        self.hits = {}

    async def handle(self, reader, writer):
        try:
            try:
                req = await read_request(reader)
            except (ValueError, UnicodeError):  # not HTTP (a TLS ClientHello)
                req = None
            if req is None:
                return
            self.requests.append(req)
            path = req.target.split("?")[0]
            self.hits[path] = self.hits.get(path, 0) + 1
            handler = getattr(self, "route_" + path.strip("/").replace("/", "_").replace("-", "_"),
                              None)
            if handler is None:
                writer.write(head(404, "Not Found", Content_Length=0))
            else:
                await handler(req, writer, self.hits[path])
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client gave up, or the server is closing
        finally:
            writer.close()

    # -- whole files -----------------------------------------------------------------------
    async def serve_file(self, req, writer, data=FILE, ranges=True, **extra):
        start = req.range_start() if ranges else None
        if start is not None and start >= len(data):
            writer.write(head(416, "Range Not Satisfiable", Content_Range="bytes */%d" % len(data),
                              Content_Length=0))
            return
        if start is not None:
            body = data[start:]
            writer.write(head(206, "Partial Content", Content_Length=len(body),
                              Content_Range="bytes %d-%d/%d" % (start, len(data) - 1, len(data)),
                              Accept_Ranges="bytes", **extra))
        else:
            body = data
            hdrs = dict(extra)
            if ranges:
                hdrs["Accept_Ranges"] = "bytes"
            writer.write(head(200, "OK", Content_Length=len(data), **hdrs))
        writer.write(body)

    async def route_file(self, req, writer, n):
        await self.serve_file(req, writer, ETag='"v1"')

    async def route_dir_file(self, req, writer, n):
        await self.serve_file(req, writer)

    async def route_chunked(self, req, writer, n):
        writer.write(head(200, "OK", Transfer_Encoding="chunked"))
        rng = random.Random(3)
        i = 0
        while i < len(FILE):
            k = rng.randint(1, 9000)
            part = FILE[i:i + k]
            writer.write(b"%x;ext=1\r\n" % len(part) + part + b"\r\n")
            i += k
            await writer.drain()
        writer.write(b"0\r\nX-Trailer: yes\r\n\r\n")

    async def route_eof(self, req, writer, n):
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + FILE)

    async def route_broken(self, req, writer, n):
        writer.write(head(500, "Internal Server Error", Content_Length=0))

    async def route_flaky(self, req, writer, n):  # 503 once, then the file
        if n == 1:
            writer.write(head(503, "Service Unavailable", Content_Length=0))
        else:
            await self.serve_file(req, writer)

    # -- redirects -----------------------------------------------------------------------------
    async def route_hop(self, req, writer, n):
        # /hop?k=N redirects N times, then to the file; style picks the Location form
        query = dict(p.split("=") for p in req.target.split("?")[1].split("&"))
        k = int(query["k"])
        style = query.get("style", "abs")
        if k == 0:
            target = {"abs": "http://127.0.0.1:%d/file" % self.port, "path": "/file",
                      "rel": "dir/file", "dots": "./x/../dir/./file",
                      "net": "//127.0.0.1:%d/file" % self.port}[style]
        else:
            target = "/hop?k=%d&style=%s" % (k - 1, style)
        writer.write(head(302 if k % 2 else 307, "Found", Location=target, Content_Length=0))

    async def route_long_hop(self, req, writer, n):  # a pre-signed URL: a long Location
        writer.write(head(302, "Found", X_Padding="p" * 700, Location="/file?sig=" + "s" * 3000,
                          Content_Length=0))

    async def route_huge_header(self, req, writer, n):
        writer.write(head(200, "OK", X_Padding="p" * 9000, Content_Length=len(FILE)) + FILE)

    async def route_nowhere(self, req, writer, n):
        writer.write(head(301, "Moved", Content_Length=0))

    # -- failures mid-body ---------------------------------------------------------------------
    async def drop_after(self, writer, status_head, body, cut):
        writer.write(status_head)
        writer.write(body[:cut])
        await writer.drain()
        writer.transport.abort()

    async def route_drop(self, req, writer, n):  # drops at 20000 once, then honours Range
        if n == 1:
            await self.drop_after(writer, head(200, "OK", Content_Length=len(FILE),
                                               Accept_Ranges="bytes", ETag='"abc"'), FILE, 20_000)
        else:
            await self.serve_file(req, writer, ETag='"abc"')

    async def route_drop_twice(self, req, writer, n):  # drops twice, the second time mid-Range
        start = req.range_start() or 0
        if n <= 2:
            body = FILE[start:]
            hdr = head(200, "OK", Content_Length=len(FILE), Accept_Ranges="bytes") if not start \
                else head(206, "Partial Content", Content_Length=len(body),
                          Content_Range="bytes %d-%d/%d" % (start, len(FILE) - 1, len(FILE)))
            await self.drop_after(writer, hdr, body, 9_999)
        else:
            await self.serve_file(req, writer)

    async def route_drop_norange(self, req, writer, n):  # no Accept-Ranges: restart from 0
        if n == 1:
            await self.drop_after(writer, head(200, "OK", Content_Length=len(FILE)), FILE, 20_000)
        else:
            await self.serve_file(req, writer, ranges=False)

    async def route_ignores_range(self, req, writer, n):  # says bytes, answers 200 anyway
        if n == 1:
            await self.drop_after(writer, head(200, "OK", Content_Length=len(FILE),
                                               Accept_Ranges="bytes"), FILE, 20_000)
        else:
            writer.write(head(200, "OK", Content_Length=len(FILE), Accept_Ranges="bytes"))
            writer.write(FILE)

    async def route_bad_range(self, req, writer, n):  # 206 from the wrong offset
        start = req.range_start()
        if n == 1:
            await self.drop_after(writer, head(200, "OK", Content_Length=len(FILE),
                                               Accept_Ranges="bytes"), FILE, 20_000)
        elif start is not None:
            writer.write(head(206, "Partial Content", Content_Length=len(FILE) - 100,
                              Content_Range="bytes 100-%d/%d" % (len(FILE) - 1, len(FILE))))
            writer.write(FILE[100:])
        else:
            await self.serve_file(req, writer)

    async def route_changed(self, req, writer, n):  # a new file appears between attempts
        if n == 1:
            await self.drop_after(writer, head(200, "OK", Content_Length=len(FILE),
                                               Accept_Ranges="bytes"), FILE, 20_000)
        else:
            await self.serve_file(req, writer, data=FILE + b"v2" * 5000)

    async def route_drop_chunked(self, req, writer, n):
        if n == 1:
            writer.write(head(200, "OK", Transfer_Encoding="chunked", Accept_Ranges="bytes"))
            writer.write(b"2710\r\n" + FILE[:10_000] + b"\r\n" + b"2710\r\n" + FILE[10_000:15_000])
            await writer.drain()
            writer.transport.abort()
        else:
            await self.serve_file(req, writer)

    # -- silence -------------------------------------------------------------------------------
    async def route_silent(self, req, writer, n):
        await asyncio.sleep(30)

    async def route_stall(self, req, writer, n):
        writer.write(head(200, "OK", Content_Length=len(FILE)))
        writer.write(FILE[:1000])
        await writer.drain()
        await asyncio.sleep(30)

    async def route_slow(self, req, writer, n):  # steady, never idle for long: not a time-out
        writer.write(head(200, "OK", Content_Length=len(FILE)))
        for i in range(0, len(FILE), 5000):
            writer.write(FILE[i:i + 5000])
            await writer.drain()
            await asyncio.sleep(0.05)

    # -- uploads -------------------------------------------------------------------------------
    async def route_upload(self, req, writer, n):
        writer.write(head(201 if req.method == "PUT" else 200, "OK", Content_Length=0))

    async def route_upload_moved(self, req, writer, n):
        writer.write(head(307, "Temporary Redirect", Location="/upload", Content_Length=0))


@contextlib.asynccontextmanager
async def serving(ssl_ctx=None, server=None):
    server = server or Server()
    srv = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=ssl_ctx)
    server.port = srv.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        srv.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(srv.wait_closed(), 1)


class Collect:
    """A pull sink (the interface of ota.writer.PartitionWriter): the client reads into the
    space it offers, a 4096-byte block filled and emptied like the writer's; commit(n) takes
    the bytes from there."""

    def __init__(self):
        self.block = bytearray(4096)
        self.fill = 0
        self.data = bytearray()
        self.sizes = []
        self.restarts = []
        self.offered = None

    def space(self):
        self.offered = memoryview(self.block)[self.fill:]
        self.offered[:] = b"\xaa" * len(self.offered)  # what the client did not write shows
        return self.offered

    def commit(self, n):
        assert 0 < n <= len(self.offered)
        self.sizes.append(n)
        self.data += self.block[self.fill:self.fill + n]
        self.fill = (self.fill + n) % len(self.block)
        self.offered = None

    def restart(self, offset):
        self.restarts.append(offset)
        del self.data[offset:]
        self.fill = offset % len(self.block)


def url(server, path, scheme="http", host="127.0.0.1"):
    return "%s://%s:%d%s" % (scheme, host, server.port, path)


def fast(**kw):
    kw.setdefault("retry_delay_ms", 10)
    return HttpClient(**kw)


# -- the pure parts ----------------------------------------------------------------------------
def test_parse_url_and_resolve():
    assert parse_url("http://h/") == (False, "h", 80, "/", None)
    assert parse_url("HTTPS://h:8443/a/b?x=1#frag") == (True, "h", 8443, "/a/b?x=1", None)
    assert parse_url("http://[::1]:81?q") == (False, "::1", 81, "/?q", None)
    secure, host, port, target, auth = parse_url("http://us%40er:p%3Ass@h/f")
    assert auth == "Basic dXNAZXI6cDpzcw==" and host == "h"
    for bad in ("ftp://h/fw.bin", "h/fw.bin", "http://:80/", "http://h:99999/"):
        with pytest.raises(HttpError):
            parse_url(bad)
    with pytest.raises(HttpError, match="no FTP"):
        parse_url("ftp://h/fw.bin")
    base = "http://h:81/a/b/c.bin?x=1"
    assert resolve(base, "https://o/x") == "https://o/x"
    assert resolve(base, "//o:9/x") == "http://o:9/x"
    assert resolve(base, "/x?y") == "http://h:81/x?y"
    assert resolve(base, "d.bin") == "http://h:81/a/b/d.bin"
    assert resolve(base, "../d.bin") == "http://h:81/a/d.bin"
    assert resolve(base, "?z=2") == "http://h:81/a/b/c.bin?z=2"
    assert resolve("http://h", "x") == "http://h/x"
    assert parse_content_range("bytes 10-19/20") == (10, 19, 20)
    assert parse_content_range("bytes 10-19/*") == (10, 19, None)
    assert parse_content_range("bytes */20") == (None, None, 20)
    assert parse_content_range("bytes 19-10/20") is None
    assert parse_content_range("items 1-2/3") is None


# -- downloads ----------------------------------------------------------------------------------
async def test_content_length_body_read_into_the_sinks_space():
    async with serving() as srv:
        client = fast()
        sink = Collect()
        assert await client.get(url(srv, "/file"), sink) == len(FILE)
    assert bytes(sink.data) == FILE and sum(sink.sizes) == len(FILE)
    assert not [v for v in vars(client).values()  # no body buffer of its own
                if isinstance(v, (bytearray, memoryview)) and len(v) > 256]
    req = srv.requests[0]
    assert req.headers["host"] == "127.0.0.1:%d" % srv.port
    assert req.headers["connection"] == "close" and "range" not in req.headers


async def test_chunked_and_until_close_bodies():
    async with serving() as srv:
        client = fast()
        sink = Collect()
        assert await client.get(url(srv, "/chunked"), sink) == len(FILE)
        assert bytes(sink.data) == FILE
        sink = Collect()
        assert await client.get(url(srv, "/eof"), sink) == len(FILE)
        assert bytes(sink.data) == FILE


@pytest.mark.parametrize("hops", [1, 2, 3])
@pytest.mark.parametrize("style", ["abs", "path", "rel", "dots", "net"])
async def test_redirects_up_to_three_are_followed(hops, style):
    async with serving() as srv:
        sink = Collect()
        # the first hop is the request itself: hops - 1 more redirects, then the file
        await fast().get(url(srv, "/hop?k=%d&style=%s" % (hops - 1, style)), sink)
    assert bytes(sink.data) == FILE
    assert len(srv.requests) == hops + 1


async def test_long_header_lines_are_gathered_and_bounded():
    async with serving() as srv:
        sink = Collect()
        assert await fast().get(url(srv, "/long-hop"), sink) == len(FILE)
        assert bytes(sink.data) == FILE
        assert srv.requests[-1].target == "/file?sig=" + "s" * 3000
        with pytest.raises(HttpError, match="HTTP line longer than 8192 bytes"):
            await fast().get(url(srv, "/huge-header"), Collect())


async def test_download_into_the_ota_writer_reads_into_its_block_only():
    # The firmware's path: ota.writer.PartitionWriter as the sink, its block the shared one.
    # Every flash write is the block itself, and no other buffer of a block's size is made
    # by the OTA code while the download runs (the block was allocated before the tracing).
    from ota.writer import PartitionWriter
    from sharedblock import SharedBlock
    from test_ota_image import MemPartition, make_image
    image = bytes(make_image("4.5.6", data_len=60_000))

    class Images(Server):
        async def route_image(self, req, writer, n):  # drops mid-block once, then Range
            if n == 1:
                await self.drop_after(writer, head(200, "OK", Content_Length=len(image),
                                                   Accept_Ranges="bytes"), image, 20_001)
            else:
                await self.serve_file(req, writer, data=image)

    class Slot(MemPartition):
        def __init__(self):
            super().__init__(blocks=32)
            self.sources = []
            self.snapshot = None

        def writeblocks(self, n, buf):
            self.sources.append(buf)
            if n == 6:  # after the resume
                self.snapshot = tracemalloc.take_snapshot()
            super().writeblocks(n, buf)

    block = SharedBlock()
    buf = block.borrow("test download")
    slot = Slot()
    tracemalloc.start()
    try:
        writer = PartitionWriter(slot, buf=buf)
        async with serving(server=Images()) as srv:
            total = await fast().get(url(srv, "/image"), writer, restart=writer.restart)
        size, digest, info = writer.finish()
    finally:
        tracemalloc.stop()
        block.give()
    assert total == size == len(image) and digest == hashlib.sha256(image).digest()
    assert info.version == "4.5.6" and bytes(slot.data[:len(image)]) == image
    assert srv.requests[1].range_start() == 20_001
    assert slot.sources and all(b is buf for b in slot.sources)
    ours = ("/lib/ota/", "/lib/sharedblock.py")
    big = [(t.traceback[0].filename, t.traceback[0].lineno, t.size)
           for t in slot.snapshot.traces
           if t.size >= 4096 and any(p in t.traceback[0].filename for p in ours)]
    assert big == []


async def test_fourth_redirect_is_refused():
    async with serving() as srv:
        with pytest.raises(HttpError, match=r"too many redirects \(more than 3\)") as e:
            await fast().get(url(srv, "/hop?k=3"), Collect())
        assert not e.value.transient
        assert len(srv.requests) == 4  # never asked for the file
        with pytest.raises(HttpError, match="301 without a Location"):
            await fast().get(url(srv, "/nowhere"), Collect())


async def test_404_is_a_clear_error_and_not_retried():
    async with serving() as srv:
        with pytest.raises(HttpError) as e:
            await fast(retries=3).get(url(srv, "/missing.bin?token=secret"), Collect())
    assert str(e.value) == "HTTP 404 no such file: http://127.0.0.1:%d/missing.bin" % srv.port
    assert e.value.status == 404 and not e.value.transient
    assert len(srv.requests) == 1


async def test_server_errors_are_retried():
    async with serving() as srv:
        sink = Collect()
        await fast(retries=1).get(url(srv, "/flaky"), sink)
        assert bytes(sink.data) == FILE and srv.hits["/flaky"] == 2
        with pytest.raises(HttpError, match="HTTP 500 server error") as e:
            await fast(retries=2).get(url(srv, "/broken"), Collect())
        assert e.value.transient and srv.hits["/broken"] == 3


async def test_drop_mid_body_resumes_with_range():
    async with serving() as srv:
        client = fast()
        sink = Collect()
        assert await client.get(url(srv, "/drop"), sink, restart=sink.restart) == len(FILE)
    assert bytes(sink.data) == FILE and sink.restarts == []
    second = srv.requests[1]
    assert second.headers["range"] == "bytes=20000-"  # every byte committed is kept
    assert second.headers["if-range"] == '"abc"'


async def test_drop_twice_including_mid_range():
    async with serving() as srv:
        sink = Collect()
        await fast(retries=2).get(url(srv, "/drop-twice"), sink, restart=sink.restart)
    assert bytes(sink.data) == FILE and sink.restarts == []
    assert [r.range_start() for r in srv.requests] == [None, 9_999, 19_998]


async def test_drop_in_a_chunked_body_resumes():
    async with serving() as srv:
        sink = Collect()
        await fast().get(url(srv, "/drop-chunked"), sink, restart=sink.restart)
    assert bytes(sink.data) == FILE
    assert srv.requests[1].range_start() == 15_000


async def test_no_accept_ranges_starts_over_from_zero():
    async with serving() as srv:
        sink = Collect()
        await fast().get(url(srv, "/drop-norange"), sink, restart=sink.restart)
    assert bytes(sink.data) == FILE
    assert "range" not in srv.requests[1].headers
    assert sink.restarts == [0]


async def test_server_ignoring_range_restarts_from_zero():
    async with serving() as srv:
        sink = Collect()
        await fast().get(url(srv, "/ignores-range"), sink, restart=sink.restart)
        assert bytes(sink.data) == FILE and sink.restarts == [0]
        assert srv.requests[1].range_start() == 20_000
    async with serving() as srv:
        with pytest.raises(HttpError, match="cannot start over"):  # a sink that cannot
            await fast().get(url(srv, "/ignores-range"), Collect())


async def test_wrong_content_range_starts_over():
    async with serving() as srv:
        sink = Collect()
        await fast(retries=2).get(url(srv, "/bad-range"), sink, restart=sink.restart)
    assert bytes(sink.data) == FILE and sink.restarts == [0]
    assert [r.range_start() for r in srv.requests] == [None, 20_000, None]


async def test_file_changed_between_attempts_starts_over():
    async with serving() as srv:
        sink = Collect()
        assert await fast().get(url(srv, "/changed"), sink, restart=sink.restart) == 60_000
    assert bytes(sink.data) == FILE + b"v2" * 5000 and sink.restarts == [0]
    assert [r.range_start() for r in srv.requests] == [None, 20_000, None]


async def test_offset_continues_a_download_the_sink_holds_part_of():
    async with serving() as srv:
        sink = Collect()
        sink.data += FILE[:8192]
        assert await fast().get(url(srv, "/file"), sink, offset=8192) == len(FILE)
        assert bytes(sink.data) == FILE
        assert srv.requests[0].headers["range"] == "bytes=8192-"
        done = Collect()
        done.data += FILE
        assert await fast().get(url(srv, "/file"), done, offset=len(FILE)) == len(FILE)
        assert bytes(done.data) == FILE  # 416 with bytes */total: complete already


async def test_max_length_refuses_before_the_body():
    async with serving() as srv:
        sink = Collect()
        with pytest.raises(HttpError, match="50000 bytes, at most 40000 fit"):
            await fast().get(url(srv, "/file"), sink, max_length=40_000)
        assert not sink.sizes
        with pytest.raises(HttpError, match="larger than 40000 bytes"):  # chunked: no length
            await fast().get(url(srv, "/chunked"), sink, max_length=40_000)
    assert sum(sink.sizes) <= 40_000


async def test_sink_errors_pass_through_unchanged():
    class Refuses(Collect):
        def commit(self, n):
            raise OSError(5, "image refused")  # an OSError of the client's own would retry

    class Broken(Collect):
        def space(self):
            raise ValueError("no space")

    async with serving() as srv:
        with pytest.raises(OSError, match="image refused"):
            await fast(retries=3).get(url(srv, "/file"), Refuses())
        assert len(srv.requests) == 1
        with pytest.raises(ValueError, match="no space"):
            await fast(retries=3).get(url(srv, "/file"), Broken())
        assert len(srv.requests) == 2


async def test_silent_server_times_out():
    async with serving() as srv:
        start = time.monotonic()
        with pytest.raises(HttpError, match=r"waiting for 127.0.0.1:\d+: nothing for 300 ms") as e:
            await fast(idle_timeout_ms=300, retries=0).get(url(srv, "/silent"), Collect())
        assert e.value.transient and time.monotonic() - start < 3
        sink = Collect()  # stalls mid-body every time; no Accept-Ranges: from 0 each time
        with pytest.raises(HttpError, match="nothing for 300 ms"):
            await fast(idle_timeout_ms=300, retries=1).get(url(srv, "/stall"), sink,
                                                           restart=sink.restart)
        assert srv.hits["/stall"] == 2 and "range" not in srv.requests[-1].headers
        assert sink.restarts == [0] and bytes(sink.data) == FILE[:1000]  # the 2nd attempt's
        sink = Collect()  # slow but steady is no time-out
        await fast(idle_timeout_ms=300, retries=0).get(url(srv, "/slow"), sink)
        assert bytes(sink.data) == FILE
    assert asyncio.current_task().cancelling() == 0  # the watchdog's cancel was absorbed


async def test_connect_timeout_when_the_tls_handshake_never_comes(pki):
    async def mute(reader, writer):  # accepts TCP, never answers the ClientHello
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)
        writer.close()

    srv = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        client = fast(ca=pki["ca"].pem, connect_timeout_ms=300, retries=0)
        start = time.monotonic()
        with pytest.raises(HttpError, match=r"connecting to 127.0.0.1:\d+: nothing for 300 ms"):
            await client.get("https://127.0.0.1:%d/fw.bin" % port, Collect())
        assert time.monotonic() - start < 3
    finally:
        srv.close()


async def test_connection_refused_is_transient():
    async with serving() as srv:
        port = srv.port
    with pytest.raises(HttpError, match="connection to 127.0.0.1:%d failed" % port) as e:
        await fast(retries=1).get("http://127.0.0.1:%d/file" % port, Collect())
    assert e.value.transient


async def test_credentials_in_the_url_are_sent_as_basic_auth():
    async with serving() as srv:
        await fast().get("http://cp:s3cret@127.0.0.1:%d/file" % srv.port, Collect())
    assert srv.requests[0].headers["authorization"] == "Basic Y3A6czNjcmV0"


# -- TLS ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = TestCA(folder)
    return {"ca": ca, "other": TestCA(folder, name="Other CA"), "server": ca.server()}


def server_ctx(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.cert, cert.key)
    return ctx


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_https_with_the_right_ca(pki, host):
    async with serving(server_ctx(pki["server"])) as srv:
        client = fast(ca=pki["ca"].pem)
        sink = Collect()
        assert await client.get(url(srv, "/drop", "https", host), sink) == len(FILE)
    assert bytes(sink.data) == FILE and srv.requests[1].range_start() == 20_000


async def test_https_untrusted_certificate_refused_and_not_retried(pki):
    async with serving(server_ctx(pki["server"])) as srv:
        client = fast(ca=pki["other"].pem, retries=3)
        words = "TLS: certificate of 127.0.0.1:%d rejected" % srv.port
        with pytest.raises(HttpError, match=words) as e:
            await client.get(url(srv, "/file", "https"), Collect())
        assert not e.value.transient
        assert not srv.requests


async def test_https_without_a_ca_is_refused(pki):
    with pytest.raises(HttpError, match="needs the CA certificate"):
        await fast().get("https://127.0.0.1:1/file", Collect())


async def test_https_to_http_redirect_refused(pki):
    async with serving() as plain:
        class Redirecting(Server):
            async def route_fw(self, req, writer, n):
                writer.write(head(302, "Found", Location=url(plain, "/file"), Content_Length=0))

        async with serving(server_ctx(pki["server"]), Redirecting()) as srv:
            with pytest.raises(HttpError, match="redirect from https:// to http:// refused"):
                await fast(ca=pki["ca"].pem).get(url(srv, "/fw", "https"), Collect())


# -- uploads ---------------------------------------------------------------------------------------
def multipart_file(req):
    ctype = req.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("=", 1)[1].encode()
    body = req.body
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"--" + boundary + b"--\r\n")
    part = body[len(boundary) + 4:-(len(boundary) + 8)]
    headers, data = part.split(b"\r\n\r\n", 1)
    return headers.decode(), data


async def test_upload_multipart_bytes_and_iterables():
    data = random.Random(5).randbytes(30_000)
    async with serving() as srv:
        assert await upload(url(srv, "/upload"), "diag.log", data) == 200
        pieces = [data[i:i + 7000] for i in range(0, len(data), 7000)]
        assert await upload(url(srv, "/upload"), "diag.log", iter(pieces), length=len(data)) == 200
        assert await upload(url(srv, "/upload"), 'we"ird.log', (p for p in pieces)) == 200
    for req in srv.requests:
        assert req.method == "POST"
        headers, got = multipart_file(req)
        assert got == data
        assert 'name="file"' in headers and "filename=" in headers
    assert "content-length" in srv.requests[1].headers
    assert srv.requests[2].headers["transfer-encoding"] == "chunked"
    assert "filename=\"we'ird.log\"" in multipart_file(srv.requests[2])[0]


async def test_upload_raw_put_and_errors():
    async with serving() as srv:
        assert await upload(url(srv, "/upload"), "x", b"raw bytes", method="PUT") == 201
        assert srv.requests[0].body == b"raw bytes"
        with pytest.raises(HttpError, match="HTTP 404"):
            await upload(url(srv, "/nope"), "x", b"data")
        with pytest.raises(HttpError, match="redirect not followed for an upload"):
            await upload(url(srv, "/upload-moved"), "x", b"data")
        with pytest.raises(HttpError, match="10 bytes announced, 4 given"):
            await upload(url(srv, "/upload"), "x", iter([b"data"]), length=10)
