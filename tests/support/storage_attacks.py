"""A job owner's storage under attack, for the container runtimes' security tests: another
job of the same owner swaps a directory of the storage for a symlink to a host directory
(issue 19, item 1). Plain functions, so tests/containers and tests/slurm share them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import neuro_sync
from neuro_sync import JobDescription, JobStatus, Volume
from neuro_sync.local import LocalPlatform


def storage(platform: LocalPlatform, client: neuro_sync.Client) -> Path:
    """The client's storage directory on the platform (made if missing)."""
    home = platform.data_dir / "storage" / client.username
    home.mkdir(parents=True, exist_ok=True)
    return home


def host_secret(tmp_path: Path) -> Path:
    """A host directory no job may see: a symlink to it is what an attacker plants."""
    secret = tmp_path / "host-only"
    secret.mkdir()
    (secret / "which").write_text("host\n")
    return secret


class Swap:
    """`<storage>/swap`, a directory of the job owner's storage that a volume names, and what
    another of the owner's jobs can do to it at any moment: `now()` moves it away and plants a
    symlink to a host directory in its place (once)."""

    def __init__(self, platform: LocalPlatform, client: neuro_sync.Client, tmp_path: Path):
        self.home = storage(platform, client)
        self.victim = self.home / "swap"
        self.victim.mkdir()
        (self.victim / "which").write_text("storage\n")
        self.secret = host_secret(tmp_path)
        self.volume = Volume(f"storage://{client.username}/swap", "/data", read_only=False)

    def now(self) -> None:
        if not self.victim.is_symlink():
            self.victim.rename(self.home / "swapped-away")
            self.victim.symlink_to(self.secret)


def log_of(client: neuro_sync.Client, job: JobDescription) -> bytes:
    with client.jobs.monitor(job.id) as stream:
        return b"".join(stream)


def race_to_swap(
    platform: LocalPlatform,
    client: neuro_sync.Client,
    tmp_path: Path,
    *,
    run: Callable[..., JobDescription],
    finished: Callable[[neuro_sync.Client, JobDescription], JobDescription],
    victims: int,
    before_victims: Callable[[JobDescription], Any] = lambda attacker: None,
) -> None:
    """A real job swaps `race/x` of its storage for a symlink to the host in a loop while
    `victims` jobs mount `race/x`: each of them either runs on the storage directory or
    fails to start; none sees the host. `run(client, command, volumes=...)` submits."""
    home = storage(platform, client)
    (home / "race" / "x").mkdir(parents=True)
    (home / "race" / "x" / "which").write_text("storage\n")
    secret = host_secret(tmp_path)
    swap = f"while true; do mv x y; ln -s {secret} x; rm x; mv y x; done"
    attacker = run(
        client,
        f"sh -c 'cd /s && {swap}'",
        volumes=[Volume(f"storage://{client.username}/race", "/s", read_only=False)],
    )
    try:
        before_victims(attacker)
        volume = Volume(f"storage://{client.username}/race/x", "/data", read_only=True)
        started = [run(client, "cat /data/which", volumes=[volume]) for _ in range(victims)]
        for victim in started:
            done = finished(client, victim)
            if done.status is JobStatus.SUCCEEDED:
                assert log_of(client, done) == b"storage\n"
            else:  # found a symlink on the way, or nothing: refused, or nothing to read
                assert b"host" not in log_of(client, done)
                assert "host" not in (done.history.description or "")
    finally:
        client.jobs.kill(attacker.id)
