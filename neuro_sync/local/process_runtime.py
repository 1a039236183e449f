"""The process runtime: a job is a local process tree, started in its own session.

Every process of a job carries `NEURO_LOCAL_JOB=<job id>` in its environment (inherited by
whatever it starts, whatever session or group it moves to), so the runtime finds them all in
/proc to signal them at a kill, and to end what is left at the job's end, at stop and after a
restart. A process that drops the variable from its environment when it execs escapes this;
only a container runtime's cgroup closes that (see docs/local-platform.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import tarfile
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import psutil

from .runtime import JOB_MARKER, ExecSpec, JobSpec, StartError, job_env
from .store import JobRecord

if TYPE_CHECKING:
    from .app import Settings


@dataclass
class _Job:
    proc: subprocess.Popen[bytes]
    log: BinaryIO
    ps: psutil.Process | None = None
    children: dict[int, psutil.Process] = field(default_factory=dict)


class ProcessRuntime:
    name = "process"

    def __init__(self, settings: Settings) -> None:
        self.data_dir = settings.data_dir
        self._jobs: dict[str, _Job] = {}

    def work_dir(self, job_id: str) -> Path:
        """The job's working directory (and HOME)."""
        return self.data_dir / "jobs" / job_id / "work"

    def describe(self) -> dict[str, Any]:
        return {"runtime": self.name, "isolation": "none"}

    def check(self, job: JobRecord) -> str | None:
        return None

    def start(self, job: JobRecord, spec: JobSpec) -> None:
        work = self.work_dir(job.id)
        work.mkdir(parents=True, exist_ok=True)
        log = open(spec.log_path, "ab")  # noqa: SIM115 - kept open while the job runs
        try:
            proc = subprocess.Popen(
                spec.argv,
                cwd=work,
                env={"HOME": str(work), **spec.env, JOB_MARKER: job.id},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as err:
            log.close()
            raise StartError(f"Cannot start {spec.argv[0]!r}: {err.strerror}") from None
        except ValueError as err:  # NUL bytes, unencodable text, `=` in an env name
            log.close()
            raise StartError(f"Cannot start {spec.argv[0]!r}: {err}") from None
        job.pid = proc.pid
        ps = None
        with contextlib.suppress(psutil.Error):
            ps = psutil.Process(proc.pid)
            ps.cpu_percent(None)
        self._jobs[job.id] = _Job(proc=proc, log=log, ps=ps)

    def poll(self, job_id: str) -> int | None:
        run = self._jobs.get(job_id)
        return None if run is None else run.proc.poll()

    def signal(self, job_id: str, sig: int) -> None:
        run = self._jobs.get(job_id)
        if run is None:
            return
        if run.proc.poll() is None:
            _killpg(run.proc.pid, sig)
        for pid in marked_processes({job_id}):
            _kill(pid, sig)

    def sweep(self, job_id: str) -> None:
        run = self._jobs.pop(job_id, None)
        if run is not None:
            # The group id cannot be reused while any member lives, so this hits only the job.
            _killpg(run.proc.pid, signal.SIGKILL)
        end_marked({job_id})
        if run is not None:
            if run.proc.poll() is None:
                run.proc.wait()
            run.log.close()

    def telemetry(self, job_id: str) -> dict[str, float] | None:
        run = self._jobs.get(job_id)
        if run is None or run.ps is None:
            return None
        cpu = 0.0
        memory = 0
        try:
            procs = [run.ps, *run.ps.children(recursive=True)]
        except psutil.Error:
            return None
        for p in procs:
            try:
                if p.pid != run.ps.pid:
                    if p.pid not in run.children:
                        run.children[p.pid] = p
                        p.cpu_percent(None)  # the first call only starts the measurement
                    p = run.children[p.pid]
                cpu += p.cpu_percent(None) / 100.0
                memory += p.memory_info().rss
            except psutil.Error:
                continue
        return {"cpu": cpu, "memory": memory / (1024 * 1024), "timestamp": time.time()}

    def exec_spec(self, job: JobRecord, argv: list[str]) -> ExecSpec:
        work = self.work_dir(job.id)
        return ExecSpec(argv=argv, env={**job_env(job, str(work)), JOB_MARKER: job.id}, cwd=work)

    def save(self, job: JobRecord, target: Path) -> tuple[str, int]:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as tar:
            tar.add(self.work_dir(job.id), arcname=".")
        data = target.read_bytes()
        return hashlib.sha256(data).hexdigest(), len(data)

    def recover(self, jobs: list[JobRecord]) -> None:
        # Whatever still carries the id of one of our jobs was left by a previous server
        # (job ids are UUIDs: another platform's jobs never match).
        end_marked({job.id for job in jobs})

    def stop(self, grace: float) -> None:
        ids = set(self._jobs)
        for job_id in ids:
            self.signal(job_id, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for run in list(self._jobs.values()):
            with contextlib.suppress(subprocess.TimeoutExpired):
                run.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        while marked_processes(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        for job_id in ids:
            self.sweep(job_id)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def marked_processes(job_ids: Collection[str]) -> list[int]:
    """Pids of the live processes whose environment names one of these jobs."""
    if not job_ids:
        return []
    wanted = {f"{JOB_MARKER}={job_id}".encode() for job_id in job_ids}
    me = os.getpid()
    found = []
    for pid in psutil.pids():
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read()
        except OSError:  # gone, or not ours to read
            continue
        if not wanted.isdisjoint(environ.split(b"\0")):
            found.append(pid)
    return found


SWEEP_ROUNDS = 20


def end_marked(job_ids: Collection[str]) -> None:
    """SIGKILL every process of these jobs, again until none is left: one may fork while the
    first round runs. Zombies have an empty environ, so they never count as left."""
    for _ in range(SWEEP_ROUNDS):
        pids = marked_processes(job_ids)
        if not pids:
            return
        for pid in pids:
            _kill(pid, signal.SIGKILL)
        time.sleep(0.01)
