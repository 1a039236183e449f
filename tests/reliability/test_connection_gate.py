"""The local platform's connection gate (neuro_sync/local/connections.py), without sockets:
admission, eviction of the longest-waiting idle connection, busy connections kept, timeouts;
the default limits; the open-files limit raised at start. The gate against real sockets:
tests/server/test_connections.py."""

from __future__ import annotations

import resource
import time

import pytest

from neuro_sync.local.connections import (
    Gate,
    Limits,
    default_max_connections,
    limits,
    raise_open_files_limit,
)


class Conn:
    def __init__(self, gate: Gate, name: str, address: str = "127.0.0.1", group: str = "") -> None:
        self.closed = False
        self.name = name
        self.admitted = gate.admit(self, address, self.close, lambda: self.closed, group or None)

    def close(self) -> None:
        self.closed = True


def test_a_new_connection_displaces_the_longest_waiting_idle_one() -> None:
    gate = Gate("test", Limits(max_connections=3, per_address=3))
    old, middle, young = Conn(gate, "old"), Conn(gate, "middle"), Conn(gate, "young")
    assert (old.admitted, middle.admitted, young.admitted) == (True, True, True)
    new = Conn(gate, "new")
    assert new.admitted and old.closed and not middle.closed and len(gate) == 3


def test_busy_connections_are_never_displaced_and_a_full_busy_gate_refuses() -> None:
    gate = Gate("test", Limits(max_connections=2, per_address=2))
    a, b = Conn(gate, "a"), Conn(gate, "b")
    with gate.busy(a):
        c = Conn(gate, "c")
        assert c.admitted and b.closed and not a.closed
        with gate.busy(c):
            d = Conn(gate, "d")
            assert not d.admitted and not a.closed and not c.closed
    assert gate.refused == 1


def test_the_per_address_and_per_group_limits_displace_only_their_own() -> None:
    gate = Gate("test", Limits(max_connections=10, per_address=2, per_group=2))
    mine = [Conn(gate, f"m{i}", "127.0.0.2") for i in range(2)]
    theirs = Conn(gate, "t", "127.0.0.3")
    assert Conn(gate, "m2", "127.0.0.2").admitted
    assert mine[0].closed and not mine[1].closed and not theirs.closed
    job = [Conn(gate, f"j{i}", f"127.0.1.{i}", group="job-1") for i in range(3)]
    assert job[0].closed and not job[1].closed and not job[2].closed


def test_connections_past_their_timeout_are_closed_and_busy_ones_kept() -> None:
    gate = Gate("test", Limits(max_connections=10, per_address=10, header_timeout=0.01))
    half_sent, working = Conn(gate, "half"), Conn(gate, "working")
    with gate.busy(working):
        time.sleep(0.05)
        gate.sweep()
        assert half_sent.closed and not working.closed
    gate.sweep()  # just served: the idle timeout (30 s) applies now
    assert not working.closed and len(gate) == 1


def test_closed_connections_are_forgotten() -> None:
    gate = Gate("test", Limits(max_connections=1, per_address=1))
    first = Conn(gate, "first")
    first.closed = True  # by its client
    second = Conn(gate, "second")
    assert second.admitted and gate.evicted == 0


def test_default_limits_follow_the_open_files_limit() -> None:
    assert default_max_connections("api", 1024) == 224
    assert default_max_connections("proxy", 1024) == 112
    assert default_max_connections("ssh", 1024) == 56
    assert default_max_connections("api", 1 << 20) == 4096
    chosen = limits("proxy", 40, None)
    assert (chosen.max_connections, chosen.per_address, chosen.per_group) == (40, 20, 10)
    assert limits("api", 40, 100).per_address == 40  # never above the maximum
    with pytest.raises(ValueError, match="at least 1"):
        Limits(max_connections=0, per_address=1)


def test_the_soft_open_files_limit_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 512:
        pytest.skip(f"needs a finite hard open-files limit above 512 (it is {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
    try:
        assert raise_open_files_limit() == (512, hard)
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
