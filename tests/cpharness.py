# Host test helper: the firmware process and the bundled central system together, for the
# end-to-end tests of the charge-point core.
"""    async with Harness(tmp_path) as h:       # central system up, firmware booted
        await h.ctl("plug 1")
        start = await h.cs.wait_for("StartTransaction", "CP_1")
"""

import asyncio
import sys

from simproc import Firmware
from tools.csms import OCPP16, OCPP201, CentralSystem


class Harness:
    def __init__(self, folder, interpreter=None, runner=False, boot=True, cs_options=None,
                 csms=None, **changes):
        self.folder = folder
        self.v201 = (csms or {}).get("ocppVersion") == "2.0.1"
        defaults = {"heartbeat_interval": 60, "ocpp_versions": (OCPP201,) if self.v201 else (OCPP16,)}
        self.cs = CentralSystem(**dict(defaults, **(cs_options or {})))
        self.interpreter = interpreter or sys.executable
        self.runner = runner
        self.boot = boot
        self.changes = changes
        self.csms = csms or {}  # more csms settings of config.json (securityProfile, caFile ...)
        self.fw = None
        self.port = None
        self._ctl = None

    async def __aenter__(self):
        self.port = await self.cs.start()
        self.fw = Firmware(self.folder, interpreter=self.interpreter, runner=self.runner,
                           max_restarts=10,
                           csms=dict({"url": "%s://127.0.0.1:%d/ocpp" % (
                               "wss" if self.cs.tls else "ws", self.port),
                               "chargeBoxId": "CP_1"}, **self.csms), **self.changes)
        try:
            await asyncio.to_thread(self.fw.start)
            if self.boot:
                await self.cs.wait_for("BootNotification", "CP_1", timeout=15)
                if self.v201:  # 2.0.1: one per EVSE, no connector 0
                    first = 1
                    key = "evseId"
                else:
                    first = 0
                    key = "connectorId"
                for n in range(first, self.fw.config["connectors"] + 1):
                    await self.cs.wait_for("StatusNotification", "CP_1",
                                           lambda p, n=n: p[key] == n, timeout=10)
        except BaseException as e:  # a firmware that never came up shows why, then goes
            await self.__aexit__(type(e), e, None)
            raise
        return self

    async def __aexit__(self, *exc):
        if exc[0] is not None:  # a failing test shows what the firmware said
            print("---- firmware log (last 6000 characters) ----")
            print(self.fw.log()[-6000:])
        if self._ctl:
            self._ctl.close()
        self.fw.stop()
        await self.cs.stop()

    async def ctl(self, line):
        """One control-channel command; returns the answer line."""
        if self._ctl is None:
            self._ctl = await asyncio.to_thread(self.fw.control)
        return await asyncio.to_thread(self._ctl.cmd, line)

    async def state(self, n=1):
        if self._ctl is None:
            self._ctl = await asyncio.to_thread(self.fw.control)
        state = await asyncio.to_thread(self._ctl.state)
        return state["connectors"][n - 1]

    def reconnect_control(self):
        if self._ctl:
            self._ctl.close()
        self._ctl = None

    async def wait_state(self, n, predicate, timeout=10):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            s = await self.state(n)
            if predicate(s):
                return s
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("connector %d never reached the state; last %r" % (n, s))
            await asyncio.sleep(0.02)

    async def status(self, status, n=1, timeout=10):
        """Wait for StatusNotification `status` on connector n (2.0.1: EVSE n's connector)."""
        if self.v201:
            def match(p):
                return p["evseId"] == n and p["connectorStatus"] == status
        else:
            def match(p):
                return p["connectorId"] == n and p["status"] == status
        return await self.cs.wait_for("StatusNotification", "CP_1", match, timeout=timeout)

    async def configure(self, key, value):
        from ocpp.v16 import call
        result = await self.cs.call("CP_1", call.ChangeConfiguration(key=key, value=value))
        assert result.status == "Accepted", (key, value, result)
