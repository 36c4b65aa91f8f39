# make deploy's plan: every deployable file compiled and copied, the simulation left behind.
import os
import subprocess
import sys

from simproc import ROOT


def test_dry_run_copies_compiled_device_files_and_resets(tmp_path):
    config = tmp_path / "config.json"
    config.write_text("{}")
    out = subprocess.run([sys.executable, "tools/deploy.py", "--port", "/dev/ttyUSB9",
                          "--config", str(config), "--dry-run"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("mpremote connect /dev/ttyUSB9 exec ")
    assert ":boot.py" in out and ":main.py" in out
    assert ":firmware/app.mpy" in out and ":lib/logger.mpy" in out
    assert "firmware/sim/" not in out and "sim" not in out  # the simulated board stays on the host
    assert "schemas/v201" not in out and ":lib/ocppj/schemas/v16/BootNotification.mpy" in out
    assert out.rstrip().endswith("+ reset")
    assert os.path.exists(os.path.join(ROOT, "build", "mpy", "firmware", "app.mpy"))


def test_a_2_0_1_board_gets_2_0_1_files_only(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"csms": {"ocppVersion": "2.0.1"}}')
    out = subprocess.run([sys.executable, "tools/deploy.py", "--port", "/dev/ttyUSB9",
                          "--config", str(config), "--dry-run"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert ":firmware/v201/start.mpy" in out and ":lib/ocppj/schemas/v201/GetVariables.mpy" in out
    assert "firmware/v16/" not in out and "schemas/v16/" not in out
    assert ":firmware/app.mpy" in out and ":firmware/model/evse.mpy" in out


def test_missing_config_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "tools/deploy.py", "--port", "/dev/x",
                           "--config", str(tmp_path / "none.json")], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "not found" in proc.stderr
