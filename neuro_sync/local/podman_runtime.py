"""The podman runtime: every job is a container (see `podman_cli` for the configuration).

A job goes: pending (`ContainerCreating` while its image is looked up and, if missing, pulled)
-> running (a foreground `podman run` whose output is the job's log) -> exited. Nothing here
blocks the event loop: podman commands run as child processes that the runner's ticks poll.
A job's container has no network but its own loopback; the platform reaches the job's ports
by entering the container's network namespace (`connect`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import psutil

from .files import open_private, private_dir, tail
from .podman_cli import (
    BUILTIN_IMAGE,
    BUSYBOX_BINARY,
    LABEL_JOB,
    Podman,
    PodmanError,
    Usage,
    build_busybox_image,
    connect_in_netns,
    container_name,
    env_file_text,
    env_problem,
    image_candidates,
    process_environ,
    release_volumes,
    run_argv,
    stage_volumes,
)
from .runtime import ExecSpec, JobSpec, NotReady, StartError, container_env
from .store import JobRecord
from .terminal import JobTerminal

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["PodmanRuntime", "oom_killed_container", "podman_unusable"]

CREATING = "ContainerCreating"
PULL_FAILED = "Collected"  # the 2019 platform's reason for a job whose image cannot be pulled
PULL_TIMEOUT = 600.0
STATS_INTERVAL = 0.5  # seconds: the youngest `top` sample that is reused
JOB_FILES = ("env", "cid", "pid", "oom")  # what a job's private directory holds (+ mounts/)


def platform_podman(settings: Settings) -> Podman:
    """The podman CLI bound to this platform's private state (and its image store, if any)."""
    store = None if settings.image_store is None else Path(settings.image_store)
    if store is not None and not (store / "overlay-images").is_dir():
        raise RuntimeError(
            f"--image-store {store}: not a podman image store (no overlay-images/ there; "
            "give the graphroot, e.g. /var/lib/containers/storage)"
        )
    return Podman(settings.data_dir / "podman", image_store=store)


def podman_unusable(settings: Settings) -> str | None:
    """Why podman cannot run jobs for this platform (None: it can). A trial container runs."""
    podman = platform_podman(settings)  # a bad --image-store is an error, not a fallback
    if not Podman.installed():
        return "podman is not installed"
    try:
        podman.configure()
        _ensure_builtin_image(podman)
        podman.run("run", "--rm", "--network", "none", BUILTIN_IMAGE, "true", timeout=60).check(
            "a trial container failed"
        )
    except (OSError, PodmanError, subprocess.SubprocessError) as err:
        podman.release()
        return str(err)
    return None


def _ensure_builtin_image(podman: Podman) -> None:
    if not podman.image_exists(BUILTIN_IMAGE):
        if not BUSYBOX_BINARY.exists():
            raise PodmanError(f"no image to try: {BUSYBOX_BINARY} (busybox-static) is missing")
        build_busybox_image(podman, BUILTIN_IMAGE)


_OOM_MEMCG = re.compile(rb"oom_memcg=\S*?libpod-([0-9a-f]{64})")


def oom_killed_container(record: bytes) -> str | None:
    """The podman container whose memory limit a kernel log record says the OOM killer
    enforced (`oom-kill:...,oom_memcg=/<parent>/libpod-<id>,...`), or None."""
    m = _OOM_MEMCG.search(record)
    return m.group(1).decode() if m else None


class KernelOomLog:
    """The kernel's OOM-kill records (/dev/kmsg), read from the platform's start on: on cgroup
    v1 podman cannot tell that the kernel killed a container for its memory limit, the kernel
    log can (`oom_memcg=.../libpod-<container id>`)."""

    def __init__(self) -> None:
        self.killed: set[str] = set()
        self._fd: int | None = None
        with contextlib.suppress(OSError):
            fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(fd, 0, os.SEEK_END)
            self._fd = fd

    @property
    def available(self) -> bool:
        return self._fd is not None

    def oom_killed(self, container_id: str) -> bool:
        self._read()
        return container_id in self.killed

    def _read(self) -> None:
        while self._fd is not None:
            try:
                record = os.read(self._fd, 8192)  # one record per read
            except BlockingIOError:
                return
            except OSError as err:
                if err.errno == errno.EPIPE:  # records were overwritten: read on
                    continue
                return
            if not record:
                return
            killed = oom_killed_container(record)
            if killed:
                self.killed.add(killed)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class _Job:
    record: JobRecord
    images: list[str]  # the names still to look up; the first one is the job's image
    log_path: Path
    log: IO[bytes]
    phase: str = "lookup"  # lookup -> pull -> run
    since: float = field(default_factory=time.monotonic)
    proc: subprocess.Popen[bytes] | None = None
    signalled: bool = False
    usage: Usage = field(default_factory=Usage)
    refresh: asyncio.Task[None] | None = field(default=None, repr=False)
    terminal: JobTerminal | None = None  # a 2022 job with `container.tty`
    env: dict[str, str] = field(default_factory=dict)  # the container's (`container_env`)


