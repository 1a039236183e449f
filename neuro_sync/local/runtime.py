"""The seam between job supervision (runner.py) and what actually runs a job.

The runner owns everything runtime-independent: the queue and the scheduler, statuses and
reasons, the log file's location, the environment a job sees. A `Runtime` owns how a job is
run: processes here (`process_runtime.py`), containers elsewhere. Every method is keyed by
job id or record, so a runtime keeps its own handles. Methods are called on the event-loop
thread, except `save`, which blocks and is run in an executor.

A runtime whose own scheduler queues the jobs (Slurm) says so with a true `schedules_jobs`
attribute: the runner then hands it every pending job at once, and its `start` keeps them
pending (NotReady) until they run.

Keep this protocol stable: add methods, never rename them.
"""

from __future__ import annotations

import os
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .store import JobRecord

if TYPE_CHECKING:
    from .settings import Settings

# Inherited by every process a job starts: how the process runtime finds a job's processes.
JOB_MARKER = "NEURO_LOCAL_JOB"


class StartError(Exception):
    """The job cannot run: it fails with `reason`; the message is its description."""

    def __init__(self, message: str, reason: str = "ContainerCannotRun") -> None:
        super().__init__(message)
        self.reason = reason


class NotReady(Exception):  # noqa: N818 - a state, not an error
    """`start` cannot start the job yet (e.g. its image is being pulled): the job stays
    pending with `reason` and `start` is called again on a later tick."""

    def __init__(self, reason: str, description: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.description = description


@dataclass(frozen=True)
class JobSpec:
    """What to run for a job, independent of the runtime (see `job_spec`)."""

    job_id: str
    owner: str
    image: str
    argv: list[str]
    env: dict[str, str]
    cpu: float
    memory_mb: int
    log_path: Path  # stdout and stderr go here (appended)
    volumes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ExecSpec:
    """How the SSH gateway starts a command inside a running job."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path | None = None
    user: int | None = None  # uid/gid to run as, None: the server's own
    group: int | None = None
    # The argv when the client asked for a terminal (`exec -t`), if it differs: a container
    # needs its own terminal (`podman exec --tty`); a process gets the gateway's directly.
    tty_argv: list[str] | None = None


def job_env(job: JobRecord, home: str | None = None) -> dict[str, str]:
    """The environment of a job's processes (and of commands exec'd in it); the job's own
    variables win. Without `home`, HOME is set only if the job sets it."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "NEURO_JOB_ID": job.id,
    }
    if home is not None:
        env["HOME"] = home
    env.update(job.container.get("env", {}))
    return env


def container_env(job: JobRecord, spec: JobSpec) -> dict[str, str]:
    """The variables of a job's container: the job's own, plus what the platform adds to
    its spec beyond `job_env` (the 2022 `pass_config` login), never the host's PATH or LANG."""
    host = job_env(job)
    added = {k: v for k, v in spec.env.items() if host.get(k) != v}
    return {**job.container.get("env", {}), **added}


def job_argv(job: JobRecord) -> list[str]:
    """The job's command line: entrypoint then command, split like a shell (no shell runs).
    Empty when the job names neither (a container runtime then runs the image's default).

    Raises StartError when the text cannot be split.
    """
    c = job.container
    try:
        return shlex.split(c.get("entrypoint", "")) + shlex.split(c.get("command", ""))
    except ValueError as err:
        raise StartError(f"Cannot parse the command: {err}") from None


class VolumeForbidden(Exception):
    """A volume of another user's storage (403 with the resource and action)."""

    def __init__(self, uri: str, action: str) -> None:
        super().__init__(f"no {action} access to {uri}")
        self.uri, self.action = uri, action


