# End to end: renewal of the charge point certificate under security profile 3 (1.6 security
# whitepaper A02, issue 10 item 4), on CPython and the MicroPython unix port, against the
# bundled central system over TLS with client certificates; `cryptography` checks the CSR.
import asyncio
import os
import ssl
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.v16 import call

from cpharness import Harness
from simproc import ROOT, micropython
from tlsca import TestCA

sys.path.insert(0, os.path.join(ROOT, "lib"))
import atomicfile  # noqa: E402  (the device's own file format, to read and tear its files)

INTERPRETERS = [pytest.param(None, id="cpython"),
                pytest.param(micropython(), id="micropython", marks=pytest.mark.skipif(
                    micropython() is None, reason="no micropython (unix port) on PATH"))]

CPO = "Example CPO"


def profile_3(tmp_path, interpreter, days=365, **csms):
    """A TLS central system that wants client certificates, and the firmware with a factory
    pair from its CA valid for `days` more days (A03 renews one that expires within 30)."""
    ca = TestCA(tmp_path)
    server, client = ca.server(), ca.client("CP_1", days=days)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(server.cert, server.key)
    tls.verify_mode = ssl.CERT_REQUIRED  # profile 3: the client certificate authenticates
    tls.load_verify_locations(ca.path)
    harness = Harness(tmp_path, interpreter=interpreter, cs_options={"tls": tls},
                      csms=dict({"securityProfile": 3, "caFile": ca.path,
                                 "clientCertFile": client.cert, "clientKeyFile": client.key},
                                **csms))
    return ca, client, harness


def peer(h, index=-1):
    der = h.cs.peer_certificates[index][1]
    assert der, "no client certificate on that connection"
    return x509.load_der_x509_certificate(der)


def public_der(key):
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


async def reconnect(h):
    """The central system drops the link; the charge point's next connection."""
    count = len(h.cs.peer_certificates)
    await h.cs.disconnect("CP_1")
    await h.cs.wait_connected("CP_1", timeout=30)
    assert len(h.cs.peer_certificates) == count + 1


