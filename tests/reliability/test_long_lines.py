"""Streams are linear (issue 19, item 13): a log or save progress line without a newline,
megabytes long, is handled in linear time and bounded memory, and `save(timeout=5)` ends at its
timeout against a server that sends one endless line.

Bounds on elapsed time are generous upper bounds: without the fix the save runs until the
server gives up (a minute here) and the log line costs quadratic time.
"""

from __future__ import annotations

import io
import itertools
import tracemalloc

import pytest

from neuro_sync import APITimeoutError, RemoteImage, ResponseValidationError
from neuro_sync._operations import MAX_PROGRESS_LINE

from .conftest import ClientFactory, timed
from .faultserver import FaultServer, chunked

pytestmark = [pytest.mark.sockets, pytest.mark.slow]

SLACK = 3.0
IMAGE = RemoteImage("saved", tag="1", owner="alice", registry="registry-dev.neu.ro")
NDJSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n"
STARTED = b'{"status": "CommitStarted"}\n'


def test_save_ends_at_its_timeout_against_an_endless_trickled_line(
    server: FaultServer, make_client: ClientFactory
) -> None:
    # One progress line, then a second that never ends: a byte every 0.1 s, each well within
    # the read timeout, for a minute.
    server.script(
        chunked(
            [STARTED, b'{"st', *[b"x"] * 600],
            pause=0.1,
            terminate=False,
            content_type="application/x-ndjson",
        )
    )
    client = make_client(max_retries=0)
    progress = io.StringIO()
    err, elapsed = timed(lambda: client.jobs.save("job-1", IMAGE, timeout=5, progress=progress))
    assert isinstance(err, APITimeoutError), repr(err)
    assert "within 5 s" in str(err)
    assert "CommitStarted" in progress.getvalue()
    assert elapsed < 5 + SLACK


def test_save_refuses_a_megabyte_progress_line(
    server: FaultServer, make_client: ClientFactory
) -> None:
    # An endless line as fast as the socket goes: refused at the line cap, memory stays small.
    server.script(
        chunked(
            itertools.repeat(b"y" * 65536), terminate=False, content_type="application/x-ndjson"
        )
    )
    client = make_client(max_retries=0)
    tracemalloc.start()
    try:
        err, elapsed = timed(lambda: client.jobs.save("job-1", IMAGE, timeout=5))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(err, ResponseValidationError), repr(err)
    assert f"longer than {MAX_PROGRESS_LINE:,} bytes" in str(err)
    assert peak < 16 * MAX_PROGRESS_LINE
    assert elapsed < 5 + SLACK


def test_a_megabytes_long_log_line_in_small_chunks_is_read_in_pieces(
    server: FaultServer, make_client: ClientFactory
) -> None:
    # 8 MiB without a newline in 1 KiB chunks (a progress bar redrawn with \r), then a newline.
    piece = b"0123456789abcde\r" * 64
    count = 8 * 1024
    server.script(chunked([piece] * count + [b"\nend\n"], terminate=True))
    client = make_client(max_retries=0, timeout=(1, 30))
    tracemalloc.start()
    try:
        with client.jobs.logs("job-1") as lines:
            sizes = [len(line) for line in lines]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = len(piece) * count
    assert sum(sizes[:-1]) == total - 1  # the last \r before the newline ends the line
    assert max(sizes) <= 1024 * 1024  # pieces of at most a million characters
    assert sizes[-1] == len("end")
    # A few pieces' worth at most, not the whole line (8 MiB as str is 8 MiB and more).
    assert peak < 6 * 1024 * 1024
