"""The fields of a parsed job that neuro-sdk 22.7.1 and neuro-sync both carry, as plain JSON
data (tests/sdk2022/test_differential.py). Standard library only: it also runs INSIDE the
SDK's venv (tests/sdk2022/driver.py). The two job classes share these attribute names."""

from __future__ import annotations

from typing import Any


def job_fields(job: Any, memory_bytes: int) -> dict[str, Any]:
    """`memory_bytes`: the SDK's Resources carries bytes, ours megabytes; the caller converts."""
    h, c = job.history, job.container
    return {
        "id": job.id,
        "name": job.name,
        "description": job.description,
        "status": job.status.value,
        "history": [h.status.value, h.reason, h.exit_code, h.restarts, h.run_time_seconds],
        "transitions": [[t.status.value, t.reason, t.exit_code] for t in h.transitions],
        "tags": list(job.tags),
        "life_span": job.life_span,
        "restart_policy": job.restart_policy.value,
        "preset_name": job.preset_name,
        "pass_config": job.pass_config,
        "command": c.command,
        "entrypoint": c.entrypoint,
        "env": dict(c.env),
        "working_dir": c.working_dir,
        "tty": c.tty,
        "http": None if c.http is None else [c.http.port, c.http.requires_auth],
        "volumes": [[v.container_path, v.read_only] for v in c.volumes],
        "cpu": c.resources.cpu,
        "memory": memory_bytes,
    }
