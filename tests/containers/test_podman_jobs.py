"""Jobs in podman containers, through the public client against LocalPlatform(runtime="podman").

Every job runs in a real container made from a busybox image built by the fixtures.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import psutil
import pytest
import requests

import neuro_sync
from neuro_sync import (
    Container,
    HTTPPort,
    JobDescription,
    JobStatus,
    RemoteImage,
    Resources,
    Volume,
)
from neuro_sync.local import LocalPlatform
from neuro_sync.local.podman_cli import LABEL_JOB, LABEL_OWNER, container_name

from .conftest import MARKER, platform_podman

pytestmark = [pytest.mark.integration, pytest.mark.podman]

SMALL = Resources(memory_mb=64, cpu=0.5)
GUARD = 60.0  # seconds: a hang guard, never an expectation
TEST_IMAGE = RemoteImage("nstest")


def run(
    client: neuro_sync.Client,
    command: str | None,
    *,
    image: RemoteImage = TEST_IMAGE,
    resources: Resources = SMALL,
    **container: object,
) -> JobDescription:
    return client.jobs.run(
        Container(image=image, resources=resources, command=command, **container)  # type: ignore[arg-type]
    )


def finished(client: neuro_sync.Client, job: JobDescription) -> JobDescription:
    return client.jobs.wait(job.id, timeout=GUARD, poll_interval=0.05)


def running(client: neuro_sync.Client, job: JobDescription) -> JobDescription:
    def started() -> bool:
        return client.jobs.status(job.id).status is not JobStatus.PENDING

    wait_until(started, "the job to start")
    job = client.jobs.status(job.id)
    assert job.status is JobStatus.RUNNING, job.history
    return job


def log_of(client: neuro_sync.Client, job: JobDescription) -> bytes:
    with client.jobs.monitor(job.id) as stream:
        return b"".join(stream)


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + GUARD
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def inspect(platform: LocalPlatform, job_id: str) -> dict[str, object] | None:
    result = platform_podman(platform).run("inspect", container_name(job_id))
    if result.code != 0:
        assert b"no such" in result.err, result.err
        return None
    data = json.loads(result.out)
    assert isinstance(data, list)
    return dict(data[0])


def test_the_image_is_the_file_system(client: neuro_sync.Client) -> None:
    job = run(client, "sh -c 'cat /etc/marker /etc/os-release; test ! -e /work'")
    assert finished(client, job).status is JobStatus.SUCCEEDED
    log = log_of(client, job)
    assert log.startswith(MARKER)
    assert b"BusyBox" in log  # the image's os-release, not the host's


def test_the_builtin_busybox_image(client: neuro_sync.Client) -> None:
    job = run(client, "cat /etc/os-release", image=RemoteImage("busybox"))
    assert finished(client, job).status is JobStatus.SUCCEEDED
    assert b"ID=busybox" in log_of(client, job)


def test_image_default_command_and_entrypoint(client: neuro_sync.Client) -> None:
    # No command: the image's CMD (/bin/sh) runs and ends at once on its empty stdin.
    assert finished(client, run(client, None)).status is JobStatus.SUCCEEDED
    job = run(client, "-c 'echo via entrypoint $0'", entrypoint="sh")
    assert finished(client, job).status is JobStatus.SUCCEEDED
    assert log_of(client, job) == b"via entrypoint sh\n"


def test_env(client: neuro_sync.Client) -> None:
    env = {"GREETING": "hello = world ", "EMPTY": ""}
    job = run(client, "sh -c 'echo \"[$GREETING][${EMPTY-unset}]\"; hostname'", env=env)
    assert finished(client, job).status is JobStatus.SUCCEEDED
    assert log_of(client, job) == f"[hello = world ][]\n{job.id}\n".encode()


def test_exit_code_and_log_tail(client: neuro_sync.Client) -> None:
    job = finished(client, run(client, "sh -c 'echo went wrong >&2; exit 3'"))
    assert job.status is JobStatus.FAILED
    assert (job.history.reason, job.history.exit_code) == ("Error", 3)
    assert "went wrong" in job.history.description


def test_a_missing_program_cannot_run(client: neuro_sync.Client) -> None:
    job = finished(client, run(client, "no-such-program"))
    assert job.status is JobStatus.FAILED
    assert job.history.reason == "ContainerCannotRun"
    assert job.history.exit_code == 127


def test_memory_limit(platform: LocalPlatform, client: neuro_sync.Client) -> None:
    hog = "sh -c 'x=$(head -c 200000000 /dev/zero | tr \"\\0\" a); echo survived'"
    job = finished(client, run(client, hog, resources=Resources(memory_mb=32, cpu=0.5)))
    assert job.status is JobStatus.FAILED
    assert job.history.exit_code == 137
    assert job.history.reason == "OOMKilled"
    assert b"survived" not in log_of(client, job)


def test_limits_seen_from_inside(client: neuro_sync.Client) -> None:
    resources = Resources(memory_mb=48, cpu=0.25, shm=True)
    script = (
        "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us "
        "/sys/fs/cgroup/memory/memory.limit_in_bytes; df -k /dev/shm | tail -n 1"
    )
    job = finished(client, run(client, f"sh -c '{script}'", resources=resources))
    assert job.status is JobStatus.SUCCEEDED
    quota, period, memory, shm = log_of(client, job).decode().splitlines()
    assert int(quota) / int(period) == pytest.approx(0.25)
    assert int(memory) == 48 * 1024 * 1024
    assert int(shm.split()[1]) == 48 * 1024  # /dev/shm as big as the memory limit


def test_log_follow(client: neuro_sync.Client) -> None:
    job = running(client, run(client, "sh -c 'echo first; sleep 1; echo second'"))
    with client.jobs.monitor(job.id) as stream:
        chunks = iter(stream)
        first = next(chunks)
        assert client.jobs.status(job.id).status is JobStatus.RUNNING  # it follows, live
        rest = b"".join(chunks)
    assert first + rest == b"first\nsecond\n"


def test_top(client: neuro_sync.Client) -> None:
    job = running(client, run(client, "sh -c 'x=$(head -c 4000000 /dev/zero); sleep 600'"))
    try:
        with client.jobs.top(job.id) as top:
            samples = [s for _, s in zip(range(2), top, strict=False)]
        assert len(samples) == 2
        assert all(0 < s.memory < 64 for s in samples)
        assert all(s.cpu >= 0 for s in samples)
    finally:
        client.jobs.kill(job.id)


def test_kill(platform: LocalPlatform, client: neuro_sync.Client) -> None:
    job = running(client, run(client, "sh -c 'trap \"\" TERM; while true; do sleep 1; done'"))
    config = (inspect(platform, job.id) or {}).get("Config")
    assert isinstance(config, dict)
    assert config["Labels"][LABEL_JOB] == job.id
    assert config["Labels"][LABEL_OWNER] == client.username
    client.jobs.kill(job.id)
    killed = finished(client, job)
    assert killed.status is JobStatus.SUCCEEDED
    assert not killed.history.reason
    # SIGTERM is ignored: the container goes after the 3 s grace, and is removed.
    wait_until(lambda: inspect(platform, job.id) is None, "the container to be removed")


def test_save_then_run_the_saved_image(client: neuro_sync.Client) -> None:
    job = running(client, run(client, "sh -c 'echo saved-state > /state; sleep 600'"))
    image = RemoteImage("saved", "v1", owner=client.username, registry=client.config.registry_host)
    try:
        wait_until(
            lambda: client.jobs.exec(job.id, ["test", "-e", "/state"], no_key_check=True) == 0,
            "the file",
        )
        client.jobs.save(job.id, image)
    finally:
        client.jobs.kill(job.id)
    again = run(client, "cat /state /etc/marker", image=image)
    assert finished(client, again).status is JobStatus.SUCCEEDED
    assert log_of(client, again) == b"saved-state\n" + MARKER


def test_exec_runs_inside_the_container(
    client: neuro_sync.Client, capfd: pytest.CaptureFixture[str]
) -> None:
    job = running(client, run(client, "sleep 600", env={"GREETING": "in the job"}))
    try:
        code = client.jobs.exec(
            job.id, ["sh", "-c", "cat /etc/marker; echo $GREETING; exit 4"], no_key_check=True
        )
        out, err = capfd.readouterr()
        assert code == 4, err
        assert out == MARKER.decode() + "in the job\n"
    finally:
        client.jobs.kill(job.id)


def test_port_forward_to_httpd(client: neuro_sync.Client) -> None:
    serve = "mkdir /www; echo hi-httpd > /www/index.html; httpd -f -p 127.0.0.1:8000 -h /www"
    job = running(client, run(client, f"sh -c '{serve}'"))
    try:
        with client.jobs.port_forward(job.id, 0, 8000, no_key_check=True) as fwd:
            url = f"http://127.0.0.1:{fwd.local_port}/"

            def served() -> bool:
                try:
                    return requests.get(url, timeout=5).text == "hi-httpd\n"
                except requests.RequestException:
                    return False

            wait_until(served, "httpd through the tunnel")
    finally:
        client.jobs.kill(job.id)


def test_http_url_reaches_the_containers_port(
    platform: LocalPlatform, client: neuro_sync.Client
) -> None:
    serve = "httpd -f -p 127.0.0.1:8002 -h /etc"
    job = running(client, run(client, serve, http=HTTPPort(8002, requires_auth=True)))
    url = f"{job.http_url}/marker"
    owner = {"Authorization": f"Bearer {platform.token}"}
    other = {"Authorization": f"Bearer {platform.issue_token('someone-else')}"}
    try:

        def served() -> bool:  # 502 until httpd listens
            return requests.get(url, headers=owner, timeout=5).status_code != 502

        wait_until(served, "httpd behind the job's http_url")
        reply = requests.get(url, headers=owner, timeout=5)
        assert (reply.status_code, reply.content) == (200, MARKER)
        assert requests.get(url, timeout=5).status_code == 401
        assert requests.get(url, headers=other, timeout=5).status_code == 403
    finally:
        client.jobs.kill(job.id)

    def refused() -> bool:
        try:
            requests.get(url, timeout=5)
        except requests.ConnectionError:
            return True
        return False

    wait_until(refused, "the job's address to refuse connections")


def test_no_network_but_loopback(client: neuro_sync.Client) -> None:
    job = finished(client, run(client, "sh -c 'ip -o link; ip route'"))
    assert job.status is JobStatus.SUCCEEDED
    lines = log_of(client, job).decode().splitlines()
    assert len(lines) == 1 and ": lo:" in lines[0]  # one link, no route: nothing to reach


def test_the_job_port_is_not_on_the_host(client: neuro_sync.Client) -> None:
    job = running(client, run(client, "httpd -f -p 127.0.0.1:8001"))
    try:
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", 8001), timeout=2):
            pass
    finally:
        client.jobs.kill(job.id)


def test_volumes(platform: LocalPlatform, client: neuro_sync.Client) -> None:
    home = platform.data_dir / "storage" / client.username
    (home / "in").mkdir(parents=True, exist_ok=True)
    (home / "in" / "data.txt").write_text("from storage\n")
    volumes = [
        Volume(f"storage://{client.username}/in", "/in", read_only=True),
        Volume(f"storage://{client.username}/out", "/out", read_only=False),
    ]
    script = "cat /in/data.txt; echo written > /out/result; touch /in/x 2>/dev/null || echo ro"
    job = finished(client, run(client, f"sh -c '{script}'", volumes=volumes))
    assert job.status is JobStatus.SUCCEEDED
    assert log_of(client, job) == b"from storage\nro\n"
    assert (home / "out" / "result").read_text() == "written\n"


def test_an_image_that_does_not_exist(client: neuro_sync.Client) -> None:
    job = finished(client, run(client, "true", image=RemoteImage("no-such-image", "v0")))
    assert job.status is JobStatus.FAILED
    assert job.history.reason == "Collected"
    # Why, in podman's (or the registry's) words, shortened to one line.
    assert job.history.description.startswith("Image can not be pulled: ")
    assert "no-such-image" in job.history.description and "\n" not in job.history.description
    assert job.history.exit_code is None


def test_a_variable_podman_cannot_pass_is_refused_at_submission(
    client: neuro_sync.Client,
) -> None:
    with pytest.raises(neuro_sync.IllegalArgumentError, match="MULTI"):
        run(client, "true", env={"MULTI": "two\nlines"})


def test_a_job_killed_while_its_image_is_pulled_never_starts(
    platform: LocalPlatform, client: neuro_sync.Client
) -> None:
    # A registry on loopback that accepts and never answers: the pull hangs in
    # ContainerCreating until the kill ends it.
    with socket.create_server(("127.0.0.1", 0)) as registry:
        name = f"127.0.0.1:{registry.getsockname()[1]}/img"
        image = f"{name}:v1"

        def pulling() -> bool:  # the platform runs in this process: podman is our child
            for child in psutil.Process().children(recursive=True):
                try:
                    if {"pull", image} <= set(child.cmdline()):
                        return True
                except psutil.Error:  # ended meanwhile
                    continue
            return False

        job = run(client, "sleep 600", image=RemoteImage(name, "v1"))
        wait_until(pulling, "the pull")
        assert client.jobs.status(job.id).history.reason == "ContainerCreating"
        client.jobs.kill(job.id)
        assert finished(client, job).status is JobStatus.SUCCEEDED
        wait_until(lambda: not pulling(), "the pull to end")
    assert inspect(platform, job.id) is None