class PodmanRuntime:
    name = "podman"

    def __init__(self, settings: Settings) -> None:
        self.data_dir = settings.data_dir
        self.podman = platform_podman(settings)
        self.podman.configure()
        self._jobs: dict[str, _Job] = {}
        self._helpers: list[subprocess.Popen[bytes]] = []  # fire-and-forget podman commands
        self._async: set[asyncio.subprocess.Process] = set()  # `podman stats` in flight
        self._oom = KernelOomLog()
        version = self.podman.run("version", "--format", "{{.Client.Version}}", timeout=30)
        self.version = version.out.decode().strip() if version.code == 0 else "unknown"

    def _job_dir(self, job_id: str) -> Path:
        """The runtime's private files of a running job (env file, container id and pid,
        volume mount points), removed when the job ends (the log is the runner's)."""
        return self.podman.state_dir / "jobs" / job_id

    def describe(self) -> dict[str, Any]:
        return {
            "runtime": self.name,
            "isolation": "container",
            "podman": self.version,
            "network": "none (own loopback; ports reached through the platform)",
            "builtin_images": [BUILTIN_IMAGE],
            "image_store": str(self.podman.image_store) if self.podman.image_store else None,
        }

    def check(self, job: JobRecord) -> str | None:
        return env_problem(job)

    # ------------------------------------------------------------------------ start

    def start(self, job: JobRecord, spec: JobSpec) -> None:
        run = self._jobs.get(job.id)
        if run is None:
            log = open_private(spec.log_path)
            images = image_candidates(job.container["image"])
            run = _Job(
                record=job,
                images=images,
                log_path=spec.log_path,
                log=log,
                env=container_env(job, spec),
            )
            self._jobs[job.id] = run
            run.proc = self._spawn(["image", "exists", "--", run.images[0]], log=None)
        code = run.proc.poll() if run.proc is not None else 1
        if run.phase == "pull" and code is None and time.monotonic() - run.since > PULL_TIMEOUT:
            assert run.proc is not None
            run.proc.kill()
            code = run.proc.wait()
        if code is None and run.phase != "run":
            raise NotReady(CREATING)
        if run.phase == "lookup" and code != 0 and len(run.images) > 1:
            run.images.pop(0)  # not here: the next name
            run.proc = self._spawn(["image", "exists", "--", run.images[0]], log=None)
            raise NotReady(CREATING)
        if run.phase == "lookup" and code != 0:
            run.phase, run.since = "pull", time.monotonic()
            run.proc = self._spawn(["pull", "--quiet", "--", run.images[0]], log=run.log)
            raise NotReady(CREATING)
        if run.phase == "pull" and code != 0:
            if code is not None and code > 0:
                why = pull_error(tail(run.log_path))
            else:  # killed: it took longer than PULL_TIMEOUT
                why = f"no pull after {PULL_TIMEOUT:g} s"
            self._forget(job.id)
            raise StartError(f"Image can not be pulled: {why}", reason=PULL_FAILED)
        if run.phase != "run":
            try:
                self._run(run)
            except (ValueError, OSError) as err:
                self._forget(job.id)
                raise StartError(str(err)) from None
        assert run.proc is not None
        if run.proc.poll() is None and self._container_pid(job.id) is None:
            raise NotReady(CREATING)  # until the container's process exists (or it ended)
        job.pid = run.proc.pid

    def _run(self, run: _Job) -> None:
        job = run.record
        job_dir = private_dir(self._job_dir(job.id))
        for name in JOB_FILES:
            with contextlib.suppress(FileNotFoundError):
                (job_dir / name).unlink()
        env_file = job_dir / "env"
        with open_private(env_file, "wb") as f:
            f.write(env_file_text(run.env).encode())
        run.phase = "run"  # from here on, _forget releases the job's directory
        sources = stage_volumes(self.data_dir, job, job_dir / "mounts")
        argv = run_argv(
            job, image=run.images[0], data_dir=self.data_dir, env_file=env_file, sources=sources
        )
        argv[1:1] = ["--cidfile", str(job_dir / "cid"), "--pidfile", str(job_dir / "pid")]
        # conmon inherits the directory and writes an `oom` file there when the kernel
        # OOM-kills the container: in the job's directory it says which job.
        if job.container.get("tty"):  # 2022 dialect: `podman run` on the job's terminal
            run.terminal = JobTerminal(
                self.podman.argv(*argv), log=run.log, cwd=job_dir, env=self.podman.env()
            )
            run.proc = run.terminal.proc
        else:
            run.proc = self._spawn(argv, log=run.log, cwd=job_dir)

    def _spawn(
        self, args: list[str], log: IO[bytes] | None, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        out: IO[bytes] | int = log if log is not None else subprocess.DEVNULL
        return subprocess.Popen(
            self.podman.argv(*args),
            cwd=cwd or self.podman.state_dir,
            env=self.podman.env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,  # a Ctrl-C of the platform's terminal is not the job's
        )

    def _helper(self, *args: str) -> None:
        self._reap()
        self._helpers.append(self._spawn(list(args), log=None))

    def _reap(self) -> None:
        self._helpers = [p for p in self._helpers if p.poll() is None]

    # ------------------------------------------------------------------------ running

    def poll(self, job_id: str) -> int | None:
        run = self._jobs.get(job_id)
        if run is None or run.proc is None or run.phase != "run":
            return None
        code = run.proc.poll()
        if code is not None and run.terminal is not None and run.terminal.holds_exit():
            return None
        return code

    def terminal(self, job_id: str) -> JobTerminal | None:
        run = self._jobs.get(job_id)
        return None if run is None or run.phase != "run" else run.terminal

    def failure_reason(self, job_id: str, code: int) -> str:
        run = self._jobs.get(job_id)
        if run is None:
            return "Error"
        if code in (126, 127) and b"OCI runtime" in tail(run.log_path):
            return "ContainerCannotRun"  # podman's own error: the command could not start
        if code in (137, -signal.SIGKILL) and not run.signalled:
            if (self._job_dir(job_id) / "oom").exists():
                return "OOMKilled"
            cid = self._container_id(job_id)
            if self._oom.available:
                if cid is not None and self._oom.oom_killed(cid):
                    return "OOMKilled"
            else:  # no kernel log: a SIGKILL nobody here sent is the OOM killer's
                return "OOMKilled"
        return "Error"

    def _container_id(self, job_id: str) -> str | None:
        try:
            return (self._job_dir(job_id) / "cid").read_text().strip() or None
        except OSError:
            return None

    def _container_pid(self, job_id: str) -> int | None:
        """The pid of the container's main process once it runs (podman writes `--pidfile`)."""
        try:
            return int((self._job_dir(job_id) / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def signal(self, job_id: str, sig: int) -> None:
        run = self._jobs.get(job_id)
        if run is None or run.phase != "run" or run.proc is None or run.proc.poll() is not None:
            return
        run.signalled = True
        self._helper("kill", "--signal", str(int(sig)), container_name(job_id))

    def sweep(self, job_id: str) -> None:
        if self._forget(job_id):
            self._helper("rm", "--force", "--time", "0", container_name(job_id))

    def _forget(self, job_id: str) -> bool:
        """Drop the job's handles; True if a container may exist."""
        run = self._jobs.get(job_id)
        if run is None:
            return False
        del self._jobs[job_id]
        if run.refresh is not None:
            run.refresh.cancel()
        if run.proc is not None and run.proc.poll() is None:
            run.proc.kill()  # the podman client only; the container is removed by name
            run.proc.wait()
        if run.terminal is not None:
            run.terminal.close()
        run.log.close()
        _remove_job_dir(self._job_dir(job_id))
        return run.phase == "run"

    def telemetry(self, job_id: str) -> dict[str, float] | None:
        """The latest `podman stats` sample; a fresher one is being taken in the background."""
        run = self._jobs.get(job_id)
        if run is None or run.phase != "run":
            return None
        if run.usage.stale(STATS_INTERVAL) and (run.refresh is None or run.refresh.done()):
            run.refresh = asyncio.get_running_loop().create_task(self._sample(run))
        return run.usage.sample

    async def _sample(self, run: _Job) -> None:
        result = await self.podman.arun(
            "stats",
            "--no-stream",
            "--format",
            "json",
            container_name(run.record.id),
            timeout=30,
            running=self._async,
        )
        if result.code == 0:
            run.usage.update(result.out)

    def exec_spec(self, job: JobRecord, argv: list[str]) -> ExecSpec:
        name = container_name(job.id)
        return ExecSpec(
            argv=self.podman.argv("exec", "--interactive", name, *argv),
            env=self.podman.env(),
            # `--env TERM` (no value): the TERM the gateway gives podman, the client's.
            tty_argv=self.podman.argv("exec", "-i", "--tty", "--env", "TERM", name, *argv),
        )

    def connect(self, job: JobRecord, port: int, timeout: float) -> socket.socket:
        run = self._jobs.get(job.id)
        pid = self._container_pid(job.id)
        if run is None or run.proc is None or run.proc.poll() is not None or pid is None:
            raise OSError(errno.ESRCH, "the job's container is not running")
        return connect_in_netns(pid, port, timeout)

    def save(self, job: JobRecord, target: Path, image: str) -> tuple[str, int]:
        """`podman commit` into the platform's image store under `image`."""
        try:
            self.podman.run(
                "commit", "--quiet", "--", container_name(job.id), image, timeout=600
            ).check("commit failed")
            info = self.podman.run(
                "image", "inspect", "--format", "{{.Id}} {{.Size}}", "--", image, timeout=60
            ).check("cannot read the saved image")
        except PodmanError as err:
            raise OSError(errno.EIO, str(err)) from None
        digest, size = info.out.decode().split()
        return digest, int(size)

    # ------------------------------------------------------------------------ restart, stop

    def _own_containers(self) -> list[str]:
        result = self.podman.run(
            "ps", "--all", "--quiet", "--no-trunc", "--filter", f"label={LABEL_JOB}", timeout=60
        )
        return result.out.decode().split() if result.code == 0 else []

    def recover(self, jobs: list[JobRecord]) -> None:
        """What a previous server left when it was killed: its podman commands (a `run`
        still starting a container, a `commit` of a save), containers with no log reader or
        supervisor left (the runner reports their jobs as lost), volume mounts and the jobs'
        private files."""
        self._end_leftover_commands()
        ids = self._own_containers()
        if ids:
            self.podman.run("rm", "--force", "--time", "0", *ids, timeout=120)
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.podman.state_dir / "jobs"):
                _remove_job_dir(Path(entry.path))

    def _end_leftover_commands(self) -> None:
        """SIGKILL the podman commands that run with this platform's configuration (a
        previous server's: this one has started none yet)."""
        marker = f"CONTAINERS_CONF={self.podman.conf}"
        left = []
        for proc in psutil.process_iter(["name"]):
            with contextlib.suppress(psutil.Error):
                if proc.info["name"] == "podman" and marker in process_environ(proc.pid):
                    proc.kill()
                    left.append(proc)
        psutil.wait_procs(left, timeout=30)

    def stop(self, grace: float) -> None:
        """Stop every job container (SIGTERM, SIGKILL after `grace`) and remove them all."""
        for job_id, run in list(self._jobs.items()):
            run.signalled = True
            if run.phase != "run" or self._container_pid(job_id) is None:
                self._forget(job_id)  # still starting: no container may appear after the listing
        ids = self._own_containers()
        if ids:
            self.podman.run("stop", "--time", str(int(grace)), *ids, timeout=grace + 60)
            self.podman.run("rm", "--force", "--time", "0", *ids, timeout=120)
        for job_id in list(self._jobs):
            self._forget(job_id)
        for proc in self._async:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        for helper in self._helpers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                helper.wait(timeout=30)
        self._helpers.clear()
        self._oom.close()
        self.podman.release()


def _remove_job_dir(job_dir: Path) -> None:
    """Unmount the job's volumes and remove its private files (never recursively: see
    `release_volumes`)."""
    release_volumes(job_dir / "mounts")
    for name in JOB_FILES:
        with contextlib.suppress(FileNotFoundError):
            (job_dir / name).unlink()
    with contextlib.suppress(OSError):
        job_dir.rmdir()


_MAX_PULL_ERROR = 300


def pull_error(output: bytes) -> str:
    """Why `podman pull` failed, on one short line: its last `Error:` line (the registry's or
    podman's message), else its last line."""
    lines = [" ".join(line.split()) for line in output.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    errors = [line.removeprefix("Error: ") for line in lines if line.startswith("Error: ")]
    text = (errors or lines or ["podman pull failed without a message"])[-1]
    if len(text) > _MAX_PULL_ERROR:
        text = text[: _MAX_PULL_ERROR - 3] + "..."
    return text
