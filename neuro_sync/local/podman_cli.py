"""Podman for the local platform: a private configuration, the CLI wrapper, the built-in image,
and the pure job -> `podman run` mapping.

Every platform has its own podman state: images and containers under `<data-dir>/podman/`,
volatile state (run root, temp dir, file locks, events) under `/run/neuro-sync/<hash of the
data dir>/` (conmon's sockets live there and must stay short: under a long data dir path
every container exit stalls for 20 s), and its own `containers.conf`, passed through
`CONTAINERS_CONF` and `CONTAINERS_STORAGE_CONF`: the user's global podman settings and
containers are never touched, and two platforms (or two tests) never share a lock or an
events file. With an image store (`--image-store`), a host podman storage is one of podman's
additional image stores: read, never written.

Volumes are pinned (`stage_volumes`): podman gets a mount point in the platform's private
state onto which the platform bind-mounted the volume's directory from a descriptor opened
without following symlinks, never a path in the storage, which a job could swap for a
symlink between any check and podman's own resolution of it. Chosen over handing podman
`/proc/<pid>/fd/N` (safe only while podman and runc never canonicalize a source path) and
over `openat2(RESOLVE_BENEATH)` through ctypes (the per-component O_NOFOLLOW walk of
`files.open_dir_beneath` does the same with the standard library).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from .files import NotBeneath, open_dir_beneath, private_dir
from .runtime import storage_path
from .store import JobRecord

__all__ = [
    "BUILTIN_IMAGE",
    "LABEL_JOB",
    "LABEL_OWNER",
    "Podman",
    "PodmanError",
    "build_busybox_image",
    "env_problem",
    "connect_in_netns",
    "container_name",
    "parse_duration",
    "parse_size",
    "resolve_image",
    "run_argv",
    "bind_source",
    "image_candidates",
    "release_volumes",
    "stage_volumes",
    "Usage",
]

LABEL_JOB = "io.neuro-sync.job"
LABEL_OWNER = "io.neuro-sync.owner"
# The one image the platform provides itself (no registry can be reached here): a real
# busybox, made from the host's static busybox binary. It answers to the name `busybox`.
BUILTIN_IMAGE = "docker.io/library/busybox:latest"
BUSYBOX_BINARY = Path("/bin/busybox")
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# What makes podman 4.3 work on a cgroup-v1 host as root without systemd (crun cannot set
# RLIMIT_NOFILE there and rejects hybrid cgroups), plus per-platform state so that
# platforms are independent of each other and of the user's podman.
_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
tmp_dir = {tmp}
"""
_STORAGE_CONF = """\
[storage]
driver = "overlay"
graphroot = {root}
runroot = {run}
[storage.options]
additionalimagestores = {stores}
"""


class PodmanError(Exception):
    """A podman command failed; the message is podman's own error text."""


@dataclass(frozen=True)
class Result:
    code: int
    out: bytes
    err: bytes

    def check(self, what: str) -> Result:
        if self.code != 0:
            text = self.err.decode(errors="replace").strip() or f"exit status {self.code}"
            raise PodmanError(f"{what}: {text}")
        return self


def volatile_dir(state_dir: Path) -> Path:
    """A short, per-platform directory for podman's volatile state."""
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:16]
    base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    return base / f"neuro-sync-{os.getuid()}" / digest


def _toml(path: Path) -> str:
    return json.dumps(str(path))  # a JSON string is a valid TOML basic string


