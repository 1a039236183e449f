"""What a hostile user cannot do on the podman runtime (issue 19, items 1-5).

Volumes are pinned (a directory swapped for a symlink while the container starts is never
followed), the platform never follows a job's symlinks with its own privileges, image names
are registry references only, saved images are their owner's. Runs against a real platform
with podman as root; skipped with the reason elsewhere (see conftest).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import pytest
import requests

import neuro_sync
from neuro_sync import JobStatus, RemoteImage, Volume
from neuro_sync.local import LocalPlatform
from neuro_sync.local.podman_cli import run_argv
from neuro_sync.local.podman_runtime import PodmanRuntime
from neuro_sync.local.store import JobRecord
from tests.support.storage_attacks import Swap, host_secret, log_of, race_to_swap, storage

from .test_podman_jobs import finished, run

pytestmark = [pytest.mark.integration, pytest.mark.podman]
# Volumes are bind-mounted by the platform itself (pinned), which takes root.
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="podman volumes need root")


@needs_root
def test_a_directory_swapped_for_a_symlink_before_podman_mounts_it_is_not_followed(
    platform: LocalPlatform,
    client: neuro_sync.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another job of the owner, with a writable volume of the same storage, can run
    # `mv swap away; ln -s /any/host/dir swap` at any moment. The test does exactly that at
    # the worst one: after the platform checked the volume, just before `podman run` starts.
    swap = Swap(platform, client, tmp_path)
    spawn = PodmanRuntime._spawn

    def swap_then_spawn(
        self: PodmanRuntime, args: list[str], log: IO[bytes] | None, cwd: Path | None = None
    ) -> object:
        if args[:1] == ["run"]:
            swap.now()
        return spawn(self, args, log, cwd)

    monkeypatch.setattr(PodmanRuntime, "_spawn", swap_then_spawn)
    job = finished(client, run(client, "cat /data/which", volumes=[swap.volume]))
    monkeypatch.undo()
    assert swap.victim.is_symlink()  # the swap happened
    assert log_of(client, job) == b"storage\n"  # and the job got the directory that was checked
    assert job.status is JobStatus.SUCCEEDED


@needs_root
def test_a_job_racing_to_swap_its_storage_never_mounts_the_host(
    platform: LocalPlatform, client: neuro_sync.Client, tmp_path: Path
) -> None:
    # The same attack by a real job, in a loop, against jobs started meanwhile.
    race_to_swap(platform, client, tmp_path, run=run, finished=finished, victims=6)


@needs_root
def test_a_missing_volume_directory_is_never_made_through_a_symlink(
    platform: LocalPlatform, client: neuro_sync.Client, tmp_path: Path
) -> None:
    home = storage(platform, client)
    secret = host_secret(tmp_path)
    (home / "planted").symlink_to(secret)  # what a job with a writable volume can leave
    volume = Volume(f"storage://{client.username}/planted/made", "/data", read_only=False)
    job = finished(client, run(client, "true", volumes=[volume]))
    assert job.status is JobStatus.FAILED
    assert "Invalid path" in (job.history.description or "")
    assert sorted(p.name for p in secret.iterdir()) == ["which"]  # nothing made there


@needs_root
def test_a_missing_volume_directory_is_made_in_the_storage(
    platform: LocalPlatform, client: neuro_sync.Client
) -> None:
    home = storage(platform, client)
    volume = Volume(f"storage://{client.username}/new/deeper", "/data", read_only=False)
    job = finished(client, run(client, "sh -c 'echo made > /data/f'", volumes=[volume]))
    assert job.status is JobStatus.SUCCEEDED
    assert (home / "new" / "deeper" / "f").read_text() == "made\n"


@needs_root
def test_job_files_and_mounts_are_gone_when_the_job_ends(
    platform: LocalPlatform, client: neuro_sync.Client
) -> None:
    storage(platform, client)
    volume = Volume(f"storage://{client.username}/ends", "/data", read_only=True)
    job = finished(client, run(client, "ls /data", env={"SECRET": "s3"}, volumes=[volume]))
    assert job.status is JobStatus.SUCCEEDED
    job_dir = platform.data_dir / "podman" / "jobs" / job.id
    mountinfo = Path("/proc/self/mountinfo").read_text()
    assert not job_dir.exists()  # env file, container id, pid, mount points
    assert str(job_dir) not in mountinfo


@pytest.mark.parametrize(
    "image",
    ["docker-archive:/tmp/x.tar", "dir:/etc", "containers-storage:busybox", "oci:/tmp/l"],
)
def test_a_transport_is_refused_at_submission(platform: LocalPlatform, image: str) -> None:
    body = {"container": {"image": image, "resources": {"cpu": 0.1, "memory_mb": 16}}}
    headers = {"Authorization": f"Bearer {platform.token}"}
    reply = requests.post(f"{platform.url}/jobs", json=body, headers=headers, timeout=30)
    assert reply.status_code == 400
    assert "is not an image reference" in reply.json()["error"]


def test_the_image_comes_after_double_dash() -> None:
    record = JobRecord(
        id="job-1",
        owner="alice",
        container={"image": "x", "resources": {"cpu": 1, "memory_mb": 16}, "volumes": []},
        created_at="2019-01-01T00:00:00+00:00",
    )
    args = run_argv(record, image="--privileged", data_dir=Path("/nowhere"), env_file=Path("e"))
    assert args[args.index("--") + 1] == "--privileged"


def test_a_saved_image_runs_only_for_its_owner(
    platform: LocalPlatform, client: neuro_sync.Client
) -> None:
    image = RemoteImage("mine", "v1", owner=client.username, registry=client.config.registry_host)
    stranger = platform.issue_token("stranger")
    with neuro_sync.Client(platform.url, stranger, timeout=(5, 30)) as other:
        with pytest.raises(neuro_sync.AuthorizationError):
            run(other, "true", image=image)
        assert other.jobs.list() == []
