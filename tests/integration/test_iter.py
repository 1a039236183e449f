"""`jobs.iter` against the local platform over real sockets: NDJSON, the same jobs as `list`."""

from __future__ import annotations

import pytest

import neuro_sync
from neuro_sync import Container, JobStatus, RemoteImage, Resources

pytestmark = pytest.mark.integration


def test_iter_streams_what_list_returns(client: neuro_sync.Client) -> None:
    container = Container(RemoteImage("ubuntu"), Resources(16, 0.1), command="true")
    started = [client.jobs.run(container).id for _ in range(3)]
    for job_id in started:
        client.jobs.wait(job_id, timeout=30, poll_interval=0.05)
    with client.jobs.iter() as jobs:
        assert jobs.ndjson  # the local platform serves NDJSON when asked
        streamed = list(jobs)
    assert streamed == client.jobs.list()
    assert [j.id for j in streamed][-3:] == started
    done = list(client.jobs.iter(statuses={JobStatus.SUCCEEDED}))
    assert {j.id for j in done} >= set(started)
