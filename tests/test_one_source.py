# One source of truth in the device code: facts the issues found stated twice, checked by
# reading the sources (issue 9, item 18).
import os
import re

from simproc import ROOT
from tools import devicefiles


def device_sources():
    for path in devicefiles.all_files():
        with open(os.path.join(ROOT, path)) as f:
            yield path, f.read()


def test_the_ca_file_is_read_in_one_place():
    # The WebSocket, firmware downloads and log uploads trust the same roots: one reading.
    reads = [(path, line.strip()) for path, text in device_sources()
             for line in text.splitlines() if re.search(r"""\[["']caFile["']\]""", line)]
    assert len(reads) == 1, reads


def test_the_connector_fault_codes_are_listed_once():
    lists = [path for path, text in device_sources()
             if re.search(r"""^\w+ = \(\s*(ev\.POWER_SWITCH_FAILURE|"PowerSwitchFailure")""",
                          text, re.M)]
    assert lists == ["firmware/model/status.py"], lists


def test_the_p256_programs_and_table_are_what_their_generator_writes():
    # lib/ota/p256g.py is written by tools/gen_p256g.py (the programs in symbolic form, G's
    # table from ota.ecdsa's integers); its opcodes are lib/ota/p256v.py's.
    from tools import gen_p256g
    with open(os.path.join(ROOT, "lib", "ota", "p256g.py")) as f:
        assert f.read() == gen_p256g.text(), "run tools/gen_p256g.py"
    with open(os.path.join(ROOT, "lib", "ota", "p256v.py")) as f:
        source = f.read()
    for name in ("END", "MUL", "SQR", "ADD", "SUB", "COPY", "BAILZ", "LADDER"):
        found = re.search(r"^%s = const\((\d+)\)" % name, source, re.M)
        assert found and int(found.group(1)) == getattr(gen_p256g, name), name
