"""The one module that extends urllib3 beyond its documented interface, so the watchdog
(`_deadlines`) can find the socket a request runs on.

Neither requests nor urllib3 can bound an attempt as a whole (their timeouts apply to each
socket read, so a server trickling a byte a second holds a call forever); cutting the socket is
the only way, and for that the connection must say which socket it uses. What is used, and why
it is pinned (`urllib3>=2.2,<3` in pyproject.toml, checked by tests/unit/test_urllib3_pin.py):

- `PoolManager.pool_classes_by_scheme`, the per-manager pool classes (set on our own managers
  only, never on urllib3's module-level defaults);
- `HTTPConnectionPool.ConnectionCls`, the connection class of a pool;
- overrides of the public `HTTPConnection.connect()` and `.request()`, and the `sock`
  attribute, which http.client drops after a `Connection: close` reply that is still being
  read: it is copied at connect time;
- http.client's `HTTPConnection.response_class` and the `fp` its `HTTPResponse` reads from:
  our replies read their socket through a 64 KiB buffer instead of the default 8 KiB. A
  socket with a timeout (every call of ours has a read timeout) costs a poll() before each
  recv(), so this is 8 times fewer system calls for a long log or a large list.

Everything else of the transport uses the public APIs of requests and urllib3.
"""

from __future__ import annotations

import http.client
import io
import socket
from typing import Any, cast

import requests.adapters
import urllib3.poolmanager
from urllib3 import connection, connectionpool

from ._deadlines import Guard, bind_current

__all__ = ["WatchedAdapter"]


# The read buffer of a reply's socket. A read never waits to fill it: it returns what has
# arrived, so a trickling log comes out as promptly as with 8 KiB.
READ_BUFFER = 64 * 1024


class _Response(http.client.HTTPResponse):
    """http.client's reply, reading its socket through `READ_BUFFER` bytes."""

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(sock, debuglevel, method, url)
        self.fp.close()  # the base class's reader, nothing read from it yet
        self.fp = cast(io.BufferedReader, sock.makefile("rb", buffering=READ_BUFFER))


class _Watched:
    """Connection mixin: keeps its socket where the watchdog finds it, and binds itself to
    the attempt of the thread that sends a request on it."""

    sock: Any
    response_class: type[http.client.HTTPResponse] = _Response
    watched_sock: socket.socket | None = None
    watched_by: Guard | None = None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.watched_sock = self.sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is None:
            self.watched_sock = None  # reconnecting: not the old socket
        bind_current(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


# urllib3's class names, since urllib3 quotes them in its exception texts (which may be
# chained to ours): a user reads "HTTPConnectionPool(host=...)", never a class of ours.
class HTTPConnection(_Watched, connection.HTTPConnection):
    pass


class HTTPSConnection(_Watched, connection.HTTPSConnection):
    pass


class HTTPConnectionPool(connectionpool.HTTPConnectionPool):
    ConnectionCls = HTTPConnection


class HTTPSConnectionPool(connectionpool.HTTPSConnectionPool):
    ConnectionCls = HTTPSConnection


_POOLS = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter whose connections register with the watchdog."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # A SOCKS manager has its own pool classes; its replies keep per-read timeouts only.
        if manager.pool_classes_by_scheme is urllib3.poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = _POOLS
        return manager
