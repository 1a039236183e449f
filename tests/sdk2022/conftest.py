"""The real neuro-sdk 22.7.1 (a venv of its own, tests/support/released_sdk.py) against a
2022-dialect local platform. One SDK client serves the session (`driver.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.peer_sdk import SDK_2022
from neuro_sync.local import LocalPlatform

from ..support.released_sdk import Sdk, sdk_python

DRIVER = Path(__file__).with_name("driver.py")
# Life spans are whole minutes on the wire (at least one): this platform's minute is one
# second, so that a life span really ends within a test.
MINUTE = 1.0

__all__ = ["Sdk"]


@pytest.fixture(scope="session")
def platform2022(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(
        tmp_path_factory.mktemp("sdk2022-platform"),
        dialect="2022",
        runtime="process",
        life_span_minute=MINUTE,
    ) as lp:
        yield lp


@pytest.fixture(scope="session")
def sdk(platform2022: LocalPlatform) -> Iterator[Sdk]:
    client = Sdk(sdk_python(SDK_2022), DRIVER, platform2022.url, platform2022.token)
    yield client
    client.close()
