"""Job commands: run, ps, status, logs, kill, top, exec, attach, port-forward, save, wait."""

from __future__ import annotations

import collections
import contextlib
import datetime
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

import neuro_sync
from neuro_sync import (
    Container,
    HTTPPort,
    JobDescription,
    JobRestartPolicy,
    JobStatus,
    Preset,
    Resources,
)

from .app import (
    EXIT_API,
    EXIT_INTERRUPTED,
    EXIT_NOT_STARTED,
    REDACT,
    State,
    cli,
    describe_error,
    pass_state,
)
from .output import (
    describe_job,
    dump_json,
    job_to_json,
    jobs_table,
    telemetry_row,
    terminal_width,
)
from .params import (
    Duration,
    MemorySize,
    Moment,
    PortPair,
    command_line,
    parse_env,
    strip_dashes,
)

__all__: list[str] = []

F = TypeVar("F", bound=Callable[..., Any])

_STARTED = (JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED)
_PORT_FORWARD_CHECK = 10.0  # seconds between checks that the job still runs
_PORT_FORWARD_TICK = 0.5  # seconds between looks at the forwards' errors


def format_option(f: F) -> F:
    option = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="json: the job(s) with the API's field names.",
    )
    return option(f)


def _echo_json(data: object) -> None:
    click.echo(dump_json(data))


# ---------------------------------------------------------------------------- helpers


def _preset(
    client: neuro_sync.Client, name: str | None, *, cpu: float | None, memory_mb: int | None
) -> Preset | None:
    """The preset a job is based on: the named one, else the cluster's default unless both
    --cpu and --memory are given (then none)."""
    if name is None and cpu is not None and memory_mb is not None:
        return None
    return client.config.preset(name)[1]


def _job_resources(
    base: Preset | None,
    *,
    cpu: float | None,
    memory_mb: int | None,
    gpu: int | None,
    gpu_model: str | None,
    extshm: bool,
) -> Resources:
    """The preset's resources overridden by the flags (no preset: --cpu and --memory given)."""
    if base is None:
        assert cpu is not None and memory_mb is not None  # _preset returns None only then
        base = Preset(cpu=cpu, memory_mb=memory_mb)
    return base.resources(
        cpu=cpu,
        memory_mb=memory_mb,
        gpu=gpu,
        gpu_model=gpu_model,
        shm=True if extshm else None,
    )


def _progress() -> TextIO | bool:
    """The library's status display on stderr, only when stdout and stderr are terminals: a
    script reading the output gets nothing extra."""
    return sys.stderr if sys.stdout.isatty() and sys.stderr.isatty() else False


def _label(job: JobDescription) -> str:
    reason = f" ({job.history.reason})" if job.history.reason else ""
    return f"{job.id}: {job.status.value}{reason}"


_MAX_DESCRIPTION = 200


def _outcome(job: JobDescription) -> str:
    """Why a job ended, on one line: `failed: OOMKilled: <description> (exit 137)`."""
    h = job.history
    description = " ".join((h.description or "").split())
    if len(description) > _MAX_DESCRIPTION:
        description = description[: _MAX_DESCRIPTION - 3] + "..."
    line = ": ".join(x for x in (job.status.value, h.reason, description) if x)
    if h.exit_code is not None:
        return f"{line} (exit {h.exit_code})"
    if job.status is JobStatus.FAILED:
        return f"{line} (it never started its command)"
    return line


def _exit_code(job: JobDescription, *, explain: bool = True) -> int:
    """The exit code an attached `run` and `wait` end with: 0 only when the job succeeded,
    else its exit code, 125 when it failed without starting, 1 when it ended otherwise.
    With `explain`, a job that did not succeed gets one line on stderr saying why."""
    code = job.history.exit_code
    if job.status is JobStatus.SUCCEEDED and not code:
        return 0
    if explain:
        click.echo(REDACT(f"Job {job.id}: {_outcome(job)}"), err=True)
    if code is None:
        return EXIT_NOT_STARTED if job.status is JobStatus.FAILED else EXIT_API
    if code < 0:  # killed by a signal, as a shell reports it
        code = 128 - code
    return min(code, 255) or EXIT_API  # a failed job never exits 0


