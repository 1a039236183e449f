"""Differential: neuro-sdk 22.7.1's own job parser and ours read the same generated 2022 job
payloads alike, and `run` with the same arguments sends the same `POST /jobs` body.

The SDK runs in its own venv (tests/sdk2022/driver.py: `parse`, `body`); ours is
`neuro_sync._mapping` (the job reader and `job_request`, what `Jobs.status`/`list` read and
`Jobs.run` sends). Where the two differ on purpose, the normalisation below says why.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from neuro_sync import Container, HTTPPort, JobDescription, Resources, Volume
from neuro_sync._mapping import ReplyContext, RunOptions, job_from_json, job_request
from neuro_sync.parsing import parse_remote_image

from ..support.job_fields import job_fields
from ..support.released_sdk import Sdk

MIB = 2**20
SEED = 2022
COUNT = 300
STATUSES = ["pending", "running", "succeeded", "failed", "cancelled", "suspended"]
REASONS = ["", "Creating", "ContainerCreating", "OOMKilled", "Error", "UserRequested"]


def _moment(rng: random.Random) -> str:
    return f"2022-07-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00+00:00"


def _maybe(rng: random.Random, payload: dict[str, Any], key: str, value: Any, null: bool) -> None:
    """Present, absent, or (where the server sends null) null."""
    roll = rng.random()
    if roll < 0.45:
        payload[key] = value
    elif roll < 0.7 and null:
        payload[key] = None


def payload(rng: random.Random, index: int) -> dict[str, Any]:
    """One job object as a 2022 server sends it (no `is_preemptible`, no `memory_mb`). The
    keys neuro-sdk 22.7.1 reads without a default (`cluster_name`, `uri`, `pass_config`,
    `scheduler_enabled`, the prices) are always there, as the server always sends them."""
    status = rng.choice(STATUSES)
    memory_mb = rng.choice([16, 64, 1024, 16384])
    container: dict[str, Any] = {
        "image": rng.choice(["ubuntu", "ubuntu:22.04", "python:3.11"]),
        "resources": {"cpu": rng.choice([0.1, 0.5, 1.0, 4.0]), "memory": memory_mb * MIB},
    }
    _maybe(rng, container, "command", f"sh -c 'exit {index % 3}'", False)
    _maybe(rng, container, "entrypoint", "/bin/sh", False)
    _maybe(rng, container, "env", {"A": str(index), "B": "x y"}, False)
    _maybe(rng, container, "working_dir", "/tmp", False)
    _maybe(rng, container, "tty", rng.random() < 0.5, False)
    _maybe(rng, container, "http", {"port": 8080, "requires_auth": rng.random() < 0.5}, False)
    vols = [
        {"src_storage_uri": "storage://default/user/data", "dst_path": "/data", "read_only": ro}
        for ro in rng.sample([True, False], rng.randint(0, 2))
    ]
    _maybe(rng, container, "volumes", vols, False)
    finished = status in {"succeeded", "failed", "cancelled"}
    history: dict[str, Any] = {
        "status": status,
        "reason": rng.choice(REASONS),
        "description": "",
        "created_at": _moment(rng),
    }
    _maybe(rng, history, "exit_code", rng.choice([0, 1, 137]) if finished else None, True)
    _maybe(rng, history, "restarts", rng.randint(0, 5), False)
    _maybe(rng, history, "run_time_seconds", rng.choice([0, 1.5, 3600]), True)
    transitions = [
        {"status": s, "transition_time": _moment(rng), "reason": rng.choice(REASONS)}
        for s in STATUSES[: rng.randint(0, 4)] + [status]
    ]
    for item in transitions:
        _maybe(rng, item, "exit_code", 0, True)
    job: dict[str, Any] = {
        "id": f"job-{index:08x}",
        "owner": "user",
        "cluster_name": "default",
        "uri": f"job://default/user/job-{index:08x}",
        "status": status,
        "history": history,
        "container": container,
        "pass_config": rng.random() < 0.5,
        "scheduler_enabled": rng.random() < 0.5,
        "total_price_credits": "0",
        "price_credits_per_hour": "0",
    }
    _maybe(rng, job, "name", f"job-name-{index}", True)
    _maybe(rng, job, "description", "a job", True)
    _maybe(rng, job, "tags", sorted(rng.sample(["a", "b", "c"], rng.randint(0, 3))), False)
    _maybe(rng, job, "restart_policy", rng.choice(["never", "on-failure", "always"]), False)
    _maybe(rng, job, "max_run_time_minutes", rng.choice([1, 60, 1440]), True)
    _maybe(rng, job, "preset_name", rng.choice(["cpu-small", "gpu"]), True)
    _maybe(rng, job, "privileged", rng.random() < 0.5, False)
    _maybe(rng, job, "statuses", transitions, False)
    return job


def ours(job: JobDescription) -> dict[str, Any]:
    # Intended: our Resources carries megabytes (the 2019 API's `memory_mb`); the SDK's
    # bytes are the same quantity.
    return job_fields(job, job.container.resources.memory_mb * MIB)


def test_parsers_agree_on_generated_payloads(sdk: Sdk, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    payloads = [payload(rng, i) for i in range(COUNT)]
    seen = {p["status"] for p in payloads}
    assert seen == set(STATUSES)  # the generator covers every status
    path = tmp_path / "payloads.json"
    path.write_text(json.dumps(payloads))
    theirs = sdk.call("parse", path=str(path))["jobs"]
    ctx = ReplyContext("registry.example", "user")
    parsed = [job_from_json(json.loads(json.dumps(p)), ctx) for p in payloads]
    # the 2019 `is_preemptible` is the 2022 `scheduler_enabled` (the SDK has no such field)
    assert [j.is_preemptible for j in parsed] == [p["scheduler_enabled"] for p in payloads]
    assert {j.is_preemptible for j in parsed} == {True, False}
    mine = [ours(job) for job in parsed]
    assert len(theirs) == len(mine) == COUNT
    # the payloads vary where it matters: each optional field both given and defaulted
    for field in ("tags", "life_span", "preset_name", "working_dir", "http", "volumes"):
        assert len({json.dumps(t[field]) for t in theirs}) > 1, field
    assert {t["restart_policy"] for t in theirs} == {"never", "on-failure", "always"}
    assert any(t["transitions"] for t in theirs) and any(not t["transitions"] for t in theirs)
    for p, t, m in zip(payloads, theirs, mine, strict=True):
        assert m == t, (p, t, m)


RUNS: list[dict[str, Any]] = [
    {"command": "true"},
    {"command": "true", "tags": ["b", "a"], "life_span": 3600, "restart_policy": "on-failure"},
    {"command": "pwd", "working_dir": "/tmp", "tty": True, "pass_config": True},
    {"command": "env", "env": {"A": "1", "B": "x y"}, "restart_policy": "always"},
    {
        "command": "sleep 1",
        "http": {"port": 8080, "requires_auth": False},
        "volumes": [
            {
                "storage_path": "storage://default/user/data",
                "container_path": "/d",
                "read_only": True,
            }
        ],
        "life_span": 90,  # 1.5 minutes: both send whole minutes, rounded down
    },
]


def our_body(a: dict[str, Any]) -> dict[str, Any]:
    container = Container(
        image=parse_remote_image("ubuntu", registry_host="registry.example", username="user"),
        resources=Resources(memory_mb=64, cpu=0.1),
        command=a["command"],
        working_dir=a.get("working_dir"),
        tty=a.get("tty", False),
        env=a.get("env", {}),
        http=HTTPPort(**a["http"]) if a.get("http") else None,
        volumes=[Volume(**v) for v in a.get("volumes", ())],
    )
    request = job_request(
        container,
        name=None,
        description=None,
        is_preemptible=False,
        schedule_timeout=None,
        dialect="2022",
        options=RunOptions(
            tags=a.get("tags"),
            life_span=a.get("life_span"),
            restart_policy=a.get("restart_policy", "never"),
            pass_config=a.get("pass_config", False),
        ),
    )
    body: dict[str, Any] = request.to_dict()
    return body


@pytest.mark.parametrize("arguments", RUNS, ids=range(len(RUNS)))
def test_run_bodies_agree(sdk: Sdk, arguments: dict[str, Any]) -> None:
    theirs = sdk.call("body", **arguments)["body"]
    mine = our_body(arguments)
    # Both send `scheduler_enabled` (not the 2019 `is_preemptible`) and `memory` in bytes
    # (not `memory_mb`). Intended differences, each a value the server defaults the same way:
    # - the SDK names the cluster; we leave it to the server (the user's default cluster);
    assert theirs.pop("cluster_name") == "default"
    assert "is_preemptible" not in mine and "memory_mb" not in mine["container"]["resources"]
    # - the SDK's Resources defaults `shm` to true and sends it; ours leaves it to the server
    #   when None (as the 2019 API did).
    assert theirs["container"]["resources"].pop("shm") is True
    assert "shm" not in mine["container"]["resources"]
    assert mine == theirs
