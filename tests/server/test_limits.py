"""Bounded platform: per-user limits on pending jobs and stored records (400 naming the limit,
as the 2019 platform answered a quota), size limits on the free-text fields of a job (the
spec's, shared with the client), a capped log per job, and list replies serialized one job at
a time, so that a list of many big jobs does not multiply the server's memory."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from neuro_sync.local import LocalPlatform

from .bulk import finished_jobs
from .helpers import GATE, Api, job_body, release, sh, unique_user

pytestmark = pytest.mark.integration


def gated(cpu: float = 0.1) -> dict[str, Any]:
    body = sh(GATE)
    body["container"]["resources"] = {"cpu": cpu, "memory_mb": 16}
    return body


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[LocalPlatform]:
    """One 0.1-CPU slot; three pending jobs per user; 64 KiB logs."""
    with LocalPlatform(
        tmp_path / "data", cpus=0.1, memory_mb=1024, max_pending_per_user=3, max_log_bytes=65536
    ) as lp:
        yield lp


def user(lp: LocalPlatform, name: str) -> Api:
    return Api(lp.url, lp.issue_token(name), name)


def test_pending_jobs_are_limited_per_user(limited: LocalPlatform) -> None:
    alice, bob = user(limited, "alice"), user(limited, "bob")
    running = alice.create(gated())["id"]
    alice.wait(running, ("running",))
    queued = [alice.create(gated())["id"] for _ in range(3)]
    refused = alice.post("/jobs", json=gated())
    assert refused.status_code == 400
    message = refused.json()["error"]
    assert "pending jobs" in message
    assert "the limit is 3" in message
    assert bob.post("/jobs", json=gated()).status_code == 202  # others are not affected
    alice.kill(queued[0])  # a pending job less: room for one more
    assert alice.post("/jobs", json=gated()).status_code == 202


@pytest.fixture
def few_records(tmp_path: Path) -> Iterator[LocalPlatform]:
    """One 0.1-CPU slot; four stored records per user."""
    with LocalPlatform(tmp_path / "data", cpus=0.1, memory_mb=1024, max_jobs_per_user=4) as lp:
        yield lp


def test_stored_records_are_limited_per_user(few_records: LocalPlatform) -> None:
    limited = few_records
    alice = user(limited, "alice")
    done = []
    for _ in range(4):
        job_id = alice.create(job_body("true"))["id"]
        assert alice.wait(job_id)["status"] == "succeeded"
        done.append(job_id)
    newest = alice.create(job_body("true"))["id"]  # the oldest finished record makes room
    alice.wait(newest)
    assert [j["id"] for j in alice.jobs()] == [*done[1:], newest]
    assert "no such job" in alice.get(f"/jobs/{done[0]}").json()["error"]
    assert not (limited.data_dir / "jobs" / done[0]).exists()  # and its log went with it

    # Unfinished jobs are never collected: four of them fill the limit.
    running = alice.create(gated())["id"]
    alice.wait(running, ("running",))
    queued = [alice.create(gated())["id"] for _ in range(3)]
    refused = alice.post("/jobs", json=job_body("true"))
    assert refused.status_code == 400
    assert "the limit is 4 stored jobs" in refused.json()["error"]
    for job_id in [running, *queued]:
        alice.kill(job_id)


LONG: list[tuple[str, dict[str, Any], str]] = [
    ("description", {"description": "d" * 4097}, "length should be at most 4096"),
    ("command", {"container": {"command": "x" * 65537}}, "length should be at most 65536"),
    ("entrypoint", {"container": {"entrypoint": "x" * 65537}}, "length should be at most 65536"),
    ("env-count", {"container": {"env": {f"V{i}": "" for i in range(1001)}}}, "at most 1000"),
    ("env-name", {"container": {"env": {"N" * 257: ""}}}, "length should be at most 256"),
    ("env-value", {"container": {"env": {"V": "x" * 65537}}}, "length should be at most 65536"),
]


@pytest.mark.parametrize(("case", "change", "message"), LONG, ids=[c[0] for c in LONG])
def test_oversized_fields_are_refused_with_the_limit(
    api: Api, case: str, change: dict[str, Any], message: str
) -> None:
    body = job_body("true")
    body["container"].update(change.pop("container", {}))
    body.update(change)
    response = api.post("/jobs", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


def test_fields_at_their_limits_are_accepted(api: Api) -> None:
    body = job_body("true " + "x" * 65531, description="d" * 4096)
    body["container"]["env"] = {f"V{i}": "" for i in range(999)} | {"N" * 256: "x" * 65536}
    job_id = api.create(body)["id"]
    assert api.wait(job_id)["status"] == "succeeded"


def test_a_log_past_its_cap_drops_its_oldest_part_and_says_so(limited: LocalPlatform) -> None:
    alice = user(limited, "alice")
    # About 1.3 MB of numbered lines, twenty times the cap, written while the platform watches.
    job_id = alice.create(sh("seq 1 200000; echo END"))["id"]
    assert alice.wait(job_id)["status"] == "succeeded"
    log = alice.get(f"/jobs/{job_id}/log").content
    assert len(log) < 2 * 64 * 1024
    lines = log.decode().splitlines()
    assert lines[-2:] == ["200000", "END"]  # the newest output is kept
    markers = [line for line in lines if line.startswith("[neuro-sync-local:")]
    assert len(markers) == 1
    assert "earlier output dropped" in markers[0]
    assert "capped at 65536 bytes" in markers[0]
    assert lines[0] == markers[0]  # the dropped part was the oldest
    tail = [int(line) for line in lines[2:-1]]  # lines[1] may be cut mid-number
    assert tail == list(range(tail[0], 200001))
    on_disk = os.stat(limited.data_dir / "jobs" / job_id / "log")
    assert on_disk.st_blocks * 512 <= 2 * 64 * 1024 + 64 * 1024  # the disk space is freed


def test_a_streamed_log_says_where_output_was_dropped(limited: LocalPlatform) -> None:
    alice = user(limited, "alice")
    job_id = alice.create(sh(f"echo first; {GATE}; seq 1 200000; echo END"))["id"]
    reply = alice.get(f"/jobs/{job_id}/log", stream=True)
    chunks = reply.iter_content(None)
    assert next(chunks).startswith(b"first\n")  # read while the job runs
    release(limited.data_dir, job_id)
    rest = b"".join(chunks).decode()
    assert "earlier output dropped" in rest
    assert rest.rstrip("\n").endswith("200000\nEND")


def test_a_list_of_many_big_jobs_is_not_held_whole_in_memory(tmp_path: Path) -> None:
    """The list reply of 300 jobs with 64 KiB of env each (about 20 MB of JSON) is written a
    job at a time: the server's peak of new allocations stays a fraction of the reply."""
    data_dir = tmp_path / "data"
    owner = unique_user()
    finished_jobs(data_dir, owner, 300, env_bytes=64 * 1024)
    with LocalPlatform(data_dir) as lp:
        api = Api(lp.url, lp.issue_token(owner), owner)
        for accept in ("application/json", "application/x-ndjson"):
            size = 0
            tracemalloc.start()
            try:
                with api.get("/jobs", stream=True, headers={"Accept": accept}) as reply:
                    assert reply.status_code == 200
                    for chunk in reply.iter_content(64 * 1024):
                        size += len(chunk)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert size > 300 * 64 * 1024
            assert peak < size / 4, (accept, peak, size)
