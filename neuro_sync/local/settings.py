"""`Settings`: how a local platform is configured (its own module, so that the runtimes can
name it without importing the application that uses them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .connections import DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, Limits, limits

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
    dialect: str = "2019"  # the wire spoken: "2019" or "2022" (dialect2022.py)
    life_span_minute: float = 60.0  # seconds in a `max_run_time_minutes` minute (tests: less)
    slurm_conf: Path | None = None  # the Slurm runtime's cluster; None: $SLURM_CONF or default
    slurm_partition: str | None = None
    slurm_account: str | None = None
    image_store: Path | None = None  # a host podman storage the podman runtime reads images from
    # Per-user limits and the log cap; None: the defaults of runner.py (docs/local-platform.md)
    max_pending_per_user: int | None = None
    max_jobs_per_user: int | None = None
    max_log_bytes: int | None = None
    # Connection limits (connections.py); None: derived from the open-files limit.
    max_connections: int | None = None  # the API
    max_proxy_connections: int | None = None  # all the jobs' http_url addresses together
    max_ssh_connections: int | None = None
    max_connections_per_client: int | None = None  # per client address; None: half the max
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    ingress_port: int = 0  # the port of the jobs' http_url addresses; 0: a free one

    def limits(self, kind: str) -> Limits:
        """The connection limits of the API ("api"), the http proxies or the SSH gateway."""
        maximum = {
            "api": self.max_connections,
            "proxy": self.max_proxy_connections,
            "ssh": self.max_ssh_connections,
        }[kind]
        return limits(
            kind, maximum, self.max_connections_per_client, self.header_timeout, self.idle_timeout
        )

    @property
    def registry_host(self) -> str:
        return self.registry_url.split("://", 1)[-1].split("/", 1)[0]
