"""Integration fixtures: the local platform on a free port, driven over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import neuro_sync
from neuro_sync.local import LocalPlatform


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(tmp_path_factory.mktemp("platform")) as lp:
        yield lp


@pytest.fixture
def client(platform: LocalPlatform) -> Iterator[neuro_sync.Client]:
    with neuro_sync.Client(platform.url, platform.token, timeout=(5, 30)) as c:
        yield c


@pytest.fixture
def client22(platform22: LocalPlatform) -> Iterator[neuro_sync.Client]:
    with neuro_sync.Client(platform22.url, platform22.token, timeout=(5, 30), dialect="2022") as c:
        yield c


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
