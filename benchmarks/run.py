"""neuro-sync vs bare `requests` (and, with `--peer`, the 2019 SDK) on one stub server.

    python -m benchmarks.run [--peer] [--quick] [--rounds N] [--strict]

Scenarios, all in one run against the same stub server process (benchmarks/stub_server.py):

* list    `client.jobs.list()` of 10,000 jobs vs `session.get(url).json()`      (seconds)
* status  1,000 sequential `client.jobs.status(id)` vs `session.get(url).json()` (calls/s)
* log     `client.jobs.monitor(id)` read to the end vs
          `session.get(url, stream=True).iter_content(64 KiB)` over a 100 MiB log (MiB/s),
          and the peak RSS growth while streaming; each run in a fresh process
* import  `import neuro_sync` vs `import requests` (vs `import neuromation.api`) in a fresh
          process, timed inside it with perf_counter (interpreter start excluded)

Clients are alternated within every round (the order rotates each round) and every figure is
the median over the rounds. A client that is not ready (neuro_sync not importable, a method
missing, an error) is reported as "not available" for that scenario; the rest still run.
Results: a table on stdout and `.bench/results.json`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import select
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import CODE_ENV, use_code
from benchmarks._measure import (
    MIB,
    PeakRss,
    import_time_code,
    make_token,
    median,
    server_capacity,
    server_stats,
    stats_delta,
)
from benchmarks.stub_server import DEFAULT_SEED, DEFAULT_USER, StubServerProcess, job_ids

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"
RESULTS = BENCH_DIR / "results.json"
PEER_VENV = BENCH_DIR / "peer-venv"
LOG_READ = 64 * 1024
CHILD_TIMEOUT = 600.0

OURS, BARE, PEER = "ours", "bare", "peer"
CONTROL = "bare-control"  # the log's A/A control: bare requests run a second time a round
# The log read by bare requests with neuro-sync's default (connect, read) timeout: a socket with
# a timeout costs a poll() before each recv(), which bare requests without one does not pay.
BARE_TIMEOUT = "bare-timeout"
LABELS = {OURS: "neuro-sync", BARE: "bare requests", PEER: "2019 SDK"}

# Targets (issue #20): the client's CPU time per operation over bare requests' in the same run
# (steadier than wall time on a shared machine; wall time is shown beside it): list <= 1.5x on
# the full shape (env, two volumes, http on some; varied, minimal: reported), status <= 1.0x, log <=
# 1.05x with flat memory (peak RSS growth at most bare's + FLAT_SLACK); import <= 100 ms and
# faster than the 2019 SDK. Issue #14's: a list's retained memory below the 2019 SDK's;
# iter() over STREAM_JOBS jobs with a peak RSS growth under STREAM_MAX_GROWTH; threads: no
# "pool is full" warnings, no more connections than the pool holds, CPU per call within
# THREAD_CPU_SLACK of one thread's.
LIST_MAX_CPU = 1.5
STATUS_MAX_CPU = 1.0
LOG_MAX_CPU = 1.05
FLAT_SLACK = 8 * MIB
IMPORT_MAX_MS = 100.0
STREAM_MAX_GROWTH = 50 * MIB
THREAD_CPU_SLACK = 0.20
POOL_SIZE = 64  # neuro_sync's connections per host (its Transport's pool_maxsize)


@dataclass(frozen=True)
class Sizes:
    jobs: int
    status_calls: int
    log_mib: float
    rounds: int
    log_rounds: int
    import_runs: int
    log_chunk: int = 1024
    stream_jobs: int = 100_000
    thread_calls: int = 2_000
    threads: int = 16
    extra_rounds: int = 3


# The job list's shapes (stub_server.SHAPES): scenario key -> shape. "varied" is the main
# server's; the others get a stub of their own.
LIST_SHAPES = {"list": "varied", "list_full": "full", "list_minimal": "minimal"}
LIST_TARGETED = ("list_full",)  # the realistic shape of issue #20: env, two volumes, http on some

FULL = Sizes(jobs=10_000, status_calls=1_000, log_mib=100, rounds=9, log_rounds=15, import_runs=11)
QUICK = Sizes(
    jobs=2_000,
    status_calls=200,
    log_mib=20,
    rounds=2,
    log_rounds=2,
    import_runs=3,
    stream_jobs=20_000,
    thread_calls=400,
    extra_rounds=1,
)


def say(text: str = "") -> None:
    print(text, flush=True)


def _code() -> Path | None:
    """The checkout measured as neuro-sync (`--code`), or None: this tree."""
    code = os.environ.get(CODE_ENV)
    return Path(code) if code else None


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    code = _code()
    first = [str(code), str(code / "generated")] if code else []
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [*first, str(ROOT), env.get("PYTHONPATH")]))
    return env


class ChildError(RuntimeError):
    """A measuring subprocess failed; the message is its last line of stderr."""


def _error_text(err: BaseException) -> str:
    if isinstance(err, ChildError):
        return str(err)
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


# ----------------------------------------------------------------------------- clients


class OursClient:
    """neuro_sync, in this process."""

    name = OURS

    def __init__(self, url: str, token: str) -> None:
        import neuro_sync

        self.client = neuro_sync.Client(url=url, token=token)

    def list(self) -> int:
        return len(self.client.jobs.list())

    def status(self, ids: Sequence[str]) -> None:
        status = self.client.jobs.status
        for job_id in ids:
            status(job_id)

    def close(self) -> None:
        self.client.close()


class BareClient:
    """A bare `requests.Session` with the bearer header, in this process."""

    name = BARE

    def __init__(self, url: str, token: str) -> None:
        import requests

        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def list(self) -> int:
        return len(self.session.get(f"{self.url}/jobs").json()["jobs"])

    def status(self, ids: Sequence[str]) -> None:
        get, url = self.session.get, self.url
        for job_id in ids:
            get(f"{url}/jobs/{job_id}").json()

    def close(self) -> None:
        self.session.close()


class PeerClient:
    """The 2019 SDK in a long-lived worker in its venv; it times itself (no IPC in timings)."""

    name = PEER

    def __init__(self, python: Path, url: str, token: str) -> None:
        self.proc = subprocess.Popen(
            [str(python), "-W", "ignore", "-m", "benchmarks.peer_sdk", "serve"]
            + ["--url", url, "--token", token],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=_child_env(),
        )
        ready = self._read()
        if not ready.get("ready"):
            raise RuntimeError(f"peer worker did not start: {ready}")
        self.seconds = 0.0
        self.cpu = 0.0

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        readable, _, _ = select.select([self.proc.stdout], [], [], CHILD_TIMEOUT)
        line = self.proc.stdout.readline() if readable else b""
        if not line:
            self.proc.kill()
            raise RuntimeError(f"peer worker died or hung (exit status {self.proc.poll()})")
        result: dict[str, Any] = json.loads(line)
        if "error" in result:
            raise RuntimeError(result["error"])
        return result

    def call(self, op: str, **params: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **params}).encode() + b"\n")
        self.proc.stdin.flush()
        return self._read()

    def list(self) -> int:
        result = self.call("list")
        self.seconds, self.cpu = float(result["seconds"]), float(result["cpu"])
        return int(result["count"])

    def status(self, ids: Sequence[str]) -> None:
        result = self.call("status", ids=list(ids))
        self.seconds, self.cpu = float(result["seconds"]), float(result["cpu"])

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.call("quit")
            except (RuntimeError, OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


Client = OursClient | BareClient | PeerClient


def _timed(client: Client, action: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of `action()`."""
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    action()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    # The peer times itself inside its worker, so the pipe round trip is not counted.
    if isinstance(client, PeerClient):
        return client.seconds, client.cpu
    return elapsed, cpu


