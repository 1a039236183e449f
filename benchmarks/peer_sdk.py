"""The 2019 SDK (`neuromation==19.8.23`, asyncio) as the peer in the benchmarks.

Two halves:

* `ensure_peer_venv()` runs in the project's venv: it creates `.bench/peer-venv` on first use
  (`python -m venv`, then `pip install neuromation==19.8.23`) and checks that
  `neuromation.api` imports there. It raises `PeerUnavailable` with the reason otherwise.
  With `spec=SDK_2022` it makes the venv of neuro-sdk 22.7.1 the same way (the tests of
  tests/sdk2022 drive that SDK against the local platform).
* `python -m benchmarks.peer_sdk serve|log …` runs *inside* the peer venv (standard library,
  `benchmarks._measure` and the SDK only). `serve` keeps one SDK client and answers timing
  commands (JSON lines on stdin/stdout) so that the runner can alternate it with the other
  clients; `log` streams one job log in a fresh process and reports time and peak RSS;
  `memory` reports what one `jobs.list()` retains.

The SDK client is made the way its users made it: `Factory(path).login_with_token(token,
url=…)` (one `GET /config`) into a throw-away config file, then `await Factory(path).get()`.

Dependencies: the SDK declares `aiohttp>=3.5` and friends without upper bounds, so pip picks
current versions. Current aiohttp no longer pulls in `async_timeout` on Python 3.11, which
`neuromation.api.jobs` imports, so it is installed explicitly. If the SDK still does not
import, a second attempt pins 2019-2023 era versions (`PeerSpec.fallback_constraints`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PEER_PACKAGE = "neuromation==19.8.23"
PEER_VERSION = "19.8.23"
PEER_IMPORT = "neuromation.api"


class PeerUnavailable(Exception):
    """The SDK cannot be installed or imported here; the message says why."""


@dataclass(frozen=True)
class PeerSpec:
    """One SDK release to install into a venv of its own and check by importing it."""

    requirements: tuple[str, ...]  # what `pip install` gets, the SDK pin first
    module: str  # the top-level module; its `__version__` must be `version`
    version: str
    imports: str  # the module that must import (the API entry point)
    fallback_constraints: tuple[str, ...]  # a second attempt pins these
    venv_name: str  # its venv: `.bench/<venv_name>` (benchmarks and tests share it)

    @property
    def package(self) -> str:
        return self.requirements[0]


# Current aiohttp no longer pulls in `async_timeout` on Python 3.11, which
# `neuromation.api.jobs` imports, so it is installed explicitly.
SDK_2019 = PeerSpec(
    requirements=(PEER_PACKAGE, "async-timeout"),
    module="neuromation",
    version=PEER_VERSION,
    imports=PEER_IMPORT,
    fallback_constraints=(
        "aiohttp>=3.8.5,<3.10",
        "yarl<1.10",
        "multidict<6.1",
        "async-timeout<5",
        "attrs<24",
        "setuptools<70",
    ),
    venv_name="peer-venv",
)
# neuro-sdk 22.7.1 imports a class that later neuro-config-client releases dropped.
SDK_2022 = PeerSpec(
    requirements=("neuro-sdk==22.7.1", "neuro-config-client==22.7.11"),
    module="neuro_sdk",
    version="22.7.1",
    imports="neuro_sdk",
    fallback_constraints=("aiohttp>=3.8.5,<3.10", "yarl<1.10", "multidict<6.1"),
    venv_name="sdk-22.7.1",
)


def _check_code(spec: PeerSpec) -> str:
    return (
        "import warnings; warnings.simplefilter('ignore')\n"
        f"import json, {spec.module}, {spec.imports}, aiohttp, yarl\n"
        f"print(json.dumps({{{spec.module!r}: {spec.module}.__version__,"
        " 'aiohttp': aiohttp.__version__, 'yarl': yarl.__version__}))\n"
    )


@dataclass
class PeerEnv:
    python: Path
    versions: dict[str, str]
    notes: list[str] = field(default_factory=list)


def _run(cmd: list[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def _check(python: Path, spec: PeerSpec) -> dict[str, str] | str:
    """The versions in the peer venv, or why the SDK does not import."""
    done = _run([str(python), "-c", _check_code(spec)], timeout=120)
    if done.returncode != 0:
        return _tail(done.stderr) or f"exit status {done.returncode}"
    versions: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    if versions.get(spec.module) != spec.version:
        return f"{spec.module} {versions.get(spec.module)} installed, not {spec.version}"
    return versions


def ensure_peer_venv(
    venv: Path,
    *,
    base_python: str = sys.executable,
    log: Callable[[str], None] = print,
    spec: PeerSpec = SDK_2019,
) -> PeerEnv:
    """The venv of one SDK release, created and installed on first use. Raises
    PeerUnavailable (with pip's last words) when it cannot be installed or imported."""
    python = venv / "bin" / "python"
    notes: list[str] = []
    if python.exists():
        found = _check(python, spec)
        if isinstance(found, dict):
            return PeerEnv(python, found, notes)
        notes.append(f"existing peer venv unusable ({found}); recreated it")
        log(f"{venv} is unusable ({found}); recreating it ...")
    else:
        log(f"creating {venv} (first use) ...")
    done = _run([base_python, "-m", "venv", "--clear", str(venv)], timeout=300)
    if done.returncode != 0 or not python.exists():
        raise PeerUnavailable(f"python -m venv failed: {_tail(done.stderr)}")
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    log(f"pip install {' '.join(spec.requirements)} into {venv} ...")
    done = _run([*pip, *spec.requirements])
    if done.returncode != 0:
        notes.append(f"pip install failed: {_tail(done.stderr)}")
    else:
        found = _check(python, spec)
        if isinstance(found, dict):
            return PeerEnv(python, found, notes)
        notes.append(f"{spec.imports} does not import with current dependencies: {found}")
    constraints = venv / "peer-constraints.txt"
    constraints.write_text("\n".join(spec.fallback_constraints) + "\n")
    log(f"retrying with older dependencies ({', '.join(spec.fallback_constraints)}) ...")
    done = _run([*pip, "-c", str(constraints), *spec.requirements])
    if done.returncode != 0:
        notes.append(f"pip install with constraints failed: {_tail(done.stderr)}")
        raise PeerUnavailable("; ".join(notes))
    found = _check(python, spec)
    if isinstance(found, dict):
        notes.append("installed with the fallback constraints")
        return PeerEnv(python, found, notes)
    notes.append(f"{spec.imports} does not import with older dependencies either: {found}")
    raise PeerUnavailable("; ".join(notes))


# ----------------------------------------------------------------------------- driver
# Everything below runs inside the peer venv.


async def _connect(url: str, token: str, workdir: Path) -> Any:
    from neuromation.api import Factory  # type: ignore[import-not-found, unused-ignore]
    from yarl import URL

    path = workdir / "nmrc"
    if path.exists():
        path.unlink()
    factory = Factory(path)
    await factory.login_with_token(token, url=URL(url))
    return await factory.get()


async def _op_list(client: Any, command: dict[str, Any]) -> dict[str, Any]:
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    jobs = await client.jobs.list()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "count": len(jobs)}


