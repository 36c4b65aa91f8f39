# The one exception of the WebSocket client.
"""`WsError(reason, code=None)`: everything that goes wrong with the link.

`reason` is a sentence a person can act on ("HTTP 401: authorization key rejected"); it never
holds a secret. `code` is the HTTP status of a refused handshake (401, 404, ...), the close
code of a closed connection (1000, 1002, 1009, 4000, ...), 1006 for a link that dropped
without a close frame (lost TCP, missed pong, idle timeout), or None (DNS, TCP, TLS, a bad
configuration). `event` names the OCPP security event (1.6 security whitepaper 2.8) the failure
is, for the charge point to report: "FailedToAuthenticationAtCentralSystem" (HTTP 401),
"InvalidCentralSystemCertificate" (the server's certificate did not verify), or None.
`describe(exc)` makes the one-line text of a lower-level exception.
"""


class WsError(Exception):
    def __init__(self, reason, code=None, event=None):
        super().__init__(reason, code)
        self.reason = reason
        self.code = code
        self.event = event

    def __str__(self):
        if self.code is None:
            return self.reason
        return "%s (code %d)" % (self.reason, self.code)


def describe(e):
    """One line for an exception (MicroPython's TLS errors span several lines, and its
    OSError often says only a number)."""
    s = str(e).strip().replace("\n", "; ")
    a = e.args if isinstance(e, OSError) else ()
    if len(a) == 2 and isinstance(a[0], int) and isinstance(a[1], str):
        return "%s (%d)" % (a[1], a[0])  # MicroPython: (-29312, 'MBEDTLS_ERR_SSL_CONN_EOF')
    n = a[0] if len(a) == 1 else None
    if isinstance(n, int) and s == str(n):
        if n < 0:  # mbedTLS or lwIP
            return "error -0x%04x" % -n
        import errno
        name = getattr(errno, "errorcode", {}).get(n) or ("EPIPE" if n == 32 else None)
        return "%s (errno %d)" % (name, n) if name else "errno %d" % n
    return s or type(e).__name__
