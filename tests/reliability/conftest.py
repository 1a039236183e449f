"""Reliability-test fixtures: a canary token, job objects as the 2019 server sends them, the
socket fault server, and clients pointed at it with short timeouts and a recorded (not slept)
backoff.

Independent of `tests/unit/conftest.py` on purpose: these tests talk to real sockets and must not
inherit anything that mocks HTTP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

import neuro_sync
from neuro_sync import ClusterConfig
from tests.support import wire
from tests.support.wire import USER

from .faultserver import FaultServer

# The signature is the secret part of a JWT; tests look for it as well as for the whole token,
# so that a leak of a token cut short is caught too.
CANARY_SIGNATURE = "Q0FOQVJZLWNhbmFyeS1zZWNyZXQtN2YzYzE5ZTItc2lnbmF0dXJl"

# Short timeouts: every fault must surface well within these, and the suite stays fast.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 0.5


def make_token(user: str = USER) -> str:
    return wire.make_jwt({"identity": user}, signature=CANARY_SIGNATURE)


TOKEN = make_token()


def cluster_config(api_url: str) -> ClusterConfig:
    """The cluster part of /config for an API at `api_url` (monitoring under the same host)."""
    return wire.cluster_config(api_url)


def config_payload(api_url: str) -> dict[str, Any]:
    """`GET /config` as the 2019 server sends it for an accepted token (monitoring under the
    same host)."""
    return wire.config_payload(base=api_url, monitoring_url=f"{api_url}/jobs")


def wire_job(
    id: str = "job-1",
    *,
    status: str = "pending",
    name: str | None = None,
    owner: str = USER,
    **container: Any,
) -> dict[str, Any]:
    """A job object as the 2019 server sends it (docs/protocol.md §2.6); `container` keys replace
    those of its container object as given (wire values, e.g. `http={...}`)."""
    finished = status in ("succeeded", "failed")
    job = wire.make_job(
        id=id, status=status, name=name, owner=owner, exit_code=0 if finished else None
    )
    job["container"].update(container)
    return job


def timed(fn: Callable[[], object]) -> tuple[BaseException | None, float]:
    """What `fn` raised (or None) and how long it took, in seconds."""
    start = time.monotonic()
    try:
        fn()
    except BaseException as err:  # noqa: BLE001 - the test inspects it
        return err, time.monotonic() - start
    return None, time.monotonic() - start


def small_container() -> neuro_sync.Container:
    return neuro_sync.Container(
        image=neuro_sync.RemoteImage("ubuntu"),
        resources=neuro_sync.Resources(memory_mb=16, cpu=0.1),
        command="sleep 1",
    )


def record_sleeps(client: neuro_sync.Client) -> list[float]:
    """Replace the transport's backoff sleep by a recorder; returns the list it appends to."""
    sleeps: list[float] = []
    client._transport.sleep = sleeps.append
    return sleeps


class FaultClient(neuro_sync.Client):
    """A `Client` whose backoff sleeps are recorded in `.sleeps` rather than slept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sleeps = record_sleeps(self)


ClientFactory = Callable[..., FaultClient]


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No developer ~/.nmrc, ~/.netrc, proxy or NEURO_SYNC_* variable reaches these tests."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    for var in (
        "NEURO_SYNC_URL",
        "NEURO_SYNC_TOKEN",
        "NEUROMATION_CONFIG",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


@pytest.fixture
def make_client(server: FaultServer) -> Iterator[ClientFactory]:
    """`make_client(max_retries=0, ...)`: a client of the fault server (API base /api/v1) with
    short timeouts, the cluster config already known, and backoff sleeps recorded in
    `client.sleeps` instead of slept."""
    made: list[FaultClient] = []

    def make(
        *,
        url: str | None = None,
        token: str = TOKEN,
        max_retries: int = 0,
        timeout: float | tuple[float, float | None] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        **kwargs: Any,
    ) -> FaultClient:
        api = url or f"{server.url}/api/v1"
        kwargs.setdefault("cluster_config", cluster_config(api))
        client = FaultClient(api, token, max_retries=max_retries, timeout=timeout, **kwargs)
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()


def json_body(data: Mapping[str, Any] | list[Any]) -> bytes:
    return json.dumps(data).encode()
