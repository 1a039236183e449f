"""exec, attach and port_forward over the monitoring WebSockets (2022 dialect) against the
local platform serving them (real sockets, real processes); no ssh involved."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest

import neuro_sync
from neuro_sync import Container, JobStatus, RemoteImage, Resources, ValidationError
from neuro_sync.local import LocalPlatform
from tests.support.connect_proxy import connect_proxy

SLEEPER = Container(RemoteImage("ubuntu"), Resources(64, 0.1), command="sleep 600")


def _running(client: neuro_sync.Client, container: Container) -> str:
    job = client.jobs.run(container)
    deadline = time.monotonic() + 60
    while client.jobs.status(job.id).status is not JobStatus.RUNNING:
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.1)
    return job.id


def test_exec_returns_output_and_the_exit_code(client22: neuro_sync.Client) -> None:
    job_id = _running(client22, SLEEPER)
    try:
        result = client22.jobs.exec(
            job_id, ["sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True
        )
        assert (result.returncode, result.stdout, result.stderr) == (3, b"out\n", b"err\n")
        assert client22.jobs.exec(job_id, ["true"]) == 0
        missing = client22.jobs.exec(job_id, ["no-such-program-here"], capture_output=True)
        assert missing.returncode == 127
        assert b"no-such-program-here" in missing.stderr
    finally:
        client22.jobs.kill(job_id)


def test_exec_through_an_http_proxy(
    client22: neuro_sync.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user behind a proxy: the HTTP calls and the WebSockets both go through it."""
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with connect_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        job_id = _running(client22, SLEEPER)
        try:
            command = ["sh", "-c", "echo hi; exit 4"]
            result = client22.jobs.exec(job_id, command, capture_output=True)
            assert (result.returncode, result.stdout) == (4, b"hi\n")
        finally:
            client22.jobs.kill(job_id)
    # The first request of each connection the proxy was given (keep-alive carries the rest).
    firsts = [head.split(b" ", 2)[:2] for head in proxy.heads]
    assert [b"CONNECT", client22.config.monitoring_url.authority.encode()] in firsts
    assert any(target.startswith(b"http://127.0.0.1:") for _, target in firsts)  # HTTP calls


def test_exec_max_time(client22: neuro_sync.Client) -> None:
    job_id = _running(client22, SLEEPER)
    try:
        with pytest.raises(neuro_sync.ExecTimeout):
            client22.jobs.exec(job_id, ["sleep", "30"], max_time=0.5, capture_output=True)
    finally:
        client22.jobs.kill(job_id)


def test_exec_of_a_finished_job_is_job_not_running(client22: neuro_sync.Client) -> None:
    job_id = _running(client22, SLEEPER)
    client22.jobs.kill(job_id)
    with pytest.raises(neuro_sync.JobNotRunning):
        client22.jobs.exec(job_id, ["true"], capture_output=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_port_forward_reaches_an_http_server_in_the_job(client22: neuro_sync.Client) -> None:
    port = _free_port()
    # python3 from PATH: an isolated job cannot read this test's virtualenv.
    serve = Container(
        RemoteImage("python"),
        Resources(64, 0.1),
        command=f"python3 -m http.server {port} --bind 127.0.0.1",
    )
    job_id = _running(client22, serve)
    try:
        # Wait for the job's server to listen first: a forwarded connection made before that
        # is refused by the job side, and that failure stays in `fwd.error`.
        probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 1).close()"
        deadline = time.monotonic() + 30
        while client22.jobs.exec(job_id, ["python3", "-c", probe], capture_output=True).returncode:
            assert time.monotonic() < deadline, "the job's http.server never listened"
            time.sleep(0.3)
        with client22.jobs.port_forward(job_id, 0, port) as fwd:
            deadline = time.monotonic() + 30
            while True:
                try:
                    url = f"http://127.0.0.1:{fwd.local_port}/"
                    with urllib.request.urlopen(url, timeout=10) as reply:
                        body = reply.read()
                    break
                except OSError:
                    # The server in the job may not listen yet: the WebSocket is refused.
                    assert time.monotonic() < deadline, fwd.error
                    time.sleep(0.3)
            assert reply.status == 200
            assert b"Directory listing" in body
            assert fwd.error is None
    finally:
        client22.jobs.kill(job_id)


def test_attach_follows_the_output_and_returns_the_exit_code(
    client22: neuro_sync.Client,
) -> None:
    talker = Container(
        RemoteImage("ubuntu"),
        Resources(64, 0.1),
        command="sh -c 'sleep 2; echo attached-line; sleep 1; exit 5'",
    )
    job_id = _running(client22, talker)
    result: list[object] = []
    thread = threading.Thread(
        target=lambda: result.append(client22.jobs.attach(job_id, capture_output=True, max_time=60))
    )
    thread.start()
    thread.join(timeout=90)
    (got,) = result
    assert isinstance(got, neuro_sync.ExecResult)
    assert got.returncode == 5
    assert b"attached-line" in got.stdout


def test_attach_is_refused_under_2019(platform22: LocalPlatform) -> None:
    with neuro_sync.Client(platform22.url, platform22.token) as c:
        with pytest.raises(ValidationError) as info:
            c.jobs.attach("job-anything")
    assert "2022" in str(info.value)
