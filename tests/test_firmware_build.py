# `make firmware`, `make flash`, `make erase`: the exact commands (dry runs), the board without
# Bluetooth, the OTA-slot size gate, the frozen application's size, the missing-ESP-IDF error.
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

import devicefiles  # noqa: E402
import firmware_build  # noqa: E402
import flash  # noqa: E402
import frozen_size  # noqa: E402

BOARD_DIR = os.path.join(ROOT, "esp32", "boards", "OCPP_ESP32")
MANIFEST = os.path.join(ROOT, "manifest.py")
NO_IDF_PATH = "/usr/bin:/bin"  # a PATH without ESP-IDF's idf.py (checked in no_idf_env)


def no_idf_env(**extra):
    """The environment of a machine without ESP-IDF, and not inside another make."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("IDF_PATH", "MICROPY_DIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = NO_IDF_PATH
    assert shutil.which("idf.py", path=NO_IDF_PATH) is None
    env.update(extra)
    return env


def tool(*args, env=None):
    return subprocess.run([sys.executable] + list(args), cwd=ROOT, capture_output=True,
                          text=True, env=env or no_idf_env())


def make(*args):
    return subprocess.run([shutil.which("make"), "-s", "--no-print-directory",
                           "-o", os.path.join(".venv", ".installed")] + list(args),
                          cwd=ROOT, capture_output=True, text=True, env=no_idf_env())


def default_tree():
    return firmware_build.build_micropython.source_tree(None)


def build_lines(tree, board_args):
    port = os.path.join(tree, "ports", "esp32")
    return [
        'source "$IDF_PATH/export.sh"',
        "make -C %s/mpy-cross" % tree,
        "make -C %s %s submodules" % (port, " ".join(board_args)),
        "make -C %s %s FROZEN_MANIFEST=%s" % (port, " ".join(board_args), MANIFEST),
    ]


# -- make firmware ---------------------------------------------------------------------------
def test_dry_run_builds_this_repos_board_with_the_frozen_manifest():
    proc = tool("tools/firmware_build.py", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    tree = os.path.join(ROOT, "build", "micropython-1.28.0")  # the tarball, unpacked
    assert proc.stdout.splitlines() == build_lines(tree, ["BOARD_DIR=" + BOARD_DIR])
    manifest = proc.stdout.split("FROZEN_MANIFEST=")[1].split()[0]
    assert os.path.isabs(manifest) and os.path.samefile(manifest, MANIFEST)


def test_dry_run_builds_a_board_and_variant_of_micropython_when_given(tmp_path):
    tree = default_tree()
    proc = tool("tools/firmware_build.py", "--dry-run", "--micropy-dir", tree,
                "--board", "ESP32_GENERIC", "--board-variant", "OTA")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == build_lines(tree, ["BOARD=ESP32_GENERIC", "BOARD_VARIANT=OTA"])
    assert "BOARD_DIR" not in proc.stdout


def test_make_firmware_passes_micropy_dir_board_and_variant():
    tree = default_tree()
    proc = make("firmware", "DRY_RUN=1", "MICROPY_DIR=" + tree, "BOARD=ESP32_GENERIC",
                "BOARD_VARIANT=OTA")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == build_lines(tree, ["BOARD=ESP32_GENERIC", "BOARD_VARIANT=OTA"])
    proc = make("firmware", "DRY_RUN=1")
    assert proc.stdout.splitlines() == build_lines(tree, ["BOARD_DIR=" + BOARD_DIR])


@pytest.mark.parametrize("board, variant, folder", [
    (None, None, "build-OCPP_ESP32"),
    ("ESP32_GENERIC", "OTA", "build-ESP32_GENERIC-OTA"),
])
def test_the_images_are_looked_for_where_the_esp32_makefile_builds(board, variant, folder):
    """ports/esp32/Makefile itself (make -n: it prints the idf.py line) names the build folder."""
    tree = default_tree()
    board_args, _ = firmware_build.board_args(board, variant)
    proc = subprocess.run([shutil.which("make"), "-n", "-C", os.path.join(tree, "ports", "esp32")]
                          + board_args + ["FROZEN_MANIFEST=" + MANIFEST],
                          capture_output=True, text=True, env=no_idf_env())
    idf_line = [line for line in proc.stdout.splitlines() if line.startswith("idf.py ")][0]
    assert " -B %s build" % folder in idf_line
    assert "-D MICROPY_FROZEN_MANIFEST=%s " % MANIFEST in idf_line
    if board is None:
        assert '-D MICROPY_BOARD_DIR="%s"' % BOARD_DIR in idf_line
    else:
        assert "-D MICROPY_BOARD_VARIANT=%s" % variant in idf_line
    assert firmware_build.build_dir(tree, board, variant) == os.path.join(tree, "ports", "esp32", folder)


def test_without_esp_idf_one_clear_line_and_exit_status_2(tmp_path):
    proc = tool("tools/firmware_build.py")
    assert proc.returncode == 2
    out = (proc.stdout + proc.stderr).strip().splitlines()
    assert len(out) == 1 and out[0].startswith("firmware: ESP-IDF not found: IDF_PATH is not set")
    proc = tool("tools/firmware_build.py", env=no_idf_env(IDF_PATH=str(tmp_path)))
    assert proc.returncode == 2
    out = (proc.stdout + proc.stderr).strip().splitlines()
    assert out == ["firmware: ESP-IDF not found: IDF_PATH=%s has no export.sh "
                   "(want an ESP-IDF v5.5.1 checkout)" % tmp_path]


def test_the_trimmed_tarball_tree_is_refused_for_a_real_build(tmp_path):
    (tmp_path / "export.sh").write_text("")  # ESP-IDF as far as the first check goes
    proc = tool("tools/firmware_build.py", env=no_idf_env(IDF_PATH=str(tmp_path)))
    assert proc.returncode == 2
    out = (proc.stdout + proc.stderr).strip().splitlines()
    assert len(out) == 1 and "cannot build the ESP32 port" in out[0] and "MICROPY_DIR=" in out[0]


# -- the board: ESP32_GENERIC's OTA variant without Bluetooth ---------------------------------
def sdkconfig_defaults(cmake_files, board_dir, tree):
    """The sdkconfig settings the ESP32 port's CMakeLists.txt assembles from the board's
    SDKCONFIG_DEFAULTS (files concatenated in order: the last setting of a key wins)."""
    files = []
    for path in cmake_files:
        with open(path) as f:
            text = f.read()
        for block in re.findall(r"set\(SDKCONFIG_DEFAULTS\s+(.*?)\)", text, re.S):
            items = [i for i in block.split() if i != "${SDKCONFIG_DEFAULTS}"]
            files += [i.replace("${MICROPY_BOARD_DIR}", board_dir) for i in items]
    settings = {}
    for name in files:
        path = name if os.path.isabs(name) else os.path.join(tree, "ports", "esp32", name)
        with open(path) as f:  # a missing file fails here, as it would fail cmake
            for line in f:
                m = re.match(r"(CONFIG_\w+)=(.*)", line.strip())
                if m:
                    settings[m.group(1)] = m.group(2).strip('"')
    return files, settings


def test_the_board_leaves_bluetooth_out_and_keeps_the_ota_layout():
    tree = default_tree()
    files, cfg = sdkconfig_defaults([os.path.join(BOARD_DIR, "mpconfigboard.cmake")], BOARD_DIR, tree)
    assert "boards/sdkconfig.ble" not in files
    assert files[:2] == ["boards/sdkconfig.base", "boards/ESP32_GENERIC/sdkconfig.ota"]
    assert cfg["CONFIG_BT_ENABLED"] == "n"
    assert not any(cfg.get(k) == "y" for k in ("CONFIG_BT_NIMBLE_ENABLED", "CONFIG_BT_CONTROLLER_ENABLED"))
    assert cfg["CONFIG_PARTITION_TABLE_CUSTOM_FILENAME"] == "partitions-4MiB-ota.csv"
    assert cfg["CONFIG_COMPILER_OPTIMIZATION_SIZE"] == "y"
    with open(os.path.join(BOARD_DIR, "mpconfigboard.h")) as f:
        header = f.read()
    assert re.search(r"^#define MICROPY_PY_BLUETOOTH\s+\(0\)", header, re.M)
    assert re.search(r'^#define MICROPY_HW_BOARD_NAME\s+"[^"]+"', header, re.M)
    with open(os.path.join(BOARD_DIR, "board.json")) as f:
        board = json.load(f)
    assert board["mcu"] == "esp32" and board["deploy_options"]["flash_offset"] == "0x1000"
    assert "BLE" not in board["features"]


def test_micropythons_own_ota_board_has_bluetooth_which_is_what_the_board_drops():
    tree = default_tree()
    generic = os.path.join(tree, "ports", "esp32", "boards", "ESP32_GENERIC")
    files, cfg = sdkconfig_defaults([os.path.join(generic, "mpconfigboard.cmake"),
                                     os.path.join(generic, "mpconfigvariant_OTA.cmake")], generic, tree)
    assert "boards/sdkconfig.ble" in files
    assert cfg["CONFIG_BT_ENABLED"] == "y" and cfg["CONFIG_BT_NIMBLE_ENABLED"] == "y"


# -- the OTA slot ------------------------------------------------------------------------------
def test_the_slot_size_is_the_ota_partition_of_micropythons_table():
    with open(os.path.join(default_tree(), "ports", "esp32", "partitions-4MiB-ota.csv")) as f:
        rows = [[c.strip() for c in line.split(",")] for line in f if not line.startswith("#")]
    sizes = {row[0]: int(row[4], 16) for row in rows if len(row) > 4}
    assert sizes["ota_0"] == sizes["ota_1"] == firmware_build.OTA_SLOT_BYTES == 0x180000


def test_an_app_image_bigger_than_the_ota_slot_is_refused(tmp_path):
    fits, too_big = tmp_path / "fits.bin", tmp_path / "micropython.bin"
    with open(fits, "wb") as f:
        f.truncate(0x180000)
    with open(too_big, "wb") as f:
        f.truncate(0x180000 + 1)
    assert firmware_build.check_app_size(str(fits)) == 0x180000
    with pytest.raises(firmware_build.FirmwareError) as err:
        firmware_build.check_app_size(str(too_big))
    assert str(err.value) == ("micropython.bin is 1572865 bytes, 1 over the OTA slot of 1572864 "
                              "bytes (0x180000): leave more out of the image")


# -- make flash, make erase --------------------------------------------------------------------
def test_flash_dry_run_writes_the_image_at_0x1000_then_copies_boot_and_config(tmp_path):
    config = str(tmp_path / "config.json")
    proc = tool("tools/flash.py", "flash", "--port", "/dev/ttyUSB9", "--config", config, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0] == ("esptool --chip esp32 --port /dev/ttyUSB9 --baud 460800 write-flash -z "
                        "0x1000 %s" % os.path.join(ROOT, "build", "esp32", "firmware.bin"))
    mpremote = shlex.split(lines[1])
    assert mpremote[:4] == ["mpremote", "connect", "/dev/ttyUSB9", "exec"]
    assert mpremote[4] == flash.cleanup_code()
    assert mpremote[5:] == ["+", "fs", "cp", os.path.join(ROOT, "boot.py"), ":boot.py",
                            "+", "fs", "cp", config, ":config.json", "+", "reset"]


def test_make_flash_and_erase_pass_the_port():
    proc = make("flash", "DRY_RUN=1", "PORT=/dev/ttyACM3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == ("esptool --chip esp32 --port /dev/ttyACM3 --baud 460800 write-flash -z "
                        "0x1000 %s" % os.path.join(ROOT, "build", "esp32", "firmware.bin"))
    assert lines[1].startswith("mpremote connect /dev/ttyACM3 exec ")
    assert lines[1].endswith(" + fs cp %s :boot.py + fs cp %s :config.json + reset" % (
        os.path.join(ROOT, "boot.py"), os.path.join(ROOT, "config.json")))
    proc = make("erase", "DRY_RUN=1", "PORT=/dev/ttyACM3")
    assert proc.stdout.splitlines() == ["esptool --chip esp32 --port /dev/ttyACM3 erase-flash"]


def board_after_make_deploy(root, own_lib=True):
    """A board's filesystem as `make deploy` leaves it (tools/deploy.py's layout), with the
    firmware's state, and optionally a library of the integrator's own in /lib."""
    for rel in devicefiles.deployable() + ["config.json", "state/journal.bin"]:
        if rel.startswith(("firmware/", "lib/")):
            rel = rel[:-3] + ".mpy"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    if own_lib:
        (root / "lib" / "mine.py").write_text("x")


def run_on_micropython(code):
    """The clean-up under the MicroPython unix port when installed (the .venv has one), else
    CPython: it is written for both."""
    interpreter = shutil.which("micropython", path=os.path.dirname(sys.executable)) or sys.executable
    proc = subprocess.run([interpreter, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, _, names in os.walk(root) for n in names)


def test_the_clean_up_removes_what_make_deploy_left_and_keeps_state_and_own_files(tmp_path):
    board_after_make_deploy(tmp_path)
    assert "firmware/app.mpy" in files_under(tmp_path) and "lib/logger.mpy" in files_under(tmp_path)
    out = run_on_micropython(flash.cleanup_code(str(tmp_path)))
    assert files_under(tmp_path) == ["boot.py", "config.json", "lib/mine.py", "state/journal.bin"]
    assert out.startswith("removed from make deploy: ")
    assert run_on_micropython(flash.cleanup_code(str(tmp_path))) == "removed from make deploy: 0"


def test_the_clean_up_removes_lib_when_only_make_deploy_used_it(tmp_path):
    board_after_make_deploy(tmp_path, own_lib=False)
    run_on_micropython(flash.cleanup_code(str(tmp_path)))
    assert sorted(os.listdir(tmp_path)) == ["boot.py", "config.json", "state"]


# -- the frozen application's size ----------------------------------------------------------
@pytest.mark.timeout(900)  # builds build/mp32 the first time (tools/build_micropython.py)
def test_frozen_app_bytes_is_a_plausible_size():
    app = frozen_size.frozen_app_bytes()
    assert isinstance(app, int) and 50_000 < app < firmware_build.OTA_SLOT_BYTES // 4
    assert frozen_size.frozen_app_bytes() == app  # cached, the same inputs give the same figure
    out = subprocess.run([sys.executable, "tools/frozen_size.py"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("frozen application: %d bytes (" % app)


@pytest.mark.timeout(900)
def test_frozen_app_is_smaller_than_the_frozen_builds_whole_frozen_content():
    proc = subprocess.run([sys.executable, "tools/build_micropython.py"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    with open(os.path.join(ROOT, "build", "mp32", "current.json")) as f:
        built = json.load(f)
    if not built["available"]:
        pytest.skip("no 32-bit MicroPython build: " + built["reason"])
    whole = frozen_size.measure("unix-frozen")
    # the same pipeline, on the frozen build's own manifest, gives its frozen_content.o exactly
    assert whole["bytes"] == built["frozen_frozen_bytes"]["total"]
    app = frozen_size.frozen_app_bytes()
    # the application part leaves out asyncio and ssl (the stock part) and the simulated board
    assert whole["bytes"] - app > built["plain_frozen_bytes"]["total"]
