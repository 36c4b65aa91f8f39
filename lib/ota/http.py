# A small asyncio HTTP/1.1 client: firmware downloads (GET, resumable) and file uploads.
"""HTTP and HTTPS on the WebSocket client's transport (ws.transport, ws.tls), MicroPython and
CPython alike. FTP is not supported: an ftp:// location is refused with a clear error.

    client = HttpClient(ca=ca_pem)                      # ca: required for https://
    total = await client.get(url, sink, offset=0, restart=None, max_length=None)
    status = await client.upload(url, "diagnostics.log", data)   # or upload(url, ...) below

Downloads (`get`): the client has no body buffer; the body is read into the sink's own:
- `sink.space()` gives a memoryview of where the next body bytes go (at least one byte), the
  client reads into its start and calls `sink.commit(n)` (ota.writer.PartitionWriter and
  ota.bundle.BundleReader: the reads land in the OTA writer's flash block). Bytes committed
  are the sink's. An exception from the sink ends the download at once and is raised
  unchanged (never retried).
- Status line, header lines and chunk-size lines go through a small line buffer (256
  bytes); body bytes that came with them are copied from it into the sink's space. A line
  longer than the buffer is gathered piece by piece (up to 8192 bytes).
- Bodies with Content-Length, chunked transfer coding, or (HTTP/1.0 style) up to the close.
- Redirects 301, 302, 303, 307 and 308, relative Locations included, at most `max_redirects`
  (3) per attempt; one more is an HttpError. A redirect from https:// to http:// is refused;
  credentials of the URL (user:password@) are not sent to another host.
- Time-outs: `connect_timeout_ms` until the request is sent (TCP connect, TLS handshake),
  then `idle_timeout_ms` between any two reads. A watchdog task per request cancels the
  stalled read (asyncio.wait_for around every read would allocate a task per read).
- Retries (`retries`, every `retry_delay_ms`) after a transient failure (connection lost,
  time-out, HTTP 408/429/5xx). If the server said `Accept-Ranges: bytes` or answered 206,
  the retry asks `Range: bytes=N-` for the rest (with If-Range: the ETag or Last-Modified,
  so a file changed meanwhile comes whole) and checks that Content-Range starts at N and
  has the same total. A server that answers 200 instead sends the file from 0: the client
  calls `restart(0)` so the sink starts over (no `restart` given: HttpError). Every byte
  committed before the link dropped is kept, not fetched again.
- `offset` continues a download the sink already holds the first `offset` bytes of (after a
  power cut: `PartitionWriter.committed`), with a Range request as above.
- `max_length`: a Content-Length or Content-Range total above it is refused before any body
  byte is read (the OTA slot size); without a length, at the first byte past it.

TLS: https:// verifies the server exactly as the WebSocket client does (ws.tls.client_context:
CA required, CERT_REQUIRED, host name checked); no CA is an HttpError, never an unverified
connection. A certificate that does not verify is an HttpError and is not retried.

Uploads (`upload`, for GetDiagnostics and GetLog): POST multipart/form-data by default, one
part, field "file", filename = `name`: what the usual upload endpoints of central systems
(and simple servers: PHP, Flask, nginx upload modules) accept. `method="PUT"` sends the bytes
raw as the request body instead (object stores, WebDAV). `data` is bytes-like (sent from
where it is, in pieces of at most 1 KiB: the caller's snapshot in the shared block), or an
iterable of bytes-like chunks (read from flash as it is sent): with `length` known (or
bytes) there is a Content-Length, otherwise chunked transfer coding. The answer is read
through the line buffer; its body is not read. Redirects are not followed (the body cannot
be replayed), no retries: the caller retries as OCPP says.

Errors are HttpError(reason, status, transient): reason is one line a person can act on,
status the HTTP status or None, transient whether trying again may help. Log lines and
errors show URLs without credentials and query (pre-signed URLs carry tokens there).

One request at a time per HttpClient (it owns the line buffer and one connection); each
request is its own connection (Connection: close).
"""

