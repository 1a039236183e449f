"""CLI fixtures: a `CliRunner`, a `responses` mock of the API, and small wire builders.

The CLI is driven through click's runner against `responses` here; `test_console.py` runs the
installed console script against the local platform.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from click.testing import CliRunner, Result

from neuro_sync.cli import cli

BASE = "http://api.test/api/v1"
MONITORING = "http://monitoring.test/api/v1/jobs"
USER = "alice"
JOB_ID = "job-11111111-2222-4333-8444-555555555555"
OTHER_ID = "job-66666666-7777-4888-8999-000000000000"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


TOKEN = f"{_b64({'alg': 'HS256'})}.{_b64({'identity': USER})}.c2lnbmF0dXJl"

PRESETS = [
    {"name": "cpu-small", "cpu": 1, "memory_mb": 1024},
    {"name": "gpu-small", "cpu": 7, "memory_mb": 30720, "gpu": 1, "gpu_model": "nvidia-k80"},
    {"name": "cpu-spot", "cpu": 1, "memory_mb": 1024, "is_preemptible": True},
]


def wire_job(status: str = "pending", **extra: Any) -> dict[str, Any]:
    """A job as the 2019 server sends it; `extra` keys go into the top level, `history` and
    `container` dicts merge into theirs."""
    history = {"status": status, "reason": None, "description": None}
    history["created_at"] = "2019-08-16T10:11:12+00:00"
    history.update(extra.pop("history", {}))
    container = {
        "image": "ubuntu:latest",
        "command": "sleep 1",
        "env": {},
        "volumes": [],
        "resources": {"cpu": 1.0, "memory_mb": 1024},
    }
    container.update(extra.pop("container", {}))
    job = {
        "id": JOB_ID,
        "owner": USER,
        "status": status,
        "history": history,
        "container": container,
        "ssh_server": "ssh://nobody@ssh.test:22",
        "is_preemptible": False,
    }
    job.update(extra)
    return job


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The API from the environment; never the developer's own ~/.nmrc."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("NEUROMATION_CONFIG", raising=False)
    monkeypatch.setenv("NEURO_SYNC_URL", BASE)
    monkeypatch.setenv("NEURO_SYNC_TOKEN", TOKEN)


@pytest.fixture
def offline() -> Iterator[responses.RequestsMock]:
    """The API mock with nothing registered: any request fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def api(offline: responses.RequestsMock) -> responses.RequestsMock:
    """The API mock serving `GET /config`; a test fails if a reply it adds goes unused."""
    offline.get(
        f"{BASE}/config",
        json={
            "registry_url": "https://registry.test",
            "storage_url": f"{BASE}/storage",
            "users_url": f"{BASE}/users",
            "monitoring_url": MONITORING,
            "resource_presets": PRESETS,
        },
    )
    return offline


def invoke(*args: str, input: str | None = None) -> Result:
    """Run the CLI in-process; no output may contain the token."""
    result = CliRunner().invoke(cli, list(args), input=input, prog_name="neuro-sync")
    for text in (result.stdout, result.stderr):
        assert TOKEN not in text
    return result


def submitted(rsps: responses.RequestsMock) -> list[Any]:
    """The JSON bodies of the jobs submitted (POST requests) so far."""
    bodies = [c.request.body for c in rsps.calls if c.request.method == "POST"]
    return [json.loads(b) for b in bodies if b is not None]
