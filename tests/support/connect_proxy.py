"""A minimal HTTP proxy on loopback that tunnels `CONNECT` (or answers it with a canned
reply), recording each request head: for the tests of WebSockets through a proxy."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


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
            host, _, port = head.split()[1].decode().rpartition(":")
            with socket.create_connection((host, int(port)), timeout=10) as upstream:
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
