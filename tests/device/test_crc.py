# Device tests of lib/crc.py: the check value of CRC-32, continuation, and the fallback.
import crc


def test_check_value_and_continuation():
    assert crc.crc32(b"123456789") == 0xCBF43926  # the standard check value
    data = b"OCPP journal \xfe\x00\xff" * 5
    assert crc.crc32(data[7:], crc.crc32(data[:7])) == crc.crc32(data)
    assert crc.crc32(memoryview(bytearray(data))) == crc.crc32(data)


def test_fallback_without_binascii_matches():
    fast = crc._c
    data = b"OCPP journal \xfe\x00\xff" * 5
    want = crc.crc32(data[7:], crc.crc32(data[:7]))
    try:
        crc._c = None
        got = crc.crc32(data[7:], crc.crc32(data[:7]))
        check = crc.crc32(b"123456789")
    finally:
        crc._c = fast
    assert (got, check) == (want, 0xCBF43926)
