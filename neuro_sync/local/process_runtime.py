"""The process runtime: a job is a local process tree, started in its own session.

Isolation (when the platform runs as root): each platform user's jobs run as an unprivileged
uid of their own (no passwd entry needed: a block of 65536 uids chosen from the data dir), in
a working directory (0700, owned by that uid) under a jobs root outside the data dir, which is
private to the platform. So a job cannot read the platform's secrets, database, logs or
images, nor another user's job directories or process environments. Not root: jobs run as the
platform's own user, and the platform says so (a warning, and `/config`).

Every process of a job carries `NEURO_LOCAL_JOB=<job id>` in its environment (inherited by
whatever it starts, whatever session or group it moves to), so the runtime finds them all in
/proc to signal them at a kill, and to end what is left at the job's end, at stop and after a
restart. A process that drops the variable from its environment when it execs escapes this;
only a container runtime's cgroup closes that (see docs/local-platform.md).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import psutil

from . import listeners
from .files import open_private, private_dir
from .runtime import JOB_MARKER, ExecSpec, JobSpec, StartError, job_env
from .store import JobRecord
from .terminal import JobTerminal

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger("neuro_sync.local")

UID_BLOCK = 0x10000
FIRST_UID_BLOCK = 0x4000  # uids from 2**30 up: far above any distribution's own
UID_BLOCKS = 0x3FFF  # ... and below 2**31
NOBODY = 65534
UIDS_FILE = "job-uids.json"
SAVE_TIMEOUT = 600.0


def default_jobs_root(data_dir: Path) -> Path:
    """Where jobs' working directories go unless configured: outside the (private) data dir,
    in the temporary directory every uid can traverse; one per data dir."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"neuro-sync-jobs-{os.geteuid()}-{digest}"


