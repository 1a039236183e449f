"""The local platform's cost of rendering a list of 10,000 jobs, in the server process.

    .venv/bin/python -m benchmarks.render [--code DIR] [--jobs N] [--repeat R] [--served]

Builds N job records shaped like the real platform's (env of ten variables, two volumes, a
history with three status changes, http on every third job, a name and tags on some) and
times, for each dialect, what a list reply costs per job besides the socket: the job object
(`JobRecord.to_wire`) and `json.dumps`. Beside it, the same objects through the generated
models as they are (`Job.from_dict(...).to_dict()`, openapi-python-client's attrs classes),
which is the alternative to the generated writer. The best of R runs, CPU time of this
process (`time.process_time`). `--code DIR` runs the same in a source tree DIR (an export of
an older commit) to compare.

`--served`: the same list end to end instead, from `neuro-sync-local` (of DIR) in a
subprocess: the platform process's CPU time (psutil; 10 ms resolution) for one `GET /jobs` of
N finished jobs (benchmarks/platform.py's records), the best of R, in each dialect.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def records(count: int, dialect: str) -> list[Any]:
    from neuro_sync.local.store import JobRecord

    out = []
    for i in range(count):
        container: dict[str, Any] = {
            "image": "registry.example/alice/trainer:v12",
            "command": "python train.py --epochs 30",
            "resources": {"cpu": 1.0, "memory_mb": 4096, "shm": True},
            "env": {f"VAR_{k}": f"value-{k}-{i}" for k in range(10)},
            "volumes": [
                {"src_storage_uri": "storage://alice/data", "dst_path": "/data", "read_only": True},
                {"src_storage_uri": "storage://alice/out", "dst_path": "/out", "read_only": False},
            ],
        }
        if i % 3 == 0:
            container["http"] = {"port": 8080, "health_check_path": "/", "requires_auth": True}
        extra: dict[str, Any] = {}
        if dialect == "2022":
            extra = {"tags": ["exp", f"run-{i % 7}"] if i % 2 else [], "restarts": 0}
        job = JobRecord(
            id=f"job-{i:08d}",
            owner="alice",
            container=container,
            created_at="2026-01-01T00:00:00+00:00",
            name=f"train-{i}" if i % 4 == 0 else None,
            description="a training run" if i % 5 == 0 else None,
            extra=extra,
        )
        job.set_status("running")
        job.set_status("succeeded", "Completed")
        job.exit_code = 0
        out.append(job)
    return out


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def measure(count: int, repeat: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for dialect in ("2019", "2022"):
        settings = SimpleNamespace(
            dialect=dialect, ssh_host="127.0.0.1", ssh_port=2222, jobs_domain="jobs.local"
        )
        jobs = records(count, dialect)

        def render(jobs: list[Any] = jobs, settings: Any = settings) -> None:
            for job in jobs:
                json.dumps(job.to_wire(settings))

        figures = {"to_wire_json_ms": round(best(render, repeat) * 1000, 1)}
        try:
            from neuro_sync_api.models.job import Job
        except ImportError:
            pass
        else:
            wires = [job.to_wire(settings) for job in jobs]

            def through_models(wires: list[dict[str, Any]] = wires) -> None:
                for wire in wires:
                    json.dumps(Job.from_dict(wire).to_dict())

            figures["models_json_ms"] = round(best(through_models, repeat) * 1000, 1)
        result[dialect] = figures
    return result


def measure_served(code: Path, count: int, repeat: int) -> dict[str, Any]:
    from benchmarks.platform import finished_records, platform, session

    result: dict[str, Any] = {}
    for dialect in ("2019", "2022"):
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "data"
            finished_records(data_dir, "alice", count, env_bytes=256)
            with platform(code, data_dir, "--dialect", dialect) as (url, proc):
                alice = session(code, data_dir, "alice")
                alice.get(f"{url}/jobs/job-none", timeout=60)  # warm up the handlers
                times = []
                for _ in range(repeat):
                    before = proc.cpu_times()
                    reply = alice.get(f"{url}/jobs", timeout=300)
                    after = proc.cpu_times()
                    reply.raise_for_status()
                    assert len(reply.json()["jobs"]) == count
                    times.append((after.user - before.user) + (after.system - before.system))
        result[dialect] = {"server_cpu_ms": round(min(times) * 1000)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--served", action="store_true")
    args = parser.parse_args()
    if args.served:
        code = (args.code or Path(__file__).resolve().parent.parent).resolve()
        print(json.dumps({"jobs": args.jobs, **measure_served(code, args.jobs, args.repeat)}))
        return
    if args.code is not None:
        code = args.code.resolve()
        env = {**os.environ, "PYTHONPATH": f"{code}:{code / 'generated'}"}
        # run_path, not the script's path: that would put benchmarks/ (and its platform.py,
        # which shadows the standard module) first on sys.path.
        run = "import runpy, sys; del sys.argv[0]; runpy.run_path(sys.argv[0], run_name='__main__')"
        argv = [sys.executable, "-c", run, __file__, "--jobs", str(args.jobs)]
        subprocess.run([*argv, "--repeat", str(args.repeat)], env=env, cwd=code, check=True)
        return
    print(json.dumps({"jobs": args.jobs, **measure(args.jobs, args.repeat)}))


if __name__ == "__main__":
    main()
