# End to end: the firmware process with its asyncio loop held for 2 s by code that never yields
# (the control channel's `stall`), while the EV leaves, the pilot goes to E or F, or the
# contacts weld. The relay opens within 100 ms of wall time all the same (the safety timer,
# firmware/model/evse.py Guard), and once the loop runs again it tells the central system.
import asyncio
import json
import time

import pytest

from cpharness import Harness
from simproc import micropython

HOLD_MS = 2000
AT_MS = 500
BOUND_MS = 100

INTERPRETERS = [pytest.param(None, id="cpython"),
                pytest.param(micropython(), id="micropython", marks=pytest.mark.skipif(
                    micropython() is None, reason="no micropython (unix port) on PATH"))]


async def charging(h):
    assert await h.ctl("plug 1") == "ok"
    await h.status("Preparing")
    assert await h.ctl("swipe TAG-HELD") == "ok"
    await h.cs.wait_for("StartTransaction", "CP_1")
    assert await h.ctl("cp 1 C") == "ok"
    await h.status("Charging")
    await h.wait_state(1, lambda s: s["relay"] == "closed")


async def held(h, command):
    """`stall` with `command` AT_MS into it: the answer, after checking the loop was held."""
    started = time.monotonic()
    answer = await h.ctl("stall %d %d %s" % (HOLD_MS, AT_MS, command))
    took_ms = (time.monotonic() - started) * 1000
    assert answer.startswith("{"), answer
    result = json.loads(answer)
    print("%s: relay open after %s ms, PWM off after %s ms (held %s ms, off the CPU %s ms)" % (
        command, result["relayOpenMs"], result["pwmOffMs"], result["heldMs"],
        result.get("offCpuMs")))
    assert result["heldMs"] >= HOLD_MS and took_ms >= HOLD_MS - 5, (result, took_ms)
    return result


def opened_in_time(result):
    # Time the host kept the whole process off the CPU (a loaded test machine; a board has no
    # such thing) is not the firmware's: it is measured and left out.
    assert result["relayOpenMs"] is not None, result
    assert result["relayOpenMs"] - result["offCpuMs"] < BOUND_MS, result
    assert result["pwmOffMs"] is not None and result["pwmOffMs"] <= result["relayOpenMs"], result


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_ev_leaves_while_the_loop_is_held(tmp_path, interpreter):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await charging(h)
        opened_in_time(await held(h, "unplug 1"))
        stop = await h.cs.wait_for("StopTransaction", "CP_1")
        assert stop["reason"] == "EVDisconnected", stop
        await h.status("Available")
        assert (await h.state())["relay"] == "open"


@pytest.mark.parametrize("interpreter", INTERPRETERS)
@pytest.mark.parametrize("pilot", ["E", "F"])
async def test_pilot_error_while_the_loop_is_held(tmp_path, interpreter, pilot):
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await charging(h)
        opened_in_time(await held(h, "cp 1 " + pilot))
        # Not Faulted (status.FAULTING): a suspended session reporting the error.
        await h.cs.wait_for("StatusNotification", "CP_1", lambda p: p["connectorId"] == 1 and (
            p["errorCode"] == "EVCommunicationError"), timeout=10)
        s = await h.state()
        assert s["relay"] == "open" and s["pwmDutyPermille"] == 1000, s


@pytest.mark.parametrize("interpreter", INTERPRETERS)
async def test_weld_while_the_loop_is_held(tmp_path, interpreter):
    # Contacts that weld while closed read like closed contacts: the weld shows when the relay
    # opens (here the EV stops asking, C -> B, during the held loop). The relay command opens
    # within 100 ms; the feedback disagreeing for the settle time (500 ms) is the fault, and the
    # PWM goes then, the loop still held.
    async with Harness(tmp_path, interpreter=interpreter) as h:
        await charging(h)
        assert await h.ctl("weld 1 on") == "ok"
        await asyncio.sleep(0.3)
        assert (await h.state())["pwmDutyPermille"] < 1000, "a weld under a closed relay is unseen"
        result = await held(h, "cp 1 B")
        assert result["relayOpenMs"] is not None and result["relayOpenMs"] < BOUND_MS, result
        assert result["pwmOffMs"] is not None and (
            500 <= result["pwmOffMs"] < result["relayOpenMs"] + 500 + BOUND_MS), result
        faulted = await h.status("Faulted")
        assert faulted["errorCode"] == "PowerSwitchFailure", faulted
