"""Input validation: a `ValidationError` naming the field, raised before anything is sent.

The `client` fixture has no reply registered beyond the (already fetched) `/config`, so a request
that slipped through would fail as a connection error, not as the expected `ValidationError`;
each test also checks that `mocked.calls` stays empty.
"""

from __future__ import annotations

from typing import Any

import pytest
import responses

import neuro_sync
from neuro_sync import (
    Container,
    HTTPPort,
    JobStatus,
    RemoteImage,
    Resources,
    ValidationError,
    Volume,
)

from .conftest import BASE, TOKEN

UBUNTU = RemoteImage("ubuntu")
SMALL = Resources(16, 0.1)
# The messages are the spec's (the generated schemas), the same the local platform sends.
CPU_LOW, CPU_HIGH = "value is less than 0.1", "value is greater than 128"
GPU_LOW, GPU_HIGH = "value is less than 0", "value is greater than 128"
PORT_LOW, PORT_HIGH = "value is less than 0", "value is greater than 65535"
SCHEDULE_LOW, SCHEDULE_HIGH = "value is less than 1", "value should be less than 2592000"
NAME_PATTERN = "does not match pattern ^[a-z](?:-?[a-z0-9])*$"
NAME_LENGTH = "length should be between 3 and 40"
BLANK = "blank value is not allowed"
NOT_STR, NOT_INT, NOT_NUMBER = "value is not a string", "value is not int", "value is not float"
NOT_BOOL = "value should be True or False"
GPU_MODEL = "gpu_model is allowed only together with gpu"


def c(**kwargs: Any) -> Container:
    fields: dict[str, Any] = {"image": UBUNTU, "resources": SMALL}
    fields.update(kwargs)
    return Container(**fields)


def vol(storage: str = "storage://alice/data", path: str = "/data", ro: Any = True) -> Volume:
    return Volume(storage, path, ro)


RUN_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # name: pattern and length (docs/protocol.md §2.2)
    ("name-short", {"name": "ab"}, "name", NAME_LENGTH),
    ("name-long", {"name": "a" * 41}, "name", NAME_LENGTH),
    ("name-upper", {"name": "Job-1"}, "name", NAME_PATTERN),
    ("name-digit-first", {"name": "1job"}, "name", NAME_PATTERN),
    ("name-trailing-dash", {"name": "job-"}, "name", NAME_PATTERN),
    ("name-double-dash", {"name": "my--job"}, "name", NAME_PATTERN),
    ("name-underscore", {"name": "my_job"}, "name", NAME_PATTERN),
    ("name-not-str", {"name": 123}, "name", NOT_STR),
    # description / is_preemptible / schedule_timeout
    ("description-blank", {"description": "   "}, "description", BLANK),
    ("description-not-str", {"description": 5}, "description", NOT_STR),
    (
        "description-long",
        {"description": "d" * 4097},
        "description",
        "length should be at most 4096",
    ),
    ("preemptible-str", {"is_preemptible": "true"}, "is_preemptible", NOT_BOOL),
    ("preemptible-int", {"is_preemptible": 1}, "is_preemptible", NOT_BOOL),
    ("schedule-below-1", {"schedule_timeout": 0.5}, "schedule_timeout", SCHEDULE_LOW),
    ("schedule-negative", {"schedule_timeout": -1}, "schedule_timeout", SCHEDULE_LOW),
    ("schedule-30-days", {"schedule_timeout": 2592000}, "schedule_timeout", SCHEDULE_HIGH),
    ("schedule-str", {"schedule_timeout": "60"}, "schedule_timeout", NOT_NUMBER),
    ("schedule-bool", {"schedule_timeout": True}, "schedule_timeout", NOT_NUMBER),
]

