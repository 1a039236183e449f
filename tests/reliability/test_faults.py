"""Real sockets on 127.0.0.1 that misbehave: resets before and after the status line, stalls
past the read timeout, truncated chunked log bodies, garbage instead of HTTP, refused
connections, redirects to another host, TLS with an unknown certificate.

Every fault must surface as the right typed error within the configured time. The clients here
use a 1 s connect and 0.5 s read timeout; "within the configured time" is checked with generous
upper bounds only (a slow CI machine must not fail them).
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from neuro_sync_api.api.platform import get_job
from neuro_sync_api.client import AuthenticatedClient

import neuro_sync
from neuro_sync import (
    APIConnectionError,
    APITimeoutError,
    JobNotFound,
    JobSubmissionUncertain,
    ResponseValidationError,
    ServerError,
    StreamInterrupted,
)

from .conftest import (
    READ_TIMEOUT,
    TOKEN,
    ClientFactory,
    FaultClient,
    cluster_config,
    json_body,
    small_container,
    timed,
    wire_job,
)
from .faultserver import (
    Action,
    FaultServer,
    Request,
    chunked,
    close_silently,
    garbage,
    redirect,
    refused_port,
    reply,
    reset_after_headers,
    reset_after_status_line,
    reset_before_status,
    stall,
    trickle,
    unreachable_port,
    websocket,
    ws_frames,
)

pytestmark = pytest.mark.sockets

# Generous bound for "within the configured time" of one attempt (0.5 s read, 1 s connect).
WITHIN = 5.0

JOB_REPLY = reply(200, json_body(wire_job()))
CREATED = reply(202, json_body(wire_job()))
PARTIAL_BODY = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"id"'
)

# (name, action, error class) for a reply that never arrives whole.
BROKEN_REPLIES: list[tuple[str, Action, type[Exception]]] = [
    ("reset-before-status-line", reset_before_status, APIConnectionError),
    ("closed-before-status-line", close_silently, APIConnectionError),
    ("reset-after-status-line", reset_after_status_line, APIConnectionError),
    ("reset-after-headers", reset_after_headers, APIConnectionError),
    ("stall-before-status-line", stall(30), APITimeoutError),
    ("stall-in-body", stall(30, head=PARTIAL_BODY), APITimeoutError),
    ("garbage-not-http", garbage(), APIConnectionError),
    ("binary-garbage", garbage(bytes(range(256)) * 4), APIConnectionError),
    ("empty-status-line", garbage(b"\r\n\r\n"), APIConnectionError),
    (
        "truncated-chunked-json",
        chunked([b'{"id": "job-1", '], terminate=False, content_type="application/json"),
        APIConnectionError,
    ),
]
BROKEN_IDS = [name for name, _, _ in BROKEN_REPLIES]


# ---------------------------------------------------------------------- GET: typed errors in time


@pytest.mark.parametrize(("name", "action", "expected"), BROKEN_REPLIES, ids=BROKEN_IDS)
def test_get_fault_gives_typed_error_in_time(
    server: FaultServer,
    make_client: ClientFactory,
    name: str,
    action: Action,
    expected: type[Exception],
) -> None:
    server.script(action)
    client = make_client(max_retries=0)
    err, elapsed = timed(lambda: client.jobs.status("job-1"))
    assert type(err) is expected, repr(err)
    assert isinstance(err, APIConnectionError) and err.request_sent is True
    assert elapsed < WITHIN
    if expected is APITimeoutError:
        assert elapsed >= READ_TIMEOUT * 0.8  # it did wait for the read timeout
    assert server.connections == 1


@pytest.mark.parametrize(("name", "action", "expected"), BROKEN_REPLIES, ids=BROKEN_IDS)
def test_get_recovers_after_two_faults(
    server: FaultServer,
    make_client: ClientFactory,
    name: str,
    action: Action,
    expected: type[Exception],
) -> None:
    server.script(action, action, JOB_REPLY)
    client = make_client(max_retries=2)
    err, elapsed = timed(lambda: client.jobs.status("job-1"))
    assert err is None
    assert server.connections == 3
    assert len(client.sleeps) == 2
    assert elapsed < 2 * WITHIN
    # Every attempt is the same request, token included.
    first = server.requests[0]
    assert first.header("Authorization") == f"Bearer {TOKEN}"
    for again in server.requests[1:]:
        assert (again.method, again.target, again.headers) == (
            first.method,
            first.target,
            first.headers,
        )


@pytest.mark.parametrize(("name", "action", "expected"), BROKEN_REPLIES, ids=BROKEN_IDS)
def test_log_open_fault_gives_typed_error_in_time(
    server: FaultServer,
    make_client: ClientFactory,
    name: str,
    action: Action,
    expected: type[Exception],
) -> None:
    server.script(action)
    client = make_client(max_retries=0)

    def read() -> object:
        with client.jobs.monitor("job-1") as log:
            return log.read()

    err, elapsed = timed(read)
    if name in ("truncated-chunked-json", "reset-after-headers"):
        assert type(err) is StreamInterrupted  # headers fine, then the body is cut
    else:
        assert type(err) is expected, repr(err)
    assert elapsed < WITHIN


def test_delete_is_retried_after_a_reset(server: FaultServer, make_client: ClientFactory) -> None:
    server.script(reset_before_status, reply(204))
    make_client(max_retries=2).jobs.kill("job-1")
    assert [r.method for r in server.requests] == ["DELETE", "DELETE"]


@pytest.mark.skipif(sys.platform != "linux", reason="a full backlog drops SYNs on Linux")
def test_connect_timeout(make_client: ClientFactory) -> None:
    with unreachable_port() as port:
        url = f"http://127.0.0.1:{port}/api/v1"
        client = make_client(url=url, max_retries=2, timeout=(0.3, READ_TIMEOUT))
        err, elapsed = timed(lambda: client.jobs.status("job-1"))
        assert type(err) is APITimeoutError and err.request_sent is False
        assert len(client.sleeps) == 2  # retried
        assert 0.8 < elapsed < WITHIN  # three 0.3 s connect timeouts
        # run is retried too (nothing was sent), and its error says nothing is uncertain.
        err, _ = timed(lambda: client.jobs.run(small_container()))
        assert type(err) is APITimeoutError and err.request_sent is False
        assert len(client.sleeps) == 4
        err, elapsed = timed(lambda: client.jobs.top("job-1"))
        assert type(err) is APITimeoutError
        assert elapsed < WITHIN


def test_refused_connection(make_client: ClientFactory) -> None:
    client = make_client(url=f"http://127.0.0.1:{refused_port()}/api/v1", max_retries=2)
    err, elapsed = timed(lambda: client.jobs.status("job-1"))
    assert type(err) is APIConnectionError and err.request_sent is False
    assert len(client.sleeps) == 2  # retried: nothing was sent
    assert elapsed < WITHIN


# What a connection error says: what happened, never a class or object of the libraries below
# (a pool's repr such as `HTTPConnectionPool(host=...)`, `<... object at 0x...>`).
INTERNAL = re.compile(r"Pool|Connection\(|object at|<|>|neuro_sync\.|urllib3|requests\.|Error\(")


def test_a_connection_error_names_no_internal_class(make_client: ClientFactory) -> None:
    client = make_client(url=f"http://127.0.0.1:{refused_port()}/api/v1", max_retries=0)
    for call in (lambda: client.jobs.status("job-1"), lambda: client.jobs.run(small_container())):
        err, _ = timed(call)
        assert isinstance(err, APIConnectionError)
        assert "connection refused" in str(err)
        assert INTERNAL.search(str(err)) is None, str(err)
    with unreachable_port() as port:
        url = f"http://127.0.0.1:{port}/api/v1"
        client = make_client(url=url, max_retries=0, timeout=(0.3, READ_TIMEOUT))
        err, _ = timed(lambda: client.jobs.status("job-1"))
        assert isinstance(err, APITimeoutError) and "connecting timed out" in str(err)
        assert INTERNAL.search(str(err)) is None, str(err)


# ---------------------------------------------------------------------- POST run: never twice


@pytest.mark.parametrize(("name", "action", "expected"), BROKEN_REPLIES, ids=BROKEN_IDS)
def test_run_fault_is_uncertain_and_sent_once(
    server: FaultServer,
    make_client: ClientFactory,
    name: str,
    action: Action,
    expected: type[Exception],
) -> None:
    server.script(action, CREATED)
    client = make_client(max_retries=2)
    err, elapsed = timed(lambda: client.jobs.run(small_container(), name="train-1"))
    assert isinstance(err, JobSubmissionUncertain), repr(err)
    assert "may or may not have been created" in str(err)
    assert "jobs.list(name='train-1')" in str(err)
    assert isinstance(err.__cause__, expected)
    assert server.connections == 1  # never repeated
    assert client.sleeps == []
    assert elapsed < WITHIN


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_run_on_a_retryable_status_is_sent_once(
    server: FaultServer, make_client: ClientFactory, status: int
) -> None:
    server.script(reply(status, json_body({"error": "busy"})), CREATED)
    with pytest.raises(neuro_sync.IllegalArgumentError, match="busy"):
        make_client(max_retries=2).jobs.run(small_container())
    assert server.connections == 1


def test_run_is_retried_when_refused(server: FaultServer, make_client: ClientFactory) -> None:
    client = make_client(url=f"http://127.0.0.1:{refused_port()}/api/v1", max_retries=2)
    with pytest.raises(APIConnectionError) as info:
        client.jobs.run(small_container())
    assert not isinstance(info.value, JobSubmissionUncertain)
    assert info.value.request_sent is False
    assert len(client.sleeps) == 2


# ---------------------------------------------------------------------- the log stream

LOG_HEAD = [b"line 1\n", b"line 2\n"]


def test_log_read_whole(server: FaultServer, make_client: ClientFactory) -> None:
    server.script(chunked(LOG_HEAD, terminate=True))
    with make_client().jobs.monitor("job-1") as log:
        assert log.read() == b"line 1\nline 2\n"
    assert server.requests[0].target == "/api/v1/jobs/job-1/log"


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_log_cut_in_the_middle_raises(
    server: FaultServer, make_client: ClientFactory, reset: bool
) -> None:
    server.script(chunked(LOG_HEAD, terminate=False, reset=reset))
    got: list[bytes] = []
    start = time.monotonic()
    with make_client().jobs.monitor("job-1") as log, pytest.raises(StreamInterrupted):
        for chunk in log:
            got.append(chunk)
    assert b"".join(got) == b"line 1\nline 2\n"  # what arrived was delivered first
    assert log.closed
    assert time.monotonic() - start < WITHIN


def test_log_cut_inside_a_chunk_raises(server: FaultServer, make_client: ClientFactory) -> None:
    server.script(
        garbage(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nline 1\n\r\n20\r\nli")
    )
    with pytest.raises(StreamInterrupted, match="was cut"):
        make_client().jobs.monitor("job-1").read()


def test_log_stall_between_chunks_times_out(
    server: FaultServer, make_client: ClientFactory
) -> None:
    server.script(chunked([b"a\n", b"b\n"], terminate=True, pause=30))
    got: list[bytes] = []
    start = time.monotonic()
    with pytest.raises(APITimeoutError):
        for chunk in make_client().jobs.monitor("job-1"):
            got.append(chunk)
    assert got == [b"a\n"]
    assert READ_TIMEOUT * 0.8 <= time.monotonic() - start < WITHIN


def test_log_stall_before_the_headers_times_out(
    server: FaultServer, make_client: ClientFactory
) -> None:
    server.script(stall(30))
    err, elapsed = timed(lambda: make_client(max_retries=0).jobs.monitor("job-1"))
    assert isinstance(err, APITimeoutError)
    assert elapsed < WITHIN


def test_log_waits_indefinitely_between_chunks_only_when_asked(
    server: FaultServer, make_client: ClientFactory
) -> None:
    # A pause 3x the read timeout: the default read timeout fails, (connect, None) waits.
    server.script(chunked([b"a\n", b"b\n"], terminate=True, pause=3 * READ_TIMEOUT))
    client = make_client()
    with pytest.raises(APITimeoutError):
        client.jobs.monitor("job-1").read()
    assert client.jobs.monitor("job-1", timeout=(1, None)).read() == b"a\nb\n"


def test_log_error_reply_with_an_endless_body(
    server: FaultServer, make_client: ClientFactory
) -> None:
    # An error reply is read only so far: a proxy streaming forever cannot hang the caller.
    server.script(
        chunked(itertools.repeat(b"x" * 8192), terminate=False, status=500, content_type="text")
    )
    err, elapsed = timed(lambda: make_client().jobs.monitor("job-1"))
    assert isinstance(err, ServerError)
    assert elapsed < WITHIN


def test_log_of_a_missing_job(server: FaultServer, make_client: ClientFactory) -> None:
    nested = json.dumps({"error": "no such job job-x"})
    server.script(reply(400, json_body({"error": nested})))
    with pytest.raises(JobNotFound, match="no such job job-x"):
        make_client().jobs.monitor("job-x")


# ---------------------------------------------------------------------- telemetry (WebSocket)

SAMPLE = {"cpu": 0.5, "memory": 12.0, "timestamp": 1565950272.0}


def test_top_reads_samples_until_close(server: FaultServer, make_client: ClientFactory) -> None:
    server.script(websocket([SAMPLE, SAMPLE]))
    with make_client().jobs.top("job-1") as top:
        samples = list(top)
    assert [s.cpu for s in samples] == [0.5, 0.5]
    assert server.requests[0].target == "/api/v1/jobs/job-1/top"
    assert server.requests[0].header("Authorization") == f"Bearer {TOKEN}"


def test_top_handshake_stall_times_out(server: FaultServer, make_client: ClientFactory) -> None:
    server.script(stall(30))
    err, elapsed = timed(lambda: make_client().jobs.top("job-1"))
    assert isinstance(err, APITimeoutError)
    assert elapsed < WITHIN


def test_top_silence_after_the_handshake_times_out(
    server: FaultServer, make_client: ClientFactory
) -> None:
    server.script(websocket([SAMPLE], then=stall(30)))
    got: list[object] = []
    start = time.monotonic()
    with make_client().jobs.top("job-1") as top, pytest.raises(APITimeoutError):
        for sample in top:
            got.append(sample)
    assert len(got) == 1
    assert time.monotonic() - start < WITHIN


def test_top_waits_indefinitely_between_samples_only_when_asked(
    server: FaultServer, make_client: ClientFactory
) -> None:
    pause = stall(3 * READ_TIMEOUT, then=ws_frames([SAMPLE]))
    server.script(websocket([SAMPLE], then=pause))
    client = make_client()
    with client.jobs.top("job-1") as top, pytest.raises(APITimeoutError):
        list(top)
    with client.jobs.top("job-1", timeout=(1, None)) as top:
        assert len(list(top)) == 2


def test_top_cut_in_the_middle_raises(server: FaultServer, make_client: ClientFactory) -> None:
    server.script(websocket([SAMPLE], then=reset_before_status))
    with make_client().jobs.top("job-1") as top, pytest.raises(StreamInterrupted):
        list(top)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (garbage(), APIConnectionError),
        (reset_before_status, APIConnectionError),
        (reply(400, json_body({"error": "no such job job-1"})), JobNotFound),
        (reply(502, b"bad gateway", {"Content-Type": "text/plain"}), ServerError),
    ],
    ids=["garbage", "reset", "400", "502"],
)
def test_top_handshake_faults(
    server: FaultServer, make_client: ClientFactory, action: Action, expected: type[Exception]
) -> None:
    server.script(action)
    err, elapsed = timed(lambda: make_client().jobs.top("job-1"))
    assert isinstance(err, expected), repr(err)
    assert elapsed < WITHIN


# ---------------------------------------------------------------------- redirects


@pytest.fixture
def other_host() -> Iterator[FaultServer]:
    with FaultServer(JOB_REPLY) as s:
        yield s


def test_redirect_to_another_host_is_not_followed(
    server: FaultServer, other_host: FaultServer, make_client: ClientFactory
) -> None:
    elsewhere = f"http://localhost:{other_host.port}/api/v1/jobs/job-1"
    server.script(redirect(elsewhere))
    client = make_client(max_retries=2)
    for call in (lambda: client.jobs.status("job-1"), lambda: client.jobs.kill("job-1")):
        with pytest.raises(ResponseValidationError, match="redirect"):
            call()
    assert server.connections == 2
    assert other_host.accepted == 0
    assert server.requests[0].header("Authorization") == f"Bearer {TOKEN}"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_top_redirect_to_another_host_is_not_followed(
    server: FaultServer, other_host: FaultServer, make_client: ClientFactory, status: int
) -> None:
    # websockets follows handshake redirects (to the same origin with our headers) by default.
    other_host.script(websocket([SAMPLE]))
    server.script(redirect(f"ws://localhost:{other_host.port}/api/v1/jobs/job-1/top", status))
    err, elapsed = timed(lambda: make_client().jobs.top("job-1"))
    assert isinstance(err, ResponseValidationError), repr(err)
    assert "redirect" in str(err)
    assert other_host.accepted == 0
    assert elapsed < WITHIN


def test_authorization_is_dropped_when_a_redirect_is_followed(
    server: FaultServer, other_host: FaultServer, make_client: ClientFactory
) -> None:
    # Defence in depth: even a generated client told to follow redirects, on our session, does
    # not hand the token to another host.
    server.script(redirect(f"http://localhost:{other_host.port}/api/v1/jobs/job-1"))
    session = make_client()._transport.session
    generated = AuthenticatedClient(
        base_url=f"{server.url}/api/v1", session=session, token=TOKEN, follow_redirects=True
    )
    response = get_job.sync_detailed("job-1", client=generated)
    assert response.status_code == 200
    assert server.requests[0].header("Authorization") == f"Bearer {TOKEN}"
    assert len(other_host.requests) == 1
    assert other_host.requests[0].header("Authorization") is None
    assert TOKEN not in other_host.requests[0].raw_head.decode("latin-1")


# ---------------------------------------------------------------------- job ids in one segment

HOSTILE_IDS = [
    "../config",
    "../../config",
    "..",
    "job?status=running",
    "job#frag",
    "a/b",
    "job-1/../../config",
    "%2e%2e",
    "%2F",
    "a b",
    "job-é",
    "job\r\nX-Injected: 1",
    "..;/config",
    "\\..\\config",
]


def _segment(target: str, prefix: str, suffix: str) -> str:
    assert target.startswith(prefix), target
    assert target.endswith(suffix), target
    segment = target[len(prefix) : len(target) - len(suffix)]
    assert not set(segment) & set("/?#\r\n "), target
    return unquote(segment)


def _missing(req: Request) -> Action:
    if req.target.endswith("/top"):
        return reply(400, json_body({"error": "no such job"}))
    return reply(400, json_body({"error": "no such job x"}))


@pytest.mark.parametrize("job_id", HOSTILE_IDS)
def test_job_ids_are_quoted_into_one_path_segment(
    server: FaultServer, make_client: ClientFactory, job_id: str
) -> None:
    server.route(_missing)
    client = make_client()
    image = neuro_sync.RemoteImage("img", tag="1", owner="alice", registry="registry-dev.neu.ro")
    calls: list[tuple[str, str, Callable[[], Any]]] = [
        ("GET", "", lambda: client.jobs.status(job_id)),
        ("DELETE", "", lambda: client.jobs.kill(job_id)),
        ("GET", "/log", lambda: client.jobs.monitor(job_id)),
        ("POST", "/save", lambda: client.jobs.save(job_id, image)),
        ("GET", "/top", lambda: client.jobs.top(job_id)),
    ]
    expected_calls = 0
    for method, suffix, call in calls:
        try:
            call()
        except neuro_sync.ValidationError:
            assert job_id == ".."  # refused before sending
            continue
        except (JobNotFound, neuro_sync.IllegalArgumentError):
            pass
        expected_calls += 1
        req = server.requests[-1]
        assert req.method == method
        assert _segment(req.target, "/api/v1/jobs/", suffix) == job_id
    assert len(server.requests) == expected_calls


def test_names_in_the_query_are_validated_and_encoded(
    server: FaultServer, make_client: ClientFactory
) -> None:
    server.script(reply(200, json_body({"jobs": []})))
    client = make_client()
    for bad in ("a&status=x", "job?x", "job#x", "../config", "job name"):
        with pytest.raises(neuro_sync.ValidationError):
            client.jobs.list(name=bad)
        with pytest.raises(neuro_sync.ValidationError):
            client.jobs.list(owners=[bad])
    assert server.requests == []
    client.jobs.list(name="my-job", owners=["bob"], statuses={"running", "pending"})
    assert server.requests[0].target == (
        "/api/v1/jobs?status=pending&status=running&name=my-job&owner=bob"
    )


# ---------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@pytest.fixture
def tls_server(self_signed: tuple[Path, Path]) -> Iterator[FaultServer]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*self_signed)
    with FaultServer(JOB_REPLY, tls=ctx) as s:
        yield s


def _tls_client(server: FaultServer, **kwargs: Any) -> FaultClient:
    api = f"{server.url}/api/v1"
    kwargs.setdefault("timeout", (1, READ_TIMEOUT))
    return FaultClient(api, TOKEN, cluster_config=cluster_config(api), **kwargs)


def test_tls_certificate_is_verified_by_default(tls_server: FaultServer) -> None:
    client = _tls_client(tls_server, max_retries=2)
    with client:
        err, elapsed = timed(lambda: client.jobs.status("job-1"))
        assert type(err) is APIConnectionError, repr(err)
        assert err.request_sent is False
        assert "CERTIFICATE_VERIFY_FAILED" in str(err)
        assert client.sleeps == []  # a certificate does not get better by retrying
        with pytest.raises(APIConnectionError) as info:
            client.jobs.run(small_container())
        assert not isinstance(info.value, JobSubmissionUncertain)  # nothing was sent
        with pytest.raises(APIConnectionError):
            client.jobs.top("job-1")
    assert tls_server.connections == 0
    assert elapsed < WITHIN


def test_tls_with_the_servers_ca_bundle(
    tls_server: FaultServer, self_signed: tuple[Path, Path]
) -> None:
    with _tls_client(tls_server, verify=str(self_signed[0])) as client:
        assert client.jobs.status("job-1").id == "job-1"
    assert tls_server.requests[0].header("Authorization") == f"Bearer {TOKEN}"


@pytest.mark.parametrize("verify", ["bundle", "off"])
def test_top_over_tls_uses_the_transports_ca_settings(
    tls_server: FaultServer, self_signed: tuple[Path, Path], verify: str
) -> None:
    # wss: the same `verify` as HTTPS (a CA bundle, or no verification at all). Not a test of
    # deadlines: a connect timeout that a loaded machine cannot miss (in one full run in
    # about twenty, the 1 s of the other TLS tests ran out during the WebSocket handshake).
    tls_server.script(websocket([SAMPLE, SAMPLE]))
    verify_with = str(self_signed[0]) if verify == "bundle" else False
    with _tls_client(tls_server, verify=verify_with, timeout=(10, READ_TIMEOUT)) as c:
        with c.jobs.top("job-1") as top:
            assert [s.cpu for s in top] == [0.5, 0.5]
    assert tls_server.requests[0].target == "/api/v1/jobs/job-1/top"
    assert tls_server.requests[0].header("Authorization") == f"Bearer {TOKEN}"


def test_tls_reply_trickling_ends_at_the_deadline(
    tls_server: FaultServer, self_signed: tuple[Path, Path]
) -> None:
    # The attempt deadline (1 s + 0.5 s) must cut a TLS socket as it cuts a plain one.
    body = json_body(wire_job())
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    tls_server.script(trickle(body, prefix=head))
    with _tls_client(tls_server, verify=str(self_signed[0])) as client:
        err, elapsed = timed(lambda: client.jobs.status("job-1"))
    assert isinstance(err, APITimeoutError), repr(err)
    assert elapsed < 1.5 + WITHIN
