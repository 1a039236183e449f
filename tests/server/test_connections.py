"""Bounded connections: a crowd of idle or half-sent connections without a token, or a
thousand pending http jobs, cannot keep an authenticated user out, with the platform's
open-files limit at 1024 (the common default); a half-sent request is closed after the
header timeout.

The platform runs as `neuro-sync-local` in a subprocess whose RLIMIT_NOFILE is 1024, soft and
hard (so the raise at start cannot lift it). Every crowd is bounded in count, every wait in
time.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from yarl import URL

from neuro_sync.local import LocalPlatform
from neuro_sync.local.auth import issue_token, load_secret
from neuro_sync.local.connections import default_max_connections, limits

from .helpers import HUGE_MEMORY_MB, Api, job_body, sh, wait_for
from .test_http_url import ECHO_PY, answered, free_port, http_job

pytestmark = pytest.mark.slow

PLATFORM_NOFILE = 1024
CROWD = 1200  # more than the platform has descriptors
CROWD_TIME = 30.0  # seconds at most to open a crowd
PENDING_JOBS = 1000
HALF_SENT = b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\n"  # no blank line: the head never ends


@dataclass
class Limited:
    proc: subprocess.Popen[bytes]
    api: Api
    data_dir: Path


def _lower_nofile() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (PLATFORM_NOFILE, PLATFORM_NOFILE))


@pytest.fixture(scope="module")
def crowd_room() -> None:
    """The test process needs room for the crowd's sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = CROWD + 512
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"the open-files hard limit ({hard}) is below {need}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, crowd_room: None) -> Iterator[Limited]:
    data_dir = tmp_path_factory.mktemp("limited")
    config = data_dir / "client.nmrc"
    with open(data_dir.parent / f"{data_dir.name}.stderr", "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "neuro_sync.local", "serve", "--data-dir", str(data_dir)]
            + ["--port", "0", "--runtime", "process"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=_lower_nofile,
        )
    try:
        wait_for(lambda: config.exists() or proc.poll() is not None, "the platform to start")
        assert proc.poll() is None, "the platform exited"
        nmrc = yaml.safe_load(config.read_text())
        api = Api(nmrc["url"], nmrc["auth_token"]["token"], "user")
        yield Limited(proc, api, data_dir)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def crowd(host: str, port: int, count: int = CROWD) -> Iterator[list[socket.socket]]:
    """`count` connections without a token: half idle, half with a request head half sent."""
    socks: list[socket.socket] = []
    deadline = time.monotonic() + CROWD_TIME
    try:
        for i in range(count):
            if time.monotonic() > deadline:  # a platform that stopped accepting: enough
                break
            sock = socket.socket()
            sock.settimeout(2)
            try:
                sock.connect((host, port))
                if i % 2:
                    sock.sendall(HALF_SENT)
            except OSError:  # the platform already closed it (evicted): fine
                sock.close()
                continue
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


@dataclass
class PortState:
    held: int  # connections the process holds a descriptor of
    waiting: int  # connections not accepted yet: in the accept queue or in SYN-RECV


def port_state(pid: int, port: int) -> PortState:
    """What the process `pid` holds on its listening `port`, and what still waits there.

    Counted at the platform, because a client cannot tell: a connection whose handshake the
    client saw complete may still wait in the server's accept queue (or, with that queue
    full, in SYN-RECV) and look open to the client while the server holds nothing of it."""
    inodes: set[str] = set()
    waiting = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            next(f)  # the header
            for line in f:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) != port:
                    continue
                state = fields[3]
                if state == "0A":  # LISTEN: its rx_queue is the accept queue's length
                    waiting += int(fields[4].split(":")[1], 16)
                elif state == "03":  # SYN-RECV
                    waiting += 1
                else:
                    inodes.add(fields[9])
    held = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            held += target.startswith("socket:[") and target[8:-1] in inodes
    return PortState(held, waiting)


def assert_platform_holds_its_limit(limited: Limited, port: int, kind: str) -> None:
    """Once every connection of the crowd has reached the platform (none waits to be
    accepted) and its evictions are done (an evicted socket is closed on the next turn of
    its loop), the platform holds some of them (the count sees them) and no more than its
    kind of listener allows from one address (the whole crowd is on 127.0.0.1)."""
    limit = limits(kind, default_max_connections(kind, PLATFORM_NOFILE)).per_address
    deadline = time.monotonic() + 60  # a SYN-RECV waits for retransmitted SYN-ACKs
    while (state := port_state(limited.proc.pid, port)).waiting and time.monotonic() < deadline:
        time.sleep(0.1)
    assert state.waiting == 0
    deadline = time.monotonic() + 2  # well below the header timeout, which would also do it
    while (state := port_state(limited.proc.pid, port)).held > limit:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert 0 < state.held <= limit


