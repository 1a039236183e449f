"""A call's timeout is a deadline for each attempt as a whole, and a reply has a size cap.

A server trickling one byte per 0.1 s never lets a per-read timeout (0.5 s here) expire; only the
attempt deadline (connect + read = 1.5 s here) ends the call. Bounds on elapsed time are generous
upper bounds (the trickles would run for a minute and more without a deadline).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

import neuro_sync
from neuro_sync import (
    APITimeoutError,
    JobSubmissionUncertain,
    ReplyTooLarge,
    ResponseValidationError,
    ValidationError,
    WaitTimeout,
)
from neuro_sync._deadlines import WATCHDOG as _WATCHDOG
from neuro_sync._deadlines import attempt_deadline

from .conftest import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    TOKEN,
    ClientFactory,
    json_body,
    small_container,
    timed,
    wire_job,
)
from .faultserver import FaultServer, chunked, reply, stall, stream_body, trickle

pytestmark = [pytest.mark.sockets, pytest.mark.slow]

DEADLINE = CONNECT_TIMEOUT + READ_TIMEOUT
# Slack for a loaded machine: the watchdog ticks every 50 ms, the rest is scheduling.
SLACK = 2.0
JOB = json_body(wire_job())
HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(JOB)
)
# Long enough that a per-read timeout alone would let each attempt run for a minute.
TRICKLING_HEADERS = trickle(HEAD[17:] + JOB, prefix=HEAD[:17])  # after "HTTP/1.1 200 OK\r\n"
TRICKLING_BODY = trickle(JOB, prefix=HEAD)


def open_connections(port: int) -> list[object]:
    """This process's TCP connections to `port` that are still open."""
    return [
        c
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    ]


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [(5, 5.0), (2.5, 2.5), ((10, 60), 70.0), ((1, 0.5), 1.5), ((10, None), None)],
)
def test_attempt_deadline(timeout: object, expected: float | None) -> None:
    assert attempt_deadline(timeout) == expected


@pytest.mark.parametrize("action", [TRICKLING_HEADERS, TRICKLING_BODY], ids=["headers", "body"])
def test_a_trickling_reply_ends_at_the_deadline(
    server: FaultServer, make_client: ClientFactory, action: Callable[..., None]
) -> None:
    server.script(action)
    client = make_client(max_retries=0)
    err, elapsed = timed(lambda: client.jobs.status("job-1"))
    assert isinstance(err, APITimeoutError), repr(err)
    assert err.request_sent is True
    assert f"within {DEADLINE:g} s" in str(err)
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + SLACK
    assert open_connections(server.port) == []


def test_a_number_timeout_is_the_whole_deadline(
    server: FaultServer, make_client: ClientFactory
) -> None:
    server.script(TRICKLING_BODY)
    client = make_client(max_retries=0, timeout=0.8)
    err, elapsed = timed(lambda: client.jobs.status("job-1"))
    assert isinstance(err, APITimeoutError), repr(err)
    assert 0.7 <= elapsed < 0.8 + SLACK


def test_a_per_call_timeout_sets_the_deadline(
    server: FaultServer, make_client: ClientFactory
) -> None:
    server.script(TRICKLING_HEADERS)
    client = make_client(max_retries=0, timeout=(30, 30))
    err, elapsed = timed(lambda: client.jobs.status("job-1", timeout=(0.5, 0.5)))
    assert isinstance(err, APITimeoutError), repr(err)
    assert elapsed < 1.0 + SLACK


def test_retries_are_bounded_too(server: FaultServer, make_client: ClientFactory) -> None:
    server.script(TRICKLING_BODY)
    client = make_client(max_retries=2)
    err, elapsed = timed(lambda: client.jobs.status("job-1"))
    assert isinstance(err, APITimeoutError), repr(err)
    assert server.connections == 3
    assert len(client.sleeps) == 2  # recorded, not slept
    assert elapsed < 3 * DEADLINE + SLACK
    assert open_connections(server.port) == []


