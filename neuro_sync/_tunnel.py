"""A TCP connection to a host through an HTTP proxy (`CONNECT`), for the WebSockets.

The HTTP calls go through requests, which honours the proxy settings itself; a WebSocket opens
its own socket (so that no redirect is followed), and this is how that socket honours the same
settings (`Transport.proxy_for`: the session's proxies, `HTTPS_PROXY`, `NO_PROXY`...). Only
`http://` proxies can tunnel here; the proxy's credentials, if its URL has any, go as Basic
`Proxy-Authorization` and appear in no error text.
"""

from __future__ import annotations

import base64
import socket
import time
from urllib.parse import unquote

from yarl import URL

__all__ = ["ProxyError", "connect_through"]

# The most of a proxy's reply head that is read: a CONNECT reply is a status line and a few
# headers.
_MAX_HEAD = 16 * 1024


class ProxyError(OSError):
    """The proxy cannot be used, or refused the tunnel; the text names no credentials."""


def connect_through(proxy: str, host: str, port: int, timeout: float | None) -> socket.socket:
    """A connected socket to (host, port) through the HTTP proxy `proxy`, within `timeout`
    seconds in all (None: no bound); on return the socket is blocking."""
    start = time.monotonic()
    target = URL(proxy)
    if target.scheme != "http" or not target.host:
        raise ProxyError(
            f"a WebSocket can only go through an http:// proxy, not {target.scheme or '?'}://"
        )
    sock = socket.create_connection((target.host, target.port or 80), timeout=timeout)
    try:
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        head = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
        if target.user is not None:
            pair = f"{unquote(target.user)}:{unquote(target.password or '')}"
            head += f"Proxy-Authorization: Basic {base64.b64encode(pair.encode()).decode()}\r\n"
        sock.sendall((head + "\r\n").encode("latin-1"))
        reply = b""
        while b"\r\n\r\n" not in reply:
            if timeout is not None:
                left = timeout - (time.monotonic() - start)
                if left <= 0:
                    raise TimeoutError("the proxy did not answer in time")
                sock.settimeout(left)
            data = sock.recv(4096)
            if not data:
                raise ProxyError("the proxy closed the connection before answering")
            reply += data
            if len(reply) > _MAX_HEAD:
                raise ProxyError("the proxy's reply head is too long")
        status_line = reply.partition(b"\r\n")[0]
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ProxyError("the proxy's reply is not HTTP")
        status = int(parts[1])
        if not 200 <= status < 300:
            reason = parts[2].decode("latin-1", "replace")[:100] if len(parts) > 2 else ""
            raise ProxyError(f"the proxy refused the tunnel ({status} {reason})".rstrip())
        if reply.partition(b"\r\n\r\n")[2]:
            # The server speaks only after our TLS or WebSocket hello: bytes now are not its.
            raise ProxyError("the proxy sent data before the tunnel was in use")
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    return sock
