"""Error mapping for every method: each HTTP error status, connection failures and timeouts.

Messages are the server's `error` text (not raw JSON); no `requests` exception escapes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

import neuro_sync
from neuro_sync import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    AuthorizationError,
    ClientError,
    Container,
    IllegalArgumentError,
    JobNotFound,
    JobSubmissionUncertain,
    MethodNotAllowed,
    MissingPermission,
    RemoteImage,
    ResourceNotFound,
    ServerError,
    StreamInterrupted,
)
from neuro_sync.errors import NOT_A_JOBS_API

from .conftest import BASE, MONITORING, REGISTRY, TOKEN

JOB = "job-x"
CONTAINER = Container(RemoteImage("ubuntu"), neuro_sync.Resources(16, 0.1))
IMAGE = RemoteImage("img", "v1", "alice", REGISTRY)


def _monitor(c: neuro_sync.Client) -> Any:
    with c.jobs.monitor(JOB) as stream:
        return stream.read()


# name -> (HTTP method, URL, call)
METHODS: dict[str, tuple[str, str, Callable[[neuro_sync.Client], Any]]] = {
    "run": ("POST", f"{BASE}/jobs", lambda c: c.jobs.run(CONTAINER)),
    "list": ("GET", f"{BASE}/jobs", lambda c: c.jobs.list()),
    "status": ("GET", f"{BASE}/jobs/{JOB}", lambda c: c.jobs.status(JOB)),
    "kill": ("DELETE", f"{BASE}/jobs/{JOB}", lambda c: c.jobs.kill(JOB)),
    "monitor": ("GET", f"{MONITORING}/{JOB}/log", _monitor),
    "save": ("POST", f"{MONITORING}/{JOB}/save", lambda c: c.jobs.save(JOB, IMAGE)),
}

FORBIDDEN_JSON = {
    "resources": [
        {"uri": "job://alice", "action": "write"},
        {"uri": "storage://bob/data", "action": "read"},
    ]
}

# (id, status, reply kwargs, class, message, extra attribute checks)
STATUS_CASES: list[tuple[str, int, dict[str, Any], type[Exception], str, dict[str, Any]]] = [
    (
        "400-error",
        400,
        {"json": {"error": "{'container': DataError(is required)}"}},
        IllegalArgumentError,
        "{'container': DataError(is required)}",
        {},
    ),
    (
        "400-no-such-job",
        400,
        {"json": {"error": f"no such job {JOB}"}},
        JobNotFound,
        f"no such job {JOB}",
        {"job_id": JOB},
    ),
    (
        # monitoring nests platform-api's error body as a JSON string (docs/protocol.md §3.1, §7.14)
        "400-nested-no-such-job",
        400,
        {"json": {"error": '{"error": "no such job job-x"}'}},
        JobNotFound,
        f"no such job {JOB}",
        {"job_id": JOB},
    ),
    (
        "400-text",
        400,
        {"body": "400: Bad Request", "content_type": "text/plain"},
        IllegalArgumentError,
        "400: Bad Request",
        {},
    ),
    (
        "400-empty",
        400,
        {"body": ""},
        IllegalArgumentError,
        "400: Bad Request",
        {},
    ),
    (
        "401",
        401,
        {"body": "401: Unauthorized", "content_type": "text/plain"},
        AuthenticationError,
        "401: Unauthorized",
        {},
    ),
    (
        "403-json",
        403,
        {"json": FORBIDDEN_JSON},
        AuthorizationError,
        "Permission denied (missing: write job://alice, read storage://bob/data)",
        {
            "missing": (
                MissingPermission("job://alice", "write"),
                MissingPermission("storage://bob/data", "read"),
            )
        },
    ),
    (
        "403-text",
        403,
        {"body": "403: Forbidden", "content_type": "text/plain"},
        AuthorizationError,
        "403: Forbidden",
        {"missing": ()},
    ),
    (
        "404",
        404,
        {"body": "404: Not Found", "content_type": "text/plain"},
        ResourceNotFound,
        f"404: Not Found: {NOT_A_JOBS_API}",
        {},
    ),
    (
        "405",
        405,
        {"body": "405: Method Not Allowed", "content_type": "text/plain"},
        MethodNotAllowed,
        "405: Method Not Allowed",
        {},
    ),
    ("409", 409, {"json": {"error": "conflict"}}, IllegalArgumentError, "conflict", {}),
    ("422", 422, {"json": {"error": "unprocessable"}}, IllegalArgumentError, "unprocessable", {}),
    ("429", 429, {"body": "slow down"}, IllegalArgumentError, "slow down", {}),
    (
        "500",
        500,
        {"json": {"error": "Unexpected exception: boom. Path with query: /api/v1/jobs."}},
        ServerError,
        "Unexpected exception: boom. Path with query: /api/v1/jobs.",
        {},
    ),
    ("502-empty", 502, {"body": ""}, ServerError, "502: Bad Gateway", {}),
    (
        "503-html",
        503,
        {"body": "<html>down</html>", "content_type": "text/html"},
        ServerError,
        "<html>down</html>",
        {},
    ),
    ("504-json", 504, {"json": {"error": "gateway timeout"}}, ServerError, "gateway timeout", {}),
]

RUN_5XX_SUFFIX = (
    " (the job may or may not have been created; check with jobs.list() before submitting again)"
)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize(
    ("status", "reply", "cls", "message", "attrs"),
    [case[1:] for case in STATUS_CASES],
    ids=[case[0] for case in STATUS_CASES],
)
def test_error_status_mapping(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    method: str,
    status: int,
    reply: dict[str, Any],
    cls: type[Exception],
    message: str,
    attrs: dict[str, Any],
) -> None:
    http_method, url, call = METHODS[method]
    mocked.add(http_method, url, status=status, **reply)
    with pytest.raises(ClientError) as info:
        call(client)
    err = info.value
    assert type(err) is cls
    if method == "run" and status >= 500:
        message += RUN_5XX_SUFFIX
    assert str(err) == message
    assert getattr(err, "status") == status  # noqa: B009 - not every ClientError has it
    for name, value in attrs.items():
        assert getattr(err, name) == value
    assert not isinstance(err, requests.RequestException)
    assert len(mocked.calls) == 1  # max_retries=0: no retry


def test_job_not_found_is_both_2019_classes(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB}", json={"error": f"no such job {JOB}"}, status=400)
    with pytest.raises(ResourceNotFound) as info:
        client.jobs.status(JOB)
    assert isinstance(info.value, IllegalArgumentError)
    assert isinstance(info.value, ValueError)


def test_plain_400_is_not_job_not_found(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB}", json={"error": "something else"}, status=400)
    with pytest.raises(IllegalArgumentError) as info:
        client.jobs.status(JOB)
    assert not isinstance(info.value, ResourceNotFound)


def test_duplicate_name_message(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    text = (
        "Failed to create job: job with name 'train' and owner 'alice' already exists: "
        "'job-0d6f8a3e-1c2b-4d5e-8f90-123456789abc'"
    )
    mocked.post(f"{BASE}/jobs", json={"error": text}, status=400)
    with pytest.raises(IllegalArgumentError) as info:
        client.jobs.run(CONTAINER, name="train")
    assert str(info.value) == text
    assert type(info.value) is IllegalArgumentError


def test_token_is_redacted_from_server_messages(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB}", json={"error": f"bad token {TOKEN}"}, status=400)
    with pytest.raises(IllegalArgumentError) as info:
        client.jobs.status(JOB)
    assert str(info.value) == "bad token <redacted>"
    assert TOKEN not in repr(info.value)


def test_huge_error_text_is_truncated(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB}", json={"error": "x" * 10_000}, status=500)
    with pytest.raises(ServerError) as info:
        client.jobs.status(JOB)
    assert str(info.value) == "x" * 2000


# --------------------------------------------------------------------------- no reply at all

# The message names the request and says what happened in words, never a class name.
NETWORK_CASES: list[tuple[str, Exception, type[Exception], bool, str]] = [
    (
        "connection-error",
        requests.ConnectionError("connection reset"),
        APIConnectionError,
        True,
        "the connection failed",
    ),
    (
        "connect-timeout",
        requests.ConnectTimeout("connect timed out"),
        APITimeoutError,
        False,
        "connecting timed out",
    ),
    (
        "read-timeout",
        requests.ReadTimeout("read timed out"),
        APITimeoutError,
        True,
        "no data within the read timeout",
    ),
    (
        "chunked",
        requests.exceptions.ChunkedEncodingError("broken"),
        APIConnectionError,
        True,
        "the reply was cut off",
    ),
    (
        "ssl",
        requests.exceptions.SSLError("bad cert"),
        APIConnectionError,
        True,
        "the TLS handshake failed",
    ),
]


@pytest.mark.parametrize("method", [m for m in METHODS if m != "run"])
@pytest.mark.parametrize(
    ("error", "cls", "sent", "what"),
    [case[1:] for case in NETWORK_CASES],
    ids=[case[0] for case in NETWORK_CASES],
)
def test_network_failures(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    method: str,
    error: Exception,
    cls: type[Exception],
    sent: bool,
    what: str,
) -> None:
    http_method, url, call = METHODS[method]
    mocked.add(http_method, url, body=error)
    with pytest.raises(APIConnectionError) as info:
        call(client)
    err = info.value
    assert type(err) is cls
    assert err.request_sent is sent
    assert str(err) == f"{http_method} {url}: {what}"
    assert type(error).__name__ not in str(err)
    assert err.__cause__ is error
    assert not isinstance(err, requests.RequestException)


@pytest.mark.parametrize(
    ("error", "cls", "what"),
    [
        (
            requests.ConnectionError("connection reset"),
            JobSubmissionUncertain,
            "the connection failed",
        ),
        (
            requests.ReadTimeout("read timed out"),
            JobSubmissionUncertain,
            "no data within the read timeout",
        ),
        # Provably never sent: not uncertain.
        (requests.ConnectTimeout("connect timed out"), APITimeoutError, ""),
    ],
)
def test_run_network_failures(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    error: Exception,
    cls: type[Exception],
    what: str,
) -> None:
    mocked.post(f"{BASE}/jobs", body=error)
    with pytest.raises(APIConnectionError) as info:
        client.jobs.run(CONTAINER, name="my-job")
    assert type(info.value) is cls
    if cls is JobSubmissionUncertain:
        assert info.value.request_sent is True
        assert str(info.value) == (
            f"The job may or may not have been created (POST {BASE}/jobs: {what}); "
            "check with jobs.list(name='my-job') before submitting again"
        )
    else:
        assert info.value.request_sent is False


def test_unregistered_host_is_a_connection_error(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    # responses refuses unknown URLs with requests.ConnectionError, like a closed port.
    with pytest.raises(APIConnectionError) as info:
        client.jobs.status("job-nowhere")
    assert str(info.value) == f"GET {BASE}/jobs/job-nowhere: the connection failed"


# --------------------------------------------------------------------------- /config


@pytest.mark.parametrize(
    ("status", "reply", "cls", "message"),
    [
        (500, {"json": {"error": "boom"}}, ServerError, "boom"),
        (502, {"body": ""}, ServerError, "502: Bad Gateway"),
        (401, {"body": "401: Unauthorized"}, AuthenticationError, "401: Unauthorized"),
        (404, {"body": "404: Not Found"}, ResourceNotFound, f"404: Not Found: {NOT_A_JOBS_API}"),
    ],
)
def test_config_error_statuses(
    mocked: responses.RequestsMock,
    status: int,
    reply: dict[str, Any],
    cls: type[Exception],
    message: str,
) -> None:
    mocked.get(f"{BASE}/config", status=status, **reply)
    with neuro_sync.Client(BASE, TOKEN, max_retries=0) as c:
        with pytest.raises(ClientError) as info:
            c.jobs.list()
    assert type(info.value) is cls
    assert str(info.value) == message


def test_config_connection_failure(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/config", body=requests.ConnectTimeout("connect timed out"))
    with neuro_sync.Client(BASE, TOKEN, max_retries=0) as c:
        with pytest.raises(APITimeoutError):
            c.jobs.status(JOB)


# --------------------------------------------------------------------------- streams


class _BreakingRaw(io.RawIOBase):
    """A body that yields some bytes and then fails like a dropped connection."""

    def __init__(self, first: bytes) -> None:
        self._first: bytes | None = first

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._first is None:
            raise ConnectionResetError("connection reset by peer")
        n = len(self._first)
        buffer[:n] = self._first
        self._first = None
        return n


def test_log_cut_in_the_middle_is_an_error(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    body = io.BufferedReader(_BreakingRaw(b"first line\n"))
    mocked.get(f"{MONITORING}/{JOB}/log", body=body, content_type="text/plain")
    with client.jobs.monitor(JOB) as stream:
        with pytest.raises(StreamInterrupted) as info:
            stream.read()
        assert stream.closed
    assert str(info.value) == f"The log stream of job {JOB} was cut: the reply was cut off"


def test_save_stream_cut_in_the_middle_is_an_error(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    first = b'{"status": "CommitStarted", "details": {"container": "abc", "image": "x"}}\r\n'
    body = io.BufferedReader(_BreakingRaw(first))
    mocked.post(f"{MONITORING}/{JOB}/save", body=body, content_type="application/x-ndjson")
    with pytest.raises(StreamInterrupted) as info:
        client.jobs.save(JOB, IMAGE)
    assert str(info.value) == f"The save stream of job {JOB} was cut: the reply was cut off"


def test_the_documented_error_tree_names_every_error_class() -> None:
    # The tree in errors.py's docstring is also the docs' (literalinclude): it must stay whole.
    import neuro_sync.errors as module

    def subclasses(cls: type[BaseException]) -> set[type[BaseException]]:
        found = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    doc = module.__doc__ or ""
    tree = doc[doc.index("    ClientError") :]
    names = {c.__name__ for c in subclasses(module.ClientError) if c.__module__ == module.__name__}
    assert names, "no error classes found"
    listed = set(re.findall(r"── (\w+)", tree))
    missing = sorted(names - listed)
    assert not missing, f"errors.py's tree lacks {missing}"
