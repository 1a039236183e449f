"""Container fixtures: one local platform with the podman runtime for the directory, and a
test image (busybox plus a marker file) built into its private podman storage.

Skipped, with the reason, where podman cannot run containers (not installed, no static
busybox to build the image from, or the trial container fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import neuro_sync
from neuro_sync.local import LocalPlatform
from neuro_sync.local.podman_cli import BUSYBOX_BINARY, Podman, build_busybox_image

# The test image: RemoteImage("nstest") is docker.io/library/nstest:latest to podman.
TEST_IMAGE = "docker.io/library/nstest:latest"
MARKER = b"only-in-the-test-image\n"


def platform_podman(platform: LocalPlatform) -> Podman:
    """The podman CLI bound to a platform's private storage."""
    return Podman(platform.data_dir / "podman")


def podman_platform(data_dir: Path, **settings: Any) -> LocalPlatform:
    """A started LocalPlatform(runtime="podman", **settings), or a skip saying why podman
    cannot run."""
    if not Podman.installed():
        pytest.skip("podman is not installed (apt-get install podman runc busybox-static)")
    if not BUSYBOX_BINARY.exists():
        pytest.skip(f"{BUSYBOX_BINARY} is missing (apt-get install busybox-static)")
    lp = LocalPlatform(data_dir, runtime="podman", **settings)
    try:
        lp.start()
    except RuntimeError as err:
        pytest.skip(f"podman cannot run containers here: {err}")
    return lp


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    lp = podman_platform(tmp_path_factory.mktemp("podman-platform"))
    try:
        build_busybox_image(platform_podman(lp), TEST_IMAGE, {"etc/marker": MARKER})
        yield lp
    finally:
        lp.stop()


@pytest.fixture
def client(platform: LocalPlatform) -> Iterator[neuro_sync.Client]:
    with neuro_sync.Client(platform.url, platform.token, timeout=(5, 30)) as c:
        yield c
