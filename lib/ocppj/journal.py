# The transaction journal: transaction messages kept on flash until delivered.
"""An append-only, CRC-framed record log that keeps transaction-related messages (OCPP 1.6
§3.7; 2.0.1 E12/E13) across power loss until the central system has answered them.

    j = Journal(state_dir + "/journal")
    seq = j.append("StartTransaction", payload, "start")   # durable once it returns
    tx = Journal.local_id(seq)          # the transaction's id until the central system's is known
    j.append("MeterValues", {"connectorId": 1, "transactionId": tx, ...}, "meter")
    rec = j.peek()                      # the oldest undelivered Record due, or None
    j.map_transaction(rec.tx, 4711)     # the StartTransaction.conf's id (Delivery does this)
    j.ack(rec.seq)                      # delivered; durable once it returns
    j.set_aside(rec.seq)                # refused for good: kept, but no longer first in line
    j.aside(); j.get(seq)               # the seqs set aside, oldest first; one live Record

    j = Journal(state_dir + "/journal201", ids=StationIds())         # OCPP 2.0.1
    seq = j.append("TransactionEvent", {"eventType": "Started", ...}, "start")
    # the payload now has transactionInfo.transactionId (the station's id) and seqNo 0

Transaction ids: who makes them is the id policy the journal is built with (`ids`; the
interface is described at the end of this docstring; Delivery uses the journal's): ServerIds (here, the
default, OCPP 1.6), the central system's id mapped onto a local one as below; StationIds
(ocppj/stationids.py, OCPP 2.0.1), the station's own string id written into the start
record's payload and a seqNo into every TransactionEvent's, nothing mapped, the records of a
transaction grouped by a key of its id (stationids.key). The journal calls the policy when it
appends, reads, opens and compacts; the policy's state on flash is in records of its own
(types 6, 9, 10).

Payloads are dicts as the encoder takes them: plain JSON values plus the encoder's holders
`Timestamp` and `Decimal`. The journal stores the holders in a tagged form ({"$ts": s},
{"$dec": [mantissa, scale, quoted]}) and gives them back as holders, so a frame sent after a
reboot is the frame that would have been sent at once; None values (unset fields) are left out.

Local transaction ids (ServerIds): a start record's transaction is `local_id(seq) =
-(seq + 1)`, always <= -2 (-1 is errata 3.18's "no id known"). A stop or meter record whose
top-level `transactionId` is a local id this journal issued is sent with the central system's
id once `map_transaction` has recorded it. Mappings are kept while a live record needs them and
for the `keep_maps` most recent transactions; the application should switch to the central
system's id once it knows it (`server_id(local)`). Limitation: a central system that hands out
negative transactionIds could collide with a local id appended later; errata 3.54 recommends
positive ids.

On flash (folder/log; folder/log.tmp only during compaction), a sequence of records, little
endian, each an 18-byte header and a body:

    0 magic b"\\xfeJ"   2 type   3 flags   4 body length (u16)   6 seq (i32)   10 tx (i32)
    14 CRC-32 of bytes 2..13 and the body            18 body

    type 1 start, 2 stop, 3 meter: body = JSON [action, payload]; tx = the transaction the
           record refers to (flags bit 0: tx is a local id to substitute)
    type 4 ack(seq), 5 thinned(seq): the data record `seq` is done (no body)
    type 6 map: tx = local id, body = the central system's id (i32)        (ServerIds)
    type 7 base: seq = the next sequence number (first record of a compacted file)
    type 8 aside(seq): the data record `seq` is set aside (no body)
    type 9 prefix: body = the prefix of the station's ids (8 hex digits)   (StationIds)
    type 10 count: tx = a transaction's key, seq = its next seqNo          (StationIds)

A compacted file starts with the base record, then the id policy's records (the mappings still
needed, or the prefix and the counts of the open transactions), then the live records.

Set aside (ocppj/delivery.py decides when: a message the central system keeps refusing): the
record stays live and on flash, but peek() passes over it, and, for a start record, over the
records of its transaction that still carry its local id (they wait for the transactionId
its StartTransaction.conf will give; under StationIds nothing waits: the id is known);
everything else is delivered in order past it. The mark
survives reopening and compaction; it ends with the record (ack, or thinning of a meter
record). An older firmware reads an aside record as damage and skips it: the data records
are unharmed.

Every write is flushed (LittleFS commits it) and fsync'd where os.fsync exists before the call
returns. On open the log is scanned record by record (never loaded whole): a record whose
magic, length or CRC is wrong (torn by power loss, or a damaged block) is discarded with an
error log line, the scan resynchronises on the next magic (0xFE never occurs in UTF-8 JSON), and
the file is rewritten without it. Compaction copies the live records into log.tmp, fsyncs it and
renames it over log (atomic on LittleFS and POSIX): a power cut leaves either file whole.

Bounds: at most `max_records` live records and `max_bytes` of them. Over a bound, a meter record
is thinned (see _pick_meter): in the oldest transaction with meter values between its first
and last, the one whose removal leaves the smallest gap, so the samples left stay evenly
spread; each transaction keeps its first and last meter values in the journal. Start and stop
records are never dropped: if only they are left the bound is exceeded and an error is logged
(once). The log file stays below about 2 x live bytes + compact_bytes (plus a copy of the live
bytes during compaction).

All methods are synchronous (no await inside), so tasks never see the journal half changed.

RAM: an index of 15 bytes per record (seq, offset, tx, size, kind), dead entries included
until the next compaction (at most max_records / 2 of them), plus the id policy's state (the
mappings; or the prefix and a counter per open transaction). Its arrays have room for
`_MIN_SLOTS` entries and double when full; compaction moves the live entries down in place.
An array grown one append at a time (MicroPython adds 8 items per step) is moved to a new
block every 8 records, and in a small heap that churn fragments it until a backlog of a few
hundred records cannot find the block for the next step.

The transaction-id policy (ServerIds below; ocppj/stationids.py's StationIds):
The transaction-id policy of a journal (ocppj/journal.py), given when it is built; its
Delivery (ocppj/delivery.py) uses the journal's. Two policies, one interface:

    Journal(folder)                        # ServerIds(): OCPP 1.6
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
    id_of(tx)                        the central system's id for a local id, or None
    map(j, local_id, server_id)      Journal.map_transaction
    answered(j, record, answer)      Delivery: the central system's answer to `record`

A policy reaches into the journal's index and writes its records with `j._put`: the two are
one unit, split so that each version carries only its own rules.
"""

