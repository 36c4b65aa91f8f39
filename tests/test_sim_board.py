# The firmware process on the simulated board: control channel over real TCP, bad
# configurations, and restarts through the runner.
import copy
import json
import socket
import sys

import pytest

from simproc import BASE_CONFIG, Firmware, run_once


@pytest.fixture
def firmware(tmp_path):
    fw = Firmware(tmp_path, connectors=2).start()
    yield fw
    fw.stop()


def test_every_command_answers(firmware):
    ctl = firmware.control()
    assert ctl.cmd("help").startswith("commands:")
    assert ctl.cmd("plug 1") == "ok"
    assert ctl.cmd("cp 1 C") == "ok"
    assert ctl.cmd("swipe 04A2B3C4") == "ok"
    assert ctl.cmd("weld 2 on") == "ok"
    state = ctl.state()
    one, two = state["connectors"]
    assert one["connector"] == 1 and one["cp"] == "C"
    assert set(one) >= {"cp", "relay", "pwmDutyPermille", "offeredA", "meterWh", "status"}
    assert one["relay"] == "open" and one["pwmDutyPermille"] == 1000 and one["offeredA"] == 0
    assert two["relay"] == "closed"  # welded
    assert ctl.cmd("unplug 1") == "ok"
    assert ctl.state()["connectors"][0]["cp"] == "A"
    ctl.close()


def test_malformed_input_never_breaks_the_channel(firmware):
    ctl = firmware.control()
    for raw in (b"\n", b"fly away\n", b"plug 9\n", b"cp 1 Z\n", b"\xff\xfe\xfd\n",
                b"x" * 5000 + b"\n", b"plug\x001\n", b"state extra words\n"):
        answer = ctl.send_raw(raw)
        assert answer.startswith("error: "), (raw[:20], answer)
    assert "connectors" in ctl.state()
    other = firmware.control()  # a second client at the same time
    assert other.cmd("plug 2") == "ok"
    assert ctl.state()["connectors"][1]["cp"] == "B"
    other.close()
    ctl.close()
    assert firmware.proc.poll() is None
    assert "Traceback" not in firmware.log()


def test_client_disconnect_midline_is_harmless(firmware):
    s = socket.create_connection(("127.0.0.1", firmware.port))
    s.sendall(b"plug 1")  # no newline, then gone
    s.close()
    ctl = firmware.control()
    assert ctl.state()["connectors"][0]["cp"] == "A"
    ctl.close()


def bad(**edits):
    cfg = copy.deepcopy(BASE_CONFIG)
    for path, value in edits.items():
        keys = path.split("__")
        node = cfg
        for k in keys[:-1]:
            node = node[k]
        if value is KeyError:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return json.dumps(cfg)


@pytest.mark.parametrize("text, expected", [
    ("{not json", "(file): not valid JSON"),
    (bad(csms__url=KeyError), "csms.url: missing"),
    (bad(connectors="one"), "connectors: must be an integer"),
    (bad(connectors=9), "connectors: must be 1 to 4, is 9"),
    (bad(identity__chargePointVendor="V" * 30), "identity.chargePointVendor: length must be 1 to 20, is 30"),
    (bad(csms__url="http://x/ocpp"), "csms.url: must start with ws:// or wss://"),
    (bad(csms__url="ws://127.0.0.1:99999/ocpp"), "csms: bad port in the central system URL"),
    (bad(csms__securityProfile=1, csms__authorizationKey="\u00e9" * 16),
     "csms.authorizationKey: must be 16 to 40 printable ASCII characters"),
])
def test_bad_configuration_gives_one_line(tmp_path, text, expected):
    status, output = run_once(tmp_path, text)
    assert status == 2
    assert output.strip().count("\n") == 0, output
    assert output.strip().startswith("config error: ") and output.strip().endswith(expected)
    assert "Traceback" not in output


def test_missing_configuration_file(tmp_path):
    fw = Firmware(tmp_path)
    import subprocess
    env = fw.env()
    env["CP_CONFIG"] = str(tmp_path / "absent.json")
    proc = subprocess.run([sys.executable, "main.py"], cwd=fw_root(), env=env,
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 2
    assert proc.stdout.strip().endswith("(file): cannot read " + env["CP_CONFIG"])


def fw_root():
    from simproc import ROOT
    return ROOT


def test_control_port_in_use_is_one_clear_line(tmp_path):
    fw = Firmware(tmp_path)
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", fw.port))
    blocker.listen(1)
    try:
        fw.write_config()
        status, output = run_once(tmp_path, json.dumps(fw.config))
    finally:
        blocker.close()
    assert status == 2
    assert "sim control port %d unavailable" % fw.port in output
    assert "Traceback" not in output


def test_runner_restarts_after_reset_and_the_meter_survives(tmp_path):
    fw = Firmware(tmp_path, runner=True).start()
    try:
        fw.wait_log("reset cause power_on")
        ctl = fw.control()
        assert ctl.cmd("reset") == "ok"
        fw.wait_log("simrun: firmware reset, starting it again (restart 1)")
        fw.wait_log("reset cause hard")
        fw.wait_control()
        ctl = fw.control()
        assert ctl.state()["connectors"][0]["cp"] == "A"
        assert ctl.cmd("reset") == "ok"  # the runner's limit is one restart
        assert fw.proc.wait(15) == 3
    finally:
        fw.stop()


@pytest.mark.parametrize("kind", ["cpython", "frozen32"])
def test_the_stall_meter_sees_a_held_loop(tmp_path, monkeypatch, kind):
    """make bench's stall meter (firmware/sim/stall.py): the loop held 300 ms by the
    `stall` command shows as a worst turn of at least that, in CPU time on the frozen build
    (its simclock module) and in wall time under CPython; short turns stay short."""
    import mp32
    if kind == "frozen32" and mp32.skip_reason():
        pytest.skip(mp32.skip_reason())
    path = tmp_path / "stalls.txt"
    monkeypatch.setenv("CP_STALL_METER", str(path))
    fw = Firmware(tmp_path, interpreter=mp32.frozen_runtime() if kind == "frozen32" else None,
                  connectors=1).start()
    try:
        ctl = fw.control()
        assert ctl.cmd("state").startswith("{")
        before = [int(line.split()[0]) for line in path.read_text().split("\n") if line]
        assert before and max(before) < 100000  # start-up: nothing near the stall below
        assert json.loads(ctl.cmd("stall 300"))["heldMs"] >= 300
        assert ctl.cmd("state").startswith("{")  # a turn of the loop after the stall
        cpu, wall = [int(x) for x in path.read_text().split("\n")[-2].split()[:2]]
        # CPU time of a 300 ms busy loop: less when the host takes the process off the CPU
        # meanwhile, which is what CPU time is for; far above any turn of the idle loop
        assert 100000 <= cpu <= wall and wall >= 290000, (cpu, wall)
    finally:
        fw.stop()
