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
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from neuro_sync_api import writers
from neuro_sync_api.writers import OMIT, Omit

# `cancelled`: a job killed, or past its life span, on a 2022-dialect platform.
FINISHED = ("succeeded", "failed", "cancelled")
MAX_TRANSITIONS = 1000
CLUSTER = "default"  # the one cluster of a local platform
MIB = 2**20


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
        """The job object of a reply in the platform's dialect (docs/protocol.md §2.6).

        The values of both dialects are given; the generated writer (from the spec) keeps the
        keys the dialect sends and drops the others (`ssh_server` under 2022, `uri` under 2019)."""
        dialect = getattr(settings, "dialect", "2019")
        x = self.extra
        sent = writers.JOB_KEYS[dialect]  # to skip computing what the dialect leaves out
        history = writers.write_job_history(
            dialect,
            status=self.status,
            reason=self.reason,
            description=self.status_description,
            created_at=self.created_at,
            started_at=self.started_at or OMIT,
            finished_at=self.finished_at or OMIT,
            exit_code=_given(self.exit_code),
            restarts=int(x.get("restarts", 0)),
            run_time_seconds=(
                run_time_seconds(self)
                if "run_time_seconds" in writers.JOB_HISTORY_KEYS[dialect]
                else OMIT
            ),
        )
        container: Mapping[str, Any] = self.container
        resources = container["resources"]
        if "memory" in writers.RESOURCES_RESPONSE_KEYS[dialect] and "memory" not in resources:
            # the later key in bytes, beside the MiB of `memory_mb`
            memory = int(resources["memory_mb"]) * MIB
            container = {**container, "resources": {**resources, "memory": memory}}
        container = writers.copy_container_response(dialect, container)
        ssh = f"ssh://nobody@{settings.ssh_host}:{settings.ssh_port}"
        http_url: str | Omit = OMIT
        http_url_named: str | Omit = OMIT
        if "http" in self.container:
            served = x.get("http_url")  # the job's ingress (ingress.py)
            http_url = served or f"http://{self.id}.{settings.jobs_domain}"
            if self.name:
                # No routing by name here: the named URL is the job's own address.
                http_url_named = (
                    served or f"http://{self.name}--{self.owner}.{settings.jobs_domain}"
                )
        preemptible_node = bool(x.get("preemptible_node", False))
        return writers.write_job(
            dialect,
            id=self.id,
            owner=self.owner,
            cluster_name=CLUSTER,
            status=self.status,
            history=history,
            container=container,
            ssh_server=ssh,
            ssh_auth_server=ssh,
            is_preemptible=self.is_preemptible,
            name=self.name or OMIT,
            description=self.description or OMIT,
            http_url=http_url,
            http_url_named=http_url_named,
            internal_hostname=f"{self.id}.{CLUSTER}",
            schedule_timeout=_given(self.schedule_timeout),
            uri=f"job://{CLUSTER}/{self.owner}/{self.id}",
            tags=list(x["tags"]) if x.get("tags") else OMIT,
            restart_policy=x.get("restart_policy", "never"),
            max_run_time_minutes=_given(x.get("max_run_time_minutes")),
            pass_config=bool(x.get("pass_config", False)),
            privileged=bool(x.get("privileged", False)),
            preset_name=x.get("preset_name") or OMIT,
            scheduler_enabled=self.is_preemptible,
            preemptible_node=preemptible_node,
            is_preemptible_node_required=preemptible_node,
            internal_hostname_named=f"{self.name}--{self.owner}.{CLUSTER}" if self.name else OMIT,
            priority=x.get("priority", "normal"),
            total_price_credits="0",
            price_credits_per_hour="0",
            statuses=self.statuses() if "statuses" in sent else OMIT,
        )

    def statuses(self) -> list[dict[str, Any]]:
        """Every status change, oldest first, from the creation (the 2022 `statuses`)."""
        created = {
            "status": "pending",
            "transition_time": self.created_at,
            "reason": None,
            "description": None,
        }
        changes = [created, *(dict(item) for item in self.extra.get("statuses", []))]
        if self.finished and self.exit_code is not None:
            changes[-1]["exit_code"] = self.exit_code
        return changes


def _given(value: Any) -> Any:
    """None (not set) as a key left out."""
    return OMIT if value is None else value


def run_time_seconds(job: JobRecord) -> float:
    """Seconds since the job first started, until it finished (0 if it never started)."""
    if not job.started_at:
        return 0.0
    start = datetime.datetime.fromisoformat(job.started_at)
    end = (
        datetime.datetime.fromisoformat(job.finished_at)
        if job.finished_at
        else datetime.datetime.now(datetime.UTC)
    )
    return max(0.0, (end - start).total_seconds())


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
