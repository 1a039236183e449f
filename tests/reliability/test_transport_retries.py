"""The transport's retries, timeouts and TLS/redirect settings, with HTTP served by `responses`:
call counts, what each attempt carries, and which calls are never repeated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import requests
import responses
import urllib3.exceptions

import neuro_sync
from neuro_sync import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    IllegalArgumentError,
    JobSubmissionUncertain,
    ResponseValidationError,
    ServerError,
)

from .conftest import TOKEN, FaultClient, cluster_config, small_container, wire_job

BASE = "http://api.test/api/v1"
JOB = f"{BASE}/jobs/job-1"
LOG = f"{BASE}/jobs/job-1/log"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def make(**kwargs: Any) -> FaultClient:
    kwargs.setdefault("cluster_config", cluster_config(BASE))
    return FaultClient(BASE, TOKEN, **kwargs)


@pytest.fixture
def client(mocked: responses.RequestsMock) -> Iterator[FaultClient]:
    """Default settings (2 retries), backoff recorded instead of slept."""
    c = make()
    with c:
        yield c


def kwargs_of(call: Any) -> dict[str, Any]:
    return cast(dict[str, Any], call.request.req_kwargs)


def connect_refused() -> requests.ConnectionError:
    """What requests raises when the TCP connection is refused (nothing was sent)."""
    pool = urllib3.HTTPConnectionPool("api.test")
    reason = urllib3.exceptions.NewConnectionError(
        cast(Any, pool), "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(pool, "/", reason))


# ---------------------------------------------------------------------- fail N times, succeed


def test_503_503_200_succeeds_with_3_calls(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(JOB, status=503, json={"error": "busy"})
    mocked.get(JOB, status=503, body="")
    mocked.get(JOB, json=wire_job())
    assert client.jobs.status("job-1").id == "job-1"
    assert len(mocked.calls) == 3
    assert len(client.sleeps) == 2
    assert 0.375 <= client.sleeps[0] <= 0.5 and 0.75 <= client.sleeps[1] <= 1.0


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_each_retried_status_for_list_kill_and_log(
    client: FaultClient, mocked: responses.RequestsMock, status: int
) -> None:
    mocked.get(f"{BASE}/jobs", status=status)
    mocked.get(f"{BASE}/jobs", json={"jobs": [wire_job()]})
    mocked.delete(JOB, status=status)
    mocked.delete(JOB, status=204)
    mocked.get(LOG, status=status)
    mocked.get(LOG, body=b"hello\n", content_type="text/plain")
    assert len(client.jobs.list()) == 1
    client.jobs.kill("job-1")
    with client.jobs.monitor("job-1") as log:
        assert log.read() == b"hello\n"
    assert [(c.request.method, cast(Any, c.response).status_code) for c in mocked.calls] == [
        ("GET", status),
        ("GET", 200),
        ("DELETE", status),
        ("DELETE", 204),
        ("GET", status),
        ("GET", 200),
    ]


def test_each_attempt_carries_the_same_headers_and_timeout(mocked: responses.RequestsMock) -> None:
    mocked.get(JOB, status=503)
    mocked.get(JOB, status=502)
    mocked.get(JOB, json=wire_job())
    with make(headers={"X-Trace": "t-1"}, timeout=(3, 7)) as c:
        c.jobs.status("job-1")
    assert len(mocked.calls) == 3
    first = dict(mocked.calls[0].request.headers)
    assert first["Authorization"] == f"Bearer {TOKEN}"
    assert first["X-Trace"] == "t-1"
    assert first["User-Agent"] == f"neuro-sync/{neuro_sync.__version__}"
    for call in mocked.calls:
        assert dict(call.request.headers) == first
        assert call.request.url == JOB
        assert kwargs_of(call)["timeout"] == (3.0, 7.0)


def test_log_stream_attempts_carry_the_same_headers(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(LOG, status=504)
    mocked.get(LOG, body=b"x", content_type="text/plain")
    client.jobs.monitor("job-1").read()
    a, b = (dict(c.request.headers) for c in mocked.calls)
    assert a == b and a["Accept-Encoding"] == "identity"
    assert all(kwargs_of(c)["stream"] is True for c in mocked.calls)


def test_default_is_two_retries(client: FaultClient, mocked: responses.RequestsMock) -> None:
    mocked.get(JOB, status=503, json={"error": "still busy"})
    with pytest.raises(ServerError, match="still busy") as info:
        client.jobs.status("job-1")
    assert info.value.status == 503
    assert len(mocked.calls) == 3


@pytest.mark.parametrize("max_retries", [0, 1, 5])
def test_retry_count_is_configurable(mocked: responses.RequestsMock, max_retries: int) -> None:
    mocked.delete(JOB, status=502)
    c = make(max_retries=max_retries)
    with c:
        with pytest.raises(ServerError):
            c.jobs.kill("job-1")
        assert len(c.sleeps) == max_retries
    assert len(mocked.calls) == max_retries + 1


def test_non_retried_statuses_make_one_call(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    for status in (400, 401, 403, 404, 500):
        mocked.get(JOB, status=status, json={"error": f"e{status}"})
        with pytest.raises(neuro_sync.ClientError):
            client.jobs.status("job-1")
        assert len(mocked.calls) == 1
        mocked.calls.reset()
        mocked.reset()
    assert client.sleeps == []


# ---------------------------------------------------------------------- no reply at all


@pytest.mark.parametrize(
    "error",
    [
        requests.ConnectionError("connection reset by peer"),
        requests.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("response ended prematurely"),
    ],
    ids=["reset", "read-timeout", "cut-body"],
)
def test_get_and_delete_retry_when_no_reply(
    client: FaultClient, mocked: responses.RequestsMock, error: Exception
) -> None:
    mocked.get(JOB, body=error)
    mocked.get(JOB, json=wire_job())
    mocked.delete(JOB, body=error)
    mocked.delete(JOB, status=204)
    client.jobs.status("job-1")
    client.jobs.kill("job-1")
    assert len(mocked.calls) == 4


def test_get_gives_up_with_a_typed_error(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(JOB, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(APITimeoutError) as info:
        client.jobs.status("job-1")
    assert info.value.request_sent is True
    assert len(mocked.calls) == 3


# ---------------------------------------------------------------------- run (POST)


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_post_run_on_a_retryable_status_makes_1_call(
    client: FaultClient, mocked: responses.RequestsMock, status: int
) -> None:
    mocked.post(f"{BASE}/jobs", status=status, json={"error": "overloaded"})
    with pytest.raises(IllegalArgumentError, match="overloaded"):
        client.jobs.run(small_container())
    assert len(mocked.calls) == 1
    assert client.sleeps == []


def test_post_run_on_503_says_the_job_may_exist(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE}/jobs", status=503, json={"error": "unavailable"})
    with pytest.raises(ServerError) as info:
        client.jobs.run(small_container(), name="my-job")
    assert "may or may not have been created" in str(info.value)
    assert "jobs.list(name='my-job')" in str(info.value)
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        requests.ConnectionError("connection reset by peer"),
        requests.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("response ended prematurely"),
    ],
    ids=["reset", "read-timeout", "cut-body"],
)
def test_post_run_is_never_repeated_once_it_may_have_arrived(
    client: FaultClient, mocked: responses.RequestsMock, error: Exception
) -> None:
    mocked.post(f"{BASE}/jobs", body=error)
    mocked.post(f"{BASE}/jobs", json=wire_job(), status=202)  # must not be reached
    with pytest.raises(JobSubmissionUncertain) as info:
        client.jobs.run(small_container(), name="train-1")
    message = str(info.value)
    assert "may or may not have been created" in message
    assert "jobs.list(name='train-1')" in message
    assert info.value.request_sent is True
    assert isinstance(info.value, APIConnectionError)
    assert len(mocked.calls) == 1


def test_unnamed_uncertain_run_says_how_to_check(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE}/jobs", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(JobSubmissionUncertain, match=r"check with jobs\.list\(\)"):
        client.jobs.run(small_container())


@pytest.mark.parametrize(
    "error",
    [connect_refused(), requests.ConnectTimeout("connect timed out")],
    ids=["refused", "connect-timeout"],
)
def test_post_run_is_retried_when_the_request_never_left(
    client: FaultClient, mocked: responses.RequestsMock, error: Exception
) -> None:
    mocked.post(f"{BASE}/jobs", body=error)
    mocked.post(f"{BASE}/jobs", json=wire_job("job-2"), status=202)
    assert client.jobs.run(small_container()).id == "job-2"
    assert len(mocked.calls) == 2
    assert len(client.sleeps) == 1
    # The retry is the same request.
    assert mocked.calls[0].request.body == mocked.calls[1].request.body
    assert dict(mocked.calls[0].request.headers) == dict(mocked.calls[1].request.headers)


def test_post_run_never_sent_gives_a_plain_connection_error(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE}/jobs", body=connect_refused())
    with pytest.raises(APIConnectionError) as info:
        client.jobs.run(small_container())
    assert not isinstance(info.value, JobSubmissionUncertain)
    assert info.value.request_sent is False
    assert len(mocked.calls) == 3


# ---------------------------------------------------------------------- Retry-After


def test_429_waits_for_retry_after(client: FaultClient, mocked: responses.RequestsMock) -> None:
    mocked.get(JOB, status=429, headers={"Retry-After": "7"})
    mocked.get(JOB, json=wire_job())
    client.jobs.status("job-1")
    assert client.sleeps == [7.0]


def test_429_with_retry_after_over_the_cap_fails_at_once(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(JOB, status=429, headers={"Retry-After": "3600"}, json={"error": "slow down"})
    with pytest.raises(IllegalArgumentError, match="slow down") as info:
        client.jobs.status("job-1")
    assert info.value.status == 429
    assert len(mocked.calls) == 1
    assert client.sleeps == []


def test_503_with_an_http_date_retry_after(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(JOB, status=503, headers={"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"})
    mocked.get(JOB, json=wire_job())
    client.jobs.status("job-1")
    assert len(client.sleeps) == 1 and client.sleeps[0] <= 0.5  # past date: just the backoff


# ---------------------------------------------------------------------- timeouts


def test_every_request_has_a_connect_and_read_timeout_by_default(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(f"{BASE}/config", json={})
    mocked.get(JOB, json=wire_job())
    mocked.get(f"{BASE}/jobs", json={"jobs": []})
    mocked.delete(JOB, status=204)
    mocked.post(f"{BASE}/jobs", json=wire_job(), status=202)
    mocked.get(LOG, body=b"")
    with make() as c:
        c.jobs.status("job-1")
        c.jobs.list()
        c.jobs.kill("job-1")
        c.jobs.run(small_container())
        c.jobs.monitor("job-1").read()
    assert len(mocked.calls) == 5
    for call in mocked.calls:
        assert kwargs_of(call)["timeout"] == (10.0, 60.0)


def test_timeout_per_client_and_per_call(mocked: responses.RequestsMock) -> None:
    mocked.get(JOB, json=wire_job())
    mocked.get(LOG, body=b"")
    with make(timeout=4) as c:
        c.jobs.status("job-1")
        c.jobs.status("job-1", timeout=(2, 9))
        c.jobs.monitor("job-1").read()
        c.jobs.monitor("job-1", timeout=(3, None)).read()  # asked for: no read limit
    assert [kwargs_of(call)["timeout"] for call in mocked.calls] == [
        4.0,
        (2.0, 9.0),
        4.0,
        (3.0, None),
    ]


@pytest.mark.parametrize("timeout", [None, 0, -1, (None, 5), (0, 5), (1, 0), "5", (1, 2, 3)])
def test_a_request_without_a_connect_timeout_cannot_be_configured(timeout: Any) -> None:
    # None would be "no timeout at all", which an HTTP request never has; (c, None) is the
    # only way to wait without limit, and only between reads.
    with pytest.raises(neuro_sync.ValidationError):
        neuro_sync.Client(BASE, TOKEN, timeout=timeout)
    with make() as c, pytest.raises(neuro_sync.ValidationError):
        c.jobs.status("job-1", timeout=timeout)


# ---------------------------------------------------------------------- TLS and redirects


def test_tls_verification_is_on_by_default(mocked: responses.RequestsMock) -> None:
    https = "https://api.test/api/v1"
    mocked.get(f"{https}/jobs/job-1", json=wire_job())
    with neuro_sync.Client(https, TOKEN, cluster_config=cluster_config(https)) as c:
        c.jobs.status("job-1")
    with neuro_sync.Client(
        https, TOKEN, cluster_config=cluster_config(https), verify="/etc/ssl/ca.pem"
    ) as c:
        c.jobs.status("job-1")
    assert [kwargs_of(call)["verify"] for call in mocked.calls] == [True, "/etc/ssl/ca.pem"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_is_not_followed(
    client: FaultClient, mocked: responses.RequestsMock, status: int
) -> None:
    target = "http://elsewhere.test/api/v1/jobs/job-1"
    mocked.delete(JOB, status=status, headers={"Location": target})
    mocked.delete(target, status=204)
    mocked.get(JOB, status=status, headers={"Location": target})
    mocked.get(target, json=wire_job())
    # Before: a kill answered by a redirect looked done although nothing was killed.
    with pytest.raises(ResponseValidationError, match="redirect"):
        client.jobs.kill("job-1")
    with pytest.raises(ResponseValidationError, match="redirect"):
        client.jobs.status("job-1")
    assert [c.request.url for c in mocked.calls] == [JOB, JOB]


def test_a_401_is_not_retried_and_says_why(
    client: FaultClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(JOB, status=401, body="401: Unauthorized", content_type="text/plain")
    with pytest.raises(AuthenticationError, match="401: Unauthorized"):
        client.jobs.status("job-1")
    assert len(mocked.calls) == 1
