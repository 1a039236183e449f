"""The urllib3 pin guards `neuro_sync/_urllib3_hooks.py`, the one module that extends urllib3
beyond its documented interface: the installed urllib3 is inside the declared range, and the
extension points the module relies on are still there and still take effect."""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import socket
import tomllib
from pathlib import Path

import pytest
import requests
import responses
import urllib3
import urllib3.poolmanager
from urllib3 import connection, connectionpool

from neuro_sync import _deadlines, _urllib3_hooks
from neuro_sync._session import Session

ROOT = Path(__file__).resolve().parents[2]


def declared_range() -> tuple[tuple[int, ...], tuple[int, ...]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (spec,) = [d for d in project["dependencies"] if re.match(r"urllib3\b", d)]
    low = re.search(r">=([0-9.]+)", spec)
    high = re.search(r"<([0-9.]+)", spec)
    assert low and high, f"urllib3 must be pinned with >= and <, got {spec!r}"
    return _version(low.group(1)), _version(high.group(1))


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"[0-9]+", text)[:3])


def test_installed_urllib3_is_inside_the_pin() -> None:
    low, high = declared_range()
    assert low <= _version(importlib.metadata.version("urllib3")) < high


def test_the_extension_points_exist() -> None:
    # A pool manager's own pool classes, which the adapter replaces (not the module default).
    assert set(urllib3.poolmanager.pool_classes_by_scheme) == {"http", "https"}
    manager = urllib3.PoolManager()
    assert manager.pool_classes_by_scheme == urllib3.poolmanager.pool_classes_by_scheme
    # A pool's connection class, and the public methods our connections override.
    assert connectionpool.HTTPConnectionPool.ConnectionCls is connection.HTTPConnection
    params = inspect.signature(connection.HTTPConnection.request).parameters
    assert list(params)[:3] == ["self", "method", "url"]
    assert "sock" in inspect.getsource(connection.HTTPConnection.connect)


def test_the_session_uses_the_watched_pools_and_leaves_urllib3_alone() -> None:
    session = Session()
    adapter = session.get_adapter("http://example.test/")
    assert isinstance(adapter, _urllib3_hooks.WatchedAdapter)
    pools = adapter.poolmanager.pool_classes_by_scheme
    assert pools["http"].ConnectionCls is _urllib3_hooks.HTTPConnection
    assert pools["https"].ConnectionCls is _urllib3_hooks.HTTPSConnection
    # Process-wide state is untouched: other users of urllib3 get its own classes.
    assert urllib3.poolmanager.pool_classes_by_scheme["http"] is connectionpool.HTTPConnectionPool
    assert urllib3.PoolManager().pool_classes_by_scheme["http"] is connectionpool.HTTPConnectionPool
    plain = requests.Session().get_adapter("http://x/")
    assert isinstance(plain, requests.adapters.HTTPAdapter)
    assert plain.poolmanager.pool_classes_by_scheme["http"] is connectionpool.HTTPConnectionPool


@pytest.mark.sockets
def test_a_request_binds_its_connection_to_the_attempt() -> None:
    # Through a real socket (no mock adapter): the watchdog learns the connection and its socket.
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with responses.RequestsMock(passthru_prefixes=("http://127.0.0.1",)):
            session = Session()
            guard = _deadlines.WATCHDOG.arm(30)
            _deadlines.start_attempt(guard)
            try:
                reply = session.get(f"http://127.0.0.1:{server.server_port}/", timeout=5)
            finally:
                conn = _deadlines.take_connection()
                _deadlines.WATCHDOG.disarm(guard)
            assert reply.content == b"ok"
            assert conn is not None and guard.conn is conn
            assert conn.watched_by is guard
            assert conn.watched_sock is not None
            session.close()
    finally:
        server.shutdown()
        server.server_close()


def test_replies_read_their_socket_through_the_large_buffer() -> None:
    # http.client's reply makes its reader in __init__ without reading; ours swaps it for one
    # with a 64 KiB buffer. A body already waiting fills more than the default 8 KiB at once.
    body = b"x" * 200_000
    ours, server = socket.socketpair()
    with ours, server:
        server.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        conn = _urllib3_hooks.HTTPSConnection("example.test")
        assert conn.response_class is _urllib3_hooks.HTTPConnection("x").response_class
        reply = conn.response_class(ours, method="GET")
        reply.begin()
        assert reply.status == 200
        assert 8192 < len(reply.fp.peek()) <= _urllib3_hooks.READ_BUFFER
        assert reply.read() == body
        reply.close()