def _require_2022(state: State, given: dict[str, object]) -> None:
    """A usage error for the first 2022-only flag given (a value other than its default)."""
    for flag, value in given.items():
        if value not in (None, False, (), ""):
            state.require_2022(flag)


def _copy_log(
    client: neuro_sync.Client,
    job_id: str,
    *,
    since: datetime.datetime | None = None,
    timestamps: bool = False,
) -> None:
    """Pass the job's log bytes through to stdout as they arrive."""
    sys.stdout.flush()
    out = sys.stdout.buffer
    with client.jobs.monitor(job_id, timeout=(10, None), since=since, timestamps=timestamps) as log:
        for chunk in log:
            out.write(chunk)
            out.flush()


def _attach(client: neuro_sync.Client, job: JobDescription, *, tty: bool = False) -> int:
    """Follow the started job to its end; with `tty` (and a terminal here), connected to the
    job's terminal instead of its log."""
    try:
        job = client.jobs.wait(job.id, statuses=_STARTED, progress=_progress())
        if job.status is JobStatus.FAILED and job.history.exit_code is None:
            return _exit_code(job)
        if tty and sys.stdin.isatty() and not job.status.is_finished:
            client.jobs.attach(job.id, tty=True)
        else:
            _copy_log(client, job.id)
        job = client.jobs.wait(job.id)
    except KeyboardInterrupt:
        click.echo(
            f"\nDetached: job {job.id} keeps running.\n"
            f"Follow it again: neuro-sync logs {job.id}\n"
            f"Stop it: neuro-sync kill {job.id}",
            err=True,
        )
        return EXIT_INTERRUPTED
    return _exit_code(job)


# ---------------------------------------------------------------------------- run

RUN_HELP = """Run IMAGE as a job, with CMD as its command.

\b
One CMD argument is the whole command line (`run IMG "python x.py -n 3"`);
several are quoted word by word (`run ubuntu -- sh -c 'exit 3'`). Put `--`
before a CMD that starts with a dash.

\b
Resources: the preset (-s; default: the cluster's first, see `config show`),
with --cpu, --memory, --gpu, --gpu-model on top; with both --cpu and --memory
and no -s, no preset is used.

\b
Attached (default): prints the job id on stderr, waits for the job to start,
streams its log to stdout and exits with the job's exit code (125 when it
failed without starting); a job that did not succeed gets one line on stderr
saying why (`Job ID: failed: OOMKilled (exit 137)`). Ctrl-C detaches: the job
keeps running. With --tty (--dialect 2022) on a terminal, attached means
connected to the job's terminal: what you type goes to the job, ^C included.
--detach prints the job id on stdout and returns at once (--wait-start: once
the job has started); --no-wait-start implies --detach.
"""


