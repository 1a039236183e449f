"""The client against the local platform over real sockets: the whole job lifecycle."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

import neuro_sync
from neuro_sync import Container, HTTPPort, JobStatus, RemoteImage, Resources
from neuro_sync.local import LocalPlatform

SMALL = Resources(memory_mb=32, cpu=0.1)


def sh(script: str, **kwargs: object) -> Container:
    return Container(
        image=RemoteImage("busybox"),
        resources=SMALL,
        command=f"sh -c '{script}'",
        **kwargs,  # type: ignore[arg-type]
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_config_and_identity(client: neuro_sync.Client, platform: LocalPlatform) -> None:
    assert client.username == platform.user
    config = client.config
    assert str(config.monitoring_url) == platform.url + "/jobs"
    assert config.registry_host
    assert config.resource_presets


def test_run_wait_log_succeeded(client: neuro_sync.Client) -> None:
    name = unique("ok")
    job = client.jobs.run(
        sh("echo hello $WHO; echo second line", env={"WHO": "world"}),
        name=name,
        description="integration",
    )
    assert job.status in (JobStatus.PENDING, JobStatus.RUNNING)
    assert job.name == name
    assert job.description == "integration"
    assert job.container.image == RemoteImage("busybox", "latest")
    assert job.container.env == {"WHO": "world"}
    assert job.history.created_at is not None and job.history.created_at.tzinfo is not None
    done = client.jobs.wait(job.id, timeout=30, poll_interval=0.1)
    assert done.status is JobStatus.SUCCEEDED
    assert done.history.exit_code == 0
    assert done.history.reason == ""
    assert done.history.finished_at is not None
    with client.jobs.monitor(job.id) as log:
        assert log.read() == b"hello world\nsecond line\n"


def test_failure_carries_exit_code_and_tail(client: neuro_sync.Client) -> None:
    job = client.jobs.run(sh("echo boom >&2; exit 3"))
    done = client.jobs.wait(job.id, timeout=30, poll_interval=0.1)
    assert done.status is JobStatus.FAILED
    assert done.history.reason == "Error"
    assert done.history.exit_code == 3
    assert "boom" in done.history.description


def test_kill_running_job(client: neuro_sync.Client) -> None:
    job = client.jobs.run(sh("sleep 60"))
    client.jobs.wait(job.id, statuses={JobStatus.RUNNING}, timeout=30, poll_interval=0.1)
    client.jobs.kill(job.id)
    done = client.jobs.wait(job.id, timeout=30, poll_interval=0.1)
    assert done.status is JobStatus.SUCCEEDED
    assert done.history.reason == ""
    assert done.history.exit_code is None
    client.jobs.kill(job.id)  # idempotent
    assert client.jobs.status(job.id).status is JobStatus.SUCCEEDED


def test_live_log_streams_before_the_job_ends(client: neuro_sync.Client) -> None:
    job = client.jobs.run(sh("echo first; sleep 2; echo second"))
    with client.jobs.monitor(job.id) as log:
        chunks = iter(log)
        first = next(chunks)
        # The first line arrives while the job still runs.
        assert first.startswith(b"first")
        assert client.jobs.status(job.id).status is JobStatus.RUNNING
        rest = b"".join(chunks)
    assert (first + rest) == b"first\nsecond\n"


def test_top_gives_samples_then_not_running(client: neuro_sync.Client) -> None:
    job = client.jobs.run(sh("while true; do :; done"))
    client.jobs.wait(job.id, statuses={JobStatus.RUNNING}, timeout=30, poll_interval=0.1)
    samples = []
    with client.jobs.top(job.id) as top:
        for sample in top:
            samples.append(sample)
            if len(samples) == 2:
                break
    client.jobs.kill(job.id)
    assert all(s.memory > 0 and s.timestamp > 0 for s in samples)
    assert samples[1].timestamp > samples[0].timestamp
    client.jobs.wait(job.id, timeout=30, poll_interval=0.1)
    with pytest.raises(neuro_sync.JobNotRunning):
        with client.jobs.top(job.id) as top:
            list(top)


def test_top_unknown_job(client: neuro_sync.Client) -> None:
    with pytest.raises(neuro_sync.JobNotFound):
        client.jobs.top("job-" + str(uuid.uuid4()))


def test_schedule_timeout_on_oversized_job(client: neuro_sync.Client) -> None:
    huge = Container(
        image=RemoteImage("busybox"),
        resources=Resources(memory_mb=1024 * 1024, cpu=0.1),  # 1 TiB, the most the spec allows
        command="true",
    )
    job = client.jobs.run(huge, schedule_timeout=1)
    seen = client.jobs.status(job.id)
    assert seen.status is JobStatus.PENDING
    done = client.jobs.wait(job.id, timeout=30, poll_interval=0.2)
    assert done.status is JobStatus.FAILED
    assert done.history.reason == "ClusterScaleUpFailed"


def test_list_filters_and_order(client: neuro_sync.Client) -> None:
    name = unique("lst")
    first = client.jobs.run(sh("true"), name=name)
    client.jobs.wait(first.id, timeout=30, poll_interval=0.1)
    second = client.jobs.run(sh("sleep 30"), name=name)
    try:
        named = client.jobs.list(name=name)
        assert [j.id for j in named] == [first.id, second.id]  # oldest first
        client.jobs.wait(second.id, statuses={JobStatus.RUNNING}, timeout=30, poll_interval=0.1)
        running_ids = {j.id for j in client.jobs.list(statuses={JobStatus.RUNNING})}
        assert second.id in running_ids and first.id not in running_ids
        finished = client.jobs.list(statuses={JobStatus.SUCCEEDED, JobStatus.FAILED}, name=name)
        assert [j.id for j in finished] == [first.id]
    finally:
        client.jobs.kill(second.id)


def test_duplicate_live_name_is_rejected_then_reusable(client: neuro_sync.Client) -> None:
    name = unique("dup")
    job = client.jobs.run(sh("sleep 30"), name=name)
    with pytest.raises(neuro_sync.IllegalArgumentError, match="already exists"):
        client.jobs.run(sh("true"), name=name)
    client.jobs.kill(job.id)
    client.jobs.wait(job.id, timeout=30, poll_interval=0.1)
    again = client.jobs.run(sh("true"), name=name)
    assert again.name == name


def test_http_port_is_echoed(client: neuro_sync.Client) -> None:
    job = client.jobs.run(sh("true", http=HTTPPort(8080, requires_auth=False)), name=unique("web"))
    assert job.container.http == HTTPPort(8080, requires_auth=False)
    assert job.name is not None
    # The local platform serves the job on a port of its own, named or not.
    assert str(job.http_url.host).startswith("127.") and job.http_url.port
    client.jobs.wait(job.id, timeout=30, poll_interval=0.1)


def test_save_archives_the_job(client: neuro_sync.Client, platform: LocalPlatform) -> None:
    job = client.jobs.run(sh("echo data > result.txt; sleep 30"))
    client.jobs.wait(job.id, statuses={JobStatus.RUNNING}, timeout=30, poll_interval=0.1)
    image = RemoteImage("saved", "v1", owner=client.username, registry=client.config.registry_host)
    client.jobs.save(job.id, image)
    client.jobs.kill(job.id)
    client.jobs.wait(job.id, timeout=30, poll_interval=0.1)
    with pytest.raises(neuro_sync.JobSaveError, match="not running"):
        client.jobs.save(job.id, image)
    with pytest.raises(neuro_sync.ValidationError):
        client.jobs.save(job.id, RemoteImage("ubuntu"))


def test_unknown_job_errors(client: neuro_sync.Client) -> None:
    missing = "job-" + str(uuid.uuid4())
    with pytest.raises(neuro_sync.JobNotFound) as info:
        client.jobs.status(missing)
    assert isinstance(info.value, neuro_sync.ResourceNotFound)
    assert isinstance(info.value, neuro_sync.IllegalArgumentError)
    assert str(info.value) == f"no such job {missing}"
    with pytest.raises(neuro_sync.JobNotFound):
        client.jobs.kill(missing)
    with pytest.raises(neuro_sync.IllegalArgumentError):
        with client.jobs.monitor(missing) as log:
            log.read()


def test_auth_failures(platform: LocalPlatform) -> None:
    forged = platform.token[:-4] + ("AAAA" if not platform.token.endswith("AAAA") else "BBBB")
    with neuro_sync.Client(platform.url, forged) as bad:
        with pytest.raises(neuro_sync.AuthenticationError):
            bad.config  # noqa: B018 - the property makes the request
    with neuro_sync.Client(
        platform.url, forged, cluster_config=neuro_sync.get(platform.config_path).config
    ) as bad:
        with pytest.raises(neuro_sync.AuthenticationError):
            bad.jobs.list()


def test_other_users_job_is_forbidden(client: neuro_sync.Client, platform: LocalPlatform) -> None:
    job = client.jobs.run(sh("sleep 30"))
    try:
        with neuro_sync.Client(platform.url, platform.issue_token("mallory")) as other:
            assert job.id not in {j.id for j in other.jobs.list()}
            with pytest.raises(neuro_sync.AuthorizationError) as info:
                other.jobs.status(job.id)
            assert info.value.missing
            assert info.value.missing[0].action == "read"
            with pytest.raises(neuro_sync.AuthorizationError):
                other.jobs.kill(job.id)
    finally:
        client.jobs.kill(job.id)


def test_get_uses_the_written_config_file(
    platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEURO_SYNC_URL", raising=False)
    monkeypatch.delenv("NEURO_SYNC_TOKEN", raising=False)
    monkeypatch.setenv("NEUROMATION_CONFIG", str(platform.config_path))
    with neuro_sync.get() as c:
        assert str(c.url) == platform.url
        assert c.jobs.list() is not None


def test_restart_keeps_jobs_and_fails_lost_ones(data_dir: Path) -> None:
    with LocalPlatform(data_dir) as first:
        with neuro_sync.Client(first.url, first.token) as c:
            finished = c.jobs.run(sh("echo kept"))
            c.jobs.wait(finished.id, timeout=30, poll_interval=0.1)
            running = c.jobs.run(sh("sleep 60"))
            c.jobs.wait(running.id, statuses={JobStatus.RUNNING}, timeout=30, poll_interval=0.1)
    with LocalPlatform(data_dir) as second:
        with neuro_sync.Client(second.url, second.token) as c:
            ids = [j.id for j in c.jobs.list()]
            assert ids == [finished.id, running.id]
            assert c.jobs.status(finished.id).status is JobStatus.SUCCEEDED
            with c.jobs.monitor(finished.id) as log:
                assert log.read() == b"kept\n"
            lost = c.jobs.status(running.id)
            assert lost.status is JobStatus.FAILED
            assert lost.history.reason


def test_wait_timeout(client: neuro_sync.Client) -> None:
    job = client.jobs.run(sh("sleep 30"))
    started = time.monotonic()
    with pytest.raises(neuro_sync.WaitTimeout) as info:
        client.jobs.wait(job.id, timeout=0.5, poll_interval=0.1)
    assert time.monotonic() - started < 10
    assert isinstance(info.value.job, neuro_sync.JobDescription)
    client.jobs.kill(job.id)
