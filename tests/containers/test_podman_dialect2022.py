"""The 2022 dialect on the podman runtime: restart policies, the working directory, exec and
port forwarding over WebSockets, with plain `requests` and `websocket-client`."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from neuro_sync import Factory
from neuro_sync.local import LocalPlatform
from tests.support.cli_terminal import CliTerminal

from ..server.helpers import Api, channel_exit_code, channel_output_until, unique_user, wait_for
from .conftest import podman_platform

pytestmark = [pytest.mark.integration, pytest.mark.podman]

FINISHED = ("succeeded", "failed", "cancelled")
GUARD = 60.0  # seconds: a hang guard, never an expectation


@pytest.fixture(scope="module")
def platform22(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    lp = podman_platform(tmp_path_factory.mktemp("podman-2022"), dialect="2022")
    try:
        yield lp
    finally:
        lp.stop()


@pytest.fixture
def api(platform22: LocalPlatform) -> Api:
    user = unique_user()
    return Api(platform22.url, platform22.issue_token(user), user)


def _busybox(command: str, **top: object) -> dict[str, object]:
    body: dict[str, object] = {
        "container": {
            "image": "busybox",
            "command": command,
            "resources": {"cpu": 0.1, "memory_mb": 32},
        }
    }
    body.update(top)
    return body


def _recv(ws: websocket.WebSocket) -> bytes:
    """The next frame's payload (b"" once the server has closed)."""
    frame = ws.recv()
    return frame if isinstance(frame, bytes) else frame.encode()


def _ws(api: Api, path: str) -> websocket.WebSocket:
    url = api.url.replace("http://", "ws://", 1) + path
    return websocket.create_connection(
        url, header=[f"Authorization: Bearer {api.token}"], timeout=GUARD
    )


def test_restart_policy_restarts_the_container(api: Api) -> None:
    job = api.create(_busybox("sh -c 'echo attempt; exit 4'", restart_policy="on-failure"))

    def restarted_twice() -> bool:
        return int(api.job(job["id"])["history"]["restarts"]) >= 2

    wait_for(restarted_twice, "two restarts", timeout=GUARD)
    api.kill(job["id"])
    done = api.wait(job["id"], FINISHED, timeout=GUARD)
    assert done["status"] == "cancelled"
    assert api.get(f"/jobs/{job['id']}/log").text.count("attempt\n") >= 2


def test_working_dir(api: Api) -> None:
    body = _busybox("pwd")
    body["container"]["working_dir"] = "/etc"  # type: ignore[index]
    job = api.create(body)
    api.wait(job["id"], FINISHED, timeout=GUARD)
    assert api.get(f"/jobs/{job['id']}/log").text == "/etc\n"


