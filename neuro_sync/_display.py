"""Everything shown to a person rather than a program: job cards, job tables, progress.

Jupyter calls `_repr_html_`, IPython's console `_repr_pretty_`; the plain `repr()` of the
dataclasses is untouched. Every value goes through `html.escape`: job names, descriptions,
reasons and commands come from users and servers.
"""

from __future__ import annotations

import datetime
import sys
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ValidationError
from .models import JobList  # it lives with the models; kept importable from here

if TYPE_CHECKING:
    from .models import JobDescription

__all__ = [
    "JobList",
    "Progress",
    "job_card_html",
    "job_card_text",
    "jobs_table_html",
    "status_text",
]


class PrettyPrinter(Protocol):
    """The part of IPython's `PrettyPrinter` used here."""

    def text(self, obj: str) -> None: ...


def _time(value: datetime.datetime | None) -> str:
    return "" if value is None else value.isoformat(sep=" ", timespec="seconds")


def status_text(job: JobDescription) -> str:
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
        ("status", status_text(job)),
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
    import html  # the HTML helpers load when Jupyter asks for a repr, not with neuro_sync

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
        status_text(job),
        str(job.container.image),
        job.container.command or "",
        _time(job.history.created_at),
    )


def jobs_table_html(jobs: Iterable[JobDescription]) -> str:
    import html

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


class _Stream(Protocol):
    """Where a text progress display writes: `sys.stderr`, a file, a `StringIO`."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


# An in-place status line is redrawn this often so that its elapsed time moves.
_TICK = 1.0


class Progress:
    """Shows a changing one-line state and the elapsed time, or nothing when disabled.

    `to=True`: a `tqdm.auto` bar (a widget in Jupyter) when tqdm is installed (the `notebook`
    extra), else text on stderr. `to=<stream>`: text on that stream. Text is one status line
    rewritten in place (and redrawn every second) when the stream is a terminal, else one line
    per change of state. `to=False`: nothing.
    """

    def __init__(self, title: str, *, to: bool | _Stream) -> None:
        if not isinstance(to, bool) and not callable(getattr(to, "write", None)):
            raise ValidationError("progress", "must be True, False or a stream with .write()")
        self._title = title
        self._state: str | None = None
        self._start = time.monotonic()
        self._bar: Any = None
        self._notebook = False
        self._stream: _Stream | None = None
        self._in_place = False
        self._open = False  # an in-place line is on screen, not yet ended by a newline
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if to is False:
            return
        if to is True:
            try:
                from tqdm.auto import tqdm  # optional: the `notebook` extra
            except ImportError:
                to = sys.stderr
            else:
                # A widget shows nothing in a saved notebook's static HTML: in Jupyter the
                # widget goes away at the end and a printed line says how it ended.
                self._notebook = any(c.__module__ == "tqdm.notebook" for c in tqdm.__mro__)
                self._bar = tqdm(
                    total=None,
                    desc=title,
                    bar_format="{desc} [{elapsed}]",
                    leave=not self._notebook,
                )
                return
        self._stream = to
        isatty = getattr(to, "isatty", None)
        self._in_place = bool(callable(isatty) and isatty())

    def update(self, state: str) -> None:
        """Record the current state; shown when it changed (a bar also refreshes the time)."""
        changed, self._state = state != self._state, state
        if self._bar is not None:
            if changed:
                self._bar.set_description_str(f"{self._title}: {state}", refresh=False)
            self._bar.refresh()
        elif self._stream is None or not changed:
            return
        elif self._in_place:
            with self._lock:
                if self._open:
                    self._stream.write("\n")  # the previous state stays on screen
                self._draw()
            if self._ticker is None:
                self._ticker = threading.Thread(
                    target=self._tick, name=f"progress {self._title}", daemon=True
                )
                self._ticker.start()
        else:
            elapsed = time.monotonic() - self._start
            self._stream.write(f"{self._title}: {state} ({elapsed:.1f} s)\n")
            self._stream.flush()

    def _draw(self) -> None:
        assert self._stream is not None
        elapsed = int(time.monotonic() - self._start)
        line = f"{self._title}: {self._state}  {elapsed // 60}:{elapsed % 60:02d}"
        self._stream.write(f"\r\x1b[K{line}")
        self._stream.flush()
        self._open = True

    def _tick(self) -> None:
        """Redraws the in-place line every second until `close` (in a daemon thread)."""
        while not self._stop.wait(_TICK):
            with self._lock:
                if self._stop.is_set():
                    return
                try:
                    self._draw()
                except (OSError, ValueError):  # the stream was closed under us
                    return

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._lock:
            if self._open and self._stream is not None:
                self._open = False
                self._stream.write("\n")
                self._stream.flush()
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            if self._notebook and self._state is not None:
                elapsed = time.monotonic() - self._start
                print(f"{self._title}: {self._state} ({elapsed:.1f} s)")  # noqa: T201
