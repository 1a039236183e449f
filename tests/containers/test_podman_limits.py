"""Fair share and the log cap with the podman runtime (the same runner as the process
runtime's: these check that containers are scheduled and logged through it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from neuro_sync.local import LocalPlatform
from neuro_sync.local.podman_cli import build_busybox_image

from ..server.helpers import Api, wait_for
from .conftest import TEST_IMAGE, platform_podman, podman_platform

pytestmark = [pytest.mark.integration, pytest.mark.podman]

GUARD = 120.0  # seconds: a hang guard, never an expectation


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """Two 0.1-CPU slots, 64 KiB logs."""
    lp = podman_platform(
        tmp_path_factory.mktemp("podman-limits"), cpus=0.2, memory_mb=1024, max_log_bytes=65536
    )
    try:
        build_busybox_image(platform_podman(lp), TEST_IMAGE, {})
        yield lp
    finally:
        lp.stop()


def job(command: str) -> dict[str, Any]:
    return {
        "container": {
            "image": "nstest",
            "command": command,
            "resources": {"cpu": 0.1, "memory_mb": 32},
        }
    }


def user(lp: LocalPlatform, name: str) -> Api:
    return Api(lp.url, lp.issue_token(name), name)


def test_a_containers_log_past_its_cap_drops_its_oldest_part(capped: LocalPlatform) -> None:
    alice = user(capped, "alice")
    job_id = alice.create(job("sh -c 'seq 1 200000; echo END'"))["id"]
    assert alice.wait(job_id, timeout=GUARD)["status"] == "succeeded"
    lines = alice.get(f"/jobs/{job_id}/log").content.decode().splitlines()
    assert lines[-2:] == ["200000", "END"]
    assert lines[0].startswith("[neuro-sync-local: ")
    assert "capped at 65536 bytes" in lines[0]
    assert sum(len(line) + 1 for line in lines) < 2 * 65536


def test_another_users_container_takes_the_next_free_slot(capped: LocalPlatform) -> None:
    alice, bob = user(capped, "alice"), user(capped, "bob")
    queue = [alice.create(job("sleep 600"))["id"] for _ in range(4)]
    alice.wait(queue[0], ("running",), timeout=GUARD)
    alice.wait(queue[1], ("running",), timeout=GUARD)
    bobs = bob.create(job("sleep 600"))["id"]
    wait_for(lambda: bob.job(bobs)["history"]["reason"] == "ClusterScalingUp", "bob to wait")
    alice.kill(queue[0])
    wait_for(
        lambda: "running" in (bob.job(bobs)["status"], alice.job(queue[2])["status"]),
        "a job to take the free slot",
        timeout=GUARD,
    )
    assert bob.job(bobs)["status"] == "running"
    assert alice.job(queue[2])["status"] == "pending"
    for job_id in queue:
        alice.kill(job_id)
    bob.kill(bobs)
