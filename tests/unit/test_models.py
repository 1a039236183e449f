"""The public surface: names importable from `neuro_sync`, dataclass shapes and defaults,
`RemoteImage` forms, `JobStatus`, and the 2019-compatible error tree."""

from __future__ import annotations

import builtins
import dataclasses
import datetime

import pytest
from yarl import URL

import neuro_sync
from neuro_sync import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AuthError,
    AuthorizationError,
    ClientError,
    ConfigError,
    Container,
    HTTPPort,
    IllegalArgumentError,
    JobDescription,
    JobNotFound,
    JobNotRunning,
    JobSaveError,
    JobStatus,
    JobStatusHistory,
    JobSubmissionUncertain,
    JobTelemetry,
    MethodNotAllowed,
    RemoteImage,
    ResourceNotFound,
    Resources,
    ResponseValidationError,
    ServerError,
    StreamInterrupted,
    ValidationError,
    Volume,
    WaitTimeout,
)

ISSUE_NAMES = [
    "Resources",
    "HTTPPort",
    "Volume",
    "RemoteImage",
    "Container",
    "JobStatusHistory",
    "JobDescription",
    "JobTelemetry",
    "JobStatus",
    "Client",
    "get",
    "Factory",
    "Jobs",
    "ClientError",
    "IllegalArgumentError",
    "AuthError",
    "AuthenticationError",
    "AuthorizationError",
    "ResourceNotFound",
    "JobNotFound",
    "ServerError",
    "APIConnectionError",
    "APITimeoutError",
    "ResponseValidationError",
    "ValidationError",
    "JobSaveError",
    "JobNotRunning",
    "WaitTimeout",
]


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_public_name_is_exported(name: str) -> None:
    assert name in neuro_sync.__all__
    assert getattr(neuro_sync, name) is not None


def test_all_lists_only_existing_names() -> None:
    missing = [n for n in neuro_sync.__all__ if not hasattr(neuro_sync, n)]
    assert missing == []


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (Resources, ["memory_mb", "cpu", "gpu", "gpu_model", "shm"]),
        (HTTPPort, ["port", "requires_auth"]),
        (Volume, ["storage_path", "container_path", "read_only"]),
        (RemoteImage, ["name", "tag", "owner", "registry"]),
        (
            Container,
            # the 2019 fields, then the 2022 dialect's (all with defaults)
            ["image", "resources", "entrypoint", "command", "http", "env", "volumes"]
            + ["working_dir", "tty"],
        ),
        (
            JobStatusHistory,
            [
                "status",
                "reason",
                "description",
                "created_at",
                "started_at",
                "finished_at",
                "exit_code",
                "restarts",
                "run_time_seconds",
                "transitions",
            ],
        ),
        (
            JobDescription,
            [
                "id",
                "owner",
                "status",
                "history",
                "container",
                "is_preemptible",
                "name",
                "description",
                "http_url",
                "ssh_server",
                "internal_hostname",
                "tags",
                "life_span",
                "restart_policy",
                "preset_name",
                "pass_config",
                "privileged",
            ],
        ),
        (JobTelemetry, ["cpu", "memory", "timestamp", "gpu_duty_cycle", "gpu_memory"]),
    ],
)
def test_dataclass_field_order_matches_the_2019_sdk(cls: type, fields: list[str]) -> None:
    assert dataclasses.is_dataclass(cls)
    assert [f.name for f in dataclasses.fields(cls)] == fields


def test_resources_positional_like_the_sdk_tests() -> None:
    r = Resources(16384, 7, 1, "test-gpu-model", True)
    assert (r.memory_mb, r.cpu, r.gpu, r.gpu_model, r.shm) == (16384, 7, 1, "test-gpu-model", True)
    assert Resources(16, 0.5) == Resources(16, 0.5, None, None, None)


def test_defaults() -> None:
    assert HTTPPort(80).requires_auth is True
    assert RemoteImage("ubuntu") == RemoteImage("ubuntu", None, None, None)
    c = Container(RemoteImage("ubuntu"), Resources(16, 0.1))
    assert (c.entrypoint, c.command, c.http) == (None, None, None)
    assert c.env == {} and c.volumes == []
    assert JobTelemetry(1.0, 2.0, 3.0) == JobTelemetry(1.0, 2.0, 3.0, None, None)
    h = JobStatusHistory(JobStatus.PENDING, "", "")
    assert (h.created_at, h.started_at, h.finished_at, h.exit_code) == (None, None, None, None)
    job = JobDescription("job-1", "alice", JobStatus.PENDING, h, c, False)
    assert job.name is None and job.description is None and job.internal_hostname is None
    assert job.http_url == URL() and str(job.http_url) == ""
    assert job.ssh_server == URL()


def test_container_defaults_are_not_shared() -> None:
    a = Container(RemoteImage("a"), Resources(16, 0.1))
    b = Container(RemoteImage("b"), Resources(16, 0.1))
    assert a.env is not b.env
    assert a.volumes is not b.volumes