def api_address(api: Api) -> tuple[str, int]:
    url = URL(api.url)
    assert url.host is not None and url.port is not None
    return url.host, url.port


def test_a_crowd_of_idle_and_half_sent_connections_does_not_stop_list(limited: Limited) -> None:
    """1200 connections without a token against an API whose process may open 1024 files:
    the user's list still answers, and the platform holds no more of them than its limit."""
    assert limited.api.jobs() == []
    with crowd(*api_address(limited.api)):
        assert len(limited.api.jobs()) == 0  # a new connection (a new Session): answered
        fresh = Api(limited.api.url, limited.api.token, limited.api.user)
        assert fresh.jobs() == []
        assert_platform_holds_its_limit(limited, api_address(limited.api)[1], "api")
    assert limited.proc.poll() is None


def test_a_thousand_pending_http_jobs_hold_no_descriptors(limited: Limited) -> None:
    # A user of their own: the jobs stay pending until the platform stops.
    api = Api(limited.api.url, issue_token(load_secret(limited.data_dir), "pender"), "pender")
    body = job_body("sleep 60")
    body["container"]["resources"]["memory_mb"] = HUGE_MEMORY_MB  # never fits: stays pending
    body["container"]["http"] = {"port": 80}
    for _ in range(PENDING_JOBS):
        api.create(body)
    fds = len(os.listdir(f"/proc/{limited.proc.pid}/fd"))
    assert fds < PENDING_JOBS
    # A job that runs is served all the same (another user's: this one is at its quota).
    job = echo(limited.api)
    try:
        assert answered(str(job["http_url"])).status_code == 200
    finally:
        limited.api.kill(str(job["id"]))
    assert len(api.jobs(status="pending")) == PENDING_JOBS


def echo(api: Api) -> dict[str, object]:
    port = free_port()
    body = sh(f'exec python3 -c "$ECHO" {port}')
    body["container"]["env"] = {"ECHO": ECHO_PY}
    return http_job(api, body, port, requires_auth=False)


def test_a_crowd_at_a_jobs_address_does_not_stop_its_owner(limited: Limited) -> None:
    job = echo(limited.api)
    url = URL(str(job["http_url"]))
    assert url.host is not None and url.port is not None
    try:
        assert answered(str(url)).status_code == 200
        with crowd(url.host, url.port):
            assert requests.get(str(url), timeout=30).status_code == 200
            assert_platform_holds_its_limit(limited, url.port, "proxy")
    finally:
        limited.api.kill(str(job["id"]))


def test_a_crowd_at_the_ssh_gateway_does_not_stop_a_new_connection(limited: Limited) -> None:
    running = http_job(limited.api, job_body("sleep 60"), free_port(), requires_auth=False)
    ssh = URL(running["ssh_server"])  # ssh://nobody@127.0.0.1:<port>
    host, port = str(ssh.host), int(ssh.port or 0)
    try:
        with crowd(host, port):
            with socket.create_connection((host, port), timeout=30) as sock:
                assert sock.recv(64).startswith(b"SSH-2.0-")  # served: the banner comes
            assert_platform_holds_its_limit(limited, port, "ssh")
    finally:
        limited.api.kill(running["id"])


def closed_by_server(sock: socket.socket) -> bool:
    """Read until the server closes (EOF or a reset); the socket's timeout bounds the wait."""
    try:
        while sock.recv(1 << 16):  # an SSH banner first, say
            pass
    except ConnectionResetError:
        pass
    return True


def test_half_sent_and_idle_connections_are_closed_after_their_timeout(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path / "data", header_timeout=0.5, idle_timeout=0.5) as platform:
        api = Api(platform.url, platform.token, platform.user)
        host, port = api_address(api)
        with socket.create_connection((host, port), timeout=10) as half:
            half.sendall(HALF_SENT)
            assert closed_by_server(half)  # well before this socket's 10 s timeout
        with socket.create_connection((host, port), timeout=10) as idle:
            idle.sendall(b"GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n")
            assert idle.recv(1 << 16).startswith(b"HTTP/1.1 200")  # kept alive, then idle
            assert closed_by_server(idle)
        running = http_job(api, job_body("sleep 60"), free_port(), requires_auth=False)
        ssh = URL(running["ssh_server"])
        with socket.create_connection((str(ssh.host), int(ssh.port or 0)), timeout=10) as quiet:
            assert closed_by_server(quiet)  # no SSH handshake from the client
        api.kill(running["id"])
