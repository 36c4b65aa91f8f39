# Energy meters behind one interface: the board's own (S0 / simulated) and an Eastron SDM on Modbus.
"""One meter interface: `energy_wh()` (integer Wh, None before the first reading),
`power_w()` (integer W), `stale`, `error` and `async refresh()`.

    meter = BoardMeter(board, 1)                  # the S0 counter / simulated meter
    meter = SdmMeter(uart_stream, address=1)      # Eastron SDM630/SDM72 over Modbus RTU
    ok = await meter.refresh()                    # False: `error` says why, readings kept, stale
    wh, w = meter.energy_wh(), meter.power_w()

SdmMeter speaks Modbus RTU (function 0x04, read input registers, CRC-16/MODBUS) over any
stream with `async read(n)` (up to n bytes) and `write(data)` (plain or async; an optional
`async drain()` is awaited), e.g. machine.UART wrapped in asyncio.StreamReader on the board.
The SDM's registers hold IEEE-754 float32 values (big-endian); they are decoded here with
integer arithmetic only, because the ESP32's floats are single precision and must never carry
an energy count. Input registers: 0x0034 total system power (W, SDM630/SDM72; single-phase
SDM120/SDM230 use 0x000C), 0x0048 total import active energy (kWh).
"""

import asyncio

from ticks import sleep_ms

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

REG_TOTAL_POWER = const(0x0034)
REG_PHASE1_POWER = const(0x000C)
REG_IMPORT_KWH = const(0x0048)

_FN_READ_INPUT = const(0x04)
_TIMEOUT_MS = const(300)
# Silence that ends a garbled or late answer before the next request (about 20 characters at
# 9600 baud, well above RTU's 3.5-character frame gap).
_GAP_MS = const(25)


class Meter:
    """The interface; BoardMeter and SdmMeter implement it."""

    stale = False  # True while the last refresh failed: the readings are the last good ones
    error = None  # why the last refresh failed, or None

    def energy_wh(self):
        raise NotImplementedError

    def power_w(self):
        raise NotImplementedError

    async def refresh(self):
        """Read the meter now; True on success."""
        return True

    async def run(self, period_ms):
        """Refresh forever, every period_ms (a task of its own, so a slow meter never delays
        the connector's safety tick)."""
        while True:
            await self.refresh()
            await sleep_ms(period_ms)


class BoardMeter(Meter):
    """The meter the board offers (S0 pulse counter on the ESP32, simulated on the host)."""

    def __init__(self, board, connector):
        self.board = board
        self.connector = connector

    def energy_wh(self):
        return self.board.meter_wh(self.connector)

    def power_w(self):
        return self.board.meter_power_w(self.connector)


def crc16(data, n):
    """CRC-16/MODBUS of data[:n] (poly 0xA001 reflected, init 0xFFFF)."""
    crc = 0xFFFF
    for i in range(n):
        crc ^= data[i]
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0xA001
            else:
                crc >>= 1
    return crc


def f32_scaled(b, off, scale):
    """The big-endian IEEE-754 float32 at b[off:off+4] times `scale` (1..1000), truncated
    toward zero, as an int, computed without floats. ValueError for NaN and infinities."""
    b0 = b[off]
    b1 = b[off + 1]
    exp = ((b0 & 0x7F) << 1) | (b1 >> 7)
    if exp == 0xFF:
        raise ValueError("not a number")
    if exp == 0:
        return 0  # zero, or a subnormal far below one unit
    mant = ((b1 & 0x7F) << 16) | (b[off + 2] << 8) | b[off + 3] | 0x800000
    shift = exp - 150  # the value is mant * 2**shift
    if shift >= 0:
        n = (mant << shift) * scale
    elif shift < -64:
        n = 0
    else:
        s = -shift
        whole = mant >> s
        frac = mant - (whole << s)
        # frac * scale must stay a small int (31 bits on the ESP32): keep 20 bits of fraction.
        if s > 20:
            frac >>= s - 20
            s = 20
        n = whole * scale + ((frac * scale) >> s)
    return -n if b0 & 0x80 else n


