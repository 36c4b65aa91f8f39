# Power cuts against a 2.0.1 journal (StationIds): a child process (CPython, and the MicroPython
# unix port when present) appends TransactionEvents in a loop and is killed with SIGKILL at
# random moments; after each kill the ids must still be new and every seqNo the next one.
"""The child prints `A <i> <seq> <transactionId> <seqNo> <eventType>` after each append
returned. It starts a transaction, sends Updated events and ends it every few events; it
acks and compacts as it goes, so the counts survive in count records as well as in live
records. The next child continues the transaction the last one left open (the parent passes
its id), as a station's application would after a reboot. After each kill the parent opens
a copy of the journal and checks:

- every transactionId a Started event got was never made before (across all rounds);
- each transaction's seqNos, in the order they were announced, are 0, 1, 2, ...: a round
  continues where the last one stopped, or one further when the append the kill interrupted
  had reached the flash whole (then that record is in the journal, unannounced, with the
  missing number);
- the journal says the same: the next seqNo of the open transaction is the one after the
  last it stored.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from simproc import ROOT, micropython

sys.path.insert(0, os.path.join(ROOT, "lib"))
from ocppj.journal import Journal  # noqa: E402
from ocppj.stationids import StationIds  # noqa: E402

BOUNDS = {"max_records": 40, "max_bytes": 8000, "compact_bytes": 1024}

CHILD = r'''
import sys
lib, folder, base, open_id = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, lib)
import logger
logger.set_sink(lambda line: sys.stderr.write(line + "\n"))
from ocppj.journal import Journal
from ocppj.stationids import StationIds

j = Journal(folder, ids=StationIds(), **%(bounds)r)
tx = None if open_id == "-" else open_id
i = base
while True:
    if tx is None:
        event, kind, info = "Started", "start", {}
    else:
        event = "Ended" if i %% 9 == 8 else "Updated"
        kind = "stop" if event == "Ended" else "meter"
        info = {"transactionId": tx}
    p = {"eventType": event, "transactionInfo": info, "pad": "p" * (i %% 61)}
    seq = j.append("TransactionEvent", p, kind)
    tid = p["transactionInfo"]["transactionId"]
    print("A", i, seq, tid, p["seqNo"], event)
    tx = None if event == "Ended" else tid
    while j.count() > (i * 7) %% 25:
        j.ack(j.peek().seq)
    if i %% 5 == 0:
        j.compact()
    i += 1
'''


def interpreters():
    found = [pytest.param([sys.executable, "-u"], id="cpython")]
    mp = micropython()
    found.append(pytest.param([mp] if mp else None, id="micropython",
                              marks=pytest.mark.skipif(mp is None, reason="no micropython")))
    return found


class Story:
    """What the children announced, over every round."""

    def __init__(self):
        self.made = set()  # every transactionId a Started event got
        self.next = {}  # transactionId -> the seqNo its next event must get
        self.announced = {}  # seq -> (transactionId, seqNo)
        self.open_id = "-"  # the transaction the next child continues

    def read(self, text, where):
        for line in text.split("\n")[:-1]:  # the last line may have been cut by the kill
            _, i, seq, tid, n, event = line.split()
            n = int(n)
            if event == "Started":
                assert tid not in self.made, "%s: id %s made twice" % (where, tid)
                self.made.add(tid)
                self.next[tid] = 0
            assert n == self.next[tid], "%s: %s got seqNo %d, not %d" % (
                where, tid, n, self.next[tid])
            self.next[tid] = n + 1
            self.announced[int(seq)] = (tid, n)
            self.open_id = "-" if event == "Ended" else tid


def check(folder, story, where):
    # A copy is opened (and repaired): the next child finds the folder as the kill left it.
    copy = folder + ".check"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(folder, copy)
    j = Journal(copy, ids=StationIds(), **BOUNDS)
    unannounced = []
    for r in j.records():
        got = (r.payload["transactionInfo"]["transactionId"], r.payload["seqNo"])
        if r.seq in story.announced:
            assert story.announced[r.seq] == got, (where, r.seq, got)
        else:
            unannounced.append((r.payload["eventType"],) + got)
    assert len(unannounced) <= 1, "%s: records nobody appended: %r" % (where, unannounced)
    for event, tid, n in unannounced:  # the interrupted append reached the flash whole
        if event == "Started":
            assert tid not in story.made and n == 0, (where, tid, n)
            story.made.add(tid)  # left open for good: nobody knows it
        else:
            assert n == story.next[tid], "%s: the interrupted append has %d, not %d" % (
                where, n, story.next[tid])
            story.next[tid] = n + 1
            if event == "Ended":
                story.open_id = "-"
    if story.open_id != "-":
        stored = j.ids.next_seq_no(story.open_id)
        assert stored == story.next[story.open_id], "%s: the journal would go on at %r, not %d" % (
            where, stored, story.next[story.open_id])


@pytest.mark.parametrize("interpreter", interpreters())
def test_power_cuts_neither_repeat_an_id_nor_repeat_or_skip_a_seq_no(tmp_path, interpreter):
    script = tmp_path / "child.py"
    script.write_text(CHILD % {"bounds": BOUNDS})
    rng = random.Random(20261202)
    folder = str(tmp_path / "journal201")
    story = Story()
    continued = 0
    for r in range(12):
        resumed = story.open_id
        err = open(tmp_path / "child.err", "wb")
        child = subprocess.Popen(interpreter + [str(script), os.path.join(ROOT, "lib"), folder,
                                                str((r + 1) * 100000), resumed],
                                 stdout=subprocess.PIPE, stderr=err)
        first = child.stdout.readline()  # the journal is open and working
        time.sleep(rng.uniform(0.02, 0.25))
        child.send_signal(signal.SIGKILL)
        out = first.decode() + child.communicate()[0].decode()
        err.close()
        assert child.returncode == -signal.SIGKILL, (tmp_path / "child.err").read_text()
        assert out.startswith("A "), "the child failed: %r %s" % (
            out[:200], (tmp_path / "child.err").read_text())
        assert "not counted" not in (tmp_path / "child.err").read_text(), "a counter was lost"
        where = "round %d" % r
        story.read(out, where)
        check(folder, story, where)
        continued += resumed != "-"
    assert continued >= 3, "too few rounds went on with a transaction left open"
    assert len(story.made) >= 12, story.made
