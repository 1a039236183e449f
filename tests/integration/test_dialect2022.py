"""The client in the 2022 dialect against the local platform serving it (real sockets, real
processes): run with tags, a life span and a restart policy, status, list with tag/limit
filters (NDJSON), bump the life span, kill -> cancelled. And the same client code under 2019
against a 2019 platform refuses the 2022 arguments without sending."""

from __future__ import annotations

import datetime
import uuid

import pytest

import neuro_sync
from neuro_sync import Container, JobRestartPolicy, JobStatus, RemoteImage, Resources
from neuro_sync.local import LocalPlatform

SLEEPER = Container(RemoteImage("ubuntu"), Resources(64, 0.1), command="sleep 600")


def test_a_2022_job_from_run_to_cancelled(client22: neuro_sync.Client) -> None:
    tag = f"t-{uuid.uuid4().hex[:8]}"
    job = client22.jobs.run(
        SLEEPER,
        tags=[tag, "dialect"],
        life_span=600,
        restart_policy=JobRestartPolicy.ON_FAILURE,
    )
    try:
        seen = client22.jobs.status(job.id)
        assert seen.tags == tuple(sorted([tag, "dialect"]))
        assert seen.life_span == 600.0
        assert seen.restart_policy is JobRestartPolicy.ON_FAILURE
        assert seen.history.transitions[0].status is JobStatus.PENDING

        other = client22.jobs.run(SLEEPER, tags=[tag])
        try:
            # Newest first, at most one: the second job alone; both by the shared tag.
            newest = client22.jobs.list(tags=[tag], reverse=True, limit=1)
            assert [j.id for j in newest] == [other.id]
            assert [j.id for j in client22.jobs.list(tags=[tag])] == [job.id, other.id]
            assert [j.id for j in client22.jobs.list(tags=[tag, "dialect"])] == [job.id]
            with client22.jobs.iter(tags=[tag], limit=1) as jobs:
                assert [j.id for j in jobs] == [job.id]
        finally:
            client22.jobs.kill(other.id)

        client22.jobs.bump_life_span(job.id, 120)
        assert client22.jobs.status(job.id).life_span == 720.0
    finally:
        client22.jobs.kill(job.id)
    done = client22.jobs.wait(job.id, max_time=60, poll_interval=0.1)
    assert done.status is JobStatus.CANCELLED
    assert done.history.reason == "UserRequested"
    assert done.history.transitions[-1].status is JobStatus.CANCELLED
    with pytest.raises(neuro_sync.IllegalArgumentError):
        client22.jobs.bump_life_span(job.id, 60)  # a finished job


def test_the_2022_keys_a_2022_client_sends_take_effect(client22: neuro_sync.Client) -> None:
    # `scheduler_enabled` and `resources.memory` (bytes) are all the platform gets for these
    container = Container(RemoteImage("ubuntu"), Resources(96, 0.1), command="sleep 600")
    job = client22.jobs.run(container, is_preemptible=True)
    try:
        seen = client22.jobs.status(job.id)
        assert seen.is_preemptible is True
        assert seen.container.resources.memory_mb == 96
    finally:
        client22.jobs.kill(job.id)


def test_the_2019_client_refuses_2022_arguments_against_a_2019_platform(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with (
        LocalPlatform(tmp_path_factory.mktemp("platform-2019"), runtime="process") as lp,
        neuro_sync.Client(lp.url, lp.token, timeout=(5, 30)) as client,
    ):
        with pytest.raises(neuro_sync.ValidationError, match="2022"):
            client.jobs.run(SLEEPER, tags=["x"])
        with pytest.raises(neuro_sync.ValidationError, match="2022"):
            client.jobs.list(limit=1)
        assert client.jobs.list() == []  # nothing was created


def test_2022_logs_with_times_and_since_and_a_job_by_name(client22: neuro_sync.Client) -> None:
    name = f"n-{uuid.uuid4().hex[:8]}"
    talker = Container(
        RemoteImage("ubuntu"), Resources(64, 0.1), command="sh -c 'echo one; echo two'"
    )
    job = client22.jobs.run(talker, name=name)
    done = client22.jobs.wait(name, max_time=60, poll_interval=0.1)  # status by name
    assert done.id == job.id
    assert done.status is JobStatus.SUCCEEDED
    with client22.jobs.logs(name, timestamps=True) as lines:
        stamped = list(lines)
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "two"]
    first = datetime.datetime.fromisoformat(stamped[0].split(" ", 1)[0])
    assert first.tzinfo is not None
    # Since a moment after the last line was written: nothing.
    later = datetime.datetime.fromisoformat(stamped[1].split(" ", 1)[0])
    with client22.jobs.logs(job.id, since=later + datetime.timedelta(seconds=1)) as lines:
        assert list(lines) == []
    with client22.jobs.monitor(job.id, since=first, timeout=(5, 30)) as stream:
        assert stream.read() == b"one\ntwo\n"

    sleeper = client22.jobs.run(SLEEPER, name=f"{name}-k")
    client22.jobs.kill(f"{name}-k")  # kill by name
    ended = client22.jobs.wait(sleeper.id, max_time=60, poll_interval=0.1)
    assert ended.status is JobStatus.CANCELLED
