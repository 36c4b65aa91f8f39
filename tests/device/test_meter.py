# Device tests of the meters: the board's meter, float32 decoding without floats, and the SDM
# Modbus-RTU client against a byte-level Modbus slave (CRC, exceptions, corruption, silence).
import struct

from devtest import raises, rmtree, tempdir
from drivers.meter import BoardMeter, SdmMeter, crc16, f32_scaled
from firmware.sim.board import SimBoard
from ticks import sleep_ms, ticks_add, ticks_diff, ticks_ms


def modbus_crc(data):
    """CRC-16/MODBUS written out again here, so the driver's is not checked against itself."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0xA001
    return bytes([crc & 0xFF, crc >> 8])


class SdmSlave:
    """An Eastron SDM on the other end of a UART: takes request bytes through write(), answers
    through read(). `mode` breaks it: "corrupt" (bad CRC), "silent", "late" (answers after
    `late_ms`), "exception" (Modbus exception 2), "chunked" (answers a byte or two per read),
    "wrong_address"."""

    def __init__(self, address=1, registers=None):
        self.address = address
        self.registers = registers or {}
        self.mode = "ok"
        self.late_ms = 0
        self.requests = []
        self._rx = b""
        self._tx = b""
        self._ready_at = 0  # ticks_ms() when the answer appears on the line ("late")

    def write(self, data):
        self._rx += bytes(data)
        while len(self._rx) >= 8:
            frame, self._rx = self._rx[:8], self._rx[8:]
            self._request(frame)

    def _request(self, frame):
        assert modbus_crc(frame[:6]) == frame[6:8], "request CRC %r" % (frame,)
        self.requests.append(frame)
        addr, fn = frame[0], frame[1]
        reg = frame[2] << 8 | frame[3]
        count = frame[4] << 8 | frame[5]
        if addr != self.address or self.mode == "silent":
            return
        if self.mode == "exception" or reg not in self.registers or count != 2 or fn != 4:
            body = bytes([addr if self.mode != "wrong_address" else addr + 1, fn | 0x80, 2])
        else:
            value = struct.pack(">f", self.registers[reg])
            body = bytes([addr if self.mode != "wrong_address" else addr + 1, fn, 4]) + value
        answer = body + modbus_crc(body)
        if self.mode == "corrupt":
            answer = answer[:-1] + bytes([answer[-1] ^ 0x55])
        self._tx += answer
        self._ready_at = ticks_add(ticks_ms(), self.late_ms if self.mode == "late" else 0)

    async def read(self, n):
        while not self._tx or ticks_diff(self._ready_at, ticks_ms()) > 0:
            await sleep_ms(1)
        take = min(n, 2) if self.mode == "chunked" else n
        data, self._tx = self._tx[:take], self._tx[take:]
        return data


def f32(value):
    return struct.pack(">f", value)


def test_crc_known_vectors():
    assert crc16(b"123456789", 9) == 0x4B37, "the CRC-16/MODBUS check value"
    frame = bytes([1, 4, 0, 0, 0, 2])
    assert modbus_crc(frame) == b"\x71\xcb", "read input registers 0-1 of slave 1"
    assert crc16(frame, 6) == 0xCB71


def test_f32_decoding_matches_the_float():
    for value in (0.0, -0.0, 1.0, -1.0, 0.5, 3680.5, 12345.678, 0.001, 1e-3, 0.0004, 7.25e-7,
                  99999.99, 1e6, 123456789.0, -2300.75, 1e-40, 3.4e38):
        raw = f32(value)
        exact = struct.unpack(">f", raw)[0]
        for scale in (1, 1000):
            got = f32_scaled(raw, 0, scale)
            want = int(exact * scale)  # truncated toward zero, as the driver does
            assert abs(got - want) <= 1, "%r * %d: %d, want %d" % (value, scale, got, want)
            if abs(exact) >= 0.5:
                assert got == want, "%r * %d: %d, want exactly %d" % (value, scale, got, want)


def test_f32_rejects_nan_and_infinity():
    raises(ValueError, f32_scaled, b"\x7f\xc0\x00\x00", 0, 1)
    raises(ValueError, f32_scaled, b"\x7f\x80\x00\x00", 0, 1000)
    raises(ValueError, f32_scaled, b"\xff\x80\x00\x00", 0, 1)


def test_board_meter_reads_the_board():
    path = tempdir()
    b = SimBoard({"connectors": 1, "sim": {"phases": 1}}, state_dir=path)
    m = BoardMeter(b, 1)
    b.sim[0].meter_wh = 4321
    b.sim[0].plug()
    b.sim[0].ev = "C"
    b.sim[0].duty = 266
    b.sim[0].relay_cmd = True
    assert m.energy_wh() == 4321, "energy from the board"
    assert m.power_w() == 159 * 230 // 10, "power from the board: %d" % m.power_w()
    assert not m.stale and m.error is None
    rmtree(path)


async def test_board_meter_refresh_is_trivial():
    path = tempdir()
    m = BoardMeter(SimBoard({"connectors": 1}, state_dir=path), 1)
    assert await m.refresh() is True
    rmtree(path)


def meter_and_slave(**kw):
    slave = SdmSlave(address=7, registers={0x34: 3680.5, 0x48: 12345.678, 0x0C: -150.25})
    return SdmMeter(slave, address=7, timeout_ms=50, **kw), slave


async def test_sdm_reads_power_and_energy():
    m, slave = meter_and_slave()
    assert m.energy_wh() is None and m.stale, "nothing read yet"
    assert await m.refresh() is True, "refresh failed: %s" % m.error
    assert m.power_w() == 3680, "power %r" % m.power_w()
    assert m.energy_wh() == 12345677, "energy %r (float32 12345.677734375 kWh)" % m.energy_wh()
    assert not m.stale and m.error is None
    first = slave.requests[0]
    assert first == bytes([7, 4, 0, 0x34, 0, 2]) + modbus_crc(bytes([7, 4, 0, 0x34, 0, 2])), (
        "request %r" % (first,))
    assert slave.requests[1][2:4] == b"\x00\x48", "energy register"


async def test_sdm_single_phase_power_register_and_negative_power():
    m, slave = meter_and_slave(power_reg=0x0C)
    assert await m.refresh(), m.error
    assert m.power_w() == -150, "exporting: %r" % m.power_w()


async def test_sdm_answer_in_pieces():
    m, slave = meter_and_slave()
    slave.mode = "chunked"
    assert await m.refresh(), m.error
    assert m.energy_wh() == 12345677


async def test_sdm_crc_error_keeps_the_last_reading():
    m, slave = meter_and_slave()
    assert await m.refresh()
    slave.registers[0x48] = 20000.0
    slave.mode = "corrupt"
    assert await m.refresh() is False
    assert m.stale and "CRC" in m.error, "error: %r" % m.error
    assert m.energy_wh() == 12345677 and m.power_w() == 3680, "the last good reading"
    slave.mode = "ok"
    assert await m.refresh(), m.error
    assert m.energy_wh() == 20000000 and not m.stale and m.error is None


async def test_sdm_silence_times_out():
    m, slave = meter_and_slave()
    assert await m.refresh()
    slave.mode = "silent"
    assert await m.refresh() is False
    assert m.stale and "no answer" in m.error and "50 ms" in m.error, "error: %r" % m.error
    assert m.energy_wh() == 12345677, "the last good reading"


async def test_sdm_late_answer_is_not_taken_for_the_next():
    m, slave = meter_and_slave()
    slave.registers[0x34] = 1000.0
    slave.mode = "late"
    slave.late_ms = 60  # after the 50 ms timeout, within the flush
    assert await m.refresh() is False and "no answer" in m.error
    slave.mode = "ok"
    slave.registers[0x34] = 2000.0
    assert await m.refresh(), m.error
    assert m.power_w() == 2000, "the late 1000 W answer was discarded: %r" % m.power_w()


async def test_sdm_modbus_exception_and_wrong_address():
    m, slave = meter_and_slave()
    slave.mode = "exception"
    assert await m.refresh() is False
    assert "exception 2" in m.error, "error: %r" % m.error
    slave.mode = "wrong_address"
    assert await m.refresh() is False
    assert "address 8" in m.error, "error: %r" % m.error
    assert m.energy_wh() is None, "never a good reading"


async def test_sdm_not_a_number():
    m, slave = meter_and_slave()
    slave.registers[0x34] = float("nan")
    assert await m.refresh() is False and "not a number" in m.error, m.error


class AsyncWriteStream(SdmSlave):
    """A stream whose write is a coroutine and which wants drain(), like asyncio.StreamWriter."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.drained = 0

    async def write(self, data):  # pyright: ignore[reportIncompatibleMethodOverride]
        SdmSlave.write(self, data)

    async def drain(self):
        self.drained += 1


async def test_sdm_async_write_and_drain():
    slave = AsyncWriteStream(address=1, registers={0x34: 5.0, 0x48: 1.5})
    m = SdmMeter(slave, timeout_ms=50)
    assert await m.refresh(), m.error
    assert m.power_w() == 5 and m.energy_wh() == 1500
    assert slave.drained == 2, "drained after each request"
