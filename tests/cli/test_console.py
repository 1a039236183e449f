"""The installed `neuro-sync` console script, as a real subprocess, against the local platform.

Every run goes through `console()`, which checks that the token is in none of its output.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import neuro_sync
from neuro_sync import JobStatus
from neuro_sync.local import LocalPlatform

pytestmark = pytest.mark.integration

SCRIPT = str(Path(sys.executable).with_name("neuro-sync"))
JOB_ID = re.compile(r"^job-[0-9a-f-]{36}$")
# Scheduling is immediate on the local platform; these only bound a broken run.
RUN_TIMEOUT = 60


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(tmp_path_factory.mktemp("cli-platform")) as lp:
        yield lp


@pytest.fixture
def client(platform: LocalPlatform) -> Iterator[neuro_sync.Client]:
    """The library, configured from the same file as the CLI, to check what the CLI did."""
    with neuro_sync.Factory(platform.config_path).get() as c:
        yield c


@pytest.fixture
def env(platform: LocalPlatform, tmp_path: Path) -> dict[str, str]:
    """The CLI's environment: only the platform's config file says where and who."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO_SYNC_", "NEUROM"))}
    return base | {"HOME": str(tmp_path), "NEUROMATION_CONFIG": str(platform.config_path)}


def check_no_token(platform: LocalPlatform, *outputs: bytes | str | None) -> None:
    for out in outputs:
        text = out.decode(errors="replace") if isinstance(out, bytes) else out or ""
        assert platform.token not in text


