"""`client.jobs.port_forward` through the local platform's SSH gateway."""

from __future__ import annotations

import hashlib
import shlex
import socket
import textwrap
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import requests

import neuro_sync
from neuro_sync import JobDescription
from neuro_sync.local import LocalPlatform
from neuro_sync.local.process_runtime import default_jobs_root

from .helpers import GUARD, free_port, start_job, wait_for_port, wait_until

pytestmark = pytest.mark.integration

# Reads a connection to its EOF, answers "<bytes> <sha256>" and closes: checks both the data
# and that the client's half-close travels through the tunnel.
DIGEST_SERVER = textwrap.dedent(
    """
    import hashlib, socket, sys
    server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    while True:
        conn, _ = server.accept()
        with conn:
            digest, size = hashlib.sha256(), 0
            while data := conn.recv(65536):
                digest.update(data)
                size += len(data)
            conn.sendall(f"{size} {digest.hexdigest()}".encode())
    """
)


@pytest.fixture(scope="module")
def digest_job(session_client: neuro_sync.Client) -> Iterator[tuple[JobDescription, int]]:
    port = free_port()
    # Inline: an isolated job cannot read the test's private temporary directory.
    job = start_job(session_client, f"python3 -c {shlex.quote(DIGEST_SERVER)} {port}")
    wait_for_port(port)
    yield job, port
    session_client.jobs.kill(job.id)


def work_dir(platform: LocalPlatform, job: JobDescription) -> Path:
    return default_jobs_root(platform.data_dir) / job.id


def ssh_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if p.name() == "ssh"]


def test_http_server_of_a_job(
    platform: LocalPlatform, client: neuro_sync.Client, http_job: tuple[JobDescription, int]
) -> None:
    job, port = http_job
    name = f"hello-{uuid.uuid4().hex}.txt"
    (work_dir(platform, job) / name).write_text("hello through the gateway")
    with client.jobs.port_forward(job.id, 0, port, no_key_check=True) as fwd:
        url = f"http://127.0.0.1:{fwd.local_port}/{name}"
        for _ in range(3):
            reply = requests.get(url, timeout=GUARD)
            assert reply.status_code == 200
            assert reply.text == "hello through the gateway"
        with ThreadPoolExecutor(4) as pool:
            texts = list(pool.map(lambda _: requests.get(url, timeout=GUARD).text, range(8)))
        assert texts == ["hello through the gateway"] * 8
        missing = requests.get(f"http://127.0.0.1:{fwd.local_port}/no-such-file", timeout=GUARD)
        assert missing.status_code == 404


def test_given_local_port(client: neuro_sync.Client, http_job: tuple[JobDescription, int]) -> None:
    job, port = http_job
    local = free_port()
    with client.jobs.port_forward(job.id, local, port, no_key_check=True) as fwd:
        assert fwd.local_port == local
        assert requests.get(f"http://127.0.0.1:{local}/", timeout=GUARD).status_code == 200


def test_bytes_and_half_close(
    client: neuro_sync.Client, digest_job: tuple[JobDescription, int]
) -> None:
    job, port = digest_job
    data = bytes(range(256)) * 8192  # 2 MiB
    with client.jobs.port_forward(job.id, 0, port, no_key_check=True) as fwd:
        with socket.create_connection(("127.0.0.1", fwd.local_port), timeout=GUARD) as conn:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := conn.recv(65536):
                reply += chunk
    assert reply.decode() == f"{len(data)} {hashlib.sha256(data).hexdigest()}"


def test_close_ends_the_ssh_processes(
    client: neuro_sync.Client, http_job: tuple[JobDescription, int]
) -> None:
    job, port = http_job
    before = {p.pid for p in ssh_children()}
    fwd = client.jobs.port_forward(job.id, 0, port, no_key_check=True)
    try:
        conn = socket.create_connection(("127.0.0.1", fwd.local_port), timeout=GUARD)
        conn.sendall(b"GET / HTTP/1.1\r\n")  # an unfinished request keeps the tunnel open
        wait_until(lambda: [p for p in ssh_children() if p.pid not in before], "an ssh process")
        tunnels = [p for p in ssh_children() if p.pid not in before]
    finally:
        fwd.close()
    with conn:
        assert conn.recv(1024) == b""  # the local connection is closed too
    assert not [p for p in tunnels if p.is_running()]  # ended and reaped by close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", fwd.local_port), timeout=GUARD).close()


def test_nothing_listening_closes_the_connection(
    client: neuro_sync.Client, sleeper: JobDescription
) -> None:
    with client.jobs.port_forward(sleeper.id, 0, free_port(), no_key_check=True) as fwd:
        with socket.create_connection(("127.0.0.1", fwd.local_port), timeout=GUARD) as conn:
            conn.sendall(b"hello?")
            assert conn.recv(1024) == b""


def test_not_running(client: neuro_sync.Client, finished_job: JobDescription) -> None:
    with pytest.raises(neuro_sync.JobNotRunning):
        client.jobs.port_forward(finished_job.id, 0, 80, no_key_check=True)


def test_unknown_job(client: neuro_sync.Client) -> None:
    with pytest.raises(neuro_sync.JobNotFound):
        client.jobs.port_forward(f"job-{uuid.uuid4()}", 0, 80, no_key_check=True)


def test_another_users_job(platform: LocalPlatform, sleeper: JobDescription) -> None:
    with neuro_sync.Client(platform.url, platform.issue_token("mallory")) as mallory:
        with pytest.raises(neuro_sync.AuthorizationError):
            mallory.jobs.port_forward(sleeper.id, 0, 80, no_key_check=True)


@pytest.mark.parametrize(
    ("local", "remote"), [(-1, 80), (65536, 80), (0, 0), (0, 65536), (0, True)]
)
def test_bad_ports(
    client: neuro_sync.Client, sleeper: JobDescription, local: int, remote: int
) -> None:
    with pytest.raises(neuro_sync.ValidationError):
        client.jobs.port_forward(sleeper.id, local, remote, no_key_check=True)
