"""The local platform's capped logs on their own: the oldest part dropped in place (a hole),
or the whole log where holes are not supported, and a reader that says where it skipped."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from neuro_sync.local import logs

LIMIT = 64 * 1024


def numbered(path: Path, first: int, last: int) -> None:
    with open(path, "ab") as f:
        f.write("".join(f"{i}\n" for i in range(first, last + 1)).encode())


def read_all(reader: logs.Reader) -> bytes:
    out = b""
    while chunk := reader.read():
        out += chunk
    return out


def test_the_oldest_part_becomes_a_hole_and_the_reader_skips_it(tmp_path: Path) -> None:
    log = tmp_path / "log"
    numbered(log, 1, 100_000)  # about 590 KB
    reader = logs.Reader(log, LIMIT)
    assert reader.read(10) == b"1\n2\n3\n4\n5\n"
    start = logs.cap(log, 0, LIMIT)
    assert 0 < start <= log.stat().st_size - LIMIT // 2
    assert log.stat().st_blocks * 512 <= 2 * LIMIT  # the space is freed (was ~590 KB)
    assert logs.cap(log, start, LIMIT) == start  # under the cap now: nothing more to do
    numbered(log, 100_001, 100_002)  # the writer goes on at the end
    lines = read_all(reader).decode().splitlines()
    assert lines[0] == logs.marker(start - 10, LIMIT).decode().rstrip("\n")
    assert "capped at 65536 bytes" in lines[0]
    tail = [int(line) for line in lines[2:]]  # lines[1] may start mid-number
    assert tail == list(range(tail[0], 100_003))


def test_without_holes_the_log_is_emptied_and_the_reader_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.EOPNOTSUPP, "not supported")

    monkeypatch.setattr(logs, "_punch", unsupported)
    log = tmp_path / "log"
    numbered(log, 1, 100_000)
    reader = logs.Reader(log, LIMIT)
    read_all(reader)
    assert logs.cap(log, 0, LIMIT) == 0
    assert log.stat().st_size == 0
    numbered(log, 7, 7)
    assert reader.read() == logs.marker(None, LIMIT) + b"7\n"


def test_a_marker_starts_a_line_of_its_own(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"no newline yet" + b"x" * 200_000)
    reader = logs.Reader(log, LIMIT)
    assert reader.read(14) == b"no newline yet"
    logs.cap(log, 0, LIMIT)
    assert reader.read().startswith(b"\n[neuro-sync-local: ")
