"""The 2022 dialect of the local platform: what neuro-sdk 22.7.1 uses for jobs (docs/dialects.md).

`neuro-sync-local --dialect 2022` (`LocalPlatform(dialect="2022")`) turns it on; the 2019
dialect (the default) never reaches this module. The request keys and query parameters are
the spec's (`x-dialect: "2022"` in openapi/jobs.yaml, checked by the generated validation);
what is here is behaviour:

* `/config` in the later shape (a `clusters` list, presets in bytes, `authorized`) and the
  job object's later keys: both written in `app.config_body` and `JobRecord.to_wire` through
  the writers generated from the spec, which drop what a dialect does not send;
* supervision (`Lifecycle2022`): `restart_policy` restarts a job whose process exited (with a
  growing back-off), `max_run_time_minutes` cancels a job that has run that long
  (`LifeSpanEnded`), and `pass_config` gives the job `NEURO_PASSED_CONFIG` (base64 JSON with a
  token of its owner, the cluster and the API URL) without storing it;
* list filters (`tag`, `since`, `until`, `reverse`, `limit`), jobs by name, the life span bump;
* the log with `since`/`timestamps` (line times from `LogStamps`), and over a WebSocket
  (`log_ws`); exec, attach and port forwarding over WebSockets (`ws_monitoring.py`).
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import datetime
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from . import app as platform
from . import auth, logs, validation
from .files import open_private
from .runner import Lifecycle, Runner
from .store import CLUSTER, JobRecord, Store, run_time_seconds

DIALECTS = ("2019", "2022")
RESTART_BACKOFF = 0.5  # seconds before the first restart, doubling up to RESTART_BACKOFF_MAX
RESTART_BACKOFF_MAX = 10.0
PASSED_CONFIG = "NEURO_PASSED_CONFIG"
MAX_STAMPS = 50_000  # log time samples kept per job (about 1 MiB)


def _parse_time(iso: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(iso)


# ---------------------------------------------------------------------------- submission


# The container keys of a flat `?from_preset` body (the rest stay at the top level).
_CONTAINER_KEYS = ("image", "entrypoint", "command", "working_dir", "http", "env", "volumes", "tty")


def from_preset(body: object) -> object:
    """A `POST /jobs?from_preset` body (flat: container keys at the top level, resources from
    the preset, only `shm` of its own) as the nested body the spec describes."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    names = [p["name"] for p in platform.PRESETS]
    name = body.setdefault("preset_name", names[0])
    preset = next((p for p in platform.PRESETS if p["name"] == name), None)
    if preset is None:
        raise validation.InvalidRequest("Preset was not found")
    container = {key: body.pop(key) for key in _CONTAINER_KEYS if key in body}
    own = body.pop("resources", {})
    if not isinstance(own, dict) or set(own) - {"shm"}:
        raise validation.InvalidRequest("resources: only shm may be set with a preset")
    container["resources"] = {"cpu": preset["cpu"], "memory_mb": preset["memory_mb"], **own}
    if preset.get("is_preemptible"):
        body.setdefault("scheduler_enabled", True)
    body["container"] = container
    return body


def job_fields(
    body: dict[str, Any], user: str, settings: platform.Settings
) -> dict[str, Any] | web.Response:
    """The record's 2022 fields (`JobRecord.extra`) from a validated body, or the error."""
    cluster = body.get("cluster_name", CLUSTER)
    if cluster != CLUSTER:
        return platform._forbidden_json(f"job://{cluster}/{user}", "write")
    preset = body.get("preset_name")
    if preset is not None and preset not in {p["name"] for p in platform.PRESETS}:
        return platform._error("Preset was not found")
    if body.get("pass_config") and PASSED_CONFIG in body["container"].get("env", {}):
        return platform._error(f"Cannot pass config: ENV '{PASSED_CONFIG}' already specified")
    extra: dict[str, Any] = {
        "tags": sorted(set(body.get("tags", []))),
        "restart_policy": body.get("restart_policy", "never"),
        "pass_config": bool(body.get("pass_config", False)),
        "privileged": bool(body.get("privileged", False)),
        "preemptible_node": bool(body.get("preemptible_node", False)),
        "priority": body.get("priority", "normal"),
        "restarts": 0,
    }
    for key in ("max_run_time_minutes", "preset_name", "wait_for_jobs_quota"):
        if key in body:
            extra[key] = body[key]
    return extra


