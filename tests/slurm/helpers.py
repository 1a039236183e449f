"""Helpers of the Slurm tests."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import neuro_sync
from neuro_sync import Container, JobDescription, JobStatus, RemoteImage, Resources
from neuro_sync.local.podman_cli import Podman, is_mount_point
from neuro_sync.local.slurm_cluster import LocalCluster

GUARD = 90.0  # seconds: a bound on every wait, never an assertion on time
SMALL = Resources(memory_mb=128, cpu=0.5)
# Runs until SIGTERM, then exits at once (a bare `sleep` as the container's pid 1 ignores it,
# and a kill then waits for podman's stop timeout).
STOPS_ON_TERM = "sh -c 'trap \"exit 0\" TERM; sleep 600 & wait'"


def run(
    client: neuro_sync.Client, command: str, *, resources: Resources = SMALL, **kw: Any
) -> JobDescription:
    return client.jobs.run(Container(RemoteImage("busybox"), resources, command=command, **kw))


def wait_until(check: Callable[[], bool], what: str, guard: float = GUARD) -> None:
    deadline = time.monotonic() + guard
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def finished(client: neuro_sync.Client, job: JobDescription) -> JobDescription:
    return client.jobs.wait(job.id, timeout=GUARD, poll_interval=0.05)


def running(client: neuro_sync.Client, job: JobDescription) -> JobDescription:
    wait_until(
        lambda: client.jobs.status(job.id).status is not JobStatus.PENDING, "the job to start"
    )
    job = client.jobs.status(job.id)
    assert job.status is JobStatus.RUNNING, job.history
    return job


def slurm_jobs(cluster: LocalCluster, name: str) -> list[dict[str, Any]]:
    """The Slurm jobs named `name` (a platform job id), as `squeue --json` reports them."""
    out = subprocess.run(
        ["squeue", "--json"], env=cluster.env, capture_output=True, check=True, timeout=30
    ).stdout
    return [j for j in json.loads(out)["jobs"] if j["name"] == name]


def release_store(data_dir: Path) -> None:
    """Unmount a platform's podman store once its jobs are gone: a platform killed or stopped
    while its jobs ran leaves it mounted, and a container's late clean-up (conmon's exit
    command) may mount it once more."""
    podman = Podman(data_dir / "podman")
    for _ in range(3):
        podman.release()
        if not is_mount_point(podman.state_dir / "root" / "overlay"):
            return
        time.sleep(1)


def mounts_under(path: Path) -> list[str]:
    """The mount points at or below `path` in this process's mount table."""
    base = str(path)
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            # Field 5 is the mount point, with space, tab, newline and backslash octal-escaped.
            point = line.split()[4].encode().decode("unicode_escape")
            if point == base or point.startswith(base.rstrip("/") + "/"):
                found.append(point)
    return found
