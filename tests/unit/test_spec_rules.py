"""The spec is the one source of the validation rules, for the client and the local platform.

A rule changed in a copy of `openapi/` and regenerated changes what both sides accept, with no
other edit; a job name with a trailing newline never leaves the client; what cannot run
(#11 item 5) is refused before sending.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import responses
import yaml

import neuro_sync
from neuro_sync import Container, RemoteImage, Resources, ValidationError, _mapping
from neuro_sync import _schemas as facade_schemas
from neuro_sync import _validation as facade_validation
from neuro_sync.local import validation as server_validation

from .conftest import BASE, TOKEN

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"


def _load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclass-like machinery (marshmallow) looks modules up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def produced(tmp_path: Path) -> Iterator[ModuleType]:
    """Schemas generated from a copy of openapi/ with two rules changed.

    Job names may use `_` instead of `-`; cpu may be at most 4.
    """
    copy = tmp_path / "openapi"
    shutil.copytree(OPENAPI, copy)
    spec_path = copy / "jobs.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    schemas = spec["components"]["schemas"]
    assert schemas["JobName"]["pattern"] == "^[a-z](?:-?[a-z0-9])*$"
    schemas["JobName"]["pattern"] = "^[a-z](?:_?[a-z0-9])*$"
    schemas["ResourcesRequest"]["properties"]["cpu"]["maximum"] = 4
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    generator = _load_module("gen_validation_copy", copy / "gen_validation.py")
    out = tmp_path / "produced_validation.py"
    generator.generate(spec_path, out)
    try:
        yield _load_module("produced_validation", out)
    finally:
        for name in ("gen_validation_copy", "produced_validation"):
            sys.modules.pop(name, None)


def _container(cpu: float = 1) -> Container:
    return Container(RemoteImage("ubuntu"), Resources(16, cpu), command="true")


def _facade_accepts(name: str, cpu: float) -> bool:
    try:
        _mapping.job_request(
            _container(cpu),
            name=name,
            description=None,
            is_preemptible=False,
            schedule_timeout=None,
        )
    except ValidationError:
        return False
    return True


def _server_accepts(name: str, cpu: float) -> bool:
    body = {
        "name": name,
        "container": {"image": "ubuntu", "resources": {"cpu": cpu, "memory_mb": 16}},
    }
    try:
        server_validation.job_request(body, gpu_models=())
    except server_validation.InvalidRequest:
        return False
    return True


def _use(monkeypatch: pytest.MonkeyPatch, rules: ModuleType) -> None:
    """Point both sides at `rules` (as an import of a regenerated package would)."""
    monkeypatch.setattr(server_validation, "rules", rules)
    monkeypatch.setattr(server_validation, "_JOB_REQUEST", rules.JobRequest())
    monkeypatch.setattr(server_validation, "_LIST_QUERY", rules.ListJobsQuery())
    monkeypatch.setattr(
        facade_schemas,
        "JOB_REQUEST",
        {d: rules.for_dialect(rules.JobRequest, d) for d in ("2019", "2022")},
    )
    monkeypatch.setattr(facade_schemas, "LIST_QUERY", rules.ListJobsQuery())


CASES = [("my-job", 1), ("my_job", 1), ("my-job", 8), ("my_job", 4)]


def test_a_changed_spec_changes_what_both_sides_accept(
    monkeypatch: pytest.MonkeyPatch, produced: ModuleType
) -> None:
    committed = {case: (_facade_accepts(*case), _server_accepts(*case)) for case in CASES}
    assert committed == {
        ("my-job", 1): (True, True),
        ("my_job", 1): (False, False),
        ("my-job", 8): (True, True),
        ("my_job", 4): (False, False),
    }
    _use(monkeypatch, produced)
    changed = {case: (_facade_accepts(*case), _server_accepts(*case)) for case in CASES}
    assert changed == {
        ("my-job", 1): (False, False),
        ("my_job", 1): (True, True),
        ("my-job", 8): (False, False),
        ("my_job", 4): (True, True),
    }


def test_a_changed_spec_changes_the_list_filters(
    monkeypatch: pytest.MonkeyPatch, produced: ModuleType
) -> None:
    facade_validation.validate_list({"name": "my-job"})
    _use(monkeypatch, produced)
    facade_validation.validate_list({"name": "my_job"})
    with pytest.raises(ValidationError, match="^name: "):
        facade_validation.validate_list({"name": "my-job"})


# --------------------------------------------------------------------------- names


def test_a_trailing_newline_in_the_name_is_refused_before_anything_is_sent() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        with neuro_sync.Client(BASE, TOKEN) as client:
            with pytest.raises(ValidationError) as info:
                client.jobs.run(_container(), name="abc\n")
        assert len(mocked.calls) == 0
    assert info.value.field == "name"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_trailing_newline_is_refused_with_the_server_unreachable() -> None:
    # No cluster_config: the client would have to fetch /config, and nothing listens there.
    url = f"http://127.0.0.1:{_closed_port()}/api/v1"
    with neuro_sync.Client(url, TOKEN, max_retries=0) as client:
        with pytest.raises(ValidationError) as info:
            client.jobs.run(_container(), name="abc\n")
    assert info.value.field == "name"


# --------------------------------------------------------------------------- #11 item 5

UNRUNNABLE: list[tuple[str, Any, str]] = [
    ("memory-10e400", Resources(10**400, 1), "container.resources.memory_mb"),
    ("memory-2e70", Resources(2**70, 1), "container.resources.memory_mb"),
    ("memory-above-1tib", Resources(1048577, 1), "container.resources.memory_mb"),
    ("cpu-nan", Resources(16, float("nan")), "container.resources.cpu"),
    ("cpu-inf", Resources(16, float("inf")), "container.resources.cpu"),
    ("cpu-huge-int", Resources(16, 10**400), "container.resources.cpu"),
]
ENV: list[tuple[str, dict[str, str], str]] = [
    ("env-name-equals", {"A=B": "x"}, "container.env.A=B.key"),
    ("env-name-nul", {"A\x00": "x"}, "container.env.A\x00.key"),
    ("env-name-empty", {"": "x"}, "container.env..key"),
    ("env-value-nul", {"A": "x\x00y"}, "container.env.A.value"),
]


@pytest.mark.parametrize(
    ("resources", "field"), [c[1:] for c in UNRUNNABLE], ids=[c[0] for c in UNRUNNABLE]
)
def test_the_client_refuses_unrunnable_resources(
    client: neuro_sync.Client, mocked: responses.RequestsMock, resources: Resources, field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.run(Container(RemoteImage("ubuntu"), resources))
    assert info.value.field == field
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(("env", "field"), [c[1:] for c in ENV], ids=[c[0] for c in ENV])
def test_the_client_refuses_unusable_environments(
    client: neuro_sync.Client, mocked: responses.RequestsMock, env: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        client.jobs.run(Container(RemoteImage("ubuntu"), Resources(16, 1), env=env))
    assert info.value.field == field
    assert len(mocked.calls) == 0


def test_the_largest_memory_and_ordinary_env_pass(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    env = {"PATH": "/bin", "EMPTY": "", "SPACES": " a = b "}
    container = Container(RemoteImage("ubuntu"), Resources(1048576, 1), env=env)
    body = _mapping.job_request(
        container, name=None, description=None, is_preemptible=False, schedule_timeout=None
    ).to_dict()
    assert body["container"]["resources"]["memory_mb"] == 1048576
    assert body["container"]["env"] == env
    assert len(mocked.calls) == 0
