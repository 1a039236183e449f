"""The documented job dataclasses (2019 `neuromation.api` Jobs reference), all read-only.

The fields of the 2022 dialect (docs/dialects.md) come after the 2019 ones, all with defaults:
every 2019 construction, positional included, still works, and a job read from a 2019 server
compares equal to the one built by hand.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from yarl import URL


class _PrettyPrinter(Protocol):
    """The part of IPython's `PrettyPrinter` a job card uses."""

    def text(self, obj: str) -> None: ...


__all__ = [
    "Container",
    "HTTPPort",
    "JobDescription",
    "JobList",
    "JobRestartPolicy",
    "JobStatus",
    "JobStatusHistory",
    "JobStatusItem",
    "JobTelemetry",
    "RemoteImage",
    "Resources",
    "Volume",
]


class JobStatus(enum.StrEnum):
    """Job state. A `str` enum, so `status == "running"` works."""

    #: Scheduled for execution but not started yet.
    PENDING = "pending"
    #: Running now.
    RUNNING = "running"
    #: Finished successfully (also: killed).
    SUCCEEDED = "succeeded"
    #: Execution failed.
    FAILED = "failed"
    #: Killed, or past its life span (2022 servers; a 2019 server says SUCCEEDED).
    CANCELLED = "cancelled"
    #: Held by the platform, to resume later (2022 servers).
    SUSPENDED = "suspended"
    #: A status this client does not know (missing, or newer than it).
    UNKNOWN = "unknown"

    @property
    def is_finished(self) -> bool:
        """True for the terminal statuses, SUCCEEDED, FAILED and CANCELLED."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobRestartPolicy(enum.StrEnum):
    """When a 2022 server starts a job's container again after it exits (`Jobs.run`)."""

    #: Never (the default, and all a 2019 server does).
    NEVER = "never"
    #: After a failure (a non-zero exit code).
    ON_FAILURE = "on-failure"
    #: After every exit, until killed or past its life span.
    ALWAYS = "always"


@dataclass(frozen=True, slots=True)
class Resources:
    """Resources (memory, CPU/GPU) available to a container.

    Attributes:
        memory_mb: requested memory in megabytes (int, at least 16).
        cpu: requested number of CPUs; fractions are fine (0.1 to 128).
        gpu: number of GPUs, or None for a job without GPU.
        gpu_model: GPU model name (needs `gpu`), or None.
        shm: use Linux shared memory (`/dev/shm`); None leaves it to the server (off).
    """

    memory_mb: int
    cpu: float
    gpu: int | None = None
    gpu_model: str | None = None
    shm: bool | None = None


@dataclass(frozen=True, slots=True)
class HTTPPort:
    """An HTTP server exposed by a job; reach it at `JobDescription.http_url`.

    Attributes:
        port: port number in the container's namespace.
        requires_auth: if True, platform authentication is needed to access the server;
            otherwise it is public.
    """

    port: int
    requires_auth: bool = True


@dataclass(frozen=True, slots=True)
class Volume:
    """Platform storage mounted into a container.

    Attributes:
        storage_path: `storage:` URI of the source (e.g. `storage://alice/data`).
        container_path: absolute mount path in the container.
        read_only: mount read-only.
    """

    storage_path: str
    container_path: str
    read_only: bool


@dataclass(frozen=True, slots=True)
class RemoteImage:
    """A Docker image name. A *platform* image has both `owner` and `registry`.

    Attributes:
        name: image name (may contain `/`).
        tag: tag, or None.
        owner: platform user owning the image (platform images only).
        registry: registry host[:port].
    """

    name: str
    tag: str | None = None
    owner: str | None = None
    registry: str | None = None

    @property
    def is_platform(self) -> bool:
        """True for an image in the platform registry."""
        return bool(self.owner and self.registry)

    def __str__(self) -> str:
        suffix = f":{self.tag}" if self.tag else ""
        if self.is_platform:
            return f"image://{self.owner}/{self.name}{suffix}"
        return f"{self.name}{suffix}"

    def as_repo_str(self) -> str:
        """The wire form sent to the server.

        `{registry}/{owner}/{name}[:{tag}]` for platform images, otherwise `{name}[:{tag}]`.
        """
        suffix = f":{self.tag}" if self.tag else ""
        if self.is_platform:
            return f"{self.registry}/{self.owner}/{self.name}{suffix}"
        return f"{self.name}{suffix}"


@dataclass(frozen=True, slots=True)
class Container:
    """Docker image and environment of a job.

    Attributes:
        image: `RemoteImage` to start.
        resources: `Resources` used to schedule the container.
        entrypoint: overrides the image's ENTRYPOINT, or None to keep it.
        command: command line to run, or None for the image's CMD.
        http: `HTTPPort` of an HTTP server in the container, or None.
        env: environment variables (str to str); empty by default.
        volumes: the `Volume` mounts; empty by default.
        working_dir: the command's working directory, absolute (2022 dialect), or None for
            the image's.
        tty: give the container a terminal (2022 dialect).

    `env` and `volumes` are the plain `dict` and `list` of the 2019 SDK: frozen covers the
    attributes, not their contents. A job read from a reply has its own dict and list, shared
    with no other job or call, so changing them changes only that object. (A read-only view
    such as `types.MappingProxyType` would make a `Container` impossible to pickle or deep-copy.)
    """

    image: RemoteImage
    resources: Resources
    entrypoint: str | None = None
    command: str | None = None
    http: HTTPPort | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    volumes: Sequence[Volume] = field(default_factory=list)
    working_dir: str | None = None
    tty: bool = False


