# The simulated board's control channel: line commands over TCP on 127.0.0.1.
"""Commands a person (or a test) types to drive the simulated EV, one per line.

    plug N            cable in, EV in state B
    unplug N          cable out (state A)
    cp N <A-F>        the EV presents this control-pilot state
    swipe <idTag>     present an RFID card (1 to 20 printable characters)
    weld N on|off     weld the relay contacts of connector N (fault injection)
    reset             press the board's reset button (the process exits 3; the runner restarts)
    stall MS [AT CMD] hold the asyncio loop for MS ms (at most 10000) in code that never yields;
                      AT ms into it carry out CMD (plug, unplug, cp or weld, as above) and
                      watch its connector: one JSON line, heldMs and, after a CMD, the ms
                      from it to the relay command opening (relayOpenMs) and to the PWM
                      withdrawal (pwmOffMs), null when they did not happen meanwhile, and
                      the ms the host kept the process off the CPU until the relay opened
                      (offCpuMs: pauses of the polling over OFF_CPU_MS)
    state             one JSON line with every connector's state
    mem               one JSON line on the Python heap after a collection (MicroPython
                      only; null figures under CPython): bytes in use, bytes free, the
                      largest block that can still be allocated in one piece, and how
                      close to it that figure is (within)
    modules           one JSON list of the firmware's modules imported (firmware.*)
    help              the list of commands

Every command answers one line: `ok`, `error: <reason>`, or (state) the JSON line.
A malformed line gets an error and the channel stays open.
"""

import asyncio
import gc
import json

from ticks import ticks_diff, ticks_ms

MAX_LINE = 256
HELP = ("commands: plug N, unplug N, cp N <A-F>, swipe <idTag>, weld N on|off, reset, state, "
        "mem, modules, stall MS [AT CMD], help")
MAX_STALL_MS = 10000


def _connector(board, word):
    try:
        n = int(word)
    except ValueError:
        return None, "connector must be a number, got " + repr(word)
    if not 1 <= n <= board.connectors:
        return None, "connector must be 1 to %d, got %d" % (board.connectors, n)
    return board.sim[n - 1], None


def _need(words, count, usage):
    if len(words) != count:
        return "usage: " + usage
    return None


def handle(board, line):
    """Carry out one command line on `board`; returns the one-line answer (no newline)."""
    words = line.split()
    if not words:
        return "error: empty command (try help)"
    cmd = words[0]
    if cmd in ("state", "help", "reset", "mem", "modules") and len(words) != 1:
        return "error: usage: " + cmd
    if cmd == "state":
        return json.dumps({"connectors": [c.state(i + 1) for i, c in enumerate(board.sim)]})
    if cmd == "help":
        return HELP
    if cmd == "mem":
        return json.dumps(heap_figures())
    if cmd == "modules":  # which of the firmware's modules are imported (only one version's)
        import sys
        return json.dumps(sorted(m for m in sys.modules if m.startswith("firmware")))
    if cmd == "reset":
        asyncio.create_task(board.press_reset())  # after this answer has gone out
        return "ok"
    if cmd == "stall":
        return stall(board, words)
    if cmd == "swipe":
        problem = _need(words, 2, "swipe <idTag>")
        if problem:
            return "error: " + problem
        tag = words[1]
        if len(tag) > 20:
            return "error: idTag longer than 20 characters"
        board.present_card(tag)
        return "ok"
    usage = {"plug": "plug N", "unplug": "unplug N", "cp": "cp N <A-F>",
             "weld": "weld N on|off"}.get(cmd)
    if usage is None:
        return "error: unknown command " + repr(cmd[:20]) + " (try help)"
    problem = _need(words, len(usage.split()), usage)
    if problem:
        return "error: " + problem
    conn, problem = _connector(board, words[1])
    if problem:
        return "error: " + problem
    if cmd == "plug":
        conn.plug()
    elif cmd == "unplug":
        conn.unplug()
    elif cmd == "cp":
        if words[2] not in ("A", "B", "C", "D", "E", "F"):
            return "error: pilot state must be one of A B C D E F"
        conn.ev = words[2]
    elif cmd == "weld":
        if words[2] not in ("on", "off"):
            return "error: usage: " + usage
        conn.welded = words[2] == "on"
    return "ok"


# A pause of the polling loop longer than this is the host scheduling the process out, not the
# timer's callback (which runs in well under 5 ms here).
OFF_CPU_MS = 20


