"""`jobs.top` against a tiny aiohttp WebSocket server on 127.0.0.1 (docs/protocol.md §3.2).

Each job id selects a server behaviour: frames then close, handshake errors, an immediate close
(no frames: the job is not running), malformed frames, a dropped connection.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets.sync.client
from aiohttp import web
from websockets.protocol import State

import neuro_sync
from neuro_sync import (
    AuthenticationError,
    AuthorizationError,
    JobNotFound,
    JobNotRunning,
    JobTelemetry,
    ResponseValidationError,
    ServerError,
    StreamInterrupted,
)
from tests.support.aiohttp_thread import served
from tests.support.wire import monitoring_cluster

from .conftest import BASE, TOKEN

# A WebSocket server on 127.0.0.1 (aiohttp, in a thread).
pytestmark = pytest.mark.sockets

FRAMES = [
    {"cpu": 0.25, "memory": 120.5, "timestamp": 1565950272.5},
    {"cpu": 1.0, "memory": 256.0, "timestamp": 1565950273.5},
]
GPU_FRAME = {
    "cpu": 3.5,
    "memory": 1024.0,
    "timestamp": 1565950274.0,
    "gpu_duty_cycle": 87,
    "gpu_memory": 2048.5,
}


@dataclass
class WSServer:
    url: str
    handshakes: list[dict[str, str]] = field(default_factory=list)


STATE = web.AppKey("state", WSServer)


async def _top(request: web.Request) -> web.StreamResponse:
    server = request.app[STATE]
    job_id = request.match_info["id"]
    server.handshakes.append({"path": request.path, **dict(request.headers)})
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.Response(status=401, text="401: Unauthorized")
    if job_id == "job-missing":
        # monitoring nests platform-api's error body (docs/protocol.md §3.1)
        return web.json_response(
            {"error": json.dumps({"error": "no such job job-missing"})}, status=400
        )
    if job_id == "job-forbidden":
        return web.Response(status=403, text="403: Forbidden")
    if job_id == "job-broken":
        return web.json_response({"error": "Unexpected exception: boom"}, status=500)
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    if job_id == "job-running":
        for frame in FRAMES:
            await ws.send_str(json.dumps(frame))
        await ws.send_bytes(b"\x00binary frames are ignored")
    elif job_id == "job-gpu":
        await ws.send_str(json.dumps(GPU_FRAME))
    elif job_id == "job-garbage":
        await ws.send_str("not json")
    elif job_id == "job-incomplete":
        await ws.send_str(json.dumps({"cpu": 1.0}))
    elif job_id == "job-drop":
        await ws.send_str(json.dumps(FRAMES[0]))
        await asyncio.sleep(0.05)
        assert request.transport is not None
        request.transport.abort()
        return ws
    elif job_id == "job-silent":
        await asyncio.sleep(0.5)
    # "job-finished" and everything else: close at once, no frames.
    await ws.close()
    return ws


@pytest.fixture(scope="module")
def ws_server() -> Iterator[WSServer]:
    app = web.Application()
    app.router.add_get("/api/v1/jobs/{id}/top", _top)
    state = WSServer(url="")
    app[STATE] = state
    with served(app) as url:
        state.url = f"{url}/api/v1/jobs"
        yield state


@pytest.fixture
def ws_client(ws_server: WSServer) -> Iterator[neuro_sync.Client]:
    ws_server.handshakes.clear()
    with neuro_sync.Client(
        BASE, TOKEN, timeout=(2, 2), cluster_config=monitoring_cluster(ws_server.url)
    ) as c:
        yield c


def test_top_yields_telemetry(ws_client: neuro_sync.Client, ws_server: WSServer) -> None:
    with ws_client.jobs.top("job-running") as stream:
        samples = list(stream)
    assert samples == [
        JobTelemetry(cpu=0.25, memory=120.5, timestamp=1565950272.5),
        JobTelemetry(cpu=1.0, memory=256.0, timestamp=1565950273.5),
    ]
    assert all(s.gpu_duty_cycle is None and s.gpu_memory is None for s in samples)
    (handshake,) = ws_server.handshakes
    assert handshake["path"] == "/api/v1/jobs/job-running/top"
    assert handshake["Authorization"] == f"Bearer {TOKEN}"
    assert handshake["Upgrade"].lower() == "websocket"


def test_top_gpu_fields(ws_client: neuro_sync.Client) -> None:
    with ws_client.jobs.top("job-gpu") as stream:
        assert list(stream) == [JobTelemetry(3.5, 1024.0, 1565950274.0, 87, 2048.5)]


def test_top_handshake_400_is_job_not_found(ws_client: neuro_sync.Client) -> None:
    with pytest.raises(JobNotFound) as info:
        ws_client.jobs.top("job-missing")
    err = info.value
    # The same status table as every HTTP reply: monitoring's nested 400 "no such job".
    assert str(err) == "no such job job-missing"
    assert (err.status, err.job_id) == (400, "job-missing")
    assert isinstance(err, ValueError)


def test_top_without_frames_is_job_not_running(ws_client: neuro_sync.Client) -> None:
    stream = ws_client.jobs.top("job-finished")
    with pytest.raises(JobNotRunning) as info:
        list(stream)
    assert str(info.value) == "Job is not running. Job Id = job-finished"
    assert isinstance(info.value, ValueError)
    assert repr(stream) == "<TelemetryStream job=job-finished open=False>"


@pytest.mark.parametrize(
    ("job_id", "cls", "message"),
    [
        ("job-forbidden", AuthorizationError, "403: Forbidden"),
        ("job-broken", ServerError, "Unexpected exception: boom"),
    ],
)
def test_top_other_handshake_errors(
    ws_client: neuro_sync.Client, job_id: str, cls: type[Exception], message: str
) -> None:
    with pytest.raises(cls) as info:
        ws_client.jobs.top(job_id)
    assert str(info.value) == message


def test_top_handshake_401(ws_server: WSServer, jwt: Any) -> None:
    other = jwt({"identity": "mallory"})
    with neuro_sync.Client(BASE, other, cluster_config=monitoring_cluster(ws_server.url)) as c:
        with pytest.raises(AuthenticationError) as info:
            c.jobs.top("job-running")
    assert str(info.value) == "401: Unauthorized"
    assert other not in str(info.value)


@pytest.mark.parametrize(
    ("job_id", "message"),
    [
        ("job-garbage", "Malformed telemetry frame: not JSON"),
        ("job-incomplete", "Malformed telemetry frame: missing field 'memory'"),
    ],
)
def test_top_malformed_frames(ws_client: neuro_sync.Client, job_id: str, message: str) -> None:
    with ws_client.jobs.top(job_id) as stream:
        with pytest.raises(ResponseValidationError) as info:
            list(stream)
    assert str(info.value) == message


def test_top_dropped_connection(ws_client: neuro_sync.Client) -> None:
    received: list[JobTelemetry] = []
    with ws_client.jobs.top("job-drop") as stream:
        with pytest.raises(StreamInterrupted):
            for sample in stream:
                received.append(sample)
    assert received == [JobTelemetry(0.25, 120.5, 1565950272.5)]


def test_top_read_timeout(ws_server: WSServer) -> None:
    with neuro_sync.Client(
        BASE, TOKEN, timeout=(2, 0.2), cluster_config=monitoring_cluster(ws_server.url)
    ) as c:
        with c.jobs.top("job-silent") as stream:
            with pytest.raises(neuro_sync.APITimeoutError) as info:
                list(stream)
    assert str(info.value) == "No telemetry for job job-silent within the read timeout"


def test_top_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}/api/v1/jobs"
    with neuro_sync.Client(BASE, TOKEN, cluster_config=monitoring_cluster(url)) as c:
        with pytest.raises(neuro_sync.APIConnectionError) as info:
            c.jobs.top("job-running")
    assert str(info.value).startswith("Telemetry connection for job job-running failed:")
    assert TOKEN not in str(info.value)


def test_closed_stream_cannot_be_iterated(ws_client: neuro_sync.Client) -> None:
    stream = ws_client.jobs.top("job-running")
    stream.close()
    with pytest.raises(ValueError, match="closed telemetry stream"):
        list(stream)


def test_top_releases_the_socket_after_the_server_closes(
    ws_client: neuro_sync.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[tuple[Any, socket.socket]] = []
    real = websockets.sync.client.connect

    def spy(*args: Any, **kwargs: Any) -> Any:
        ws = real(*args, **kwargs)
        created.append((ws, kwargs["sock"]))
        return ws

    monkeypatch.setattr(websockets.sync.client, "connect", spy)
    with ws_client.jobs.top("job-running") as stream:
        assert len(list(stream)) == 2
    ((ws, sock),) = created
    try:
        assert ws.state is State.CLOSED
        assert sock.fileno() == -1  # closed
    finally:
        sock.close()
