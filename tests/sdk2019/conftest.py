"""The real 2019 SDK (`neuromation==19.8.23`, a venv of its own) against the local platform
in its default, 2019 dialect: what that SDK does must keep working. One SDK client serves the
session (`driver.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.peer_sdk import SDK_2019
from neuro_sync.local import LocalPlatform

from ..support.released_sdk import Sdk, sdk_python

DRIVER = Path(__file__).with_name("driver.py")


@pytest.fixture(scope="session")
def platform2019(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(tmp_path_factory.mktemp("sdk2019-platform"), runtime="process") as lp:
        yield lp


@pytest.fixture(scope="session")
def sdk(platform2019: LocalPlatform) -> Iterator[Sdk]:
    client = Sdk(sdk_python(SDK_2019), DRIVER, platform2019.url, platform2019.token)
    yield client
    client.close()
