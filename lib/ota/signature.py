# A firmware file's signature: decode it (OCPP's base64) and verify it with the signing cert.
"""    sig = decode_signature(request["signature"])          # SignatureError on garbage
    verify_file_signature(cert, sha256_of_the_file, sig)   # None, or SignatureError
    yield from verify_file_signature_steps(cert, sha256_of_the_file, sig)  # step-wise

The signature is over the SHA-256 of the whole firmware file (whitepaper L01.FR.04). The
algorithm follows the certificate's key: RSA tries PKCS#1 v1.5 first, then PSS with any salt
length (L01.FR.04 names RSA-PSS; `openssl dgst -sha256 -sign` makes PKCS#1 v1.5); an EC P-256
key takes ECDSA with a DER (r, s) or raw 64-byte r || s signature. Check the certificate
itself with ota.x509.check_signing_certificate first.
"""

from ota import der
from steps import run

# The key types of a signing key (ota.x509's Certificate.key_type): defined here, so that a
# check with a key kept from an earlier certificate check needs no certificate parser.
RSA = "rsa"
EC = "ec"


class SignatureError(Exception):
    """The signature is garbage or does not verify; str(e) says which."""


def decode_signature(text):
    """The signature bytes of OCPP's base64 `signature` field. Whitespace is ignored (as
    wrapped by `openssl base64`); any other character outside the base64 alphabet, a bad
    length or bad padding is a SignatureError (binascii alone would skip such characters)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode()
        except UnicodeError:
            raise SignatureError("signature is not valid base64: not text")
    if not isinstance(text, str):
        raise SignatureError("signature is not valid base64: not text")
    try:
        return der.b64decode("".join(text.split()))
    except der.DERError as e:
        raise SignatureError("signature is not valid base64: " + str(e)[len("base64: "):])


def verify_file_signature(cert, sha256_digest, signature):
    """None when `signature` (bytes, or the base64 text) over the file whose SHA-256 is
    `sha256_digest` verifies with `cert`'s key (an ota.x509.Certificate); SignatureError
    otherwise."""
    return run(verify_file_signature_steps(cert, sha256_digest, signature))


def verify_file_signature_steps(cert, sha256_digest, signature):
    """verify_file_signature as a generator (lib/steps.py): a caller on the event loop awaits
    steps.finish(...) and other tasks run between the steps."""
    return verify_key_signature_steps(signing_key(cert), sha256_digest, signature)


def signing_key(cert):
    """What the signature check needs of a certificate: (key type, key, key OID). A caller
    short of heap keeps this and lets the certificate (its DER, its fields) go before the
    math: the RSA pow of a firmware update is the peak of its heap."""
    return cert.key_type, cert.key, cert.key_oid


def verify_key_signature_steps(key, sha256_digest, signature, work=None):
    """verify_file_signature_steps with the signing_key(cert) of the certificate; `work` a
    buffer lent for the ECDSA workspace (ota.ecfast), or None."""
    key_type, key, key_oid = key
    if isinstance(signature, str):
        signature = decode_signature(signature)
    if len(sha256_digest) != 32:
        raise SignatureError("digest is not a SHA-256 (32 bytes)")
    if not signature:
        raise SignatureError("signature is empty")
    try:
        if key_type == RSA:
            from ota import rsa
            n, e = key
            if (yield from rsa.verify_pkcs1v15_steps(n, e, sha256_digest, signature)) \
                    or (yield from rsa.verify_pss_steps(n, e, sha256_digest, signature)):
                return None
        elif key_type == EC:
            from ota import ecdsa
            if (yield from ecdsa.verify_steps(key, sha256_digest, signature, work)):
                return None
        else:
            raise SignatureError("unsupported signing key " + key_oid)
    except ValueError as e:  # a key the verifiers refuse (size, exponent)
        raise SignatureError("unsupported signing key: " + str(e))
    raise SignatureError("signature does not match")
