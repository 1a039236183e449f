"""Job supervision: the queue, scheduling, statuses (docs/protocol.md §2.8). Runtime-independent:
what runs a job is a `Runtime` (runtime.py).

Which pending job to try next is a `Policy`, by default `fair_order` (fair share across
owners, FIFO within an owner); the rest of `_schedule` is capacity bookkeeping. A runtime
with a scheduler of its own would replace `_schedule` as a whole. The per-user limits
(pending jobs, stored records) are checked by `admit` before a job is stored; logs are
capped by `logs.cap`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import heapq
import logging
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import psutil

from . import logs
from .files import private_dir
from .runtime import JobSpec, NotReady, Runtime, StartError, job_argv, job_env
from .store import JobRecord, Store, is_pending

log = logging.getLogger("neuro_sync.local")

KILL_GRACE = 3.0
LOG_TAIL_BYTES = 4096
DEFAULT_SCHEDULE_TIMEOUT = 180.0
TICK = 0.05
# Without a change (a submission, a kill, a job ending), the queues are looked at this often:
# for the schedule timeouts of jobs that cannot fit.
RESCAN_INTERVAL = 1.0
DEFAULT_MAX_PENDING_PER_USER = 1000
DEFAULT_MAX_JOBS_PER_USER = 10_000
DEFAULT_MAX_LOG_BYTES = 64 * 1024 * 1024


# A scheduling policy: the pending jobs (owner -> queue, oldest first) in the order to try
# them, given each owner's share of the capacity in use (which the caller updates as it goes).
Policy = Callable[[Mapping[str, list[JobRecord]], Mapping[str, float]], Iterator[JobRecord]]


def fair_order(
    queues: Mapping[str, list[JobRecord]], usage: Mapping[str, float]
) -> Iterator[JobRecord]:
    """The scheduling policy: every pending job once, fair share across owners, FIFO within one.

    Next is always the oldest pending job of the owner whose running jobs hold the smallest
    share of the capacity (`usage`, which the caller raises for each job it starts; ties go to
    the older job). So one owner's long queue delays another owner's first job by at most one
    scheduling round. Work: O(pending * log(owners)).
    """
    heap = [(usage.get(owner, 0.0), queue[0].created_at, owner) for owner, queue in queues.items()]
    heapq.heapify(heap)
    position = dict.fromkeys(queues, 0)
    while heap:
        _, _, owner = heapq.heappop(heap)
        queue, i = queues[owner], position[owner]
        yield queue[i]
        position[owner] = i = i + 1
        if i < len(queue):
            heapq.heappush(heap, (usage.get(owner, 0.0), queue[i].created_at, owner))


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
        max_pending_per_user: int | None = None,
        max_jobs_per_user: int | None = None,
        max_log_bytes: int | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.store = store
        self.data_dir = data_dir
        self.runtime = runtime
        self.running: set[str] = set()  # started and not yet swept
        self._starting: set[str] = set()  # a runtime is starting them (NotReady)
        self._task: asyncio.Task[None] | None = None
        self.total_memory_mb = memory_mb or psutil.virtual_memory().total // (1024 * 1024)
        self.cpus = cpus or psutil.cpu_count() or 1
        # The 2022 dialect (dialect2022.py) sets these: the config a `pass_config` job gets,
        # and the jobs' life spans and restarts (applied only to jobs that ask for them).
        self.passed_config: Callable[[JobRecord], dict[str, str]] | None = None
        self.lifecycle: Lifecycle | None = None
        self.max_pending_per_user = max_pending_per_user or DEFAULT_MAX_PENDING_PER_USER
        self.max_jobs_per_user = max_jobs_per_user or DEFAULT_MAX_JOBS_PER_USER
        self.max_log_bytes = max_log_bytes or DEFAULT_MAX_LOG_BYTES
        self._log_start: dict[str, int] = {}  # job id -> where its log's data starts
        self._changed = True  # the queues or the capacity changed since the last round
        self._last_round = 0.0
        self.rounds = 0  # scheduling rounds made (a figure for tests and measurements)
        self.policy: Policy = policy or fair_order

    def job_dir(self, job_id: str) -> Path:
        """The platform's private files of a job (its log)."""
        return self.data_dir / "jobs" / job_id

    def log_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "log"

    def recover(self) -> None:
        """After a restart: a job that was started here has lost its process, unless the
        runtime follows it again."""
        followed = self.runtime.recover(self.store.ordered()) or set()
        self.running.update(followed)
        for job in self.store.ordered():
            if not job.finished and job.pid is not None and job.id not in followed:
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
            await asyncio.sleep(TICK)

    def wake(self) -> None:
        """Something changed the queues (a submission): schedule at the next tick."""
        self._changed = True

    def admit(self, owner: str) -> str | None:
        """Make room for one more job of `owner`; the refusal (a 400 message) if there is none.

        Pending jobs are limited per user. Stored records are too: past the limit the owner's
        oldest finished records are collected (with their logs), and only a user whose
        unfinished jobs alone fill the limit is refused.
        """
        pending = self.store.pending_count(owner)
        if pending >= self.max_pending_per_user:
            return (
                f"Too many pending jobs: user '{owner}' has {pending}, the limit is "
                f"{self.max_pending_per_user} pending jobs per user"
            )
        excess = self.store.count(owner) + 1 - self.max_jobs_per_user
        for job in self.store.owned(owner) if excess > 0 else ():
            if excess <= 0:
                break
            if job.finished and job.id not in self.running:
                self.collect(job)
                excess -= 1
        if excess > 0:
            return (
                f"Too many jobs: user '{owner}' has {self.store.count(owner)} unfinished jobs, "
                f"the limit is {self.max_jobs_per_user} stored jobs per user"
            )
        return None

    def collect(self, job: JobRecord) -> None:
        """Forget a finished job: its record and its private files (the log)."""
        self.store.remove(job)
        self._log_start.pop(job.id, None)
        shutil.rmtree(self.job_dir(job.id), ignore_errors=True)

    def fits(self, job: JobRecord) -> bool:
        """The job fits on an empty machine (else it can never run here)."""
        r = job.container["resources"]
        return r["memory_mb"] <= self.total_memory_mb and r["cpu"] <= self.cpus and not r.get("gpu")

    def tick(self) -> None:
        now = time.monotonic()
        if self._changed or self._starting or now - self._last_round >= RESCAN_INTERVAL:
            self._changed, self._last_round = False, now
            self._schedule()
        for job_id in list(self.running):
            self._cap_log(job_id)
            code = self.runtime.poll(job_id)
            if code is not None:
                self._finish(job_id, code)
        if self.lifecycle is not None:
            self.lifecycle.tick(self)

    def _cap_log(self, job_id: str) -> None:
        start = self._log_start.get(job_id, 0)
        new = logs.cap(self.log_path(job_id), start, self.max_log_bytes)
        if new != start:
            self._log_start[job_id] = new

    def _schedule(self) -> None:
        """Start pending jobs, in the policy's order, while they fit the free capacity.

        No backfilling: once the next job in that order waits for capacity, no other job
        starts before it, so a big job is never starved by a stream of small ones. A job that
        can never fit does not hold the queue: it fails after its schedule timeout.
        A runtime that schedules jobs itself (Slurm) gets every pending job at once.
        """
        self.rounds += 1
        queues = self.store.pending()
        if not queues:
            return
        if getattr(self.runtime, "schedules_jobs", False):
            self._starting.clear()  # Slurm holds the resources of the jobs it starts
            for queue in queues.values():
                for queued in queue:
                    if self.lifecycle is not None and self.lifecycle.held(queued):
                        continue  # restarting after a back-off: not submitted before its end
                    self._start(queued)
            return
        free = {"cpu": float(self.cpus), "memory_mb": float(self.total_memory_mb)}
        usage: dict[str, float] = {}
        for job_id in self.running:
            running = self.store.get(job_id)
            if running is not None:
                self._take(running, free, usage)
        # Jobs a runtime is still starting hold their resources and go on first.
        for job_id in list(self._starting):
            job = self.store.get(job_id)
            if job is None or not is_pending(job):
                self._starting.discard(job_id)
                continue
            self._take(job, free, usage)
            self._start(job)
        waiting = False
        for job in self.policy(queues, usage):
            if job.id in self._starting or not is_pending(job):
                continue
            if self.lifecycle is not None and self.lifecycle.held(job):
                continue  # restarting after a back-off
            if not self.fits(job):
                self._wait_or_give_up(job)
                continue
            r = job.container["resources"]
            # A small epsilon: ten 0.1-CPU jobs fill one CPU despite float sums.
            if (
                not waiting
                and r["cpu"] <= free["cpu"] + 1e-9
                and r["memory_mb"] <= free["memory_mb"]
            ):
                if self._start(job):
                    self._take(job, free, usage)
                continue
            waiting = True
            self._mark_waiting(job)

    def _take(self, job: JobRecord, free: dict[str, float], usage: dict[str, float]) -> None:
        """Count a started job against the free capacity and its owner's share."""
        r = job.container["resources"]
        free["cpu"] -= r["cpu"]
        free["memory_mb"] -= r["memory_mb"]
        share = max(r["cpu"] / self.cpus, r["memory_mb"] / self.total_memory_mb)
        usage[job.owner] = usage.get(job.owner, 0.0) + share

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
            self._starting.add(job.id)
            if (job.reason, job.status_description) != (wait.reason, wait.description):
                job.set_status("pending", wait.reason, wait.description)
                self.store.save(job)
            return True  # being started: its resources are taken
        except StartError as err:
            self._starting.discard(job.id)
            job.pid = -1
            job.set_status("failed", err.reason, str(err))
            self.store.save(job)
            return False
        self._starting.discard(job.id)
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
        self._changed = True  # capacity freed
        self._cap_log(job_id)  # what it wrote since the last tick
        self._log_start.pop(job_id, None)
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
        self._changed = True
        self._starting.discard(job.id)
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

    def watch(self, job: JobRecord) -> None:
        """A new job (or a changed life span): keep an eye on it."""
        raise NotImplementedError

    def tick(self, runner: Runner) -> None:
        """Every supervisor tick: end jobs past their life span, wake the scheduler when a
        restart's back-off is over."""
        raise NotImplementedError


def _age(iso: str) -> float:
    created = datetime.datetime.fromisoformat(iso)
    return (datetime.datetime.now(datetime.UTC) - created).total_seconds()