def stall(board, words):
    """The `stall` command: the loop held, the EV side acting meanwhile. What opens the relay
    then is the safety timer (firmware/model/evse.py, Guard), not the loop."""
    usage = "error: usage: stall MS [AT plug|unplug|cp|weld ...]"
    try:
        hold_ms = int(words[1]) if len(words) > 1 else -1
        at_ms = int(words[2]) if len(words) > 2 else None
    except ValueError:
        return usage
    if not 0 <= hold_ms <= MAX_STALL_MS or (at_ms is None) != (len(words) <= 3):
        return usage
    conn = None
    if at_ms is not None:
        inner = words[3:]
        if not 0 <= at_ms <= hold_ms or inner[0] not in ("plug", "unplug", "cp", "weld"):
            return usage
        if len(inner) < 2:
            return "error: usage: " + inner[0] + " N ..."
        conn, problem = _connector(board, inner[1])
        if problem:
            return "error: " + problem
    start = last = ticks_ms()
    acted = None
    relay_open = pwm_off = None
    answer = None
    off_cpu = 0  # ms the host took this process off the CPU while the relay was to open
    while True:  # never yields: only the timer's callback runs meanwhile, between bytecodes
        now = ticks_ms()
        gap = ticks_diff(now, last)
        last = now
        if acted is not None and relay_open is None and gap > OFF_CPU_MS:
            off_cpu += gap  # no code of ours ran: not the firmware's delay (no OS on a board)
        t = ticks_diff(now, start)
        if t >= hold_ms:
            break
        if conn is None:
            continue
        if acted is None:
            if t >= at_ms:  # type: ignore
                answer = handle(board, " ".join(words[3:]))
                if answer != "ok":
                    return answer
                acted = now
            continue
        if relay_open is None and not conn.relay_cmd:
            relay_open = ticks_diff(now, acted)
        if pwm_off is None and conn.duty == 1000:
            pwm_off = ticks_diff(now, acted)
    held = {"heldMs": ticks_diff(ticks_ms(), start)}
    if conn is not None:
        held["relayOpenMs"] = relay_open
        held["pwmOffMs"] = pwm_off
        held["offCpuMs"] = off_cpu
    return json.dumps(held)


def heap_figures():
    """The heap after a full collection. `largest` is the largest block that can still be
    allocated in one piece, to within `within` bytes: it shows fragmentation that `free`
    alone hides. It is found by trying sizes from `free` down, `within` bytes at a time (16,
    a block, up to 16 KB free; at most 1,024 trials above), and the first that fits ends the
    search. Only failures come before it, so no trial block is alive when the next is tried:
    a bisection frees blocks that fit, and a stale word on the stack can keep one of them
    through the collection of the next trial and halve the answer (seen: 8,192 of a true
    16,000). `alloc` and `free` are read before the trials, for the same reason."""
    gc.collect()
    if not hasattr(gc, "mem_alloc"):  # CPython
        return {"alloc": None, "free": None, "largest": None, "within": None}
    alloc, free = gc.mem_alloc(), gc.mem_free()
    step = max(16, free // 1024 // 16 * 16)
    largest = free - free % 16
    while largest > 0:
        try:
            bytearray(largest)  # a failed allocation collects the heap before it gives up
            break
        except MemoryError:
            largest -= step
    gc.collect()  # the trial's block goes now, not at the firmware's next collection
    return {"alloc": alloc, "free": free, "largest": max(largest, 0), "within": step}


async def _serve_client(board, reader, writer, log):
    # CPython passes a reader and a writer; MicroPython passes one stream twice.
    try:
        while True:
            raw = await reader.readline()
            if not raw.endswith(b"\n"):
                break  # end of stream: a half-sent command is not carried out
            if len(raw) > MAX_LINE:
                answer = "error: line longer than %d bytes" % MAX_LINE
            else:
                try:
                    answer = handle(board, raw.decode().strip())
                except UnicodeError:
                    answer = "error: not UTF-8"
                except Exception as e:  # a bug here must not take the channel down
                    log.error("control channel:", repr(e))
                    answer = "error: internal"
            writer.write(answer.encode() + b"\n")
            await writer.drain()
    except OSError:
        pass  # the client went away
    finally:
        writer.close()
        await writer.wait_closed()


async def serve(board, port, log):
    """Start the control-channel server; returns the asyncio server."""
    return await asyncio.start_server(
        lambda r, w: _serve_client(board, r, w, log), "127.0.0.1", port)
