"""The measurements of issue #14's second round, each in a fresh child process.

    python -m benchmarks.extra memory  --client ours|bare --url U --token T
    python -m benchmarks.extra stream  --url U --token T --expect N
    python -m benchmarks.extra threads --client ours|bare --url U --token T --calls N

* memory   the memory a list of jobs retains, the process warmed up with one status call:
           the RSS growth after `gc.collect()` of a first `list()`, then tracemalloc's traced
           bytes of a second one, each held while measuring. The 2019 SDK's twin is
           `benchmarks.peer_sdk memory`.
* stream   `jobs.iter()` to the end: the jobs seen, seconds to the first job and to the last,
           and the peak RSS growth meanwhile (`PeakRss`).
* threads  status calls three ways: one thread (the baseline), N threads sharing one client,
           N threads with a client each. Calls/s, CPU seconds per call (`process_time`, all
           threads), connections the stub accepted, and "Connection pool is full" warnings.

Each prints one JSON line; `benchmarks.run` starts them and compares.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks._measure import PeakRss, current_rss, server_stats, stats_delta
from benchmarks.stub_server import DEFAULT_SEED, job_ids


def retained(make: Callable[[], Sequence[object]]) -> dict[str, Any]:
    """What the result of `make()` keeps alive: the RSS growth after GC of a first call (the
    process warmed up without it), then tracemalloc's traced bytes of a second call."""
    gc.collect()
    rss_before = current_rss() or 0
    kept = make()
    gc.collect()
    rss_growth = (current_rss() or 0) - rss_before
    count = len(kept)
    del kept
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept = make()
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del kept
    return {"count": count, "traced_bytes": traced, "rss_growth": rss_growth}


def _list_function(client: str, url: str, token: str) -> tuple[Callable[[], list[Any]], Any]:
    if client == "ours":
        import neuro_sync

        ours = neuro_sync.Client(url=url, token=token)
        return ours.jobs.list, ours
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def bare() -> list[Any]:
        jobs: list[Any] = session.get(f"{url}/jobs").json()["jobs"]
        return jobs

    return bare, session


def memory(args: argparse.Namespace) -> dict[str, Any]:
    make, owner = _list_function(args.client, args.url, args.token)
    status, _ = _status_function(args.client, args.url, args.token, owner)
    status(job_ids(1, DEFAULT_SEED)[0])  # warm-up: /config and the connection, no list yet
    result = retained(make)
    owner.close()
    return result


def stream(args: argparse.Namespace) -> dict[str, Any]:
    import neuro_sync

    client = neuro_sync.Client(url=args.url, token=args.token)
    client.jobs.status(job_ids(1, DEFAULT_SEED)[0])  # warm-up: /config and the connection
    count = 0
    first: float | None = None
    with PeakRss() as rss:
        start = time.perf_counter()
        with client.jobs.iter() as jobs:
            ndjson = jobs.ndjson
            for _ in jobs:
                if first is None:
                    first = time.perf_counter() - start
                count += 1
        seconds = time.perf_counter() - start
    client.close()
    if count != args.expect:
        raise RuntimeError(f"iter() gave {count} jobs, expected {args.expect}")
    return {"count": count, "ndjson": ndjson, "first": first, "seconds": seconds, **rss.as_dict()}


class _PoolWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "pool is full" in record.getMessage():
            self.count += 1


def _status_function(
    client: str, url: str, token: str, owner: Any = None
) -> tuple[Callable[[str], object], Any]:
    """A status call of a new client (session), or of `owner` when given."""
    if client == "ours":
        import neuro_sync

        ours = owner or neuro_sync.Client(url=url, token=token)
        return ours.jobs.status, ours
    import requests

    session = owner or requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return lambda job_id: session.get(f"{url}/jobs/{job_id}").json(), session


def _run_threads(calls: list[Callable[[str], object]], ids: Sequence[str]) -> tuple[float, float]:
    """Split `ids` over one thread per function; (wall seconds, CPU seconds)."""
    parts = [ids[i :: len(calls)] for i in range(len(calls))]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(calls) + 1)

    def work(call: Callable[[str], object], part: Sequence[str]) -> None:
        barrier.wait()
        try:
            for job_id in part:
                call(job_id)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [
        threading.Thread(target=work, args=(c, p)) for c, p in zip(calls, parts, strict=True)
    ]
    for t in threads:
        t.start()
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if errors:
        raise RuntimeError(f"{len(errors)} threads failed: {errors[0]!r}")
    return wall, cpu


def threads(args: argparse.Namespace) -> dict[str, Any]:
    ids = job_ids(args.calls, DEFAULT_SEED)
    warnings = _PoolWarnings()
    logging.getLogger("urllib3").addHandler(warnings)
    out: dict[str, Any] = {"threads": args.threads, "calls": args.calls}
    owners: list[Any] = []
    shared, owner = _status_function(args.client, args.url, args.token)
    owners.append(owner)
    per_thread = [shared]
    for _ in range(args.threads - 1):
        call, owner = _status_function(args.client, args.url, args.token)
        owners.append(owner)
        per_thread.append(call)
    for call in per_thread:
        call(ids[0])  # warm-up: /config and one connection per client
    setups = {
        "single": [shared],
        "shared": [shared] * args.threads,
        "per_thread": per_thread,
    }
    for name, calls in setups.items():
        before_warnings = warnings.count
        before = server_stats(args.url)
        wall, cpu = _run_threads(calls, ids)
        opened = stats_delta(before, server_stats(args.url))["connections"]
        out[name] = {
            "calls_per_s": args.calls / wall,
            "cpu_per_call_us": cpu / args.calls * 1e6,
            "new_connections": opened,
            "pool_full_warnings": warnings.count - before_warnings,
        }
    for owner in owners:
        owner.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("memory", "stream", "threads"))
    parser.add_argument("--client", choices=("ours", "bare"), default="ours")
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--expect", type=int, default=0, help="stream: jobs expected")
    parser.add_argument("--calls", type=int, default=2000, help="threads: status calls")
    parser.add_argument("--threads", type=int, default=16, help="threads: thread count")
    args = parser.parse_args(argv)
    modes = {"memory": memory, "stream": stream, "threads": threads}
    print(json.dumps(modes[args.mode](args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
