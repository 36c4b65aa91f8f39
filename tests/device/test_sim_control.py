# Device tests of the control channel's command handling on a real SimBoard (files in a temp dir).
import json

from devtest import measures_heap, tempdir
from firmware.sim import control as sim_control
from firmware.sim.board import SimBoard


def board():
    cfg = {"connectors": 2, "sim": {"controlPort": 7700}}
    return SimBoard(cfg, state_dir=tempdir())


def test_state_reports_every_connector():
    b = board()
    state = json.loads(sim_control.handle(b, "state"))
    assert [c["connector"] for c in state["connectors"]] == [1, 2]
    first = state["connectors"][0]
    assert first["cp"] == "A" and first["relay"] == "open"
    assert first["pwmDutyPermille"] == 1000 and first["offeredA"] == 0
    assert first["meterWh"] == 0 and first["status"] == "Unknown"


def test_plug_cp_unplug():
    b = board()
    assert sim_control.handle(b, "plug 2") == "ok"
    assert b.sim[1].ev == "B" and b.proximity_ohm(2) == 220
    assert sim_control.handle(b, "cp 2 C") == "ok"
    assert b.sample_pilot(2) == (6000, 6000)
    assert sim_control.handle(b, "unplug 2") == "ok"
    assert b.sim[1].ev == "A" and b.proximity_ohm(2) is None


def test_swipe_is_taken_once():
    b = board()
    assert sim_control.handle(b, "swipe TAG-0001") == "ok"
    assert b.take_card() == "TAG-0001"
    assert b.take_card() is None


def test_weld_injects_a_fault():
    b = board()
    assert sim_control.handle(b, "weld 1 on") == "ok"
    b.set_relay(1, False)
    assert b.relay_feedback(1)
    assert sim_control.handle(b, "weld 1 off") == "ok"
    assert not b.relay_feedback(1)


def test_malformed_commands_get_one_error_line():
    b = board()
    for line in ("", "   ", "fly 1", "plug", "plug 1 2", "plug x", "plug 0", "plug 3",
                 "cp 1", "cp 1 G", "cp 1 c", "swipe", "swipe a b",
                 "swipe " + "x" * 21, "weld 1 maybe", "reset now", "state\x00"):
        answer = sim_control.handle(b, line)
        assert answer.startswith("error: "), (line, answer)
        assert "\n" not in answer
    assert sim_control.handle(b, "state").startswith("{")  # still working


def test_help_lists_the_commands():
    text = sim_control.handle(board(), "help")
    for cmd in ("plug", "unplug", "cp", "swipe", "state", "reset"):
        assert cmd in text


def test_stall_holds_the_caller_and_carries_out_its_command():
    b = board()
    assert sim_control.handle(b, "plug 1") == "ok"
    b.set_relay(1, True)  # closed, as a charging session has it (no Evse here to open it)
    answer = json.loads(sim_control.handle(b, "stall 60 20 unplug 1"))
    assert answer["heldMs"] >= 60 and b.sim[0].ev == "A", answer
    assert answer["relayOpenMs"] is None and answer["pwmOffMs"] == 0, answer  # never offered
    assert json.loads(sim_control.handle(b, "stall 30"))["heldMs"] >= 30
    for line in ("stall", "stall x", "stall -1", "stall 10001", "stall 50 20",
                 "stall 50 60 unplug 1", "stall 50 10 swipe T", "stall 50 10 unplug",
                 "stall 50 10 unplug 3", "stall 50 10 cp 1 G"):
        answer = sim_control.handle(b, line)
        assert answer.startswith("error: "), (line, answer)
    assert "stall" in sim_control.handle(b, "help")


@measures_heap  # a heap that grows on demand has no largest block
def test_mem_names_the_largest_block_that_still_fits():
    figures = json.loads(sim_control.handle(board(), "mem"))
    largest = figures["largest"]
    assert 0 < largest <= figures["free"] and largest % 16 == 0, figures
    assert 16 <= figures["within"] <= max(16, figures["free"] // 1024), figures
    held = bytearray(largest)  # it fits ...
    del held
    try:  # ... and `within` more does not (a bisection that kept a trial alive said half)
        bytearray(largest + figures["within"])
    except MemoryError:
        return
    assert False, ("a larger block fits", figures)
