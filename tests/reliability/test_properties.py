"""Property-based tests (hypothesis).

* Replies: valid job objects (docs/protocol.md §2.6) with random mutations (keys dropped,
  values of the wrong type, random JSON in their place, extra keys), random JSON and random
  bytes, served as the reply of `status`, `list` and `run`, give a `JobDescription` or
  `ResponseValidationError`; never a KeyError, TypeError, a requests exception or anything
  else. Error replies with random bodies give the `APIStatusError` of their status.
* Input: a valid `Container` with one invalid part (and invalid `run` arguments) is rejected
  with `ValidationError` before any request is made.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

import neuro_sync
from neuro_sync import (
    APIStatusError,
    Container,
    HTTPPort,
    JobDescription,
    JobStatus,
    RemoteImage,
    Resources,
    ValidationError,
    Volume,
)
from tests.support.strategies import JSON, fuzz_settings, mutated, outcome

from .conftest import TOKEN, cluster_config, wire_job

BASE = "http://api.test/api/v1"

SETTINGS = fuzz_settings(150)

# ---------------------------------------------------------------------- reply payloads


def _full_job() -> dict[str, Any]:
    job = wire_job(
        "job-full",
        status="failed",
        name="web",
        entrypoint="/bin/sh",
        env={"A": "1"},
        volumes=[
            {"src_storage_uri": "storage://alice/d", "dst_path": "/d", "read_only": False},
        ],
        http={"port": 80, "health_check_path": "/", "requires_auth": True},
        resources={"cpu": 1.0, "memory_mb": 1024, "gpu": 1, "gpu_model": "k80", "shm": True},
    )
    job["description"] = "d"
    job["http_url"] = "http://job-full.jobs-dev.neu.ro"
    job["http_url_named"] = "http://web--alice.jobs-dev.neu.ro"
    job["history"]["reason"] = "Error"
    job["history"]["exit_code"] = 1
    job["schedule_timeout"] = 60.0
    return job


BASE_JOBS = [wire_job(), wire_job(status="running"), _full_job()]


def mutated_jobs() -> st.SearchStrategy[Any]:
    return mutated(BASE_JOBS)


BODIES = (
    mutated_jobs().map(lambda d: json.dumps(d).encode())
    | JSON.map(lambda d: json.dumps(d).encode())
    | st.binary(max_size=64)
    | st.sampled_from([b"", b"null", b"[]", b"{", b"NaN", b'{"id": 1e400}', b"\xff\xfe"])
)


@pytest.fixture
def client() -> Iterator[neuro_sync.Client]:
    with neuro_sync.Client(BASE, TOKEN, max_retries=0, cluster_config=cluster_config(BASE)) as c:
        yield c


def _check_job(job: JobDescription) -> None:
    assert isinstance(job.id, str) and isinstance(job.owner, str)
    assert isinstance(job.status, JobStatus)
    assert isinstance(job.container.resources.memory_mb, int)
    assert isinstance(job.container.resources.cpu, float)
    assert isinstance(job.container.image, RemoteImage)
    repr(job)  # every part of it is printable


@SETTINGS
@given(body=BODIES)
def test_any_job_reply_gives_a_job_or_our_error(client: neuro_sync.Client, body: bytes) -> None:
    with responses.RequestsMock() as mocked:
        mocked.get(f"{BASE}/jobs/job-1", body=body, content_type="application/json")
        job = outcome(lambda: client.jobs.status("job-1"))
    if job is not None:
        _check_job(job)


@SETTINGS
@given(body=BODIES)
def test_any_run_reply_gives_a_job_or_our_error(client: neuro_sync.Client, body: bytes) -> None:
    container = Container(RemoteImage("ubuntu"), Resources(16, 0.1))
    with responses.RequestsMock() as mocked:
        mocked.post(f"{BASE}/jobs", body=body, status=202, content_type="application/json")
        job = outcome(lambda: client.jobs.run(container))
    if job is not None:
        _check_job(job)


@SETTINGS
@given(jobs=st.lists(mutated_jobs() | st.sampled_from(BASE_JOBS), max_size=4), wrap=st.booleans())
def test_any_list_reply_gives_jobs_or_our_error(
    client: neuro_sync.Client, jobs: list[Any], wrap: bool
) -> None:
    payload: Any = {"jobs": jobs} if wrap else jobs
    with responses.RequestsMock() as mocked:
        mocked.get(f"{BASE}/jobs", json=payload)
        got = outcome(lambda: client.jobs.list())
    if got is not None:
        assert wrap and len(got) == len(jobs)
        for job in got:
            _check_job(job)


@SETTINGS
@given(
    status=st.sampled_from([400, 401, 403, 404, 405, 409, 422, 429, 500, 502, 503, 504, 599]),
    body=BODIES
    | JSON.map(lambda d: json.dumps({"error": d}).encode())
    | JSON.map(lambda d: json.dumps({"resources": d}).encode())
    | JSON.map(lambda d: json.dumps({"error": json.dumps({"error": d})}).encode()),
)
def test_any_error_reply_gives_the_error_of_its_status(
    client: neuro_sync.Client, status: int, body: bytes
) -> None:
    with responses.RequestsMock() as mocked:
        mocked.get(f"{BASE}/jobs/job-1", body=body, status=status)
        with pytest.raises(APIStatusError) as info:
            client.jobs.status("job-1")
    assert info.value.status == status
    assert isinstance(info.value.message, str) and info.value.message


# ---------------------------------------------------------------------- invalid input

VALID = Container(
    image=RemoteImage("ubuntu", tag="latest"),
    resources=Resources(memory_mb=128, cpu=0.5, gpu=1, gpu_model="k80", shm=True),
    entrypoint="/bin/sh",
    command="sleep 1",
    http=HTTPPort(80, True),
    env={"A": "1"},
    volumes=[Volume("storage://alice/data", "/data", False)],
)

NOT_INT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.booleans(),
    st.just([1]),
    st.just(None),
)
NOT_NUMBER = st.one_of(st.text(max_size=5), st.booleans(), st.just([1]), st.just(None))
NOT_BOOL = st.one_of(st.integers(), st.text(max_size=5), st.just(None), st.just([True]))
NOT_BOOL_OR_NONE = st.one_of(st.integers(), st.text(max_size=5), st.just([True]))
BLANK = st.text(alphabet=" \t\n", max_size=4)
NOT_STR: st.SearchStrategy[Any] = st.one_of(
    st.integers(), st.floats(), st.booleans(), st.just([]), st.just(b"x")
)
NOT_STR_KEY = st.one_of(st.integers(), st.booleans(), st.just(b"x"), st.just(("a",)))


def _with(**changes: Any) -> Container:
    """VALID with some fields replaced (by values of any type: that is the point)."""
    return dataclasses.replace(VALID, **changes)


def _resources(**changes: Any) -> Container:
    return _with(resources=dataclasses.replace(VALID.resources, **changes))


def _image(**changes: Any) -> Container:
    return _with(image=dataclasses.replace(VALID.image, **changes))


def _volume(**changes: Any) -> Container:
    return _with(volumes=[dataclasses.replace(VALID.volumes[0], **changes)])


def _http(**changes: Any) -> Container:
    assert VALID.http is not None
    return _with(http=dataclasses.replace(VALID.http, **changes))


INVALID_CONTAINERS = st.one_of(
    # Resources
    st.integers(max_value=15).map(lambda v: _resources(memory_mb=v)),
    NOT_INT.map(lambda v: _resources(memory_mb=v)),
    st.floats(max_value=0.0999).map(lambda v: _resources(cpu=v)),
    st.floats(min_value=128.0001).map(lambda v: _resources(cpu=v)),
    st.sampled_from([math.nan, math.inf, -math.inf]).map(lambda v: _resources(cpu=v)),
    NOT_NUMBER.map(lambda v: _resources(cpu=v)),
    st.integers(max_value=-1).map(lambda v: _resources(gpu=v)),
    st.integers(min_value=129).map(lambda v: _resources(gpu=v)),
    st.one_of(st.floats(), st.text(max_size=3), st.booleans()).map(lambda v: _resources(gpu=v)),
    st.sampled_from([None, 0]).map(lambda g: _resources(gpu=g, gpu_model="k80")),
    BLANK.map(lambda v: _resources(gpu_model=v)),
    NOT_STR.map(lambda v: _resources(gpu_model=v)),
    NOT_BOOL_OR_NONE.map(lambda v: _resources(shm=v)),
    # Image
    BLANK.map(lambda v: _image(name=v)),
    NOT_STR.map(lambda v: _image(name=v)),
    st.sampled_from(["", "a:b", "a/b", "with space"]).map(lambda v: _image(tag=v)),
    NOT_STR.map(lambda v: _image(tag=v)),
    # Volumes
    st.sampled_from(["/data", "file:///x", "", "storage://alice/../bob", "data"]).map(
        lambda v: _volume(storage_path=v)
    ),
    st.sampled_from(["data", "", "/a/../b", "~/x"]).map(lambda v: _volume(container_path=v)),
    NOT_BOOL.map(lambda v: _volume(read_only=v)),
    st.just(_with(volumes=[VALID.volumes[0], VALID.volumes[0]])),
    st.sampled_from(["storage://x", b"x", 5]).map(lambda v: _with(volumes=v)),
    st.just(_with(volumes=["storage://alice/data:/data"])),
    # HTTP
    st.integers(max_value=-1).map(lambda v: _http(port=v)),
    st.integers(min_value=65536).map(lambda v: _http(port=v)),
    NOT_INT.map(lambda v: _http(port=v)),
    NOT_BOOL.map(lambda v: _http(requires_auth=v)),
    st.just(_with(http=80)),
    # Env, entrypoint, command
    st.dictionaries(NOT_STR_KEY, st.just("v"), min_size=1).map(lambda v: _with(env=v)),
    st.dictionaries(st.just("K"), NOT_STR, min_size=1).map(lambda v: _with(env=v)),
    BLANK.filter(bool).map(lambda v: _with(env={v: "x"})),
    st.sampled_from(["A=1", ["A=1"], 5]).map(lambda v: _with(env=v)),
    BLANK.filter(bool).map(lambda v: _with(command=v)),
    NOT_STR.map(lambda v: _with(command=v)),
    NOT_STR.map(lambda v: _with(entrypoint=v)),
    # Whole parts of the wrong type
    st.sampled_from(["ubuntu", None, 5]).map(lambda v: _with(image=v)),
    st.sampled_from([None, (16, 0.1), {"memory_mb": 16, "cpu": 0.1}]).map(
        lambda v: _with(resources=v)
    ),
)

INVALID_RUN_ARGS = st.one_of(
    st.sampled_from(["ab", "a" * 41, "Job", "1job", "job-", "jo--b", "job_1", "job 1", "jób"]).map(
        lambda v: {"name": v}
    ),
    NOT_STR.filter(lambda v: v != b"").map(lambda v: {"name": v}),
    BLANK.filter(bool).map(lambda v: {"description": v}),
    NOT_STR.map(lambda v: {"description": v}),
    NOT_BOOL.map(lambda v: {"is_preemptible": v}),
    st.floats(min_value=0.0001, max_value=0.999).map(lambda v: {"schedule_timeout": v}),
    st.floats(min_value=30 * 24 * 3600).map(lambda v: {"schedule_timeout": v}),
    st.sampled_from([-1, math.nan, "60", True]).map(lambda v: {"schedule_timeout": v}),
)


@pytest.fixture
def no_http() -> Iterator[responses.RequestsMock]:
    """Nothing registered: any request would fail with a connection error, and is recorded."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


@SETTINGS
@given(container=INVALID_CONTAINERS)
def test_invalid_container_is_rejected_before_any_request(
    client: neuro_sync.Client, no_http: responses.RequestsMock, container: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.run(container)
    assert info.value.field.startswith("container")
    assert len(no_http.calls) == 0


@SETTINGS
@given(args=INVALID_RUN_ARGS)
def test_invalid_run_arguments_are_rejected_before_any_request(
    client: neuro_sync.Client, no_http: responses.RequestsMock, args: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.run(VALID, **args)
    assert info.value.field == next(iter(args))
    assert len(no_http.calls) == 0


def test_the_valid_container_is_accepted(client: neuro_sync.Client) -> None:
    with responses.RequestsMock() as mocked:
        mocked.post(f"{BASE}/jobs", json=wire_job(), status=202)
        client.jobs.run(VALID, name="web-1", description="d", schedule_timeout=60)
        assert len(mocked.calls) == 1
