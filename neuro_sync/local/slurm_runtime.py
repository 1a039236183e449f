"""The Slurm runtime: every platform job is one Slurm batch job, run in its image by podman on
whatever node Slurm picks (docs/cluster.md).

Slurm is the scheduler: the runner does not queue for this runtime (`schedules_jobs`). The
Slurm job's name is the platform job's id (`squeue -n <job id>` finds it); the batch script
(`batch_script`) pulls the image if the node lacks it, pins the job's volumes on the node
(`slurm_volumes`: the podman runtime's `stage_volumes`, run there, so that no check made
here can be raced), then runs the podman runtime's own `podman run` mapping
(`podman_cli.run_argv`) nested in the Slurm job's cgroup, so Slurm's
memory and CPU limits hold for the container, and a TERM trap stops the container on `scancel`
or at the time limit. Its output file is the job's log; it writes the container's exit code
to `<job dir>/exit`. The platform's data dir must be on storage every node sees at the same
path (the job dir, volumes and podman's image store live there).

State comes from `squeue --json` (refreshed in the background, at most every
`REFRESH_INTERVAL`), the `exit` file, and Slurm's job-completion file for jobs that ended
long ago (no accounting database needed). Statuses and reasons: see `STATE_REASONS` and
docs/cluster.md. `stop` leaves jobs running: they are Slurm's, and `recover` follows them
again on the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import errno
import json
import math
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from .files import open_private, tail
from .podman_cli import (
    BUILTIN_IMAGE,
    BUSYBOX_BINARY,
    Podman,
    PodmanError,
    Usage,
    build_busybox_image,
    container_name,
    env_file_text,
    env_problem,
    process_environ,
    release_volumes,
    resolve_image,
    run_argv,
)
from .podman_runtime import CREATING, PULL_FAILED, KernelOomLog, platform_podman
from .runtime import ExecSpec, JobSpec, NotReady, StartError, container_env, storage_path
from .slurm_volumes import commands, node_python_env
from .store import JobRecord

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["SlurmRuntime", "batch_script", "slurm_unusable"]

REFRESH_INTERVAL = 0.25  # seconds between two `squeue --json` in the background
STOP_TIMEOUT = 3  # seconds `podman stop` gives the container, as run_argv's --stop-timeout
# (Slurm's KillWait must exceed it)
DEFAULT_SCHEDULE_TIMEOUT = 180.0  # as the runner's
STATS_INTERVAL = 1.0  # seconds: the youngest `top` sample that is reused (an srun each)
FINAL_STATE_WAIT = 5.0  # seconds a failed job's end waits for Slurm's final state
STOP_WAIT_MAX = 25.0  # seconds a stop waits at most for the jobs it cancelled to end
FINAL_STATES = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "OUT_OF_MEMORY",
        "NODE_FAIL",
        "BOOT_FAIL",
        "PREEMPTED",
        "DEADLINE",
        "LOST",  # ours: in neither squeue nor the job-completion file
    }
)
# A Slurm job that ended without the container's exit code: (exit code, reason).
STATE_REASONS = {
    "OUT_OF_MEMORY": (137, "OOMKilled"),
    "TIMEOUT": (143, "Error"),
    "DEADLINE": (143, "Error"),
    "CANCELLED": (143, "NotFound"),  # not by the platform (a kill ends `succeeded` first)
    "NODE_FAIL": (1, "NotFound"),
    "BOOT_FAIL": (1, "NotFound"),
    "PREEMPTED": (1, "NotFound"),
    "LOST": (1, "NotFound"),  # in neither squeue nor the job-completion file
}
# What the batch script of one attempt leaves in the job directory (removed before the next).
ATTEMPT_FILES = ("exit", "exit.tmp", "pull-failed", "cid", "pid", "oom", "slurm_id")
# The record's `extra` key of the Slurm job of the job's last started attempt.
SLURM_JOB_ID = "slurm_job_id"
# Slurm pending reasons that mean "no room now" (2019: ClusterScalingUp); others: Scheduling.
_WAITING_FOR_ROOM = {"Resources", "ReqNodeNotAvail", "NodeDown", "PartitionNodeLimit"}


class SlurmError(Exception):
    """A Slurm command failed; the message is Slurm's own error text."""


