# Host test helper: run the real firmware (main.py) as a process and talk to its control channel.
"""Start the firmware with the simulated board in a temporary state folder, the way
`make sim` does, and drive it over the TCP control channel.

    fw = Firmware(tmp_path, connectors=2)
    fw.start()
    ctl = fw.control()
    ctl.cmd("plug 1")          # -> "ok"
    fw.stop()
"""

import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BASE_CONFIG = {
    "identity": {"chargePointVendor": "TestVendor", "chargePointModel": "TestModel",
                 "chargePointSerialNumber": "SN-1", "firmwareVersion": "0.1.0"},
    "csms": {"url": "ws://127.0.0.1:9/ocpp", "chargeBoxId": "CP_1"},
    "connectors": 1,
    "sim": {"controlPort": 7700},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def micropython():
    """Path of the MicroPython unix port, or None."""
    return shutil.which("micropython") or (
        os.path.join(os.path.dirname(sys.executable), "micropython")
        if os.path.exists(os.path.join(os.path.dirname(sys.executable), "micropython")) else None)


class Runtime:
    """How the firmware process starts: its command line and the folder it runs in.

    `cwd=None` runs it in the test's own folder: the frozen build must not find the
    repository's sources (sys.path starts with the current folder, then the frozen modules).
    """

    def __init__(self, name, argv, cwd=ROOT):
        self.name = name
        self.argv = list(argv)
        self.cwd = cwd

    def __repr__(self):
        return self.name


def runtime(interpreter):
    """A Runtime from what tests pass as `interpreter`: None (CPython), the path of an
    interpreter that runs main.py from the repository, or a Runtime."""
    if isinstance(interpreter, Runtime):
        return interpreter
    exe = interpreter or sys.executable
    return Runtime("cpython" if exe == sys.executable else "micropython", [exe, "main.py"])


class Control:
    """A control-channel client: one command line out, one answer line back."""

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send_raw(self, data):
        self.sock.sendall(data)
        return self.file.readline().decode().rstrip("\n")

    def cmd(self, line):
        return self.send_raw(line.encode() + b"\n")

    def state(self):
        return json.loads(self.cmd("state"))

    def close(self):
        self.file.close()
        self.sock.close()


class Firmware:
    """The firmware process (through tools/simrun.py when runner=True)."""

    def __init__(self, folder, interpreter=None, runner=False, max_restarts=1, **changes):
        self.folder = str(folder)
        self.state_dir = os.path.join(self.folder, "state")
        self.config = copy.deepcopy(BASE_CONFIG)
        self.config["sim"]["controlPort"] = free_port()
        for key, value in changes.items():
            self.config[key] = value
        self.runtime = runtime(interpreter)
        self.interpreter = self.runtime.argv[0]
        self.runner = runner
        self.max_restarts = max_restarts
        self.proc = None
        self.log_path = os.path.join(self.folder, "firmware.log")

    @property
    def port(self):
        return self.config["sim"]["controlPort"]

    def write_config(self, text=None):
        path = os.path.join(self.folder, "config.json")
        with open(path, "w") as f:
            f.write(text if text is not None else json.dumps(self.config))
        return path

    def command(self):
        if not self.runner:
            return self.runtime.argv
        return [sys.executable, os.path.join(ROOT, "tools", "simrun.py"),
                "--max-restarts", str(self.max_restarts), "--"] + self.runtime.argv

    @property
    def cwd(self):
        return self.runtime.cwd or self.folder

    def env(self):
        env = dict(os.environ, CP_CONFIG=os.path.join(self.folder, "config.json"),
                   CP_STATE_DIR=self.state_dir, PYTHONUNBUFFERED="1")
        env["PATH"] = os.path.dirname(self.interpreter) + os.pathsep + env.get("PATH", "")
        return env

    def start(self, wait=True):
        self.write_config()
        self._log = open(self.log_path, "ab")
        # A session of its own: stop() ends the runner and the firmware it started together.
        self.proc = subprocess.Popen(self.command(), cwd=self.cwd, env=self.env(),
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if wait:
            self.wait_control()
        return self

    def wait_control(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and not self.runner:
                raise AssertionError("firmware exited %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("control channel never opened:\n" + self.log())

    def control(self):
        return Control(self.port)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, text, timeout=15, count=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(text) >= count:
                return
            time.sleep(0.05)
        raise AssertionError("%r not seen %d times in the log:\n%s" % (text, count, self.log()))

    def stop(self):
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)  # the runner's child too
            except ProcessLookupError:
                break
            try:
                self.proc.wait(5)
                if sig == signal.SIGTERM:
                    time.sleep(0.1)  # let the group's other members go as well
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


def run_once(folder, config_text, timeout=20, interpreter=None):
    """Run main.py with `config_text` as config.json until it exits: (status, output)."""
    fw = Firmware(folder, interpreter=interpreter)
    fw.write_config(config_text)
    proc = subprocess.run(fw.command(), cwd=fw.cwd, env=fw.env(),
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr
