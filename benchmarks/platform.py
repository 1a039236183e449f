"""The local platform under load: fairness, idle cost of a long history, memory of a big list.

    .venv/bin/python -m benchmarks.platform [--code DIR] [--only wait|idle|list]

Runs `neuro-sync-local` from the source tree DIR (default: this one; give an export of an
older commit to compare) in a subprocess on 127.0.0.1 and prints three figures:

* wait: user alice queues 1,000 jobs (0.1 CPU, `sleep 0.5`) on 1 CPU (10 at a time), then
  bob submits one job: seconds from bob's submission to his job's start, how many of alice's
  jobs started in between, and in how many scheduling rounds (starts less than 20 ms apart
  count as one round).
* idle: CPU time (user + system, psutil) of the platform process over 10 s with 50,000
  finished jobs in its store and nothing else to do.
* list: growth of the platform's peak RSS (VmHWM) while it answers one list of 5,000 jobs
  with 16 KiB of env each (the 2019 JSON format).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def platform(code: Path, data_dir: Path, *args: str) -> Iterator[tuple[str, psutil.Process]]:
    env = {**os.environ, "PYTHONPATH": f"{code}:{code / 'generated'}"}
    argv = [sys.executable, "-m", "neuro_sync.local", "serve", "--port", "0"]
    argv += ["--data-dir", str(data_dir), "--runtime", "process", *args]
    proc = subprocess.Popen(  # cwd: `-m` puts it first on sys.path, before --code
        argv, env=env, cwd=data_dir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if line.startswith("neuro-sync local platform: "):
                url = line.split(": ", 1)[1].split()[0]
                break
        if not url:
            raise RuntimeError("the platform did not start")
        yield url, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def token(code: Path, data_dir: Path, user: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{code}:{code / 'generated'}"}
    argv = [sys.executable, "-m", "neuro_sync.local", "token", "--user", user]
    return subprocess.run(
        [*argv, "--data-dir", str(data_dir)],
        env=env,
        cwd=data_dir,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def session(code: Path, data_dir: Path, user: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token(code, data_dir, user)}"
    return s


def body(command: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "container": {
            "image": "ubuntu",
            "command": command,
            "env": env or {},
            "resources": {"cpu": 0.1, "memory_mb": 16},
        }
    }


def finished_records(data_dir: Path, owner: str, count: int, env_bytes: int = 0) -> None:
    """Succeeded jobs written straight into the store (the record format of both versions)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    db = sqlite3.connect(data_dir / "jobs.sqlite3")
    db.execute(
        "CREATE TABLE IF NOT EXISTS jobs ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, data TEXT NOT NULL)"
    )
    now = datetime.datetime.now(datetime.UTC).isoformat()
    env = {"BIG": "x" * env_bytes} if env_bytes else {}
    rows = []
    for _ in range(count):
        job_id = f"job-{uuid.uuid4()}"
        record = {
            "id": job_id,
            "owner": owner,
            "container": {**body("true", env)["container"], "volumes": []},
            "created_at": now,
            "is_preemptible": False,
            "name": None,
            "description": None,
            "schedule_timeout": None,
            "status": "succeeded",
            "reason": None,
            "status_description": None,
            "started_at": now,
            "finished_at": now,
            "exit_code": 0,
            "pid": -1,
            "extra": {},
        }
        rows.append((job_id, json.dumps(record)))
    with db:
        db.executemany("INSERT INTO jobs (id, data) VALUES (?, ?)", rows)
    db.close()


def measure_wait(code: Path, work: Path) -> dict[str, Any]:
    data_dir = work / "wait"
    data_dir.mkdir(mode=0o700)
    with platform(code, data_dir, "--cpus", "1", "--memory-mb", "4096") as (url, _):
        alice, bob = session(code, data_dir, "alice"), session(code, data_dir, "bob")
        queue = []
        for _ in range(1000):
            reply = alice.post(f"{url}/jobs", json=body("sleep 0.5"), timeout=60)
            reply.raise_for_status()
            queue.append(reply.json()["id"])
        bobs = bob.post(f"{url}/jobs", json=body("true"), timeout=60).json()["id"]
        while True:
            job = bob.get(f"{url}/jobs/{bobs}", timeout=60).json()
            if job["status"] != "pending":
                break
            time.sleep(0.05)
        created, started = job["history"]["created_at"], job["history"]["started_at"]
        jobs = alice.get(f"{url}/jobs", timeout=60).json()["jobs"]
        ahead = sorted(
            j["history"]["started_at"]
            for j in jobs
            if created < j["history"].get("started_at", "~") < started
        )
        for job_id in queue:
            alice.delete(f"{url}/jobs/{job_id}", timeout=60)
    stamps = [datetime.datetime.fromisoformat(s) for s in ahead]
    rounds = sum(
        1
        for a, b in zip([None, *stamps], stamps, strict=False)
        if a is None or (b - a).total_seconds() > 0.02
    )
    wait = (
        datetime.datetime.fromisoformat(started) - datetime.datetime.fromisoformat(created)
    ).total_seconds()
    return {"seconds": round(wait, 2), "alice_jobs_started_first": len(ahead), "rounds": rounds}


def measure_idle(code: Path, work: Path) -> dict[str, Any]:
    data_dir = work / "idle"
    finished_records(data_dir, "alice", 50_000)
    with platform(code, data_dir) as (url, proc):
        requests.get(f"{url}/ping", timeout=60)
        time.sleep(2)  # past the start
        before = proc.cpu_times()
        time.sleep(10)
        after = proc.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return {"cpu_seconds_in_10s": round(used, 3), "cpu_percent": round(used * 10, 1)}


def _hwm(proc: psutil.Process) -> int:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def measure_list(code: Path, work: Path) -> dict[str, Any]:
    data_dir = work / "list"
    finished_records(data_dir, "alice", 5000, env_bytes=16 * 1024)
    with platform(code, data_dir) as (url, proc):
        alice = session(code, data_dir, "alice")
        alice.get(f"{url}/jobs/job-none", timeout=60)  # warm up the handlers
        # Reset the peak to the current RSS (Linux >= 4.0), so the start's peak does not hide
        # the list's.
        Path(f"/proc/{proc.pid}/clear_refs").write_text("5")
        before, rss = _hwm(proc), proc.memory_info().rss
        size = 0
        with alice.get(f"{url}/jobs", stream=True, timeout=300) as reply:
            for chunk in reply.iter_content(64 * 1024):
                size += len(chunk)
        after = _hwm(proc)
    mib = 1024 * 1024
    return {
        "reply_mib": round(size / mib, 1),
        "rss_before_mib": round(rss / mib, 1),
        "peak_rss_growth_mib": round((after - before) / mib, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--only", choices=("wait", "idle", "list"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, run in (("idle", measure_idle), ("list", measure_list), ("wait", measure_wait)):
            if args.only in (None, name):
                print(name, json.dumps(run(args.code.resolve(), Path(tmp))), flush=True)


if __name__ == "__main__":
    main()