def _rotated(items: Sequence[str], round_no: int) -> list[str]:
    shift = round_no % len(items) if items else 0
    return list(items[shift:]) + list(items[:shift])


# ----------------------------------------------------------------------------- scenarios


class Scenario:
    """The values of one scenario per client, or why a client is not available."""

    def __init__(self, key: str, unit: str, clients: Sequence[str]) -> None:
        self.key = key
        self.unit = unit
        self.values: dict[str, list[float]] = {name: [] for name in clients}
        self.missing: dict[str, str] = {}
        self.extra: dict[str, dict[str, list[Any]]] = {name: {} for name in clients}

    def fail(self, client: str, reason: str) -> None:
        self.missing.setdefault(client, reason)
        self.values.pop(client, None)

    def active(self) -> list[str]:
        return [name for name in self.values if name not in self.missing]

    def median(self, client: str) -> float | None:
        values = self.values.get(client)
        return median(values) if values else None

    def extra_median(self, client: str, key: str) -> float | None:
        values = self.extra.get(client, {}).get(key)
        return median(values) if values else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unit": self.unit}
        for name in {*self.values, *self.missing}:
            if name in self.missing:
                out[name] = {"available": False, "reason": self.missing[name]}
            else:
                entry: dict[str, Any] = {
                    "available": True,
                    "median": self.median(name),
                    "values": self.values[name],
                }
                for key, values in self.extra.get(name, {}).items():
                    entry[key] = values
                    if values and all(isinstance(v, int | float) for v in values):
                        entry[f"{key}_median"] = median(values)
                out[name] = entry
        return out


def _warm_list(clients: dict[str, Client], sc: Scenario, sizes: Sizes) -> None:
    """Untimed: /config, connections, a first parse; a failure marks the client."""
    for name, client in clients.items():
        if name in sc.missing:
            continue
        try:
            count = client.list()
            if count != sizes.jobs:
                raise RuntimeError(f"list returned {count} jobs, expected {sizes.jobs}")
        except Exception as err:  # noqa: BLE001 - any failure means "not available"
            sc.fail(name, _error_text(err))


def run_list_scenario(
    key: str, clients: dict[str, Client], unavailable: dict[str, str], sizes: Sizes
) -> Scenario:
    """`list()` of all jobs of one stub (its shape: LIST_SHAPES[key]): seconds and CPU."""
    names = [n for n in (OURS, BARE, PEER) if n in clients or n in unavailable]
    sc = Scenario(key, "s", names)
    for name, reason in unavailable.items():
        sc.fail(name, reason)
    _warm_list(clients, sc, sizes)
    say(f"{key} ({LIST_SHAPES[key]} jobs): {sizes.rounds} rounds of {', '.join(sc.active())}")
    for round_no in range(sizes.rounds):
        for name in _rotated(sc.active(), round_no):
            client = clients[name]
            try:
                seconds, cpu = _timed(client, client.list)
            except Exception as err:  # noqa: BLE001
                sc.fail(name, _error_text(err))
                continue
            sc.values[name].append(seconds)
            sc.extra[name].setdefault("cpu_s", []).append(cpu)
    return sc


