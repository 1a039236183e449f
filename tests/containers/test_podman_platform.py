"""The podman runtime's lifecycle: the CLI flag, /config, stop, restart, a crashed server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

import neuro_sync
from neuro_sync import Container, JobDescription, JobStatus, RemoteImage, Resources
from neuro_sync.local import LocalPlatform
from neuro_sync.local.podman_cli import LABEL_JOB, Podman

from .conftest import podman_platform

pytestmark = [pytest.mark.integration, pytest.mark.podman]

GUARD = 60.0  # seconds: a hang guard, never an expectation


def own_containers(data_dir: Path, *, stopped: bool = False) -> list[str]:
    """Every container in the platform's podman storage, running or not. `stopped`: no
    platform runs on it, so this command's podman state is released afterwards."""
    podman = Podman(data_dir / "podman")
    result = podman.run("ps", "--all", "--quiet", "--filter", f"label={LABEL_JOB}")
    assert result.code == 0, result.err
    if stopped:
        podman.release()
    return result.out.decode().split()


def start_sleeper(client: neuro_sync.Client) -> JobDescription:
    job = client.jobs.run(
        Container(
            image=RemoteImage("busybox"),
            resources=Resources(memory_mb=32, cpu=0.1),
            command="sleep 600",
        )
    )
    return client.jobs.wait(
        job.id,
        timeout=GUARD,
        statuses=[JobStatus.RUNNING, JobStatus.FAILED, JobStatus.SUCCEEDED],
        poll_interval=0.05,
    )


def client_of(platform: LocalPlatform) -> neuro_sync.Client:
    return neuro_sync.Client(platform.url, platform.token, timeout=(5, 30))


def test_config_stop_and_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = podman_platform(data_dir)
    try:
        assert first.runtime == "podman"
        config = requests.get(
            f"{first.url}/config", headers={"Authorization": f"Bearer {first.token}"}, timeout=10
        ).json()
        assert config["local_platform"]["runtime"] == "podman"
        with client_of(first) as client:
            job = start_sleeper(client)
        assert job.status is JobStatus.RUNNING
        assert len(own_containers(data_dir)) == 1
    finally:
        first.stop()
    assert not os.path.ismount(data_dir / "podman" / "root" / "overlay")  # released
    assert own_containers(data_dir, stopped=True) == []  # stop removes all it started

    with LocalPlatform(data_dir, runtime="podman") as second, client_of(second) as client:
        gone = client.jobs.status(job.id)
        assert (gone.status, gone.history.reason) == (JobStatus.FAILED, "NotFound")
        assert start_sleeper(client).status is JobStatus.RUNNING  # it runs new jobs
    assert own_containers(data_dir, stopped=True) == []


def test_a_crashed_server_leaves_containers_the_next_start_ends(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    podman_platform(data_dir).stop()  # skips where podman cannot run containers
    server = subprocess.Popen(
        [sys.executable, "-m", "neuro_sync.local", "--port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # the URL line: the config file is written by then
        assert line.rstrip().endswith("(runtime: podman)")  # `auto` chose podman
        with neuro_sync.get(data_dir / "client.nmrc") as client:
            job = start_sleeper(client)
        assert job.status is JobStatus.RUNNING
    finally:
        server.kill()  # a crash: no shutdown hooks run
        server.wait()
    assert len(own_containers(data_dir)) == 1  # the container outlived its server
    with LocalPlatform(data_dir, runtime="auto") as second, client_of(second) as client:
        assert second.runtime == "podman"
        gone = client.jobs.status(job.id)
        assert (gone.status, gone.history.reason) == (JobStatus.FAILED, "NotFound")
        assert own_containers(data_dir) == []
