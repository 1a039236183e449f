"""Job records in SQLite (WAL). One writer: the server's event-loop thread.

Besides all records in submission order, the store keeps two indices, updated on every
`add`/`save`/`remove`: each owner's records, and each owner's pending jobs (not finished, not
started) in submission order. The scheduler reads only the latter, so its work per tick is
proportional to the pending jobs, never to the history (docs/local-platform.md "Scheduling").
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# `cancelled`: a job killed, or past its life span, on a 2022-dialect platform.
FINISHED = ("succeeded", "failed", "cancelled")
MAX_TRANSITIONS = 1000


def is_pending(job: JobRecord) -> bool:
    """Waiting to start: not finished and not started here (a runtime may be starting it)."""
    return job.status == "pending" and job.pid is None


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


@dataclass
class JobRecord:
    """One job as the server keeps it; `to_wire` renders the §2.6 job object."""

    id: str
    owner: str
    container: dict[str, Any]
    created_at: str
    is_preemptible: bool = False
    name: str | None = None
    description: str | None = None
    schedule_timeout: float | None = None
    status: str = "pending"
    reason: str | None = None
    status_description: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    pid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def set_status(
        self, status: str, reason: str | None = None, description: str | None = None
    ) -> None:
        now = now_iso()
        if (status, reason) != (self.status, self.reason):
            # Every change, oldest first: the 2022 dialect's `statuses` (dialect2022.py);
            # a job restarting for ever keeps its first and its latest MAX_TRANSITIONS.
            changes = self.extra.setdefault("statuses", [])
            changes.append(
                {
                    "status": status,
                    "transition_time": now,
                    "reason": reason,
                    "description": description,
                }
            )
            if len(changes) > MAX_TRANSITIONS:
                del changes[1 : len(changes) - MAX_TRANSITIONS + 1]
        self.status, self.reason, self.status_description = status, reason, description
        if status == "running" and self.started_at is None:
            self.started_at = now
        if status in FINISHED and self.finished_at is None:
            self.finished_at = now
            # A job never seen running still reports a start time (docs/protocol.md §2.6).
            if self.started_at is None:
                self.started_at = now

    def to_wire(self, settings: Any) -> dict[str, Any]:
        history: dict[str, Any] = {
            "status": self.status,
            "reason": self.reason,
            "description": self.status_description,
            "created_at": self.created_at,
        }
        if self.started_at:
            history["started_at"] = self.started_at
        if self.finished_at:
            history["finished_at"] = self.finished_at
        if self.exit_code is not None:
            history["exit_code"] = self.exit_code
        ssh = f"ssh://nobody@{settings.ssh_host}:{settings.ssh_port}"
        job: dict[str, Any] = {
            "id": self.id,
            "owner": self.owner,
            "cluster_name": "default",
            "status": self.status,
            "history": history,
            "container": self.container,
            "ssh_server": ssh,
            "ssh_auth_server": ssh,
            "is_preemptible": self.is_preemptible,
            "internal_hostname": f"{self.id}.default",
        }
        if self.name:
            job["name"] = self.name
        if self.description:
            job["description"] = self.description
        if "http" in self.container:
            served = self.extra.get("http_url")  # the job's ingress (ingress.py)
            job["http_url"] = served or f"http://{self.id}.{settings.jobs_domain}"
            if self.name:
                # No routing by name here: the named URL is the job's own address.
                named = f"http://{self.name}--{self.owner}.{settings.jobs_domain}"
                job["http_url_named"] = served or named
        if self.schedule_timeout is not None:
            job["schedule_timeout"] = self.schedule_timeout
        if getattr(settings, "dialect", "2019") == "2022":
            from .dialect2022 import amend_wire  # the later dialect's keys, around these

            amend_wire(self, job, settings)
        return job


class Store:
    """All jobs in memory, written through to SQLite so they survive a restart."""

    def __init__(self, path: Path) -> None:
        # Job env vars are often secrets: the database (and so its -wal/-shm files, which
        # SQLite creates with the database's mode) is for the platform's user only.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS jobs ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, data TEXT NOT NULL)"
        )
        self.jobs: dict[str, JobRecord] = {}
        # owner -> job id -> record, oldest first (dicts keep insertion order)
        self._owned: dict[str, dict[str, JobRecord]] = {}
        self._pending: dict[str, dict[str, JobRecord]] = {}
        for (data,) in self._db.execute("SELECT data FROM jobs ORDER BY seq"):
            self._index(JobRecord(**json.loads(data)))

    def _index(self, job: JobRecord) -> None:
        self.jobs[job.id] = job
        self._owned.setdefault(job.owner, {})[job.id] = job
        self._reindex(job)

    def _reindex(self, job: JobRecord) -> None:
        queue = self._pending.get(job.owner)
        if is_pending(job):
            if queue is None:
                queue = self._pending[job.owner] = {}
            queue.setdefault(job.id, job)  # a job keeps its place in its owner's queue
        elif queue is not None:
            queue.pop(job.id, None)
            if not queue:
                del self._pending[job.owner]

    def add(self, job: JobRecord) -> None:
        self._db.execute(
            "INSERT INTO jobs (id, data) VALUES (?, ?)", (job.id, json.dumps(asdict(job)))
        )
        self._index(job)

    def save(self, job: JobRecord) -> None:
        self._db.execute("UPDATE jobs SET data = ? WHERE id = ?", (json.dumps(asdict(job)), job.id))
        self._reindex(job)

    def remove(self, job: JobRecord) -> None:
        """Forget a record (a finished job collected to keep its owner under the limit)."""
        self._db.execute("DELETE FROM jobs WHERE id = ?", (job.id,))
        self.jobs.pop(job.id, None)
        owned = self._owned.get(job.owner, {})
        owned.pop(job.id, None)
        if not owned:
            self._owned.pop(job.owner, None)
        queue = self._pending.get(job.owner, {})
        queue.pop(job.id, None)
        if not queue:
            self._pending.pop(job.owner, None)

    def get(self, job_id: str) -> JobRecord | None:
        return self.jobs.get(job_id)

    def ordered(self) -> list[JobRecord]:
        """Oldest first, as the real platform lists them."""
        return list(self.jobs.values())

    def owned(self, owner: str) -> list[JobRecord]:
        """One owner's records, oldest first."""
        return list(self._owned.get(owner, {}).values())

    def count(self, owner: str) -> int:
        return len(self._owned.get(owner, ()))

    def pending(self) -> dict[str, list[JobRecord]]:
        """Each owner's pending jobs (see `is_pending`), oldest first: the scheduler's queues.

        Stale entries (a record changed without `save`) are dropped on the way."""
        queues: dict[str, list[JobRecord]] = {}
        for owner, queue in list(self._pending.items()):
            jobs = [job for job in queue.values() if is_pending(job)]
            if len(jobs) != len(queue):
                for job in list(queue.values()):
                    self._reindex(job)
            if jobs:
                queues[owner] = jobs
        return queues

    def pending_count(self, owner: str) -> int:
        return len(self._pending.get(owner, ()))

    def close(self) -> None:
        self._db.close()
