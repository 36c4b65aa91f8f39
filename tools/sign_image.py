#!/usr/bin/env python3
# Host tool: sign a firmware image for SignedUpdateFirmware and as a bundle for UpdateFirmware.
"""    python tools/sign_image.py --key pki/signing.key --cert pki/signing.pem fw.bin
           [--pss] [--bundle fw.signed.bin]

Prints the base64 signature over the SHA-256 of the whole image (the SignedUpdateFirmware
`signature`; its `signingCertificate` is the PEM of --cert). With --bundle it also writes the
signed bundle for plain UpdateFirmware (lib/ota/bundle.py: header with certificate and
signature, then the image). RSA keys sign with PKCS#1 v1.5 unless --pss; EC keys with ECDSA.
"""

import argparse
import base64
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from ota import bundle  # noqa: E402


def sign(image, key_pem, pss=False):
    """The signature bytes over SHA-256(image)."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(image, ec.ECDSA(hashes.SHA256()))
    assert isinstance(key, rsa.RSAPrivateKey)
    pad = (padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if pss
           else padding.PKCS1v15())
    return key.sign(image, pad, hashes.SHA256())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--pss", action="store_true")
    ap.add_argument("--bundle")
    args = ap.parse_args()
    with open(args.image, "rb") as f:
        image = f.read()
    with open(args.key, "rb") as f:
        signature = base64.b64encode(sign(image, f.read(), args.pss)).decode()
    with open(args.cert) as f:
        cert = f.read()
    print(signature)
    if args.bundle:
        with open(args.bundle, "wb") as f:
            f.write(bundle.pack(image, cert, signature))
    return 0


if __name__ == "__main__":
    sys.exit(main())