@cli.command(
    "run",
    help=RUN_HELP,
    short_help="Run a job (attached, or --detach).",
    context_settings={"allow_interspersed_args": False},
)
@click.argument("image")
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED)
@click.option("-s", "--preset", metavar="NAME", help="Resource preset (`config show` lists them).")
@click.option("-c", "--cpu", type=click.FloatRange(min=0, min_open=True), help="Number of CPUs.")
@click.option("-m", "--memory", type=MemorySize(), help="Memory: 512M, 1G (binary units).")
@click.option("-g", "--gpu", type=click.IntRange(min=0), help="Number of GPUs.")
@click.option("--gpu-model", metavar="MODEL", help="GPU model, e.g. nvidia-tesla-k80.")
@click.option("-x", "--extshm", is_flag=True, help="Extended /dev/shm.")
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="Expose the HTTP server on PORT.",
)
@click.option(
    "--http-auth/--no-http-auth",
    default=True,
    show_default=True,
    help="Require platform authentication for the HTTP server.",
)
@click.option("-n", "--name", help="Job name (unique among your unfinished jobs).")
@click.option("-d", "--description", help="Job description.")
@click.option(
    "-e",
    "--env",
    multiple=True,
    metavar="NAME=VALUE",
    help="Environment variable (repeatable); `-e NAME` copies it from here.",
)
@click.option(
    "--env-file", type=click.Path(dir_okay=False, path_type=Path), help="File of NAME=VALUE lines."
)
@click.option(
    "-v",
    "--volume",
    multiple=True,
    metavar="storage://PATH:/MOUNT[:ro|:rw]",
    help="Mount platform storage (repeatable; read-write by default).",
)
@click.option("--entrypoint", help="Override the image's ENTRYPOINT.")
@click.option(
    "--preemptible/--no-preemptible",
    default=None,
    help="Whether the job may be preempted (default: the preset's setting; no without one).",
)
@click.option(
    "--schedule-timeout",
    type=Duration(),
    metavar="DURATION",
    help="Fail if not scheduled within this time (90, 10m, 2h).",
)
@click.option(
    "--tag", "tags", multiple=True, metavar="TAG", help="Tag the job (repeatable; --dialect 2022)."
)
@click.option(
    "--life-span",
    type=Duration(),
    metavar="DURATION",
    help="Cancel the job after running this long: 1h30m, 90m, 3600s (--dialect 2022).",
)
@click.option(
    "--restart",
    type=click.Choice([p.value for p in JobRestartPolicy]),
    help="Restart the job when it exits (default: never; --dialect 2022).",
)
@click.option(
    "--working-dir",
    metavar="DIR",
    help="The command's working directory, absolute (--dialect 2022).",
)
@click.option("--privileged", is_flag=True, help="Run the container privileged (--dialect 2022).")
@click.option(
    "-t",
    "--tty",
    is_flag=True,
    help="Give the job a terminal; attached, type into it (--dialect 2022).",
)
@click.option("--detach", is_flag=True, help="Print the job id and return.")
@click.option("--wait-start/--no-wait-start", default=None, help="Wait until the job starts.")
@format_option
@pass_state
@click.pass_context
def run_cmd(
    ctx: click.Context,
    state: State,
    image: str,
    cmd: tuple[str, ...],
    preset: str | None,
    cpu: float | None,
    memory: int | None,
    gpu: int | None,
    gpu_model: str | None,
    extshm: bool,
    http_port: int | None,
    http_auth: bool,
    name: str | None,
    description: str | None,
    env: tuple[str, ...],
    env_file: Path | None,
    volume: tuple[str, ...],
    entrypoint: str | None,
    preemptible: bool | None,
    schedule_timeout: float | None,
    tags: tuple[str, ...],
    life_span: float | None,
    restart: str | None,
    working_dir: str | None,
    privileged: bool,
    tty: bool,
    detach: bool,
    wait_start: bool | None,
    fmt: str,
) -> None:
    _require_2022(
        state,
        {
            "--tag": tags,
            "--life-span": life_span,
            "--restart": restart,
            "--working-dir": working_dir,
            "--privileged": privileged,
            "--tty": tty,
        },
    )
    if wait_start is False:
        detach = True
    elif wait_start is None:
        wait_start = not detach
    environment = parse_env(env, env_file)
    client = state.client
    base = _preset(client, preset, cpu=cpu, memory_mb=memory)
    if preemptible is None:
        preemptible = base is not None and base.is_preemptible
    container = Container(
        image=client.parse.remote_image(image),
        resources=_job_resources(
            base,
            cpu=cpu,
            memory_mb=memory,
            gpu=gpu,
            gpu_model=gpu_model,
            extshm=extshm,
        ),
        entrypoint=entrypoint,
        command=command_line(cmd),
        http=None if http_port is None else HTTPPort(http_port, requires_auth=http_auth),
        env=environment,
        volumes=[client.parse.volume(v) for v in volume],
        working_dir=working_dir,
        tty=tty,
    )
    job = client.jobs.run(
        container,
        name=name,
        description=description,
        is_preemptible=preemptible,
        schedule_timeout=schedule_timeout,
        tags=tags or None,
        life_span=life_span,
        restart_policy=restart or JobRestartPolicy.NEVER,
        privileged=privileged,
    )
    if not detach:
        click.echo(f"Job ID: {job.id}", err=True)
        ctx.exit(_attach(client, job, tty=tty))
    if wait_start:
        job = client.jobs.wait(job.id, statuses=_STARTED, progress=_progress())
    if fmt == "json":
        _echo_json(job_to_json(job))
    else:
        click.echo(job.id)


# ---------------------------------------------------------------------------- ps, status

_LISTED = [s.value for s in JobStatus if s is not JobStatus.UNKNOWN]
_LIVE = (JobStatus.PENDING, JobStatus.RUNNING)


