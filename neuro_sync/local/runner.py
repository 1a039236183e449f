"""Job processes: start, watch, kill, measure. Statuses follow the real platform (§2.8)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from .store import JobRecord, Store

KILL_GRACE = 3.0
LOG_TAIL_BYTES = 4096
DEFAULT_SCHEDULE_TIMEOUT = 180.0


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    log: Any  # the open log file
    ps: psutil.Process | None = None
    children: dict[int, psutil.Process] = field(default_factory=dict)


class Runner:
    """Supervises the jobs of one server: a poll loop on the event loop, no threads."""

    def __init__(self, store: Store, data_dir: Path) -> None:
        self.store = store
        self.data_dir = data_dir
        self.running: dict[str, Running] = {}
        self._task: asyncio.Task[None] | None = None
        self.total_memory_mb = psutil.virtual_memory().total // (1024 * 1024)
        self.cpus = os.cpu_count() or 1

    def job_dir(self, job_id: str) -> Path:
        return self.data_dir / "jobs" / job_id

    def log_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "log"

    def work_dir(self, job_id: str) -> Path:
        """The job's working directory (and HOME)."""
        return self.job_dir(job_id) / "work"

    def job_env(self, job: JobRecord) -> dict[str, str]:
        """The environment of the job's process (also used by the SSH gateway's exec)."""
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(self.work_dir(job.id)),
            "LANG": "C.UTF-8",
            "NEURO_JOB_ID": job.id,
            **job.container.get("env", {}),
        }

    def recover(self) -> None:
        """After a restart: a job that was started here has lost its process."""
        for job in self.store.ordered():
            if not job.finished and job.pid is not None:
                self._end_orphan(job)
                job.set_status(
                    "failed",
                    "NotFound",
                    "The job process was lost when the local platform restarted",
                )
                self.store.save(job)

    def _end_orphan(self, job: JobRecord) -> None:
        """After a crash of the server its job processes may still run: end them.

        Only a process that still leads its own group and works in this job's directory is
        killed, so a pid reused by an unrelated program is left alone.
        """
        if not job.pid or job.pid <= 0:
            return
        try:
            proc = psutil.Process(job.pid)
            if os.getpgid(job.pid) != job.pid or Path(proc.cwd()) != self.work_dir(job.id):
                return
            os.killpg(job.pid, signal.SIGKILL)
        except (psutil.Error, OSError):
            return

    def start_loop(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - one bad job must not stop the supervisor
                import logging

                logging.getLogger("neuro_sync.local").exception("supervisor tick failed")
            await asyncio.sleep(0.05)

    def fits(self, job: JobRecord) -> bool:
        r = job.container["resources"]
        return r["memory_mb"] <= self.total_memory_mb and r["cpu"] <= self.cpus and not r.get("gpu")

    def tick(self) -> None:
        for job in self.store.ordered():
            if job.status == "pending" and job.pid is None:
                self._schedule(job)
        for job_id, run in list(self.running.items()):
            code = run.proc.poll()
            if code is not None:
                self._finish(job_id, run, code)

    def _schedule(self, job: JobRecord) -> None:
        if self.fits(job):
            self._start(job)
            return
        timeout = job.schedule_timeout or DEFAULT_SCHEDULE_TIMEOUT
        created = time.time() - _age(job.created_at)
        if time.time() - created >= timeout:
            job.set_status(
                "failed",
                "ClusterScaleUpFailed",
                "Failed to scale up the cluster to get more resources",
            )
            self.store.save(job)
        elif job.reason != "ClusterScalingUp":
            job.set_status(
                "pending", "ClusterScalingUp", "Scaling up the cluster to get more resources"
            )
            self.store.save(job)

    def _start(self, job: JobRecord) -> None:
        c = job.container
        work = self.work_dir(job.id)
        work.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path(job.id), "ab")  # noqa: SIM115 - kept open while it runs
        try:
            argv = shlex.split(c.get("entrypoint", "")) + shlex.split(c.get("command", ""))
        except ValueError as err:
            argv, error = [], f"Cannot parse the command: {err}"
        else:
            error = "No command: the local platform has no image to take a default from"
        env = self.job_env(job)
        proc = None
        if argv:
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as err:
                error = f"Cannot start {argv[0]!r}: {err.strerror}"
            except ValueError as err:  # NUL bytes, unencodable text, `=` in an env name
                error = f"Cannot start {argv[0]!r}: {err}"
        if proc is None:
            log.close()
            job.pid = -1
            job.set_status("failed", "ContainerCannotRun", error)
            self.store.save(job)
            return
        job.pid = proc.pid
        job.set_status("running")
        self.store.save(job)
        ps = None
        with contextlib.suppress(psutil.Error):
            ps = psutil.Process(proc.pid)
            ps.cpu_percent(None)
        self.running[job.id] = Running(proc=proc, log=log, ps=ps)

    def _finish(self, job_id: str, run: Running, code: int) -> None:
        del self.running[job_id]
        # Like a container, nothing of the job outlives its main process.
        _kill_group(run.proc.pid)
        run.log.close()
        job = self.store.get(job_id)
        if job is None or job.finished:  # killed: the status was already set
            return
        if code == 0:
            job.exit_code = 0
            job.set_status("succeeded")
        else:
            job.exit_code = code if code > 0 else 128 - code
            job.set_status("failed", "Error", self.log_tail(job_id))
        self.store.save(job)

    def log_tail(self, job_id: str) -> str:
        path = self.log_path(job_id)
        try:
            with open(path, "rb") as f:
                f.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
                data = f.read()
        except OSError:
            return ""
        lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
        return "".join(lines[-20:])

    def kill(self, job: JobRecord) -> None:
        """DELETE: end the process tree and mark the job succeeded with no reason."""
        if job.finished:
            return
        job.set_status("succeeded")
        self.store.save(job)
        run = self.running.get(job.id)
        if run is not None:
            _signal_group(run.proc, signal.SIGTERM)
            asyncio.get_running_loop().call_later(
                KILL_GRACE, _signal_group, run.proc, signal.SIGKILL
            )

    def telemetry(self, job_id: str) -> dict[str, float] | None:
        run = self.running.get(job_id)
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
                if p.pid != run.ps.pid and p.pid not in run.children:
                    run.children[p.pid] = p
                    p.cpu_percent(None)
                    p = run.children[p.pid]
                elif p.pid != run.ps.pid:
                    p = run.children[p.pid]
                cpu += p.cpu_percent(None) / 100.0
                memory += p.memory_info().rss
            except psutil.Error:
                continue
        return {"cpu": cpu, "memory": memory / (1024 * 1024), "timestamp": time.time()}

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for run in list(self.running.values()):
            _signal_group(run.proc, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE
        for run in list(self.running.values()):
            with contextlib.suppress(subprocess.TimeoutExpired):
                run.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            if run.proc.poll() is None:
                _signal_group(run.proc, signal.SIGKILL)
                run.proc.wait()
            _kill_group(run.proc.pid)
            run.log.close()
        self.running.clear()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _kill_group(pgid: int) -> None:
    """SIGKILL what is left of a job's process group once its leader has exited (the group id
    cannot be reused while any member lives, so this never hits another process)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _age(iso: str) -> float:
    import datetime

    created = datetime.datetime.fromisoformat(iso)
    return (datetime.datetime.now(datetime.UTC) - created).total_seconds()
