"""Property tests of the parsers the reply-shape tests in tests/reliability/test_properties.py
do not reach: a list of random JSON, telemetry frames, save progress lines. Whatever comes in,
the result is a mapped object or `ResponseValidationError`, never anything else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

import neuro_sync
from neuro_sync import JobTelemetry
from neuro_sync._mapping import save_progress, telemetry_from_json
from tests.support.strategies import JSON, fuzz_settings, outcome
from tests.support.wire import cluster_config

from .conftest import BASE, MONITORING, TOKEN

FAST = fuzz_settings(100)


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[neuro_sync.Client]:
    cluster = cluster_config(BASE, MONITORING)
    with neuro_sync.Client(BASE, TOKEN, max_retries=0, cluster_config=cluster) as c:
        yield c


@FAST
@given(body=JSON)
def test_list_with_any_json(fuzz_client: neuro_sync.Client, body: Any) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/jobs", json=body)
        result = outcome(lambda: fuzz_client.jobs.list())
    assert result is None or result == []  # no real job can come out of random JSON


@FAST
@given(
    frame=JSON
    | st.fixed_dictionaries(
        {"cpu": JSON, "memory": JSON, "timestamp": JSON},
        optional={"gpu_duty_cycle": JSON, "gpu_memory": JSON},
    )
)
def test_telemetry_frames(frame: Any) -> None:
    result = outcome(lambda: telemetry_from_json(frame))
    assert result is None or isinstance(result, JobTelemetry)


@FAST
@given(line=st.binary(max_size=30) | JSON.map(lambda v: json.dumps(v).encode()))
def test_save_progress_lines(line: bytes) -> None:
    result = outcome(lambda: save_progress(line))
    assert result is None or isinstance(result, tuple)