def console(
    platform: LocalPlatform, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [SCRIPT, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    check_no_token(platform, proc.stdout, proc.stderr)
    return proc


@pytest.mark.parametrize("code", [0, 3])
def test_attached_run_passes_the_exit_code_through(
    platform: LocalPlatform, env: dict[str, str], code: int
) -> None:
    proc = console(platform, env, "run", "ubuntu", "--", "sh", "-c", f"echo hi; exit {code}")
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == "hi\n"
    assert re.match(r"^Job ID: job-", proc.stderr)


def test_detach_logs_kill(
    platform: LocalPlatform, env: dict[str, str], client: neuro_sync.Client
) -> None:
    started = console(platform, env, "run", "--detach", "ubuntu", "--", "echo", "hi")
    assert started.returncode == 0, started.stderr
    assert JOB_ID.match(started.stdout.strip())
    assert started.stderr == ""
    finished = console(platform, env, "wait", "--format", "json", started.stdout.strip())
    assert json.loads(finished.stdout)["history"]["exit_code"] == 0

    sleeper = console(
        platform, env, "run", "--detach", "--wait-start", "ubuntu", "--", "sh", "-c",
        "echo ready; exec sleep 600",
    )  # fmt: skip
    job_id = sleeper.stdout.strip()
    assert client.jobs.status(job_id).status is JobStatus.RUNNING
    deadline = time.monotonic() + RUN_TIMEOUT
    while "ready" not in (snapshot := console(platform, env, "logs", "--no-follow", job_id)).stdout:
        assert snapshot.returncode == 0 and time.monotonic() < deadline
        time.sleep(0.2)
    killed = console(platform, env, "kill", job_id, "job-does-not-exist")
    assert killed.returncode == 1
    assert killed.stdout == f"{job_id}\n"
    assert killed.stderr.startswith("Cannot kill job-does-not-exist: ")
    assert client.jobs.wait(job_id, timeout=RUN_TIMEOUT).status is JobStatus.SUCCEEDED
    assert console(platform, env, "logs", job_id).stdout == "ready\n"  # follows to the end


def _on_terminal(env: dict[str, str], args: list[str], *, stdout_too: bool) -> tuple[str, str]:
    """Runs the CLI with stderr (and stdout when `stdout_too`) on a pseudo-terminal; returns
    what the terminal showed and what went to the stdout pipe otherwise."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [SCRIPT, *args],
        env=env,
        stdout=slave if stdout_too else subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    os.close(slave)
    shown = b""
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 1.0)[0]:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not data:
                break
            shown += data
        piped = "" if proc.stdout is None else proc.stdout.read()
        assert proc.wait(timeout=RUN_TIMEOUT) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    return shown.decode(), piped


def test_wait_shows_a_status_line_only_on_a_terminal(
    platform: LocalPlatform, env: dict[str, str]
) -> None:
    job_id = console(platform, env, "run", "--detach", "ubuntu", "sleep 2").stdout.strip()
    shown, _ = _on_terminal(env, ["wait", job_id], stdout_too=True)
    check_no_token(platform, shown)
    # One line rewritten in place per status, then the result (the terminal adds \r to \n).
    assert re.search(rf"\r\x1b\[K{job_id}: (pending|running)[^\n]*  0:\d\d\r?\n", shown), shown
    assert shown.endswith(f"{job_id}: succeeded, exit code 0\r\n"), shown
    # A script reading stdout gets the result and nothing on the terminal.
    shown, piped = _on_terminal(env, ["wait", job_id], stdout_too=False)
    assert (shown, piped) == ("", f"{job_id}: succeeded, exit code 0\n")


def test_ctrl_c_ends_wait_and_its_status_line(
    platform: LocalPlatform, env: dict[str, str], client: neuro_sync.Client
) -> None:
    job_id = console(platform, env, "run", "--detach", "ubuntu", "sleep 600").stdout.strip()
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [SCRIPT, "wait", job_id], env=env, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL
    )
    os.close(slave)
    shown = b""
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while shown.count(b"running") < 2:  # the line has been redrawn once
            assert time.monotonic() < deadline, shown
            if select.select([master], [], [], 1.0)[0]:
                shown += os.read(master, 4096)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=RUN_TIMEOUT) == 130
        with contextlib.suppress(OSError):  # EIO once everything has been read
            while select.select([master], [], [], 1.0)[0] and (data := os.read(master, 4096)):
                shown += data
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        client.jobs.kill(job_id)
    text = shown.decode()
    check_no_token(platform, text)
    assert text.endswith("\r\n\r\nInterrupted.\r\n"), text  # the status line was ended
    assert "Traceback" not in text


def test_ps_quiet_and_json_are_parseable(
    platform: LocalPlatform, env: dict[str, str], client: neuro_sync.Client
) -> None:
    job_id = console(platform, env, "run", "--detach", "ubuntu", "sleep 600").stdout.strip()
    try:
        quiet = console(platform, env, "ps", "-q")
        assert quiet.returncode == 0
        ids = quiet.stdout.split()
        assert job_id in ids and all(JOB_ID.match(i) for i in ids)
        listed = json.loads(console(platform, env, "ps", "--format", "json").stdout)
        mine = [j for j in listed if j["id"] == job_id]
        assert mine and mine[0]["container"]["command"] == "sleep 600"
        assert mine[0]["owner"] == platform.user
        status = json.loads(console(platform, env, "status", "--format", "json", job_id).stdout)
        assert status["id"] == job_id and status["status"] in ("pending", "running")
    finally:
        client.jobs.kill(job_id)


def test_sigint_detaches_and_the_job_keeps_running(
    platform: LocalPlatform, env: dict[str, str], client: neuro_sync.Client
) -> None:
    proc = subprocess.Popen(
        [SCRIPT, "run", "ubuntu", "--", "sh", "-c", "echo started; exec sleep 600"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"started\n"  # attached: the log is streaming
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check_no_token(platform, out, err)
    assert proc.returncode == 130
    job_id = err.decode().split()[2]  # "Job ID: job-..."
    assert JOB_ID.match(job_id)
    assert f"neuro-sync logs {job_id}" in err.decode()
    assert b"Traceback" not in err
    try:
        assert client.jobs.status(job_id).status is JobStatus.RUNNING
    finally:
        client.jobs.kill(job_id)


def test_bad_tokens_are_one_line_exit_1(platform: LocalPlatform, env: dict[str, str]) -> None:
    # Signed with another secret: the server answers 401. The URL from the environment too:
    # a token is never sent to a URL from another source (the config file).
    header, payload, _ = platform.token.split(".")
    forged = f"{header}.{payload}.AAAA"
    env = env | {"NEURO_SYNC_URL": str(platform.url)}
    for token in (forged, "not-a-jwt"):
        proc = console(platform, env | {"NEURO_SYNC_TOKEN": token}, "ps")
        assert proc.returncode == 1
        assert proc.stderr.startswith("Error: ") and proc.stderr.count("\n") == 1
        assert "Traceback" not in proc.stderr and token not in proc.stderr
    verbose = console(platform, env | {"NEURO_SYNC_TOKEN": forged}, "--verbose", "ps")
    # /config comes first (the URL is not the file's); it swallows the 401 (docs/protocol.md §1.4).
    assert verbose.returncode == 1 and "AuthenticationError" in verbose.stderr
    assert forged not in verbose.stderr


def test_verbose_never_shows_the_token(platform: LocalPlatform, env: dict[str, str]) -> None:
    # `console` checks the output; debug logs and the config listing must not show the token.
    for args in (("ps", "-a"), ("run", "ubuntu", "true")):
        proc = console(platform, env, "--verbose", *args)
        assert proc.returncode == 0, proc.stderr
        assert "DEBUG" in proc.stderr  # the HTTP requests were logged
    assert console(platform, env, "--verbose", "config", "show").returncode == 0
    with_flag = console(platform, env, "--token", "-", "ps")  # stdin is empty
    assert with_flag.returncode == 2


def test_python_dash_m(platform: LocalPlatform, env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "neuro_sync", "config", "show"],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    check_no_token(platform, proc.stdout, proc.stderr)
    assert proc.returncode == 0
    assert f"URL:          {platform.url}" in proc.stdout


def test_attached_run_and_wait_end_with_the_outcome(
    platform: LocalPlatform, env: dict[str, str]
) -> None:
    attached = console(platform, env, "run", "ubuntu", "--", "sh", "-c", "echo hi; exit 4")
    assert attached.returncode == 4
    job_id = attached.stderr.split()[2]
    # One line: status, reason, description (the local platform's: the log's end), exit code.
    assert attached.stderr.splitlines()[-1] == f"Job {job_id}: failed: Error: hi (exit 4)"
    waited = console(platform, env, "wait", job_id)
    assert (waited.returncode, waited.stdout) == (4, f"{job_id}: failed (Error), exit code 4\n")
    as_json = console(platform, env, "wait", "--format", "json", job_id)
    assert as_json.returncode == 4 and json.loads(as_json.stdout)["history"]["exit_code"] == 4
    fine = console(platform, env, "run", "--detach", "ubuntu", "true").stdout.strip()
    assert console(platform, env, "wait", fine).returncode == 0


def test_ps_is_complete_when_piped_and_fits_a_terminal(
    platform: LocalPlatform, env: dict[str, str], client: neuro_sync.Client
) -> None:
    command = "sh -c 'sleep 600; echo " + " ".join(["a long line"] * 12) + "'"
    job_id = console(platform, env, "run", "--detach", "ubuntu", command).stdout.strip()
    try:
        piped = console(platform, env, "ps").stdout.splitlines()
        assert any(line.endswith(command) for line in piped), piped
        status = console(platform, env, "status", job_id).stdout
        assert f"Command:       {command}" in status
        shown, _ = _on_terminal(env | {"COLUMNS": "80"}, ["ps"], stdout_too=True)
        lines = [ln for ln in shown.split("\r\n") if ln]
        assert lines and all(len(line) <= 80 for line in lines), lines
        assert any(job_id in line and line.endswith("...") for line in lines), lines
    finally:
        client.jobs.kill(job_id)


def test_logs_tail(platform: LocalPlatform, env: dict[str, str], client: neuro_sync.Client) -> None:
    script = (
        "for i in 1 2 3 4 5; do echo line $i; done; "
        "while [ ! -e go ]; do sleep 0.1; done; echo after"
    )
    started = console(platform, env, "run", "--detach", "ubuntu", "--", "sh", "-c", script)
    job_id = started.stdout.strip()
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while "line 5" not in console(platform, env, "logs", "--no-follow", job_id).stdout:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        tail = console(platform, env, "logs", "--tail", "2", "--no-follow", job_id)
        assert tail.stdout == "line 4\nline 5\n"
        following = subprocess.Popen(
            [SCRIPT, "logs", "--tail", "1", job_id],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert following.stdout is not None
        assert following.stdout.readline() == "line 5\n"
        assert client.jobs.exec(job_id, ["touch", "go"], capture_output=True).returncode == 0
        out, err = following.communicate(timeout=RUN_TIMEOUT)
        assert (following.returncode, out, err) == (0, "after\n", "")
    finally:
        client.jobs.kill(job_id)


def test_exec_checks_the_published_host_key(
    platform: LocalPlatform, env: dict[str, str], client: neuro_sync.Client, tmp_path: Path
) -> None:
    started = console(platform, env, "run", "--detach", "--wait-start", "ubuntu", "sleep 600")
    job_id = started.stdout.strip()
    try:
        # No --no-key-check, no prompt: the key comes from the file client.nmrc names.
        ran = console(platform, env, "exec", job_id, "--", "echo", "hi")
        assert (ran.returncode, ran.stdout, ran.stderr) == (0, "hi\n", "")
        # Another key in that file: a clear error, nothing run.
        other = tmp_path / "known_hosts"
        other.write_text(platform.config_path.with_name("known_hosts").read_text().replace(
            "AAAA", "AAAB", 1
        ))  # fmt: skip
        config = tmp_path / "client.nmrc"
        text = platform.config_path.read_text()
        config.write_text(
            text.replace(str(platform.config_path.with_name("known_hosts")), str(other))
        )
        refused = console(
            platform, env | {"NEUROMATION_CONFIG": str(config)}, "exec", job_id, "--", "echo", "hi"
        )
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr.startswith("Error: The SSH gateway at 127.0.0.1:")
        assert f"not the one in {other}" in refused.stderr
        assert refused.stderr.count("\n") == 1
        # port-forward: the first connection fails, and the command ends saying why.
        forward = subprocess.Popen(
            [SCRIPT, "port-forward", job_id, "0:9"],
            env=env | {"NEUROMATION_CONFIG": str(config)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert forward.stdout is not None
            port = int(forward.stdout.readline().split()[0].rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), RUN_TIMEOUT) as conn:
                conn.settimeout(RUN_TIMEOUT)
                assert conn.recv(1) == b""
            _, err = forward.communicate(timeout=RUN_TIMEOUT)
        finally:
            if forward.poll() is None:
                forward.kill()
                forward.wait()
        assert forward.returncode == 1
        assert err.splitlines()[-1].startswith("Error: The SSH gateway at 127.0.0.1:")
    finally:
        client.jobs.kill(job_id)


def test_a_token_of_another_data_dir_says_so(
    platform: LocalPlatform, env: dict[str, str], tmp_path: Path
) -> None:
    # The client.nmrc another data dir's platform wrote when it ran on this address.
    with LocalPlatform(tmp_path / "other") as other:
        config = other.config_path.read_text().replace(other.url, platform.url)
    (tmp_path / "client.nmrc").write_text(config)
    proc = console(platform, env | {"NEUROMATION_CONFIG": str(tmp_path / "client.nmrc")}, "ps")
    assert proc.returncode == 1
    assert "issued by a platform with another data dir" in proc.stderr, proc.stderr


def test_an_image_that_cannot_be_pulled_says_why_everywhere(tmp_path: Path) -> None:
    from tests.containers.conftest import podman_platform

    podman = podman_platform(tmp_path / "podman-platform")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO_SYNC_", "NEUROM"))}
        env |= {"HOME": str(tmp_path), "NEUROMATION_CONFIG": str(podman.config_path)}
        # `.invalid` never resolves (RFC 2606): the pull fails fast, online or not.
        ran = console(podman, env, "run", "registry.invalid/no-such-image:v0", "true")
        assert ran.returncode == 125
        job_id = ran.stderr.split()[2]
        why = ran.stderr.splitlines()[-1]
        assert why.startswith(f"Job {job_id}: failed: Collected: Image can not be pulled: ")
        assert "registry.invalid" in why and why.endswith("(it never started its command)")
        status = console(podman, env, "status", job_id).stdout
        assert "Status:        failed (Collected)" in status
        assert "Image can not be pulled: " in status and "registry.invalid" in status
        listed = console(podman, env, "ps", "-a", "--wide").stdout.splitlines()
        (row,) = [line for line in listed if job_id in line]
        assert "failed: Collected" in row and "Image can not be pulled: " in row
    finally:
        podman.stop()


def test_the_local_platform_shows_its_one_default_data_dir() -> None:
    from neuro_sync.local import DEFAULT_DATA_DIR

    local = str(Path(sys.executable).with_name("neuro-sync-local"))
    for args in ([], ["serve"], ["token"]):
        shown = subprocess.run(
            [local, *args, "--help"], capture_output=True, text=True, timeout=RUN_TIMEOUT
        )
        assert shown.returncode == 0
        assert f"(default: {DEFAULT_DATA_DIR})" in " ".join(shown.stdout.split()), shown.stdout
    assert DEFAULT_DATA_DIR == "~/.neuro-sync-local"


def test_token_and_serve_share_the_default_data_dir(tmp_path: Path) -> None:
    """`neuro-sync-local token` without --data-dir signs with the secret `serve` uses."""
    from neuro_sync.local import LocalPlatform as Platform

    local = str(Path(sys.executable).with_name("neuro-sync-local"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO_SYNC_", "NEUROM"))}
    env["HOME"] = str(tmp_path)
    with Platform(tmp_path / ".neuro-sync-local") as platform:
        token = subprocess.run(
            [local, "token", "--user", "alice"], env=env, capture_output=True, text=True,
            timeout=RUN_TIMEOUT, check=True,
        ).stdout.strip()  # fmt: skip
        with neuro_sync.Client(platform.url, token) as alice:
            assert alice.jobs.list() == []
    # --data-dir before or after the subcommand: the same dir (argparse defaults of a
    # subcommand used to override the option given before it).
    with Platform(tmp_path / "elsewhere") as platform:
        for args in (
            ["--data-dir", str(tmp_path / "elsewhere"), "token", "--user", "bob"],
            ["token", "--data-dir", str(tmp_path / "elsewhere"), "--user", "bob"],
        ):
            token = subprocess.run(
                [local, *args], env=env, capture_output=True, text=True,
                timeout=RUN_TIMEOUT, check=True,
            ).stdout.strip()  # fmt: skip
            with neuro_sync.Client(platform.url, token) as bob:
                assert bob.jobs.list() == []
