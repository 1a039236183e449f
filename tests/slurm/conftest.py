"""Slurm fixtures: a private 3-node Slurm cluster on 127.0.0.1 for the directory
(`neuro_sync.local.slurm_cluster`), and a local platform with the Slurm runtime on it.

Skipped, with the reason, where the cluster cannot start (not root, Slurm or munge missing)
or podman cannot run containers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import neuro_sync
from neuro_sync.local import LocalPlatform
from neuro_sync.local.podman_cli import BUSYBOX_BINARY, Podman
from neuro_sync.local.slurm_cluster import LocalCluster, cluster_unavailable

from .helpers import release_store

START_TIMES: list[float] = []  # seconds each cluster took to start (reported by test_cluster)


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    why = cluster_unavailable()
    if why is not None:
        pytest.skip(why)
    if not Podman.installed():
        pytest.skip("podman is not installed (apt-get install podman runc busybox-static)")
    if not BUSYBOX_BINARY.exists():
        pytest.skip(f"{BUSYBOX_BINARY} is missing (apt-get install busybox-static)")
    started = time.monotonic()
    c = LocalCluster(nodes=3, cpus=2, memory_mb=1000)
    try:
        c.start()
    except RuntimeError as err:
        pytest.skip(f"a private Slurm cluster cannot start here: {err}")
    START_TIMES.append(time.monotonic() - started)
    try:
        yield c
    finally:
        c.stop()


def slurm_platform(cluster: LocalCluster, data_dir: Path) -> LocalPlatform:
    return LocalPlatform(data_dir, runtime="slurm", slurm_conf=cluster.conf).start()


@pytest.fixture(scope="module")
def platform(
    cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalPlatform]:
    lp = slurm_platform(cluster, tmp_path_factory.mktemp("slurm-platform"))
    try:
        yield lp
    finally:
        cancel_all(cluster)
        lp.stop()
        release_store(lp.data_dir)


def cancel_all(cluster: LocalCluster) -> None:
    """Cancel every job of the cluster and wait until none is left running."""
    cluster.cancel_all()


@pytest.fixture
def client(platform: LocalPlatform) -> Iterator[neuro_sync.Client]:
    with neuro_sync.Client(platform.url, platform.token, timeout=(5, 30)) as c:
        yield c
