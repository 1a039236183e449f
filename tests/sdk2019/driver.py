"""Runs INSIDE the `neuromation==19.8.23` venv (standard library and the SDK only): the ops
the tests of tests/sdk2019 call. The loop (JSON lines over a pipe) is
tests/support/driver_loop.py; the client is made as that SDK's users made it:
`Factory(path).login_with_token(token, url=...)`, then `await Factory(path).get()`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any


def _job(job: Any) -> dict[str, Any]:
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status.value,
        "reason": job.history.reason,
        "exit_code": job.history.exit_code,
        "command": job.container.command,
        "memory_mb": job.container.resources.memory_mb,
    }


async def op_run(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    from neuromation.api import Container, RemoteImage, Resources

    container = Container(
        image=RemoteImage(a.get("image", "ubuntu")),
        resources=Resources(memory_mb=64, cpu=0.1, gpu=None, gpu_model=None, shm=True),
        command=a["command"],
    )
    return _job(await client.jobs.run(container, name=a.get("name")))


async def op_status(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    return _job(await client.jobs.status(a["id"]))


async def op_list(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    from neuromation.api import JobStatus

    statuses = {JobStatus(s) for s in a.get("statuses", ())} or None
    jobs = await client.jobs.list(statuses=statuses, name=a.get("name"))
    return {"jobs": [_job(j) for j in jobs]}


async def op_kill(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    await client.jobs.kill(a["id"])
    return {}


async def op_logs(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    chunks = [chunk async for chunk in client.jobs.monitor(a["id"])]
    return {"text": b"".join(chunks).decode()}


async def op_wait(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + a.get("timeout", 30)
    while True:
        job = _job(await client.jobs.status(a["id"]))
        if job["status"] in a["statuses"]:
            return job
        if time.monotonic() > deadline:
            return {"error": "Timeout", "message": f"still {job['status']}"}
        await asyncio.sleep(0.05)


async def connect(url: str, token: str, workdir: Path) -> Any:
    from neuromation.api import Factory
    from yarl import URL

    path = workdir / "nmrc"
    await Factory(path).login_with_token(token, url=URL(url))
    return await Factory(path).get()


if __name__ == "__main__":
    # Run as a script in the SDK's venv: the repository root makes `tests.support` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.driver_loop import ops_of, run

    sys.exit(run(connect, ops_of(globals())))
