"""The job -> Pod manifest (neuro_sync/local/kube.py), run for real by `podman kube play`:
podman builds its pause image locally from catatonit, nothing is pulled."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from neuro_sync.local.podman_cli import BUILTIN_IMAGE, BUSYBOX_BINARY, Podman, build_busybox_image
from neuro_sync.local.store import JobRecord

pytest.importorskip("kubernetes", reason="the kube extra is not installed")
from neuro_sync.local import kube  # noqa: E402 - after the skip

JOB_ID = "job-0b6c4a7e-7d0f-4a7a-9a52-2f5a3c1e9d11"


def record(**container: Any) -> JobRecord:
    c: dict[str, Any] = {"image": "busybox", "resources": {"cpu": 0.5, "memory_mb": 96}}
    c.update(container)
    return JobRecord(id=JOB_ID, owner="alice", container=c, created_at="2019-01-01T00:00:00+00:00")


def test_the_manifest_maps_the_job() -> None:
    job = record(
        entrypoint="sh -c",
        command="'echo $A'",
        env={"A": "1"},
        resources={"cpu": 1.5, "memory_mb": 256, "gpu": 1, "shm": True},
    )
    pod: Any = kube.pod_manifest(job, Path("/data"))  # the models type every field optional
    (c,) = pod.spec.containers
    assert (c.command, c.args, c.image) == (["sh", "-c"], ["echo $A"], BUILTIN_IMAGE)
    assert [(e.name, e.value) for e in c.env] == [("A", "1")]
    assert c.resources.limits == {"memory": "256Mi", "cpu": "1.5", "nvidia.com/gpu": "1"}
    assert c.resources.requests == c.resources.limits
    assert pod.spec.restart_policy == "Never"
    assert pod.spec.volumes[0].empty_dir.medium == "Memory"
    assert pod.metadata.labels["io.neuro-sync.job"] == JOB_ID


@pytest.fixture
def podman(tmp_path: Path) -> Iterator[Podman]:
    if os.geteuid() != 0:
        pytest.skip("podman kube play here needs root")
    if not Podman.installed() or not BUSYBOX_BINARY.exists():
        pytest.skip("podman or busybox-static is not installed")
    if shutil.which("catatonit") is None:
        pytest.skip("catatonit is not installed (podman builds its pause image from it)")
    p = Podman(tmp_path / "podman")
    p.configure()
    build_busybox_image(p, BUILTIN_IMAGE)
    try:
        yield p
    finally:
        p.run("pod", "rm", "--all", "--force", timeout=120)
        p.release()


@pytest.mark.podman
@pytest.mark.integration
def test_podman_kube_play_runs_the_manifest(podman: Podman, tmp_path: Path) -> None:
    script = (
        "echo $GREETING; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
        "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us; exit 3"
    )
    job = record(command=f"sh -c '{script}'", env={"GREETING": "hello from the pod"})
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(kube.pod_yaml(job, tmp_path))
    podman.run("kube", "play", "--network", "none", str(manifest), timeout=120).check("kube play")
    name = f"neuro-{JOB_ID}-job"
    waited = podman.run("wait", name, timeout=120).check("wait")
    assert waited.out.decode().strip() == "3"
    lines = podman.run("logs", name, timeout=60).check("logs").out.decode().split()
    assert lines[:2] == ["hello", "from"]
    assert int(lines[4]) == 96 * 1024 * 1024
    assert int(lines[5]) == 50000  # 0.5 CPU of a 100 ms period
    podman.run("kube", "down", str(manifest), timeout=120).check("kube down")
    left = podman.run("ps", "-a", "--format", "{{.Names}}").out.decode()
    assert name not in left
