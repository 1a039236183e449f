"""`client.jobs.exec` through the local platform's SSH gateway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

import neuro_sync
from neuro_sync import JobDescription
from neuro_sync.local import LocalPlatform, auth
from neuro_sync.local.process_runtime import default_jobs_root

from .helpers import GUARD, gateway, ssh_argv, start_job, wait_until

pytestmark = pytest.mark.integration

FORGED_SECRET = b"not-the-platform-secret-but-long-enough"


def request(method: str, token: str | None, **params: object) -> str:
    body: dict[str, object] = {"method": method, "params": params}
    if token is not None:
        body["token"] = token
    return json.dumps(body)


def test_ssh_server_points_at_the_gateway(platform: LocalPlatform, sleeper: JobDescription) -> None:
    assert platform.settings.ssh_port > 0
    assert sleeper.ssh_server.host == platform.settings.ssh_host
    assert sleeper.ssh_server.port == platform.settings.ssh_port
    assert sleeper.ssh_server.user == "nobody"


def test_exit_code_and_output(
    client: neuro_sync.Client, sleeper: JobDescription, capfd: pytest.CaptureFixture[str]
) -> None:
    code = client.jobs.exec(
        sleeper.id, ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"], no_key_check=True
    )
    out, err = capfd.readouterr()
    assert code == 3
    assert out == "to-stdout\n"
    assert err == "to-stderr\n"


def test_success(client: neuro_sync.Client, sleeper: JobDescription) -> None:
    assert client.jobs.exec(sleeper.id, ["true"], no_key_check=True) == 0


def test_env_and_working_directory(
    platform: LocalPlatform,
    client: neuro_sync.Client,
    sleeper: JobDescription,
    capfd: pytest.CaptureFixture[str],
) -> None:
    script = 'echo "$GREETING"; echo "$NEURO_JOB_ID"; pwd; echo "$HOME"; echo made > by-exec.txt'
    assert client.jobs.exec(sleeper.id, ["sh", "-c", script], no_key_check=True) == 0
    work = (default_jobs_root(platform.data_dir) / sleeper.id).resolve()
    out, _ = capfd.readouterr()
    assert out.splitlines() == ["hello from the job", sleeper.id, str(work), str(work)]
    assert (work / "by-exec.txt").read_text() == "made\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="isolation needs root")
def test_runs_as_the_jobs_user(
    platform: LocalPlatform,
    client: neuro_sync.Client,
    sleeper: JobDescription,
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert client.jobs.exec(sleeper.id, ["sh", "-c", "id -u; id -G"], no_key_check=True) == 0
    uid = capfd.readouterr()[0].split()
    owner = (default_jobs_root(platform.data_dir) / sleeper.id).stat().st_uid
    assert int(uid[0]) == owner != 0
    assert uid[1] == str(owner)  # no supplementary groups of the server


def test_argv_reaches_the_job_verbatim(
    client: neuro_sync.Client, sleeper: JobDescription, capfd: pytest.CaptureFixture[str]
) -> None:
    # No shell on either side; and nothing ssh itself expands (%x, ${VAR}) or cuts (#).
    args = ["a b", "$HOME", "${HOME}", "%d %%", "#x", '"q"', "'", "\\", "é ✓", "\t", "", "-"]
    code = client.jobs.exec(
        sleeper.id,
        ["python3", "-c", "import json, sys; print(json.dumps(sys.argv[1:]))", *args],
        no_key_check=True,
    )
    out, _ = capfd.readouterr()
    assert code == 0
    assert json.loads(out) == args


def test_missing_program(
    client: neuro_sync.Client, sleeper: JobDescription, capfd: pytest.CaptureFixture[str]
) -> None:
    assert client.jobs.exec(sleeper.id, ["no-such-program-here"], no_key_check=True) == 127
    assert "no-such-program-here" in capfd.readouterr().err


def test_unencodable_argument(platform: LocalPlatform, sleeper: JobDescription) -> None:
    command = request("job_exec", platform.token, job=sleeper.id, command=["echo", "\ud800"])
    done = gateway(platform, command)
    assert done.returncode == 126
    assert b"cannot run 'echo'" in done.stderr


def test_signal_exit_status(client: neuro_sync.Client, sleeper: JobDescription) -> None:
    assert client.jobs.exec(sleeper.id, ["sh", "-c", "kill -TERM $$"], no_key_check=True) == 143


def test_not_running(client: neuro_sync.Client, finished_job: JobDescription) -> None:
    with pytest.raises(neuro_sync.JobNotRunning):
        client.jobs.exec(finished_job.id, ["true"], no_key_check=True)


def test_unknown_job(client: neuro_sync.Client) -> None:
    with pytest.raises(neuro_sync.JobNotFound):
        client.jobs.exec(f"job-{uuid.uuid4()}", ["true"], no_key_check=True)


def test_another_users_client_is_refused(platform: LocalPlatform, sleeper: JobDescription) -> None:
    with neuro_sync.Client(platform.url, platform.issue_token("mallory")) as mallory:
        with pytest.raises(neuro_sync.AuthorizationError):
            mallory.jobs.exec(sleeper.id, ["true"], no_key_check=True)


def test_forged_token_client_is_refused(platform: LocalPlatform, sleeper: JobDescription) -> None:
    forged = auth.issue_token(FORGED_SECRET, platform.user)
    with neuro_sync.Client(platform.url, forged) as client:
        with pytest.raises(neuro_sync.AuthenticationError):
            client.jobs.exec(sleeper.id, ["true"], no_key_check=True)


def test_timeout(client: neuro_sync.Client, sleeper: JobDescription) -> None:
    with pytest.raises(neuro_sync.ClientError, match="timed out"):
        client.jobs.exec(sleeper.id, ["sleep", "60"], no_key_check=True, timeout=0.5)


# ---------------------------------------------------------------------------- the gateway itself


def test_stdin_is_streamed(platform: LocalPlatform, sleeper: JobDescription) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB, every byte value
    done = gateway(
        platform, request("job_exec", platform.token, job=sleeper.id, command=["cat"]), stdin=data
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == data


def test_tty(platform: LocalPlatform, sleeper: JobDescription) -> None:
    script = "import os, sys; print(sys.stdin.isatty(), sys.stdout.isatty(), os.environ['TERM'])"
    command = request("job_exec", platform.token, job=sleeper.id, command=["python3", "-c", script])
    done = gateway(platform, command, tty=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"True True ")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("shell", b"no shell"),
        ("not-json", b"not a gateway JSON request"),
        ("json-list", b"not a gateway JSON request"),
        ("unknown-method", b"unknown method"),
        ("no-token", b"Unauthorized"),
        ("forged-token", b"Unauthorized"),
        ("another-user", b"Forbidden"),
        ("unknown-job", b"no such job"),
        ("not-running", b"not running"),
        ("bad-command", b"params.command"),
        ("bad-port", b"params.port"),
        ("closed-port", b"cannot connect"),
    ],
)
def test_refused(
    platform: LocalPlatform,
    sleeper: JobDescription,
    finished_job: JobDescription,
    case: str,
    message: bytes,
) -> None:
    token, job = platform.token, sleeper.id
    commands: dict[str, str | None] = {
        "shell": None,
        "not-json": "echo hello",
        "json-list": "[1, 2]",
        "unknown-method": request("job_shell", token, job=job),
        "no-token": request("job_exec", None, job=job, command=["true"]),
        "forged-token": request(
            "job_exec", auth.issue_token(FORGED_SECRET, platform.user), job=job, command=["true"]
        ),
        "another-user": request(
            "job_exec", platform.issue_token("mallory"), job=job, command=["true"]
        ),
        "unknown-job": request("job_exec", token, job=f"job-{uuid.uuid4()}", command=["true"]),
        "not-running": request("job_exec", token, job=finished_job.id, command=["true"]),
        "bad-command": request("job_exec", token, job=job, command="true"),
        "bad-port": request("job_port_forward", token, job=job, port=0),
        "closed-port": request("job_port_forward", token, job=job, port=_closed_port()),
    }
    done = gateway(platform, commands[case])
    assert done.returncode == 255
    assert message in done.stderr
    assert done.stdout == b""


def _closed_port() -> int:
    import socket

    with socket.socket() as s:  # bound but not listening: connections are refused
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_client_that_leaves_ends_the_command(
    platform: LocalPlatform, sleeper: JobDescription
) -> None:
    marker = f"gateway-leave-{uuid.uuid4().hex}"
    script = f"touch {marker}; exec sleep 601"  # the job itself runs `sleep 600`
    command = request("job_exec", platform.token, job=sleeper.id, command=["sh", "-c", script])
    work = (default_jobs_root(platform.data_dir) / sleeper.id).resolve()

    def exec_processes() -> list[psutil.Process]:
        found = []
        for p in psutil.process_iter(["cmdline", "cwd", "status"]):
            if (
                p.info["cmdline"] == ["sleep", "601"]
                and p.info["cwd"] == str(work)
                and p.info["status"] != psutil.STATUS_ZOMBIE
            ):
                found.append(p)
        return found

    ssh = subprocess.Popen(
        [*ssh_argv(platform, "-T"), command],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until((work / marker).exists, "the command to start")
        wait_until(exec_processes, "the command's process")
    finally:
        ssh.kill()
        ssh.wait(GUARD)
    wait_until(lambda: not exec_processes(), "the gateway to end the command")


def test_command_ends_with_its_job(platform: LocalPlatform, client: neuro_sync.Client) -> None:
    job = start_job(client, "sleep 600")
    work = default_jobs_root(platform.data_dir) / job.id
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            client.jobs.exec,
            job.id,
            ["sh", "-c", "touch started; exec sleep 602"],
            no_key_check=True,
            timeout=GUARD,
        )
        wait_until((work / "started").exists, "the command to start")
        client.jobs.kill(job.id)
        assert running.result(GUARD) == 128 + signal.SIGTERM
