"""The scheduler: jobs share a configured capacity, wait (ClusterScalingUp) in submission
order while it is used up, and start as it frees; a job that can never fit fails after its
schedule timeout without holding the queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from neuro_sync.local import LocalPlatform

from .helpers import GATE, Api, release, sh, wait_for

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