class Podman:
    """The `podman` CLI bound to one platform's private configuration and storage."""

    def __init__(
        self, state_dir: Path, executable: str = "podman", *, image_store: Path | None = None
    ) -> None:
        """`image_store`: a host podman storage (a graphroot such as /var/lib/containers/
        storage) whose images are visible read-only, through podman's additional image
        stores; podman never writes there (pulls, commits and containers stay in ours)."""
        self.state_dir = state_dir
        self.image_store = image_store
        self.run_dir = volatile_dir(state_dir)
        self.executable = shutil.which(executable) or executable
        self.conf = state_dir / "containers.conf"
        self.storage_conf = state_dir / "storage.conf"

    @staticmethod
    def installed(executable: str = "podman") -> bool:
        return shutil.which(executable) is not None

    def configure(self) -> None:
        """Write the private configuration (idempotent)."""
        (self.state_dir / "root").mkdir(parents=True, exist_ok=True, mode=0o700)
        for path in (self.run_dir.parent, self.run_dir, self.run_dir / "run", self.run_dir / "tmp"):
            path.mkdir(exist_ok=True, mode=0o700)
        self.conf.write_text(_CONF.format(tmp=_toml(self.run_dir / "tmp")))
        stores = [] if self.image_store is None else [str(self.image_store.resolve())]
        self.storage_conf.write_text(
            _STORAGE_CONF.format(
                root=_toml(self.state_dir / "root"),
                run=_toml(self.run_dir / "run"),
                stores=json.dumps(stores),  # a JSON array of strings is a valid TOML array
            )
        )

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment podman runs with: ours, not the caller's."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(self.state_dir),
            "LANG": "C.UTF-8",
            "CONTAINERS_CONF": str(self.conf),
            "CONTAINERS_STORAGE_CONF": str(self.storage_conf),
        }
        if extra:
            env.update(extra)
        return env

    def argv(self, *args: str) -> list[str]:
        return [self.executable, *args]

    def run(self, *args: str, stdin: bytes | None = None, timeout: float = 60.0) -> Result:
        """Run a podman command to completion (blocking)."""
        try:
            done = subprocess.run(
                self.argv(*args),
                cwd=self.state_dir,  # where conmon may leave files
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                env=self.env(),
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Result(124, b"", f"podman {args[0]} timed out after {timeout} s".encode())
        except OSError as err:
            return Result(127, b"", f"cannot run podman: {err.strerror}".encode())
        return Result(done.returncode, done.stdout, done.stderr)

    async def arun(
        self,
        *args: str,
        timeout: float = 60.0,
        running: set[asyncio.subprocess.Process] | None = None,
    ) -> Result:
        """Run a podman command without blocking the event loop; while it runs its process
        is in `running`, for an owner that must kill it at once."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv(*args),
                cwd=self.state_dir,  # where conmon may leave files
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.env(),
            )
        except OSError as exc:
            return Result(127, b"", f"cannot run podman: {exc.strerror}".encode())
        if running is not None:
            running.add(proc)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            return Result(124, b"", f"podman {args[0]} timed out after {timeout} s".encode())
        except asyncio.CancelledError:  # no podman may outlive its caller (e.g. a stopped job)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise
        finally:
            if running is not None:
                running.discard(proc)
        return Result(proc.returncode or 0, out, err)

    def release(self) -> None:
        """Once no container runs: unmount what podman leaves mounted (the overlay driver
        bind-mounts its own directory), so the data dir can be deleted, and drop the volatile
        state."""
        # conmon runs `podman container cleanup` after a container exits, even one already
        # removed: it would mount the storage again behind our back.
        deadline = time.monotonic() + RELEASE_WAIT
        while self._helpers_running() and time.monotonic() < deadline:
            time.sleep(0.05)
        for path in (self.state_dir / "root" / "overlay", self.run_dir / "run" / "overlay"):
            unmount(path)  # a bind mount within one file system: os.path.ismount misses it
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def _helpers_running(self) -> bool:
        """Whether a conmon or podman process of this platform's state still runs."""
        marker = str(self.run_dir)
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if any(marker in arg for arg in proc.info["cmdline"] or ()):
                    return True
        return False

    def image_exists(self, image: str) -> bool:
        return self.run("image", "exists", "--", image, timeout=30).code == 0


# ---------------------------------------------------------------------------- images


def busybox_rootfs_tar(files: Mapping[str, bytes] | None = None) -> bytes:
    """A tar of a minimal busybox root file system (the host's static busybox + its applets),
    plus `files` (path -> content)."""
    binary = BUSYBOX_BINARY.read_bytes()
    listing = subprocess.run(
        [str(BUSYBOX_BINARY), "--list-full"], capture_output=True, check=True, timeout=10
    ).stdout.decode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:

        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "home", "var"):
            add_dir(d)
        add_dir("tmp", 0o1777)
        add_file("bin/busybox", binary, 0o755)
        for applet in sorted(set(listing.split())):
            if applet == "bin/busybox":
                continue
            info = tarfile.TarInfo(applet)
            info.type, info.linkname = tarfile.SYMTYPE, "/bin/busybox"
            tar.addfile(info)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n")
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        add_file(
            "etc/os-release",
            b'NAME="BusyBox"\nID=busybox\nPRETTY_NAME="BusyBox (neuro-sync local platform)"\n',
        )
        for name, data in (files or {}).items():
            add_file(name.lstrip("/"), data)
    return buf.getvalue()


def build_busybox_image(
    podman: Podman, name: str, files: Mapping[str, bytes] | None = None
) -> None:
    """Import a busybox image called `name` into the platform's storage (~0.3 s)."""
    podman.run(
        "import",
        "--quiet",
        "--change",
        'CMD ["/bin/sh"]',
        "--change",
        f"ENV PATH={IMAGE_PATH}",
        "-",
        name,
        stdin=busybox_rootfs_tar(files),
        timeout=60,
    ).check(f"cannot build the image {name}")


