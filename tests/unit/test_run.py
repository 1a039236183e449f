"""`jobs.run`: the exact request the facade sends (docs/protocol.md §2.2 and the issue's mapping
rules) and the mapping of the 202 reply."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import requests
import responses
from yarl import URL

import neuro_sync
from neuro_sync import (
    Container,
    HTTPPort,
    JobDescription,
    JobStatus,
    JobStatusHistory,
    RemoteImage,
    Resources,
    Volume,
)

from .conftest import (
    BASE,
    JOB_ID,
    REGISTRY,
    TOKEN,
    USER,
    config_payload,
    make_job,
    request_json,
    sent_timeout,
)

UBUNTU = RemoteImage("ubuntu")
SMALL = Resources(memory_mb=16, cpu=0.1)


def _run(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    container: Container,
    reply: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[JobDescription, Any]:
    """Run a job against a 202 reply; return the result and the sent JSON body."""
    mocked.post(f"{BASE}/jobs", json=reply or make_job(), status=202)
    job = client.jobs.run(container, **kwargs)
    assert len(mocked.calls) == 1
    return job, request_json(mocked.calls[0])


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


def test_minimal_cpu_job_request(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    _, body = _run(client, mocked, Container(image=UBUNTU, resources=SMALL))
    assert body == {
        "container": {"image": "ubuntu", "resources": {"cpu": 0.1, "memory_mb": 16}},
        "is_preemptible": False,
    }
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == f"{BASE}/jobs"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_full_job_request(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    container = Container(
        image=RemoteImage("img", "v1", owner=USER, registry=REGISTRY),
        resources=Resources(memory_mb=30720, cpu=7, gpu=1, gpu_model="nvidia-tesla-k80", shm=True),
        entrypoint="/bin/sh -c",
        command="python train.py --epochs 3",
        http=HTTPPort(port=8080),
        env={"A": "1", "EMPTY": ""},
        volumes=[
            Volume("storage://alice/data", "/var/data", read_only=True),
            Volume("storage://alice/out", "/var/out", read_only=False),
        ],
    )
    _, body = _run(
        client,
        mocked,
        container,
        name="train-1",
        description="a training run",
        is_preemptible=True,
        schedule_timeout=600,
    )
    assert body == {
        "container": {
            "image": "registry-dev.neu.ro/alice/img:v1",
            "resources": {
                "cpu": 7.0,
                "memory_mb": 30720,
                "gpu": 1,
                "gpu_model": "nvidia-tesla-k80",
                "shm": True,
            },
            "entrypoint": "/bin/sh -c",
            "command": "python train.py --epochs 3",
            "http": {"port": 8080, "requires_auth": True},
            "env": {"A": "1", "EMPTY": ""},
            "volumes": [
                {
                    "src_storage_uri": "storage://alice/data",
                    "dst_path": "/var/data",
                    "read_only": True,
                },
                {
                    "src_storage_uri": "storage://alice/out",
                    "dst_path": "/var/out",
                    "read_only": False,
                },
            ],
        },
        "name": "train-1",
        "description": "a training run",
        "is_preemptible": True,
        "schedule_timeout": 600.0,
    }


def test_cpu_and_schedule_timeout_are_sent_as_floats(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    _run(client, mocked, Container(UBUNTU, Resources(16, 1)), schedule_timeout=60)
    raw = mocked.calls[0].request.body
    assert isinstance(raw, bytes)
    assert b'"cpu": 1.0' in raw
    assert b'"schedule_timeout": 60.0' in raw


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        # shm omitted when None (the server rejects null), sent when a bool.
        (Resources(16, 0.1, shm=None), {"cpu": 0.1, "memory_mb": 16}),
        (Resources(16, 0.1, shm=False), {"cpu": 0.1, "memory_mb": 16, "shm": False}),
        (Resources(16, 0.1, shm=True), {"cpu": 0.1, "memory_mb": 16, "shm": True}),
        # gpu/gpu_model only for GPU jobs; gpu_model only when given.
        (Resources(16, 0.1, gpu=None), {"cpu": 0.1, "memory_mb": 16}),
        (Resources(16, 0.1, gpu=0), {"cpu": 0.1, "memory_mb": 16}),
        (Resources(16, 0.1, gpu=2), {"cpu": 0.1, "memory_mb": 16, "gpu": 2}),
        (
            Resources(16, 0.1, gpu=1, gpu_model="nvidia-tesla-v100"),
            {"cpu": 0.1, "memory_mb": 16, "gpu": 1, "gpu_model": "nvidia-tesla-v100"},
        ),
    ],
)
def test_resources_mapping(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    resources: Resources,
    expected: dict[str, Any],
) -> None:
    _, body = _run(client, mocked, Container(UBUNTU, resources))
    assert body["container"]["resources"] == expected


@pytest.mark.parametrize(
    ("http", "expected"),
    [
        (HTTPPort(80), {"port": 80, "requires_auth": True}),
        (HTTPPort(80, requires_auth=False), {"port": 80, "requires_auth": False}),
        (HTTPPort(0, True), {"port": 0, "requires_auth": True}),
        (HTTPPort(65535, False), {"port": 65535, "requires_auth": False}),
    ],
)
def test_http_always_sends_requires_auth(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    http: HTTPPort,
    expected: dict[str, Any],
) -> None:
    _, body = _run(client, mocked, Container(UBUNTU, SMALL, http=http))
    assert body["container"]["http"] == expected


def test_empty_values_are_omitted_not_null(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    container = Container(UBUNTU, SMALL, entrypoint="", command="", env={}, volumes=[])
    _, body = _run(client, mocked, container, name="", description="", schedule_timeout=0)
    assert body == {
        "container": {"image": "ubuntu", "resources": {"cpu": 0.1, "memory_mb": 16}},
        "is_preemptible": False,
    }


def test_none_values_are_omitted(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    container = Container(UBUNTU, Resources(16, 0.1, None, None, None), None, None, None)
    _, body = _run(client, mocked, container, name=None, description=None, schedule_timeout=None)
    assert not _has_null(body)
    assert set(body) == {"container", "is_preemptible"}
    assert set(body["container"]) == {"image", "resources"}


@pytest.mark.parametrize(
    ("image", "wire"),
    [
        (RemoteImage("ubuntu"), "ubuntu"),
        (RemoteImage("ubuntu", "18.04"), "ubuntu:18.04"),
        (RemoteImage("gcr.io/proj/ubuntu", "latest"), "gcr.io/proj/ubuntu:latest"),
        # A non-platform image's registry is dropped (as in the 2019 SDK).
        (RemoteImage("ubuntu", "v1", registry="localhost:5000"), "ubuntu:v1"),
        (RemoteImage("img", owner="bob", registry=REGISTRY), "registry-dev.neu.ro/bob/img"),
        (RemoteImage("img", "v2", "bob", REGISTRY), "registry-dev.neu.ro/bob/img:v2"),
    ],
)
def test_images_are_sent_as_repo_strings(
    client: neuro_sync.Client, mocked: responses.RequestsMock, image: RemoteImage, wire: str
) -> None:
    _, body = _run(client, mocked, Container(image, SMALL))
    assert body["container"]["image"] == wire


@pytest.mark.parametrize(
    ("container", "kwargs", "path", "value"),
    [
        (Container(UBUNTU, SMALL), {"name": "abc"}, ("name",), "abc"),
        (Container(UBUNTU, SMALL), {"name": "a" + "b-2" * 13}, ("name",), "a" + "b-2" * 13),
        (Container(UBUNTU, SMALL), {"schedule_timeout": 1}, ("schedule_timeout",), 1.0),
        (
            Container(UBUNTU, SMALL),
            {"schedule_timeout": 2591999.5},
            ("schedule_timeout",),
            2591999.5,
        ),
        (Container(UBUNTU, SMALL), {"description": " padded "}, ("description",), " padded "),
        (Container(UBUNTU, Resources(16, 0.1)), {}, ("container", "resources", "cpu"), 0.1),
        (Container(UBUNTU, Resources(16, 128)), {}, ("container", "resources", "cpu"), 128.0),
        (Container(UBUNTU, Resources(16, 1)), {}, ("container", "resources", "memory_mb"), 16),
        (Container(UBUNTU, Resources(16, 1, gpu=128)), {}, ("container", "resources", "gpu"), 128),
        (
            Container(UBUNTU, SMALL, volumes=[Volume("storage:", "/root", True)]),
            {},
            ("container", "volumes"),
            [{"src_storage_uri": "storage:", "dst_path": "/root", "read_only": True}],
        ),
    ],
)
def test_boundary_values_are_accepted(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    container: Container,
    kwargs: dict[str, Any],
    path: tuple[str, ...],
    value: Any,
) -> None:
    _, body = _run(client, mocked, container, **kwargs)
    node: Any = body
    for key in path:
        node = node[key]
    assert node == value


def test_run_maps_the_202_reply(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    reply = make_job(image="ubuntu", command="sleep 1", name="my-job", http_port=80)
    job, _ = _run(client, mocked, Container(UBUNTU, SMALL, command="sleep 1"), reply, name="my-job")
    assert job == JobDescription(
        id=JOB_ID,
        owner=USER,
        status=JobStatus.PENDING,
        history=JobStatusHistory(
            status=JobStatus.PENDING,
            reason="",
            description="",
            created_at=datetime.datetime(2019, 8, 16, 10, 11, 12, 345678, tzinfo=datetime.UTC),
        ),
        container=Container(
            # The request said "ubuntu"; the parsed reply says ubuntu:latest (docs/protocol.md
            # §4.2).
            image=RemoteImage("ubuntu", "latest"),
            resources=Resources(16, 0.1),
            command="sleep 1",
            http=HTTPPort(80, requires_auth=False),
        ),
        is_preemptible=False,
        name="my-job",
        http_url=URL(f"http://my-job--{USER}.jobs-dev.neu.ro"),
        ssh_server=URL("ssh://nobody@ssh-auth-dev.neu.ro:22"),
        internal_hostname=f"{JOB_ID}.default",
    )


@pytest.mark.parametrize("status", [200, 201])
def test_run_accepts_another_2xx_with_a_job_body(
    client: neuro_sync.Client, mocked: responses.RequestsMock, status: int
) -> None:
    mocked.post(f"{BASE}/jobs", json=make_job(id="job-2xx"), status=status)
    job = client.jobs.run(Container(UBUNTU, SMALL))
    assert job.id == "job-2xx"
    assert job.status is JobStatus.PENDING


def test_run_per_call_timeout(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/jobs", json=make_job(), status=202)
    client.jobs.run(Container(UBUNTU, SMALL), timeout=(3, 7))
    assert sent_timeout(mocked.calls[0]) == (3.0, 7.0)


def test_run_is_not_retried_on_a_connection_error_after_sending(
    mocked: responses.RequestsMock,
) -> None:
    # Even with retries enabled, a create that may have arrived is never sent twice.
    mocked.get(f"{BASE}/config", json=config_payload())
    mocked.post(f"{BASE}/jobs", body=requests.ConnectionError("connection reset"))
    with neuro_sync.Client(BASE, TOKEN, max_retries=3) as c:
        with pytest.raises(neuro_sync.JobSubmissionUncertain):
            c.jobs.run(Container(UBUNTU, SMALL))
    assert [call.request.method for call in mocked.calls] == ["GET", "POST"]