def uid_block(data_dir: Path) -> int:
    """The first uid of this platform's block: two platforms on a machine rarely share one."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).digest()
    return (FIRST_UID_BLOCK + int.from_bytes(digest[:8], "big") % UID_BLOCKS) * UID_BLOCK


def _uids_mapped(first: int, count: int) -> bool:
    """The uids can be used here (a user namespace may map only some)."""
    try:
        lines = Path("/proc/self/uid_map").read_text().splitlines()
    except OSError:
        return True  # no user namespaces: every uid exists
    for line in lines:
        inside, _, length = (int(x) for x in line.split())
        if inside <= first and first + count <= inside + length:
            return True
    return False


def _isolation(settings: Settings) -> tuple[str, str | None]:
    """("uid-per-user" | "shared-uid" | "none", why not better)."""
    if settings.isolate is False:
        return "none", "isolation is turned off (isolate=False)"
    if os.geteuid() != 0:
        if settings.isolate:
            raise RuntimeError("isolate=True needs the platform to run as root")
        return "none", "the platform does not run as root, so jobs run as its own user"
    if _uids_mapped(uid_block(settings.data_dir), UID_BLOCK):
        return "uid-per-user", None
    if _uids_mapped(NOBODY, 1):
        return "shared-uid", f"job uids are not mapped here: every job runs as {NOBODY}"
    return "none", "no unprivileged uid is mapped here, so jobs run as root"


@dataclass
class _Job:
    proc: subprocess.Popen[bytes]
    log: BinaryIO
    ps: psutil.Process | None = None
    children: dict[int, psutil.Process] = field(default_factory=dict)
    terminal: JobTerminal | None = None  # a 2022 job with `container.tty`


class ProcessRuntime:
    name = "process"

    def __init__(self, settings: Settings) -> None:
        self.data_dir = settings.data_dir
        self.isolation, self.why_not = _isolation(settings)
        self.jobs_root = settings.jobs_root or default_jobs_root(settings.data_dir)
        isolated = self.isolation != "none"
        if isolated and self.jobs_root.resolve().is_relative_to(self.data_dir.resolve()):
            raise ValueError("the jobs root must be outside the data dir, which is private")
        _make_jobs_root(self.jobs_root, isolated)
        self._uid_base = uid_block(settings.data_dir)
        self._uids: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError):
            self._uids = dict(json.loads((self.data_dir / UIDS_FILE).read_text()))
        self._jobs: dict[str, _Job] = {}
        self._verified: dict[str, set[int]] = {}  # listener inodes known to be a job's
        if self.why_not:
            log.warning("jobs are not isolated: %s", self.why_not)
        if settings.image_store is not None:
            log.warning("the process runtime uses no image: the image store is ignored")

    def work_dir(self, job_id: str) -> Path:
        """The job's working directory (and HOME)."""
        return self.jobs_root / job_id

    def uid(self, user: str) -> int | None:
        """The uid (and gid) a user's jobs run as; None: the platform's own."""
        if self.isolation == "none":
            return None
        if self.isolation == "shared-uid":
            return NOBODY
        uid = self._uids.get(user)
        if uid is None:
            uid = max(self._uids.values(), default=self._uid_base) + 1
            while _uid_known(uid):
                uid += 1
            self._uids[user] = uid
            with open_private(self.data_dir / f"{UIDS_FILE}.tmp", "wb") as f:
                f.write(json.dumps(self._uids).encode())
            os.replace(self.data_dir / f"{UIDS_FILE}.tmp", self.data_dir / UIDS_FILE)
        return uid

    def describe(self) -> dict[str, Any]:
        part: dict[str, Any] = {"runtime": self.name, "isolation": self.isolation}
        if self.why_not:
            part["note"] = self.why_not
        return part

    def check(self, job: JobRecord) -> str | None:
        if job.extra.get("privileged"):  # 2022 dialect
            return "privileged jobs need a container runtime (the process runtime has none)"
        if job.container.get("volumes"):
            # Without a mount namespace nothing can appear at the job's dst_path; rather
            # than ignore the volumes, refuse the job.
            return (
                "volumes need a container runtime: the process runtime cannot mount storage "
                "at a job's dst_path (submit without volumes)"
            )
        return None

    def start(self, job: JobRecord, spec: JobSpec) -> None:
        if not spec.argv:
            raise StartError("No command: the local platform has no image to take a default from")
        work = self.work_dir(job.id)
        uid = self.uid(job.owner)
        with contextlib.suppress(FileExistsError):
            work.mkdir(mode=0o700)
        if uid is not None:
            os.chown(work, uid, uid, follow_symlinks=False)
        log_file = open_private(spec.log_path)
        env = _for_uid({"HOME": str(work), **spec.env, JOB_MARKER: job.id}, uid)
        # A 2022 job may name its directory; on this machine's filesystem, as it is.
        cwd = job.container.get("working_dir") or work
        terminal = None
        try:
            if job.container.get("tty"):
                terminal = JobTerminal(spec.argv, log=log_file, cwd=cwd, env=env, user=uid)
                proc = terminal.proc
            else:
                proc = subprocess.Popen(
                    spec.argv,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    user=uid,
                    group=uid,
                    extra_groups=None if uid is None else [],
                )
        except OSError as err:
            log_file.close()
            self._discard(work)
            raise StartError(f"Cannot start {spec.argv[0]!r}: {err.strerror}") from None
        except ValueError as err:  # NUL bytes, unencodable text, `=` in an env name
            log_file.close()
            self._discard(work)
            raise StartError(f"Cannot start {spec.argv[0]!r}: {err}") from None
        job.pid = proc.pid
        ps = None
        with contextlib.suppress(psutil.Error):
            ps = psutil.Process(proc.pid)
            ps.cpu_percent(None)
        self._jobs[job.id] = _Job(proc=proc, log=log_file, ps=ps, terminal=terminal)

    def poll(self, job_id: str) -> int | None:
        run = self._jobs.get(job_id)
        if run is None:
            return None
        code = run.proc.poll()
        if code is not None and run.terminal is not None and run.terminal.holds_exit():
            return None
        return code

    def terminal(self, job_id: str) -> JobTerminal | None:
        run = self._jobs.get(job_id)
        return None if run is None else run.terminal

    def failure_reason(self, job_id: str, code: int) -> str:
        return "Error"

    def signal(self, job_id: str, sig: int) -> None:
        run = self._jobs.get(job_id)
        if run is None:
            return
        if run.proc.poll() is None:
            _killpg(run.proc.pid, sig)
        for pid in marked_processes({job_id}):
            _kill(pid, sig)

    def sweep(self, job_id: str) -> None:
        self._verified.pop(job_id, None)
        run = self._jobs.pop(job_id, None)
        if run is not None:
            # The group id cannot be reused while any member lives, so this hits only the job.
            _killpg(run.proc.pid, signal.SIGKILL)
        end_marked({job_id})
        if run is not None:
            if run.proc.poll() is None:
                run.proc.wait()
            if run.terminal is not None:
                run.terminal.close()
            run.log.close()
        self._discard(self.work_dir(job_id))

    def _discard(self, work: Path) -> None:
        """Remove a job's directory: renamed away at once (the name is free, nothing of it is
        reachable by it), deleted in a thread (a job may leave millions of files; the event
        loop must not wait). A restart deletes what a stop cut short."""
        trash = work.with_name(f"{TRASH}{work.name}")
        try:
            os.rename(work, trash)
        except FileNotFoundError:
            return
        threading.Thread(target=remove_tree, args=(trash,), daemon=True).start()

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
        uid = self.uid(job.owner)
        env = _for_uid({**job_env(job, str(work)), JOB_MARKER: job.id}, uid)
        return ExecSpec(argv=argv, env=env, cwd=work, user=uid, group=uid)

    def save(self, job: JobRecord, target: Path, image: str) -> tuple[str, int]:
        # tar runs as the job's user: a symlink the job planted reads nothing it could not
        # (tar stores symlinks as such; it never follows one in the tree). It carries the
        # job's marker, so a restart after a crash ends a tar left running.
        uid = self.uid(job.owner)
        private_dir(target.parent)
        partial = target.with_name(f".{target.name}{PARTIAL}")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C", JOB_MARKER: job.id}
        with open_private(partial, "wb") as out:
            done = subprocess.run(
                ["tar", "-C", str(self.work_dir(job.id)), "-czf", "-", "."],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.PIPE,
                user=uid,
                group=uid,
                extra_groups=None if uid is None else [],
                timeout=SAVE_TIMEOUT,
                check=False,
            )
        if done.returncode not in (0, 1):  # 1: a file changed while it was read
            partial.unlink(missing_ok=True)
            raise OSError(done.stderr.decode(errors="replace").strip() or "tar failed")
        os.replace(partial, target)
        digest = hashlib.sha256()
        with open(target, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest(), target.stat().st_size

    def connect(self, job: JobRecord, port: int, timeout: float) -> socket.socket:
        # Jobs share the host's network, so anyone may listen on this port: connect only if
        # every listener a connection can reach is the job's, before and after connecting
        # (a listener replaced in between has another inode).
        before = self._own_listeners(job, port)
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if listeners.listening(port) != before:
            sock.close()
            raise OSError(errno.EAGAIN, f"the listener on port {port} changed")
        sock.settimeout(None)
        return sock

    def _own_listeners(self, job: JobRecord, port: int) -> frozenset[int]:
        found = listeners.listening(port)
        if not found:
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"nothing listens on port {port}")
        verified = self._verified.setdefault(job.id, set())
        unknown = found - verified
        if unknown:
            run = self._jobs.get(job.id)
            pids = marked_processes({job.id}) + ([run.proc.pid] if run is not None else [])
            if not unknown <= listeners.held_by(pids):
                log.debug("job %s: port %s is another program's", job.id, port)
                raise OSError(errno.EACCES, f"port {port} is not the job's: another program's")
            verified |= unknown
        return found

    def recover(self, jobs: list[JobRecord]) -> None:
        # Whatever still carries the id of one of our jobs was left by a previous server
        # (job ids are UUIDs: another platform's jobs never match): processes, a save's tar.
        ids = {job.id for job in jobs}
        end_marked(ids)
        # Their working directories (no job runs yet; only our jobs' names are touched, in
        # case the jobs root is shared), and the half-written archives of saves.
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.jobs_root):
                if entry.name.removeprefix(TRASH) in ids:
                    remove_tree(Path(entry.path))
        remove_partials(self.data_dir / "images")

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


