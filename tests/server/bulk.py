"""Job records written straight into a platform's store before it starts (a long history)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import asdict
from pathlib import Path

from neuro_sync.local.files import private_dir
from neuro_sync.local.store import JobRecord, Store, now_iso


def finished_jobs(data_dir: Path, owner: str, count: int, env_bytes: int = 0) -> list[str]:
    """Store `count` succeeded jobs of `owner` (each with `env_bytes` of env); their ids."""
    private_dir(data_dir)
    Store(data_dir / "jobs.sqlite3").close()  # the platform's own schema
    env = {"BIG": "x" * env_bytes} if env_bytes else {}
    rows = []
    for _ in range(count):
        job = JobRecord(
            id=f"job-{uuid.uuid4()}",
            owner=owner,
            container={
                "image": "ubuntu",
                "command": "true",
                "env": env,
                "volumes": [],
                "resources": {"cpu": 0.1, "memory_mb": 16},
            },
            created_at=now_iso(),
            pid=-1,
            exit_code=0,
        )
        job.set_status("succeeded")
        rows.append((job.id, json.dumps(asdict(job))))
    db = sqlite3.connect(data_dir / "jobs.sqlite3")
    with db:  # one transaction: thousands of rows in a blink
        db.executemany("INSERT INTO jobs (id, data) VALUES (?, ?)", rows)
    db.close()
    return [job_id for job_id, _ in rows]
