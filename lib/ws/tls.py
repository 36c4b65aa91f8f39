# TLS client context for wss://: always verifying, the same call on MicroPython and CPython.
"""`client_context(ca, cert=None, key=None)` -> an ssl context that verifies the server.

The trusted CA certificates (`ca`) are required: PEM text (str or bytes, one or several
certificates), DER bytes (one certificate), or a list/tuple of those. `cert`/`key` are the
charge point's client certificate and private key (security profile 3), PEM or DER.

What each side accepts, and why everything goes through DER:
- MicroPython (`ssl` is a Python wrapper over `tls`, mbedTLS): `SSLContext()` starts with
  verify_mode CERT_NONE, so CERT_REQUIRED is set here. `load_verify_locations(cadata=)` takes
  exactly one certificate per call as `bytes` (not bytearray/memoryview); PEM may be compiled
  out (the unix port answers "invalid cert" to PEM), DER always works. `load_cert_chain` takes
  the certificate and key as bytes (a str would be taken as a file name). There is no
  `check_hostname`: mbedTLS checks the name (DNS or IP subjectAltName, else CN) against the
  server_hostname given to wrap_socket. A failed verification raises ValueError.
- CPython: `cadata` is PEM str or concatenated DER bytes; `load_cert_chain` only reads files,
  so the client certificate and key are written to a private temporary folder, loaded and
  removed. check_hostname is on (the default for PROTOCOL_TLS_CLIENT, set again to be sure).
"""

import binascii
import os
import ssl
import sys

from ws.errors import WsError

_CPYTHON = sys.implementation.name != "micropython"


def pem_blocks(data):
    """[(label, der), ...] of the PEM blocks in data (str or bytes); [] if there is none."""
    text = data if isinstance(data, str) else bytes(data).decode()
    out = []
    i = 0
    while True:
        begin = text.find("-----BEGIN ", i)
        if begin < 0:
            return out
        label_end = text.find("-----", begin + 11)
        end = text.find("-----END ", label_end)
        if label_end < 0 or end < 0:
            raise ValueError("unterminated PEM block")
        label = text[begin + 11:label_end]
        body = text[label_end + 5:end].replace("\r", "").replace("\n", "").replace(" ", "")
        out.append((label, binascii.a2b_base64(body)))
        i = end + 9


def _is_pem(item):
    if isinstance(item, str):
        return True
    return bytes(item[:64]).find(b"-----BEGIN ") >= 0


def ders(material, label="CERTIFICATE"):
    """[(label, der), ...] of PEM/DER material or of a list/tuple of such items."""
    items = material if isinstance(material, (list, tuple)) else (material,)
    out = []
    for item in items:
        if not item:
            continue
        if _is_pem(item):
            out.extend(pem_blocks(item))
        else:
            out.append((label, bytes(item)))
    return out


def _pem(label, der):
    b64 = binascii.b2a_base64(der).decode().replace("\n", "")
    lines = ["-----BEGIN %s-----" % label]
    for i in range(0, len(b64), 64):
        lines.append(b64[i:i + 64])
    lines.append("-----END %s-----\n" % label)
    return "\n".join(lines)


def _load_chain_cpython(ctx, certs, keys):
    tempfile = __import__("tempfile")  # host only: the board has no tempfile module
    folder = tempfile.mkdtemp(prefix="ws-tls-")  # mode 0700: readable by us alone
    cert_path = folder + "/cert.pem"
    key_path = folder + "/key.pem"
    try:
        for path, blocks in ((cert_path, certs), (key_path, keys)):
            with open(path, "w") as f:
                for label, der in blocks:
                    f.write(_pem(label, der))
        ctx.load_cert_chain(cert_path, key_path)
    finally:
        for path in (cert_path, key_path):
            try:
                os.remove(path)
            except OSError:
                pass
        os.rmdir(folder)


def client_context(ca, cert=None, key=None):
    """A TLS client context trusting `ca` (required) and presenting cert/key if given.
    Raises WsError when the material cannot be read (the message names which part). The
    context first: on MicroPython it is the largest piece of this (1.7 KB), made before the
    certificates' DER takes a piece of the free heap that it could have used."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT) if ca else None
    try:
        cas = ders(ca)
    except (ValueError, UnicodeError):
        raise WsError("CA certificate is neither PEM nor DER")
    if not cas or ctx is None:
        raise WsError("wss:// needs the CA certificate of the central system: refusing an "
                      "unverified connection")
    ctx.verify_mode = ssl.CERT_REQUIRED
    if _CPYTHON:
        setattr(ctx, "check_hostname", True)  # attribute of CPython's context only
    try:
        if _CPYTHON:
            ctx.load_verify_locations(cadata=b"".join([d for _, d in cas]))
        else:
            for _, der in cas:
                ctx.load_verify_locations(cadata=der)
    except (ValueError, OSError):
        raise WsError("CA certificate could not be loaded (not an X.509 certificate?)")
    if cert is None and key is None:
        return ctx
    if cert is None or key is None:
        raise WsError("client certificate and private key go together")
    try:
        certs = ders(cert)
        keys = ders(key, "PRIVATE KEY")
    except (ValueError, UnicodeError):
        raise WsError("client certificate or key is neither PEM nor DER")
    if not certs or not keys:
        raise WsError("client certificate or key is empty")
    try:
        if _CPYTHON:
            _load_chain_cpython(ctx, certs, keys)
        else:
            ctx.load_cert_chain(certs[0][1], keys[0][1])
    except (ValueError, OSError):
        raise WsError("client certificate or private key could not be loaded (do they match?)")
    return ctx