class Slurm:
    """The Slurm commands, bound to one cluster (its `SLURM_CONF`, if given)."""

    def __init__(self, conf: Path | None = None) -> None:
        conf_text = str(conf) if conf else os.environ.get("SLURM_CONF")
        self.conf = Path(conf_text) if conf_text else None

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "LANG": "C.UTF-8"}
        if self.conf is not None:
            env["SLURM_CONF"] = str(self.conf)
        env.update(extra or {})
        return env

    def run(self, *argv: str, stdin: bytes | None = None, timeout: float = 30.0) -> str:
        try:
            done = subprocess.run(
                argv,
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                env=self.env(),
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SlurmError(f"{argv[0]} timed out after {timeout} s") from None
        except OSError as err:
            raise SlurmError(f"cannot run {argv[0]}: {err.strerror}") from None
        if done.returncode != 0:
            text = done.stderr.decode(errors="replace").strip()
            out = done.stdout.decode(errors="replace").strip()
            raise SlurmError(text or out or f"{argv[0]} exited with {done.returncode}")
        return done.stdout.decode(errors="replace")

    def config(self) -> dict[str, str]:
        """`scontrol show config` as a dict (it fails when the controller cannot be reached)."""
        out = self.run("scontrol", "show", "config")
        conf = {}
        for line in out.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                conf[key.strip()] = value.strip()
        return conf

    def jobs(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        return _jobs_of(self.run("squeue", "--json", timeout=timeout))


def _jobs_of(text: str) -> list[dict[str, Any]]:
    try:
        jobs = json.loads(text).get("jobs", [])
    except (ValueError, AttributeError):
        return []
    return [j for j in jobs if isinstance(j, dict)]


def slurm_unusable(settings: Settings) -> str | None:
    """Why the Slurm runtime cannot run here (None: it can)."""
    if shutil.which("sbatch") is None:
        return "the Slurm client commands are not installed (apt-get install slurm-client)"
    if not Podman.installed():
        return "podman is not installed"
    slurm = Slurm(settings.slurm_conf)
    conf = slurm.conf or Path("/etc/slurm/slurm.conf")
    if not conf.is_file():  # Slurm's commands would retry for a minute
        return f"the Slurm cluster cannot be reached: no configuration file {conf}"
    try:
        slurm.run("scontrol", "ping")  # fails at once when the controller is down
    except SlurmError as err:
        first = str(err).splitlines()[0] if str(err) else "scontrol ping failed"
        return f"the Slurm cluster cannot be reached: {first}"
    return None


def _parse_jobcomp(line: str) -> dict[str, str]:
    """One `jobcomp/filetxt` record: space-separated key=value pairs."""
    return dict(p.split("=", 1) for p in line.split() if "=" in p)


def _age(iso: str) -> float:
    created = datetime.datetime.fromisoformat(iso)
    return (datetime.datetime.now(datetime.UTC) - created).total_seconds()


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _int(text: object) -> int:
    try:
        return int(str(text))
    except ValueError:
        return 0


def _without_terminal(args: list[str]) -> list[str]:
    """`run_argv`'s arguments without a terminal for the container (`container.tty`, 2022
    dialect): a batch job has none to give it (podman would warn in the job's log), and no
    one could attach to it on the node. The job's own arguments, after `--`, stay as they are."""
    end = args.index("--")
    options = [a for a in args[:end] if a not in ("--tty", "--interactive")]
    return options + args[end:]


def _srun(slurm_id: int, *argv: str, errors: bool = True) -> list[str]:
    """`argv` on a job's node, inside its allocation (a step beside the batch one); output
    unbuffered: exec and port forwarding are interactive. Without `errors`, srun keeps its
    own error lines (such as "task 0: Exited with exit code N") off the command's stderr."""
    quiet = ["--quiet"] if errors else ["--quiet", "--quiet"]
    return ["srun", f"--jobid={slurm_id}", "--overlap", *quiet, "--unbuffered", *argv]


def batch_script(
    podman: Podman,
    image: str,
    podman_args: list[str],
    job_dir: Path,
    volumes: tuple[list[str], list[str]] | None = None,
) -> str:
    """The batch script of a job. `podman_args` is the `run ...` argument list of
    `podman_cli.run_argv`; the script adds the cgroup nesting and the pid/cid files.
    `volumes`: the `stage` and `release` commands of `slurm_volumes.commands` (the script
    exports `node_python_env` for them), when the job has volumes.

    The container joins the Slurm job's cgroup (`--cgroups=no-conmon` keeps conmon there
    too), so Slurm's limits and `scancel` cover it; on TERM (scancel, time limit) the trap
    stops it within STOP_TIMEOUT, and the script waits for it before exiting. The volumes
    are pinned on the node right before `podman run` and released once the container is
    gone, whichever way it ended (a TERM while staging: released, nothing started).
    """
    q = shlex.quote
    env = podman.env(node_python_env() if volumes else None)
    exports = "".join(f"export {k}={q(v)}\n" for k, v in env.items())
    name = container_name(job_dir.name)
    run = ["run", "--cgroups=no-conmon", '--cgroup-parent="$cg"']
    run += ["--cidfile", q(str(job_dir / "cid")), "--pidfile", q(str(job_dir / "pid"))]
    run += ["--rm"] + [q(a) for a in podman_args[1:]]
    pod = q(podman.executable)
    stage = release = ""
    if volumes:
        release = " ".join(q(a) for a in volumes[1]) + " >/dev/null\n"
        stage = (
            f"if ! {' '.join(q(a) for a in volumes[0])}; then {release.strip()}; exit 1; fi\n"
            f'if [ -n "$stopped" ]; then {release.strip()}; exit 143; fi\n'
        )
    return f"""#!/bin/sh
# neuro-sync job {job_dir.name}: generated by neuro_sync/local/slurm_runtime.py
exec 2>&1
{exports}cd {q(str(job_dir))} || exit 1
mkdir -p -m 700 {q(str(podman.run_dir / "run"))} {q(str(podman.run_dir / "tmp"))}
rm -f exit exit.tmp pull-failed cid pid oom
if ! {pod} image exists {q(image)}; then
  if ! {pod} pull --quiet {q(image)} >/dev/null; then touch pull-failed; exit 1; fi
fi
cg="/slurm_${{SLURMD_NODENAME}}/uid_$(id -u)/job_${{SLURM_JOB_ID}}/step_batch"
stopped=
trap 'stopped=1; {pod} stop -t {STOP_TIMEOUT} {q(name)} >/dev/null 2>&1' TERM INT
{stage}{pod} {" ".join(run)} &
child=$!
while :; do
  wait $child; code=$?
  kill -0 $child 2>/dev/null || break
done
{release}rm -f env
echo $code > exit.tmp && mv exit.tmp exit
exit $code
"""


@dataclass
class _Job:
    slurm_id: int
    job_dir: Path
    submitted: float = field(default_factory=time.monotonic)
    state: str = "PENDING"
    reason: str = ""
    node: str = ""
    seen: bool = True  # in the last squeue listing (or its final state known)
    signalled: bool = False
    exit_seen: float | None = None  # monotonic time the `exit` file was first read
    usage: Usage = field(default_factory=Usage)
    refresh: asyncio.Task[None] | None = field(default=None, repr=False)


class SlurmRuntime:
    name = "slurm"
    schedules_jobs = True  # the runner does not queue: Slurm does (runner.py)

    def __init__(self, settings: Settings) -> None:
        self.data_dir = settings.data_dir
        self.partition: str | None = settings.slurm_partition
        self.account: str | None = settings.slurm_account
        self.slurm = Slurm(settings.slurm_conf)
        try:
            conf = self.slurm.config()
        except SlurmError as err:
            raise RuntimeError(f"the Slurm cluster cannot be reached: {err}") from None
        self.cluster = conf.get("ClusterName", "unknown")
        self.jobcomp = (
            Path(conf["JobCompLoc"]) if conf.get("JobCompType") == "jobcomp/filetxt" else None
        )
        gres = self.slurm.run("sinfo", "-h", "-o", "%G")
        self.has_gpus = any("gpu" in line for line in gres.splitlines())
        self.podman = platform_podman(settings)  # with --image-store, as the podman runtime
        self.podman.configure()
        if not self.podman.image_exists(BUILTIN_IMAGE) and BUSYBOX_BINARY.exists():
            build_busybox_image(self.podman, BUILTIN_IMAGE)
        version = self.podman.run("version", "--format", "{{.Client.Version}}", timeout=30)
        self.version = version.out.decode().strip() if version.code == 0 else "unknown"
        self._jobs: dict[str, _Job] = {}
        self._adopt: dict[str, int] = {}  # job id -> Slurm job found at recover, not yet started
        self._listing: asyncio.Task[None] | None = None
        self._listed_at = 0.0  # monotonic start of the last finished listing
        self._helpers: list[subprocess.Popen[bytes]] = []
        self._cancelled: set[int] = set()  # Slurm jobs this platform has scancelled
        # How long Slurm may take to end a cancelled job (its KillWait, then SIGKILL).
        self.kill_wait = float(_int(conf.get("KillWait", "30").split()[0]) or 30)
        self._oom = KernelOomLog()

    def describe(self) -> dict[str, Any]:
        return {
            "runtime": self.name,
            "isolation": "container",
            "cluster": self.cluster,
            "partition": self.partition,
            "podman": self.version,
            "network": "none (own loopback; ports reached through the platform)",
            "builtin_images": [BUILTIN_IMAGE],
        }

    def check(self, job: JobRecord) -> str | None:
        if job.extra.get("privileged"):  # 2022 dialect
            return (
                "privileged jobs are refused on the Slurm runtime: a privileged container is "
                "root on a shared node, outside the limits Slurm puts on the job"
            )
        return env_problem(job)

    # ------------------------------------------------------------------------ state

    def _refresh_soon(self) -> None:
        """Start a background `squeue --json` unless one is running or the last is fresh."""
        if self._listing is not None and not self._listing.done():
            return
        if time.monotonic() - self._listed_at < REFRESH_INTERVAL:
            return
        self._listing = asyncio.get_running_loop().create_task(self._list())

    async def _list(self) -> None:
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                "squeue",
                "--json",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self.slurm.env(),
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 30)
        except (OSError, TimeoutError):
            return
        if proc.returncode != 0:
            return  # the controller is away: states stay as they were
        self._update(_jobs_of(out.decode(errors="replace")), started)

    def _update(self, listing: list[dict[str, Any]], started: float) -> None:
        by_id = {int(j.get("job_id", 0)): j for j in listing}
        for run in self._jobs.values():
            if run.state in FINAL_STATES:
                continue
            j = by_id.get(run.slurm_id)
            if j is None:
                if run.submitted < started:  # listed after submission and still absent
                    self._final_from_jobcomp(run)
                continue
            run.state = str(j.get("job_state", "PENDING"))
            run.reason = str(j.get("state_reason", ""))
            run.node = str(j.get("batch_host") or j.get("nodes") or "")
        self._listed_at = started

    def _final_from_jobcomp(self, run: _Job) -> None:
        for record in self._jobcomp_records():
            if record.get("JobId") == str(run.slurm_id):
                run.state = record.get("JobState", "LOST")
                return
        run.state = "LOST"

    def _jobcomp_records(self) -> list[dict[str, str]]:
        if self.jobcomp is None:
            return []
        try:
            lines = self.jobcomp.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [_parse_jobcomp(line) for line in lines]

    # ------------------------------------------------------------------------ start

    def start(self, job: JobRecord, spec: JobSpec) -> None:
        run = self._jobs.get(job.id)
        if run is None:
            adopted = self._adopt.pop(job.id, None)
            slurm_id = adopted if adopted is not None else self._submit(job, spec)
            run = _Job(slurm_id=slurm_id, job_dir=spec.log_path.parent)
            self._jobs[job.id] = run
        self._refresh_soon()
        if (run.job_dir / "pid").exists() or (run.job_dir / "exit").exists():
            job.pid = run.slurm_id
            # Saved with the `running` status: once the job is pending again (a restart,
            # 2022 dialect), the Slurm jobs up to this one are attempts already counted.
            job.extra[SLURM_JOB_ID] = run.slurm_id
            return
        if run.state in FINAL_STATES:  # ended before its container started
            self._forget(job.id)
            if (run.job_dir / "pull-failed").exists():
                raise StartError("Image can not be pulled", reason=PULL_FAILED)
            if run.state in STATE_REASONS:
                code, reason = STATE_REASONS[run.state]
                raise StartError(f"Slurm: {run.state}", reason=reason)
            text = tail(spec.log_path).decode(errors="replace").strip()
            raise StartError(text or "The container could not start")
        if run.state == "PENDING":
            timeout = job.schedule_timeout or DEFAULT_SCHEDULE_TIMEOUT
            if _age(job.created_at) >= timeout:
                self._scancel(run)
                self._forget(job.id)
                raise StartError(
                    f"Failed to scale up the cluster to get more resources (Slurm: {run.reason})",
                    reason="ClusterScaleUpFailed",
                )
            reason = "ClusterScalingUp" if run.reason in _WAITING_FOR_ROOM else "Scheduling"
            raise NotReady(reason, f"Slurm: {run.reason or 'queued'}")
        raise NotReady(CREATING, f"Slurm: running on {run.node}" if run.node else None)

    def _submit(self, job: JobRecord, spec: JobSpec) -> int:
        """sbatch the job; its id. StartError when Slurm refuses it."""
        r = job.container["resources"]
        if r.get("gpu") and not self.has_gpus:
            raise StartError(
                f"The cluster {self.cluster} has no GPUs", reason="ClusterScaleUpFailed"
            )
        job_dir = spec.log_path.parent
        for name in ATTEMPT_FILES:  # a previous attempt's (a restart): never read as this one's
            with contextlib.suppress(FileNotFoundError):
                (job_dir / name).unlink()
        env_file = job_dir / "env"
        try:
            with open_private(env_file, "wb") as f:
                f.write(env_file_text(container_env(job, spec)).encode())  # as podman runtime
            volumes = job.container.get("volumes", [])
            for v in volumes:  # made and pinned on the node (slurm_volumes), checked here
                storage_path(self.data_dir, job.owner, v)
            mounts = self._mounts_dir(job.id)
            image = resolve_image(job.container["image"])
            args = _without_terminal(
                run_argv(
                    job,
                    image=image,
                    data_dir=self.data_dir,
                    env_file=env_file,
                    sources=[mounts / str(n) for n in range(len(volumes))],
                )
            )
        except (ValueError, OSError) as err:
            raise StartError(str(err)) from None
        open_private(spec.log_path).close()
        argv = [
            "sbatch",
            "--parsable",
            f"--job-name={job.id}",
            f"--output={spec.log_path}",
            f"--error={job_dir / 'slurm.err'}",
            "--open-mode=append",
            f"--chdir={job_dir}",
            "--nodes=1",
            "--ntasks=1",
            "--no-requeue",  # never run again by Slurm after a node failure: run once
            f"--cpus-per-task={max(1, math.ceil(float(r['cpu']) - 1e-9))}",
            f"--mem={int(r['memory_mb'])}M",
            f"--comment=neuro-sync job of {job.owner}",
        ]
        if r.get("gpu"):
            argv.append(f"--gres=gpu:{int(r['gpu'])}")
        if self.partition:
            argv.append(f"--partition={self.partition}")
        if self.account:
            argv.append(f"--account={self.account}")
        staging = commands(self.data_dir, mounts, job.owner, volumes) if volumes else None
        script = batch_script(self.podman, image, args, job_dir, staging)
        try:
            slurm_id = int(self.slurm.run(*argv, stdin=script.encode()).strip().split(";")[0])
        except (SlurmError, ValueError) as err:
            # An sbatch that timed out may have submitted (not an earlier attempt, ending).
            found = self._submitted_as(job.id, after=_int(job.extra.get(SLURM_JOB_ID)))
            if found is None:
                with contextlib.suppress(FileNotFoundError):
                    env_file.unlink()
                raise StartError(
                    f"Slurm refused the job: {err}", reason="ClusterScaleUpFailed"
                ) from None
            slurm_id = found
        (job_dir / "slurm_id").write_text(f"{slurm_id}\n")
        return slurm_id

    def _submitted_as(self, job_id: str, after: int = 0) -> int | None:
        """The live Slurm job named `job_id` with an id above `after`, if there is one."""
        try:
            listing = self.slurm.jobs()
        except SlurmError:
            return None
        for j in listing:
            live = str(j.get("job_state")) not in FINAL_STATES
            if j.get("name") == job_id and live and _int(j.get("job_id")) > after:
                return int(j["job_id"])
        return None

    # ------------------------------------------------------------------------ running

    def poll(self, job_id: str) -> int | None:
        run = self._jobs.get(job_id)
        if run is None:
            return None
        code = _read_int(run.job_dir / "exit")
        self._refresh_soon()
        if code is not None:
            # A failure's reason may be Slurm's (cancelled from outside, time limit, node
            # failure): wait a moment for Slurm's final state, which follows the file.
            if code == 0 or run.state in FINAL_STATES or run.signalled:
                return code
            run.exit_seen = run.exit_seen or time.monotonic()
            return code if time.monotonic() - run.exit_seen > FINAL_STATE_WAIT else None
        if run.state in FINAL_STATES:
            return STATE_REASONS.get(run.state, (1, "Error"))[0]
        return None

    def failure_reason(self, job_id: str, code: int) -> str:
        run = self._jobs.get(job_id)
        if run is None:
            return "Error"
        if run.state in STATE_REASONS and not run.signalled:
            return STATE_REASONS[run.state][1]  # Slurm ended the job: its reason wins
        if code in (126, 127) and b"OCI runtime" in tail(run.job_dir / "log"):
            return "ContainerCannotRun"
        if code == 137 and not run.signalled:
            if (run.job_dir / "oom").exists():
                return "OOMKilled"
            cid = (
                (run.job_dir / "cid").read_text().strip() if (run.job_dir / "cid").exists() else ""
            )
            if not self._oom.available or (cid and self._oom.oom_killed(cid)):
                return "OOMKilled"
        return "Error"

    def signal(self, job_id: str, sig: int) -> None:
        """Any signal cancels the Slurm job: SIGTERM reaches the batch script, whose trap
        stops the container; Slurm sends SIGKILL itself after its KillWait."""
        run = self._jobs.get(job_id)
        if run is None or run.signalled or run.state in FINAL_STATES:
            return
        run.signalled = True
        if sig != signal.SIGKILL:
            self._scancel(run)

    def _scancel(self, run: _Job) -> None:
        self._cancelled.add(run.slurm_id)
        self._helpers = [p for p in self._helpers if p.poll() is None]
        self._helpers.append(
            subprocess.Popen(
                ["scancel", str(run.slurm_id)],
                env=self.slurm.env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def sweep(self, job_id: str) -> None:
        run = self._jobs.get(job_id)
        if run is None:
            self._adopt.pop(job_id, None)
            return
        if run.state not in FINAL_STATES and not (run.job_dir / "exit").exists():
            self._scancel(run)
        self._forget(job_id)

    def _forget(self, job_id: str) -> None:
        run = self._jobs.pop(job_id, None)
        if run is not None and run.refresh is not None:
            run.refresh.cancel()
        self._release(job_id)

    def _mounts_dir(self, job_id: str) -> Path:
        """Where the node pins the job's volumes (`slurm_volumes`): in the platform's private
        podman state, as the podman runtime's, never in the job directory that `collect`
        deletes recursively."""
        return self.podman.state_dir / "jobs" / job_id / "mounts"

    def _release(self, job_id: str) -> None:
        """Unmount what the node's script could not (it was SIGKILLed): on a one-host
        cluster the node's mount table is ours; another node's leftovers go with its
        Slurm epilog (docs/cluster.md)."""
        mounts = self._mounts_dir(job_id)
        release_volumes(mounts)
        with contextlib.suppress(OSError):
            mounts.parent.rmdir()

    def _srun(self, run: _Job, *argv: str) -> list[str]:
        """Run `argv` on the job's node, inside its allocation (a step beside the batch one)."""
        return _srun(run.slurm_id, *argv)

    def telemetry(self, job_id: str) -> dict[str, float] | None:
        run = self._jobs.get(job_id)
        if run is None or (run.job_dir / "exit").exists():
            return None
        if run.usage.stale(STATS_INTERVAL) and (run.refresh is None or run.refresh.done()):
            run.refresh = asyncio.get_running_loop().create_task(self._sample(job_id, run))
        return run.usage.sample

    async def _sample(self, job_id: str, run: _Job) -> None:
        """One `podman stats` on the job's node."""
        argv = self._srun(
            run,
            *self.podman.argv("stats", "--no-stream", "--format", "json", container_name(job_id)),
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self.slurm.env(self.podman.env()),
            )
            try:
                out, _ = await asyncio.wait_for(proc.communicate(), 30)
            except (TimeoutError, asyncio.CancelledError):
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                raise
        except (OSError, TimeoutError):
            return
        run.usage.update(out)

    def exec_spec(self, job: JobRecord, argv: list[str]) -> ExecSpec:
        run = self._jobs.get(job.id)
        slurm_id = run.slurm_id if run is not None else job.pid or 0
        name = container_name(job.id)
        exec_argv = self.podman.argv("exec", "--interactive", name, *argv)
        tty_argv = self.podman.argv("exec", "--interactive", "--tty", "--env", "TERM", name, *argv)
        return ExecSpec(
            argv=_srun(slurm_id, *exec_argv, errors=False),
            env=self.slurm.env(self.podman.env()),
            # srun's own pseudo-terminal on the node, for podman's `--tty`
            tty_argv=_srun(slurm_id, "--pty", *tty_argv, errors=False),
        )

    def connect(self, job: JobRecord, port: int, timeout: float) -> socket.socket:
        """A relay on the job's node (`slurm_relay`, an srun step) bridges a socket pair to
        the container's port; it answers one byte once connected."""
        run = self._jobs.get(job.id)
        if run is None or (run.job_dir / "exit").exists():
            raise OSError(errno.ESRCH, "the job's container is not running")
        ours, theirs = socket.socketpair()
        argv = self._srun(
            run,
            sys.executable,  # the same path on every node (docs/cluster.md)
            "-m",
            "neuro_sync.local.slurm_relay",
            str(run.job_dir / "pid"),
            str(port),
        )
        try:
            proc = subprocess.Popen(
                argv,
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=subprocess.DEVNULL,
                env=self.slurm.env(node_python_env()),
                start_new_session=True,
            )
        finally:
            theirs.close()
        self._helpers.append(proc)
        ours.settimeout(timeout + 10)
        try:
            ok = ours.recv(1)
        except OSError:
            ok = b""
        if ok != b"\x00":
            ours.close()
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise OSError(errno.ECONNREFUSED, f"cannot connect to port {port} of the job")
        ours.settimeout(None)
        return ours

    def save(self, job: JobRecord, target: Path, image: str) -> tuple[str, int]:
        """`podman commit` on the job's node, into the (shared) image store."""
        run = self._jobs.get(job.id)
        if run is None:
            raise OSError(errno.ESRCH, "the job's container is not running")
        argv = self._srun(
            run, *self.podman.argv("commit", "--quiet", container_name(job.id), image)
        )
        done = subprocess.run(
            argv,
            env=self.slurm.env(self.podman.env()),
            capture_output=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise OSError(
                errno.EIO, f"commit failed: {done.stderr.decode(errors='replace').strip()}"
            )
        try:
            info = self.podman.run(
                "image", "inspect", "--format", "{{.Id}} {{.Size}}", image, timeout=60
            ).check("cannot read the saved image")
        except PodmanError as err:
            raise OSError(errno.EIO, str(err)) from None
        digest, size = info.out.decode().split()
        return digest, int(size)

    # ------------------------------------------------------------------------ restart, stop

    def recover(self, jobs: list[JobRecord]) -> set[str]:
        """Follow again the Slurm jobs of unfinished platform jobs (found by job name).

        Started jobs still in Slurm, or whose `exit` file is there, are followed (returned);
        a pending job already submitted is adopted, never submitted twice. A job pending
        again after a restart (2022 dialect) adopts only a Slurm job newer than its last
        started attempt (`SLURM_JOB_ID`, whose end its restart count includes): Slurm job ids
        only grow.
        """
        try:
            listing = self.slurm.jobs()
        except SlurmError:
            listing = []
        else:
            self._release_leftovers(listing)
        by_name: dict[str, list[dict[str, Any]]] = {}
        for j in listing:
            by_name.setdefault(str(j.get("name", "")), []).append(j)
        comp: dict[str, dict[str, str]] = {}
        for record in self._jobcomp_records():
            comp[record.get("Name", "")] = record  # the last record of a name wins
        followed: set[str] = set()
        for job in jobs:
            if job.finished:
                continue
            job_dir = self.data_dir / "jobs" / job.id
            counted = _int(job.extra.get(SLURM_JOB_ID, 0)) if job.pid is None else 0
            found = sorted(
                (j for j in by_name.get(job.id, []) if int(j.get("job_id", 0)) > counted),
                key=lambda j: int(j.get("job_id", 0)),
            )
            record = comp.get(job.id, {})
            slurm_id = _read_int(job_dir / "slurm_id")
            run: _Job | None = None
            if found:
                j = found[-1]
                run = _Job(slurm_id=int(j["job_id"]), job_dir=job_dir, submitted=0.0)
                run.state = str(j.get("job_state", "PENDING"))
                run.reason = str(j.get("state_reason", ""))
            elif _int(record.get("JobId")) > counted:
                run = _Job(slurm_id=int(record["JobId"]), job_dir=job_dir, submitted=0.0)
                run.state = record.get("JobState", "LOST")
            elif slurm_id is not None and slurm_id > counted:
                run = _Job(slurm_id=slurm_id, job_dir=job_dir, submitted=0.0, state="LOST")
            if run is None:
                continue  # never reached Slurm: submitted when the runner starts it
            if job.pid is None:
                if run.state in FINAL_STATES and not (job_dir / "exit").exists():
                    self._jobs[job.id] = run  # start() reports how it ended
                else:
                    self._adopt[job.id] = run.slurm_id
                continue
            self._jobs[job.id] = run
            followed.add(job.id)
        return followed

    def _release_leftovers(self, listing: list[dict[str, Any]]) -> None:
        """Volume mounts of jobs no longer in Slurm: their scripts were killed before they
        could release them (a live job's are left alone: its container may be starting)."""
        live = {str(j.get("name")) for j in listing if str(j.get("job_state")) not in FINAL_STATES}
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.podman.state_dir / "jobs"):
                if entry.name not in live:
                    self._release(entry.name)

    def stop(self, grace: float) -> None:
        """Leave the jobs to Slurm (the next start follows them again); release what is ours:
        once the jobs it has cancelled or seen end are gone from Slurm (within Slurm's
        KillWait), and no other job of this platform runs, podman's store is unmounted, as
        the podman runtime's stop does."""
        if self._listing is not None:
            self._listing.cancel()
        for run in self._jobs.values():
            if run.refresh is not None:
                run.refresh.cancel()
        for helper in self._helpers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                helper.wait(timeout=10)
            if helper.poll() is None:
                helper.kill()
        self._helpers.clear()
        self._oom.close()
        deadline = time.monotonic() + min(self.kill_wait + STOP_TIMEOUT, STOP_WAIT_MAX)
        while True:
            live = self._live_jobs(timeout=max(1.0, deadline - time.monotonic()))
            if live is None:
                return  # Slurm cannot tell: a container of ours may still use the store
            if not live and not self._podman_running():
                self.podman.release()
                return
            if not all(self._ending(j) for j in live) or time.monotonic() > deadline:
                return  # a job runs on: the store is its (the next start follows it)
            time.sleep(REFRESH_INTERVAL)

    def _podman_running(self) -> bool:
        """Whether a podman or conmon with this platform's configuration still runs here
        (a job script's, ending): it may mount the store again."""
        marker = f"CONTAINERS_CONF={self.podman.conf}"
        for proc in psutil.process_iter(["name"]):
            with contextlib.suppress(psutil.Error):
                if proc.info["name"] in ("podman", "conmon") and marker in process_environ(
                    proc.pid
                ):
                    return True
        return False

    def _live_jobs(self, timeout: float = 30.0) -> list[dict[str, Any]] | None:
        """The Slurm jobs of this platform (their directory under our data dir) that may
        still run a container; None when Slurm cannot tell."""
        try:
            listing = self.slurm.jobs(timeout=timeout)
        except SlurmError:
            return None
        ours = tuple({str(d / "jobs") + os.sep for d in (self.data_dir, self.data_dir.resolve())})
        return [
            j
            for j in listing
            if str(j.get("current_working_directory", "")).startswith(ours)
            and str(j.get("job_state")) not in FINAL_STATES
        ]

    def _ending(self, listed: dict[str, Any]) -> bool:
        """Whether a live Slurm job of ours is on its way out: cancelled here, or its
        container has exited (the batch script wrote `exit`)."""
        if _int(listed.get("job_id")) in self._cancelled:
            return True
        return (Path(str(listed.get("current_working_directory", ""))) / "exit").exists()
