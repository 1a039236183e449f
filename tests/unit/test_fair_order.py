"""The local platform's scheduling policy on its own: fair share across owners, FIFO within."""

from __future__ import annotations

from neuro_sync.local.runner import fair_order
from neuro_sync.local.store import JobRecord


def job(owner: str, n: int) -> JobRecord:
    resources = {"cpu": 0.1, "memory_mb": 16}
    created = f"2026-01-01T00:00:{n:02d}+00:00"
    return JobRecord(
        id=f"{owner}{n}", owner=owner, container={"resources": resources}, created_at=created
    )


def test_the_owner_with_the_smallest_share_goes_first_then_fifo() -> None:
    queues = {"alice": [job("alice", i) for i in range(1, 4)], "bob": [job("bob", 9)]}
    order = [j.id for j in fair_order(queues, {"alice": 0.5})]
    assert order == ["bob9", "alice1", "alice2", "alice3"]


def test_owners_take_turns_as_their_shares_grow() -> None:
    queues = {
        "alice": [job("alice", i) for i in range(1, 4)],
        "bob": [job("bob", i) for i in (4, 5)],
    }
    usage: dict[str, float] = {}
    order = []
    for started in fair_order(queues, usage):  # the caller counts each job it starts
        order.append(started.id)
        usage[started.owner] = usage.get(started.owner, 0.0) + 0.1
    assert order == ["alice1", "bob4", "alice2", "bob5", "alice3"]


def test_equal_shares_go_to_the_oldest_job() -> None:
    queues = {"bob": [job("bob", 2)], "alice": [job("alice", 1)]}
    assert [j.id for j in fair_order(queues, {})] == ["alice1", "bob2"]
