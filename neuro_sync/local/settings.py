"""`Settings`: how a local platform is configured (its own module, so that the runtimes can
name it without importing the application that uses them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]


@dataclass
class Settings:
    data_dir: Path
    registry_url: str = "http://registry.localhost"
    jobs_domain: str = "jobs.localhost"
    ssh_host: str = "127.0.0.1"
    ssh_port: int = 0
    base_url: str = ""  # set once the port is known
    runtime: str = "process"  # what runs the jobs: see runtime.py
    cpus: float | None = None  # capacity shared by the running jobs; None: this machine's
    memory_mb: int | None = None
    jobs_root: Path | None = None  # where jobs' working directories go (see process_runtime)
    isolate: bool | None = None  # None: isolate jobs when possible; False: never; True: must
    slurm_conf: Path | None = None  # the Slurm runtime's cluster; None: $SLURM_CONF or default
    slurm_partition: str | None = None
    slurm_account: str | None = None
    image_store: Path | None = None  # a host podman storage the podman runtime reads images from
    # Per-user limits and the log cap; None: the defaults of runner.py (docs/local-platform.md)
    max_pending_per_user: int | None = None
    max_jobs_per_user: int | None = None
    max_log_bytes: int | None = None

    @property
    def registry_host(self) -> str:
        return self.registry_url.split("://", 1)[-1].split("/", 1)[0]
