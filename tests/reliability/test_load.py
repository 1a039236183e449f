"""A load test against the local platform: 8 threads submit and kill a few hundred short jobs,
sharing one `Client` (and, as a second case, with a `Client` each). Every submitted job must be
listed exactly once and reach a final state; nothing else may appear. The count and the time
are printed (run with `-s` to see them) and recorded as test properties.

Sized for a 2-core machine: 8 threads x 40 jobs.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import neuro_sync
from neuro_sync import Container, JobStatus, RemoteImage, Resources

pytestmark = [pytest.mark.integration, pytest.mark.slow]

THREADS = 8
JOBS_PER_THREAD = 40
FINAL = {JobStatus.SUCCEEDED, JobStatus.FAILED}


def _local_platform() -> Any:
    try:
        from neuro_sync.local import LocalPlatform
    except ImportError:
        pytest.skip("the local platform (neuro_sync.local.LocalPlatform) is not available")
    return LocalPlatform


@pytest.fixture
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh platform per case, so that its job list holds exactly the case's jobs."""
    local_platform = _local_platform()
    with local_platform(tmp_path_factory.mktemp("load-platform")) as lp:
        yield lp


def _container(i: int) -> Container:
    # Half the jobs end by themselves at once, half would run for a minute unless killed.
    command = "true" if i % 2 else "sleep 60"
    return Container(RemoteImage("ubuntu"), Resources(memory_mb=16, cpu=0.1), command=command)


@pytest.mark.parametrize("shared", [True, False], ids=["one-shared-client", "client-per-thread"])
def test_concurrent_submit_and_kill_lose_and_duplicate_nothing(
    platform: Any, record_property: Any, shared: bool
) -> None:
    submitted: list[str] = []
    uncertain: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start_line = threading.Barrier(THREADS)

    with neuro_sync.Client(platform.url, platform.token, timeout=(5, 30)) as main_client:

        def worker(t: int) -> None:
            client = main_client
            try:
                if not shared:
                    client = neuro_sync.Client(platform.url, platform.token, timeout=(5, 30))
                start_line.wait()
                for i in range(JOBS_PER_THREAD):
                    name = f"load-{t}-{i}"
                    try:
                        job = client.jobs.run(_container(i), name=name)
                    except neuro_sync.JobSubmissionUncertain:
                        with lock:
                            uncertain.append(name)
                        continue
                    with lock:
                        submitted.append(job.id)
                    if i % 2 == 0:
                        client.jobs.kill(job.id)
            except BaseException as err:  # noqa: BLE001 - reported by the main thread
                with lock:
                    errors.append(err)
            finally:
                if client is not main_client:
                    client.close()

        started = time.monotonic()
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        submit_time = time.monotonic() - started
        assert not any(th.is_alive() for th in threads), "a worker hung"
        assert errors == [], errors[:3]
        assert uncertain == [], f"{len(uncertain)} submissions uncertain under load"

        total = THREADS * JOBS_PER_THREAD
        assert len(submitted) == total
        assert len(set(submitted)) == total, "the server gave one id to two jobs"

        # Every job reaches a final state.
        deadline = time.monotonic() + 30
        while True:
            jobs = main_client.jobs.list()
            unfinished = [j for j in jobs if j.status not in FINAL]
            if not unfinished or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        settle_time = time.monotonic() - started

    listed = collections.Counter(j.id for j in jobs)
    duplicated = [i for i, n in listed.items() if n > 1]
    missing = set(submitted) - set(listed)
    unexpected = set(listed) - set(submitted)
    assert duplicated == [], f"listed twice: {duplicated[:5]}"
    assert missing == set(), f"lost: {sorted(missing)[:5]}"
    assert unexpected == set(), f"never submitted: {sorted(unexpected)[:5]}"
    assert unfinished == [], f"{len(unfinished)} jobs not finished: {unfinished[:2]}"
    # Each name was used once; the jobs left alone really ran (`true`: exit code 0), and the
    # killed ones ended SUCCEEDED (docs/protocol.md §7.15).
    assert sorted(j.name or "" for j in jobs) == sorted(
        f"load-{t}-{i}" for t in range(THREADS) for i in range(JOBS_PER_THREAD)
    )
    for job in jobs:
        if int((job.name or "").rsplit("-", 1)[1]) % 2:
            assert job.status is JobStatus.SUCCEEDED and job.history.exit_code == 0, job
        else:
            assert job.status is JobStatus.SUCCEEDED, job

    record_property("jobs", total)
    record_property("submit_and_kill_seconds", round(submit_time, 2))
    record_property("all_final_seconds", round(settle_time, 2))
    how = "one shared Client" if shared else "a Client each"
    print(
        f"\nload: {total} jobs by {THREADS} threads with {how}: submitted and killed in "
        f"{submit_time:.2f} s ({total / submit_time:.0f} jobs/s), all final after "
        f"{settle_time:.2f} s"
    )
