"""The everyday API against the local platform: text logs of silent jobs, log snapshots, the
module-level calls, and Ctrl-C in blocking calls (real subprocesses, real SIGINT)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import pytest

import neuro_sync
from neuro_sync import APITimeoutError, Container, JobDescription, JobStatus, RemoteImage, Resources
from neuro_sync.local import LocalPlatform

from .interrupt import interrupt_blocked_call

pytestmark = pytest.mark.integration

SMALL = Resources(memory_mb=32, cpu=0.1)
GUARD = 60.0  # a hang guard, never an expectation


def sh(script: str) -> Container:
    return Container(image=RemoteImage("busybox"), resources=SMALL, command=f"sh -c '{script}'")


def running(client: neuro_sync.Client, script: str) -> JobDescription:
    job = client.jobs.run(sh(script))
    job = client.jobs.wait(
        job.id, statuses=["running", "succeeded", "failed"], timeout=GUARD, poll_interval=0.05
    )
    assert job.status is JobStatus.RUNNING, job.history
    return job


@pytest.fixture
def sleeper(client: neuro_sync.Client) -> Iterator[JobDescription]:
    """A live job that printed a line and then stays silent."""
    job = running(client, "echo started; sleep 600")
    yield job
    client.jobs.kill(job.id)


def test_a_job_silent_longer_than_the_read_timeout_is_followed_to_its_end(
    platform: LocalPlatform,
) -> None:
    with neuro_sync.Client(platform.url, platform.token, timeout=(5, 2)) as client:
        job = client.jobs.run(sh("echo before; sleep 4; echo après"))
        # The bytes stream keeps the client's read timeout: 2 s of silence is an error there...
        with pytest.raises(APITimeoutError), client.jobs.monitor(job.id) as log:
            for _ in log:
                pass
        # ...while text lines follow the job however long it is quiet.
        with client.jobs.logs(job.id) as lines:
            assert list(lines) == ["before", "après"]
        assert client.jobs.status(job.id).status is JobStatus.SUCCEEDED


def test_logs_without_follow_returns_what_is_there_while_the_job_runs(
    client: neuro_sync.Client, sleeper: JobDescription
) -> None:
    deadline = time.monotonic() + GUARD
    while True:
        lines = client.jobs.logs(sleeper.id, follow=False)
        got = list(lines)
        if got or time.monotonic() > deadline:
            break
    assert got == ["started"]
    assert lines.closed
    assert client.jobs.status(sleeper.id).status is JobStatus.RUNNING


def test_logs_without_follow_of_a_finished_job(client: neuro_sync.Client) -> None:
    job = client.jobs.run(sh('printf "one\\r\\ntwo\\nno newline"'))
    client.jobs.wait(job.id, timeout=GUARD, poll_interval=0.05)
    assert client.jobs.logs(job.id, follow=False).read() == "one\ntwo\nno newline"


def test_module_level_calls_on_the_platform(platform: LocalPlatform) -> None:
    neuro_sync.set_default_client(neuro_sync.get(platform.config_path))
    try:
        job = neuro_sync.run("busybox", "sh -c 'echo hello from $WHO'", env={"WHO": "a job"})
        # The default preset: the first of the client's config (here from client.nmrc).
        assert job.container.resources == neuro_sync.default_client().config.preset_resources()
        small = neuro_sync.run("busybox", "true", preset="cpu-small", name="everyday-small")
        assert small.container.resources.memory_mb == 1024
        done = neuro_sync.wait(job.id, timeout=GUARD, poll_interval=0.05)
        assert done.status is JobStatus.SUCCEEDED
        assert list(neuro_sync.logs(job.id)) == ["hello from a job"]
        assert job.id in [j.id for j in neuro_sync.list()]
        neuro_sync.kill(small.id)
        assert neuro_sync.wait(small.id, timeout=GUARD).status.is_finished
    finally:
        neuro_sync.set_default_client(None)


# ---------------------------------------------------------------------------- Ctrl-C


@pytest.mark.parametrize(
    ("mode", "marker"),
    [
        ("wait", "ready"),
        ("wait-deadline", "ready"),
        ("logs", "started"),
        ("monitor", "started"),
    ],
)
def test_ctrl_c_ends_a_blocked_call_and_leaves_the_job_running(
    platform: LocalPlatform,
    client: neuro_sync.Client,
    sleeper: JobDescription,
    mode: str,
    marker: str,
) -> None:
    interrupt_blocked_call(platform, mode, sleeper.id, marker)
    assert client.jobs.status(sleeper.id).status is JobStatus.RUNNING


def test_ctrl_c_ends_top(
    platform: LocalPlatform, client: neuro_sync.Client, sleeper: JobDescription
) -> None:
    interrupt_blocked_call(platform, "top", sleeper.id, "sample")
    assert client.jobs.status(sleeper.id).status is JobStatus.RUNNING


@pytest.mark.skipif(shutil.which("ssh") is None, reason="exec needs the OpenSSH client")
def test_ctrl_c_ends_exec_and_leaves_the_job_running(
    platform: LocalPlatform, client: neuro_sync.Client, sleeper: JobDescription
) -> None:
    interrupt_blocked_call(platform, "exec", sleeper.id, "ready")
    assert client.jobs.status(sleeper.id).status is JobStatus.RUNNING
    # The job is still usable.
    assert client.jobs.exec(sleeper.id, ["true"], no_key_check=True) == 0
