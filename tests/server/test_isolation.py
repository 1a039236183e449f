"""Jobs cannot reach the platform's secrets nor each other (as root: a uid per user, work
dirs outside the private data dir); the data dir is private; the state is reported."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_sync.local import LocalPlatform

from .helpers import GATE, Api, release, sh, unique_user, wait_for, work_dir

pytestmark = pytest.mark.integration

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="isolation needs root")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(tmp_path_factory.mktemp("isolation") / "data") as lp:
        yield lp


def user(platform: LocalPlatform) -> Api:
    name = unique_user()
    return Api(platform.url, platform.issue_token(name), name)


def output(api: Api, data_dir: Path, script: str) -> tuple[int, str]:
    """Run `sh -c script` as a job of `api`'s user: (exit code, its output)."""
    job = api.wait(api.create(sh(f"{script} 2>&1"))["id"])
    # The log, not a file: the job's working directory goes with the job.
    return job["history"]["exit_code"], (data_dir / "jobs" / job["id"] / "log").read_text()


@root_only
def test_jobs_run_as_an_unprivileged_uid_per_user(platform: LocalPlatform) -> None:
    alice, bob = user(platform), user(platform)
    uids = [int(output(api, platform.data_dir, "id -u")[1]) for api in (alice, bob, alice)]
    assert 0 not in uids
    assert uids[0] == uids[2] != uids[1]
    described = alice.get("/config").json()["local_platform"]
    assert described == {"runtime": "process", "isolation": "uid-per-user"}


@root_only
def test_a_job_cannot_read_secrets_or_other_users_jobs(platform: LocalPlatform) -> None:
    alice, bob = user(platform), user(platform)
    data_dir = platform.data_dir
    private = alice.create(sh(f"echo alice-secret > secret; echo $$ > pid; {GATE}"))
    alice.wait(private["id"], ("running",))
    theirs = work_dir(data_dir, private["id"])
    wait_for(
        lambda: (theirs / "pid").exists() and (theirs / "pid").read_text().strip() != "", "pid"
    )
    pid = int((theirs / "pid").read_text())
    try:
        for target in (
            data_dir / "jwt-secret",
            data_dir / "jobs.sqlite3",
            data_dir / "client.nmrc",
            data_dir / "jobs" / private["id"] / "log",
            theirs / "secret",
            Path(f"/proc/{pid}/environ"),  # the job's variables
        ):
            assert target.exists()
            code, text = output(bob, data_dir, f"cat {target}")
            assert code != 0 and "Permission denied" in text, target
        for listing in (data_dir, theirs.parent, theirs):
            code, text = output(bob, data_dir, f"ls {listing}")
            assert code != 0 and "Permission denied" in text, listing
    finally:
        release(data_dir, private["id"])
    alice.wait(private["id"])


def test_the_data_dir_is_private(platform: LocalPlatform) -> None:
    api = Api(platform.url, platform.token, platform.user)
    done = api.wait(api.create(sh("echo to the log; echo artifact > file; sleep 0.5"))["id"])
    assert done["status"] == "succeeded"
    loose = []
    for path in [platform.data_dir, *platform.data_dir.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            loose.append(f"{path} {stat.filemode(mode)}")
    assert loose == []
    assert (platform.data_dir / "jobs" / done["id"] / "log").read_text() == "to the log\n"


def test_without_isolation_it_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="neuro_sync.local"):
        with LocalPlatform(tmp_path / "data", isolate=False) as lp:
            api = Api(lp.url, lp.token, lp.user)
            described = api.get("/config").json()["local_platform"]
            code, text = output(api, lp.data_dir, "id -u")
    assert described["runtime"] == "process"
    assert described["isolation"] == "none"
    assert "isolate=False" in described["note"]
    assert (code, int(text)) == (0, os.geteuid())
    warnings = [r.getMessage() for r in caplog.records if r.name == "neuro_sync.local"]
    assert len([w for w in warnings if "not isolated" in w]) == 1