@cli.command("ps")
@click.option(
    "-s",
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(_LISTED),
    help="Only jobs in this status (repeatable; default: pending and running).",
)
@click.option("-a", "--all", "all_", is_flag=True, help="Jobs in every status.")
@click.option("-n", "--name", help="Only jobs with this name.")
@click.option("-o", "--owner", "owners", multiple=True, help="Only jobs of this user (repeatable).")
@click.option(
    "-t",
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Only jobs with this tag (repeatable: all of them; --dialect 2022).",
)
@click.option(
    "--since",
    type=Moment(),
    help="Only jobs created at or after this time: ISO 8601 or 10m (ago) (--dialect 2022).",
)
@click.option(
    "--until",
    type=Moment(),
    help="Only jobs created at or before this time (as --since; --dialect 2022).",
)
@click.option("--recent-first", is_flag=True, help="Newest jobs first (--dialect 2022).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="At most N jobs (after ordering; --dialect 2022).",
)
@click.option("-q", "--quiet", is_flag=True, help="Only the job ids.")
@click.option(
    "-w",
    "--wide",
    is_flag=True,
    help="All columns, nothing cut (piped output is never cut, whatever the columns).",
)
@format_option
@pass_state
def ps_cmd(
    state: State,
    statuses: tuple[str, ...],
    all_: bool,
    name: str | None,
    owners: tuple[str, ...],
    tags: tuple[str, ...],
    since: datetime.datetime | None,
    until: datetime.datetime | None,
    recent_first: bool,
    limit: int | None,
    quiet: bool,
    wide: bool,
    fmt: str,
) -> None:
    """List jobs, oldest first (alias: ls)."""
    _require_2022(
        state,
        {
            "--tag": tags,
            "--since": since,
            "--until": until,
            "--recent-first": recent_first,
            "--limit": limit,
        },
    )
    wanted: set[str] | None
    if all_:
        wanted = None
    else:
        wanted = set(statuses) or {JobStatus.PENDING.value, JobStatus.RUNNING.value}
    jobs = state.client.jobs.list(
        statuses=wanted,
        name=name,
        owners=owners or None,
        tags=tags or None,
        since=since,
        until=until,
        reverse=recent_first,
        limit=limit,
    )
    if fmt == "json":
        _echo_json([job_to_json(j) for j in jobs])
    elif quiet:
        for j in jobs:
            click.echo(j.id)
    else:
        for line in jobs_table(jobs, wide=wide, width=terminal_width()):
            click.echo(line)


@cli.command("status")
@click.argument("job_id", metavar="ID")
@format_option
@pass_state
def status_cmd(state: State, job_id: str, fmt: str) -> None:
    """Show a job's status and details (ID: a job id, or with --dialect 2022 a job name)."""
    job = state.client.jobs.status(job_id)
    if fmt == "json":
        _echo_json(job_to_json(job))
    else:
        click.echo("\n".join(describe_job(job)))


# ---------------------------------------------------------------------------- logs, top


# `since` and `timestamps` of `logs`, passed through to the library as they are.
_LogOptions = dict[str, Any]


def _log_snapshot(client: neuro_sync.Client, job_id: str, options: _LogOptions) -> None:
    """What the job logged so far (the library decides when a live job's log pauses)."""
    with client.jobs.logs(job_id, follow=False, **options) as lines:
        for line in lines:
            click.echo(line)


def _log_tail(
    client: neuro_sync.Client, job_id: str, count: int, options: _LogOptions, *, follow: bool
) -> None:
    """The last `count` lines so far; with `follow`, then the log from the line after them
    (the followed log starts from the beginning: the lines already seen are skipped)."""
    last: collections.deque[str] = collections.deque(maxlen=count)
    seen = 0
    with client.jobs.logs(job_id, follow=False, **options) as lines:
        for line in lines:
            last.append(line)
            seen += 1
    for line in last:
        click.echo(line)
    if not follow or client.jobs.status(job_id).status not in _LIVE:
        return
    with client.jobs.logs(job_id, follow=True, **options) as lines:
        for index, line in enumerate(lines):
            if index >= seen:
                click.echo(line)


