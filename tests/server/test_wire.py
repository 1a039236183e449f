"""The job object and `/config` a platform of each dialect sends: exactly the keys the spec
gives that dialect (`x-dialect`, `x-dialect-until` in openapi/jobs.yaml), written by the
generated writers (generated/neuro_sync_api/writers.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from neuro_sync.local.app import config_body
from neuro_sync.local.store import JobRecord

SPEC = yaml.safe_load((Path(__file__).parents[2] / "openapi" / "jobs.yaml").read_text())
SCHEMAS = SPEC["components"]["schemas"]
DIALECTS = SPEC["info"]["x-dialects"]


def sent(schema: str, dialect: str) -> set[str]:
    """The properties of `schema` the spec says a `dialect` server may send."""
    first = SCHEMAS[schema].get("x-dialect", DIALECTS[0])
    out = set()
    for name, prop in SCHEMAS[schema]["properties"].items():
        since, until = prop.get("x-dialect", first), prop.get("x-dialect-until", DIALECTS[-1])
        if DIALECTS.index(since) <= DIALECTS.index(dialect) <= DIALECTS.index(until):
            out.add(name)
    return out


def full_job() -> JobRecord:
    """A job that sets every optional property of either dialect."""
    job = JobRecord(
        id="job-1",
        owner="alice",
        container={
            "image": "ubuntu",
            "command": "true",
            "resources": {
                "cpu": 0.1,
                "memory_mb": 16,
                "shm": True,
                "gpu": 1,
                "gpu_model": "nvidia-tesla-k80",
            },
            "env": {"A": "1"},
            "http": {"port": 80, "health_check_path": "/", "requires_auth": False},
            "volumes": [{"src_storage_uri": "storage:a", "dst_path": "/a", "read_only": True}],
        },
        created_at="2026-01-01T00:00:00+00:00",
        name="named",
        description="described",
        schedule_timeout=60.0,
        extra={
            "tags": ["t"],
            "max_run_time_minutes": 5,
            "preset_name": "cpu-small",
            "restarts": 1,
        },
    )
    job.set_status("running")
    job.set_status("failed", "Error")
    job.exit_code = 1
    return job


def settings(dialect: str) -> Any:
    return SimpleNamespace(
        dialect=dialect,
        ssh_host="127.0.0.1",
        ssh_port=2222,
        jobs_domain="jobs.local",
        base_url="http://127.0.0.1:1/api/v1",
        registry_url="http://127.0.0.1:2",
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_job_has_the_keys_of_its_dialect(dialect: str) -> None:
    wire = full_job().to_wire(settings(dialect))
    assert set(wire) == sent("Job", dialect)
    assert set(wire["history"]) == sent("JobHistory", dialect)
    assert set(wire["container"]) <= sent("ContainerResponse", dialect)
    assert set(wire["container"]["resources"]) == sent("ResourcesResponse", dialect)


def test_the_dialects_differ_as_the_spec_says() -> None:
    old, new = (full_job().to_wire(settings(d)) for d in ("2019", "2022"))
    assert "ssh_server" in old and "ssh_server" not in new  # x-dialect-until: "2019"
    assert "uri" in new and "uri" not in old  # x-dialect: "2022"
    assert new["container"]["resources"]["memory"] == 16 * 2**20
    assert "memory" not in old["container"]["resources"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_config_has_the_keys_of_its_dialect(dialect: str) -> None:
    signed_in = set(config_body(settings(dialect), "alice"))
    anonymous = set(config_body(settings(dialect), None))
    assert signed_in <= sent("ServerConfig", dialect)
    assert anonymous < signed_in
    if dialect == "2022":
        assert "clusters" in signed_in and "resource_presets" not in signed_in
    else:
        assert "resource_presets" in signed_in and "clusters" not in signed_in