def passed_config(
    settings: platform.Settings, secret: bytes
) -> Callable[[JobRecord], dict[str, str]]:
    """The environment a `pass_config` job gets: a login of its owner, made at each start
    (a token is never stored in the job record)."""

    def env(job: JobRecord) -> dict[str, str]:
        if not job.extra.get("pass_config"):
            return {}
        data = {
            "token": auth.issue_token(secret, job.owner),
            "cluster": CLUSTER,
            "url": settings.base_url,
        }
        return {PASSED_CONFIG: base64.b64encode(json.dumps(data).encode()).decode()}

    return env


# ---------------------------------------------------------------------------- supervision


class LogStamps:
    """When each part of a running job's log was written: the log file's size, sampled every
    supervisor tick, as `<size> <unix time>` lines beside the log. A line's time is the first
    sample that covers its end (so within a tick of the truth). Bounded like the log: past
    MAX_STAMPS samples the older half goes, and lines older than what is left read as the
    oldest time kept."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._sizes: dict[str, int] = {}  # running job -> its log's size at the last sample
        self._counts: dict[str, int] = {}  # running job -> samples written since a restart

    def path(self, job_id: str) -> Path:
        return self._runner.job_dir(job_id) / "log-times"

    def sample(self, job_id: str) -> None:
        try:
            size = self._runner.log_path(job_id).stat().st_size
        except OSError:
            return
        if size == self._sizes.get(job_id, 0):
            return
        self._sizes[job_id] = size
        with open_private(self.path(job_id)) as f:
            f.write(f"{size} {time.time():.6f}\n".encode())
        if job_id not in self._counts:  # after a restart of the job or of the platform
            self._counts[job_id] = self.path(job_id).read_bytes().count(b"\n") - 1
        count = self._counts[job_id] + 1
        if count > MAX_STAMPS:
            lines = self.path(job_id).read_bytes().splitlines(keepends=True)
            with open_private(self.path(job_id), "wb") as f:
                f.write(b"".join(lines[len(lines) // 2 :]))
            count = len(lines) - len(lines) // 2
        self._counts[job_id] = count

    def forget(self, job_id: str) -> None:
        self._sizes.pop(job_id, None)
        self._counts.pop(job_id, None)

    def forget_all_but(self, running: set[str]) -> None:
        for job_id in [j for j in self._sizes if j not in running]:
            self.forget(job_id)

    def load(self, job_id: str) -> tuple[list[int], list[float]]:
        sizes: list[int] = []
        times: list[float] = []
        try:
            text = self.path(job_id).read_text()
        except OSError:
            return sizes, times
        for line in text.splitlines():
            size, _, stamp = line.partition(" ")
            try:
                sizes.append(int(size))
                times.append(float(stamp))
            except ValueError:
                continue
        return sizes, times


class Lifecycle2022(Lifecycle):
    """Restart policies, life spans and log times (see the module docstring). Each tick
    looks only at the jobs that have a life span or a restart due, never at the whole
    history."""

    def __init__(self, store: Store, runner: Runner, minute: float = 60.0) -> None:
        self.store = store
        self.minute = minute  # seconds in a life-span minute (60; tests shorten it)
        self.stamps = LogStamps(runner)
        self._timed: set[str] = set()  # unfinished jobs with a life span
        self._restarts: dict[str, float] = {}  # job id -> when its back-off ends
        for job in store.ordered():
            self.watch(job)

    def watch(self, job: JobRecord) -> None:
        if job.extra.get("max_run_time_minutes") is not None and not job.finished:
            self._timed.add(job.id)

    def held(self, job: JobRecord) -> bool:
        return float(job.extra.get("restart_at", 0.0)) > time.time()

    def restart(self, job: JobRecord, code: int) -> bool:
        policy = job.extra.get("restart_policy", "never")
        if policy == "never" or (policy == "on-failure" and code == 0):
            return False
        restarts = int(job.extra.get("restarts", 0)) + 1
        job.extra["restarts"] = restarts
        delay = min(RESTART_BACKOFF_MAX, RESTART_BACKOFF * 2 ** (restarts - 1))
        job.extra["restart_at"] = self._restarts[job.id] = time.time() + delay
        job.pid = None
        exit_code = code if code >= 0 else 128 - code
        job.set_status("pending", "Restarting", f"The job exited with code {exit_code}")
        self.stamps.forget(job.id)
        return True

    def tick(self, runner: Runner) -> None:
        for job_id in runner.running:
            self.stamps.sample(job_id)
        self.stamps.forget_all_but(runner.running)
        now = time.time()
        for job_id, at in list(self._restarts.items()):
            if at <= now:
                del self._restarts[job_id]
                runner.wake()
        for job_id in list(self._timed):
            job = self.store.get(job_id)
            if job is None or job.finished:
                self._timed.discard(job_id)
                continue
            limit = job.extra["max_run_time_minutes"]
            if job.started_at and run_time_seconds(job) >= limit * self.minute:
                runner.kill(job, "cancelled", "LifeSpanEnded")
                self._timed.discard(job_id)


def setup(state: platform.State) -> None:
    """Wire the 2022 behaviour into one platform's runner."""
    state.runner.passed_config = passed_config(state.settings, state.secret)
    state.runner.lifecycle = Lifecycle2022(
        state.store, state.runner, minute=state.settings.life_span_minute
    )


