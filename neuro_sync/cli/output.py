"""What the CLI prints: job JSON, tables and the status page (progress is the library's)."""

from __future__ import annotations

import datetime
import json
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from neuro_sync import JobDescription, JobTelemetry, Resources

__all__ = [
    "describe_job",
    "dump_json",
    "job_to_json",
    "jobs_table",
    "resources_text",
    "table",
    "telemetry_row",
]

ELLIPSIS = "..."


def _iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _url(value: object) -> str | None:
    text = str(value)
    return text or None


def job_to_json(job: JobDescription) -> dict[str, Any]:
    """The job with the wire's field names (every key present; null when there is no value)."""
    h, c, r = job.history, job.container, job.container.resources
    return {
        "id": job.id,
        "owner": job.owner,
        "name": job.name,
        "description": job.description,
        "status": job.status.value,
        "history": {
            "status": h.status.value,
            "reason": h.reason,
            "description": h.description,
            "created_at": _iso(h.created_at),
            "started_at": _iso(h.started_at),
            "finished_at": _iso(h.finished_at),
            "exit_code": h.exit_code,
        },
        "container": {
            "image": c.image.as_repo_str(),
            "entrypoint": c.entrypoint,
            "command": c.command,
            "resources": {
                "cpu": r.cpu,
                "memory_mb": r.memory_mb,
                "gpu": r.gpu,
                "gpu_model": r.gpu_model,
                "shm": r.shm,
            },
            "http": None
            if c.http is None
            else {"port": c.http.port, "requires_auth": c.http.requires_auth},
            "env": dict(c.env),
            "volumes": [
                {
                    "src_storage_uri": v.storage_path,
                    "dst_path": v.container_path,
                    "read_only": v.read_only,
                }
                for v in c.volumes
            ],
        },
        "is_preemptible": job.is_preemptible,
        "http_url": _url(job.http_url),
        "ssh_server": _url(job.ssh_server),
        "internal_hostname": job.internal_hostname,
    }


def dump_json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def _fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    if width <= len(ELLIPSIS):
        return text[:width]
    return text[: width - len(ELLIPSIS)] + ELLIPSIS


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None,
    flexible: Sequence[int] = (),
) -> list[str]:
    """Left-aligned columns two spaces apart. With a `width`, the `flexible` columns shrink
    (widest first, never below their header) and their cells end in `...`."""
    rows = [[" ".join(cell.split()) for cell in row] for row in rows]  # one line per row
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    if width is not None:
        floor = {i: max(len(headers[i]), len(ELLIPSIS) + 1) for i in flexible}
        while sum(widths) + 2 * (len(widths) - 1) > width:
            shrinkable = [i for i in flexible if widths[i] > floor[i]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: widths[i])
            widths[widest] -= 1
    lines = []
    for row in [list(headers), *rows]:
        cells = [_fit(cell, widths[i]).ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _when(value: datetime.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def _status_cell(job: JobDescription) -> str:
    """`failed: Collected`: the status with its reason (why a job waits or ended)."""
    reason = job.history.reason
    return f"{job.status.value}: {reason}" if reason else job.status.value


def jobs_table(jobs: Sequence[JobDescription], *, wide: bool, width: int | None) -> list[str]:
    headers = ["ID", "STATUS", "NAME", "IMAGE", "COMMAND"]
    rows = [
        [j.id, _status_cell(j), j.name or "", str(j.container.image), j.container.command or ""]
        for j in jobs
    ]
    if wide:
        headers[2:2] = ["OWNER", "CREATED"]
        for j, row in zip(jobs, rows, strict=True):
            row[2:2] = [j.owner, _when(j.history.created_at)]
        headers += ["DESCRIPTION", "WHY"]  # the job's description; the status description
        for j, row in zip(jobs, rows, strict=True):
            row += [j.description or "", j.history.description or ""]
        return table(headers, rows, width=None)
    return table(headers, rows, width=width, flexible=(2, 3, 4))


def resources_text(r: Resources) -> str:
    parts = [f"{r.cpu:g} CPU", f"{r.memory_mb} MB"]
    if r.gpu:
        parts.append(f"{r.gpu} GPU" + (f" {r.gpu_model}" if r.gpu_model else ""))
    if r.shm:
        parts.append("extended /dev/shm")
    return ", ".join(parts)


def describe_job(job: JobDescription) -> list[str]:
    """`status ID`: one `Label: value` line per known field, then the status description."""
    h, c = job.history, job.container
    status = job.status.value + (f" ({h.reason})" if h.reason else "")
    fields: list[tuple[str, object]] = [
        ("Job", job.id),
        ("Name", job.name),
        ("Owner", job.owner),
        ("Description", job.description),
        ("Status", status),
        ("Image", c.image),
        ("Entrypoint", c.entrypoint),
        ("Command", c.command),
        ("Resources", resources_text(c.resources)),
        ("Preemptible", "yes" if job.is_preemptible else "no"),
        ("HTTP", None if c.http is None else f"port {c.http.port}"),
        ("HTTP URL", _url(job.http_url)),
        ("Internal host", job.internal_hostname),
        ("Created", _iso(h.created_at)),
        ("Started", _iso(h.started_at)),
        ("Finished", _iso(h.finished_at)),
        ("Exit code", h.exit_code),
    ]
    for v in c.volumes:
        mode = "ro" if v.read_only else "rw"
        fields.append(("Volume", f"{v.storage_path} -> {v.container_path} ({mode})"))
    for key in sorted(c.env):
        fields.append(("Env", f"{key}=..."))  # values may be secrets
    lines = [f"{label + ':':<15}{value}" for label, value in fields if value not in (None, "")]
    if h.description:
        lines += ["", "=== Status description ===", h.description.rstrip("\n")]
    return lines


def telemetry_row(sample: JobTelemetry) -> list[str]:
    when = datetime.datetime.fromtimestamp(sample.timestamp).strftime("%H:%M:%S")
    gpu = "" if sample.gpu_duty_cycle is None else f"{sample.gpu_duty_cycle}%"
    gpu_mem = "" if sample.gpu_memory is None else f"{sample.gpu_memory:.0f}"
    return [when, f"{sample.cpu:.2f}", f"{sample.memory:.0f}", gpu, gpu_mem]


def terminal_width() -> int | None:
    """The terminal's width, or None (nothing is cut) when stdout is not a terminal: a script
    or a pipe gets every character."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size((80, 24)).columns
    return None