def test_a_trickled_reply_that_makes_it_in_time_is_fine(
    server: FaultServer, make_client: ClientFactory
) -> None:
    server.script(trickle(JOB[-5:], every=0.05, prefix=HEAD + JOB[:-5]))
    client = make_client(max_retries=0)
    assert client.jobs.status("job-1").id == "job-1"


def test_run_at_the_deadline_is_uncertain_and_not_repeated(
    server: FaultServer, make_client: ClientFactory
) -> None:
    server.script(trickle(JOB, prefix=HEAD.replace(b"200 OK", b"202 Accepted")))
    client = make_client(max_retries=2)
    err, elapsed = timed(lambda: client.jobs.run(small_container()))
    assert isinstance(err, JobSubmissionUncertain), repr(err)
    assert server.connections == 1
    assert elapsed < DEADLINE + SLACK


def test_a_stream_outlives_the_deadline_once_its_headers_came(
    server: FaultServer, make_client: ClientFactory
) -> None:
    # 30 chunks, 0.1 s apart: 3 s of log, twice the deadline; each gap is under the read timeout.
    lines = [b"line %d\n" % i for i in range(30)]
    server.script(chunked(lines, terminate=True, pause=0.1))
    client = make_client(max_retries=0)
    with client.jobs.monitor("job-1") as log:
        assert b"".join(log) == b"".join(lines)


def test_stream_headers_are_within_the_deadline(
    server: FaultServer, make_client: ClientFactory
) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
    server.script(trickle(head[17:] + b"5\r\nhello\r\n0\r\n\r\n", prefix=head[:17]))
    client = make_client(max_retries=0)
    err, elapsed = timed(lambda: client.jobs.monitor("job-1"))
    assert isinstance(err, APITimeoutError), repr(err)
    assert elapsed < DEADLINE + SLACK


def test_no_read_limit_means_no_deadline(server: FaultServer, make_client: ClientFactory) -> None:
    server.script(trickle(JOB[-8:], every=0.1, prefix=HEAD + JOB[:-8]))
    client = make_client(max_retries=0, timeout=(0.2, None))  # 0.8 s of trickle > 0.2 s
    assert client.jobs.status("job-1").id == "job-1"


def test_wait_stops_at_its_deadline_while_the_server_hangs(
    server: FaultServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server says nothing for a minute; the status request is cut at the time left.
    server.script(stall(60))
    client = make_client(timeout=(30, 30))
    sent: list[tuple[float, float]] = []
    send = client._transport.session.request

    def spy(*args: Any, **kwargs: Any) -> Any:
        sent.append(kwargs["timeout"])
        return send(*args, **kwargs)

    monkeypatch.setattr(client._transport.session, "request", spy)
    err, elapsed = timed(lambda: client.jobs.wait("job-1", timeout=0.2))
    assert isinstance(err, WaitTimeout), repr(err)
    assert "unknown state after 0.2 s" in str(err)
    assert err.job is None
    # The status request was given no more than the time left (plus the grace), and not
    # retried past it.
    ((connect, read),) = sent
    assert connect <= 0.7 and read <= 0.7
    assert elapsed < 0.7 + SLACK


@pytest.fixture
def quick_watchdog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_WATCHDOG, "idle_exit", 0.2)
    yield


def watchdog_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "neuro-sync-deadlines"]


@pytest.mark.usefixtures("quick_watchdog")
def test_the_watchdog_thread_ends_when_idle(
    server: FaultServer, make_client: ClientFactory
) -> None:
    server.script(reply(200, JOB))
    client = make_client(max_retries=0)
    client.jobs.status("job-1")
    assert len(watchdog_threads()) == 1
    end = time.monotonic() + 10
    while watchdog_threads() and time.monotonic() < end:
        time.sleep(0.05)
    assert watchdog_threads() == []
    client.jobs.status("job-1")  # and it comes back on demand
    assert _WATCHDOG.running