import asyncio
import binascii

import logger
from ticks import Watch, sleep_ms, ticks_diff, ticks_ms
from ws.errors import WsError, describe
from ws.handshake import split_hostport
from ws.transport import Transport

log = logger.get("http")

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_LINE = 8192  # longest status, header or chunk-size line accepted
_LINE_BUF = 256  # the line buffer: most lines fit; longer ones are gathered piece by piece
_SEND_PIECE = 1024  # an upload body is written in pieces: never a 4 KiB copy in the stream
_MAX_HEADERS = 64
_MICROPYTHON = hasattr(asyncio, "sleep_ms")


class HttpError(Exception):
    def __init__(self, reason, status=None, transient=False):
        super().__init__(reason, status)
        self.reason = reason
        self.status = status
        self.transient = transient

    def __str__(self):
        return self.reason


# -- URLs --------------------------------------------------------------------------------------
def _unquote(text):
    if "%" not in text:
        return text
    out = bytearray()
    raw = text.encode()
    i = 0
    while i < len(raw):
        if raw[i] == 37 and i + 2 < len(raw):  # "%XX"
            try:
                out.append(int(raw[i + 1:i + 3].decode(), 16))
                i += 3
                continue
            except ValueError:
                pass
        out.append(raw[i])
        i += 1
    return bytes(out).decode()


def parse_url(url):
    """(secure, host, port, target, auth) of an http:// or https:// URL. target is the path
    and query ('/' when empty; the fragment dropped); auth is the Authorization value for the
    URL's user:password@, or None."""
    head = url[:8].lower()
    if head.startswith("https://"):
        secure, rest, port = True, url[8:], 443
    elif head.startswith("http://"):
        secure, rest, port = False, url[7:], 80
    else:
        colon = url.find(":")
        scheme = url[:colon] if 0 < colon < 10 else url[:20]
        raise HttpError("unsupported location %s: only http:// and https:// (no FTP)" % scheme)
    cut = rest.find("#")
    if cut >= 0:
        rest = rest[:cut]
    end = len(rest)
    for sep in "/?":
        k = rest.find(sep)
        if 0 <= k < end:
            end = k
    hostport, target = rest[:end], rest[end:]
    if not target.startswith("/"):
        target = "/" + target
    auth = None
    at = hostport.rfind("@")
    if at >= 0:
        userinfo = _unquote(hostport[:at])
        hostport = hostport[at + 1:]
        colon = userinfo.find(":")
        if colon >= 0:
            logger.secret(userinfo[colon + 1:])
        auth = "Basic " + binascii.b2a_base64(userinfo.encode())[:-1].decode()
        logger.secret(auth[6:])
    try:
        host, port = split_hostport(hostport, port)
    except ValueError as e:
        raise HttpError(str(e) + " in the URL")
    return secure, host, port, target, auth


def _origin(url):
    # scheme://userinfo@host:port of an absolute URL (everything before the path)
    start = url.find("//") + 2
    end = len(url)
    for sep in "/?#":
        k = url.find(sep, start)
        if 0 <= k < end:
            end = k
    return url[:end]


def _remove_dots(path):
    # RFC 3986 5.2.4, enough for Location headers: "." and ".." segments.
    out = []
    for seg in path.split("/"):
        if seg == "..":
            if len(out) > 1:
                out.pop()
        elif seg != ".":
            out.append(seg)
    if path.endswith("/.") or path.endswith("/.."):
        out.append("")
    return "/".join(out)


def resolve(base, location):
    """The absolute URL a Location header (absolute, //host, /path, path or ?query) means
    relative to `base`."""
    low = location[:8].lower()
    if low.startswith("http://") or low.startswith("https://") or low.startswith("ftp://"):
        return location
    if location.startswith("//"):
        return base[:base.find(":") + 1] + location
    origin = _origin(base)
    rest = base[len(origin):]
    cut = len(rest)
    for sep in "?#":
        k = rest.find(sep)
        if 0 <= k < cut:
            cut = k
    path = rest[:cut] or "/"
    if location.startswith("/"):
        target = location
    elif location.startswith("?"):
        target = path + location
    else:
        target = path[:path.rfind("/") + 1] + location
    q = target.find("?")
    if q < 0:
        return origin + _remove_dots(target)
    return origin + _remove_dots(target[:q]) + target[q:]


