"""The one deadline mechanism: a watchdog that shuts a connection's socket down in time.

Every time limit of the client that a per-read socket timeout cannot express goes through
here: the deadline of one attempt (connect, headers and body, however slowly a server trickles
them), the total of `wait` (its last status call gets no more than the time left), the idle
limit of a log snapshot, and the time one save progress line may take.

A `Guard` is armed for a number of seconds and bound to the connection that carries the work
(`bind`); when it expires, the watchdog shuts that connection's socket down, the blocked read
returns at once, and `fired` tells the reader it was the deadline. The connections register
themselves (`bind_current`, from `_urllib3_hooks`); this module knows nothing of HTTP.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from typing import Protocol

__all__ = [
    "WATCHDOG",
    "Guard",
    "Watched",
    "attempt_deadline",
    "bind_current",
    "start_attempt",
    "take_connection",
]


class Watched(Protocol):
    """A connection the watchdog can cut: its socket (None until connected) and its guard."""

    watched_sock: socket.socket | None
    watched_by: Guard | None


def attempt_deadline(timeout: object) -> float | None:
    """Seconds one attempt may take in all, from a request's `timeout`; None: no deadline.

    A number is the deadline itself; `(connect, read)` gives `connect + read`; a `None` read
    (wait between bytes forever) means no deadline at all.
    """
    if isinstance(timeout, tuple):
        connect, read = timeout
        if read is None or connect is None:
            return None
        return float(connect) + float(read)
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        return float(timeout)
    return None


class Guard:
    """A deadline and the connection it watches (once one was bound)."""

    __slots__ = ("conn", "deadline", "fired", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.conn: Watched | None = None
        self.fired = False


class Watchdog:
    """Shuts a guarded socket down when its deadline passes.

    One daemon thread for the process, started on demand and ended after `idle_exit` seconds
    without armed guards. It ticks every `tick` seconds (the precision of a deadline) instead
    of being woken per request: arming and disarming are a dict insert and delete, so the hot
    path pays no thread switch. A guard without a deadline (`math.inf`) only records which
    connection an attempt ran on.
    """

    def __init__(self, tick: float = 0.05, idle_exit: float = 2.0) -> None:
        self.tick = tick
        self.idle_exit = idle_exit
        self.lock = threading.Lock()
        self._armed: dict[int, Guard] = {}
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, conn: Watched | None = None) -> Guard:
        """A guard of `seconds` (inf: none), bound to `conn` if given (else by `bind_current`)."""
        guard = Guard(seconds)
        if conn is not None:
            self.bind(guard, conn)
        if seconds == math.inf:
            return guard
        self._armed[id(guard)] = guard
        if self._thread is None:
            with self.lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="neuro-sync-deadlines", daemon=True
                    )
                    self._thread.start()
        return guard

    def disarm(self, guard: Guard) -> None:
        # Under the lock: once this returns, the watchdog no longer touches the connection,
        # which may go back to the pool and to another thread.
        with self.lock:
            self._armed.pop(id(guard), None)

    def bind(self, guard: Guard, conn: Watched) -> None:
        """`conn` now carries `guard`'s work (and no earlier guard's)."""
        with self.lock:
            guard.conn = conn
            conn.watched_by = guard

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _run(self) -> None:
        idle_since: float | None = None
        while True:
            time.sleep(self.tick)
            now = time.monotonic()
            with self.lock:
                if not self._armed:
                    if idle_since is None:
                        idle_since = now
                    elif now - idle_since >= self.idle_exit:
                        self._thread = None
                        return
                    continue
                idle_since = None
                for key, guard in list(self._armed.items()):
                    if now >= guard.deadline and self._fire(guard):
                        del self._armed[key]

    @staticmethod
    def _fire(guard: Guard) -> bool:
        conn = guard.conn
        sock = None if conn is None else conn.watched_sock
        if sock is None or conn is None or conn.watched_by is not guard:
            return False  # still connecting (bounded by the connect timeout): next tick
        guard.fired = True
        with contextlib.suppress(OSError, TypeError):
            # The plain socket's shutdown, also under TLS: it only ends the byte stream and
            # leaves the SSL object to the reading thread, which sees an EOF. (TLS inside a
            # TLS proxy tunnel is no socket: TypeError, and per-read timeouts only.)
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        return True


WATCHDOG = Watchdog()
_current = threading.local()


def start_attempt(guard: Guard) -> None:
    """The connection this thread sends its next request on is bound to `guard`."""
    _current.guard = guard
    _current.conn = None


def bind_current(conn: Watched) -> None:
    """Called by a connection as it sends a request: bind it to this thread's attempt."""
    guard: Guard | None = getattr(_current, "guard", None)
    if guard is not None:
        _current.conn = conn
        WATCHDOG.bind(guard, conn)


def take_connection() -> Watched | None:
    """End this thread's attempt; the connection it ran on, if it got that far."""
    conn: Watched | None = getattr(_current, "conn", None)
    _current.guard = _current.conn = None
    return conn
