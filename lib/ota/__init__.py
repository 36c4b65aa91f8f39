# Secure firmware update support (package docstring only: importing it costs nothing).
"""Firmware updates (OCPP 1.6 security whitepaper, use case L01).

Signature verification in pure Python: der (strict DER, PEM and base64 reading), x509
(certificates and the signing-certificate rules), rsa (PKCS#1 v1.5 and PSS), ecdsa (P-256),
signature (the one entry point for a firmware file's signature). Other modules of the update
itself live next to them.
"""
