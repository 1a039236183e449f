"""A hostile WebSocket server cannot make the client buffer without bound: a raw socket server
on 127.0.0.1 answers the handshake, then announces a 4 GiB message (one frame, or endless
continuation frames) and streams it. exec, attach, top and port forwarding all end with
`ReplyTooLarge`, having buffered at most about `MAX_MESSAGE` and cut the connection.

The bound is websockets' public `max_size`; the installed version is inside the declared range.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import json
import re
import socket
import struct
import threading
import tomllib
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import responses

import neuro_sync
from neuro_sync import ReplyTooLarge
from neuro_sync._streams import MAX_MESSAGE, open_websocket, ws_messages
from tests.support.wire import monitoring_cluster

from .conftest import BASE, TOKEN

pytestmark = pytest.mark.sockets

ROOT = Path(__file__).resolve().parents[2]
HUGE = 4 * 1024**3
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


@dataclass
class Hostile:
    url: str
    mode: str = "one-frame"  # or "fragments"
    sent: list[int] = field(default_factory=list)  # bytes of payload sent per connection
    threads: list[threading.Thread] = field(default_factory=list)


def _handshake(conn: socket.socket) -> str:
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            raise OSError("no handshake")
        request += chunk
    text = request.decode("latin-1")
    key = re.search(r"(?im)^sec-websocket-key:\s*(\S+)", text)
    assert key is not None
    # RFC 6455 fixes SHA-1 for the handshake; it protects nothing.
    digest = hashlib.sha1((key.group(1) + GUID).encode(), usedforsecurity=False).digest()
    accept = base64.b64encode(digest).decode()
    protocol = ""
    if re.search(r"(?im)^sec-websocket-protocol:", text):
        protocol = "Sec-WebSocket-Protocol: v2.channels.neu.ro\r\n"
    conn.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n{protocol}\r\n"
        ).encode()
    )
    return text.split(" ", 2)[1]


def _flood(conn: socket.socket, server: Hostile, text: bool) -> None:
    chunk = b"\x01" * 65536
    sent = 0
    try:
        if server.mode == "one-frame":
            opcode = 0x81 if text else 0x82
            conn.sendall(bytes([opcode, 127]) + struct.pack("!Q", HUGE))
            while sent < HUGE:
                conn.sendall(chunk)
                sent += len(chunk)
        else:  # a message that never ends: continuation frames without FIN
            first = True
            while sent < HUGE:
                opcode = (0x01 if text else 0x02) if first else 0x00
                conn.sendall(bytes([opcode, 127]) + struct.pack("!Q", len(chunk)) + chunk)
                sent += len(chunk)
                first = False
    except OSError:
        pass  # the client gave up
    finally:
        server.sent.append(sent)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = Hostile(url=f"http://127.0.0.1:{port}/api/v1/jobs")
    threads = server.threads

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                path = _handshake(conn)
            except OSError:
                return
            _flood(conn, server, text="/top" in path)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=serve, args=(conn,), daemon=True)
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield server
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        acceptor.join(timeout=10)
        for thread in threads:
            thread.join(timeout=30)


@pytest.fixture
def client(
    hostile: Hostile, mocked: responses.RequestsMock, job_factory: Any
) -> Iterator[neuro_sync.Client]:
    mocked.assert_all_requests_are_fired = False

    def status(request: Any) -> tuple[int, dict[str, str], str]:
        job_id = request.url.rsplit("/", 1)[1]
        return 200, {}, json.dumps(job_factory(id=job_id, status="running"))

    mocked.add_callback(
        responses.GET, re.compile(rf"{re.escape(BASE)}/jobs/job-[a-z-]+$"), callback=status
    )
    with neuro_sync.Client(
        BASE, TOKEN, timeout=(5, 30), cluster_config=monitoring_cluster(hostile.url), dialect="2022"
    ) as c:
        yield c


def _bounded(hostile: Hostile) -> None:
    """The client cut the connection soon after the limit: websockets drops what follows a
    refused message until the connection ends, and the client ends it once it has been closing
    for `_CLOSING_GRACE` (half a second: up to a GiB or two on loopback, read and dropped,
    memory bounded), before the 4 GiB announced."""
    for thread in hostile.threads:
        thread.join(timeout=60)  # each ends once the client has cut its connection
        assert not thread.is_alive(), "the client left a connection open"
    assert hostile.sent, "the server sent nothing"
    assert max(hostile.sent) < HUGE, hostile.sent


@pytest.mark.parametrize("mode", ["one-frame", "fragments"])
def test_exec_and_attach_refuse_a_huge_message(
    client: neuro_sync.Client, hostile: Hostile, mode: str
) -> None:
    hostile.mode = mode
    tracemalloc.start()
    try:
        with pytest.raises(ReplyTooLarge, match="larger than"):
            client.jobs.exec("job-x", ["true"], capture_output=True)
        with pytest.raises(ReplyTooLarge, match="larger than"):
            client.jobs.attach("job-x", capture_output=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_MESSAGE
    _bounded(hostile)


def test_top_refuses_a_huge_message(client: neuro_sync.Client, hostile: Hostile) -> None:
    with client.jobs.top("job-x") as stream:
        with pytest.raises(ReplyTooLarge, match="larger than"):
            list(stream)
    _bounded(hostile)


def test_port_forward_reports_a_huge_message(client: neuro_sync.Client, hostile: Hostile) -> None:
    with client.jobs.port_forward("job-x", 0, 80) as fwd:
        with socket.create_connection(("127.0.0.1", fwd.local_port), timeout=30) as conn:
            conn.settimeout(30)
            while conn.recv(65536):
                pass  # the forward closes the connection once the limit is passed
        # The connection's outcome is reported before its local side is closed.
        assert isinstance(fwd.error, ReplyTooLarge)
    _bounded(hostile)


def test_a_message_up_to_the_limit_is_read() -> None:
    """The bound counts per message: many messages, each near the limit, all get through."""
    listener = socket.create_server(("127.0.0.1", 0))
    payload = b"y" * (MAX_MESSAGE - 16)
    frame = bytes([0x82, 127]) + struct.pack("!Q", len(payload)) + payload

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            _handshake(conn)
            conn.sendall(frame * 3 + bytes([0x88, 2]) + struct.pack("!H", 1000))
            conn.settimeout(30)
            with contextlib.suppress(OSError):
                conn.recv(1024)  # the client's close frame

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        port = listener.getsockname()[1]
        ws = open_websocket(
            f"ws://127.0.0.1:{port}/x",
            what="exec",
            job_id="job-x",
            headers=[],
            connect_timeout=30,
            redact=str,
        )
        try:
            messages = list(ws_messages(ws, stream="s", idle_text="idle", redact=str, idle=30))
        finally:
            ws.close()
        assert [len(m) for m in messages] == [len(payload)] * 3
        server.join(timeout=30)
    finally:
        listener.close()


def test_installed_websockets_is_inside_the_pin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (spec,) = [d for d in project["dependencies"] if re.match(r"websockets\b", d)]
    low = re.search(r">=([0-9.]+)", spec)
    high = re.search(r"<([0-9.]+)", spec)
    assert low and high, f"websockets must be pinned with >= and <, got {spec!r}"

    def version(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"[0-9]+", text)[:3])

    installed = version(importlib.metadata.version("websockets"))
    assert version(low.group(1)) <= installed < version(high.group(1))
