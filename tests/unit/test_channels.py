"""exec/attach/port_forward framing (2022 dialect) against a tiny aiohttp WebSocket server on
127.0.0.1; the job's status comes from `responses`.

Each job id selects a server behaviour: output then an exit code, a close without an exit code,
a malformed exit frame, a handshake refusal, raw port-forward bytes.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses
from aiohttp import WSMsgType, web
from yarl import URL

import neuro_sync
from neuro_sync import (
    APIConnectionError,
    ExecResult,
    JobNotRunning,
    ResponseValidationError,
    StreamInterrupted,
    ValidationError,
)
from tests.support.aiohttp_thread import served
from tests.support.connect_proxy import connect_proxy
from tests.support.wire import monitoring_cluster

from .conftest import BASE, TOKEN

pytestmark = pytest.mark.sockets


@dataclass
class WSServer:
    url: str
    handshakes: list[dict[str, str]] = field(default_factory=list)
    refuse_forwards: int = 0  # refuse this many port-forward handshakes (400) first


STATE = web.AppKey("state", WSServer)


async def _exec(request: web.Request) -> web.StreamResponse:
    server = request.app[STATE]
    job_id = request.match_info["id"]
    server.handshakes.append({"path": request.path_qs, **dict(request.headers)})
    if job_id == "job-refused":
        body = json.dumps({"error": "Job is not running. Job Id = job-refused"})
        return web.Response(status=400, text=body, headers={"X-Error": body})
    ws = web.WebSocketResponse(protocols=("v2.channels.neu.ro",))
    await ws.prepare(request)
    if job_id == "job-ok":
        await ws.send_bytes(b"\x01out")
        await ws.send_bytes(b"\x02err")
        await ws.send_str("text frames carry nothing")
        await ws.send_bytes(b"\x03" + json.dumps({"exit_code": 3}).encode())
    elif job_id == "job-garbage":
        await ws.send_bytes(b"\x03not json")
    # "job-noexit": output, then a close without an exit code.
    else:
        await ws.send_bytes(b"\x01partial")
    await ws.close()
    return ws


async def _forward(request: web.Request) -> web.StreamResponse:
    server = request.app[STATE]
    server.handshakes.append({"path": request.path_qs, **dict(request.headers)})
    if server.refuse_forwards > 0:
        server.refuse_forwards -= 1
        body = json.dumps({"error": "cannot connect to port 8080: Connection refused"})
        return web.Response(status=400, text=body, headers={"X-Error": body})
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:  # raw bytes, no channel byte: answered upper-cased
        if msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data.upper())
    return ws


@pytest.fixture(scope="module")
def ws_server() -> Iterator[WSServer]:
    app = web.Application()
    app.router.add_get("/api/v1/jobs/{id}/exec", _exec)
    app.router.add_get("/api/v1/jobs/{id}/attach", _exec)
    app.router.add_get("/api/v1/jobs/{id}/port_forward/{port}", _forward)
    state = WSServer(url="")
    app[STATE] = state
    with served(app) as url:
        state.url = f"{url}/api/v1/jobs"
        yield state


@pytest.fixture
def client22(
    ws_server: WSServer, mocked: responses.RequestsMock, job_factory: Any
) -> Iterator[neuro_sync.Client]:
    ws_server.handshakes.clear()
    mocked.assert_all_requests_are_fired = False

    def status(request: Any) -> tuple[int, dict[str, str], str]:
        job_id = request.url.rsplit("/", 1)[1]
        state = "succeeded" if job_id == "job-done" else "running"
        return 200, {}, json.dumps(job_factory(id=job_id, status=state))

    pattern = re.compile(rf"{re.escape(BASE)}/jobs/job-[a-z-]+$")
    mocked.add_callback(responses.GET, pattern, callback=status)
    with neuro_sync.Client(
        BASE,
        TOKEN,
        timeout=(2, 2),
        cluster_config=monitoring_cluster(ws_server.url),
        dialect="2022",
    ) as c:
        yield c


def test_exec_frames(client22: neuro_sync.Client, ws_server: WSServer) -> None:
    result = client22.jobs.exec("job-ok", ["sh", "-c", "echo a b"], capture_output=True)
    assert result == ExecResult(3, b"out", b"err")
    (handshake,) = ws_server.handshakes
    path = URL(handshake["path"])
    assert path.path == "/api/v1/jobs/job-ok/exec"
    assert dict(path.query) == {
        "cmd": "sh -c 'echo a b'", "tty": "0", "stdin": "0", "stdout": "1", "stderr": "1"
    }  # fmt: skip
    assert handshake["Authorization"] == f"Bearer {TOKEN}"
    assert "Sec-WebSocket-Protocol" not in handshake  # as neuro-sdk: none for exec


def test_exec_writes_text_where_stdout_is_redirected(
    client22: neuro_sync.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    assert client22.jobs.exec("job-ok", ["true"]) == 3
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("out", "err")


def test_exec_without_an_exit_code_is_interrupted(client22: neuro_sync.Client) -> None:
    with pytest.raises(StreamInterrupted, match="without an exit code"):
        client22.jobs.exec("job-noexit", ["true"], capture_output=True)


def test_exec_malformed_exit_frame(client22: neuro_sync.Client) -> None:
    with pytest.raises(ResponseValidationError, match="Malformed exit code"):
        client22.jobs.exec("job-garbage", ["true"], capture_output=True)


def test_exec_handshake_refusal_is_typed(client22: neuro_sync.Client) -> None:
    with pytest.raises(neuro_sync.ClientError) as info:
        client22.jobs.exec("job-refused", ["true"], capture_output=True)
    assert TOKEN not in str(info.value)


def test_exec_of_a_finished_job(client22: neuro_sync.Client, ws_server: WSServer) -> None:
    with pytest.raises(JobNotRunning):
        client22.jobs.exec("job-done", ["true"], capture_output=True)
    assert ws_server.handshakes == []


def test_attach_frames(client22: neuro_sync.Client, ws_server: WSServer) -> None:
    assert client22.jobs.attach("job-ok", capture_output=True) == ExecResult(3, b"out", b"err")
    (handshake,) = ws_server.handshakes
    path = URL(handshake["path"])
    assert path.path == "/api/v1/jobs/job-ok/attach"
    assert dict(path.query) == {"tty": "0", "stdin": "0", "stdout": "1", "stderr": "1"}
    assert handshake["Sec-WebSocket-Protocol"] == "v2.channels.neu.ro"


def test_attach_and_port_forward_checks_before_sending(ws_server: WSServer) -> None:
    ws_server.handshakes.clear()
    with neuro_sync.Client(BASE, TOKEN, cluster_config=monitoring_cluster(ws_server.url)) as c:
        with pytest.raises(ValidationError, match="2022"):
            c.jobs.attach("job-ok")
    with neuro_sync.Client(
        BASE, TOKEN, cluster_config=monitoring_cluster(ws_server.url), dialect="2022"
    ) as c:
        with pytest.raises(ValidationError, match="job_port"):
            c.jobs.port_forward("job-ok", 0, 70000)
    assert ws_server.handshakes == []


def test_port_forward_raw_frames(client22: neuro_sync.Client, ws_server: WSServer) -> None:
    with client22.jobs.port_forward("job-ok", 0, 8080) as fwd:
        with socket.create_connection(("127.0.0.1", fwd.local_port), timeout=10) as conn:
            conn.sendall(b"hello")
            got = b""
            while len(got) < 5:
                chunk = conn.recv(100)
                assert chunk
                got += chunk
    assert got == b"HELLO"
    assert fwd.error is None
    assert URL(ws_server.handshakes[0]["path"]).path == "/api/v1/jobs/job-ok/port_forward/8080"


def _round_trip(port: int) -> bytes:
    """Send through the forward; what comes back (b"" when the forward closed it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"ping")
        got = b""
        while len(got) < 4:
            try:
                chunk = conn.recv(100)
            except ConnectionResetError:
                chunk = b""  # closed with "ping" unread
            if not chunk:
                break
            got += chunk
        return got