@dataclass(frozen=True, slots=True)
class JobStatusItem:
    """One status change of a job, as a 2022 server lists them (`JobStatusHistory.transitions`).

    Attributes:
        status: the status the job entered.
        transition_time: when (timezone-aware).
        reason: short machine reason, or empty string.
        description: longer text, or empty string.
        exit_code: the exit code that came with it, or None.
    """

    status: JobStatus
    transition_time: datetime.datetime
    reason: str = ""
    description: str = ""
    exit_code: int | None = None


@dataclass(frozen=True, slots=True)
class JobStatusHistory:
    """Status details: reason, times, exit code.

    Attributes:
        status: current status, the same as `JobDescription.status`.
        reason: short machine reason (e.g. `ContainerCreating`, `ErrImagePull`, `Error`);
            empty string when there is none.
        description: longer text for `reason` (for a failed job, the log tail); empty string
            when there is none.
        created_at: creation time (timezone-aware) or None.
        started_at: start time or None if not started.
        finished_at: finish time or None if not finished.
        exit_code: the process's exit code, or None if not started or still running.
        restarts: how often the job was restarted by its restart policy (2022 dialect; 0).
        run_time_seconds: seconds the job has run in all (2022 dialect), or None.
        transitions: every status change, oldest first, as `JobStatusItem` objects (2022 dialect;
            empty from a 2019 server).
    """

    status: JobStatus
    reason: str
    description: str
    created_at: datetime.datetime | None = None
    started_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    exit_code: int | None = None
    restarts: int = 0
    run_time_seconds: float | None = None
    transitions: Sequence[JobStatusItem] = ()


@dataclass(frozen=True, slots=True)
class JobDescription:
    """A job.

    Attributes:
        id: job id (`job-<uuid>`).
        owner: name of the user who created the job.
        status: current `JobStatus`.
        history: `JobStatusHistory` with times, reason and exit code.
        container: the `Container` the job runs.
        is_preemptible: whether the job may be preempted.
        name: job name, or None.
        description: job description, or None.
        http_url: URL of the exposed HTTP server (the named URL when there is one); empty URL
            if none.
        ssh_server: SSH gateway URL; internal, use `Jobs.exec` / `Jobs.port_forward`.
        internal_hostname: DNS name of the job for other jobs, or None.
        tags: the job's tags, sorted (2022 dialect; empty from a 2019 server).
        life_span: seconds the job may run before it is cancelled (2022 dialect), or None.
        restart_policy: the `JobRestartPolicy` (2022 dialect; NEVER from a 2019 server).
        preset_name: the preset the job was started from (2022 dialect), or None.
        pass_config: the job was given a login of its owner (2022 dialect).
        privileged: the container runs privileged (2022 dialect).
    """

    id: str
    owner: str
    status: JobStatus
    history: JobStatusHistory
    container: Container
    is_preemptible: bool
    name: str | None = None
    description: str | None = None
    http_url: URL = URL()
    ssh_server: URL = URL()
    internal_hostname: str | None = None
    tags: Sequence[str] = ()
    life_span: float | None = None
    restart_policy: JobRestartPolicy = JobRestartPolicy.NEVER
    preset_name: str | None = None
    pass_config: bool = False
    privileged: bool = False

    # The display module is imported when a card is shown, not with the models: it types its
    # functions with the models, and the modules must not import each other (no cycle).
    def _repr_html_(self) -> str:
        """A short card for Jupyter; `repr()` stays the dataclass repr."""
        from ._display import job_card_html

        return job_card_html(self)

    def _repr_pretty_(self, p: _PrettyPrinter, cycle: bool) -> None:
        from ._display import job_card_text

        p.text(job_card_text(self))


class JobList(list[JobDescription]):
    """The result of `jobs.list()`: a plain `list` of `JobDescription` (equal to one, sliced,
    pickled and copied like one) that Jupyter shows as a table."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        from ._display import jobs_table_html

        return jobs_table_html(self)

    def _repr_pretty_(self, p: _PrettyPrinter, cycle: bool) -> None:
        from ._display import jobs_table_text

        p.text(jobs_table_text(self) if self else "JobList([])")


@dataclass(frozen=True, slots=True)
class JobTelemetry:
    """One telemetry sample of a running job (see `Jobs.top`).

    Attributes:
        cpu: CPU load; 1 is one fully loaded CPU.
        memory: memory used, megabytes.
        timestamp: sample time, seconds since the epoch (like `time.time()`).
        gpu_duty_cycle: percent of time the GPU was busy, or None without GPU.
        gpu_memory: GPU memory used, or None without GPU.
    """

    cpu: float
    memory: float
    timestamp: float
    gpu_duty_cycle: int | None = None
    gpu_memory: float | None = None
