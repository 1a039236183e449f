"""A minimal HTTP proxy on loopback, recording each request head: it tunnels `CONNECT`, passes
a plain request in absolute form (`GET http://host:port/path`) on to its host, or answers
everything with a canned reply. For the tests of the client through a proxy."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit


class ConnectProxy:
    def __init__(self, answer: bytes | None = None) -> None:
        self.answer = answer  # None: tunnel; else send this and close
        self.heads: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self._start(self._accept)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _start(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._start(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            self.heads.append(head)
            if self.answer is not None:
                conn.sendall(self.answer)
                return
            method, target = head.split()[:2]
            if method == b"CONNECT":
                authority, first = target.decode(), b""
            else:  # absolute form: the same request in origin form, to its host
                url = urlsplit(target.decode())
                authority = url.netloc
                origin = (url.path or "/") + (f"?{url.query}" if url.query else "")
                first = head.replace(target, origin.encode(), 1)
            host, _, port = authority.rpartition(":")
            with socket.create_connection((host, int(port)), timeout=10) as upstream:
                if first:
                    upstream.sendall(first)
                else:
                    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                upstream.settimeout(None)
                self._start(self._pipe, upstream, conn)
                self._pipe(conn, upstream)

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._listener.close()


@contextlib.contextmanager
def connect_proxy(answer: bytes | None = None) -> Iterator[ConnectProxy]:
    proxy = ConnectProxy(answer)
    try:
        yield proxy
    finally:
        proxy.close()