def test_port_forward_error_follows_the_latest_connection(
    client22: neuro_sync.Client, ws_server: WSServer
) -> None:
    """`error` says whether forwarding works now: a refused connection sets it, a later one
    that gets through clears it, a later refusal sets it again."""
    ws_server.refuse_forwards = 1
    try:
        with client22.jobs.port_forward("job-ok", 0, 8080) as fwd:
            assert _round_trip(fwd.local_port) == b""
            first = fwd.error
            assert _round_trip(fwd.local_port) == b"PING"
            cleared = fwd.error
            ws_server.refuse_forwards = 1
            assert _round_trip(fwd.local_port) == b""
            again = fwd.error
    finally:
        ws_server.refuse_forwards = 0
    assert isinstance(first, neuro_sync.IllegalArgumentError) and "Connection refused" in str(first)
    assert cleared is None
    assert isinstance(again, neuro_sync.IllegalArgumentError)


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_websockets_go_through_the_http_proxy_of_the_environment(
    client22: neuro_sync.Client, ws_server: WSServer, no_proxy_env: pytest.MonkeyPatch
) -> None:
    with connect_proxy() as proxy:
        # Credentials in the proxy URL go as Basic Proxy-Authorization, percent-decoded.
        no_proxy_env.setenv("HTTP_PROXY", proxy.url.replace("//", "//u%40x:p%3Ass@"))
        result = client22.jobs.exec("job-ok", ["true"], capture_output=True)
        assert result == ExecResult(3, b"out", b"err")
        with client22.jobs.port_forward("job-ok", 0, 8080) as fwd:
            assert _round_trip(fwd.local_port) == b"PING"
    host_port = URL(ws_server.url).authority.encode()
    assert len(proxy.heads) == 2
    for head in proxy.heads:
        assert head.startswith(b"CONNECT " + host_port + b" HTTP/1.1\r\n")
        assert b"Proxy-Authorization: Basic dUB4OnA6c3M=\r\n" in head  # u@x:p:ss
        assert TOKEN.encode() not in head  # the bearer token only inside the tunnel


