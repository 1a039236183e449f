"""A socket-level HTTP fault server on 127.0.0.1 for transport tests.

It speaks just enough HTTP/1.1 to read one request per connection (request line, headers and a
`Content-Length` body), records it, and then runs an *action*: a function that writes whatever
bytes it likes to the raw socket, stalls, or resets the connection. Actions are consumed in
order, one per connection; the last one repeats. Every connection is closed after its action,
so one connection carries exactly one request and `requests` counts equal attempts.

    with FaultServer() as server:
        server.script(reset_before_status, reply(200, b'{"jobs": []}'))
        ...
        assert len(server.requests) == 2

`route(fn)` picks each connection's action from its request instead (a small fake platform);
`FaultServer(tls=context)` serves HTTPS; `websocket(...)` answers a WebSocket handshake;
`unreachable_port()` makes connecting time out and `refused_port()` makes it fail at once.

Nothing here knows the Jobs API; tests compose the replies.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType

__all__ = [
    "Action",
    "FaultServer",
    "Request",
    "chunked",
    "close_silently",
    "garbage",
    "redirect",
    "refused_port",
    "reply",
    "reset_after_headers",
    "reset_after_status_line",
    "reset_before_status",
    "rst",
    "stall",
    "stream_body",
    "trickle",
    "unreachable_port",
    "websocket",
    "ws_frames",
]

_MAX_HEAD = 64 * 1024


@dataclass
class Request:
    """One request as it arrived on the wire."""

    method: str
    target: str  # the raw request target, e.g. /api/v1/jobs/..%2Fconfig
    headers: dict[str, str]  # lower-cased names
    body: bytes
    raw_head: bytes = field(repr=False, default=b"")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Action = Callable[[socket.socket, Request, threading.Event], None]


def rst(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0) instead of a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def reply(
    status: int,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    *,
    reason: str = "Whatever",
) -> Action:
    """A complete, well-formed reply with `Content-Length` and `Connection: close`."""

    def act(sock: socket.socket, req: Request, stop: threading.Event) -> None:
        head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if not any(k.lower() == "content-type" for k in (headers or {})):
            head.append("Content-Type: application/json")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    return act


def redirect(location: str, status: int = 307) -> Action:
    return reply(status, b"", {"Location": location, "Content-Type": "text/plain"})


def reset_before_status(sock: socket.socket, req: Request, stop: threading.Event) -> None:
    """The request arrived; the connection is reset before any byte of the reply."""
    rst(sock)


def close_silently(sock: socket.socket, req: Request, stop: threading.Event) -> None:
    """The request arrived; the connection is closed (FIN) without a reply."""
    sock.close()


def reset_after_status_line(sock: socket.socket, req: Request, stop: threading.Event) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\n")
    rst(sock)


def reset_after_headers(sock: socket.socket, req: Request, stop: threading.Event) -> None:
    """Headers promise 1000 bytes of JSON; 10 arrive, then a reset."""
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        b'{"jobs": ['
    )
    rst(sock)


def stall(seconds: float, then: Action | None = None, *, head: bytes = b"") -> Action:
    """Send `head` (maybe nothing), then say nothing for `seconds`, then run `then` or close."""

    def act(sock: socket.socket, req: Request, stop: threading.Event) -> None:
        if head:
            sock.sendall(head)
        if stop.wait(seconds):
            return
        if then is not None:
            then(sock, req, stop)

    return act


def trickle(data: bytes, *, every: float = 0.1, prefix: bytes = b"") -> Action:
    """Send `prefix` at once, then `data` one byte every `every` seconds (until the client goes).

    Each byte restarts a per-read timeout, so only a deadline on the whole reply ends it early.
    """

    def act(sock: socket.socket, req: Request, stop: threading.Event) -> None:
        if prefix:
            sock.sendall(prefix)
        for i in range(len(data)):
            if stop.wait(every):
                return
            sock.sendall(data[i : i + 1])

    return act


def stream_body(
    head: bytes, chunk: bytes, *, total: int | None = None, pause: float = 0.0
) -> Action:
    """Send `head` (status line and headers, as given) then `chunk` over and over: `total` bytes
    of body, or without end until the client goes. No framing of its own: `head` says what the
    body is (a Content-Length, or none and the body ends when the connection closes)."""

    def act(sock: socket.socket, req: Request, stop: threading.Event) -> None:
        sock.sendall(head)
        sent = 0
        while total is None or sent < total:
            if stop.is_set() or (pause and stop.wait(pause)):
                return
            piece = chunk if total is None else chunk[: total - sent]
            sock.sendall(piece)
            sent += len(piece)

    return act


def chunked(
    chunks: Iterable[bytes],
    *,
    terminate: bool,
    reset: bool = False,
    pause: float = 0.0,
    content_type: str = "text/plain",
    status: int = 200,
) -> Action:
    """A `Transfer-Encoding: chunked` reply; without `terminate` the final 0-chunk is missing.

    `chunks` may be endless (e.g. `itertools.repeat(...)`): sending stops when the client goes.
    """

    def act(sock: socket.socket, req: Request, stop: threading.Event) -> None:
        sock.sendall(
            f"HTTP/1.1 {status} Whatever\r\nTransfer-Encoding: chunked\r\n".encode()
            + f"Connection: close\r\nContent-Type: {content_type}\r\n\r\n".encode()
        )
        for i, chunk in enumerate(chunks):
            if i and pause and stop.wait(pause):  # a pause between chunks, not after the last
                return
            if stop.is_set():
                return
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if terminate:
            sock.sendall(b"0\r\n\r\n")
        if reset:
            rst(sock)

    return act


def garbage(data: bytes = b"SSH-2.0-OpenSSH_8.9\r\n\x00\xff\xfe not http at all\r\n\r\n") -> Action:
    def act(sock: socket.socket, req: Request, stop: threading.Event) -> None:
        sock.sendall(data)

    return act


_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _ws_frame(opcode: int, payload: bytes) -> bytes:
    """An unmasked (server) WebSocket frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def ws_frames(frames: Iterable[object] = (), *, close: bool = True) -> Action:
    """After a handshake: send `frames` (objects as JSON text, bytes as-is), then a close frame
    (`close`) and wait briefly for the client's."""

    def act(sock: socket.socket, req: Request, stop: threading.Event) -> None:
        for frame in frames:
            data = frame if isinstance(frame, bytes) else json.dumps(frame).encode()
            sock.sendall(_ws_frame(0x1, data))
        if close:
            sock.sendall(_ws_frame(0x8, struct.pack("!H", 1000)))
            sock.settimeout(2)
            with contextlib.suppress(OSError):
                sock.recv(1024)  # the client's close frame

    return act