@cli.command("logs")
@click.argument("job_id", metavar="ID")
@click.option(
    "--follow/--no-follow",
    default=True,
    show_default=True,
    help="Keep printing a running job's log until it ends.",
)
@click.option(
    "--tail",
    type=click.IntRange(min=0),
    metavar="N",
    help="Only the last N lines logged so far (then, with --follow, what comes next).",
)
@click.option(
    "--since",
    type=Moment(),
    help="Only lines written at or after this time: ISO 8601 or 10m (ago) (--dialect 2022).",
)
@click.option(
    "--timestamps",
    is_flag=True,
    help="Start each line with the time it was written (--dialect 2022).",
)
@pass_state
def logs_cmd(
    state: State,
    job_id: str,
    follow: bool,
    tail: int | None,
    since: datetime.datetime | None,
    timestamps: bool,
) -> None:
    """Print a job's log (stdout and stderr, as bytes). ID: a job id, or with --dialect 2022
    a job name."""
    _require_2022(state, {"--since": since, "--timestamps": timestamps})
    options: _LogOptions = {}
    if since is not None:
        options["since"] = since
    if timestamps:
        options["timestamps"] = True
    if tail is not None:
        _log_tail(state.client, job_id, tail, options, follow=follow)
    elif follow:
        _copy_log(state.client, job_id, **options)
    else:
        _log_snapshot(state.client, job_id, options)


_TOP_LINE = "{:<8}  {:>6}  {:>10}  {:>6}  {:>10}"


@cli.command("top")
@click.argument("job_id")
@pass_state
def top_cmd(state: State, job_id: str) -> None:
    """Show a running job's CPU and memory use, about once a second, until Ctrl-C."""
    with contextlib.suppress(KeyboardInterrupt), state.client.jobs.top(job_id) as stream:
        click.echo(_TOP_LINE.format("TIME", "CPU", "MEMORY(MB)", "GPU(%)", "GPU_MEMORY"))
        for sample in stream:
            click.echo(_TOP_LINE.format(*telemetry_row(sample)).rstrip())


# ---------------------------------------------------------------------------- kill, wait


@cli.command("kill")
@click.argument("job_ids", nargs=-1, required=True, metavar="ID...")
@pass_state
@click.pass_context
def kill_cmd(ctx: click.Context, state: State, job_ids: tuple[str, ...]) -> None:
    """Kill jobs (by id, or with --dialect 2022 by name): prints each one killed; exits 1 if
    any could not be killed."""
    failed = False
    for job_id in job_ids:
        try:
            state.client.jobs.kill(job_id)
        except neuro_sync.ClientError as err:
            failed = True
            click.echo(REDACT(f"Cannot kill {job_id}: {describe_error(err)}"), err=True)
        else:
            click.echo(job_id)
    if failed:
        ctx.exit(EXIT_API)


@cli.command("wait")
@click.argument("job_id")
@click.option(
    "--timeout",
    type=Duration(),
    metavar="DURATION",
    help="Give up (exit 1) after this long: 90, 10m, 2h.",
)
@format_option
@pass_state
@click.pass_context
def wait_cmd(
    ctx: click.Context, state: State, job_id: str, timeout: float | None, fmt: str
) -> None:
    """Wait until a job finishes and print its final status.

    \b
    The exit code is the job's outcome, as for an attached `run`:
      0    the job succeeded
      N    the job's own exit code when it failed
      125  it failed without starting its command
      1    it ended otherwise (cancelled), or an API error or --timeout
    """
    job = state.client.jobs.wait(job_id, timeout=timeout, progress=_progress())
    if fmt == "json":
        _echo_json(job_to_json(job))
    else:
        code = job.history.exit_code
        click.echo(f"{_label(job)}" + ("" if code is None else f", exit code {code}"))
    ctx.exit(_exit_code(job, explain=False))


@cli.command("bump-life-span")
@click.argument("job_id", metavar="ID")
@click.argument("duration", type=Duration())
@pass_state
def bump_life_span_cmd(state: State, job_id: str, duration: float) -> None:
    """Extend a job's life span by DURATION (1h30m, 90m, 3600s; whole minutes, at least 1)
    (--dialect 2022)."""
    state.require_2022("bump-life-span")
    state.client.jobs.bump_life_span(job_id, duration)
    click.echo(job_id)