import json
import os
import struct
from array import array

import atomicfile
import logger
from crc import crc32 as _crc
from ocppj.encoder import Decimal, Timestamp

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

log = logger.get("journal")

_MAGIC = b"\xfeJ"
_HEAD = "<2sBBHii"  # magic, type, flags, length, seq, tx; the CRC follows
_HEAD_SIZE = const(18)
_START = const(1)
_STOP = const(2)
_METER = const(3)
_ACK = const(4)
_THIN = const(5)
_BASE = const(7)
_ASIDE = const(8)
_LAST_TYPE = const(10)  # 6, 9 and 10 are the id policy's (ServerIds below, stationids.py)
_MAP = const(6)  # ServerIds' record type: tx = local id, body = the central system's id
_I32_MIN = -0x80000000  # not const(): no small int on a 32-bit port
_I32_MAX = 0x7FFFFFFF
_LOCAL = const(1)  # flags: tx is a local id
_LOCAL_BIT = const(0x80)  # the same, in the index's kind byte
_ASIDE_BIT = const(0x40)  # the index's kind byte: set aside
_KIND_MASK = const(0x0F)  # the index's kind byte: the type
# "message": a message of no transaction (a security event), kept as a stop record is: never
# thinned, sent in order.
_KINDS = {"start": _START, "stop": _STOP, "meter": _METER, "message": _STOP}
_NAMES = (None, "start", "stop", "meter")
_CHUNK = const(128)  # bytes read at a time while scanning and copying
_MIN_SLOTS = const(32)  # index entries room is made for at first


