# RFC 6455 opening handshake: the URL, the HTTP/1.1 upgrade request and the check of the answer.
"""The opening handshake as pure functions (the client does the I/O).

    secure, host, port, path = parse_url("wss://csms.example.com/ocpp")
    key = new_key()
    req = request(host_header(host, port, secure), path + "/" + percent_encode("CP 1"), key,
                  ("ocpp1.6",), basic_auth("CP 1", auth_key))
    ... send req, read the status line and headers ...
    proto = check_response(status, reason, headers, key, ("ocpp1.6",), authorized=True)

check_response raises WsError with the HTTP status as code and a reason a person can act on.
"""

import binascii
import hashlib

from ws.errors import WsError

try:
    from os import urandom as _urandom
except ImportError:
    _urandom = None

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_HEX = "0123456789ABCDEF"


def percent_encode(text):
    """RFC 3986 percent-encoding of a path segment: unreserved characters stay, the UTF-8
    bytes of everything else become %XX."""
    out = []
    for b in text.encode():
        if b in _UNRESERVED:
            out.append(chr(b))
        else:
            out.append("%" + _HEX[b >> 4] + _HEX[b & 15])
    return "".join(out)


def _b64(data):
    return binascii.b2a_base64(data)[:-1].decode()  # drop the trailing newline


def _random(n):
    if _urandom is not None:
        return _urandom(n)
    import random
    return bytes([random.getrandbits(8) for _ in range(n)])


def new_key():
    """A Sec-WebSocket-Key: 16 random bytes, base64."""
    return _b64(_random(16))


def accept_for(key):
    """The Sec-WebSocket-Accept a server must answer to `key`."""
    return _b64(hashlib.sha1(key.encode() + GUID).digest())


def basic_auth(user, password):
    """The Authorization header value for HTTP Basic (OCPP security profiles 1 and 2)."""
    return "Basic " + _b64((user + ":" + password).encode())


def split_hostport(hostport, port):
    """(host, port) of "host", "host:port" or "[IPv6]:port" (`port` when none is given);
    ValueError naming what is wrong. Shared by the WebSocket and the HTTP client."""
    if hostport.startswith("["):  # [IPv6]:port
        end = hostport.find("]")
        host, tail = hostport[1:end], hostport[end + 1:]
        if end < 0 or (tail and not tail.startswith(":")):
            raise ValueError("bad IPv6 address")
    else:
        colon = hostport.rfind(":")
        host, tail = (hostport, "") if colon < 0 else (hostport[:colon], hostport[colon:])
    if tail:
        try:
            port = int(tail[1:])
        except ValueError:
            port = -1
        if not 0 < port < 65536:
            raise ValueError("bad port")
    if not host:
        raise ValueError("no host")
    return host, port


def parse_url(url):
    """(secure, host, port, path) of a ws:// or wss:// URL; path has no trailing slash."""
    if url.startswith("wss://"):
        secure, rest, port = True, url[6:], 443
    elif url.startswith("ws://"):
        secure, rest, port = False, url[5:], 80
    else:
        raise WsError("central system URL must start with ws:// or wss://")
    slash = rest.find("/")
    hostport, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    if "?" in path or "#" in path or "@" in hostport:
        raise WsError("central system URL must not have a query, fragment or user part")
    try:
        host, port = split_hostport(hostport, port)
    except ValueError as e:
        raise WsError(str(e) + " in the central system URL")
    while path.endswith("/"):
        path = path[:-1]
    return secure, host, port, path


def host_header(host, port, secure):
    h = "[" + host + "]" if ":" in host else host
    if port != (443 if secure else 80):
        h += ":%d" % port
    return h


def request(host, path, key, subprotocols, authorization=None):
    """The HTTP/1.1 upgrade request as bytes. `host` is the Host header value."""
    lines = [
        "GET %s HTTP/1.1" % (path or "/"),
        "Host: " + host,
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: " + key,
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocols:
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(subprotocols))
    if authorization:
        lines.append("Authorization: " + authorization)
    lines.append("\r\n")
    return "\r\n".join(lines).encode()


def parse_status(line):
    """(status, reason) from an HTTP status line (bytes)."""
    try:
        text = line.decode().strip()
        parts = text.split(" ", 2)
        if not parts[0].startswith("HTTP/"):
            raise ValueError
        return int(parts[1]), parts[2] if len(parts) > 2 else ""
    except (ValueError, IndexError, UnicodeError):
        raise WsError("not an HTTP answer from the central system")


def parse_header(line):
    """(lower-case name, value) of one header line (bytes), or None if it is not one."""
    try:
        text = line.decode()
    except UnicodeError:
        return None
    colon = text.find(":")
    if colon <= 0:
        return None
    return text[:colon].strip().lower(), text[colon + 1:].strip()


_REFUSED = {
    400: "bad request: the central system refused the WebSocket upgrade (subprotocol?)",
    403: "forbidden: the central system does not accept this charge point",
    404: "not found: check the URL path and the chargeBoxId",
    500: "internal error of the central system",
    503: "central system unavailable",
}


def refusal(status, reason, authorized, location=None):
    """The WsError for an HTTP answer other than 101."""
    if status == 401:
        why = ("authorization key rejected (check AuthorizationKey and chargeBoxId)" if authorized
               else "the central system requires an AuthorizationKey and none is configured")
    elif 300 <= status < 400:
        why = "redirect%s not followed" % (" to " + location if location else "")
    else:
        why = _REFUSED.get(status) or ("%s: WebSocket upgrade refused" % (reason or "refused"))
    return WsError("HTTP %d: %s" % (status, why), status,
                   "FailedToAuthenticationAtCentralSystem" if status == 401 else None)


def _has_token(value, token):
    for part in value.split(","):
        if part.strip().lower() == token:
            return True
    return False


def check_response(status, reason, headers, key, subprotocols, authorized=False):
    """Check the server's answer (headers: dict of lower-case name -> value); returns the
    negotiated subprotocol (None only when none was offered) or raises WsError."""
    if status != 101:
        raise refusal(status, reason, authorized, headers.get("location"))
    if headers.get("upgrade", "").lower() != "websocket" or not _has_token(
            headers.get("connection", ""), "upgrade"):
        raise WsError("HTTP 101 without Upgrade: websocket / Connection: Upgrade", 101)
    if headers.get("sec-websocket-accept") != accept_for(key):
        raise WsError("wrong Sec-WebSocket-Accept from the central system", 101)
    if headers.get("sec-websocket-extensions"):
        raise WsError("central system enabled an extension that was not offered", 101)
    proto = headers.get("sec-websocket-protocol")
    if not subprotocols:
        if proto:
            raise WsError("central system selected subprotocol '%s', none was offered" % proto, 101)
        return None
    offered = ", ".join(subprotocols)
    if not proto:
        raise WsError("central system selected no subprotocol (offered: %s)" % offered, 101)
    if proto not in subprotocols:
        raise WsError("central system selected subprotocol '%s', not one offered (%s)"
                      % (proto, offered), 101)
    return proto
