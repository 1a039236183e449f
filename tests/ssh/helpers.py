"""Helpers for the SSH gateway tests."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Mapping

import neuro_sync
from neuro_sync import Container, JobDescription, JobStatus, RemoteImage, Resources
from neuro_sync.local import LocalPlatform

SMALL = Resources(memory_mb=32, cpu=0.1)
GUARD = 60.0  # seconds: a hang guard, never an expectation


def job_container(command: str, env: Mapping[str, str] | None = None) -> Container:
    return Container(
        image=RemoteImage("ubuntu"), resources=SMALL, command=command, env=dict(env or {})
    )


def start_job(
    client: neuro_sync.Client, command: str, env: Mapping[str, str] | None = None
) -> JobDescription:
    """Run a job and wait until it is running."""
    job = client.jobs.run(job_container(command, env))
    job = client.jobs.wait(
        job.id,
        timeout=GUARD,
        statuses=[JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED],
        poll_interval=0.05,
    )
    assert job.status is JobStatus.RUNNING, job.history
    return job


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + GUARD
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def wait_until(condition: Callable[[], object], what: str) -> None:
    """Poll `condition()` until true (a hang guard, not a timing expectation)."""
    deadline = time.monotonic() + GUARD
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {GUARD} s")
        time.sleep(0.05)


def ssh_argv(platform: LocalPlatform, *extra: str) -> list[str]:
    """Plain `ssh` to the gateway, bypassing the client (the command is in argv here)."""
    return [
        "ssh",
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-p",
        str(platform.settings.ssh_port),
        *extra,
        f"nobody@{platform.settings.ssh_host}",
    ]


def gateway(
    platform: LocalPlatform,
    command: str | None,
    *,
    stdin: bytes = b"",
    tty: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """Send one raw command (None: ask for a shell) to the gateway with plain `ssh`."""
    argv = ssh_argv(platform, "-tt" if tty else "-T")
    if command is not None:
        argv.append(command)
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=GUARD, check=False)