def _show(url):
    # For log lines and errors: no credentials, no query (pre-signed URLs carry tokens there).
    try:
        secure, host, port, target, _ = parse_url(url)
    except HttpError:
        return url[:40]
    for sep in "?#":
        k = target.find(sep)
        if k >= 0:
            target = target[:k]
    h = "[" + host + "]" if ":" in host else host
    return "%s://%s%s%s" % ("https" if secure else "http", h,
                            "" if port == (443 if secure else 80) else ":%d" % port, target)


def parse_content_range(value):
    """(first, last, total or None) of `bytes first-last/total`; (None, None, total) of
    `bytes */total`; None when it is neither."""
    try:
        unit, spec = value.strip().split(" ", 1)
        if unit.lower() != "bytes":
            return None
        span, total = spec.strip().split("/")
        total = None if total == "*" else int(total)
        if span == "*":
            return None, None, total
        first, last = span.split("-")
        first, last = int(first), int(last)
        if first < 0 or last < first or (total is not None and last >= total):
            return None
        return first, last, total
    except (ValueError, AttributeError):
        return None


# -- the request time-out watchdog --------------------------------------------------------------
def _uncancel():
    # CPython 3.11+: the cancellation our watchdog caused is handled, it must not count.
    t = asyncio.current_task()
    u = getattr(t, "uncancel", None)
    if u is not None:
        u()


# -- the download state ----------------------------------------------------------------------
class _Download:
    def __init__(self, sink, restart, offset, max_length):
        self.sink = sink
        self.restart = restart
        self.pos = offset  # bytes of the file the sink holds (committed)
        self.total = None  # the file's length, once the server said it
        self.ranges = offset > 0  # a retry asks for the rest with a Range request
        self.validator = None  # ETag or Last-Modified: If-Range
        self.max_length = max_length
        self.sink_error = None  # an exception from the sink: raised as it is
        self.length = None  # body bytes of the current answer (None: chunked or to the close)


