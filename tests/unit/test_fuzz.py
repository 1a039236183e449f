"""Property tests: whatever JSON the server sends, the facade returns a mapped object or raises
`ResponseValidationError`; never KeyError, TypeError, a requests exception or anything else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

import neuro_sync
from neuro_sync import ClusterConfig, JobDescription, JobTelemetry, ResponseValidationError
from neuro_sync._mapping import save_progress, telemetry_from_json

from .conftest import BASE, MONITORING, REGISTRY_URL, TOKEN, make_job

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "pending", "cancelled", "2019-08-16T10:11:12+00:00", "ubuntu:"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)

FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


FULL_JOB = make_job(
    status="failed",
    exit_code=1,
    reason="Error",
    status_description="Failed!\n",
    http_port=80,
    name="web",
    description="d",
    env={"A": "1"},
    volumes=[{"src_storage_uri": "storage://alice", "dst_path": "/h", "read_only": True}],
    gpu=1,
    gpu_model="nvidia-tesla-k80",
    shm=True,
    entrypoint="sh",
    schedule_timeout=5.0,
)
JOB_PATHS = [p for p in _paths(FULL_JOB) if p]


@st.composite
def mutated_jobs(draw: st.DrawFn) -> Any:
    job = json.loads(json.dumps(FULL_JOB))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(JOB_PATHS))
        node: Any = job
        try:
            for key in path[:-1]:
                node = node[key]
            if draw(st.booleans()):
                node[path[-1]] = draw(JSON)
            elif isinstance(node, dict):
                node.pop(path[-1], None)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a parent
    return job


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[neuro_sync.Client]:
    cluster = ClusterConfig(
        registry_url=URL(REGISTRY_URL),
        storage_url=URL(f"{BASE}/storage"),
        users_url=URL(f"{BASE}/users"),
        monitoring_url=URL(MONITORING),
    )
    with neuro_sync.Client(BASE, TOKEN, max_retries=0, cluster_config=cluster) as c:
        yield c


def _outcome(call: Any) -> Any:
    try:
        return call()
    except ResponseValidationError:
        return None


@FAST
@given(job=mutated_jobs())
def test_status_with_any_job_object(fuzz_client: neuro_sync.Client, job: Any) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/jobs/job-1", json=job)
        result = _outcome(lambda: fuzz_client.jobs.status("job-1"))
    assert result is None or isinstance(result, JobDescription)


@FAST
@given(body=JSON)
def test_list_with_any_json(fuzz_client: neuro_sync.Client, body: Any) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/jobs", json=body)
        result = _outcome(lambda: fuzz_client.jobs.list())
    assert result is None or result == []  # no real job can come out of random JSON


@FAST
@given(job=mutated_jobs())
def test_run_with_any_reply(fuzz_client: neuro_sync.Client, job: Any) -> None:
    container = neuro_sync.Container(neuro_sync.RemoteImage("ubuntu"), neuro_sync.Resources(16, 1))
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/jobs", json=job, status=202)
        result = _outcome(lambda: fuzz_client.jobs.run(container))
    assert result is None or isinstance(result, JobDescription)


@FAST
@given(body=st.binary(max_size=40))
def test_status_with_any_bytes(fuzz_client: neuro_sync.Client, body: bytes) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/jobs/job-1", body=body)
        result = _outcome(lambda: fuzz_client.jobs.status("job-1"))
    assert result is None


@FAST
@given(
    frame=JSON
    | st.fixed_dictionaries(
        {"cpu": JSON, "memory": JSON, "timestamp": JSON},
        optional={"gpu_duty_cycle": JSON, "gpu_memory": JSON},
    )
)
def test_telemetry_frames(frame: Any) -> None:
    result = _outcome(lambda: telemetry_from_json(frame))
    assert result is None or isinstance(result, JobTelemetry)


@FAST
@given(line=st.binary(max_size=30) | JSON.map(lambda v: json.dumps(v).encode()))
def test_save_progress_lines(line: bytes) -> None:
    result = _outcome(lambda: save_progress(line))
    assert result is None or isinstance(result, tuple)
