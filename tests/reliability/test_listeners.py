"""Who listens on a port (neuro_sync/local/listeners.py): the listening sockets that a
connection to 127.0.0.1 can reach, found by inode, and the processes that hold them."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from neuro_sync.local.listeners import held_by, listening

pytestmark = pytest.mark.sockets


@pytest.fixture
def socks() -> Iterator[list[socket.socket]]:
    made: list[socket.socket] = []
    yield made
    for sock in made:
        sock.close()


def listen(made: list[socket.socket], host: str, port: int = 0) -> tuple[int, int]:
    """(port, inode) of a new listener."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    made.append(sock)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind((host, port))
    sock.listen()
    inode = int(os.readlink(f"/proc/self/fd/{sock.fileno()}")[8:-1])
    return int(sock.getsockname()[1]), inode


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "::"])
def test_a_listener_reachable_at_loopback_is_found(socks: list[socket.socket], host: str) -> None:
    port, inode = listen(socks, host)
    assert listening(port) == {inode}
    assert inode in held_by([os.getpid()])


def test_listeners_a_loopback_connection_cannot_reach_are_not_counted(
    socks: list[socket.socket],
) -> None:
    port, _ = listen(socks, "127.0.0.2")
    assert listening(port) == frozenset()
    assert listen(socks, "::1", port)[0] == port
    assert listening(port) == frozenset()


def test_a_port_nobody_listens_on_has_no_listeners(socks: list[socket.socket]) -> None:
    sock = socket.socket()
    socks.append(sock)
    sock.bind(("127.0.0.1", 0))  # bound, not listening
    assert listening(int(sock.getsockname()[1])) == frozenset()