# ---------------------------------------------------------------------------- lookups


def by_name(store: Store, user: str, ref: str) -> JobRecord | None:
    """The caller's newest job named `ref` (the 2022 server resolves names in job paths)."""
    for job in reversed(store.ordered()):
        if job.owner == user and job.name == ref:
            return job
    return None


def filter_jobs(jobs: list[JobRecord], filters: dict[str, Any]) -> list[JobRecord]:
    """The 2022 list filters, after the 2019 ones: tags (all of them), the creation time
    range, newest first, at most `limit`."""
    tags: set[str] = filters.get("tags", set())
    since: datetime.datetime | None = filters.get("since")
    until: datetime.datetime | None = filters.get("until")
    out = []
    for job in jobs:
        if tags and not tags.issubset(job.extra.get("tags", ())):
            continue
        if since is not None or until is not None:
            created = _parse_time(job.created_at)
            if since is not None and created < since:
                continue
            if until is not None and created > until:
                continue
        out.append(job)
    if filters.get("reverse"):
        out.reverse()
    limit = filters.get("limit")
    return out[:limit] if limit is not None else out


# ---------------------------------------------------------------------------- handlers


async def bump_life_span(request: web.Request) -> web.Response:
    found = platform._lookup(request, "write")
    if isinstance(found, web.Response):
        return found
    body = validation.life_span_request(await platform._body(request))
    job = found
    if job.finished:
        return platform._error(f"Job {job.id} is finished")
    current = job.extra.get("max_run_time_minutes")
    if "max_run_time_minutes" in body:
        job.extra["max_run_time_minutes"] = body["max_run_time_minutes"]
    else:
        # With no life span yet, the addition counts from the job's start.
        job.extra["max_run_time_minutes"] = (current or 0) + body["additional_max_run_time_minutes"]
    state = platform._state(request)
    state.store.save(job)
    if state.runner.lifecycle is not None:
        state.runner.lifecycle.watch(job)
    return web.Response(status=204)


def _log_params(request: web.Request) -> tuple[datetime.datetime | None, bool]:
    params = validation.log_params(request.query)
    return params.get("since"), bool(params.get("timestamps"))


