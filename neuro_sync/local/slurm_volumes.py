"""`python -m neuro_sync.local.slurm_volumes stage|release ...`: a Slurm job's volumes, pinned
on its node.

The Slurm runtime's batch script runs it as root on the node Slurm picked, inside the Slurm
job: `stage` just before `podman run`, `release` once the container is gone (also after
`scancel` and at the time limit: the script's TERM trap stops the container first). It is the
podman runtime's own pinning (`podman_cli.stage_volumes`), done where the container's mounts
are made: a check on the platform's host at submission says nothing about what the node finds
later, when the job's storage may hold a symlink where a directory was.

    stage DATA_DIR MOUNTS_DIR OWNER VOLUMES_JSON   (exit 1, the reason on stderr: cannot run)
    release MOUNTS_DIR

The platform's Python runs it: its interpreter must be at the same path on every node (as for
port forwarding, `slurm_relay`), with the platform's packages (PYTHONPATH from the script).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .podman_cli import release_volumes, stage_volumes
from .store import JobRecord

__all__ = ["commands", "node_python_env"]


def node_python_env() -> dict[str, str]:
    """The environment that lets the platform's interpreter import the platform on a node."""
    return {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def commands(
    data_dir: Path, mounts_dir: Path, owner: str, volumes: Sequence[dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """The `stage` and `release` command lines of a job's volumes (run in `node_python_env`)."""
    python = [sys.executable, "-m", __name__]
    stage = [*python, "stage", str(data_dir), str(mounts_dir), owner, json.dumps(list(volumes))]
    return stage, [*python, "release", str(mounts_dir)]


def main(argv: list[str]) -> int:
    if argv[:1] == ["stage"] and len(argv) == 5:
        data_dir, mounts_dir, owner, volumes = argv[1:]
        job = JobRecord(
            id=Path(mounts_dir).parent.name,
            owner=owner,
            container={"volumes": json.loads(volumes)},
            created_at="",
        )
        try:
            stage_volumes(Path(data_dir), job, Path(mounts_dir))
        except (ValueError, OSError) as err:
            print(err, file=sys.stderr)
            return 1
        return 0
    if argv[:1] == ["release"] and len(argv) == 2:
        return 0 if release_volumes(Path(argv[1])) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
