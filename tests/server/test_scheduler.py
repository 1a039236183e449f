"""The scheduler: jobs share a configured capacity, wait (ClusterScalingUp) in submission
order while it is used up, and start as it frees; a job that can never fit fails after its
schedule timeout without holding the queue. Across users the share is fair (one user's queue
does not hold another's first job), and the work per tick follows the pending jobs, not the
history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from neuro_sync.local import LocalPlatform
from neuro_sync.local.runner import Runner
from neuro_sync.local.store import JobRecord, Store

from .bulk import finished_jobs
from .helpers import GATE, Api, job_body, release, sh, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[Api, Path]]:
    """A platform with one CPU and 1 GiB for all its jobs."""
    with LocalPlatform(tmp_path / "data", cpus=1, memory_mb=1024) as lp:
        yield Api(lp.url, lp.token, lp.user), lp.data_dir


def gated(cpu: float, memory_mb: int = 16, **top: Any) -> dict[str, Any]:
    body = sh(GATE, **top)
    body["container"]["resources"] = {"cpu": cpu, "memory_mb": memory_mb}
    return body


def state(api: Api, job_id: str) -> tuple[str, str | None]:
    job = api.job(job_id)
    return job["status"], job["history"]["reason"]


def test_jobs_wait_for_capacity_in_submission_order(small: tuple[Api, Path]) -> None:
    api, data_dir = small
    first = api.create(gated(0.6))["id"]
    api.wait(first, ("running",))
    big = api.create(gated(0.6))["id"]
    tiny = api.create(gated(0.1))["id"]  # fits now, but may not overtake `big`
    by_memory = api.create(gated(0.1, memory_mb=1024))["id"]
    waiting = ("pending", "ClusterScalingUp")
    wait_for(lambda: state(api, big) == waiting, "the big job to wait")
    wait_for(lambda: state(api, tiny) == waiting, "the tiny job to wait")
    wait_for(lambda: state(api, by_memory) == waiting, "the by_memory job to wait")

    release(data_dir, first)
    api.wait(big, ("running",))
    api.wait(tiny, ("running",))  # 0.6 + 0.1 fit in one CPU
    assert state(api, by_memory) == waiting  # 1024 MB do not fit next to 32 MB
    started = {j: api.job(j)["history"]["started_at"] for j in (big, tiny)}
    assert started[big] <= started[tiny]

    release(data_dir, big)
    release(data_dir, tiny)
    api.wait(by_memory, ("running",))
    release(data_dir, by_memory)
    for job_id in (first, big, tiny, by_memory):
        assert api.wait(job_id)["status"] == "succeeded"


def test_a_killed_job_frees_its_capacity(small: tuple[Api, Path]) -> None:
    api, data_dir = small
    first = api.create(gated(1))["id"]
    api.wait(first, ("running",))
    second = api.create(gated(1))["id"]
    wait_for(lambda: state(api, second) == ("pending", "ClusterScalingUp"), "second to wait")
    api.kill(first)
    api.wait(second, ("running",))
    release(data_dir, second)
    assert api.wait(second)["status"] == "succeeded"


def test_a_job_that_can_never_fit_fails_and_does_not_hold_the_queue(
    small: tuple[Api, Path],
) -> None:
    api, data_dir = small
    never = api.create(gated(2, schedule_timeout=1))["id"]
    after = api.create(gated(0.5))["id"]
    api.wait(after, ("running",))
    failed = api.wait(never)
    assert (failed["status"], failed["history"]["reason"]) == ("failed", "ClusterScaleUpFailed")
    release(data_dir, after)
    assert api.wait(after)["status"] == "succeeded"


def test_many_jobs_never_exceed_the_capacity(small: tuple[Api, Path]) -> None:
    api, data_dir = small
    ids = [api.create(gated(0.3))["id"] for _ in range(7)]
    wait_for(lambda: api.job(ids[2])["status"] == "running", "three jobs to run")
    statuses = [api.job(j)["status"] for j in ids]
    assert statuses == ["running"] * 3 + ["pending"] * 4
    for job_id in ids:
        api.wait(job_id, ("running",))
        running = [j for j in api.jobs() if j["status"] == "running"]
        assert sum(j["container"]["resources"]["cpu"] for j in running) <= 1 + 1e-9
        release(data_dir, job_id)
    for job_id in ids:
        assert api.wait(job_id)["status"] == "succeeded"


@pytest.fixture
def two_slots(tmp_path: Path) -> Iterator[tuple[LocalPlatform, Path]]:
    """A platform whose capacity runs two 0.1-CPU jobs at a time."""
    with LocalPlatform(tmp_path / "data", cpus=0.2, memory_mb=1024) as lp:
        yield lp, lp.data_dir


def test_another_users_first_job_waits_at_most_one_round(
    two_slots: tuple[LocalPlatform, Path],
) -> None:
    """Fair share across users: a queue of one user does not hold another user's first job
    behind it; the next free slot goes to the user with nothing running (FIFO within each)."""
    lp, data_dir = two_slots
    alice = Api(lp.url, lp.issue_token("alice"), "alice")
    bob = Api(lp.url, lp.issue_token("bob"), "bob")
    queue = [alice.create(gated(0.1))["id"] for _ in range(20)]
    alice.wait(queue[0], ("running",))
    alice.wait(queue[1], ("running",))
    bobs = bob.create(gated(0.1))["id"]
    wait_for(lambda: state(bob, bobs) == ("pending", "ClusterScalingUp"), "bob's job to wait")

    release(data_dir, queue[0])  # one slot frees: the next round starts bob's job
    wait_for(
        lambda: "running" in (bob.job(bobs)["status"], alice.job(queue[2])["status"]),
        "a job to take the free slot",
    )
    assert bob.job(bobs)["status"] == "running"
    assert alice.job(queue[2])["status"] == "pending"

    release(data_dir, queue[1])  # alice's queue goes on in her order
    alice.wait(queue[2], ("running",))
    assert alice.job(queue[3])["status"] == "pending"
    for job_id in queue:
        alice.kill(job_id)
    bob.kill(bobs)


def test_an_idle_platform_does_not_scan_its_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler's work per tick follows the pending jobs: with thousands of finished
    records and nothing pending, ticks read no record at all."""
    data_dir = tmp_path / "data"
    finished_jobs(data_dir, "alice", 2000)
    calls = {"ordered": 0, "ticks": 0, "pending": 0}
    ours: list[Store] = []  # this platform's store (others may run in this process)
    init, ordered, tick = Store.__init__, Store.ordered, Runner.tick
    # (A store without pending queues, as before them, scans every record instead.)
    pending: Callable[[Store], dict[str, list[JobRecord]]] = getattr(Store, "pending", lambda _: {})

    def recording_init(self: Store, path: Path) -> None:
        init(self, path)
        if path == data_dir / "jobs.sqlite3":
            ours.append(self)

    def counting_ordered(self: Store) -> list[JobRecord]:
        if self in ours:
            calls["ordered"] += 1
        return ordered(self)

    def counting_pending(self: Store) -> dict[str, list[JobRecord]]:
        queues = pending(self)
        if self in ours:
            calls["pending"] += sum(len(q) for q in queues.values())
        return queues

    def counting_tick(self: Runner) -> None:
        if self.store in ours:
            calls["ticks"] += 1
        tick(self)

    monkeypatch.setattr(Store, "__init__", recording_init)
    monkeypatch.setattr(Store, "ordered", counting_ordered)
    monkeypatch.setattr(Store, "pending", counting_pending, raising=False)
    monkeypatch.setattr(Runner, "tick", counting_tick)
    with LocalPlatform(data_dir) as lp:
        api = Api(lp.url, lp.issue_token("alice"), "alice")
        assert len(api.jobs()) == 2000  # the history is there
        at_start = calls["ordered"]  # recovery and the ingress read it once
        ticks = calls["ticks"]
        wait_for(lambda: calls["ticks"] >= ticks + 40, "forty idle ticks")
        assert calls["ordered"] == at_start
        assert calls["pending"] == 0

        job_id = api.create(job_body("true"))["id"]  # one pending job: one record read
        assert api.wait(job_id)["status"] == "succeeded"
        assert calls["ordered"] == at_start
        assert 1 <= calls["pending"] <= 5
