"""Volumes on the Slurm runtime are pinned on the node, inside the Slurm job (issue 19, item 1):
a directory of the job owner's storage swapped for a symlink after the platform submitted the
job is never followed, and the node keeps no mount of it once the job is over.

Runs against the private 3-node cluster (tests/slurm/conftest.py) as root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import neuro_sync
from neuro_sync import JobDescription, JobStatus, Volume
from neuro_sync.local import LocalPlatform
from neuro_sync.local.podman_cli import is_mount_point, stage_volumes
from neuro_sync.local.slurm_cluster import LocalCluster
from neuro_sync.local.slurm_runtime import Slurm
from neuro_sync.local.store import JobRecord

from .conftest import slurm_platform
from .helpers import finished, release_store, run, running, wait_until

pytestmark = [pytest.mark.slurm, pytest.mark.integration]


def storage(platform: LocalPlatform, client: neuro_sync.Client) -> Path:
    home = platform.data_dir / "storage" / client.username
    home.mkdir(parents=True, exist_ok=True)
    return home


def host_secret(tmp_path: Path) -> Path:
    """A host directory no job may see: a symlink to it is what an attacker plants."""
    secret = tmp_path / "host-only"
    secret.mkdir()
    (secret / "which").write_text("host\n")
    return secret


def log_of(client: neuro_sync.Client, job: JobDescription) -> bytes:
    with client.jobs.monitor(job.id) as stream:
        return b"".join(stream)


def mounts_of(platform: LocalPlatform, job_id: str) -> Path:
    return platform.data_dir / "podman" / "jobs" / job_id / "mounts"


def test_a_directory_swapped_for_a_symlink_after_submission_is_not_followed(
    platform: LocalPlatform,
    client: neuro_sync.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another job of the owner, with a writable volume of the same storage, can run
    # `mv swap away; ln -s /any/host/dir swap` at any moment: here, after the platform
    # checked the volume and wrote the batch script, just before Slurm gets it. The job
    # either mounts the directory that was there or refuses to start; it never sees the host.
    home = storage(platform, client)
    victim = home / "swap"
    victim.mkdir()
    (victim / "which").write_text("storage\n")
    secret = host_secret(tmp_path)
    slurm_run = Slurm.run

    def swap_then_submit(self: Slurm, *argv: str, **kw: Any) -> str:
        if argv[:1] == ("sbatch",) and not victim.is_symlink():
            victim.rename(home / "swapped-away")
            victim.symlink_to(secret)
        return slurm_run(self, *argv, **kw)

    monkeypatch.setattr(Slurm, "run", swap_then_submit)
    volume = Volume(f"storage://{client.username}/swap", "/data", read_only=False)
    job = finished(
        client, run(client, "sh -c 'cat /data/which; touch /data/written'", volumes=[volume])
    )
    monkeypatch.undo()
    assert victim.is_symlink()  # the swap happened
    assert b"host" not in log_of(client, job)
    assert sorted(p.name for p in secret.iterdir()) == ["which"]  # nothing written there
    assert job.status is JobStatus.FAILED, job.history
    assert "Invalid path" in (job.history.description or "")
    wait_until(lambda: not mounts_of(platform, job.id).exists(), "the job's mounts to go")


def test_a_pinned_volume_is_unmounted_when_the_job_is_cancelled(
    platform: LocalPlatform, client: neuro_sync.Client
) -> None:
    home = storage(platform, client)
    (home / "kept").mkdir(exist_ok=True)
    (home / "kept" / "which").write_text("storage\n")
    volume = Volume(f"storage://{client.username}/kept", "/data", read_only=True)
    job = running(client, run(client, "sh -c 'cat /data/which; sleep 600'", volumes=[volume]))
    mount = mounts_of(platform, job.id) / "0"
    assert is_mount_point(mount)  # pinned on the node (one host: our mount table)
    client.jobs.kill(job.id)
    finished(client, job)
    wait_until(lambda: not mounts_of(platform, job.id).exists(), "the job's mounts to go")
    assert (home / "kept" / "which").read_text() == "storage\n"  # the storage is untouched
    assert log_of(client, job) == b"storage\n"


def test_a_job_racing_to_swap_its_storage_never_mounts_the_host(
    platform: LocalPlatform, client: neuro_sync.Client, tmp_path: Path
) -> None:
    # The same attack by a real job on another node, in a loop, against jobs started
    # meanwhile: each of them either runs on the storage directory or fails to start.
    home = storage(platform, client)
    (home / "race" / "x").mkdir(parents=True)
    (home / "race" / "x" / "which").write_text("storage\n")
    secret = host_secret(tmp_path)
    swap = f"while true; do mv x y; ln -s {secret} x; rm x; mv y x; done"
    attacker = run(
        client,
        f"sh -c 'cd /s && {swap}'",
        volumes=[Volume(f"storage://{client.username}/race", "/s", read_only=False)],
    )
    try:
        running(client, attacker)
        volume = Volume(f"storage://{client.username}/race/x", "/data", read_only=True)
        victims = [run(client, "cat /data/which", volumes=[volume]) for _ in range(4)]
        for victim in victims:
            done = finished(client, victim)
            if done.status is JobStatus.SUCCEEDED:
                assert log_of(client, done) == b"storage\n"
            else:  # found a symlink on the way, or nothing: refused, or nothing to read
                assert b"host" not in log_of(client, done)
                assert "host" not in (done.history.description or "")
    finally:
        client.jobs.kill(attacker.id)


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
