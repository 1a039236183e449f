"""The pure parts of the Slurm runtime: the batch script, the state mapping. No cluster."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from neuro_sync.local.podman_cli import Podman, run_argv
from neuro_sync.local.slurm_runtime import (
    FINAL_STATES,
    SLURM_JOB_ID,
    STATE_REASONS,
    SlurmRuntime,
    _jobs_of,
    _parse_jobcomp,
    _without_terminal,
    batch_script,
)
from neuro_sync.local.slurm_volumes import commands
from neuro_sync.local.store import JobRecord

from .helpers import mounts_under

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


class _Listing:
    """`Slurm.jobs` of a runtime under test: a fixed `squeue --json` listing."""

    def __init__(self, jobs: list[dict[str, Any]]) -> None:
        self._jobs = jobs

    def jobs(self) -> list[dict[str, Any]]:
        return self._jobs


def _recovering(tmp_path: Path, listing: list[dict[str, Any]], jobcomp: str = "") -> SlurmRuntime:
    """A Slurm runtime's recovery state, without a cluster."""
    runtime = object.__new__(SlurmRuntime)
    runtime.data_dir = tmp_path
    runtime.slurm = _Listing(listing)  # type: ignore[assignment]
    runtime.jobcomp = tmp_path / "jobcomp.txt"
    runtime.jobcomp.write_text(jobcomp)
    runtime.podman = Podman(tmp_path / "podman")
    runtime._jobs, runtime._adopt = {}, {}
    return runtime


def _slurm_job(slurm_id: int, state: str) -> dict[str, Any]:
    return {"job_id": slurm_id, "name": JOB_ID, "job_state": state}


def test_a_job_waiting_to_restart_never_adopts_an_attempt_already_counted(tmp_path: Path) -> None:
    # Pending again after its attempt 7 ended (counted in `restarts`): neither squeue, the
    # job-completion file nor the job's `slurm_id` file may make attempt 7 run on.
    job = record(command="true")
    job.extra[SLURM_JOB_ID] = 7
    (tmp_path / "jobs" / JOB_ID).mkdir(parents=True)
    (tmp_path / "jobs" / JOB_ID / "slurm_id").write_text("7\n")
    (tmp_path / "jobs" / JOB_ID / "exit").write_text("1\n")
    ended = f"JobId=7 Name={JOB_ID} JobState=FAILED\n"
    runtime = _recovering(tmp_path, [_slurm_job(7, "FAILED")], ended)
    assert runtime.recover([job]) == set()
    assert (runtime._jobs, runtime._adopt) == ({}, {})  # submitted anew when it is due
    # The next attempt, submitted before the platform died: adopted, not submitted again.
    runtime = _recovering(tmp_path, [_slurm_job(7, "FAILED"), _slurm_job(9, "RUNNING")], ended)
    assert runtime.recover([job]) == set()
    assert runtime._adopt == {JOB_ID: 9}
    # A running job (its pid is its attempt's Slurm job) is followed as before.
    job.pid = 9
    runtime = _recovering(tmp_path, [_slurm_job(7, "FAILED"), _slurm_job(9, "RUNNING")], ended)
    assert runtime.recover([job]) == {JOB_ID}
    assert runtime._jobs[JOB_ID].slurm_id == 9


def test_release_unmounts_a_store_mounted_twice(tmp_path: Path) -> None:
    # Two podman processes of job scripts that both found the store unmounted each mount it.
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    podman = Podman(tmp_path / "podman")
    home = podman.state_dir / "root" / "overlay"
    home.mkdir(parents=True)
    for _ in range(2):
        subprocess.run(["mount", "--bind", str(home), str(home)], check=True, timeout=30)
    try:
        assert mounts_under(home) == [str(home)] * 2
        podman.release()
        assert mounts_under(tmp_path) == []
    finally:
        for _ in mounts_under(home):
            subprocess.run(["umount", "-l", str(home)], check=False, timeout=30)


def test_a_tty_job_gets_no_terminal_but_its_own_arguments_stay() -> None:
    args = ["run", "--name", "x", "--tty", "--interactive", "--", "busybox", "cmd", "--tty"]
    assert _without_terminal(args) == ["run", "--name", "x", "--", "busybox", "cmd", "--tty"]