PARTIAL = ".partial"  # the suffix of a file being written; os.replace()d when complete
TRASH = ".removing-"  # the prefix of a job's directory being deleted


def remove_tree(path: Path) -> None:
    """Delete a job's directory without following any symlink in it (shutil.rmtree's
    descriptor-based walk on Linux: a symlink is removed, never entered)."""
    assert shutil.rmtree.avoids_symlink_attacks
    shutil.rmtree(path, ignore_errors=True)


def remove_partials(root: Path) -> None:
    """Delete what a killed server left half-written under `root` (not following links)."""
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(PARTIAL):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder, name))


def _make_jobs_root(path: Path, isolated: bool) -> None:
    """The jobs root: the platform's, traversable (not listable) by job uids when isolated."""
    mode = 0o711 if isolated else 0o700
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=mode, parents=True)
    st = os.lstat(path)
    # In a shared temporary directory someone else may have made it first.
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise RuntimeError(f"{path} is not a directory of the platform's user")
    os.chmod(path, mode)


def _for_uid(env: dict[str, str], uid: int | None) -> dict[str, str]:
    """Drop the PATH entries a job's uid cannot search (the server's private ones, such as
    root's home): a missing program must fail as missing, not as "permission denied"."""
    if uid is None or "PATH" not in env:
        return env
    usable = [d for d in env["PATH"].split(os.pathsep) if d and _searchable_by_others(Path(d))]
    return {**env, "PATH": os.pathsep.join(usable)}


def _searchable_by_others(path: Path) -> bool:
    try:
        return all(os.stat(p).st_mode & 0o001 for p in (path, *path.parents))
    except OSError:
        return False


def _uid_known(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


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