@pytest.mark.parametrize(
    ("obj", "attr"),
    [
        (Resources(16, 0.1), "cpu"),
        (HTTPPort(80), "port"),
        (Volume("storage://alice", "/mnt", True), "read_only"),
        (RemoteImage("ubuntu"), "tag"),
        (Container(RemoteImage("ubuntu"), Resources(16, 0.1)), "command"),
        (JobStatusHistory(JobStatus.PENDING, "", ""), "reason"),
        (JobTelemetry(1.0, 2.0, 3.0), "cpu"),
    ],
)
def test_dataclasses_are_frozen(obj: object, attr: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, attr, None)


@pytest.mark.parametrize(
    ("image", "display", "repo"),
    [
        (RemoteImage("ubuntu"), "ubuntu", "ubuntu"),
        (RemoteImage("ubuntu", "18.04"), "ubuntu:18.04", "ubuntu:18.04"),
        (
            RemoteImage("img", "v1", "bob", "registry-dev.neu.ro"),
            "image://bob/img:v1",
            "registry-dev.neu.ro/bob/img:v1",
        ),
        (
            RemoteImage("team/img", None, "bob", "registry-dev.neu.ro"),
            "image://bob/team/img",
            "registry-dev.neu.ro/bob/team/img",
        ),
        # A non-platform image drops its registry on the wire (docs/protocol.md §4.2, §7.12).
        (RemoteImage("ubuntu", "latest", None, "localhost:5000"), "ubuntu:latest", "ubuntu:latest"),
        # An owner without a registry is not a platform image either.
        (RemoteImage("img", "v1", "bob", None), "img:v1", "img:v1"),
    ],
)
def test_remote_image_display_and_wire_forms(image: RemoteImage, display: str, repo: str) -> None:
    assert str(image) == display
    assert image.as_repo_str() == repo
    assert image.is_platform == display.startswith("image://")


def test_job_status_is_a_str_enum() -> None:
    running: str = "running"
    assert JobStatus.RUNNING == running
    assert isinstance(JobStatus.PENDING, str)
    assert JobStatus("succeeded") is JobStatus.SUCCEEDED
    assert [s.value for s in JobStatus] == [
        *("pending", "running", "succeeded", "failed"),
        *("cancelled", "suspended", "unknown"),
    ]
    assert {s for s in JobStatus if s.is_finished} == {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    }
    assert f"{JobStatus.FAILED}" == "failed"


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (IllegalArgumentError, (APIStatusError, ClientError, ValueError)),
        (AuthError, (APIStatusError, ClientError)),
        (AuthenticationError, (AuthError, ClientError)),
        (AuthorizationError, (AuthError, ClientError)),
        (ResourceNotFound, (APIStatusError, ClientError, ValueError)),
        (JobNotFound, (ResourceNotFound, IllegalArgumentError, ValueError, ClientError)),
        (ServerError, (IllegalArgumentError, APIStatusError, ClientError)),
        (MethodNotAllowed, (APIStatusError, ClientError)),
        (APITimeoutError, (APIConnectionError, ClientError)),
        (JobSubmissionUncertain, (APIConnectionError, ClientError)),
        (ResponseValidationError, (ClientError,)),
        (StreamInterrupted, (ClientError,)),
        (ConfigError, (ClientError,)),
        (JobSaveError, (ClientError,)),
        (WaitTimeout, (ClientError, TimeoutError)),
        (JobNotRunning, (ClientError, ValueError)),
        (ValidationError, (ClientError, ValueError)),
    ],
)
def test_error_tree(cls: type[Exception], bases: tuple[type[Exception], ...]) -> None:
    for base in bases:
        assert issubclass(cls, base), base


def test_errors_that_are_not_value_errors() -> None:
    # The 2019 SDK: AuthError is not a ValueError; a caller catching ValueError for a bad
    # argument must not swallow an authentication failure.
    for cls in (AuthError, AuthenticationError, AuthorizationError, APIConnectionError):
        assert not issubclass(cls, ValueError)


def test_error_attributes() -> None:
    err = JobNotFound("no such job job-1", job_id="job-1")
    assert (str(err), err.status, err.job_id, err.message) == (
        "no such job job-1",
        400,
        "job-1",
        "no such job job-1",
    )
    v = ValidationError("container.resources.cpu", "too big")
    assert (str(v), v.field) == ("container.resources.cpu: too big", "container.resources.cpu")
    assert AuthorizationError("denied").missing == ()
    w = WaitTimeout("late", job="x")
    assert w.job == "x"


def test_history_times_are_plain_datetimes() -> None:
    when = datetime.datetime(2019, 8, 16, tzinfo=datetime.UTC)
    h = JobStatusHistory(JobStatus.RUNNING, "", "", created_at=when)
    assert h.created_at == when


def test_star_import_does_not_shadow_builtins() -> None:
    namespace: dict[str, object] = {}
    exec("from neuro_sync import *", namespace)  # noqa: S102 - the statement under test
    shadowed = [n for n in namespace if n != "__builtins__" and hasattr(builtins, n)]
    assert shadowed == []
    # ...and the module-level calls of those names stay where they were.
    for name in ("list", "iter", "exec"):
        assert callable(getattr(neuro_sync, name))
        assert getattr(neuro_sync, name) is not getattr(builtins, name)
