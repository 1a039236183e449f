"""Proxy settings follow `os.environ` as it is at each call, although they are cached."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import ClientFactory, json_body, wire_job
from .faultserver import FaultServer, reply

pytestmark = pytest.mark.sockets

JOB = reply(200, json_body(wire_job()))


@pytest.fixture
def proxy() -> Iterator[FaultServer]:
    with FaultServer(JOB) as s:
        yield s


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_proxy_set_or_lifted_later_is_honoured(
    server: FaultServer,
    proxy: FaultServer,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    server.script(JOB)
    client = make_client()
    client.jobs.status("job-1")  # direct: the environment has no proxy (and NO_PROXY=127.0.0.1)
    assert len(server.requests) == 1

    monkeypatch.setenv(variable, proxy.url)
    monkeypatch.delenv("NO_PROXY")
    client.jobs.status("job-1")
    assert len(server.requests) == 1
    # A proxy is sent the absolute URL.
    assert [r.target for r in proxy.requests] == [f"{server.url}/api/v1/jobs/job-1"]

    monkeypatch.setenv("no_proxy", "127.0.0.1")
    client.jobs.status("job-1")
    assert len(server.requests) == 2
    assert len(proxy.requests) == 1

    monkeypatch.delenv("no_proxy")
    monkeypatch.delenv(variable)
    client.jobs.status("job-1")
    assert len(server.requests) == 3
    assert len(proxy.requests) == 1


def test_the_cache_stays_small(
    server: FaultServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.script(JOB)
    client = make_client()
    for i in range(100):
        monkeypatch.setenv("NO_PROXY", f"127.0.0.1,host-{i}.invalid")
        client.jobs.status("job-1")
    assert len(client._transport.session._env_cache) <= 64
    assert len(server.requests) == 100
