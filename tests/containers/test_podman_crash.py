"""A podman-runtime server killed with SIGKILL while it starts jobs or saves one leaves
nothing the next start does not clean (issue 19, item 12): containers, podman commands
still running (a pull, a commit), volume mounts, the jobs' private files."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest
import requests

import neuro_sync
from neuro_sync import Container, RemoteImage, Resources, Volume
from neuro_sync.local import LocalPlatform

from .conftest import podman_platform
from .test_podman_jobs import running, wait_until
from .test_podman_platform import own_containers

pytestmark = [pytest.mark.integration, pytest.mark.podman]

SMALL = Resources(memory_mb=64, cpu=0.1)


def podman_commands(data_dir: Path, verb: str) -> list[psutil.Process]:
    """The `podman <verb>` processes that run with this platform's configuration."""
    marker = str(data_dir / "podman" / "containers.conf")
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "podman" and verb in (proc.info["cmdline"] or [])[1:3]:
                if proc.environ().get("CONTAINERS_CONF") == marker:
                    found.append(proc)
        except psutil.Error:
            continue
    return found


def mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return [line.split()[4] for line in lines if line.split()[4].startswith(prefix)]


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], neuro_sync.Client]:
    podman_platform(data_dir).stop()  # skips where podman cannot run containers
    server = subprocess.Popen(
        [sys.executable, "-m", "neuro_sync.local", "--port", "0", "--data-dir", str(data_dir)]
        + ["--runtime", "podman"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    server.stdout.readline()  # the URL line: the config file is written by then
    return server, neuro_sync.get(data_dir / "client.nmrc")


def job_files(data_dir: Path) -> list[Path]:
    jobs = data_dir / "podman" / "jobs"
    return sorted(jobs.rglob("*")) if jobs.exists() else []


def test_killed_while_starting_jobs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server, client = start_server(data_dir)
    # A registry on loopback that accepts and never answers: a pull that hangs.
    with socket.create_server(("127.0.0.1", 0)) as registry, client:
        try:
            volume = Volume(f"storage://{client.username}/data", "/data", read_only=False)
            job = client.jobs.run(
                Container(
                    image=RemoteImage("busybox"),
                    resources=SMALL,
                    command="sleep 600",
                    volumes=[volume],
                    env={"SECRET": "in-the-env-file"},
                )
            )
            running(client, job)
            image = f"127.0.0.1:{registry.getsockname()[1]}/img:v1"
            client.jobs.run(Container(image=RemoteImage(image), resources=SMALL, command="true"))
            wait_until(lambda: bool(podman_commands(data_dir, "pull")), "the pull to start")
        finally:
            server.kill()  # a crash: no shutdown hooks run
            server.wait()
            assert server.stdout is not None
            server.stdout.close()
        # What the crash left: a container, its volume's mount, its env file, a pull.
        assert len(own_containers(data_dir)) == 1
        assert mounts_under(data_dir / "podman" / "jobs")
        assert (data_dir / "podman" / "jobs" / job.id / "env").exists()
        pulls = podman_commands(data_dir, "pull")
        assert pulls
        with LocalPlatform(data_dir, runtime="podman"):
            assert own_containers(data_dir) == []
            assert mounts_under(data_dir / "podman" / "jobs") == []
            assert not any(p.is_running() for p in pulls)  # (the new server pulls again)
        assert job_files(data_dir) == []


def test_killed_during_a_save(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server, client = start_server(data_dir)
    with client:
        try:
            job = client.jobs.run(
                Container(
                    image=RemoteImage("busybox"),
                    resources=Resources(memory_mb=256, cpu=0.5),
                    command="sh -c 'head -c 100000000 /dev/urandom > /big; echo ready; sleep 600'",
                )
            )
            running(client, job)
            log = data_dir / "jobs" / job.id / "log"
            wait_until(lambda: log.read_bytes() == b"ready\n", "the job's data")
            image = RemoteImage(
                "crashed", "v1", owner=client.username, registry=client.config.registry_host
            )

            def save() -> None:
                try:
                    client.jobs.save(job.id, image)
                except (neuro_sync.ClientError, requests.RequestException):
                    pass  # the server dies under it

            threading.Thread(target=save, daemon=True).start()
            wait_until(lambda: bool(podman_commands(data_dir, "commit")), "the commit")
        finally:
            server.kill()
            server.wait()
            assert server.stdout is not None
            server.stdout.close()
        assert podman_commands(data_dir, "commit")
        with LocalPlatform(data_dir, runtime="podman"):
            assert podman_commands(data_dir, "commit") == []
            assert own_containers(data_dir) == []
            assert job_files(data_dir) == []
