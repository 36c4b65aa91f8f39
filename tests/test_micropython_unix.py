# main.py under the real MicroPython unix port with the simulated board (skipped, with the
# reason shown, when no `micropython` binary is on PATH).
import json
import os
import subprocess
import sys

import pytest

from simproc import BASE_CONFIG, ROOT, Firmware, micropython, run_once

MICROPYTHON = micropython()
pytestmark = pytest.mark.skipif(
    MICROPYTHON is None, reason="no micropython (unix port) on PATH: `make test` installs one in .venv")


def test_main_starts_and_the_control_channel_answers(tmp_path):
    fw = Firmware(tmp_path, interpreter=MICROPYTHON, connectors=2).start()
    try:
        fw.wait_log("on the sim board, reset cause power_on")
        ctl = fw.control()
        assert ctl.cmd("plug 2") == "ok"
        assert ctl.cmd("cp 2 C") == "ok"
        assert ctl.send_raw(b"\xff garbage\n").startswith("error: ")
        state = ctl.state()
        assert state["connectors"][1]["cp"] == "C"
        fw.wait_log("reconnecting in")  # no central system at the configured URL
        ctl.close()
        assert fw.proc.poll() is None
        assert "Traceback" not in fw.log()
    finally:
        fw.stop()


def test_reset_restarts_through_the_runner(tmp_path):
    fw = Firmware(tmp_path, interpreter=MICROPYTHON, runner=True).start()
    try:
        fw.wait_log("reset cause power_on")
        assert fw.control().cmd("reset") == "ok"
        fw.wait_log("reset cause hard")
    finally:
        fw.stop()


def test_bad_configuration_one_line(tmp_path):
    cfg = dict(BASE_CONFIG, connectors=0)
    status, output = run_once(tmp_path, json.dumps(cfg), interpreter=MICROPYTHON)
    assert status == 2
    assert output.strip() == "config error: %s: connectors: must be 1 to 4, is 0" % (
        tmp_path / "config.json")


@pytest.mark.parametrize("interpreter", [sys.executable, MICROPYTHON], ids=["cpython", "micropython"])
def test_main_starts_from_any_folder(tmp_path, interpreter):
    """A service manager or a container starts main.py from its own folder, not the repo's."""
    cfg = dict(BASE_CONFIG, connectors=0)
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    proc = subprocess.run([interpreter, os.path.join(ROOT, "main.py")], cwd=str(tmp_path),
                          env=dict(os.environ, CP_CONFIG="config.json",
                                   CP_STATE_DIR=str(tmp_path / "state")),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (proc.stdout + proc.stderr).strip() == \
        "config error: config.json: connectors: must be 1 to 4, is 0"
