"""Volumes are never ignored: the process runtime refuses them at submission (it has no mount
namespace); the storage mapping every runtime shares allows only the owner's own storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from neuro_sync.local.runtime import VolumeForbidden, storage_path

from .helpers import Api, job_body


def with_volumes(*volumes: dict[str, Any]) -> dict[str, Any]:
    body = job_body("true")
    body["container"]["volumes"] = list(volumes)
    return body


@pytest.mark.parametrize("read_only", [True, False])
def test_process_runtime_refuses_volumes(fresh: Api, read_only: bool) -> None:
    volume = {"src_storage_uri": f"storage://{fresh.user}/data", "dst_path": "/data"}
    response = fresh.post("/jobs", json=with_volumes({**volume, "read_only": read_only}))
    assert response.status_code == 400
    assert response.json()["error"].startswith("volumes need a container runtime")
    assert fresh.jobs() == []  # nothing was created


def test_jobs_without_volumes_still_run(fresh: Api) -> None:
    assert fresh.wait(fresh.create(with_volumes())["id"])["status"] == "succeeded"


DATA = Path("/data-dir")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("storage://alice/data/set", DATA / "storage/alice/data/set"),
        ("storage://alice", DATA / "storage/alice"),
        ("storage://~/x", DATA / "storage/alice/x"),
        ("storage:x/y", DATA / "storage/alice/x/y"),
        ("storage:", DATA / "storage/alice"),
        ("storage:/abs", DATA / "storage/alice/abs"),
        ("storage://alice/./a//b/", DATA / "storage/alice/a/b"),
    ],
)
def test_storage_path_maps_into_the_owners_storage(uri: str, expected: Path) -> None:
    assert storage_path(DATA, "alice", {"src_storage_uri": uri, "dst_path": "/d"}) == expected


@pytest.mark.parametrize(("read_only", "action"), [(True, "read"), (False, "write")])
def test_storage_path_refuses_other_users_storage(read_only: bool, action: str) -> None:
    volume = {"src_storage_uri": "storage://bob/x", "dst_path": "/d", "read_only": read_only}
    with pytest.raises(VolumeForbidden) as raised:
        storage_path(DATA, "alice", volume)
    assert (raised.value.uri, raised.value.action) == ("storage://bob/x", action)


@pytest.mark.parametrize("uri", ["storage://alice/../bob", "storage:a/../../etc", "storage:.."])
def test_storage_path_never_leaves_the_owners_storage(uri: str) -> None:
    with pytest.raises(ValueError, match="Invalid path"):
        storage_path(DATA, "alice", {"src_storage_uri": uri, "dst_path": "/d"})
