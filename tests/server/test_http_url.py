"""A job's `http_url` is served: a reverse proxy on a loopback address of the job's own,
reaching the job's HTTP port, open or behind the platform token, listening only while the job
runs; a cookie of one job's address is not sent to another's; a port another job took is
not served."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import requests
from yarl import URL

from neuro_sync.local import LocalPlatform

from .helpers import HUGE_MEMORY_MB, Api, job_body, sh, wait_for

# Answers a GET with the request's headers as JSON (a large body at /big), a POST with
# the size of the body it received.
ECHO_PY = """
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"x" * 3_000_000 if self.path == "/big" else json.dumps(
            {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        size = int(self.headers["Content-Length"])
        body = str(len(self.rfile.read(size))).encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_job(api: Api, body: dict[str, Any], port: int, requires_auth: bool) -> dict[str, Any]:
    body["container"]["http"] = {"port": port, "requires_auth": requires_auth}
    job = api.create(body)
    wait_for(lambda: api.job(job["id"])["status"] == "running", "the job to run")
    return job


def echo_job(api: Api, requires_auth: bool) -> dict[str, Any]:
    port = free_port()
    body = sh(f'exec python3 -c "$ECHO" {port}')
    body["container"]["env"] = {"ECHO": ECHO_PY}
    return http_job(api, body, port, requires_auth)


def answered(
    url: str, get: Callable[..., requests.Response] = requests.get, **kwargs: Any
) -> requests.Response:
    """The first answer that is not the proxy's 502 (the job's server is starting), once
    the address listens (shortly after the job runs)."""
    reply: list[requests.Response] = []

    def up() -> bool:
        try:
            response = get(url, timeout=10, **kwargs)
        except requests.ConnectionError:
            return False
        reply[:] = [response]
        return response.status_code != 502

    wait_for(up, f"{url} to answer")
    return reply[0]


def refused(url: str) -> bool:
    try:
        requests.get(url, timeout=10)
    except requests.ConnectionError:
        return True
    return False


def test_http_url_serves_the_jobs_port(fresh: Api) -> None:
    port = free_port()
    job = http_job(
        fresh,
        sh(f"echo hello > index.txt && exec python3 -m http.server --bind 127.0.0.1 {port}"),
        port,
        requires_auth=False,
    )
    url = job["http_url"]
    host = URL(url).host
    assert host is not None and host.startswith("127.") and not host.startswith("127.0.")
    try:
        reply = answered(f"{url}/index.txt")
        assert reply.status_code == 200
        assert reply.text == "hello\n"
        assert requests.get(f"{url}/missing", timeout=10).status_code == 404
    finally:
        fresh.kill(job["id"])
    wait_for(lambda: refused(url), "the job's address to refuse connections")


def test_requests_and_replies_pass_through(fresh: Api) -> None:
    job = echo_job(fresh, requires_auth=False)
    url = job["http_url"]
    try:
        echoed = answered(f"{url}/a%2Fb/c?q=1&r=%20", headers={"X-Custom": "v"}).json()
        assert echoed["path"] == "/a%2Fb/c?q=1&r=%20"
        assert echoed["headers"]["x-custom"] == "v"
        # Host as the client sent it; an open job's own Authorization header reaches it.
        assert echoed["headers"]["host"] == url.split("://", 1)[1]
        mine = requests.get(url, headers={"Authorization": "Basic abc"}, timeout=10).json()
        assert mine["headers"]["authorization"] == "Basic abc"
        big = requests.get(f"{url}/big", timeout=30)
        assert big.status_code == 200 and big.content == b"x" * 3_000_000
        huge = requests.get(url, headers={"X-Huge": "h" * 10_000}, timeout=10)
        assert huge.status_code in (400, 431)  # header fields are capped at 8 KiB
        posted = requests.post(url, data=b"y" * 2_000_000, timeout=30)
        assert (posted.status_code, posted.text) == (201, "2000000")
    finally:
        fresh.kill(job["id"])


def test_requires_auth_demands_the_owners_token(fresh: Api, other: Api) -> None:
    job = echo_job(fresh, requires_auth=True)
    url = job["http_url"]
    try:
        assert requests.get(url, timeout=10).status_code == 401
        bad = requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=10)
        assert bad.status_code == 401
        assert requests.get(url, headers=other.auth, timeout=10).status_code == 403
        reply = answered(url, headers=fresh.auth)
        assert reply.status_code == 200
        # The platform token is not handed to the job's server.
        assert "authorization" not in reply.json()["headers"]
        assert fresh.token not in reply.text
    finally:
        fresh.kill(job["id"])
    wait_for(lambda: refused(url), "the job's address to refuse connections")


def listening(url: str) -> bool:
    return not refused(url)


def test_a_job_not_listening_is_a_bad_gateway_and_a_pending_one_refuses(fresh: Api) -> None:
    idle = http_job(fresh, job_body("sleep 60"), free_port(), requires_auth=False)
    waiting = job_body("sleep 60")
    waiting["container"]["resources"]["memory_mb"] = HUGE_MEMORY_MB
    waiting["container"]["http"] = {"port": 80}
    pending = fresh.create(waiting)
    try:
        wait_for(lambda: listening(idle["http_url"]), "the running job's address to listen")
        assert requests.get(idle["http_url"], timeout=10).status_code == 502
        # A pending job holds no listener: its address refuses connections.
        assert refused(pending["http_url"])
    finally:
        fresh.kill(idle["id"])
        fresh.kill(pending["id"])
    wait_for(lambda: refused(idle["http_url"]), "the idle job's address to close")
    wait_for(lambda: refused(pending["http_url"]), "the pending job's address to close")


def test_a_job_that_exits_closes_its_address(fresh: Api) -> None:
    body = job_body("true")
    body["container"]["http"] = {"port": 80}
    job = fresh.create(body)
    wait_for(lambda: fresh.job(job["id"])["status"] == "succeeded", "the job to end")
    wait_for(lambda: refused(job["http_url"]), "the job's address to refuse connections")


def test_platform_stop_closes_every_address_and_a_restart_reopens(tmp_path: Path) -> None:
    waiting = job_body("sleep 60")
    waiting["container"]["resources"]["memory_mb"] = HUGE_MEMORY_MB
    waiting["container"]["http"] = {"port": 80}
    with LocalPlatform(tmp_path / "data") as platform:
        api = Api(platform.url, platform.token, platform.user)
        job = http_job(api, job_body("sleep 60"), free_port(), requires_auth=False)
        pending = api.create(waiting)
        # Listening (502: nothing in the job answers).
        wait_for(lambda: listening(job["http_url"]), "the running job's address to listen")
    assert refused(job["http_url"]) and refused(pending["http_url"])
    with LocalPlatform(tmp_path / "data") as platform:
        api = Api(platform.url, platform.token, platform.user)
        try:
            # Still to run: the same address, not listened on until the job runs.
            assert api.job(pending["id"])["http_url"] == pending["http_url"]
            assert refused(pending["http_url"])
            # Lost in the restart (failed): no listener.
            assert api.job(job["id"])["status"] == "failed"
            assert refused(job["http_url"])
        finally:
            api.kill(pending["id"])


@pytest.mark.parametrize("named", [False, True])
def test_the_named_url_is_the_jobs_address(fresh: Api, named: bool) -> None:
    body = job_body("true", **({"name": f"web-{fresh.user}"} if named else {}))
    body["container"]["http"] = {"port": 80}
    job = fresh.create(body)
    if named:
        assert job["http_url_named"] == job["http_url"]
    else:
        assert "http_url_named" not in job
    assert fresh.job(job["id"])["http_url"] == job["http_url"]


# Sets a cookie at /set; answers any other path with the Cookie header it received.
COOKIE_PY = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = (self.headers.get("Cookie") or "").encode()
        self.send_response(200)
        if self.path == "/set":
            self.send_header("Set-Cookie", "session=" + sys.argv[2] + "; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def cookie_job(api: Api) -> dict[str, Any]:
    port = free_port()
    body = sh(f'exec python3 -c "$COOKIE" {port} {api.user}')
    body["container"]["env"] = {"COOKIE": COOKIE_PY}
    return http_job(api, body, port, requires_auth=False)


def test_a_cookie_of_one_jobs_address_is_not_sent_to_anothers(fresh: Api, other: Api) -> None:
    alice, bob = cookie_job(fresh), cookie_job(other)
    try:
        browser = requests.Session()  # a real cookie jar (RFC 6265 host rules)
        assert answered(f"{alice['http_url']}/set", get=browser.get).status_code == 200
        assert browser.cookies.get("session") == fresh.user
        # The jar sends alice's cookie back to her job, and not to bob's.
        assert browser.get(f"{alice['http_url']}/echo", timeout=10).text == (
            f"session={fresh.user}"
        )
        assert answered(f"{bob['http_url']}/echo", get=browser.get).text == ""
        assert URL(alice["http_url"]).host != URL(bob["http_url"]).host
    finally:
        fresh.kill(alice["id"])
        other.kill(bob["id"])


def test_a_port_another_users_job_took_is_not_served(fresh: Api, other: Api) -> None:
    """Alice's job declares a port and does not listen; bob's job listens on that port (the
    process runtime shares the host's network). Alice's address must not serve bob's server."""
    port = free_port()
    alice = http_job(fresh, job_body("sleep 60"), port, requires_auth=True)
    body = sh(f'exec python3 -c "$ECHO" {port}')
    body["container"]["env"] = {"ECHO": ECHO_PY}
    bob = http_job(other, body, port, requires_auth=True)
    try:
        # Bob's own address serves his server: it is up.
        assert answered(bob["http_url"], headers=other.auth).status_code == 200
        wait_for(lambda: listening(alice["http_url"]), "alice's address to listen")
        reply = requests.get(alice["http_url"], headers=fresh.auth, timeout=10)
        assert reply.status_code == 502
        assert "path" not in reply.text  # nothing of bob's server's reply
        # Nor does `port_forward` through the SSH gateway reach it from alice's job.
        status, out, err = forward(fresh, alice, port)
        assert (status, out) == (255, b"") and b"not the job's" in err
        status, out, _ = forward(other, bob, port)
        assert out.startswith(b"HTTP/1.0 200"), (status, out)
    finally:
        fresh.kill(alice["id"])
        other.kill(bob["id"])


def forward(api: Api, job: dict[str, Any], port: int) -> tuple[int | None, bytes, bytes]:
    """One `GET /` through the SSH gateway's `job_port_forward`: (exit status, out, err)."""
    ssh = URL(job["ssh_server"])
    command = {
        "method": "job_port_forward",
        "token": api.token,
        "params": {"job": job["id"], "port": port},
    }

    async def run() -> tuple[int | None, bytes, bytes]:
        async with asyncssh.connect(
            str(ssh.host), ssh.port, username="nobody", known_hosts=None
        ) as conn:
            done = await conn.run(
                json.dumps(command), input=b"GET / HTTP/1.0\r\n\r\n", encoding=None, timeout=30
            )
        out, err = done.stdout or b"", done.stderr or b""
        assert isinstance(out, bytes) and isinstance(err, bytes)
        return done.exit_status, out, err

    return asyncio.run(run())
