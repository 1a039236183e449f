"""Job supervision: the queue, scheduling, statuses (docs/protocol.md §2.8). Runtime-independent:
what runs a job is a `Runtime` (runtime.py)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import signal
from collections.abc import Callable
from pathlib import Path

import psutil

from .files import private_dir
from .runtime import JobSpec, NotReady, Runtime, StartError, job_argv, job_env
from .store import JobRecord, Store

log = logging.getLogger("neuro_sync.local")

KILL_GRACE = 3.0
LOG_TAIL_BYTES = 4096
DEFAULT_SCHEDULE_TIMEOUT = 180.0


class Runner:
    """Supervises the jobs of one server: a poll loop on the event loop, no threads."""

    def __init__(
        self,
        store: Store,
        data_dir: Path,
        runtime: Runtime,
        *,
        cpus: float | None = None,
        memory_mb: int | None = None,
    ) -> None:
        self.store = store
        self.data_dir = data_dir
        self.runtime = runtime
        self.running: set[str] = set()  # started and not yet swept
        self._task: asyncio.Task[None] | None = None
        self.total_memory_mb = memory_mb or psutil.virtual_memory().total // (1024 * 1024)
        self.cpus = cpus or psutil.cpu_count() or 1
        # The 2022 dialect (dialect2022.py) sets these: the config a `pass_config` job gets,
        # and the jobs' life spans and restarts (applied only to jobs that ask for them).
        self.passed_config: Callable[[JobRecord], dict[str, str]] | None = None
        self.lifecycle: Lifecycle | None = None

    def job_dir(self, job_id: str) -> Path:
        """The platform's private files of a job (its log)."""
        return self.data_dir / "jobs" / job_id

    def log_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "log"

    def recover(self) -> None:
        """After a restart: a job that was started here has lost its process."""
        self.runtime.recover(self.store.ordered())
        for job in self.store.ordered():
            if not job.finished and job.pid is not None:
                job.set_status(
                    "failed",
                    "NotFound",
                    "The job process was lost when the local platform restarted",
                )
                self.store.save(job)

    def start_loop(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - one bad job must not stop the supervisor
                log.exception("supervisor tick failed")
            await asyncio.sleep(0.05)

    def fits(self, job: JobRecord) -> bool:
        """The job fits on an empty machine (else it can never run here)."""
        r = job.container["resources"]
        return r["memory_mb"] <= self.total_memory_mb and r["cpu"] <= self.cpus and not r.get("gpu")

    def tick(self) -> None:
        self._schedule()
        for job_id in list(self.running):
            code = self.runtime.poll(job_id)
            if code is not None:
                self._finish(job_id, code)
        if self.lifecycle is not None:
            self.lifecycle.tick(self)

    def _schedule(self) -> None:
        """Start pending jobs in submission order while they fit the free capacity.

        Strict FIFO: once a job waits for capacity, no later job starts before it (no
        backfilling), so a big job is never starved by a stream of small ones. A job that
        can never fit does not hold the queue: it fails after its schedule timeout.
        """
        free_cpu, free_memory = self.cpus, self.total_memory_mb
        for job_id in self.running:
            running = self.store.get(job_id)
            if running is not None:
                free_cpu -= running.container["resources"]["cpu"]
                free_memory -= running.container["resources"]["memory_mb"]
        waiting = False
        for job in self.store.ordered():
            if job.status != "pending" or job.pid is not None:
                continue
            if self.lifecycle is not None and self.lifecycle.held(job):
                continue  # restarting after a back-off
            if not self.fits(job):
                self._wait_or_give_up(job)
                continue
            r = job.container["resources"]
            # A small epsilon: ten 0.1-CPU jobs fill one CPU despite float sums.
            if not waiting and r["cpu"] <= free_cpu + 1e-9 and r["memory_mb"] <= free_memory:
                if self._start(job):
                    free_cpu -= r["cpu"]
                    free_memory -= r["memory_mb"]
                continue
            waiting = True
            self._mark_waiting(job)

    def _wait_or_give_up(self, job: JobRecord) -> None:
        timeout = job.schedule_timeout or DEFAULT_SCHEDULE_TIMEOUT
        if _age(job.created_at) >= timeout:
            job.set_status(
                "failed",
                "ClusterScaleUpFailed",
                "Failed to scale up the cluster to get more resources",
            )
            self.store.save(job)
        else:
            self._mark_waiting(job)

    def _mark_waiting(self, job: JobRecord) -> None:
        if job.reason != "ClusterScalingUp":
            job.set_status(
                "pending", "ClusterScalingUp", "Scaling up the cluster to get more resources"
            )
            self.store.save(job)

    def _start(self, job: JobRecord) -> bool:
        """Start a job; False if it could not run (it has failed then)."""
        private_dir(self.job_dir(job.id))
        try:
            spec = self.spec(job)
            self.runtime.start(job, spec)
        except NotReady as wait:
            if (job.reason, job.status_description) != (wait.reason, wait.description):
                job.set_status("pending", wait.reason, wait.description)
                self.store.save(job)
            return True  # being started: its resources are taken
        except StartError as err:
            job.pid = -1
            job.set_status("failed", err.reason, str(err))
            self.store.save(job)
            return False
        if job.pid is None:  # a runtime without pids: still marks the job as started here
            job.pid = 0
        job.set_status("running")
        self.store.save(job)
        self.running.add(job.id)
        return True

    def spec(self, job: JobRecord) -> JobSpec:
        """What to run for a job (pure but for reading the environment's PATH)."""
        r = job.container["resources"]
        env = job_env(job)
        if self.passed_config is not None:
            env.update(self.passed_config(job))
        return JobSpec(
            job_id=job.id,
            owner=job.owner,
            image=job.container["image"],
            argv=job_argv(job),
            env=env,
            cpu=r["cpu"],
            memory_mb=r["memory_mb"],
            log_path=self.log_path(job.id),
            volumes=list(job.container.get("volumes", [])),
        )

    def _finish(self, job_id: str, code: int) -> None:
        self.running.discard(job_id)
        reason = self.runtime.failure_reason(job_id, code) if code else None
        # Like a container, nothing of the job outlives its main process.
        self.runtime.sweep(job_id)
        job = self.store.get(job_id)
        if job is None or job.finished:  # killed: the status was already set
            return
        if self.lifecycle is not None and self.lifecycle.restart(job, code):
            self.store.save(job)
            return
        if code == 0:
            job.exit_code = 0
            job.set_status("succeeded")
        else:
            job.exit_code = code if code > 0 else 128 - code
            job.set_status("failed", reason, self.log_tail(job_id))
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

    def kill(self, job: JobRecord, status: str = "succeeded", reason: str | None = None) -> None:
        """DELETE: end the job's processes and mark the job succeeded with no reason (2019;
        the 2022 dialect passes `cancelled` and its reason)."""
        if job.finished:
            return
        job.set_status(status, reason)
        self.store.save(job)
        if job.id in self.running:
            self.runtime.signal(job.id, signal.SIGTERM)
            asyncio.get_running_loop().call_later(
                KILL_GRACE, self.runtime.signal, job.id, signal.SIGKILL
            )
        else:  # pending: a runtime may be starting it (NotReady); nothing of it may start
            self.runtime.sweep(job.id)

    def telemetry(self, job_id: str) -> dict[str, float] | None:
        if job_id not in self.running:
            return None
        return self.runtime.telemetry(job_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.runtime.stop(KILL_GRACE)
        self.running.clear()


class Lifecycle:
    """What the 2022 dialect adds to supervision (implemented in dialect2022.py)."""

    def held(self, job: JobRecord) -> bool:
        """The pending job waits (a restart's back-off) and must not start yet."""
        raise NotImplementedError

    def restart(self, job: JobRecord, code: int) -> bool:
        """The job's process exited with `code`: restart it (True, the job is pending again)
        or let it finish (False)."""
        raise NotImplementedError

    def tick(self, runner: Runner) -> None:
        """Every supervisor tick: end jobs past their life span."""
        raise NotImplementedError


def _age(iso: str) -> float:
    created = datetime.datetime.fromisoformat(iso)
    return (datetime.datetime.now(datetime.UTC) - created).total_seconds()