def run_status_scenario(
    clients: dict[str, Client],
    unavailable: dict[str, str],
    url: str,
    ids: Sequence[str],
    sizes: Sizes,
) -> Scenario:
    names = [n for n in (OURS, BARE, PEER) if n in clients or n in unavailable]
    status_sc = Scenario("status", "calls/s", names)
    for name, reason in unavailable.items():
        status_sc.fail(name, reason)
    for name, client in clients.items():  # warm-up, as for the list
        try:
            client.status(ids[:10])
        except Exception as err:  # noqa: BLE001
            status_sc.fail(name, _error_text(err))

    say(f"status: {sizes.rounds} rounds of {', '.join(status_sc.active()) or 'nothing'}")
    calls = ids[: sizes.status_calls]
    for round_no in range(sizes.rounds):
        for name in _rotated(status_sc.active(), round_no):
            client = clients[name]
            try:
                before = server_stats(url)
                seconds, cpu = _timed(client, lambda c=client: c.status(calls))  # type: ignore[misc]
                delta = stats_delta(before, server_stats(url))
            except Exception as err:  # noqa: BLE001
                status_sc.fail(name, _error_text(err))
                continue
            status_sc.values[name].append(len(calls) / seconds)
            extra = status_sc.extra[name]
            extra.setdefault("cpu_s", []).append(cpu)
            extra.setdefault("wall_s", []).append(seconds)
            extra.setdefault("new_connections", []).append(delta["connections"])
            extra.setdefault("requests", []).append(delta["requests"])
    return status_sc


