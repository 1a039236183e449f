"""The Slurm runtime across a platform crash (SIGKILL, restart), from the command line, and
driven by the real 2019 SDK (`neuromation==19.8.23`, in the benchmarks' peer venv)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import neuro_sync
from neuro_sync import JobStatus, Resources
from neuro_sync.local.podman_cli import Podman
from neuro_sync.local.slurm_cluster import LocalCluster

from ..server.helpers import Api
from .helpers import (
    GUARD,
    STOPS_ON_TERM,
    finished,
    mounts_under,
    release_store,
    run,
    running,
    slurm_jobs,
    wait_until,
)

pytestmark = [pytest.mark.slurm, pytest.mark.integration]

ROOT = Path(__file__).parents[2]


class Server:
    """`neuro-sync-local --runtime slurm` in its own process; the cluster named by
    `--slurm-conf`, or by `$SLURM_CONF` (`conf_from_env`)."""

    def __init__(
        self,
        cluster: LocalCluster,
        data_dir: Path,
        conf_from_env: bool = False,
        dialect: str = "2019",
    ) -> None:
        env = {k: v for k, v in os.environ.items() if k != "SLURM_CONF"}
        argv = [sys.executable, "-m", "neuro_sync.local", "--data-dir", str(data_dir)]
        argv += ["--port", "0", "--runtime", "slurm", "--slurm-partition", cluster.partition]
        argv += ["--dialect", dialect]
        if conf_from_env:
            env["SLURM_CONF"] = str(cluster.conf)
        else:
            argv += ["--slurm-conf", str(cluster.conf)]
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert self.proc.stdout is not None
        self.banner = self.proc.stdout.readline().strip()
        assert self.banner, self.proc.stderr.read() if self.proc.stderr else ""
        self.url = self.banner.split()[3]
        token = subprocess.run(
            [
                sys.executable,
                "-m",
                "neuro_sync.local",
                "token",
                "--user",
                "user",
                "--data-dir",
                str(data_dir),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        self.token = token.stdout.strip()

    def client(self) -> neuro_sync.Client:
        return neuro_sync.Client(self.url, self.token, timeout=(5, 30))

    def api(self) -> Api:
        return Api(self.url, self.token, "user")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        self.proc.kill()
        self.proc.communicate(timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.communicate(timeout=60)


@pytest.fixture
def data_dir(tmp_path: Path, cluster: LocalCluster) -> Iterator[Path]:
    yield tmp_path / "data"
    cluster.cancel_all()
    release_store(tmp_path / "data")


def test_refuses_to_start_without_a_cluster(tmp_path: Path) -> None:
    if shutil.which("sbatch") is None or not Podman.installed():
        pytest.skip("the Slurm client or podman is not installed")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuro_sync.local",
            "--data-dir",
            str(tmp_path),
            "--port",
            "0",
            "--runtime",
            "slurm",
            "--slurm-conf",
            str(tmp_path / "no-such-slurm.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "the Slurm cluster cannot be reached" in done.stderr


def test_sigkill_and_restart_follow_the_jobs_again(cluster: LocalCluster, data_dir: Path) -> None:
    first = Server(cluster, data_dir)
    assert f"(runtime: slurm, cluster: {cluster.name})" in first.banner
    try:
        with first.client() as client:
            # A bare sleep ignores SIGTERM: after the kill below, its Slurm job is still
            # ending (podman's stop timeout) when the platform stops.
            long = running(client, run(client, "sleep 600"))
            short = running(client, run(client, "sh -c 'sleep 3; echo done; exit 5'"))
    finally:
        first.proc.kill()  # SIGKILL: no clean-up of any kind
        first.proc.communicate(timeout=60)
    # While the platform is down, one job ends and the other runs on.
    wait_until(
        lambda: slurm_jobs(cluster, short.id)[0]["job_state"] == "FAILED", "the short job to end"
    )
    assert slurm_jobs(cluster, long.id)[0]["job_state"] == "RUNNING"
    second = Server(cluster, data_dir)
    try:
        with second.client() as client:
            ended = finished(client, short)
            assert (ended.status, ended.history.reason, ended.history.exit_code) == (
                JobStatus.FAILED,
                "Error",
                5,
            )
            assert client.jobs.status(long.id).status is JobStatus.RUNNING
            with client.jobs.logs(short.id) as lines:
                assert list(lines) == ["done"]
            client.jobs.kill(long.id)
            killed = finished(client, long)
            assert killed.status is JobStatus.SUCCEEDED
        for job in (long, short):  # nothing run twice
            assert len(slurm_jobs(cluster, job.id)) == 1
    finally:
        second.stop()
    # The restarted platform's stop waits for the job it cancelled, then unmounts podman's
    # store (issue #22: nothing left behind).
    assert mounts_under(data_dir) == []


def test_restart_policies_survive_platform_sigkills(cluster: LocalCluster, data_dir: Path) -> None:
    """2022 dialect: a platform SIGKILLed while a job waits to restart, then while an attempt
    runs (which ends while it is down): every attempt is one Slurm job, run once, and counted
    once; a job with `always` that runs on is followed, not submitted again."""
    count = "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n"
    flaky_body = {
        "container": {
            "image": "busybox",
            "command": f"sh -c '{count}; echo attempt $n; sleep 1; test $n -ge 3'",
            "resources": {"cpu": 0.5, "memory_mb": 64},
            "volumes": [{"src_storage_uri": "storage:n", "dst_path": "/data", "read_only": False}],
        },
        "restart_policy": "on-failure",
    }
    steady_body = {
        "container": {
            "image": "busybox",
            "command": STOPS_ON_TERM,
            "resources": {"cpu": 0.5, "memory_mb": 64},
        },
        "restart_policy": "always",
    }
    server = Server(cluster, data_dir, dialect="2022")
    try:
        api = server.api()
        flaky, steady = api.create(flaky_body), api.create(steady_body)
        api.wait(steady["id"], ("running",), timeout=GUARD)
        wait_until(
            lambda: api.job(flaky["id"])["history"]["reason"] == "Restarting",
            "the first restart's back-off",
        )
    finally:
        server.kill()  # while the job waits to restart: its ended attempt is counted
    server = Server(cluster, data_dir, dialect="2022")
    try:
        api = server.api()

        def second_attempt_runs() -> bool:
            job = api.job(flaky["id"])
            return bool(job["status"] == "running" and job["history"]["restarts"] == 1)

        wait_until(second_attempt_runs, "the second attempt to run")
    finally:
        server.kill()  # while an attempt runs; it ends while the platform is down
    wait_until(
        lambda: all(j["job_state"] != "RUNNING" for j in slurm_jobs(cluster, flaky["id"])),
        "the second attempt to end",
    )
    server = Server(cluster, data_dir, dialect="2022")
    try:
        api = server.api()
        done = api.wait(flaky["id"], ("succeeded", "failed", "cancelled"), timeout=GUARD)
        assert (done["status"], done["history"]["restarts"]) == ("succeeded", 2), done["history"]
        transitions = [(s["status"], s["reason"]) for s in done["statuses"]]
        assert transitions.count(("pending", "Restarting")) == 2
        assert [s for s, _ in transitions].count("running") == 3
        assert transitions[-1] == ("succeeded", None)
        assert api.get(f"/jobs/{flaky['id']}/log").text == "".join(
            f"attempt {n}\n" for n in range(1, 4)
        )
        wait_until(
            lambda: all(j["job_state"] != "COMPLETING" for j in slurm_jobs(cluster, flaky["id"])),
            "the last attempt to leave Slurm",
        )
        attempts = sorted(slurm_jobs(cluster, flaky["id"]), key=lambda j: int(j["job_id"]))
        assert [j["job_state"] for j in attempts] == ["FAILED"] * 2 + ["COMPLETED"]
        ran = api.job(steady["id"])
        assert (ran["status"], ran["history"]["restarts"]) == ("running", 0)
        assert len(slurm_jobs(cluster, steady["id"])) == 1
        api.kill(steady["id"])
        killed = api.wait(steady["id"], ("cancelled",), timeout=GUARD)
        assert killed["history"]["restarts"] == 0
    finally:
        server.stop()
    assert mounts_under(data_dir) == []


_SDK_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, tempfile
    from pathlib import Path
    from yarl import URL
    from neuromation.api import Container, Factory, RemoteImage, Resources, JobStatus

    async def main(url, token):
        with tempfile.TemporaryDirectory() as tmp:
            factory = Factory(Path(tmp) / "nmrc")
            await factory.login_with_token(token, url=URL(url))
            async with await factory.get() as client:
                container = Container(
                    image=RemoteImage("busybox"),
                    resources=Resources(memory_mb=64, cpu=0.5, gpu=None, gpu_model=None, shm=False),
                    command="sh -c 'exit 7'",
                )
                done = await client.jobs.run(container)
                while done.status in (JobStatus.PENDING, JobStatus.RUNNING):
                    await asyncio.sleep(0.2)
                    done = await client.jobs.status(done.id)
                sleeper = await client.jobs.run(
                    Container(
                        image=RemoteImage("busybox"),
                        resources=container.resources,
                        command="sleep 600",
                    )
                )
                while (await client.jobs.status(sleeper.id)).status == JobStatus.PENDING:
                    await asyncio.sleep(0.2)
                listed = {j.id: j.status.value for j in await client.jobs.list()}
                await client.jobs.kill(sleeper.id)
                killed = await client.jobs.status(sleeper.id)
                print(json.dumps({
                    "done": [done.status.value, done.history.exit_code],
                    "listed": [listed.get(done.id), listed.get(sleeper.id)],
                    "killed": killed.status.value,
                }))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def test_the_2019_sdk_runs_lists_and_kills(cluster: LocalCluster, data_dir: Path) -> None:
    from benchmarks.peer_sdk import PeerUnavailable, ensure_peer_venv

    try:
        peer = ensure_peer_venv(ROOT / ".bench" / "peer-venv", log=lambda _: None)
    except PeerUnavailable as err:
        pytest.skip(f"the 2019 SDK cannot be installed here: {err}")
    server = Server(cluster, data_dir, conf_from_env=True)
    assert f"cluster: {cluster.name}" in server.banner
    try:
        done = subprocess.run(
            [str(peer.python), "-c", _SDK_SCRIPT, server.url, server.token],
            capture_output=True,
            text=True,
            timeout=GUARD,
        )
        assert done.returncode == 0, done.stderr
        got = json.loads(done.stdout)
        assert got == {
            "done": ["failed", 7],
            "listed": ["failed", "running"],
            "killed": "succeeded",
        }
    finally:
        server.stop()
    assert mounts_under(data_dir) == []


def test_a_pending_job_is_not_submitted_twice_across_a_restart(
    cluster: LocalCluster, data_dir: Path
) -> None:
    first = Server(cluster, data_dir)
    try:
        with first.client() as client:
            fill = [
                run(client, "sleep 600", resources=Resources(memory_mb=900, cpu=0.5))
                for _ in range(3)
            ]
            for job in fill:
                running(client, job)
            waiting = run(client, "sh -c 'echo ran'", resources=Resources(memory_mb=900, cpu=0.5))
            wait_until(
                lambda: client.jobs.status(waiting.id).history.reason == "ClusterScalingUp",
                "pending",
            )
    finally:
        first.proc.kill()
        first.proc.communicate(timeout=60)
    second = Server(cluster, data_dir)
    try:
        with second.client() as client:
            client.jobs.kill(fill[0].id)
            ran = finished(client, waiting)
            assert ran.status is JobStatus.SUCCEEDED, ran.history
            assert len(slurm_jobs(cluster, waiting.id)) == 1
    finally:
        second.stop()