def _frame(typ, flags, seq, tx, body=b""):
    head = struct.pack(_HEAD, _MAGIC, typ, flags, len(body), seq, tx)
    return head + struct.pack("<I", _crc(body, _crc(head[2:]))) + body


def _plain(v):
    """A JSON-able copy of a payload value; the encoder's holders become tagged dicts."""
    if isinstance(v, dict):
        out = {}
        for k in v:
            if v[k] is not None:  # the encoder leaves unset fields out, so does the journal
                out[k] = _plain(v[k])
        return out
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, Timestamp):
        return {"$ts": v.s}
    if isinstance(v, Decimal):
        return {"$dec": [v.mantissa, v.scale, 1 if v.quoted else 0]}
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode()  # the encoder writes bytes as UTF-8 text
    return v


def _restore(v):
    """The inverse of _plain, in place: tagged dicts become holders again."""
    if isinstance(v, dict):
        if len(v) == 1:
            if "$ts" in v:
                return Timestamp(v["$ts"])
            if "$dec" in v:
                m, scale, quoted = v["$dec"]
                return Decimal(m, scale, bool(quoted))
        for k in v:
            v[k] = _restore(v[k])
    elif isinstance(v, list):
        for i in range(len(v)):
            v[i] = _restore(v[i])
    return v


def _sync_dir(folder):
    # CPython: make a rename durable. MicroPython has no os.open; LittleFS commits the rename.
    os_open = getattr(os, "open", None)
    if os_open is None:
        return
    try:
        fd = os_open(folder, getattr(os, "O_RDONLY", 0))
    except OSError:
        return
    try:
        getattr(os, "fsync")(fd)
    except OSError:
        pass
    getattr(os, "close")(fd)


def _durable(f):
    f.flush()  # LittleFS: lfs_file_sync, the data is committed
    if hasattr(os, "fsync"):
        os.fsync(f.fileno())  # CPython: through the page cache to the disk


class Record:
    """One undelivered message: `seq`, `kind` ("start", "stop", "meter"), `action`,
    `payload` (ready to send: holders restored, the central system's transactionId in), and
    `tx`: the transaction it belongs to (ServerIds: for a start record its local id;
    StationIds: the key of its transactionId)."""

    def __init__(self, seq, kind, action, payload, tx):
        self.seq = seq
        self.kind = kind
        self.action = action
        self.payload = payload
        self.tx = tx

    def __repr__(self):
        return "Record(%d, %s, %s, tx=%d)" % (self.seq, self.kind, self.action, self.tx)


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

    def id_of(self, local_id):
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


