# Device tests of firmware/security/certstore.py: InstallCertificate, GetInstalledCertificateIds and
# DeleteCertificate as the security whitepaper's M03-M05 ask.
from devtest import tempdir
from firmware.security.certstore import MAX_PER_TYPE, CertStore

MANUFACTURER = "ManufacturerRootCertificate"
CSMS = "CentralSystemRootCertificate"


def _pem(stem):
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    with open(here + "/data/" + stem + ".pem") as f:
        return f.read()


def test_install_list_and_delete_a_root():
    store = CertStore(tempdir())
    assert store.get_ids({"certificateType": CSMS}) == {"status": "NotFound"}
    assert store.install(CSMS, _pem("root-ec")) == "Accepted"
    assert store.install(CSMS, _pem("root-ec")) == "Accepted"  # the same one: once
    ids = store.get_ids({"certificateType": CSMS})
    assert ids["status"] == "Accepted" and len(ids["certificateHashData"]) == 1
    assert store.delete({"certificateHashData": ids["certificateHashData"][0]}) == {
        "status": "Accepted"}
    assert store.delete({"certificateHashData": ids["certificateHashData"][0]}) == {
        "status": "NotFound"}


def test_a_certificate_that_is_no_ca_is_rejected():
    store = CertStore(tempdir())
    assert store.install(CSMS, _pem("signer-ec")) == "Rejected"
    assert store.install(CSMS, "not a certificate") == "Rejected"


def test_a_full_store_rejects():
    # M05.FR.03: no more space is Rejected (Failed is for an installation that failed)
    store = CertStore(tempdir(), max_per_type=3)
    answers = [store.install(MANUFACTURER, _pem(r))
               for r in ("root-ec", "root-rsa", "root-other", "intermediate")]
    assert answers == ["Accepted"] * 3 + ["Rejected"], answers
    assert MAX_PER_TYPE >= 1


def test_the_last_manufacturer_root_can_be_deleted():
    store = CertStore(tempdir())
    assert store.install(MANUFACTURER, _pem("root-rsa")) == "Accepted"
    ids = store.get_ids({"certificateType": MANUFACTURER})["certificateHashData"]
    assert store.delete({"certificateHashData": ids[0]}) == {"status": "Accepted"}
    assert store.roots(MANUFACTURER) == []


def test_holds_a_root_while_it_is_installed_and_intact():
    """What the firmware update's second check relies on: the root that vouched before is
    still there, with the very bytes (its SHA-256), without parsing it."""
    import hashlib
    import os
    store = CertStore(tempdir())
    assert store.install(MANUFACTURER, _pem("root-rsa")) == "Accepted"
    root = store.roots(MANUFACTURER)[0]
    digest = hashlib.sha256(root.der).digest()
    assert store.holds(digest), "installed"
    assert not store.holds(hashlib.sha256(b"another").digest()), "another certificate"
    assert not store.holds(digest, CSMS), "another type"
    folder = store.folder + "/manufacturer"
    path = folder + "/" + os.listdir(folder)[0]
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 1
    with open(path, "wb") as f:
        f.write(data)
    assert not store.holds(digest), "damaged on flash"
    os.remove(path)
    assert not store.holds(digest), "deleted"


def test_the_ca_file_is_provisioned_once_per_content_and_changes_are_told():
    from firmware.security.trust import Trust
    folder = tempdir()
    trust = Trust(folder)
    assert trust.ders == []
    trust.provision(_pem("root-ec").encode())
    assert len(trust.ders) == 1
    told = []
    store = CertStore(folder, trust=trust, on_roots=told.append, secure_link=True)
    ids = store.get_ids({"certificateType": CSMS})["certificateHashData"]
    assert store.delete({"certificateHashData": ids[0]}) == {"status": "Failed"}, "in use"
    assert store.install(CSMS, _pem("root-rsa")) == "Accepted"
    assert len(told) == 1 and len(told[0]) == 2 and trust.ders == told[0]
    assert store.delete({"certificateHashData": ids[0]}) == {"status": "Accepted"}
    assert len(trust.ders) == 1
    again = Trust(folder)
    again.provision(_pem("root-ec").encode())  # the same file at the next start: not again
    assert len(again.ders) == 1
    again.provision(_pem("root-other").encode())  # a new file from the installer: added
    assert len(again.ders) == 2


def test_additional_root_certificate_check_is_reported_false():
    from firmware.v16.settings import Settings
    conf = Settings(tempdir(), 1, "Core").get_configuration(["AdditionalRootCertificateCheck"])
    assert conf["configurationKey"] == [{"key": "AdditionalRootCertificateCheck",
                                         "readonly": True, "value": "false"}]
