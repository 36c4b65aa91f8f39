# Stream a firmware image into an OTA app slot: 4 KiB blocks, hashed and checked on the way.
"""`PartitionWriter` takes the image in pieces of any size and never holds more than one
flash block of it, in a block buffer it is given (the firmware's lib/sharedblock.py block):

    w = PartitionWriter(board.ota_next(), buf=block_buf)   # or offset=w.committed after a cut
    mv = w.space(); n = read_into(mv); w.commit(n)  # pull: the bytes land in the block itself
    w.write(chunk)                                  # push: copied into the block
    size, sha256, info = w.finish()                 # info: ota.image.ImageInfo (version, ...)

- Pull (what ota.http does): `space()` is a memoryview of the free part of the block being
  filled (never empty); the caller reads the next bytes into its start and calls `commit(n)`.
  So a download needs no buffer of its own: the network reads go straight into the block
  that is then written to flash. ImageError / WriteError from commit() stop the download.

- Each 4096-byte block is written with `writeblocks(n, buf)`, which erases and writes it
  (esp32.Partition; the ESP32 erases whole 4 KiB sectors, so the last block is padded with
  0xFF, the erased value, rather than written short).
- Every byte goes into a SHA-256 of the whole file (the digest the firmware signature is
  over) and into ota.image.ImageChecker (the bootloader's structure, checksum and appended
  hash checks), so a wrong file is refused at its first bad byte, not after the download.
  With `strict=False` a bad image is not refused: the whole file is still taken and hashed
  (a firmware update checks its signature before anything else, L01.FR.04), the first
  ImageError is kept in `image_error` and finish() gives info None.
- An image larger than the slot (`ioctl(4, 0)` blocks of 4096) is refused before anything
  past the slot's end would be written.
- Resuming (`offset`, or `restart(offset)` when an HTTP Range request continues or a server
  sends the file again from 0): hashlib has no copy(), so the first `offset` bytes are read
  back from the slot and hashed and checked again.
- Memory: the block buffer (`buf`, 4096 bytes; allocated here when none is given), the
  checker's small buffers and two SHA-256 states; commit() of a whole block and write() of
  exactly one block at a block boundary allocate nothing, other pieces a small memoryview.
"""

import hashlib

from ota.image import BLOCK, ImageChecker, ImageError


class WriteError(Exception):
    """The image cannot go into this slot (too large, bad resume offset)."""


class PartitionWriter:
    def __init__(self, partition, offset=0, check=True, buf=None, strict=True):
        self.partition = partition
        blocks = partition.ioctl(4, 0)
        size = partition.ioctl(5, 0)
        if size and size != BLOCK:
            raise WriteError("partition block size %d, expected %d" % (size, BLOCK))
        self.capacity = blocks * BLOCK  # bytes the slot holds
        self._check = check
        self._strict = strict
        if buf is None:
            buf = bytearray(BLOCK)
        elif len(buf) != BLOCK:
            raise WriteError("block buffer of %d bytes, expected %d" % (len(buf), BLOCK))
        self._blk = buf  # the block being filled; the only copy of any data
        self._mv = memoryview(buf)
        self.restart(offset)

    @property
    def committed(self):
        """Bytes of the image on flash in whole blocks: where a download can resume after a
        power cut (persist it now and then; `PartitionWriter(p, offset=committed)`)."""
        return self._block_no * BLOCK

    def restart(self, offset=0):
        """Continue at `offset` (0: start over): the bytes before it are taken from the slot
        as they are, read back to rebuild the hash and the image check."""
        if not 0 <= offset <= self.capacity:
            raise WriteError("resume offset %d outside the slot (%d bytes)"
                             % (offset, self.capacity))
        self._sha = hashlib.sha256()
        self.checker = ImageChecker(max_size=self.capacity) if self._check else None
        self.image_error = None  # the first ImageError, when not strict
        self.size = 0  # bytes of the image taken so far
        self._block_no = 0  # the block _blk holds
        self._fill = 0  # bytes of _blk in use
        blk = self._blk
        whole = offset // BLOCK
        for n in range(whole):
            self.partition.readblocks(n, blk)
            self._take(blk)
        self._block_no = whole
        rest = offset - whole * BLOCK
        if rest:
            self.partition.readblocks(whole, blk)
            self._take(self._mv[:rest])
            self._fill = rest  # _blk keeps them: the block is written again when full
        self.size = offset

    def _take(self, data):
        self._sha.update(data)
        if self.checker is not None and self.image_error is None:
            try:
                self.checker.feed(data)
            except ImageError as e:
                if self._strict:
                    raise
                self.image_error = e

    def space(self):
        """Where the next bytes go: a memoryview of the free part of the block being filled
        (1 to 4096 bytes). Put bytes at its start, then commit(n); valid until then."""
        fill = self._fill
        return self._mv[fill:] if fill else self._mv

    def commit(self, n):
        """Take the first `n` bytes of the last space(): hashed, checked, and the block
        written to flash once full."""
        fill = self._fill
        if not 0 < n <= BLOCK - fill:
            raise WriteError("commit of %d bytes, %d free in the block" % (n, BLOCK - fill))
        if self.size + n > self.capacity:
            raise WriteError("image larger than the slot: more than %d bytes" % self.capacity)
        self._take(self._blk if n == BLOCK else self._mv[fill:fill + n])  # before the flash
        self.size += n
        fill += n
        if fill == BLOCK:
            self.partition.writeblocks(self._block_no, self._blk)
            self._block_no += 1
            fill = 0
        self._fill = fill

    def write(self, data):
        """Append `data` (bytes-like, any length; it may be reused once this returns)."""
        n = len(data)
        if self.size + n > self.capacity:
            raise WriteError("image larger than the slot: more than %d bytes" % self.capacity)
        self._take(data)  # before writing: a refused byte never reaches the flash
        fill = self._fill
        if not fill and n == BLOCK:  # a whole block at a block boundary: no copy
            self.partition.writeblocks(self._block_no, data)
            self._block_no += 1
            self.size += n
            return
        blk = self._blk
        src = None  # a memoryview of data, made only when data must be split
        i = 0
        while i < n:
            k = BLOCK - fill
            if k > n - i:
                k = n - i
            if i == 0 and k == n:
                blk[fill:fill + k] = data  # bytearray slice assignment allocates nothing
            else:
                if src is None:
                    src = memoryview(data)  # slicing bytes/bytearray would copy
                blk[fill:fill + k] = src[i:i + k]
            fill += k
            i += k
            if fill == BLOCK:
                self.partition.writeblocks(self._block_no, blk)
                self._block_no += 1
                fill = 0
        self._fill = fill
        self.size += n

    def finish(self):
        """Write the last block; (size, SHA-256 digest of the file, ImageInfo or None when
        made with check=False). ImageError when the image is incomplete or invalid (not
        strict: info None, the reason in image_error)."""
        if self._fill:
            blk = self._blk
            for i in range(self._fill, BLOCK):
                blk[i] = 0xFF  # what erased flash reads as
            self.partition.writeblocks(self._block_no, blk)
            self._block_no += 1
            self._fill = 0
        info = None
        if self.checker is not None and self.image_error is None:
            try:
                info = self.checker.finish()
            except ImageError as e:
                if self._strict:
                    raise
                self.image_error = e
        return self.size, self._sha.digest(), info