class Journal(ServerIds):
    def __init__(self, folder, max_records=200, max_bytes=49152, max_record_bytes=4096,
                 keep_maps=16, compact_bytes=4096, ids=None):
        # the transaction-id policy: the journal itself is the 1.6 one (ServerIds, its base
        # class: no object of its own at boot), or the one given
        self.ids = self if ids is None else ids
        self.folder = folder
        self.path = folder + "/log"
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_record_bytes = min(max_record_bytes, 65000)  # sizes are u16
        self.keep_maps = keep_maps
        self.compact_bytes = compact_bytes
        # One scratch buffer and fixed views of it: scanning allocates little per record.
        self._buf = bytearray(_CHUNK)
        self._mv = memoryview(self._buf)
        self._head_mv = self._mv[:_HEAD_SIZE]
        self._crc_mv = self._mv[2:14]
        self._over = False  # over a bound with nothing left to thin (logged once)
        atomicfile.makedirs(folder)
        self._load()

    # -- the index -----------------------------------------------------------------------
    def _reset(self):
        self._slots = 0
        self._grow(_MIN_SLOTS)
        self._n = 0  # entries in the index (the arrays have room for _slots)
        self._head = 0  # index of the first entry that may be live
        self._dead = 0  # done entries still in the index
        self.live = 0  # live records
        self.live_bytes = 0  # their bytes on flash
        self.aside_count = 0  # live records set aside
        self.size = 0  # bytes in the log file
        self._next = 1  # next sequence number
        self.ids.reset()

    def _grow(self, slots):
        """Room for `slots` index entries, the present ones kept."""
        n = self._slots and self._n
        arrays = []
        for code, size, old in (("i", 4, "_seqs"), ("i", 4, "_offs"), ("i", 4, "_txs"),
                                ("H", 2, "_sizes")):
            new = array(code, bytes(size * slots))
            for i in range(n):
                new[i] = getattr(self, old)[i]
            arrays.append(new)
        kinds = bytearray(slots)  # kind | _LOCAL_BIT | _ASIDE_BIT, 0 when done
        if n:
            kinds[:n] = self._kinds[:n]
        self._seqs, self._offs, self._txs, self._sizes = arrays
        self._kinds = kinds
        self._slots = slots

    def _add(self, seq, off, tx, size, kind):
        n = self._n
        if n == self._slots:
            self._grow(2 * n)
        self._seqs[n] = seq
        self._offs[n] = off
        self._txs[n] = tx
        self._sizes[n] = size
        self._kinds[n] = kind
        self._n = n + 1
        self.live += 1
        self.live_bytes += size

    def _find(self, seq):
        """Index of the entry with `seq`, or -1 (the seqs are ascending)."""
        lo, hi = self._head, self._n
        while lo < hi:
            mid = (lo + hi) // 2
            if self._seqs[mid] < seq:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < self._n and self._seqs[lo] == seq else -1

    def _done(self, i):
        if self._kinds[i] & _ASIDE_BIT:
            self.aside_count -= 1
        self._kinds[i] = 0
        self.live -= 1
        self.live_bytes -= self._sizes[i]
        self._dead += 1
        n = self._n
        while self._head < n and not self._kinds[self._head]:
            self._head += 1

    # -- opening: scan, resynchronise past damage, rewrite if needed ------------------------
    def _load(self, compact=True):
        self._reset()
        try:
            os.remove(self.path + ".tmp")  # a compaction cut short: the old log is whole
        except OSError:
            pass
        try:
            f = open(self.path, "rb")
        except OSError:
            return  # a new journal
        with f:
            end = f.seek(0, 2)
            pos = bad = 0
            while pos < end:
                nxt = self._scan_one(f, pos, end)
                if nxt < 0:  # not a whole, intact record: skip to the next magic
                    nxt = self._resync(f, pos + 1, end)
                    bad += nxt - pos
                pos = nxt
            self.size = end
        if bad:
            log.error("discarded %d damaged bytes of %s (torn by power loss or corrupt)"
                      % (bad, self.path))
        self.ids.loaded(self, bad > 0)
        if compact:
            self._maybe_compact(bad > 0)

    def _scan_one(self, f, pos, end):
        """Check and apply the record at `pos`; its end, or -1 when it is not intact."""
        if pos + _HEAD_SIZE > end:
            return -1
        buf = self._buf
        f.seek(pos)
        if f.readinto(self._head_mv) != _HEAD_SIZE:
            return -1
        magic, typ, flags, length, seq, tx = struct.unpack_from(_HEAD, buf)
        (crc,) = struct.unpack_from("<I", buf, 14)
        nxt = pos + _HEAD_SIZE + length
        if magic != _MAGIC or not _START <= typ <= _LAST_TYPE or nxt > end:
            return -1
        c = _crc(self._crc_mv)
        left = length
        while left >= _CHUNK:  # whole chunks straight into the buffer: no view to allocate
            if f.readinto(buf) != _CHUNK:
                return -1
            c = _crc(buf, c)
            left -= _CHUNK
        if left:
            tail = self._mv[:left]
            if f.readinto(tail) != left:
                return -1
            c = _crc(tail, c)
        if c != crc:
            return -1
        if typ <= _METER:
            if self._n and seq <= self._seqs[self._n - 1]:
                return -1  # out of order: never written by this code, not trusted
            self._add(seq, pos, tx, nxt - pos, typ | (_LOCAL_BIT if flags & _LOCAL else 0))
            self._next = max(self._next, seq + 1)
        elif typ == _ACK or typ == _THIN:
            i = self._find(seq)
            if i >= 0 and self._kinds[i]:
                self._done(i)
        elif typ == _ASIDE:
            i = self._find(seq)
            if i >= 0 and self._kinds[i] and not self._kinds[i] & _ASIDE_BIT:
                self._kinds[i] |= _ASIDE_BIT
                self.aside_count += 1
        elif typ == _BASE:
            self._next = max(self._next, seq)
        elif not self.ids.scan(typ, seq, tx, buf, length):
            return -1
        return nxt

    def _resync(self, f, pos, end):
        """Offset of the next magic at or after `pos`, or `end`."""
        mv = self._mv
        while pos < end - 1:
            f.seek(pos)
            n = f.readinto(mv)
            if not n or n < 2:
                break
            i = bytes(mv[:n]).find(_MAGIC)
            if i >= 0:
                return pos + i
            pos += n - 1  # the magic may straddle two chunks
        return end

    # -- writing -----------------------------------------------------------------------------
    def _write(self, *records):
        """Append whole records durably; the offset of the first."""
        with open(self.path, "ab") as f:
            off = f.seek(0, 2)  # the real end, even after a failed write left bytes behind
            for r in records:
                f.write(r)
            _durable(f)
        self.size = off + sum([len(r) for r in records])
        return off

    def append(self, action, payload, kind):
        """Store a message durably; its sequence number. kind: "start", "stop", "meter" or
        "message" (one of no transaction). The id policy may fill in `payload` (StationIds: a
        start's transactionInfo.transactionId, every TransactionEvent's seqNo).
        ValueError for an unknown kind or a record over max_record_bytes (nothing stored)."""
        typ = _KINDS.get(kind)
        if typ is None:
            raise ValueError("unknown kind " + repr(kind))
        seq = self._next
        tx, flags = self.ids.tag(self, typ, seq, payload)  # may fill in the payload's ids
        body = json.dumps([action, _plain(payload)], separators=(",", ":")).encode()
        if len(body) > self.max_record_bytes:
            raise ValueError("%s record of %d bytes, over %d" % (action, len(body),
                                                                 self.max_record_bytes))
        self._next = seq + 1  # burnt even if the write fails: a seq is never written twice
        rec = _frame(typ, flags, seq, tx, body)
        off = self._write(rec)
        self._add(seq, off, tx, len(rec), typ | (_LOCAL_BIT if flags else 0))
        self.ids.added(tx, payload)
        self._bound()
        return seq

    def _put(self, typ, seq, tx, body=b""):
        """Append one record of the id policy's, durably."""
        self._write(_frame(typ, 0, seq, tx, body))

    @staticmethod
    def local_id(seq):
        """The local transaction id of the start record `seq` (OCPP 1.6, ServerIds)."""
        return -seq - 1

    def ack(self, seq):
        """Mark record `seq` delivered, durably. False if it was not live."""
        i = self._find(seq)
        if i < 0 or not self._kinds[i]:
            return False
        self._write(_frame(_ACK, 0, seq, 0))
        self._done(i)
        self._maybe_compact()
        return True

    def map_transaction(self, local_id, server_id):
        """Record, durably, that local transaction `local_id` is `server_id` at the central
        system: later records appended with the local id are sent with this one (OCPP 1.6;
        ValueError under StationIds, whose ids need no mapping)."""
        self.ids.map(self, local_id, server_id)
        self._maybe_compact()

    def server_id(self, local_id):
        """The central system's id for `local_id`, or None while it is not known (always
        under StationIds)."""
        return self.ids.id_of(local_id)

    def set_aside(self, seq):
        """Set live record `seq` aside, durably (see the module's docstring). False if it is
        not live."""
        i = self._find(seq)
        if i < 0 or not self._kinds[i]:
            return False
        if not self._kinds[i] & _ASIDE_BIT:
            self._write(_frame(_ASIDE, 0, seq, 0))
            self._kinds[i] |= _ASIDE_BIT
            self.aside_count += 1
        return True

    def aside(self):
        """The seqs of the records set aside, oldest first."""
        if not self.aside_count:
            return []
        kinds, seqs = self._kinds, self._seqs
        return [seqs[i] for i in range(self._head, self._n) if kinds[i] & _ASIDE_BIT]

    def _waits(self, i):
        # Entry i carries the local id of a start record that is set aside (and not mapped).
        if not self._kinds[i] & _LOCAL_BIT or self._kinds[i] & _KIND_MASK == _START:
            return False
        tx = self._txs[i]
        if self.ids.id_of(tx) is not None:
            return False
        j = self._find(-tx - 1)
        return j >= 0 and self._kinds[j] & _ASIDE_BIT != 0

    # -- reading -----------------------------------------------------------------------------
    def _read(self, f, i):
        """The Record at index i, or None when its bytes on flash no longer check out."""
        f.seek(self._offs[i])
        blob = f.read(self._sizes[i])
        try:
            if len(blob) < _HEAD_SIZE:
                raise ValueError("short")
            magic, typ, flags, length, seq, tx = struct.unpack_from(_HEAD, blob)
            (crc,) = struct.unpack_from("<I", blob, 14)
            mv = memoryview(blob)
            if (magic != _MAGIC or seq != self._seqs[i] or len(blob) != _HEAD_SIZE + length
                    or crc != _crc(mv[_HEAD_SIZE:], _crc(mv[2:14]))):
                raise ValueError("CRC")
            action, payload = json.loads(blob[_HEAD_SIZE:])
            payload = _restore(payload)
            if not isinstance(action, str) or not isinstance(payload, dict):
                raise ValueError("not a message")
        except (ValueError, TypeError, KeyError, IndexError) as e:
            log.error("record", self._seqs[i], "damaged on flash, skipped:", repr(e))
            return None
        if flags & _LOCAL and typ != _START:
            server = self.ids.id_of(tx)
            if server is not None:
                payload["transactionId"] = server
        return Record(seq, _NAMES[typ], action, payload, tx)

    def peek(self):
        """The oldest undelivered Record that is due, or None: records set aside, and the
        records of a transaction whose start is set aside, are passed over."""
        i = self._head
        while i < self._n:
            k = self._kinds[i]
            if k and (not self.aside_count or not (k & _ASIDE_BIT or self._waits(i))):
                with open(self.path, "rb") as f:
                    rec = self._read(f, i)
                if rec is not None:
                    return rec
                self._done(i)  # unreadable: logged; a reopen discards it for good
            i += 1
        return None

    def pending(self, seq):
        """Is record `seq` still to be delivered (appended, not acked, not thinned)? Reads
        nothing from flash."""
        i = self._find(seq)
        return i >= 0 and self._kinds[i] != 0

    def get(self, seq):
        """The live Record `seq`, or None (delivered, thinned, or unreadable: logged)."""
        i = self._find(seq)
        if i < 0 or not self._kinds[i]:
            return None
        with open(self.path, "rb") as f:
            rec = self._read(f, i)
        if rec is None:
            self._done(i)
        return rec

    def records(self):
        """Every live Record, oldest first, read one at a time (append, ack and the rest
        must wait until the iteration is over: they may rewrite the file)."""
        if not self.live:
            return  # perhaps no file yet
        with open(self.path, "rb") as f:
            for i in range(self._head, self._n):
                if self._kinds[i]:
                    rec = self._read(f, i)
                    if rec is not None:
                        yield rec

    def count(self):
        return self.live

    # -- bounds and thinning -----------------------------------------------------------------
    def _bound(self):
        drops = []
        while self.live > self.max_records or self.live_bytes > self.max_bytes:
            i = self._pick_meter()
            if i < 0:
                if not self._over:
                    log.error("journal over its bound (%d records, %d bytes) with nothing to"
                              " thin: keeping every start and stop" % (self.live, self.live_bytes))
                    self._over = True
                break
            drops.append(_frame(_THIN, 0, self._seqs[i], 0))
            self._done(i)
        else:
            self._over = False
        if drops:
            self._write(*drops)
            self._maybe_compact()

    def _pick_meter(self):
        """Index of the meter record to thin, or -1. In the oldest transaction that has meter
        records between its first and last, the one whose removal leaves the smallest gap
        (in seq, which grows with time), the oldest of equals: the samples that remain stay
        evenly spread over the whole transaction, however long it gets."""
        kinds, txs, seqs, n = self._kinds, self._txs, self._seqs, self._n
        counts = {}
        for i in range(self._head, n):
            if kinds[i] & _KIND_MASK == _METER:
                counts[txs[i]] = counts.get(txs[i], 0) + 1
        group = None
        for i in range(self._head, n):
            if kinds[i] & _KIND_MASK == _METER and counts[txs[i]] >= 3:
                group = txs[i]
                break
        if group is None:
            return -1
        prev = cur = best = -1
        gap = 0
        for i in range(self._head, n):
            if kinds[i] & _KIND_MASK == _METER and txs[i] == group:
                if prev >= 0 and (best < 0 or seqs[i] - seqs[prev] < gap):
                    best, gap = cur, seqs[i] - seqs[prev]
                prev, cur = cur, i
        return best

    # -- compaction --------------------------------------------------------------------------
    def _maybe_compact(self, now=False):
        # base, aside and the id policy's records are not garbage; they would be written again
        garbage = (self.size - self.live_bytes - _HEAD_SIZE - self.ids.kept_bytes()
                   - _HEAD_SIZE * self.aside_count)
        if (now or garbage >= max(self.compact_bytes, self.live_bytes)
                or self._dead > self.max_records // 2):
            try:
                self.compact()
            except OSError as e:  # e.g. flash full: the log is still whole, try again later
                log.error("compaction failed:", repr(e))
                try:
                    os.remove(self.path + ".tmp")
                except OSError:
                    pass
                self._load(compact=False)  # the index was being moved: read it back

    def compact(self):
        """Rewrite the log with only the live records (power-safe: temporary file + rename)."""
        n = self._n
        offs = self._offs  # rewritten in place: entry j gets the offset of the j-th live one
        mv = self._mv
        j = 0
        with open(self.path + ".tmp", "wb") as out:
            pos = 0
            for r in [_frame(_BASE, 0, self._next, 0)] + [
                    _frame(typ, 0, seq, tx, body) for typ, seq, tx, body in self.ids.kept(self)]:
                out.write(r)
                pos += len(r)
            if self.live:
                with open(self.path, "rb") as src:
                    for i in range(self._head, n):
                        if not self._kinds[i]:
                            continue
                        src.seek(offs[i])
                        offs[j] = pos
                        j += 1
                        left = self._sizes[i]
                        while left:
                            part = self._buf if left >= _CHUNK else mv[:left]
                            if src.readinto(part) != len(part):
                                raise OSError("log shorter than its index")
                            out.write(part)
                            left -= len(part)
                        pos += self._sizes[i]
                if self.aside_count:  # the marks follow their records, as when written
                    for i in range(self._head, n):
                        if self._kinds[i] & _ASIDE_BIT:
                            r = _frame(_ASIDE, 0, self._seqs[i], 0)
                            out.write(r)
                            pos += len(r)
            _durable(out)
        os.rename(self.path + ".tmp", self.path)
        _sync_dir(self.folder)
        # The new file is in place: move the live entries down to match it (their offsets
        # are in place already; j never passes i, so nothing is overwritten before it is read).
        seqs, txs, sizes, kinds = self._seqs, self._txs, self._sizes, self._kinds
        j = 0
        for i in range(self._head, n):
            if kinds[i]:
                seqs[j], txs[j], sizes[j], kinds[j] = seqs[i], txs[i], sizes[i], kinds[i]
                j += 1
        for i in range(j, n):
            kinds[i] = 0
        self._n = j
        self._head = self._dead = 0
        self.size = pos
