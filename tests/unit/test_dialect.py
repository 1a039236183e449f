"""The client's 2022 dialect (docs/dialects.md): choosing it, what `run`, `list`/`iter` and
`bump_life_span` send in each dialect, the refusals under 2019 (nothing sent), and the NDJSON
list with a trailing error line or cut short."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

import neuro_sync
from neuro_sync import (
    ConfigError,
    Container,
    JobRestartPolicy,
    JobStatus,
    RemoteImage,
    Resources,
    ValidationError,
)

from .conftest import BASE, JOB_ID, MONITORING, TOKEN, config_payload, make_job, request_json

CONTAINER = Container(RemoteImage("ubuntu"), Resources(64, 0.1), command="true")
NDJSON = "application/x-ndjson"


def _query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


# --------------------------------------------------------------------------- choosing


def test_the_default_dialect_is_2019() -> None:
    with neuro_sync.Client(BASE, TOKEN) as c:
        assert c.dialect == "2019"
        assert "dialect" not in repr(c)
    with neuro_sync.Client(BASE, TOKEN, dialect="2022") as c:
        assert c.dialect == "2022"
        assert "dialect='2022'" in repr(c)


@pytest.mark.parametrize("bad", ["2020", "", 2022, None])
def test_a_bad_dialect_argument_is_a_validation_error(bad: Any) -> None:
    with pytest.raises(ValidationError, match="dialect") as err:
        neuro_sync.Client(BASE, TOKEN, dialect=bad)
    assert err.value.field == "dialect"
    with pytest.raises(ValidationError, match="dialect"):
        neuro_sync.get(url=BASE, token=TOKEN, dialect=bad)


def test_the_environment_chooses_the_dialect_and_the_argument_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEURO_SYNC_DIALECT", "2022")
    with neuro_sync.get(url=BASE, token=TOKEN) as c:
        assert c.dialect == "2022"
    with neuro_sync.get(url=BASE, token=TOKEN, dialect="2019") as c:
        assert c.dialect == "2019"
    monkeypatch.setenv("NEURO_SYNC_DIALECT", "2021")
    with pytest.raises(ConfigError, match=r"\$NEURO_SYNC_DIALECT.*'2021'"):
        neuro_sync.get(url=BASE, token=TOKEN)


def test_the_config_file_chooses_the_dialect(
    tmp_path: Path, mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    mocked.get(f"{BASE}/config", json=config_payload())
    path = tmp_path / "nmrc"
    neuro_sync.Factory(path).login_with_token(TOKEN, url=BASE, dialect="2022").close()
    assert "dialect: '2022'" in path.read_text()
    with neuro_sync.get(path) as c:
        assert c.dialect == "2022"
    monkeypatch.setenv("NEURO_SYNC_DIALECT", "2019")  # the environment wins over the file
    with neuro_sync.get(path) as c:
        assert c.dialect == "2019"
    path.write_text(path.read_text().replace("'2022'", "'1999'"))
    monkeypatch.delenv("NEURO_SYNC_DIALECT")
    with pytest.raises(ConfigError, match="dialect must be one of"):
        neuro_sync.get(path)


def test_a_2019_login_writes_no_dialect(tmp_path: Path, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/config", json=config_payload())
    path = tmp_path / "nmrc"
    neuro_sync.Factory(path).login_with_token(TOKEN, url=BASE).close()
    assert "dialect" not in path.read_text()


def test_a_2022_config_reply_gives_the_first_cluster(mocked: responses.RequestsMock) -> None:
    body = {
        "authorized": True,
        "clusters": [
            {
                "name": "default",
                "registry_url": "https://registry.test",
                "storage_url": f"{BASE}/storage",
                "users_url": f"{BASE}/users",
                "monitoring_url": "http://monitoring.test/api/v1/jobs",
                "resource_presets": [
                    {
                        "name": "cpu-small",
                        "cpu": 2,
                        "memory": 2048 * 2**20,
                        "scheduler_enabled": True,
                    }
                ],
            }
        ],
    }
    mocked.get(f"{BASE}/config", json=body)
    with neuro_sync.Client(BASE, TOKEN, dialect="2022") as c:
        assert c.config.registry_host == "registry.test"
        preset = c.config.resource_presets["cpu-small"]
        assert (preset.cpu, preset.memory_mb, preset.is_preemptible) == (2.0, 2048, True)


# --------------------------------------------------------------------------- run

RUN_2022: list[tuple[str, Any]] = [
    ("tags", ["a"]),
    ("life_span", 600),
    ("restart_policy", JobRestartPolicy.ALWAYS),
    ("restart_policy", "on-failure"),
    ("pass_config", True),
    ("wait_for_jobs_quota", True),
    ("privileged", True),
    ("preset_name", "cpu-small"),
]


@pytest.mark.parametrize(("key", "value"), RUN_2022)
def test_2022_run_arguments_are_refused_under_2019_before_sending(
    client: neuro_sync.Client, mocked: responses.RequestsMock, key: str, value: Any
) -> None:
    with pytest.raises(ValidationError, match="2022") as err:
        client.jobs.run(CONTAINER, **{key: value})
    assert err.value.field == key
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("field", "value"), [("working_dir", "/w"), ("tty", True)], ids=["working_dir", "tty"]
)
def test_2022_container_fields_are_refused_under_2019(
    client: neuro_sync.Client, mocked: responses.RequestsMock, field: str, value: Any
) -> None:
    container = Container(RemoteImage("ubuntu"), Resources(64, 0.1), **{field: value})
    with pytest.raises(ValidationError) as err:
        client.jobs.run(container)
    assert err.value.field == f"container.{field}"
    assert len(mocked.calls) == 0


def test_a_2019_run_sends_nothing_of_2022(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE}/jobs", json=make_job(), status=202)
    # The defaults spelled out are not "given".
    client.jobs.run(CONTAINER, restart_policy="never", pass_config=False, privileged=False)
    assert request_json(mocked.calls[0]) == {
        "container": {
            "image": "ubuntu",
            "resources": {"cpu": 0.1, "memory_mb": 64},
            "command": "true",
        },
        "is_preemptible": False,
    }


def test_a_2022_run_sends_the_2022_keys(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    wire = make_job()
    wire.update(tags=["a", "b"], max_run_time_minutes=10, restart_policy="always")
    mocked.post(f"{BASE}/jobs", json=wire, status=202)
    container = Container(
        RemoteImage("ubuntu"), Resources(64, 0.1), command="true", working_dir="/w", tty=True
    )
    job = client22.jobs.run(
        container,
        tags={"b", "a"} and ["b", "a"],
        life_span=659.9,
        restart_policy=JobRestartPolicy.ALWAYS,
        wait_for_jobs_quota=True,
        privileged=True,
        preset_name="cpu-small",
    )
    body = request_json(mocked.calls[0])
    assert body["container"]["working_dir"] == "/w"
    assert body["container"]["tty"] is True
    # the 2022 names, as neuro-sdk 22.7.1 sends them: bytes, `scheduler_enabled`
    assert body["container"]["resources"] == {"cpu": 0.1, "memory": 64 * 2**20}
    assert {k: v for k, v in body.items() if k != "container"} == {
        "scheduler_enabled": False,
        "pass_config": False,
        "tags": ["b", "a"],
        "max_run_time_minutes": 10,
        "restart_policy": "always",
        "wait_for_jobs_quota": True,
        "privileged": True,
        "preset_name": "cpu-small",
    }
    assert (job.tags, job.life_span, job.restart_policy) == (("a", "b"), 600.0, "always")


def test_a_preemptible_2022_run_sends_scheduler_enabled(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE}/jobs", json=make_job(), status=202)
    client22.jobs.run(CONTAINER, is_preemptible=True)
    body = request_json(mocked.calls[0])
    assert body["scheduler_enabled"] is True and "is_preemptible" not in body
    assert "memory_mb" not in body["container"]["resources"]


def test_a_plain_2022_run_sends_only_pass_config(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE}/jobs", json=make_job(), status=202)
    client22.jobs.run(CONTAINER)
    body = request_json(mocked.calls[0])
    assert set(body) == {"container", "scheduler_enabled", "pass_config"}
    assert body["pass_config"] is False
    assert set(body["container"]) == {"image", "resources", "command"}


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"life_span": 59}, "life_span", "at least 60"),
        ({"life_span": float("nan")}, "life_span", "finite"),
        ({"life_span": "600"}, "life_span", "number"),
        ({"restart_policy": "sometimes"}, "restart_policy", "one of"),
        ({"tags": "abc"}, "tags", "not a string"),
        ({"tags": ["has space"]}, "tags.0", "pattern"),
        ({"tags": [str(i) for i in range(17)]}, "tags", "at most 16"),
        ({"privileged": "yes"}, "privileged", "True or False"),
        ({"preset_name": ""}, "preset_name", "between 1 and 256"),
    ],
)
def test_bad_2022_run_arguments_are_refused_before_sending(
    client22: neuro_sync.Client,
    mocked: responses.RequestsMock,
    kwargs: dict[str, Any],
    field: str,
    message: str,
) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        client22.jobs.run(CONTAINER, **kwargs)
    assert err.value.field == field
    assert len(mocked.calls) == 0


def test_a_relative_working_dir_is_refused(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    container = Container(RemoteImage("ubuntu"), Resources(64, 0.1), working_dir="w")
    with pytest.raises(ValidationError, match="absolute") as err:
        client22.jobs.run(container)
    assert err.value.field == "container.working_dir"
    assert len(mocked.calls) == 0


# --------------------------------------------------------------------------- list, iter

SINCE = datetime.datetime(2022, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)

LIST_2022: list[tuple[str, Any]] = [
    ("tags", ["a"]),
    ("since", SINCE),
    ("until", SINCE),
    ("reverse", True),
    ("limit", 1),
]


@pytest.mark.parametrize("method", ["list", "iter"])
@pytest.mark.parametrize(("key", "value"), LIST_2022)
def test_2022_list_filters_are_refused_under_2019(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    method: str,
    key: str,
    value: Any,
) -> None:
    with pytest.raises(ValidationError, match="2022") as err:
        getattr(client.jobs, method)(**{key: value})
    assert err.value.field == key
    assert len(mocked.calls) == 0


def _ndjson(*items: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


def test_a_2022_list_sends_the_filters_and_reads_ndjson(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    body = _ndjson(make_job(id="job-2", status="cancelled"), make_job(id="job-1"))
    mocked.get(f"{BASE}/jobs", body=body, content_type=NDJSON)
    jobs = client22.jobs.list(
        tags=["b", "a", "b"],
        since=SINCE,
        until=SINCE + datetime.timedelta(days=1),
        reverse=True,
        limit=2,
        statuses={"pending"},
    )
    assert [(j.id, j.status) for j in jobs] == [
        ("job-2", JobStatus.CANCELLED),
        ("job-1", JobStatus.PENDING),
    ]
    call = mocked.calls[0]
    assert NDJSON in call.request.headers["Accept"]
    assert _query(call) == {
        "status": ["pending"],
        "tag": ["a", "b"],
        "since": ["2022-01-02T03:04:05+00:00"],
        "until": ["2022-01-03T03:04:05+00:00"],
        "reverse": ["1"],
        "limit": ["2"],
    }


def test_a_2022_list_falls_back_to_the_json_object(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs", json={"jobs": [make_job(id="job-1")]})
    assert [j.id for j in client22.jobs.list()] == ["job-1"]


@pytest.mark.parametrize("method", ["list", "iter"])
def test_a_trailing_error_line_raises_a_server_error(
    client22: neuro_sync.Client, mocked: responses.RequestsMock, method: str
) -> None:
    body = _ndjson(make_job(id="job-1"), {"error": "database is gone"})
    mocked.get(f"{BASE}/jobs", body=body, content_type=NDJSON)
    seen: list[str] = []
    with pytest.raises(neuro_sync.ServerError, match="database is gone") as err:
        if method == "list":
            client22.jobs.list()
        else:
            with client22.jobs.iter() as jobs:
                seen.extend(j.id for j in jobs)
    assert "after 1" in str(err.value)
    if method == "iter":
        assert seen == ["job-1"]


def test_a_cut_ndjson_stream_is_an_error_not_a_short_list(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    line = json.dumps(make_job(id="job-2")).encode()
    body = _ndjson(make_job(id="job-1")) + line[: len(line) // 2]
    mocked.get(f"{BASE}/jobs", body=body, content_type=NDJSON)
    with pytest.raises(neuro_sync.ResponseValidationError, match="job #1"):
        client22.jobs.list()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"since": datetime.datetime(2022, 1, 1)}, "since"),  # noqa: DTZ001 - naive on purpose
        ({"until": "2022-01-01"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": "5"}, "limit"),
        ({"reverse": 1}, "reverse"),
        ({"tags": "a"}, "tags"),
    ],
)
def test_bad_2022_list_filters_are_refused(
    client22: neuro_sync.Client, mocked: responses.RequestsMock, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        client22.jobs.list(**kwargs)
    assert err.value.field == field
    assert len(mocked.calls) == 0


# --------------------------------------------------------------------------- kill, life span


def test_a_2022_kill_reads_as_cancelled(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.delete(f"{BASE}/jobs/{JOB_ID}", status=204)
    killed = make_job(status="cancelled", reason="UserRequested")
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=killed)
    client22.jobs.kill(JOB_ID)
    job = client22.jobs.wait(JOB_ID, timeout=5)
    assert job.status is JobStatus.CANCELLED
    assert job.history.reason == "UserRequested"


def test_bump_life_span_sends_whole_minutes(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.put(f"{BASE}/jobs/{JOB_ID}/max_run_time_minutes", status=204)
    client22.jobs.bump_life_span(JOB_ID, 150)
    assert request_json(mocked.calls[0]) == {"additional_max_run_time_minutes": 2}


@pytest.mark.parametrize("seconds", [59, 0, -60, float("inf"), "120", True])
def test_a_bad_life_span_bump_is_refused(
    client22: neuro_sync.Client, mocked: responses.RequestsMock, seconds: Any
) -> None:
    with pytest.raises(ValidationError) as err:
        client22.jobs.bump_life_span(JOB_ID, seconds)
    assert err.value.field == "additional_seconds"
    assert len(mocked.calls) == 0


def test_bump_life_span_is_refused_under_2019(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    with pytest.raises(ValidationError, match="2022"):
        client.jobs.bump_life_span(JOB_ID, 600)
    assert len(mocked.calls) == 0


def test_a_2019_construction_equals_a_2019_reply(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    # Positional 2019 constructions still work, and the new fields' defaults are what a
    # 2019 reply reads as.
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(command="true", status="running"))
    job = client.jobs.status(JOB_ID)
    history = neuro_sync.JobStatusHistory(
        job.history.status,
        job.history.reason,
        job.history.description,
        job.history.created_at,
        job.history.started_at,
        job.history.finished_at,
        job.history.exit_code,
    )
    c = job.container
    container = Container(c.image, c.resources, c.entrypoint, c.command, c.http, c.env, c.volumes)
    built = neuro_sync.JobDescription(
        job.id,
        job.owner,
        job.status,
        history,
        container,
        job.is_preemptible,
        job.name,
        job.description,
        job.http_url,
        job.ssh_server,
        job.internal_hostname,
    )
    assert built == job


# --------------------------------------------------------------------------- logs, names

LOG_SINCE = datetime.datetime(2022, 7, 1, 12, 30, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    "kwargs, field", [({"since": LOG_SINCE}, "since"), ({"timestamps": True}, "timestamps")]
)
@pytest.mark.parametrize("method", ["logs", "monitor"])
def test_log_options_are_refused_under_2019_before_sending(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    method: str,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(ValidationError, match="2022 dialect") as err:
        getattr(client.jobs, method)(JOB_ID, **kwargs)
    assert err.value.field == field
    assert len(mocked.calls) == 0


def test_a_2019_log_sends_no_query(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"a\n")
    assert client.jobs.logs(JOB_ID, since=None, timestamps=False).read() == "a"
    assert urlsplit(mocked.calls[-1].request.url).query == ""


@pytest.mark.parametrize("method", ["logs", "monitor"])
def test_a_2022_log_sends_since_and_timestamps(
    client22: neuro_sync.Client, mocked: responses.RequestsMock, method: str
) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"2022-07-01T12:30:01Z a\n")
    with getattr(client22.jobs, method)(JOB_ID, since=LOG_SINCE, timestamps=True) as stream:
        stream.read()
    assert _query(mocked.calls[-1]) == {
        "since": ["2022-07-01T12:30:00+00:00"],
        "timestamps": ["true"],
    }


def test_a_2022_log_without_options_sends_no_query(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"a\n")
    assert client22.jobs.logs(JOB_ID).read() == "a"
    assert urlsplit(mocked.calls[-1].request.url).query == ""


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"since": datetime.datetime(2022, 7, 1)}, "since"),  # naive
        ({"since": "2022-07-01T00:00:00Z"}, "since"),
        ({"timestamps": 1}, "timestamps"),
    ],
)
def test_bad_log_options_are_refused(
    client22: neuro_sync.Client, mocked: responses.RequestsMock, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        client22.jobs.logs(JOB_ID, **kwargs)
    assert err.value.field == field
    assert len(mocked.calls) == 0


def test_2022_status_kill_and_logs_take_a_job_name(
    client22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    # The 2022 server resolves a name in the job's path: the client sends it as it is.
    mocked.get(f"{BASE}/jobs/my-job", json=make_job(status="running"))
    mocked.delete(f"{BASE}/jobs/my-job", status=204)
    mocked.get(f"{MONITORING}/my-job/log", body=b"hello\n")
    assert client22.jobs.status("my-job").id == JOB_ID
    client22.jobs.kill("my-job")
    assert client22.jobs.logs("my-job").read() == "hello"
    assert [urlsplit(c.request.url).path for c in mocked.calls] == [
        "/api/v1/jobs/my-job",
        "/api/v1/jobs/my-job",
        "/api/v1/jobs/my-job/log",
    ]