def websocket(
    frames: Iterable[object] = (),
    *,
    close: bool = True,
    then: Action | None = None,
) -> Action:
    """Accept a WebSocket handshake, then `ws_frames(frames, close=close)`, or send `frames` and
    run `then` instead of closing."""

    def act(sock: socket.socket, req: Request, stop: threading.Event) -> None:
        key = req.header("Sec-WebSocket-Key") or ""
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()  # noqa: S324 - the protocol's hash
        sock.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        if then is None:
            ws_frames(frames, close=close)(sock, req, stop)
            return
        ws_frames(frames, close=False)(sock, req, stop)
        then(sock, req, stop)

    return act


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connecting is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextlib.contextmanager
def unreachable_port() -> Iterator[int]:
    """A port on 127.0.0.1 where connecting times out: a listener that never accepts, its
    backlog already full, so that Linux drops further SYNs (a connect timeout, not a refusal)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                s.connect(("127.0.0.1", port))
            fillers.append(s)
        yield port
    finally:
        for s in fillers:
            s.close()
        listener.close()


class FaultServer:
    """A threaded TCP server that answers each connection with the next scripted action."""

    def __init__(self, *actions: Action, tls: ssl.SSLContext | None = None) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.5)
        self.port: int = self._listener.getsockname()[1]
        self.requests: list[Request] = []
        self.connections = 0  # connections that delivered a request
        self.accepted = 0  # TCP connections accepted (a failed TLS handshake counts here only)
        self._actions: list[Action] = list(actions) or [reply(200, b"{}")]
        self._router: Callable[[Request], Action] | None = None
        self._tls = tls
        self._index = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    # ----------------------------------------------------------------- control

    @property
    def url(self) -> str:
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def route(self, router: Callable[[Request], Action]) -> None:
        """Choose each connection's action from its request instead of a script."""
        with self._lock:
            self._router = router
            self.requests.clear()
            self.connections = self.accepted = 0

    def script(self, *actions: Action) -> None:
        """Replace the actions (consumed one per connection, the last one repeating)."""
        if not actions:
            raise ValueError("at least one action")
        with self._lock:
            self._actions = list(actions)
            self._router = None
            self._index = 0
            self.requests.clear()
            self.connections = self.accepted = 0

    def start(self) -> FaultServer:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() at once on Linux
        self._acceptor.join(5)
        self._listener.close()
        for t in self._threads:
            t.join(5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- internals

    def _next_action(self, req: Request) -> Action:
        with self._lock:
            self.connections += 1
            router = self._router
            if router is None:
                action = self._actions[min(self._index, len(self._actions) - 1)]
                self._index += 1
                return action
        return router(req)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
            t = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(5)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_side=True)
            req = _read_request(sock)
            if req is None:
                return
            with self._lock:
                self.requests.append(req)
            action = self._next_action(req)
            sock.settimeout(None)
            action(sock, req, self._stop)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()


def _read_request(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > _MAX_HEAD:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, target, headers, body, head)