def _run_child(cmd: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_child_env(),
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        err = done.stderr.strip().splitlines()
        raise ChildError(err[-1] if err else f"exit status {done.returncode}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_log_scenario(
    names: Sequence[str],
    unavailable: dict[str, str],
    peer_python: Path | None,
    url: str,
    token: str,
    job_id: str,
    sizes: Sizes,
) -> tuple[Scenario, Scenario]:
    rate = Scenario("log", "MiB/s", names)
    memory = Scenario("log_memory", "MiB", names)
    for name, reason in unavailable.items():
        rate.fail(name, reason)
        memory.fail(name, reason)
    expected = int(sizes.log_mib * MIB)

    def command(name: str) -> list[str]:
        if name == PEER:
            assert peer_python is not None
            return [str(peer_python), "-W", "ignore", "-m", "benchmarks.peer_sdk", "log"] + [
                "--url",
                url,
                "--token",
                token,
                "--job",
                job_id,
            ]
        return [sys.executable, "-m", "benchmarks.run", "--child-log", name]

    say(
        f"log: {sizes.log_rounds} rounds of {', '.join(rate.active()) or 'nothing'}, "
        f"{sizes.log_mib:g} MiB each, one fresh process per run"
    )
    for round_no in range(sizes.log_rounds):
        # Bare requests runs twice a round: the second run (its CPU in `control_cpu_s`) is an
        # A/A control, so the report shows how far two runs of the same code differ here.
        # It takes its turn in the rotation like the others: a run's place in the round moves
        # its CPU time by several per cent here.
        active = rate.active()
        extra_runs = [CONTROL, BARE_TIMEOUT] if BARE in active else []
        for name in _rotated(active + extra_runs, round_no):
            cmd = command(name if name != CONTROL else BARE)
            if name != PEER:
                cmd += ["--url", url, "--token", token, "--job", job_id]
            try:
                result = _run_child(cmd)
                if result["bytes"] != expected:
                    raise RuntimeError(f"read {result['bytes']} bytes, expected {expected}")
            except Exception as err:  # noqa: BLE001
                if name not in extra_runs:
                    rate.fail(name, _error_text(err))
                    memory.fail(name, _error_text(err))
                continue
            if name in extra_runs:
                key = "control_cpu_s" if name == CONTROL else "with_timeout_cpu_s"
                rate.extra[BARE].setdefault(key, []).append(result["cpu"])
                continue
            rate.values[name].append(result["bytes"] / MIB / result["seconds"])
            rate.extra[name].setdefault("cpu_s", []).append(result["cpu"])
            rate.extra[name].setdefault("wall_s", []).append(result["seconds"])
            memory.values[name].append(result["rss_growth"] / MIB)
            memory.extra[name].setdefault("rss_start_mib", []).append(result["rss_start"] / MIB)
            memory.extra[name].setdefault("rss_samples", []).append(result["rss_samples"])
    return rate, memory


def _import_once(python: str, module: str) -> float:
    done = subprocess.run(
        [python, "-W", "ignore", "-c", import_time_code(module)],
        capture_output=True,
        text=True,
        cwd=_code() or ROOT,  # `-c` puts the working directory first on sys.path
        env=_child_env(),
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        err = done.stderr.strip().splitlines()
        raise ChildError(err[-1] if err else f"exit status {done.returncode}")
    return float(done.stdout.strip().splitlines()[-1])


def _import_breakdown(python: str, module: str, top: int = 8) -> list[dict[str, Any]]:
    """The modules with the largest self import time (`-X importtime`) for `module`."""
    done = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=_code() or ROOT,  # `-c` puts the working directory first on sys.path
        env=_child_env(),
        timeout=120,
        check=False,
    )
    rows: list[dict[str, Any]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) == 3:
            rows.append(
                {
                    "module": fields[2].strip(),
                    "self_ms": int(fields[0]) / 1000,
                    "cumulative_ms": int(fields[1]) / 1000,
                }
            )
    rows.sort(key=lambda row: row["self_ms"], reverse=True)
    return rows[:top]


def run_import_scenario(
    names: Sequence[str], unavailable: dict[str, str], peer_python: Path | None, sizes: Sizes
) -> Scenario:
    scenario = Scenario("import", "ms", names)
    for name, reason in unavailable.items():
        scenario.fail(name, reason)
    targets = {
        OURS: (sys.executable, "neuro_sync"),
        BARE: (sys.executable, "requests"),
        PEER: (str(peer_python), "neuromation.api"),
    }
    for name in scenario.active():  # warm-up: bytecode caches
        try:
            _import_once(*targets[name])
        except Exception as err:  # noqa: BLE001
            scenario.fail(name, _error_text(err))
    say(f"import: {sizes.import_runs} runs of {', '.join(scenario.active()) or 'nothing'}")
    for round_no in range(sizes.import_runs):
        for name in _rotated(scenario.active(), round_no):
            try:
                scenario.values[name].append(_import_once(*targets[name]) * 1000)
            except Exception as err:  # noqa: BLE001
                scenario.fail(name, _error_text(err))
    for name in scenario.active():
        scenario.extra[name]["slowest_modules"] = _import_breakdown(*targets[name])
    return scenario


def _extra_cmd(mode: str, url: str, token: str, *more: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.extra", mode, "--url", url, "--token", token, *more]


def run_memory_scenario(
    names: Sequence[str], peer_python: Path | None, url: str, token: str, sizes: Sizes
) -> Scenario:
    """What one list() of all jobs retains (tracemalloc, MiB), each run in a fresh process."""
    scenario = Scenario("list_memory", "MiB", names)
    if peer_python is None and PEER in names:
        scenario.fail(PEER, "needs --peer")
    say(f"list memory: {sizes.extra_rounds} rounds of {', '.join(scenario.active())}")
    for round_no in range(sizes.extra_rounds):
        for name in _rotated(scenario.active(), round_no):
            if name == PEER:
                assert peer_python is not None
                cmd = [str(peer_python), "-W", "ignore", "-m", "benchmarks.peer_sdk", "memory"]
                cmd += ["--url", url, "--token", token, "--job", job_ids(1, DEFAULT_SEED)[0]]
            else:
                cmd = _extra_cmd("memory", url, token, "--client", name)
            try:
                result = _run_child(cmd)
                if result["count"] != sizes.jobs:
                    raise RuntimeError(f"list gave {result['count']} jobs")
            except Exception as err:  # noqa: BLE001
                scenario.fail(name, _error_text(err))
                continue
            scenario.values[name].append(result["traced_bytes"] / MIB)
            scenario.extra[name].setdefault("rss_growth_mib", []).append(result["rss_growth"] / MIB)
    return scenario


def run_stream_scenarios(token: str, sizes: Sizes) -> dict[str, Scenario]:
    """jobs.iter() over sizes.jobs and sizes.stream_jobs jobs, NDJSON and the 2019 array."""
    out: dict[str, Scenario] = {}
    repeat = max(1, sizes.stream_jobs // sizes.jobs)
    for key, ndjson in (("stream_ndjson", True), ("stream_array", False)):
        scenario = out[key] = Scenario(key, "MiB", [OURS])
        with StubServerProcess(
            jobs=sizes.jobs, log_mib=1, list_repeat=repeat, ndjson=ndjson
        ) as big:
            say(f"{key}: {sizes.extra_rounds} rounds of iter() over {sizes.jobs * repeat:,} jobs")
            for _ in range(sizes.extra_rounds):
                try:
                    cmd = _extra_cmd("stream", big.url, token, "--expect", str(sizes.jobs * repeat))
                    result = _run_child(cmd)
                    if result["ndjson"] is not ndjson:
                        raise RuntimeError(f"the reply was {'not ' * ndjson}NDJSON")
                except Exception as err:  # noqa: BLE001
                    scenario.fail(OURS, _error_text(err))
                    break
                scenario.values[OURS].append(result["rss_growth"] / MIB)
                extra = scenario.extra[OURS]
                extra.setdefault("first_job_ms", []).append(result["first"] * 1000)
                extra.setdefault("seconds", []).append(result["seconds"])
                extra.setdefault("jobs", []).append(result["count"])
        if OURS in scenario.missing:
            continue
        # The same with one repetition: flat memory means the growth does not follow the count.
        with StubServerProcess(jobs=sizes.jobs, log_mib=1, list_repeat=1, ndjson=ndjson) as small:
            try:
                cmd = _extra_cmd("stream", small.url, token, "--expect", str(sizes.jobs))
                scenario.extra[OURS]["growth_small_mib"] = [_run_child(cmd)["rss_growth"] / MIB]
            except Exception as err:  # noqa: BLE001
                say(f"{key}: the {sizes.jobs:,}-job run failed: {_error_text(err)}")
    return out


THREAD_SETUPS = ("shared", "per_thread")


def run_thread_scenarios(url: str, token: str, sizes: Sizes) -> dict[str, Scenario]:
    """Status calls from sizes.threads threads: one shared client, and one client per thread."""
    out = {
        f"threads_{setup}": Scenario(f"threads_{setup}", "calls/s", [OURS, BARE])
        for setup in THREAD_SETUPS
    }
    say(
        f"threads: {sizes.extra_rounds} rounds of {sizes.thread_calls:,} status calls from "
        f"{sizes.threads} threads (ours, bare)"
    )
    more = ["--calls", str(sizes.thread_calls), "--threads", str(sizes.threads)]
    for round_no in range(sizes.extra_rounds):
        for name in _rotated([OURS, BARE], round_no):
            if any(name in sc.missing for sc in out.values()):
                continue
            try:
                result = _run_child(_extra_cmd("threads", url, token, "--client", name, *more))
            except Exception as err:  # noqa: BLE001
                for sc in out.values():
                    sc.fail(name, _error_text(err))
                continue
            single = result["single"]
            for setup in THREAD_SETUPS:
                sc, got = out[f"threads_{setup}"], result[setup]
                sc.values[name].append(got["calls_per_s"])
                extra = sc.extra[name]
                extra.setdefault("cpu_per_call_us", []).append(got["cpu_per_call_us"])
                extra.setdefault("single_cpu_per_call_us", []).append(single["cpu_per_call_us"])
                extra.setdefault("single_calls_per_s", []).append(single["calls_per_s"])
                extra.setdefault("new_connections", []).append(got["new_connections"])
                extra.setdefault("pool_full_warnings", []).append(got["pool_full_warnings"])
    return out


def profile_list(url: str, token: str, top: int = 12) -> list[dict[str, Any]]:
    """cProfile's top entries (own time) of one neuro-sync list(): where its time goes."""
    import cProfile
    import pstats

    client = OursClient(url, token)
    try:
        client.list()
        profiler = cProfile.Profile()
        profiler.runcall(client.list)
    finally:
        client.close()
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, func), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(path).name}:{line}({func})" if line else func
        rows.append({"function": where, "calls": calls, "own_s": own, "cumulative_s": cumulative})
    rows.sort(key=lambda row: row["own_s"], reverse=True)
    total = sum(row["own_s"] for row in rows) or 1.0
    for row in rows:
        row["share"] = row["own_s"] / total
    return rows[:top]


# ----------------------------------------------------------------------------- report


def _verdicts(sc: dict[str, Scenario]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def ratio(key: str, a: str, b: str) -> float | None:
        x, y = sc[key].median(a), sc[key].median(b)
        return None if x is None or y is None or y == 0 else x / y

    def cpu_over_bare(key: str) -> float | None:
        x, y = sc[key].extra_median(OURS, "cpu_s"), sc[key].extra_median(BARE, "cpu_s")
        return None if x is None or y is None or y == 0 else x / y

    # CPU and wall time per operation over bare requests' (> 1: neuro-sync takes longer).
    for key, most in [(k, LIST_MAX_CPU) for k in LIST_SHAPES] + [
        ("status", STATUS_MAX_CPU),
        ("log", LOG_MAX_CPU),
    ]:
        if key not in sc:
            continue
        r = ratio(key, OURS, BARE)
        wall = r if key in LIST_SHAPES or r is None or r == 0 else 1 / r
        cpu = cpu_over_bare(key)
        targeted = key not in LIST_SHAPES or key in LIST_TARGETED
        out[key] = {
            "target": f"CPU <= {most:.2f}x bare" if targeted else "reported",
            "ratio_ours_over_bare": r,
            "cpu_ratio": cpu,
            "wall_ratio": wall,
            "pass": None if cpu is None or not targeted else cpu <= most,
        }
        bare_cpu = sc[key].extra_median(BARE, "cpu_s")
        ours_cpu = sc[key].extra_median(OURS, "cpu_s")
        control = sc[key].extra_median(BARE, "control_cpu_s")
        with_timeout = sc[key].extra_median(BARE, "with_timeout_cpu_s")
        if control is not None and bare_cpu:
            # How far a second run of bare requests lands from the first: the resolution of
            # the CPU ratio on this machine in this run.
            out[key]["control_cpu_ratio"] = control / bare_cpu
        if with_timeout and ours_cpu is not None:
            out[key]["cpu_ratio_vs_bare_with_timeout"] = ours_cpu / with_timeout
    ours_mem, bare_mem = sc["log_memory"].median(OURS), sc["log_memory"].median(BARE)
    diff = None if ours_mem is None or bare_mem is None else ours_mem - bare_mem
    out["log_memory"] = {
        "target": f"flat: <= bare + {FLAT_SLACK // MIB} MiB",
        "difference_mib": diff,
        "pass": None if diff is None else diff * MIB <= FLAT_SLACK,
    }
    r = ratio("import", OURS, BARE)
    r_peer = ratio("import", OURS, PEER)
    ours_ms = sc["import"].median(OURS)
    out["import"] = {
        "target": f"<= {IMPORT_MAX_MS:.0f} ms, < 2019 SDK's",
        "ratio_ours_over_bare": r,
        "ratio_ours_over_peer": r_peer,
        "pass": None
        if ours_ms is None
        else ours_ms <= IMPORT_MAX_MS and (r_peer is None or r_peer < 1.0),
    }
    if "list_memory" in sc:
        r = ratio("list_memory", OURS, BARE)
        r_peer = ratio("list_memory", OURS, PEER)
        out["list_memory"] = {
            "target": "< 2019 SDK's",
            "ratio_ours_over_bare": r,
            "ratio_ours_over_peer": r_peer,
            "pass": None if r_peer is None else r_peer < 1.0,
        }
    for key in ("stream_ndjson", "stream_array"):
        if key not in sc:
            continue
        growth = sc[key].median(OURS)
        first = sc[key].extra_median(OURS, "first_job_ms")
        seconds = sc[key].extra_median(OURS, "seconds")
        out[key] = {
            "target": f"peak RSS growth < {STREAM_MAX_GROWTH // MIB} MiB, first job early",
            "growth_mib": growth,
            "first_job_ms": first,
            "seconds": seconds,
            "pass": None
            if growth is None or first is None or seconds is None
            else growth * MIB < STREAM_MAX_GROWTH and first < seconds * 1000 / 10,
        }
    for setup in THREAD_SETUPS:
        key = f"threads_{setup}"
        if key not in sc:
            continue
        extra = sc[key].extra.get(OURS, {})
        cpu = sc[key].extra_median(OURS, "cpu_per_call_us")
        single = sc[key].extra_median(OURS, "single_cpu_per_call_us")
        opened = max(extra.get("new_connections") or [0])
        warnings = sum(extra.get("pool_full_warnings") or [0])
        cpu_ratio = None if cpu is None or not single else cpu / single
        bare_cpu = sc[key].extra_median(BARE, "cpu_per_call_us")
        bare_single = sc[key].extra_median(BARE, "single_cpu_per_call_us")
        out[key] = {
            "target": f"0 pool warnings, <= {POOL_SIZE} conns, CPU/call <= "
            f"{1 + THREAD_CPU_SLACK:.1f}x 1 thread",
            "ratio_ours_over_bare": ratio(key, OURS, BARE),
            "cpu_per_call_over_single": cpu_ratio,
            "bare_cpu_per_call_over_single": None
            if bare_cpu is None or not bare_single
            else bare_cpu / bare_single,
            "most_new_connections": opened,
            "pool_full_warnings": warnings,
            "pass": None
            if cpu_ratio is None
            else warnings == 0 and opened <= POOL_SIZE and cpu_ratio <= 1 + THREAD_CPU_SLACK,
        }
    return out


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "calls/s":
        return f"{value:,.0f} /s"
    if unit == "MiB/s":
        return f"{value:,.0f} MiB/s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:.1f} ms"


def _cell(scenario: Scenario, name: str) -> str:
    if name in scenario.missing:
        return "not available"
    if name not in scenario.values:
        return "-"
    return _fmt(scenario.median(name), scenario.unit)


def print_table(sc: dict[str, Scenario], verdicts: dict[str, dict[str, Any]], sizes: Sizes) -> None:
    titles = {
        "list": f"list {sizes.jobs:,} varied jobs (time)",
        "list_full": f"list {sizes.jobs:,} full jobs (time)",
        "list_minimal": f"list {sizes.jobs:,} minimal jobs (time)",
        "status": f"{sizes.status_calls:,} status calls (rate)",
        "log": f"log {sizes.log_mib:g} MiB (throughput)",
        "log_memory": "log peak RSS growth",
        "import": "import time",
        "list_memory": f"list {sizes.jobs:,} jobs, retained memory",
        "stream_ndjson": f"iter() {sizes.stream_jobs:,} jobs NDJSON, peak RSS growth",
        "stream_array": f"iter() {sizes.stream_jobs:,} jobs 2019 array, peak RSS growth",
        "threads_shared": f"{sizes.threads} threads, 1 shared client (rate)",
        "threads_per_thread": f"{sizes.threads} threads, 1 client each (rate)",
    }

    def compare(key: str) -> str:
        v = verdicts[key]
        if key == "log_memory":
            d = v["difference_mib"]
            return "n/a" if d is None else f"{0.0 if abs(d) < 0.05 else d:+.1f} MiB vs bare"
        if key.startswith("stream_"):
            if v["growth_mib"] is None:
                return "n/a"
            small = sc[key].extra_median(OURS, "growth_small_mib")
            text = f"first job {v['first_job_ms']:.0f} ms of {v['seconds']:.1f} s"
            return text + ("" if small is None else f"; {sizes.jobs:,} jobs: {small:.1f} MiB")
        if "cpu_ratio" in v:
            cpu, wall = v["cpu_ratio"], v["wall_ratio"]
            if cpu is None or wall is None:
                return "n/a"
            text = f"CPU {cpu:.2f}x, wall {wall:.2f}x bare per op"
            if (timed := v.get("cpu_ratio_vs_bare_with_timeout")) is not None:
                text += f"; CPU {timed:.2f}x bare with a read timeout"
            if (control := v.get("control_cpu_ratio")) is not None:
                text += f"; A/A control: bare {control:.2f}x bare"
            return text
        r = v["ratio_ours_over_bare"]
        if r is None:
            return "n/a"
        if key.startswith("threads_"):
            cpu, bare_cpu = v["cpu_per_call_over_single"], v["bare_cpu_per_call_over_single"]
            bare_text = "" if bare_cpu is None else f" (bare {bare_cpu:.2f}x)"
            return (
                f"{r:.2f}x bare rate; CPU/call {cpu:.2f}x 1 thread{bare_text}; "
                f"{v['most_new_connections']} conns, {v['pool_full_warnings']} warnings"
            )
        if key == "list_memory":
            rss = {n: sc[key].extra_median(n, "rss_growth_mib") for n in (OURS, BARE, PEER)}
            shown = ", ".join(f"{LABELS[n]} {v:.1f}" for n, v in rss.items() if v is not None)
            return f"{r:.2f}x bare memory; RSS growth after GC (MiB): {shown}"
        return f"{r:.2f}x bare time"

    def verdict(key: str) -> str:
        v = verdicts[key]
        if v["pass"] is None:
            if key == "list_memory" and sc[key].median(OURS) is not None:
                return "n/a (needs --peer)"
            return "n/a"
        text = "PASS" if v["pass"] else "FAIL"
        if key in ("import", "list_memory") and v["ratio_ours_over_peer"] is not None:
            text += f" ({v['ratio_ours_over_peer']:.2f}x SDK)"
        return text

    header = ["scenario", LABELS[OURS], LABELS[BARE], "neuro-sync vs bare", LABELS[PEER]]
    header += ["target", "result"]
    rows = [header]
    for key in titles:
        if key not in sc:
            continue
        s = sc[key]
        rows.append(
            [
                titles[key],
                _cell(s, OURS),
                _cell(s, BARE),
                compare(key),
                _cell(s, PEER),
                verdicts[key]["target"],
                verdict(key),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    say()
    for index, row in enumerate(rows):
        say("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            say("  ".join("-" * w for w in widths))
    say()
    say(
        "Medians over alternated rounds. 'CPU/wall Nx bare per op': the client process's CPU "
        "time and the wall\ntime per operation over bare requests' (> 1: neuro-sync takes "
        "longer). 'Nx bare rate' < 1 means neuro-sync\nis slower. Import times exclude "
        "interpreter start-up."
    )
    opened = {
        LABELS[name]: max(values)
        for name in sc["status"].active()
        if (values := sc["status"].extra[name].get("new_connections"))
    }
    if opened:
        say(
            "keep-alive: most connections opened during one status round: "
            + ", ".join(f"{label} {count}" for label, count in opened.items())
        )
    for key in sc:
        for name, reason in sc[key].missing.items():
            say(f"  {LABELS[name]} {key}: not available: {reason}")


# ----------------------------------------------------------------------------- main


def _git_state(tree: Path | None) -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=tree, check=False, timeout=30
        )
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def _check_ours(url: str, token: str) -> OursClient | str:
    try:
        return OursClient(url, token)
    except Exception as err:  # noqa: BLE001 - e.g. ImportError while the facade is written
        return _error_text(err)


def _clients(
    url: str, token: str, worker: PeerClient | None, peer_missing: dict[str, str]
) -> tuple[dict[str, Client], dict[str, str]]:
    """The clients of one stub server, and those not available with the reason."""
    clients: dict[str, Client] = {}
    unavailable = dict(peer_missing)
    ours = _check_ours(url, token)
    if isinstance(ours, str):
        unavailable[OURS] = ours
    else:
        clients[OURS] = ours
    clients[BARE] = BareClient(url, token)
    if worker is not None:
        clients[PEER] = worker
    return clients, unavailable


def _setup_peer(url: str, token: str) -> tuple[PeerClient | None, Path | None, dict[str, Any]]:
    from benchmarks.peer_sdk import PeerUnavailable, ensure_peer_venv

    info: dict[str, Any] = {"requested": True, "package": "neuromation==19.8.23"}
    try:
        env = ensure_peer_venv(PEER_VENV, log=lambda text: say(f"peer: {text}"))
    except PeerUnavailable as err:
        info.update(available=False, reason=str(err))
        return None, None, info
    except (OSError, subprocess.SubprocessError) as err:
        info.update(available=False, reason=_error_text(err))
        return None, None, info
    info.update(python=str(env.python), versions=env.versions, notes=env.notes)
    try:
        worker = PeerClient(env.python, url, token)
    except Exception as err:  # noqa: BLE001
        info.update(available=False, reason=f"the SDK client did not start: {_error_text(err)}")
        return None, env.python, info
    info["available"] = True
    return worker, env.python, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", action="store_true", help="also measure neuromation==19.8.23")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller payloads")
    parser.add_argument("--rounds", type=int, help="rounds for list/status/log")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--core", action="store_true", help="only list, status, log and import (full sizes)"
    )
    parser.add_argument(
        "--code", type=Path, help="measure the neuro_sync of this checkout (default: this tree)"
    )
    parser.add_argument("--child-log", choices=(OURS, BARE, BARE_TIMEOUT), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.code:
        os.environ[CODE_ENV] = str(args.code.resolve())
        use_code(str(args.code.resolve()))
    if args.child_log:
        return child_log(args.child_log, args.url, args.token, args.job)

    sizes = QUICK if args.quick else FULL
    if args.rounds:
        rounds = max(1, args.rounds)
        sizes = Sizes(**{**asdict(sizes), "rounds": rounds, "log_rounds": rounds})
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg(),
        "mode": "quick" if args.quick else "full",
        "sizes": asdict(sizes),
        "git": _git_state(ROOT),
        "measured_code": None if _code() is None else {"path": str(_code()), **_git_state(_code())},
        "core_only": args.core,
    }
    say(f"neuro-sync benchmarks ({meta['mode']}): {sizes}")
    token = make_token(DEFAULT_USER)
    ids = job_ids(sizes.jobs, DEFAULT_SEED)

    with StubServerProcess(
        jobs=sizes.jobs, log_mib=sizes.log_mib, log_chunk=sizes.log_chunk
    ) as server:
        url = server.url
        say(f"stub server pid {server.pid} at {url}")
        capacity = server_capacity(url, token, ids, sizes.status_calls, int(sizes.log_mib * MIB))
        say(
            "stub server, raw socket client: list {:.3f} s, status {:,.0f} calls/s, "
            "log {:,.0f} MiB/s".format(
                capacity["list_seconds"],
                capacity["status_calls_per_s"],
                capacity["log_mib_per_s"],
            )
        )

        peer_python: Path | None = None
        peer_info: dict[str, Any] = {"requested": False}
        worker: PeerClient | None = None
        peer_missing: dict[str, str] = {}
        if args.peer:
            worker, peer_python, peer_info = _setup_peer(url, token)
            if worker is None:
                say(f"peer unavailable: {peer_info['reason']}")
                peer_missing[PEER] = f"peer unavailable: {peer_info['reason']}"
            else:
                say(f"peer: {peer_info['versions']}")
        clients, unavailable = _clients(url, token, worker, peer_missing)
        if OURS in unavailable:
            say(f"neuro-sync not available: {unavailable[OURS]}")
        names = [n for n in (OURS, BARE, PEER) if n in clients or n in unavailable]

        list_scs: dict[str, Scenario] = {}
        try:
            list_scs["list"] = run_list_scenario("list", clients, unavailable, sizes)
            status_sc = run_status_scenario(clients, unavailable, url, ids, sizes)
        finally:
            for client in clients.values():
                client.close()
        for key, shape in LIST_SHAPES.items():
            if key in list_scs:
                continue
            with StubServerProcess(jobs=sizes.jobs, log_mib=1, shape=shape) as other:
                worker = None
                if peer_python is not None and not peer_missing:
                    worker = PeerClient(peer_python, other.url, token)
                shape_clients, shape_missing = _clients(other.url, token, worker, peer_missing)
                try:
                    list_scs[key] = run_list_scenario(key, shape_clients, shape_missing, sizes)
                finally:
                    for client in shape_clients.values():
                        client.close()
        log_unavailable = dict(unavailable)
        if peer_python is not None and PEER in unavailable:
            log_unavailable.pop(PEER)  # the venv works; the log may still run
        log_sc, memory_sc = run_log_scenario(
            names, log_unavailable, peer_python, url, token, ids[0], sizes
        )
        import_unavailable = {k: v for k, v in unavailable.items() if k != OURS}
        if peer_python is not None:
            import_unavailable.pop(PEER, None)
        import_sc = run_import_scenario(names, import_unavailable, peer_python, sizes)
        more: dict[str, Scenario] = {}
        profile: list[dict[str, Any]] = []
        if not args.core:
            more["list_memory"] = run_memory_scenario(names, peer_python, url, token, sizes)
            more.update(run_thread_scenarios(url, token, sizes))
            profile = profile_list(url, token) if OURS not in unavailable else []
    if not args.core:
        more.update(run_stream_scenarios(token, sizes))

    scenarios = {
        **list_scs,
        "status": status_sc,
        "log": log_sc,
        "log_memory": memory_sc,
        "import": import_sc,
        **more,
    }
    verdicts = _verdicts(scenarios)
    best = {
        "list_seconds": min(
            filter(None, (list_scs["list"].median(n) for n in names)), default=None
        ),
        "status_calls_per_s": max(filter(None, (status_sc.median(n) for n in names)), default=None),
        "log_mib_per_s": max(filter(None, (log_sc.median(n) for n in names)), default=None),
    }
    headroom = {
        "list": best["list_seconds"] and best["list_seconds"] / capacity["list_seconds"],
        "status": best["status_calls_per_s"]
        and capacity["status_calls_per_s"] / best["status_calls_per_s"],
        "log": best["log_mib_per_s"] and capacity["log_mib_per_s"] / best["log_mib_per_s"],
    }
    meta["load_average_end"] = os.getloadavg()
    measured = sys.modules.get("neuro_sync")
    meta["neuro_sync_module"] = getattr(measured, "__file__", None)
    meta["seconds"] = round(time.perf_counter() - started, 1)
    results = {
        "meta": meta,
        "server": {**server.info, "capacity": capacity, "headroom_over_fastest_client": headroom},
        "peer": peer_info,
        "scenarios": {key: sc.as_dict() for key, sc in scenarios.items()},
        "targets": verdicts,
        "list_profile": profile,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")

    print_table(scenarios, verdicts, sizes)
    if profile:
        say("neuro-sync list(): largest own times under cProfile (its overhead inflates them):")
        for row in profile[:8]:
            say(f"  {row['share']:5.1%}  {row['own_s'] * 1000:7.1f} ms  {row['function']}")
    say(
        "stub server headroom (raw client vs fastest client): "
        + ", ".join(f"{k} {v:.1f}x" for k, v in headroom.items() if v)
    )
    if any(v is not None and v < 1.5 for v in headroom.values()):
        say("WARNING: the stub server may be a bottleneck (headroom below 1.5x)")
    say(f"results: {args.out}  ({meta['seconds']} s)")
    missed = [k for k, v in verdicts.items() if v["pass"] is False]
    return 1 if args.strict and missed else 0


def child_log(name: str, url: str, token: str, job_id: str) -> int:
    """One log-streaming run in this fresh process: prints JSON (bytes, seconds, RSS)."""
    received = 0
    if name == OURS:
        import neuro_sync

        client = neuro_sync.Client(url=url, token=token)
        warm_up = getattr(client.jobs, "status", None)
        if warm_up is not None:
            warm_up(job_id)  # warm-up: /config and the connection
        with PeakRss() as rss:
            cpu, start = time.process_time(), time.perf_counter()
            with client.jobs.monitor(job_id) as stream:
                for chunk in stream:
                    received += len(chunk)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        client.close()
    else:
        import requests

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        session.get(f"{url}/jobs/{job_id}").json()  # warm-up: the connection
        from neuro_sync_api.types import DEFAULT_TIMEOUT  # the client's (connect, read)

        timeout = DEFAULT_TIMEOUT if name == BARE_TIMEOUT else None
        with PeakRss() as rss:
            cpu, start = time.process_time(), time.perf_counter()
            response = session.get(f"{url}/jobs/{job_id}/log", stream=True, timeout=timeout)
            for chunk in response.iter_content(LOG_READ):
                received += len(chunk)
            response.close()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        session.close()
    print(
        json.dumps({"bytes": received, "seconds": seconds, "cpu": cpu, **rss.as_dict()}),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
