"""A platform restarted on the same data dir keeps its jobs and its tokens; a job whose process
was lost in the restart becomes failed/NotFound (docs/protocol.md §2.8)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from neuro_sync.local import LocalPlatform

from .helpers import (
    HUGE_MEMORY_MB,
    Api,
    escaping,
    job_body,
    sh,
    unique_name,
    wait_for,
    work_dir,
)


def server_argv(data_dir: Path) -> list[str]:
    """`python -m neuro_sync.local` on a free port, running jobs as host processes (these
    tests are about processes outliving the server)."""
    return [
        sys.executable,
        "-m",
        "neuro_sync.local",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--runtime",
        "process",
    ]


def without_ssh(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k not in ("ssh_server", "ssh_auth_server")}


def test_restart_keeps_jobs_and_fails_lost_ones(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LocalPlatform(data_dir) as first:
        api = Api(first.url, first.token, first.user)
        done = api.wait(api.create(job_body("true", name=unique_name("done")))["id"])
        failed = api.wait(api.create(sh("echo no; exit 7"))["id"])
        live = api.create(sh("echo $$ > pidfile; sleep 60", name=unique_name("live")))
        api.wait(live["id"], ("running",))
        pidfile = work_dir(data_dir, live["id"]) / "pidfile"
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip() != "", "the pid file")
        pid = int(pidfile.read_text())
        unschedulable = job_body("true", schedule_timeout=3600)
        unschedulable["container"]["resources"]["memory_mb"] = HUGE_MEMORY_MB
        waiting = api.create(unschedulable)
        before = api.jobs()
        old_url = first.url
    # Stopping the platform ends the job processes.
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{old_url}/ping", timeout=5)

    with LocalPlatform(data_dir) as second:
        # The signing secret survives: the old token still works.
        api = Api(second.url, first.token, first.user)
        after = api.jobs()
        assert [j["id"] for j in after] == [j["id"] for j in before]
        by_id = {j["id"]: j for j in after}
        # Unchanged but for `ssh_server`, which names the gateway of the running platform.
        assert without_ssh(by_id[done["id"]]) == without_ssh(done)
        assert without_ssh(by_id[failed["id"]]) == without_ssh(failed)

        lost = by_id[live["id"]]
        assert lost["status"] == "failed"
        assert lost["history"]["reason"] == "NotFound"
        assert isinstance(lost["history"]["description"], str)
        assert lost["history"]["finished_at"] >= lost["history"]["started_at"]
        assert "exit_code" not in lost["history"]
        assert lost["container"] == live["container"]
        assert lost["name"] == live["name"]

        # A job that never started is still waiting, and can be killed.
        assert by_id[waiting["id"]]["status"] == "pending"
        api.kill(waiting["id"])
        assert api.job(waiting["id"])["status"] == "succeeded"

        # The name of the lost job is free again; new jobs run.
        again = api.create(job_body("true", name=live["name"]))
        assert api.wait(again["id"])["status"] == "succeeded"
        assert [j["id"] for j in api.jobs()][-1] == again["id"]


def test_restart_after_a_crash_ends_orphaned_job_processes(tmp_path: Path) -> None:
    """kill -9 of the server leaves its job running; the next start must end it."""
    import subprocess

    import yaml

    data_dir = tmp_path / "data"
    server = subprocess.Popen(
        server_argv(data_dir),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # the URL line: the config file is written by then
        config = yaml.safe_load((data_dir / "client.nmrc").read_text())
        api = Api(config["url"], config["auth_token"]["token"], "user")
        live = api.create(sh("echo $$ > pidfile; sleep 60"))
        api.wait(live["id"], ("running",))
        pidfile = work_dir(data_dir, live["id"]) / "pidfile"
        wait_for(pidfile.exists, "the job to write its pid")
        pid = int(pidfile.read_text())
    finally:
        server.kill()  # a crash: no shutdown hooks run
        server.wait()
    assert psutil.pid_exists(pid)
    with LocalPlatform(data_dir) as second:
        api = Api(second.url, second.token, second.user)
        lost = api.job(live["id"])
        assert (lost["status"], lost["history"]["reason"]) == ("failed", "NotFound")

        def gone() -> bool:
            try:
                return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return True

        wait_for(gone, "the orphaned job process to end")


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_stop_ends_children_that_left_the_session(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LocalPlatform(data_dir) as lp:
        api = Api(lp.url, lp.token, lp.user)
        job = api.create(escaping("wait"))
        pidfile = work_dir(data_dir, job["id"]) / "escpid"
        wait_for(pidfile.exists, "the escaped child")
        escaped = int(pidfile.read_text())
    wait_for(lambda: gone(escaped), "the escaped child to end")


def test_restart_ends_what_is_left_of_a_job_that_ended_while_down(tmp_path: Path) -> None:
    """The server crashes; the job's main process exits while it is down; its child, which
    left the job's session, must not survive the next start."""
    import subprocess

    import yaml

    data_dir = tmp_path / "data"
    server = subprocess.Popen(
        server_argv(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        config = yaml.safe_load((data_dir / "client.nmrc").read_text())
        api = Api(config["url"], config["auth_token"]["token"], "user")
        job = api.create(escaping("echo $$ > pidfile; wait"))
        work = work_dir(data_dir, job["id"])
        wait_for(lambda: (work / "escpid").exists() and (work / "pidfile").exists(), "pids")
        escaped, main = int((work / "escpid").read_text()), int((work / "pidfile").read_text())
    finally:
        server.kill()
        server.wait()
    psutil.Process(main).kill()
    wait_for(lambda: gone(main), "the job's main process to end")
    assert not gone(escaped)
    with LocalPlatform(data_dir) as second:
        api = Api(second.url, second.token, second.user)
        assert api.job(job["id"])["status"] == "failed"
        wait_for(lambda: gone(escaped), "the escaped child to end")