# ---------------------------------------------------------------------------- exec, port-forward


def _argv(cmd: Sequence[str]) -> list[str]:
    # As for `run`: a single argument is a command line.
    args = strip_dashes(cmd)
    return shlex.split(args[0]) if len(args) == 1 else args


@cli.command("exec", context_settings={"allow_interspersed_args": False})
@click.option("-t", "--tty", is_flag=True, help="Allocate a terminal (interactive programs).")
@click.option("--no-key-check", is_flag=True, help="Skip the SSH gateway's host key check.")
@click.option("--timeout", type=Duration(), metavar="DURATION", help="Kill the command after this.")
@click.argument("job_id")
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_state
@click.pass_context
def exec_cmd(
    ctx: click.Context,
    state: State,
    tty: bool,
    no_key_check: bool,
    timeout: float | None,
    job_id: str,
    cmd: tuple[str, ...],
) -> None:
    """Run CMD in a running job; exits with CMD's exit code."""
    code = state.client.jobs.exec(
        job_id, _argv(cmd), tty=tty, no_key_check=no_key_check, timeout=timeout
    )
    ctx.exit(code)


@cli.command("attach")
@click.option("--timeout", type=Duration(), metavar="DURATION", help="Stop following after this.")
@click.option(
    "-t/-T",
    "--tty/--no-tty",
    default=None,
    help="Connect to the job's terminal (default: when the job has one and stdin is a terminal).",
)
@click.argument("job_id")
@pass_state
@click.pass_context
def attach_cmd(
    ctx: click.Context, state: State, timeout: float | None, tty: bool | None, job_id: str
) -> None:
    """Follow a running job's output until it ends; exits with the job's exit code
    (2022 dialect).

    A job run with a terminal (--tty) gets what you type: your terminal is in raw mode while
    attached (^C goes to the job) and the job's terminal follows its size. Closing the
    connection (--timeout, or ending this command) leaves the job running."""
    if tty is None:
        tty = sys.stdin.isatty() and state.client.jobs.status(job_id).container.tty
    ctx.exit(state.client.jobs.attach(job_id, tty=tty, max_time=timeout))


@cli.command("port-forward")
@click.argument("job_id")
@click.argument("ports", nargs=-1, required=True, type=PortPair(), metavar="LOCAL:REMOTE...")
@click.option("--no-key-check", is_flag=True, help="Skip the SSH gateway's host key check.")
@pass_state
@click.pass_context
def port_forward_cmd(
    ctx: click.Context,
    state: State,
    job_id: str,
    ports: tuple[tuple[int, int], ...],
    no_key_check: bool,
) -> None:
    """Forward 127.0.0.1:LOCAL to port REMOTE of a running job, until Ctrl-C (LOCAL 0: any)."""
    client = state.client
    opened: list[neuro_sync.PortForward] = []
    with contextlib.ExitStack() as stack:
        for local, remote in ports:
            fwd = client.jobs.port_forward(job_id, local, remote, no_key_check=no_key_check)
            stack.enter_context(fwd)
            opened.append(fwd)
            click.echo(f"127.0.0.1:{fwd.local_port} -> {job_id}:{remote}")
        click.echo("Forwarding; press Ctrl-C to stop.", err=True)
        try:
            checked = time.monotonic()
            while True:
                time.sleep(_PORT_FORWARD_TICK)
                for fwd in opened:
                    if fwd.error is not None:
                        raise fwd.error
                if time.monotonic() - checked < _PORT_FORWARD_CHECK:
                    continue
                checked = time.monotonic()
                job = client.jobs.status(job_id)
                if job.status is not JobStatus.RUNNING:
                    click.echo(f"Job {job_id} is {job.status.value}: forwarding stopped.", err=True)
                    ctx.exit(EXIT_API)
        except KeyboardInterrupt:
            pass


# ---------------------------------------------------------------------------- save


@cli.command("save")
@click.argument("job_id")
@click.argument("image")
@pass_state
def save_cmd(state: State, job_id: str, image: str) -> None:
    """Save a running job's container as a platform IMAGE (image:NAME:TAG) and print it."""
    client = state.client
    target = client.parse.remote_image(image)
    client.jobs.save(job_id, target, progress=_progress())
    click.echo(str(target))
