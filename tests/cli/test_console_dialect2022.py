"""The installed `neuro-sync` console script in the 2022 dialect (`$NEURO_SYNC_DIALECT`), as a
real subprocess, against `LocalPlatform(dialect="2022")`: run with the 2022 flags, ps filters,
bump-life-span, logs with times, status and kill by name."""

from __future__ import annotations

import datetime
import os
import uuid
from pathlib import Path

import pytest

import neuro_sync
from neuro_sync import JobRestartPolicy, JobStatus
from neuro_sync.local import LocalPlatform
from tests.support.cli_terminal import CliTerminal

from .test_console import console

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(platform22: LocalPlatform) -> LocalPlatform:
    return platform22


@pytest.fixture
def env(platform: LocalPlatform, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO_SYNC_", "NEUROM"))}
    return base | {
        "HOME": str(tmp_path),
        "NEUROMATION_CONFIG": str(platform.config_path),
        "NEURO_SYNC_DIALECT": "2022",
    }


def test_the_2022_flags_end_to_end(platform: LocalPlatform, env: dict[str, str]) -> None:
    tag = f"t-{uuid.uuid4().hex[:8]}"
    name = f"n-{uuid.uuid4().hex[:8]}"
    proc = console(
        platform, env, "run", "--detach", "--no-wait-start", "-n", name, "--tag", tag,
        "--life-span", "1h30m", "--restart", "on-failure", "ubuntu", "--", "sleep", "600",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip()
    with neuro_sync.Factory(platform.config_path).get(dialect="2022") as client:
        try:
            job = client.jobs.status(job_id)
            assert job.tags == (tag,)
            assert job.life_span == 5400.0
            assert job.restart_policy is JobRestartPolicy.ON_FAILURE

            proc = console(platform, env, "ps", "-t", tag, "--since", "1h", "--limit", "1", "-q")
            assert (proc.returncode, proc.stdout) == (0, f"{job_id}\n"), proc.stderr
            proc = console(platform, env, "ps", "-a", "-t", tag, "--until", "2020-01-01", "-q")
            assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr

            proc = console(platform, env, "bump-life-span", job_id, "30m")
            assert proc.returncode == 0, proc.stderr
            assert client.jobs.status(job_id).life_span == 7200.0

            proc = console(platform, env, "status", name)  # by name
            assert proc.returncode == 0, proc.stderr
            assert job_id in proc.stdout
            proc = console(platform, env, "kill", name)  # by name
            assert (proc.returncode, proc.stdout) == (0, f"{name}\n"), proc.stderr
        finally:
            client.jobs.kill(job_id)
        done = client.jobs.wait(job_id, max_time=60, poll_interval=0.1)
        assert done.status is JobStatus.CANCELLED


def test_logs_with_timestamps(platform: LocalPlatform, env: dict[str, str]) -> None:
    proc = console(platform, env, "run", "ubuntu", "--", "sh", "-c", "echo one; echo two")
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stderr.split("Job ID: ", 1)[1].split()[0]
    proc = console(platform, env, "logs", "--no-follow", "--timestamps", job_id)
    assert proc.returncode == 0, proc.stderr
    stamped = proc.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "two"]
    assert datetime.datetime.fromisoformat(stamped[0].split(" ", 1)[0]).tzinfo is not None
    proc = console(platform, env, "logs", "--no-follow", "--since", "2099-01-01", job_id)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr


def test_under_2019_the_flag_is_named(platform: LocalPlatform, env: dict[str, str]) -> None:
    proc = console(platform, env | {"NEURO_SYNC_DIALECT": "2019"}, "ps", "--recent-first")
    assert proc.returncode == 2
    assert "--recent-first needs --dialect 2022" in proc.stderr


def test_exec_and_attach_over_websockets(platform: LocalPlatform, env: dict[str, str]) -> None:
    proc = console(
        platform, env, "run", "--detach", "ubuntu", "--", "sh", "-c", "sleep 3; echo bye; exit 4"
    )
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip()
    with neuro_sync.Factory(platform.config_path).get(dialect="2022") as client:
        client.jobs.wait(job_id, statuses=[JobStatus.RUNNING], max_time=60, poll_interval=0.1)
    proc = console(platform, env, "exec", job_id, "--", "sh", "-c", "echo hi; exit 7")
    assert (proc.returncode, proc.stdout) == (7, "hi\n"), proc.stderr
    proc = console(platform, env, "attach", job_id)
    assert proc.returncode == 4, proc.stderr
    assert "bye" in proc.stdout
    proc = console(platform, env | {"NEURO_SYNC_DIALECT": "2019"}, "attach", job_id)
    assert proc.returncode != 0
    assert "2022" in proc.stderr


def test_exec_tty_on_a_real_terminal(platform: LocalPlatform, env: dict[str, str]) -> None:
    """`exec -t` from a pseudo-terminal: the command gets a terminal of the same size."""
    import fcntl
    import pty
    import select
    import struct
    import subprocess
    import sys
    import termios
    import time

    proc = console(platform, env, "run", "--detach", "ubuntu", "--", "sleep", "600")
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip()
    with neuro_sync.Factory(platform.config_path).get(dialect="2022") as client:
        client.jobs.wait(job_id, statuses=[JobStatus.RUNNING], max_time=60, poll_interval=0.1)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
        # The size frame follows the upgrade, so the command may start before it lands.
        probe = (
            "if [ -t 0 ] && [ -t 1 ]; then echo TTY:$TERM; fi; "
            'while [ "$(stty size)" = "0 0" ]; do sleep 0.1; done; stty size; exit 6'
        )
        cli = subprocess.Popen(
            [str(Path(sys.executable).with_name("neuro-sync")), "exec", "-t", job_id, "--",
             "sh", "-c", probe],
            env=env | {"TERM": "xterm-256color"}, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        shown = b""
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if not select.select([master], [], [], 1.0)[0]:
                    if cli.poll() is not None:
                        break
                    continue
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the CLI closed the terminal
                    break
                if not data:
                    break
                shown += data
            code = cli.wait(timeout=60)
        finally:
            os.close(master)
            if cli.poll() is None:
                cli.kill()
            client.jobs.kill(job_id)
    text = shown.decode(errors="replace")
    assert code == 6, text
    assert "TTY:" in text
    assert "33 111" in text


def _tty_job(platform: LocalPlatform, script: str) -> tuple[neuro_sync.Client, str]:
    from neuro_sync import Container, RemoteImage, Resources

    client = neuro_sync.Factory(platform.config_path).get(dialect="2022")
    container = Container(
        RemoteImage("ubuntu"), Resources(64, 0.1), command=f"sh -c '{script}'", tty=True
    )
    job = client.jobs.run(container)
    client.jobs.wait(job.id, statuses=[JobStatus.RUNNING], max_time=60, poll_interval=0.1)
    return client, job.id


def test_attach_to_the_jobs_terminal_from_a_real_terminal(
    platform: LocalPlatform, env: dict[str, str]
) -> None:
    """`attach` from a pseudo-terminal to a job with `tty`: raw mode (the job's terminal does
    the echoing and line editing), typing reaches the job, its terminal takes the size of
    ours and follows a SIGWINCH, the job's exit code is the CLI's, our terminal is restored."""
    script = (
        "read line; echo got:$line; stty size; "
        'while [ "$(stty size)" != "40 120" ]; do sleep 0.05; done; echo resized; '
        "read again; exit 9"
    )
    client, job_id = _tty_job(platform, script)
    with client:
        term = CliTerminal(env, "attach", job_id, rows=33, columns=111)
        try:
            term.wait_raw()
            term.type(b"hello\r")
            term.wait_for(b"33 111")
            assert b"got:hello" in term.shown
            term.resize(40, 120)
            term.wait_for(b"resized")
            term.type(b"bye\r")
        finally:
            code, restored = term.finish()
    assert code == 9, term.shown
    assert restored


def test_attach_interrupted_restores_the_terminal_and_leaves_the_job(
    platform: LocalPlatform, env: dict[str, str]
) -> None:
    import signal

    client, job_id = _tty_job(platform, "while true; do read line; echo got:$line; done")
    with client:
        try:
            term = CliTerminal(env, "attach", job_id, rows=24, columns=80)
            try:
                term.wait_raw()
                term.type(b"ping\r")
                term.wait_for(b"got:ping")
                term.proc.send_signal(signal.SIGINT)
            finally:
                code, restored = term.finish()
            assert code == 130, term.shown
            assert restored
            assert client.jobs.status(job_id).status is JobStatus.RUNNING
            # A second attach (the API, capturing) sees what is typed after it: none here,
            # but the job's output goes on: it follows until the time is up.
            with pytest.raises(neuro_sync.ExecTimeout):
                client.jobs.attach(job_id, max_time=1, capture_output=True)
            assert client.jobs.status(job_id).status is JobStatus.RUNNING
        finally:
            client.jobs.kill(job_id)


def test_run_tty_attached_on_a_real_terminal(platform: LocalPlatform, env: dict[str, str]) -> None:
    """`run --tty` from a terminal: the job gets a terminal and the CLI is connected to it
    until the job ends, with the job's exit code."""
    term = CliTerminal(
        env, "run", "--tty", "ubuntu", "--", "sh", "-c", "read line; echo got:$line; exit 4",
        rows=30, columns=100,
    )  # fmt: skip
    try:
        term.wait_raw()
        term.type(b"hi\r")
        term.wait_for(b"got:hi")
    finally:
        code, restored = term.finish()
    assert code == 4, term.shown
    assert restored