_DOMAIN_RE = re.compile(r"^[^/]*[.:][^/]*/|^localhost/")


def resolve_image(image: str) -> str:
    """The fully qualified name podman should use for the job's image.

    The client sends `image://user/name:tag` as `<registry host>/user/name:tag`, already
    qualified; a bare name is a Docker Hub name as on the real platform (`ubuntu` ->
    `docker.io/library/ubuntu:latest`), so local lookups never depend on podman's
    short-name settings.
    """
    if not _DOMAIN_RE.match(image):
        image = f"docker.io/{image}" if "/" in image else f"docker.io/library/{image}"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        image += ":latest"
    return image


def image_candidates(image: str) -> list[str]:
    """The names to look the job's image up by, in order; the last one is pulled if none
    exists. A name without a registry host may be an image built or tagged on this machine,
    which podman names `localhost/<name>`: that comes first, then the Docker Hub name."""
    qualified = resolve_image(image)
    if _DOMAIN_RE.match(image):
        return [qualified]
    path = qualified.split("/", 2)[2] if "/" not in image else qualified.split("/", 1)[1]
    return [f"localhost/{path}", qualified]


def container_name(job_id: str) -> str:
    return f"neuro-{job_id}"


def bind_source(data_dir: Path, owner: str, volume: dict[str, Any]) -> Path:
    """The host directory of a volume as it is now (the owner's storage, see `storage_path`),
    never outside it even through a symlink a job planted there.

    A check only: a path is resolved again by whoever uses it, after a job may have swapped
    a directory for a symlink. What is mounted is pinned by `stage_volumes`.
    """
    path = storage_path(data_dir, owner, volume)
    root = (data_dir / "storage" / owner).resolve()
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise ValueError(f"Invalid path: {volume['src_storage_uri']}")
    return resolved


# mount(2) and umount2(2) flags
_MS_RDONLY = 0x1
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000
_UMOUNT_NOFOLLOW = 0x8


def _libc_call(what: str, result: int) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def stage_volumes(data_dir: Path, job: JobRecord, mounts_dir: Path) -> list[Path]:
    """Bind-mount each volume's storage directory, pinned, onto `mounts_dir/<n>`; return
    those mount points, the sources to give podman (`run_argv(sources=...)`).

    Why: `podman run --mount src=PATH` resolves PATH (in podman, then in the OCI runtime)
    after any check of ours, so a job that owns the storage could swap a directory for a
    symlink in between and get a bind mount of any host directory. Here each directory is
    opened component by component without following symlinks (`open_dir_beneath`, creating
    what is missing the same way), and the descriptor, not a path, is bind-mounted (mount
    of `/proc/self/fd/N`, which names the open directory itself). The mount point lies in
    the platform's private state, where no job can change a component, so what podman
    resolves later is that directory whatever happens in the storage meanwhile. Read-only
    volumes are also read-only here. Needs CAP_SYS_ADMIN (root), like the podman runtime.

    Raises ValueError (a symlink or a file on the way: the job cannot run) or OSError.
    """
    private_dir(mounts_dir)
    libc = ctypes.CDLL(None, use_errno=True)
    sources = []
    try:
        for n, volume in enumerate(job.container.get("volumes", [])):
            parts = storage_path(data_dir, job.owner, volume).relative_to(data_dir).parts
            try:
                fd = open_dir_beneath(data_dir, parts, create=True)
            except NotBeneath as err:
                raise ValueError(f"Invalid path: {volume['src_storage_uri']} ({err})") from None
            try:
                target = mounts_dir / str(n)
                with contextlib.suppress(FileExistsError):
                    target.mkdir(mode=0o700)
                _libc_call(
                    "cannot mount a volume",
                    libc.mount(
                        f"/proc/self/fd/{fd}".encode(), str(target).encode(), None, _MS_BIND, None
                    ),
                )
                sources.append(target)
                if volume.get("read_only", True):
                    flags = _MS_BIND | _MS_REMOUNT | _MS_RDONLY
                    _libc_call(
                        "cannot make a volume read-only",
                        libc.mount(None, str(target).encode(), None, flags, None),
                    )
            finally:
                os.close(fd)
    except BaseException:
        release_volumes(mounts_dir)
        raise
    return sources


_MOUNTINFO_ESCAPE = re.compile(r"\\([0-7]{3})")


