# Who makes a transaction's id, for the journal and its delivery: the OCPP version decides.
"""The transaction-id policy of a journal (ocppj/journal.py), given when it is built; its
Delivery (ocppj/delivery.py) uses the journal's. Two policies, one interface:

    Journal(folder)                        # ServerIds(), below: OCPP 1.6
    Journal(folder, ids=StationIds())      # ocppj/stationids.py: OCPP 2.0.1

ServerIds (OCPP 1.6 §3.7): the central system makes the id, in its StartTransaction.conf. Until
then the transaction has the local id -(seq + 1) of its start record (Journal.local_id); a stop
or meter record appended with a local id has flag bit 0 set and is sent with the central
system's id once Delivery has recorded it (map records, type 6: tx = local id, body = the id as
i32). The records on flash are those the journal wrote before the policies were split out.

StationIds (OCPP 2.0.1 E01.FR.08, part 2 §1.3): the station makes a string id, known at once,
and counts seqNo per transaction; nothing is mapped. It lives in a module of its own, imported
only by a 2.0.1 station.

The interface the journal calls (`j` the journal, `typ` a record type, `tx` the header's
transaction field):

    reset()                          the journal is about to read its log from the start
    tag(j, typ, seq, payload)        -> (tx, flags) of a data record about to be written (the
                                     payload may be filled in; nothing is counted yet)
    added(tx, payload)               that record is whole on flash
    scan(typ, seq, tx, buf, length)  a record of a type the journal does not know (its body in
                                     buf[:length] when length <= 128): False if it is not ours
    loaded(j, damaged)               the log is read (damaged: something was discarded)
    kept(j)                          [(typ, seq, tx, body)] a compaction writes after its base
                                     record, forgetting what is no longer needed
    kept_bytes()                     the bytes of those records (they are not garbage)
    server_id(tx)                    the central system's id for a local id, or None
    map(j, local_id, server_id)      Journal.map_transaction
    answered(j, record, answer)      Delivery: the central system's answer to `record`

A policy reaches into the journal's index and writes its records with `j._put`: the two are
one unit, split so that each version carries only its own rules.
"""

import struct

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

# journal.py's record types, header flag and index bits
_START = const(1)
_MAP = const(6)
_LOCAL = const(1)
_LOCAL_BIT = const(0x80)
_KIND_MASK = const(0x0F)
_HEAD_SIZE = const(18)
_I32_MIN = -0x80000000  # not const(): no small int on a 32-bit port
_I32_MAX = 0x7FFFFFFF


class ServerIds:
    """OCPP 1.6: local ids until the central system's StartTransaction.conf maps them."""

    def __init__(self):
        self.reset()

    def reset(self):
        self._maps = {}  # local id -> central system's id
        self._order = []  # local ids, oldest mapping first

    def tag(self, j, typ, seq, payload):
        if typ == _START:
            return -seq - 1, _LOCAL
        tx = payload.get("transactionId")
        if not isinstance(tx, int) or isinstance(tx, bool) or not _I32_MIN <= tx <= _I32_MAX:
            return 0, 0  # no transaction (or an id that does not fit): not grouped, not mapped
        if tx > -2:
            return tx, 0
        if tx in self._maps:
            return tx, _LOCAL
        i = j._find(-tx - 1)  # a local id if a live start record issued it
        return tx, _LOCAL if i >= 0 and j._kinds[i] & _KIND_MASK == _START else 0

    def added(self, tx, payload):
        pass

    def scan(self, typ, seq, tx, buf, length):
        if typ != _MAP or length != 4:
            return False
        self.map(None, tx, struct.unpack_from("<i", buf)[0])
        return True

    def loaded(self, j, damaged):
        pass

    def kept(self, j):
        # Mappings still needed by a live record, and the keep_maps most recent.
        used = set()
        for i in range(j._head, j._n):
            if j._kinds[i] & _LOCAL_BIT:
                used.add(j._txs[i])
        recent = self._order[-j.keep_maps:] if j.keep_maps > 0 else []
        keep = [t for t in self._order if t in used or t in recent]
        self._maps = {t: self._maps[t] for t in keep}
        self._order = keep
        return [(_MAP, 0, t, struct.pack("<i", self._maps[t])) for t in keep]

    def kept_bytes(self):
        return (_HEAD_SIZE + 4) * len(self._maps)

    def server_id(self, local_id):
        return self._maps.get(local_id)

    def map(self, j, local_id, server_id):
        """Record the mapping, durably in j's log (j None: read back from it)."""
        if j is not None:
            if not _I32_MIN <= local_id < -1 or not _I32_MIN <= server_id <= _I32_MAX:
                raise ValueError("transaction ids out of range")
            j._put(_MAP, 0, local_id, struct.pack("<i", server_id))
        self._maps[local_id] = server_id
        if local_id in self._order:
            self._order.remove(local_id)
        self._order.append(local_id)

    def answered(self, j, record, answer):
        if record.kind == "start":
            j.map_transaction(record.tx, answer["transactionId"])