async def renew(h):
    """ExtendedTriggerMessage SignChargePointCertificate, then the CSR, checked."""
    result = await h.cs.call("CP_1", call.ChangeConfiguration(key="CpoName", value=CPO))
    assert result.status == "Accepted"
    result = await h.cs.call("CP_1", call.ExtendedTriggerMessage(
        requested_message="SignChargePointCertificate"))
    assert result.status == "Accepted"
    sign = await h.cs.wait_for("SignCertificate", "CP_1", timeout=30)
    assert sign["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----\n")
    csr = x509.load_pem_x509_csr(sign["csr"].encode())
    assert csr.is_signature_valid
    assert isinstance(csr.public_key(), ec.EllipticCurvePublicKey)
    assert csr.public_key().curve.name == "secp256r1"
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP_1"
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == CPO
    return csr


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_renewed_certificate_is_used_from_the_next_connection(tmp_path, interpreter):
    ca, client, harness = profile_3(tmp_path, interpreter)
    async with harness as h:
        old = x509.load_pem_x509_certificate(client.cert_pem)
        assert peer(h).serial_number == old.serial_number
        csr = await renew(h)
        assert public_der(csr.public_key()) != public_der(old.public_key())  # a new key
        signed = ca.sign_csr(csr)
        result = await h.cs.call("CP_1", call.CertificateSigned(
            certificate_chain=signed.decode()))
        assert result.status == "Accepted"
        new = x509.load_pem_x509_certificate(signed)
        assert peer(h).serial_number == old.serial_number  # the open connection keeps its pair
        await reconnect(h)
        assert peer(h).serial_number == new.serial_number
        assert public_der(peer(h).public_key()) == public_der(csr.public_key())
        h.fw.stop()  # and after a restart: the pair was stored
        await asyncio.to_thread(h.fw.start)
        await h.cs.wait_for("BootNotification", "CP_1", timeout=30)
        assert peer(h).serial_number == new.serial_number
        stored = atomicfile.read(os.path.join(h.fw.state_dir, "cpcert"))
        key = serialization.load_pem_private_key(stored, None)
        assert public_der(key.public_key()) == public_der(csr.public_key())
        log = h.fw.log()
        lines = stored[:stored.index(b"-----END PRIVATE KEY-----")].split(b"\n")[1:]
        for line in lines[:2]:  # those that hold the private scalar (the last one holds the
            assert line.decode() not in log  # public key, which the certificate carries too)
        scalar = key.private_numbers().private_value
        assert "%x" % scalar not in log and str(scalar) not in log


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_chain_for_another_key_is_rejected_and_the_old_pair_stays(tmp_path,
                                                                          interpreter):
    ca, client, harness = profile_3(tmp_path, interpreter)
    async with harness as h:
        old = x509.load_pem_x509_certificate(client.cert_pem)
        csr = await renew(h)
        # issued by the right CA, but for a key the device lacks
        other = ca.issue("CP_1", server=False, tag="other", days=365)
        result = await h.cs.call("CP_1", call.CertificateSigned(
            certificate_chain=other.cert_pem.decode()))
        assert result.status == "Rejected"
        event = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                    lambda p: p["type"] == "InvalidChargePointCertificate")
        # found by the check of the key itself, before any TLS stack sees the pair
        assert event["techInfo"] == "certificate does not match the key of the last request"
        # the right key, but not issued under a CPO root the charge point trusts
        (tmp_path / "stranger").mkdir()
        stranger = TestCA(tmp_path / "stranger", name="Stranger CA")
        result = await h.cs.call("CP_1", call.CertificateSigned(
            certificate_chain=stranger.sign_csr(csr).decode()))
        assert result.status == "Rejected"
        event = await h.cs.wait_for("SecurityEventNotification", "CP_1",
                                    lambda p: p["type"] == "InvalidChargePointCertificate")
        assert "root" in event["techInfo"]
        await reconnect(h)
        assert peer(h).serial_number == old.serial_number
        assert not os.path.exists(os.path.join(h.fw.state_dir, "cpcert"))


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_torn_write_of_the_pair_leaves_a_working_one(tmp_path, interpreter):
    ca, client, harness = profile_3(tmp_path, interpreter)
    # stands for a pair installed by an earlier renewal (its own files: not the factory pair's)
    renewed = ca.issue("CP_1", server=False, tag="renewed", days=365)
    factory = x509.load_pem_x509_certificate(client.cert_pem)
    installed = x509.load_pem_x509_certificate(renewed.cert_pem)
    state = os.path.join(str(tmp_path), "state")
    os.makedirs(state, exist_ok=True)
    path = os.path.join(state, "cpcert")
    atomicfile.write(path, renewed.key_pem + renewed.cert_pem)
    with open(path + ".tmp", "wb") as f:  # the power went while the next pair was written
        f.write((client.key_pem + client.cert_pem)[:150])
    async with harness as h:
        assert peer(h).serial_number == installed.serial_number  # the installed one, whole
        h.fw.stop()
        with open(path, "r+b") as f:  # a filesystem without atomic rename: cut short in place
            f.truncate(300)
        await asyncio.to_thread(h.fw.start)
        await h.cs.wait_for("BootNotification", "CP_1", timeout=30)
        assert peer(h).serial_number == factory.serial_number  # never a torn key: the factory pair


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_a_certificate_that_expires_within_a_month_is_renewed_unasked(tmp_path,
                                                                           interpreter):
    ca, client, harness = profile_3(tmp_path, interpreter, days=20, cpoName=CPO)
    async with harness as h:
        sign = await h.cs.wait_for("SignCertificate", "CP_1", timeout=30)  # A03: no trigger
        csr = x509.load_pem_x509_csr(sign["csr"].encode())
        assert csr.is_signature_valid
        assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == CPO
        assert not [f for f in h.cs.frames("CP_1") if "ExtendedTriggerMessage" in f.text]
        result = await h.cs.call("CP_1", call.CertificateSigned(
            certificate_chain=ca.sign_csr(csr, days=365).decode()))
        assert result.status == "Accepted"
        await reconnect(h)
        assert public_der(peer(h).public_key()) == public_der(csr.public_key())
        await asyncio.sleep(1)  # the new one is good for a year: no second request
        assert len([r for r in h.cs.received("CP_1") if r.action == "SignCertificate"]) == 1


@pytest.mark.parametrize("interpreter", INTERPRETERS[:1])
async def test_a_certificate_good_for_longer_is_left_alone(tmp_path, interpreter):
    _, _, harness = profile_3(tmp_path, interpreter, days=40, cpoName=CPO)
    async with harness as h:
        await h.cs.call("CP_1", call.TriggerMessage(requested_message="Heartbeat"))
        await h.cs.wait_for("Heartbeat", "CP_1")
        await asyncio.sleep(0.5)
        assert not [r for r in h.cs.received("CP_1") if r.action == "SignCertificate"]
