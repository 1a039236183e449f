"""Unit-test fixtures: a JWT builder, a `/config` payload, a job factory (docs/protocol.md
§2.6) and a client whose HTTP is served by `responses`.

The builders live in `tests.support.wire` (shared with tests/reliability) and are re-exported
here, so parametrized tests can use them at collection time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import pytest
import responses

import neuro_sync
from tests.support.wire import (
    BASE,
    CREATED_AT,
    FINISHED_AT,
    JOB_ID,
    JOBS_DOMAIN,
    MONITORING,
    REGISTRY,
    REGISTRY_URL,
    SSH_SERVER,
    STARTED_AT,
    TOKEN,
    USER,
    config_payload,
    make_job,
    make_jwt,
)

__all__ = [
    "BASE",
    "CREATED_AT",
    "FINISHED_AT",
    "JOBS_DOMAIN",
    "JOB_ID",
    "MONITORING",
    "REGISTRY",
    "REGISTRY_URL",
    "SSH_SERVER",
    "STARTED_AT",
    "TOKEN",
    "USER",
    "config_payload",
    "make_job",
    "make_jwt",
    "request_json",
    "sent_kwargs",
    "sent_timeout",
]

JobFactory = Callable[..., dict[str, Any]]
JWTBuilder = Callable[[Mapping[str, object]], str]


@pytest.fixture
def jwt() -> JWTBuilder:
    """`jwt({"identity": "bob"})` -> a token whose user is bob."""
    return make_jwt


@pytest.fixture
def job_factory() -> JobFactory:
    """`job_factory(status="running", ...)` -> a job object (docs/protocol.md §2.6, `make_job`)."""
    return make_job


@pytest.fixture
def config_json() -> dict[str, Any]:
    return config_payload()


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test may see (or write) the developer's real ~/.nmrc or NEURO_SYNC_* variables."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("NEURO_SYNC_URL", "NEURO_SYNC_TOKEN", "NEUROMATION_CONFIG", "NEURO_SYNC_DIALECT"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """A `responses` mock that fails the test if a registered reply was never requested."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def client(mocked: responses.RequestsMock) -> Iterator[neuro_sync.Client]:
    """A client (no retries) whose cluster config was already fetched from `GET /config`.

    The /config call is cleared from `mocked.calls`, so a test's own requests start at 0.
    """
    yield from _configured(mocked)


@pytest.fixture
def client22(mocked: responses.RequestsMock) -> Iterator[neuro_sync.Client]:
    """The same as `client`, in the 2022 dialect."""
    yield from _configured(mocked, dialect="2022")


def _configured(mocked: responses.RequestsMock, **options: Any) -> Iterator[neuro_sync.Client]:
    mocked.get(f"{BASE}/config", json=config_payload())
    with neuro_sync.Client(BASE, TOKEN, max_retries=0, **options) as c:
        assert c.config.monitoring_url.host == "monitoring.test"
        mocked.calls.reset()
        yield c


def request_json(call: Any) -> Any:
    """The JSON body of a recorded `responses` call."""
    body = call.request.body
    assert body is not None
    return json.loads(body)


def sent_kwargs(call: Any) -> dict[str, Any]:
    """The keyword arguments (timeout, stream, verify...) `requests` sent a recorded call with."""
    kwargs: dict[str, Any] = cast(Any, call.request).req_kwargs
    return kwargs


def sent_timeout(call: Any) -> Any:
    """The `timeout` keyword `requests` was called with for a recorded call."""
    return sent_kwargs(call)["timeout"]