async def _op_status(client: Any, command: dict[str, Any]) -> dict[str, Any]:
    ids: list[str] = command["ids"]
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    for job_id in ids:
        await client.jobs.status(job_id)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "calls": len(ids)}


_OPS = {"list": _op_list, "status": _op_status}


def _serve(args: argparse.Namespace) -> int:
    import neuromation  # type: ignore[import-not-found, unused-ignore]

    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory(prefix="peer-sdk-") as workdir:
        client = loop.run_until_complete(_connect(args.url, args.token, Path(workdir)))
        print(json.dumps({"ready": True, "version": neuromation.__version__}), flush=True)
        try:
            for line in sys.stdin:
                command = json.loads(line)
                if command["op"] == "quit":
                    break
                try:
                    result = loop.run_until_complete(_OPS[command["op"]](client, command))
                except Exception as err:  # noqa: BLE001 - reported to the runner
                    result = {"error": f"{type(err).__name__}: {err}"}
                print(json.dumps(result), flush=True)
        finally:
            loop.run_until_complete(client.close())
            loop.close()
    return 0


def _log(args: argparse.Namespace) -> int:
    from benchmarks._measure import PeakRss

    async def stream(client: Any) -> tuple[int, float, float, PeakRss]:
        await client.jobs.status(args.job)  # warm-up: the connection, as the other clients
        received = 0
        with PeakRss() as rss:
            cpu, start = time.process_time(), time.perf_counter()
            async for chunk in client.jobs.monitor(args.job):
                received += len(chunk)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        return received, seconds, cpu, rss

    async def main(workdir: Path) -> dict[str, Any]:
        client = await _connect(args.url, args.token, workdir)
        try:
            received, seconds, cpu, rss = await stream(client)
        finally:
            await client.close()
        return {"bytes": received, "seconds": seconds, "cpu": cpu, **rss.as_dict()}

    with tempfile.TemporaryDirectory(prefix="peer-sdk-") as workdir:
        result = asyncio.run(main(Path(workdir)))
    print(json.dumps(result), flush=True)
    return 0


def _memory(args: argparse.Namespace) -> int:
    """The memory `await client.jobs.list()` retains (`benchmarks.extra.retained`)."""
    from benchmarks.extra import retained

    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory(prefix="peer-sdk-") as workdir:
        client = loop.run_until_complete(_connect(args.url, args.token, Path(workdir)))
        try:

            def make() -> list[Any]:
                jobs: list[Any] = loop.run_until_complete(client.jobs.list())
                return jobs

            # warm-up as for the other clients: /config and the connection, no list yet
            loop.run_until_complete(client.jobs.status(args.job))
            result = retained(make)
        finally:
            loop.run_until_complete(client.close())
            loop.close()
    print(json.dumps(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="2019 SDK benchmark driver (peer venv only)")
    parser.add_argument("mode", choices=("serve", "log", "memory"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--job", help="job id (log mode)")
    args = parser.parse_args(argv)
    os.environ.pop("NEUROMATION_CONFIG", None)
    modes = {"serve": _serve, "log": _log, "memory": _memory}
    return modes[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