class HttpClient:
    def __init__(self, ca=None, connect_timeout_ms=20000, idle_timeout_ms=30000,
                 max_redirects=3, retries=2, retry_delay_ms=2000, user_agent="ocpp-cp"):
        self.ca = ca
        self._lb = bytearray(_LINE_BUF)  # status, header and chunk-size lines
        self._lmv = memoryview(self._lb)
        self._ls = 0  # bytes of the connection in _lb[_ls:_le], not used yet
        self._le = 0
        self.connect_timeout_ms = connect_timeout_ms
        self.idle_timeout_ms = idle_timeout_ms
        self.max_redirects = max_redirects
        self.retries = retries
        self.retry_delay_ms = retry_delay_ms
        self.user_agent = user_agent
        self._ctx = None
        self._t = None
        self._watch = None

    # -- connection ------------------------------------------------------------------------
    def _context(self):
        if self._ctx is None:
            if not self.ca:
                raise HttpError("https:// needs the CA certificate of the server: refusing an "
                                "unverified connection")
            from ws.tls import client_context
            try:
                self._ctx = client_context(self.ca)
            except WsError as e:
                raise HttpError("TLS: " + e.reason)
        return self._ctx

    async def _open(self, secure, host, port):
        ctx = self._context() if secure else None
        t = self._t = Transport()
        self._ls = self._le = 0
        self._watch = Watch(self.connect_timeout_ms, "connecting to %s:%d" % (host, port))
        await t.open(host, port, ctx)

    async def _close(self):
        w = self._watch
        self._watch = None
        if w is not None:
            w.stop()
        t = self._t
        self._t = None
        if t is not None:
            await t.close()

    async def _send(self, data):
        t = self._t
        t.write(data)  # type: ignore
        await t.drain()  # type: ignore
        self._watch.poke()  # type: ignore

    async def _line(self):
        """The next line, its LF included (bytearray): from the line buffer, refilled from the
        connection; EOFError at the end. A line longer than the buffer is gathered in pieces."""
        lb = self._lb
        long = None  # the start of a line that did not fit the buffer
        while True:
            s, e = self._ls, self._le
            nl = lb.find(b"\n", s, e)
            if nl >= 0:
                self._ls = nl + 1
                line = lb[s:nl + 1]
                return line if long is None else long + line
            if e == _LINE_BUF or (s == e and s):  # the buffer is used up: start it again
                if s < e:
                    if long is None:
                        long = lb[s:e]
                    else:
                        long += self._lmv[s:e]
                    if len(long) > _MAX_LINE:
                        raise HttpError("HTTP line longer than %d bytes" % _MAX_LINE)
                self._ls = self._le = s = e = 0
            k = await self._recv(self._lmv[e:] if e else self._lmv)
            if not k:
                rest = lb[s:e]
                if long is None and not rest:
                    raise EOFError
                return rest if long is None else long + rest  # the last line has no LF
            self._le = e + k

    async def _into(self, mv):
        """Read body bytes into mv: what the line buffer holds after the last line first,
        else from the connection. At least one byte, at most len(mv); 0 at the end."""
        s = self._ls
        k = self._le - s
        if not k:
            return await self._recv(mv)
        if k > len(mv):
            k = len(mv)
        mv[:k] = self._lmv[s:s + k]
        self._ls = s + k
        return k

    async def _recv(self, mv):
        """Read what is there (at least one byte, at most len(mv)) into mv; 0 at the end."""
        r = self._t.r  # type: ignore
        if _MICROPYTHON:  # one Stream: readinto, None while a TLS record is incomplete
            while True:
                k = await r.readinto(mv)  # type: ignore
                if k is not None:
                    break
        else:  # CPython's StreamReader has no readinto
            b = await r.read(len(mv))  # type: ignore
            k = len(b)
            mv[:k] = b
        self._watch.poke()  # type: ignore
        return k

    async def _response(self, where):
        """(status, reason, headers) of the answer; headers: lower-case name -> value."""
        self._watch.poke(self.idle_timeout_ms, "waiting for %s" % where)  # type: ignore
        line = await self._line()
        try:
            parts = line.decode().strip().split(" ", 2)
            if not parts[0].startswith("HTTP/1."):
                raise ValueError
            status = int(parts[1])
        except (ValueError, IndexError, UnicodeError):
            raise HttpError("%s did not answer in HTTP/1.x" % where)
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        for _ in range(_MAX_HEADERS):
            line = await self._line()
            if line == b"\r\n" or line == b"\n":
                return status, reason, headers
            try:
                text = line.decode()
            except UnicodeError:
                continue
            colon = text.find(":")
            if colon <= 0:
                continue
            name = text[:colon].strip().lower()
            value = text[colon + 1:].strip()
            headers[name] = headers[name] + ", " + value if name in headers else value
        raise HttpError("%s sent more than %d header lines" % (where, _MAX_HEADERS))

    # -- errors ----------------------------------------------------------------------------
    def _failure(self, e, where, secure):
        """The HttpError for an exception of one request; re-raises what is not ours."""
        if isinstance(e, HttpError):
            return e
        if isinstance(e, ValueError) and secure:  # both ports: the certificate did not verify
            return HttpError("TLS: certificate of %s rejected: %s" % (where, describe(e)))
        if isinstance(e, EOFError):
            return HttpError("%s closed the connection" % where, transient=True)
        if isinstance(e, WsError):  # the transport: host name not resolved
            return HttpError(e.reason, transient=True)
        if isinstance(e, OSError):
            return HttpError("connection to %s failed: %s" % (where, describe(e)), transient=True)
        raise e

    @staticmethod
    def _status_error(status, reason, url):
        if status in (401, 403):
            why = "access denied (credentials?)"
        elif status == 404:
            why = "no such file"
        elif status == 416:
            why = "range not satisfiable"
        elif status >= 500:
            why = "server error"
        else:
            why = reason or "refused"
        transient = status >= 500 or status in (408, 429)
        return HttpError("HTTP %d %s: %s" % (status, why, _show(url)), status, transient)

    # -- GET -----------------------------------------------------------------------------------
    async def get(self, url, sink, offset=0, restart=None, max_length=None, retries=None):
        """Download `url` into `sink` (see the module docstring); returns the file's length.
        HttpError when it cannot be had; the sink's own exceptions pass through."""
        dl = _Download(sink, restart, offset, max_length)
        attempts = 1 + (self.retries if retries is None else retries)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._get_following(url, dl)
                return dl.pos
            except HttpError as e:
                if not e.transient or attempt >= attempts:
                    raise
                at = dl.pos
                log.warn("download: %s; attempt %d of %d in %d ms, %s" % (
                    e.reason, attempt + 1, attempts, self.retry_delay_ms,
                    "resuming at byte %d" % at if at and dl.ranges else "from the start"))
            await sleep_ms(self.retry_delay_ms)

    async def _get_following(self, url, dl):
        current = url
        for _ in range(self.max_redirects + 1):
            location = await self._get_once(current, dl)
            if location is None:
                return
            target = resolve(current, location)
            if current[:6].lower() == "https:" and target[:5].lower() == "http:":
                raise HttpError("redirect from https:// to http:// refused: %s" % _show(target))
            if _origin(target).lower().split("@")[-1] != _origin(current).lower().split("@")[-1]:
                target = _drop_userinfo(target)  # credentials stay with their host
            log.info("redirected to", _show(target))
            current = target
        raise HttpError("too many redirects (more than %d) from %s"
                        % (self.max_redirects, _show(url)))

    async def _get_once(self, url, dl):
        """One request. None when the body is complete, the Location of a redirect."""
        secure, host, port, target, auth = parse_url(url)
        where = "%s:%d" % (host, port)
        try:
            await self._open(secure, host, port)
            await self._send(self._request("GET", host, port, secure, target, auth, dl))
            status, reason, headers = await self._response(where)
            if status in _REDIRECTS:
                location = headers.get("location")
                if not location:
                    raise HttpError("HTTP %d without a Location from %s" % (status, where),
                                    status)
                return location
            if self._start_body(status, reason, headers, url, dl):
                await self._body(headers, dl)
            return None
        except asyncio.CancelledError:
            w = self._watch
            if w is None or not w.fired:
                raise
            _uncancel()
            raise HttpError(w.message(), transient=True)
        except Exception as e:
            if e is dl.sink_error:
                raise
            raise self._failure(e, where, secure)
        finally:
            await self._close()

    def _request(self, method, host, port, secure, target, auth, dl=None, extra=None):
        h = "[" + host + "]" if ":" in host else host
        if port != (443 if secure else 80):
            h += ":%d" % port
        lines = ["%s %s HTTP/1.1" % (method, target), "Host: " + h,
                 "User-Agent: " + self.user_agent, "Accept-Encoding: identity",
                 "Connection: close"]
        if auth:
            lines.append("Authorization: " + auth)
        if dl is not None:
            at = dl.pos
            if at and dl.ranges:
                lines.append("Range: bytes=%d-" % at)
                if dl.validator:
                    lines.append("If-Range: " + dl.validator)
        if extra:
            lines.extend(extra)
        lines.append("\r\n")
        return "\r\n".join(lines).encode()

    def _start_body(self, status, reason, headers, url, dl):
        """Check the answer against what was asked; False when there is no body to read."""
        at = dl.pos
        length = headers.get("content-length")
        try:
            length = int(length) if length is not None else None
        except ValueError:
            raise HttpError("bad Content-Length %r" % length)
        if status == 200:
            if dl.pos:  # the sink has some of it: it must start over
                if dl.restart is None:
                    raise HttpError("the server sent the whole file again and the download "
                                    "cannot start over")
                log.info("download: the server sent the whole file again: starting over")
                dl.pos = 0
                self._call(dl, dl.restart, 0)
            dl.total = length
        elif status == 206:
            first, last, total = parse_content_range(headers.get("content-range", "")) \
                or (None, None, None)
            if first is None or last is None or first != at:
                dl.ranges = False  # the next attempt asks for the whole file
                raise HttpError("HTTP 206 with Content-Range %r for bytes %d-: starting over"
                                % (headers.get("content-range"), at), 206, True)
            if dl.total is not None and total is not None and total != dl.total:
                dl.ranges = False
                raise HttpError("the file changed on the server (%d bytes, was %d): starting "
                                "over" % (total, dl.total), 206, True)
            if total is not None:
                dl.total = total
            length = last - first + 1
        elif status == 416 and at:
            cr = parse_content_range(headers.get("content-range", ""))
            if cr is not None and cr[0] is None and cr[2] == at:
                dl.total = at  # we have it all already
                return False
            dl.ranges = False
            raise HttpError("HTTP 416 for bytes %d-: starting over" % at, 416, True)
        else:
            raise self._status_error(status, reason, url)
        if status == 200 and dl.validator is None:
            etag = headers.get("etag")
            dl.validator = etag if etag and not etag.startswith("W/") else \
                headers.get("last-modified")
        dl.ranges = status == 206 or headers.get("accept-ranges", "").lower() == "bytes"
        if dl.total is None and length is not None:
            dl.total = at + length if status == 206 else length
        if dl.max_length is not None and dl.total is not None and dl.total > dl.max_length:
            raise HttpError("the file is %d bytes, at most %d fit" % (dl.total, dl.max_length),
                            status)
        dl.length = length
        return True

    async def _body(self, headers, dl):
        if "chunked" in headers.get("transfer-encoding", "").lower():
            await self._chunked(dl)
            return
        left = dl.length
        if left is None:  # no length: the body ends when the server closes
            while await self._read(dl, None):
                pass
            return
        while left:
            k = await self._read(dl, left)
            if not k:
                raise EOFError
            left -= k

    async def _chunked(self, dl):
        while True:
            line = await self._line()
            try:
                size = int(bytes(line.split(b";")[0].strip()), 16)  # no int(bytearray) in MP
            except ValueError:
                raise HttpError("bad chunk size line %r" % bytes(line[:20]), transient=True)
            if not size:
                break
            while size:
                k = await self._read(dl, size)
                if not k:
                    raise EOFError
                size -= k
            await self._line()  # the CRLF after the chunk
        for _ in range(_MAX_HEADERS):  # trailer fields, up to the empty line
            line = await self._line()
            if line == b"\r\n" or line == b"\n":
                return
        raise HttpError("too many trailer lines")

    async def _read(self, dl, n):
        """Read up to n (None: any number of) body bytes into the sink's space and commit
        them; 0 at the end."""
        sink = dl.sink
        try:  # sink.space() straight: a bound method passed around would be allocated
            mv = sink.space()
        except Exception as e:
            dl.sink_error = e  # the sink's failure: raised as it is, not retried
            raise
        if n is not None and n < len(mv):
            mv = mv[:n]
        k = await self._into(mv)
        if k:
            if dl.max_length is not None and dl.pos + k > dl.max_length:  # no length was said
                raise HttpError("the file is larger than %d bytes" % dl.max_length)
            try:
                sink.commit(k)
            except Exception as e:
                dl.sink_error = e
                raise
            dl.pos += k
            self._watch.poke()  # type: ignore  # a slow flash write is not the server's silence
        return k

    @staticmethod
    def _call(dl, fn, arg):
        try:
            fn(arg)
        except Exception as e:
            dl.sink_error = e  # the sink's failure: raised as it is, not retried
            raise

    # -- upload ----------------------------------------------------------------------------------
    async def _part(self, chunk, chunked):
        n = len(chunk)
        if n:
            if chunked:
                await self._send(("%x\r\n" % n).encode())
            await self._send(chunk)
            if chunked:
                await self._send(b"\r\n")
        return n

    async def upload(self, url, name, data, method="POST", field="file", length=None,
                     content_type="application/octet-stream"):
        """Send `data` (bytes-like, or an iterable of bytes-like chunks) as file `name`:
        POST multipart/form-data (default) or PUT of the raw bytes. Returns the HTTP status
        (2xx); HttpError otherwise."""
        if method not in ("POST", "PUT"):
            raise HttpError("upload method must be POST or PUT")
        secure, host, port, target, auth = parse_url(url)
        where = "%s:%d" % (host, port)
        whole = isinstance(data, (bytes, bytearray, memoryview))
        if whole:
            length = len(data)
        head = tail = b""
        extra = []
        if method == "POST":
            boundary = "ocpp-cp-" + _random_hex(12)
            safe = name.replace('"', "'").replace("\r", "").replace("\n", "")
            head = ('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
                    "Content-Type: %s\r\n\r\n" % (boundary, field, safe, content_type)).encode()
            tail = ("\r\n--%s--\r\n" % boundary).encode()
            extra.append("Content-Type: multipart/form-data; boundary=" + boundary)
        else:
            extra.append("Content-Type: " + content_type)
        chunked = length is None
        if chunked:
            extra.append("Transfer-Encoding: chunked")
        else:
            extra.append("Content-Length: %d" % (len(head) + length + len(tail)))
        try:
            await self._open(secure, host, port)
            await self._send(self._request(method, host, port, secure, target, auth,
                                           extra=extra))
            self._watch.poke(self.idle_timeout_ms, "sending to %s" % where)  # type: ignore
            await self._part(head, chunked)
            sent = 0
            if whole:
                mv = memoryview(data)
                while sent < length:  # type: ignore
                    sent += await self._part(mv[sent:sent + _SEND_PIECE], chunked)
            else:
                for chunk in data:
                    sent += await self._part(chunk, chunked)
                    if length is not None and sent > length:
                        break
            if length is not None and sent != length:
                raise HttpError("upload of %s: %d bytes announced, %d given" % (name, length, sent))
            await self._part(tail, chunked)
            if chunked:
                await self._send(b"0\r\n\r\n")
            status, reason, headers = await self._response(where)
        except asyncio.CancelledError:
            w = self._watch
            if w is None or not w.fired:
                raise
            _uncancel()
            raise HttpError(w.message(), transient=True)
        except Exception as e:
            raise self._failure(e, where, secure)
        finally:
            await self._close()
        if 200 <= status < 300:
            log.info("uploaded", name, "to", _show(url), "HTTP %d" % status)
            return status
        if status in _REDIRECTS:
            raise HttpError("HTTP %d: redirect not followed for an upload (to %s)"
                            % (status, _show(resolve(url, headers.get("location", "/")))),
                            status)
        raise self._status_error(status, reason, url)


def _drop_userinfo(url):
    start = url.find("//") + 2
    origin = _origin(url)
    at = origin.rfind("@")
    return url if at < start else url[:start] + url[at + 1:]


def _random_hex(n):
    try:
        from os import urandom
        raw = urandom(n // 2)
    except (ImportError, AttributeError, OSError):
        import random
        raw = bytes([random.getrandbits(8) for _ in range(n // 2)])
    return binascii.hexlify(raw).decode()


async def upload(url, name, data, ca=None, method="POST", length=None, **kw):
    """One upload with a client made for it (see HttpClient.upload)."""
    return await HttpClient(ca=ca, **kw).upload(url, name, data, method=method, length=length)