def test_many_threads_each_get_their_own_deadline(
    server: FaultServer, make_client: ClientFactory
) -> None:
    # Odd requests trickle, even ones answer at once: a deadline must never cut the wrong one.
    def route(req: object) -> Callable[..., None]:
        return TRICKLING_BODY if "slow" in getattr(req, "target", "") else reply(200, JOB)

    server.route(route)
    client = make_client(max_retries=0)
    results: dict[str, object] = {}

    def call(job_id: str) -> None:
        try:
            results[job_id] = client.jobs.status(job_id).status
        except neuro_sync.ClientError as err:
            results[job_id] = err

    threads = [
        threading.Thread(target=call, args=(f"job-{'slow' if i % 2 else 'fast'}-{i}",))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    slow = [v for k, v in results.items() if "slow" in k]
    fast = [v for k, v in results.items() if "fast" in k]
    assert len(slow) == len(fast) == 4
    assert all(isinstance(v, APITimeoutError) for v in slow)
    assert all(v == neuro_sync.JobStatus.PENDING for v in fast)


# ---------------------------------------------------------------------------- reply size cap

CAP = 64 * 1024
BIG_LIST = json_body({"jobs": [wire_job(f"job-{i}") for i in range(400)]})  # ~330 KB


def test_a_declared_big_reply_is_refused_before_reading(
    server: FaultServer, make_client: ClientFactory
) -> None:
    # Content-Length says 1 GB; the server sends nothing more than its headers.
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    server.script(stream_body(head % 10**9, b"", total=0))
    client = make_client(max_retries=2, max_reply_bytes=CAP)
    with pytest.raises(ReplyTooLarge) as caught:
        client.jobs.list()
    err = caught.value
    assert isinstance(err, ResponseValidationError)
    assert err.limit == CAP
    assert "client.jobs.iter(" in str(err)
    assert "max_reply_bytes=65,536" in str(err)
    assert server.connections == 1  # not retried


@pytest.mark.parametrize(
    "head",
    [
        # No Content-Length: the body ends when the connection closes, i.e. never here.
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        # A Content-Length under the cap would cut the body short; a lying one over it is
        # refused up front, so "lying" here is chunked framing without any length.
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
    ids=["until-close", "chunked"],
)
def test_an_endless_reply_stops_at_the_cap(
    server: FaultServer, make_client: ClientFactory, head: bytes
) -> None:
    if b"chunked" in head:
        action = chunked(itertools.repeat(b'{"jobs": [' * 100), terminate=False)
        server.script(action)
    else:
        server.script(stream_body(head, b'{"jobs": [' * 100))
    client = make_client(max_retries=0, max_reply_bytes=CAP)
    with pytest.raises(ReplyTooLarge, match="went past 65,536 bytes"):
        client.jobs.list()
    assert open_connections(server.port) == []


def test_a_reply_under_the_cap_is_read(server: FaultServer, make_client: ClientFactory) -> None:
    server.script(reply(200, BIG_LIST))
    client = make_client(max_retries=0, max_reply_bytes=len(BIG_LIST))
    assert len(client.jobs.list()) == 400
    server.script(reply(200, BIG_LIST))
    small = make_client(max_retries=0, max_reply_bytes=len(BIG_LIST) - 1)
    with pytest.raises(ReplyTooLarge):
        small.jobs.list()


def test_streams_are_not_capped(server: FaultServer, make_client: ClientFactory) -> None:
    lines = [b"x" * 1000 + b"\n"] * 200  # 200 KB of log, over the 64 KiB cap
    server.script(chunked(lines, terminate=True))
    client = make_client(max_retries=0, max_reply_bytes=CAP)
    with client.jobs.monitor("job-1") as log:
        assert sum(len(c) for c in log) == 200 * 1001


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_max_reply_bytes_is_validated(bad: object) -> None:
    with pytest.raises(ValidationError, match="max_reply_bytes"):
        neuro_sync.Client("http://127.0.0.1:1/api/v1", TOKEN, max_reply_bytes=bad)  # type: ignore[arg-type]