def test_no_proxy_leaves_the_websocket_direct(
    client22: neuro_sync.Client, no_proxy_env: pytest.MonkeyPatch
) -> None:
    with connect_proxy() as proxy:
        no_proxy_env.setenv("HTTP_PROXY", proxy.url)
        no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
        assert client22.jobs.exec("job-ok", ["true"], capture_output=True).returncode == 3
    assert proxy.heads == []


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", "refused the tunnel (407"),
        (b"SSH-2.0-nope\r\n\r\n", "not HTTP"),
        (b"", "closed the connection"),
    ],
)
def test_a_proxy_that_refuses_the_tunnel_is_a_typed_error(
    client22: neuro_sync.Client, no_proxy_env: pytest.MonkeyPatch, answer: bytes, message: str
) -> None:
    with connect_proxy(answer) as proxy:
        no_proxy_env.setenv("HTTP_PROXY", proxy.url.replace("//", "//user:hunter2@"))
        with pytest.raises(APIConnectionError, match=re.escape(message)) as info:
            client22.jobs.exec("job-ok", ["true"], capture_output=True)
    assert "hunter2" not in str(info.value) and TOKEN not in str(info.value)
    assert len(proxy.heads) == 1


def test_a_socks_proxy_is_refused_for_websockets_with_a_clear_error(
    client22: neuro_sync.Client, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", "socks5://user:hunter2@127.0.0.1:1")
    with pytest.raises(APIConnectionError, match="only go through an http:// proxy") as info:
        client22.jobs.exec("job-ok", ["true"], capture_output=True)
    assert "hunter2" not in str(info.value)
