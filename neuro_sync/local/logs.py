"""Capped job logs: past the cap, the oldest part of a log is dropped in place.

A job's output goes straight from its processes into its log file (opened `O_APPEND`, see
runtime.py), so the platform cannot cut the stream itself. Instead it punches a hole over the
oldest part of the file (`fallocate(FALLOC_FL_PUNCH_HOLE)`, through ctypes since `os` has no
flags for it): the disk space is freed, the writers go on appending at the same offsets, and
a reader skips the hole (`SEEK_DATA`) and tells its client how much it skipped with a marker
line. Where a file system cannot punch holes, the log is emptied instead (a reader sees the
file shrink and says so the same way).
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02

_libc = ctypes.CDLL(None, use_errno=True)
_fallocate = _libc.fallocate
_fallocate.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
_fallocate.restype = ctypes.c_int


def _punch(fd: int, offset: int, length: int) -> None:
    if _fallocate(fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, offset, length) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def cap(path: Path, dropped: int, limit: int) -> int:
    """Keep the log at `path` under `limit` bytes of data; `dropped`: the offset its data
    starts at (what earlier calls dropped). Returns the new start offset.

    When the data exceeds the limit, the oldest part goes, down to about half the limit (so
    this runs once per half-limit of output, not at every write)."""
    try:
        if 0 <= os.stat(path).st_size - dropped <= limit:  # the common case: one stat per tick
            return dropped
        fd = os.open(path, os.O_WRONLY)
    except OSError:
        return dropped
    try:
        size = os.fstat(fd).st_size
        if size < dropped:  # emptied before: start over
            dropped = 0
        if size - dropped <= limit:
            return dropped
        block = max(os.fstat(fd).st_blksize, 4096)
        keep_from = (size - limit // 2) // block * block
        if keep_from <= dropped:
            return dropped
        try:
            _punch(fd, dropped, keep_from - dropped)
        except OSError as err:
            if err.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
            os.ftruncate(fd, 0)  # no holes here: drop everything so far instead
            return 0
        return keep_from
    finally:
        os.close(fd)


def marker(skipped: int | None, limit: int) -> bytes:
    """The line a log reader sends in place of a dropped part."""
    amount = "some" if skipped is None else f"{skipped} bytes of"
    return (
        f"[neuro-sync-local: {amount} earlier output dropped: this job's log is capped at "
        f"{limit} bytes]\n"
    ).encode()


class Reader:
    """Reads a capped log from the start, in order, telling where parts were dropped."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit = path, limit
        self.offset = 0
        self._line_start = True  # the last byte sent ended a line (or nothing was sent)

    def read(self, size: int = 64 * 1024) -> bytes:
        """The next bytes (with marker lines), b"" when nothing new is there yet."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return b""
        try:
            out = b""
            end = os.fstat(fd).st_size
            if end < self.offset:  # emptied (no holes on this file system)
                out, self.offset = self._marker(None), 0
            if self.offset < end:
                try:
                    data_at = os.lseek(fd, self.offset, os.SEEK_DATA)
                except OSError as err:  # ENXIO: only a hole up to the end
                    data_at = end if err.errno == errno.ENXIO else self.offset
                if data_at > self.offset:
                    out += self._marker(data_at - self.offset)
                    self.offset = data_at
            data = os.pread(fd, size, self.offset)
        finally:
            os.close(fd)
        if data:
            self.offset += len(data)
            self._line_start = data.endswith(b"\n")
        return out + data

    def _marker(self, skipped: int | None) -> bytes:
        line = marker(skipped, self.limit)
        if not self._line_start:
            line = b"\n" + line
        self._line_start = True
        return line