class MeterError(Exception):
    pass


class SdmMeter(Meter):
    def __init__(self, stream, address=1, timeout_ms=_TIMEOUT_MS, power_reg=REG_TOTAL_POWER,
                 energy_reg=REG_IMPORT_KWH):
        self.stream = stream
        self.address = address
        self.timeout_ms = timeout_ms
        self.power_reg = power_reg
        self.energy_reg = energy_reg
        self.stale = True  # nothing read yet
        self.error = None
        self._wh = None
        self._w = None
        self._req = bytearray(8)
        self._resp = bytearray(9)  # address, function, byte count, 4 data bytes, CRC

    def energy_wh(self):
        return self._wh

    def power_w(self):
        return self._w

    async def refresh(self):
        try:
            w = await self._read_f32(self.power_reg, 1)
            wh = await self._read_f32(self.energy_reg, 1000)  # kWh -> Wh
        except MeterError as e:
            self.stale = True
            self.error = str(e)
            await self._flush()
            return False
        self._w = w
        self._wh = wh
        self.stale = False
        self.error = None
        return True

    # -- Modbus RTU ------------------------------------------------------------------------
    async def _read_f32(self, reg, scale):
        req = self._req
        req[0] = self.address
        req[1] = _FN_READ_INPUT
        req[2] = reg >> 8
        req[3] = reg & 0xFF
        req[4] = 0
        req[5] = 2  # two 16-bit registers: one float32
        crc = crc16(req, 6)
        req[6] = crc & 0xFF  # the CRC goes low byte first
        req[7] = crc >> 8
        written = self.stream.write(req)
        if hasattr(written, "send"):  # an async write (a coroutine is a generator on MicroPython)
            await written
        drain = getattr(self.stream, "drain", None)
        if drain is not None:
            await drain()
        try:
            n = await asyncio.wait_for(self._receive(), self.timeout_ms / 1000)
        except asyncio.TimeoutError:
            raise MeterError("meter %d: no answer for register 0x%04x within %d ms" % (
                self.address, reg, self.timeout_ms))
        resp = self._resp
        if crc16(resp, n - 2) != resp[n - 2] | (resp[n - 1] << 8):
            raise MeterError("meter %d: CRC error in the answer for register 0x%04x" % (
                self.address, reg))
        if resp[0] != self.address:
            raise MeterError("meter %d: answer from address %d" % (self.address, resp[0]))
        if resp[1] == _FN_READ_INPUT | 0x80:
            raise MeterError("meter %d: Modbus exception %d for register 0x%04x" % (
                self.address, resp[2], reg))
        if resp[1] != _FN_READ_INPUT or resp[2] != 4:
            raise MeterError("meter %d: malformed answer for register 0x%04x" % (
                self.address, reg))
        try:
            return f32_scaled(resp, 3, scale)
        except ValueError:
            raise MeterError("meter %d: register 0x%04x is not a number" % (self.address, reg))

    async def _receive(self):
        """Read one answer into self._resp; returns its length (9, or 5 for an exception)."""
        await self._fill(0, 3)
        resp = self._resp
        n = 5 if resp[1] & 0x80 else 3 + resp[2] + 2
        if n > len(resp):
            n = len(resp)  # a wrong byte count: the CRC check then rejects it
        await self._fill(3, n)
        return n

    async def _fill(self, start, end):
        resp = self._resp
        while start < end:
            data = await self.stream.read(end - start)
            if not data:
                await sleep_ms(1)  # a stream without data yet (or at its end): the timeout ends it
                continue
            for byte in data:
                resp[start] = byte
                start += 1

    async def _flush(self):
        """Discard input until the line has been silent for a frame gap (a late or garbled
        answer must not be taken for the next one)."""
        for _ in range(64):
            try:
                data = await asyncio.wait_for(self.stream.read(64), _GAP_MS / 1000)
            except asyncio.TimeoutError:
                return
            if not data:
                return