def is_mount_point(path: Path) -> bool:
    """Whether something is mounted on `path` (os.path.ismount misses a bind mount within
    one file system)."""
    wanted = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                point = _MOUNTINFO_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), line.split()[4])
                if point == wanted:
                    return True
    except OSError:
        return False
    return False


def unmount(path: Path) -> None:
    """Unmount (lazily, not following a symlink) every mount stacked on `path`: a crash, or
    two processes that each found it unmounted, may have mounted it twice."""
    libc = ctypes.CDLL(None, use_errno=True)
    for _ in range(_MAX_STACKED):
        if not is_mount_point(path):
            return
        if libc.umount2(str(path).encode(), _MNT_DETACH | _UMOUNT_NOFOLLOW) != 0:
            return


def release_volumes(mounts_dir: Path) -> bool:
    """Unmount and remove what `stage_volumes` made (also after a crash); True if all went.

    Never deletes recursively: a mount point that is still mounted is someone's storage.
    """
    try:
        names = os.listdir(mounts_dir)
    except FileNotFoundError:
        return True
    clean = True
    for name in names:
        target = mounts_dir / name
        unmount(target)
        try:
            target.rmdir()
        except OSError:
            clean = False
    with contextlib.suppress(OSError):
        mounts_dir.rmdir()
    return clean


def run_argv(
    job: JobRecord,
    *,
    image: str,
    data_dir: Path,
    env_file: Path,
    sources: Sequence[Path] | None = None,
) -> list[str]:
    """The `podman run` arguments (after `podman`) for a job: a pure function of the record.

    `sources`: the host directory bound for each volume, in order: the pinned mount points
    of `stage_volumes`. Without them the storage paths themselves are used (`bind_source`),
    which is safe only where no job can write the storage while the container starts.

    Kubernetes semantics for the command: `entrypoint` replaces the image's ENTRYPOINT (and
    drops its CMD), `command` replaces CMD; both are split like a shell. The job's variables
    travel in `env_file` (written by the caller), not on the command line, where any local
    user could read them. The network is `none`: the job has its own loopback and no route
    anywhere; the platform reaches its ports by entering its network namespace.

    Raises ValueError (the job cannot run) for an unsplittable command or a bad volume.
    """
    c = job.container
    r = c["resources"]
    try:
        entrypoint = shlex.split(c["entrypoint"]) if "entrypoint" in c else None
        command = shlex.split(c["command"]) if "command" in c else []
    except ValueError as err:
        raise ValueError(f"Cannot parse the command: {err}") from None
    memory = f"{int(r['memory_mb'])}m"
    argv = [
        "run",
        "--name",
        container_name(job.id),
        "--label",
        f"{LABEL_JOB}={job.id}",
        "--label",
        f"{LABEL_OWNER}={job.owner}",
        "--hostname",
        job.id,
        "--network",
        "none",
        "--pull",
        "never",
        "--stop-timeout",
        "3",
        "--memory",
        memory,
        "--memory-swap",
        memory,  # no swap: the limit is the job's RAM, as in a pod
        "--cpus",
        f"{float(r['cpu']):g}",
        "--env-file",
        str(env_file),
    ]
    if r.get("shm"):
        # The 2019 platform mounts a memory-backed /dev/shm bounded by the job's memory.
        argv += ["--shm-size", memory]
    volumes = c.get("volumes", [])
    if sources is not None and len(sources) != len(volumes):
        raise ValueError("one source per volume")
    for n, v in enumerate(volumes):
        src = sources[n] if sources is not None else bind_source(data_dir, job.owner, v)
        dst = v["dst_path"]
        if "," in str(src) or "," in dst:
            raise ValueError(f"A volume path cannot contain a comma: {dst}")
        ro = "true" if v.get("read_only", True) else "false"
        argv += ["--mount", f"type=bind,src={src},dst={dst},ro={ro}"]
    if c.get("working_dir"):  # 2022 dialect
        argv += ["--workdir", c["working_dir"]]
    if job.extra.get("privileged"):  # 2022 dialect: what rootful podman grants
        argv += ["--privileged"]
    if c.get("tty"):  # 2022 dialect: the caller runs this on the job's terminal
        argv += ["--tty", "--interactive"]
    if entrypoint is not None:
        argv += ["--entrypoint", json.dumps(entrypoint)]
    argv += ["--", image, *command]
    return argv


def env_file_text(env: Mapping[str, str]) -> str:
    """`--env-file` content. Podman reads it line by line, so a value cannot hold a newline."""
    lines = []
    for key, value in env.items():
        if "\n" in value or "\r" in value or "\n" in key or "=" in key:
            raise ValueError(f"The podman runtime cannot pass the variable {key!r}")
        lines.append(f"{key}={value}\n")
    return "".join(lines)


