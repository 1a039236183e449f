"""Bounded connections for the platform's listeners: the API, each job's http proxy, the SSH
gateway (docs/local-platform.md, "Connections").

A `Gate` admits the connections of one kind of listener and ends the ones that hold a
descriptor without doing anything:

- at most `max_connections` at once, and `per_address` from one client address;
- a connection *waits* while no request of it is being handled: until its first request
  arrives whole (`header_timeout`, which bounds a half-sent head) and between requests
  (`idle_timeout`, keep-alive); past its timeout it is closed;
- at a limit, a new connection takes the place of the one that has waited longest; only
  when every connection in the way is busy (a request in progress) is the new one refused.

So a crowd of idle or half-sent connections (no token needed for that) can neither exhaust
the platform's descriptors nor keep out a user whose request is ready: it only ever pushes
out its own oldest members. `serve` is the accept loop that puts an aiohttp server (a
protocol factory) behind a gate, on the public `loop.connect_accepted_socket`.

`raise_open_files_limit` lifts the soft RLIMIT_NOFILE to the hard limit at start, and the
default limits are fractions of the result, so that they fit the descriptors there are.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import resource
import socket
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field

log = logging.getLogger("neuro_sync.local")

SWEEP_INTERVAL = 0.5  # seconds between checks for connections past their timeout
ACCEPT_RETRY = 0.1  # seconds to wait when accept() fails for want of descriptors
DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_IDLE_TIMEOUT = 30.0
# Descriptors kept for everything else: the database, job logs and processes, DNS, ...
RESERVED_FDS = 128


@dataclass(frozen=True)
class Limits:
    """The bounds of one gate; see the module docstring."""

    max_connections: int
    per_address: int
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    per_group: int | None = None  # e.g. per job owner for the http proxies; None: no such limit

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.per_address < 1:
            raise ValueError("connection limits must be at least 1")
        if self.header_timeout <= 0 or self.idle_timeout <= 0:
            raise ValueError("connection timeouts must be positive")


def open_files_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def raise_open_files_limit() -> tuple[int, int]:
    """Lift the soft RLIMIT_NOFILE to the hard one (where allowed); (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def default_max_connections(kind: str, nofile: int | None = None) -> int:
    """The default limit of a kind of listener, from the open-files limit: the API a quarter
    of it, the http proxies (two descriptors a connection) and the SSH gateway (up to four
    with a command's pipes) an eighth and a sixteenth; at most 4096 each."""
    budget = max(64, (nofile or open_files_limit()) - RESERVED_FDS)
    share = {"api": 4, "proxy": 8, "ssh": 16}[kind]
    return max(8, min(4096, budget // share))


def limits(
    kind: str,
    maximum: int | None = None,
    per_client: int | None = None,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
) -> Limits:
    """The limits of a kind of listener ("api", "proxy", "ssh"); None: the defaults (the
    maximum from the open-files limit, half of it per client address, and for the http
    proxies a quarter of it for the jobs of one user)."""
    total = maximum or default_max_connections(kind)
    return Limits(
        max_connections=total,
        per_address=min(per_client or max(1, total // 2), total),
        header_timeout=header_timeout,
        idle_timeout=idle_timeout,
        per_group=max(1, total // 4) if kind == "proxy" else None,
    )


@dataclass
class _Conn:
    address: str
    group: Hashable
    close: Callable[[], None]
    is_closing: Callable[[], bool]
    since: float = field(default_factory=time.monotonic)  # waiting since
    busy: int = 0
    served: bool = False  # a request has been handled: the idle timeout applies


def _counters(conn: _Conn) -> tuple[tuple[str, Hashable], ...]:
    return (("all", None), ("address", conn.address), ("group", conn.group))


class Gate:
    """Admission, eviction and timeouts for one kind of connection; see the module docstring.

    Connections are keyed by any hashable (a transport, an SSH connection). Call `admit` when
    one is made, `release` when it is lost (or let the sweep notice `is_closing`), and wrap
    the handling of each request in `busy`.
    """

    def __init__(self, name: str, limits: Limits) -> None:
        self.name = name
        self.limits = limits
        self._conns: dict[Hashable, _Conn] = {}  # in the order of `since`: oldest first
        self._counts: Counter[tuple[str, Hashable]] = Counter()  # all, per address, group
        self._sweeper: asyncio.Task[None] | None = None
        self.refused = 0
        self.evicted = 0
        self.expired = 0

    def __len__(self) -> int:
        return len(self._conns)

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    def admit(
        self,
        key: Hashable,
        address: str,
        close: Callable[[], None],
        is_closing: Callable[[], bool],
        group: Hashable = None,
    ) -> bool:
        """Take a new connection in (True), making room if needed; False: refused, the
        caller closes it."""
        conn = _Conn(address=address, group=group, close=close, is_closing=is_closing)
        checks: list[tuple[int, tuple[str, Hashable], Callable[[_Conn], bool]]] = [
            (self.limits.max_connections, ("all", None), lambda c: True),
            (self.limits.per_address, ("address", address), lambda c: c.address == address),
        ]
        if self.limits.per_group is not None and group is not None:
            checks.append((self.limits.per_group, ("group", group), lambda c: c.group == group))
        for limit, counter, same in checks:
            if self._counts[counter] >= limit and not self._make_room(limit, counter, same):
                self.refused += 1
                return False
        self._conns[key] = conn
        for counter in _counters(conn):
            self._counts[counter] += 1
        return True

    def _make_room(
        self, limit: int, counter: tuple[str, Hashable], same: Callable[[_Conn], bool]
    ) -> bool:
        """Below `limit` for this counter by evicting the longest-waiting idle members: the
        first in the dict's order, which is the order of `since`."""
        for key, conn in list(self._conns.items()):
            if self._counts[counter] < limit:
                break
            if not same(conn):
                continue
            if conn.is_closing():  # closed by its client: forget it
                self._forget(key)
            elif not conn.busy:
                self.evicted += 1
                self._drop(key)
        return self._counts[counter] < limit

    def release(self, key: Hashable) -> None:
        self._forget(key)

    def _forget(self, key: Hashable) -> _Conn | None:
        conn = self._conns.pop(key, None)
        if conn is not None:
            for counter in _counters(conn):
                self._counts[counter] -= 1
                if not self._counts[counter]:
                    del self._counts[counter]
        return conn

    def _drop(self, key: Hashable) -> None:
        conn = self._forget(key)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    @contextlib.contextmanager
    def busy(self, key: Hashable) -> Iterator[None]:
        """A request of this connection is being handled: it neither times out nor is evicted."""
        conn = self._conns.get(key)
        if conn is None:
            yield
            return
        conn.busy += 1
        try:
            yield
        finally:
            conn.busy -= 1
            conn.served = True
            conn.since = time.monotonic()
            if key in self._conns:  # last in the order of waiting
                self._conns[key] = self._conns.pop(key)

    def sweep(self) -> None:
        """Close the connections past their timeout; forget the closed ones."""
        now = time.monotonic()
        for key, conn in list(self._conns.items()):
            if conn.is_closing():
                self._forget(key)
                continue
            if conn.busy:
                continue
            timeout = self.limits.idle_timeout if conn.served else self.limits.header_timeout
            if now - conn.since > timeout:
                self.expired += 1
                self._drop(key)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            self.sweep()


def loopback_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port) (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def serve(
    listener: socket.socket,
    gate: Gate,
    factory: Callable[[], asyncio.BaseProtocol],
    group: Hashable = None,
) -> None:
    """Accept connections on `listener` until cancelled, each behind `gate`, each served by
    a protocol from `factory` (an aiohttp `web.Server`). Closes the listener at the end."""
    loop = asyncio.get_running_loop()
    warned = False
    try:
        while True:
            try:
                sock, address = await loop.sock_accept(listener)
            except OSError as err:
                if err.errno == errno.EBADF:  # the listener was closed
                    return
                if err.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    if not warned:  # the pending connection stays in the backlog meanwhile
                        log.warning("%s: out of descriptors, accepting more slowly", gate.name)
                        warned = True
                    await asyncio.sleep(ACCEPT_RETRY)
                continue  # else one connection failed (reset before it was accepted, ...)
            try:
                transport, _ = await loop.connect_accepted_socket(factory, sock)
            except OSError:
                sock.close()
                continue
            peer = str(address[0]) if isinstance(address, tuple) else str(address)
            try:
                admitted = gate.admit(transport, peer, transport.abort, transport.is_closing, group)
            except Exception:  # noqa: BLE001 - the listener must go on serving the others
                log.exception("%s: cannot admit a connection", gate.name)
                admitted = False
            if not admitted:
                transport.abort()
    finally:
        listener.close()
