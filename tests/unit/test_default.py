"""Module-level calls: the default client's lifecycle, the functions generated from `Jobs`,
and the short form of `neuro_sync.run` with preset resolution."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import responses

import neuro_sync
from neuro_sync import Container, HTTPPort, Jobs, RemoteImage, Resources, ValidationError
from neuro_sync import _default as default_module

from .conftest import (
    BASE,
    JOB_ID,
    MONITORING,
    REGISTRY,
    TOKEN,
    make_job,
    request_json,
)

GENERATED = (
    "status",
    "kill",
    "logs",
    "wait",
    "top",
    "save",
    "exec",
    "port_forward",
    "list",
    "iter",
)


@pytest.fixture(autouse=True)
def _no_default_client() -> Iterator[None]:
    neuro_sync.set_default_client(None)
    yield
    neuro_sync.set_default_client(None)


@pytest.fixture
def env_client(
    monkeypatch: pytest.MonkeyPatch, mocked: responses.RequestsMock, config_json: dict[str, Any]
) -> None:
    """The environment names the mocked server: `neuro_sync.get()` finds it."""
    mocked.get(f"{BASE}/config", json=config_json)
    monkeypatch.setenv("NEURO_SYNC_URL", BASE)
    monkeypatch.setenv("NEURO_SYNC_TOKEN", TOKEN)


# ---------------------------------------------------------------------------- lifecycle


def test_the_default_client_is_made_lazily_from_get(
    env_client: None, mocked: responses.RequestsMock
) -> None:
    assert default_module._client is None  # importing and resetting made nothing
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="running"))
    assert neuro_sync.status(JOB_ID).status == "running"
    client = neuro_sync.default_client()
    assert str(client.url) == BASE
    assert neuro_sync.default_client() is client


def test_sixteen_threads_get_one_client(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[neuro_sync.Client] = []
    start = threading.Barrier(16)

    def slow_get() -> neuro_sync.Client:
        # Widen the race: every thread is inside default_client() before the first one ends.
        threading.Event().wait(0.05)
        client = neuro_sync.Client(BASE, TOKEN)
        made.append(client)
        return client

    monkeypatch.setattr(default_module, "get", slow_get)
    seen: list[neuro_sync.Client] = []

    def worker() -> None:
        start.wait()
        seen.append(neuro_sync.default_client())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1
    assert len(seen) == 16 and all(c is made[0] for c in seen)


def test_reset_makes_a_new_client_and_closes_the_one_made_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[neuro_sync.Client] = []
    monkeypatch.setattr(neuro_sync.Client, "close", lambda self: closed.append(self))
    monkeypatch.setenv("NEURO_SYNC_URL", BASE)
    monkeypatch.setenv("NEURO_SYNC_TOKEN", TOKEN)
    first = neuro_sync.default_client()
    # Environment changes after creation do not reach the existing default client...
    monkeypatch.setenv("NEURO_SYNC_URL", "http://other.test/api/v1")
    assert neuro_sync.default_client() is first
    # ...until it is reset.
    neuro_sync.set_default_client(None)
    assert closed == [first]
    second = neuro_sync.default_client()
    assert second is not first
    assert str(second.url) == "http://other.test/api/v1"


def test_a_client_set_by_the_user_is_used_and_not_closed(
    monkeypatch: pytest.MonkeyPatch, client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    closed: list[neuro_sync.Client] = []
    neuro_sync.set_default_client(client)
    assert neuro_sync.default_client() is client
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="failed", exit_code=3))
    assert neuro_sync.status(JOB_ID).history.exit_code == 3
    monkeypatch.setattr(neuro_sync.Client, "close", lambda self: closed.append(self))
    neuro_sync.set_default_client(None)
    assert closed == []


def test_without_configuration_the_first_call_says_how_to_configure() -> None:
    with pytest.raises(neuro_sync.ConfigError, match="NEURO_SYNC_URL"):
        neuro_sync.status(JOB_ID)


def test_set_default_client_checks_its_argument() -> None:
    with pytest.raises(ValidationError, match="client"):
        neuro_sync.set_default_client("http://api.test")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- generated


@pytest.mark.parametrize("name", GENERATED)
def test_module_functions_are_the_jobs_methods(name: str) -> None:
    function = getattr(neuro_sync, name)
    method = getattr(Jobs, name)
    assert function.__doc__ == method.__doc__
    assert function.__name__ == name
    expected = list(inspect.signature(method).parameters.values())[1:]
    assert list(inspect.signature(function).parameters.values()) == expected


def test_module_calls_go_to_the_default_client(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    neuro_sync.set_default_client(client)
    mocked.get(f"{BASE}/jobs", json={"jobs": [make_job()]})
    mocked.delete(f"{BASE}/jobs/{JOB_ID}", status=204)
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"a\nb")
    assert [j.id for j in neuro_sync.list()] == [JOB_ID]
    neuro_sync.kill(JOB_ID)
    assert neuro_sync.logs(JOB_ID).read() == "a\nb"


# ---------------------------------------------------------------------------- run


@pytest.fixture
def default(client: neuro_sync.Client) -> neuro_sync.Client:
    neuro_sync.set_default_client(client)
    return client


def _submitted(mocked: responses.RequestsMock) -> Any:
    return request_json(mocked.calls[-1])


def test_run_short_form_uses_the_default_preset(
    default: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE}/jobs", json=make_job(), status=202)
    job = neuro_sync.run("ubuntu", "python train.py", env={"EPOCHS": "3"}, name="train")
    assert job.id == JOB_ID
    assert _submitted(mocked) == {
        "container": {
            "image": "ubuntu:latest",  # parsed as the 2019 SDK parses image names
            "command": "python train.py",
            # The cluster's first preset (gpu-small in this /config).
            "resources": {
                "cpu": 7,
                "memory_mb": 30720,
                "gpu": 1,
                "gpu_model": "nvidia-tesla-k80",
            },
            "env": {"EPOCHS": "3"},
        },
        "name": "train",
        "is_preemptible": False,
    }


def test_run_short_form_with_a_named_preset_and_more(
    default: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE}/jobs", json=make_job(), status=202)
    neuro_sync.run(
        "image://alice/model:v1",
        preset="cpu-small",
        volumes=["storage://alice/data:/data:ro"],
        http=8080,
        shm=True,
        description="d",
    )
    container = _submitted(mocked)["container"]
    assert container["image"] == f"{REGISTRY}/alice/model:v1"
    assert container["resources"] == {"cpu": 2, "memory_mb": 2048, "shm": True}
    assert container["http"] == {"port": 8080, "requires_auth": True}
    assert container["volumes"] == [
        {"src_storage_uri": "storage://alice/data", "dst_path": "/data", "read_only": True}
    ]


def test_run_unknown_preset_names_the_known_ones_before_any_request(
    default: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    with pytest.raises(ValidationError, match="gpu-small, gpu-large, cpu-small, cpu-large"):
        neuro_sync.run("ubuntu", preset="huge")
    assert len(mocked.calls) == 0


def test_run_with_a_container(default: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/jobs", json=make_job(), status=202)
    container = Container(
        image=RemoteImage("ubuntu"), resources=Resources(memory_mb=16, cpu=0.1), command="true"
    )
    neuro_sync.run(container, name="explicit", http=None)
    body = _submitted(mocked)
    assert body["container"]["resources"] == {"cpu": 0.1, "memory_mb": 16}
    assert body["name"] == "explicit"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"preset": "cpu-small"}, "preset"),
        ({"env": {"A": "1"}}, "env"),
        ({"http": HTTPPort(80)}, "http"),
    ],
)
def test_run_container_with_container_arguments_is_rejected(
    default: neuro_sync.Client, kwargs: dict[str, Any], field: str
) -> None:
    container = Container(image=RemoteImage("ubuntu"), resources=Resources(16, 0.1))
    with pytest.raises(ValidationError, match=field):
        neuro_sync.run(container, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"http": "80"}, "http"),
        ({"http": True}, "http"),
        ({"volumes": "storage://alice/data:/data"}, "volumes"),
    ],
)
def test_run_bad_short_form_arguments(
    default: neuro_sync.Client, mocked: responses.RequestsMock, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        neuro_sync.run("ubuntu", **kwargs)
    assert len(mocked.calls) == 0


# ---------------------------------------------------------------------------- 2022 arguments


@pytest.fixture
def default22(client22: neuro_sync.Client) -> neuro_sync.Client:
    neuro_sync.set_default_client(client22)
    return client22


def test_run_short_form_takes_the_2022_arguments(
    default22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE}/jobs", json=make_job(), status=202)
    neuro_sync.run(
        "ubuntu",
        "true",
        preset="cpu-small",
        working_dir="/work",
        tty=True,
        tags=["t"],
        life_span=3600,
        restart_policy=neuro_sync.JobRestartPolicy.ALWAYS,
        pass_config=True,
        wait_for_jobs_quota=True,
        privileged=True,
        preset_name="cpu-small",
    )
    body = _submitted(mocked)
    assert body["container"]["working_dir"] == "/work"
    assert body["container"]["tty"] is True
    assert {k: body[k] for k in ("tags", "max_run_time_minutes", "restart_policy")} == {
        "tags": ["t"],
        "max_run_time_minutes": 60,
        "restart_policy": "always",
    }
    assert body["pass_config"] is True and body["wait_for_jobs_quota"] is True
    assert body["privileged"] is True and body["preset_name"] == "cpu-small"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tags": ["t"]}, "tags"),
        ({"life_span": 3600}, "life_span"),
        ({"working_dir": "/work"}, "container.working_dir"),
        ({"tty": True}, "container.tty"),
        ({"privileged": True}, "privileged"),
    ],
)
def test_run_short_form_refuses_2022_arguments_under_2019(
    default: neuro_sync.Client, mocked: responses.RequestsMock, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match="2022 dialect") as err:
        neuro_sync.run("ubuntu", "true", **kwargs)
    assert err.value.field == field
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"working_dir": "/w"}, "working_dir"), ({"tty": True}, "tty")]
)
def test_run_container_with_2022_container_arguments_is_rejected(
    default22: neuro_sync.Client, kwargs: dict[str, Any], field: str
) -> None:
    container = Container(image=RemoteImage("ubuntu"), resources=Resources(16, 0.1))
    with pytest.raises(ValidationError, match=field):
        neuro_sync.run(container, **kwargs)


def test_run_refuses_an_unknown_keyword_as_python_does(
    default22: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    """The 2022 arguments are one `JobOptions` for both `run`s: a misspelt one is a TypeError
    naming it (never an internal class), and nothing is sent."""
    options: Any = {"tagz": ["t"]}
    container = Container(RemoteImage("ubuntu"), Resources(64, 0.1), command="true")
    expected = r"^run\(\) got an unexpected keyword argument 'tagz'$"
    with pytest.raises(TypeError, match=expected):
        neuro_sync.run("ubuntu", "true", **options)
    with pytest.raises(TypeError, match=expected):
        default22.jobs.run(container, **options)
    assert len(mocked.calls) == 0
    assert set(neuro_sync.JobOptions.__optional_keys__) == {
        "tags",
        "life_span",
        "restart_policy",
        "pass_config",
        "wait_for_jobs_quota",
        "privileged",
        "preset_name",
    }
