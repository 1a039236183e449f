"""Reply mapping: job objects (docs/protocol.md §2.6) to the public dataclasses, with every quirk of
§4 and §7, and malformed replies becoming `ResponseValidationError`."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
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
    ResponseValidationError,
    Volume,
)

from .conftest import BASE, JOB_ID, REGISTRY, USER, JobFactory, make_job

UTC = datetime.UTC


def _get(
    client: neuro_sync.Client, mocked: responses.RequestsMock, job: dict[str, Any]
) -> JobDescription:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=job)
    return client.jobs.status(JOB_ID)


def _without(key: str) -> dict[str, Any]:
    wire = make_job()
    node: Any = wire
    *parents, last = key.split(".")
    for p in parents:
        node = node[p]
    del node[last]
    return wire


def _with(key: str, value: Any) -> dict[str, Any]:
    wire = make_job()
    node: Any = wire
    *parents, last = key.split(".")
    for p in parents:
        node = node[p]
    node[last] = value
    return wire


def test_failed_job_maps_every_field(
    client: neuro_sync.Client, mocked: responses.RequestsMock, job_factory: JobFactory
) -> None:
    wire = job_factory(
        status="failed",
        reason="Error",
        status_description="Failed!\n",
        exit_code=3,
        image="registry-dev.neu.ro/alice/trainer:v2",
        entrypoint="/bin/sh -c",
        command="python train.py",
        cpu=7,
        memory_mb=30720,
        gpu=1,
        gpu_model="nvidia-tesla-k80",
        shm=True,
        http_port=8080,
        requires_auth=True,
        env={"A": "1"},
        volumes=[
            {"src_storage_uri": "storage://alice/data", "dst_path": "/data", "read_only": True},
            {"src_storage_uri": "storage://alice/out", "dst_path": "/out", "read_only": False},
        ],
        name="trainer",
        description="nightly training",
        is_preemptible=True,
        schedule_timeout=600.0,
    )
    assert _get(client, mocked, wire) == JobDescription(
        id=JOB_ID,
        owner=USER,
        status=JobStatus.FAILED,
        history=JobStatusHistory(
            status=JobStatus.FAILED,
            reason="Error",
            description="Failed!\n",
            created_at=datetime.datetime(2019, 8, 16, 10, 11, 12, 345678, tzinfo=UTC),
            started_at=datetime.datetime(2019, 8, 16, 10, 11, 20, tzinfo=UTC),
            finished_at=datetime.datetime(2019, 8, 16, 10, 12, 0, 500000, tzinfo=UTC),
            exit_code=3,
        ),
        container=Container(
            image=RemoteImage("trainer", "v2", USER, REGISTRY),
            resources=Resources(30720, 7.0, 1, "nvidia-tesla-k80", True),
            entrypoint="/bin/sh -c",
            command="python train.py",
            http=HTTPPort(8080, True),
            env={"A": "1"},
            volumes=[
                Volume("storage://alice/data", "/data", True),
                Volume("storage://alice/out", "/out", False),
            ],
        ),
        is_preemptible=True,
        name="trainer",
        description="nightly training",
        http_url=URL("http://trainer--alice.jobs-dev.neu.ro"),
        ssh_server=URL("ssh://nobody@ssh-auth-dev.neu.ro:22"),
        internal_hostname=f"{JOB_ID}.default",
    )


def test_fresh_job_has_no_optional_fields(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    job = _get(client, mocked, make_job(command=None))
    assert job.name is None
    assert job.description is None
    assert job.http_url == URL("")
    assert job.container.http is None
    assert job.container.command is None
    assert job.container.entrypoint is None
    assert job.container.env == {}
    assert job.container.volumes == []
    assert job.container.resources == Resources(16, 0.1, None, None, None)
    assert job.history.exit_code is None
    assert job.history.started_at is None
    assert job.history.finished_at is None


def test_missing_optional_keys_use_sdk_defaults(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = make_job()
    for key in ("ssh_server", "ssh_auth_server", "internal_hostname", "cluster_name"):
        del wire[key]
    del wire["container"]["env"]
    del wire["container"]["volumes"]
    job = _get(client, mocked, wire)
    assert job.ssh_server == URL("")
    assert job.internal_hostname is None
    assert job.container.env == {}
    assert job.container.volumes == []


# --------------------------------------------------------------------------- statuses


@pytest.mark.parametrize("status", ["pending", "running", "succeeded", "failed"])
def test_known_statuses(
    client: neuro_sync.Client, mocked: responses.RequestsMock, status: str
) -> None:
    job = _get(client, mocked, make_job(status=status))
    assert job.status is JobStatus(status)
    assert job.history.status is JobStatus(status)


@pytest.mark.parametrize("status", ["evicted", "Running", "Cancelled", ""])
def test_unknown_status_values_become_unknown(
    client: neuro_sync.Client, mocked: responses.RequestsMock, status: str
) -> None:
    job = _get(client, mocked, make_job(status=status))
    assert job.status is JobStatus.UNKNOWN
    assert job.history.status is JobStatus.UNKNOWN


def test_history_status_missing_or_null_is_unknown(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    missing = make_job(status="running", id="job-a")
    del missing["history"]["status"]
    null = make_job(status="running", id="job-b")
    null["history"]["status"] = None
    mocked.get(f"{BASE}/jobs", json={"jobs": [missing, null]})
    jobs = client.jobs.list()
    assert [(j.status, j.history.status) for j in jobs] == [
        (JobStatus.RUNNING, JobStatus.UNKNOWN),
        (JobStatus.RUNNING, JobStatus.UNKNOWN),
    ]


def test_a_list_with_newer_statuses_does_not_crash(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = [
        make_job(id="job-1", status="succeeded"),
        make_job(id="job-2", status="cancelled"),
        make_job(id="job-3", status="suspended"),
        make_job(id="job-4", status="running"),
    ]
    mocked.get(f"{BASE}/jobs", json={"jobs": wire})
    jobs = client.jobs.list()
    assert [(j.id, j.status) for j in jobs] == [
        ("job-1", JobStatus.SUCCEEDED),
        ("job-2", JobStatus.CANCELLED),
        ("job-3", JobStatus.SUSPENDED),
        ("job-4", JobStatus.RUNNING),
    ]


# --------------------------------------------------------------------------- history


@pytest.mark.parametrize(
    ("reason", "description", "expected"),
    [
        (None, None, ("", "")),
        ("ContainerCreating", None, ("ContainerCreating", "")),
        ("Collected", "Image can not be pulled", ("Collected", "Image can not be pulled")),
        ("", "", ("", "")),
    ],
)
def test_reason_and_description_null_become_empty_strings(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    reason: str | None,
    description: str | None,
    expected: tuple[str, str],
) -> None:
    job = _get(client, mocked, make_job(reason=reason, status_description=description))
    assert (job.history.reason, job.history.description) == expected


def test_reason_and_description_missing_become_empty_strings(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = make_job()
    del wire["history"]["reason"]
    del wire["history"]["description"]
    job = _get(client, mocked, wire)
    assert (job.history.reason, job.history.description) == ("", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2019-08-16T10:11:12.345678+00:00",
            datetime.datetime(2019, 8, 16, 10, 11, 12, 345678, tzinfo=UTC),
        ),
        ("2019-08-16T10:11:12+00:00", datetime.datetime(2019, 8, 16, 10, 11, 12, tzinfo=UTC)),
        ("2019-08-16T10:11:12Z", datetime.datetime(2019, 8, 16, 10, 11, 12, tzinfo=UTC)),
        # A bare time is read as UTC (the server's clock).
        ("2019-08-16T10:11:12", datetime.datetime(2019, 8, 16, 10, 11, 12, tzinfo=UTC)),
        ("2019-08-16T13:11:12+03:00", datetime.datetime(2019, 8, 16, 10, 11, 12, tzinfo=UTC)),
    ],
)
def test_timestamps_are_timezone_aware(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    text: str,
    expected: datetime.datetime,
) -> None:
    job = _get(
        client,
        mocked,
        make_job(status="succeeded", created_at=text, started_at=text, finished_at=text),
    )
    for value in (job.history.created_at, job.history.started_at, job.history.finished_at):
        assert value is not None
        assert value.tzinfo is not None
        assert value.utcoffset() is not None
        assert value == expected


def test_exit_code_zero_is_kept(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    job = _get(client, mocked, make_job(status="succeeded", exit_code=0))
    assert job.history.exit_code == 0


def test_exit_code_null_is_none(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    # docs/protocol.md §4.1: the SDK reads a present-but-null exit_code as None.
    job = _get(client, mocked, _with("history.exit_code", None))
    assert job.history.exit_code is None


def test_created_at_missing_is_none(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    job = _get(client, mocked, _without("history.created_at"))
    assert job.history.created_at is None


def test_null_timestamp_reads_as_none(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    # docs/protocol.md §4.1: the 2019 SDK reads a null time as None.
    job = _get(client, mocked, _with("history.started_at", None))
    assert job.history.started_at is None


def test_http_without_port_reads_as_minus_one(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    # docs/protocol.md §4.1: HTTPPort from JSON defaults port to -1 and requires_auth to false.
    job = _get(client, mocked, _with("container.http", {"requires_auth": True}))
    assert job.container.http == HTTPPort(-1, True)
    job = _get(client, mocked, _with("container.http", {}))
    assert job.container.http == HTTPPort(-1, False)


def test_killed_job_is_succeeded_without_reason(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    # docs/protocol.md §2.5, §7.15: a kill appends succeeded, reason null, no exit code.
    job = _get(client, mocked, make_job(status="succeeded"))
    assert job.status is JobStatus.SUCCEEDED
    assert (job.history.reason, job.history.exit_code) == ("", None)


# --------------------------------------------------------------------------- resources


@pytest.mark.parametrize(
    ("memory_mb", "expected"),
    [(4096, 4096), ("4096", 4096), (4096.0, 4096)],
)
def test_memory_mb_is_coerced_to_int(
    client: neuro_sync.Client, mocked: responses.RequestsMock, memory_mb: Any, expected: int
) -> None:
    wire = make_job()
    wire["container"]["resources"]["memory_mb"] = memory_mb
    resources = _get(client, mocked, wire).container.resources
    assert resources.memory_mb == expected
    assert type(resources.memory_mb) is int


def test_cpu_is_a_float(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    wire = make_job()
    wire["container"]["resources"]["cpu"] = 1  # the server echoes 1.0; an int is tolerated
    resources = _get(client, mocked, wire).container.resources
    assert resources.cpu == 1.0
    assert type(resources.cpu) is float


def test_gpu_zero_is_echoed(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    job = _get(client, mocked, make_job(gpu=0, shm=False))
    assert job.container.resources == Resources(16, 0.1, 0, None, False)


# --------------------------------------------------------------------------- http, volumes


def test_http_url_prefers_the_named_url(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    job = _get(client, mocked, make_job(http_port=80, name="web"))
    assert job.http_url == URL("http://web--alice.jobs-dev.neu.ro")


def test_http_url_without_a_name_is_the_id_url(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    job = _get(client, mocked, make_job(http_port=80))
    assert job.http_url == URL(f"http://{JOB_ID}.jobs-dev.neu.ro")
    assert job.container.http == HTTPPort(80, requires_auth=False)


def test_empty_named_url_falls_back(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = make_job(http_port=80, name="web")
    wire["http_url_named"] = ""
    assert _get(client, mocked, wire).http_url == URL(f"http://{JOB_ID}.jobs-dev.neu.ro")


def test_http_requires_auth_missing_is_false(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = make_job(http_port=8888)
    del wire["container"]["http"]["requires_auth"]
    assert _get(client, mocked, wire).container.http == HTTPPort(8888, requires_auth=False)


def test_volume_read_only_missing_is_true(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = make_job(volumes=[{"src_storage_uri": "storage://alice", "dst_path": "/var/home"}])
    job = _get(client, mocked, wire)
    assert job.container.volumes == [Volume("storage://alice", "/var/home", True)]


def test_ignored_and_newer_fields_are_tolerated(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    extra = make_job(schedule_timeout=60.0)
    extra["container"]["ssh"] = {"port": 22}
    extra.update({"uri": "job://default/alice/x", "priority": "high", "future_key": [1]})
    extra.update({"total_price_credits": "0", "scheduler_enabled": False})
    extra["history"]["future_key"] = 5
    extra["container"]["resources"]["memory"] = 16 * 2**20
    extra["cluster_name"] = "other"
    extra["ssh_auth_server"] = "ssh://elsewhere:2222"
    mocked.get(f"{BASE}/jobs", json={"jobs": [make_job(), extra]})
    plain_job, extra_job = client.jobs.list()
    assert extra_job == plain_job


def test_the_2022_job_properties_are_read(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = make_job(status="cancelled")
    wire.update(
        tags=["a", "b"],
        max_run_time_minutes=3,
        restart_policy="on-failure",
        preset_name="cpu-small",
        pass_config=True,
        privileged=True,
    )
    wire["history"].update(restarts=2, run_time_seconds=12.5)
    wire["container"].update(working_dir="/w", tty=True)
    wire["statuses"] = [
        {"status": "pending", "transition_time": "2019-08-01T10:00:00+00:00", "reason": None},
        {"status": "running", "transition_time": "2019-08-01T10:00:01Z", "description": "x"},
        {"status": "cancelled", "transition_time": "2019-08-01T10:00:02", "exit_code": 137},
    ]
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=wire)
    job = client.jobs.status(JOB_ID)
    assert job.status is JobStatus.CANCELLED and job.status.is_finished
    assert job.tags == ("a", "b")
    assert job.life_span == 180.0
    assert job.restart_policy is neuro_sync.JobRestartPolicy.ON_FAILURE
    assert (job.preset_name, job.pass_config, job.privileged) == ("cpu-small", True, True)
    assert (job.history.restarts, job.history.run_time_seconds) == (2, 12.5)
    assert (job.container.working_dir, job.container.tty) == ("/w", True)
    utc = datetime.UTC
    assert job.history.transitions == (
        neuro_sync.JobStatusItem(JobStatus.PENDING, datetime.datetime(2019, 8, 1, 10, tzinfo=utc)),
        neuro_sync.JobStatusItem(
            JobStatus.RUNNING, datetime.datetime(2019, 8, 1, 10, 0, 1, tzinfo=utc), "", "x"
        ),
        neuro_sync.JobStatusItem(
            JobStatus.CANCELLED, datetime.datetime(2019, 8, 1, 10, 0, 2, tzinfo=utc), "", "", 137
        ),
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("tags", "a", "tags is not a list"),
        ("tags", [1], "tags items must be strings"),
        ("restart_policy", 1, "restart_policy is not a string"),
        ("statuses", [{"status": "running"}], "transition_time"),
        ("statuses", [{"status": "running", "transition_time": "x"}], "ISO-8601"),
        ("max_run_time_minutes", "ten", "invalid literal"),
    ],
)
def test_malformed_2022_properties_are_typed_errors(
    client: neuro_sync.Client, mocked: responses.RequestsMock, key: str, value: Any, message: str
) -> None:
    wire = make_job()
    wire[key] = value
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=wire)
    with pytest.raises(neuro_sync.ResponseValidationError, match=message):
        client.jobs.status(JOB_ID)


def test_an_unknown_restart_policy_reads_as_never(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = make_job()
    wire["restart_policy"] = "sometimes"
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=wire)
    assert client.jobs.status(JOB_ID).restart_policy is neuro_sync.JobRestartPolicy.NEVER


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize(
    ("wire_image", "expected"),
    [
        ("ubuntu", RemoteImage("ubuntu", "latest")),
        ("ubuntu:18.04", RemoteImage("ubuntu", "18.04")),
        ("submit-image-name", RemoteImage("submit-image-name", "latest")),
        ("gcr.io/proj/ubuntu:latest", RemoteImage("gcr.io/proj/ubuntu", "latest")),
        ("gcr.io/proj/ubuntu", RemoteImage("gcr.io/proj/ubuntu", "latest")),
        ("localhost:5000/ubuntu", RemoteImage("ubuntu", "latest", None, "localhost:5000")),
        ("localhost:5000/ubuntu:v1", RemoteImage("ubuntu", "v1", None, "localhost:5000")),
        ("registry-dev.neu.ro/bob/img:v1", RemoteImage("img", "v1", "bob", REGISTRY)),
        ("registry-dev.neu.ro/bob/img", RemoteImage("img", "latest", "bob", REGISTRY)),
        ("registry-dev.neu.ro/bob/team/img:v2", RemoteImage("team/img", "v2", "bob", REGISTRY)),
        ("image://bob/img:v1", RemoteImage("img", "v1", "bob", REGISTRY)),
        ("image://~/img", RemoteImage("img", "latest", USER, REGISTRY)),
        ("image:img", RemoteImage("img", "latest", USER, REGISTRY)),
        # unparsable -> the SDK's placeholder, never an exception
        ("", RemoteImage("INVALID-IMAGE-NAME")),
        ("-ubuntu", RemoteImage("INVALID-IMAGE-NAME")),
        (":", RemoteImage("INVALID-IMAGE-NAME")),
        ("ubuntu:", RemoteImage("INVALID-IMAGE-NAME")),
        (":tag", RemoteImage("INVALID-IMAGE-NAME")),
        ("ubuntu:a:b", RemoteImage("INVALID-IMAGE-NAME")),
        ("ubuntu:a/b", RemoteImage("INVALID-IMAGE-NAME")),
        ("image:latest", RemoteImage("INVALID-IMAGE-NAME")),
        ("image://bob/img?x=1", RemoteImage("INVALID-IMAGE-NAME")),
        ("image://u:p@bob/img", RemoteImage("INVALID-IMAGE-NAME")),
        ("image://bob:5000/img", RemoteImage("INVALID-IMAGE-NAME")),
        ("registry-dev.neu.ro/bob", RemoteImage("INVALID-IMAGE-NAME")),
    ],
)
def test_image_parsing(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    wire_image: str,
    expected: RemoteImage,
) -> None:
    assert _get(client, mocked, make_job(image=wire_image)).container.image == expected


def test_invalid_image_in_a_list_does_not_break_the_list(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = [make_job(id="job-1", image="ubuntu"), make_job(id="job-2", image="bad:a:b")]
    mocked.get(f"{BASE}/jobs", json={"jobs": wire})
    images = [str(j.container.image) for j in client.jobs.list()]
    assert images == ["ubuntu:latest", "INVALID-IMAGE-NAME"]


# --------------------------------------------------------------------------- malformed replies


MALFORMED_JOBS: list[tuple[str, Any, str]] = [
    ("no-id", _without("id"), "Malformed job reply: missing field 'id'"),
    ("no-owner", _without("owner"), "Malformed job reply: missing field 'owner'"),
    ("no-status", _without("status"), "Malformed job reply: missing field 'status'"),
    ("no-history", _without("history"), "Malformed job reply: missing field 'history'"),
    ("no-container", _without("container"), "Malformed job reply: missing field 'container'"),
    (
        "no-preemptible",
        _without("is_preemptible"),
        "Malformed job reply: missing field 'is_preemptible'",
    ),
    ("no-image", _without("container.image"), "Malformed job reply: missing field 'image'"),
    (
        "no-resources",
        _without("container.resources"),
        "Malformed job reply: missing field 'resources'",
    ),
    (
        "no-memory",
        _without("container.resources.memory_mb"),
        "Malformed job reply: missing field 'memory_mb'",
    ),
    (
        "bad-time",
        _with("history.created_at", "yesterday"),
        "Malformed job 'job-0d6f8a3e-1c2b-4d5e-8f90-123456789abc' in the server reply: "
        "history.created_at is not an ISO-8601 time: 'yesterday'",
    ),
    (
        "id-not-str",
        _with("id", 5),
        "Malformed job 5 in the server reply: id is not a string",
    ),
    (
        "status-not-str",
        _with("status", 1),
        f"Malformed job '{JOB_ID}' in the server reply: status is not a string",
    ),
    (
        "preemptible-str",
        _with("is_preemptible", "false"),
        f"Malformed job '{JOB_ID}' in the server reply: is_preemptible is not a boolean",
    ),
    (
        "memory-fraction",
        _with("container.resources.memory_mb", 4096.5),
        f"Malformed job '{JOB_ID}' in the server reply: "
        "container.resources.memory_mb is not an integer",
    ),
    (
        "memory-bool",
        _with("container.resources.memory_mb", True),
        f"Malformed job '{JOB_ID}' in the server reply: "
        "container.resources.memory_mb is not an integer",
    ),
    (
        "memory-text",
        _with("container.resources.memory_mb", "lots"),
        f"Malformed job '{JOB_ID}' in the server reply: "
        "invalid literal for int() with base 10: 'lots'",
    ),
    (
        "shm-str",
        _with("container.resources.shm", "false"),
        f"Malformed job '{JOB_ID}' in the server reply: container.resources.shm is not a boolean",
    ),
    (
        "read-only-str",
        _with(
            "container.volumes",
            [{"src_storage_uri": "storage:", "dst_path": "/d", "read_only": "no"}],
        ),
        f"Malformed job '{JOB_ID}' in the server reply: "
        "container.volumes.read_only is not a boolean",
    ),
    (
        "requires-auth-str",
        _with("container.http", {"port": 80, "requires_auth": "false"}),
        f"Malformed job '{JOB_ID}' in the server reply: "
        "container.http.requires_auth is not a boolean",
    ),
    (
        "exit-code-str",
        _with("history.exit_code", "1"),
        f"Malformed job '{JOB_ID}' in the server reply: history.exit_code is not an int",
    ),
    (
        "reason-int",
        _with("history.reason", 5),
        f"Malformed job '{JOB_ID}' in the server reply: history.reason is not a string",
    ),
    (
        "image-null",
        _with("container.image", None),
        f"Malformed job '{JOB_ID}' in the server reply: container.image is not a string",
    ),
    (
        "env-value-int",
        _with("container.env", {"A": 1}),
        f"Malformed job '{JOB_ID}' in the server reply: container.env values must be strings",
    ),
    (
        "url-int",
        _with("http_url", 5),
        f"Malformed job '{JOB_ID}' in the server reply: http_url is not a string",
    ),
    (
        "name-int",
        _with("name", 5),
        f"Malformed job '{JOB_ID}' in the server reply: name is not a string",
    ),
    (
        "not-an-object",
        [1, 2],
        "Malformed job reply: job is not a JSON object",
    ),
]


@pytest.mark.parametrize(
    ("wire", "message"),
    [case[1:] for case in MALFORMED_JOBS],
    ids=[case[0] for case in MALFORMED_JOBS],
)
def test_malformed_job_in_status(
    client: neuro_sync.Client, mocked: responses.RequestsMock, wire: Any, message: str
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=wire)
    with pytest.raises(ResponseValidationError) as info:
        client.jobs.status(JOB_ID)
    assert str(info.value) == message
    assert info.value.__cause__ is None


def test_malformed_job_not_json(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", body="<html>oops</html>", content_type="text/html")
    with pytest.raises(ResponseValidationError, match=r"^Malformed job reply: Expecting value"):
        client.jobs.status(JOB_ID)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"id": JOB_ID}, "Malformed job reply: missing field 'owner'"),
        ({"owner": "alice"}, "Malformed job reply: missing field 'id'"),
        ([], "Malformed job reply: job is not a JSON object"),
        ("not json", "Malformed job reply: Expecting value: line 1 column 1 (char 0)"),
    ],
)
def test_malformed_run_reply(
    client: neuro_sync.Client, mocked: responses.RequestsMock, body: Any, message: str
) -> None:
    if isinstance(body, str):
        mocked.post(f"{BASE}/jobs", body=body, status=202)
    else:
        mocked.post(f"{BASE}/jobs", json=body, status=202)
    with pytest.raises(ResponseValidationError) as info:
        client.jobs.run(Container(RemoteImage("ubuntu"), Resources(16, 0.1)))
    # The job was accepted, so the error says how to find it instead of resubmitting.
    assert str(info.value) == (
        f"{message} (the server answered, so the job was probably created; "
        "check with jobs.list() before submitting again)"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Malformed job list reply: missing field 'jobs'"),
        ({"items": []}, "Malformed job list reply: missing field 'jobs'"),
        ({"jobs": None}, "Malformed job list reply: 'jobs' is not a list"),
        (
            {"jobs": [make_job(), {"id": "job-x"}]},
            "Malformed job list reply: missing field 'owner'",
        ),
        ("<html>", "Malformed job list reply: expected '{' at the start of the reply, found '<'"),
    ],
)
def test_malformed_list_reply(
    client: neuro_sync.Client, mocked: responses.RequestsMock, body: Any, message: str
) -> None:
    if isinstance(body, str):
        mocked.get(f"{BASE}/jobs", body=body)
    else:
        mocked.get(f"{BASE}/jobs", json=body)
    with pytest.raises(ResponseValidationError) as info:
        client.jobs.list()
    assert str(info.value) == message


def test_malformed_item_in_a_list_is_located(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    bad = make_job(id="job-bad")
    bad["history"]["exit_code"] = "0"
    mocked.get(f"{BASE}/jobs", json={"jobs": [make_job(id="job-ok"), bad]})
    with pytest.raises(ResponseValidationError) as info:
        client.jobs.list()
    assert str(info.value) == (
        "Malformed job #1 ('job-bad') in the list reply: history.exit_code is not an int"
    )


def test_big_list_keeps_server_order(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    ids = [f"job-{i:04d}" for i in range(500)]
    mocked.get(f"{BASE}/jobs", json={"jobs": [make_job(id=i) for i in ids]})
    jobs = client.jobs.list()
    assert [j.id for j in jobs] == ids
    # Repeated image strings are parsed once and shared (they are immutable).
    assert jobs[0].container.image is jobs[-1].container.image