def process_environ(pid: int) -> list[str]:
    """A process's environment as `NAME=value` items (empty once it is gone): how the
    runtimes recognise the podman and conmon processes of their own platform."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().decode(errors="replace").split("\0")
    except OSError:
        return []


def env_problem(job: JobRecord) -> str | None:
    """Why a container runtime cannot pass the job's variables (`env_file_text`), or None:
    both container runtimes' `check` at submission."""
    try:
        env_file_text(job.container.get("env", {}))
    except ValueError as err:
        return str(err)
    return None


# ---------------------------------------------------------------------------- stats

_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_SIZE_UNITS.update({"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4})
_SIZE_RE = re.compile(r"^\s*([0-9.]+)\s*([a-zA-Z]*)\s*$")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0}
_DURATION_UNITS.update({"m": 60.0, "h": 3600.0})
_DURATION_RE = re.compile(r"([0-9.]+)(ns|us|µs|μs|ms|s|m|h)")


def parse_size(text: str) -> float:
    """Bytes of a podman size such as `708.6kB` (decimal units, as podman prints them)."""
    m = _SIZE_RE.match(text)
    if m is None or m.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"not a size: {text!r}")
    return float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()]


def parse_duration(text: str) -> float:
    """Seconds of a Go duration such as `1m2.5s` or `35.2ms`."""
    text = text.strip()
    if text in ("0", "0s"):
        return 0.0
    parts = _DURATION_RE.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * _DURATION_UNITS[u] for n, u in parts)


def parse_stats(data: Any) -> tuple[float, float, float] | None:
    """(cpu seconds used, cpu fraction podman reports, memory bytes) from `podman stats
    --no-stream --format json` output for one container, or None if it has none."""
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        return None
    row = data[0]
    try:
        cpu_time = parse_duration(str(row["cpu_time"]))
        percent = float(str(row.get("cpu_percent", "0")).rstrip("%") or 0) / 100.0
        memory = parse_size(str(row["mem_usage"]).split("/", 1)[0])
    except (KeyError, ValueError):
        return None
    return cpu_time, percent, memory


_ANSI = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Usage:
    """A job's latest `top` sample, from `podman stats` (both container runtimes)."""

    sample: dict[str, float] | None = None
    sampled_at: float = 0.0  # monotonic time of `sample`
    cpu_seen: tuple[float, float] | None = None  # (cpu seconds, monotonic time) of it

    def stale(self, interval: float) -> bool:
        return time.monotonic() - self.sampled_at >= interval

    def update(self, out: bytes) -> None:
        """Take one `podman stats --no-stream --format json` output of the job's container
        (kept as it was when the output has no sample)."""
        try:  # podman clears the screen first when it has a terminal (under srun)
            parsed = parse_stats(json.loads(_ANSI.sub(b"", out)))
        except ValueError:
            return
        if parsed is None:
            return
        cpu_time, percent, memory = parsed
        now = time.monotonic()
        if self.cpu_seen is not None and now > self.cpu_seen[1]:
            # Between two samples: what the job used since the last one, like `top`.
            percent = max(0.0, (cpu_time - self.cpu_seen[0]) / (now - self.cpu_seen[1]))
        self.cpu_seen, self.sampled_at = (cpu_time, now), now
        self.sample = {"cpu": percent, "memory": memory / (1024 * 1024), "timestamp": time.time()}


# ---------------------------------------------------------------------------- network

_CLONE_NEWNET = 0x40000000
_MNT_DETACH = 2
_MAX_STACKED = 8  # mounts stacked on one path that `unmount` undoes
RELEASE_WAIT = 10.0  # seconds to wait for podman's own clean-up processes at release


def connect_in_netns(pid: int, port: int, timeout: float) -> socket.socket:
    """A TCP connection to 127.0.0.1:`port` inside the network namespace of process `pid`.

    The calling thread enters the namespace only to create and connect the socket (setns
    affects one thread); the socket stays in that namespace after the thread returns. Run it
    in an executor thread, never on the event loop's thread. Needs CAP_SYS_ADMIN (root).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(target, _CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"cannot enter the job's network: {os.strerror(err)}")
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            finally:
                if libc.setns(own, _CLONE_NEWNET) != 0:  # pragma: no cover - cannot fail as root
                    os.abort()  # a thread stuck in a job's namespace must not serve anything
        finally:
            os.close(target)
    finally:
        os.close(own)
    sock.settimeout(None)
    return sock
