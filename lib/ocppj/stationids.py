# The OCPP 2.0.1 transaction-id policy of the journal: the station's own ids, and seqNo.
"""StationIds: the station makes a transaction's id (OCPP 2.0.1 E01.FR.08), so it is known at
once and nothing is mapped; every TransactionEvent gets its seqNo (part 2 §1.3.2). The
interface is the one ocppj/journal.py describes.

    j = Journal(state_dir + "/journal201", ids=StationIds())
    p = {"eventType": "Started", ..., "transactionInfo": {"chargingState": "EVConnected"}}
    j.append("TransactionEvent", p, "start")
    tx_id = p["transactionInfo"]["transactionId"]          # filled in; p["seqNo"] == 0
    j.append("TransactionEvent", {"eventType": "Updated", ...,
                                  "transactionInfo": {"transactionId": tx_id}}, "meter")

Ids: appending a "start" record (the Started event) writes `<prefix>-<seq>` into its
transactionInfo.transactionId (at most 19 characters): the record's seq, which the journal
never hands out twice, and a prefix of 8 random hex digits kept in the log (type 9, body =
the prefix). The prefix is made afresh for a new log and after damage was found on opening it
(a seq may then come round again), so an id is not repeated across reboots, power cuts,
torn writes or a lost log.

seqNo: every record whose payload has transactionInfo.transactionId gets `seqNo`, 0 for the
Started event, then one more per event of that transaction (§1.3.2.1 counts per EVSE and
recommends 0 at each start; an EVSE has one transaction at a time, E01.FR.14, so this is that
counter). The caller's payload dict is filled in, so it reads the id and seqNo back. A seqNo is
fixed when its record is written and counted once the record is whole on flash, so a power
cut never repeats or skips one: on opening, each transaction's next seqNo is read back from its
newest record in the log, or from the count records (type 10: tx = key, seq = next seqNo) a
compaction writes for the transactions still open. An Ended event closes its counter; at most
`keep` transactions are counted (an event of one not counted gets seqNo 0, with a warning).
Thinned meter records leave gaps in seqNo, as E12.FR.04/05 allow.

The header's tx of a transaction's records is `key(transactionId)`, a 30-bit CRC of the id
(never 0), by which the journal groups them (thinning) and counts them; two open transactions
whose keys collide (odds about 1 in 10^9) would share a counter.
"""

import binascii

import logger
from crc import crc32

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

# journal.py's record types
_START = const(1)
_PREFIX = const(9)
_COUNT = const(10)
_HEAD_SIZE = const(18)


def key(tx_id):
    """The journal's key (its records' tx) of the transaction `tx_id`."""
    return crc32(tx_id.encode()) & 0x3FFFFFFF or 1  # a small int on a 32-bit port, never 0


def _random_hex(n):
    try:
        from os import urandom  # the ESP32's hardware generator
        raw = urandom(n)
    except (ImportError, AttributeError, OSError):
        import random
        raw = bytes([random.getrandbits(8) for _ in range(n)])
    return binascii.hexlify(raw).decode()


def _newest_per_tx(j):
    """For each transaction with records in j's log (delivered ones too: they stay in the file
    and the index until the next compaction), its newest that reads back, oldest first."""
    found = []
    if not j._n:
        return found  # perhaps no file yet
    seen = set()
    with open(j.path, "rb") as f:
        for i in range(j._n - 1, -1, -1):
            tx = j._txs[i]
            if tx and tx not in seen:
                rec = j._read(f, i)
                if rec is not None:
                    seen.add(tx)
                    found.append(rec)
    found.reverse()
    return found


class StationIds:
    """OCPP 2.0.1: the station's own ids, known at once; seqNo per transaction."""

    def __init__(self, keep=16):
        self.keep = keep  # transactions whose seqNo is counted
        self.reset()

    def reset(self):
        self.prefix = None  # of the ids made from now on; None: make one at the next start
        self._counts = []  # [key, next seqNo] of the open transactions, oldest first

    def _find(self, k):
        for c in self._counts:
            if c[0] == k:
                return c
        return None

    def _set(self, k, n):
        c = self._find(k)
        if c is None:
            self._counts.append([k, n])
            if len(self._counts) > self.keep:
                self._counts.pop(0)
        else:
            c[1] = n

    def _close(self, k):
        c = self._find(k)
        if c is not None:
            self._counts.remove(c)

    def next_seq_no(self, tx_id):
        """The seqNo the next event of transaction `tx_id` gets, or None if not counted."""
        c = self._find(key(tx_id))
        return None if c is None else c[1]

    def tag(self, j, typ, seq, payload):
        if typ == _START:
            if self.prefix is None:
                prefix = _random_hex(4)
                j._put(_PREFIX, 0, 0, prefix.encode())
                self.prefix = prefix
            info = payload.get("transactionInfo")
            if info is None:
                info = payload["transactionInfo"] = {}
            tx_id = info["transactionId"] = "%s-%d" % (self.prefix, seq)
            payload["seqNo"] = 0
            return key(tx_id), 0
        info = payload.get("transactionInfo")
        tx_id = info.get("transactionId") if isinstance(info, dict) else None
        if not isinstance(tx_id, str):
            return 0, 0  # not a TransactionEvent
        k = key(tx_id)
        c = self._find(k)
        if c is None:
            logger.get("journal").warn("transaction", tx_id, "not counted: its seqNo starts at 0")
        payload["seqNo"] = 0 if c is None else c[1]
        return k, 0

    def added(self, tx, payload):
        if tx:
            if payload.get("eventType") == "Ended":
                self._close(tx)
            else:
                self._set(tx, payload["seqNo"] + 1)

    def scan(self, typ, seq, tx, buf, length):
        if typ == _PREFIX and length == 8:
            self.prefix = bytes(buf[:8]).decode()
        elif typ == _COUNT and length == 0:
            self._set(tx, seq)
        else:
            return False
        return True

    def loaded(self, j, damaged):
        if damaged:  # a seq may come round again: ids with a fresh prefix from now on
            self.prefix = None
        # A transaction's newest record in the log is newer than its count record unless it
        # was kept live across the compaction that wrote the count: the larger number wins.
        for rec in _newest_per_tx(j):
            n = rec.payload.get("seqNo")
            if not isinstance(n, int):
                continue
            if rec.payload.get("eventType") == "Ended":
                self._close(rec.tx)
            else:
                c = self._find(rec.tx)
                self._set(rec.tx, n + 1 if c is None else max(c[1], n + 1))

    def kept(self, j):
        out = [] if self.prefix is None else [(_PREFIX, 0, 0, self.prefix.encode())]
        for k, n in self._counts:
            out.append((_COUNT, n, k, b""))
        return out

    def kept_bytes(self):
        return (0 if self.prefix is None else _HEAD_SIZE + 8) + _HEAD_SIZE * len(self._counts)

    def id_of(self, local_id):
        return None  # no local ids

    def map(self, j, local_id, server_id):
        raise ValueError("OCPP 2.0.1: the station's transaction ids are not mapped")

    def answered(self, j, record, answer):
        pass
