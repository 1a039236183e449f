"""`--image-store` (issue 19 item 5, issue 21 item 9): an image the user built with podman on
this machine runs by its plain name; the host store is only read.

The "host store" is a podman storage in a temporary directory, where the test builds
`my-image:dev` with `podman build` from the busybox image, as a user would in theirs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import neuro_sync
from neuro_sync import JobStatus, RemoteImage
from neuro_sync.local import LocalPlatform
from neuro_sync.local.podman_cli import BUILTIN_IMAGE, BUSYBOX_BINARY, Podman, build_busybox_image

from .conftest import podman_platform
from .test_podman_jobs import finished, log_of, run, running

pytestmark = [pytest.mark.integration, pytest.mark.podman]


def images(podman: Podman) -> list[str]:
    listed = podman.run("images", "--format", "{{.Repository}}:{{.Tag}}").check("images")
    return sorted(listed.out.decode().split())


@pytest.fixture(scope="module")
def host_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A podman storage where `podman build -t my-image:dev .` was run."""
    if not Podman.installed() or not BUSYBOX_BINARY.exists():
        pytest.skip("podman or busybox-static is not installed")
    base = tmp_path_factory.mktemp("host-podman")
    host = Podman(base / "state")
    host.configure()
    try:
        build_busybox_image(host, BUILTIN_IMAGE)
        context = base / "context"
        context.mkdir()
        (context / "Containerfile").write_text(
            f"FROM {BUILTIN_IMAGE}\nRUN echo built-on-the-host > /hello\n"
        )
        built = host.run("build", "--network", "none", "-t", "my-image:dev", str(context))
        if built.code != 0:
            pytest.skip(f"podman build cannot run here: {built.err.decode()[-300:]}")
    finally:
        host.release()
    yield base / "state" / "root"


@pytest.fixture(scope="module")
def platform(host_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    lp = podman_platform(tmp_path_factory.mktemp("store-platform"), image_store=host_store)
    try:
        yield lp
    finally:
        lp.stop()


def test_an_image_built_on_the_host_runs_by_its_plain_name(
    platform: LocalPlatform, host_store: Path
) -> None:
    host = Podman(host_store.parent)
    before = images(host)
    assert "localhost/my-image:dev" in before
    with neuro_sync.Client(platform.url, platform.token, timeout=(5, 30)) as client:
        job = finished(client, run(client, "cat /hello", image=RemoteImage("my-image", "dev")))
        assert job.status is JobStatus.SUCCEEDED, job.history
        assert log_of(client, job) == b"built-on-the-host\n"

        # What the platform writes stays in its own storage: a save, for one.
        sleeper = running(client, run(client, "sleep 600", image=RemoteImage("my-image", "dev")))
        registry = client.config.registry_host
        saved = RemoteImage("kept", "v1", owner=client.username, registry=registry)
        try:
            client.jobs.save(sleeper.id, saved)
        finally:
            client.jobs.kill(sleeper.id)
        again = finished(client, run(client, "cat /hello", image=saved))
        assert log_of(client, again) == b"built-on-the-host\n"
    try:
        assert images(host) == before  # read, never written
    finally:
        host.release()


def test_without_the_store_the_image_is_not_there(tmp_path: Path, host_store: Path) -> None:
    lp = podman_platform(tmp_path / "data")
    try:
        with neuro_sync.Client(lp.url, lp.token, timeout=(5, 30)) as client:
            job = finished(client, run(client, "true", image=RemoteImage("my-image", "dev")))
            assert (job.status, job.history.reason) == (JobStatus.FAILED, "Collected")
    finally:
        lp.stop()


def test_a_path_that_is_no_image_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not a podman image store"):
        LocalPlatform(tmp_path / "data", runtime="podman", image_store=tmp_path).start()


def test_config_names_the_store(platform: LocalPlatform, host_store: Path) -> None:
    headers = {"Authorization": f"Bearer {platform.token}"}
    config = requests.get(f"{platform.url}/config", headers=headers, timeout=10)
    assert config.json()["local_platform"]["image_store"] == str(host_store)


def test_the_command_line_flag(tmp_path: Path) -> None:
    # Checked before podman is even looked for: a wrong path is an error, never a fallback.
    done = subprocess.run(
        [sys.executable, "-m", "neuro_sync.local", "--port", "0", "--data-dir"]
        + [str(tmp_path / "data"), "--image-store", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"--image-store {tmp_path}: not a podman image store" in done.stderr


def test_neuro_sync_run_my_image(platform: LocalPlatform, tmp_path: Path) -> None:
    # Issue 21, item 9, as a user types it after `podman build -t my-image:dev .`.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO_SYNC_", "NEUROM"))}
    env = base | {"HOME": str(tmp_path), "NEUROMATION_CONFIG": str(platform.config_path)}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("neuro-sync")), "run", "my-image:dev", "cat /hello"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, b"built-on-the-host\n"), done.stderr
