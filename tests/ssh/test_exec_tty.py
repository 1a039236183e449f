"""`neuro-sync exec -t`: a real terminal inside the job (a process job and a container job),
driven from a real pseudo-terminal; without `-t`, pipes as before."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import neuro_sync
from neuro_sync import Container, JobDescription, RemoteImage, Resources
from neuro_sync.local import LocalPlatform

from .helpers import GUARD, start_job

pytestmark = pytest.mark.integration

SCRIPT = str(Path(sys.executable).with_name("neuro-sync"))
# What the command inside sees: its stdin a terminal or not, and the terminal's type.
PROBE = "if [ -t 0 ] && [ -t 1 ]; then echo TTY:$TERM; else echo NO-TTY; fi"


def _env(platform: LocalPlatform, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO_SYNC_", "NEUROM"))}
    return env | {"HOME": str(home), "NEUROMATION_CONFIG": str(platform.config_path)}


def on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Runs the CLI with stdin, stdout and stderr on a new pseudo-terminal (a user's shell)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [SCRIPT, *args], env=env | {"TERM": "xterm-256color"}, stdin=slave, stdout=slave,
        stderr=slave, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    shown = b""
    try:
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 1.0)[0]:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the CLI (and ssh) closed the terminal
                break
            if not data:
                break
            shown += data
        code = proc.wait(timeout=GUARD)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, shown.decode(errors="replace")


def check_terminal(platform: LocalPlatform, job: JobDescription, home: Path) -> None:
    env = _env(platform, home)
    code, shown = on_a_terminal(["exec", "-t", job.id, "--", "sh", "-c", PROBE], env)
    assert code == 0, shown
    assert "TTY:xterm-256color" in shown, shown
    # Without -t: pipes, as before, even from a terminal.
    code, shown = on_a_terminal(["exec", job.id, "--", "sh", "-c", PROBE], env)
    assert (code, shown.strip()) == (0, "NO-TTY"), shown
    piped = subprocess.run(
        [SCRIPT, "exec", job.id, "--", "sh", "-c", PROBE],
        env=env, capture_output=True, text=True, timeout=GUARD, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert (piped.returncode, piped.stdout) == (0, "NO-TTY\n"), piped.stderr


def test_exec_t_in_a_process_job(
    platform: LocalPlatform, client: neuro_sync.Client, tmp_path: Path
) -> None:
    job = start_job(client, "sleep 600")
    try:
        check_terminal(platform, job, tmp_path)
    finally:
        client.jobs.kill(job.id)


@pytest.fixture
def podman_platform(tmp_path: Path) -> Iterator[LocalPlatform]:
    from neuro_sync.local.podman_cli import Podman, build_busybox_image
    from tests.containers.conftest import podman_platform as start

    lp = start(tmp_path / "podman-platform")
    try:
        build_busybox_image(Podman(lp.data_dir / "podman"), "docker.io/library/nstty:latest")
        yield lp
    finally:
        lp.stop()


def test_exec_t_in_a_container_job(podman_platform: LocalPlatform, tmp_path: Path) -> None:
    with neuro_sync.Factory(podman_platform.config_path).get() as client:
        container = Container(RemoteImage("nstty"), Resources(64, 0.1), command="sleep 600")
        job = client.jobs.run(container)
        job = client.jobs.wait(job.id, statuses=["running", "failed"], timeout=GUARD)
        try:
            assert job.status.value == "running", job.history
            check_terminal(podman_platform, job, tmp_path)
        finally:
            client.jobs.kill(job.id)
