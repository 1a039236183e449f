"""Volumes on the Slurm runtime are pinned on the node, inside the Slurm job (issue 19, item 1):
a directory of the job owner's storage swapped for a symlink after the platform submitted the
job is never followed, and the node keeps no mount of it once the job is over.

Runs against the private 3-node cluster (tests/slurm/conftest.py) as root.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import neuro_sync
from neuro_sync import JobStatus, Volume
from neuro_sync.local import LocalPlatform
from neuro_sync.local.podman_cli import is_mount_point, stage_volumes
from neuro_sync.local.slurm_cluster import LocalCluster
from neuro_sync.local.slurm_runtime import Slurm, SlurmRuntime
from neuro_sync.local.store import JobRecord
from tests.support.storage_attacks import Swap, log_of, race_to_swap, storage

from .conftest import slurm_platform
from .helpers import finished, release_store, run, running, slurm_jobs, wait_until

pytestmark = [pytest.mark.slurm, pytest.mark.integration]


def mounts_of(platform: LocalPlatform, job_id: str) -> Path:
    return platform.data_dir / "podman" / "jobs" / job_id / "mounts"


def test_a_directory_swapped_for_a_symlink_after_submission_is_not_followed(
    monkeypatch: pytest.MonkeyPatch,
    platform: LocalPlatform,
    client: neuro_sync.Client,
    tmp_path: Path,
) -> None:
    # The swap (see `Swap`) happens after the platform checked the volume and wrote the
    # batch script, just before Slurm gets it: today's podman runtime's mount-time pinning
    # must run on the node for the job to refuse the symlink instead of mounting the host.
    swap = Swap(platform, client, tmp_path)
    slurm_run = Slurm.run

    def swap_then_submit(self: Slurm, *argv: str, **kw: Any) -> str:
        if argv[:1] == ("sbatch",):
            swap.now()
        return slurm_run(self, *argv, **kw)

    monkeypatch.setattr(Slurm, "run", swap_then_submit)
    command = "sh -c 'cat /data/which; touch /data/written'"
    job = finished(client, run(client, command, volumes=[swap.volume]))
    monkeypatch.undo()
    assert swap.victim.is_symlink()  # the swap happened
    assert b"host" not in log_of(client, job)
    assert sorted(p.name for p in swap.secret.iterdir()) == ["which"]  # nothing written there
    assert job.status is JobStatus.FAILED, job.history
    assert "Invalid path" in (job.history.description or "")
    wait_until(lambda: not mounts_of(platform, job.id).exists(), "the job's mounts to go")


@pytest.mark.parametrize("end", ["exit", "scancel"])
def test_the_node_unmounts_a_pinned_volume_when_the_job_ends(
    end: str,
    platform: LocalPlatform,
    client: neuro_sync.Client,
    cluster: LocalCluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The node's script releases them itself: the platform's own release (for scripts
    # SIGKILLed before they could) is switched off here.
    monkeypatch.setattr(SlurmRuntime, "_release", lambda self, job_id: None)
    home = storage(platform, client)
    (home / "kept").mkdir(exist_ok=True)
    (home / "kept" / "which").write_text("storage\n")
    volume = Volume(f"storage://{client.username}/kept", "/data", read_only=True)
    gate = home / f"gate-{end}-{os.getpid()}"  # the storage outlives the test: a new one
    command = "sh -c 'cat /data/which; while [ ! -e /gate/go ]; do sleep 0.1; done'"
    gate_volume = Volume(f"storage://{client.username}/{gate.name}", "/gate", read_only=True)
    job = running(client, run(client, command, volumes=[volume, gate_volume]))
    mounts = mounts_of(platform, job.id)
    assert is_mount_point(mounts / "0") and is_mount_point(mounts / "1")  # pinned on the node
    if end == "exit":
        (gate / "go").touch()
    else:  # as an admin's scancel: SIGTERM to the script, whose trap stops the container
        (slurm,) = slurm_jobs(cluster, job.id)
        subprocess.run(["scancel", str(slurm["job_id"])], env=cluster.env, check=True, timeout=30)
    wait_until(lambda: not mounts.exists(), "the node to release the job's mounts")
    assert (home / "kept" / "which").read_text() == "storage\n"  # the storage is untouched
    done = finished(client, job)
    assert log_of(client, done) == b"storage\n"
    assert done.status is (JobStatus.SUCCEEDED if end == "exit" else JobStatus.FAILED), done.history


def test_a_job_racing_to_swap_its_storage_never_mounts_the_host(
    platform: LocalPlatform, client: neuro_sync.Client, tmp_path: Path
) -> None:
    # The same attack by a real job on a node, in a loop, against jobs started meanwhile
    # on any node.
    race_to_swap(
        platform,
        client,
        tmp_path,
        run=run,
        finished=finished,
        victims=4,
        before_victims=lambda attacker: running(client, attacker),
    )


def test_a_restart_releases_the_mounts_a_killed_script_left(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    # A batch script SIGKILLed by Slurm (past its KillWait) cannot release the volumes it
    # pinned; the next start of the platform does, for every job Slurm no longer runs.
    data = tmp_path / "data"
    slurm_platform(cluster, data).stop()
    (data / "storage" / "user" / "left").mkdir(parents=True)
    volume = {"src_storage_uri": "storage://user/left", "dst_path": "/d", "read_only": False}
    gone = JobRecord(id="job-gone", owner="user", container={"volumes": [volume]}, created_at="")
    mounts = data / "podman" / "jobs" / gone.id / "mounts"
    stage_volumes(data, gone, mounts)  # what the node's `slurm_volumes stage` did
    assert is_mount_point(mounts / "0")
    lp = slurm_platform(cluster, data)
    try:
        assert not is_mount_point(mounts / "0")
        assert not mounts.parent.exists()
        assert (data / "storage" / "user" / "left").is_dir()  # the storage itself stays
    finally:
        lp.stop()
        release_store(data)
