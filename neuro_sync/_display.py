"""Everything shown to a person rather than a program: job cards, job tables, progress.

Jupyter calls `_repr_html_`, IPython's console `_repr_pretty_`; the plain `repr()` of the
dataclasses is untouched. Every value goes through `html.escape`: job names, descriptions,
reasons and commands come from users and servers.
"""

from __future__ import annotations

import datetime
import html
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .models import JobDescription

__all__ = ["JobList", "Progress", "job_card_html", "job_card_text", "jobs_table_html"]


class PrettyPrinter(Protocol):
    """The part of IPython's `PrettyPrinter` used here."""

    def text(self, obj: str) -> None: ...


def _time(value: datetime.datetime | None) -> str:
    return "" if value is None else value.isoformat(sep=" ", timespec="seconds")


def _status(job: JobDescription) -> str:
    """`failed (Error, exit code 2)`: the status with what explains it."""
    h = job.history
    details = [h.reason] if h.reason else []
    if h.exit_code is not None:
        details.append(f"exit code {h.exit_code}")
    return f"{job.status.value} ({', '.join(details)})" if details else job.status.value


def _resources(job: JobDescription) -> str:
    r = job.container.resources
    text = f"{r.cpu:g} CPU, {r.memory_mb} MB"
    if r.gpu:
        text += f", {r.gpu} GPU" + (f" {r.gpu_model}" if r.gpu_model else "")
    if r.shm:
        text += ", shm"
    return text


def _fields(job: JobDescription) -> list[tuple[str, str]]:
    """The card's rows, in order; empty values are left out."""
    h = job.history
    rows = [
        ("name", job.name or ""),
        ("status", _status(job)),
        ("image", str(job.container.image)),
        ("command", job.container.command or ""),
        ("resources", _resources(job)),
        ("created", _time(h.created_at)),
        ("started", _time(h.started_at)),
        ("finished", _time(h.finished_at)),
        ("url", str(job.http_url)),
        ("description", job.description or ""),
    ]
    return [(k, v) for k, v in rows if v]


def job_card_text(job: JobDescription) -> str:
    """A few lines: the id, then `field: value` rows."""
    lines = [f"Job {job.id}"]
    lines += [f"  {k + ':':<12} {v}" for k, v in _fields(job)]
    return "\n".join(lines)


def job_card_html(job: JobDescription) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
        f"{html.escape(v)}</td></tr>"
        for k, v in _fields(job)
    )
    return (
        f"<div class='neuro-sync-job'><b>Job <code>{html.escape(job.id)}</code></b>"
        f"<table>{rows}</table></div>"
    )


_COLUMNS = ("id", "name", "status", "image", "command", "created")


def _row(job: JobDescription) -> tuple[str, ...]:
    return (
        job.id,
        job.name or "",
        _status(job),
        str(job.container.image),
        job.container.command or "",
        _time(job.history.created_at),
    )


def jobs_table_html(jobs: Iterable[JobDescription]) -> str:
    head = "".join(f"<th style='text-align:left'>{c}</th>" for c in _COLUMNS)
    body = "".join(
        "<tr>"
        + "".join(f"<td style='text-align:left'>{html.escape(v)}</td>" for v in _row(j))
        + "</tr>"
        for j in jobs
    )
    return (
        f"<table class='neuro-sync-jobs'><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def jobs_table_text(jobs: Iterable[JobDescription]) -> str:
    rows = [_COLUMNS, *(_row(j) for j in jobs)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = ("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows)
    return "\n".join(line.rstrip() for line in lines)


class JobList(list["JobDescription"]):
    """The result of `jobs.list()`: a plain `list` of `JobDescription` (equal to one, sliced,
    pickled and copied like one) that Jupyter shows as a table."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return jobs_table_html(self)

    def _repr_pretty_(self, p: PrettyPrinter, cycle: bool) -> None:
        p.text(jobs_table_text(self) if self else "JobList([])")


class Progress:
    """Shows a changing one-line state and the elapsed time, or nothing when disabled.

    A `tqdm.auto` bar (a widget in Jupyter) when tqdm is installed (the `notebook` extra),
    otherwise one line on stderr per change of state.
    """

    def __init__(self, title: str, *, enabled: bool) -> None:
        self._title = title
        self._enabled = enabled
        self._state: str | None = None
        self._start = time.monotonic()
        self._bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm  # optional: the `notebook` extra
            except ImportError:
                return
            self._bar = tqdm(total=None, desc=title, bar_format="{desc} [{elapsed}]", leave=True)

    def update(self, state: str) -> None:
        """Record the current state; shown when it changed (a bar also refreshes the time)."""
        if not self._enabled:
            return
        changed, self._state = state != self._state, state
        if self._bar is not None:
            if changed:
                self._bar.set_description_str(f"{self._title}: {state}", refresh=False)
            self._bar.refresh()
        elif changed:
            elapsed = time.monotonic() - self._start
            print(f"{self._title}: {state} ({elapsed:.1f} s)", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