async def log_lines(
    state: platform.State, job: JobRecord, since: datetime.datetime | None, timestamps: bool
) -> AsyncIterator[bytes]:
    """The job's log from the start (as the capped-log reader gives it, marker lines
    included), followed until the job ends, line by line with the time each line was written:
    only lines written at or after `since`; each prefixed with that time (RFC 3339) and a
    space when `timestamps`."""
    lifecycle = state.runner.lifecycle
    assert isinstance(lifecycle, Lifecycle2022)
    reader = logs.Reader(state.runner.log_path(job.id), state.runner.max_log_bytes)
    pending = b""
    since_ts = since.timestamp() if since is not None else None
    sizes: list[int] = []
    times: list[float] = []
    while True:
        current = state.store.get(job.id)
        done = current is None or (current.finished and job.id not in state.runner.running)
        data = reader.read()
        if not data and not done:
            await asyncio.sleep(0.05)
            continue
        lines = (pending + data).split(b"\n")
        pending = lines.pop()
        if not data and pending:  # the end: a last line without a newline
            lines.append(pending)
            pending = b""
        if lines:
            # Where each line ends in the file, counted back from the reader's offset.
            end = reader.offset - len(pending)
            ends = []
            for line in reversed(lines):
                ends.append(end)
                end -= len(line) + 1
            ends.reverse()
            if not sizes or sizes[-1] < ends[-1]:  # (re)read the times only when they lag
                lifecycle.stamps.sample(job.id)
                sizes, times = lifecycle.stamps.load(job.id)
            out = []
            for line, line_end in zip(lines, ends, strict=True):
                i = bisect.bisect_left(sizes, line_end)
                stamp = times[i] if i < len(times) else time.time()
                if since_ts is not None and stamp < since_ts:
                    continue
                prefix = b""
                if timestamps:
                    when = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
                    prefix = when.isoformat().replace("+00:00", "Z").encode() + b" "
                out.append(prefix + line + b"\n")
            if out:
                yield b"".join(out)
        if not data and done:
            return


async def job_log(request: web.Request) -> web.StreamResponse:
    """`/log`: with `since` or `timestamps`, the 2022 form; else the 2019 handler."""
    since, timestamps = _log_params(request)
    if since is None and not timestamps:
        return await platform.job_log(request)
    found = platform._monitoring_lookup(request)
    if isinstance(found, web.Response):
        return found
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    async for chunk in log_lines(platform._state(request), found, since, timestamps):
        await response.write(chunk)
    await response.write_eof()
    return response


async def job_log_ws(request: web.Request) -> web.StreamResponse:
    """`/log_ws`: the log as binary WebSocket frames, closed once the job has ended."""
    from .ws_monitoring import MAX_MESSAGE, before_upgrade, send_until_closed

    found = before_upgrade(request)
    if isinstance(found, web.Response):
        return found
    since, timestamps = _log_params(request)
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)

    async def send() -> None:
        async for chunk in log_lines(platform._state(request), found, since, timestamps):
            await ws.send_bytes(chunk)

    await send_until_closed(ws, send())
    return ws


def add_routes(app: web.Application, api: str) -> None:
    """The 2022-only routes (`make_app` also gives `/log` the `job_log` above)."""
    from . import ws_monitoring

    app.router.add_put(f"{api}/jobs/{{job_id}}/max_run_time_minutes", bump_life_span)
    app.router.add_get(f"{api}/jobs/{{job_id}}/log_ws", job_log_ws)
    for method in ("GET", "POST"):
        app.router.add_route(method, f"{api}/jobs/{{job_id}}/exec", ws_monitoring.exec_ws)
        app.router.add_route(method, f"{api}/jobs/{{job_id}}/attach", ws_monitoring.attach_ws)
        app.router.add_route(
            method, f"{api}/jobs/{{job_id}}/port_forward/{{port}}", ws_monitoring.port_forward_ws
        )
