"""The process runtime: a job is a local process tree, started in its own session."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import tarfile
import time
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
        if not spec.argv:
            raise StartError("No command: the local platform has no image to take a default from")
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

    def failure_reason(self, job_id: str, code: int) -> str:
        return "Error"

    def signal(self, job_id: str, sig: int) -> None:
        run = self._jobs.get(job_id)
        if run is not None and run.proc.poll() is None:
            _killpg(run.proc.pid, sig)

    def sweep(self, job_id: str) -> None:
        run = self._jobs.pop(job_id, None)
        if run is None:
            return
        # The group id cannot be reused while any member lives, so this hits only the job.
        _killpg(run.proc.pid, signal.SIGKILL)
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

    def save(self, job: JobRecord, target: Path, image: str) -> tuple[str, int]:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as tar:
            tar.add(self.work_dir(job.id), arcname=".")
        data = target.read_bytes()
        return hashlib.sha256(data).hexdigest(), len(data)

    def connect(self, job: JobRecord, port: int, timeout: float) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.settimeout(None)
        return sock

    def recover(self, jobs: list[JobRecord]) -> None:
        for job in jobs:
            if not job.finished and job.pid:
                self._end_orphan(job)

    def _end_orphan(self, job: JobRecord) -> None:
        """Only a process that still leads its own group and works in this job's directory is
        killed, so a pid reused by an unrelated program is left alone."""
        if not job.pid or job.pid <= 0:
            return
        try:
            proc = psutil.Process(job.pid)
            if os.getpgid(job.pid) != job.pid or Path(proc.cwd()) != self.work_dir(job.id):
                return
            os.killpg(job.pid, signal.SIGKILL)
        except (psutil.Error, OSError):
            return

    def stop(self, grace: float) -> None:
        for job_id in list(self._jobs):
            self.signal(job_id, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for run in list(self._jobs.values()):
            with contextlib.suppress(subprocess.TimeoutExpired):
                run.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        for job_id in list(self._jobs):
            self.sweep(job_id)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