def test_exec_and_port_forward_over_websockets(api: Api) -> None:
    serve = "mkdir /www; echo hi-httpd > /www/index.html; httpd -f -p 127.0.0.1:8000 -h /www"
    job = api.create(_busybox(f"sh -c '{serve}'"))
    api.wait(job["id"], ("running",), timeout=GUARD)
    ws = _ws(api, f"/jobs/{job['id']}/exec?cmd=cat%20/www/index.html&stdout=1&stderr=1")
    frames = []
    while frame := _recv(ws):
        frames.append(frame)
        if frame[:1] == b"\x03":
            break
    assert b"".join(f[1:] for f in frames if f[:1] == b"\x01") == b"hi-httpd\n"
    assert json.loads(frames[-1][1:]) == {"exit_code": 0}
    tty = _ws(
        api, f"/jobs/{job['id']}/exec?cmd=sh%20-c%20%22test%20-t%201%20%26%26%20echo%20tty%22&tty=1"
    )
    frames = []
    while frame := _recv(tty):
        frames.append(frame)
        if frame[:1] == b"\x03":
            break
    assert b"".join(f[1:] for f in frames if f[:1] == b"\x01").strip() == b"tty"

    def served() -> bool:  # until httpd listens, the handshake is refused
        try:
            conn = _ws(api, f"/jobs/{job['id']}/port_forward/8000")
        except websocket.WebSocketBadStatusException:
            return False
        conn.send_binary(b"GET /index.html HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := _recv(conn):
            reply += chunk
        return reply.endswith(b"hi-httpd\n")

    wait_for(served, "httpd through the WebSocket", timeout=GUARD)
    api.kill(job["id"])


def test_privileged(api: Api) -> None:
    # A privileged container has every capability; an ordinary one does not.
    effective = "sh -c 'grep CapEff /proc/self/status'"
    ordinary = api.create(_busybox(effective))
    privileged = api.create(_busybox(effective, privileged=True))
    logs = []
    for job in (ordinary, privileged):
        assert api.wait(job["id"], FINISHED, timeout=GUARD)["status"] == "succeeded"
        logs.append(int(api.get(f"/jobs/{job['id']}/log").text.split()[1], 16))
    assert logs[1] > logs[0]
    assert api.job(privileged["id"])["privileged"] is True


def test_attach_to_the_containers_terminal(platform22: LocalPlatform, api: Api) -> None:
    """`container.tty`: `podman run --tty --interactive` on the job's terminal; attached
    clients type into the container's console and size it; detaching ends nothing."""
    script = (
        "stty size; read line; echo got:$line; "
        'while [ "$(stty size)" != "40 120" ]; do sleep 0.05; done; echo resized; '
        "read again; exit 9"
    )
    body = _busybox(f"sh -c '{script}'")
    body["container"]["tty"] = True  # type: ignore[index]
    job = api.create(body)
    api.wait(job["id"], ("running",), timeout=GUARD)
    query = "attach?tty=1&stdin=1&stdout=1&stderr=1"
    first = _ws(api, f"/jobs/{job['id']}/{query}")
    first.send_binary(b"\x00hello\r")
    assert b"got:hello" in channel_output_until(first, b"got:hello")
    first.close()
    assert api.job(job["id"])["status"] == "running"
    name = unique_user()
    other = Api(api.url, platform22.issue_token(name), name)
    refused = other.get(f"/jobs/{job['id']}/{query}")
    assert refused.status_code in (403, 404)
    second = _ws(api, f"/jobs/{job['id']}/{query}")
    second.send_binary(b"\x04" + json.dumps({"height": 40, "width": 120}).encode())
    channel_output_until(second, b"resized")
    second.send_binary(b"\x00bye\r")
    assert channel_exit_code(second) == 9
    assert api.wait(job["id"], FINISHED, timeout=GUARD)["status"] == "failed"
    log = api.get(f"/jobs/{job['id']}/log").content
    assert b"got:hello" in log and b"resized" in log


def test_the_cli_attaches_to_the_containers_terminal_from_a_real_terminal(
    platform22: LocalPlatform, api: Api, tmp_path: Path
) -> None:
    """`neuro-sync attach` on a pseudo-terminal, to a container run with `tty`: typing
    reaches the container, its console takes our size and follows a SIGWINCH, the exit code
    is the container's, our terminal is restored."""
    script = (
        "read line; echo got:$line; stty size; "
        'while [ "$(stty size)" != "40 120" ]; do sleep 0.05; done; echo resized; '
        "read again; exit 9"
    )
    body = _busybox(f"sh -c '{script}'")
    body["container"]["tty"] = True  # type: ignore[index]
    job = api.create(body)
    api.wait(job["id"], ("running",), timeout=GUARD)
    config = tmp_path / "nmrc"
    # The test user's login, in the 2022 dialect, in a config file of the test's own.
    Factory(config).login_with_token(api.token, url=platform22.url, dialect="2022").close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO_SYNC_", "NEUROM"))}
    env |= {"HOME": str(tmp_path), "NEUROMATION_CONFIG": str(config)}
    term = CliTerminal(env, "attach", job["id"], rows=33, columns=111)
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


def test_pass_config_reaches_the_container(platform22: LocalPlatform, api: Api) -> None:
    job = api.create(_busybox("sh -c 'echo \"$NEURO_PASSED_CONFIG\"'", pass_config=True))
    assert api.wait(job["id"], FINISHED, timeout=GUARD)["status"] == "succeeded"
    passed = json.loads(base64.b64decode(api.get(f"/jobs/{job['id']}/log").text))
    assert (passed["cluster"], passed["url"]) == ("default", platform22.url)
    as_job = Api(platform22.url, passed["token"], api.user)  # a login of the job's owner
    assert as_job.job(job["id"])["pass_config"] is True