def storage_path(data_dir: Path, owner: str, volume: dict[str, Any]) -> Path:
    """The host directory of a volume: `storage://<owner>/path` (or `storage:path`, relative
    to the owner's storage) is `<data-dir>/storage/<owner>/path`.

    Only the job owner's own storage (no sharing here): another user's raises VolumeForbidden.
    Never outside the owner's storage: `..` raises ValueError (request validation rejects it
    first). Creates nothing.
    """
    uri = volume["src_storage_uri"]
    rest = uri[len("storage:") :]
    if rest.startswith("//"):
        user, _, path = rest[2:].partition("/")
        user = owner if user in ("", "~") else user
    else:
        user, path = owner, rest
    if user != owner:
        raise VolumeForbidden(uri, "read" if volume.get("read_only", True) else "write")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"Invalid path: {uri}")
    return data_dir.joinpath("storage", owner, *parts)


class Runtime(Protocol):
    """Runs jobs. One instance per server; see the module docstring."""

    name: str

    def describe(self) -> dict[str, Any]:
        """The `local_platform` part of `/config`: at least `runtime` and `isolation`."""
        ...

    def check(self, job: JobRecord) -> str | None:
        """Why this runtime can never run the job (answered 400 at submission), or None."""
        ...

    def start(self, job: JobRecord, spec: JobSpec) -> None:
        """Start the job; raise StartError if it cannot run, NotReady to be asked again."""
        ...

    def poll(self, job_id: str) -> int | None:
        """The exit status once the job's main process has exited (-n: signal n), else None."""
        ...

    def failure_reason(self, job_id: str, code: int) -> str:
        """The reason of a non-zero exit (before `sweep`): `Error`, or what the runtime knows
        better (`OOMKilled`, `ContainerCannotRun`)."""
        ...

    def signal(self, job_id: str, sig: int) -> None:
        """Send a signal to every process of a started job (no-op once it has ended)."""
        ...

    def sweep(self, job_id: str) -> None:
        """End (SIGKILL) everything left of a job and forget it: after its exit, a kill, a stop."""
        ...

    def telemetry(self, job_id: str) -> dict[str, float] | None:
        """One top sample {"cpu", "memory" (MB), "timestamp"} of a running job, or None."""
        ...

    def exec_spec(self, job: JobRecord, argv: list[str]) -> ExecSpec:
        """How to run `argv` inside the running job (SSH gateway `job_exec`)."""
        ...

    def save(self, job: JobRecord, target: Path, image: str) -> tuple[str, int]:
        """Save the job's filesystem as `image` (`<registry>/<owner>/<name>:<tag>`): a runtime
        without an image store writes it to `target` (a .tar.gz). Return (sha256 hex, size).

        Blocking: called in an executor. Raises OSError on failure.
        """
        ...

    def connect(self, job: JobRecord, port: int, timeout: float) -> socket.socket:
        """A TCP connection to the job's `port` (SSH gateway `job_port_forward`).

        Blocking: called in an executor. Raises OSError on failure.
        """
        ...

    def recover(self, jobs: list[JobRecord]) -> set[str] | None:
        """After a restart: end whatever still runs of these (all known) jobs, or (a runtime
        whose jobs outlive the server, e.g. Slurm) return the ids of those it follows again."""
        ...

    def stop(self, grace: float) -> None:
        """At server stop: SIGTERM every job, SIGKILL after `grace` s, release everything."""
        ...


def create_runtime(settings: Settings) -> Runtime:
    """The runtime named by `settings.runtime`."""
    from .process_runtime import ProcessRuntime

    if settings.runtime in ("podman", "auto"):
        from .podman_runtime import PodmanRuntime, podman_unusable

        why = podman_unusable(settings)
        if why is None:
            return PodmanRuntime(settings)
        if settings.runtime == "podman":
            raise RuntimeError(f"the podman runtime cannot run here: {why}")
        return ProcessRuntime(settings)
    if settings.runtime == "process":
        return ProcessRuntime(settings)
    if settings.runtime == "slurm":
        from .slurm_runtime import SlurmRuntime, slurm_unusable

        why = slurm_unusable(settings)
        if why is not None:
            raise RuntimeError(f"the slurm runtime cannot run here: {why}")
        return SlurmRuntime(settings)
    raise ValueError(f"unknown runtime {settings.runtime!r}")
