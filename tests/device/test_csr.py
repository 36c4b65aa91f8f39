# Device tests of the key pair and CSR made on the charge point (lib/ota/csr.py, whitepaper
# A02/A03): RFC 6979's own vector, the exact CSR bytes, the key's range.
import hashlib

from devtest import raises
from ota import csr, der, ecdsa

# RFC 6979 A.2.5: the P-256 key, its public point, and the SHA-256 signatures of "sample"/"test"
D = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
UX = 0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6
UY = 0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299
SAMPLE = (0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716,
          0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8)
TEST = (0xF1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367,
        0x019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083)


def _path(name):
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    return here + "/data/" + name


def test_signatures_are_rfc_6979s():
    assert ecdsa.mul_g(D) == (UX, UY), "public point"
    assert csr.sign(D, hashlib.sha256(b"sample").digest()) == SAMPLE, "sample"
    assert csr.sign(D, hashlib.sha256(b"test").digest()) == TEST, "test"
    digest = hashlib.sha256(b"sample").digest()
    assert ecdsa.verify((UX, UY), digest, SAMPLE[0].to_bytes(32, "big")
                        + SAMPLE[1].to_bytes(32, "big")), "our verifier agrees"


def test_the_csr_bytes():
    # made by this code and checked by `cryptography` (tests/test_signatures_vs_cryptography.py
    # test_the_device_csr_is_valid): RFC 6979 makes them the same on every port
    key = csr.pkcs8(D)
    made = csr.request(key, "CP_1", "Example CPO")
    with open(_path("csr-rfc6979.der"), "rb") as f:
        expected = f.read()
    assert made == expected, "CSR differs"
    buf = memoryview(made)
    top = der.Reader(buf)
    body = der.Reader(buf, *top.read(der.SEQUENCE))
    top.finish()
    s, e = body.element(der.SEQUENCE)
    info = made[s:e]
    body.read(der.SEQUENCE)
    ss, se = der.octets(buf, *body.read(der.BIT_STRING))
    body.finish()
    assert ecdsa.verify((UX, UY), hashlib.sha256(info).digest(), made[ss:se]), "signature"
    assert b"\x0c\x0bExample CPO" in info and b"\x0c\x04CP_1" in info, "subject O and CN"
    without_o = csr.request(key, "CP_1")
    assert b"Example CPO" not in without_o and b"CP_1" in without_o, "no O without a CpoName"


def test_the_key_round_trips_and_is_drawn_in_range():
    key = csr.pkcs8(D)
    assert csr.public_point(key) == (UX, UY), "public point from PKCS#8"
    draws = [b"\x00" * 32, b"\xff" * 32, ecdsa.N.to_bytes(32, "big"), D.to_bytes(32, "big")]

    def random(n):
        assert n == 32, "32 bytes at a time"
        return draws.pop(0)
    # 0, above n and n itself are drawn again (FIPS 186-4 B.4.2), not reduced modulo n
    assert csr.new_key(random) == key, "the first draw in [1, n-1]"
    assert not draws, "every draw used"
    raises(ValueError, csr.public_point, key[:-1] + b"\x00")  # off the curve: refused