CONTAINER_CASES: list[tuple[str, Any, str, str]] = [
    # resources
    ("cpu-low", c(resources=Resources(16, 0.09)), "container.resources.cpu", CPU_LOW),
    ("cpu-zero", c(resources=Resources(16, 0)), "container.resources.cpu", CPU_LOW),
    ("cpu-high", c(resources=Resources(16, 128.01)), "container.resources.cpu", CPU_HIGH),
    (
        "cpu-str",
        c(resources=Resources(16, "1")),  # type: ignore[arg-type]
        "container.resources.cpu",
        NOT_NUMBER,
    ),
    (
        "memory-low",
        c(resources=Resources(15, 1)),
        "container.resources.memory_mb",
        "value is less than 16",
    ),
    (
        "memory-float",
        c(resources=Resources(1024.5, 1)),  # type: ignore[arg-type]
        "container.resources.memory_mb",
        NOT_INT,
    ),
    (
        "memory-bool",
        c(resources=Resources(True, 1)),
        "container.resources.memory_mb",
        NOT_INT,
    ),
    ("gpu-negative", c(resources=Resources(16, 1, gpu=-1)), "container.resources.gpu", GPU_LOW),
    ("gpu-high", c(resources=Resources(16, 1, gpu=129)), "container.resources.gpu", GPU_HIGH),
    (
        "gpu-float",
        c(resources=Resources(16, 1, gpu=1.5)),  # type: ignore[arg-type]
        "container.resources.gpu",
        NOT_INT,
    ),
    (
        "gpu-model-without-gpu",
        c(resources=Resources(16, 1, gpu_model="nvidia-tesla-k80")),
        "container.resources.gpu_model",
        GPU_MODEL,
    ),
    (
        "gpu-model-with-zero-gpu",
        c(resources=Resources(16, 1, gpu=0, gpu_model="nvidia-tesla-k80")),
        "container.resources.gpu_model",
        GPU_MODEL,
    ),
    (
        "gpu-model-blank",
        c(resources=Resources(16, 1, gpu=1, gpu_model=" ")),
        "container.resources.gpu_model",
        BLANK,
    ),
    (
        "shm-str",
        c(resources=Resources(16, 1, shm="yes")),  # type: ignore[arg-type]
        "container.resources.shm",
        NOT_BOOL,
    ),
    # image
    ("image-blank", c(image=RemoteImage("  ")), "container.image.name", BLANK),
    (
        "image-tag-empty",
        c(image=RemoteImage("ubuntu", "")),
        "container.image.tag",
        "must be non-empty without ':' or '/'",
    ),
    (
        "image-tag-colon",
        c(image=RemoteImage("ubuntu", "a:b")),
        "container.image.tag",
        "must be non-empty without ':' or '/'",
    ),
    (
        "image-owner-blank",
        c(image=RemoteImage("img", "v1", " ", "registry-dev.neu.ro")),
        "container.image.owner",
        BLANK,
    ),
    # entrypoint / command / env
    ("command-blank", c(command=" \t"), "container.command", BLANK),
    ("entrypoint-blank", c(entrypoint="  "), "container.entrypoint", BLANK),
    ("env-key-blank", c(env={" ": "x"}), "container.env. .key", BLANK),
    ("env-value-int", c(env={"A": 1}), "container.env.A.value", NOT_STR),
    # size limits (the spec's maxLength / maxProperties), the limit in the message
    ("command-long", c(command="x" * 65537), "container.command", "length should be at most 65536"),
    (
        "entrypoint-long",
        c(entrypoint="x" * 65537),
        "container.entrypoint",
        "length should be at most 65536",
    ),
    (
        "env-key-long",
        c(env={"K" * 257: ""}),
        f"container.env.{'K' * 257}.key",
        "length should be at most 256",
    ),
    (
        "env-value-long",
        c(env={"A": "x" * 65537}),
        "container.env.A.value",
        "length should be at most 65536",
    ),
    (
        "env-too-many",
        c(env={f"V{i}": "" for i in range(1001)}),
        "container.env",
        "should have at most 1000 keys",
    ),
    # http
    ("port-negative", c(http=HTTPPort(-1)), "container.http.port", PORT_LOW),
    ("port-high", c(http=HTTPPort(65536)), "container.http.port", PORT_HIGH),
    (
        "port-str",
        c(http=HTTPPort("80")),  # type: ignore[arg-type]
        "container.http.port",
        NOT_INT,
    ),
    (
        "requires-auth-str",
        c(http=HTTPPort(80, "no")),  # type: ignore[arg-type]
        "container.http.requires_auth",
        NOT_BOOL,
    ),
    # volumes
    (
        "volume-relative-path",
        c(volumes=[vol(path="data")]),
        "container.volumes.0.container_path",
        "Mount path must be absolute: data",
    ),
    (
        "volume-dotdot-path",
        c(volumes=[vol(path="/data/../etc")]),
        "container.volumes.0.container_path",
        "Invalid path: /data/../etc",
    ),
    (
        "volume-not-storage",
        c(volumes=[vol(storage="file:///data")]),
        "container.volumes.0.storage_path",
        "Invalid URI scheme: file:///data",
    ),
    (
        "volume-storage-dotdot",
        c(volumes=[vol(storage="storage://alice/../bob")]),
        "container.volumes.0.storage_path",
        "Invalid path: storage://alice/../bob",
    ),
    (
        "volume-second-bad",
        c(volumes=[vol(), vol(path="rel")]),
        "container.volumes.1.container_path",
        "Mount path must be absolute: rel",
    ),
    (
        "volume-duplicate-path",
        c(volumes=[vol("storage://alice/a", "/data"), vol("storage://alice/b", "/data", False)]),
        "container.volumes",
        "destination paths must be unique ('/data' repeats)",
    ),
    (
        "volume-read-only-str",
        c(volumes=[vol(ro="yes")]),
        "container.volumes.0.read_only",
        NOT_BOOL,
    ),
    # wrong types for nested objects
    ("container-str", "ubuntu", "container", "must be a neuro_sync.Container"),
    ("image-str", c(image="ubuntu"), "container.image", "must be a RemoteImage"),
    ("resources-dict", c(resources={"cpu": 1}), "container.resources", "must be a Resources"),
    ("http-int", c(http=80), "container.http", "must be an HTTPPort or None"),
    ("env-list", c(env=[("A", "1")]), "container.env", "must be a mapping of str to str"),
    ("volumes-str", c(volumes="storage:x:/y"), "container.volumes", "must be a sequence of Volume"),
    ("volume-str-item", c(volumes=["storage:x:/y"]), "container.volumes.0", "must be a Volume"),
]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [case[1:] for case in RUN_CASES],
    ids=[case[0] for case in RUN_CASES],
)
def test_run_rejects_bad_arguments(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    kwargs: dict[str, Any],
    field: str,
    message: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.run(c(), **kwargs)
    assert info.value.field == field
    assert str(info.value) == f"{field}: {message}"
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("container", "field", "message"),
    [case[1:] for case in CONTAINER_CASES],
    ids=[case[0] for case in CONTAINER_CASES],
)
def test_run_rejects_bad_containers(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    container: Any,
    field: str,
    message: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.run(container)
    assert info.value.field == field
    assert str(info.value) == f"{field}: {message}"
    assert isinstance(info.value, ValueError)
    assert len(mocked.calls) == 0


def test_validation_happens_before_the_config_request(mocked: responses.RequestsMock) -> None:
    # A fresh client has not fetched /config yet; bad input must not even trigger that.
    with neuro_sync.Client(BASE, TOKEN) as fresh:
        with pytest.raises(ValidationError):
            fresh.jobs.run(c(resources=Resources(8, 0.1)))
    assert len(mocked.calls) == 0


LIST_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "status-cancelled",
        {"statuses": ["cancelled"]},
        "statuses.0",
        "'cancelled' is not a valid JobStatus",
    ),
    (
        "status-unknown",
        {"statuses": [JobStatus.RUNNING, JobStatus.UNKNOWN]},
        "statuses.1",
        "'unknown' is not a valid JobStatus",
    ),
    ("name-bad", {"name": "Bad_Name"}, "name", NAME_PATTERN),
    ("name-short", {"name": "ab"}, "name", NAME_LENGTH),
    ("owner-short", {"owners": ["al"]}, "owners.0", "length should be between 3 and 21"),
    (
        "owner-pattern",
        {"owners": ["alice", "Bob!"]},
        "owners.1",
        "does not match pattern ^[a-z0-9](?:-?[a-z0-9])*$",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [case[1:] for case in LIST_CASES],
    ids=[case[0] for case in LIST_CASES],
)
def test_list_rejects_bad_filters(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    kwargs: dict[str, Any],
    field: str,
    message: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.list(**kwargs)
    assert (info.value.field, str(info.value)) == (field, f"{field}: {message}")
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("job_id", "message"),
    [
        ("", "id: must be a non-empty string"),
        ("   ", "id: must be a non-empty string"),
        (None, "id: must be a non-empty string"),
        (42, "id: must be a non-empty string"),
        (".", "id: must not be '.' or '..'"),
        ("..", "id: must not be '.' or '..'"),
    ],
)
@pytest.mark.parametrize("method", ["status", "kill", "monitor", "top"])
def test_job_id_is_checked_by_every_method(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    method: str,
    job_id: Any,
    message: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        getattr(client.jobs, method)(job_id)
    assert str(info.value) == message
    assert len(mocked.calls) == 0


def test_save_job_id_is_checked(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    with pytest.raises(ValidationError, match=r"^id: must be a non-empty string$"):
        client.jobs.save("", RemoteImage("img", "v1", "alice", "registry-dev.neu.ro"))
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (RemoteImage("ubuntu"), "image: Image `ubuntu` must be in the neuromation registry"),
        (
            RemoteImage("ubuntu", "v1", registry="registry-dev.neu.ro"),
            "image: Image `ubuntu:v1` must be in the neuromation registry",
        ),
        ("image://alice/img", "image: must be a RemoteImage"),
    ],
)
def test_save_needs_a_platform_image(
    client: neuro_sync.Client, mocked: responses.RequestsMock, image: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.save("job-1", image)
    assert str(info.value) == message
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    "timeout", [0, -1, "5", (1,), (1, 2, 3), (None, 5), (0, 5), (5, 0), True, [1, 2]]
)
def test_bad_per_call_timeout(
    client: neuro_sync.Client, mocked: responses.RequestsMock, timeout: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.status("job-1", timeout=timeout)
    assert info.value.field == "timeout"
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"statuses": []}, "statuses"),
        ({"statuses": ["finished"]}, "statuses"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": "1"}, "poll_interval"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": "10"}, "timeout"),
    ],
)
def test_wait_rejects_bad_arguments(
    client: neuro_sync.Client, mocked: responses.RequestsMock, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.wait("job-1", **kwargs)
    assert info.value.field == field
    assert len(mocked.calls) == 0
