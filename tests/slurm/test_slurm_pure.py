"""The pure parts of the Slurm runtime: the batch script, the state mapping. No cluster."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from neuro_sync.local.podman_cli import Podman, run_argv
from neuro_sync.local.slurm_runtime import (
    FINAL_STATES,
    STATE_REASONS,
    _jobs_of,
    _parse_jobcomp,
    batch_script,
)
from neuro_sync.local.slurm_volumes import commands
from neuro_sync.local.store import JobRecord

JOB_ID = "job-0b6c4a7e-7d0f-4a7a-9a52-2f5a3c1e9d11"


def record(**container: Any) -> JobRecord:
    """Alice's busybox job of 0.5 CPU and 64 MB, with `container` on top."""
    body = {"image": "busybox", "resources": {"cpu": 0.5, "memory_mb": 64}, **container}
    return JobRecord(id=JOB_ID, owner="alice", container=body, created_at="2019-01-01T00:00:00Z")


def test_the_batch_script_nests_the_podman_runtimes_container(tmp_path: Path) -> None:
    job = record(command="echo hi", env={"SECRET": "s3cr3t"})
    job_dir = tmp_path / "jobs" / JOB_ID
    image = "docker.io/library/busybox:latest"
    args = run_argv(job, image=image, data_dir=tmp_path, env_file=job_dir / "env")
    script = batch_script(Podman(tmp_path / "podman"), image, args, job_dir)
    assert subprocess.run(["sh", "-n"], input=script.encode(), check=False).returncode == 0
    assert "--cgroups=no-conmon" in script
    assert '--cgroup-parent="$cg"' in script
    assert "job_${SLURM_JOB_ID}/step_batch" in script
    assert "trap " in script and " stop -t 3 " in script
    assert "--memory 64m" in script and "--cpus 0.5" in script  # the podman runtime's mapping
    assert "s3cr3t" not in script  # variables travel in the env file, not in Slurm's copy


def test_the_batch_script_pins_volumes_on_the_node_around_podman_run(tmp_path: Path) -> None:
    volume = {"src_storage_uri": "storage://alice/d", "dst_path": "/d", "read_only": False}
    job = record(command="true", volumes=[volume])
    job_dir = tmp_path / "jobs" / JOB_ID
    mounts = tmp_path / "podman" / "jobs" / JOB_ID / "mounts"
    image = "docker.io/library/busybox:latest"
    args = run_argv(
        job, image=image, data_dir=tmp_path, env_file=job_dir / "env", sources=[mounts / "0"]
    )
    staging = commands(tmp_path, mounts, "alice", [volume])
    script = batch_script(Podman(tmp_path / "podman"), image, args, job_dir, staging)
    assert subprocess.run(["sh", "-n"], input=script.encode(), check=False).returncode == 0
    stage, run_at = script.index("slurm_volumes stage"), script.index(" run --cgroups")
    release = script.rindex("slurm_volumes release")
    assert stage < run_at < script.index("wait $child") < release  # pinned before, freed after
    assert f"src={mounts / '0'}," in script  # podman sees the pinned mount point only
    assert str(tmp_path / "storage") not in script  # no storage path for podman to follow
    assert "export PYTHONPATH=" in script


def test_every_abnormal_end_has_a_code_and_a_reason() -> None:
    assert set(STATE_REASONS) <= FINAL_STATES
    assert STATE_REASONS["OUT_OF_MEMORY"] == (137, "OOMKilled")
    assert STATE_REASONS["NODE_FAIL"][1] == "NotFound"


def test_listings_and_completion_records_parse() -> None:
    assert _jobs_of('{"jobs": [{"job_id": 3, "name": "x"}, 4]}') == [{"job_id": 3, "name": "x"}]
    assert _jobs_of("not json") == []
    line = "JobId=7 UserId=root(0) Name=job-1 JobState=OUT_OF_MEMORY ExitCode=0:125"
    record = _parse_jobcomp(line)
    assert (record["JobId"], record["Name"], record["JobState"]) == ("7", "job-1", "OUT_OF_MEMORY")
