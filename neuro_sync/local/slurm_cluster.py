"""A private Slurm cluster on this one machine: N emulated nodes on 127.0.0.1, for tests and
for trying the Slurm runtime (docs/cluster.md).

Everything lives under one directory: its own munge key and `munged` (own socket), one
`slurmctld`, one `slurmd -N <node>` per node, each with its own free port, spool, log and
pid; `stop` ends them by pid and removes the directory. Node names carry a random prefix:
Slurm's cgroup paths are `/slurm_<node>/...`, shared by every cluster with the same node names.
Needs root and the Debian packages slurmctld, slurmd, slurm-client and munge.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

__all__ = ["LocalCluster", "cluster_unavailable"]

_PROGRAMS = ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol", "scancel", "srun")
START_TIMEOUT = 60.0


def cluster_unavailable() -> str | None:
    """Why a private cluster cannot start here (None: it can)."""
    if os.geteuid() != 0:
        return "a private Slurm cluster needs root"
    missing = [
        p for p in _PROGRAMS if shutil.which(p) is None and not Path(f"/usr/sbin/{p}").exists()
    ]
    if missing:
        return (
            f"Slurm/munge programs missing: {', '.join(missing)} "
            "(apt-get install slurmctld slurmd slurm-client munge)"
        )
    if not Path("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists():
        return "the private cluster's Slurm cgroup setup needs cgroup v1 (memory controller)"
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "no `munge` user (apt-get install munge)"
    return None


def _free_ports(count: int) -> list[int]:
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _program(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


class LocalCluster:
    """A running private cluster; `conf` is its slurm.conf (set `SLURM_CONF` to it)."""

    def __init__(
        self,
        nodes: int = 3,
        *,
        cpus: int = 2,
        memory_mb: int = 1000,
        partition: str = "main",
        base: Path | None = None,
    ) -> None:
        self.tag = "ns" + secrets.token_hex(3)
        self.name = f"{self.tag}cl"
        self.partition = partition
        self.nodes = [f"{self.tag}n{i + 1}" for i in range(nodes)]
        self.cpus, self.memory_mb = cpus, memory_mb
        # munged refuses a key or socket below a group/world-writable or untraversable dir.
        self.dir = Path(tempfile.mkdtemp(prefix="neuro-slurm-", dir=base or tempfile.gettempdir()))
        self.dir.chmod(0o711)
        self.conf = self.dir / "slurm.conf"
        self.munge_socket = self.dir / "munge" / "socket"
        self.jobcomp = self.dir / "jobcomp.txt"
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        """What a Slurm command needs to talk to this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def start(self) -> LocalCluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        munge = pwd.getpwnam("munge")
        mdir = self.dir / "munge"
        mdir.mkdir(mode=0o711)
        os.chown(mdir, munge.pw_uid, munge.pw_gid)
        key = mdir / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        os.chown(key, munge.pw_uid, munge.pw_gid)
        key.chmod(0o400)
        self._spawn(
            [
                _program("munged"),
                "--foreground",
                f"--key-file={key}",
                f"--socket={self.munge_socket}",
                f"--pid-file={mdir / 'munged.pid'}",
                f"--log-file={mdir / 'munged.log'}",
                f"--seed-file={mdir / 'munged.seed'}",
            ],
            user=munge.pw_uid,
            group=munge.pw_gid,
        )
        self._wait(lambda: self.munge_socket.exists(), "munged")
        ports = _free_ports(1 + len(self.nodes))
        (self.dir / "state").mkdir()
        for node in self.nodes:
            (self.dir / "spool" / node).mkdir(parents=True)
        self.conf.write_text(self._slurm_conf(ports))
        (self.dir / "cgroup.conf").write_text(
            "CgroupPlugin=cgroup/v1\nConstrainCores=yes\nConstrainRAMSpace=yes\n"
        )
        self._spawn([_program("slurmctld"), "-D", "-i"], log="slurmctld.out")
        for node in self.nodes:
            self._spawn([_program("slurmd"), "-D", "-N", node], log=f"slurmd-{node}.out")
        self._wait(self._all_idle, "all nodes idle")

    def _slurm_conf(self, ports: list[int]) -> str:
        d = self.dir
        host = socket.gethostname().split(".")[0]
        lines = [
            f"ClusterName={self.name}",
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={ports[0]}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={d / 'state'}",
            f"SlurmdSpoolDir={d / 'spool'}/%n",
            f"SlurmctldPidFile={d / 'slurmctld.pid'}",
            f"SlurmdPidFile={d}/slurmd-%n.pid",
            f"SlurmctldLogFile={d / 'slurmctld.log'}",
            f"SlurmdLogFile={d}/slurmd-%n.log",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "ProctrackType=proctrack/cgroup",
            "TaskPlugin=task/cgroup,task/affinity",
            "JobAcctGatherType=jobacct_gather/cgroup",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/filetxt",
            f"JobCompLoc={self.jobcomp}",
            "ReturnToService=2",
            "MailProg=/bin/true",
            "SchedulerParameters=sched_min_interval=0,batch_sched_delay=0",
            "MinJobAge=600",
            "KillWait=15",  # more than the container's stop timeout (slurm_runtime.py)
            "SlurmdTimeout=30",
        ]
        for node, port in zip(self.nodes, ports[1:], strict=True):
            lines.append(
                f"NodeName={node} NodeAddr=127.0.0.1 NodeHostname={host} Port={port} "
                f"CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN"
            )
        lines.append(
            f"PartitionName={self.partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
        )
        return "\n".join(lines) + "\n"

    def _spawn(
        self,
        argv: list[str],
        log: str | None = None,
        user: int | None = None,
        group: int | None = None,
    ) -> None:
        out = open(self.dir / log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._procs.append(
                subprocess.Popen(
                    argv,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    cwd=self.dir,
                    user=user,
                    group=group,
                    start_new_session=True,
                )
            )
        finally:
            if log:
                out.close()  # type: ignore[union-attr]

    def _wait(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            for proc in self._procs:
                if proc.poll() is not None:
                    name = Path(str(proc.args[0])).name  # type: ignore[index]
                    raise RuntimeError(
                        f"{name} exited ({proc.returncode}) waiting for {what}: see {self.dir}"
                    )
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}: see {self.dir}")
            time.sleep(0.05)

    def _all_idle(self) -> bool:
        done = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%N %t"],
            env=self.env,
            capture_output=True,
            timeout=30,
            check=False,
        )
        states = dict(line.split() for line in done.stdout.decode().splitlines() if line.strip())
        return all(states.get(node) == "idle" for node in self.nodes)

    def cancel_all(self, timeout: float = 60.0) -> None:
        """Cancel every job of the cluster and wait until none is left on a node."""
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                ["scancel", f"--user={os.getuid()}"],
                env=self.env,
                capture_output=True,
                check=False,
                timeout=30,
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                left = subprocess.run(
                    ["squeue", "-h", "-t", "PENDING,RUNNING,COMPLETING,CONFIGURING", "-o", "%i"],
                    env=self.env,
                    capture_output=True,
                    check=False,
                    timeout=30,
                )
                if left.returncode != 0 or not left.stdout.strip():
                    return
                time.sleep(0.2)

    def stop(self) -> None:
        """Cancel the jobs, end every daemon (by pid: SIGTERM, SIGKILL after 10 s) and remove
        the directory."""
        if self._procs:
            self.cancel_all()
        for proc in reversed(self._procs):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._procs.clear()
        self._kill_leftovers()
        self._remove_cgroups()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _kill_leftovers(self) -> None:
        """A job step (slurmstepd detaches from slurmd) that outlived the cancel: by its
        working directory, which it inherits from our slurmd."""
        for proc in psutil.process_iter(["name", "cwd"]):
            with contextlib.suppress(psutil.Error):
                cwd = proc.info["cwd"] or ""
                if proc.info["name"] == "slurmstepd" and cwd.startswith(str(self.dir)):
                    proc.kill()

    def _remove_cgroups(self) -> None:
        """The per-node cgroup trees slurmd made (`/slurm_<node>` in each v1 hierarchy)."""
        root = Path("/sys/fs/cgroup")
        for node in self.nodes:
            for tree in sorted(root.glob(f"*/slurm_{node}"), reverse=True):
                for sub in sorted(tree.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                    if sub.is_dir():
                        with contextlib.suppress(OSError):
                            sub.rmdir()
                with contextlib.suppress(OSError):
                    tree.rmdir()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
