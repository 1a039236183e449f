"""Job lifecycle on the local platform (docs/protocol.md §2.5, §2.6 history, §2.8 statuses/reasons).

Jobs that must be observed while running block on a gate file (`GATE`) that the test creates in
their working directory, so no outcome depends on timing.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import psutil
import pytest

from .helpers import (
    GATE,
    HUGE_MEMORY_MB,
    Api,
    escaping,
    job_body,
    release,
    sh,
    wait_for,
    work_dir,
)


def ts(value: str) -> datetime.datetime:
    assert value.endswith("+00:00")
    return datetime.datetime.fromisoformat(value)


def read_pid(path: Path) -> int:
    wait_for(lambda: path.exists() and path.read_text().strip().isdigit(), f"{path.name}")
    return int(path.read_text())


def gone(pid: int) -> bool:
    """The process no longer runs (a zombie nobody reaped counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_pending_running_succeeded(fresh: Api, data_dir: Path) -> None:
    job = fresh.create(sh(f"echo started; {GATE}; echo done"))
    assert job["status"] == "pending"
    assert job["history"]["reason"] is None

    running = fresh.wait(job["id"], ("running",))
    history = running["history"]
    assert set(history) == {"status", "reason", "description", "created_at", "started_at"}
    assert history["status"] == "running"
    assert history["reason"] is None and history["description"] is None
    assert ts(history["created_at"]) <= ts(history["started_at"])

    release(data_dir, job["id"])
    done = fresh.wait(job["id"])
    assert done["status"] == "succeeded"
    assert done["history"] == {
        "status": "succeeded",
        "reason": None,
        "description": None,
        "created_at": job["history"]["created_at"],
        "started_at": history["started_at"],
        "finished_at": done["history"]["finished_at"],
        "exit_code": 0,
    }
    assert ts(history["started_at"]) <= ts(done["history"]["finished_at"])
    # Nothing but the status moved.
    for key in ("container", "owner", "internal_hostname", "ssh_server", "is_preemptible"):
        assert done[key] == job[key]


def test_failing_command(fresh: Api) -> None:
    job = fresh.create(sh("echo out; echo Failed! >&2; exit 3"))
    done = fresh.wait(job["id"])
    assert done["status"] == "failed"
    history = done["history"]
    assert history["reason"] == "Error"
    assert history["exit_code"] == 3
    assert history["description"] == "out\nFailed!\n"
    assert ts(history["started_at"]) <= ts(history["finished_at"])


def test_failure_description_is_the_log_tail(fresh: Api) -> None:
    job = fresh.create(sh("i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo line $i; done; exit 1"))
    done = fresh.wait(job["id"])
    description = done["history"]["description"]
    assert done["history"]["reason"] == "Error"
    assert description.endswith("line 499\nline 500\n")
    assert "line 1\n" not in description
    assert len(description) < 4096


def test_killed_by_signal_is_failed_with_128_plus_signal(fresh: Api) -> None:
    job = fresh.create(sh("kill -9 $$"))
    done = fresh.wait(job["id"])
    assert done["status"] == "failed"
    assert done["history"]["reason"] == "Error"
    assert done["history"]["exit_code"] == 137


def test_env_reaches_the_process(fresh: Api) -> None:
    body = sh('test "$GREETING" = "hello world" && test "$EMPTY" = ""')
    body["container"]["env"] = {"GREETING": "hello world", "EMPTY": ""}
    done = fresh.wait(fresh.create(body)["id"])
    assert (done["status"], done["history"]["exit_code"]) == ("succeeded", 0)


def test_entrypoint_and_command_are_joined(fresh: Api) -> None:
    body = job_body("'exit 4'")
    body["container"]["entrypoint"] = "sh -c"
    done = fresh.wait(fresh.create(body)["id"])
    assert (done["status"], done["history"]["exit_code"]) == ("failed", 4)


def test_kill_running_job_ends_its_processes(fresh: Api, data_dir: Path) -> None:
    job = fresh.create(sh("echo $$ > pidfile; sleep 60 & echo $! > childpid; wait"))
    fresh.wait(job["id"], ("running",))
    work = work_dir(data_dir, job["id"])
    pid, child = read_pid(work / "pidfile"), read_pid(work / "childpid")
    assert not gone(pid) and not gone(child)

    response = fresh.delete(f"/jobs/{job['id']}")
    assert response.status_code == 204
    assert response.content == b""
    killed = fresh.job(job["id"])
    assert killed["status"] == "succeeded"
    history = killed["history"]
    assert history["reason"] is None and history["description"] is None
    assert "exit_code" not in history
    assert ts(history["started_at"]) <= ts(history["finished_at"])

    wait_for(lambda: gone(pid) and gone(child), "the job's processes to end")
    # Idempotent, and the record does not change once the process is reaped.
    response = fresh.delete(f"/jobs/{job['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert fresh.job(job["id"]) == killed


def test_kill_ends_the_process_tree(fresh: Api, data_dir: Path) -> None:
    job = fresh.create(sh("echo $$ > pidfile; sleep 60"))
    fresh.wait(job["id"], ("running",))
    pid = read_pid(work_dir(data_dir, job["id"]) / "pidfile")
    # dash forks `sleep` (or execs it as the last command): take whatever the tree is.
    wait_for(lambda: "sleep" in _names(_tree(pid)), "sleep to start")
    tree = [p.pid for p in _tree(pid)]
    fresh.kill(job["id"])
    wait_for(lambda: all(gone(p) for p in tree), "the job's processes to end")
    assert fresh.job(job["id"])["status"] == "succeeded"


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _names(procs: list[psutil.Process]) -> list[str]:
    names = []
    for proc in procs:
        try:
            names.append(proc.name())
        except psutil.NoSuchProcess:
            continue
    return names


def test_kill_ends_children_that_ignore_sigterm(fresh: Api, data_dir: Path) -> None:
    # The child writes its pid only once it ignores SIGTERM, so only SIGKILL can end it.
    child_script = 'trap \\"\\" TERM; echo \\$\\$ > childpid; exec sleep 60'
    job = fresh.create(sh(f'echo $$ > pidfile; sh -c "{child_script}" & wait'))
    fresh.wait(job["id"], ("running",))
    work = work_dir(data_dir, job["id"])
    pid, child = read_pid(work / "pidfile"), read_pid(work / "childpid")
    fresh.kill(job["id"])
    wait_for(lambda: gone(pid) and gone(child), "the job's processes to end")
    assert fresh.job(job["id"])["status"] == "succeeded"


def test_background_children_end_with_the_job(fresh: Api, data_dir: Path) -> None:
    """As with a container: once the main process exits, nothing of the job keeps running."""
    job = fresh.create(sh("sleep 60 & echo $!"))
    done = fresh.wait(job["id"])
    assert (done["status"], done["history"]["exit_code"]) == ("succeeded", 0)
    child = read_pid(data_dir / "jobs" / job["id"] / "log")
    wait_for(lambda: gone(child), "the background child to end")


def test_kill_pending_job(fresh: Api) -> None:
    body = job_body("true")
    body["container"]["resources"]["memory_mb"] = HUGE_MEMORY_MB
    job = fresh.create(body)
    fresh.kill(job["id"])
    killed = fresh.job(job["id"])
    assert killed["status"] == "succeeded"
    assert killed["history"]["reason"] is None
    assert killed["history"]["description"] is None
    assert "exit_code" not in killed["history"]
    # Never seen running: started_at falls back to the finish time (docs/protocol.md §2.6).
    assert killed["history"]["started_at"] == killed["history"]["finished_at"]
    fresh.kill(job["id"])
    assert fresh.job(job["id"]) == killed


def test_kill_finished_job_is_a_noop(fresh: Api) -> None:
    done = fresh.wait(fresh.create(sh("exit 2"))["id"])
    assert done["status"] == "failed"
    fresh.kill(done["id"])
    assert fresh.job(done["id"]) == done


@pytest.mark.parametrize(
    "command",
    [
        "no-such-command-anywhere --flag",
        "/nonexistent/bin/tool",
        "'unbalanced quote",
        "./not-here",
    ],
)
def test_command_that_cannot_run(fresh: Api, command: str) -> None:
    done = fresh.wait(fresh.create(job_body(command))["id"])
    assert done["status"] == "failed"
    assert done["history"]["reason"] == "ContainerCannotRun"
    assert isinstance(done["history"]["description"], str) and done["history"]["description"]


def test_job_without_command_cannot_run(fresh: Api) -> None:
    body = job_body("true")
    del body["container"]["command"]
    done = fresh.wait(fresh.create(body)["id"])
    assert (done["status"], done["history"]["reason"]) == ("failed", "ContainerCannotRun")


@pytest.mark.parametrize(
    "container",
    [
        {"command": "tr\x00ue"},
        {"command": "true \ud800"},
    ],
    # (env names with `=` or NUL and values with NUL are refused at submission: test_api)
    ids=["nul-command", "surrogate-command"],
)
def test_unstartable_job_fails_and_does_not_block_others(
    fresh: Api, data_dir: Path, container: dict[str, Any]
) -> None:
    body = job_body("true")
    body["container"].update(container)
    bad = fresh.create(body)
    good = fresh.create(job_body("true"))
    done = fresh.wait(bad["id"])
    assert (done["status"], done["history"]["reason"]) == ("failed", "ContainerCannotRun")
    assert fresh.wait(good["id"])["status"] == "succeeded"
    assert not work_dir(data_dir, bad["id"]).exists()  # nothing left of it


@pytest.mark.parametrize(
    "resources",
    [{"cpu": 0.1, "memory_mb": HUGE_MEMORY_MB}, {"cpu": 128, "memory_mb": 16}],
    ids=["memory", "cpu"],
)
def test_oversized_job_scales_up_then_fails(fresh: Api, resources: dict[str, Any]) -> None:
    body = job_body("true", schedule_timeout=2)
    body["container"]["resources"] = resources
    job = fresh.create(body)
    assert (job["status"], job["history"]["reason"]) == ("pending", None)
    assert job["schedule_timeout"] == 2.0

    seen: list[tuple[str, str | None, str | None]] = []

    def finished() -> bool:
        current = fresh.job(job["id"])
        item = (current["status"], current["history"]["reason"], current["history"]["description"])
        if not seen or seen[-1] != item:
            seen.append(item)
        return current["status"] in ("succeeded", "failed")

    wait_for(finished, "the scale-up to fail")
    assert seen[-2:] == [
        ("pending", "ClusterScalingUp", "Scaling up the cluster to get more resources"),
        ("failed", "ClusterScaleUpFailed", "Failed to scale up the cluster to get more resources"),
    ]
    history = fresh.job(job["id"])["history"]
    assert "exit_code" not in history
    assert history["started_at"] == history["finished_at"]


def test_job_runs_in_its_work_dir(fresh: Api, data_dir: Path) -> None:
    done = fresh.wait(fresh.create(sh('pwd; echo "$HOME"'))["id"])
    assert done["status"] == "succeeded"
    work = work_dir(data_dir, done["id"])
    lines = (data_dir / "jobs" / done["id"] / "log").read_text().splitlines()
    assert lines == [str(work)] * 2
    assert not work.exists()  # removed when the job ended


def test_kill_ends_children_that_left_the_session(fresh: Api, data_dir: Path) -> None:
    job = fresh.create(escaping("wait"))
    fresh.wait(job["id"], ("running",))
    escaped = read_pid(work_dir(data_dir, job["id"]) / "escpid")
    assert os.getsid(escaped) == escaped
    fresh.kill(job["id"])
    wait_for(lambda: gone(escaped), "the escaped child to end")


def test_children_that_left_the_session_end_with_the_job(fresh: Api, data_dir: Path) -> None:
    job = fresh.create(escaping("while [ ! -e escpid ]; do sleep 0.02; done; cat escpid"))
    done = fresh.wait(job["id"])
    assert done["status"] == "succeeded"
    escaped = read_pid(data_dir / "jobs" / job["id"] / "log")
    wait_for(lambda: gone(escaped), "the escaped child to end")
