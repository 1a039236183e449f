"""SSH gateway fixtures: one local platform for the directory, jobs to exec in and forward to.

Every test here drives the real `ssh` client against the platform's asyncssh gateway.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

import neuro_sync
from neuro_sync import JobDescription
from neuro_sync.local import LocalPlatform

from .helpers import free_port, job_container, start_job, wait_for_port


@pytest.fixture(scope="session", autouse=True)
def _needs_ssh() -> None:
    if shutil.which("ssh") is None:
        pytest.skip("the OpenSSH client (ssh) is not installed")


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(tmp_path_factory.mktemp("ssh-platform")) as lp:
        yield lp


@pytest.fixture(scope="session")
def session_client(platform: LocalPlatform) -> Iterator[neuro_sync.Client]:
    """For session fixtures (jobs shared by the tests)."""
    with neuro_sync.Client(platform.url, platform.token, timeout=(5, 30)) as c:
        yield c


@pytest.fixture
def client(platform: LocalPlatform) -> Iterator[neuro_sync.Client]:
    with neuro_sync.Client(platform.url, platform.token, timeout=(5, 30)) as c:
        yield c


@pytest.fixture(scope="session")
def sleeper(session_client: neuro_sync.Client) -> Iterator[JobDescription]:
    """A running job of the default user (with an env variable) to exec in."""
    job = start_job(session_client, "sleep 600", env={"GREETING": "hello from the job"})
    yield job
    session_client.jobs.kill(job.id)


@pytest.fixture(scope="session")
def finished_job(session_client: neuro_sync.Client) -> JobDescription:
    job = session_client.jobs.run(job_container("true"))
    return session_client.jobs.wait(job.id, timeout=60, poll_interval=0.05)


@pytest.fixture(scope="session")
def http_job(session_client: neuro_sync.Client) -> Iterator[tuple[JobDescription, int]]:
    """A job serving its working directory over HTTP on a free port of 127.0.0.1."""
    port = free_port()
    job = start_job(session_client, f"python3 -m http.server {port} --bind 127.0.0.1")
    wait_for_port(port)
    yield job, port
    session_client.jobs.kill(job.id)
