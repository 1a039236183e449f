"""`client.jobs`: list, status, kill, monitor, save and wait against `responses`
(exact URLs, query strings, headers and bodies)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from responses import matchers

import neuro_sync
from neuro_sync import (
    JobSaveError,
    JobStatus,
    RemoteImage,
    ResponseValidationError,
    ValidationError,
    WaitTimeout,
)

from .conftest import (
    BASE,
    JOB_ID,
    MONITORING,
    REGISTRY,
    TOKEN,
    make_job,
    request_json,
    sent_kwargs,
    sent_timeout,
)

IMAGE = RemoteImage("img", "v1", "alice", REGISTRY)

# --------------------------------------------------------------------------- list


@pytest.mark.parametrize(
    ("kwargs", "query"),
    [
        ({}, ""),
        ({"statuses": None, "name": None}, ""),
        ({"statuses": []}, ""),
        ({"statuses": set()}, ""),
        ({"name": ""}, ""),
        ({"statuses": {JobStatus.RUNNING}}, "?status=running"),
        # Sorted and de-duplicated, so the same filter always makes the same URL.
        (
            {"statuses": {JobStatus.RUNNING, JobStatus.PENDING}},
            "?status=pending&status=running",
        ),
        (
            {"statuses": ["succeeded", JobStatus.FAILED, "succeeded"]},
            "?status=failed&status=succeeded",
        ),
        ({"name": "my-job"}, "?name=my-job"),
        ({"statuses": ["running"], "name": "my-job"}, "?status=running&name=my-job"),
        ({"owners": ["bob", "carol"]}, "?owner=bob&owner=carol"),
    ],
)
def test_list_query_string(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    kwargs: dict[str, Any],
    query: str,
) -> None:
    mocked.get(f"{BASE}/jobs", json={"jobs": []})
    assert client.jobs.list(**kwargs) == []
    request = mocked.calls[0].request
    assert request.method == "GET"
    assert request.url == f"{BASE}/jobs{query}"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_list_returns_jobs_in_server_order(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = [
        make_job(id="job-old", status="succeeded", name="train"),
        make_job(id="job-mid", status="failed", name="train", exit_code=1),
        make_job(id="job-new", status="running", name="train"),
    ]
    mocked.get(f"{BASE}/jobs", json={"jobs": wire})
    jobs = client.jobs.list(name="train")
    assert [(j.id, j.status, j.name) for j in jobs] == [
        ("job-old", JobStatus.SUCCEEDED, "train"),
        ("job-mid", JobStatus.FAILED, "train"),
        ("job-new", JobStatus.RUNNING, "train"),
    ]
    # The CLI's name -> id resolution: the last element is the newest.
    assert jobs[-1].id == "job-new"


def test_list_per_call_timeout(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/jobs", json={"jobs": []})
    client.jobs.list(timeout=2.5)
    assert sent_timeout(mocked.calls[0]) == 2.5


# --------------------------------------------------------------------------- status


def test_status_request(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="running"))
    job = client.jobs.status(JOB_ID)
    assert job.id == JOB_ID
    assert job.status is JobStatus.RUNNING
    request = mocked.calls[0].request
    assert (request.method, request.url) == ("GET", f"{BASE}/jobs/{JOB_ID}")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.body is None


def test_status_quotes_the_id_as_one_path_segment(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/a%2Fb%3Fc", json=make_job(id="a/b?c"))
    assert client.jobs.status("a/b?c").id == "a/b?c"
    assert mocked.calls[0].request.url == f"{BASE}/jobs/a%2Fb%3Fc"


def test_default_timeout_is_sent(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job())
    client.jobs.status(JOB_ID)
    assert sent_timeout(mocked.calls[0]) == (10.0, 60.0)


# --------------------------------------------------------------------------- kill


def test_kill(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.delete(f"{BASE}/jobs/{JOB_ID}", status=204)
    assert client.jobs.kill(JOB_ID) is None  # type: ignore[func-returns-value]
    request = mocked.calls[0].request
    assert (request.method, request.url) == ("DELETE", f"{BASE}/jobs/{JOB_ID}")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_kill_is_idempotent(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.delete(f"{BASE}/jobs/{JOB_ID}", status=204)
    client.jobs.kill(JOB_ID)
    client.jobs.kill(JOB_ID)
    assert len(mocked.calls) == 2


def test_kill_accepts_another_2xx(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.delete(f"{BASE}/jobs/{JOB_ID}", status=200, json={})
    client.jobs.kill(JOB_ID)
    assert len(mocked.calls) == 1


# --------------------------------------------------------------------------- monitor


def test_monitor_streams_bytes(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{MONITORING}/{JOB_ID}/log",
        body=b"hello\n\xff\xfebinary\nworld\n",
        content_type="text/plain; charset=utf-8",
        match=[matchers.header_matcher({"Accept-Encoding": "identity"})],
    )
    with client.jobs.monitor(JOB_ID) as stream:
        chunks = list(stream)
    assert b"".join(chunks) == b"hello\n\xff\xfebinary\nworld\n"
    assert all(isinstance(c, bytes) and c for c in chunks)
    assert stream.closed
    request = mocked.calls[0].request
    assert request.url == f"{MONITORING}/{JOB_ID}/log"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept-Encoding"] == "identity"
    assert sent_kwargs(mocked.calls[0])["stream"] is True


def test_monitor_read_and_close(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"line 1\nline 2\n")
    stream = client.jobs.monitor(JOB_ID)
    assert not stream.closed
    assert stream.read() == b"line 1\nline 2\n"
    assert stream.closed
    with pytest.raises(ValueError, match="closed log stream"):
        list(stream)


def test_monitor_closed_early_cannot_be_iterated(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"data")
    with client.jobs.monitor(JOB_ID) as stream:
        pass
    assert stream.closed
    with pytest.raises(ValueError, match="closed log stream"):
        stream.read()


def test_monitor_empty_log(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"")
    with client.jobs.monitor(JOB_ID) as stream:
        assert stream.read() == b""


def test_monitor_timeout_override(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"x")
    with client.jobs.monitor(JOB_ID, timeout=(5, None)) as stream:
        stream.read()
    assert sent_timeout(mocked.calls[0]) == (5.0, None)


# --------------------------------------------------------------------------- save

SAVE_OK_LINES: list[dict[str, Any]] = [
    {
        "status": "CommitStarted",
        "details": {"container": "a" * 64, "image": "registry-dev.neu.ro/alice/img:v1"},
    },
    {"status": "CommitFinished"},
    {"status": "The push refers to repository [registry-dev.neu.ro/alice/img]"},
    {"status": "Preparing", "progressDetail": {}, "id": "a1b2c3"},
    {"status": "Pushed", "progressDetail": {}, "id": "a1b2c3"},
    {"status": "v1: digest: sha256:abc size: 1234"},
    {"progressDetail": {}, "aux": {"Tag": "v1", "Digest": "sha256:abc", "Size": 1234}},
]


def _ndjson(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\r\n" for line in lines)


def test_save_reads_the_progress_stream(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        f"{MONITORING}/{JOB_ID}/save",
        body=_ndjson(SAVE_OK_LINES),
        content_type="application/x-ndjson; charset=utf-8",
    )
    assert client.jobs.save(JOB_ID, IMAGE) is None  # type: ignore[func-returns-value]
    request = mocked.calls[0].request
    assert (request.method, request.url) == ("POST", f"{MONITORING}/{JOB_ID}/save")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request_json(mocked.calls[0]) == {
        "container": {"image": "registry-dev.neu.ro/alice/img:v1"}
    }


def test_save_without_tag(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{MONITORING}/{JOB_ID}/save", body=_ndjson(SAVE_OK_LINES))
    client.jobs.save(JOB_ID, RemoteImage("team/img", owner="bob", registry=REGISTRY))
    assert request_json(mocked.calls[0]) == {
        "container": {"image": "registry-dev.neu.ro/bob/team/img"}
    }


def test_save_legacy_201_without_body(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{MONITORING}/{JOB_ID}/save", status=201, body=b"")
    client.jobs.save(JOB_ID, IMAGE)
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [{"error": f"Job '{JOB_ID}' is not running.", "errorDetail": {"message": "x"}}],
            f"Job '{JOB_ID}' is not running.",
        ),
        (
            [
                SAVE_OK_LINES[0],
                SAVE_OK_LINES[1],
                {
                    "error": f"Failed to save job '{JOB_ID}': DockerError(500, 'push failed')",
                    "errorDetail": {"message": "push failed"},
                },
            ],
            f"Failed to save job '{JOB_ID}': DockerError(500, 'push failed')",
        ),
        ([{"error": "Unexpected error: boom"}], "Unexpected error: boom"),
        (
            [SAVE_OK_LINES[0]],
            f"Saving job {JOB_ID} ended without CommitFinished",
        ),
        ([], f"Saving job {JOB_ID} ended without CommitFinished"),
    ],
)
def test_save_in_band_errors_raise(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    lines: list[dict[str, Any]],
    message: str,
) -> None:
    mocked.post(f"{MONITORING}/{JOB_ID}/save", status=200, body=_ndjson(lines))
    with pytest.raises(JobSaveError) as info:
        client.jobs.save(JOB_ID, IMAGE)
    assert str(info.value) == message


def test_save_in_band_error_redacts_the_token(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{MONITORING}/{JOB_ID}/save", body=_ndjson([{"error": f"denied for {TOKEN}"}]))
    with pytest.raises(JobSaveError) as info:
        client.jobs.save(JOB_ID, IMAGE)
    assert str(info.value) == "denied for <redacted>"


@pytest.mark.parametrize(
    "body",
    [b"not json\r\n", b"[1, 2]\r\n", b'{"status": "CommitStarted"}\r\n{"error": \r\n'],
)
def test_save_malformed_stream(
    client: neuro_sync.Client, mocked: responses.RequestsMock, body: bytes
) -> None:
    mocked.post(f"{MONITORING}/{JOB_ID}/save", body=body)
    with pytest.raises(ResponseValidationError, match=r"^Malformed save progress line: "):
        client.jobs.save(JOB_ID, IMAGE)


def test_save_ignores_blank_lines(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    body = b"\r\n" + _ndjson(SAVE_OK_LINES[:2]) + b"\r\n\r\n"
    mocked.post(f"{MONITORING}/{JOB_ID}/save", body=body)
    client.jobs.save(JOB_ID, IMAGE)


# --------------------------------------------------------------------------- wait


def test_wait_polls_until_finished(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    url = f"{BASE}/jobs/{JOB_ID}"
    for status in ("pending", "pending", "running", "succeeded"):
        mocked.get(
            url, json=make_job(status=status, exit_code=0 if status == "succeeded" else None)
        )
    job = client.jobs.wait(JOB_ID, poll_interval=0.001)
    assert job.status is JobStatus.SUCCEEDED
    assert job.history.exit_code == 0
    assert len(mocked.calls) == 4


def test_wait_returns_at_once_when_already_there(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="failed", exit_code=2))
    job = client.jobs.wait(JOB_ID, timeout=0)
    assert job.status is JobStatus.FAILED
    assert len(mocked.calls) == 1


def test_wait_for_running(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    url = f"{BASE}/jobs/{JOB_ID}"
    mocked.get(url, json=make_job(status="pending"))
    mocked.get(url, json=make_job(status="running"))
    job = client.jobs.wait(JOB_ID, statuses=["running"], poll_interval=0.001)
    assert job.status is JobStatus.RUNNING
    assert len(mocked.calls) == 2


def test_wait_timeout(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="pending"))
    with pytest.raises(WaitTimeout) as info:
        client.jobs.wait(JOB_ID, timeout=0.05, poll_interval=0.01)
    assert str(info.value) == f"Job {JOB_ID} is still pending after 0.05 s"
    assert isinstance(info.value, TimeoutError)
    job = info.value.job
    assert isinstance(job, neuro_sync.JobDescription)
    assert job.status is JobStatus.PENDING
    assert 2 <= len(mocked.calls) <= 10


def test_wait_max_time_is_the_total_and_timeout_its_earlier_name(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="pending"))
    with pytest.raises(WaitTimeout, match="still pending after 0.05 s"):
        client.jobs.wait(JOB_ID, max_time=0.05, poll_interval=0.01)
    calls = len(mocked.calls)
    assert calls >= 2
    with pytest.raises(ValidationError, match="earlier name of max_time") as info:
        client.jobs.wait(JOB_ID, max_time=1, timeout=1)
    assert info.value.field == "timeout"
    with pytest.raises(ValidationError, match="max_time"):
        client.jobs.wait(JOB_ID, max_time=-1)
    assert len(mocked.calls) == calls  # nothing sent for bad input


def test_exec_max_time_and_timeout_are_one_limit(client: neuro_sync.Client) -> None:
    with pytest.raises(ValidationError, match="earlier name of max_time"):
        client.jobs.exec(JOB_ID, ["true"], max_time=1, timeout=1)


def test_wait_timeout_zero_polls_once(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="running"))
    with pytest.raises(WaitTimeout):
        client.jobs.wait(JOB_ID, timeout=0)
    assert len(mocked.calls) == 1


def test_wait_propagates_job_not_found(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json={"error": f"no such job {JOB_ID}"}, status=400)
    with pytest.raises(neuro_sync.JobNotFound):
        client.jobs.wait(JOB_ID, timeout=1)


def test_jobs_repr(client: neuro_sync.Client) -> None:
    assert repr(client.jobs) == "<Jobs user='alice'>"


def test_list_rejects_a_bare_string_for_statuses(client: neuro_sync.Client) -> None:
    with pytest.raises(neuro_sync.ValidationError) as info:
        client.jobs.list(statuses="running")
    assert info.value.field == "statuses"


def test_wait_returns_a_finished_job_with_a_newer_status(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    job = make_job(status="succeeded")
    # A status newer than this client (cancelled is known since the 2022 dialect).
    job["status"] = job["history"]["status"] = "evicted"
    mocked.get(f"{BASE}/jobs/{job['id']}", json=job)
    done = client.jobs.wait(job["id"], timeout=5, poll_interval=0.01)
    assert done.status is neuro_sync.JobStatus.UNKNOWN
    assert done.history.finished_at is not None


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled"])
def test_wait_for_running_returns_a_job_that_finished_first(
    client: neuro_sync.Client, mocked: responses.RequestsMock, status: str
) -> None:
    # A finished job reaches no other status: waiting on would never end.
    url = f"{BASE}/jobs/{JOB_ID}"
    mocked.get(url, json=make_job(status="pending"))
    job = make_job(status="succeeded")
    job["status"] = job["history"]["status"] = status
    mocked.get(url, json=job)
    done = client.jobs.wait(JOB_ID, statuses=["running"], poll_interval=0.001)
    assert done.status.value == status
    assert done.history.finished_at is not None
    assert len(mocked.calls) == 2
