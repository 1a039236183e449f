"""The Slurm runtime against a private 3-node cluster: scheduling, limits, kill, logs, exec,
port forwarding (tests/slurm/conftest.py)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

import neuro_sync
from neuro_sync import JobStatus, Resources
from neuro_sync.local import LocalPlatform
from neuro_sync.local.slurm_cluster import LocalCluster

from .conftest import START_TIMES
from .helpers import SMALL, finished, run, running, slurm_jobs, wait_until

pytestmark = [pytest.mark.slurm, pytest.mark.integration]


def test_config_names_the_runtime_and_cluster(
    platform: LocalPlatform, cluster: LocalCluster
) -> None:
    auth = {"Authorization": f"Bearer {platform.token}"}
    got = requests.get(f"{platform.url}/config", headers=auth, timeout=10).json()
    got = got["local_platform"]
    assert (got["runtime"], got["cluster"]) == ("slurm", cluster.name)
    print(f"\ntest cluster start-up: {START_TIMES[0]:.2f} s")


def test_a_job_is_a_slurm_job_named_by_its_id(
    client: neuro_sync.Client, cluster: LocalCluster
) -> None:
    job = finished(
        client,
        run(
            client,
            "sh -c 'echo out; echo err >&2; exit 3'",
            resources=Resources(memory_mb=200, cpu=1.5),
        ),
    )
    assert (job.status, job.history.reason, job.history.exit_code) == (JobStatus.FAILED, "Error", 3)
    with client.jobs.logs(job.id) as lines:
        assert sorted(lines) == ["err", "out"]
    started, created = job.history.started_at, job.history.created_at
    assert started is not None and created is not None
    latency = (started - created).total_seconds()
    print(f"\nsubmit-to-running, one job on an idle cluster: {latency:.2f} s")
    (slurm,) = slurm_jobs(cluster, job.id)
    assert slurm["cpus"] == 2  # 1.5 CPUs: 2 CPUs from Slurm, a 1.5 CPU quota for the container
    assert slurm["job_state"] == "FAILED"


def test_twenty_short_jobs_spread_over_the_nodes(
    client: neuro_sync.Client, cluster: LocalCluster
) -> None:
    started = time.monotonic()
    jobs = [run(client, "sleep 1", resources=Resources(memory_mb=64, cpu=1)) for _ in range(20)]
    nodes: set[str] = set()
    for job in jobs:
        done = finished(client, job)
        assert done.status is JobStatus.SUCCEEDED, done.history
        nodes.update(j["batch_host"] for j in slurm_jobs(cluster, job.id))
    wall = time.monotonic() - started
    latencies = [
        (d.history.started_at - d.history.created_at).total_seconds()
        for d in (client.jobs.status(j.id) for j in jobs)
        if d.history.started_at is not None and d.history.created_at is not None
    ]
    assert nodes <= set(cluster.nodes) and len(nodes) > 1, nodes
    lat = sorted(latencies)
    print(
        f"\n20 one-second jobs over {len(nodes)} nodes: {wall:.1f} s wall; submit-to-running "
        f"min {lat[0]:.2f} s, median {lat[len(lat) // 2]:.2f} s, max {lat[-1]:.2f} s"
    )


def test_memory_limit_is_oomkilled(client: neuro_sync.Client) -> None:
    hog = "sh -c 'x=$(head -c 300000000 /dev/zero | tr \"\\0\" a); echo survived'"
    job = finished(client, run(client, hog, resources=Resources(memory_mb=64, cpu=0.5)))
    assert (job.status, job.history.reason, job.history.exit_code) == (
        JobStatus.FAILED,
        "OOMKilled",
        137,
    )
    with client.jobs.logs(job.id) as lines:
        assert "survived" not in list(lines)


def test_a_job_larger_than_any_node_fails_at_once(client: neuro_sync.Client) -> None:
    job = finished(client, run(client, "true", resources=Resources(memory_mb=5000, cpu=0.5)))
    assert (job.status, job.history.reason) == (JobStatus.FAILED, "ClusterScaleUpFailed")
    assert "Slurm refused the job" in (job.history.description or "")


def test_a_gpu_job_on_a_cluster_without_gpus_fails(client: neuro_sync.Client) -> None:
    gpu = Resources(memory_mb=64, cpu=0.5, gpu=1, gpu_model="nvidia-tesla-k80")
    job = finished(client, run(client, "true", resources=gpu))
    assert (job.status, job.history.reason) == (JobStatus.FAILED, "ClusterScaleUpFailed")
    assert "no GPUs" in (job.history.description or "")


def test_pending_in_slurm_then_unschedulable_past_the_timeout(
    client: neuro_sync.Client,
) -> None:
    # 3 nodes x 1000 MB: three 900 MB jobs fill the cluster, the fourth waits for Resources.
    fill = [run(client, "sleep 600", resources=Resources(memory_mb=900, cpu=0.5)) for _ in range(3)]
    try:
        for job in fill:
            running(client, job)
        waiting = client.jobs.run(
            neuro_sync.Container(
                neuro_sync.RemoteImage("busybox"), Resources(memory_mb=900, cpu=0.5), command="true"
            ),
            schedule_timeout=3,
        )
        wait_until(
            lambda: client.jobs.status(waiting.id).history.reason == "ClusterScalingUp",
            "pending for resources",
        )
        assert "Slurm: Resources" in (client.jobs.status(waiting.id).history.description or "")
        done = finished(client, waiting)
        assert (done.status, done.history.reason) == (JobStatus.FAILED, "ClusterScaleUpFailed")
    finally:
        for job in fill:
            client.jobs.kill(job.id)


def test_kill_is_scancel_and_leaves_nothing(
    client: neuro_sync.Client, cluster: LocalCluster, platform: LocalPlatform
) -> None:
    job = running(client, run(client, "sleep 600"))
    (slurm,) = slurm_jobs(cluster, job.id)
    client.jobs.kill(job.id)
    done = finished(client, job)
    assert (done.status, done.history.reason) == (JobStatus.SUCCEEDED, "")  # as in 2019
    wait_until(lambda: slurm_jobs(cluster, job.id)[0]["job_state"] == "CANCELLED", "CANCELLED")
    cgroup = Path(f"/sys/fs/cgroup/memory/slurm_{slurm['batch_host']}/uid_0/job_{slurm['job_id']}")
    wait_until(lambda: not cgroup.exists(), "the job's cgroup to go")
    from neuro_sync.local.podman_cli import Podman

    left = (
        Podman(platform.data_dir / "podman").run("ps", "-a", "--format", "{{.Names}}").out.decode()
    )
    assert f"neuro-{job.id}" not in left


def test_logs_follow_the_output_as_it_is_written(client: neuro_sync.Client) -> None:
    job = running(client, run(client, "sh -c 'echo first; sleep 600'"))
    try:
        with client.jobs.logs(job.id) as lines:
            assert next(iter(lines)) == "first"  # while the job still runs
            assert client.jobs.status(job.id).status is JobStatus.RUNNING
    finally:
        client.jobs.kill(job.id)


def test_top_reports_the_containers_usage(client: neuro_sync.Client) -> None:
    job = running(
        client, run(client, "sh -c 'while :; do :; done'", resources=Resources(memory_mb=64, cpu=1))
    )
    try:
        with client.jobs.top(job.id) as samples:
            for sample in samples:  # the busy loop shows within a few samples
                if sample.cpu > 0.2 and sample.memory > 0:
                    break
    finally:
        client.jobs.kill(job.id)


def test_exec_and_port_forward_reach_the_container_on_its_node(
    client: neuro_sync.Client, cluster: LocalCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    serve = "mkdir /www; echo hi-httpd > /www/index.html; httpd -f -p 127.0.0.1:8000 -h /www"
    job = running(client, run(client, f"sh -c '{serve}'", env={"GREETING": "in the job"}))
    try:
        (slurm,) = slurm_jobs(cluster, job.id)
        assert slurm["batch_host"] in cluster.nodes
        capfd.readouterr()
        code = client.jobs.exec(
            job.id, ["sh", "-c", "echo $GREETING; hostname; exit 4"], no_key_check=True
        )
        out, err = capfd.readouterr()
        assert code == 4, err
        assert out == f"in the job\n{job.id}\n"
        with client.jobs.port_forward(job.id, 0, 8000, no_key_check=True) as fwd:
            url = f"http://127.0.0.1:{fwd.local_port}/"

            def served() -> bool:
                try:
                    return requests.get(url, timeout=5).text == "hi-httpd\n"
                except requests.RequestException:
                    return False

            wait_until(served, "httpd through the tunnel")
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", 8000), timeout=1):
            pass  # the job's port is on its own loopback, not the host's
    finally:
        client.jobs.kill(job.id)


def test_a_missing_program_cannot_run(client: neuro_sync.Client) -> None:
    job = finished(client, run(client, "no-such-program"))
    assert (job.status, job.history.reason) == (JobStatus.FAILED, "ContainerCannotRun")
    assert job.history.exit_code == 127


def test_an_image_that_cannot_be_pulled(client: neuro_sync.Client) -> None:
    image = neuro_sync.RemoteImage("no-such-image-here", tag="v1")
    job = finished(client, client.jobs.run(neuro_sync.Container(image, SMALL, command="true")))
    assert (job.status, job.history.reason) == (JobStatus.FAILED, "Collected")


def test_save_on_the_node_then_run_the_saved_image(client: neuro_sync.Client) -> None:
    job = running(client, run(client, "sh -c 'echo saved-state > /state; sleep 600'"))
    image = neuro_sync.RemoteImage(
        "saved", "v1", owner=client.username, registry=client.config.registry_host
    )
    try:
        wait_until(
            lambda: client.jobs.exec(job.id, ["test", "-e", "/state"], no_key_check=True) == 0,
            "the file",
        )
        client.jobs.save(job.id, image)
    finally:
        client.jobs.kill(job.id)
    again = finished(
        client, client.jobs.run(neuro_sync.Container(image, SMALL, command="cat /state"))
    )
    assert again.status is JobStatus.SUCCEEDED, again.history
    with client.jobs.logs(again.id) as lines:
        assert list(lines) == ["saved-state"]


def test_a_job_cancelled_in_slurm_by_someone_else_fails(
    client: neuro_sync.Client, cluster: LocalCluster
) -> None:
    job = running(client, run(client, "sleep 600"))
    (slurm,) = slurm_jobs(cluster, job.id)
    subprocess.run(["scancel", str(slurm["job_id"])], env=cluster.env, check=True, timeout=30)
    done = finished(client, job)
    assert (done.status, done.history.reason) == (JobStatus.FAILED, "NotFound")


def test_http_url_reaches_the_container_on_its_node(
    platform: LocalPlatform, client: neuro_sync.Client
) -> None:
    serve = "sh -c 'echo on-the-node > /tmp/page; httpd -f -p 127.0.0.1:8002 -h /tmp'"
    job = running(client, run(client, serve, http=neuro_sync.HTTPPort(8002, requires_auth=True)))
    url = f"{job.http_url}/page"
    owner = {"Authorization": f"Bearer {platform.token}"}
    try:

        def served() -> bool:  # 502 until httpd listens
            return requests.get(url, headers=owner, timeout=10).status_code != 502

        wait_until(served, "httpd behind the job's http_url")
        reply = requests.get(url, headers=owner, timeout=10)
        assert (reply.status_code, reply.text) == (200, "on-the-node\n")
    finally:
        client.jobs.kill(job.id)


def test_a_node_failure_fails_the_job_and_never_reruns_it(
    client: neuro_sync.Client, cluster: LocalCluster
) -> None:
    job = running(client, run(client, "sleep 600"))
    (slurm,) = slurm_jobs(cluster, job.id)
    node = slurm["batch_host"]

    down = ["scontrol", "update", f"nodename={node}", "state=down", "reason=neuro-sync test"]
    subprocess.run(down, env=cluster.env, check=True, timeout=30)
    try:
        done = finished(client, job)
        assert (done.status, done.history.reason) == (JobStatus.FAILED, "NotFound")
        (after,) = slurm_jobs(cluster, job.id)
        assert after["job_state"] == "NODE_FAIL"
    finally:  # back to service once the node's job is gone (resume is refused before)

        def resumed() -> bool:
            done = subprocess.run(
                ["scontrol", "update", f"nodename={node}", "state=resume"],
                env=cluster.env,
                capture_output=True,
                check=False,
                timeout=30,
            )
            states = subprocess.run(
                ["sinfo", "-h", "-n", node, "-o", "%t"],
                env=cluster.env,
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            ).stdout.split()
            return done.returncode == 0 or states == ["idle"]

        wait_until(resumed, "the node to return to service")
